//! One watch's thread: the start-up reconcile, then live events (coalesced, turned into
//! folder changes, handed to the committer) or polling, rescans on demand and on overflow.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use sheaf_core::SyncSummary;
use sheaf_core::rules::{FolderChange, Was};
use sheaf_store::KnownFile;
use sheaf_watch::{
    Coalescer, Filter, Incoming, Links, LiveWatcher, Look, Settled, WatchError, look,
};

use super::reconcile::diff;
use super::scopes::Scope;
use super::{Shared, State, Status};

/// Undelivered notify batches a watch holds before it declares an overflow and rescans.
const LIVE_CAPACITY: usize = 16_384;
/// Changes sent to the committer at once by a reconcile.
const CHUNK: usize = 5_000;
/// Most notify batches taken from the live channel in one pass of the loop.
const DRAIN_BOUND: usize = 4096;
/// How long the files of a folder that left are looked for in the folders walked after.
const DEPARTED_FOR: Duration = Duration::from_secs(5);
/// The longest the loop sleeps before looking at its flags again.
const TICK: Duration = Duration::from_millis(100);

/// Filesystem types whose changes inotify cannot see (`statfs(2)` magic numbers): NFS,
/// SMB/CIFS, FUSE, 9P, Ceph, AFS, Coda.
const REMOTE_FS: [i64; 9] = [
    0x6969,
    0x517B,
    0xFF53_4D42,
    0xFE53_4D42,
    0x6573_5546,
    0x0102_1997,
    0x00C3_6400,
    0x5346_414F,
    0x7375_7245,
];

fn is_remote(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|s| REMOTE_FS.contains(&{ s.f_type }))
}

pub(crate) struct WatchTask {
    pub(crate) scope: Scope,
    pub(crate) status: Arc<Status>,
    pub(crate) shared: Arc<Shared>,
    /// Files of folders that left lately, with when: a walk soon after may find them moved
    /// in unseen (see [`WatchTask::moved_away`]).
    pub(crate) departed: RefCell<Vec<(Instant, Vec<KnownFile>)>>,
}

impl WatchTask {
    fn root(&self) -> PathBuf {
        PathBuf::from(&self.scope.watch.path)
    }

    fn stopping(&self) -> bool {
        self.status.stop.load(Ordering::Acquire)
    }

    /// Hands changes to the committer; with `wait`, until they are committed.
    fn send(&self, changes: Vec<FolderChange>, wait: bool) -> Result<SyncSummary, String> {
        let present = changes
            .iter()
            .any(|c| matches!(c, FolderChange::Present { .. }));
        let summary = self.shared.send(&self.status, changes, wait)?;
        if present {
            // New or changed files: the hasher has work once the watches are quiet.
            self.shared.hasher.poke();
        }
        Ok(summary)
    }

