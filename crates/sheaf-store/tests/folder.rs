//! Folder sync through the store on a real file: watches persist, folder changes apply in
//! one transaction with their events, and the reads a reconcile diffs against answer.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sheaf_core::rules::{FolderChange, NewWatch, Owner, Was};
use sheaf_core::{CollectionId, EventKind, FileFacts, FileId, Outcome, Timestamp, WatchId};
use sheaf_store::{Options, Store};

fn facts(path: &str, ino: u64) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: 10,
        mtime: Timestamp::from_micros(1),
        content_type: "application/pdf".into(),
        file_id: Some(FileId { dev: 1, ino }),
    }
}

fn watch(store: &Store, root: &str) -> Owner {
    let req = NewWatch::new(root, CollectionId::parse("papers").unwrap());
    let Outcome::Watch { watch, created } = store.create_watch(&req).unwrap().outcome else {
        panic!()
    };
    assert!(created);
    Owner {
        watch,
        collection: req.collection,
        root: root.into(),
    }
}

fn present(path: &str, ino: u64, was: Option<Was>, owner: &Owner) -> FolderChange {
    FolderChange::Present {
        facts: facts(path, ino),
        was,
        owners: vec![owner.clone()].into(),
    }
}

#[test]
fn watches_persist_across_reopening_and_bind_their_collection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let id: WatchId;
    {
        let store = Store::open(&path, Options::default()).unwrap();
        id = watch(&store, "/home/u/papers").watch;
    }
    let store = Store::open(&path, Options::default()).unwrap();
    let watches = store.watches().unwrap();
    assert_eq!(watches.len(), 1);
    assert_eq!(watches[0].id, id);
    assert_eq!(watches[0].path, "/home/u/papers");
    let c = store
        .collection(&CollectionId::parse("papers").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(c.folders, vec![id]);

    let written = store.remove_watch(id, false).unwrap();
    assert!(matches!(written.outcome, Outcome::WatchRemoved { .. }));
    assert!(store.watches().unwrap().is_empty());
    assert_eq!(store.watch(id).unwrap(), None);
}

#[test]
fn folder_changes_apply_with_their_events_and_the_reconcile_reads_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb"), Options::default()).unwrap();
    let owner = watch(&store, "/w");
    let written = store
        .sync(&[
            present("/w/a.pdf", 1, None, &owner),
            present("/w/sub/b.pdf", 2, None, &owner),
            present("/w-other/c.pdf", 3, None, &owner),
        ])
        .unwrap();
    let Outcome::Synced(summary) = written.outcome else {
        panic!()
    };
    assert_eq!((summary.items_created, summary.entries_added), (3, 3));
    let (first, last) = written.seqs.unwrap();
    let feed = store.events(first - 1, 100).unwrap();
    let kinds: Vec<EventKind> = feed.events.iter().map(|e| e.event.kind).collect();
    assert_eq!(last - first + 1, 6);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::EntryAdded)
            .count(),
        3
    );

    // Under /w: two files, not /w-other (a sibling whose name starts alike).
    let known = store.known_under("/w").unwrap();
    let paths: Vec<&str> = known.iter().map(|k| k.path.as_str()).collect();
    assert_eq!(paths, ["/w/a.pdf", "/w/sub/b.pdf"]);
    assert!(known.iter().all(|k| k.present));
    let members = store.live_members(&owner.collection).unwrap();
    assert_eq!(members.len(), 3);

    // A rename and a deletion in one group; the gone file stays known by its last path.
    let a = known[0].item;
    store
        .sync(&[
            present(
                "/w/renamed.pdf",
                1,
                Some(Was::Path("/w/a.pdf".into())),
                &owner,
            ),
            FolderChange::Gone {
                path: "/w/sub/b.pdf".into(),
            },
        ])
        .unwrap();
    let known = store.known_under("/w").unwrap();
    let by_path: Vec<(&str, bool)> = known.iter().map(|k| (k.path.as_str(), k.present)).collect();
    assert_eq!(by_path, [("/w/renamed.pdf", true), ("/w/sub/b.pdf", false)]);
    assert_eq!(known[0].item, a);
    assert_eq!(store.live_members(&owner.collection).unwrap().len(), 2);
    assert_eq!(store.item_by_path("/w/a.pdf").unwrap(), None);
}

#[test]
fn unhashed_pages_through_live_items_without_a_hash_until_they_have_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb"), Options::default()).unwrap();
    let owner = watch(&store, "/p");
    let changes: Vec<FolderChange> = (0..5)
        .map(|n| present(&format!("/p/{n}.pdf"), n, None, &owner))
        .collect();
    store.sync(&changes).unwrap();
    store
        .sync(&[FolderChange::Gone {
            path: "/p/4.pdf".into(),
        }])
        .unwrap();

    let first = store.unhashed(None, 3).unwrap();
    assert_eq!(first.len(), 3);
    let rest = store.unhashed(Some(first[2].item), 3).unwrap();
    assert_eq!(rest.len(), 1, "the deleted item is not listed: {rest:?}");
    let mut all: Vec<String> = first.iter().chain(&rest).map(|u| u.path.clone()).collect();
    all.sort();
    assert_eq!(all, ["/p/0.pdf", "/p/1.pdf", "/p/2.pdf", "/p/3.pdf"]);

    let hashes: Vec<FolderChange> = first
        .iter()
        .chain(&rest)
        .map(|u| FolderChange::Hashed {
            item: u.item,
            size: u.size,
            mtime: u.mtime,
            hash: format!("h{}", u.path.len()),
        })
        .collect();
    store.sync(&hashes).unwrap();
    assert_eq!(store.unhashed(None, 10).unwrap(), vec![]);
}
