//! Datalab's collections (SPEC §8.1): collections and files by their integer `number`s.
//! The add is a batch link (atomic, idempotent) of the numbered items; every answer is the
//! `CollectionResponse` of `000_*.txt`, with the collection's first 1000 live entries.

use axum::Json;
use axum::extract::{Path, State};
use sheaf_core::rules::BatchAdd;
use sheaf_core::{Collection, EntryFilter, ErrorCode, ItemId, Refusal};
use sheaf_proto::dialects::datalab::{
    CollectionFile, CollectionList, CollectionResponse, MAX_LISTED, collection_number, file_numbers,
};
use sheaf_proto::dialects::fastapi;
use sheaf_store::{CollectionQuery, Direction, EntryQuery, Order, Store};

use super::super::error::JsonBody;
use super::super::{ApiError, AppState};

/// The collection numbered `number`, or 404 naming it.
fn numbered(s: &Store, number: u64) -> Result<Collection, ApiError> {
    s.collection_by_number(number)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            format!("Collection {number} not found"),
        )
    })
}

/// The ids of the items numbered `numbers`, or 404 naming every number no item has.
fn items(s: &Store, numbers: &[u64]) -> Result<Vec<ItemId>, ApiError> {
    let mut ids = Vec::with_capacity(numbers.len());
    let mut missing = Vec::new();
    for &n in numbers {
        match s.item_by_number(n)? {
            Some(item) => ids.push(item.id),
            None if !missing.contains(&n.to_string()) => missing.push(n.to_string()),
            None => {}
        }
    }
    if missing.is_empty() {
        return Ok(ids);
    }
    Err(Refusal::with_ids(
        ErrorCode::ItemsNotFound,
        format!("Files not found: {}", missing.join(", ")),
        "missing",
        missing,
    )
    .into())
}

/// A collection as Datalab shows it; with `files`, its first [`MAX_LISTED`] live entries
/// by position.
fn response(s: &Store, c: Collection, files: bool) -> Result<CollectionResponse, ApiError> {
    let files = if files {
        let query = EntryQuery {
            cursor: None,
            limit: MAX_LISTED,
            deleted: false,
            order: Order::Position,
            direction: Direction::Asc,
            filter: EntryFilter::default(),
        };
        let page = s.entries(&c.id, &query)?;
        let listed = page.map(|p| p.items).unwrap_or_default();
        Some(
            listed
                .into_iter()
                .map(|l| CollectionFile {
                    uploaded_file_id: l.item.number,
                    original_filename: l.item.original_filename,
                    file_size: l.item.size,
                    content_type: l.item.content_type,
                    sort_order: l.entry.map_or(0, |e| e.sort_order),
                    last_eval_score: None,
                    last_score_breakdown: None,
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(CollectionResponse {
        id: c.number,
        name: c.name,
        description: Some(c.description).filter(|d| !d.is_empty()),
        archived: c.archived,
        file_count: c.item_count,
        files,
        created: Some(c.created_at.to_string()),
        updated: Some(c.updated_at.to_string()),
    })
}

/// `collection_id` from the path, or pydantic's 422.
fn number_in_path(text: &str) -> Result<u64, ApiError> {
    collection_number(text).map_err(|p| fastapi::refusal(p).into())
}

pub(crate) async fn add_files(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<CollectionResponse>, ApiError> {
    // pydantic reports the path's problems and the body's together.
    let (number, files) = match (collection_number(&collection_id), file_numbers(&body)) {
        (Ok(n), Ok(f)) => (n, f),
        (Err(mut path), Err(body)) => {
            path.extend(body);
            return Err(fastapi::refusal(path).into());
        }
        (Err(problems), Ok(_)) | (Ok(_), Err(problems)) => {
            return Err(fastapi::refusal(problems).into());
        }
    };
    let (collection, ids) =
        state.point_read(|s| Ok((numbered(s, number)?.id, items(s, &files)?)))?;
    let req = BatchAdd::link(collection.clone(), ids);
    state.write(move |s| s.batch_add(&req)).await?;
    let answer = state
        .blocking(move |s| {
            let c = s
                .collection(&collection)?
                .ok_or_else(|| ApiError::internal("a collection vanished after an add"))?;
            response(s, c, true)
        })
        .await?;
    Ok(Json(answer))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
) -> Result<Json<CollectionResponse>, ApiError> {
    let number = number_in_path(&collection_id)?;
    let answer = state
        .blocking(move |s| {
            let c = numbered(s, number)?;
            response(s, c, true)
        })
        .await?;
    Ok(Json(answer))
}

/// Every live collection by number, without files; `default`, which Datalab has no
/// counterpart of, is left out.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<CollectionList>, ApiError> {
    let query = CollectionQuery::default();
    let answer = state
        .blocking(move |s| {
            let mut all: Vec<CollectionResponse> = s
                .collections(&query)?
                .into_iter()
                .filter(|c| !c.id.is_default())
                .map(|c| response(s, c, false))
                .collect::<Result<_, _>>()?;
            all.sort_by_key(|c| c.id);
            Ok(all)
        })
        .await?;
    Ok(Json(CollectionList(answer)))
}
