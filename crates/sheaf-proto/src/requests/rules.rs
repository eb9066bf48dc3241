//! `/v1/rules…` (SPEC §7.3): a rule's definition as a body, the PATCH that changes some
//! of it, and the query strings of its runs and its dry run. The definition is read by
//! [`RuleSpec::parse`], the same reader as the config file's `[[rule]]`, so that both
//! refuse the same things with the same located messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sheaf_core::rule::RuleSpec;
use sheaf_core::{Loc, Refusal};
use utoipa::{IntoParams, ToSchema};

/// A rule's definition: `POST /v1/rules`, and the fields of a rule as shown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleBody {
    /// Unique name.
    pub name: String,
    /// The events it acts on: `item.created`, `item.updated`, `item.deleted`,
    /// `item.restored`, `entry.added`, `entry.updated`, `entry.removed`.
    #[schema(min_items = 1)]
    pub on: Vec<String>,
    /// The items it acts on (SPEC §7.1).
    #[schema(value_type = Object)]
    pub query: Value,
    /// Collections to link the item into, as entries of source `rule:<id>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<String>,
    /// Merged into the item's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Where to move the file, a template (`~/Papers/{yyyy}/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocate: Option<String>,
    /// A program and its arguments, templates; run without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Vec<String>>,
    /// Where to POST the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookBody>,
    /// How long the outside actions may take (`30s`, `10m`; default `10m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A rule's webhook.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookBody {
    /// An `http://` URL.
    pub url: String,
    /// Headers sent with each post. Shown with their values hidden.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl RuleBody {
    /// The wire form of a definition.
    #[must_use]
    pub fn of(spec: &RuleSpec) -> Self {
        serde_json::from_value(spec.to_json()).unwrap_or_default()
    }
}

/// Reads a definition sent as `body` (every problem located under `body`).
pub fn rule_spec(body: &Value) -> Result<RuleSpec, Refusal> {
    RuleSpec::parse(body, &[Loc::from("body")]).map_err(Refusal::validation)
}

/// `PATCH /v1/rules/{rid}`: the fields to change, as in the definition; `null` removes an
/// optional one (`relocate`, `run`, `webhook`, `link`, `metadata`, `timeout`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RulePatchBody {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<String>>,
    /// New query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub query: Option<Value>,
    /// New links (`null`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub link: Option<Value>,
    /// New metadata (`null`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable)]
    pub metadata: Option<Value>,
    /// New relocate template (`null`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable)]
    pub relocate: Option<Value>,
    /// New program (`null`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub run: Option<Value>,
    /// New webhook (`null`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<WebhookBody>, nullable)]
    pub webhook: Option<Value>,
    /// New timeout (`null`: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable)]
    pub timeout: Option<Value>,
}

/// The definition `current` with the PATCH `body` laid over it: each field given replaces
/// the current one, `null` removes it. The result is read like a new definition, so a
/// field's problems are located under `body`.
pub fn patched_rule_spec(current: &RuleSpec, body: &Value) -> Result<RuleSpec, Refusal> {
    let Value::Object(patch) = body else {
        return Err(Refusal::field(
            vec![Loc::from("body")],
            "a PATCH body is an object of the fields to change",
            "type",
        ));
    };
    let mut merged = match current.to_json() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in patch {
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    rule_spec(&Value::Object(merged))
}

/// Query of `GET /v1/rules/{rid}/runs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RuleRunParams {
    /// 1 to 1000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Query of `POST /v1/rules/{rid}/test`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RuleTestParams {
    /// How many matching items to list, 1 to 1000 (default 100); all are counted.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}
