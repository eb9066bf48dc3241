//! Applying a plan inside a write transaction: records, indexes, counts, the `default`
//! view, the change feed and the op log move together, so a commit is the whole operation
//! and an abort leaves nothing behind.

use std::collections::{BTreeSet, HashMap};

use redb::{ReadableTable, Table};
use sheaf_core::rule::Cause;
use sheaf_core::{Change, Collection, CollectionId, Entry, Item, Plan, Timestamp};

use crate::error::StoreError;
use crate::schema::{
    CollectionRecord, EntryRecord, FeedBlock, META_FIRST_SEQ, META_LAST_NOW,
    META_NEXT_COLLECTION_NUMBER, META_NEXT_HANDLE, META_NEXT_ITEM_NUMBER, META_NEXT_SEQ, META_OPS,
    META_UNFILED, WriteTabs, decode, encode, encode_item, hash_key, item_number, item_size,
};
use crate::view::{collection_record, item, meta};

type Result<T> = std::result::Result<T, StoreError>;

/// How much history to keep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retention {
    pub(crate) feed_events: u64,
    pub(crate) ops: u64,
}

fn set_meta(t: &mut WriteTabs<'_>, key: &str, value: u64) -> Result<()> {
    t.meta.insert(key, value).map_err(StoreError::storage)?;
    Ok(())
}

/// Takes the next value of the counter at `key` (from 1); the counter only goes up, so a
/// number is never given twice.
pub(crate) fn take_number(t: &mut WriteTabs<'_>, key: &str) -> Result<u64> {
    let number = meta(t, key)?.max(1);
    set_meta(t, key, number + 1)?;
    Ok(number)
}

/// Per-apply caches and deltas.
#[derive(Default)]
struct Batch {
    handles: HashMap<CollectionId, u64>,
    trashed: HashMap<u64, bool>,
    count_deltas: HashMap<u64, i64>,
    sorted: HashMap<u64, bool>,
    affected: BTreeSet<u128>,
}

impl Batch {
    fn handle(&mut self, t: &WriteTabs<'_>, id: &CollectionId) -> Result<u64> {
        if let Some(h) = self.handles.get(id) {
            return Ok(*h);
        }
        let record = collection_record(t, id.as_str())?.ok_or_else(|| StoreError::Encoding {
            what: "plan",
            detail: format!("an entry names collection {id}, which does not exist"),
        })?;
        self.handles.insert(id.clone(), record.handle);
        Ok(record.handle)
    }

    /// Whether the collection's `sorted` rows are kept (see `order`).
    fn sorted(&mut self, t: &WriteTabs<'_>, handle: u64) -> Result<bool> {
        if let Some(on) = self.sorted.get(&handle) {
            return Ok(*on);
        }
        let on = crate::order::is_on(t, handle)?;
        self.sorted.insert(handle, on);
        Ok(on)
    }

    fn is_trashed(&mut self, t: &WriteTabs<'_>, handle: u64) -> Result<bool> {
        if let Some(v) = self.trashed.get(&handle) {
            return Ok(*v);
        }
        let slug = t
            .handles
            .get(handle)
            .map_err(StoreError::storage)?
            .map(|v| v.value().to_owned());
        let trashed = match slug {
            Some(slug) => {
                collection_record(t, &slug)?.is_none_or(|r| r.collection.trashed_at.is_some())
            }
            None => true,
        };
        self.trashed.insert(handle, trashed);
        Ok(trashed)
    }
}

