//! Per-path settling of live filesystem events.
//!
//! The [`Coalescer`] keeps, for every path that saw events, what the path held before its
//! first event (inferred from that event) and what it holds now, and where the content now
//! at the path came from. Once a path (and every path linked to it by a rename) has been
//! quiet for the settle time, [`Coalescer::drain_settled`] turns that into one net outcome:
//!
//! | events inside the window | outcome |
//! |---|---|
//! | created (then modified) | [`Settled::Created`] |
//! | created … removed (or renamed away) | [`Settled::Removed`] (a no-op unless a walk registered the file meanwhile) |
//! | modified (any number) | [`Settled::Modified`] |
//! | modified … removed | [`Settled::Removed`] |
//! | removed … created | [`Settled::Replaced`] (a different file at a known path) |
//! | renamed-from A + renamed-to B, same cookie, A existed before | [`Settled::Moved`] `{A → B}` |
//! | renamed-from A + renamed-to B, same cookie, A created in the window | [`Settled::Created`] B |
//! | lone renamed-from A, quiet for the settle time | [`Settled::Removed`] A |
//! | lone renamed-to B (its from was never seen or already settled) | [`Settled::Created`] B |
//! | rescan of P | [`Settled::Rescan`] P at the next drain, pending events under P dropped |
//!
//! "Existed before" is inferred: a path whose first event is created or renamed-to is taken
//! to have been empty. So [`Settled::Created`] means "a file is here that was not seen here
//! in this window"; consumers upsert (an editor's atomic save — write a temp file, rename it
//! over the target — settles as `Created(target)`, and the target's item must be kept).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A raw event for one path, converted from the platform watcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawEvent {
    /// A file appeared.
    Created,
    /// A file's content or metadata changed.
    Modified,
    /// A file went away.
    Removed,
    /// A file was renamed away from this path; the cookie pairs it with its [`RawEvent::RenamedTo`].
    RenamedFrom(u64),
    /// A file was renamed to this path.
    RenamedTo(u64),
    /// The watcher lost track (queue overflow, watch limit…): everything under the path must
    /// be reconciled by a walk.
    Rescan,
}

/// A net outcome for a path (or a pair, for moves) after it settled.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Settled {
    /// A file is at the path that was not seen there before the window (upsert it).
    Created(PathBuf),
    /// The file that was at the path is still there, possibly changed (re-stat it).
    Modified(PathBuf),
    /// The file that was at the path is gone and a different one is there now.
    Replaced(PathBuf),
    /// The file that was at the path is gone.
    Removed(PathBuf),
    /// The file that was at `from` is now at `to` (possibly changed; re-stat it). Whatever
    /// was at `to` before is gone, as with `rename(2)`. The outcomes of one drain are one
    /// net change and are to be applied together (moves may form chains or cycles).
    Moved {
        /// Where the file was before the window.
        from: PathBuf,
        /// Where it is now.
        to: PathBuf,
    },
    /// Walk everything under this path and diff it against the store.
    Rescan(PathBuf),
}

#[derive(Clone, Debug)]
struct Record {
    /// Whether the path held a file before its first event (inferred).
    existed_before: bool,
    /// Whether it holds one now.
    exists_now: bool,
    /// Where the content now at the path was before the window: itself, another path (a
    /// move), or `None` for content that appeared inside the window.
    origin: Option<PathBuf>,
    /// The last event.
    last: Instant,
}

/// Coalesces raw events per path until they settle. Pure: no threads, no clock.
#[derive(Debug)]
pub struct Coalescer {
    settle: Duration,
    records: BTreeMap<PathBuf, Record>,
    /// Unpaired renamed-from events: cookie → (from path, the origin it carried away).
    renames: HashMap<u64, (PathBuf, Option<PathBuf>)>,
    rescans: BTreeSet<PathBuf>,
}

impl Coalescer {
    /// A coalescer that holds a path until it has been quiet for `settle`.
    #[must_use]
    pub fn new(settle: Duration) -> Self {
        Self {
            settle,
            records: BTreeMap::new(),
            renames: HashMap::new(),
            rescans: BTreeSet::new(),
        }
    }

