//! `/v1/collections…`: create, update, list, delete.

use serde::{Deserialize, Serialize};
use sheaf_core::Query;
use sheaf_core::rules::{CollectionUpdate, NewCollection};
use sheaf_core::{AcceptRule, FieldError, Loc, Refusal};
use utoipa::{IntoParams, ToSchema};

use super::ids::collection_in_body;
use crate::bounded;

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
    /// Makes it a smart collection (SPEC §7.2): its members are the items that match.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub query: Option<serde_json::Value>,
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

/// The query of a request body, every problem located under `body.query`.
pub(crate) fn body_query(value: &serde_json::Value) -> Result<Query, Refusal> {
    Query::parse(value, &[Loc::from("body"), Loc::from("query")]).map_err(Refusal::validation)
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
            query: self.query.as_ref().map(body_query).transpose()?,
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
    /// A smart collection's new query; it is filled again in the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub query: Option<serde_json::Value>,
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
            query: self.query.as_ref().map(body_query).transpose()?,
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

/// Query of `DELETE /v1/collections/{cid}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Delete a trashed collection for good.
    #[serde(default)]
    pub purge: Option<bool>,
}
