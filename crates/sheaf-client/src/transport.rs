//! The HTTP side: a reqwest client bound to the socket, a route's path filled in, the
//! answer decoded into the route's response type or into [`Error`]. The per-resource
//! methods of [`Client`] are built on the typed helpers at the end.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sheaf_proto::responses::ErrorEnvelope;
use sheaf_proto::routes::{Endpoint, Method, Route};

use crate::{Client, Error};

/// A reqwest client bound to the socket.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    http: reqwest::Client,
    pub(crate) socket: PathBuf,
}

impl Conn {
    pub(crate) fn new(socket: PathBuf) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .unix_socket(socket.clone())
            .build()
            .map_err(|source| Error::Transport {
                socket: socket.clone(),
                source,
            })?;
        Ok(Self { http, socket })
    }

    pub(crate) fn request(&self, route: &Route, params: &[&str]) -> reqwest::RequestBuilder {
        let method = match route.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        self.http
            .request(method, format!("http://sheaf{}", path(route, params)))
    }

    pub(crate) fn failed(&self, route: &Route, e: reqwest::Error, timeout: Duration) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                socket: self.socket.clone(),
                what: route.to_string(),
                after: timeout,
            };
        }
        if e.is_connect()
            && let Some(io) = io_source(&e)
            && is_absent(io)
        {
            return Error::NotRunning {
                socket: self.socket.clone(),
                reason: std::io::Error::new(io.kind(), io.to_string()),
            };
        }
        Error::Transport {
            socket: self.socket.clone(),
            source: e,
        }
    }

    /// Sends and decodes: the success body into `T`, an error status into [`Error::Api`].
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        route: &Route,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<T, Error> {
        self.call_status(route, request, timeout)
            .await
            .map(|(_, value)| value)
    }

    /// [`Conn::call`], answering the success status too (201 tells "created" from 200).
    pub(crate) async fn call_status<T: DeserializeOwned>(
        &self,
        route: &Route,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<(u16, T), Error> {
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.failed(route, e, timeout))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.failed(route, e, timeout))?;
        if status.is_success() {
            serde_json::from_slice(&body)
                .map(|value| (status.as_u16(), value))
                .map_err(|e| decode_error(route, status.as_u16(), &e, &body))
        } else {
            Err(api_error(route, status.as_u16(), &body))
        }
    }
}

/// The route's path with each `{…}` parameter replaced, in order, by the next of
/// `params`, percent-encoded so that whatever the caller passes stays one segment (the
/// daemon then answers a malformed id with its own error, not a 404 for another route).
pub(crate) fn path(route: &Route, params: &[&str]) -> String {
    let mut out = String::with_capacity(route.path.len() + 32);
    let mut params = params.iter();
    let mut rest = route.path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&encode_segment(params.next().copied().unwrap_or_default()));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode_segment(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

fn decode_error(route: &Route, status: u16, e: &serde_json::Error, body: &[u8]) -> Error {
    Error::Decode {
        what: route.to_string(),
        status,
        problem: format!(
            "{e}; the body begins {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

pub(crate) fn api_error(route: &Route, status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => Error::Api {
            status,
            code: envelope.error.code,
            message: envelope.error.message,
            details: envelope.error.details,
            request_id: envelope.error.request_id,
        },
        Err(e) => decode_error(route, status, &e, body),
    }
}

fn io_source<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cur = e.source();
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = err.source();
    }
    None
}

/// Nothing listens: no socket file, or a stale one nobody accepts on.
pub(crate) fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused)
}

/// Connects to the socket and hangs up: tells "nothing there" from "something listens".
pub(crate) async fn probe(socket: &Path) -> Result<(), std::io::Error> {
    tokio::net::UnixStream::connect(socket).await.map(drop)
}

/// The typed calls: each takes a route constant and answers its response type.
impl Client {
    /// A route without a body or query string.
    pub(crate) async fn get<B, Q, R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<B, Q, R>,
        params: &[&str],
    ) -> Result<R, Error> {
        let route = &endpoint.route;
        self.conn
            .call(
                route,
                self.conn.request(route, params),
                self.request_timeout,
            )
            .await
    }

    /// A route with a query string.
    pub(crate) async fn get_query<B, Q: Serialize, R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<B, Q, R>,
        params: &[&str],
        query: &Q,
    ) -> Result<R, Error> {
        let route = &endpoint.route;
        let request = self.conn.request(route, params).query(query);
        self.conn.call(route, request, self.request_timeout).await
    }

    /// A route with a JSON body.
    pub(crate) async fn send<B: Serialize, Q, R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<B, Q, R>,
        params: &[&str],
        body: &B,
    ) -> Result<R, Error> {
        self.send_json(endpoint, params, body).await
    }

    /// A route with a JSON body shaped by hand (the route's body type as JSON, edited);
    /// answers the success status too.
    pub(crate) async fn send_json<B, Q, R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<B, Q, R>,
        params: &[&str],
        body: &(impl Serialize + ?Sized),
    ) -> Result<R, Error> {
        self.send_status(endpoint, params, body)
            .await
            .map(|(_, value)| value)
    }

    /// [`Client::send_json`], answering the success status too (201 tells "created").
    pub(crate) async fn send_status<B, Q, R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<B, Q, R>,
        params: &[&str],
        body: &(impl Serialize + ?Sized),
    ) -> Result<(u16, R), Error> {
        let route = &endpoint.route;
        let request = self.conn.request(route, params).json(body);
        self.conn
            .call_status(route, request, self.request_timeout)
            .await
    }
}

#[cfg(test)]
mod tests {
    use sheaf_proto::routes;

    use super::*;

    #[test]
    fn parameters_fill_the_template_in_order_and_stay_one_segment() {
        assert_eq!(
            path(&routes::GET_ENTRY.route, &["inbox", "doc_01J"]),
            "/v1/collections/inbox/items/doc_01J"
        );
        assert_eq!(
            path(&routes::GET_COLLECTION.route, &["a/b c"]),
            "/v1/collections/a%2Fb%20c"
        );
        assert_eq!(path(&routes::UNDO.route, &["op_1"]), "/v1/ops/op_1/undo");
        assert_eq!(
            path(&routes::RESCAN_WATCH.route, &["w_1"]),
            "/v1/watches/w_1/rescan"
        );
        assert_eq!(path(&routes::HEALTH.route, &[]), "/v1/health");
    }

    #[test]
    fn non_ascii_is_encoded_byte_by_byte() {
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("a.b-c_d~e"), "a.b-c_d~e");
    }

    #[test]
    fn an_error_body_that_is_the_envelope_becomes_api() {
        let body = br#"{"success":false,"error":{"code":"ITEMS_NOT_FOUND","message":"2 of 3 items do not exist","details":{"missing":["a","b"]},"request_id":"req_1"}}"#;
        let e = api_error(&routes::BATCH_ADD.route, 404, body);
        assert_eq!(e.code(), Some("ITEMS_NOT_FOUND"));
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.to_string(), "ITEMS_NOT_FOUND: 2 of 3 items do not exist");
        let Error::Api { details, .. } = e else {
            unreachable!()
        };
        assert_eq!(details["missing"][1], "b");
    }

    #[test]
    fn an_error_body_that_is_not_the_envelope_is_a_decode_error() {
        let e = api_error(&routes::HEALTH.route, 502, b"Bad Gateway");
        assert!(matches!(e, Error::Decode { status: 502, .. }), "{e}");
        assert!(e.to_string().contains("Bad Gateway"), "{e}");
    }
}
