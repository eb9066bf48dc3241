//! Helpers the store's integration tests share: a plain collection created, whole listings
//! read page by page through the public API, and the configuration of the property tests.

use proptest::test_runner::Config as ProptestConfig;
use sheaf_core::rules::NewCollection;
use sheaf_core::{CollectionId, EntryFilter, Item};
use sheaf_store::{EntryQuery, ItemQuery, Listed, Order, Store};

/// Creates the collection `slug` with every field defaulted.
pub(crate) fn create(store: &Store, slug: &str) {
    store
        .create_collection(&NewCollection {
            id: Some(CollectionId::parse(slug).unwrap()),
            ..NewCollection::default()
        })
        .unwrap();
}

/// Every entry of a collection in position order (soft-deleted ones too with `deleted`),
/// read 1000 at a time.
pub(crate) fn all_entries(store: &Store, id: &CollectionId, deleted: bool) -> Vec<Listed> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .entries(
                id,
                &EntryQuery {
                    cursor,
                    limit: 1000,
                    deleted,
                    filter: EntryFilter::default(),
                    order: Order::Position,
                    direction: sheaf_store::Direction::Asc,
                },
            )
            .unwrap()
            .unwrap_or_else(|| panic!("collection {id} is listed but has no entries page"));
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// Every item the store knows, deleted ones included, in id order.
pub(crate) fn all_items(store: &Store) -> Vec<Item> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .items(&ItemQuery {
                deleted: true,
                cursor,
                limit: 1000,
                ..ItemQuery::default()
            })
            .unwrap()
            .unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// The property tests' configuration: 64 cases, which a debug build runs in seconds (CI
/// runs them so), or `PROPTEST_CASES` for a longer hunt; failures are not persisted to a
/// file (pin a shrunk case as a plain `#[test]`).
pub(crate) fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
