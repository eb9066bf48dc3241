//! The `sheaf` binary end to end: every command's `--json` output, the exit codes scripts
//! branch on, batching of large inputs into one summary, paths registered then added,
//! moves, folder watches and `sheaf open` on real folders, autostart of a real sheafd, and
//! the two faults only a fake daemon can inject (another API version, a daemon that never
//! answers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::Daemon;

/// A finished `sheaf` run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// stdout as one JSON document.
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// stdout as one JSON document per line.
    fn json_lines(&self) -> Vec<Value> {
        assert_eq!(self.code, 0, "{self:?}");
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: line {l:?}")))
            .collect()
    }

    /// Asserts the exit code and that the first stderr line is `sheaf: CODE: …`.
    fn fails(&self, exit: i32, code: &str) -> &Self {
        assert_eq!(self.code, exit, "{self:?}");
        let first = self.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("sheaf: {code}: ")),
            "first stderr line {first:?}; {self:?}"
        );
        assert!(!self.stderr.contains('\x1b'), "plain text: {self:?}");
        self
    }
}

/// `sheaf` with a clean environment: no autostart, no colour, no inherited socket.
fn command(socket: &Path) -> Command {
    let mut cmd = Command::new(sheaf_e2e::sheaf());
    cmd.env_remove("SHEAF_SOCKET")
        .env_remove("SHEAF_DATABASE")
        .env_remove("SHEAF_CONFIG")
        .env("SHEAF_NO_AUTOSTART", "1")
        .env("NO_COLOR", "1")
        .arg("--socket")
        .arg(socket);
    cmd
}

fn run(mut cmd: Command, stdin: &str) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        // The command may exit without reading; a closed pipe is fine then.
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn sheaf(d: &Daemon, args: &[&str]) -> Run {
    sheaf_in(d, args, "")
}

fn sheaf_in(d: &Daemon, args: &[&str], stdin: &str) -> Run {
    let mut cmd = command(&d.socket);
    cmd.args(args);
    run(cmd, stdin)
}

/// Creates `n` text files and registers them through the API; answers their ids.
fn register(d: &Daemon, prefix: &str, n: usize) -> Vec<String> {
    let names: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            (
                format!("{prefix}{i}.txt"),
                format!("{prefix} {i}\n").into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = names
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let paths = d.files(&refs);
    let (_, health) = d.get("/v1/health");
    let max = usize::try_from(health["limits"]["max_batch"].as_u64().unwrap()).unwrap();
    let mut ids = Vec::with_capacity(n);
    for chunk in paths.chunks(max) {
        let (s, body) = d.send("POST", "/v1/items", &json!({ "paths": chunk }));
        assert_eq!(s, 200, "{body}");
        ids.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
    }
    ids
}

/// The ids of `sheaf --json collections`, in its order.
fn collection_ids(list: &Value) -> Vec<&str> {
    list["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

fn item_ids(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_json_output_of_every_command_parses() {
    let d = Daemon::start();
    let ids = register(&d, "j", 3);

    let health = sheaf(&d, &["--json", "status"]).json();
    assert_eq!(health["api_version"], sheaf_proto::API_VERSION);
    assert_eq!(health["limits"]["max_batch"], 1000);

    let created = sheaf(
        &d,
        &[
            "collections",
            "create",
            "papers",
            "--name",
            "Papers",
            "--json",
        ],
    )
    .json();
    assert_eq!(created["id"], "papers");
    assert_eq!(created["name"], "Papers");
    let list = sheaf(&d, &["--json", "collections"]).json();
    assert_eq!(collection_ids(&list), ["default", "papers"]);
    assert_eq!(
        sheaf(&d, &["--json", "collections", "ls"]).json()["collections"],
        list["collections"]
    );

    let mut args = vec!["--json", "add", "papers"];
    args.extend(ids.iter().map(String::as_str));
    let added = sheaf(&d, &args).json();
    assert_eq!(added["collection_id"], "papers");
    assert_eq!(added["summary"]["total"], 3);
    assert_eq!(added["summary"]["added"], 3);
    assert_eq!(added["items_by_type"]["text"], 3);
    assert_eq!(added["batches"], 1);
    assert!(added["op_ids"][0].as_str().unwrap().starts_with("op_"));

    let entries = sheaf(&d, &["--json", "ls", "papers"]).json_lines();
    assert_eq!(item_ids(&entries), ids, "one entry per line, in order");
    assert_eq!(entries[0]["collection_id"], "papers");
    let quiet = sheaf(&d, &["ls", "papers", "-q"]);
    assert_eq!(quiet.stdout.lines().collect::<Vec<_>>(), ids);

    let shown = sheaf(&d, &["--json", "collections", "show", "papers"]).json();
    assert_eq!(shown["item_count"], 3);
    let edited = sheaf(
        &d,
        &[
            "--json",
            "collections",
            "edit",
            "papers",
            "--description",
            "Reading list",
        ],
    )
    .json();
    assert_eq!(edited["description"], "Reading list");

    let removed = sheaf(&d, &["--json", "rm", "papers", &ids[0]]).json();
    assert_eq!(removed["summary"]["removed"], 1);
    let undone = sheaf(&d, &["--json", "undo"]).json();
    assert_eq!(undone["undone"], removed["op_ids"][0]);
    assert_eq!(undone["restored"], 1);

    for (verb, check) in [
        ("archive", json!({"archived": true})),
        ("unarchive", json!({"archived": false})),
    ] {
        let c = sheaf(&d, &["--json", "collections", verb, "papers"]).json();
        assert_eq!(c["archived"], check["archived"], "{verb}");
    }
    let trashed = sheaf(&d, &["--json", "collections", "trash", "papers"]).json();
    assert!(trashed["trashed_at"].is_string());
    let restored = sheaf(&d, &["--json", "collections", "restore", "papers"]).json();
    assert!(restored["trashed_at"].is_null());
    sheaf(&d, &["--json", "collections", "trash", "papers"]).json();
    let purged = sheaf(&d, &["--json", "collections", "purge", "papers"]).json();
    assert_eq!(purged["id"], "papers");
    sheaf(&d, &["collections", "show", "papers"]).fails(4, "COLLECTION_NOT_FOUND");

    let events = read_events(&d, &["--json", "events", "--since", "0"], 5);
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(events.iter().all(|e| e["kind"].is_string()));
}

/// Runs `sheaf … events`, reads `n` lines, then stops it.
fn read_events(d: &Daemon, args: &[&str], n: usize) -> Vec<Value> {
    let mut cmd = command(&d.socket);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    while out.len() < n {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => out.push(serde_json::from_str(&line).unwrap()),
            Err(e) => {
                child.kill().ok();
                panic!("only {} events within 10 s: {e}; {out:?}", out.len());
            }
        }
    }
    child.kill().ok();
    child.wait().ok();
    out
}

#[test]
fn events_print_changes_as_they_happen() {
    let d = Daemon::start();
    let mut cmd = command(&d.socket);
    cmd.arg("events")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if stdout.read_line(&mut line).is_ok() {
            let _ = tx.send(line);
        }
    });
    // Without --since only new events show; commit until `sheaf` is connected and prints.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    let got = loop {
        n += 1;
        let (s, body) = d.send("POST", "/v1/collections", &json!({ "id": format!("c{n}") }));
        assert_eq!(s, 201, "{body}");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            break line;
        }
        assert!(Instant::now() < deadline, "no event printed within 10 s");
    };
    child.kill().ok();
    child.wait().ok();
    assert!(got.contains("collection.created"), "{got:?}");
    assert!(
        got.split_whitespace()
            .next()
            .unwrap()
            .parse::<u64>()
            .is_ok(),
        "{got:?}"
    );
}

