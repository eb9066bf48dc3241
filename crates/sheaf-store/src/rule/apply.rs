//! A rule over the items that already exist (SPEC §7.3): `test` answers which match and
//! what would be done, changing nothing; `apply` takes them up a batch per transaction.
//! An apply is stored with where it stands, so that its progress can be shown and a
//! daemon stopped in the middle of one goes on where it left off. Each item it takes up
//! gets a `rule.applied` event, committed with the rule's store actions for it: the
//! event the rule's outside actions then run for, and whose `seq` tells a repeat.

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use sheaf_core::rule::{Rule, RuleJob};
use sheaf_core::rules::item_matches;
use sheaf_core::{
    CollectionId, Event, Item, ItemId, Metadata, PlanError, RuleId, StateView, Timestamp,
};

use super::{Fired, Firing, not_found, stored_rule};
use crate::error::{StoreError, WriteError};
use crate::schema::{Tabs, decode, encode};
use crate::txn::Txn;
use crate::view::StoreView;
use crate::{Store, Written};

/// How an `apply` stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applying {
    /// When it was asked for.
    pub started_at: Timestamp,
    /// The items in the store then, live or gone: what `scanned` counts up to.
    pub total: u64,
    /// Items looked at so far.
    pub scanned: u64,
    /// Of those, the ones that matched and were taken up.
    pub applied: u64,
    /// The last item looked at; the next batch starts after it.
    pub after: Option<ItemId>,
    /// When the last batch committed; `None` while it runs.
    pub finished_at: Option<Timestamp>,
}

/// What one batch of an apply did.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyStep {
    /// The rule as it was applied.
    pub rule: Rule,
    /// Outside actions committed, to be carried out.
    pub jobs: Vec<RuleJob>,
    /// Whether more batches remain.
    pub more: bool,
}

/// An existing item a rule matches, with what running the rule for it would change.
#[derive(Clone, Debug, PartialEq)]
pub struct Matched {
    /// The item.
    pub item: Item,
    /// The collections of `link` it is not live in yet.
    pub link: Vec<CollectionId>,
    /// The keys of `metadata` whose values would change.
    pub metadata: Metadata,
}

/// The answer of `test`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleTest {
    /// Items looked at (every live one).
    pub scanned: u64,
    /// How many of them match.
    pub matched: u64,
    /// The first `limit` matches, in id order.
    pub items: Vec<Matched>,
}

/// Items read per page by `test`.
const TEST_PAGE: usize = 1024;

impl Txn<'_, '_> {
    pub(super) fn applying(&self, id: RuleId) -> std::result::Result<Option<Applying>, StoreError> {
        applying(&self.tabs, id)
    }

    fn put_applying(&mut self, id: RuleId, a: &Applying) -> std::result::Result<(), StoreError> {
        self.tabs
            .rule_applies
            .insert(id.ulid().0, encode(a)?.as_slice())
            .map_err(StoreError::storage)?;
        Ok(())
    }
}

pub(super) fn applying<T: Tabs>(
    t: &T,
    id: RuleId,
) -> std::result::Result<Option<Applying>, StoreError> {
    t.rule_applies()?
        .get(id.ulid().0)
        .map_err(StoreError::storage)?
        .map(|v| decode(v.value(), "rule apply"))
        .transpose()
}

fn view_error(e: PlanError<StoreError>) -> StoreError {
    match e {
        PlanError::View(e) => e,
        PlanError::Refused(r) => StoreError::Encoding {
            what: "rule match",
            detail: r.message,
        },
    }
}

impl Store {
    /// Starts an `apply` of the rule over the existing items. One already running goes on
    /// as it is (asking twice is asking once); one that finished starts over.
    pub fn start_apply(&self, id: RuleId) -> std::result::Result<Written, WriteError> {
        let (outcome, seqs, at) = self.transact(|t| {
            t.rule(id)?.ok_or_else(|| not_found(id))?;
            if t.applying(id)?.is_none_or(|a| a.finished_at.is_some()) {
                let total = t.tabs.items.len().map_err(StoreError::storage)?;
                let fresh = Applying {
                    started_at: t.now,
                    total,
                    scanned: 0,
                    applied: 0,
                    after: None,
                    finished_at: None,
                };
                t.put_applying(id, &fresh)?;
            }
            Ok(sheaf_core::Outcome::Rule {
                rule: id,
                created: false,
            })
        })?;
        Ok(Written { outcome, at, seqs })
    }

