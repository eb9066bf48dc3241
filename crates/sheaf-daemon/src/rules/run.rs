//! A rule's `run` action (SPEC §7.3): one command, started without a shell (`argv[0]` is
//! looked up in `PATH`), in a process group of its own, niced, with the event as JSON on its
//! stdin and the job's variables added to the daemon's environment.
//!
//! The run owns its group: when the command exits, when the timeout runs out, or when the
//! future is dropped (daemon shutdown), the whole group is sent SIGKILL, so nothing the
//! command started in it outlives the run or escapes `max_jobs`. The command is always
//! reaped (on drop, tokio's orphan reaper does it). Its stdout is drained and discarded; of
//! its stderr only the last [`STDERR_TAIL`] bytes are kept, whatever it writes. [`run`]
//! never fails: a command that cannot be started is an [`Exit::NotStarted`].

use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, getpriority_process, kill_process_group, setpriority_process};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};

/// How many bytes of a command's stderr a run keeps: the last ones.
pub(crate) const STDERR_TAIL: usize = 4096;

/// How long the pipes may still be read once the group is dead: only a process that left
/// the group (`setsid`) can hold them open longer, and the run does not wait for it.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// One command to run for a rule.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The program and its arguments, passed verbatim (no shell, no expansion).
    pub argv: Vec<String>,
    /// Added to the daemon's environment (`SHEAF_ITEM_ID`, `SHEAF_PATH`, …).
    pub env: Vec<(String, String)>,
    /// Written to the command's stdin, which is then closed; the command need not read it.
    pub stdin: Vec<u8>,
    /// When it runs out, the group is killed and the run is [`Exit::TimedOut`].
    pub timeout: Duration,
    /// Added to the daemon's niceness (the sum clamped to -20..=19), e.g. 10.
    pub nice: i32,
    /// The working directory; the daemon's when `None`.
    pub cwd: Option<PathBuf>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The command exited with this status.
    Code(i32),
    /// The command was killed by this signal (not by the run's timeout).
    Signal(i32),
    /// The timeout ran out and the group was killed.
    TimedOut,
    /// The command could not be started (or, never in practice, waited for): the OS error.
    NotStarted(String),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with status {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
            Exit::TimedOut => f.write_str("timed out"),
            Exit::NotStarted(why) => write!(f, "not started: {why}"),
        }
    }
}

/// What a run did, for its record.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    pub exit: Exit,
    /// From just before the spawn to the reaping.
    pub duration: Duration,
    /// The last [`STDERR_TAIL`] bytes of stderr, as lossy UTF-8 that starts at a character
    /// boundary.
    pub stderr_tail: String,
}

impl Ran {
    /// Whether the command exited with status 0.
    pub(crate) fn succeeded(&self) -> bool {
        self.exit == Exit::Code(0)
    }
}

/// Runs one command to its end (see the module docs); never fails.
pub(crate) async fn run(job: Job) -> Ran {
    let started = Instant::now();
    let not_started = |why: String| Ran {
        exit: Exit::NotStarted(why),
        duration: started.elapsed(),
        stderr_tail: String::new(),
    };
    let Some((program, args)) = job.argv.split_first() else {
        return not_started("the command is empty".to_owned());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(cwd) = &job.cwd {
        command.current_dir(cwd);
    }
    let mut child = match spawn_niced(&mut command, job.nice) {
        Ok(child) => child,
        Err(e) => {
            return not_started(match &job.cwd {
                Some(cwd) => format!("{program} (in {}): {e}", cwd.display()),
                None => format!("{program}: {e}"),
            });
        }
    };
    // Declared after `child`, so on drop the group is killed before the child is.
    let mut group = Group(child.id().and_then(|pid| Pid::from_raw(pid as i32)));
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());

    let mut tail = Tail::default();
    let exit = {
        let pipes = async {
            tokio::join!(
                feed(stdin, &job.stdin),
                drain(stdout),
                collect(stderr, &mut tail)
            );
        };
        tokio::pin!(pipes);
        let mut pipes_done = false;
        let waited = {
            let waited = tokio::time::timeout(job.timeout, child.wait());
            tokio::pin!(waited);
            loop {
                tokio::select! {
                    waited = &mut waited => break waited,
                    () = &mut pipes, if !pipes_done => pipes_done = true,
                }
            }
        };
        group.kill();
        let exit = match waited {
            Ok(Ok(status)) => exit_of(status),
            Ok(Err(e)) => Exit::NotStarted(format!("{program}: waiting for it failed: {e}")),
            Err(_elapsed) => {
                // Killed with its group (and on its own, should that have failed): reap it.
                let _already_dead = child.start_kill();
                if let Err(e) = child.wait().await {
                    tracing::warn!(program, error = %e, "reaping a timed-out command failed");
                }
                Exit::TimedOut
            }
        };
        if !pipes_done && tokio::time::timeout(PIPE_GRACE, &mut pipes).await.is_err() {
            tracing::debug!(program, "a process outside the group still holds the pipes");
        }
        exit
    };
    Ran {
        exit,
        duration: started.elapsed(),
        stderr_tail: tail.into_string(),
    }
}

