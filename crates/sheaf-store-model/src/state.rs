//! Collection lifecycle and the one way an entry changes.

use std::collections::BTreeMap;

use sheaf_core::{CollectionId, ErrorCode, EventKind};

use crate::{
    Answer, MCollection, MEntry, MResult, MState, Patch, Refused, Touch, Tx, existing, validation,
};

/// Collection lifecycle: not undoable, so plain changes of the state.
impl MState {
    /// `POST /v1/collections`.
    pub fn create_collection(
        &mut self,
        tx: &mut Tx,
        id: &CollectionId,
        accept: Option<u8>,
    ) -> MResult {
        if id.is_default() || self.collections.contains_key(id) {
            return Err(Refused::code(ErrorCode::CollectionExists));
        }
        self.insert_collection(tx, id, accept);
        Ok(Answer::Collection)
    }

    /// `PATCH /v1/collections/{cid}` of `archived` or `accept`.
    pub fn update_collection(&mut self, tx: &mut Tx, id: &CollectionId, patch: Patch) -> MResult {
        if id.is_default() {
            return Err(validation());
        }
        existing(self, id)?;
        let c = self.collections.get_mut(id).unwrap();
        let before = (c.archived, c.accept);
        match patch {
            Patch::Archived(a) => c.archived = a,
            Patch::Accept(a) => c.accept = a,
        }
        if (c.archived, c.accept) != before {
            tx.events
                .push((EventKind::CollectionUpdated, Some(id.clone()), None));
        }
        Ok(Answer::Collection)
    }

    /// `DELETE /v1/collections/{cid}` (`trashed`) or `POST …/restore`.
    pub fn trash(&mut self, tx: &mut Tx, id: &CollectionId, trashed: bool) -> MResult {
        if id.is_default() {
            // Restoring `default` is a no-op; trashing it is refused.
            return if trashed {
                Err(validation())
            } else {
                Ok(Answer::Collection)
            };
        }
        let c = self
            .collections
            .get_mut(id)
            .ok_or(Refused::code(ErrorCode::CollectionNotFound))?;
        if c.trashed != trashed {
            c.trashed = trashed;
            let kind = if trashed {
                EventKind::CollectionTrashed
            } else {
                EventKind::CollectionRestored
            };
            tx.events.push((kind, Some(id.clone()), None));
        }
        Ok(Answer::Collection)
    }

    /// `DELETE /v1/collections/{cid}?purge=true`: only from the trash.
    pub fn purge(&mut self, tx: &mut Tx, id: &CollectionId) -> MResult {
        if id.is_default() {
            return Err(validation());
        }
        match self.collections.get(id) {
            None => return Err(Refused::code(ErrorCode::CollectionNotFound)),
            Some(c) if !c.trashed => return Err(validation()),
            Some(_) => {}
        }
        self.collections.remove(id);
        tx.events
            .push((EventKind::CollectionPurged, Some(id.clone()), None));
        Ok(Answer::Purged)
    }
}

impl MState {
    pub(crate) fn insert_collection(&mut self, tx: &mut Tx, id: &CollectionId, accept: Option<u8>) {
        self.incarnations += 1;
        self.collections.insert(
            id.clone(),
            MCollection {
                archived: false,
                trashed: false,
                accept,
                incarnation: self.incarnations,
                entries: BTreeMap::new(),
            },
        );
        tx.events
            .push((EventKind::CollectionCreated, Some(id.clone()), None));
    }

    /// The one way the model changes an entry: records what undo needs and the event.
    pub(crate) fn set_entry(
        &mut self,
        tx: &mut Tx,
        id: &CollectionId,
        item: usize,
        after: Option<MEntry>,
    ) {
        let c = self.collections.get_mut(id).unwrap();
        let before = c.entries.get(&item).cloned();
        let was = before.as_ref().is_some_and(|e| e.live);
        let is = after.as_ref().is_some_and(|e| e.live);
        let kind = match (was, is) {
            (false, true) => Some(EventKind::EntryAdded),
            (true, false) => Some(EventKind::EntryRemoved),
            (true, true) => Some(EventKind::EntryUpdated),
            (false, false) => None,
        };
        if let Some(kind) = kind {
            tx.events.push((kind, Some(id.clone()), Some(item)));
        }
        tx.touched.push(Touch {
            collection: id.clone(),
            incarnation: c.incarnation,
            item,
            before,
            after_stamp: after.as_ref().map(|e| e.stamp),
        });
        match after {
            Some(e) => c.entries.insert(item, e),
            None => c.entries.remove(&item),
        };
    }

    /// Collections out of the trash where the item is live, sorted.
    #[must_use]
    pub fn live_in(&self, item: usize) -> Vec<CollectionId> {
        self.collections
            .iter()
            .filter(|(_, c)| !c.trashed && c.is_live(item))
            .map(|(id, _)| id.clone())
            .collect()
    }
}
