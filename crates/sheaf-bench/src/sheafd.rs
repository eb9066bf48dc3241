//! The servers under test, each a separate process on its own socket: release builds made
//! by cargo, started, waited for until `GET /v1/health` answers 200, stopped with SIGTERM
//! (SIGKILL after a deadline) — also when the benchmark fails half-way.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, target_dir};

/// How long a server may take to answer after it was started, and to stop.
const START_DEADLINE: Duration = Duration::from_secs(60);
const STOP_DEADLINE: Duration = Duration::from_secs(20);

/// Runs `cargo build --release --quiet {args}` in the workspace — a no-op for cargo when
/// the binaries are fresh; `cargo bench` has released its build lock by the time
/// benchmarks run. Answers `target/release`.
pub fn build_release(args: &[&str]) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()?;
    if !status.success() {
        return Err(format!("cargo build --release {} failed: {status}", args.join(" ")).into());
    }
    Ok(target_dir().join("release"))
}

/// Builds the release `sheafd`; answers its path.
pub fn build() -> Result<PathBuf> {
    Ok(build_release(&["-p", "sheaf-daemon", "--bin", "sheafd"])?.join("sheafd"))
}

/// The `sheafd` a benchmark measures: `SHEAF_BENCH_SHEAFD` (another build, a candidate
/// change), else this tree's release build ([`build`]).
pub fn under_test() -> Result<PathBuf> {
    match std::env::var_os("SHEAF_BENCH_SHEAFD") {
        Some(bin) => Ok(PathBuf::from(bin)),
        None => build(),
    }
}

/// Starts `sheafd` (the binary at `bin`) on `database` with an empty config — every
/// setting its default — its socket `dir/run/sheafd.sock` and its output in
/// `dir/sheafd.log`.
pub fn start(bin: &Path, dir: &Path, database: &Path) -> Result<Server> {
    start_with_config(bin, dir, database, "")
}

/// As [`start`], with `config` (TOML: watches, rules, settings) as its config file,
/// `dir/config.toml`.
pub fn start_with_config(bin: &Path, dir: &Path, database: &Path, config: &str) -> Result<Server> {
    let config_file = dir.join("config.toml");
    std::fs::write(&config_file, config)?;
    let config = config_file;
    let socket = dir.join("run/sheafd.sock");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(&config)
        .arg("--socket")
        .arg(&socket)
        .arg("--database")
        .arg(database)
        .env_remove("RUST_LOG");
    Server::start("sheafd", cmd, socket, dir.join("sheafd.log"))
}

/// A running server process, stopped on drop.
#[derive(Debug)]
pub struct Server {
    name: &'static str,
    child: Option<Child>,
    /// Its stdout and stderr.
    log: PathBuf,
    pub socket: PathBuf,
}

impl Server {
    /// Spawns `cmd` with its output in `log` and waits until `GET /v1/health` on `socket`
    /// answers 200.
    pub fn start(
        name: &'static str,
        mut cmd: Command,
        socket: PathBuf,
        log: PathBuf,
    ) -> Result<Self> {
        let out = std::fs::File::create(&log)?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out));
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", cmd.get_program().display()))?;
        let mut server = Self {
            name,
            child: Some(child),
            log,
            socket,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if healthy(&self.socket).unwrap_or(false) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(format!(
                    "{} exited early with {status}: {}",
                    self.name,
                    self.log_text()
                )
                .into());
            }
            if Instant::now() > deadline {
                return Err(
                    format!("{} did not answer within {START_DEADLINE:?}", self.name).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the process wrote, for error messages.
    #[must_use]
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then SIGKILL if it has not exited by the deadline.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| format!("{} was already stopped", self.name))?;
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                child.kill()?;
                let status = child.wait()?;
                return Err(format!(
                    "{} did not stop within {STOP_DEADLINE:?} of SIGTERM; killed ({status})",
                    self.name
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// [`Server::stop`], and an error with what it wrote unless it exited with success.
    pub fn stop_cleanly(&mut self) -> Result<()> {
        let pid = self.pid();
        let status = self.stop()?;
        if !status.success() {
            return Err(format!(
                "{} (pid {pid:?}) exited with {status}: {}",
                self.name,
                self.log_text()
            )
            .into());
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(e) = self.stop()
        {
            eprintln!("{e}");
        }
    }
}

/// Whether `GET /v1/health` on `socket` answers a 2xx, over a plain HTTP/1.1 connection.
fn healthy(socket: &Path) -> std::io::Result<bool> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /v1/health HTTP/1.1\r\nHost: sheaf\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 10];
    stream.read_exact(&mut head)?;
    Ok(head.starts_with(b"HTTP/1.1 2"))
}
