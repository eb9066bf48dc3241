//! The daemon's lifecycle (SPEC §2.6, §6): a stale socket is replaced, a live one is never
//! stolen, a database is never shared, and stopping — gracefully or not — in the middle of
//! a stream of batch adds loses no acknowledged write and half-applies nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, output_within, sheafd};

/// The one line a refused start prints.
fn one_line(out: &Output) -> String {
    assert!(!out.status.success(), "exits non-zero");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {err:?}");
    lines[0].to_owned()
}

#[test]
fn a_stale_socket_left_by_a_killed_daemon_is_replaced_on_the_next_start() {
    let mut d = Daemon::start();
    d.create_collection("kept");
    d.kill();
    let meta = std::fs::symlink_metadata(&d.socket).expect("SIGKILL leaves the socket behind");
    assert!(meta.file_type().is_socket());
    assert!(
        UnixStream::connect(&d.socket).is_err(),
        "nobody answers on it"
    );

    d.spawn();
    assert_eq!(d.get("/v1/health").0, 200);
    assert_eq!(
        d.get("/v1/collections/kept").0,
        200,
        "the committed write survived"
    );
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    assert!(!d.socket.exists());
}

#[test]
fn a_second_sheafd_on_the_same_socket_exits_non_zero_with_a_one_line_reason() {
    let d = Daemon::start();
    let inode = std::fs::metadata(&d.socket).unwrap().ino();
    // Same socket, its own database: the socket probe refuses it.
    let mut cmd = Command::new(sheafd());
    cmd.arg("--socket")
        .arg(&d.socket)
        .arg("--database")
        .arg(d.dir.path().join("other.redb"))
        .arg("--config")
        .arg(&d.config)
        .env("RUST_LOG", "warn");
    let line = one_line(&output_within(&mut cmd, Duration::from_secs(10)));
    assert!(line.contains("already running"), "{line}");
    assert!(line.contains(d.socket.to_str().unwrap()), "{line}");
    assert!(
        !d.dir.path().join("other.redb").exists(),
        "refused before touching a database"
    );
    // The same command as the first daemon (same socket and database).
    let line = one_line(&output_within(&mut d.command(), Duration::from_secs(10)));
    assert!(line.contains("already running"), "{line}");
    // The live daemon keeps its socket.
    assert_eq!(
        std::fs::metadata(&d.socket).unwrap().ino(),
        inode,
        "not stolen"
    );
    assert_eq!(d.get("/v1/health").0, 200);
}

#[test]
fn a_second_sheafd_on_the_same_database_with_another_socket_exits_in_use() {
    let d = Daemon::start();
    d.create_collection("mine");
    let other = d.dir.path().join("other/sheafd.sock");
    let mut cmd = Command::new(sheafd());
    cmd.arg("--socket")
        .arg(&other)
        .arg("--database")
        .arg(&d.database)
        .arg("--config")
        .arg(&d.config)
        .env("RUST_LOG", "warn");
    let line = one_line(&output_within(&mut cmd, Duration::from_secs(10)));
    assert!(line.contains("in use"), "{line}");
    assert!(line.contains(d.database.to_str().unwrap()), "{line}");
    assert!(!other.exists(), "no socket left behind");
    assert_eq!(d.get("/v1/collections/mine").0, 200);
}

#[test]
fn a_file_that_is_not_a_socket_at_the_socket_path_is_left_alone() {
    let d = Daemon::unstarted("");
    std::fs::create_dir_all(d.socket.parent().unwrap()).unwrap();
    std::fs::write(&d.socket, b"precious").unwrap();
    let line = one_line(&output_within(&mut d.command(), Duration::from_secs(10)));
    assert!(line.contains("not a socket"), "{line}");
    assert_eq!(std::fs::read(&d.socket).unwrap(), b"precious");
}

/// What the writer thread saw of one batch.
#[derive(Debug)]
enum Outcome {
    /// 200: batch index and answer.
    Acked(usize, Value),
    /// Anything else ends the stream.
    Stopped(String),
}

/// Streams 50-item batch adds into `stream` until something fails; reports each outcome.
fn writer(d: &Daemon, ids: Vec<String>) -> (mpsc::Receiver<Outcome>, std::thread::JoinHandle<()>) {
    let client = d.client();
    let url = d.url("/v1/collections/stream/items");
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        for (i, batch) in ids.chunks(50).enumerate() {
            let sent = client.post(&url).json(&json!({ "items": batch })).send();
            let outcome = match sent {
                Ok(r) if r.status().as_u16() == 200 => match r.json::<Value>() {
                    Ok(body) => Outcome::Acked(i, body),
                    Err(e) => Outcome::Stopped(format!("body of batch {i}: {e}")),
                },
                Ok(r) => Outcome::Stopped(format!("batch {i}: {}", r.status())),
                Err(e) => Outcome::Stopped(format!(
                    "batch {i}: {e}: {}",
                    std::error::Error::source(&e).map_or_else(String::new, ToString::to_string)
                )),
            };
            let stop = matches!(outcome, Outcome::Stopped(_));
            if tx.send(outcome).is_err() || stop {
                return;
            }
        }
    });
    (rx, handle)
}

