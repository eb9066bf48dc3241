//! Smart collections (SPEC §7.2): a collection whose live entries are exactly the items its
//! query matches. The store runs these rules inside every write, after the write's own
//! plan is applied: the items the write could have changed the answer for are found, each is
//! matched again, and the smart collection's entries follow. Collections that read other
//! collections (`in`/`not_in`) are kept after those.

use std::collections::{BTreeMap, BTreeSet};

use super::{Appender, PlanResult};
use crate::change::Change;
use crate::id::{CollectionId, ItemId, WatchId};
use crate::model::{Collection, Entry, EntrySource, Item};
use crate::plan::{ChangeSet, Ctx, OrView, Outcome, Plan};
use crate::query::{Matcher, Query, Subject};
use crate::view::{EntryFilter, StateView};

/// The smart collections in the order their upkeep runs: each after the smart collections
/// its query reads through `in`/`not_in`. (A cycle is refused when a query is defined; were
/// one stored anyway, its members would be kept in id order rather than loop.)
#[must_use]
pub fn upkeep_order(smart: &[Collection]) -> Vec<&Collection> {
    fn visit<'a>(
        c: &'a Collection,
        by_id: &BTreeMap<&CollectionId, &'a Collection>,
        placed: &mut BTreeSet<CollectionId>,
        visiting: &mut BTreeSet<CollectionId>,
        order: &mut Vec<&'a Collection>,
    ) {
        if placed.contains(&c.id) || !visiting.insert(c.id.clone()) {
            return;
        }
        if let Some(q) = &c.query {
            for dep in q.collections() {
                if let Some(d) = by_id.get(dep) {
                    visit(d, by_id, placed, visiting, order);
                }
            }
        }
        placed.insert(c.id.clone());
        order.push(c);
    }
    let by_id: BTreeMap<&CollectionId, &Collection> = smart.iter().map(|c| (&c.id, c)).collect();
    let mut order = Vec::with_capacity(smart.len());
    let mut placed = BTreeSet::new();
    let mut visiting = BTreeSet::new();
    for c in by_id.values() {
        visit(c, &by_id, &mut placed, &mut visiting, &mut order);
    }
    order
}

/// Whether making `id`'s query `query` would close a cycle: a smart collection that reads,
/// through `in`/`not_in` and other smart collections, its own membership.
pub fn reads_itself<V: StateView + ?Sized>(
    view: &V,
    id: &CollectionId,
    query: &Query,
) -> PlanResult<bool, V> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<CollectionId> = query.collections().cloned().collect();
    while let Some(next) = stack.pop() {
        if &next == id {
            return Ok(true);
        }
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(c) = view.collection(&next).or_view()?
            && let Some(q) = &c.query
        {
            stack.extend(q.collections().cloned());
        }
    }
    Ok(false)
}

/// The items a write may have changed a smart collection's answer for, by what changed
/// about them: a query reads only some of an item's facts, so a write that touched none of
/// what a query reads (a batch link, for a query of path globs) costs that query nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Affected {
    /// Items whose own record changed: any query's answer for them may change.
    pub items: BTreeSet<ItemId>,
    /// Items whose live memberships changed — an entry of theirs changed, or a collection
    /// holding them went into the trash or came out of it: the answers of queries that read
    /// memberships (`in`, `not_in`) or the watches owning an item (`watch`).
    pub memberships: BTreeSet<ItemId>,
    /// Items whose content hash another item gained or lost (or that item was deleted or
    /// came back): the answers of queries asking `duplicate`.
    pub duplicates: BTreeSet<ItemId>,
}

