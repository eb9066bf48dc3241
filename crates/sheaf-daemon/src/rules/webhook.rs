//! A rule's `webhook` action (SPEC §7.3): POST the event JSON to a URL, with retries and
//! backoff, and an `Idempotency-Key` that is the same on every attempt so that the receiver
//! can tell a repeat (the engine derives it from the rule and the event's sequence number,
//! which also makes a repeat after a daemon restart carry the same key).
//!
//! The retry policy: a 2xx is delivered. A connection error, a timeout (per attempt), a 408,
//! a 429 or a 5xx is tried again, up to `attempts` in all, after a delay that starts at
//! `backoff`, doubles, is jittered (between half and all of it) and capped at [`MAX_DELAY`];
//! a `Retry-After` in seconds replaces the delay (capped the same). Any other answer (other
//! 4xx, 3xx: redirects are not followed) is final. Plain `http` only: the workspace builds
//! reqwest without a TLS stack. [`post`] never fails: what happened is a [`Posted`].

use std::error::Error as _;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode, Url};

/// The longest wait between two attempts, whatever the backoff or `Retry-After` says.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(60);

/// The header that carries [`Hook::idempotency_key`].
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How much of a refusing answer's body goes into the error.
const ERROR_BODY: usize = 256;

/// One event to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Hook {
    /// An `http://` URL.
    pub url: String,
    /// Added to the request; `Content-Type` and `Idempotency-Key` are the hook's own.
    pub headers: Vec<(String, String)>,
    /// The event as JSON, sent byte for byte.
    pub body: Vec<u8>,
    pub idempotency_key: String,
    /// For each attempt, from connecting to the end of the answer.
    pub timeout: Duration,
    /// How many attempts in all (at least one is made), e.g. 5.
    pub attempts: u32,
    /// The delay before the first retry.
    pub backoff: Duration,
}

/// Whether the receiver took the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// It answered 2xx.
    Delivered { status: u16 },
    /// The last attempt failed: its status if the receiver answered, and why.
    Failed { status: Option<u16>, error: String },
}

/// What a delivery did, for the run record.
#[derive(Debug, Clone)]
pub(crate) struct Posted {
    pub delivery: Delivery,
    /// Attempts made; 0 when the hook itself is invalid (URL, headers).
    pub attempts: u32,
    /// From the first attempt to the last answer, the waits included.
    pub duration: Duration,
}

impl Posted {
    /// Whether the receiver answered 2xx.
    pub(crate) fn delivered(&self) -> bool {
        matches!(self.delivery, Delivery::Delivered { .. })
    }
}

/// The client webhooks post with: redirects are not followed (a 301 or 302 would turn the
/// POST into a GET), and it says it is sheafd.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sheafd/", env!("CARGO_PKG_VERSION")))
}

/// Delivers one event (see the module docs); never fails.
pub(crate) async fn post(client: &Client, hook: &Hook) -> Posted {
    let started = Instant::now();
    let posted = |delivery, attempts| Posted {
        delivery,
        attempts,
        duration: started.elapsed(),
    };
    let (url, headers) = match prepare(hook) {
        Ok(prepared) => prepared,
        Err(error) => {
            return posted(
                Delivery::Failed {
                    status: None,
                    error,
                },
                0,
            );
        }
    };
    let attempts = hook.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match once(client, &url, &headers, hook).await {
            Outcome::Delivered(status) => return posted(Delivery::Delivered { status }, attempt),
            Outcome::Retry {
                status,
                error,
                retry_after,
            } if attempt < attempts => {
                let wait = delay(retry_after, hook.backoff, attempt);
                tracing::debug!(url = %url, attempt, ?status, %error, ?wait, "webhook: trying again");
                tokio::time::sleep(wait).await;
            }
            Outcome::Retry { status, error, .. } | Outcome::Final { status, error } => {
                return posted(Delivery::Failed { status, error }, attempt);
            }
        }
    }
}

/// How one attempt ended.
#[derive(Debug)]
enum Outcome {
    Delivered(u16),
    Retry {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
    Final {
        status: Option<u16>,
        error: String,
    },
}

/// The URL and the headers every attempt sends, or why the hook cannot be sent at all.
fn prepare(hook: &Hook) -> Result<(Url, HeaderMap), String> {
    let url = Url::parse(&hook.url).map_err(|e| format!("invalid URL {:?}: {e}", hook.url))?;
    if url.scheme() != "http" {
        return Err(format!(
            "unsupported URL scheme {:?} in {url}: webhooks are sent over plain http",
            url.scheme()
        ));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &hook.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("invalid header name {name:?}: {e}"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| format!("invalid value for header {name}: {e}"))?;
        headers.append(name, value);
    }
    let key = HeaderValue::from_str(&hook.idempotency_key)
        .map_err(|e| format!("invalid idempotency key {:?}: {e}", hook.idempotency_key))?;
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(HeaderName::from_static(IDEMPOTENCY_KEY), key);
    Ok((url, headers))
}

async fn once(client: &Client, url: &Url, headers: &HeaderMap, hook: &Hook) -> Outcome {
    let sent = client
        .post(url.clone())
        .timeout(hook.timeout)
        .headers(headers.clone())
        .body(hook.body.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) if e.is_builder() => {
            return Outcome::Final {
                status: None,
                error: describe(&e, hook.timeout),
            };
        }
        Err(e) => {
            return Outcome::Retry {
                status: None,
                error: describe(&e, hook.timeout),
                retry_after: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered(status.as_u16());
    }
    let retry_after = retry_after(response.headers());
    let error = match body_head(response).await {
        head if head.is_empty() => format!("HTTP {status}"),
        head => format!("HTTP {status}: {head}"),
    };
    let status_code = Some(status.as_u16());
    if retryable(status) {
        Outcome::Retry {
            status: status_code,
            error,
            retry_after,
        }
    } else {
        Outcome::Final {
            status: status_code,
            error,
        }
    }
}

/// 408, 429 and 5xx say "not now"; other refusals will not change by trying again.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// `Retry-After` in seconds (an HTTP date is ignored: the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// The wait before retry number `retry` (1 for the first): `Retry-After` if the receiver
/// gave one, else `backoff` doubled per retry with equal jitter (between half and all of
/// it, so hooks that failed together do not retry together); at most [`MAX_DELAY`].
fn delay(retry_after: Option<Duration>, backoff: Duration, retry: u32) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_DELAY);
    }
    let full = backoff
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
        .min(MAX_DELAY);
    let half = full / 2;
    half + half.mul_f64(unit_random())
}

/// A number in [0, 1) from std's randomly keyed hasher: enough for jitter.
fn unit_random() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now()) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// The start of a refusing answer's body, for the error (its read is bounded).
async fn body_head(mut response: Response) -> String {
    let mut head = Vec::new();
    while head.len() < ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    head.truncate(ERROR_BODY);
    String::from_utf8_lossy(&head).trim().to_owned()
}

/// A request error with its causes ("… connection refused"), or the timeout it ran into.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
