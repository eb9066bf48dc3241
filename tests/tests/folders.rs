//! Folder sync (SPEC §3) end to end: the real `sheafd`, real folders in temporary
//! directories, real inotify. Every test waits for the daemon to converge (polling, with a
//! generous timeout that is a guard, never a timing assertion) and then checks that the
//! watched collection equals the folder: the live entries' paths are exactly the regular
//! files a fresh walk admits, no item is listed twice, no two items share a path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use sheaf_e2e::folders::{
    WAIT, all_entries_with_deleted, converge, entry_of, every_file, folder, item, live_entry_at,
    make_tree, text, wait_entry_at, wait_live, watch, watched, write,
};
use sheaf_e2e::{Daemon, assert_envelope, is_root, wait_until};

/// How long a bulk change (tens of thousands of files) may take to converge.
const BULK_WAIT: Duration = Duration::from_secs(150);

// ---------------------------------------------------------------------------------------
// Helpers (the shared ones are in the harness, `sheaf_e2e::folders`).

/// Sends a signal to the daemon (stop/continue it to let the kernel queue overflow).
fn signal(d: &Daemon, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(d.pid().expect("running") as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

/// A daemon stopped with SIGSTOP; continued on drop, even when the test fails meanwhile.
struct Stopped<'d>(&'d Daemon);

impl<'d> Stopped<'d> {
    /// Stops the daemon and waits until every one of its threads is stopped.
    fn new(d: &'d Daemon) -> Self {
        signal(d, rustix::process::Signal::STOP);
        let stopped = Self(d);
        let tasks = PathBuf::from(format!("/proc/{}/task", d.pid().unwrap()));
        let all_stopped = wait_until(WAIT, || {
            std::fs::read_dir(&tasks).unwrap().flatten().all(|t| {
                // `pid (comm) S …`: the state follows the last parenthesis.
                std::fs::read_to_string(t.path().join("stat")).is_ok_and(|stat| {
                    stat.rsplit_once(')')
                        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['T', 't']))
                })
            })
        });
        assert!(all_stopped, "sheafd's threads did not stop");
        stopped
    }
}

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        signal(self.0, rustix::process::Signal::CONT);
    }
}

const MAX_QUEUED: &str = "/proc/sys/fs/inotify/max_queued_events";

/// Serialises the tests that change `fs.inotify.max_queued_events`, so that each restores
/// the value it found.
static QUEUE_SYSCTL: Mutex<()> = Mutex::new(());

/// `fs.inotify.max_queued_events` lowered for a test; the value found is written back on
/// drop, even when the test fails. Only new inotify instances take the value, so it is
/// restored as soon as the daemon's watcher is set up.
struct QueueLimit {
    original: Option<String>,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl QueueLimit {
    /// Lowers the limit to `events` when the tests run as root and it is writable; `None`
    /// (with the reason printed) otherwise.
    fn lower(events: u32) -> Option<Self> {
        if !is_root() {
            println!("not root: {MAX_QUEUED} left as it is; the overflow may not happen");
            return None;
        }
        let lock = QUEUE_SYSCTL.lock().unwrap_or_else(PoisonError::into_inner);
        let original = std::fs::read_to_string(MAX_QUEUED).ok()?;
        if let Err(e) = std::fs::write(MAX_QUEUED, events.to_string()) {
            println!("{MAX_QUEUED} is not writable ({e}); the overflow may not happen");
            return None;
        }
        Some(Self {
            original: Some(original),
            _lock: lock,
        })
    }

    /// Writes the original value back (once).
    fn restore(&mut self) {
        if let Some(v) = self.original.take() {
            std::fs::write(MAX_QUEUED, v.trim()).unwrap();
        }
    }
}

impl Drop for QueueLimit {
    fn drop(&mut self) {
        self.restore();
    }
}

// ---------------------------------------------------------------------------------------
// Identity: creation, change, rename, moves, deletion, revival.

#[test]
fn a_file_created_modified_renamed_deleted_and_recreated_keeps_its_item_and_entry() {
    let d = Daemon::start();
    let root = folder(&d, "alpha");
    std::fs::create_dir(root.join("sub")).unwrap();
    let wid = watched(&d, &root, "alpha");
    let stream = d.events("");

    // Created.
    let doc = root.join("doc.txt");
    write(&doc, b"hello\n");
    let e = wait_entry_at(&d, "alpha", &doc);
    let id = e["item_id"].as_str().unwrap().to_owned();
    let entry_id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["unique_id"], "doc.txt", "{e}");
    assert_eq!(e["source"], format!("folder:{wid}"), "{e}");
    assert_eq!(e["item"]["size"], 6, "{e}");

    // Modified: the size follows, the item stays.
    write(&doc, b"hello, a longer line\n");
    let mut now = Value::Null;
    assert!(
        wait_until(WAIT, || {
            now = item(&d, &id);
            now["size"] == 21
        }),
        "the new size never showed: {now}"
    );
    assert_eq!(now["path"], text(&doc), "{now}");
    assert_eq!(d.all_entries("alpha", 1000).len(), 1);

    // Renamed inside the watch (into a sub-folder): same item, same entry, the unique id
    // follows the relative path.
    let renamed = root.join("sub/renamed.txt");
    std::fs::rename(&doc, &renamed).unwrap();
    let e = wait_entry_at(&d, "alpha", &renamed);
    assert_eq!(e["item_id"], id.as_str(), "{e}");
    assert_eq!(e["id"], entry_id.as_str(), "{e}");
    assert_eq!(e["unique_id"], "sub/renamed.txt", "{e}");
    assert_eq!(e["display_name"], "renamed.txt", "{e}");
    converge(&d, "alpha", &root, &every_file, WAIT);

    // Deleted: the item loses its path and is soft-deleted, and so is its entry.
    std::fs::remove_file(&renamed).unwrap();
    assert!(
        wait_until(WAIT, || {
            now = item(&d, &id);
            !now["deleted_at"].is_null()
        }),
        "the item was never soft-deleted: {now}"
    );
    assert!(now["path"].is_null(), "{now}");
    assert_eq!(now["last_path"], text(&renamed), "{now}");
    let dead = entry_of(&d, "alpha", &id).expect("the entry is kept, soft-deleted");
    assert!(!dead["deleted_at"].is_null(), "{dead}");
    converge(&d, "alpha", &root, &every_file, WAIT);

