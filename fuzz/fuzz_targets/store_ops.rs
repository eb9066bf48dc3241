//! Random operation sequences on the store (a real redb file in a temporary directory)
//! against a small reference model of memberships written here from SPEC §2.1: links,
//! moves (with and without `from`), removes, trash and restore, and closing and reopening
//! the database. After every step the store's visible state must equal the model's: each
//! collection's live members and `item_count`, refusals exactly where the model refuses
//! (with the SPEC's code), and a change feed whose seqs are contiguous.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection, Remove};
use sheaf_core::{CollectionId, ErrorCode, FileFacts, ItemId, ItemTarget, Outcome, Timestamp};
use sheaf_store::{EntryQuery, Options, Store, WriteError};

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

/// The model: per collection, live members and every item that ever had an entry there.
#[derive(Clone, Debug, Default)]
struct Model {
    live: BTreeMap<usize, BTreeSet<usize>>,
    had: BTreeMap<usize, BTreeSet<usize>>,
    trashed: BTreeSet<usize>,
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

impl Model {
    fn live_in(&self, c: usize) -> BTreeSet<usize> {
        self.live.get(&c).cloned().unwrap_or_default()
    }

    /// What the store must answer, and the state after it.
    fn step(&mut self, op: &Op) -> Result<(), ErrorCode> {
        let n = SLUGS.len();
        match *op {
            Op::Link { to, items } => {
                let to = usize::from(to) % n;
                if self.trashed.contains(&to) {
                    return Err(ErrorCode::CollectionTrashed);
                }
                for i in pick(items) {
                    self.live.entry(to).or_default().insert(i);
                    self.had.entry(to).or_default().insert(i);
                }
            }
            Op::Move { to, from, items } => {
                let to = usize::from(to) % n;
                let from = from.map(|f| usize::from(f) % n);
                if from == Some(to) {
                    return Err(ErrorCode::ValidationError);
                }
                if self.trashed.contains(&to) {
                    return Err(ErrorCode::CollectionTrashed);
                }
                let items = pick(items);
                if let Some(f) = from {
                    if self.trashed.contains(&f) {
                        return Err(ErrorCode::CollectionTrashed);
                    }
                    if items.iter().any(|i| !self.live_in(f).contains(i)) {
                        return Err(ErrorCode::NotInSource);
                    }
                }
                for i in items {
                    let sources: Vec<usize> = match from {
                        Some(f) => vec![f],
                        None => (0..n)
                            .filter(|c| *c != to && !self.trashed.contains(c))
                            .collect(),
                    };
                    for s in sources {
                        self.live.entry(s).or_default().remove(&i);
                    }
                    self.live.entry(to).or_default().insert(i);
                    self.had.entry(to).or_default().insert(i);
                }
            }
            Op::Remove { from, items } => {
                let from = usize::from(from) % n;
                if self.trashed.contains(&from) {
                    return Err(ErrorCode::CollectionTrashed);
                }
                let items = pick(items);
                let had = self.had.get(&from).cloned().unwrap_or_default();
                if items.iter().any(|i| !had.contains(i)) {
                    return Err(ErrorCode::EntryNotFound);
                }
                for i in items {
                    self.live.entry(from).or_default().remove(&i);
                }
            }
            Op::Trash(c) => {
                self.trashed.insert(usize::from(c) % n);
            }
            Op::Restore(c) => {
                self.trashed.remove(&(usize::from(c) % n));
            }
            Op::Reopen => {}
        }
        Ok(())
    }
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
    for (c, slug) in SLUGS.iter().enumerate() {
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
        assert_eq!(
            live,
            model.live_in(c),
            "step {step}: live members of {slug}"
        );
        let col = store.collection(&id).unwrap().unwrap();
        assert_eq!(
            col.item_count,
            live.len() as u64,
            "step {step}: item_count of {slug}"
        );
        assert_eq!(
            col.trashed_at.is_some(),
            model.trashed.contains(&c),
            "step {step}: trash of {slug}"
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
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
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
    for slug in SLUGS {
        store
            .create_collection(&NewCollection {
                id: Some(CollectionId::parse(slug).unwrap()),
                ..NewCollection::default()
            })
            .unwrap();
    }
    let mut model = Model::default();
    for (step, op) in ops.iter().take(64).enumerate() {
        if matches!(op, Op::Reopen) {
            drop(store);
            store = Store::open(&path, options()).unwrap();
        }
        let mut next = model.clone();
        let want = next.step(op);
        let got = apply(&store, &ids, op);
        assert_eq!(got, want, "step {step}: {op:?}");
        if want.is_ok() {
            model = next;
        }
        check(&store, &ids, &model, step);
    }
});
