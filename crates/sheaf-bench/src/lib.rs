//! Shared support for the project's benchmarks (`sheaf-store`'s `store`, `sheaf-daemon`'s
//! `daemon`, `automation` and `crawl`, `sheaf-tui`'s `tui`): what the environment asks for
//! (quick mode, the benchmarks picked, the directories), timing and nearest-rank
//! statistics, the Markdown report with its machine line, a release `sheafd` built, started
//! and stopped, an HTTP client for it (and its change feed), a process's memory, a tree of
//! files, the crawls of a tree by sheafd and its neighbours (a walk, `find`, plocate's
//! `updatedb`, watchman), and a store seeded with synthetic entries. Each benchmark keeps
//! only its own measurements.
//!
//! A benchmark-support crate (`publish = false`): only benchmarks depend on it, as a
//! dev-dependency, never shipped code. Errors are returned, boxed as the benchmarks' own.

pub mod crawl;
mod env;
pub mod files;
mod format;
pub mod http;
mod machine;
mod markdown;
mod report;
pub mod seed;
pub mod sheafd;
mod stats;
mod timing;
pub mod watchman;

pub use env::{Picked, bench_root, quick, scratch_dir, target_dir};
pub use format::{dur, kib, mib, ms, secs};
pub use machine::{process_kib, reset_peak, status_kib};
pub use report::{Report, Size};
pub use stats::{Stats, percentile, stats, trend};
pub use timing::{interleave, interleave_warm, timed};

/// Any error, boxed, that may cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The benchmarks' result.
pub type Result<T, E = BoxError> = std::result::Result<T, E>;
