//! Duplicates (SPEC §7.2, `sheaf dups`): live items that share a content hash, found
//! through the `hashes` index, whose keys put the items of one hash prefix next to each
//! other.

use redb::ReadableTable;
use sheaf_core::Item;

use crate::Store;
use crate::error::StoreError;
use crate::schema::{ReadTabs, Tabs};
use crate::view::item;

/// Live items with one content hash: two or more copies of the same bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateGroup {
    /// The BLAKE3 hex they share.
    pub content_hash: String,
    /// The size of one copy, in bytes.
    pub size: u64,
    /// The copies, in id order (at least two).
    pub items: Vec<Item>,
}

impl DuplicateGroup {
    /// The bytes all but one copy take: `size × (copies − 1)`.
    #[must_use]
    pub fn wasted(&self) -> u64 {
        self.size
            .saturating_mul(self.items.len().saturating_sub(1) as u64)
    }
}

impl Store {
    /// The `limit` groups of duplicates that waste the most space (ties by hash): every
    /// content hash that two or more live items have. One read transaction; the index is
    /// read once, and only items whose hash prefix repeats are looked at.
    pub fn duplicates(&self, limit: usize) -> Result<Vec<DuplicateGroup>, StoreError> {
        let t = self.read()?;
        let mut top = Top::new(limit);
        let mut run: Vec<u128> = Vec::new();
        let mut prefix = None;
        for r in t.hashes()?.iter().map_err(StoreError::storage)? {
            let (k, ()) = r
                .map(|(k, v)| (k.value(), v.value()))
                .map_err(StoreError::storage)?;
            if prefix != Some(k.0) {
                groups_of(&t, &run, &mut top)?;
                run.clear();
                prefix = Some(k.0);
            }
            run.push(k.1);
        }
        groups_of(&t, &run, &mut top)?;
        Ok(top.finish())
    }
}

/// The groups among items whose hashes share a prefix: the live ones, by full hash.
fn groups_of(t: &ReadTabs, run: &[u128], top: &mut Top) -> Result<(), StoreError> {
    if run.len() < 2 {
        return Ok(());
    }
    let mut by_hash: std::collections::BTreeMap<String, Vec<Item>> =
        std::collections::BTreeMap::new();
    for ulid in run {
        if let Some(i) = item(t, *ulid)?.filter(|i| i.deleted_at.is_none())
            && let Some(hash) = i.content_hash.clone()
        {
            by_hash.entry(hash).or_default().push(i);
        }
    }
    for (content_hash, items) in by_hash {
        if items.len() >= 2 {
            top.offer(DuplicateGroup {
                content_hash,
                size: items[0].size,
                items,
            });
        }
    }
    Ok(())
}

/// The best `limit` groups seen so far; memory stays within twice that.
struct Top {
    limit: usize,
    groups: Vec<DuplicateGroup>,
}

impl Top {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            groups: Vec::new(),
        }
    }

    fn offer(&mut self, g: DuplicateGroup) {
        self.groups.push(g);
        if self.groups.len() >= self.limit.saturating_mul(2).max(64) {
            self.cut();
        }
    }

    fn cut(&mut self) {
        self.groups.sort_by(|a, b| {
            b.wasted()
                .cmp(&a.wasted())
                .then_with(|| a.content_hash.cmp(&b.content_hash))
        });
        self.groups.truncate(self.limit);
    }

    fn finish(mut self) -> Vec<DuplicateGroup> {
        self.cut();
        self.groups
    }
}
