//! Rules in the store (SPEC §7.3): a rule's store actions commit with its cursor, once;
//! outside actions wait as jobs until their run is recorded; refusals and over-long chains
//! apply nothing and are recorded as failed runs.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used)]

use redb::backends::InMemoryBackend;
use sheaf_core::rule::{Cause, MAX_RULE_CHAIN, RuleRun, RuleSpec};
use sheaf_core::rules::{CollectionUpdate, NewCollection};
use sheaf_core::{
    CollectionId, EntrySource, ErrorCode, EventKind, FileFacts, ItemId, MetaValue, Outcome, RuleId,
    Timestamp,
};
use sheaf_store::{Fired, Firing, Options, Store, WriteError};

fn cid(s: &str) -> CollectionId {
    CollectionId::parse(s).unwrap()
}

fn store() -> Store {
    let options = Options {
        durable: false,
        ..Options::default()
    };
    Store::open_backend(InMemoryBackend::new(), options).unwrap()
}

fn spec(json: &serde_json::Value) -> RuleSpec {
    RuleSpec::parse(json, &[]).unwrap()
}

fn define(store: &Store, json: &serde_json::Value) -> RuleId {
    match store.define_rule(&spec(json), false).unwrap().outcome {
        Outcome::Rule {
            rule,
            created: true,
        } => rule,
        other => panic!("{other:?}"),
    }
}

/// Registers a pdf and answers the `item.created` firing the engine would read.
fn new_pdf(store: &Store, path: &str) -> (ItemId, Firing) {
    let facts = FileFacts {
        path: path.into(),
        size: 10,
        mtime: Timestamp::from_micros(1),
        content_type: "application/pdf".into(),
        file_id: None,
    };
    let Outcome::Items(ids) = store.register(&[facts]).unwrap().outcome else {
        panic!()
    };
    let seq = store.last_seq().unwrap();
    let e = store.events(seq - 1, 1).unwrap().events.remove(0);
    assert_eq!(e.event.kind, EventKind::ItemCreated);
    let firing = Firing {
        seq,
        item: ids[0],
        event: e.event,
        at: e.at,
        op_id: e.op_id,
        cause: e.cause,
    };
    (ids[0], firing)
}

fn cursor(store: &Store, id: RuleId) -> u64 {
    store.rule(id).unwrap().unwrap().cursor
}

#[test]
fn store_actions_commit_with_the_cursor_and_their_events_name_the_rule_as_cause() {
    let store = store();
    let id = define(
        &store,
        &serde_json::json!({"name": "papers", "query": {"kind": "document"},
                            "link": ["papers"], "metadata": {"inbox": true}}),
    );
    assert_eq!(cursor(&store, id), store.last_seq().unwrap());
    let (item, firing) = new_pdf(&store, "/d/a.pdf");

    let before = store.last_seq().unwrap();
    let (fired, seqs) = store.fire_rule(id, &firing).unwrap();
    assert_eq!(fired, Fired::Done);
    assert_eq!(cursor(&store, id), firing.seq);
    let entry = store.entry(&cid("papers"), item).unwrap().unwrap();
    assert_eq!(entry.source, EntrySource::Rule(id));
    let (it, _) = store.item(item).unwrap().unwrap();
    assert_eq!(it.metadata.get("inbox"), Some(&MetaValue::Bool(true)));

    // Every event of the actions names the rule; the run's own event closes the commit.
    let (first, last) = seqs.unwrap();
    assert!(first > before);
    let events = store.events(first - 1, usize::MAX).unwrap().events;
    let (run_event, actions) = events.split_last().unwrap();
    assert!(!actions.is_empty());
    for e in actions {
        assert_eq!(e.cause, Some(Cause { rule: id, depth: 1 }), "{e:?}");
    }
    assert_eq!(run_event.seq, last);
    assert_eq!(run_event.event.kind, EventKind::RuleRan);
    assert_eq!(run_event.event.rule_id, Some(id));
    let runs = store.rule_runs(id, 10).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].ok);
    assert_eq!(runs[0].item, Some(item));

    // Firing again (as after a crash that lost nothing) changes nothing that was done.
    let seq = store.last_seq().unwrap();
    store.fire_rule(id, &firing).unwrap();
    let events = store.events(seq, usize::MAX).unwrap().events;
    let kinds: Vec<EventKind> = events.iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::RuleRan],
        "only the run is recorded again"
    );
}

#[test]
fn outside_actions_wait_as_a_job_until_their_run_is_recorded() {
    let store = store();
    let id = define(
        &store,
        &serde_json::json!({"name": "ocr", "run": ["ocrmypdf", "{path}", "{path}"]}),
    );
    let (item, firing) = new_pdf(&store, "/d/scan.pdf");
    let (fired, _) = store.fire_rule(id, &firing).unwrap();
    let Fired::Queued(job) = fired else {
        panic!("{fired:?}")
    };
    assert_eq!((job.rule, job.seq, job.item), (id, firing.seq, item));
    assert_eq!(store.rule_jobs().unwrap(), [*job.clone()]);
    assert_eq!(store.rule(id).unwrap().unwrap().pending_jobs, 1);

    let run = RuleRun {
        rule: id,
        item: Some(item),
        event_seq: job.seq,
        at: Timestamp::from_micros(5),
        ok: false,
        detail: "exited with 2".into(),
        exit_code: Some(2),
        duration_ms: 12,
        stderr_tail: "no such file".into(),
    };
    let (_, last) = store.finish_rule_job(&job, &run).unwrap().unwrap();
    assert!(store.rule_jobs().unwrap().is_empty());
    assert_eq!(store.rule_runs(id, 10).unwrap(), [run]);
    let e = store.events(last - 1, 1).unwrap().events.remove(0);
    assert_eq!(e.event.kind, EventKind::RuleFailed);
}

