//! The daemon's benchmarks, each measured side by side with its floor in the same run,
//! rounds interleaved so that a noisy neighbour slows both alike. The real `sheafd` and
//! `sheaf` (release builds) run as separate processes on a real socket and database in a
//! temp dir (`SHEAF_BENCH_DIR` to put it elsewhere); the database is written with
//! `sheaf-store` before the daemon starts. The report is a Markdown table on stdout, also
//! written to `target/bench-daemon.md`. Timings are reported, never asserted.
//!
//! 1. small reads: 16 clients on kept-alive connections `GET /v1/collections/{cid}` for a
//!    fixed time, against bare hyper answering the same bytes (`examples/floor_server.rs`);
//! 2. a durable 1000-item batch add over the socket, against `Store::batch_add` called
//!    directly on a copy of the daemon's database;
//! 3. `sheaf ls` of a 10k- and a 100k-entry collection to a pipe: wall time and peak RSS,
//!    against the same pages fetched without decoding.
//!
//! 4. folder sync on a generated tree (100 000 files in 2 000 folders): the start-up
//!    reconcile against a bare walk and `find`, event latency, a tar extracted into the
//!    watch against the extraction alone, and the daemon's memory (see `daemon/folders.rs`).
//!
//! 5. the platforms' requests (SPEC §8) against the `/v1` requests they translate to
//!    (see `daemon/dialects.rs`).
//!
//! `SHEAF_BENCH_QUICK=1` shortens every benchmark, for trying it out;
//! `cargo bench -p sheaf-daemon --bench daemon -- reads` (or `add`, `ls`, `folders`, `dialects`)
//! runs only some;
//! `SHEAF_BENCH_SHEAFD=PATH` measures another build of `sheafd` (a candidate change).

#[path = "daemon/add.rs"]
mod add;
#[path = "daemon/dialects.rs"]
mod dialects;
#[path = "daemon/fixture.rs"]
mod fixture;
#[path = "daemon/folders.rs"]
mod folders;
#[path = "daemon/ls.rs"]
mod ls;
#[path = "daemon/reads.rs"]
mod reads;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sheaf_bench::seed::BATCH;
use sheaf_bench::sheafd::{self, Server};
use sheaf_bench::{Picked, Report, Result, bench_root, kib, quick, scratch_dir, timed};

/// How long and how much, shortened in quick mode.
#[derive(Clone, Copy)]
struct Scale {
    /// Load rounds per server in benchmark 1, and the length of each.
    load_rounds: usize,
    load_round: Duration,
    /// Timed batch adds in benchmark 2.
    add_runs: usize,
    /// The two listings of benchmark 3, and the timed runs of each.
    ls_small: usize,
    ls_large: usize,
    ls_runs: usize,
    /// The tree of benchmark 4, its reconcile rounds, and the files of the latency run.
    tree_files: usize,
    tree_rounds: usize,
    latency_files: usize,
}

impl Scale {
    fn from_env() -> Self {
        if quick() {
            Self {
                load_rounds: 4,
                load_round: Duration::from_millis(200),
                add_runs: 20,
                ls_small: 2_000,
                ls_large: 20_000,
                ls_runs: 3,
                tree_files: 10_000,
                tree_rounds: 2,
                latency_files: 200,
            }
        } else {
            Self {
                load_rounds: 10,
                load_round: Duration::from_millis(500),
                add_runs: 100,
                ls_small: 10_000,
                ls_large: 100_000,
                ls_runs: 5,
                tree_files: 100_000,
                tree_rounds: 3,
                latency_files: 1000,
            }
        }
    }
}

/// The release binaries the benchmark runs.
struct Bins {
    sheafd: PathBuf,
    sheaf: PathBuf,
    floor: PathBuf,
}

