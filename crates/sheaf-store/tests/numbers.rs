//! The integer `number`s of collections and items (SPEC §1): given from 1 in creation
//! order by every path that creates one, kept across updates, undo, soft deletes and
//! restarts, never given again after a purge, and looked up by [`Store::collection_by_number`]
//! and [`Store::item_by_number`]. (A database of an older schema is numbered when it is
//! migrated: the fixture tests of `durability.rs`.)

// Helpers shared by the tests panic on what a test cannot go on without.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::sync::Arc;

use sheaf_core::rules::{BatchAdd, FolderChange, ItemUpdate, NewCollection, NewWatch, Owner};
use sheaf_core::{
    CollectionId, FileFacts, ItemId, ItemTarget, MetaValue, Outcome, Timestamp, WatchId,
};
use sheaf_store::{Options, Store};
use support::create;

fn cid(s: &str) -> CollectionId {
    CollectionId::parse(s).unwrap()
}

fn open(path: &Path) -> Store {
    Store::open(
        path,
        Options {
            durable: false,
            ..Options::default()
        },
    )
    .unwrap()
}

fn file(path: &str) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: 10,
        mtime: Timestamp::from_micros(1),
        content_type: "text/plain".into(),
        file_id: None,
    }
}

fn register(store: &Store, paths: &[&str]) -> Vec<ItemId> {
    let files: Vec<FileFacts> = paths.iter().map(|p| file(p)).collect();
    let Outcome::Items(ids) = store.register(&files).unwrap().outcome else {
        panic!("register answers items")
    };
    ids
}

fn collection_number(store: &Store, slug: &str) -> u64 {
    store.collection(&cid(slug)).unwrap().unwrap().number
}

fn item_number(store: &Store, id: ItemId) -> u64 {
    store.item(id).unwrap().unwrap().0.number
}

/// The watch of `collection` on `root`, and the folder changes of files found under it.
fn watch(store: &Store, root: &str, collection: &str) -> Arc<[Owner]> {
    let Outcome::Watch { watch, .. } = store
        .create_watch(&NewWatch::new(root, cid(collection)))
        .unwrap()
        .outcome
    else {
        panic!("create_watch answers Watch")
    };
    owners(watch, root, collection)
}

fn owners(watch: WatchId, root: &str, collection: &str) -> Arc<[Owner]> {
    vec![Owner {
        watch,
        collection: cid(collection),
        root: root.into(),
    }]
    .into()
}

fn found(path: &str, owners: &Arc<[Owner]>) -> FolderChange {
    FolderChange::Present {
        facts: file(path),
        was: None,
        owners: Arc::clone(owners),
    }
}

#[test]
fn collections_and_items_are_numbered_from_one_in_creation_order_whatever_creates_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("db.redb"));

    // Items: registered through the API, then found by a folder watch.
    let registered = register(&store, &["/r/1.txt", "/r/2.txt"]);
    create(&store, "papers"); // by the API
    store
        .batch_add(&BatchAdd {
            create: true,
            ..BatchAdd::link(cid("inbox"), [registered[0]])
        })
        .unwrap(); // by a batch that creates its target
    let owners = watch(&store, "/w", "watched"); // by a watch
    store
        .sync(&[found("/w/3.txt", &owners), found("/w/4.txt", &owners)])
        .unwrap();
    store
        .create_collection(&NewCollection {
            id: Some(cid("texts")),
            query: Some(
                sheaf_core::Query::parse(&serde_json::json!({"kind": "text"}), &[]).unwrap(),
            ),
            ..NewCollection::default()
        })
        .unwrap(); // a smart collection
    while store.fill_smart(100).unwrap().is_some() {}

    for (n, slug) in [(1, "papers"), (2, "inbox"), (3, "watched"), (4, "texts")] {
        assert_eq!(collection_number(&store, slug), n, "{slug}");
        let by_number = store.collection_by_number(n).unwrap().unwrap();
        assert_eq!(by_number.id, cid(slug));
        assert_eq!(by_number, store.collection(&cid(slug)).unwrap().unwrap());
    }
    let listed: Vec<(String, u64)> = store
        .collections(&sheaf_store::CollectionQuery::default())
        .unwrap()
        .into_iter()
        .map(|c| (c.id.to_string(), c.number))
        .collect();
    assert_eq!(
        listed,
        [
            ("default".to_owned(), 0),
            ("inbox".to_owned(), 2),
            ("papers".to_owned(), 1),
            ("texts".to_owned(), 4),
            ("watched".to_owned(), 3),
        ]
    );

    let paths = ["/r/1.txt", "/r/2.txt", "/w/3.txt", "/w/4.txt"];
    for (n, path) in (1..).zip(paths) {
        let item = store.item_by_path(path).unwrap().unwrap();
        assert_eq!(item.number, n, "{path}");
        assert_eq!(store.item_by_number(n).unwrap(), Some(item));
    }
    assert_eq!(item_number(&store, registered[1]), 2);
    assert_eq!(store.item_by_number(5).unwrap(), None);
    assert_eq!(store.item_by_number(0).unwrap(), None);
    assert_eq!(store.collection_by_number(5).unwrap(), None);
}

