//! Schema migrations, run by `Store::open` inside the one write transaction that opens
//! the database: a migration that fails aborts it, and the file stays as it was.

use redb::ReadableTable;
use sheaf_core::Item;

use crate::error::StoreError;
use crate::schema::{WriteTabs, decode, encode_item};

type Result<T> = std::result::Result<T, StoreError>;

/// Brings a database of schema `from` up to the current version.
pub(crate) fn run(t: &mut WriteTabs<'_>, from: u64) -> Result<()> {
    if from < 2 {
        v1_to_v2(t)?;
    }
    Ok(())
}

/// Version 2: item records get their size header. (The `sorted` rows of a collection are
/// built on its first sorted listing, as in a new database.)
fn v1_to_v2(t: &mut WriteTabs<'_>) -> Result<()> {
    let keys: Vec<u128> = t
        .items
        .iter()
        .map_err(StoreError::storage)?
        .map(|r| r.map(|(k, _)| k.value()).map_err(StoreError::storage))
        .collect::<Result<_>>()?;
    tracing::info!(items = keys.len(), "migrating the database to schema 2");
    for ulid in keys {
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
