//! Folder sync (SPEC §3): files seen on disk become items and `folder:<wid>` entries.
//!
//! The daemon turns walks and settled events into [`FolderChange`]s, naming for every file
//! the watches that cover it ([`Owner`]s, filters applied); [`plan_folder_sync`] turns a
//! group of them into one plan. A group may touch the same item or path several times (a
//! rename chain, a file replaced while another moves away), so planning reads through a
//! scratch overlay that holds what the group has changed so far and emits one change per
//! record at the end.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use ulid::Ulid;

use super::item::{new_item, refreshed};
use super::{Appender, PlanResult, UniqueIds};
use crate::change::Change;
use crate::id::{CollectionId, ItemId, WatchId};
use crate::model::{Collection, Entry, EntrySource, FileFacts, Item, file_name};
use crate::plan::{Ctx, OrView, Outcome, Plan, SyncSummary};
use crate::time::Timestamp;
use crate::view::StateView;

/// A watch that covers a file: the file belongs in `collection` as a `folder:<watch>` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The watch.
    pub watch: WatchId,
    /// Its collection.
    pub collection: CollectionId,
    /// Its root; the default `unique_id` is the file's path relative to it.
    pub root: String,
}

impl Owner {
    fn relative<'p>(&self, path: &'p str) -> &'p str {
        path.strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or_else(|| file_name(path))
    }
}

/// What a present file was before, when the daemon knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Was {
    /// The file that was at this path (a rename or a move).
    Path(String),
    /// This item (matched by device, inode, size and mtime after a move nobody saw).
    Item(ItemId),
}

/// One thing the filesystem says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderChange {
    /// A complete file is at `facts.path`: created, changed, moved there, or found by a walk.
    /// `owners` are every watch that covers the path, filters applied (empty: none does).
    Present {
        /// What the file is now.
        facts: FileFacts,
        /// What it was, if known.
        was: Option<Was>,
        /// The watches it belongs to (shared: a walk hands the same few sets to every file).
        owners: Arc<[Owner]>,
    },
    /// The file at `from` was renamed to `to` and has already moved on (or gone) from
    /// there, so its facts at `to` were never seen: the item keeps its facts and takes the
    /// path, so that the rename that follows finds it (a quick rename chain keeps its
    /// item). `owners` are the watches that cover `to`.
    Renamed {
        /// Where the file was.
        from: String,
        /// Where it went.
        to: String,
        /// The watches `to` belongs to.
        owners: Arc<[Owner]>,
    },
    /// The file at `path` is gone.
    Gone {
        /// Where it was.
        path: String,
    },
    /// The content hash of an item's file, computed in the background for the size and
    /// mtime it had then: recorded only if the item still has them (else the file changed
    /// since, and is hashed again).
    Hashed {
        /// The item.
        item: ItemId,
        /// Its file's size when hashed.
        size: u64,
        /// Its file's mtime when hashed.
        mtime: Timestamp,
        /// BLAKE3, lower-case hex.
        hash: String,
    },
}

/// Plans a group of folder changes, applied in order as one transaction. Never refused:
/// what a collection cannot take (its `accept` list, archived, trashed) is counted in
/// [`SyncSummary::entries_refused`] and the file stays an item. Not logged as an op: the
/// folder is the source of truth, so there is nothing to undo.
///
/// - A present file keeps the item it is known as: the one at `was` (a move; the path it
///   lands on held another item, that item is kept instead and the moved one is gone, so an
///   editor's atomic save keeps the item), else the one at its path (reviving it, same id, if
///   it had gone), else a new item — unless no watch owns it.
/// - Its folder entries follow the owners: a live entry in every owner's collection (new,
///   revived, or the manual one that is there); folder entries of watches that no longer
///   cover it are soft-deleted. A renamed file's entries take the new name and relative path
///   where they still had the defaults.
/// - A gone file's item loses its path (soft delete, `last_path` kept) and its folder entries
///   are soft-deleted; manual entries stay.
///
/// The changes of one group happened together (one settled drain of events, one chunk of a
/// walk): a move names its origin as it was before the group.
pub fn plan_folder_sync<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    changes: &[FolderChange],
) -> PlanResult<Plan, V> {
    plan_folder_sync_groups(view, ctx, &[changes])
}

