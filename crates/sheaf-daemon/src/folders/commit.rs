//! The committer: one thread that applies folder changes in group transactions.
//!
//! Watch threads send [`Job`]s; the committer takes every job waiting (up to
//! [`MAX_GROUP`] changes) and applies them as one `Store::sync_groups`, through the
//! daemon's one write path (which publishes the seqs to the event streams), so a quiet file is
//! committed as soon as it settles while a burst of events becomes a few large
//! transactions: ingest runs at the store's batch rate, not its fsync rate.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, PoisonError, RwLock};

use sheaf_core::rules::FolderChange;
use sheaf_core::{CollectionId, SyncSummary, WatchId};

use super::Status;
use crate::writer::Writer;

/// Most changes in one transaction: large enough for the store's batch rate, small
/// enough to keep a transaction's memory and the readers' wait for it modest.
pub(crate) const MAX_GROUP: usize = 10_000;

/// Changes to commit, from one watch.
pub(crate) struct Job {
    pub(crate) changes: Vec<FolderChange>,
    /// How many changes it carried (counted in its watch's queue depth until committed).
    pub(crate) count: u64,
    /// The watch they come from: its queue depth shrinks when they are committed, and it
    /// rescans when they could not be.
    pub(crate) status: Arc<Status>,
    /// Told the outcome, for a caller that waits (a reconcile applying its chunks).
    pub(crate) done: Option<SyncSender<Result<SyncSummary, String>>>,
    /// After the commit, count this watch's live folder entries in this collection afresh
    /// into `status` (the end of a full reconcile).
    pub(crate) recount: Option<(CollectionId, WatchId)>,
}

/// The running watches' statuses by id: each commit's net change of live folder entries
/// goes to the watch it belongs to.
#[derive(Clone, Default)]
pub(crate) struct Statuses(Arc<RwLock<HashMap<WatchId, Arc<Status>>>>);

impl Statuses {
    pub(crate) fn insert(&self, id: WatchId, status: Arc<Status>) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, status);
    }

    pub(crate) fn remove(&self, id: WatchId) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    fn count(&self, deltas: &BTreeMap<WatchId, i64>) {
        let statuses = self.0.read().unwrap_or_else(PoisonError::into_inner);
        for (id, delta) in deltas {
            if let Some(status) = statuses.get(id) {
                status.add_files(*delta);
            }
        }
    }
}

/// Runs until every sender is gone, then returns (after committing what was sent).
pub(crate) fn run(rx: &Receiver<Job>, writer: &Writer, statuses: &Statuses) {
    while let Ok(first) = rx.recv() {
        let mut size = first.changes.len();
        let mut jobs = vec![first];
        while size < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.changes.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        // Each job is one group of changes that happened together; a later job's moves name
        // their origins as the earlier jobs left them.
        let groups: Vec<&[FolderChange]> = jobs.iter().map(|j| j.changes.as_slice()).collect();
        if tracing::enabled!(tracing::Level::TRACE) {
            for (g, changes) in groups.iter().enumerate() {
                for c in *changes {
                    tracing::trace!(group = g, change = ?brief(c), "to commit");
                }
            }
        }
        let outcome = if size == 0 {
            Ok(None)
        } else {
            writer.write(|s| s.sync_groups(&groups)).map(Some)
        };
        drop(groups);
        let n = size;
        let result = match outcome {
            Ok(None) => Ok(SyncSummary::default()),
            Ok(Some(written)) => match written.outcome {
                sheaf_core::Outcome::Synced(summary) => {
                    statuses.count(&summary.folder_entries);
                    tracing::debug!(
                        changes = n,
                        jobs = jobs.len(),
                        ?summary,
                        "folder changes committed"
                    );
                    Ok(summary)
                }
                other => Err(format!("the store answered {other:?} to a sync")),
            },
            Err(e) => Err(format!("{:#}", anyhow::Error::new(e))),
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, changes = n, "folder changes could not be committed; the watches rescan");
        }
        for job in jobs {
            if let Some((collection, watch)) = &job.recount {
                match writer.store().count_folder_entries(collection, *watch) {
                    Ok(n) => job.status.files.store(n, Ordering::Relaxed),
                    Err(e) => {
                        tracing::warn!(watch = %watch, error = %anyhow::Error::new(e), "counting a watch's files failed");
                    }
                }
            }
            job.status.queued.fetch_sub(job.count, Ordering::Relaxed);
            if result.is_err() {
                job.status.rescan.store(true, Ordering::Release);
            }
            if let Some(done) = job.done {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// A change in one short line, for trace logs.
fn brief(change: &FolderChange) -> String {
    match change {
        FolderChange::Present { facts, was, .. } => format!("present {} was {was:?}", facts.path),
        FolderChange::Renamed { from, to, .. } => format!("renamed {from} to {to}"),
        FolderChange::Gone { path } => format!("gone {path}"),
        FolderChange::Hashed { item, .. } => format!("hashed {item}"),
    }
}
