use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::change::Change;
use crate::error::Refusal;
use crate::event::Event;
use crate::id::WatchId;
use crate::id::{CollectionId, EntryId, ItemId, OpId};
use crate::kind::Kind;
use crate::model::{Collection, Entry, Item, Watch};
use crate::time::Timestamp;

/// A source of fresh ULIDs. The store uses a monotonic generator; tests use counters.
pub trait IdSource {
    /// A ULID never returned before.
    fn next_ulid(&mut self) -> Ulid;
}

/// Configurable bounds on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most references in one batch (default 1000).
    pub max_batch: usize,
    /// Most entries one `select` may match (default 100 000).
    pub max_select: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_batch: 1000,
            max_select: 100_000,
        }
    }
}

/// Everything a rule needs beyond the state: the time, fresh ids, the limits, the home
/// folder.
pub struct Ctx<'a> {
    /// The commit time: every timestamp the plan writes.
    pub now: Timestamp,
    /// Fresh ids.
    pub ids: &'a mut dyn IdSource,
    /// Request bounds.
    pub limits: Limits,
    /// The daemon user's home, which a leading `~` of a query's `path` globs stands for
    /// (a `select` by query); `None`: such globs match nothing.
    pub home: Option<&'a str>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("now", &self.now)
            .field("limits", &self.limits)
            .field("home", &self.home)
            .finish()
    }
}

impl Ctx<'_> {
    pub(crate) fn entry_id(&mut self) -> EntryId {
        EntryId::from_ulid(self.ids.next_ulid())
    }
    pub(crate) fn op_id(&mut self) -> OpId {
        OpId::from_ulid(self.ids.next_ulid())
    }
}

/// What a logged operation was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Batch add with `mode: link`.
    Link,
    /// Batch add with `mode: move`.
    Move,
    /// Single add.
    AddOne,
    /// Batch or single remove.
    Remove,
    /// Entries moved to the front of a collection, or next to another entry.
    Reorder,
    /// Entry fields changed.
    UpdateEntry,
    /// Item metadata changed.
    UpdateItem,
    /// The inverse of another op.
    Undo,
}

/// A record an op changed, with what undo needs: its state before, and the `updated_at` it
/// had right after (`None`: absent after). Undo is refused when the record no longer
/// carries that stamp, i.e. a later change touched it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Touched {
    /// An entry: one item's membership of one collection.
    Entry {
        /// The collection the entry is in; with `item_id`, the key undo looks the entry up by.
        collection_id: CollectionId,
        /// The item the entry is of; with `collection_id`, the key undo looks the entry up by.
        item_id: ItemId,
        /// The entry before the op.
        before: Option<Entry>,
        /// Its `updated_at` right after the op.
        after_stamp: Option<Timestamp>,
    },
    /// An item: the file record itself, not a membership of it.
    Item {
        /// The item's id: undo reads its current record by it, and names it on a conflict.
        item_id: ItemId,
        /// The item before the op.
        before: Option<Item>,
        /// Its `updated_at` right after the op.
        after_stamp: Option<Timestamp>,
    },
}

/// Per-item accounting of a batch add or move (SPEC §2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// Distinct items in the request.
    pub total: u64,
    /// Equal to `total`: a batch never half-applies.
    pub succeeded: u64,
    /// Always 0 on success.
    pub failed: u64,
    /// Entries newly live in the target (revivals included).
    pub added: u64,
    /// Items taken out of at least one source collection.
    pub moved: u64,
    /// Items already live in the target: counted, not changed.
    pub already_in_collection: u64,
}

/// What applying a set of folder changes did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
    /// Files seen for the first time.
    pub items_created: u64,
    /// Known files whose facts (path, size, mtime, type) changed.
    pub items_updated: u64,
    /// Files gone from disk (soft-deleted items).
    pub items_deleted: u64,
    /// Files back on disk (revived items, same id).
    pub items_restored: u64,
    /// Folder entries that became live (new or revived).
    pub entries_added: u64,
    /// Folder entries soft-deleted.
    pub entries_removed: u64,
    /// Files a watch covers that its collection could not take: not accepted by its
    /// `accept` list, or the collection is archived, trashed or gone. They stay items.
    pub entries_refused: u64,
    /// Content hashes recorded.
    pub items_hashed: u64,
    /// The net change of each watch's live folder entries (watches whose count did not
    /// change are left out): what keeps a watch's `files` exact between two full reconciles.
    pub folder_entries: BTreeMap<WatchId, i64>,
}

