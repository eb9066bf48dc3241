//! The history overlay (`H`): the op log newest first, read a page at a time as the cursor
//! nears the end of what is here; `u` undoes the selected op; the rules' latest runs below.

use crate::action::{Command, Effect, Failure, HistoryPage};
use crate::app::{App, History, Message, Overlay};
use crate::plain;

/// Ops from the end of what is here at which the next page is asked for.
const AHEAD: usize = 20;

fn history(app: &mut App) -> Option<&mut History> {
    match &mut app.overlay {
        Some(Overlay::History(h)) => Some(h),
        _ => None,
    }
}

/// `H`: opens the log at its newest op (or closes it).
pub(super) fn toggle(app: &mut App) -> Vec<Effect> {
    if history(app).is_some() {
        app.overlay = None;
        return Vec::new();
    }
    app.overlay = Some(Overlay::History(History {
        loading: true,
        ..History::default()
    }));
    vec![Effect::LoadHistory { cursor: None }]
}

/// The first page again (after an undo or a live change), the cursor kept on its op.
pub(super) fn reload(app: &mut App) -> Vec<Effect> {
    match history(app) {
        Some(h) if !h.loading => {
            h.loading = true;
            vec![Effect::LoadHistory { cursor: None }]
        }
        _ => Vec::new(),
    }
}

/// A key while the log is shown: moves, undo, close; other commands do nothing here.
pub(super) fn command(app: &mut App, c: Command) -> Vec<Effect> {
    let rows = super::page_rows(app) as isize;
    let Some(h) = history(app) else {
        return Vec::new();
    };
    let delta = match c {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => rows,
        Command::PageUp => -rows,
        Command::Top => isize::MIN,
        Command::Bottom => isize::MAX,
        Command::Undo => return undo(app),
        Command::History | Command::Escape => {
            app.overlay = None;
            return Vec::new();
        }
        Command::Quit => {
            app.quit = true;
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    h.cursor = h
        .cursor
        .saturating_add_signed(delta)
        .min(h.ops.len().saturating_sub(1));
    if h.cursor + AHEAD >= h.ops.len()
        && !h.loading
        && let Some(cursor) = h.next_cursor.clone()
    {
        h.loading = true;
        return vec![Effect::LoadHistory {
            cursor: Some(cursor),
        }];
    }
    Vec::new()
}

fn undo(app: &mut App) -> Vec<Effect> {
    let Some(op) = history(app).and_then(|h| h.ops.get(h.cursor).cloned()) else {
        return Vec::new();
    };
    if let Some(by) = op.undone_by {
        app.message = Some(Message::Info(format!(
            "{} was undone already (by {by})",
            op.id
        )));
        return Vec::new();
    }
    app.busy = Some(format!("undoing {} {}…", op.kind, op.id));
    vec![Effect::Undo(Some(op.id))]
}

/// A page arrived.
pub(super) fn page(app: &mut App, r: Result<HistoryPage, Failure>) -> Vec<Effect> {
    let page = match r {
        Ok(page) => page,
        Err(f) => {
            if let Some(h) = history(app) {
                h.loading = false;
            }
            app.message = Some(Message::Error(plain::failure("reading the history", &f)));
            return Vec::new();
        }
    };
    let Some(h) = history(app) else {
        return Vec::new();
    };
    h.loading = false;
    if page.more_of {
        if h.next_cursor.is_some() {
            h.ops.extend(page.ops);
            h.next_cursor = page.next_cursor;
        }
        return Vec::new();
    }
    let selected = h.ops.get(h.cursor).map(|o| o.id);
    h.ops = page.ops;
    h.next_cursor = page.next_cursor;
    h.runs = page.runs;
    h.loaded = true;
    h.cursor = selected
        .and_then(|id| h.ops.iter().position(|o| o.id == id))
        .unwrap_or(0);
    Vec::new()
}
