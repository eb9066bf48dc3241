//! The configuration: a TOML file, overridden by flags and environment variables, with
//! XDG defaults. Unknown keys and bad values are errors that name the file and the line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sheaf_core::Limits;

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
    /// The file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (line, column, key).
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

/// The config file as written: every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    socket: Option<PathBuf>,
    database: Option<PathBuf>,
    max_batch: Option<usize>,
    max_select: Option<usize>,
    max_body_bytes: Option<usize>,
    cache_mb: Option<usize>,
    feed_retention: Option<u64>,
    op_retention: Option<u64>,
    read_only_uids: Option<Vec<u32>>,
    rate_limit: Option<RateLimit>,
    tcp: Option<Tcp>,
    settle_ms: Option<u64>,
    fallback_poll: Option<String>,
    watch: Option<Vec<WatchConfig>>,
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
    /// The watches declared in the file.
    pub watches: Vec<WatchConfig>,
    /// Where the configuration came from, for messages.
    pub source: Option<PathBuf>,
}

impl Config {
    /// A configuration with defaults for everything but the two paths.
    #[must_use]
    pub fn new(socket: PathBuf, database: PathBuf) -> Self {
        Self {
            socket,
            database,
            limits: Limits::default(),
            max_body_bytes: 16 << 20,
            cache_bytes: 64 << 20,
            feed_retention: 1_000_000,
            op_retention: 10_000,
            read_only_uids: Vec::new(),
            rate_limit: None,
            tcp: None,
            settle: std::time::Duration::from_millis(20),
            fallback_poll_ms: 30_000,
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
        let file = match path {
            Some(p) if must_exist || p.exists() => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                Some((p.to_path_buf(), parse(&text, p)?))
            }
            _ => None,
        };
        let f = file.as_ref().map(|(_, f)| f.clone()).unwrap_or_default();
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
        let defaults = Limits::default();
        c.limits = Limits {
            max_batch: f.max_batch.unwrap_or(defaults.max_batch),
            max_select: f.max_select.unwrap_or(defaults.max_select),
        };
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
        let bad = |message: String| ConfigError::Invalid {
            path: c
                .source
                .clone()
                .unwrap_or_else(|| PathBuf::from("<config>")),
            message,
        };
        if let Some(p) = &f.fallback_poll {
            c.fallback_poll_ms = sheaf_proto::requests::parse_interval(p)
                .map_err(|m| bad(format!("fallback_poll: {m}")))?;
        }
        for (i, w) in f.watch.unwrap_or_default().into_iter().enumerate() {
            let mut w = w;
            if let Ok(rest) = w.path.strip_prefix("~")
                && let Some(home) = env_dir("HOME")
            {
                w.path = home.join(rest);
            }
            if w.path.is_relative() {
                return Err(bad(format!(
                    "watch[{i}].path: {} must be an absolute path",
                    w.path.display()
                )));
            }
            if let Err(e) = sheaf_core::CollectionId::parse(&w.collection) {
                return Err(bad(format!("watch[{i}].collection: {e}")));
            }
            if let Some(p) = &w.poll {
                sheaf_proto::requests::parse_interval(p)
                    .map_err(|m| bad(format!("watch[{i}].poll: {m}")))?;
            }
            c.watches.push(w);
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: self
                .source
                .clone()
                .unwrap_or_else(|| PathBuf::from("<config>")),
            message,
        };
        if self.limits.max_batch == 0 || self.limits.max_select == 0 {
            return Err(invalid(
                "max_batch and max_select must be at least 1".to_owned(),
            ));
        }
        if let Some(r) = self.rate_limit
            && (!(r.per_second.is_finite() && r.per_second > 0.0) || r.burst == 0)
        {
            return Err(invalid(
                "rate_limit needs per_second > 0 and burst >= 1".to_owned(),
            ));
        }
        for key in self.tcp.iter().flat_map(|t| &t.keys) {
            if key.digest().is_none() {
                return Err(invalid(format!(
                    "tcp.keys: key {:?} has hash {:?}; expected \"blake3:<64 hex digits>\" \
                     (sheafd --hash-key KEY prints it)",
                    key.name, key.hash
                )));
            }
        }
        if self.socket.is_relative() || self.database.is_relative() {
            return Err(invalid(
                "socket and database must be absolute paths".to_owned(),
            ));
        }
        Ok(())
    }
}

fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let mut message = e.message().trim().to_owned();
        if let Some(span) = e.span() {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            message = format!("line {line}: {message}");
        }
        ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        }
    })
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// `$XDG_RUNTIME_DIR/sheaf/sheafd.sock`, else `/tmp/sheaf-<uid>/sheafd.sock`.
#[must_use]
pub fn default_socket() -> Option<PathBuf> {
    env_dir("XDG_RUNTIME_DIR")
        .map(|d| d.join("sheaf"))
        .or_else(|| {
            Some(
                std::env::temp_dir().join(format!("sheaf-{}", rustix::process::geteuid().as_raw())),
            )
        })
        .map(|d| d.join("sheafd.sock"))
}

/// `$XDG_DATA_HOME/sheaf/sheaf.redb`, else `~/.local/share/sheaf/sheaf.redb`.
#[must_use]
pub fn default_database() -> Option<PathBuf> {
    env_dir("XDG_DATA_HOME")
        .or_else(|| env_dir("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join("sheaf/sheaf.redb"))
}

/// `$XDG_CONFIG_HOME/sheaf/config.toml`, else `~/.config/sheaf/config.toml`.
#[must_use]
pub fn default_config() -> Option<PathBuf> {
    env_dir("XDG_CONFIG_HOME")
        .or_else(|| env_dir("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("sheaf/config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
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
    fn an_unknown_key_names_the_line_and_the_key() {
        let err = load("max_batch = 10\nmax_bacth = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("max_bacth"), "{err}");
    }

    #[test]
    fn a_bad_type_names_the_line() {
        let err = load("max_batch = \"many\"\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
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
        let text = include_str!("../../../config/sheaf.example.toml");
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
    fn a_malformed_key_hash_is_refused() {
        let err = load("[tcp]\nlisten = \"127.0.0.1:1\"\n[[tcp.keys]]\nname = \"a\"\nscope = \"read\"\nhash = \"plain\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("blake3:"), "{err}");
    }
}
