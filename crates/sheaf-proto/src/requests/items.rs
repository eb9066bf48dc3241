//! `/v1/items…`: registration by path, item metadata, the listing's query.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::ItemUpdate;
use sheaf_core::{Kind, MetadataPatch};
use utoipa::{IntoParams, ToSchema};

use super::entries::ListOrder;
use crate::bounded;
use crate::resources::{KindSchema, MetaPatchValueSchema};

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

/// `POST /v1/items`: register files by absolute path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Absolute paths of files.
    #[serde(deserialize_with = "bounded::batch")]
    #[schema(min_items = 1)]
    pub paths: Vec<String>,
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
    /// `asc` (the default) or `desc`: the same listing from its last row.
    #[serde(default)]
    pub order: Option<ListOrder>,
}

/// Query of `GET /v1/duplicates`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DuplicateParams {
    /// Most groups answered, those wasting the most space: 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}
