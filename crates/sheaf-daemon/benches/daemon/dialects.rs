//! Benchmark 5: the platforms' requests (SPEC §8) against the `/v1` request they translate
//! to, over the same socket, rounds interleaved. Goal: ≤ 1.1× the `/v1` request.
//!
//! 5a/5b: a Wickson batch move of 1000 items (`POST /v1/media/collections/{cid}/items`)
//! against `POST /v1/collections/{cid}/items` with `mode: move, create: true` — each moves
//! its own 1000 items back and forth between two collections, so every round moves them all.
//!
//! 5c–5f: a Datalab add of 100 items by number (`POST /api/v1/collections/{n}/files`,
//! answered with the collection and its first 1000 files) against `POST
//! /v1/collections/{cid}/items` linking 100 items by id (5c), and against that link
//! followed by `GET /v1/collections/{cid}/items?limit=1000` (5e): the `/v1` requests that
//! carry what Datalab's one answer carries (5f: 5d's times against 5e's). Each round adds 100 new items to each side's
//! own collection.

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

/// Rounds of each benchmark, the untimed ones included.
pub(crate) fn rounds(scale: Scale) -> usize {
    WARMUP + scale.add_runs
}

/// Items per Datalab add.
const DATALAB_BATCH: usize = 100;

/// The targets of the adds.
const DATALAB: &str = "datalab-target";
const LINKED: &str = "native-target";
const LISTED: &str = "native-listed";

/// The items each side moves, and those each side adds (by number for Datalab).
pub(crate) struct Movers {
    wickson: Vec<ItemId>,
    native: Vec<ItemId>,
    datalab_target: u64,
    datalab: Vec<u64>,
    linked: Vec<ItemId>,
    listed: Vec<ItemId>,
}

/// Writes the collections of the moves (the first of each pair with its `BATCH` items, the
/// second empty) and of the adds (empty, with `rounds × 100` unfiled items for each side).
pub(crate) fn seed(store: &Store, rounds: usize) -> Result<Movers> {
    let fill = |pair: [&str; 2]| -> Result<Vec<ItemId>> {
        let first = seed::create(store, pair[0])?;
        seed::create(store, pair[1])?;
        let ids = seed::register(store, pair[0], 0, BATCH)?;
        seed::batch_add(store, &seed::link(&first, &ids, false))?;
        Ok(ids)
    };
    let target = seed::create(store, DATALAB)?;
    seed::create(store, LINKED)?;
    seed::create(store, LISTED)?;
    let n = rounds * DATALAB_BATCH;
    let datalab = seed::register(store, DATALAB, 0, n)?
        .into_iter()
        .map(|id| match store.item(id)? {
            Some((item, _)) => Ok(item.number),
            None => Err(format!("item {id} vanished").into()),
        })
        .collect::<Result<Vec<u64>>>()?;
    let datalab_target = store
        .collection(&target)?
        .map(|c| c.number)
        .ok_or("the Datalab target vanished")?;
    Ok(Movers {
        wickson: fill(WICKSON)?,
        native: fill(NATIVE)?,
        datalab_target,
        datalab,
        linked: seed::register(store, LINKED, 0, n)?,
        listed: seed::register(store, LISTED, 0, n)?,
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
    for round in 0..rounds(scale) {
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
    bench_datalab(rt, &conn, movers, report)
}

fn bench_datalab(
    rt: &Runtime,
    conn: &RefCell<Conn>,
    movers: &Movers,
    report: &mut Report,
) -> Result<()> {
    let datalab_path = format!("/api/v1/collections/{}/files", movers.datalab_target);
    let native_path = format!("/v1/collections/{LINKED}/items");
    let listed_path = format!("/v1/collections/{LISTED}/items");
    let listing = format!("{listed_path}?limit=1000");
    let mut out: [Vec<Duration>; 3] = Default::default();
    let rounds = movers
        .datalab
        .chunks(DATALAB_BATCH)
        .zip(movers.linked.chunks(DATALAB_BATCH))
        .zip(movers.listed.chunks(DATALAB_BATCH));
    for (round, ((numbers, ids), listed)) in rounds.enumerate() {
        let datalab = Bytes::from(serde_json::to_vec(
            &serde_json::json!({ "uploaded_file_ids": numbers }),
        )?);
        let native = Bytes::from(serde_json::to_vec(
            &serde_json::json!({ "items": ids_json(ids) }),
        )?);
        let listed = Bytes::from(serde_json::to_vec(
            &serde_json::json!({ "items": ids_json(listed) }),
        )?);
        let mut dialect = || post(rt, conn, &datalab_path, &datalab);
        let mut v1 = || post(rt, conn, &native_path, &native);
        let mut v1_listed = || {
            let t = Instant::now();
            post(rt, conn, &listed_path, &listed)?;
            let (status, answer) = rt.block_on(conn.borrow_mut().get(&listing))?;
            if !status.is_success() {
                let answer = String::from_utf8_lossy(&answer);
                return Err(format!("GET {listing} answered {status}: {answer}").into());
            }
            Ok(t.elapsed())
        };
        interleave_warm(
            WARMUP,
            round,
            &mut [&mut v1, &mut dialect, &mut v1_listed],
            &mut out,
        )?;
        if round % 20 == 0 {
            report.progress(&format!("5: Datalab add round {round}"));
        }
    }
    report.timing(
        "5c",
        "sheafd: `POST /v1/collections/{cid}/items`, a link of 100 new items by id, durable",
        &out[0],
        None,
    );
    report.timing(
        "5d",
        "sheafd: Datalab's `POST /api/v1/collections/{n}/files`, 100 new items by number, \
         answered with the collection and its first 1000 files",
        &out[1],
        Some("5c"),
    );
    report.timing(
        "5e",
        "sheafd: the same link as 5c, then `GET /v1/collections/{cid}/items?limit=1000`: \
         what Datalab's answer carries, through `/v1`",
        &out[2],
        None,
    );
    report.timing(
        "5f",
        "sheafd: Datalab's add of 5d against 5e, the `/v1` requests that carry what it \
         answers",
        &out[1],
        Some("5e"),
    );
    report.goal_within("median ≤ 1.1× /v1", 1.1);
    Ok(())
}
