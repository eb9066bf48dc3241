//! Schema migrations, run by `Store::open` inside the one write transaction that opens
//! the database: a migration that fails aborts it, and the file stays as it was.

use redb::{ReadableTable, Table};
use serde::Deserialize;
use sheaf_core::{
    AcceptRule, Collection, CollectionId, Event, EventKind, Item, ItemId, OpId, Timestamp, WatchId,
};

use crate::error::StoreError;
use crate::schema::{
    CollectionRecord, FeedBlock, WriteTabs, decode, decode_item, encode, encode_item, hash_key,
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
    Ok(())
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
            .insert(ulid, encode_item(&item)?.as_slice())
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
        let record = CollectionRecord {
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
        let item = decode_item(v.value())?;
        if let Some(h) = item.content_hash.as_deref().and_then(hash_key) {
            hashed.push((h, k.value()));
        }
    }
    for key in hashed {
        t.hashes.insert(key, ()).map_err(StoreError::storage)?;
    }
    Ok(())
}
