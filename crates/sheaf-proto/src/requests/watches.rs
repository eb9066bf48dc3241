//! `/v1/watches…`: bind a folder to a collection, stop watching.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::NewWatch;
use sheaf_core::{Refusal, parse_interval};
use utoipa::{IntoParams, ToSchema};

use super::ids::collection_in_body;
use crate::bounded;

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
                parse_interval(p).map_err(|e| {
                    Refusal::field(
                        vec!["body".into(), "poll".into()],
                        e.to_string(),
                        "interval",
                    )
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
