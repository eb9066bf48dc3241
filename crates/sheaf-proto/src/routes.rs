//! Every route of the API (SPEC §2.2), one constant each: its method and path template
//! (axum's syntax and OpenAPI's), the types it takes and answers, and which error codes it
//! can give. The daemon's router binds a handler to each constant, the client calls them,
//! and the OpenAPI document is generated from [`ROUTES`], the list of them all. A new route
//! is one row of the `routes!` table below.

use std::fmt;
use std::marker::PhantomData;

use sheaf_core::ErrorCode;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};

pub use crate::dialects::Platform;
use crate::dialects::{datalab, llama, oracle, wickson};
use crate::requests::{
    BatchAddBody, CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams,
    DuplicateParams, EntryCreateBody, EntryListParams, EntryPatchBody, EventParams, ItemListParams,
    ItemPatchBody, OpListParams, RegisterBody, RemoveBody, ReorderBody, RuleBody, RulePatchBody,
    RuleRunParams, RuleTestParams, WatchCreateBody, WatchDeleteParams,
};
use crate::resources::{Collection, Entry, Item, Rule, Watch};
use crate::responses::{
    BatchResponse, CollectionList, DuplicateList, EntryPage, Health, ItemPage, OpPage,
    RemoveResponse, ReorderResponse, RuleList, RuleRunList, RuleTest, UndoResponse, WatchList,
    WatchRemoved,
};

/// HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: reads, the event stream included; never needs write access.
    Get,
    /// `POST`: creates, registers, batch writes (add, remove, reorder), restore, rescan and
    /// undo; needs write access.
    Post,
    /// `PATCH`: changes some fields of a collection, entry or item; needs write access.
    Patch,
    /// `DELETE`: trashes or purges a collection, removes an entry (soft) or a watch; needs write
    /// access.
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

/// A route's query string: the type's name and its parameters in the document.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    /// The query type's name (`EntryListParams`).
    pub name: &'static str,
    /// Its parameters, as the OpenAPI document lists them.
    pub params: fn() -> Vec<Parameter>,
}

/// One route, as the daemon serves it and the document describes it.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The HTTP method; the daemon's gate asks for write access on any but `GET`.
    pub method: Method,
    /// Path template with `{name}` parameters: axum's syntax and OpenAPI's alike.
    pub path: &'static str,
    /// Unique name of the operation.
    pub operation_id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The body's schema name, if it takes one.
    pub body: Option<&'static str>,
    /// The query string, if any.
    pub query: Option<Query>,
    /// The success status.
    pub status: u16,
    /// The success body's schema name (`None`: the body is a stream of events).
    pub response: Option<&'static str>,
    /// Writes need write access.
    pub writes: bool,
    /// The error codes the route can answer besides the common ones.
    pub errors: &'static [ErrorCode],
    /// Whose API the route is: sheaf's or a platform's of SPEC §8, whose shapes its
    /// errors take.
    pub platform: Platform,
}

