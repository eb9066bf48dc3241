use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{FieldError, Loc};

/// Most keys one metadata map may hold.
pub const MAX_KEYS: usize = 64;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// Longest string value, in bytes.
pub const MAX_STRING_BYTES: usize = 4096;

/// A metadata value: a string, a finite number or a boolean.
///
/// Integers and fractional numbers are kept apart so that `1` reads back as `1`, not `1.0`.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    /// UTF-8 text, at most 4 KiB.
    String(String),
    /// A whole number.
    Int(i64),
    /// A finite fractional number.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
}

/// Metadata: key → value, keys in sorted order.
pub type Metadata = BTreeMap<String, MetaValue>;

/// A metadata update: a `None` value deletes the key, others set it.
pub type MetadataPatch = BTreeMap<String, Option<MetaValue>>;

/// Binary formats are not self-describing, so they carry an explicit tag.
#[derive(Serialize, Deserialize)]
enum Tagged {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Serialize for MetaValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            match self {
                MetaValue::String(v) => s.serialize_str(v),
                MetaValue::Int(v) => s.serialize_i64(*v),
                MetaValue::Float(v) => s.serialize_f64(*v),
                MetaValue::Bool(v) => s.serialize_bool(*v),
            }
        } else {
            match self {
                MetaValue::String(v) => Tagged::String(v.clone()),
                MetaValue::Int(v) => Tagged::Int(*v),
                MetaValue::Float(v) => Tagged::Float(*v),
                MetaValue::Bool(v) => Tagged::Bool(*v),
            }
            .serialize(s)
        }
    }
}

struct MetaVisitor;

