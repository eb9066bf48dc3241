//! Request bodies, path segments and query strings of every route, through the daemon's
//! own deserialisation (serde_json with serde_path_to_error, trailing input refused;
//! serde_urlencoded for queries) and validation (the wire types' `into_request`, then the
//! store, which plans with sheaf-core) against a small store on redb's in-memory backend.
//!
//! The platforms' routes (SPEC §8) go through their own conversions (`sheaf_proto::dialects`)
//! onto the same store operations.
//!
//! Properties: nothing panics; every refusal is a 4xx code (a 5xx would mean the input
//! reached something it should not) and renders as the error envelope, or the route's
//! platform's shape with that platform's 4xx status; the stored state stays readable and
//! its counts consistent after whatever was accepted.
#![no_main]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use sheaf_core::rules::{EntryUpdate, ItemUpdate, NewCollection};
use sheaf_core::{
    CollectionId, FileFacts, ItemTarget, OpId, Outcome, Refusal, RequestId, RuleId, Timestamp,
    WatchId,
};
use sheaf_proto::dialects::{Platform, datalab, fastapi, llama, oracle, wickson};
use sheaf_proto::requests::{
    BatchAddBody, CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams,
    DuplicateParams, EntryCreateBody, EntryListParams, EntryPatchBody, EventParams, ItemListParams,
    ItemPatchBody, OpListParams, RegisterBody, RemoveBody, ReorderBody, RuleRunParams,
    RuleTestParams, WatchCreateBody, WatchDeleteParams, collection_in_path, id_in_path,
    item_in_path, patched_rule_spec, rule_spec,
};
use sheaf_proto::responses::ErrorEnvelope;
use sheaf_proto::routes::{ROUTES, Route};
use sheaf_store::{Options, Store, WriteError};

/// One request: which route, its path segments, query string and body.
#[derive(Arbitrary, Debug)]
struct Input {
    route: u8,
    /// Index into known-good values, or free text.
    cid: Segment,
    item: Segment,
    query: String,
    body: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
enum Segment {
    Known(u8),
    Text(String),
}

const COLLECTIONS: [&str; 3] = ["inbox", "default", "papers"];

/// A store with `inbox` holding two of three registered items, and a rule linking
/// documents into `papers`; answers the items' ids and then the rule's (the known values of
/// the `{item_id}`, `{op_id}`, `{wid}` and `{rid}` segments).
fn setup() -> (Store, Vec<String>) {
    let next = Arc::new(AtomicI64::new(1_700_000_000_000_000));
    let options = Options {
        clock: Arc::new(move || Timestamp::from_micros(next.fetch_add(1000, Ordering::SeqCst))),
        ..Options::default()
    };
    let store = Store::open_backend(redb::backends::InMemoryBackend::new(), options).unwrap();
    let files: Vec<FileFacts> = ["/f/a.pdf", "/f/b.png", "/f/c.txt"]
        .iter()
        .map(|p| FileFacts {
            path: (*p).into(),
            size: 3,
            mtime: Timestamp::from_micros(1),
            content_type: sheaf_core::content_type_for(b"", p),
            file_id: None,
        })
        .collect();
    let Outcome::Items(ids) = store.register(&files).unwrap().outcome else {
        panic!("register answers items")
    };
    store
        .create_collection(&NewCollection {
            id: Some(CollectionId::parse("inbox").unwrap()),
            ..NewCollection::default()
        })
        .unwrap();
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let add = BatchAddBody {
        items: Some(vec![
            sheaf_proto::requests::ItemRef::Plain(ids[0].clone()),
            sheaf_proto::requests::ItemRef::Plain(ids[1].clone()),
        ]),
        ..BatchAddBody::default()
    };
    store
        .batch_add(
            &add.into_request(CollectionId::parse("inbox").unwrap())
                .unwrap(),
        )
        .unwrap();
    let rule = serde_json::json!({"name": "papers", "on": ["item.created"],
                                  "query": {"kind": ["document"]}, "link": ["papers"]});
    let Outcome::Rule { rule, .. } = store
        .define_rule(&rule_spec(&rule).unwrap(), false)
        .unwrap()
        .outcome
    else {
        panic!("define_rule answers the rule")
    };
    let mut ids = ids;
    ids.push(rule.to_string());
    (store, ids)
}

fn segment(s: &Segment, known: &[String]) -> String {
    match s {
        Segment::Known(i) => known[usize::from(*i) % known.len()].clone(),
        Segment::Text(t) => t.clone(),
    }
}

/// The daemon's body extractor: located errors, trailing characters refused.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        Refusal::field(
            vec!["body".into()],
            e.into_inner().to_string(),
            "value_error",
        )
    })?;
    de.end()
        .map_err(|e| Refusal::field(vec!["body".into()], e.to_string(), "json_invalid"))?;
    Ok(value)
}

/// The daemon's query extractor.
fn query<T: DeserializeOwned>(q: &str) -> Result<T, Refusal> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de)
        .map_err(|e| Refusal::field(vec!["query".into()], e.inner().to_string(), "query"))
}

