//! The reference model of sheaf's store: SPEC §1–2 and `docs/decisions.md` in executable
//! form, a plain in-memory state of `BTreeMap`s that the store's model-based test
//! (`sheaf-store/tests/model.rs`) and the store fuzz target (`fuzz/`) both drive with the
//! same operations as a real store and compare after every step.
//!
//! It uses sheaf-core's data types (ids, kinds, error codes, summaries) but none of its
//! rules, and nothing of the store: it is the second, independent reading of the SPEC that
//! the store is checked against. Order is a key per entry: appends and revivals take the
//! largest key plus one, a reorder puts the given items before the smallest key in the
//! given order, and undo restores an entry's exact previous key — so only the *order* of
//! the store's `sort_order`s can be compared with it, never their values. Items are named by
//! their index in [`Model::items`], collections by id.
//!
//! A test-support crate (`publish = false`): it panics on what a model cannot go on
//! without, and nothing but tests and fuzz targets depends on it.

// The model's own invariants are assertions: a model that breaks one is a broken test.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

mod membership;
mod state;
mod undo;

use std::collections::{BTreeMap, BTreeSet};

use sheaf_core::rules::Mode;
use sheaf_core::{
    AcceptRule, BatchSummary, CollectionId, ErrorCode, EventKind, ItemId, Kind, RemoveSummary,
};

/// One rule of an `accept` list, as the model reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// Items of this kind.
    Kind(Kind),
    /// Items of this content type; `type/*` matches the whole top-level type.
    Mime(&'static str),
}

/// The `accept` lists ops choose from; a collection's `accept` is an index here.
pub const ACCEPTS: [&[Accept]; 3] = [
    &[Accept::Kind(Kind::Image)],
    &[Accept::Mime("application/pdf")],
    &[Accept::Mime("text/*"), Accept::Kind(Kind::Document)],
];

/// The `accept` list [`ACCEPTS`]`[choice]` as the store takes it.
#[must_use]
pub fn accept_rules(choice: u8) -> Vec<AcceptRule> {
    ACCEPTS[usize::from(choice)]
        .iter()
        .map(|a| match a {
            Accept::Kind(k) => AcceptRule::Kind(*k),
            Accept::Mime(m) => AcceptRule::Mime((*m).to_owned()),
        })
        .collect()
}

/// A registered file.
#[derive(Clone, Debug)]
pub struct MItem {
    /// The store's id of the item.
    pub id: ItemId,
    /// The file's path as registered; `file_name` is its last segment.
    pub path: String,
    /// The last segment of its path: the default display name and unique id.
    pub file_name: String,
    /// The MIME type that `Accept::Mime` rules match.
    pub content_type: String,
    /// The kind that `Accept::Kind` rules match.
    pub kind: Kind,
}

impl MItem {
    /// A file at `path` with the store's `id`.
    #[must_use]
    pub fn new(id: ItemId, path: &str, content_type: &str, kind: Kind) -> Self {
        Self {
            id,
            path: path.to_owned(),
            file_name: path.rsplit('/').next().unwrap_or(path).to_owned(),
            content_type: content_type.to_owned(),
            kind,
        }
    }

    /// Whether one `accept` rule admits the item.
    #[must_use]
    pub fn passes(&self, rule: Accept) -> bool {
        match rule {
            Accept::Kind(k) => self.kind == k,
            Accept::Mime(pattern) => match pattern.strip_suffix("/*") {
                Some(top) => self.content_type.split('/').next() == Some(top),
                None => self.content_type == pattern,
            },
        }
    }
}

