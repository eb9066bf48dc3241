//! Rules over the API and the CLI (SPEC §7.3), against the real sheafd: defining, listing,
//! changing and deleting them, `test` (a dry run that changes nothing), `apply` over the
//! items that exist (batched, with progress, each item taken up once, its program run),
//! runs, and `/v1/health`. Who may define a rule that runs programs is in `errors.rs`.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sheaf_e2e::folders::WAIT;
use sheaf_e2e::{Daemon, assert_error, wait_until};

fn papers_rule(name: &str) -> Value {
    json!({
        "name": name,
        "on": ["item.created"],
        "query": {"kind": ["document"]},
        "link": ["papers"],
        "metadata": {"inbox": true},
    })
}

/// Registers `n` PDFs and `n` text files; answers the PDFs' item ids.
fn documents_and_notes(d: &Daemon, n: usize) -> Vec<String> {
    let files = |name: &str, body: &str| -> Vec<(String, Vec<u8>)> {
        (0..n)
            .map(|i| (format!("{i}{name}"), format!("{body} {i}").into_bytes()))
            .collect()
    };
    let register = |files: &[(String, Vec<u8>)]| {
        let names: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        d.register(&names)
    };
    let pdfs = register(&files("p.pdf", "%PDF-1.4"));
    register(&files("n.txt", "note"));
    pdfs
}

fn apply_done(d: &Daemon, rid: &str) -> Value {
    let mut last = Value::Null;
    assert!(
        wait_until(WAIT, || {
            last = d.get(&format!("/v1/rules/{rid}")).1;
            last["apply"]["state"] == "done"
        }),
        "the apply did not finish: {last}"
    );
    last
}

#[test]
fn rules_are_defined_listed_changed_and_deleted_and_shown_in_health() {
    let d = Daemon::start();
    let (s, rule) = d.send("POST", "/v1/rules", &papers_rule("papers"));
    assert_eq!(s, 201, "{rule}");
    let rid = rule["id"].as_str().unwrap().to_owned();
    assert!(rid.starts_with("r_"), "{rule}");
    assert_eq!(rule["origin"], "api");
    assert_eq!(rule["query"], json!({"kind": ["document"]}));
    assert_eq!(rule["link"], json!(["papers"]));
    assert_eq!(rule["timeout"], "10m", "the default, shown");

    assert_error(
        &d.send("POST", "/v1/rules", &papers_rule("papers")),
        409,
        "RULE_EXISTS",
    );
    // A bad definition is refused whole, every problem located under the body.
    let mut bad = papers_rule("other");
    bad["run"] = json!(["echo", "{colour}"]);
    bad["on"] = json!(["item.exploded"]);
    let details = assert_error(&d.send("POST", "/v1/rules", &bad), 400, "VALIDATION_ERROR");
    let locs: Vec<Value> = details
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["loc"].clone())
        .collect();
    assert!(locs.contains(&json!(["body", "run", 1])), "{details}");
    assert!(locs.contains(&json!(["body", "on", 0])), "{details}");

    let (_, list) = d.get("/v1/rules");
    assert_eq!(list["rules"].as_array().unwrap().len(), 1, "{list}");
    let (_, health) = d.get("/v1/health");
    assert_eq!(health["rules"][0]["id"], rid.as_str(), "{health}");

    // PATCH: the fields given replace the rule's; null removes one.
    let (s, changed) = d.send(
        "PATCH",
        &format!("/v1/rules/{rid}"),
        &json!({"name": "pdfs", "metadata": null, "timeout": "30s"}),
    );
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["name"], "pdfs");
    assert!(changed.get("metadata").is_none(), "{changed}");
    assert_eq!(changed["timeout"], "30s");
    assert_eq!(changed["link"], json!(["papers"]), "untouched fields stay");

    let (s, gone) = d.call("DELETE", &format!("/v1/rules/{rid}"));
    assert_eq!(s, 200, "{gone}");
    assert_eq!(gone["name"], "pdfs");
    assert_error(&d.get(&format!("/v1/rules/{rid}")), 404, "RULE_NOT_FOUND");
    let (_, list) = d.get("/v1/rules");
    assert_eq!(list["rules"], json!([]));
}