fn refused(e: WriteError) -> Refusal {
    match e {
        WriteError::Refused(r) => r,
        WriteError::Store(s) => panic!("a request made the store fail: {s}"),
    }
}

/// Runs one request; answers the refusal if it was refused.
fn run(store: &Store, input: &Input, ids: &[String]) -> Result<(), Refusal> {
    let route = ROUTES[usize::from(input.route) % ROUTES.len()];
    let collections: Vec<String> = COLLECTIONS.iter().map(|c| (*c).to_owned()).collect();
    let cid_text = segment(&input.cid, &collections);
    let item_text = segment(&input.item, ids);
    if let Some(q) = route.query {
        match q.name {
            "CollectionListParams" => drop(query::<CollectionListParams>(&input.query)?),
            "EntryListParams" => drop(query::<EntryListParams>(&input.query)?),
            "ItemListParams" => drop(query::<ItemListParams>(&input.query)?),
            "EventParams" => drop(query::<EventParams>(&input.query)?),
            "OpListParams" => drop(query::<OpListParams>(&input.query)?),
            "DuplicateParams" => drop(query::<DuplicateParams>(&input.query)?),
            "DeleteParams" => drop(query::<DeleteParams>(&input.query)?),
            "WatchDeleteParams" => drop(query::<WatchDeleteParams>(&input.query)?),
            "RuleRunParams" => drop(query::<RuleRunParams>(&input.query)?),
            "RuleTestParams" => drop(query::<RuleTestParams>(&input.query)?),
            "WicksonMediaParams" => drop(query::<wickson::MediaParams>(&input.query)?),
            "LlamaProjectParams" => drop(query::<llama::ProjectParams>(&input.query)?),
            "LlamaFileListParams" => drop(query::<llama::FileListParams>(&input.query)?),
            other => unreachable!("a query type the fuzz target does not parse: {other}"),
        }
    }
    let cid = || collection_in_path(&cid_text);
    let item = || item_in_path(&item_text);
    let b = &input.body;
    match (route.method.as_str(), route.path) {
        ("POST", "/api/v1/collections/{collection_id}/files") => {
            datalab::collection_number(&cid_text).map_err(fastapi::refusal)?;
            datalab::file_numbers(&body::<serde_json::Value>(b)?).map_err(fastapi::refusal)?;
        }
        ("POST", "/documents/api/1.1/collections/{collectionId}/files/{fileId}") => {
            let req = oracle::into_request(&cid_text, &item_text)?;
            store.add_one(&req).map_err(refused)?;
        }
        ("POST", "/v1/media/collections/{collection_id}/items") => {
            let req = body::<wickson::MoveBody>(b)?.into_request(cid()?)?;
            store.batch_add(&req).map_err(refused)?;
        }
        ("POST", "/api/v1/beta/directories/{directory_id}/files") => {
            let req = body::<llama::FileCreateBody>(b)?.into_request(&cid_text)?;
            store.add_one(&req).map_err(refused)?;
        }
        (_, "/api/v1/beta/directories/{directory_id}/files/{id}") => {
            let id = llama::directory_id(&cid_text)?;
            drop(store.collection(&id).unwrap());
        }
        ("POST", "/v1/collections") => {
            let req = body::<CollectionCreateBody>(b)?.into_request()?;
            store.create_collection(&req).map_err(refused)?;
        }
        ("PATCH", "/v1/collections/{cid}") => {
            let id = cid()?;
            let req = body::<CollectionPatchBody>(b)?.into_request()?;
            store.update_collection(&id, &req).map_err(refused)?;
        }
        ("POST", "/v1/collections/{cid}/items") => {
            let req = body::<BatchAddBody>(b)?.into_request(cid()?)?;
            store.batch_add(&req).map_err(refused)?;
        }
        ("POST", "/v1/collections/{cid}/items/remove") => {
            let req = body::<RemoveBody>(b)?.into_request(cid()?)?;
            store.remove(&req).map_err(refused)?;
        }
        ("POST", "/v1/collections/{cid}/items/reorder") => {
            let req = body::<ReorderBody>(b)?.into_request(cid()?)?;
            store.reorder(&req).map_err(refused)?;
        }
        ("POST", "/v1/collections/{cid}/items/{item_id}") => {
            let id = cid()?;
            let parsed = if b.is_empty() {
                EntryCreateBody::default()
            } else {
                body::<EntryCreateBody>(b)?
            };
            let req = parsed.into_request(id, &item_text)?;
            store.add_one(&req).map_err(refused)?;
        }
        ("PATCH", "/v1/collections/{cid}/items/{item_id}") => {
            let (id, target) = (cid()?, item()?);
            let update: EntryUpdate = body::<EntryPatchBody>(b)?.into();
            store.update_entry(&id, &target, &update).map_err(refused)?;
        }
        ("PATCH", "/v1/items/{item_id}") => {
            let target = item()?;
            let update: ItemUpdate = body::<ItemPatchBody>(b)?.into();
            store.update_item(&target, &update).map_err(refused)?;
        }
        ("POST", "/v1/items") => {
            let reg = body::<RegisterBody>(b)?;
            for (i, p) in reg.paths.iter().enumerate() {
                sheaf_core::validate_absolute_path(
                    p,
                    vec!["body".into(), "paths".into(), i.into()],
                )
                .map_err(|e| Refusal::validation(vec![e]))?;
            }
        }
        ("POST", "/v1/watches") => drop(body::<WatchCreateBody>(b)?.into_request()?),
        ("POST", "/v1/rules") => {
            let spec = rule_spec(&body::<serde_json::Value>(b)?)?;
            store.define_rule(&spec, false).map_err(refused)?;
        }
        (method, p) if p.starts_with("/v1/rules/{rid}") => {
            let id: RuleId = id_in_path(&item_text)?;
            match (method, p) {
                ("PATCH", "/v1/rules/{rid}") => {
                    if let Some(state) = store.rule(id).unwrap() {
                        let spec =
                            patched_rule_spec(&state.rule.spec, &body::<serde_json::Value>(b)?)?;
                        store.update_rule(id, &spec).map_err(refused)?;
                    }
                }
                ("POST", "/v1/rules/{rid}/test") => drop(store.test_rule(id, 10).map_err(refused)?),
                ("POST", "/v1/rules/{rid}/apply") => {
                    store.start_apply(id).map_err(refused)?;
                    store.apply_step(id, 2).map_err(refused)?;
                }
                _ => drop(store.rule(id).unwrap()),
            }
        }
        ("POST", "/v1/ops/{op_id}/undo") => {
            let op: OpId = item_text
                .parse()
                .map_err(|e: sheaf_core::IdError| Refusal::from(e))?;
            store.undo(op).map_err(refused)?;
        }
        (_, "/v1/watches/{wid}" | "/v1/watches/{wid}/rescan") => {
            let _: WatchId = item_text
                .parse()
                .map_err(|e: sheaf_core::IdError| Refusal::from(e))?;
        }
        (_, p) if p.contains("{item_id}") => {
            let target = item()?;
            if p.contains("{cid}") {
                drop(cid()?);
            }
            if let ItemTarget::Id(id) = target {
                drop(store.item(id).unwrap());
            }
        }
        (_, p) if p.contains("{cid}") => {
            let id = cid()?;
            drop(store.collection(&id).unwrap());
        }
        _ => {}
    }
    Ok(())
}

