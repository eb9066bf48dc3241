//! The resources as the API shows them: items, collections, entries, ops, events, rules.

mod rules;

pub use rules::{ApplyProgress, HIDDEN, Rule, RuleMatch, RuleRun};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sheaf_core as core;
use sheaf_core::{CollectionId, ItemId, Kind, Metadata, OpId, Timestamp};
use utoipa::ToSchema;

/// A metadata value as the schema describes it: a string, a finite number or a boolean.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MetaValueSchema {
    /// Text up to 4 KiB.
    String(String),
    /// A finite number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// A metadata value in a PATCH, as the schema describes it: a value to set, or `null` to
/// delete the key. Written by hand: the derive has no way to say `{"type": "null"}`.
#[derive(Clone, Copy, Debug)]
pub struct MetaPatchValueSchema;

impl utoipa::PartialSchema for MetaPatchValueSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let of = |t: Type, what: &str| ObjectBuilder::new().schema_type(t).description(Some(what));
        OneOfBuilder::new()
            .description(Some(
                "A metadata value to set (string, finite number, boolean), or null to delete the key.",
            ))
            .item(of(Type::String, "Text up to 4 KiB."))
            .item(
                of(Type::Number, "A finite number.")
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double))),
            )
            .item(of(Type::Boolean, "A boolean."))
            .item(of(Type::Null, "Deletes the key."))
            .into()
    }
}

impl ToSchema for MetaPatchValueSchema {}

/// Item kinds, as the schema lists them.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindSchema {
    /// pdf, office, epub, rtf.
    Document,
    /// `image/*`.
    Image,
    /// `video/*`.
    Video,
    /// `audio/*`.
    Audio,
    /// Text, markdown, source, csv, json.
    Text,
    /// zip, tar, compressed.
    Archive,
    /// Anything else.
    Other,
}

/// A file the store knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// `<prefix>_<ULID>`, stable for the item's life.
    #[schema(value_type = String, example = "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    pub id: ItemId,
    /// A small integer, unique among items, assigned at registration and never reused
    /// (from 1).
    #[schema(example = 42)]
    pub number: u64,
    /// From the content type.
    #[schema(value_type = KindSchema)]
    pub kind: Kind,
    /// MIME type.
    pub content_type: String,
    /// Absolute path while the file exists.
    pub path: Option<String>,
    /// Where the file was last seen.
    pub last_path: Option<String>,
    /// File name as on disk.
    pub original_filename: String,
    /// Bytes.
    pub size: u64,
    /// Modification time.
    #[schema(value_type = String, format = DateTime)]
    pub mtime: Timestamp,
    /// BLAKE3 hex, once computed.
    pub content_hash: Option<String>,
    /// Item metadata.
    #[schema(value_type = BTreeMap<String, MetaValueSchema>)]
    pub metadata: Metadata,
    /// When sheaf first saw the file.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Set while the file is gone.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<Timestamp>,
    /// The collections the item is live in (on single-item reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub collections: Option<Vec<CollectionId>>,
}

impl From<core::Item> for Item {
    fn from(i: core::Item) -> Self {
        Self {
            id: i.id,
            number: i.number,
            kind: i.kind,
            content_type: i.content_type,
            path: i.path,
            last_path: i.last_path,
            original_filename: i.original_filename,
            size: i.size,
            mtime: i.mtime,
            content_hash: i.content_hash,
            metadata: i.metadata,
            created_at: i.created_at,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
            collections: None,
        }
    }
}

