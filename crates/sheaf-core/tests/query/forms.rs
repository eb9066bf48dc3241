//! The canonical JSON form, and the serde forms: the JSON object in JSON, that JSON as one
//! string in postcard (inside a record, as a collection stores it).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sheaf_core::Query;

use super::{query, wid};

/// A record holding a query between other fields, as a stored collection does.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    before: u32,
    query: Option<Query>,
    after: String,
}

fn full() -> Query {
    query(&json!({
        "kind": ["document", "image"], "content_type": ["application/pdf", "image/*"],
        "path": ["~/Papers/**", "**/*.pdf"], "name": "report",
        "size": {"min": 1_048_576, "max": null},
        "mtime": {"after": "2026-01-01T00:00:00Z", "before": "2026-06-01T12:30:00.5+02:00"},
        "metadata": {"project": "apollo", "reviewed": true, "score": {"min": 3, "max": 7.5},
                     "todo": {"exists": true}, "tag": ["a", 1, 2.5, false]},
        "in": ["inbox"], "not_in": ["archive", "default"], "duplicate": true,
        "watch": [wid(7).to_string()], "deleted": true
    }))
}

#[test]
fn the_canonical_form_drops_absent_fields_and_normalises_shapes() {
    let q = query(&json!({
        "kind": "image", "metadata": {"a": ["x"], "b": 3.0}, "size": {"min": null, "max": 5},
        "mtime": {"after": "2026-01-01T02:00:00+02:00"}, "deleted": false, "duplicate": null
    }));
    assert_eq!(
        q.to_json(),
        json!({
            "kind": ["image"], "metadata": {"a": "x", "b": 3.0}, "size": {"max": 5},
            "mtime": {"after": "2026-01-01T00:00:00Z"}
        })
    );
    assert_eq!(Query::default().to_json(), json!({}));
}

#[test]
fn the_canonical_form_parses_back_to_the_same_query() {
    let q = full();
    assert_eq!(Query::parse(&q.to_json(), &[]).unwrap(), q);
    assert_eq!(q.to_json()["deleted"], json!(true));
    assert_eq!(
        q.to_json()["metadata"]["score"],
        json!({"min": 3, "max": 7.5})
    );
}

#[test]
fn json_serde_is_the_canonical_object() {
    let q = full();
    assert_eq!(serde_json::to_value(&q).unwrap(), q.to_json());
    let text = serde_json::to_string(&q).unwrap();
    assert_eq!(serde_json::from_str::<Query>(&text).unwrap(), q);
}

#[test]
fn json_serde_refuses_an_invalid_query_naming_the_field() {
    let err = serde_json::from_str::<Query>(r#"{"size": {"min": -1}}"#).unwrap_err();
    assert!(err.to_string().contains("size.min"), "{err}");
}

#[test]
fn postcard_round_trips_a_query_inside_a_record() {
    for query in [Some(full()), Some(Query::default()), None] {
        let record = Record {
            before: 7,
            query,
            after: "tail".to_owned(),
        };
        let bytes = postcard::to_allocvec(&record).unwrap();
        assert_eq!(postcard::from_bytes::<Record>(&bytes).unwrap(), record);
    }
}

#[test]
fn postcard_refuses_a_stored_query_that_no_longer_parses() {
    #[derive(Serialize)]
    struct Raw {
        before: u32,
        query: Option<String>,
        after: String,
    }
    let raw = Raw {
        before: 1,
        query: Some(r#"{"kind": ["pictures"]}"#.to_owned()),
        after: String::new(),
    };
    let bytes = postcard::to_allocvec(&raw).unwrap();
    assert!(postcard::from_bytes::<Record>(&bytes).is_err());
}
