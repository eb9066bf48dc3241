//! Request bodies and query strings, and their conversion into the core's requests. A
//! conversion checks what the wire alone can check (ids, slugs, paths, which fields go
//! together) and answers the SPEC's error codes with the field's location.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::{
    BatchAdd, BatchItems, CollectionUpdate, EntryUpdate, ItemRef as CoreItemRef, ItemUpdate, Mode,
    NewCollection, NewEntry, NewWatch, Placement, Remove, Reorder, Selection,
};
use sheaf_core::{
    AcceptRule, CollectionId, EntryFilter, ErrorCode, FieldError, ItemTarget, Kind, Loc, Metadata,
    MetadataPatch, Refusal,
};
use utoipa::{IntoParams, ToSchema};

use crate::bounded;
use crate::resources::{KindSchema, MetaPatchValueSchema, MetaValueSchema};

/// Parses a collection id from the URL.
pub fn collection_in_path(text: &str) -> Result<CollectionId, Refusal> {
    CollectionId::parse(text).map_err(|e| {
        Refusal::field(
            vec!["path".into(), "collection_id".into()],
            e.to_string(),
            "slug",
        )
    })
}

/// Parses a collection id from a body field.
fn collection_in_body(text: &str, loc: Vec<Loc>) -> Result<CollectionId, Refusal> {
    CollectionId::parse(text).map_err(|e| Refusal::field(loc, e.to_string(), "slug"))
}

/// Parses item references, reporting every malformed one at once: malformed ids are
/// `INVALID_ID` (details `invalid`), bad paths `VALIDATION_ERROR`.
fn targets<'a>(
    refs: impl IntoIterator<Item = (&'a str, Vec<Loc>)>,
) -> Result<Vec<ItemTarget>, Refusal> {
    let mut out = Vec::new();
    let mut invalid = Vec::new();
    let mut fields = Vec::new();
    for (text, loc) in refs {
        match ItemTarget::parse(text, loc) {
            Ok(t) => out.push(t),
            Err(r) if r.code == ErrorCode::InvalidId => invalid.extend(r.ids().iter().cloned()),
            Err(r) => match r.details {
                sheaf_core::Details::Fields(f) => fields.extend(f),
                _ => return Err(r),
            },
        }
    }
    if !fields.is_empty() {
        return Err(Refusal::validation(fields));
    }
    if !invalid.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::InvalidId,
            format!(
                "{} item reference(s) are neither an item id nor an absolute path",
                invalid.len()
            ),
            "invalid",
            invalid,
        ));
    }
    Ok(out)
}

/// A reference to an item in a batch: its id or absolute path, or an object with
/// per-entry fields.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ItemRef {
    /// `doc_…` or `/abs/path`.
    Plain(String),
    /// With per-entry fields.
    Detailed(ItemRefFields),
}

/// Dispatches on the JSON type so that an error inside the object form names its field
/// (an untagged enum would only say that no variant matched).
impl<'de> Deserialize<'de> for ItemRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ItemRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an item id, an absolute path, or an object with \"id\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ItemRef, E> {
                Ok(ItemRef::Plain(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ItemRef, A::Error> {
                ItemRefFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ItemRef::Detailed)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// An item reference with per-entry fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRefFields {
    /// `doc_…` or `/abs/path`.
    pub id: String,
    /// Entry display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Entry unique id.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// Entry metadata.
    #[serde(default, deserialize_with = "bounded::metadata")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, MetaValueSchema>>)]
    pub metadata: Option<Metadata>,
}

/// `link` (default) or `move`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BatchMode {
    /// Add; other memberships stay.
    #[default]
    Link,
    /// Add here, take out of the source.
    Move,
}

/// "Every live entry of `collection` that matches."
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Select {
    /// The collection to select from (`default`: unfiled items).
    pub collection: String,
    /// Case-insensitive substring of name, unique id or path.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this kind.
    #[serde(default)]
    #[schema(value_type = Option<KindSchema>)]
    pub kind: Option<Kind>,
}

/// `POST /v1/collections/{cid}/items`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAddBody {
    /// 1 to `max_batch` references; or use `select`.
    #[serde(default, deserialize_with = "bounded::batch_opt")]
    #[schema(min_items = 1)]
    pub items: Option<Vec<ItemRef>>,
    /// Instead of `items`.
    #[serde(default)]
    pub select: Option<Select>,
    /// `link` or `move`.
    #[serde(default)]
    pub mode: BatchMode,
    /// With `move`: the source collection.
    #[serde(default)]
    pub from: Option<String>,
    /// Create the target if missing.
    #[serde(default)]
    pub create: bool,
    /// Move folder-owned files on disk into the target's folder.
    #[serde(default)]
    pub relocate: bool,
}

