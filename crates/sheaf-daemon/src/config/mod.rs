//! The configuration: a TOML file, overridden by flags and environment variables, with
//! XDG defaults. Unknown keys and bad values are errors that name the file and the line.
//!
//! - [`file`]: the file as written ([`file::FileConfig`]) and the checks of its values;
//! - [`diagnostics`]: a parse error or a refused value made one located line;
//! - [`keys`]: the keys each table takes, read from the types.

mod diagnostics;
mod file;
mod keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sheaf_core::Limits;
use sheaf_core::rule::RuleSpec;
use sheaf_proto::places;

use diagnostics::location;
use file::File;

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid: one line naming the file, the line and column when known,
    /// the key, and what is wrong.
    #[error("config {}{}: {message}", .path.display(), location(*.at))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Line and column (1-based) of the offending key or value, when known.
        at: Option<(usize, usize)>,
        /// What is wrong, naming the key.
        message: String,
    },
    /// No database path could be worked out, or a path given by a flag or the environment
    /// is relative.
    #[error("{0}")]
    Missing(String),
}

/// A rate limit: a token bucket per caller.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed in a burst.
    pub burst: u32,
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reads only.
    Read,
    /// Reads and writes.
    Write,
}

/// An API key of the TCP listener, stored hashed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// A name for logs.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// `blake3:<64 hex digits>` of the key (`sheafd --hash-key KEY` prints it).
    pub hash: String,
}

impl ApiKey {
    /// The BLAKE3 hash of the key, if `hash` is well-formed.
    #[must_use]
    pub fn digest(&self) -> Option<blake3::Hash> {
        self.hash
            .strip_prefix("blake3:")
            .and_then(|h| blake3::Hash::from_hex(h).ok())
    }
}

/// The optional TCP listener.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tcp {
    /// Address to listen on, e.g. `127.0.0.1:7433`.
    pub listen: SocketAddr,
    /// Accepted keys.
    #[serde(default)]
    pub keys: Vec<ApiKey>,
}

/// A `[[watch]]` of the config file: a folder bound to a collection (SPEC §3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// The folder (absolute; `~/` is the home directory).
    pub path: PathBuf,
    /// The collection (created if missing).
    pub collection: String,
    /// Watch sub-folders too.
    #[serde(default = "yes")]
    pub recursive: bool,
    /// Globs a file must match.
    #[serde(default)]
    pub include: Vec<String>,
    /// Globs that leave files out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Poll at this interval (`"30s"`) instead of following live events.
    pub poll: Option<String>,
}

fn yes() -> bool {
    true
}

/// The daemon's configuration, resolved.
#[derive(Clone, Debug)]
pub struct Config {
    /// The Unix socket.
    pub socket: PathBuf,
    /// The redb file.
    pub database: PathBuf,
    /// Batch and select bounds.
    pub limits: Limits,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// redb cache.
    pub cache_bytes: usize,
    /// Change-feed events kept.
    pub feed_retention: u64,
    /// Ops kept for undo.
    pub op_retention: u64,
    /// Uids that may read but not write.
    pub read_only_uids: Vec<u32>,
    /// Per-caller rate limit; `None` is unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The TCP listener, off unless configured.
    pub tcp: Option<Tcp>,
    /// How long a path must be quiet before its events are committed.
    pub settle: std::time::Duration,
    /// The rescan interval of watches that cannot follow live events (network filesystems,
    /// the inotify watch limit reached) and do not name their own `poll`.
    pub fallback_poll_ms: u64,
    /// Whether live items get their BLAKE3 `content_hash` computed in the background.
    pub content_hashes: bool,
    /// The watches declared in the file.
    pub watches: Vec<WatchConfig>,
    /// The rules declared in the file (SPEC §7.3).
    pub rules: Vec<RuleSpec>,
    /// Rule programs and webhooks running at once.
    pub max_jobs: usize,
    /// Where the configuration came from, for messages.
    pub source: Option<PathBuf>,
}

impl Config {
    /// A configuration with defaults for everything but the two paths. The store's settings
    /// (limits, cache, retention) default to the store's own defaults.
    #[must_use]
    pub fn new(socket: PathBuf, database: PathBuf) -> Self {
        let store = sheaf_store::Options::default();
        Self {
            socket,
            database,
            limits: store.limits,
            max_body_bytes: 16 << 20,
            cache_bytes: store.cache_bytes,
            feed_retention: store.feed_retention,
            op_retention: store.op_retention,
            read_only_uids: Vec::new(),
            rate_limit: None,
            tcp: None,
            settle: std::time::Duration::from_millis(20),
            fallback_poll_ms: 30_000,
            content_hashes: true,
            watches: Vec::new(),
            rules: Vec::new(),
            max_jobs: 2,
            source: None,
        }
    }

    /// Reads the config file `path` (it must exist), or without one the default file
    /// ([`places::config_file`]) if it exists, and applies `socket` / `database` overrides.
    pub fn load(
        path: Option<&Path>,
        socket: Option<PathBuf>,
        database: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let file = match path {
            Some(p) => Some(File::read(p)?),
            None => match places::config_file() {
                Some(p) if p.exists() => Some(File::read(&p)?),
                _ => None,
            },
        };
        let values = file.as_ref().map(|f| &f.values);
        let socket = socket
            .or_else(|| values?.socket.clone())
            .unwrap_or_else(|| places::socket_file(rustix::process::geteuid().as_raw()));
        let database = database
            .or_else(|| values?.database.clone())
            .or_else(places::database_file)
            .ok_or_else(|| {
                ConfigError::Missing(
                    "no database path: set --database, SHEAF_DATABASE, or HOME".to_owned(),
                )
            })?;
        let mut c = Config::new(socket, database);
        if let Some(f) = file {
            f.apply(&mut c)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// What the file cannot say wrong but flags and the environment can.
    fn validate(&self) -> Result<(), ConfigError> {
        for (what, path) in [("socket", &self.socket), ("database", &self.database)] {
            if path.is_relative() {
                return Err(ConfigError::Missing(format!(
                    "the {what} path {} must be absolute",
                    path.display()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), Some("/s.sock".into()), Some("/d.redb".into()))
    }

    /// Why `text` is refused, as the user reads it.
    pub(super) fn refusal(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn values_override_defaults_and_flags_override_the_file() {
        let c = load("socket = \"/other.sock\"\nmax_batch = 10\n[rate_limit]\nper_second = 5.0\nburst = 10\n").unwrap();
        assert_eq!(c.limits.max_batch, 10);
        assert_eq!(c.socket, PathBuf::from("/s.sock"));
        assert_eq!(
            c.rate_limit,
            Some(RateLimit {
                per_second: 5.0,
                burst: 10
            })
        );
    }

    #[test]
    fn the_annotated_example_parses_and_holds_the_defaults() {
        let text = include_str!("../../../../config/sheaf.example.toml");
        let c = load(text).unwrap();
        let d = Config::new("/s.sock".into(), "/d.redb".into());
        assert_eq!(c.limits, d.limits);
        assert_eq!(c.max_body_bytes, d.max_body_bytes);
        assert_eq!(c.cache_bytes, d.cache_bytes);
        assert_eq!(c.feed_retention, d.feed_retention);
        assert_eq!(c.op_retention, d.op_retention);
        assert!(c.read_only_uids.is_empty() && c.rate_limit.is_none() && c.tcp.is_none());
    }
}
