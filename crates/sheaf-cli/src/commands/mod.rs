//! One module per group of commands; each takes the connected client, the output style and
//! stdout, and returns `anyhow::Result` (the daemon's errors stay `sheaf_client::Error`
//! inside it, so `exit` can pick the code).

mod collections;
mod doctor;
mod dups;
mod listing;
mod man;
mod membership;
mod open;
mod rules;
mod service;
mod status;
mod tui;
mod undo;
mod watch;

use std::io::Write;

use serde::Serialize;
use sheaf_client::Client;

use crate::args::Command;
use crate::render::Style;

/// Buffered stdout; write errors (a closed pipe) propagate instead of panicking.
pub(crate) struct Out {
    w: std::io::BufWriter<std::io::StdoutLock<'static>>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            w: std::io::BufWriter::new(std::io::stdout().lock()),
        }
    }

    /// One line of text.
    pub(crate) fn line(&mut self, text: &str) -> std::io::Result<()> {
        self.w.write_all(text.as_bytes())?;
        self.w.write_all(b"\n")
    }

    /// One value as compact JSON on one line.
    pub(crate) fn json<T: Serialize>(&mut self, value: &T) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.w, value)?;
        self.w.write_all(b"\n")?;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// Runs a command that does not use the shared connection (`service`, `doctor`, `man`);
/// `None` for the others.
pub(crate) fn local(
    command: &Command,
    options: &sheaf_client::ConnectOptions,
    style: Style,
    out: &mut Out,
) -> Option<anyhow::Result<()>> {
    match command {
        Command::Service { action } => Some(service::run(action, style, out)),
        Command::Doctor => Some(doctor::run(options, style, out)),
        Command::Man { dir } => Some(man::run(dir.as_deref(), out)),
        _ => None,
    }
}

/// Runs a command that needs the daemon.
pub(crate) async fn run(
    client: &Client,
    style: Style,
    out: &mut Out,
    command: Command,
) -> anyhow::Result<()> {
    match command {
        Command::Status => status::status(client, style, out),
        Command::Collections { action } => collections::run(client, style, out, action).await,
        Command::Add(args) => membership::add(client, style, out, args).await,
        Command::Rm(args) => membership::rm(client, style, out, args).await,
        Command::Ls(args) => listing::ls(client, style, out, args).await,
        Command::Events { since } => listing::events(client, style, out, since).await,
        Command::Undo { op } => undo::undo(client, style, out, op).await,
        Command::Dups { limit } => dups::dups(client, style, out, limit).await,
        Command::Watch { action } => watch::run(client, style, out, action).await,
        Command::Rules { action } => rules::run(client, style, out, action).await,
        Command::Open(args) => open::open(client, style, out, args).await,
        Command::Tui(args) => tui::run(client, args.collection, args.config_file.as_deref()).await,
        // Handled before connecting.
        Command::Completions { .. }
        | Command::Service { .. }
        | Command::Doctor
        | Command::Man { .. } => Ok(()),
    }
}
