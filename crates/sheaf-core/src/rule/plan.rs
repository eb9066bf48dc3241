//! A rule's store actions for one item (SPEC §7.3): links into its `link` collections, as
//! entries of source `rule:<id>`, and its `metadata` merged into the item's. Each is an
//! ordinary operation — a batch link, an item update, logged and undoable like any other —
//! planned against the same state, so that they apply together or, when one is refused,
//! not at all. What is already so (the item live in the collection, the metadata already
//! set) is left alone: a rule that fires again changes nothing.

use std::collections::BTreeMap;

use super::Rule;
use crate::change::Change;
use crate::id::ItemId;
use crate::model::{Entry, EntrySource};
use crate::plan::{Ctx, OrView, Plan, PlanError};
use crate::rules::{BatchAdd, ItemTarget, ItemUpdate, plan_batch_add, plan_update_item};
use crate::view::StateView;

type PlanResult<T, V> = Result<T, PlanError<<V as StateView>::Error>>;

/// The plans of `rule`'s store actions for `item`, to be applied in order in one
/// transaction (none when there is nothing to do).
pub fn plan_rule_actions<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    rule: &Rule,
    item: ItemId,
) -> PlanResult<Vec<Plan>, V> {
    let mut plans = Vec::new();
    for collection in &rule.spec.link {
        let live = view
            .entry(collection, item)
            .or_view()?
            .is_some_and(|e| e.is_live());
        if live {
            continue;
        }
        let req = BatchAdd {
            create: true,
            ..BatchAdd::link(collection.clone(), [item])
        };
        let mut plan = plan_batch_add(view, ctx, &req)?;
        // The entries this link makes live are the rule's.
        for change in &mut plan.changes {
            if let Change::Entry {
                before,
                after: Some(after),
            } = change
                && after.source == EntrySource::Manual
                && !before.as_ref().is_some_and(Entry::is_live)
            {
                after.source = EntrySource::Rule(rule.id);
            }
        }
        plans.push(plan);
    }
    let Some(current) = view.item(item).or_view()? else {
        return Ok(plans);
    };
    let patch: BTreeMap<_, _> = rule
        .spec
        .metadata
        .iter()
        .filter(|(k, v)| current.metadata.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    if !patch.is_empty() {
        let req = ItemUpdate {
            metadata: Some(patch),
        };
        plans.push(plan_update_item(view, ctx, &ItemTarget::Id(item), &req)?);
    }
    Ok(plans)
}
