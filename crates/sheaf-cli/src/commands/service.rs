//! `sheaf service install|uninstall|status`: the systemd user units that run sheafd
//! (`config/systemd/` in the source tree, with `ExecStart` naming the sheafd found here),
//! and the `systemctl --user` commands to run. sheaf never runs systemctl itself: the
//! user decides when the service starts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::Out;
use crate::args::ServiceCommand;
use crate::render::Style;

/// The shipped units; `ExecStart=` of the service is replaced when installing.
const SERVICE_UNIT: &str = include_str!("../../../../config/systemd/sheafd.service");
const SOCKET_UNIT: &str = include_str!("../../../../config/systemd/sheafd.socket");

/// The unit names.
pub(crate) const SERVICE: &str = "sheafd.service";
/// The socket unit's name.
pub(crate) const SOCKET: &str = "sheafd.socket";

/// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`.
pub(crate) fn unit_dir() -> anyhow::Result<PathBuf> {
    sheaf_proto::places::config_home()
        .map(|d| d.join("systemd/user"))
        .context("cannot find the user unit folder: set HOME or XDG_CONFIG_HOME")
}

/// The sheafd to run: `--sheafd`, else the one beside this `sheaf`, else on `PATH`; made
/// absolute and canonical, since systemd wants an absolute path.
fn sheafd_path(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let found = match given {
        Some(p) => p.to_path_buf(),
        None => sheaf_client::find_sheafd().context(
            "cannot find sheafd beside sheaf or on PATH; install it (`just install`) or name \
             it with --sheafd PATH",
        )?,
    };
    std::fs::canonicalize(&found).with_context(|| format!("cannot find {}", found.display()))
}

/// A path as one word of a systemd command line: `%` and `$` escaped, quoted when it
/// holds blanks, quotes or backslashes.
fn exec_word(path: &Path) -> String {
    let text = path.to_string_lossy().replace('%', "%%").replace('$', "$$");
    if text
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
    {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text
    }
}

