//! Rules in the store (SPEC §7.3): their definitions, the cursor each follows the feed
//! with, the outside actions waiting to be carried out, and their runs. The one write that
//! matters is [`Store::fire_rule`]: a rule's store actions for an event commit in the same
//! transaction that moves its cursor past the event, so after a crash they are applied
//! exactly once; its outside actions are stored as a job in that transaction and removed
//! with the run's record, so a job the daemon did not finish is carried out when it starts
//! again.

mod apply;

pub use apply::{ApplyStep, Applying, Matched, RuleTest};

use redb::ReadableTable;
use sheaf_core::rule::{
    Cause, MAX_RULE_CHAIN, Rule, RuleJob, RuleRun, RuleSpec, plan_rule_actions,
};
use sheaf_core::rules::item_matches;
use sheaf_core::{
    CollectionId, ErrorCode, Event, Item, ItemId, Matcher, OpId, Outcome, PlanError, Query,
    Refusal, RuleId, StateView, Timestamp,
};

use crate::error::{StoreError, WriteError};
use crate::schema::{META_NEXT_SEQ, Tabs, decode, encode};
use crate::txn::Txn;
use crate::view::{StoreView, meta};
use crate::{Store, Written};

type Result<T> = std::result::Result<T, WriteError>;

/// The first and last seq a write appended, if it appended any.
type Seqs = Option<(u64, u64)>;

/// Runs kept per rule; older ones are dropped.
pub const RULE_RUNS_KEPT: u64 = 1000;

/// A rule with where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleState {
    /// The rule.
    pub rule: Rule,
    /// The last feed event it has handled.
    pub cursor: u64,
    /// Outside actions committed and not yet carried out.
    pub pending_jobs: u64,
    /// Its last `apply`, running or finished.
    pub applying: Option<Applying>,
}

/// What firing a rule for an event did.
#[derive(Clone, Debug, PartialEq)]
pub enum Fired {
    /// Store actions applied (if any) and no outside actions: the run is recorded.
    Done,
    /// Store actions applied (if any); the outside actions wait as this job.
    Queued(Box<RuleJob>),
    /// Nothing applied: an action was refused, or the chain of rules was too long. The
    /// failed run is recorded.
    Failed(String),
}

/// The event a rule fires on, as the engine read it from the feed.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    /// The event's feed position.
    pub seq: u64,
    /// The item.
    pub item: ItemId,
    /// The event.
    pub event: Event,
    /// When it was committed.
    pub at: Timestamp,
    /// Its op, if logged.
    pub op_id: Option<OpId>,
    /// Its cause, if a rule's action.
    pub cause: Option<Cause>,
}

pub(crate) fn not_found(id: RuleId) -> Refusal {
    Refusal::new(ErrorCode::RuleNotFound, format!("rule {id} does not exist"))
}

impl Txn<'_, '_> {
    pub(crate) fn rule(&self, id: RuleId) -> std::result::Result<Option<Rule>, StoreError> {
        stored_rule(&self.tabs, id)
    }

    fn put_rule(&mut self, rule: &Rule) -> std::result::Result<(), StoreError> {
        self.tabs
            .rules
            .insert(rule.id.ulid().0, encode(rule)?.as_slice())
            .map_err(StoreError::storage)?;
        self.tabs
            .rule_names
            .insert(rule.spec.name.as_str(), rule.id.ulid().0)
            .map_err(StoreError::storage)?;
        Ok(())
    }

    fn rule_named(&self, name: &str) -> std::result::Result<Option<Rule>, StoreError> {
        let id = Tabs::rule_names(&self.tabs)?
            .get(name)
            .map_err(StoreError::storage)?
            .map(|v| v.value());
        match id {
            Some(ulid) => self.rule(RuleId::from_ulid(ulid::Ulid(ulid))),
            None => Ok(None),
        }
    }

