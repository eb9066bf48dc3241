//! `sheafd`: serves sheaf's JSON API over a Unix socket (and, when configured, TCP with API
//! keys), on the redb store. It owns the socket's lifecycle and access control, wires
//! requests to `sheaf-store` (which plans with `sheaf-core`), streams the change feed, and
//! shuts down gracefully: stop accepting, finish in-flight requests, end event streams,
//! close the store, remove the socket.
//!
//! `run` is the whole daemon, so tests boot it in-process on a temporary socket. No
//! terminal UI lives here, and the only HTTP client is the one rules' webhooks post with.

mod access;
mod api;
pub mod config;
mod connections;
mod fill;
mod folders;
mod relocate;
mod rules;
mod service;
mod socket;
mod writer;

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use config::{Config, ConfigError};
pub use service::passed_listener;
use sheaf_store::{OpenError, Options, Store, StoreError};
use tokio::sync::watch;

use crate::access::Limiter;

/// How long a shutdown waits for open connections to finish their requests.
pub const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a locked database is waited for before it is "in use": a daemon killed while
/// it was starting a rule's program leaves that program holding the daemon's descriptors,
/// the database's lock among them, until its `execve` completes (tens of milliseconds).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// [`Store::open`], trying again while the database is locked, for [`LOCK_WAIT`] at most.
fn open_waiting(path: &std::path::Path, options: &Options) -> Result<Store, OpenError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match Store::open(path, options.clone()) {
            Err(OpenError::AlreadyOpen { .. }) if Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => return opened,
        }
    }
}

/// Re-reads the config file on SIGHUP and puts the settings that can change live into
/// force (read-only uids, the rate limit, API keys); an invalid file is reported and the
/// running config stays. Settings that need a restart are named in the log.
fn reload_config(
    fixed: &Config,
    access: &std::sync::RwLock<api::Access>,
) -> Result<Arc<Config>, ConfigError> {
    let fresh = match Config::load(
        fixed.source.as_deref(),
        Some(fixed.socket.clone()),
        Some(fixed.database.clone()),
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "SIGHUP: the config is invalid; the running config stays");
            return Err(e);
        }
    };
    let mut needs_restart = Vec::new();
    if fresh.limits != fixed.limits {
        needs_restart.push("max_batch/max_select");
    }
    if fresh.max_body_bytes != fixed.max_body_bytes {
        needs_restart.push("max_body_bytes");
    }
    if fresh.cache_bytes != fixed.cache_bytes {
        needs_restart.push("cache_mb");
    }
    if fresh.feed_retention != fixed.feed_retention || fresh.op_retention != fixed.op_retention {
        needs_restart.push("feed_retention/op_retention");
    }
    if fresh.tcp.as_ref().map(|t| t.listen) != fixed.tcp.as_ref().map(|t| t.listen) {
        needs_restart.push("tcp.listen");
    }
    if fresh.settle != fixed.settle || fresh.fallback_poll_ms != fixed.fallback_poll_ms {
        needs_restart.push("settle_ms/fallback_poll");
    }
    if !needs_restart.is_empty() {
        tracing::warn!(settings = ?needs_restart, "SIGHUP: these settings take effect at the next start");
    }
    let mut slot = access
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let limiter = if fresh.rate_limit == slot.config.rate_limit {
        Arc::clone(&slot.limiter)
    } else {
        Arc::new(Limiter::new(fresh.rate_limit))
    };
    let fresh = Arc::new(fresh);
    *slot = api::Access {
        config: Arc::clone(&fresh),
        limiter,
    };
    tracing::info!("SIGHUP: config reloaded (read-only uids, rate limit, API keys, watches)");
    Ok(fresh)
}

