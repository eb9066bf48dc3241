//! Oracle Content Management's "add an asset to a collection" (SPEC §8.2) against the real
//! daemon: the seed's five examples (`shared/seeds/001_*.txt`) sent as it writes them (no
//! header, no body; curl over the socket, and the TCP listener for the privilege error),
//! the missing or trashed collection, and XML on `Accept: application/xml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sheaf_e2e::Daemon;
use sheaf_e2e::tcp::{curl, tcp, with_tcp};

const TYPE_URL: &str = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html";

fn path(cid: &str, fid: &str) -> String {
    format!("/documents/api/1.1/collections/{cid}/files/{fid}")
}

/// `POST …/collections/{cid}/files/{fid}` over the socket, as the seed sends it.
fn post(d: &Daemon, cid: &str, fid: &str, extra: &[&str]) -> sheaf_e2e::tcp::Curled {
    let socket = d.socket.to_str().unwrap().to_owned();
    let url = format!("http://sheaf{}", path(cid, fid));
    let mut args = vec!["--unix-socket", &socket, "-X", "POST"];
    args.extend_from_slice(extra);
    args.push(&url);
    curl(&args)
}

/// The documented error body, field for field.
fn error(code: &str, key: &str, message: &str, cid: &str, fid: &str) -> Value {
    json!({
        "errorCode": code,
        "errorKey": key,
        "errorMessage": message,
        "errorType": "collection",
        "id": cid,
        "itemID": fid,
        "title": message,
        "type": TYPE_URL
    })
}

#[test]
fn example_1_adds_the_asset_and_example_2_re_adding_it_is_minus_96() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    d.create_collection("photos");
    let r = post(&d, "photos", &ids[0], &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(
        r.body,
        json!({"errorCode": "0", "id": "photos", "itemID": ids[0], "type": "collection"})
    );
    let (_, entries) = d.get("/v1/collections/photos/items");
    assert_eq!(entries["entries"][0]["item_id"], ids[0].as_str());
    let r = post(&d, "photos", &ids[0], &[]);
    assert_eq!(r.status, 400, "{}", r.text);
    let fid = &ids[0];
    assert_eq!(
        r.body,
        error(
            "-96",
            &format!("!csDAMItemAlreadyInCollection,fFileGUID:{fid},fFolderGUID:photos"),
            &format!("Item fFileGUID:{fid} is already a member of collection fFolderGUID:photos."),
            "photos",
            fid
        )
    );
}

#[test]
fn example_3_an_item_that_does_not_exist_is_minus_32() {
    let d = Daemon::start();
    d.create_collection("photos");
    let message =
        "The error was caused by an internally generated issue. The error has been logged.";
    // The seed's own GUID, and a well-formed sheaf id nobody has.
    for fid in [
        "DC1C4D02CC1CD75E8597CB9245B3E9DD649052373471",
        "doc_01J0000000000000000000000A",
    ] {
        let r = post(&d, "photos", fid, &[]);
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(
            r.body,
            error(
                "-32",
                "!$!csUnprivilegedSystemError",
                message,
                "photos",
                fid
            )
        );
    }
}

#[test]
fn example_4_a_read_only_caller_is_minus_20_naming_the_key() {
    let (d, base) = with_tcp();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    d.create_collection("photos");
    let fid = &ids[0];
    let r = tcp(
        &base,
        "POST",
        &path("photos", fid),
        &[("X-API-Key", "reader-key")],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.body,
        error(
            "-20",
            &format!(
                "!csCloudItemInsufficientPrivileges,reader,fFileGUID:{fid},ADD_ITEM_TO_COLLECTION"
            ),
            &format!(
                "User 'reader' has insufficient privilege to access fFileGUID:{fid} with service ADD_ITEM_TO_COLLECTION."
            ),
            "photos",
            fid
        )
    );
    // No key at all: 401, in the same fields.
    let r = tcp(&base, "POST", &path("photos", fid), &[], None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["errorType"], "collection");
    assert_eq!(r.body["id"], "photos");
    assert_eq!(r.body["itemID"], fid.as_str());
    // The write key adds it.
    let r = tcp(
        &base,
        "POST",
        &path("photos", fid),
        &[("Authorization", "Bearer writer-key")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn example_5_an_item_the_collection_does_not_accept_is_minus_96() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    let (s, c) = d.send(
        "POST",
        "/v1/collections",
        &json!({"id": "pictures", "accept": ["image"]}),
    );
    assert_eq!(s, 201, "{c}");
    let fid = &ids[0];
    let r = post(&d, "pictures", fid, &[]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        error(
            "-96",
            &format!("!csDAMItemNotAllowedInCollection,fFileGUID:{fid},fFolderGUID:pictures"),
            &format!(
                "Item fFileGUID:{fid} is not allowed to be added to collection fFolderGUID:pictures."
            ),
            "pictures",
            fid
        )
    );
}

#[test]
fn a_missing_or_trashed_collection_is_404_in_the_same_fields() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    let fid = &ids[0];
    let r = post(&d, "F5E88D06A5AEC588BDB96A2045B3E9DD649055F5640B", fid, &[]);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        r.body["errorKey"],
        "!csFolderNotFound,fFolderGUID:F5E88D06A5AEC588BDB96A2045B3E9DD649055F5640B"
    );
    d.create_collection("old");
    let (s, _) = d.call("DELETE", "/v1/collections/old");
    assert_eq!(s, 200);
    let r = post(&d, "old", fid, &[]);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["errorKey"], "!csFolderNotFound,fFolderGUID:old");
    assert_eq!(r.body["type"], TYPE_URL);
}

#[test]
fn an_archived_collection_is_refused_in_the_same_fields_with_sheaf_code() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    d.create_collection("frozen");
    let (s, _) = d.send(
        "PATCH",
        "/v1/collections/frozen",
        &json!({"archived": true}),
    );
    assert_eq!(s, 200);
    let r = post(&d, "frozen", &ids[0], &[]);
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["errorKey"], "!COLLECTION_ARCHIVED");
    assert_eq!(r.body["errorType"], "collection");
}

#[test]
fn accept_xml_answers_the_same_fields_as_elements() {
    let d = Daemon::start();
    let ids = d.register(&[("a.pdf", b"%PDF-1.4 a")]);
    d.create_collection("photos");
    let fid = &ids[0];
    let xml = ["-H", "Accept: application/xml"];
    let r = post(&d, "photos", fid, &xml);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.content_type.starts_with("application/xml"),
        "{}",
        r.content_type
    );
    assert_eq!(
        r.text,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CollectionAddSingleFileResponse>\
             <errorCode>0</errorCode><id>photos</id><itemID>{fid}</itemID>\
             <type>collection</type></CollectionAddSingleFileResponse>\n"
        )
    );
    let r = post(&d, "photos", fid, &xml);
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.content_type.starts_with("application/xml"));
    assert!(r.text.contains("<errorCode>-96</errorCode>"), "{}", r.text);
    assert!(
        r.text.contains(&format!(
            "<errorKey>!csDAMItemAlreadyInCollection,fFileGUID:{fid},fFolderGUID:photos</errorKey>"
        )),
        "{}",
        r.text
    );
    assert!(r.text.contains(&format!("<type>{TYPE_URL}</type>")));
}
