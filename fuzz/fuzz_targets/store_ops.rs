//! Random operation sequences on the store (a real redb file in a temporary directory)
//! against the reference model of `sheaf-store-model` (the one the store's model-based
//! test uses): links, moves (with and without `from`), removes, trash and restore, and
//! closing and reopening the database. After every step the store's visible state must
//! equal the model's: each collection's live members and `item_count`, refusals exactly
//! where the model refuses (with the SPEC's code), and a change feed whose seqs are
//! contiguous.
#![no_main]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection, Remove};
use sheaf_core::{CollectionId, ErrorCode, FileFacts, ItemId, ItemTarget, Outcome, Timestamp};
use sheaf_store::{EntryQuery, Options, Store, WriteError};
use sheaf_store_model::{MBatch, MItem, MItems, MRef, Model};

const ITEMS: usize = 6;
const SLUGS: [&str; 3] = ["a", "b", "c"];

#[derive(Arbitrary, Debug)]
enum Op {
    Link { to: u8, items: u8 },
    Move { to: u8, from: Option<u8>, items: u8 },
    Remove { from: u8, items: u8 },
    Trash(u8),
    Restore(u8),
    Reopen,
}

fn cid(c: u8) -> CollectionId {
    CollectionId::parse(SLUGS[usize::from(c) % SLUGS.len()]).unwrap()
}

fn pick(mask: u8) -> Vec<usize> {
    let set: Vec<usize> = (0..ITEMS).filter(|i| mask & (1 << i) != 0).collect();
    if set.is_empty() {
        vec![usize::from(mask) % ITEMS]
    } else {
        set
    }
}

fn code(r: Result<sheaf_store::Written, WriteError>) -> Result<(), ErrorCode> {
    match r {
        Ok(_) => Ok(()),
        Err(WriteError::Refused(r)) => Err(r.code),
        Err(WriteError::Store(e)) => panic!("the store failed: {e}"),
    }
}

fn options() -> Options {
    // A clock that always moves forward, also across a reopen.
    static NOW: AtomicI64 = AtomicI64::new(1_700_000_000_000_000);
    Options {
        clock: Arc::new(|| Timestamp::from_micros(NOW.fetch_add(1000, Ordering::SeqCst))),
        // No fsync per commit: a reopen in the same process sees every commit either way.
        durable: false,
        ..Options::default()
    }
}

/// The items of a pick as the model names them.
fn refs(ids: &[ItemId], items: &[usize]) -> Vec<MRef> {
    items
        .iter()
        .map(|&i| MRef {
            item: Some(i),
            shown: ids[i].to_string(),
            display_name: None,
            unique_id: None,
        })
        .collect()
}

/// What the model answers to `op`: the refusal's code, or success (its state kept).
fn model_step(model: &mut Model, ids: &[ItemId], op: &Op) -> Result<(), ErrorCode> {
    let batch = |to: u8, items: u8, mode: Mode, from: Option<u8>| MBatch {
        target: cid(to),
        items: MItems::Refs(refs(ids, &pick(items))),
        mode,
        from: from.map(cid),
        create: false,
    };
    let answer = match *op {
        Op::Link { to, items } => {
            let req = batch(to, items, Mode::Link, None);
            model.write(|m, s, tx| m.batch_add(s, tx, &req))
        }
        Op::Move { to, from, items } => {
            let req = batch(to, items, Mode::Move, from);
            model.write(|m, s, tx| m.batch_add(s, tx, &req))
        }
        Op::Remove { from, items } => {
            let refs = refs(ids, &pick(items));
            model.write(|m, s, tx| m.remove(s, tx, &cid(from), &refs))
        }
        Op::Trash(c) => model.write(|_, s, tx| s.trash(tx, &cid(c), true)),
        Op::Restore(c) => model.write(|_, s, tx| s.trash(tx, &cid(c), false)),
        Op::Reopen => return Ok(()),
    };
    answer.map(|_| ()).map_err(|r| r.code)
}

fn batch(
    to: CollectionId,
    ids: &[ItemId],
    items: &[usize],
    mode: Mode,
    from: Option<CollectionId>,
) -> BatchAdd {
    BatchAdd {
        collection: to,
        items: BatchItems::Refs(
            items
                .iter()
                .map(|&i| ItemRef::to(ItemTarget::Id(ids[i])))
                .collect(),
        ),
        mode,
        from,
        create: false,
        relocate: false,
    }
}

