//! Folder sync in the daemon (SPEC §3): the running watches, each on its own thread, and the
//! committer that applies their changes in group transactions.
//!
//! A watch's thread reconciles its folder at start (a walk diffed against the store), then
//! follows live events — coalesced per path for `settle_ms`, turned into folder changes with
//! the owners of every path — or polls where live events cannot be had (network and FUSE
//! filesystems, `poll`, the inotify watch limit). An overflow or an error of the live watcher
//! is a rescan. The rules that turn changes into items and entries are `sheaf-core`'s.

mod commit;
mod error;
mod hasher;
mod reconcile;
mod scopes;
mod status;
mod watcher;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Sender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use sheaf_core::rules::{FolderChange, NewWatch};
use sheaf_core::{Outcome, SyncSummary, Timestamp, Watch, WatchId};
use sheaf_store::Store;

use crate::config::{Config, WatchConfig};
use crate::writer::Writer;
pub(crate) use error::FolderError;
use scopes::{Scope, Scopes};
use status::Status;
pub(crate) use status::{State, WatchStatus};

/// What the watch threads share.
pub(crate) struct Shared {
    /// For reads; every write goes through `writer`.
    store: Arc<Store>,
    writer: Arc<Writer>,
    scopes: RwLock<Arc<Scopes>>,
    /// To the committer; taken at shutdown so that it drains and ends.
    jobs: Mutex<Option<Sender<commit::Job>>>,
    settle: Duration,
    fallback_poll_ms: u64,
    clock: sheaf_store::Clock,
    /// The one inotify instance of every live watch: a rename between two watched folders
    /// then arrives as a pair, and keeps its item.
    hub: sheaf_watch::LiveHub,
    /// When the watches last handed over changes, and how many are reconciling: the
    /// hasher works only while they are quiet.
    activity: hasher::Activity,
    hasher: hasher::Control,
    /// The running watches' statuses, for the committer to count their files.
    statuses: commit::Statuses,
}

impl Shared {
    fn scopes(&self) -> Arc<Scopes> {
        Arc::clone(&self.scopes.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Hands changes to the committer, counted in `status`'s queue depth until committed;
    /// with `wait`, until they are committed.
    fn send(
        &self,
        status: &Arc<Status>,
        changes: Vec<FolderChange>,
        wait: bool,
    ) -> Result<SyncSummary, String> {
        if changes.is_empty() {
            return Ok(SyncSummary::default());
        }
        self.activity.touch();
        let count = changes.len() as u64;
        status.queued.fetch_add(count, Ordering::Relaxed);
        let (done, reply) = if wait {
            let (tx, rx) = sync_channel(1);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let job = commit::Job {
            changes,
            count,
            status: Arc::clone(status),
            done,
            recount: None,
        };
        if let Err(e) = self.submit(job) {
            status.queued.fetch_sub(count, Ordering::Relaxed);
            return Err(e.to_owned());
        }
        match reply {
            Some(rx) => rx
                .recv()
                .map_err(|_| "the committer has stopped".to_owned())?,
            None => Ok(SyncSummary::default()),
        }
    }

    fn submit(&self, job: commit::Job) -> Result<(), &'static str> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or("the daemon is stopping")
            .and_then(|jobs| jobs.send(job).map_err(|_| "the committer has stopped"))
    }

    /// Has the committer count the watch's live folder entries afresh, after what was handed
    /// to it so far is committed (commits in between keep the count by their net changes).
    fn recount(&self, status: &Arc<Status>, watch: &Watch) {
        let job = commit::Job {
            changes: Vec::new(),
            count: 0,
            status: Arc::clone(status),
            done: None,
            recount: Some((watch.collection_id.clone(), watch.id)),
        };
        if let Err(e) = self.submit(job) {
            tracing::debug!(watch = %watch.id, error = e, "files not recounted");
        }
    }

    /// Marks a reconcile under way until the guard drops.
    fn scanning(&self) -> hasher::Busy<'_> {
        self.activity.busy()
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

/// A named thread, or the error logged.
fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name)
        .spawn(f)
        .map_err(|e| tracing::error!(error = %e, "cannot start a thread"))
        .ok()
}

struct Running {
    status: Arc<Status>,
    thread: Option<JoinHandle<()>>,
}

/// The running watches.
pub(crate) struct Folders {
    shared: Arc<Shared>,
    running: Mutex<BTreeMap<WatchId, Running>>,
    committer: Mutex<Option<JoinHandle<()>>>,
    hasher: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Folders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folders").finish_non_exhaustive()
    }
}

