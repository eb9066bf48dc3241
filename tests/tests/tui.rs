//! `sheaf tui` end to end, in a real terminal: tmux runs it against a real sheafd on a temp
//! socket; keys go in with `send-keys`, the screen comes back with `capture-pane`, and what
//! the keys did is checked through the API. `.ci/run` installs tmux.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sheaf_e2e::Daemon;

/// How long the screen may take to show what is expected (not a timing assertion: a
/// generous bound for a loaded CI machine).
const DEADLINE: Duration = Duration::from_secs(20);

/// A tmux server of its own (`-L`), running `sheaf` in one 160 × 48 window; killed on drop,
/// whatever the test's outcome.
struct Tmux {
    server: String,
    stderr: PathBuf,
}

impl Tmux {
    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-L").arg(&self.server);
        cmd
    }

    /// Starts `sheaf --socket <daemon's> <args>` with no autostart and an empty config dir.
    fn start(d: &Daemon, args: &str) -> Self {
        Self::start_with(d, args, &[], "")
    }

    /// [`Tmux::start`] with more environment (`NAME=value`, shell-quoted by the caller
    /// where needed) and `config` as the config file's text.
    fn start_with(d: &Daemon, args: &str, env: &[String], config_text: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        assert!(
            sheaf_e2e::have("tmux"),
            "tmux is needed for the TUI tests (.ci/run installs it)"
        );
        let server = format!(
            "sheaf-tui-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let config = d.dir.path().join("xdg-config");
        std::fs::create_dir_all(config.join("sheaf")).unwrap();
        std::fs::write(config.join("sheaf/config.toml"), config_text).unwrap();
        let stderr = d.dir.path().join(format!("{server}.stderr"));
        let line = format!(
            "env SHEAF_NO_AUTOSTART=1 NO_COLOR=1 XDG_CONFIG_HOME={} {} {} --socket {} {args} 2>{}",
            config.display(),
            env.join(" "),
            sheaf_e2e::sheaf().display(),
            d.socket.display(),
            stderr.display(),
        );
        let t = Self { server, stderr };
        let status = t
            .tmux()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "48",
            ])
            .arg(line)
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn screen(&self) -> String {
        let out = self.tmux().args(["capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends tmux key names (`Space`, `Enter`, `m`) one by one.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let status = self.tmux().args(["send-keys", k]).status().unwrap();
            assert!(status.success(), "send-keys {k}");
        }
    }

    /// Sends text as typed characters.
    fn type_text(&self, text: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Polls the screen until every one of `texts` is on it; returns that screen.
    fn wait_for(&self, texts: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {texts:?}; the screen:\n{screen}\nstderr: {}",
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the session still runs (it ends when `sheaf` exits).
    fn running(&self) -> bool {
        self.tmux()
            .args(["has-session"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// `inbox` with five notes (`note0.txt`…) and an empty `papers`.
fn two_collections() -> (Daemon, Vec<String>) {
    let d = Daemon::start();
    let ids = d.register_many("note", 5);
    d.create_collection("inbox");
    d.create_collection("papers");
    d.add("inbox", &ids);
    (d, ids)
}

fn entry_ids(d: &Daemon, collection: &str) -> Vec<String> {
    d.all_entries(collection, 100)
        .iter()
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn marking_two_entries_and_moving_them_to_a_picked_collection_moves_them_in_the_store() {
    let (d, ids) = two_collections();
    let t = Tmux::start(&d, "tui inbox");
    t.wait_for(&["inbox · 5 entries", "note0.txt", "● connected"]);

    t.keys(&["Space", "Space"]);
    t.wait_for(&["2 marked"]);
    t.keys(&["m"]);
    t.wait_for(&["Move 2 marked entries to…"]);
    t.type_text("pap");
    t.keys(&["Enter"]);
    // The summary comes with the answer; the list follows when the page is read again.
    t.wait_for(&["moved 2 to papers", "inbox · 3 entries"]);

    let mut moved = entry_ids(&d, "papers");
    moved.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(moved, want);
    assert_eq!(entry_ids(&d, "inbox"), ids[2..]);

    // `u` undoes the TUI's own move.
    t.keys(&["u"]);
    t.wait_for(&["undid", "inbox · 5 entries"]);
    assert_eq!(entry_ids(&d, "papers").len(), 0);

    // Live: a change made elsewhere shows without a key.
    let (s, body) = d.send(
        "POST",
        "/v1/collections/inbox/items/remove",
        &serde_json::json!({"items": [ids[4]]}),
    );
    assert_eq!(s, 200, "{body}");
    t.wait_for(&["inbox · 4 entries"]);

    t.keys(&["q"]);
    let start = Instant::now();
    while t.running() {
        assert!(start.elapsed() < DEADLINE, "q did not end sheaf tui");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_refused_move_shows_the_codes_meaning_and_changes_nothing() {
    let (d, ids) = two_collections();
    let (s, body) = d.send(
        "PATCH",
        "/v1/collections/papers",
        &serde_json::json!({"archived": true}),
    );
    assert_eq!(s, 200, "{body}");
    let t = Tmux::start(&d, "tui inbox");
    t.wait_for(&["note0.txt", "● connected"]);
    t.keys(&["m"]);
    t.wait_for(&["Move the entry under the cursor to…"]);
    t.type_text("papers");
    t.keys(&["Enter"]);
    t.wait_for(&["refused: the collection is archived", "nothing changed"]);
    assert_eq!(entry_ids(&d, "inbox"), ids);
}

#[test]
fn when_the_daemon_restarts_the_tui_shows_reconnecting_and_resumes_in_place() {
    let (mut d, _) = two_collections();
    let t = Tmux::start(&d, "tui inbox");
    t.wait_for(&["note0.txt", "● connected"]);
    t.keys(&["j", "j", "Space"]);
    t.wait_for(&["1 marked"]);
    d.stop();
    t.wait_for(&["reconnecting"]);
    d.spawn();
    let screen = t.wait_for(&["● connected", "reconnected"]);
    assert!(screen.contains("1 marked"), "marks survive: {screen}");
    assert!(screen.contains("inbox · 5 entries"), "{screen}");
}

#[test]
fn sheaf_alone_on_a_terminal_starts_the_tui() {
    let (d, _) = two_collections();
    let t = Tmux::start(&d, "");
    t.wait_for(&["Collections", "inbox", "papers", "● connected"]);
    t.keys(&["?"]);
    t.wait_for(&["Keys", "move marked to…"]);
}

/// Writes an executable shell script into the daemon's temp dir.
fn script(d: &Daemon, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = d.dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The path of `note{i}.txt` as `register_many` made it.
fn note(d: &Daemon, i: usize) -> PathBuf {
    d.dir.path().join("files").join(format!("note{i}.txt"))
}

/// Polls until `path` exists with content; returns it.
fn wait_for_file(path: &std::path::Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(start.elapsed() < DEADLINE, "{} never came", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn o_and_enter_open_the_selected_file_with_the_configured_opener() {
    let (d, _) = two_collections();
    let record = d.dir.path().join("opened.txt");
    let opener = script(
        &d,
        "opener.sh",
        &format!("printf '%s\\n' \"$@\" >> '{}'", record.display()),
    );
    let t = Tmux::start_with(
        &d,
        "tui inbox",
        &[],
        &format!("[tui]\nopener = \"{}\"\n", opener.display()),
    );
    t.wait_for(&["note0.txt", "● connected"]);
    t.keys(&["j", "o"]);
    t.wait_for(&["opened note1.txt with"]);
    assert_eq!(
        wait_for_file(&record),
        format!("{}\n", note(&d, 1).display())
    );
    t.keys(&["j", "Enter"]);
    let start = Instant::now();
    while std::fs::read_to_string(&record).unwrap().lines().count() < 2 {
        assert!(start.elapsed() < DEADLINE, "enter opened nothing");
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<String> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines,
        [
            note(&d, 1).display().to_string(),
            note(&d, 2).display().to_string()
        ]
    );
    // The preview of the selected text file shows its first line.
    t.wait_for(&["Preview", "note 2"]);
}

#[test]
fn e_edits_the_file_in_the_editor_and_the_tui_comes_back_intact() {
    let (d, _) = two_collections();
    let editor = script(&d, "editor.sh", "echo 'a line from the editor' >> \"$1\"");
    let t = Tmux::start_with(
        &d,
        "tui inbox",
        &["VISUAL=".to_owned(), format!("EDITOR={}", editor.display())],
        "",
    );
    t.wait_for(&["note0.txt", "● connected", "Preview"]);
    t.keys(&["j", "j", "E"]);
    let screen = t.wait_for(&["edited note2.txt", "inbox · 5 entries", "● connected"]);
    assert!(
        screen.contains("Collections"),
        "the panes are back: {screen}"
    );
    assert_eq!(
        std::fs::read_to_string(note(&d, 2)).unwrap(),
        "note 2\na line from the editor\n"
    );
    // Keys still work after the editor: the cursor moves and q quits.
    t.keys(&["k"]);
    t.wait_for(&["note1.txt"]);
    t.keys(&["q"]);
    let start = Instant::now();
    while t.running() {
        assert!(
            start.elapsed() < DEADLINE,
            "q did not end sheaf tui after the editor"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_picker_creates_a_collection_typed_in_it_and_moves_into_it() {
    let (d, ids) = two_collections();
    let t = Tmux::start(&d, "tui inbox");
    t.wait_for(&["note0.txt", "● connected"]);
    t.keys(&["m"]);
    t.wait_for(&["Move the entry under the cursor to…"]);
    t.type_text("Fresh");
    t.wait_for(&["cannot create \"Fresh\": lowercase only"]);
    t.keys(&["C-u"]);
    t.type_text("fresh");
    t.wait_for(&["create \"fresh\""]);
    t.keys(&["Enter"]);
    t.wait_for(&["moved 1 to fresh", "inbox · 4 entries"]);
    assert_eq!(entry_ids(&d, "fresh"), [ids[0].clone()]);
    assert_eq!(entry_ids(&d, "inbox"), ids[1..]);
}

#[test]
fn h_shows_the_op_log_and_u_undoes_an_older_op_there() {
    let (d, ids) = two_collections();
    let older = d.add("papers", &ids[..1]);
    let newer = d.add("papers", &ids[1..2]);
    let t = Tmux::start(&d, "tui inbox");
    t.wait_for(&["note0.txt", "● connected"]);
    t.keys(&["H"]);
    t.wait_for(&["History", "newest first", "link"]);
    // The newest op is selected; one row down is the older link.
    t.keys(&["j", "u"]);
    t.wait_for(&["undid"]);
    assert_eq!(entry_ids(&d, "papers"), [ids[1].clone()]);
    let (s, ops) = d.get("/v1/ops?order=desc&limit=10");
    assert_eq!(s, 200, "{ops}");
    let undone = ops["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == older["op_id"])
        .unwrap();
    assert!(undone["undone_by"].is_string(), "{undone}");
    let kept = ops["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == newer["op_id"])
        .unwrap();
    assert!(kept["undone_by"].is_null(), "{kept}");
    t.wait_for(&["(undone)"]);
}