    /// Refuses a definition that links into a smart collection (its query alone decides
    /// what is in it).
    fn check_links(&mut self, spec: &RuleSpec) -> Result<()> {
        for c in &spec.link {
            let smart =
                self.plan(|view, _| view.collection(c).map_err(sheaf_core::PlanError::View))?;
            if smart.is_some_and(|c| c.query.is_some()) {
                return Err(Refusal::with_ids(
                    ErrorCode::CollectionIsSmart,
                    format!("the rule links into {c}, a smart collection: its query decides what is in it"),
                    "smart",
                    vec![c.to_string()],
                )
                .into());
            }
        }
        Ok(())
    }

    /// Records a run and emits `rule.ran` or `rule.failed`, keeping the newest runs.
    fn record_run(&mut self, run: &RuleRun) -> Result<()> {
        let rule = run.rule.ulid().0;
        let key = (
            rule,
            ulid::Ulid::from_parts(
                u64::try_from(self.now.as_micros() / 1000).unwrap_or(0),
                ulid::Ulid::generate().random(),
            )
            .0,
        );
        self.tabs
            .rule_runs
            .insert(key, encode(run)?.as_slice())
            .map_err(StoreError::storage)?;
        self.emit(vec![Event::rule_run(run.rule, run.item, run.ok)])
    }

    /// Drops `rule`'s oldest runs beyond [`RULE_RUNS_KEPT`]. Called once at the end of each
    /// transaction that records runs, not per run: counting the kept runs reads up to a
    /// thousand keys, which per firing made a burst's page cost a million reads.
    pub(crate) fn prune_runs(&mut self, rule: RuleId) -> Result<()> {
        let rule = rule.ulid().0;
        let excess: Vec<(u128, u128)> = self
            .tabs
            .rule_runs
            .range((rule, 0)..=(rule, u128::MAX))
            .map_err(StoreError::storage)?
            .rev()
            .skip(RULE_RUNS_KEPT as usize)
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()
            .map_err(StoreError::storage)?;
        for key in excess {
            self.tabs
                .rule_runs
                .remove(key)
                .map_err(StoreError::storage)?;
        }
        Ok(())
    }

    /// Fires `rule` for one event: its store actions applied (their events carry the rule
    /// as their cause), its outside actions stored as a job — or, when there are none, the
    /// run recorded. A refused action applies nothing and records the failed run; so does
    /// a chain of rules longer than the limit.
    pub(crate) fn fire(&mut self, rule: &Rule, firing: &Firing) -> Result<Fired> {
        let t = self;
        let id = rule.id;
        let depth = firing.cause.map_or(1, |c| c.depth.saturating_add(1));
        let failed = |t: &mut Txn<'_, '_>, detail: String| -> Result<Fired> {
            t.record_run(&RuleRun {
                rule: id,
                item: Some(firing.item),
                event_seq: firing.seq,
                at: t.now,
                ok: false,
                detail: detail.clone(),
                exit_code: None,
                duration_ms: 0,
                stderr_tail: String::new(),
            })?;
            Ok(Fired::Failed(detail))
        };
        if depth > MAX_RULE_CHAIN {
            let detail =
                format!("stopped: {MAX_RULE_CHAIN} rules in a row acted on each other's changes");
            return failed(t, detail);
        }
        let plans = match t.plan(|view, ctx| plan_rule_actions(view, ctx, rule, firing.item)) {
            Ok(plans) => plans,
            Err(WriteError::Refused(r)) => {
                return failed(t, format!("{}: {}", r.code, r.message));
            }
            Err(e) => return Err(e),
        };
        t.cause = Some(Cause { rule: id, depth });
        for plan in &plans {
            t.apply(plan)?;
        }
        t.cause = None;
        if rule.spec.has_outside_actions() {
            let job = RuleJob {
                rule: id,
                seq: firing.seq,
                item: firing.item,
                collection: template_collection(&firing.event, rule),
                event: firing.event.clone(),
                at: firing.at,
                op_id: firing.op_id,
                cause: firing.cause,
            };
            t.tabs
                .rule_jobs
                .insert((id.ulid().0, firing.seq), encode(&job)?.as_slice())
                .map_err(StoreError::storage)?;
            return Ok(Fired::Queued(Box::new(job)));
        }
        let links = rule.spec.link.len();
        t.record_run(&RuleRun {
            rule: id,
            item: Some(firing.item),
            event_seq: firing.seq,
            at: t.now,
            ok: true,
            detail: format!(
                "{} action(s) applied ({links} link(s){})",
                plans.len(),
                if rule.spec.metadata.is_empty() {
                    ""
                } else {
                    ", metadata"
                }
            ),
            exit_code: None,
            duration_ms: 0,
            stderr_tail: String::new(),
        })?;
        Ok(Fired::Done)
    }

