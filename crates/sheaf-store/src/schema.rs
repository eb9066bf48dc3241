//! Tables, records and the schema version.
//!
//! Collections are interned to a numeric *handle*, so that every per-entry key is a fixed
//! 24 bytes (`handle`, item ULID) or 16 (`handle`, sort order) whatever the slug's length.
//!
//! | table | key → value | what for |
//! |---|---|---|
//! | `meta` | name → u64 | schema version, next seq, next handle, next numbers, last commit time |
//! | `collections` | slug → [`CollectionRecord`] | the collection, its handle and its number |
//! | `collection_numbers` | number → slug | a collection by its number: O(log n) |
//! | `handles` | handle → slug | reverse of the above |
//! | `counts` | handle → u64 | live entries: `item_count` in O(1) |
//! | `items` | ULID → (size, number, `Item`) | items |
//! | `item_numbers` | number → ULID | an item by its number: O(log n) |
//! | `paths` | path → ULID | path lookup (a deleted item keeps its last path until reused) |
//! | `entries` | (handle, ULID) → [`EntryRecord`] | entries, live and soft-deleted |
//! | `live_pos` | (handle, sort) → ULID | live entries in order: O(log n) seek to any page |
//! | `dead_pos` | (handle, sort) → ULID | soft-deleted entries in order |
//! | `members` | (ULID, handle) → () | an item's live memberships: O(k) |
//! | `unique` | (handle, `unique_id`) → ULID | uniqueness of live `unique_id`s |
//! | `unfiled` | ULID → () | the `default` view: present items in no live collection |
//! | `feed` | first seq → [`FeedBlock`] | the change feed, one block per commit |
//! | `ops` | ULID → `OpRecord` | the op log with inverses |
//! | `sorted` | (handle, order, key, ULID) → () | live entries by name, date added, size |
//! | `sorted_on` | handle → () | collections whose `sorted` rows are kept (built on the first sorted listing) |
//! | `watches` | ULID → `Watch` | folder watches (SPEC §3) |
//! | `hashes` | (hash prefix, ULID) → () | items by content: duplicates in O(log n) |
//! | `smart` | handle → () | the smart collections (SPEC §7.2), kept inside every write |
//! | `filling` | handle → ULID | smart collections still being filled: the next item to look at |
//! | `rules` | ULID → `Rule` | rules (SPEC §7.3) |
//! | `rule_names` | name → ULID | unique rule names |
//! | `rule_cursors` | ULID → seq | the last feed event each rule has handled |
//! | `rule_jobs` | (rule, seq) → `RuleJob` | outside actions committed but not yet carried out |
//! | `rule_runs` | (rule, run ULID) → `RuleRun` | each rule's recent runs |
//! | `rule_applies` | rule ULID → `Applying` | each rule's last `apply`, and where a running one stands |
//!
//! Item records are stored as `(size, number, Item)`, so that the size key of the `sorted`
//! table can be read without decoding the rest. Numbers (SPEC §1) come from a counter per
//! kind in `meta` that only ever goes up: a purged collection's number is never given again.
//!
//! Versions: 1 — the first; 2 — adds `sorted`, `sorted_on` and the size header of item
//! records (migrated in place on open, in one transaction); 3 — adds `watches` (created by
//! the opening transaction like every table; the bump keeps older builds, which would
//! ignore it, from opening the file); 4 — smart collections: a collection record carries
//! its query, a feed event the source of its entry and a commit its cause (a rule), and
//! `hashes`, `smart`, `filling` and the rule tables are added (`hashes` built from the items
//! when migrating); 5 — numbers: collection and item records carry theirs, indexed by
//! `collection_numbers` and `item_numbers` (the migration numbers what exists in creation
//! order).

use std::cell::OnceCell;

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sheaf_core::{
    Collection, CollectionId, Entry, EntryId, EntrySource, Event, ItemId, Metadata, OpId, Timestamp,
};

use crate::error::StoreError;

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: u64 = 5;

pub(crate) const FEED: TableDefinition<u64, &[u8]> = TableDefinition::new("feed");

