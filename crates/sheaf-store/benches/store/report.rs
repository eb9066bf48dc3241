//! Measurements and the Markdown report: medians and p99s, ratios to floors, sizes, setup
//! times, and the machine they were taken on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::Scale;

/// The median and p99 of a set of samples.
#[derive(Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) n: usize,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

/// Nearest-rank percentiles.
pub(crate) fn stats(samples: &[Duration]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let at = |q: f64| s[((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    Stats {
        n: s.len(),
        p50: at(0.5),
        p99: at(0.99),
    }
}

struct Timing {
    id: &'static str,
    what: String,
    stats: Stats,
    /// The id of the row this one is compared with.
    floor: Option<&'static str>,
    goal: String,
    met: Option<bool>,
}

/// A database's file size, against a floor's.
pub(crate) struct Size {
    pub(crate) what: String,
    pub(crate) count: u64,
    pub(crate) unit: &'static str,
    pub(crate) bytes: u64,
    pub(crate) floor: Option<u64>,
}

/// Everything measured so far.
pub(crate) struct Report {
    timings: Vec<Timing>,
    pub(crate) sizes: Vec<Size>,
    setup: Vec<(String, Duration)>,
    pub(crate) notes: Vec<String>,
    /// Extra Markdown after the size table.
    pub(crate) breakdown: String,
    started: Instant,
    /// Where the databases are.
    databases: PathBuf,
}

impl Report {
    pub(crate) fn new(databases: &Path) -> Self {
        Self {
            timings: Vec::new(),
            sizes: Vec::new(),
            setup: Vec::new(),
            notes: Vec::new(),
            breakdown: String::new(),
            started: Instant::now(),
            databases: databases.to_path_buf(),
        }
    }

    pub(crate) fn stats_of(&self, id: &str) -> Option<Stats> {
        self.timings.iter().find(|t| t.id == id).map(|t| t.stats)
    }

    /// Records the samples of row `id`, compared with row `floor`.
    pub(crate) fn timing(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        samples: &[Duration],
        floor: Option<&'static str>,
    ) -> Stats {
        let s = stats(samples);
        self.timings.push(Timing {
            id,
            what: what.into(),
            stats: s,
            floor,
            goal: String::new(),
            met: None,
        });
        s
    }

    /// Sets the goal of the last row and whether it was met.
    pub(crate) fn goal(&mut self, goal: impl Into<String>, met: bool) {
        if let Some(t) = self.timings.last_mut() {
            t.goal = goal.into();
            t.met = Some(met);
        }
    }

    /// Records an untimed setup step's duration.
    pub(crate) fn setup(&mut self, what: impl Into<String>, took: Duration) {
        let what = what.into();
        progress(self, &format!("{what}: {}", secs(took)));
        self.setup.push((what, took));
    }

    fn ratio(&self, t: &Timing) -> Option<(f64, f64)> {
        let f = self.stats_of(t.floor?)?;
        Some((
            t.stats.p50.as_secs_f64() / f.p50.as_secs_f64(),
            t.stats.p99.as_secs_f64() / f.p99.as_secs_f64(),
        ))
    }

    pub(crate) fn markdown(&self, scale: Scale) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# sheaf-store benchmarks\n");
        let _ = writeln!(md, "{}\n", machine(&self.databases));
        if scale.quick {
            let _ = writeln!(
                md,
                "**Quick mode** (`SHEAF_BENCH_QUICK`): {} entries instead of 1,000,000.\n",
                scale.entries
            );
        }
        let _ = writeln!(md, "## Timings\n");
        let _ = writeln!(
            md,
            "| id | measurement | n | median | p99 | vs | × median | × p99 | goal | met |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|---|--:|--:|---|---|");
        for t in &self.timings {
            let (vs, r50, r99) = match self.ratio(t) {
                Some((a, b)) => (
                    t.floor.unwrap_or_default().to_owned(),
                    format!("{a:.2}×"),
                    format!("{b:.2}×"),
                ),
                None => ("—".into(), "1.00×".into(), "1.00×".into()),
            };
            let met = match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {vs} | {r50} | {r99} | {} | {met} |",
                t.id,
                t.what,
                t.stats.n,
                dur(t.stats.p50),
                dur(t.stats.p99),
                t.goal,
            );
        }
        let _ = writeln!(
            md,
            "\n`vs` names the row a measurement is compared with (its floor); `×` is the \
             ratio to it, at the median and at p99. Rows without `vs` are floors.\n"
        );
        let _ = writeln!(md, "## Database size\n");
        let _ = writeln!(
            md,
            "| database | rows | file size | bytes per row | × floor |"
        );
        let _ = writeln!(md, "|---|--:|--:|--:|--:|");
        for s in &self.sizes {
            let per = s.bytes as f64 / s.count.max(1) as f64;
            let ratio = s.floor.map_or_else(
                || "—".to_owned(),
                |f| format!("{:.2}×", s.bytes as f64 / f.max(1) as f64),
            );
            let _ = writeln!(
                md,
                "| {} | {} {} | {} | {per:.1} | {ratio} |",
                s.what,
                s.count,
                s.unit,
                mib(s.bytes)
            );
        }
        if !self.breakdown.is_empty() {
            let _ = writeln!(md, "\n{}", self.breakdown);
        }
        let _ = writeln!(md, "\n## Setup\n");
        let _ = writeln!(md, "| step | took |");
        let _ = writeln!(md, "|---|--:|");
        for (what, took) in &self.setup {
            let _ = writeln!(md, "| {what} | {} |", secs(*took));
        }
        let _ = writeln!(
            md,
            "| **whole benchmark** | {} |",
            secs(self.started.elapsed())
        );
        if !self.notes.is_empty() {
            let _ = writeln!(md, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(md, "- {n}");
            }
        }
        md
    }
}

pub(crate) fn dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// A line on stderr, stamped with the time since the start.
pub(crate) fn progress(report: &Report, msg: &str) {
    let t = report.started.elapsed().as_secs_f64();
    eprintln!("[{t:7.1} s] {msg}");
}

/// Cores, memory, CPU, date.
fn machine(databases: &Path) -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map_or_else(
            || "unknown".to_owned(),
            |v| {
                let kib: f64 = v
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(0.0);
                format!("{} ({:.1} GiB)", v.trim(), kib / f64::from(1 << 20))
            },
        );
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, v)| v.trim());
    format!(
        "Date: {} · cores: {cores} · memory: {mem} · CPU: {cpu} · databases on: {}",
        utc_now(),
        filesystem_of(databases)
    )
}

/// `YYYY-MM-DD HH:MM UTC`, from the civil-from-days algorithm (no date crate needed).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The mount point and file system type holding `path`, from `/proc/mounts`.
fn filesystem_of(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, at, fs) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(at)
                .then(|| (at.len(), format!("{} ({fs} on {dev})", path.display())))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| path.display().to_string(), |(_, s)| s)
}
