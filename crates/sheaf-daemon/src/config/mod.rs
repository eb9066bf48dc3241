//! The configuration: a TOML file, overridden by flags and environment variables, with
//! XDG defaults. Unknown keys and bad values are errors that name the file and the line.
//!
//! - [`file`]: the file as written ([`file::FileConfig`]);
//! - [`diagnostics`]: a parse error or a refused value made one located line;
//! - [`keys`]: the keys each table takes, read from the types.

mod diagnostics;
mod file;
mod keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sheaf_core::Limits;

use diagnostics::{Seg, key_name, locate, location, parse};

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
    /// No socket or database path could be worked out.
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
    #[serde(default)]
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
            source: None,
        }
    }

    /// Reads `path` (if given and present; an explicitly named file must exist) and applies
    /// `socket` / `database` overrides.
    pub fn load(
        path: Option<&Path>,
        must_exist: bool,
        socket: Option<PathBuf>,
        database: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let mut text = String::new();
        let file = match path {
            Some(p) if must_exist || p.exists() => {
                text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                Some((p.to_path_buf(), parse::<file::FileConfig>(&text, p)?))
            }
            _ => None,
        };
        let f = file.as_ref().map(|(_, f)| f.clone()).unwrap_or_default();
        let source = file.as_ref().map(|(p, _)| p.clone());
        // A value the parser took but the daemon cannot use: named by its key, located in the file.
        let bad = |key: &[Seg<'_>], message: String| ConfigError::Invalid {
            path: source.clone().unwrap_or_else(|| PathBuf::from("<config>")),
            at: locate(&text, key),
            message: format!("`{}`: {message}", key_name(key)),
        };
        for (key, value) in [("socket", &f.socket), ("database", &f.database)] {
            if let Some(p) = value
                && p.is_relative()
            {
                return Err(bad(
                    &[Seg::Key(key)],
                    format!("{} must be an absolute path", p.display()),
                ));
            }
        }
        let socket = socket
            .or(f.socket.clone())
            .or_else(default_socket)
            .ok_or_else(|| {
                ConfigError::Missing(
                    "no socket path: set --socket, SHEAF_SOCKET, or XDG_RUNTIME_DIR".to_owned(),
                )
            })?;
        let database = database
            .or(f.database.clone())
            .or_else(default_database)
            .ok_or_else(|| {
                ConfigError::Missing(
                    "no database path: set --database, SHEAF_DATABASE, or HOME".to_owned(),
                )
            })?;
        let mut c = Config::new(socket, database);
        c.source = file.map(|(p, _)| p);
        if let Some(v) = f.max_batch {
            c.limits.max_batch = v;
        }
        if let Some(v) = f.max_select {
            c.limits.max_select = v;
        }
        if let Some(v) = f.max_body_bytes {
            c.max_body_bytes = v;
        }
        if let Some(v) = f.cache_mb {
            c.cache_bytes = v << 20;
        }
        if let Some(v) = f.feed_retention {
            c.feed_retention = v;
        }
        if let Some(v) = f.op_retention {
            c.op_retention = v;
        }
        c.read_only_uids = f.read_only_uids.unwrap_or_default();
        c.rate_limit = f.rate_limit;
        c.tcp = f.tcp;
        if let Some(ms) = f.settle_ms {
            c.settle = std::time::Duration::from_millis(ms);
        }
        if let Some(p) = &f.fallback_poll {
            c.fallback_poll_ms = sheaf_core::parse_interval(p)
                .map_err(|e| bad(&[Seg::Key("fallback_poll")], e.to_string()))?;
        }
        if let Some(on) = f.content_hashes {
            c.content_hashes = on;
        }
        for (i, w) in f.watch.unwrap_or_default().into_iter().enumerate() {
            let mut w = w;
            let at = |key| [Seg::Key("watch"), Seg::Index(i), Seg::Key(key)];
            if let Ok(rest) = w.path.strip_prefix("~")
                && let Some(home) = sheaf_proto::places::home()
            {
                w.path = home.join(rest);
            }
            if w.path.is_relative() {
                return Err(bad(
                    &at("path"),
                    format!("{} must be an absolute path (or ~/…)", w.path.display()),
                ));
            }
            if let Err(e) = sheaf_core::CollectionId::parse(&w.collection) {
                return Err(bad(&at("collection"), e.to_string()));
            }
            if let Some(p) = &w.poll {
                sheaf_core::parse_interval(p).map_err(|e| bad(&at("poll"), e.to_string()))?;
            }
            c.watches.push(w);
        }
        for (key, value) in [("max_batch", f.max_batch), ("max_select", f.max_select)] {
            if value == Some(0) {
                return Err(bad(&[Seg::Key(key)], "must be at least 1".to_owned()));
            }
        }
        if let Some(r) = c.rate_limit {
            if !(r.per_second.is_finite() && r.per_second > 0.0) {
                return Err(bad(
                    &[Seg::Key("rate_limit"), Seg::Key("per_second")],
                    "must be a number above 0".to_owned(),
                ));
            }
            if r.burst == 0 {
                return Err(bad(
                    &[Seg::Key("rate_limit"), Seg::Key("burst")],
                    "must be at least 1".to_owned(),
                ));
            }
        }
        for (i, key) in c.tcp.iter().flat_map(|t| &t.keys).enumerate() {
            if key.digest().is_none() {
                return Err(bad(
                    &[
                        Seg::Key("tcp"),
                        Seg::Key("keys"),
                        Seg::Index(i),
                        Seg::Key("hash"),
                    ],
                    format!(
                        "key {:?} has hash {:?}; expected \"blake3:<64 hex digits>\" \
                         (sheafd --hash-key KEY prints it)",
                        key.name, key.hash
                    ),
                ));
            }
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

/// The default socket ([`sheaf_proto::places::socket_file`] for this user).
#[must_use]
pub fn default_socket() -> Option<PathBuf> {
    Some(sheaf_proto::places::socket_file(
        rustix::process::geteuid().as_raw(),
    ))
}

/// The default database ([`sheaf_proto::places::database_file`]).
#[must_use]
pub fn default_database() -> Option<PathBuf> {
    sheaf_proto::places::database_file()
}

/// The default config file ([`sheaf_proto::places::config_file`]).
#[must_use]
pub fn default_config() -> Option<PathBuf> {
    sheaf_proto::places::config_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(
            Some(&path),
            true,
            Some("/s.sock".into()),
            Some("/d.redb".into()),
        )
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

    #[test]
    fn watches_are_read_with_their_defaults_and_checked() {
        let c = load(
            "[[watch]]\npath = \"/srv/papers\"\ncollection = \"papers\"\nexclude = [\"drafts\"]\n",
        )
        .unwrap();
        assert_eq!(c.watches.len(), 1);
        assert!(c.watches[0].recursive);
        assert_eq!(c.watches[0].exclude, ["drafts"]);
        let err = load("[[watch]]\npath = \"relative\"\ncollection = \"papers\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("watch[0].path"), "{err}");
        let err = load("[[watch]]\npath = \"/a\"\ncollection = \"Bad Slug\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("watch[0].collection"), "{err}");
        let err = load("[[watch]]\npath = \"/a\"\ncollection = \"a\"\npoll = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("watch[0].poll"), "{err}");
    }

    #[test]
    fn a_relative_path_names_its_line_and_key() {
        let err = load("# sockets\nsocket = \"run/s.sock\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2, column 10: `socket`: run/s.sock must be an absolute path"),
            "{err}"
        );
        let err = load("[[watch]]\ncollection = \"a\"\npath = \"papers\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3, column 8: `watch[0].path`: papers must be an absolute path"),
            "{err}"
        );
    }

    /// The keys a table takes, as serde lists them for an unknown one.
    fn known_keys(table: &str) -> Vec<String> {
        let text = if table.is_empty() {
            "zzz_unknown = 1\n".to_owned()
        } else {
            format!("{table}\nzzz_unknown = 1\n")
        };
        let err = load(&text).unwrap_err().to_string();
        let (_, list) = err
            .split_once("(expected ")
            .unwrap_or_else(|| panic!("{err}"));
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_annotated_example_documents_every_key() {
        let example = include_str!("../../../../config/sheaf.example.toml");
        let lines: Vec<&str> = example
            .lines()
            .map(|l| l.trim_start_matches('#').trim_start())
            .collect();
        for table in ["", "[[watch]]", "[rate_limit]", "[tcp]", "[[tcp.keys]]"] {
            let name = table.trim_matches(|c| c == '[' || c == ']');
            let keys = known_keys(table);
            assert!(keys.len() >= 2, "{table}: {keys:?}");
            for key in keys.iter().filter(|k| !k.starts_with('_') && *k != "tui") {
                let path = if name.is_empty() {
                    key.clone()
                } else {
                    format!("{name}.{key}")
                };
                let documented = lines.iter().any(|l| {
                    l.starts_with(&format!("{key} = "))
                        || *l == format!("[{path}]")
                        || *l == format!("[[{path}]]")
                });
                assert!(documented, "{path} is not in sheaf.example.toml");
            }
        }
    }

    #[test]
    fn a_malformed_key_hash_is_refused() {
        let err = load("[tcp]\nlisten = \"127.0.0.1:1\"\n[[tcp.keys]]\nname = \"a\"\nscope = \"read\"\nhash = \"plain\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("blake3:"), "{err}");
    }
}
