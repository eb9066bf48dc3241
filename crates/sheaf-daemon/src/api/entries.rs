//! `/v1/collections/{cid}/items…`: listing, the batch add, remove, reorder, single entries.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use sheaf_core::rules::{EntryUpdate, Remove};
use sheaf_core::{CollectionId, EntryFilter, ErrorCode, ItemTarget, Outcome, RequestId};
use sheaf_proto::requests::{
    BatchAddBody, EntryCreateBody, EntryListParams, EntryPatchBody, EntrySort, RemoveBody,
    ReorderBody, collection_in_path, item_in_path,
};
use sheaf_proto::resources::Entry;
use sheaf_proto::responses::{BatchResponse, EntryPage, RemoveResponse, ReorderResponse};
use sheaf_store::{Direction, EntryQuery, Order};

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState, page_direction, page_limit};
use crate::relocate::DiskMoves;

fn unexpected(outcome: &Outcome) -> ApiError {
    ApiError::internal(&format!("unexpected outcome {outcome:?}"))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    QueryParams(params): QueryParams<EntryListParams>,
) -> Result<Json<EntryPage>, ApiError> {
    let id = collection_in_path(&cid)?;
    let order = match params.sort.unwrap_or_default() {
        EntrySort::Position => Order::Position,
        EntrySort::Name => Order::Name,
        EntrySort::Added => Order::Added,
        EntrySort::Size => Order::Size,
    };
    let deleted = params.deleted.unwrap_or(false);
    if order != Order::Position && (deleted || id.is_default()) {
        return Err(sheaf_core::Refusal::field(
            vec!["query".into(), "sort".into()],
            "sort=name|added|size lists live entries of a collection; soft-deleted entries and \
             the default view list in their own order only",
            "sort",
        )
        .into());
    }
    let limit = page_limit(params.limit)?;
    let query = EntryQuery {
        cursor: params.cursor,
        limit,
        deleted,
        order,
        direction: page_direction(params.order, Direction::Asc),
        filter: EntryFilter {
            q: params.q,
            kind: params.kind,
        },
    };
    let shown = id.to_string();
    let page = state.blocking(move |s| Ok(s.entries(&id, &query)?)).await?;
    let page = page.ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            format!("collection {shown} does not exist"),
        )
    })?;
    Ok(Json(EntryPage {
        entries: page
            .items
            .into_iter()
            .map(|l| match l.entry {
                Some(e) => Entry::new(e, &l.item),
                None => Entry::unfiled(&l.item),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

pub(crate) async fn batch_add(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
    JsonBody(body): JsonBody<BatchAddBody>,
) -> Result<Json<BatchResponse>, ApiError> {
    let req = body.into_request(collection_in_path(&cid)?)?;
    let relocate = req.relocate;
    // With `relocate`, the files move on disk with the entries (and back if the commit fails).
    let written = state
        .write(move |s| s.batch_add_with(&req, &mut DiskMoves::default()))
        .await?;
    if relocate {
        // Folder entries moved between watches: their file counts follow.
        state.folders.recount();
    }
    match written.outcome {
        Outcome::Batch {
            op_id,
            collection_id,
            summary,
            items_by_type,
        } => Ok(Json(BatchResponse {
            op_id,
            collection_id,
            summary: summary.into(),
            items_by_type: items_by_type
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            request_id,
        })),
        other => Err(unexpected(&other)),
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
    JsonBody(body): JsonBody<RemoveBody>,
) -> Result<Json<RemoveResponse>, ApiError> {
    let req = body.into_request(collection_in_path(&cid)?)?;
    let written = state.write(move |s| s.remove(&req)).await?;
    match written.outcome {
        Outcome::Removed {
            op_id,
            collection_id,
            summary,
        } => Ok(Json(RemoveResponse {
            op_id,
            collection_id,
            summary: summary.into(),
            request_id,
        })),
        other => Err(unexpected(&other)),
    }
}

pub(crate) async fn reorder(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(cid): Path<String>,
    JsonBody(body): JsonBody<ReorderBody>,
) -> Result<Json<ReorderResponse>, ApiError> {
    let req = body.into_request(collection_in_path(&cid)?)?;
    let written = state.write(move |s| s.reorder(&req)).await?;
    match written.outcome {
        Outcome::Reordered {
            op_id,
            collection_id,
            moved,
        } => Ok(Json(ReorderResponse {
            op_id,
            collection_id,
            moved,
            request_id,
        })),
        other => Err(unexpected(&other)),
    }
}

/// Reads an entry and its item, for answers.
fn entry_json(
    state: &AppState,
    collection: CollectionId,
    target: ItemTarget,
) -> Result<Entry, ApiError> {
    let shown = format!("{target} in {collection}");
    let found = state.point_read(move |s| {
        let ItemTarget::Id(id) = target else {
            return Ok(None);
        };
        let Some(entry) = s.entry(&collection, id)? else {
            return Ok(None);
        };
        Ok(s.item(id)?.map(|(item, _)| Entry::new(entry, &item)))
    })?;
    found.ok_or_else(|| ApiError::new(ErrorCode::EntryNotFound, format!("no entry for {shown}")))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Path((cid, item)): Path<(String, String)>,
) -> Result<Json<Entry>, ApiError> {
    let id = collection_in_path(&cid)?;
    let target = item_in_path(&item)?;
    let check = id.clone();
    if state
        .point_read(move |s| Ok(s.collection(&check)?))?
        .is_none()
    {
        return Err(ApiError::new(
            ErrorCode::CollectionNotFound,
            format!("collection {id} does not exist"),
        ));
    }
    Ok(Json(entry_json(&state, id, target)?))
}

pub(crate) async fn add_one(
    State(state): State<AppState>,
    Path((cid, item)): Path<(String, String)>,
    body: Option<JsonBody<EntryCreateBody>>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let body = body.map(|JsonBody(b)| b).unwrap_or_default();
    let req = body.into_request(collection_in_path(&cid)?, &item)?;
    let written = state.write(move |s| s.add_one(&req)).await?;
    match written.outcome {
        Outcome::Entry { entry, .. } => {
            let (collection, target) = (entry.collection_id.clone(), ItemTarget::Id(entry.item_id));
            Ok((
                StatusCode::CREATED,
                Json(entry_json(&state, collection, target)?),
            ))
        }
        other => Err(unexpected(&other)),
    }
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path((cid, item)): Path<(String, String)>,
    JsonBody(body): JsonBody<EntryPatchBody>,
) -> Result<Json<Entry>, ApiError> {
    let id = collection_in_path(&cid)?;
    let target = item_in_path(&item)?;
    let update: EntryUpdate = body.into();
    let (c, t) = (id.clone(), target.clone());
    let written = state
        .write(move |s| s.update_entry(&c, &t, &update))
        .await?;
    match written.outcome {
        Outcome::Entry { entry, .. } => {
            Ok(Json(entry_json(&state, id, ItemTarget::Id(entry.item_id))?))
        }
        other => Err(unexpected(&other)),
    }
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((cid, item)): Path<(String, String)>,
) -> Result<Json<Entry>, ApiError> {
    let id = collection_in_path(&cid)?;
    let target = item_in_path(&item)?;
    let req = Remove {
        collection: id.clone(),
        items: vec![target.clone()],
    };
    state.write(move |s| s.remove(&req)).await?;
    Ok(Json(entry_json(&state, id, target)?))
}
