//! The TCP listener with API keys, and curl as a client: for tests of §2.6's keys and of
//! the platforms' own requests (SPEC §8), which their documentation writes as curl lines.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::{Daemon, Reply, free_port, request_with, sheafd};

/// The config line `hash = "blake3:…"` of `key`, as `sheafd --hash-key` prints it.
pub fn hash_line(key: &str) -> String {
    let out = Command::new(sheafd())
        .args(["--hash-key", key])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(line.starts_with("hash = \"blake3:"), "{line}");
    line
}

/// A daemon with a TCP listener, a read key `reader-key` (named `reader`) and a write key
/// `writer-key` (named `writer`), and the listener's base URL.
pub fn with_tcp() -> (Daemon, String) {
    let port = free_port();
    let config = format!(
        "[tcp]\nlisten = \"127.0.0.1:{port}\"\n\n[[tcp.keys]]\nname = \"reader\"\nscope = \"read\"\n{}\n\n[[tcp.keys]]\nname = \"writer\"\nscope = \"write\"\n{}\n",
        hash_line("reader-key"),
        hash_line("writer-key")
    );
    (
        Daemon::start_with_config(&config),
        format!("http://127.0.0.1:{port}"),
    )
}

/// A request to the TCP listener at `base` with these headers and an optional JSON body.
pub fn tcp(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut hm = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        hm.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .default_headers(hm)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    request_with(
        &client,
        &format!("{base}{path}"),
        method,
        body.map(|_| "application/json"),
        body.map(|b| serde_json::to_vec(b).unwrap()),
    )
}

/// What curl got: the status, the content type and the body (as JSON when it parses).
#[derive(Debug)]
pub struct Curled {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body as text.
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub body: Value,
}

/// Runs `curl -sS` with `args` (a request line as a platform's documentation writes it,
/// with the base URL and key changed) and returns what came back.
pub fn curl(args: &[&str]) -> Curled {
    let out = Command::new("curl")
        .arg("-sS")
        .args(["-w", "\n%{http_code} %{content_type}"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = String::from_utf8(out.stdout).unwrap();
    let (text, trailer) = all.rsplit_once('\n').unwrap();
    let (status, content_type) = trailer.split_once(' ').unwrap_or((trailer, ""));
    Curled {
        status: status.parse().unwrap(),
        content_type: content_type.to_owned(),
        text: text.to_owned(),
        body: serde_json::from_str(text).unwrap_or(Value::Null),
    }
}

/// `curl -X POST -H HEADER -H "Content-Type: application/json" -d BODY URL`: a platform's
/// documented request line with the base URL and key changed.
pub fn curl_post_json(url: &str, header: &str, body: &str) -> Curled {
    curl(&[
        "-X",
        "POST",
        "-H",
        header,
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
        url,
    ])
}
