//! Item arguments: `-` expanded to stdin's lines, each told apart as an item id or a path,
//! paths made absolute and normalised, duplicates dropped, and the whole split into batches.
//! Folder arguments: made absolute and canonical.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Component, Path, PathBuf};

use sheaf_core::{ItemId, Kind};

use crate::exit::CliError;

/// One reference as the user gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// An item id (possibly malformed: the daemon names it then).
    Id(String),
    /// An absolute, normalised path.
    Path(String),
}

/// The arguments with each `-` replaced by stdin's non-blank lines (trimmed).
pub(crate) fn gather(args: &[String], stdin: impl BufRead) -> std::io::Result<Vec<String>> {
    let mut out = Vec::with_capacity(args.len());
    let mut stdin = Some(stdin);
    for arg in args {
        if arg == "-" {
            // A second `-` has nothing left to read.
            if let Some(input) = stdin.take() {
                for line in input.lines() {
                    let line = line?;
                    let line = line.trim();
                    if !line.is_empty() {
                        out.push(line.to_owned());
                    }
                }
            }
        } else {
            out.push(arg.clone());
        }
    }
    Ok(out)
}

/// An id if it parses as one, or looks like one (`doc_…`, no `/`) and no such file exists;
/// otherwise a path, taken from `cwd` when relative.
pub(crate) fn classify(text: &str, cwd: &Path) -> Input {
    if text.parse::<ItemId>().is_ok() {
        return Input::Id(text.to_owned());
    }
    let id_like = !text.contains('/')
        && text
            .split_once('_')
            .is_some_and(|(prefix, _)| Kind::from_id_prefix(prefix).is_some());
    let path = cwd.join(text);
    if id_like && !path.exists() {
        return Input::Id(text.to_owned());
    }
    Input::Path(normalize(&path).to_string_lossy().into_owned())
}

/// Drops `.` components and resolves `..` lexically (as a shell's `cd` does), so the
/// daemon gets the normalised absolute path it requires.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A folder argument as the daemon takes it: absolute (relative ones are taken from the
/// current directory), canonical (symlinks resolved, no `.` or `..`), valid UTF-8.
pub(crate) fn folder(path: &Path) -> anyhow::Result<String> {
    let canonical = std::fs::canonicalize(path).map_err(|source| CliError::Folder {
        path: path.to_owned(),
        source,
    })?;
    Ok(canonical
        .into_os_string()
        .into_string()
        .map_err(|raw| CliError::NotUtf8(PathBuf::from(raw)))?)
}

/// Keeps the first of each value, in order.
pub(crate) fn dedupe(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

/// Batches of at most `max` (at least 1).
pub(crate) fn batches<T>(values: &[T], max: u64) -> std::slice::Chunks<'_, T> {
    values.chunks(usize::try_from(max.max(1)).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W";

    #[test]
    fn a_dash_reads_stdin_lines_skipping_blanks() {
        let args = vec!["a".to_owned(), "-".to_owned(), "b".to_owned()];
        let got = gather(&args, "x\n\n  y  \r\nz".as_bytes()).unwrap();
        assert_eq!(got, ["a", "x", "y", "z", "b"]);
    }

    #[test]
    fn a_second_dash_reads_nothing_more() {
        let args = vec!["-".to_owned(), "-".to_owned()];
        assert_eq!(gather(&args, "x\n".as_bytes()).unwrap(), ["x"]);
    }

    #[test]
    fn ids_and_paths_are_told_apart() {
        let cwd = Path::new("/home/me/papers");
        assert_eq!(classify(ID, cwd), Input::Id(ID.to_owned()));
        assert_eq!(
            classify("notes.md", cwd),
            Input::Path("/home/me/papers/notes.md".to_owned())
        );
        assert_eq!(
            classify("../x/./y.pdf", cwd),
            Input::Path("/home/me/x/y.pdf".to_owned())
        );
        assert_eq!(classify("/abs/f", cwd), Input::Path("/abs/f".to_owned()));
        // Looks like an id, is not a file: the daemon will say INVALID_ID.
        assert_eq!(classify("doc_oops", cwd), Input::Id("doc_oops".to_owned()));
        // A prefix-like name with a slash is a path.
        assert_eq!(
            classify("doc_dir/a", cwd),
            Input::Path("/home/me/papers/doc_dir/a".to_owned())
        );
    }

    #[test]
    fn an_existing_file_named_like_an_id_is_a_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("img_cover.png"), b"x").unwrap();
        assert_eq!(
            classify("img_cover.png", dir.path()),
            Input::Path(
                dir.path()
                    .join("img_cover.png")
                    .to_string_lossy()
                    .into_owned()
            )
        );
    }

    #[test]
    fn normalising_never_climbs_above_the_root() {
        assert_eq!(normalize(Path::new("/../a/../../b")), PathBuf::from("/b"));
    }

    #[test]
    fn a_folder_is_made_absolute_and_canonical() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap().join("real");
        std::fs::create_dir_all(real.join("sub")).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let got = folder(&dir.path().join("link/sub/..")).unwrap();
        assert_eq!(got, real.to_str().unwrap());
        let err = folder(&dir.path().join("missing")).unwrap_err();
        assert!(
            matches!(err.downcast_ref(), Some(CliError::Folder { source, .. }) if source.kind() == std::io::ErrorKind::NotFound),
            "{err:?}"
        );
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn duplicates_count_once_and_order_is_kept() {
        let got = dedupe(["b", "a", "b", "c", "a"].map(String::from));
        assert_eq!(got, ["b", "a", "c"]);
    }

    #[test]
    fn input_is_split_into_batches_of_max_batch() {
        let ids: Vec<u32> = (0..2500).collect();
        let sizes: Vec<usize> = batches(&ids, 1000).map(<[u32]>::len).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        assert_eq!(
            batches(&ids[..3], 0).count(),
            3,
            "a zero limit still makes progress"
        );
        assert_eq!(batches::<u32>(&[], 10).count(), 0);
    }
}
