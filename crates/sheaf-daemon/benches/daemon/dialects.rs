//! Benchmark 5: the platforms' requests (SPEC §8) against the `/v1` request they translate
//! to, over the same socket, rounds interleaved. Goal: ≤ 1.1× the `/v1` request.
//!
//! 5a/5b: a Wickson batch move of 1000 items (`POST /v1/media/collections/{cid}/items`)
//! against `POST /v1/collections/{cid}/items` with `mode: move, create: true` — each moves
//! its own 1000 items back and forth between two collections, so every round moves them all.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use sheaf_bench::http::Conn;
use sheaf_bench::seed::{self, BATCH};
use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, interleave_warm};
use sheaf_core::ItemId;
use sheaf_store::Store;
use tokio::runtime::Runtime;

use crate::Scale;

/// Untimed rounds first.
const WARMUP: usize = 3;

/// The two pairs of collections the moves go back and forth between.
const WICKSON: [&str; 2] = ["wickson-a", "wickson-b"];
const NATIVE: [&str; 2] = ["native-a", "native-b"];

/// The items each side moves.
pub(crate) struct Movers {
    wickson: Vec<ItemId>,
    native: Vec<ItemId>,
}

/// Writes the collections of the moves: the first of each pair with its `BATCH` items,
/// the second empty.
pub(crate) fn seed(store: &Store) -> Result<Movers> {
    let fill = |pair: [&str; 2]| -> Result<Vec<ItemId>> {
        let first = seed::create(store, pair[0])?;
        seed::create(store, pair[1])?;
        let ids = seed::register(store, pair[0], 0, BATCH)?;
        seed::batch_add(store, &seed::link(&first, &ids, false))?;
        Ok(ids)
    };
    Ok(Movers {
        wickson: fill(WICKSON)?,
        native: fill(NATIVE)?,
    })
}

/// A POST that must answer 200; its time.
fn post(rt: &Runtime, conn: &RefCell<Conn>, path: &str, body: &Bytes) -> Result<Duration> {
    let t = Instant::now();
    let (status, answer) = rt.block_on(conn.borrow_mut().post_json(path, body.clone()))?;
    let took = t.elapsed();
    if !status.is_success() {
        return Err(format!(
            "POST {path} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    Ok(took)
}

fn ids_json(ids: &[ItemId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

pub(crate) fn bench_dialects(
    rt: &Runtime,
    sheafd: &Server,
    movers: &Movers,
    scale: Scale,
    report: &mut Report,
) -> Result<()> {
    let conn = RefCell::new(rt.block_on(Conn::open(&sheafd.socket))?);
    let wickson = Bytes::from(serde_json::to_vec(
        &serde_json::json!({ "items": ids_json(&movers.wickson) }),
    )?);
    let native = Bytes::from(serde_json::to_vec(&serde_json::json!({
        "items": ids_json(&movers.native), "mode": "move", "create": true
    }))?);
    let mut out: [Vec<Duration>; 2] = Default::default();
    for round in 0..WARMUP + scale.add_runs {
        // Round r moves into the collection the items are not in.
        let to = (round + 1) % 2;
        let wickson_path = format!("/v1/media/collections/{}/items", WICKSON[to]);
        let native_path = format!("/v1/collections/{}/items", NATIVE[to]);
        let mut dialect = || post(rt, &conn, &wickson_path, &wickson);
        let mut v1 = || post(rt, &conn, &native_path, &native);
        interleave_warm(WARMUP, round, &mut [&mut v1, &mut dialect], &mut out)?;
        if round % 20 == 0 {
            report.progress(&format!("5: move round {round}"));
        }
    }
    report.timing(
        "5a",
        "sheafd: `POST /v1/collections/{cid}/items`, a move of 1000 items by id \
         (`mode: move`, `create: true`), durable",
        &out[0],
        None,
    );
    report.timing(
        "5b",
        "sheafd: Wickson's `POST /v1/media/collections/{cid}/items`, the same move of \
         1000 items",
        &out[1],
        Some("5a"),
    );
    report.goal_within("median ≤ 1.1× /v1", 1.1);
    Ok(())
}