impl fmt::Display for Route {
    /// `GET /v1/health`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

/// A route with the types it carries: the request body `B`, the query string `Q` and the
/// success body `R` (`()` where there is none). The daemon binds a handler to it, the
/// client sends `B` and `Q` and decodes `R`, and the document names their schemas.
#[derive(Debug)]
pub struct Endpoint<B, Q, R> {
    /// The untyped row of [`ROUTES`].
    pub route: Route,
    types: PhantomData<fn(B, Q) -> R>,
}

impl<B: Schema, Q: QueryString, R: Schema> Endpoint<B, Q, R> {
    /// The endpoint of `route`, whose body, query and response are set from the types.
    const fn new(route: Route) -> Self {
        Self {
            route: Route {
                body: B::SCHEMA,
                query: Q::QUERY,
                response: R::SCHEMA,
                ..route
            },
            types: PhantomData,
        }
    }
}

/// A JSON body type, by the name of its schema in the document (`None`: no body, or not
/// a JSON one).
pub trait Schema {
    /// The name under `#/components/schemas/`.
    const SCHEMA: Option<&'static str>;
}

/// A query-string type.
pub trait QueryString {
    /// `None` for routes without one.
    const QUERY: Option<Query>;
}

impl Schema for () {
    const SCHEMA: Option<&'static str> = None;
}

impl QueryString for () {
    const QUERY: Option<Query> = None;
}

/// The body of `GET /v1/events`: one `Event` per line, streamed as changes commit.
#[derive(Debug)]
pub enum EventLines {}

impl Schema for EventLines {
    const SCHEMA: Option<&'static str> = None;
}

/// The body of `GET /v1/openapi.json`, an object the document does not describe further.
impl Schema for serde_json::Value {
    const SCHEMA: Option<&'static str> = Some("OpenApiDocument");
}

macro_rules! schemas {
    ($($t:ident),* $(,)?) => {
        $(impl Schema for $t {
            const SCHEMA: Option<&'static str> = Some(stringify!($t));
        })*
    };
}

schemas!(
    BatchAddBody,
    CollectionCreateBody,
    CollectionPatchBody,
    EntryCreateBody,
    EntryPatchBody,
    ItemPatchBody,
    RegisterBody,
    RemoveBody,
    ReorderBody,
    RuleBody,
    RulePatchBody,
    WatchCreateBody,
    BatchResponse,
    Collection,
    CollectionList,
    DuplicateList,
    Entry,
    EntryPage,
    Health,
    Item,
    ItemPage,
    OpPage,
    RemoveResponse,
    ReorderResponse,
    UndoResponse,
    Watch,
    WatchList,
    WatchRemoved,
    Rule,
    RuleList,
    RuleRunList,
    RuleTest,
);

macro_rules! named_schemas {
    ($($t:ty => $name:literal),* $(,)?) => {
        $(impl Schema for $t {
            const SCHEMA: Option<&'static str> = Some($name);
        })*
    };
}

named_schemas!(
    datalab::AddFilesBody => "AddFilesToCollectionRequest",
    datalab::CollectionResponse => "CollectionResponse",
    datalab::CollectionList => "DatalabCollectionList",
    oracle::Added => "CollectionAddSingleFileResponse",
    wickson::MoveBody => "WicksonMoveBody",
    wickson::MoveResponse => "WicksonMoveResponse",
    wickson::CollectionResponse => "WicksonCollectionResponse",
    wickson::CollectionListResponse => "WicksonCollectionListResponse",
    wickson::MediaResponse => "WicksonMediaResponse",
    wickson::Error => "WicksonError",
    llama::FileCreateBody => "DirectoryFileCreate",
    llama::DirectoryFile => "DirectoryFile",
    llama::DirectoryFileList => "DirectoryFileList",
);

fn query_params<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

macro_rules! query_strings {
    ($($t:ident),* $(,)?) => {
        $(impl QueryString for $t {
            const QUERY: Option<Query> = Some(Query {
                name: stringify!($t),
                params: query_params::<$t>,
            });
        })*
    };
}

query_strings!(
    CollectionListParams,
    EntryListParams,
    ItemListParams,
    DuplicateParams,
    EventParams,
    OpListParams,
    DeleteParams,
    WatchDeleteParams,
    RuleRunParams,
    RuleTestParams,
);

macro_rules! dialect_query_strings {
    ($($t:ty => $name:literal),* $(,)?) => {
        $(impl QueryString for $t {
            const QUERY: Option<Query> = Some(Query {
                name: $name,
                params: query_params::<$t>,
            });
        })*
    };
}

dialect_query_strings!(
    wickson::MediaParams => "WicksonMediaParams",
    llama::ProjectParams => "LlamaProjectParams",
    llama::FileListParams => "LlamaFileListParams",
);

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
    E::CollectionIsSmart,
    E::NotInSource,
    E::EntryManagedByFolder,
    E::NoTargetFolder,
    E::ItemNotAllowed,
    E::ItemDeleted,
];

/// A row's platform: the one it names, else sheaf's own.
macro_rules! platform {
    () => {
        Platform::Sheaf
    };
    ($p:ident) => {
        Platform::$p
    };
}

