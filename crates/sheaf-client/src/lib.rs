//! A typed async client of `sheafd`'s JSON API over its Unix socket: one method per route
//! of `sheaf_proto::routes::ROUTES`, answering `sheaf-proto` types, and an [`Error`] that
//! carries the API's error envelope so callers branch on its code. [`Client::connect`]
//! checks `/v1/health` and the API version, and starts `sheafd` in the background when
//! nothing answers on the socket (unless `SHEAF_NO_AUTOSTART=1`).
//!
//! reqwest and tokio only: no HTTP server (axum), no database (redb), no terminal. The CLI
//! and the TUI talk to the daemon through this crate alone.

mod autostart;
mod calls;
mod error;
mod events;
mod paths;
mod watches;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sheaf_proto::requests::{
    BatchAddBody, CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams,
    EntryCreateBody, EntryListParams, EntryPatchBody, EventParams, ItemListParams, ItemPatchBody,
    OpListParams, RegisterBody, RemoveBody, ReorderBody,
};
use sheaf_proto::resources::{Collection, Entry, Item};
use sheaf_proto::responses::{
    BatchResponse, CollectionList, EntryPage, ErrorEnvelope, Health, HealthLimits, ItemPage,
    OpPage, RemoveResponse, ReorderResponse, UndoResponse,
};

use crate::calls::Call;
pub use crate::error::Error;
pub use crate::events::EventStream;
pub use crate::paths::{autostart_log, default_socket, find_sheafd};
pub use crate::watches::AddedWatch;

/// The environment variable that turns autostart off when set to `1`.
pub const NO_AUTOSTART_ENV: &str = "SHEAF_NO_AUTOSTART";

/// How to reach the daemon.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The socket; `None`: [`default_socket`].
    pub socket: Option<PathBuf>,
    /// Passed to an autostarted sheafd as `--database`.
    pub database: Option<PathBuf>,
    /// Passed to an autostarted sheafd as `--config`.
    pub config: Option<PathBuf>,
    /// Start sheafd when nothing answers. Default: on, unless `SHEAF_NO_AUTOSTART=1`.
    pub autostart: bool,
    /// The sheafd binary to start; `None`: [`find_sheafd`].
    pub sheafd: Option<PathBuf>,
    /// How long the health check at connect may take (default 2 s).
    pub health_timeout: Duration,
    /// How long any other request may take, body included (default 30 s). The event
    /// stream only waits this long for its headers.
    pub request_timeout: Duration,
    /// How long an autostarted sheafd has to answer (default 5 s).
    pub autostart_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            socket: None,
            database: None,
            config: None,
            autostart: std::env::var_os(NO_AUTOSTART_ENV).is_none_or(|v| v != "1"),
            sheafd: None,
            health_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            autostart_timeout: Duration::from_secs(5),
        }
    }
}

/// The HTTP side: a reqwest client bound to the socket.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    http: reqwest::Client,
    pub(crate) socket: PathBuf,
}

impl Conn {
    pub(crate) fn request(&self, call: &Call, params: &[&str]) -> reqwest::RequestBuilder {
        self.http.request(
            call.reqwest_method(),
            format!("http://sheaf{}", call.path(params)),
        )
    }

    fn failed(&self, call: &Call, e: reqwest::Error, timeout: Duration) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                socket: self.socket.clone(),
                what: call.describe(),
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
        call: &Call,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<T, Error> {
        self.call_status(call, request, timeout)
            .await
            .map(|(_, value)| value)
    }

    /// [`Conn::call`], answering the success status too (201 tells "created" from 200).
    pub(crate) async fn call_status<T: DeserializeOwned>(
        &self,
        call: &Call,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<(u16, T), Error> {
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.failed(call, e, timeout))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.failed(call, e, timeout))?;
        if status.is_success() {
            serde_json::from_slice(&body)
                .map(|value| (status.as_u16(), value))
                .map_err(|e| decode_error(call, status.as_u16(), &e, &body))
        } else {
            Err(api_error(call, status.as_u16(), &body))
        }
    }
}

