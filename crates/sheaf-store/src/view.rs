//! The core's [`StateView`] over open tables, and the lookups queries share with it.

use std::cell::RefCell;
use std::collections::HashMap;

use redb::ReadableTable;
use sheaf_core::{
    Collection, CollectionId, Entry, EntryFilter, EntrySource, Item, ItemId, OpId, OpRecord,
    StateView, Watch, WatchId,
};

use crate::error::StoreError;
use crate::schema::{
    CollectionRecord, EntryRecord, META_CREATED, META_UNFILED, Tabs, decode, decode_item, hash_key,
};

type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn meta<T: Tabs>(t: &T, key: &str) -> Result<u64> {
    Ok(t.meta()?
        .get(key)
        .map_err(StoreError::storage)?
        .map_or(0, |v| v.value()))
}

pub(crate) fn collection_record<T: Tabs>(t: &T, id: &str) -> Result<Option<CollectionRecord>> {
    t.collections()?
        .get(id)
        .map_err(StoreError::storage)?
        .map(|v| decode(v.value(), "collection"))
        .transpose()
}

pub(crate) fn handle_of<T: Tabs>(t: &T, id: &CollectionId) -> Result<Option<u64>> {
    Ok(collection_record(t, id.as_str())?.map(|r| r.handle))
}

pub(crate) fn collection_id_of<T: Tabs>(t: &T, handle: u64) -> Result<Option<CollectionId>> {
    let Some(slug) = t.handles()?.get(handle).map_err(StoreError::storage)? else {
        return Ok(None);
    };
    CollectionId::parse(slug.value())
        .map(Some)
        .map_err(|e| StoreError::Encoding {
            what: "collection handle",
            detail: e.to_string(),
        })
}

pub(crate) fn count<T: Tabs>(t: &T, handle: u64) -> Result<u64> {
    Ok(t.counts()?
        .get(handle)
        .map_err(StoreError::storage)?
        .map_or(0, |v| v.value()))
}

/// A collection with its live count; `default` answers as the unfiled view.
pub(crate) fn collection<T: Tabs>(t: &T, id: &CollectionId) -> Result<Option<Collection>> {
    if id.is_default() {
        let mut view = Collection::default_view(meta(t, META_UNFILED)?);
        // It exists as long as the database does.
        view.created_at = sheaf_core::Timestamp::from_micros(meta(t, META_CREATED)? as i64);
        view.updated_at = view.created_at;
        return Ok(Some(view));
    }
    let Some(record) = collection_record(t, id.as_str())? else {
        return Ok(None);
    };
    with_counts(t, record).map(Some)
}

/// A stored collection with what other tables say of it: its live count and, for a smart
/// one, whether its fill is still going.
pub(crate) fn with_counts<T: Tabs>(t: &T, record: CollectionRecord) -> Result<Collection> {
    let mut c = record.collection;
    c.item_count = count(t, record.handle)?;
    c.number = record.number;
    if c.query.is_some() {
        c.filling = t
            .filling()?
            .get(record.handle)
            .map_err(StoreError::storage)?
            .is_some();
    }
    Ok(c)
}

pub(crate) fn item<T: Tabs>(t: &T, ulid: u128) -> Result<Option<Item>> {
    t.items()?
        .get(ulid)
        .map_err(StoreError::storage)?
        .map(|v| decode_item(v.value()))
        .transpose()
}

/// The collection of a number (`default` is 0), trashed or not; `None` for a number never
/// given or a purged collection's.
pub(crate) fn collection_by_number<T: Tabs>(t: &T, number: u64) -> Result<Option<Collection>> {
    if number == 0 {
        return collection(t, &CollectionId::default_collection());
    }
    let Some(slug) = t
        .collection_numbers()?
        .get(number)
        .map_err(StoreError::storage)?
    else {
        return Ok(None);
    };
    let Some(record) = collection_record(t, slug.value())? else {
        return Ok(None);
    };
    with_counts(t, record).map(Some)
}

/// The item of a number.
pub(crate) fn item_by_number<T: Tabs>(t: &T, number: u64) -> Result<Option<Item>> {
    let Some(ulid) = t.item_numbers()?.get(number).map_err(StoreError::storage)? else {
        return Ok(None);
    };
    item(t, ulid.value())
}

/// The item at a path (or, if its file is gone, last seen there).
pub(crate) fn item_by_path<T: Tabs>(t: &T, path: &str) -> Result<Option<Item>> {
    let Some(ulid) = t.paths()?.get(path).map_err(StoreError::storage)? else {
        return Ok(None);
    };
    item(t, ulid.value())
}