impl Affected {
    /// Whether no item is affected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.memberships.is_empty() && self.duplicates.is_empty()
    }

    /// Every affected item, whatever changed about it.
    #[must_use]
    pub fn all(&self) -> BTreeSet<ItemId> {
        let mut all = self.items.clone();
        all.extend(&self.memberships);
        all.extend(&self.duplicates);
        all
    }

    /// The items whose answer for `query` may have changed.
    #[must_use]
    pub fn for_query(&self, query: &Query) -> BTreeSet<ItemId> {
        let mut out = self.items.clone();
        if query.uses_memberships() || query.uses_watches() {
            out.extend(&self.memberships);
        }
        if query.uses_duplicates() {
            out.extend(&self.duplicates);
        }
        out
    }

    /// Notes the items whose entries `changes` changed (a smart collection's own upkeep,
    /// which the collections reading it must see).
    pub fn note_entries(&mut self, changes: &[Change]) {
        for change in changes {
            if let Change::Entry { before, after } = change
                && let Some(e) = after.as_ref().or(before.as_ref())
            {
                self.memberships.insert(e.item_id);
            }
        }
    }
}

/// The items whose answer `changes` may have changed for the smart collections `smart`,
/// by what changed about them (see [`Affected`]): every item changed; every item an entry
/// changed for; where a content hash came or went (or an item holding one was deleted or
/// came back), the other items with that hash, whose `duplicate` it decides; and, where a
/// collection went into the trash or came out of it, the items live in it if a query of
/// `smart` reads it: a trashed collection's entries stay live but are no memberships (see
/// [`subject_facts`]), so its items' `in`, `not_in` and `watch` answers change without any
/// entry changing.
pub fn affected_items<V: StateView + ?Sized>(
    view: &V,
    changes: &[Change],
    smart: &[Collection],
) -> PlanResult<Affected, V> {
    let mut affected = Affected::default();
    let mut hashes = BTreeSet::new();
    for change in changes {
        match change {
            Change::Item { before, after } => {
                if let Some(i) = after.as_ref().or(before.as_ref()) {
                    affected.items.insert(i.id);
                }
                let was = before.as_ref().and_then(hash_counts);
                let is = after.as_ref().and_then(hash_counts);
                if was != is {
                    hashes.extend(was.map(str::to_owned));
                    hashes.extend(is.map(str::to_owned));
                }
            }
            Change::Collection {
                before: Some(before),
                after: Some(after),
            } if before.trashed_at.is_some() != after.trashed_at.is_some()
                && smart.iter().any(|s| reads(s, &after.id)) =>
            {
                affected.memberships.extend(
                    view.select(&after.id, &EntryFilter::default(), usize::MAX)
                        .or_view()?,
                );
            }
            // Entries are noted below; other changes of collections and watches answer
            // through them.
            Change::Entry { .. } | Change::Collection { .. } | Change::Watch { .. } => {}
        }
    }
    affected.note_entries(changes);
    for hash in hashes {
        for other in view.same_content(&hash).or_view()? {
            affected.duplicates.insert(other.id);
        }
    }
    Ok(affected)
}

/// Whether the query of `smart` may read memberships in `other`: it names it (or `default`,
/// membership in nothing) in `in`/`not_in`, or asks for `watch`, which any collection's
/// folder entries can answer.
fn reads(smart: &Collection, other: &CollectionId) -> bool {
    smart
        .query
        .as_ref()
        .is_some_and(|q| q.uses_watches() || q.collections().any(|c| c == other || c.is_default()))
}

/// The content hash that makes other items duplicates of this one: a live item's.
fn hash_counts(i: &Item) -> Option<&str> {
    i.content_hash.as_deref().filter(|_| i.deleted_at.is_none())
}

