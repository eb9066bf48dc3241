//! The store's basic round trip on a real file: register, create, batch add, list, undo;
//! and a write's effects hook, carried out inside the transaction after planning and before
//! the commit, finished when the write commits and rolled back when it fails after them.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used)]

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::StorageBackend;
use redb::backends::InMemoryBackend;
use sheaf_core::rules::{BatchAdd, NewCollection};
use sheaf_core::{CollectionId, ErrorCode, FileFacts, ItemId, Outcome, Plan, Refusal, Timestamp};
use sheaf_store::{Effects, EntryQuery, Options, Store, WriteError};

fn facts(path: &str, ct: &str) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: 10,
        mtime: Timestamp::from_micros(1),
        content_type: ct.into(),
        file_id: None,
    }
}

/// `count` registered pdfs and an empty collection `papers`.
fn seed(store: &Store, count: usize) -> (Vec<ItemId>, CollectionId) {
    let files: Vec<_> = (0..count)
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
    (ids, cid)
}

fn link(cid: &CollectionId, ids: &[ItemId]) -> BatchAdd {
    BatchAdd::link(cid.clone(), ids.iter().copied())
}

#[test]
fn a_batch_add_is_listed_in_order_counted_and_undone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb"), Options::default()).unwrap();
    let (ids, cid) = seed(&store, 5);
    let req = link(&cid, &ids);
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

/// Records what the store asked of it; refuses when told to.
#[derive(Default)]
struct Recorder {
    calls: Vec<&'static str>,
    /// Changes of the plan `apply` was handed.
    changes: usize,
    refuse: bool,
}

impl Effects for Recorder {
    fn apply(&mut self, plan: &Plan) -> Result<(), Refusal> {
        self.calls.push("apply");
        self.changes = plan.changes.len();
        if self.refuse {
            return Err(Refusal::new(ErrorCode::StorageError, "the disk said no"));
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.calls.push("commit");
    }

    fn rollback(&mut self) {
        self.calls.push("rollback");
    }
}

/// redb's in-memory backend whose syncs fail on command: a durable commit then fails.
#[derive(Debug)]
struct FailingSync {
    inner: InMemoryBackend,
    fail: Arc<AtomicBool>,
}

impl StorageBackend for FailingSync {
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        if self.fail.load(Ordering::Acquire) {
            return Err(io::Error::other("the disk is gone"));
        }
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.inner.write(offset, data)
    }
}

/// A store with two registered items and `papers`; setting the flag fails its commits.
fn failing_store() -> (Store, Vec<ItemId>, CollectionId, Arc<AtomicBool>) {
    let fail = Arc::new(AtomicBool::new(false));
    let backend = FailingSync {
        inner: InMemoryBackend::new(),
        fail: Arc::clone(&fail),
    };
    let store = Store::open_backend(backend, Options::default()).unwrap();
    let (ids, cid) = seed(&store, 2);
    (store, ids, cid, fail)
}

fn live_count(store: &Store, cid: &CollectionId) -> u64 {
    store.collection(cid).unwrap().unwrap().item_count
}

#[test]
fn effects_see_the_plan_inside_the_write_and_finish_after_the_commit() {
    let (store, ids, cid, _) = failing_store();
    let mut effects = Recorder::default();
    let written = store
        .batch_add_with(&link(&cid, &ids), &mut effects)
        .unwrap();
    assert_eq!(effects.calls, ["apply", "commit"]);
    assert!(effects.changes > 0, "apply was handed the plan's changes");
    assert!(written.seqs.is_some(), "the write returns its seqs");
    assert_eq!(live_count(&store, &cid), 2);
}

#[test]
fn effects_that_refuse_refuse_the_write_and_nothing_is_committed() {
    let (store, ids, cid, _) = failing_store();
    let last = store.last_seq().unwrap();
    let mut effects = Recorder {
        refuse: true,
        ..Recorder::default()
    };
    let err = store
        .batch_add_with(&link(&cid, &ids), &mut effects)
        .unwrap_err();
    assert_eq!(err.refusal().map(|r| r.code), Some(ErrorCode::StorageError));
    assert_eq!(
        effects.calls,
        ["apply"],
        "a refusing apply undoes its own work"
    );
    assert_eq!(live_count(&store, &cid), 0);
    assert_eq!(store.last_seq().unwrap(), last);
}

#[test]
fn a_plan_the_rules_refuse_never_reaches_the_effects() {
    let (store, ids, _, _) = failing_store();
    let mut effects = Recorder::default();
    let missing = CollectionId::parse("nowhere").unwrap();
    let err = store
        .batch_add_with(&link(&missing, &ids), &mut effects)
        .unwrap_err();
    assert!(matches!(err, WriteError::Refused(_)), "{err:?}");
    assert!(effects.calls.is_empty());
}

#[test]
fn a_commit_that_fails_after_the_effects_rolls_them_back() {
    let (store, ids, cid, fail) = failing_store();
    let op = match store.batch_add(&link(&cid, &ids)).unwrap().outcome {
        Outcome::Batch { op_id, .. } => op_id,
        other => panic!("a batch add answers a batch, not {other:?}"),
    };
    fail.store(true, Ordering::Release);
    let mut effects = Recorder::default();
    let err = store.undo_with(op, &mut effects).unwrap_err();
    assert!(matches!(err, WriteError::Store(_)), "{err:?}");
    assert_eq!(effects.calls, ["apply", "rollback"]);
}
