//! Datalab's collections (SPEC §8.1) against the real daemon: the seed's request
//! (`shared/seeds/000_*.txt`: `POST /api/v1/collections/{collection_id}/files` with
//! `X-API-Key`), its `CollectionResponse` field by field, the documented 422, and the other
//! refusals as FastAPI's `{"detail": "…"}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sheaf_e2e::Daemon;
use sheaf_e2e::platforms::assert_detail;
use sheaf_e2e::tcp::{curl_post_json, tcp, with_tcp};

fn number(d: &Daemon, path: &str) -> u64 {
    let (s, v) = d.get(path);
    assert_eq!(s, 200, "{v}");
    v["number"].as_u64().unwrap()
}

fn is_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|t| t.len() >= 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T')
}

#[test]
fn the_seed_request_links_files_by_number_and_answers_the_collection_response() {
    let (d, base) = with_tcp();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a"), ("b.png", b"\x89PNG\r\n\x1a\n b")]);
    d.create_collection("papers");
    let cid = number(&d, "/v1/collections/papers");
    let files: Vec<u64> = ids
        .iter()
        .map(|id| number(&d, &format!("/v1/items/{id}")))
        .collect();
    let url = format!("{base}/api/v1/collections/{cid}/files");
    let body = json!({"uploaded_file_ids": files}).to_string();
    let r = curl_post_json(&url, "X-API-Key: writer-key", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let c = &r.body;
    assert_eq!(c["id"], cid);
    assert_eq!(c["name"], "papers");
    assert_eq!(c["description"], Value::Null);
    assert_eq!(c["archived"], false);
    assert_eq!(c["file_count"], 2);
    assert!(is_time(&c["created"]) && is_time(&c["updated"]), "{c}");
    let listed = c["files"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0],
        json!({"uploaded_file_id": files[0], "original_filename": "a.pdf", "file_size": 10,
               "content_type": "application/pdf", "sort_order": listed[0]["sort_order"],
               "last_eval_score": null, "last_score_breakdown": null})
    );
    assert!(listed[0]["sort_order"].is_i64());
    assert_eq!(listed[1]["uploaded_file_id"], files[1]);
    assert_eq!(listed[1]["content_type"], "image/png");
    // A link: idempotent.
    let again = curl_post_json(&url, "X-API-Key: writer-key", &body);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["file_count"], 2);
    // The same response by GET, and the list without files.
    let r = tcp(
        &base,
        "GET",
        &format!("/api/v1/collections/{cid}"),
        &[("X-API-Key", "reader-key")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["files"], c["files"]);
    let r = tcp(
        &base,
        "GET",
        "/api/v1/collections",
        &[("X-API-Key", "reader-key")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", r.body);
    assert_eq!(list[0]["id"], cid);
    assert!(list[0].get("files").is_none(), "{}", r.body);
}

fn post(d: &Daemon, collection: &str, body: &Value) -> sheaf_e2e::Reply {
    d.json(
        "POST",
        &format!("/api/v1/collections/{collection}/files"),
        body,
    )
}

#[test]
fn the_documented_422_locates_every_problem() {
    let d = Daemon::start();
    d.create_collection("papers");
    let cid = number(&d, "/v1/collections/papers").to_string();
    let cases = [
        (json!({}), json!([["body", "uploaded_file_ids"], "missing"])),
        (
            json!({"uploaded_file_ids": []}),
            json!([["body", "uploaded_file_ids"], "too_short"]),
        ),
        (
            json!({"uploaded_file_ids": (0..101).collect::<Vec<u64>>()}),
            json!([["body", "uploaded_file_ids"], "too_long"]),
        ),
        (
            json!({"uploaded_file_ids": [1, 2, "three"]}),
            json!([["body", "uploaded_file_ids", 2], "int_parsing"]),
        ),
    ];
    for (body, want) in cases {
        let r = post(&d, &cid, &body);
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        let first = &r.body["detail"][0];
        assert_eq!(json!([first["loc"], first["type"]]), want, "{}", r.body);
        assert!(first["msg"].is_string());
    }
    let r = post(&d, "papers", &json!({"uploaded_file_ids": [1]}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["detail"][0]["loc"], json!(["path", "collection_id"]));
}

#[test]
fn other_refusals_are_a_detail_sentence_with_sheaf_status() {
    let (d, base) = with_tcp();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    d.create_collection("papers");
    let cid = number(&d, "/v1/collections/papers");
    let file = number(&d, &format!("/v1/items/{}", ids[0]));
    // Unknown collection and unknown files: 404 naming them.
    let r = post(&d, "9999", &json!({"uploaded_file_ids": [file]}));
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("9999"));
    let r = post(
        &d,
        &cid.to_string(),
        &json!({"uploaded_file_ids": [file, 777, 778]}),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.body["detail"], "Files not found: 777, 778");
    // Atomic: nothing was added.
    let (_, c) = d.get("/v1/collections/papers");
    assert_eq!(c["item_count"], 0);
    // Archived: 409.
    let (s, _) = d.send(
        "PATCH",
        "/v1/collections/papers",
        &json!({"archived": true}),
    );
    assert_eq!(s, 200);
    let r = post(&d, &cid.to_string(), &json!({"uploaded_file_ids": [file]}));
    assert_detail(&r, 409);
    // No key, a read key.
    let path = format!("/api/v1/collections/{cid}/files");
    let body = json!({"uploaded_file_ids": [file]});
    let r = tcp(&base, "POST", &path, &[], Some(&body));
    assert_detail(&r, 401);
    let r = tcp(
        &base,
        "POST",
        &path,
        &[("X-API-Key", "reader-key")],
        Some(&body),
    );
    assert_detail(&r, 403);
}
