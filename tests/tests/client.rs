//! `sheaf-client` against a real sheafd: every method once, answers decoded into the proto
//! types, errors carried as the envelope, and the event stream parsed line by line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use sheaf_client::{Client, ConnectOptions, Error};
use sheaf_e2e::Daemon;
use sheaf_proto::requests::{
    BatchAddBody, BatchMode, CollectionCreateBody, CollectionListParams, CollectionPatchBody,
    EntryCreateBody, EntryListParams, EntryPatchBody, ItemListParams, ItemPatchBody, ItemRef,
    OpListParams, RegisterBody, RemoveBody, ReorderBody, WatchCreateBody,
};

/// Runs the async part on its own runtime: the harness's daemon helpers are blocking and
/// must stay outside it.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn connect(d: &Daemon) -> Client {
    Client::connect(ConnectOptions {
        socket: Some(d.socket.clone()),
        autostart: false,
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
}

fn files(d: &Daemon, n: usize) -> Vec<String> {
    let names: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("f{i}.txt"), format!("file {i}\n").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = names
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    d.files(&refs)
}

#[test]
fn every_method_answers_its_proto_type() {
    let d = Daemon::start();
    let paths = files(&d, 3);
    block_on(every_method(&d, paths));
}

async fn every_method(d: &Daemon, paths: Vec<String>) {
    let c = connect(d).await;
    assert!(!c.autostarted());
    assert_eq!(c.limits().max_batch, 1000);
    assert_eq!(
        c.health().await.unwrap().api_version,
        sheaf_proto::API_VERSION
    );
    let doc = c.openapi().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut events = c.events(Some(0)).await.unwrap();

    let created = c
        .create_collection(&CollectionCreateBody {
            id: "papers".into(),
            accept: Some(vec!["text".into()]),
            ..CollectionCreateBody::default()
        })
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "papers");
    let renamed = c
        .update_collection(
            "papers",
            &CollectionPatchBody {
                name: Some("Papers".into()),
                ..CollectionPatchBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Papers");
    assert!(
        renamed.accept.is_some(),
        "a patch without accept leaves the accept list alone"
    );
    let list = c
        .list_collections(&CollectionListParams::default())
        .await
        .unwrap();
    assert_eq!(list.collections.len(), 2);

    let items = c
        .register_items(&RegisterBody {
            paths: paths.clone(),
        })
        .await
        .unwrap()
        .items;
    let ids: Vec<String> = items.iter().map(|i| i.id.to_string()).collect();
    let added = c
        .batch_add(
            "papers",
            &BatchAddBody {
                items: Some(ids[..2].iter().cloned().map(ItemRef::Plain).collect()),
                ..BatchAddBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(added.summary.added, 2);
    let one = c
        .add_entry(
            "papers",
            &ids[2],
            &EntryCreateBody {
                display_name: Some("Third".into()),
                ..EntryCreateBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(one.display_name, "Third");
    let again = c
        .add_entry("papers", &ids[2], &EntryCreateBody::default())
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("ALREADY_IN_COLLECTION"));
    assert_eq!(again.status(), Some(409));

    let page = c
        .list_entries(
            "papers",
            &EntryListParams {
                limit: Some(2),
                ..EntryListParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    let rest = c
        .list_entries(
            "papers",
            &EntryListParams {
                cursor: page.next_cursor,
                limit: Some(2),
                ..EntryListParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.next_cursor, None);

    let reordered = c
        .reorder(
            "papers",
            &ReorderBody {
                items: Some(vec![ids[2].clone()]),
                ..ReorderBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(reordered.collection_id.as_str(), "papers");
    let patched = c
        .update_entry(
            "papers",
            &ids[0],
            &EntryPatchBody {
                display_name: Some("First".into()),
                ..EntryPatchBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.display_name, "First");
    assert_eq!(
        c.get_entry("papers", &ids[0]).await.unwrap().display_name,
        "First"
    );
    let meta: sheaf_proto::requests::ItemPatchBody =
        serde_json::from_value(json!({"metadata": {"year": 2024}})).unwrap();
    let item = c.update_item(&ids[0], &meta).await.unwrap();
    assert_eq!(item.metadata.len(), 1);
    let item = c.get_item(&ids[0]).await.unwrap();
    assert_eq!(
        item.collections
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["papers"]
    );
    let listed = c
        .list_items(&ItemListParams {
            collection: Some("papers".into()),
            ..ItemListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 3);

    let removed = c.remove_entry("papers", &ids[1]).await.unwrap();
    assert!(removed.deleted_at.is_some());
    let batch = c
        .remove(
            "papers",
            &RemoveBody {
                items: vec![ids[0].clone(), ids[1].clone()],
            },
        )
        .await
        .unwrap();
    assert_eq!(batch.summary.removed, 1);
    assert_eq!(batch.summary.already_removed, 1);
    let undone = c.undo(&batch.op_id.to_string()).await.unwrap();
    assert_eq!(undone.undone, batch.op_id);
    let ops = c.list_ops(&OpListParams::default()).await.unwrap();
    assert_eq!(ops.ops[0].kind, "undo");

    let moved = c
        .batch_add(
            "default",
            &BatchAddBody {
                items: Some(vec![ItemRef::Plain(ids[2].clone())]),
                mode: BatchMode::Move,
                ..BatchAddBody::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.summary.moved, 1);

    assert!(
        c.trash_collection("papers")
            .await
            .unwrap()
            .trashed_at
            .is_some()
    );
    assert!(
        c.restore_collection("papers")
            .await
            .unwrap()
            .trashed_at
            .is_none()
    );
    c.trash_collection("papers").await.unwrap();
    c.purge_collection("papers").await.unwrap();
    let gone = c.get_collection("papers").await.unwrap_err();
    assert_eq!(gone.code(), Some("COLLECTION_NOT_FOUND"));

    // The feed has every change, in order, parsed from the stream line by line.
    let mut seqs = Vec::new();
    while seqs.len() < 10 {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next_event())
            .await
            .expect("events arrive")
            .expect("the stream goes on")
            .unwrap();
        seqs.push(e.seq);
    }
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
}

#[test]
fn errors_carry_the_envelope() {
    let d = Daemon::start();
    block_on(errors(&d));
}

async fn errors(d: &Daemon) {
    let c = connect(d).await;
    let err = c
        .batch_add(
            "inbox",
            &BatchAddBody {
                items: Some(vec![
                    ItemRef::Plain("doc_01JD3Q2X9K8M7N6P5R4S3T2V1W".into()),
                    ItemRef::Plain("img_01JD3Q2X9K8M7N6P5R4S3T2V1X".into()),
                ]),
                create: true,
                ..BatchAddBody::default()
            },
        )
        .await
        .unwrap_err();
    let Error::Api {
        status,
        code,
        details,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 404);
    assert_eq!(code, "ITEMS_NOT_FOUND");
    assert_eq!(details["missing"].as_array().unwrap().len(), 2);
    assert!(request_id.starts_with("req_"));
    let bad = c.get_item("not an id").await.unwrap_err();
    assert_eq!(
        bad.code(),
        Some("INVALID_ID"),
        "the id stays one path segment"
    );
    let patch = ItemPatchBody::default();
    assert_eq!(
        c.update_item("doc_01JD3Q2X9K8M7N6P5R4S3T2V1W", &patch)
            .await
            .unwrap_err()
            .code(),
        Some("ITEMS_NOT_FOUND")
    );
}

#[test]
fn a_stopped_daemon_is_not_running_for_the_next_call() {
    let mut d = Daemon::start();
    let c = block_on(connect(&d));
    d.stop();
    let err = block_on(c.health()).unwrap_err();
    assert!(matches!(err, Error::NotRunning { .. }), "{err:?}");
    assert!(err.is_unreachable());
}

#[test]
fn the_watch_methods_add_list_rescan_and_remove() {
    let d = Daemon::start();
    let root = d.dir.path().join("watched");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("a.txt"), b"a\n").unwrap();
    std::fs::write(root.join("sub/b.txt"), b"b\n").unwrap();
    let root = std::fs::canonicalize(root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    block_on(watch_methods(&d, root));
}

async fn watch_methods(d: &Daemon, root: String) {
    let c = connect(d).await;
    let body = WatchCreateBody {
        path: root.clone(),
        collection: "folder".into(),
        ..WatchCreateBody::default()
    };
    let first = c.add_watch(&body).await.unwrap();
    assert!(first.created, "201 on the first add");
    assert_eq!(first.watch.path, root);
    assert_eq!(first.watch.collection.as_str(), "folder");
    let again = c.add_watch(&body).await.unwrap();
    assert!(!again.created, "200 with the same watch on the second");
    assert_eq!(again.watch.id, first.watch.id);
    let wid = first.watch.id.to_string();

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let watch = loop {
        let list = c.watches().await.unwrap();
        assert_eq!(list.watches.len(), 1);
        let w = list.watches.into_iter().next().unwrap();
        if w.state != "scanning" && w.files == 2 {
            break w;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not scanned in 20 s: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(watch.last_reconcile_at.is_some(), "{watch:?}");
    let rescanned = c.rescan_watch(&wid).await.unwrap();
    assert_eq!(rescanned.id, first.watch.id);

    let removed = c.remove_watch(&wid, false).await.unwrap();
    assert_eq!(removed.id, first.watch.id);
    assert_eq!(removed.entries, 2);
    assert!(c.watches().await.unwrap().watches.is_empty());
    let gone = c.remove_watch(&wid, false).await.unwrap_err();
    assert_eq!(gone.code(), Some("WATCH_NOT_FOUND"));
    assert_eq!(gone.status(), Some(404));
    let bad = c.rescan_watch("w_nope").await.unwrap_err();
    assert_eq!(bad.code(), Some("INVALID_ID"));
    let refused = c
        .add_watch(&WatchCreateBody {
            path: root,
            collection: "default".into(),
            ..WatchCreateBody::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("VALIDATION_ERROR"));
}
