//! Every error code of SPEC §2.3 provoked through the real socket (or the TCP listener),
//! each answer checked as the one envelope: `success: false`, the code, a message,
//! `details`, a `request_id` equal to the `X-Request-Id` header.
//!
//! Not provoked: `INTERNAL` (no request reaches it). The codes that need folder watches
//! (`ITEM_DELETED`, `ENTRY_MANAGED_BY_FOLDER`, `NO_TARGET_FOLDER`, `WATCH_NOT_FOUND`) are
//! provoked on a real watched folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::tcp::{hash_line, tcp, with_tcp};
use sheaf_e2e::{Daemon, Reply, Tmpfs, assert_envelope, is_root};

const PDF: &[u8] = b"%PDF-1.4\n% a small pdf\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A daemon with collection `inbox` and three registered items (pdf, txt, png).
fn with_inbox(config: &str) -> (Daemon, Vec<String>) {
    let d = Daemon::start_with_config(config);
    let ids = d.register(&[("a.pdf", PDF), ("b.txt", b"text\n"), ("c.png", PNG)]);
    d.create_collection("inbox");
    (d, ids)
}

fn post(d: &Daemon, path: &str, body: &Value) -> Reply {
    d.json("POST", path, body)
}

/// The `loc` of every field error in `details`.
fn locs(details: &Value) -> Vec<Value> {
    details
        .as_array()
        .unwrap_or_else(|| panic!("field details are a list: {details}"))
        .iter()
        .map(|f| {
            assert!(f["msg"].as_str().is_some_and(|m| !m.is_empty()), "{f}");
            assert!(f["type"].is_string(), "{f}");
            f["loc"].clone()
        })
        .collect()
}

/// Each code a route can answer, and the test here that provokes it; `None`: the daemon
/// cannot produce it yet (see the module docs).
const PROVOKED: &[(&str, Option<&str>)] = &[
    (
        "VALIDATION_ERROR",
        Some("malformed_json_is_a_400_validation_error_located_in_the_body"),
    ),
    (
        "BATCH_SIZE_EXCEEDED",
        Some("more_references_than_max_batch_is_batch_size_exceeded"),
    ),
    (
        "INVALID_ID",
        Some("a_malformed_item_or_op_id_is_invalid_id"),
    ),
    (
        "INVALID_API_KEY",
        Some("the_tcp_listener_without_or_with_a_wrong_key_is_invalid_api_key"),
    ),
    (
        "INSUFFICIENT_PERMISSIONS",
        Some("a_read_key_reads_but_gets_insufficient_permissions_on_writes_and_a_write_key_writes"),
    ),
    (
        "COLLECTION_NOT_FOUND",
        Some("an_unknown_collection_is_collection_not_found"),
    ),
    (
        "COLLECTION_TRASHED",
        Some("a_trashed_collection_answers_collection_trashed_to_membership_changes"),
    ),
    (
        "ITEMS_NOT_FOUND",
        Some("unknown_items_are_items_not_found_listing_them"),
    ),
    (
        "ENTRY_NOT_FOUND",
        Some("an_item_without_an_entry_is_entry_not_found"),
    ),
    ("OP_NOT_FOUND", Some("an_unknown_op_is_op_not_found")),
    (
        "ALREADY_IN_COLLECTION",
        Some("adding_a_live_entry_again_singly_is_already_in_collection"),
    ),
    (
        "UNIQUE_ID_CONFLICT",
        Some("an_explicit_unique_id_that_is_taken_is_unique_id_conflict"),
    ),
    (
        "COLLECTION_EXISTS",
        Some("creating_an_existing_or_reserved_collection_is_collection_exists"),
    ),
    (
        "COLLECTION_ARCHIVED",
        Some("membership_changes_in_an_archived_collection_are_collection_archived"),
    ),
    (
        "COLLECTION_IS_SMART",
        Some("hand_changes_to_a_smart_collection_are_collection_is_smart_whatever_the_route"),
    ),
    (
        "NOT_IN_SOURCE",
        Some("moving_items_that_are_not_in_the_source_is_not_in_source"),
    ),
    (
        "UNDO_CONFLICT",
        Some("undoing_an_op_whose_entries_changed_since_is_undo_conflict"),
    ),
    (
        "PAYLOAD_TOO_LARGE",
        Some("a_body_over_max_body_bytes_is_payload_too_large"),
    ),
    (
        "UNSUPPORTED_MEDIA_TYPE",
        Some("a_body_that_is_not_json_is_unsupported_media_type"),
    ),
    (
        "ITEM_NOT_ALLOWED",
        Some("an_item_outside_the_accept_list_is_item_not_allowed"),
    ),
    (
        "RATE_LIMITED",
        Some("too_many_requests_are_rate_limited_with_retry_after"),
    ),
    (
        "STORAGE_ERROR",
        Some("a_full_disk_is_storage_error_without_leaking_internals_and_a_restart_recovers"),
    ),
    (
        "SHUTTING_DOWN",
        Some("a_request_arriving_while_the_daemon_drains_is_shutting_down"),
    ),
    (
        "NOT_FOUND",
        Some("an_unknown_route_is_not_found_and_a_wrong_method_is_method_not_allowed"),
    ),
    (
        "METHOD_NOT_ALLOWED",
        Some("an_unknown_route_is_not_found_and_a_wrong_method_is_method_not_allowed"),
    ),
    (
        "ITEM_DELETED",
        Some("folder_owned_entries_and_gone_files_are_refused_with_their_codes"),
    ),
    (
        "ENTRY_MANAGED_BY_FOLDER",
        Some("folder_owned_entries_and_gone_files_are_refused_with_their_codes"),
    ),
    (
        "NO_TARGET_FOLDER",
        Some("folder_owned_entries_and_gone_files_are_refused_with_their_codes"),
    ),
    (
        "WATCH_NOT_FOUND",
        Some("folder_owned_entries_and_gone_files_are_refused_with_their_codes"),
    ),
    (
        "RULE_EXISTS",
        Some("a_rule_name_in_use_is_rule_exists_and_an_unknown_rule_is_rule_not_found"),
    ),
    (
        "RULE_NOT_FOUND",
        Some("a_rule_name_in_use_is_rule_exists_and_an_unknown_rule_is_rule_not_found"),
    ),
    ("INTERNAL", None),
    (
        "NOT_IMPLEMENTED",
        Some("wicksons_search_is_not_implemented_in_its_envelope"),
    ),
];

