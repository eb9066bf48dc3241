//! `order=desc` (issue 15, item 1): every paged listing read backwards is the forward
//! listing reversed, its cursors continue backwards, its first page is the last rows, and
//! it stays exact while another client keeps adding entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use sheaf_e2e::{Daemon, assert_error};

/// The ids of a listing's rows (`entries`, `items` or `ops`), every page followed.
fn ids(d: &Daemon, path: &str, rows: &str, key: &str) -> Vec<String> {
    d.pages(path)
        .iter()
        .flat_map(|p| p[rows].as_array().unwrap().clone())
        .map(|r| r[key].as_str().unwrap().to_owned())
        .collect()
}

fn entry_ids(d: &Daemon, query: &str) -> Vec<String> {
    ids(
        d,
        &format!("/v1/collections/o/items?{query}"),
        "entries",
        "item_id",
    )
}

#[test]
fn paging_backwards_equals_the_forward_listing_reversed() {
    let d = Daemon::start();
    d.create_collection("o");
    let items = d.register_links("f", 120);
    for chunk in items.chunks(40) {
        d.add("o", chunk);
    }
    for sort in ["position", "name", "added", "size"] {
        let forward = entry_ids(&d, &format!("sort={sort}&limit=1000"));
        assert_eq!(forward.len(), 120, "{sort}");
        let mut reversed = forward.clone();
        reversed.reverse();
        for limit in [7, 50, 1000] {
            let back = entry_ids(&d, &format!("sort={sort}&order=desc&limit={limit}"));
            assert_eq!(back, reversed, "sort={sort} limit={limit}");
        }
        // The last page is one request.
        let (s, first) = d.get(&format!(
            "/v1/collections/o/items?sort={sort}&order=desc&limit=5"
        ));
        assert_eq!(s, 200, "{first}");
        let got: Vec<&str> = first["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["item_id"].as_str().unwrap())
            .collect();
        assert_eq!(got, reversed[..5], "{sort}");
    }
    // /v1/items (by id and in a collection) and the op log the same way.
    let all = ids(&d, "/v1/items?limit=1000", "items", "id");
    let mut back = ids(&d, "/v1/items?order=desc&limit=9", "items", "id");
    back.reverse();
    assert_eq!(back, all);
    let all = ids(&d, "/v1/items?collection=o&limit=1000", "items", "id");
    let mut back = ids(
        &d,
        "/v1/items?collection=o&order=desc&limit=9",
        "items",
        "id",
    );
    back.reverse();
    assert_eq!(back, all);
    let newest_first = ids(&d, "/v1/ops?limit=1000", "ops", "id");
    assert_eq!(
        ids(&d, "/v1/ops?order=desc&limit=2", "ops", "id"),
        newest_first
    );
    let mut oldest_first = ids(&d, "/v1/ops?order=asc&limit=2", "ops", "id");
    oldest_first.reverse();
    assert_eq!(oldest_first, newest_first);
}

#[test]
fn a_bad_order_is_a_located_validation_error_and_cursors_keep_their_direction() {
    let d = Daemon::start();
    d.create_collection("o");
    let items = d.register_links("f", 3);
    d.add("o", &items);
    for path in ["/v1/collections/o/items", "/v1/items", "/v1/ops"] {
        let details = assert_error(
            &d.get(&format!("{path}?order=sideways")),
            400,
            "VALIDATION_ERROR",
        );
        assert_eq!(
            details[0]["loc"],
            serde_json::json!(["query", "order"]),
            "{path}"
        );
    }
    let (_, page) = d.get("/v1/collections/o/items?order=desc&limit=1");
    let cursor = page["next_cursor"].as_str().unwrap();
    let details = assert_error(
        &d.get(&format!("/v1/collections/o/items?limit=1&cursor={cursor}")),
        400,
        "VALIDATION_ERROR",
    );
    assert_eq!(details[0]["loc"], serde_json::json!(["query", "cursor"]));
}

/// What is asserted: let E be the collection's entries (in the listing's sort) when the
/// backward listing starts, read forward just before. While another thread keeps adding
/// new items to the collection (nothing of E is removed, renamed or moved), the backward
/// listing L (every page, `order=desc`, following `next_cursor`) holds no item twice,
/// holds every item of E, holds E's items in exactly the reverse of their forward order,
/// and holds nothing but E's items and the writer's. Items added after the listing started
/// may or may not appear.
#[test]
fn paging_backwards_while_entries_are_added_skips_and_repeats_nothing_that_was_there() {
    let d = Daemon::start();
    d.create_collection("o");
    let before = d.register_links("m", 400);
    for chunk in before.chunks(100) {
        d.add("o", chunk);
    }
    // The writer's files are named to sort between the existing ones by name
    // ("m12-new.txt" just before "m12.txt").
    let names: Vec<String> = (0..400).map(|i| format!("m{i}-new.txt")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"new\n"[..])).collect();
    let fresh = d.register_paths(&d.files(&files));
    let known: HashSet<&String> = before.iter().chain(&fresh).collect();

    // Each round's writer adds its own half of the new items.
    for (sort, fresh) in ["position", "name"].into_iter().zip(fresh.chunks(200)) {
        let e = entry_ids(&d, &format!("sort={sort}&limit=1000"));
        let stop = AtomicBool::new(false);
        let written = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut added = 0;
                for chunk in fresh.chunks(4) {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    d.add("o", chunk);
                    added += chunk.len();
                }
                added
            });
            let back = entry_ids(&d, &format!("sort={sort}&order=desc&limit=13"));
            stop.store(true, Ordering::SeqCst);
            let added = writer.join().unwrap();
            (back, added)
        });
        let (back, added) = written;
        assert!(added > 0, "the writer added nothing");
        let mut seen = HashSet::new();
        for id in &back {
            assert!(seen.insert(id), "{sort}: {id} listed twice");
            assert!(known.contains(id), "{sort}: {id} is nobody's");
        }
        let of_e: HashSet<&String> = e.iter().collect();
        let mut kept: Vec<&String> = back.iter().filter(|id| of_e.contains(id)).collect();
        kept.reverse();
        assert_eq!(
            kept,
            e.iter().collect::<Vec<_>>(),
            "{sort}: E skipped or out of order"
        );
    }
}
