//! The database every benchmark reads and writes, written with `sheaf-store` directly (not
//! durable, 1000 items per commit) before `sheafd` opens it: a store is opened by one
//! process at a time.

use std::path::Path;

use sheaf_bench::Result;
use sheaf_bench::seed::{self, BATCH};
use sheaf_core::ItemId;

use crate::Scale;

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
    /// The items of the platforms' benchmark, when it runs.
    pub(crate) movers: Option<crate::dialects::Movers>,
}

/// Writes the database at `path`: [`SMALL`], the two listings, [`TARGET`] (empty), and
/// `add_rounds × BATCH` unfiled items for the batch adds, and with `dialects` the
/// collections of the platforms' benchmark.
pub(crate) fn build(
    path: &Path,
    scale: Scale,
    add_rounds: usize,
    dialects: bool,
) -> Result<Fixture> {
    let store = seed::open(path)?;
    for (slug, n) in [
        (SMALL.to_owned(), SMALL_ENTRIES),
        (listing(scale.ls_small), scale.ls_small),
        (listing(scale.ls_large), scale.ls_large),
    ] {
        seed::fill(&store, &slug, n)?;
    }
    seed::create(&store, TARGET)?;
    let unfiled = seed::register(&store, TARGET, 0, add_rounds * BATCH)?;
    let movers = if dialects {
        Some(crate::dialects::seed(
            &store,
            crate::dialects::rounds(scale),
        )?)
    } else {
        None
    };
    Ok(Fixture { unfiled, movers })
}