impl SyncSummary {
    /// Adds another summary's counts to this one.
    pub fn absorb(&mut self, other: &SyncSummary) {
        self.items_created += other.items_created;
        self.items_updated += other.items_updated;
        self.items_deleted += other.items_deleted;
        self.items_restored += other.items_restored;
        self.entries_added += other.entries_added;
        self.entries_removed += other.entries_removed;
        self.entries_refused += other.entries_refused;
        self.items_hashed += other.items_hashed;
        for (watch, delta) in &other.folder_entries {
            *self.folder_entries.entry(*watch).or_default() += delta;
        }
        self.folder_entries.retain(|_, delta| *delta != 0);
    }
}

/// Accounting of a batch remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveSummary {
    /// Distinct items in the request.
    pub total: u64,
    /// Live entries soft-deleted.
    pub removed: u64,
    /// Entries that were soft-deleted already: counted, not changed.
    pub already_removed: u64,
}

/// What a logged op did, for listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpSummary {
    /// A batch add or move.
    Batch {
        /// The counts.
        summary: BatchSummary,
        /// Items by kind.
        items_by_type: BTreeMap<Kind, u64>,
    },
    /// A remove (soft): what became of the entries it named.
    Remove {
        /// The counts.
        summary: RemoveSummary,
    },
    /// Anything else: how many records changed.
    Changed {
        /// Records changed.
        count: u64,
    },
}

/// A logged operation with its inverse (SPEC §2.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpRecord {
    /// `op_<ULID>`.
    pub id: OpId,
    /// What it was.
    pub kind: OpKind,
    /// The collection it targeted, if one.
    pub collection_id: Option<CollectionId>,
    /// Commit time; every record it touched carries this `updated_at` afterwards.
    pub at: Timestamp,
    /// What it did.
    pub summary: OpSummary,
    /// What it changed, with the state before.
    pub touched: Vec<Touched>,
    /// For an undo: the op it undid.
    pub undo_of: Option<OpId>,
    /// Set once the op has been undone.
    pub undone_by: Option<OpId>,
}

/// What a successful plan answers, once applied.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A batch add or move.
    Batch {
        /// The op's id.
        op_id: OpId,
        /// The target.
        collection_id: CollectionId,
        /// The counts.
        summary: BatchSummary,
        /// All `total` items by kind.
        items_by_type: BTreeMap<Kind, u64>,
    },
    /// A batch remove.
    Removed {
        /// The op's id.
        op_id: OpId,
        /// The collection the entries were removed from.
        collection_id: CollectionId,
        /// The counts.
        summary: RemoveSummary,
    },
    /// One entry, as it is after the change.
    Entry {
        /// The op's id, where the change was logged.
        op_id: Option<OpId>,
        /// The record after the plan: a single add's new (or revived) entry, or a patch's entry
        /// with its fields set.
        entry: Entry,
    },
    /// The entries reordered, in their new order.
    Reordered {
        /// The op's id.
        op_id: OpId,
        /// The collection whose entries were reordered.
        collection_id: CollectionId,
        /// Entries whose `sort_order` was written (renumbered neighbours included).
        moved: u64,
    },
    /// A collection created or changed (read it back for its live count).
    Collection(CollectionId),
    /// A trashed collection deleted for good, with its entries: its id.
    Purged(CollectionId),
    /// Items registered, in request order.
    Items(Vec<ItemId>),
    /// One item changed.
    Item {
        /// The op's id, where logged.
        op_id: Option<OpId>,
        /// The id of the item changed (read it back for its record).
        item_id: ItemId,
    },
    /// A watch added (`created`) or found already there with the same root and collection.
    Watch {
        /// The watch's id: the new one's, or with `created: false` the existing one's.
        watch: WatchId,
        /// Whether this request added it.
        created: bool,
    },
    /// A watch deleted: its folder is no longer followed.
    WatchRemoved {
        /// The id of the watch deleted.
        watch: WatchId,
        /// Its live entries, soft-deleted (or handed over to `manual`).
        entries: u64,
    },
    /// Folder changes applied (SPEC §3).
    Synced(SyncSummary),
    /// A rule defined (`created`) or found by its name and given the new definition.
    Rule {
        /// The rule.
        rule: crate::id::RuleId,
        /// Whether this request defined it.
        created: bool,
    },
    /// A smart collection's entries brought in line with its query (SPEC §7.2).
    Kept {
        /// The smart collection.
        collection_id: CollectionId,
        /// Entries that became live: items that started to match.
        added: u64,
        /// Entries soft-deleted: items that stopped matching.
        removed: u64,
    },
    /// An op undone.
    Undone {
        /// The undo's own op id.
        op_id: OpId,
        /// The op it undid.
        undone: OpId,
        /// Records restored.
        restored: u64,
    },
}

