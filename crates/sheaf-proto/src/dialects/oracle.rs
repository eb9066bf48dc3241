//! Oracle Content Management's "add an asset to a collection" (SPEC §8.2): its answer,
//! its error fields, and the table from sheaf's error codes to its codes, keys and
//! statuses (`001_*.txt`). Both answer as JSON or, on `Accept: application/xml`, as XML
//! with one element per field.

use serde::{Deserialize, Serialize};
use sheaf_core::rules::NewEntry;
use sheaf_core::{CollectionId, ErrorCode, ItemId, ItemTarget, Refusal};
use utoipa::ToSchema;

/// The `type` of every error: the page of HTTP status definitions.
pub const ERROR_TYPE_URL: &str = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html";

/// The message of `-32`, as the platform documents it.
pub const SYSTEM_ERROR_MESSAGE: &str =
    "The error was caused by an internally generated issue. The error has been logged.";

/// The service named in a privilege error.
const SERVICE: &str = "ADD_ITEM_TO_COLLECTION";

/// 200: the asset is in the collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = CollectionAddSingleFileResponse)]
pub struct Added {
    /// Always `"0"`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// The collection's id.
    pub id: String,
    /// The item's id.
    #[serde(rename = "itemID")]
    pub item_id: String,
    /// Always `"collection"`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl Added {
    /// The answer for item `item_id` added to collection `id`.
    #[must_use]
    pub fn new(id: &str, item_id: &str) -> Self {
        Self {
            error_code: "0".to_owned(),
            id: id.to_owned(),
            item_id: item_id.to_owned(),
            kind: "collection".to_owned(),
        }
    }
}

/// Every refusal, in the platform's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = OracleError)]
pub struct Error {
    /// A negative number as text: `-96`, `-32`, `-20`, `-16`, or `-1` where the platform
    /// has no code for sheaf's refusal.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// `!csDAMItemAlreadyInCollection,fFileGUID:…,fFolderGUID:…` and the like.
    #[serde(rename = "errorKey")]
    pub error_key: String,
    /// What went wrong.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Always `"collection"`.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// The collection's id from the path.
    pub id: String,
    /// The item's id from the path.
    #[serde(rename = "itemID")]
    pub item_id: String,
    /// The message again.
    pub title: String,
    /// Always [`ERROR_TYPE_URL`].
    #[serde(rename = "type")]
    pub kind: String,
}

/// The status the platform answers `code` with.
#[must_use]
pub const fn status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::AlreadyInCollection
        | ErrorCode::ItemNotAllowed
        | ErrorCode::ItemsNotFound
        | ErrorCode::InvalidId => 400,
        ErrorCode::InsufficientPermissions => 403,
        ErrorCode::CollectionNotFound | ErrorCode::CollectionTrashed => 404,
        other => other.http_status(),
    }
}

/// Who asked, and for what: what an error names besides the code.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `collectionId` from the path.
    pub collection: &'a str,
    /// `fileId` from the path.
    pub file: &'a str,
    /// The caller's name: a user name, a uid or an API key's name.
    pub user: &'a str,
}