impl BatchAddBody {
    /// The core request for target `collection`.
    pub fn into_request(self, collection: CollectionId) -> Result<BatchAdd, Refusal> {
        let items = match (self.items, self.select) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(Refusal::field(
                    vec!["body".into()],
                    "give exactly one of items and select",
                    "items_or_select",
                ));
            }
            (Some(refs), None) => {
                let locs =
                    (0..refs.len()).map(|i| vec![Loc::from("body"), "items".into(), i.into()]);
                let texts: Vec<&str> = refs
                    .iter()
                    .map(|r| match r {
                        ItemRef::Plain(t) => t.as_str(),
                        ItemRef::Detailed(d) => d.id.as_str(),
                    })
                    .collect();
                let parsed = targets(texts.into_iter().zip(locs))?;
                BatchItems::Refs(
                    refs.into_iter()
                        .zip(parsed)
                        .map(|(r, target)| match r {
                            ItemRef::Plain(_) => CoreItemRef::to(target),
                            ItemRef::Detailed(d) => CoreItemRef {
                                target,
                                display_name: d.display_name,
                                unique_id: d.unique_id,
                                metadata: d.metadata,
                            },
                        })
                        .collect(),
                )
            }
            (None, Some(sel)) => BatchItems::Select(Selection {
                collection: collection_in_body(
                    &sel.collection,
                    vec!["body".into(), "select".into(), "collection".into()],
                )?,
                filter: EntryFilter {
                    q: sel.q,
                    kind: sel.kind,
                },
            }),
        };
        let from = self
            .from
            .map(|f| collection_in_body(&f, vec!["body".into(), "from".into()]))
            .transpose()?;
        Ok(BatchAdd {
            collection,
            items,
            mode: match self.mode {
                BatchMode::Link => Mode::Link,
                BatchMode::Move => Mode::Move,
            },
            from,
            create: self.create,
            relocate: self.relocate,
        })
    }
}

/// `POST /v1/collections/{cid}/items/{item_id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryCreateBody {
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Unique id.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// Entry metadata.
    #[serde(default, deserialize_with = "bounded::metadata")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, MetaValueSchema>>)]
    pub metadata: Option<Metadata>,
}

impl EntryCreateBody {
    /// The core request.
    pub fn into_request(self, collection: CollectionId, item: &str) -> Result<NewEntry, Refusal> {
        Ok(NewEntry {
            collection,
            item: item_in_path(item)?,
            display_name: self.display_name,
            unique_id: self.unique_id,
            metadata: self.metadata,
        })
    }
}

/// Parses an item reference from the URL (an id; paths are not URL segments).
pub fn item_in_path(text: &str) -> Result<ItemTarget, Refusal> {
    text.parse()
        .map(ItemTarget::Id)
        .map_err(|e: sheaf_core::IdError| e.into())
}

/// `PATCH /v1/collections/{cid}/items/{item_id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatchBody {
    /// New display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New unique id.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// Keys to set; `null` deletes a key.
    #[serde(default, deserialize_with = "bounded::metadata_patch")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, MetaPatchValueSchema>>)]
    pub metadata: Option<MetadataPatch>,
}

impl From<EntryPatchBody> for EntryUpdate {
    fn from(b: EntryPatchBody) -> Self {
        Self {
            display_name: b.display_name,
            unique_id: b.unique_id,
            metadata: b.metadata,
        }
    }
}

/// `PATCH /v1/items/{item_id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatchBody {
    /// Keys to set; `null` deletes a key.
    #[serde(default, deserialize_with = "bounded::metadata_patch")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, MetaPatchValueSchema>>)]
    pub metadata: Option<MetadataPatch>,
}

impl From<ItemPatchBody> for ItemUpdate {
    fn from(b: ItemPatchBody) -> Self {
        Self {
            metadata: b.metadata,
        }
    }
}

/// `POST /v1/collections/{cid}/items/remove`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveBody {
    /// Item ids or paths.
    #[serde(deserialize_with = "bounded::batch")]
    #[schema(min_items = 1)]
    pub items: Vec<String>,
}

impl RemoveBody {
    /// The core request.
    pub fn into_request(self, collection: CollectionId) -> Result<Remove, Refusal> {
        let items = targets(self.items.iter().enumerate().map(|(i, t)| {
            (
                t.as_str(),
                vec![Loc::from("body"), "items".into(), i.into()],
            )
        }))?;
        Ok(Remove { collection, items })
    }
}

