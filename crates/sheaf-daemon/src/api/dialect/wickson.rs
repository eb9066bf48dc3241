//! Wickson's media collections (SPEC §8.3): the batch move onto the store's batch add
//! (`mode: move` out of every other manual collection, the collection created when
//! missing, `default` back to unfiled), and the listings the seed names, all in Wickson's
//! envelope.

use axum::Json;
use axum::extract::{Extension, Path, State};
use sheaf_core::{CollectionId, ErrorCode, ItemId, Outcome, Refusal, RequestId};
use sheaf_proto::dialects::wickson::{
    Collection, CollectionList, CollectionListResponse, CollectionResponse, MOVE_OPERATION, Media,
    MediaPage, MediaParams, MediaResponse, Metadata, MoveBody, MoveData, MoveResponse, Summary,
    moved_message,
};
use sheaf_proto::requests::collection_in_path;
use sheaf_proto::resources;
use sheaf_store::{CollectionQuery, Direction, ItemQuery};

use super::super::error::{JsonBody, QueryParams};
use super::super::{ApiError, AppState, page_limit};

fn metadata(request_id: RequestId, operation: &str, collection: Option<&str>) -> Metadata {
    Metadata {
        request_id: request_id.to_string(),
        operation: operation.to_owned(),
        collection_id: collection.map(str::to_owned),
        item_count: None,
    }
}

/// `ITEMS_NOT_FOUND` naming every text of `items` that is no item's: `unparsed` (no
/// sheaf id at all, vector ids among them) and the well-formed ids the store does not know,
/// in request order.
fn not_found(state: &AppState, items: &[String], unparsed: &[String]) -> ApiError {
    let known: Vec<(String, ItemId)> = items
        .iter()
        .filter_map(|t| Some((t.clone(), t.parse::<ItemId>().ok()?)))
        .collect();
    let present = state.point_read(move |s| {
        known
            .into_iter()
            .map(|(text, id)| Ok((text, s.item(id)?.is_some())))
            .collect::<Result<std::collections::HashMap<_, _>, ApiError>>()
    });
    let present = match present {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut missing: Vec<String> = Vec::new();
    let mut distinct: Vec<&String> = Vec::new();
    for text in items {
        if distinct.contains(&text) {
            continue;
        }
        distinct.push(text);
        if unparsed.contains(text) || present.get(text) == Some(&false) {
            missing.push(text.clone());
        }
    }
    Refusal::with_ids(
        ErrorCode::ItemsNotFound,
        format!("{} of {} items do not exist", missing.len(), distinct.len()),
        "missing",
        missing,
    )
    .into()
}

pub(crate) async fn move_items(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Json<MoveResponse>, ApiError> {
    let req = match body.into_request(collection_in_path(&cid)?) {
        Ok(req) => req,
        Err(r) if r.code == ErrorCode::ItemsNotFound => {
            return Err(not_found(&state, &body.items, r.ids()));
        }
        Err(r) => return Err(r.into()),
    };
    let written = state.write(move |s| s.batch_add(&req)).await?;
    let Outcome::Batch {
        collection_id,
        summary,
        items_by_type,
        ..
    } = written.outcome
    else {
        return Err(ApiError::internal("a batch add answered no batch outcome"));
    };
    let id = collection_id.to_string();
    Ok(Json(MoveResponse {
        success: true,
        message: moved_message(summary.total, &id),
        data: MoveData {
            collection_id: id.clone(),
            summary: Summary {
                total: summary.total,
                succeeded: summary.succeeded,
                failed: summary.failed,
                already_in_collection: summary.already_in_collection,
                moved: summary.added,
            },
            items_by_type: items_by_type
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        },
        metadata: Metadata {
            item_count: Some(summary.total),
            ..metadata(request_id, MOVE_OPERATION, Some(&id))
        },
    }))
}

fn shown(c: sheaf_core::Collection) -> Collection {
    Collection {
        collection_id: c.id.to_string(),
        name: c.name,
        description: c.description,
        item_count: c.item_count,
        archived: c.archived,
        created_at: c.created_at.to_string(),
        updated_at: c.updated_at.to_string(),
        deleted_at: c.trashed_at.map(|t| t.to_string()),
    }
}

pub(crate) async fn list_collections(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
) -> Result<Json<CollectionListResponse>, ApiError> {
    let query = CollectionQuery::default();
    let collections: Vec<Collection> = state
        .blocking(move |s| Ok(s.collections(&query)?))
        .await?
        .into_iter()
        .map(shown)
        .collect();
    Ok(Json(CollectionListResponse {
        success: true,
        message: format!("{} collections", collections.len()),
        data: CollectionList { collections },
        metadata: metadata(request_id, "list_collections", None),
    }))
}

fn read(state: &AppState, id: &CollectionId) -> Result<sheaf_core::Collection, ApiError> {
    let check = id.clone();
    state
        .point_read(move |s| Ok(s.collection(&check)?))?
        .filter(|c| c.trashed_at.is_none())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::CollectionNotFound,
                format!("collection {id} does not exist"),
            )
        })
}