fn decode_error(call: &Call, status: u16, e: &serde_json::Error, body: &[u8]) -> Error {
    Error::Decode {
        what: call.describe(),
        status,
        problem: format!(
            "{e}; the body begins {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

fn api_error(call: &Call, status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => Error::Api {
            status,
            code: envelope.error.code,
            message: envelope.error.message,
            details: envelope.error.details,
            request_id: envelope.error.request_id,
        },
        Err(e) => decode_error(call, status, &e, body),
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
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused)
}

/// Connects to the socket and hangs up: tells "nothing there" from "something listens".
pub(crate) async fn probe(socket: &Path) -> Result<(), std::io::Error> {
    tokio::net::UnixStream::connect(socket).await.map(drop)
}

/// A connection to a daemon that answered `/v1/health` with this client's API version.
#[derive(Clone, Debug)]
pub struct Client {
    conn: Conn,
    request_timeout: Duration,
    health: Health,
    autostarted: bool,
}

impl Client {
    /// Finds the daemon (starting it if allowed and nothing answers), checks its health
    /// and API version.
    pub async fn connect(options: ConnectOptions) -> Result<Self, Error> {
        let socket = options.socket.clone().unwrap_or_else(default_socket);
        let http = reqwest::Client::builder()
            .unix_socket(socket.clone())
            .build()
            .map_err(|source| Error::Transport {
                socket: socket.clone(),
                source,
            })?;
        let conn = Conn { http, socket };
        let mut autostarted = false;
        if let Err(reason) = probe(&conn.socket).await {
            if !is_absent(&reason) {
                return Err(Error::Io {
                    path: conn.socket,
                    verb: "connecting to the daemon's socket",
                    source: reason,
                });
            }
            if !options.autostart {
                return Err(Error::NotRunning {
                    socket: conn.socket,
                    reason,
                });
            }
            autostart::start(&options, &conn).await?;
            autostarted = true;
        }
        let health = checked_health(&conn, options.health_timeout).await?;
        Ok(Self {
            conn,
            request_timeout: options.request_timeout,
            health,
            autostarted,
        })
    }

    /// The socket.
    #[must_use]
    pub fn socket(&self) -> &Path {
        &self.conn.socket
    }

    /// The health the daemon reported when this client connected.
    #[must_use]
    pub fn connected_health(&self) -> &Health {
        &self.health
    }

    /// The daemon's request bounds (as of connecting), e.g. `max_batch` to split input.
    #[must_use]
    pub fn limits(&self) -> HealthLimits {
        self.health.limits
    }

    /// Whether connecting started the daemon.
    #[must_use]
    pub fn autostarted(&self) -> bool {
        self.autostarted
    }

    async fn get<T: DeserializeOwned>(&self, call: &Call, params: &[&str]) -> Result<T, Error> {
        self.conn
            .call(call, self.conn.request(call, params), self.request_timeout)
            .await
    }

    async fn get_query<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        call: &Call,
        params: &[&str],
        query: &Q,
    ) -> Result<T, Error> {
        let request = self.conn.request(call, params).query(query);
        self.conn.call(call, request, self.request_timeout).await
    }

    async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        call: &Call,
        params: &[&str],
        body: &B,
    ) -> Result<T, Error> {
        let request = self.conn.request(call, params).json(body);
        self.conn.call(call, request, self.request_timeout).await
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<Health, Error> {
        self.get(&calls::HEALTH, &[]).await
    }

    /// `GET /v1/openapi.json`: the API's OpenAPI 3.1 document.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get(&calls::OPENAPI, &[]).await
    }

    /// `GET /v1/collections`: `default` first, then by id.
    pub async fn list_collections(
        &self,
        params: &CollectionListParams,
    ) -> Result<CollectionList, Error> {
        self.get_query(&calls::LIST_COLLECTIONS, &[], params).await
    }

    /// `POST /v1/collections`.
    pub async fn create_collection(
        &self,
        body: &CollectionCreateBody,
    ) -> Result<Collection, Error> {
        self.send(&calls::CREATE_COLLECTION, &[], body).await
    }

    /// `GET /v1/collections/{cid}`.
    pub async fn get_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get(&calls::GET_COLLECTION, &[cid]).await
    }

    /// `PATCH /v1/collections/{cid}`. `accept: None` leaves the accept list alone and
    /// `Some(None)` clears it.
    pub async fn update_collection(
        &self,
        cid: &str,
        body: &CollectionPatchBody,
    ) -> Result<Collection, Error> {
        self.send(&calls::UPDATE_COLLECTION, &[cid], &patch_json(body))
            .await
    }

    /// `DELETE /v1/collections/{cid}`: to the trash.
    pub async fn trash_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get_query(
            &calls::DELETE_COLLECTION,
            &[cid],
            &DeleteParams { purge: None },
        )
        .await
    }

    /// `DELETE /v1/collections/{cid}?purge=true`: a trashed collection, for good. Answers
    /// the collection as it was.
    pub async fn purge_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get_query(
            &calls::DELETE_COLLECTION,
            &[cid],
            &DeleteParams { purge: Some(true) },
        )
        .await
    }

    /// `POST /v1/collections/{cid}/restore`: out of the trash.
    pub async fn restore_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get(&calls::RESTORE_COLLECTION, &[cid]).await
    }

    /// `GET /v1/collections/{cid}/items`: one page; follow `next_cursor` for the next.
    pub async fn list_entries(
        &self,
        cid: &str,
        params: &EntryListParams,
    ) -> Result<EntryPage, Error> {
        self.get_query(&calls::LIST_ENTRIES, &[cid], params).await
    }

    /// `POST /v1/collections/{cid}/items`: the batch add or move, atomic.
    pub async fn batch_add(&self, cid: &str, body: &BatchAddBody) -> Result<BatchResponse, Error> {
        self.send(&calls::BATCH_ADD, &[cid], body).await
    }

    /// `POST /v1/collections/{cid}/items/remove`: the batch remove (soft), atomic.
    pub async fn remove(&self, cid: &str, body: &RemoveBody) -> Result<RemoveResponse, Error> {
        self.send(&calls::BATCH_REMOVE, &[cid], body).await
    }

    /// `POST /v1/collections/{cid}/items/reorder`.
    pub async fn reorder(&self, cid: &str, body: &ReorderBody) -> Result<ReorderResponse, Error> {
        self.send(&calls::REORDER, &[cid], body).await
    }

    /// `GET /v1/collections/{cid}/items/{item_id}`.
    pub async fn get_entry(&self, cid: &str, item: &str) -> Result<Entry, Error> {
        self.get(&calls::GET_ENTRY, &[cid, item]).await
    }

    /// `POST /v1/collections/{cid}/items/{item_id}`: create semantics (409
    /// `ALREADY_IN_COLLECTION` if live).
    pub async fn add_entry(
        &self,
        cid: &str,
        item: &str,
        body: &EntryCreateBody,
    ) -> Result<Entry, Error> {
        self.send(&calls::ADD_ENTRY, &[cid, item], body).await
    }

    /// `PATCH /v1/collections/{cid}/items/{item_id}`.
    pub async fn update_entry(
        &self,
        cid: &str,
        item: &str,
        body: &EntryPatchBody,
    ) -> Result<Entry, Error> {
        self.send(&calls::UPDATE_ENTRY, &[cid, item], body).await
    }

    /// `DELETE /v1/collections/{cid}/items/{item_id}`: soft; answers the removed entry.
    pub async fn remove_entry(&self, cid: &str, item: &str) -> Result<Entry, Error> {
        self.get(&calls::REMOVE_ENTRY, &[cid, item]).await
    }

    /// `GET /v1/items`: one page.
    pub async fn list_items(&self, params: &ItemListParams) -> Result<ItemPage, Error> {
        self.get_query(&calls::LIST_ITEMS, &[], params).await
    }

    /// `POST /v1/items`: registers files by absolute path, idempotent; items in request
    /// order.
    pub async fn register_items(&self, body: &RegisterBody) -> Result<ItemPage, Error> {
        self.send(&calls::REGISTER_ITEMS, &[], body).await
    }

    /// `GET /v1/items/{item_id}`, with the collections it is live in.
    pub async fn get_item(&self, item: &str) -> Result<Item, Error> {
        self.get(&calls::GET_ITEM, &[item]).await
    }

    /// `PATCH /v1/items/{item_id}`.
    pub async fn update_item(&self, item: &str, body: &ItemPatchBody) -> Result<Item, Error> {
        self.send(&calls::UPDATE_ITEM, &[item], body).await
    }

    /// `GET /v1/events?since=SEQ`: the change feed, streamed. `since: None` follows only
    /// new events.
    pub async fn events(&self, since: Option<u64>) -> Result<EventStream, Error> {
        let call = &calls::EVENTS;
        let request = self.conn.request(call, &[]).query(&EventParams { since });
        let timeout = self.request_timeout;
        let response = match tokio::time::timeout(timeout, request.send()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    socket: self.conn.socket.clone(),
                    what: call.describe(),
                    after: timeout,
                });
            }
            Ok(sent) => sent.map_err(|e| self.conn.failed(call, e, timeout))?,
        };
        let status = response.status();
        if !status.is_success() {
            let body = response
                .bytes()
                .await
                .map_err(|e| self.conn.failed(call, e, timeout))?;
            return Err(api_error(call, status.as_u16(), &body));
        }
        Ok(EventStream::new(response, self.conn.socket.clone()))
    }

    /// `GET /v1/ops`: newest first, one page.
    pub async fn list_ops(&self, params: &OpListParams) -> Result<OpPage, Error> {
        self.get_query(&calls::LIST_OPS, &[], params).await
    }

    /// `POST /v1/ops/{op_id}/undo`.
    pub async fn undo(&self, op: &str) -> Result<UndoResponse, Error> {
        self.get(&calls::UNDO, &[op]).await
    }
}