impl Visitor<'_> for MetaVisitor {
    type Value = MetaValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a finite number or a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<MetaValue, E> {
        Ok(MetaValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<MetaValue, E> {
        Ok(MetaValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<MetaValue, E> {
        Ok(i64::try_from(v).map_or(MetaValue::Float(v as f64), MetaValue::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<MetaValue, E> {
        if v.is_finite() {
            Ok(MetaValue::Float(v))
        } else {
            Err(E::custom("metadata numbers must be finite"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<MetaValue, E> {
        Ok(MetaValue::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<MetaValue, E> {
        Ok(MetaValue::String(v))
    }
}

impl<'de> Deserialize<'de> for MetaValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(MetaVisitor)
        } else {
            Ok(match Tagged::deserialize(d)? {
                Tagged::String(v) => MetaValue::String(v),
                Tagged::Int(v) => MetaValue::Int(v),
                Tagged::Float(v) => MetaValue::Float(v),
                Tagged::Bool(v) => MetaValue::Bool(v),
            })
        }
    }
}

/// Checks a key's length and characters; an error is located at `loc` + the key.
pub(crate) fn validate_key(key: &str, loc: &[Loc], errors: &mut Vec<FieldError>) {
    let chars = key.chars().count();
    let at = || {
        let mut l = loc.to_vec();
        l.push(Loc::Key(key.chars().take(MAX_KEY_CHARS).collect()));
        l
    };
    if chars == 0 || chars > MAX_KEY_CHARS {
        errors.push(FieldError::new(
            at(),
            format!("metadata keys must be 1 to {MAX_KEY_CHARS} characters"),
            "metadata.key_length",
        ));
    } else if key.chars().any(char::is_control) {
        errors.push(FieldError::new(
            at(),
            "metadata keys must not contain control characters",
            "metadata.key_chars",
        ));
    }
}

fn validate_value(key: &str, value: &MetaValue, loc: &[Loc], errors: &mut Vec<FieldError>) {
    let at = || {
        let mut l = loc.to_vec();
        l.push(Loc::Key(key.to_owned()));
        l
    };
    match value {
        MetaValue::String(s) if s.len() > MAX_STRING_BYTES => errors.push(FieldError::new(
            at(),
            format!("metadata strings must be at most {MAX_STRING_BYTES} bytes"),
            "metadata.string_length",
        )),
        MetaValue::Float(f) if !f.is_finite() => errors.push(FieldError::new(
            at(),
            "metadata numbers must be finite",
            "metadata.number",
        )),
        _ => {}
    }
}

/// Checks a metadata map against the limits of the SPEC; `loc` is where the map sits in the
/// request (e.g. `["body", "items", "3", "metadata"]`). An empty result means valid.
#[must_use]
pub fn validate_metadata(metadata: &Metadata, loc: &[Loc]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if metadata.len() > MAX_KEYS {
        errors.push(FieldError::new(
            loc.to_vec(),
            format!("at most {MAX_KEYS} metadata keys are allowed"),
            "metadata.too_many_keys",
        ));
    }
    for (key, value) in metadata {
        validate_key(key, loc, &mut errors);
        validate_value(key, value, loc, &mut errors);
    }
    errors
}

/// Applies a patch to `metadata` and checks the result; on error `metadata` is unchanged.
pub fn apply_patch(
    metadata: &Metadata,
    patch: &MetadataPatch,
    loc: &[Loc],
) -> Result<Metadata, Vec<FieldError>> {
    let mut next = metadata.clone();
    let mut errors = Vec::new();
    for (key, value) in patch {
        match value {
            Some(v) => {
                validate_key(key, loc, &mut errors);
                validate_value(key, v, loc, &mut errors);
                next.insert(key.clone(), v.clone());
            }
            None => {
                next.remove(key);
            }
        }
    }
    if errors.is_empty() && next.len() > MAX_KEYS {
        errors.push(FieldError::new(
            loc.to_vec(),
            format!("at most {MAX_KEYS} metadata keys are allowed"),
            "metadata.too_many_keys",
        ));
    }
    if errors.is_empty() {
        Ok(next)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Vec<Loc> {
        vec!["body".into(), "metadata".into()]
    }

    #[test]
    fn json_numbers_keep_integer_or_fraction() {
        let m: Metadata = serde_json::from_str(r#"{"a":1,"b":1.5,"c":"x","d":true}"#).unwrap();
        assert_eq!(m["a"], MetaValue::Int(1));
        assert_eq!(m["b"], MetaValue::Float(1.5));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"a":1,"b":1.5,"c":"x","d":true}"#
        );
    }

    #[test]
    fn nested_values_and_null_are_not_metadata() {
        assert!(serde_json::from_str::<Metadata>(r#"{"a":[1]}"#).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"a":{"b":1}}"#).is_err());
        assert!(serde_json::from_str::<Metadata>(r#"{"a":null}"#).is_err());
    }

    #[test]
    fn limits_are_reported_with_the_offending_key() {
        let mut m = Metadata::new();
        m.insert(String::new(), MetaValue::Bool(true));
        m.insert("bell\u{7}".into(), MetaValue::Bool(true));
        m.insert(
            "long".into(),
            MetaValue::String("x".repeat(MAX_STRING_BYTES + 1)),
        );
        m.insert("nan".into(), MetaValue::Float(f64::NAN));
        let errors = validate_metadata(&m, &loc());
        let keys: Vec<_> = errors
            .iter()
            .map(|e| e.loc.last().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["", "bell\u{7}", "long", "nan"]);
    }

    #[test]
    fn too_many_keys_is_an_error() {
        let m: Metadata = (0..=MAX_KEYS)
            .map(|i| (format!("k{i}"), MetaValue::Int(i as i64)))
            .collect();
        assert_eq!(validate_metadata(&m, &loc()).len(), 1);
    }

    #[test]
    fn a_patch_sets_and_deletes_keys() {
        let base: Metadata = [("a".to_owned(), MetaValue::Int(1))].into();
        let patch: MetadataPatch = serde_json::from_str(r#"{"a":null,"b":"two"}"#).unwrap();
        let next = apply_patch(&base, &patch, &loc()).unwrap();
        assert_eq!(
            next,
            [("b".to_owned(), MetaValue::String("two".into()))].into()
        );
    }
}
