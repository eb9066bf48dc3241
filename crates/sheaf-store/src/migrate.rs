//! Schema migrations, run by `Store::open` inside the one write transaction that opens
//! the database: a migration that fails aborts it, and the file stays as it was.

use redb::{ReadableTable, Table};
use serde::{Deserialize, Serialize};
use sheaf_core::{
    AcceptRule, Collection, CollectionId, Event, EventKind, Item, ItemId, OpId, Timestamp, WatchId,
};

use crate::apply::take_number;
use crate::error::StoreError;
use crate::schema::{
    CollectionRecord, FeedBlock, META_NEXT_COLLECTION_NUMBER, META_NEXT_ITEM_NUMBER, WriteTabs,
    decode, encode, encode_item, hash_key,
};

type Result<T> = std::result::Result<T, StoreError>;

/// Brings a database of schema `from` up to the current version.
pub(crate) fn run(
    t: &mut WriteTabs<'_>,
    feed: &mut Table<'_, u64, &'static [u8]>,
    from: u64,
) -> Result<()> {
    if from < 2 {
        v1_to_v2(t)?;
    }
    if from < 4 {
        v3_to_v4(t, feed)?;
    }
    if from < 5 {
        v4_to_v5(t)?;
    }
    Ok(())
}

/// An item record as schemas 2 to 4 stored it: its size, then the item (whose encoding
/// has not changed since: its number is kept beside it).
fn encode_item_v4(item: &Item) -> Result<Vec<u8>> {
    encode(&(item.size, item))
}

fn decode_item_v4(bytes: &[u8]) -> Result<Item> {
    decode::<(u64, Item)>(bytes, "item (schema 4)").map(|(_, item)| item)
}

/// The keys of a table, read before it is rewritten.
fn keys<K, V>(table: &Table<'_, K, V>) -> Result<Vec<K::SelfType<'static>>>
where
    K: redb::Key + 'static,
    for<'a> K::SelfType<'a>: ToOwned<Owned = K::SelfType<'static>>,
    V: redb::Value + 'static,
{
    table
        .iter()
        .map_err(StoreError::storage)?
        .map(|r| {
            r.map(|(k, _)| k.value().to_owned())
                .map_err(StoreError::storage)
        })
        .collect()
}

/// Version 2: item records get their size header. (The `sorted` rows of a collection are
/// built on its first sorted listing, as in a new database.)
fn v1_to_v2(t: &mut WriteTabs<'_>) -> Result<()> {
    let ulids = keys(&t.items)?;
    tracing::info!(items = ulids.len(), "migrating the database to schema 2");
    for ulid in ulids {
        let bytes = match t.items.get(ulid).map_err(StoreError::storage)? {
            Some(v) => v.value().to_vec(),
            None => continue,
        };
        let item: Item = decode(&bytes, "item (schema 1)")?;
        t.items
            .insert(ulid, encode_item_v4(&item)?.as_slice())
            .map_err(StoreError::storage)?;
    }
    Ok(())
}

/// A feed event as schema 3 stored it: without the source of its entry.
#[derive(Deserialize)]
struct EventV3 {
    kind: EventKind,
    collection_id: Option<CollectionId>,
    item_id: Option<ItemId>,
    watch_id: Option<WatchId>,
}

#[derive(Deserialize)]
struct FeedBlockV3 {
    at: Timestamp,
    op_id: Option<OpId>,
    events: Vec<EventV3>,
}

/// A collection as schema 3 stored it: before smart collections.
#[derive(Deserialize)]
struct CollectionV3 {
    id: CollectionId,
    name: String,
    description: String,
    archived: bool,
    accept: Option<Vec<AcceptRule>>,
    trashed_at: Option<Timestamp>,
    item_count: u64,
    folders: Vec<WatchId>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Deserialize)]
struct CollectionRecordV3 {
    handle: u64,
    collection: CollectionV3,
}