fn apply(store: &Store, ids: &[ItemId], op: &Op) -> Result<(), ErrorCode> {
    match *op {
        Op::Link { to, items } => {
            code(store.batch_add(&batch(cid(to), ids, &pick(items), Mode::Link, None)))
        }
        Op::Move { to, from, items } => code(store.batch_add(&batch(
            cid(to),
            ids,
            &pick(items),
            Mode::Move,
            from.map(cid),
        ))),
        Op::Remove { from, items } => code(
            store.remove(&Remove {
                collection: cid(from),
                items: pick(items)
                    .iter()
                    .map(|&i| ItemTarget::Id(ids[i]))
                    .collect(),
            }),
        ),
        Op::Trash(c) => code(store.trash_collection(&cid(c))),
        Op::Restore(c) => code(store.restore_collection(&cid(c))),
        Op::Reopen => Ok(()),
    }
}

fn check(store: &Store, ids: &[ItemId], model: &Model, step: usize) {
    for slug in SLUGS {
        let id = CollectionId::parse(slug).unwrap();
        let page = store
            .entries(
                &id,
                &EntryQuery {
                    limit: 1000,
                    ..EntryQuery::default()
                },
            )
            .unwrap()
            .unwrap();
        let live: BTreeSet<usize> = page
            .items
            .iter()
            .map(|l| ids.iter().position(|i| *i == l.item.id).unwrap())
            .collect();
        let mc = &model.state.collections[&id];
        let want: BTreeSet<usize> = mc.live_in_order().into_iter().map(|(i, _)| i).collect();
        assert_eq!(live, want, "step {step}: live members of {slug}");
        let col = store.collection(&id).unwrap().unwrap();
        assert_eq!(
            col.item_count,
            live.len() as u64,
            "step {step}: item_count of {slug}"
        );
        assert_eq!(
            col.trashed_at.is_some(),
            mc.trashed,
            "step {step}: trash of {slug}"
        );
        assert_eq!(col.number, mc.incarnation, "step {step}: number of {slug}");
    }
    for (i, id) in ids.iter().enumerate() {
        let item = store.item_by_number(Model::item_number(i)).unwrap();
        assert_eq!(
            item.map(|item| item.id),
            Some(*id),
            "step {step}: item of number {}",
            i + 1
        );
    }
    let last = store.last_seq().unwrap();
    let mut expected = 1;
    let mut since = 0;
    loop {
        let page = store.events(since, 1000).unwrap();
        assert!(!page.reset, "step {step}: the feed was reset");
        if page.events.is_empty() {
            break;
        }
        for e in &page.events {
            assert_eq!(e.seq, expected, "step {step}: the feed is contiguous");
            expected += 1;
            since = e.seq;
        }
    }
    assert_eq!(
        expected - 1,
        last,
        "step {step}: last_seq is the feed's last event"
    );
}

fuzz_target!(|ops: Vec<Op>| {
    // On tmpfs where there is one: the target opens a file per input.
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let path = dir.path().join("fuzz.redb");
    let mut store = Store::open(&path, options()).unwrap();
    let files: Vec<FileFacts> = (0..ITEMS)
        .map(|i| FileFacts {
            path: format!("/f/{i}.txt"),
            size: 1,
            mtime: Timestamp::from_micros(1),
            content_type: "text/plain".into(),
            file_id: None,
        })
        .collect();
    let Outcome::Items(ids) = store.register(&files).unwrap().outcome else {
        panic!("register answers items")
    };
    let items = files
        .iter()
        .zip(&ids)
        .map(|(f, id)| MItem::new(*id, &f.path, &f.content_type, id.prefix_kind()))
        .collect();
    let mut model = Model::new(items, Options::default().op_retention as usize);
    for slug in SLUGS {
        let id = CollectionId::parse(slug).unwrap();
        store
            .create_collection(&NewCollection {
                id: Some(id.clone()),
                ..NewCollection::default()
            })
            .unwrap();
        model
            .write(|_, s, tx| s.create_collection(tx, &id, None))
            .unwrap();
    }
    for (step, op) in ops.iter().take(64).enumerate() {
        if matches!(op, Op::Reopen) {
            drop(store);
            store = Store::open(&path, options()).unwrap();
        }
        let want = model_step(&mut model, &ids, op);
        let got = apply(&store, &ids, op);
        assert_eq!(got, want, "step {step}: {op:?}");
        check(&store, &ids, &model, step);
    }
});
