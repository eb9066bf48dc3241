//! Rules under SIGKILL and misbehaving programs (SPEC §7.3, "never miss, never repeat"): a
//! `[[rule]]` of the config file links every file dropped into a watched folder into
//! `linked` and runs a program for it, on the real sheafd.
//!
//! - Killed with SIGKILL at random moments while it works through bursts of files (and
//!   with files dropped while it is down), then restarted: every file's item is linked
//!   exactly once, as the rule's entry, and its program ran at least once — more than
//!   once only for a run the kill cut short (at most `max_jobs` per kill), and always for
//!   the same event.
//! - Never killed: the program ran exactly once per file.
//! - A program that outlives its timeout is killed with the children it started; a
//!   program that fails is recorded with its exit status and the tail of its stderr.
//!
//! `SHEAF_RULE_CRASH_KILLS` and `SHEAF_RULE_CRASH_FILES` size the crash run (5 kills over
//! 1 000 files by default, as CI runs it; `just crash-rules` runs 50 over 5 000) and
//! `SHEAF_RULE_CRASH_SEED` replays one (the seed is printed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sheaf_e2e::folders::{WAIT, converge, every_file, executable, folder, live_ids, text, write};
use sheaf_e2e::rules::{self, INBOX, log_lines, watch_and_rule};
use sheaf_e2e::torture::{env_u64, seed};
use sheaf_e2e::{Daemon, EventStream, Rng, wait_until};

/// The rule's name.
const RULE: &str = "follow";
/// The collection the rule links into.
const LINKED: &str = "linked";
/// The recorder's log, in the daemon's directory.
const LOG: &str = "runs.log";
/// Commands a daemon runs at once (the default `max_jobs`): at most this many runs are cut
/// short, and so repeated, by one kill.
const MAX_JOBS: usize = 2;
/// How long a whole burst may take to be linked and run on a loaded machine (a guard, not
/// a timing assertion).
const BURST_WAIT: Duration = Duration::from_secs(600);

/// A daemon, not started, watching a new folder `inbox` into [`INBOX`], whose rule links
/// each new item there into [`LINKED`] and runs the program `program` writes into the
/// daemon's directory, with this timeout. Answers the daemon and the folder.
fn daemon_with(program: impl FnOnce(&Path) -> PathBuf, timeout: &str) -> (Daemon, PathBuf) {
    let d = Daemon::unstarted("");
    let inbox = folder(&d, "inbox");
    let program = program(d.dir.path());
    watch_and_rule(
        &d,
        &inbox,
        &format!(
            "name = \"{RULE}\"\non = [\"item.created\"]\nquery = {{ path = [\"{inbox}/**\"] }}\n\
             link = [\"{LINKED}\"]\nrun = [\"{program}\"]\ntimeout = \"{timeout}\"\n",
            inbox = text(&inbox),
            program = text(&program),
        ),
    );
    (d, inbox)
}

/// The program that appends `item seq rule` to [`LOG`] for each run.
fn id_recorder(dir: &Path) -> PathBuf {
    rules::recorder(
        &dir.join("record.sh"),
        &dir.join(LOG),
        "",
        r#"'%s %s %s\n' "$SHEAF_ITEM_ID" "$SHEAF_EVENT_SEQ" "$SHEAF_RULE""#,
    )
}

/// One line of the recorder's log.
#[derive(Debug)]
struct Run {
    item: String,
    seq: u64,
    rule: String,
}

fn runs(log: &Path) -> Vec<Run> {
    log_lines(log)
        .iter()
        .map(|line| {
            let mut words = line.split(' ');
            let (item, seq, rule, rest) = (words.next(), words.next(), words.next(), words.next());
            match (item, seq.and_then(|s| s.parse().ok()), rule, rest) {
                (Some(item), Some(seq), Some(rule), None) => Run {
                    item: item.to_owned(),
                    seq,
                    rule: rule.to_owned(),
                },
                _ => panic!("a torn or malformed log line: {line:?}"),
            }
        })
        .collect()
}

/// How many items the log names.
fn items_run(log: &Path) -> usize {
    runs(log)
        .into_iter()
        .map(|r| r.item)
        .collect::<BTreeSet<_>>()
        .len()
}

/// Writes the files `f{i}.txt` for `range` into `inbox`, each with its own content.
fn drop_files(inbox: &Path, range: Range<usize>) {
    for i in range {
        std::fs::write(inbox.join(format!("f{i:05}.txt")), format!("file {i}\n")).unwrap();
    }
}

/// What the feed says of the rule's work, read from its start.
#[derive(Debug, Default)]
struct Feed {
    /// Item → the seq of its `item.created`.
    created: BTreeMap<String, u64>,
    /// Item → how many `rule.ran` it has.
    ran: BTreeMap<String, usize>,
    /// Every `rule.failed`.
    failed: Vec<Value>,
}