/// Applies `plan` at time `now`; returns the seq range of the events it appended.
pub(crate) fn apply(
    t: &mut WriteTabs<'_>,
    feed: &mut Table<'_, u64, &'static [u8]>,
    plan: &Plan,
    now: Timestamp,
    retention: Retention,
    cause: Option<Cause>,
) -> Result<Option<(u64, u64)>> {
    let mut b = Batch::default();

    for change in &plan.changes {
        match change {
            Change::Collection { before, after } => {
                apply_collection(t, &mut b, before.as_ref(), after.as_ref())?;
            }
            Change::Item { before, after } => {
                apply_item(t, &mut b, before.as_ref(), after.as_ref())?;
            }
            Change::Watch { before, after } => match (before, after) {
                (_, Some(w)) => {
                    t.watches
                        .insert(w.id.ulid().0, encode(w)?.as_slice())
                        .map_err(StoreError::storage)?;
                }
                (Some(w), None) => {
                    t.watches
                        .remove(w.id.ulid().0)
                        .map_err(StoreError::storage)?;
                }
                (None, None) => {}
            },
            Change::Entry { .. } => {}
        }
    }
    // Entries in two passes, so that positions and unique ids can be swapped between
    // entries of one plan: first every old index row goes, then every new one comes.
    for change in &plan.changes {
        if let Change::Entry {
            before: Some(e), ..
        } = change
        {
            let h = b.handle(t, &e.collection_id)?;
            unindex_entry(t, &mut b, h, e)?;
        }
    }
    for change in &plan.changes {
        if let Change::Entry { before, after } = change {
            match (before, after) {
                (_, Some(e)) => {
                    let h = b.handle(t, &e.collection_id)?;
                    index_entry(t, &mut b, h, e)?;
                    t.entries
                        .insert(
                            (h, e.item_id.ulid().0),
                            encode(&EntryRecord::of(e))?.as_slice(),
                        )
                        .map_err(StoreError::storage)?;
                }
                (Some(e), None) => {
                    let h = b.handle(t, &e.collection_id)?;
                    t.entries
                        .remove((h, e.item_id.ulid().0))
                        .map_err(StoreError::storage)?;
                    b.affected.insert(e.item_id.ulid().0);
                }
                (None, None) => {}
            }
        }
    }

    for (h, delta) in std::mem::take(&mut b.count_deltas) {
        if delta != 0 {
            let current = t
                .counts
                .get(h)
                .map_err(StoreError::storage)?
                .map_or(0, |v| v.value());
            let next = current.saturating_add_signed(delta);
            t.counts.insert(h, next).map_err(StoreError::storage)?;
        }
    }
    refresh_unfiled(t, &mut b)?;

    let op_id = plan.op.as_ref().map(|o| o.id);
    let seqs = append_events(t, feed, plan.events(), op_id, now, retention, cause)?;
    log_op(t, plan, retention)?;
    set_meta(t, META_LAST_NOW, now.as_micros() as u64)?;
    Ok(seqs)
}

fn apply_collection(
    t: &mut WriteTabs<'_>,
    b: &mut Batch,
    before: Option<&Collection>,
    after: Option<&Collection>,
) -> Result<()> {
    match (before, after) {
        (None, Some(c)) => {
            let handle = meta(t, META_NEXT_HANDLE)?.max(1);
            set_meta(t, META_NEXT_HANDLE, handle + 1)?;
            let number = take_number(t, META_NEXT_COLLECTION_NUMBER)?;
            t.collection_numbers
                .insert(number, c.id.as_str())
                .map_err(StoreError::storage)?;
            write_collection(t, handle, number, c)?;
            t.handles
                .insert(handle, c.id.as_str())
                .map_err(StoreError::storage)?;
            t.counts.insert(handle, 0).map_err(StoreError::storage)?;
            b.handles.insert(c.id.clone(), handle);
            if c.query.is_some() {
                t.smart.insert(handle, ()).map_err(StoreError::storage)?;
                t.filling.insert(handle, 0).map_err(StoreError::storage)?;
            }
        }
        (Some(old), Some(c)) => {
            let handle = b.handle(t, &c.id)?;
            // The number stays the stored one, whatever the plan's record says.
            let number = collection_record(t, c.id.as_str())?.map_or(0, |r| r.number);
            write_collection(t, handle, number, c)?;
            // A smart collection is filled again from the first item when its query
            // changes or it comes back from the trash (its entries were left as they were).
            let restored = old.trashed_at.is_some() && c.trashed_at.is_none();
            if c.query.is_some() && (old.query != c.query || restored) {
                t.filling.insert(handle, 0).map_err(StoreError::storage)?;
            }
            if old.trashed_at.is_some() != c.trashed_at.is_some() {
                b.trashed.insert(handle, c.trashed_at.is_some());
                for r in t
                    .live_pos
                    .range((handle, i64::MIN)..=(handle, i64::MAX))
                    .map_err(StoreError::storage)?
                {
                    let (_, v) = r.map_err(StoreError::storage)?;
                    b.affected.insert(v.value());
                }
            }
        }
        (Some(old), None) => purge_collection(t, b, &old.id)?,
        (None, None) => {}
    }
    Ok(())
}

