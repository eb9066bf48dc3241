//! sheaf's view of the folders it watches, before anything reaches the store.
//!
//! Three pieces live here. [`walk`] is the full scan behind a watch's start-up reconcile,
//! overflow recovery and polling (SPEC §3): a parallel walk of a watch root that applies the
//! watch's include/exclude globs, `.gitignore`-style ignore files and the fixed
//! version-control/temp-file rules, and returns the facts of every matching regular file plus
//! the problems met on the way (which never abort the walk). [`Coalescer`] is the pure
//! per-path settling of live filesystem events: callers feed it raw events with the `Instant`
//! they saw them at and drain net outcomes once a path has been quiet for the settle time.
//! [`LiveWatcher`] is the live source of those events: a recursive watch of one root on a
//! [`LiveHub`], the one notify watcher (one inotify instance on Linux) that every watch of a
//! process shares so that renames between watched folders arrive paired. Its callback only
//! converts notify's events into [`RawEvent`]s and `try_send`s them into each covering
//! watch's bounded channel of [`Incoming`] messages; a full channel sets an overflow flag
//! that means "rescan the root", and the kernel's watch limit is reported as
//! [`WatchError::WatchLimit`], naming the sysctl to raise.
//!
//! Boundaries: this crate reads the filesystem but never writes it, and knows nothing of the
//! store (redb), the HTTP protocol or terminals. It owns no threads beyond the walk's own
//! pool and notify's event thread, and no clock: the daemon receives [`Incoming`] messages,
//! drives the [`Coalescer`] with its own timer, and applies [`Settled`] outcomes by diffing
//! against the store.

mod coalesce;
mod filter;
mod live;
mod walk;

pub use coalesce::{Coalescer, RawEvent, Settled};
pub use filter::Filter;
pub use live::{Incoming, LiveHub, LiveWatcher, WatchError};
pub use walk::{
    Links, Look, Problem, ProblemKind, SNIFF_BYTES, Walk, WalkError, WalkOptions, WalkedFile, look,
    mtime_of, walk,
};
