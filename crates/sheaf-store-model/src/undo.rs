//! Undo: an op's entries back exactly as they were, or a conflict.

use std::collections::BTreeMap;

use sheaf_core::{CollectionId, ErrorCode};

use crate::{Answer, MResult, MState, Model, Refused, Touch, Tx, writable};

impl Model {
    /// SPEC §2.5 with decisions.md's "Undo": every entry the op touched goes back exactly to
    /// its state before it, unless one was changed since, the op was undone already, a
    /// restored unique id or position is now held by an entry the undo does not rewrite, or
    /// a collection it touched was purged (`UNDO_CONFLICT`), trashed or archived (that
    /// collection's code).
    pub fn undo(&self, s: &mut MState, tx: &mut Tx, k: Option<usize>) -> MResult {
        // Only the last `op_retention` ops are kept.
        let Some(k) = k.filter(|k| k + self.op_retention >= self.ops.len()) else {
            return Err(Refused::code(ErrorCode::OpNotFound));
        };
        let op = &self.ops[k];
        let conflict = Err(Refused::code(ErrorCode::UndoConflict));
        if op.undone {
            return conflict;
        }
        // The collection the op changed, if it is still there: a purged one is gone even
        // if a new collection took its slug since.
        let same = |t: &Touch| {
            s.collections
                .get(&t.collection)
                .filter(|c| c.incarnation == t.incarnation)
        };
        // Changed since.
        for t in &op.touched {
            let current = same(t).and_then(|c| c.entries.get(&t.item));
            if current.map(|e| e.stamp) != t.after_stamp {
                return conflict;
            }
        }
        // No restored unique id or position may be held by an entry the undo leaves alone.
        let mut after = s.clone();
        for t in &op.touched {
            if same(t).is_none() {
                continue;
            }
            let entries = &mut after.collections.get_mut(&t.collection).unwrap().entries;
            match &t.before {
                Some(e) => entries.insert(t.item, e.clone()),
                None => entries.remove(&t.item),
            };
        }
        for t in &op.touched {
            let (Some(b), Some(_)) = (&t.before, same(t)) else {
                continue;
            };
            let held = after.collections[&t.collection]
                .entries
                .iter()
                .filter(|(j, _)| **j != t.item)
                .any(|(_, e)| e.pos == b.pos || (b.live && e.live && e.unique_id == b.unique_id));
            if held {
                return conflict;
            }
        }
        // Then each collection, in id order: gone, trashed, archived.
        let mut touched: BTreeMap<&CollectionId, &Touch> = BTreeMap::new();
        for t in &op.touched {
            touched.entry(&t.collection).or_insert(t);
        }
        for (id, t) in touched {
            if same(t).is_none() {
                return conflict;
            }
            writable(s, id)?;
        }
        // Exactly as before, stamp included: successive undos walk back through history.
        for t in &op.touched {
            s.set_entry(tx, &t.collection, t.item, t.before.clone());
        }
        tx.logs_op = true;
        tx.undoes = Some(k);
        Ok(Answer::Undone {
            of: k,
            restored: op.touched.len() as u64,
        })
    }
}
