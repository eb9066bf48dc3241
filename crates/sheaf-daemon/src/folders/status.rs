//! What a watch is doing: the live counters its thread and the committer keep, and the
//! typed snapshot of them that the API and the service manager read.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use sheaf_core::{Timestamp, Watch};

/// What a watch is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Walking its folder.
    Scanning,
    /// Following live events.
    Live,
    /// Rescanning at an interval.
    Polling,
    /// Something is wrong; the reason says what and what it does instead.
    Degraded(String),
    /// No thread runs for it (it could not be started, or is being replaced).
    Stopped,
}

/// A watch's live status, shared between its thread, the committer and the API.
#[derive(Debug)]
pub(crate) struct Status {
    state: Mutex<State>,
    /// The state it returns to after a rescan.
    steady: Mutex<State>,
    /// Files of the watch: counted by the last full reconcile, adjusted by live events.
    pub(super) files: AtomicU64,
    last_reconcile: Mutex<Option<Timestamp>>,
    /// Changes handed to the committer and not yet committed.
    pub(super) queued: AtomicU64,
    /// Paths with events not yet settled.
    pub(super) pending: AtomicU64,
    /// Times events were lost (a queue overflowed) and the root rescanned.
    overflows: AtomicU64,
    last_overflow: Mutex<Option<Timestamp>>,
    /// Set to ask the thread for a full reconcile.
    pub(super) rescan: AtomicBool,
    /// Set to stop the thread.
    pub(super) stop: AtomicBool,
}

impl Status {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State::Scanning),
            steady: Mutex::new(State::Live),
            files: AtomicU64::new(0),
            last_reconcile: Mutex::new(None),
            queued: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            overflows: AtomicU64::new(0),
            last_overflow: Mutex::new(None),
            rescan: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    pub(super) fn set_state(&self, state: State) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    fn state(&self) -> State {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_steady(&self, state: State) {
        *self.steady.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub(super) fn steady(&self) -> State {
        self.steady
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Events were lost at `at`; the root is rescanned.
    /// Adds a commit's net change of this watch's live folder entries.
    pub(super) fn add_files(&self, delta: i64) {
        let _ = self
            .files
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add_signed(delta))
            });
    }

    pub(super) fn overflowed(&self, at: Timestamp) {
        self.overflows.fetch_add(1, Ordering::Relaxed);
        *self
            .last_overflow
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(at);
    }

    /// A full reconcile ended at `at`.
    pub(super) fn set_reconciled(&self, at: Timestamp) {
        *self
            .last_reconcile
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(at);
    }
}

/// A watch and its status at one moment.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WatchStatus {
    /// The stored watch.
    pub(crate) watch: Watch,
    pub(crate) state: State,
    /// Files mirrored: the last full reconcile's count, adjusted by live events.
    pub(crate) files: u64,
    /// End of the last full reconcile.
    pub(crate) last_reconcile_at: Option<Timestamp>,
    /// Settled changes waiting to be committed, plus paths with events not yet settled.
    pub(crate) queue_depth: u64,
    /// Times events were lost and the root rescanned, since the daemon started.
    pub(crate) overflows: u64,
    /// When that last happened.
    pub(crate) last_overflow_at: Option<Timestamp>,
}

impl WatchStatus {
    /// `watch` as its thread's `status` shows it; [`State::Stopped`] without a thread.
    pub(crate) fn of(watch: Watch, status: Option<&Status>) -> Self {
        let Some(s) = status else {
            return Self {
                watch,
                state: State::Stopped,
                files: 0,
                last_reconcile_at: None,
                queue_depth: 0,
                overflows: 0,
                last_overflow_at: None,
            };
        };
        let at = |m: &Mutex<Option<Timestamp>>| *m.lock().unwrap_or_else(PoisonError::into_inner);
        Self {
            watch,
            state: s.state(),
            files: s.files.load(Ordering::Relaxed),
            last_reconcile_at: at(&s.last_reconcile),
            queue_depth: s.queued.load(Ordering::Relaxed) + s.pending.load(Ordering::Relaxed),
            overflows: s.overflows.load(Ordering::Relaxed),
            last_overflow_at: at(&s.last_overflow),
        }
    }
}
