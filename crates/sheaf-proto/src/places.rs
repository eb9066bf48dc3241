//! Where sheaf's files are when nobody says: the XDG base directories, one rule that the
//! daemon, the client, the CLI and the TUI share, so that they meet without configuration.
//! A variable that is unset, empty or not an absolute path counts as unset (as the XDG
//! specification says).

use std::path::PathBuf;

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// `$HOME` (`~` in paths the user writes).
#[must_use]
pub fn home() -> Option<PathBuf> {
    env_dir("HOME")
}

/// `$XDG_CONFIG_HOME`, else `~/.config`.
#[must_use]
pub fn config_home() -> Option<PathBuf> {
    env_dir("XDG_CONFIG_HOME").or_else(|| home().map(|h| h.join(".config")))
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
#[must_use]
pub fn data_home() -> Option<PathBuf> {
    env_dir("XDG_DATA_HOME").or_else(|| home().map(|h| h.join(".local/share")))
}

/// The config file: `<config home>/sheaf/config.toml`.
#[must_use]
pub fn config_file() -> Option<PathBuf> {
    config_home().map(|d| d.join("sheaf/config.toml"))
}

/// The database: `<data home>/sheaf/sheaf.redb`.
#[must_use]
pub fn database_file() -> Option<PathBuf> {
    data_home().map(|d| d.join("sheaf/sheaf.redb"))
}

/// The socket: `$XDG_RUNTIME_DIR/sheaf/sheafd.sock`, else `<temp dir>/sheaf-<uid>/sheafd.sock`
/// for the user `uid` (a runtime directory is per user; the temp dir is shared).
#[must_use]
pub fn socket_file(uid: u32) -> PathBuf {
    env_dir("XDG_RUNTIME_DIR")
        .map_or_else(
            || std::env::temp_dir().join(format!("sheaf-{uid}")),
            |d| d.join("sheaf"),
        )
        .join("sheafd.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_named_under_their_base_directories() {
        if let (Some(c), Some(home)) = (config_file(), config_home()) {
            assert_eq!(c, home.join("sheaf/config.toml"));
        }
        if let (Some(d), Some(home)) = (database_file(), data_home()) {
            assert_eq!(d, home.join("sheaf/sheaf.redb"));
        }
        let s = socket_file(1000);
        assert!(s.is_absolute(), "{}", s.display());
        assert!(s.ends_with("sheafd.sock"));
    }
}
