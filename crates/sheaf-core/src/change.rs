//! One record's change: the unit a plan is made of, the store applies and the change feed
//! reports. It depends on the records alone: plans and events are built on it, not beside it.

use crate::model::{Collection, Entry, Item, Watch};

/// One record changed from `before` to `after`; `None` means absent. The store applies it
/// and keeps every index in step by comparing the two.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A collection created, updated, trashed, restored, or (to `None`) purged with all
    /// its entries.
    Collection {
        /// The state read when planning.
        before: Option<Collection>,
        /// The state to write.
        after: Option<Collection>,
    },
    /// An item created or updated.
    Item {
        /// The state read when planning.
        before: Option<Item>,
        /// The state to write.
        after: Option<Item>,
    },
    /// An entry created, updated, soft-deleted, revived, or (to `None`) erased by an undo.
    Entry {
        /// The state read when planning.
        before: Option<Entry>,
        /// The state to write.
        after: Option<Entry>,
    },
    /// A watch added, changed or (to `None`) removed.
    Watch {
        /// The state read when planning.
        before: Option<Watch>,
        /// The state to write.
        after: Option<Watch>,
    },
}
