//! Wickson's media collections (SPEC §8.3) against the real daemon: the seed's own curl
//! request and Python example (`shared/seeds/002_*.txt`) with only the base URL and key
//! changed, every error of its table, and the refusals it does not document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sheaf_e2e::platforms::seed_papers;
use sheaf_e2e::tcp::{curl_post_json, tcp, with_tcp};
use sheaf_e2e::{Daemon, have};

/// The seed's request body, verbatim.
const SEED_BODY: &str = r#"{
"items": [
"vec-3f72e4a7b916c054d32a851f",
"doc_eb45a612-7895-52bd-a413-86f321c4e9ab",
"img_9c16d3a5-4287-5319-b614-7a428ed09bcf"
]
}"#;

/// The three files of [`seed_papers`]: (paper, figure, notes).
fn seeded(d: &Daemon) -> (String, String, String) {
    let ids = seed_papers(d);
    (ids[0].clone(), ids[1].clone(), ids[2].clone())
}

#[test]
fn the_seed_curl_request_verbatim_names_every_unknown_item() {
    let (_d, base) = with_tcp();
    let url = format!("{base}/v1/media/collections/research_papers/items");
    let r = curl_post_json(&url, "X-Api-Key: writer-key", SEED_BODY);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["success"], false);
    assert_eq!(r.body["error"]["code"], "ITEMS_NOT_FOUND");
    assert_eq!(
        r.body["error"]["details"]["missing"],
        json!([
            "vec-3f72e4a7b916c054d32a851f",
            "doc_eb45a612-7895-52bd-a413-86f321c4e9ab",
            "img_9c16d3a5-4287-5319-b614-7a428ed09bcf"
        ])
    );
    assert!(r.body["error"]["details"]["request_id"].is_string());
    assert!(r.body["message"].is_string());
}