/// Stops the daemon with `stop` after a few acknowledged batches, restarts it, and checks
/// that every acknowledged batch is in whole and no batch is in part.
fn no_acknowledged_write_is_lost(stop: impl FnOnce(&mut Daemon)) {
    let mut d = Daemon::start();
    let ids = d.register_links("s", 2000);
    d.create_collection("stream");
    let (rx, handle) = writer(&d, ids.clone());

    let mut acked: Vec<(usize, Value)> = Vec::new();
    while acked.len() < 5 {
        match rx
            .recv_timeout(Duration::from_secs(30))
            .expect("batches are acknowledged")
        {
            Outcome::Acked(i, body) => acked.push((i, body)),
            Outcome::Stopped(why) => panic!("the stream failed before the stop: {why}"),
        }
    }
    // Into the middle of the next batch's commit, most of the time.
    std::thread::sleep(Duration::from_millis(3));
    stop(&mut d);
    handle.join().unwrap();
    let mut stopped = None;
    for outcome in rx.try_iter() {
        match outcome {
            Outcome::Acked(i, body) => acked.push((i, body)),
            Outcome::Stopped(why) => stopped = Some(why),
        }
    }
    let batches = ids.len() / 50;
    assert!(
        acked.len() < batches,
        "the stop came after every batch; nothing was tested"
    );
    eprintln!("{} batches acknowledged, then: {stopped:?}", acked.len());

    d.spawn();
    let present: HashSet<String> = d
        .all_entries("stream", 1000)
        .iter()
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect();
    let acked_set: HashSet<usize> = acked.iter().map(|(i, _)| *i).collect();
    let mut applied = 0;
    for (i, batch) in ids.chunks(50).enumerate() {
        let n = batch.iter().filter(|id| present.contains(*id)).count();
        assert!(n == 0 || n == 50, "batch {i} is half-applied: {n} of 50");
        if acked_set.contains(&i) {
            assert_eq!(n, 50, "acknowledged batch {i} was lost");
        }
        if n == 50 {
            applied += 1;
        }
    }
    eprintln!("{applied} batches applied");
    assert!(
        applied <= acked.len() + 1,
        "only a batch in flight may be applied unacknowledged: {applied} applied, {} acked",
        acked.len()
    );
    let (_, ops) = d.get("/v1/ops?limit=1000");
    let logged: HashSet<&str> = ops["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for (i, body) in &acked {
        assert_eq!(body["summary"]["added"], 50, "batch {i}");
        assert!(
            logged.contains(body["op_id"].as_str().unwrap()),
            "the op of batch {i} is logged"
        );
    }
}

#[test]
fn sigterm_during_a_stream_of_batch_adds_loses_no_acknowledged_write() {
    no_acknowledged_write_is_lost(|d| {
        let exit = d.stop();
        assert!(exit.success(), "SIGTERM drains and exits 0: {exit}");
    });
}

#[test]
fn sigkill_during_a_stream_of_batch_adds_loses_no_acknowledged_write() {
    no_acknowledged_write_is_lost(Daemon::kill);
}

#[test]
fn a_bad_config_file_stops_the_start_naming_the_file_line_and_key() {
    let d = Daemon::unstarted("max_batch = 10\nmax_bacth = 5\n");
    let line = one_line(&output_within(&mut d.command(), Duration::from_secs(10)));
    assert!(line.contains(d.config.to_str().unwrap()), "{line}");
    assert!(line.contains("line 2"), "{line}");
    assert!(line.contains("max_bacth"), "{line}");
    assert!(!d.socket.exists(), "nothing was bound");
}

#[test]
fn sighup_reloads_instead_of_stopping_the_daemon() {
    let mut d = Daemon::start();
    d.create_collection("kept");
    let pid = rustix::process::Pid::from_raw(d.pid().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let r = d.client().get(d.url("/v1/health")).send();
    assert!(
        r.is_ok_and(|r| r.status().as_u16() == 200),
        "sheafd still answers after SIGHUP"
    );
    assert_eq!(d.get("/v1/collections/kept").0, 200);
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
}

#[test]
fn a_client_stalled_mid_request_does_not_hold_shutdown_open_forever() {
    use std::io::Write;
    let mut d = Daemon::start();
    let mut stalled = UnixStream::connect(&d.socket).unwrap();
    stalled
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: sheaf\r\n")
        .unwrap();
    assert_eq!(
        d.get("/v1/health").0,
        200,
        "the stalled connection is accepted"
    );
    let started = Instant::now();
    d.terminate();
    let exit = d.wait(Duration::from_secs(30));
    drop(stalled);
    assert!(exit.success(), "{exit}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a stalled client held the shutdown for {:?}",
        started.elapsed()
    );
}