/// Builds `sheafd`, `sheaf` and the floor server in release (a no-op for cargo when they
/// are fresh); `SHEAF_BENCH_SHEAFD` names another `sheafd` to measure.
fn build_binaries() -> Result<Bins> {
    let release = sheafd::build_release(&[
        "-p",
        "sheaf-daemon",
        "--bin",
        "sheafd",
        "--example",
        "floor_server",
        "-p",
        "sheaf-cli",
        "--bin",
        "sheaf",
    ])?;
    Ok(Bins {
        sheafd: std::env::var_os("SHEAF_BENCH_SHEAFD")
            .map_or_else(|| release.join("sheafd"), PathBuf::from),
        sheaf: release.join("sheaf"),
        floor: release.join("examples/floor_server"),
    })
}

/// Starts `sheafd` on `dir`'s database, `daemon.redb`.
fn start_sheafd(bins: &Bins, dir: &Path) -> Result<Server> {
    sheafd::start(&bins.sheafd, dir, &dir.join("daemon.redb"))
}

fn main() -> Result<()> {
    let scale = Scale::from_env();
    let mut report = Report::new("sheafd benchmarks", &bench_root()).with_rates();
    let dir = scratch_dir("sheaf-bench-")?;
    report.progress(&format!("socket and databases in {}", dir.path().display()));
    if quick() {
        report.intro(format!(
            "**Quick mode** (`SHEAF_BENCH_QUICK`): shorter load rounds, fewer batches, \
             `ls` of {} and {} entries.",
            scale.ls_small, scale.ls_large
        ));
    }

    // Arguments other than cargo's `--bench` pick benchmarks by name: reads, add, ls, folders,
    // dialects.
    let picked = Picked::from_args();
    let run = |name: &str| picked.runs(name);

    let (took, bins) = timed(build_binaries)?;
    report.setup(
        "build sheafd, sheaf and floor_server (release; no-op when fresh)",
        took,
    );
    // The load generator and the benchmark's client: as many workers as sheafd has.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let add_rounds = if run("add") {
        add::WARMUP + scale.add_runs
    } else {
        0
    };
    let daemon_db = dir.path().join("daemon.redb");
    let (took, fixture) = timed(|| fixture::build(&daemon_db, scale, add_rounds, run("dialects")))?;
    report.setup(
        format!(
            "write the database: {} items registered, {} entries in 3 collections \
             (non-durable, not timed)",
            fixture::SMALL_ENTRIES + scale.ls_small + scale.ls_large + add_rounds * BATCH,
            fixture::SMALL_ENTRIES + scale.ls_small + scale.ls_large,
        ),
        took,
    );
    let store_db = dir.path().join("store.redb");
    if run("add") {
        let (took, bytes) = timed(|| Ok(std::fs::copy(&daemon_db, &store_db)?))?;
        report.setup(
            format!(
                "2: copy it for the direct store calls ({})",
                kib(bytes / 1024)
            ),
            took,
        );
    }
    if std::env::var_os("SHEAF_BENCH_SHEAFD").is_some() {
        report.note(format!(
            "`SHEAF_BENCH_SHEAFD`: measured {}, not this tree's `sheafd`.",
            bins.sheafd.display()
        ));
    }
    let started = Instant::now();
    let mut sheafd = start_sheafd(&bins, dir.path())?;
    report.setup("start sheafd on it", started.elapsed());

    if run("reads") {
        reads::bench_reads(&rt, &bins, dir.path(), &sheafd, scale, &mut report)?;
    }
    if run("add") {
        add::bench_batch_add(&rt, &sheafd, &store_db, &fixture, scale, &mut report)?;
    }
    if run("ls") {
        ls::bench_ls(&rt, &bins.sheaf, &sheafd, scale, &mut report)?;
    }
    if let Some(movers) = &fixture.movers {
        dialects::bench_dialects(&rt, &sheafd, movers, scale, &mut report)?;
    }
    if run("folders") {
        folders::bench_folders(&rt, &bins, dir.path(), scale, &mut report)?;
    }

    sheafd.stop_cleanly()?;
    report.save("daemon", &report.markdown())?;
    Ok(())
}
