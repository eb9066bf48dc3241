//! `select` with a query (SPEC §2.1, §7.1): from one collection, in its order, or without
//! one from every item, in id order; live items only unless the query says otherwise, `~`
//! the home the context carries, bounded by `max_select`.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use serde_json::{Value, json};
use sheaf_core::rules::{self, BatchAdd, BatchItems, Mode, Selection};
use sheaf_core::{Details, EntryFilter, ErrorCode, ItemId, Kind, Loc, Query};
use support::{World, batch_outcome, cid, counts, link};

const PAPER: &str = "/home/u/papers/a.pdf";
const PHOTO: &str = "/home/u/pics/b.png";
const THESIS: &str = "/home/u/papers/c.pdf";
const NOTES: &str = "/home/u/notes/d.md";

fn setup(collections: &[&str]) -> (World, [ItemId; 4]) {
    let mut w = World::new();
    w.home = Some("/home/u".to_owned());
    for c in collections {
        w.create(c);
    }
    let ids = w.register(&[PAPER, PHOTO, THESIS, NOTES]);
    (w, [ids[0], ids[1], ids[2], ids[3]])
}

fn query(json: &Value) -> Query {
    Query::parse(json, &[]).expect("a valid query")
}

/// A selection from `collection` (or every item) of what `q` matches.
fn by_query(collection: Option<&str>, q: &Value) -> BatchItems {
    BatchItems::Select(Selection {
        collection: collection.map(cid),
        filter: EntryFilter::default(),
        query: Some(Box::new(query(q))),
    })
}

/// Links what the selection takes into `target`.
fn select_into(target: &str, items: BatchItems) -> BatchAdd {
    BatchAdd {
        items,
        ..link(target, &[])
    }
}

#[test]
fn a_query_without_a_collection_selects_every_live_matching_item_in_id_order() {
    let (mut w, [paper, _photo, thesis, _notes]) = setup(&["reading"]);
    // Linked in reverse, so id order is not the order anything was added in.
    let req = select_into(
        "reading",
        by_query(None, &json!({"path": "~/papers/**", "kind": "document"})),
    );
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    assert_eq!(w.members("reading"), [paper, thesis]);

    // A file that is gone is not selected: the query's `deleted` defaults to false.
    w.create("later");
    w.file_gone(thesis);
    let plan = w.batch(&select_into(
        "later",
        by_query(None, &json!({"path": "~/papers/**"})),
    ));
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 0, 0));
    assert_eq!(w.members("later"), [paper]);

    // Asking for gone files selects them, and adding them is refused as ever.
    let r = w.refuse(|v, c| {
        rules::plan_batch_add(
            v,
            c,
            &select_into("later", by_query(None, &json!({"deleted": true}))),
        )
    });
    assert_eq!(r.code, ErrorCode::ItemDeleted);
}

#[test]
fn a_tilde_glob_matches_nothing_without_a_home_and_an_empty_selection_succeeds() {
    let (mut w, _) = setup(&["reading"]);
    w.home = None;
    let plan = w.batch(&select_into(
        "reading",
        by_query(None, &json!({"path": "~/papers/**"})),
    ));
    assert_eq!(batch_outcome(&plan).0, counts(0, 0, 0, 0));

    // The same glob spelled out matches.
    let plan = w.batch(&select_into(
        "reading",
        by_query(None, &json!({"path": "/home/u/papers/**"})),
    ));
    assert_eq!(batch_outcome(&plan).0.total, 2);
}

