//! Folder sync (SPEC §3): files seen on disk become items and `folder:<wid>` entries.
//!
//! The daemon turns walks and settled events into [`FolderChange`]s, naming for every file
//! the watches that cover it ([`Owner`]s, filters applied); [`plan_folder_sync`] turns a
//! group of them into one plan. A group may touch the same item or path several times (a
//! rename chain, a file replaced while another moves away), so planning reads through a
//! scratch overlay that holds what the group has changed so far and emits one change per
//! record at the end.

use std::collections::HashSet;
use std::sync::Arc;

use super::PlanResult;
use super::item::{new_item, refreshed};
use crate::id::{CollectionId, ItemId, WatchId};
use crate::model::{Entry, EntrySource, FileFacts, Item, file_name};
use crate::plan::{Ctx, Outcome, Plan};
use crate::time::Timestamp;
use crate::view::StateView;

mod scratch;

use scratch::Scratch;

/// A watch that covers a file: the file belongs in `collection` as a `folder:<watch>` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The covering watch; the file's entry there has the source `folder:<watch>`.
    pub watch: WatchId,
    /// The collection the watch feeds: where the file gets its entry.
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
        /// The item whose file was hashed.
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
            if moved.file_id.is_some() && moved.file_id == kept.file_id {
                // The same file (device and inode), registered at its new path by a walk
                // that got there before the rename's events: the moved item keeps its
                // identity and the duplicate goes.
                gone(s, ctx, &kept)?;
                Some(moved)
            } else {
                // Renamed over a known file: the file at the target keeps its identity.
                gone(s, ctx, &moved)?;
                Some(kept)
            }
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
