//! `/v1/watches`: folder watches (SPEC §3). The work is `crate::folders`'; these handlers
//! only parse, hand over on the blocking pool, and answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sheaf_core::WatchId;
use sheaf_proto::requests::{WatchCreateBody, WatchDeleteParams, id_in_path};
use sheaf_proto::resources::Watch;
use sheaf_proto::responses::{WatchList, WatchRemoved};

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState};

pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<WatchList>, ApiError> {
    let folders = std::sync::Arc::clone(&state.folders);
    let watches = state.blocking(move |_| folders.list()).await?;
    Ok(Json(WatchList { watches }))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<WatchCreateBody>,
) -> Result<(StatusCode, Json<Watch>), ApiError> {
    let req = body.into_request()?;
    let folders = std::sync::Arc::clone(&state.folders);
    let (watch, created) = state.blocking(move |_| folders.add(&req)).await?;
    state.caught_up();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(watch)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(wid): Path<String>,
    QueryParams(params): QueryParams<WatchDeleteParams>,
) -> Result<Json<WatchRemoved>, ApiError> {
    let id = id_in_path::<WatchId>(&wid)?;
    let keep = params.keep_entries.unwrap_or(false);
    let folders = std::sync::Arc::clone(&state.folders);
    let entries = state.blocking(move |_| folders.remove(id, keep)).await?;
    state.caught_up();
    Ok(Json(WatchRemoved { id, entries }))
}

pub(crate) async fn rescan(
    State(state): State<AppState>,
    Path(wid): Path<String>,
) -> Result<Json<Watch>, ApiError> {
    let id = id_in_path::<WatchId>(&wid)?;
    let folders = std::sync::Arc::clone(&state.folders);
    Ok(Json(state.blocking(move |_| folders.rescan(id)).await?))
}