/// Follows the feed from its start until every item of `items` has a `rule.ran`: by then
/// every run is recorded and no job is left.
fn wait_ran(d: &Daemon, items: &BTreeSet<String>) -> Feed {
    let stream = d.events("?since=0");
    let mut feed = Feed::default();
    let deadline = Instant::now() + BURST_WAIT;
    while !items.iter().all(|i| feed.ran.contains_key(i)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(e) = stream.next(left) else {
            let missing: Vec<_> = items
                .iter()
                .filter(|i| !feed.ran.contains_key(*i))
                .collect();
            panic!(
                "{} of {} items have no rule.ran within {BURST_WAIT:?} (e.g. {:?}); failures: {:?}",
                missing.len(),
                items.len(),
                &missing[..missing.len().min(10)],
                feed.failed
            );
        };
        let item = e["item_id"].as_str().unwrap_or_default().to_owned();
        match e["kind"].as_str().unwrap() {
            "item.created" => {
                feed.created.insert(item, e["seq"].as_u64().unwrap());
            }
            "rule.ran" => *feed.ran.entry(item).or_default() += 1,
            "rule.failed" => feed.failed.push(e),
            "reset" => panic!("the feed was reset: {e}"),
            _ => {}
        }
    }
    feed
}

/// Waits until the rule is done with the `files` files of `inbox` and checks what it did:
/// the watched collection mirrors the folder; each file's item has exactly one live entry
/// in [`LINKED`], the rule's own, and nothing else is there; each item's program ran, for
/// its `item.created`, and every run is recorded with no job left. `down` names the files
/// dropped while the daemon was down. Stops the daemon; answers how many times each item's
/// program ran (final: nothing was left to run).
fn check_done(
    d: &mut Daemon,
    inbox: &Path,
    files: usize,
    down: &BTreeSet<String>,
) -> BTreeMap<String, usize> {
    let disk = converge(d, INBOX, inbox, &every_file, BURST_WAIT);
    assert_eq!(disk.len(), files, "the test dropped {files} files");
    let by_path = live_ids(d, INBOX);
    let items: BTreeSet<String> = by_path.values().cloned().collect();
    assert_eq!(items.len(), files, "one item per file");
    let log = d.dir.path().join(LOG);
    let linked = || {
        let (s, c) = d.get(&format!("/v1/collections/{LINKED}"));
        assert_eq!(s, 200, "{c}");
        c["item_count"].as_u64().unwrap() as usize
    };
    let done = wait_until(BURST_WAIT, || linked() >= files && items_run(&log) >= files);
    let missing_from_log: Vec<&String> = {
        let logged: BTreeSet<String> = runs(&log).into_iter().map(|r| r.item).collect();
        items.iter().filter(|i| !logged.contains(*i)).collect()
    };
    let late: Vec<&String> = by_path
        .iter()
        .filter(|(p, id)| down.contains(*p) && missing_from_log.contains(id))
        .map(|(p, _)| p)
        .collect();
    assert!(
        done && missing_from_log.is_empty(),
        "after {BURST_WAIT:?}: {} of {files} items linked; {} never ran (e.g. {:?}), of which \
         {} were dropped while the daemon was down (e.g. {:?})",
        linked(),
        missing_from_log.len(),
        &missing_from_log[..missing_from_log.len().min(10)],
        late.len(),
        &late[..late.len().min(10)]
    );

    let feed = wait_ran(d, &items);
    assert!(
        feed.failed.is_empty(),
        "the recorder never fails: {:?}",
        feed.failed
    );

    // Exactly one live entry per item, the rule's, and nothing else in the collection.
    let entries = d.all_entries(LINKED, 1000);
    let mut per_item: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &entries {
        *per_item.entry(e["item_id"].as_str().unwrap()).or_default() += 1;
    }
    let twice: Vec<_> = per_item.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "items linked more than once: {twice:?}");
    let linked_items: BTreeSet<String> = per_item.keys().map(|i| (*i).to_owned()).collect();
    assert_eq!(linked_items, items, "linked holds exactly the files' items");
    assert_eq!(linked(), files, "item_count of {LINKED}");

    // Each item's runs were for its one item.created: a repeat is the same event again.
    let logged = runs(&log);
    let rule = logged[0].rule.clone();
    for r in &logged {
        assert_eq!(r.rule, rule, "one rule ran: {r:?}");
        assert_eq!(
            feed.created.get(&r.item),
            Some(&r.seq),
            "a run for an event that is not its item's item.created: {r:?}"
        );
    }
    let source = format!("rule:{rule}");
    let foreign: Vec<_> = entries.iter().filter(|e| e["source"] != source).collect();
    assert!(
        foreign.is_empty(),
        "entries not of source {source}: {foreign:?}"
    );
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for r in logged {
        *times.entry(r.item).or_default() += 1;
    }
    let (state, _) = rule_and_runs(d);
    assert_eq!(state["id"], rule.as_str(), "the log names the rule");
    assert_eq!(
        state["pending_jobs"], 0,
        "every job is done once every item has its rule.ran"
    );
    d.stop();
    times
}