pub(crate) const META_SCHEMA: &str = "schema_version";
pub(crate) const META_NEXT_SEQ: &str = "next_seq";
pub(crate) const META_FIRST_SEQ: &str = "first_seq";
pub(crate) const META_NEXT_HANDLE: &str = "next_handle";
pub(crate) const META_LAST_NOW: &str = "last_now";
pub(crate) const META_UNFILED: &str = "unfiled_count";
pub(crate) const META_OPS: &str = "op_count";
pub(crate) const META_CREATED: &str = "created_at";
pub(crate) const META_NEXT_COLLECTION_NUMBER: &str = "next_collection_number";
pub(crate) const META_NEXT_ITEM_NUMBER: &str = "next_item_number";

/// Declares the tables the state view reads, a trait over "something that has them open"
/// and its two implementations: one over a read transaction, one over a write transaction.
macro_rules! tables {
    ($($field:ident, $konst:ident, $name:literal: $k:ty => $v:ty;)*) => {
        $(pub(crate) const $konst: TableDefinition<$k, $v> = TableDefinition::new($name);)*

        /// Open tables that can be read.
        pub(crate) trait Tabs {
            $(
                #[allow(non_camel_case_types)]
                type $field: ReadableTable<$k, $v>;
                fn $field(&self) -> Result<&Self::$field, StoreError>;
            )*
        }

        /// The state tables of a read transaction, each opened on first use: most reads
        /// touch two or three of them.
        pub(crate) struct ReadTabs {
            txn: ReadTransaction,
            $($field: OnceCell<ReadOnlyTable<$k, $v>>,)*
        }

        impl ReadTabs {
            pub(crate) fn new(txn: ReadTransaction) -> Self {
                Self { txn, $($field: OnceCell::new(),)* }
            }

            /// The change feed (not part of the planning view).
            pub(crate) fn feed(&self) -> Result<ReadOnlyTable<u64, &'static [u8]>, StoreError> {
                self.txn.open_table(FEED).map_err(StoreError::table)
            }
        }

        impl Tabs for ReadTabs {
            $(
                type $field = ReadOnlyTable<$k, $v>;
                fn $field(&self) -> Result<&Self::$field, StoreError> {
                    if let Some(t) = self.$field.get() {
                        return Ok(t);
                    }
                    let table = self.txn.open_table($konst).map_err(StoreError::table)?;
                    Ok(self.$field.get_or_init(|| table))
                }
            )*
        }

        /// The state tables of a write transaction.
        pub(crate) struct WriteTabs<'t> {
            $(pub(crate) $field: Table<'t, $k, $v>,)*
        }

        impl<'t> WriteTabs<'t> {
            pub(crate) fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
                Ok(Self { $($field: txn.open_table($konst).map_err(StoreError::table)?,)* })
            }
        }

        impl<'t> Tabs for WriteTabs<'t> {
            $(
                type $field = Table<'t, $k, $v>;
                fn $field(&self) -> Result<&Self::$field, StoreError> { Ok(&self.$field) }
            )*
        }
    };
}

