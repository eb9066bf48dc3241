//! Durability of the store: I/O faults injected into redb mid-commit, refused batches,
//! persistence across a reopen, exclusive opening, the schema version guard, change-feed
//! and op-log retention, and a fixture database of each released schema version, opened
//! and migrated by today's code.
//!
//! Every test compares *visible* state: what the public read API answers (collections with
//! counts, every entry including soft-deleted ones, the `default` view, items, the feed,
//! the op log), never the tables behind it.

// Helpers shared by the tests panic on what a test cannot go on without.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use redb::{ReadableDatabase, StorageBackend, TableDefinition, TableHandle};
use sheaf_core::rules::{
    BatchAdd, BatchItems, CollectionUpdate, FolderChange, ItemRef, Mode, NewCollection, NewWatch,
    Owner, Remove, Selection,
};
use sheaf_core::{
    AcceptRule, Collection, CollectionId, EntryFilter, EntrySource, ErrorCode, EventKind,
    FileFacts, FileId, Item, ItemId, ItemTarget, Kind, Limits, MetaValue, Metadata, OpId, OpKind,
    OpRecord, OpSummary, Outcome, Timestamp,
};
use sheaf_store::{
    Clock, CollectionQuery, EntryQuery, FeedPage, Listed, OpenError, Options, SCHEMA_VERSION,
    Store, WriteError, Written,
};
use support::{all_entries, all_items, create};

// ---------------------------------------------------------------------------------------
// Helpers: a clock the test drives, requests, and a snapshot of everything visible.
// ---------------------------------------------------------------------------------------

/// A clock the test drives. Each reading advances it by `step` microseconds, so with a step
/// of at least a millisecond every commit has its own millisecond and op ids (ULIDs made
/// from the commit time) sort by commit. `set` pins the next reading.
#[derive(Clone, Debug)]
struct TestClock {
    next: Arc<AtomicI64>,
    step: i64,
}

impl TestClock {
    fn new(start: i64, step: i64) -> Self {
        Self {
            next: Arc::new(AtomicI64::new(start)),
            step,
        }
    }

    fn set(&self, micros: i64) {
        self.next.store(micros, Ordering::SeqCst);
    }

    fn clock(&self) -> Clock {
        let next = Arc::clone(&self.next);
        let step = self.step;
        Arc::new(move || Timestamp::from_micros(next.fetch_add(step, Ordering::SeqCst)))
    }

    /// Durable commits (`Durability::Immediate`: checksummed, synced), on this clock.
    fn options(&self) -> Options {
        Options {
            clock: self.clock(),
            durable: true,
            cache_bytes: 16 << 20,
            ..Options::default()
        }
    }
}

const MS: i64 = 1000;

fn cid(slug: &str) -> CollectionId {
    CollectionId::parse(slug).unwrap()
}

fn facts(path: &str, content_type: &str) -> FileFacts {
    FileFacts {
        path: path.into(),
        size: path.len() as u64,
        mtime: Timestamp::from_micros(1_600_000_000_000_000),
        content_type: content_type.into(),
        file_id: None,
    }
}

/// Registers `count` files under `dir`: pdfs, pngs and markdown in turn.
fn register_mixed(store: &Store, dir: &str, count: usize) -> Vec<ItemId> {
    let files: Vec<FileFacts> = (0..count)
        .map(|i| match i % 3 {
            0 => facts(&format!("/{dir}/doc{i:05}.pdf"), "application/pdf"),
            1 => facts(&format!("/{dir}/img{i:05}.png"), "image/png"),
            _ => facts(&format!("/{dir}/note{i:05}.md"), "text/markdown"),
        })
        .collect();
    register(store, &files)
}

/// Registers `files`, 50 a commit (within any `max_batch` the tests use).
fn register(store: &Store, files: &[FileFacts]) -> Vec<ItemId> {
    let mut ids = Vec::with_capacity(files.len());
    for chunk in files.chunks(50) {
        let Outcome::Items(new) = store.register(chunk).unwrap().outcome else {
            panic!("register answers Items")
        };
        ids.extend(new);
    }
    ids
}

fn create_accepting(store: &Store, slug: &str, accept: Vec<AcceptRule>) {
    store
        .create_collection(&NewCollection {
            id: Some(cid(slug)),
            accept: Some(accept),
            ..NewCollection::default()
        })
        .unwrap();
}

fn archive(store: &Store, slug: &str) {
    store
        .update_collection(
            &cid(slug),
            &CollectionUpdate {
                archived: Some(true),
                ..CollectionUpdate::default()
            },
        )
        .unwrap();
}

fn refs(ids: &[ItemId]) -> Vec<ItemRef> {
    ids.iter()
        .map(|id| ItemRef::to(ItemTarget::Id(*id)))
        .collect()
}

fn batch(slug: &str, items: Vec<ItemRef>, mode: Mode, from: Option<&str>) -> BatchAdd {
    BatchAdd {
        collection: cid(slug),
        items: BatchItems::Refs(items),
        mode,
        from: from.map(cid),
        create: false,
        relocate: false,
    }
}

fn link(store: &Store, slug: &str, ids: &[ItemId]) -> OpId {
    op_of(
        &store
            .batch_add(&batch(slug, refs(ids), Mode::Link, None))
            .unwrap(),
    )
}

fn move_from(store: &Store, slug: &str, ids: &[ItemId], from: &str) -> OpId {
    op_of(
        &store
            .batch_add(&batch(slug, refs(ids), Mode::Move, Some(from)))
            .unwrap(),
    )
}

fn remove(store: &Store, slug: &str, ids: &[ItemId]) -> OpId {
    op_of(
        &store
            .remove(&Remove {
                collection: cid(slug),
                items: ids.iter().map(|id| ItemTarget::Id(*id)).collect(),
            })
            .unwrap(),
    )
}

fn op_of(w: &Written) -> OpId {
    match &w.outcome {
        Outcome::Batch { op_id, .. }
        | Outcome::Removed { op_id, .. }
        | Outcome::Reordered { op_id, .. }
        | Outcome::Undone { op_id, .. } => *op_id,
        other => panic!("not a logged batch op: {other:?}"),
    }
}

fn refusal_code(result: Result<Written, WriteError>) -> ErrorCode {
    match result {
        Err(WriteError::Refused(r)) => r.code,
        Err(WriteError::Store(e)) => panic!("expected a refusal, got a store error: {e}"),
        Ok(w) => panic!("expected a refusal, got {:?}", w.outcome),
    }
}

/// Everything a client can see.
#[derive(Debug, PartialEq)]
struct Snapshot {
    /// `default` first, then the live collections (archived included) by id.
    collections: Vec<Collection>,
    trash: Vec<Collection>,
    /// Every collection's entries with soft-deleted ones (for `default`: the unfiled items).
    entries: Vec<(CollectionId, Vec<Listed>)>,
    /// Every item, gone files included.
    items: Vec<Item>,
    item_total: u64,
    last_seq: u64,
    feed: FeedPage,
    /// Newest first.
    ops: Vec<OpRecord>,
}

fn snapshot(store: &Store) -> Snapshot {
    let collections = store.collections(&CollectionQuery::default()).unwrap();
    let trash = store
        .collections(&CollectionQuery {
            trashed: true,
            ..CollectionQuery::default()
        })
        .unwrap();
    let entries = collections
        .iter()
        .chain(&trash)
        .map(|c| (c.id.clone(), all_entries(store, &c.id, true)))
        .collect();
    let items = all_items(store);
    let mut ops = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .ops(cursor.as_deref(), 1000, sheaf_store::Direction::Desc)
            .unwrap();
        ops.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let snap = Snapshot {
        collections,
        trash,
        entries,
        items,
        item_total: store.item_total().unwrap(),
        last_seq: store.last_seq().unwrap(),
        feed: store.events(0, usize::MAX).unwrap(),
        ops,
    };
    assert_consistent(&snap);
    snap
}