/// An entry: live or soft-deleted, with its order key and the stamp of its last change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MEntry {
    /// Which entry this is: kept by revivals and undo, new for every other add (the
    /// store's `ent_` id).
    pub serial: u64,
    /// Live, or soft-deleted.
    pub live: bool,
    /// The store's `unique_id`: free among the collection's live entries.
    pub unique_id: String,
    /// The store's `display_name`; on an add, the one asked for, else the one a move or revival
    /// carries, else the file name.
    pub display_name: String,
    /// Its order key: only the order of these keys means anything.
    pub pos: i64,
    /// The tick of the write that created it (`created_at`).
    pub created: u64,
    /// The tick of the write that last changed it (`updated_at`): what undo compares.
    pub stamp: u64,
}

/// A collection other than `default` (which is a view: [`Model::unfiled`]).
#[derive(Clone, Debug)]
pub struct MCollection {
    /// Read-only for membership.
    pub archived: bool,
    /// In the trash.
    pub trashed: bool,
    /// Its `accept` list, an index into [`ACCEPTS`]; `None` accepts everything.
    pub accept: Option<u8>,
    /// Which life of this slug: a purged and re-created collection is another collection.
    /// It counts every creation from 1 and is never given again, so it is also the
    /// collection's `number` (SPEC §1).
    pub incarnation: u64,
    /// By item index.
    pub entries: BTreeMap<usize, MEntry>,
}

impl MCollection {
    /// Whether the item has a live entry here.
    #[must_use]
    pub fn is_live(&self, item: usize) -> bool {
        self.entries.get(&item).is_some_and(|e| e.live)
    }

    /// Every entry, live or not, in listing order.
    #[must_use]
    pub fn in_order(&self) -> Vec<(usize, &MEntry)> {
        let mut all: Vec<_> = self.entries.iter().map(|(i, e)| (*i, e)).collect();
        all.sort_by_key(|(_, e)| e.pos);
        all
    }

    /// The live entries in listing order.
    #[must_use]
    pub fn live_in_order(&self) -> Vec<(usize, &MEntry)> {
        let mut all = self.in_order();
        all.retain(|(_, e)| e.live);
        all
    }

    /// Whether the collection's `accept` list admits the item.
    #[must_use]
    pub fn accepts(&self, item: &MItem) -> bool {
        self.accept
            .is_none_or(|a| ACCEPTS[usize::from(a)].iter().any(|r| item.passes(*r)))
    }
}

/// Everything a write changes; cloned per write and kept only if the write succeeds.
#[derive(Clone, Debug, Default)]
pub struct MState {
    /// Every collection, trashed or not.
    pub collections: BTreeMap<CollectionId, MCollection>,
    /// Advanced by every write: the stamp it gives what it changes.
    pub tick: u64,
    /// Collections created so far: the next one's incarnation.
    pub incarnations: u64,
    /// Entries created so far: the next one's serial.
    pub serials: u64,
}

/// What an undoable op changed: the entry before, and its stamp right after (`None`:
/// absent after).
#[derive(Clone, Debug)]
pub struct Touch {
    /// The collection the entry is in, by slug; `incarnation` tells which life of it.
    pub collection: CollectionId,
    /// Which life of it.
    pub incarnation: u64,
    /// The entry's item, as an index into [`Model::items`].
    pub item: usize,
    /// The entry before the op.
    pub before: Option<MEntry>,
    /// Its stamp right after the op.
    pub after_stamp: Option<u64>,
}

/// A logged op: what it touched, and whether it was undone.
#[derive(Clone, Debug)]
pub struct MOp {
    /// What it changed, in order.
    pub touched: Vec<Touch>,
    /// Undone by a later op.
    pub undone: bool,
}

/// An event as the model predicts it: kind, collection, item index.
pub type MEvent = (EventKind, Option<CollectionId>, Option<usize>);

/// The side effects of one write, beside the state.
#[derive(Debug, Default)]
pub struct Tx {
    /// The entries it changed, for undo.
    pub touched: Vec<Touch>,
    /// The events it appends to the feed, in order.
    pub events: Vec<MEvent>,
    /// Whether it is a logged (undoable) op.
    pub logs_op: bool,
    /// The op it undoes.
    pub undoes: Option<usize>,
}

