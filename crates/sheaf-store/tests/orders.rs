//! Listing a collection by name, date added and size: every page from any depth in the
//! right order, kept right through renames, file size changes, removals and purges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot set up must fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sheaf_core::rules::{BatchAdd, EntryUpdate, NewCollection, Remove};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Outcome, Timestamp};
use sheaf_store::{Direction, EntryQuery, ItemQuery, Options, Order, ReadError, Store};

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

/// Every row of a listing: `page` reads the page at a cursor (`None`: the first).
fn all_pages<T>(mut page: impl FnMut(Option<String>) -> sheaf_store::Page<T>) -> Vec<T> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(cursor);
        out.extend(p.items);
        match p.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

/// Every live entry's display name, page by page with `limit`, in `order`.
fn names(store: &Store, c: &CollectionId, order: Order, limit: usize) -> Vec<String> {
    names_in(store, c, order, Direction::Asc, limit)
}

/// Every live entry's display name, page by page with `limit`, in `order` and `direction`.
fn names_in(
    store: &Store,
    c: &CollectionId,
    order: Order,
    direction: Direction,
    limit: usize,
) -> Vec<String> {
    all_pages(|cursor| {
        let q = EntryQuery {
            cursor,
            limit,
            order,
            direction,
            ..EntryQuery::default()
        };
        store.entries(c, &q).unwrap().unwrap()
    })
    .into_iter()
    .map(|l| l.entry.unwrap().display_name)
    .collect()
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

const ORDERS: [Order; 4] = [Order::Position, Order::Name, Order::Added, Order::Size];

#[test]
fn every_order_read_descending_is_its_ascending_listing_reversed_ties_by_item_id() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    // Ties: two "same" names in different case, three files of size 7; registered one at a
    // time so that item ids (the tie-break) follow the order of this list.
    let files = [
        facts("same", 7),
        facts("b", 7),
        facts("SAME", 3),
        facts("a", 7),
        facts("Same", 9),
    ];
    for f in &files {
        let ids = register(&store, std::slice::from_ref(f));
        link(&store, &c, &ids);
    }
    assert_eq!(
        names(&store, &c, Order::Name, 10),
        ["a", "b", "same", "SAME", "Same"]
    );
    assert_eq!(
        names(&store, &c, Order::Size, 10),
        ["SAME", "same", "b", "a", "Same"]
    );
    for order in ORDERS {
        let mut want = names(&store, &c, order, 1000);
        want.reverse();
        for limit in [1, 2, 3, 1000] {
            assert_eq!(
                names_in(&store, &c, order, Direction::Desc, limit),
                want,
                "{order:?} by {limit}"
            );
        }
    }
}

#[test]
fn the_first_descending_page_is_the_last_rows_and_its_cursor_continues_descending() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    let files: Vec<FileFacts> = (0..10).map(|i| facts(&format!("f{i}"), i)).collect();
    let ids = register(&store, &files);
    link(&store, &c, &ids);
    for order in ORDERS {
        let q = EntryQuery {
            limit: 3,
            order,
            direction: Direction::Desc,
            ..EntryQuery::default()
        };
        let page = store.entries(&c, &q).unwrap().unwrap();
        let shown = |p: &sheaf_store::Page<sheaf_store::Listed>| -> Vec<String> {
            p.items
                .iter()
                .map(|l| l.entry.as_ref().unwrap().display_name.clone())
                .collect()
        };
        assert_eq!(shown(&page), ["f9", "f8", "f7"], "{order:?}");
        let cursor = page.next_cursor.unwrap();
        let next = EntryQuery {
            cursor: Some(cursor.clone()),
            ..q.clone()
        };
        let page = store.entries(&c, &next).unwrap().unwrap();
        assert_eq!(shown(&page), ["f6", "f5", "f4"], "{order:?}");
        // A descending cursor does not continue an ascending listing.
        let ascending = EntryQuery {
            cursor: Some(cursor),
            direction: Direction::Asc,
            ..q
        };
        assert!(
            matches!(store.entries(&c, &ascending), Err(ReadError::BadCursor(_))),
            "{order:?}"
        );
    }
}

#[test]
fn soft_deleted_entries_and_the_default_view_read_descending_too() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    let files: Vec<FileFacts> = (0..6).map(|i| facts(&format!("f{i}"), i)).collect();
    let ids = register(&store, &files);
    link(&store, &c, &ids[..4]);
    store
        .remove(&Remove {
            collection: c.clone(),
            items: vec![ItemTarget::Id(ids[1]), ItemTarget::Id(ids[2])],
        })
        .unwrap();
    let read = |id: &CollectionId, deleted: bool, direction: Direction, limit: usize| {
        let rows = all_pages(|cursor| {
            let q = EntryQuery {
                cursor,
                limit,
                deleted,
                direction,
                ..EntryQuery::default()
            };
            store.entries(id, &q).unwrap().unwrap()
        });
        rows.into_iter().map(|l| l.item.id).collect::<Vec<_>>()
    };
    // Unfiled: the two never linked and the two removed.
    let default = CollectionId::default_collection();
    for (id, deleted, len) in [(&c, true, 4), (&c, false, 2), (&default, false, 4)] {
        let mut want = read(id, deleted, Direction::Asc, 1000);
        assert_eq!(want.len(), len, "{id} deleted={deleted}");
        want.reverse();
        for limit in [1, 3] {
            assert_eq!(read(id, deleted, Direction::Desc, limit), want, "{id}");
        }
    }
}

#[test]
fn items_by_id_and_under_a_path_prefix_read_descending() {
    let (_dir, store) = store();
    let mut files: Vec<FileFacts> = (0..5).map(|i| facts(&format!("a/{i}"), i)).collect();
    files.push(facts("a0", 1));
    files.push(facts("b/x", 1));
    register(&store, &files);
    let read = |prefix: Option<&str>, direction: Direction, limit: usize| {
        let rows = all_pages(|cursor| {
            let q = ItemQuery {
                path_prefix: prefix.map(str::to_owned),
                cursor,
                limit,
                direction,
                ..ItemQuery::default()
            };
            store.items(&q).unwrap().unwrap()
        });
        rows.into_iter()
            .map(|i| i.path.unwrap())
            .collect::<Vec<_>>()
    };
    for prefix in [None, Some("/files/a/"), Some("/files/")] {
        let mut want = read(prefix, Direction::Asc, 1000);
        want.reverse();
        for limit in [1, 2, 1000] {
            assert_eq!(read(prefix, Direction::Desc, limit), want, "{prefix:?}");
        }
    }
    assert_eq!(read(Some("/files/a/"), Direction::Desc, 2).len(), 5);
}

#[test]
fn the_op_log_reads_oldest_first_when_asked() {
    let (_dir, store) = store();
    let c = CollectionId::parse("c").unwrap();
    for i in 0..5 {
        let ids = register(&store, &[facts(&format!("f{i}"), i)]);
        link(&store, &c, &ids);
    }
    let read = |direction: Direction, limit: usize| {
        let rows = all_pages(|cursor| store.ops(cursor.as_deref(), limit, direction).unwrap());
        rows.into_iter().map(|o| o.id).collect::<Vec<_>>()
    };
    let newest_first = read(Direction::Desc, 1000);
    assert!(newest_first.len() >= 5);
    assert!(newest_first.windows(2).all(|w| w[0] > w[1]));
    let mut want = newest_first;
    want.reverse();
    for limit in [1, 2] {
        assert_eq!(read(Direction::Asc, limit), want);
    }
}