/// Spawns `command` from a short-lived thread whose niceness is the caller's plus `nice`.
/// On Linux the nice value belongs to a thread and a new process inherits the one of the
/// thread that forked it, so the command is niced from its first instruction (no race with
/// what it forks, no `pre_exec`, which the workspace's `forbid(unsafe_code)` rules out) and
/// the daemon's own threads keep theirs.
fn spawn_niced(command: &mut Command, nice: i32) -> io::Result<Child> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    std::thread::scope(|scope| {
        let spawner = std::thread::Builder::new()
            .name("sheafd-spawn".to_owned())
            .spawn_scoped(scope, move || {
                // tokio registers the child with the runtime's reaper.
                let _entered = runtime.enter();
                renice_this_thread(nice);
                command.spawn()
            })?;
        spawner
            .join()
            .map_err(|_| io::Error::other("the thread spawning the command panicked"))?
    })
}

/// Adds `nice` to the calling thread's niceness. Lowering it needs a privilege the daemon
/// usually lacks: then the command runs at the daemon's niceness, with a warning.
fn renice_this_thread(nice: i32) {
    let base = getpriority_process(None).unwrap_or(0);
    let target = base.saturating_add(nice).clamp(-20, 19);
    if target != base
        && let Err(e) = setpriority_process(None, target)
    {
        tracing::warn!(nice, error = %e, "the command runs at the daemon's niceness");
    }
}

/// The command's process group, killed (SIGKILL) once: explicitly, or when dropped.
#[derive(Debug)]
struct Group(Option<Pid>);

impl Group {
    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            match kill_process_group(pgid, Signal::KILL) {
                Ok(()) | Err(rustix::io::Errno::SRCH) => {}
                Err(e) => {
                    let pgid = pgid.as_raw_nonzero();
                    tracing::warn!(pgid, error = %e, "killing a command's group failed");
                }
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes the event and closes stdin; a command that does not read it (EPIPE) is fine.
async fn feed(stdin: Option<ChildStdin>, bytes: &[u8]) {
    if let Some(mut stdin) = stdin {
        let _ignored = stdin.write_all(bytes).await;
    }
}

/// Reads stdout to its end, keeping nothing, so the command never blocks on a full pipe.
async fn drain(stdout: Option<impl AsyncRead + Unpin>) {
    if let Some(mut stdout) = stdout {
        let _ignored = tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await;
    }
}

/// Reads stderr to its end into `tail`.
async fn collect(stderr: Option<impl AsyncRead + Unpin>, tail: &mut Tail) {
    let Some(mut stderr) = stderr else { return };
    let mut chunk = vec![0; 8192];
    while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
        tail.push(&chunk[..n]);
    }
}

fn exit_of(status: ExitStatus) -> Exit {
    // A wait reports an exit or a signal; nothing else reaches here.
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    }
}

/// The last [`STDERR_TAIL`] bytes of a stream; memory stays bounded by it plus one chunk.
#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    cut: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        let excess = self.bytes.len().saturating_sub(STDERR_TAIL);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.cut = true;
        }
    }

    /// Lossy UTF-8; after a cut, the continuation bytes of a split character are dropped.
    fn into_string(self) -> String {
        let skip = if self.cut {
            self.bytes
                .iter()
                .take(3)
                .take_while(|b| **b & 0xC0 == 0x80)
                .count()
        } else {
            0
        };
        String::from_utf8_lossy(&self.bytes[skip..]).into_owned()
    }
}

#[cfg(test)]
mod tests;
