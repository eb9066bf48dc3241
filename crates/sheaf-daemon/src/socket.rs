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
