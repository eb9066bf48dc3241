//! The page cache: fetches, both ends, eviction, invalidation.

use super::PageAt::{Back, Front};
use super::*;
use crate::testdata;

fn page(from: usize, n: usize, more: bool) -> EntryPage {
    EntryPage {
        entries: (from..from + n).map(testdata::entry).collect(),
        next_cursor: more.then(|| format!("c{}", from + n)),
    }
}

fn fetches(effects: &[Effect]) -> Vec<(PageAt, Option<String>)> {
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
    assert_eq!(fetches(&p.wanted(0, 5)), [(Front(0), None)]);
    assert!(p.wanted(0, 5).is_empty(), "already on its way");
    assert!(p.loaded(p.generation(), Front(0), page(0, 10, true), 0));
    assert_eq!(
        p.row(3).map(|e| e.display_name.as_str()),
        Some("file-00003.pdf")
    );
    assert_eq!(p.len(), 100);
}

#[test]
fn a_page_past_the_known_cursors_of_a_filtered_listing_is_reached_by_walking_and_the_cache_stays_bounded()
 {
    let mut p = Pages::new(10, 3);
    p.reset(
        Some(testdata::cid("big")),
        EntrySort::Position,
        Some("file".into()),
        None,
    );
    let g = p.generation();
    // Jump to row 49 of a listing of unknown length: only the last known page can be asked for.
    assert_eq!(fetches(&p.wanted(49, 49)), [(Front(0), None)]);
    for k in 0..5 {
        let more = k < 4;
        assert!(p.loaded(g, Front(k), page(k * 10, 10, more), 49));
        let next = p.wanted(49, 49);
        if more {
            assert_eq!(
                fetches(&next),
                [(Front(k + 1), Some(format!("c{}", (k + 1) * 10)))]
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
    assert!(!p.loaded(old, Front(0), page(0, 10, true), 0));
    assert!(p.row(0).is_none());
}

#[test]
fn an_invalidated_page_is_shown_until_its_refetch_replaces_it() {
    let mut p = listing(20);
    let g = p.generation();
    p.wanted(0, 0);
    p.loaded(g, Front(0), page(0, 10, true), 0);
    p.invalidate();
    assert_eq!(
        p.row(0).map(|e| e.display_name.as_str()),
        Some("file-00000.pdf")
    );
    assert_eq!(fetches(&p.wanted(0, 0)), [(Front(0), None)]);
    assert!(p.loaded(p.generation(), Front(0), page(5, 10, true), 0));
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
    p.loaded(g, Front(0), page(0, 10, true), 0);
    assert_eq!((p.len(), p.is_exact()), (11, false));
    p.wanted(10, 10);
    p.loaded(g, Front(1), page(10, 4, false), 10);
    assert_eq!((p.len(), p.is_exact()), (14, true));
    assert_eq!(p.find(testdata::item(12)), Some(12));
}

/// Page `b` from the end of a listing of `n` rows, as `order=desc` answers it (last row
/// first).
fn back(n: usize, b: usize, size: usize) -> EntryPage {
    let end = n - b * size;
    let start = end.saturating_sub(size);
    EntryPage {
        entries: (start..end).rev().map(testdata::entry).collect(),
        next_cursor: (start > 0).then(|| format!("~c{start}")),
    }
}

#[test]
fn the_last_row_is_one_desc_fetch_and_its_rows_are_placed_from_the_end() {
    let mut p = listing(95);
    let g = p.generation();
    let asked = p.wanted(94, 94);
    let [Effect::FetchPage { page, params, .. }] = asked.as_slice() else {
        panic!("{asked:?}");
    };
    assert_eq!((*page, params.cursor.clone()), (Back(0), None));
    assert_eq!(params.order, Some(ListOrder::Desc));
    assert!(p.loaded(g, Back(0), back(95, 0, 10), 94));
    for i in 85..95 {
        assert_eq!(p.row(i).map(|e| e.item_id), Some(testdata::item(i)), "{i}");
    }
    assert!(p.row(84).is_none());
    assert_eq!(p.find(testdata::item(90)), Some(90));
    assert!(p.wanted(90, 94).is_empty(), "all here");
}

#[test]
fn scrolling_up_from_the_end_walks_backwards_and_forward_pages_still_serve_the_top() {
    let mut p = listing(95);
    let g = p.generation();
    p.wanted(0, 0);
    p.loaded(g, Front(0), page(0, 10, true), 0);
    p.wanted(94, 94);
    p.loaded(g, Back(0), back(95, 0, 10), 94);
    // Row 70 is on back page 2; back page 1's start is known, so the walk steps to it.
    assert_eq!(fetches(&p.wanted(70, 70)), [(Back(1), Some("~c85".into()))]);
    p.loaded(g, Back(1), back(95, 1, 10), 70);
    assert_eq!(fetches(&p.wanted(70, 70)), [(Back(2), Some("~c75".into()))]);
    p.loaded(g, Back(2), back(95, 2, 10), 70);
    assert_eq!(p.row(70).map(|e| e.item_id), Some(testdata::item(70)));
    assert!(p.pages_here() <= 3, "the cache stays bounded");
    // The top is nearer the front: its known pages are used.
    assert_eq!(fetches(&p.wanted(12, 12)), [(Front(1), Some("c10".into()))]);
}

#[test]
fn a_filtered_listing_of_unknown_length_reads_forward_only() {
    let mut p = Pages::new(10, 3);
    p.reset(
        Some(testdata::cid("big")),
        EntrySort::Position,
        Some("x".into()),
        Some(1000),
    );
    p.wanted(0, 0);
    p.loaded(p.generation(), Front(0), page(0, 10, true), 0);
    assert_eq!(fetches(&p.wanted(10, 10)), [(Front(1), Some("c10".into()))]);
}

#[test]
fn reaching_the_start_from_the_end_counts_the_rows() {
    let mut p = listing(15);
    let g = p.generation();
    p.wanted(14, 14);
    p.loaded(g, Back(0), back(15, 0, 10), 14);
    assert_eq!(fetches(&p.wanted(2, 2)), [(Front(0), None)]);
    assert!(p.loaded(g, Back(1), back(15, 1, 10), 2));
    assert_eq!((p.len(), p.is_exact()), (15, true));
    assert_eq!(p.row(2).map(|e| e.item_id), Some(testdata::item(2)));
}