/// A named set of items, each a member through an entry; `default` lists the items in no
/// collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Collection {
    /// The slug.
    #[schema(value_type = String, example = "research_papers")]
    pub id: CollectionId,
    /// A small integer, unique among collections, assigned at creation and never reused
    /// (from 1; `default`, the view of unfiled items, is 0).
    #[schema(example = 3)]
    pub number: u64,
    /// Display name, 1 to 256 characters; the id unless one was given.
    pub name: String,
    /// Display text.
    pub description: String,
    /// Membership is read-only while set.
    pub archived: bool,
    /// Kinds or MIME patterns allowed in; `null` allows everything.
    #[schema(value_type = Option<Vec<String>>)]
    pub accept: Option<Vec<core::AcceptRule>>,
    /// Set while in the trash.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub trashed_at: Option<Timestamp>,
    /// Live entries.
    pub item_count: u64,
    /// The watches bound to it (SPEC §3), in the order they were bound.
    pub folders: Vec<Folder>,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change to its own fields.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// A smart collection's query (SPEC §7.2); absent for a collection kept by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub query: Option<serde_json::Value>,
    /// On a smart collection: `true` until the background fill has looked at every item
    /// (after it was created, restored or given a new query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filling: Option<bool>,
}

impl Collection {
    /// Whether its members are kept by a query.
    #[must_use]
    pub fn is_smart(&self) -> bool {
        self.query.is_some()
    }

    /// The collection as the API shows it, each watch bound to it named with its root by
    /// `root`; a watch `root` does not know is left out (it was removed meanwhile).
    pub fn with_roots(c: core::Collection, root: impl Fn(core::WatchId) -> Option<String>) -> Self {
        Self {
            id: c.id,
            number: c.number,
            name: c.name,
            description: c.description,
            archived: c.archived,
            accept: c.accept,
            trashed_at: c.trashed_at,
            item_count: c.item_count,
            folders: c
                .folders
                .into_iter()
                .filter_map(|watch_id| root(watch_id).map(|path| Folder { watch_id, path }))
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            filling: c.query.is_some().then_some(c.filling),
            query: c.query.as_deref().map(core::Query::to_json),
        }
    }
}

/// A watched folder bound to a collection, as the collection's `folders` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Folder {
    /// The watch (`/v1/watches/{wid}`).
    #[schema(value_type = String, example = "w_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    pub watch_id: core::WatchId,
    /// The watch's root, an absolute path.
    #[schema(example = "/home/me/Papers")]
    pub path: String,
}

/// The short item embedded in entry listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemBrief {
    /// The item's kind, from its content type.
    #[schema(value_type = KindSchema)]
    pub kind: Kind,
    /// Current path.
    pub path: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Modification time.
    #[schema(value_type = String, format = DateTime)]
    pub mtime: Timestamp,
}

/// An item's membership in a collection. In the `default` view (unfiled items) `id`,
/// `sort_order` and `source` are `null`: those rows are items, not entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    /// `ent_<ULID>`.
    #[schema(value_type = Option<String>)]
    pub id: Option<core::EntryId>,
    /// The collection's id (`default` in the view of unfiled items).
    #[schema(value_type = String)]
    pub collection_id: CollectionId,
    /// The item's id, `<prefix>_<ULID>`.
    #[schema(value_type = String)]
    pub item_id: ItemId,
    /// The entry's own name for the file: the file name unless one was set, and always the file
    /// name in the `default` view.
    pub display_name: String,
    /// Unique among the collection's live entries.
    pub unique_id: String,
    /// Entry metadata.
    #[schema(value_type = BTreeMap<String, MetaValueSchema>)]
    pub metadata: Metadata,
    /// The item's metadata overlaid by the entry's.
    #[schema(value_type = BTreeMap<String, MetaValueSchema>)]
    pub merged_metadata: Metadata,
    /// Ordering key; smaller first. Not a dense index.
    pub sort_order: Option<i64>,
    /// `manual` or `folder:<watch id>`.
    #[schema(value_type = Option<String>)]
    pub source: Option<core::EntrySource>,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Set while soft-deleted.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<Timestamp>,
    /// The item, briefly.
    pub item: ItemBrief,
}

