//! `sheaf doctor`: checks what a working setup needs — the sheafd binary and its version,
//! the config file, the socket and the daemon behind it, the database, the inotify limits
//! against the size of the watched trees, the systemd units — and says what to fix. It
//! never starts sheafd. Exits non-zero when it found a problem.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sheaf_client::{Client, ConnectOptions};
use sheaf_proto::responses::Health;

use super::Out;
use super::service;
use crate::exit::CliError;
use crate::render::{self, Style};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    /// Works, but worth knowing.
    Note,
    /// Needs fixing.
    Problem,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    verdict: Verdict,
    message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Default)]
struct Report(Vec<Check>);

impl Report {
    fn add(&mut self, name: &'static str, verdict: Verdict, message: String, fix: Option<String>) {
        self.0.push(Check {
            name,
            verdict,
            message,
            fix,
        });
    }
    fn ok(&mut self, name: &'static str, message: String) {
        self.add(name, Verdict::Ok, message, None);
    }
    fn note(&mut self, name: &'static str, message: String, fix: Option<String>) {
        self.add(name, Verdict::Note, message, fix);
    }
    fn problem(&mut self, name: &'static str, message: String, fix: String) {
        self.add(name, Verdict::Problem, message, Some(fix));
    }
}

/// Runs every check and prints them; an error (exit 1) when any found a problem.
pub(crate) fn run(options: &ConnectOptions, style: Style, out: &mut Out) -> anyhow::Result<()> {
    let mut report = Report::default();
    let sheafd = binary(&mut report, options);
    config(&mut report, options, sheafd.as_deref());
    let health = daemon(&mut report, options);
    database(&mut report, options, health.as_ref());
    if let Some(h) = &health {
        inotify(&mut report, h, &InotifyLimits::read());
        watches(&mut report, h);
    }
    units(&mut report);

    if style.json {
        out.json(&report.0)?;
    } else {
        for c in &report.0 {
            let mark = match c.verdict {
                Verdict::Ok => style.bold("ok     "),
                Verdict::Note => style.yellow("note   "),
                Verdict::Problem => style.red("PROBLEM"),
            };
            out.line(&format!("{mark} {:<9} {}", c.name, c.message))?;
            if let Some(fix) = &c.fix {
                for line in fix.lines() {
                    out.line(&format!("{:18}{}", "", style.dim(line)))?;
                }
            }
        }
    }
    let problems = report
        .0
        .iter()
        .filter(|c| c.verdict == Verdict::Problem)
        .count();
    if problems > 0 {
        return Err(CliError::Unhealthy(problems).into());
    }
    Ok(())
}