    /// Paths (and rescans) pending.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len() + self.rescans.len()
    }

    /// Whether nothing is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.rescans.is_empty()
    }

    /// When the next path may settle, for the caller's timer (`None`: no path pending).
    /// Pending rescans are due at once: see [`Coalescer::rescan_pending`].
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.records.values().map(|r| r.last + self.settle).min()
    }

    /// Whether a rescan is waiting to be drained.
    #[must_use]
    pub fn rescan_pending(&self) -> bool {
        !self.rescans.is_empty()
    }

    /// Whether a drain at `now` would settle a rename's departure whose arrival has not been
    /// seen: a move out of the watched folders, or one whose other half is still on its way.
    /// A caller that can should first take everything its watcher has delivered.
    #[must_use]
    pub fn lone_departure_due(&self, now: Instant) -> bool {
        self.renames.values().any(|(from, _)| {
            self.records
                .get(from)
                .is_some_and(|r| now.saturating_duration_since(r.last) >= self.settle)
        })
    }

    /// The paths renamed away whose arrival has not been seen (pending, not settled).
    #[must_use]
    pub fn pending_departures(&self) -> Vec<PathBuf> {
        self.renames
            .values()
            .map(|(from, _)| from.clone())
            .collect()
    }

    /// Record an event for `path` seen at `now`.
    pub fn push(&mut self, path: PathBuf, event: RawEvent, now: Instant) {
        if event == RawEvent::Rescan {
            self.rescan(path);
            return;
        }
        let existed = !matches!(event, RawEvent::Created | RawEvent::RenamedTo(_));
        let record = self.records.entry(path.clone()).or_insert_with(|| Record {
            existed_before: existed,
            exists_now: existed,
            origin: existed.then(|| path.clone()),
            last: now,
        });
        record.last = now;
        match event {
            RawEvent::Created => {
                record.exists_now = true;
                record.origin = None;
            }
            RawEvent::Modified => {
                if !record.exists_now {
                    // A change to a path we believed empty: a new file we missed the creation of.
                    record.exists_now = true;
                    record.origin = None;
                }
            }
            RawEvent::Removed => {
                record.exists_now = false;
                record.origin = None;
            }
            RawEvent::RenamedFrom(cookie) => {
                record.exists_now = false;
                let carried = record.origin.take();
                self.renames.insert(cookie, (path, carried));
            }
            RawEvent::RenamedTo(cookie) => {
                record.exists_now = true;
                record.origin = None;
                // The pair settles together: drain groups a target with its origin.
                if let Some((_, carried)) = self.renames.remove(&cookie) {
                    record.origin = carried;
                }
            }
            RawEvent::Rescan => unreachable!("handled above"),
        }
    }

    fn rescan(&mut self, root: PathBuf) {
        self.records.retain(|path, _| !path.starts_with(&root));
        self.renames.retain(|_, (from, _)| !from.starts_with(&root));
        for record in self.records.values_mut() {
            if record
                .origin
                .as_deref()
                .is_some_and(|o| o.starts_with(&root))
            {
                record.origin = None;
            }
        }
        if !self.rescans.iter().any(|r| root.starts_with(r)) {
            self.rescans.retain(|r| !r.starts_with(&root));
            self.rescans.insert(root);
        }
    }

    /// Take the net outcomes of every path that has been quiet for the settle time at `now`
    /// (rescans first, then by path). Paths linked by a rename settle together.
    pub fn drain_settled(&mut self, now: Instant) -> Vec<Settled> {
        let mut out: Vec<Settled> = std::mem::take(&mut self.rescans)
            .into_iter()
            .map(Settled::Rescan)
            .collect();

        // Group paths linked by moves (path ↔ origin), then settle whole groups.
        let paths: Vec<PathBuf> = self.records.keys().cloned().collect();
        let index: HashMap<&Path, usize> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_path(), i))
            .collect();
        let mut group: Vec<usize> = (0..paths.len()).collect();
        for (i, path) in paths.iter().enumerate() {
            if let Some(&j) = self.records[path]
                .origin
                .as_deref()
                .and_then(|o| index.get(o))
            {
                let (a, b) = (find(&mut group, i), find(&mut group, j));
                group[a] = b;
            }
        }
        let mut quiet_group: HashMap<usize, bool> = HashMap::new();
        for (i, path) in paths.iter().enumerate() {
            let quiet = now.saturating_duration_since(self.records[path].last) >= self.settle;
            let g = find(&mut group, i);
            *quiet_group.entry(g).or_insert(true) &= quiet;
        }
        let carried: BTreeSet<&Path> = self
            .records
            .iter()
            .filter_map(|(p, r)| r.origin.as_deref().filter(|o| *o != p.as_path()))
            .collect();

        let mut done = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let g = find(&mut group, i);
            if !quiet_group[&g] {
                continue;
            }
            let record = &self.records[path];
            let old_content_gone = record.existed_before && !carried.contains(path.as_path());
            let outcome = match (&record.origin, record.exists_now) {
                (Some(origin), true) if origin == path => Some(Settled::Modified(path.clone())),
                (Some(origin), true) => Some(Settled::Moved {
                    from: origin.clone(),
                    to: path.clone(),
                }),
                (None, true) if old_content_gone => Some(Settled::Replaced(path.clone())),
                (None, true) => Some(Settled::Created(path.clone())),
                (_, false) if old_content_gone => Some(Settled::Removed(path.clone())),
                // Created inside the window and gone again: nothing was there before as far
                // as events tell, but a walk running meanwhile (a rescan) may have registered
                // the file, so its absence is reported; for a consumer that never saw it,
                // removing an unknown path changes nothing.
                (_, false) if !record.existed_before && !carried.contains(path.as_path()) => {
                    Some(Settled::Removed(path.clone()))
                }
                (_, false) => None,
            };
            out.extend(outcome);
            done.push(path.clone());
        }
        for path in &done {
            self.records.remove(path);
        }
        let done: BTreeSet<&PathBuf> = done.iter().collect();
        self.renames.retain(|_, (from, _)| !done.contains(from));
        out
    }
}

