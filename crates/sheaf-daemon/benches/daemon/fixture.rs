//! The database every benchmark reads and writes, written with `sheaf-store` directly (not
//! durable, 1000 items per commit) before `sheafd` opens it: a store is opened by one
//! process at a time.

use std::path::Path;

use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Limits, Outcome, Timestamp};
use sheaf_store::{Options, Store};

use crate::{BATCH, Result, Scale};

/// The collection of the small reads (and the memory baseline of `sheaf ls`).
pub(crate) const SMALL: &str = "small";
/// Entries of [`SMALL`].
pub(crate) const SMALL_ENTRIES: usize = 100;
/// The target of the timed batch adds; empty at first.
pub(crate) const TARGET: &str = "target";

/// The collection `sheaf ls` lists, with `entries` entries.
pub(crate) fn listing(entries: usize) -> String {
    format!("ls-{entries}")
}

/// What the benchmarks need to know about the database.
pub(crate) struct Fixture {
    /// Registered items in no collection, for the timed batch adds: `BATCH` per round.
    pub(crate) unfiled: Vec<ItemId>,
}

fn facts(path: String) -> FileFacts {
    FileFacts {
        path,
        size: 123_456,
        mtime: Timestamp::from_micros(1_700_000_000_000_000),
        content_type: "application/pdf".into(),
        file_id: None,
    }
}

/// Registers `n` files under `/bench/{tag}/`, `BATCH` per commit; distinct names, so every
/// entry keeps its file name as its unique id.
fn register(store: &Store, tag: &str, n: usize) -> Result<Vec<ItemId>> {
    let files: Vec<_> = (0..n)
        .map(|i| facts(format!("/bench/{tag}/{:04}/f{i:08}.pdf", i / 10_000)))
        .collect();
    let mut ids = Vec::with_capacity(n);
    for chunk in files.chunks(BATCH) {
        match store.register(chunk)?.outcome {
            Outcome::Items(got) => ids.extend(got),
            other => return Err(format!("register answered {other:?}").into()),
        }
    }
    Ok(ids)
}

/// A `link` batch add of `ids` to `collection`.
pub(crate) fn link(collection: &CollectionId, ids: &[ItemId]) -> BatchAdd {
    BatchAdd {
        collection: collection.clone(),
        items: BatchItems::Refs(
            ids.iter()
                .map(|id| ItemRef::to(ItemTarget::Id(*id)))
                .collect(),
        ),
        mode: Mode::Link,
        from: None,
        create: false,
        relocate: false,
    }
}

/// Applies `req` and checks that every item was added.
pub(crate) fn batch_add(store: &Store, req: &BatchAdd) -> Result<()> {
    let want = match &req.items {
        BatchItems::Refs(r) => r.len() as u64,
        BatchItems::Select(_) => 0,
    };
    match store.batch_add(req)?.outcome {
        Outcome::Batch { summary, .. } if summary.added == want => Ok(()),
        other => Err(format!("batch add answered {other:?}").into()),
    }
}

pub(crate) fn cid(slug: &str) -> Result<CollectionId> {
    Ok(CollectionId::parse(slug)?)
}

fn create(store: &Store, slug: &str) -> Result<CollectionId> {
    let id = cid(slug)?;
    store.create_collection(&NewCollection {
        id: Some(id.clone()),
        ..NewCollection::default()
    })?;
    Ok(id)
}

/// Writes the database at `path`: [`SMALL`], the two listings, [`TARGET`] (empty), and
/// `add_rounds × BATCH` unfiled items for the batch adds.
pub(crate) fn build(path: &Path, scale: Scale, add_rounds: usize) -> Result<Fixture> {
    let store = Store::open(
        path,
        Options {
            durable: false,
            limits: Limits {
                max_batch: BATCH,
                ..Limits::default()
            },
            ..Options::default()
        },
    )?;
    for (slug, n) in [
        (SMALL.to_owned(), SMALL_ENTRIES),
        (listing(scale.ls_small), scale.ls_small),
        (listing(scale.ls_large), scale.ls_large),
    ] {
        let id = create(&store, &slug)?;
        let ids = register(&store, &slug, n)?;
        for chunk in ids.chunks(BATCH) {
            batch_add(&store, &link(&id, chunk))?;
        }
    }
    create(&store, TARGET)?;
    let unfiled = register(&store, TARGET, add_rounds * BATCH)?;
    Ok(Fixture { unfiled })
}
