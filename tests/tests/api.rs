//! Every route of `sheaf_proto::routes::ROUTES` over the real socket: its success status
//! and the shape of its answer, a table-driven check that the daemon serves every row,
//! health, and curl as a client nobody here wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, Reply, have};
use sheaf_proto::routes::{Platform, ROUTES};

const PDF: &[u8] = b"%PDF-1.4\n% a small pdf\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// Calls routes by their table row and records which rows answered their success status.
struct Coverage<'a> {
    d: &'a Daemon,
    hit: BTreeSet<(&'static str, &'static str)>,
}

impl<'a> Coverage<'a> {
    fn new(d: &'a Daemon) -> Self {
        Self {
            d,
            hit: BTreeSet::new(),
        }
    }

    fn row(method: &str, template: &str) -> &'static sheaf_proto::routes::Route {
        ROUTES
            .iter()
            .find(|r| r.method.as_str() == method && r.path == template)
            .unwrap_or_else(|| panic!("{method} {template} is not in ROUTES"))
    }

    /// Sends `method path` (which must match `template`), asserts the row's success status
    /// and a request id, and returns the body.
    fn call(&mut self, method: &str, template: &str, path: &str, body: Option<&Value>) -> Value {
        let route = Self::row(method, template);
        let reply = match body {
            Some(b) => self.d.json(method, path, b),
            None => self.d.request(method, path, None, None),
        };
        assert_eq!(
            reply.status, route.status,
            "{method} {path} answers {}: {}",
            route.status, reply.body
        );
        assert!(
            reply
                .header("x-request-id")
                .is_some_and(|r| r.starts_with("req_")),
            "{method} {path}: {:?}",
            reply.headers
        );
        if route.response.is_some() {
            assert!(
                reply
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("application/json")),
                "{method} {path}"
            );
        }
        // Answers that name their request carry the same id as the header.
        if let Some(id) = reply.body.get("request_id") {
            assert_eq!(id.as_str(), reply.header("x-request-id"), "{method} {path}");
        }
        self.hit.insert((route.method.as_str(), route.path));
        reply.body
    }

    fn mark(&mut self, method: &str, template: &str) {
        let route = Self::row(method, template);
        self.hit.insert((route.method.as_str(), route.path));
    }
}

fn assert_collection(c: &Value, id: &str) {
    assert_eq!(c["id"], id, "{c}");
    for key in ["name", "description"] {
        assert!(c[key].is_string(), "{key}: {c}");
    }
    assert!(c["archived"].is_boolean(), "{c}");
    assert!(c["item_count"].is_u64(), "{c}");
    for f in c["folders"].as_array().expect("folders is a list") {
        assert!(
            f["watch_id"].as_str().is_some_and(|w| w.starts_with("w_")),
            "{c}"
        );
        assert!(
            f["path"].as_str().is_some_and(|p| p.starts_with('/')),
            "{c}"
        );
    }
    assert!(
        c["created_at"].is_string() && c["updated_at"].is_string(),
        "{c}"
    );
    assert!(
        c.get("accept").is_some() && c.get("trashed_at").is_some(),
        "{c}"
    );
}

fn assert_entry(e: &Value, collection: &str, item: &str) {
    assert_eq!(e["collection_id"], collection, "{e}");
    assert_eq!(e["item_id"], item, "{e}");
    assert!(
        e["id"].as_str().is_some_and(|i| i.starts_with("ent_")),
        "{e}"
    );
    assert!(
        e["display_name"].is_string() && e["unique_id"].is_string(),
        "{e}"
    );
    assert!(
        e["metadata"].is_object() && e["merged_metadata"].is_object(),
        "{e}"
    );
    assert!(e["sort_order"].is_i64(), "{e}");
    assert_eq!(e["source"], "manual", "{e}");
    assert!(e.get("deleted_at").is_some(), "{e}");
    for key in ["kind", "path", "size", "mtime"] {
        assert!(e["item"].get(key).is_some(), "item.{key}: {e}");
    }
}