    /// Waits until every change this watch handed to the committer is committed (or the
    /// daemon stops).
    fn flush(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.status.queued.load(Ordering::Acquire) > 0
            && !self.stopping()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Reconciles `dir` (the root or a folder under it) and commits the difference; a new
    /// file with the identity of one in `elsewhere` keeps its item (see [`diff`]).
    fn reconcile(&self, dir: &Path, elsewhere: &[KnownFile]) -> Result<(), String> {
        let whole = dir == self.root();
        if whole && !dir.is_dir() {
            // An unmounted disk must not look like every file deleted.
            return Err(format!(
                "{} is missing; its entries are left as they are",
                dir.display()
            ));
        }
        let started = Instant::now();
        let _scanning = self.shared.scanning();
        // The diff reads the store: what this watch handed to the committer must be in it
        // first, or a file created and deleted meanwhile would come back as a stale entry.
        self.flush();
        let scopes = self.shared.scopes();
        let found = diff(&self.shared.store, &self.scope, &scopes, dir, elsewhere)?;
        let mut summary = SyncSummary::default();
        let mut changes = found.changes;
        if tracing::enabled!(tracing::Level::TRACE) {
            for c in &changes {
                tracing::trace!(watch = %self.scope.watch.id, folder = %dir.display(), change = ?c, "reconcile change");
            }
        }
        while !changes.is_empty() {
            if self.stopping() {
                return Ok(());
            }
            let rest = changes.split_off(changes.len().min(CHUNK));
            summary.absorb(&self.send(changes, true)?);
            changes = rest;
        }
        if whole {
            // Commits keep `files` by their net changes; a full reconcile counts it afresh.
            self.shared.recount(&self.status, &self.scope.watch);
            self.status.set_reconciled(self.shared.now());
        }
        tracing::info!(
            watch = %self.scope.watch.id,
            folder = %dir.display(),
            files = found.files,
            took_ms = started.elapsed().as_millis() as u64,
            ?summary,
            "reconciled"
        );
        Ok(())
    }

    fn reconcile_root(&self) {
        self.status.set_state(State::Scanning);
        match self.reconcile(&self.root(), &[]) {
            Ok(()) => self.status.set_state(self.status.steady()),
            Err(e) => {
                tracing::error!(watch = %self.scope.watch.id, error = %e, "reconcile failed; retrying at the next poll");
                self.status.set_state(State::Degraded(e));
            }
        }
    }

    pub(crate) fn run(self) {
        let root = self.root();
        let fallback = Duration::from_millis(self.shared.fallback_poll_ms);
        let mut poll = self.scope.watch.poll_ms.map(Duration::from_millis);
        let mut steady = State::Polling;
        let mut live: Option<(LiveWatcher, Receiver<Incoming>)> = None;
        if poll.is_none() && is_remote(&root) {
            tracing::info!(watch = %self.scope.watch.id, folder = %root.display(), "a network or FUSE filesystem: polling");
            poll = Some(fallback);
        }
        if poll.is_none() {
            match self.shared.hub.watch(&root, LIVE_CAPACITY) {
                Ok(pair) => {
                    live = Some(pair);
                    steady = State::Live;
                }
                Err(e) => {
                    steady = degraded(&e, fallback);
                    tracing::error!(watch = %self.scope.watch.id, error = %e, "live watch failed; polling instead");
                    poll = Some(fallback);
                }
            }
        }
        self.status.set_steady(steady.clone());
        // Events that arrive during the reconcile wait in the live channel: nothing is missed.
        self.reconcile_root();

        let mut coalescer = Coalescer::new(self.shared.settle);
        let mut next_poll = poll.map(|p| Instant::now() + p);
        loop {
            if self.stopping() {
                // What has not settled yet is committed now; the next start reconciles anyway.
                let rest = coalescer.drain_settled(Instant::now() + Duration::from_secs(3600));
                self.apply(rest, live.as_ref().map(|(w, _)| w), &[]);
                break;
            }
            if self.status.rescan.swap(false, Ordering::AcqRel) {
                self.reconcile_root();
            }
            let now = Instant::now();
            let mut wait = TICK;
            if let Some(d) = coalescer.next_deadline() {
                wait = wait.min(d.saturating_duration_since(now));
            }
            if let Some(p) = next_poll {
                wait = wait.min(p.saturating_duration_since(now));
            }
            let mut lost_live = false;
            let mut overflowed = false;
            if let Some((watcher, rx)) = &live {
                let mut limit = None;
                match rx.recv_timeout(wait) {
                    // What else is waiting is taken too, so a burst is coalesced in one pass.
                    Ok(first) => {
                        drain(rx, first, DRAIN_BOUND, |message| {
                            self.take(message, &mut coalescer, &mut overflowed, &mut limit);
                        });
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => lost_live = true,
                }
                if coalescer.lone_departure_due(Instant::now()) || coalescer.rescan_pending() {
                    // Before a rename's departure whose arrival has not come settles as a
                    // removal, and before a folder is walked, take everything notify has
                    // read so far: under load its thread can stall between handing on the
                    // two halves of one rename, and a folder moved into a new folder that
                    // was not watched yet reports only its departure, which the walk of the
                    // new folder must know of to keep the moved files' items.
                    match watcher.sync() {
                        Ok(()) => {
                            // What was waiting then, at most: a flood must not hold the loop.
                            for message in rx.try_iter().take(LIVE_CAPACITY) {
                                self.take(message, &mut coalescer, &mut overflowed, &mut limit);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "waiting for the live watcher failed"),
                    }
                }
                if let Some(e) = limit {
                    steady = degraded(&e, fallback);
                    self.status.set_steady(steady.clone());
                    self.status.set_state(steady.clone());
                    next_poll.get_or_insert_with(|| Instant::now() + fallback);
                    poll.get_or_insert(fallback);
                }
                if watcher.take_overflow() {
                    // Only this watch's channel was full: notify still added kernel watches
                    // for new folders, so a rescan is all it takes.
                    tracing::warn!(watch = %self.scope.watch.id, "event queue overflow; rescanning the folder");
                    self.status.overflowed(self.shared.now());
                    coalescer.push(root.clone(), sheaf_watch::RawEvent::Rescan, Instant::now());
                }
                if overflowed {
                    self.status.overflowed(self.shared.now());
                    // The kernel's queue overflowed: folders created meanwhile have no kernel
                    // watch. The shared watcher sets up its watches afresh (once, whichever
                    // watch asks first), then the rescan runs.
                    tracing::warn!(watch = %self.scope.watch.id, "kernel event queue overflow; rescanning the folder");
                    if let Err(e) = watcher.renew() {
                        tracing::error!(watch = %self.scope.watch.id, error = %e, "renewing the live watch failed");
                        lost_live = true;
                    }
                }
            } else {
                std::thread::sleep(wait);
            }
            if lost_live {
                live = None;
                steady = State::Degraded("the live watcher stopped; polling".into());
                self.status.set_steady(steady.clone());
                self.status.set_state(steady.clone());
                poll.get_or_insert(fallback);
                next_poll.get_or_insert_with(Instant::now);
            }
            self.status
                .pending
                .store(coalescer.len() as u64, Ordering::Relaxed);
            let settled = coalescer.drain_settled(Instant::now());
            let pending = coalescer.pending_departures();
            self.apply(settled, live.as_ref().map(|(w, _)| w), &pending);
            if let (Some(due), Some(every)) = (next_poll, poll)
                && Instant::now() >= due
            {
                if steady == State::Polling || root.is_dir() {
                    self.reconcile_root();
                }
                next_poll = Some(Instant::now() + every);
            }
        }
    }

    /// Feeds one message of the live watcher into the coalescer. `overflowed` is set when the
    /// kernel's own queue overflowed (a rescan of the whole root: kernel watches may be
    /// missing); `limit` when the kernel's watch limit was reached.
    fn take(
        &self,
        message: Incoming,
        coalescer: &mut Coalescer,
        overflowed: &mut bool,
        limit: &mut Option<WatchError>,
    ) {
        let root = Path::new(&self.scope.watch.path);
        match message {
            Incoming::Events(events) => {
                let seen = Instant::now();
                for (path, event) in events {
                    tracing::trace!(path = %path.display(), ?event, "event");
                    *overflowed |= event == sheaf_watch::RawEvent::Rescan && path == root;
                    coalescer.push(path, event, seen);
                }
            }
            Incoming::Error(e) => {
                tracing::warn!(watch = %self.scope.watch.id, error = %e, "watcher error; rescanning");
                if matches!(e, WatchError::WatchLimit { .. }) {
                    *limit = Some(e);
                }
                coalescer.push(
                    root.to_path_buf(),
                    sheaf_watch::RawEvent::Rescan,
                    Instant::now(),
                );
            }
        }
    }

    /// Turns settled outcomes into folder changes and hands them to the committer.
    ///
    /// Every walk it makes (a new or moved-in folder, a rescan) first waits for `live` to
    /// have set up the kernel watches of the folders it reported ([`LiveWatcher::sync`]).
    fn apply(&self, settled: Vec<Settled>, live: Option<&LiveWatcher>, pending: &[PathBuf]) {
        if settled.is_empty() {
            return;
        }
        let mut walks = Walks {
            live,
            synced: false,
        };
        let scopes = self.shared.scopes();
        let mut changes = Vec::new();
        let mut rescans = Vec::new();
        let present = |f: sheaf_watch::WalkedFile| FolderChange::Present {
            owners: scopes.owners(Path::new(&f.path)),
            facts: f.into_facts(),
            was: None,
        };
        // Paths that hold a file again by the end of this drain (see the move onto an ignored
        // name below).
        let refilled: HashSet<PathBuf> = settled
            .iter()
            .filter_map(|s| match s {
                Settled::Created(p) | Settled::Modified(p) | Settled::Replaced(p) => {
                    Some(p.clone())
                }
                _ => None,
            })
            .collect();
        for s in settled {
            tracing::trace!(watch = %self.scope.watch.id, settled = ?s, "settled");
            match s {
                Settled::Created(p) | Settled::Modified(p) | Settled::Replaced(p) => {
                    if Filter::is_ignore_file(&p) {
                        if let Some(parent) = p.parent() {
                            scopes.forget(parent);
                            rescans.push(parent.to_path_buf());
                        }
                        continue;
                    }
                    // One look per path: the facts of a file, sniffed.
                    match look(&p, Links::Keep, true) {
                        Look::File(f) => changes.push(present(f)),
                        Look::Folder => rescans.push(p),
                        // Deleted or renamed away since it settled: that event is on its
                        // way and settles on its own (a rename must find the item where it
                        // was, not gone).
                        Look::Missing | Look::Other => {}
                    }
                }
                Settled::Removed(p) => self.gone(&p, &mut changes),
                Settled::Moved { from, to } => {
                    let owners = scopes.owners(&to);
                    match look(&to, Links::Keep, true) {
                        Look::Folder => {
                            walks.prepare();
                            self.moved_folder(&from, &to, &mut changes);
                        }
                        Look::File(_) | Look::Missing if owners.is_empty() => {
                            // Moved onto a name no watch admits (an editor's backup `f~`):
                            // as far as the watches see, the file left. Its item stays at its
                            // path, gone until a file comes back there (a save through a
                            // backup name) — at once, when that happened in this same drain.
                            if !refilled.contains(&from) {
                                self.gone(&from, &mut changes);
                            }
                        }
                        Look::File(f) => changes.push(FolderChange::Present {
                            facts: f.into_facts(),
                            was: from.to_str().map(|p| Was::Path(p.to_owned())),
                            owners,
                        }),
                        Look::Missing => self.moved_on(&from, &to, owners, &mut changes),
                        Look::Other => {}
                    }
                }
                Settled::Rescan(p) => rescans.push(p),
            }
        }
        if let Err(e) = self.send(changes, false) {
            tracing::error!(watch = %self.scope.watch.id, error = %e, "folder changes dropped; rescanning");
            self.status.rescan.store(true, Ordering::Release);
        }
        let root = self.root();
        if !rescans.is_empty() {
            walks.prepare();
        }
        // What may have moved into the folders walked below without a rename event: the
        // folders whose departure settled lately, and those whose departure is pending.
        let elsewhere = if rescans.iter().any(|d| *d != root) {
            self.moved_away(pending)
        } else {
            Vec::new()
        };
        for dir in rescans {
            let result = if dir == root {
                self.reconcile_root();
                Ok(())
            } else {
                self.reconcile(&dir, &elsewhere)
            };
            if let Err(e) = result {
                tracing::warn!(watch = %self.scope.watch.id, folder = %dir.display(), error = %e, "rescan failed; rescanning the watch");
                self.status.rescan.store(true, Ordering::Release);
            }
        }
    }

    /// The files known under the folders that left lately (gone, as far as the store will
    /// know once their changes are committed) and under `pending` (departures not settled
    /// yet, still where they were).
    fn moved_away(&self, pending: &[PathBuf]) -> Vec<KnownFile> {
        let mut departed = self.departed.borrow_mut();
        departed.retain(|(at, _)| at.elapsed() < DEPARTED_FOR);
        let mut out: Vec<KnownFile> = departed.iter().flat_map(|(_, k)| k.clone()).collect();
        for from in pending.iter().filter_map(|p| p.to_str()) {
            match self.shared.store.known_under(from) {
                Ok(known) => out.extend(known.into_iter().filter(|k| k.present)),
                Err(e) => tracing::warn!(error = %e, "reading the store failed"),
            }
        }
        out
    }

    /// The file at `path` is gone, and so is everything the store knew under it (a folder).
    fn gone(&self, path: &Path, changes: &mut Vec<FolderChange>) {
        let Some(text) = path.to_str() else { return };
        changes.push(FolderChange::Gone {
            path: text.to_owned(),
        });
        match self.shared.store.known_under(text) {
            Ok(known) => {
                let known: Vec<KnownFile> = known
                    .into_iter()
                    .filter(|k| k.present)
                    .map(|k| KnownFile {
                        present: false,
                        ..k
                    })
                    .collect();
                changes.extend(known.iter().map(|k| FolderChange::Gone {
                    path: k.path.clone(),
                }));
                if !known.is_empty() {
                    // A folder left: it may turn up in a folder walked soon (see `moved_away`).
                    self.departed.borrow_mut().push((Instant::now(), known));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the store failed; rescanning");
                self.status.rescan.store(true, Ordering::Release);
            }
        }
    }

    /// The file or folder at `from` moved to `to` and is no longer there either: it moved on
    /// (a quick rename chain: the next move names `to` as its origin, so the item follows
    /// it there now, facts unchanged) or was deleted (its removal at `to` follows). A
    /// folder's files are gone: where it went is not known any more.
    fn moved_on(
        &self,
        from: &Path,
        to: &Path,
        owners: Arc<[sheaf_core::rules::Owner]>,
        changes: &mut Vec<FolderChange>,
    ) {
        let (Some(from_text), Some(to_text)) = (from.to_str(), to.to_str()) else {
            return;
        };
        match self.shared.store.known_under(from_text) {
            Ok(known) if known.iter().all(|k| !k.present) => {
                changes.push(FolderChange::Renamed {
                    from: from_text.to_owned(),
                    to: to_text.to_owned(),
                    owners,
                });
            }
            _ => self.gone(from, changes),
        }
    }

    /// A folder moved from `from` to `to`: every file under it keeps its item.
    fn moved_folder(&self, from: &Path, to: &Path, changes: &mut Vec<FolderChange>) {
        let (Some(from_text), Some(to_text)) = (from.to_str(), to.to_str()) else {
            return;
        };
        let scopes = self.shared.scopes();
        let walked = match sheaf_watch::walk(to, &sheaf_watch::WalkOptions::default()) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "walking a moved folder failed; rescanning");
                self.status.rescan.store(true, Ordering::Release);
                return;
            }
        };
        let mut arrived = std::collections::HashSet::new();
        for f in walked.files {
            let Some(rel) = f.path.strip_prefix(to_text) else {
                continue;
            };
            let old = format!("{from_text}{rel}");
            arrived.insert(old.clone());
            changes.push(FolderChange::Present {
                owners: scopes.owners(Path::new(&f.path)),
                facts: f.into_facts(),
                was: Some(Was::Path(old)),
            });
        }
        if let Ok(known) = self.shared.store.known_under(from_text) {
            changes.extend(
                known
                    .into_iter()
                    .filter(|k| k.present && !arrived.contains(&k.path))
                    .map(|k| FolderChange::Gone { path: k.path }),
            );
        }
    }
}

/// The walks of one drain, which must not start before the live watcher has set up the
/// kernel watches of the folders it reported: waited for once, before the first walk.
struct Walks<'a> {
    live: Option<&'a LiveWatcher>,
    synced: bool,
}

