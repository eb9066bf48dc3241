//! The query flags of `sheaf collections create|edit` (SPEC §7.2): `--query JSON` and one
//! flag per field of the query of SPEC §7.1, turned into the query's JSON. The daemon
//! validates the result (its errors name the field); here only what the shell hands over is
//! checked: JSON that is an object, sizes, times, `KEY=VALUE`.
#![allow(clippy::doc_markdown)] // doc comments here are --help text

use clap::Args;
use serde_json::{Map, Value, json};
use sheaf_core::Kind;

use crate::args::KindArg;

/// Flags that make (or re-define) a smart collection. `--query` gives the whole query as
/// JSON; each other flag sets its own field of it (for sizes, times and metadata: that
/// bound or that key), and without `--query` `edit` sets them on the collection's current
/// query.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Smart collection (its members are the items that match)")]
pub(crate) struct QueryFlags {
    /// The whole query as JSON, e.g. '{"kind": "document", "size": {"min": 1048576}}';
    /// the flags below set their fields on it (on edit: it replaces the current query)
    #[arg(long, value_name = "JSON", value_parser = object)]
    pub(crate) query: Option<Map<String, Value>>,
    /// Only these kinds (repeat, or separate with commas)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND")]
    pub(crate) kind: Vec<KindArg>,
    /// Only these MIME types or patterns: application/pdf, image/* (repeatable)
    #[arg(long = "type", value_delimiter = ',', value_name = "MIME")]
    pub(crate) content_type: Vec<String>,
    /// Absolute path matches this glob: ~/Papers/**, **/*.pdf (repeatable: any of them);
    /// ~ is the home of the user sheafd runs as
    #[arg(long, value_name = "GLOB")]
    pub(crate) path: Vec<String>,
    /// File name contains TEXT, case-insensitively (the query's "name"; --name is the
    /// collection's display name)
    #[arg(long, value_name = "TEXT")]
    pub(crate) file_name: Option<String>,
    /// At least this big: bytes, or with a unit K, M, G, T (or KiB, MiB, GiB, TiB; all
    /// 1024-based), e.g. 10M, 1.5G
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub(crate) min_size: Option<u64>,
    /// At most this big (same units as --min-size)
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub(crate) max_size: Option<u64>,
    /// Modified at or after: RFC 3339 (2026-01-01T09:30:00Z) or a date (2026-01-01, midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub(crate) after: Option<String>,
    /// Modified before (exclusive; same forms as --after)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub(crate) before: Option<String>,
    /// Item metadata KEY is VALUE: true/false, an integer or a number, else text
    /// ('code="007"' for text that looks like one); repeatable, and a key given twice
    /// matches either value
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = meta)]
    pub(crate) meta: Vec<(String, Value)>,
    /// Live in one of these collections (repeat, or separate with commas)
    #[arg(long = "in", value_delimiter = ',', value_name = "COLLECTION")]
    pub(crate) in_collections: Vec<String>,
    /// Live in none of these collections (repeat, or separate with commas)
    #[arg(long, value_delimiter = ',', value_name = "COLLECTION")]
    pub(crate) not_in: Vec<String>,
    /// Another live item has the same content (content hash); --duplicate=false: none has
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub(crate) duplicate: Option<bool>,
}

impl QueryFlags {
    /// Whether `--query` or any query flag was given: the command is about a smart
    /// collection's query.
    pub(crate) fn given(&self) -> bool {
        self.query.is_some()
            || !(self.kind.is_empty()
                && self.content_type.is_empty()
                && self.path.is_empty()
                && self.file_name.is_none()
                && self.min_size.is_none()
                && self.max_size.is_none()
                && self.after.is_none()
                && self.before.is_none()
                && self.meta.is_empty()
                && self.in_collections.is_empty()
                && self.not_in.is_empty()
                && self.duplicate.is_none())
    }

