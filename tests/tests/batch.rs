//! The batch add seen from outside (SPEC §2.1): a refused batch changes nothing visible,
//! re-adds are idempotent and counted, `select` links and moves everything matching (by
//! text and kind in a collection, or by a query of SPEC §7.1 over every item),
//! moves take items out of their source and undo puts them back, and a 10 000-entry
//! collection pages without duplicates or gaps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, assert_envelope, request_with};

const PDF: &[u8] = b"%PDF-1.4\n% a small pdf\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// Everything a client can see of the store, for before/after comparisons.
fn visible(d: &Daemon) -> Value {
    let (_, collections) = d.get("/v1/collections");
    let (_, trash) = d.get("/v1/collections?trashed=true");
    let (_, inbox) = d.get("/v1/collections/inbox/items?deleted=true&limit=1000");
    let (_, default) = d.get("/v1/collections/default/items?limit=1000");
    let (_, ops) = d.get("/v1/ops?limit=1000");
    let (_, items) = d.get("/v1/items?limit=1000");
    json!({
        "collections": collections,
        "trash": trash,
        "inbox": inbox,
        "default": default,
        "ops": ops,
        "items": items,
        "last_seq": d.last_seq(),
    })
}

fn summary(b: &Value) -> Value {
    b["summary"].clone()
}

fn ids_of(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_batch_with_one_missing_item_in_the_middle_of_fifty_changes_nothing_visible() {
    // The background hasher's `item.updated` events would move the feed meanwhile.
    let d = Daemon::start_with_config("content_hashes = false\n");
    let ids = d.register_many("f", 60);
    d.create_collection("inbox");
    d.create_collection("other");
    d.add("inbox", &ids[..10]);
    let before = visible(&d);

    let ghost = "txt_01ARZ3NDEKTSV4RRFFQ69G5FAV".to_owned();
    let mut batch: Vec<String> = ids[10..60].to_vec();
    batch[25] = ghost.clone();
    assert_eq!(batch.len(), 50);

    // A link into inbox.
    let r = d.json(
        "POST",
        "/v1/collections/inbox/items",
        &json!({ "items": batch }),
    );
    let details = assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    assert_eq!(details, json!({ "missing": [ghost] }));
    // A link that would create its collection.
    let r = d.json(
        "POST",
        "/v1/collections/fresh/items",
        &json!({ "items": batch, "create": true }),
    );
    assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    // A move out of inbox, with a reference that is in the source next to the missing one.
    let mut moving: Vec<String> = ids[..10].to_vec();
    moving.insert(5, ghost.clone());
    let r = d.json(
        "POST",
        "/v1/collections/other/items",
        &json!({ "items": moving, "mode": "move", "from": "inbox" }),
    );
    assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    // A remove of nine live entries and one the collection never had.
    let mut removing: Vec<String> = ids[..9].to_vec();
    removing.insert(4, ids[59].clone());
    let r = d.json(
        "POST",
        "/v1/collections/inbox/items/remove",
        &json!({ "items": removing }),
    );
    assert_envelope(&r, 404, "ENTRY_NOT_FOUND");

    let after = visible(&d);
    assert_eq!(before, after, "a refused batch leaves no trace");
    assert_eq!(after["inbox"]["entries"].as_array().unwrap().len(), 10);
    assert_eq!(d.get("/v1/collections/fresh").0, 404, "not created either");

    // The same batch without the missing item goes through whole.
    batch.remove(25);
    let ok = d.add("inbox", &batch);
    assert_eq!(summary(&ok)["added"], 49);
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 59);
}

