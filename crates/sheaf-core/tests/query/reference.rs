//! The reference the matcher is checked against: a query as plain data over small alphabets,
//! its JSON, and what it admits, said plainly from the SPEC.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sheaf_core::{Kind, MetaValue, Timestamp};

use super::{Case, cid, wid};

/// A metadata value or operand.
#[derive(Clone, Copy, Debug)]
pub(super) enum Plain {
    I(i64),
    F(f64),
    S(&'static str),
    B(bool),
}

pub(super) const PLAINS: [Plain; 8] = [
    Plain::I(1),
    Plain::I(2),
    Plain::F(1.0),
    Plain::F(1.5),
    Plain::S("1"),
    Plain::S("x"),
    Plain::B(true),
    Plain::B(false),
];
pub(super) const BOUNDS: [Plain; 4] = [Plain::I(0), Plain::I(1), Plain::F(1.5), Plain::I(2)];

impl Plain {
    pub(super) fn meta(self) -> MetaValue {
        match self {
            Plain::I(i) => MetaValue::Int(i),
            Plain::F(f) => MetaValue::Float(f),
            Plain::S(s) => MetaValue::String(s.to_owned()),
            Plain::B(b) => MetaValue::Bool(b),
        }
    }

    pub(super) fn json(self) -> Value {
        match self {
            Plain::I(i) => json!(i),
            Plain::F(f) => json!(f),
            Plain::S(s) => json!(s),
            Plain::B(b) => json!(b),
        }
    }
}

/// The value of a number, exact for these small alphabets.
pub(super) fn num(v: &MetaValue) -> Option<f64> {
    match v {
        MetaValue::Int(i) => Some(*i as f64),
        MetaValue::Float(f) => Some(*f),
        _ => None,
    }
}

pub(super) fn same(v: &MetaValue, p: Plain) -> bool {
    match (v, p.meta()) {
        (MetaValue::String(a), MetaValue::String(b)) => *a == b,
        (MetaValue::Bool(a), MetaValue::Bool(b)) => *a == b,
        (a, b) => num(a)
            .zip(num(&b))
            .is_some_and(|(a, b)| a.total_cmp(&b).is_eq()),
    }
}

#[derive(Clone, Debug)]
pub(super) enum Cond {
    AnyOf(Vec<Plain>),
    Range(Option<Plain>, Option<Plain>),
    Exists(bool),
}

/// What a glob of [`GLOBS`] means.
type Means = fn(&str) -> bool;

/// Globs and what each means, said plainly (globs are case-sensitive, and so is this).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
pub(super) const GLOBS: [(&str, Means); 6] = [
    ("/a/**", |p| p.starts_with("/a/")),
    ("**/*.pdf", |p| p.ends_with(".pdf")),
    ("/a/*", |p| {
        p.strip_prefix("/a/").is_some_and(|r| !r.contains('/'))
    }),
    ("~/**", |p| p.starts_with("/home/u/")),
    ("/b/x.txt", |p| p == "/b/x.txt"),
    ("/*/*/y.pdf", |p| {
        p.split('/').count() == 4 && p.ends_with("/y.pdf")
    }),
];
pub(super) const TYPES: [&str; 5] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain; charset=utf-8",
    "video/mp4",
];
pub(super) const PATTERNS: [&str; 5] = [
    "application/pdf",
    "image/*",
    "image/png",
    "text/plain",
    "video/*",
];
pub(super) const DIRS: [&str; 5] = ["/a", "/a/b", "/b", "/home/u", "/home/u/a"];
pub(super) const FILES: [&str; 4] = ["x.txt", "y.pdf", "Report.PDF", "z"];
pub(super) const NAMES: [&str; 5] = ["x", "PDF", "rep", "y.p", ".TXT"];
pub(super) const SLUGS: [&str; 3] = ["c1", "c2", "default"];

/// A query as plain data, rendered to JSON by [`Spec::json`].
#[derive(Clone, Debug)]
pub(super) struct Spec {
    pub(super) kind: Option<Vec<Kind>>,
    pub(super) content_type: Option<Vec<&'static str>>,
    pub(super) path: Option<Vec<usize>>,
    pub(super) name: Option<&'static str>,
    pub(super) size: (Option<u64>, Option<u64>),
    pub(super) mtime: (Option<i64>, Option<i64>),
    pub(super) metadata: BTreeMap<&'static str, Cond>,
    pub(super) in_: Option<Vec<&'static str>>,
    pub(super) not_in: Option<Vec<&'static str>>,
    pub(super) duplicate: Option<bool>,
    pub(super) watch: Option<Vec<u128>>,
    pub(super) deleted: Option<bool>,
    /// Write one-element lists as a lone string.
    pub(super) lone: bool,
}

impl Spec {
    /// The same spec with every field but the `i`th (in SPEC order) left out.
    pub(super) fn only(self, i: usize) -> Spec {
        let keep = |j: usize| i == j;
        Spec {
            kind: self.kind.filter(|_| keep(0)),
            content_type: self.content_type.filter(|_| keep(1)),
            path: self.path.filter(|_| keep(2)),
            name: self.name.filter(|_| keep(3)),
            size: if keep(4) { self.size } else { (None, None) },
            mtime: if keep(5) { self.mtime } else { (None, None) },
            metadata: if keep(6) {
                self.metadata
            } else {
                BTreeMap::new()
            },
            in_: self.in_.filter(|_| keep(7)),
            not_in: self.not_in.filter(|_| keep(8)),
            duplicate: self.duplicate.filter(|_| keep(9)),
            watch: self.watch.filter(|_| keep(10)),
            deleted: self.deleted.filter(|_| keep(11)),
            lone: self.lone,
        }
    }

