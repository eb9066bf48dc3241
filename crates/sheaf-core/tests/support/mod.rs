//! An in-memory reference state for the rules: plain maps that follow the `StateView`
//! contract to the letter, `apply` doing with a plan what the store does, a counter id
//! source and a clock that moves forward on every operation, as the real store's does.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use sheaf_core::rules::{self, BatchAdd, CollectionUpdate, Mode, NewCollection};
use sheaf_core::{
    BatchSummary, Change, Collection, CollectionId, Ctx, Entry, EntryFilter, EntrySource,
    FileFacts, IdSource, Item, ItemId, Kind, Limits, OpId, OpRecord, Outcome, Plan, PlanError,
    Refusal, StateView, Timestamp, Watch, WatchId, content_type_for,
};
use ulid::Ulid;

/// The whole state, as plain maps.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Mem {
    /// Stored collections (never `default`); `item_count` is recomputed on read.
    pub(crate) collections: BTreeMap<CollectionId, Collection>,
    /// Items by ULID.
    pub(crate) items: BTreeMap<Ulid, Item>,
    /// Entries by (collection, item ULID), live or soft-deleted.
    pub(crate) entries: BTreeMap<(CollectionId, Ulid), Entry>,
    /// The op log.
    pub(crate) ops: BTreeMap<OpId, OpRecord>,
    /// Folder watches.
    pub(crate) watches: BTreeMap<WatchId, Watch>,
}

impl Mem {
    fn entries_of<'a>(&'a self, collection: &'a CollectionId) -> impl Iterator<Item = &'a Entry> {
        self.entries
            .iter()
            .filter(move |((c, _), _)| c == collection)
            .map(|(_, e)| e)
    }

    fn live_count(&self, collection: &CollectionId) -> u64 {
        self.entries_of(collection).filter(|e| e.is_live()).count() as u64
    }

    /// In no collection outside the trash.
    fn is_unfiled(&self, item: Ulid) -> bool {
        !self.entries.iter().any(|((c, i), e)| {
            *i == item
                && e.is_live()
                && self
                    .collections
                    .get(c)
                    .is_some_and(|c| c.trashed_at.is_none())
        })
    }

    fn unfiled(&self) -> impl Iterator<Item = &Item> {
        self.items.values().filter(|i| self.is_unfiled(i.id.ulid()))
    }

    /// Applies a plan as the store does in one transaction, checking that every `before`
    /// is what the state holds (the planner read it from this very state).
    pub(crate) fn apply(&mut self, plan: &Plan) {
        for change in &plan.changes {
            match change {
                Change::Collection { before, after } => {
                    let id = after.as_ref().or(before.as_ref()).map(|c| c.id.clone());
                    let id = id.expect("a collection change names a collection");
                    assert_eq!(
                        &self.view_collection(&id),
                        before,
                        "stale collection before"
                    );
                    if let Some(c) = after {
                        self.collections.insert(id, c.clone());
                    } else {
                        self.collections.remove(&id);
                        self.entries.retain(|(c, _), _| *c != id);
                    }
                }
                Change::Item { before, after } => {
                    let id = after.as_ref().or(before.as_ref()).map(|i| i.id.ulid());
                    let id = id.expect("an item change names an item");
                    assert_eq!(self.items.get(&id), before.as_ref(), "stale item before");
                    if let Some(i) = after {
                        self.items.insert(id, i.clone());
                    } else {
                        self.items.remove(&id);
                    }
                }
                Change::Entry { before, after } => {
                    let any = after.as_ref().or(before.as_ref());
                    let any = any.expect("an entry change names an entry");
                    let key = (any.collection_id.clone(), any.item_id.ulid());
                    assert_eq!(
                        self.entries.get(&key),
                        before.as_ref(),
                        "stale entry before"
                    );
                    if let Some(e) = after {
                        self.entries.insert(key, e.clone());
                    } else {
                        self.entries.remove(&key);
                    }
                }
                Change::Watch { before, after } => {
                    let any = after.as_ref().or(before.as_ref());
                    let id = any.expect("a watch change names a watch").id;
                    assert_eq!(self.watches.get(&id), before.as_ref(), "stale watch before");
                    if let Some(w) = after {
                        self.watches.insert(id, w.clone());
                    } else {
                        self.watches.remove(&id);
                    }
                }
            }
        }
        if let Some(op) = &plan.op {
            self.ops.insert(op.id, op.clone());
        }
        if let Some(undone) = plan.undoes {
            let by = plan.op.as_ref().map(|o| o.id);
            self.ops
                .get_mut(&undone)
                .expect("the undone op is logged")
                .undone_by = by;
        }
        self.check_invariants();
    }

