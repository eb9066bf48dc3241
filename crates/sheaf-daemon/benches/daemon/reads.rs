//! Benchmark 1: small reads under load. 16 clients, each on its own kept-alive connection,
//! send `GET /v1/collections/small` back to back for a fixed time, against the floor
//! server answering the same bytes without routing, middleware or store. Rounds alternate
//! between the two servers.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use sheaf_bench::sheafd::Server;
use sheaf_bench::{Report, Result, dur};

use crate::fixture::SMALL;
use crate::{Bins, Scale};
use sheaf_bench::http::Conn;

/// Concurrent clients, one connection each.
pub(crate) const CLIENTS: usize = 16;
/// Untimed rounds first: connections warm, allocators and caches settled.
const WARMUP: usize = 1;

/// One round of load on one server.
struct Round {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

/// One client: requests back to back on its connection until `deadline`.
async fn client(
    mut conn: Conn,
    path: Arc<str>,
    deadline: Instant,
) -> Result<(Conn, Vec<Duration>)> {
    let mut latencies = Vec::with_capacity(1 << 16);
    while Instant::now() < deadline {
        let t = Instant::now();
        let (status, _) = conn.get(&path).await?;
        latencies.push(t.elapsed());
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}").into());
        }
    }
    Ok((conn, latencies))
}

/// Every client sends requests until `length` has passed; the round ends when the last
/// answer is in.
async fn round(conns: &mut Vec<Conn>, path: &Arc<str>, length: Duration) -> Result<Round> {
    let start = Instant::now();
    let deadline = start + length;
    let tasks: Vec<_> = conns
        .drain(..)
        .map(|conn| tokio::spawn(client(conn, Arc::clone(path), deadline)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        let (conn, mut l) = task.await??;
        conns.push(conn);
        latencies.append(&mut l);
    }
    Ok(Round {
        latencies,
        elapsed: start.elapsed(),
    })
}

async fn connect(socket: &Path) -> Result<Vec<Conn>> {
    let mut conns = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        conns.push(Conn::open(socket).await?);
    }
    Ok(conns)
}

pub(crate) fn bench_reads(
    rt: &Runtime,
    bins: &Bins,
    dir: &Path,
    sheafd: &Server,
    scale: Scale,
    report: &mut Report,
) -> Result<()> {
    let path: Arc<str> = format!("/v1/collections/{SMALL}").into();
    // The floor answers with the very bytes sheafd answers.
    let (status, body) =
        rt.block_on(async { Conn::open(&sheafd.socket).await?.get(&path).await })?;
    if !status.is_success() {
        return Err(format!("GET {path} answered {status}").into());
    }
    let socket = dir.join("floor.sock");
    let mut cmd = std::process::Command::new(&bins.floor);
    cmd.arg(&socket).arg(std::str::from_utf8(&body)?);
    let started = Instant::now();
    let floor = Server::start("floor_server", cmd, socket, dir.join("floor.log"))?;
    report.setup("1: start the floor server", started.elapsed());

    let sockets = [&floor.socket, &sheafd.socket];
    let mut conns = [
        rt.block_on(connect(sockets[0]))?,
        rt.block_on(connect(sockets[1]))?,
    ];
    let mut latencies: [Vec<Duration>; 2] = Default::default();
    let mut elapsed = [Duration::ZERO; 2];
    let mut rates: [Vec<f64>; 2] = Default::default();
    let rounds = WARMUP + scale.load_rounds;
    for r in 0..rounds {
        // Alternate which server goes first.
        for k in 0..2 {
            let i = (r + k) % 2;
            let length = if r < WARMUP {
                scale.load_round / 2
            } else {
                scale.load_round
            };
            let mut got = rt.block_on(round(&mut conns[i], &path, length))?;
            if r >= WARMUP {
                rates[i].push(got.latencies.len() as f64 / got.elapsed.as_secs_f64());
                latencies[i].append(&mut got.latencies);
                elapsed[i] += got.elapsed;
            }
        }
        report.progress(&format!("1: load round {r}"));
    }
    drop(conns);
    let rate = |i: usize| latencies[i].len() as f64 / elapsed[i].as_secs_f64();
    let what = |server: &str| {
        format!(
            "{server}: `GET {path}` ({} B answer), {CLIENTS} clients on kept-alive \
             connections, {} rounds of {:.1} s",
            body.len(),
            scale.load_rounds,
            scale.load_round.as_secs_f64()
        )
    };
    report.timing(
        "1a",
        what("floor (bare hyper, same answer)"),
        &latencies[0],
        None,
    );
    report.rate(rate(0));
    let s = report.timing("1b", what("sheafd"), &latencies[1], Some("1a"));
    report.rate(rate(1));
    report.goal(
        "req/s ≥ 0.7× floor, p99 ≤ 1 ms",
        rate(1) >= 0.7 * rate(0) && s.p99 <= Duration::from_millis(1),
    );
    let range = |r: &[f64]| {
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.iter().copied().fold(0.0, f64::max);
        format!("{lo:.0}–{hi:.0}")
    };
    report.note(format!(
        "1: req/s per round: floor {}, sheafd {}. The load generator runs in the benchmark \
         process, on the same cores as the server under test; {CLIENTS} clients in a closed \
         loop, so the mean latency is {CLIENTS} / rate (1b: {}).",
        range(&rates[0]),
        range(&rates[1]),
        dur(Duration::from_secs_f64(CLIENTS as f64 / rate(1))),
    ));
    Ok(())
}