fn write_collection(t: &mut WriteTabs<'_>, handle: u64, number: u64, c: &Collection) -> Result<()> {
    let mut stored = c.clone();
    stored.item_count = 0;
    stored.filling = false;
    stored.number = 0;
    let record = CollectionRecord {
        handle,
        number,
        collection: stored,
    };
    t.collections
        .insert(c.id.as_str(), encode(&record)?.as_slice())
        .map_err(StoreError::storage)?;
    Ok(())
}

/// Deletes a collection with every entry and index row it has; its number is not given
/// again.
fn purge_collection(t: &mut WriteTabs<'_>, b: &mut Batch, id: &CollectionId) -> Result<()> {
    let handle = b.handle(t, id)?;
    if let Some(record) = collection_record(t, id.as_str())? {
        t.collection_numbers
            .remove(record.number)
            .map_err(StoreError::storage)?;
    }
    let mut doomed = Vec::new();
    for r in t
        .entries
        .range((handle, 0)..=(handle, u128::MAX))
        .map_err(StoreError::storage)?
    {
        let (k, v) = r.map_err(StoreError::storage)?;
        let record: EntryRecord = decode(v.value(), "entry")?;
        doomed.push(record.into_entry(id.clone(), k.value().1));
    }
    for e in &doomed {
        unindex_entry(t, b, handle, e)?;
        t.entries
            .remove((handle, e.item_id.ulid().0))
            .map_err(StoreError::storage)?;
    }
    b.count_deltas.remove(&handle);
    t.counts.remove(handle).map_err(StoreError::storage)?;
    t.sorted_on.remove(handle).map_err(StoreError::storage)?;
    t.smart.remove(handle).map_err(StoreError::storage)?;
    t.filling.remove(handle).map_err(StoreError::storage)?;
    t.handles.remove(handle).map_err(StoreError::storage)?;
    t.collections
        .remove(id.as_str())
        .map_err(StoreError::storage)?;
    b.trashed.insert(handle, true);
    b.handles.remove(id);
    Ok(())
}

fn path_key(item: &Item) -> Option<&str> {
    item.path.as_deref().or(item.last_path.as_deref())
}

fn apply_item(
    t: &mut WriteTabs<'_>,
    b: &mut Batch,
    before: Option<&Item>,
    after: Option<&Item>,
) -> Result<()> {
    let Some(any) = after.or(before) else {
        return Ok(());
    };
    let ulid = any.id.ulid().0;
    if let Some(old) = before.and_then(path_key)
        && after.and_then(path_key) != Some(old)
    {
        let ours = t
            .paths
            .get(old)
            .map_err(StoreError::storage)?
            .is_some_and(|v| v.value() == ulid);
        if ours {
            t.paths.remove(old).map_err(StoreError::storage)?;
        }
    }
    if let (Some(old), Some(new)) = (before, after)
        && old.size != new.size
    {
        crate::order::resize(t, ulid, old.size, new.size)?;
    }
    let hash_of = |i: Option<&Item>| i.and_then(|i| i.content_hash.as_deref()).and_then(hash_key);
    let (old_hash, new_hash) = (hash_of(before), hash_of(after));
    if old_hash != new_hash {
        if let Some(h) = old_hash {
            t.hashes.remove((h, ulid)).map_err(StoreError::storage)?;
        }
        if let Some(h) = new_hash {
            t.hashes
                .insert((h, ulid), ())
                .map_err(StoreError::storage)?;
        }
    }
    let stored = stored_number(t, before, ulid)?;
    if let Some(item) = after {
        if let Some(key) = path_key(item) {
            t.paths.insert(key, ulid).map_err(StoreError::storage)?;
        }
        let number = if let Some(number) = stored {
            number
        } else {
            let number = take_number(t, META_NEXT_ITEM_NUMBER)?;
            t.item_numbers
                .insert(number, ulid)
                .map_err(StoreError::storage)?;
            number
        };
        t.items
            .insert(ulid, encode_item(item, number)?.as_slice())
            .map_err(StoreError::storage)?;
    } else {
        if let Some(number) = stored {
            t.item_numbers.remove(number).map_err(StoreError::storage)?;
        }
        t.items.remove(ulid).map_err(StoreError::storage)?;
    }
    b.affected.insert(ulid);
    Ok(())
}

