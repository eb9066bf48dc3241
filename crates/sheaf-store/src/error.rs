//! Errors split by operation, as redb splits them: opening the database ([`OpenError`]),
//! a paged read ([`ReadError`]) and a write ([`WriteError`]) fail in different ways, and
//! each wraps [`StoreError`], the database itself failing, which any of them can meet.

use std::path::PathBuf;

use sheaf_core::Refusal;

/// The database failed: redb, a record that does not decode, or a reopen still pending.
/// Every variant is an operational failure, never a rule's refusal (those are
/// [`WriteError::Refused`]) nor a caller's mistake (those are [`ReadError::BadCursor`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed (I/O, a full disk, corruption detected by checksums).
    #[error("database error while {during}")]
    Redb {
        /// What the store was doing.
        during: &'static str,
        /// redb's error.
        #[source]
        source: redb::Error,
    },
    /// A stored record could not be decoded: the file is damaged or was written by
    /// incompatible code.
    #[error("stored {what} could not be decoded: {detail}")]
    Encoding {
        /// Which record.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// An earlier I/O failure (a full disk, say) left the database needing a reopen, which
    /// has not happened yet because other requests still use it; retry.
    #[error("the database is recovering from an I/O error; retry shortly")]
    Recovering,
    /// The reopen after an I/O failure failed; the next operation tries again.
    #[error("the database could not be reopened after an I/O failure")]
    Reopen(#[source] Box<OpenError>),
}

impl StoreError {
    /// Whether this is an I/O failure after which redb refuses every operation until the
    /// database is reopened.
    #[must_use]
    pub fn needs_reopen(&self) -> bool {
        matches!(
            self,
            StoreError::Redb {
                source: redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::Backend(_),
                ..
            }
        )
    }

    /// Wraps any redb error with what the store was doing.
    pub(crate) fn redb<E: Into<redb::Error>>(during: &'static str) -> impl FnOnce(E) -> StoreError {
        move |e| StoreError::Redb {
            during,
            source: e.into(),
        }
    }

    pub(crate) fn table(e: redb::TableError) -> StoreError {
        StoreError::redb("opening a table")(e)
    }

    pub(crate) fn storage(e: redb::StorageError) -> StoreError {
        StoreError::redb("reading or writing a table")(e)
    }
}

/// Why the database could not be opened (or created, or migrated).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another process (or another `Store` in this one) has the database open.
    #[error("the database {path} is already open in another process (is another sheafd running?)")]
    AlreadyOpen {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer sheaf.
    #[error(
        "the database has schema version {found}, but this build of sheaf understands up to \
         {supported}; upgrade sheaf, or point it at another database"
    )]
    UnknownSchema {
        /// The version in the file.
        found: u64,
        /// The newest version this build knows.
        supported: u64,
    },
    /// The database failed while it was opened, initialised or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a paged read failed: the caller's cursor, or the database.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A paging cursor that this listing did not hand out (the text, cut to 100 characters).
    #[error("the cursor {0:?} is not valid here")]
    BadCursor(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a write did not happen: the rules refused it, or the store failed. Either way
/// nothing was applied.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The operation was refused; the refusal carries the API's error code.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The store failed; the transaction was rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteError {
    /// The refusal, if the rules refused.
    #[must_use]
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            WriteError::Refused(r) => Some(r),
            WriteError::Store(_) => None,
        }
    }
}

impl From<sheaf_core::PlanError<StoreError>> for WriteError {
    fn from(e: sheaf_core::PlanError<StoreError>) -> Self {
        match e {
            sheaf_core::PlanError::Refused(r) => WriteError::Refused(r),
            sheaf_core::PlanError::View(e) => WriteError::Store(e),
        }
    }
}
