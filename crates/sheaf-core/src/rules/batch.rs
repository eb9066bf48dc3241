use std::collections::BTreeMap;

use super::{
    Appender, ItemTarget, PlanResult, UniqueIds, archived, check_count, existing_collection, loc,
    resolve_all, unique_conflict, validate_name, writable_collection,
};
use crate::error::{ErrorCode, Loc, Refusal};
use crate::id::{CollectionId, ItemId};
use crate::kind::Kind;
use crate::metadata::{Metadata, validate_metadata};
use crate::model::{Collection, Entry, EntrySource, Item};
use crate::plan::{
    BatchSummary, ChangeSet, Ctx, OpHead, OpKind, OpSummary, OrView, Outcome, Plan, PlanError,
};
use crate::query::{Query, Subject};
use crate::rules::collection::{new_collection, query_collections_exist};
use crate::rules::smart::subject_facts;
use crate::view::{EntryFilter, StateView};

/// `link` adds; `move` adds and takes the items out of their source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Add to the target; other memberships stay.
    #[default]
    Link,
    /// Add to the target and take out of `from` (or every other collection).
    Move,
}

/// One item of a batch, with optional per-entry fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRef {
    /// Which item.
    pub target: ItemTarget,
    /// Entry display name.
    pub display_name: Option<String>,
    /// Entry unique id.
    pub unique_id: Option<String>,
    /// Entry metadata.
    pub metadata: Option<Metadata>,
}

impl ItemRef {
    /// A bare reference.
    #[must_use]
    pub fn to(target: ItemTarget) -> Self {
        Self {
            target,
            display_name: None,
            unique_id: None,
            metadata: None,
        }
    }
}

/// "Everything that matches": the live entries of a collection, in its order, or with a
/// query and no collection every item, in id order; either way only what passes `filter`
/// and `query`. A selection names a collection, a query or both.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Where to select from; `None` (with a query): every item.
    pub collection: Option<CollectionId>,
    /// Text and kind filter (of the entry and its item; without a collection, of the item).
    pub filter: EntryFilter,
    /// The query of SPEC §7.1 the items must match; its `deleted` defaults to `false`, so
    /// only live items are selected unless it says otherwise. Boxed: most selections have
    /// none, and a query is large.
    pub query: Option<Box<Query>>,
}

/// Items read per step when a selection looks at every item.
const SELECT_PAGE: usize = 1024;

/// The items of a batch: listed, or selected.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchItems {
    /// Listed references.
    Refs(Vec<ItemRef>),
    /// A selection.
    Select(Selection),
}

/// `POST /v1/collections/{cid}/items`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchAdd {
    /// The target.
    pub collection: CollectionId,
    /// What to add.
    pub items: BatchItems,
    /// Link or move.
    pub mode: Mode,
    /// With `move`: the source; `None` means every other collection (or, with `select`,
    /// the selected collection).
    pub from: Option<CollectionId>,
    /// Create the target if it does not exist.
    pub create: bool,
    /// Move folder-owned entries by moving their files into the target's folder.
    pub relocate: bool,
}

impl BatchAdd {
    /// Links the items with these ids into `collection`, which must exist; the other
    /// options are set with struct update syntax (`BatchAdd { create: true, ..link }`).
    pub fn link(collection: CollectionId, ids: impl IntoIterator<Item = ItemId>) -> Self {
        Self {
            collection,
            items: BatchItems::Refs(
                ids.into_iter()
                    .map(|id| ItemRef::to(ItemTarget::Id(id)))
                    .collect(),
            ),
            mode: Mode::Link,
            from: None,
            create: false,
            relocate: false,
        }
    }
}

/// An item of the batch with its resolved state.
struct Planned {
    item: Item,
    fields: Option<ItemRef>,
    current: Option<Entry>,
    sources: Vec<Entry>,
}

