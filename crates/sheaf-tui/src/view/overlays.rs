//! What covers the panes: the help (every command with its keys, from the keymap in use),
//! the fuzzy collection picker, a one-line prompt, and the yes/no question in front of a
//! batch.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use super::centered;
use crate::app::{App, Confirm, PickFor, Picker, Prompt, PromptFor};
use crate::keys::COMMANDS;

pub(super) fn frame(title: String) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::Cyan))
        .title(title)
        .title_style(Style::new().add_modifier(Modifier::BOLD))
}

/// One command of the help: its keys, then what it does, cut to `width` cells.
fn help_cell(keys: &str, what: &str, key_w: usize, width: usize) -> Vec<Span<'static>> {
    let keys = format!(" {keys:<key_w$}  ");
    let room = width.saturating_sub(keys.chars().count());
    vec![
        Span::styled(keys, Style::new().fg(Color::Yellow)),
        Span::raw(super::ellipsis(what, room)),
    ]
}

/// The keys: one column when the terminal is tall enough, else two side by side.
pub(super) fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let keymap = &app.config.keymap;
    let key_w = COMMANDS
        .iter()
        .map(|(c, _, _)| keymap.keys_of(*c).chars().count())
        .max()
        .unwrap_or(8);
    let what_w = COMMANDS
        .iter()
        .map(|(_, _, what)| what.chars().count())
        .max()
        .unwrap_or(40);
    let footer = [
        " mouse: click selects, the wheel scrolls · badges: A archived, T trash, F folder, S smart",
        " keys are set in [tui.keys] of the config file",
    ];
    let one_column = COMMANDS.len() + footer.len() + 3 <= usize::from(area.height);
    let col_w = key_w + 3 + what_w;
    let mut lines: Vec<Line<'static>> = if one_column {
        COMMANDS
            .iter()
            .map(|(c, _, what)| Line::from(help_cell(&keymap.keys_of(*c), what, key_w, col_w)))
            .collect()
    } else {
        let half = COMMANDS.len().div_ceil(2);
        let col_w = (usize::from(area.width).saturating_sub(4) / 2).min(col_w);
        (0..half)
            .map(|row| {
                let mut spans = Vec::new();
                for (c, _, what) in [Some(row), Some(row + half)]
                    .into_iter()
                    .flatten()
                    .filter_map(|i| COMMANDS.get(i))
                {
                    let mut cell = help_cell(&keymap.keys_of(*c), what, key_w, col_w);
                    let used: usize = cell.iter().map(Span::width).sum();
                    cell.push(Span::raw(" ".repeat(col_w.saturating_sub(used))));
                    spans.extend(cell);
                }
                Line::from(spans)
            })
            .collect()
    };
    lines.push(Line::default());
    for text in footer {
        lines.push(Line::styled(text, Style::new().fg(Color::DarkGray)));
    }
    let width = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 3;
    let r = centered(area, width, lines.len() as u16 + 2);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(frame(" Keys ".to_owned()))
        .render(r, buf);
}

/// The collection picker.
pub(super) fn picker(app: &App, p: &Picker, area: Rect, buf: &mut Buffer) {
    let verb = match p.purpose {
        PickFor::Move => "Move",
        PickFor::Link => "Link",
    };
    let what = match app.marks.count() {
        Some(0) => "the entry under the cursor".to_owned(),
        Some(1) => "1 marked entry".to_owned(),
        Some(n) => format!("{} marked entries", crate::plain::count(n as u64)),
        None => "everything matching".to_owned(),
    };
    let height = (p.rows() as u16 + 4).clamp(6, 18);
    let r = centered(area, 56, height);
    Clear.render(r, buf);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("> ", Style::new().fg(Color::Cyan)),
            Span::raw(format!("{}▏", p.query)),
        ]),
        Line::default(),
    ];
    // The create row keeps the last line of the room.
    let room = usize::from(height.saturating_sub(4))
        .saturating_sub(usize::from(p.create.is_some()))
        .max(1);
    let first = p
        .cursor
        .min(p.matches.len().saturating_sub(1))
        .saturating_sub(room.saturating_sub(1));
    if p.rows() == 0 {
        lines.push(Line::styled(
            "  no collection matches",
            Style::new().fg(Color::DarkGray),
        ));
    }
    for (n, i) in p.matches.iter().enumerate().skip(first).take(room) {
        let Some(c) = app.collections.get(*i) else {
            continue;
        };
        let mut text = format!(
            " {:<30} {:>10}",
            c.id.as_str(),
            crate::plain::count(c.item_count)
        );
        if c.archived {
            text.push_str(" A");
        }
        let style = if n == p.cursor {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        lines.push(Line::styled(text, style));
    }
    match &p.create {
        None => {}
        Some(Ok(id)) => {
            let style = if p.cursor == p.matches.len() {
                Style::new()
                    .fg(Color::Green)
                    .add_modifier(Modifier::REVERSED)
            } else {
                Style::new().fg(Color::Green)
            };
            lines.push(Line::styled(format!(" create {:?}", id.as_str()), style));
        }
        Some(Err(why)) => lines.push(Line::styled(
            format!(" cannot create {:?}: {why}", p.query.trim()),
            Style::new().fg(Color::Red),
        )),
    }
    Paragraph::new(lines)
        .block(frame(format!(" {verb} {what} to… ")))
        .wrap(Wrap { trim: false })
        .render(r, buf);
}

/// Draws the one-line prompt in a box at the centre: what was typed, a hint for what it is for, and
/// the keys that end it.
pub(super) fn prompt(p: &Prompt, area: Rect, buf: &mut Buffer) {
    let (title, hint) = match &p.purpose {
        PromptFor::NewCollection => (
            " New collection ".to_owned(),
            "an id like research_papers: a-z 0-9 _ . -",
        ),
        PromptFor::RenameCollection(id) => (format!(" Rename {id} "), "its display name"),
        PromptFor::RenameEntry(..) => (" Rename entry ".to_owned(), "the entry's display name"),
        PromptFor::Metadata(..) => (
            " Edit metadata ".to_owned(),
            "key=value (true/false and numbers are typed, \"…\" is text); key= deletes",
        ),
    };
    let r = centered(area, 64, 6);
    Clear.render(r, buf);
    Paragraph::new(vec![
        Line::from(vec![
            Span::styled("> ", Style::new().fg(Color::Cyan)),
            Span::raw(format!("{}▏", p.input)),
        ]),
        Line::default(),
        Line::styled(hint, Style::new().fg(Color::DarkGray)),
        Line::styled(
            "enter: done · esc: cancel",
            Style::new().fg(Color::DarkGray),
        ),
    ])
    .block(frame(title))
    .wrap(Wrap { trim: false })
    .render(r, buf);
}

/// A yes/no question.
pub(super) fn confirm(c: &Confirm, area: Rect, buf: &mut Buffer) {
    let r = centered(area, 64, 6);
    Clear.render(r, buf);
    Paragraph::new(vec![
        Line::raw(c.question.clone()),
        Line::default(),
        Line::from(vec![
            Span::styled("y", Style::new().fg(Color::Yellow)),
            Span::raw(" yes   "),
            Span::styled("n", Style::new().fg(Color::Yellow)),
            Span::raw(" no"),
        ]),
    ])
    .block(frame(" Confirm ".to_owned()))
    .wrap(Wrap { trim: false })
    .render(r, buf);
}
