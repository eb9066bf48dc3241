//! The kernel's own event queue overflowing (SPEC §3, "Never lose a change"): inotify drops
//! events, sheafd says so in `/v1/health`, rescans the root, and the collection equals the
//! folder again — without a restart or a rescan call.
//!
//! The queue is made tiny for this test alone (`fs.inotify.max_queued_events`, read when an
//! inotify instance is created, so it needs root), which is why it is a test binary of its
//! own: no other test of this binary creates an instance while the limit is lowered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use sheaf_e2e::{Daemon, is_root, wait_until};

const MAX_QUEUED: &str = "/proc/sys/fs/inotify/max_queued_events";

/// Sets the kernel's inotify queue length until dropped.
struct QueueLimit(String);

impl QueueLimit {
    fn lower_to(events: u32) -> Option<Self> {
        let old = std::fs::read_to_string(MAX_QUEUED).ok()?;
        std::fs::write(MAX_QUEUED, events.to_string()).ok()?;
        Some(Self(old))
    }
}

impl Drop for QueueLimit {
    fn drop(&mut self) {
        let _ = std::fs::write(MAX_QUEUED, self.0.trim());
    }
}

fn live_paths(d: &Daemon) -> BTreeSet<String> {
    d.all_entries("burst", 1000)
        .iter()
        .map(|e| e["item"]["path"].as_str().unwrap().to_owned())
        .collect()
}

fn files_on_disk(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_kernel_queue_overflow_is_reported_in_health_and_recovered_by_a_rescan_of_the_root() {
    if !is_root() {
        eprintln!("SKIPPED: lowering fs.inotify.max_queued_events needs root");
        return;
    }
    let d = Daemon::start();
    let root = d.dir.path().join("burst");
    std::fs::create_dir_all(&root).unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    {
        // sheafd's one inotify instance is made with the first watch: with a queue of 16.
        let Some(_limit) = QueueLimit::lower_to(16) else {
            eprintln!("SKIPPED: {MAX_QUEUED} cannot be written here");
            return;
        };
        let (s, w) = d.send(
            "POST",
            "/v1/watches",
            &json!({ "path": root, "collection": "burst", "create": true }),
        );
        assert_eq!(s, 201, "{w}");
        let live = wait_until(Duration::from_secs(30), || {
            let (_, h) = d.get("/v1/health");
            h["watches"][0]["state"] == "live"
        });
        assert!(live, "the watch never became live");
    }
    let (_, h) = d.get("/v1/health");
    assert_eq!(h["watches"][0]["overflows"], 0, "{h}");
    assert!(h["watches"][0]["last_overflow_at"].is_null(), "{h}");

    // Far more events than 16 at once: the kernel drops them and says so.
    for n in 0..3000 {
        std::fs::write(root.join(format!("f{n:04}.txt")), b"x").unwrap();
    }
    let mut health = serde_json::Value::Null;
    let reported = wait_until(Duration::from_secs(60), || {
        health = d.get("/v1/health").1;
        health["watches"][0]["overflows"].as_u64() > Some(0)
    });
    assert!(reported, "no overflow reported: {health}");
    assert!(
        health["watches"][0]["last_overflow_at"].is_string(),
        "{health}"
    );

    // The rescan brings every file in; live events work again on the renewed queue.
    let on_disk = files_on_disk(&root);
    assert_eq!(on_disk.len(), 3000);
    let mut got = BTreeSet::new();
    let converged = wait_until(Duration::from_secs(120), || {
        got = live_paths(&d);
        got == on_disk
    });
    assert!(
        converged,
        "missing {:?}, extra {:?}",
        on_disk.difference(&got).take(10).collect::<Vec<_>>(),
        got.difference(&on_disk).take(10).collect::<Vec<_>>()
    );
    std::fs::remove_file(root.join("f0000.txt")).unwrap();
    std::fs::write(root.join("after.txt"), b"y").unwrap();
    let on_disk = files_on_disk(&root);
    let converged = wait_until(Duration::from_secs(60), || {
        got = live_paths(&d);
        got == on_disk
    });
    assert!(
        converged,
        "after the overflow: missing {:?}, extra {:?}",
        on_disk.difference(&got).collect::<Vec<_>>(),
        got.difference(&on_disk).collect::<Vec<_>>()
    );
}
