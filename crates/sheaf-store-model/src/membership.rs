//! Membership: batch add and move, single add, remove, reorder, entry patch.

use std::collections::{BTreeMap, BTreeSet};

use sheaf_core::rules::Mode;
use sheaf_core::{BatchSummary, CollectionId, ErrorCode, RemoveSummary};

use crate::{
    Answer, MBatch, MEntry, MItems, MRef, MResult, MState, Model, Refused, Tx, existing, resolve,
    validation, writable,
};

impl Model {
    /// SPEC §2.1 with decisions.md's "Membership rules".
    pub fn batch_add(&self, s: &mut MState, tx: &mut Tx, req: &MBatch) -> MResult {
        let target = &req.target;
        if req.mode == Mode::Link && (req.from.is_some() || target.is_default()) {
            return Err(validation());
        }
        if !target.is_default() {
            if s.collections.contains_key(target) {
                writable(s, target)?;
            } else if req.create {
                s.insert_collection(tx, target, None);
            } else {
                return Err(Refused::code(ErrorCode::CollectionNotFound));
            }
        }
        // A select move takes from the selected collection.
        let from = match (&req.from, &req.items) {
            (Some(f), _) => Some(f.clone()),
            (None, MItems::Select { source, .. }) if req.mode == Mode::Move && source != target => {
                Some(source.clone())
            }
            _ => None,
        };
        if let Some(f) = &from {
            if f == target {
                return Err(validation());
            }
            if !f.is_default() {
                writable(s, f)?;
            }
        }
        let refs: Vec<MRef> = match &req.items {
            MItems::Refs(refs) => refs.clone(),
            MItems::Select { source, kind } => {
                // The selection reads the state before the request: a collection this
                // request creates does not exist yet to select from.
                if !source.is_default() {
                    existing(&self.state, source)?;
                }
                self.select(s, source, *kind)
                    .into_iter()
                    .map(|i| MRef {
                        item: Some(i),
                        shown: self.items[i].id.to_string(),
                        display_name: None,
                        unique_id: None,
                    })
                    .collect()
            }
        };
        let planned = resolve(&refs)?;

        // Sources of a move, per planned item.
        let mut sources: Vec<Vec<CollectionId>> = vec![Vec::new(); planned.len()];
        let mut already_unfiled = 0;
        if req.mode == Mode::Move {
            let mut not_in_source = Vec::new();
            let mut archived = BTreeSet::new();
            for ((i, _), src) in planned.iter().zip(&mut sources) {
                let live = s.live_in(*i);
                if live.is_empty() {
                    already_unfiled += 1;
                }
                match &from {
                    Some(f) if f.is_default() => {
                        if !live.is_empty() {
                            not_in_source.push(self.items[*i].id.to_string());
                        }
                    }
                    Some(f) => {
                        if live.contains(f) {
                            src.push(f.clone());
                        } else {
                            not_in_source.push(self.items[*i].id.to_string());
                        }
                    }
                    // Out of every other collection; archived ones refuse.
                    None => {
                        for c in live.into_iter().filter(|c| c != target) {
                            if s.collections[&c].archived {
                                archived.insert(c.to_string());
                            } else {
                                src.push(c);
                            }
                        }
                    }
                }
            }
            if !not_in_source.is_empty() {
                return Err(Refused::ids(ErrorCode::NotInSource, not_in_source));
            }
            if !archived.is_empty() {
                return Err(Refused::ids(
                    ErrorCode::CollectionArchived,
                    archived.into_iter().collect(),
                ));
            }
        }

        let total = planned.len() as u64;
        let mut summary = BatchSummary {
            total,
            succeeded: total,
            ..BatchSummary::default()
        };
        if target.is_default() {
            summary.already_in_collection = already_unfiled;
            summary.added = total - already_unfiled;
        } else {
            let t = &s.collections[target];
            let refused: Vec<String> = planned
                .iter()
                .filter(|(i, _)| !t.is_live(*i) && !t.accepts(&self.items[*i]))
                .map(|(i, _)| self.items[*i].id.to_string())
                .collect();
            if !refused.is_empty() {
                return Err(Refused::ids(ErrorCode::ItemNotAllowed, refused));
            }
            // Unique ids held by live entries, and claimed by this batch.
            let mut taken: BTreeMap<String, usize> = t
                .entries
                .iter()
                .filter(|(_, e)| e.live)
                .map(|(i, e)| (e.unique_id.clone(), *i))
                .collect();
            let mut next_pos = t.entries.values().map(|e| e.pos).max().unwrap_or(0) + 1;
            let mut serials = s.serials;
            let mut conflicts = Vec::new();
            let mut new_entries = Vec::new();
            for ((i, r), src) in planned.iter().zip(&sources) {
                if t.is_live(*i) {
                    summary.already_in_collection += 1;
                    continue;
                }
                let item = &self.items[*i];
                // A moved entry carries its source's annotations (over those of a
                // soft-deleted entry it revives); a revived one keeps its own.
                let carried = src
                    .first()
                    .map(|c| &s.collections[c].entries[i])
                    .or(t.entries.get(i));
                let free = |uid: &str| taken.get(uid).is_none_or(|h| h == i);
                let unique_id = match &r.unique_id {
                    Some(uid) if free(uid) => uid.clone(),
                    Some(uid) => {
                        conflicts.push(uid.clone());
                        continue;
                    }
                    None => {
                        let default =
                            carried.map_or(item.file_name.as_str(), |e| e.unique_id.as_str());
                        // A defaulted unique id never blocks an add.
                        if free(default) {
                            default.to_owned()
                        } else if free(&item.id.to_string()) {
                            item.id.to_string()
                        } else {
                            conflicts.push(default.to_owned());
                            continue;
                        }
                    }
                };
                taken.insert(unique_id.clone(), *i);
                let display_name = r
                    .display_name
                    .clone()
                    .or_else(|| carried.map(|e| e.display_name.clone()))
                    .unwrap_or_else(|| item.file_name.clone());
                // A revival keeps the entry's identity; anything else is a new entry.
                let (serial, created) = if let Some(old) = t.entries.get(i) {
                    (old.serial, old.created)
                } else {
                    serials += 1;
                    (serials, s.tick)
                };
                new_entries.push((
                    *i,
                    MEntry {
                        serial,
                        live: true,
                        unique_id,
                        display_name,
                        pos: next_pos,
                        created,
                        stamp: s.tick,
                    },
                ));
                next_pos += 1;
                summary.added += 1;
            }
            if !conflicts.is_empty() {
                return Err(Refused::ids(ErrorCode::UniqueIdConflict, conflicts));
            }
            s.serials = serials;
            for (i, e) in new_entries {
                s.set_entry(tx, target, i, Some(e));
            }
        }
        let mut by_kind = BTreeMap::new();
        for ((i, _), src) in planned.iter().zip(&sources) {
            *by_kind.entry(self.items[*i].kind).or_insert(0) += 1;
            if !src.is_empty() {
                summary.moved += 1;
            }
            for c in src {
                let mut e = s.collections[c].entries[i].clone();
                e.live = false;
                e.stamp = s.tick;
                s.set_entry(tx, c, *i, Some(e));
            }
        }
        tx.logs_op = true;
        Ok(Answer::Batch(summary, by_kind))
    }

