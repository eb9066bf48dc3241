//! `/v1/health`, `/v1/openapi.json`, `/v1/ops` and undo.

use axum::Json;
use axum::extract::{Extension, Path, State};
use sheaf_core::{OpId, Outcome, RequestId};
use sheaf_proto::requests::{OpListParams, id_in_path};
use sheaf_proto::responses::{Health, HealthLimits, OpPage, StoreHealth, UndoResponse};
use sheaf_store::Direction;

use super::error::QueryParams;
use super::{ApiError, AppState, page_direction, page_limit};

pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let (items, last_seq) = state.point_read(|s| Ok((s.item_total()?, s.last_seq()?)))?;
    let watches = state.folders.list()?;
    let watches = watches.into_iter().map(super::watches::resource).collect();
    let rules = state.point_read(|s| Ok(s.rules()?))?;
    let rules = rules.into_iter().map(super::rules::resource).collect();
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: sheaf_proto::API_VERSION.to_owned(),
        uptime_s: state.started.elapsed().as_secs(),
        pid: std::process::id(),
        store: StoreHealth {
            path: state.config.database.display().to_string(),
            schema_version: sheaf_store::SCHEMA_VERSION,
            items,
            last_seq,
        },
        limits: HealthLimits {
            max_batch: state.config.limits.max_batch as u64,
            max_select: state.config.limits.max_select as u64,
            max_body_bytes: state.config.max_body_bytes as u64,
        },
        watches,
        rules,
    }))
}

pub(crate) async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.openapi.as_ref().clone())
}

pub(crate) async fn ops(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<OpListParams>,
) -> Result<Json<OpPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let cursor = params.cursor;
    // Newest first unless asked otherwise.
    let direction = page_direction(params.order, Direction::Desc);
    let page = state
        .blocking(move |s| Ok(s.ops(cursor.as_deref(), limit, direction)?))
        .await?;
    Ok(Json(OpPage {
        ops: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

pub(crate) async fn undo(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(op): Path<String>,
) -> Result<Json<UndoResponse>, ApiError> {
    let op: OpId = id_in_path(&op)?;
    // Undoing a `relocate` moves its files back.
    let written = state
        .write(move |s| s.undo_with(op, &mut crate::relocate::DiskMoves::default()))
        .await?;
    // An undone relocating move hands folder entries back between watches.
    state.folders.recount();
    match written.outcome {
        Outcome::Undone {
            op_id,
            undone,
            restored,
        } => Ok(Json(UndoResponse {
            op_id,
            undone,
            restored,
            request_id,
        })),
        other => Err(ApiError::internal(&format!("unexpected outcome {other:?}"))),
    }
}