    /// The query these flags say: `--query` if given, else `current` (the query `edit`
    /// amends; `{}` when there is none), with every flag given set on it.
    pub(crate) fn build(&self, current: Option<&Value>) -> Value {
        let mut q = match (&self.query, current) {
            (Some(given), _) => given.clone(),
            (None, Some(Value::Object(current))) => current.clone(),
            (None, _) => Map::new(),
        };
        let kinds: Vec<&str> = self.kind.iter().map(|k| Kind::from(*k).as_str()).collect();
        list(&mut q, "kind", &kinds);
        list(&mut q, "content_type", &self.content_type);
        list(&mut q, "path", &self.path);
        if let Some(name) = &self.file_name {
            q.insert("name".into(), json!(name));
        }
        bound(&mut q, "size", "min", self.min_size.map(Value::from));
        bound(&mut q, "size", "max", self.max_size.map(Value::from));
        bound(
            &mut q,
            "mtime",
            "after",
            self.after.clone().map(Value::from),
        );
        bound(
            &mut q,
            "mtime",
            "before",
            self.before.clone().map(Value::from),
        );
        // A key given more than once matches any of its values, in the order given.
        let mut metadata: Vec<(&str, Vec<&Value>)> = Vec::new();
        for (key, value) in &self.meta {
            match metadata.iter_mut().find(|(k, _)| k == key) {
                Some((_, values)) => values.push(value),
                None => metadata.push((key, vec![value])),
            }
        }
        for (key, values) in metadata {
            let condition = match values.as_slice() {
                [one] => (*one).clone(),
                many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
            };
            bound(&mut q, "metadata", key, Some(condition));
        }
        list(&mut q, "in", &self.in_collections);
        list(&mut q, "not_in", &self.not_in);
        if let Some(d) = self.duplicate {
            q.insert("duplicate".into(), Value::Bool(d));
        }
        Value::Object(q)
    }
}

/// Sets `field` to the list, unless it is empty.
fn list<S: AsRef<str>>(q: &mut Map<String, Value>, field: &str, values: &[S]) {
    if !values.is_empty() {
        let values = values.iter().map(|v| json!(v.as_ref())).collect();
        q.insert(field.into(), Value::Array(values));
    }
}

/// Sets `key` inside the object `field` (made an object if it was anything else), leaving
/// its other keys.
fn bound(q: &mut Map<String, Value>, field: &str, key: &str, value: Option<Value>) {
    let Some(value) = value else { return };
    let slot = q
        .entry(field)
        .and_modify(|v| {
            if !v.is_object() {
                *v = Value::Object(Map::new());
            }
        })
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = slot {
        m.insert(key.into(), value);
    }
}

/// `--query`: JSON text that is an object.
fn object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the query is a JSON object, e.g. '{\"kind\": \"image\"}'".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// Bytes from `1048576`, `10M`, `1.5GiB`, `512k`: units are 1024-based, as sheaf prints
/// sizes. `MB`-style units are refused rather than guessed at (1000- or 1024-based?).
pub(crate) fn size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        "kb" | "mb" | "gb" | "tb" => {
            return Err(format!(
                "{text:?}: say {number}M or {number}MiB (1024-based), or give bytes"
            ));
        }
        _ => {
            return Err(format!(
                "{text:?} is not a size: bytes, or 10K, 10M, 1.5G, 2T"
            ));
        }
    };
    let too_big = || format!("{text:?} is too large");
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(1 << shift).ok_or_else(too_big);
    }
    let fraction: f64 = number
        .parse()
        .ok()
        .filter(|f: &f64| f.is_finite() && *f >= 0.0 && number.contains('.'))
        .ok_or_else(|| format!("{text:?} is not a size: bytes, or 10K, 10M, 1.5G, 2T"))?;
    let bytes = (fraction * 2_f64.powi(shift)).floor();
    if bytes >= 18_446_744_073_709_551_616.0 {
        return Err(too_big());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked just above
    Ok(bytes as u64)
}

