//! JSON → the metadata conditions of a query.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::MetaCondition;
use super::matcher::compare;
use super::parse::{Item, Parser, join, type_name};
use crate::error::Loc;
use crate::metadata::{MAX_KEYS, MAX_STRING_BYTES, MetaValue, validate_key};

/// The keys of a condition object.
const OPERATORS: [&str; 3] = ["min", "max", "exists"];

impl Parser {
    /// `{"key": condition, …}`, or null; empty when null or invalid.
    pub(super) fn metadata(&mut self, v: &Value, loc: &[Loc]) -> BTreeMap<String, MetaCondition> {
        let mut out = BTreeMap::new();
        if v.is_null() {
            return out;
        }
        let Some(object) = self.object(v, loc) else {
            return out;
        };
        if object.len() > MAX_KEYS {
            let msg = format!("at most {MAX_KEYS} metadata keys are allowed");
            self.error(loc.to_vec(), msg, "metadata.too_many_keys");
        }
        for (key, value) in object {
            validate_key(key, loc, &mut self.errors);
            if let Some(condition) = self.condition(value, &join(loc, key.as_str())) {
                out.insert(key.clone(), condition);
            }
        }
        out
    }

    /// A plain value, a list of them, or an object of operators.
    fn condition(&mut self, v: &Value, loc: &[Loc]) -> Option<MetaCondition> {
        match v {
            Value::Array(values) => {
                if !self.count(values.len(), loc) {
                    return None;
                }
                let before = self.errors.len();
                let plain: Vec<_> = (values.iter().enumerate())
                    .filter_map(|(i, v)| self.plain(v, &join(loc, i)))
                    .collect();
                (self.errors.len() == before).then_some(MetaCondition::AnyOf(plain))
            }
            Value::Object(ops) => self.operators(ops, loc),
            Value::Null => {
                let msg = "null is not a condition; {\"exists\": false} matches items without \
                           the key";
                self.error(loc.to_vec(), msg, "type");
                None
            }
            plain => self
                .plain(plain, loc)
                .map(|p| MetaCondition::AnyOf(vec![p])),
        }
    }

    /// A string, number or boolean to compare a metadata value with.
    fn plain(&mut self, v: &Value, loc: &[Loc]) -> Option<MetaValue> {
        if matches!(v, Value::Null | Value::Array(_) | Value::Object(_)) {
            self.wrong_type(loc, "a string, a number or a boolean", v);
            return None;
        }
        let value = match MetaValue::deserialize(v) {
            Ok(value) => value,
            Err(e) => {
                self.error(loc.to_vec(), e.to_string(), "type");
                return None;
            }
        };
        if matches!(&value, MetaValue::String(s) if s.len() > MAX_STRING_BYTES) {
            let msg = format!("metadata strings are at most {MAX_STRING_BYTES} bytes");
            self.error(loc.to_vec(), msg, "metadata.string_length");
            return None;
        }
        Some(value)
    }

    /// `{"exists": bool}`, or `{"min": n, "max": n}` with at least one of them.
    fn operators(&mut self, ops: &Map<String, Value>, loc: &[Loc]) -> Option<MetaCondition> {
        if let Some(exists) = ops.get("exists") {
            let before = self.errors.len();
            for key in ops.keys().filter(|k| *k != "exists") {
                if !OPERATORS.contains(&key.as_str()) {
                    self.unknown(&join(loc, key.as_str()), key, &OPERATORS);
                } else if !ops[key].is_null() {
                    let msg = "exists cannot be combined with min or max";
                    self.error(loc.to_vec(), msg, "condition");
                }
            }
            let exists = self.boolean(exists, &join(loc, "exists"));
            return exists
                .filter(|_| self.errors.len() == before)
                .map(MetaCondition::Exists);
        }
        let range = self.bounds(ops, loc, ["min", "max"], &OPERATORS, number)?;
        match (&range.min, &range.max) {
            (None, None) => {
                let msg = "a condition object needs min, max or exists";
                self.error(loc.to_vec(), msg, "condition");
                None
            }
            (Some(min), Some(max)) if compare(min, max) == Some(Ordering::Greater) => {
                self.error(loc.to_vec(), "min is larger than max", "range");
                None
            }
            _ => Some(MetaCondition::Range(range)),
        }
    }
}

fn number(v: &Value) -> Item<MetaValue> {
    match v {
        Value::Number(_) => MetaValue::deserialize(v).map_err(|e| (e.to_string(), "type")),
        other => Err((
            format!("expected a number, got {}", type_name(other)),
            "type",
        )),
    }
}
