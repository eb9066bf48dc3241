//! A real local HTTP server (axum on 127.0.0.1:0) that refuses a given number of times.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use reqwest::Client;

use super::{Delivery, Hook, IDEMPOTENCY_KEY, MAX_DELAY, Posted, client_builder, delay, post};

/// Answers `status` (with `Retry-After` if set) to the first `refusals` requests, then 200.
#[derive(Debug)]
struct Receiver {
    refusals: usize,
    status: StatusCode,
    retry_after: Option<&'static str>,
    seen: Mutex<Vec<(Instant, HeaderMap, Bytes)>>,
}

async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = {
        let mut seen = rx.seen.lock().expect("lock");
        seen.push((Instant::now(), headers, body));
        seen.len()
    };
    if n > rx.refusals {
        return (StatusCode::OK, "thanks").into_response();
    }
    let mut answer = (rx.status, "not now").into_response();
    if let Some(seconds) = rx.retry_after {
        answer
            .headers_mut()
            .insert("retry-after", seconds.parse().expect("header"));
    }
    answer
}

async fn receiver(
    refusals: usize,
    status: u16,
    retry_after: Option<&'static str>,
) -> (String, Arc<Receiver>) {
    let rx = Arc::new(Receiver {
        refusals,
        status: StatusCode::from_u16(status).expect("status"),
        retry_after,
        seen: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&rx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(axum::serve(listener, app).into_future());
    (format!("http://{addr}/hook"), rx)
}

/// Test clients ignore any proxy of the environment.
fn client() -> Client {
    client_builder().no_proxy().build().expect("client")
}

fn hook(url: &str) -> Hook {
    Hook {
        url: url.to_owned(),
        headers: vec![
            ("Authorization".to_owned(), "Bearer s3cret".to_owned()),
            ("X-Sheaf-Rule".to_owned(), "papers".to_owned()),
        ],
        body: br#"{"type":"item.created","seq":42,"name":"caf\u00e9 \"x\".pdf"}"#.to_vec(),
        idempotency_key: "r_01J0RULE-42".to_owned(),
        timeout: Duration::from_secs(5),
        attempts: 5,
        backoff: Duration::from_millis(10),
    }
}

/// The error of a delivery that failed without an answer from the receiver.
fn unanswered(posted: &Posted) -> &str {
    match &posted.delivery {
        Delivery::Failed {
            status: None,
            error,
        } => error,
        other => panic!("{other:?}"),
    }
}

fn seen(rx: &Receiver) -> Vec<(Instant, HeaderMap, Bytes)> {
    rx.seen.lock().expect("lock").clone()
}

#[tokio::test]
async fn refusals_are_retried_with_the_same_key_body_and_headers() {
    let (url, rx) = receiver(2, 503, None).await;
    let posted = post(&client(), &hook(&url)).await;
    assert_eq!(posted.delivery, Delivery::Delivered { status: 200 });
    assert!(posted.delivered());
    assert_eq!(posted.attempts, 3);
    let seen = seen(&rx);
    assert_eq!(seen.len(), 3);
    for (_, headers, body) in &seen {
        assert_eq!(body.as_ref(), hook(&url).body.as_slice());
        let keys: Vec<_> = headers.get_all(IDEMPOTENCY_KEY).iter().collect();
        assert_eq!(keys, ["r_01J0RULE-42"]);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["authorization"], "Bearer s3cret");
        assert_eq!(headers["x-sheaf-rule"], "papers");
        assert!(
            headers["user-agent"]
                .to_str()
                .expect("ascii")
                .starts_with("sheafd/")
        );
    }
}

#[tokio::test]
async fn timeouts_408_429_and_5xx_are_retried() {
    for status in [408, 429, 500, 502, 503, 504] {
        let (url, rx) = receiver(1, status, None).await;
        let posted = post(&client(), &hook(&url)).await;
        assert_eq!(
            posted.delivery,
            Delivery::Delivered { status: 200 },
            "{status}"
        );
        assert_eq!((posted.attempts, seen(&rx).len()), (2, 2), "{status}");
    }
}

#[tokio::test]
async fn other_refusals_are_final() {
    for status in [400, 401, 404, 307] {
        let (url, rx) = receiver(usize::MAX, status, None).await;
        let posted = post(&client(), &hook(&url)).await;
        let Delivery::Failed { status: got, error } = &posted.delivery else {
            panic!("{posted:?}")
        };
        assert_eq!(*got, Some(status));
        assert!(error.starts_with(&format!("HTTP {status}")), "{error}");
        assert!(error.ends_with(": not now"), "{error}");
        assert_eq!((posted.attempts, seen(&rx).len()), (1, 1), "{status}");
    }
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_gets_every_attempt_then_failed() {
    let (url, rx) = receiver(usize::MAX, 500, None).await;
    let mut h = hook(&url);
    h.attempts = 3;
    let posted = post(&client(), &h).await;
    assert_eq!(
        posted.delivery,
        Delivery::Failed {
            status: Some(500),
            error: "HTTP 500 Internal Server Error: not now".to_owned()
        }
    );
    assert_eq!((posted.attempts, seen(&rx).len()), (3, 3));
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_on_every_attempt() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let mut h = hook(&format!("http://{addr}/hook"));
    h.attempts = 3;
    h.timeout = Duration::from_millis(200);
    let posted = post(&client(), &h).await;
    assert_eq!(
        posted.delivery,
        Delivery::Failed {
            status: None,
            error: "no answer within 200ms".to_owned()
        }
    );
    assert_eq!(posted.attempts, 3);
    assert!(posted.duration >= Duration::from_millis(600));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_failed_with_the_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut h = hook(&format!("http://{addr}/hook"));
    h.attempts = 2;
    let posted = post(&client(), &h).await;
    let error = unanswered(&posted);
    assert!(
        error.to_lowercase().contains("connection refused"),
        "{error}"
    );
    assert_eq!(posted.attempts, 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (url, rx) = receiver(1, 429, Some("1")).await;
    let mut h = hook(&url);
    h.backoff = Duration::from_millis(1);
    let posted = post(&client(), &h).await;
    assert_eq!(posted.delivery, Delivery::Delivered { status: 200 });
    let seen = seen(&rx);
    assert_eq!(seen.len(), 2);
    let gap = seen[1].0 - seen[0].0;
    assert!(gap >= Duration::from_millis(950), "{gap:?}");
    assert!(gap < Duration::from_secs(5), "{gap:?}");
}

#[test]
fn the_delay_doubles_with_jitter_and_is_capped() {
    let backoff = Duration::from_millis(100);
    for retry in 1..=4 {
        let full = backoff * 2u32.pow(retry - 1);
        for _ in 0..50 {
            let wait = delay(None, backoff, retry);
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
    }
    let waits: Vec<_> = (0..20).map(|_| delay(None, backoff, 3)).collect();
    assert!(waits.iter().any(|w| *w != waits[0]), "no jitter: {waits:?}");
    assert!(delay(None, backoff, 40) <= MAX_DELAY);
    assert!(delay(None, Duration::MAX, u32::MAX) <= MAX_DELAY);
    assert_eq!(
        delay(Some(Duration::from_secs(2)), backoff, 1),
        Duration::from_secs(2)
    );
    assert_eq!(
        delay(Some(Duration::from_secs(3600)), backoff, 1),
        MAX_DELAY
    );
}

#[test]
fn retry_after_reads_seconds_only() {
    let mut headers = HeaderMap::new();
    assert_eq!(super::retry_after(&headers), None);
    headers.insert("retry-after", " 7 ".parse().expect("header"));
    assert_eq!(super::retry_after(&headers), Some(Duration::from_secs(7)));
    headers.insert(
        "retry-after",
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
    );
    assert_eq!(super::retry_after(&headers), None);
}

#[tokio::test]
async fn an_invalid_hook_fails_without_an_attempt() {
    let (url, rx) = receiver(0, 200, None).await;
    let mut bad_header = hook(&url);
    bad_header
        .headers
        .push(("bad name".to_owned(), "x".to_owned()));
    let mut bad_value = hook(&url);
    bad_value
        .headers
        .push(("X-Ok".to_owned(), "line\nbreak".to_owned()));
    let mut bad_key = hook(&url);
    bad_key.idempotency_key = "a\r\nb".to_owned();
    let cases = [
        (hook("not a url"), "invalid URL"),
        (hook("https://127.0.0.1:1/hook"), "plain http"),
        (hook("ftp://127.0.0.1/hook"), "unsupported URL scheme"),
        (bad_header, "invalid header name \"bad name\""),
        (bad_value, "invalid value for header x-ok"),
        (bad_key, "invalid idempotency key"),
    ];
    for (h, expected) in cases {
        let posted = post(&client(), &h).await;
        let error = unanswered(&posted);
        assert!(error.contains(expected), "{error}");
        assert_eq!(posted.attempts, 0);
    }
    assert!(seen(&rx).is_empty());
}
