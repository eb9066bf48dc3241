//! JSON → [`RuleSpec`], every problem located; and the canonical JSON back.

use serde_json::{Map, Value, json};

use super::{
    DEFAULT_RULE_TIMEOUT_MS, MAX_RULE_TIMEOUT_MS, RULE_EVENTS, RuleSpec, Template, Webhook,
};
use crate::error::{FieldError, Loc};
use crate::event::EventKind;
use crate::id::CollectionId;
use crate::interval::{format_interval, parse_interval};
use crate::metadata::{Metadata, validate_metadata};
use crate::query::Query;
use crate::query::parse::{Parser, join};

/// The fields of a rule.
const FIELDS: [&str; 9] = [
    "name", "on", "query", "link", "metadata", "relocate", "run", "webhook", "timeout",
];

/// Longest rule name, in characters.
const MAX_RULE_NAME_CHARS: usize = 128;

fn event_kind(s: &str) -> Result<EventKind, (String, &'static str)> {
    let kind: Option<EventKind> = serde_json::from_value(Value::String(s.to_owned())).ok();
    match kind {
        Some(k) if RULE_EVENTS.contains(&k) => Ok(k),
        _ => {
            let known: Vec<String> = RULE_EVENTS.iter().map(|k| event_name(*k)).collect();
            Err((
                format!(
                    "{s:?} is not an event a rule can follow; one of: {}",
                    known.join(", ")
                ),
                "rule.event",
            ))
        }
    }
}

