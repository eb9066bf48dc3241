//! `update(&mut App, Action) -> Vec<Effect>`: the only code that changes the model. Pure:
//! no IO, no clock; what must reach the daemon is returned as effects.
//!
//! Split by concern: this file dispatches and moves cursors, `ops` handles marks and the
//! operations (picker, prompts, confirm), `files` the files behind the entries (open, edit,
//! preview, names), `history` the op log overlay, `answers` takes in what effects and the
//! event feed bring back.

mod answers;
mod files;
mod history;
mod ops;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_ops;

use sheaf_core::CollectionId;
use sheaf_proto::requests::EntrySort;

use crate::action::{Action, Command, Effect, Input, Mouse};
use crate::app::{App, Message, Overlay, Pane};
use crate::fuzzy;
use crate::layout::Areas;

/// Applies one action to the model; returns the calls to make.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Start => vec![Effect::LoadCollections],
        Action::Command(c) => command(app, c),
        Action::Input(i) => input(app, i),
        Action::Mouse(m) => mouse(app, m),
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            follow_cursor(app)
        }
        Action::Collections(r) => answers::collections(app, r),
        Action::Page {
            generation,
            page,
            result,
        } => answers::page(app, generation, page, result),
        Action::Item(id, r) => answers::item(app, id, r),
        Action::Op { what, result } => answers::op(app, what, result),
        Action::Events(events) => answers::events(app, &events),
        Action::Connected => answers::connected(app),
        Action::Disconnected { attempt, reason } => answers::disconnected(app, attempt, reason),
        Action::Preview(key, preview) => files::preview(app, key, preview),
        Action::Opened { path, result } => files::opened(app, &path, result),
        Action::Edited { path, result } => files::edited(app, &path, result),
        Action::History(r) => history::page(app, r),
        Action::Tick => answers::tick(app),
        Action::Progress(r) => answers::progress(app, r),
    }
}

fn command(app: &mut App, c: Command) -> Vec<Effect> {
    if app.overlay == Some(Overlay::Help) {
        // Any command closes the help; only the help key and escape mean nothing more.
        app.overlay = None;
        return Vec::new();
    }
    if matches!(app.overlay, Some(Overlay::History(_))) {
        return history::command(app, c);
    }
    match c {
        Command::Quit => {
            app.quit = true;
            Vec::new()
        }
        Command::Help => {
            app.overlay = Some(Overlay::Help);
            Vec::new()
        }
        Command::Down => step(app, 1),
        Command::Up => step(app, -1),
        Command::PageDown => step(app, page_rows(app) as isize),
        Command::PageUp => step(app, -(page_rows(app) as isize)),
        Command::Top => step(app, isize::MIN),
        Command::Bottom => step(app, isize::MAX),
        Command::Left => {
            app.focus = match app.focus {
                Pane::Details => Pane::Entries,
                _ => Pane::Collections,
            };
            Vec::new()
        }
        Command::Open if app.focus != Pane::Collections => files::open_file(app),
        Command::OpenFile => files::open_file(app),
        Command::Edit => files::edit(app),
        Command::ToggleNames => files::toggle_names(app),
        Command::History => history::toggle(app),
        Command::Right | Command::Open => {
            app.focus = match (app.focus, c) {
                (Pane::Collections, _) => Pane::Entries,
                (_, Command::Right) => Pane::Details,
                (pane, _) => pane,
            };
            Vec::new()
        }
        Command::NextPane => {
            app.focus = match app.focus {
                Pane::Collections => Pane::Entries,
                Pane::Entries => Pane::Details,
                Pane::Details => Pane::Collections,
            };
            Vec::new()
        }
        Command::Filter => {
            app.filter_input = Some(match app.focus {
                Pane::Collections => app.collection_filter.clone(),
                _ => app.pages.query().unwrap_or_default().to_owned(),
            });
            Vec::new()
        }
        Command::Sort => sort(app),
        Command::Refresh => refresh(app),
        Command::Escape => escape(app),
        Command::Mark => ops::mark(app),
        Command::RangeMark => ops::range_mark(app),
        Command::MarkAll => ops::mark_all(app),
        Command::Move => ops::pick(app, crate::app::PickFor::Move),
        Command::Link => ops::pick(app, crate::app::PickFor::Link),
        Command::Remove => ops::remove(app),
        Command::Undo => ops::undo(app),
        Command::NewCollection => ops::new_collection(app),
        Command::Rename => ops::rename(app),
        Command::EditMetadata => ops::edit_metadata(app),
    }
}

