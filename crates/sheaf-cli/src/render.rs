//! Human output: aligned columns, sizes, times, and the little colour there is (only on a
//! terminal, never with `NO_COLOR`).

use std::fmt::Write as _;
use std::io::IsTerminal;

use sheaf_core::Timestamp;
use unicode_width::UnicodeWidthChar;

/// How output is shaped for this run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    /// `--json`: the API's JSON instead of tables.
    pub(crate) json: bool,
    /// ANSI colour on stdout.
    pub(crate) color: bool,
}

impl Style {
    /// Colour only when stdout is a terminal, `NO_COLOR` is unset (or empty) and the output
    /// is for a human.
    pub(crate) fn detect(json: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            json,
            color: !json && !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// Bold, for headers.
    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dim, for placeholders.
    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Yellow, for warnings such as `archived`.
    pub(crate) fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Red, for `trashed`.
    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Cell alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// Visible width in terminal columns: a wide character (CJK, most emoji) takes two, a
/// combining mark none, ANSI escapes nothing.
pub(crate) fn width(text: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += UnicodeWidthChar::width(c).unwrap_or(0),
        }
    }
    n
}

/// One row, each cell padded to its width; two spaces between columns; no trailing spaces
/// (the last cell is not padded, and empty cells at the end leave nothing). A cell wider
/// than its column pushes the rest.
pub(crate) fn row<S: AsRef<str>>(cells: &[S], widths: &[usize], aligns: &[Align]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        let w = widths.get(i).copied().unwrap_or(0);
        let pad = w.saturating_sub(width(cell));
        let last = i + 1 == cells.len();
        if i > 0 {
            out.push_str("  ");
        }
        match aligns.get(i).copied().unwrap_or(Align::Left) {
            Align::Right => {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            }
            Align::Left => {
                out.push_str(cell);
                if !last {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
    }
    out.truncate(out.trim_end_matches(' ').len());
    out
}

/// `text` cut to at most `max` terminal columns, an ellipsis marking the cut (plain text:
/// no ANSI escapes).
pub(crate) fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A whole table: widths from the header and every row.
pub(crate) fn table(
    style: Style,
    headers: &[&str],
    aligns: &[Align],
    rows: &[Vec<String>],
) -> Vec<String> {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut lines = Vec::with_capacity(rows.len() + 1);
    let header: Vec<String> = headers.iter().map(|h| style.bold(h)).collect();
    lines.push(row(&header, &widths, aligns));
    lines.extend(rows.iter().map(|r| row(r, &widths, aligns)));
    lines
}

/// `512 B`, `1.5 KiB`, `12 MiB`: the same units as the TUI's.
pub(crate) use sheaf_tui::plain::size;

/// `2026-11-23 01:21` (UTC), from the RFC 3339 form.
pub(crate) fn short_time(t: Timestamp) -> String {
    minutes(&t.to_string())
}

fn minutes(rfc3339: &str) -> String {
    let mut s: String = rfc3339.chars().take(16).collect();
    if s.len() == 16 {
        s.replace_range(10..11, " ");
    }
    s
}

/// `3d 4h`, `12m 5s`, `40s`.
pub(crate) fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// `a, b, c` with at most `max` shown, then `… and N more`.
pub(crate) fn list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if items.len() > max {
        let _ = write!(text, " … and {} more", items.len() - max);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style = Style {
        json: false,
        color: false,
    };

    #[test]
    fn columns_align_and_lines_have_no_trailing_spaces() {
        let rows = vec![
            vec!["default".to_owned(), "3".to_owned(), "Unfiled".to_owned()],
            vec![
                "research_papers".to_owned(),
                "1200".to_owned(),
                "R".to_owned(),
            ],
        ];
        let lines = table(
            PLAIN,
            &["ID", "ITEMS", "NAME"],
            &[Align::Left, Align::Right, Align::Left],
            &rows,
        );
        assert_eq!(
            lines,
            vec![
                "ID               ITEMS  NAME",
                "default              3  Unfiled",
                "research_papers   1200  R",
            ]
        );
    }

    #[test]
    fn empty_last_cells_leave_no_trailing_spaces() {
        let rows = vec![
            vec![
                "papers".to_owned(),
                "Papers".to_owned(),
                "/home/me/p".to_owned(),
            ],
            vec!["default".to_owned(), "Unfiled".to_owned(), String::new()],
        ];
        let lines = table(PLAIN, &["ID", "NAME", "FOLDERS"], &[Align::Left; 3], &rows);
        assert_eq!(
            lines,
            vec![
                "ID       NAME     FOLDERS",
                "papers   Papers   /home/me/p",
                "default  Unfiled",
            ]
        );
    }

    #[test]
    fn colour_does_not_break_alignment() {
        let color = Style {
            json: false,
            color: true,
        };
        let lines = table(
            color,
            &["A", "B"],
            &[Align::Left, Align::Left],
            &[vec![color.red("trashed"), "x".to_owned()]],
        );
        assert_eq!(width(&lines[0]), "A        B".len());
        assert!(
            lines[0].starts_with("\x1b[1mA\x1b[0m      "),
            "{:?}",
            lines[0]
        );
        assert_eq!(width(&lines[1]), "trashed  x".len());
    }

    #[test]
    fn wide_characters_take_two_columns_and_combining_marks_none() {
        assert_eq!(width("論文"), 4);
        assert_eq!(width("e\u{301}t\u{e9}"), 3);
        let plain = Style {
            json: false,
            color: false,
        };
        let lines = table(
            plain,
            &["NAME", "SIZE"],
            &[Align::Left, Align::Right],
            &[
                vec!["論文.pdf".to_owned(), "1 KiB".to_owned()],
                vec!["notes.md".to_owned(), "2 KiB".to_owned()],
            ],
        );
        assert_eq!(lines[1], "論文.pdf  1 KiB");
        assert_eq!(lines[2], "notes.md  2 KiB");
    }

    #[test]
    fn a_wide_cell_pushes_the_rest_instead_of_being_cut() {
        assert_eq!(
            row(&["toolong", "b"], &[3, 1], &[Align::Left, Align::Left]),
            "toolong  b"
        );
    }

    #[test]
    fn sizes_are_short_and_binary() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(5 << 30), "5.0 GiB");
    }

    #[test]
    fn times_are_cut_to_minutes() {
        assert_eq!(minutes("2026-11-23T01:21:31.856254Z"), "2026-11-23 01:21");
        assert_eq!(minutes("short"), "short");
    }

    #[test]
    fn durations_show_the_two_largest_units() {
        assert_eq!(duration(40), "40s");
        assert_eq!(duration(725), "12m 5s");
        assert_eq!(duration(3 * 3600 + 60), "3h 1m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3d 4h");
    }

    #[test]
    fn cut_text_fits_its_columns_with_an_ellipsis() {
        assert_eq!(cut("short", 5), "short");
        assert_eq!(cut("toolong", 5), "tool…");
        assert_eq!(cut("論文論文", 6), "論文…");
        assert_eq!(
            width(&cut("論文論文", 4)),
            3,
            "a wide char that does not fit is left out"
        );
        assert_eq!(cut("abc", 1), "…");
    }

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(list(&["a", "b", "c"], 2), "a, b … and 1 more");
        assert_eq!(list(&["a"], 2), "a");
    }
}
