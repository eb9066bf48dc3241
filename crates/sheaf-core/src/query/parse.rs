//! JSON → [`Query`], every problem reported with its location.

use serde_json::{Map, Value};

use super::{Bounds, MAX_QUERY_VALUES, Query};
use crate::error::{FieldError, Loc};
use crate::id::{CollectionId, WatchId};
use crate::kind::Kind;
use crate::model::mime_pattern;
use crate::rules::validate_name;
use crate::time::Timestamp;

/// The fields of a query, in SPEC order.
const FIELDS: [&str; 12] = [
    "kind",
    "content_type",
    "path",
    "name",
    "size",
    "mtime",
    "metadata",
    "in",
    "not_in",
    "duplicate",
    "watch",
    "deleted",
];

/// What one value turns into, or why it cannot: (message, error type).
pub(crate) type Item<T> = Result<T, (String, &'static str)>;

pub(super) fn parse(value: &Value, loc: &[Loc]) -> Result<Query, Vec<FieldError>> {
    let mut p = Parser::default();
    let Some(object) = p.object(value, loc) else {
        return Err(p.errors);
    };
    let mut q = Query::default();
    for (key, v) in object {
        let at = &join(loc, key.as_str());
        match key.as_str() {
            "kind" => q.kind = p.list(v, at, "kind", kind),
            "content_type" => q.content_type = p.list(v, at, "MIME pattern", content_type),
            "path" => q.path = p.list(v, at, "glob", glob),
            "name" => q.name = p.name(v, at),
            "size" => q.size = p.range(v, at, ["min", "max"], size),
            "mtime" => q.mtime = p.range(v, at, ["after", "before"], timestamp),
            "metadata" => q.metadata = p.metadata(v, at),
            "in" => q.in_ = p.list(v, at, "collection id", collection),
            "not_in" => q.not_in = p.list(v, at, "collection id", collection),
            "duplicate" => q.duplicate = p.boolean(v, at),
            "watch" => q.watch = p.list(v, at, "watch id", watch),
            "deleted" => q.deleted = p.boolean(v, at).unwrap_or(false),
            other => p.unknown(at, other, &FIELDS),
        }
    }
    if let Some(b) = &q.size
        && b.min.zip(b.max).is_some_and(|(min, max)| min > max)
    {
        p.error(join(loc, "size"), "min is larger than max", "range");
    }
    if let Some(b) = &q.mtime
        && b.min
            .zip(b.max)
            .is_some_and(|(after, before)| after >= before)
    {
        p.error(
            join(loc, "mtime"),
            "after must be earlier than before",
            "range",
        );
    }
    if p.errors.is_empty() {
        Ok(q)
    } else {
        Err(p.errors)
    }
}

pub(crate) fn join(loc: &[Loc], more: impl Into<Loc>) -> Vec<Loc> {
    let mut l = loc.to_vec();
    l.push(more.into());
    l
}

/// The JSON type of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads a query, collecting every problem.
pub(crate) struct Parser {
    pub(crate) errors: Vec<FieldError>,
    /// The error type of an unknown field: `query.unknown_field`, or the caller's own.
    pub(crate) unknown_type: &'static str,
}

impl Default for Parser {
    fn default() -> Self {
        Self {
            errors: Vec::new(),
            unknown_type: "query.unknown_field",
        }
    }
}

impl Parser {
    pub(crate) fn error(&mut self, loc: Vec<Loc>, msg: impl Into<String>, kind: &str) {
        self.errors.push(FieldError::new(loc, msg, kind));
    }

    pub(crate) fn wrong_type(&mut self, loc: &[Loc], expected: &str, got: &Value) {
        let msg = format!("expected {expected}, got {}", type_name(got));
        self.error(loc.to_vec(), msg, "type");
    }

    pub(crate) fn unknown(&mut self, loc: &[Loc], key: &str, known: &[&str]) {
        let msg = format!(
            "unknown field {key:?}; expected one of: {}",
            known.join(", ")
        );
        self.error(loc.to_vec(), msg, self.unknown_type);
    }

    pub(crate) fn object<'v>(
        &mut self,
        v: &'v Value,
        loc: &[Loc],
    ) -> Option<&'v Map<String, Value>> {
        let object = v.as_object();
        if object.is_none() {
            self.wrong_type(loc, "an object", v);
        }
        object
    }

    pub(crate) fn boolean(&mut self, v: &Value, loc: &[Loc]) -> Option<bool> {
        match v {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(loc, "true or false", other);
                None
            }
        }
    }

    /// A list of strings (or one string), each read by `read`; `None` when null or invalid.
    pub(crate) fn list<T>(
        &mut self,
        v: &Value,
        loc: &[Loc],
        what: &str,
        read: fn(&str) -> Item<T>,
    ) -> Option<Vec<T>> {
        let (strings, one): (Vec<(&Value, Vec<Loc>)>, bool) = match v {
            Value::Null => return None,
            Value::String(_) => (vec![(v, loc.to_vec())], true),
            Value::Array(values) => {
                let at = |(i, v)| (v, join(loc, i));
                (values.iter().enumerate().map(at).collect(), false)
            }
            other => {
                self.wrong_type(loc, &format!("a {what} or a list of them"), other);
                return None;
            }
        };
        if !one && !self.count(strings.len(), loc) {
            return None;
        }
        let before = self.errors.len();
        let mut out = Vec::with_capacity(strings.len());
        for (value, at) in strings {
            match value.as_str() {
                Some(s) => match read(s) {
                    Ok(t) => out.push(t),
                    Err((msg, kind)) => self.error(at, msg, kind),
                },
                None => self.wrong_type(&at, &format!("a {what}"), value),
            }
        }
        (self.errors.len() == before).then_some(out)
    }

    /// Whether a list's length is within 1 and [`MAX_QUERY_VALUES`]; reports it if not.
    pub(crate) fn count(&mut self, len: usize, loc: &[Loc]) -> bool {
        if len == 0 {
            let msg = "the list is empty; leave the field out not to filter on it";
            self.error(loc.to_vec(), msg, "too_short");
        } else if len > MAX_QUERY_VALUES {
            let msg = format!("at most {MAX_QUERY_VALUES} values are allowed, got {len}");
            self.error(loc.to_vec(), msg, "too_long");
        }
        (1..=MAX_QUERY_VALUES).contains(&len)
    }

    pub(crate) fn name(&mut self, v: &Value, loc: &[Loc]) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) => {
                let before = self.errors.len();
                validate_name(s, loc.to_vec(), &mut self.errors);
                (self.errors.len() == before).then(|| s.clone())
            }
            other => {
                self.wrong_type(loc, "a string", other);
                None
            }
        }
    }

    /// `{"<lower>": …, "<upper>": …}`, or null; `None` when null, invalid or without bounds.
    /// The order of the bounds is checked by the caller.
    fn range<T>(
        &mut self,
        v: &Value,
        loc: &[Loc],
        names: [&str; 2],
        read: fn(&Value) -> Item<T>,
    ) -> Option<Bounds<T>> {
        if v.is_null() {
            return None;
        }
        let object = self.object(v, loc)?;
        self.bounds(object, loc, names, &names, read)
            .filter(|b| b.min.is_some() || b.max.is_some())
    }

    /// The bounds named `names` (lower, upper) in `object`, each null or read by `read`;
    /// `None` when one is invalid or `object` has a key not in `known`.
    pub(super) fn bounds<T>(
        &mut self,
        object: &Map<String, Value>,
        loc: &[Loc],
        names: [&str; 2],
        known: &[&str],
        read: fn(&Value) -> Item<T>,
    ) -> Option<Bounds<T>> {
        let before = self.errors.len();
        let mut bounds = Bounds {
            min: None,
            max: None,
        };
        for (key, value) in object {
            let at = join(loc, key.as_str());
            let slot = match key.as_str() {
                k if k == names[0] => &mut bounds.min,
                k if k == names[1] => &mut bounds.max,
                other => {
                    self.unknown(&at, other, known);
                    continue;
                }
            };
            if value.is_null() {
                continue;
            }
            match read(value) {
                Ok(t) => *slot = Some(t),
                Err((msg, kind)) => self.error(at, msg, kind),
            }
        }
        (self.errors.len() == before).then_some(bounds)
    }
}