    fn set_cursor(&mut self, rule: RuleId, seq: u64) -> std::result::Result<(), StoreError> {
        let key = rule.ulid().0;
        let at = Tabs::rule_cursors(&self.tabs)?
            .get(key)
            .map_err(StoreError::storage)?
            .map_or(0, |v| v.value());
        if seq > at {
            self.tabs
                .rule_cursors
                .insert(key, seq)
                .map_err(StoreError::storage)?;
        }
        Ok(())
    }
}

impl Store {
    /// Every rule, in id order, with where it stands.
    pub fn rules(&self) -> std::result::Result<Vec<RuleState>, StoreError> {
        let t = self.read()?;
        let mut out = Vec::new();
        for r in t.rules()?.iter().map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let rule: Rule = decode(v.value(), "rule")?;
            out.push(rule_state(&t, rule)?);
        }
        Ok(out)
    }

    /// One rule, with where it stands.
    pub fn rule(&self, id: RuleId) -> std::result::Result<Option<RuleState>, StoreError> {
        let t = self.read()?;
        stored_rule(&t, id)?
            .map(|rule| rule_state(&t, rule))
            .transpose()
    }

    /// Defines a rule (`POST /v1/rules`, or a `[[rule]]` of the config file). It follows
    /// the feed from now on: what happened before is for `apply`. A name in use is
    /// `RULE_EXISTS` — except for the config file, whose rule of that name takes the new
    /// definition and keeps its id and cursor.
    pub fn define_rule(
        &self,
        spec: &RuleSpec,
        from_config: bool,
    ) -> std::result::Result<Written, WriteError> {
        let (outcome, seqs, at) = self.transact(|t| {
            t.check_links(spec)?;
            if let Some(mut existing) = t.rule_named(&spec.name)? {
                if !from_config || !existing.from_config {
                    return Err(Refusal::new(
                        ErrorCode::RuleExists,
                        format!("a rule named {:?} exists ({})", spec.name, existing.id),
                    )
                    .into());
                }
                if existing.spec != *spec {
                    existing.spec = spec.clone();
                    existing.updated_at = t.now;
                    t.put_rule(&existing)?;
                }
                return Ok(Outcome::Rule {
                    rule: existing.id,
                    created: false,
                });
            }
            let id = RuleId::from_ulid(t.plan(|_, ctx| Ok(ctx.ids.next_ulid()))?);
            let rule = Rule {
                id,
                spec: spec.clone(),
                from_config,
                created_at: t.now,
                updated_at: t.now,
            };
            t.put_rule(&rule)?;
            let last = meta(&t.tabs, META_NEXT_SEQ)?.max(1) - 1;
            t.set_cursor(id, last)?;
            Ok(Outcome::Rule {
                rule: id,
                created: true,
            })
        })?;
        Ok(Written { outcome, at, seqs })
    }

    /// Gives a rule a new definition (`PATCH /v1/rules/{rid}`); a config file's rule is
    /// changed in the file.
    pub fn update_rule(
        &self,
        id: RuleId,
        spec: &RuleSpec,
    ) -> std::result::Result<Written, WriteError> {
        let (outcome, seqs, at) = self.transact(|t| {
            let mut rule = t.rule(id)?.ok_or_else(|| not_found(id))?;
            if rule.from_config {
                return Err(Refusal::field(
                    vec!["path".into(), "rid".into()],
                    format!("rule {id} is defined in the config file: change it there"),
                    "rule.from_config",
                )
                .into());
            }
            t.check_links(spec)?;
            if spec.name != rule.spec.name {
                if let Some(other) = t.rule_named(&spec.name)? {
                    return Err(Refusal::new(
                        ErrorCode::RuleExists,
                        format!("a rule named {:?} exists ({})", spec.name, other.id),
                    )
                    .into());
                }
                t.tabs
                    .rule_names
                    .remove(rule.spec.name.as_str())
                    .map_err(StoreError::storage)?;
            }
            rule.spec = spec.clone();
            rule.updated_at = t.now;
            t.put_rule(&rule)?;
            Ok(Outcome::Rule {
                rule: id,
                created: false,
            })
        })?;
        Ok(Written { outcome, at, seqs })
    }

    /// Deletes a rule with its cursor, jobs and runs (`DELETE /v1/rules/{rid}`; a config
    /// file's rule gone from the file).
    pub fn delete_rule(&self, id: RuleId) -> std::result::Result<Written, WriteError> {
        let (outcome, seqs, at) = self.transact(|t| {
            let rule = t.rule(id)?.ok_or_else(|| not_found(id))?;
            let key = id.ulid().0;
            t.tabs.rules.remove(key).map_err(StoreError::storage)?;
            t.tabs
                .rule_names
                .remove(rule.spec.name.as_str())
                .map_err(StoreError::storage)?;
            t.tabs
                .rule_cursors
                .remove(key)
                .map_err(StoreError::storage)?;
            t.tabs
                .rule_applies
                .remove(key)
                .map_err(StoreError::storage)?;
            t.tabs
                .rule_jobs
                .retain_in((key, 0)..=(key, u64::MAX), |_, _| false)
                .map_err(StoreError::storage)?;
            t.tabs
                .rule_runs
                .retain_in((key, 0)..=(key, u128::MAX), |_, _| false)
                .map_err(StoreError::storage)?;
            Ok(Outcome::Rule {
                rule: id,
                created: false,
            })
        })?;
        Ok(Written { outcome, at, seqs })
    }

    /// Moves a rule's cursor past events it does not act on (never backwards).
    pub fn advance_rule(&self, id: RuleId, seq: u64) -> std::result::Result<(), WriteError> {
        self.transact(|t| {
            if t.rule(id)?.is_some() {
                t.set_cursor(id, seq)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Fires a rule for one event, in one transaction with the move of its cursor past the
    /// event ([`Txn::fire`]).
    pub fn fire_rule(
        &self,
        id: RuleId,
        firing: &Firing,
    ) -> std::result::Result<(Fired, Seqs), WriteError> {
        let (mut fired, seqs) =
            self.fire_rule_page(id, std::slice::from_ref(firing), firing.seq)?;
        Ok((fired.pop().unwrap_or(Fired::Done), seqs))
    }

    /// Fires a rule for each of a page of events, in order, and moves its cursor to `last`
    /// (the page's last event, fired or not), all in one transaction: a page of a burst
    /// costs one commit, not one per event. Each firing plans against the state the ones
    /// before it left; a refused one records its failed run and the rest go on.
    pub fn fire_rule_page(
        &self,
        id: RuleId,
        firings: &[Firing],
        last: u64,
    ) -> std::result::Result<(Vec<Fired>, Seqs), WriteError> {
        let (fired, seqs, _) = self.transact(|t| {
            let rule = t.rule(id)?.ok_or_else(|| not_found(id))?;
            let mut fired = Vec::with_capacity(firings.len());
            for firing in firings {
                fired.push(t.fire(&rule, firing)?);
            }
            t.set_cursor(id, last)?;
            t.prune_runs(id)?;
            Ok(fired)
        })?;
        Ok((fired, seqs))
    }

    /// The item, if it exists and matches `query` (compiled as `matcher`) as things stand.
    pub fn item_if_matches(
        &self,
        query: &Query,
        matcher: &Matcher,
        item: ItemId,
    ) -> std::result::Result<Option<Item>, StoreError> {
        let t = self.read()?;
        let view = StoreView::new(&t);
        let Some(it) = view.item(item)? else {
            return Ok(None);
        };
        let hit = item_matches(&view, query, matcher, &it).map_err(|e| match e {
            PlanError::View(e) => e,
            PlanError::Refused(r) => StoreError::Encoding {
                what: "rule match",
                detail: r.message,
            },
        })?;
        Ok(hit.then_some(it))
    }

    /// Every job waiting for its outside actions, oldest event first per rule.
    pub fn rule_jobs(&self) -> std::result::Result<Vec<RuleJob>, StoreError> {
        let t = self.read()?;
        let mut out = Vec::new();
        for r in t.rule_jobs()?.iter().map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            out.push(decode(v.value(), "rule job")?);
        }
        Ok(out)
    }

    /// Records the run of a job's outside actions and removes the job, in one transaction.
    pub fn finish_rule_job(
        &self,
        job: &RuleJob,
        run: &RuleRun,
    ) -> std::result::Result<Option<(u64, u64)>, WriteError> {
        let ((), seqs, _) = self.transact(|t| {
            t.tabs
                .rule_jobs
                .remove((job.rule.ulid().0, job.seq))
                .map_err(StoreError::storage)?;
            if t.rule(job.rule)?.is_some() {
                t.record_run(run)?;
                t.prune_runs(job.rule)?;
            }
            Ok(())
        })?;
        Ok(seqs)
    }

    /// A rule's runs, newest first, at most `limit`.
    pub fn rule_runs(
        &self,
        id: RuleId,
        limit: usize,
    ) -> std::result::Result<Vec<RuleRun>, StoreError> {
        let t = self.read()?;
        let key = id.ulid().0;
        let mut out = Vec::new();
        for r in t
            .rule_runs()?
            .range((key, 0)..=(key, u128::MAX))
            .map_err(StoreError::storage)?
            .rev()
            .take(limit)
        {
            let (_, v) = r.map_err(StoreError::storage)?;
            out.push(decode(v.value(), "rule run")?);
        }
        Ok(out)
    }
}

/// A rule as stored, read in any transaction.
pub(crate) fn stored_rule<T: Tabs>(
    t: &T,
    id: RuleId,
) -> std::result::Result<Option<Rule>, StoreError> {
    t.rules()?
        .get(id.ulid().0)
        .map_err(StoreError::storage)?
        .map(|v| decode(v.value(), "rule"))
        .transpose()
}

fn rule_state<T: Tabs>(t: &T, rule: Rule) -> std::result::Result<RuleState, StoreError> {
    let key = rule.id.ulid().0;
    let cursor = t
        .rule_cursors()?
        .get(key)
        .map_err(StoreError::storage)?
        .map_or(0, |v| v.value());
    let pending_jobs = t
        .rule_jobs()?
        .range((key, 0)..=(key, u64::MAX))
        .map_err(StoreError::storage)?
        .count() as u64;
    let applying = apply::applying(t, rule.id)?;
    Ok(RuleState {
        rule,
        cursor,
        pending_jobs,
        applying,
    })
}

/// The collection a rule's `{collection}` names for an event: the event's, else the
/// rule's first `link`.
fn template_collection(event: &Event, rule: &Rule) -> Option<CollectionId> {
    event
        .collection_id
        .clone()
        .or_else(|| rule.spec.link.first().cloned())
}
