//! The scratch overlay a group of folder changes is planned through: what the group has
//! changed so far on top of the view, one record per item and entry, turned into one change
//! per record at the end.

use std::collections::{BTreeMap, HashMap, HashSet};

use ulid::Ulid;

use crate::change::Change;
use crate::id::{CollectionId, ItemId, WatchId};
use crate::model::{Collection, Entry, EntrySource, Item};
use crate::plan::{OrView, SyncSummary};
use crate::rules::{Appender, PlanResult, UniqueIds};
use crate::view::StateView;

use super::Owner;

/// A record's state when first read and as the group has left it.
#[derive(Debug)]
struct Slot<T> {
    before: Option<T>,
    now: T,
}

/// The state as the group has changed it so far, on top of the view.
pub(super) struct Scratch<'v, V: StateView + ?Sized> {
    view: &'v V,
    items: HashMap<Ulid, Slot<Item>>,
    item_order: Vec<Ulid>,
    /// Paths whose holder the group changed: the item whose `path` (or, gone, `last_path`)
    /// it is now; `None` when nobody holds it any more.
    paths: HashMap<String, Option<Ulid>>,
    entries: HashMap<(CollectionId, Ulid), Slot<Entry>>,
    entry_order: Vec<(CollectionId, Ulid)>,
    /// The collections where the group changed each item's entries.
    touched: HashMap<Ulid, HashSet<CollectionId>>,
    collections: HashMap<CollectionId, Option<Collection>>,
    uniques: HashMap<CollectionId, UniqueIds>,
    appenders: HashMap<CollectionId, Appender>,
    pub(super) summary: SyncSummary,
}

impl<'v, V: StateView + ?Sized> Scratch<'v, V> {
    /// A scratch for a group of `changes` changes (most touch one item and one entry).
    pub(super) fn new(view: &'v V, changes: usize) -> Self {
        Self {
            view,
            items: HashMap::with_capacity(changes),
            item_order: Vec::with_capacity(changes),
            paths: HashMap::with_capacity(changes),
            entries: HashMap::with_capacity(changes),
            entry_order: Vec::with_capacity(changes),
            touched: HashMap::with_capacity(changes),
            collections: HashMap::new(),
            uniques: HashMap::new(),
            appenders: HashMap::new(),
            summary: SyncSummary::default(),
        }
    }

    pub(super) fn item(&self, id: ItemId) -> PlanResult<Option<Item>, V> {
        if let Some(slot) = self.items.get(&id.ulid()) {
            return Ok(Some(slot.now.clone()));
        }
        self.view.item(id).or_view()
    }

    /// The item whose path (or, if gone, last path) is `path`, as the group left it.
    pub(super) fn holder(&self, path: &str) -> PlanResult<Option<Item>, V> {
        if let Some(held) = self.paths.get(path) {
            return Ok(held.map(|u| self.items[&u].now.clone()));
        }
        let Some(stored) = self.view.item_by_path(path).or_view()? else {
            return Ok(None);
        };
        let Some(slot) = self.items.get(&stored.id.ulid()) else {
            return Ok(Some(stored));
        };
        // The group moved the stored holder away (else `paths` would name it).
        Ok((path_key(&slot.now) == Some(path)).then(|| slot.now.clone()))
    }

    pub(super) fn set_item(&mut self, before: Option<&Item>, after: Item) {
        let ulid = after.id.ulid();
        if let Some(old) = before.and_then(path_key)
            && path_key(&after) != Some(old)
        {
            let still_ours = match self.paths.get(old) {
                Some(held) => *held == Some(ulid),
                None => true,
            };
            if still_ours {
                self.paths.insert(old.to_owned(), None);
            }
        }
        if let Some(key) = path_key(&after) {
            self.paths.insert(key.to_owned(), Some(ulid));
        }
        if let Some(slot) = self.items.get_mut(&ulid) {
            slot.now = after;
        } else {
            self.item_order.push(ulid);
            self.items.insert(
                ulid,
                Slot {
                    before: before.cloned(),
                    now: after,
                },
            );
        }
    }

    pub(super) fn entry(
        &self,
        collection: &CollectionId,
        item: ItemId,
    ) -> PlanResult<Option<Entry>, V> {
        if let Some(slot) = self.entries.get(&(collection.clone(), item.ulid())) {
            return Ok(Some(slot.now.clone()));
        }
        self.view.entry(collection, item).or_view()
    }

    pub(super) fn set_entry(&mut self, before: Option<&Entry>, after: Entry) {
        let key = (after.collection_id.clone(), after.item_id.ulid());
        if let Some(old) = before.filter(|b| b.is_live())
            && (!after.is_live() || old.unique_id != after.unique_id)
        {
            self.release_unique(&after.collection_id, &old.unique_id, after.item_id);
        }
        if after.is_live() {
            self.uniques
                .entry(after.collection_id.clone())
                .or_default()
                .claim(after.unique_id.clone(), after.item_id);
        }
        self.touched.entry(key.1).or_default().insert(key.0.clone());
        if let Some(slot) = self.entries.get_mut(&key) {
            slot.now = after;
        } else {
            self.entry_order.push(key.clone());
            self.entries.insert(
                key,
                Slot {
                    before: before.cloned(),
                    now: after,
                },
            );
        }
    }