/// The number of an item already stored; `None` for one the plan registers (`before` is
/// `None`: it was absent). A `before` the planner read from the store carries the number; a
/// record the plan itself made earlier (or an undo's snapshot) has 0, and the stored record
/// answers.
fn stored_number(t: &WriteTabs<'_>, before: Option<&Item>, ulid: u128) -> Result<Option<u64>> {
    let Some(before) = before else {
        return Ok(None);
    };
    if before.number != 0 {
        return Ok(Some(before.number));
    }
    t.items
        .get(ulid)
        .map_err(StoreError::storage)?
        .map(|v| item_number(v.value()))
        .transpose()
}

/// The size of an item as stored (0 for an item that is gone).
fn stored_size(t: &WriteTabs<'_>, ulid: u128) -> Result<u64> {
    match t.items.get(ulid).map_err(StoreError::storage)? {
        Some(v) => item_size(v.value()),
        None => Ok(0),
    }
}

fn unindex_entry(t: &mut WriteTabs<'_>, b: &mut Batch, h: u64, e: &Entry) -> Result<()> {
    let ulid = e.item_id.ulid().0;
    if e.is_live() {
        if b.sorted(t, h)? {
            let size = stored_size(t, ulid)?;
            crate::order::index(t, h, e, size, false)?;
        }
        t.live_pos
            .remove((h, e.sort_order))
            .map_err(StoreError::storage)?;
        t.members.remove((ulid, h)).map_err(StoreError::storage)?;
        let ours = t
            .unique
            .get((h, e.unique_id.as_str()))
            .map_err(StoreError::storage)?
            .is_some_and(|v| v.value() == ulid);
        if ours {
            t.unique
                .remove((h, e.unique_id.as_str()))
                .map_err(StoreError::storage)?;
        }
        *b.count_deltas.entry(h).or_default() -= 1;
    } else {
        t.dead_pos
            .remove((h, e.sort_order))
            .map_err(StoreError::storage)?;
    }
    b.affected.insert(ulid);
    Ok(())
}

fn index_entry(t: &mut WriteTabs<'_>, b: &mut Batch, h: u64, e: &Entry) -> Result<()> {
    let ulid = e.item_id.ulid().0;
    if e.is_live() {
        if b.sorted(t, h)? {
            let size = stored_size(t, ulid)?;
            crate::order::index(t, h, e, size, true)?;
        }
        t.live_pos
            .insert((h, e.sort_order), ulid)
            .map_err(StoreError::storage)?;
        t.members
            .insert((ulid, h), ())
            .map_err(StoreError::storage)?;
        t.unique
            .insert((h, e.unique_id.as_str()), ulid)
            .map_err(StoreError::storage)?;
        *b.count_deltas.entry(h).or_default() += 1;
    } else {
        t.dead_pos
            .insert((h, e.sort_order), ulid)
            .map_err(StoreError::storage)?;
    }
    b.affected.insert(ulid);
    Ok(())
}

