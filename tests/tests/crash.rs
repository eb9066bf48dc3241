//! Crash consistency (issue 7, item 1): the real `sheafd` on one database, killed with
//! SIGKILL at random moments while clients stream batch adds, moves and removes and a
//! watched folder churns, then restarted. After every restart:
//!
//! - the database opens and the daemon answers;
//! - every batch a client saw acknowledged is there in whole, no batch is there in part
//!   (each batch acts on a whole group of items, so a group's items always share one set
//!   of collections), and the batch in flight at the kill is there in whole or not at all;
//! - every acknowledged op is in the op log, and each collection's `item_count` equals
//!   its listed entries;
//! - the change feed read from the last check is contiguous, and every event a live
//!   reader saw before the kill is still there at the same `seq`, unchanged (so `seq`
//!   never goes backwards or repeats);
//! - once the start-up reconcile is done, the watched collection equals its folder.
//!
//! `SHEAF_CRASH_KILLS` sets the number of kills (20 by default, as CI runs it; `just crash`
//! runs 200) and `SHEAF_CRASH_SEED` replays a run (the seed is printed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, Rng};

/// Collections the clients move groups between.
const COLLECTIONS: [&str; 4] = ["c0", "c1", "c2", "c3"];
/// Concurrent clients; each owns its groups, so its model of them is exact.
const CLIENTS: usize = 3;
/// Groups per client.
const GROUPS: usize = 8;
/// Items per group: every batch names a whole group.
const GROUP: usize = 25;
/// The watched collection.
const WATCHED: &str = "watched";
/// How long convergence may take on a loaded machine (a guard, not a timing assertion).
const WAIT: Duration = Duration::from_secs(120);

/// The collections (indices into [`COLLECTIONS`]) a group is live in.
type Members = BTreeSet<usize>;

/// One group of items, as its client knows it.
#[derive(Debug, Clone)]
struct Group {
    ids: Vec<String>,
    /// Where the group is after the last acknowledged batch.
    acked: Members,
}

/// A batch on a whole group.
#[derive(Debug, Clone, Copy)]
enum Op {
    Link(usize),
    Move { from: usize, to: usize },
    Remove(usize),
}

impl Op {
    fn pick(rng: &mut Rng, members: &Members) -> Self {
        let outside: Vec<usize> = (0..COLLECTIONS.len())
            .filter(|c| !members.contains(c))
            .collect();
        let inside: Vec<usize> = members.iter().copied().collect();
        match (inside.is_empty(), outside.is_empty(), rng.below(4)) {
            (true, _, _) | (false, false, 0) => Op::Link(outside[rng.below(outside.len())]),
            (false, false, 1 | 2) => Op::Move {
                from: inside[rng.below(inside.len())],
                to: outside[rng.below(outside.len())],
            },
            _ => Op::Remove(inside[rng.below(inside.len())]),
        }
    }

    fn apply(self, members: &Members) -> Members {
        let mut m = members.clone();
        match self {
            Op::Link(c) => {
                m.insert(c);
            }
            Op::Move { from, to } => {
                m.remove(&from);
                m.insert(to);
            }
            Op::Remove(c) => {
                m.remove(&c);
            }
        }
        m
    }

    fn request(self, ids: &[String]) -> (String, Value) {
        match self {
            Op::Link(c) => (
                format!("/v1/collections/{}/items", COLLECTIONS[c]),
                json!({ "items": ids }),
            ),
            Op::Move { from, to } => (
                format!("/v1/collections/{}/items", COLLECTIONS[to]),
                json!({ "items": ids, "mode": "move", "from": COLLECTIONS[from] }),
            ),
            Op::Remove(c) => (
                format!("/v1/collections/{}/items/remove", COLLECTIONS[c]),
                json!({ "items": ids }),
            ),
        }
    }

    /// The acknowledged answer says the whole group changed.
    fn check_answer(self, body: &Value) {
        let n = GROUP as u64;
        match self {
            Op::Link(_) => assert_eq!(body["summary"]["added"], n, "{body}"),
            Op::Move { .. } => {
                assert_eq!(body["summary"]["added"], n, "{body}");
                assert_eq!(body["summary"]["moved"], n, "{body}");
            }
            Op::Remove(_) => assert_eq!(body["summary"]["removed"], n, "{body}"),
        }
    }
}

/// What a client thread hands back when its daemon died under it.
#[derive(Debug)]
struct ClientRun {
    groups: Vec<Group>,
    /// The batch sent but not acknowledged: its group and the state it would lead to.
    in_flight: Option<(usize, Members)>,
    acked_ops: Vec<String>,
    /// A refusal or malformed answer while the daemon was up: always a bug.
    failure: Option<String>,
}

