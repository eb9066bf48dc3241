//! Rules (SPEC §7.3) helpers shared by the rule suites: a config file that watches a folder
//! and holds one `[[rule]]`, and a program for a rule's `run` that records each run as one
//! line of a log.

use std::path::{Path, PathBuf};

use crate::Daemon;
use crate::folders::{executable, text};

/// The collection [`watch_and_rule`]'s watch fills.
pub const INBOX: &str = "inbox";

/// Writes the daemon's config file: a `[[watch]]` of `inbox` into [`INBOX`], then one
/// `[[rule]]` made of `rule` (its lines after the header: `name = …`, `on = …`, …).
pub fn watch_and_rule(d: &Daemon, inbox: &Path, rule: &str) {
    std::fs::write(
        &d.config,
        format!(
            "[[watch]]\npath = \"{}\"\ncollection = \"{INBOX}\"\n\n[[rule]]\n{rule}",
            text(inbox)
        ),
    )
    .unwrap();
}

/// Writes `script`, a program for a rule's `run` that runs `prelude` (shell lines, e.g.
/// `stdin=$(cat)` to take the event) and then appends `printf {line}` to `log`: `line` is
/// printf's format and arguments as shell words (`'%s\n' "$SHEAF_ITEM_ID"`). The line is
/// one short write in append mode, so the lines of runs at the same time never mix.
/// Answers the program's path.
pub fn recorder(script: &Path, log: &Path, prelude: &str, line: &str) -> PathBuf {
    executable(
        script,
        &format!("#!/bin/sh\n{prelude}printf {line} >> '{}'\n", text(log)),
    )
}

/// The lines of a log (none while it does not exist).
pub fn log_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}
