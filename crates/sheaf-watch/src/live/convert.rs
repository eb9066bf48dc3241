//! The pure conversion of notify's events into the coalescer's raw events.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind};

use crate::RawEvent;

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
pub(super) fn convert(event: &Event, root: &Path) -> Vec<(PathBuf, RawEvent)> {
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
pub(super) mod tests {
    use super::*;
    use notify::event::{DataChange, Flag, MetadataKind, RemoveKind};

    pub(in crate::live) fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    pub(in crate::live) fn ev(kind: EventKind, paths: &[&str]) -> Event {
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
}
