//! The view: draws the model, and nothing else (no IO, no changes). One file per pane and
//! overlay; each renders into a buffer area, so each can be tested on its own.

mod collections;
mod details;
mod entries;
mod history;
mod overlays;
mod preview;
mod status;
#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::app::{App, Overlay, Pane};
use crate::layout::Areas;

pub use self::collections::render as render_collections;
pub use self::details::render as render_details;
pub use self::entries::render as render_entries;
pub use self::status::render as render_status;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// Draws the whole screen into `buf` (what [`draw`] does, without a terminal).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let areas = Areas::of(area.width, area.height);
    collections::render(app, areas.collections, buf);
    entries::render(app, areas.entries, buf);
    if areas.details.width > 0 {
        details::render(app, areas.details, buf);
    }
    status::render(app, areas.status, buf);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => overlays::help(app, area, buf),
        Some(Overlay::Picker(p)) => overlays::picker(app, p, area, buf),
        Some(Overlay::Prompt(p)) => overlays::prompt(p, area, buf),
        Some(Overlay::Confirm(c)) => overlays::confirm(c, area, buf),
        Some(Overlay::History(h)) => history::render(app, h, area, buf),
    }
}

/// A pane's frame: the focused one stands out.
fn pane(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(style)
        .title(title)
        .title_style(Style::new().add_modifier(Modifier::BOLD))
}

fn focused(app: &App, pane: Pane) -> bool {
    app.focus == pane && app.overlay.is_none()
}

/// A box of `width` × `height` cells centred in `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// Writes `text` at (`x`, `y`) cut to `width` cells.
fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, width: u16, style: Style) {
    if width > 0 {
        buf.set_stringn(x, y, text, usize::from(width), style);
    }
}

/// `text` cut to `width` characters, with `…` when cut.
fn ellipsis(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` cut to `width` characters from the left, with `…` when cut: the end of a path
/// (its file name) is what tells it apart.
fn ellipsis_start(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_owned();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(n + 1 - width.max(1)));
    out
}
