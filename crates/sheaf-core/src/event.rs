use serde::{Deserialize, Serialize};

use crate::change::Change;
use crate::id::{CollectionId, ItemId, RuleId, WatchId};
use crate::model::EntrySource;

/// What happened, as the change feed names it (SPEC §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A file became known.
    #[serde(rename = "item.created")]
    ItemCreated,
    /// An item's fields changed.
    #[serde(rename = "item.updated")]
    ItemUpdated,
    /// An item's file disappeared.
    #[serde(rename = "item.deleted")]
    ItemDeleted,
    /// An item's file came back.
    #[serde(rename = "item.restored")]
    ItemRestored,
    /// An entry became live (new or revived).
    #[serde(rename = "entry.added")]
    EntryAdded,
    /// A live entry changed.
    #[serde(rename = "entry.updated")]
    EntryUpdated,
    /// A live entry was removed (soft-deleted or undone).
    #[serde(rename = "entry.removed")]
    EntryRemoved,
    /// A collection was created.
    #[serde(rename = "collection.created")]
    CollectionCreated,
    /// A collection's fields changed.
    #[serde(rename = "collection.updated")]
    CollectionUpdated,
    /// A collection went to the trash.
    #[serde(rename = "collection.trashed")]
    CollectionTrashed,
    /// A collection came out of the trash.
    #[serde(rename = "collection.restored")]
    CollectionRestored,
    /// A collection was deleted for good.
    #[serde(rename = "collection.purged")]
    CollectionPurged,
    /// A watch was added.
    #[serde(rename = "watch.added")]
    WatchAdded,
    /// A watch changed state.
    #[serde(rename = "watch.updated")]
    WatchUpdated,
    /// A watch was removed.
    #[serde(rename = "watch.removed")]
    WatchRemoved,
    /// A rule ran for an item, every action done (SPEC §7.3).
    #[serde(rename = "rule.ran")]
    RuleRan,
    /// A rule's run failed: an action was refused or failed, or a chain of rules was
    /// stopped.
    #[serde(rename = "rule.failed")]
    RuleFailed,
    /// A rule's `apply` took up an existing item (SPEC §7.3): its store actions commit
    /// with this event, and its outside actions are given it as the event they run for.
    #[serde(rename = "rule.applied")]
    RuleApplied,
}

/// One change-feed event, before the store stamps it with `seq`, `at` and `op_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The collection concerned, if any.
    pub collection_id: Option<CollectionId>,
    /// The item concerned, if any.
    pub item_id: Option<ItemId>,
    /// The watch concerned, if any.
    pub watch_id: Option<WatchId>,
    /// Who owns the entry, for `entry.*` events: `manual`, `folder:<wid>`, `query` (a smart
    /// collection keeps it), `rule:<rid>`.
    pub source: Option<EntrySource>,
    /// The rule, for `rule.*` events.
    pub rule_id: Option<RuleId>,
}

impl Event {
    fn new(kind: EventKind, collection_id: Option<CollectionId>, item_id: Option<ItemId>) -> Self {
        Self {
            kind,
            collection_id,
            item_id,
            watch_id: None,
            source: None,
            rule_id: None,
        }
    }

    /// A rule's run: `rule.ran` or `rule.failed` (`ok` says which), for an item.
    #[must_use]
    pub fn rule_run(rule: RuleId, item: Option<ItemId>, ok: bool) -> Self {
        Self {
            rule_id: Some(rule),
            ..Self::new(
                if ok {
                    EventKind::RuleRan
                } else {
                    EventKind::RuleFailed
                },
                None,
                item,
            )
        }
    }

    /// A rule's `apply` taking up an item.
    #[must_use]
    pub fn rule_applied(rule: RuleId, item: ItemId) -> Self {
        Self {
            rule_id: Some(rule),
            ..Self::new(EventKind::RuleApplied, None, Some(item))
        }
    }

    /// The event a change emits, if it is visible at all (a soft-deleted entry purged by an
    /// undo emits nothing: it was not visible before either).
    #[must_use]
    pub fn of_change(change: &Change) -> Option<Event> {
        use EventKind as K;
        match change {
            Change::Collection { before, after } => {
                let (kind, id) = match (before, after) {
                    (None, Some(a)) => (K::CollectionCreated, &a.id),
                    (Some(b), None) => (K::CollectionPurged, &b.id),
                    (Some(b), Some(a)) => {
                        let kind = match (b.trashed_at, a.trashed_at) {
                            (None, Some(_)) => K::CollectionTrashed,
                            (Some(_), None) => K::CollectionRestored,
                            _ => K::CollectionUpdated,
                        };
                        (kind, &a.id)
                    }
                    (None, None) => return None,
                };
                Some(Event::new(kind, Some(id.clone()), None))
            }
            Change::Item { before, after } => {
                let (kind, id) = match (before, after) {
                    (None, Some(a)) => (K::ItemCreated, a.id),
                    (Some(b), None) => (K::ItemDeleted, b.id),
                    (Some(b), Some(a)) => {
                        let kind = match (b.deleted_at, a.deleted_at) {
                            (None, Some(_)) => K::ItemDeleted,
                            (Some(_), None) => K::ItemRestored,
                            _ => K::ItemUpdated,
                        };
                        (kind, a.id)
                    }
                    (None, None) => return None,
                };
                Some(Event::new(kind, None, Some(id)))
            }
            Change::Entry { before, after } => {
                let was_live = before.as_ref().is_some_and(crate::Entry::is_live);
                let is_live = after.as_ref().is_some_and(crate::Entry::is_live);
                let kind = match (was_live, is_live) {
                    (false, true) => K::EntryAdded,
                    (true, false) => K::EntryRemoved,
                    (true, true) => K::EntryUpdated,
                    (false, false) => return None,
                };
                let entry = after.as_ref().or(before.as_ref())?;
                Some(Event {
                    source: Some(entry.source),
                    ..Event::new(kind, Some(entry.collection_id.clone()), Some(entry.item_id))
                })
            }
            Change::Watch { before, after } => {
                let (kind, watch) = match (before, after) {
                    (None, Some(a)) => (K::WatchAdded, a),
                    (Some(b), None) => (K::WatchRemoved, b),
                    (Some(_), Some(a)) => (K::WatchUpdated, a),
                    (None, None) => return None,
                };
                Some(Event {
                    kind,
                    collection_id: Some(watch.collection_id.clone()),
                    item_id: None,
                    watch_id: Some(watch.id),
                    source: None,
                    rule_id: None,
                })
            }
        }
    }
}
