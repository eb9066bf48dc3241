//! The daemon benchmark's floor: bare hyper on a Unix socket answering every request with
//! the same 200 and a fixed JSON body — no routing, no middleware, no store. Run like
//! `sheafd`, on a multi-threaded tokio runtime with one worker per core, so that
//! `benches/daemon.rs` can load both the same way and compare.
//!
//! `floor_server SOCKET [BODY]`: BODY defaults to `{"status":"ok"}`. It serves until it is
//! killed (the benchmark sends SIGTERM).

use std::convert::Infallible;
use std::error::Error;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let socket = args.next().ok_or("usage: floor_server SOCKET [BODY]")?;
    let body = args.next().map_or_else(
        || Bytes::from_static(br#"{"status":"ok"}"#),
        |b| Bytes::from(b.into_encoded_bytes()),
    );
    let _ = std::fs::remove_file(&socket);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(socket.into(), body))
}

async fn serve(socket: std::path::PathBuf, body: Bytes) -> Result<(), Box<dyn Error>> {
    let listener = tokio::net::UnixListener::bind(&socket)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let answer = service_fn(move |_: Request<hyper::body::Incoming>| {
                let mut response = Response::new(Full::new(body.clone()));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                async move { Ok::<_, Infallible>(response) }
            });
            // A client that goes away mid-request is not the floor's concern.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), answer)
                .await;
        });
    }
}