fn input(app: &mut App, i: Input) -> Vec<Effect> {
    match app.overlay {
        Some(Overlay::Picker(_)) => return ops::picker_input(app, i),
        Some(Overlay::Prompt(_)) => return ops::prompt_input(app, i),
        Some(Overlay::Confirm(_)) => return ops::confirm_input(app, i),
        _ => {}
    }
    let Some(text) = app.filter_input.as_mut() else {
        return Vec::new();
    };
    match i {
        Input::Char(c) => text.push(c),
        Input::Backspace => {
            text.pop();
        }
        Input::Clear => text.clear(),
        Input::Up | Input::Down => {}
        Input::Esc => {
            app.filter_input = None;
            if app.focus == Pane::Collections {
                let filter = app.collection_filter.clone();
                return filter_collections(app, &filter);
            }
            return Vec::new();
        }
        Input::Enter => {
            let text = app.filter_input.take().unwrap_or_default();
            return if app.focus == Pane::Collections {
                app.collection_filter.clone_from(&text);
                filter_collections(app, &text)
            } else {
                filter_entries(app, &text)
            };
        }
    }
    // The collections list is in memory: it is filtered as the filter is typed.
    if app.focus == Pane::Collections {
        let text = text.clone();
        return filter_collections(app, &text);
    }
    Vec::new()
}

/// Rows the entries table shows.
pub(crate) fn page_rows(app: &App) -> usize {
    let areas = Areas::of(app.width, app.height);
    let rows = match app.focus {
        Pane::Collections => areas.collection_rows().height,
        _ => areas.entry_rows().height,
    };
    usize::from(rows.max(1))
}

fn entry_rows(app: &App) -> usize {
    usize::from(Areas::of(app.width, app.height).entry_rows().height.max(1))
}

/// Moves the focused pane's cursor by `delta` rows (`isize::MIN`/`MAX`: to the ends).
fn step(app: &mut App, delta: isize) -> Vec<Effect> {
    if app.focus == Pane::Collections {
        let last = app.collection_rows.len().saturating_sub(1);
        let to = app.collection_cursor.saturating_add_signed(delta).min(last);
        if to == app.collection_cursor && !app.collection_rows.is_empty() {
            return Vec::new();
        }
        app.collection_cursor = to;
        return match app.collection_under_cursor().map(|c| c.id.clone()) {
            Some(id) => open_collection(app, id),
            None => Vec::new(),
        };
    }
    let last = app.pages.len().saturating_sub(1);
    app.cursor = app.cursor.saturating_add_signed(delta).min(last);
    follow_cursor(app)
}

/// Keeps the cursor in view, asks for the pages around the view, and for the item under
/// the cursor when it changed.
pub(crate) fn follow_cursor(app: &mut App) -> Vec<Effect> {
    let rows = entry_rows(app);
    let last = app.pages.len().saturating_sub(1);
    app.cursor = app.cursor.min(last);
    if app.cursor < app.offset {
        app.offset = app.cursor;
    } else if app.cursor >= app.offset + rows {
        app.offset = app.cursor + 1 - rows;
    }
    // No blank rows below the end when the end is known.
    if app.pages.is_exact() && app.offset + rows > app.pages.len() {
        app.offset = app.pages.len().saturating_sub(rows);
    }
    let mut effects = app.pages.wanted(app.offset, app.offset + rows - 1);
    let here = app.entry_under_cursor().map(|e| e.item_id);
    if here != app.cursor_item {
        app.item = None;
        effects.extend(here.map(Effect::LoadItem));
        app.cursor_item = here;
    }
    effects.extend(files::want_preview(app));
    effects
}

/// Shows `id`'s entries from the top, marks cleared (marks belong to one collection).
pub(crate) fn open_collection(app: &mut App, id: CollectionId) -> Vec<Effect> {
    if app.pages.collection() == Some(&id) {
        return Vec::new();
    }
    let total = app
        .collections
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.item_count);
    app.pages.reset(Some(id), app.pages.sort(), None, total);
    app.cursor = 0;
    app.offset = 0;
    app.cursor_item = None;
    app.item = None;
    app.marks = crate::marks::Marks::default();
    app.range_from = None;
    follow_cursor(app)
}

fn sort(app: &mut App) -> Vec<Effect> {
    let next = match app.pages.sort() {
        EntrySort::Position => EntrySort::Name,
        EntrySort::Name => EntrySort::Added,
        EntrySort::Added => EntrySort::Size,
        EntrySort::Size => EntrySort::Position,
    };
    relist(app, next, app.pages.query().map(str::to_owned))
}

