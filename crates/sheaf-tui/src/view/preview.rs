//! The preview section of the details pane: what [`crate::preview`] read of the file under
//! the cursor, or `reading…` while the read is on its way (the pane never waits for it).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use super::ellipsis;
use crate::app::App;
use crate::plain::{count, size};
use crate::preview::Preview;

/// The section's lines, each cut to `width` cells.
pub(super) fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let mut out = vec![Line::styled(
        "Preview",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    let Some((key, _)) = app.preview_target() else {
        out.push(Line::styled("  (no file on disk)", dim));
        return out;
    };
    let Some(preview) = app.previews.get(&key) else {
        out.push(Line::styled("  reading…", dim));
        return out;
    };
    let cut = |text: String| ellipsis(&text, width);
    match preview {
        Preview::Text { lines, more } => {
            out.extend(lines.iter().map(|l| Line::raw(cut(l.clone()))));
            if *more {
                out.push(Line::styled("…", dim));
            }
        }
        Preview::Image { format, size: dims } => out.push(Line::raw(cut(match dims {
            Some((w, h)) => format!("  {format} image, {w} × {h} px"),
            None => format!("  {format} image (size not in its first 64 KiB)"),
        }))),
        Preview::Archive {
            format,
            members,
            more,
        } => {
            out.push(Line::styled(
                cut(match (members.len(), more) {
                    (0, _) => format!("  {format} archive (no member names read)"),
                    (n, Some(false)) => format!("  {format} archive, {} members:", count(n as u64)),
                    (n, _) => format!("  {format} archive, first {} members:", count(n as u64)),
                }),
                dim,
            ));
            out.extend(members.iter().map(|m| Line::raw(cut(format!("  {m}")))));
        }
        Preview::Binary { kind } => {
            out.push(Line::raw(cut(format!("  {kind}, {}", size(key.size)))));
        }
        Preview::Special { kind } => out.push(Line::raw(cut(format!("  {kind}")))),
        Preview::Empty => out.push(Line::styled("  (empty file)", dim)),
        Preview::Unreadable { reason } => out.push(Line::styled(
            cut(format!("  not readable: {reason}")),
            Style::new().fg(Color::Red),
        )),
    }
    out
}
