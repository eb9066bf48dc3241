//! The live watcher: notify (inotify on Linux) feeding a bounded channel.
//!
//! The notify callback stays tiny (STYLE: "Watcher callbacks stay tiny"): it converts the event
//! with the pure [`convert`] and `try_send`s the result into a bounded channel. A full channel is
//! handled on purpose: the batch is dropped and the watcher's overflow flag is set, which means
//! "rescan the root" (SPEC §3, "Never lose a change"). The consumer feeds the received
//! [`RawEvent`]s into a [`crate::Coalescer`] and, after every receive or receive timeout,
//! checks [`LiveWatcher::take_overflow`] and pushes a [`RawEvent::Rescan`] of the root when set.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::RawEvent;

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

/// A running recursive watch of one root. Dropping it stops the watch (and closes the channel).
#[derive(Debug)]
pub struct LiveWatcher {
    root: PathBuf,
    overflowed: Arc<AtomicBool>,
    _watcher: RecommendedWatcher,
}

impl LiveWatcher {
    /// Start watching `root` recursively; events arrive on the returned receiver, which holds
    /// at most `capacity` undelivered messages (a full channel sets the overflow flag).
    pub fn start(root: &Path, capacity: usize) -> Result<(Self, Receiver<Incoming>), WatchError> {
        let (tx, rx) = sync_channel(capacity);
        let overflowed = Arc::new(AtomicBool::new(false));
        let handler = Handler {
            root: root.to_path_buf(),
            tx,
            overflowed: Arc::clone(&overflowed),
        };
        let mut watcher = notify::recommended_watcher(move |res| handler.handle(res))
            .map_err(|e| WatchError::from_notify(&e, root))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| WatchError::from_notify(&e, root))?;
        let live = Self {
            root: root.to_path_buf(),
            overflowed,
            _watcher: watcher,
        };
        Ok((live, rx))
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
}

/// The state the notify callback owns.
struct Handler {
    root: PathBuf,
    tx: SyncSender<Incoming>,
    overflowed: Arc<AtomicBool>,
}

impl Handler {
    fn handle(&self, res: notify::Result<Event>) {
        let message = match res {
            Ok(event) => {
                let events = convert(&event, &self.root);
                if events.is_empty() {
                    return;
                }
                Incoming::Events(events)
            }
            Err(error) => Incoming::Error(WatchError::from_notify(&error, &self.root)),
        };
        match self.tx.try_send(message) {
            // A disconnected receiver means the consumer is gone; nothing to do.
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => self.overflowed.store(true, Ordering::Release),
        }
    }
}

/// Convert one notify event into raw events for the coalescer (pure).
///
/// - A rescan flag, or an event kind that says nothing precise (`Any`, a rename of unknown
///   direction), becomes [`RawEvent::Rescan`] of its paths (of `root` when it names none).
/// - A created folder is a rescan of it: files written into it before its watch was added are
///   never reported.
/// - notify's inotify backend reports a rename as `From` and `To` events sharing the kernel
///   cookie (`attrs.tracker()`), then a `Both` event with that same cookie; the `Both` is
///   redundant and dropped. A `Both` without a cookie (other backends) becomes a pair under a
///   cookie made from its paths, outside the kernel's 32-bit range. A `From`/`To` without a
///   cookie cannot be paired and is a removal/creation.
/// - Access events are ignored, except close-after-write, which marks the file complete.
fn convert(event: &Event, root: &Path) -> Vec<(PathBuf, RawEvent)> {
    let all = |raw: RawEvent| event.paths.iter().map(|p| (p.clone(), raw)).collect();
    let rescan = || -> Vec<(PathBuf, RawEvent)> {
        if event.paths.is_empty() {
            vec![(root.to_path_buf(), RawEvent::Rescan)]
        } else {
            all(RawEvent::Rescan)
        }
    };
    if event.need_rescan() {
        return rescan();
    }
    let cookie = event.attrs.tracker().map(|t| t as u64);
    match event.kind {
        EventKind::Create(CreateKind::Folder) | EventKind::Any => rescan(),
        EventKind::Create(_) => all(RawEvent::Created),
        EventKind::Remove(_) => all(RawEvent::Removed),
        EventKind::Modify(ModifyKind::Name(mode)) => match (mode, cookie) {
            (RenameMode::From, Some(c)) => all(RawEvent::RenamedFrom(c)),
            (RenameMode::From, None) => all(RawEvent::Removed),
            (RenameMode::To, Some(c)) => all(RawEvent::RenamedTo(c)),
            (RenameMode::To, None) => all(RawEvent::Created),
            (RenameMode::Both, Some(_)) => Vec::new(),
            (RenameMode::Both, None) => match event.paths.as_slice() {
                [from, to] => {
                    let c = synthetic_cookie(from, to);
                    vec![
                        (from.clone(), RawEvent::RenamedFrom(c)),
                        (to.clone(), RawEvent::RenamedTo(c)),
                    ]
                }
                _ => rescan(),
            },
            (RenameMode::Any | RenameMode::Other, _) => rescan(),
        },
        EventKind::Modify(_) | EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            all(RawEvent::Modified)
        }
        EventKind::Access(_) | EventKind::Other => Vec::new(),
    }
}

