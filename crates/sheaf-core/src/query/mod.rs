//! The query of SPEC §7.1: one JSON object that selects items, used by smart collections,
//! rules, `select` and the CLI.
//!
//! Every field is optional; all fields must hold, any value of a list may, and `{}` matches
//! every item that is not deleted. [`Query::parse`] reads and validates the JSON, reporting
//! every problem as a [`FieldError`] located under the query's own place in the request;
//! [`Query::to_json`] gives the canonical form back (`parse(to_json(q)) == q`);
//! [`Query::matcher`] compiles it into a [`Matcher`], which decides over a [`Subject`] the
//! caller gathered (the item, its live memberships, its watches, whether it has a duplicate).
//! Nothing here reads the store or the disk.
//!
//! The `type` of a [`FieldError`] says what is wrong: `type` (wrong JSON type),
//! `query.unknown_field`, `too_short` (an empty list), `too_long` (more than
//! [`MAX_QUERY_VALUES`] values), `kind`, `content_type`, `glob`, `string_length` and
//! `string_chars` (`name`), `size`, `timestamp`, `range` (a lower bound above the upper one),
//! `condition` (a metadata condition object without an operator, or with `exists` and a
//! bound), `slug` (`in`, `not_in`), `id` (`watch`), and the `metadata.*` types of metadata
//! keys and strings.

mod condition;
pub(crate) mod json;
mod matcher;
pub(crate) mod parse;

use std::collections::BTreeMap;

use crate::error::{FieldError, Loc};
use crate::id::{CollectionId, WatchId};
use crate::kind::Kind;
use crate::metadata::MetaValue;
use crate::model::Item;
use crate::time::Timestamp;

pub use matcher::Matcher;

/// Most values one list of a query may hold (`kind`, `path`, `in`, …, and a metadata key's
/// list of values): a smart collection's query is evaluated on every change, so its size
/// stays small whatever a client sends.
pub const MAX_QUERY_VALUES: usize = 64;

/// A validated query (SPEC §7.1). Built by [`Query::parse`] only, so every value in it is
/// valid; [`Query::default`] is `{}`.
///
/// Lists are never empty (an empty list is refused: leave the field out instead), and a
/// single string is accepted wherever a list of strings is. `null` is the same as leaving a
/// field out, for every field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// The item's kind is one of these.
    kind: Option<Vec<Kind>>,
    /// The item's content type (its parameters ignored) matches one of these MIME patterns,
    /// `type/subtype` or `type/*`, compared case-insensitively (the rules of a collection's
    /// `accept`). Kinds are not accepted here: they go in `kind`.
    content_type: Option<Vec<String>>,
    /// Globs on the item's absolute path; a deleted item matches on its `last_path`, an item
    /// without either matches no glob. `*` stays within one component, `**` crosses them. A
    /// leading `~/` (or a lone `~`) is the daemon user's home, given to [`Query::matcher`];
    /// without one it stays a literal `~`. A glob must start with `/`, `~` or `**`: a relative
    /// glob such as `*.pdf` could never match an absolute path.
    path: Option<Vec<String>>,
    /// A case-insensitive substring of the file name: the last component of `path`, else
    /// `original_filename`. 1 to 1024 characters without control characters.
    name: Option<String>,
    /// Bytes, both bounds inclusive. A range without bounds is the same as no range.
    size: Option<Bounds<u64>>,
    /// Modification time: `after` (`min`) inclusive, `before` (`max`) exclusive. A range
    /// without bounds is the same as no range.
    mtime: Option<Bounds<Timestamp>>,
    /// Conditions on the item's own metadata (not an entry's), all of which must hold. Keys
    /// follow the rules of metadata keys; at most 64 of them. An empty object is the same as
    /// no conditions.
    metadata: BTreeMap<String, MetaCondition>,
    /// The item has a live entry in one of these collections; `default` holds when it has
    /// none (the unfiled view). Whether they exist is the caller's check.
    in_: Option<Vec<CollectionId>>,
    /// The item has a live entry in none of these collections; `default` here means the item
    /// is in at least one collection.
    not_in: Option<Vec<CollectionId>>,
    /// Whether another live item has the same content hash (`false`: no other one does, or
    /// the hash is not known yet).
    duplicate: Option<bool>,
    /// One of these watches owns a live folder entry of the item.
    watch: Option<Vec<WatchId>>,
    /// `false` (the default): only items whose file exists (`deleted_at` unset); `true`: only
    /// deleted ones.
    deleted: bool,
}

/// A range: `min` and `max`, at least one of them set. Whether `max` is inclusive depends on
/// the field.
#[derive(Clone, Debug, PartialEq)]
struct Bounds<T> {
    min: Option<T>,
    max: Option<T>,
}

/// What one metadata key must satisfy.
#[derive(Clone, Debug, PartialEq)]
enum MetaCondition {
    /// Equal to one of these (never empty). Numbers compare by value across integers and
    /// fractions (`3` equals `3.0`); a string never equals a number or a boolean.
    AnyOf(Vec<MetaValue>),
    /// A number within the bounds, both inclusive; the bounds are numbers ([`MetaValue::Int`]
    /// or [`MetaValue::Float`]) and a value that is not a number never matches.
    Range(Bounds<MetaValue>),
    /// The key is present (`true`) or absent (`false`).
    Exists(bool),
}

/// Everything a match looks at, gathered by the caller (the store) without the matcher
/// doing IO.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The item.
    pub item: &'a Item,
    /// Collections where the item has a live entry (any order).
    pub collections: &'a [CollectionId],
    /// Watches that own a live folder entry of the item.
    pub watches: &'a [WatchId],
    /// Another live (not deleted) item has the same content hash.
    pub duplicate: bool,
}

impl Query {
    /// Parses and validates a query given as JSON. `loc` is where it sits in the request,
    /// e.g. `["body", "query"]`; every problem is reported (all of them, not just the first)
    /// as a [`FieldError`] whose `loc` extends it: `["body", "query", "size", "min"]`.
    pub fn parse(value: &serde_json::Value, loc: &[Loc]) -> Result<Query, Vec<FieldError>> {
        parse::parse(value, loc)
    }

    /// The canonical JSON form: absent fields left out, lists always as arrays, a metadata
    /// condition with one value as that plain value, `deleted` only when `true`, timestamps
    /// in UTC. [`Query::parse`] reads it back to an equal query.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        json::to_json(self)
    }

    /// The matcher for this query; `home` expands a leading `~/` (and a lone `~`) in `path`
    /// globs. Infallible: the globs were checked by [`Query::parse`].
    #[must_use]
    pub fn matcher(&self, home: Option<&str>) -> Matcher {
        Matcher::new(self, home)
    }

    /// Collections named by `in` and `not_in` (for existence checks and the dependency order
    /// of smart collections), `in` first, in the order given. `default` is yielded when named:
    /// it always exists, and membership in it depends on every other collection.
    pub fn collections(&self) -> impl Iterator<Item = &CollectionId> {
        self.in_.iter().chain(&self.not_in).flatten()
    }

    /// Whether the answer depends on other items (the `duplicate` field).
    #[must_use]
    pub fn uses_duplicates(&self) -> bool {
        self.duplicate.is_some()
    }

    /// Whether it reads memberships (`in`, `not_in`).
    #[must_use]
    pub fn uses_memberships(&self) -> bool {
        self.in_.is_some() || self.not_in.is_some()
    }

    /// Whether it reads the watches that own an item (`watch`).
    #[must_use]
    pub fn uses_watches(&self) -> bool {
        self.watch.is_some()
    }
}
