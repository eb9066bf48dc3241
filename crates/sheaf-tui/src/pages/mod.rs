//! The entries of the open collection, fetched a page at a time around the viewport and
//! never as a whole: a bounded cache of pages, the cursor that starts each page seen so
//! far (one short string per page, so a million entries cost a thousand cursors), and the
//! row count from the collection's `item_count`.
//!
//! Pages are read from both ends. A front page `k` holds rows `k·size..`, read forward
//! (`order=asc`); a back page `b` holds the `size` rows that end `b·size` rows before the
//! last, read backward (`order=desc`) and kept in ascending order. Back pages need the row
//! count (to place them), so a listing of unknown length (a filter) reads forward only.
//! A page whose start is not known yet is reached by following the known cursors from the
//! nearer end, each page evicted again as soon as the cache is over its bound: `G` is one
//! request (back page 0), and scrolling up from there pages backwards.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use sheaf_core::{CollectionId, ItemId};
use sheaf_proto::requests::{EntryListParams, EntrySort, ListOrder};
use sheaf_proto::resources::Entry;
use sheaf_proto::responses::EntryPage;

use crate::action::Effect;

/// Entries per page: the API's largest page, so that a walk takes the fewest requests.
pub const PAGE_SIZE: usize = 1000;
/// Pages kept in memory.
pub const PAGES_KEPT: usize = 6;

/// Which page: counted from the first row, or from the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageAt {
    /// Rows `k·size .. (k+1)·size`, read forward.
    Front(usize),
    /// The `size` rows ending `b·size` rows before the end, read backward.
    Back(usize),
}

/// The cursors of one direction: `starts[k]` begins page `k` (`None` for page 0); known
/// for a prefix.
#[derive(Clone, Debug)]
struct Starts(Vec<Option<String>>);

impl Default for Starts {
    fn default() -> Self {
        Self(vec![None])
    }
}

impl Starts {
    /// Pages whose start is known.
    fn known(&self) -> usize {
        self.0.len()
    }

    /// Records that page `page + 1` starts at `next`.
    fn follow(&mut self, page: usize, next: String) {
        if self.0.len() == page + 1 {
            self.0.push(Some(next));
        } else if let Some(slot) = self.0.get_mut(page + 1) {
            *slot = Some(next);
        }
    }
}

/// One listing of one collection (its sort order and filter) and what is known of it.
#[derive(Clone, Debug)]
pub struct Pages {
    collection: Option<CollectionId>,
    sort: EntrySort,
    q: Option<String>,
    generation: u64,
    page_size: usize,
    capacity: usize,
    front: Starts,
    back: Starts,
    /// The last front page, once one came back without `next_cursor`.
    end: Option<usize>,
    /// The row count, once either end was reached.
    counted: Option<usize>,
    cached: BTreeMap<PageAt, Vec<Entry>>,
    /// Pages shown until their refetch (after a change) arrives.
    stale: BTreeSet<PageAt>,
    loading: BTreeSet<PageAt>,
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
            front: Starts::default(),
            back: Starts::default(),
            end: None,
            counted: None,
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

    /// The collection's live count, as the collection list reports it. A new count moves
    /// the rows of back pages: they are shown until their refetch places them again.
    pub fn set_total(&mut self, total: u64) {
        if self.q.is_some() {
            return;
        }
        if self.total != Some(total) && self.counted.is_none() {
            self.stale
                .extend(self.cached.keys().filter(|k| matches!(k, PageAt::Back(_))));
        }
        self.total = Some(total);
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

    /// Rows in the listing: exact once an end was reached or (without a filter) from the
    /// collection's count; otherwise a lower bound (see [`Pages::is_exact`]).
    #[must_use]
    pub fn len(&self) -> usize {
        if let Some(n) = self.counted {
            return n;
        }
        if let Some(total) = self.total {
            return total as usize;
        }
        let known = self.front.known() - 1;
        let on_last = self.cached.get(&PageAt::Front(known)).map_or(0, Vec::len);
        known * self.page_size + on_last.max(usize::from(known > 0))
    }

    /// Whether [`Pages::len`] is the count rather than a lower bound.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        self.counted.is_some() || self.total.is_some()
    }

