//! The details pane: the entry under the cursor — its paths, the folder it mirrors, merged
//! metadata (the item's overlaid by the entry's), the other collections the item is in, and
//! the preview of its file.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use sheaf_core::{EntrySource, MetaValue};
use sheaf_proto::resources::Entry;

use super::{focused, pane};
use crate::app::{App, Pane};
use crate::plain::size;

fn field(name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<9}"), Style::new().fg(Color::DarkGray)),
        Span::raw(value),
    ])
}

fn meta(value: &MetaValue) -> String {
    match value {
        MetaValue::String(s) => format!("{s:?}"),
        MetaValue::Int(n) => n.to_string(),
        MetaValue::Float(x) => x.to_string(),
        MetaValue::Bool(b) => b.to_string(),
    }
}

/// `2026-01-02 03:04:05` from an RFC 3339 timestamp.
fn second(ts: sheaf_core::Timestamp) -> String {
    let text = ts.to_string();
    text.get(..19).unwrap_or(&text).replace('T', " ")
}

/// `manual`, or `folder /home/me/Papers` for a folder entry: the root of its watch, as its
/// collection lists it (`folder:w_…` while the list does not have it yet).
fn source_text(app: &App, e: &Entry, source: &EntrySource) -> String {
    let EntrySource::Folder(watch) = source else {
        return source.to_string();
    };
    app.collections
        .iter()
        .find(|c| c.id == e.collection_id)
        .and_then(|c| c.folders.iter().find(|f| f.watch_id == *watch))
        .map_or_else(|| source.to_string(), |f| format!("folder {}", f.path))
}

/// Draws the pane into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = pane(" Details ".to_owned(), focused(app, Pane::Details));
    let Some(e) = app.entry_under_cursor() else {
        let hint = if app.pages.collection().is_some() && !app.pages.is_empty() {
            "loading…"
        } else {
            ""
        };
        Paragraph::new(hint).block(block).render(area, buf);
        return;
    };
    let mut lines = vec![
        Line::styled(
            e.display_name.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::styled(e.item_id.to_string(), Style::new().fg(Color::DarkGray)),
        field("kind", e.item.kind.to_string()),
        field("size", size(e.item.size)),
        field("modified", second(e.item.mtime)),
        field(
            "path",
            e.item
                .path
                .clone()
                .unwrap_or_else(|| "(file gone)".to_owned()),
        ),
    ];
    let item = app.item.as_ref().filter(|i| i.id == e.item_id);
    if let Some(item) = item {
        if item.path.is_none()
            && let Some(last) = &item.last_path
        {
            lines.push(field("last path", last.clone()));
        }
        lines.push(field("type", item.content_type.clone()));
    }
    if let Some(source) = &e.source {
        lines.push(field("source", source_text(app, e, source)));
    }
    lines.push(field("unique", e.unique_id.clone()));
    lines.push(field("added", second(e.created_at)));
    lines.push(Line::default());
    lines.push(Line::styled(
        "Metadata",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    if e.merged_metadata.is_empty() {
        lines.push(Line::styled("  none", Style::new().fg(Color::DarkGray)));
    }
    for (k, v) in &e.merged_metadata {
        let own = e.metadata.contains_key(k);
        lines.push(Line::from(vec![
            Span::raw(format!("  {k} = {}", meta(v))),
            Span::styled(
                if own { "" } else { "  (item)" },
                Style::new().fg(Color::DarkGray),
            ),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        "Also in",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    match item.and_then(|i| i.collections.as_ref()) {
        None => lines.push(Line::styled("  …", Style::new().fg(Color::DarkGray))),
        Some(cs) => {
            let others: Vec<&str> = cs
                .iter()
                .filter(|c| **c != e.collection_id)
                .map(sheaf_core::CollectionId::as_str)
                .collect();
            if others.is_empty() {
                lines.push(Line::styled(
                    "  no other collection",
                    Style::new().fg(Color::DarkGray),
                ));
            } else {
                lines.push(Line::raw(format!("  {}", others.join(", "))));
            }
        }
    }
    lines.push(Line::default());
    lines.extend(super::preview::lines(
        app,
        usize::from(area.width.saturating_sub(2)),
    ));
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}