#[test]
fn wicksons_search_is_not_implemented_in_its_envelope() {
    let d = Daemon::start();
    let r = d.json("POST", "/v1/search", &json!({"query": "x"}));
    assert_eq!(r.status, 501, "{}", r.body);
    assert_eq!(r.body["success"], false);
    assert_eq!(r.body["error"]["code"], "NOT_IMPLEMENTED");
    assert_eq!(
        r.body["error"]["details"]["request_id"].as_str(),
        r.header("x-request-id")
    );
}

#[test]
fn every_error_code_the_route_table_names_is_provoked_here_or_listed_as_unreachable() {
    use sheaf_proto::routes::{COMMON_ERRORS, ROUTES, WRITE_ERRORS};
    let named = ROUTES
        .iter()
        .flat_map(|r| r.errors.iter())
        .chain(COMMON_ERRORS)
        .chain(WRITE_ERRORS)
        .map(|c| c.as_str());
    for code in named {
        assert!(
            PROVOKED.iter().any(|(c, _)| *c == code),
            "{code} can be answered but no test here provokes it"
        );
    }
    let source = include_str!("errors.rs");
    for (code, test) in PROVOKED {
        if let Some(test) = test {
            assert!(
                source.contains(&format!("fn {test}()")),
                "{code}: no test {test}"
            );
        }
    }
}

// ---- folder watches ---------------------------------------------------------------------

