//! The end-to-end harness: builds the real `sheafd` and `sheaf` binaries once, boots
//! daemons on temporary sockets and databases, and talks to them over the Unix socket with
//! a client nobody here wrote (reqwest, curl). Tests live in `tests/tests/`.
// A harness that cannot set up must fail loudly, so it panics; its helpers are used for effect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    clippy::must_use_candidate
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod churn;
pub mod folders;
pub mod platforms;
pub mod rules;
pub mod tcp;
pub mod torture;

/// The workspace's target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// Builds `sheafd` and `sheaf` (debug) once per test process and returns the directory
/// holding them. `cargo test` has released its build lock by the time tests run.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "sheaf-daemon", "--bin", "sheafd"])
            .args(cli_build_args())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the binaries failed");
        target_dir().join("debug")
    })
}

/// The CLI is built too once its package exists.
fn cli_build_args() -> Vec<&'static str> {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/sheaf-cli/Cargo.toml");
    if cli.exists() {
        vec!["-p", "sheaf-cli", "--bin", "sheaf"]
    } else {
        Vec::new()
    }
}

/// Path of the `sheafd` binary.
pub fn sheafd() -> PathBuf {
    bin_dir().join("sheafd")
}

/// Path of the `sheaf` binary.
pub fn sheaf() -> PathBuf {
    bin_dir().join("sheaf")
}

/// A running `sheafd` on a temporary socket and database; killed on drop.
#[derive(Debug)]
pub struct Daemon {
    /// The temporary directory holding socket, database, config and files.
    pub dir: tempfile::TempDir,
    /// The socket.
    pub socket: PathBuf,
    /// The database.
    pub database: PathBuf,
    /// The config file (may be empty).
    pub config: PathBuf,
    /// Environment variables the process gets on top of the test's own (e.g. `HOME`, which
    /// a query's `~` stands for); set before `spawn()`.
    pub env: Vec<(String, PathBuf)>,
    child: Option<Child>,
}

impl Daemon {
    /// Starts a daemon with an empty config.
    pub fn start() -> Self {
        Self::start_with_config("")
    }

    /// Starts a daemon with this config file content.
    pub fn start_with_config(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/sheafd.sock");
        let database = dir.path().join("data/sheaf.redb");
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut d = Self {
            dir,
            socket,
            database,
            config: config_path,
            env: Vec::new(),
            child: None,
        };
        d.spawn();
        d
    }

    /// The command that starts this daemon (not yet spawned).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(sheafd());
        cmd.arg("--socket")
            .arg(&self.socket)
            .arg("--database")
            .arg(&self.database)
            .arg("--config")
            .arg(&self.config)
            // `SHEAF_TEST_LOG=sheaf_daemon=debug` to see more while chasing a failure.
            .env(
                "RUST_LOG",
                std::env::var("SHEAF_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // A file, not a pipe: a pipe nobody reads fills up and blocks the daemon's log
            // writes (and with them whichever thread logs).
            .stderr(self.log_file())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Where the daemon's stderr goes (appended across restarts).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("sheafd.log")
    }

    fn log_file(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .map_or_else(|_| Stdio::null(), Stdio::from)
    }

    /// (Re)starts the process and waits until it answers.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.child = Some(self.command().spawn().unwrap());
        self.wait_ready();
    }

    /// Waits until `/v1/health` answers (10 s at most).
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(r) = self.client().get(self.url("/v1/health")).send()
                && r.status().is_success()
            {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().unwrap()
            {
                let err = std::fs::read_to_string(self.log()).unwrap_or_default();
                panic!("sheafd exited early with {status}: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "sheafd did not answer within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        child.wait().unwrap()
    }

    /// Kills the process with SIGKILL (no cleanup).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A blocking HTTP client over the socket.
    pub fn client(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .unix_socket(self.socket.clone())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// `http://sheaf{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://sheaf{path}")
    }

    /// GET, returning status and JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client().get(self.url(path)).send().unwrap();
        split(r)
    }

    /// A request with a JSON body, returning status and JSON body.
    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .client()
            .request(method, self.url(path))
            .json(body)
            .send()
            .unwrap();
        split(r)
    }

    /// A request without a body.
    pub fn call(&self, method: &str, path: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .client()
            .request(method, self.url(path))
            .send()
            .unwrap();
        split(r)
    }

    /// Creates files under the daemon's directory and returns their absolute paths.
    pub fn files(&self, names: &[(&str, &[u8])]) -> Vec<String> {
        names
            .iter()
            .map(|(name, content)| {
                let path = self.dir.path().join("files").join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, content).unwrap();
                path.to_str().unwrap().to_owned()
            })
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        // A failing test keeps the daemon's log, which goes with the temporary directory.
        if std::thread::panicking() {
            let kept = std::env::temp_dir().join(format!(
                "sheafd-{}-{}.log",
                std::process::id(),
                self.dir
                    .path()
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
            ));
            if std::fs::copy(self.log(), &kept).is_ok() {
                eprintln!("sheafd's log: {}", kept.display());
            }
        }
    }
}

