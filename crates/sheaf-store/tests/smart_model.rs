//! Property test of smart collections (SPEC §7.2): after random sequences of file events,
//! registrations, metadata patches, links, moves, removes, undos, watch changes, trash,
//! restore, purge and re-query of collections, and background fill steps, every smart
//! collection that is filled and outside the trash holds exactly the items its query
//! matches — decided here by brute force over every item the store knows, from plain
//! reads (the item, the collections `Store::item` says it is live in, the watches owning a
//! live folder entry of it, whether another live item has its content hash), never through
//! the upkeep's own planner. Its `item_count` is that number and every live entry has the
//! source `query`.
//!
//! A case starts with two watches (`~/docs` into `w`, `/tmp` into `a`), the hand-kept
//! collections `b` and `c`, a few files and up to three smart collections, then runs 1 to
//! 40 random ops; more smart collections are created in the middle, so that both the fill
//! and the upkeep of a filled collection are exercised. Smart collections still filling
//! are checked once the case has filled them all, at its end. 64 cases by default (seconds in
//! a debug build); for a longer hunt:
//! `PROPTEST_CASES=5000 cargo test -p sheaf-store --test smart_model --release`.

#![allow(clippy::unwrap_used)] // a test that cannot read its own store should fail loudly

#[allow(dead_code)]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use redb::backends::InMemoryBackend;
use sheaf_core::rules::{
    BatchAdd, CollectionUpdate, FolderChange, ItemUpdate, Mode, NewCollection, NewWatch, Owner,
    Remove, Was,
};
use sheaf_core::{
    CollectionId, EntrySource, FileFacts, Item, ItemId, ItemTarget, Loc, Matcher, MetaValue,
    Outcome, Query, Subject, Timestamp, WatchId,
};
use sheaf_store::{CollectionQuery, Options, Store, WriteError};
use support::{all_entries, all_items, proptest_config};

// ---------------------------------------------------------------------------------------
// The universe
// ---------------------------------------------------------------------------------------

const HOME: &str = "/home/u";

/// Every path a case's files live at, with its natural content type. The last one is
/// under no watch: only `register` makes it an item.
const PATHS: [(&str, &str); 8] = [
    ("/home/u/docs/report.pdf", "application/pdf"),
    ("/home/u/docs/notes.txt", "text/plain"),
    ("/home/u/docs/scan.png", "image/png"),
    ("/home/u/docs/deep/Report-2.pdf", "application/pdf"),
    ("/tmp/report.txt", "text/plain"),
    ("/tmp/a.pdf", "application/pdf"),
    ("/tmp/b.png", "image/png"),
    ("/home/u/other.pdf", "application/pdf"),
];

/// Content types a file event may give instead of the natural one (a file rewritten).
const TYPES: [&str; 3] = ["application/pdf", "text/plain", "image/png"];
const SIZES: [u64; 3] = [10, 100, 1000];
/// Modification times: the epoch's first and second second.
const MTIMES: [i64; 2] = [1_000_000, 2_000_000];

/// Content hashes: the first two share their first 128 bits (the `hashes` index key), so
/// only the full hash tells them apart.
const HASHES: [&str; 3] = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
];

/// Collections: the first four kept by hand (`a` and `w` also fed by a watch), the rest
/// smart slots.
const COLLS: [&str; 8] = ["a", "b", "c", "w", "s0", "s1", "s2", "s3"];
const HAND: u8 = 4;

/// The watches: root and collection.
const WATCHES: [(&str, &str); 2] = [("/home/u/docs", "w"), ("/tmp", "a")];

/// Item metadata a patch sets: key and the values it picks from.
const META: [(&str, &[Meta]); 4] = [
    ("reviewed", &[Meta::Bool(true), Meta::Bool(false)]),
    (
        "project",
        &[Meta::Str("apollo"), Meta::Str("zeus"), Meta::Int(3)],
    ),
    (
        "score",
        &[Meta::Int(1), Meta::Int(2), Meta::Float(3.0), Meta::Int(4)],
    ),
    ("todo", &[Meta::Bool(true), Meta::Str("later")]),
];

#[derive(Clone, Copy, Debug)]
enum Meta {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'static str),
}

impl Meta {
    fn value(self) -> MetaValue {
        match self {
            Meta::Bool(b) => MetaValue::Bool(b),
            Meta::Int(i) => MetaValue::Int(i),
            Meta::Float(f) => MetaValue::Float(f),
            Meta::Str(s) => MetaValue::String(s.to_owned()),
        }
    }
}

