//! The query of SPEC §7.1: what each field matches, how invalid queries are reported, the
//! canonical JSON and serde forms, and property tests against a reference predicate.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod forms;
mod matching;
mod props;
mod reference;

use serde_json::Value;
use sheaf_core::{
    CollectionId, FieldError, Item, ItemId, Kind, Loc, Metadata, Query, Subject, Timestamp,
    WatchId, kind_of_content_type,
};
use ulid::Ulid;

/// The daemon user's home in these tests.
const HOME: &str = "/home/u";

/// Where the query sits in the request.
fn base() -> Vec<Loc> {
    vec!["body".into(), "query".into()]
}

/// A query that must be valid.
fn query(json: &Value) -> Query {
    Query::parse(json, &base()).unwrap_or_else(|e| panic!("{json} is invalid: {e:?}"))
}

/// The problems of a query that must be invalid.
fn problems(json: &Value) -> Vec<FieldError> {
    match Query::parse(json, &base()) {
        Ok(q) => panic!("{json} was accepted as {q:?}"),
        Err(errors) => errors,
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn cid(slug: &str) -> CollectionId {
    CollectionId::parse(slug).unwrap()
}

fn wid(n: u128) -> WatchId {
    WatchId::from_ulid(Ulid(n))
}

/// An item and what the store knows around it: a live 1000-byte PDF in no collection.
#[derive(Clone, Debug)]
struct Case {
    item: Item,
    collections: Vec<CollectionId>,
    watches: Vec<WatchId>,
    duplicate: bool,
}

impl Case {
    fn new(path: &str) -> Self {
        let name = path.rsplit('/').next().unwrap().to_owned();
        Self {
            item: Item {
                id: ItemId::new(Kind::Document, Ulid(1)),
                kind: Kind::Document,
                content_type: "application/pdf".to_owned(),
                path: Some(path.to_owned()),
                last_path: Some(path.to_owned()),
                original_filename: name,
                size: 1000,
                mtime: ts("2026-01-15T00:00:00Z"),
                content_hash: None,
                metadata: Metadata::new(),
                file_id: None,
                created_at: Timestamp::EPOCH,
                updated_at: Timestamp::EPOCH,
                deleted_at: None,
                number: 0,
            },
            collections: Vec::new(),
            watches: Vec::new(),
            duplicate: false,
        }
    }

    fn typed(mut self, content_type: &str) -> Self {
        content_type.clone_into(&mut self.item.content_type);
        self.item.kind = kind_of_content_type(content_type);
        self
    }

    /// The file is gone: no `path`, `last_path` kept.
    fn gone(mut self) -> Self {
        self.item.path = None;
        self.item.deleted_at = Some(ts("2026-02-01T00:00:00Z"));
        self
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            item: &self.item,
            collections: &self.collections,
            watches: &self.watches,
            duplicate: self.duplicate,
        }
    }

    /// Whether the query (valid JSON) matches, `~` being [`HOME`].
    fn hit(&self, json: &Value) -> bool {
        query(json).matcher(Some(HOME)).matches(&self.subject())
    }
}