impl Entry {
    /// An entry with its item.
    #[must_use]
    pub fn new(entry: core::Entry, item: &core::Item) -> Self {
        Self {
            merged_metadata: entry.merged_metadata(item),
            id: Some(entry.id),
            collection_id: entry.collection_id,
            item_id: entry.item_id,
            display_name: entry.display_name,
            unique_id: entry.unique_id,
            metadata: entry.metadata,
            sort_order: Some(entry.sort_order),
            source: Some(entry.source),
            created_at: entry.created_at,
            updated_at: entry.updated_at,
            deleted_at: entry.deleted_at,
            item: ItemBrief::of(item),
        }
    }

    /// The row of an unfiled item in the `default` view.
    #[must_use]
    pub fn unfiled(item: &core::Item) -> Self {
        Self {
            id: None,
            collection_id: CollectionId::default_collection(),
            item_id: item.id,
            display_name: item.original_filename.clone(),
            unique_id: item.id.to_string(),
            metadata: Metadata::new(),
            merged_metadata: item.metadata.clone(),
            sort_order: None,
            source: None,
            created_at: item.created_at,
            updated_at: item.updated_at,
            deleted_at: item.deleted_at,
            item: ItemBrief::of(item),
        }
    }
}

impl ItemBrief {
    /// The brief of an item.
    #[must_use]
    pub fn of(item: &core::Item) -> Self {
        Self {
            kind: item.kind,
            path: item.path.clone(),
            size: item.size,
            mtime: item.mtime,
        }
    }
}

/// Counts of a batch add or move.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchSummary {
    /// Distinct items in the request.
    pub total: u64,
    /// Equal to `total`: a batch never half-applies.
    pub succeeded: u64,
    /// Always 0.
    pub failed: u64,
    /// Entries newly live in the target (revivals included).
    pub added: u64,
    /// Items taken out of a source.
    pub moved: u64,
    /// Items already live in the target.
    pub already_in_collection: u64,
}

impl From<core::BatchSummary> for BatchSummary {
    fn from(s: core::BatchSummary) -> Self {
        Self {
            total: s.total,
            succeeded: s.succeeded,
            failed: s.failed,
            added: s.added,
            moved: s.moved,
            already_in_collection: s.already_in_collection,
        }
    }
}

/// Counts of a batch remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemoveSummary {
    /// Distinct items in the request.
    pub total: u64,
    /// Live entries soft-deleted.
    pub removed: u64,
    /// Entries that were removed already.
    pub already_removed: u64,
}

impl From<core::RemoveSummary> for RemoveSummary {
    fn from(s: core::RemoveSummary) -> Self {
        Self {
            total: s.total,
            removed: s.removed,
            already_removed: s.already_removed,
        }
    }
}

/// A logged operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Op {
    /// `op_<ULID>`.
    #[schema(value_type = String)]
    pub id: OpId,
    /// `link`, `move`, `add_one`, `remove`, `reorder`, `update_entry`, `update_item`, `undo`.
    pub kind: String,
    /// The collection it targeted.
    #[schema(value_type = Option<String>)]
    pub collection_id: Option<CollectionId>,
    /// Commit time.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Records it changed.
    pub changed: u64,
    /// Batch counts, for adds and moves.
    pub summary: Option<BatchSummary>,
    /// Items by kind, for adds and moves.
    pub items_by_type: Option<BTreeMap<String, u64>>,
    /// Remove counts, for removes.
    pub removed: Option<RemoveSummary>,
    /// For an undo: the op it undid.
    #[schema(value_type = Option<String>)]
    pub undo_of: Option<OpId>,
    /// Set once undone.
    #[schema(value_type = Option<String>)]
    pub undone_by: Option<OpId>,
}

