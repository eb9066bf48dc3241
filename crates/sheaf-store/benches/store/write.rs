//! Benchmark 1: a durable batch add of 1000 items, against 1000 inserts in one durable
//! redb commit and against the store's own write set in bare redb.

use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Database, Durability, TableDefinition};
use sheaf_core::ItemId;
use sheaf_store::{Options, Store};

use sheaf_bench::seed::{self, BATCH, batch_add, cid, link, register};
use sheaf_bench::{Report, Result, interleave_warm, timed, trend};

use crate::{floor_db, ms};

/// Timed batch adds, after a few untimed ones.
const RUNS: usize = 100;
const WARMUP: usize = 3;

/// The floor's one table.
const KEYS: TableDefinition<u128, &[u8]> = TableDefinition::new("keys");

// The tables a batch add writes, for a bare-redb floor of the store's own write set.
const ENTRIES: TableDefinition<(u64, u128), &[u8]> = TableDefinition::new("entries");
const LIVE_POS: TableDefinition<(u64, i64), u128> = TableDefinition::new("live_pos");
const MEMBERS: TableDefinition<(u128, u64), ()> = TableDefinition::new("members");
const UNIQUE: TableDefinition<(u64, &str), u128> = TableDefinition::new("unique");
const UNFILED: TableDefinition<u128, ()> = TableDefinition::new("unfiled");
const COUNTS: TableDefinition<u64, u64> = TableDefinition::new("counts");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FEED: TableDefinition<u64, &[u8]> = TableDefinition::new("feed");
const OPS: TableDefinition<u128, &[u8]> = TableDefinition::new("ops");

/// Bytes of an entry record, and per entry of a feed block and of an op record, as
/// benchmark 4's per-table stats measure them.
const ENTRY_BYTES: usize = 70;
const FEED_BYTES_PER_ENTRY: usize = 26;
const OP_BYTES_PER_ENTRY: usize = 36;

/// One commit writing what a batch add of `ids` writes: per item an entry record, its
/// position, membership and unique id, and the item's `unfiled` row removed; per batch the
/// count, five meta values, a feed block and an op record.
fn bare_write_set(
    db: &Database,
    round: usize,
    ids: &[ItemId],
    names: &[String],
) -> Result<Duration> {
    let record = [0x11_u8; ENTRY_BYTES];
    let feed = vec![0x22_u8; FEED_BYTES_PER_ENTRY * ids.len()];
    let op = vec![0x33_u8; OP_BYTES_PER_ENTRY * ids.len()];
    let handle = 1;
    let t = Instant::now();
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    {
        let mut entries = txn.open_table(ENTRIES)?;
        let mut live_pos = txn.open_table(LIVE_POS)?;
        let mut members = txn.open_table(MEMBERS)?;
        let mut unique = txn.open_table(UNIQUE)?;
        let mut unfiled = txn.open_table(UNFILED)?;
        for (i, (id, name)) in ids.iter().zip(names).enumerate() {
            let ulid = id.ulid().0;
            let sort = ((round * BATCH + i + 1) as i64) << 20;
            entries.insert((handle, ulid), record.as_slice())?;
            live_pos.insert((handle, sort), ulid)?;
            members.insert((ulid, handle), ())?;
            unique.insert((handle, name.as_str()), ulid)?;
            unfiled.remove(ulid)?;
        }
        let mut counts = txn.open_table(COUNTS)?;
        counts.insert(handle, ((round + 1) * BATCH) as u64)?;
        let mut meta = txn.open_table(META)?;
        for key in [
            "next_seq",
            "first_seq",
            "unfiled_count",
            "op_count",
            "last_now",
        ] {
            meta.insert(key, round as u64)?;
        }
        txn.open_table(FEED)?
            .insert((round * BATCH) as u64, feed.as_slice())?;
        txn.open_table(OPS)?
            .insert(ids[0].ulid().0, op.as_slice())?;
    }
    txn.commit()?;
    Ok(t.elapsed())
}