    /// What the store's indexes guarantee: a live `unique_id` is held once per collection,
    /// and no two entries of a collection share a `sort_order`.
    fn check_invariants(&self) {
        let mut paths = BTreeSet::new();
        for item in self.items.values() {
            if let Some(path) = &item.path {
                assert!(paths.insert(path.clone()), "two items at {path}");
            }
        }
        for watch in self.watches.values() {
            let bound = self.collections.get(&watch.collection_id);
            assert!(
                bound.is_some_and(|c| c.folders.contains(&watch.id)),
                "watch {} is not in its collection's folders",
                watch.id
            );
        }
        for c in self.collections.keys() {
            let mut uids = BTreeSet::new();
            let mut sorts = BTreeSet::new();
            for e in self.entries_of(c) {
                assert!(
                    !e.is_live() || uids.insert(e.unique_id.clone()),
                    "unique_id {:?} held twice in {c}",
                    e.unique_id
                );
                assert!(
                    sorts.insert(e.sort_order),
                    "sort_order {} held twice in {c}",
                    e.sort_order
                );
            }
        }
    }

    fn view_collection(&self, id: &CollectionId) -> Option<Collection> {
        if id.is_default() {
            return Some(Collection::default_view(self.unfiled().count() as u64));
        }
        self.collections.get(id).cloned().map(|mut c| {
            c.item_count = self.live_count(id);
            c
        })
    }
}

impl StateView for Mem {
    type Error = Infallible;

    fn collection(&self, id: &CollectionId) -> Result<Option<Collection>, Infallible> {
        Ok(self.view_collection(id))
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>, Infallible> {
        Ok(self.items.get(&id.ulid()).cloned())
    }

    fn same_content(&self, hash: &str) -> Result<Vec<Item>, Infallible> {
        Ok(self
            .items
            .values()
            .filter(|i| i.content_hash.as_deref() == Some(hash))
            .cloned()
            .collect())
    }

    fn items_after(&self, after: Option<ItemId>, limit: usize) -> Result<Vec<Item>, Infallible> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, |a| Excluded(a.ulid()));
        Ok(self
            .items
            .range((from, Unbounded))
            .take(limit)
            .map(|(_, i)| i.clone())
            .collect())
    }

    fn item_by_path(&self, path: &str) -> Result<Option<Item>, Infallible> {
        let current = self
            .items
            .values()
            .find(|i| i.path.as_deref() == Some(path));
        // A gone file is found at its last path, the most recently deleted first.
        let gone = || {
            self.items
                .values()
                .filter(|i| i.deleted_at.is_some() && i.last_path.as_deref() == Some(path))
                .max_by_key(|i| (i.deleted_at, i.id))
        };
        Ok(current.or_else(gone).cloned())
    }

    fn entry(&self, collection: &CollectionId, item: ItemId) -> Result<Option<Entry>, Infallible> {
        Ok(self
            .entries
            .get(&(collection.clone(), item.ulid()))
            .cloned())
    }

    fn live_collections(&self, item: ItemId) -> Result<Vec<CollectionId>, Infallible> {
        let set: BTreeSet<CollectionId> = self
            .entries
            .iter()
            .filter(|((_, i), e)| *i == item.ulid() && e.is_live())
            .map(|((c, _), _)| c.clone())
            .collect();
        Ok(set.into_iter().collect())
    }

    fn unique_id_holder(
        &self,
        collection: &CollectionId,
        unique_id: &str,
    ) -> Result<Option<ItemId>, Infallible> {
        Ok(self
            .entries_of(collection)
            .find(|e| e.is_live() && e.unique_id == unique_id)
            .map(|e| e.item_id))
    }

    fn sort_bounds(&self, collection: &CollectionId) -> Result<Option<(i64, i64)>, Infallible> {
        let sorts = || self.entries_of(collection).map(|e| e.sort_order);
        Ok(sorts().min().zip(sorts().max()))
    }

    fn sort_neighbour(
        &self,
        collection: &CollectionId,
        sort: i64,
        below: bool,
    ) -> Result<Option<i64>, Infallible> {
        let sorts = self.entries_of(collection).map(|e| e.sort_order);
        Ok(if below {
            sorts.filter(|s| *s < sort).max()
        } else {
            sorts.filter(|s| *s > sort).min()
        })
    }

    fn all_positions(&self, collection: &CollectionId) -> Result<Vec<(i64, ItemId)>, Infallible> {
        let mut all: Vec<(i64, ItemId)> = self
            .entries_of(collection)
            .map(|e| (e.sort_order, e.item_id))
            .collect();
        all.sort();
        Ok(all)
    }

    fn select(
        &self,
        collection: &CollectionId,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<ItemId>, Infallible> {
        if collection.is_default() {
            return Ok(self
                .unfiled()
                .filter(|i| filter.matches(None, i))
                .take(limit)
                .map(|i| i.id)
                .collect());
        }
        let mut hits: Vec<&Entry> = self
            .entries_of(collection)
            .filter(|e| e.is_live())
            .filter(|e| filter.matches(Some(e), &self.items[&e.item_id.ulid()]))
            .collect();
        hits.sort_by_key(|e| (e.sort_order, e.item_id));
        Ok(hits.into_iter().take(limit).map(|e| e.item_id).collect())
    }

    fn op(&self, id: OpId) -> Result<Option<OpRecord>, Infallible> {
        Ok(self.ops.get(&id).cloned())
    }

    fn watches(&self) -> Result<Vec<Watch>, Infallible> {
        Ok(self.watches.values().cloned().collect())
    }

    fn folder_entries(
        &self,
        collection: &CollectionId,
        watch: WatchId,
    ) -> Result<Vec<Entry>, Infallible> {
        let mut found: Vec<Entry> = self
            .entries_of(collection)
            .filter(|e| e.source == EntrySource::Folder(watch))
            .cloned()
            .collect();
        found.sort_by_key(|e| e.sort_order);
        Ok(found)
    }
}

