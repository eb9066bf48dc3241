//! Wickson's media collections (SPEC §8.3, `002_*.txt`): the batch move, the listings,
//! their envelope `{"success", "message", "data", "metadata"}`, and the error envelope
//! with the seed's codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode};
use sheaf_core::{CollectionId, Details, ErrorCode, ItemId, ItemTarget, Refusal};
use utoipa::ToSchema;

use crate::bounded;

/// The operation the batch move names in its `metadata`.
pub const MOVE_OPERATION: &str = "move_to_collection";

/// `POST /v1/media/collections/{collection_id}/items`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonMoveBody)]
pub struct MoveBody {
    /// Media ids (`doc_…`, `img_…`) or vector ids (`vec-…`, never found: sheaf keeps no
    /// vectors); 1 to `max_batch`.
    #[serde(deserialize_with = "bounded::batch")]
    #[schema(min_items = 1)]
    pub items: Vec<String>,
}

impl MoveBody {
    /// The batch move into `collection` as the seed describes it: out of every other
    /// manual collection, the collection created when missing. An empty list is a
    /// `VALIDATION_ERROR`; texts that are no item id (vector ids among them) are
    /// `ITEMS_NOT_FOUND` naming them (the caller adds the unknown well-formed ids, which
    /// only the store can tell).
    pub fn into_request(&self, collection: CollectionId) -> Result<BatchAdd, Refusal> {
        if self.items.is_empty() {
            return Err(Refusal::field(
                vec!["body".into(), "items".into()],
                "items must list at least one media id",
                "too_short",
            ));
        }
        let mut ids = Vec::with_capacity(self.items.len());
        let mut unparsed: Vec<String> = Vec::new();
        for text in &self.items {
            match text.parse::<ItemId>() {
                Ok(id) => ids.push(id),
                Err(_) if !unparsed.contains(text) => unparsed.push(text.clone()),
                Err(_) => {}
            }
        }
        if !unparsed.is_empty() {
            return Err(Refusal::with_ids(
                ErrorCode::ItemsNotFound,
                format!("{} items do not exist", unparsed.len()),
                "missing",
                unparsed,
            ));
        }
        Ok(BatchAdd {
            collection,
            items: BatchItems::Refs(
                ids.into_iter()
                    .map(|id| ItemRef::to(ItemTarget::Id(id)))
                    .collect(),
            ),
            mode: Mode::Move,
            from: None,
            create: true,
            relocate: false,
        })
    }
}

/// Counts of a move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonSummary)]
pub struct Summary {
    /// Distinct items in the request.
    pub total: u64,
    /// Items processed: all of them, since a move never half-applies.
    pub succeeded: u64,
    /// Always 0 on success.
    pub failed: u64,
    /// Items that were in the collection already.
    pub already_in_collection: u64,
    /// Items newly in the collection (`moved + already_in_collection = total`).
    pub moved: u64,
}

/// `data` of a move.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonMoveData)]
pub struct MoveData {
    /// The target collection.
    pub collection_id: String,
    /// The counts.
    pub summary: Summary,
    /// All `total` items by kind.
    pub items_by_type: BTreeMap<String, u64>,
}

/// `metadata` of every successful answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonMetadata)]
pub struct Metadata {
    /// This request's id, also the `X-Request-Id` header.
    pub request_id: String,
    /// What was done: `move_to_collection`, `list_collections`, …
    pub operation: String,
    /// The collection the request was about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<String>,
    /// How many items the answer is about, if it is about items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
}

macro_rules! envelopes {
    ($($name:ident($data:ty) as $schema:ident: $what:literal;)*) => {$(
        #[doc = concat!("200 ", $what, ": `{\"success\": true, \"message\", \"data\", \"metadata\"}`.")]
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
        #[schema(as = $schema)]
        pub struct $name {
            /// Always `true`.
            pub success: bool,
            /// One sentence.
            pub message: String,
            /// The answer.
            pub data: $data,
            /// The request's id and what was done.
            pub metadata: Metadata,
        }
    )*};
}

envelopes! {
    MoveResponse(MoveData) as WicksonMoveResponse: "of a batch move";
    CollectionResponse(Collection) as WicksonCollectionResponse: "with one collection";
    CollectionListResponse(CollectionList) as WicksonCollectionListResponse: "with every collection";
    MediaResponse(MediaPage) as WicksonMediaResponse: "with a page of media items";
}