fn split(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Asserts an error envelope with this status and code; returns its `details`.
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) -> Value {
    let (s, body) = got;
    assert_eq!(*s, status, "status; body: {body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_")),
        "{body}"
    );
    body["error"]["details"].clone()
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the API, error, event, access and lifecycle suites.

/// A reply with its headers, for checks on `X-Request-Id`, `Retry-After` and friends.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body (`Null` when empty, a string when not JSON).
    pub body: Value,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn from_response(r: reqwest::blocking::Response) -> Self {
        let headers = r.headers().clone();
        let (status, body) = split(r);
        Self {
            status,
            headers,
            body,
        }
    }
}

/// Sends a request with any method, content type and raw body through `client`.
pub fn request_with(
    client: &reqwest::blocking::Client,
    url: &str,
    method: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method, url);
    if let Some(ct) = content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, ct);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    Reply::from_response(req.send().unwrap())
}

/// Asserts the SPEC's error envelope on a reply: status, `success: false`, the code, a
/// message, a `details` field, and an `X-Request-Id` header equal to the envelope's
/// `request_id`. Returns `details`.
pub fn assert_envelope(reply: &Reply, status: u16, code: &str) -> Value {
    let details = assert_error(&(reply.status, reply.body.clone()), status, code);
    let error = reply.body["error"].as_object().expect("error object");
    assert!(
        error.contains_key("details"),
        "details is always present: {}",
        reply.body
    );
    assert_eq!(
        reply.header("x-request-id"),
        reply.body["error"]["request_id"].as_str(),
        "X-Request-Id equals the envelope's request_id"
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
    details
}

/// A line of `GET /v1/events`, read by a background thread.
#[derive(Debug)]
pub struct EventStream {
    rx: std::sync::mpsc::Receiver<Value>,
}

impl EventStream {
    /// The next event, or `None` after `timeout` or when the stream ended.
    pub fn next(&self, timeout: Duration) -> Option<Value> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Events until one with `seq >= last` (included); panics after `timeout`.
    pub fn until_seq(&self, last: u64, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self
                .next(left)
                .unwrap_or_else(|| panic!("no event up to seq {last} within {timeout:?}: {out:?}"));
            let seq = e["seq"].as_u64().expect("seq");
            out.push(e);
            if seq >= last {
                return out;
            }
        }
    }

    /// Whether the stream ends (the daemon closed it) within `timeout`, skipping events.
    pub fn ends_within(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(_) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}

impl Daemon {
    /// A daemon set up with this config but not started: `spawn()` starts it.
    pub fn unstarted(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        Self {
            socket: dir.path().join("run/sheafd.sock"),
            database: dir.path().join("data/sheaf.redb"),
            config: config_path,
            dir,
            env: Vec::new(),
            child: None,
        }
    }

    /// Sends SIGTERM without waiting; `wait()` collects the exit status.
    pub fn terminate(&self) {
        let child = self.child.as_ref().expect("running");
        let pid = rustix::process::Pid::from_child(child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Waits for the process to exit (after `terminate()`), at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sheafd did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Any request over the socket, with its headers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        request_with(&self.client(), &self.url(path), method, content_type, body)
    }

    /// A JSON request, with its headers.
    pub fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.request(
            method,
            path,
            Some("application/json"),
            Some(serde_json::to_vec(body).unwrap()),
        )
    }

    /// Creates files under the daemon's directory, registers them, and returns their ids.
    pub fn register(&self, names: &[(&str, &[u8])]) -> Vec<String> {
        let paths = self.files(names);
        self.register_paths(&paths)
    }

    /// Registers existing files by path (in `max_batch`-sized requests); returns their ids.
    pub fn register_paths(&self, paths: &[String]) -> Vec<String> {
        let (_, health) = self.get("/v1/health");
        let max = health["limits"]["max_batch"].as_u64().unwrap() as usize;
        let mut ids = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(max) {
            let (s, body) = self.send("POST", "/v1/items", &serde_json::json!({ "paths": chunk }));
            assert_eq!(s, 200, "{body}");
            ids.extend(
                body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_str().unwrap().to_owned()),
            );
        }
        ids
    }

    /// Creates `n` small text files named `{prefix}{i}.txt` and registers them.
    pub fn register_many(&self, prefix: &str, n: usize) -> Vec<String> {
        let base = self.dir.path().join("files");
        std::fs::create_dir_all(&base).unwrap();
        let paths: Vec<String> = (0..n)
            .map(|i| {
                let p = base.join(format!("{prefix}{i}.txt"));
                std::fs::write(&p, format!("{prefix} {i}\n")).unwrap();
                p.to_str().unwrap().to_owned()
            })
            .collect();
        self.register_paths(&paths)
    }

    /// Registers `n` hard links `{prefix}{i}.txt` to one small file: `n` distinct items
    /// without creating `n` inodes, which is slow on some filesystems (tens of seconds for
    /// 10 000 files on the CI disk).
    pub fn register_links(&self, prefix: &str, n: usize) -> Vec<String> {
        let base = self.dir.path().join("files");
        std::fs::create_dir_all(&base).unwrap();
        let original = base.join(format!("{prefix}.orig"));
        std::fs::write(&original, format!("{prefix}\n")).unwrap();
        let paths: Vec<String> = (0..n)
            .map(|i| {
                let p = base.join(format!("{prefix}{i}.txt"));
                std::fs::hard_link(&original, &p).unwrap();
                p.to_str().unwrap().to_owned()
            })
            .collect();
        self.register_paths(&paths)
    }

    /// Creates a collection (201) and returns it.
    pub fn create_collection(&self, id: &str) -> Value {
        let (s, body) = self.send("POST", "/v1/collections", &serde_json::json!({ "id": id }));
        assert_eq!(s, 201, "{body}");
        body
    }

    /// Batch-adds item ids to a collection (200) and returns the answer.
    pub fn add(&self, collection: &str, items: &[String]) -> Value {
        let (s, body) = self.send(
            "POST",
            &format!("/v1/collections/{collection}/items"),
            &serde_json::json!({ "items": items }),
        );
        assert_eq!(s, 200, "{body}");
        body
    }

    /// `store.last_seq` of `/v1/health`.
    pub fn last_seq(&self) -> u64 {
        let (s, h) = self.get("/v1/health");
        assert_eq!(s, 200, "{h}");
        h["store"]["last_seq"].as_u64().unwrap()
    }

    /// Every live entry of a collection, following cursors with this page size.
    pub fn all_entries(&self, collection: &str, limit: usize) -> Vec<Value> {
        let pages = self.pages(&format!("/v1/collections/{collection}/items?limit={limit}"));
        let mut out = Vec::new();
        for page in pages {
            let entries = page["entries"].as_array().unwrap();
            assert!(entries.len() <= limit, "a page holds at most limit entries");
            out.extend(entries.iter().cloned());
        }
        out
    }

    /// Every page of a cursor-paged listing: `path` (with its query), then with each
    /// `next_cursor` appended until there is none.
    pub fn pages(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut at = path.to_owned();
            if let Some(c) = &cursor {
                at.push_str("&cursor=");
                at.push_str(c);
            }
            let (s, page) = self.get(&at);
            assert_eq!(s, 200, "{page}");
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            out.push(page);
            if cursor.is_none() {
                return out;
            }
        }
    }

    /// Opens `GET /v1/events{query}`; returns once the response headers arrived, so every
    /// commit after this call is on the stream.
    pub fn events(&self, query: &str) -> EventStream {
        let client = reqwest::blocking::Client::builder()
            .unix_socket(self.socket.clone())
            .timeout(None)
            .build()
            .unwrap();
        let r = client
            .get(self.url(&format!("/v1/events{query}")))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/x-ndjson")
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let reader = std::io::BufReader::new(r);
            for line in std::io::BufRead::lines(reader) {
                let Ok(line) = line else { return };
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("event line {line:?} is not JSON: {e}"));
                if tx.send(event).is_err() {
                    return;
                }
            }
        });
        EventStream { rx }
    }
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a program is on `PATH`.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// Whether the tests run as root (some access and storage tests need it).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A tmpfs mounted for a test (root only), lazily unmounted on drop, even when the test
/// fails. `None`, with the reason printed, where it cannot be mounted.
#[derive(Debug)]
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it) at `at`, made if missing.
    pub fn mount(at: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .ok()?;
        if out.status.success() {
            Some(Self(at.to_path_buf()))
        } else {
            eprintln!(
                "SKIPPED: mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Polls `condition` every 20 ms until it holds (true) or `timeout` has passed (false).
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// xorshift64*: a deterministic stream from a seed the test prints, with no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream from `seed` (made odd: xorshift never leaves zero).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n as u64) as usize
    }
}

/// Runs a command to completion (stdin closed, output captured), killing it after
/// `timeout`; panics when it does not finish in time.
pub fn output_within(cmd: &mut Command, timeout: Duration) -> std::process::Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    if let Ok(out) = rx.recv_timeout(timeout) {
        return out.unwrap();
    }
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).ok();
    panic!("{cmd:?} still running after {timeout:?}");
}
