//! Concurrency (issue 7, item 4): 16 clients make conflicting batch moves, links and
//! removes of overlapping item sets between 4 collections for 30 s against the real
//! `sheafd`. Afterwards the state must be what the acknowledged operations give when run
//! one after another in the order the op log (and, independently, the change feed) says
//! they committed, and every acknowledged answer must count exactly what that serial
//! order says it saw. No request may hang, fail at the transport, or get a 5xx.
//!
//! `SHEAF_CONCURRENCY_SECS` changes the 30 s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sheaf_e2e::{Daemon, Rng, assert_error};

const COLLECTIONS: [&str; 4] = ["k0", "k1", "k2", "k3"];
const CLIENTS: usize = 16;
/// Items every client draws its sets from: small, so sets overlap all the time.
const POOL: usize = 120;

/// One request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Link(usize),
    /// Out of every other collection.
    MoveAll(usize),
    MoveFrom {
        from: usize,
        to: usize,
    },
    Remove(usize),
}

impl Op {
    fn pick(rng: &mut Rng) -> Self {
        let c = rng.below(COLLECTIONS.len());
        match rng.below(20) {
            0..=8 => Op::MoveAll(c),
            9..=13 => Op::MoveFrom {
                from: (c + 1 + rng.below(COLLECTIONS.len() - 1)) % COLLECTIONS.len(),
                to: c,
            },
            14..=16 => Op::Link(c),
            _ => Op::Remove(c),
        }
    }

    fn request(self, items: &[usize], ids: &[String]) -> (String, Value) {
        let names: Vec<&str> = items.iter().map(|&i| ids[i].as_str()).collect();
        match self {
            Op::Link(c) => (
                format!("/v1/collections/{}/items", COLLECTIONS[c]),
                json!({ "items": names }),
            ),
            Op::MoveAll(c) => (
                format!("/v1/collections/{}/items", COLLECTIONS[c]),
                json!({ "items": names, "mode": "move" }),
            ),
            Op::MoveFrom { from, to } => (
                format!("/v1/collections/{}/items", COLLECTIONS[to]),
                json!({ "items": names, "mode": "move", "from": COLLECTIONS[from] }),
            ),
            Op::Remove(c) => (
                format!("/v1/collections/{}/items/remove", COLLECTIONS[c]),
                json!({ "items": names }),
            ),
        }
    }
}

/// An entry's state in the reference model. Every item has an entry in every
/// collection after the setup, so there is no "never had one".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Live,
    Deleted,
}

/// The reference: item index → per-collection slot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model(Vec<[Slot; 4]>);

impl Model {
    fn live(&self, item: usize, c: usize) -> bool {
        self.0[item][c] == Slot::Live
    }

    /// Applies an acknowledged op; answers the summary it must have reported.
    fn apply(&mut self, op: Op, items: &[usize]) -> BTreeMap<&'static str, u64> {
        let total = items.len() as u64;
        let mut s = BTreeMap::new();
        match op {
            Op::Link(c) => {
                let already = items.iter().filter(|&&i| self.live(i, c)).count() as u64;
                for &i in items {
                    self.0[i][c] = Slot::Live;
                }
                s.insert("added", total - already);
                s.insert("already_in_collection", already);
                s.insert("moved", 0);
            }
            Op::MoveAll(to) | Op::MoveFrom { to, .. } => {
                let already = items.iter().filter(|&&i| self.live(i, to)).count() as u64;
                let mut moved = 0;
                for &i in items {
                    let sources: Vec<usize> = match op {
                        Op::MoveFrom { from, .. } => vec![from],
                        _ => (0..COLLECTIONS.len())
                            .filter(|&c| c != to && self.live(i, c))
                            .collect(),
                    };
                    if !sources.is_empty() {
                        moved += 1;
                    }
                    for c in sources {
                        assert!(self.live(i, c), "a move from {c} of an item not in it");
                        self.0[i][c] = Slot::Deleted;
                    }
                    self.0[i][to] = Slot::Live;
                }
                s.insert("added", total - already);
                s.insert("already_in_collection", already);
                s.insert("moved", moved);
            }
            Op::Remove(c) => {
                let live = items.iter().filter(|&&i| self.live(i, c)).count() as u64;
                for &i in items {
                    self.0[i][c] = Slot::Deleted;
                }
                s.insert("removed", live);
                s.insert("already_removed", total - live);
            }
        }
        s.insert("total", total);
        s
    }

    /// Whether a `MoveFrom` is refused with `NOT_IN_SOURCE` in this state.
    fn refuses(&self, op: Op, items: &[usize]) -> bool {
        match op {
            Op::MoveFrom { from, .. } => items.iter().any(|&i| !self.live(i, from)),
            _ => false,
        }
    }
}