tables! {
    meta, META, "meta": &'static str => u64;
    collections, COLLECTIONS, "collections": &'static str => &'static [u8];
    handles, HANDLES, "handles": u64 => &'static str;
    counts, COUNTS, "counts": u64 => u64;
    items, ITEMS, "items": u128 => &'static [u8];
    paths, PATHS, "paths": &'static str => u128;
    entries, ENTRIES, "entries": (u64, u128) => &'static [u8];
    live_pos, LIVE_POS, "live_pos": (u64, i64) => u128;
    dead_pos, DEAD_POS, "dead_pos": (u64, i64) => u128;
    members, MEMBERS, "members": (u128, u64) => ();
    unique, UNIQUE, "unique": (u64, &'static str) => u128;
    unfiled, UNFILED, "unfiled": u128 => ();
    ops, OPS, "ops": u128 => &'static [u8];
    sorted, SORTED, "sorted": (u64, u8, &'static [u8], u128) => ();
    sorted_on, SORTED_ON, "sorted_on": u64 => ();
    watches, WATCHES, "watches": u128 => &'static [u8];
    hashes, HASHES, "hashes": (u128, u128) => ();
    smart, SMART, "smart": u64 => ();
    filling, FILLING, "filling": u64 => u128;
    rules, RULES, "rules": u128 => &'static [u8];
    rule_names, RULE_NAMES, "rule_names": &'static str => u128;
    rule_cursors, RULE_CURSORS, "rule_cursors": u128 => u64;
    rule_jobs, RULE_JOBS, "rule_jobs": (u128, u64) => &'static [u8];
    rule_runs, RULE_RUNS, "rule_runs": (u128, u128) => &'static [u8];
    rule_applies, RULE_APPLIES, "rule_applies": u128 => &'static [u8];
    collection_numbers, COLLECTION_NUMBERS, "collection_numbers": u64 => &'static str;
    item_numbers, ITEM_NUMBERS, "item_numbers": u64 => u128;
}

/// The key of an item's content hash in `hashes`: the hash's first 128 bits (its hex text
/// is 256). A shared prefix with a different hash is told apart by the item records.
pub(crate) fn hash_key(hash: &str) -> Option<u128> {
    hash.get(..32)
        .and_then(|h| u128::from_str_radix(h, 16).ok())
}

/// A collection as stored: its handle, its number and its fields (with `item_count` left
/// at 0; `counts` has it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CollectionRecord {
    pub(crate) handle: u64,
    pub(crate) number: u64,
    pub(crate) collection: Collection,
}

/// An entry as stored: everything but the two keys, which the table key holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EntryRecord {
    id: EntryId,
    item_prefix: sheaf_core::Kind,
    display_name: String,
    unique_id: String,
    metadata: Metadata,
    sort_order: i64,
    source: EntrySource,
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Option<Timestamp>,
}

impl EntryRecord {
    pub(crate) fn of(entry: &Entry) -> Self {
        Self {
            id: entry.id,
            item_prefix: entry.item_id.prefix_kind(),
            display_name: entry.display_name.clone(),
            unique_id: entry.unique_id.clone(),
            metadata: entry.metadata.clone(),
            sort_order: entry.sort_order,
            source: entry.source,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
            deleted_at: entry.deleted_at,
        }
    }

    pub(crate) fn into_entry(self, collection_id: CollectionId, item_ulid: u128) -> Entry {
        Entry {
            id: self.id,
            collection_id,
            item_id: ItemId::new(self.item_prefix, ulid::Ulid(item_ulid)),
            display_name: self.display_name,
            unique_id: self.unique_id,
            metadata: self.metadata,
            sort_order: self.sort_order,
            source: self.source,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        }
    }
}

/// The events of one commit; event `i` has `seq = key + i`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FeedBlock {
    pub(crate) at: Timestamp,
    pub(crate) op_id: Option<OpId>,
    pub(crate) events: Vec<Event>,
    /// The rule whose action the commit was (schema 4).
    pub(crate) cause: Option<sheaf_core::rule::Cause>,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(value).map_err(|e| StoreError::Encoding {
        what: "encode",
        detail: e.to_string(),
    })
}

/// An item record: its size first, then its number, then the item.
pub(crate) fn encode_item(item: &sheaf_core::Item, number: u64) -> Result<Vec<u8>, StoreError> {
    encode(&(item.size, number, item))
}

/// The item of an item record, with its number.
pub(crate) fn decode_item(bytes: &[u8]) -> Result<sheaf_core::Item, StoreError> {
    decode::<(u64, u64, sheaf_core::Item)>(bytes, "item").map(|(_, number, mut item)| {
        item.number = number;
        item
    })
}

/// The number of an item record, without decoding the item.
pub(crate) fn item_number(bytes: &[u8]) -> Result<u64, StoreError> {
    postcard::take_from_bytes::<(u64, u64)>(bytes)
        .map(|((_, number), _)| number)
        .map_err(|e| StoreError::Encoding {
            what: "item number",
            detail: e.to_string(),
        })
}

/// The size of an item record, without decoding the rest.
pub(crate) fn item_size(bytes: &[u8]) -> Result<u64, StoreError> {
    postcard::take_from_bytes::<u64>(bytes)
        .map(|(size, _)| size)
        .map_err(|e| StoreError::Encoding {
            what: "item size",
            detail: e.to_string(),
        })
}

pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Encoding {
        what,
        detail: e.to_string(),
    })
}