/// Plans a batch add or move (SPEC §2.1): atomic, idempotent, with per-item accounting.
pub fn plan_batch_add<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &BatchAdd,
) -> PlanResult<Plan, V> {
    validate_request(req, ctx)?;
    let target_is_default = req.collection.is_default();

    // The target, created on demand.
    let mut cs = ChangeSet::default();
    let target: Option<Collection> = if target_is_default {
        None
    } else {
        match view.collection(&req.collection).or_view()? {
            None if req.create => {
                let created = new_collection(&req.collection, None, String::new(), None, ctx.now);
                cs.collection(None, Some(created.clone()));
                Some(created)
            }
            None => return Err(super::not_found(&req.collection).into()),
            Some(_) => Some(writable_collection(view, &req.collection)?),
        }
    };

    // The source, explicit or implied by a selection.
    let from = match (&req.from, &req.items, req.mode) {
        (Some(from), _, _) => Some(from.clone()),
        (None, BatchItems::Select(sel), Mode::Move) => sel
            .collection
            .as_ref()
            .filter(|c| **c != req.collection)
            .cloned(),
        _ => None,
    };
    if let Some(from) = &from {
        if from == &req.collection {
            return Err(Refusal::field(
                loc(&["body", "from"]),
                "from and the target are the same collection",
                "from_is_target",
            )
            .into());
        }
        if !from.is_default() {
            writable_collection(view, from)?;
        }
    }

    // The items.
    let refs: Vec<(ItemTarget, Option<ItemRef>)> = match &req.items {
        BatchItems::Refs(refs) => refs
            .iter()
            .map(|r| (r.target.clone(), Some(r.clone())))
            .collect(),
        BatchItems::Select(sel) => select(view, ctx, sel)?
            .into_iter()
            .map(|id| (ItemTarget::Id(id), None))
            .collect(),
    };
    let resolved = resolve_all(view, refs)?;

    let mut planned = Vec::with_capacity(resolved.len());
    for (item, fields) in resolved {
        let current = match &target {
            Some(t) => view.entry(&t.id, item.id).or_view()?,
            None => None,
        };
        planned.push(Planned {
            item,
            fields,
            current,
            sources: Vec::new(),
        });
    }

    let mut already_unfiled = vec![false; planned.len()];
    if req.mode == Mode::Move {
        collect_sources(
            view,
            req,
            from.as_ref(),
            target.as_ref(),
            &mut planned,
            &mut already_unfiled,
        )?;
    }
    if let Some(t) = &target {
        check_additions(t, &planned)?;
    }

    // Build the changes: at most one for the target and one per source entry, per item.
    cs.reserve(planned.len() + planned.iter().map(|p| p.sources.len()).sum::<usize>());
    let mut summary = BatchSummary {
        total: planned.len() as u64,
        ..BatchSummary::default()
    };
    let mut items_by_type: BTreeMap<Kind, u64> = BTreeMap::new();
    let mut conflicts = Vec::new();
    let target_folder = target.as_ref().and_then(|t| t.folders.first().copied());
    if let Some(t) = &target {
        let mut appender = Appender::new(view, &t.id)?;
        let mut uids = UniqueIds::default();
        for p in &planned {
            if p.current.as_ref().is_some_and(Entry::is_live) {
                summary.already_in_collection += 1;
                continue;
            }
            let carried = p.sources.first();
            let explicit = p.fields.as_ref().and_then(|f| f.unique_id.as_deref());
            let default_uid = carried
                .or(p.current.as_ref())
                .map_or(p.item.original_filename.as_str(), |e| e.unique_id.as_str());
            let Ok(unique_id) = uids.choose(view, &t.id, p.item.id, explicit, default_uid)? else {
                conflicts.push(explicit.unwrap_or(default_uid).to_owned());
                continue;
            };
            let relocated =
                req.relocate && carried.is_some_and(|e| matches!(e.source, EntrySource::Folder(_)));
            let entry = Entry {
                id: p.current.as_ref().map_or_else(|| ctx.entry_id(), |e| e.id),
                collection_id: t.id.clone(),
                item_id: p.item.id,
                display_name: p
                    .fields
                    .as_ref()
                    .and_then(|f| f.display_name.clone())
                    .or_else(|| {
                        carried
                            .or(p.current.as_ref())
                            .map(|e| e.display_name.clone())
                    })
                    .unwrap_or_else(|| p.item.original_filename.clone()),
                unique_id,
                metadata: p
                    .fields
                    .as_ref()
                    .and_then(|f| f.metadata.clone())
                    .or_else(|| carried.or(p.current.as_ref()).map(|e| e.metadata.clone()))
                    .unwrap_or_default(),
                sort_order: appender.take(),
                source: match target_folder {
                    Some(w) if relocated => EntrySource::Folder(w),
                    _ => EntrySource::Manual,
                },
                created_at: p.current.as_ref().map_or(ctx.now, |e| e.created_at),
                updated_at: ctx.now,
                deleted_at: None,
            };
            cs.entry(p.current.clone(), Some(entry));
            summary.added += 1;
        }
    } else {
        // Into `default`: items that were unfiled already are counted as such, the rest as
        // added (taken out of their source; see docs/decisions.md).
        summary.already_in_collection = already_unfiled.iter().filter(|u| **u).count() as u64;
        summary.added = summary.total - summary.already_in_collection;
    }
    if !conflicts.is_empty() {
        return Err(unique_conflict(&req.collection, conflicts).into());
    }
    if req.relocate
        && let Some(t) = &target
    {
        relocate_files(view, ctx, t, &planned, &mut cs)?;
    }
    for p in &planned {
        *items_by_type.entry(p.item.kind).or_default() += 1;
        if !p.sources.is_empty() {
            summary.moved += 1;
        }
        for source in &p.sources {
            let mut after = source.clone();
            after.deleted_at = Some(ctx.now);
            after.updated_at = ctx.now;
            cs.entry(Some(source.clone()), Some(after));
        }
    }
    summary.succeeded = summary.total;

    let op_id = ctx.op_id();
    Ok(cs.logged(
        OpHead {
            id: op_id,
            kind: match req.mode {
                Mode::Link => OpKind::Link,
                Mode::Move => OpKind::Move,
            },
            collection_id: Some(req.collection.clone()),
            at: ctx.now,
            summary: OpSummary::Batch {
                summary: summary.clone(),
                items_by_type: items_by_type.clone(),
            },
        },
        Outcome::Batch {
            op_id,
            collection_id: req.collection.clone(),
            summary,
            items_by_type,
        },
    ))
}