#[test]
fn events_end_with_exit_8_and_a_resume_hint_when_the_daemon_stops() {
    let mut d = Daemon::start();
    d.send("POST", "/v1/collections", &json!({"id": "a"}));
    let mut cmd = command(&d.socket);
    cmd.args(["events", "--since", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("collection.created"), "{first:?}");
    assert!(d.stop().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "sheaf events outlived the daemon"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("sheaf events --since 1"), "{stderr}");
}

#[test]
fn exit_codes_tell_not_found_conflict_invalid_and_usage_apart() {
    let d = Daemon::start();
    sheaf(&d, &["ls", "nope"]).fails(4, "COLLECTION_NOT_FOUND");
    sheaf(&d, &["undo", "op_01JD3Q2X9K8M7N6P5R4S3T2V1W"]).fails(4, "OP_NOT_FOUND");
    let missing = sheaf(
        &d,
        &["add", "inbox", "--create", "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W"],
    );
    missing.fails(4, "ITEMS_NOT_FOUND");
    assert!(
        missing
            .stderr
            .contains("missing: doc_01JD3Q2X9K8M7N6P5R4S3T2V1W"),
        "details follow the error line: {missing:?}"
    );
    let nothing = sheaf(&d, &["undo"]);
    assert_eq!(nothing.code, 4, "{nothing:?}");
    assert!(
        nothing.stderr.starts_with("sheaf: nothing to undo"),
        "{nothing:?}"
    );

    sheaf(&d, &["collections", "create", "papers"]);
    sheaf(&d, &["collections", "create", "papers"]).fails(5, "COLLECTION_EXISTS");
    let ids = register(&d, "x", 1);
    sheaf(&d, &["collections", "archive", "papers"]);
    sheaf(&d, &["add", "papers", &ids[0]]).fails(5, "COLLECTION_ARCHIVED");

    sheaf(&d, &["add", "inbox", "doc_oops"]).fails(6, "INVALID_ID");
    sheaf(&d, &["collections", "create", "Not A Slug"]).fails(6, "VALIDATION_ERROR");
    let missing_file = sheaf(&d, &["add", "inbox", "/nonexistent/file.txt"]);
    missing_file.fails(4, "ITEMS_NOT_FOUND");

    let usage = sheaf(&d, &["add", "papers"]);
    assert_eq!(usage.code, 2, "{usage:?}");
    let usage = sheaf(&d, &["add", "papers", "x", "--from", "inbox"]);
    assert_eq!(usage.code, 2, "--from needs --move: {usage:?}");
    let empty = sheaf_in(&d, &["add", "papers", "-"], "\n\n");
    assert_eq!(empty.code, 2, "{empty:?}");
}

#[test]
fn the_exit_codes_are_documented_in_help() {
    let help = run(with(command(Path::new("/unused")), &["--help"]), "");
    assert_eq!(help.code, 0);
    for line in [
        "0  success",
        "3  sheafd unreachable",
        "4  not found",
        "5  conflict",
        "6  invalid request",
        "7  permission",
        "8  busy",
        "9  the daemon's storage failed",
    ] {
        assert!(help.stdout.contains(line), "{line:?} in {}", help.stdout);
    }
    let add = run(with(command(Path::new("/unused")), &["add", "--help"]), "");
    assert!(
        add.stdout.contains("not atomic as a whole"),
        "{}",
        add.stdout
    );
}

/// `cmd` with more arguments.
fn with(mut cmd: Command, args: &[&str]) -> Command {
    cmd.args(args);
    cmd
}

#[test]
fn with_autostart_off_and_no_daemon_the_exit_code_is_three() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none/sheafd.sock");
    let r = run(with(command(&socket), &["status"]), "");
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.starts_with("sheaf: sheafd is not running on "),
        "{r:?}"
    );
    assert!(r.stderr.contains(socket.to_str().unwrap()), "{r:?}");
    assert!(!socket.exists(), "nothing was started");
}