    /// Whether there are no rows (as far as is known).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first row of back page `b` (possibly before the listing's start, for a short
    /// page) as `end - rows`: the exclusive end row, with the count exact.
    fn back_end_row(&self, b: usize) -> Option<usize> {
        self.is_exact()
            .then(|| self.len().checked_sub(b * self.page_size))
            .flatten()
    }

    /// Row `i`, if a page holding it is here.
    #[must_use]
    pub fn row(&self, i: usize) -> Option<&Entry> {
        let ps = self.page_size;
        if let Some(e) = self
            .cached
            .get(&PageAt::Front(i / ps))
            .and_then(|p| p.get(i % ps))
        {
            return Some(e);
        }
        let n = self.len();
        if !self.is_exact() || i >= n {
            return None;
        }
        let b = (n - 1 - i) / ps;
        let rows = self.cached.get(&PageAt::Back(b))?;
        let from_end = n - b * ps - i;
        rows.len().checked_sub(from_end).and_then(|at| rows.get(at))
    }

    /// Whether some page is on its way.
    #[must_use]
    pub fn is_loading(&self) -> bool {
        !self.loading.is_empty()
    }

    /// Pages whose start is known (from either end), and all pages if the count is known:
    /// the progress of a walk.
    #[must_use]
    pub fn walk_progress(&self) -> (usize, Option<usize>) {
        let pages = self.len().div_ceil(self.page_size);
        let known = self.front.known() + self.back.known() - 1;
        (
            if self.is_exact() {
                known.min(pages)
            } else {
                known
            },
            self.is_exact().then_some(pages),
        )
    }

    /// The page to ask for to bring rows `r0..=r1` (all on one front page `k`) closer:
    /// the front page if its start is known, else the back pages holding them if theirs
    /// are, else a step of the walk from the nearer end.
    fn slots_for(&self, k: usize, r0: usize, r1: usize, out: &mut BTreeSet<PageAt>) {
        let walk_front = PageAt::Front(self.front.known() - 1);
        if k < self.front.known() {
            out.insert(PageAt::Front(k));
            return;
        }
        if !self.is_exact() {
            out.insert(walk_front);
            return;
        }
        let n = self.len();
        let (lo, hi) = ((n - 1 - r1) / self.page_size, (n - 1 - r0) / self.page_size);
        for b in lo..=hi {
            if b < self.back.known() {
                out.insert(PageAt::Back(b));
            } else if k - (self.front.known() - 1) <= b - (self.back.known() - 1) {
                out.insert(walk_front);
            } else {
                out.insert(PageAt::Back(self.back.known() - 1));
            }
        }
    }

    /// The fetches that bring rows `first..=last` (and a little around them) into the
    /// cache; each page is asked for once until it arrives.
    pub fn wanted(&mut self, first: usize, last: usize) -> Vec<Effect> {
        let Some(collection) = self.collection.clone() else {
            return Vec::new();
        };
        let ps = self.page_size;
        let margin = ps / 4;
        let lo = first.saturating_sub(margin);
        let mut hi = last.saturating_add(margin);
        if let Some(end) = self.end {
            hi = hi.min((end + 1) * ps - 1);
        }
        if self.is_exact() {
            if self.is_empty() {
                hi = 0;
            } else {
                hi = hi.min(self.len() - 1);
            }
        }
        let mut slots = BTreeSet::new();
        for k in lo / ps..=(hi / ps).max(lo / ps) {
            let (r0, r1) = ((k * ps).max(lo), ((k + 1) * ps - 1).min(hi.max(lo)));
            // Rows here already (from either end) need nothing.
            if (r0..=r1).all(|i| self.fresh_row(i)) {
                continue;
            }
            self.slots_for(k, r0, r1, &mut slots);
        }
        let mut out = Vec::new();
        for slot in slots {
            let fresh = self.cached.contains_key(&slot) && !self.stale.contains(&slot);
            if fresh || self.loading.contains(&slot) {
                continue;
            }
            let (cursor, order) = match slot {
                PageAt::Front(k) => (self.front.0[k].clone(), None),
                PageAt::Back(b) => (self.back.0[b].clone(), Some(ListOrder::Desc)),
            };
            self.loading.insert(slot);
            out.push(Effect::FetchPage {
                collection: collection.clone(),
                generation: self.generation,
                page: slot,
                params: EntryListParams {
                    cursor,
                    limit: Some(ps),
                    sort: Some(self.sort),
                    order,
                    q: self.q.clone(),
                    ..EntryListParams::default()
                },
            });
        }
        out
    }

