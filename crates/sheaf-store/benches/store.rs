//! The store's benchmarks, each measured side by side with its floor — bare redb doing the
//! least work the same answer needs — in the same run, iterations interleaved so that a
//! noisy neighbour slows both alike. Real files in a temp dir (`SHEAF_BENCH_DIR` to put
//! them elsewhere); the report is a Markdown table on stdout, also written to
//! `target/bench-store.md`. Timings are reported, never asserted.
//!
//! 1. a durable batch add of 1000 items, against 1000 inserts in one durable redb commit;
//! 2. paging a 1M-entry collection at its start, middle and end;
//! 3. a collection's count and an item's memberships;
//! 4. the file size of 1M entries in 10k collections, against 1M bare keys.
//!
//! `SHEAF_BENCH_QUICK=1` divides the sizes of 2–4 by 50, for trying the benchmark out;
//! `cargo bench -p sheaf-store --bench store -- add` (or `reads`, `size`) runs only some.

#[path = "store/reads.rs"]
mod reads;
#[path = "store/report.rs"]
mod report;
#[path = "store/size.rs"]
mod size;
#[path = "store/write.rs"]
mod write;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redb::Database;
use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Limits, Outcome, Timestamp};
use sheaf_store::{Options, Store};

use crate::report::{Report, progress};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// Items per batch add, and rows per page.
const BATCH: usize = 1000;

/// Sizes, divided by 50 in quick mode.
#[derive(Clone, Copy)]
struct Scale {
    /// Entries of the big collection (benchmarks 2 and 3) and of benchmark 4.
    entries: usize,
    quick: bool,
}

impl Scale {
    fn from_env() -> Self {
        let quick = std::env::var_os("SHEAF_BENCH_QUICK").is_some_and(|v| v != "0");
        Self {
            entries: if quick { 20_000 } else { 1_000_000 },
            quick,
        }
    }

    fn offsets(self) -> [usize; 3] {
        [0, self.entries / 2, self.entries - BATCH]
    }
}

fn bench_root() -> PathBuf {
    std::env::var_os("SHEAF_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// `target/`, found from this executable (`target/release/deps/store-…`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|t| t.join("CACHEDIR.TAG").exists())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Runs the closures of one round in an order rotated by `round`, so that none of them
/// always runs first (right after the others' fsyncs or cache misses).
fn interleave<const N: usize>(
    round: usize,
    runs: &mut [&mut dyn FnMut() -> Result<Duration>; N],
    out: &mut [Vec<Duration>; N],
) -> Result<()> {
    for k in 0..N {
        let i = (round + k) % N;
        out[i].push(runs[i]()?);
    }
    Ok(())
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(Duration, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed(), v))
}

// ---------------------------------------------------------------- store helpers

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
fn register(store: &Store, tag: &str, from: usize, n: usize) -> Result<Vec<ItemId>> {
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

fn link(collection: &CollectionId, ids: &[ItemId], create: bool) -> BatchAdd {
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

fn batch_add(store: &Store, req: &BatchAdd) -> Result<()> {
    let want = match &req.items {
        BatchItems::Refs(r) => r.len() as u64,
        BatchItems::Select(_) => 0,
    };
    match store.batch_add(req)?.outcome {
        Outcome::Batch { summary, .. } if summary.added == want => Ok(()),
        other => Err(format!("batch add answered {other:?}").into()),
    }
}

fn cid(slug: &str) -> Result<CollectionId> {
    Ok(CollectionId::parse(slug)?)
}

fn setup_options() -> Options {
    Options {
        durable: false,
        limits: Limits {
            max_batch: BATCH,
            ..Limits::default()
        },
        ..Options::default()
    }
}

fn floor_db(path: &Path) -> Result<Database> {
    Ok(redb::Builder::new()
        .set_cache_size(Options::default().cache_bytes)
        .create(path)?)
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn main() -> Result<()> {
    let scale = Scale::from_env();
    let root = bench_root();
    let mut report = Report::new(&root);
    let dir = tempfile::Builder::new()
        .prefix("sheaf-bench-")
        .tempdir_in(&root)?;
    progress(&report, &format!("databases in {}", dir.path().display()));

    // Arguments other than cargo's `--bench` pick benchmarks by name: add, reads, size.
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| picked.is_empty() || picked.iter().any(|p| p == name);
    if run("add") {
        write::bench_batch_add(dir.path(), &mut report)?;
    }
    if run("reads") {
        reads::bench_reads(dir.path(), scale, &mut report)?;
    }
    if run("size") {
        size::bench_size(dir.path(), scale, &mut report)?;
    }

    let md = report.markdown(scale);
    println!("{md}");
    let out = target_dir().join("bench-store.md");
    std::fs::write(&out, &md)?;
    progress(&report, &format!("wrote {}", out.display()));
    Ok(())
}