#[test]
fn adding_2500_ids_from_stdin_prints_one_combined_summary() {
    let d = Daemon::start();
    let ids = register(&d, "big", 2500);
    let stdin = ids.join("\n") + "\n";

    let r = sheaf_in(&d, &["--json", "add", "big", "--create", "-"], &stdin);
    let report = r.json();
    assert_eq!(r.stdout.lines().count(), 1, "one summary: {}", r.stdout);
    assert_eq!(report["summary"]["total"], 2500);
    assert_eq!(report["summary"]["succeeded"], 2500);
    assert_eq!(report["summary"]["added"], 2500);
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["items_by_type"]["text"], 2500);
    assert_eq!(report["batches"], 3, "max_batch is 1000");
    assert_eq!(report["op_ids"].as_array().unwrap().len(), 3);

    let listed = sheaf(&d, &["--json", "ls", "big"]).json_lines();
    assert_eq!(item_ids(&listed), ids, "all 2500, in input order");
    let (_, c) = d.get("/v1/collections/big");
    assert_eq!(c["item_count"], 2500);

    // Again, as a human, with duplicates: one line, everything already there.
    let doubled = format!("{stdin}{stdin}");
    let again = sheaf_in(&d, &["add", "big", "-"], &doubled);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout.lines().count(), 1, "{}", again.stdout);
    assert!(
        again
            .stdout
            .starts_with("big: total 2500 · added 0 · moved 0 · already there 2500"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("3 batches"), "{}", again.stdout);
}

#[test]
fn a_multi_batch_add_is_atomic_per_batch_and_names_the_applied_ops() {
    let d = Daemon::start_with_config("max_batch = 2\n");
    let ids = register(&d, "p", 4);
    let mut input = ids.clone();
    input.push("doc_01JD3Q2X9K8M7N6P5R4S3T2V1W".to_owned());
    let r = sheaf_in(&d, &["add", "part", "--create", "-"], &input.join("\n"));
    r.fails(4, "ITEMS_NOT_FOUND");
    assert!(r.stderr.contains("2 of 3 batches (4 items)"), "{r:?}");
    let (_, c) = d.get("/v1/collections/part");
    assert_eq!(c["item_count"], 4, "the first two batches stay applied");
    let ops: Vec<&str> = r
        .stderr
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .filter(|w| w.starts_with("op_"))
        .collect();
    assert_eq!(ops.len(), 2, "{r:?}");
    for op in ops {
        assert_eq!(sheaf(&d, &["undo", op]).code, 0);
    }
    let (_, c) = d.get("/v1/collections/part");
    assert_eq!(
        c["item_count"], 0,
        "undoing the named ops reverts the batches"
    );
}

#[test]
fn paths_are_registered_then_added_and_relative_ones_are_taken_from_the_cwd() {
    let d = Daemon::start();
    let paths = d.files(&[
        ("docs/a.txt", b"a\n"),
        ("docs/sub/b.md", b"# b\n"),
        ("c.txt", b"c\n"),
    ]);
    let cwd = d.dir.path().join("files/docs");
    let mut cmd = command(&d.socket);
    cmd.current_dir(&cwd).args([
        "--json",
        "add",
        "notes",
        "--create",
        "a.txt",
        "./sub/../sub/b.md",
        "-",
    ]);
    let r = run(cmd, &format!("{}\n", paths[2]));
    let report = r.json();
    assert_eq!(report["summary"]["added"], 3);
    assert_eq!(report["paths_registered"], 3);

    let listed = sheaf(&d, &["--json", "ls", "notes"]).json_lines();
    let listed_paths: Vec<&str> = listed
        .iter()
        .map(|e| e["item"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed_paths, paths, "absolute, normalised, in order");

    // Registering is idempotent: the same files again are the same items.
    let mut cmd = command(&d.socket);
    cmd.current_dir(&cwd)
        .args(["--json", "add", "notes", "a.txt"]);
    let again = run(cmd, "").json();
    assert_eq!(again["summary"]["already_in_collection"], 1);

    // Paths work for rm too.
    let mut cmd = command(&d.socket);
    cmd.current_dir(&cwd)
        .args(["--json", "rm", "notes", "a.txt"]);
    assert_eq!(run(cmd, "").json()["summary"]["removed"], 1);
    let deleted = sheaf(&d, &["--json", "ls", "notes", "--deleted"]).json_lines();
    assert_eq!(deleted.len(), 3);
    assert!(deleted[0]["deleted_at"].is_string());
}

#[test]
fn move_from_takes_items_out_of_the_source_only() {
    let d = Daemon::start();
    let ids = register(&d, "m", 3);
    let all = ids.join("\n");
    sheaf_in(&d, &["add", "inbox", "--create", "-"], &all);
    sheaf_in(&d, &["add", "keep", "--create", "-"], &all);
    let r = sheaf(
        &d,
        &[
            "--json", "add", "done", "--create", "--move", "--from", "inbox", &ids[0], &ids[1],
        ],
    )
    .json();
    assert_eq!(r["summary"]["moved"], 2);
    assert_eq!(r["summary"]["added"], 2);
    let left = sheaf(&d, &["ls", "inbox", "-q"]);
    assert_eq!(left.stdout.trim(), ids[2]);
    let keep = sheaf(&d, &["ls", "keep", "-q"]);
    assert_eq!(
        keep.stdout.lines().count(),
        3,
        "other collections are untouched"
    );
    // Not in the source any more: refused, nothing changes.
    sheaf(&d, &["add", "done", "--move", "--from", "inbox", &ids[0]]).fails(5, "NOT_IN_SOURCE");
}

#[test]
fn human_output_is_plain_aligned_text_without_colour_when_piped() {
    let d = Daemon::start();
    let ids = register(&d, "h", 2);
    sheaf(
        &d,
        &["collections", "create", "papers", "--name", "My papers"],
    );
    sheaf(&d, &["add", "papers", &ids[0], &ids[1]]);
    let table = sheaf(&d, &["collections"]);
    assert_eq!(table.code, 0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{}", table.stdout);
    let name_at = lines[0].find("NAME").unwrap();
    assert_eq!(
        lines[2].find("My papers"),
        Some(name_at),
        "{}",
        table.stdout
    );
    // The `#` column: each collection's number under its header, `default`'s 0 first.
    let number_at = lines[0].find(" # ").unwrap() + 1;
    let number = |line: &str| line.as_bytes()[number_at];
    assert_eq!(
        (number(lines[1]), number(lines[2])),
        (b'0', b'1'),
        "{}",
        table.stdout
    );
    let shown = sheaf(&d, &["collections", "show", "papers"]);
    assert!(shown.stdout.contains("\nnumber   1\n"), "{shown:?}");
    let ls = sheaf(&d, &["ls", "papers"]);
    let lines: Vec<&str> = ls.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", ls.stdout);
    assert_eq!(lines[1].find("h0.txt"), lines[0].find("NAME"));
    for out in [&table.stdout, &ls.stdout] {
        assert!(!out.contains('\x1b'), "no colour when piped: {out}");
        assert!(out.lines().all(|l| !l.ends_with(' ')), "no trailing spaces");
    }
    let status = sheaf(&d, &["status"]);
    assert!(status.stdout.starts_with("sheafd "), "{}", status.stdout);
    assert!(
        status.stdout.contains("max_batch 1000"),
        "{}",
        status.stdout
    );
}

#[test]
fn completions_are_printed_for_each_shell_without_a_daemon() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(
            with(
                command(Path::new("/nonexistent/s.sock")),
                &["completions", shell],
            ),
            "",
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("sheaf"), "{shell}");
        assert!(r.stdout.contains("collections"), "{shell}");
        for command in ["watch", "rescan", "open", "keep-entries"] {
            assert!(r.stdout.contains(command), "{shell}: {command}");
        }
    }
}