    // Re-created at the same path: revived, same item and same entry.
    write(&renamed, b"back again\n");
    let e = wait_entry_at(&d, "alpha", &renamed);
    assert_eq!(e["item_id"], id.as_str(), "{e}");
    assert_eq!(e["id"], entry_id.as_str(), "{e}");
    assert!(e["deleted_at"].is_null(), "{e}");
    let now = item(&d, &id);
    assert!(now["deleted_at"].is_null(), "{now}");
    assert_eq!(now["path"], text(&renamed), "{now}");
    converge(&d, "alpha", &root, &every_file, WAIT);

    // The feed told it all, in order.
    let events = stream.until_seq(d.last_seq(), WAIT);
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e["item_id"] == id.as_str())
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let at = |kind: &str| {
        mine.iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("no {kind} for {id}: {mine:?}"))
    };
    assert!(at("item.created") < at("item.deleted"), "{mine:?}");
    assert!(at("entry.added") < at("entry.removed"), "{mine:?}");
    assert!(at("item.deleted") < at("item.restored"), "{mine:?}");
    let added = events
        .iter()
        .find(|e| e["kind"] == "entry.added" && e["item_id"] == id.as_str())
        .unwrap();
    assert_eq!(added["collection_id"], "alpha", "{added}");
    let removed = events
        .iter()
        .find(|e| e["kind"] == "entry.removed" && e["item_id"] == id.as_str())
        .unwrap();
    assert_eq!(removed["collection_id"], "alpha", "{removed}");
}

#[test]
fn a_move_between_two_watches_keeps_the_item_and_moves_the_entry() {
    let d = Daemon::start();
    let a = folder(&d, "a");
    let b = folder(&d, "b");
    write(&a.join("paper.md"), b"# a paper\n");
    let wa = watched(&d, &a, "alpha");
    let wb = watched(&d, &b, "beta");
    let e = wait_entry_at(&d, "alpha", &a.join("paper.md"));
    let id = e["item_id"].as_str().unwrap().to_owned();

    std::fs::rename(a.join("paper.md"), b.join("paper.md")).unwrap();
    converge(&d, "alpha", &a, &every_file, WAIT);
    converge(&d, "beta", &b, &every_file, WAIT);

    let in_b = live_entry_at(&d, "beta", &b.join("paper.md")).unwrap();
    assert_eq!(
        in_b["item_id"],
        id.as_str(),
        "the item keeps its id: {in_b}\nthe moved item is now {}",
        item(&d, &id)
    );
    assert_eq!(in_b["source"], format!("folder:{wb}"), "{in_b}");
    let in_a = entry_of(&d, "alpha", &id).expect("A's entry is kept, soft-deleted");
    assert!(!in_a["deleted_at"].is_null(), "{in_a}");
    assert_eq!(in_a["source"], format!("folder:{wa}"), "{in_a}");
    let now = item(&d, &id);
    assert!(now["deleted_at"].is_null(), "{now}");
    assert_eq!(now["path"], text(&b.join("paper.md")), "{now}");
    assert_eq!(now["collections"], json!(["beta"]), "{now}");
}

#[test]
fn a_move_out_of_every_watch_soft_deletes_the_item_and_its_entry() {
    let d = Daemon::start();
    let root = folder(&d, "watched");
    let outside = folder(&d, "outside");
    write(&root.join("leaving.txt"), b"bye\n");
    let wid = watched(&d, &root, "c");
    let e = wait_entry_at(&d, "c", &root.join("leaving.txt"));
    let id = e["item_id"].as_str().unwrap().to_owned();

    std::fs::rename(root.join("leaving.txt"), outside.join("leaving.txt")).unwrap();
    let mut now = Value::Null;
    assert!(
        wait_until(WAIT, || {
            now = item(&d, &id);
            !now["deleted_at"].is_null()
        }),
        "the item was never soft-deleted: {now}"
    );
    assert!(now["path"].is_null(), "{now}");
    assert_eq!(now["last_path"], text(&root.join("leaving.txt")), "{now}");
    let dead = entry_of(&d, "c", &id).unwrap();
    assert!(!dead["deleted_at"].is_null(), "{dead}");
    assert_eq!(dead["source"], format!("folder:{wid}"), "{dead}");
    converge(&d, "c", &root, &every_file, WAIT);
}

#[test]
fn two_files_swapping_names_keep_their_items() {
    let d = Daemon::start();
    let root = folder(&d, "swap");
    write(&root.join("a.txt"), b"short\n");
    write(&root.join("b.txt"), b"a longer content\n");
    watched(&d, &root, "c");
    let a = wait_entry_at(&d, "c", &root.join("a.txt"))["item_id"].clone();
    let b = wait_entry_at(&d, "c", &root.join("b.txt"))["item_id"].clone();

    std::fs::rename(root.join("a.txt"), root.join("t.txt")).unwrap();
    std::fs::rename(root.join("b.txt"), root.join("a.txt")).unwrap();
    std::fs::rename(root.join("t.txt"), root.join("b.txt")).unwrap();
    let mut now = (Value::Null, Value::Null);
    let swapped = wait_until(WAIT, || {
        let at =
            |name: &str| live_entry_at(&d, "c", &root.join(name)).map(|e| e["item_id"].clone());
        now = (
            at("a.txt").unwrap_or_default(),
            at("b.txt").unwrap_or_default(),
        );
        now == (b.clone(), a.clone())
    });
    assert!(
        swapped,
        "each item follows its file: a.txt should be {b}, b.txt {a}; they are {now:?}"
    );
    converge(&d, "c", &root, &every_file, WAIT);
    let e = live_entry_at(&d, "c", &root.join("a.txt")).unwrap();
    assert_eq!(e["item"]["size"], 17, "{e}");
}