/// One logged op.
pub(crate) fn op<T: Tabs>(t: &T, id: OpId) -> Result<Option<OpRecord>> {
    t.ops()?
        .get(id.ulid().0)
        .map_err(StoreError::storage)?
        .map(|v| decode(v.value(), "op"))
        .transpose()
}

pub(crate) fn entry<T: Tabs>(
    t: &T,
    handle: u64,
    collection_id: &CollectionId,
    ulid: u128,
) -> Result<Option<Entry>> {
    let Some(v) = t
        .entries()?
        .get((handle, ulid))
        .map_err(StoreError::storage)?
    else {
        return Ok(None);
    };
    let record: EntryRecord = decode(v.value(), "entry")?;
    Ok(Some(record.into_entry(collection_id.clone(), ulid)))
}

/// The (sort, item) pairs of one position table for a collection, in order.
fn positions<T: Tabs>(
    table: &impl ReadableTable<(u64, i64), u128>,
    handle: u64,
) -> Result<Vec<(i64, u128)>> {
    table
        .range((handle, i64::MIN)..=(handle, i64::MAX))
        .map_err(StoreError::storage)?
        .map(|r| {
            let (k, v) = r.map_err(StoreError::storage)?;
            Ok((k.value().1, v.value()))
        })
        .collect()
}

/// The first and last position of a collection in one position table.
fn bounds(table: &impl ReadableTable<(u64, i64), u128>, handle: u64) -> Result<Option<(i64, i64)>> {
    let mut range = table
        .range((handle, i64::MIN)..=(handle, i64::MAX))
        .map_err(StoreError::storage)?;
    let Some((first, _)) = range.next().transpose().map_err(StoreError::storage)? else {
        return Ok(None);
    };
    let lo = first.value().1;
    let last = range.next_back().transpose().map_err(StoreError::storage)?;
    Ok(Some((lo, last.map_or(lo, |(k, _)| k.value().1))))
}

/// Nearest position strictly below or above `sort` in one position table.
fn neighbour(
    table: &impl ReadableTable<(u64, i64), u128>,
    handle: u64,
    sort: i64,
    below: bool,
) -> Result<Option<i64>> {
    let found = if below {
        if sort == i64::MIN {
            return Ok(None);
        }
        table
            .range((handle, i64::MIN)..(handle, sort))
            .map_err(StoreError::storage)?
            .next_back()
    } else {
        if sort == i64::MAX {
            return Ok(None);
        }
        table
            .range((handle, sort + 1)..=(handle, i64::MAX))
            .map_err(StoreError::storage)?
            .next()
    };
    found
        .transpose()
        .map_err(StoreError::storage)
        .map(|kv| kv.map(|(k, _)| k.value().1))
}

/// The core's view of the state through open tables. Planning never writes, so the
/// collection handles it looks up are cached for the view's life.
pub(crate) struct StoreView<'a, T: Tabs> {
    tabs: &'a T,
    handles: RefCell<HashMap<CollectionId, Option<u64>>>,
}

impl<'a, T: Tabs> StoreView<'a, T> {
    pub(crate) fn new(tabs: &'a T) -> Self {
        Self {
            tabs,
            handles: RefCell::new(HashMap::new()),
        }
    }

    fn handle(&self, id: &CollectionId) -> Result<Option<u64>> {
        if let Some(h) = self.handles.borrow().get(id) {
            return Ok(*h);
        }
        let h = handle_of(self.tabs, id)?;
        self.handles.borrow_mut().insert(id.clone(), h);
        Ok(h)
    }
}

