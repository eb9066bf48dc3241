//! sheaf's view of the folders it watches, before anything reaches the store.
//!
//! Two pieces live here. [`walk`] is the full scan behind a watch's start-up reconcile,
//! overflow recovery and polling (SPEC §3): a parallel walk of a watch root that applies the
//! watch's include/exclude globs, `.gitignore`-style ignore files and the fixed
//! version-control/temp-file rules, and returns the facts of every matching regular file plus
//! the problems met on the way (which never abort the walk). [`Coalescer`] is the pure
//! per-path settling of live filesystem events: callers feed it raw events with the `Instant`
//! they saw them at and drain net outcomes once a path has been quiet for the settle time.
//!
//! Boundaries: this crate reads the filesystem but never writes it, and knows nothing of the
//! store (redb), the HTTP protocol or terminals. It owns no threads beyond the walk's own
//! pool and no clock: the live watcher (notify) and the diff against the store live in the
//! daemon, which converts their events into [`RawEvent`]s and applies [`Settled`] outcomes.

mod coalesce;
mod walk;

pub use coalesce::{Coalescer, RawEvent, Settled};
pub use walk::{Problem, ProblemKind, SNIFF_BYTES, Walk, WalkError, WalkOptions, WalkedFile, walk};
