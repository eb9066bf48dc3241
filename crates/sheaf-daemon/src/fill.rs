//! The background fill of smart collections (SPEC §7.2). A smart collection that is new,
//! has a new query or came back from the trash is filled here, a chunk of items per
//! transaction through the one [`Writer`], so that requests and folder changes interleave
//! with a fill of a million items instead of waiting for it. Once filled, a smart
//! collection is kept inside every write by the store itself.

use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::writer::Writer;

/// Items matched per transaction: large enough that a fill's commits are few, small enough
/// that a request waits at most a few milliseconds behind one.
pub(crate) const CHUNK: usize = 2_000;

/// Fills until every smart collection is filled, then waits for `wake` (a write that made
/// or re-queried one) or for the daemon to stop.
pub(crate) async fn run(writer: Arc<Writer>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        loop {
            if *stop.borrow() {
                return;
            }
            let w = Arc::clone(&writer);
            let filled = tokio::task::spawn_blocking(move || w.fill_step(CHUNK)).await;
            match filled {
                Ok(Ok(Some(filled))) => {
                    if filled.done {
                        tracing::info!(collection = %filled.collection_id, "smart collection filled");
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    // The store failed (a full disk, say): try again once something wakes
                    // the fill, as every later write does.
                    tracing::warn!(error = %e, "filling a smart collection failed; will retry");
                    break;
                }
                Err(_) => {
                    tracing::error!("the smart-collection fill panicked");
                    return;
                }
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