/// The pieces queries are made of, all of which must match: one or two per query (fields that
/// repeat take the later piece, metadata conditions add up). `$W0`/`$W1` stand for the
/// watches' ids. From [`RELATIONAL`] on they read more than the item itself (memberships,
/// watches, other items' hashes): where the upkeep has to look beyond the item a write
/// changed, so they are drawn more often.
const ATOMS: [&str; 33] = [
    "{}",
    r#"{"kind": "document"}"#,
    r#"{"kind": ["image", "text"]}"#,
    r#"{"content_type": "application/pdf"}"#,
    r#"{"content_type": ["image/*", "text/plain"]}"#,
    r#"{"path": "~/docs/**"}"#,
    r#"{"path": ["/tmp/*", "~/other.pdf"]}"#,
    r#"{"path": "**/*.pdf"}"#,
    r#"{"name": "REPORT"}"#,
    r#"{"size": {"min": 50, "max": 500}}"#,
    r#"{"size": {"min": 500}}"#,
    r#"{"mtime": {"after": "1970-01-01T00:00:02Z"}}"#,
    r#"{"metadata": {"reviewed": true}}"#,
    r#"{"metadata": {"project": ["apollo", "zeus"]}}"#,
    r#"{"metadata": {"score": {"min": 2, "max": 3}}}"#,
    r#"{"metadata": {"todo": {"exists": true}}}"#,
    r#"{"metadata": {"reviewed": {"exists": false}}}"#,
    r#"{"in": "a"}"#,
    r#"{"in": ["b", "c"]}"#,
    r#"{"not_in": "b"}"#,
    r#"{"in": "w"}"#,
    r#"{"in": "s0"}"#,
    r#"{"not_in": "s0"}"#,
    r#"{"in": ["s1", "c"]}"#,
    r#"{"not_in": "s1"}"#,
    r#"{"in": ["s2", "s3"]}"#,
    r#"{"duplicate": true}"#,
    r#"{"duplicate": false}"#,
    r#"{"deleted": true}"#,
    r#"{"deleted": true, "duplicate": true}"#,
    r#"{"duplicate": true, "not_in": "a"}"#,
    r#"{"watch": "$W0"}"#,
    r#"{"watch": ["$W0", "$W1"]}"#,
];
const RELATIONAL: u8 = 17;

/// A path of [`PATHS`], shown as the path.
#[derive(Clone, Copy, PartialEq, Eq)]
struct P(u8);

/// A collection of [`COLLS`], shown as its slug.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct C(u8);

/// A piece of a query, shown as its JSON.
#[derive(Clone, Copy)]
struct A(u8);

impl P {
    fn path(self) -> &'static str {
        PATHS[usize::from(self.0)].0
    }

    fn content_type(self) -> &'static str {
        PATHS[usize::from(self.0)].1
    }
}

impl C {
    fn id(self) -> CollectionId {
        CollectionId::parse(COLLS[usize::from(self.0)]).unwrap()
    }
}

impl fmt::Debug for P {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

impl fmt::Debug for C {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(COLLS[usize::from(self.0)])
    }
}

impl fmt::Debug for A {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ATOMS[usize::from(self.0)])
    }
}

// ---------------------------------------------------------------------------------------
// Operations and their strategies
// ---------------------------------------------------------------------------------------

/// One operation of a case. Sizes, mtimes, content types, hashes and metadata are indices
/// into [`SIZES`], [`MTIMES`], [`TYPES`], [`HASHES`] and [`META`].
#[derive(Clone, Debug)]
enum Op {
    /// A file seen at a path (moved there from `was`), owned by the watches covering it.
    Present {
        path: P,
        was: Option<P>,
        size: u8,
        mtime: u8,
        ty: Option<u8>,
    },
    /// A file renamed from one path to another before its facts were read.
    Renamed {
        from: P,
        to: P,
    },
    Gone(P),
    /// The background hash of the item at a path, for its current size and mtime.
    Hashed {
        path: P,
        hash: u8,
    },
    Register(Vec<(P, u8)>),
    Meta {
        path: P,
        key: u8,
        value: Option<u8>,
    },
    Add {
        coll: C,
        paths: Vec<P>,
        mode: Mode,
        from: Option<C>,
    },
    Remove {
        coll: C,
        paths: Vec<P>,
    },
    /// Undo of the n-th op of the log (newest first), modulo its length.
    Undo(usize),
    CreateSmart {
        slot: C,
        query: Vec<A>,
    },
    Requery {
        slot: C,
        query: Vec<A>,
    },
    CreateHand(C),
    Trash(C),
    Restore(C),
    Purge(C),
    RemoveWatch {
        watch: u8,
        keep_entries: bool,
    },
    CreateWatch(u8),
    Fill(u8),
}

