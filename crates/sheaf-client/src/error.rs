//! What can go wrong talking to sheafd, as variants a caller can branch on.

use std::path::PathBuf;
use std::time::Duration;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The daemon answered with the API's error envelope (SPEC §2.3).
    #[error("{code}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error code, e.g. `ITEMS_NOT_FOUND`.
        code: String,
        /// The daemon's sentence.
        message: String,
        /// The offending ids (`{"missing": […]}`) or fields (`[{"loc", "msg", "type"}]`);
        /// `null` when there is nothing more to say.
        details: serde_json::Value,
        /// The request's id, as the daemon logged it.
        request_id: String,
    },
    /// Nothing listens on the socket: it is missing, or a dead daemon left it behind.
    #[error(
        "sheafd is not running on {socket} ({reason}); start it with `sheafd`, or let sheaf \
         start it by unsetting SHEAF_NO_AUTOSTART"
    )]
    NotRunning {
        /// The socket tried.
        socket: PathBuf,
        /// What connecting said (no such file, connection refused).
        #[source]
        reason: std::io::Error,
    },
    /// sheafd was started because nothing answered, but it did not come up.
    #[error("could not start sheafd: {reason}{}", tail_text(.log.as_ref(), .stderr_tail))]
    Autostart {
        /// What happened (not found, exited, did not answer in time).
        reason: String,
        /// The log its stderr went to, if it got that far.
        log: Option<PathBuf>,
        /// The last lines it wrote there during this start.
        stderr_tail: String,
    },
    /// The daemon speaks another API version than this client.
    #[error(
        "version mismatch: this client speaks sheaf API version {client}, but the sheafd \
         (version {daemon_version}) on {socket} speaks API version {daemon}; run a sheaf and a \
         sheafd from the same release (restart the daemon after upgrading)"
    )]
    VersionMismatch {
        /// `sheaf_proto::API_VERSION`.
        client: String,
        /// The daemon's `api_version`.
        daemon: String,
        /// The daemon's own version, as it reports it.
        daemon_version: String,
        /// The socket path that daemon answers on.
        socket: PathBuf,
    },
    /// The daemon accepted the connection but did not answer in time; it is reported, not
    /// waited on further.
    #[error(
        "sheafd on {socket} did not answer {what} within {}; it may be hung (its log is \
         next to the socket; restart it with SIGTERM, or SIGKILL if that does not help)",
        secs(*.after)
    )]
    Timeout {
        /// The socket path the unanswered request went to.
        socket: PathBuf,
        /// The request.
        what: String,
        /// How long the client waited.
        after: Duration,
    },
    /// No socket path could be worked out.
    #[error("no socket path: pass --socket, or set SHEAF_SOCKET or XDG_RUNTIME_DIR")]
    NoSocket,
    /// A local filesystem or socket call failed.
    #[error("I/O error at {path} while {verb}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Doing what.
        verb: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed below the API (connection reset, malformed HTTP).
    #[error("talking to sheafd on {socket} failed")]
    Transport {
        /// The socket path of the connection that failed.
        socket: PathBuf,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The daemon answered something that is not what the API promises.
    #[error(
        "sheafd answered {what} with status {status} and a body that does not decode: {problem}"
    )]
    Decode {
        /// The request.
        what: String,
        /// The HTTP status.
        status: u16,
        /// Why it does not decode, with the start of the body.
        problem: String,
    },
}

impl Error {
    /// The API error code, if the daemon answered with the envelope.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, if the daemon answered with the envelope.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the daemon could not be reached or used at all (not running, not started,
    /// another version, hung, no socket, a socket-level I/O failure).
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::NotRunning { .. }
                | Error::Autostart { .. }
                | Error::VersionMismatch { .. }
                | Error::Timeout { .. }
                | Error::NoSocket
                | Error::Io { .. }
        )
    }
}

fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn tail_text(log: Option<&PathBuf>, tail: &str) -> String {
    let tail = tail.trim_end();
    match (log, tail.is_empty()) {
        (Some(log), true) => format!(" (its log: {})", log.display()),
        (Some(log), false) => format!("; the end of its log {}:\n{tail}", log.display()),
        (None, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_mismatch_names_both_versions() {
        let e = Error::VersionMismatch {
            client: "1".into(),
            daemon: "999".into(),
            daemon_version: "9.9.9".into(),
            socket: "/s.sock".into(),
        };
        let text = e.to_string();
        assert!(text.contains("API version 1"), "{text}");
        assert!(text.contains("API version 999"), "{text}");
        assert!(e.is_unreachable());
    }

    #[test]
    fn an_autostart_failure_shows_the_log_tail() {
        let e = Error::Autostart {
            reason: "sheafd exited with exit status: 1".into(),
            log: Some("/run/sheaf/sheafd.log".into()),
            stderr_tail: "sheafd: the database is in use\n".into(),
        };
        let text = e.to_string();
        assert!(text.contains("/run/sheaf/sheafd.log"), "{text}");
        assert!(text.ends_with("the database is in use"), "{text}");
    }

    #[test]
    fn timeouts_print_whole_seconds_plainly() {
        assert_eq!(secs(Duration::from_secs(2)), "2 s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
    }
}
