//! Invalid queries: every problem reported, each located exactly under the query's place.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sheaf_core::{FieldError, Loc, MAX_QUERY_VALUES, Query};

use super::{base, problems, wid};

/// A problem as (loc below `["body", "query"]`, type).
fn short(e: &FieldError) -> (String, String) {
    assert_eq!(e.loc[..2], base()[..], "{e:?}");
    let loc = serde_json::to_value(&e.loc[2..]).unwrap();
    (loc.to_string(), e.kind.clone())
}

/// The one problem of an invalid query.
fn one(q: &Value) -> (String, String) {
    let errors = problems(q);
    assert_eq!(errors.len(), 1, "{q}: {errors:?}");
    short(&errors[0])
}

fn at(loc: &Value, kind: &str) -> (String, String) {
    (loc.to_string(), kind.to_owned())
}

#[test]
fn a_query_that_is_not_an_object_is_located_at_the_query() {
    let errors = Query::parse(&json!(["kind"]), &base()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].loc, base());
    assert_eq!(errors[0].kind, "type");
    let errors = Query::parse(&json!(null), &[]).unwrap_err();
    assert_eq!(errors[0].loc, Vec::<Loc>::new());
}

#[test]
fn an_unknown_field_is_named_with_the_known_ones() {
    let errors = problems(&json!({"colour": "red", "kind": "image"}));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        short(&errors[0]),
        at(&json!(["colour"]), "query.unknown_field")
    );
    assert!(
        errors[0].msg.contains("kind, content_type, path"),
        "{}",
        errors[0].msg
    );
    assert_eq!(
        one(&json!({"colour": null})),
        at(&json!(["colour"]), "query.unknown_field")
    );
}

#[test]
fn wrong_json_types_say_what_was_expected() {
    for (q, loc) in [
        (json!({"kind": 3}), json!(["kind"])),
        (json!({"kind": ["image", 3]}), json!(["kind", 1])),
        (json!({"path": {"glob": "/a"}}), json!(["path"])),
        (json!({"name": ["a"]}), json!(["name"])),
        (json!({"size": 5}), json!(["size"])),
        (json!({"size": {"min": "5"}}), json!(["size", "min"])),
        (json!({"mtime": {"after": 1}}), json!(["mtime", "after"])),
        (json!({"metadata": ["a"]}), json!(["metadata"])),
        (json!({"duplicate": "yes"}), json!(["duplicate"])),
        (json!({"deleted": 1}), json!(["deleted"])),
        (json!({"watch": [null]}), json!(["watch", 0])),
    ] {
        assert_eq!(one(&q), at(&loc, "type"), "{q}");
    }
    let errors = problems(&json!({"kind": 3}));
    assert!(
        errors[0].msg.contains("a kind or a list of them"),
        "{errors:?}"
    );
}

#[test]
fn bad_list_values_are_located_at_their_index_or_at_the_lone_string() {
    for (q, loc, kind) in [
        (
            json!({"kind": ["image", "pictures"]}),
            json!(["kind", 1]),
            "kind",
        ),
        (json!({"kind": "pictures"}), json!(["kind"]), "kind"),
        (
            json!({"content_type": ["image"]}),
            json!(["content_type", 0]),
            "content_type",
        ),
        (
            json!({"content_type": "*/*"}),
            json!(["content_type"]),
            "content_type",
        ),
        (
            json!({"path": ["/ok/**", "/a/[b"]}),
            json!(["path", 1]),
            "glob",
        ),
        (json!({"path": "*.pdf"}), json!(["path"]), "glob"),
        (json!({"path": ["~user/x"]}), json!(["path", 0]), "glob"),
        (
            json!({"in": ["inbox", "Bad Slug"]}),
            json!(["in", 1]),
            "slug",
        ),
        (json!({"not_in": "_x"}), json!(["not_in"]), "slug"),
        (json!({"watch": ["w_bad"]}), json!(["watch", 0]), "id"),
    ] {
        assert_eq!(one(&q), at(&loc, kind), "{q}");
    }
}

#[test]
fn lists_must_hold_one_to_the_maximum_of_values() {
    assert_eq!(one(&json!({"kind": []})), at(&json!(["kind"]), "too_short"));
    let many: Vec<String> = (0..=MAX_QUERY_VALUES).map(|i| format!("c{i}")).collect();
    assert_eq!(one(&json!({"in": many})), at(&json!(["in"]), "too_long"));
    let many: Vec<String> = (0..=MAX_QUERY_VALUES).map(|i| format!("v{i}")).collect();
    assert_eq!(
        one(&json!({"metadata": {"k": many}})),
        at(&json!(["metadata", "k"]), "too_long")
    );
}