/// The config file's rule as the API shows it, and its newest runs.
fn rule_and_runs(d: &Daemon) -> (Value, Vec<Value>) {
    let (_, list) = d.get("/v1/rules");
    let rule = list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == RULE)
        .expect("the config file's rule is stored")
        .clone();
    let (s, runs) = d.get(&format!(
        "/v1/rules/{}/runs?limit=100",
        rule["id"].as_str().unwrap()
    ));
    assert_eq!(s, 200, "{runs}");
    (rule, runs["runs"].as_array().unwrap().clone())
}

#[test]
fn sigkill_at_random_moments_while_a_rule_works_through_bursts_links_each_file_once_and_runs_its_program_at_least_once()
 {
    let kills = env_u64("SHEAF_RULE_CRASH_KILLS").map_or(5, |n| n as usize);
    let files = env_u64("SHEAF_RULE_CRASH_FILES").map_or(1000, |n| n.max(1) as usize);
    let seed = seed("SHEAF_RULE_CRASH_SEED");
    eprintln!("rule crash run: {kills} kills over {files} files, SHEAF_RULE_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let (mut d, inbox) = daemon_with(id_recorder, "30s");
    let log = d.dir.path().join(LOG);
    d.spawn();

    let burst = (files / (kills + 1)).max(1);
    let mut dropped = 0;
    // Paths of the files dropped while the daemon was down.
    let mut down = BTreeSet::new();
    let mut startup_kills = 0;
    for kill in 1..=kills {
        let n = burst.min(files - dropped);
        drop_files(&inbox, dropped..dropped + n);
        dropped += n;
        // A random moment while the rule is at work: once it has run for a few more items,
        // a little later.
        let ran = items_run(&log);
        if ran < dropped {
            let want = (ran + 1 + rng.below(n / 2 + 1)).min(dropped);
            assert!(
                wait_until(WAIT, || items_run(&log) >= want),
                "kill {kill}: the rule made no progress: {} of {dropped} items ran",
                items_run(&log)
            );
        }
        std::thread::sleep(Duration::from_millis(rng.below(200) as u64));
        d.kill();

        // Files that come while it is down: the start-up reconcile finds them.
        if kill == 1 || rng.below(2) == 0 {
            let m = (1 + rng.below(burst / 2 + 1)).min(files - dropped);
            drop_files(&inbox, dropped..dropped + m);
            down.extend(
                (dropped..dropped + m)
                    .map(|i| text(&inbox.join(format!("f{i:05}.txt"))).to_owned()),
            );
            dropped += m;
        }
        d.spawn();
        // Now and then, kill again while it starts: resuming jobs, reconciling the folder.
        if rng.below(8) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(50) as u64));
            d.kill();
            startup_kills += 1;
            d.spawn();
        }
    }
    drop_files(&inbox, dropped..files);

    let times = check_done(&mut d, &inbox, files, &down);
    let repeated: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    let repeats: usize = repeated.iter().map(|(_, n)| **n - 1).sum();
    let all_kills = kills + startup_kills;
    eprintln!(
        "rule crash run: {all_kills} kills ({startup_kills} while starting); {files} files \
         ({} dropped while down) each linked once; programs run {} times, {repeats} repeats \
         ({} items)",
        down.len(),
        files + repeats,
        repeated.len()
    );
    assert!(
        repeats <= MAX_JOBS * all_kills,
        "{repeats} repeated runs after {all_kills} kills: only a run a kill cut short \
         (at most {MAX_JOBS} at once) is repeated: {repeated:?}"
    );
}

#[test]
fn without_a_kill_a_burst_runs_the_program_exactly_once_per_file() {
    const FILES: usize = 500;
    let (mut d, inbox) = daemon_with(id_recorder, "30s");
    d.spawn();
    drop_files(&inbox, 0..FILES);
    let times = check_done(&mut d, &inbox, FILES, &BTreeSet::new());
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "programs run more than once: {twice:?}");
    assert_eq!(times.len(), FILES);
}

/// The next event of `kind` on `feed`, the others skipped.
fn next_of_kind(feed: &EventStream, kind: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = feed
            .next(left)
            .unwrap_or_else(|| panic!("no {kind} within {WAIT:?}"));
        if e["kind"] == kind {
            return e;
        }
    }
}