/// The open collection listed again in another order or with another filter, from the
/// top; marks stay (they are item ids).
fn relist(app: &mut App, sort: EntrySort, q: Option<String>) -> Vec<Effect> {
    let collection = app.pages.collection().cloned();
    let total = app.open().map(|c| c.item_count);
    app.pages.reset(collection, sort, q, total);
    app.cursor = 0;
    app.offset = 0;
    app.cursor_item = None;
    app.item = None;
    app.range_from = None;
    follow_cursor(app)
}

fn filter_entries(app: &mut App, text: &str) -> Vec<Effect> {
    let q = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    if q.as_deref() == app.pages.query() {
        return Vec::new();
    }
    relist(app, app.pages.sort(), q)
}

/// Recomputes the collections pane's rows for `filter`, keeping the cursor on the same
/// collection when it is still listed.
pub(crate) fn filter_collections(app: &mut App, filter: &str) -> Vec<Effect> {
    let current = app.collection_under_cursor().map(|c| c.id.clone());
    app.collection_rows = fuzzy::rank(
        filter,
        app.collections
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.id.as_str())),
    );
    app.collection_cursor = current
        .and_then(|id| {
            app.collection_rows
                .iter()
                .position(|i| app.collections[*i].id == id)
        })
        .unwrap_or(0);
    Vec::new()
}

/// Everything read again: the collections and the pages in view.
pub(crate) fn refresh(app: &mut App) -> Vec<Effect> {
    app.pages.invalidate();
    let mut effects = vec![Effect::LoadCollections];
    effects.extend(follow_cursor(app));
    effects.extend(app.cursor_item.map(Effect::LoadItem));
    effects
}

fn escape(app: &mut App) -> Vec<Effect> {
    if app.overlay.take().is_some() {
        return Vec::new();
    }
    if app.range_from.take().is_some() {
        app.message = Some(Message::Info("range mark cancelled".into()));
        return Vec::new();
    }
    if app.focus == Pane::Collections && !app.collection_filter.is_empty() {
        app.collection_filter.clear();
        return filter_collections(app, "");
    }
    if app.focus != Pane::Collections && app.pages.query().is_some() {
        return relist(app, app.pages.sort(), None);
    }
    if !app.marks.is_empty() {
        app.marks = crate::marks::Marks::default();
        app.message = Some(Message::Info("marks cleared".into()));
    }
    Vec::new()
}

fn mouse(app: &mut App, m: Mouse) -> Vec<Effect> {
    if app.overlay.is_some() {
        if app.overlay == Some(Overlay::Help) && matches!(m, Mouse::Click { .. }) {
            app.overlay = None;
        }
        return Vec::new();
    }
    let areas = Areas::of(app.width, app.height);
    let (column, row) = match m {
        Mouse::Click { column, row } | Mouse::Scroll { column, row, .. } => (column, row),
    };
    let at = ratatui::layout::Position::new(column, row);
    let pane = if areas.collections.contains(at) {
        Pane::Collections
    } else if areas.entries.contains(at) {
        Pane::Entries
    } else if areas.details.contains(at) {
        Pane::Details
    } else {
        return Vec::new();
    };
    match m {
        Mouse::Scroll { down, .. } => {
            let saved = app.focus;
            app.focus = if pane == Pane::Details {
                Pane::Entries
            } else {
                pane
            };
            let n: isize = if app.focus == Pane::Entries { 3 } else { 1 };
            let effects = step(app, if down { n } else { -n });
            app.focus = saved;
            effects
        }
        Mouse::Click { .. } => {
            app.focus = pane;
            match pane {
                Pane::Collections => {
                    let rows = areas.collection_rows();
                    if !rows.contains(at) {
                        return Vec::new();
                    }
                    let i = usize::from(row - rows.y) + list_offset(app, rows.height);
                    if i >= app.collection_rows.len() {
                        return Vec::new();
                    }
                    app.collection_cursor = i;
                    match app.collection_under_cursor().map(|c| c.id.clone()) {
                        Some(id) => open_collection(app, id),
                        None => Vec::new(),
                    }
                }
                Pane::Entries => {
                    let rows = areas.entry_rows();
                    if !rows.contains(at) {
                        return Vec::new();
                    }
                    let i = app.offset + usize::from(row - rows.y);
                    if i >= app.pages.len() {
                        return Vec::new();
                    }
                    app.cursor = i;
                    follow_cursor(app)
                }
                Pane::Details => Vec::new(),
            }
        }
    }
}

/// The first collection row shown: the list scrolls so that the cursor stays in view.
#[must_use]
pub fn list_offset(app: &App, height: u16) -> usize {
    let h = usize::from(height.max(1));
    app.collection_cursor.saturating_sub(h - 1)
}
