//! A typed async client of `sheafd`'s JSON API over its Unix socket: one method per route
//! constant of `sheaf_proto::routes`, answering its `sheaf-proto` type, and an [`Error`] that
//! carries the API's error envelope so callers branch on its code. [`Client::connect`]
//! checks `/v1/health` and the API version, and starts `sheafd` in the background when
//! nothing answers on the socket (unless `SHEAF_NO_AUTOSTART=1`).
//!
//! reqwest and tokio only: no HTTP server (axum), no database (redb), no terminal. The CLI
//! and the TUI talk to the daemon through this crate alone.

mod autostart;
mod collections;
mod entries;
mod error;
mod events;
mod items;
mod misc;
mod paths;
mod rules;
mod transport;
mod watches;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sheaf_proto::responses::{Health, HealthLimits};
use sheaf_proto::routes;

pub use crate::error::Error;
pub use crate::events::EventStream;
pub use crate::paths::{autostart_log, default_socket, find_sheafd};
use crate::transport::{Conn, is_absent, probe};
pub use crate::watches::AddedWatch;

/// The environment variable that turns autostart off when set to `1`.
pub const NO_AUTOSTART_ENV: &str = "SHEAF_NO_AUTOSTART";

/// How to reach the daemon.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The socket; `None`: [`default_socket`].
    pub socket: Option<PathBuf>,
    /// Passed to an autostarted sheafd as `--database`.
    pub database: Option<PathBuf>,
    /// Passed to an autostarted sheafd as `--config`.
    pub config: Option<PathBuf>,
    /// Start sheafd when nothing answers. Default: on, unless `SHEAF_NO_AUTOSTART=1`.
    pub autostart: bool,
    /// The sheafd binary to start; `None`: [`find_sheafd`].
    pub sheafd: Option<PathBuf>,
    /// How long the health check at connect may take (default 2 s).
    pub health_timeout: Duration,
    /// How long any other request may take, body included (default 30 s). The event
    /// stream only waits this long for its headers.
    pub request_timeout: Duration,
    /// How long an autostarted sheafd has to answer (default 5 s).
    pub autostart_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            socket: None,
            database: None,
            config: None,
            autostart: std::env::var_os(NO_AUTOSTART_ENV).is_none_or(|v| v != "1"),
            sheafd: None,
            health_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            autostart_timeout: Duration::from_secs(5),
        }
    }
}

/// A connection to a daemon that answered `/v1/health` with this client's API version.
#[derive(Clone, Debug)]
pub struct Client {
    conn: Conn,
    request_timeout: Duration,
    health: Health,
    autostarted: bool,
}

impl Client {
    /// Finds the daemon (starting it if allowed and nothing answers), checks its health
    /// and API version.
    pub async fn connect(options: ConnectOptions) -> Result<Self, Error> {
        let socket = options.socket.clone().unwrap_or_else(default_socket);
        let conn = Conn::new(socket)?;
        let mut autostarted = false;
        if let Err(reason) = probe(&conn.socket).await {
            if !is_absent(&reason) {
                return Err(Error::Io {
                    path: conn.socket,
                    verb: "connecting to the daemon's socket",
                    source: reason,
                });
            }
            if !options.autostart {
                return Err(Error::NotRunning {
                    socket: conn.socket,
                    reason,
                });
            }
            autostart::start(&options, &conn).await?;
            autostarted = true;
        }
        let health = checked_health(&conn, options.health_timeout).await?;
        Ok(Self {
            conn,
            request_timeout: options.request_timeout,
            health,
            autostarted,
        })
    }

    /// The socket path this client talks to: [`ConnectOptions::socket`], or [`default_socket`] when
    /// that was `None`.
    #[must_use]
    pub fn socket(&self) -> &Path {
        &self.conn.socket
    }

    /// The health the daemon reported when this client connected.
    #[must_use]
    pub fn connected_health(&self) -> &Health {
        &self.health
    }

    /// The daemon's request bounds (as of connecting), e.g. `max_batch` to split input.
    #[must_use]
    pub fn limits(&self) -> HealthLimits {
        self.health.limits
    }

    /// Whether connecting started the daemon.
    #[must_use]
    pub fn autostarted(&self) -> bool {
        self.autostarted
    }
}

/// Health, checked: the API version is read before the rest of the body, so that a daemon
/// of another version is named as such even if its health looks different.
async fn checked_health(conn: &Conn, timeout: Duration) -> Result<Health, Error> {
    let route = &routes::HEALTH.route;
    let value: serde_json::Value = conn.call(route, conn.request(route, &[]), timeout).await?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned()
    };
    let api_version = field("api_version");
    if api_version != sheaf_proto::API_VERSION {
        return Err(Error::VersionMismatch {
            client: sheaf_proto::API_VERSION.to_owned(),
            daemon: api_version,
            daemon_version: field("version"),
            socket: conn.socket.clone(),
        });
    }
    serde_json::from_value(value).map_err(|e| Error::Decode {
        what: route.to_string(),
        status: 200,
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use super::*;

    #[tokio::test]
    async fn with_autostart_off_a_missing_socket_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("none.sock");
        let err = Client::connect(ConnectOptions {
            socket: Some(socket.clone()),
            autostart: false,
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        match &err {
            Error::NotRunning { socket: s, reason } => {
                assert_eq!(s, &socket);
                assert_eq!(reason.kind(), ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_unreachable());
    }

    #[tokio::test]
    async fn a_stale_socket_with_nobody_accepting_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        let err = Client::connect(ConnectOptions {
            socket: Some(socket),
            autostart: false,
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::NotRunning { reason, .. } if reason.kind() == ErrorKind::ConnectionRefused),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn autostart_without_a_sheafd_binary_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::connect(ConnectOptions {
            socket: Some(dir.path().join("s.sock")),
            autostart: true,
            sheafd: Some(dir.path().join("no-such-sheafd")),
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Autostart { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-sheafd"), "{err}");
    }

    #[tokio::test]
    async fn autostart_of_a_sheafd_that_exits_reports_its_stderr() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sheafd");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"sheafd: cannot open the store\" >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = dir.path().join("run/s.sock");
        let err = Client::connect(ConnectOptions {
            socket: Some(socket),
            autostart: true,
            sheafd: Some(fake),
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        let Error::Autostart {
            log, stderr_tail, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            log.as_deref(),
            Some(dir.path().join("run/sheafd.log").as_path())
        );
        assert_eq!(stderr_tail, "sheafd: cannot open the store");
        assert!(
            err.to_string().contains("exited with exit status: 1"),
            "{err}"
        );
    }
}
