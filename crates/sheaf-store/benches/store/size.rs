//! Benchmark 4: the file size of 1M entries in 10k collections, against 1M bare
//! `(u64, u128)` keys, and where the store's bytes are, table by table.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle,
};
use sheaf_store::{Options, Store};

use sheaf_bench::seed::{self, BATCH, batch_add, cid, link, register};
use sheaf_bench::{Report, Result, Size, mib, secs, timed};

use crate::{Scale, file_len, floor_db};

/// Entries per collection.
const PER_COLLECTION: usize = 100;

const ENTRIES: TableDefinition<(u64, u128), u64> = TableDefinition::new("entries");

pub(crate) fn bench_size(dir: &Path, scale: Scale, report: &mut Report) -> Result<()> {
    let path = dir.join("size.redb");
    let n = scale.entries;
    let collections = n / PER_COLLECTION;
    let mut keys: Vec<(u64, u128)> = Vec::with_capacity(n);
    {
        let store = seed::open(&path)?;
        let (mut reg, mut add) = (Duration::ZERO, Duration::ZERO);
        for chunk in 0..n / BATCH {
            let (d, ids) = timed(|| register(&store, "size", chunk * BATCH, BATCH))?;
            reg += d;
            for (k, group) in ids.chunks(PER_COLLECTION).enumerate() {
                let c = chunk * (BATCH / PER_COLLECTION) + k;
                let req = link(&cid(&format!("c{c:05}"))?, group, true);
                add += timed(|| batch_add(&store, &req))?.0;
                keys.extend(group.iter().map(|id| (c as u64 + 1, id.ulid().0)));
            }
            if chunk % 100 == 99 {
                report.progress(&format!("4: built {} of {n} entries", (chunk + 1) * BATCH));
            }
        }
        report.setup(
            format!("4: register {n} items, 1000 per commit (non-durable)"),
            reg,
        );
        report.setup(
            format!(
                "4: batch add them into {collections} new collections, \
                 {PER_COLLECTION} per commit (non-durable)"
            ),
            add,
        );
    }
    // A final durable commit through the store's own configuration.
    {
        let store = Store::open(&path, Options::default())?;
        register(&store, "final", 0, 1)?;
    }
    let store_bytes = file_len(&path)?;

    let floor_path = dir.join("size-floor.redb");
    let took = timed(|| {
        let floor = floor_db(&floor_path)?;
        let groups: Vec<_> = keys.chunks(PER_COLLECTION).collect();
        for (i, group) in groups.iter().enumerate() {
            let mut txn = floor.begin_write()?;
            txn.set_durability(if i + 1 == groups.len() {
                Durability::Immediate
            } else {
                Durability::None
            })?;
            {
                let mut t = txn.open_table(ENTRIES)?;
                for (j, key) in group.iter().enumerate() {
                    t.insert(*key, j as u64)?;
                }
            }
            txn.commit()?;
        }
        Ok(())
    })?
    .0;
    report.setup(
        format!("4: floor, {n} keys in {collections} commits (bare redb)"),
        took,
    );
    let floor_bytes = file_len(&floor_path)?;
    report.size(Size {
        what: "bare redb: `(u64, u128) → u64`, one commit per 100 keys".into(),
        count: n as u64,
        unit: "keys",
        bytes: floor_bytes,
        floor: None,
    });
    report.size(Size {
        what: format!(
            "store: {n} entries in {collections} collections (+ {n} items, feed, op log)"
        ),
        count: n as u64,
        unit: "entries",
        bytes: store_bytes,
        floor: Some(floor_bytes),
    });

    // Where the bytes are: per-table stats of the store's file, read with redb directly.
    let mut db = Database::open(&path)?;
    let mut md = String::from(
        "### Where the store's bytes are (benchmark 4, per table)\n\n\
         | table | rows | stored | metadata | fragmented | pages (× 4 KiB) | bytes per entry |\n\
         |---|--:|--:|--:|--:|--:|--:|\n",
    );
    let (page, allocated) = {
        let txn = db.begin_write()?;
        let s = txn.stats()?;
        txn.abort()?;
        (s.page_size() as u64, s.allocated_pages())
    };
    {
        let txn = db.begin_read()?;
        let mut rows = Vec::new();
        for handle in txn.list_tables()? {
            let t = txn.open_untyped_table(handle)?;
            let s = t.stats()?;
            rows.push((t.name().to_owned(), t.len()?, s));
        }
        rows.sort_by_key(|(_, _, s)| std::cmp::Reverse(s.leaf_pages() + s.branch_pages()));
        let mut groups = [
            (
                "entries: `entries`, `live_pos`, `dead_pos`, `members`, `unique`",
                0,
            ),
            ("items: `items`, `paths`, `unfiled`", 0),
            ("history: `feed`, `ops`", 0),
            ("collections and meta", 0),
        ];
        for (name, len, s) in rows {
            let pages = s.leaf_pages() + s.branch_pages();
            let group = match name.as_str() {
                "entries" | "live_pos" | "dead_pos" | "members" | "unique" => 0,
                "items" | "paths" | "unfiled" => 1,
                "feed" | "ops" => 2,
                _ => 3,
            };
            groups[group].1 += pages * page;
            let _ = writeln!(
                md,
                "| `{name}` | {len} | {} | {} | {} | {pages} ({}) | {:.1} |",
                mib(s.stored_bytes()),
                mib(s.metadata_bytes()),
                mib(s.fragmented_bytes()),
                mib(pages * page),
                (pages * page) as f64 / n as f64,
            );
        }
        let _ = writeln!(
            md,
            "\n| tables | bytes per entry | × floor's bytes per key |\n|---|--:|--:|"
        );
        for (what, bytes) in groups {
            let _ = writeln!(
                md,
                "| {what} | {:.1} | {:.2}× |",
                bytes as f64 / n as f64,
                bytes as f64 / floor_bytes as f64,
            );
        }
    }
    let _ = writeln!(
        md,
        "\nFile {} · allocated pages {} · free inside the file {}.",
        mib(store_bytes),
        mib(allocated * page),
        mib(store_bytes.saturating_sub(allocated * page)),
    );
    let (took, _) = timed(|| Ok(db.compact()?))?;
    drop(db);
    let compacted = file_len(&path)?;
    let _ = writeln!(
        md,
        "After `Database::compact` ({}): {} ({:.1} bytes per entry).",
        secs(took),
        mib(compacted),
        compacted as f64 / n as f64
    );
    report.breakdown(md);
    Ok(())
}
