//! Benchmark 1: a durable batch add of 1000 items (`POST /v1/collections/target/items`,
//! link, answer read) on three daemons over copies of one database — with no smart
//! collection, with 10 whose queries are path globs each matching half of the items (the
//! batch changes no answer of theirs: every item is checked against each query and stays),
//! and, for information, with 10 that also ask `in: ["target"]` (the batch makes each item
//! match five of them: 5000 smart entries written with it). Rounds rotate which daemon goes
//! first.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use tokio::runtime::Runtime;

use sheaf_bench::http::{self, Conn};
use sheaf_bench::seed::{self, BATCH, half_glob};
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, dur, interleave_warm, timed, trend};

use crate::{Bench, create_smart, until_filled};

/// Smart collections defined.
const SMART: usize = 10;
/// The collection the batches add to.
const TARGET: &str = "target";
/// Untimed batch adds first.
const WARMUP: usize = 3;

/// The three daemons, by what their smart collections ask.
const DAEMONS: [&str; 3] = ["none", "path", "in-target"];

/// The query of smart collection `k` of daemon `daemon`.
fn query(daemon: &str, k: usize) -> serde_json::Value {
    if daemon == "path" {
        serde_json::json!({ "path": [half_glob(k)] })
    } else {
        serde_json::json!({ "path": [half_glob(k)], "in": [TARGET] })
    }
}

/// One timed batch add on `conn`; checks that every item was added.
fn add_once(rt: &Runtime, conn: &RefCell<Conn>, body: &Bytes, n: usize) -> Result<Duration> {
    let path = format!("/v1/collections/{TARGET}/items");
    let t = Instant::now();
    let (status, answer) = rt.block_on(conn.borrow_mut().post_json(&path, body.clone()))?;
    let took = t.elapsed();
    let added = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v["summary"]["added"].as_u64());
    if !status.is_success() || added != Some(n as u64) {
        return Err(format!(
            "POST {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(took)
}

pub(crate) fn bench_batch(b: &Bench<'_>, report: &mut Report) -> Result<()> {
    let rounds = WARMUP + b.scale.add_runs;
    let seeded = b.dir.join("batch-seed.redb");
    let (took, ids) = timed(|| {
        let store = seed::open(&seeded)?;
        seed::create(&store, TARGET)?;
        seed::register(&store, TARGET, 0, rounds * BATCH)
    })?;
    report.setup(
        format!(
            "1: write the database: {} items registered, `{TARGET}` empty (non-durable)",
            ids.len()
        ),
        took,
    );
    let started = Instant::now();
    let mut servers: Vec<Server> = Vec::new();
    for daemon in DAEMONS {
        let home = b.home(&format!("batch-{daemon}"))?;
        std::fs::copy(&seeded, home.join("sheaf.redb"))?;
        let server = b.start(&format!("batch-{daemon}"), "")?;
        if daemon != "none" {
            for k in 0..SMART {
                create_smart(b.rt, &server.socket, &format!("half{k}"), &query(daemon, k))?;
            }
            for k in 0..SMART {
                until_filled(b.rt, &server.socket, &format!("half{k}"), started)?;
            }
        }
        servers.push(server);
    }
    report.setup(
        format!(
            "1: copy it for 3 daemons, start them, create and fill {SMART} smart collections \
             on two"
        ),
        started.elapsed(),
    );
    let bodies = ids
        .chunks(BATCH)
        .map(|chunk| {
            let items: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let body = serde_json::json!({ "items": items, "mode": "link" });
            Ok(Bytes::from(serde_json::to_vec(&body)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let conns = servers
        .iter()
        .map(|s| Ok(RefCell::new(b.rt.block_on(Conn::open(&s.socket))?)))
        .collect::<Result<Vec<_>>>()?;
    let mut out: [Vec<Duration>; 3] = Default::default();
    for (round, body) in bodies.iter().enumerate() {
        let run = |i: usize| add_once(b.rt, &conns[i], body, BATCH);
        interleave_warm(
            WARMUP,
            round,
            &mut [&mut || run(0), &mut || run(1), &mut || run(2)],
            &mut out,
        )?;
        if round % 20 == 0 {
            report.progress(&format!("1: batch add round {round}"));
        }
    }
    // Each smart collection of the third daemon now holds half of what the batches added.
    let filled = http::count(b.rt, &servers[2].socket, "half0")?;
    for mut s in servers {
        s.stop_cleanly()?;
    }

    let what = |smart: &str| {
        format!(
            "`POST /v1/collections/{TARGET}/items`: 1000 items by id, link, durable, answer \
             read; {smart}"
        )
    };
    report.timing("1a", what("no smart collection"), &out[0], None);
    let s = report.timing(
        "1b",
        what(&format!(
            "{SMART} smart collections defined, each a path glob matching half of the items \
             (the batch changes none of their answers)"
        )),
        &out[1],
        Some("1a"),
    );
    report.goal_within("median ≤ 1.5× none", 1.5);
    let floor = report.stats_of("1a").map_or(s.p50, |f| f.p50);
    let c = report.timing(
        "1c",
        what(&format!(
            "{SMART} smart collections of a half glob and `in: [\"{TARGET}\"]`: the batch \
             makes each item match 5 of them, 5000 smart entries added in its transaction \
             (for information)"
        )),
        &out[2],
        Some("1a"),
    );
    let k = b.scale.add_runs / 5;
    report.note(format!(
        "1: median of the first {k} batch adds → of the last {k} (`{TARGET}` grows by 1000 \
         entries a batch): 1a {}, 1b {}, 1c {}. At the median, the {SMART} path queries add \
         {} to a batch (1b − 1a): {:.1} µs per item and query. 1c's `half0` holds {filled} \
         entries at the end; its extra {} per batch (1c − 1a) is {:.1} µs per smart entry \
         written.",
        trend(&out[0], k),
        trend(&out[1], k),
        trend(&out[2], k),
        dur(s.p50.saturating_sub(floor)),
        s.p50.saturating_sub(floor).as_secs_f64() * 1e6 / (BATCH * SMART) as f64,
        dur(c.p50.saturating_sub(floor)),
        c.p50.saturating_sub(floor).as_secs_f64() * 1e6 / (BATCH * SMART / 2) as f64,
    ));
    Ok(())
}
