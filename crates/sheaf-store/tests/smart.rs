//! Smart collections in the store (SPEC §7.2): filled in the background, then kept inside
//! every write that can change an item's answer, in dependency order, never by hand.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use redb::backends::InMemoryBackend;
use sheaf_core::rules::{
    BatchAdd, CollectionUpdate, ItemTarget, ItemUpdate, NewCollection, Remove,
};
use sheaf_core::{
    CollectionId, EntrySource, ErrorCode, EventKind, FileFacts, ItemId, Loc, MetaValue, Outcome,
    Query, Timestamp,
};
use sheaf_store::{CollectionQuery, EntryQuery, Options, Store, WriteError};

fn cid(s: &str) -> CollectionId {
    CollectionId::parse(s).unwrap()
}

fn store() -> Store {
    let options = Options {
        durable: false,
        home: Some("/home/u".into()),
        ..Options::default()
    };
    Store::open_backend(InMemoryBackend::new(), options).unwrap()
}

fn file(path: &str, content_type: &str) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: 100,
        mtime: Timestamp::from_micros(1),
        content_type: content_type.into(),
        file_id: None,
    }
}

fn register(store: &Store, files: &[FileFacts]) -> Vec<ItemId> {
    let Outcome::Items(ids) = store.register(files).unwrap().outcome else {
        panic!("register answers items")
    };
    ids
}

fn query(json: &serde_json::Value) -> Query {
    Query::parse(json, &[Loc::from("query")]).unwrap()
}

fn create(store: &Store, id: &str, q: Option<&serde_json::Value>) {
    store
        .create_collection(&NewCollection {
            id: Some(cid(id)),
            query: q.map(query),
            ..NewCollection::default()
        })
        .unwrap();
}

fn fill(store: &Store) {
    while store.fill_smart(2).unwrap().is_some() {}
}

/// The collection's live members.
fn members(store: &Store, id: &str) -> BTreeSet<ItemId> {
    let page = store
        .entries(
            &cid(id),
            &EntryQuery {
                limit: 1000,
                ..EntryQuery::default()
            },
        )
        .unwrap()
        .unwrap();
    page.items.into_iter().map(|l| l.item.id).collect()
}

fn count(store: &Store, id: &str) -> u64 {
    store.collection(&cid(id)).unwrap().unwrap().item_count
}

fn refusal(e: WriteError) -> ErrorCode {
    match e {
        WriteError::Refused(r) => r.code,
        WriteError::Store(e) => panic!("the store failed: {e}"),
    }
}

/// What the listing of collections says of each smart one's fill.
fn listed_filling(store: &Store) -> Vec<(String, bool)> {
    store
        .collections(&CollectionQuery::default())
        .unwrap()
        .into_iter()
        .filter(|c| c.query.is_some())
        .map(|c| (c.id.to_string(), c.filling))
        .collect()
}

#[test]
fn a_new_smart_collection_is_filled_in_chunks_then_says_it_is_filled() {
    let store = store();
    let ids = register(
        &store,
        &[
            file("/home/u/Papers/a.pdf", "application/pdf"),
            file("/home/u/Papers/b.txt", "text/plain"),
            file("/home/u/Papers/c.pdf", "application/pdf"),
            file("/tmp/d.pdf", "application/pdf"),
            file("/home/u/Papers/e.pdf", "application/pdf"),
        ],
    );
    create(
        &store,
        "papers",
        Some(&serde_json::json!({"kind": "document", "path": "~/Papers/**"})),
    );
    let c = store.collection(&cid("papers")).unwrap().unwrap();
    assert!(c.filling, "filling until the background fill is done");
    assert_eq!(c.item_count, 0);
    assert_eq!(listed_filling(&store), [("papers".to_owned(), true)]);

    let mut steps = Vec::new();
    while let Some(step) = store.fill_smart(2).unwrap() {
        steps.push(step);
    }
    assert_eq!(steps.iter().map(|s| s.looked_at).sum::<usize>(), 5);
    assert!(steps.last().unwrap().done);
    assert_eq!(steps.iter().map(|s| s.added).sum::<u64>(), 3);
    let c = store.collection(&cid("papers")).unwrap().unwrap();
    assert!(!c.filling);
    assert_eq!(c.item_count, 3);
    assert_eq!(listed_filling(&store), [("papers".to_owned(), false)]);
    assert_eq!(
        members(&store, "papers"),
        BTreeSet::from([ids[0], ids[2], ids[4]])
    );

    // Its entries are the query's: the item's file name, the item id as unique id, no
    // metadata, source `query`, and the feed says so.
    let entry = store.entry(&cid("papers"), ids[0]).unwrap().unwrap();
    assert_eq!(entry.display_name, "a.pdf");
    assert_eq!(entry.unique_id, ids[0].to_string());
    assert!(entry.metadata.is_empty());
    assert_eq!(entry.source, EntrySource::Query);
    let feed = store.events(0, usize::MAX).unwrap();
    let added: Vec<_> = feed
        .events
        .iter()
        .filter(|e| e.event.kind == EventKind::EntryAdded)
        .collect();
    assert_eq!(added.len(), 3);
    assert!(
        added
            .iter()
            .all(|e| e.event.source == Some(EntrySource::Query))
    );
}

