//! The live watcher against real inotify, in a temp folder.

use std::fs;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use sheaf_watch::{Coalescer, Incoming, LiveHub, LiveWatcher, RawEvent, Settled};

const SETTLE: Duration = Duration::from_millis(50);
const QUIET: Duration = Duration::from_millis(300);
const BOUND: Duration = Duration::from_secs(5);

/// Feed everything received into a coalescer until nothing has arrived for [`QUIET`] and nothing
/// is pending (bounded by [`BOUND`]); return every settled outcome, sorted.
fn settle(watcher: &LiveWatcher, rx: &Receiver<Incoming>) -> Vec<Settled> {
    let start = Instant::now();
    let mut coalescer = Coalescer::new(SETTLE);
    let mut out = Vec::new();
    let mut last_event = Instant::now();
    while start.elapsed() < BOUND {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(Incoming::Events(events)) => {
                let now = Instant::now();
                last_event = now;
                for (path, event) in events {
                    coalescer.push(path, event, now);
                }
            }
            Ok(Incoming::Error(e)) => panic!("watcher error: {e}"),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => panic!("watcher gone"),
        }
        if watcher.take_overflow() {
            coalescer.push(
                watcher.root().to_path_buf(),
                RawEvent::Rescan,
                Instant::now(),
            );
        }
        out.extend(coalescer.drain_settled(Instant::now()));
        if coalescer.is_empty() && last_event.elapsed() >= QUIET {
            break;
        }
    }
    assert!(coalescer.is_empty(), "not settled within {BOUND:?}");
    out.sort();
    out
}

#[test]
fn created_moved_modified_and_removed_files_settle_to_their_net_outcomes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    fs::write(root.join("old.txt"), b"old").expect("write");
    fs::write(root.join("edit.txt"), b"v1").expect("write");
    fs::write(root.join("gone.txt"), b"gone").expect("write");
    fs::create_dir(root.join("sub")).expect("mkdir");

    let (watcher, rx) = LiveWatcher::start(root, 1024).expect("start watcher");
    fs::write(root.join("new.txt"), b"new").expect("write");
    fs::rename(root.join("old.txt"), root.join("sub/moved.txt")).expect("rename");
    fs::write(root.join("edit.txt"), b"v2").expect("write");
    fs::remove_file(root.join("gone.txt")).expect("remove");

    assert_eq!(
        settle(&watcher, &rx),
        vec![
            Settled::Created(root.join("new.txt")),
            Settled::Modified(root.join("edit.txt")),
            Settled::Removed(root.join("gone.txt")),
            Settled::Moved {
                from: root.join("old.txt"),
                to: root.join("sub/moved.txt"),
            },
        ]
    );
}

#[test]
fn a_burst_into_a_tiny_channel_sets_the_overflow_signal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let (watcher, rx) = LiveWatcher::start(root, 1).expect("start watcher");
    for i in 0..200 {
        fs::write(root.join(format!("f{i}.txt")), b"x").expect("write");
    }
    let start = Instant::now();
    while !watcher.take_overflow() {
        assert!(start.elapsed() < BOUND, "no overflow signalled");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The consumer's answer to an overflow: a rescan of the root, at once.
    let mut coalescer = Coalescer::new(SETTLE);
    while let Ok(Incoming::Events(events)) = rx.try_recv() {
        for (path, event) in events {
            coalescer.push(path, event, Instant::now());
        }
    }
    coalescer.push(
        watcher.root().to_path_buf(),
        RawEvent::Rescan,
        Instant::now(),
    );
    assert_eq!(
        coalescer.drain_settled(Instant::now()),
        vec![Settled::Rescan(root.to_path_buf())]
    );
}

#[test]
fn starting_on_a_missing_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing");
    let err = LiveWatcher::start(&missing, 8).expect_err("missing root");
    assert!(
        err.to_string().contains(&*missing.to_string_lossy()),
        "{err}"
    );
}

#[test]
fn on_one_hub_a_rename_between_two_roots_settles_as_the_same_move_in_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::create_dir(&a).expect("mkdir");
    fs::create_dir(&b).expect("mkdir");
    fs::write(a.join("paper.md"), b"# paper").expect("write");
    let hub = LiveHub::default();
    let (wa, rxa) = hub.watch(&a, 64).expect("watch a");
    let (wb, rxb) = hub.watch(&b, 64).expect("watch b");

    fs::rename(a.join("paper.md"), b.join("paper.md")).expect("rename");
    let moved = vec![Settled::Moved {
        from: a.join("paper.md"),
        to: b.join("paper.md"),
    }];
    assert_eq!(settle(&wa, &rxa), moved);
    assert_eq!(settle(&wb, &rxb), moved);
}

#[test]
fn on_one_hub_a_root_inside_another_keeps_its_events_when_the_outer_watch_stops() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outer = dir.path().to_path_buf();
    let inner = outer.join("in");
    fs::create_dir_all(inner.join("deep")).expect("mkdir");
    let hub = LiveHub::default();
    let (wo, rxo) = hub.watch(&outer, 64).expect("watch outer");
    let (wi, rxi) = hub.watch(&inner, 64).expect("watch inner");

    fs::write(inner.join("deep/one.txt"), b"1").expect("write");
    let one = vec![Settled::Created(inner.join("deep/one.txt"))];
    assert_eq!(settle(&wo, &rxo), one, "both see a file under both roots");
    assert_eq!(settle(&wi, &rxi), one);

    drop(wo);
    drop(rxo);
    fs::write(inner.join("deep/two.txt"), b"2").expect("write");
    let after = settle(&wi, &rxi);
    assert!(
        after.contains(&Settled::Created(inner.join("deep/two.txt"))),
        "the inner watch still follows its folder: {after:?}"
    );
}

/// Waits for a message about `path` (bounded by [`BOUND`]); answers its event.
fn wait_for(rx: &Receiver<Incoming>, path: &std::path::Path) -> RawEvent {
    let start = Instant::now();
    while start.elapsed() < BOUND {
        if let Ok(Incoming::Events(events)) = rx.recv_timeout(Duration::from_millis(10))
            && let Some((_, e)) = events.into_iter().find(|(p, _)| p == path)
        {
            return e;
        }
    }
    panic!("no event for {} within {BOUND:?}", path.display());
}

#[test]
fn after_sync_a_new_folder_is_watched_so_a_walk_then_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let (watcher, rx) = LiveWatcher::start(&root, 1 << 20).unwrap();
    // A flood elsewhere in the root keeps notify reading the kernel queue, which is when it
    // has reported a new folder and not yet watched it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let (stop, at) = (stop.clone(), root.join("flood"));
        fs::create_dir(&at).unwrap();
        std::thread::spawn(move || {
            let mut n = 0_u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let f = at.join((n % 64).to_string());
                fs::write(&f, b"x").unwrap();
                n += 1;
            }
        })
    };
    for n in 0..50 {
        let folder = root.join(format!("d{n}"));
        fs::create_dir(&folder).unwrap();
        assert_eq!(wait_for(&rx, &folder), RawEvent::Rescan);
        // The consumer's walk of the folder would start here: anything written from now on
        // must arrive as an event.
        watcher.sync().unwrap();
        let file = folder.join("f");
        fs::write(&file, b"x").unwrap();
        assert_eq!(
            wait_for(&rx, &file),
            RawEvent::Created,
            "{}",
            file.display()
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flood.join().unwrap();
}
