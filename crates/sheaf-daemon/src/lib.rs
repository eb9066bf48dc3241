//! `sheafd`: serves sheaf's JSON API over a Unix socket (and, when configured, TCP with API
//! keys), on the redb store. It owns the socket's lifecycle and access control, wires
//! requests to `sheaf-store` (which plans with `sheaf-core`), streams the change feed, and
//! shuts down gracefully: stop accepting, finish in-flight requests, end event streams,
//! close the store, remove the socket.
//!
//! `run` is the whole daemon, so tests boot it in-process on a temporary socket. No
//! terminal UI and no HTTP client live here.

mod access;
mod api;
pub mod config;
mod socket;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use config::{Config, ConfigError};
use sheaf_store::{Options, Store, StoreError};
use tokio::sync::watch;

use crate::access::{Limiter, Peer};

/// Why the daemon could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A daemon already answers on the socket.
    #[error("sheafd is already running on {socket}")]
    AlreadyRunning {
        /// The socket.
        socket: PathBuf,
    },
    /// Something that is not a socket sits at the socket path.
    #[error("{path} exists and is not a socket; move it away or choose another --socket")]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The database is in use by another daemon.
    #[error("the database {path} is in use by another sheafd")]
    DatabaseInUse {
        /// The database.
        path: PathBuf,
    },
    /// A filesystem or network call failed.
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
    /// The store failed to open.
    #[error("the store could not be opened")]
    Store(#[source] StoreError),
}

/// Runs the daemon until `shutdown` completes: opens the store, binds the socket (and the
/// TCP listener if configured), serves, then drains and cleans up.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    // Refuse early, before touching the database, if a daemon already answers here.
    socket::clear_stale(&config.socket)?;
    if let Some(dir) = config.database.parent() {
        std::fs::create_dir_all(dir).map_err(|source| DaemonError::Io {
            path: dir.to_path_buf(),
            verb: "creating the database directory",
            source,
        })?;
    }
    let options = Options {
        cache_bytes: config.cache_bytes,
        limits: config.limits,
        feed_retention: config.feed_retention,
        op_retention: config.op_retention,
        ..Options::default()
    };
    let db_path = config.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db_path, options))
        .await
        .map_err(|_| DaemonError::Store(StoreError::BadCursor("store open task panicked".into())))?
        .map_err(|e| match e {
            StoreError::AlreadyOpen { path } => DaemonError::DatabaseInUse { path },
            other => DaemonError::Store(other),
        })?;
    let store = Arc::new(store);
    let last_seq = store.last_seq().map_err(DaemonError::Store)?;

    // Read-only uids must be able to reach the socket; everyone else is still refused by
    // SO_PEERCRED. Without them the socket is the owner's alone.
    let (dir_mode, socket_mode) = if config.read_only_uids.is_empty() {
        (0o700, 0o600)
    } else {
        (0o711, 0o666)
    };
    let (listener, guard) = socket::bind(&config.socket, dir_mode, socket_mode)?;
    let tcp = match &config.tcp {
        Some(t) => Some(
            tokio::net::TcpListener::bind(t.listen)
                .await
                .map_err(|source| DaemonError::Io {
                    path: PathBuf::from(t.listen.to_string()),
                    verb: "binding the TCP listener",
                    source,
                })?,
        ),
        None => None,
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let (seq_tx, _) = watch::channel(last_seq);
    let config = Arc::new(config);
    let state = api::AppState {
        store: Arc::clone(&store),
        config: Arc::clone(&config),
        started: Instant::now(),
        own_uid: rustix::process::geteuid().as_raw(),
        limiter: Arc::new(Limiter::new(config.rate_limit)),
        seq: seq_tx,
        stopping: stop_rx.clone(),
        openapi: Arc::new(serde_json::to_value(sheaf_proto::document()).unwrap_or_default()),
    };
    let app = api::router(state);
    tracing::info!(socket = %config.socket.display(), database = %config.database.display(), "sheafd listening");

    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let unix = axum::serve(
        listener,
        app.clone().into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let tcp_task = tcp.map(|l| {
        let app = app.clone();
        let rx = stop_rx.clone();
        tokio::spawn(async move {
            axum::serve(l, app.into_make_service_with_connect_info::<Peer>())
                .with_graceful_shutdown(stopped(rx))
                .await
        })
    });
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = stop_tx.send(true);
    });
    let served = unix.await;
    if let Some(t) = tcp_task {
        let _ = t.await;
    }
    drop(guard);
    served.map_err(|source| DaemonError::Io {
        path: config.socket.clone(),
        verb: "serving",
        source,
    })?;
    // The last handle closes the database; in-flight writes have all committed by now.
    drop(store);
    tracing::info!("sheafd stopped");
    Ok(())
}
