use super::{ItemTarget, PlanResult, check_count, resolve_all, writable_collection};
use crate::error::{ErrorCode, Refusal};
use crate::id::CollectionId;
use crate::model::EntrySource;
use crate::plan::{
    ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan, RemoveSummary,
};
use crate::view::StateView;

/// `POST /v1/collections/{cid}/items/remove`: soft-delete entries, atomically.
#[derive(Clone, Debug, PartialEq)]
pub struct Remove {
    /// The collection the entries are in; not `default`, which has no entries to remove.
    pub collection: CollectionId,
    /// The items whose entries go.
    pub items: Vec<ItemTarget>,
}

/// Plans a batch remove: every named item must have an entry (live or already removed) in
/// the collection; folder-owned entries are refused, since the folder decides them.
pub fn plan_remove<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &Remove,
) -> PlanResult<Plan, V> {
    check_count(req.items.len(), &ctx.limits, "items", "item")?;
    if req.collection.is_default() {
        return Err(Refusal::field(
            vec!["path".into(), "collection_id".into()],
            "default is the view of unfiled items; nothing can be removed from it",
            "remove_from_default",
        )
        .into());
    }
    writable_collection(view, &req.collection)?;
    let items = resolve_all(view, req.items.iter().map(|t| (t.clone(), ())))?;

    let mut summary = RemoveSummary {
        total: items.len() as u64,
        ..RemoveSummary::default()
    };
    let mut missing = Vec::new();
    let mut managed = Vec::new();
    let mut cs = ChangeSet::default();
    for (item, ()) in &items {
        match view.entry(&req.collection, item.id).or_view()? {
            None => missing.push(item.id.to_string()),
            Some(e) if !e.is_live() => summary.already_removed += 1,
            Some(e) if matches!(e.source, EntrySource::Folder(_)) => {
                managed.push(item.id.to_string());
            }
            Some(e) => {
                let mut after = e.clone();
                after.deleted_at = Some(ctx.now);
                after.updated_at = ctx.now;
                cs.entry(Some(e), Some(after));
                summary.removed += 1;
            }
        }
    }
    if !missing.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::EntryNotFound,
            format!("{} item(s) are not in {}", missing.len(), req.collection),
            "missing",
            missing,
        )
        .into());
    }
    if !managed.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::EntryManagedByFolder,
            format!(
                "{} entr(ies) mirror files of a watched folder; delete or move the files instead",
                managed.len()
            ),
            "managed",
            managed,
        )
        .into());
    }
    let op_id = ctx.op_id();
    Ok(cs.logged(
        OpHead {
            id: op_id,
            kind: OpKind::Remove,
            collection_id: Some(req.collection.clone()),
            at: ctx.now,
            summary: OpSummary::Remove {
                summary: summary.clone(),
            },
        },
        Outcome::Removed {
            op_id,
            collection_id: req.collection.clone(),
            summary,
        },
    ))
}