    /// The single add: a one-item link, but an item already live there is refused.
    pub fn add_one(&self, s: &mut MState, tx: &mut Tx, id: &CollectionId, r: &MRef) -> MResult {
        if !id.is_default() {
            let c = writable(s, id)?;
            if let Some(i) = r.item.filter(|i| c.is_live(*i)) {
                return Err(Refused::ids(
                    ErrorCode::AlreadyInCollection,
                    vec![self.items[i].id.to_string()],
                ));
            }
        }
        let req = MBatch {
            target: id.clone(),
            items: MItems::Refs(vec![r.clone()]),
            mode: Mode::Link,
            from: None,
            create: false,
        };
        self.batch_add(s, tx, &req)?;
        let e = &s.collections[id].entries[&r.item.unwrap()];
        Ok(Answer::Entry {
            unique_id: e.unique_id.clone(),
            display_name: e.display_name.clone(),
        })
    }

    /// A soft remove: an entry already soft-deleted counts as `already_removed`.
    pub fn remove(&self, s: &mut MState, tx: &mut Tx, id: &CollectionId, refs: &[MRef]) -> MResult {
        if id.is_default() {
            return Err(validation());
        }
        let c = writable(s, id)?;
        let items = resolve(refs)?;
        let mut summary = RemoveSummary {
            total: items.len() as u64,
            ..RemoveSummary::default()
        };
        let mut missing = Vec::new();
        let mut removing = Vec::new();
        for (i, _) in &items {
            match c.entries.get(i) {
                None => missing.push(self.items[*i].id.to_string()),
                Some(e) if !e.live => summary.already_removed += 1,
                Some(e) => removing.push((*i, e.clone())),
            }
        }
        if !missing.is_empty() {
            return Err(Refused::ids(ErrorCode::EntryNotFound, missing));
        }
        for (i, mut e) in removing {
            e.live = false;
            e.stamp = s.tick;
            s.set_entry(tx, id, i, Some(e));
            summary.removed += 1;
        }
        tx.logs_op = true;
        Ok(Answer::Removed(summary))
    }