impl Folders {
    /// Starts the committer, brings the config file's watches into the store, and starts
    /// every stored watch. Every write goes through `writer`, which publishes its seqs.
    pub(crate) fn start(store: Arc<Store>, writer: Arc<Writer>, config: &Config) -> Self {
        let (tx, rx) = channel();
        let statuses = commit::Statuses::default();
        let (committer, committer_statuses) = (Arc::clone(&writer), statuses.clone());
        let commit_thread = spawn("sheaf-commit".into(), move || {
            commit::run(&rx, &committer, &committer_statuses);
        });
        let folders = Self {
            shared: Arc::new(Shared {
                clock: store.options().clock.clone(),
                store,
                writer,
                scopes: RwLock::new(Arc::new(Scopes::default())),
                jobs: Mutex::new(Some(tx)),
                settle: config.settle,
                fallback_poll_ms: config.fallback_poll_ms,
                hub: sheaf_watch::LiveHub::default(),
                activity: hasher::Activity::default(),
                hasher: hasher::Control::default(),
                statuses,
            }),
            running: Mutex::new(BTreeMap::new()),
            committer: Mutex::new(commit_thread),
            hasher: Mutex::new(None),
        };
        if config.content_hashes {
            let shared = Arc::clone(&folders.shared);
            *folders
                .hasher
                .lock()
                .unwrap_or_else(PoisonError::into_inner) =
                spawn("sheaf-hash".into(), move || hasher::run(&shared));
        }
        folders.adopt_config(&config.watches);
        match folders.shared.store.watches() {
            Ok(watches) => {
                for w in watches {
                    folders.launch(&w);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the watches"),
        }
        folders
    }

    /// Makes the stored config watches those of the file: adds new ones, updates changed
    /// ones, removes the ones no longer there (their entries are soft-deleted).
    fn adopt_config(&self, declared: &[WatchConfig]) {
        let mut keep = Vec::new();
        for w in declared {
            let req = match config_request(w) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(folder = %w.path.display(), error = %e, "config watch skipped");
                    continue;
                }
            };
            match self.shared.writer.write(|s| s.create_watch(&req)) {
                Ok(written) => {
                    if let Outcome::Watch { watch, .. } = written.outcome {
                        keep.push(watch);
                    }
                }
                Err(e) => {
                    tracing::error!(folder = %w.path.display(), error = %anyhow::Error::new(e), "config watch refused");
                }
            }
        }
        let stale: Vec<WatchId> = self
            .shared
            .store
            .watches()
            .unwrap_or_default()
            .into_iter()
            .filter(|w| w.from_config && !keep.contains(&w.id))
            .map(|w| w.id)
            .collect();
        for id in stale {
            tracing::info!(watch = %id, "watch no longer in the config file: removed");
            self.stop(id);
            if let Err(e) = self.shared.writer.write(|s| s.remove_watch(id, false)) {
                tracing::error!(watch = %id, error = %anyhow::Error::new(e), "removing a config watch failed");
            }
        }
    }

    /// Re-reads the config file's watches (SIGHUP): added, changed and removed ones take
    /// effect; the others keep running untouched.
    pub(crate) fn reload(&self, config: &Config) {
        self.adopt_config(&config.watches);
        let stored = self.shared.store.watches().unwrap_or_default();
        for w in stored {
            let changed = self
                .shared
                .scopes()
                .0
                .iter()
                .find(|s| s.watch.id == w.id)
                .is_none_or(|s| s.watch != w);
            if changed {
                self.stop(w.id);
                self.launch(&w);
            }
        }
    }

