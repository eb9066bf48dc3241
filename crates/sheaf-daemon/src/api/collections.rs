//! `/v1/collections` and `/v1/collections/{cid}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sheaf_core::{CollectionId, ErrorCode, WatchId};
use sheaf_proto::requests::{
    CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams,
    collection_in_path,
};
use sheaf_proto::resources::Collection;
use sheaf_proto::responses::CollectionList;
use sheaf_store::{CollectionQuery, WriteError, Written};

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState};

pub(crate) async fn list(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<CollectionListParams>,
) -> Result<Json<CollectionList>, ApiError> {
    let query = CollectionQuery {
        archived: params.archived,
        trashed: params.trashed.unwrap_or(false),
    };
    let collections = state
        .blocking(move |s| Ok(shown(s, s.collections(&query)?)?))
        .await?;
    Ok(Json(CollectionList { collections }))
}

/// Collections as the API shows them: each bound watch named with its root, from the
/// store's watch records (read only when one of them has a watch). A watch removed
/// between the two reads is left out.
fn shown(
    s: &sheaf_store::Store,
    collections: impl IntoIterator<Item = sheaf_core::Collection>,
) -> Result<Vec<Collection>, sheaf_store::StoreError> {
    let collections: Vec<_> = collections.into_iter().collect();
    let roots: HashMap<WatchId, String> = if collections.iter().any(|c| !c.folders.is_empty()) {
        s.watches()?.into_iter().map(|w| (w.id, w.path)).collect()
    } else {
        HashMap::new()
    };
    Ok(collections
        .into_iter()
        .map(|c| Collection::with_roots(c, |w| roots.get(&w).cloned()))
        .collect())
}

/// One collection as the API shows it, `None` when it does not exist.
fn read(s: &sheaf_store::Store, id: &CollectionId) -> Result<Option<Collection>, ApiError> {
    Ok(shown(s, s.collection(id)?)?.pop())
}

/// Reads a collection back after a write (for its live count).
pub(crate) fn read_back(state: &AppState, id: CollectionId) -> Result<Collection, ApiError> {
    let found = state.point_read(move |s| read(s, &id))?;
    found.ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            "the collection vanished while it was read",
        )
    })
}

async fn write_then_read(
    state: &AppState,
    id: CollectionId,
    write: impl FnOnce(&sheaf_store::Store) -> Result<Written, WriteError> + Send + 'static,
) -> Result<Collection, ApiError> {
    state.write(write).await?;
    read_back(state, id)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CollectionCreateBody>,
) -> Result<(StatusCode, Json<Collection>), ApiError> {
    let req = body.into_request()?;
    let id = req
        .id
        .clone()
        .ok_or_else(|| ApiError::internal("create without id"))?;
    let c = write_then_read(&state, id, move |s| s.create_collection(&req)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Path(cid): Path<String>,
) -> Result<Json<Collection>, ApiError> {
    let id = collection_in_path(&cid)?;
    let shown = id.to_string();
    let found = state.point_read(move |s| read(s, &id))?;
    found.map(Json).ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            format!("collection {shown} does not exist"),
        )
    })
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    JsonBody(body): JsonBody<CollectionPatchBody>,
) -> Result<Json<Collection>, ApiError> {
    let id = collection_in_path(&cid)?;
    let req = body.into_request()?;
    let target = id.clone();
    Ok(Json(
        write_then_read(&state, id, move |s| s.update_collection(&target, &req)).await?,
    ))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    QueryParams(params): QueryParams<DeleteParams>,
) -> Result<Json<Collection>, ApiError> {
    let id = collection_in_path(&cid)?;
    if params.purge.unwrap_or(false) {
        // Answer with the collection as it was, marked purged by its absence afterwards.
        let before = read_back(&state, id.clone()).map_err(|_| {
            ApiError::new(
                ErrorCode::CollectionNotFound,
                format!("collection {id} does not exist"),
            )
        })?;
        let target = id.clone();
        state.write(move |s| s.purge_collection(&target)).await?;
        // Its watches went with it.
        let folders = std::sync::Arc::clone(&state.folders);
        state
            .blocking(move |_| {
                folders.prune();
                Ok(())
            })
            .await?;
        return Ok(Json(before));
    }
    let target = id.clone();
    Ok(Json(
        write_then_read(&state, id, move |s| s.trash_collection(&target)).await?,
    ))
}

pub(crate) async fn restore(
    State(state): State<AppState>,
    Path(cid): Path<String>,
) -> Result<Json<Collection>, ApiError> {
    let id = collection_in_path(&cid)?;
    let target = id.clone();
    Ok(Json(
        write_then_read(&state, id, move |s| s.restore_collection(&target)).await?,
    ))
}