/// The refusal as the route's platform renders it: a 4xx status and a body that says so.
fn check_rendering(route: &Route, refusal: &Refusal) {
    let status = route.platform.error_status(refusal.code);
    assert!(
        (400..500).contains(&status),
        "a refusal with status {status} on {route}: {refusal:?}"
    );
    let json = match route.platform {
        Platform::Sheaf => {
            let envelope = ErrorEnvelope::new(refusal, RequestId::from_ulid(ulid_of(1)));
            let json = serde_json::to_value(&envelope).unwrap();
            assert_eq!(json["success"], false);
            json["error"]["message"].clone()
        }
        Platform::Datalab | Platform::LlamaCloud => {
            let (_, json) = fastapi::body(refusal);
            if status == 422 {
                assert!(json["detail"].as_array().is_some_and(|d| !d.is_empty()));
                json["detail"][0]["msg"].clone()
            } else {
                json["detail"].clone()
            }
        }
        Platform::Oracle => {
            let req = oracle::Request {
                collection: "c",
                file: "f",
                user: "u",
            };
            serde_json::to_value(oracle::Error::new(refusal, &req)).unwrap()["title"].clone()
        }
        Platform::Wickson => {
            let json = serde_json::to_value(wickson::Error::new(refusal, "req_1")).unwrap();
            assert_eq!(json["error"]["details"]["request_id"], "req_1");
            json["message"].clone()
        }
    };
    assert!(json.as_str().is_some_and(|m| !m.is_empty()), "{json}");
}

fuzz_target!(|input: Input| {
    let (store, ids) = setup();
    if let Err(refusal) = run(&store, &input, &ids) {
        let route = ROUTES[usize::from(input.route) % ROUTES.len()];
        check_rendering(&route, &refusal);
    }
    // Whatever was accepted left a consistent store: counts equal listed live entries.
    for c in store
        .collections(&sheaf_store::CollectionQuery::default())
        .unwrap()
    {
        let mut live = 0;
        let mut cursor = None;
        loop {
            let page = store
                .entries(
                    &c.id,
                    &sheaf_store::EntryQuery {
                        cursor,
                        limit: 1000,
                        ..sheaf_store::EntryQuery::default()
                    },
                )
                .unwrap()
                .unwrap();
            live += page.items.len() as u64;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(c.item_count, live, "item_count of {}", c.id);
    }
});

fn ulid_of(n: u128) -> ulid::Ulid {
    ulid::Ulid(n)
}
