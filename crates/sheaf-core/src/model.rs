use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{FieldError, Loc};
use crate::id::{CollectionId, EntryId, ItemId, RuleId, WatchId};
use crate::kind::{Kind, kind_of_content_type};
use crate::metadata::Metadata;
use crate::query::Query;
use crate::time::Timestamp;

/// Which file on which device: how a file is recognised after a move while nobody watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileId {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

/// A file the store knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable for the item's life.
    pub id: ItemId,
    /// From the content type.
    pub kind: Kind,
    /// MIME type, sniffed from magic bytes, falling back to the extension.
    pub content_type: String,
    /// Absolute path while the file exists; `None` once it is gone.
    pub path: Option<String>,
    /// Where the file was last seen.
    pub last_path: Option<String>,
    /// The file name as on disk.
    pub original_filename: String,
    /// Bytes, as on disk.
    pub size: u64,
    /// Modification time, as on disk.
    pub mtime: Timestamp,
    /// BLAKE3 hex of the content, once computed.
    pub content_hash: Option<String>,
    /// Item metadata; entries overlay it.
    pub metadata: Metadata,
    /// Device and inode, where known.
    pub file_id: Option<FileId>,
    /// When the store first saw the file.
    pub created_at: Timestamp,
    /// Last change to any field.
    pub updated_at: Timestamp,
    /// Set when the file disappeared, cleared when it comes back.
    pub deleted_at: Option<Timestamp>,
    /// A small integer, unique among items and never reused (SPEC §1): assigned by the
    /// store when it first stores the item, which keeps it beside the record, not in it
    /// (so the op log's copies of an item never carry one). Planners never write it; a
    /// new item's is 0 until it is stored.
    #[serde(skip)]
    pub number: u64,
}

/// What the filesystem says about a file; input to registering it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// Absolute path.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Modification time.
    pub mtime: Timestamp,
    /// Sniffed content type (see [`crate::content_type_for`]).
    pub content_type: String,
    /// Device and inode.
    pub file_id: Option<FileId>,
}

impl FileFacts {
    /// The kind the content type maps to.
    #[must_use]
    pub fn kind(&self) -> Kind {
        kind_of_content_type(&self.content_type)
    }

    /// The last component of the path.
    #[must_use]
    pub fn file_name(&self) -> &str {
        file_name(&self.path)
    }
}

/// The last component of an absolute path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Checks that `path` is absolute, normalised (no `.` or `..` components, no `//`), has a
/// file name and holds no NUL byte.
pub fn validate_absolute_path(path: &str, loc: Vec<Loc>) -> Result<(), FieldError> {
    let problem = if !path.starts_with('/') {
        Some("paths must be absolute")
    } else if path.contains('\0') {
        Some("paths must not contain NUL bytes")
    } else if path.len() > 4096 {
        Some("paths must be at most 4096 bytes")
    } else if path.len() == 1 || path.ends_with('/') {
        Some("paths must name a file, not a directory")
    } else if path[1..]
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        Some("paths must be normalised: no empty, '.' or '..' components")
    } else {
        None
    };
    match problem {
        Some(msg) => Err(FieldError::new(loc, msg, "path")),
        None => Ok(()),
    }
}

/// A rule of a collection's `accept` list: a kind, or a MIME pattern such as
/// `application/pdf` or `image/*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptRule {
    /// Any item of this kind.
    Kind(Kind),
    /// `type/subtype`, or `type/*`.
    Mime(String),
}

impl AcceptRule {
    /// Whether an item of this kind and content type passes the rule.
    #[must_use]
    pub fn accepts(&self, kind: Kind, content_type: &str) -> bool {
        match self {
            AcceptRule::Kind(k) => *k == kind,
            AcceptRule::Mime(pattern) => mime_matches(pattern, content_type),
        }
    }
}

/// A MIME pattern, `type/subtype` or `type/*`, lower-cased; `None` when `s` is neither.
pub(crate) fn mime_pattern(s: &str) -> Option<String> {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 127
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let (top, sub) = s.split_once('/')?;
    (token(top) && (sub == "*" || token(sub))).then(|| s.to_ascii_lowercase())
}

/// Whether `content_type` (its parameters ignored) matches a pattern of [`mime_pattern`].
pub(crate) fn mime_matches(pattern: &str, content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    match pattern.strip_suffix("/*") {
        Some(top) => essence
            .split_once('/')
            .is_some_and(|(t, _)| t.eq_ignore_ascii_case(top)),
        None => essence.eq_ignore_ascii_case(pattern),
    }
}

impl fmt::Display for AcceptRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptRule::Kind(k) => f.write_str(k.as_str()),
            AcceptRule::Mime(m) => f.write_str(m),
        }
    }
}

