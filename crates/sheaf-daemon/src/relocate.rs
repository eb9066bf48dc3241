//! `relocate` on disk (SPEC §2.1): the files of a move between folder-bound collections go
//! where the plan says before the store commits it, and back if it does not.
//!
//! [`DiskMoves`] is the [`Effects`] hook of the write that relocates (a batch move, or the
//! undo of one); the store calls it inside its write transaction, so no other write sees
//! the plan before its files are in place:
//! 1. the plan's item path changes are the moves ([`moves_of`]);
//! 2. [`apply`] moves each file: a `rename` that never replaces an existing file, or, across
//!    filesystems, a copy (the source stays until the commit); a failure midway undoes the
//!    moves made so far and refuses the request;
//! 3. the store commits; on success [`Applied::finish`] removes the sources of copies, on
//!    failure [`Applied::rollback`] puts every file back.
//!
//! The watches see the moves as renames of files that are already where the store says (or,
//! after a rollback, renames there and back), so they change nothing.

use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, RenameFlags, renameat_with};
use sheaf_core::{Change, ErrorCode, Plan, Refusal};
use sheaf_store::Effects;

/// The files a write's plan moves, moved on disk inside the write (and back if it fails).
/// Nothing moves for a plan that moves no file.
#[derive(Debug, Default)]
pub(crate) struct DiskMoves {
    applied: Option<Applied>,
}

impl Effects for DiskMoves {
    fn apply(&mut self, plan: &Plan) -> Result<(), Refusal> {
        self.applied = Some(apply(&moves_of(plan))?);
        Ok(())
    }

    fn commit(&mut self) {
        if let Some(applied) = self.applied.take() {
            applied.finish();
        }
    }

    fn rollback(&mut self) {
        if let Some(mut applied) = self.applied.take() {
            applied.rollback();
        }
    }
}

/// One file to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) from: PathBuf,
    pub(crate) to: PathBuf,
}

