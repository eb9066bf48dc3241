//! Measurements and the Markdown report: medians and p99s, request rates, peak memory,
//! ratios to floors, setup times, and the machine they were taken on.

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
    let at = |q: f64| {
        s.get(((q * s.len() as f64).ceil() as usize).clamp(1, s.len().max(1)) - 1)
            .copied()
            .unwrap_or_default()
    };
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
    /// Requests per second, for the load rows.
    rate: Option<f64>,
    /// The id of the row this one is compared with.
    floor: Option<&'static str>,
    goal: String,
    met: Option<bool>,
}

/// A process's peak resident set, over several runs.
struct Memory {
    id: &'static str,
    what: String,
    /// Peak RSS of each run, in KiB.
    runs: Vec<u64>,
    /// The id of the row this one is compared with.
    floor: Option<&'static str>,
    goal: String,
    met: Option<bool>,
}

impl Memory {
    fn median(&self) -> u64 {
        let mut r = self.runs.clone();
        r.sort_unstable();
        r.get(r.len().saturating_sub(1) / 2).copied().unwrap_or(0)
    }
}

/// Everything measured so far.
pub(crate) struct Report {
    timings: Vec<Timing>,
    memory: Vec<Memory>,
    setup: Vec<(String, Duration)>,
    pub(crate) notes: Vec<String>,
    started: Instant,
    /// Where the databases are.
    databases: PathBuf,
}

impl Report {
    pub(crate) fn new(databases: &Path) -> Self {
        Self {
            timings: Vec::new(),
            memory: Vec::new(),
            setup: Vec::new(),
            notes: Vec::new(),
            started: Instant::now(),
            databases: databases.to_path_buf(),
        }
    }

    pub(crate) fn stats_of(&self, id: &str) -> Option<Stats> {
        self.timings.iter().find(|t| t.id == id).map(|t| t.stats)
    }

    pub(crate) fn rate_of(&self, id: &str) -> Option<f64> {
        self.timings
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.rate)
    }

    pub(crate) fn memory_of(&self, id: &str) -> Option<u64> {
        self.memory.iter().find(|m| m.id == id).map(Memory::median)
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
            rate: None,
            floor,
            goal: String::new(),
            met: None,
        });
        s
    }

    /// Sets the request rate of the last timing row.
    pub(crate) fn rate(&mut self, per_second: f64) {
        if let Some(t) = self.timings.last_mut() {
            t.rate = Some(per_second);
        }
    }

    /// Sets the goal of the last timing row and whether it was met.
    pub(crate) fn goal(&mut self, goal: impl Into<String>, met: bool) {
        if let Some(t) = self.timings.last_mut() {
            t.goal = goal.into();
            t.met = Some(met);
        }
    }

    /// Records the peak RSS (KiB) of each run of row `id`, compared with row `floor`;
    /// returns the median.
    pub(crate) fn memory(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        runs: Vec<u64>,
        floor: Option<&'static str>,
    ) -> u64 {
        let m = Memory {
            id,
            what: what.into(),
            runs,
            floor,
            goal: String::new(),
            met: None,
        };
        let median = m.median();
        self.memory.push(m);
        median
    }

    /// Sets the goal of the last memory row and whether it was met.
    pub(crate) fn memory_goal(&mut self, goal: impl Into<String>, met: bool) {
        if let Some(m) = self.memory.last_mut() {
            m.goal = goal.into();
            m.met = Some(met);
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
        let _ = writeln!(md, "# sheafd benchmarks\n");
        let _ = writeln!(md, "{}\n", machine(&self.databases));
        if scale.quick {
            let _ = writeln!(
                md,
                "**Quick mode** (`SHEAF_BENCH_QUICK`): shorter load rounds, fewer batches, \
                 `ls` of {} and {} entries.\n",
                scale.ls_small, scale.ls_large
            );
        }
        let _ = writeln!(md, "## Timings\n");
        let _ = writeln!(
            md,
            "| id | measurement | n | median | p99 | req/s | vs | × median | × p99 | × req/s | goal | met |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|---|--:|--:|--:|---|---|");
        for t in &self.timings {
            let (vs, r50, r99) = match self.ratio(t) {
                Some((a, b)) => (
                    t.floor.unwrap_or_default().to_owned(),
                    format!("{a:.2}×"),
                    format!("{b:.2}×"),
                ),
                None => ("—".into(), "1.00×".into(), "1.00×".into()),
            };
            let rate = t.rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.0}"));
            let rate_ratio = match (t.rate, t.floor.and_then(|f| self.rate_of(f))) {
                (Some(r), Some(f)) => format!("{:.2}×", r / f),
                (Some(_), None) => "1.00×".to_owned(),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {rate} | {vs} | {r50} | {r99} | {rate_ratio} | {} | {} |",
                t.id,
                t.what,
                t.stats.n,
                dur(t.stats.p50),
                dur(t.stats.p99),
                t.goal,
                met(t.met),
            );
        }
        let _ = writeln!(
            md,
            "\n`vs` names the row a measurement is compared with (its floor); `×` is the \
             ratio to it, at the median, at p99 and in requests per second. Rows without \
             `vs` are floors.\n"
        );
        if !self.memory.is_empty() {
            let _ = writeln!(md, "## Memory (resident set, KiB)\n");
            let _ = writeln!(
                md,
                "| id | measurement | runs | median peak RSS | max | vs | × median | goal | met |"
            );
            let _ = writeln!(md, "|---|---|--:|--:|--:|---|--:|---|---|");
            for m in &self.memory {
                let median = m.median();
                let max = m.runs.iter().copied().max().unwrap_or(0);
                let (vs, ratio) = match m.floor.and_then(|f| self.memory_of(f)) {
                    Some(f) => (
                        m.floor.unwrap_or_default().to_owned(),
                        format!("{:.2}×", median as f64 / f.max(1) as f64),
                    ),
                    None => ("—".to_owned(), "1.00×".to_owned()),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {vs} | {ratio} | {} | {} |",
                    m.id,
                    m.what,
                    m.runs.len(),
                    kib(median),
                    kib(max),
                    m.goal,
                    met(m.met),
                );
            }
            let _ = writeln!(
                md,
                "\nPeak RSS is the kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`), \
                 read every millisecond while the process runs.\n"
            );
        }
        let _ = writeln!(md, "## Setup\n");
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

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "",
    }
}

pub(crate) fn dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 10_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

pub(crate) fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub(crate) fn kib(k: u64) -> String {
    format!("{:.1} MiB", k as f64 / 1024.0)
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
