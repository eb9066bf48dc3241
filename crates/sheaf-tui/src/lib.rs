//! sheaf's terminal UI (`sheaf tui`): three panes — collections, the open collection's
//! entries, the entry under the cursor — and a status line, driven by the keyboard (vim-like,
//! configurable) and the mouse, following the daemon's event feed live.
//!
//! Shaped as model / action / update / view: terminal events become [`Action`]s
//! ([`keys`]); [`update`] changes the [`App`] model and returns [`Effect`]s without doing
//! any IO; [`effects`] makes the API calls and sends their answers back as actions; the
//! [`view`] draws the model. Entries are fetched a page at a time around the viewport
//! ([`pages`]), so a million-entry collection costs what its visible rows cost.
//!
//! It talks to `sheafd` only through `sheaf-client`: no HTTP server, no database. Its own
//! IO is the files behind the entries — a bounded [`preview`] read on the blocking pool,
//! the opener spawned detached, the editor run by the main loop with the terminal handed
//! over — each answered as an action. Terminal handling (crossterm) is confined to
//! [`terminal`] and [`keys`].

pub mod action;
pub mod app;
pub mod config;
pub mod effects;
pub mod fuzzy;
pub mod keys;
pub mod layout;
pub mod live;
pub mod marks;
pub mod pages;
pub mod plain;
pub mod preview;
pub mod terminal;
pub mod update;
pub mod view;

#[cfg(test)]
mod testdata;

use futures_util::StreamExt;
use sheaf_client::Client;
use sheaf_core::CollectionId;
use tokio::sync::mpsc;

pub use crate::action::{Action, Command, Effect};
pub use crate::app::App;
pub use crate::config::{Config, ConfigError};
pub use crate::update::update;

/// The TUI could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The terminal could not be set up or drawn on.
    #[error("terminal error while {verb}")]
    Terminal {
        /// Doing what.
        verb: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The collection to open is not a collection id.
    #[error("{0:?} is not a collection id (a slug like research_papers)")]
    BadCollection(String),
}

/// How to start.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The collection to open first (default: the first listed, `default`).
    pub collection: Option<String>,
    /// Settings and keys.
    pub config: Config,
}

/// Most queued actions taken in before the screen is drawn again.
const BURST: usize = 256;

/// Runs the TUI on this terminal until the user quits (`q`, ctrl-c, or SIGTERM/SIGINT).
/// The terminal is restored however it ends.
pub async fn run(client: Client, options: Options) -> Result<(), Error> {
    let open = options
        .collection
        .map(|c| CollectionId::parse(&c).map_err(|_| Error::BadCollection(c)))
        .transpose()?;
    let max_batch = usize::try_from(client.limits().max_batch).unwrap_or(1000);
    let since = client.connected_health().store.last_seq;
    let mut app = App::new(options.config, max_batch, open);

    let mut guard = terminal::enter().map_err(|source| Error::Terminal {
        verb: "setting up the terminal",
        source,
    })?;
    let size = guard.terminal.size().map_err(|source| Error::Terminal {
        verb: "reading the terminal's size",
        source,
    })?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = effects::Runner::new(client.clone(), tx.clone());
    let live = tokio::spawn(live::follow(client, Some(since), tx));
    // Edits need the terminal: the loop runs them between draws; the rest runs as tasks.
    let mut edits: Vec<String> = Vec::new();
    let apply = |app: &mut App, action: Action, edits: &mut Vec<String>| {
        for effect in update(app, action) {
            match effect {
                Effect::Edit { path } => edits.push(path),
                other => runner.run(other),
            }
        }
    };
    apply(
        &mut app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
        &mut edits,
    );
    apply(&mut app, Action::Start, &mut edits);

    let mut terminal_events = crossterm::event::EventStream::new();
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut interrupt = std::pin::pin!(stop_signal());
    let result = 'run: loop {
        if let Err(source) = guard.terminal.draw(|f| view::draw(f, &app)) {
            break Err(Error::Terminal {
                verb: "drawing",
                source,
            });
        }
        tokio::select! {
            event = terminal_events.next() => match event {
                Some(Ok(event)) => {
                    if let Some(action) = keys::translate(&event, &app.config.keymap, app.key_mode()) {
                        apply(&mut app, action, &mut edits);
                    }
                }
                Some(Err(source)) => break Err(Error::Terminal { verb: "reading keys", source }),
                None => break Ok(()),
            },
            Some(action) = rx.recv() => {
                apply(&mut app, action, &mut edits);
                // Take in what else is queued before drawing again.
                for _ in 0..BURST {
                    match rx.try_recv() {
                        Ok(action) => apply(&mut app, action, &mut edits),
                        Err(_) => break,
                    }
                }
            }
            _ = clock.tick() => apply(&mut app, Action::Tick, &mut edits),
            () = &mut interrupt => app.quit = true,
        }
        if app.quit {
            break Ok(());
        }
        while let Some(path) = edits.pop() {
            // The key reader would compete with the editor for the terminal: it goes, and a
            // new one reads once the TUI is back.
            drop(terminal_events);
            let result = edit(&path);
            let resumed = terminal::resume(&mut guard);
            terminal_events = crossterm::event::EventStream::new();
            if let Err(source) = resumed {
                break 'run Err(Error::Terminal {
                    verb: "restoring the terminal after the editor",
                    source,
                });
            }
            apply(&mut app, Action::Edited { path, result }, &mut edits);
        }
    };
    live.abort();
    drop(guard);
    result
}

/// Runs `$VISUAL` (else `$EDITOR`, else `vi`) on `path` with the terminal handed over,
/// and waits for it. Either variable may carry arguments (`code --wait`).
fn edit(path: &str) -> Result<(), String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    terminal::suspend();
    let status = std::process::Command::new(program)
        .args(words)
        .arg(path)
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{program} ended with {s}")),
        Err(e) => Err(format!("could not start {program}: {e}")),
    }
}

/// Resolves on SIGINT or SIGTERM (raw mode turns ctrl-c into a key; these come from
/// `kill`).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handlers the keys still quit.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
