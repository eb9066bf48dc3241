use serde::{Deserialize, Serialize};

use crate::id::WatchId;
use crate::id::{CollectionId, ItemId, OpId};
use crate::kind::Kind;
use crate::model::{Collection, Entry, Item, Watch};
use crate::plan::OpRecord;

/// A filter over a collection's entries: `q` matches (case-insensitively) the display name,
/// the unique id or the item's path; `kind` the item's kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFilter {
    /// Case-insensitive substring.
    pub q: Option<String>,
    /// Item kind.
    pub kind: Option<Kind>,
}

impl EntryFilter {
    /// Whether an entry of this item passes the filter. `entry` is `None` for the `default`
    /// view, where only the item is matched.
    #[must_use]
    pub fn matches(&self, entry: Option<&Entry>, item: &Item) -> bool {
        if self.kind.is_some_and(|k| k != item.kind) {
            return false;
        }
        let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) else {
            return true;
        };
        let q = q.to_lowercase();
        let hit = |s: &str| s.to_lowercase().contains(&q);
        entry.is_some_and(|e| hit(&e.display_name) || hit(&e.unique_id))
            || item.path.as_deref().is_some_and(hit)
            || hit(&item.original_filename)
    }

    /// Whether the filter lets everything through.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.q.as_deref().is_none_or(str::is_empty)
    }
}

/// Read access to the current state, for planning. The store implements it over a redb
/// transaction; tests implement it over plain maps.
///
/// Lookups by [`ItemId`] use the ULID alone; the returned item carries its real id, whose
/// prefix the planner compares with the one asked for.
pub trait StateView {
    /// The store's failure type.
    type Error;

    /// A collection (trashed ones included), with its live `item_count`; `default` included.
    fn collection(&self, id: &CollectionId) -> Result<Option<Collection>, Self::Error>;
    /// An item by id.
    fn item(&self, id: ItemId) -> Result<Option<Item>, Self::Error>;
    /// The items, live or gone, whose `content_hash` is `hash`, in id order.
    fn same_content(&self, hash: &str) -> Result<Vec<Item>, Self::Error>;
    /// Up to `limit` items, live or gone, whose id comes after `after` (from the first when
    /// `None`), in id order: every item, a page at a time.
    fn items_after(&self, after: Option<ItemId>, limit: usize) -> Result<Vec<Item>, Self::Error>;
    /// The item whose current `path` is this or, when its file is gone, whose `last_path`
    /// is (until another item takes that path).
    fn item_by_path(&self, path: &str) -> Result<Option<Item>, Self::Error>;
    /// The item's entry in the collection, live or soft-deleted.
    fn entry(&self, collection: &CollectionId, item: ItemId) -> Result<Option<Entry>, Self::Error>;
    /// The collections (trashed ones included) where the item has a live entry, sorted.
    fn live_collections(&self, item: ItemId) -> Result<Vec<CollectionId>, Self::Error>;
    /// The item whose live entry in the collection has this `unique_id`.
    fn unique_id_holder(
        &self,
        collection: &CollectionId,
        unique_id: &str,
    ) -> Result<Option<ItemId>, Self::Error>;
    /// The smallest and largest `sort_order` of the collection's entries, live or not.
    fn sort_bounds(&self, collection: &CollectionId) -> Result<Option<(i64, i64)>, Self::Error>;
    /// The nearest `sort_order` of any entry (live or not) strictly below (`below = true`)
    /// or above `sort`.
    fn sort_neighbour(
        &self,
        collection: &CollectionId,
        sort: i64,
        below: bool,
    ) -> Result<Option<i64>, Self::Error>;
    /// Every entry of the collection (live or not) as `(sort_order, item)`, in order.
    fn all_positions(&self, collection: &CollectionId) -> Result<Vec<(i64, ItemId)>, Self::Error>;
    /// Up to `limit` items with a live entry in the collection that passes the filter, in
    /// position order; for `default`, unfiled items in id order.
    fn select(
        &self,
        collection: &CollectionId,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<ItemId>, Self::Error>;
    /// A logged operation.
    fn op(&self, id: OpId) -> Result<Option<OpRecord>, Self::Error>;
    /// Every watch, in id order.
    fn watches(&self) -> Result<Vec<Watch>, Self::Error>;
    /// The collection's entries (live or not) owned by the watch, in position order.
    fn folder_entries(
        &self,
        collection: &CollectionId,
        watch: WatchId,
    ) -> Result<Vec<Entry>, Self::Error>;
}
