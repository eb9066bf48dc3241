//! What the environment asks of a benchmark: quick mode, which benchmarks to run, where to
//! put its databases, and the target dir its report goes to.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::Result;

/// `SHEAF_BENCH_QUICK` set (and not `0`): shorter runs, for trying a benchmark out.
#[must_use]
pub fn quick() -> bool {
    std::env::var_os("SHEAF_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// Where the databases go: `SHEAF_BENCH_DIR`, else the temp dir.
#[must_use]
pub fn bench_root() -> PathBuf {
    std::env::var_os("SHEAF_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// A fresh directory under [`bench_root`], removed when dropped.
pub fn scratch_dir(prefix: &str) -> Result<TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(bench_root())?)
}

/// `target/`, found from the running benchmark (`target/release/deps/<bench>-…`).
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|t| t.join("CACHEDIR.TAG").exists())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The benchmarks named on the command line (`cargo bench … -- add reads`); arguments
/// starting with `--` (cargo's `--bench`) are not names.
#[derive(Debug)]
pub struct Picked(Vec<String>);

impl Picked {
    #[must_use]
    pub fn from_args() -> Self {
        Self(
            std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with("--"))
                .collect(),
        )
    }

    /// Whether benchmark `name` runs: every one does when none was named.
    #[must_use]
    pub fn runs(&self, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| p == name)
    }
}
