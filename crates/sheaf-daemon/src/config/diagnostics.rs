//! A parse error or a value the daemon refuses, made one line that names the key and where
//! it is written.

use std::fmt::Write as _;
use std::path::Path;

use super::ConfigError;
use super::file::FileConfig;

/// One step of a key's path in the file: a table key or an index in an array of tables.
#[derive(Clone, Copy, Debug)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `watch[0].path`, `rate_limit.burst`.
pub(super) fn key_name(key: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in key {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// `, line 3, column 1` (nothing when unknown).
pub(super) fn location(at: Option<(usize, usize)>) -> String {
    at.map(|(l, c)| format!(", line {l}, column {c}"))
        .unwrap_or_default()
}

/// The 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before, |nl| &before[nl + 1..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Where the value of `key` is written in `text`, if the file holds it.
pub(super) fn locate(text: &str, key: &[Seg<'_>]) -> Option<(usize, usize)> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut span = None;
    let mut segs = key.iter().peekable();
    while let Some(seg) = segs.next() {
        let Seg::Key(k) = seg else { return None };
        let (name, mut value) = table.get_key_value(*k)?;
        span = Some(name.span().start);
        if let Some(Seg::Index(i)) = segs.peek() {
            segs.next();
            value = value.get_ref().as_array()?.get(*i)?;
            span = Some(value.span().start);
        }
        match value.get_ref() {
            toml::de::DeValue::Table(t) => table = t,
            _ if segs.peek().is_none() => span = Some(value.span().start),
            _ => return None,
        }
    }
    span.map(|s| line_col(text, s))
}

/// The deepest key whose name or value covers byte `offset`, as `[segments]`.
fn key_at(text: &str, offset: usize) -> Option<Vec<String>> {
    fn search(
        table: &toml::de::DeTable<'_>,
        offset: usize,
        prefix: &[String],
    ) -> Option<Vec<String>> {
        for (name, value) in table {
            let mut here = prefix.to_vec();
            here.push(name.get_ref().to_string());
            let hit = name.span().contains(&offset) || value.span().contains(&offset);
            match value.get_ref() {
                toml::de::DeValue::Table(t) => {
                    if let Some(found) = search(t, offset, &here) {
                        return Some(found);
                    }
                }
                toml::de::DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let toml::de::DeValue::Table(t) = item.get_ref() {
                            let mut at = here.clone();
                            at.push(format!("[{i}]"));
                            if let Some(found) = search(t, offset, &at) {
                                return Some(found);
                            }
                        }
                    }
                }
                _ => {}
            }
            if hit {
                return Some(here);
            }
        }
        None
    }
    let doc = toml::de::DeTable::parse(text).ok()?;
    search(doc.get_ref(), offset, &[])
}

/// `watch[0].poll` from `["watch", "[0]", "poll"]`.
fn join_key(segs: &[String]) -> String {
    let mut out = String::new();
    for s in segs {
        if !out.is_empty() && !s.starts_with('[') {
            out.push('.');
        }
        out.push_str(s);
    }
    out
}

/// The parser's message made one line that names the key: an unknown key says where it
/// was found and which keys are known there.
fn describe(message: &str, key: Option<&[String]>) -> String {
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return message;
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let parent = &key[..key.len() - 1];
        let place = if parent.is_empty() {
            "at the top level".to_owned()
        } else {
            let table: Vec<String> = parent
                .iter()
                .filter(|s| !s.starts_with('['))
                .cloned()
                .collect();
            format!("in [{}]", table.join("."))
        };
        let expected = rest
            .split_once(", expected ")
            .map(|(_, e)| format!(" (expected {e})"))
            .unwrap_or_default();
        return format!("unknown key `{name}` {place}{expected}");
    }
    format!("`{}`: {message}", join_key(key))
}

pub(super) fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let start = e.span().map(|s| s.start);
        let key = start.and_then(|s| key_at(text, s));
        ConfigError::Invalid {
            path: path.to_path_buf(),
            at: start.map(|s| line_col(text, s)),
            message: describe(e.message(), key.as_deref()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;

    #[test]
    fn an_unknown_key_names_the_line_and_the_key() {
        let err = load("max_batch = 10\nmax_bacth = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("max_bacth"), "{err}");
    }

    #[test]
    fn a_bad_type_names_the_line() {
        let err = load("max_batch = \"many\"\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_table_says_which_table_and_what_is_known() {
        let err = load(
            "max_batch = 10\n\n[[watch]]\npath = \"/a\"\ncollection = \"a\"\nrecursiv = false\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("config /"), "{err}");
        assert!(
            err.contains(
                "config.toml, line 6, column 1: unknown key `recursiv` in [watch] (expected one of"
            ),
            "{err}"
        );
        assert!(err.contains("`recursive`"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn a_bad_type_names_the_key_and_its_column() {
        let err = load("[rate_limit]\nper_second = 5.0\nburst = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3, column 9: `rate_limit.burst`: invalid type"),
            "{err}"
        );
        let err = load("[[watch]]\npath = \"/a\"\ncollection = \"a\"\n[[watch]]\npath = \"/b\"\ncollection = \"b\"\nrecursive = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 7, column 13: `watch[1].recursive`"),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_is_one_line_with_its_position() {
        let err = load("max_batch = 10\nmax_select = \n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(", line 2, column"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}
