//! Who is calling and what they may do (SPEC §2.6), and the per-caller rate limit.
//!
//! On the Unix socket the caller is the peer's uid (`SO_PEERCRED`): the daemon's own uid
//! has full access, configured read-only uids may read, anyone else is refused. On the TCP
//! listener the caller is an API key, compared by its BLAKE3 hash (constant time).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::connect_info::Connected;
use axum::http::HeaderMap;
use axum::serve::IncomingStream;
use sheaf_core::{ErrorCode, Refusal};

use crate::config::{Config, RateLimit, Scope};

/// The other end of a connection.
#[derive(Clone, Debug)]
pub(crate) enum Peer {
    /// A Unix-socket client; `None` if its credentials could not be read.
    Unix(Option<u32>),
    /// A TCP client.
    Tcp(SocketAddr),
}

impl Connected<IncomingStream<'_, tokio::net::UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        Peer::Unix(stream.io().peer_cred().ok().map(|c| c.uid()))
    }
}

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer::Tcp(*stream.remote_addr())
    }
}

/// A caller, as the rate limit tells them apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Caller {
    /// A Unix-socket peer.
    Uid(u32),
    /// A TCP client, by its API key's name.
    Key(String),
}

/// What a caller may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    /// Whether writes are allowed.
    pub(crate) write: bool,
    /// Who, for the rate limit.
    pub(crate) caller: Caller,
}

/// Decides a caller's access, or refuses it.
pub(crate) fn authorize(
    peer: &Peer,
    headers: &HeaderMap,
    config: &Config,
    own_uid: u32,
) -> Result<Grant, Refusal> {
    match peer {
        Peer::Unix(Some(uid)) if *uid == own_uid => Ok(Grant {
            write: true,
            caller: Caller::Uid(*uid),
        }),
        Peer::Unix(Some(uid)) if config.read_only_uids.contains(uid) => Ok(Grant {
            write: false,
            caller: Caller::Uid(*uid),
        }),
        Peer::Unix(uid) => Err(Refusal::new(
            ErrorCode::InsufficientPermissions,
            format!(
                "uid {} may not use this daemon; it serves uid {own_uid} (and the read-only uids \
                 in its config)",
                uid.map_or_else(|| "unknown".to_owned(), |u| u.to_string())
            ),
        )),
        Peer::Tcp(addr) => {
            let key = presented_key(headers).ok_or_else(|| {
                tracing::info!(peer = %addr, "TCP request without an API key");
                Refusal::new(
                    ErrorCode::InvalidApiKey,
                    "the TCP listener needs an API key in X-API-Key or Authorization: Bearer",
                )
            })?;
            let digest = blake3::hash(key.as_bytes());
            // blake3::Hash compares in constant time.
            let found = config
                .tcp
                .iter()
                .flat_map(|t| &t.keys)
                .find(|k| k.digest().is_some_and(|d| d == digest));
            if let Some(k) = found {
                Ok(Grant {
                    write: k.scope == Scope::Write,
                    caller: Caller::Key(k.name.clone()),
                })
            } else {
                tracing::info!(peer = %addr, "TCP request with an unknown API key");
                Err(Refusal::new(
                    ErrorCode::InvalidApiKey,
                    "the API key is not valid",
                ))
            }
        }
    }
}

fn presented_key(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Token buckets, one per caller.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<Caller, (f64, Instant)>>,
}

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `caller`, or says how long until one is available.
    pub(crate) fn take(&self, caller: &Caller) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let burst = f64::from(limit.burst);
        let (tokens, last) = buckets.entry(caller.clone()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * limit.per_second).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / limit.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiKey, Tcp};

    fn config() -> Config {
        let mut c = Config::new("/s".into(), "/d".into());
        c.read_only_uids = vec![2000];
        c.tcp = Some(Tcp {
            listen: "127.0.0.1:1".parse().unwrap(),
            keys: vec![
                ApiKey {
                    name: "r".into(),
                    scope: Scope::Read,
                    hash: format!("blake3:{}", blake3::hash(b"reader").to_hex()),
                },
                ApiKey {
                    name: "w".into(),
                    scope: Scope::Write,
                    hash: format!("blake3:{}", blake3::hash(b"writer").to_hex()),
                },
            ],
        });
        c
    }

    #[test]
    fn the_own_uid_writes_read_only_uids_read_and_others_are_refused() {
        let c = config();
        let h = HeaderMap::new();
        assert!(
            authorize(&Peer::Unix(Some(1000)), &h, &c, 1000)
                .unwrap()
                .write
        );
        assert!(
            !authorize(&Peer::Unix(Some(2000)), &h, &c, 1000)
                .unwrap()
                .write
        );
        let refused = authorize(&Peer::Unix(Some(3000)), &h, &c, 1000).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InsufficientPermissions);
    }

    #[test]
    fn tcp_callers_need_a_known_key_in_either_header() {
        let c = config();
        let tcp = Peer::Tcp("127.0.0.1:5".parse().unwrap());
        assert_eq!(
            authorize(&tcp, &HeaderMap::new(), &c, 0).unwrap_err().code,
            ErrorCode::InvalidApiKey
        );
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "nope".parse().unwrap());
        assert_eq!(
            authorize(&tcp, &h, &c, 0).unwrap_err().code,
            ErrorCode::InvalidApiKey
        );
        h.insert("x-api-key", "reader".parse().unwrap());
        assert!(!authorize(&tcp, &h, &c, 0).unwrap().write);
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer writer".parse().unwrap());
        assert!(authorize(&tcp, &h, &c, 0).unwrap().write);
    }

    #[test]
    fn the_limiter_allows_a_burst_then_says_when_to_retry() {
        let l = Limiter::new(Some(RateLimit {
            per_second: 1.0,
            burst: 2,
        }));
        let a = Caller::Uid(1);
        assert!(l.take(&a).is_ok());
        assert!(l.take(&a).is_ok());
        let wait = l.take(&a).unwrap_err();
        assert!(
            wait > Duration::from_millis(500) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            l.take(&Caller::Key("b".into())).is_ok(),
            "buckets are per caller"
        );
    }
}