/// Streams batches on random groups until the daemon stops answering or `stop` is set.
fn client(
    d: &Daemon,
    mut groups: Vec<Group>,
    mut rng: Rng,
    acks: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<ClientRun> {
    let http = d.client();
    let base = d.url("");
    std::thread::spawn(move || {
        let mut acked_ops = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let g = rng.below(groups.len());
            let op = Op::pick(&mut rng, &groups[g].acked);
            let target = op.apply(&groups[g].acked);
            let (path, body) = op.request(&groups[g].ids);
            let answer = http.post(format!("{base}{path}")).json(&body).send();
            let Ok(response) = answer else {
                // The daemon died under the request: it may or may not have committed.
                return ClientRun {
                    groups,
                    in_flight: Some((g, target)),
                    acked_ops,
                    failure: None,
                };
            };
            let status = response.status().as_u16();
            let Ok(text) = response.text() else {
                // Died while sending the answer: not acknowledged.
                return ClientRun {
                    groups,
                    in_flight: Some((g, target)),
                    acked_ops,
                    failure: None,
                };
            };
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            match parsed {
                Some(body) if status == 200 && body["op_id"].is_string() => {
                    op.check_answer(&body);
                    acked_ops.push(body["op_id"].as_str().unwrap().to_owned());
                    groups[g].acked = target;
                    acks.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    return ClientRun {
                        groups,
                        in_flight: Some((g, target)),
                        acked_ops,
                        failure: Some(format!("{op:?} answered {status}: {text}")),
                    };
                }
            }
        }
        ClientRun {
            groups,
            in_flight: None,
            acked_ops,
            failure: None,
        }
    })
}

/// Creates, rewrites, renames and deletes files in the watched folder until `stop`.
fn churn(root: PathBuf, mut rng: Rng, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            churn_once(&root, &mut rng);
            std::thread::sleep(Duration::from_millis(2 + rng.below(6) as u64));
        }
    })
}

/// One random change to the folder, keeping it between 20 and 80 files.
fn churn_once(root: &Path, rng: &mut Rng) {
    let files = disk_files(root);
    let name = || format!("f{:016x}.txt", rand_name());
    let pick = |rng: &mut Rng| files.iter().nth(rng.below(files.len())).cloned();
    match rng.below(4) {
        0 if files.len() < 80 => {
            std::fs::write(root.join(name()), b"new\n").unwrap();
        }
        _ if files.len() < 20 => {
            std::fs::write(root.join(name()), b"new\n").unwrap();
        }
        1 => {
            if let Some(f) = pick(rng) {
                std::fs::remove_file(f).ok();
            }
        }
        2 => {
            if let Some(f) = pick(rng) {
                std::fs::rename(f, root.join(name())).ok();
            }
        }
        _ => {
            if let Some(f) = pick(rng) {
                std::fs::write(f, format!("edit {}\n", rng.bits())).ok();
            }
        }
    }
}

/// A file name no other run of `churn_once` picks.
fn rand_name() -> u64 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) as u64
}

/// The regular files directly in `root`.
fn disk_files(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path().to_str().unwrap().to_owned())
        .collect()
}

/// Reads `GET /v1/events?since=SEQ` into a shared list until the stream breaks.
fn reader(d: &Daemon, since: u64) -> (Arc<Mutex<Vec<Value>>>, std::thread::JoinHandle<()>) {
    let http = reqwest::blocking::Client::builder()
        .unix_socket(d.socket.clone())
        .timeout(None)
        .build()
        .unwrap();
    let response = http
        .get(d.url(&format!("/v1/events?since={since}")))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&seen);
    let handle = std::thread::spawn(move || {
        let lines = std::io::BufReader::new(response).lines();
        for line in lines {
            // A line cut by the kill ends the stream; only whole lines count as seen.
            let Ok(line) = line else { return };
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                return;
            };
            out.lock().unwrap().push(event);
        }
    });
    (seen, handle)
}

/// The feed from `since` up to `last`, read from a fresh stream.
fn feed(d: &Daemon, since: u64, last: u64) -> Vec<Value> {
    if last <= since {
        return Vec::new();
    }
    let stream = d.events(&format!("?since={since}"));
    stream.until_seq(last, WAIT)
}

/// Every live entry of the client collections, as item id → collections.
fn memberships(d: &Daemon) -> HashMap<String, Members> {
    let mut out: HashMap<String, Members> = HashMap::new();
    for (c, name) in COLLECTIONS.iter().enumerate() {
        let entries = d.all_entries(name, 1000);
        let (s, col) = d.get(&format!("/v1/collections/{name}"));
        assert_eq!(s, 200, "{col}");
        assert_eq!(
            col["item_count"].as_u64().unwrap() as usize,
            entries.len(),
            "item_count of {name} equals its live entries"
        );
        for e in entries {
            let item = e["item_id"].as_str().unwrap().to_owned();
            assert!(
                out.entry(item.clone()).or_default().insert(c),
                "{item} listed twice in {name}"
            );
        }
    }
    out
}

