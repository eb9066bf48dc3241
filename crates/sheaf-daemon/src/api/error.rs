//! Errors on the wire: every failure becomes one [`ApiError`], and one middleware renders
//! it as the SPEC's envelope with the request's id. Extractors for JSON bodies and query
//! strings turn malformed input into located `VALIDATION_ERROR`s, `413` and `415`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sheaf_core::{ErrorCode, FieldError, Loc, Refusal};
use sheaf_proto::bounded;
use sheaf_store::{ReadError, StoreError, WriteError};

use super::AppState;

/// A failed request: the refusal to render, and for 429 when to retry.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) refusal: Refusal,
    pub(crate) retry_after: Option<u64>,
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, source = ?std::error::Error::source(&e), "store failure");
        Refusal::new(
            ErrorCode::StorageError,
            "the database failed; the daemon's log has the details",
        )
        .into()
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::BadCursor(c) => Refusal::field(
                vec!["query".into(), "cursor".into()],
                format!("the cursor {c:?} was not handed out by this listing"),
                "cursor",
            )
            .into(),
            ReadError::Store(s) => s.into(),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Refused(r) => r.into(),
            WriteError::Store(s) => s.into(),
        }
    }
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal::new(code, message).into()
    }

    pub(crate) fn internal(what: &str) -> Self {
        tracing::error!(what, "internal error");
        Self::new(
            ErrorCode::Internal,
            "an internal error occurred; the daemon's log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    /// The status and the refusal; the envelope itself is rendered by [`render_errors`]
    /// once the request id is known.
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.refusal.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(PendingError(self.refusal));
        response
    }
}

/// How long a client may take to send a request body once its head arrived; a client
/// that stalls mid-body gets a `VALIDATION_ERROR` and its connection closed (see
/// `connections` for the head).
pub(crate) const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Wraps an error response that no handler rendered (an extractor's rejection, e.g. a
/// path segment that is not UTF-8) in the envelope, so every error is one, with the
/// rejection's text as the message.
pub(crate) async fn envelop_bare_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || is_json
        || response.extensions().get::<PendingError>().is_some()
    {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let refusal = match status.as_u16() {
        400 | 422 => Refusal::field(vec![Loc::from("path")], message, "path"),
        404 => Refusal::new(ErrorCode::NotFound, message),
        405 => Refusal::new(ErrorCode::MethodNotAllowed, message),
        413 => Refusal::new(ErrorCode::PayloadTooLarge, message),
        415 => Refusal::new(ErrorCode::UnsupportedMediaType, message),
        s if s >= 500 => {
            tracing::error!(status = s, message, "an unrendered server error");
            Refusal::new(
                ErrorCode::Internal,
                "an internal error occurred; the daemon's log has the details",
            )
        }
        _ => Refusal::new(ErrorCode::ValidationError, message),
    };
    ApiError::from(refusal).into_response()
}

/// A refusal waiting to be rendered.
#[derive(Clone, Debug)]
pub(crate) struct PendingError(pub(crate) Refusal);

/// Renders a pending error in the shape of the request's platform: SPEC §2.3's envelope
/// with the request id on `/v1`, the platform's own on the routes of SPEC §8.
pub(crate) fn render_errors(
    mut response: Response,
    ctx: &super::dialect::ErrorContext,
) -> Response {
    let Some(PendingError(refusal)) = response.extensions_mut().remove::<PendingError>() else {
        return response;
    };
    let rendered = super::dialect::render(&refusal, ctx);
    let (mut parts, _) = response.into_parts();
    parts.status = rendered.status;
    parts
        .headers
        .insert(header::CONTENT_TYPE, rendered.content_type);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(rendered.body))
}

fn path_locs(root: &str, path: &serde_path_to_error::Path) -> Vec<Loc> {
    let mut loc = vec![Loc::from(root)];
    for seg in path {
        match seg {
            serde_path_to_error::Segment::Seq { index } => loc.push(Loc::Index(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(Loc::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => loc.push(Loc::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    loc
}

/// A JSON body: `415` unless the content type is JSON, `413` past the size limit, `400`
/// with the offending field's location when it does not parse, `BATCH_SIZE_EXCEEDED` as
/// soon as a batch list goes past `max_batch` (its lists and maps are bounded while they
/// are parsed: `sheaf_proto::bounded`).
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

fn not_json() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "the body must be JSON, sent with Content-Type: application/json",
    )
}

/// The whole body, within [`BODY_READ_TIMEOUT`] and the size limit.
async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, Bytes::from_request(req, state));
    let bytes = read.await.map_err(|_| {
        ApiError::new(
            ErrorCode::ValidationError,
            format!(
                "the body did not arrive within {} s",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )
    })?;
    bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the body is larger than the daemon accepts (max_body_bytes)",
            )
        } else {
            ApiError::new(
                ErrorCode::ValidationError,
                format!("the body could not be read: {e}"),
            )
        }
    })
}

/// Parses a JSON body, locating the first problem.
fn parse_json<T: DeserializeOwned>(bytes: &[u8], state: &AppState) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let max_batch = state.config.limits.max_batch;
    let parsed = bounded::with_max_batch(max_batch, || serde_path_to_error::deserialize(&mut de));
    let value = parsed.map_err(|e| {
        let loc = path_locs("body", e.path());
        if let Some(refusal) = bounded::batch_size_exceeded(&loc, max_batch) {
            return ApiError::from(refusal);
        }
        let inner = e.into_inner();
        let kind = if inner.is_syntax() || inner.is_eof() {
            "json_invalid"
        } else {
            "value_error"
        };
        ApiError::from(Refusal::validation(vec![FieldError::new(
            loc,
            inner.to_string(),
            kind,
        )]))
    })?;
    de.end().map_err(|e| {
        ApiError::from(Refusal::field(
            vec![Loc::from("body")],
            e.to_string(),
            "json_invalid",
        ))
    })?;
    Ok(value)
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(not_json());
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes, state).map(JsonBody)
    }
}

/// A query string; `400` with the parameter's location when it does not parse.
#[derive(Debug)]
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let loc = path_locs("query", e.path());
                Refusal::validation(vec![FieldError::new(loc, e.inner().to_string(), "query")])
                    .into()
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// An optional JSON body: absent when the request's body is empty, whatever its
/// `Content-Type` says (an empty body is no body, SPEC §2.1).
impl<T: DeserializeOwned> axum::extract::OptionalFromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Option<Self>, ApiError> {
        let json = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(not_json());
        }
        parse_json(&bytes, state).map(|v| Some(JsonBody(v)))
    }
}
