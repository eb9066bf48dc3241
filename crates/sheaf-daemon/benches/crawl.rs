//! The crawl baseline of issue 17: a new watch's first crawl of a folder, side by side with
//! watchman's and with the floors, in one run, rounds interleaved, reported as ratios to
//! watchman. Two trees: real files — the Rust documentation of the toolchain
//! (`$(rustc --print sysroot)/share/doc/rust/html`, about 52 000 files; the crate sources
//! under `~/.cargo/registry/src` where it is absent) — and the generated tree of the folder
//! benchmark (100 000 files of 200 bytes in 2 000 folders). On each:
//!
//! - sheafd (release, a fresh daemon and database each round): `POST /v1/watches` until the
//!   collection counts every file, each entry committed durably;
//! - watchman (a fresh private server each round): `watch`, then a query listing every
//!   file, which answers once the crawl is complete;
//! - plocate's `updatedb` of the tree into a new database of its own (nothing pruned);
//! - `find -type f -printf` of what a watch reads of each file, and `sheaf_watch::walk`
//!   alone (stat only): the floors;
//! - the resident memory of sheafd and of watchman right after their crawl.
//!
//! watchman and plocate must be installed (`just bench-crawl` installs them with apt-get
//! when missing). The report is a Markdown table on stdout, also written to
//! `target/bench-crawl.md`. Timings are reported, never asserted. `SHEAF_BENCH_QUICK=1`:
//! one round, a generated tree of 10 000 files; `SHEAF_BENCH_SHEAFD=PATH` measures another
//! build of `sheafd`; `cargo bench -p sheaf-daemon --bench crawl -- docs` (or `generated`)
//! crawls only one tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sheaf_bench::files::make_tree;
use sheaf_bench::sheafd;
use sheaf_bench::{
    Picked, Report, Result, bench_root, crawl, interleave, process_kib, quick, scratch_dir, timed,
    watchman,
};

/// Files per folder of the generated tree, as in the folder benchmark.
const PER_FOLDER: usize = 50;

/// The row ids of one tree's measurements.
struct Ids {
    watchman: &'static str,
    sheafd: &'static str,
    updatedb: &'static str,
    find: &'static str,
    walk: &'static str,
    watchman_rss: &'static str,
    sheafd_rss: &'static str,
}

const REAL: Ids = Ids {
    watchman: "1a",
    sheafd: "1b",
    updatedb: "1c",
    find: "1d",
    walk: "1e",
    watchman_rss: "1f",
    sheafd_rss: "1g",
};

const GENERATED: Ids = Ids {
    watchman: "2a",
    sheafd: "2b",
    updatedb: "2c",
    find: "2d",
    walk: "2e",
    watchman_rss: "2f",
    sheafd_rss: "2g",
};

/// The tree of real files: the toolchain's Rust documentation, else the crate sources of
/// the cargo registry. Answers it with its description.
fn real_tree() -> Result<(PathBuf, String)> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()?;
    let sysroot = String::from_utf8(out.stdout)?;
    let docs = Path::new(sysroot.trim()).join("share/doc/rust/html");
    if docs.is_dir() {
        return Ok((
            docs,
            "the Rust documentation (`share/doc/rust/html`)".into(),
        ));
    }
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    let registry = home.join("registry/src");
    let index = std::fs::read_dir(&registry)
        .map_err(|e| format!("no Rust documentation and no {}: {e}", registry.display()))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .ok_or("no crate sources under the cargo registry")?;
    Ok((index, "the crate sources of the cargo registry".into()))
}