/// Checks every group against its client's model; adopts a batch in flight that landed.
/// Answers (in-flight batches applied, not applied).
fn check_groups(d: &Daemon, runs: &mut [ClientRun], kill: usize) -> (usize, usize) {
    let present = memberships(d);
    let none = Members::new();
    let (mut applied, mut lost) = (0, 0);
    for (ci, run) in runs.iter_mut().enumerate() {
        for (gi, group) in run.groups.iter_mut().enumerate() {
            let first = present.get(&group.ids[0]).unwrap_or(&none).clone();
            for id in &group.ids {
                let got = present.get(id).unwrap_or(&none);
                assert_eq!(
                    *got, first,
                    "kill {kill}: client {ci} group {gi} is partially applied ({id} is in {got:?}, {} in {first:?})",
                    group.ids[0]
                );
            }
            let in_flight = run
                .in_flight
                .as_ref()
                .filter(|(g, _)| *g == gi)
                .map(|(_, target)| target);
            if first == group.acked {
                if in_flight.is_some() {
                    lost += 1;
                }
            } else if in_flight == Some(&first) {
                group.acked = first;
                applied += 1;
            } else {
                panic!(
                    "kill {kill}: client {ci} group {gi} is in {first:?}; acknowledged {:?}, in flight {in_flight:?}",
                    group.acked
                );
            }
        }
        run.in_flight = None;
    }
    (applied, lost)
}