/// An acknowledged request.
#[derive(Debug)]
struct Acked {
    op_id: String,
    op: Op,
    items: Vec<usize>,
    summary: Value,
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientLog {
    acked: Vec<Acked>,
    not_in_source: usize,
    /// Anything that is neither a 200 nor a 409 `NOT_IN_SOURCE`: always a failure.
    failures: Vec<String>,
    slowest: Duration,
}

fn client(
    d: &Daemon,
    ids: Arc<Vec<String>>,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<ClientLog> {
    let http = d.client();
    let base = d.url("");
    std::thread::spawn(move || {
        let mut log = ClientLog::default();
        while !stop.load(Ordering::Relaxed) {
            let op = Op::pick(&mut rng);
            let n = 3 + rng.below(18);
            let mut set = BTreeSet::new();
            while set.len() < n {
                set.insert(rng.below(POOL));
            }
            let items: Vec<usize> = set.into_iter().collect();
            let (path, body) = op.request(&items, &ids);
            let began = Instant::now();
            let answer_or_error = http.post(format!("{base}{path}")).json(&body).send();
            log.slowest = log.slowest.max(began.elapsed());
            let r = match answer_or_error {
                Ok(r) => r,
                Err(e) => {
                    log.failures.push(format!("{op:?}: transport error {e}"));
                    continue;
                }
            };
            let status = r.status().as_u16();
            let text = r.text().unwrap_or_default();
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            match status {
                200 => log.acked.push(Acked {
                    op_id: answer["op_id"].as_str().unwrap().to_owned(),
                    op,
                    items,
                    summary: answer["summary"].clone(),
                }),
                409 if matches!(op, Op::MoveFrom { .. }) => {
                    let details = assert_error(&(status, answer), 409, "NOT_IN_SOURCE");
                    assert!(
                        details.is_object(),
                        "NOT_IN_SOURCE lists the items: {details}"
                    );
                    log.not_in_source += 1;
                }
                _ => log
                    .failures
                    .push(format!("{op:?} answered {status}: {answer}")),
            }
        }
        log
    })
}

/// Every op in the log, oldest first.
fn op_log(d: &Daemon) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/ops?limit=1000&cursor={c}"),
            None => "/v1/ops?limit=1000".to_owned(),
        };
        let (s, page) = d.get(&path);
        assert_eq!(s, 200, "{page}");
        out.extend(page["ops"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    out.reverse();
    out
}

#[test]
fn sixteen_clients_moving_overlapping_sets_end_in_a_serial_order_of_their_acknowledged_ops() {
    let secs = std::env::var("SHEAF_CONCURRENCY_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("concurrency run: {CLIENTS} clients for {secs} s, seed {seed}");
    let d = Daemon::start_with_config("op_retention = 10000000\nfeed_retention = 100000000\n");
    let ids = d.register_links("p", POOL);
    for c in COLLECTIONS {
        d.create_collection(c);
        d.add(c, &ids);
    }
    // Every item has an entry everywhere (so a remove never meets "no entry"), live in k0.
    let (s, b) = d.send(
        "POST",
        "/v1/collections/k0/items",
        &json!({ "items": ids, "mode": "move" }),
    );
    assert_eq!(s, 200, "{b}");
    let mut model = Model(vec![
        [
            Slot::Live,
            Slot::Deleted,
            Slot::Deleted,
            Slot::Deleted
        ];
        POOL
    ]);
    let setup_ops: BTreeSet<String> = op_log(&d)
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    let since = d.last_seq();

    let ids = Arc::new(ids);
    let stop = Arc::new(AtomicBool::new(false));
    let mut rng = Rng::new(seed);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            client(
                &d,
                Arc::clone(&ids),
                Rng::new(rng.bits()),
                Arc::clone(&stop),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let logs: Vec<ClientLog> = clients.into_iter().map(|h| h.join().unwrap()).collect();

    let failures: Vec<&String> = logs.iter().flat_map(|l| &l.failures).collect();
    assert!(
        failures.is_empty(),
        "{} failed requests: {failures:?}",
        failures.len()
    );
    let slowest = logs.iter().map(|l| l.slowest).max().unwrap();
    let refused: usize = logs.iter().map(|l| l.not_in_source).sum();
    let acked: HashMap<&str, &Acked> = logs
        .iter()
        .flat_map(|l| &l.acked)
        .map(|a| (a.op_id.as_str(), a))
        .collect();
    assert_eq!(d.get("/v1/health").0, 200, "the daemon still answers");

    // The serial order: the op log's, which must hold exactly the acknowledged ops.
    let log: Vec<String> = op_log(&d)
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .filter(|id| !setup_ops.contains(id))
        .collect();
    assert_eq!(
        log.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        acked.keys().copied().collect::<BTreeSet<_>>(),
        "the op log holds exactly the acknowledged ops"
    );
    // The change feed commits them in the same order.
    let events = d
        .events(&format!("?since={since}"))
        .until_seq(d.last_seq(), Duration::from_secs(120));
    let mut feed_order: Vec<&str> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e["seq"].as_u64().unwrap(),
            since + 1 + i as u64,
            "the feed is contiguous"
        );
        // Events of no op: only the background hasher's content hashes.
        let Some(op) = e["op_id"].as_str() else {
            assert_eq!(e["kind"], "item.updated", "{e}");
            continue;
        };
        if feed_order.last() != Some(&op) {
            assert!(
                !feed_order.contains(&op),
                "the events of {op} are interleaved with another op's"
            );
            feed_order.push(op);
        }
    }
    // Ops that changed nothing (everything already there) have no events.
    let with_events: BTreeSet<&str> = feed_order.iter().copied().collect();
    let logged_with_events: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|id| with_events.contains(id))
        .collect();
    assert_eq!(
        feed_order, logged_with_events,
        "the feed and the op log agree on the commit order"
    );

    // Replayed in that order, every answer counts what its predecessors left.
    for (n, id) in log.iter().enumerate() {
        let a = acked[id.as_str()];
        assert!(
            !model.refuses(a.op, &a.items),
            "op {n} ({id}, {:?}) was acknowledged but would be NOT_IN_SOURCE here",
            a.op
        );
        for (field, want) in model.apply(a.op, &a.items) {
            assert_eq!(
                a.summary[field].as_u64(),
                Some(want),
                "op {n} ({id}, {:?} on {:?}): {field} in {}",
                a.op,
                a.items,
                a.summary
            );
        }
    }

    // The final state is the model's: memberships, counts, and each item's collections.
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut live = vec![[Slot::Deleted; 4]; POOL];
    for (c, name) in COLLECTIONS.iter().enumerate() {
        let entries = d.all_entries(name, 1000);
        let (_, col) = d.get(&format!("/v1/collections/{name}"));
        assert_eq!(
            col["item_count"].as_u64().unwrap() as usize,
            entries.len(),
            "item_count of {name}"
        );
        for e in entries {
            let i = index[e["item_id"].as_str().unwrap()];
            assert_eq!(live[i][c], Slot::Deleted, "{name} lists item {i} twice");
            live[i][c] = Slot::Live;
        }
    }
    assert_eq!(
        Model(live),
        model,
        "the final memberships are the serial replay's"
    );
    for (i, id) in ids.iter().enumerate() {
        let (_, item) = d.get(&format!("/v1/items/{id}"));
        let got: BTreeSet<&str> = item["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let want: BTreeSet<&str> = (0..4)
            .filter(|&c| model.live(i, c))
            .map(|c| COLLECTIONS[c])
            .collect();
        assert_eq!(got, want, "the collections of item {i}");
    }
    eprintln!(
        "concurrency run: {} acknowledged ops replayed serially with every summary matching, \
         {refused} refused NOT_IN_SOURCE, {} feed events in commit order, {POOL} items and 4 \
         collections checked; slowest request {slowest:?}; no 5xx, no transport error",
        log.len(),
        events.len()
    );
}