/// What must hold in any committed state: counts equal the listings, the feed is
/// contiguous and ends at `last_seq`.
fn assert_consistent(s: &Snapshot) {
    for c in s.collections.iter().chain(&s.trash) {
        let rows = &s.entries.iter().find(|(id, _)| id == &c.id).unwrap().1;
        let live = if c.id.is_default() {
            rows.len()
        } else {
            rows.iter()
                .filter(|r| r.entry.as_ref().is_some_and(|e| e.deleted_at.is_none()))
                .count()
        };
        assert_eq!(c.item_count, live as u64, "item_count of {}", c.id);
    }
    assert_eq!(s.item_total, s.items.len() as u64);
    assert_eq!(s.feed.last_seq, s.last_seq);
    for pair in s.feed.events.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "the feed has a gap or a repeat"
        );
    }
    if let Some(last) = s.feed.events.last() {
        assert_eq!(last.seq, s.last_seq);
    }
}

/// Rewrites every `ent_<ULID>` and `op_<ULID>` token of `text` with `f`.
fn map_ids(text: &str, mut f: impl FnMut(&str, &str) -> String) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let at_boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let rest = &text[i..];
        if at_boundary
            && let Some(prefix) = ["ent_", "op_"].into_iter().find(|p| rest.starts_with(p))
        {
            let end = prefix.len() + 26;
            let ulid_like = rest.len() >= end
                && rest.as_bytes()[prefix.len()..end]
                    .iter()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                && rest
                    .as_bytes()
                    .get(end)
                    .is_none_or(|b| !b.is_ascii_alphanumeric());
            if ulid_like {
                out.push_str(&f(prefix, &rest[..end]));
                i += end;
                continue;
            }
        }
        let ch = rest.chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The snapshot with every entry and op id that is not in `known` replaced by its order of
/// first appearance: two applications of the same operation to the same state differ only
/// in the random part of the ids they mint.
fn canonical(s: &Snapshot, known: &HashSet<String>) -> String {
    let mut names: HashMap<String, usize> = HashMap::new();
    map_ids(&format!("{s:#?}"), |prefix, token| {
        if known.contains(token) {
            token.to_owned()
        } else {
            let n = names.len();
            let k = *names.entry(token.to_owned()).or_insert(n);
            format!("{prefix}new#{k}")
        }
    })
}

fn id_tokens(s: &Snapshot) -> HashSet<String> {
    let mut set = HashSet::new();
    map_ids(&format!("{s:#?}"), |_, token| {
        set.insert(token.to_owned());
        String::new()
    });
    set
}

// ---------------------------------------------------------------------------------------
// 1. Fault injection mid-commit.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IoCall {
    Write,
    SyncData,
    SetLen,
}

impl IoCall {
    fn index(self) -> usize {
        match self {
            IoCall::Write => 0,
            IoCall::SyncData => 1,
            IoCall::SetLen => 2,
        }
    }
}

/// What a fault stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultMode {
    /// The process dies at that call: it and every later mutating call fail, what was
    /// written before stays.
    Crash,
    /// The machine loses power at that call: everything written since the last
    /// successful `sync_data` is lost too, and nothing more reaches the disk.
    PowerLoss,
    /// Only that call fails; later ones (e.g. while closing) succeed.
    Transient,
}

impl std::fmt::Display for FaultMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FaultMode::Crash => "crash",
            FaultMode::PowerLoss => "power loss",
            FaultMode::Transient => "transient error",
        })
    }
}

/// When to fail: the `nth` call of one kind after arming.
#[derive(Clone, Copy, Debug)]
struct Armed {
    call: IoCall,
    nth: u64,
    mode: FaultMode,
}

#[derive(Debug, Default)]
struct Faults {
    armed: Mutex<Option<Armed>>,
    fired: AtomicBool,
    /// Mutating calls seen since the last `arm`, by kind.
    calls: [AtomicU64; 3],
    /// For a power loss: the bytes as of the last successful sync (or the arming).
    synced: Mutex<Option<Vec<u8>>>,
}

impl Faults {
    fn arm(&self, armed: Option<Armed>, bytes: &RwLock<Vec<u8>>) {
        for c in &self.calls {
            c.store(0, Ordering::SeqCst);
        }
        self.fired.store(false, Ordering::SeqCst);
        *self.synced.lock().unwrap() = armed
            .is_some_and(|a| a.mode == FaultMode::PowerLoss)
            .then(|| bytes.read().unwrap().clone());
        *self.armed.lock().unwrap() = armed;
    }

    fn count(&self, call: IoCall) -> u64 {
        self.calls[call.index()].load(Ordering::SeqCst)
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    fn check(&self, call: IoCall) -> io::Result<()> {
        let seen = self.calls[call.index()].fetch_add(1, Ordering::SeqCst) + 1;
        let Some(armed) = *self.armed.lock().unwrap() else {
            return Ok(());
        };
        if self.fired() {
            return if armed.mode == FaultMode::Transient {
                Ok(())
            } else {
                Err(io::Error::other("injected: the disk is gone"))
            };
        }
        if armed.call == call && seen == armed.nth {
            self.fired.store(true, Ordering::SeqCst);
            return Err(io::Error::other(format!(
                "injected: {call:?} call #{seen} failed"
            )));
        }
        Ok(())
    }
}

/// A redb backend over shared bytes that fails on command. Reads never fail; a failed
/// write or resize changes nothing.
struct FaultyBackend {
    bytes: Arc<RwLock<Vec<u8>>>,
    faults: Arc<Faults>,
}

impl FaultyBackend {
    fn new(bytes: &Arc<RwLock<Vec<u8>>>, faults: &Arc<Faults>) -> Self {
        Self {
            bytes: Arc::clone(bytes),
            faults: Arc::clone(faults),
        }
    }
}

impl FaultyBackend {
    /// Passes the call through the armed fault; a power loss takes the bytes back to the
    /// last sync.
    fn check(&self, call: IoCall) -> io::Result<()> {
        let result = self.faults.check(call);
        if result.is_err()
            && let Some(synced) = self.faults.synced.lock().unwrap().take()
        {
            *self.bytes.write().unwrap() = synced;
        }
        result
    }
}

impl std::fmt::Debug for FaultyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyBackend")
            .field("len", &self.bytes.read().unwrap().len())
            .field("faults", &self.faults)
            .finish()
    }
}

fn out_of_range() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "out of range")
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.bytes.read().unwrap().len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let bytes = self.bytes.read().unwrap();
        let start = usize::try_from(offset).map_err(|_| out_of_range())?;
        let src = bytes
            .get(start..start + out.len())
            .ok_or_else(out_of_range)?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check(IoCall::SetLen)?;
        let len = usize::try_from(len).map_err(|_| out_of_range())?;
        self.bytes.write().unwrap().resize(len, 0);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        self.check(IoCall::SyncData)?;
        let mut synced = self.faults.synced.lock().unwrap();
        if synced.is_some() {
            *synced = Some(self.bytes.read().unwrap().clone());
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check(IoCall::Write)?;
        let mut bytes = self.bytes.write().unwrap();
        let start = usize::try_from(offset).map_err(|_| out_of_range())?;
        bytes
            .get_mut(start..start + data.len())
            .ok_or_else(out_of_range)?
            .copy_from_slice(data);
        Ok(())
    }
}

const FAULT_T0: i64 = 1_700_000_000_000_000;
/// The commit time of the operation under fault, in every run.
const FAULT_AT: i64 = FAULT_T0 + 3_600_000_000;

/// The database the faults are injected into, as bytes, and what it shows.
struct FaultBase {
    bytes: Vec<u8>,
    before: Snapshot,
    known: HashSet<String>,
    ids: Vec<ItemId>,
}