/// The sheafd binary an autostart or `sheaf service install` would use, and its version.
fn binary(report: &mut Report, options: &ConnectOptions) -> Option<PathBuf> {
    let mine = env!("CARGO_PKG_VERSION");
    let Some(path) = options.sheafd.clone().or_else(sheaf_client::find_sheafd) else {
        report.problem(
            "sheafd",
            "no sheafd beside sheaf or on PATH".to_owned(),
            "install it: `just install`, or `cargo install --path crates/sheaf-daemon`".to_owned(),
        );
        return None;
    };
    let version = std::process::Command::new(&path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match version.as_deref().and_then(|v| v.split_whitespace().nth(1)) {
        Some(v) if v == mine => {
            report.ok("sheafd", format!("{} {v} (sheaf {mine})", path.display()));
        }
        Some(v) => report.problem(
            "sheafd",
            format!("{} is version {v}, this sheaf is {mine}", path.display()),
            "install both from the same release (`just install`)".to_owned(),
        ),
        None => report.problem(
            "sheafd",
            format!("{} does not run (`--version` failed)", path.display()),
            "reinstall it (`just install`)".to_owned(),
        ),
    }
    Some(path)
}

/// The config file, checked by sheafd itself (`sheafd --check-config`).
fn config(report: &mut Report, options: &ConnectOptions, sheafd: Option<&Path>) {
    let Some(sheafd) = sheafd else { return };
    let mut cmd = std::process::Command::new(sheafd);
    cmd.arg("--check-config").stdin(std::process::Stdio::null());
    if let Some(c) = &options.config {
        cmd.arg("--config").arg(c);
    }
    let Ok(done) = cmd.output() else { return };
    let said = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    if done.status.success() {
        report.ok("config", said(&done.stdout));
    } else {
        let err = said(&done.stderr);
        report.problem(
            "config",
            err.strip_prefix("sheafd: ").unwrap_or(&err).to_owned(),
            "fix the file (config/sheaf.example.toml documents every key); a running sheafd \
             keeps its old config until then"
                .to_owned(),
        );
    }
}

/// The socket and the daemon answering on it.
fn daemon(report: &mut Report, options: &ConnectOptions) -> Option<Health> {
    let socket = options
        .socket
        .clone()
        .unwrap_or_else(sheaf_client::default_socket);
    let connect = ConnectOptions {
        socket: Some(socket.clone()),
        autostart: false,
        ..ConnectOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    match runtime.block_on(Client::connect(connect)) {
        Ok(client) => {
            let h = client.connected_health().clone();
            report.ok(
                "daemon",
                format!(
                    "sheafd {} answers on {} (pid {}, up {}, API {})",
                    h.version,
                    socket.display(),
                    h.pid,
                    render::duration(h.uptime_s),
                    h.api_version
                ),
            );
            if h.version != env!("CARGO_PKG_VERSION") {
                report.note(
                    "daemon",
                    format!(
                        "the running sheafd is version {}, this sheaf {}",
                        h.version,
                        env!("CARGO_PKG_VERSION")
                    ),
                    Some("restart it after an upgrade: systemctl --user restart sheafd (or SIGTERM it)".to_owned()),
                );
            }
            Some(h)
        }
        Err(sheaf_client::Error::NotRunning { .. }) => {
            report.note(
                "daemon",
                format!("no sheafd answers on {}", socket.display()),
                Some(
                    "sheaf starts it when needed; to run it as a service: `sheaf service install`"
                        .to_owned(),
                ),
            );
            None
        }
        Err(e) => {
            let fix = match &e {
                sheaf_client::Error::VersionMismatch { .. } => {
                    "restart sheafd so that it is the same release as sheaf"
                }
                sheaf_client::Error::Timeout { .. } => {
                    "the daemon is hung: restart it (systemctl --user restart sheafd, or SIGTERM)"
                }
                _ => {
                    "look at the daemon's log (journalctl --user -u sheafd, or sheafd.log next to the socket)"
                }
            };
            report.problem("daemon", e.to_string(), fix.to_owned());
            None
        }
    }
}

/// The database: where it is, its schema, the space left around it.
fn database(report: &mut Report, options: &ConnectOptions, health: Option<&Health>) {
    let path = match health {
        Some(h) => PathBuf::from(&h.store.path),
        None => match options
            .database
            .clone()
            .or_else(|| std::env::var_os("SHEAF_DATABASE").map(PathBuf::from))
            .or_else(default_database)
        {
            Some(p) => p,
            None => return,
        },
    };
    let free = path
        .parent()
        .and_then(|d| rustix::fs::statvfs(d).ok())
        .map(|s| s.f_bavail * s.f_frsize);
    let size = std::fs::metadata(&path).map(|m| m.len());
    match (health, size) {
        (Some(h), _) => report.ok(
            "database",
            format!(
                "{} (schema {}, {} items, {} free)",
                path.display(),
                h.store.schema_version,
                h.store.items,
                free.map_or_else(|| "?".to_owned(), render::size)
            ),
        ),
        (None, Ok(len)) => report.ok(
            "database",
            format!(
                "{} ({}; opened and migrated, if needed, when sheafd starts)",
                path.display(),
                render::size(len)
            ),
        ),
        (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => report.note(
            "database",
            format!("{} does not exist yet", path.display()),
            Some("sheafd creates it at its first start".to_owned()),
        ),
        (None, Err(e)) => report.problem(
            "database",
            format!("{}: {e}", path.display()),
            "make it readable and writable by you".to_owned(),
        ),
    }
    if let Some(free) = free
        && free < 256 << 20
    {
        report.problem(
            "disk",
            format!(
                "only {} free where the database lives; writes fail when it is full",
                render::size(free)
            ),
            "free some space on that filesystem".to_owned(),
        );
    }
}

/// `$XDG_DATA_HOME/sheaf/sheaf.redb`, else `~/.local/share/sheaf/sheaf.redb` (sheafd's rule).
fn default_database() -> Option<PathBuf> {
    sheaf_proto::places::database_file()
}

/// The kernel's inotify limits (`/proc/sys/fs/inotify`).
#[derive(Debug, Clone, Copy)]
struct InotifyLimits {
    watches: Option<u64>,
    instances: Option<u64>,
}

impl InotifyLimits {
    fn read() -> Self {
        let read = |name: &str| {
            std::fs::read_to_string(Path::new("/proc/sys/fs/inotify").join(name))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        };
        Self {
            watches: read("max_user_watches"),
            instances: read("max_user_instances"),
        }
    }
}

/// Folders under `root` (itself included; all depths when `recursive`): what inotify needs
/// one watch each for. Symlinks are not followed, as the walker does not; stops counting
/// after `limit` so that a huge tree does not keep doctor busy.
fn folders_under(root: &Path, recursive: bool, limit: u64) -> u64 {
    let mut count = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        count += 1;
        if !recursive || count >= limit {
            if !recursive {
                break;
            }
            return count;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    count
}

/// A round limit comfortably above `need`.
fn suggested(need: u64) -> u64 {
    (need * 2).max(524_288).next_power_of_two()
}

/// The watched trees against the inotify limits: one watch per folder, one instance per
/// watch.
fn inotify(report: &mut Report, health: &Health, limits: &InotifyLimits) {
    let live: Vec<_> = health.watches.iter().filter(|w| w.poll.is_none()).collect();
    if live.is_empty() {
        return;
    }
    let cap = limits.watches.unwrap_or(u64::MAX).saturating_mul(4);
    let need: u64 = live
        .iter()
        .map(|w| folders_under(Path::new(&w.path), w.recursive, cap))
        .sum();
    inotify_verdict(report, need, live.len() as u64, limits);
}

fn inotify_verdict(report: &mut Report, need: u64, watches: u64, limits: &InotifyLimits) {
    let persist = |key: &str, value: u64| {
        format!(
            "raise it: sudo sysctl {key}={value}\nand keep it: echo {key}={value} | sudo tee /etc/sysctl.d/90-sheaf.conf"
        )
    };
    match limits.watches {
        Some(max) if need > max => report.problem(
            "inotify",
            format!(
                "the watched folders hold {need} folders but fs.inotify.max_user_watches is {max}: \
                 watches fall back to rescans (degraded)"
            ),
            persist("fs.inotify.max_user_watches", suggested(need)),
        ),
        Some(max) if need > max / 2 => report.note(
            "inotify",
            format!(
                "the watched folders hold {need} folders, more than half of \
                 fs.inotify.max_user_watches ({max}); other programs use watches too"
            ),
            Some(persist("fs.inotify.max_user_watches", suggested(need))),
        ),
        Some(max) => report.ok(
            "inotify",
            format!("{need} folders watched, fs.inotify.max_user_watches is {max}"),
        ),
        None => report.note(
            "inotify",
            format!("{need} folders watched; /proc/sys/fs/inotify is not readable here"),
            None,
        ),
    }
    if let Some(max) = limits.instances
        && watches + 8 > max
    {
        report.problem(
            "inotify",
            format!(
                "{watches} live watches use one inotify instance each; \
                 fs.inotify.max_user_instances is {max}"
            ),
            persist("fs.inotify.max_user_instances", (watches * 2).max(1024)),
        );
    }
}

/// Watches that are not well.
fn watches(report: &mut Report, health: &Health) {
    for w in &health.watches {
        if let Some(reason) = w.state.strip_prefix("degraded: ") {
            report.problem(
                "watch",
                format!("{} ({}) is degraded: {reason}", w.path, w.id),
                "fix what the reason says, then `sheaf watch rescan` it".to_owned(),
            );
        }
    }
    let scanning = health
        .watches
        .iter()
        .filter(|w| w.state == "scanning")
        .count();
    if scanning > 0 {
        report.note(
            "watch",
            format!("{scanning} watch(es) still scanning; `sheaf watch` shows their progress"),
            None,
        );
    }
}

/// The systemd user units, when installed: the binary they start must exist.
fn units(report: &mut Report) {
    let Ok(units) = service::unit_status() else {
        return;
    };
    if units.iter().all(|u| u.path.is_none()) {
        report.note(
            "systemd",
            "no sheafd user units installed".to_owned(),
            Some("to run sheafd as a service: sheaf service install".to_owned()),
        );
        return;
    }
    if let Ok(Some((bin, false))) = service::installed_sheafd() {
        report.problem(
            "systemd",
            format!("{} starts {bin}, which is missing", service::SERVICE),
            "run `sheaf service install` again, then systemctl --user daemon-reload".to_owned(),
        );
        return;
    }
    let state: Vec<String> = units
        .iter()
        .filter(|u| u.path.is_some())
        .map(|u| {
            format!(
                "{} {}{}",
                u.unit,
                if u.enabled { "enabled" } else { "disabled" },
                u.active
                    .as_ref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    report.ok("systemd", state.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_larger_than_the_watch_limit_is_a_problem_with_the_sysctl_to_raise() {
        let mut r = Report::default();
        let limits = InotifyLimits {
            watches: Some(8192),
            instances: Some(128),
        };
        inotify_verdict(&mut r, 10_000, 2, &limits);
        assert_eq!(r.0.len(), 1);
        assert_eq!(r.0[0].verdict, Verdict::Problem);
        let fix = r.0[0].fix.as_deref().unwrap();
        assert!(
            fix.contains("sudo sysctl fs.inotify.max_user_watches=524288"),
            "{fix}"
        );
        assert!(fix.contains("/etc/sysctl.d/"), "{fix}");
    }

    #[test]
    fn a_tree_near_the_limit_is_a_note_and_a_small_one_is_fine() {
        let limits = InotifyLimits {
            watches: Some(8192),
            instances: Some(128),
        };
        let mut r = Report::default();
        inotify_verdict(&mut r, 5000, 1, &limits);
        assert_eq!(r.0[0].verdict, Verdict::Note);
        let mut r = Report::default();
        inotify_verdict(&mut r, 100, 1, &limits);
        assert_eq!(r.0[0].verdict, Verdict::Ok);
        let mut r = Report::default();
        inotify_verdict(&mut r, 100, 125, &limits);
        assert!(
            r.0.iter()
                .any(|c| c.verdict == Verdict::Problem && c.message.contains("max_user_instances"))
        );
    }

    #[test]
    fn folders_are_counted_without_following_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["a/b/c", "a/d", "e"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("a/file"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("e/loop")).unwrap();
        assert_eq!(folders_under(dir.path(), true, u64::MAX), 6);
        assert_eq!(folders_under(dir.path(), false, u64::MAX), 1);
        assert_eq!(folders_under(dir.path(), true, 3), 3);
    }

    #[test]
    fn suggestions_are_round_and_above_the_need() {
        assert_eq!(suggested(10), 524_288);
        assert_eq!(suggested(600_000), 2_097_152);
    }
}
