//! The config file as written: the shape serde reads, every key optional.

use std::path::PathBuf;

use serde::Deserialize;

use super::{RateLimit, Tcp, WatchConfig};

/// The config file as written: every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) socket: Option<PathBuf>,
    pub(super) database: Option<PathBuf>,
    pub(super) max_batch: Option<usize>,
    pub(super) max_select: Option<usize>,
    pub(super) max_body_bytes: Option<usize>,
    pub(super) cache_mb: Option<usize>,
    pub(super) feed_retention: Option<u64>,
    pub(super) op_retention: Option<u64>,
    pub(super) read_only_uids: Option<Vec<u32>>,
    pub(super) rate_limit: Option<RateLimit>,
    pub(super) tcp: Option<Tcp>,
    pub(super) settle_ms: Option<u64>,
    pub(super) fallback_poll: Option<String>,
    pub(super) content_hashes: Option<bool>,
    pub(super) watch: Option<Vec<WatchConfig>>,
    /// The terminal UI's settings (`sheaf tui` reads them); the daemon accepts and ignores them.
    #[serde(rename = "tui", default)]
    pub(super) _tui: Option<serde::de::IgnoredAny>,
}
