//! The benchmark's HTTP client: one hyper HTTP/1.1 connection over a Unix socket, kept
//! alive, requests sent one after another on it.

use std::path::Path;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

use sheaf_bench::Result;

/// A kept-alive connection.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub(crate) async fn open(socket: &Path) -> Result<Self> {
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
    pub(crate) async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes)> {
        let req = Request::get(path)
            .header(HOST, "sheaf")
            .body(Full::new(Bytes::new()))?;
        self.send(req).await
    }

    /// `POST path` with a JSON body: the status and the whole body.
    pub(crate) async fn post_json(
        &mut self,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, "sheaf")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        self.send(req).await
    }

    async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
