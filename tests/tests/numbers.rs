//! The `number`s of collections and items (SPEC §1) through the socket: shown by every
//! read of the native resources, given in creation order, kept across a restart, and
//! never given again after a purge.

use serde_json::json;
use sheaf_e2e::Daemon;

/// The `number` of the resource at `path` (`/v1/collections/{cid}`, `/v1/items/{id}`).
fn number(d: &Daemon, path: &str) -> u64 {
    let (status, resource) = d.get(path);
    assert_eq!(status, 200, "{resource}");
    resource["number"]
        .as_u64()
        .unwrap_or_else(|| panic!("no number: {resource}"))
}

fn collection_number(d: &Daemon, cid: &str) -> u64 {
    number(d, &format!("/v1/collections/{cid}"))
}

fn item_number(d: &Daemon, id: &str) -> u64 {
    number(d, &format!("/v1/items/{id}"))
}

#[test]
fn collections_and_items_show_their_numbers_which_survive_a_restart_and_are_never_reused() {
    let mut d = Daemon::start();

    // Registering answers the items with their numbers, from 1 in request order.
    let paths = d.files(&[("a.txt", b"a"), ("b.txt", b"b")]);
    let (status, registered) = d.send("POST", "/v1/items", &json!({ "paths": paths }));
    assert_eq!(status, 200, "{registered}");
    let numbers: Vec<u64> = registered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2], "{registered}");
    let ids: Vec<String> = registered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();

    // Collections: created by the API, then by a batch that creates its target.
    assert_eq!(d.create_collection("papers")["number"], 1);
    let (status, added) = d.send(
        "POST",
        "/v1/collections/inbox/items",
        &json!({ "items": [ids[0]], "create": true }),
    );
    assert_eq!(status, 200, "{added}");
    assert_eq!(collection_number(&d, "papers"), 1);
    assert_eq!(collection_number(&d, "inbox"), 2);
    assert_eq!(collection_number(&d, "default"), 0);
    assert_eq!(item_number(&d, &ids[0]), 1);
    assert_eq!(item_number(&d, &ids[1]), 2);
    let (_, listed) = d.get("/v1/collections");
    let listed: Vec<(&str, u64)> = listed["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["number"].as_u64().unwrap()))
        .collect();
    assert_eq!(listed, [("default", 0), ("inbox", 2), ("papers", 1)]);

    // A purged collection's number stays given, across a restart too.
    assert_eq!(d.call("DELETE", "/v1/collections/inbox").0, 200);
    assert_eq!(d.call("DELETE", "/v1/collections/inbox?purge=true").0, 200);
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    d.spawn();
    assert_eq!(collection_number(&d, "papers"), 1);
    assert_eq!(item_number(&d, &ids[1]), 2);
    assert_eq!(d.create_collection("inbox")["number"], 3);
    let more = d.register(&[("c.txt", b"c")]);
    assert_eq!(item_number(&d, &more[0]), 3);
}
