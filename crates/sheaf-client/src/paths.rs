//! Where things are: the default socket (the same rule as sheafd's) and the `sheafd`
//! binary to autostart.

use std::path::{Path, PathBuf};

/// The socket this user's daemon listens on by default ([`sheaf_proto::places::socket_file`],
/// the daemon's own rule, so that both meet without configuration).
#[must_use]
pub fn default_socket() -> PathBuf {
    sheaf_proto::places::socket_file(rustix::process::geteuid().as_raw())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `sheafd` next to the running executable (how `cargo run` and packages lay them out),
/// else the first one on `PATH`.
#[must_use]
pub fn find_sheafd() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("sheafd")))
        .filter(|p| is_executable(p));
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("sheafd"))
                .find(|p| is_executable(p))
        })
    })
}

/// The log an autostarted daemon writes to: `sheafd.log` next to the socket.
#[must_use]
pub fn autostart_log(socket: &Path) -> PathBuf {
    socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("sheafd.log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_sits_next_to_the_socket() {
        assert_eq!(
            autostart_log(Path::new("/run/user/1/sheaf/sheafd.sock")),
            PathBuf::from("/run/user/1/sheaf/sheafd.log")
        );
        assert_eq!(
            autostart_log(Path::new("s.sock")),
            PathBuf::from("./sheafd.log")
        );
    }

    #[test]
    fn the_default_socket_is_named_sheafd_sock() {
        let s = default_socket();
        assert!(s.is_absolute(), "{}", s.display());
        assert!(s.ends_with("sheafd.sock"));
    }

    #[test]
    fn only_executable_files_count_as_sheafd() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sheafd");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!is_executable(&f));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_executable(&f));
        assert!(!is_executable(dir.path()));
    }
}
