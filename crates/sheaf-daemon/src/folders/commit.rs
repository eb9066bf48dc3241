//! The committer: one thread that applies folder changes in group transactions.
//!
//! Watch threads send [`Job`]s; the committer takes every job waiting (up to
//! [`MAX_GROUP`] changes) and applies them as one `Store::sync_groups`, through the
//! daemon's one write path (which publishes the seqs to the event streams), so a quiet file is
//! committed as soon as it settles while a burst of events becomes a few large
//! transactions: ingest runs at the store's batch rate, not its fsync rate.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};

use super::Status;
use crate::writer::Writer;
use sheaf_core::SyncSummary;
use sheaf_core::rules::FolderChange;

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
}

/// Runs until every sender is gone, then returns (after committing what was sent).
pub(crate) fn run(rx: &Receiver<Job>, writer: &Writer) {
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
        let outcome = writer.write(|s| s.sync_groups(&groups));
        drop(groups);
        let n = size;
        let result = match outcome {
            Ok(written) => match written.outcome {
                sheaf_core::Outcome::Synced(summary) => {
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