fn event_name(kind: EventKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn collection(s: &str) -> Result<CollectionId, (String, &'static str)> {
    match CollectionId::parse(s) {
        Ok(c) if c.is_default() => Err((
            "a rule cannot link into default, which holds the items in no collection".into(),
            "slug",
        )),
        Ok(c) => Ok(c),
        Err(e) => Err((e.to_string(), "slug")),
    }
}

fn template(s: &str) -> Result<Template, (String, &'static str)> {
    Template::parse(s).map_err(|msg| (msg, "rule.template"))
}

pub(super) fn parse(value: &Value, loc: &[Loc]) -> Result<RuleSpec, Vec<FieldError>> {
    let mut p = Parser {
        unknown_type: "rule.unknown_field",
        ..Parser::default()
    };
    let Some(object) = p.object(value, loc) else {
        return Err(p.errors);
    };
    let mut spec = RuleSpec {
        name: String::new(),
        on: vec![EventKind::ItemCreated],
        query: Query::default(),
        link: Vec::new(),
        metadata: Metadata::new(),
        relocate: None,
        run: None,
        webhook: None,
        timeout_ms: DEFAULT_RULE_TIMEOUT_MS,
    };
    let mut named = false;
    for (key, v) in object {
        let at = &join(loc, key.as_str());
        match key.as_str() {
            "name" => {
                if let Some(name) = name(&mut p, v, at) {
                    spec.name = name;
                    named = true;
                }
            }
            "on" => {
                if let Some(on) = p.list(v, at, "event name", event_kind) {
                    spec.on = on;
                }
            }
            "query" => match Query::parse(v, at) {
                Ok(q) => spec.query = q,
                Err(errors) => p.errors.extend(errors),
            },
            "link" => {
                if let Some(link) = p.list(v, at, "collection id", collection) {
                    spec.link = link;
                }
            }
            "metadata" => {
                if let Some(m) = metadata(&mut p, v, at) {
                    spec.metadata = m;
                }
            }
            "relocate" => spec.relocate = one_template(&mut p, v, at),
            "run" => spec.run = argv(&mut p, v, at),
            "webhook" => spec.webhook = webhook(&mut p, v, at),
            "timeout" => {
                if let Some(ms) = timeout(&mut p, v, at) {
                    spec.timeout_ms = ms;
                }
            }
            other => p.unknown(at, other, &FIELDS),
        }
    }
    if !named && !object.contains_key("name") {
        p.error(join(loc, "name"), "a rule needs a name", "missing");
    }
    let acts = !spec.link.is_empty()
        || !spec.metadata.is_empty()
        || spec.relocate.is_some()
        || spec.run.is_some()
        || spec.webhook.is_some();
    if !acts && p.errors.is_empty() {
        p.error(
            loc.to_vec(),
            "a rule must do something: link, metadata, relocate, run or webhook",
            "rule.no_action",
        );
    }
    if p.errors.is_empty() {
        Ok(spec)
    } else {
        Err(p.errors)
    }
}

fn name(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<String> {
    let Some(s) = v.as_str() else {
        p.wrong_type(at, "a string", v);
        return None;
    };
    let chars = s.chars().count();
    if chars == 0 || chars > MAX_RULE_NAME_CHARS || s.chars().any(char::is_control) {
        p.error(
            at.to_vec(),
            format!("names are 1 to {MAX_RULE_NAME_CHARS} characters without control characters"),
            "string_length",
        );
        return None;
    }
    Some(s.to_owned())
}

fn metadata(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<Metadata> {
    p.object(v, at)?;
    match serde_json::from_value::<Metadata>(v.clone()) {
        Ok(m) => {
            let errors = validate_metadata(&m, at);
            let ok = errors.is_empty();
            p.errors.extend(errors);
            ok.then_some(m)
        }
        Err(e) => {
            p.error(
                at.to_vec(),
                format!("metadata values are strings, finite numbers or booleans: {e}"),
                "metadata.value",
            );
            None
        }
    }
}

fn one_template(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<Template> {
    match v {
        Value::Null => None,
        Value::String(s) => match template(s) {
            Ok(t) => Some(t),
            Err((msg, kind)) => {
                p.error(at.to_vec(), msg, kind);
                None
            }
        },
        other => {
            p.wrong_type(at, "a path template", other);
            None
        }
    }
}

fn argv(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<Vec<Template>> {
    match v {
        Value::Null => None,
        Value::Array(_) => {
            let args = p.list(v, at, "argument", template)?;
            if args.first().is_some_and(|a| a.as_str().trim().is_empty()) {
                p.error(join(at, 0), "the program is empty", "rule.program");
                return None;
            }
            Some(args)
        }
        other => {
            p.wrong_type(
                at,
                "a list: the program and its arguments (no shell)",
                other,
            );
            None
        }
    }
}

fn webhook(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<Webhook> {
    if v.is_null() {
        return None;
    }
    let object = p.object(v, at)?;
    let before = p.errors.len();
    let mut hook = Webhook {
        url: String::new(),
        headers: std::collections::BTreeMap::new(),
    };
    for (key, value) in object {
        let here = join(at, key.as_str());
        match key.as_str() {
            "url" => match value.as_str() {
                Some(u)
                    if (u.starts_with("http://") || u.starts_with("https://")) && u.len() > 8 =>
                {
                    u.clone_into(&mut hook.url);
                }
                Some(_) => p.error(here, "the url must start with http:// or https://", "url"),
                None => p.wrong_type(&here, "a string", value),
            },
            "headers" => {
                let Some(headers) = p.object(value, &here) else {
                    continue;
                };
                for (name, h) in headers {
                    let at_h = join(&here, name.as_str());
                    let valid_name = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
                    match h.as_str() {
                        Some(text) if valid_name && !text.contains(['\r', '\n']) => {
                            hook.headers.insert(name.clone(), text.to_owned());
                        }
                        Some(_) => p.error(at_h, "not a valid HTTP header", "header"),
                        None => p.wrong_type(&at_h, "a string", h),
                    }
                }
            }
            other => p.unknown(&here, other, &["url", "headers"]),
        }
    }
    if hook.url.is_empty() && p.errors.len() == before {
        p.error(join(at, "url"), "a webhook needs a url", "missing");
    }
    (p.errors.len() == before).then_some(hook)
}

fn timeout(p: &mut Parser, v: &Value, at: &[Loc]) -> Option<u64> {
    let Some(text) = v.as_str() else {
        p.wrong_type(at, "an interval such as \"10m\"", v);
        return None;
    };
    match parse_interval(text) {
        Ok(ms) if ms <= MAX_RULE_TIMEOUT_MS => Some(ms),
        Ok(_) => {
            p.error(at.to_vec(), "a rule's timeout is at most 24h", "interval");
            None
        }
        Err(e) => {
            p.error(at.to_vec(), e.to_string(), "interval");
            None
        }
    }
}

pub(super) fn to_json(spec: &RuleSpec) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(spec.name));
    let on: Vec<String> = spec.on.iter().map(|k| event_name(*k)).collect();
    out.insert("on".into(), json!(on));
    out.insert("query".into(), spec.query.to_json());
    if !spec.link.is_empty() {
        let link: Vec<&str> = spec.link.iter().map(CollectionId::as_str).collect();
        out.insert("link".into(), json!(link));
    }
    if !spec.metadata.is_empty() {
        out.insert(
            "metadata".into(),
            serde_json::to_value(&spec.metadata).unwrap_or(Value::Null),
        );
    }
    if let Some(r) = &spec.relocate {
        out.insert("relocate".into(), json!(r.as_str()));
    }
    if let Some(run) = &spec.run {
        let argv: Vec<&str> = run.iter().map(Template::as_str).collect();
        out.insert("run".into(), json!(argv));
    }
    if let Some(h) = &spec.webhook {
        out.insert(
            "webhook".into(),
            json!({"url": h.url, "headers": h.headers}),
        );
    }
    out.insert("timeout".into(), json!(format_interval(spec.timeout_ms)));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(v: &Value) -> Vec<(Vec<Loc>, String)> {
        parse(v, &[Loc::from("body")])
            .unwrap_err()
            .into_iter()
            .map(|e| (e.loc, e.kind))
            .collect()
    }

    fn loc(parts: &[&str]) -> Vec<Loc> {
        parts.iter().map(|p| Loc::from(*p)).collect()
    }

    #[test]
    fn the_specs_example_parses_and_its_canonical_form_reads_back_the_same() {
        let v = json!({
            "name": "papers",
            "on": ["item.created", "item.updated"],
            "query": {"kind": ["document"], "path": ["~/Downloads/**"]},
            "link": ["papers"],
            "metadata": {"inbox": true},
            "relocate": "~/Papers/{yyyy}/",
            "run": ["ocrmypdf", "--skip-text", "{path}", "{path}"],
            "webhook": {"url": "http://127.0.0.1:8080/hook", "headers": {"Authorization": "Bearer x"}},
            "timeout": "10m"
        });
        let spec = parse(&v, &[]).unwrap();
        assert_eq!(spec.on, [EventKind::ItemCreated, EventKind::ItemUpdated]);
        assert_eq!(spec.timeout_ms, 600_000);
        assert!(spec.reaches_outside());
        assert_eq!(parse(&to_json(&spec), &[]).unwrap(), spec);
        let stored = postcard_round_trip(&spec);
        assert_eq!(stored, spec);
    }

    fn postcard_round_trip(spec: &RuleSpec) -> RuleSpec {
        // The binary form is the canonical JSON as one string.
        let text = to_json(spec).to_string();
        parse(&serde_json::from_str(&text).unwrap(), &[]).unwrap()
    }

    #[test]
    fn defaults_fire_on_item_created_for_every_item_with_a_ten_minute_timeout() {
        let spec = parse(&json!({"name": "n", "link": ["inbox"]}), &[]).unwrap();
        assert_eq!(spec.on, [EventKind::ItemCreated]);
        assert_eq!(spec.query, Query::default());
        assert_eq!(spec.timeout_ms, DEFAULT_RULE_TIMEOUT_MS);
        assert!(!spec.has_outside_actions());
    }

    #[test]
    fn every_invalid_field_is_located() {
        let got = errors(&json!({
            "name": "",
            "on": ["collection.created"],
            "query": {"size": {"min": -1}},
            "link": ["default"],
            "relocate": "~/{year}/",
            "run": [],
            "webhook": {"url": "ftp://x"},
            "timeout": "forever",
            "when": 1
        }));
        let want = [
            (loc(&["body", "name"]), "string_length"),
            (vec!["body".into(), "on".into(), 0.into()], "rule.event"),
            (loc(&["body", "query", "size", "min"]), "size"),
            (vec!["body".into(), "link".into(), 0.into()], "slug"),
            (loc(&["body", "relocate"]), "rule.template"),
            (loc(&["body", "run"]), "too_short"),
            (loc(&["body", "webhook", "url"]), "url"),
            (loc(&["body", "timeout"]), "interval"),
            (loc(&["body", "when"]), "rule.unknown_field"),
        ];
        for (l, kind) in want {
            assert!(
                got.iter().any(|(gl, gk)| *gl == l && gk == kind),
                "no {kind} at {l:?} in {got:?}"
            );
        }
    }

    #[test]
    fn a_rule_without_a_name_or_without_an_action_is_refused() {
        assert_eq!(
            errors(&json!({"link": ["a"]})),
            [(loc(&["body", "name"]), "missing".to_owned())]
        );
        assert_eq!(
            errors(&json!({"name": "idle", "query": {"kind": "image"}})),
            [(loc(&["body"]), "rule.no_action".to_owned())]
        );
    }
}
