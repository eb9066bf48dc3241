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
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
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
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut err).ok();
                }
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
