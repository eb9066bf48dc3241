//! The canonical JSON form of a [`Query`], and its serde form: that JSON object in
//! human-readable formats, that JSON as one string in binary ones (postcard is not
//! self-describing, so it cannot carry a free-form object).

use std::fmt::Write as _;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Bounds, MetaCondition, Query};
use crate::error::{FieldError, Loc};
use crate::metadata::MetaValue;

pub(super) fn to_json(q: &Query) -> Value {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            out.insert(key.to_owned(), v);
        }
    };
    put("kind", strings(q.kind.as_deref()));
    put("content_type", strings(q.content_type.as_deref()));
    put("path", strings(q.path.as_deref()));
    put("name", q.name.clone().map(Value::String));
    put(
        "size",
        q.size
            .as_ref()
            .map(|b| bounds(b, "min", "max", |n| Value::from(*n))),
    );
    put(
        "mtime",
        (q.mtime.as_ref()).map(|b| bounds(b, "after", "before", |t| t.to_string().into())),
    );
    put("metadata", (!q.metadata.is_empty()).then(|| metadata(q)));
    put("in", strings(q.in_.as_deref()));
    put("not_in", strings(q.not_in.as_deref()));
    put("duplicate", q.duplicate.map(Value::Bool));
    put("watch", strings(q.watch.as_deref()));
    put("deleted", q.deleted.then_some(Value::Bool(true)));
    Value::Object(out)
}

fn strings<T: ToString>(list: Option<&[T]>) -> Option<Value> {
    list.map(|l| l.iter().map(|v| Value::String(v.to_string())).collect())
}

fn bounds<T>(b: &Bounds<T>, lower: &str, upper: &str, f: impl Fn(&T) -> Value) -> Value {
    let mut out = Map::new();
    if let Some(min) = &b.min {
        out.insert(lower.to_owned(), f(min));
    }
    if let Some(max) = &b.max {
        out.insert(upper.to_owned(), f(max));
    }
    Value::Object(out)
}

fn metadata(q: &Query) -> Value {
    let conditions = q.metadata.iter().map(|(key, condition)| {
        let value = match condition {
            MetaCondition::AnyOf(values) => match values.as_slice() {
                [one] => plain(one),
                many => many.iter().map(plain).collect(),
            },
            MetaCondition::Range(b) => bounds(b, "min", "max", plain),
            MetaCondition::Exists(e) => serde_json::json!({ "exists": e }),
        };
        (key.clone(), value)
    });
    Value::Object(conditions.collect())
}

/// A metadata value as JSON, the way [`MetaValue`] writes itself there.
fn plain(v: &MetaValue) -> Value {
    // Writing a string, an integer, a finite float or a boolean cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The problems of a stored or sent query as one sentence, for a serde error.
/// One line for a stored definition that no longer validates: `invalid <what>: …`.
pub(crate) fn describe(what: &str, errors: &[FieldError]) -> String {
    let mut out = format!("invalid {what}");
    for (i, e) in errors.iter().enumerate() {
        out.push_str(if i == 0 { ": " } else { "; " });
        let path: Vec<String> = e.loc.iter().map(Loc::to_string).collect();
        let _ = write!(out, "{} ({})", e.msg, path.join("."));
    }
    out
}

impl Serialize for Query {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.to_json().serialize(s)
        } else {
            s.serialize_str(&self.to_json().to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = if d.is_human_readable() {
            Value::deserialize(d)?
        } else {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            serde_json::from_str(&text).map_err(de::Error::custom)?
        };
        Query::parse(&value, &[]).map_err(|errors| de::Error::custom(describe("query", &errors)))
    }
}