impl FromStr for AcceptRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(kind) = s.parse::<Kind>() {
            return Ok(AcceptRule::Kind(kind));
        }
        mime_pattern(s).map(AcceptRule::Mime).ok_or_else(|| {
            format!(
                "{s:?} is neither a kind (document, image, video, audio, text, archive, other) \
                 nor a MIME pattern like application/pdf or image/*"
            )
        })
    }
}

impl Serialize for AcceptRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AcceptRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// A named set of items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// The slug.
    pub id: CollectionId,
    /// Display name; defaults to the id.
    pub name: String,
    /// Display text.
    pub description: String,
    /// Read-only membership when set.
    pub archived: bool,
    /// Kinds or MIME patterns allowed in; `None` allows everything.
    pub accept: Option<Vec<AcceptRule>>,
    /// Set while the collection is in the trash.
    pub trashed_at: Option<Timestamp>,
    /// Live entries. Maintained by the store; planners never write it.
    pub item_count: u64,
    /// Watch roots bound to this collection.
    pub folders: Vec<WatchId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change to the collection's own fields.
    pub updated_at: Timestamp,
    /// A smart collection's query (SPEC §7.2): its live entries are exactly the items that
    /// match. `None` for a collection kept by hand (and by watches and rules).
    pub query: Option<Box<Query>>,
    /// A smart collection not yet filled: created, restored or given a new query, and the
    /// background fill has not looked at every item yet. Maintained by the store; planners
    /// never write it.
    pub filling: bool,
    /// A small integer, unique among collections and never reused (SPEC §1): assigned by
    /// the store when it creates the collection, and kept in its record beside it.
    /// Planners never write it; `default`, which is no stored collection, has 0.
    #[serde(skip)]
    pub number: u64,
}

impl Collection {
    /// The `default` collection as it always exists: the view of unfiled items.
    #[must_use]
    pub fn default_view(item_count: u64) -> Self {
        Self {
            id: CollectionId::default_collection(),
            name: CollectionId::DEFAULT.to_owned(),
            description: "Items that are in no collection".to_owned(),
            archived: false,
            accept: None,
            trashed_at: None,
            item_count,
            folders: Vec::new(),
            created_at: Timestamp::EPOCH,
            updated_at: Timestamp::EPOCH,
            query: None,
            filling: false,
            number: 0,
        }
    }

    /// Whether the `accept` list lets an item of this kind and type in.
    #[must_use]
    pub fn accepts(&self, kind: Kind, content_type: &str) -> bool {
        self.accept
            .as_ref()
            .is_none_or(|rules| rules.iter().any(|r| r.accepts(kind, content_type)))
    }
}

/// A folder bound to a collection (SPEC §3). What the daemon knows while running (state,
/// file count, queue depth) is not stored; this is the part that persists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// `w_<ULID>`.
    pub id: WatchId,
    /// The root: absolute and normalised, no trailing `/`.
    pub path: String,
    /// The collection its files are members of.
    pub collection_id: CollectionId,
    /// Whether sub-folders are watched too (the default) or only the root's own files.
    pub recursive: bool,
    /// Globs a file must match (any) to belong; empty: every file.
    pub include: Vec<String>,
    /// Globs that leave files (and folders) out.
    pub exclude: Vec<String>,
    /// Rescan every this many milliseconds instead of following live events.
    pub poll_ms: Option<u64>,
    /// Declared in the config file (it comes back at every start) rather than by the API.
    pub from_config: bool,
    /// When it was added.
    pub created_at: Timestamp,
    /// Last change to its settings.
    pub updated_at: Timestamp,
}

impl Watch {
    /// The path of `path` relative to the root, if the watch covers it: under the root and,
    /// for a non-recursive watch, directly in it. Filters are not applied here.
    #[must_use]
    pub fn relative<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rel = path.strip_prefix(self.path.as_str())?.strip_prefix('/')?;
        (!rel.is_empty() && (self.recursive || !rel.contains('/'))).then_some(rel)
    }
}

/// Who owns an entry: a person (or script), a folder watch that mirrors a folder, a smart
/// collection's query, or a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntrySource {
    /// Added through the API; the watcher never touches it.
    Manual,
    /// Mirrors a file under this watch's root.
    Folder(WatchId),
    /// Kept by a smart collection's query (SPEC §7.2): there exactly while the item matches.
    Query,
    /// Linked by a rule (SPEC §7.3); otherwise like a manual entry.
    Rule(RuleId),
}

impl EntrySource {
    /// The watch that owns the entry, for a folder entry.
    #[must_use]
    pub fn watch(self) -> Option<WatchId> {
        match self {
            EntrySource::Folder(w) => Some(w),
            EntrySource::Manual | EntrySource::Query | EntrySource::Rule(_) => None,
        }
    }
}

impl fmt::Display for EntrySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntrySource::Manual => f.write_str("manual"),
            EntrySource::Folder(w) => write!(f, "folder:{w}"),
            EntrySource::Query => f.write_str("query"),
            EntrySource::Rule(r) => write!(f, "rule:{r}"),
        }
    }
}