/// `--after`/`--before`: an RFC 3339 timestamp, or a date meaning its midnight UTC.
fn time(text: &str) -> Result<String, String> {
    let t = text.trim();
    let full = if t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') {
        format!("{t}T00:00:00Z")
    } else {
        t.to_owned()
    };
    full.parse::<sheaf_core::Timestamp>().map_err(|_| {
        format!("{text:?} is not a time: 2026-01-01 or 2026-01-01T09:30:00Z (RFC 3339)")
    })?;
    Ok(full)
}

/// `--meta KEY=VALUE`, the value typed: `true`/`false`, an integer, a finite number, else
/// text (as given); a value in double quotes is the text between them.
fn meta(text: &str) -> Result<(String, Value), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("{text:?}: expected KEY=VALUE, e.g. project=apollo"));
    };
    if key.is_empty() {
        return Err(format!("{text:?}: the key before = is empty"));
    }
    if let Some(text) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return Ok((key.to_owned(), Value::from(text)));
    }
    let typed = match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        v => v
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            })
            .unwrap_or_else(|| Value::from(v)),
    };
    Ok((key.to_owned(), typed))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        flags: QueryFlags,
    }

    fn flags(given: &[&str]) -> QueryFlags {
        let argv = std::iter::once(&"x").chain(given);
        Cli::try_parse_from(argv).unwrap().flags
    }

    /// The query `create` sends for these arguments, if any.
    fn query(given: &[&str]) -> Option<Value> {
        let f = flags(given);
        f.given().then(|| f.build(None))
    }

    fn refused(flags: &[&str]) -> String {
        let argv = std::iter::once(&"x").chain(flags);
        Cli::try_parse_from(argv).unwrap_err().to_string()
    }

    #[test]
    fn no_flag_no_query() {
        assert_eq!(query(&[]), None);
    }

    #[test]
    fn every_flag_sets_its_field_and_repeated_ones_make_lists() {
        let q = query(&[
            "--kind",
            "document,image",
            "--type",
            "application/pdf",
            "--type",
            "image/*",
            "--path",
            "~/Papers/**",
            "--path",
            "**/*.{pdf,djvu}",
            "--file-name",
            "report",
            "--min-size",
            "10M",
            "--max-size",
            "1G",
            "--after",
            "2026-01-01",
            "--before",
            "2026-06-01T12:00:00Z",
            "--meta",
            "project=apollo",
            "--meta",
            "reviewed=true",
            "--meta",
            "score=3",
            "--meta",
            "ratio=0.5",
            "--meta",
            "project=gemini",
            "--in",
            "inbox,later",
            "--not-in",
            "archive",
            "--duplicate",
        ])
        .unwrap();
        assert_eq!(
            q,
            json!({
                "kind": ["document", "image"],
                "content_type": ["application/pdf", "image/*"],
                "path": ["~/Papers/**", "**/*.{pdf,djvu}"],
                "name": "report",
                "size": {"min": 10_485_760, "max": 1_073_741_824},
                "mtime": {"after": "2026-01-01T00:00:00Z", "before": "2026-06-01T12:00:00Z"},
                "metadata": {"project": ["apollo", "gemini"], "reviewed": true, "score": 3, "ratio": 0.5},
                "in": ["inbox", "later"],
                "not_in": ["archive"],
                "duplicate": true,
            })
        );
        // The query the flags build is one the daemon accepts.
        sheaf_core::Query::parse(&q, &[]).unwrap();
    }

    #[test]
    fn duplicate_takes_an_explicit_false() {
        assert_eq!(
            query(&["--duplicate=false"]),
            Some(json!({"duplicate": false}))
        );
    }

    #[test]
    fn flags_override_their_own_field_of_the_query_and_leave_the_rest() {
        let q = query(&[
            "--query",
            r#"{"kind": "video", "name": "x", "size": {"min": 1, "max": 99}, "metadata": {"a": 1, "b": 2}}"#,
            "--kind",
            "image",
            "--max-size",
            "2K",
            "--meta",
            "b=two",
        ])
        .unwrap();
        assert_eq!(
            q,
            json!({
                "kind": ["image"],
                "name": "x",
                "size": {"min": 1, "max": 2048},
                "metadata": {"a": 1, "b": "two"},
            })
        );
        // --query alone is sent as given.
        assert_eq!(
            query(&["--query", r#"{"deleted": true}"#]),
            Some(json!({"deleted": true}))
        );
        // A field that is not an object is replaced by the flag's.
        assert_eq!(
            query(&["--query", r#"{"size": 5}"#, "--min-size", "7"]),
            Some(json!({"size": {"min": 7}}))
        );
    }

    #[test]
    fn on_edit_flags_amend_the_current_query_and_the_json_replaces_it() {
        let current = json!({
            "kind": ["document"],
            "path": ["~/Papers/**"],
            "size": {"min": 1024},
            "metadata": {"project": "apollo", "reviewed": false},
        });
        let amended = flags(&[
            "--max-size",
            "1M",
            "--meta",
            "reviewed=true",
            "--kind",
            "text",
        ])
        .build(Some(&current));
        assert_eq!(
            amended,
            json!({
                "kind": ["text"],
                "path": ["~/Papers/**"],
                "size": {"min": 1024, "max": 1_048_576},
                "metadata": {"project": "apollo", "reviewed": true},
            })
        );
        let replaced = flags(&["--query", r#"{"name": "x"}"#, "--duplicate"]).build(Some(&current));
        assert_eq!(replaced, json!({"name": "x", "duplicate": true}));
    }

    #[test]
    fn bad_values_are_usage_errors_that_say_what_is_expected() {
        assert!(refused(&["--query", "[1]"]).contains("JSON object"));
        assert!(refused(&["--query", "{"]).contains("not JSON"));
        assert!(refused(&["--min-size", "big"]).contains("not a size"));
        assert!(refused(&["--min-size", "10MB"]).contains("10MiB"));
        assert!(refused(&["--after", "yesterday"]).contains("RFC 3339"));
        assert!(refused(&["--meta", "novalue"]).contains("KEY=VALUE"));
        assert!(refused(&["--meta", "=x"]).contains("key"));
        assert!(refused(&["--kind", "pdf"]).contains("document"));
    }

    #[test]
    fn sizes_take_binary_units_and_fractions() {
        assert_eq!(size("0"), Ok(0));
        assert_eq!(size("1048576"), Ok(1 << 20));
        assert_eq!(size("512B"), Ok(512));
        assert_eq!(size("512k"), Ok(512 << 10));
        assert_eq!(size("10M"), Ok(10 << 20));
        assert_eq!(size("10 MiB"), Ok(10 << 20));
        assert_eq!(size("1.5G"), Ok(3 << 29));
        assert_eq!(size("2TiB"), Ok(2 << 40));
        assert_eq!(size("0.5K"), Ok(512));
        assert!(size("16777216T").is_err(), "past u64");
        assert!(size("-1").is_err());
        assert!(size("1..5M").is_err());
        assert!(size("").is_err());
        assert!(size("M").is_err());
    }

    #[test]
    fn metadata_values_are_typed() {
        assert_eq!(meta("a=true"), Ok(("a".into(), json!(true))));
        assert_eq!(meta("a=false"), Ok(("a".into(), json!(false))));
        assert_eq!(meta("a=-3"), Ok(("a".into(), json!(-3))));
        assert_eq!(meta("a=2.5"), Ok(("a".into(), json!(2.5))));
        assert_eq!(meta("a=inf"), Ok(("a".into(), json!("inf"))));
        assert_eq!(meta("a=True"), Ok(("a".into(), json!("True"))));
        assert_eq!(meta("a=x=y"), Ok(("a".into(), json!("x=y"))));
        assert_eq!(meta("a="), Ok(("a".into(), json!(""))));
        // Double quotes keep text that would read as a number or a boolean.
        assert_eq!(meta(r#"a="007""#), Ok(("a".into(), json!("007"))));
        assert_eq!(meta(r#"a="true""#), Ok(("a".into(), json!("true"))));
        assert_eq!(meta(r#"a=""#), Ok(("a".into(), json!("\""))));
    }
}