/// Stops an autostarted daemon (found by `SO_PEERCRED` on its socket) when dropped.
struct Autostarted {
    socket: PathBuf,
}

impl Autostarted {
    fn pid(&self) -> Option<rustix::process::Pid> {
        let stream = UnixStream::connect(&self.socket).ok()?;
        rustix::net::sockopt::socket_peercred(&stream)
            .ok()
            .map(|cred| cred.pid)
    }
}

impl Drop for Autostarted {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else { return };
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn autostart_command(dir: &Path, socket: &Path) -> Command {
    let mut cmd = command(socket);
    cmd.env_remove("SHEAF_NO_AUTOSTART")
        // Nothing of the user's: sheafd is found next to `sheaf`, not on PATH.
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_RUNTIME_DIR", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .arg("--database")
        .arg(dir.join("data/sheaf.redb"));
    cmd
}

#[test]
fn with_no_daemon_sheaf_starts_sheafd_which_keeps_running() {
    // Build both binaries first so the clock below measures the start, not cargo.
    sheaf_e2e::bin_dir();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/sheafd.sock");
    let guard = Autostarted {
        socket: socket.clone(),
    };
    let started = Instant::now();
    let r = run(
        with(
            autostart_command(dir.path(), &socket),
            &["--json", "status"],
        ),
        "",
    );
    let health = r.json();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(health["api_version"], sheaf_proto::API_VERSION);
    assert_eq!(
        health["store"]["path"],
        dir.path().join("data/sheaf.redb").to_str().unwrap()
    );

    // The daemon outlives the command that started it, in its own process group.
    let pid = guard
        .pid()
        .expect("sheafd answers on the socket after sheaf exited");
    let exe = std::fs::read_link(format!("/proc/{}/exe", pid.as_raw_nonzero())).unwrap();
    assert_eq!(exe.file_name().unwrap(), "sheafd");
    assert_eq!(
        rustix::process::getpgid(Some(pid)).unwrap(),
        pid,
        "its own process group"
    );
    assert!(
        dir.path().join("run/sheafd.log").exists(),
        "stderr goes to the log"
    );

    // A second command reuses it (autostart off now: it must answer).
    let again = run(with(command(&socket), &["--json", "status"]), "").json();
    assert!(again["uptime_s"].is_u64());
    assert_eq!(guard.pid(), Some(pid), "the same daemon");
    drop(guard);
    assert!(!socket.exists(), "stopped cleanly");
}

#[test]
fn a_sheafd_that_cannot_start_is_reported_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/sheafd.sock");
    let _guard = Autostarted {
        socket: socket.clone(),
    };
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "max_bacth = 5\n").unwrap();
    let mut cmd = autostart_command(dir.path(), &socket);
    cmd.arg("--config").arg(&bad).arg("status");
    let r = run(cmd, "");
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.starts_with("sheaf: could not start sheafd"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("max_bacth"),
        "the daemon's own words: {r:?}"
    );
    assert!(r.stderr.contains("sheafd.log"), "{r:?}");
}

/// A fake daemon on `socket`: answers every request with `response`, or with nothing at
/// all (holding the connection open) when `response` is `None`. Only injects the fault.
fn fake_daemon(socket: &Path, response: Option<String>) {
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(response) = &response else {
                held.push(stream);
                continue;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            if request.windows(4).any(|w| w == b"\r\n\r\n") {
                let _ = stream.write_all(response.as_bytes());
            }
        }
    });
}

#[test]
fn a_daemon_of_another_api_version_is_refused_plainly_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("fake.sock");
    let body = json!({
        "status": "ok", "version": "9.0.0", "api_version": "999", "uptime_s": 1
    })
    .to_string();
    fake_daemon(
        &socket,
        Some(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )),
    );
    let r = run(with(command(&socket), &["ls", "papers"]), "");
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "one plain line: {r:?}");
    assert!(r.stderr.starts_with("sheaf: version mismatch"), "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("API version {}", sheaf_proto::API_VERSION)),
        "{r:?}"
    );
    assert!(r.stderr.contains("API version 999"), "{r:?}");
    assert!(r.stdout.is_empty());
}

