//! Rules as the API shows them (SPEC §7.3): the rule with where it stands, its runs, and
//! the items a dry run finds.

use serde::{Deserialize, Serialize};
use sheaf_core::rule::RuleRun as CoreRun;
use sheaf_core::{ItemId, RuleId, Timestamp};
use utoipa::ToSchema;

use crate::requests::RuleBody;

/// What a header's value is shown as: a rule's webhook headers carry credentials.
pub const HIDDEN: &str = "(hidden)";

/// A rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    /// `r_<ULID>`.
    #[schema(value_type = String, example = "r_01JD3Q2X9K8M7N6P5R4S3T2V1W")]
    pub id: RuleId,
    /// Its definition (webhook header values hidden).
    #[serde(flatten)]
    pub definition: RuleBody,
    /// `config` (a `[[rule]]` of the config file: changed there) or `api`.
    pub origin: String,
    /// The last feed event it has handled.
    pub cursor: u64,
    /// Outside actions committed and not yet carried out.
    pub pending_jobs: u64,
    /// Its last `apply`, running or finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<ApplyProgress>,
    /// When it was defined.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The last change to its definition.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Rule {
    /// Hides the values of the webhook's headers.
    #[must_use]
    pub fn with_secrets_hidden(mut self) -> Self {
        if let Some(h) = &mut self.definition.webhook {
            for v in h.headers.values_mut() {
                HIDDEN.clone_into(v);
            }
        }
        self
    }
}

/// Where an `apply` stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplyProgress {
    /// `running` or `done`.
    pub state: String,
    /// Items looked at.
    pub scanned: u64,
    /// Items in the store when it started.
    pub total: u64,
    /// Of those looked at, the ones that matched and were taken up.
    pub applied: u64,
    /// When it was asked for.
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// When it finished.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

/// One run of a rule for an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleRun {
    /// The rule.
    #[schema(value_type = String)]
    pub rule_id: RuleId,
    /// The item it ran for.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<ItemId>,
    /// The feed event it ran for (`SHEAF_EVENT_SEQ`).
    pub event_seq: u64,
    /// When the run was recorded.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Whether every action was done.
    pub ok: bool,
    /// What was done, or why it failed.
    pub detail: String,
    /// The program's exit status, if it ran and exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// How long the outside actions took.
    pub duration_ms: u64,
    /// The last 4 KiB of the program's stderr.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
}

impl From<CoreRun> for RuleRun {
    fn from(r: CoreRun) -> Self {
        Self {
            rule_id: r.rule,
            item_id: r.item,
            event_seq: r.event_seq,
            at: r.at,
            ok: r.ok,
            detail: r.detail,
            exit_code: r.exit_code,
            duration_ms: r.duration_ms,
            stderr_tail: r.stderr_tail,
        }
    }
}

/// An existing item a rule matches, and what running the rule for it would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleMatch {
    /// The item.
    #[schema(value_type = String)]
    pub item_id: ItemId,
    /// Its file.
    pub path: String,
    /// Collections it would be linked into (those it is not live in yet).
    pub link: Vec<String>,
    /// Metadata keys whose values would change, with their new values.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Where the file would be moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocate: Option<String>,
    /// The program that would run, its arguments filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Vec<String>>,
    /// Where the event would be posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}
