//! A reconcile: a walk of a watch's folder (or a folder under it) diffed against what the
//! store knows there, as folder changes.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sheaf_core::rules::{FolderChange, Was};
use sheaf_core::{FileFacts, FileId, Timestamp};
use sheaf_store::{KnownFile, Store};
use sheaf_watch::{Links, Look, WalkOptions, WalkedFile, look, walk};

use super::scopes::{Scope, Scopes, walk_options};

/// What a reconcile found.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    /// The changes that make the store match the disk.
    pub(crate) changes: Vec<FolderChange>,
    /// Files of the watch found by the walk.
    pub(crate) files: u64,
}

/// Walks `dir` (the watch root, or a folder under it) and diffs it against the store:
/// new files, changed files, files that lost their membership, gone files, and moves nobody
/// saw (a new path whose device, inode, size and mtime are those of a gone file keeps that
/// file's item).
///
/// `elsewhere` are files known outside `dir` that may have moved into it unseen (a folder
/// moved into a folder the kernel did not watch yet reports only its departure): a new file
/// with the identity of one of them keeps its item; they are not reported gone here.
pub(crate) fn diff(
    store: &Store,
    scope: &Scope,
    scopes: &Scopes,
    dir: &Path,
    elsewhere: &[KnownFile],
) -> Result<Diff, String> {
    let root = Path::new(&scope.watch.path);
    let subtree = dir != root;
    // Below the root, the walk's own globs would be relative to the wrong folder: walk
    // everything and let the watch's filter decide.
    let options = if subtree {
        WalkOptions {
            recursive: scope.watch.recursive,
            ..WalkOptions::default()
        }
    } else {
        walk_options(&scope.watch)
    };
    let walked = walk(dir, &options).map_err(|e| e.to_string())?;
    for problem in &walked.problems {
        tracing::warn!(watch = %scope.watch.id, path = %problem.path.display(), problem = ?problem.kind, "walk problem");
    }
    let disk: Vec<WalkedFile> = walked
        .files
        .into_iter()
        .filter(|f| !subtree || scope.filter.admits(Path::new(&f.path)))
        .collect();
    let dir_text = dir.to_str().ok_or("the folder's name is not UTF-8")?;
    let known = store.known_under(dir_text).map_err(|e| e.to_string())?;
    let members = store
        .live_members(&scope.watch.collection_id)
        .map_err(|e| e.to_string())?;

    let mut out = Diff {
        files: disk.len() as u64,
        ..Diff::default()
    };
    let present = |facts: FileFacts, was: Option<Was>| {
        let owners = scopes.owners(Path::new(&facts.path));
        FolderChange::Present { facts, was, owners }
    };
    let mut new = Vec::new();
    let mut missing: Vec<KnownFile> = Vec::new();
    let (mut d, mut k) = (disk.into_iter().peekable(), known.into_iter().peekable());
    loop {
        let order = match (d.peek(), k.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(f), Some(kf)) => f.path.as_str().cmp(kf.path.as_str()),
        };
        match order {
            std::cmp::Ordering::Less => new.extend(d.next()),
            std::cmp::Ordering::Greater => {
                let Some(kf) = k.next() else { break };
                // Not walked: gone, or still there but no longer admitted by the filters.
                match look(Path::new(&kf.path), Links::Keep, false) {
                    Look::File(f) if kf.present => out.changes.push(present(f.into_facts(), None)),
                    _ => missing.push(kf),
                }
            }
            std::cmp::Ordering::Equal => {
                let (Some(f), Some(kf)) = (d.next(), k.next()) else {
                    break;
                };
                let unchanged = kf.present
                    && kf.size == f.size
                    && kf.mtime == f.mtime
                    && kf.file_id == Some(f.file_id)
                    && members.contains(&kf.item.ulid().0);
                if !unchanged {
                    out.changes.push(present(f.into_facts(), None));
                }
            }
        }
    }

    // Moves nobody saw: match new files to missing ones by identity.
    let mut by_identity: HashMap<(FileId, u64, Timestamp), usize> = HashMap::new();
    for (i, m) in missing.iter().enumerate() {
        if let Some(id) = m.file_id {
            by_identity.insert((id, m.size, m.mtime), i);
        }
    }
    let mut moved_in: HashMap<(FileId, u64, Timestamp), &KnownFile> = elsewhere
        .iter()
        .filter_map(|k| Some(((k.file_id?, k.size, k.mtime), k)))
        .collect();
    let was_of = |m: &KnownFile| {
        if m.present {
            Was::Path(m.path.clone())
        } else {
            Was::Item(m.item)
        }
    };
    let mut matched = HashSet::new();
    for f in new {
        let key = (f.file_id, f.size, f.mtime);
        let was = match by_identity.remove(&key) {
            Some(i) => {
                matched.insert(i);
                Some(was_of(&missing[i]))
            }
            None => moved_in.remove(&key).map(was_of),
        };
        out.changes.push(present(f.into_facts(), was));
    }
    for (i, m) in missing.into_iter().enumerate() {
        if m.present && !matched.contains(&i) {
            out.changes.push(FolderChange::Gone { path: m.path });
        }
    }
    Ok(out)
}
