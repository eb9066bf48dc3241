//! Oracle Content Management (SPEC §8.2): `POST
//! /documents/api/1.1/collections/{collectionId}/files/{fileId}`, no body, adds one item:
//! the single add of SPEC §2.1 with its defaults. The answer and the errors are JSON, or
//! XML on `Accept: application/xml`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sheaf_proto::dialects::oracle::{Added, into_request, to_xml};

use super::super::{ApiError, AppState};

/// Where the ids stand in the route's path.
const PREFIX: &str = "/documents/api/1.1/collections/";

/// `collectionId` and `fileId` of a request path (empty where the path has none), for
/// the errors, which name both.
pub(super) fn ids_in_path(path: &str) -> (&str, &str) {
    let rest = path.strip_prefix(PREFIX).unwrap_or_default();
    let mut parts = rest.splitn(3, '/');
    let collection = parts.next().unwrap_or_default();
    let file = match parts.next() {
        Some("files") => parts.next().unwrap_or_default(),
        _ => "",
    };
    (collection, file)
}

pub(crate) async fn add_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((cid, fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let req = into_request(&cid, &fid)?;
    state.write(move |s| s.add_one(&req)).await?;
    let added = Added::new(&cid, &fid);
    if super::wants_xml(&headers) {
        let mut response = (
            StatusCode::OK,
            to_xml("CollectionAddSingleFileResponse", &added),
        )
            .into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        return Ok(response);
    }
    Ok(axum::Json(added).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_are_read_from_the_path() {
        assert_eq!(
            ids_in_path("/documents/api/1.1/collections/inbox/files/doc_1"),
            ("inbox", "doc_1")
        );
        assert_eq!(
            ids_in_path("/documents/api/1.1/collections/inbox"),
            ("inbox", "")
        );
        assert_eq!(ids_in_path("/v1/health"), ("", ""));
    }
}