impl Error {
    /// The platform's error for `refusal` of `req`.
    #[must_use]
    pub fn new(refusal: &Refusal, req: &Request<'_>) -> Self {
        let (cid, fid, user) = (req.collection, req.file, req.user);
        let (code, key, message) = match refusal.code {
            ErrorCode::AlreadyInCollection => (
                "-96",
                format!("!csDAMItemAlreadyInCollection,fFileGUID:{fid},fFolderGUID:{cid}"),
                format!(
                    "Item fFileGUID:{fid} is already a member of collection fFolderGUID:{cid}."
                ),
            ),
            ErrorCode::ItemNotAllowed => (
                "-96",
                format!("!csDAMItemNotAllowedInCollection,fFileGUID:{fid},fFolderGUID:{cid}"),
                format!(
                    "Item fFileGUID:{fid} is not allowed to be added to collection fFolderGUID:{cid}."
                ),
            ),
            ErrorCode::ItemsNotFound | ErrorCode::InvalidId => (
                "-32",
                "!$!csUnprivilegedSystemError".to_owned(),
                SYSTEM_ERROR_MESSAGE.to_owned(),
            ),
            ErrorCode::InsufficientPermissions => (
                "-20",
                format!("!csCloudItemInsufficientPrivileges,{user},fFileGUID:{fid},{SERVICE}"),
                format!(
                    "User '{user}' has insufficient privilege to access fFileGUID:{fid} with \
                     service {SERVICE}."
                ),
            ),
            ErrorCode::CollectionNotFound | ErrorCode::CollectionTrashed => (
                "-16",
                format!("!csFolderNotFound,fFolderGUID:{cid}"),
                format!("Collection fFolderGUID:{cid} is in the trash or does not exist."),
            ),
            other => (
                "-1",
                format!("!{}", other.as_str()),
                refusal.message.clone(),
            ),
        };
        Self {
            error_code: code.to_owned(),
            error_key: key,
            title: message.clone(),
            error_message: message,
            error_type: "collection".to_owned(),
            id: cid.to_owned(),
            item_id: fid.to_owned(),
            kind: ERROR_TYPE_URL.to_owned(),
        }
    }
}

/// The single add of item `fid` to collection `cid`, as the path names them. A platform
/// GUID that is no sheaf id names nothing: the collection is not found, the item does not
/// exist (the platform's `-32`).
pub fn into_request(cid: &str, fid: &str) -> Result<NewEntry, Refusal> {
    let collection = CollectionId::parse(cid).map_err(|_| {
        Refusal::new(
            ErrorCode::CollectionNotFound,
            format!("collection {cid} does not exist"),
        )
    })?;
    let item = fid.parse::<ItemId>().map_err(|_| {
        Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            format!("item {fid} does not exist"),
            "missing",
            vec![fid.to_owned()],
        )
    })?;
    Ok(NewEntry {
        collection,
        item: ItemTarget::Id(item),
        display_name: None,
        unique_id: None,
        metadata: None,
    })
}

/// `value`'s fields as XML, one element per field under `root`, in the order JSON has
/// them: `<root><errorCode>0</errorCode>…</root>`. Values are text; the five XML
/// specials are escaped.
#[must_use]
pub fn to_xml(root: &str, value: &impl Serialize) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>");
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(value) {
        for (name, v) in fields {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push('<');
            out.push_str(&name);
            out.push('>');
            out.push_str(&escape(&text));
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
        }
    }
    out.push_str("</");
    out.push_str(root);
    out.push_str(">\n");
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "F5E88D06A5AEC588BDB96A2045B3E9DD649055F5640B";
    const FID: &str = "D76EE391B7B098777666CBFF45B3E9DD649055F5640B";

    #[test]
    fn already_a_member_reads_as_the_documented_example_2() {
        let req = Request {
            collection: CID,
            file: FID,
            user: "u",
        };
        let e = Error::new(&Refusal::new(ErrorCode::AlreadyInCollection, "x"), &req);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "errorCode": "-96",
                "errorKey": format!("!csDAMItemAlreadyInCollection,fFileGUID:{FID},fFolderGUID:{CID}"),
                "errorMessage": format!("Item fFileGUID:{FID} is already a member of collection fFolderGUID:{CID}."),
                "errorType": "collection",
                "id": CID,
                "itemID": FID,
                "title": format!("Item fFileGUID:{FID} is already a member of collection fFolderGUID:{CID}."),
                "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
            })
        );
        assert_eq!(status(ErrorCode::AlreadyInCollection), 400);
    }

    #[test]
    fn xml_has_one_escaped_element_per_field() {
        let xml = to_xml("CollectionAddSingleFileResponse", &Added::new("a&b", "<i>"));
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CollectionAddSingleFileResponse>\
             <errorCode>0</errorCode><id>a&amp;b</id><itemID>&lt;i&gt;</itemID>\
             <type>collection</type></CollectionAddSingleFileResponse>\n"
        );
    }
}
