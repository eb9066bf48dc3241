//! The files behind the entries: opening one with the opener, editing one (the main loop
//! suspends the TUI for the editor), the preview of the one under the cursor, and how
//! entries are named.

use crate::action::Effect;
use crate::app::{App, Message};
use crate::preview::{Preview, PreviewKey};

/// The path of the file under the cursor, or why there is none.
fn file_under_cursor(app: &App) -> Result<String, &'static str> {
    let e = app
        .entry_under_cursor()
        .ok_or("no entry under the cursor")?;
    e.item
        .path
        .clone()
        .ok_or("the file is gone from disk (its item remembers its last path)")
}

pub(super) fn open_file(app: &mut App) -> Vec<Effect> {
    match file_under_cursor(app) {
        Ok(path) => vec![Effect::OpenFile {
            program: app.config.opener.clone(),
            path,
        }],
        Err(why) => {
            app.message = Some(Message::Error(format!("nothing opened: {why}")));
            Vec::new()
        }
    }
}

pub(super) fn edit(app: &mut App) -> Vec<Effect> {
    match file_under_cursor(app) {
        Ok(path) => vec![Effect::Edit { path }],
        Err(why) => {
            app.message = Some(Message::Error(format!("nothing to edit: {why}")));
            Vec::new()
        }
    }
}

pub(super) fn toggle_names(app: &mut App) -> Vec<Effect> {
    app.folder_paths = !app.folder_paths;
    app.message = Some(Message::Info(
        if app.folder_paths {
            "names: paths in the folder (for folder-bound collections)"
        } else {
            "names: display names"
        }
        .to_owned(),
    ));
    Vec::new()
}

/// The read of the preview under the cursor, unless it is here or on its way.
pub(super) fn want_preview(app: &mut App) -> Option<Effect> {
    let (key, path) = app.preview_target()?;
    let path = path.to_owned();
    app.previews
        .ask(&key)
        .then_some(Effect::Preview { key, path })
}

pub(super) fn preview(app: &mut App, key: PreviewKey, preview: Preview) -> Vec<Effect> {
    app.previews.put(key, preview);
    Vec::new()
}

/// The last path component, for messages.
fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(super) fn opened(app: &mut App, path: &str, result: Result<(), String>) -> Vec<Effect> {
    app.message = Some(match result {
        Ok(()) => Message::Info(format!(
            "opened {} with {}",
            name(path),
            app.config.opener.join(" ")
        )),
        Err(why) => Message::Error(format!("opening {} failed: {why}", name(path))),
    });
    Vec::new()
}

pub(super) fn edited(app: &mut App, path: &str, result: Result<(), String>) -> Vec<Effect> {
    app.message = Some(match result {
        // A watch reports the change; the listing follows its events.
        Ok(()) => Message::Info(format!("edited {}", name(path))),
        Err(why) => Message::Error(format!("editing {} failed: {why}", name(path))),
    });
    // The file may have changed without a new size or mtime second: read it again.
    if let Some(item) = app.cursor_item {
        app.previews.forget(item);
    }
    want_preview(app).into_iter().collect()
}