macro_rules! routes {
    ($($name:ident: $m:ident $path:literal => $resp:ty, $status:literal,
       body: $body:ty, query: $query:ty, op: $op:literal, summary: $summary:literal,
       writes: $w:literal, errors: $errors:expr $(, platform: $p:ident)?;)*) => {
        $(#[doc = concat!($summary, ": `", $path, "`.")]
        pub const $name: Endpoint<$body, $query, $resp> = Endpoint::new(Route {
            method: Method::$m,
            path: $path,
            operation_id: $op,
            summary: $summary,
            body: None,
            query: None,
            status: $status,
            response: None,
            writes: $w,
            errors: $errors,
            platform: platform!($($p)?),
        });)*

        /// Every route, in the order the document lists them.
        pub const ROUTES: &[Route] = &[$($name.route),*];
    };
}

routes! {
    HEALTH: Get "/v1/health" => Health, 200,
        body: (), query: (), op: "health", summary: "Daemon, store and watch status",
        writes: false, errors: &[];
    OPENAPI: Get "/v1/openapi.json" => serde_json::Value, 200,
        body: (), query: (), op: "openapi", summary: "This document",
        writes: false, errors: &[];
    LIST_COLLECTIONS: Get "/v1/collections" => CollectionList, 200,
        body: (), query: CollectionListParams, op: "list_collections", summary: "Collections, default first",
        writes: false, errors: &[];
    CREATE_COLLECTION: Post "/v1/collections" => Collection, 201,
        body: CollectionCreateBody, query: (), op: "create_collection", summary: "Create a collection (smart, with a query)",
        writes: true, errors: &[E::CollectionExists, E::CollectionNotFound];
    GET_COLLECTION: Get "/v1/collections/{cid}" => Collection, 200,
        body: (), query: (), op: "get_collection", summary: "One collection with its live count",
        writes: false, errors: &[E::CollectionNotFound];
    UPDATE_COLLECTION: Patch "/v1/collections/{cid}" => Collection, 200,
        body: CollectionPatchBody, query: (), op: "update_collection", summary: "Rename, describe, archive, set accept or a smart collection's query",
        writes: true, errors: &[E::CollectionNotFound, E::CollectionTrashed];
    DELETE_COLLECTION: Delete "/v1/collections/{cid}" => Collection, 200,
        body: (), query: DeleteParams, op: "delete_collection", summary: "To the trash; ?purge=true deletes a trashed one for good",
        writes: true, errors: &[E::CollectionNotFound];
    RESTORE_COLLECTION: Post "/v1/collections/{cid}/restore" => Collection, 200,
        body: (), query: (), op: "restore_collection", summary: "Out of the trash",
        writes: true, errors: &[E::CollectionNotFound];
    LIST_ENTRIES: Get "/v1/collections/{cid}/items" => EntryPage, 200,
        body: (), query: EntryListParams, op: "list_entries", summary: "Entries, paged",
        writes: false, errors: &[E::CollectionNotFound];
    BATCH_ADD: Post "/v1/collections/{cid}/items" => BatchResponse, 200,
        body: BatchAddBody, query: (), op: "batch_add", summary: "Batch add or move: atomic, idempotent, accounted per item",
        writes: true, errors: BATCH_ERRORS;
    BATCH_REMOVE: Post "/v1/collections/{cid}/items/remove" => RemoveResponse, 200,
        body: RemoveBody, query: (), op: "batch_remove", summary: "Batch remove (soft), atomic",
        writes: true, errors: &[E::BatchSizeExceeded, E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::EntryNotFound, E::EntryManagedByFolder];
    REORDER: Post "/v1/collections/{cid}/items/reorder" => ReorderResponse, 200,
        body: ReorderBody, query: (), op: "reorder", summary: "Move entries to the front, or next to another",
        writes: true, errors: &[E::BatchSizeExceeded, E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::EntryNotFound];
    GET_ENTRY: Get "/v1/collections/{cid}/items/{item_id}" => Entry, 200,
        body: (), query: (), op: "get_entry", summary: "One entry",
        writes: false, errors: &[E::InvalidId, E::CollectionNotFound, E::EntryNotFound];
    ADD_ENTRY: Post "/v1/collections/{cid}/items/{item_id}" => Entry, 201,
        body: EntryCreateBody, query: (), op: "add_entry", summary: "Add one item (create semantics)",
        writes: true, errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::AlreadyInCollection, E::UniqueIdConflict, E::ItemNotAllowed, E::ItemDeleted];
    UPDATE_ENTRY: Patch "/v1/collections/{cid}/items/{item_id}" => Entry, 200,
        body: EntryPatchBody, query: (), op: "update_entry", summary: "Change an entry's name, unique id, metadata",
        writes: true, errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::EntryNotFound, E::UniqueIdConflict];
    REMOVE_ENTRY: Delete "/v1/collections/{cid}/items/{item_id}" => Entry, 200,
        body: (), query: (), op: "remove_entry", summary: "Remove one entry (soft)",
        writes: true, errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::EntryNotFound, E::EntryManagedByFolder];
    LIST_ITEMS: Get "/v1/items" => ItemPage, 200,
        body: (), query: ItemListParams, op: "list_items", summary: "Items, paged and filtered",
        writes: false, errors: &[E::CollectionNotFound];
    REGISTER_ITEMS: Post "/v1/items" => ItemPage, 200,
        body: RegisterBody, query: (), op: "register_items", summary: "Register files by absolute path, idempotent by path",
        writes: true, errors: &[E::BatchSizeExceeded, E::ItemsNotFound];
    GET_ITEM: Get "/v1/items/{item_id}" => Item, 200,
        body: (), query: (), op: "get_item", summary: "One item with the collections it is in",
        writes: false, errors: &[E::InvalidId, E::ItemsNotFound];
    UPDATE_ITEM: Patch "/v1/items/{item_id}" => Item, 200,
        body: ItemPatchBody, query: (), op: "update_item", summary: "Change item metadata",
        writes: true, errors: &[E::InvalidId, E::ItemsNotFound];
    LIST_DUPLICATES: Get "/v1/duplicates" => DuplicateList, 200,
        body: (), query: DuplicateParams, op: "list_duplicates", summary: "Groups of live items with the same content hash, the most wasted space first",
        writes: false, errors: &[];
    LIST_WATCHES: Get "/v1/watches" => WatchList, 200,
        body: (), query: (), op: "list_watches", summary: "Folder watches with their state",
        writes: false, errors: &[];
    CREATE_WATCH: Post "/v1/watches" => Watch, 201,
        body: WatchCreateBody, query: (), op: "create_watch", summary: "Bind a folder to a collection; 200 with the watch if it exists",
        writes: true, errors: &[E::CollectionNotFound, E::CollectionTrashed, E::CollectionIsSmart];
    DELETE_WATCH: Delete "/v1/watches/{wid}" => WatchRemoved, 200,
        body: (), query: WatchDeleteParams, op: "delete_watch", summary: "Stop watching; its entries are soft-deleted (or kept as manual)",
        writes: true, errors: &[E::InvalidId, E::WatchNotFound];
    RESCAN_WATCH: Post "/v1/watches/{wid}/rescan" => Watch, 200,
        body: (), query: (), op: "rescan_watch", summary: "Reconcile the folder now by a full walk",
        writes: true, errors: &[E::InvalidId, E::WatchNotFound];
    LIST_RULES: Get "/v1/rules" => RuleList, 200,
        body: (), query: (), op: "list_rules", summary: "Rules, with where each stands",
        writes: false, errors: &[];
    CREATE_RULE: Post "/v1/rules" => Rule, 201,
        body: RuleBody, query: (), op: "create_rule", summary: "Define a rule; it acts on what happens from now on (apply: on what exists)",
        writes: true, errors: &[E::RuleExists, E::CollectionIsSmart];
    GET_RULE: Get "/v1/rules/{rid}" => Rule, 200,
        body: (), query: (), op: "get_rule", summary: "One rule, with its apply's progress",
        writes: false, errors: &[E::InvalidId, E::RuleNotFound];
    UPDATE_RULE: Patch "/v1/rules/{rid}" => Rule, 200,
        body: RulePatchBody, query: (), op: "update_rule", summary: "Change some of a rule's definition",
        writes: true, errors: &[E::InvalidId, E::RuleNotFound, E::RuleExists, E::CollectionIsSmart];
    DELETE_RULE: Delete "/v1/rules/{rid}" => Rule, 200,
        body: (), query: (), op: "delete_rule", summary: "Delete a rule with its runs",
        writes: true, errors: &[E::InvalidId, E::RuleNotFound];
    LIST_RULE_RUNS: Get "/v1/rules/{rid}/runs" => RuleRunList, 200,
        body: (), query: RuleRunParams, op: "list_rule_runs", summary: "A rule's runs, newest first",
        writes: false, errors: &[E::InvalidId, E::RuleNotFound];
    TEST_RULE: Post "/v1/rules/{rid}/test" => RuleTest, 200,
        body: (), query: RuleTestParams, op: "test_rule", summary: "Which existing items match, and what would be done: a dry run",
        writes: false, errors: &[E::InvalidId, E::RuleNotFound];
    APPLY_RULE: Post "/v1/rules/{rid}/apply" => Rule, 202,
        body: (), query: (), op: "apply_rule", summary: "Run the rule over the existing items that match, in the background",
        writes: true, errors: &[E::InvalidId, E::RuleNotFound];
    EVENTS: Get "/v1/events" => EventLines, 200,
        body: (), query: EventParams, op: "events", summary: "The change feed: newline-delimited JSON, streamed",
        writes: false, errors: &[];
    LIST_OPS: Get "/v1/ops" => OpPage, 200,
        body: (), query: OpListParams, op: "list_ops", summary: "The operation log, newest first",
        writes: false, errors: &[];
    UNDO: Post "/v1/ops/{op_id}/undo" => UndoResponse, 200,
        body: (), query: (), op: "undo", summary: "Undo a logged operation",
        writes: true, errors: &[E::InvalidId, E::OpNotFound, E::UndoConflict, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart];

    // SPEC §8.1: Datalab.
    DATALAB_ADD_FILES: Post "/api/v1/collections/{collection_id}/files" => datalab::CollectionResponse, 200,
        body: datalab::AddFilesBody, query: (), op: "add_files_to_collection_api_v1_collections__collection_id__files_post", summary: "Datalab: link files to a collection by their numbers",
        writes: true, errors: &[E::CollectionNotFound, E::CollectionTrashed, E::ItemsNotFound, E::UniqueIdConflict, E::CollectionArchived, E::CollectionIsSmart, E::ItemNotAllowed, E::ItemDeleted], platform: Datalab;
    DATALAB_GET_COLLECTION: Get "/api/v1/collections/{collection_id}" => datalab::CollectionResponse, 200,
        body: (), query: (), op: "datalab_get_collection", summary: "Datalab: a collection with its first 1000 files",
        writes: false, errors: &[E::CollectionNotFound], platform: Datalab;
    DATALAB_LIST_COLLECTIONS: Get "/api/v1/collections" => datalab::CollectionList, 200,
        body: (), query: (), op: "datalab_list_collections", summary: "Datalab: every collection, without files",
        writes: false, errors: &[], platform: Datalab;
    // SPEC §8.2: Oracle Content Management.
    ORACLE_ADD_FILE: Post "/documents/api/1.1/collections/{collectionId}/files/{fileId}" => oracle::Added, 200,
        body: (), query: (), op: "oracle_add_asset_to_collection", summary: "Oracle Content Management: add an asset to a collection",
        writes: true, errors: &[E::InvalidId, E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::AlreadyInCollection, E::UniqueIdConflict, E::ItemNotAllowed, E::ItemDeleted], platform: Oracle;
    // SPEC §8.3: Wickson.
    WICKSON_MOVE: Post "/v1/media/collections/{collection_id}/items" => wickson::MoveResponse, 200,
        body: wickson::MoveBody, query: (), op: "wickson_move_to_collection", summary: "Wickson: move media items to a collection, created when missing",
        writes: true, errors: &[E::BatchSizeExceeded, E::CollectionTrashed, E::ItemsNotFound, E::UniqueIdConflict, E::CollectionArchived, E::CollectionIsSmart, E::EntryManagedByFolder, E::ItemNotAllowed, E::ItemDeleted], platform: Wickson;
    WICKSON_LIST_COLLECTIONS: Get "/v1/media/collections" => wickson::CollectionListResponse, 200,
        body: (), query: (), op: "wickson_list_collections", summary: "Wickson: every collection",
        writes: false, errors: &[], platform: Wickson;
    WICKSON_GET_COLLECTION: Get "/v1/media/collections/{collection_id}" => wickson::CollectionResponse, 200,
        body: (), query: (), op: "wickson_get_collection", summary: "Wickson: one collection",
        writes: false, errors: &[E::CollectionNotFound], platform: Wickson;
    WICKSON_DELETE_COLLECTION: Delete "/v1/media/collections/{collection_id}" => wickson::CollectionResponse, 200,
        body: (), query: (), op: "wickson_delete_collection", summary: "Wickson: delete a collection (to sheaf's trash)",
        writes: true, errors: &[E::CollectionNotFound], platform: Wickson;
    WICKSON_LIST_MEDIA: Get "/v1/media" => wickson::MediaResponse, 200,
        body: (), query: wickson::MediaParams, op: "wickson_list_media", summary: "Wickson: media items, paged, of one collection or all",
        writes: false, errors: &[E::CollectionNotFound], platform: Wickson;
    WICKSON_SEARCH: Post "/v1/search" => wickson::Error, 501,
        body: (), query: (), op: "wickson_search", summary: "Wickson: search; sheaf computes no embeddings, so always 501 NOT_IMPLEMENTED",
        writes: true, errors: &[E::NotImplemented], platform: Wickson;
    // SPEC §8.4: LlamaCloud.
    LLAMA_ADD_FILE: Post "/api/v1/beta/directories/{directory_id}/files" => llama::DirectoryFile, 200,
        body: llama::FileCreateBody, query: llama::ProjectParams, op: "llama_add_directory_file", summary: "LlamaCloud: add a file to a directory (create semantics)",
        writes: true, errors: &[E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::ItemsNotFound, E::AlreadyInCollection, E::UniqueIdConflict, E::ItemNotAllowed, E::ItemDeleted], platform: LlamaCloud;
    LLAMA_LIST_FILES: Get "/api/v1/beta/directories/{directory_id}/files" => llama::DirectoryFileList, 200,
        body: (), query: llama::FileListParams, op: "llama_list_directory_files", summary: "LlamaCloud: a directory's files, paged",
        writes: false, errors: &[E::CollectionNotFound], platform: LlamaCloud;
    LLAMA_GET_FILE: Get "/api/v1/beta/directories/{directory_id}/files/{id}" => llama::DirectoryFile, 200,
        body: (), query: llama::ProjectParams, op: "llama_get_directory_file", summary: "LlamaCloud: one file of a directory, by its id or its file id",
        writes: false, errors: &[E::CollectionNotFound, E::EntryNotFound], platform: LlamaCloud;
    LLAMA_DELETE_FILE: Delete "/api/v1/beta/directories/{directory_id}/files/{id}" => llama::DirectoryFile, 200,
        body: (), query: llama::ProjectParams, op: "llama_delete_directory_file", summary: "LlamaCloud: remove a file from a directory (soft: deleted_at)",
        writes: true, errors: &[E::CollectionNotFound, E::CollectionTrashed, E::CollectionArchived, E::CollectionIsSmart, E::EntryNotFound, E::EntryManagedByFolder], platform: LlamaCloud;
}
