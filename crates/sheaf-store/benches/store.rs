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
#[path = "store/size.rs"]
mod size;
#[path = "store/write.rs"]
mod write;

use std::path::Path;
use std::time::Duration;

use redb::Database;
use sheaf_bench::seed::BATCH;
use sheaf_bench::{Picked, Report, Result, bench_root, quick, scratch_dir};
use sheaf_store::Options;

/// Sizes, divided by 50 in quick mode.
#[derive(Clone, Copy)]
struct Scale {
    /// Entries of the big collection (benchmarks 2 and 3) and of benchmark 4.
    entries: usize,
}

impl Scale {
    fn from_env() -> Self {
        Self {
            entries: if quick() { 20_000 } else { 1_000_000 },
        }
    }

    fn offsets(self) -> [usize; 3] {
        [0, self.entries / 2, self.entries - BATCH]
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
    let mut report = Report::new("sheaf-store benchmarks", &bench_root());
    let dir = scratch_dir("sheaf-bench-")?;
    report.progress(&format!("databases in {}", dir.path().display()));
    if quick() {
        report.intro(format!(
            "**Quick mode** (`SHEAF_BENCH_QUICK`): {} entries instead of 1,000,000.",
            scale.entries
        ));
    }

    // Arguments other than cargo's `--bench` pick benchmarks by name: add, reads, size.
    let picked = Picked::from_args();
    if picked.runs("add") {
        write::bench_batch_add(dir.path(), &mut report)?;
    }
    if picked.runs("reads") {
        reads::bench_reads(dir.path(), scale, &mut report)?;
    }
    if picked.runs("size") {
        size::bench_size(dir.path(), scale, &mut report)?;
    }
    report.save("store", &report.markdown())?;
    Ok(())
}
