//! Benchmark 4: a store of 1 M registered items (seeded with `sheaf-store` before the
//! daemon opens it), and smart collections created over it one after another, each a path
//! glob that half of the items match: the time from `POST /v1/collections` until the
//! collection says `filling: false` (its `item_count` then checked), and `sheafd`'s resident
//! set before each fill against its peak during it (the high-water mark reset first).

use std::time::{Duration, Instant};

use sheaf_bench::seed::{self, half_glob};
use sheaf_bench::{Report, Result, kib, process_kib, reset_peak, secs, timed};

use crate::{Bench, create_smart, until_filled};

/// The goal: a fill of 1 M items within this, scaled with the items in quick mode.
const GOAL_PER_MILLION: Duration = Duration::from_secs(10);
/// The goal: the peak during a fill at most this above the resident set before it (KiB).
const GOAL_GROWTH_KIB: u64 = 50 * 1024;

pub(crate) fn bench_fill(b: &Bench<'_>, report: &mut Report) -> Result<()> {
    let n = b.scale.fill_items;
    let home = b.home("fill")?;
    let (took, ids) =
        timed(|| seed::register(&seed::open(&home.join("sheaf.redb"))?, "fill", 0, n))?;
    report.setup(
        format!(
            "4: write the database: {} items registered (non-durable)",
            ids.len()
        ),
        took,
    );
    drop(ids);
    let started = Instant::now();
    let mut server = b.start("fill", "")?;
    let pid = server.pid().ok_or("sheafd has no pid")?;
    report.setup("4: start sheafd on it", started.elapsed());

    let (mut fills, mut before, mut peaks) = (Vec::new(), Vec::new(), Vec::new());
    let mut reset = true;
    for round in 0..b.scale.fill_rounds {
        let id = format!("half{round}");
        // Settled: what the last fill left behind has been freed or kept.
        std::thread::sleep(Duration::from_millis(500));
        before.push(process_kib(pid, "VmRSS:").ok_or("sheafd is gone")?);
        reset &= reset_peak(pid).is_ok();
        let t = Instant::now();
        create_smart(
            b.rt,
            &server.socket,
            &id,
            &serde_json::json!({ "path": [half_glob(round)] }),
        )?;
        let (took, count) = until_filled(b.rt, &server.socket, &id, t)?;
        peaks.push(process_kib(pid, "VmHWM:").ok_or("sheafd is gone")?);
        if count != (n / 2) as u64 {
            return Err(format!("{id} was filled with {count} entries, not {}", n / 2).into());
        }
        fills.push(took);
        report.progress(&format!("4: fill {round}: {}", secs(took)));
    }
    server.stop_cleanly()?;

    let goal = GOAL_PER_MILLION.mul_f64(n as f64 / 1e6);
    let s = report.timing(
        "4a",
        format!(
            "a smart collection created over {n} items (a path glob half of them match): \
             until `filling` is false, {} entries",
            n / 2
        ),
        &fills,
        None,
    );
    report.goal(
        if n == 1_000_000 {
            format!("≤ {}", secs(goal))
        } else {
            format!("≤ {} (10 s per million)", secs(goal))
        },
        s.p50 <= goal,
    );
    report.memory("4b", "sheafd RSS before each fill", before.clone(), None);
    report.memory(
        "4c",
        "sheafd peak RSS during each fill (VmHWM, reset before it)",
        peaks.clone(),
        Some("4b"),
    );
    let growths: Vec<u64> = before
        .iter()
        .zip(&peaks)
        .map(|(b, p)| p.saturating_sub(*b))
        .collect();
    let growth = growths.iter().copied().max().unwrap_or(0);
    report.goal(
        format!("growth ≤ {}", kib(GOAL_GROWTH_KIB)),
        growth <= GOAL_GROWTH_KIB,
    );
    report.note(format!(
        "4: {} fills in a row on one daemon, each a new smart collection; the growth of each \
         fill's peak over the resident set before it: {}{}. A fill commits a chunk of items \
         per transaction, with an `entry.added` per entry added: {:.1} µs per item looked \
         at, {:.1} µs per entry added (4a median).",
        fills.len(),
        growths
            .iter()
            .map(|g| kib(*g))
            .collect::<Vec<_>>()
            .join(", "),
        if reset {
            ""
        } else {
            " (the high-water mark could not be reset: the peak may be older than the fill)"
        },
        s.p50.as_secs_f64() * 1e6 / n as f64,
        s.p50.as_secs_f64() * 1e6 / (n / 2) as f64,
    ));
    Ok(())
}
