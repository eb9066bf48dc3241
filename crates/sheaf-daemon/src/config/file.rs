//! The config file: the shape serde reads (every key optional), and the values the parser
//! took but the daemon refuses, each named by its key and located in the file.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sheaf_core::rule::RuleSpec;

use super::diagnostics::{Seg, key_name, locate, parse};
use super::{Config, ConfigError, RateLimit, Tcp, WatchConfig};

/// The config file as written: every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) socket: Option<PathBuf>,
    pub(super) database: Option<PathBuf>,
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
    content_hashes: Option<bool>,
    watch: Option<Vec<WatchConfig>>,
    max_jobs: Option<usize>,
    /// Checked by `RuleSpec::parse`, which locates every problem in a rule.
    rule: Option<Vec<toml::Value>>,
    /// The terminal UI's settings (`sheaf tui` reads them); the daemon accepts and ignores them.
    #[serde(rename = "tui")]
    _tui: Option<serde::de::IgnoredAny>,
}

/// A config file read and parsed.
#[derive(Debug)]
pub(super) struct File {
    source: Source,
    pub(super) values: FileConfig,
}

/// Where the file's values are written, to point at one the daemon refuses.
#[derive(Debug)]
struct Source {
    path: PathBuf,
    text: String,
}

impl File {
    /// Reads and parses `path`. A relative `socket` or `database` is refused here, before
    /// the paths are worked out.
    pub(super) fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let values = parse::<FileConfig>(&text, path)?;
        let source = Source {
            path: path.to_path_buf(),
            text,
        };
        for (key, value) in [("socket", &values.socket), ("database", &values.database)] {
            if let Some(p) = value
                && p.is_relative()
            {
                return Err(source.refuse(
                    &[Seg::Key(key)],
                    format_args!("{} must be an absolute path", p.display()),
                ));
            }
        }
        Ok(Self { source, values })
    }

    /// Puts the file's values into `c` (its paths are already there), checking those the
    /// parser cannot.
    pub(super) fn apply(self, c: &mut Config) -> Result<(), ConfigError> {
        let Self { source, values: f } = self;
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
                .map_err(|e| source.refuse(&[Seg::Key("fallback_poll")], e))?;
        }
        if let Some(on) = f.content_hashes {
            c.content_hashes = on;
        }
        for (i, w) in f.watch.into_iter().flatten().enumerate() {
            c.watches.push(source.watch(i, w)?);
        }
        for (i, r) in f.rule.iter().flatten().enumerate() {
            c.rules.push(source.rule(i, r)?);
        }
        if let Some(n) = f.max_jobs {
            c.max_jobs = n;
        }
        for (key, value) in [
            ("max_batch", f.max_batch),
            ("max_select", f.max_select),
            ("max_jobs", f.max_jobs),
        ] {
            if value == Some(0) {
                return Err(source.refuse(&[Seg::Key(key)], "must be at least 1"));
            }
        }
        if let Some(r) = c.rate_limit {
            if !(r.per_second.is_finite() && r.per_second > 0.0) {
                let key = [Seg::Key("rate_limit"), Seg::Key("per_second")];
                return Err(source.refuse(&key, "must be a number above 0"));
            }
            if r.burst == 0 {
                let key = [Seg::Key("rate_limit"), Seg::Key("burst")];
                return Err(source.refuse(&key, "must be at least 1"));
            }
        }
        for (i, key) in c.tcp.iter().flat_map(|t| &t.keys).enumerate() {
            if key.digest().is_none() {
                let at = [
                    Seg::Key("tcp"),
                    Seg::Key("keys"),
                    Seg::Index(i),
                    Seg::Key("hash"),
                ];
                return Err(source.refuse(
                    &at,
                    format_args!(
                        "key {:?} has hash {:?}; expected \"blake3:<64 hex digits>\" \
                         (sheafd --hash-key KEY prints it)",
                        key.name, key.hash
                    ),
                ));
            }
        }
        c.source = Some(source.path);
        Ok(())
    }
}

impl Source {
    /// A value the parser took but the daemon cannot use: named by its key, located in the
    /// file.
    fn refuse(&self, key: &[Seg<'_>], message: impl Display) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            at: locate(&self.text, key),
            message: format!("`{}`: {message}", key_name(key)),
        }
    }

    /// The `i`th `[[rule]]`, read as the API reads one; its first problem is reported.
    fn rule(&self, i: usize, r: &toml::Value) -> Result<RuleSpec, ConfigError> {
        let json = serde_json::to_value(r)
            .map_err(|e| self.refuse(&[Seg::Key("rule"), Seg::Index(i)], format_args!("{e}")))?;
        RuleSpec::parse(&json, &[]).map_err(|errors| {
            let first = &errors[0];
            let field = match first.loc.first() {
                Some(sheaf_core::Loc::Key(k)) => Some(k.as_str()),
                _ => None,
            };
            let mut at = vec![Seg::Key("rule"), Seg::Index(i)];
            at.extend(field.map(Seg::Key));
            self.refuse(&at, &first.msg)
        })
    }

    /// The `i`th `[[watch]]`, its `~/` made the home directory, checked.
    fn watch(&self, i: usize, mut w: WatchConfig) -> Result<WatchConfig, ConfigError> {
        let at = |key| [Seg::Key("watch"), Seg::Index(i), Seg::Key(key)];
        if let Ok(rest) = w.path.strip_prefix("~")
            && let Some(home) = sheaf_proto::places::home()
        {
            w.path = home.join(rest);
        }
        if w.path.is_relative() {
            return Err(self.refuse(
                &at("path"),
                format_args!("{} must be an absolute path (or ~/…)", w.path.display()),
            ));
        }
        if let Err(e) = sheaf_core::CollectionId::parse(&w.collection) {
            return Err(self.refuse(&at("collection"), e));
        }
        if let Some(p) = &w.poll {
            sheaf_core::parse_interval(p).map_err(|e| self.refuse(&at("poll"), e))?;
        }
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{load, refusal};

    #[test]
    fn watches_are_read_with_their_defaults_and_checked() {
        let c = load(
            "[[watch]]\npath = \"/srv/papers\"\ncollection = \"papers\"\nexclude = [\"drafts\"]\n",
        )
        .unwrap();
        assert_eq!(c.watches.len(), 1);
        assert!(c.watches[0].recursive);
        assert_eq!(c.watches[0].exclude, ["drafts"]);
        let err = refusal("[[watch]]\npath = \"relative\"\ncollection = \"papers\"\n");
        assert!(err.contains("watch[0].path"), "{err}");
        let err = refusal("[[watch]]\npath = \"/a\"\ncollection = \"Bad Slug\"\n");
        assert!(err.contains("watch[0].collection"), "{err}");
        let err = refusal("[[watch]]\npath = \"/a\"\ncollection = \"a\"\npoll = \"soon\"\n");
        assert!(err.contains("watch[0].poll"), "{err}");
    }

    #[test]
    fn a_relative_path_names_its_line_and_key() {
        let err = refusal("# sockets\nsocket = \"run/s.sock\"\n");
        assert!(
            err.contains("line 2, column 10: `socket`: run/s.sock must be an absolute path"),
            "{err}"
        );
        let err = refusal("[[watch]]\ncollection = \"a\"\npath = \"papers\"\n");
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
        let err = refusal(&text);
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
        let err = refusal(
            "[tcp]\nlisten = \"127.0.0.1:1\"\n[[tcp.keys]]\nname = \"a\"\nscope = \"read\"\nhash = \"plain\"\n",
        );
        assert!(err.contains("blake3:"), "{err}");
    }
}