    /// The rules with an apply still running: the engine asks after every commit, so only
    /// the small `rule_applies` table is read.
    pub fn applies_running(&self) -> std::result::Result<Vec<RuleId>, StoreError> {
        let t = self.read()?;
        let mut out = Vec::new();
        for r in t.rule_applies()?.iter().map_err(StoreError::storage)? {
            let (k, v) = r.map_err(StoreError::storage)?;
            let a: Applying = decode(v.value(), "rule apply")?;
            if a.finished_at.is_none() {
                out.push(RuleId::from_ulid(ulid::Ulid(k.value())));
            }
        }
        Ok(out)
    }

    /// Takes up the next `chunk` items of a running apply in one transaction: for each
    /// live item the rule's query matches, a `rule.applied` event and the rule fired for
    /// it ([`Txn::fire`]); the apply's place moves past them in the same commit.
    pub fn apply_step(
        &self,
        id: RuleId,
        chunk: usize,
    ) -> std::result::Result<(ApplyStep, Option<(u64, u64)>), WriteError> {
        let home = self.options.home.clone();
        let (step, seqs, _) = self.transact(|t| {
            let rule = t.rule(id)?.ok_or_else(|| not_found(id))?;
            let Some(mut at) = t.applying(id)?.filter(|a| a.finished_at.is_none()) else {
                return Ok(ApplyStep {
                    rule,
                    jobs: Vec::new(),
                    more: false,
                });
            };
            let matcher = rule.spec.query.matcher(home.as_deref());
            let page = t.plan(|view, _| {
                let mut hits = Vec::new();
                let page = view.items_after(at.after, chunk).map_err(PlanError::View)?;
                for item in &page {
                    if item.deleted_at.is_none()
                        && item_matches(view, &rule.spec.query, &matcher, item)?
                    {
                        hits.push(item.id);
                    }
                }
                Ok((page.last().map(|i| i.id), page.len(), hits))
            })?;
            let (last, looked, hits) = page;
            let mut jobs = Vec::new();
            for item in hits {
                let event = Event::rule_applied(id, item);
                t.emit(vec![event.clone()])?;
                let seq = t.seqs().map_or(0, |(_, last)| last);
                let firing = Firing {
                    seq,
                    item,
                    event,
                    at: t.now,
                    op_id: None,
                    cause: None,
                };
                if let Fired::Queued(job) = t.fire(&rule, &firing)? {
                    jobs.push(*job);
                }
                at.applied += 1;
            }
            at.scanned += looked as u64;
            at.after = last.or(at.after);
            let more = looked == chunk;
            if !more {
                at.finished_at = Some(t.now);
            }
            t.put_applying(id, &at)?;
            t.prune_runs(id)?;
            Ok(ApplyStep { rule, jobs, more })
        })?;
        Ok((step, seqs))
    }

    /// Which live items the rule matches now and what running it for each would change;
    /// nothing is written.
    pub fn test_rule(&self, id: RuleId, limit: usize) -> std::result::Result<RuleTest, WriteError> {
        let t = self.read()?;
        let view = StoreView::new(&t);
        let rule = stored_rule(&t, id)?.ok_or_else(|| not_found(id))?;
        let matcher = rule.spec.query.matcher(self.options.home.as_deref());
        let mut out = RuleTest {
            scanned: 0,
            matched: 0,
            items: Vec::new(),
        };
        let mut after = None;
        loop {
            let page = view.items_after(after, TEST_PAGE)?;
            for item in &page {
                if item.deleted_at.is_some() {
                    continue;
                }
                out.scanned += 1;
                if !item_matches(&view, &rule.spec.query, &matcher, item).map_err(view_error)? {
                    continue;
                }
                out.matched += 1;
                if out.items.len() < limit {
                    out.items.push(would_change(&view, &rule, item)?);
                }
            }
            if page.len() < TEST_PAGE {
                return Ok(out);
            }
            after = page.last().map(|i| i.id);
        }
    }
}

/// What firing `rule` for `item` would change in the store.
fn would_change<V: StateView<Error = StoreError>>(
    view: &V,
    rule: &Rule,
    item: &Item,
) -> std::result::Result<Matched, StoreError> {
    let mut link = Vec::new();
    for c in &rule.spec.link {
        if !view.entry(c, item.id)?.is_some_and(|e| e.is_live()) {
            link.push(c.clone());
        }
    }
    let metadata = rule
        .spec
        .metadata
        .iter()
        .filter(|(k, v)| item.metadata.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Matched {
        item: item.clone(),
        link,
        metadata,
    })
}