    /// Whether row `i` is here on a page that is not waiting for its refetch.
    fn fresh_row(&self, i: usize) -> bool {
        let ps = self.page_size;
        let front = PageAt::Front(i / ps);
        if self.cached.get(&front).is_some_and(|p| i % ps < p.len()) {
            return !self.stale.contains(&front);
        }
        if !self.is_exact() || i >= self.len() {
            return false;
        }
        let back = PageAt::Back((self.len() - 1 - i) / ps);
        self.row(i).is_some() && !self.stale.contains(&back)
    }

    /// Takes an answer in. `near` is the cursor's row: when over the bound, the pages
    /// farthest from it go. Answers of another generation are dropped (`false`).
    pub fn loaded(
        &mut self,
        generation: u64,
        page: PageAt,
        answer: EntryPage,
        near: usize,
    ) -> bool {
        if generation != self.generation {
            return false;
        }
        self.loading.remove(&page);
        self.stale.remove(&page);
        let ps = self.page_size;
        let mut rows = answer.entries;
        match (page, answer.next_cursor) {
            (PageAt::Front(k), Some(next)) => {
                self.front.follow(k, next);
                if self.end.is_some_and(|e| e <= k) {
                    self.end = None;
                    self.counted = None;
                }
            }
            (PageAt::Front(k), None) => {
                self.end = Some(k);
                self.counted = Some(k * ps + rows.len());
                self.front.0.truncate(k + 1);
                self.cached
                    .retain(|at, _| !matches!(at, PageAt::Front(j) if *j > k));
                self.stale
                    .retain(|at| !matches!(at, PageAt::Front(j) if *j > k));
            }
            (PageAt::Back(b), Some(next)) => self.back.follow(b, next),
            (PageAt::Back(b), None) => {
                // The start of the listing, reached from its end: the count is known.
                if self.end.is_none() {
                    self.counted = Some(b * ps + rows.len());
                }
                self.back.0.truncate(b + 1);
            }
        }
        if matches!(page, PageAt::Back(_)) {
            rows.reverse();
        }
        self.cached.insert(page, rows);
        self.evict(near);
        true
    }

    /// Drops the pages farthest from row `near` while over the bound.
    fn evict(&mut self, near: usize) {
        let ps = self.page_size;
        let n = self.len();
        let middle = |at: &PageAt| match *at {
            PageAt::Front(k) => k * ps + ps / 2,
            PageAt::Back(b) => n.saturating_sub(b * ps + ps / 2),
        };
        while self.cached.len() > self.capacity {
            let Some(far) = self
                .cached
                .keys()
                .copied()
                .max_by_key(|at| middle(at).abs_diff(near))
            else {
                break;
            };
            self.cached.remove(&far);
            self.stale.remove(&far);
        }
    }

    /// A fetch failed: the page may be asked for again.
    pub fn failed(&mut self, generation: u64, page: PageAt) {
        if generation == self.generation {
            self.loading.remove(&page);
        }
    }

    /// The row of `item` among the pages here.
    #[must_use]
    pub fn find(&self, item: ItemId) -> Option<usize> {
        let ps = self.page_size;
        self.cached.iter().find_map(|(at, rows)| {
            let i = rows.iter().position(|e| e.item_id == item)?;
            match *at {
                PageAt::Front(k) => Some(k * ps + i),
                PageAt::Back(b) => (self.back_end_row(b)? + i).checked_sub(rows.len()),
            }
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

    /// Places `entries` as front page `page` of a listing of `collection`, as if fetched;
    /// for tests and benchmarks that build a model without a daemon.
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
        while self.front.known() <= page + usize::from(more) {
            let k = self.front.known();
            self.front.0.push(Some(format!("p{k}")));
        }
        self.cached.insert(PageAt::Front(page), entries);
    }
}
