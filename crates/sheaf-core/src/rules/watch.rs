use super::collection::new_collection;
use super::{PlanResult, existing_collection, loc, not_found};
use crate::error::{ErrorCode, Refusal};
use crate::id::{CollectionId, WatchId};
use crate::model::{EntrySource, Watch, validate_absolute_path};
use crate::plan::{ChangeSet, Ctx, OrView, Outcome, Plan};
use crate::view::StateView;

/// `POST /v1/watches` (or a `[[watch]]` of the config file): bind a folder to a collection.
/// The caller has checked what only IO can tell (the folder exists and is a directory; the
/// globs compile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWatch {
    /// The root, absolute and normalised.
    pub path: String,
    /// The collection the folder's files become members of.
    pub collection: CollectionId,
    /// Create the collection when it does not exist.
    pub create: bool,
    /// Watch sub-folders too.
    pub recursive: bool,
    /// Globs a file must match to belong.
    pub include: Vec<String>,
    /// Globs that leave files out.
    pub exclude: Vec<String>,
    /// Poll at this interval (ms) instead of following live events.
    pub poll_ms: Option<u64>,
    /// Declared in the config file.
    pub from_config: bool,
}

impl NewWatch {
    /// Watches `path` and its sub-folders, every file, live, into `collection` (created when
    /// it does not exist): what `sheaf watch <folder> <collection>` asks for.
    #[must_use]
    pub fn new(path: impl Into<String>, collection: CollectionId) -> Self {
        Self {
            path: path.into(),
            collection,
            create: true,
            recursive: true,
            include: Vec::new(),
            exclude: Vec::new(),
            poll_ms: None,
            from_config: false,
        }
    }
}

/// Plans adding a watch. A watch with the same root and collection is answered as it is
/// (`created: false`) after taking the request's settings, so adding is idempotent and a
/// config file's watch keeps its id across restarts.
pub fn plan_create_watch<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    req: &NewWatch,
) -> PlanResult<Plan, V> {
    if req.path == "/" {
        return Err(Refusal::field(
            loc(&["body", "path"]),
            "watching the whole filesystem is not supported; name a folder",
            "path",
        )
        .into());
    }
    validate_absolute_path(&req.path, loc(&["body", "path"]))
        .map_err(|e| Refusal::validation(vec![e]))?;
    if req.collection.is_default() {
        return Err(Refusal::field(
            loc(&["body", "collection"]),
            "default is the view of unfiled items; a folder cannot be bound to it",
            "reserved",
        )
        .into());
    }
    if req.poll_ms == Some(0) {
        return Err(Refusal::field(
            loc(&["body", "poll"]),
            "the poll interval must be longer than zero",
            "greater_than",
        )
        .into());
    }

    let mut cs = ChangeSet::default();
    let collection = match view.collection(&req.collection).or_view()? {
        Some(_) => {
            let c = existing_collection(view, &req.collection)?;
            if c.query.is_some() {
                return Err(super::smart(&req.collection).into());
            }
            c
        }
        None if req.create => {
            let c = new_collection(&req.collection, None, String::new(), None, ctx.now);
            cs.collection(None, Some(c.clone()));
            c
        }
        None => return Err(not_found(&req.collection).into()),
    };

    let existing = view
        .watches()
        .or_view()?
        .into_iter()
        .find(|w| w.path == req.path && w.collection_id == req.collection);
    let settings = |w: &mut Watch| {
        w.recursive = req.recursive;
        w.include.clone_from(&req.include);
        w.exclude.clone_from(&req.exclude);
        w.poll_ms = req.poll_ms;
        w.from_config = req.from_config;
    };
    if let Some(before) = existing {
        let id = before.id;
        let mut after = before.clone();
        settings(&mut after);
        if after != before {
            after.updated_at = ctx.now;
            cs.watch(Some(before), Some(after));
        }
        return Ok(Plan {
            changes: cs.changes,
            op: None,
            undoes: None,
            outcome: Outcome::Watch {
                watch: id,
                created: false,
            },
        });
    }

    let id = WatchId::from_ulid(ctx.ids.next_ulid());
    let mut watch = Watch {
        id,
        path: req.path.clone(),
        collection_id: req.collection.clone(),
        recursive: true,
        include: Vec::new(),
        exclude: Vec::new(),
        poll_ms: None,
        from_config: false,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    settings(&mut watch);
    let created_now = cs.changes.len() == 1;
    let mut bound = collection.clone();
    bound.folders.push(id);
    if created_now {
        // The collection is created by this very plan: write it once, with its folder.
        cs.changes.clear();
        cs.collection(None, Some(bound));
    } else {
        bound.updated_at = ctx.now;
        cs.collection(Some(collection), Some(bound));
    }
    cs.watch(None, Some(watch));
    Ok(Plan {
        changes: cs.changes,
        op: None,
        undoes: None,
        outcome: Outcome::Watch {
            watch: id,
            created: true,
        },
    })
}

/// Plans removing a watch. Its live entries are soft-deleted, so the collection stops
/// showing the folder (a watch added again on the same folder revives them, same entry ids
/// and metadata); with `keep_entries` they stay live and become `manual` instead.
pub fn plan_remove_watch<V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    id: WatchId,
    keep_entries: bool,
) -> PlanResult<Plan, V> {
    let Some(watch) = view.watches().or_view()?.into_iter().find(|w| w.id == id) else {
        return Err(watch_not_found(id).into());
    };
    let mut cs = ChangeSet::default();
    let entries = unbind(view, ctx, &mut cs, &watch, keep_entries)?;
    Ok(Plan {
        changes: cs.changes,
        op: None,
        undoes: None,
        outcome: Outcome::WatchRemoved { watch: id, entries },
    })
}

/// Adds the changes that remove `watch`: its live entries soft-deleted (or made manual),
/// its collection no longer listing it, the watch gone. Answers how many entries changed.
fn unbind<V: StateView + ?Sized>(
    view: &V,
    ctx: &Ctx<'_>,
    cs: &mut ChangeSet,
    watch: &Watch,
    keep_entries: bool,
) -> PlanResult<u64, V> {
    // The collection first: its `before` is read with the entries still live.
    if let Some(before) = view.collection(&watch.collection_id).or_view()? {
        let mut after = before.clone();
        after.folders.retain(|w| *w != watch.id);
        if after != before {
            after.updated_at = ctx.now;
            cs.collection(Some(before), Some(after));
        }
    }
    let mut changed = 0;
    for before in view
        .folder_entries(&watch.collection_id, watch.id)
        .or_view()?
    {
        if !before.is_live() {
            continue;
        }
        let mut after = before.clone();
        if keep_entries {
            after.source = EntrySource::Manual;
        } else {
            after.deleted_at = Some(ctx.now);
        }
        after.updated_at = ctx.now;
        changed += 1;
        cs.changes.push(crate::Change::Entry {
            before: Some(before),
            after: Some(after),
        });
    }
    cs.watch(Some(watch.clone()), None);
    Ok(changed)
}

/// `WATCH_NOT_FOUND`, naming the id.
#[must_use]
pub fn watch_not_found(id: WatchId) -> Refusal {
    Refusal::with_ids(
        ErrorCode::WatchNotFound,
        format!("watch {id} does not exist"),
        "missing",
        vec![id.to_string()],
    )
}