    pub(super) fn json(&self) -> Value {
        let strings = |v: Vec<String>| {
            if self.lone && v.len() == 1 {
                json!(v[0])
            } else {
                json!(v)
            }
        };
        let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
        let mut m = serde_json::Map::new();
        let kinds = self
            .kind
            .as_ref()
            .map(|v| strings(v.iter().map(|k| k.as_str().to_owned()).collect()));
        m.insert("kind".into(), opt(kinds));
        let types = self
            .content_type
            .as_ref()
            .map(|v| strings(v.iter().map(|&s| s.to_owned()).collect()));
        m.insert("content_type".into(), opt(types));
        let globs = self
            .path
            .as_ref()
            .map(|v| strings(v.iter().map(|&i| GLOBS[i].0.to_owned()).collect()));
        m.insert("path".into(), opt(globs));
        m.insert("name".into(), json!(self.name));
        m.insert(
            "size".into(),
            json!({"min": self.size.0, "max": self.size.1}),
        );
        let t = |m: Option<i64>| m.map(|m| Timestamp::from_micros(m).to_string());
        m.insert(
            "mtime".into(),
            json!({"after": t(self.mtime.0), "before": t(self.mtime.1)}),
        );
        let conds = self.metadata.iter().map(|(k, c)| {
            let c = match c {
                Cond::AnyOf(ps) => Value::Array(ps.iter().map(|p| p.json()).collect()),
                Cond::Range(lo, hi) => {
                    json!({"min": lo.map(Plain::json), "max": hi.map(Plain::json)})
                }
                Cond::Exists(e) => json!({"exists": e}),
            };
            ((*k).to_owned(), c)
        });
        m.insert("metadata".into(), Value::Object(conds.collect()));
        let slugs = |v: &Option<Vec<&str>>| {
            opt(v
                .as_ref()
                .map(|v| strings(v.iter().map(|&s| s.to_owned()).collect())))
        };
        m.insert("in".into(), slugs(&self.in_));
        m.insert("not_in".into(), slugs(&self.not_in));
        m.insert("duplicate".into(), json!(self.duplicate));
        let watches = self
            .watch
            .as_ref()
            .map(|v| strings(v.iter().map(|&n| wid(n).to_string()).collect()));
        m.insert("watch".into(), opt(watches));
        m.insert("deleted".into(), json!(self.deleted));
        Value::Object(m)
    }

    /// The reference predicate: the SPEC's words, one field at a time.
    pub(super) fn admits(&self, c: &Case) -> bool {
        let item = &c.item;
        let deleted = item.deleted_at.is_some();
        let path = item.path.as_deref().or(item.last_path.as_deref());
        let file = item
            .path
            .as_deref()
            .map_or(item.original_filename.as_str(), |p| {
                p.rsplit('/').next().unwrap()
            });
        let essence = item.content_type.split(';').next().unwrap();
        let member = |s: &&str| {
            if *s == "default" {
                c.collections.is_empty()
            } else {
                c.collections.contains(&cid(s))
            }
        };
        deleted == self.deleted.unwrap_or(false)
            && self.kind.as_ref().is_none_or(|ks| ks.contains(&item.kind))
            && self.content_type.as_ref().is_none_or(|ps| {
                ps.iter().any(|p| match p.strip_suffix("/*") {
                    Some(top) => essence.starts_with(&format!("{top}/")),
                    None => essence == *p,
                })
            })
            && self
                .path
                .as_ref()
                .is_none_or(|gs| path.is_some_and(|p| gs.iter().any(|&i| GLOBS[i].1(p))))
            && self
                .name
                .is_none_or(|n| file.to_lowercase().contains(&n.to_lowercase()))
            && self.size.0.is_none_or(|min| item.size >= min)
            && self.size.1.is_none_or(|max| item.size <= max)
            && self.mtime.0.is_none_or(|a| item.mtime.as_micros() >= a)
            && self.mtime.1.is_none_or(|b| item.mtime.as_micros() < b)
            && self.metadata.iter().all(|(k, cond)| {
                let v = item.metadata.get(*k);
                match cond {
                    Cond::Exists(e) => v.is_some() == *e,
                    Cond::AnyOf(ps) => v.is_some_and(|v| ps.iter().any(|p| same(v, *p))),
                    Cond::Range(lo, hi) => v.and_then(num).is_some_and(|x| {
                        lo.is_none_or(|l| x >= num(&l.meta()).unwrap())
                            && hi.is_none_or(|h| x <= num(&h.meta()).unwrap())
                    }),
                }
            })
            && self.in_.as_ref().is_none_or(|cs| cs.iter().any(member))
            && self.not_in.as_ref().is_none_or(|cs| !cs.iter().any(member))
            && self.duplicate.is_none_or(|d| d == c.duplicate)
            && self
                .watch
                .as_ref()
                .is_none_or(|ws| ws.iter().any(|&n| c.watches.contains(&wid(n))))
    }
}
