//! `/v1/watches`: folder watches (SPEC §3). The work is `crate::folders`'; these handlers
//! only parse, hand over on the blocking pool, and answer. Folder sync's typed status and
//! errors become the wire's here, and only here.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sheaf_core::{Refusal, WatchId};
use sheaf_proto::requests::{WatchCreateBody, WatchDeleteParams, id_in_path};
use sheaf_proto::resources::Watch;
use sheaf_proto::responses::{WatchList, WatchRemoved};

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState};
use crate::folders::{FolderError, State as WatchState, WatchStatus};

/// `live`, `scanning`, `polling`, `degraded: <reason>` or `stopped`.
fn state_text(state: &WatchState) -> String {
    match state {
        WatchState::Scanning => "scanning".to_owned(),
        WatchState::Live => "live".to_owned(),
        WatchState::Polling => "polling".to_owned(),
        WatchState::Degraded(reason) => format!("degraded: {reason}"),
        WatchState::Stopped => "stopped".to_owned(),
    }
}

/// A watch as the API shows it.
pub(crate) fn resource(status: WatchStatus) -> Watch {
    let WatchStatus {
        watch,
        state,
        files,
        last_reconcile_at,
        queue_depth,
        overflows,
        last_overflow_at,
    } = status;
    Watch {
        id: watch.id,
        path: watch.path,
        collection: watch.collection_id,
        recursive: watch.recursive,
        include: watch.include,
        exclude: watch.exclude,
        poll: watch.poll_ms.map(sheaf_core::format_interval),
        from_config: watch.from_config,
        state: state_text(&state),
        files,
        last_reconcile_at,
        queue_depth,
        overflows,
        last_overflow_at,
        created_at: watch.created_at,
    }
}

impl From<FolderError> for ApiError {
    fn from(e: FolderError) -> Self {
        let path =
            |message: String| Refusal::field(vec!["body".into(), "path".into()], message, "path");
        match e {
            FolderError::NotAFolder { .. } => path(e.to_string()).into(),
            FolderError::Unreadable { ref source, .. } => path(format!("{e}: {source}")).into(),
            FolderError::Glob { field, source } => Refusal::field(
                vec!["body".into(), field.into()],
                source.to_string(),
                "glob",
            )
            .into(),
            FolderError::NotFound(id) => sheaf_core::rules::watch_not_found(id).into(),
            FolderError::Write(e) => e.into(),
            FolderError::Store(e) => e.into(),
            FolderError::Unexpected(what) => ApiError::internal(what),
        }
    }
}

pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<WatchList>, ApiError> {
    let folders = std::sync::Arc::clone(&state.folders);
    let watches = state.blocking(move |_| Ok(folders.list()?)).await?;
    Ok(Json(WatchList {
        watches: watches.into_iter().map(resource).collect(),
    }))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<WatchCreateBody>,
) -> Result<(StatusCode, Json<Watch>), ApiError> {
    let req = body.into_request()?;
    let folders = std::sync::Arc::clone(&state.folders);
    let (watch, created) = state.blocking(move |_| Ok(folders.add(&req)?)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(resource(watch))))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(wid): Path<String>,
    QueryParams(params): QueryParams<WatchDeleteParams>,
) -> Result<Json<WatchRemoved>, ApiError> {
    let id = id_in_path::<WatchId>(&wid)?;
    let keep = params.keep_entries.unwrap_or(false);
    let folders = std::sync::Arc::clone(&state.folders);
    let entries = state
        .blocking(move |_| Ok(folders.remove(id, keep)?))
        .await?;
    Ok(Json(WatchRemoved { id, entries }))
}

pub(crate) async fn rescan(
    State(state): State<AppState>,
    Path(wid): Path<String>,
) -> Result<Json<Watch>, ApiError> {
    let id = id_in_path::<WatchId>(&wid)?;
    let folders = std::sync::Arc::clone(&state.folders);
    let watch = state.blocking(move |_| Ok(folders.rescan(id)?)).await?;
    Ok(Json(resource(watch)))
}
