//! The walk's rules for one path at a time: which live events concern a watch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::GlobSet;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::walk::{VC_DIRS, WalkError, WalkOptions, glob_set, is_temp_name};

/// The names of the ignore files honoured in every folder (as the walk does).
const IGNORE_FILES: [&str; 2] = [".gitignore", ".ignore"];

/// Decides, for a single path, what [`crate::walk`] decides while walking: the fixed
/// version-control and temporary-file rules, `include`/`exclude`, the depth of a
/// non-recursive watch, and the `.gitignore`/`.ignore` files of the folders between the root
/// and the path. Ignore files are read on first use and cached; [`Filter::forget`] drops a
/// folder's cache when one of its ignore files changes.
#[derive(Debug)]
pub struct Filter {
    root: PathBuf,
    recursive: bool,
    include: GlobSet,
    exclude: GlobSet,
    ignores: Mutex<HashMap<PathBuf, Option<Gitignore>>>,
}

impl Filter {
    /// The filter of a watch rooted at `root`.
    ///
    /// # Errors
    /// An invalid glob in `options`.
    pub fn new(root: &Path, options: &WalkOptions) -> Result<Self, WalkError> {
        Ok(Self {
            root: root.to_path_buf(),
            recursive: options.recursive,
            include: glob_set(&options.include)?,
            exclude: glob_set(&options.exclude)?,
            ignores: Mutex::new(HashMap::new()),
        })
    }

    /// The watch's root, as given to [`Filter::new`]: paths are judged relative to it.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether a regular file at `path` belongs to the watch.
    #[must_use]
    pub fn admits(&self, path: &Path) -> bool {
        let Some(rel) = path.strip_prefix(&self.root).ok().and_then(Path::to_str) else {
            return false;
        };
        if rel.is_empty() || (!self.recursive && rel.contains('/')) {
            return false;
        }
        let mut parts: Vec<&str> = rel.split('/').collect();
        let Some(name) = parts.pop() else {
            return false;
        };
        if is_temp_name(name) || parts.iter().any(|p| VC_DIRS.contains(p)) {
            return false;
        }
        // A folder the walk would not enter leaves out everything below it.
        let mut dir_rel = String::new();
        for part in &parts {
            if !dir_rel.is_empty() {
                dir_rel.push('/');
            }
            dir_rel.push_str(part);
            if self.exclude.is_match(&dir_rel) {
                return false;
            }
        }
        if self.exclude.is_match(rel) {
            return false;
        }
        if !self.include.is_empty() && !self.include.is_match(rel) {
            return false;
        }
        !self.ignored(path, &parts)
    }

    /// Whether the ignore files between the root and the path leave it out: the nearest
    /// folder with a matching rule decides, as in git.
    fn ignored(&self, path: &Path, dirs: &[&str]) -> bool {
        let mut folders = vec![self.root.clone()];
        let mut here = self.root.clone();
        for d in dirs {
            here.push(d);
            folders.push(here.clone());
        }
        let mut cache = self
            .ignores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for folder in folders.iter().rev() {
            let matcher = cache
                .entry(folder.clone())
                .or_insert_with(|| load_ignores(folder));
            if let Some(m) = matcher {
                let found = m.matched_path_or_any_parents(path, false);
                if found.is_ignore() {
                    return true;
                }
                if found.is_whitelist() {
                    return false;
                }
            }
        }
        false
    }

    /// Forget the cached ignore files of `folder` (one of them changed).
    pub fn forget(&self, folder: &Path) {
        self.ignores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(folder);
    }

    /// Whether `path` is an ignore file the filter reads.
    #[must_use]
    pub fn is_ignore_file(path: &Path) -> bool {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| IGNORE_FILES.contains(&n))
    }
}

fn load_ignores(folder: &Path) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(folder);
    let mut any = false;
    for name in IGNORE_FILES {
        let file = folder.join(name);
        if file.is_file() {
            any = true;
            // A malformed line is skipped; the walk reports it as a problem.
            let _ = builder.add(file);
        }
    }
    if !any {
        return None;
    }
    builder.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(root: &Path, include: &[&str], exclude: &[&str], recursive: bool) -> Filter {
        let options = WalkOptions {
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
            recursive,
            ..WalkOptions::default()
        };
        Filter::new(root, &options).unwrap()
    }

    #[test]
    fn fixed_rules_globs_and_depth_are_the_walks() {
        let root = Path::new("/nonexistent-root");
        let f = filter(root, &["*.pdf", "*.md"], &["drafts"], true);
        assert!(f.admits(&root.join("a.pdf")));
        assert!(f.admits(&root.join("x/y/a.md")));
        assert!(!f.admits(&root.join("a.png")), "not included");
        assert!(
            !f.admits(&root.join("drafts/a.pdf")),
            "under an excluded folder"
        );
        assert!(!f.admits(&root.join(".git/a.pdf")));
        assert!(!f.admits(&root.join("a.pdf.part")));
        assert!(!f.admits(Path::new("/elsewhere/a.pdf")));
        assert!(!f.admits(root));
        let flat = filter(root, &[], &[], false);
        assert!(flat.admits(&root.join("a.png")));
        assert!(!flat.admits(&root.join("sub/a.png")));
    }

    #[test]
    fn ignore_files_of_every_folder_on_the_way_apply_and_can_be_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join(".gitignore"), "*.log\nbuild/\n").unwrap();
        std::fs::write(root.join("sub/.ignore"), "secret.txt\n!keep.log\n").unwrap();
        let f = filter(root, &[], &[], true);
        assert!(f.admits(&root.join("a.txt")));
        assert!(!f.admits(&root.join("a.log")));
        assert!(!f.admits(&root.join("build/out.bin")));
        assert!(!f.admits(&root.join("sub/secret.txt")));
        assert!(
            f.admits(&root.join("sub/keep.log")),
            "the nearer file re-includes"
        );

        std::fs::write(root.join(".gitignore"), "").unwrap();
        assert!(!f.admits(&root.join("a.log")), "cached until forgotten");
        f.forget(root);
        assert!(f.admits(&root.join("a.log")));
    }
}
