//! Why a request to the watches (add, remove, rescan, list) could not be carried out:
//! folder sync's own errors, which the API maps to the wire.

use sheaf_core::WatchId;
use sheaf_store::{StoreError, WriteError};

/// Why a request to the watches could not be carried out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FolderError {
    /// The path to watch is not a folder.
    #[error("{path} is not a folder")]
    NotAFolder {
        /// The root the watch was asked for, which exists but is not a directory.
        path: String,
    },
    /// The path to watch cannot be read.
    #[error("{path} cannot be watched")]
    Unreadable {
        /// The root the watch was asked for, whose metadata could not be read.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An include or exclude glob does not compile.
    #[error("an {field} glob is invalid")]
    Glob {
        /// `include` or `exclude`.
        field: &'static str,
        /// The glob and what is wrong with it.
        #[source]
        source: sheaf_watch::WalkError,
    },
    /// No watch has this id.
    #[error("no watch {0}")]
    NotFound(WatchId),
    /// The store refused or failed the write.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store answered a write with the outcome of another operation, or lost what it
    /// just wrote.
    #[error("the store answered unexpectedly: {0}")]
    Unexpected(&'static str),
}
