//! The accept loop of both listeners (the Unix socket and the optional TCP one).
//!
//! `axum::serve` gives hyper no timer, and without a timer hyper never times out a request
//! whose head does not arrive: a client that opens connections and sends half a request
//! (slowloris) holds each one, and its task and buffers, forever. Here hyper's HTTP/1
//! server runs with tokio's timer and a [`HEADER_READ_TIMEOUT`]; the JSON body extractor
//! bounds the wait for a body the same way (`api::error::BODY_READ_TIMEOUT`). On shutdown
//! the loop stops accepting and lets each connection finish its request (graceful).

use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use crate::access::Peer;

/// How long a client may take to send a request's head (also: how long an idle kept-alive
/// connection stays open).
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A listener whose connections tell who is calling.
pub(crate) trait PeerListener: Listener {
    /// The peer of an accepted connection.
    fn peer(io: &Self::Io, addr: &Self::Addr) -> Peer;
}

impl PeerListener for tokio::net::UnixListener {
    fn peer(io: &tokio::net::UnixStream, _: &tokio::net::unix::SocketAddr) -> Peer {
        Peer::Unix(io.peer_cred().ok().map(|c| c.uid()))
    }
}

impl PeerListener for tokio::net::TcpListener {
    fn peer(_: &tokio::net::TcpStream, addr: &std::net::SocketAddr) -> Peer {
        Peer::Tcp(*addr)
    }
}

/// Serves `app` on `listener` until `stop` turns true, then waits for the open connections
/// to finish their requests (the caller bounds that wait).
pub(crate) async fn serve<L: PeerListener>(
    mut listener: L,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    loop {
        // `Listener::accept` retries failed accepts itself (e.g. out of descriptors).
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let peer = L::peer(&io, &addr);
        let app = TowerToHyperService::new(app.clone());
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo(peer.clone()));
            hyper::service::Service::call(&app, req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
