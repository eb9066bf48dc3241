//! The collections pane: id, live count, and badges — `A` archived, `T` in the trash,
//! `F` bound to a watched folder, `S` smart (kept by its query; `S…` while it fills). The open collection is bold; the cursor row is reversed
//! when the pane has the focus.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;

use super::{focused, pane, put};
use crate::app::{App, Pane};
use crate::plain::count;
use crate::update::list_offset;

/// Draws the pane into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let filter = match (&app.filter_input, app.focus) {
        (Some(typing), Pane::Collections) => format!(" /{typing}▏"),
        _ if !app.collection_filter.is_empty() => format!(" /{}", app.collection_filter),
        _ => String::new(),
    };
    let block = pane(
        format!(" Collections{filter} "),
        focused(app, Pane::Collections),
    );
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width < 4 {
        return;
    }
    if !app.collections_loaded {
        put(
            buf,
            inner.x,
            inner.y,
            "loading…",
            inner.width,
            Style::new().fg(Color::DarkGray),
        );
        return;
    }
    if app.collection_rows.is_empty() {
        put(
            buf,
            inner.x,
            inner.y,
            "no match",
            inner.width,
            Style::new().fg(Color::DarkGray),
        );
        return;
    }
    let first = list_offset(app, inner.height);
    let open = app.pages.collection();
    for (n, &i) in app
        .collection_rows
        .iter()
        .enumerate()
        .skip(first)
        .take(usize::from(inner.height))
    {
        let Some(c) = app.collections.get(i) else {
            continue;
        };
        let y = inner.y + (n - first) as u16;
        let mut badges = String::new();
        if c.archived {
            badges.push('A');
        }
        if c.trashed_at.is_some() {
            badges.push('T');
        }
        if !c.folders.is_empty() {
            badges.push('F');
        }
        if c.query.is_some() {
            badges.push('S');
            if c.filling == Some(true) {
                badges.push('…');
            }
        }
        let right = if badges.is_empty() {
            count(c.item_count)
        } else {
            format!("{} {badges}", count(c.item_count))
        };
        let mut style = Style::new();
        if open == Some(&c.id) {
            style = style.add_modifier(Modifier::BOLD);
        }
        if c.trashed_at.is_some() || c.archived {
            style = style.fg(Color::DarkGray);
        }
        let here = n == app.collection_cursor;
        if here && app.focus == Pane::Collections {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let width = inner.width;
        let line = " ".repeat(usize::from(width));
        put(buf, inner.x, y, &line, width, style);
        let marker = if here { "▸" } else { " " };
        put(buf, inner.x, y, marker, 1, style);
        let right_w = right.chars().count() as u16;
        let name_w = width.saturating_sub(right_w + 2);
        put(
            buf,
            inner.x + 1,
            y,
            &super::ellipsis(c.id.as_str(), usize::from(name_w)),
            name_w,
            style,
        );
        put(
            buf,
            inner.x + width.saturating_sub(right_w),
            y,
            &right,
            right_w,
            style,
        );
    }
}
