//! The `[tui]` table of sheaf's config file (the daemon's TOML, `$XDG_CONFIG_HOME/sheaf/
//! config.toml`): the batch size past which a move or link asks first, and key overrides.
//!
//! ```toml
//! [tui]
//! confirm_over = 100
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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            confirm_over: CONFIRM_OVER,
            keymap: Keymap::default(),
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
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
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

    /// The settings of a config file's text (only its `[tui]` table is read).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut file: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let Some(tui) = file.remove("tui") else {
            return Ok(Self::default());
        };
        let table: TuiTable = tui.try_into().map_err(|e| format!("[tui]: {e}"))?;
        let overrides = table
            .keys
            .into_iter()
            .map(|(name, keys)| {
                let keys = match keys {
                    OneOrMany::One(k) => vec![k],
                    OneOrMany::Many(ks) => ks,
                };
                (name, keys)
            })
            .collect();
        Ok(Self {
            confirm_over: table.confirm_over.unwrap_or(CONFIRM_OVER),
            keymap: Keymap::with_overrides(&overrides)?,
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