/// Polls `check` until it holds (the watch commits within its settle window; the machine
/// may be slow).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn folder_owned_entries_and_gone_files_are_refused_with_their_codes() {
    let d = Daemon::start();
    let folder = d.dir.path().join("papers");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.pdf"), PDF).unwrap();
    std::fs::write(folder.join("b.pdf"), PDF).unwrap();
    let body = json!({"path": folder.to_str().unwrap(), "collection": "papers"});
    let r = post(&d, "/v1/watches", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    eventually("the folder's entries", || {
        d.get("/v1/collections/papers").1["item_count"] == 2
    });
    let a = d.get(&format!(
        "/v1/items?path_prefix={}",
        folder.join("a.pdf").to_str().unwrap()
    ));
    let a_id = a.1["items"][0]["id"].as_str().unwrap().to_owned();
    d.create_collection("reading");

    // Removing or moving out a folder's entry: the folder owns it.
    let r = post(
        &d,
        "/v1/collections/papers/items/remove",
        &json!({"items": [a_id]}),
    );
    assert_envelope(&r, 409, "ENTRY_MANAGED_BY_FOLDER");
    let r = post(
        &d,
        "/v1/collections/reading/items",
        &json!({"items": [a_id], "mode": "move", "from": "papers"}),
    );
    let details = assert_envelope(&r, 409, "ENTRY_MANAGED_BY_FOLDER");
    assert_eq!(details["managed"], json!([a_id]));
    // Relocating needs a target bound to exactly one folder.
    let r = post(
        &d,
        "/v1/collections/reading/items",
        &json!({"items": [a_id], "mode": "move", "from": "papers", "relocate": true}),
    );
    assert_envelope(&r, 409, "NO_TARGET_FOLDER");
    // Into a collection with one folder the file moves on disk — unless another file is
    // where it would land: refused, and nothing changes.
    let shelf = d.dir.path().join("shelf");
    std::fs::create_dir_all(&shelf).unwrap();
    std::fs::write(shelf.join("a.pdf"), b"%PDF-1.4 another\n").unwrap();
    let body = json!({"path": shelf.to_str().unwrap(), "collection": "shelf"});
    assert_eq!(post(&d, "/v1/watches", &body).status, 201);
    eventually("the shelf's scan", || {
        d.get("/v1/collections/shelf").1["item_count"] == 1
    });
    let r = post(
        &d,
        "/v1/collections/shelf/items",
        &json!({"items": [a_id], "mode": "move", "from": "papers", "relocate": true}),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(locs(&details), vec![json!(["body", "relocate"])]);
    assert_eq!(details[0]["type"], "path_taken", "{details}");
    assert_eq!(d.get("/v1/collections/papers").1["item_count"], 2);
    assert!(folder.join("a.pdf").exists(), "the file did not move");

    // The file goes: its item is deleted and cannot be added anywhere.
    std::fs::remove_file(folder.join("a.pdf")).unwrap();
    eventually("the deletion", || {
        d.get(&format!("/v1/items/{a_id}")).1["deleted_at"].is_string()
    });
    let r = post(
        &d,
        "/v1/collections/reading/items",
        &json!({"items": [a_id]}),
    );
    let details = assert_envelope(&r, 422, "ITEM_DELETED");
    assert_eq!(details["deleted"], json!([a_id]));

    let r = d.request(
        "DELETE",
        "/v1/watches/w_01J00000000000000000000000",
        None,
        None,
    );
    let details = assert_envelope(&r, 404, "WATCH_NOT_FOUND");
    assert_eq!(details["missing"], json!(["w_01J00000000000000000000000"]));
    let r = d.request("POST", "/v1/watches/nope/rescan", None, None);
    assert_envelope(&r, 400, "INVALID_ID");
}

// ---- 400 ------------------------------------------------------------------------------

#[test]
fn malformed_json_is_a_400_validation_error_located_in_the_body() {
    let (d, _) = with_inbox("");
    let r = d.request(
        "POST",
        "/v1/collections/inbox/items",
        Some("application/json"),
        Some(b"{\"items\": [".to_vec()),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    let locs = locs(&details);
    assert_eq!(locs[0][0], "body", "{details}");
    assert_eq!(details[0]["type"], "json_invalid", "{details}");

    // Valid JSON of the wrong shape names the field.
    let r = post(&d, "/v1/collections/inbox/items", &json!({"items": 5}));
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(self::locs(&details), vec![json!(["body", "items"])]);

    // An unknown field is refused, not ignored.
    let r = post(&d, "/v1/collections", &json!({"id": "x", "colour": "red"}));
    assert_envelope(&r, 400, "VALIDATION_ERROR");

    // A malformed query string is located in the query.
    let r = d.request("GET", "/v1/collections/inbox/items?limit=many", None, None);
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(self::locs(&details), vec![json!(["query", "limit"])]);
}

#[test]
fn a_bad_collection_slug_is_a_validation_error_naming_the_field() {
    let d = Daemon::start();
    for bad in ["Research Papers", "_leading", "", "UPPER", &"x".repeat(129)] {
        let r = post(&d, "/v1/collections", &json!({ "id": bad }));
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(locs(&details), vec![json!(["body", "id"])], "{bad:?}");
    }
    let r = d.request("GET", "/v1/collections/Not.A.Slug", None, None);
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(locs(&details), vec![json!(["path", "collection_id"])]);
    assert_eq!(
        d.get("/v1/collections").1["collections"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was created"
    );
}

#[test]
fn bad_metadata_is_a_validation_error_located_at_the_item_and_key() {
    let (d, ids) = with_inbox("");
    let cases = [
        ("nested", json!({"a": 1})),
        ("list", json!([1, 2])),
        ("nothing", json!(null)),
        ("long", json!("x".repeat(4097))),
    ];
    for (key, value) in cases {
        let mut metadata = serde_json::Map::new();
        metadata.insert(key.to_owned(), value.clone());
        let body = json!({"items": [ids[0], {"id": ids[1], "metadata": metadata}]});
        let r = post(&d, "/v1/collections/inbox/items", &body);
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(
            locs(&details),
            vec![json!(["body", "items", 1, "metadata", key])],
            "{key}: {value}"
        );
    }
    // A key that is too long or holds a control character.
    for key in ["k".repeat(129), "bad\u{1}key".to_owned()] {
        let body = json!({"items": [{"id": ids[2], "metadata": {key.clone(): 1}}]});
        let r = post(&d, "/v1/collections/inbox/items", &body);
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        // A key too long to echo is cut to the longest allowed.
        let shown: String = key.chars().take(128).collect();
        assert_eq!(
            locs(&details),
            vec![json!(["body", "items", 0, "metadata", shown])]
        );
    }
    // More than 64 keys.
    let many: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("k{i}"), json!(i))).collect();
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [{"id": ids[0], "metadata": many}]}),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    let loc = locs(&details)[0].as_array().unwrap().clone();
    assert_eq!(
        loc[..4],
        [json!("body"), json!("items"), json!(0), json!("metadata")]
    );
    let msg = details[0]["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("at most 64 metadata keys are allowed"),
        "{details}"
    );
    // Item metadata is checked the same way.
    let r = d.json(
        "PATCH",
        &format!("/v1/items/{}", ids[0]),
        &json!({"metadata": {"deep": {"x": 1}}}),
    );
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(locs(&details), vec![json!(["body", "metadata", "deep"])]);
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 0);
}

