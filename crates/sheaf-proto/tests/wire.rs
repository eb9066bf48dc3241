//! The wire contract: request conversion, the error envelope, and the OpenAPI document.
#![allow(clippy::unwrap_used)] // a test that cannot set up its input should fail loudly

use serde_json::{Value, json};
use sheaf_core::rules::{BatchItems, Mode, Placement};
use sheaf_core::{CollectionId, ErrorCode, ItemTarget, Refusal, RequestId};
use sheaf_proto::requests::{BatchAddBody, CollectionPatchBody, RemoveBody, ReorderBody};
use sheaf_proto::responses::ErrorEnvelope;
use sheaf_proto::routes::ROUTES;

const DOC: &str = "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W";
const IMG: &str = "img_01JD3Q2X9K8M7N6P5R4S3T2V1X";

fn target() -> CollectionId {
    CollectionId::parse("papers").unwrap()
}

fn body(v: Value) -> BatchAddBody {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_batch_body_with_ids_paths_and_fields_converts_to_the_core_request() {
    let req = body(json!({
        "items": [DOC, "/home/u/a.pdf", {"id": IMG, "display_name": "Cover", "unique_id": "cover", "metadata": {"page": 1}}],
        "mode": "move", "from": "inbox", "create": true
    }))
    .into_request(target())
    .unwrap();
    assert_eq!(req.mode, Mode::Move);
    assert_eq!(req.from, Some(CollectionId::parse("inbox").unwrap()));
    assert!(req.create);
    let BatchItems::Refs(refs) = req.items else {
        panic!("expected refs")
    };
    assert_eq!(refs[0].target, ItemTarget::Id(DOC.parse().unwrap()));
    assert_eq!(refs[1].target, ItemTarget::Path("/home/u/a.pdf".into()));
    assert_eq!(refs[2].display_name.as_deref(), Some("Cover"));
    assert_eq!(refs[2].unique_id.as_deref(), Some("cover"));
}

#[test]
fn every_malformed_reference_of_a_batch_is_listed_as_invalid_id() {
    let err = body(json!({"items": [DOC, "nope", "ent_01JD3Q2X9K8M7N6P5R4S3T2V1W"]}))
        .into_request(target())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidId);
    assert_eq!(err.ids(), ["nope", "ent_01JD3Q2X9K8M7N6P5R4S3T2V1W"]);
}

#[test]
fn a_relative_path_is_a_validation_error_at_its_index() {
    let err = body(json!({"items": [DOC, "/a/../b"]}))
        .into_request(target())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationError);
    let details = serde_json::to_value(&err.details).unwrap();
    assert_eq!(details[0]["loc"], json!(["body", "items", 1]));
}

#[test]
fn items_and_select_go_alone() {
    let both = body(json!({"items": [DOC], "select": {"collection": "inbox"}}));
    assert_eq!(
        both.into_request(target()).unwrap_err().code,
        ErrorCode::ValidationError
    );
    let neither = body(json!({"mode": "link"}));
    assert_eq!(
        neither.into_request(target()).unwrap_err().code,
        ErrorCode::ValidationError
    );
    let select = body(json!({"select": {"collection": "inbox", "kind": "image", "q": "cat"}}));
    let BatchItems::Select(sel) = select.into_request(target()).unwrap().items else {
        panic!("expected a selection")
    };
    assert_eq!(
        sel.collection.as_ref().map(CollectionId::as_str),
        Some("inbox")
    );
    assert_eq!(sel.filter.q.as_deref(), Some("cat"));
    assert_eq!(sel.query, None);
}

#[test]
fn a_select_may_carry_a_query_with_or_without_a_collection() {
    let select = body(json!({"select": {"query": {"kind": "document", "path": "~/Papers/**"}}}));
    let BatchItems::Select(sel) = select.into_request(target()).unwrap().items else {
        panic!("expected a selection")
    };
    assert_eq!(sel.collection, None);
    let query = sel.query.expect("the query");
    assert_eq!(
        query.to_json(),
        json!({"kind": ["document"], "path": ["~/Papers/**"]})
    );

    let select = body(json!({"select": {"collection": "inbox", "query": {"duplicate": true}}}));
    let BatchItems::Select(sel) = select.into_request(target()).unwrap().items else {
        panic!("expected a selection")
    };
    assert_eq!(
        sel.collection.as_ref().map(CollectionId::as_str),
        Some("inbox")
    );
    assert!(sel.query.is_some());

    // Every problem of the query is located under body.select.query.
    let err = body(json!({"select": {"query": {"size": {"min": -1}, "colour": "red"}}}))
        .into_request(target())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationError);
    let details = serde_json::to_value(&err.details).unwrap();
    let locs: Vec<&Value> = details
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["loc"])
        .collect();
    assert!(
        locs.contains(&&json!(["body", "select", "query", "size", "min"])),
        "{details}"
    );
    assert!(
        locs.contains(&&json!(["body", "select", "query", "colour"])),
        "{details}"
    );
}

#[test]
fn unknown_fields_and_bad_slugs_are_refused() {
    assert!(serde_json::from_value::<BatchAddBody>(json!({"items": [DOC], "extra": 1})).is_err());
    let err = body(json!({"items": [DOC], "mode": "move", "from": "Bad Slug"}))
        .into_request(target())
        .unwrap_err();
    let details = serde_json::to_value(&err.details).unwrap();
    assert_eq!(details[0]["loc"], json!(["body", "from"]));
}

