//! One crawl of a tree by each contender the folder and crawl benchmarks compare: sheafd's
//! new watch until every entry is committed, and the floors and neighbours it is held to —
//! `sheaf_watch::walk` alone, `find -printf`, and plocate's `updatedb` into a database of
//! its own. (watchman's crawl is in [`crate::watchman`].) Each answers how long it took and
//! checks that it saw every file.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::Result;
use crate::http::{add_watch, until_count};
use crate::sheafd::{self, Server};

/// The files of `tree` as a watch with default settings sees them: its stat-only walk.
pub fn files_of(tree: &Path) -> Result<usize> {
    let walked =
        sheaf_watch::walk(tree, &sheaf_watch::WalkOptions::default()).map_err(|e| e.to_string())?;
    Ok(walked.files.len())
}

/// `sheaf_watch::walk` of `tree` (stat only), which must find `files` files.
pub fn walk(tree: &Path, files: usize) -> Result<Duration> {
    let t = Instant::now();
    let found = files_of(tree)?;
    let took = t.elapsed();
    if found != files {
        return Err(format!("the walk found {found} files, not {files}").into());
    }
    Ok(took)
}

/// `find TREE -type f -printf` of what a watch reads of each file, to `/dev/null`.
pub fn find(tree: &Path) -> Result<Duration> {
    let t = Instant::now();
    let status = Command::new("find")
        .arg(tree)
        .args(["-type", "f", "-printf", "%s %T@ %i %p\\n"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err("find failed".into());
    }
    Ok(t.elapsed())
}

/// Whether plocate's `updatedb` is on the PATH.
#[must_use]
pub fn updatedb_installed() -> bool {
    Command::new("updatedb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// plocate's `updatedb` of `tree` into a new database at `db` (removed first: with an old
/// one, `updatedb` skips the folders whose mtime has not changed), nothing pruned and no
/// visibility checks; the database must then list at least `files` paths.
pub fn updatedb(tree: &Path, db: &Path, files: usize) -> Result<Duration> {
    match std::fs::remove_file(db) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let t = Instant::now();
    let status = Command::new("updatedb")
        .arg("--database-root")
        .arg(tree)
        .arg("--output")
        .arg(db)
        .args(["--require-visibility", "no", "--prunepaths", ""])
        .args(["--prunenames", "", "--prunefs", ""])
        .status()?;
    let took = t.elapsed();
    if !status.success() {
        return Err("updatedb failed".into());
    }
    let out = Command::new("plocate")
        .arg("--database")
        .arg(db)
        .arg("--count")
        .arg(tree)
        .output()?;
    let listed: usize = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    if listed < files {
        return Err(format!("updatedb listed {listed} paths, fewer than {files} files").into());
    }
    Ok(took)
}

/// A fresh `sheafd` (`bin`) on a new database in `home` gets a watch on `tree` into
/// collection `tree`; the time from `POST /v1/watches` until the collection counts all
/// `files` entries, each committed durably. The daemon is left running.
pub fn sheafd_watch(
    rt: &Runtime,
    bin: &Path,
    home: &Path,
    tree: &Path,
    files: usize,
) -> Result<(Duration, Server)> {
    std::fs::create_dir_all(home)?;
    let server = sheafd::start(bin, home, &home.join("daemon.redb"))?;
    let t = Instant::now();
    add_watch(rt, &server.socket, tree, "tree")?;
    let took = until_count(rt, &server.socket, "tree", files as u64, t)?;
    Ok((took, server))
}