/// Plans several groups of folder changes, one after the other, as one transaction (the
/// committer's group commit): each group is planned as [`plan_folder_sync`] plans one, on the
/// state the groups before it left, so a move in a later group finds a file that an earlier
/// group created, revived or moved.
pub fn plan_folder_sync_groups<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    groups: &[&[FolderChange]],
) -> PlanResult<Plan, V> {
    let mut s = Scratch::new(view, groups.iter().map(|g| g.len()).sum());
    for changes in groups {
        plan_group(&mut s, ctx, changes)?;
    }
    let mut summary = std::mem::take(&mut s.summary);
    summary.folder_entries = s.folder_entry_deltas();
    Ok(Plan {
        changes: s.finish(),
        op: None,
        undoes: None,
        outcome: Outcome::Synced(summary),
    })
}

/// One group of changes that happened together, on top of what the scratch holds.
fn plan_group<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    ctx: &mut Ctx<'_>,
    changes: &[FolderChange],
) -> PlanResult<(), V> {
    // Moves name their origin as it was before the group: resolve them all first, so that
    // chains and cycles (a→b, b→a) find the files that were there, and a move onto a path
    // whose file is itself moving away is not taken for a rename over it.
    let mut origins = Vec::with_capacity(changes.len());
    let mut departing = HashSet::new();
    for change in changes {
        let from_to = match change {
            FolderChange::Present {
                facts,
                was: Some(Was::Path(from)),
                ..
            } => Some((from, &facts.path)),
            FolderChange::Renamed { from, to, .. } => Some((from, to)),
            _ => None,
        };
        let origin = match from_to {
            Some((from, to)) if from != to => {
                let item = live_at(s, from)?;
                if item.is_some() {
                    departing.insert(from.as_str());
                }
                item
            }
            _ => None,
        };
        origins.push(origin);
    }
    // A moving file's default unique id is free for the others from the start, so that two
    // files swapping names keep their relative paths as unique ids.
    for (change, origin) in changes.iter().zip(&origins) {
        if let (FolderChange::Present { owners, .. }, Some(item)) = (change, origin) {
            s.release_departing(item, owners)?;
        }
    }
    for (change, origin) in changes.iter().zip(origins) {
        match change {
            FolderChange::Present { facts, was, owners } => {
                let moved = match was {
                    Some(Was::Item(id)) => s.item(*id)?,
                    _ => origin,
                };
                let leaving = departing.contains(facts.path.as_str());
                present(s, ctx, facts, moved, leaving, owners)?;
            }
            FolderChange::Renamed { to, owners, .. } => {
                // The item as the group has left it so far, with its facts at the new path.
                let Some(moved) = origin.map(|o| s.item(o.id)).transpose()?.flatten() else {
                    continue;
                };
                let facts = FileFacts {
                    path: to.clone(),
                    size: moved.size,
                    mtime: moved.mtime,
                    content_type: moved.content_type.clone(),
                    file_id: moved.file_id,
                };
                let leaving = departing.contains(to.as_str());
                present(s, ctx, &facts, Some(moved), leaving, owners)?;
            }
            FolderChange::Gone { path } => {
                if let Some(item) = live_at(s, path)? {
                    gone(s, ctx, &item)?;
                }
            }
            FolderChange::Hashed {
                item,
                size,
                mtime,
                hash,
            } => hashed(s, *item, *size, *mtime, hash)?,
        }
    }
    Ok(())
}

/// Records a background hash when the file is still the one that was hashed. Not a change
/// of the file, so `updated_at` stays (and with it the stamps undo checks).
fn hashed<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    item: ItemId,
    size: u64,
    mtime: Timestamp,
    hash: &str,
) -> PlanResult<(), V> {
    let Some(before) = s.item(item)? else {
        return Ok(());
    };
    let same_file = before.deleted_at.is_none() && before.size == size && before.mtime == mtime;
    if !same_file || before.content_hash.as_deref() == Some(hash) {
        return Ok(());
    }
    let mut after = before.clone();
    after.content_hash = Some(hash.to_owned());
    s.summary.items_hashed += 1;
    s.set_item(Some(&before), after);
    Ok(())
}

/// The item whose file is at `path` now (not one that was there and is gone).
fn live_at<V: StateView + ?Sized>(s: &Scratch<'_, V>, path: &str) -> PlanResult<Option<Item>, V> {
    Ok(s.holder(path)?.filter(|i| i.path.as_deref() == Some(path)))
}

