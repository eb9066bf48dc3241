//! Every route of the API (SPEC §2.2) in one table: its method and path (axum syntax),
//! what it takes and answers, and which error codes it can give. The OpenAPI document is
//! generated from this table, and the daemon's tests check that it serves every row.

use sheaf_core::ErrorCode;

/// HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// Upper-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Which query-string type a route takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `GET /v1/collections`.
    CollectionList,
    /// `GET /v1/collections/{cid}/items`.
    EntryList,
    /// `GET /v1/items`.
    ItemList,
    /// `GET /v1/events`.
    Events,
    /// `GET /v1/ops`.
    OpList,
    /// `DELETE /v1/collections/{cid}`.
    Delete,
    /// `DELETE /v1/watches/{wid}`.
    WatchDelete,
}

/// One route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// Method.
    pub method: Method,
    /// Path, with `{name}` parameters.
    pub path: &'static str,
    /// Unique name of the operation.
    pub operation_id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The body's schema name, if it takes one.
    pub body: Option<&'static str>,
    /// The query string's type, if any.
    pub query: Option<Query>,
    /// The success status.
    pub status: u16,
    /// The success body's schema name (`None`: the body is a stream of events).
    pub response: Option<&'static str>,
    /// Writes need write access.
    pub writes: bool,
    /// The error codes the route can answer besides the common ones.
    pub errors: &'static [ErrorCode],
}

/// Codes any route can answer.
pub const COMMON_ERRORS: &[ErrorCode] = &[
    ErrorCode::ValidationError,
    ErrorCode::InvalidApiKey,
    ErrorCode::RateLimited,
    ErrorCode::StorageError,
    ErrorCode::Internal,
    ErrorCode::ShuttingDown,
];

/// Codes any writing route can answer besides [`COMMON_ERRORS`].
pub const WRITE_ERRORS: &[ErrorCode] = &[
    ErrorCode::InsufficientPermissions,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UnsupportedMediaType,
];

use ErrorCode as E;

const BATCH_ERRORS: &[ErrorCode] = &[
    E::BatchSizeExceeded,
    E::InvalidId,
    E::CollectionNotFound,
    E::CollectionTrashed,
    E::ItemsNotFound,
    E::UniqueIdConflict,
    E::CollectionArchived,
    E::NotInSource,
    E::EntryManagedByFolder,
    E::NoTargetFolder,
    E::ItemNotAllowed,
    E::ItemDeleted,
];

macro_rules! route {
    ($m:ident $path:literal, $op:literal, $summary:literal, body: $body:expr, query: $query:expr,
     $status:literal => $resp:expr, writes: $w:literal, errors: $errors:expr) => {
        Route {
            method: Method::$m,
            path: $path,
            operation_id: $op,
            summary: $summary,
            body: $body,
            query: $query,
            status: $status,
            response: $resp,
            writes: $w,
            errors: $errors,
        }
    };
}