/// A collection as Wickson lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonCollection)]
pub struct Collection {
    /// The collection's id (`default`: the unfiled items).
    pub collection_id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Live items in it.
    pub item_count: u64,
    /// Whether its membership is read-only.
    pub archived: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// When it went to the trash, if it did.
    pub deleted_at: Option<String>,
}

/// `data` of `GET /v1/media/collections`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonCollectionList)]
pub struct CollectionList {
    /// Every live collection, `default` first.
    pub collections: Vec<Collection>,
}

/// A media item as Wickson lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonMedia)]
pub struct Media {
    /// The item's id.
    pub id: String,
    /// Its kind: `document`, `image`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// MIME type.
    pub content_type: String,
    /// The file's name.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// Where it is, `null` once gone.
    pub path: Option<String>,
    /// The item's metadata.
    #[schema(value_type = BTreeMap<String, crate::resources::MetaValueSchema>)]
    pub metadata: sheaf_core::Metadata,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// `data` of `GET /v1/media`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonMediaPage)]
pub struct MediaPage {
    /// The page's items.
    pub items: Vec<Media>,
    /// The next page's cursor, `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/media`: `collection_id` filters (`default`: the unfiled items).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MediaParams {
    /// Only the live items of this collection.
    #[serde(default)]
    #[param(pattern = "^[a-z0-9][a-z0-9_.-]{0,127}$")]
    pub collection_id: Option<String>,
    /// From `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 1000, default 100.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The error body: `{"success": false, "message", "error": {"code", "details"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonError)]
pub struct Error {
    /// Always `false`.
    pub success: bool,
    /// What went wrong.
    pub message: String,
    /// The code and its details.
    pub error: ErrorBody,
}

/// `error` of an error body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = WicksonErrorBody)]
pub struct ErrorBody {
    /// The seed's code (`VALIDATION_ERROR`, `ITEMS_NOT_FOUND`, `RATE_LIMIT_EXCEEDED`,
    /// `PROCESSING_ERROR`, …), else sheaf's.
    pub code: String,
    /// The offending ids (`missing`) or fields (`errors`), always with `request_id`.
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The code Wickson answers `code` with: the seed's own name where it has one.
#[must_use]
pub fn code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::RateLimited => "RATE_LIMIT_EXCEEDED",
        ErrorCode::Internal => "PROCESSING_ERROR",
        other => other.as_str(),
    }
}

impl Error {
    /// The error body of `refusal` answered to request `request_id`.
    #[must_use]
    pub fn new(refusal: &Refusal, request_id: &str) -> Self {
        let mut details = serde_json::Map::new();
        match &refusal.details {
            Details::None => {}
            Details::Ids { key, ids } => {
                details.insert((*key).to_owned(), serde_json::json!(ids));
            }
            Details::Fields(fields) => {
                details.insert("errors".to_owned(), serde_json::json!(fields));
            }
        }
        details.insert("request_id".to_owned(), serde_json::json!(request_id));
        Self {
            success: false,
            message: refusal.message.clone(),
            error: ErrorBody {
                code: code(refusal.code).to_owned(),
                details,
            },
        }
    }
}

/// The message of a move of `total` items into `collection`.
#[must_use]
pub fn moved_message(total: u64, collection: &str) -> String {
    let noun = if total == 1 { "item" } else { "items" };
    format!("{total} {noun} successfully moved to collection '{collection}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_message_reads_as_the_seed_writes_it() {
        assert_eq!(
            moved_message(3, "research_papers"),
            "3 items successfully moved to collection 'research_papers'"
        );
        assert_eq!(
            moved_message(1, "x"),
            "1 item successfully moved to collection 'x'"
        );
    }

    #[test]
    fn errors_carry_the_seed_codes_and_the_request_id_in_details() {
        let refusal = Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            "1 of 3 items do not exist",
            "missing",
            vec!["vec-3f72e4a7b916c054d32a851f".to_owned()],
        );
        let e = serde_json::to_value(Error::new(&refusal, "req_1")).unwrap();
        assert_eq!(
            e,
            serde_json::json!({"success": false, "message": "1 of 3 items do not exist",
                "error": {"code": "ITEMS_NOT_FOUND", "details": {
                    "missing": ["vec-3f72e4a7b916c054d32a851f"], "request_id": "req_1"}}})
        );
        assert_eq!(code(ErrorCode::RateLimited), "RATE_LIMIT_EXCEEDED");
    }
}
