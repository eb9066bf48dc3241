use std::collections::HashMap;

use super::{ItemTarget, PlanResult, check_count, lookup};
use crate::error::{ErrorCode, Loc, Refusal};
use crate::id::ItemId;
use crate::metadata::{MetadataPatch, apply_patch};
use crate::model::{FileFacts, Item, file_name, validate_absolute_path};
use crate::plan::{ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan};
use crate::view::StateView;

/// `PATCH /v1/items/{item_id}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemUpdate {
    /// Metadata changes; `None` values delete keys.
    pub metadata: Option<MetadataPatch>,
}

/// Plans registering files (`POST /v1/items`), idempotent by path: a known path updates
/// its item (reviving it if it was gone), an unknown one creates an item. The answer lists
/// the item ids in request order.
pub fn plan_register<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    files: &[FileFacts],
) -> PlanResult<Plan, V> {
    check_count(files.len(), &ctx.limits, "paths", "path")?;
    let errors: Vec<_> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            validate_absolute_path(&f.path, vec!["body".into(), "paths".into(), i.into()]).err()
        })
        .collect();
    if !errors.is_empty() {
        return Err(Refusal::validation(errors).into());
    }

    let mut cs = ChangeSet::default();
    let mut by_path: HashMap<&str, ItemId> = HashMap::new();
    let mut ids = Vec::with_capacity(files.len());
    for facts in files {
        if let Some(id) = by_path.get(facts.path.as_str()) {
            ids.push(*id);
            continue;
        }
        let id = if let Some(before) = view.item_by_path(&facts.path).or_view()? {
            let after = refreshed(&before, facts, ctx);
            let id = before.id;
            if after != before {
                cs.item(Some(before), Some(after));
            }
            id
        } else {
            let item = new_item(facts, ctx);
            let id = item.id;
            cs.item(None, Some(item));
            id
        };
        by_path.insert(&facts.path, id);
        ids.push(id);
    }
    Ok(Plan {
        changes: cs.changes,
        op: None,
        undoes: None,
        outcome: Outcome::Items(ids),
    })
}

/// A new item for a file.
pub(crate) fn new_item(facts: &FileFacts, ctx: &mut Ctx<'_>) -> Item {
    let kind = facts.kind();
    Item {
        id: ItemId::new(kind, ctx.ids.next_ulid()),
        kind,
        content_type: facts.content_type.clone(),
        path: Some(facts.path.clone()),
        last_path: Some(facts.path.clone()),
        original_filename: facts.file_name().to_owned(),
        size: facts.size,
        mtime: facts.mtime,
        content_hash: None,
        metadata: crate::Metadata::new(),
        file_id: facts.file_id,
        created_at: ctx.now,
        updated_at: ctx.now,
        deleted_at: None,
        number: 0,
    }
}

/// The item with the file's current facts; the content hash is dropped when size or
/// mtime changed (it is recomputed in the background).
pub(crate) fn refreshed(before: &Item, facts: &FileFacts, ctx: &Ctx<'_>) -> Item {
    let mut after = before.clone();
    let content_changed = before.size != facts.size || before.mtime != facts.mtime;
    after.kind = facts.kind();
    after.content_type.clone_from(&facts.content_type);
    after.path = Some(facts.path.clone());
    after.last_path = Some(facts.path.clone());
    file_name(&facts.path).clone_into(&mut after.original_filename);
    after.size = facts.size;
    after.mtime = facts.mtime;
    after.file_id = facts.file_id.or(before.file_id);
    after.deleted_at = None;
    if content_changed {
        after.content_hash = None;
    }
    if after != *before {
        after.updated_at = ctx.now;
    }
    after
}

/// Plans an item metadata update (logged, undoable).
pub fn plan_update_item<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    target: &ItemTarget,
    req: &ItemUpdate,
) -> PlanResult<Plan, V> {
    let Some(before) = lookup(view, target)? else {
        return Err(Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            format!("item {target} does not exist"),
            "missing",
            vec![target.to_string()],
        )
        .into());
    };
    let mut after = before.clone();
    if let Some(patch) = &req.metadata {
        after.metadata = apply_patch(
            &before.metadata,
            patch,
            &[Loc::from("body"), Loc::from("metadata")],
        )
        .map_err(Refusal::validation)?;
    }
    let item_id = before.id;
    let mut cs = ChangeSet::default();
    if after != before {
        after.updated_at = ctx.now;
        cs.item(Some(before), Some(after));
    }
    let op_id = ctx.op_id();
    let count = cs.changes.len() as u64;
    Ok(cs.logged(
        OpHead {
            id: op_id,
            kind: OpKind::UpdateItem,
            collection_id: None,
            at: ctx.now,
            summary: OpSummary::Changed { count },
        },
        Outcome::Item {
            op_id: Some(op_id),
            item_id,
        },
    ))
}