/// Every route.
pub const ROUTES: &[Route] = &[
    route!(Get "/v1/health", "health", "Daemon, store and watch status",
        body: None, query: None, 200 => Some("Health"), writes: false, errors: &[]),
    route!(Get "/v1/openapi.json", "openapi", "This document",
        body: None, query: None, 200 => Some("OpenApiDocument"), writes: false, errors: &[]),
    route!(Get "/v1/collections", "list_collections", "Collections, default first",
        body: None, query: Some(Query::CollectionList), 200 => Some("CollectionList"), writes: false, errors: &[]),
    route!(Post "/v1/collections", "create_collection", "Create a collection",
        body: Some("CollectionCreateBody"), query: None, 201 => Some("Collection"), writes: true,
        errors: &[E::CollectionExists]),
    route!(Get "/v1/collections/{cid}", "get_collection", "One collection with its live count",
        body: None, query: None, 200 => Some("Collection"), writes: false, errors: &[E::CollectionNotFound]),
    route!(Patch "/v1/collections/{cid}", "update_collection", "Rename, describe, archive, set accept",
        body: Some("CollectionPatchBody"), query: None, 200 => Some("Collection"), writes: true,
        errors: &[E::CollectionNotFound, E::CollectionTrashed]),
    route!(Delete "/v1/collections/{cid}", "delete_collection", "To the trash; ?purge=true deletes a trashed one for good",
        body: None, query: Some(Query::Delete), 200 => Some("Collection"), writes: true,
        errors: &[E::CollectionNotFound]),
    route!(Post "/v1/collections/{cid}/restore", "restore_collection", "Out of the trash",
        body: None, query: None, 200 => Some("Collection"), writes: true, errors: &[E::CollectionNotFound]),
    route!(Get "/v1/collections/{cid}/items", "list_entries", "Entries, paged",
        body: None, query: Some(Query::EntryList), 200 => Some("EntryPage"), writes: false,
        errors: &[E::CollectionNotFound]),
    route!(Post "/v1/collections/{cid}/items", "batch_add", "Batch add or move: atomic, idempotent, accounted per item",
        body: Some("BatchAddBody"), query: None, 200 => Some("BatchResponse"), writes: true, errors: BATCH_ERRORS),
    route!(Post "/v1/collections/{cid}/items/remove", "batch_remove", "Batch remove (soft), atomic",
        body: Some("RemoveBody"), query: None, 200 => Some("RemoveResponse"), writes: true,
        errors: &[E::BatchSizeExceeded, E::InvalidId, E::CollectionNotFound, E::CollectionTrashed,
                  E::CollectionArchived, E::ItemsNotFound, E::EntryNotFound, E::EntryManagedByFolder]),
    route!(Post "/v1/collections/{cid}/items/reorder", "reorder", "Move entries to the front, or next to another",
        body: Some("ReorderBody"), query: None, 200 => Some("ReorderResponse"), writes: true,
        errors: &[E::BatchSizeExceeded, E::InvalidId, E::CollectionNotFound, E::CollectionTrashed,
                  E::CollectionArchived, E::ItemsNotFound, E::EntryNotFound]),
    route!(Get "/v1/collections/{cid}/items/{item_id}", "get_entry", "One entry",
        body: None, query: None, 200 => Some("Entry"), writes: false,
        errors: &[E::InvalidId, E::CollectionNotFound, E::EntryNotFound]),
    route!(Post "/v1/collections/{cid}/items/{item_id}", "add_entry", "Add one item (create semantics)",
        body: Some("EntryCreateBody"), query: None, 201 => Some("Entry"), writes: true,
        errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived,
                  E::ItemsNotFound, E::AlreadyInCollection, E::UniqueIdConflict, E::ItemNotAllowed, E::ItemDeleted]),
    route!(Patch "/v1/collections/{cid}/items/{item_id}", "update_entry", "Change an entry's name, unique id, metadata",
        body: Some("EntryPatchBody"), query: None, 200 => Some("Entry"), writes: true,
        errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived,
                  E::ItemsNotFound, E::EntryNotFound, E::UniqueIdConflict]),
    route!(Delete "/v1/collections/{cid}/items/{item_id}", "remove_entry", "Remove one entry (soft)",
        body: None, query: None, 200 => Some("Entry"), writes: true,
        errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived,
                  E::ItemsNotFound, E::EntryNotFound, E::EntryManagedByFolder]),
    route!(Get "/v1/items", "list_items", "Items, paged and filtered",
        body: None, query: Some(Query::ItemList), 200 => Some("ItemPage"), writes: false,
        errors: &[E::CollectionNotFound]),
    route!(Post "/v1/items", "register_items", "Register files by absolute path, idempotent by path",
        body: Some("RegisterBody"), query: None, 200 => Some("ItemPage"), writes: true,
        errors: &[E::BatchSizeExceeded, E::ItemsNotFound]),
    route!(Get "/v1/items/{item_id}", "get_item", "One item with the collections it is in",
        body: None, query: None, 200 => Some("Item"), writes: false, errors: &[E::InvalidId, E::ItemsNotFound]),
    route!(Patch "/v1/items/{item_id}", "update_item", "Change item metadata",
        body: Some("ItemPatchBody"), query: None, 200 => Some("Item"), writes: true,
        errors: &[E::InvalidId, E::ItemsNotFound]),
    route!(Get "/v1/watches", "list_watches", "Folder watches with their state",
        body: None, query: None, 200 => Some("WatchList"), writes: false, errors: &[]),
    route!(Post "/v1/watches", "create_watch", "Bind a folder to a collection; 200 with the watch if it exists",
        body: Some("WatchCreateBody"), query: None, 201 => Some("Watch"), writes: true,
        errors: &[E::CollectionNotFound, E::CollectionTrashed]),
    route!(Delete "/v1/watches/{wid}", "delete_watch", "Stop watching; its entries are soft-deleted (or kept as manual)",
        body: None, query: Some(Query::WatchDelete), 200 => Some("WatchRemoved"), writes: true,
        errors: &[E::InvalidId, E::WatchNotFound]),
    route!(Post "/v1/watches/{wid}/rescan", "rescan_watch", "Reconcile the folder now by a full walk",
        body: None, query: None, 200 => Some("Watch"), writes: true,
        errors: &[E::InvalidId, E::WatchNotFound]),
    route!(Get "/v1/events", "events", "The change feed: newline-delimited JSON, streamed",
        body: None, query: Some(Query::Events), 200 => None, writes: false, errors: &[]),
    route!(Get "/v1/ops", "list_ops", "The operation log, newest first",
        body: None, query: Some(Query::OpList), 200 => Some("OpPage"), writes: false, errors: &[]),
    route!(Post "/v1/ops/{op_id}/undo", "undo", "Undo a logged operation",
        body: None, query: None, 200 => Some("UndoResponse"), writes: true,
        errors: &[E::InvalidId, E::OpNotFound, E::UndoConflict, E::CollectionTrashed, E::CollectionArchived]),
];