#[test]
fn a_refused_action_applies_nothing_and_a_long_chain_is_stopped() {
    let store = store();
    store
        .create_collection(&NewCollection {
            id: Some(cid("old")),
            ..NewCollection::default()
        })
        .unwrap();
    store
        .update_collection(
            &cid("old"),
            &CollectionUpdate {
                archived: Some(true),
                ..CollectionUpdate::default()
            },
        )
        .unwrap();
    let id = define(
        &store,
        &serde_json::json!({"name": "file", "link": ["old"], "metadata": {"seen": true}}),
    );
    let (item, firing) = new_pdf(&store, "/d/a.pdf");
    let (fired, _) = store.fire_rule(id, &firing).unwrap();
    let Fired::Failed(why) = fired else {
        panic!("{fired:?}")
    };
    assert!(why.contains("COLLECTION_ARCHIVED"), "{why}");
    let (it, _) = store.item(item).unwrap().unwrap();
    assert!(
        it.metadata.is_empty(),
        "the metadata action went with the refused link"
    );
    assert_eq!(
        cursor(&store, id),
        firing.seq,
        "the event is handled, not retried"
    );
    assert!(!store.rule_runs(id, 1).unwrap()[0].ok);

    let chained = Firing {
        cause: Some(Cause {
            rule: id,
            depth: MAX_RULE_CHAIN,
        }),
        ..firing
    };
    let (fired, _) = store.fire_rule(id, &chained).unwrap();
    let Fired::Failed(why) = fired else {
        panic!("{fired:?}")
    };
    assert!(why.contains("stopped"), "{why}");
}

#[test]
fn names_are_unique_but_the_config_file_redefines_its_own_rule_in_place() {
    let store = store();
    let json = serde_json::json!({"name": "tag", "metadata": {"a": 1}});
    let api = define(&store, &json);
    let e = store.define_rule(&spec(&json), false).unwrap_err();
    assert_eq!(e.refusal().unwrap().code, ErrorCode::RuleExists);
    store.delete_rule(api).unwrap();
    assert!(store.rule(api).unwrap().is_none());

    let Outcome::Rule { rule, created } = store.define_rule(&spec(&json), true).unwrap().outcome
    else {
        panic!()
    };
    assert!(created);
    let changed = serde_json::json!({"name": "tag", "metadata": {"a": 2}});
    let again = store.define_rule(&spec(&changed), true).unwrap().outcome;
    assert_eq!(
        again,
        Outcome::Rule {
            rule,
            created: false
        }
    );
    assert_eq!(store.rule(rule).unwrap().unwrap().rule.spec, spec(&changed));
    let e = store.update_rule(rule, &spec(&json)).unwrap_err();
    assert!(matches!(e, WriteError::Refused(_)));

    // A rule cannot link into a smart collection.
    store
        .create_collection(&NewCollection {
            id: Some(cid("pdfs")),
            query: Some(
                sheaf_core::Query::parse(&serde_json::json!({"kind": "document"}), &[]).unwrap(),
            ),
            ..NewCollection::default()
        })
        .unwrap();
    let e = store
        .define_rule(
            &spec(&serde_json::json!({"name": "x", "link": ["pdfs"]})),
            false,
        )
        .unwrap_err();
    assert_eq!(e.refusal().unwrap().code, ErrorCode::CollectionIsSmart);
}

#[test]
fn a_rule_keeps_its_newest_thousand_runs_however_many_pages_record_them() {
    let store = store();
    let id = define(
        &store,
        &serde_json::json!({"name": "papers", "query": {"kind": "document"}, "link": ["papers"]}),
    );
    let firings: Vec<Firing> = (0..1_300)
        .map(|i| new_pdf(&store, &format!("/docs/p{i}.pdf")).1)
        .collect();
    let kept = sheaf_store::RULE_RUNS_KEPT as usize;
    for (n, page) in firings.chunks(450).enumerate() {
        let last = page.last().unwrap().seq;
        let (fired, _) = store.fire_rule_page(id, page, last).unwrap();
        assert!(fired.iter().all(|f| matches!(f, Fired::Done)));
        let runs = store.rule_runs(id, 5_000).unwrap();
        assert_eq!(runs.len(), ((n + 1) * 450).min(1_300).min(kept));
    }
    // Every item was linked once, whichever runs were dropped.
    let papers = store.collection(&cid("papers")).unwrap().unwrap();
    assert_eq!(papers.item_count, 1_300);
}