fn find(group: &mut [usize], mut i: usize) -> usize {
    while group[i] != i {
        group[i] = group[group[i]];
        i = group[i];
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLE: Duration = Duration::from_millis(20);

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    /// Push `events` at t0 + their millisecond offsets, then drain at `drain_ms`.
    fn run(events: &[(&str, RawEvent, u64)], drain_ms: u64) -> (Coalescer, Vec<Settled>, Instant) {
        let t0 = Instant::now();
        let mut c = Coalescer::new(SETTLE);
        for (path, event, ms) in events {
            c.push(p(path), *event, t0 + Duration::from_millis(*ms));
        }
        let out = c.drain_settled(t0 + Duration::from_millis(drain_ms));
        (c, out, t0)
    }

    #[test]
    fn a_lone_departure_is_due_once_quiet_and_not_once_its_arrival_is_seen() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut c = Coalescer::new(SETTLE);
        c.push(p("/a"), RawEvent::RenamedFrom(7), at(0));
        assert!(!c.lone_departure_due(at(10)));
        assert!(c.lone_departure_due(at(20)));
        c.push(p("/b"), RawEvent::RenamedTo(7), at(30));
        assert!(!c.lone_departure_due(at(60)));
        assert_eq!(
            c.drain_settled(at(60)),
            vec![Settled::Moved {
                from: p("/a"),
                to: p("/b")
            }]
        );
    }

    #[test]
    fn nothing_settles_before_the_path_is_quiet_for_the_settle_time() {
        let (mut c, out, t0) = run(
            &[
                ("/a", RawEvent::Modified, 0),
                ("/a", RawEvent::Modified, 15),
            ],
            30,
        );
        assert!(out.is_empty());
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_millis(35)));
        assert_eq!(
            c.drain_settled(t0 + Duration::from_millis(35)),
            vec![Settled::Modified(p("/a"))]
        );
        assert!(c.is_empty());
    }

    #[test]
    fn created_then_modified_settles_as_created() {
        let (_, out, _) = run(
            &[("/a", RawEvent::Created, 0), ("/a", RawEvent::Modified, 5)],
            50,
        );
        assert_eq!(out, vec![Settled::Created(p("/a"))]);
    }

    #[test]
    fn created_modified_removed_within_the_window_settles_as_removed() {
        let (c, out, _) = run(
            &[
                ("/a", RawEvent::Created, 0),
                ("/a", RawEvent::Modified, 1),
                ("/a", RawEvent::Removed, 2),
            ],
            50,
        );
        // Removed, not nothing: a rescan running meanwhile may have registered the file.
        assert_eq!(out, vec![Settled::Removed(p("/a"))]);
        assert!(c.is_empty());
    }

    #[test]
    fn modified_then_removed_settles_as_removed() {
        let (_, out, _) = run(
            &[("/a", RawEvent::Modified, 0), ("/a", RawEvent::Removed, 1)],
            50,
        );
        assert_eq!(out, vec![Settled::Removed(p("/a"))]);
    }

    #[test]
    fn removed_then_created_settles_as_replaced() {
        let (_, out, _) = run(
            &[("/a", RawEvent::Removed, 0), ("/a", RawEvent::Created, 1)],
            50,
        );
        assert_eq!(out, vec![Settled::Replaced(p("/a"))]);
    }

    #[test]
    fn rename_pair_with_same_cookie_settles_as_a_move() {
        let (_, out, _) = run(
            &[
                ("/a", RawEvent::RenamedFrom(7), 0),
                ("/b", RawEvent::RenamedTo(7), 1),
            ],
            50,
        );
        assert_eq!(
            out,
            vec![Settled::Moved {
                from: p("/a"),
                to: p("/b")
            }]
        );
    }

    #[test]
    fn rename_pair_settles_only_when_both_paths_are_quiet() {
        let (mut c, out, t0) = run(
            &[
                ("/a", RawEvent::RenamedFrom(7), 0),
                ("/b", RawEvent::RenamedTo(7), 1),
                ("/b", RawEvent::Modified, 30),
            ],
            40,
        );
        assert!(out.is_empty(), "/a is quiet but /b is not: {out:?}");
        assert_eq!(
            c.drain_settled(t0 + Duration::from_millis(50)),
            vec![Settled::Moved {
                from: p("/a"),
                to: p("/b")
            }]
        );
    }

    #[test]
    fn rename_with_different_cookies_is_a_removal_and_a_creation() {
        let (_, out, _) = run(
            &[
                ("/a", RawEvent::RenamedFrom(1), 0),
                ("/b", RawEvent::RenamedTo(2), 1),
            ],
            50,
        );
        assert_eq!(
            out,
            vec![Settled::Removed(p("/a")), Settled::Created(p("/b"))]
        );
    }

    #[test]
    fn lone_rename_from_after_the_settle_time_is_removed() {
        let (mut c, out, t0) = run(&[("/a", RawEvent::RenamedFrom(3), 0)], 25);
        assert_eq!(out, vec![Settled::Removed(p("/a"))]);
        // Its late partner is then a plain creation.
        c.push(
            p("/b"),
            RawEvent::RenamedTo(3),
            t0 + Duration::from_millis(30),
        );
        assert_eq!(
            c.drain_settled(t0 + Duration::from_millis(60)),
            vec![Settled::Created(p("/b"))]
        );
    }

    #[test]
    fn lone_rename_to_is_created() {
        let (_, out, _) = run(&[("/b", RawEvent::RenamedTo(9), 0)], 25);
        assert_eq!(out, vec![Settled::Created(p("/b"))]);
    }

    #[test]
    fn atomic_save_through_a_temp_file_settles_as_created_target_only() {
        let (_, out, _) = run(
            &[
                ("/d/.f.tmp", RawEvent::Created, 0),
                ("/d/.f.tmp", RawEvent::Modified, 1),
                ("/d/.f.tmp", RawEvent::RenamedFrom(4), 2),
                ("/d/f", RawEvent::RenamedTo(4), 2),
            ],
            50,
        );
        // The temporary file is reported gone too: a no-op unless a walk registered it.
        assert_eq!(
            out,
            vec![
                Settled::Removed(p("/d/.f.tmp")),
                Settled::Created(p("/d/f"))
            ]
        );
    }

    #[test]
    fn moved_away_and_a_new_file_created_at_the_old_path() {
        let (_, out, _) = run(
            &[
                ("/a", RawEvent::RenamedFrom(5), 0),
                ("/b", RawEvent::RenamedTo(5), 0),
                ("/a", RawEvent::Created, 1),
            ],
            50,
        );
        assert_eq!(
            out,
            vec![
                Settled::Created(p("/a")),
                Settled::Moved {
                    from: p("/a"),
                    to: p("/b")
                }
            ]
        );
    }

    #[test]
    fn swap_through_a_temp_name_settles_as_two_moves() {
        let (_, out, _) = run(
            &[
                ("/a", RawEvent::RenamedFrom(1), 0),
                ("/t", RawEvent::RenamedTo(1), 0),
                ("/b", RawEvent::RenamedFrom(2), 1),
                ("/a", RawEvent::RenamedTo(2), 1),
                ("/t", RawEvent::RenamedFrom(3), 2),
                ("/b", RawEvent::RenamedTo(3), 2),
            ],
            50,
        );
        assert_eq!(
            out,
            vec![
                Settled::Moved {
                    from: p("/b"),
                    to: p("/a")
                },
                Settled::Moved {
                    from: p("/a"),
                    to: p("/b")
                },
                // The temporary name, empty before and after: reported gone, a no-op.
                Settled::Removed(p("/t")),
            ]
        );
    }

    #[test]
    fn rescan_is_signalled_at_once_and_drops_pending_events_under_it() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(SETTLE);
        c.push(p("/w/x"), RawEvent::Modified, t0);
        c.push(p("/other/y"), RawEvent::Modified, t0);
        c.push(p("/w"), RawEvent::Rescan, t0);
        assert!(c.rescan_pending());
        assert_eq!(c.drain_settled(t0), vec![Settled::Rescan(p("/w"))]);
        assert_eq!(
            c.drain_settled(t0 + SETTLE),
            vec![Settled::Modified(p("/other/y"))]
        );
        assert!(c.is_empty());
    }

    #[test]
    fn a_rescan_of_a_parent_subsumes_a_rescan_of_a_child() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(SETTLE);
        c.push(p("/w/sub"), RawEvent::Rescan, t0);
        c.push(p("/w"), RawEvent::Rescan, t0);
        c.push(p("/w/sub2"), RawEvent::Rescan, t0);
        assert_eq!(c.drain_settled(t0), vec![Settled::Rescan(p("/w"))]);
    }
}
