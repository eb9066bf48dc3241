//! Benchmark 3: `sheaf ls` of a 10k- and a 100k-entry collection to a pipe — the wall time
//! and the peak RSS of the `sheaf` process — against the same pages fetched by the
//! benchmark's own client without decoding the entries. If `sheaf ls` streams page by
//! page, its memory stays flat as the collection grows.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use tokio::runtime::Runtime;

use sheaf_bench::seed::BATCH;
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, dur, interleave_warm, kib, status_kib};

use crate::Scale;
use crate::fixture::{SMALL, SMALL_ENTRIES, listing};
use sheaf_bench::http::Conn;

/// Untimed runs first.
const WARMUP: usize = 1;

#[derive(serde::Deserialize)]
struct Page {
    entries: Vec<IgnoredAny>,
    next_cursor: Option<String>,
}

/// Fetches every page of `collection` (1000 entries each) and counts the entries; the
/// entries themselves are skipped, not decoded.
async fn fetch_pages(conn: &mut Conn, collection: &str) -> Result<usize> {
    let mut cursor: Option<String> = None;
    let mut count = 0;
    loop {
        let mut path = format!("/v1/collections/{collection}/items?limit={BATCH}");
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.extend(form_urlencoded::byte_serialize(c.as_bytes()));
        }
        let (status, body) = conn.get(&path).await?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}").into());
        }
        let page: Page = serde_json::from_slice(&body)?;
        count += page.entries.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(count),
        }
    }
}

/// One `sheaf ls`: its wall time and peak RSS (KiB); checks that it printed a header and
/// `entries` lines.
fn sheaf_ls(
    sheaf: &Path,
    socket: &Path,
    collection: &str,
    entries: usize,
) -> Result<(Duration, u64)> {
    let t = Instant::now();
    let mut child = Command::new(sheaf)
        .arg("--socket")
        .arg(socket)
        .args(["ls", collection])
        .env("SHEAF_NO_AUTOSTART", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let drain = std::thread::spawn(move || -> std::io::Result<usize> {
        let mut out = std::io::BufReader::with_capacity(1 << 16, stdout);
        let mut lines = 0;
        while out.skip_until(b'\n')? > 0 {
            lines += 1;
        }
        Ok(lines)
    });
    // Sampled until the process exits: the high-water mark only grows, so a late sample
    // misses only what was allocated in the last millisecond.
    let done = Arc::new(AtomicBool::new(false));
    let status_file = Path::new("/proc")
        .join(child.id().to_string())
        .join("status");
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                match status_kib(&status_file, "VmHWM:") {
                    Some(k) => peak = peak.max(k),
                    None if peak > 0 => break,
                    None => {}
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            peak
        })
    };
    let status = child.wait()?;
    let wall = t.elapsed();
    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().map_err(|_| "the RSS sampler panicked")?;
    let lines = drain.join().map_err(|_| "the stdout reader panicked")??;
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    if !status.success() || lines != entries + 1 {
        return Err(format!(
            "sheaf ls {collection} exited with {status} after {lines} lines ({entries} entries + \
             a header expected): {err}"
        )
        .into());
    }
    Ok((wall, peak))
}

pub(crate) fn bench_ls(
    rt: &Runtime,
    sheaf: &Path,
    sheafd: &Server,
    scale: Scale,
    report: &mut Report,
) -> Result<()> {
    let (small, large) = (listing(scale.ls_small), listing(scale.ls_large));
    let conn = RefCell::new(rt.block_on(Conn::open(&sheafd.socket))?);
    let raw = |collection: &str, entries: usize| -> Result<Duration> {
        let t = Instant::now();
        let got = rt.block_on(fetch_pages(&mut conn.borrow_mut(), collection))?;
        let took = t.elapsed();
        if got != entries {
            return Err(format!("{collection} has {got} entries, not {entries}").into());
        }
        Ok(took)
    };
    // Peak RSS of the last run of each listing: 100 entries, small, large.
    let last_rss: [Cell<u64>; 3] = Default::default();
    let cli = |slot: usize, collection: &str, entries: usize| -> Result<Duration> {
        let (wall, peak) = sheaf_ls(sheaf, &sheafd.socket, collection, entries)?;
        last_rss[slot].set(peak);
        Ok(wall)
    };
    let mut rss: [Vec<u64>; 3] = Default::default();
    let mut out: [Vec<Duration>; 5] = Default::default();
    let rounds = WARMUP + scale.ls_runs;
    for round in 0..rounds {
        let kept = interleave_warm(
            WARMUP,
            round,
            &mut [
                &mut || raw(&small, scale.ls_small),
                &mut || cli(1, &small, scale.ls_small),
                &mut || raw(&large, scale.ls_large),
                &mut || cli(2, &large, scale.ls_large),
                &mut || cli(0, SMALL, SMALL_ENTRIES),
            ],
            &mut out,
        )?;
        if kept {
            for (r, got) in rss.iter_mut().zip(&last_rss) {
                r.push(got.get());
            }
        }
        report.progress(&format!("3: ls round {round}"));
    }
    let [raw_small, ls_small, raw_large, ls_large, ls_one] = out;
    let [rss_one, rss_small, rss_large] = rss;
    let (n_small, n_large) = (thousands(scale.ls_small), thousands(scale.ls_large));
    report.timing(
        "3a",
        format!(
            "the benchmark's client: the {} pages of the {n_small}-entry collection, entries \
             skipped, not decoded",
            scale.ls_small.div_ceil(BATCH),
        ),
        &raw_small,
        None,
    );
    report.timing(
        "3b",
        format!("`sheaf ls` of the {n_small}-entry collection to a pipe"),
        &ls_small,
        Some("3a"),
    );
    report.timing(
        "3c",
        format!(
            "as 3a, the {} pages of the {n_large}-entry collection",
            scale.ls_large.div_ceil(BATCH),
        ),
        &raw_large,
        None,
    );
    let large_wall = report.timing(
        "3d",
        format!("`sheaf ls` of the {n_large}-entry collection to a pipe"),
        &ls_large,
        Some("3c"),
    );
    let one_wall = report.timing(
        "3e",
        format!(
            "`sheaf ls` of a {SMALL_ENTRIES}-entry collection (one page): start-up and one \
             request"
        ),
        &ls_one,
        None,
    );
    report.memory(
        "3e",
        format!("`sheaf ls`, {SMALL_ENTRIES} entries"),
        rss_one,
        None,
    );
    let small_rss = report.memory(
        "3b",
        format!("`sheaf ls`, {n_small} entries"),
        rss_small,
        Some("3e"),
    );
    let large_rss = report.memory(
        "3d",
        format!("`sheaf ls`, {n_large} entries"),
        rss_large,
        Some("3b"),
    );
    report.goal(
        format!(
            "flat: ≤ 1.25× with {}× the entries",
            scale.ls_large / scale.ls_small
        ),
        large_rss as f64 <= 1.25 * small_rss as f64,
    );
    let beyond = large_wall.p50.saturating_sub(one_wall.p50);
    report.note(format!(
        "3: `sheaf ls` peak RSS {} at {n_small} entries, {} at {n_large}; wall time beyond \
         start-up at {n_large} entries (3d − 3e, medians) {}, {:.2} µs per entry.",
        kib(small_rss),
        kib(large_rss),
        dur(beyond),
        beyond.as_secs_f64() * 1e6 / scale.ls_large as f64,
    ));
    Ok(())
}

/// `10k`, `100k`, or the number.
fn thousands(n: usize) -> String {
    if n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}