fn fault_base() -> FaultBase {
    let clock = TestClock::new(FAULT_T0, MS);
    let bytes = Arc::new(RwLock::new(Vec::new()));
    let faults = Arc::new(Faults::default());
    let store = Store::open_backend(FaultyBackend::new(&bytes, &faults), clock.options()).unwrap();
    let ids = register_mixed(&store, "base", 300);
    create(&store, "inbox");
    create(&store, "papers");
    create_accepting(&store, "pictures", vec![AcceptRule::Kind(Kind::Image)]);
    create(&store, "old");
    create(&store, "frozen");
    link(&store, "inbox", &ids[0..210]);
    link(&store, "papers", &ids[210..240]);
    remove(&store, "papers", &ids[210..215]);
    let images: Vec<ItemId> = ids[240..270]
        .iter()
        .copied()
        .filter(|id| id.prefix_kind() == Kind::Image)
        .collect();
    link(&store, "pictures", &images);
    link(&store, "old", &ids[270..280]);
    store.trash_collection(&cid("old")).unwrap();
    link(&store, "frozen", &ids[280..285]);
    archive(&store, "frozen");
    // 285..300 stay unfiled.
    let before = snapshot(&store);
    drop(store);
    let bytes = bytes.read().unwrap().clone();
    let known = id_tokens(&before);
    FaultBase {
        bytes,
        before,
        known,
        ids,
    }
}

/// The write under fault, given the store and the base's item ids.
type FaultedOp = dyn Fn(&Store, &[ItemId]) -> Result<Written, WriteError>;

/// What one faulted attempt ended as, once reopened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    RolledBack,
    Applied,
}

#[derive(Debug, Default)]
struct Tally {
    points: u64,
    rolled_back: u64,
    applied: u64,
}

/// Runs `op` over a fresh copy of the base with the given fault armed; returns `None` when
/// the call succeeded without reaching the fault.
fn attempt(
    base: &FaultBase,
    op: &FaultedOp,
    armed: Armed,
    applied: &str,
    label: &str,
) -> Option<Ending> {
    let clock = TestClock::new(FAULT_AT, MS);
    let bytes = Arc::new(RwLock::new(base.bytes.clone()));
    let faults = Arc::new(Faults::default());
    let store = Store::open_backend(FaultyBackend::new(&bytes, &faults), clock.options()).unwrap();
    clock.set(FAULT_AT);
    faults.arm(Some(armed), &bytes);
    let result = catch_unwind(AssertUnwindSafe(|| op(&store, &base.ids)))
        .unwrap_or_else(|_| panic!("{label}: the write panicked instead of failing"));
    let fired = faults.fired();
    catch_unwind(AssertUnwindSafe(move || drop(store)))
        .unwrap_or_else(|_| panic!("{label}: closing the store after the fault panicked"));
    match result {
        Ok(_) if !fired => return None,
        Ok(w) => panic!("{label}: the write reported success although the disk failed: {w:?}"),
        Err(WriteError::Refused(r)) => panic!("{label}: an I/O fault became a refusal: {r}"),
        Err(WriteError::Store(_)) => assert!(fired, "{label}: a store error with no fault"),
    }

    // Reopen the same bytes, healthy.
    let healthy = Arc::new(Faults::default());
    let store = Store::open_backend(FaultyBackend::new(&bytes, &healthy), clock.options())
        .unwrap_or_else(|e| panic!("{label}: the database does not reopen after the fault: {e}"));
    let after = snapshot(&store);
    let ending = if after == base.before {
        Ending::RolledBack
    } else if canonical(&after, &base.known) == applied {
        Ending::Applied
    } else {
        panic!(
            "{label}: after the fault the store is neither as before nor fully applied \
             (last_seq {} → {})",
            base.before.last_seq, after.last_seq
        );
    };

    // The reopened store takes writes and continues the feed without reusing a seq.
    clock.set(FAULT_AT + 60_000_000);
    let w = store
        .create_collection(&NewCollection {
            id: Some(cid("after-fault")),
            ..NewCollection::default()
        })
        .unwrap_or_else(|e| panic!("{label}: the reopened store refuses writes: {e}"));
    assert_eq!(w.seqs, Some((after.last_seq + 1, after.last_seq + 1)));
    let feed = store.events(0, usize::MAX).unwrap();
    let seqs: Vec<u64> = feed.events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "{label}: seqs");
    assert_eq!(feed.last_seq, after.last_seq + 1);
    Some(ending)
}

/// Faults every mutating I/O call of `op`'s commit in turn — as a crash, a power loss and
/// a transient error — and checks how each ends. Two combinations are reduced, on purpose:
/// a power loss at a write is the same as one at the next sync (unsynced writes are lost
/// either way), so only syncs and resizes get one; and since redb refuses all I/O after
/// the first failure until the database is reopened, a transient write error differs from
/// a crash only in what closing writes, so those are sampled (every third write) to keep
/// the run short. Every other combination is exhaustive.
fn fault_matrix(name: &str, op: &FaultedOp) {
    let base = fault_base();
    // The fully applied state, and how many calls of each kind a healthy commit makes.
    let clock = TestClock::new(FAULT_AT, MS);
    let bytes = Arc::new(RwLock::new(base.bytes.clone()));
    let faults = Arc::new(Faults::default());
    let store = Store::open_backend(FaultyBackend::new(&bytes, &faults), clock.options()).unwrap();
    clock.set(FAULT_AT);
    faults.arm(None, &bytes);
    op(&store, &base.ids).unwrap();
    let healthy_calls = [IoCall::Write, IoCall::SyncData, IoCall::SetLen].map(|c| faults.count(c));
    let applied = canonical(&snapshot(&store), &base.known);
    drop(store);
    assert_ne!(
        applied,
        canonical(&base.before, &base.known),
        "{name} changes nothing"
    );

    let mut report = String::new();
    for call in [IoCall::Write, IoCall::SyncData, IoCall::SetLen] {
        for mode in [FaultMode::Crash, FaultMode::PowerLoss, FaultMode::Transient] {
            // A power loss at any write before a sync is a power loss at that sync.
            if mode == FaultMode::PowerLoss && call == IoCall::Write {
                continue;
            }
            let stride = if mode == FaultMode::Transient && call == IoCall::Write {
                3
            } else {
                1
            };
            let mut tally = Tally::default();
            let mut nth = 1;
            while let Some(ending) = attempt(
                &base,
                op,
                Armed { call, nth, mode },
                &applied,
                &format!("{name}: {mode} on {call:?} #{nth}"),
            ) {
                tally.points += 1;
                match ending {
                    Ending::RolledBack => tally.rolled_back += 1,
                    Ending::Applied => tally.applied += 1,
                }
                nth += stride;
                assert!(nth < 100_000, "{name}: the fault loop does not end");
            }
            let healthy = healthy_calls[call.index()];
            assert!(
                nth > healthy && nth <= healthy + stride,
                "{name}: {mode} on {call:?}: the commit succeeded at #{nth} of {healthy} calls"
            );
            assert_eq!(tally.points, healthy.div_ceil(stride));
            writeln!(
                report,
                "{name} / {call:?} / {mode}: {healthy} calls, {} faulted, {} rolled back, \
                 {} fully applied",
                tally.points, tally.rolled_back, tally.applied
            )
            .unwrap();
        }
    }
    println!("{report}");
}

#[test]
fn a_fault_at_any_io_call_of_a_batch_link_leaves_it_all_or_nothing() {
    // From the inbox, removed from papers (revived), live in papers (counted), in pictures,
    // in the trash, in an archived collection, unfiled.
    fault_matrix("link 200 into papers", &|store, ids| {
        store.batch_add(&batch("papers", refs(&ids[100..300]), Mode::Link, None))
    });
}

#[test]
fn a_fault_at_any_io_call_of_a_batch_move_leaves_it_all_or_nothing() {
    fault_matrix(
        "move 200 from inbox into a created collection",
        &|store, ids| {
            store.batch_add(&BatchAdd {
                create: true,
                ..batch("reading", refs(&ids[0..200]), Mode::Move, Some("inbox"))
            })
        },
    );
}

// ---------------------------------------------------------------------------------------
// 2. Refused batches change nothing.
// ---------------------------------------------------------------------------------------