/// Keeps the `default` view exact for every item the plan touched: an item is unfiled
/// when its file is present and it has no live entry outside the trash.
fn refresh_unfiled(t: &mut WriteTabs<'_>, b: &mut Batch) -> Result<()> {
    let mut delta: i64 = 0;
    for ulid in std::mem::take(&mut b.affected) {
        // A live membership outside the trash settles it without reading the item; only an
        // item with none needs its record, to see whether its file is still there.
        let handles: Vec<u64> = t
            .members
            .range((ulid, 0)..=(ulid, u64::MAX))
            .map_err(StoreError::storage)?
            .map(|r| r.map(|(k, _)| k.value().1).map_err(StoreError::storage))
            .collect::<Result<_>>()?;
        let mut filed = false;
        for h in handles {
            if !b.is_trashed(t, h)? {
                filed = true;
                break;
            }
        }
        let should = !filed && item(t, ulid)?.is_some_and(|i| i.deleted_at.is_none());
        let is = t.unfiled.get(ulid).map_err(StoreError::storage)?.is_some();
        if should && !is {
            t.unfiled.insert(ulid, ()).map_err(StoreError::storage)?;
            delta += 1;
        } else if !should && is {
            t.unfiled.remove(ulid).map_err(StoreError::storage)?;
            delta -= 1;
        }
    }
    if delta != 0 {
        let count = meta(t, META_UNFILED)?.saturating_add_signed(delta);
        set_meta(t, META_UNFILED, count)?;
    }
    Ok(())
}

/// Appends one commit's events as a block (nothing when there are none), and drops the
/// oldest blocks beyond the retention.
pub(crate) fn append_events(
    t: &mut WriteTabs<'_>,
    feed: &mut Table<'_, u64, &'static [u8]>,
    events: Vec<sheaf_core::Event>,
    op_id: Option<sheaf_core::OpId>,
    now: Timestamp,
    retention: Retention,
    cause: Option<Cause>,
) -> Result<Option<(u64, u64)>> {
    if events.is_empty() {
        return Ok(None);
    }
    let first = meta(t, META_NEXT_SEQ)?.max(1);
    let last = first + events.len() as u64 - 1;
    let block = FeedBlock {
        at: now,
        op_id,
        events,
        cause,
    };
    set_meta(t, META_LAST_NOW, now.as_micros() as u64)?;
    feed.insert(first, encode(&block)?.as_slice())
        .map_err(StoreError::storage)?;
    set_meta(t, META_NEXT_SEQ, last + 1)?;

    // Drop whole blocks from the front while more than the retained number of events
    // stay; the block just written always stays.
    let mut first_kept = meta(t, META_FIRST_SEQ)?.max(1);
    while last + 1 - first_kept > retention.feed_events {
        let oldest = feed
            .first()
            .map_err(StoreError::storage)?
            .map(|(k, _)| k.value());
        match oldest {
            Some(oldest) if oldest != first => {
                feed.remove(oldest).map_err(StoreError::storage)?;
                first_kept = feed
                    .first()
                    .map_err(StoreError::storage)?
                    .map_or(first, |(k, _)| k.value());
            }
            _ => break,
        }
    }
    set_meta(t, META_FIRST_SEQ, first_kept)?;
    Ok(Some((first, last)))
}

fn log_op(t: &mut WriteTabs<'_>, plan: &Plan, retention: Retention) -> Result<()> {
    if let Some(undone) = plan.undoes {
        let key = undone.ulid().0;
        let record = t
            .ops
            .get(key)
            .map_err(StoreError::storage)?
            .map(|v| v.value().to_vec());
        if let Some(bytes) = record {
            let mut op: sheaf_core::OpRecord = decode(&bytes, "op")?;
            op.undone_by = plan.op.as_ref().map(|o| o.id);
            t.ops
                .insert(key, encode(&op)?.as_slice())
                .map_err(StoreError::storage)?;
        }
    }
    let Some(op) = &plan.op else { return Ok(()) };
    t.ops
        .insert(op.id.ulid().0, encode(op)?.as_slice())
        .map_err(StoreError::storage)?;
    let mut count = meta(t, META_OPS)? + 1;
    while count > retention.ops {
        if t.ops.pop_first().map_err(StoreError::storage)?.is_none() {
            break;
        }
        count -= 1;
    }
    set_meta(t, META_OPS, count)?;
    Ok(())
}