/// `POST /v1/collections/{cid}/items/reorder`: `{items}` to the front in that order, or
/// `{item, before}` / `{item, after}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderBody {
    /// Items to put first, in this order.
    #[serde(default, deserialize_with = "bounded::batch_opt")]
    pub items: Option<Vec<String>>,
    /// The item to place next to another.
    #[serde(default)]
    pub item: Option<String>,
    /// Place `item` right before this one.
    #[serde(default)]
    pub before: Option<String>,
    /// Place `item` right after this one.
    #[serde(default)]
    pub after: Option<String>,
}

impl ReorderBody {
    /// The core request.
    pub fn into_request(self, collection: CollectionId) -> Result<Reorder, Refusal> {
        let placement = match (self.items, self.item, self.before, self.after) {
            (Some(items), None, None, None) => {
                Placement::Front(targets(items.iter().enumerate().map(|(i, t)| {
                    (
                        t.as_str(),
                        vec![Loc::from("body"), "items".into(), i.into()],
                    )
                }))?)
            }
            (None, Some(item), Some(anchor), None) => relative(&item, &anchor, false)?,
            (None, Some(item), None, Some(anchor)) => relative(&item, &anchor, true)?,
            _ => {
                return Err(Refusal::field(
                    vec!["body".into()],
                    "give either items, or item with exactly one of before and after",
                    "reorder_shape",
                ));
            }
        };
        Ok(Reorder {
            collection,
            placement,
        })
    }
}

fn relative(item: &str, anchor: &str, after: bool) -> Result<Placement, Refusal> {
    let side = if after { "after" } else { "before" };
    let mut parsed = targets([
        (item, vec![Loc::from("body"), "item".into()]),
        (anchor, vec![Loc::from("body"), side.into()]),
    ])?
    .into_iter();
    match (parsed.next(), parsed.next()) {
        (Some(item), Some(anchor)) => Ok(Placement::Relative {
            item,
            anchor,
            after,
        }),
        _ => Err(Refusal::new(
            ErrorCode::Internal,
            "two references parsed into fewer",
        )),
    }
}

/// `POST /v1/collections`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionCreateBody {
    /// The slug.
    pub id: String,
    /// Display name (defaults to the id).
    #[serde(default)]
    pub name: Option<String>,
    /// Display text.
    #[serde(default)]
    pub description: Option<String>,
    /// Kinds or MIME patterns.
    #[serde(default, deserialize_with = "bounded::accept")]
    #[schema(max_items = 64)]
    pub accept: Option<Vec<String>>,
}

/// The most rules an `accept` list may hold: a collection is read on every membership
/// change, so its size must stay small whatever a client sends.
pub const MAX_ACCEPT_RULES: usize = 64;

fn accept_rules(rules: &[String], loc: &[&str]) -> Result<Vec<AcceptRule>, Refusal> {
    if rules.len() > MAX_ACCEPT_RULES {
        return Err(Refusal::field(
            loc.iter().map(|l| Loc::from(*l)).collect(),
            format!(
                "at most {MAX_ACCEPT_RULES} accept rules are allowed, got {}",
                rules.len()
            ),
            "accept",
        ));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match r.parse() {
            Ok(rule) => out.push(rule),
            Err(msg) => {
                let mut at: Vec<Loc> = loc.iter().map(|l| Loc::from(*l)).collect();
                at.push(i.into());
                errors.push(FieldError::new(at, msg, "accept"));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Refusal::validation(errors))
    }
}

impl CollectionCreateBody {
    /// The core request.
    pub fn into_request(self) -> Result<NewCollection, Refusal> {
        Ok(NewCollection {
            id: Some(collection_in_body(
                &self.id,
                vec!["body".into(), "id".into()],
            )?),
            name: self.name,
            description: self.description,
            accept: self
                .accept
                .map(|a| accept_rules(&a, &["body", "accept"]))
                .transpose()?,
        })
    }
}

/// `PATCH /v1/collections/{cid}`. `accept: null` accepts everything again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPatchBody {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Archive or unarchive.
    #[serde(default)]
    pub archived: Option<bool>,
    /// New accept list; `null` accepts everything, absent leaves it.
    #[serde(
        default,
        deserialize_with = "bounded::accept_patch",
        serialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(max_items = 64)]
    pub accept: Option<Option<Vec<String>>>,
}

impl CollectionPatchBody {
    /// The core request.
    pub fn into_request(self) -> Result<CollectionUpdate, Refusal> {
        Ok(CollectionUpdate {
            name: self.name,
            description: self.description,
            archived: self.archived,
            accept: match self.accept {
                None => None,
                Some(None) => Some(None),
                Some(Some(rules)) => Some(Some(accept_rules(&rules, &["body", "accept"])?)),
            },
        })
    }
}