    /// Starts a thread for `watch` (its scope joins the others first).
    fn launch(&self, watch: &Watch) {
        let scope = match Scope::new(watch.clone()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(watch = %watch.id, error = %e, "watch not started");
                return;
            }
        };
        self.rescope(watch.id, Some(scope.clone()));
        let status = Arc::new(Status::new());
        let task = watcher::WatchTask {
            scope,
            status: Arc::clone(&status),
            shared: Arc::clone(&self.shared),
            departed: std::cell::RefCell::default(),
        };
        self.shared.statuses.insert(watch.id, Arc::clone(&status));
        let thread = spawn(format!("sheaf-watch-{}", watch.id), move || task.run());
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(watch.id, Running { status, thread });
    }

    /// Replaces (or, with `None`, removes) a watch's scope; the other watches' threads see
    /// the new set from their next change on.
    fn rescope(&self, id: WatchId, scope: Option<Scope>) {
        let mut scopes = self
            .shared
            .scopes
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = (**scopes).clone();
        next.0.retain(|s| s.watch.id != id);
        next.0.extend(scope);
        *scopes = Arc::new(next);
    }

    /// Stops a watch's thread and takes its scope out.
    fn stop(&self, id: WatchId) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        self.rescope(id, None);
        self.shared.statuses.remove(id);
        if let Some(mut r) = running {
            r.status.stop.store(true, Ordering::Release);
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// Counts every running watch's files afresh: after a write that moved folder entries
    /// between watches (a relocating move, or its undo).
    pub(crate) fn recount(&self) {
        let running: Vec<(WatchId, Arc<Status>)> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(id, r)| (*id, Arc::clone(&r.status)))
            .collect();
        let scopes = self.shared.scopes();
        for (id, status) in running {
            if let Some(scope) = scopes.0.iter().find(|s| s.watch.id == id) {
                self.shared.recount(&status, &scope.watch);
            }
        }
    }

    fn status(&self, id: WatchId) -> Option<Arc<Status>> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .map(|r| Arc::clone(&r.status))
    }

    /// Every watch with its status.
    pub(crate) fn list(&self) -> Result<Vec<WatchStatus>, FolderError> {
        let watches = self.shared.store.watches()?;
        Ok(watches
            .into_iter()
            .map(|w| {
                let status = self.status(w.id);
                WatchStatus::of(w, status.as_deref())
            })
            .collect())
    }

    /// `POST /v1/watches`: checks the folder and the globs, stores the watch, starts it.
    pub(crate) fn add(&self, req: &NewWatch) -> Result<(WatchStatus, bool), FolderError> {
        check_folder(&req.path)?;
        let probe = Watch {
            id: WatchId::from_ulid(ulid::Ulid::nil()),
            path: req.path.clone(),
            collection_id: req.collection.clone(),
            recursive: req.recursive,
            include: req.include.clone(),
            exclude: req.exclude.clone(),
            poll_ms: req.poll_ms,
            from_config: req.from_config,
            created_at: Timestamp::EPOCH,
            updated_at: Timestamp::EPOCH,
        };
        if let Err(source) = Scope::new(probe) {
            let field = if req.include.contains(&source.glob) {
                "include"
            } else {
                "exclude"
            };
            return Err(FolderError::Glob { field, source });
        }
        let written = self.shared.writer.write(|s| s.create_watch(req))?;
        let Outcome::Watch { watch: id, created } = written.outcome else {
            return Err(FolderError::Unexpected(
                "creating a watch answered something else",
            ));
        };
        let watch = self
            .shared
            .store
            .watch(id)?
            .ok_or(FolderError::Unexpected("a created watch is not there"))?;
        let unchanged = self.shared.scopes().0.iter().any(|s| s.watch == watch);
        if !unchanged {
            self.stop(id);
            self.launch(&watch);
        }
        let status = self.status(id);
        Ok((WatchStatus::of(watch, status.as_deref()), created))
    }

    /// `DELETE /v1/watches/{wid}`: stops the watch, then removes it.
    pub(crate) fn remove(&self, id: WatchId, keep_entries: bool) -> Result<u64, FolderError> {
        if self.shared.store.watch(id)?.is_none() {
            return Err(FolderError::NotFound(id));
        }
        self.stop(id);
        let written = self
            .shared
            .writer
            .write(|s| s.remove_watch(id, keep_entries))?;
        match written.outcome {
            Outcome::WatchRemoved { entries, .. } => Ok(entries),
            _ => Err(FolderError::Unexpected(
                "removing a watch answered something else",
            )),
        }
    }

    /// `POST /v1/watches/{wid}/rescan`: asks the watch's thread for a full reconcile.
    pub(crate) fn rescan(&self, id: WatchId) -> Result<WatchStatus, FolderError> {
        let watch = self
            .shared
            .store
            .watch(id)?
            .ok_or(FolderError::NotFound(id))?;
        let status = self.status(id);
        if let Some(s) = &status {
            s.set_state(State::Scanning);
            s.rescan.store(true, Ordering::Release);
        }
        Ok(WatchStatus::of(watch, status.as_deref()))
    }

    /// Stops the threads of watches that are no longer stored (their collection was purged).
    pub(crate) fn prune(&self) {
        let stored: Vec<WatchId> = self
            .shared
            .store
            .watches()
            .unwrap_or_default()
            .iter()
            .map(|w| w.id)
            .collect();
        let gone: Vec<WatchId> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .filter(|id| !stored.contains(id))
            .copied()
            .collect();
        for id in gone {
            self.stop(id);
        }
    }

    /// Stops every watch (committing what has settled), then the committer.
    pub(crate) fn shutdown(&self) {
        let ids: Vec<WatchId> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        for id in &ids {
            if let Some(s) = self.status(*id) {
                s.stop.store(true, Ordering::Release);
            }
        }
        for id in ids {
            self.stop(id);
        }
        self.shared.hasher.stop();
        if let Some(t) = self
            .hasher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = t.join();
        }
        // The committer commits what it holds and ends once its channel is closed.
        self.shared
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(t) = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = t.join();
        }
    }
}

/// The folder must exist and be a directory.
fn check_folder(path: &str) -> Result<(), FolderError> {
    match std::fs::metadata(Path::new(path)) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(FolderError::NotAFolder {
            path: path.to_owned(),
        }),
        Err(source) => Err(FolderError::Unreadable {
            path: path.to_owned(),
            source,
        }),
    }
}

fn config_request(w: &WatchConfig) -> Result<NewWatch, String> {
    let path = w
        .path
        .to_str()
        .ok_or("the folder's name is not UTF-8")?
        .trim_end_matches('/')
        .to_owned();
    Ok(NewWatch {
        path,
        collection: sheaf_core::CollectionId::parse(&w.collection).map_err(|e| e.to_string())?,
        create: true,
        recursive: w.recursive,
        include: w.include.clone(),
        exclude: w.exclude.clone(),
        poll_ms: w
            .poll
            .as_deref()
            .map(sheaf_core::parse_interval)
            .transpose()
            .map_err(|e| e.to_string())?,
        from_config: true,
    })
}
