//! Reads: listings with cursors, single records, the change feed and the op log. Each call
//! is one read transaction, so it sees one committed state and never waits for a writer.
//!
//! Listings page with a [`Cursor`](cursor::Cursor) (`cursor`): collections' entries in
//! `entries`, items in `items`, the feed and the op log in `log`; groups of duplicates in
//! `duplicates`; single records here.

mod cursor;
mod duplicates;
mod entries;
mod items;
mod log;

use redb::{ReadableTable, ReadableTableMetadata};
use sheaf_core::{
    Collection, CollectionId, Entry, EntryFilter, Event, Item, ItemId, Kind, OpId, Timestamp,
};

use crate::Store;
use crate::error::StoreError;
use crate::order::{Direction, Order};
use crate::schema::{Tabs, decode};
use crate::view::{
    collection, collection_by_number, collection_id_of, collection_record, entry, handle_of, item,
    item_by_number, item_by_path, with_counts,
};

pub use duplicates::DuplicateGroup;

type Result<T> = std::result::Result<T, StoreError>;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A row of a collection listing: the entry (absent in the `default` view, which lists
/// unfiled items) and its item.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    /// The entry; `None` in the `default` view, whose rows are unfiled items.
    pub entry: Option<Entry>,
    /// The entry's item, or in the `default` view the unfiled item itself.
    pub item: Item,
}

/// `GET /v1/collections` filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionQuery {
    /// Only archived (`Some(true)`) or only active (`Some(false)`) collections.
    pub archived: Option<bool>,
    /// The trash instead of the live collections.
    pub trashed: bool,
}

/// `GET /v1/collections/{cid}/items` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryQuery {
    /// Resume after this cursor.
    pub cursor: Option<String>,
    /// Rows per page (1 to 1000).
    pub limit: usize,
    /// Include soft-deleted entries.
    pub deleted: bool,
    /// Text and kind filter.
    pub filter: EntryFilter,
    /// The order. Orders other than `Position` list live entries only (`deleted` is
    /// ignored) and do not apply to the `default` view, which lists items by id.
    pub order: Order,
    /// Ascending (the first row first) or descending.
    pub direction: Direction,
}

impl Default for EntryQuery {
    fn default() -> Self {
        Self {
            cursor: None,
            limit: 100,
            deleted: false,
            filter: EntryFilter::default(),
            order: Order::Position,
            direction: Direction::Asc,
        }
    }
}

/// `GET /v1/items` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemQuery {
    /// Only items live in this collection (in its order).
    pub collection: Option<CollectionId>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Case-insensitive substring of the path or file name.
    pub q: Option<String>,
    /// Only paths under this prefix.
    pub path_prefix: Option<String>,
    /// Include items whose file is gone.
    pub deleted: bool,
    /// Resume after this cursor.
    pub cursor: Option<String>,
    /// Rows per page.
    pub limit: usize,
    /// Ascending (the first row first) or descending.
    pub direction: Direction,
}

impl Default for ItemQuery {
    fn default() -> Self {
        Self {
            collection: None,
            kind: None,
            q: None,
            path_prefix: None,
            deleted: false,
            cursor: None,
            limit: 100,
            direction: Direction::Asc,
        }
    }
}

/// One event of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the feed; strictly increasing, never reused.
    pub seq: u64,
    /// Commit time.
    pub at: Timestamp,
    /// The op that made the change, if it was logged.
    pub op_id: Option<OpId>,
    /// What happened.
    pub event: Event,
    /// The rule whose action it was, if a rule's.
    pub cause: Option<sheaf_core::rule::Cause>,
}

/// A read of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedPage {
    /// Events after `since` were dropped from the feed: re-read the state, then follow on
    /// from `last_seq`.
    pub reset: bool,
    /// The events, in order.
    pub events: Vec<StoredEvent>,
    /// The last seq committed so far.
    pub last_seq: u64,
}

impl Store {
    /// Collections, `default` first (unless listing the trash or only archived ones), then
    /// by id.
    pub fn collections(&self, query: &CollectionQuery) -> Result<Vec<Collection>> {
        let t = self.read()?;
        let mut out = Vec::new();
        if !query.trashed && query.archived != Some(true) {
            out.extend(collection(&t, &CollectionId::default_collection())?);
        }
        for r in t.collections()?.iter().map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let record: crate::schema::CollectionRecord = decode(v.value(), "collection")?;
            let c = &record.collection;
            if c.trashed_at.is_some() != query.trashed
                || query.archived.is_some_and(|a| a != c.archived)
            {
                continue;
            }
            out.push(with_counts(&t, record)?);
        }
        Ok(out)
    }

    /// One collection with its live count, trashed or not.
    pub fn collection(&self, id: &CollectionId) -> Result<Option<Collection>> {
        let t = self.read()?;
        collection(&t, id)
    }

    /// The collection of a number (SPEC §1), trashed or not, in O(log n); 0 is `default`.
    /// `None` for a number never given, or a purged collection's (never given again).
    pub fn collection_by_number(&self, number: u64) -> Result<Option<Collection>> {
        collection_by_number(&self.read()?, number)
    }

    /// An item's entry in a collection, live or soft-deleted.
    pub fn entry(&self, collection: &CollectionId, item_id: ItemId) -> Result<Option<Entry>> {
        let t = self.read()?;
        let Some(handle) = handle_of(&t, collection)? else {
            return Ok(None);
        };
        Ok(entry(&t, handle, collection, item_id.ulid().0)?.filter(|e| e.item_id == item_id))
    }

    /// An item with the collections (outside the trash) it is live in.
    pub fn item(&self, id: ItemId) -> Result<Option<(Item, Vec<CollectionId>)>> {
        let t = self.read()?;
        let Some(it) = item(&t, id.ulid().0)?.filter(|i| i.id == id) else {
            return Ok(None);
        };
        let ulid = id.ulid().0;
        let mut ids = Vec::new();
        for r in t
            .members()?
            .range((ulid, 0)..=(ulid, u64::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, _) = r.map_err(StoreError::storage)?;
            if let Some(cid) = collection_id_of(&t, k.value().1)?
                && collection_record(&t, cid.as_str())?
                    .is_some_and(|r| r.collection.trashed_at.is_none())
            {
                ids.push(cid);
            }
        }
        ids.sort();
        Ok(Some((it, ids)))
    }

    /// The item at a path (or, if its file is gone, last seen there).
    pub fn item_by_path(&self, path: &str) -> Result<Option<Item>> {
        item_by_path(&self.read()?, path)
    }

    /// The item of a number (SPEC §1), in O(log n); `None` for a number never given.
    pub fn item_by_number(&self, number: u64) -> Result<Option<Item>> {
        item_by_number(&self.read()?, number)
    }

    /// How many items the store knows.
    pub fn item_total(&self) -> Result<u64> {
        let t = self.read()?;
        t.items()?.len().map_err(StoreError::storage)
    }
}
