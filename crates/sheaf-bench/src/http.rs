//! The benchmarks' HTTP client: one hyper HTTP/1.1 connection over a Unix socket, kept
//! alive, requests sent one after another on it; the few daemon calls the benchmarks share
//! (a collection read, a watch added, a count waited for) on a fresh connection each; and
//! the change feed followed, each event stamped with the instant its bytes arrived.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sheaf_proto::resources::Event;
use tokio::net::UnixStream;
use tokio::runtime::Runtime;

use crate::Result;

/// How long [`until_count`] waits at most.
const COUNT_DEADLINE: Duration = Duration::from_secs(600);

/// A kept-alive connection.
#[derive(Debug)]
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(socket: &Path) -> Result<Self> {
        let stream = UnixStream::connect(socket).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection; a
            // failure shows up as an error of the next request.
            let _ = conn.await;
        });
        Ok(Self { sender })
    }

    /// `GET path`: the status and the whole body.
    pub async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes)> {
        let response = self.head(path).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// `POST path` with a JSON body: the status and the whole body.
    pub async fn post_json(&mut self, path: &str, body: Bytes) -> Result<(StatusCode, Bytes)> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, "sheaf")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// `GET path` up to the response head; the body is left to stream.
    async fn head(&mut self, path: &str) -> Result<Response<Incoming>> {
        let req = Request::get(path)
            .header(HOST, "sheaf")
            .body(Full::new(Bytes::new()))?;
        self.sender.ready().await?;
        Ok(self.sender.send_request(req).await?)
    }
}

/// The body of a 2xx answer as JSON, else an error naming the request.
fn json_of(what: &str, (status, body): (StatusCode, Bytes)) -> Result<serde_json::Value> {
    if !status.is_success() {
        return Err(format!(
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// `GET path` on a fresh connection: the JSON answer, an error unless 2xx.
pub fn get(rt: &Runtime, socket: &Path, path: &str) -> Result<serde_json::Value> {
    let answer = rt.block_on(async { Conn::open(socket).await?.get(path).await })?;
    json_of(&format!("GET {path}"), answer)
}

/// `POST path` with `body` on a fresh connection: the JSON answer, an error unless 2xx.
pub fn post(
    rt: &Runtime,
    socket: &Path,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let bytes = Bytes::from(serde_json::to_vec(body)?);
    let answer = rt.block_on(async { Conn::open(socket).await?.post_json(path, bytes).await })?;
    json_of(&format!("POST {path}"), answer)
}

/// `GET /v1/collections/{collection}`.
pub fn collection(rt: &Runtime, socket: &Path, collection: &str) -> Result<serde_json::Value> {
    get(rt, socket, &format!("/v1/collections/{collection}"))
}

/// The collection's `item_count`: its live entries.
pub fn count(rt: &Runtime, socket: &Path, collection: &str) -> Result<u64> {
    Ok(self::collection(rt, socket, collection)?["item_count"]
        .as_u64()
        .unwrap_or(0))
}

/// Polls until the collection counts `n` live entries; the time it took from `since`.
pub fn until_count(
    rt: &Runtime,
    socket: &Path,
    collection: &str,
    n: u64,
    since: Instant,
) -> Result<Duration> {
    let deadline = since + COUNT_DEADLINE;
    loop {
        if count(rt, socket, collection)? >= n {
            return Ok(since.elapsed());
        }
        if Instant::now() > deadline {
            return Err(format!("{collection} never reached {n} entries").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Binds `folder` to `collection` with `POST /v1/watches`.
pub fn add_watch(rt: &Runtime, socket: &Path, folder: &Path, collection: &str) -> Result<()> {
    let body = serde_json::json!({"path": folder, "collection": collection});
    post(rt, socket, "/v1/watches", &body).map(drop)
}

/// `GET /v1/events` from now on, read by a task of the runtime: each event stamped with
/// the instant the bytes that completed its line arrived. Stops reading when dropped.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Result<(Instant, Event), String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Events {
    pub fn open(rt: &Runtime, socket: &Path) -> Result<Self> {
        let (conn, response) = rt.block_on(async {
            let mut conn = Conn::open(socket).await?;
            let response = conn.head("/v1/events").await?;
            Ok::<_, crate::BoxError>((conn, response))
        })?;
        if !response.status().is_success() {
            return Err(format!("GET /v1/events answered {}", response.status()).into());
        }
        let (tx, rx) = mpsc::channel();
        let reader = rt.spawn(async move {
            // The connection stays open as long as the stream is read.
            let _conn = conn;
            let mut body = response.into_body();
            let mut line = Vec::new();
            while let Some(frame) = body.frame().await {
                let at = Instant::now();
                let data = match frame {
                    Ok(f) => f.into_data().unwrap_or_default(),
                    Err(e) => {
                        let _ = tx.send(Err(format!("the event stream failed: {e}")));
                        return;
                    }
                };
                for piece in data.split_inclusive(|b| *b == b'\n') {
                    line.extend_from_slice(piece);
                    if line.last() != Some(&b'\n') {
                        continue;
                    }
                    let event = serde_json::from_slice::<Event>(&line)
                        .map(|e| (at, e))
                        .map_err(|e| format!("an event line that does not parse: {e}"));
                    line.clear();
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.send(Err("the event stream ended".into()));
        });
        Ok(Self { rx, reader })
    }

    /// The next event and when it arrived, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Result<(Instant, Event)> {
        match self.rx.recv_timeout(timeout) {
            Ok(got) => Ok(got?),
            Err(_) => Err(format!("no event within {timeout:?}").into()),
        }
    }

    /// The next `entry.added` (other events skipped) and when it arrived.
    pub fn next_added(&self, timeout: Duration) -> Result<(Instant, Event)> {
        loop {
            let (at, e) = self.next(timeout)?;
            if e.kind == "entry.added" {
                return Ok((at, e));
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