/// Writes an `Option<Option<_>>` field: `null` for `Some(None)`; `None` is skipped.
#[allow(clippy::ref_option, clippy::option_option)] // serde's `serialize_with` passes a reference
fn double_option<S, T>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: Serialize,
{
    match v {
        Some(inner) => inner.serialize(s),
        None => s.serialize_none(),
    }
}

/// `POST /v1/items`: register files by absolute path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Absolute paths of files.
    #[serde(deserialize_with = "bounded::batch")]
    #[schema(min_items = 1)]
    pub paths: Vec<String>,
}

/// Query of `GET /v1/collections`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CollectionListParams {
    /// Only archived (`true`) or only active (`false`) collections.
    #[serde(default)]
    pub archived: Option<bool>,
    /// List the trash.
    #[serde(default)]
    pub trashed: Option<bool>,
}

/// Sort orders of entry listings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntrySort {
    /// The collection's own order.
    #[default]
    Position,
    /// Display name.
    Name,
    /// When added.
    Added,
    /// Item size.
    Size,
}

/// Query of `GET /v1/collections/{cid}/items`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryListParams {
    /// From `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Sort order.
    #[serde(default)]
    pub sort: Option<EntrySort>,
    /// Case-insensitive substring of name, unique id or path.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this kind.
    #[serde(default)]
    #[param(value_type = Option<KindSchema>)]
    pub kind: Option<Kind>,
    /// Include soft-deleted entries.
    #[serde(default)]
    pub deleted: Option<bool>,
}

/// Query of `GET /v1/items`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemListParams {
    /// Only items in this collection.
    #[serde(default)]
    pub collection: Option<String>,
    /// Only this kind.
    #[serde(default)]
    #[param(value_type = Option<KindSchema>)]
    pub kind: Option<Kind>,
    /// Case-insensitive substring of the path or file name.
    #[serde(default)]
    pub q: Option<String>,
    /// Only paths under this prefix.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Include items whose file is gone.
    #[serde(default)]
    pub deleted: Option<bool>,
    /// From `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Query of `GET /v1/events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Resume after this seq (default: only new events).
    #[serde(default)]
    pub since: Option<u64>,
}

/// Query of `GET /v1/ops`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OpListParams {
    /// From `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Query of `DELETE /v1/collections/{cid}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Delete a trashed collection for good.
    #[serde(default)]
    pub purge: Option<bool>,
}

/// `POST /v1/watches`: bind a folder to a collection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchCreateBody {
    /// The folder: an absolute path.
    pub path: String,
    /// The collection its files become members of.
    pub collection: String,
    /// Create the collection if it does not exist (default true).
    #[serde(default)]
    pub create: Option<bool>,
    /// Watch sub-folders too (default true).
    #[serde(default)]
    pub recursive: Option<bool>,
    /// Globs a file must match (any), relative to the folder; `*.pdf` matches at any depth.
    #[serde(default, deserialize_with = "bounded::globs")]
    #[schema(max_items = 1024)]
    pub include: Vec<String>,
    /// Globs that leave files and folders out.
    #[serde(default, deserialize_with = "bounded::globs")]
    #[schema(max_items = 1024)]
    pub exclude: Vec<String>,
    /// Poll at this interval (`"30s"`, `"5m"`) instead of following live events.
    #[serde(default)]
    pub poll: Option<String>,
}

impl WatchCreateBody {
    /// The core request. The folder's existence and the globs are checked by the daemon,
    /// which can look at the disk.
    pub fn into_request(self) -> Result<NewWatch, Refusal> {
        let collection =
            collection_in_body(&self.collection, vec!["body".into(), "collection".into()])?;
        let poll_ms = self
            .poll
            .as_deref()
            .map(|p| {
                parse_interval(p).map_err(|msg| {
                    Refusal::field(vec!["body".into(), "poll".into()], msg, "interval")
                })
            })
            .transpose()?;
        Ok(NewWatch {
            path: self.path.trim_end_matches('/').to_owned(),
            collection,
            create: self.create.unwrap_or(true),
            recursive: self.recursive.unwrap_or(true),
            include: self.include,
            exclude: self.exclude,
            poll_ms,
            from_config: false,
        })
    }
}

/// Query of `DELETE /v1/watches/{wid}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WatchDeleteParams {
    /// Keep the watch's entries as manual entries instead of soft-deleting them.
    #[serde(default)]
    pub keep_entries: Option<bool>,
}

/// Parses an interval: a whole number with a unit, `ms`, `s`, `m` or `h` (`"30s"`).
pub fn parse_interval(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("{text:?} is not an interval like \"30s\", \"500ms\", \"5m\" or \"1h\"");
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    match n.checked_mul(factor) {
        Some(0) => Err(format!("{text:?}: the interval must be longer than zero")),
        Some(ms) => Ok(ms),
        None => Err(bad()),
    }
}
