//! The records of a rule at work: a job waiting for its outside actions, and a run.

use serde::{Deserialize, Serialize};

use super::Cause;
use crate::event::Event;
use crate::id::{CollectionId, ItemId, OpId, RuleId};
use crate::time::Timestamp;

/// A rule's outside actions (`relocate`, `run`, `webhook`) for one event, waiting to be
/// carried out. It is stored in the transaction that applies the rule's store actions and
/// advances its cursor, and removed in the one that records the run: a job the daemon did
/// not finish (it was stopped or killed) is carried out when it starts again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleJob {
    /// The rule.
    pub rule: RuleId,
    /// The feed position of the event that fired it; with the rule, the job's key.
    pub seq: u64,
    /// The item the actions are for.
    pub item: ItemId,
    /// The event's collection, for `{collection}` (else the rule's first `link`).
    pub collection: Option<CollectionId>,
    /// The event itself, as the program reads it on stdin and the webhook receives it.
    pub event: Event,
    /// When the event was committed.
    pub at: Timestamp,
    /// The op of the event, if it was logged.
    pub op_id: Option<OpId>,
    /// Why the event happened, when a rule's action made it.
    pub cause: Option<Cause>,
}

/// One run of a rule for one item: what it did, or why it failed (SPEC §7.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRun {
    /// The rule.
    pub rule: RuleId,
    /// The item it ran for.
    pub item: Option<ItemId>,
    /// The feed position of the event that fired it.
    pub event_seq: u64,
    /// When the run ended.
    pub at: Timestamp,
    /// Every action done.
    pub ok: bool,
    /// What was done, or what failed and why, for people.
    pub detail: String,
    /// The program's exit code, for a `run` that exited.
    pub exit_code: Option<i32>,
    /// How long the outside actions took, in milliseconds.
    pub duration_ms: u64,
    /// The last 4 KiB of the program's standard error.
    pub stderr_tail: String,
}
