//! LlamaCloud's directories (SPEC §8.4, `003_*.txt`, `004_*.txt`): a directory is a
//! collection, a directory file an entry.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::NewEntry;
use sheaf_core::{CollectionId, ErrorCode, ItemId, ItemTarget, Metadata, Refusal};
use utoipa::{IntoParams, ToSchema};

use crate::bounded;
use crate::resources::MetaValueSchema;

/// The `project_id` of an answer when the request names none.
pub const LOCAL_PROJECT: &str = "local";

/// `POST /api/v1/beta/directories/{directory_id}/files`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = DirectoryFileCreate)]
pub struct FileCreateBody {
    /// The item's id.
    pub file_id: String,
    /// Defaults to the file's name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The entry's metadata.
    #[serde(default, deserialize_with = "bounded::metadata")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, MetaValueSchema>>)]
    pub metadata: Option<Metadata>,
    /// Unique among the directory's live files; defaults as SPEC §1 says.
    #[serde(default)]
    pub unique_id: Option<String>,
}

impl FileCreateBody {
    /// The single add into directory `directory`. A directory id that is no collection id
    /// names no directory, a `file_id` that is no item id no file: both are not found.
    pub fn into_request(self, directory: &str) -> Result<NewEntry, Refusal> {
        let collection = directory_id(directory)?;
        let item = self.file_id.parse::<ItemId>().map_err(|_| {
            Refusal::with_ids(
                ErrorCode::ItemsNotFound,
                format!("file {} does not exist", self.file_id),
                "missing",
                vec![self.file_id.clone()],
            )
        })?;
        Ok(NewEntry {
            collection,
            item: ItemTarget::Id(item),
            display_name: self.display_name,
            unique_id: self.unique_id,
            metadata: self.metadata,
        })
    }
}

/// The collection a directory id names; one that is no collection id names no directory.
pub fn directory_id(text: &str) -> Result<CollectionId, Refusal> {
    CollectionId::parse(text).map_err(|_| {
        Refusal::new(
            ErrorCode::CollectionNotFound,
            format!("directory {text} does not exist"),
        )
    })
}

/// `organization_id` and `project_id`, accepted on every directory route.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectParams {
    /// Accepted and ignored: sheaf has one organization.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Echoed as the answer's `project_id`.
    #[serde(default)]
    pub project_id: Option<String>,
}

/// `GET /api/v1/beta/directories/{directory_id}/files`: a page of its files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileListParams {
    /// Accepted and ignored: sheaf has one organization.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Echoed as each file's `project_id`.
    #[serde(default)]
    pub project_id: Option<String>,
    /// 1 to 1000, default 100.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<usize>,
    /// `next_page_token` of the previous page.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A file of a directory: an entry as LlamaCloud shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = DirectoryFile)]
pub struct DirectoryFile {
    /// The entry's id.
    pub id: String,
    /// The collection's id.
    pub directory_id: String,
    /// Display name.
    pub display_name: String,
    /// The request's `project_id`, else `local`.
    pub project_id: String,
    /// Unique among the directory's live files.
    pub unique_id: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The watch id of a folder entry, else `null`.
    pub data_source_id: Option<String>,
    /// Set once the file is removed (soft delete).
    pub deleted_at: Option<String>,
    /// The item's id.
    pub file_id: String,
    /// The item's metadata overlaid by the entry's.
    #[schema(value_type = std::collections::BTreeMap<String, MetaValueSchema>)]
    pub metadata: Metadata,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// A page of a directory's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = DirectoryFileList)]
pub struct DirectoryFileList {
    /// The page, by position.
    pub items: Vec<DirectoryFile>,
    /// The next page's token, `null` on the last page.
    pub next_page_token: Option<String>,
    /// Live files in the directory.
    pub total_size: u64,
}
