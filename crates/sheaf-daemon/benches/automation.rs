//! The automation benchmarks (smart collections, SPEC §7.2, and rules, §7.3), each
//! measured side by side with its baseline in the same run, as ratios. The real `sheafd`
//! (release) runs as separate processes on real sockets and databases in a temp dir
//! (`SHEAF_BENCH_DIR` to put it elsewhere); databases are seeded with `sheaf-store` before
//! a daemon opens them. The report is a Markdown table on stdout, also written to
//! `target/bench-automation.md`. Timings are reported, never asserted.
//!
//! 1. `batch`: a durable 1000-item batch add with 10 smart collections defined, against
//!    the same batch with none (and, for information, with 10 that the batch itself fills);
//! 2. `live`: a file closed in a watched folder → its smart collection's `entry.added`,
//!    against its folder collection's `entry.added`, off `/v1/events`;
//! 3. `rules`: a 10 000-file burst into a watched folder with a `[[rule]]` that links every
//!    file, until the rule has linked them all, against the same burst with no rule;
//! 4. `fill`: a new smart collection filled over a store of 1 M items (half of them match),
//!    and the daemon's peak resident memory during the fill against before it.
//!
//! `SHEAF_BENCH_QUICK=1` shortens every benchmark (100 000 items in 4), for trying it out;
//! `cargo bench -p sheaf-daemon --bench automation -- live` (or `batch`, `rules`, `fill`)
//! runs only some; `SHEAF_BENCH_SHEAFD=PATH` measures another build of `sheafd`.

#[path = "automation/batch.rs"]
mod batch;
#[path = "automation/fill.rs"]
mod fill;
#[path = "automation/live.rs"]
mod live;
#[path = "automation/rules.rs"]
mod rules;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sheaf_bench::http;
use sheaf_bench::sheafd::{self, Server};
use sheaf_bench::{Picked, Report, Result, bench_root, quick, scratch_dir, timed};
use tokio::runtime::Runtime;

/// How long and how much, shortened in quick mode.
#[derive(Clone, Copy)]
struct Scale {
    /// Timed batch adds per daemon in benchmark 1.
    add_runs: usize,
    /// Files written one at a time in benchmark 2.
    latency_files: usize,
    /// Files of each burst of benchmark 3, and the bursts per daemon.
    burst_files: usize,
    burst_rounds: usize,
    /// Items in the store of benchmark 4, and the smart collections filled over it.
    fill_items: usize,
    fill_rounds: usize,
}

impl Scale {
    fn from_env() -> Self {
        if quick() {
            Self {
                add_runs: 20,
                latency_files: 200,
                burst_files: 10_000,
                burst_rounds: 1,
                fill_items: 100_000,
                fill_rounds: 2,
            }
        } else {
            Self {
                add_runs: 100,
                latency_files: 500,
                burst_files: 10_000,
                burst_rounds: 3,
                fill_items: 1_000_000,
                fill_rounds: 3,
            }
        }
    }
}

/// What every benchmark is given.
struct Bench<'a> {
    rt: &'a Runtime,
    sheafd: PathBuf,
    dir: &'a Path,
    scale: Scale,
}

impl Bench<'_> {
    /// Starts `sheafd` in `dir/{name}/` on its `sheaf.redb` (seeded already, or new) with
    /// `config` as its config file.
    fn start(&self, name: &str, config: &str) -> Result<Server> {
        let home = self.home(name)?;
        sheafd::start_with_config(&self.sheafd, &home, &home.join("sheaf.redb"), config)
    }

    /// `dir/{name}/`, created.
    fn home(&self, name: &str) -> Result<PathBuf> {
        let home = self.dir.join(name);
        std::fs::create_dir_all(&home)?;
        Ok(home)
    }
}

/// Creates smart collection `id` with `query` over the API.
fn create_smart(rt: &Runtime, socket: &Path, id: &str, query: &serde_json::Value) -> Result<()> {
    let body = serde_json::json!({ "id": id, "query": query });
    http::post(rt, socket, "/v1/collections", &body).map(drop)
}

/// Polls smart collection `id` until its fill is over (`filling` false); the time it took
/// from `since` and its `item_count` then.
fn until_filled(rt: &Runtime, socket: &Path, id: &str, since: Instant) -> Result<(Duration, u64)> {
    let deadline = since + Duration::from_secs(600);
    loop {
        let c = http::collection(rt, socket, id)?;
        if c["filling"] == false {
            return Ok((since.elapsed(), c["item_count"].as_u64().unwrap_or(0)));
        }
        if Instant::now() > deadline {
            return Err(format!("{id} was still filling after 600 s").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn main() -> Result<()> {
    let scale = Scale::from_env();
    let mut report = Report::new("sheafd automation benchmarks", &bench_root());
    let dir = scratch_dir("sheaf-automation-")?;
    report.progress(&format!(
        "sockets and databases in {}",
        dir.path().display()
    ));
    if quick() {
        report.intro(format!(
            "**Quick mode** (`SHEAF_BENCH_QUICK`): {} batch adds per daemon, {} live files, \
             {} burst(s) of {} files, smart collections filled over {} items.",
            scale.add_runs,
            scale.latency_files,
            scale.burst_rounds,
            scale.burst_files,
            scale.fill_items
        ));
    }
    // Arguments other than cargo's `--bench` pick benchmarks by name.
    let picked = Picked::from_args();
    let (took, bin) = timed(sheafd::under_test)?;
    report.setup("build sheafd (release; no-op when fresh)", took);
    if std::env::var_os("SHEAF_BENCH_SHEAFD").is_some() {
        report.note(format!(
            "`SHEAF_BENCH_SHEAFD`: measured {}, not this tree's `sheafd`.",
            bin.display()
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = Bench {
        rt: &rt,
        sheafd: bin,
        dir: dir.path(),
        scale,
    };
    if picked.runs("batch") {
        batch::bench_batch(&bench, &mut report)?;
    }
    if picked.runs("live") {
        live::bench_live(&bench, &mut report)?;
    }
    if picked.runs("rules") {
        rules::bench_rules(&bench, &mut report)?;
    }
    if picked.runs("fill") {
        fill::bench_fill(&bench, &mut report)?;
    }
    report.save("automation", &report.markdown())?;
    Ok(())
}