#[test]
fn a_hung_daemon_is_reported_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("hung.sock");
    fake_daemon(&socket, None);
    let mut cmd = command(&socket); // builds the binaries first, outside the clock
    let started = Instant::now();
    // Autostart on: something listens, so nothing is started; the hang is reported.
    cmd.env_remove("SHEAF_NO_AUTOSTART").arg("status");
    let r = run(cmd, "");
    let took = started.elapsed();
    assert_eq!(r.code, 3, "{r:?}");
    assert!(took < Duration::from_secs(8), "reported after {took:?}");
    assert!(
        took >= Duration::from_secs(1),
        "waited for the health timeout: {took:?}"
    );
    assert!(r.stderr.contains("did not answer"), "{r:?}");
    assert!(r.stderr.contains(socket.to_str().unwrap()), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// Folder watches and `sheaf open`.

/// Creates a folder under the daemon's directory with these files; answers its canonical
/// path (what the CLI sends and the daemon stores).
fn folder(d: &Daemon, name: &str, files: &[&str]) -> PathBuf {
    let root = d.dir.path().join(name);
    std::fs::create_dir_all(&root).unwrap();
    for f in files {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{f}\n")).unwrap();
    }
    std::fs::canonicalize(root).unwrap()
}

/// Waits (20 s at most) until the watch has finished scanning and mirrors `files` files;
/// answers it as `GET /v1/watches` lists it.
fn scanned(d: &Daemon, wid: &str, files: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, list) = d.get("/v1/watches");
        assert_eq!(s, 200, "{list}");
        let w = list["watches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == wid)
            .unwrap_or_else(|| panic!("{wid} is not listed: {list}"))
            .clone();
        if w["state"] != "scanning" && w["files"] == files {
            return w;
        }
        assert!(Instant::now() < deadline, "not scanned in 20 s: {w}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The live entries' paths, sorted.
fn entry_paths(d: &Daemon, collection: &str) -> Vec<String> {
    let mut paths: Vec<String> = d
        .all_entries(collection, 1000)
        .iter()
        .map(|e| e["item"]["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    paths
}

fn under(root: &Path, names: &[&str]) -> Vec<String> {
    let mut paths: Vec<String> = names
        .iter()
        .map(|n| root.join(n).to_str().unwrap().to_owned())
        .collect();
    paths.sort();
    paths
}

#[test]
fn watch_add_ls_rescan_and_rm_manage_a_folder_watch() {
    let d = Daemon::start();
    let root = folder(&d, "library", &["a.txt", "notes.md", "sub/b.txt"]);

    // A relative path is taken from the current directory and sent canonical.
    let mut cmd = command(&d.socket);
    cmd.current_dir(d.dir.path()).args([
        "--json",
        "watch",
        "add",
        "./library/sub/..",
        "--collection",
        "library",
    ]);
    let added = run(cmd, "").json();
    assert_eq!(added["created"], true, "{added}");
    assert_eq!(added["path"], root.to_str().unwrap());
    assert_eq!(added["collection"], "library");
    assert_eq!(added["recursive"], true);
    let wid = added["id"].as_str().unwrap().to_owned();
    assert!(wid.starts_with("w_"), "{wid}");

    let w = scanned(&d, &wid, 3);
    assert!(w["last_reconcile_at"].is_string(), "{w}");
    assert_eq!(
        entry_paths(&d, "library"),
        under(&root, &["a.txt", "notes.md", "sub/b.txt"])
    );
    let entries = d.all_entries("library", 1000);
    assert!(
        entries
            .iter()
            .all(|e| e["source"] == format!("folder:{wid}")),
        "{entries:?}"
    );

    // The same folder into the same collection again: the same watch, exit 0.
    let again = sheaf(
        &d,
        &[
            "--json",
            "watch",
            "add",
            root.to_str().unwrap(),
            "-c",
            "library",
        ],
    )
    .json();
    assert_eq!(again["created"], false);
    assert_eq!(again["id"], wid.as_str());
    let human = sheaf(
        &d,
        &["watch", "add", root.to_str().unwrap(), "-c", "library"],
    );
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.contains("already watched"), "{human:?}");

    let listed = sheaf(&d, &["--json", "watch", "ls"]).json();
    assert_eq!(listed["watches"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["watches"][0]["id"], wid.as_str());
    assert_eq!(sheaf(&d, &["--json", "watch"]).json(), listed);
    let table = sheaf(&d, &["watch"]);
    assert_eq!(table.code, 0, "{table:?}");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", table.stdout);
    for header in [
        "ID",
        "PATH",
        "COLLECTION",
        "STATE",
        "FILES",
        "LAST RECONCILE",
    ] {
        assert!(lines[0].contains(header), "{header}: {}", table.stdout);
    }
    assert!(lines[1].starts_with(&wid), "{}", table.stdout);
    assert_eq!(
        lines[1].find(root.to_str().unwrap()),
        lines[0].find("PATH"),
        "{}",
        table.stdout
    );
    assert!(lines[1].contains("library"), "{}", table.stdout);
    assert!(
        table.stdout.lines().all(|l| !l.ends_with(' ')),
        "no trailing spaces"
    );
    let status = sheaf(&d, &["status"]);
    assert!(status.stdout.contains(&wid), "{}", status.stdout);

    // A file written meanwhile is there after a rescan (if live events have not brought
    // it already).
    std::fs::write(root.join("sub/c.txt"), b"c\n").unwrap();
    let rescanned = sheaf(&d, &["--json", "watch", "rescan", &wid]).json();
    assert_eq!(rescanned["id"], wid.as_str());
    scanned(&d, &wid, 4);
    assert_eq!(
        entry_paths(&d, "library"),
        under(&root, &["a.txt", "notes.md", "sub/b.txt", "sub/c.txt"])
    );
    let human = sheaf(&d, &["watch", "rescan", &wid]);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.starts_with("rescanning "), "{human:?}");
    scanned(&d, &wid, 4);

    let removed = sheaf(&d, &["--json", "watch", "rm", &wid]).json();
    assert_eq!(removed["id"], wid.as_str());
    assert_eq!(removed["entries"], 4);
    assert!(d.all_entries("library", 1000).is_empty(), "soft-deleted");
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"], json!([]));
    let none = sheaf(&d, &["watch"]);
    assert!(none.stdout.starts_with("no watches"), "{none:?}");

    sheaf(&d, &["watch", "rm", &wid]).fails(4, "WATCH_NOT_FOUND");
    sheaf(&d, &["watch", "rescan", &wid]).fails(4, "WATCH_NOT_FOUND");
    sheaf(&d, &["watch", "rescan", "w_nope"]).fails(6, "INVALID_ID");
}

#[test]
fn watch_rm_keep_entries_leaves_them_live_as_manual_entries() {
    let d = Daemon::start();
    let root = folder(&d, "keep", &["a.txt", "b.txt"]);
    let added = sheaf(
        &d,
        &[
            "--json",
            "watch",
            "add",
            root.to_str().unwrap(),
            "-c",
            "kept",
        ],
    )
    .json();
    let wid = added["id"].as_str().unwrap().to_owned();
    scanned(&d, &wid, 2);
    let r = sheaf(&d, &["watch", "rm", &wid, "--keep-entries"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("2 entries kept as manual entries"),
        "{r:?}"
    );
    let entries = d.all_entries("kept", 1000);
    assert_eq!(entries.len(), 2);
    assert!(
        entries.iter().all(|e| e["source"] == "manual"),
        "{entries:?}"
    );
}

#[test]
fn watch_add_passes_globs_recursion_and_poll() {
    let d = Daemon::start();
    let root = folder(&d, "mixed", &["a.txt", "b.md", "skip.txt", "sub/c.txt"]);
    let added = sheaf(
        &d,
        &[
            "--json",
            "watch",
            "add",
            root.to_str().unwrap(),
            "--collection",
            "texts",
            "--include",
            "*.txt",
            "--exclude",
            "skip.txt",
            "--no-recursive",
            "--poll",
            "30s",
        ],
    )
    .json();
    assert_eq!(added["include"], json!(["*.txt"]));
    assert_eq!(added["exclude"], json!(["skip.txt"]));
    assert_eq!(added["recursive"], false);
    assert_eq!(added["poll"], "30s");
    let w = scanned(&d, added["id"].as_str().unwrap(), 1);
    assert_eq!(w["state"], "polling", "{w}");
    assert_eq!(entry_paths(&d, "texts"), under(&root, &["a.txt"]));
    let table = sheaf(&d, &["watch"]);
    assert!(table.stdout.contains("polling every 30s"), "{table:?}");
}

#[test]
fn watch_add_refusals_have_their_exit_codes() {
    let d = Daemon::start();
    let root = folder(&d, "r", &["a.txt"]);
    let path = root.to_str().unwrap();

    let missing = sheaf(&d, &["watch", "add", "/nonexistent/folder", "-c", "x"]);
    assert_eq!(missing.code, 4, "{missing:?}");
    assert!(
        missing
            .stderr
            .starts_with("sheaf: cannot open the folder /nonexistent/folder: "),
        "{missing:?}"
    );
    let file = root.join("a.txt");
    sheaf(&d, &["watch", "add", file.to_str().unwrap(), "-c", "x"]).fails(6, "VALIDATION_ERROR");
    sheaf(&d, &["watch", "add", path, "-c", "default"]).fails(6, "VALIDATION_ERROR");
    sheaf(&d, &["watch", "add", path, "-c", "Not A Slug"]).fails(6, "VALIDATION_ERROR");
    sheaf(&d, &["watch", "add", path, "-c", "x", "--include", "a[b"]).fails(6, "VALIDATION_ERROR");
    sheaf(&d, &["watch", "add", path, "-c", "absent", "--no-create"])
        .fails(4, "COLLECTION_NOT_FOUND");
    d.create_collection("binned");
    let (s, body) = d.call("DELETE", "/v1/collections/binned");
    assert_eq!(s, 200, "{body}");
    sheaf(&d, &["watch", "add", path, "-c", "binned"]).fails(4, "COLLECTION_TRASHED");
    let usage = sheaf(&d, &["watch", "add", path, "-c", "x", "--poll", "soon"]);
    assert_eq!(usage.code, 2, "{usage:?}");
    let usage = sheaf(&d, &["watch", "add", path]);
    assert_eq!(usage.code, 2, "--collection is required: {usage:?}");

    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"], json!([]), "nothing was added");
}

#[test]
fn open_watches_a_folder_into_a_collection_named_after_it_and_lists_it() {
    let d = Daemon::start();
    let root = folder(
        &d,
        "My Papers (2024)",
        &["one.txt", "two.md", "deep/three.txt"],
    );

    let opened = sheaf(&d, &["--json", "open", root.to_str().unwrap()]).json();
    assert_eq!(opened["created"], true, "{opened}");
    assert_eq!(opened["watch"]["path"], root.to_str().unwrap());
    assert_eq!(opened["watch"]["collection"], "my_papers_2024");
    assert_ne!(
        opened["watch"]["state"], "scanning",
        "it waited for the scan"
    );
    assert_eq!(opened["watch"]["files"], 3);
    assert_eq!(opened["collection"]["id"], "my_papers_2024");
    assert_eq!(opened["collection"]["item_count"], 3);
    assert_eq!(opened["entries"].as_array().unwrap().len(), 3);
    assert!(opened["next_cursor"].is_null());
    let wid = opened["watch"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        entry_paths(&d, "my_papers_2024"),
        under(&root, &["deep/three.txt", "one.txt", "two.md"])
    );

    // Again, from inside the folder and without DIR: the same watch, no second one.
    let mut cmd = command(&d.socket);
    cmd.current_dir(&root).args(["--json", "open"]);
    let again = run(cmd, "").json();
    assert_eq!(again["created"], false);
    assert_eq!(again["watch"]["id"], wid.as_str());
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"].as_array().unwrap().len(), 1, "{list}");

    // Human output: the watch, the collection as `collections show` prints it, then the
    // entries as `ls` prints them.
    let human = sheaf(&d, &["open", root.to_str().unwrap()]);
    assert_eq!(human.code, 0, "{human:?}");
    let out = &human.stdout;
    assert!(
        out.starts_with(&format!("already watching {}", root.display())),
        "{out}"
    );
    assert!(out.contains("\nid       my_papers_2024\n"), "{out}");
    assert!(out.contains("\nitems    3\n"), "{out}");
    assert!(
        out.contains(&format!("\nfolders  {} ({wid})\n", root.display())),
        "the folder is named by its path: {out}"
    );
    let header = out
        .lines()
        .find(|l| l.starts_with("ITEM "))
        .unwrap_or_else(|| panic!("no ls header: {out}"));
    assert!(header.ends_with("NAME"), "{out}");
    for name in ["one.txt", "two.md", "three.txt"] {
        assert!(
            out.lines()
                .any(|l| l.ends_with(name) && l.starts_with("txt_")),
            "{name}: {out}"
        );
    }
    assert!(!out.contains('\x1b'), "{out}");
    assert!(
        human.stderr.is_empty(),
        "no progress line when piped: {human:?}"
    );

    // An explicit other collection is another watch of the same folder.
    let other = sheaf(
        &d,
        &[
            "--json",
            "open",
            root.to_str().unwrap(),
            "--collection",
            "reading",
        ],
    )
    .json();
    assert_eq!(other["created"], true);
    assert_eq!(other["watch"]["collection"], "reading");
    assert_eq!(other["collection"]["item_count"], 3);
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"].as_array().unwrap().len(), 2, "{list}");
    let listed = sheaf(&d, &["collections"]);
    let row = listed
        .stdout
        .lines()
        .find(|l| l.starts_with("reading "))
        .unwrap_or_else(|| panic!("no row for reading: {listed:?}"));
    assert!(
        row.ends_with(&format!(" {}", root.display())),
        "collections ls names the folder by its path: {listed:?}"
    );
}

#[test]
fn open_of_a_missing_folder_is_not_found_and_adds_nothing() {
    let d = Daemon::start();
    let missing = d.dir.path().join("nope");
    let r = sheaf(&d, &["open", missing.to_str().unwrap()]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.starts_with("sheaf: cannot open the folder "),
        "{r:?}"
    );
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"], json!([]));
}

#[test]
fn open_gives_up_at_its_timeout_with_exit_8_and_the_scan_goes_on() {
    let d = Daemon::start();
    let names: Vec<String> = (0..3000).map(|i| format!("d{}/f{i}.txt", i % 30)).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let root = folder(&d, "many", &refs);

    let r = sheaf(&d, &["open", root.to_str().unwrap(), "--timeout", "1ms"]);
    assert_eq!(r.code, 8, "{r:?}");
    assert!(r.stderr.starts_with("sheaf: the watch w_"), "{r:?}");
    assert!(r.stderr.contains("is still scanning after"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");

    // The watch stays; opening again waits for the end of its scan and reuses it.
    let opened = sheaf(&d, &["--json", "open", root.to_str().unwrap()]).json();
    assert_eq!(opened["created"], false, "{}", opened["watch"]);
    assert_eq!(opened["watch"]["files"], 3000);
    assert_eq!(opened["collection"]["item_count"], 3000);
    assert_eq!(opened["entries"].as_array().unwrap().len(), 100, "one page");
    assert!(opened["next_cursor"].is_string());
}

// ---------------------------------------------------------------------------------------
// Smart collections from flags (SPEC §7.2) and `sheaf dups`.

/// Waits until the smart collection has filled (`filling: false`) and holds exactly
/// `want` (paths); answers it as `sheaf --json collections show` prints it.
fn smart_settles(d: &Daemon, id: &str, want: &[String]) -> Value {
    let mut want = want.to_vec();
    want.sort();
    let settled = sheaf_e2e::wait_until(Duration::from_secs(30), || {
        let (_, c) = d.get(&format!("/v1/collections/{id}"));
        c["filling"] == false && c["item_count"] == want.len() && entry_paths(d, id) == want
    });
    assert!(
        settled,
        "{id} holds {:?}, want {want:?}",
        entry_paths(d, id)
    );
    sheaf(d, &["--json", "collections", "show", id]).json()
}

#[test]
fn a_smart_collection_made_from_flags_fills_with_the_matching_items_and_edit_amends_it() {
    let d = Daemon::start();
    let root = folder(&d, "notes", &["a.md", "b.md", "c.txt", "deep/d.md"]);
    let r = root.to_str().unwrap();
    sheaf(&d, &["--json", "watch", "add", r, "-c", "notes"]).json();

    let glob = format!("{r}/**/*.md");
    let created = sheaf(
        &d,
        &[
            "--json",
            "collections",
            "create",
            "md",
            "--name",
            "Markdown",
            "--kind",
            "text",
            "--path",
            &glob,
        ],
    )
    .json();
    assert_eq!(created["name"], "Markdown");
    assert_eq!(
        created["query"],
        json!({"kind": ["text"], "path": [glob.as_str()]}),
        "{created}"
    );
    let shown = smart_settles(&d, "md", &under(&root, &["a.md", "b.md", "deep/d.md"]));
    assert_eq!(shown["query"], created["query"]);

    // It follows the folder: a new match joins.
    std::fs::write(root.join("e.md"), "e\n".repeat(100)).unwrap();
    let all = under(&root, &["a.md", "b.md", "deep/d.md", "e.md"]);
    smart_settles(&d, "md", &all);

    // Human output: the S marker and the query in the listing, the query under the state.
    let table = sheaf(&d, &["collections"]);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let (s_at, source_at) = (lines[0].find(" S ").unwrap() + 1, lines[0].find("SOURCE"));
    let md = lines.iter().find(|l| l.starts_with("md ")).unwrap();
    assert_eq!(
        md.find(" S ").map(|i| i + 1),
        Some(s_at),
        "{}",
        table.stdout
    );
    assert_eq!(md.find("{\"kind\""), source_at, "{}", table.stdout);
    let notes = lines.iter().find(|l| l.starts_with("notes ")).unwrap();
    assert_eq!(notes.find(" S "), None, "{}", table.stdout);
    let human = sheaf(&d, &["collections", "show", "md"]);
    assert!(
        human.stdout.contains("\nstate    live, smart\n"),
        "{human:?}"
    );
    assert!(
        human
            .stdout
            .contains("\nquery    {\"kind\":[\"text\"],\"path\":["),
        "{human:?}"
    );

    // Edit sets a flag on the current query and keeps the rest; it fills again.
    let edited = sheaf(
        &d,
        &["--json", "collections", "edit", "md", "--min-size", "100"],
    )
    .json();
    assert_eq!(
        edited["query"],
        json!({"kind": ["text"], "path": [glob.as_str()], "size": {"min": 100}}),
        "{edited}"
    );
    smart_settles(&d, "md", &under(&root, &["e.md"]));
    // --query replaces it whole, and flags given with it set their fields on it.
    let replaced = sheaf(
        &d,
        &[
            "--json",
            "collections",
            "edit",
            "md",
            "--query",
            r#"{"name": "A."}"#,
            "--in",
            "notes",
        ],
    )
    .json();
    assert_eq!(replaced["query"], json!({"name": "A.", "in": ["notes"]}));
    smart_settles(&d, "md", &under(&root, &["a.md"]));
    // A smart collection refuses hand changes, with the conflict exit code.
    let c = &under(&root, &["c.txt"])[0];
    sheaf(&d, &["add", "md", c]).fails(5, "COLLECTION_IS_SMART");
}

#[test]
fn dups_lists_the_identical_files_of_a_watched_folder_once_they_are_hashed() {
    let d = Daemon::start();
    let root = folder(&d, "photos", &["unique.txt"]);
    let copy = "the same bytes!\n".repeat(192); // 3 KiB
    std::fs::write(root.join("a.txt"), &copy).unwrap();
    std::fs::create_dir(root.join("backup")).unwrap();
    std::fs::write(root.join("backup/a.txt"), &copy).unwrap();
    let r = root.to_str().unwrap();
    sheaf(&d, &["--json", "watch", "add", r, "-c", "photos"]).json();

    // Hashes are computed in the background: wait for the group.
    let mut list = Value::Null;
    let grouped = sheaf_e2e::wait_until(Duration::from_secs(30), || {
        list = sheaf(&d, &["--json", "dups"]).json();
        list["groups"].as_array().is_some_and(|g| !g.is_empty())
    });
    assert!(grouped, "no duplicate group: {list}");
    let groups = list["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{list}");
    let hash = blake3::hash(copy.as_bytes()).to_hex().to_string();
    assert_eq!(groups[0]["content_hash"], hash.as_str());
    assert_eq!(groups[0]["size"], copy.len());
    assert_eq!(groups[0]["wasted"], copy.len());
    let mut paths: Vec<String> = groups[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    assert_eq!(paths, under(&root, &["a.txt", "backup/a.txt"]));

    // The table: the group's first row, then its other path under PATHS.
    let human = sheaf(&d, &["dups"]);
    assert_eq!(human.code, 0, "{human:?}");
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", human.stdout);
    assert!(lines[0].starts_with("HASH "), "{}", human.stdout);
    let paths_at = lines[0].find("PATHS").unwrap();
    assert!(
        lines[1].starts_with(&format!("{}  ", &hash[..12])),
        "{}",
        human.stdout
    );
    assert!(
        lines[1].contains("  2  3.0 KiB  3.0 KiB  "),
        "{}",
        human.stdout
    );
    let shown: Vec<&str> = lines[1..3].iter().map(|l| &l[paths_at..]).collect();
    let mut shown: Vec<String> = shown.into_iter().map(str::to_owned).collect();
    shown.sort();
    assert_eq!(shown, paths, "{}", human.stdout);
    assert_eq!(lines[3], "1 group(s), 3.0 KiB wasted", "{}", human.stdout);

    // The flag that asks for duplicates makes a smart collection of the copies.
    sheaf(&d, &["collections", "create", "copies", "--duplicate"]);
    smart_settles(&d, "copies", &paths);

    // Bad limits are usage errors.
    for bad in ["0", "1001", "many"] {
        let r = sheaf(&d, &["dups", "--limit", bad]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(r.stderr.contains("--limit"), "{bad}: {r:?}");
    }
}

#[test]
fn bad_query_flags_are_refused_with_a_clear_error_and_create_nothing() {
    let d = Daemon::start();
    // Caught by sheaf itself: usage errors (2) that say what is expected.
    for (args, says) in [
        (&["--min-size", "10MB"][..], "10MiB"),
        (&["--max-size", "big"], "not a size"),
        (&["--after", "yesterday"], "RFC 3339"),
        (&["--meta", "reviewed"], "KEY=VALUE"),
        (&["--query", "[1]"], "JSON object"),
        (&["--query", "{"], "not JSON"),
        (&["--kind", "pdf"], "document"),
        (&["--duplicate=maybe"], "true"),
    ] {
        let mut argv = vec!["collections", "create", "bad"];
        argv.extend_from_slice(args);
        let r = sheaf(&d, &argv);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(says),
            "{args:?} should say {says:?}: {r:?}"
        );
    }
    // Caught by the daemon: the error names the query's field.
    let r = sheaf(&d, &["collections", "create", "bad", "--path", "*.pdf"]);
    r.fails(6, "VALIDATION_ERROR");
    assert!(r.stderr.contains("at body.query.path.0: "), "{r:?}");
    assert!(r.stderr.contains("**/*.pdf"), "the fix is suggested: {r:?}");
    let r = sheaf(&d, &["collections", "create", "bad", "--type", "pdf"]);
    r.fails(6, "VALIDATION_ERROR");
    assert!(r.stderr.contains("at body.query.content_type.0: "), "{r:?}");
    sheaf(&d, &["collections", "create", "bad", "--in", "nowhere"])
        .fails(4, "COLLECTION_NOT_FOUND");
    let r = sheaf(
        &d,
        &[
            "collections",
            "create",
            "bad",
            "--min-size",
            "2M",
            "--max-size",
            "1M",
        ],
    );
    r.fails(6, "VALIDATION_ERROR");
    assert!(r.stderr.contains("min is larger than max"), "{r:?}");

    // A hand-kept collection does not become smart by edit.
    sheaf(&d, &["collections", "create", "papers"]);
    let r = sheaf(&d, &["collections", "edit", "papers", "--kind", "text"]);
    r.fails(6, "VALIDATION_ERROR");
    assert!(r.stderr.contains("kept by hand"), "{r:?}");

    let list = sheaf(&d, &["--json", "collections"]).json();
    assert_eq!(collection_ids(&list), ["default", "papers"]);
    assert!(list["collections"][1]["query"].is_null(), "{list}");
}