#[test]
fn re_adding_items_is_idempotent_and_counted_as_already_in_collection() {
    let d = Daemon::start();
    let paths = d.files(&[("a.pdf", PDF), ("b.png", PNG), ("c.txt", b"c\n")]);
    let ids = d.register_paths(&paths);
    d.create_collection("inbox");

    let first = d.add("inbox", &ids[..2]);
    assert_eq!(
        summary(&first),
        json!({"total": 2, "succeeded": 2, "failed": 0, "added": 2, "moved": 0, "already_in_collection": 0})
    );
    let entry_before = d.get(&format!("/v1/collections/inbox/items/{}", ids[0])).1;
    let seq = d.last_seq();

    // The same two again, plus one new: only the new one is added.
    let again = d.add("inbox", &ids);
    assert_eq!(
        summary(&again),
        json!({"total": 3, "succeeded": 3, "failed": 0, "added": 1, "moved": 0, "already_in_collection": 2})
    );
    assert_eq!(
        again["items_by_type"],
        json!({"document": 1, "image": 1, "text": 1})
    );
    assert!(d.last_seq() > seq);
    let entry_after = d.get(&format!("/v1/collections/inbox/items/{}", ids[0])).1;
    assert_eq!(
        entry_before, entry_after,
        "an entry already there is not touched"
    );

    // Duplicates in one request count once; a path names the same item as its id.
    let dup = d.json(
        "POST",
        "/v1/collections/inbox/items",
        &json!({"items": [ids[0], ids[0], paths[0], ids[1]]}),
    );
    assert_eq!(dup.status, 200, "{}", dup.body);
    assert_eq!(
        summary(&dup.body),
        json!({"total": 2, "succeeded": 2, "failed": 0, "added": 0, "moved": 0, "already_in_collection": 2})
    );
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 3);

    // A removed entry is revived by a re-add: same entry id, placed last.
    let (s, _) = d.send(
        "POST",
        "/v1/collections/inbox/items/remove",
        &json!({"items": [ids[0]]}),
    );
    assert_eq!(s, 200);
    let removed = d.get(&format!("/v1/collections/inbox/items/{}", ids[0])).1;
    assert!(removed["deleted_at"].is_string(), "{removed}");
    let revived = d.add("inbox", &ids[..1]);
    assert_eq!(summary(&revived)["added"], 1, "a revival counts as added");
    let entry = d.get(&format!("/v1/collections/inbox/items/{}", ids[0])).1;
    assert_eq!(entry["id"], entry_before["id"], "same entry");
    assert_eq!(entry["created_at"], entry_before["created_at"]);
    assert!(entry["deleted_at"].is_null());
    let order = ids_of(&d.all_entries("inbox", 100));
    assert_eq!(order.last(), Some(&ids[0]), "revived entries go last");
    assert_eq!(order.len(), 3);
}

