use std::collections::{BTreeMap, BTreeSet};

use super::{PlanResult, UniqueIds};
use crate::error::{ErrorCode, Refusal};
use crate::id::{CollectionId, OpId};
use crate::plan::{ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan, Touched};
use crate::view::StateView;

/// Plans `POST /v1/ops/{op_id}/undo`: every record the op touched goes back exactly to its
/// state before the op (`updated_at` included, so that successive undos walk back through
/// history), atomically — unless a later change touched any of them (each still
/// carries the op's `updated_at` stamp when untouched), the op was undone already, or a
/// collection it changed is now archived, trashed or gone: then 409 `UNDO_CONFLICT` (or the
/// collection's own code) and nothing changes. An undo is itself an op, so it can be undone.
///
/// Collections created on the way (`create: true`) are left in place.
pub fn plan_undo<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    op_id: OpId,
) -> PlanResult<Plan, V> {
    let Some(op) = view.op(op_id).or_view()? else {
        return Err(Refusal::new(
            ErrorCode::OpNotFound,
            format!("operation {op_id} does not exist"),
        )
        .into());
    };
    if let Some(by) = op.undone_by {
        return Err(Refusal::with_ids(
            ErrorCode::UndoConflict,
            format!("operation {op_id} was already undone by {by}"),
            "undone_by",
            vec![by.to_string()],
        )
        .into());
    }

    let mut conflicts = Vec::new();
    let mut collections: BTreeSet<CollectionId> = BTreeSet::new();
    let mut cs = ChangeSet::default();
    let mut uids: BTreeMap<CollectionId, UniqueIds> = BTreeMap::new();
    // Every entry the undo touches is rewritten, so the unique ids and positions they hold
    // now are free for the restored states: an undo may hand them from one entry to another
    // (a renumbering reorder does exactly that).
    let mut vacated: BTreeSet<(CollectionId, i64)> = BTreeSet::new();
    for t in &op.touched {
        if let Touched::Entry {
            collection_id,
            item_id,
            ..
        } = t
            && let Some(current) = view.entry(collection_id, *item_id).or_view()?
        {
            vacated.insert((collection_id.clone(), current.sort_order));
            if current.is_live() {
                uids.entry(collection_id.clone())
                    .or_default()
                    .release(&current.unique_id);
            }
        }
    }
    for t in &op.touched {
        match t {
            Touched::Entry {
                collection_id,
                item_id,
                before,
                after_stamp,
            } => {
                collections.insert(collection_id.clone());
                let current = view.entry(collection_id, *item_id).or_view()?;
                if current.as_ref().map(|e| e.updated_at) != *after_stamp {
                    conflicts.push(format!("{collection_id}/{item_id}"));
                    continue;
                }
                let restored = before.clone();
                if let Some(r) = &restored {
                    // Positions are unique across live and removed entries alike.
                    let held = view
                        .sort_neighbour(collection_id, r.sort_order.saturating_add(1), true)
                        .or_view()?
                        == Some(r.sort_order);
                    let sort_taken =
                        held && !vacated.contains(&(collection_id.clone(), r.sort_order));
                    let uid_taken = r.is_live()
                        && !uids.entry(collection_id.clone()).or_default().is_free(
                            view,
                            collection_id,
                            &r.unique_id,
                            r.item_id,
                        )?;
                    if sort_taken || uid_taken {
                        conflicts.push(format!("{collection_id}/{item_id}"));
                        continue;
                    }
                    if r.is_live() {
                        uids.entry(collection_id.clone())
                            .or_default()
                            .claim(r.unique_id.clone(), r.item_id);
                    }
                }
                cs.entry(current, restored);
            }
            Touched::Item {
                item_id,
                before,
                after_stamp,
            } => {
                let current = view.item(*item_id).or_view()?;
                if current.as_ref().map(|i| i.updated_at) != *after_stamp {
                    conflicts.push(item_id.to_string());
                    continue;
                }
                cs.item(current, before.clone());
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::UndoConflict,
            format!(
                "{} record(s) changed by {op_id} were changed again since; undo would lose \
                 those changes",
                conflicts.len()
            ),
            "conflicts",
            conflicts,
        )
        .into());
    }
    for cid in &collections {
        match view.collection(cid).or_view()? {
            None => {
                return Err(Refusal::with_ids(
                    ErrorCode::UndoConflict,
                    format!("collection {cid} was purged since {op_id}"),
                    "conflicts",
                    vec![cid.to_string()],
                )
                .into());
            }
            Some(c) if c.created_at > op.at => {
                return Err(Refusal::with_ids(
                    ErrorCode::UndoConflict,
                    format!("collection {cid} was purged and created anew since {op_id}"),
                    "conflicts",
                    vec![cid.to_string()],
                )
                .into());
            }
            Some(_) => {
                super::writable_collection(view, cid)?;
            }
        }
    }

    let undo_id = ctx.op_id();
    let restored = cs.changes.len() as u64;
    let mut plan = cs.logged(
        OpHead {
            id: undo_id,
            kind: OpKind::Undo,
            collection_id: op.collection_id.clone(),
            at: ctx.now,
            summary: OpSummary::Changed { count: restored },
        },
        Outcome::Undone {
            op_id: undo_id,
            undone: op_id,
            restored,
        },
    );
    if let Some(op) = plan.op.as_mut() {
        op.undo_of = Some(op_id);
    }
    plan.undoes = Some(op_id);
    Ok(plan)
}
