use super::{ItemTarget, PlanResult, SORT_GAP, check_count, loc, resolve_all, writable_collection};
use crate::error::Refusal;
use crate::id::{CollectionId, ItemId};
use crate::model::{Entry, Item};
use crate::plan::{ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan};
use crate::rules::entry::entry_not_found;
use crate::view::StateView;

/// Where reordered entries go.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// These items to the front, in this order.
    Front(Vec<ItemTarget>),
    /// One item right before or after another.
    Relative {
        /// The item to move.
        item: ItemTarget,
        /// The item it goes next to.
        anchor: ItemTarget,
        /// After the anchor (`true`) or before it.
        after: bool,
    },
}

/// `POST /v1/collections/{cid}/items/reorder`.
#[derive(Clone, Debug, PartialEq)]
pub struct Reorder {
    /// The collection whose entries move; not `default`, which has no order of its own.
    pub collection: CollectionId,
    /// Where the entries go.
    pub placement: Placement,
}

/// Plans a reorder. Entries keep their ids; only `sort_order` changes. When two neighbours
/// leave no room between them, the whole collection is renumbered (rare: it takes about
/// twenty placements into the same gap).
pub fn plan_reorder<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &Reorder,
) -> PlanResult<Plan, V> {
    if req.collection.is_default() {
        return Err(Refusal::field(
            vec!["path".into(), "collection_id".into()],
            "the default collection has no order of its own",
            "reorder_default",
        )
        .into());
    }
    let mut cs = ChangeSet::default();
    match &req.placement {
        Placement::Front(targets) => {
            check_count(targets.len(), &ctx.limits, "items", "item")?;
            writable_collection(view, &req.collection)?;
            let items = resolve_all(view, targets.iter().map(|t| (t.clone(), ())))?;
            let entries = live_entries(view, &req.collection, items.iter().map(|(i, ())| i))?;
            let min = view
                .sort_bounds(&req.collection)
                .or_view()?
                .map_or(0, |(min, _)| min);
            let n = entries.len() as i64;
            for (i, before) in entries.into_iter().enumerate() {
                let mut after = before.clone();
                after.sort_order = min.saturating_sub(SORT_GAP.saturating_mul(n - i as i64));
                after.updated_at = ctx.now;
                cs.entry(Some(before), Some(after));
            }
        }
        Placement::Relative {
            item,
            anchor,
            after,
        } => {
            writable_collection(view, &req.collection)?;
            let items = resolve_all(view, [(item.clone(), ()), (anchor.clone(), ())])?;
            if items.len() < 2 {
                return Err(Refusal::field(
                    loc(&["body", "item"]),
                    "an item cannot be placed next to itself",
                    "same_item",
                )
                .into());
            }
            let entries = live_entries(view, &req.collection, items.iter().map(|(i, ())| i))?;
            let (moving, anchor) = (&entries[0], &entries[1]);
            place_next_to(view, ctx, &req.collection, moving, anchor, *after, &mut cs)?;
        }
    }
    let op_id = ctx.op_id();
    let moved = cs.changes.len() as u64;
    Ok(cs.logged(
        OpHead {
            id: op_id,
            kind: OpKind::Reorder,
            collection_id: Some(req.collection.clone()),
            at: ctx.now,
            summary: OpSummary::Changed { count: moved },
        },
        Outcome::Reordered {
            op_id,
            collection_id: req.collection.clone(),
            moved,
        },
    ))
}

fn live_entries<'a, V: StateView + ?Sized>(
    view: &V,
    collection: &CollectionId,
    items: impl Iterator<Item = &'a Item>,
) -> PlanResult<Vec<Entry>, V> {
    let mut entries = Vec::new();
    let mut missing = Vec::new();
    for item in items {
        match view
            .entry(collection, item.id)
            .or_view()?
            .filter(Entry::is_live)
        {
            Some(e) => entries.push(e),
            None => missing.push(item.id.to_string()),
        }
    }
    if missing.is_empty() {
        Ok(entries)
    } else {
        let mut refusal = entry_not_found(collection, &missing[0]);
        refusal.message = format!("{} item(s) are not in {collection}", missing.len());
        refusal.details = crate::Details::Ids {
            key: "missing",
            ids: missing,
        };
        Err(refusal.into())
    }
}

fn place_next_to<V: StateView + ?Sized>(
    view: &V,
    ctx: &Ctx<'_>,
    collection: &CollectionId,
    moving: &Entry,
    anchor: &Entry,
    after: bool,
    cs: &mut ChangeSet,
) -> PlanResult<(), V> {
    let neighbour = view
        .sort_neighbour(collection, anchor.sort_order, !after)
        .or_view()?;
    if neighbour == Some(moving.sort_order) {
        return Ok(()); // already there
    }
    let step = if after { SORT_GAP } else { -SORT_GAP };
    let target = match neighbour {
        None => Some(anchor.sort_order.saturating_add(step)),
        Some(n) => {
            let mid = i128::midpoint(i128::from(anchor.sort_order), i128::from(n));
            let mid = mid as i64;
            (mid != anchor.sort_order && mid != n).then_some(mid)
        }
    };
    if let Some(sort) = target {
        let mut moved = moving.clone();
        moved.sort_order = sort;
        moved.updated_at = ctx.now;
        cs.entry(Some(moving.clone()), Some(moved));
        return Ok(());
    }
    // No room: renumber everything with fresh gaps, the moving entry in its new place.
    let mut order: Vec<ItemId> = view
        .all_positions(collection)
        .or_view()?
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| id.ulid() != moving.item_id.ulid())
        .collect();
    let at = order
        .iter()
        .position(|id| id.ulid() == anchor.item_id.ulid())
        .map_or(order.len(), |p| if after { p + 1 } else { p });
    order.insert(at, moving.item_id);
    for (i, id) in order.into_iter().enumerate() {
        let Some(before) = view.entry(collection, id).or_view()? else {
            continue;
        };
        let sort = SORT_GAP.saturating_mul(i as i64 + 1);
        if before.sort_order != sort {
            let mut renumbered = before.clone();
            renumbered.sort_order = sort;
            renumbered.updated_at = ctx.now;
            cs.entry(Some(before), Some(renumbered));
        }
    }
    Ok(())
}
