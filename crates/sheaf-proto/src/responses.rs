//! Response bodies: lists as objects, batch answers, health, and the error envelope.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sheaf_core::{CollectionId, OpId, Refusal, RequestId};
use utoipa::ToSchema;

use crate::resources::{BatchSummary, Collection, Entry, Item, Op, RemoveSummary};

/// `GET /v1/collections`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionList {
    /// `default` first, then by id.
    pub collections: Vec<Collection>,
}

/// `GET /v1/collections/{cid}/items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    /// The page.
    pub entries: Vec<Entry>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/items` and `POST /v1/items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemPage {
    /// The items (for `POST`, in request order).
    pub items: Vec<Item>,
    /// Where the next page starts; `null` on the last page (absent for `POST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v1/duplicates`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateList {
    /// The groups, the most wasted space first, then by hash.
    pub groups: Vec<DuplicateGroup>,
}

/// Live items with the same content hash: copies of the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateGroup {
    /// The BLAKE3 hex they share.
    pub content_hash: String,
    /// Bytes of one copy.
    pub size: u64,
    /// Bytes all but one copy take: `size × (items − 1)`.
    pub wasted: u64,
    /// The copies (two or more), in id order.
    pub items: Vec<Item>,
}

/// `GET /v1/ops`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpPage {
    /// Newest first.
    pub ops: Vec<Op>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The answer of a batch add or move (SPEC §2.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    /// The op, for undo.
    #[schema(value_type = String)]
    pub op_id: OpId,
    /// The target.
    #[schema(value_type = String)]
    pub collection_id: CollectionId,
    /// The counts.
    pub summary: BatchSummary,
    /// All items of the request by kind.
    pub items_by_type: BTreeMap<String, u64>,
    /// This request's id, `req_<ULID>`, also sent as the `X-Request-Id` header.
    #[schema(value_type = String)]
    pub request_id: RequestId,
}

/// The answer of a batch remove.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RemoveResponse {
    /// The op, for undo.
    #[schema(value_type = String)]
    pub op_id: OpId,
    /// The collection the entries were removed from.
    #[schema(value_type = String)]
    pub collection_id: CollectionId,
    /// The counts.
    pub summary: RemoveSummary,
    /// This request's id, `req_<ULID>`, also sent as the `X-Request-Id` header.
    #[schema(value_type = String)]
    pub request_id: RequestId,
}

/// The answer of a reorder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReorderResponse {
    /// The op, for undo.
    #[schema(value_type = String)]
    pub op_id: OpId,
    /// The collection whose entries were reordered.
    #[schema(value_type = String)]
    pub collection_id: CollectionId,
    /// Entries whose `sort_order` was written.
    pub moved: u64,
    /// This request's id, `req_<ULID>`, also sent as the `X-Request-Id` header.
    #[schema(value_type = String)]
    pub request_id: RequestId,
}

/// The answer of an undo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UndoResponse {
    /// The undo's own op (undo it to redo).
    #[schema(value_type = String)]
    pub op_id: OpId,
    /// The op undone.
    #[schema(value_type = String)]
    pub undone: OpId,
    /// Records restored.
    pub restored: u64,
    /// This request's id, `req_<ULID>`, also sent as the `X-Request-Id` header.
    #[schema(value_type = String)]
    pub request_id: RequestId,
}

/// `GET /v1/watches`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WatchList {
    /// Every watch, in id order.
    pub watches: Vec<crate::resources::Watch>,
}

/// `DELETE /v1/watches/{wid}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WatchRemoved {
    /// The watch removed.
    #[schema(value_type = String)]
    pub id: sheaf_core::WatchId,
    /// Its live entries: soft-deleted, or made manual with `keep_entries=true`.
    pub entries: u64,
}

/// `GET /v1/rules`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleList {
    /// Every rule, in id order.
    pub rules: Vec<crate::resources::Rule>,
}

/// `GET /v1/rules/{rid}/runs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleRunList {
    /// The rule's runs, newest first (the last 1000 are kept).
    pub runs: Vec<crate::resources::RuleRun>,
}

/// `POST /v1/rules/{rid}/test`: what the rule would do to the items that exist now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleTest {
    /// Live items looked at.
    pub scanned: u64,
    /// How many of them match.
    pub matched: u64,
    /// The first matches, in id order, with what would be done.
    pub items: Vec<crate::resources::RuleMatch>,
}

/// The store, as `/v1/health` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreHealth {
    /// The database file.
    pub path: String,
    /// Schema version of the database.
    pub schema_version: u64,
    /// Items known.
    pub items: u64,
    /// Last change-feed seq.
    pub last_seq: u64,
}

/// Request bounds, so that clients can split their input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthLimits {
    /// Most references in one batch.
    pub max_batch: u64,
    /// Most entries one `select` may match.
    pub max_select: u64,
    /// Largest request body, in bytes.
    pub max_body_bytes: u64,
}

/// `GET /v1/health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The daemon's version.
    pub version: String,
    /// The API version clients must match.
    pub api_version: String,
    /// Seconds since the daemon started.
    pub uptime_s: u64,
    /// The daemon's process id.
    pub pid: u32,
    /// The database: its file, schema version, item count and last change-feed seq.
    pub store: StoreHealth,
    /// Request bounds.
    pub limits: HealthLimits,
    /// Every watch.
    pub watches: Vec<crate::resources::Watch>,
    /// Every rule, with where it stands in the feed.
    #[serde(default)]
    pub rules: Vec<crate::resources::Rule>,
}

/// The body of an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error code, e.g. `ITEMS_NOT_FOUND`.
    pub code: String,
    /// What went wrong, in one sentence.
    pub message: String,
    /// The offending ids (`{"missing": […]}`) or fields (`[{"loc", "msg", "type"}]`), or
    /// `null`.
    #[schema(value_type = Value)]
    pub details: serde_json::Value,
    /// This request's id, `req_<ULID>`, also sent as the `X-Request-Id` header.
    pub request_id: String,
}

/// Every error, whatever the route: `{"success": false, "error": {…}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    /// What went wrong: a `code` to branch on, a sentence, `details` and the request's id.
    pub error: ErrorBody,
}

impl ErrorEnvelope {
    /// The envelope of a refusal.
    #[must_use]
    pub fn new(refusal: &Refusal, request_id: RequestId) -> Self {
        Self {
            success: false,
            error: ErrorBody {
                code: refusal.code.as_str().to_owned(),
                message: refusal.message.clone(),
                details: serde_json::to_value(&refusal.details).unwrap_or(serde_json::Value::Null),
                request_id: request_id.to_string(),
            },
        }
    }
}
