//! The change feed (SPEC §2.4) read as a stream over the socket: events arrive live, a
//! client that resumes with `?since=N` misses nothing even across a daemon restart, and a
//! `since` older than the retained feed gets `reset` first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, EventStream};

const WAIT: Duration = Duration::from_secs(10);

/// These tests read the feed event by event: no background hashing adds `item.updated`
/// lines at moments they cannot know.
const NO_HASHES: &str = "content_hashes = false\n";

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// Asserts the seqs are `from+1, from+2, …` with no gap.
fn assert_contiguous(events: &[Value], from: u64) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e["seq"].as_u64().unwrap(),
            from + 1 + i as u64,
            "{events:#?}"
        );
    }
}

/// Reads exactly the events up to `last_seq` from `stream`.
fn read_to(stream: &EventStream, last_seq: u64) -> Vec<Value> {
    stream.until_seq(last_seq, WAIT)
}

#[test]
fn events_arrive_live_on_an_open_stream() {
    let d = Daemon::start_with_config(NO_HASHES);
    d.register(&[("old.txt", b"old")]);
    let opened_at = d.last_seq();
    let stream = d.events("");

    let ids = d.register(&[("a.txt", b"a")]);
    let e = stream.next(WAIT).expect("item.created arrives live");
    assert_eq!(
        e["seq"].as_u64().unwrap(),
        opened_at + 1,
        "only events after opening"
    );
    assert_eq!(e["kind"], "item.created");
    assert_eq!(e["item_id"], ids[0].as_str());
    assert!(e["at"].is_string());

    d.create_collection("inbox");
    let e = stream.next(WAIT).expect("collection.created");
    assert_eq!(e["kind"], "collection.created");
    assert_eq!(e["collection_id"], "inbox");

    let op = d.add("inbox", &ids)["op_id"].as_str().unwrap().to_owned();
    let e = stream.next(WAIT).expect("entry.added");
    assert_eq!(e["kind"], "entry.added");
    assert_eq!(e["collection_id"], "inbox");
    assert_eq!(e["item_id"], ids[0].as_str());
    assert_eq!(e["op_id"], op.as_str(), "events name the op that made them");

    let entry = format!("/v1/collections/inbox/items/{}", ids[0]);
    assert_eq!(
        d.send("PATCH", &entry, &json!({"display_name": "A"})).0,
        200
    );
    assert_eq!(
        d.send(
            "PATCH",
            &format!("/v1/items/{}", ids[0]),
            &json!({"metadata": {"k": 1}})
        )
        .0,
        200
    );
    assert_eq!(d.call("DELETE", &entry).0, 200);
    assert_eq!(d.call("DELETE", "/v1/collections/inbox").0, 200);
    assert_eq!(d.call("POST", "/v1/collections/inbox/restore").0, 200);
    assert_eq!(
        d.send("PATCH", "/v1/collections/inbox", &json!({"name": "Inbox"}))
            .0,
        200
    );
    assert_eq!(d.call("DELETE", "/v1/collections/inbox").0, 200);
    assert_eq!(d.call("DELETE", "/v1/collections/inbox?purge=true").0, 200);
    let last = d.last_seq();
    let rest = read_to(&stream, last);
    assert_eq!(
        kinds(&rest),
        [
            "entry.updated",
            "item.updated",
            "entry.removed",
            "collection.trashed",
            "collection.restored",
            "collection.updated",
            "collection.trashed",
            "collection.purged",
        ]
    );
    assert_contiguous(&rest, opened_at + 3);
    assert!(
        stream.next(Duration::from_millis(200)).is_none(),
        "nothing more"
    );
}

#[test]
fn resuming_with_since_misses_nothing_across_a_daemon_restart() {
    let mut d = Daemon::start_with_config(NO_HASHES);
    let live = d.events("?since=0");
    let ids = d.register_many("f", 20);
    d.create_collection("inbox");
    d.add("inbox", &ids[..10]);
    let n = d.last_seq();
    // Committed after the client's last-seen seq N.
    d.add("inbox", &ids[10..]);
    d.json(
        "POST",
        "/v1/collections/inbox/items/remove",
        &json!({"items": &ids[..3]}),
    );
    d.create_collection("later");
    let m = d.last_seq();
    let before_restart = read_to(&live, m);
    assert_contiguous(&before_restart, 0);

    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    assert!(
        live.ends_within(WAIT),
        "the stream ends when the daemon stops"
    );
    d.spawn();
    assert_eq!(d.last_seq(), m, "the feed survives the restart");

    let resumed = d.events(&format!("?since={n}"));
    let missed = read_to(&resumed, m);
    let expected: Vec<Value> = before_restart
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() > n)
        .cloned()
        .collect();
    assert_eq!(missed, expected, "exactly the events after N, as they were");
    assert!(resumed.next(Duration::from_millis(200)).is_none());

    // And it follows on live after the restart, with no gap in seq.
    d.add("later", &ids[..2]);
    let after = read_to(&resumed, m + 2);
    assert_eq!(kinds(&after), ["entry.added", "entry.added"]);
    assert_contiguous(&after, m);

    // A client that saw everything resumes with nothing to catch up.
    let caught_up = d.events(&format!("?since={}", m + 2));
    assert!(caught_up.next(Duration::from_millis(200)).is_none());
}

#[test]
fn a_since_older_than_the_retained_feed_gets_reset_first() {
    let d = Daemon::start_with_config(&format!("feed_retention = 5\n{NO_HASHES}"));
    let ids = d.register_many("f", 4);
    d.create_collection("a");
    d.add("a", &ids);
    d.create_collection("b");
    d.add("b", &ids);
    let last = d.last_seq();
    assert!(last > 10, "{last}");

    let stream = d.events("?since=1");
    let first = stream.next(WAIT).expect("a reset line");
    assert_eq!(first["kind"], "reset", "{first}");
    assert_eq!(
        first["seq"].as_u64().unwrap(),
        last,
        "reset says where to follow on"
    );
    assert!(first.get("at").is_none(), "{first}");
    assert!(
        stream.next(Duration::from_millis(200)).is_none(),
        "nothing between the reset and the next commit"
    );
    d.create_collection("c");
    let e = stream.next(WAIT).expect("live after the reset");
    assert_eq!(e["kind"], "collection.created");
    assert_eq!(e["seq"].as_u64().unwrap(), last + 1);

    // Within the retained feed: no reset, just the events.
    let recent = d.events(&format!("?since={}", last - 1));
    let got = read_to(&recent, last + 1);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_contiguous(&got, last - 1);

    // A seq from another feed (ahead of this one) is a reset too.
    let ahead = d.events(&format!("?since={}", last + 1000));
    let first = ahead.next(WAIT).expect("a reset line");
    assert_eq!(first["kind"], "reset");
    assert_eq!(first["seq"].as_u64().unwrap(), last + 1);
}

#[test]
fn an_open_event_stream_does_not_hold_up_a_graceful_shutdown() {
    let mut d = Daemon::start();
    let streams: Vec<EventStream> = (0..3).map(|_| d.events("")).collect();
    let started = Instant::now();
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for s in &streams {
        assert!(s.ends_within(WAIT));
    }
    assert!(!d.socket.exists());
}
