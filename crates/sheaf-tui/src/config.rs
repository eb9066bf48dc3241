//! The `[tui]` table of sheaf's config file (the daemon's TOML, `$XDG_CONFIG_HOME/sheaf/
//! config.toml`): the batch size past which a move or link asks first, the program that
//! opens files, and key overrides.
//!
//! ```toml
//! [tui]
//! confirm_over = 100
//! opener = "xdg-open"          # or ["flatpak-spawn", "--host", "xdg-open"]
//! [tui.keys]
//! move = "M"
//! down = ["j", "down", "ctrl-n"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::keys::Keymap;

/// Batches touching more items than this are confirmed first, by default.
pub const CONFIRM_OVER: usize = 100;

/// The TUI's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// A move or link of more items than this asks first (removes always ask).
    pub confirm_over: usize,
    /// The keys.
    pub keymap: Keymap,
    /// The program (and its first arguments) that opens a file: `opener` in `[tui]`, else
    /// `$SHEAF_OPENER` (split on spaces), else [`OPENER`].
    pub opener: Vec<String>,
}

/// The desktop's opener, when neither the config nor `$SHEAF_OPENER` names one.
pub const OPENER: &str = "xdg-open";

impl Default for Config {
    fn default() -> Self {
        Self {
            confirm_over: CONFIRM_OVER,
            keymap: Keymap::default(),
            opener: vec![OPENER.to_owned()],
        }
    }
}

/// The config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// It could not be read.
    #[error("I/O error at {path} while reading the config file")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Its `[tui]` table is not what the TUI takes.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuiTable {
    confirm_over: Option<usize>,
    opener: Option<OneOrMany>,
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(k) => vec![k],
            Self::Many(ks) => ks,
        }
    }
}

/// `$XDG_CONFIG_HOME/sheaf/config.toml`, else `~/.config/sheaf/config.toml` (the daemon's
/// own default).
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    sheaf_proto::places::config_file()
}

impl Config {
    /// Reads the `[tui]` table of `path` (given: `--config` or `SHEAF_CONFIG`), else of the
    /// default file; a missing default file means the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, must_exist) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok(Self::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Self::parse(&text).map_err(|problem| ConfigError::Invalid { path, problem })
    }

    /// The settings of a config file's text (only its `[tui]` table is read), with
    /// `$SHEAF_OPENER` for an opener the file does not name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let env = std::env::var("SHEAF_OPENER").ok();
        Self::parse_with(text, env.as_deref())
    }

    /// [`Config::parse`] with the value of `$SHEAF_OPENER` given.
    pub fn parse_with(text: &str, env_opener: Option<&str>) -> Result<Self, String> {
        let from_env = || {
            env_opener
                .map(|o| o.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .filter(|o| !o.is_empty())
        };
        let mut file: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let Some(tui) = file.remove("tui") else {
            return Ok(Self {
                opener: from_env().unwrap_or_else(|| Self::default().opener),
                ..Self::default()
            });
        };
        let table: TuiTable = tui.try_into().map_err(|e| format!("[tui]: {e}"))?;
        let overrides = table
            .keys
            .into_iter()
            .map(|(name, keys)| (name, keys.into_vec()))
            .collect();
        let opener = match table.opener.map(OneOrMany::into_vec) {
            Some(o) if o.is_empty() || o[0].trim().is_empty() => {
                return Err("[tui] opener: name a program, like \"xdg-open\"".to_owned());
            }
            Some(o) => o,
            None => from_env().unwrap_or_else(|| vec![OPENER.to_owned()]),
        };
        Ok(Self {
            confirm_over: table.confirm_over.unwrap_or(CONFIRM_OVER),
            keymap: Keymap::with_overrides(&overrides)?,
            opener,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Command;
    use crate::keys::Key;

    #[test]
    fn a_file_without_a_tui_table_gives_the_defaults() {
        let c = Config::parse("max_batch = 500\n[[watch]]\npath = \"/x\"\n").unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn the_tui_table_sets_the_confirm_bound_and_keys() {
        let c = Config::parse(
            "[tui]\nconfirm_over = 5\n[tui.keys]\nmove = \"M\"\ndown = [\"j\", \"ctrl-n\"]\n",
        )
        .unwrap();
        assert_eq!(c.confirm_over, 5);
        assert_eq!(c.keymap.command(Key::char('M')), Some(Command::Move));
        assert_eq!(
            c.keymap.command(Key::parse("ctrl-n").unwrap()),
            Some(Command::Down)
        );
    }

    #[test]
    fn the_opener_comes_from_the_file_else_the_environment_else_xdg_open() {
        let c = Config::parse_with("[tui]\nopener = [\"/bin/rec\", \"-x\"]\n", Some("env-open"))
            .unwrap();
        assert_eq!(c.opener, ["/bin/rec", "-x"]);
        let c = Config::parse_with("[tui]\nconfirm_over = 3\n", Some("env-open --new")).unwrap();
        assert_eq!(c.opener, ["env-open", "--new"]);
        let c = Config::parse_with("", None).unwrap();
        assert_eq!(c.opener, [OPENER]);
        assert!(Config::parse_with("[tui]\nopener = \"\"\n", None).is_err());
    }

    #[test]
    fn a_misspelt_tui_setting_is_named() {
        let e = Config::parse("[tui]\nconfirm_ovr = 5\n").unwrap_err();
        assert!(e.contains("confirm_ovr"), "{e}");
    }

    #[test]
    fn a_missing_default_file_is_the_defaults_but_a_named_one_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let e = Config::load(Some(&dir.path().join("nope.toml"))).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }
}