fn kind(s: &str) -> Item<Kind> {
    s.parse().map_err(|()| {
        let kinds: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let msg = format!("{s:?} is not a kind; expected one of: {}", kinds.join(", "));
        (msg, "kind")
    })
}

fn content_type(s: &str) -> Item<String> {
    mime_pattern(s).ok_or_else(|| {
        let msg = format!("{s:?} is not a MIME pattern like application/pdf or image/*");
        (msg, "content_type")
    })
}

fn glob(s: &str) -> Item<String> {
    let anchored = s.starts_with('/') || s.starts_with("**") || s == "~" || s.starts_with("~/");
    if !anchored {
        let msg = format!(
            "{s:?} cannot match an absolute path; start it with /, ~/ or **/ (e.g. **/{s})"
        );
        return Err((msg, "glob"));
    }
    globset::GlobBuilder::new(s)
        .literal_separator(true)
        .build()
        .map(|_| s.to_owned())
        .map_err(|e| (format!("{s:?} is not a valid glob: {}", e.kind()), "glob"))
}

fn collection(s: &str) -> Item<CollectionId> {
    CollectionId::parse(s).map_err(|e| (e.to_string(), "slug"))
}

fn watch(s: &str) -> Item<WatchId> {
    s.parse().map_err(|e: crate::IdError| (e.to_string(), "id"))
}

fn size(v: &Value) -> Item<u64> {
    match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            let msg = format!("{n} is not a size: sizes are whole numbers of bytes, 0 or more");
            (msg, "size")
        }),
        other => Err((
            format!("expected a number, got {}", type_name(other)),
            "type",
        )),
    }
}

fn timestamp(v: &Value) -> Item<Timestamp> {
    match v {
        Value::String(s) => s.parse().map_err(|_| {
            let msg = format!("{s:?} is not an RFC 3339 timestamp like 2026-01-01T00:00:00Z");
            (msg, "timestamp")
        }),
        other => Err((
            format!("expected a string, got {}", type_name(other)),
            "type",
        )),
    }
}