fn assert_item(i: &Value) {
    let id = i["id"].as_str().unwrap();
    let prefix = match i["kind"].as_str().unwrap() {
        "document" => "doc_",
        "image" => "img_",
        "video" => "vid_",
        "audio" => "aud_",
        "text" => "txt_",
        "archive" => "arc_",
        _ => "bin_",
    };
    assert!(id.starts_with(prefix), "{i}");
    for key in [
        "content_type",
        "path",
        "last_path",
        "original_filename",
        "size",
        "mtime",
        "content_hash",
        "metadata",
        "created_at",
        "updated_at",
        "deleted_at",
    ] {
        assert!(i.get(key).is_some(), "{key}: {i}");
    }
}

fn assert_batch(b: &Value, collection: &str) {
    assert!(
        b["op_id"].as_str().is_some_and(|o| o.starts_with("op_")),
        "{b}"
    );
    assert_eq!(b["collection_id"], collection, "{b}");
    let s = &b["summary"];
    for key in [
        "total",
        "succeeded",
        "failed",
        "added",
        "moved",
        "already_in_collection",
    ] {
        assert!(s[key].is_u64(), "{key}: {b}");
    }
    assert_eq!(s["succeeded"], s["total"], "{b}");
    assert_eq!(s["failed"], 0, "{b}");
    assert_eq!(
        s["added"].as_u64().unwrap() + s["already_in_collection"].as_u64().unwrap(),
        s["total"].as_u64().unwrap(),
        "{b}"
    );
    let by_type: u64 = b["items_by_type"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_type, s["total"].as_u64().unwrap(), "{b}");
    assert!(
        b["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_")),
        "{b}"
    );
}

