//! The full walk of a watch root.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::{DirEntry, WalkBuilder, WalkState};
use sheaf_core::{FileFacts, FileId, Timestamp, content_type_for};

/// How many bytes of a file are read to sniff its content type.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Version-control directories that are never walked into.
pub(crate) const VC_DIRS: [&str; 3] = [".git", ".hg", ".svn"];

/// What a walk looks at and how.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Globs a file must match (any of) to be returned; empty means every file. Matched against
    /// the path relative to the root with `/` separators; a glob without `/` matches at any
    /// depth, as in `.gitignore` (`*.jpg` is `**/*.jpg`). `*` does not cross `/`.
    pub include: Vec<String>,
    /// Globs that leave a file out, same syntax; a directory that matches is not entered.
    pub exclude: Vec<String>,
    /// Follow symbolic links (to files and directories). Off by default; loops are detected
    /// and reported either way.
    pub follow_symlinks: bool,
    /// Read the first [`SNIFF_BYTES`] of each file to sniff its content type. Off, the walk
    /// only stats (fast) and [`WalkedFile::content_type`] is `None`.
    pub sniff: bool,
    /// Enter sub-folders (a watch's default). Off, only the root's own files are returned.
    pub recursive: bool,
}

impl Default for WalkOptions {
    /// Every file, recursively, links not followed, stat only.
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            follow_symlinks: false,
            sniff: false,
            recursive: true,
        }
    }
}

/// A bad glob in [`WalkOptions`].
#[derive(Debug)]
pub struct WalkError {
    /// The glob as given.
    pub glob: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid glob {:?}: {}", self.glob, self.message)
    }
}

impl std::error::Error for WalkError {}

/// One regular file found by a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedFile {
    /// Absolute path (the root joined with the relative path; the root as given).
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Modification time, microseconds precision.
    pub mtime: Timestamp,
    /// Device and inode.
    pub file_id: FileId,
    /// Sniffed content type; `None` in a stat-only walk.
    pub content_type: Option<String>,
}

impl WalkedFile {
    /// The store's view of the file; a stat-only record is typed from its name alone.
    #[must_use]
    pub fn into_facts(self) -> FileFacts {
        let content_type = self
            .content_type
            .unwrap_or_else(|| content_type_for(&[], self.path.rsplit('/').next().unwrap_or("")));
        FileFacts {
            path: self.path,
            size: self.size,
            mtime: self.mtime,
            content_type,
            file_id: Some(self.file_id),
        }
    }
}

/// Something the walk could not look at; it went on without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where (may be non-UTF-8).
    pub path: PathBuf,
    /// What.
    pub kind: ProblemKind,
}

/// The kinds of [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A directory or file could not be read (permissions, vanished, I/O error).
    Unreadable(String),
    /// A symbolic link whose target does not exist.
    BrokenSymlink,
    /// A followed symbolic link that points back at one of its ancestors; not entered.
    SymlinkLoop,
    /// The name is not UTF-8; the file (or the whole directory) is left out.
    NonUtf8Name,
    /// Anything else the walker reported (e.g. a malformed ignore file).
    Other(String),
}

/// The outcome of a walk: files sorted by path, and problems.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    /// Every matching regular file, sorted by path.
    pub files: Vec<WalkedFile>,
    /// Problems, sorted by path.
    pub problems: Vec<Problem>,
}

enum Found {
    File(WalkedFile),
    Problem(Problem),
}

/// Whether a file name is one of the fixed temporary-file patterns (SPEC §3); the
/// extensions compare case-insensitively (`MOVIE.PART` is a partial download too).
pub(crate) fn is_temp_name(name: &str) -> bool {
    Path::new(name).extension().is_some_and(|ext| {
        ["part", "crdownload", "swp"]
            .iter()
            .any(|temp| ext.eq_ignore_ascii_case(temp))
    }) || name.ends_with('~')
        || name.starts_with(".#")
        || name == ".DS_Store"
}

pub(crate) fn glob_set(globs: &[String]) -> Result<GlobSet, WalkError> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let pattern = if glob.contains('/') {
            glob.trim_start_matches('/').to_owned()
        } else {
            format!("**/{glob}")
        };
        let compiled = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| WalkError {
                glob: glob.clone(),
                message: e.kind().to_string(),
            })?;
        set.add(compiled);
    }
    set.build().map_err(|e| WalkError {
        glob: globs.join(", "),
        message: e.to_string(),
    })
}

