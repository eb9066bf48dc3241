//! The daemon's one write path: every change to the store is one store operation run
//! through [`Writer::write`], and the sequence numbers it committed reach the event streams
//! from here alone — the API's handlers, the watches' committer and the watch requests
//! alike.

use std::sync::Arc;

use sheaf_core::Outcome;
use sheaf_store::{Filled, Store, WriteError, Written};
use tokio::sync::{Notify, watch};

/// Runs writes and publishes their committed seqs.
#[derive(Debug)]
pub(crate) struct Writer {
    store: Arc<Store>,
    /// The last committed seq; event streams wait on it.
    seq: watch::Sender<u64>,
    /// Wakes the smart-collection fill after a write that created or changed a collection.
    fill: Arc<Notify>,
}

impl Writer {
    /// A writer on `store`, whose feed ends at `last_seq`.
    pub(crate) fn new(store: Arc<Store>, last_seq: u64) -> Self {
        Self {
            store,
            seq: watch::Sender::new(last_seq),
            fill: Arc::new(Notify::new()),
        }
    }

    /// What wakes the smart-collection fill (see `fill`).
    pub(crate) fn fill_wake(&self) -> Arc<Notify> {
        Arc::clone(&self.fill)
    }

    /// One step of the smart-collection fill, its seqs published like any write's.
    pub(crate) fn fill_step(&self, chunk: usize) -> Result<Option<Filled>, WriteError> {
        let filled = self.store.fill_smart(chunk)?;
        if let Some((_, last)) = filled.as_ref().and_then(|f| f.seqs) {
            self.publish(last);
        }
        Ok(filled)
    }

    /// Told of every commit from now on (the last committed seq).
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.seq.subscribe()
    }

    /// The store, for reads.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `op`, one store operation (which plans, applies, commits and returns its
    /// seqs), then moves the event streams' seq forward to the last one it committed.
    /// Blocks: redb commits with fsync.
    pub(crate) fn write(
        &self,
        op: impl FnOnce(&Store) -> Result<Written, WriteError>,
    ) -> Result<Written, WriteError> {
        let written = op(&self.store)?;
        if let Some((_, last)) = written.seqs {
            self.publish(last);
        }
        if matches!(written.outcome, Outcome::Collection(_)) {
            self.fill.notify_one();
        }
        Ok(written)
    }

    /// Runs `op`, a store write that answers its value with the seqs it committed (a
    /// rule's firing, a job's run), and publishes them.
    pub(crate) fn write_with_seqs<T>(
        &self,
        op: impl FnOnce(&Store) -> Result<(T, Option<(u64, u64)>), WriteError>,
    ) -> Result<(T, Option<(u64, u64)>), WriteError> {
        let (value, seqs) = op(&self.store)?;
        if let Some((_, last)) = seqs {
            self.publish(last);
        }
        Ok((value, seqs))
    }

    fn publish(&self, last: u64) {
        // Commits are serialised by the store, but two writers may publish out of order:
        // the seq only moves forward.
        self.seq.send_if_modified(|seq| {
            let newer = last > *seq;
            if newer {
                *seq = last;
            }
            newer
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheaf_core::CollectionId;
    use sheaf_core::rules::NewCollection;

    fn writer(dir: &tempfile::TempDir) -> Writer {
        let store = Store::open(&dir.path().join("s.redb"), sheaf_store::Options::default());
        Writer::new(Arc::new(store.unwrap()), 0)
    }

    fn create(slug: &str) -> NewCollection {
        NewCollection {
            id: Some(CollectionId::parse(slug).unwrap()),
            ..NewCollection::default()
        }
    }

    #[test]
    fn a_committed_write_publishes_its_last_seq() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir);
        let mut seq = writer.subscribe();
        let written = writer.write(|s| s.create_collection(&create("a"))).unwrap();
        let (_, last) = written.seqs.unwrap();
        assert!(seq.has_changed().unwrap());
        assert_eq!(*seq.borrow_and_update(), last);
    }

    #[test]
    fn a_refused_write_publishes_nothing_and_the_seq_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir);
        writer.write(|s| s.create_collection(&create("a"))).unwrap();
        let mut seq = writer.subscribe();
        let published = *seq.borrow_and_update();
        assert!(writer.write(|s| s.create_collection(&create("a"))).is_err());
        assert!(!seq.has_changed().unwrap());
        // An older write's seqs published late leave the seq where it is.
        writer
            .write(|s| {
                let mut written = s.create_collection(&create("b"))?;
                written.seqs = Some((1, 1));
                Ok(written)
            })
            .unwrap();
        assert_eq!(*seq.borrow(), published);
    }
}
