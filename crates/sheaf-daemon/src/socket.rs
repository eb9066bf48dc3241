//! The Unix socket's lifecycle: a private directory, a probe that never displaces a live
//! daemon, removal of a stale socket, permissions set before the first client can connect,
//! and removal on exit.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::DaemonError;

fn io(path: &Path, verb: &'static str) -> impl FnOnce(std::io::Error) -> DaemonError {
    let path = path.to_path_buf();
    move |source| DaemonError::Io { path, verb, source }
}

/// Makes sure nothing else answers on `path`, then removes a stale socket there.
pub(crate) fn clear_stale(path: &Path) -> Result<(), DaemonError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path, "inspecting the socket path")(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(DaemonError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(probe) if listener_gone(&probe) => {
            tracing::info!(socket = %path.display(), "removing a stale socket (its daemon is gone; another process still holds it)");
            std::fs::remove_file(path).map_err(io(path, "removing the stale socket"))
        }
        Ok(_) => Err(DaemonError::AlreadyRunning {
            socket: path.to_path_buf(),
        }),
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) => {
            tracing::info!(socket = %path.display(), "removing a stale socket");
            std::fs::remove_file(path).map_err(io(path, "removing the stale socket"))
        }
        Err(e) => Err(io(path, "probing the socket")(e)),
    }
}

/// Whether the process that listens behind `probe` no longer exists (its peer credentials
/// name the process that called `listen`; one in another pid namespace is taken as alive).
/// A connect can succeed after a daemon died: a program it was starting (a rule's, inside
/// its `execve`) holds the daemon's descriptors until its close-on-exec completes — tens
/// of milliseconds on a loaded machine. Called on the runtime.
fn listener_gone(probe: &std::os::unix::net::UnixStream) -> bool {
    let pid = probe
        .try_clone()
        .and_then(|probe| {
            probe.set_nonblocking(true)?;
            tokio::net::UnixStream::from_std(probe)
        })
        .and_then(|s| s.peer_cred())
        .ok()
        .and_then(|cred| cred.pid())
        .and_then(rustix::process::Pid::from_raw);
    pid.is_some_and(|pid| rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH))
}

/// Binds the socket with the given modes: the directory (created if missing) gets
/// `dir_mode` when it is ours and not a shared sticky directory like `/tmp`; the socket
/// gets `socket_mode` before the listener is handed to the server.
pub(crate) fn bind(
    path: &Path,
    dir_mode: u32,
    socket_mode: u32,
) -> Result<(tokio::net::UnixListener, SocketGuard), DaemonError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir, "creating the socket directory"))?;
    let meta = std::fs::metadata(dir).map_err(io(dir, "inspecting the socket directory"))?;
    let ours = meta.uid() == rustix::process::geteuid().as_raw();
    let sticky = meta.mode() & 0o1000 != 0;
    if ours && !sticky {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode))
            .map_err(io(dir, "setting the socket directory's mode"))?;
    }
    clear_stale(path)?;
    let listener =
        std::os::unix::net::UnixListener::bind(path).map_err(io(path, "binding the socket"))?;
    let guard = SocketGuard {
        path: path.to_path_buf(),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(socket_mode))
        .map_err(io(path, "setting the socket's mode"))?;
    listener
        .set_nonblocking(true)
        .map_err(io(path, "configuring the socket"))?;
    let listener =
        tokio::net::UnixListener::from_std(listener).map_err(io(path, "registering the socket"))?;
    Ok((listener, guard))
}

/// Serves on a listening socket systemd passed (socket activation). Its file, mode and
/// directory are the socket unit's: nothing is probed, changed or removed.
pub(crate) fn adopt(
    listener: std::os::unix::net::UnixListener,
    path: &Path,
) -> Result<tokio::net::UnixListener, DaemonError> {
    listener
        .set_nonblocking(true)
        .map_err(io(path, "configuring the passed socket"))?;
    tokio::net::UnixListener::from_std(listener).map_err(io(path, "registering the passed socket"))
}

/// Removes the socket file when the daemon stops.
#[derive(Debug)]
pub(crate) struct SocketGuard {
    path: PathBuf,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != ErrorKind::NotFound
        {
            tracing::warn!(socket = %self.path.display(), error = %e, "could not remove the socket");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[tokio::test]
    async fn a_socket_this_process_listens_on_is_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        assert!(matches!(
            clear_stale(&path),
            Err(DaemonError::AlreadyRunning { .. })
        ));
        assert!(path.exists());
    }

    /// Python binds and listens, hands the socket to `sleep` (its output elsewhere, so that
    /// this test reads python's to the end) and exits: the socket still takes connections,
    /// but the process that listened is gone.
    #[tokio::test]
    async fn a_socket_whose_listening_process_died_is_stale_while_another_process_holds_it() {
        const HAND_OVER: &str = "import socket, subprocess, sys\n\
            s = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen()\n\
            quiet = subprocess.DEVNULL\n\
            print(subprocess.Popen(['sleep', '60'], pass_fds=[s.fileno()], stdin=quiet,\n\
                                   stdout=quiet, stderr=quiet).pid)\n";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sock");
        let Ok(out) = Command::new("python3")
            .args(["-c", HAND_OVER])
            .arg(&path)
            .output()
        else {
            eprintln!("SKIPPED: no python3");
            return;
        };
        assert!(out.status.success(), "{out:?}");
        let holder = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<i32>()
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("the holder's pid");
        assert!(
            std::os::unix::net::UnixStream::connect(&path).is_ok(),
            "the held socket takes connections"
        );
        let cleared = clear_stale(&path);
        rustix::process::kill_process(holder, rustix::process::Signal::KILL).expect("kill");
        cleared.expect("stale");
        assert!(!path.exists());
    }
}