#[test]
fn name_must_be_a_non_empty_string_without_control_characters() {
    assert_eq!(
        one(&json!({"name": ""})),
        at(&json!(["name"]), "string_length")
    );
    assert_eq!(
        one(&json!({"name": "a\u{7}"})),
        at(&json!(["name"]), "string_chars")
    );
}

#[test]
fn sizes_are_whole_non_negative_numbers_with_min_not_above_max() {
    for bad in [json!(-1), json!(1.5)] {
        let q = json!({"size": {"min": bad}});
        assert_eq!(one(&q), at(&json!(["size", "min"]), "size"), "{q}");
    }
    let q = json!({"size": {"min": 10, "max": 9}});
    assert_eq!(one(&q), at(&json!(["size"]), "range"));
    let q = json!({"size": {"minimum": 10}});
    assert_eq!(
        one(&q),
        at(&json!(["size", "minimum"]), "query.unknown_field")
    );
}

#[test]
fn mtimes_are_rfc3339_with_after_before_before() {
    let q = json!({"mtime": {"after": "yesterday"}});
    assert_eq!(one(&q), at(&json!(["mtime", "after"]), "timestamp"));
    let t = "2026-01-01T00:00:00Z";
    assert_eq!(
        one(&json!({"mtime": {"after": t, "before": t}})),
        at(&json!(["mtime"]), "range")
    );
    let q = json!({"mtime": {"since": t}});
    assert_eq!(
        one(&q),
        at(&json!(["mtime", "since"]), "query.unknown_field")
    );
}

#[test]
fn metadata_keys_and_conditions_are_checked_where_they_stand() {
    for (q, loc, kind) in [
        (
            json!({"": 1}),
            json!(["metadata", ""]),
            "metadata.key_length",
        ),
        (
            json!({"a\u{1}": 1}),
            json!(["metadata", "a\u{1}"]),
            "metadata.key_chars",
        ),
        (json!({"k": null}), json!(["metadata", "k"]), "type"),
        (json!({"k": []}), json!(["metadata", "k"]), "too_short"),
        (json!({"k": [1, [2]]}), json!(["metadata", "k", 1]), "type"),
        (json!({"k": {}}), json!(["metadata", "k"]), "condition"),
        (
            json!({"k": {"min": null}}),
            json!(["metadata", "k"]),
            "condition",
        ),
        (
            json!({"k": {"exists": true, "min": 1}}),
            json!(["metadata", "k"]),
            "condition",
        ),
        (
            json!({"k": {"exists": "yes"}}),
            json!(["metadata", "k", "exists"]),
            "type",
        ),
        (
            json!({"k": {"min": "3"}}),
            json!(["metadata", "k", "min"]),
            "type",
        ),
        (
            json!({"k": {"min": 3, "max": 1.5}}),
            json!(["metadata", "k"]),
            "range",
        ),
        (
            json!({"k": {"above": 3}}),
            json!(["metadata", "k", "above"]),
            "query.unknown_field",
        ),
        (
            json!({"k": {"exists": true, "above": 3}}),
            json!(["metadata", "k", "above"]),
            "query.unknown_field",
        ),
        (
            json!({"k": "x".repeat(4097)}),
            json!(["metadata", "k"]),
            "metadata.string_length",
        ),
    ] {
        let q = json!({ "metadata": q });
        assert_eq!(one(&q), at(&loc, kind), "{q}");
    }
    let keys: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("k{i}"), json!(1))).collect();
    let q = json!({ "metadata": keys });
    assert_eq!(one(&q), at(&json!(["metadata"]), "metadata.too_many_keys"));
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let q = json!({
        "kind": ["image", "pictures", "films"],
        "size": {"min": -1},
        "metadata": {"k": {"exists": 1}},
        "watch": wid(1).to_string(),
        "extra": true,
    });
    let found: BTreeSet<_> = problems(&q).iter().map(short).collect();
    let expected: BTreeSet<_> = [
        at(&json!(["kind", 1]), "kind"),
        at(&json!(["kind", 2]), "kind"),
        at(&json!(["size", "min"]), "size"),
        at(&json!(["metadata", "k", "exists"]), "type"),
        at(&json!(["extra"]), "query.unknown_field"),
    ]
    .into();
    assert_eq!(found, expected);
}

#[test]
fn null_fields_are_absent_ones() {
    let q = json!({
        "kind": null, "content_type": null, "path": null, "name": null, "size": null,
        "mtime": null, "metadata": null, "in": null, "not_in": null, "duplicate": null,
        "watch": null, "deleted": null,
    });
    assert_eq!(Query::parse(&q, &base()).unwrap(), Query::default());
    let empty = json!({"size": {"min": null, "max": null}, "mtime": {}, "metadata": {}});
    assert_eq!(Query::parse(&empty, &base()).unwrap(), Query::default());
}