#[test]
fn more_references_than_max_batch_is_batch_size_exceeded() {
    let (d, _) = with_inbox("max_batch = 5\n");
    let ids = d.register_many("f", 6);
    let r = post(&d, "/v1/collections/inbox/items", &json!({ "items": ids }));
    assert_envelope(&r, 400, "BATCH_SIZE_EXCEEDED");
    assert_eq!(
        r.body["error"]["message"],
        "more than 5 items in one batch; the limit is 5"
    );
    // Exactly max_batch is fine.
    assert_eq!(d.add("inbox", &ids[..5])["summary"]["added"], 5);
    let r = post(
        &d,
        "/v1/collections/inbox/items/remove",
        &json!({ "items": ids }),
    );
    assert_envelope(&r, 400, "BATCH_SIZE_EXCEEDED");
    let paths: Vec<String> = (0..6)
        .map(|i| {
            d.dir
                .path()
                .join(format!("files/f{i}.txt"))
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let r = post(&d, "/v1/items", &json!({ "paths": paths }));
    assert_envelope(&r, 400, "BATCH_SIZE_EXCEEDED");
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 5);
}

#[test]
fn a_select_matching_more_than_max_select_is_batch_size_exceeded() {
    let (d, _) = with_inbox("max_select = 3\n");
    let ids = d.register_many("f", 4);
    d.add("inbox", &ids);
    d.create_collection("target");
    let r = post(
        &d,
        "/v1/collections/target/items",
        &json!({"select": {"collection": "inbox"}}),
    );
    assert_envelope(&r, 400, "BATCH_SIZE_EXCEEDED");
    assert_eq!(d.get("/v1/collections/target").1["item_count"], 0);
}

#[test]
fn a_malformed_item_or_op_id_is_invalid_id() {
    let (d, _) = with_inbox("");
    let r = d.request("GET", "/v1/items/not-an-id", None, None);
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(details, json!({"invalid": ["not-an-id"]}));

    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": ["doc_nope", "relative/path.pdf"]}),
    );
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(
        details,
        json!({"invalid": ["doc_nope", "relative/path.pdf"]})
    );

    let r = d.request("GET", "/v1/collections/inbox/items/xyz_123", None, None);
    assert_envelope(&r, 400, "INVALID_ID");
    let r = d.request("POST", "/v1/ops/garbage/undo", None, None);
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(details, json!({"invalid": ["garbage"]}));
    let r = d.request("POST", "/v1/ops/op_garbage/undo", None, None);
    assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 0);
}

#[test]
fn invalid_id_details_echo_each_reference_exactly_as_sent() {
    let (d, _) = with_inbox("");
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": ["doc_nope", "img_01ARZ3NDEKTSV4RRFFQ69G5FA"]}),
    );
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(
        details,
        json!({"invalid": ["doc_nope", "img_01ARZ3NDEKTSV4RRFFQ69G5FA"]})
    );
    let r = d.request("GET", "/v1/items/txt_short", None, None);
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(details, json!({"invalid": ["txt_short"]}));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("txt_short"),
        "{}",
        r.body
    );
    let r = d.request("POST", "/v1/ops/op_garbage/undo", None, None);
    let details = assert_envelope(&r, 400, "INVALID_ID");
    assert_eq!(details, json!({"invalid": ["op_garbage"]}));
}

// ---- 401 / 403 on the TCP listener --------------------------------------------------------

#[test]
fn the_tcp_listener_without_or_with_a_wrong_key_is_invalid_api_key() {
    let (_d, base) = with_tcp();
    let r = tcp(&base, "GET", "/v1/health", &[], None);
    assert_envelope(&r, 401, "INVALID_API_KEY");
    let r = tcp(&base, "GET", "/v1/health", &[("x-api-key", "nope")], None);
    assert_envelope(&r, 401, "INVALID_API_KEY");
    let r = tcp(
        &base,
        "GET",
        "/v1/health",
        &[("authorization", "Bearer nope")],
        None,
    );
    assert_envelope(&r, 401, "INVALID_API_KEY");
    // The hash itself is not a key.
    let stored = hash_line("reader-key");
    let hex = stored
        .trim_start_matches("hash = \"blake3:")
        .trim_end_matches('"');
    let r = tcp(&base, "GET", "/v1/health", &[("x-api-key", hex)], None);
    assert_envelope(&r, 401, "INVALID_API_KEY");
    // Writes without a key are 401 too, before anything else is looked at.
    let r = tcp(
        &base,
        "POST",
        "/v1/collections",
        &[],
        Some(&json!({"id": "x"})),
    );
    assert_envelope(&r, 401, "INVALID_API_KEY");
}