#[test]
fn every_route_in_the_table_answers_its_success_status_and_shape() {
    let d = Daemon::start();
    let mut cov = Coverage::new(&d);

    let health = cov.call("GET", "/v1/health", "/v1/health", None);
    assert_eq!(health["status"], "ok");

    let doc = cov.call("GET", "/v1/openapi.json", "/v1/openapi.json", None);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );

    // Register three files of three kinds.
    let paths = d.files(&[("a.pdf", PDF), ("b.txt", b"hello\n"), ("c.png", PNG)]);
    let registered = cov.call(
        "POST",
        "/v1/items",
        "/v1/items",
        Some(&json!({ "paths": paths })),
    );
    let items = registered["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (item, path) in items.iter().zip(&paths) {
        assert_item(item);
        assert_eq!(item["path"], path.as_str(), "request order");
    }
    let ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let (pdf, txt, png) = (&ids[0], &ids[1], &ids[2]);
    assert_eq!(items[0]["kind"], "document");
    assert_eq!(items[1]["kind"], "text");
    assert_eq!(items[2]["kind"], "image");

    let list = cov.call("GET", "/v1/items", "/v1/items", None);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert!(list["next_cursor"].is_null());

    // Three different files: no duplicates.
    let dups = cov.call("GET", "/v1/duplicates", "/v1/duplicates?limit=10", None);
    assert_eq!(dups, json!({"groups": []}));

    let created = cov.call(
        "POST",
        "/v1/collections",
        "/v1/collections",
        Some(&json!({"id": "research_papers", "description": "papers"})),
    );
    assert_collection(&created, "research_papers");
    assert_eq!(
        created["name"], "research_papers",
        "name defaults to the id"
    );
    assert_eq!(created["item_count"], 0);
    assert!(created["trashed_at"].is_null());

    let cols = cov.call("GET", "/v1/collections", "/v1/collections", None);
    let cols = cols["collections"].as_array().unwrap();
    assert_eq!(cols[0]["id"], "default", "default comes first");
    assert_collection(&cols[1], "research_papers");

    let got = cov.call(
        "GET",
        "/v1/collections/{cid}",
        "/v1/collections/research_papers",
        None,
    );
    assert_collection(&got, "research_papers");

    let patched = cov.call(
        "PATCH",
        "/v1/collections/{cid}",
        "/v1/collections/research_papers",
        Some(&json!({"name": "Research papers"})),
    );
    assert_eq!(patched["name"], "Research papers");

    let batch = cov.call(
        "POST",
        "/v1/collections/{cid}/items",
        "/v1/collections/research_papers/items",
        Some(
            &json!({"items": [pdf, {"id": txt, "display_name": "Notes", "metadata": {"page": 1}}]}),
        ),
    );
    assert_batch(&batch, "research_papers");
    assert_eq!(batch["summary"]["added"], 2);
    assert_eq!(batch["items_by_type"], json!({"document": 1, "text": 1}));
    let add_op = batch["op_id"].as_str().unwrap().to_owned();

    let page = cov.call(
        "GET",
        "/v1/collections/{cid}/items",
        "/v1/collections/research_papers/items",
        None,
    );
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(page["next_cursor"].is_null());
    assert_entry(&entries[0], "research_papers", pdf);
    assert_entry(&entries[1], "research_papers", txt);
    assert_eq!(entries[1]["display_name"], "Notes");
    assert!(entries[0]["sort_order"].as_i64() < entries[1]["sort_order"].as_i64());

    let one = cov.call(
        "POST",
        "/v1/collections/{cid}/items/{item_id}",
        &format!("/v1/collections/research_papers/items/{png}"),
        Some(&json!({"unique_id": "cover", "metadata": {"role": "cover"}})),
    );
    assert_entry(&one, "research_papers", png);
    assert_eq!(one["unique_id"], "cover");

    let entry = cov.call(
        "GET",
        "/v1/collections/{cid}/items/{item_id}",
        &format!("/v1/collections/research_papers/items/{txt}"),
        None,
    );
    assert_entry(&entry, "research_papers", txt);
    assert_eq!(entry["metadata"], json!({"page": 1}));

    let item_patched = cov.call(
        "PATCH",
        "/v1/items/{item_id}",
        &format!("/v1/items/{txt}"),
        Some(&json!({"metadata": {"lang": "en", "page": 9}})),
    );
    assert_item(&item_patched);
    assert_eq!(item_patched["metadata"], json!({"lang": "en", "page": 9}));

    let entry_patched = cov.call(
        "PATCH",
        "/v1/collections/{cid}/items/{item_id}",
        &format!("/v1/collections/research_papers/items/{txt}"),
        Some(&json!({"display_name": "Field notes", "metadata": {"draft": true}})),
    );
    assert_entry(&entry_patched, "research_papers", txt);
    assert_eq!(entry_patched["display_name"], "Field notes");
    assert_eq!(
        entry_patched["merged_metadata"],
        json!({"lang": "en", "page": 1, "draft": true}),
        "the entry's metadata wins over the item's"
    );

    let item = cov.call(
        "GET",
        "/v1/items/{item_id}",
        &format!("/v1/items/{txt}"),
        None,
    );
    assert_item(&item);
    assert_eq!(item["collections"], json!(["research_papers"]));

    let reordered = cov.call(
        "POST",
        "/v1/collections/{cid}/items/reorder",
        "/v1/collections/research_papers/items/reorder",
        Some(&json!({"items": [png]})),
    );
    assert!(reordered["op_id"].as_str().unwrap().starts_with("op_"));
    assert!(reordered["moved"].as_u64().unwrap() >= 1, "{reordered}");
    let first = d.get("/v1/collections/research_papers/items?limit=1").1;
    assert_eq!(first["entries"][0]["item_id"], png.as_str());

    let removed = cov.call(
        "POST",
        "/v1/collections/{cid}/items/remove",
        "/v1/collections/research_papers/items/remove",
        Some(&json!({"items": [png]})),
    );
    assert!(removed["op_id"].as_str().unwrap().starts_with("op_"));
    assert_eq!(
        removed["summary"],
        json!({"total": 1, "removed": 1, "already_removed": 0})
    );

    let deleted = cov.call(
        "DELETE",
        "/v1/collections/{cid}/items/{item_id}",
        &format!("/v1/collections/research_papers/items/{pdf}"),
        None,
    );
    assert_entry(&deleted, "research_papers", pdf);
    assert!(deleted["deleted_at"].is_string(), "soft delete: {deleted}");

    let ops = cov.call("GET", "/v1/ops", "/v1/ops", None);
    let ops_list = ops["ops"].as_array().unwrap();
    assert!(ops["next_cursor"].is_null());
    assert_eq!(
        ops_list.last().unwrap()["id"],
        add_op.as_str(),
        "newest first"
    );
    assert_eq!(ops_list.last().unwrap()["kind"], "link");
    assert_eq!(ops_list[0]["kind"], "remove");

    // Undo the last op (the single remove): the pdf comes back.
    let last_op = ops_list[0]["id"].as_str().unwrap().to_owned();
    let undone = cov.call(
        "POST",
        "/v1/ops/{op_id}/undo",
        &format!("/v1/ops/{last_op}/undo"),
        None,
    );
    assert_eq!(undone["undone"], last_op.as_str());
    assert!(undone["op_id"].as_str().unwrap().starts_with("op_"));
    assert!(undone["restored"].as_u64().unwrap() >= 1);
    let back = d
        .get(&format!("/v1/collections/research_papers/items/{pdf}"))
        .1;
    assert!(back["deleted_at"].is_null(), "{back}");

    // Trash, restore, trash again and purge.
    let trashed = cov.call(
        "DELETE",
        "/v1/collections/{cid}",
        "/v1/collections/research_papers",
        None,
    );
    assert!(trashed["trashed_at"].is_string(), "{trashed}");
    let restored = cov.call(
        "POST",
        "/v1/collections/{cid}/restore",
        "/v1/collections/research_papers/restore",
        None,
    );
    assert!(restored["trashed_at"].is_null(), "{restored}");
    d.call("DELETE", "/v1/collections/research_papers");
    let purged = d.call("DELETE", "/v1/collections/research_papers?purge=true");
    assert_eq!(purged.0, 200, "{}", purged.1);
    assert_eq!(d.get("/v1/collections/research_papers").0, 404);

    // A folder watch: added (201), listed, rescanned, removed.
    let folder = d.dir.path().join("watched");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("w.md"), b"# w").unwrap();
    let body = json!({"path": folder.to_str().unwrap(), "collection": "watched"});
    let watch = cov.call("POST", "/v1/watches", "/v1/watches", Some(&body));
    let wid = watch["id"].as_str().unwrap().to_owned();
    assert!(wid.starts_with("w_"), "{watch}");
    let listed = cov.call("GET", "/v1/watches", "/v1/watches", None);
    assert_eq!(listed["watches"][0]["id"], wid.as_str());
    let rescanned = cov.call(
        "POST",
        "/v1/watches/{wid}/rescan",
        &format!("/v1/watches/{wid}/rescan"),
        None,
    );
    assert_eq!(rescanned["id"], wid.as_str());
    let removed = cov.call(
        "DELETE",
        "/v1/watches/{wid}",
        &format!("/v1/watches/{wid}"),
        None,
    );
    assert_eq!(removed["id"], wid.as_str());

    // A rule: defined (201), listed, read, changed, tried, applied (202), its runs, deleted.
    let body = json!({"name": "tag", "on": ["item.created"], "query": {"kind": ["document"]},
                      "metadata": {"seen": true}});
    let rule = cov.call("POST", "/v1/rules", "/v1/rules", Some(&body));
    let rid = rule["id"].as_str().unwrap().to_owned();
    assert!(rid.starts_with("r_"), "{rule}");
    let listed = cov.call("GET", "/v1/rules", "/v1/rules", None);
    assert_eq!(listed["rules"][0]["id"], rid.as_str());
    let one = cov.call("GET", "/v1/rules/{rid}", &format!("/v1/rules/{rid}"), None);
    assert_eq!(one["name"], "tag");
    let patched = cov.call(
        "PATCH",
        "/v1/rules/{rid}",
        &format!("/v1/rules/{rid}"),
        Some(&json!({"timeout": "1m"})),
    );
    assert_eq!(patched["timeout"], "1m");
    let tried = cov.call(
        "POST",
        "/v1/rules/{rid}/test",
        &format!("/v1/rules/{rid}/test"),
        None,
    );
    assert!(tried["matched"].as_u64().unwrap() >= 1, "{tried}");
    let applying = cov.call(
        "POST",
        "/v1/rules/{rid}/apply",
        &format!("/v1/rules/{rid}/apply"),
        None,
    );
    assert!(applying["apply"]["total"].is_u64(), "{applying}");
    let runs = cov.call(
        "GET",
        "/v1/rules/{rid}/runs",
        &format!("/v1/rules/{rid}/runs"),
        None,
    );
    assert!(runs["runs"].is_array(), "{runs}");
    let deleted = cov.call(
        "DELETE",
        "/v1/rules/{rid}",
        &format!("/v1/rules/{rid}"),
        None,
    );
    assert_eq!(deleted["id"], rid.as_str());

    // The feed, from the beginning: the first line is the first registration.
    let events = d.events("?since=0");
    let first = events.next(Duration::from_secs(10)).expect("an event");
    assert_eq!(first["seq"], 1);
    assert_eq!(first["kind"], "item.created");
    assert!(first["at"].is_string());
    cov.mark("GET", "/v1/events");

    // The platforms' routes (SPEC §8) are exercised in their own files, `dialect_*.rs`.
    let expected: BTreeSet<_> = ROUTES
        .iter()
        .filter(|r| r.platform == Platform::Sheaf)
        .map(|r| (r.method.as_str(), r.path))
        .collect();
    let missed: Vec<_> = expected.difference(&cov.hit).collect();
    assert!(missed.is_empty(), "routes not exercised: {missed:?}");
}

