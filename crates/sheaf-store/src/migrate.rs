//! Schema migrations, run by `Store::open` inside the one write transaction that opens
//! the database: a migration that fails aborts it, and the file stays as it was.

use std::collections::HashMap;

use redb::ReadableTable;
use sheaf_core::{CollectionId, Item};

use crate::error::StoreError;
use crate::order;
use crate::schema::{EntryRecord, WriteTabs, decode, encode_item};

type Result<T> = std::result::Result<T, StoreError>;

/// Brings a database of schema `from` up to the current version.
pub(crate) fn run(t: &mut WriteTabs<'_>, from: u64) -> Result<()> {
    if from < 2 {
        v1_to_v2(t)?;
    }
    Ok(())
}

/// Version 2: item records get their size header, and the `sorted` rows of every live
/// entry are built.
fn v1_to_v2(t: &mut WriteTabs<'_>) -> Result<()> {
    let keys: Vec<u128> = t
        .items
        .iter()
        .map_err(StoreError::storage)?
        .map(|r| r.map(|(k, _)| k.value()).map_err(StoreError::storage))
        .collect::<Result<_>>()?;
    tracing::info!(items = keys.len(), "migrating the database to schema 2");
    let mut sizes = HashMap::with_capacity(keys.len());
    for ulid in keys {
        let bytes = match t.items.get(ulid).map_err(StoreError::storage)? {
            Some(v) => v.value().to_vec(),
            None => continue,
        };
        let item: Item = decode(&bytes, "item (schema 1)")?;
        sizes.insert(ulid, item.size);
        t.items
            .insert(ulid, encode_item(&item)?.as_slice())
            .map_err(StoreError::storage)?;
    }
    let entries: Vec<(u64, u128)> = t
        .entries
        .iter()
        .map_err(StoreError::storage)?
        .map(|r| r.map(|(k, _)| k.value()).map_err(StoreError::storage))
        .collect::<Result<_>>()?;
    for (handle, ulid) in entries {
        let record: EntryRecord =
            match t.entries.get((handle, ulid)).map_err(StoreError::storage)? {
                Some(v) => decode(v.value(), "entry")?,
                None => continue,
            };
        // The sort keys do not depend on the collection id.
        let entry = record.into_entry(CollectionId::default_collection(), ulid);
        if entry.is_live() {
            order::index(
                t,
                handle,
                &entry,
                sizes.get(&ulid).copied().unwrap_or(0),
                true,
            )?;
        }
    }
    Ok(())
}
