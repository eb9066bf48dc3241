//! What is marked in the open collection: a set of item ids (so a mark follows its item
//! whatever the listing does, and asking about a row is one hash lookup), or "everything
//! matching" a filter, which a batch call expresses as a `select` without listing ids.

use std::collections::HashSet;

use sheaf_core::ItemId;
use sheaf_proto::resources::Entry;

/// The marks of the open collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marks {
    /// These items (possibly none).
    Ids(HashSet<ItemId>),
    /// Every live entry matching the filter `q` (`None`: the whole collection), as the
    /// daemon's `select` will match them when the batch runs.
    All {
        /// The filter at the time of `*`.
        q: Option<String>,
    },
}

impl Default for Marks {
    fn default() -> Self {
        Marks::Ids(HashSet::new())
    }
}

/// The API's `q` match: a case-insensitive substring of name, unique id or path.
#[must_use]
pub fn matches_q(entry: &Entry, q: &str) -> bool {
    let q = q.to_lowercase();
    entry.display_name.to_lowercase().contains(&q)
        || entry.unique_id.to_lowercase().contains(&q)
        || entry
            .item
            .path
            .as_deref()
            .is_some_and(|p| p.to_lowercase().contains(&q))
}

impl Marks {
    /// Whether nothing is marked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        matches!(self, Marks::Ids(ids) if ids.is_empty())
    }

    /// Whether this row is marked.
    #[must_use]
    pub fn contains(&self, entry: &Entry) -> bool {
        match self {
            Marks::Ids(ids) => ids.contains(&entry.item_id),
            Marks::All { q: None } => true,
            Marks::All { q: Some(q) } => matches_q(entry, q),
        }
    }

    /// Marked ids, if the marks are ids.
    #[must_use]
    pub fn ids(&self) -> Option<&HashSet<ItemId>> {
        match self {
            Marks::Ids(ids) => Some(ids),
            Marks::All { .. } => None,
        }
    }

    /// How many ids are marked (`None` for "everything matching").
    #[must_use]
    pub fn count(&self) -> Option<usize> {
        self.ids().map(HashSet::len)
    }

    /// Marks `item` if it was not, unmarks it if it was. Refused (`false`) while
    /// everything matching is marked: that mark is a filter, not a list one id can leave.
    pub fn toggle(&mut self, item: ItemId) -> bool {
        match self {
            Marks::Ids(ids) => {
                if !ids.remove(&item) {
                    ids.insert(item);
                }
                true
            }
            Marks::All { .. } => false,
        }
    }

    /// Marks these items (a range); `false` while everything matching is marked.
    pub fn extend(&mut self, items: impl IntoIterator<Item = ItemId>) -> bool {
        match self {
            Marks::Ids(ids) => {
                ids.extend(items);
                true
            }
            Marks::All { .. } => false,
        }
    }

    /// Forgets `item` (it left the collection).
    pub fn forget(&mut self, item: ItemId) {
        if let Marks::Ids(ids) = self {
            ids.remove(&item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn toggling_marks_and_unmarks_by_item_id() {
        let mut m = Marks::default();
        assert!(m.toggle(testdata::item(1)));
        assert!(m.contains(&testdata::entry(1)));
        assert!(!m.contains(&testdata::entry(2)));
        m.toggle(testdata::item(1));
        assert!(m.is_empty());
    }

    #[test]
    fn everything_matching_marks_rows_by_the_apis_substring_rule_and_refuses_single_toggles() {
        let mut m = Marks::All {
            q: Some("FILE-0000".into()),
        };
        assert!(m.contains(&testdata::entry(7)));
        assert!(!m.contains(&testdata::entry(70)));
        assert!(!m.toggle(testdata::item(7)));
        assert_eq!(m.count(), None);
    }
}