/// Every acknowledged op is in the op log.
fn check_ops(d: &Daemon, acked: &[String], kill: usize) {
    let mut missing: BTreeSet<&str> = acked.iter().map(String::as_str).collect();
    let mut cursor: Option<String> = None;
    while !missing.is_empty() {
        let path = match &cursor {
            Some(c) => format!("/v1/ops?limit=1000&cursor={c}"),
            None => "/v1/ops?limit=1000".to_owned(),
        };
        let (s, page) = d.get(&path);
        assert_eq!(s, 200, "{page}");
        for op in page["ops"].as_array().unwrap() {
            missing.remove(op["id"].as_str().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(
        missing.is_empty(),
        "kill {kill}: acknowledged ops missing from the log: {missing:?}"
    );
}

/// The feed after `since` is contiguous up to the current last seq, and holds every event
/// the live reader saw, unchanged. Answers the new last seq.
fn check_feed(d: &Daemon, since: u64, seen: &[Value], kill: usize) -> u64 {
    let last = d.last_seq();
    let max_seen = seen.iter().filter_map(|e| e["seq"].as_u64()).max();
    if let Some(m) = max_seen {
        assert!(
            m <= last,
            "kill {kill}: the feed went back: a reader saw seq {m}, now last_seq is {last}"
        );
    }
    let events = feed(d, since, last);
    let by_seq: BTreeMap<u64, &Value> = events
        .iter()
        .map(|e| (e["seq"].as_u64().unwrap(), e))
        .collect();
    for (i, e) in events.iter().enumerate() {
        assert_ne!(e["kind"], "reset", "kill {kill}: the feed was reset: {e}");
        assert_eq!(
            e["seq"].as_u64().unwrap(),
            since + 1 + i as u64,
            "kill {kill}: the feed after {since} is not contiguous at {i}"
        );
    }
    for e in seen {
        let seq = e["seq"].as_u64().unwrap();
        assert!(
            seq > since,
            "kill {kill}: the stream replayed {seq} ≤ {since}"
        );
        assert_eq!(
            by_seq.get(&seq).copied(),
            Some(e),
            "kill {kill}: event {seq} seen before the kill differs after the restart"
        );
    }
    for w in seen.windows(2) {
        assert!(
            w[1]["seq"].as_u64() > w[0]["seq"].as_u64(),
            "kill {kill}: the live stream repeated or went back: {} then {}",
            w[0],
            w[1]
        );
    }
    events.last().map_or(since, |e| e["seq"].as_u64().unwrap())
}

/// Waits for the watch to be live with its collection equal to the folder.
fn check_folder(d: &Daemon, root: &Path, kill: usize) {
    let want = disk_files(root);
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, watches) = d.get("/v1/watches");
        let state = watches["watches"][0]["state"].clone();
        let entries = d.all_entries(WATCHED, 1000);
        let paths: Vec<String> = entries
            .iter()
            .filter_map(|e| e["item"]["path"].as_str().map(str::to_owned))
            .collect();
        let got: BTreeSet<String> = paths.iter().cloned().collect();
        if state == "live" && got == want && paths.len() == entries.len() {
            assert_eq!(paths.len(), got.len(), "kill {kill}: a path listed twice");
            return;
        }
        let last = format!(
            "state {state}; missing {:?}; extra {:?}; {} entries",
            want.difference(&got).collect::<Vec<_>>(),
            got.difference(&want).collect::<Vec<_>>(),
            entries.len()
        );
        assert!(
            Instant::now() < deadline,
            "kill {kill}: the watched collection did not converge to its folder: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_batch_and_half_applies_none() {
    let kills = env_u64("SHEAF_CRASH_KILLS").unwrap_or(20) as usize;
    let seed = env_u64("SHEAF_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!("crash run: {kills} kills, SHEAF_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);

    let mut d = Daemon::start();
    let root = d.dir.path().join("watched");
    std::fs::create_dir_all(&root).unwrap();
    let root = std::fs::canonicalize(root).unwrap();
    for _ in 0..40 {
        churn_once(&root, &mut rng);
    }
    for c in COLLECTIONS {
        d.create_collection(c);
    }
    d.create_collection(WATCHED);
    let (s, w) = d.send(
        "POST",
        "/v1/watches",
        &json!({ "path": root, "collection": WATCHED }),
    );
    assert_eq!(s, 201, "{w}");
    let ids = d.register_links("g", CLIENTS * GROUPS * GROUP);
    let mut runs: Vec<ClientRun> = ids
        .chunks(GROUPS * GROUP)
        .map(|mine| ClientRun {
            groups: mine
                .chunks(GROUP)
                .map(|g| Group {
                    ids: g.to_vec(),
                    acked: Members::new(),
                })
                .collect(),
            in_flight: None,
            acked_ops: Vec::new(),
            failure: None,
        })
        .collect();
    check_folder(&d, &root, 0);
    let mut since = d.last_seq();

    let (mut acked_total, mut in_flight_applied, mut in_flight_lost) = (0, 0, 0);
    let mut events_checked = 0;
    let mut reconcile_kills = 0;
    for kill in 1..=kills {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicUsize::new(0));
        let (live_events, reading) = reader(&d, since);
        let clients: Vec<_> = runs
            .drain(..)
            .map(|run| {
                client(
                    &d,
                    run.groups,
                    Rng::new(rng.bits()),
                    Arc::clone(&acks),
                    Arc::clone(&stop),
                )
            })
            .collect();
        let churning = churn(root.clone(), Rng::new(rng.bits()), Arc::clone(&stop));
        // A random moment: after some acknowledged batches, plus a random delay.
        let want = 1 + rng.below(30);
        let deadline = Instant::now() + WAIT;
        while acks.load(Ordering::Relaxed) < want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.below(40) as u64));
        d.kill();
        stop.store(true, Ordering::Relaxed);
        runs = clients.into_iter().map(|h| h.join().unwrap()).collect();
        churning.join().unwrap();
        reading.join().unwrap();
        for run in &runs {
            assert!(run.failure.is_none(), "kill {kill}: {:?}", run.failure);
        }
        let acked: Vec<String> = runs
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.acked_ops))
            .collect();
        acked_total += acked.len();
        // Changes while the daemon is down: the start-up reconcile must find them.
        for _ in 0..rng.below(10) {
            churn_once(&root, &mut rng);
        }

        d.spawn();
        // Now and then, kill again during the start-up reconcile of those changes.
        if rng.below(8) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(30) as u64));
            d.kill();
            reconcile_kills += 1;
            for _ in 0..rng.below(10) {
                churn_once(&root, &mut rng);
            }
            d.spawn();
        }
        let (applied, lost) = check_groups(&d, &mut runs, kill);
        in_flight_applied += applied;
        in_flight_lost += lost;
        check_ops(&d, &acked, kill);
        let observed = std::mem::take(&mut *live_events.lock().unwrap());
        events_checked += observed.len();
        since = check_feed(&d, since, &observed, kill);
        check_folder(&d, &root, kill);
    }
    eprintln!(
        "crash run: {kills} kills survived ({reconcile_kills} more during start-up reconciles); \
         {acked_total} acknowledged batches all present, none partial; \
         in-flight batches at the kill: {in_flight_applied} applied whole, {in_flight_lost} not at all; \
         {events_checked} live-read events found unchanged; feed contiguous up to seq {since}"
    );
    assert!(
        acked_total >= kills,
        "the clients hardly ran: {acked_total} batches"
    );
}