/// Why the daemon could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A daemon already answers on the socket.
    #[error("sheafd is already running on {socket}")]
    AlreadyRunning {
        /// The socket path, where a probe connection was accepted.
        socket: PathBuf,
    },
    /// Something that is not a socket sits at the socket path.
    #[error("{path} exists and is not a socket; move it away or choose another --socket")]
    NotASocket {
        /// The socket path sheafd was asked to listen on, which holds something else.
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
    Open(#[source] OpenError),
    /// The store failed while the daemon started.
    #[error("the store failed while the daemon started")]
    Store(#[source] StoreError),
    /// A start-up task on the blocking pool panicked.
    #[error("the {task} task panicked; the log has its message")]
    TaskPanicked {
        /// Which task.
        task: &'static str,
    },
}

/// Runs the daemon until `shutdown` completes: opens the store, binds the socket (and the
/// TCP listener if configured), serves, then drains (for at most [`DRAIN_DEADLINE`]) and
/// cleans up. Each message on `reload` re-reads the config file (SIGHUP in `sheafd`).
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload: tokio::sync::mpsc::Receiver<()>,
) -> Result<(), DaemonError> {
    serve(config, shutdown, reload, None).await
}

/// [`run`], serving on `passed` when systemd passed a listening socket ([`passed_listener`])
/// instead of binding one. Under systemd (`NOTIFY_SOCKET`) it says `READY=1` once the
/// store is open and the socket answers, keeps `STATUS=` current while watches scan,
/// pings the watchdog when `WATCHDOG_USEC` asks for it, and says `STOPPING=1` on shutdown.
/// `shutdown` is first polled after `READY=1`: whatever it waits for (a signal) must be
/// listened for already when it is passed in, or what comes in between is missed.
pub async fn serve(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut reload: tokio::sync::mpsc::Receiver<()>,
    passed: Option<std::os::unix::net::UnixListener>,
) -> Result<(), DaemonError> {
    let notifier = service::Notifier::from_env().map(Arc::new);
    let begun = Instant::now();
    if let Some(path) = passed
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .and_then(|a| a.as_pathname().map(std::path::Path::to_path_buf))
    {
        config.socket = path;
    }
    // Refuse early, before touching the database, if a daemon already answers here. A
    // passed socket is systemd's own and answers by design.
    if passed.is_none() {
        socket::clear_stale(&config.socket)?;
    }
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
        home: std::env::home_dir().and_then(|h| h.to_str().map(str::to_owned)),
        ..Options::default()
    };
    let db_path = config.database.clone();
    let store = tokio::task::spawn_blocking(move || open_waiting(&db_path, &options))
        .await
        .map_err(|_| DaemonError::TaskPanicked { task: "store open" })?
        .map_err(|e| match e {
            OpenError::AlreadyOpen { path } => DaemonError::DatabaseInUse { path },
            other => DaemonError::Open(other),
        })?;
    let store = Arc::new(store);
    let store_ms = begun.elapsed().as_millis() as u64;
    let last_seq = store.last_seq().map_err(DaemonError::Store)?;

    // Read-only uids must be able to reach the socket; everyone else is still refused by
    // SO_PEERCRED. Without them the socket is the owner's alone.
    let (dir_mode, socket_mode) = if config.read_only_uids.is_empty() {
        (0o700, 0o600)
    } else {
        (0o711, 0o666)
    };
    let (listener, guard) = if let Some(l) = passed {
        (socket::adopt(l, &config.socket)?, None)
    } else {
        let (l, g) = socket::bind(&config.socket, dir_mode, socket_mode)?;
        (l, Some(g))
    };
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
    let writer = Arc::new(writer::Writer::new(Arc::clone(&store), last_seq));
    let config = Arc::new(config);
    let folder_store = Arc::clone(&store);
    let folder_writer = Arc::clone(&writer);
    let folder_config = Arc::clone(&config);
    // Starting the watches reads and writes the store (config watches): off the runtime.
    let folders = tokio::task::spawn_blocking(move || {
        folders::Folders::start(folder_store, folder_writer, &folder_config)
    })
    .await
    .map_err(|_| DaemonError::TaskPanicked {
        task: "watch start",
    })?;
    let folders = Arc::new(folders);
    let watches_ms = begun.elapsed().as_millis() as u64 - store_ms;
    tokio::spawn(fill::run(
        Arc::clone(&writer),
        writer.fill_wake(),
        stop_rx.clone(),
    ));
    let rule_writer = Arc::clone(&writer);
    let rule_specs = config.rules.clone();
    tokio::task::spawn_blocking(move || rules::engine::sync_config(&rule_writer, &rule_specs))
        .await
        .map_err(|_| DaemonError::TaskPanicked { task: "rule sync" })?;
    let engine = Arc::new(rules::engine::Engine::new(
        Arc::clone(&writer),
        store.options().home.clone(),
        config.max_jobs,
    ));
    let rule_wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(rules::engine::run(
        engine,
        Arc::clone(&rule_wake),
        stop_rx.clone(),
    ));
    let state = api::AppState::new(api::Shared {
        store: Arc::clone(&store),
        config: Arc::clone(&config),
        started: Instant::now(),
        own_uid: rustix::process::geteuid().as_raw(),
        access: Arc::new(std::sync::RwLock::new(api::Access {
            config: Arc::clone(&config),
            limiter: Arc::new(Limiter::new(config.rate_limit)),
        })),
        writer,
        stopping: stop_rx.clone(),
        openapi: Arc::new(serde_json::to_value(sheaf_proto::document()).unwrap_or_default()),
        folders: Arc::clone(&folders),
        rule_wake,
    });
    let access = Arc::clone(&state.access);
    let progress_folders = Arc::clone(&folders);
    let app = api::router(state);
    tracing::info!(
        socket = %config.socket.display(),
        database = %config.database.display(),
        store_ms,
        watches_ms,
        ready_ms = begun.elapsed().as_millis() as u64,
        "sheafd listening"
    );

    // Served with header and body read timeouts (see `connections`).
    let unix = connections::serve(listener, app.clone(), stop_rx.clone());
    let tcp_task = tcp.map(|l| tokio::spawn(connections::serve(l, app.clone(), stop_rx.clone())));
    // The listener is bound and the router built: connections made from now on are
    // answered, while the watches' start-up scans go on in their own threads.
    let mut service_tasks = Vec::new();
    if let Some(n) = &notifier {
        n.send("READY=1\nSTATUS=serving; starting the folder watches");
        service_tasks.push(tokio::spawn(service::progress(
            Arc::clone(n),
            progress_folders,
            Arc::clone(&store),
        )));
        if let Some(interval) = service::watchdog_interval() {
            tracing::info!(?interval, "systemd watchdog: pinging at half the interval");
            service_tasks.push(tokio::spawn(service::watchdog(Arc::clone(n), interval)));
        }
    }
    let stopping_notifier = notifier.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        if let Some(n) = &stopping_notifier {
            n.send("STOPPING=1\nSTATUS=stopping: draining requests");
        }
        let _ = stop_tx.send(true);
    });
    let fixed = Arc::clone(&config);
    let reloaded_folders = Arc::clone(&folders);
    tokio::spawn(async move {
        while reload.recv().await.is_some() {
            if let Some(n) = &notifier {
                n.reloading();
            }
            match reload_config(&fixed, &access) {
                Ok(fresh) => {
                    let folders = Arc::clone(&reloaded_folders);
                    let _ = tokio::task::spawn_blocking(move || folders.reload(&fresh)).await;
                    if let Some(n) = &notifier {
                        n.send("READY=1\nSTATUS=config reloaded");
                    }
                }
                Err(e) => {
                    if let Some(n) = &notifier {
                        n.send("READY=1");
                        n.status(&format!("reload refused, the previous config stays: {e}"));
                    }
                }
            }
        }
    });
    // Graceful shutdown waits for open connections; a client that never finishes its
    // request must not hold the daemon forever, so the drain has a deadline.
    let unix = unix.into_future();
    tokio::pin!(unix);
    let mut stopping = stop_rx.clone();
    let served = tokio::select! {
        served = &mut unix => served,
        () = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(DRAIN_DEADLINE).await;
        } => {
            tracing::warn!(deadline = ?DRAIN_DEADLINE, "connections still open at the drain deadline; closing them");
            Ok(())
        }
    };
    if let Some(t) = tcp_task {
        let _ = t.await;
    }
    for task in service_tasks {
        task.abort();
    }
    drop(guard);
    served.map_err(|source| DaemonError::Io {
        path: config.socket.clone(),
        verb: "serving",
        source,
    })?;
    // The watches stop and the committer commits what it holds, then the last handle
    // closes the database; in-flight writes have all committed by now.
    let _ = tokio::task::spawn_blocking(move || folders.shutdown()).await;
    drop(store);
    tracing::info!("sheafd stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_whose_lock_is_let_go_within_the_wait_is_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sheaf.redb");
        let holder = Store::open(&path, Options::default()).expect("open");
        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(holder);
        });
        open_waiting(&path, &Options::default()).expect("opened once the lock is let go");
        letting_go.join().expect("join");
    }

    #[test]
    fn a_database_locked_for_longer_than_the_wait_is_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sheaf.redb");
        let _holder = Store::open(&path, Options::default()).expect("open");
        assert!(matches!(
            open_waiting(&path, &Options::default()),
            Err(OpenError::AlreadyOpen { .. })
        ));
    }
}