#[test]
fn a_folder_renamed_inside_the_watch_keeps_its_files_items_and_moved_out_deletes_them() {
    let d = Daemon::start();
    let root = folder(&d, "tree");
    let outside = folder(&d, "elsewhere");
    for n in ["docs/a.txt", "docs/b.txt", "docs/deep/c.txt", "top.txt"] {
        write(&root.join(n), n.as_bytes());
    }
    watched(&d, &root, "c");
    converge(&d, "c", &root, &every_file, WAIT);
    let before: HashMap<String, String> = d
        .all_entries("c", 1000)
        .iter()
        .map(|e| {
            (
                e["unique_id"].as_str().unwrap().to_owned(),
                e["item_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    std::fs::rename(root.join("docs"), root.join("papers")).unwrap();
    converge(&d, "c", &root, &every_file, WAIT);
    for n in ["a.txt", "b.txt", "deep/c.txt"] {
        let e = live_entry_at(&d, "c", &root.join("papers").join(n)).unwrap();
        assert_eq!(e["item_id"], before[&format!("docs/{n}")].as_str(), "{e}");
        assert_eq!(e["unique_id"], format!("papers/{n}"), "{e}");
    }

    std::fs::rename(root.join("papers"), outside.join("papers")).unwrap();
    converge(&d, "c", &root, &every_file, WAIT);
    for n in ["a.txt", "b.txt", "deep/c.txt"] {
        let i = item(&d, &before[&format!("docs/{n}")]);
        assert!(!i["deleted_at"].is_null(), "{i}");
        assert!(i["path"].is_null(), "{i}");
    }
    assert_eq!(d.all_entries("c", 1000).len(), 1);
}

#[test]
fn a_file_under_two_watches_is_one_item_in_both_collections() {
    let d = Daemon::start();
    let root = folder(&d, "shared");
    std::fs::create_dir(root.join("sub")).unwrap();
    let w1 = watched(&d, &root, "one");
    let w2 = watched(&d, &root, "two");
    let w3 = watched(&d, &root.join("sub"), "three");

    write(&root.join("top.txt"), b"top\n");
    write(&root.join("sub/inner.txt"), b"inner\n");
    converge(&d, "one", &root, &every_file, WAIT);
    converge(&d, "two", &root, &every_file, WAIT);
    converge(&d, "three", &root.join("sub"), &every_file, WAIT);
    let inner = live_entry_at(&d, "one", &root.join("sub/inner.txt")).unwrap();
    let id = inner["item_id"].as_str().unwrap().to_owned();
    assert_eq!(inner["unique_id"], "sub/inner.txt", "{inner}");
    let in_three = live_entry_at(&d, "three", &root.join("sub/inner.txt")).unwrap();
    assert_eq!(in_three["item_id"], id.as_str(), "{in_three}");
    assert_eq!(in_three["unique_id"], "inner.txt", "{in_three}");
    assert_eq!(in_three["source"], format!("folder:{w3}"), "{in_three}");
    let i = item(&d, &id);
    assert_eq!(i["collections"], json!(["one", "three", "two"]), "{i}");

    std::fs::remove_file(root.join("sub/inner.txt")).unwrap();
    converge(&d, "one", &root, &every_file, WAIT);
    converge(&d, "two", &root, &every_file, WAIT);
    converge(&d, "three", &root.join("sub"), &every_file, WAIT);
    for (c, w) in [("one", &w1), ("two", &w2), ("three", &w3)] {
        let dead = entry_of(&d, c, &id).unwrap();
        assert!(!dead["deleted_at"].is_null(), "{dead}");
        assert_eq!(dead["source"], format!("folder:{w}"), "{dead}");
    }
}

#[test]
fn an_editors_atomic_save_keeps_the_item_and_its_manual_membership() {
    let d = Daemon::start();
    let root = folder(&d, "notes");
    let notes = root.join("notes.md");
    write(&notes, b"# notes\nfirst draft\n");
    let wid = watched(&d, &root, "c");
    let e = wait_entry_at(&d, "c", &notes);
    let id = e["item_id"].as_str().unwrap().to_owned();
    let entry_id = e["id"].as_str().unwrap().to_owned();

    // A manual membership elsewhere, which the watcher must never touch.
    let (s, linked) = d.send(
        "POST",
        "/v1/collections/other/items",
        &json!({ "items": [id], "create": true }),
    );
    assert_eq!(s, 200, "{linked}");
    assert_eq!(linked["summary"]["added"], 1, "{linked}");

    // The editor writes a temporary file (a name no default rule ignores), closes it, and
    // renames it over the original.
    let content = b"# notes\nsecond draft, saved atomically by the editor\n";
    let temp = root.join(".notes.md.tmp123");
    {
        let mut f = std::fs::File::create(&temp).unwrap();
        f.write_all(content).unwrap();
        f.sync_all().unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    std::fs::rename(&temp, &notes).unwrap();

    let mut now = Value::Null;
    assert!(
        wait_until(WAIT, || {
            now = item(&d, &id);
            now["size"] == content.len()
        }),
        "the saved content never showed on {id}: {now}"
    );
    converge(&d, "c", &root, &every_file, WAIT);
    let now = item(&d, &id);
    assert!(now["deleted_at"].is_null(), "{now}");
    assert_eq!(now["path"], text(&notes), "{now}");
    assert_eq!(now["collections"], json!(["c", "other"]), "{now}");
    let e = live_entry_at(&d, "c", &notes).unwrap();
    assert_eq!(e["item_id"], id.as_str(), "{e}");
    assert_eq!(e["id"], entry_id.as_str(), "{e}");
    assert_eq!(e["source"], format!("folder:{wid}"), "{e}");
    let other = d.all_entries("other", 1000);
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!(other[0]["item_id"], id.as_str());
    assert_eq!(other[0]["source"], "manual");
}

// ---------------------------------------------------------------------------------------
// Bulk: bursts, overflows, restarts, trees.

#[test]
fn a_burst_of_twenty_thousand_files_with_deletes_and_renames_converges() {
    let d = Daemon::start();
    let root = folder(&d, "burst");
    watched(&d, &root, "burst");

    let files = make_tree(&root, 20, 10, 100);
    assert_eq!(files.len(), 20_000);
    // Right after: every tenth file deleted, another tenth renamed (half in place, half into
    // another folder).
    for (n, f) in files.iter().enumerate() {
        match n % 10 {
            3 => std::fs::remove_file(f).unwrap(),
            7 if n % 20 == 7 => {
                std::fs::rename(f, f.with_file_name(format!("r{n}.txt"))).unwrap();
            }
            7 => std::fs::rename(f, root.join(format!("d00/moved{n}.txt"))).unwrap(),
            _ => {}
        }
    }
    let disk = converge(&d, "burst", &root, &every_file, BULK_WAIT);
    assert_eq!(disk.len(), 18_000);
}

/// Starts a watch of `root` whose inotify instance holds at most 64 events when the tests
/// may lower the limit (`None` then otherwise); answers the watch id and whether they could.
fn watched_with_a_small_queue(d: &Daemon, root: &Path, collection: &str) -> (String, bool) {
    // The daemon's inotify instance takes the limit in force when the watch starts.
    let mut limit = QueueLimit::lower(64);
    let wid = watched(d, root, collection);
    let lowered = limit.is_some();
    if let Some(l) = limit.as_mut() {
        l.restore();
    }
    (wid, lowered)
}

#[test]
fn a_forced_event_queue_overflow_converges_and_the_watch_returns_to_live() {
    let d = Daemon::start();
    let root = folder(&d, "flood");
    write(&root.join("before.txt"), b"before\n");
    for g in 0..10 {
        std::fs::create_dir(root.join(format!("g{g}"))).unwrap();
    }
    let (wid, lowered) = watched_with_a_small_queue(&d, &root, "flood");
    let first = watch(&d, &wid)["last_reconcile_at"].clone();
    assert!(first.is_string(), "the start-up reconcile is recorded");
    converge(&d, "flood", &root, &every_file, WAIT);

    // The daemon is stopped while the files are made in watched folders, so the kernel's
    // queue overflows (each file is several events).
    {
        let _stopped = Stopped::new(&d);
        for i in 0..3000 {
            let path = match i % 3 {
                0 => root.join(format!("f{i}.txt")),
                _ => root.join(format!("g{}/f{i}.txt", i % 10)),
            };
            write(&path, b"x\n");
        }
        std::fs::remove_file(root.join("before.txt")).unwrap();
    }
    let disk = converge(&d, "flood", &root, &every_file, BULK_WAIT);
    assert_eq!(disk.len(), 3000);
    let mut w = Value::Null;
    let reconciled = wait_until(WAIT, || {
        w = watch(&d, &wid);
        w["state"] == "live" && (!lowered || w["last_reconcile_at"] != first)
    });
    assert!(
        reconciled,
        "an overflow reconciles the whole folder (last_reconcile_at was {first}), then the \
         watch is live again: {w}"
    );
}

#[test]
fn folders_created_during_an_overflow_are_followed_afterwards() {
    let d = Daemon::start();
    let root = folder(&d, "flood");
    let (wid, lowered) = watched_with_a_small_queue(&d, &root, "flood");
    if !lowered {
        println!("the queue limit could not be lowered: this test may not overflow");
    }
    {
        let _stopped = Stopped::new(&d);
        // The queue fills up first, so the creation of the folders below is lost.
        for i in 0..200 {
            write(&root.join(format!("f{i}.txt")), b"x\n");
        }
        for i in 0..300 {
            write(&root.join(format!("g{}/f{i}.txt", i % 30)), b"x\n");
        }
    }
    converge(&d, "flood", &root, &every_file, BULK_WAIT);
    wait_live(&d, &wid);

    // The folders made while events were lost are followed like the others.
    for g in 0..30 {
        write(&root.join(format!("g{g}/late.txt")), b"late\n");
        std::fs::remove_file(root.join(format!("g{g}/f{g}.txt"))).unwrap();
    }
    converge(&d, "flood", &root, &every_file, WAIT);
}

#[test]
fn changes_made_while_the_daemon_was_down_are_reconciled_and_moves_keep_their_items() {
    let mut d = Daemon::start();
    let root = folder(&d, "offline");
    for name in [
        "stay.txt",
        "gone.txt",
        "move_here.txt",
        "move_down.txt",
        "move_new.txt",
    ] {
        write(&root.join(name), name.as_bytes());
    }
    std::fs::create_dir(root.join("sub")).unwrap();
    let wid = watched(&d, &root, "c");
    converge(&d, "c", &root, &every_file, WAIT);
    let ids: HashMap<String, String> = d
        .all_entries("c", 1000)
        .iter()
        .map(|e| {
            let name = e["item"]["path"].as_str().unwrap().rsplit('/').next();
            (
                name.unwrap().to_owned(),
                e["item_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    assert!(d.stop().success());
    write(&root.join("added.txt"), b"added while down\n");
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    std::fs::rename(root.join("move_here.txt"), root.join("renamed.txt")).unwrap();
    std::fs::rename(root.join("move_down.txt"), root.join("sub/down.txt")).unwrap();
    std::fs::create_dir(root.join("new")).unwrap();
    std::fs::rename(root.join("move_new.txt"), root.join("new/deep.txt")).unwrap();
    d.spawn();

    assert_eq!(watch(&d, &wid)["path"], text(&root));
    wait_live(&d, &wid);
    converge(&d, "c", &root, &every_file, WAIT);
    for (old, new) in [
        ("stay.txt", "stay.txt"),
        ("move_here.txt", "renamed.txt"),
        ("move_down.txt", "sub/down.txt"),
        ("move_new.txt", "new/deep.txt"),
    ] {
        let e = live_entry_at(&d, "c", &root.join(new)).unwrap();
        assert_eq!(e["item_id"], ids[old].as_str(), "{old} → {new}: {e}");
        assert_eq!(e["unique_id"], new, "{e}");
    }
    let gone = item(&d, &ids["gone.txt"]);
    assert!(!gone["deleted_at"].is_null(), "{gone}");
    assert!(gone["path"].is_null(), "{gone}");
}

#[test]
fn a_deep_mkdir_with_files_and_a_big_tree_moved_in_are_mirrored_exactly() {
    let d = Daemon::start();
    let root = folder(&d, "tree");
    watched(&d, &root, "tree");

    // `mkdir -p` ten levels deep, a file at every level at once, no pause.
    let mut dir = root.clone();
    let mut levels = Vec::new();
    for level in 0..10 {
        dir.push(format!("l{level}"));
        levels.push(dir.clone());
    }
    std::fs::create_dir_all(&dir).unwrap();
    for (level, dir) in levels.iter().enumerate() {
        std::fs::write(dir.join(format!("at{level}.txt")), b"deep\n").unwrap();
    }
    converge(&d, "tree", &root, &every_file, WAIT);

    // A 10 000-file tree built outside the watch, moved in by one rename.
    let outside = folder(&d, "staging");
    make_tree(&outside.join("big"), 10, 10, 100);
    std::fs::rename(outside.join("big"), root.join("big")).unwrap();
    let disk = converge(&d, "tree", &root, &every_file, BULK_WAIT);
    assert_eq!(disk.len(), 10_010);
}

// ---------------------------------------------------------------------------------------
// What belongs: filters, ignore files, odd folders.

/// The rules of the filtered watch below: `*.pdf` and `*.md` only, nothing under `drafts`,
/// and the root's `.gitignore` (`*.log`, `private*.md`).
fn papers_admit(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap();
    // Globs and ignore rules compare case-sensitively.
    let ext = Path::new(name).extension().and_then(|e| e.to_str());
    let excluded = rel.split('/').any(|p| p == "drafts");
    let included = matches!(ext, Some("pdf" | "md"));
    let ignored = ext == Some("log") || (name.starts_with("private") && ext == Some("md"));
    included && !excluded && !ignored
}

/// Files of every sort: admitted, not included, excluded, ignored, temporary, VCS.
fn papers_files(root: &Path, tag: &str) {
    for name in [
        format!("{tag}.pdf"),
        format!("{tag}.md"),
        format!(".{tag}-hidden.md"),
        format!("sub/{tag}.pdf"),
        format!("{tag}.txt"),
        format!("{tag}.png"),
        format!("drafts/{tag}.pdf"),
        format!("sub/drafts/{tag}.md"),
        format!("{tag}.log"),
        format!("sub/{tag}.pdf.log"),
        format!("private-{tag}.md"),
        format!("{tag}.pdf.part"),
        format!("{tag}.md~"),
        format!(".#{tag}.md"),
        format!(".git/{tag}.pdf"),
        format!("sub/.hg/{tag}.md"),
    ] {
        write(&root.join(name), b"%PDF-1.4\n");
    }
}

#[test]
fn include_exclude_ignore_files_and_default_rules_decide_membership() {
    let mut d = Daemon::unstarted("");
    let root = folder(&d, "papers");
    write(&root.join(".gitignore"), b"*.log\nprivate*.md\n");
    papers_files(&root, "before");
    std::fs::write(
        &d.config,
        format!(
            "[[watch]]\npath = \"{}\"\ncollection = \"papers\"\n\
             include = [\"*.pdf\", \"*.md\"]\nexclude = [\"drafts\"]\n",
            text(&root)
        ),
    )
    .unwrap();
    d.spawn();
    let (s, list) = d.get("/v1/watches");
    assert_eq!(s, 200, "{list}");
    let w = &list["watches"][0];
    assert_eq!(w["from_config"], true, "{list}");
    assert_eq!(w["include"], json!(["*.pdf", "*.md"]), "{list}");
    assert_eq!(w["exclude"], json!(["drafts"]), "{list}");
    let wid = w["id"].as_str().unwrap().to_owned();
    wait_live(&d, &wid);
    let disk = converge(&d, "papers", &root, &papers_admit, WAIT);
    assert_eq!(disk.len(), 4, "{disk:?}");

    // The same sorts created while the watch is live, in old and new folders.
    papers_files(&root, "after");
    papers_files(&root.join("later"), "late");
    let disk = converge(&d, "papers", &root, &papers_admit, WAIT);
    assert_eq!(disk.len(), 12, "{disk:?}");
}

#[test]
fn a_symlink_loop_and_an_unreadable_folder_do_not_stop_the_reconcile() {
    let d = Daemon::start();
    let root = folder(&d, "odd");
    write(&root.join("a.txt"), b"a\n");
    write(&root.join("sub/b.txt"), b"b\n");
    std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(".", root.join("self")).unwrap();
    let locked = root.join("locked");
    write(&locked.join("secret.txt"), b"secret\n");
    let unreadable = !is_root();
    if unreadable {
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
    } else {
        println!("running as root, which reads every folder: the unreadable folder is not tried");
    }
    write(&root.join("z/c.txt"), b"c\n");

    watched(&d, &root, "odd");
    // The walker skips what it cannot read, as the daemon must.
    let disk = converge(&d, "odd", &root, &every_file, WAIT);
    assert_eq!(disk.len(), if unreadable { 3 } else { 4 }, "{disk:?}");

    // It keeps following the folder.
    write(&root.join("sub/d.txt"), b"d\n");
    write(&root.join("after.txt"), b"after\n");
    converge(&d, "odd", &root, &every_file, WAIT);
    if unreadable {
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// The /v1/watches routes.

#[test]
fn watches_persist_across_a_restart_and_keep_following_their_folder() {
    let mut d = Daemon::start();
    let root = folder(&d, "persist");
    write(&root.join("one.txt"), b"1\n");
    let wid = watched(&d, &root, "kept");
    converge(&d, "kept", &root, &every_file, WAIT);

    assert!(d.stop().success());
    d.spawn();
    let w = watch(&d, &wid);
    assert_eq!(w["path"], text(&root), "{w}");
    assert_eq!(w["collection"], "kept", "{w}");
    assert_eq!(w["from_config"], false, "{w}");
    wait_live(&d, &wid);
    write(&root.join("two.txt"), b"2\n");
    converge(&d, "kept", &root, &every_file, WAIT);
    let (_, c) = d.get("/v1/collections/kept");
    assert_eq!(
        c["folders"],
        json!([{ "watch_id": wid, "path": text(&root) }]),
        "{c}"
    );
}

#[test]
fn deleting_a_watch_soft_deletes_its_entries_or_keeps_them_as_manual() {
    let d = Daemon::start();
    let kept_root = folder(&d, "kept");
    let dropped_root = folder(&d, "dropped");
    for n in ["a.txt", "b.txt", "sub/c.txt"] {
        write(&kept_root.join(n), n.as_bytes());
    }
    for n in ["x.txt", "y.txt"] {
        write(&dropped_root.join(n), n.as_bytes());
    }
    let wk = watched(&d, &kept_root, "kept");
    let wd = watched(&d, &dropped_root, "dropped");
    converge(&d, "kept", &kept_root, &every_file, WAIT);
    converge(&d, "dropped", &dropped_root, &every_file, WAIT);

    let (s, body) = d.call("DELETE", &format!("/v1/watches/{wk}?keep_entries=true"));
    assert_eq!(s, 200, "{body}");
    assert_eq!(body, json!({ "id": wk, "entries": 3 }));
    let kept = d.all_entries("kept", 1000);
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept.iter().all(|e| e["source"] == "manual"), "{kept:?}");

    let (s, body) = d.call("DELETE", &format!("/v1/watches/{wd}"));
    assert_eq!(s, 200, "{body}");
    assert_eq!(body, json!({ "id": wd, "entries": 2 }));
    assert!(d.all_entries("dropped", 1000).is_empty());
    let dead = all_entries_with_deleted(&d, "dropped");
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead.iter().all(|e| !e["deleted_at"].is_null()), "{dead:?}");

    let (_, list) = d.get("/v1/watches");
    assert_eq!(list, json!({ "watches": [] }));
    for c in ["kept", "dropped"] {
        let (_, col) = d.get(&format!("/v1/collections/{c}"));
        assert_eq!(col["folders"], json!([]), "{col}");
    }
    // Gone for good.
    let gone = d.request("DELETE", &format!("/v1/watches/{wd}"), None, None);
    assert_envelope(&gone, 404, "WATCH_NOT_FOUND");
}

#[test]
fn unknown_and_malformed_watch_ids_answer_watch_not_found_and_invalid_id() {
    let d = Daemon::start();
    let unknown = "w_01ARZ3NDEKTSV4RRFFQ69G5FAV";
    for (method, path) in [
        ("DELETE", format!("/v1/watches/{unknown}")),
        ("DELETE", format!("/v1/watches/{unknown}?keep_entries=true")),
        ("POST", format!("/v1/watches/{unknown}/rescan")),
    ] {
        let r = d.request(method, &path, None, None);
        let details = assert_envelope(&r, 404, "WATCH_NOT_FOUND");
        assert!(details.to_string().contains(unknown), "{details}");
    }
    for bad in ["nope", "w_123", "doc_01ARZ3NDEKTSV4RRFFQ69G5FAV"] {
        for (method, path) in [
            ("DELETE", format!("/v1/watches/{bad}")),
            ("POST", format!("/v1/watches/{bad}/rescan")),
        ] {
            let r = d.request(method, &path, None, None);
            assert_envelope(&r, 400, "INVALID_ID");
        }
    }
}

#[test]
fn adding_a_watch_checks_the_folder_the_globs_and_the_collection() {
    let d = Daemon::start();
    let root = folder(&d, "ok");
    let file = root.join("a-file.txt");
    write(&file, b"not a folder\n");
    let locs = |details: &Value| -> Vec<Value> {
        details
            .as_array()
            .unwrap_or_else(|| panic!("field details: {details}"))
            .iter()
            .map(|f| f["loc"].clone())
            .collect()
    };
    let refused = |body: Value, loc: Value| {
        let r = d.json("POST", "/v1/watches", &body);
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(locs(&details), vec![loc], "{body}: {details}");
    };
    let missing = root.join("does-not-exist");
    refused(
        json!({ "path": missing, "collection": "c" }),
        json!(["body", "path"]),
    );
    refused(
        json!({ "path": file, "collection": "c" }),
        json!(["body", "path"]),
    );
    refused(
        json!({ "path": root, "collection": "c", "include": ["a[b"] }),
        json!(["body", "include"]),
    );
    refused(
        json!({ "path": root, "collection": "c", "exclude": ["{x"] }),
        json!(["body", "exclude"]),
    );
    refused(
        json!({ "path": root, "collection": "default" }),
        json!(["body", "collection"]),
    );
    refused(
        json!({ "path": "relative/folder", "collection": "c" }),
        json!(["body", "path"]),
    );
    refused(
        json!({ "path": "/", "collection": "c" }),
        json!(["body", "path"]),
    );
    let r = d.json(
        "POST",
        "/v1/watches",
        &json!({ "path": root, "collection": "c", "create": false }),
    );
    assert_envelope(&r, 404, "COLLECTION_NOT_FOUND");
    // Nothing was created by the refusals.
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list, json!({ "watches": [] }));
    let (s, c) = d.get("/v1/collections/c");
    assert_eq!(s, 404, "{c}");

    // Twice the same folder into the same collection: the same watch, 200 the second time.
    let (s, first) = d.send(
        "POST",
        "/v1/watches",
        &json!({ "path": root, "collection": "c" }),
    );
    assert_eq!(s, 201, "{first}");
    let (s, again) = d.send(
        "POST",
        "/v1/watches",
        &json!({ "path": root, "collection": "c" }),
    );
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], first["id"], "{again}");
    let (_, list) = d.get("/v1/watches");
    assert_eq!(list["watches"].as_array().unwrap().len(), 1, "{list}");
}

/// Waits until the watch's `files` is `n`.
fn wait_files(d: &Daemon, wid: &str, n: usize) {
    let mut w = Value::Null;
    assert!(
        wait_until(WAIT, || {
            w = watch(d, wid);
            w["files"] == n
        }),
        "files is not the {n} files mirrored: {w}"
    );
}

#[test]
fn a_watchs_file_count_follows_creations_deletions_and_renames() {
    let d = Daemon::start();
    let root = folder(&d, "count");
    for i in 0..5 {
        write(&root.join(format!("f{i}.txt")), b"x\n");
    }
    let wid = watched(&d, &root, "count");
    converge(&d, "count", &root, &every_file, WAIT);
    assert_eq!(watch(&d, &wid)["files"], 5);

    for i in 5..12 {
        write(&root.join(format!("f{i}.txt")), b"x\n");
    }
    std::fs::remove_file(root.join("f0.txt")).unwrap();
    std::fs::rename(root.join("f1.txt"), root.join("renamed.txt")).unwrap();
    let disk = converge(&d, "count", &root, &every_file, WAIT);
    assert_eq!(disk.len(), 11);
    wait_files(&d, &wid, disk.len());
}

#[test]
fn editing_a_file_does_not_change_the_watchs_file_count() {
    let d = Daemon::start();
    let root = folder(&d, "count");
    for i in 0..3 {
        write(&root.join(format!("f{i}.txt")), b"x\n");
    }
    let wid = watched(&d, &root, "count");
    converge(&d, "count", &root, &every_file, WAIT);
    assert_eq!(watch(&d, &wid)["files"], 3);

    write(&root.join("f0.txt"), b"edited, longer\n");
    let mut e = Value::Null;
    assert!(
        wait_until(WAIT, || {
            e = live_entry_at(&d, "count", &root.join("f0.txt")).unwrap();
            e["item"]["size"] == 15
        }),
        "the edit never showed: {e}"
    );
    converge(&d, "count", &root, &every_file, WAIT);
    wait_files(&d, &wid, 3);
}

#[test]
fn files_found_by_a_folder_rescan_are_counted() {
    let d = Daemon::start();
    let root = folder(&d, "count");
    write(&root.join("top.txt"), b"x\n");
    let wid = watched(&d, &root, "count");
    // A folder with files appears while the daemon cannot see the files' own events: only
    // the rescan of the new folder finds them.
    {
        let _stopped = Stopped::new(&d);
        for i in 0..5 {
            write(&root.join(format!("new/f{i}.txt")), b"x\n");
        }
    }
    let disk = converge(&d, "count", &root, &every_file, WAIT);
    assert_eq!(disk.len(), 6);
    wait_files(&d, &wid, disk.len());
}

#[test]
fn files_deleted_or_renamed_while_a_rescan_commits_are_not_left_behind() {
    let d = Daemon::start();
    let root = folder(&d, "race");
    let outside = folder(&d, "links");
    let files = make_tree(&root.join("big"), 10, 10, 50);
    for (n, f) in files.iter().enumerate() {
        std::fs::hard_link(f, outside.join(format!("{n}.txt"))).unwrap();
    }
    watched(&d, &root, "race");
    converge(&d, "race", &root, &every_file, BULK_WAIT);
    for attempt in 0..3 {
        // Every file changes through its link outside the watch (no event), so the next
        // rescan has thousands of changes to commit and takes a while.
        for n in 0..files.len() {
            let mut link = std::fs::OpenOptions::new()
                .append(true)
                .open(outside.join(format!("{n}.txt")))
                .unwrap();
            link.write_all(b"+").unwrap();
        }
        // An ignore file makes the daemon rescan the folder once it settles; a file is
        // created just before the rescan walks, and deleted or renamed while it commits.
        // The pauses only aim at that window; the assertion does not depend on them.
        write(
            &root.join(".gitignore"),
            format!("# {attempt}\n").as_bytes(),
        );
        std::thread::sleep(Duration::from_millis(10));
        let f = root.join(format!("brief{attempt}.txt"));
        let g = root.join(format!("renamed{attempt}.txt"));
        write(&f, b"here for a moment\n");
        write(&g, b"renamed in a moment\n");
        std::thread::sleep(Duration::from_millis(40));
        std::fs::remove_file(&f).unwrap();
        std::fs::rename(&g, root.join(format!("big/renamed{attempt}.txt"))).unwrap();
        converge(&d, "race", &root, &every_file, WAIT);
    }
}

#[test]
fn relocate_moves_the_files_on_disk_keeps_the_items_and_undo_moves_them_back() {
    let d = Daemon::start();
    let inbox = folder(&d, "inbox");
    let shelf = folder(&d, "shelf");
    write(&inbox.join("2024/trip/c.jpg"), b"\xff\xd8\xff jpeg");
    write(&inbox.join("notes.md"), b"# notes\n");
    write(&inbox.join("stays.txt"), b"stays\n");
    let wa = watched(&d, &inbox, "inbox");
    let wb = watched(&d, &shelf, "shelf");
    let photo = wait_entry_at(&d, "inbox", &inbox.join("2024/trip/c.jpg"));
    let notes = wait_entry_at(&d, "inbox", &inbox.join("notes.md"));
    let ids = [photo["item_id"].clone(), notes["item_id"].clone()];

    let (s, r) = d.send(
        "POST",
        "/v1/collections/shelf/items",
        &json!({"items": ids, "mode": "move", "from": "inbox", "relocate": true}),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["summary"]["moved"], 2, "{r}");
    let op = r["op_id"].as_str().unwrap().to_owned();

    // On disk, at once: the files are in the shelf's folder at their relative paths.
    assert!(shelf.join("2024/trip/c.jpg").is_file());
    assert!(shelf.join("notes.md").is_file());
    assert!(!inbox.join("notes.md").exists());
    assert!(inbox.join("stays.txt").is_file());
    // In the store: same items, new paths, entries of the shelf's watch.
    let moved = item(&d, ids[0].as_str().unwrap());
    assert_eq!(
        moved["path"],
        text(&shelf.join("2024/trip/c.jpg")),
        "{moved}"
    );
    let entry = live_entry_at(&d, "shelf", &shelf.join("notes.md")).expect("moved entry");
    assert_eq!(entry["item_id"], ids[1], "{entry}");
    assert_eq!(entry["source"], format!("folder:{wb}"), "{entry}");
    let left = entry_of(&d, "inbox", ids[1].as_str().unwrap()).unwrap();
    assert!(left["deleted_at"].is_string(), "{left}");
    assert_eq!(left["source"], format!("folder:{wa}"), "{left}");
    // The watches see renames of files already where the store says: nothing else changes.
    converge(&d, "shelf", &shelf, &every_file, WAIT);
    converge(&d, "inbox", &inbox, &every_file, WAIT);
    assert_eq!(
        live_entry_at(&d, "shelf", &shelf.join("notes.md")).unwrap()["item_id"],
        ids[1]
    );

    // Undone, the files go back with their entries.
    let (status, undone) = d.call("POST", &format!("/v1/ops/{op}/undo"));
    assert_eq!(status, 200, "{undone}");
    assert!(inbox.join("2024/trip/c.jpg").is_file());
    assert!(!shelf.join("notes.md").exists());
    converge(&d, "inbox", &inbox, &every_file, WAIT);
    converge(&d, "shelf", &shelf, &every_file, WAIT);
    let back = live_entry_at(&d, "inbox", &inbox.join("notes.md")).expect("back");
    assert_eq!(back["item_id"], ids[1], "{back}");
}

#[test]
fn a_relocate_that_fails_midway_leaves_disk_and_store_as_they_were() {
    let d = Daemon::start();
    let inbox = folder(&d, "inbox");
    let shelf = folder(&d, "shelf");
    write(&inbox.join("a.txt"), b"a\n");
    write(&inbox.join("sub/b.txt"), b"b\n");
    watched(&d, &inbox, "inbox");
    watched(&d, &shelf, "shelf");
    let first = wait_entry_at(&d, "inbox", &inbox.join("a.txt"));
    let second = wait_entry_at(&d, "inbox", &inbox.join("sub/b.txt"));
    // `sub` cannot be made in the shelf: an ignored file holds the name (the watch does not
    // take it, so the store knows of no conflict; the disk move finds it).
    std::fs::write(shelf.join(".ignore"), "sub\n").unwrap();
    write(&shelf.join("sub"), b"in the way\n");
    wait_entry_at(&d, "shelf", &shelf.join(".ignore"));
    let entries_before = all_entries_with_deleted(&d, "inbox");
    let shelf_before = all_entries_with_deleted(&d, "shelf");

    let (s, r) = d.send(
        "POST",
        "/v1/collections/shelf/items",
        &json!({"items": [first["item_id"], second["item_id"]], "mode": "move", "from": "inbox", "relocate": true}),
    );
    assert_eq!(s, 500, "{r}");
    assert_eq!(r["error"]["code"], "STORAGE_ERROR", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("sub/b.txt"), "{message}");

    // The first file, moved before the failure, is back; nothing landed in the shelf.
    assert_eq!(std::fs::read(inbox.join("a.txt")).unwrap(), b"a\n");
    assert_eq!(std::fs::read(inbox.join("sub/b.txt")).unwrap(), b"b\n");
    assert!(!shelf.join("a.txt").exists());
    // The store did not change: same entries, same paths.
    assert_eq!(all_entries_with_deleted(&d, "inbox"), entries_before);
    assert_eq!(all_entries_with_deleted(&d, "shelf"), shelf_before);
    assert_eq!(
        item(&d, first["item_id"].as_str().unwrap())["path"],
        text(&inbox.join("a.txt"))
    );
    converge(&d, "inbox", &inbox, &every_file, WAIT);
}

/// Waits until the item's `content_hash` is the BLAKE3 of `content`.
fn wait_hash(d: &Daemon, id: &str, content: &[u8]) {
    let want = blake3::hash(content).to_hex().to_string();
    let mut now = Value::Null;
    assert!(
        wait_until(WAIT, || {
            now = item(d, id);
            now["content_hash"] == want.as_str()
        }),
        "content_hash never became {want}: {now}"
    );
}

#[test]
fn content_hashes_are_computed_in_the_background_and_follow_changes() {
    let d = Daemon::start();
    let root = folder(&d, "hashed");
    let big: Vec<u8> = (0..3_000_000_u32).map(|n| (n % 251) as u8).collect();
    write(&root.join("a.txt"), b"alpha\n");
    write(&root.join("big.bin"), &big);
    watched(&d, &root, "hashed");
    let a = wait_entry_at(&d, "hashed", &root.join("a.txt"));
    let a = a["item_id"].as_str().unwrap().to_owned();
    let b = wait_entry_at(&d, "hashed", &root.join("big.bin"));
    wait_hash(&d, &a, b"alpha\n");
    wait_hash(&d, b["item_id"].as_str().unwrap(), &big);

    // New content: the old hash goes with the change, the new one follows.
    write(&root.join("a.txt"), b"beta, longer\n");
    wait_hash(&d, &a, b"beta, longer\n");
    // A file created live is hashed too.
    write(&root.join("c.md"), b"# c\n");
    let c = wait_entry_at(&d, "hashed", &root.join("c.md"));
    wait_hash(&d, c["item_id"].as_str().unwrap(), b"# c\n");
}

#[test]
fn sheaf_add_with_relocate_moves_the_file_and_without_it_names_the_code() {
    let d = Daemon::start();
    let inbox = folder(&d, "inbox");
    let shelf = folder(&d, "shelf");
    write(&inbox.join("book.epub"), b"PK epub\n");
    watched(&d, &inbox, "inbox");
    watched(&d, &shelf, "shelf");
    let id = wait_entry_at(&d, "inbox", &inbox.join("book.epub"))["item_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let add_to_shelf = |extra: &[&str]| {
        std::process::Command::new(sheaf_e2e::sheaf())
            .env("SHEAF_NO_AUTOSTART", "1")
            .env("NO_COLOR", "1")
            .arg("--socket")
            .arg(&d.socket)
            .args(["add", "shelf", &id, "--move", "--from", "inbox"])
            .args(extra)
            .output()
            .unwrap()
    };

    let refused = add_to_shelf(&[]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("ENTRY_MANAGED_BY_FOLDER"), "{err}");
    assert!(inbox.join("book.epub").exists());

    let moved = add_to_shelf(&["--relocate"]);
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(shelf.join("book.epub").is_file());
    assert!(!inbox.join("book.epub").exists());
    let entry = live_entry_at(&d, "shelf", &shelf.join("book.epub")).expect("moved");
    assert_eq!(entry["item_id"], id.as_str());
}