/// A file is at `facts.path`; `moved` is the item it was (a move or an identity match),
/// `leaving` whether the item now at the path moves away in this same group.
fn present<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    ctx: &mut Ctx<'_>,
    facts: &FileFacts,
    moved: Option<Item>,
    leaving: bool,
    owners: &[Owner],
) -> PlanResult<(), V> {
    let at_path = s.holder(&facts.path)?;
    let live_at_path = at_path
        .clone()
        .filter(|i| i.path.as_deref() == Some(facts.path.as_str()) && !leaving);
    // The moved item as the group has left it so far.
    let moved = match moved {
        Some(m) => s.item(m.id)?,
        None => None,
    };
    let before = match (moved, live_at_path) {
        (Some(moved), Some(kept)) if moved.id != kept.id => {
            // Renamed over a known file: the file at the target keeps its identity.
            gone(s, ctx, &moved)?;
            Some(kept)
        }
        (Some(moved), _) => Some(moved),
        (None, Some(kept)) => Some(kept),
        (None, None) => at_path.filter(|i| i.deleted_at.is_some()),
    };
    let Some(before) = before else {
        if owners.is_empty() {
            return Ok(());
        }
        let item = new_item(facts, ctx);
        s.summary.items_created += 1;
        s.set_item(None, item.clone());
        return follow_owners(s, ctx, &item, None, owners);
    };
    let after = refreshed(&before, facts, ctx);
    if after != before {
        if before.deleted_at.is_some() {
            s.summary.items_restored += 1;
        } else {
            s.summary.items_updated += 1;
        }
        s.set_item(Some(&before), after.clone());
    }
    follow_owners(s, ctx, &after, Some(&before), owners)
}

/// Makes the item's folder entries match its owners.
fn follow_owners<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    ctx: &mut Ctx<'_>,
    item: &Item,
    before: Option<&Item>,
    owners: &[Owner],
) -> PlanResult<(), V> {
    let path = item.path.as_deref().unwrap_or_default();
    let old_path = before.and_then(|b| b.path.as_deref().or(b.last_path.as_deref()));
    for collection in s.live_collections(item.id)? {
        let Some(entry) = s.entry(&collection, item.id)? else {
            continue;
        };
        let EntrySource::Folder(w) = entry.source else {
            continue;
        };
        match owners.iter().find(|o| o.watch == w) {
            None => {
                let mut after = entry.clone();
                after.deleted_at = Some(ctx.now);
                after.updated_at = ctx.now;
                s.summary.entries_removed += 1;
                s.set_entry(Some(&entry), after);
            }
            Some(owner) => {
                let Some(old_path) = old_path.filter(|p| *p != path) else {
                    continue;
                };
                renamed(s, ctx, item, owner, &entry, old_path, path)?;
            }
        }
    }
    for owner in owners {
        let current = s.entry(&owner.collection, item.id)?;
        if current.as_ref().is_some_and(Entry::is_live) {
            continue;
        }
        let Some(collection) = s.collection(&owner.collection)? else {
            s.summary.entries_refused += 1;
            continue;
        };
        if collection.archived
            || collection.trashed_at.is_some()
            || !collection.accepts(item.kind, &item.content_type)
        {
            s.summary.entries_refused += 1;
            continue;
        }
        let unique_id = s.choose_unique(&owner.collection, item.id, owner.relative(path))?;
        let sort_order = s.append(&owner.collection)?;
        let entry = match &current {
            Some(dead) => Entry {
                unique_id,
                sort_order,
                source: EntrySource::Folder(owner.watch),
                updated_at: ctx.now,
                deleted_at: None,
                ..dead.clone()
            },
            None => Entry {
                id: ctx.entry_id(),
                collection_id: owner.collection.clone(),
                item_id: item.id,
                display_name: item.original_filename.clone(),
                unique_id,
                metadata: crate::Metadata::new(),
                sort_order,
                source: EntrySource::Folder(owner.watch),
                created_at: ctx.now,
                updated_at: ctx.now,
                deleted_at: None,
            },
        };
        s.summary.entries_added += 1;
        s.set_entry(current.as_ref(), entry);
    }
    Ok(())
}

