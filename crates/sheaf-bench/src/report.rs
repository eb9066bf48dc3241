//! Everything a benchmark measured, in the order it was measured: timing rows (median, p99,
//! a request rate where there is one), memory rows (peak resident sets over several runs),
//! database sizes, each compared with its floor and held to its goal; setup times, notes,
//! and where the databases are. [`Report::markdown`] and [`Report::summary`] render it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::stats::{Stats, percentile, stats};
use crate::{Result, secs, target_dir};

/// One row of the report.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) id: &'static str,
    pub(crate) what: String,
    pub(crate) measure: Measure,
    /// The id of the row (of the same kind) this one is compared with.
    pub(crate) floor: Option<&'static str>,
    pub(crate) goal: String,
    pub(crate) met: Option<bool>,
}

#[derive(Debug)]
pub(crate) enum Measure {
    /// Latencies, and requests per second for the load rows.
    Time { stats: Stats, rate: Option<f64> },
    /// A process's peak RSS of each run, in KiB.
    Memory { runs: Vec<u64> },
}

/// The median of a memory row's runs.
pub(crate) fn median(runs: &[u64]) -> u64 {
    let mut r = runs.to_vec();
    r.sort_unstable();
    percentile(&r, 0.5)
}

/// A database's file size, against a floor's.
#[derive(Debug)]
pub struct Size {
    pub what: String,
    pub count: u64,
    pub unit: &'static str,
    pub bytes: u64,
    pub floor: Option<u64>,
}

/// Everything measured so far.
#[derive(Debug)]
pub struct Report {
    pub(crate) title: &'static str,
    /// Whether the timings table has request-rate columns.
    pub(crate) rates: bool,
    pub(crate) intro: Vec<String>,
    pub(crate) rows: Vec<Row>,
    pub(crate) sizes: Vec<Size>,
    /// Extra Markdown after the size table.
    pub(crate) breakdown: String,
    pub(crate) setup: Vec<(String, Duration)>,
    pub(crate) notes: Vec<String>,
    pub(crate) started: Instant,
    /// Where the databases are.
    pub(crate) databases: PathBuf,
}

impl Report {
    /// An empty report headed `# {title}`, its databases under `databases`.
    #[must_use]
    pub fn new(title: &'static str, databases: &Path) -> Self {
        Self {
            title,
            rates: false,
            intro: Vec::new(),
            rows: Vec::new(),
            sizes: Vec::new(),
            breakdown: String::new(),
            setup: Vec::new(),
            notes: Vec::new(),
            started: Instant::now(),
            databases: databases.to_path_buf(),
        }
    }

    /// The timings table gets `req/s` and `× req/s` columns.
    #[must_use]
    pub fn with_rates(mut self) -> Self {
        self.rates = true;
        self
    }

    /// A paragraph under the heading (and the machine line).
    pub fn intro(&mut self, text: impl Into<String>) {
        self.intro.push(text.into());
    }

    /// A note at the end.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    pub fn size(&mut self, size: Size) {
        self.sizes.push(size);
    }

    /// Markdown shown after the size table.
    pub fn breakdown(&mut self, md: String) {
        self.breakdown = md;
    }

    /// Records the samples of timing row `id`, compared with timing row `floor`.
    pub fn timing(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        samples: &[Duration],
        floor: Option<&'static str>,
    ) -> Stats {
        let s = stats(samples);
        self.push(
            id,
            what,
            Measure::Time {
                stats: s,
                rate: None,
            },
            floor,
        );
        s
    }

    /// Sets the request rate of the last timing row.
    pub fn rate(&mut self, per_second: f64) {
        if let Some(Measure::Time { rate, .. }) = self.rows.last_mut().map(|r| &mut r.measure) {
            *rate = Some(per_second);
        }
    }

    /// Records the peak RSS (KiB) of each run of memory row `id`, compared with memory row
    /// `floor`; returns the median.
    pub fn memory(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        runs: Vec<u64>,
        floor: Option<&'static str>,
    ) -> u64 {
        let median = median(&runs);
        self.push(id, what, Measure::Memory { runs }, floor);
        median
    }

    fn push(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        measure: Measure,
        floor: Option<&'static str>,
    ) {
        self.rows.push(Row {
            id,
            what: what.into(),
            measure,
            floor,
            goal: String::new(),
            met: None,
        });
    }

    /// Sets the goal of the last row and whether it was met.
    pub fn goal(&mut self, goal: impl Into<String>, met: bool) {
        if let Some(r) = self.rows.last_mut() {
            r.goal = goal.into();
            r.met = Some(met);
        }
    }

    /// Sets the goal of the last timing row: its median at most `times` × its floor's
    /// median. Answers that ratio; `None` (the goal not met) without a floor.
    pub fn goal_within(&mut self, goal: impl Into<String>, times: f64) -> Option<f64> {
        let ratio = self.rows.last().and_then(|r| match r.measure {
            Measure::Time { stats, .. } => {
                let floor = self.stats_of(r.floor?)?;
                Some(stats.p50.as_secs_f64() / floor.p50.as_secs_f64())
            }
            Measure::Memory { .. } => None,
        });
        self.goal(goal, ratio.is_some_and(|r| r <= times));
        ratio
    }

    /// The statistics of timing row `id`.
    #[must_use]
    pub fn stats_of(&self, id: &str) -> Option<Stats> {
        self.rows.iter().find_map(|r| match r.measure {
            Measure::Time { stats, .. } if r.id == id => Some(stats),
            _ => None,
        })
    }

    /// The request rate of timing row `id`.
    #[must_use]
    pub fn rate_of(&self, id: &str) -> Option<f64> {
        self.rows.iter().find_map(|r| match r.measure {
            Measure::Time { rate, .. } if r.id == id => rate,
            _ => None,
        })
    }

    /// The median peak RSS (KiB) of memory row `id`.
    #[must_use]
    pub fn memory_of(&self, id: &str) -> Option<u64> {
        self.rows.iter().find_map(|r| match &r.measure {
            Measure::Memory { runs } if r.id == id => Some(median(runs)),
            _ => None,
        })
    }

    /// Records an untimed setup step's duration.
    pub fn setup(&mut self, what: impl Into<String>, took: Duration) {
        let what = what.into();
        self.progress(&format!("{what}: {}", secs(took)));
        self.setup.push((what, took));
    }

    /// A line on stderr, stamped with the time since the start.
    pub fn progress(&self, msg: &str) {
        let t = self.started.elapsed().as_secs_f64();
        eprintln!("[{t:7.1} s] {msg}");
    }

    /// Prints `md` and writes it to `target/bench-{part}.md`, where `scripts/benchmarks.sh`
    /// gathers the reports.
    pub fn save(&self, part: &str, md: &str) -> Result<PathBuf> {
        println!("{md}");
        let out = target_dir().join(format!("bench-{part}.md"));
        std::fs::write(&out, md)?;
        self.progress(&format!("wrote {}", out.display()));
        Ok(out)
    }
}
