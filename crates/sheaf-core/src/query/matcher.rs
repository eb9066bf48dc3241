//! A query compiled for matching: globs built once, the name lower-cased once.

use std::cmp::Ordering;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{Bounds, MetaCondition, Query, Subject};
use crate::id::CollectionId;
use crate::metadata::MetaValue;
use crate::model::{file_name, mime_matches};

/// A [`Query`] ready to decide over many [`Subject`]s.
#[derive(Clone, Debug)]
pub struct Matcher {
    query: Query,
    /// The `path` globs, `~` expanded.
    paths: Option<GlobSet>,
    /// `name`, lower-cased.
    name: Option<String>,
}

impl Matcher {
    pub(super) fn new(query: &Query, home: Option<&str>) -> Self {
        let paths = query.path.as_ref().map(|globs| {
            let mut set = GlobSetBuilder::new();
            for glob in globs {
                let expanded = expand_home(glob, home);
                // Parse checked every glob and an escaped home keeps it valid; a glob that
                // still fails to build matches nothing.
                if let Ok(g) = GlobBuilder::new(&expanded).literal_separator(true).build() {
                    set.add(g);
                }
            }
            set.build().unwrap_or_else(|_| GlobSet::empty())
        });
        Self {
            query: query.clone(),
            paths,
            name: query.name.as_deref().map(str::to_lowercase),
        }
    }

    /// The query this matcher was built from.
    #[must_use]
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Whether the subject satisfies every field of the query.
    #[must_use]
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let q = &self.query;
        let item = s.item;
        item.deleted_at.is_some() == q.deleted
            && q.kind.as_ref().is_none_or(|ks| ks.contains(&item.kind))
            && q.duplicate.is_none_or(|d| d == s.duplicate)
            && q.size.as_ref().is_none_or(|b| within(b, &item.size, true))
            && q.mtime
                .as_ref()
                .is_none_or(|b| within(b, &item.mtime, false))
            && (q.content_type.as_ref())
                .is_none_or(|ps| ps.iter().any(|p| mime_matches(p, &item.content_type)))
            && (q.in_.as_ref()).is_none_or(|cs| cs.iter().any(|c| member(s, c)))
            && (q.not_in.as_ref()).is_none_or(|cs| !cs.iter().any(|c| member(s, c)))
            && (q.watch.as_ref()).is_none_or(|ws| ws.iter().any(|w| s.watches.contains(w)))
            && self.name.as_ref().is_none_or(|n| {
                let name = item
                    .path
                    .as_deref()
                    .map_or(&*item.original_filename, file_name);
                name.to_lowercase().contains(n.as_str())
            })
            && self.paths.as_ref().is_none_or(|globs| {
                let path = item.path.as_deref().or(item.last_path.as_deref());
                path.is_some_and(|p| globs.is_match(p))
            })
            && q.metadata.iter().all(|(key, condition)| {
                let value = item.metadata.get(key);
                match condition {
                    MetaCondition::Exists(e) => value.is_some() == *e,
                    MetaCondition::AnyOf(vs) => {
                        value.is_some_and(|v| vs.iter().any(|w| same(v, w)))
                    }
                    MetaCondition::Range(b) => value.is_some_and(|v| in_range(v, b)),
                }
            })
    }
}

/// `~/rest` → `<home>/rest` and `~` → `<home>`, the home escaped so that it matches itself.
fn expand_home(glob: &str, home: Option<&str>) -> String {
    match home {
        Some(home) if glob == "~" => globset::escape(home),
        Some(home) => match glob.strip_prefix("~/") {
            Some(rest) => format!("{}/{rest}", globset::escape(home.trim_end_matches('/'))),
            None => glob.to_owned(),
        },
        None => glob.to_owned(),
    }
}

/// Live membership in `c`; `default` is membership in nothing.
fn member(s: &Subject<'_>, c: &CollectionId) -> bool {
    if c.is_default() {
        s.collections.is_empty()
    } else {
        s.collections.contains(c)
    }
}

/// `min <= v` and `v <= max` (`inclusive`) or `v < max`.
fn within<T: PartialOrd>(b: &Bounds<T>, v: &T, inclusive: bool) -> bool {
    b.min.as_ref().is_none_or(|min| v >= min)
        && b.max
            .as_ref()
            .is_none_or(|max| if inclusive { v <= max } else { v < max })
}

fn in_range(v: &MetaValue, b: &Bounds<MetaValue>) -> bool {
    let above = |min: &MetaValue| compare(v, min).is_some_and(Ordering::is_ge);
    let below = |max: &MetaValue| compare(v, max).is_some_and(Ordering::is_le);
    b.min.as_ref().is_none_or(above) && b.max.as_ref().is_none_or(below)
}

/// Equal as metadata values: numbers by value (`3` equals `3.0`), others by type and value.
fn same(a: &MetaValue, b: &MetaValue) -> bool {
    match (a, b) {
        (MetaValue::String(x), MetaValue::String(y)) => x == y,
        (MetaValue::Bool(x), MetaValue::Bool(y)) => x == y,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

/// The order of two numbers, exact across integers and fractions; `None` unless both are
/// numbers.
pub(super) fn compare(a: &MetaValue, b: &MetaValue) -> Option<Ordering> {
    match (a, b) {
        (MetaValue::Int(x), MetaValue::Int(y)) => Some(x.cmp(y)),
        (MetaValue::Float(x), MetaValue::Float(y)) => x.partial_cmp(y),
        (MetaValue::Int(x), MetaValue::Float(y)) => int_vs_float(*x, *y),
        (MetaValue::Float(x), MetaValue::Int(y)) => int_vs_float(*y, *x).map(Ordering::reverse),
        _ => None,
    }
}

/// `i` against `f` without rounding `i` to the nearest float.
fn int_vs_float(i: i64, f: f64) -> Option<Ordering> {
    // 2^63: every i64 is below it, and every float below it truncates into an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return None;
    }
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    Some(
        i.cmp(&(whole as i64))
            .then_with(|| 0.0.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal)),
    )
}