/// Substitutes real ids for the `{…}` parameters of a route path.
fn concrete(path: &str, item: &str, op: &str) -> String {
    path.replace("{cid}", "inbox")
        .replace("{item_id}", item)
        .replace("{op_id}", op)
}

#[test]
fn every_route_in_the_table_is_served_not_404_not_found_or_405() {
    let d = Daemon::start();
    let ids = d.register(&[("x.txt", b"x")]);
    d.create_collection("inbox");
    let op = d.add("inbox", &ids)["op_id"].as_str().unwrap().to_owned();
    for route in ROUTES {
        let path = concrete(route.path, &ids[0], &op);
        let method = route.method.as_str();
        if route.response.is_none() {
            // The event stream: headers only, then hang up.
            drop(d.events(""));
            continue;
        }
        let reply: Reply = if route.body.is_some() {
            d.json(method, &path, &json!({}))
        } else {
            d.request(method, &path, None, None)
        };
        assert_ne!(reply.status, 405, "{method} {path}: {}", reply.body);
        assert_ne!(
            reply.body["error"]["code"], "NOT_FOUND",
            "{method} {path}: {}",
            reply.body
        );
        // The platforms' shapes carry the fallback's sentence instead of the code.
        assert!(
            !reply.body.to_string().contains("no such route"),
            "{method} {path}: {}",
            reply.body
        );
        assert!(reply.header("x-request-id").is_some(), "{method} {path}");
    }
}

