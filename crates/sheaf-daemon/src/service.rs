//! Running under systemd (SPEC §6): the `sd_notify` messages (`READY=1` once the store is
//! open and the socket answers, `STATUS=` lines while watches scan, `WATCHDOG=1` at half
//! the interval systemd asks for, `RELOADING=1` around a SIGHUP, `STOPPING=1`), and the
//! listening socket systemd passes (`LISTEN_FDS`).
//!
//! Everything here is inert without systemd: no `NOTIFY_SOCKET`, no messages; no
//! `LISTEN_FDS`, the daemon binds its own socket.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::folders::{Folders, State, WatchStatus};

/// The service manager's notification socket (`NOTIFY_SOCKET`): a path, or an abstract
/// address written `@name`.
#[derive(Debug)]
pub(crate) struct Notifier {
    socket: UnixDatagram,
}

impl Notifier {
    /// Connects to `NOTIFY_SOCKET` when it is set; a socket that cannot be reached is
    /// logged and notifications are off.
    pub(crate) fn from_env() -> Option<Self> {
        let target = std::env::var_os("NOTIFY_SOCKET")?;
        match Self::connect(&target) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(socket = ?target, error = %e, "cannot reach NOTIFY_SOCKET; no service notifications");
                None
            }
        }
    }

    fn connect(target: &std::ffi::OsStr) -> std::io::Result<Self> {
        let socket = UnixDatagram::unbound()?;
        let bytes = target.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.connect_addr(&addr)?;
        } else {
            socket.connect(Path::new(target))?;
        }
        // A manager that does not read must never stall the daemon.
        socket.set_nonblocking(true)?;
        Ok(Self { socket })
    }

    /// Sends one message (`KEY=value` lines). Failures are logged, never fatal.
    pub(crate) fn send(&self, message: &str) {
        match self.socket.send(message.as_bytes()) {
            Ok(_) => tracing::debug!(message, "sd_notify"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                tracing::debug!(message, "sd_notify: the manager's queue is full; dropped");
            }
            Err(e) => tracing::warn!(message, error = %e, "sd_notify failed"),
        }
    }

    /// `STATUS=…`, on one line.
    pub(crate) fn status(&self, text: &str) {
        self.send(&format!("STATUS={}", text.replace('\n', " ")));
    }

    /// `RELOADING=1` with the monotonic timestamp systemd 253+ asks for.
    pub(crate) fn reloading(&self) {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let usec = now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000;
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }
}

/// The watchdog interval systemd set (`WATCHDOG_USEC`), if it is meant for this process
/// (`WATCHDOG_PID` unset or ours).
pub(crate) fn watchdog_interval() -> Option<Duration> {
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, own: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok()?;
    if pid.is_some_and(|p| p.trim().parse::<u32>().ok() != Some(own)) {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// Sends `WATCHDOG=1` at half the interval for as long as the runtime runs it: a daemon
/// whose async runtime hangs stops pinging and systemd restarts it.
pub(crate) async fn watchdog(notifier: Arc<Notifier>, interval: Duration) {
    let mut tick = tokio::time::interval((interval / 2).max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        notifier.send("WATCHDOG=1");
    }
}

/// How often the progress line is refreshed while a watch scans.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Keeps `STATUS=` up to date: while any watch scans, a line every second naming it and
/// the files it has so far; once none does, one `ready: …` summary (repeated only when it
/// changes, e.g. after a later rescan).
pub(crate) async fn progress(
    notifier: Arc<Notifier>,
    folders: Arc<Folders>,
    store: Arc<sheaf_store::Store>,
) {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let mut last = String::new();
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (folders, store) = (Arc::clone(&folders), Arc::clone(&store));
        let home = home.clone();
        let line = tokio::task::spawn_blocking(move || {
            let watches = folders.list().ok()?;
            Some(status_line(&watches, home.as_deref(), |cid| {
                store.collection(cid).ok().flatten().map(|c| c.item_count)
            }))
        })
        .await
        .ok()
        .flatten();
        let Some((line, scanning)) = line else {
            continue;
        };
        // Progress lines repeat (the count moves); the summary is said once.
        if scanning || line != last {
            notifier.status(&line);
            last = line;
        }
    }
}

/// The `STATUS=` text for these watches, and whether any is scanning. A scanning watch's
/// count is what its last full scan found or, during its first scan, the entries its
/// collection holds so far (`entries` of a collection id).
pub(crate) fn status_line(
    watches: &[WatchStatus],
    home: Option<&Path>,
    entries: impl Fn(&sheaf_core::CollectionId) -> Option<u64>,
) -> (String, bool) {
    let scanning: Vec<_> = watches
        .iter()
        .filter(|w| w.state == State::Scanning)
        .collect();
    if let Some(first) = scanning.first() {
        let files = if first.files > 0 {
            first.files
        } else {
            entries(&first.watch.collection_id).unwrap_or(0)
        };
        let mut line = format!(
            "scanning {}: {} files",
            tilde(&first.watch.path, home),
            thousands(files)
        );
        if scanning.len() > 1 {
            let _ = write!(line, " (+{} more)", scanning.len() - 1);
        }
        return (line, true);
    }
    let files: u64 = watches.iter().map(|w| w.files).sum();
    let degraded = watches
        .iter()
        .filter(|w| matches!(w.state, State::Degraded(_)))
        .count();
    let mut line = format!(
        "ready: {} {}, {} files",
        watches.len(),
        if watches.len() == 1 {
            "watch"
        } else {
            "watches"
        },
        thousands(files)
    );
    if degraded > 0 {
        let _ = write!(line, "; {degraded} degraded (see /v1/health)");
    }
    (line, false)
}

/// `~/Papers` for `$HOME/Papers`.
fn tilde(path: &str, home: Option<&Path>) -> String {
    match home.and_then(|h| Path::new(path).strip_prefix(h).ok()) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Some(rest) => format!("~/{}", rest.display()),
        None => path.to_owned(),
    }
}