#[test]
fn a_read_key_reads_but_gets_insufficient_permissions_on_writes_and_a_write_key_writes() {
    let (d, base) = with_tcp();
    let read = [("x-api-key", "reader-key")];
    let r = tcp(&base, "GET", "/v1/health", &read, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ok");
    let r = tcp(&base, "GET", "/v1/collections", &read, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tcp(
        &base,
        "POST",
        "/v1/collections",
        &read,
        Some(&json!({"id": "x"})),
    );
    assert_envelope(&r, 403, "INSUFFICIENT_PERMISSIONS");
    let r = tcp(&base, "DELETE", "/v1/collections/default", &read, None);
    assert_envelope(&r, 403, "INSUFFICIENT_PERMISSIONS");

    let write = [("authorization", "Bearer writer-key")];
    let r = tcp(
        &base,
        "POST",
        "/v1/collections",
        &write,
        Some(&json!({"id": "x"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = tcp(
        &base,
        "GET",
        "/v1/collections/x",
        &[("x-api-key", "writer-key")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        d.get("/v1/collections/x").0,
        200,
        "the socket sees the write"
    );
}

#[test]
fn only_the_daemons_own_user_may_define_a_rule_that_runs_programs_or_posts() {
    let (d, base) = with_tcp();
    let write = [("x-api-key", "writer-key")];
    let rule = |name: &str, action: Value| {
        let mut r = json!({"name": name, "on": ["item.created"], "query": {"kind": ["document"]}});
        r.as_object_mut()
            .unwrap()
            .extend(action.as_object().unwrap().clone());
        r
    };
    let run = rule("ocr", json!({"run": ["ocrmypdf", "{path}"]}));
    let hook = rule(
        "hook",
        json!({"webhook": {"url": "http://127.0.0.1:9/hook", "headers": {"Authorization": "Bearer s3cret"}}}),
    );
    for r in [&run, &hook] {
        let reply = tcp(&base, "POST", "/v1/rules", &write, Some(r));
        assert_envelope(&reply, 403, "INSUFFICIENT_PERMISSIONS");
    }
    // A key may define a rule that only acts in the store…
    let link = rule("papers", json!({"link": ["papers"]}));
    let reply = tcp(&base, "POST", "/v1/rules", &write, Some(&link));
    assert_eq!(reply.status, 201, "{}", reply.body);
    // …but not make it run a program.
    let rid = reply.body["id"].as_str().unwrap().to_owned();
    let reply = tcp(
        &base,
        "PATCH",
        &format!("/v1/rules/{rid}"),
        &write,
        Some(&json!({"run": ["sh", "-c", "id"]})),
    );
    assert_envelope(&reply, 403, "INSUFFICIENT_PERMISSIONS");
    // The daemon's own user, over the socket, may; the header's value is never shown.
    let (s, body) = d.send("POST", "/v1/rules", &run);
    assert_eq!(s, 201, "{body}");
    let (s, body) = d.send("POST", "/v1/rules", &hook);
    assert_eq!(s, 201, "{body}");
    assert_eq!(
        body["webhook"]["headers"]["Authorization"], "(hidden)",
        "{body}"
    );
    let reply = tcp(&base, "GET", "/v1/rules", &write, None);
    assert!(!reply.body.to_string().contains("s3cret"), "{}", reply.body);
}

#[test]
fn a_rule_name_in_use_is_rule_exists_and_an_unknown_rule_is_rule_not_found() {
    let d = Daemon::start();
    let rule = json!({"name": "papers", "on": ["item.created"], "query": {}, "link": ["papers"]});
    assert_eq!(d.send("POST", "/v1/rules", &rule).0, 201);
    let details = sheaf_e2e::assert_error(&d.send("POST", "/v1/rules", &rule), 409, "RULE_EXISTS");
    assert_eq!(details, Value::Null);
    let unknown = "r_01JD3Q2X9K8M7N6P5R4S3T2V1W";
    for (method, path) in [
        ("GET", format!("/v1/rules/{unknown}")),
        ("DELETE", format!("/v1/rules/{unknown}")),
        ("GET", format!("/v1/rules/{unknown}/runs")),
        ("POST", format!("/v1/rules/{unknown}/test")),
        ("POST", format!("/v1/rules/{unknown}/apply")),
    ] {
        sheaf_e2e::assert_error(&d.call(method, &path), 404, "RULE_NOT_FOUND");
    }
    sheaf_e2e::assert_error(
        &d.send(
            "PATCH",
            &format!("/v1/rules/{unknown}"),
            &json!({"name": "x"}),
        ),
        404,
        "RULE_NOT_FOUND",
    );
    sheaf_e2e::assert_error(
        &d.get("/v1/rules/w_01JD3Q2X9K8M7N6P5R4S3T2V1W"),
        400,
        "INVALID_ID",
    );
}

// ---- 404 ------------------------------------------------------------------------------

#[test]
fn an_unknown_collection_is_collection_not_found() {
    let (d, ids) = with_inbox("");
    for (method, path) in [
        ("GET", "/v1/collections/nope"),
        ("GET", "/v1/collections/nope/items"),
        ("DELETE", "/v1/collections/nope"),
        ("POST", "/v1/collections/nope/restore"),
    ] {
        let r = d.request(method, path, None, None);
        assert_envelope(&r, 404, "COLLECTION_NOT_FOUND");
    }
    let r = post(
        &d,
        "/v1/collections/nope/items",
        &json!({"items": [ids[0]]}),
    );
    assert_envelope(&r, 404, "COLLECTION_NOT_FOUND");
    let r = d.request("GET", "/v1/items?collection=nope", None, None);
    assert_envelope(&r, 404, "COLLECTION_NOT_FOUND");
}

#[test]
fn a_trashed_collection_answers_collection_trashed_to_membership_changes() {
    let (d, ids) = with_inbox("");
    d.add("inbox", &ids[..1]);
    assert_eq!(d.call("DELETE", "/v1/collections/inbox").0, 200);
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [ids[1]]}),
    );
    assert_envelope(&r, 404, "COLLECTION_TRASHED");
    let r = post(
        &d,
        "/v1/collections/inbox/items/remove",
        &json!({"items": [ids[0]]}),
    );
    assert_envelope(&r, 404, "COLLECTION_TRASHED");
    let r = d.request(
        "POST",
        &format!("/v1/collections/inbox/items/{}", ids[1]),
        None,
        None,
    );
    assert_envelope(&r, 404, "COLLECTION_TRASHED");
    // Restored, it takes changes again.
    assert_eq!(d.call("POST", "/v1/collections/inbox/restore").0, 200);
    assert_eq!(d.add("inbox", &ids[1..2])["summary"]["added"], 1);
}

#[test]
fn unknown_items_are_items_not_found_listing_them() {
    let (d, ids) = with_inbox("");
    let ghost = "doc_01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let gone_path = d.dir.path().join("files/never.pdf");
    let gone_path = gone_path.to_str().unwrap();
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [ids[0], ghost, gone_path]}),
    );
    let details = assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    assert_eq!(details, json!({"missing": [ghost, gone_path]}));
    let r = d.request("GET", &format!("/v1/items/{ghost}"), None, None);
    let details = assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    assert_eq!(details, json!({"missing": [ghost]}));
    // Registering a path that is not a file.
    let r = post(&d, "/v1/items", &json!({"paths": [gone_path]}));
    let details = assert_envelope(&r, 404, "ITEMS_NOT_FOUND");
    assert_eq!(details, json!({"missing": [gone_path]}));
}

#[test]
fn an_item_without_an_entry_is_entry_not_found() {
    let (d, ids) = with_inbox("");
    d.add("inbox", &ids[..1]);
    let r = d.request(
        "GET",
        &format!("/v1/collections/inbox/items/{}", ids[1]),
        None,
        None,
    );
    assert_envelope(&r, 404, "ENTRY_NOT_FOUND");
    let r = d.json(
        "PATCH",
        &format!("/v1/collections/inbox/items/{}", ids[1]),
        &json!({"display_name": "x"}),
    );
    assert_envelope(&r, 404, "ENTRY_NOT_FOUND");
    let r = post(
        &d,
        "/v1/collections/inbox/items/remove",
        &json!({"items": [ids[0], ids[2]]}),
    );
    let details = assert_envelope(&r, 404, "ENTRY_NOT_FOUND");
    assert_eq!(details, json!({"missing": [ids[2]]}));
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 1, "atomic");
}

