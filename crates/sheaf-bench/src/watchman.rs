//! watchman (Meta's file watcher, Debian's `watchman` package) on the same trees as the
//! folder and crawl benchmarks, when it is installed: the crawl of a fresh server until a
//! query answers with every file, its memory afterwards, and the latency from a file closed
//! to its notification on a subscription. Each run has its own server, state and socket
//! under the benchmark's directory, so a user's watchman is never touched.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// Whether `watchman` is on the PATH.
#[must_use]
pub fn installed() -> bool {
    Command::new("watchman")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A private watchman server (started by its first command, shut down on drop).
#[derive(Debug)]
pub struct Server {
    state: PathBuf,
}

impl Server {
    pub fn new(state: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&state)?;
        Ok(Self { state })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("watchman");
        let at = |name: &str| self.state.join(name).display().to_string();
        cmd.arg(format!("--sockname={}", at("sock")))
            .arg(format!("--statefile={}", at("state")))
            .arg(format!("--logfile={}", at("log")))
            .arg(format!("--pidfile={}", at("pid")))
            .stderr(Stdio::null());
        cmd
    }

    /// Runs one JSON command and returns its answer.
    fn json(&self, command: &serde_json::Value) -> Result<serde_json::Value> {
        let mut child = self
            .command()
            .args(["-j", "--no-pretty"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(command.to_string().as_bytes())?;
        let out = child.wait_with_output()?;
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        if let Some(e) = answer.get("error") {
            return Err(format!("watchman: {e}").into());
        }
        Ok(answer)
    }

    /// The server's process id, from its pid file, once it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.state.join("pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// `watch` the tree, then query it: the query answers once the crawl is complete.
    /// Answers how many files it lists.
    pub fn crawl(&self, tree: &Path) -> Result<usize> {
        self.json(&serde_json::json!(["watch", tree]))?;
        let answer = self.json(&serde_json::json!([
            "query",
            tree,
            {"expression": ["type", "f"], "fields": ["name"]}
        ]))?;
        Ok(answer["files"].as_array().map_or(0, Vec::len))
    }

    /// A subscription to the tree's files, read line by line.
    pub fn subscribe(&self, tree: &Path) -> Result<Subscription> {
        self.json(&serde_json::json!(["watch", tree]))?;
        let mut child = self
            .command()
            .args(["-j", "--no-pretty", "-p"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let cmd = serde_json::json!([
            "subscribe",
            tree,
            "bench",
            {"expression": ["type", "f"], "fields": ["name"], "empty_on_fresh_instance": true}
        ]);
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(format!("{cmd}\n").as_bytes())?;
        let out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut sub = Subscription { child, out };
        // The first line acknowledges the subscription.
        sub.line()?;
        Ok(sub)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .command()
            .args(["--no-spawn", "shutdown-server"])
            .stdout(Stdio::null())
            .status();
    }
}

/// A live subscription's notifications.
#[derive(Debug)]
pub struct Subscription {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Subscription {
    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.out.read_line(&mut line)? == 0 {
            return Err("the watchman subscription ended".into());
        }
        Ok(line)
    }

    /// Blocks until a notification names `name`.
    pub fn until(&mut self, name: &str) -> Result<()> {
        let quoted = format!("\"{name}\"");
        loop {
            if self.line()?.contains(&quoted) {
                return Ok(());
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One crawl by a fresh server; the time until the query answered with all `files`.
pub fn crawl_once(state: &Path, tree: &Path, files: usize) -> Result<Duration> {
    crawl_kept(state, tree, files).map(|(took, _)| took)
}

/// [`crawl_once`], the server left running (to read its memory) until the answer's
/// [`Server`] is dropped.
pub fn crawl_kept(state: &Path, tree: &Path, files: usize) -> Result<(Duration, Server)> {
    let _ = std::fs::remove_dir_all(state);
    let server = Server::new(state.to_path_buf())?;
    let t = Instant::now();
    let found = server.crawl(tree)?;
    let took = t.elapsed();
    if found < files {
        return Err(format!("watchman listed {found} of {files} files").into());
    }
    Ok((took, server))
}
