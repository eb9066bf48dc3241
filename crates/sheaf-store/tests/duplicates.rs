//! Groups of duplicates (SPEC §7.2, `GET /v1/duplicates`): live items that share a content
//! hash, read from the `hashes` index and confirmed on the full hash, the most wasted space
//! first.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used)]

use redb::backends::InMemoryBackend;
use sheaf_core::rules::FolderChange;
use sheaf_core::{FileFacts, ItemId, Outcome, Timestamp};
use sheaf_store::{Options, Store};

fn store() -> Store {
    let options = Options {
        durable: false,
        ..Options::default()
    };
    Store::open_backend(InMemoryBackend::new(), options).unwrap()
}

/// A 256-bit hex hash: `head` repeated over the first 128 bits, `tail` over the rest.
fn hash(head: char, tail: char) -> String {
    format!(
        "{}{}",
        head.to_string().repeat(32),
        tail.to_string().repeat(32)
    )
}

/// Registers files of these sizes and records these hashes for them; answers their ids.
fn hashed(store: &Store, files: &[(&str, u64, &str)]) -> Vec<ItemId> {
    let facts: Vec<FileFacts> = files
        .iter()
        .map(|(path, size, _)| FileFacts {
            path: (*path).into(),
            size: *size,
            mtime: Timestamp::from_micros(1),
            content_type: "text/plain".into(),
            file_id: None,
        })
        .collect();
    let Outcome::Items(ids) = store.register(&facts).unwrap().outcome else {
        panic!("register answers items")
    };
    let changes: Vec<FolderChange> = ids
        .iter()
        .zip(files)
        .map(|(id, (_, size, h))| FolderChange::Hashed {
            item: *id,
            size: *size,
            mtime: Timestamp::from_micros(1),
            hash: (*h).to_owned(),
        })
        .collect();
    store.sync(&changes).unwrap();
    ids
}

#[test]
fn duplicates_are_grouped_by_full_hash_among_live_items_the_most_wasted_space_first() {
    let store = store();
    let (a, b, c, d) = (
        hash('a', '0'),
        hash('b', '0'),
        hash('c', '0'),
        hash('d', '0'),
    );
    // Same first 128 bits, different hashes: not copies of each other.
    let (e1, e2) = (hash('e', '1'), hash('e', '2'));
    let ids = hashed(
        &store,
        &[
            ("/f/a1", 100, &a),
            ("/f/b1", 500, &b),
            ("/f/a2", 100, &a),
            ("/f/c1", 200, &c),
            ("/f/a3", 100, &a),
            ("/f/b2", 500, &b),
            ("/f/c2", 200, &c),
            ("/f/d1", 700, &d),
            ("/f/e1", 900, &e1),
            ("/f/e2", 900, &e2),
            ("/f/f1", 800, &hash('f', '0')),
            ("/f/f2", 800, &hash('f', '0')),
        ],
    );
    // A copy whose file is gone is no longer a copy.
    store
        .sync(&[FolderChange::Gone {
            path: "/f/f2".into(),
        }])
        .unwrap();

    let groups = store.duplicates(100).unwrap();
    let shape: Vec<(&str, u64, u64, Vec<ItemId>)> = groups
        .iter()
        .map(|g| {
            (
                g.content_hash.as_str(),
                g.size,
                g.wasted(),
                g.items.iter().map(|i| i.id).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (b.as_str(), 500, 500, vec![ids[1], ids[5]]),
            // Equal waste: by hash.
            (a.as_str(), 100, 200, vec![ids[0], ids[2], ids[4]]),
            (c.as_str(), 200, 200, vec![ids[3], ids[6]]),
        ]
    );

    // The limit keeps the first groups.
    let top: Vec<String> = store
        .duplicates(2)
        .unwrap()
        .into_iter()
        .map(|g| g.content_hash)
        .collect();
    assert_eq!(top, [b, a]);
}

#[test]
fn the_limit_keeps_the_most_wasteful_of_many_groups() {
    let store = store();
    let hashes: Vec<String> = (0..150_u64).map(|n| format!("{n:064x}")).collect();
    let files: Vec<(String, u64, &str)> = hashes
        .iter()
        .enumerate()
        .flat_map(|(n, h)| {
            let size = (n as u64 * 37) % 150 + 1; // every size once, in a scrambled order
            [0, 1].map(|copy| (format!("/g/{n}-{copy}"), size, h.as_str()))
        })
        .collect();
    let refs: Vec<(&str, u64, &str)> = files.iter().map(|(p, s, h)| (p.as_str(), *s, *h)).collect();
    hashed(&store, &refs);
    let sizes: Vec<u64> = store
        .duplicates(5)
        .unwrap()
        .iter()
        .map(|g| g.size)
        .collect();
    assert_eq!(sizes, [150, 149, 148, 147, 146]);
    assert_eq!(store.duplicates(1000).unwrap().len(), 150);
}

#[test]
fn no_hashes_no_groups() {
    let store = store();
    assert_eq!(store.duplicates(10).unwrap(), vec![]);
}
