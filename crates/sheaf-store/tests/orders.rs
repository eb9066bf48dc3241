//! Listing a collection by name, date added and size: every page from any depth in the
//! right order, kept right through renames, file size changes, removals and purges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot set up must fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sheaf_core::rules::{BatchAdd, EntryUpdate, NewCollection, Remove};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Outcome, Timestamp};
use sheaf_store::{EntryQuery, Options, Order, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let t = Arc::new(AtomicI64::new(1_700_000_000_000_000));
    let clock = Arc::clone(&t);
    let options = Options {
        durable: false,
        clock: Arc::new(move || Timestamp::from_micros(clock.fetch_add(1_000, Ordering::SeqCst))),
        ..Options::default()
    };
    let store = Store::open(&dir.path().join("s.redb"), options).unwrap();
    (dir, store)
}

fn facts(name: &str, size: u64) -> FileFacts {
    FileFacts {
        path: format!("/files/{name}"),
        size,
        mtime: Timestamp::from_micros(1),
        content_type: "text/plain".into(),
        file_id: None,
    }
}

fn register(store: &Store, files: &[FileFacts]) -> Vec<ItemId> {
    let Outcome::Items(ids) = store.register(files).unwrap().outcome else {
        panic!("items")
    };
    ids
}

fn link(store: &Store, c: &CollectionId, ids: &[ItemId]) {
    let req = BatchAdd {
        create: true,
        ..BatchAdd::link(c.clone(), ids.iter().copied())
    };
    store.batch_add(&req).unwrap();
}

/// Every live entry's display name, page by page with `limit`, in `order`.
fn names(store: &Store, c: &CollectionId, order: Order, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = EntryQuery {
            cursor,
            limit,
            order,
            ..EntryQuery::default()
        };
        let page = store.entries(c, &q).unwrap().unwrap();
        out.extend(
            page.items
                .iter()
                .map(|l| l.entry.as_ref().unwrap().display_name.clone()),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

#[test]
fn entries_list_by_name_added_and_size_across_pages() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    // Added in this order; sizes and names in other orders.
    let files = [
        facts("delta", 30),
        facts("Alpha", 10),
        facts("charlie", 40),
        facts("bravo", 20),
    ];
    for f in &files {
        let ids = register(&store, std::slice::from_ref(f));
        link(&store, &c, &ids);
    }
    for limit in [1, 2, 3, 1000] {
        assert_eq!(
            names(&store, &c, Order::Name, limit),
            ["Alpha", "bravo", "charlie", "delta"]
        );
        assert_eq!(
            names(&store, &c, Order::Added, limit),
            ["delta", "Alpha", "charlie", "bravo"]
        );
        assert_eq!(
            names(&store, &c, Order::Size, limit),
            ["Alpha", "bravo", "delta", "charlie"]
        );
    }
}

#[test]
fn the_orders_follow_renames_size_changes_removals_and_purges() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    let ids = register(&store, &[facts("a", 1), facts("b", 2), facts("c", 3)]);
    link(&store, &c, &ids);

    // Rename "a" to "z": last by name.
    let update = EntryUpdate {
        display_name: Some("z".into()),
        ..EntryUpdate::default()
    };
    store
        .update_entry(&c, &ItemTarget::Id(ids[0]), &update)
        .unwrap();
    assert_eq!(names(&store, &c, Order::Name, 2), ["b", "c", "z"]);

    // The file behind "b" grows: last by size.
    register(&store, &[facts("b", 100)]);
    assert_eq!(names(&store, &c, Order::Size, 2), ["z", "c", "b"]);

    // A removed entry leaves every order; revived, it comes back.
    store
        .remove(&Remove {
            collection: c.clone(),
            items: vec![ItemTarget::Id(ids[2])],
        })
        .unwrap();
    for order in [Order::Name, Order::Added, Order::Size] {
        assert_eq!(names(&store, &c, order, 10).len(), 2, "{order:?}");
    }
    link(&store, &c, &ids[2..]);
    assert_eq!(names(&store, &c, Order::Size, 10), ["z", "c", "b"]);

    // A purged collection leaves nothing behind: recreated, it is empty in every order.
    store.trash_collection(&c).unwrap();
    store.purge_collection(&c).unwrap();
    store
        .create_collection(&NewCollection {
            id: Some(c.clone()),
            ..NewCollection::default()
        })
        .unwrap();
    for order in [Order::Name, Order::Added, Order::Size] {
        assert!(names(&store, &c, order, 10).is_empty(), "{order:?}");
    }
}

#[test]
fn a_cursor_of_another_order_is_refused() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    let ids = register(&store, &[facts("a", 1), facts("b", 2)]);
    link(&store, &c, &ids);
    let q = EntryQuery {
        limit: 1,
        order: Order::Name,
        ..EntryQuery::default()
    };
    let cursor = store.entries(&c, &q).unwrap().unwrap().next_cursor.unwrap();
    let wrong = EntryQuery {
        cursor: Some(cursor),
        order: Order::Size,
        ..EntryQuery::default()
    };
    assert!(matches!(
        store.entries(&c, &wrong),
        Err(sheaf_store::ReadError::BadCursor(_))
    ));
}
