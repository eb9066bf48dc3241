//! Benchmark 2: a durable batch add of 1000 items end to end — `POST
//! /v1/collections/target/items` over the socket, answer read — against
//! `Store::batch_add` of the same 1000 items called directly on a copy of the daemon's
//! database, with the daemon's default options. Rounds alternate which goes first.

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use hyper::body::Bytes;
use sheaf_store::{Options, Store};
use tokio::runtime::Runtime;

use sheaf_bench::seed::{BATCH, batch_add, cid, link};
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, dur, interleave_warm, timed, trend};

use crate::Scale;
use crate::fixture::{Fixture, TARGET};
use sheaf_bench::http::Conn;

/// Untimed batch adds first.
pub(crate) const WARMUP: usize = 3;

/// The store options `sheafd` runs with when its config sets nothing.
fn daemon_options() -> Options {
    let c = sheaf_daemon::Config::new("/unused.sock".into(), "/unused.redb".into());
    Options {
        cache_bytes: c.cache_bytes,
        limits: c.limits,
        feed_retention: c.feed_retention,
        op_retention: c.op_retention,
        ..Options::default()
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    summary: Summary,
}

#[derive(serde::Deserialize)]
struct Summary {
    added: u64,
}

pub(crate) fn bench_batch_add(
    rt: &Runtime,
    sheafd: &Server,
    store_db: &Path,
    fixture: &Fixture,
    scale: Scale,
    report: &mut Report,
) -> Result<()> {
    let target = cid(TARGET)?;
    let store = Store::open(store_db, daemon_options())?;
    let conn = RefCell::new(rt.block_on(Conn::open(&sheafd.socket))?);
    let path = format!("/v1/collections/{TARGET}/items");
    let missing = "/v1/collections/missing/items".to_owned();
    let (took, bodies) = timed(|| {
        fixture
            .unfiled
            .chunks(BATCH)
            .map(|chunk| {
                let items: Vec<String> = chunk.iter().map(ToString::to_string).collect();
                let body = serde_json::json!({ "items": items, "mode": "link" });
                Ok(Bytes::from(serde_json::to_vec(&body)?))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    report.setup("2: request bodies (JSON, not timed)", took);

    let mut out: [Vec<Duration>; 3] = Default::default();
    let rounds = fixture.unfiled.chunks(BATCH).zip(&bodies);
    for (round, (chunk, body)) in rounds.enumerate() {
        let req = link(&target, chunk, false);
        let mut over_socket = || -> Result<Duration> {
            let t = Instant::now();
            let (status, answer) = rt.block_on(conn.borrow_mut().post_json(&path, body.clone()))?;
            let took = t.elapsed();
            let added = serde_json::from_slice::<Answer>(&answer).map(|a| a.summary.added);
            if !status.is_success() || added.ok() != Some(chunk.len() as u64) {
                return Err(format!(
                    "POST {path} answered {status}: {}",
                    String::from_utf8_lossy(&answer)
                )
                .into());
            }
            Ok(took)
        };
        let mut direct = || timed(|| batch_add(&store, &req)).map(|(d, ())| d);
        let mut refused = || -> Result<Duration> {
            let t = Instant::now();
            let (status, answer) =
                rt.block_on(conn.borrow_mut().post_json(&missing, body.clone()))?;
            let took = t.elapsed();
            if status != StatusCode::NOT_FOUND {
                return Err(format!(
                    "POST {missing} answered {status}, not 404: {}",
                    String::from_utf8_lossy(&answer)
                )
                .into());
            }
            Ok(took)
        };
        interleave_warm(
            WARMUP,
            round,
            &mut [&mut direct, &mut over_socket, &mut refused],
            &mut out,
        )?;
        if round % 20 == 0 {
            report.progress(&format!("2: batch add round {round}"));
        }
    }
    let total = fixture.unfiled.len() / 1000;
    report.timing(
        "2a",
        format!(
            "`Store::batch_add` called directly, 1000 items, link, durable, the daemon's \
             options, on a copy of its database (collection grows {WARMUP}k → {total}k entries)"
        ),
        &out[0],
        None,
    );
    let s = report.timing(
        "2b",
        "sheafd: `POST /v1/collections/target/items`, the same 1000 items by id over the \
         socket, answer read",
        &out[1],
        Some("2a"),
    );
    report.goal_within("median ≤ 1.3× store", 1.3);
    let floor = report.stats_of("2a").map_or(s.p50, |f| f.p50);
    let refusal = report.timing(
        "2c",
        "sheafd: the same request to a collection that does not exist — HTTP, JSON parse, \
         the store's refusal (404), no plan, no commit",
        &out[2],
        None,
    );
    let k = scale.add_runs / 5;
    report.note(format!(
        "2: request body {} KiB. Median of the first {k} batch adds → of the last {k}: \
         2a {}, 2b {}. At the median, the socket adds {} to the store's work (2b − 2a), of \
         which {} is the round trip and the parse alone (2c).",
        bodies.first().map_or(0, Bytes::len) / 1024,
        trend(&out[0], k),
        trend(&out[1], k),
        dur(s.p50.saturating_sub(floor)),
        dur(refusal.p50),
    ));
    Ok(())
}