/// With `relocate`: every item taken out of a folder-owned entry gets the path its file will
/// have in the target's folder — the same path relative to the watch root it leaves. The
/// daemon moves the files on disk before it commits the plan (and moves them back if the
/// commit fails); the watches then see moves of files that are already where the store says.
/// Two items landing on one path, or one landing where another live item is, are refused.
fn relocate_files<V: StateView + ?Sized>(
    view: &V,
    ctx: &Ctx<'_>,
    target: &Collection,
    planned: &[Planned],
    cs: &mut ChangeSet,
) -> PlanResult<(), V> {
    let Some(&folder) = target.folders.first() else {
        return Ok(());
    };
    let watches = view.watches().or_view()?;
    let root_of = |w| {
        watches
            .iter()
            .find(|x| x.id == w)
            .map(|x| x.path.trim_end_matches('/'))
    };
    let Some(target_root) = root_of(folder) else {
        return Err(super::watch_not_found(folder).into());
    };
    let mut landing = BTreeMap::new();
    let mut taken = Vec::new();
    for p in planned {
        let leaving = p.sources.iter().find_map(|e| e.source.watch());
        let (Some(root), Some(path)) = (leaving.and_then(root_of), p.item.path.as_deref()) else {
            continue;
        };
        let Some(rel) = path.strip_prefix(root).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        let to = format!("{target_root}/{rel}");
        if to == path {
            continue;
        }
        let held = view
            .item_by_path(&to)
            .or_view()?
            .is_some_and(|i| i.id != p.item.id && i.path.as_deref() == Some(to.as_str()));
        if held || landing.insert(to.clone(), p.item.id).is_some() {
            taken.push(to);
            continue;
        }
        let mut after = p.item.clone();
        after.path = Some(to.clone());
        after.last_path = Some(to);
        after.updated_at = ctx.now;
        cs.item(Some(p.item.clone()), Some(after));
    }
    if !taken.is_empty() {
        return Err(Refusal::field(
            loc(&["body", "relocate"]),
            format!(
                "{} file(s) would land where another file is: {}",
                taken.len(),
                taken.join(", ")
            ),
            "path_taken",
        )
        .into());
    }
    Ok(())
}