#[test]
fn writes_keep_a_filled_smart_collection_exact_in_their_own_transaction() {
    let store = store();
    create(
        &store,
        "reviewed",
        Some(&serde_json::json!({"metadata": {"reviewed": true}})),
    );
    fill(&store);
    let ids = register(&store, &[file("/d/a.pdf", "application/pdf")]);
    assert!(members(&store, "reviewed").is_empty());

    // A metadata patch makes the item match: its entry comes with the patch's commit.
    let patch = |v: bool| ItemUpdate {
        metadata: Some([("reviewed".to_owned(), Some(MetaValue::Bool(v)))].into()),
    };
    let w = store
        .update_item(&ItemTarget::Id(ids[0]), &patch(true))
        .unwrap();
    assert_eq!(members(&store, "reviewed"), BTreeSet::from([ids[0]]));
    let (first, last) = w.seqs.unwrap();
    assert_eq!(
        last - first,
        1,
        "item.updated and entry.added in one commit"
    );
    let op = match w.outcome {
        Outcome::Item { op_id, .. } => op_id.unwrap(),
        other => panic!("{other:?}"),
    };

    // Undoing the patch takes it out again; the smart entry never blocks the undo.
    store.undo(op).unwrap();
    assert!(members(&store, "reviewed").is_empty());
    assert_eq!(count(&store, "reviewed"), 0);

    // A file that changes type leaves a type query.
    create(
        &store,
        "pdfs",
        Some(&serde_json::json!({"content_type": "application/pdf"})),
    );
    fill(&store);
    assert_eq!(members(&store, "pdfs"), BTreeSet::from([ids[0]]));
    register(&store, &[file("/d/a.pdf", "text/plain")]);
    assert!(members(&store, "pdfs").is_empty());
}

/// A store with two PDFs and the hand-kept collection `inbox`.
fn two_pdfs_and_an_inbox() -> (Store, Vec<ItemId>) {
    let store = store();
    let ids = register(
        &store,
        &[
            file("/d/a.pdf", "application/pdf"),
            file("/d/b.pdf", "application/pdf"),
        ],
    );
    create(&store, "inbox", None);
    (store, ids)
}

#[test]
fn smart_collections_that_read_other_collections_follow_them_in_order() {
    let (store, ids) = two_pdfs_and_an_inbox();
    create(&store, "done", None);
    // `todo` reads `inbox` and `done`; `urgent` reads `todo`, itself smart.
    create(
        &store,
        "todo",
        Some(&serde_json::json!({"in": ["inbox"], "not_in": ["done"]})),
    );
    create(&store, "urgent", Some(&serde_json::json!({"in": ["todo"]})));
    fill(&store);

    store
        .batch_add(&BatchAdd::link(cid("inbox"), ids.clone()))
        .unwrap();
    assert_eq!(members(&store, "todo"), ids.iter().copied().collect());
    assert_eq!(members(&store, "urgent"), ids.iter().copied().collect());

    store
        .batch_add(&BatchAdd::link(cid("done"), [ids[0]]))
        .unwrap();
    assert_eq!(members(&store, "todo"), BTreeSet::from([ids[1]]));
    assert_eq!(members(&store, "urgent"), BTreeSet::from([ids[1]]));

    // A cycle through smart collections is refused where it would close.
    let e = store
        .update_collection(
            &cid("todo"),
            &CollectionUpdate {
                query: Some(query(&serde_json::json!({"in": ["urgent"]}))),
                ..CollectionUpdate::default()
            },
        )
        .unwrap_err();
    let r = e.refusal().unwrap();
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert!(r.message.contains("own members"), "{}", r.message);

    // `default` is every item in no collection, this one included: reading it is a cycle.
    let e = store
        .create_collection(&NewCollection {
            id: Some(cid("unfiled_pdfs")),
            query: Some(query(&serde_json::json!({"in": ["default"]}))),
            ..NewCollection::default()
        })
        .unwrap_err();
    assert_eq!(refusal(e), ErrorCode::ValidationError);

    // So is a query on a collection that does not exist.
    let e = store
        .create_collection(&NewCollection {
            id: Some(cid("nowhere")),
            query: Some(query(&serde_json::json!({"in": ["missing"]}))),
            ..NewCollection::default()
        })
        .unwrap_err();
    assert_eq!(refusal(e), ErrorCode::CollectionNotFound);
}

