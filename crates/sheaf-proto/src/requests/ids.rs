//! Ids in the URL and in bodies: a malformed one answers the SPEC's error code with
//! where it stood.

use std::str::FromStr;

use sheaf_core::{CollectionId, ErrorCode, IdError, ItemTarget, Loc, Refusal};

/// Parses a collection id from the URL.
pub fn collection_in_path(text: &str) -> Result<CollectionId, Refusal> {
    CollectionId::parse(text).map_err(|e| {
        Refusal::field(
            vec!["path".into(), "collection_id".into()],
            e.to_string(),
            "slug",
        )
    })
}

/// Parses a collection id from a body field.
pub(super) fn collection_in_body(text: &str, loc: Vec<Loc>) -> Result<CollectionId, Refusal> {
    CollectionId::parse(text).map_err(|e| Refusal::field(loc, e.to_string(), "slug"))
}

/// Parses item references, reporting every malformed one at once: malformed ids are
/// `INVALID_ID` (details `invalid`), bad paths `VALIDATION_ERROR`.
pub(super) fn targets<'a>(
    refs: impl IntoIterator<Item = (&'a str, Vec<Loc>)>,
) -> Result<Vec<ItemTarget>, Refusal> {
    let mut out = Vec::new();
    let mut invalid = Vec::new();
    let mut fields = Vec::new();
    for (text, loc) in refs {
        match ItemTarget::parse(text, loc) {
            Ok(t) => out.push(t),
            Err(r) if r.code == ErrorCode::InvalidId => invalid.extend(r.ids().iter().cloned()),
            Err(r) => match r.details {
                sheaf_core::Details::Fields(f) => fields.extend(f),
                _ => return Err(r),
            },
        }
    }
    if !fields.is_empty() {
        return Err(Refusal::validation(fields));
    }
    if !invalid.is_empty() {
        return Err(Refusal::with_ids(
            ErrorCode::InvalidId,
            format!(
                "{} item reference(s) are neither an item id nor an absolute path",
                invalid.len()
            ),
            "invalid",
            invalid,
        ));
    }
    Ok(out)
}

/// Parses a prefixed id (`doc_…`, `w_…`, `op_…`) from the URL: a malformed one is
/// `INVALID_ID`, naming it.
pub fn id_in_path<T: FromStr<Err = IdError>>(text: &str) -> Result<T, Refusal> {
    text.parse().map_err(Refusal::from)
}

/// Parses an item reference from the URL (an id; paths are not URL segments).
pub fn item_in_path(text: &str) -> Result<ItemTarget, Refusal> {
    id_in_path(text).map(ItemTarget::Id)
}

#[cfg(test)]
mod tests {
    use sheaf_core::{OpId, WatchId};

    use super::*;

    #[test]
    fn a_prefixed_id_in_the_path_parses_and_a_malformed_one_is_invalid_id() {
        let wid = "w_01JD3Q2X9K8M7N6P5R4S3T2V1W";
        assert_eq!(id_in_path::<WatchId>(wid).unwrap().to_string(), wid);
        for bad in ["op_1", "w_01JD3Q2X9K8M7N6P5R4S3T2V1W", "doc_"] {
            let refusal = id_in_path::<OpId>(bad).unwrap_err();
            assert_eq!(refusal.code, ErrorCode::InvalidId, "{bad}");
            assert_eq!(refusal.ids(), [bad.to_owned()], "{bad}");
        }
        assert!(matches!(
            item_in_path("/abs/path").unwrap_err().code,
            ErrorCode::InvalidId
        ));
    }
}
