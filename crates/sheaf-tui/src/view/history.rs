//! The history overlay: one row per op, newest first — when, what, where, counts, and
//! whether it was undone — the selected one highlighted, and the rules' latest runs below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use sheaf_proto::resources::{Op, RuleRun};

use super::overlays::frame;
use super::{centered, ellipsis};
use crate::action::Command;
use crate::app::{App, History};
use crate::plain::count;

/// `2026-01-02 03:04:05`.
fn when(ts: sheaf_core::Timestamp) -> String {
    let text = ts.to_string();
    text.get(..19).unwrap_or(&text).replace('T', " ")
}

/// What an op did, in counts.
pub(crate) fn counts(op: &Op) -> String {
    if let Some(s) = &op.summary {
        let mut parts = vec![format!("{} added", count(s.added))];
        if s.moved > 0 {
            parts.push(format!("{} moved", count(s.moved)));
        }
        if s.already_in_collection > 0 {
            parts.push(format!("{} already there", count(s.already_in_collection)));
        }
        return parts.join(" · ");
    }
    if let Some(r) = &op.removed {
        if r.already_removed > 0 {
            return format!(
                "{} removed · {} already removed",
                count(r.removed),
                count(r.already_removed)
            );
        }
        return format!("{} removed", count(r.removed));
    }
    format!("{} changed", count(op.changed))
}

fn op_line(op: &Op, width: usize, selected: bool) -> Line<'static> {
    let what = match op.undo_of {
        Some(of) => format!("undo of {of}"),
        None => op.kind.clone(),
    };
    let place = op
        .collection_id
        .as_ref()
        .map_or_else(|| "—".to_owned(), ToString::to_string);
    let mut text = format!(
        " {}  {:<10} {:<20} {}",
        when(op.at),
        ellipsis(&what, 10),
        ellipsis(&place, 20),
        counts(op)
    );
    if op.undone_by.is_some() {
        text.push_str("  (undone)");
    }
    let mut style = Style::new();
    if op.undone_by.is_some() {
        style = style.fg(Color::DarkGray);
    }
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::styled(ellipsis(&text, width), style)
}

fn run_line(run: &RuleRun, width: usize) -> Line<'static> {
    let (mark, style) = if run.ok {
        ("ok    ", Style::new().fg(Color::Green))
    } else {
        ("failed", Style::new().fg(Color::Red))
    };
    let text = format!(" {}  {}  {}", when(run.at), run.rule_id, run.detail);
    Line::from(vec![
        Span::styled(format!(" {mark}"), style),
        Span::raw(ellipsis(&text, width.saturating_sub(7))),
    ])
}

/// Draws the log over `area`.
pub(super) fn render(app: &App, h: &History, area: Rect, buf: &mut Buffer) {
    let r = centered(
        area,
        area.width.saturating_sub(6).min(120),
        area.height.saturating_sub(2),
    );
    Clear.render(r, buf);
    let inner_w = usize::from(r.width.saturating_sub(2));
    let inner_h = usize::from(r.height.saturating_sub(2));
    let runs = if h.runs.is_empty() {
        0
    } else {
        (h.runs.len() + 2).min(inner_h / 3)
    };
    let room = inner_h.saturating_sub(runs + 2).max(1);
    let dim = Style::new().fg(Color::DarkGray);
    let mut lines = vec![Line::styled(
        format!(
            " {:<19}  {:<10} {:<20} {}",
            "When", "What", "Where", "Counts"
        ),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    if h.ops.is_empty() {
        lines.push(Line::styled(
            if h.loaded {
                "  no operations yet"
            } else {
                "  loading…"
            },
            dim,
        ));
    }
    let first = h.cursor.saturating_sub(room.saturating_sub(1));
    for (i, op) in h.ops.iter().enumerate().skip(first).take(room) {
        lines.push(op_line(op, inner_w, i == h.cursor));
    }
    while lines.len() < room + 1 {
        lines.push(Line::default());
    }
    if runs > 0 {
        lines.push(Line::styled(
            " Rule runs",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for run in h.runs.iter().take(runs - 2) {
            lines.push(run_line(run, inner_w));
        }
    }
    let keys = &app.config.keymap;
    lines.push(Line::styled(
        format!(
            " {} undo the selected op · {} close · {}",
            keys.first_key(Command::Undo),
            keys.first_key(Command::Escape),
            if h.next_cursor.is_some() {
                "older ops load as you scroll"
            } else {
                "that is every op"
            }
        ),
        dim,
    ));
    let title = format!(
        " History · {}{} ops, newest first ",
        count(h.ops.len() as u64),
        if h.next_cursor.is_some() { "+" } else { "" }
    );
    Paragraph::new(lines).block(frame(title)).render(r, buf);
}
