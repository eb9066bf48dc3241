//! Rules end to end (SPEC §7.3): a `[[rule]]` of the config file, the real sheafd, a real
//! watched folder, a real child process. A PDF dropped into the folder is linked, tagged
//! and handed to the program once each; the program reads the event on stdin and the
//! documented environment; the rule's own changes do not fire it again; and a restart
//! neither repeats nor misses anything.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sheaf_e2e::folders::{WAIT, folder, text, write};
use sheaf_e2e::{Daemon, rules, wait_until};

/// A program that appends what it was given (argv, environment, stdin) as one JSON line.
fn recorder(dir: &Path) -> std::path::PathBuf {
    rules::recorder(
        &dir.join("record.sh"),
        &dir.join("runs.jsonl"),
        "stdin=$(cat)\n",
        "'{\"argv\":\"%s\",\"item\":\"%s\",\"path\":\"%s\",\"rule\":\"%s\",\"seq\":\"%s\",\"stdin\":%s}\\n' \
         \"$*\" \"$SHEAF_ITEM_ID\" \"$SHEAF_PATH\" \"$SHEAF_RULE\" \"$SHEAF_EVENT_SEQ\" \"$stdin\"",
    )
}

fn runs(dir: &Path) -> Vec<Value> {
    rules::log_lines(&dir.join("runs.jsonl"))
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn a_rule_links_tags_and_runs_its_program_once_for_a_file_dropped_into_a_watched_folder() {
    let mut d = Daemon::unstarted("");
    let inbox = folder(&d, "inbox");
    let script = recorder(d.dir.path());
    rules::watch_and_rule(
        &d,
        &inbox,
        &format!(
            "name = \"papers\"\non = [\"item.created\", \"item.updated\"]\n\
             query = {{ kind = [\"document\"], path = [\"{inbox}/**\"] }}\n\
             link = [\"papers\"]\nmetadata = {{ inbox = true }}\n\
             run = [\"{script}\", \"--file\", \"{{path}}\", \"{{stem}}\"]\ntimeout = \"30s\"\n",
            inbox = text(&inbox),
            script = text(&script),
        ),
    );
    d.spawn();
    let (s, health) = d.get("/v1/health");
    assert_eq!(s, 200, "{health}");

    write(&inbox.join("report.pdf"), b"%PDF-1.4 a report");
    write(&inbox.join("notes.txt"), b"not a document");
    assert!(
        wait_until(WAIT, || runs(d.dir.path()).len() == 1),
        "the program ran {} times",
        runs(d.dir.path()).len()
    );
    let run = &runs(d.dir.path())[0];
    let pdf = inbox.join("report.pdf");
    assert_eq!(run["argv"], format!("--file {} report", text(&pdf)));
    assert_eq!(run["path"], text(&pdf));
    assert!(run["rule"].as_str().unwrap().starts_with("r_"), "{run}");
    let item = run["item"].as_str().unwrap().to_owned();
    assert!(item.starts_with("doc_"), "{run}");
    // The event on stdin is the feed's own line.
    assert_eq!(run["stdin"]["kind"], "item.created", "{run}");
    assert_eq!(run["stdin"]["item_id"], item.as_str(), "{run}");
    assert_eq!(
        run["stdin"]["seq"].to_string(),
        run["seq"].as_str().unwrap()
    );

    // The store actions: linked into papers as the rule's entry, tagged.
    let (s, entry) = d.get(&format!("/v1/collections/papers/items/{item}"));
    assert_eq!(s, 200, "{entry}");
    assert_eq!(
        entry["source"],
        format!("rule:{}", run["rule"].as_str().unwrap())
    );
    let (_, it) = d.get(&format!("/v1/items/{item}"));
    assert_eq!(it["metadata"], json!({"inbox": true}), "{it}");
    let (_, papers) = d.get("/v1/collections/papers");
    assert_eq!(
        papers["item_count"], 1,
        "the text file is not a document: {papers}"
    );

    // The rule's own metadata patch (an item.updated) did not fire it again, nor will the
    // program's run: nothing more happens.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(runs(d.dir.path()).len(), 1);

    // Restarted, it neither repeats the event nor misses one that came while it was down.
    d.stop();
    write(&inbox.join("later.pdf"), b"%PDF-1.4 later");
    d.spawn();
    assert!(
        wait_until(WAIT, || runs(d.dir.path()).len() == 2),
        "after the restart the program ran {} times in all",
        runs(d.dir.path()).len()
    );
    assert_eq!(
        runs(d.dir.path())[1]["path"],
        text(&inbox.join("later.pdf"))
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(runs(d.dir.path()).len(), 2);
    let (_, papers) = d.get("/v1/collections/papers");
    assert_eq!(papers["item_count"], 2, "{papers}");
}