fn refusal_store() -> (Store, Vec<ItemId>, Vec<ItemId>) {
    let clock = TestClock::new(FAULT_T0, MS);
    let options = Options {
        limits: Limits {
            max_batch: 60,
            max_select: 40,
        },
        ..clock.options()
    };
    let store = Store::open_backend(redb::backends::InMemoryBackend::new(), options).unwrap();
    let docs: Vec<FileFacts> = (0..150)
        .map(|i| facts(&format!("/r/doc{i:03}.pdf"), "application/pdf"))
        .collect();
    let pngs: Vec<FileFacts> = (0..60)
        .map(|i| facts(&format!("/r/img{i:03}.png"), "image/png"))
        .collect();
    let docs = register(&store, &docs);
    let images = register(&store, &pngs);
    for slug in ["inbox", "target", "frozen", "binned"] {
        create(&store, slug);
    }
    create_accepting(&store, "pictures", vec![AcceptRule::Kind(Kind::Image)]);
    link(&store, "inbox", &docs[0..49]);
    // `target` holds an entry whose explicit unique id is "cover", and a removed one.
    store
        .batch_add(&batch(
            "target",
            vec![ItemRef {
                unique_id: Some("cover".into()),
                ..ItemRef::to(ItemTarget::Id(docs[140]))
            }],
            Mode::Link,
            None,
        ))
        .unwrap();
    link(&store, "target", &docs[141..143]);
    remove(&store, "target", &docs[142..143]);
    // docs[24] (the middle of the inbox) is also live in an archived collection.
    link(&store, "frozen", &docs[24..25]);
    archive(&store, "frozen");
    link(&store, "binned", &docs[143..145]);
    store.trash_collection(&cid("binned")).unwrap();
    (store, docs, images)
}

/// `valid` with `offender` put in its middle.
fn with_middle(valid: &[ItemRef], offender: ItemRef) -> Vec<ItemRef> {
    let mut out = valid.to_vec();
    out.insert(valid.len() / 2, offender);
    out
}

#[test]
fn refused_batches_leave_the_store_unchanged_as_seen_from_outside() {
    let (store, docs, images) = refusal_store();
    let unfiled_docs = refs(&docs[50..99]); // 49 items in no collection
    let inbox = refs(&docs[0..49]);
    let unknown: ItemId = "doc_01J00000000000000000000000".parse().unwrap();
    let cases: Vec<(&str, BatchAdd, ErrorCode)> = vec![
        (
            "a missing id in the middle",
            batch(
                "target",
                with_middle(&unfiled_docs, ItemRef::to(ItemTarget::Id(unknown))),
                Mode::Link,
                None,
            ),
            ErrorCode::ItemsNotFound,
        ),
        (
            "an unknown path in the middle of a move",
            batch(
                "target",
                with_middle(
                    &inbox,
                    ItemRef::to(ItemTarget::Path("/r/nowhere.pdf".into())),
                ),
                Mode::Move,
                Some("inbox"),
            ),
            ErrorCode::ItemsNotFound,
        ),
        (
            "an archived target",
            batch("frozen", unfiled_docs.clone(), Mode::Link, None),
            ErrorCode::CollectionArchived,
        ),
        (
            "a move without from of an item also live in an archived collection",
            batch("target", inbox.clone(), Mode::Move, None),
            ErrorCode::CollectionArchived,
        ),
        (
            "a trashed target",
            batch("binned", unfiled_docs.clone(), Mode::Link, None),
            ErrorCode::CollectionTrashed,
        ),
        (
            "a pdf in the middle of images for an image-only collection",
            batch(
                "pictures",
                with_middle(&refs(&images[0..49]), ItemRef::to(ItemTarget::Id(docs[99]))),
                Mode::Link,
                None,
            ),
            ErrorCode::ItemNotAllowed,
        ),
        (
            "an explicit unique id that is taken, in the middle",
            batch(
                "target",
                with_middle(
                    &unfiled_docs,
                    ItemRef {
                        unique_id: Some("cover".into()),
                        ..ItemRef::to(ItemTarget::Id(docs[99]))
                    },
                ),
                Mode::Link,
                None,
            ),
            ErrorCode::UniqueIdConflict,
        ),
        (
            "an item not in from, in the middle of a move",
            batch(
                "target",
                with_middle(&inbox, ItemRef::to(ItemTarget::Id(docs[99]))),
                Mode::Move,
                Some("inbox"),
            ),
            ErrorCode::NotInSource,
        ),
        (
            "one item over max_batch",
            batch("target", refs(&docs[50..111]), Mode::Link, None),
            ErrorCode::BatchSizeExceeded,
        ),
        (
            "a selection matching more than max_select",
            BatchAdd {
                collection: cid("target"),
                items: BatchItems::Select(Selection {
                    collection: Some(cid("inbox")),
                    filter: EntryFilter::default(),
                    query: None,
                }),
                mode: Mode::Move,
                from: None,
                create: false,
                relocate: false,
            },
            ErrorCode::BatchSizeExceeded,
        ),
    ];
    for (what, req, code) in cases {
        let before = snapshot(&store);
        let got = refusal_code(store.batch_add(&req));
        assert_eq!(got, code, "{what}");
        assert!(snapshot(&store) == before, "{what}: the store changed");
    }
    // The same batches without the offender go through: the refusals were about it alone.
    link(&store, "target", &docs[50..99]);
    move_from(&store, "target", &docs[0..24], "inbox");
}

// ---------------------------------------------------------------------------------------
// 3. Persistence on a real file.
// ---------------------------------------------------------------------------------------

#[test]
fn everything_survives_a_reopen_of_the_file_and_the_feed_and_undo_continue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheaf.redb");
    let clock = TestClock::new(FAULT_T0, MS);
    let store = Store::open(&path, clock.options()).unwrap();
    let ids = register_mixed(&store, "p", 1200);
    create(&store, "big");
    create(&store, "small");
    create_accepting(&store, "pics", vec![AcceptRule::Mime("image/*".into())]);
    create(&store, "gone");
    link(&store, "big", &ids[0..1000]);
    link(&store, "big", &ids[1000..1100]);
    link(&store, "small", &ids[1100..1150]);
    remove(&store, "big", &ids[0..20]);
    move_from(&store, "small", &ids[20..40], "big");
    let images: Vec<ItemId> = ids
        .iter()
        .copied()
        .filter(|id| id.prefix_kind() == Kind::Image)
        .take(100)
        .collect();
    link(&store, "pics", &images);
    link(&store, "gone", &ids[1150..1160]);
    store.trash_collection(&cid("gone")).unwrap();
    let last_op = remove(&store, "small", &ids[1100..1105]);
    let before = snapshot(&store);
    assert_eq!(
        before
            .collections
            .iter()
            .find(|c| c.id == cid("big"))
            .unwrap()
            .item_count,
        1060
    );
    assert!(!before.feed.reset);
    drop(store);

    let store = Store::open(&path, clock.options()).unwrap();
    let after = snapshot(&store);
    assert!(after == before, "the reopened store shows something else");
    assert_eq!(store.events(0, usize::MAX).unwrap(), before.feed);

    // An op from before the reopen is undone after it, and its events follow on.
    let w = store.undo(last_op).unwrap();
    let (first, last) = w.seqs.unwrap();
    assert_eq!(first, before.last_seq + 1);
    assert_eq!(last, before.last_seq + 5);
    let small = all_entries(&store, &cid("small"), false);
    assert_eq!(small.len(), 70);
    for id in &ids[1100..1105] {
        assert!(small.iter().any(|l| l.item.id == *id));
    }
    let feed = store.events(before.last_seq, usize::MAX).unwrap();
    assert_eq!(
        feed.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (first..=last).collect::<Vec<_>>()
    );
    assert!(
        feed.events
            .iter()
            .all(|e| e.event.kind == EventKind::EntryAdded)
    );
}

