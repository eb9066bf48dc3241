//! Starting `sheafd` when nothing answers on the socket: in the background, in its own
//! process group, stdin closed, stderr appended to `sheafd.log` next to the socket; then
//! waiting until `/v1/health` answers.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sheaf_proto::routes;

use crate::transport::{Conn, probe};
use crate::{ConnectOptions, Error, paths};

const POLL: Duration = Duration::from_millis(20);
const TAIL_LINES: usize = 20;

/// Starts sheafd on `socket` and returns once it answers `/v1/health` (with any answer:
/// the caller checks what it says).
pub(crate) async fn start(options: &ConnectOptions, conn: &Conn) -> Result<(), Error> {
    let socket = conn.socket.as_path();
    let exe = options
        .sheafd
        .clone()
        .or_else(paths::find_sheafd)
        .ok_or_else(|| Error::Autostart {
            reason: "no sheafd binary next to this program nor on PATH".to_owned(),
            log: None,
            stderr_tail: String::new(),
        })?;
    let log_path = paths::autostart_log(socket);
    if let Some(dir) = log_path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                verb: "creating the socket directory",
                source,
            })?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|source| Error::Io {
            path: log_path.clone(),
            verb: "opening the daemon's log",
            source,
        })?;
    let from = log.metadata().map_or(0, |m| m.len());

    let mut cmd = std::process::Command::new(&exe);
    // Always name the socket: it is where this client will look for the daemon.
    cmd.arg("--socket").arg(socket);
    if let Some(db) = &options.database {
        cmd.arg("--database").arg(db);
    }
    if let Some(config) = &options.config {
        cmd.arg("--config").arg(config);
    }
    cmd.env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| Error::Autostart {
        reason: format!("cannot run {}: {e}", exe.display()),
        log: Some(log_path.clone()),
        stderr_tail: String::new(),
    })?;

    let failed = |reason: String| Error::Autostart {
        reason,
        stderr_tail: tail(&log_path, from),
        log: Some(log_path.clone()),
    };
    let deadline = Instant::now() + options.autostart_timeout;
    loop {
        tokio::time::sleep(POLL).await;
        if answers(conn).await {
            reap(child);
            return Ok(());
        }
        match child.try_wait() {
            // A daemon that lost a start race to another exits at once; the winner answers.
            Ok(Some(status)) if !answers(conn).await => {
                return Err(failed(format!(
                    "{} exited with {status} before answering on {}",
                    exe.display(),
                    socket.display()
                )));
            }
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(e) => return Err(failed(format!("cannot watch the started sheafd: {e}"))),
        }
        if Instant::now() >= deadline {
            let pid = child.id();
            reap(child);
            return Err(failed(format!(
                "the started sheafd (pid {pid}) did not answer on {} within {} ms",
                socket.display(),
                options.autostart_timeout.as_millis()
            )));
        }
    }
}

/// Whether anything answers `/v1/health` over HTTP yet.
async fn answers(conn: &Conn) -> bool {
    if probe(&conn.socket).await.is_err() {
        return false;
    }
    match conn
        .call::<serde_json::Value>(
            &routes::HEALTH.route,
            conn.request(&routes::HEALTH.route, &[]),
            Duration::from_secs(1),
        )
        .await
    {
        Ok(_) | Err(Error::Api { .. } | Error::Decode { .. }) => true,
        Err(_) => false,
    }
}

/// Collects the daemon's exit status whenever it ends, so that a long-lived client does
/// not keep a zombie; a short-lived one simply exits and the daemon is re-parented.
fn reap(mut child: Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

/// The last lines written to the log since `from`.
fn tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|mut f| {
        f.seek(SeekFrom::Start(from))?;
        f.take(1 << 20).read_to_string(&mut text)
    });
    if read.is_err() {
        return String::new();
    }
    last_lines(&text, TAIL_LINES)
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_non_blank_lines() {
        let text = "a\n\nb\nc\n";
        assert_eq!(last_lines(text, 2), "b\nc");
        assert_eq!(last_lines(text, 10), "a\nb\nc");
        assert_eq!(last_lines("", 3), "");
    }

    #[test]
    fn the_tail_starts_where_this_start_began_writing() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sheafd.log");
        std::fs::write(&log, "old run\n").unwrap();
        let from = std::fs::metadata(&log).unwrap().len();
        std::fs::write(&log, "old run\nsheafd: the database is in use\n").unwrap();
        assert_eq!(tail(&log, from), "sheafd: the database is in use");
    }
}
