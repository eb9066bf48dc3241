use super::smart::reads_itself;
use super::{PlanResult, loc, not_found};
use crate::error::{ErrorCode, FieldError, Loc, Refusal};
use crate::id::CollectionId;
use crate::model::{AcceptRule, Collection};
use crate::plan::{ChangeSet, Ctx, OrView, Outcome, Plan};
use crate::query::Query;
use crate::time::Timestamp;
use crate::view::StateView;

/// Longest collection name, in characters.
pub const MAX_COLLECTION_NAME_CHARS: usize = 256;
/// Longest collection description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;

/// `POST /v1/collections`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewCollection {
    /// The slug.
    pub id: Option<CollectionId>,
    /// Display name; defaults to the id.
    pub name: Option<String>,
    /// Display text.
    pub description: Option<String>,
    /// Allowed kinds or MIME patterns.
    pub accept: Option<Vec<AcceptRule>>,
    /// Makes the collection smart (SPEC §7.2): its members are the items that match.
    pub query: Option<Query>,
}

/// `PATCH /v1/collections/{cid}`: each `Some` field is set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectionUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Archive (`true`) or unarchive.
    pub archived: Option<bool>,
    /// New accept list; `Some(None)` accepts everything again.
    pub accept: Option<Option<Vec<AcceptRule>>>,
    /// A smart collection's new query (a collection is smart or not from its creation on).
    pub query: Option<Query>,
}

pub(crate) fn new_collection(
    id: &CollectionId,
    name: Option<String>,
    description: String,
    accept: Option<Vec<AcceptRule>>,
    now: Timestamp,
) -> Collection {
    Collection {
        id: id.clone(),
        name: name.unwrap_or_else(|| id.to_string()),
        description,
        archived: false,
        accept,
        trashed_at: None,
        item_count: 0,
        folders: Vec::new(),
        created_at: now,
        updated_at: now,
        query: None,
        filling: false,
        number: 0,
    }
}

fn validate_fields(
    name: Option<&str>,
    description: Option<&str>,
    accept: Option<&[AcceptRule]>,
) -> Result<(), Refusal> {
    let mut errors = Vec::new();
    if let Some(name) = name {
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_COLLECTION_NAME_CHARS || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                loc(&["body", "name"]),
                format!(
                    "names are 1 to {MAX_COLLECTION_NAME_CHARS} characters without control \
                     characters"
                ),
                "string_length",
            ));
        }
    }
    if description.is_some_and(|d| d.len() > MAX_DESCRIPTION_BYTES) {
        errors.push(FieldError::new(
            loc(&["body", "description"]),
            format!("descriptions are at most {MAX_DESCRIPTION_BYTES} bytes"),
            "string_length",
        ));
    }
    if accept.is_some_and(<[AcceptRule]>::is_empty) {
        errors.push(FieldError::new(
            loc(&["body", "accept"]),
            "accept must list at least one kind or MIME pattern; omit it (or send null) to \
             accept everything",
            "too_short",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Refusal::validation(errors))
    }
}

fn default_is_fixed(what: &str) -> Refusal {
    Refusal::field(
        vec![Loc::from("path"), Loc::from("collection_id")],
        format!("the default collection cannot be {what}"),
        "default_collection",
    )
}

/// Plans `POST /v1/collections`.
pub fn plan_create_collection<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &NewCollection,
) -> PlanResult<Plan, V> {
    let Some(id) = &req.id else {
        return Err(Refusal::field(loc(&["body", "id"]), "id is required", "missing").into());
    };
    validate_fields(
        req.name.as_deref(),
        req.description.as_deref(),
        req.accept.as_deref(),
    )?;
    if id.is_default() {
        return Err(Refusal::new(
            ErrorCode::CollectionExists,
            "default is reserved: it always exists, as the view of unfiled items",
        )
        .into());
    }
    if let Some(existing) = view.collection(id).or_view()? {
        let where_ = if existing.trashed_at.is_some() {
            " (in the trash)"
        } else {
            ""
        };
        return Err(Refusal::new(
            ErrorCode::CollectionExists,
            format!("collection {id} exists already{where_}"),
        )
        .into());
    }
    if let Some(query) = &req.query {
        if req.accept.is_some() {
            return Err(Refusal::field(
                loc(&["body", "accept"]),
                "a smart collection holds what its query matches: put kinds and types in the \
                 query (\"kind\", \"content_type\") instead of accept",
                "smart_accept",
            )
            .into());
        }
        check_query(view, id, query)?;
    }
    let mut created = new_collection(
        id,
        req.name.clone(),
        req.description.clone().unwrap_or_default(),
        req.accept.clone(),
        ctx.now,
    );
    created.query = req.query.clone().map(Box::new);
    let mut cs = ChangeSet::default();
    cs.collection(None, Some(created));
    Ok(collection_plan(cs, id))
}

/// The collections a query reads (`in`, `not_in`) exist: `COLLECTION_NOT_FOUND` otherwise.
pub(super) fn query_collections_exist<V: StateView + ?Sized>(
    view: &V,
    query: &Query,
) -> PlanResult<(), V> {
    for c in query.collections() {
        if !c.is_default() && view.collection(c).or_view()?.is_none() {
            return Err(not_found(c).into());
        }
    }
    Ok(())
}