    /// The collections where the item is live now, sorted.
    pub(super) fn live_collections(&self, item: ItemId) -> PlanResult<Vec<CollectionId>, V> {
        // An item this group created has no entries in the store to look up.
        let created = self
            .items
            .get(&item.ulid())
            .is_some_and(|slot| slot.before.is_none());
        let mut live: Vec<CollectionId> = if created {
            Vec::new()
        } else {
            self.view.live_collections(item).or_view()?
        };
        if let Some(touched) = self.touched.get(&item.ulid()) {
            for c in touched {
                let is_live = self.entries[&(c.clone(), item.ulid())].now.is_live();
                match (live.contains(c), is_live) {
                    (false, true) => live.push(c.clone()),
                    (true, false) => live.retain(|l| l != c),
                    _ => {}
                }
            }
            live.sort();
        }
        Ok(live)
    }

    pub(super) fn collection(&mut self, id: &CollectionId) -> PlanResult<Option<Collection>, V> {
        if let Some(c) = self.collections.get(id) {
            return Ok(c.clone());
        }
        let c = self.view.collection(id).or_view()?;
        self.collections.insert(id.clone(), c.clone());
        Ok(c)
    }

    pub(super) fn choose_unique(
        &mut self,
        collection: &CollectionId,
        item: ItemId,
        default: &str,
    ) -> PlanResult<String, V> {
        let uids = self.uniques.entry(collection.clone()).or_default();
        if let Ok(uid) = uids.choose(self.view, collection, item, None, default)? {
            return Ok(uid);
        }
        // Both the relative path and the item id are taken (by manual entries that chose
        // them): number the item id.
        let uid = format!("{item}.{}", self.summary.entries_added);
        uids.claim(uid.clone(), item);
        Ok(uid)
    }

    /// Frees `unique_id` unless another item of the group has claimed it meanwhile.
    pub(super) fn release_unique(
        &mut self,
        collection: &CollectionId,
        unique_id: &str,
        item: ItemId,
    ) {
        let uids = self.uniques.entry(collection.clone()).or_default();
        if uids
            .claimed
            .get(unique_id)
            .is_none_or(|holder| holder.ulid() == item.ulid())
        {
            uids.release(unique_id);
        }
    }

    /// Frees the unique ids the folder entries of a moving item will give up: those still
    /// equal to its old relative path, and those of watches that no longer cover it.
    pub(super) fn release_departing(&mut self, item: &Item, owners: &[Owner]) -> PlanResult<(), V> {
        let Some(old_path) = item.path.as_deref() else {
            return Ok(());
        };
        for collection in self.live_collections(item.id)? {
            let Some(entry) = self.entry(&collection, item.id)? else {
                continue;
            };
            let EntrySource::Folder(w) = entry.source else {
                continue;
            };
            let gives_up = owners
                .iter()
                .find(|o| o.watch == w)
                .is_none_or(|o| o.relative(old_path) == entry.unique_id);
            if gives_up {
                self.release_unique(&collection, &entry.unique_id, item.id);
            }
        }
        Ok(())
    }

    pub(super) fn append(&mut self, collection: &CollectionId) -> PlanResult<i64, V> {
        if !self.appenders.contains_key(collection) {
            let appender = Appender::new(self.view, collection)?;
            self.appenders.insert(collection.clone(), appender);
        }
        Ok(self.appenders.get_mut(collection).map_or(0, Appender::take))
    }

    /// The net change of each watch's live folder entries.
    pub(super) fn folder_entry_deltas(&self) -> BTreeMap<WatchId, i64> {
        let live_folder = |e: Option<&Entry>| match e {
            Some(e) if e.is_live() => e.source.watch(),
            _ => None,
        };
        let mut deltas = BTreeMap::new();
        for slot in self.entries.values() {
            let (before, after) = (
                live_folder(slot.before.as_ref()),
                live_folder(Some(&slot.now)),
            );
            if before != after {
                if let Some(w) = before {
                    *deltas.entry(w).or_default() -= 1;
                }
                if let Some(w) = after {
                    *deltas.entry(w).or_default() += 1;
                }
            }
        }
        deltas.retain(|_, d: &mut i64| *d != 0);
        deltas
    }

    /// One change per record the group changed (records it changed back are left out).
    pub(super) fn finish(mut self) -> Vec<Change> {
        let mut changes = Vec::with_capacity(self.item_order.len() + self.entry_order.len());
        for ulid in &self.item_order {
            if let Some(slot) = self.items.remove(ulid)
                && slot.before.as_ref() != Some(&slot.now)
            {
                changes.push(Change::Item {
                    before: slot.before,
                    after: Some(slot.now),
                });
            }
        }
        for key in &self.entry_order {
            if let Some(slot) = self.entries.remove(key)
                && slot.before.as_ref() != Some(&slot.now)
            {
                changes.push(Change::Entry {
                    before: slot.before,
                    after: Some(slot.now),
                });
            }
        }
        changes
    }
}

fn path_key(item: &Item) -> Option<&str> {
    item.path.as_deref().or(item.last_path.as_deref())
}