/// Version 4: collections may be smart (every stored one is not), feed events carry their
/// entry's source (unknown for the events before, which keep none), and `hashes` indexes
/// the items by content.
fn v3_to_v4(t: &mut WriteTabs<'_>, feed: &mut Table<'_, u64, &'static [u8]>) -> Result<()> {
    let mut collections = Vec::new();
    for r in t.collections.iter().map_err(StoreError::storage)? {
        let (k, v) = r.map_err(StoreError::storage)?;
        let old: CollectionRecordV3 = decode(v.value(), "collection (schema 3)")?;
        let c = old.collection;
        let record = CollectionRecordV4 {
            handle: old.handle,
            collection: Collection {
                id: c.id,
                name: c.name,
                description: c.description,
                archived: c.archived,
                accept: c.accept,
                trashed_at: c.trashed_at,
                item_count: c.item_count,
                folders: c.folders,
                created_at: c.created_at,
                updated_at: c.updated_at,
                query: None,
                filling: false,
                number: 0,
            },
        };
        collections.push((k.value().to_owned(), encode(&record)?));
    }
    for (slug, bytes) in collections {
        t.collections
            .insert(slug.as_str(), bytes.as_slice())
            .map_err(StoreError::storage)?;
    }
    let blocks = keys(feed)?;
    tracing::info!(blocks = blocks.len(), "migrating the database to schema 4");
    for key in blocks {
        let bytes = match feed.get(key).map_err(StoreError::storage)? {
            Some(v) => v.value().to_vec(),
            None => continue,
        };
        let old: FeedBlockV3 = decode(&bytes, "feed block (schema 3)")?;
        let block = FeedBlock {
            at: old.at,
            op_id: old.op_id,
            events: old
                .events
                .into_iter()
                .map(|e| Event {
                    kind: e.kind,
                    collection_id: e.collection_id,
                    item_id: e.item_id,
                    watch_id: e.watch_id,
                    source: None,
                    rule_id: None,
                })
                .collect(),
            cause: None,
        };
        feed.insert(key, encode(&block)?.as_slice())
            .map_err(StoreError::storage)?;
    }
    let mut hashed = Vec::new();
    for r in t.items.iter().map_err(StoreError::storage)? {
        let (k, v) = r.map_err(StoreError::storage)?;
        let item = decode_item_v4(v.value())?;
        if let Some(h) = item.content_hash.as_deref().and_then(hash_key) {
            hashed.push((h, k.value()));
        }
    }
    for key in hashed {
        t.hashes.insert(key, ()).map_err(StoreError::storage)?;
    }
    Ok(())
}

/// A collection record as schema 4 stored it: without its number (the collection's own
/// encoding has not changed since).
#[derive(Serialize, Deserialize)]
struct CollectionRecordV4 {
    handle: u64,
    collection: Collection,
}

/// Version 5: every collection and item gets its number, in creation order (`created_at`,
/// then id), and the counters go on from there.
fn v4_to_v5(t: &mut WriteTabs<'_>) -> Result<()> {
    let mut collections = Vec::new();
    for r in t.collections.iter().map_err(StoreError::storage)? {
        let (_, v) = r.map_err(StoreError::storage)?;
        let old: CollectionRecordV4 = decode(v.value(), "collection (schema 4)")?;
        collections.push(old);
    }
    collections.sort_by(|a, b| {
        (a.collection.created_at, &a.collection.id)
            .cmp(&(b.collection.created_at, &b.collection.id))
    });
    for old in collections {
        let number = take_number(t, META_NEXT_COLLECTION_NUMBER)?;
        let slug = old.collection.id.as_str();
        t.collection_numbers
            .insert(number, slug)
            .map_err(StoreError::storage)?;
        let record = CollectionRecord {
            handle: old.handle,
            number,
            collection: old.collection,
        };
        t.collections
            .insert(record.collection.id.as_str(), encode(&record)?.as_slice())
            .map_err(StoreError::storage)?;
    }

    // Items by creation: a key per item first (the records are read one at a time).
    let mut order = Vec::new();
    for r in t.items.iter().map_err(StoreError::storage)? {
        let (k, v) = r.map_err(StoreError::storage)?;
        order.push((decode_item_v4(v.value())?.created_at, k.value()));
    }
    order.sort_unstable();
    tracing::info!(
        items = order.len(),
        "migrating the database to schema 5: numbering items and collections"
    );
    let mut number = 0;
    for (_, ulid) in order {
        let bytes = match t.items.get(ulid).map_err(StoreError::storage)? {
            Some(v) => v.value().to_vec(),
            None => continue,
        };
        let item = decode_item_v4(&bytes)?;
        number += 1;
        t.item_numbers
            .insert(number, ulid)
            .map_err(StoreError::storage)?;
        t.items
            .insert(ulid, encode_item(&item, number)?.as_slice())
            .map_err(StoreError::storage)?;
    }
    t.meta
        .insert(META_NEXT_ITEM_NUMBER, number + 1)
        .map_err(StoreError::storage)?;
    Ok(())
}