#[test]
fn the_seed_curl_request_with_sheaf_ids_answers_the_documented_response() {
    let (d, base) = with_tcp();
    let (doc, img, notes) = seeded(&d);
    let body = SEED_BODY
        .replace("vec-3f72e4a7b916c054d32a851f", &notes)
        .replace("doc_eb45a612-7895-52bd-a413-86f321c4e9ab", &doc)
        .replace("img_9c16d3a5-4287-5319-b614-7a428ed09bcf", &img);
    let url = format!("{base}/v1/media/collections/research_papers/items");
    let r = curl_post_json(&url, "X-Api-Key: writer-key", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(r.body["success"], true);
    assert_eq!(
        r.body["message"],
        "3 items successfully moved to collection 'research_papers'"
    );
    assert_eq!(
        r.body["data"],
        json!({
            "collection_id": "research_papers",
            "summary": {"total": 3, "succeeded": 3, "failed": 0, "already_in_collection": 1, "moved": 2},
            "items_by_type": {"document": 2, "image": 1}
        })
    );
    let meta = &r.body["metadata"];
    assert_eq!(meta["operation"], "move_to_collection");
    assert_eq!(meta["collection_id"], "research_papers");
    assert_eq!(meta["item_count"], 3);
    assert!(meta["request_id"].as_str().unwrap().starts_with("req_"));
    // A move: the image left inbox.
    let (_, inbox) = d.get("/v1/collections/inbox");
    assert_eq!(inbox["item_count"], 0);
}

#[test]
fn the_seed_python_example_reads_the_fields_it_prints() {
    let (d, base) = with_tcp();
    let (doc, img, notes) = seeded(&d);
    // The example's request as reqwest sends it, and the fields it reads.
    let r = tcp(
        &base,
        "POST",
        "/v1/media/collections/research_papers/items",
        &[("X-Api-Key", "writer-key")],
        Some(&json!({"items": [notes, doc, img]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let data = &r.body["data"];
    assert_eq!(data["collection_id"], "research_papers");
    assert_eq!(data["summary"]["moved"], 2);
    assert_eq!(data["summary"]["already_in_collection"], 1);
    assert!(data["items_by_type"].is_object());
    if !have("python3") {
        return;
    }
    // The example itself, with the base URL and key changed, when `requests` is there.
    let script = format!(
        r#"
import sys
try:
    import requests
except ImportError:
    sys.exit(3)
api_key = "writer-key"
collection_id = "research_papers"
items = ["{notes}", "{doc}", "{img}"]
response = requests.post(
f"{base}/v1/media/collections/{{collection_id}}/items",
headers={{
"X-Api-Key": api_key,
"Content-Type": "application/json"
}},
json={{"items": items}}
)
if response.status_code == 200:
    data = response.json()["data"]
    summary = data["summary"]
    print(f"Added items to '{{data['collection_id']}}' collection:")
    print(f" {{summary['moved']}} items moved")
    print(f" {{summary['already_in_collection']}} already in collection")
    if "items_by_type" in data:
        types = ", ".join(f"{{k}}: {{v}}" for k, v in data["items_by_type"].items())
        print(f" Types: {{types}}")
else:
    print(f"Error {{response.status_code}}: {{response.text}}")
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    if out.status.code() == Some(3) {
        return;
    }
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        printed,
        "Added items to 'research_papers' collection:\n 0 items moved\n 3 already in collection\n Types: document: 2, image: 1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_collection_is_created_and_default_moves_back_to_unfiled() {
    let d = Daemon::start();
    let (doc, img, _) = seeded(&d);
    let r = d.json(
        "POST",
        "/v1/media/collections/brand_new/items",
        &json!({"items": [doc, img]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["summary"]["moved"], 2);
    let (s, c) = d.get("/v1/collections/brand_new");
    assert_eq!((s, c["item_count"].clone()), (200, json!(2)));
    let (_, papers) = d.get("/v1/collections/research_papers");
    assert_eq!(papers["item_count"], 0);
    let r = d.json(
        "POST",
        "/v1/media/collections/default/items",
        &json!({"items": [doc]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, item) = d.get(&format!("/v1/items/{doc}"));
    assert_eq!(item["collections"], json!([]));
}

/// Asserts Wickson's error envelope and returns `error.details`.
fn wickson_error(r: &sheaf_e2e::Reply, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["success"], false, "{}", r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    let details = r.body["error"]["details"].clone();
    assert_eq!(
        details["request_id"].as_str(),
        r.header("x-request-id"),
        "{}",
        r.body
    );
    details
}

#[test]
fn every_error_of_the_seed_table_comes_in_its_envelope() {
    let (d, base) = with_tcp();
    let (doc, ..) = seeded(&d);
    let path = "/v1/media/collections/research_papers/items";
    let write = [("X-Api-Key", "writer-key")];
    // 400 VALIDATION_ERROR: an empty list, a malformed body, a bad collection id.
    let r = tcp(&base, "POST", path, &write, Some(&json!({"items": []})));
    wickson_error(&r, 400, "VALIDATION_ERROR");
    let r = tcp(&base, "POST", path, &write, Some(&json!({"things": []})));
    wickson_error(&r, 400, "VALIDATION_ERROR");
    let r = tcp(
        &base,
        "POST",
        "/v1/media/collections/Not%20A%20Slug/items",
        &write,
        Some(&json!({"items": [doc]})),
    );
    wickson_error(&r, 400, "VALIDATION_ERROR");
    // 400 BATCH_SIZE_EXCEEDED past max_batch (1000).
    let many: Vec<String> = (0..1001).map(|i| format!("vec-{i}")).collect();
    let r = tcp(&base, "POST", path, &write, Some(&json!({"items": many})));
    wickson_error(&r, 400, "BATCH_SIZE_EXCEEDED");
    // 401 INVALID_API_KEY: none, or a wrong one.
    let body = json!({"items": [doc]});
    let r = tcp(&base, "POST", path, &[], Some(&body));
    wickson_error(&r, 401, "INVALID_API_KEY");
    let r = tcp(&base, "POST", path, &[("X-Api-Key", "nope")], Some(&body));
    wickson_error(&r, 401, "INVALID_API_KEY");
    // 403 INSUFFICIENT_PERMISSIONS: a read key.
    let r = tcp(
        &base,
        "POST",
        path,
        &[("X-Api-Key", "reader-key")],
        Some(&body),
    );
    wickson_error(&r, 403, "INSUFFICIENT_PERMISSIONS");
    // 404 ITEMS_NOT_FOUND, naming the unknown ones only.
    let r = tcp(
        &base,
        "POST",
        path,
        &write,
        Some(&json!({"items": [doc, "vec-1"]})),
    );
    let details = wickson_error(&r, 404, "ITEMS_NOT_FOUND");
    assert_eq!(details["missing"], json!(["vec-1"]));
}

#[test]
fn a_rate_limited_caller_gets_rate_limit_exceeded_with_retry_after() {
    let d = Daemon::start_with_config("[rate_limit]\nper_second = 0.01\nburst = 5\n");
    let replies: Vec<_> = (0..6)
        .map(|_| d.request("GET", "/v1/media/collections", None, None))
        .collect();
    let r = replies.last().unwrap();
    wickson_error(r, 429, "RATE_LIMIT_EXCEEDED");
    assert!(r.header("retry-after").is_some());
}

#[test]
fn undocumented_refusals_keep_sheaf_codes_in_the_wickson_envelope() {
    let d = Daemon::start();
    let (doc, ..) = seeded(&d);
    // An archived target.
    let (s, _) = d.send(
        "PATCH",
        "/v1/collections/research_papers",
        &json!({"archived": true}),
    );
    assert_eq!(s, 200);
    let r = d.json(
        "POST",
        "/v1/media/collections/research_papers/items",
        &json!({"items": [doc]}),
    );
    wickson_error(&r, 409, "COLLECTION_ARCHIVED");
    // A folder-owned entry cannot be moved out of its folder's collection.
    let folder = d.dir.path().join("watched");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), "a").unwrap();
    d.create_collection("watched");
    let (s, w) = d.send(
        "POST",
        "/v1/watches",
        &json!({"path": folder, "collection": "watched"}),
    );
    assert_eq!(s, 201, "{w}");
    let mut listed = Value::Null;
    assert!(sheaf_e2e::wait_until(
        std::time::Duration::from_secs(10),
        || {
            listed = d.get("/v1/collections/watched/items").1;
            listed["entries"].as_array().is_some_and(|e| e.len() == 1)
        }
    ));
    let owned = listed["entries"][0]["item_id"].as_str().unwrap().to_owned();
    let r = d.json(
        "POST",
        "/v1/media/collections/elsewhere/items",
        &json!({"items": [owned]}),
    );
    wickson_error(&r, 409, "ENTRY_MANAGED_BY_FOLDER");
    // Nothing changed: the auto-created target was rolled back with the move.
    let (s, _) = d.get("/v1/collections/elsewhere");
    assert_eq!(s, 404);
}

#[test]
fn the_listed_endpoints_answer_in_the_envelope_and_search_is_not_implemented() {
    let d = Daemon::start();
    let (doc, img, notes) = seeded(&d);
    let r = d.request("GET", "/v1/media/collections", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["data"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "inbox", "research_papers"]);
    let r = d.request("GET", "/v1/media/collections/inbox", None, None);
    assert_eq!(r.body["data"]["item_count"], 2, "{}", r.body);
    let r = d.request("GET", "/v1/media?collection_id=inbox&limit=1", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["items"][0]["id"], img.as_str());
    assert_eq!(r.body["data"]["items"][0]["type"], "image");
    let cursor = r.body["data"]["next_cursor"].as_str().unwrap().to_owned();
    let r = d.request(
        "GET",
        &format!("/v1/media?collection_id=inbox&limit=1&cursor={cursor}"),
        None,
        None,
    );
    assert_eq!(r.body["data"]["items"][0]["id"], notes.as_str());
    assert_eq!(r.body["data"]["next_cursor"], Value::Null);
    let r = d.request("GET", "/v1/media", None, None);
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 3);
    let r = d.request("GET", "/v1/media/collections/nope", None, None);
    wickson_error(&r, 404, "COLLECTION_NOT_FOUND");
    let r = d.request("DELETE", "/v1/media/collections/inbox", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["data"]["deleted_at"].is_string());
    let (_, c) = d.get("/v1/collections?trashed=true");
    assert_eq!(c["collections"][0]["id"], "inbox", "{c}");
    let r = d.json("POST", "/v1/search", &json!({"query": doc}));
    wickson_error(&r, 501, "NOT_IMPLEMENTED");
}