impl<T: Tabs> StateView for StoreView<'_, T> {
    type Error = StoreError;

    fn collection(&self, id: &CollectionId) -> Result<Option<Collection>> {
        collection(self.tabs, id)
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>> {
        item(self.tabs, id.ulid().0)
    }

    fn same_content(&self, hash: &str) -> Result<Vec<Item>> {
        let Some(key) = hash_key(hash) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in self
            .tabs
            .hashes()?
            .range((key, 0)..=(key, u128::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, _) = r.map_err(StoreError::storage)?;
            if let Some(i) = item(self.tabs, k.value().1)?
                && i.content_hash.as_deref() == Some(hash)
            {
                out.push(i);
            }
        }
        Ok(out)
    }

    fn items_after(&self, after: Option<ItemId>, limit: usize) -> Result<Vec<Item>> {
        let start = after.map_or(Some(0), |a| a.ulid().0.checked_add(1));
        let Some(start) = start else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in self
            .tabs
            .items()?
            .range(start..)
            .map_err(StoreError::storage)?
            .take(limit)
        {
            let (_, v) = r.map_err(StoreError::storage)?;
            out.push(decode_item(v.value())?);
        }
        Ok(out)
    }

    fn item_by_path(&self, path: &str) -> Result<Option<Item>> {
        item_by_path(self.tabs, path)
    }

    fn entry(&self, collection_id: &CollectionId, item_id: ItemId) -> Result<Option<Entry>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(None);
        };
        entry(self.tabs, handle, collection_id, item_id.ulid().0)
    }

    fn live_collections(&self, item_id: ItemId) -> Result<Vec<CollectionId>> {
        let ulid = item_id.ulid().0;
        let mut ids = Vec::new();
        for r in self
            .tabs
            .members()?
            .range((ulid, 0)..=(ulid, u64::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, ()) = r
                .map(|(k, v)| (k, v.value()))
                .map_err(StoreError::storage)?;
            if let Some(id) = collection_id_of(self.tabs, k.value().1)? {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn unique_id_holder(
        &self,
        collection_id: &CollectionId,
        unique_id: &str,
    ) -> Result<Option<ItemId>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(None);
        };
        let Some(ulid) = self
            .tabs
            .unique()?
            .get((handle, unique_id))
            .map_err(StoreError::storage)?
        else {
            return Ok(None);
        };
        Ok(item(self.tabs, ulid.value())?.map(|i| i.id))
    }

    fn sort_bounds(&self, collection_id: &CollectionId) -> Result<Option<(i64, i64)>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(None);
        };
        let a = bounds(self.tabs.live_pos()?, handle)?;
        let b = bounds(self.tabs.dead_pos()?, handle)?;
        Ok(match (a, b) {
            (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
            (a, b) => a.or(b),
        })
    }

    fn sort_neighbour(
        &self,
        collection_id: &CollectionId,
        sort: i64,
        below: bool,
    ) -> Result<Option<i64>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(None);
        };
        let a = neighbour(self.tabs.live_pos()?, handle, sort, below)?;
        let b = neighbour(self.tabs.dead_pos()?, handle, sort, below)?;
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some(if below { a.max(b) } else { a.min(b) }),
            (a, b) => a.or(b),
        })
    }

    fn all_positions(&self, collection_id: &CollectionId) -> Result<Vec<(i64, ItemId)>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(Vec::new());
        };
        let mut all = positions::<T>(self.tabs.live_pos()?, handle)?;
        all.extend(positions::<T>(self.tabs.dead_pos()?, handle)?);
        all.sort_unstable();
        let mut out = Vec::with_capacity(all.len());
        for (sort, ulid) in all {
            if let Some(item) = item(self.tabs, ulid)? {
                out.push((sort, item.id));
            }
        }
        Ok(out)
    }

    fn select(
        &self,
        collection_id: &CollectionId,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<ItemId>> {
        let mut out = Vec::new();
        if collection_id.is_default() {
            for r in self.tabs.unfiled()?.iter().map_err(StoreError::storage)? {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = r.map_err(StoreError::storage)?;
                if let Some(item) = item(self.tabs, k.value())?
                    && filter.matches(None, &item)
                {
                    out.push(item.id);
                }
            }
            return Ok(out);
        }
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(out);
        };
        for r in self
            .tabs
            .live_pos()?
            .range((handle, i64::MIN)..=(handle, i64::MAX))
            .map_err(StoreError::storage)?
        {
            if out.len() >= limit {
                break;
            }
            let (_, v) = r.map_err(StoreError::storage)?;
            let ulid = v.value();
            let Some(item) = item(self.tabs, ulid)? else {
                continue;
            };
            if !filter.is_empty() {
                let e = entry(self.tabs, handle, collection_id, ulid)?;
                if !filter.matches(e.as_ref(), &item) {
                    continue;
                }
            }
            out.push(item.id);
        }
        Ok(out)
    }

    fn op(&self, id: OpId) -> Result<Option<OpRecord>> {
        op(self.tabs, id)
    }

    fn watches(&self) -> Result<Vec<Watch>> {
        watches(self.tabs)
    }

    fn folder_entries(&self, collection_id: &CollectionId, watch: WatchId) -> Result<Vec<Entry>> {
        let Some(handle) = self.handle(collection_id)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for r in self
            .tabs
            .entries()?
            .range((handle, 0)..=(handle, u128::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, v) = r.map_err(StoreError::storage)?;
            let record: EntryRecord = decode(v.value(), "entry")?;
            let e = record.into_entry(collection_id.clone(), k.value().1);
            if e.source == EntrySource::Folder(watch) {
                found.push(e);
            }
        }
        found.sort_by_key(|e| e.sort_order);
        Ok(found)
    }
}

/// Every watch, in id order.
pub(crate) fn watches<T: Tabs>(t: &T) -> Result<Vec<Watch>> {
    t.watches()?
        .iter()
        .map_err(StoreError::storage)?
        .map(|r| {
            let (_, v) = r.map_err(StoreError::storage)?;
            decode(v.value(), "watch")
        })
        .collect()
}