impl From<core::OpRecord> for Op {
    fn from(op: core::OpRecord) -> Self {
        let kind = serde_json::to_value(op.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let (summary, items_by_type, removed) = match op.summary {
            core::OpSummary::Batch {
                summary,
                items_by_type,
            } => (
                Some(summary.into()),
                Some(
                    items_by_type
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                ),
                None,
            ),
            core::OpSummary::Remove { summary } => (None, None, Some(summary.into())),
            core::OpSummary::Changed { .. } => (None, None, None),
        };
        Self {
            id: op.id,
            kind,
            collection_id: op.collection_id,
            at: op.at,
            changed: op.touched.len() as u64,
            summary,
            items_by_type,
            removed,
            undo_of: op.undo_of,
            undone_by: op.undone_by,
        }
    }
}

/// One line of the change feed (`GET /v1/events`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Position in the feed. For `reset`, the last seq committed.
    pub seq: u64,
    /// Commit time (absent on `reset`).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// `item.created`, `entry.added`, …, or `reset`: events were dropped from the feed;
    /// re-read the state and follow on from `seq`.
    pub kind: String,
    /// The collection concerned.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<CollectionId>,
    /// The item concerned.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<ItemId>,
    /// The watch concerned.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_id: Option<core::WatchId>,
    /// The op that made the change.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_id: Option<OpId>,
    /// Who owns the entry, on `entry.*` events: `manual`, `folder:<watch id>`, `query` (a
    /// smart collection's own entry) or `rule:<rule id>`.
    #[schema(value_type = Option<String>, example = "query")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<core::EntrySource>,
    /// The rule, on `rule.ran` and `rule.failed`.
    #[schema(value_type = Option<String>, example = "r_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<core::RuleId>,
    /// `rule:<rule id>` when a rule's action made the change (SPEC §7.3).
    #[schema(value_type = Option<String>, example = "rule:r_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Event {
    /// The event of a committed change.
    #[must_use]
    pub fn new(
        seq: u64,
        at: Timestamp,
        op_id: Option<OpId>,
        cause: Option<core::rule::Cause>,
        event: core::Event,
    ) -> Self {
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            seq,
            at: Some(at),
            kind,
            collection_id: event.collection_id,
            item_id: event.item_id,
            watch_id: event.watch_id,
            op_id,
            source: event.source,
            rule_id: event.rule_id,
            cause: cause.map(|c| format!("rule:{}", c.rule)),
        }
    }

    /// The `reset` line: what the client asked for is no longer in the feed.
    #[must_use]
    pub fn reset(last_seq: u64) -> Self {
        Self {
            seq: last_seq,
            at: None,
            kind: "reset".to_owned(),
            collection_id: None,
            item_id: None,
            watch_id: None,
            op_id: None,
            source: None,
            rule_id: None,
            cause: None,
        }
    }
}

/// A folder watch (SPEC §3): what persists, and what the daemon sees of it right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Watch {
    /// `w_<ULID>`.
    #[schema(value_type = String, example = "w_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    pub id: core::WatchId,
    /// The folder.
    pub path: String,
    /// The bound collection.
    #[schema(value_type = String, example = "research_papers")]
    pub collection: CollectionId,
    /// Sub-folders are watched too.
    pub recursive: bool,
    /// Globs a file must match (any); empty: every file.
    pub include: Vec<String>,
    /// Globs that leave files and folders out.
    pub exclude: Vec<String>,
    /// Polling interval (`"30s"`) when the watch polls instead of following live events.
    pub poll: Option<String>,
    /// Declared in the config file (it comes back at every start).
    pub from_config: bool,
    /// `live`, `scanning`, `polling` or `degraded: <reason>`.
    pub state: String,
    /// Files mirrored (live folder entries).
    pub files: u64,
    /// End of the last full reconcile.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_reconcile_at: Option<Timestamp>,
    /// Settled changes waiting to be committed, plus events not yet settled.
    pub queue_depth: u64,
    /// Times events were lost since the daemon started (the kernel's event queue or the
    /// watch's own overflowed), each recovered by a rescan of the root (SPEC §3).
    #[serde(default)]
    pub overflows: u64,
    /// When that last happened.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_overflow_at: Option<Timestamp>,
    /// When it was added.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}
