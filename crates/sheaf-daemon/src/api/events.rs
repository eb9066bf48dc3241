//! `GET /v1/events?since=SEQ`: the change feed as newline-delimited JSON, streamed. The
//! backlog after `since` comes first (in pages read from the store), then each commit's
//! events as they land. A `since` older than the retained feed gets a `reset` line first.
//! Streams end when the daemon shuts down, so they never hold a graceful shutdown open.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use sheaf_proto::requests::EventParams;
use sheaf_proto::resources::Event;

use super::error::QueryParams;
use super::{ApiError, AppState};

const PAGE: usize = 1000;

struct Cursor {
    state: AppState,
    next: u64,
    seq: tokio::sync::watch::Receiver<u64>,
    stopping: tokio::sync::watch::Receiver<bool>,
    first: bool,
}

fn line(event: &Event) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(event).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The next chunk of lines, or `None` when the daemon stops.
async fn next_chunk(mut c: Cursor) -> Option<(Result<Bytes, std::io::Error>, Cursor)> {
    loop {
        if *c.stopping.borrow() {
            return None;
        }
        let since = c.next;
        let page = c.state.blocking(move |s| Ok(s.events(since, PAGE)?)).await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(refusal = ?e.refusal, "event stream ended by a store failure");
                return None;
            }
        };
        let mut out = Vec::new();
        // Events were dropped from the feed (or the client's seq is from another feed):
        // say so, and follow on from now.
        let ahead = c.first && since > page.last_seq;
        c.first = false;
        if page.reset || ahead {
            out.extend(line(&Event::reset(page.last_seq)));
            c.next = page.last_seq;
        } else {
            for e in page.events {
                c.next = e.seq;
                out.extend(line(&Event::new(e.seq, e.at, e.op_id, e.cause, e.event)));
            }
        }
        if !out.is_empty() {
            return Some((Ok(Bytes::from(out)), c));
        }
        // Caught up: wait for the next commit or for shutdown.
        tokio::select! {
            changed = c.seq.changed() => if changed.is_err() { return None; },
            _ = c.stopping.changed() => return None,
        }
    }
}

pub(crate) async fn stream(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<EventParams>,
) -> Result<Response, ApiError> {
    let last = state.point_read(|s| Ok(s.last_seq()?))?;
    let next = params.since.unwrap_or(last);
    let cursor = Cursor {
        seq: state.writer.subscribe(),
        stopping: state.stopping.clone(),
        state,
        next,
        first: true,
    };
    let body = Body::from_stream(stream::unfold(cursor, next_chunk));
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