/// The path relative to the root with `/` separators, if it is UTF-8.
fn relative<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    path.strip_prefix(root).ok()?.to_str()
}

/// Walk `root` in parallel (one thread per available core) and return every regular file
/// that the options let through, with the problems met. Hidden files are ordinary files;
/// `.gitignore` and `.ignore` files inside the root are honoured whether or not it is a git
/// repository (ignore files above the root and the user's global excludes are not);
/// `.git/`, `.hg/`, `.svn/` and temporary files are always skipped.
///
/// # Errors
/// Only for an invalid glob in `options`; everything met on disk is a [`Problem`].
pub fn walk(root: &Path, options: &WalkOptions) -> Result<Walk, WalkError> {
    let include = glob_set(&options.include)?;
    let exclude = glob_set(&options.exclude)?;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    let filter_root = root.to_path_buf();
    let filter_exclude = exclude.clone();
    let mut builder = WalkBuilder::new(root);
    builder
        .threads(threads)
        .hidden(false)
        .parents(false)
        .ignore(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .follow_links(options.follow_symlinks)
        .max_depth((!options.recursive).then_some(1))
        .filter_entry(move |entry| keep_entry(&filter_root, &filter_exclude, entry));

    let (tx, rx) = mpsc::channel::<Found>();
    builder.build_parallel().run(|| {
        let tx = tx.clone();
        let root = root.to_path_buf();
        let include = include.clone();
        let sniff = options.sniff;
        Box::new(move |result| match result {
            Ok(entry) => visit(&root, &include, sniff, &entry, &tx),
            Err(err) => {
                report_error(root.as_path(), err, &tx);
                WalkState::Continue
            }
        })
    });
    drop(tx);

    let mut out = Walk::default();
    for found in rx {
        match found {
            Found::File(file) => out.files.push(file),
            Found::Problem(problem) => out.problems.push(problem),
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The pre-filter run before an entry is yielded or entered: fixed rules and `exclude`.
/// Entries with non-UTF-8 names pass, so [`visit`] can report them.
fn keep_entry(root: &Path, exclude: &GlobSet, entry: &DirEntry) -> bool {
    if entry.depth() == 0 {
        return true;
    }
    let Some(name) = entry.file_name().to_str() else {
        return true;
    };
    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
    if is_dir && VC_DIRS.contains(&name) {
        return false;
    }
    if !is_dir && is_temp_name(name) {
        return false;
    }
    match relative(root, entry.path()) {
        Some(rel) => !exclude.is_match(rel),
        None => true,
    }
}

fn visit(
    root: &Path,
    include: &GlobSet,
    sniff: bool,
    entry: &DirEntry,
    tx: &mpsc::Sender<Found>,
) -> WalkState {
    let send_problem = |kind| {
        let _ = tx.send(Found::Problem(Problem {
            path: entry.path().to_path_buf(),
            kind,
        }));
    };
    let Some(file_type) = entry.file_type() else {
        return WalkState::Continue; // stdin; cannot happen for a directory walk
    };
    let Some(path) = entry.path().to_str() else {
        send_problem(ProblemKind::NonUtf8Name);
        return WalkState::Skip;
    };
    if file_type.is_dir() {
        return WalkState::Continue;
    }
    if file_type.is_symlink() {
        // Not followed (a followed link reports its target's type). Only broken ones matter.
        if std::fs::metadata(entry.path()).is_err() {
            send_problem(ProblemKind::BrokenSymlink);
        }
        return WalkState::Continue;
    }
    if !file_type.is_file() {
        return WalkState::Continue; // sockets, fifos, devices
    }
    let Some(rel) = relative(root, entry.path()) else {
        return WalkState::Continue;
    };
    if !include.is_empty() && !include.is_match(rel) {
        return WalkState::Continue;
    }
    let meta = match entry.metadata() {
        Ok(meta) => meta,
        Err(err) => {
            send_problem(ProblemKind::Unreadable(err.to_string()));
            return WalkState::Continue;
        }
    };
    let content_type = if sniff {
        let name = entry.file_name().to_str().unwrap_or("");
        match read_head(entry.path()) {
            Ok(head) => Some(content_type_for(&head, name)),
            Err(err) => {
                send_problem(ProblemKind::Unreadable(err.to_string()));
                Some(content_type_for(&[], name))
            }
        }
    } else {
        None
    };
    let _ = tx.send(Found::File(walked(path, &meta, content_type)));
    WalkState::Continue
}

/// Whether [`look`] follows a final symbolic link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// A link is [`Look::Other`], as the walk sees it by default: a watch keeps the files
    /// that are in its folder, not what links there point at.
    Keep,
    /// A link is looked through to its target: a path a user names is the file it means.
    Follow,
}

/// What is at one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Look {
    /// A regular file, with its facts.
    File(WalkedFile),
    /// A directory (with [`Links::Keep`], a link to one is [`Look::Other`]).
    Folder,
    /// Nothing (or nothing that can be looked at).
    Missing,
    /// Something else: a link, a socket, a device.
    Other,
}

/// Looks at one path: the facts of a file on disk as the store keeps them, the single-file
/// counterpart of [`walk`] for live events and for paths a client names. With `sniff` the
/// first [`SNIFF_BYTES`] are read to sniff the content type.
#[must_use]
pub fn look(path: &Path, links: Links, sniff: bool) -> Look {
    let meta = match links {
        Links::Keep => std::fs::symlink_metadata(path),
        Links::Follow => std::fs::metadata(path),
    };
    let Ok(meta) = meta else {
        return Look::Missing;
    };
    if meta.is_dir() {
        return Look::Folder;
    }
    if !meta.is_file() {
        return Look::Other;
    }
    let Some(text) = path.to_str() else {
        return Look::Other;
    };
    let name = text.rsplit('/').next().unwrap_or(text);
    let content_type = sniff.then(|| {
        let head = read_head(path).unwrap_or_default();
        content_type_for(&head, name)
    });
    Look::File(walked(text, &meta, content_type))
}

/// A file's modification time as the store keeps it: to the microsecond (a time set
/// beyond what that can count, `touch -d` far in the future, saturates instead of wrapping).
#[must_use]
pub fn mtime_of(meta: &std::fs::Metadata) -> Timestamp {
    Timestamp::from_micros(
        meta.mtime()
            .saturating_mul(1_000_000)
            .saturating_add(meta.mtime_nsec() / 1_000),
    )
}

/// The facts of a regular file from its metadata (mtime to the microsecond).
fn walked(path: &str, meta: &std::fs::Metadata, content_type: Option<String>) -> WalkedFile {
    WalkedFile {
        path: path.to_owned(),
        size: meta.len(),
        mtime: mtime_of(meta),
        file_id: FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        },
        content_type,
    }
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Turn a walker error into problems, one per underlying cause.
fn report_error(root: &Path, err: ignore::Error, tx: &mpsc::Sender<Found>) {
    let mut stack = vec![(None::<PathBuf>, err)];
    while let Some((path, err)) = stack.pop() {
        match err {
            ignore::Error::WithPath { path, err } => stack.push((Some(path), *err)),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                stack.push((path, *err));
            }
            ignore::Error::Partial(errs) => {
                stack.extend(errs.into_iter().map(|e| (path.clone(), e)));
            }
            ignore::Error::Loop { child, .. } => {
                let _ = tx.send(Found::Problem(Problem {
                    path: child,
                    kind: ProblemKind::SymlinkLoop,
                }));
            }
            ignore::Error::Io(io) => {
                let path = path.unwrap_or_else(|| root.to_path_buf());
                let kind = if io.kind() == std::io::ErrorKind::NotFound
                    && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink())
                {
                    ProblemKind::BrokenSymlink
                } else {
                    ProblemKind::Unreadable(io.to_string())
                };
                let _ = tx.send(Found::Problem(Problem { path, kind }));
            }
            other => {
                let _ = tx.send(Found::Problem(Problem {
                    path: path.unwrap_or_else(|| root.to_path_buf()),
                    kind: ProblemKind::Other(other.to_string()),
                }));
            }
        }
    }
}
