//! The live watcher: notify (inotify on Linux) feeding a bounded channel.
//!
//! The notify callback stays tiny (STYLE: "Watcher callbacks stay tiny"): it converts the event
//! with the pure [`convert`] and `try_send`s the result into a bounded channel. A full channel is
//! handled on purpose: the batch is dropped and the watcher's overflow flag is set, which means
//! "rescan the root" (SPEC §3, "Never lose a change"). The consumer feeds the received
//! [`RawEvent`]s into a [`crate::Coalescer`] and, after every receive or receive timeout,
//! checks [`LiveWatcher::take_overflow`] and pushes a [`RawEvent::Rescan`] of the root when set.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};

use crate::RawEvent;

mod convert;

use convert::convert;

/// What the live watcher sends to its consumer.
#[derive(Debug)]
pub enum Incoming {
    /// The raw events converted from one notify event, in order.
    Events(Vec<(PathBuf, RawEvent)>),
    /// The watcher reported an error while running (for example the watch limit was reached
    /// while adding watches for a new folder). Events may have been missed: rescan.
    Error(WatchError),
}

/// A live watch that could not be set up or kept.
#[derive(Debug)]
pub enum WatchError {
    /// The kernel's inotify watch limit is reached: the folder cannot be (fully) watched.
    WatchLimit {
        /// The folder that could not be watched.
        path: PathBuf,
    },
    /// Any other watcher error.
    Watcher {
        /// The path it concerns (the watch root when notify names none).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WatchLimit { path } => write!(
                f,
                "cannot watch {}: the inotify watch limit (fs.inotify.max_user_watches) is \
                 reached; raise it with `sudo sysctl fs.inotify.max_user_watches=<larger>` \
                 (and persist it in /etc/sysctl.d/)",
                path.display()
            ),
            Self::Watcher { path, message } => {
                write!(f, "cannot watch {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for WatchError {}

impl WatchError {
    /// Map a notify error; `root` stands in when the error names no path.
    fn from_notify(error: &notify::Error, root: &Path) -> Self {
        let path = error
            .paths
            .first()
            .cloned()
            .unwrap_or_else(|| root.to_path_buf());
        match &error.kind {
            notify::ErrorKind::MaxFilesWatch => Self::WatchLimit { path },
            // ENOSPC from `inotify_add_watch(2)` means the watch limit, not a full disk.
            notify::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
                Self::WatchLimit { path }
            }
            notify::ErrorKind::Io(io) => Self::Watcher {
                path,
                message: io.to_string(),
            },
            notify::ErrorKind::Generic(message) => Self::Watcher {
                path,
                message: message.clone(),
            },
            _ => Self::Watcher {
                path,
                message: error.to_string(),
            },
        }
    }
}

/// One notify watcher — one inotify instance — shared by every live watch of a process.
///
/// Sharing it is what lets a rename between two watched folders arrive as one pair: the
/// kernel only pairs `MOVED_FROM` with `MOVED_TO` (by cookie) within one instance. The
/// callback routes every event to the watches whose root covers its path, and sends both
/// halves of a rename to every watch that covers either end, so each of them settles the
/// same move (applying it twice is a no-op) and none takes the departure for a deletion.
///
/// Kernel watches are added once per covering root: a root inside another root shares the
/// outer root's watches. Cloning a hub gives another handle on the same instance.
#[derive(Clone, Default)]
pub struct LiveHub {
    shared: Arc<Hub>,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Hub {
    /// Where events go; read by the notify callback, written when watches come and go.
    routes: Arc<RwLock<Vec<Route>>>,
    /// Set by the callback when the kernel's queue overflowed: events were lost, and with
    /// them the creation of folders that therefore have no kernel watch.
    kernel_overflow: Arc<AtomicBool>,
    kernel: Mutex<Kernel>,
    next_id: AtomicU64,
}

/// The notify watcher and the roots it was asked to watch (none inside another).
#[derive(Default)]
struct Kernel {
    watcher: Option<RecommendedWatcher>,
    watched: Vec<PathBuf>,
}

struct Route {
    id: u64,
    root: PathBuf,
    tx: SyncSender<Incoming>,
    overflowed: Arc<AtomicBool>,
}

impl LiveHub {
    /// Start watching `root` recursively; its events arrive on the returned receiver, which
    /// holds at most `capacity` undelivered messages (a full channel sets the overflow flag).
    pub fn watch(
        &self,
        root: &Path,
        capacity: usize,
    ) -> Result<(LiveWatcher, Receiver<Incoming>), WatchError> {
        let hub = &self.shared;
        let (tx, rx) = sync_channel(capacity);
        let overflowed = Arc::new(AtomicBool::new(false));
        let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
        write(&hub.routes).push(Route {
            id,
            root: root.to_path_buf(),
            tx,
            overflowed: Arc::clone(&overflowed),
        });
        // From here on, a failure must take the route out again: the watcher's drop does.
        let live = LiveWatcher {
            hub: Arc::clone(hub),
            id,
            root: root.to_path_buf(),
            overflowed,
        };
        let mut kernel = lock(&hub.kernel);
        if !kernel.watched.iter().any(|w| root.starts_with(w)) {
            let watcher = match kernel.watcher.as_mut() {
                Some(w) => w,
                None => kernel.watcher.insert(hub.new_watcher(root)?),
            };
            watcher
                .watch(root, RecursiveMode::Recursive)
                .map_err(|e| WatchError::from_notify(&e, root))?;
            // Roots inside this one keep the kernel watches notify already holds for them.
            kernel.watched.retain(|w| !w.starts_with(root));
            kernel.watched.push(root.to_path_buf());
        }
        drop(kernel);
        Ok((live, rx))
    }
}

impl Hub {
    fn new_watcher(&self, root: &Path) -> Result<RecommendedWatcher, WatchError> {
        let mut dispatch = Dispatch {
            routes: Arc::clone(&self.routes),
            kernel_overflow: Arc::clone(&self.kernel_overflow),
            last_from: None,
        };
        notify::recommended_watcher(move |res| dispatch.handle(res))
            .map_err(|e| WatchError::from_notify(&e, root))
    }

    /// Takes a route out and stops watching what no remaining root needs.
    fn unwatch(&self, id: u64) {
        let root = {
            let mut routes = write(&self.routes);
            let Some(at) = routes.iter().position(|r| r.id == id) else {
                return;
            };
            routes.remove(at).root
        };
        let remaining: Vec<(PathBuf, SyncSender<Incoming>)> = read(&self.routes)
            .iter()
            .map(|r| (r.root.clone(), r.tx.clone()))
            .collect();
        let mut kernel = lock(&self.kernel);
        let Kernel { watcher, watched } = &mut *kernel;
        if !watched.contains(&root) || remaining.iter().any(|(r, _)| *r == root) {
            return;
        }
        watched.retain(|w| *w != root);
        let Some(watcher) = watcher.as_mut() else {
            return;
        };
        // A missing folder has no watches left to remove.
        let _ = watcher.unwatch(&root);
        // Roots inside the one that went lost their kernel watches with it: watch them
        // again, and have them rescan what may have happened in between.
        let mut inner: Vec<&(PathBuf, SyncSender<Incoming>)> = remaining
            .iter()
            .filter(|(r, _)| r.starts_with(&root))
            .collect();
        inner.sort_by(|a, b| a.0.cmp(&b.0));
        for (r, tx) in inner {
            if !watched.iter().any(|w| r.starts_with(w)) {
                match watcher.watch(r, RecursiveMode::Recursive) {
                    Ok(()) => watched.push(r.clone()),
                    Err(e) => {
                        let _ = tx.try_send(Incoming::Error(WatchError::from_notify(&e, r)));
                    }
                }
            }
            let _ = tx.try_send(Incoming::Events(vec![(r.clone(), RawEvent::Rescan)]));
        }
    }

    /// One round trip through the notify event loop (see [`LiveWatcher::sync`]).
    fn sync(&self, root: &Path) -> Result<(), WatchError> {
        let mut kernel = lock(&self.kernel);
        let Some(watcher) = kernel.watcher.as_mut() else {
            return Ok(());
        };
        watcher
            .configure(notify::Config::default())
            .map(drop)
            .map_err(|e| WatchError::from_notify(&e, root))
    }

    /// After a kernel queue overflow: a new inotify instance watching every root afresh.
    fn renew(&self) -> Result<(), WatchError> {
        let mut kernel = lock(&self.kernel);
        if !self.kernel_overflow.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let Kernel { watcher, watched } = &mut *kernel;
        let roots = std::mem::take(watched);
        *watcher = None;
        let Some(first) = roots.first() else {
            return Ok(());
        };
        let watcher = watcher.insert(self.new_watcher(first)?);
        let mut failed = None;
        for root in roots {
            match watcher.watch(&root, RecursiveMode::Recursive) {
                Ok(()) => watched.push(root),
                Err(e) => {
                    failed.get_or_insert(WatchError::from_notify(&e, &root));
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// A running recursive watch of one root, on a [`LiveHub`]. Dropping it stops the watch (and
/// closes its channel).
#[derive(Debug)]
pub struct LiveWatcher {
    hub: Arc<Hub>,
    id: u64,
    root: PathBuf,
    overflowed: Arc<AtomicBool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl LiveWatcher {
    /// Start watching `root` recursively on a hub of its own (see [`LiveHub::watch`]).
    pub fn start(root: &Path, capacity: usize) -> Result<(Self, Receiver<Incoming>), WatchError> {
        LiveHub::default().watch(root, capacity)
    }

    /// The watched root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether events were dropped on a full channel since the last call (and clear the flag).
    /// When true the consumer must rescan [`LiveWatcher::root`].
    #[must_use]
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
    }

    /// Waits until the watcher has finished with every kernel event it had read when this was
    /// called, new folders' kernel watches included.
    ///
    /// notify reports a folder's creation (a [`RawEvent::Rescan`] of it) before it adds the
    /// folder's kernel watch: it reads the whole kernel queue first and adds watches for the
    /// folders it saw created afterwards. A walk of a new folder must wait for that watch, or
    /// a file written into it between the walk and the watch is in neither. notify handles
    /// requests between two reads of the queue, so one round trip through its event loop (a
    /// `configure` that changes nothing) is that barrier: anything created after the watch
    /// arrives as an event, anything before it is found by the walk.
    pub fn sync(&self) -> Result<(), WatchError> {
        self.hub.sync(&self.root)
    }

    /// After the kernel's event queue overflowed (a [`RawEvent::Rescan`] of the root): folders
    /// created meanwhile have no kernel watch, so the hub's watches are set up afresh, once
    /// for all its watchers. The consumer rescans its root afterwards.
    pub fn renew(&self) -> Result<(), WatchError> {
        self.hub.renew()
    }
}

impl Drop for LiveWatcher {
    fn drop(&mut self) {
        self.hub.unwatch(self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// The state the notify callback owns: it routes each event to the watches covering it.
struct Dispatch {
    routes: Arc<RwLock<Vec<Route>>>,
    kernel_overflow: Arc<AtomicBool>,
    /// The last rename departure: its cookie, path and the watches it was sent to.
    last_from: Option<(u64, PathBuf, Vec<u64>)>,
}

impl Dispatch {
    fn handle(&mut self, res: notify::Result<Event>) {
        let routes = read(&self.routes);
        let send = |r: &Route, message: Incoming| match r.tx.try_send(message) {
            // A disconnected receiver means the consumer is gone; nothing to do.
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => r.overflowed.store(true, Ordering::Release),
        };
        let event = match res {
            Ok(event) => event,
            Err(error) => {
                let at = error.paths.first();
                for r in routes.iter() {
                    if at.is_none_or(|p| p.starts_with(&r.root)) {
                        send(r, Incoming::Error(WatchError::from_notify(&error, &r.root)));
                    }
                }
                return;
            }
        };
        if event.paths.is_empty() {
            // Not about one path: the kernel queue overflowed (or something as vague), and
            // every watch rescans its root.
            if event.need_rescan() {
                self.kernel_overflow.store(true, Ordering::Release);
            }
            for r in routes.iter() {
                let events = convert(&event, &r.root);
                if !events.is_empty() {
                    send(r, Incoming::Events(events));
                }
            }
            return;
        }
        let mut out: Vec<(u64, Vec<(PathBuf, RawEvent)>)> = Vec::new();
        let mut to = |id: u64, path: &Path, raw: RawEvent| {
            if let Some((_, events)) = out.iter_mut().find(|(i, _)| *i == id) {
                events.push((path.to_path_buf(), raw));
            } else {
                out.push((id, vec![(path.to_path_buf(), raw)]));
            }
        };
        let covering = |path: &Path| -> Vec<u64> {
            routes
                .iter()
                .filter(|r| path.starts_with(&r.root))
                .map(|r| r.id)
                .collect()
        };
        for (path, raw) in convert(&event, Path::new("/")) {
            let here = covering(&path);
            match raw {
                RawEvent::RenamedFrom(c) => {
                    for &id in &here {
                        to(id, &path, raw);
                    }
                    self.last_from = Some((c, path, here));
                }
                RawEvent::RenamedTo(c) => {
                    let from = self.last_from.take().filter(|(fc, ..)| *fc == c);
                    let (from_path, from_ids) = from.map(|(_, p, ids)| (p, ids)).unzip();
                    let from_ids = from_ids.unwrap_or_default();
                    // A watch that has not seen the departure gets it first, so that it
                    // settles a move, not a creation.
                    if let Some(from_path) = &from_path {
                        for &id in here.iter().filter(|id| !from_ids.contains(id)) {
                            to(id, from_path, RawEvent::RenamedFrom(c));
                        }
                    }
                    for &id in here
                        .iter()
                        .chain(from_ids.iter().filter(|id| !here.contains(id)))
                    {
                        to(id, &path, raw);
                    }
                }
                _ => {
                    for id in here {
                        to(id, &path, raw);
                    }
                }
            }
        }
        for (id, events) in out {
            if let Some(r) = routes.iter().find(|r| r.id == id) {
                send(r, Incoming::Events(events));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::convert::tests::{ev, p};
    use super::*;
    use notify::EventKind;
    use notify::event::{CreateKind, Flag, ModifyKind, RenameMode};

    #[test]
    fn watch_limit_errors_name_the_sysctl_to_raise() {
        let limit = notify::Error::new(notify::ErrorKind::MaxFilesWatch).add_path(p("/w/deep"));
        let err = WatchError::from_notify(&limit, Path::new("/w"));
        assert!(matches!(&err, WatchError::WatchLimit { path } if path == Path::new("/w/deep")));
        let text = err.to_string();
        assert!(text.contains("/w/deep"), "{text}");
        assert!(
            text.contains("sysctl fs.inotify.max_user_watches=<larger>"),
            "{text}"
        );

        let enospc = notify::Error::io(std::io::ErrorKind::StorageFull.into());
        let err = WatchError::from_notify(&enospc, Path::new("/w"));
        assert!(matches!(&err, WatchError::WatchLimit { path } if path == Path::new("/w")));
    }

    #[test]
    fn other_watcher_errors_carry_the_path() {
        let e = notify::Error::path_not_found().add_path(p("/w/gone"));
        let err = WatchError::from_notify(&e, Path::new("/w"));
        assert!(matches!(&err, WatchError::Watcher { path, .. } if path == Path::new("/w/gone")));
        assert!(err.to_string().starts_with("cannot watch /w/gone: "));
    }

    /// A dispatcher over routes for `roots`, and the receiving ends in the same order.
    fn dispatcher(roots: &[&str]) -> (Dispatch, Vec<Receiver<Incoming>>) {
        let mut routes = Vec::new();
        let mut rxs = Vec::new();
        for (id, root) in roots.iter().enumerate() {
            let (tx, rx) = sync_channel(16);
            routes.push(Route {
                id: id as u64,
                root: p(root),
                tx,
                overflowed: Arc::new(AtomicBool::new(false)),
            });
            rxs.push(rx);
        }
        let d = Dispatch {
            routes: Arc::new(RwLock::new(routes)),
            kernel_overflow: Arc::new(AtomicBool::new(false)),
            last_from: None,
        };
        (d, rxs)
    }

    fn received(rx: &Receiver<Incoming>) -> Vec<(PathBuf, RawEvent)> {
        let mut out = Vec::new();
        while let Ok(m) = rx.try_recv() {
            match m {
                Incoming::Events(events) => out.extend(events),
                Incoming::Error(e) => panic!("unexpected error {e}"),
            }
        }
        out
    }

    fn rename(mode: RenameMode, path: &str, cookie: usize) -> Event {
        ev(EventKind::Modify(ModifyKind::Name(mode)), &[path]).set_tracker(cookie)
    }

    #[test]
    fn a_rename_between_two_roots_reaches_both_as_a_pair() {
        let (mut d, rx) = dispatcher(&["/a", "/b", "/c"]);
        d.handle(Ok(rename(RenameMode::From, "/a/x", 7)));
        d.handle(Ok(rename(RenameMode::To, "/b/y", 7)));
        let both = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/a/x", "/b/y"],
        )
        .set_tracker(7);
        d.handle(Ok(both));
        let pair = vec![
            (p("/a/x"), RawEvent::RenamedFrom(7)),
            (p("/b/y"), RawEvent::RenamedTo(7)),
        ];
        assert_eq!(received(&rx[0]), pair, "the source sees where it went");
        assert_eq!(received(&rx[1]), pair, "the target sees where it came from");
        assert_eq!(received(&rx[2]), vec![], "an unrelated root sees nothing");
    }

    #[test]
    fn a_rename_inside_one_root_reaches_it_once() {
        let (mut d, rx) = dispatcher(&["/a", "/b"]);
        d.handle(Ok(rename(RenameMode::From, "/a/x", 3)));
        d.handle(Ok(rename(RenameMode::To, "/a/y", 3)));
        assert_eq!(
            received(&rx[0]),
            vec![
                (p("/a/x"), RawEvent::RenamedFrom(3)),
                (p("/a/y"), RawEvent::RenamedTo(3)),
            ]
        );
        assert_eq!(received(&rx[1]), vec![]);
    }

    #[test]
    fn a_rename_out_of_every_root_is_a_lone_departure() {
        let (mut d, rx) = dispatcher(&["/a"]);
        d.handle(Ok(rename(RenameMode::From, "/a/x", 4)));
        assert_eq!(
            received(&rx[0]),
            vec![(p("/a/x"), RawEvent::RenamedFrom(4))]
        );
        // An arrival with another cookie is not paired with it.
        d.handle(Ok(rename(RenameMode::To, "/a/z", 5)));
        assert_eq!(received(&rx[0]), vec![(p("/a/z"), RawEvent::RenamedTo(5))]);
    }

    #[test]
    fn events_under_nested_roots_reach_every_covering_root() {
        let (mut d, rx) = dispatcher(&["/a", "/a/in", "/ab"]);
        d.handle(Ok(ev(EventKind::Create(CreateKind::File), &["/a/in/f"])));
        let created = vec![(p("/a/in/f"), RawEvent::Created)];
        assert_eq!(received(&rx[0]), created);
        assert_eq!(received(&rx[1]), created);
        assert_eq!(received(&rx[2]), vec![], "/ab is not under /a");
    }

    #[test]
    fn a_kernel_queue_overflow_rescans_every_root_and_asks_for_renewal() {
        let (mut d, rx) = dispatcher(&["/a", "/b"]);
        d.handle(Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)));
        assert_eq!(received(&rx[0]), vec![(p("/a"), RawEvent::Rescan)]);
        assert_eq!(received(&rx[1]), vec![(p("/b"), RawEvent::Rescan)]);
        assert!(d.kernel_overflow.load(Ordering::Acquire));
    }

    #[test]
    fn a_full_channel_sets_only_its_own_overflow_flag() {
        let (mut d, rx) = dispatcher(&["/a", "/b"]);
        for n in 0..17 {
            d.handle(Ok(ev(
                EventKind::Create(CreateKind::File),
                &[&format!("/a/{n}")],
            )));
        }
        let routes = read(&d.routes);
        assert!(routes[0].overflowed.load(Ordering::Acquire));
        assert!(!routes[1].overflowed.load(Ordering::Acquire));
        drop(routes);
        assert_eq!(received(&rx[0]).len(), 16);
    }
}