#[test]
fn select_links_every_matching_entry_and_moves_them_out_of_the_source() {
    let d = Daemon::start();
    let ids = d.register(&[
        ("report.pdf", PDF),
        ("cover.png", PNG),
        ("photo.png", PNG),
        ("notes.txt", b"notes\n"),
        ("report-notes.txt", b"more\n"),
    ]);
    let (pdf, cover, photo, notes, report_notes) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
    d.create_collection("inbox");
    d.create_collection("pictures");
    d.add("inbox", &ids);

    // Link every image: inbox keeps them.
    let r = d.json(
        "POST",
        "/v1/collections/pictures/items",
        &json!({"select": {"collection": "inbox", "kind": "image"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        summary(&r.body),
        json!({"total": 2, "succeeded": 2, "failed": 0, "added": 2, "moved": 0, "already_in_collection": 0})
    );
    assert_eq!(r.body["items_by_type"], json!({"image": 2}));
    let mut pictures = ids_of(&d.all_entries("pictures", 100));
    pictures.sort();
    let mut expected = vec![cover.clone(), photo.clone()];
    expected.sort();
    assert_eq!(pictures, expected);
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 5);

    // Move everything whose name says "report" to a new collection: out of inbox.
    let r = d.json(
        "POST",
        "/v1/collections/reports/items",
        &json!({"select": {"collection": "inbox", "q": "REPORT"}, "mode": "move", "create": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.body)["total"], 2);
    assert_eq!(summary(&r.body)["added"], 2);
    assert_eq!(summary(&r.body)["moved"], 2);
    let mut reports = ids_of(&d.all_entries("reports", 100));
    reports.sort();
    let mut expected = vec![pdf.clone(), report_notes.clone()];
    expected.sort();
    assert_eq!(reports, expected);
    let inbox = ids_of(&d.all_entries("inbox", 100));
    assert_eq!(inbox, vec![cover.clone(), photo.clone(), notes.clone()]);

    // A select that matches nothing succeeds with nothing.
    let r = d.json(
        "POST",
        "/v1/collections/pictures/items",
        &json!({"select": {"collection": "inbox", "kind": "video"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.body)["total"], 0);

    // Moving a selection into `default` takes it out of its collection.
    let r = d.json(
        "POST",
        "/v1/collections/default/items",
        &json!({"select": {"collection": "inbox", "kind": "text"}, "mode": "move"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.body)["moved"], 1);
    let unfiled = ids_of(&d.all_entries("default", 100));
    assert_eq!(unfiled, vec![notes.clone()]);
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 2);
}

#[test]
fn select_by_query_takes_every_matching_item_or_narrows_a_collection() {
    let mut daemon = Daemon::unstarted("max_select = 2\ncontent_hashes = false\n");
    let home = daemon.dir.path().join("home");
    daemon.env.push(("HOME".into(), home.clone()));
    daemon.spawn();
    let d = daemon;
    let mut paths = Vec::new();
    for (rel, content) in [
        ("Papers/a.pdf", PDF),
        ("elsewhere/c.pdf", PDF),
        ("Papers/notes.txt", b"notes\n".as_slice()),
        ("Papers/sub/b.pdf", PDF),
        ("Papers/cover.png", PNG),
    ] {
        let path = home.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        paths.push(path.to_str().unwrap().to_owned());
    }
    let ids = d.register_paths(&paths);
    let (paper_a, other, notes, paper_b) = (&ids[0], &ids[1], &ids[2], &ids[3]);

    // "Link every PDF under ~/Papers into papers": no collection, every item, id order;
    // `~` is the daemon user's home.
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"query": {"path": "~/Papers/**", "kind": "document"}}, "create": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        summary(&r.body),
        json!({"total": 2, "succeeded": 2, "failed": 0, "added": 2, "moved": 0, "already_in_collection": 0})
    );
    assert_eq!(
        ids_of(&d.all_entries("papers", 100)),
        [paper_a.as_str(), paper_b.as_str()]
    );

    // With a collection the query narrows its entries (and `q` still applies).
    let r = d.json(
        "POST",
        "/v1/collections/bees/items",
        &json!({"select": {"collection": "papers", "q": "sub", "query": {"name": "B.PDF"}}, "create": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids_of(&d.all_entries("bees", 100)), [paper_b.as_str()]);

    // Moving by query takes the items out of every other collection.
    let r = d.json(
        "POST",
        "/v1/collections/moved/items",
        &json!({"select": {"query": {"name": "b.pdf"}}, "mode": "move", "create": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.body)["moved"], 1);
    assert_eq!(ids_of(&d.all_entries("moved", 100)), [paper_b.as_str()]);
    assert_eq!(ids_of(&d.all_entries("papers", 100)), [paper_a.as_str()]);
    assert!(d.all_entries("bees", 100).is_empty());

    // `in`/`not_in` read live membership: the text is in no collection yet.
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"query": {"in": "default", "kind": "text"}}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ids_of(&d.all_entries("papers", 100)),
        [paper_a.as_str(), notes.as_str()]
    );

    // max_select bounds what a query may take: three PDFs are one too many.
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"query": {"kind": "document"}}}),
    );
    assert_envelope(&r, 400, "BATCH_SIZE_EXCEEDED");
    assert!(d.get(&format!("/v1/items/{other}")).1["collections"] == json!([]));

    // An invalid query is located under body.select.query; a select with neither a
    // collection nor a query is refused; `in` naming no collection is not found.
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"query": {"size": {"min": "big"}}}}),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(
        details[0]["loc"],
        json!(["body", "select", "query", "size", "min"])
    );
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"q": "a"}}),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details[0]["loc"], json!(["body", "select"]));
    let r = d.json(
        "POST",
        "/v1/collections/papers/items",
        &json!({"select": {"query": {"in": "nowhere"}}}),
    );
    assert_envelope(&r, 404, "COLLECTION_NOT_FOUND");
}