impl FromStr for EntrySource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "manual" => return Ok(EntrySource::Manual),
            "query" => return Ok(EntrySource::Query),
            _ => {}
        }
        let parsed = if let Some(w) = s.strip_prefix("folder:") {
            w.parse().ok().map(EntrySource::Folder)
        } else if let Some(r) = s.strip_prefix("rule:") {
            r.parse().ok().map(EntrySource::Rule)
        } else {
            None
        };
        parsed.ok_or_else(|| {
            format!(
                "{s:?} is none of \"manual\", \"folder:<watch id>\", \"query\", \"rule:<rule id>\""
            )
        })
    }
}

/// The binary form. Its first two variants encode exactly as the `Option<WatchId>` that
/// schema 3 stored (postcard writes a variant index as the byte an `Option` tag is), so
/// entries written before smart collections and rules read back unchanged.
#[derive(Serialize, Deserialize)]
enum StoredSource {
    Manual,
    Folder(WatchId),
    Query,
    Rule(RuleId),
}

impl Serialize for EntrySource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            match *self {
                EntrySource::Manual => StoredSource::Manual,
                EntrySource::Folder(w) => StoredSource::Folder(w),
                EntrySource::Query => StoredSource::Query,
                EntrySource::Rule(r) => StoredSource::Rule(r),
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for EntrySource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            text.parse().map_err(de::Error::custom)
        } else {
            Ok(match StoredSource::deserialize(d)? {
                StoredSource::Manual => EntrySource::Manual,
                StoredSource::Folder(w) => EntrySource::Folder(w),
                StoredSource::Query => EntrySource::Query,
                StoredSource::Rule(r) => EntrySource::Rule(r),
            })
        }
    }
}

/// An item's membership in one collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `ent_<ULID>`.
    pub id: EntryId,
    /// The collection it is a member of (never `default`, which holds no entries).
    pub collection_id: CollectionId,
    /// The item it makes a member; with `collection_id`, the key of the entry (one per item and
    /// collection).
    pub item_id: ItemId,
    /// Defaults to the file name.
    pub display_name: String,
    /// Unique among the collection's live entries.
    pub unique_id: String,
    /// Entry metadata, overlaid on the item's.
    pub metadata: Metadata,
    /// Ordering key within the collection: smaller first. Not a dense index.
    pub sort_order: i64,
    /// Who owns the membership.
    pub source: EntrySource,
    /// When the entry was first created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Set while soft-deleted.
    pub deleted_at: Option<Timestamp>,
}

impl Entry {
    /// Whether the entry counts as membership (not soft-deleted).
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// The item's metadata overlaid by the entry's (entry wins).
    #[must_use]
    pub fn merged_metadata(&self, item: &Item) -> Metadata {
        let mut merged = item.metadata.clone();
        merged.extend(self.metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_rules_parse_kinds_and_mime_patterns() {
        assert_eq!(
            "image".parse::<AcceptRule>().unwrap(),
            AcceptRule::Kind(Kind::Image)
        );
        assert_eq!(
            "Application/PDF".parse::<AcceptRule>().unwrap(),
            AcceptRule::Mime("application/pdf".into())
        );
        assert!("image/*".parse::<AcceptRule>().is_ok());
        assert!("pictures".parse::<AcceptRule>().is_err());
        assert!("*/*x".parse::<AcceptRule>().is_err());
    }

    #[test]
    fn accept_rules_match_by_kind_exact_type_or_wildcard() {
        let pdf: AcceptRule = "application/pdf".parse().unwrap();
        let images: AcceptRule = "image/*".parse().unwrap();
        assert!(pdf.accepts(Kind::Document, "application/pdf"));
        assert!(!pdf.accepts(Kind::Document, "application/msword"));
        assert!(images.accepts(Kind::Image, "image/png"));
        assert!(!images.accepts(Kind::Video, "video/mp4"));
        assert!(AcceptRule::Kind(Kind::Text).accepts(Kind::Text, "text/markdown"));
    }

    #[test]
    fn paths_must_be_absolute_and_normalised() {
        let loc = || vec![Loc::from("path")];
        assert!(validate_absolute_path("/home/a/b.pdf", loc()).is_ok());
        for bad in ["rel/a", "/a/../b", "/a/./b", "/a//b", "/", "/a/", "/a\0b"] {
            assert!(validate_absolute_path(bad, loc()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn entry_sources_render_as_the_spec_says() {
        assert_eq!(EntrySource::Manual.to_string(), "manual");
        let w: WatchId = "w_01J00000000000000000000000".parse().unwrap();
        let folder = EntrySource::Folder(w);
        assert_eq!(folder.to_string(), format!("folder:{w}"));
        assert_eq!(folder.to_string().parse::<EntrySource>().unwrap(), folder);
    }
}