/// A rename cookie for a `Both` event that carries none: a hash of its paths with the top bit
/// set, so it never meets a kernel cookie (32 bits).
fn synthetic_cookie(from: &Path, to: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    (from, to).hash(&mut hasher);
    hasher.finish() | 1 << 63
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, Flag, MetadataKind, RemoveKind};

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn ev(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |e, path| e.add_path(p(path)))
    }

    fn run(event: &Event) -> Vec<(PathBuf, RawEvent)> {
        convert(event, Path::new("/w"))
    }

    #[test]
    fn create_of_a_file_is_created() {
        let e = ev(EventKind::Create(CreateKind::File), &["/w/a"]);
        assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Created)]);
        let e = ev(EventKind::Create(CreateKind::Any), &["/w/a"]);
        assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Created)]);
    }

    #[test]
    fn create_of_a_folder_is_a_rescan_of_it() {
        let e = ev(EventKind::Create(CreateKind::Folder), &["/w/d"]);
        assert_eq!(run(&e), vec![(p("/w/d"), RawEvent::Rescan)]);
    }

    #[test]
    fn data_metadata_and_any_modifications_are_modified() {
        for kind in [
            ModifyKind::Data(DataChange::Content),
            ModifyKind::Data(DataChange::Any),
            ModifyKind::Metadata(MetadataKind::WriteTime),
            ModifyKind::Any,
            ModifyKind::Other,
        ] {
            let e = ev(EventKind::Modify(kind), &["/w/a"]);
            assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Modified)], "{kind:?}");
        }
    }

    #[test]
    fn close_after_write_is_modified_and_other_access_is_ignored() {
        let e = ev(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["/w/a"],
        );
        assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Modified)]);
        for kind in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Close(AccessMode::Read),
            AccessKind::Read,
        ] {
            assert!(run(&ev(EventKind::Access(kind), &["/w/a"])).is_empty());
        }
    }

    #[test]
    fn remove_is_removed() {
        let e = ev(EventKind::Remove(RemoveKind::File), &["/w/a"]);
        assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Removed)]);
    }

    #[test]
    fn rename_from_and_to_carry_the_tracker_cookie() {
        let from = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            &["/w/a"],
        )
        .set_tracker(42);
        let to = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/w/b"],
        )
        .set_tracker(42);
        assert_eq!(run(&from), vec![(p("/w/a"), RawEvent::RenamedFrom(42))]);
        assert_eq!(run(&to), vec![(p("/w/b"), RawEvent::RenamedTo(42))]);
    }

    #[test]
    fn rename_both_with_a_tracker_is_dropped_as_already_reported() {
        let e = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/w/a", "/w/b"],
        )
        .set_tracker(42);
        assert!(run(&e).is_empty());
    }

    #[test]
    fn rename_both_without_a_tracker_is_a_pair_under_a_synthetic_cookie() {
        let e = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/w/a", "/w/b"],
        );
        let out = run(&e);
        let c = synthetic_cookie(Path::new("/w/a"), Path::new("/w/b"));
        assert!(c > u64::from(u32::MAX));
        assert_eq!(
            out,
            vec![
                (p("/w/a"), RawEvent::RenamedFrom(c)),
                (p("/w/b"), RawEvent::RenamedTo(c)),
            ]
        );
    }

    #[test]
    fn rename_halves_without_a_tracker_are_removed_and_created() {
        let from = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            &["/w/a"],
        );
        let to = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/w/b"],
        );
        assert_eq!(run(&from), vec![(p("/w/a"), RawEvent::Removed)]);
        assert_eq!(run(&to), vec![(p("/w/b"), RawEvent::Created)]);
    }

    #[test]
    fn rename_of_unknown_direction_is_a_rescan_of_the_path() {
        let e = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Any)),
            &["/w/a"],
        );
        assert_eq!(run(&e), vec![(p("/w/a"), RawEvent::Rescan)]);
    }

    #[test]
    fn queue_overflow_without_paths_is_a_rescan_of_the_root() {
        let e = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(run(&e), vec![(p("/w"), RawEvent::Rescan)]);
    }

    #[test]
    fn rescan_flag_on_any_kind_is_a_rescan_of_its_paths() {
        let e = ev(EventKind::Modify(ModifyKind::Any), &["/w/d"]).set_flag(Flag::Rescan);
        assert_eq!(run(&e), vec![(p("/w/d"), RawEvent::Rescan)]);
    }

    #[test]
    fn other_without_rescan_flag_is_ignored() {
        assert!(run(&Event::new(EventKind::Other)).is_empty());
    }

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
}