fn any_path() -> impl Strategy<Value = P> + Clone {
    (0..PATHS.len() as u8).prop_map(P)
}

fn any_coll() -> impl Strategy<Value = C> {
    (0..COLLS.len() as u8).prop_map(C)
}

/// Mostly a collection kept by hand.
fn hand() -> impl Strategy<Value = C> {
    prop_oneof![9 => 0..HAND, 1 => HAND..COLLS.len() as u8].prop_map(C)
}

fn slot() -> impl Strategy<Value = C> {
    (HAND..COLLS.len() as u8).prop_map(C)
}

/// Any collection, often `s0` or `s1`: the smart ones other queries read, whose re-query,
/// trash or restore the smart collections reading them must follow.
fn read_coll() -> impl Strategy<Value = C> {
    prop_oneof![2 => any_coll(), 1 => (HAND..HAND + 2).prop_map(C)]
}

fn query() -> impl Strategy<Value = Vec<A>> {
    let atom = prop_oneof![1 => 0..RELATIONAL, 2 => RELATIONAL..ATOMS.len() as u8];
    prop::collection::vec(atom.prop_map(A), 1..3)
}

fn present() -> impl Strategy<Value = Op> {
    (
        any_path(),
        prop::option::weighted(0.2, any_path()),
        0..SIZES.len() as u8,
        0..MTIMES.len() as u8,
        prop::option::weighted(0.15, 0..TYPES.len() as u8),
    )
        .prop_map(|(path, was, size, mtime, ty)| Op::Present {
            path,
            was,
            size,
            mtime,
            ty,
        })
}

fn register() -> impl Strategy<Value = Op> {
    prop::collection::vec((any_path(), 0..SIZES.len() as u8), 1..4).prop_map(Op::Register)
}

fn op() -> impl Strategy<Value = Op> {
    let paths = prop::collection::vec(any_path(), 1..4);
    prop_oneof![
        12 => present(),
        2 => (any_path(), any_path()).prop_map(|(from, to)| Op::Renamed { from, to }),
        7 => any_path().prop_map(Op::Gone),
        14 => (any_path(), prop_oneof![2 => Just(0), 1 => 1..HASHES.len() as u8])
            .prop_map(|(path, hash)| Op::Hashed { path, hash }),
        4 => register(),
        10 => (any_path(), 0..META.len() as u8, prop::option::weighted(0.8, 0..4u8))
            .prop_map(|(path, key, value)| Op::Meta { path, key, value }),
        12 => (
            hand(),
            paths.clone(),
            prop_oneof![Just(Mode::Link), Just(Mode::Move)],
            prop::option::weighted(0.3, hand()),
        )
            .prop_map(|(coll, paths, mode, from)| Op::Add { coll, paths, mode, from }),
        5 => (hand(), paths).prop_map(|(coll, paths)| Op::Remove { coll, paths }),
        8 => (0..16usize).prop_map(Op::Undo),
        4 => (slot(), query()).prop_map(|(slot, query)| Op::CreateSmart { slot, query }),
        5 => (read_coll(), query()).prop_map(|(slot, query)| Op::Requery { slot, query }),
        1 => (0..HAND).prop_map(|c| Op::CreateHand(C(c))),
        4 => read_coll().prop_map(Op::Trash),
        4 => read_coll().prop_map(Op::Restore),
        1 => any_coll().prop_map(Op::Purge),
        1 => (0..WATCHES.len() as u8, any::<bool>())
            .prop_map(|(watch, keep_entries)| Op::RemoveWatch { watch, keep_entries }),
        1 => (0..WATCHES.len() as u8).prop_map(Op::CreateWatch),
        16 => (1..8u8).prop_map(Op::Fill),
    ]
}

