//! Which items a write makes a smart collection look at again (SPEC §7.2): each query only
//! the items whose facts it reads changed — a link changes memberships, not items, so a
//! query of path globs has nothing to look at. (That the answers stay right is checked by
//! `sheaf-store/tests/smart_model.rs` against a brute-force evaluation.)

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sheaf_core::rules::{Affected, affected_items};
use sheaf_core::{ItemId, Query};
use support::{World, facts};

fn query(json: &Value) -> Query {
    Query::parse(json, &[]).expect("a valid query")
}

fn affected(w: &World, plan: &sheaf_core::Plan) -> Affected {
    affected_items(&w.state, &plan.changes, &[]).unwrap()
}

fn set(ids: &[ItemId]) -> BTreeSet<ItemId> {
    ids.iter().copied().collect()
}

#[test]
fn a_link_changes_memberships_so_only_queries_reading_them_look_again() {
    let mut w = World::new();
    w.create("inbox");
    let ids = w.register(&["/d/a.pdf", "/d/b.png"]);
    let plan = w.link("inbox", &ids);
    let a = affected(&w, &plan);
    assert!(a.items.is_empty(), "a link changes no item: {a:?}");
    assert_eq!(a.memberships, set(&ids));
    assert!(a.duplicates.is_empty());

    assert!(a.for_query(&query(&json!({"path": "/d/**"}))).is_empty());
    assert!(a.for_query(&query(&json!({"duplicate": true}))).is_empty());
    assert_eq!(a.for_query(&query(&json!({"in": ["inbox"]}))), set(&ids));
    assert_eq!(
        a.for_query(&query(&json!({"not_in": ["default"]}))),
        set(&ids)
    );
    assert_eq!(
        a.for_query(&query(&json!({"watch": ["w_01J00000000000000000000000"]}))),
        set(&ids)
    );
}

#[test]
fn a_registered_item_is_looked_at_again_by_every_query() {
    let mut w = World::new();
    let plan = w.commit(|v, ctx| sheaf_core::rules::plan_register(v, ctx, &[facts("/d/a.pdf")]));
    let a = affected(&w, &plan);
    let id = w.register(&["/d/a.pdf"])[0];
    assert_eq!(a.items, set(&[id]));
    for q in [
        json!({"path": "/d/**"}),
        json!({"in": ["inbox"]}),
        json!({"duplicate": false}),
    ] {
        assert_eq!(a.for_query(&query(&q)), set(&[id]), "{q}");
    }
    assert_eq!(a.all(), set(&[id]));
}

#[test]
fn a_smart_collections_own_entries_count_as_membership_changes_for_those_after_it() {
    let mut w = World::new();
    w.create("inbox");
    let ids = w.register(&["/d/a.pdf"]);
    let mut a = Affected::default();
    a.note_entries(&w.link("inbox", &ids).changes);
    assert_eq!(a.memberships, set(&ids));
    assert!(a.for_query(&query(&json!({"name": "a"}))).is_empty());
    assert_eq!(a.for_query(&query(&json!({"in": ["inbox"]}))), set(&ids));
}
