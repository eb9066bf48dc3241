use super::{
    ItemTarget, PlanResult, UniqueIds, lookup, unique_conflict, validate_name, writable_collection,
};
use crate::error::{Details, ErrorCode, Loc, Refusal};
use crate::id::CollectionId;
use crate::metadata::{Metadata, MetadataPatch, apply_patch};
use crate::plan::{ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan};
use crate::rules::batch::{BatchAdd, BatchItems, ItemRef, Mode, plan_batch_add};
use crate::view::StateView;

/// `POST /v1/collections/{cid}/items/{item_id}`: create semantics.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    /// The collection to add the item to; `default` is refused (a single add links, and nothing
    /// links into `default`).
    pub collection: CollectionId,
    /// The item to add: its id, or the absolute path of a file the store knows.
    pub item: ItemTarget,
    /// Entry display name.
    pub display_name: Option<String>,
    /// Entry unique id.
    pub unique_id: Option<String>,
    /// Entry metadata.
    pub metadata: Option<Metadata>,
}

/// `PATCH /v1/collections/{cid}/items/{item_id}`: each `Some` field is set; metadata is
/// merged, `null` deleting a key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntryUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New unique id.
    pub unique_id: Option<String>,
    /// Metadata changes.
    pub metadata: Option<MetadataPatch>,
}

/// Plans a single add: like a one-item batch link, but an item already live in the
/// collection is a 409 `ALREADY_IN_COLLECTION`, and the answer is the entry.
pub fn plan_add_one<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &NewEntry,
) -> PlanResult<Plan, V> {
    if !req.collection.is_default() {
        // The collection's own state answers first: a trashed or archived collection
        // refuses membership changes whatever the item.
        writable_collection(view, &req.collection)?;
        let item = lookup(view, &req.item)?;
        if let Some(item) = item
            && view
                .entry(&req.collection, item.id)
                .or_view()?
                .is_some_and(|e| e.is_live())
        {
            return Err(Refusal::with_ids(
                ErrorCode::AlreadyInCollection,
                format!("{} is already in {}", item.id, req.collection),
                "already_in_collection",
                vec![item.id.to_string()],
            )
            .into());
        }
    }
    let batch = BatchAdd {
        collection: req.collection.clone(),
        items: BatchItems::Refs(vec![ItemRef {
            target: req.item.clone(),
            display_name: req.display_name.clone(),
            unique_id: req.unique_id.clone(),
            metadata: req.metadata.clone(),
        }]),
        mode: Mode::Link,
        from: None,
        create: false,
        relocate: false,
    };
    let mut plan = plan_batch_add(view, ctx, &batch).map_err(|e| match e {
        crate::PlanError::Refused(r) => crate::PlanError::Refused(unbatch_locs(r)),
        other @ crate::PlanError::View(_) => other,
    })?;
    let entry = plan.changes.iter().find_map(|c| match c {
        crate::Change::Entry { after: Some(e), .. } => Some(e.clone()),
        _ => None,
    });
    let (Some(entry), Some(op)) = (entry, plan.op.as_mut()) else {
        return Err(Refusal::new(ErrorCode::Internal, "single add planned no entry").into());
    };
    op.kind = OpKind::AddOne;
    op.summary = OpSummary::Changed { count: 1 };
    plan.outcome = Outcome::Entry {
        op_id: Some(op.id),
        entry,
    };
    Ok(plan)
}

/// Field errors of a one-item batch point at `body.items.0.x`; a single add's body is flat.
fn unbatch_locs(mut refusal: Refusal) -> Refusal {
    if let Details::Fields(fields) = &mut refusal.details {
        for f in fields {
            if f.loc.len() >= 3 && f.loc[1] == Loc::from("items") {
                f.loc.drain(1..3);
            }
        }
    }
    refusal
}

/// Plans an entry update. The entry must be live; the collection writable.
pub fn plan_update_entry<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    collection: &CollectionId,
    item: &ItemTarget,
    req: &EntryUpdate,
) -> PlanResult<Plan, V> {
    let mut errors = Vec::new();
    let at = |f: &str| vec![Loc::from("body"), Loc::from(f)];
    if let Some(name) = &req.display_name {
        validate_name(name, at("display_name"), &mut errors);
    }
    if let Some(uid) = &req.unique_id {
        validate_name(uid, at("unique_id"), &mut errors);
    }
    if !errors.is_empty() {
        return Err(Refusal::validation(errors).into());
    }
    if collection.is_default() {
        return Err(Refusal::field(
            vec![Loc::from("path"), Loc::from("collection_id")],
            "default is the view of unfiled items; its rows are not entries",
            "entry_of_default",
        )
        .into());
    }
    writable_collection(view, collection)?;
    let Some(item) = lookup(view, item)? else {
        return Err(Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            format!("item {item} does not exist"),
            "missing",
            vec![item.to_string()],
        )
        .into());
    };
    let Some(before) = view
        .entry(collection, item.id)
        .or_view()?
        .filter(super::super::model::Entry::is_live)
    else {
        return Err(entry_not_found(collection, &item.id.to_string()).into());
    };
    let mut after = before.clone();
    if let Some(name) = &req.display_name {
        after.display_name.clone_from(name);
    }
    if let Some(uid) = &req.unique_id
        && *uid != before.unique_id
    {
        let mut uids = UniqueIds::default();
        uids.release(&before.unique_id);
        if !uids.is_free(view, collection, uid, item.id)? {
            return Err(unique_conflict(collection, vec![uid.clone()]).into());
        }
        after.unique_id.clone_from(uid);
    }
    if let Some(patch) = &req.metadata {
        after.metadata =
            apply_patch(&before.metadata, patch, &at("metadata")).map_err(Refusal::validation)?;
    }
    let mut cs = ChangeSet::default();
    let op_id = ctx.op_id();
    if after != before {
        after.updated_at = ctx.now;
        cs.entry(Some(before), Some(after.clone()));
    }
    let count = cs.changes.len() as u64;
    Ok(cs.logged(
        OpHead {
            id: op_id,
            kind: OpKind::UpdateEntry,
            collection_id: Some(collection.clone()),
            at: ctx.now,
            summary: OpSummary::Changed { count },
        },
        Outcome::Entry {
            op_id: Some(op_id),
            entry: after,
        },
    ))
}

pub(crate) fn entry_not_found(collection: &CollectionId, item: &str) -> Refusal {
    Refusal::with_ids(
        ErrorCode::EntryNotFound,
        format!("{item} is not in {collection}"),
        "missing",
        vec![item.to_owned()],
    )
}
