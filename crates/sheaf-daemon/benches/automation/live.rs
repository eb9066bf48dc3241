//! Benchmark 2: a watched folder bound to `inbox`, and a smart collection `live` whose
//! query matches every file in that folder. Files are written one at a time (created,
//! written, closed); for each, the arrival on `/v1/events` of its folder entry's
//! `entry.added` (`inbox`) and of its smart entry's (`live`, source `query`) is recorded.

use std::io::Write;
use std::time::{Duration, Instant};

use sheaf_bench::http::{Events, add_watch};
use sheaf_bench::{Report, Result, dur};
use sheaf_core::EntrySource;

use crate::{Bench, create_smart, until_filled};

/// How long a file may take to show on the change feed.
const EVENT_DEADLINE: Duration = Duration::from_secs(10);

/// When the two `entry.added` of one file arrived.
struct Arrivals {
    folder: Instant,
    smart: Instant,
}

/// Reads the feed until both `entry.added` of the next file are in; checks that they name
/// the same item.
fn both_added(feed: &Events) -> Result<Arrivals> {
    let (mut folder, mut smart) = (None, None);
    while folder.is_none() || smart.is_none() {
        let (at, e) = feed.next_added(EVENT_DEADLINE)?;
        let collection = e.collection_id.as_ref().map(ToString::to_string);
        match collection.as_deref() {
            Some("inbox") => folder = Some((at, e.item_id)),
            Some("live") if e.source == Some(EntrySource::Query) => smart = Some((at, e.item_id)),
            _ => return Err(format!("an entry.added that was not expected: {e:?}").into()),
        }
    }
    let ((folder, a), (smart, b)) = folder.zip(smart).ok_or("unreachable")?;
    if a != b {
        return Err(format!("the folder entry is of {a:?}, the smart entry of {b:?}").into());
    }
    Ok(Arrivals { folder, smart })
}

pub(crate) fn bench_live(b: &Bench<'_>, report: &mut Report) -> Result<()> {
    let started = Instant::now();
    let mut server = b.start("live", "")?;
    let watched = b.home("live/watched")?;
    add_watch(b.rt, &server.socket, &watched, "inbox")?;
    let glob = format!("{}/**", watched.display());
    create_smart(
        b.rt,
        &server.socket,
        "live",
        &serde_json::json!({ "path": [glob] }),
    )?;
    until_filled(b.rt, &server.socket, "live", started)?;
    let feed = Events::open(b.rt, &server.socket)?;
    // Let the new watch and collections settle first.
    std::thread::sleep(Duration::from_millis(300));
    report.setup(
        "2: start sheafd, watch a folder, create the smart collection",
        started.elapsed(),
    );

    let n = b.scale.latency_files;
    let (mut to_folder, mut to_smart, mut apart) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut same_read = 0;
    for i in 0..n {
        let t = Instant::now();
        let mut f = std::fs::File::create(watched.join(format!("l{i:05}.txt")))?;
        f.write_all(b"latency")?;
        drop(f);
        let got = both_added(&feed)?;
        to_folder.push(got.folder.duration_since(t));
        to_smart.push(got.smart.duration_since(t));
        // The smart entry is kept in the folder change's own transaction, after it.
        apart.push(got.smart.saturating_duration_since(got.folder));
        same_read += usize::from(got.smart == got.folder);
    }
    drop(feed);
    server.stop_cleanly()?;

    report.timing(
        "2a",
        format!(
            "a file closed → its folder collection's `entry.added` on /v1/events ({n} files, \
             one at a time, settle_ms 20)"
        ),
        &to_folder,
        None,
    );
    report.timing(
        "2b",
        "the same files → their smart collection's `entry.added` (source `query`)",
        &to_smart,
        Some("2a"),
    );
    let s = report.timing(
        "2c",
        "difference per file: smart `entry.added` − folder `entry.added`",
        &apart,
        None,
    );
    report.goal("p99 ≤ 5 ms", s.p99 <= Duration::from_millis(5));
    report.note(format!(
        "2: for {same_read} of {n} files both `entry.added` arrived in the same read of the \
         stream (the smart entry is written in the folder change's own transaction, SPEC \
         §7.2); the largest difference was {}.",
        dur(apart.iter().copied().max().unwrap_or_default()),
    ));
    Ok(())
}