/// The collections a query reads exist, and the query does not read, through other smart
/// collections, the collection it defines.
fn check_query<V: StateView + ?Sized>(
    view: &V,
    id: &CollectionId,
    query: &Query,
) -> PlanResult<(), V> {
    query_collections_exist(view, query)?;
    if query.collections().any(CollectionId::is_default) || reads_itself(view, id, query)? {
        return Err(Refusal::field(
            loc(&["body", "query"]),
            format!(
                "the query reads the membership of {id} itself (through \"in\"/\"not_in\", smart \
                 collections, or default, which is every item in no collection — this one \
                 included): a smart collection cannot depend on its own members"
            ),
            "query.cycle",
        )
        .into());
    }
    Ok(())
}

fn collection_plan(cs: ChangeSet, id: &CollectionId) -> Plan {
    Plan {
        changes: cs.changes,
        op: None,
        undoes: None,
        outcome: Outcome::Collection(id.clone()),
    }
}

fn found<V: StateView + ?Sized>(view: &V, id: &CollectionId) -> PlanResult<Collection, V> {
    view.collection(id)
        .or_view()?
        .ok_or_else(|| not_found(id).into())
}

/// Plans `PATCH /v1/collections/{cid}`.
pub fn plan_update_collection<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    id: &CollectionId,
    req: &CollectionUpdate,
) -> PlanResult<Plan, V> {
    if id.is_default() {
        return Err(default_is_fixed("renamed, archived or changed").into());
    }
    let accept = req.accept.as_ref().and_then(|a| a.as_deref());
    validate_fields(req.name.as_deref(), req.description.as_deref(), accept)?;
    let before = found(view, id)?;
    if before.trashed_at.is_some() {
        return Err(Refusal::new(
            ErrorCode::CollectionTrashed,
            format!("collection {id} is in the trash; restore it first"),
        )
        .into());
    }
    let mut after = before.clone();
    if let Some(name) = &req.name {
        after.name.clone_from(name);
    }
    if let Some(description) = &req.description {
        after.description.clone_from(description);
    }
    if let Some(archived) = req.archived {
        after.archived = archived;
    }
    if let Some(accept) = &req.accept {
        after.accept.clone_from(accept);
    }
    if let Some(query) = &req.query {
        if before.query.is_none() {
            return Err(Refusal::field(
                loc(&["body", "query"]),
                format!(
                    "collection {id} is kept by hand; a collection is smart from its creation \
                     on: create a new one with this query"
                ),
                "not_smart",
            )
            .into());
        }
        check_query(view, id, query)?;
        after.query = Some(Box::new(query.clone()));
    }
    if after.query.is_some() && after.accept.is_some() {
        return Err(Refusal::field(
            loc(&["body", "accept"]),
            "a smart collection holds what its query matches: put kinds and types in the query",
            "smart_accept",
        )
        .into());
    }
    let mut cs = ChangeSet::default();
    if after != before {
        after.updated_at = ctx.now;
        cs.collection(Some(before), Some(after));
    }
    Ok(collection_plan(cs, id))
}

/// Plans `DELETE /v1/collections/{cid}`: to the trash (idempotent).
pub fn plan_trash_collection<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    id: &CollectionId,
) -> PlanResult<Plan, V> {
    if id.is_default() {
        return Err(default_is_fixed("deleted").into());
    }
    let before = found(view, id)?;
    let mut cs = ChangeSet::default();
    if before.trashed_at.is_none() {
        let mut after = before.clone();
        after.trashed_at = Some(ctx.now);
        after.updated_at = ctx.now;
        cs.collection(Some(before), Some(after));
    }
    Ok(collection_plan(cs, id))
}

/// Plans `POST /v1/collections/{cid}/restore`: out of the trash (idempotent).
pub fn plan_restore_collection<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    id: &CollectionId,
) -> PlanResult<Plan, V> {
    if id.is_default() {
        return Ok(collection_plan(ChangeSet::default(), id));
    }
    let before = found(view, id)?;
    let mut cs = ChangeSet::default();
    if before.trashed_at.is_some() {
        let mut after = before.clone();
        after.trashed_at = None;
        after.updated_at = ctx.now;
        cs.collection(Some(before), Some(after));
    }
    Ok(collection_plan(cs, id))
}

/// Plans `DELETE /v1/collections/{cid}?purge=true`: a trashed collection and all its
/// entries deleted for good. A collection must be in the trash first.
pub fn plan_purge_collection<V: StateView + ?Sized>(
    view: &V,
    _ctx: &mut Ctx<'_>,
    id: &CollectionId,
) -> PlanResult<Plan, V> {
    if id.is_default() {
        return Err(default_is_fixed("deleted").into());
    }
    let before = found(view, id)?;
    if before.trashed_at.is_none() {
        return Err(Refusal::field(
            vec![Loc::from("query"), Loc::from("purge")],
            format!("collection {id} must be in the trash before it is purged; delete it first"),
            "not_trashed",
        )
        .into());
    }
    let mut cs = ChangeSet::default();
    // Its watches go with it: there is nothing left for them to fill.
    for watch in view.watches().or_view()? {
        if watch.collection_id == *id {
            cs.watch(Some(watch), None);
        }
    }
    cs.collection(Some(before), None);
    Ok(Plan {
        changes: cs.changes,
        op: None,
        undoes: None,
        outcome: Outcome::Purged(id.clone()),
    })
}