/// The result of planning: changes to apply in one transaction, the op to log, and the
/// answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The changes, in order. Applying them in one write transaction is the operation.
    pub changes: Vec<Change>,
    /// The op to log, for undoable operations.
    pub op: Option<OpRecord>,
    /// For an undo: the op to mark as undone by [`Plan::op`].
    pub undoes: Option<OpId>,
    /// What the caller is told.
    pub outcome: Outcome,
}

impl Plan {
    /// The change-feed events the plan emits, in change order.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.changes.iter().filter_map(Event::of_change).collect()
    }
}

/// Why planning failed: the operation was refused, or the state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError<E> {
    /// Refused by the rules; nothing changes.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Reading the state failed.
    #[error("reading the state failed")]
    View(#[source] E),
}

impl<E> PlanError<E> {
    /// The refusal, if that is what this is.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            PlanError::Refused(r) => Some(r),
            PlanError::View(_) => None,
        }
    }
}

/// Lifts a view read into a planning result.
pub(crate) trait OrView<T, E> {
    fn or_view(self) -> Result<T, PlanError<E>>;
}

impl<T, E> OrView<T, E> for Result<T, E> {
    fn or_view(self) -> Result<T, PlanError<E>> {
        self.map_err(PlanError::View)
    }
}

/// What a logged op is, apart from the records it touched.
#[derive(Debug)]
pub(crate) struct OpHead {
    pub(crate) id: OpId,
    pub(crate) kind: OpKind,
    pub(crate) collection_id: Option<CollectionId>,
    pub(crate) at: Timestamp,
    pub(crate) summary: OpSummary,
}

/// Builds the touched list and the changes of an op side by side.
#[derive(Debug, Default)]
pub(crate) struct ChangeSet {
    pub(crate) changes: Vec<Change>,
    pub(crate) touched: Vec<Touched>,
}

impl ChangeSet {
    /// Room for `n` more changes, so a large batch does not grow its lists step by step.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.changes.reserve(n);
        self.touched.reserve(n);
    }

    pub(crate) fn entry(&mut self, before: Option<Entry>, after: Option<Entry>) {
        let Some(any) = after.as_ref().or(before.as_ref()) else {
            return;
        };
        self.touched.push(Touched::Entry {
            collection_id: any.collection_id.clone(),
            item_id: any.item_id,
            before: before.clone(),
            after_stamp: after.as_ref().map(|e| e.updated_at),
        });
        self.changes.push(Change::Entry { before, after });
    }

    pub(crate) fn item(&mut self, before: Option<Item>, after: Option<Item>) {
        let Some(any) = after.as_ref().or(before.as_ref()) else {
            return;
        };
        self.touched.push(Touched::Item {
            item_id: any.id,
            before: before.clone(),
            after_stamp: after.as_ref().map(|i| i.updated_at),
        });
        self.changes.push(Change::Item { before, after });
    }

    /// The plan of a logged op: these changes, recorded with what undo needs.
    pub(crate) fn logged(self, head: OpHead, outcome: Outcome) -> Plan {
        let op = OpRecord {
            id: head.id,
            kind: head.kind,
            collection_id: head.collection_id,
            at: head.at,
            summary: head.summary,
            touched: self.touched,
            undo_of: None,
            undone_by: None,
        };
        Plan {
            changes: self.changes,
            op: Some(op),
            undoes: None,
            outcome,
        }
    }

    /// The plan of changes that are not logged: undo never sees them.
    pub(crate) fn unlogged(self, outcome: Outcome) -> Plan {
        Plan {
            changes: self.changes,
            op: None,
            undoes: None,
            outcome,
        }
    }

    /// A change that undo does not invert (collection lifecycle).
    pub(crate) fn collection(&mut self, before: Option<Collection>, after: Option<Collection>) {
        self.changes.push(Change::Collection { before, after });
    }

    /// A watch change (not undoable either).
    pub(crate) fn watch(&mut self, before: Option<Watch>, after: Option<Watch>) {
        self.changes.push(Change::Watch { before, after });
    }
}
