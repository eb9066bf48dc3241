//! The status line: the daemon connection, then what is running or the last summary or
//! error (or, on the collections pane, the folders of the collection under the cursor),
//! and the help key on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};

use super::put;
use crate::action::Command;
use crate::app::{App, Connection, Message, Pane};
use crate::plain::count;

/// What the `F` badge of the collection under the cursor stands for, while the
/// collections pane has the focus: `folder /home/me/Papers`, or `folders a, b`.
fn folders_under_cursor(app: &App) -> Option<String> {
    if app.focus != Pane::Collections {
        return None;
    }
    let paths: Vec<&str> = app
        .collection_under_cursor()?
        .folders
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    match paths.as_slice() {
        [] => None,
        [one] => Some(format!("folder {one}")),
        many => Some(format!("folders {}", many.join(", "))),
    }
}

/// Draws the line into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let (conn, style) = match &app.connection {
        Connection::Connecting => ("◌ connecting".to_owned(), Style::new().fg(Color::Yellow)),
        Connection::Connected => ("● connected".to_owned(), Style::new().fg(Color::Green)),
        Connection::Reconnecting { attempt, reason } => (
            format!("◌ reconnecting (try {attempt}): {reason}"),
            Style::new().fg(Color::Yellow),
        ),
    };
    let help = format!("{} help ", app.config.keymap.first_key(Command::Help));
    let help_w = help.chars().count() as u16;
    let conn_w = (conn.chars().count() as u16 + 1).min(area.width);
    put(buf, area.x, area.y, &conn, conn_w, style);
    let (text, style) = if let Some(busy) = &app.busy {
        let text = if app.busy_ticks > 0 {
            format!("{busy} {} s", app.busy_ticks)
        } else {
            busy.clone()
        };
        (text, Style::new().fg(Color::Cyan))
    } else if !app.progress.lines.is_empty() {
        (app.progress.lines.join(" · "), Style::new().fg(Color::Cyan))
    } else if let Some(m) = &app.message {
        match m {
            Message::Info(t) => (t.clone(), Style::new()),
            Message::Error(t) => (t.clone(), Style::new().fg(Color::Red)),
        }
    } else if app.pages.is_loading() {
        let (known, all) = app.pages.walk_progress();
        match all {
            Some(all) if all > 1 => (
                format!(
                    "loading… page {} of {}",
                    count(known as u64),
                    count(all as u64)
                ),
                Style::new().fg(Color::DarkGray),
            ),
            _ => ("loading…".to_owned(), Style::new().fg(Color::DarkGray)),
        }
    } else if let Some(folders) = folders_under_cursor(app) {
        (folders, Style::new().fg(Color::DarkGray))
    } else {
        (String::new(), Style::new())
    };
    let x = area.x + conn_w;
    let w = area.width.saturating_sub(conn_w + help_w);
    put(
        buf,
        x,
        area.y,
        &super::ellipsis(&text, usize::from(w.saturating_sub(1))),
        w,
        style,
    );
    put(
        buf,
        area.right().saturating_sub(help_w),
        area.y,
        &help,
        help_w,
        Style::new().fg(Color::DarkGray),
    );
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    use super::*;
    use crate::testdata;

    fn line(app: &App) -> String {
        let area = Rect::new(0, 0, 50, 1);
        let mut buf = Buffer::empty(area);
        render(app, area, &mut buf);
        (0..50).map(|x| buf[(x, 0)].symbol().to_owned()).collect()
    }

    #[test]
    fn the_status_line_shows_connection_summary_and_help_key() {
        let mut app = testdata::app_with_entries(3, 3);
        app.message = Some(Message::Info(
            "moved 312 to papers · 4 already there".into(),
        ));
        let expected = Buffer::with_lines(["● connected moved 312 to papers · 4 alrea… ? help "]);
        let got = line(&app);
        let want: String = (0..50)
            .map(|x| expected[(x, 0)].symbol().to_owned())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_folder_bound_collection_under_the_cursor_shows_its_folder_paths() {
        let mut app = testdata::app_with_entries(3, 3);
        app.focus = crate::app::Pane::Collections;
        assert!(!line(&app).contains("folder"), "{}", line(&app));
        app.collections[1].folders = ["/srv/a", "/srv/b"]
            .into_iter()
            .map(|path| sheaf_proto::resources::Folder {
                watch_id: "w_01JD3Q2X9K8M7N6P5R4S3T2V1W".parse().unwrap(),
                path: path.to_owned(),
            })
            .collect();
        assert!(
            line(&app).starts_with("● connected folders /srv/a, /srv/b "),
            "{}",
            line(&app)
        );
        app.focus = crate::app::Pane::Entries;
        assert!(!line(&app).contains("/srv/a"), "{}", line(&app));
    }

    #[test]
    fn a_running_operation_shows_its_seconds_and_the_daemons_work_shows_until_done() {
        let mut app = testdata::app_with_entries(3, 3);
        app.message = Some(Message::Info("moved 2 to papers".into()));
        app.busy = Some("moving every entry…".into());
        app.busy_ticks = 3;
        assert!(
            line(&app).starts_with("● connected moving every entry… 3 s "),
            "{}",
            line(&app)
        );
        app.busy = None;
        app.progress.lines = vec!["scanning /srv/doc".into()];
        assert!(
            line(&app).starts_with("● connected scanning /srv/doc "),
            "{}",
            line(&app)
        );
        app.progress.lines.clear();
        assert!(line(&app).starts_with("● connected moved 2 to papers"));
    }

    #[test]
    fn reconnecting_shows_the_try_and_the_reason() {
        let mut app = testdata::app_with_entries(3, 3);
        app.connection = Connection::Reconnecting {
            attempt: 2,
            reason: "gone".into(),
        };
        assert!(line(&app).starts_with("◌ reconnecting (try 2): gone"));
    }
}