fn validate_request(req: &BatchAdd, ctx: &Ctx<'_>) -> Result<(), Refusal> {
    if req.mode == Mode::Link && req.from.is_some() {
        return Err(Refusal::field(
            loc(&["body", "from"]),
            "from is only meaningful with mode \"move\"",
            "from_without_move",
        ));
    }
    if req.mode == Mode::Link && req.relocate {
        return Err(Refusal::field(
            loc(&["body", "relocate"]),
            "relocate is only meaningful with mode \"move\"",
            "relocate_without_move",
        ));
    }
    if req.collection.is_default() && req.mode == Mode::Link {
        return Err(Refusal::field(
            loc(&["path", "collection_id"]),
            "default is the view of unfiled items; use mode \"move\" to take items out of \
             their collections",
            "link_into_default",
        ));
    }
    let refs = match &req.items {
        BatchItems::Refs(refs) => refs,
        BatchItems::Select(sel) if sel.collection.is_none() && sel.query.is_none() => {
            return Err(Refusal::field(
                loc(&["body", "select"]),
                "select needs a collection, a query, or both: without either it would take \
                 every item",
                "select_shape",
            ));
        }
        BatchItems::Select(_) => return Ok(()),
    };
    check_count(refs.len(), &ctx.limits, "items", "item")?;
    let mut errors = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let at = |field: &str| -> Vec<Loc> {
            vec!["body".into(), "items".into(), i.into(), field.into()]
        };
        if let Some(name) = &r.display_name {
            validate_name(name, at("display_name"), &mut errors);
        }
        if let Some(uid) = &r.unique_id {
            validate_name(uid, at("unique_id"), &mut errors);
        }
        if let Some(m) = &r.metadata {
            errors.extend(validate_metadata(m, &at("metadata")));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Refusal::validation(errors))
    }
}

/// The items a selection takes, refusing more than `max_select` of them.
fn select<V: StateView + ?Sized>(
    view: &V,
    ctx: &Ctx<'_>,
    sel: &Selection,
) -> PlanResult<Vec<ItemId>, V> {
    if let Some(c) = &sel.collection
        && !c.is_default()
    {
        existing_collection(view, c)?;
    }
    let max = ctx.limits.max_select;
    let too_many = || -> PlanError<V::Error> {
        Refusal::new(
            ErrorCode::BatchSizeExceeded,
            format!("the selection matches more than {max} items; narrow it down"),
        )
        .into()
    };
    let Some(query) = &sel.query else {
        let Some(collection) = &sel.collection else {
            return Ok(Vec::new()); // refused by validate_request
        };
        let ids = view
            .select(collection, &sel.filter, max.saturating_add(1))
            .or_view()?;
        if ids.len() > max {
            return Err(too_many());
        }
        return Ok(ids);
    };
    query_collections_exist(view, query)?;
    let matcher = query.matcher(ctx.home);
    let is_match = |item: &Item| -> PlanResult<bool, V> {
        let (collections, watches, duplicate) = subject_facts(view, query, item)?;
        Ok(matcher.matches(&Subject {
            item,
            collections: &collections,
            watches: &watches,
            duplicate,
        }))
    };
    let mut out = Vec::new();
    if let Some(collection) = &sel.collection {
        // The collection's filtered entries in its order, each matched; the query can only
        // narrow them, so every one is looked at.
        for id in view.select(collection, &sel.filter, usize::MAX).or_view()? {
            if let Some(item) = view.item(id).or_view()?
                && is_match(&item)?
            {
                out.push(item.id);
                if out.len() > max {
                    return Err(too_many());
                }
            }
        }
        return Ok(out);
    }
    let mut after = None;
    loop {
        let page = view.items_after(after, SELECT_PAGE).or_view()?;
        for item in &page {
            if sel.filter.matches(None, item) && is_match(item)? {
                out.push(item.id);
                if out.len() > max {
                    return Err(too_many());
                }
            }
        }
        match page.last() {
            Some(last) if page.len() == SELECT_PAGE => after = Some(last.id),
            _ => return Ok(out),
        }
    }
}