#[test]
fn reorder_takes_items_or_one_item_with_one_anchor() {
    let front: ReorderBody = serde_json::from_value(json!({"items": [DOC, IMG]})).unwrap();
    assert!(
        matches!(front.into_request(target()).unwrap().placement, Placement::Front(v) if v.len() == 2)
    );
    let after: ReorderBody = serde_json::from_value(json!({"item": DOC, "after": IMG})).unwrap();
    let Placement::Relative {
        after: is_after,
        anchor,
        ..
    } = after.into_request(target()).unwrap().placement
    else {
        panic!("expected a relative placement")
    };
    assert!(is_after);
    assert_eq!(anchor, ItemTarget::Id(IMG.parse().unwrap()));
    let both: ReorderBody =
        serde_json::from_value(json!({"item": DOC, "after": IMG, "before": IMG})).unwrap();
    assert_eq!(
        both.into_request(target()).unwrap_err().code,
        ErrorCode::ValidationError
    );
}

#[test]
fn a_null_accept_resets_while_an_absent_one_keeps() {
    let reset: CollectionPatchBody = serde_json::from_value(json!({"accept": null})).unwrap();
    assert_eq!(reset.into_request().unwrap().accept, Some(None));
    let keep: CollectionPatchBody = serde_json::from_value(json!({"name": "x"})).unwrap();
    assert_eq!(keep.into_request().unwrap().accept, None);
    let bad: CollectionPatchBody = serde_json::from_value(json!({"accept": ["pictures"]})).unwrap();
    let err = bad.into_request().unwrap_err();
    let details = serde_json::to_value(&err.details).unwrap();
    assert_eq!(details[0]["loc"], json!(["body", "accept", 0]));
}

#[test]
fn remove_bodies_parse_every_reference() {
    let ok: RemoveBody = serde_json::from_value(json!({"items": [DOC, "/x/y"]})).unwrap();
    assert_eq!(ok.into_request(target()).unwrap().items.len(), 2);
}

#[test]
fn the_error_envelope_has_the_spec_shape() {
    let refusal = Refusal::with_ids(
        ErrorCode::ItemsNotFound,
        "2 of 3 items do not exist",
        "missing",
        vec![DOC.into(), IMG.into()],
    );
    let rid: RequestId = "req_01JD3Q2X9K8M7N6P5R4S3T2V1W".parse().unwrap();
    let v = serde_json::to_value(ErrorEnvelope::new(&refusal, rid)).unwrap();
    assert_eq!(
        v,
        json!({"success": false, "error": {
            "code": "ITEMS_NOT_FOUND", "message": "2 of 3 items do not exist",
            "details": {"missing": [DOC, IMG]}, "request_id": "req_01JD3Q2X9K8M7N6P5R4S3T2V1W"}})
    );
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().unwrap_or_default().to_owned());
                }
                refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_is_3_1_lists_every_route_and_resolves_every_ref() {
    let doc = serde_json::to_value(sheaf_proto::document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert_eq!(
            op["operationId"],
            route.operation_id,
            "{} {}",
            route.method.as_str(),
            route.path
        );
        assert!(op["responses"][route.status.to_string()].is_object());
        // A malformed request: 400 on sheaf's routes, 422 on the FastAPI platforms'.
        let bad = route
            .platform
            .error_status(sheaf_core::ErrorCode::ValidationError);
        let content = &op["responses"][bad.to_string()]["content"]["application/json"];
        assert_eq!(
            content["schema"]["$ref"],
            format!("#/components/schemas/{}", route.platform.error_schema(bad)),
            "{route}"
        );
        if let Some(tag) = route.platform.tag() {
            assert_eq!(op["tags"], serde_json::json!([tag]), "{route}");
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved {r}"
        );
    }
}

#[test]
fn operation_ids_are_unique_and_every_path_parameter_is_declared() {
    let mut ids: Vec<_> = ROUTES.iter().map(|r| r.operation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ROUTES.len());
    let doc = serde_json::to_value(sheaf_proto::document()).unwrap();
    let op = &doc["paths"]["/v1/collections/{cid}/items/{item_id}"]["patch"];
    let names: Vec<_> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cid", "item_id"]);
}

#[test]
fn a_patch_without_accept_serialises_without_it() {
    let rename = CollectionPatchBody {
        name: Some("x".into()),
        ..CollectionPatchBody::default()
    };
    assert_eq!(
        serde_json::to_value(&rename).unwrap(),
        json!({"name": "x", "description": null, "archived": null})
    );
    let reset = CollectionPatchBody {
        accept: Some(None),
        ..CollectionPatchBody::default()
    };
    assert_eq!(serde_json::to_value(&reset).unwrap()["accept"], Value::Null);
    assert!(
        serde_json::to_value(&reset)
            .unwrap()
            .as_object()
            .unwrap()
            .contains_key("accept")
    );
}

#[test]
fn a_collections_folders_are_watch_id_and_path_on_the_wire_and_in_the_document() {
    let folder = sheaf_proto::resources::Folder {
        watch_id: "w_01JD3Q2X9K8M7N6P5R4S3T2V1W".parse().unwrap(),
        path: "/home/me/Papers".to_owned(),
    };
    let wire = json!({"watch_id": "w_01JD3Q2X9K8M7N6P5R4S3T2V1W", "path": "/home/me/Papers"});
    assert_eq!(serde_json::to_value(&folder).unwrap(), wire);
    assert_eq!(
        serde_json::from_value::<sheaf_proto::resources::Folder>(wire).unwrap(),
        folder
    );

    let doc = serde_json::to_value(sheaf_proto::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Collection"]["properties"]["folders"]["items"]["$ref"],
        "#/components/schemas/Folder"
    );
    let mut required: Vec<&str> = schemas["Folder"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["path", "watch_id"], "{}", schemas["Folder"]);
}