#[test]
fn the_openapi_document_lists_every_route_of_the_table() {
    let d = Daemon::start();
    let (s, doc) = d.get("/v1/openapi.json");
    assert_eq!(s, 200);
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing",
            route.method.as_str(),
            route.path
        );
        assert_eq!(op["operationId"], route.operation_id);
    }
}

#[test]
fn a_watched_collection_lists_its_folders_as_watch_id_and_root_path() {
    let d = Daemon::start();
    let mut roots = Vec::new();
    for name in ["one", "two"] {
        let folder = d.dir.path().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let body = json!({"path": folder.to_str().unwrap(), "collection": "watched"});
        let (s, w) = d.send("POST", "/v1/watches", &body);
        assert_eq!(s, 201, "{w}");
        let root = std::fs::canonicalize(&folder).unwrap();
        assert_eq!(w["path"], root.to_str().unwrap(), "{w}");
        roots.push(json!({"watch_id": w["id"], "path": w["path"]}));
    }

    let (s, c) = d.get("/v1/collections/watched");
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["folders"], json!(roots), "{c}");
    let (_, list) = d.get("/v1/collections");
    let listed = list["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "watched")
        .unwrap();
    assert_eq!(listed["folders"], json!(roots), "{list}");

    let first = roots[0]["watch_id"].as_str().unwrap();
    let (s, _) = d.call("DELETE", &format!("/v1/watches/{first}"));
    assert_eq!(s, 200);
    let (_, c) = d.get("/v1/collections/watched");
    assert_eq!(c["folders"], json!(roots[1..]), "{c}");
}

