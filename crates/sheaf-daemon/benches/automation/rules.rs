//! Benchmark 3: a burst of files written into a watched folder (bound to `inbox` in the
//! config) on two daemons: one with a `[[rule]]` that links every file of the folder to
//! `linked` (a store action only: no program, webhook or move), one with no rule. Timed
//! from the first file written until `inbox` counts every file (both daemons) and until
//! `linked` does (the rule's). Bursts alternate which daemon goes first.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sheaf_bench::files::make_tree;
use sheaf_bench::http::{self, Conn, until_count};
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, dur, interleave, stats};
use tokio::runtime::Runtime;

use crate::Bench;

/// Files per folder of each burst.
const PER_FOLDER: usize = 50;
/// One-item batch adds timed after the bursts.
const PROBES: usize = 100;

/// A TOML string: a JSON string literal is one.
fn toml_str(s: &str) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

/// The config of a daemon watching `watched`, with the linking rule if `rule`.
fn config(watched: &Path, rule: bool) -> Result<String> {
    let root = toml_str(&watched.display().to_string())?;
    let watch = format!("[[watch]]\npath = {root}\ncollection = \"inbox\"\n");
    if !rule {
        return Ok(watch);
    }
    let glob = toml_str(&format!("{}/**", watched.display()))?;
    Ok(format!(
        "{watch}\n[[rule]]\nname = \"link-all\"\nquery = {{ path = [{glob}] }}\nlink = [\"linked\"]\n"
    ))
}

/// Waits until every watch of the daemon is `live` (its start-up reconcile done).
fn until_live(rt: &Runtime, socket: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let w = http::get(rt, socket, "/v1/watches")?;
        let watches = w["watches"].as_array().ok_or("no watches listed")?;
        if !watches.is_empty() && watches.iter().all(|w| w["state"] == "live") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the watches are not live after 60 s: {w}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Durable one-item batch adds (link) of `inbox`'s first [`PROBES`] items to a new
/// collection, one after another on a kept-alive connection: one write transaction each,
/// as the rule commits for every file.
fn one_item_adds(rt: &Runtime, socket: &Path) -> Result<Vec<Duration>> {
    let page = http::get(
        rt,
        socket,
        &format!("/v1/collections/inbox/items?limit={PROBES}"),
    )?;
    let ids: Vec<&str> = page["entries"]
        .as_array()
        .ok_or("no entries listed")?
        .iter()
        .filter_map(|e| e["item_id"].as_str())
        .collect();
    http::post(
        rt,
        socket,
        "/v1/collections",
        &serde_json::json!({ "id": "probe" }),
    )?;
    let mut conn = rt.block_on(Conn::open(socket))?;
    let mut took = Vec::with_capacity(ids.len());
    for id in ids {
        let body = serde_json::to_vec(&serde_json::json!({ "items": [id] }))?;
        let t = Instant::now();
        let (status, answer) =
            rt.block_on(conn.post_json("/v1/collections/probe/items", body.into()))?;
        took.push(t.elapsed());
        if !status.is_success() {
            return Err(format!(
                "adding {id} to probe answered {status}: {}",
                String::from_utf8_lossy(&answer)
            )
            .into());
        }
    }
    Ok(took)
}

/// A daemon and its watched folder.
struct Daemon {
    server: Server,
    watched: PathBuf,
}

pub(crate) fn bench_rules(b: &Bench<'_>, report: &mut Report) -> Result<()> {
    let started = Instant::now();
    let mut daemons = Vec::new();
    for (name, rule) in [("rules-none", false), ("rules-link", true)] {
        let watched = b.home(&format!("{name}/watched"))?;
        let server = b.start(name, &config(&watched, rule)?)?;
        until_live(b.rt, &server.socket)?;
        if rule {
            // The rule would create it with its first link; made first, it can be counted.
            let body = serde_json::json!({ "id": "linked" });
            http::post(b.rt, &server.socket, "/v1/collections", &body)?;
        }
        daemons.push(Daemon { server, watched });
    }
    report.setup(
        "3: start two daemons watching a folder each, one with the rule",
        started.elapsed(),
    );

    let files = b.scale.burst_files;
    let converged_with_rule = RefCell::new(Vec::new());
    let writes = RefCell::new(Vec::new());
    let mut out: [Vec<Duration>; 2] = Default::default();
    for round in 0..b.scale.burst_rounds {
        let total = ((round + 1) * files) as u64;
        let burst = |d: &Daemon, rule: bool| -> Result<Duration> {
            let t = Instant::now();
            make_tree(&d.watched.join(format!("burst{round}")), files, PER_FOLDER)?;
            writes.borrow_mut().push(t.elapsed());
            let inbox = until_count(b.rt, &d.server.socket, "inbox", total, t)?;
            if !rule {
                return Ok(inbox);
            }
            converged_with_rule.borrow_mut().push(inbox);
            until_count(b.rt, &d.server.socket, "linked", total, t)
        };
        interleave(
            round,
            &mut [&mut || burst(&daemons[0], false), &mut || {
                burst(&daemons[1], true)
            }],
            &mut out,
        )?;
        report.progress(&format!("3: burst round {round}"));
    }
    let commits = one_item_adds(b.rt, &daemons[1].server.socket)?;
    for mut d in daemons {
        d.server.stop_cleanly()?;
    }

    report.timing(
        "3a",
        format!(
            "a burst of {files} files written into a watched folder, no rule: until `inbox` \
             counts them all"
        ),
        &out[0],
        None,
    );
    report.timing(
        "3b",
        "the same burst with the linking rule: until `inbox` counts them all",
        &converged_with_rule.into_inner(),
        Some("3a"),
    );
    let s = report.timing(
        "3c",
        "the same burst with the linking rule: until the rule has linked them all (`linked` \
         counts them all)",
        &out[1],
        Some("3a"),
    );
    report.goal_within("median ≤ 1.3× no rule", 1.3);
    let floor = report.stats_of("3a").map_or(s.p50, |f| f.p50);
    let one = report.timing(
        "3d",
        "one durable write transaction: a one-item batch add (link) over the socket, on the \
         rule's daemon after the bursts (the rule commits one per page of up to 512 events)",
        &commits,
        None,
    );
    report.note(format!(
        "3: {files} × 3d's median is {}: what one transaction per file would take alone \
         (the rule commits a page of events at a time).",
        dur(one.p50.mul_f64(files as f64)),
    ));
    report.note(format!(
        "3: writing a burst's {files} files took {} (median); the rule links {:.0} files a \
         second (3c median), the watch alone commits {:.0} a second (3a median).",
        dur(stats(&writes.into_inner()).p50),
        files as f64 / s.p50.as_secs_f64(),
        files as f64 / floor.as_secs_f64(),
    ));
    Ok(())
}