#[test]
fn an_unknown_op_is_op_not_found() {
    let d = Daemon::start();
    let r = d.request(
        "POST",
        "/v1/ops/op_01ARZ3NDEKTSV4RRFFQ69G5FAV/undo",
        None,
        None,
    );
    assert_envelope(&r, 404, "OP_NOT_FOUND");
}

#[test]
fn an_unknown_route_is_not_found_and_a_wrong_method_is_method_not_allowed() {
    let d = Daemon::start();
    for path in ["/v1/nope", "/", "/v2/health", "/v1/collections/a/b/c/d"] {
        let r = d.request("GET", path, None, None);
        assert_envelope(&r, 404, "NOT_FOUND");
    }
    for (method, path) in [
        ("DELETE", "/v1/health"),
        ("PUT", "/v1/collections"),
        ("POST", "/v1/events"),
        ("GET", "/v1/ops/op_01ARZ3NDEKTSV4RRFFQ69G5FAV/undo"),
    ] {
        let r = d.request(method, path, None, None);
        assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    }
}

// ---- 409 ------------------------------------------------------------------------------

#[test]
fn adding_a_live_entry_again_singly_is_already_in_collection() {
    let (d, ids) = with_inbox("");
    let path = format!("/v1/collections/inbox/items/{}", ids[0]);
    assert_eq!(d.request("POST", &path, None, None).status, 201);
    let r = d.request("POST", &path, None, None);
    assert_envelope(&r, 409, "ALREADY_IN_COLLECTION");
}

#[test]
fn an_explicit_unique_id_that_is_taken_is_unique_id_conflict() {
    let (d, ids) = with_inbox("");
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [{"id": ids[0], "unique_id": "cover"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [ids[1], {"id": ids[2], "unique_id": "cover"}]}),
    );
    let details = assert_envelope(&r, 409, "UNIQUE_ID_CONFLICT");
    assert_eq!(details, json!({"conflicts": ["cover"]}));
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 1, "atomic");
    // Two items of one request asking for the same unique id.
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [{"id": ids[1], "unique_id": "dup"}, {"id": ids[2], "unique_id": "dup"}]}),
    );
    assert_envelope(&r, 409, "UNIQUE_ID_CONFLICT");
    // And a patch onto a taken unique id.
    d.add("inbox", &ids[1..2]);
    let r = d.json(
        "PATCH",
        &format!("/v1/collections/inbox/items/{}", ids[1]),
        &json!({"unique_id": "cover"}),
    );
    assert_envelope(&r, 409, "UNIQUE_ID_CONFLICT");
}

#[test]
fn creating_an_existing_or_reserved_collection_is_collection_exists() {
    let (d, _) = with_inbox("");
    let r = post(&d, "/v1/collections", &json!({"id": "inbox"}));
    assert_envelope(&r, 409, "COLLECTION_EXISTS");
    let r = post(&d, "/v1/collections", &json!({"id": "default"}));
    assert_envelope(&r, 409, "COLLECTION_EXISTS");
    // A trashed collection still holds its id.
    d.call("DELETE", "/v1/collections/inbox");
    let r = post(&d, "/v1/collections", &json!({"id": "inbox"}));
    assert_envelope(&r, 409, "COLLECTION_EXISTS");
}

#[test]
fn membership_changes_in_an_archived_collection_are_collection_archived() {
    let (d, ids) = with_inbox("");
    d.add("inbox", &ids[..1]);
    let (s, c) = d.send("PATCH", "/v1/collections/inbox", &json!({"archived": true}));
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["archived"], true);
    let r = post(
        &d,
        "/v1/collections/inbox/items",
        &json!({"items": [ids[1]]}),
    );
    assert_envelope(&r, 409, "COLLECTION_ARCHIVED");
    let r = post(
        &d,
        "/v1/collections/inbox/items/remove",
        &json!({"items": [ids[0]]}),
    );
    assert_envelope(&r, 409, "COLLECTION_ARCHIVED");
    // Moving out of it without naming `from` is refused too, naming it.
    d.create_collection("other");
    let r = post(
        &d,
        "/v1/collections/other/items",
        &json!({"items": [ids[0]], "mode": "move"}),
    );
    assert_envelope(&r, 409, "COLLECTION_ARCHIVED");
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 1);
    // Unarchived, it changes again.
    d.send(
        "PATCH",
        "/v1/collections/inbox",
        &json!({"archived": false}),
    );
    assert_eq!(d.add("inbox", &ids[1..2])["summary"]["added"], 1);
}