/// Finds each item's source entries for a move, refusing what may not move.
fn collect_sources<V: StateView + ?Sized>(
    view: &V,
    req: &BatchAdd,
    from: Option<&CollectionId>,
    target: Option<&Collection>,
    planned: &mut [Planned],
    already_unfiled: &mut [bool],
) -> PlanResult<(), V> {
    let mut not_in_source = Vec::new();
    let mut managed = Vec::new();
    let mut archived_sources = std::collections::BTreeSet::new();
    // (trashed, archived) of each collection met, read once.
    let mut states: BTreeMap<CollectionId, (bool, bool, bool)> = BTreeMap::new();
    for (p, unfiled) in planned.iter_mut().zip(already_unfiled.iter_mut()) {
        // Live memberships outside the trash, with whether each is archived. A smart
        // collection is never a source: its query alone decides whether the item stays.
        let mut live = Vec::new();
        let mut in_smart = false;
        for cid in view.live_collections(p.item.id).or_view()? {
            let (trashed, is_archived, by_query) = if let Some(s) = states.get(&cid) {
                *s
            } else {
                let c = view.collection(&cid).or_view()?;
                let s = c.map_or((true, false, false), |c| {
                    (c.trashed_at.is_some(), c.archived, c.query.is_some())
                });
                states.insert(cid.clone(), s);
                s
            };
            if trashed {
                continue;
            }
            if by_query && from.is_none_or(|f| f != &cid) {
                in_smart = true;
            } else {
                live.push((cid, is_archived));
            }
        }
        *unfiled = live.is_empty() && !in_smart;
        let sources: Vec<(CollectionId, bool)> = match from {
            Some(f) if f.is_default() => {
                if !*unfiled {
                    not_in_source.push(p.item.id.to_string());
                }
                Vec::new()
            }
            Some(f) => {
                if live.iter().any(|(c, _)| c == f) {
                    vec![(f.clone(), false)]
                } else {
                    not_in_source.push(p.item.id.to_string());
                    Vec::new()
                }
            }
            None => live
                .into_iter()
                .filter(|(c, _)| target.is_none_or(|t| &t.id != c))
                .collect(),
        };
        for (cid, is_archived) in sources {
            if is_archived {
                archived_sources.insert(cid.clone());
                continue;
            }
            let Some(entry) = view.entry(&cid, p.item.id).or_view()? else {
                continue;
            };
            if matches!(entry.source, EntrySource::Folder(_)) && !req.relocate {
                managed.push(p.item.id.to_string());
            }
            p.sources.push(entry);
        }
    }
    if !not_in_source.is_empty() {
        let from = from.map_or_else(String::new, ToString::to_string);
        return Err(Refusal::with_ids(
            ErrorCode::NotInSource,
            format!(
                "{} item(s) are not live members of {from}",
                not_in_source.len()
            ),
            "not_in_source",
            not_in_source,
        )
        .into());
    }
    if let Some(first) = archived_sources.first() {
        let mut refusal = archived(first);
        refusal.message =
            "items are also in archived collection(s) whose membership cannot change; \
             name the source with \"from\" to leave them there"
                .to_string();
        refusal.details = crate::Details::Ids {
            key: "archived",
            ids: archived_sources.iter().map(ToString::to_string).collect(),
        };
        return Err(refusal.into());
    }
    if !managed.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::EntryManagedByFolder,
            format!(
                "{} item(s) are in their collection through a folder watch; move them with \
                 \"relocate\": true to move the files, or change the folder",
                managed.len()
            ),
            "managed",
            managed,
        )
        .into());
    }
    let relocating = planned.iter().any(|p| {
        p.sources
            .iter()
            .any(|e| matches!(e.source, EntrySource::Folder(_)))
    });
    if req.relocate && relocating && target.is_none_or(|t| t.folders.len() != 1) {
        return Err(Refusal::new(
            ErrorCode::NoTargetFolder,
            format!(
                "relocate needs a target collection with exactly one folder; {} has {}",
                req.collection,
                target.map_or(0, |t| t.folders.len())
            ),
        )
        .into());
    }
    Ok(())
}

/// Refuses additions of deleted items and of items the target's `accept` list refuses.
fn check_additions(target: &Collection, planned: &[Planned]) -> Result<(), Refusal> {
    let adding = || {
        planned
            .iter()
            .filter(|p| !p.current.as_ref().is_some_and(Entry::is_live))
    };
    let deleted: Vec<String> = adding()
        .filter(|p| p.item.deleted_at.is_some())
        .map(|p| p.item.id.to_string())
        .collect();
    if !deleted.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::ItemDeleted,
            format!("{} item(s) are gone from disk", deleted.len()),
            "deleted",
            deleted,
        ));
    }
    let refused: Vec<String> = adding()
        .filter(|p| !target.accepts(p.item.kind, &p.item.content_type))
        .map(|p| p.item.id.to_string())
        .collect();
    if !refused.is_empty() {
        let accept = target
            .accept
            .iter()
            .flatten()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Refusal::with_ids(
            ErrorCode::ItemNotAllowed,
            format!(
                "{} item(s) are not allowed in {}, which accepts {accept}",
                refused.len(),
                target.id
            ),
            "not_allowed",
            refused,
        ));
    }
    Ok(())
}
