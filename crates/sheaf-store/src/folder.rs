//! Reads for folder sync: the watches, and what the store knows under a watch root, for
//! the daemon's reconcile to diff a walk against.

use std::collections::HashSet;

use sheaf_core::{CollectionId, EntrySource, FileId, ItemId, Timestamp, Watch, WatchId};

use crate::Store;
use crate::error::StoreError;
use crate::schema::{EntryRecord, Tabs, decode, decode_item};
use crate::view::{handle_of, watches};

type Result<T> = std::result::Result<T, StoreError>;

/// A file the store knows under some root: what a walk is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownFile {
    /// Its path, or where it was last seen when gone.
    pub path: String,
    /// The id of the item the store knows at `path`.
    pub item: ItemId,
    /// Whether the file is there as far as the store knows (not soft-deleted).
    pub present: bool,
    /// Bytes, when last seen.
    pub size: u64,
    /// Modification time, when last seen.
    pub mtime: Timestamp,
    /// Device and inode, when last seen.
    pub file_id: Option<FileId>,
}

/// A live item whose content hash is not computed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unhashed {
    /// The item's id; its hash is recorded only if `size` and `mtime` still hold.
    pub item: ItemId,
    /// Its file.
    pub path: String,
    /// Its size as the store knows it.
    pub size: u64,
    /// Its mtime as the store knows it.
    pub mtime: Timestamp,
}

impl Store {
    /// Up to `limit` live items without a content hash, in id order after `after`: the
    /// background hasher's work list, read a page at a time.
    pub fn unhashed(&self, after: Option<ItemId>, limit: usize) -> Result<Vec<Unhashed>> {
        let t = self.read()?;
        let items = t.items()?;
        let start = after.map_or(0, |id| id.ulid().0.saturating_add(1));
        let mut out = Vec::new();
        if after.is_some_and(|id| id.ulid().0 == u128::MAX) {
            return Ok(out);
        }
        for r in items.range(start..).map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let item = decode_item(v.value())?;
            if let (None, Some(path), None) = (&item.content_hash, item.path, item.deleted_at) {
                out.push(Unhashed {
                    item: item.id,
                    path,
                    size: item.size,
                    mtime: item.mtime,
                });
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every watch, in id order.
    pub fn watches(&self) -> Result<Vec<Watch>> {
        watches(&self.read()?)
    }

    /// One watch.
    pub fn watch(&self, id: WatchId) -> Result<Option<Watch>> {
        Ok(self.watches()?.into_iter().find(|w| w.id == id))
    }

    /// The items whose path (or, gone, last path) is under `root`, in path order.
    pub fn known_under(&self, root: &str) -> Result<Vec<KnownFile>> {
        let t = self.read()?;
        let prefix = format!("{}/", root.trim_end_matches('/'));
        // Every path under the root sorts between "root/" and "root0" ('0' follows '/').
        let end = format!("{}0", root.trim_end_matches('/'));
        let items = t.items()?;
        let mut out = Vec::new();
        for r in t
            .paths()?
            .range(prefix.as_str()..end.as_str())
            .map_err(StoreError::storage)?
        {
            let (k, v) = r.map_err(StoreError::storage)?;
            let Some(bytes) = items.get(v.value()).map_err(StoreError::storage)? else {
                continue;
            };
            let item = decode_item(bytes.value())?;
            out.push(KnownFile {
                path: k.value().to_owned(),
                item: item.id,
                present: item.path.is_some(),
                size: item.size,
                mtime: item.mtime,
                file_id: item.file_id,
            });
        }
        Ok(out)
    }

    /// How many live entries of `collection` the watch owns (`source: folder:<watch>`): the
    /// files it mirrors there. Reads every entry of the collection.
    pub fn count_folder_entries(&self, collection: &CollectionId, watch: WatchId) -> Result<u64> {
        let t = self.read()?;
        let Some(handle) = handle_of(&t, collection)? else {
            return Ok(0);
        };
        let mut n = 0;
        for r in t
            .entries()?
            .range((handle, 0)..=(handle, u128::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, v) = r.map_err(StoreError::storage)?;
            let record: EntryRecord = decode(v.value(), "entry")?;
            let entry = record.into_entry(collection.clone(), k.value().1);
            n += u64::from(entry.is_live() && entry.source == EntrySource::Folder(watch));
        }
        Ok(n)
    }

    /// The ULIDs of the items with a live entry in the collection.
    pub fn live_members(&self, collection: &CollectionId) -> Result<HashSet<u128>> {
        let t = self.read()?;
        let Some(handle) = handle_of(&t, collection)? else {
            return Ok(HashSet::new());
        };
        t.live_pos()?
            .range((handle, i64::MIN)..=(handle, i64::MAX))
            .map_err(StoreError::storage)?
            .map(|r| r.map(|(_, v)| v.value()).map_err(StoreError::storage))
            .collect()
    }
}