/// What a match of `item` by `query` looks at, read from the state: its live memberships
/// and the watches owning them (only when the query reads them), and whether another live
/// item has its content hash (only when the query asks). A collection in the trash is no
/// membership (SPEC §7.1 "live membership"; its items count as unfiled, as in the `default`
/// view), though its entries stay live for when it is restored.
pub(crate) fn subject_facts<V: StateView + ?Sized>(
    view: &V,
    query: &Query,
    item: &Item,
) -> PlanResult<(Vec<CollectionId>, Vec<WatchId>, bool), V> {
    let mut collections = Vec::new();
    if query.uses_memberships() || query.uses_watches() {
        for c in view.live_collections(item.id).or_view()? {
            if view
                .collection(&c)
                .or_view()?
                .is_some_and(|c| c.trashed_at.is_none())
            {
                collections.push(c);
            }
        }
    }
    let mut watches = Vec::new();
    if query.uses_watches() {
        for c in &collections {
            if let Some(w) = view
                .entry(c, item.id)
                .or_view()?
                .filter(Entry::is_live)
                .and_then(|e| e.source.watch())
            {
                watches.push(w);
            }
        }
    }
    let duplicate = match (&item.content_hash, query.uses_duplicates()) {
        (Some(hash), true) => view
            .same_content(hash)
            .or_view()?
            .iter()
            .any(|o| o.id.ulid() != item.id.ulid() && o.deleted_at.is_none()),
        _ => false,
    };
    Ok((collections, watches, duplicate))
}

/// Whether `item` matches `query` (compiled as `matcher`), its memberships, watches and
/// duplicates read from the state: how rules and selections ask what a smart collection's
/// upkeep asks.
pub fn item_matches<V: StateView + ?Sized>(
    view: &V,
    query: &Query,
    matcher: &Matcher,
    item: &Item,
) -> PlanResult<bool, V> {
    let (collections, watches, duplicate) = subject_facts(view, query, item)?;
    Ok(matcher.matches(&Subject {
        item,
        collections: &collections,
        watches: &watches,
        duplicate,
    }))
}

/// Plans the entries of the smart collection `smart` for `items` (as the state holds them):
/// each ends up live there exactly when it matches. New entries take the item's file name as display name and its
/// id as unique id (file names repeat across folders; ids do not), carry no metadata, and
/// are appended. Not logged: undo never sees them, and the entries follow whatever undo
/// changes back.
pub fn plan_smart_upkeep<'i, V: StateView + ?Sized>(
    view: &V,
    ctx: &mut Ctx<'_>,
    smart: &Collection,
    matcher: &Matcher,
    items: impl IntoIterator<Item = &'i Item>,
) -> PlanResult<Plan, V> {
    let mut cs = ChangeSet::default();
    let (mut added, mut removed) = (0, 0);
    let mut appender: Option<Appender> = None;
    if let Some(query) = &smart.query
        && smart.trashed_at.is_none()
    {
        for item in items {
            let now_matches = item_matches(view, query, matcher, item)?;
            let current = view.entry(&smart.id, item.id).or_view()?;
            let live = current.as_ref().is_some_and(Entry::is_live);
            if now_matches && !live {
                let appender = match &mut appender {
                    Some(a) => a,
                    None => appender.insert(Appender::new(view, &smart.id)?),
                };
                let entry = Entry {
                    id: current.as_ref().map_or_else(|| ctx.entry_id(), |e| e.id),
                    collection_id: smart.id.clone(),
                    item_id: item.id,
                    display_name: item.original_filename.clone(),
                    unique_id: item.id.to_string(),
                    metadata: crate::Metadata::new(),
                    sort_order: appender.take(),
                    source: EntrySource::Query,
                    created_at: current.as_ref().map_or(ctx.now, |e| e.created_at),
                    updated_at: ctx.now,
                    deleted_at: None,
                };
                cs.entry(current, Some(entry));
                added += 1;
            } else if !now_matches
                && live
                && let Some(before) = current
            {
                let mut after = before.clone();
                after.deleted_at = Some(ctx.now);
                after.updated_at = ctx.now;
                cs.entry(Some(before), Some(after));
                removed += 1;
            }
        }
    }
    Ok(cs.unlogged(Outcome::Kept {
        collection_id: smart.id.clone(),
        added,
        removed,
    }))
}