/// `41 200`: groups of three digits separated by a narrow no-break space (U+202F).
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// The listening socket systemd passed (`LISTEN_FDS`, `LISTEN_PID` naming this process),
/// if any. Reads and then clears the variables, so children do not take the socket for
/// theirs: call it before any other thread starts.
pub fn passed_listener() -> Result<Option<std::os::unix::net::UnixListener>, crate::DaemonError> {
    let Ok(count) = std::env::var("LISTEN_FDS") else {
        return Ok(None);
    };
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        == Some(std::process::id());
    if !ours {
        tracing::warn!(
            "LISTEN_FDS is set but LISTEN_PID does not name this process; binding the socket instead"
        );
        return Ok(None);
    }
    let passed = |source: std::io::Error| crate::DaemonError::Io {
        path: format!("LISTEN_FDS={count}").into(),
        verb: "taking the socket systemd passed",
        source,
    };
    // listenfd holds the one `from_raw_fd` this needs, after checking that the descriptor
    // is a socket of the right family and type.
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() > 1 {
        tracing::warn!(
            count = fds.len(),
            "systemd passed several sockets; serving the first"
        );
    }
    let listener = fds.take_unix_listener(0).map_err(passed)?;
    if listener.is_none() {
        return Err(passed(std::io::Error::new(
            ErrorKind::InvalidInput,
            "no listening Unix stream socket at fd 3 (sheafd.socket needs ListenStream=PATH)",
        )));
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(path: &str, state: State, files: u64) -> WatchStatus {
        WatchStatus {
            watch: sheaf_core::Watch {
                id: sheaf_core::WatchId::from_ulid(ulid::Ulid::nil()),
                path: path.to_owned(),
                collection_id: sheaf_core::CollectionId::parse("papers").unwrap(),
                recursive: true,
                include: Vec::new(),
                exclude: Vec::new(),
                poll_ms: None,
                from_config: true,
                created_at: sheaf_core::Timestamp::EPOCH,
                updated_at: sheaf_core::Timestamp::EPOCH,
            },
            state,
            files,
            last_reconcile_at: None,
            queue_depth: 0,
            overflows: 0,
            last_overflow_at: None,
        }
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(41_200), "41\u{202F}200");
        assert_eq!(thousands(1_234_567), "1\u{202F}234\u{202F}567");
    }

    #[test]
    fn a_scanning_watch_is_named_with_a_tilde_and_its_count_so_far() {
        let home = Path::new("/home/me");
        let (line, scanning) = status_line(
            &[
                watch("/home/me/Papers", State::Scanning, 0),
                watch("/srv/x", State::Live, 3),
            ],
            Some(home),
            |_| Some(41_200),
        );
        assert!(scanning);
        assert_eq!(line, "scanning ~/Papers: 41\u{202F}200 files");
        let (line, _) = status_line(
            &[
                watch("/srv/a", State::Scanning, 12),
                watch("/srv/b", State::Scanning, 0),
            ],
            Some(home),
            |_| None,
        );
        assert_eq!(line, "scanning /srv/a: 12 files (+1 more)");
    }

    #[test]
    fn once_nothing_scans_the_line_sums_up() {
        let (line, scanning) = status_line(
            &[
                watch("/a", State::Live, 1_000),
                watch("/b", State::Degraded("gone".into()), 5),
            ],
            None,
            |_| None,
        );
        assert!(!scanning);
        assert_eq!(
            line,
            "ready: 2 watches, 1\u{202F}005 files; 1 degraded (see /v1/health)"
        );
        assert_eq!(
            status_line(&[], None, |_| None).0,
            "ready: 0 watches, 0 files"
        );
    }

    #[test]
    fn the_watchdog_runs_only_when_asked_for_this_process() {
        assert_eq!(
            watchdog_from(Some("400000"), None, 7),
            Some(Duration::from_millis(400))
        );
        assert_eq!(
            watchdog_from(Some("400000"), Some("7"), 7),
            Some(Duration::from_millis(400))
        );
        assert_eq!(watchdog_from(Some("400000"), Some("8"), 7), None);
        assert_eq!(watchdog_from(None, Some("7"), 7), None);
        assert_eq!(watchdog_from(Some("0"), None, 7), None);
        assert_eq!(watchdog_from(Some("soon"), None, 7), None);
    }
}