/// What a successful write answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A batch add or move: its summary and its items counted by kind.
    Batch(BatchSummary, BTreeMap<Kind, u64>),
    /// A remove's summary.
    Removed(RemoveSummary),
    /// How many entries a reorder placed.
    Reordered(u64),
    /// The entry a single add or a patch left.
    Entry {
        /// The `unique_id` the add or patch left the entry with.
        unique_id: String,
        /// The `display_name` the add or patch left the entry with.
        display_name: String,
    },
    /// A collection created, patched, trashed or restored.
    Collection,
    /// A collection purged.
    Purged,
    /// An undo.
    Undone {
        /// The undone op's index in [`Model::ops`].
        of: usize,
        /// How many entries it restored.
        restored: u64,
    },
}

/// A refusal as the model predicts it; `ids`, when given, are the offending ids the store
/// must name (compared as a set).
#[derive(Clone, Debug)]
pub struct Refused {
    /// The SPEC's code.
    pub code: ErrorCode,
    /// The offending ids, where the SPEC names them.
    pub ids: Option<Vec<String>>,
}

impl Refused {
    /// A refusal checked by its code only.
    #[must_use]
    pub fn code(code: ErrorCode) -> Self {
        Self { code, ids: None }
    }

    /// A refusal naming `ids`.
    #[must_use]
    pub fn ids(code: ErrorCode, ids: Vec<String>) -> Self {
        Self {
            code,
            ids: Some(ids),
        }
    }
}

/// A write's answer or refusal.
pub type MResult = Result<Answer, Refused>;

/// A reference in a batch: the item it names (`None`: nothing), its text, its fields.
#[derive(Clone, Debug)]
pub struct MRef {
    /// The item, or `None` for a reference to nothing.
    pub item: Option<usize>,
    /// The reference as sent, as a refusal names it.
    pub shown: String,
    /// The display name asked for.
    pub display_name: Option<String>,
    /// The unique id asked for.
    pub unique_id: Option<String>,
}

/// The items of a batch: listed, or selected.
#[derive(Clone, Debug)]
pub enum MItems {
    /// These references.
    Refs(Vec<MRef>),
    /// Every live item of `source` (of this kind).
    Select {
        /// The collection selected from.
        source: CollectionId,
        /// Only items of this kind.
        kind: Option<Kind>,
    },
}

/// A batch add or move (`POST /v1/collections/{cid}/items`).
#[derive(Clone, Debug)]
pub struct MBatch {
    /// The collection added to.
    pub target: CollectionId,
    /// What to add: references, or a selection of another collection's live items.
    pub items: MItems,
    /// Link or move.
    pub mode: Mode,
    /// Where a move takes from.
    pub from: Option<CollectionId>,
    /// Create the target if it does not exist.
    pub create: bool,
}

/// The store as the SPEC describes it: items, collections with their entries, and the op
/// log. Every write goes through [`Model::write`].
#[derive(Clone, Debug)]
pub struct Model {
    /// The registered files, in registration order; an item is named by its index here
    /// (and its `number` is [`Model::item_number`]).
    pub items: Vec<MItem>,
    /// The state after the last successful write.
    pub state: MState,
    /// Every logged op, oldest first.
    pub ops: Vec<MOp>,
    /// How many of the newest ops can still be undone.
    pub op_retention: usize,
}

impl Model {
    /// The `number` (SPEC §1) of the item at `index`: items are numbered from 1 in the order
    /// they were registered, and the model registers nothing after its start.
    #[must_use]
    pub fn item_number(index: usize) -> u64 {
        index as u64 + 1
    }
}

fn validation() -> Refused {
    Refused::code(ErrorCode::ValidationError)
}