/// A case: a few files, up to three smart collections (in slot order, so that later ones
/// can read earlier ones), then 1 to 40 random ops.
fn case() -> impl Strategy<Value = Vec<Op>> {
    let file = prop_oneof![3 => present(), 1 => register()];
    (
        prop::collection::vec(file, 4..10),
        prop::collection::btree_map(slot(), query(), 1..4),
        prop::collection::vec(op(), 1..40),
    )
        .prop_map(|(files, smart, ops)| {
            let smart = smart
                .into_iter()
                .map(|(slot, query)| Op::CreateSmart { slot, query });
            files.into_iter().chain(smart).chain(ops).collect()
        })
}

// ---------------------------------------------------------------------------------------
// Running ops
// ---------------------------------------------------------------------------------------

struct World {
    store: Store,
    /// The id of each watch slot's latest watch.
    watches: [WatchId; 2],
}

/// A refusal is an answer; a store failure is a failed case.
fn ok<T>(result: Result<T, WriteError>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) | Err(WriteError::Refused(_)) => Ok(()),
        Err(WriteError::Store(e)) => Err(TestCaseError::fail(format!("the store failed: {e}"))),
    }
}

impl World {
    fn new() -> Self {
        let store = Store::open_backend(
            InMemoryBackend::new(),
            Options {
                durable: false,
                home: Some(HOME.into()),
                ..Options::default()
            },
        )
        .unwrap();
        for c in ["b", "c"] {
            store
                .create_collection(&NewCollection {
                    id: Some(CollectionId::parse(c).unwrap()),
                    ..NewCollection::default()
                })
                .unwrap();
        }
        let mut world = Self {
            store,
            watches: [WatchId::from_ulid(ulid::Ulid::nil()); 2],
        };
        for w in 0..WATCHES.len() as u8 {
            world.create_watch(w).unwrap();
        }
        world
    }

    fn create_watch(&mut self, w: u8) -> Result<(), WriteError> {
        let (root, coll) = WATCHES[usize::from(w)];
        let req = NewWatch::new(root, CollectionId::parse(coll).unwrap());
        if let Outcome::Watch { watch, .. } = self.store.create_watch(&req)?.outcome {
            self.watches[usize::from(w)] = watch;
        }
        Ok(())
    }

