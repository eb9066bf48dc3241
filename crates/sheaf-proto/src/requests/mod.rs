//! Request bodies and query strings, and their conversion into the core's requests. A
//! conversion checks what the wire alone can check (ids, slugs, paths, which fields go
//! together) and answers the SPEC's error codes with the field's location.
//!
//! One module per resource, as the daemon's `api/` has them; everything is re-exported here.

mod collections;
mod entries;
mod ids;
mod items;
mod misc;
mod rules;
mod watches;

pub use collections::{
    CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams, MAX_ACCEPT_RULES,
};
pub use entries::{
    BatchAddBody, BatchMode, EntryCreateBody, EntryListParams, EntryPatchBody, EntrySort, ItemRef,
    ItemRefFields, ListOrder, RemoveBody, ReorderBody, Select,
};
pub use ids::{collection_in_path, id_in_path, item_in_path};
pub use items::{DuplicateParams, ItemListParams, ItemPatchBody, RegisterBody};
pub use misc::{EventParams, OpListParams};
pub use rules::{
    RuleBody, RulePatchBody, RuleRunParams, RuleTestParams, WebhookBody, patched_rule_spec,
    rule_spec,
};
pub use watches::{WatchCreateBody, WatchDeleteParams};
