//! The entries of the open collection, fetched a page at a time around the viewport and
//! never as a whole: a bounded cache of pages, the cursor that starts each page seen so
//! far (one short string per page, so a million entries cost a thousand cursors), and the
//! row count from the collection's `item_count`.
//!
//! The API pages forward only (an opaque `next_cursor`): a page whose start is not known
//! yet is reached by following the known cursors, each page evicted again as soon as the
//! cache is over its bound. Row `i` is on page `i / page_size`.

use std::collections::{BTreeMap, BTreeSet};

use sheaf_core::{CollectionId, ItemId};
use sheaf_proto::requests::{EntryListParams, EntrySort};
use sheaf_proto::resources::Entry;
use sheaf_proto::responses::EntryPage;

use crate::action::Effect;

/// Entries per page: the API's largest page, so that a walk takes the fewest requests.
pub const PAGE_SIZE: usize = 1000;
/// Pages kept in memory.
pub const PAGES_KEPT: usize = 6;

/// One listing of one collection (its sort order and filter) and what is known of it.
#[derive(Clone, Debug)]
pub struct Pages {
    collection: Option<CollectionId>,
    sort: EntrySort,
    q: Option<String>,
    generation: u64,
    page_size: usize,
    capacity: usize,
    /// `starts[k]`: the cursor that starts page `k` (`None` for page 0); known for a prefix.
    starts: Vec<Option<String>>,
    /// The last page, once a page came back without `next_cursor`.
    end: Option<usize>,
    cached: BTreeMap<usize, Vec<Entry>>,
    /// Pages shown until their refetch (after a change) arrives.
    stale: BTreeSet<usize>,
    loading: BTreeSet<usize>,
    /// The collection's live count; only meaningful without a filter.
    total: Option<u64>,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new(PAGE_SIZE, PAGES_KEPT)
    }
}

impl Pages {
    /// No listing yet; pages of `page_size` rows, at most `capacity` of them kept.
    #[must_use]
    pub fn new(page_size: usize, capacity: usize) -> Self {
        Self {
            collection: None,
            sort: EntrySort::Position,
            q: None,
            generation: 0,
            page_size: page_size.clamp(1, 1000),
            capacity: capacity.max(2),
            starts: vec![None],
            end: None,
            cached: BTreeMap::new(),
            stale: BTreeSet::new(),
            loading: BTreeSet::new(),
            total: None,
        }
    }

    /// Starts a new listing: everything known is dropped and answers to earlier requests
    /// are ignored from now on.
    pub fn reset(
        &mut self,
        collection: Option<CollectionId>,
        sort: EntrySort,
        q: Option<String>,
        total: Option<u64>,
    ) {
        *self = Self {
            generation: self.generation + 1,
            total: if q.is_none() { total } else { None },
            collection,
            sort,
            q,
            ..Self::new(self.page_size, self.capacity)
        };
    }

    /// The listing changed on the daemon: every page is refetched when next wanted (and
    /// shown as it was until then); the page cursors stay, since they are positions.
    pub fn invalidate(&mut self) {
        self.generation += 1;
        self.loading.clear();
        self.stale = self.cached.keys().copied().collect();
    }

    /// The collection's live count, as the collection list reports it.
    pub fn set_total(&mut self, total: u64) {
        if self.q.is_none() {
            self.total = Some(total);
        }
    }

    /// Answers carry this; an answer of an older generation is dropped.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The collection listed.
    #[must_use]
    pub fn collection(&self) -> Option<&CollectionId> {
        self.collection.as_ref()
    }

    /// The sort order.
    #[must_use]
    pub fn sort(&self) -> EntrySort {
        self.sort
    }