#[test]
fn moving_items_that_are_not_in_the_source_is_not_in_source() {
    let (d, ids) = with_inbox("");
    d.add("inbox", &ids[..1]);
    d.create_collection("target");
    let r = post(
        &d,
        "/v1/collections/target/items",
        &json!({"items": [ids[0], ids[1]], "mode": "move", "from": "inbox"}),
    );
    let details = assert_envelope(&r, 409, "NOT_IN_SOURCE");
    assert_eq!(details, json!({"not_in_source": [ids[1]]}));
    assert_eq!(d.get("/v1/collections/target").1["item_count"], 0);
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 1);
}

#[test]
fn undoing_an_op_whose_entries_changed_since_is_undo_conflict() {
    let (d, ids) = with_inbox("");
    let op = d.add("inbox", &ids[..2])["op_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = d.send(
        "PATCH",
        &format!("/v1/collections/inbox/items/{}", ids[0]),
        &json!({"display_name": "renamed"}),
    );
    assert_eq!(s, 200);
    let seq = d.last_seq();
    let r = d.request("POST", &format!("/v1/ops/{op}/undo"), None, None);
    assert_envelope(&r, 409, "UNDO_CONFLICT");
    assert_eq!(d.last_seq(), seq, "nothing changed");
    assert_eq!(d.get("/v1/collections/inbox").1["item_count"], 2);

    // An op undone once cannot be undone again.
    let op = d.add("inbox", &ids[2..])["op_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = d.request("POST", &format!("/v1/ops/{op}/undo"), None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = d.request("POST", &format!("/v1/ops/{op}/undo"), None, None);
    assert_envelope(&r, 409, "UNDO_CONFLICT");
}

// ---- 413 / 415 / 422 / 429 --------------------------------------------------------------

#[test]
fn a_body_over_max_body_bytes_is_payload_too_large() {
    let d = Daemon::start_with_config("max_body_bytes = 1024\n");
    let body = json!({"id": "big", "description": "x".repeat(4096)});
    let r = post(&d, "/v1/collections", &body);
    assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(d.get("/v1/collections/big").0, 404);
    // Just under the limit is fine.
    let r = post(
        &d,
        "/v1/collections",
        &json!({"id": "small", "description": "x".repeat(900)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_body_that_is_not_json_is_unsupported_media_type() {
    let (d, _) = with_inbox("");
    let body = br#"{"id": "x"}"#.to_vec();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let r = d.request("POST", "/v1/collections", ct, Some(body.clone()));
        assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    // JSON with parameters or a +json type is accepted.
    let r = d.request(
        "POST",
        "/v1/collections",
        Some("application/json; charset=utf-8"),
        Some(body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn an_item_outside_the_accept_list_is_item_not_allowed() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", PDF), ("c.png", PNG)]);
    let r = post(
        &d,
        "/v1/collections",
        &json!({"id": "pictures", "accept": ["image"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(
        &d,
        "/v1/collections/pictures/items",
        &json!({"items": [ids[1], ids[0]]}),
    );
    let details = assert_envelope(&r, 422, "ITEM_NOT_ALLOWED");
    assert!(
        details.to_string().contains(&ids[0]) && !details.to_string().contains(&ids[1]),
        "{details}"
    );
    assert_eq!(d.get("/v1/collections/pictures").1["item_count"], 0);
    let r = d.request(
        "POST",
        &format!("/v1/collections/pictures/items/{}", ids[0]),
        None,
        None,
    );
    assert_envelope(&r, 422, "ITEM_NOT_ALLOWED");
    // A MIME pattern works too.
    let r = post(
        &d,
        "/v1/collections",
        &json!({"id": "pdfs", "accept": ["application/pdf"]}),
    );
    assert_eq!(r.status, 201);
    let r = post(
        &d,
        "/v1/collections/pdfs/items",
        &json!({"items": [ids[1]]}),
    );
    assert_envelope(&r, 422, "ITEM_NOT_ALLOWED");
    assert_eq!(d.add("pdfs", &ids[..1])["summary"]["added"], 1);
}

#[test]
fn too_many_requests_are_rate_limited_with_retry_after() {
    let d = Daemon::start_with_config("[rate_limit]\nper_second = 1.0\nburst = 2\n");
    let mut limited = None;
    for _ in 0..5 {
        let r = d.request("GET", "/v1/collections", None, None);
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = limited.expect("a burst of 2 at 1/s is exceeded by 5 quick requests");
    assert_envelope(&r, 429, "RATE_LIMITED");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    std::thread::sleep(Duration::from_secs(retry));
    let r = d.request("GET", "/v1/collections", None, None);
    assert_eq!(
        r.status, 200,
        "after Retry-After the caller is served: {}",
        r.body
    );
}

// ---- 503 ------------------------------------------------------------------------------

/// Reads a whole HTTP/1.1 response from a connection the server closes after it.
fn read_response(stream: &mut UnixStream) -> (u16, Vec<(String, String)>, Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    (status, headers, serde_json::from_str(body).unwrap())
}

#[test]
fn a_request_arriving_while_the_daemon_drains_is_shutting_down() {
    let mut d = Daemon::start();
    // A connection whose request is half sent: the daemon has accepted it and must drain it.
    let mut held = UnixStream::connect(&d.socket).unwrap();
    held.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    held.write_all(b"GET /v1/collections HTTP/1.1\r\nHost: sheaf\r\n")
        .unwrap();
    // A full request on a later connection: the accept loop takes connections in order, so
    // `held` is being served once this answers.
    assert_eq!(d.get("/v1/health").0, 200);
    std::thread::sleep(Duration::from_millis(100));

    d.terminate();
    // Once new connections are refused the daemon has stopped accepting: it is draining.
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&d.socket).is_ok() {
        assert!(
            Instant::now() < deadline,
            "sheafd kept accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    held.write_all(b"\r\n").unwrap();
    let (status, headers, body) = read_response(&mut held);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "SHUTTING_DOWN");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let request_id = headers
        .iter()
        .find(|(k, _)| k == "x-request-id")
        .map(|(_, v)| v.as_str());
    assert_eq!(request_id, body["error"]["request_id"].as_str());
    let exit = d.wait(Duration::from_secs(10));
    assert!(exit.success(), "{exit}");
}

// ---- 500 ------------------------------------------------------------------------------

/// A daemon whose database sits on a 2 MiB tmpfs, one registered item, and the first
/// write that failed because the filesystem is full. `None` (skipped) unless root.
fn full_disk() -> Option<(Daemon, Tmpfs, String, Reply)> {
    if !is_root() {
        eprintln!("SKIPPED: mounting a tiny tmpfs for the database needs root");
        return None;
    }
    let mut d = Daemon::unstarted("");
    let fs = Tmpfs::mount(d.database.parent().unwrap(), "2m")?;
    d.spawn();
    let ids = d.register(&[("a.txt", b"a")]);
    // Fill what is left of the filesystem.
    {
        let mut filler = std::fs::File::create(d.database.with_file_name("filler")).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let mut n = 0;
        while filler.write_all(&chunk).is_ok() {
            n += 1;
            assert!(n < 1000, "a 2 MiB tmpfs never filled up");
        }
        while filler.write_all(&chunk[..512]).is_ok() {}
    }
    // Writes that need fresh pages must now fail.
    let big: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("k{i}"), json!("v".repeat(4000))))
        .collect();
    for i in 0..20 {
        let r = d.json(
            "PATCH",
            &format!("/v1/items/{}", ids[0]),
            &json!({ "metadata": big }),
        );
        if r.status == 500 {
            return Some((d, fs, ids[0].clone(), r));
        }
        assert_eq!(r.status, 200, "attempt {i}: {}", r.body);
    }
    panic!("writes on a full filesystem kept succeeding");
}

#[test]
fn a_full_disk_is_storage_error_without_leaking_internals_and_a_restart_recovers() {
    let Some((mut d, _fs, item, r)) = full_disk() else {
        return;
    };
    assert_envelope(&r, 500, "STORAGE_ERROR");
    let message = r.body["error"]["message"].as_str().unwrap();
    for leak in ["/tmp", "redb", "os error", "No space", "panicked", "Io"] {
        assert!(
            !message.contains(leak),
            "the message leaks {leak:?}: {message}"
        );
    }
    assert_eq!(r.body["error"]["details"], Value::Null);
    // The daemon survived it and still reads.
    let r = d.request("GET", &format!("/v1/items/{item}"), None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    // Room again and a restart: what was committed is there, and writes work.
    std::fs::remove_file(d.database.with_file_name("filler")).unwrap();
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    d.spawn();
    assert_eq!(d.get(&format!("/v1/items/{item}")).0, 200);
    let r = post(&d, "/v1/collections", &json!({"id": "after"}));
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn writes_resume_without_a_restart_once_the_disk_has_room_again() {
    let Some((d, _fs, _item, _)) = full_disk() else {
        return;
    };
    std::fs::remove_file(d.database.with_file_name("filler")).unwrap();
    let r = post(&d, "/v1/collections", &json!({"id": "after"}));
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn hand_changes_to_a_smart_collection_are_collection_is_smart_whatever_the_route() {
    let d = Daemon::start();
    let ids = d.register(&[("a.txt", b"a"), ("b.txt", b"b")]);
    let (s, c) = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "texts", "query": {"kind": "text"}}),
    );
    assert_eq!(s, 201, "{c}");
    let filled = sheaf_e2e::wait_until(Duration::from_secs(30), || {
        d.get("/v1/collections/texts").1["filling"] == false
    });
    assert!(filled, "the smart collection was not filled");
    d.create_collection("other");
    let smart = |r: (u16, Value)| {
        let details = sheaf_e2e::assert_error(&r, 409, "COLLECTION_IS_SMART");
        assert_eq!(details["smart"], json!(["texts"]), "{details}");
    };
    smart(d.send(
        "POST",
        "/v1/collections/texts/items",
        &json!({"items": [ids[0]]}),
    ));
    smart(d.send(
        "POST",
        "/v1/collections/other/items",
        &json!({"items": [ids[0]], "mode": "move", "from": "texts"}),
    ));
    smart(d.send(
        "POST",
        "/v1/collections/texts/items/remove",
        &json!({"items": [ids[1]]}),
    ));
    smart(d.send(
        "POST",
        &format!("/v1/collections/texts/items/{}", ids[0]),
        &json!({}),
    ));
    smart(d.send(
        "PATCH",
        &format!("/v1/collections/texts/items/{}", ids[0]),
        &json!({"display_name": "mine"}),
    ));
    smart(d.call("DELETE", &format!("/v1/collections/texts/items/{}", ids[0])));
    smart(d.send(
        "POST",
        "/v1/watches",
        &json!({"path": d.dir.path(), "collection": "texts"}),
    ));
    // Nothing changed: both items are still in it.
    let (_, c) = d.get("/v1/collections/texts");
    assert_eq!(c["item_count"], 2, "{c}");
}