#[test]
fn health_reports_api_version_configured_limits_and_a_growing_last_seq() {
    // Without the background hasher, whose `item.updated` events would move last_seq under
    // the check that a re-registration commits nothing.
    let d = Daemon::start_with_config(
        "max_batch = 7\nmax_select = 70\nmax_body_bytes = 65536\ncontent_hashes = false\n",
    );
    let (s, h) = d.get("/v1/health");
    assert_eq!(s, 200);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["api_version"], sheaf_proto::API_VERSION);
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(h["uptime_s"].is_u64());
    assert_eq!(
        h["limits"],
        json!({"max_batch": 7, "max_select": 70, "max_body_bytes": 65536})
    );
    assert_eq!(h["store"]["path"], d.database.to_str().unwrap());
    assert!(h["store"]["schema_version"].as_u64().unwrap() >= 1);
    assert_eq!(h["store"]["items"], 0);
    assert_eq!(h["store"]["last_seq"], 0);
    assert_eq!(h["watches"], json!([]));

    let mut last = 0;
    let paths = d.files(&[("a.txt", b"a"), ("b.txt", b"b")]);
    let ids = d.register_paths(&paths);
    let seq = d.last_seq();
    assert!(seq > last, "registering grows last_seq");
    last = seq;
    d.create_collection("c");
    let seq = d.last_seq();
    assert!(seq > last, "creating a collection grows last_seq");
    last = seq;
    assert_eq!(
        d.register_paths(&paths),
        ids,
        "registering is idempotent by path"
    );
    assert_eq!(
        d.last_seq(),
        last,
        "an unchanged re-registration commits nothing"
    );
    d.add("c", &ids);
    assert!(d.last_seq() > last, "a batch add grows last_seq");
    assert_eq!(d.get("/v1/health").1["store"]["items"], 2);
}

#[test]
fn curl_reads_health_and_batch_adds_over_the_socket() {
    if !have("curl") {
        eprintln!("SKIPPED: curl is not installed");
        return;
    }
    let d = Daemon::start();
    let sock = d.socket.to_str().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-i", "--unix-socket", sock, "http://sheaf/v1/health"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("x-request-id: req_"),
        "{text}"
    );
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["status"], "ok");

    let ids = d.register(&[("a.pdf", PDF), ("b.png", PNG)]);
    let out = Command::new("curl")
        .args([
            "-sS",
            "--unix-socket",
            sock,
            "-H",
            "Content-Type: application/json",
            "-d",
            &json!({"items": ids, "create": true}).to_string(),
            "-w",
            "\n%{http_code}",
            "http://sheaf/v1/collections/from_curl/items",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    assert_eq!(code, "200", "{text}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_batch(&body, "from_curl");
    assert_eq!(body["summary"]["added"], 2);
    assert_eq!(d.get("/v1/collections/from_curl").1["item_count"], 2);
}

#[test]
fn a_single_add_with_a_json_content_type_and_an_empty_body_adds_the_item() {
    let d = Daemon::start();
    d.create_collection("inbox");
    let ids = d.register(&[("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")]);
    // An empty body is no body (SPEC §2.1), whatever its Content-Type says.
    for (id, content_type) in [(&ids[0], Some("application/json")), (&ids[1], None)] {
        let r = d.request(
            "POST",
            &format!("/v1/collections/inbox/items/{id}"),
            content_type,
            Some(Vec::new()),
        );
        assert_eq!(r.status, 201, "{content_type:?}: {}", r.body);
        assert_eq!(r.body["item_id"], id.as_str());
    }
    // A body that is there must still be JSON.
    let r = d.request(
        "POST",
        &format!("/v1/collections/inbox/items/{}", ids[2]),
        Some("text/plain"),
        Some(b"{}".to_vec()),
    );
    sheaf_e2e::assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
}
