//! Benchmark 4, folder sync, on one generated tree (`files` in `files / 50` folders):
//!
//! - start-up reconcile of a new watch until every entry is committed (`POST /v1/watches`,
//!   then `item_count` polled), against the floors of the same tree walked by
//!   `sheaf_watch::walk` alone (stat only) and by `find -printf`, rounds interleaved;
//! - event latency: a file written and closed → its `entry.added` read off `/v1/events`,
//!   one file at a time;
//! - burst convergence: the tree extracted from a tar into the watch, until the collection
//!   counts every file, against the extraction alone;
//! - `sheafd`'s resident memory afterwards;
//! - when `watchman` is installed, its crawl and latency on the same tree, side by side.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sheaf_bench::files::make_tree;
use sheaf_bench::http::{Events, count, until_count};
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, crawl, interleave, process_kib, watchman};

use crate::{Bins, Scale};

/// Files per folder of the generated tree.
const PER_FOLDER: usize = 50;

/// How long a file may take to show on the change feed.
const EVENT_DEADLINE: Duration = Duration::from_secs(10);

pub(crate) fn bench_folders(
    rt: &tokio::runtime::Runtime,
    bins: &Bins,
    dir: &Path,
    scale: Scale,
    report: &mut Report,
) -> Result<()> {
    let files = scale.tree_files;
    let tree = dir.join("tree");
    let started = Instant::now();
    make_tree(&tree, files, PER_FOLDER)?;
    report.setup(
        format!(
            "4: generate a tree of {files} files in {} folders",
            files / PER_FOLDER
        ),
        started.elapsed(),
    );
    let mut walk_once = || crawl::walk(&tree, files);
    let mut find_once = || crawl::find(&tree);
    let mut round_no = 0;
    let mut last: Option<(Server, PathBuf)> = None;
    let mut reconcile_once = || -> Result<Duration> {
        round_no += 1;
        if let Some((mut old, _)) = last.take() {
            old.stop()?;
        }
        let home = dir.join(format!("reconcile-{round_no}"));
        let (took, server) = crawl::sheafd_watch(rt, &bins.sheafd, &home, &tree, files)?;
        last = Some((server, home));
        Ok(took)
    };
    let mut samples: [Vec<Duration>; 3] = Default::default();
    // Warm the page cache for every contender alike.
    walk_once()?;
    for round in 0..scale.tree_rounds {
        report.progress(&format!("4: reconcile round {}", round + 1));
        interleave(
            round,
            &mut [&mut walk_once, &mut find_once, &mut reconcile_once],
            &mut samples,
        )?;
    }
    let [walks, finds, reconciles] = samples;
    // watchman, when installed: the same crawl, as many rounds, right after.
    let watchman = watchman::installed();
    let mut crawls = Vec::new();
    if watchman {
        for round in 0..scale.tree_rounds {
            report.progress(&format!("4: watchman crawl round {}", round + 1));
            let state = dir.join("watchman-crawl");
            crawls.push(watchman::crawl_once(&state, &tree, files)?);
        }
    }
    report.timing(
        "4a",
        format!("walk of the tree ({files} files), `sheaf_watch::walk`, stat only"),
        &walks,
        None,
    );
    report.timing(
        "4b",
        format!("`find -type f -printf` of the tree ({files} files)"),
        &finds,
        None,
    );
    report.timing(
        "4c",
        format!("reconcile of a new watch on the tree until all {files} entries are committed"),
        &reconciles,
        Some("4a"),
    );
    report.goal_within("≤ 1.5× the walk", 1.5);
    if watchman {
        report.timing(
            "4i",
            format!("watchman 4.9: a fresh server's crawl of the tree until a query lists all {files} files"),
            &crawls,
            Some("4a"),
        );
    }

    let Some((server, _home)) = last.take() else {
        return Err("no daemon left running".into());
    };
    let mut server = server;
    let pid = server.pid().unwrap_or(0);
    let rss = process_kib(pid, "VmRSS:").unwrap_or(0);
    let hwm = process_kib(pid, "VmHWM:").unwrap_or(0);

    // Latency: one file at a time, written and closed, until its entry.added is read.
    let feed = Events::open(rt, &server.socket)?;
    std::thread::sleep(Duration::from_millis(200));
    let latency_dir = tree.join("latency");
    std::fs::create_dir_all(&latency_dir)?;
    // Let the new folder's own events settle first.
    std::thread::sleep(Duration::from_millis(200));
    let mut latencies = Vec::with_capacity(scale.latency_files);
    for i in 0..scale.latency_files {
        let t = Instant::now();
        let mut f = std::fs::File::create(latency_dir.join(format!("l{i:05}.txt")))?;
        f.write_all(b"latency")?;
        drop(f);
        let (at, _) = feed.next_added(EVENT_DEADLINE)?;
        latencies.push(at.duration_since(t));
    }
    drop(feed);
    let s = report.timing(
        "4d",
        format!(
            "event latency: a file closed → its entry.added on /v1/events ({} files, one at a time, settle_ms 20)",
            scale.latency_files
        ),
        &latencies,
        None,
    );
    report.goal(
        "p50 ≤ 25 ms, p99 ≤ 60 ms",
        s.p50 <= Duration::from_millis(25) && s.p99 <= Duration::from_millis(60),
    );
    if watchman {
        // The same measurement against watchman, on a folder of its own.
        let folder = dir.join("watchman-latency");
        std::fs::create_dir_all(&folder)?;
        let wm = watchman::Server::new(dir.join("watchman-sub"))?;
        let mut sub = wm.subscribe(&folder)?;
        let mut wm_latencies = Vec::with_capacity(scale.latency_files);
        for i in 0..scale.latency_files {
            let name = format!("w{i:05}.txt");
            let t = Instant::now();
            let mut f = std::fs::File::create(folder.join(&name))?;
            f.write_all(b"latency")?;
            drop(f);
            sub.until(&name)?;
            wm_latencies.push(t.elapsed());
        }
        report.timing(
            "4j",
            format!(
                "watchman 4.9: a file closed → its subscription notification ({} files, one at a time, default settle 20 ms)",
                scale.latency_files
            ),
            &wm_latencies,
            None,
        );
    }

    // Burst: the tree extracted from a tar into the watch.
    let tarball = dir.join("tree.tar");
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir)
        .arg("tree")
        .status()?;
    if !status.success() {
        return Err("tar -c failed".into());
    }
    let before = count(rt, &server.socket, "tree")?;
    let burst = tree.join("burst");
    std::fs::create_dir_all(&burst)?;
    let t = Instant::now();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tarball)
        .arg("-C")
        .arg(&burst)
        .status()?;
    let extracted = t.elapsed();
    if !status.success() {
        return Err("tar -x failed".into());
    }
    let expected = before + files as u64 + scale.latency_files as u64;
    let converged = until_count(rt, &server.socket, "tree", expected, t)?;
    report.timing(
        "4e",
        format!("`tar -xf` of the tree ({files} files) into the watched folder"),
        &[extracted],
        None,
    );
    report.timing(
        "4f",
        format!("burst: from the start of that extraction until the collection counts all {expected} entries"),
        &[converged],
        Some("4e"),
    );
    let after_rss = process_kib(pid, "VmRSS:").unwrap_or(0);
    let after_hwm = process_kib(pid, "VmHWM:").unwrap_or(0);
    report.memory(
        "4g",
        format!("sheafd RSS after the reconcile of {files} files (high-water mark {hwm} KiB)"),
        vec![rss],
        None,
    );
    report.memory(
        "4h",
        format!(
            "sheafd RSS after the burst: {} files watched, {expected} entries (high-water mark {after_hwm} KiB)",
            2 * files
        ),
        vec![after_rss],
        None,
    );
    report.goal("≤ 100 MiB", after_rss <= 100 * 1024);
    server.stop()?;
    Ok(())
}