/// Fresh ULIDs from a counter, all in one millisecond, so they sort in the order given.
#[derive(Debug)]
struct Counter(u128);

impl IdSource for Counter {
    fn next_ulid(&mut self) -> Ulid {
        self.0 += 1;
        Ulid::from_parts(1_704_067_200_000, self.0)
    }
}

/// The outcome of planning against a [`Mem`].
pub(crate) type Planned = Result<Plan, PlanError<Infallible>>;

/// A state with its clock, id source and limits.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) state: Mem,
    ids: Counter,
    clock: i64,
    pub(crate) limits: Limits,
    /// The home a leading `~` of a query's path globs stands for.
    pub(crate) home: Option<String>,
}

/// 2024-01-01T00:00:00Z.
const START_MICROS: i64 = 1_704_067_200_000_000;

impl World {
    pub(crate) fn new() -> Self {
        Self {
            state: Mem::default(),
            ids: Counter(0),
            clock: START_MICROS,
            limits: Limits::default(),
            home: None,
        }
    }

    /// Plans against the current state at a strictly later `now` than any before.
    pub(crate) fn plan(&mut self, f: impl FnOnce(&Mem, &mut Ctx<'_>) -> Planned) -> Planned {
        self.clock += 1_000_000;
        let mut ctx = Ctx {
            now: Timestamp::from_micros(self.clock),
            ids: &mut self.ids,
            limits: self.limits,
            home: self.home.as_deref(),
        };
        f(&self.state, &mut ctx)
    }

    /// Plans, expects success, applies.
    #[track_caller]
    pub(crate) fn commit(&mut self, f: impl FnOnce(&Mem, &mut Ctx<'_>) -> Planned) -> Plan {
        let plan = match self.plan(f) {
            Ok(plan) => plan,
            Err(PlanError::Refused(r)) => panic!("unexpected refusal: {r}"),
            Err(PlanError::View(e)) => match e {},
        };
        self.state.apply(&plan);
        plan
    }

    /// Plans, expects a refusal, and checks that planning changed nothing.
    #[track_caller]
    pub(crate) fn refuse(&mut self, f: impl FnOnce(&Mem, &mut Ctx<'_>) -> Planned) -> Refusal {
        let before = self.state.clone();
        let refusal = match self.plan(f) {
            Ok(plan) => panic!("expected a refusal, got {:?}", plan.outcome),
            Err(PlanError::Refused(r)) => r,
            Err(PlanError::View(e)) => match e {},
        };
        assert_eq!(self.state, before, "a refused plan changed the state");
        refusal
    }

    /// The time the next operation will be stamped with.
    pub(crate) fn next_now(&self) -> Timestamp {
        Timestamp::from_micros(self.clock + 1_000_000)
    }

    // --- set-up through the rules ---

    pub(crate) fn create(&mut self, id: &str) {
        self.create_with(&NewCollection {
            id: Some(cid(id)),
            ..NewCollection::default()
        });
    }

    pub(crate) fn create_with(&mut self, req: &NewCollection) {
        self.commit(|v, c| rules::plan_create_collection(v, c, req));
    }

    pub(crate) fn archive(&mut self, id: &str) {
        let req = CollectionUpdate {
            archived: Some(true),
            ..CollectionUpdate::default()
        };
        self.commit(|v, c| rules::plan_update_collection(v, c, &cid(id), &req));
    }

    pub(crate) fn trash(&mut self, id: &str) {
        self.commit(|v, c| rules::plan_trash_collection(v, c, &cid(id)));
    }

    /// Registers files; the content type comes from the extension, as when sniffing finds
    /// nothing.
    pub(crate) fn register(&mut self, paths: &[&str]) -> Vec<ItemId> {
        let files: Vec<FileFacts> = paths.iter().map(|p| facts(p)).collect();
        let plan = self.commit(|v, c| rules::plan_register(v, c, &files));
        match plan.outcome {
            Outcome::Items(ids) => ids,
            other => panic!("register answered {other:?}"),
        }
    }

    pub(crate) fn batch(&mut self, req: &BatchAdd) -> Plan {
        self.commit(|v, c| rules::plan_batch_add(v, c, req))
    }

    pub(crate) fn link(&mut self, collection: &str, items: &[ItemId]) -> Plan {
        self.batch(&link(collection, items))
    }

    // --- state the rules cannot make: what the watcher would do ---

    /// The file disappeared: the item is soft-deleted, its path cleared.
    pub(crate) fn file_gone(&mut self, item: ItemId) {
        let now = self.next_now();
        self.clock += 1_000_000;
        let it = self.state.items.get_mut(&item.ulid()).expect("known item");
        it.path = None;
        it.deleted_at = Some(now);
        it.updated_at = now;
    }

    /// Binds a watch to a collection.
    pub(crate) fn bind_folder(&mut self, collection: &str, watch: WatchId) {
        self.state
            .collections
            .get_mut(&cid(collection))
            .expect("known collection")
            .folders
            .push(watch);
    }

    /// A live entry owned by a folder watch, as a watch's reconcile would create it.
    pub(crate) fn put_folder_entry(&mut self, collection: &str, item: ItemId, watch: WatchId) {
        self.clock += 1_000_000;
        let now = Timestamp::from_micros(self.clock);
        let c = cid(collection);
        let sort = self
            .state
            .sort_bounds(&c)
            .unwrap_or_else(|e| match e {})
            .map_or(0, |(_, max)| max)
            + rules::SORT_GAP;
        let name = self.state.items[&item.ulid()].original_filename.clone();
        let entry = Entry {
            id: sheaf_core::EntryId::from_ulid(self.ids.next_ulid()),
            collection_id: c.clone(),
            item_id: item,
            display_name: name.clone(),
            unique_id: name,
            metadata: sheaf_core::Metadata::new(),
            sort_order: sort,
            source: EntrySource::Folder(watch),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        self.state.entries.insert((c, item.ulid()), entry);
    }

    pub(crate) fn watch_id(&mut self) -> WatchId {
        WatchId::from_ulid(self.ids.next_ulid())
    }

    /// A stored watch of `root` bound to `collection`, as `POST /v1/watches` makes one.
    pub(crate) fn watch_folder(&mut self, collection: &str, root: &str) -> WatchId {
        let id = self.watch_id();
        let now = Timestamp::from_micros(self.clock);
        self.state.watches.insert(
            id,
            Watch {
                id,
                path: root.to_owned(),
                collection_id: cid(collection),
                recursive: true,
                include: Vec::new(),
                exclude: Vec::new(),
                poll_ms: None,
                from_config: false,
                created_at: now,
                updated_at: now,
            },
        );
        self.bind_folder(collection, id);
        id
    }

    // --- reading back ---

    pub(crate) fn entry(&self, collection: &str, item: ItemId) -> Option<Entry> {
        self.state
            .entries
            .get(&(cid(collection), item.ulid()))
            .cloned()
    }

    #[track_caller]
    pub(crate) fn live_entry(&self, collection: &str, item: ItemId) -> Entry {
        self.entry(collection, item)
            .filter(Entry::is_live)
            .unwrap_or_else(|| panic!("{item} is not live in {collection}"))
    }

    /// The live members of a collection in position order.
    pub(crate) fn members(&self, collection: &str) -> Vec<ItemId> {
        let c = cid(collection);
        let mut live: Vec<&Entry> = self.state.entries_of(&c).filter(|e| e.is_live()).collect();
        live.sort_by_key(|e| e.sort_order);
        live.into_iter().map(|e| e.item_id).collect()
    }

    /// The unfiled items, as `default` lists them.
    pub(crate) fn unfiled(&self) -> Vec<ItemId> {
        self.state
            .select(
                &CollectionId::default_collection(),
                &EntryFilter::default(),
                usize::MAX,
            )
            .unwrap_or_else(|e| match e {})
    }

    /// A collection's `item_count` as the view answers it.
    pub(crate) fn count(&self, collection: &str) -> u64 {
        self.state
            .view_collection(&cid(collection))
            .expect("known collection")
            .item_count
    }

    /// Every entry with its change stamp blanked: what a user can see of membership.
    pub(crate) fn visible(&self) -> BTreeMap<(CollectionId, Ulid), Entry> {
        self.state
            .entries
            .iter()
            .map(|(k, e)| {
                let mut e = e.clone();
                e.updated_at = Timestamp::EPOCH;
                (k.clone(), e)
            })
            .collect()
    }

    pub(crate) fn item(&self, id: ItemId) -> Item {
        self.state.items[&id.ulid()].clone()
    }
}

// --- requests ---

pub(crate) fn cid(id: &str) -> CollectionId {
    CollectionId::parse(id).expect("a valid slug")
}

pub(crate) fn facts(path: &str) -> FileFacts {
    let name = path.rsplit('/').next().unwrap_or(path);
    FileFacts {
        path: path.to_owned(),
        size: 1000 + path.len() as u64,
        mtime: Timestamp::from_micros(START_MICROS - 86_400_000_000),
        content_type: content_type_for(b"", name),
        file_id: None,
    }
}

pub(crate) fn link(collection: &str, items: &[ItemId]) -> BatchAdd {
    BatchAdd::link(cid(collection), items.iter().copied())
}

pub(crate) fn move_to(collection: &str, items: &[ItemId], from: Option<&str>) -> BatchAdd {
    BatchAdd {
        mode: Mode::Move,
        from: from.map(cid),
        ..link(collection, items)
    }
}

/// The counts of a batch outcome.
pub(crate) fn counts(total: u64, added: u64, moved: u64, already: u64) -> BatchSummary {
    BatchSummary {
        total,
        succeeded: total,
        failed: 0,
        added,
        moved,
        already_in_collection: already,
    }
}

/// The summary and kinds of a batch plan.
#[track_caller]
pub(crate) fn batch_outcome(plan: &Plan) -> (BatchSummary, BTreeMap<Kind, u64>) {
    match &plan.outcome {
        Outcome::Batch {
            summary,
            items_by_type,
            ..
        } => (summary.clone(), items_by_type.clone()),
        other => panic!("not a batch outcome: {other:?}"),
    }
}

#[track_caller]
pub(crate) fn op_of(plan: &Plan) -> OpId {
    plan.op.as_ref().expect("the plan logs an op").id
}
