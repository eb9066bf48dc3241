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

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, interleave, status_kib};

use crate::http::Conn;
use crate::{Bins, Scale, start_sheafd};

/// Files per folder of the generated tree.
const PER_FOLDER: usize = 50;

fn make_tree(root: &Path, files: usize) -> Result<()> {
    let body = [b'x'; 200];
    for i in 0..files {
        let dir = root.join(format!("d{:04}", i / PER_FOLDER));
        if i % PER_FOLDER == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        std::fs::write(dir.join(format!("f{i:06}.txt")), body)?;
    }
    Ok(())
}

fn count(rt: &tokio::runtime::Runtime, socket: &Path, collection: &str) -> Result<u64> {
    rt.block_on(async {
        let mut conn = Conn::open(socket).await?;
        let (_, body) = conn.get(&format!("/v1/collections/{collection}")).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(v["item_count"].as_u64().unwrap_or(0))
    })
}

/// Polls until the collection counts `n` live entries; the time it took from `since`.
fn until_count(
    rt: &tokio::runtime::Runtime,
    socket: &Path,
    collection: &str,
    n: u64,
    since: Instant,
) -> Result<Duration> {
    let deadline = since + Duration::from_secs(600);
    loop {
        if count(rt, socket, collection)? >= n {
            return Ok(since.elapsed());
        }
        if Instant::now() > deadline {
            return Err(format!("{collection} never reached {n} entries").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn add_watch(rt: &tokio::runtime::Runtime, socket: &Path, folder: &Path) -> Result<()> {
    let body = serde_json::json!({"path": folder, "collection": "tree"}).to_string();
    rt.block_on(async {
        let mut conn = Conn::open(socket).await?;
        let (status, body) = conn.post_json("/v1/watches", body.into()).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "adding the watch: {status} {}",
                String::from_utf8_lossy(&body)
            )
            .into())
        }
    })
}

fn rss_kib(pid: u32, key: &str) -> Option<u64> {
    status_kib(Path::new(&format!("/proc/{pid}/status")), key)
}

/// An open `/v1/events` stream read as raw bytes: each `entry.added` counted as it comes.
struct Feed {
    stream: UnixStream,
    seen: usize,
    tail: Vec<u8>,
}

impl Feed {
    fn open(socket: &Path) -> Result<Self> {
        let mut stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(b"GET /v1/events?since=999999999 HTTP/1.1\r\nHost: sheaf\r\n\r\n")?;
        Ok(Self {
            stream,
            seen: 0,
            tail: Vec::new(),
        })
    }

    /// Blocks until one more `entry.added` arrived.
    fn next_added(&mut self) -> Result<()> {
        const NEEDLE: &[u8] = b"\"entry.added\"";
        let mut buf = [0u8; 8192];
        loop {
            let found = self
                .tail
                .windows(NEEDLE.len())
                .filter(|w| *w == NEEDLE)
                .count();
            if found > self.seen {
                self.seen += 1;
                return Ok(());
            }
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err("the event stream ended".into());
            }
            self.tail.extend_from_slice(&buf[..n]);
        }
    }
}

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
    make_tree(&tree, files)?;
    report.setup(
        format!(
            "4: generate a tree of {files} files in {} folders",
            files / PER_FOLDER
        ),
        started.elapsed(),
    );
    let options = sheaf_watch::WalkOptions::default();
    let mut walk_once = || -> Result<Duration> {
        let t = Instant::now();
        let w = sheaf_watch::walk(&tree, &options).map_err(|e| e.to_string())?;
        if w.files.len() != files {
            return Err(format!("the walk found {} files", w.files.len()).into());
        }
        Ok(t.elapsed())
    };
    let mut find_once = || -> Result<Duration> {
        let t = Instant::now();
        let status = Command::new("find")
            .arg(&tree)
            .args(["-type", "f", "-printf", "%s %T@ %i %p\\n"])
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err("find failed".into());
        }
        Ok(t.elapsed())
    };
    let mut round_no = 0;
    let mut last: Option<(Server, PathBuf)> = None;
    let mut reconcile_once = || -> Result<Duration> {
        round_no += 1;
        if let Some((mut old, _)) = last.take() {
            old.stop()?;
        }
        let home = dir.join(format!("reconcile-{round_no}"));
        std::fs::create_dir_all(&home)?;
        let server = start_sheafd(bins, &home)?;
        let t = Instant::now();
        add_watch(rt, &server.socket, &tree)?;
        let took = until_count(rt, &server.socket, "tree", files as u64, t)?;
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
    let watchman = crate::watchman::installed();
    let mut crawls = Vec::new();
    if watchman {
        for round in 0..scale.tree_rounds {
            report.progress(&format!("4: watchman crawl round {}", round + 1));
            let state = dir.join("watchman-crawl");
            crawls.push(crate::watchman::crawl_once(&state, &tree, files)?);
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
    let s = report.timing(
        "4c",
        format!("reconcile of a new watch on the tree until all {files} entries are committed"),
        &reconciles,
        Some("4a"),
    );
    let floor = report.stats_of("4a").map_or(Duration::MAX, |f| f.p50);
    report.goal(
        "≤ 1.5× the walk",
        s.p50.as_secs_f64() <= 1.5 * floor.as_secs_f64(),
    );
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
    let rss = rss_kib(pid, "VmRSS:").unwrap_or(0);
    let hwm = rss_kib(pid, "VmHWM:").unwrap_or(0);

    // Latency: one file at a time, written and closed, until its entry.added is read.
    let mut feed = Feed::open(&server.socket)?;
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
        feed.next_added()?;
        latencies.push(t.elapsed());
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
        let wm = crate::watchman::Server::new(dir.join("watchman-sub"))?;
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
    let after_rss = rss_kib(pid, "VmRSS:").unwrap_or(0);
    let after_hwm = rss_kib(pid, "VmHWM:").unwrap_or(0);
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