/// A collection that exists and is out of the trash.
fn existing<'a>(s: &'a MState, id: &CollectionId) -> Result<&'a MCollection, Refused> {
    match s.collections.get(id) {
        None => Err(Refused::code(ErrorCode::CollectionNotFound)),
        Some(c) if c.trashed => Err(Refused::code(ErrorCode::CollectionTrashed)),
        Some(c) => Ok(c),
    }
}

/// A collection whose membership may change.
fn writable<'a>(s: &'a MState, id: &CollectionId) -> Result<&'a MCollection, Refused> {
    let c = existing(s, id)?;
    if c.archived {
        return Err(Refused::ids(
            ErrorCode::CollectionArchived,
            vec![id.to_string()],
        ));
    }
    Ok(c)
}

/// Refs resolved to items, de-duplicated (first mention wins), or `ITEMS_NOT_FOUND`.
fn resolve(refs: &[MRef]) -> Result<Vec<(usize, &MRef)>, Refused> {
    let missing: Vec<String> = refs
        .iter()
        .filter(|r| r.item.is_none())
        .map(|r| r.shown.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Refused::ids(ErrorCode::ItemsNotFound, missing));
    }
    let mut out: Vec<(usize, &MRef)> = Vec::new();
    for r in refs {
        let i = r.item.unwrap();
        if !out.iter().any(|(j, _)| *j == i) {
            out.push((i, r));
        }
    }
    Ok(out)
}

/// A `PATCH /v1/collections/{cid}` of one field.
#[derive(Clone, Copy, Debug)]
pub enum Patch {
    Archived(bool),
    Accept(Option<u8>),
}

impl Model {
    /// A model of a store that knows `items` and nothing else, keeping `op_retention`
    /// ops for undo.
    #[must_use]
    pub fn new(items: Vec<MItem>, op_retention: usize) -> Self {
        Self {
            items,
            state: MState::default(),
            ops: Vec::new(),
            op_retention,
        }
    }

    /// Runs one write on a copy of the state; keeps it, and logs the op, only on success.
    pub fn write(
        &mut self,
        f: impl FnOnce(&Self, &mut MState, &mut Tx) -> MResult,
    ) -> Result<(Answer, Vec<MEvent>, bool), Refused> {
        let mut next = self.state.clone();
        next.tick += 1;
        let mut tx = Tx::default();
        let answer = f(self, &mut next, &mut tx)?;
        self.state = next;
        if let Some(k) = tx.undoes {
            self.ops[k].undone = true;
        }
        if tx.logs_op {
            self.ops.push(MOp {
                touched: tx.touched,
                undone: false,
            });
        }
        self.check_invariants();
        Ok((answer, tx.events, tx.logs_op))
    }

    /// The model's own sanity: positions unique per collection, live unique ids unique.
    pub fn check_invariants(&self) {
        for (id, c) in &self.state.collections {
            let positions: BTreeSet<i64> = c.entries.values().map(|e| e.pos).collect();
            assert_eq!(positions.len(), c.entries.len(), "model: positions in {id}");
            let live: Vec<_> = c.entries.values().filter(|e| e.live).collect();
            let uids: BTreeSet<&str> = live.iter().map(|e| e.unique_id.as_str()).collect();
            assert_eq!(uids.len(), live.len(), "model: unique ids in {id}");
        }
    }

    /// Items in no live collection out of the trash, in id order.
    #[must_use]
    pub fn unfiled(&self) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.items.len())
            .filter(|i| self.state.live_in(*i).is_empty())
            .collect();
        out.sort_by_key(|i| self.items[*i].id.ulid());
        out
    }

    #[must_use]
    pub fn select(&self, s: &MState, source: &CollectionId, kind: Option<Kind>) -> Vec<usize> {
        let ids: Vec<usize> = if source.is_default() {
            self.unfiled()
        } else {
            s.collections[source]
                .live_in_order()
                .into_iter()
                .map(|(i, _)| i)
                .collect()
        };
        ids.into_iter()
            .filter(|i| kind.is_none_or(|k| self.items[*i].kind == k))
            .collect()
    }
}
