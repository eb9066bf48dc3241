//! Benchmarks 2 and 3: paging a 1M-entry collection at its start, middle and end; a
//! collection's count and an item's memberships. Floors: a range scan and point gets in
//! bare redb.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Durability, ReadableDatabase, TableDefinition};
use sheaf_core::CollectionId;
use sheaf_store::{EntryQuery, Options, Store};

use sheaf_bench::seed::{self, BATCH, batch_add, cid, link, register};
use sheaf_bench::{Report, Result, Size, interleave, timed};

use crate::{Scale, file_len, floor_db, ms, us};

/// Timed page fetches per offset.
const PAGE_RUNS: usize = 200;
/// Timed calls per read of benchmark 3.
const READ_RUNS: usize = 10_000;
/// The memberships of benchmark 3's item.
const MEMBERSHIPS: usize = 100;

const ROWS: TableDefinition<(u64, i64), &[u8]> = TableDefinition::new("rows");
const COUNTS: TableDefinition<u64, u64> = TableDefinition::new("counts");
const MEMBERS: TableDefinition<(u128, u64), ()> = TableDefinition::new("members");

pub(crate) fn bench_reads(dir: &Path, scale: Scale, report: &mut Report) -> Result<()> {
    let path = dir.join("big.redb");
    let big = cid("big")?;
    let n = scale.entries;
    let member = {
        let store = seed::open(&path)?;
        let (mut reg, mut add) = (Duration::ZERO, Duration::ZERO);
        for chunk in 0..n / BATCH {
            let (d, ids) = timed(|| register(&store, "big", chunk * BATCH, BATCH))?;
            reg += d;
            let req = link(&big, &ids, true);
            add += timed(|| batch_add(&store, &req))?.0;
            if chunk % 100 == 99 {
                report.progress(&format!("2: built {} of {n} entries", (chunk + 1) * BATCH));
            }
        }
        report.setup(
            format!("2: register {n} items, 1000 per commit (non-durable)"),
            reg,
        );
        report.setup(
            "2: batch add them into one collection, 1000 per commit (non-durable)",
            add,
        );
        let (took, member) = timed(|| {
            let member = register(&store, "multi", 0, 1)?[0];
            for c in 0..MEMBERSHIPS {
                batch_add(&store, &link(&cid(&format!("m{c:03}"))?, &[member], true))?;
            }
            Ok(member)
        })?;
        report.setup(
            format!("3: one item into {MEMBERSHIPS} new collections"),
            took,
        );
        member
    };
    report.size(Size {
        what: format!("benchmark 2's store: one collection of {n} entries (+ items, feed, ops)"),
        count: n as u64,
        unit: "entries",
        bytes: file_len(&path)?,
        floor: None,
    });

    // The floor: the same number of 200-byte rows in one table, read by one range scan.
    let floor_path = dir.join("read-floor.redb");
    let floor = floor_db(&floor_path)?;
    let took = timed(|| {
        let row = [0xa5_u8; 200];
        for chunk in 0..n / BATCH {
            let mut txn = floor.begin_write()?;
            txn.set_durability(if chunk + 1 == n / BATCH {
                Durability::Immediate
            } else {
                Durability::None
            })?;
            {
                let mut rows = txn.open_table(ROWS)?;
                for i in chunk * BATCH..(chunk + 1) * BATCH {
                    rows.insert((1, i as i64), row.as_slice())?;
                }
                if chunk == 0 {
                    let mut counts = txn.open_table(COUNTS)?;
                    let mut members = txn.open_table(MEMBERS)?;
                    for h in 0..=MEMBERSHIPS as u64 {
                        counts.insert(h, h * 7)?;
                        members.insert((member.ulid().0, h), ())?;
                    }
                }
            }
            txn.commit()?;
        }
        Ok(())
    })?
    .0;
    report.setup(format!("2: floor, {n} rows of 200 B (bare redb)"), took);

    let store = Store::open(&path, Options::default())?;

    // One pass over every page, remembering the cursors where the timed pages start.
    let offsets = scale.offsets();
    let mut cursors: Vec<Option<String>> = vec![None; offsets.len()];
    let (took, pages) = timed(|| {
        let mut cursor = None;
        let mut seen = 0;
        let mut pages = 0;
        loop {
            for (k, &o) in offsets.iter().enumerate() {
                if o == seen {
                    cursors[k].clone_from(&cursor);
                }
            }
            let page = store
                .entries(
                    &big,
                    &EntryQuery {
                        cursor: cursor.take(),
                        limit: BATCH,
                        ..EntryQuery::default()
                    },
                )?
                .ok_or("the big collection is missing")?;
            seen += page.items.len();
            pages += 1;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if seen == n {
            Ok(pages)
        } else {
            Err(format!("paged {seen} entries, expected {n}").into())
        }
    })?;
    report.setup(
        format!("2: page through all {n} entries once ({pages} pages, to find the cursors)"),
        took,
    );

    let fetch = |cursor: Option<&String>| -> Result<Duration> {
        let query = EntryQuery {
            cursor: cursor.cloned(),
            limit: BATCH,
            ..EntryQuery::default()
        };
        let started = Instant::now();
        let page = store.entries(&big, &query)?;
        let took = started.elapsed();
        match page {
            Some(p) if p.items.len() == BATCH => Ok(took),
            _ => Err("a timed page came back short".into()),
        }
    };
    let bare_page = |offset: usize| -> Result<Duration> {
        let t = Instant::now();
        let txn = floor.begin_read()?;
        let rows = txn.open_table(ROWS)?;
        let mut bytes = 0;
        for kv in rows.range((1, offset as i64)..)?.take(BATCH) {
            let (k, v) = kv?;
            bytes += v.value().len() + k.value().1 as usize;
        }
        black_box(bytes);
        Ok(t.elapsed())
    };
    let mut out: [Vec<Duration>; 5] = Default::default();
    for round in 0..PAGE_RUNS {
        interleave(
            round,
            &mut [
                &mut || bare_page(offsets[0]),
                &mut || bare_page(offsets[2]),
                &mut || fetch(cursors[0].as_ref()),
                &mut || fetch(cursors[1].as_ref()),
                &mut || fetch(cursors[2].as_ref()),
            ],
            &mut out,
        )?;
    }
    report.progress("2: paging timed");
    let label = |o: usize| {
        if o >= 1000 {
            format!("{}k", o / 1000)
        } else {
            o.to_string()
        }
    };
    report.timing(
        "2a",
        format!("bare redb: range scan of 1000 rows (200 B) at offset 0 of {n}"),
        &out[0],
        None,
    );
    report.timing(
        "2b",
        format!("bare redb: the same at offset {}", label(offsets[2])),
        &out[1],
        Some("2a"),
    );
    let first = report.timing(
        "2c",
        format!("`Store::entries`, 1000 rows, offset 0 of {n}"),
        &out[2],
        Some("2a"),
    );
    report.goal("median ≤ 2 ms", first.p50 <= ms(2));
    for (k, id) in [(1, "2d"), (2, "2e")] {
        let s = report.timing(
            id,
            format!(
                "`Store::entries`, 1000 rows, offset {} (by cursor)",
                label(offsets[k])
            ),
            &out[k + 2],
            Some("2c"),
        );
        let ratio = s.p50.as_secs_f64() / first.p50.as_secs_f64();
        report.goal(
            "median ≤ 1.2× first page and ≤ 2 ms",
            ratio <= 1.2 && s.p50 <= ms(2),
        );
    }

    // 3. Counts and memberships.
    let small = cid(&format!("m{:03}", MEMBERSHIPS / 2))?;
    let check = store
        .item(member)?
        .ok_or("the member item is missing")?
        .1
        .len();
    if check != MEMBERSHIPS {
        return Err(format!("the item is in {check} collections, not {MEMBERSHIPS}").into());
    }
    let bare_count = || -> Result<Duration> {
        let t = Instant::now();
        let txn = floor.begin_read()?;
        let counts = txn.open_table(COUNTS)?;
        black_box(counts.get(50)?.map(|v| v.value()));
        Ok(t.elapsed())
    };
    let bare_item = || -> Result<Duration> {
        let t = Instant::now();
        let txn = floor.begin_read()?;
        let rows = txn.open_table(ROWS)?;
        let members = txn.open_table(MEMBERS)?;
        let mut acc = rows
            .get((1, (n / 2) as i64))?
            .map_or(0, |v| v.value().len());
        let ulid = member.ulid().0;
        for kv in members.range((ulid, 0)..=(ulid, u64::MAX))? {
            acc += kv?.0.value().1 as usize;
        }
        black_box(acc);
        Ok(t.elapsed())
    };
    let count_of = |c: &CollectionId| -> Result<Duration> {
        let t = Instant::now();
        let got = store.collection(c)?;
        let d = t.elapsed();
        black_box(got.ok_or("collection missing")?.item_count);
        Ok(d)
    };
    let item_of = || -> Result<Duration> {
        let t = Instant::now();
        let got = store.item(member)?;
        let d = t.elapsed();
        black_box(got.ok_or("item missing")?.1.len());
        Ok(d)
    };
    let mut out: [Vec<Duration>; 5] = Default::default();
    for round in 0..READ_RUNS {
        interleave(
            round,
            &mut [
                &mut || bare_count(),
                &mut || count_of(&big),
                &mut || count_of(&small),
                &mut || bare_item(),
                &mut || item_of(),
            ],
            &mut out,
        )?;
    }
    report.progress("3: counts and memberships timed");
    report.timing(
        "3a",
        "bare redb: read transaction, one `u64 → u64` get",
        &out[0],
        None,
    );
    for (k, id, what) in [
        (
            1,
            "3b",
            format!("`Store::collection` (item_count) of the {n}-entry collection"),
        ),
        (
            2,
            "3c",
            "`Store::collection` (item_count) of a 1-entry collection".to_owned(),
        ),
    ] {
        let s = report.timing(id, what, &out[k], Some("3a"));
        report.goal("O(1), median ≤ 50 µs", s.p50 <= us(50));
    }
    report.timing(
        "3d",
        format!("bare redb: read transaction, one get + a range of {MEMBERSHIPS} keys"),
        &out[3],
        None,
    );
    let s = report.timing(
        "3e",
        format!("`Store::item` of an item live in {MEMBERSHIPS} collections"),
        &out[4],
        Some("3d"),
    );
    report.goal("O(k), median ≤ 50 µs", s.p50 <= us(50));
    Ok(())
}
