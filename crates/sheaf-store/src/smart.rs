//! Smart collections inside every write (SPEC §7.2). After a write's own plan is applied,
//! [`Txn::keep`] finds the items whose answer it may have changed and brings every smart
//! collection in line, in dependency order, in the same transaction: a reader never sees
//! a write without its smart collections' share of it. [`Txn::fill_step`] is the background
//! fill of a new (or re-queried, or restored) smart collection, one chunk of items per
//! transaction.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use redb::ReadableTable;
use sheaf_core::rules::{Affected, affected_items, plan_smart_upkeep, upkeep_order};
use sheaf_core::{Change, Collection, CollectionId, Item, ItemId, Matcher, Outcome, Query};

use crate::error::{StoreError, WriteError};
use crate::schema::{Tabs, decode_item};
use crate::txn::Txn;
use crate::view::{collection, collection_id_of, item};

type Result<T> = std::result::Result<T, WriteError>;

/// The compiled matchers of the smart collections, kept across writes: a query's globs are
/// compiled once, not in every transaction.
#[derive(Debug, Default)]
pub(crate) struct Matchers {
    home: Option<String>,
    compiled: Mutex<HashMap<CollectionId, (Query, Arc<Matcher>)>>,
}

impl Matchers {
    pub(crate) fn new(home: Option<String>) -> Self {
        Self {
            home,
            compiled: Mutex::default(),
        }
    }

    pub(crate) fn of(&self, id: &CollectionId, query: &Query) -> Arc<Matcher> {
        let mut compiled = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((q, m)) = compiled.get(id)
            && q == query
        {
            return Arc::clone(m);
        }
        let matcher = Arc::new(query.matcher(self.home.as_deref()));
        compiled.insert(id.clone(), (query.clone(), Arc::clone(&matcher)));
        matcher
    }
}

impl Txn<'_, '_> {
    /// The smart collections outside the trash.
    fn smart_collections(&self) -> std::result::Result<Vec<Collection>, StoreError> {
        let mut out = Vec::new();
        for r in Tabs::smart(&self.tabs)?
            .iter()
            .map_err(StoreError::storage)?
        {
            let (handle, ()) = r
                .map(|(k, v)| (k.value(), v.value()))
                .map_err(StoreError::storage)?;
            if let Some(id) = collection_id_of(&self.tabs, handle)?
                && let Some(c) = collection(&self.tabs, &id)?
                && c.trashed_at.is_none()
                && c.query.is_some()
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Brings every smart collection in line for the items `changes` may have changed the
    /// answer for.
    pub(crate) fn keep(&mut self, changes: &[Change]) -> Result<()> {
        if self
            .tabs
            .smart
            .first()
            .map_err(StoreError::storage)?
            .is_none()
        {
            return Ok(());
        }
        let smart = self.smart_collections()?;
        let affected = self.plan(|view, _| affected_items(view, changes, &smart))?;
        self.keep_items(&smart, affected, None)
    }

    /// [`Txn::keep`] for the `affected` items, every smart collection of `smart` (or those
    /// after `after` in the upkeep order, when the fill of `after` already did its own).
    /// Each collection looks only at the items whose facts its query reads changed; each
    /// item is read once, however many collections look at it (upkeep changes entries, not
    /// items).
    fn keep_items(
        &mut self,
        smart: &[Collection],
        mut affected: Affected,
        after: Option<&CollectionId>,
    ) -> Result<()> {
        if affected.is_empty() {
            return Ok(());
        }
        let mut order = upkeep_order(smart).into_iter();
        if let Some(after) = after {
            order.by_ref().find(|c| &c.id == after);
        }
        let mut read: BTreeMap<ItemId, Option<Item>> = BTreeMap::new();
        for c in order {
            let Some(query) = &c.query else { continue };
            let wanted = affected.for_query(query);
            if wanted.is_empty() {
                continue;
            }
            for id in &wanted {
                if !read.contains_key(id) {
                    read.insert(*id, item(&self.tabs, id.ulid().0)?);
                }
            }
            let items = wanted
                .iter()
                .filter_map(|id| read.get(id).and_then(Option::as_ref));
            let matcher = self.matchers.of(&c.id, query);
            let plan = self.plan(|view, ctx| plan_smart_upkeep(view, ctx, c, &matcher, items))?;
            if !plan.changes.is_empty() {
                self.apply_kept(&plan)?;
                affected.note_entries(&plan.changes);
            }
        }
        Ok(())
    }

    /// Fills the first smart collection still filling by up to `chunk` items: each is
    /// matched, the collection's entries follow, the collections that read it follow in
    /// turn, and the fill position advances. `None` when no collection is filling.
    pub(crate) fn fill_step(&mut self, chunk: usize) -> Result<Option<Filled>> {
        loop {
            let Some((handle, from)) = self
                .tabs
                .filling
                .first()
                .map_err(StoreError::storage)?
                .map(|(k, v)| (k.value(), v.value()))
            else {
                return Ok(None);
            };
            let target = collection_id_of(&self.tabs, handle)?
                .map(|id| collection(&self.tabs, &id))
                .transpose()?
                .flatten()
                .filter(|c| c.trashed_at.is_none() && c.query.is_some());
            match target {
                Some(target) => return self.fill_chunk(handle, from, &target, chunk).map(Some),
                // Trashed (it is filled again when restored) or gone: not filled now.
                None => {
                    self.tabs
                        .filling
                        .remove(handle)
                        .map_err(StoreError::storage)?;
                }
            }
        }
    }

    fn fill_chunk(
        &mut self,
        handle: u64,
        from: u128,
        target: &Collection,
        chunk: usize,
    ) -> Result<Filled> {
        let mut items = Vec::with_capacity(chunk);
        let mut next = None;
        for r in self.tabs.items.range(from..).map_err(StoreError::storage)? {
            let (k, v) = r.map_err(StoreError::storage)?;
            if items.len() == chunk {
                next = Some(k.value());
                break;
            }
            items.push(decode_item(v.value())?);
        }
        let looked_at = items.len();
        let query = target.query.as_ref().ok_or_else(|| StoreError::Encoding {
            what: "smart collection",
            detail: format!("{} lost its query", target.id),
        })?;
        let matcher = self.matchers.of(&target.id, query);
        let plan = self.plan(|view, ctx| plan_smart_upkeep(view, ctx, target, &matcher, &items))?;
        if !plan.changes.is_empty() {
            self.apply_kept(&plan)?;
            let smart = self.smart_collections()?;
            let changed = self.plan(|view, _| affected_items(view, &plan.changes, &smart))?;
            self.keep_items(&smart, changed, Some(&target.id))?;
        }
        match next {
            Some(n) => self.tabs.filling.insert(handle, n),
            None => self.tabs.filling.remove(handle),
        }
        .map_err(StoreError::storage)?;
        let Outcome::Kept { added, removed, .. } = plan.outcome else {
            return Err(StoreError::Encoding {
                what: "smart upkeep",
                detail: "the planner answered something else".into(),
            }
            .into());
        };
        Ok(Filled {
            collection_id: target.id.clone(),
            looked_at,
            added,
            removed,
            done: next.is_none(),
            seqs: None,
        })
    }
}

/// One step of a smart collection's background fill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filled {
    /// The collection filled.
    pub collection_id: CollectionId,
    /// Items matched in this step.
    pub looked_at: usize,
    /// Entries that became live.
    pub added: u64,
    /// Entries soft-deleted (items that no longer match a changed query).
    pub removed: u64,
    /// Whether the fill is over: every item was looked at.
    pub done: bool,
    /// The seqs of the events this step appended.
    pub seqs: Option<(u64, u64)>,
}
