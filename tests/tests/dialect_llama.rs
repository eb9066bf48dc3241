//! LlamaCloud's directories (SPEC §8.4) against the real daemon: the seed's curl request
//! (`shared/seeds/003_*.txt`, `004_*.txt`) with only the base URL, key and ids changed,
//! its documented fields, the errors (404, 409, 422), the listing, and the soft delete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sheaf_e2e::Daemon;
use sheaf_e2e::platforms::assert_detail;
use sheaf_e2e::tcp::{curl, tcp, with_tcp};

/// The seed's request, as its documentation writes it.
fn seed_request(base: &str, directory: &str, file_id: &str) -> sheaf_e2e::tcp::Curled {
    let url = format!("{base}/api/v1/beta/directories/{directory}/files");
    let body = format!(
        r#"{{
          "file_id": "{file_id}"
        }}"#
    );
    curl(&[
        &url,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Authorization: Bearer writer-key",
        "-d",
        &body,
    ])
}

fn is_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|t| t.len() >= 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T')
}

#[test]
fn the_seed_curl_request_answers_a_directory_file_with_its_documented_fields() {
    let (d, base) = with_tcp();
    let ids = d.register(&[("report.pdf", b"%PDF-1.4 report")]);
    d.create_collection("docs");
    let r = seed_request(&base, "docs", &ids[0]);
    assert_eq!(r.status, 200, "{}", r.text);
    let f = &r.body;
    assert!(f["id"].as_str().unwrap().starts_with("ent_"), "{f}");
    assert_eq!(f["directory_id"], "docs");
    assert_eq!(f["display_name"], "report.pdf");
    assert_eq!(f["project_id"], "local");
    assert_eq!(f["unique_id"], "report.pdf");
    assert!(
        is_time(&f["created_at"]) && is_time(&f["updated_at"]),
        "{f}"
    );
    assert_eq!(f["data_source_id"], Value::Null);
    assert_eq!(f["deleted_at"], Value::Null);
    assert_eq!(f["file_id"], ids[0].as_str());
    assert_eq!(f["metadata"], json!({}));
    let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 11, "{f}");
    // The seed's placeholder file id names no file: 404.
    let r = seed_request(&base, "docs", "file_id");
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("file_id"));
    // The seed's placeholder directory names none either.
    let r = seed_request(&base, "$DIRECTORY_ID", &ids[0]);
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.body["detail"].is_string());
}

#[test]
fn optional_fields_and_the_project_query_are_honoured() {
    let d = Daemon::start();
    let ids = d.register(&[("report.pdf", b"%PDF-1.4 report")]);
    d.create_collection("docs");
    let (s, _) = d.send(
        "PATCH",
        &format!("/v1/items/{}", ids[0]),
        &json!({"metadata": {"source": "scan", "pages": 3}}),
    );
    assert_eq!(s, 200);
    let r = d.json(
        "POST",
        "/api/v1/beta/directories/docs/files?project_id=p1&organization_id=o1",
        &json!({"file_id": ids[0], "display_name": "Report", "unique_id": "r-1",
                "metadata": {"pages": 4, "reviewed": true}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["display_name"], "Report");
    assert_eq!(r.body["unique_id"], "r-1");
    assert_eq!(r.body["project_id"], "p1");
    // Merged: the item's metadata overlaid by the entry's.
    assert_eq!(
        r.body["metadata"],
        json!({"source": "scan", "pages": 4, "reviewed": true})
    );
}

#[test]
fn errors_are_fastapi_shaped() {
    let (d, base) = with_tcp();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a"), ("b.pdf", b"%PDF-1.4 b")]);
    d.create_collection("docs");
    let path = "/api/v1/beta/directories/docs/files";
    let key = [("Authorization", "Bearer writer-key")];
    // 409: a live entry already there, and a unique_id clash.
    let r = tcp(&base, "POST", path, &key, Some(&json!({"file_id": ids[0]})));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tcp(&base, "POST", path, &key, Some(&json!({"file_id": ids[0]})));
    assert_detail(&r, 409);
    let r = tcp(
        &base,
        "POST",
        path,
        &key,
        Some(&json!({"file_id": ids[1], "unique_id": "a.pdf"})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    // 422: no file_id, a wrong type, bad metadata.
    let r = tcp(
        &base,
        "POST",
        path,
        &key,
        Some(&json!({"display_name": "x"})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.body["detail"][0],
        json!({"loc": ["body", "file_id"], "msg": "Field required", "type": "missing"})
    );
    let r = tcp(&base, "POST", path, &key, Some(&json!({"file_id": 7})));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "file_id"]));
    let r = tcp(
        &base,
        "POST",
        path,
        &key,
        Some(&json!({"file_id": ids[1], "metadata": {"k": [1]}})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // 401 and 403 in the same shape.
    let r = tcp(&base, "POST", path, &[], Some(&json!({"file_id": ids[1]})));
    assert_detail(&r, 401);
    let r = tcp(
        &base,
        "POST",
        path,
        &[("Authorization", "Bearer reader-key")],
        Some(&json!({"file_id": ids[1]})),
    );
    assert_detail(&r, 403);
    // An archived directory keeps sheaf's status.
    let (s, _) = d.send("PATCH", "/v1/collections/docs", &json!({"archived": true}));
    assert_eq!(s, 200);
    let r = tcp(&base, "POST", path, &key, Some(&json!({"file_id": ids[1]})));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("archived"),
        "{}",
        r.body
    );
}

#[test]
fn files_are_listed_by_page_read_and_removed_softly() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a"), ("b.pdf", b"%PDF-1.4 b")]);
    d.create_collection("docs");
    d.add("docs", &ids);
    let r = d.request(
        "GET",
        "/api/v1/beta/directories/docs/files?page_size=1",
        None,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total_size"], 2);
    assert_eq!(r.body["items"][0]["file_id"], ids[0].as_str());
    let token = r.body["next_page_token"].as_str().unwrap().to_owned();
    let r = d.request(
        "GET",
        &format!("/api/v1/beta/directories/docs/files?page_size=1&page_token={token}"),
        None,
        None,
    );
    assert_eq!(r.body["items"][0]["file_id"], ids[1].as_str());
    assert_eq!(r.body["next_page_token"], Value::Null);
    let entry_id = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    // By the entry's id, and by the file id.
    for id in [entry_id.as_str(), ids[1].as_str()] {
        let r = d.request(
            "GET",
            &format!("/api/v1/beta/directories/docs/files/{id}"),
            None,
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["id"], entry_id.as_str());
    }
    let r = d.request(
        "DELETE",
        &format!("/api/v1/beta/directories/docs/files/{entry_id}"),
        None,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(is_time(&r.body["deleted_at"]), "{}", r.body);
    let (_, c) = d.get("/v1/collections/docs");
    assert_eq!(c["item_count"], 1);
    let r = d.request(
        "GET",
        "/api/v1/beta/directories/docs/files/ent_01J0000000000000000000000A",
        None,
        None,
    );
    assert_detail(&r, 404);
    let r = d.request("GET", "/api/v1/beta/directories/nope/files", None, None);
    assert_eq!(r.status, 404, "{}", r.body);
}
