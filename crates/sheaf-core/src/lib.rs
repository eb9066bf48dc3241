//! The domain of sheaf: ids, items, collections, entries and metadata, their validation,
//! the error codes of the API, the rules of every operation, and the [`Query`] that selects
//! items for smart collections and rules.
//!
//! An operation is *planned* here against a read-only [`StateView`] of the current state and
//! becomes a [`Plan`]: the exact changes to make, the events they emit, what undo needs to
//! invert them, and the summary the caller sees — or a typed [`Refusal`] carrying the SPEC's
//! error code and the offending ids. Nothing here performs IO: no files, clocks, randomness,
//! databases, async runtimes or terminals. The clock and id source come in through [`Ctx`], so
//! every rule is deterministic under test. `sheaf-store` applies plans; `sheaf-proto` puts
//! them on the wire.

mod change;
mod error;
mod event;
mod id;
mod interval;
mod kind;
mod metadata;
mod model;
mod plan;
mod query;
pub mod rule;
pub mod rules;
mod time;
mod view;

pub use change::Change;
pub use error::{Details, ErrorCode, FieldError, Loc, Refusal};
pub use event::{Event, EventKind};
pub use id::{CollectionId, EntryId, IdError, ItemId, OpId, RequestId, RuleId, WatchId};
pub use interval::{IntervalError, format_interval, parse_interval};
pub use kind::{Kind, content_type_for, kind_of_content_type};
pub use metadata::{
    MAX_KEY_CHARS, MAX_KEYS, MAX_STRING_BYTES, MetaValue, Metadata, MetadataPatch, apply_patch,
    validate_metadata,
};
pub use model::{
    AcceptRule, Collection, Entry, EntrySource, FileFacts, FileId, Item, Watch,
    validate_absolute_path,
};
pub use plan::{
    BatchSummary, Ctx, IdSource, Limits, OpKind, OpRecord, OpSummary, Outcome, Plan, PlanError,
    RemoveSummary, SyncSummary, Touched,
};
pub use query::{MAX_QUERY_VALUES, Matcher, Query, Subject};
pub use rules::ItemTarget;
pub use time::{Timestamp, TimestampError};
pub use view::{EntryFilter, StateView};
