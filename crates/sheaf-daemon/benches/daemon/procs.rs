//! The servers under test, each a separate process on its own socket: started, waited for
//! until they answer, stopped with SIGTERM (SIGKILL after a deadline) — also when the
//! benchmark fails half-way.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::Result;
use crate::http::Conn;

/// How long a server may take to answer after it was started, and to stop.
const START_DEADLINE: Duration = Duration::from_secs(30);
const STOP_DEADLINE: Duration = Duration::from_secs(20);

/// A running server process, stopped on drop.
pub(crate) struct Server {
    name: &'static str,
    child: Option<Child>,
    /// Its stdout and stderr.
    log: PathBuf,
    pub(crate) socket: PathBuf,
}

impl Server {
    /// Spawns `cmd` with its output in `log` and waits until `GET /v1/health` on `socket`
    /// answers 200.
    pub(crate) fn start(
        name: &'static str,
        mut cmd: Command,
        socket: PathBuf,
        log: PathBuf,
        rt: &Runtime,
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
        server.wait_ready(rt)?;
        Ok(server)
    }

    fn wait_ready(&mut self, rt: &Runtime) -> Result<()> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let answered = rt.block_on(async {
                let mut conn = Conn::open(&self.socket).await?;
                conn.get("/v1/health").await
            });
            if let Ok((status, _)) = answered
                && status.is_success()
            {
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

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the process wrote, for error messages.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then SIGKILL if it has not exited by the deadline.
    pub(crate) fn stop(&mut self) -> Result<ExitStatus> {
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