/// The files a plan moves: its items whose (live) path changes.
pub(crate) fn moves_of(plan: &Plan) -> Vec<Move> {
    plan.changes
        .iter()
        .filter_map(|c| match c {
            Change::Item {
                before: Some(b),
                after: Some(a),
            } if b.deleted_at.is_none() && a.deleted_at.is_none() => match (&b.path, &a.path) {
                (Some(from), Some(to)) if from != to => Some(Move {
                    from: from.into(),
                    to: to.into(),
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// What was done on disk, in order, so that it can be finished or undone.
#[derive(Debug)]
enum Done {
    Renamed(Move),
    /// Copied across filesystems; the source is still there.
    Copied(Move),
    /// A folder made for a destination.
    MadeDir(PathBuf),
}

/// Moves made and not yet finished or rolled back.
#[derive(Debug, Default)]
#[must_use = "moves must be finished after the commit or rolled back"]
pub(crate) struct Applied {
    done: Vec<Done>,
}

/// Why a file could not be moved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MoveError {
    #[error("{} is gone from disk", .0.display())]
    SourceGone(PathBuf),
    #[error("a file already exists at {}", .0.display())]
    Taken(PathBuf),
    #[error("moving {} to {}: {source}", .from.display(), .to.display())]
    Io {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
}

impl From<MoveError> for Refusal {
    fn from(e: MoveError) -> Self {
        let message = format!("relocate: {e}; no file was moved and nothing changed");
        match e {
            MoveError::SourceGone(_) => Refusal::new(ErrorCode::ItemDeleted, message),
            MoveError::Taken(_) => Refusal::field(
                vec!["body".into(), "relocate".into()],
                message,
                "path_taken",
            ),
            MoveError::Io { .. } => Refusal::new(ErrorCode::StorageError, message),
        }
    }
}

/// Moves every file, or none: a failure undoes the moves already made.
pub(crate) fn apply(moves: &[Move]) -> Result<Applied, MoveError> {
    let mut applied = Applied::default();
    for m in moves {
        if let Err(e) = applied.one(m) {
            applied.rollback();
            return Err(e);
        }
    }
    Ok(applied)
}

impl Applied {
    fn one(&mut self, m: &Move) -> Result<(), MoveError> {
        let io = |source: io::Error| MoveError::Io {
            from: m.from.clone(),
            to: m.to.clone(),
            source,
        };
        if std::fs::symlink_metadata(&m.from).is_err() {
            return Err(MoveError::SourceGone(m.from.clone()));
        }
        if let Some(parent) = m.to.parent() {
            self.make_dirs(parent).map_err(io)?;
        }
        match renameat_with(CWD, &m.from, CWD, &m.to, RenameFlags::NOREPLACE) {
            Ok(()) => {
                self.done.push(Done::Renamed(m.clone()));
                Ok(())
            }
            Err(rustix::io::Errno::EXIST) => Err(MoveError::Taken(m.to.clone())),
            Err(rustix::io::Errno::NOENT) if !m.from.exists() => {
                Err(MoveError::SourceGone(m.from.clone()))
            }
            Err(rustix::io::Errno::XDEV) => {
                copy_new(&m.from, &m.to).map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        MoveError::Taken(m.to.clone())
                    } else {
                        io(e)
                    }
                })?;
                self.done.push(Done::Copied(m.clone()));
                Ok(())
            }
            Err(e) => Err(io(e.into())),
        }
    }

    /// Makes `dir` and its missing parents, remembering each one made.
    fn make_dirs(&mut self, dir: &Path) -> io::Result<()> {
        let mut missing = Vec::new();
        let mut at = Some(dir);
        while let Some(d) = at {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            at = d.parent();
        }
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => self.done.push(Done::MadeDir(d)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// After the commit: the sources of files copied across filesystems go.
    pub(crate) fn finish(self) {
        for d in self.done {
            if let Done::Copied(m) = d
                && let Err(e) = std::fs::remove_file(&m.from)
            {
                tracing::warn!(file = %m.from.display(), error = %e, "relocate: the copied file's source could not be removed");
            }
        }
    }

    /// Puts every file back where it was, newest move first, and removes the folders made.
    pub(crate) fn rollback(&mut self) {
        while let Some(d) = self.done.pop() {
            let undone = match &d {
                Done::Renamed(m) => renameat_with(CWD, &m.to, CWD, &m.from, RenameFlags::NOREPLACE)
                    .map_err(io::Error::from),
                Done::Copied(m) => std::fs::remove_file(&m.to),
                Done::MadeDir(dir) => std::fs::remove_dir(dir),
            };
            if let Err(e) = undone {
                tracing::error!(step = ?d, error = %e, "relocate: rolling back a file move failed");
            }
        }
    }
}

/// Copies `from` to a new file `to` (never replacing one), with its permissions and
/// modification time, and syncs it.
fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = std::fs::File::open(from)?;
    let meta = source.metadata()?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    let copied = io::copy(&mut source, &mut target)
        .and_then(|_| target.set_permissions(meta.permissions()))
        .and_then(|()| target.set_modified(meta.modified()?))
        .and_then(|()| target.sync_all());
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn mv(from: &Path, to: &Path) -> Move {
        Move {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
        }
    }

    #[test]
    fn files_move_into_new_folders_and_a_rollback_puts_everything_back() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        write(&a.join("x/1.txt"), "one");
        write(&a.join("2.txt"), "two");
        std::fs::create_dir(&b).unwrap();
        let moves = [
            mv(&a.join("x/1.txt"), &b.join("x/1.txt")),
            mv(&a.join("2.txt"), &b.join("2.txt")),
        ];
        let mut applied = apply(&moves).unwrap();
        assert_eq!(std::fs::read_to_string(b.join("x/1.txt")).unwrap(), "one");
        assert!(!a.join("2.txt").exists());

        // The commit failed: the files go back and the folder made for them goes.
        applied.rollback();
        assert_eq!(std::fs::read_to_string(a.join("x/1.txt")).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(a.join("2.txt")).unwrap(), "two");
        assert!(
            !b.join("x").exists(),
            "the folder made for the move is gone"
        );
        assert!(b.exists(), "a folder that was there stays");
    }

    #[test]
    fn a_failure_midway_undoes_the_moves_already_made() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        write(&a.join("1.txt"), "one");
        write(&a.join("sub/2.txt"), "two");
        // The second destination's folder cannot be made: a file holds its name.
        write(&b.join("sub"), "in the way");
        let moves = [
            mv(&a.join("1.txt"), &b.join("1.txt")),
            mv(&a.join("sub/2.txt"), &b.join("sub/2.txt")),
        ];
        let err = apply(&moves).unwrap_err();
        assert!(matches!(err, MoveError::Io { .. }), "{err:?}");
        assert!(a.join("1.txt").exists(), "the first move was undone");
        assert!(!b.join("1.txt").exists());
        assert!(a.join("sub/2.txt").exists());
    }

    #[test]
    fn an_existing_destination_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("a/1.txt"), "mine");
        write(&dir.path().join("b/1.txt"), "theirs");
        let err =
            apply(&[mv(&dir.path().join("a/1.txt"), &dir.path().join("b/1.txt"))]).unwrap_err();
        assert!(matches!(err, MoveError::Taken(_)), "{err:?}");
        let refusal = Refusal::from(err);
        assert_eq!(refusal.code, ErrorCode::ValidationError);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b/1.txt")).unwrap(),
            "theirs"
        );
        assert!(dir.path().join("a/1.txt").exists());
    }

    #[test]
    fn a_source_gone_from_disk_is_item_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let err = apply(&[mv(&dir.path().join("nope"), &dir.path().join("b/nope"))]).unwrap_err();
        assert_eq!(Refusal::from(err).code, ErrorCode::ItemDeleted);
        assert!(!dir.path().join("b").exists(), "nothing was made");
    }

    #[test]
    fn a_copy_across_filesystems_keeps_its_source_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a.txt"), dir.path().join("b/a.txt"));
        write(&from, "data");
        std::fs::create_dir(dir.path().join("b")).unwrap();
        let mut applied = Applied::default();
        copy_new(&from, &to).unwrap();
        applied.done.push(Done::Copied(mv(&from, &to)));
        assert_eq!(
            std::fs::metadata(&to).unwrap().modified().unwrap(),
            std::fs::metadata(&from).unwrap().modified().unwrap(),
            "the copy keeps the modification time"
        );
        applied.finish();
        assert!(!from.exists());
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "data");
    }
}