// ---------------------------------------------------------------------------------------
// 4. One store per file.
// ---------------------------------------------------------------------------------------

#[test]
fn opening_a_database_that_is_already_open_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheaf.redb");
    let first = Store::open(&path, Options::default()).unwrap();
    match Store::open(&path, Options::default()) {
        Err(OpenError::AlreadyOpen { path: p }) => assert_eq!(p, path),
        other => panic!("expected AlreadyOpen, got {other:?}"),
    }
    let message = OpenError::AlreadyOpen { path: path.clone() }.to_string();
    assert!(message.contains(path.to_str().unwrap()), "{message}");
    drop(first);
    Store::open(&path, Options::default()).unwrap();
}

// ---------------------------------------------------------------------------------------
// 5. A database from a newer sheaf.
// ---------------------------------------------------------------------------------------

const RAW_META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The `meta` table and the table names, read with raw redb through a read-only open
/// (which leaves the file as it is).
fn raw_meta(path: &Path) -> (Vec<(String, u64)>, Vec<String>) {
    let db = redb::Builder::new().open_read_only(path).unwrap();
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(RAW_META).unwrap();
    let meta = redb::ReadableTable::iter(&table)
        .unwrap()
        .map(|r| {
            let (k, v) = r.unwrap();
            (k.value().to_owned(), v.value())
        })
        .collect();
    let tables = txn
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_owned())
        .collect();
    (meta, tables)
}

fn raw_schema_version(path: &Path) -> Option<u64> {
    raw_meta(path)
        .0
        .into_iter()
        .find_map(|(k, v)| (k == "schema_version").then_some(v))
}

/// A database written by this sheaf, then stamped with schema version 99 by raw redb, as
/// a newer sheaf would leave it.
fn newer_schema_database(dir: &Path) -> PathBuf {
    let path = dir.join("sheaf.redb");
    {
        let store = Store::open(&path, Options::default()).unwrap();
        register_mixed(&store, "s", 3);
    }
    assert_eq!(raw_schema_version(&path), Some(SCHEMA_VERSION));
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(RAW_META)
        .unwrap()
        .insert("schema_version", 99)
        .unwrap();
    txn.commit().unwrap();
    path
}

fn assert_unknown_schema(err: &OpenError) {
    match err {
        OpenError::UnknownSchema { found, supported } => {
            assert_eq!((*found, *supported), (99, SCHEMA_VERSION));
        }
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("schema version 99"), "{message}");
    assert!(
        message.contains(&format!("understands up to {SCHEMA_VERSION}")),
        "{message}"
    );
    assert!(message.contains("upgrade sheaf"), "{message}");
}

#[test]
fn a_database_with_a_newer_schema_is_refused_and_its_content_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = newer_schema_database(dir.path());
    let before = raw_meta(&path);
    assert!(before.1.len() > 10, "tables: {:?}", before.1);
    // Twice: a failed open must not leave the file locked either.
    for _ in 0..2 {
        assert_unknown_schema(&Store::open(&path, Options::default()).unwrap_err());
        assert_eq!(raw_meta(&path), before);
    }
}

#[test]
fn a_database_with_a_newer_schema_is_byte_for_byte_unchanged_by_the_refused_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = newer_schema_database(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    assert_unknown_schema(&Store::open(&path, Options::default()).unwrap_err());
    let now = std::fs::read(&path).unwrap();
    let differ = (0..now.len().max(bytes.len()))
        .filter(|i| now.get(*i) != bytes.get(*i))
        .count();
    assert!(
        differ == 0,
        "the refused open changed the file: {} → {} bytes long, {differ} bytes differ",
        bytes.len(),
        now.len()
    );
}

// ---------------------------------------------------------------------------------------
// 6. Retention of the change feed and of the op log.
// ---------------------------------------------------------------------------------------

fn memory_store(options: Options) -> Store {
    Store::open_backend(redb::backends::InMemoryBackend::new(), options).unwrap()
}

#[test]
fn the_feed_keeps_its_retention_answers_reset_and_never_repeats_a_seq() {
    let clock = TestClock::new(FAULT_T0, MS);
    let store = memory_store(Options {
        feed_retention: 10,
        ..clock.options()
    });
    let mut seqs = Vec::new();
    for i in 0..30 {
        let w = store
            .create_collection(&NewCollection {
                id: Some(cid(&format!("c{i:02}"))),
                ..NewCollection::default()
            })
            .unwrap();
        let (first, last) = w.seqs.unwrap();
        assert_eq!(first, last);
        seqs.push(first);
    }
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());

    let check = |expect_last: u64, expect_kept: u64| {
        let all = store.events(0, usize::MAX).unwrap();
        assert!(
            all.reset,
            "events(0) after the feed was trimmed must say reset"
        );
        assert_eq!(all.last_seq, expect_last);
        assert_eq!(
            all.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (expect_last + 1 - expect_kept..=expect_last).collect::<Vec<_>>()
        );
        let tail = store.events(expect_last - 3, usize::MAX).unwrap();
        assert!(!tail.reset);
        assert_eq!(
            tail.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![expect_last - 2, expect_last - 1, expect_last]
        );
        let none = store.events(expect_last, usize::MAX).unwrap();
        assert!(!none.reset && none.events.is_empty());
    };
    check(30, 10);

    // One commit of 12 events, more than the retention: it stays whole, older ones go.
    let files: Vec<FileFacts> = (0..12)
        .map(|i| facts(&format!("/f/t{i}.txt"), "text/plain"))
        .collect();
    let w = store.register(&files).unwrap();
    assert_eq!(w.seqs, Some((31, 42)));
    check(42, 12);

    // And single-event commits after it push it out a whole commit at a time.
    create(&store, "later");
    let all = store.events(0, usize::MAX).unwrap();
    assert_eq!(all.events.first().unwrap().seq, 43);
    assert_eq!(all.last_seq, 43);
    assert!(all.reset);
}

#[test]
fn ops_older_than_the_retention_cannot_be_undone() {
    let clock = TestClock::new(FAULT_T0, MS);
    let store = memory_store(Options {
        op_retention: 3,
        ..clock.options()
    });
    let ids = register_mixed(&store, "o", 4);
    create(&store, "c");
    let ops: Vec<OpId> = ids.iter().map(|id| link(&store, "c", &[*id])).collect();
    let logged: Vec<OpId> = store
        .ops(None, 100, sheaf_store::Direction::Desc)
        .unwrap()
        .items
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(logged, vec![ops[3], ops[2], ops[1]]);
    assert!(store.op(ops[0]).unwrap().is_none());
    let before = snapshot(&store);
    assert_eq!(refusal_code(store.undo(ops[0])), ErrorCode::OpNotFound);
    assert!(snapshot(&store) == before);
    // The oldest kept one still can.
    store.undo(ops[1]).unwrap();
    assert_eq!(store.collection(&cid("c")).unwrap().unwrap().item_count, 3);
}

// ---------------------------------------------------------------------------------------
// 7. A fixture database of each released schema version.
// ---------------------------------------------------------------------------------------

fn fixture_path(version: u64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("schema-v{version}.redb"))
}

/// 2024-01-01T00:00:00Z; each commit of the fixture is one second after the last.
const FIXTURE_T0: i64 = 1_704_067_200_000_000;
const SECOND: i64 = 1_000_000;

fn fixture_files() -> Vec<FileFacts> {
    let spec = [
        ("/fixture/docs/a.pdf", "application/pdf"),
        ("/fixture/docs/b.pdf", "application/pdf"),
        ("/fixture/docs/c.pdf", "application/pdf"),
        ("/fixture/img/1.png", "image/png"),
        ("/fixture/img/2.png", "image/png"),
        ("/fixture/img/3.jpg", "image/jpeg"),
        ("/fixture/img/4.png", "image/png"),
        ("/fixture/notes/x.md", "text/markdown"),
        ("/fixture/notes/y.md", "text/markdown"),
        ("/fixture/misc/z.bin", "application/octet-stream"),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, (path, ct))| FileFacts {
            path: (*path).into(),
            size: 100 + i as u64,
            mtime: Timestamp::from_micros(FIXTURE_T0 - (i as i64 + 1) * SECOND),
            content_type: (*ct).into(),
            file_id: (i % 2 == 0).then_some(FileId {
                dev: 42,
                ino: 1000 + i as u64,
            }),
        })
        .collect()
}