/// The service unit with `ExecStart=` naming `sheafd`.
pub(crate) fn service_unit(sheafd: &Path) -> String {
    let mut out = String::with_capacity(SERVICE_UNIT.len() + 128);
    for line in SERVICE_UNIT.lines() {
        if line.starts_with("ExecStart=") {
            out.push_str("ExecStart=");
            out.push_str(&exec_word(sheafd));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The binary an installed service unit starts, as written in its `ExecStart=`.
fn exec_start(unit: &str) -> Option<String> {
    unit.lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .map(|v| {
            let v = v.trim();
            match v.strip_prefix('"') {
                Some(rest) => rest
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .replace("%%", "%")
                    .replace("$$", "$"),
                None => v
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .replace("%%", "%")
                    .replace("$$", "$"),
            }
        })
}

/// The `[Install]` links `systemctl --user enable` makes for a unit.
fn wants_links(dir: &Path, unit: &str) -> [PathBuf; 2] {
    [
        dir.join("default.target.wants").join(unit),
        dir.join("sockets.target.wants").join(unit),
    ]
}

#[derive(Debug, Serialize)]
struct Installed {
    service: PathBuf,
    socket: PathBuf,
    sheafd: PathBuf,
    commands: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Uninstalled {
    removed: Vec<PathBuf>,
    commands: Vec<&'static str>,
}

/// What `status` reports of one unit.
#[derive(Debug, Serialize)]
pub(crate) struct UnitStatus {
    /// `sheafd.service` or `sheafd.socket`.
    pub(crate) unit: &'static str,
    /// Where it is installed, if it is.
    pub(crate) path: Option<PathBuf>,
    /// Whether `systemctl --user enable` linked it.
    pub(crate) enabled: bool,
    /// `systemctl --user is-active`, when a user manager answers.
    pub(crate) active: Option<String>,
}

#[derive(Debug, Serialize)]
struct Status {
    units: Vec<UnitStatus>,
    /// The service's `ExecStart`, and whether that file exists.
    sheafd: Option<String>,
    sheafd_exists: Option<bool>,
}

const INSTALL_NEXT: [&str; 4] = [
    "systemctl --user daemon-reload",
    "systemctl --user enable --now sheafd.socket",
    "systemctl --user enable --now sheafd.service",
    "journalctl --user -u sheafd -f",
];

const UNINSTALL_NEXT: [&str; 2] = [
    "systemctl --user stop sheafd.socket sheafd.service",
    "systemctl --user daemon-reload",
];

/// Runs `sheaf service …` (no daemon connection needed).
pub(crate) fn run(action: &ServiceCommand, style: Style, out: &mut Out) -> anyhow::Result<()> {
    match action {
        ServiceCommand::Install { sheafd } => install(sheafd.as_deref(), style, out),
        ServiceCommand::Uninstall => uninstall(style, out),
        ServiceCommand::Status => status(style, out),
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn install(given: Option<&Path>, style: Style, out: &mut Out) -> anyhow::Result<()> {
    let sheafd = sheafd_path(given)?;
    let dir = unit_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let service = dir.join(SERVICE);
    let socket = dir.join(SOCKET);
    write(&service, &service_unit(&sheafd))?;
    write(&socket, SOCKET_UNIT)?;
    if style.json {
        return out.json(&Installed {
            service,
            socket,
            sheafd,
            commands: INSTALL_NEXT.to_vec(),
        });
    }
    out.line(&format!(
        "wrote {} (ExecStart={})",
        service.display(),
        sheafd.display()
    ))?;
    out.line(&format!("wrote {}", socket.display()))?;
    out.line("")?;
    out.line(&style.bold("next:"))?;
    out.line(&format!("  {}", INSTALL_NEXT[0]))?;
    out.line(&format!(
        "  {}   {}",
        INSTALL_NEXT[1],
        style.dim("# sheafd starts at the first request")
    ))?;
    out.line(&format!(
        "  {}  {}",
        INSTALL_NEXT[2],
        style.dim("# or: keep it running from login")
    ))?;
    out.line(&format!(
        "  {}                {}",
        INSTALL_NEXT[3],
        style.dim("# its logs")
    ))?;
    out.line(&style.dim(
        "Stop a sheafd you started by hand first. Change the units with `systemctl --user edit \
         sheafd` (a drop-in), not by editing these files: install writes them anew.",
    ))?;
    Ok(())
}

fn uninstall(style: Style, out: &mut Out) -> anyhow::Result<()> {
    let dir = unit_dir()?;
    let mut removed = Vec::new();
    for unit in [SERVICE, SOCKET] {
        let links = wants_links(&dir, unit);
        for path in links.iter().chain(std::iter::once(&dir.join(unit))) {
            match std::fs::remove_file(path) {
                Ok(()) => removed.push(path.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
            }
        }
    }
    if style.json {
        return out.json(&Uninstalled {
            removed,
            commands: UNINSTALL_NEXT.to_vec(),
        });
    }
    if removed.is_empty() {
        out.line(&format!("no sheafd units in {}", dir.display()))?;
        return Ok(());
    }
    for path in &removed {
        out.line(&format!("removed {}", path.display()))?;
    }
    out.line("")?;
    out.line(&style.bold("next:"))?;
    for c in UNINSTALL_NEXT {
        out.line(&format!("  {c}"))?;
    }
    Ok(())
}

/// The installed units: where, enabled, and what the user manager says of them.
pub(crate) fn unit_status() -> anyhow::Result<Vec<UnitStatus>> {
    let dir = unit_dir()?;
    Ok([SERVICE, SOCKET]
        .into_iter()
        .map(|unit| {
            let path = Some(dir.join(unit)).filter(|p| p.is_file());
            let enabled = wants_links(&dir, unit)
                .iter()
                .any(|l| l.symlink_metadata().is_ok());
            UnitStatus {
                unit,
                enabled,
                active: path.as_ref().and_then(|_| is_active(unit)),
                path,
            }
        })
        .collect())
}

/// `systemctl --user is-active UNIT`, if a user manager answers.
fn is_active(unit: &str) -> Option<String> {
    let out = std::process::Command::new("systemctl")
        .args(["--user", "is-active", unit])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let state = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // Without a user manager systemctl prints nothing useful.
    (!state.is_empty() && state != "unknown").then_some(state)
}

/// The binary the installed service starts and whether it exists.
pub(crate) fn installed_sheafd() -> anyhow::Result<Option<(String, bool)>> {
    let path = unit_dir()?.join(SERVICE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    Ok(exec_start(&text).map(|bin| {
        let exists = bin.starts_with('/') && Path::new(&bin).is_file();
        (bin, exists)
    }))
}

fn status(style: Style, out: &mut Out) -> anyhow::Result<()> {
    let units = unit_status()?;
    let sheafd = installed_sheafd()?;
    if style.json {
        return out.json(&Status {
            units,
            sheafd_exists: sheafd.as_ref().map(|s| s.1),
            sheafd: sheafd.map(|s| s.0),
        });
    }
    for u in &units {
        let Some(path) = &u.path else {
            out.line(&format!(
                "{:<15} {}",
                u.unit,
                style.dim("not installed (sheaf service install)")
            ))?;
            continue;
        };
        let mut line = format!(
            "{:<15} {} · {}",
            u.unit,
            path.display(),
            if u.enabled { "enabled" } else { "disabled" }
        );
        if let Some(a) = &u.active {
            let _ = write!(line, " · {a}");
        }
        out.line(&line)?;
    }
    if let Some((bin, exists)) = sheafd {
        if exists {
            out.line(&format!("{:<15} {bin}", "ExecStart"))?;
        } else {
            out.line(&format!(
                "{:<15} {bin} {}",
                "ExecStart",
                style.red("is missing: run `sheaf service install` again")
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installed_unit_names_the_binary_and_keeps_the_rest() {
        let unit = service_unit(Path::new("/opt/sheaf/bin/sheafd"));
        assert!(
            unit.contains("\nExecStart=/opt/sheaf/bin/sheafd\n"),
            "{unit}"
        );
        assert!(unit.contains("Type=notify"));
        assert!(unit.contains("WatchdogSec="));
        assert_eq!(unit.lines().count(), SERVICE_UNIT.lines().count());
        assert_eq!(exec_start(&unit).as_deref(), Some("/opt/sheaf/bin/sheafd"));
    }

    #[test]
    fn odd_paths_are_quoted_and_escaped_for_systemd() {
        assert_eq!(
            exec_word(Path::new("/home/me/my bin/sheafd")),
            "\"/home/me/my bin/sheafd\""
        );
        assert_eq!(exec_word(Path::new("/x/100%/sheafd")), "/x/100%%/sheafd");
        assert_eq!(exec_word(Path::new("/x/$HOME/sheafd")), "/x/$$HOME/sheafd");
        let unit = service_unit(Path::new("/home/me/my bin/sheafd"));
        assert_eq!(exec_start(&unit).as_deref(), Some("/home/me/my bin/sheafd"));
    }

    #[test]
    fn the_shipped_units_are_what_the_issue_asks_for() {
        assert!(SERVICE_UNIT.contains("\nType=notify\n"));
        assert!(SERVICE_UNIT.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"));
        assert!(SERVICE_UNIT.contains("\nRestart=on-failure\n"));
        assert!(SOCKET_UNIT.contains("\nListenStream=%t/sheaf/sheafd.sock\n"));
    }
}
