//! Ids in the URL and in bodies: a malformed one answers the SPEC's error code with
//! where it stood.

use sheaf_core::{CollectionId, ErrorCode, ItemTarget, Loc, Refusal};

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

/// Parses an item reference from the URL (an id; paths are not URL segments).
pub fn item_in_path(text: &str) -> Result<ItemTarget, Refusal> {
    text.parse()
        .map(ItemTarget::Id)
        .map_err(|e: sheaf_core::IdError| e.into())
}