    /// Reorder to the front: the given items first, in the given order, before every
    /// entry (soft-deleted ones included).
    pub fn reorder(
        &self,
        s: &mut MState,
        tx: &mut Tx,
        id: &CollectionId,
        refs: &[MRef],
    ) -> MResult {
        if id.is_default() {
            return Err(validation());
        }
        let c = writable(s, id)?;
        let items = resolve(refs)?;
        let missing: Vec<String> = items
            .iter()
            .filter(|(i, _)| !c.is_live(*i))
            .map(|(i, _)| self.items[*i].id.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Refused::ids(ErrorCode::EntryNotFound, missing));
        }
        let front = c.entries.values().map(|e| e.pos).min().unwrap_or(0);
        let n = items.len() as i64;
        let moved: Vec<(usize, MEntry)> = items
            .iter()
            .zip(0..)
            .map(|((i, _), k)| {
                let mut e = c.entries[i].clone();
                e.pos = front - (n - k);
                e.stamp = s.tick;
                (*i, e)
            })
            .collect();
        for (i, e) in moved {
            s.set_entry(tx, id, i, Some(e));
        }
        tx.logs_op = true;
        Ok(Answer::Reordered(n as u64))
    }

    /// `PATCH` of an entry's display name or unique id.
    pub fn patch(&self, s: &mut MState, tx: &mut Tx, id: &CollectionId, r: &MRef) -> MResult {
        if id.is_default() {
            return Err(validation());
        }
        let c = writable(s, id)?;
        let Some(i) = r.item else {
            return Err(Refused::ids(
                ErrorCode::ItemsNotFound,
                vec![r.shown.clone()],
            ));
        };
        let Some(before) = c.entries.get(&i).filter(|e| e.live) else {
            return Err(Refused::ids(
                ErrorCode::EntryNotFound,
                vec![self.items[i].id.to_string()],
            ));
        };
        let mut after = before.clone();
        if let Some(name) = &r.display_name {
            after.display_name.clone_from(name);
        }
        if let Some(uid) = &r.unique_id {
            let held = c
                .entries
                .iter()
                .any(|(j, e)| *j != i && e.live && e.unique_id == *uid);
            if held {
                return Err(Refused::ids(ErrorCode::UniqueIdConflict, vec![uid.clone()]));
            }
            after.unique_id.clone_from(uid);
        }
        let answer = Answer::Entry {
            unique_id: after.unique_id.clone(),
            display_name: after.display_name.clone(),
        };
        if after != *before {
            after.stamp = s.tick;
            s.set_entry(tx, id, i, Some(after));
        }
        tx.logs_op = true;
        Ok(answer)
    }
}