pub(crate) fn bench_batch_add(dir: &Path, report: &mut Report) -> Result<()> {
    let total = (WARMUP + RUNS) * BATCH;
    let target = cid("target")?;
    // The subject and its non-durable twin, with every item registered beforehand.
    let prepare = |path: &Path| -> Result<Vec<ItemId>> {
        let store = seed::open(path)?;
        let ids = register(&store, "add", 0, total)?;
        seed::create(&store, "target")?;
        Ok(ids)
    };
    let (path, nd_path) = (dir.join("add.redb"), dir.join("add-nd.redb"));
    let (took, (ids, nd_ids)) = timed(|| Ok((prepare(&path)?, prepare(&nd_path)?)))?;
    report.setup(
        format!("1: register {total} items, twice (non-durable, not timed)"),
        took,
    );
    let names: Vec<String> = (0..total).map(|i| format!("f{i:08}.pdf")).collect();
    let store = Store::open(&path, Options::default())?;
    let nd_store = seed::open(&nd_path)?;
    let floor = floor_db(&dir.join("add-floor.redb"))?;
    let nd_floor = floor_db(&dir.join("add-floor-nd.redb"))?;
    let schema_floor = floor_db(&dir.join("add-write-set.redb"))?;
    {
        // Registered items start out unfiled.
        let txn = schema_floor.begin_write()?;
        {
            let mut unfiled = txn.open_table(UNFILED)?;
            for id in &ids {
                unfiled.insert(id.ulid().0, ())?;
            }
        }
        txn.commit()?;
    }
    let value = [0x5a_u8; 100];
    let bare = |db: &Database, durability: Durability, ids: &[ItemId]| -> Result<Duration> {
        let t = Instant::now();
        let mut txn = db.begin_write()?;
        txn.set_durability(durability)?;
        {
            let mut table = txn.open_table(KEYS)?;
            for id in ids {
                table.insert(id.ulid().0, value.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(t.elapsed())
    };

    let mut out: [Vec<Duration>; 5] = Default::default();
    let rounds = ids
        .chunks(BATCH)
        .zip(nd_ids.chunks(BATCH))
        .zip(names.chunks(BATCH));
    for (round, ((chunk, nd_chunk), names)) in rounds.enumerate() {
        let req = link(&target, chunk, false);
        let nd_req = link(&target, nd_chunk, false);
        interleave_warm(
            WARMUP,
            round,
            &mut [
                &mut || bare(&floor, Durability::Immediate, chunk),
                &mut || timed(|| batch_add(&store, &req)).map(|(d, ())| d),
                &mut || bare_write_set(&schema_floor, round, chunk, names),
                &mut || bare(&nd_floor, Durability::None, nd_chunk),
                &mut || timed(|| batch_add(&nd_store, &nd_req)).map(|(d, ())| d),
            ],
            &mut out,
        )?;
        if round % 20 == 0 {
            report.progress(&format!("1: batch add round {round}"));
        }
    }
    report.timing(
        "1a",
        "bare redb: 1000 inserts (u128 → 100 B) in one commit, `Durability::Immediate`",
        &out[0],
        None,
    );
    let s = report.timing(
        "1b",
        format!(
            "`Store::batch_add`, 1000 items, link, durable (collection grows {}k → {}k \
             entries)",
            WARMUP,
            total / 1000
        ),
        &out[1],
        Some("1a"),
    );
    let floor_p50 = report.stats_of("1a").map_or(s.p50, |f| f.p50);
    let ratio = s.p50.as_secs_f64() / floor_p50.as_secs_f64();
    report.goal(
        "median ≤ 2× floor, p99 ≤ 10 ms",
        ratio <= 2.0 && s.p99 <= ms(10),
    );
    let write_set = report.timing(
        "1c",
        "bare redb: the store's write set for the same batch (per item 4 index inserts \
         + 1 remove; a feed block, an op record, count and meta), one durable commit",
        &out[2],
        Some("1a"),
    );
    report.timing("1d", "bare redb: as 1a, `Durability::None`", &out[3], None);
    report.timing(
        "1e",
        "`Store::batch_add` as 1b, non-durable store",
        &out[4],
        Some("1d"),
    );
    report.note(format!(
        "1b / 1c = {:.2}× at the median: the store's own work (plan reads, \
         (de)serialisation, allocation) on top of writing its tables.",
        s.p50.as_secs_f64() / write_set.p50.as_secs_f64()
    ));
    // Does a batch add slow down as the collection grows? The floors grow alike.
    let k = RUNS / 5;
    report.note(format!(
        "Over the run (median of the first {k} batches, collection {WARMUP}k–{}k entries → \
         of the last {k}, {}k–{}k): 1a {}, 1b {}, 1c {}, 1e {}.",
        WARMUP + k,
        total / 1000 - k,
        total / 1000,
        trend(&out[0], k),
        trend(&out[1], k),
        trend(&out[2], k),
        trend(&out[4], k),
    ));
    Ok(())
}