/// Health, checked: the API version is read before the rest of the body, so that a daemon
/// of another version is named as such even if its health looks different.
async fn checked_health(conn: &Conn, timeout: Duration) -> Result<Health, Error> {
    let call = &calls::HEALTH;
    let value: serde_json::Value = conn.call(call, conn.request(call, &[]), timeout).await?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned()
    };
    let api_version = field("api_version");
    if api_version != sheaf_proto::API_VERSION {
        return Err(Error::VersionMismatch {
            client: sheaf_proto::API_VERSION.to_owned(),
            daemon: api_version,
            daemon_version: field("version"),
            socket: conn.socket.clone(),
        });
    }
    serde_json::from_value(value).map_err(|e| Error::Decode {
        what: call.describe(),
        status: 200,
        problem: e.to_string(),
    })
}

/// The JSON of a collection patch with `accept` left out when it is `None`: the proto
/// type serializes an absent `accept` as `null`, which the daemon reads as "accept
/// everything".
fn patch_json(body: &CollectionPatchBody) -> serde_json::Value {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.retain(|k, v| !(v.is_null() && k != "accept"));
        if body.accept.is_none() {
            map.remove("accept");
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_without_accept_leaves_it_out_and_a_cleared_accept_is_null() {
        let keep = CollectionPatchBody {
            name: Some("N".into()),
            ..CollectionPatchBody::default()
        };
        assert_eq!(patch_json(&keep), serde_json::json!({"name": "N"}));
        let clear = CollectionPatchBody {
            accept: Some(None),
            ..CollectionPatchBody::default()
        };
        assert_eq!(patch_json(&clear), serde_json::json!({"accept": null}));
        let set = CollectionPatchBody {
            accept: Some(Some(vec!["image".into()])),
            archived: Some(true),
            ..CollectionPatchBody::default()
        };
        assert_eq!(
            patch_json(&set),
            serde_json::json!({"accept": ["image"], "archived": true})
        );
    }

    #[test]
    fn an_error_body_that_is_the_envelope_becomes_api() {
        let body = br#"{"success":false,"error":{"code":"ITEMS_NOT_FOUND","message":"2 of 3 items do not exist","details":{"missing":["a","b"]},"request_id":"req_1"}}"#;
        let e = api_error(&calls::BATCH_ADD, 404, body);
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
        let e = api_error(&calls::HEALTH, 502, b"Bad Gateway");
        assert!(matches!(e, Error::Decode { status: 502, .. }), "{e}");
        assert!(e.to_string().contains("Bad Gateway"), "{e}");
    }

    #[tokio::test]
    async fn with_autostart_off_a_missing_socket_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("none.sock");
        let err = Client::connect(ConnectOptions {
            socket: Some(socket.clone()),
            autostart: false,
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        match &err {
            Error::NotRunning { socket: s, reason } => {
                assert_eq!(s, &socket);
                assert_eq!(reason.kind(), ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_unreachable());
    }

    #[tokio::test]
    async fn a_stale_socket_with_nobody_accepting_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        let err = Client::connect(ConnectOptions {
            socket: Some(socket),
            autostart: false,
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::NotRunning { reason, .. } if reason.kind() == ErrorKind::ConnectionRefused),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn autostart_without_a_sheafd_binary_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::connect(ConnectOptions {
            socket: Some(dir.path().join("s.sock")),
            autostart: true,
            sheafd: Some(dir.path().join("no-such-sheafd")),
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Autostart { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-sheafd"), "{err}");
    }

    #[tokio::test]
    async fn autostart_of_a_sheafd_that_exits_reports_its_stderr() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sheafd");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"sheafd: cannot open the store\" >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = dir.path().join("run/s.sock");
        let err = Client::connect(ConnectOptions {
            socket: Some(socket),
            autostart: true,
            sheafd: Some(fake),
            ..ConnectOptions::default()
        })
        .await
        .unwrap_err();
        let Error::Autostart {
            log, stderr_tail, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            log.as_deref(),
            Some(dir.path().join("run/sheafd.log").as_path())
        );
        assert_eq!(stderr_tail, "sheafd: cannot open the store");
        assert!(
            err.to_string().contains("exited with exit status: 1"),
            "{err}"
        );
    }
}
