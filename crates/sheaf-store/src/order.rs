//! The orders a collection can be listed in besides its own (`sort_order`): by display
//! name, by when an entry was added, by item size. Each is a row per live entry in the
//! `sorted` table, `(handle, order, key, item) → ()`, so a page from any depth is one
//! range seek.
//!
//! Those rows cost three index writes per entry, on random pages, so they are kept only
//! for collections that were ever listed in one of these orders (`sorted_on`): the first
//! such listing builds them, and from then on every write keeps them in step. Batch adds
//! into collections nobody sorts pay nothing.

use redb::ReadableTable;
use sheaf_core::Entry;

use crate::error::StoreError;
use crate::schema::WriteTabs;

/// A listing order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// The collection's own order (`sort_order`).
    #[default]
    Position,
    /// Display name, case-insensitively.
    Name,
    /// When the entry was added (first created), oldest first.
    Added,
    /// Item size, smallest first.
    Size,
}

impl Order {
    /// The orders kept in the `sorted` table.
    pub(crate) const INDEXED: [Order; 3] = [Order::Name, Order::Added, Order::Size];

    /// The tag of the order in the `sorted` table's key.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Order::Position => 0,
            Order::Name => 1,
            Order::Added => 2,
            Order::Size => 3,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Order> {
        Order::INDEXED.into_iter().find(|o| o.tag() == tag)
    }

    /// The sort key of a live entry whose item has `size` bytes.
    pub(crate) fn key(self, entry: &Entry, size: u64) -> Vec<u8> {
        match self {
            Order::Position => entry.sort_order.to_be_bytes().to_vec(),
            Order::Name => entry.display_name.to_lowercase().into_bytes(),
            // Flipping the sign bit makes big-endian bytes sort like the signed number.
            Order::Added => ((entry.created_at.as_micros() as u64) ^ (1 << 63))
                .to_be_bytes()
                .to_vec(),
            Order::Size => size.to_be_bytes().to_vec(),
        }
    }
}

/// Which way a listing reads its order: `Asc` from the first row, `Desc` from the last
/// (the index read backwards, so the last page is one seek like the first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// First row first.
    #[default]
    Asc,
    /// Last row first.
    Desc,
}

/// Adds (or removes) the `sorted` rows of a live entry.
pub(crate) fn index(
    t: &mut WriteTabs<'_>,
    handle: u64,
    entry: &Entry,
    size: u64,
    add: bool,
) -> Result<(), StoreError> {
    let ulid = entry.item_id.ulid().0;
    for order in Order::INDEXED {
        let key = order.key(entry, size);
        let row = (handle, order.tag(), key.as_slice(), ulid);
        if add {
            t.sorted.insert(row, ()).map_err(StoreError::storage)?;
        } else {
            t.sorted.remove(row).map_err(StoreError::storage)?;
        }
    }
    Ok(())
}

/// Whether the collection's `sorted` rows are kept.
pub(crate) fn is_on(t: &WriteTabs<'_>, handle: u64) -> Result<bool, StoreError> {
    Ok(t.sorted_on
        .get(handle)
        .map_err(StoreError::storage)?
        .is_some())
}

/// Builds the `sorted` rows of every live entry of a collection and keeps them from now on.
pub(crate) fn build(t: &mut WriteTabs<'_>, handle: u64) -> Result<(), StoreError> {
    if is_on(t, handle)? {
        return Ok(());
    }
    let live: Vec<u128> = t
        .live_pos
        .range((handle, i64::MIN)..=(handle, i64::MAX))
        .map_err(StoreError::storage)?
        .map(|r| r.map(|(_, v)| v.value()).map_err(StoreError::storage))
        .collect::<Result<_, _>>()?;
    for ulid in live {
        let record: crate::schema::EntryRecord =
            match t.entries.get((handle, ulid)).map_err(StoreError::storage)? {
                Some(v) => crate::schema::decode(v.value(), "entry")?,
                None => continue,
            };
        let size = match t.items.get(ulid).map_err(StoreError::storage)? {
            Some(v) => crate::schema::item_size(v.value())?,
            None => 0,
        };
        // The sort keys do not depend on the collection id.
        let entry = record.into_entry(sheaf_core::CollectionId::default_collection(), ulid);
        index(t, handle, &entry, size, true)?;
    }
    t.sorted_on
        .insert(handle, ())
        .map_err(StoreError::storage)?;
    Ok(())
}

/// Moves the size rows of an item's live entries from `old` to `new` bytes, in the
/// collections whose orders are kept.
pub(crate) fn resize(
    t: &mut WriteTabs<'_>,
    ulid: u128,
    old: u64,
    new: u64,
) -> Result<(), StoreError> {
    let handles: Vec<u64> = t
        .members
        .range((ulid, 0)..=(ulid, u64::MAX))
        .map_err(StoreError::storage)?
        .map(|r| r.map(|(k, _)| k.value().1).map_err(StoreError::storage))
        .collect::<Result<_, _>>()?;
    let tag = Order::Size.tag();
    for h in handles {
        if !is_on(t, h)? {
            continue;
        }
        t.sorted
            .remove((h, tag, old.to_be_bytes().as_slice(), ulid))
            .map_err(StoreError::storage)?;
        t.sorted
            .insert((h, tag, new.to_be_bytes().as_slice(), ulid), ())
            .map_err(StoreError::storage)?;
    }
    Ok(())
}