/// A folder entry whose file moved within its watch: the display name and unique id follow
/// the file where they still had their defaults.
fn renamed<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    ctx: &Ctx<'_>,
    item: &Item,
    owner: &Owner,
    entry: &Entry,
    old_path: &str,
    path: &str,
) -> PlanResult<(), V> {
    let mut after = entry.clone();
    if entry.display_name == file_name(old_path) {
        item.original_filename.clone_into(&mut after.display_name);
    }
    let old_rel = owner.relative(old_path);
    if entry.unique_id == old_rel || entry.unique_id == item.id.to_string() {
        let rel = owner.relative(path);
        if rel != entry.unique_id {
            s.release_unique(&owner.collection, &entry.unique_id, item.id);
            after.unique_id = s.choose_unique(&owner.collection, item.id, rel)?;
        }
    }
    if after != *entry {
        after.updated_at = ctx.now;
        s.set_entry(Some(entry), after);
    }
    Ok(())
}

/// The item's file is gone: no path, soft-deleted, its folder entries soft-deleted.
fn gone<V: StateView + ?Sized>(
    s: &mut Scratch<'_, V>,
    ctx: &Ctx<'_>,
    before: &Item,
) -> PlanResult<(), V> {
    let mut after = before.clone();
    after.path = None;
    after.last_path.clone_from(&before.path);
    after.deleted_at = Some(ctx.now);
    after.updated_at = ctx.now;
    s.summary.items_deleted += 1;
    s.set_item(Some(before), after);
    for collection in s.live_collections(before.id)? {
        if let Some(entry) = s.entry(&collection, before.id)?
            && matches!(entry.source, EntrySource::Folder(_))
        {
            let mut dead = entry.clone();
            dead.deleted_at = Some(ctx.now);
            dead.updated_at = ctx.now;
            s.summary.entries_removed += 1;
            s.set_entry(Some(&entry), dead);
        }
    }
    Ok(())
}

/// A record's state when first read and as the group has left it.
#[derive(Debug)]
struct Slot<T> {
    before: Option<T>,
    now: T,
}

/// The state as the group has changed it so far, on top of the view.
struct Scratch<'v, V: StateView + ?Sized> {
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
    summary: SyncSummary,
}

impl<'v, V: StateView + ?Sized> Scratch<'v, V> {
    /// A scratch for a group of `changes` changes (most touch one item and one entry).
    fn new(view: &'v V, changes: usize) -> Self {
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

    fn item(&self, id: ItemId) -> PlanResult<Option<Item>, V> {
        if let Some(slot) = self.items.get(&id.ulid()) {
            return Ok(Some(slot.now.clone()));
        }
        self.view.item(id).or_view()
    }

    /// The item whose path (or, if gone, last path) is `path`, as the group left it.
    fn holder(&self, path: &str) -> PlanResult<Option<Item>, V> {
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

    fn set_item(&mut self, before: Option<&Item>, after: Item) {
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

    fn entry(&self, collection: &CollectionId, item: ItemId) -> PlanResult<Option<Entry>, V> {
        if let Some(slot) = self.entries.get(&(collection.clone(), item.ulid())) {
            return Ok(Some(slot.now.clone()));
        }
        self.view.entry(collection, item).or_view()
    }

    fn set_entry(&mut self, before: Option<&Entry>, after: Entry) {
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
    fn live_collections(&self, item: ItemId) -> PlanResult<Vec<CollectionId>, V> {
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

    fn collection(&mut self, id: &CollectionId) -> PlanResult<Option<Collection>, V> {
        if let Some(c) = self.collections.get(id) {
            return Ok(c.clone());
        }
        let c = self.view.collection(id).or_view()?;
        self.collections.insert(id.clone(), c.clone());
        Ok(c)
    }

    fn choose_unique(
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
    fn release_unique(&mut self, collection: &CollectionId, unique_id: &str, item: ItemId) {
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
    fn release_departing(&mut self, item: &Item, owners: &[Owner]) -> PlanResult<(), V> {
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

    fn append(&mut self, collection: &CollectionId) -> PlanResult<i64, V> {
        if !self.appenders.contains_key(collection) {
            let appender = Appender::new(self.view, collection)?;
            self.appenders.insert(collection.clone(), appender);
        }
        Ok(self.appenders.get_mut(collection).map_or(0, Appender::take))
    }

    /// The net change of each watch's live folder entries.
    fn folder_entry_deltas(&self) -> BTreeMap<WatchId, i64> {
        let live_folder = |e: Option<&Entry>| match e {
            Some(e) if e.is_live() => match e.source {
                EntrySource::Folder(w) => Some(w),
                EntrySource::Manual => None,
            },
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
    fn finish(mut self) -> Vec<Change> {
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