pub(crate) async fn get_collection(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
) -> Result<Json<CollectionResponse>, ApiError> {
    let id = collection_in_path(&cid)?;
    let collection = shown(read(&state, &id)?);
    Ok(Json(CollectionResponse {
        success: true,
        message: format!("collection '{id}'"),
        data: collection,
        metadata: metadata(request_id, "get_collection", Some(&cid)),
    }))
}

/// To sheaf's trash, where it can be restored from (`/v1/collections/{cid}/restore`).
pub(crate) async fn delete_collection(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
) -> Result<Json<CollectionResponse>, ApiError> {
    let id = collection_in_path(&cid)?;
    read(&state, &id)?;
    let target = id.clone();
    state.write(move |s| s.trash_collection(&target)).await?;
    let check = id.clone();
    let trashed = state
        .point_read(move |s| Ok(s.collection(&check)?))?
        .ok_or_else(|| ApiError::internal("a trashed collection vanished"))?;
    Ok(Json(CollectionResponse {
        success: true,
        message: format!("collection '{id}' deleted"),
        data: shown(trashed),
        metadata: metadata(request_id, "delete_collection", Some(&cid)),
    }))
}

pub(crate) async fn list_media(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    QueryParams(params): QueryParams<MediaParams>,
) -> Result<Json<MediaResponse>, ApiError> {
    let limit = page_limit(params.limit)?;
    let collection = params
        .collection_id
        .as_deref()
        .map(collection_in_path)
        .transpose()?;
    let shown_id = collection.as_ref().map(ToString::to_string);
    let query = ItemQuery {
        collection,
        kind: None,
        q: None,
        path_prefix: None,
        deleted: false,
        cursor: params.cursor,
        limit,
        direction: Direction::Asc,
    };
    let page = state.blocking(move |s| Ok(s.items(&query)?)).await?;
    let page = page.ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            format!(
                "collection {} does not exist",
                shown_id.clone().unwrap_or_default()
            ),
        )
    })?;
    let items: Vec<Media> = page
        .items
        .into_iter()
        .map(|item| {
            let item = resources::Item::from(item);
            Media {
                id: item.id.to_string(),
                kind: item.kind.to_string(),
                content_type: item.content_type,
                filename: item.original_filename,
                size: item.size,
                path: item.path,
                metadata: item.metadata,
                created_at: item.created_at.to_string(),
                updated_at: item.updated_at.to_string(),
            }
        })
        .collect();
    let count = items.len() as u64;
    Ok(Json(MediaResponse {
        success: true,
        message: format!("{count} media items"),
        data: MediaPage {
            items,
            next_cursor: page.next_cursor,
        },
        metadata: Metadata {
            item_count: Some(count),
            ..metadata(request_id, "list_media", shown_id.as_deref())
        },
    }))
}

/// sheaf computes no embeddings: there is nothing to search by.
pub(crate) async fn search() -> ApiError {
    ApiError::new(
        ErrorCode::NotImplemented,
        "search is not implemented: sheaf computes no embeddings; list a collection with \
         GET /v1/media?collection_id=… instead",
    )
}
