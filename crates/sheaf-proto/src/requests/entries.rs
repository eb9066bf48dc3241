//! `/v1/collections/{cid}/items…`: the batch add, move, remove and reorder, one entry, and
//! the listing's query.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::{
    BatchAdd, BatchItems, EntryUpdate, ItemRef as CoreItemRef, Mode, NewEntry, Placement, Remove,
    Reorder, Selection,
};
use sheaf_core::{
    CollectionId, EntryFilter, ErrorCode, Kind, Loc, Metadata, MetadataPatch, Query, Refusal,
};
use utoipa::{IntoParams, ToSchema};

use super::ids::{collection_in_body, item_in_path, targets};
use crate::bounded;
use crate::resources::{KindSchema, MetaPatchValueSchema, MetaValueSchema};

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

/// "Everything that matches": the live entries of `collection` (in its order), or with a
/// `query` and no `collection` every item (in id order), that pass `q`, `kind` and `query`.
/// Give `collection`, `query` or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Select {
    /// The collection to select from (`default`: unfiled items); absent: every item, which
    /// needs a `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// Case-insensitive substring of name, unique id or path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<KindSchema>)]
    pub kind: Option<Kind>,
    /// The query of SPEC §7.1 the items must match (live items only unless it says
    /// `"deleted": true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub query: Option<serde_json::Value>,
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
                collection: sel
                    .collection
                    .map(|c| {
                        collection_in_body(
                            &c,
                            vec!["body".into(), "select".into(), "collection".into()],
                        )
                    })
                    .transpose()?,
                filter: EntryFilter {
                    q: sel.q,
                    kind: sel.kind,
                },
                query: sel
                    .query
                    .map(|q| {
                        Query::parse(&q, &["body".into(), "select".into(), "query".into()])
                            .map(Box::new)
                            .map_err(Refusal::validation)
                    })
                    .transpose()?,
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
    /// The entry's name in this collection, 1 to 1024 characters without control characters;
    /// defaults to the file name (a removed entry brought back: its old one).
    #[serde(default)]
    pub display_name: Option<String>,
    /// 1 to 1024 characters, free among the collection's live entries; defaults to the file name (a
    /// removed entry brought back: its old one), or to the item id when that is taken.
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

/// Which way a paged listing reads: `asc` from its first row, `desc` from its last (the
/// last page is one request). A `next_cursor` continues the direction that handed it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListOrder {
    /// First row first.
    Asc,
    /// Last row first.
    Desc,
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
    /// `position` (the collection's own order, the default), `name`, `added` or `size`; the last
    /// three refuse `deleted=true` and the `default` collection.
    #[serde(default)]
    pub sort: Option<EntrySort>,
    /// `asc` (the default) or `desc`: the same listing from its last row.
    #[serde(default)]
    pub order: Option<ListOrder>,
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