    /// The watches covering a path now, as the daemon names them.
    fn owners(&self, p: &str) -> std::sync::Arc<[Owner]> {
        self.store
            .watches()
            .unwrap()
            .into_iter()
            .filter(|w| {
                p.strip_prefix(w.path.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
            .map(|w| Owner {
                watch: w.id,
                collection: w.collection_id,
                root: w.path,
            })
            .collect()
    }

    /// The item at a path (or last seen there).
    fn item_at(&self, p: P) -> Option<Item> {
        self.store.item_by_path(p.path()).unwrap()
    }

    fn targets(&self, paths: &[P]) -> Vec<ItemTarget> {
        paths
            .iter()
            .map(|p| {
                self.item_at(*p).map_or_else(
                    || ItemTarget::Path(p.path().into()),
                    |i| ItemTarget::Id(i.id),
                )
            })
            .collect()
    }

    fn query(&self, atoms: &[A]) -> Option<Query> {
        let mut q = serde_json::Map::new();
        for a in atoms {
            let text = ATOMS[usize::from(a.0)]
                .replace("$W0", &self.watches[0].to_string())
                .replace("$W1", &self.watches[1].to_string());
            let serde_json::Value::Object(fields) = serde_json::from_str(&text).unwrap() else {
                unreachable!("every atom is an object")
            };
            for (k, v) in fields {
                match (q.get_mut(&k), v) {
                    (Some(serde_json::Value::Object(have)), serde_json::Value::Object(more))
                        if k == "metadata" =>
                    {
                        have.extend(more);
                    }
                    (_, v) => {
                        q.insert(k, v);
                    }
                }
            }
        }
        // Some combinations are invalid (none is, today); a refused query is a skipped op.
        Query::parse(&serde_json::Value::Object(q), &[Loc::from("query")]).ok()
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let store = &self.store;
        match op {
            Op::Present {
                path: p,
                was,
                size,
                mtime,
                ty,
            } => {
                let facts = FileFacts {
                    path: p.path().into(),
                    size: SIZES[usize::from(*size)],
                    mtime: Timestamp::from_micros(MTIMES[usize::from(*mtime)]),
                    content_type: ty
                        .map_or(p.content_type(), |t| TYPES[usize::from(t)])
                        .into(),
                    file_id: None,
                };
                let change = FolderChange::Present {
                    facts,
                    was: was.filter(|w| w != p).map(|w| Was::Path(w.path().into())),
                    owners: self.owners(p.path()),
                };
                ok(store.sync(&[change]))
            }
            Op::Renamed { from, to } => ok(store.sync(&[FolderChange::Renamed {
                from: from.path().into(),
                to: to.path().into(),
                owners: self.owners(to.path()),
            }])),
            Op::Gone(p) => ok(store.sync(&[FolderChange::Gone {
                path: p.path().into(),
            }])),
            Op::Hashed { path: p, hash } => {
                let Some(item) = self.item_at(*p) else {
                    return Ok(());
                };
                ok(store.sync(&[FolderChange::Hashed {
                    item: item.id,
                    size: item.size,
                    mtime: item.mtime,
                    hash: HASHES[usize::from(*hash)].into(),
                }]))
            }
            Op::Register(files) => {
                let facts: Vec<FileFacts> = files
                    .iter()
                    .map(|(p, size)| FileFacts {
                        path: p.path().into(),
                        size: SIZES[usize::from(*size)],
                        mtime: Timestamp::from_micros(MTIMES[0]),
                        content_type: p.content_type().into(),
                        file_id: None,
                    })
                    .collect();
                ok(store.register(&facts))
            }
            Op::Meta {
                path: p,
                key,
                value,
            } => {
                let Some(item) = self.item_at(*p) else {
                    return Ok(());
                };
                let (key, values) = META[usize::from(*key)];
                let value = value.map(|v| values[usize::from(v) % values.len()].value());
                let patch = ItemUpdate {
                    metadata: Some([(key.to_owned(), value)].into()),
                };
                ok(store.update_item(&ItemTarget::Id(item.id), &patch))
            }
            Op::Add {
                coll,
                paths,
                mode,
                from,
            } => {
                let req = BatchAdd {
                    mode: *mode,
                    from: from.map(C::id),
                    ..BatchAdd::link(coll.id(), [])
                };
                let req = BatchAdd {
                    items: sheaf_core::rules::BatchItems::Refs(
                        self.targets(paths)
                            .into_iter()
                            .map(sheaf_core::rules::ItemRef::to)
                            .collect(),
                    ),
                    ..req
                };
                ok(store.batch_add(&req))
            }
            Op::Remove { coll, paths } => ok(store.remove(&Remove {
                collection: coll.id(),
                items: self.targets(paths),
            })),
            Op::Undo(n) => {
                let ops = store
                    .ops(None, 1000, sheaf_store::Direction::Desc)
                    .unwrap()
                    .items;
                match ops.get(n % ops.len().max(1)) {
                    Some(o) => ok(store.undo(o.id)),
                    None => Ok(()),
                }
            }
            Op::CreateSmart { slot, query } => match self.query(query) {
                Some(q) => ok(store.create_collection(&NewCollection {
                    id: Some(slot.id()),
                    query: Some(q),
                    ..NewCollection::default()
                })),
                None => Ok(()),
            },
            Op::Requery { slot, query } => match self.query(query) {
                Some(q) => ok(store.update_collection(
                    &slot.id(),
                    &CollectionUpdate {
                        query: Some(q),
                        ..CollectionUpdate::default()
                    },
                )),
                None => Ok(()),
            },
            Op::CreateHand(c) => ok(store.create_collection(&NewCollection {
                id: Some(c.id()),
                ..NewCollection::default()
            })),
            Op::Trash(c) => ok(store.trash_collection(&c.id())),
            Op::Restore(c) => ok(store.restore_collection(&c.id())),
            Op::Purge(c) => ok(store.purge_collection(&c.id())),
            Op::RemoveWatch {
                watch,
                keep_entries,
            } => ok(store.remove_watch(self.watches[usize::from(*watch)], *keep_entries)),
            Op::CreateWatch(w) => ok(self.create_watch(*w)),
            Op::Fill(chunk) => ok(store.fill_smart(usize::from(*chunk))),
        }
    }

    // -----------------------------------------------------------------------------------
    // The property
    // -----------------------------------------------------------------------------------

    /// What a query sees of every item, read from the store.
    fn facts(&self) -> Vec<Facts> {
        let items = all_items(&self.store);
        items
            .iter()
            .map(|item| {
                let (_, collections) = self.store.item(item.id).unwrap().unwrap();
                let watches = collections
                    .iter()
                    .filter_map(|c| self.store.entry(c, item.id).unwrap())
                    .filter(|e| e.deleted_at.is_none())
                    .filter_map(|e| e.source.watch())
                    .collect();
                let duplicate = item.content_hash.as_ref().is_some_and(|h| {
                    items.iter().any(|o| {
                        o.id != item.id
                            && o.deleted_at.is_none()
                            && o.content_hash.as_ref() == Some(h)
                    })
                });
                Facts {
                    item: item.clone(),
                    collections,
                    watches,
                    duplicate,
                }
            })
            .collect()
    }

    /// A collection's live entries: item and source.
    fn members(&self, id: &CollectionId) -> BTreeMap<ItemId, EntrySource> {
        all_entries(&self.store, id, false)
            .into_iter()
            .map(|l| {
                let e = l.entry.unwrap();
                (e.item_id, e.source)
            })
            .collect()
    }

    /// Every smart collection that is filled and outside the trash holds exactly the items
    /// its query matches, counts them, and holds them as `query` entries.
    fn check(&self) -> Result<(), TestCaseError> {
        let facts = self.facts();
        let collections = self.store.collections(&CollectionQuery::default()).unwrap();
        for c in collections.iter().filter(|c| !c.filling) {
            let Some(query) = &c.query else { continue };
            let matcher = query.matcher(Some(HOME));
            let want: BTreeSet<ItemId> = facts
                .iter()
                .filter(|f| f.matched_by(&matcher))
                .map(|f| f.item.id)
                .collect();
            let members = self.members(&c.id);
            let got: BTreeSet<ItemId> = members.keys().copied().collect();
            if got != want {
                let mut msg = format!("smart collection {} {}:\n", c.id, query.to_json());
                for f in &facts {
                    let (g, w) = (got.contains(&f.item.id), want.contains(&f.item.id));
                    if g != w {
                        let what = if g { "holds, should not" } else { "misses" };
                        writeln!(msg, "  {what} {}", f.describe()).unwrap();
                    }
                }
                msg.push_str("every item:\n");
                for f in &facts {
                    writeln!(msg, "  {}", f.describe()).unwrap();
                }
                return Err(TestCaseError::fail(msg));
            }
            if let Some((item, source)) = members.iter().find(|(_, s)| **s != EntrySource::Query) {
                return Err(TestCaseError::fail(format!(
                    "{} holds {item} as a {source} entry",
                    c.id
                )));
            }
            if c.item_count != got.len() as u64 {
                return Err(TestCaseError::fail(format!(
                    "{} counts {} items but holds {}",
                    c.id,
                    c.item_count,
                    got.len()
                )));
            }
        }
        Ok(())
    }
}

/// One item and what a query sees of it.
struct Facts {
    item: Item,
    collections: Vec<CollectionId>,
    watches: Vec<WatchId>,
    duplicate: bool,
}

impl Facts {
    /// Whether the compiled query matches the item as these facts show it.
    fn matched_by(&self, matcher: &Matcher) -> bool {
        let Self {
            item,
            collections,
            watches,
            duplicate,
        } = self;
        matcher.matches(&Subject {
            item,
            collections,
            watches,
            duplicate: *duplicate,
        })
    }

    fn describe(&self) -> String {
        let i = &self.item;
        let at = i.path.as_deref().or(i.last_path.as_deref()).unwrap_or("?");
        let hash = i.content_hash.as_deref().map(|h| &h[28..36]);
        format!(
            "{at}{} {} size {} mtime {} hash {hash:?} meta {:?} in {:?} watches {} dup {}",
            if i.deleted_at.is_some() {
                " (gone)"
            } else {
                ""
            },
            i.content_type,
            i.size,
            i.mtime.as_micros(),
            i.metadata,
            self.collections
                .iter()
                .map(CollectionId::as_str)
                .collect::<Vec<_>>(),
            self.watches.len(),
            self.duplicate,
        )
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World::new();
    for (n, op) in ops.iter().enumerate() {
        world
            .step(op)
            .and_then(|()| world.check())
            .map_err(|e| TestCaseError::fail(format!("after step {n}: {op:?}\n{e}")))?;
    }
    while world
        .store
        .fill_smart(3)
        .map_err(|e| TestCaseError::fail(format!("the final fill failed: {e:?}")))?
        .is_some()
    {}
    world
        .check()
        .map_err(|e| TestCaseError::fail(format!("once every smart collection is filled:\n{e}")))
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn smart_membership_equals_a_brute_force_query_evaluation_after_random_writes(ops in case()) {
        run(&ops)?;
    }
}
