//! The change feed as a `Stream` of events: the streamed body is cut into lines as bytes
//! arrive, and each line is one JSON event.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use sheaf_proto::requests::EventParams;
use sheaf_proto::resources::Event;
use sheaf_proto::routes;

use crate::transport::api_error;
use crate::{Client, Error};

impl Client {
    /// `GET /v1/events?since=SEQ`: the change feed, streamed. `since: None` follows only
    /// new events.
    pub async fn events(&self, since: Option<u64>) -> Result<EventStream, Error> {
        let route = &routes::EVENTS.route;
        let request = self.conn.request(route, &[]).query(&EventParams { since });
        let timeout = self.request_timeout;
        let response = match tokio::time::timeout(timeout, request.send()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    socket: self.conn.socket.clone(),
                    what: route.to_string(),
                    after: timeout,
                });
            }
            Ok(sent) => sent.map_err(|e| self.conn.failed(route, e, timeout))?,
        };
        let status = response.status();
        if !status.is_success() {
            let body = response
                .bytes()
                .await
                .map_err(|e| self.conn.failed(route, e, timeout))?;
            return Err(api_error(route, status.as_u16(), &body));
        }
        Ok(EventStream::new(response, self.conn.socket.clone()))
    }
}

/// Cuts a byte stream into lines; keeps only the unfinished line between chunks.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// The lines completed by `chunk` (without their `\n`; a trailing `\r` is dropped).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&rest[..nl]);
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            out.push(line);
            rest = &rest[nl + 1..];
        }
        self.partial.extend_from_slice(rest);
        out
    }

    /// What is left when the stream ends without a final newline.
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.partial);
        (!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest)
    }
}

/// Parses one line of the feed; blank lines (keep-alives) are skipped.
pub(crate) fn parse_line(line: &[u8]) -> Option<Result<Event, Error>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(serde_json::from_slice(line).map_err(|e| Error::Decode {
        what: "GET /v1/events".to_owned(),
        status: 200,
        problem: format!(
            "{e} in line {:?}",
            String::from_utf8_lossy(&line[..line.len().min(200)])
        ),
    }))
}

type Inner = Pin<Box<dyn Stream<Item = Result<Event, Error>> + Send>>;

/// The events of `GET /v1/events`, in `seq` order, as they arrive. It ends when the daemon
/// ends the stream (it does so when it shuts down); resume with `since` = the last `seq`
/// seen. A `reset` event means events were dropped from the feed: re-read the state.
pub struct EventStream {
    inner: Inner,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

struct State<S> {
    body: S,
    lines: Lines,
    ready: VecDeque<Result<Event, Error>>,
    ended: bool,
    socket: PathBuf,
}

impl EventStream {
    pub(crate) fn new(response: reqwest::Response, socket: PathBuf) -> Self {
        let state = State {
            body: response.bytes_stream(),
            lines: Lines::default(),
            ready: VecDeque::new(),
            ended: false,
            socket,
        };
        let inner = futures_util::stream::unfold(state, |mut s| async move {
            loop {
                if let Some(next) = s.ready.pop_front() {
                    return Some((next, s));
                }
                if s.ended {
                    return None;
                }
                match s.body.next().await {
                    Some(Ok(chunk)) => {
                        s.ready
                            .extend(s.lines.push(&chunk).iter().filter_map(|l| parse_line(l)));
                    }
                    Some(Err(source)) => {
                        s.ended = true;
                        let socket = s.socket.clone();
                        return Some((Err(Error::Transport { socket, source }), s));
                    }
                    None => {
                        s.ended = true;
                        if let Some(rest) = s.lines.finish() {
                            s.ready.extend(parse_line(&rest));
                        }
                    }
                }
            }
        });
        Self {
            inner: Box::pin(inner),
        }
    }

    /// The next event; `None` once the stream has ended.
    pub async fn next_event(&mut self) -> Option<Result<Event, Error>> {
        self.inner.next().await
    }
}

impl Stream for EventStream {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut l = Lines::default();
        assert!(l.push(b"{\"seq\":1,").is_empty());
        assert_eq!(
            l.push(b"\"kind\":\"x\"}\n{\"seq\"").len(),
            1,
            "one line completed"
        );
        let done = l.push(b":2,\"kind\":\"y\"}\r\n\n");
        assert_eq!(
            done,
            vec![b"{\"seq\":2,\"kind\":\"y\"}".to_vec(), Vec::new()]
        );
        assert_eq!(l.finish(), None);
    }

    #[test]
    fn a_last_line_without_newline_is_kept() {
        let mut l = Lines::default();
        assert!(l.push(b"{\"seq\":3,\"kind\":\"reset\"}").is_empty());
        let rest = l.finish().unwrap();
        let event = parse_line(&rest).unwrap().unwrap();
        assert_eq!(event.seq, 3);
        assert_eq!(event.kind, "reset");
    }

    #[test]
    fn blank_lines_are_skipped_and_garbage_is_a_decode_error() {
        assert!(parse_line(b"  ").is_none());
        let err = parse_line(b"not json").unwrap().unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
    }
}