fn cover_metadata() -> Metadata {
    Metadata::from([
        ("page".to_owned(), MetaValue::Int(1)),
        ("lang".to_owned(), MetaValue::String("en".into())),
        ("color".to_owned(), MetaValue::Bool(true)),
        ("ratio".to_owned(), MetaValue::Float(1.5)),
    ])
}

/// The root of the fixture's watch (schema 3).
const WATCHED: &str = "/fixture/watched";

/// The files found under [`WATCHED`]: path, size.
const WATCHED_FILES: [(&str, u64); 2] = [("w1.txt", 200), ("sub/w2.txt", 201)];

/// The feed after the watch and its files (schema 3): the last seq, and the events they
/// appended after the 23 of the rest (count, kind, second).
const WATCHED_LAST_SEQ: u64 = 29;
const WATCH_EVENTS: [(usize, EventKind, i64); 4] = [
    (1, EventKind::CollectionCreated, 9),
    (1, EventKind::WatchAdded, 9),
    (2, EventKind::ItemCreated, 10),
    (2, EventKind::EntryAdded, 10),
];

fn watched_facts() -> Vec<FileFacts> {
    WATCHED_FILES
        .iter()
        .enumerate()
        .map(|(i, (name, size))| FileFacts {
            path: format!("{WATCHED}/{name}"),
            size: *size,
            mtime: Timestamp::from_micros(FIXTURE_T0 - (i as i64 + 20) * SECOND),
            content_type: "text/plain".into(),
            file_id: Some(FileId {
                dev: 42,
                ino: 2000 + i as u64,
            }),
        })
        .collect()
}

fn fixture_watch() -> NewWatch {
    NewWatch {
        include: vec!["*.txt".into()],
        exclude: vec!["tmp/**".into()],
        poll_ms: Some(5000),
        ..NewWatch::new(WATCHED, cid("inbox"))
    }
}

/// The fixture's content, one commit a second from [`FIXTURE_T0`]: files, collections
/// with `accept` lists, links, an entry with its own name, unique id and metadata, a
/// soft-deleted entry, an archived collection, the kept orders of `photos` (schema 2) and a
/// folder watch with the files it found (schema 3). Every fixture since schema 2 was
/// written by this sequence, run by the sheaf of its version.
fn write_fixture_content(store: &Store) {
    let ids = register(store, &fixture_files()); // T0
    store
        .create_collection(&NewCollection {
            id: Some(cid("papers")),
            name: Some("Papers".into()),
            description: Some("PDFs to read".into()),
            accept: Some(vec![AcceptRule::Kind(Kind::Document)]),
            query: None,
        })
        .unwrap(); // T0 + 1 s
    create_accepting(store, "photos", vec![AcceptRule::Mime("image/*".into())]); // + 2 s
    create(store, "notes"); // + 3 s
    link(store, "papers", &ids[0..3]); // + 4 s
    let mut photos = refs(&ids[3..7]);
    photos[0].display_name = Some("Cover".into());
    photos[0].unique_id = Some("cover".into());
    photos[0].metadata = Some(cover_metadata());
    store
        .batch_add(&batch("photos", photos, Mode::Link, None))
        .unwrap(); // + 5 s
    link(store, "notes", &ids[7..8]); // + 6 s
    remove(store, "papers", &ids[1..2]); // + 7 s
    archive(store, "notes"); // + 8 s
    // The name, added and size orders of `photos` are kept from now on (no commit time).
    sorted_names(store, "photos");
    let Outcome::Watch { watch, .. } = store.create_watch(&fixture_watch()).unwrap().outcome else {
        panic!("create_watch answers Watch")
    }; // + 9 s
    let owner = Owner {
        watch,
        collection: cid("inbox"),
        root: WATCHED.into(),
    };
    let owners: std::sync::Arc<[Owner]> = vec![owner].into();
    let changes: Vec<FolderChange> = watched_facts()
        .into_iter()
        .map(|facts| FolderChange::Present {
            facts,
            was: None,
            owners: std::sync::Arc::clone(&owners),
        })
        .collect();
    store.sync(&changes).unwrap(); // + 10 s

    // Schema 4: a content hash (the `hashes` index) and a smart collection, filled.
    let w1 = store
        .item_by_path(&format!("{WATCHED}/w1.txt"))
        .unwrap()
        .unwrap();
    store
        .sync(&[FolderChange::Hashed {
            item: w1.id,
            size: w1.size,
            mtime: w1.mtime,
            hash: FIXTURE_HASH.into(),
        }])
        .unwrap(); // + 11 s
    store
        .create_collection(&NewCollection {
            id: Some(cid("watched_texts")),
            query: Some(smart_fixture_query()),
            ..NewCollection::default()
        })
        .unwrap(); // + 12 s
    while store.fill_smart(1000).unwrap().is_some() {} // + 13 s

    // Schema 5: a collection created and purged, so that its number stays given.
    create(store, "scratch");
    store.trash_collection(&cid("scratch")).unwrap();
    store.purge_collection(&cid("scratch")).unwrap();
}

/// The content hash of the fixture's `w1.txt` (schema 4).
const FIXTURE_HASH: &str = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

/// The query of the fixture's smart collection `watched_texts` (schema 4).
fn smart_fixture_query() -> sheaf_core::Query {
    let json = serde_json::json!({"kind": "text", "path": [format!("{WATCHED}/**")]});
    sheaf_core::Query::parse(&json, &[]).unwrap()
}

/// The feed after the hash and the smart collection (schema 4): the last seq, and the
/// events they appended after the watch's.
const SMART_LAST_SEQ: u64 = 33;
const SMART_EVENTS: [(usize, EventKind, i64); 3] = [
    (1, EventKind::ItemUpdated, 11),
    (1, EventKind::CollectionCreated, 12),
    (2, EventKind::EntryAdded, 13),
];

/// The feed after the purged collection (schema 5): the last seq, and the events it
/// appended after the smart collection's.
const NUMBERED_LAST_SEQ: u64 = 36;
const NUMBERED_EVENTS: [(usize, EventKind, i64); 3] = [
    (1, EventKind::CollectionCreated, 15),
    (1, EventKind::CollectionTrashed, 16),
    (1, EventKind::CollectionPurged, 17),
];

