//! Where each pane goes for a terminal size: shared by the view (to draw) and by `update`
//! (to know how many rows fit, and what a click landed on).

use ratatui::layout::{Constraint, Layout, Rect};

/// The panes' rectangles (borders included); `details` is empty on narrow terminals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    /// The collections pane.
    pub collections: Rect,
    /// The entries pane.
    pub entries: Rect,
    /// The details pane.
    pub details: Rect,
    /// The status line.
    pub status: Rect,
}

/// Terminals narrower than this show no details pane.
const DETAILS_FROM: u16 = 100;

impl Areas {
    /// The layout of a `width` × `height` terminal.
    #[must_use]
    pub fn of(width: u16, height: u16) -> Self {
        let area = Rect::new(0, 0, width, height);
        let [main, status] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
        let list = (width / 5).clamp(16, 34);
        let details = if width >= DETAILS_FROM {
            (width / 4).clamp(28, 56)
        } else {
            0
        };
        let [collections, entries, details] = Layout::horizontal([
            Constraint::Length(list),
            Constraint::Min(0),
            Constraint::Length(details),
        ])
        .areas(main);
        Self {
            collections,
            entries,
            details,
            status,
        }
    }

    /// The rows of the collections list (inside the border).
    #[must_use]
    pub fn collection_rows(&self) -> Rect {
        inner(self.collections, 0)
    }

    /// The rows of the entries table (inside the border, below the header).
    #[must_use]
    pub fn entry_rows(&self) -> Rect {
        inner(self.entries, 1)
    }
}

fn inner(r: Rect, header: u16) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1 + header),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2 + header),
    )
}