/// Whether `pid` is a running process: it exists and has not exited (a zombie has: only
/// its parent's wait is missing, and an orphan's new parent may never wait).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses and may hold anything.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| !matches!(state, "Z" | "X"))
    })
}

/// The pid a program wrote into `file`.
fn pid_in(file: &Path) -> i32 {
    let written = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}: the program did not start", file.display()));
    written
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{written:?} in {}: {e}", file.display()))
}

/// Processes a test made (through the daemon) that must not outlive it, whatever happens:
/// killed on drop if still there.
struct Reap(Vec<i32>);

impl Drop for Reap {
    fn drop(&mut self) {
        for pid in &self.0 {
            if alive(*pid)
                && let Some(pid) = rustix::process::Pid::from_raw(*pid)
            {
                rustix::process::kill_process(pid, rustix::process::Signal::KILL).ok();
            }
        }
    }
}

/// Drops the one file `name` into `inbox`, watched by `d`, and waits for the rule's run
/// for it to fail; answers the `rule.failed` event, checked to be about the file's item.
fn drop_one_and_fail(d: &Daemon, inbox: &Path, name: &str) -> Value {
    let feed = d.events("");
    write(&inbox.join(name), b"a file the program fails on\n");
    let failed = next_of_kind(&feed, "rule.failed");
    let files = converge(d, INBOX, inbox, &every_file, WAIT);
    assert_eq!(files.len(), 1, "{files:?}");
    let item = live_ids(d, INBOX).into_values().next().unwrap();
    assert_eq!(failed["item_id"], item.as_str(), "{failed}");
    failed
}

/// The rule's one recorded run, checked to be the failure `failed` announced, with no
/// job left.
fn the_failed_run(d: &Daemon, failed: &Value) -> Value {
    let (state, mut runs) = rule_and_runs(d);
    assert_eq!(failed["rule_id"], state["id"], "{failed}");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(state["pending_jobs"], 0, "a failed run is done too");
    let run = runs.remove(0);
    assert_eq!(run["ok"], false, "{run}");
    run
}

#[test]
fn a_program_that_outlives_its_timeout_is_killed_with_the_children_it_started() {
    let (mut d, inbox) = daemon_with(
        |dir| {
            executable(
                &dir.join("hang.sh"),
                &format!(
                    "#!/bin/sh\necho $$ > '{dir}/script.pid'\nsleep 1000 &\n\
                     echo $! > '{dir}/child.pid'\nsleep 1000\n",
                    dir = text(dir)
                ),
            )
        },
        "2s",
    );
    d.spawn();
    let failed = drop_one_and_fail(&d, &inbox, "stuck.txt");

    let dir = d.dir.path();
    let pids = [
        pid_in(&dir.join("script.pid")),
        pid_in(&dir.join("child.pid")),
    ];
    let _reap = Reap(pids.to_vec());
    for (pid, what) in pids.iter().zip(["the program", "the child it started"]) {
        assert!(
            wait_until(WAIT, || !alive(*pid)),
            "{what} (pid {pid}) still runs after its run failed"
        );
    }

    let run = the_failed_run(&d, &failed);
    assert!(
        run.get("exit_code").is_none(),
        "killed, it has no exit status: {run}"
    );
    assert!(
        run["detail"]
            .as_str()
            .unwrap()
            .contains("ran out of its 2s and was killed"),
        "{run}"
    );
}

#[test]
fn a_failing_program_is_recorded_with_its_exit_status_and_the_tail_of_its_stderr() {
    // 100 lines of 60 bytes before the last one: more than the 4 KiB kept.
    let (mut d, inbox) = daemon_with(
        |dir| {
            executable(
                &dir.join("fail.sh"),
                "#!/bin/sh\ni=0\nwhile [ $i -lt 100 ]; do\n\
                 printf 'noise line %03d ................................................\\n' $i >&2\n\
                 i=$((i + 1))\ndone\n\
                 echo \"convert: unsupported format in $SHEAF_PATH\" >&2\nexit 3\n",
            )
        },
        "30s",
    );
    d.spawn();
    let failed = drop_one_and_fail(&d, &inbox, "odd.bin");
    let run = the_failed_run(&d, &failed);
    assert_eq!(run["exit_code"], 3, "{run}");
    assert!(
        run["detail"].as_str().unwrap().contains("exited with 3"),
        "{run}"
    );
    let tail = run["stderr_tail"].as_str().unwrap();
    assert!(
        tail.ends_with(&format!(
            "convert: unsupported format in {}\n",
            text(&inbox.join("odd.bin"))
        )),
        "{tail:?}"
    );
    assert!(tail.len() <= 4096, "{} bytes kept", tail.len());
    assert!(
        !tail.contains("noise line 000") && tail.contains("noise line 099"),
        "the last 4 KiB are kept, not the first: {tail:?}"
    );
}