#[test]
fn a_batch_move_takes_items_out_of_the_source_and_undo_puts_them_back() {
    let d = Daemon::start();
    let ids = d.register_many("f", 6);
    d.create_collection("inbox");
    d.create_collection("done");
    d.add("inbox", &ids);
    d.add("done", &ids[..1]);
    let before = d.all_entries("inbox", 100);

    let r = d.json(
        "POST",
        "/v1/collections/done/items",
        &json!({"items": &ids[..3], "mode": "move", "from": "inbox"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        summary(&r.body),
        json!({"total": 3, "succeeded": 3, "failed": 0, "added": 2, "moved": 3, "already_in_collection": 1})
    );
    assert_eq!(ids_of(&d.all_entries("inbox", 100)), ids[3..].to_vec());
    assert_eq!(d.get("/v1/collections/done").1["item_count"], 3);
    let item = d.get(&format!("/v1/items/{}", ids[1])).1;
    assert_eq!(item["collections"], json!(["done"]));

    let op = r.body["op_id"].as_str().unwrap();
    let (s, undo) = d.call("POST", &format!("/v1/ops/{op}/undo"));
    assert_eq!(s, 200, "{undo}");
    assert_eq!(d.all_entries("inbox", 100), before, "exactly as before");
    assert_eq!(d.get("/v1/collections/done").1["item_count"], 1);
    let (_, ops) = d.get("/v1/ops");
    assert_eq!(ops["ops"][0]["kind"], "undo");
    assert_eq!(ops["ops"][0]["undo_of"], op);
    assert_eq!(ops["ops"][1]["undone_by"], ops["ops"][0]["id"]);
}

/// Pages through a collection and checks the pages against the expected order.
fn assert_pages(d: &Daemon, collection: &str, limit: usize, expected: &[String]) {
    let client = d.client();
    let mut seen = HashSet::new();
    let mut order = Vec::with_capacity(expected.len());
    let mut last_sort = i64::MIN;
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/v1/collections/{collection}/items?limit={limit}");
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(c);
        }
        let r = request_with(&client, &d.url(&path), "GET", None, None);
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.body;
        pages += 1;
        let entries = page["entries"].as_array().unwrap();
        let next = page["next_cursor"].as_str().map(str::to_owned);
        if next.is_some() {
            assert_eq!(entries.len(), limit, "only the last page is short");
        }
        for e in entries {
            let id = e["item_id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "{id} twice (limit {limit})");
            let sort = e["sort_order"].as_i64().unwrap();
            assert!(sort > last_sort, "position order (limit {limit})");
            last_sort = sort;
            order.push(id);
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(order.len(), expected.len(), "no gaps (limit {limit})");
    assert_eq!(order, expected, "every entry, in order (limit {limit})");
    assert!(pages >= expected.len().div_ceil(limit));
}

#[test]
fn paging_through_ten_thousand_entries_has_no_duplicates_no_gaps_and_ends_with_null() {
    let d = Daemon::start();
    let ids = d.register_links("p", 10_000);
    d.create_collection("big");
    for chunk in ids.chunks(1000) {
        assert_eq!(summary(&d.add("big", chunk))["added"], 1000);
    }
    assert_eq!(d.get("/v1/collections/big").1["item_count"], 10_000);
    assert_pages(&d, "big", 1000, &ids);
    assert_pages(&d, "big", 7, &ids);
}

#[test]
fn a_bad_cursor_or_limit_is_a_400_validation_error() {
    let d = Daemon::start();
    let ids = d.register_many("p", 5);
    d.create_collection("c");
    d.add("c", &ids);
    let (_, page) = d.get("/v1/collections/c/items?limit=2");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let mut bad = cursor.clone();
    bad.push_str("zz");
    for c in ["garbage", "", &bad, "%FF%FE"] {
        let r = d.request(
            "GET",
            &format!("/v1/collections/c/items?limit=2&cursor={c}"),
            None,
            None,
        );
        if c.is_empty() {
            // An empty cursor is the first page.
            assert!(r.status == 200 || r.status == 400, "{}", r.body);
            continue;
        }
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(
            details[0]["loc"],
            json!(["query", "cursor"]),
            "{c}: {details}"
        );
    }
    for limit in ["0", "1001", "-1"] {
        let r = d.request(
            "GET",
            &format!("/v1/collections/c/items?limit={limit}"),
            None,
            None,
        );
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details[0]["loc"], json!(["query", "limit"]), "{limit}");
    }
    let r = d.request("GET", "/v1/items?cursor=garbage", None, None);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    let r = d.request("GET", "/v1/ops?cursor=garbage", None, None);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    // The good cursor still works.
    let (s, next) = d.get(&format!("/v1/collections/c/items?limit=2&cursor={cursor}"));
    assert_eq!(s, 200);
    assert_eq!(
        ids_of(next["entries"].as_array().unwrap()),
        ids[2..4].to_vec()
    );
}

#[test]
fn entries_can_be_listed_sorted_by_name_added_and_size() {
    let d = Daemon::start();
    let ids = d.register(&[("b.txt", b"bb"), ("c.txt", b"c"), ("a.txt", b"aaa")]);
    d.create_collection("c");
    for id in &ids {
        d.add("c", std::slice::from_ref(id));
    }
    let names = |sort: &str| -> Vec<String> {
        let (s, page) = d.get(&format!("/v1/collections/c/items?sort={sort}"));
        assert_eq!(s, 200, "sort={sort}: {page}");
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["display_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("name"), ["a.txt", "b.txt", "c.txt"]);
    assert_eq!(names("added"), ["b.txt", "c.txt", "a.txt"]);
    assert_eq!(names("size"), ["c.txt", "b.txt", "a.txt"]);
}

#[test]
fn concurrent_batch_adds_from_several_clients_all_land_whole() {
    let d = Daemon::start();
    let ids = d.register_links("c", 400);
    d.create_collection("shared");
    let seq = d.last_seq();
    // Four clients add disjoint halves and all four also add one common batch.
    let common: Vec<String> = ids[..20].to_vec();
    let answers: Vec<Vec<Value>> = std::thread::scope(|s| {
        let workers: Vec<_> = ids[20..]
            .chunks(95)
            .map(|mine| {
                let (d, common) = (&d, &common);
                s.spawn(move || {
                    let mut answers = Vec::new();
                    for batch in mine.chunks(19) {
                        answers.push(d.add("shared", batch));
                    }
                    answers.push(d.add("shared", common));
                    answers
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(answers.len(), 4);
    let added: u64 = answers
        .iter()
        .flatten()
        .map(|a| a["summary"]["added"].as_u64().unwrap())
        .sum();
    let already: u64 = answers
        .iter()
        .flatten()
        .map(|a| a["summary"]["already_in_collection"].as_u64().unwrap())
        .sum();
    assert_eq!(added, 400, "every item added exactly once");
    assert_eq!(
        already,
        3 * 20,
        "the common batch counted as already there three times"
    );
    let entries = d.all_entries("shared", 1000);
    assert_eq!(entries.len(), 400);
    let sorts: HashSet<i64> = entries
        .iter()
        .map(|e| e["sort_order"].as_i64().unwrap())
        .collect();
    assert_eq!(sorts.len(), 400, "no two entries share a position");
    let uids: HashSet<&str> = entries
        .iter()
        .map(|e| e["unique_id"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), 400, "unique ids stay unique");
    // One entry.added per entry; besides them only the background hasher's item.updated
    // (it records each registered file's content hash once the daemon is quiet).
    let events = d.events(&format!("?since={seq}"));
    let got = events.until_seq(d.last_seq(), std::time::Duration::from_secs(10));
    let (added, other): (Vec<&Value>, Vec<&Value>) =
        got.iter().partition(|e| e["kind"] == "entry.added");
    assert_eq!(added.len(), 400);
    assert!(
        other.iter().all(|e| e["kind"] == "item.updated"),
        "{other:?}"
    );
}
