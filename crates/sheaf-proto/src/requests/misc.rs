//! The queries of the change feed (`/v1/events`) and the operation log (`/v1/ops`).

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::entries::ListOrder;

/// Query of `GET /v1/events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Resume after this seq (default: only new events).
    #[serde(default)]
    pub since: Option<u64>,
}

/// Query of `GET /v1/ops`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OpListParams {
    /// From `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// `desc` (the default: newest first) or `asc` (oldest first).
    #[serde(default)]
    pub order: Option<ListOrder>,
}