/// Writes `tests/fixtures/schema-v{SCHEMA_VERSION}.redb` with [`write_fixture_content`].
/// Run it when the schema version changes (after the bump, with the new version's code):
/// `cargo test -p sheaf-store --test durability -- --ignored write_current_schema_fixture`,
/// then commit the file and add an `a_schema_vN_database_…` test like the ones below. It
/// never overwrites a fixture: a released version's database is kept as that version
/// wrote it.
#[test]
#[ignore = "generates the committed fixture; run by hand when the schema version changes"]
fn write_current_schema_fixture() {
    let target = fixture_path(SCHEMA_VERSION);
    assert!(
        !target.exists(),
        "{} exists: a released version's fixture is never rewritten",
        target.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("fixture.redb");
    {
        // Creating the database reads the clock once; the first commit is at T0.
        let clock = TestClock::new(FIXTURE_T0 - SECOND, SECOND);
        let store = Store::open(&tmp, clock.options()).unwrap();
        write_fixture_content(&store);
    }
    let written = std::fs::metadata(&tmp).unwrap().len();
    {
        let mut db = redb::Database::open(&tmp).unwrap();
        while db.compact().unwrap() {}
    }
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(&tmp, &target).unwrap();
    let size = std::fs::metadata(&target).unwrap().len();
    println!(
        "wrote {} ({size} bytes; {written} before compaction)",
        target.display()
    );
    assert!(size <= 1 << 20, "the fixture is {size} bytes");
}

/// A collection's display names in the name order (which builds that order the first time).
fn sorted_names(store: &Store, slug: &str) -> Vec<String> {
    store
        .entries(
            &cid(slug),
            &EntryQuery {
                limit: 1000,
                order: sheaf_store::Order::Name,
                ..EntryQuery::default()
            },
        )
        .unwrap()
        .unwrap()
        .items
        .into_iter()
        .map(|l| l.entry.unwrap().display_name)
        .collect()
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_micros(FIXTURE_T0 + seconds * SECOND)
}

/// Opens a copy of the fixture of schema `version` with today's code (which migrates it),
/// an hour after it was written; checks what it holds; checks that the old database keeps
/// working; and checks that the file was left at today's schema version.
fn open_and_check_fixture(version: u64) {
    let fixture = fixture_path(version);
    let size = std::fs::metadata(&fixture)
        .unwrap_or_else(|e| panic!("{} is missing ({e})", fixture.display()))
        .len();
    assert!(size <= 1 << 20, "the fixture grew to {size} bytes");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    std::fs::copy(&fixture, &path).unwrap();
    assert_eq!(
        raw_schema_version(&path),
        Some(version),
        "the fixture is not v{version}"
    );

    let clock = TestClock::new(FIXTURE_T0 + 3600 * SECOND, SECOND);
    let store = Store::open(&path, clock.options()).unwrap();
    let watched = version >= 3;
    let smart = version >= 4;
    let purged = version >= 5;

    // Items, by path.
    let files = fixture_files();
    let items = snapshot(&store).items;
    assert_eq!(items.len(), if watched { 12 } else { 10 });
    let mut by_path = HashMap::new();
    for f in &files {
        let item = store.item_by_path(&f.path).unwrap().unwrap();
        assert_eq!(item.path.as_deref(), Some(f.path.as_str()));
        assert_eq!(item.kind, f.kind());
        assert_eq!(item.content_type, f.content_type);
        assert_eq!(item.size, f.size);
        assert_eq!(item.mtime, f.mtime);
        assert_eq!(item.file_id, f.file_id);
        assert_eq!(item.original_filename, f.file_name());
        assert_eq!((item.created_at, item.updated_at), (at(0), at(0)));
        assert_eq!(item.deleted_at, None);
        assert!(item.metadata.is_empty());
        assert_eq!(item.id.prefix_kind(), f.kind());
        by_path.insert(f.path.as_str(), item.id);
    }
    let id = |name: &str| by_path[format!("/fixture/{name}").as_str()];
    // Numbers (schema 5): from 1 in registration order, whether the migration gave them
    // (by `created_at`, then id) or the writes did.
    let mut numbered: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    if watched {
        numbered.extend(
            WATCHED_FILES
                .iter()
                .map(|(name, _)| format!("{WATCHED}/{name}")),
        );
    }
    for (n, path) in (1..).zip(&numbered) {
        let item = store.item_by_path(path).unwrap().unwrap();
        assert_eq!(item.number, n, "the number of {path}");
        assert_eq!(store.item_by_number(n).unwrap(), Some(item));
    }
    assert_eq!(
        store.item_by_number(numbered.len() as u64 + 1).unwrap(),
        None
    );

    // Collections.
    let collections = store.collections(&CollectionQuery::default()).unwrap();
    let summary: Vec<(String, u64, bool)> = collections
        .iter()
        .map(|c| (c.id.to_string(), c.item_count, c.archived))
        .collect();
    let mut expected: Vec<(String, u64, bool)> = vec![
        ("default".into(), 3, false),
        ("notes".into(), 1, true),
        ("papers".into(), 2, false),
        ("photos".into(), 4, false),
    ];
    if watched {
        expected.insert(1, ("inbox".into(), 2, false));
    }
    if smart {
        expected.push(("watched_texts".into(), 2, false));
    }
    assert_eq!(summary, expected);
    let named = |slug: &str| collections.iter().find(|c| c.id == cid(slug)).unwrap();
    // Collections are numbered in creation order too; `default` is 0.
    let mut by_creation = vec!["papers", "photos", "notes"];
    if watched {
        by_creation.push("inbox");
    }
    if smart {
        by_creation.push("watched_texts");
    }
    assert_eq!(named("default").number, 0);
    for (n, slug) in (1..).zip(&by_creation) {
        assert_eq!(named(slug).number, n, "the number of {slug}");
        assert_eq!(
            store.collection_by_number(n).unwrap().as_ref(),
            Some(named(slug))
        );
    }
    let papers = named("papers");
    assert_eq!(papers.name, "Papers");
    assert_eq!(papers.description, "PDFs to read");
    assert_eq!(papers.accept, Some(vec![AcceptRule::Kind(Kind::Document)]));
    assert_eq!((papers.created_at, papers.updated_at), (at(1), at(1)));
    assert_eq!(
        named("photos").accept,
        Some(vec![AcceptRule::Mime("image/*".into())])
    );
    assert_eq!(
        (named("notes").created_at, named("notes").updated_at),
        (at(3), at(8))
    );
    assert!(
        store
            .collections(&CollectionQuery {
                trashed: true,
                ..CollectionQuery::default()
            })
            .unwrap()
            .is_empty()
    );

    // Entries, in order, with the removed one.
    let rows = |slug: &str| -> Vec<(ItemId, String, String, Option<Timestamp>)> {
        all_entries(&store, &cid(slug), true)
            .into_iter()
            .map(|l| {
                let e = l.entry.unwrap();
                assert_eq!(e.item_id, l.item.id);
                (e.item_id, e.display_name, e.unique_id, e.deleted_at)
            })
            .collect()
    };
    assert_eq!(
        rows("papers"),
        vec![
            (id("docs/a.pdf"), "a.pdf".into(), "a.pdf".into(), None),
            (
                id("docs/b.pdf"),
                "b.pdf".into(),
                "b.pdf".into(),
                Some(at(7))
            ),
            (id("docs/c.pdf"), "c.pdf".into(), "c.pdf".into(), None),
        ]
    );
    assert_eq!(
        rows("photos"),
        vec![
            (id("img/1.png"), "Cover".into(), "cover".into(), None),
            (id("img/2.png"), "2.png".into(), "2.png".into(), None),
            (id("img/3.jpg"), "3.jpg".into(), "3.jpg".into(), None),
            (id("img/4.png"), "4.png".into(), "4.png".into(), None),
        ]
    );
    // Schema 2 added the name, added and size orders; the migration (from 1) built them.
    let by_name = sorted_names(&store, "photos");
    assert_eq!(by_name, ["2.png", "3.jpg", "4.png", "Cover"]);
    assert_eq!(
        rows("notes"),
        vec![(id("notes/x.md"), "x.md".into(), "x.md".into(), None)]
    );
    let cover = store
        .entry(&cid("photos"), id("img/1.png"))
        .unwrap()
        .unwrap();
    assert_eq!(cover.metadata, cover_metadata());
    assert_eq!((cover.created_at, cover.updated_at), (at(5), at(5)));
    let unfiled: Vec<ItemId> = all_entries(&store, &CollectionId::default_collection(), false)
        .into_iter()
        .map(|l| l.item.id)
        .collect();
    // b.pdf left its only collection: unfiled, in id (registration) order.
    assert_eq!(
        unfiled,
        vec![id("docs/b.pdf"), id("notes/y.md"), id("misc/z.bin")]
    );
    let (_, memberships) = store.item(id("docs/b.pdf")).unwrap().unwrap();
    assert!(memberships.is_empty());

    // The feed.
    let feed = store.events(0, usize::MAX).unwrap();
    assert!(!feed.reset);
    let last_seq = match (watched, smart) {
        _ if purged => NUMBERED_LAST_SEQ,
        (_, true) => SMART_LAST_SEQ,
        (true, false) => WATCHED_LAST_SEQ,
        (false, false) => 23,
    };
    assert_eq!(feed.last_seq, last_seq);
    let kinds: Vec<(u64, EventKind, Timestamp)> = feed
        .events
        .iter()
        .map(|e| (e.seq, e.event.kind, e.at))
        .collect();
    let mut expected = Vec::new();
    let mut push = |n: usize, kind: EventKind, t: i64| {
        for _ in 0..n {
            expected.push((expected.len() as u64 + 1, kind, at(t)));
        }
    };
    push(10, EventKind::ItemCreated, 0);
    push(1, EventKind::CollectionCreated, 1);
    push(1, EventKind::CollectionCreated, 2);
    push(1, EventKind::CollectionCreated, 3);
    push(3, EventKind::EntryAdded, 4);
    push(4, EventKind::EntryAdded, 5);
    push(1, EventKind::EntryAdded, 6);
    push(1, EventKind::EntryRemoved, 7);
    push(1, EventKind::CollectionUpdated, 8);
    if watched {
        for (n, kind, t) in WATCH_EVENTS {
            push(n, kind, t);
        }
    }
    if smart {
        for (n, kind, t) in SMART_EVENTS {
            push(n, kind, t);
        }
    }
    if purged {
        for (n, kind, t) in NUMBERED_EVENTS {
            push(n, kind, t);
        }
    }
    assert_eq!(kinds, expected);
    // Events from before schema 4 do not know their entry's source; later ones do.
    for e in &feed.events {
        let entry_event = matches!(
            e.event.kind,
            EventKind::EntryAdded | EventKind::EntryUpdated | EventKind::EntryRemoved
        );
        assert_eq!(e.event.source.is_some(), smart && entry_event, "{e:?}");
    }

    // The op log.
    let ops = store
        .ops(None, 100, sheaf_store::Direction::Desc)
        .unwrap()
        .items;
    let shape: Vec<(OpKind, String, Timestamp, u64)> = ops
        .iter()
        .map(|o| {
            let total = match &o.summary {
                OpSummary::Batch { summary, .. } => summary.total,
                OpSummary::Remove { summary } => summary.total,
                OpSummary::Changed { count } => *count,
            };
            (
                o.kind,
                o.collection_id.as_ref().unwrap().to_string(),
                o.at,
                total,
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (OpKind::Remove, "papers".into(), at(7), 1),
            (OpKind::Link, "notes".into(), at(6), 1),
            (OpKind::Link, "photos".into(), at(5), 4),
            (OpKind::Link, "papers".into(), at(4), 3),
        ]
    );
    assert!(ops.iter().all(|o| o.undone_by.is_none()));

    // The old database keeps working: its last op is undone, the feed follows on.
    let w = store.undo(ops[0].id).unwrap();
    let next = feed.last_seq + 1;
    assert_eq!(w.seqs, Some((next, next)));
    let b = store
        .entry(&cid("papers"), id("docs/b.pdf"))
        .unwrap()
        .unwrap();
    assert_eq!(b.deleted_at, None);
    assert_eq!(
        store
            .collection(&cid("papers"))
            .unwrap()
            .unwrap()
            .item_count,
        3
    );
    if watched {
        assert_watch_content(&store);
    }
    if smart {
        assert_smart_content(&store);
    }
    // Whatever its version, the database takes smart collections now: one over its
    // documents is filled with exactly them.
    store
        .create_collection(&NewCollection {
            id: Some(cid("all_documents")),
            query: Some(
                sheaf_core::Query::parse(&serde_json::json!({"kind": "document"}), &[]).unwrap(),
            ),
            ..NewCollection::default()
        })
        .unwrap();
    while store.fill_smart(3).unwrap().is_some() {}
    let documents = files.iter().filter(|f| f.kind() == Kind::Document).count();
    let all = store.collection(&cid("all_documents")).unwrap().unwrap();
    assert_eq!((all.item_count, all.filling), (documents as u64, false));
    // The counters go on from the numbers the database had (the purged one's stays given).
    let given = by_creation.len() as u64 + u64::from(purged);
    assert_eq!(all.number, given + 1);
    assert_eq!(
        store.collection_by_number(given).unwrap().is_some(),
        !purged
    );
    drop(store);
    assert_eq!(raw_schema_version(&path), Some(SCHEMA_VERSION));
}

/// The fixture's smart collection (schema 4): its query, filled, with the watched files as
/// entries of source `query`; and the content hash of `w1.txt`.
fn assert_smart_content(store: &Store) {
    let c = store.collection(&cid("watched_texts")).unwrap().unwrap();
    assert_eq!(c.query.as_deref(), Some(&smart_fixture_query()));
    assert!(!c.filling);
    assert_eq!(c.item_count, WATCHED_FILES.len() as u64);
    for row in all_entries(store, &cid("watched_texts"), false) {
        let e = row.entry.unwrap();
        assert_eq!(e.source, EntrySource::Query);
        assert_eq!(e.created_at, at(13));
        assert!(row.item.path.unwrap().starts_with(WATCHED));
    }
    let w1 = store
        .item_by_path(&format!("{WATCHED}/w1.txt"))
        .unwrap()
        .unwrap();
    assert_eq!(w1.content_hash.as_deref(), Some(FIXTURE_HASH));
}

/// The fixture's watch (schema 3): the watch itself, its collection bound to it, the
/// files it found as folder entries, and what a reconcile reads under its root.
fn assert_watch_content(store: &Store) {
    let watches = store.watches().unwrap();
    assert_eq!(watches.len(), 1);
    let watch = &watches[0];
    let req = fixture_watch();
    assert_eq!(watch.path, req.path);
    assert_eq!(watch.collection_id, req.collection);
    assert_eq!(watch.recursive, req.recursive);
    assert_eq!(watch.include, req.include);
    assert_eq!(watch.exclude, req.exclude);
    assert_eq!(watch.poll_ms, req.poll_ms);
    assert_eq!(watch.from_config, req.from_config);
    assert_eq!(watch.created_at, at(9));
    let inbox = store.collection(&cid("inbox")).unwrap().unwrap();
    assert_eq!(inbox.folders, vec![watch.id]);
    assert_eq!(inbox.created_at, at(9));

    let files = watched_facts();
    let rows = all_entries(store, &cid("inbox"), true);
    assert_eq!(rows.len(), files.len());
    for (row, (f, (name, _))) in rows.iter().zip(files.iter().zip(WATCHED_FILES)) {
        let e = row.entry.as_ref().unwrap();
        assert_eq!(e.source, EntrySource::Folder(watch.id));
        assert_eq!(e.unique_id, name);
        assert_eq!(e.deleted_at, None);
        assert_eq!(e.created_at, at(10));
        let item = &row.item;
        assert_eq!(item.path.as_deref(), Some(f.path.as_str()));
        assert_eq!(
            (item.size, item.mtime, item.file_id),
            (f.size, f.mtime, f.file_id)
        );
        assert_eq!(item.kind, Kind::Text);
        assert_eq!(item.created_at, at(10));
    }
    let known: Vec<(String, bool)> = store
        .known_under(WATCHED)
        .unwrap()
        .into_iter()
        .map(|k| (k.path, k.present))
        .collect();
    let mut paths: Vec<String> = files.into_iter().map(|f| f.path).collect();
    paths.sort();
    assert_eq!(
        known,
        paths.into_iter().map(|p| (p, true)).collect::<Vec<_>>()
    );
}

#[test]
fn a_schema_v1_database_opens_with_its_content_intact() {
    open_and_check_fixture(1);
}

#[test]
fn a_schema_v2_database_opens_with_its_content_intact() {
    open_and_check_fixture(2);
}

#[test]
fn a_schema_v3_database_opens_with_its_content_intact() {
    open_and_check_fixture(3);
}

#[test]
fn a_schema_v4_database_opens_with_its_content_intact() {
    open_and_check_fixture(4);
}

#[test]
fn a_schema_v5_database_opens_with_its_content_intact() {
    open_and_check_fixture(5);
}
