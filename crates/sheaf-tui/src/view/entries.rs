//! The entries pane: a header and only the rows in view (a million-entry collection draws
//! as fast as a ten-entry one). Marked rows carry `●`; rows whose page has not arrived yet
//! show `…`.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;
use sheaf_proto::requests::EntrySort;
use sheaf_proto::resources::Entry;

use super::{ellipsis, ellipsis_start, focused, pane, put};
use crate::app::{App, Pane};
use crate::marks::Marks;
use crate::plain::{count, size};

const KIND: u16 = 9;
const SIZE: u16 = 9;
const MODIFIED: u16 = 11;
const SOURCE: u16 = 7;

/// What the title says of the listing.
fn title(app: &App) -> String {
    let Some(id) = app.pages.collection() else {
        return " Entries ".to_owned();
    };
    let n = app.pages.len() as u64;
    let mut t = format!(
        " {id} · {}{} ",
        count(n),
        if app.pages.is_exact() { "" } else { "+" }
    );
    t.push_str(if n == 1 { "entry" } else { "entries" });
    let sort = match app.pages.sort() {
        EntrySort::Position => "position",
        EntrySort::Name => "name",
        EntrySort::Added => "added",
        EntrySort::Size => "size",
    };
    let _ = write!(t, " · by {sort}");
    match (&app.filter_input, app.focus) {
        (Some(typing), Pane::Entries | Pane::Details) => {
            let _ = write!(t, " · /{typing}▏");
        }
        _ => {
            if let Some(q) = app.pages.query() {
                let _ = write!(t, " · /{q}");
            }
        }
    }
    match &app.marks {
        Marks::All { .. } => t.push_str(" · all matching marked"),
        Marks::Ids(ids) if !ids.is_empty() => {
            let _ = write!(t, " · {} marked", count(ids.len() as u64));
        }
        Marks::Ids(_) => {}
    }
    t.push(' ');
    t
}

/// `2026-01-02` from an RFC 3339 timestamp.
fn day(ts: sheaf_core::Timestamp) -> String {
    let text = ts.to_string();
    text.get(..10).unwrap_or(&text).to_owned()
}

fn source(e: &Entry) -> String {
    match &e.source {
        None => "unfiled".to_owned(),
        Some(sheaf_core::EntrySource::Manual) => "manual".to_owned(),
        Some(sheaf_core::EntrySource::Folder(_)) => "folder".to_owned(),
        Some(sheaf_core::EntrySource::Query) => "query".to_owned(),
        Some(sheaf_core::EntrySource::Rule(_)) => "rule".to_owned(),
    }
}

/// The entry's path below the root of one of the collection's `folders` (the first that
/// holds it), else its display name.
fn name<'a>(e: &'a Entry, folders: &[sheaf_proto::resources::Folder]) -> &'a str {
    let Some(path) = e.item.path.as_deref() else {
        return &e.display_name;
    };
    folders
        .iter()
        .find_map(|f| {
            path.strip_prefix(f.path.trim_end_matches('/'))?
                .strip_prefix('/')
        })
        .unwrap_or(&e.display_name)
}

/// Draws the pane into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = pane(title(app), focused(app, Pane::Entries));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let fixed = 2 + KIND + SIZE + MODIFIED + SOURCE;
    let name_w = inner.width.saturating_sub(fixed).max(4);
    let cols = [
        (inner.x + 2, name_w),
        (inner.x + 2 + name_w, KIND),
        (inner.x + 2 + name_w + KIND, SIZE),
        (inner.x + 2 + name_w + KIND + SIZE, MODIFIED),
        (inner.x + 2 + name_w + KIND + SIZE + MODIFIED, SOURCE),
    ];
    let head = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    // Folder-bound collections name entries by their place in the folder (`t` toggles).
    let folders = match app.open() {
        Some(c) if app.folder_paths => c.folders.as_slice(),
        _ => &[],
    };
    let first = if folders.is_empty() { "Name" } else { "Path" };
    for ((x, w), label) in cols
        .iter()
        .zip([first, "Kind", "Size", "Modified", "Source"])
    {
        put(
            buf,
            *x,
            inner.y,
            label,
            (*w).min(inner.right().saturating_sub(*x)),
            head,
        );
    }
    let rows = inner.height - 1;
    let dim = Style::new().fg(Color::DarkGray);
    if app.pages.collection().is_some() && app.pages.is_empty() {
        let text = if app.pages.is_loading() {
            "loading…"
        } else if app.pages.query().is_some() {
            "no entry matches the filter"
        } else {
            "no entries"
        };
        put(buf, inner.x + 2, inner.y + 1, text, inner.width - 2, dim);
        return;
    }
    let total = app.pages.len();
    for r in 0..rows {
        let i = app.offset + usize::from(r);
        if i >= total {
            break;
        }
        let y = inner.y + 1 + r;
        let here = i == app.cursor;
        let mut style = Style::new();
        if here && app.focus != Pane::Collections {
            style = style.add_modifier(Modifier::REVERSED);
        }
        if let Some(range) = app.range_from
            && (range.min(app.cursor)..=range.max(app.cursor)).contains(&i)
        {
            style = style.fg(Color::Magenta);
        }
        let Some(e) = app.pages.row(i) else {
            put(
                buf,
                inner.x,
                y,
                &" ".repeat(usize::from(inner.width)),
                inner.width,
                style,
            );
            put(buf, inner.x + 2, y, "…", 1, dim);
            continue;
        };
        let marked = app.marks.contains(e);
        if marked {
            style = style.fg(Color::Yellow).add_modifier(Modifier::BOLD);
        }
        put(
            buf,
            inner.x,
            y,
            &" ".repeat(usize::from(inner.width)),
            inner.width,
            style,
        );
        put(buf, inner.x, y, if marked { "●" } else { " " }, 1, style);
        let cells = [
            if folders.is_empty() {
                ellipsis(&e.display_name, usize::from(name_w.saturating_sub(1)))
            } else {
                ellipsis_start(name(e, folders), usize::from(name_w.saturating_sub(1)))
            },
            e.item.kind.to_string(),
            size(e.item.size),
            day(e.item.mtime),
            source(e),
        ];
        for ((x, w), text) in cols.iter().zip(cells) {
            let w = (*w).min(inner.right().saturating_sub(*x));
            put(buf, *x, y, &text, w.saturating_sub(1), style);
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    use super::*;
    use crate::testdata;

    #[test]
    fn only_loaded_rows_show_and_marks_show_as_dots() {
        let mut app = testdata::app_with_entries(3, 40);
        app.marks.toggle(testdata::item(1));
        let area = Rect::new(0, 0, 60, 6);
        let mut buf = Buffer::empty(area);
        render(&app, area, &mut buf);
        let expected = Buffer::with_lines([
            "┏ inbox · 3 entries · by position · 1 marked ━━━━━━━━━━━━━━┓",
            "┃  Name                Kind     Size     Modified   Source ┃",
            "┃  file-00000.pdf      document 1.2 KiB  2026-01-02 manual ┃",
            "┃● file-00001.pdf      document 1.2 KiB  2026-01-02 manual ┃",
            "┃  file-00002.pdf      document 1.2 KiB  2026-01-02 manual ┃",
            "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
        ]);
        let text = |b: &Buffer| -> Vec<String> {
            (0..b.area.height)
                .map(|y| {
                    (0..b.area.width)
                        .map(|x| b[(x, y)].symbol().to_owned())
                        .collect()
                })
                .collect()
        };
        assert_eq!(text(&buf), text(&expected));
    }
}
