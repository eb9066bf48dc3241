//! The rules of every operation, one module per family. Each `plan_*` function reads the
//! state through a [`StateView`] and returns a [`Plan`] or a [`Refusal`]; none writes.

mod batch;
mod collection;
mod entry;
mod folder;
mod item;
mod remove;
mod reorder;
mod smart;
mod undo;
mod watch;

pub use batch::{BatchAdd, BatchItems, ItemRef, Mode, Selection, plan_batch_add};
pub use collection::{
    CollectionUpdate, MAX_COLLECTION_NAME_CHARS, MAX_DESCRIPTION_BYTES, NewCollection,
    plan_create_collection, plan_purge_collection, plan_restore_collection, plan_trash_collection,
    plan_update_collection,
};
pub use entry::{EntryUpdate, NewEntry, plan_add_one, plan_update_entry};
pub use folder::{FolderChange, Owner, Was, plan_folder_sync, plan_folder_sync_groups};
pub use item::{ItemUpdate, plan_register, plan_update_item};
pub use remove::{Remove, plan_remove};
pub use reorder::{Placement, Reorder, plan_reorder};
pub use smart::{
    Affected, affected_items, item_matches, plan_smart_upkeep, reads_itself, upkeep_order,
};
pub use undo::plan_undo;
pub use watch::{NewWatch, plan_create_watch, plan_remove_watch, watch_not_found};

use std::collections::HashMap;

use crate::error::{ErrorCode, FieldError, Loc, Refusal};
use crate::id::{CollectionId, ItemId};
use crate::model::{Collection, Item, validate_absolute_path};
use crate::plan::{OrView, PlanError};
use crate::view::StateView;

/// Gap between the sort orders of entries appended one after another, so that an entry can
/// be placed between two neighbours many times before the collection is renumbered.
pub const SORT_GAP: i64 = 1 << 20;

/// Longest display name or unique id, in characters.
pub const MAX_NAME_CHARS: usize = 1024;

type PlanResult<T, V> = Result<T, PlanError<<V as StateView>::Error>>;

/// How a request names an item: by id, or by the absolute path of a known file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ItemTarget {
    /// `doc_…`, `img_…`, …
    Id(ItemId),
    /// An absolute path.
    Path(String),
}

impl ItemTarget {
    /// Reads a reference: text starting with `/` is a path, anything else must be an item
    /// id (`INVALID_ID` otherwise).
    pub fn parse(text: &str, loc: Vec<Loc>) -> Result<Self, Refusal> {
        if text.starts_with('/') {
            validate_absolute_path(text, loc).map_err(|e| Refusal::validation(vec![e]))?;
            Ok(ItemTarget::Path(text.to_owned()))
        } else {
            text.parse()
                .map(ItemTarget::Id)
                .map_err(|e: crate::IdError| e.into())
        }
    }
}

impl std::fmt::Display for ItemTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemTarget::Id(id) => write!(f, "{id}"),
            ItemTarget::Path(p) => f.write_str(p),
        }
    }
}

/// Looks an item up by reference; `None` when it does not exist (or the id's prefix is not
/// the item's).
fn lookup<V: StateView + ?Sized>(view: &V, target: &ItemTarget) -> PlanResult<Option<Item>, V> {
    match target {
        ItemTarget::Id(id) => Ok(view.item(*id).or_view()?.filter(|item| item.id == *id)),
        ItemTarget::Path(path) => view.item_by_path(path).or_view(),
    }
}

/// Resolves references, de-duplicating by item (the first mention wins), or refuses with
/// `ITEMS_NOT_FOUND` listing every reference that names nothing.
fn resolve_all<V: StateView + ?Sized, T>(
    view: &V,
    refs: impl IntoIterator<Item = (ItemTarget, T)>,
) -> PlanResult<Vec<(Item, T)>, V> {
    let mut seen = std::collections::HashSet::new();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (target, extra) in refs {
        if let Some(item) = lookup(view, &target)? {
            if seen.insert(item.id.ulid()) {
                found.push((item, extra));
            }
        } else {
            let text = target.to_string();
            if !missing.contains(&text) {
                missing.push(text);
            }
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        let total = missing.len() + seen.len();
        Err(Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            format!("{} of {total} items do not exist", missing.len()),
            "missing",
            missing,
        )
        .into())
    }
}

/// A collection that exists and is not in the trash.
fn existing_collection<V: StateView + ?Sized>(
    view: &V,
    id: &CollectionId,
) -> PlanResult<Collection, V> {
    match view.collection(id).or_view()? {
        None => Err(not_found(id).into()),
        Some(c) if c.trashed_at.is_some() => Err(Refusal::new(
            ErrorCode::CollectionTrashed,
            format!("collection {id} is in the trash; restore it first"),
        )
        .into()),
        Some(c) => Ok(c),
    }
}

/// A collection whose membership may change by hand: it exists, is not trashed, not
/// archived, and not smart (its query alone decides its members).
fn writable_collection<V: StateView + ?Sized>(
    view: &V,
    id: &CollectionId,
) -> PlanResult<Collection, V> {
    let c = existing_collection(view, id)?;
    if c.archived {
        return Err(archived(id).into());
    }
    if c.query.is_some() {
        return Err(smart(id).into());
    }
    Ok(c)
}