impl Walks<'_> {
    fn prepare(&mut self) {
        if self.synced {
            return;
        }
        self.synced = true;
        if let Some(live) = self.live
            && let Err(e) = live.sync()
        {
            // The walk goes ahead: it is still right about what it finds.
            tracing::warn!(error = %e, "waiting for the live watcher failed");
        }
    }
}

/// Hands `first`, then what is waiting on `rx`, to `handle`: at most `bound` messages in all,
/// so that a flood still lets the loop settle and commit. A message taken is always handled.
fn drain<T>(rx: &Receiver<T>, first: T, bound: usize, mut handle: impl FnMut(T)) -> usize {
    handle(first);
    let mut taken = 1;
    while taken < bound {
        let Ok(next) = rx.try_recv() else { break };
        handle(next);
        taken += 1;
    }
    taken
}

fn degraded(e: &WatchError, fallback: Duration) -> State {
    State::Degraded(format!(
        "{e}; rescanning every {}",
        sheaf_core::format_interval(fallback.as_millis() as u64)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn draining_a_channel_in_bounded_passes_hands_over_every_message_once() {
        let (tx, rx) = sync_channel(10_000);
        for n in 0..9_999_u32 {
            tx.send(n).unwrap();
        }
        let mut seen = Vec::new();
        let mut passes = Vec::new();
        while let Ok(first) = rx.try_recv() {
            passes.push(drain(&rx, first, 4096, |n| seen.push(n)));
        }
        assert_eq!(passes, [4096, 4096, 1807]);
        assert_eq!(seen, (0..9_999).collect::<Vec<_>>());
    }
}
