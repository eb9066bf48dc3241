//! A parse error or a value the daemon refuses, made one line that names the key and where
//! it is written.
//!
//! Nothing here reads serde's message text: the key path of a deserialization error comes
//! from `serde_path_to_error`, its position from the `toml` error's span, and the keys a
//! table takes from the types themselves ([`known_keys`]).

use std::fmt::Write as _;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::keys::known_keys;

/// One step of a key's path in the file: a table key or an index in an array of tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    let doc = DeTable::parse(text).ok()?;
    let (Seg::Key(first), rest) = key.split_first()? else {
        return None;
    };
    let mut value = doc.get_ref().get(*first)?;
    for seg in rest {
        value = match (seg, value.get_ref()) {
            (Seg::Key(k), DeValue::Table(table)) => table.get(*k)?,
            (Seg::Index(i), DeValue::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(line_col(text, value.span().start))
}

/// Reads the document `text` as a `T`. A syntax error, a value of the wrong type or a key
/// the table does not take becomes one line naming the key (its path as
/// `serde_path_to_error` tracked it) at the position the `toml` error spans.
pub(super) fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ConfigError> {
    let (error, key) = match toml::Deserializer::parse(text) {
        Err(syntax) => (syntax, None),
        Ok(document) => match serde_path_to_error::deserialize(document) {
            Ok(value) => return Ok(value),
            Err(e) => {
                let key = e.path().clone();
                (e.into_inner(), Some(key))
            }
        },
    };
    let key: Vec<Seg<'_>> = key.iter().flatten().map(seg).collect();
    Err(ConfigError::Invalid {
        path: path.to_path_buf(),
        at: error.span().map(|s| line_col(text, s.start)),
        message: describe::<T>(error.message(), &key),
    })
}

/// A step of the path `serde_path_to_error` tracked. TOML keys are strings, so `Unknown`
/// (a key that is not) does not come out of a TOML document; it is named `?` as the crate
/// names it.
fn seg(segment: &Segment) -> Seg<'_> {
    match segment {
        Segment::Seq { index } => Seg::Index(*index),
        Segment::Map { key } => Seg::Key(key),
        Segment::Enum { variant } => Seg::Key(variant),
        Segment::Unknown => Seg::Key("?"),
    }
}

/// The error made one line that names its key. A key the table does not take is told as
/// such, with where it was found and the keys known there.
fn describe<T: DeserializeOwned>(message: &str, key: &[Seg<'_>]) -> String {
    if let [table @ .., Seg::Key(name)] = key
        && let Some(known) = known_keys::<T>(table)
        && !known.contains(name)
    {
        let tables: Vec<&str> = table
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(*k),
                Seg::Index(_) => None,
            })
            .collect();
        let place = if tables.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in [{}]", tables.join("."))
        };
        return format!("unknown key `{name}` {place} (expected {})", one_of(known));
    }
    // The parser's messages may span lines; the diagnostic is one.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if key.is_empty() {
        message
    } else {
        format!("`{}`: {message}", key_name(key))
    }
}

/// `` `a` or `b` ``, `` one of `a`, `b`, `c` ``: the known keys worded as serde words them
/// (every table of the file takes two keys or more).
fn one_of(known: &[&str]) -> String {
    let quoted: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::refusal;

    #[test]
    fn an_unknown_key_names_the_line_and_the_key() {
        let err = refusal("max_batch = 10\nmax_bacth = 5\n");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("max_bacth"), "{err}");
    }

    #[test]
    fn a_bad_type_names_the_line() {
        let err = refusal("max_batch = \"many\"\n");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_table_says_which_table_and_what_is_known() {
        let err = refusal(
            "max_batch = 10\n\n[[watch]]\npath = \"/a\"\ncollection = \"a\"\nrecursiv = false\n",
        );
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
        let err = refusal("[rate_limit]\nper_second = 5.0\nburst = \"lots\"\n");
        assert!(
            err.contains("line 3, column 9: `rate_limit.burst`: invalid type"),
            "{err}"
        );
        let err = refusal(
            "[[watch]]\npath = \"/a\"\ncollection = \"a\"\n[[watch]]\npath = \"/b\"\ncollection = \"b\"\nrecursive = \"yes\"\n",
        );
        assert!(
            err.contains("line 7, column 13: `watch[1].recursive`"),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_is_one_line_with_its_position() {
        let err = refusal("max_batch = 10\nmax_select = \n");
        assert!(err.contains(", line 2, column"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn the_key_path_reaches_the_element_and_the_table() {
        let err = refusal("read_only_uids = [1, \"x\"]\n");
        assert!(
            err.contains("line 1, column 22: `read_only_uids[1]`: invalid type"),
            "{err}"
        );
        let err = refusal("[[watch]]\npath = \"/a\"\n");
        assert!(
            err.contains("`watch[0]`: missing field `collection`"),
            "{err}"
        );
    }
}
