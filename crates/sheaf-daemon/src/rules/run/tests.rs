//! Real processes: `sh -c` writes the test commands (the runner itself uses no shell).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Exit, Job, STDERR_TAIL, Tail, run};

fn job(argv: &[&str]) -> Job {
    Job {
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        env: Vec::new(),
        stdin: Vec::new(),
        timeout: Duration::from_secs(20),
        nice: 0,
        cwd: None,
    }
}

fn sh(script: &str) -> Job {
    job(&["sh", "-c", script])
}

/// Whether a process is gone: no longer in /proc, or a zombie (killed, and reaped by
/// whoever inherited it).
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Waits up to a few seconds for each pid to be dead.
async fn all_die(pids: &[u32]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if pids.iter().all(|pid| dead(*pid)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn pids(text: &str) -> Vec<u32> {
    text.split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect()
}

#[tokio::test]
async fn exit_codes_and_signals_are_reported() {
    let ok = run(job(&["true"])).await;
    assert_eq!(ok.exit, Exit::Code(0));
    assert!(ok.succeeded());
    let three = run(sh("exit 3")).await;
    assert_eq!(three.exit, Exit::Code(3));
    assert!(!three.succeeded());
    let killed = run(sh("kill -TERM $$")).await;
    assert_eq!(killed.exit, Exit::Signal(15));
    assert!(!killed.succeeded());
    assert_eq!(killed.exit.to_string(), "killed by signal 15");
}

#[tokio::test]
async fn argv_is_passed_verbatim_without_a_shell() {
    let verbatim = ["a b", "$HOME", ";", "*", "\"q\" 'r'", "`id`", "", "x\ny"];
    let mut argv = vec![
        "sh",
        "-c",
        r#"for a; do printf '[%s]' "$a" >&2; done"#,
        "sh",
    ];
    argv.extend(verbatim);
    let ran = run(job(&argv)).await;
    assert_eq!(ran.exit, Exit::Code(0));
    let expected = verbatim.map(|a| format!("[{a}]")).concat();
    assert_eq!(ran.stderr_tail, expected);
}

#[tokio::test]
async fn the_jobs_variables_are_added_to_the_daemons_environment() {
    let mut j = sh(r#"printf '%s|%s|%s' "$SHEAF_RULE" "$SHEAF_PATH" "$PATH" >&2"#);
    j.env = vec![
        ("SHEAF_RULE".to_owned(), "papers".to_owned()),
        ("SHEAF_PATH".to_owned(), "/tmp/a b;*".to_owned()),
    ];
    let ran = run(j).await;
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(ran.stderr_tail, format!("papers|/tmp/a b;*|{path}"));
}

#[tokio::test]
async fn stdin_is_received_byte_exact() {
    let small =
        br#"{"type":"item.created","seq":7,"path":"/tmp/\u00e9 x.pdf","note":"caf\xc3\xa9"}"#;
    let mut j = sh("cat >&2");
    j.stdin = small.to_vec();
    assert_eq!(run(j).await.stderr_tail.as_bytes(), small);

    // Larger than a pipe's buffer, and not UTF-8.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("stdin");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut j = sh(r#"cat > "$OUT""#);
    j.env = vec![("OUT".to_owned(), out.display().to_string())];
    j.stdin.clone_from(&big);
    assert_eq!(run(j).await.exit, Exit::Code(0));
    assert!(std::fs::read(&out).expect("the copy") == big);
}

#[tokio::test]
async fn a_command_that_ignores_stdin_is_not_blocked() {
    let mut j = sh("echo done >&2");
    j.stdin = vec![b'x'; 1 << 20];
    j.timeout = Duration::from_secs(10);
    let ran = run(j).await;
    assert_eq!(ran.exit, Exit::Code(0));
    assert_eq!(ran.stderr_tail, "done\n");
}

#[tokio::test]
async fn stdout_is_drained_and_stderr_keeps_its_last_4_kib() {
    let ran = run(sh("head -c 1048576 /dev/zero | tr '\\0' a; \
         head -c 1048576 /dev/zero | tr '\\0' b >&2; printf END >&2"))
    .await;
    assert_eq!(ran.exit, Exit::Code(0));
    assert_eq!(ran.stderr_tail.len(), STDERR_TAIL);
    assert!(ran.stderr_tail.ends_with("bbbEND"));
    assert!(
        ran.stderr_tail[..STDERR_TAIL - 3]
            .bytes()
            .all(|b| b == b'b')
    );
}

#[test]
fn the_tail_starts_at_a_character_boundary() {
    let mut tail = Tail::default();
    for _ in 0..3000 {
        tail.push("é".as_bytes()); // two bytes each
    }
    tail.push(b"!");
    let text = tail.into_string();
    // 4096 bytes end with "!", so the 4095 before it start mid-character: one byte dropped.
    assert_eq!(text.len(), STDERR_TAIL - 1);
    assert!(text.ends_with("é!"));
    assert!(text.chars().all(|c| c == 'é' || c == '!'));

    let mut short = Tail::default();
    short.push(b"ab");
    short.push(b"\xff");
    assert_eq!(short.into_string(), "ab\u{fffd}");
}

#[tokio::test]
async fn the_timeout_kills_the_command_and_its_children() {
    let mut j = sh("sleep 100 & echo $$ $! >&2; sleep 100");
    j.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let ran = run(j).await;
    assert_eq!(ran.exit, Exit::TimedOut);
    assert!(ran.duration >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(5), "{ran:?}");
    let pids = pids(&ran.stderr_tail);
    assert_eq!(pids.len(), 2, "{ran:?}");
    // The leader is reaped: gone from /proc, not a zombie.
    assert!(!Path::new(&format!("/proc/{}", pids[0])).exists());
    assert!(all_die(&pids).await, "{pids:?} survived");
}

#[tokio::test]
async fn what_the_command_leaves_in_its_group_is_killed_when_it_exits() {
    let started = Instant::now();
    let ran = run(sh("sleep 100 & echo $! >&2")).await;
    assert_eq!(ran.exit, Exit::Code(0));
    // The background sleep held stderr open; the run did not wait for it.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(all_die(&pids(&ran.stderr_tail)).await);
}

#[tokio::test]
async fn a_process_that_left_the_group_does_not_hold_the_run() {
    if !Path::new("/usr/bin/setsid").exists() && !Path::new("/bin/setsid").exists() {
        return;
    }
    let started = Instant::now();
    let ran = run(sh("setsid sleep 100 & echo $! >&2")).await;
    assert_eq!(ran.exit, Exit::Code(0));
    assert!(started.elapsed() < Duration::from_secs(5));
    for pid in pids(&ran.stderr_tail) {
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

#[tokio::test]
async fn the_command_runs_at_the_daemons_niceness_plus_nice() {
    let before = rustix::process::getpriority_process(None).expect("own niceness");
    // The child reads its stdin to the end first, so it samples once the run is under way.
    let mut j = sh("cat >/dev/null; cut -d' ' -f19 /proc/self/stat >&2");
    j.nice = 5;
    j.stdin = b"{}".to_vec();
    let ran = run(j).await;
    let nice: i32 = ran.stderr_tail.trim().parse().expect("a nice value");
    assert_eq!(nice, (before + 5).min(19));
    // Without waiting: a process the command forks at once is niced too.
    let mut j = sh("cut -d' ' -f19 /proc/self/stat >&2");
    j.nice = 3;
    let ran = run(j).await;
    assert_eq!(ran.stderr_tail.trim(), (before + 3).min(19).to_string());
    // The daemon's own thread keeps its niceness.
    assert_eq!(
        rustix::process::getpriority_process(None).ok(),
        Some(before)
    );
}

#[tokio::test]
async fn a_missing_program_is_not_started_with_the_os_error() {
    let ran = run(job(&["sheaf-no-such-program-42", "x"])).await;
    let Exit::NotStarted(why) = &ran.exit else {
        panic!("{ran:?}")
    };
    assert!(why.starts_with("sheaf-no-such-program-42: "), "{why}");
    assert!(why.contains("No such file or directory"), "{why}");
    assert!(!ran.succeeded());

    let empty = run(job(&[])).await;
    assert_eq!(
        empty.exit,
        Exit::NotStarted("the command is empty".to_owned())
    );

    let mut j = job(&["true"]);
    j.cwd = Some("/sheaf-no-such-dir".into());
    let Exit::NotStarted(why) = run(j).await.exit else {
        panic!("started in a missing directory")
    };
    assert!(why.contains("/sheaf-no-such-dir"), "{why}");
}

#[tokio::test]
async fn the_command_runs_in_the_jobs_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut j = sh("pwd -P >&2");
    j.cwd = Some(dir.path().to_owned());
    let ran = run(j).await;
    let expected = dir.path().canonicalize().expect("canonical");
    assert_eq!(Path::new(ran.stderr_tail.trim()), expected);
}

#[tokio::test]
async fn dropping_the_run_kills_the_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pids");
    let mut j = sh(r#"sleep 100 & echo $$ $! > "$PIDS.part" && mv "$PIDS.part" "$PIDS"; wait"#);
    j.env = vec![("PIDS".to_owned(), file.display().to_string())];
    let task = tokio::spawn(run(j));
    let deadline = Instant::now() + Duration::from_secs(10);
    let pids = loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            break pids(&text);
        }
        assert!(Instant::now() < deadline, "the command never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(!pids.iter().any(|pid| dead(*pid)));
    task.abort();
    assert!(task.await.is_err_and(|e| e.is_cancelled()));
    assert!(all_die(&pids).await, "{pids:?} survived the drop");
}

#[tokio::test]
async fn the_command_is_reaped_before_the_run_returns() {
    let ran = run(sh("echo $$ >&2; exit 4")).await;
    assert_eq!(ran.exit, Exit::Code(4));
    for pid in pids(&ran.stderr_tail) {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} left behind"
        );
    }
}
