//! The four platforms' requests of SPEC §8, one module each: every handler translates the
//! platform's request onto the store's operations (the same planner, transaction, events
//! and op log as `/v1`) and the answer back into the platform's shape. This module renders
//! a refusal in the shape of the platform whose path the request was for, so the gate's
//! refusals (401, 403, 429, shutting down) and the handlers' alike come out as the
//! platform's clients expect them.

pub(super) mod datalab;
pub(super) mod llama;
pub(super) mod oracle;
pub(super) mod wickson;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use sheaf_core::{Refusal, RequestId};
use sheaf_proto::dialects::{Platform, fastapi, oracle as oracle_wire, wickson as wickson_wire};
use sheaf_proto::responses::ErrorEnvelope;

use crate::access::{Caller, Peer};

/// What rendering a refusal takes besides the refusal: whose shape, and what the shape
/// names (the request id; for Oracle the ids in the path, the caller, and whether XML was
/// asked for).
#[derive(Clone, Debug)]
pub(crate) struct ErrorContext {
    /// Whose shape.
    pub(crate) platform: Platform,
    /// The request's id.
    pub(crate) request_id: RequestId,
    /// The request's path, where Oracle's ids are.
    pub(crate) path: String,
    /// `Accept: application/xml`.
    pub(crate) xml: bool,
    /// Who is asking, once known: a uid on the socket, the key's name on TCP.
    pub(crate) user: String,
}

impl ErrorContext {
    /// The context of a request for `path` with `headers` from `peer`.
    pub(crate) fn new(path: &str, headers: &HeaderMap, peer: &Peer, request_id: RequestId) -> Self {
        let user = match peer {
            Peer::Unix(Some(uid)) => uid.to_string(),
            Peer::Unix(None) | Peer::Tcp(_) => String::new(),
        };
        Self {
            platform: Platform::of_path(path),
            request_id,
            path: path.to_owned(),
            xml: wants_xml(headers),
            user,
        }
    }

    /// Records who the caller turned out to be.
    pub(crate) fn caller(&mut self, caller: &Caller) {
        self.user = match caller {
            Caller::Uid(uid) => uid.to_string(),
            Caller::Key(name) => name.clone(),
        };
    }
}

/// Whether the request asks for XML first: `Accept: application/xml` (or `text/xml`)
/// before any JSON type.
pub(super) fn wants_xml(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or_default().trim())
        .find(|t| t.ends_with("/xml") || t.ends_with("/json") || t.ends_with("+json"))
        .is_some_and(|t| t.ends_with("/xml"))
}

/// A rendered refusal: the status, the content type and the body.
pub(crate) struct Rendered {
    pub(crate) status: StatusCode,
    pub(crate) content_type: HeaderValue,
    pub(crate) body: Vec<u8>,
}

/// `refusal` in the shape of `ctx`'s platform.
pub(crate) fn render(refusal: &Refusal, ctx: &ErrorContext) -> Rendered {
    let status = ctx.platform.error_status(refusal.code);
    let json = |value: serde_json::Result<Vec<u8>>| value.unwrap_or_default();
    let body = match ctx.platform {
        Platform::Sheaf => json(serde_json::to_vec(&ErrorEnvelope::new(
            refusal,
            ctx.request_id,
        ))),
        Platform::Datalab | Platform::LlamaCloud => {
            json(serde_json::to_vec(&fastapi::body(refusal).1))
        }
        Platform::Wickson => json(serde_json::to_vec(&wickson_wire::Error::new(
            refusal,
            &ctx.request_id.to_string(),
        ))),
        Platform::Oracle => {
            let (collection, file) = oracle::ids_in_path(&ctx.path);
            let req = oracle_wire::Request {
                collection,
                file,
                user: &ctx.user,
            };
            let error = oracle_wire::Error::new(refusal, &req);
            if ctx.xml {
                return Rendered {
                    status: code(status),
                    content_type: HeaderValue::from_static("application/xml"),
                    body: oracle_wire::to_xml("OracleError", &error).into_bytes(),
                };
            }
            json(serde_json::to_vec(&error))
        }
    };
    Rendered {
        status: code(status),
        content_type: HeaderValue::from_static("application/json"),
        body,
    }
}

fn code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_wanted_when_it_comes_before_json() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            wants_xml(&h)
        };
        assert!(with("application/xml"));
        assert!(with("text/xml;q=0.9, application/json"));
        assert!(!with("application/json, application/xml"));
        assert!(!with("*/*"));
        assert!(!wants_xml(&HeaderMap::new()));
    }
}
