//! LlamaCloud's directories (SPEC §8.4): a directory is a collection, a directory file an
//! entry. The add is the single add of SPEC §2.1 (create semantics) answered 200 with the
//! directory file; the listing pages the collection's entries; a file is read or removed
//! (softly) by its id, the entry's, or by its `file_id`.

use axum::Json;
use axum::extract::{Path, State};
use sheaf_core::rules::Remove;
use sheaf_core::{
    CollectionId, EntryFilter, EntryId, EntrySource, ErrorCode, ItemId, ItemTarget, Outcome,
};
use sheaf_proto::dialects::llama::{
    DirectoryFile, DirectoryFileList, FileCreateBody, FileListParams, LOCAL_PROJECT, ProjectParams,
    directory_id,
};
use sheaf_proto::resources::Entry;
use sheaf_store::{Direction, EntryQuery, Order, Store};

use super::super::error::{JsonBody, QueryParams};
use super::super::{ApiError, AppState, page_limit};

/// An entry as a directory file of `project`.
fn file(entry: Entry, project: &str) -> DirectoryFile {
    DirectoryFile {
        id: entry
            .id
            .map_or_else(|| entry.item_id.to_string(), |id| id.to_string()),
        directory_id: entry.collection_id.to_string(),
        display_name: entry.display_name,
        project_id: project.to_owned(),
        unique_id: entry.unique_id,
        created_at: entry.created_at.to_string(),
        data_source_id: match entry.source {
            Some(EntrySource::Folder(w)) => Some(w.to_string()),
            _ => None,
        },
        deleted_at: entry.deleted_at.map(|t| t.to_string()),
        file_id: entry.item_id.to_string(),
        metadata: entry.merged_metadata,
        updated_at: entry.updated_at.to_string(),
    }
}

fn project(id: Option<String>) -> String {
    id.unwrap_or_else(|| LOCAL_PROJECT.to_owned())
}

/// The directory's id; one that is no collection id names no directory.
fn directory(text: &str) -> Result<CollectionId, ApiError> {
    Ok(directory_id(text)?)
}

fn no_directory(text: &str) -> ApiError {
    ApiError::new(
        ErrorCode::CollectionNotFound,
        format!("directory {text} does not exist"),
    )
}

fn no_file(directory: &str, id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::EntryNotFound,
        format!("directory {directory} has no file {id}"),
    )
}

pub(crate) async fn add_file(
    State(state): State<AppState>,
    Path(did): Path<String>,
    QueryParams(params): QueryParams<ProjectParams>,
    JsonBody(body): JsonBody<FileCreateBody>,
) -> Result<Json<DirectoryFile>, ApiError> {
    let req = body.into_request(&did)?;
    let written = state.write(move |s| s.add_one(&req)).await?;
    let Outcome::Entry { entry, .. } = written.outcome else {
        return Err(ApiError::internal("a single add answered no entry"));
    };
    let (cid, item) = (entry.collection_id, entry.item_id);
    let found = state.point_read(move |s| read_entry(s, &cid, item))?;
    let entry = found.ok_or_else(|| no_file(&did, &item.to_string()))?;
    Ok(Json(file(entry, &project(params.project_id))))
}

fn read_entry(s: &Store, cid: &CollectionId, item: ItemId) -> Result<Option<Entry>, ApiError> {
    let Some(entry) = s.entry(cid, item)? else {
        return Ok(None);
    };
    Ok(s.item(item)?.map(|(i, _)| Entry::new(entry, &i)))
}

pub(crate) async fn list_files(
    State(state): State<AppState>,
    Path(did): Path<String>,
    QueryParams(params): QueryParams<FileListParams>,
) -> Result<Json<DirectoryFileList>, ApiError> {
    let id = directory(&did)?;
    let query = EntryQuery {
        cursor: params.page_token,
        limit: page_limit(params.page_size)?,
        deleted: false,
        order: Order::Position,
        direction: Direction::Asc,
        filter: EntryFilter::default(),
    };
    let found = state
        .blocking(move |s| {
            let Some(collection) = s.collection(&id)?.filter(|c| c.trashed_at.is_none()) else {
                return Ok(None);
            };
            Ok(s.entries(&id, &query)?
                .map(|page| (collection.item_count, page)))
        })
        .await?;
    let (total, page) = found.ok_or_else(|| no_directory(&did))?;
    let project = project(params.project_id);
    Ok(Json(DirectoryFileList {
        items: page
            .items
            .into_iter()
            .map(|l| {
                let entry = match l.entry {
                    Some(e) => Entry::new(e, &l.item),
                    None => Entry::unfiled(&l.item),
                };
                file(entry, &project)
            })
            .collect(),
        next_page_token: page.next_cursor,
        total_size: total,
    }))
}

/// The item a directory file's id names: a `file_id` directly, an entry id by a walk of
/// the directory's entries (soft-deleted ones included).
fn file_item(s: &Store, cid: &CollectionId, id: &str) -> Result<Option<ItemId>, ApiError> {
    if let Ok(item) = id.parse::<ItemId>() {
        return Ok(Some(item));
    }
    let Ok(entry_id) = id.parse::<EntryId>() else {
        return Ok(None);
    };
    let mut cursor = None;
    loop {
        let query = EntryQuery {
            cursor,
            limit: 1000,
            deleted: true,
            order: Order::Position,
            direction: Direction::Asc,
            filter: EntryFilter::default(),
        };
        let Some(page) = s.entries(cid, &query)? else {
            return Ok(None);
        };
        let hit = page
            .items
            .iter()
            .find(|l| l.entry.as_ref().is_some_and(|e| e.id == entry_id));
        if let Some(l) = hit {
            return Ok(Some(l.item.id));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(None),
        }
    }
}

/// The directory (live) and the item its file `id` names.
async fn located(
    state: &AppState,
    did: &str,
    id: &str,
) -> Result<(CollectionId, ItemId), ApiError> {
    let cid = directory(did)?;
    let (c, text) = (cid.clone(), id.to_owned());
    let found = state
        .blocking(move |s| {
            if s.collection(&c)?.is_none_or(|c| c.trashed_at.is_some()) {
                return Ok(Err(()));
            }
            Ok(Ok(file_item(s, &c, &text)?))
        })
        .await?;
    match found {
        Err(()) => Err(no_directory(did)),
        Ok(None) => Err(no_file(did, id)),
        Ok(Some(item)) => Ok((cid, item)),
    }
}

pub(crate) async fn get_file(
    State(state): State<AppState>,
    Path((did, id)): Path<(String, String)>,
    QueryParams(params): QueryParams<ProjectParams>,
) -> Result<Json<DirectoryFile>, ApiError> {
    let (cid, item) = located(&state, &did, &id).await?;
    let entry = state
        .point_read(move |s| read_entry(s, &cid, item))?
        .ok_or_else(|| no_file(&did, &id))?;
    Ok(Json(file(entry, &project(params.project_id))))
}

pub(crate) async fn delete_file(
    State(state): State<AppState>,
    Path((did, id)): Path<(String, String)>,
    QueryParams(params): QueryParams<ProjectParams>,
) -> Result<Json<DirectoryFile>, ApiError> {
    let (cid, item) = located(&state, &did, &id).await?;
    let req = Remove {
        collection: cid.clone(),
        items: vec![ItemTarget::Id(item)],
    };
    state.write(move |s| s.remove(&req)).await?;
    let entry = state
        .point_read(move |s| read_entry(s, &cid, item))?
        .ok_or_else(|| no_file(&did, &id))?;
    Ok(Json(file(entry, &project(params.project_id))))
}
