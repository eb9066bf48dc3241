//! The store's basic round trip on a real file: register, create, batch add, list, undo.

use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection};
use sheaf_core::{CollectionId, FileFacts, ItemTarget, Outcome, Timestamp};
use sheaf_store::{EntryQuery, Options, Store};

fn facts(path: &str, ct: &str) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: 10,
        mtime: Timestamp::from_micros(1),
        content_type: ct.into(),
        file_id: None,
    }
}

#[test]
fn a_batch_add_is_listed_in_order_counted_and_undone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb"), Options::default()).unwrap();
    let files: Vec<_> = (0..5)
        .map(|i| facts(&format!("/d/f{i}.pdf"), "application/pdf"))
        .collect();
    let Outcome::Items(ids) = store.register(&files).unwrap().outcome else {
        panic!()
    };
    let cid = CollectionId::parse("papers").unwrap();
    store
        .create_collection(&NewCollection {
            id: Some(cid.clone()),
            ..Default::default()
        })
        .unwrap();
    let req = BatchAdd {
        collection: cid.clone(),
        items: BatchItems::Refs(
            ids.iter()
                .map(|id| ItemRef::to(ItemTarget::Id(*id)))
                .collect(),
        ),
        mode: Mode::Link,
        from: None,
        create: false,
        relocate: false,
    };
    let w = store.batch_add(&req).unwrap();
    let Outcome::Batch { op_id, summary, .. } = w.outcome else {
        panic!()
    };
    assert_eq!(summary.added, 5);
    assert_eq!(store.collection(&cid).unwrap().unwrap().item_count, 5);
    assert_eq!(
        store
            .collection(&CollectionId::default_collection())
            .unwrap()
            .unwrap()
            .item_count,
        0
    );
    let page = store
        .entries(
            &cid,
            &EntryQuery {
                limit: 3,
                ..Default::default()
            },
        )
        .unwrap()
        .unwrap();
    let listed: Vec<_> = page.items.iter().map(|l| l.item.id).collect();
    assert_eq!(listed, ids[..3]);
    let page2 = store
        .entries(
            &cid,
            &EntryQuery {
                limit: 3,
                cursor: page.next_cursor,
                ..Default::default()
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        page2.items.iter().map(|l| l.item.id).collect::<Vec<_>>(),
        ids[3..]
    );
    assert_eq!(page2.next_cursor, None);
    let again = store.batch_add(&req).unwrap();
    let Outcome::Batch { summary, .. } = again.outcome else {
        panic!()
    };
    assert_eq!(summary.already_in_collection, 5);
    store.undo(op_id).unwrap();
    assert_eq!(store.collection(&cid).unwrap().unwrap().item_count, 0);
    assert_eq!(
        store
            .collection(&CollectionId::default_collection())
            .unwrap()
            .unwrap()
            .item_count,
        5
    );
    let feed = store.events(0, 100).unwrap();
    assert!(!feed.reset);
    assert_eq!(feed.events.len() as u64, feed.last_seq);
}