#[test]
fn a_query_with_a_collection_narrows_its_entries_in_position_order() {
    let (mut w, [paper, photo, thesis, notes]) = setup(&["inbox", "reading"]);
    w.link("inbox", &[notes, photo, paper]);
    let plan = w.batch(&select_into(
        "reading",
        by_query(Some("inbox"), &json!({"kind": ["document", "text"]})),
    ));
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    // The collection's order, not id order; the thesis is in no collection.
    assert_eq!(w.members("reading"), [notes, paper]);
    assert!(w.entry("reading", thesis).is_none());

    // `q` and `kind` still apply next to the query.
    w.create("more");
    let req = select_into(
        "more",
        BatchItems::Select(Selection {
            collection: Some(cid("inbox")),
            filter: EntryFilter {
                q: Some("papers".into()),
                kind: None,
            },
            query: Some(Box::new(query(&json!({"kind": ["document", "image"]})))),
        }),
    );
    w.batch(&req);
    assert_eq!(w.members("more"), [paper]);
}

#[test]
fn memberships_and_duplicates_are_matched_as_for_smart_collections() {
    let (mut w, [paper, photo, thesis, notes]) = setup(&["inbox", "done", "reading"]);
    w.link("inbox", &[paper, photo, thesis]);
    w.link("done", &[photo]);
    let plan = w.batch(&select_into(
        "reading",
        by_query(None, &json!({"in": "inbox", "not_in": "done"})),
    ));
    assert_eq!(batch_outcome(&plan).0.total, 2);
    assert_eq!(w.members("reading"), [paper, thesis]);

    // Two items with one content hash are duplicates of each other; a third alone is not.
    for (id, hash) in [(paper, "ab"), (notes, "ab"), (photo, "cd")] {
        let item = w.state.items.get_mut(&id.ulid()).unwrap();
        item.content_hash = Some(format!("{hash}{}", "0".repeat(62)));
    }
    w.create("dups");
    w.batch(&select_into(
        "dups",
        by_query(None, &json!({"duplicate": true})),
    ));
    assert_eq!(w.members("dups"), [paper, notes]);

    // `in` naming a collection that does not exist is not found, as in a smart collection.
    let r = w.refuse(|v, c| {
        rules::plan_batch_add(
            v,
            c,
            &select_into("dups", by_query(None, &json!({"in": "nowhere"}))),
        )
    });
    assert_eq!(r.code, ErrorCode::CollectionNotFound);
}

#[test]
fn a_query_selection_is_bounded_by_max_select_and_reads_every_item_in_pages() {
    let mut w = World::new();
    w.create("all");
    let paths: Vec<String> = (0..2500).map(|i| format!("/data/f{i:04}.txt")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    w.limits.max_batch = 2500;
    let ids = w.register(&refs);
    w.limits.max_select = 2499;
    let req = select_into("all", by_query(None, &json!({"kind": "text"})));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::BatchSizeExceeded);
    assert_eq!(
        r.message,
        "the selection matches more than 2499 items; narrow it down"
    );

    // Every item across the pages, once each, in id order.
    w.limits.max_select = 2500;
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2500, 2500, 0, 0));
    assert_eq!(w.members("all"), ids);
}

#[test]
fn a_select_needs_a_collection_or_a_query() {
    let (mut w, _) = setup(&["reading"]);
    let req = select_into(
        "reading",
        BatchItems::Select(Selection {
            collection: None,
            filter: EntryFilter {
                q: None,
                kind: Some(Kind::Image),
            },
            query: None,
        }),
    );
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    let Details::Fields(f) = &r.details else {
        panic!("{:?}", r.details)
    };
    assert_eq!(f[0].loc, [Loc::from("body"), Loc::from("select")]);
}

#[test]
fn a_move_by_query_takes_items_out_of_every_other_collection() {
    let (mut w, [paper, photo, thesis, _notes]) = setup(&["inbox", "keep", "papers"]);
    w.link("inbox", &[paper, photo]);
    w.link("keep", &[thesis]);
    let req = BatchAdd {
        mode: Mode::Move,
        ..select_into("papers", by_query(None, &json!({"path": "~/papers/*.pdf"})))
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 2, 0));
    assert_eq!(w.members("papers"), [paper, thesis]);
    assert_eq!(w.members("inbox"), [photo]);
    assert!(w.members("keep").is_empty());
}
