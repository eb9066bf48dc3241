//! Smart collections end to end (SPEC §7.2): the real sheafd over its socket, a real
//! watched folder, inotify. The collection follows live folder changes and other
//! collections' membership, its count stays exact, its events come in order with
//! `source: "query"`; it is a source for links. (Hand changes to it are refused with
//! `COLLECTION_IS_SMART`: `errors.rs`.)

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use sheaf_e2e::folders::{WAIT, add_watch, folder, text, write};
use sheaf_e2e::{Daemon, assert_error, wait_until};

/// The paths of the collection's live entries.
fn paths(d: &Daemon, collection: &str) -> BTreeSet<String> {
    d.all_entries(collection, 1000)
        .iter()
        .map(|e| e["item"]["path"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn collection(d: &Daemon, id: &str) -> Value {
    let (s, c) = d.get(&format!("/v1/collections/{id}"));
    assert_eq!(s, 200, "{c}");
    c
}

/// Waits until the collection's live entries are exactly `want` and its `item_count`
/// agrees.
fn settles_to(d: &Daemon, collection_id: &str, want: &[&Path]) {
    let want: BTreeSet<String> = want.iter().map(|p| text(p).to_owned()).collect();
    let ok = wait_until(WAIT, || {
        paths(d, collection_id) == want && collection(d, collection_id)["item_count"] == want.len()
    });
    assert!(
        ok,
        "{collection_id} holds {:?}, count {}; want {want:?}",
        paths(d, collection_id),
        collection(d, collection_id)["item_count"]
    );
}

#[test]
fn a_smart_collection_follows_live_folder_changes_with_exact_counts_and_ordered_events() {
    let d = Daemon::start();
    let root = folder(&d, "inbox");
    write(&root.join("old.pdf"), b"%PDF-1.4 old");
    write(&root.join("notes.txt"), b"plain text");
    add_watch(&d, &root, "inbox");
    assert!(wait_until(WAIT, || collection(&d, "inbox")["item_count"] == 2));

    // Created with a query: filled in the background from the files already there.
    let glob = format!("{}/**/*.pdf", text(&root));
    let (s, c) = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "pdfs", "query": {"path": [glob], "kind": "document"}}),
    );
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["query"]["kind"], json!(["document"]), "{c}");
    settles_to(&d, "pdfs", &[&root.join("old.pdf")]);
    assert_eq!(collection(&d, "pdfs")["filling"], false);

    let since = d.last_seq();
    let events = d.events(&format!("?since={since}"));
    // Created: in.
    write(&root.join("new.pdf"), b"%PDF-1.4 new");
    settles_to(&d, "pdfs", &[&root.join("old.pdf"), &root.join("new.pdf")]);
    // Renamed out of the glob: out, same item.
    std::fs::rename(root.join("new.pdf"), root.join("new.txt")).unwrap();
    settles_to(&d, "pdfs", &[&root.join("old.pdf")]);
    // Deleted: out. Back: in again, the same entry revived.
    let (_, before) = d.get(&format!(
        "/v1/items?path_prefix={}",
        text(&root.join("old.pdf"))
    ));
    let old_id = before["items"][0]["id"].as_str().unwrap().to_owned();
    std::fs::remove_file(root.join("old.pdf")).unwrap();
    settles_to(&d, "pdfs", &[]);
    write(&root.join("old.pdf"), b"%PDF-1.4 old");
    settles_to(&d, "pdfs", &[&root.join("old.pdf")]);
    let (_, entry) = d.get(&format!("/v1/collections/pdfs/items/{old_id}"));
    assert_eq!(entry["source"], "query", "{entry}");

    // The feed told it in order: added, removed (rename), removed (delete), added.
    let last = d.last_seq();
    let smart: Vec<(String, String)> = events
        .until_seq(last, WAIT)
        .into_iter()
        .filter(|e| e["collection_id"] == "pdfs")
        .map(|e| {
            assert_eq!(e["source"], "query", "{e}");
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["item_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let kinds: Vec<&str> = smart.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "entry.added",
            "entry.removed",
            "entry.removed",
            "entry.added"
        ]
    );
    assert_eq!(smart[2].1, old_id);
    assert_eq!(smart[3].1, old_id);
}

#[test]
fn a_smart_collection_follows_in_and_not_in_and_is_a_source_for_links() {
    let d = Daemon::start();
    let ids = d.register(&[("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")]);
    d.create_collection("inbox");
    d.create_collection("done");
    let (s, c) = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "todo", "query": {"in": ["inbox"], "not_in": ["done"]}}),
    );
    assert_eq!(s, 201, "{c}");
    d.add("inbox", &ids);
    assert!(wait_until(WAIT, || collection(&d, "todo")["item_count"] == 3));
    d.add("done", &ids[..1]);
    let todo: BTreeSet<String> = d
        .all_entries("todo", 1000)
        .iter()
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(todo, ids[1..].iter().cloned().collect());
    assert_eq!(collection(&d, "todo")["item_count"], 2);

    // It can be the source of a link by selection.
    let (s, moved) = d.send(
        "POST",
        "/v1/collections/archive/items",
        &json!({"select": {"collection": "todo"}, "create": true}),
    );
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["summary"]["added"], 2);

    // Invalid queries are located; a query on a missing collection is not found; a cycle
    // is a validation error.
    let r = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "bad", "query": {"size": {"min": -1}}}),
    );
    let err = assert_error(&r, 400, "VALIDATION_ERROR");
    assert_eq!(
        err[0]["loc"],
        json!(["body", "query", "size", "min"]),
        "{err}"
    );
    let r = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "bad", "query": {"in": ["nowhere"]}}),
    );
    assert_error(&r, 404, "COLLECTION_NOT_FOUND");
    let r = d.send(
        "PATCH",
        "/v1/collections/todo",
        &json!({"query": {"in": ["todo"]}}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR");
}