    /// The filter (the API's `q`).
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.q.as_deref()
    }

    /// Rows per page.
    #[must_use]
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Rows in the listing: exact once the last page was seen or (without a filter) from
    /// the collection's count; otherwise a lower bound (see [`Pages::is_exact`]).
    #[must_use]
    pub fn len(&self) -> usize {
        if let Some(end) = self.end
            && let Some(last) = self.cached.get(&end)
        {
            return end * self.page_size + last.len();
        }
        if let Some(total) = self.total {
            return total as usize;
        }
        let known = self.starts.len() - 1;
        let on_last = self.cached.get(&known).map_or(0, Vec::len);
        match self.end {
            Some(end) => end * self.page_size + on_last,
            None => known * self.page_size + on_last.max(usize::from(known > 0)),
        }
    }

    /// Whether [`Pages::len`] is the count rather than a lower bound.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        self.end.is_some() || self.total.is_some()
    }

    /// Whether there are no rows (as far as is known).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`, if its page is here.
    #[must_use]
    pub fn row(&self, i: usize) -> Option<&Entry> {
        self.cached
            .get(&(i / self.page_size))
            .and_then(|p| p.get(i % self.page_size))
    }

    /// Whether some page is on its way.
    #[must_use]
    pub fn is_loading(&self) -> bool {
        !self.loading.is_empty()
    }

    /// Pages whose start is known, and all pages if the count is known: the progress of a
    /// walk towards the end.
    #[must_use]
    pub fn walk_progress(&self) -> (usize, Option<usize>) {
        let pages = self.len().div_ceil(self.page_size);
        (self.starts.len(), self.is_exact().then_some(pages))
    }

    /// The fetches that bring rows `first..=last` (and a little around them) into the
    /// cache; each page is asked for once until it arrives. A page beyond the known
    /// cursors is reached through the last known one.
    pub fn wanted(&mut self, first: usize, last: usize) -> Vec<Effect> {
        let Some(collection) = self.collection.clone() else {
            return Vec::new();
        };
        let margin = self.page_size / 4;
        let from = first.saturating_sub(margin) / self.page_size;
        let mut to = last.saturating_add(margin) / self.page_size;
        if let Some(end) = self.end {
            to = to.min(end);
        }
        if self.is_exact() {
            to = to.min(self.len().saturating_sub(1) / self.page_size);
        }
        let mut out = Vec::new();
        for k in from..=to {
            let page = if k < self.starts.len() {
                k
            } else {
                self.starts.len() - 1
            };
            let fresh = self.cached.contains_key(&page) && !self.stale.contains(&page);
            if fresh || self.loading.contains(&page) {
                continue;
            }
            self.loading.insert(page);
            out.push(Effect::FetchPage {
                collection: collection.clone(),
                generation: self.generation,
                page,
                params: EntryListParams {
                    cursor: self.starts[page].clone(),
                    limit: Some(self.page_size),
                    sort: Some(self.sort),
                    q: self.q.clone(),
                    ..EntryListParams::default()
                },
            });
        }
        out
    }

    /// Takes an answer in. `near` is the cursor's row: when over the bound, the pages
    /// farthest from it go. Answers of another generation are dropped (`false`).
    pub fn loaded(&mut self, generation: u64, page: usize, answer: EntryPage, near: usize) -> bool {
        if generation != self.generation {
            return false;
        }
        self.loading.remove(&page);
        self.stale.remove(&page);
        if let Some(next) = answer.next_cursor {
            if self.starts.len() == page + 1 {
                self.starts.push(Some(next));
            } else if let Some(slot) = self.starts.get_mut(page + 1) {
                *slot = Some(next);
            }
            if self.end.is_some_and(|e| e <= page) {
                self.end = None;
            }
        } else {
            self.end = Some(page);
            self.starts.truncate(page + 1);
            self.cached.retain(|k, _| *k <= page);
            self.stale.retain(|k| *k <= page);
        }
        self.cached.insert(page, answer.entries);
        let near = near / self.page_size;
        while self.cached.len() > self.capacity {
            let Some(far) = self.cached.keys().copied().max_by_key(|k| k.abs_diff(near)) else {
                break;
            };
            self.cached.remove(&far);
            self.stale.remove(&far);
        }
        true
    }

    /// A fetch failed: the page may be asked for again.
    pub fn failed(&mut self, generation: u64, page: usize) {
        if generation == self.generation {
            self.loading.remove(&page);
        }
    }

    /// The row of `item` among the pages here.
    #[must_use]
    pub fn find(&self, item: ItemId) -> Option<usize> {
        self.cached.iter().find_map(|(k, rows)| {
            rows.iter()
                .position(|e| e.item_id == item)
                .map(|i| k * self.page_size + i)
        })
    }

    /// The rows of `from..=to` that are here, with their row numbers.
    pub fn loaded_rows(&self, from: usize, to: usize) -> impl Iterator<Item = (usize, &Entry)> {
        (from..=to).filter_map(|i| self.row(i).map(|e| (i, e)))
    }

    /// Pages here (for tests and the benchmark's accounting).
    #[must_use]
    pub fn pages_here(&self) -> usize {
        self.cached.len()
    }

    /// Places `entries` as page `page` of a listing of `collection`, as if fetched; for
    /// tests and benchmarks that build a model without a daemon.
    pub fn fill(
        &mut self,
        collection: &CollectionId,
        total: u64,
        page: usize,
        entries: Vec<Entry>,
    ) {
        if self.collection.as_ref() != Some(collection) {
            self.reset(Some(collection.clone()), self.sort, None, Some(total));
        }
        let more = (page + 1) * self.page_size < total as usize;
        while self.starts.len() <= page + usize::from(more) {
            let k = self.starts.len();
            self.starts.push(Some(format!("p{k}")));
        }
        self.cached.insert(page, entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn page(from: usize, n: usize, more: bool) -> EntryPage {
        EntryPage {
            entries: (from..from + n).map(testdata::entry).collect(),
            next_cursor: more.then(|| format!("c{}", from + n)),
        }
    }

    fn fetches(effects: &[Effect]) -> Vec<(usize, Option<String>)> {
        effects
            .iter()
            .map(|e| match e {
                Effect::FetchPage { page, params, .. } => (*page, params.cursor.clone()),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn listing(total: u64) -> Pages {
        let mut p = Pages::new(10, 3);
        p.reset(
            Some(testdata::cid("big")),
            EntrySort::Position,
            None,
            Some(total),
        );
        p
    }

    #[test]
    fn the_first_fetch_asks_for_page_zero_once() {
        let mut p = listing(100);
        assert_eq!(fetches(&p.wanted(0, 5)), [(0, None)]);
        assert!(p.wanted(0, 5).is_empty(), "already on its way");
        assert!(p.loaded(p.generation(), 0, page(0, 10, true), 0));
        assert_eq!(
            p.row(3).map(|e| e.display_name.as_str()),
            Some("file-00003.pdf")
        );
        assert_eq!(p.len(), 100);
    }

    #[test]
    fn a_page_past_the_known_cursors_is_reached_by_walking_and_the_cache_stays_bounded() {
        let mut p = listing(50);
        let g = p.generation();
        // Jump to the last row: only the last known page can be asked for.
        assert_eq!(fetches(&p.wanted(49, 49)), [(0, None)]);
        for k in 0..5 {
            let more = k < 4;
            assert!(p.loaded(g, k, page(k * 10, 10, more), 49));
            let next = p.wanted(49, 49);
            if more {
                assert_eq!(
                    fetches(&next),
                    [(k + 1, Some(format!("c{}", (k + 1) * 10)))]
                );
            } else {
                assert!(next.is_empty());
            }
            assert!(p.pages_here() <= 3);
        }
        assert_eq!(
            p.row(49).map(|e| e.display_name.as_str()),
            Some("file-00049.pdf")
        );
        assert!(p.row(0).is_none(), "far pages were evicted");
        assert_eq!(p.walk_progress(), (5, Some(5)));
    }

    #[test]
    fn answers_of_an_earlier_listing_are_dropped() {
        let mut p = listing(100);
        let old = p.generation();
        p.wanted(0, 0);
        p.reset(Some(testdata::cid("other")), EntrySort::Name, None, Some(3));
        assert!(!p.loaded(old, 0, page(0, 10, true), 0));
        assert!(p.row(0).is_none());
    }

    #[test]
    fn an_invalidated_page_is_shown_until_its_refetch_replaces_it() {
        let mut p = listing(20);
        let g = p.generation();
        p.wanted(0, 0);
        p.loaded(g, 0, page(0, 10, true), 0);
        p.invalidate();
        assert_eq!(
            p.row(0).map(|e| e.display_name.as_str()),
            Some("file-00000.pdf")
        );
        assert_eq!(fetches(&p.wanted(0, 0)), [(0, None)]);
        assert!(p.loaded(p.generation(), 0, page(5, 10, true), 0));
        assert_eq!(
            p.row(0).map(|e| e.display_name.as_str()),
            Some("file-00005.pdf")
        );
    }

    #[test]
    fn a_filtered_listing_counts_what_it_has_seen_until_its_end() {
        let mut p = Pages::new(10, 3);
        p.reset(
            Some(testdata::cid("big")),
            EntrySort::Position,
            Some("x".into()),
            Some(1000),
        );
        let g = p.generation();
        assert_eq!(p.len(), 0);
        p.wanted(0, 0);
        p.loaded(g, 0, page(0, 10, true), 0);
        assert_eq!((p.len(), p.is_exact()), (11, false));
        p.wanted(10, 10);
        p.loaded(g, 1, page(10, 4, false), 10);
        assert_eq!((p.len(), p.is_exact()), (14, true));
        assert_eq!(p.find(testdata::item(12)), Some(12));
    }
}