fn smart(id: &CollectionId) -> Refusal {
    Refusal::with_ids(
        ErrorCode::CollectionIsSmart,
        format!(
            "collection {id} is smart: its query decides what is in it; change the query, or \
             link its items into another collection"
        ),
        "smart",
        vec![id.to_string()],
    )
}

fn not_found(id: &CollectionId) -> Refusal {
    Refusal::new(
        ErrorCode::CollectionNotFound,
        format!("collection {id} does not exist"),
    )
}

fn archived(id: &CollectionId) -> Refusal {
    Refusal::with_ids(
        ErrorCode::CollectionArchived,
        format!("collection {id} is archived: its membership cannot change"),
        "archived",
        vec![id.to_string()],
    )
}

/// Checks a display name or unique id: 1 to 1024 characters, no control characters.
pub(crate) fn validate_name(value: &str, loc: Vec<Loc>, errors: &mut Vec<FieldError>) {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            loc,
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
            "string_length",
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            loc,
            "must not contain control characters",
            "string_chars",
        ));
    }
}

/// Checks the length of a list of references: 1 to `max_batch`. `field` is the body field
/// (`items`, `paths`), `one` what a single element is called (`item`, `path`).
fn check_count(len: usize, limits: &crate::Limits, field: &str, one: &str) -> Result<(), Refusal> {
    if len == 0 {
        return Err(Refusal::field(
            loc(&["body", field]),
            format!("at least one {one} is required"),
            "too_short",
        ));
    }
    if len > limits.max_batch {
        return Err(Refusal::new(
            ErrorCode::BatchSizeExceeded,
            format!(
                "{len} {field} in one batch; the limit is {}",
                limits.max_batch
            ),
        ));
    }
    Ok(())
}

fn loc(parts: &[&str]) -> Vec<Loc> {
    parts.iter().map(|p| Loc::from(*p)).collect()
}

/// Hands out `sort_order`s after the collection's last entry.
#[derive(Debug)]
struct Appender {
    next: i64,
}

impl Appender {
    fn new<V: StateView + ?Sized>(view: &V, collection: &CollectionId) -> PlanResult<Self, V> {
        let last = view
            .sort_bounds(collection)
            .or_view()?
            .map_or(0, |(_, max)| max);
        Ok(Self {
            next: last.saturating_add(SORT_GAP),
        })
    }

    fn take(&mut self) -> i64 {
        let n = self.next;
        self.next = self.next.saturating_add(SORT_GAP);
        n
    }
}

/// Tracks `unique_id`s claimed and released within one plan on top of the stored ones.
#[derive(Debug, Default)]
struct UniqueIds {
    claimed: HashMap<String, ItemId>,
    released: std::collections::HashSet<String>,
}

impl UniqueIds {
    /// Whether `unique_id` is free for `item` in `collection`.
    fn is_free<V: StateView + ?Sized>(
        &self,
        view: &V,
        collection: &CollectionId,
        unique_id: &str,
        item: ItemId,
    ) -> PlanResult<bool, V> {
        if let Some(holder) = self.claimed.get(unique_id) {
            return Ok(holder.ulid() == item.ulid());
        }
        if self.released.contains(unique_id) {
            return Ok(true);
        }
        let holder = view.unique_id_holder(collection, unique_id).or_view()?;
        Ok(holder.is_none_or(|h| h.ulid() == item.ulid()))
    }

    fn claim(&mut self, unique_id: String, item: ItemId) {
        self.released.remove(&unique_id);
        self.claimed.insert(unique_id, item);
    }

    fn release(&mut self, unique_id: &str) {
        self.claimed.remove(unique_id);
        self.released.insert(unique_id.to_owned());
    }

    /// Picks the unique id of a new or revived entry: the explicit one must be free (else
    /// `Err(())`: a conflict); a defaulted one falls back to the item id when taken.
    fn choose<V: StateView + ?Sized>(
        &mut self,
        view: &V,
        collection: &CollectionId,
        item: ItemId,
        explicit: Option<&str>,
        default: &str,
    ) -> PlanResult<Result<String, ()>, V> {
        let first = explicit.unwrap_or(default);
        if self.is_free(view, collection, first, item)? {
            self.claim(first.to_owned(), item);
            return Ok(Ok(first.to_owned()));
        }
        if explicit.is_none() {
            let fallback = item.to_string();
            if self.is_free(view, collection, &fallback, item)? {
                self.claim(fallback.clone(), item);
                return Ok(Ok(fallback));
            }
        }
        Ok(Err(()))
    }
}

fn unique_conflict(collection: &CollectionId, ids: Vec<String>) -> Refusal {
    Refusal::with_ids(
        ErrorCode::UniqueIdConflict,
        format!(
            "{} unique_id(s) are already taken by other live entries of {collection}",
            ids.len()
        ),
        "conflicts",
        ids,
    )
}