#[test]
fn default_answers_number_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("db.redb"));
    register(&store, &["/r/a.txt"]);
    let default = store
        .collection(&CollectionId::default_collection())
        .unwrap()
        .unwrap();
    assert_eq!(default.number, 0);
    assert_eq!(store.collection_by_number(0).unwrap(), Some(default));
    create(&store, "first");
    assert_eq!(collection_number(&store, "first"), 1);
}

#[test]
fn a_purged_collections_number_is_never_given_again_not_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.redb");
    {
        let store = open(&path);
        create(&store, "a");
        create(&store, "b");
        create(&store, "c");
        store.trash_collection(&cid("c")).unwrap();
        store.purge_collection(&cid("c")).unwrap();
        assert_eq!(store.collection_by_number(3).unwrap(), None);
        create(&store, "d");
        assert_eq!(collection_number(&store, "d"), 4);
        store.trash_collection(&cid("d")).unwrap();
        store.purge_collection(&cid("d")).unwrap();
    }
    let store = open(&path);
    // The counter survived the restart: the purged 3 and 4 stay unused, even by the same slug.
    create(&store, "d");
    assert_eq!(collection_number(&store, "d"), 5);
    assert_eq!(store.collection_by_number(4).unwrap(), None);
    assert_eq!(store.collection_by_number(3).unwrap(), None);
    // A trashed collection keeps its number, and is found by it.
    store.trash_collection(&cid("b")).unwrap();
    let b = store.collection_by_number(2).unwrap().unwrap();
    assert_eq!((b.id, b.trashed_at.is_some()), (cid("b"), true));
    store.restore_collection(&cid("b")).unwrap();
    assert_eq!(collection_number(&store, "b"), 2);
}

#[test]
fn an_item_keeps_its_number_through_updates_undo_soft_deletes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.redb");
    let owners;
    let ids;
    {
        let store = open(&path);
        ids = register(&store, &["/r/a.txt", "/r/b.txt"]);
        // A metadata patch, and its undo (which writes the op log's copy of the item back).
        let w = store
            .update_item(
                &ItemTarget::Id(ids[1]),
                &ItemUpdate {
                    metadata: Some([("k".to_owned(), Some(MetaValue::Int(1)))].into()),
                },
            )
            .unwrap();
        let Outcome::Item { op_id, .. } = w.outcome else {
            panic!("update_item answers Item")
        };
        assert_eq!(item_number(&store, ids[1]), 2);
        store.undo(op_id.unwrap()).unwrap();
        assert_eq!(item_number(&store, ids[1]), 2);
        // Registering a known path again is the same item, with the same number.
        assert_eq!(register(&store, &["/r/b.txt", "/r/c.txt"])[0], ids[1]);
        assert_eq!(item_number(&store, ids[1]), 2);
        assert_eq!(store.item_by_path("/r/c.txt").unwrap().unwrap().number, 3);

        // A watched file goes and comes back: one item, one number.
        owners = watch(&store, "/w", "watched");
        store.sync(&[found("/w/d.txt", &owners)]).unwrap();
        store
            .sync(&[FolderChange::Gone {
                path: "/w/d.txt".into(),
            }])
            .unwrap();
        let gone = store.item_by_number(4).unwrap().unwrap();
        assert_eq!(gone.path, None);
        assert!(gone.deleted_at.is_some());
        store.sync(&[found("/w/d.txt", &owners)]).unwrap();
        let back = store.item_by_path("/w/d.txt").unwrap().unwrap();
        assert_eq!((back.id, back.number), (gone.id, 4));
    }
    let store = open(&path);
    assert_eq!(item_number(&store, ids[0]), 1);
    let e = register(&store, &["/r/e.txt"]);
    assert_eq!(item_number(&store, e[0]), 5);
    let numbers: Vec<u64> = (1..=5)
        .map(|n| store.item_by_number(n).unwrap().unwrap().number)
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
}
