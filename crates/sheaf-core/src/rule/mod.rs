//! Rules (SPEC §7.3): when something happens to an item that matches a query, do things —
//! link it into collections and merge metadata into it (store actions, applied exactly
//! once with the rule's cursor), move its file (`relocate`), run a program, post a webhook
//! (outside actions, at least once). This module holds what a rule *is*: its definition,
//! validated once where it is defined (the config file or the API) with every problem
//! located, and its templates. Running rules is the daemon's; their records the store's.

mod parse;
mod plan;
mod run;
mod template;

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{FieldError, Loc};
use crate::event::EventKind;
use crate::id::{CollectionId, RuleId};
use crate::metadata::Metadata;
use crate::query::Query;
use crate::time::Timestamp;

pub use plan::plan_rule_actions;
pub use run::{RuleJob, RuleRun};
pub use template::{Fill, Template};

/// The longest a rule's `timeout` may be: one day.
pub const MAX_RULE_TIMEOUT_MS: u64 = 24 * 3_600_000;
/// A rule's `timeout` when it names none: ten minutes.
pub const DEFAULT_RULE_TIMEOUT_MS: u64 = 10 * 60_000;
/// How many rules may follow each other's actions before the chain is stopped (SPEC §7.3).
pub const MAX_RULE_CHAIN: u8 = 8;

/// Why a commit happened, when a rule's action made it: the rule, and how many rules in a
/// row led to it (1 for a rule fired by anything else). Events carry it as
/// `cause: "rule:<id>"`; a rule never fires on its own actions, and a chain longer than
/// [`MAX_RULE_CHAIN`] is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The rule whose action it was.
    pub rule: RuleId,
    /// Rules in the chain, this one included.
    pub depth: u8,
}

/// What a rule is: defined in the config file (`[[rule]]`) or by `POST /v1/rules`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSpec {
    /// Unique among the rules; what people and the config file call it.
    pub name: String,
    /// The events that fire it; `item.created` when not given.
    pub on: Vec<EventKind>,
    /// The items it acts on; `{}` (every live item) when not given.
    pub query: Query,
    /// Collections the item is linked into, as entries of source `rule:<id>` (a missing one
    /// is created).
    pub link: Vec<CollectionId>,
    /// Merged into the item's own metadata.
    pub metadata: Metadata,
    /// Where to move the file: a folder when it ends with `/` (the name is kept), else the
    /// new path. Never overwrites.
    pub relocate: Option<Template>,
    /// A program and its arguments, run without a shell.
    pub run: Option<Vec<Template>>,
    /// An HTTP POST of the event.
    pub webhook: Option<Webhook>,
    /// How long `run` may take before its process group is killed, in milliseconds.
    pub timeout_ms: u64,
}

/// Where a rule posts its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// `http://` (sheafd has no TLS stack; a local relay forwards over TLS).
    pub url: String,
    /// Sent with every post (an `Authorization`, say).
    pub headers: BTreeMap<String, String>,
}

/// The events a rule may be fired by: those about an item.
pub const RULE_EVENTS: [EventKind; 7] = [
    EventKind::ItemCreated,
    EventKind::ItemUpdated,
    EventKind::ItemRestored,
    EventKind::ItemDeleted,
    EventKind::EntryAdded,
    EventKind::EntryUpdated,
    EventKind::EntryRemoved,
];

impl RuleSpec {
    /// Reads and validates a rule given as JSON (the API's body, or a `[[rule]]` of the
    /// config file turned into JSON); `loc` is where it sits (`["body"]`, `["rule", 2]`).
    pub fn parse(value: &serde_json::Value, loc: &[Loc]) -> Result<Self, Vec<FieldError>> {
        parse::parse(value, loc)
    }

    /// The canonical JSON form; [`RuleSpec::parse`] reads it back to the same rule.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        parse::to_json(self)
    }

    /// Whether it runs programs or posts to the network: such a rule may be defined only by
    /// the config file or the daemon's own user (SPEC §7.3).
    #[must_use]
    pub fn reaches_outside(&self) -> bool {
        self.run.is_some() || self.webhook.is_some()
    }

    /// Whether it has actions outside the store (run after its store actions commit).
    #[must_use]
    pub fn has_outside_actions(&self) -> bool {
        self.reaches_outside() || self.relocate.is_some()
    }

    /// Whether `kind` fires it.
    #[must_use]
    pub fn fires_on(&self, kind: EventKind) -> bool {
        self.on.contains(&kind)
    }
}

/// A rule as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// `r_<ULID>`.
    pub id: RuleId,
    /// Its definition.
    pub spec: RuleSpec,
    /// Declared in the config file (it comes back at every start, and the API does not
    /// change it).
    pub from_config: bool,
    /// When it was defined.
    pub created_at: Timestamp,
    /// Last change to its definition.
    pub updated_at: Timestamp,
}

/// In JSON the rule object itself; in binary records its canonical JSON as one string,
/// read back through the same validation (so a stored rule is always a valid one).
impl Serialize for RuleSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = self.to_json();
        if s.is_human_readable() {
            json.serialize(s)
        } else {
            s.serialize_str(&json.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for RuleSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = if d.is_human_readable() {
            serde_json::Value::deserialize(d)?
        } else {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            serde_json::from_str(&text).map_err(de::Error::custom)?
        };
        RuleSpec::parse(&value, &[])
            .map_err(|errors| de::Error::custom(crate::query::json::describe("rule", &errors)))
    }
}