#[test]
fn hand_changes_to_a_smart_collection_are_refused_but_it_is_a_source_for_links() {
    let store = store();
    let ids = register(
        &store,
        &[
            file("/d/a.pdf", "application/pdf"),
            file("/d/b.txt", "text/plain"),
        ],
    );
    create(
        &store,
        "pdfs",
        Some(&serde_json::json!({"kind": "document"})),
    );
    create(&store, "other", None);
    fill(&store);

    let into_smart = store.batch_add(&BatchAdd::link(cid("pdfs"), [ids[1]]));
    assert_eq!(
        refusal(into_smart.unwrap_err()),
        ErrorCode::CollectionIsSmart
    );
    let out_of_smart = store.remove(&Remove {
        collection: cid("pdfs"),
        items: vec![ItemTarget::Id(ids[0])],
    });
    assert_eq!(
        refusal(out_of_smart.unwrap_err()),
        ErrorCode::CollectionIsSmart
    );
    let move_from_smart = store.batch_add(&BatchAdd {
        mode: sheaf_core::rules::Mode::Move,
        from: Some(cid("pdfs")),
        ..BatchAdd::link(cid("other"), [ids[0]])
    });
    assert_eq!(
        refusal(move_from_smart.unwrap_err()),
        ErrorCode::CollectionIsSmart
    );

    // A move without `from` takes items out of hand-kept collections only: the smart one
    // keeps what still matches.
    store
        .batch_add(&BatchAdd {
            mode: sheaf_core::rules::Mode::Move,
            ..BatchAdd::link(cid("other"), [ids[0]])
        })
        .unwrap();
    assert_eq!(members(&store, "pdfs"), BTreeSet::from([ids[0]]));
    assert_eq!(members(&store, "other"), BTreeSet::from([ids[0]]));

    // A collection kept by hand does not become smart by PATCH.
    let e = store
        .update_collection(
            &cid("other"),
            &CollectionUpdate {
                query: Some(query(&serde_json::json!({}))),
                ..CollectionUpdate::default()
            },
        )
        .unwrap_err();
    assert_eq!(refusal(e), ErrorCode::ValidationError);
}

#[test]
fn a_new_query_refills_the_collection_and_drops_what_no_longer_matches() {
    let store = store();
    let ids = register(
        &store,
        &[
            file("/d/a.pdf", "application/pdf"),
            file("/d/b.txt", "text/plain"),
        ],
    );
    create(
        &store,
        "picked",
        Some(&serde_json::json!({"kind": "document"})),
    );
    fill(&store);
    assert_eq!(members(&store, "picked"), BTreeSet::from([ids[0]]));
    store
        .update_collection(
            &cid("picked"),
            &CollectionUpdate {
                query: Some(query(&serde_json::json!({"kind": "text"}))),
                ..CollectionUpdate::default()
            },
        )
        .unwrap();
    assert!(store.collection(&cid("picked")).unwrap().unwrap().filling);
    fill(&store);
    assert_eq!(members(&store, "picked"), BTreeSet::from([ids[1]]));
    assert_eq!(count(&store, "picked"), 1);
}

/// Found by `smart_model.rs`: a collection in the trash keeps its entries live (for its
/// restore) but they are no memberships, so trashing or restoring it changes the answer of
/// `in`/`not_in` (and `watch`) for its items though no entry changes.
#[test]
fn trashing_a_collection_read_by_in_or_not_in_moves_its_items_and_restoring_moves_them_back() {
    let (store, ids) = two_pdfs_and_an_inbox();
    create(&store, "todo", Some(&serde_json::json!({"in": ["inbox"]})));
    create(
        &store,
        "rest",
        Some(&serde_json::json!({"not_in": ["inbox"]})),
    );
    fill(&store);
    store
        .batch_add(&BatchAdd::link(cid("inbox"), [ids[0]]))
        .unwrap();
    assert_eq!(members(&store, "todo"), BTreeSet::from([ids[0]]));
    assert_eq!(members(&store, "rest"), BTreeSet::from([ids[1]]));

    store.trash_collection(&cid("inbox")).unwrap();
    assert!(members(&store, "todo").is_empty());
    assert_eq!(count(&store, "todo"), 0);
    assert_eq!(members(&store, "rest"), ids.iter().copied().collect());

    store.restore_collection(&cid("inbox")).unwrap();
    assert_eq!(members(&store, "todo"), BTreeSet::from([ids[0]]));
    assert_eq!(members(&store, "rest"), BTreeSet::from([ids[1]]));
}
