//! The platforms' requests (SPEC §8) are translations, not a second store: the same
//! operation through a platform's route and through `/v1` leaves the same listings and the
//! same feed events, and a platform's add is undone through `/v1/ops/{op}/undo`.
//!
//! Two daemons get the same set-up and then the same operation, one through the platform,
//! one through `/v1`. Ids and times differ between daemons, so before comparing, every id
//! is replaced by its order of first appearance and every time by a marker; what remains
//! must be byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use sheaf_e2e::Daemon;
use sheaf_e2e::platforms::seed_papers;

/// A daemon with the files of [`seed_papers`], and their ids.
fn set_up() -> Seeded {
    let d = Daemon::start();
    let ids = seed_papers(&d);
    (d, ids)
}

/// A daemon set up by [`set_up`], with its three ids.
type Seeded = (Daemon, Vec<String>);

/// Two daemons set up alike, whose feeds stand at the same seq, which is returned.
fn twins() -> (Seeded, Seeded, u64) {
    let (a, b) = (set_up(), set_up());
    let seq = a.0.last_seq();
    assert_eq!(seq, b.0.last_seq());
    (a, b, seq)
}

/// Undoes the newest op through `/v1/ops/{op}/undo`.
fn undo_last(d: &Daemon) {
    let (_, ops) = d.get("/v1/ops?limit=1");
    let op = ops["ops"][0]["id"].as_str().unwrap().to_owned();
    let (s, undone) = d.call("POST", &format!("/v1/ops/{op}/undo"));
    assert_eq!(s, 200, "{undone}");
}

fn is_id(s: &str) -> bool {
    s.split_once('_').is_some_and(|(prefix, ulid)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && ulid.len() == 26
            && ulid.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

fn is_time(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

/// `v` with ids numbered by first appearance, times masked and the daemon's directory
/// (`dir`, where the files are) named `<dir>`.
fn normalized(v: &Value, dir: &str, ids: &mut HashMap<String, usize>) -> Value {
    match v {
        Value::String(s) if s.starts_with(dir) => json!(s.replacen(dir, "<dir>", 1)),
        Value::String(s) if is_id(s) => {
            let n = ids.len();
            json!(format!("<id {}>", *ids.entry(s.clone()).or_insert(n)))
        }
        Value::String(s) if is_time(s) => json!("<time>"),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalized(x, dir, ids)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), normalized(x, dir, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every collection and its entries, the unfiled view included, and the events after
/// `since`, normalized, as one text.
fn state(d: &Daemon, since: u64) -> String {
    let mut ids = HashMap::new();
    let dir = d.dir.path().to_str().unwrap();
    let (_, collections) = d.get("/v1/collections");
    let mut all = vec![normalized(&collections, dir, &mut ids)];
    for c in collections["collections"].as_array().unwrap() {
        let cid = c["id"].as_str().unwrap();
        let (_, entries) = d.get(&format!("/v1/collections/{cid}/items?deleted=true"));
        all.push(normalized(&entries, dir, &mut ids));
    }
    let last = d.last_seq();
    let events = d
        .events(&format!("?since={since}"))
        .until_seq(last, Duration::from_secs(10));
    all.push(normalized(&Value::Array(events), dir, &mut ids));
    serde_json::to_string_pretty(&all).unwrap()
}

#[test]
fn a_wickson_move_equals_a_v1_move_with_create() {
    let ((a, a_ids), (b, b_ids), seq) = twins();
    let r = a.json(
        "POST",
        "/v1/media/collections/research_papers/items",
        &json!({"items": [a_ids[2], a_ids[0], a_ids[1]]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.json(
        "POST",
        "/v1/collections/research_papers/items",
        &json!({"items": [b_ids[2], b_ids[0], b_ids[1]], "mode": "move", "create": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(state(&a, seq), state(&b, seq));
}

#[test]
fn a_llama_add_and_an_oracle_add_equal_the_v1_single_add() {
    let ((a, a_ids), (b, b_ids), seq) = twins();
    let r = a.json(
        "POST",
        "/api/v1/beta/directories/research_papers/files",
        &json!({"file_id": a_ids[1], "display_name": "Figure", "metadata": {"page": 2}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = a.request(
        "POST",
        &format!(
            "/documents/api/1.1/collections/research_papers/files/{}",
            a_ids[2]
        ),
        None,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.json(
        "POST",
        &format!("/v1/collections/research_papers/items/{}", b_ids[1]),
        &json!({"display_name": "Figure", "metadata": {"page": 2}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = b.request(
        "POST",
        &format!("/v1/collections/research_papers/items/{}", b_ids[2]),
        None,
        None,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(state(&a, seq), state(&b, seq));
}

/// `number` of what `path` answers.
fn number(d: &Daemon, path: &str) -> u64 {
    let (s, v) = d.get(path);
    assert_eq!(s, 200, "{v}");
    v["number"].as_u64().unwrap()
}

#[test]
fn a_datalab_add_equals_a_v1_link() {
    let ((a, a_ids), (b, b_ids), seq) = twins();
    let cid = number(&a, "/v1/collections/research_papers");
    let files: Vec<u64> = a_ids
        .iter()
        .map(|id| number(&a, &format!("/v1/items/{id}")))
        .collect();
    let r = a.json(
        "POST",
        &format!("/api/v1/collections/{cid}/files"),
        &json!({"uploaded_file_ids": [files[2], files[0], files[1]]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.json(
        "POST",
        "/v1/collections/research_papers/items",
        &json!({"items": [b_ids[2], b_ids[0], b_ids[1]]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(state(&a, seq), state(&b, seq));
}

#[test]
fn a_datalab_add_is_undone_through_v1_ops() {
    let (d, ids) = set_up();
    let cid = number(&d, "/v1/collections/research_papers");
    let file = number(&d, &format!("/v1/items/{}", ids[1]));
    let r = d.json(
        "POST",
        &format!("/api/v1/collections/{cid}/files"),
        &json!({"uploaded_file_ids": [file]}),
    );
    assert_eq!(r.body["file_count"], 2, "{}", r.body);
    undo_last(&d);
    let (_, papers) = d.get("/v1/collections/research_papers");
    assert_eq!(papers["item_count"], 1);
}

#[test]
fn a_wickson_move_is_undone_through_v1_ops() {
    let (d, ids) = set_up();
    let (_, before) = d.get("/v1/collections/inbox/items");
    let r = d.json(
        "POST",
        "/v1/media/collections/research_papers/items",
        &json!({"items": [ids[1], ids[2]]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    undo_last(&d);
    let (_, papers) = d.get("/v1/collections/research_papers");
    assert_eq!(papers["item_count"], 1);
    let (_, after) = d.get("/v1/collections/inbox/items");
    let ids_of = |v: &Value| -> Vec<Value> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["item_id"].clone())
            .collect()
    };
    assert_eq!(ids_of(&after), ids_of(&before));
}

#[test]
fn a_llama_add_is_undone_through_v1_ops() {
    let (d, ids) = set_up();
    let r = d.json(
        "POST",
        "/api/v1/beta/directories/inbox/files",
        &json!({"file_id": ids[0]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    undo_last(&d);
    let (_, inbox) = d.get("/v1/collections/inbox");
    assert_eq!(inbox["item_count"], 2);
    let r = d.request(
        "GET",
        &format!("/api/v1/beta/directories/inbox/files/{}", ids[0]),
        None,
        None,
    );
    assert_eq!(r.status, 404, "the undone add left no entry: {}", r.body);
}