fn main() -> Result<()> {
    let (rounds, generated_files) = if quick() { (1, 10_000) } else { (3, 100_000) };
    let mut report = Report::new("Crawl benchmarks (issue 17)", &bench_root());
    if quick() {
        report.intro(format!(
            "**Quick mode** (`SHEAF_BENCH_QUICK`): one round, a generated tree of \
             {generated_files} files."
        ));
    }
    if !watchman::installed() || !crawl::updatedb_installed() {
        return Err("the crawl benchmark needs watchman and plocate: \
                    `apt-get install -y watchman plocate` (`just bench-crawl` does)"
            .into());
    }
    let picked = Picked::from_args();
    let dir = scratch_dir("sheaf-crawl-")?;
    report.progress(&format!(
        "daemons and databases in {}",
        dir.path().display()
    ));
    let (took, bin) = timed(sheafd::under_test)?;
    report.setup("build sheafd (release; no-op when fresh)", took);
    if std::env::var_os("SHEAF_BENCH_SHEAFD").is_some() {
        report.note(format!(
            "`SHEAF_BENCH_SHEAFD`: measured {}, not this tree's `sheafd`.",
            bin.display()
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let run = Run {
        rt: &rt,
        bin: &bin,
        dir: dir.path(),
        rounds,
    };

    if picked.runs("docs") {
        let (tree, what) = real_tree()?;
        run.tree(&tree, &what, "real", &REAL, &mut report)?;
    }
    if picked.runs("generated") {
        let tree = dir.path().join("generated");
        let (took, ()) = timed(|| make_tree(&tree, generated_files, PER_FOLDER))?;
        report.setup(
            format!(
                "generate a tree of {generated_files} files in {} folders",
                generated_files / PER_FOLDER
            ),
            took,
        );
        let what = format!(
            "the generated tree ({} folders of {PER_FOLDER})",
            generated_files / PER_FOLDER
        );
        run.tree(&tree, &what, "generated", &GENERATED, &mut report)?;
    }
    report.note(
        "Ratios are to watchman's crawl (and memory) of the same tree. sheafd's time ends \
         when the collection counts every file, each entry committed with fsync; watchman's \
         when its query lists every file (its crawl is in memory). Both include starting \
         the server's work from a fresh state; the page cache is warm for every contender.",
    );
    report.save("crawl", &report.markdown())?;
    Ok(())
}

/// What every tree's crawls share.
struct Run<'a> {
    rt: &'a tokio::runtime::Runtime,
    bin: &'a Path,
    dir: &'a Path,
    rounds: usize,
}

impl Run<'_> {
    /// Every contender's crawl of `tree`, rounds interleaved, and the rows `ids`.
    fn tree(
        &self,
        tree: &Path,
        what: &str,
        name: &str,
        ids: &Ids,
        report: &mut Report,
    ) -> Result<()> {
        // The first walk counts the files and warms the page cache for everyone alike.
        let (took, files) = timed(|| crawl::files_of(tree))?;
        report.setup(format!("walk {what} once: {files} files"), took);
        let db = self.dir.join(format!("plocate-{name}.db"));
        let wm_state = self.dir.join(format!("watchman-{name}"));
        let (mut sheafd_rss, mut watchman_rss) = (Vec::new(), Vec::new());
        let mut round_no = 0;
        let mut sheafd_once = || -> Result<Duration> {
            round_no += 1;
            let home = self.dir.join(format!("{name}-{round_no}"));
            let (took, mut server) = crawl::sheafd_watch(self.rt, self.bin, &home, tree, files)?;
            sheafd_rss.push(rss(server.pid())?);
            server.stop_cleanly()?;
            std::fs::remove_dir_all(&home)?;
            Ok(took)
        };
        let mut watchman_once = || -> Result<Duration> {
            let (took, server) = watchman::crawl_kept(&wm_state, tree, files)?;
            watchman_rss.push(rss(server.pid())?);
            Ok(took)
        };
        let mut updatedb_once = || crawl::updatedb(tree, &db, files);
        let mut find_once = || crawl::find(tree);
        let mut walk_once = || crawl::walk(tree, files);
        let mut samples: [Vec<Duration>; 5] = Default::default();
        for round in 0..self.rounds {
            report.progress(&format!("{name}: round {}", round + 1));
            interleave(
                round,
                &mut [
                    &mut watchman_once,
                    &mut sheafd_once,
                    &mut updatedb_once,
                    &mut find_once,
                    &mut walk_once,
                ],
                &mut samples,
            )?;
        }
        let [watchman, sheafd, updatedb, find, walk] = samples;
        let w = Some(ids.watchman);
        let on = format!("{what}, {files} files");
        report.timing(
            ids.watchman,
            format!("watchman 4.9: a fresh server's crawl of {on}, until a query lists them all"),
            &watchman,
            None,
        );
        report.timing(
            ids.sheafd,
            format!("sheafd: a new watch on {on}, until every entry is committed"),
            &sheafd,
            w,
        );
        report.goal_within("ahead of watchman (issue 17)", 1.0);
        report.timing(
            ids.updatedb,
            format!("plocate `updatedb` of {on} into a new database"),
            &updatedb,
            w,
        );
        report.timing(
            ids.find,
            format!("`find -type f -printf` of {on}"),
            &find,
            w,
        );
        report.timing(
            ids.walk,
            format!("`sheaf_watch::walk` of {on}, stat only"),
            &walk,
            w,
        );
        report.memory(
            ids.watchman_rss,
            format!("watchman RSS after its crawl of {on}"),
            watchman_rss,
            None,
        );
        report.memory(
            ids.sheafd_rss,
            format!("sheafd RSS after its crawl of {on}"),
            sheafd_rss,
            Some(ids.watchman_rss),
        );
        Ok(())
    }
}

/// A running process's resident set, in KiB.
fn rss(pid: Option<u32>) -> Result<u64> {
    pid.and_then(|pid| process_kib(pid, "VmRSS:"))
        .ok_or_else(|| "the server's memory cannot be read".into())
}