#[test]
fn test_answers_what_a_rule_would_do_changing_nothing_and_apply_does_it_once() {
    // Without the hasher, whose `item.updated` events would move the feed under the check
    // that a dry run changes nothing.
    let d = Daemon::start_with_config("content_hashes = false\n");
    let pdfs = documents_and_notes(&d, 300);
    let (_, rule) = d.send("POST", "/v1/rules", &papers_rule("papers"));
    let rid = rule["id"].as_str().unwrap().to_owned();
    let (_, before) = d.get("/v1/health");

    let (s, test) = d.call("POST", &format!("/v1/rules/{rid}/test?limit=5"));
    assert_eq!(s, 200, "{test}");
    assert_eq!(test["scanned"], 600, "{test}");
    assert_eq!(test["matched"], 300, "{test}");
    assert_eq!(test["items"].as_array().unwrap().len(), 5);
    let first = &test["items"][0];
    assert!(pdfs.contains(&first["item_id"].as_str().unwrap().to_owned()));
    assert_eq!(first["link"], json!(["papers"]));
    assert_eq!(first["metadata"], json!({"inbox": true}));
    let (_, after) = d.get("/v1/health");
    assert_eq!(
        before["store"]["last_seq"], after["store"]["last_seq"],
        "a dry run changes nothing"
    );
    assert_error(
        &d.get("/v1/collections/papers"),
        404,
        "COLLECTION_NOT_FOUND",
    );

    // Apply: 202 at once, then done in batches; each PDF linked and tagged once.
    let (s, started) = d.call("POST", &format!("/v1/rules/{rid}/apply"));
    assert_eq!(s, 202, "{started}");
    assert!(started["apply"].is_object(), "{started}");
    let done = apply_done(&d, &rid);
    assert_eq!(done["apply"]["applied"], 300, "{done}");
    assert_eq!(done["apply"]["scanned"], 600, "{done}");
    let (_, papers) = d.get("/v1/collections/papers");
    assert_eq!(papers["item_count"], 300, "{papers}");
    let (_, item) = d.get(&format!("/v1/items/{}", pdfs[7]));
    assert_eq!(item["metadata"], json!({"inbox": true}), "{item}");
    let (_, entry) = d.get(&format!("/v1/collections/papers/items/{}", pdfs[7]));
    assert_eq!(entry["source"], format!("rule:{rid}"), "{entry}");
    let (_, runs) = d.get(&format!("/v1/rules/{rid}/runs?limit=1000"));
    assert_eq!(runs["runs"].as_array().unwrap().len(), 300, "{runs}");
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true)
    );

    // Applied again, it finds everything done: no operation is logged.
    let ops = |d: &Daemon| {
        d.get("/v1/ops?limit=1000").1["ops"]
            .as_array()
            .unwrap()
            .len()
    };
    let logged = ops(&d);
    d.call("POST", &format!("/v1/rules/{rid}/apply"));
    apply_done(&d, &rid);
    let (s, test) = d.call("POST", &format!("/v1/rules/{rid}/test?limit=1"));
    assert_eq!(s, 200);
    assert_eq!(test["items"][0]["link"], json!([]), "{test}");
    assert_eq!(test["items"][0]["metadata"], json!({}), "{test}");
    let (_, papers) = d.get("/v1/collections/papers");
    assert_eq!(papers["item_count"], 300);
    assert_eq!(ops(&d), logged);
}

#[test]
fn an_apply_runs_the_rules_program_once_for_each_existing_match() {
    let d = Daemon::start();
    let pdfs = documents_and_notes(&d, 40);
    let log = d.dir.path().join("ran.log");
    let rule = json!({
        "name": "ocr",
        "on": ["item.created"],
        "query": {"kind": ["document"]},
        // The daemon never uses a shell; a rule may ask for one.
        "run": ["/bin/sh", "-c", format!("echo \"$SHEAF_ITEM_ID $SHEAF_EVENT_SEQ\" >> {}", log.display())],
        "timeout": "30s",
    });
    let (s, rule) = d.send("POST", "/v1/rules", &rule);
    assert_eq!(s, 201, "{rule}");
    let rid = rule["id"].as_str().unwrap().to_owned();
    d.call("POST", &format!("/v1/rules/{rid}/apply"));
    apply_done(&d, &rid);
    let lines = || -> Vec<String> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert!(
        wait_until(WAIT, || lines().len() >= pdfs.len()),
        "ran {} times",
        lines().len()
    );
    std::thread::sleep(Duration::from_millis(500));
    let mut ran: Vec<String> = lines()
        .iter()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    ran.sort();
    let mut want = pdfs.clone();
    want.sort();
    assert_eq!(ran, want, "each match once");
    // Each run was given the rule.applied event that took the item up.
    let lines = lines();
    let seqs: std::collections::BTreeSet<&str> =
        lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(seqs.len(), pdfs.len(), "one event per item");
}

#[test]
fn the_cli_adds_tests_applies_lists_and_removes_rules() {
    let d = Daemon::start();
    documents_and_notes(&d, 3);
    let sheaf = |args: &[&str]| {
        let out = Command::new(sheaf_e2e::sheaf())
            .arg("--socket")
            .arg(&d.socket)
            .args(args)
            .env("NO_COLOR", "1")
            .env("SHEAF_NO_AUTOSTART", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "sheaf {args:?}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let added = sheaf(&[
        "rules",
        "add",
        "papers",
        "--query",
        r#"{"kind": ["document"]}"#,
        "--link",
        "papers",
        "--",
        "/bin/true",
        "{path}",
    ]);
    assert!(added.contains("rule papers defined"), "{added}");
    let test = sheaf(&["rules", "test", "papers"]);
    assert!(test.contains("3 of 6 items match"), "{test}");
    assert!(test.contains("link papers; run /bin/true"), "{test}");
    let applied = sheaf(&["rules", "apply", "papers"]);
    assert!(
        applied.contains("applied papers to 3 of 6 items"),
        "{applied}"
    );
    let ls = sheaf(&["rules"]);
    assert!(ls.contains("link papers, run /bin/true"), "{ls}");
    assert!(
        wait_until(WAIT, || sheaf(&["--json", "rules", "runs", "papers"])
            .matches("\"ok\":true")
            .count()
            == 3),
        "three runs"
    );
    let runs = sheaf(&["rules", "runs", "papers"]);
    assert!(runs.contains("ran"), "{runs}");
    let rm = sheaf(&["rules", "rm", "papers"]);
    assert!(rm.contains("deleted"), "{rm}");
    assert!(sheaf(&["rules"]).contains("no rules"));
}
