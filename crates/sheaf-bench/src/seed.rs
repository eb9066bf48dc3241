//! Databases written with `sheaf-store` directly, before a daemon opens them (a store is
//! opened by one process at a time): synthetic files registered, collections filled.

use std::path::Path;

use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Limits, Outcome, Timestamp};
use sheaf_store::{Options, Store};

use crate::Result;

/// Items per commit while seeding, and per batch add and page in the benchmarks.
pub const BATCH: usize = 1000;

/// Non-durable, `BATCH` items per batch: for writing databases fast.
#[must_use]
pub fn options() -> Options {
    Options {
        durable: false,
        limits: Limits {
            max_batch: BATCH,
            ..Limits::default()
        },
        ..Options::default()
    }
}

/// Opens (creates) the store at `path` with [`options`].
pub fn open(path: &Path) -> Result<Store> {
    Ok(Store::open(path, options())?)
}

/// What a walk would find of a 120 KiB PDF at `path`.
#[must_use]
pub fn facts(path: String) -> FileFacts {
    FileFacts {
        path,
        size: 123_456,
        mtime: Timestamp::from_micros(1_700_000_000_000_000),
        content_type: "application/pdf".into(),
        file_id: None,
    }
}

/// Registers files `from..from + n` under `/bench/{tag}/`, `BATCH` per commit; distinct
/// names, so every entry keeps its file name as its unique id.
pub fn register(store: &Store, tag: &str, from: usize, n: usize) -> Result<Vec<ItemId>> {
    let files: Vec<_> = (from..from + n)
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

/// A path glob that matches half of the files [`register`] names, by one of the last three
/// digits of their number: even or odd, `0-4` or `5-9`; `k` in `0..12` gives distinct ones.
#[must_use]
pub fn half_glob(k: usize) -> String {
    let class = ["[02468]", "[13579]", "[0-4]", "[5-9]"][k % 4];
    format!("/bench/**/f*{class}{}.pdf", "?".repeat(k / 4 % 3))
}

/// A `link` batch add of `ids` to `collection`, creating it if `create`.
#[must_use]
pub fn link(collection: &CollectionId, ids: &[ItemId], create: bool) -> BatchAdd {
    BatchAdd {
        collection: collection.clone(),
        items: BatchItems::Refs(
            ids.iter()
                .map(|id| ItemRef::to(ItemTarget::Id(*id)))
                .collect(),
        ),
        mode: Mode::Link,
        from: None,
        create,
        relocate: false,
    }
}

/// Applies `req` and checks that every item was added.
pub fn batch_add(store: &Store, req: &BatchAdd) -> Result<()> {
    let want = match &req.items {
        BatchItems::Refs(r) => r.len() as u64,
        BatchItems::Select(_) => 0,
    };
    match store.batch_add(req)?.outcome {
        Outcome::Batch { summary, .. } if summary.added == want => Ok(()),
        other => Err(format!("batch add answered {other:?}").into()),
    }
}

pub fn cid(slug: &str) -> Result<CollectionId> {
    Ok(CollectionId::parse(slug)?)
}

/// Creates the empty collection `slug`.
pub fn create(store: &Store, slug: &str) -> Result<CollectionId> {
    let id = cid(slug)?;
    store.create_collection(&NewCollection {
        id: Some(id.clone()),
        ..NewCollection::default()
    })?;
    Ok(id)
}

/// Creates collection `slug` with `n` entries: `n` new files registered under
/// `/bench/{slug}/`, linked `BATCH` per commit.
pub fn fill(store: &Store, slug: &str, n: usize) -> Result<CollectionId> {
    let id = create(store, slug)?;
    let ids = register(store, slug, 0, n)?;
    for chunk in ids.chunks(BATCH) {
        batch_add(store, &link(&id, chunk, false))?;
    }
    Ok(id)
}
