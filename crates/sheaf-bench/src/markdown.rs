//! A [`Report`] as Markdown: the full layout of the store's and the daemon's benchmarks
//! (timings, sizes, memory, setup, notes) or the one-table summary of the TUI's.

use std::fmt::Write as _;

use crate::machine::machine;
use crate::report::{Measure, Report, Row, median};
use crate::{dur, kib, mib, ms, secs};

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "",
    }
}

/// `{x:.2}×`, or `—` without a floor.
fn times(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{x:.2}×"))
}

impl Report {
    /// The heading, the machine line and the intro; a table of the timings (ratios to
    /// their floors, rates if [`Report::with_rates`]), of the database sizes and of the
    /// memory rows where there are any; the setup times and the notes.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n", self.title);
        let _ = writeln!(md, "{}\n", machine(&self.databases));
        for p in &self.intro {
            let _ = writeln!(md, "{p}\n");
        }
        self.timings_table(&mut md);
        if !self.sizes.is_empty() || !self.breakdown.is_empty() {
            self.sizes_table(&mut md);
        }
        if self
            .rows
            .iter()
            .any(|r| matches!(r.measure, Measure::Memory { .. }))
        {
            self.memory_table(&mut md);
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

    fn timings_table(&self, md: &mut String) {
        let _ = writeln!(md, "## Timings\n");
        if self.rates {
            let _ = writeln!(
                md,
                "| id | measurement | n | median | p99 | req/s | vs | × median | × p99 | × req/s | goal | met |"
            );
            let _ = writeln!(md, "|---|---|--:|--:|--:|--:|---|--:|--:|--:|---|---|");
        } else {
            let _ = writeln!(
                md,
                "| id | measurement | n | median | p99 | vs | × median | × p99 | goal | met |"
            );
            let _ = writeln!(md, "|---|---|--:|--:|--:|---|--:|--:|---|---|");
        }
        for r in &self.rows {
            let Measure::Time { stats: s, rate } = r.measure else {
                continue;
            };
            let (vs, r50, r99) = match r.floor.zip(r.floor.and_then(|f| self.stats_of(f))) {
                Some((floor, f)) => (
                    floor,
                    times(Some(s.p50.as_secs_f64() / f.p50.as_secs_f64())),
                    times(Some(s.p99.as_secs_f64() / f.p99.as_secs_f64())),
                ),
                None => ("—", "1.00×".to_owned(), "1.00×".to_owned()),
            };
            let (id, what, n, p50, p99) = (r.id, &r.what, s.n, dur(s.p50), dur(s.p99));
            let (goal, met) = (&r.goal, met(r.met));
            if self.rates {
                let per_second = rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.0}"));
                let rate_ratio = match (rate, r.floor.and_then(|f| self.rate_of(f))) {
                    (Some(x), Some(f)) => times(Some(x / f)),
                    (Some(_), None) => "1.00×".to_owned(),
                    _ => times(None),
                };
                let _ = writeln!(
                    md,
                    "| {id} | {what} | {n} | {p50} | {p99} | {per_second} | {vs} | {r50} | {r99} | {rate_ratio} | {goal} | {met} |"
                );
            } else {
                let _ = writeln!(
                    md,
                    "| {id} | {what} | {n} | {p50} | {p99} | {vs} | {r50} | {r99} | {goal} | {met} |"
                );
            }
        }
        let also = if self.rates {
            "at the median, at p99 and in requests per second"
        } else {
            "at the median and at p99"
        };
        let _ = writeln!(
            md,
            "\n`vs` names the row a measurement is compared with (its floor); `×` is the \
             ratio to it, {also}. Rows without `vs` are floors.\n"
        );
    }

    fn sizes_table(&self, md: &mut String) {
        let _ = writeln!(md, "## Database size\n");
        let _ = writeln!(
            md,
            "| database | rows | file size | bytes per row | × floor |"
        );
        let _ = writeln!(md, "|---|--:|--:|--:|--:|");
        for s in &self.sizes {
            let per = s.bytes as f64 / s.count.max(1) as f64;
            let ratio = times(s.floor.map(|f| s.bytes as f64 / f.max(1) as f64));
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
        md.push('\n');
    }

    fn memory_table(&self, md: &mut String) {
        let _ = writeln!(md, "## Memory (resident set, KiB)\n");
        let _ = writeln!(
            md,
            "| id | measurement | runs | median peak RSS | max | vs | × median | goal | met |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|---|--:|---|---|");
        for r in &self.rows {
            let Measure::Memory { runs } = &r.measure else {
                continue;
            };
            let median = median(runs);
            let max = runs.iter().copied().max().unwrap_or(0);
            let (vs, ratio) = match r.floor.zip(r.floor.and_then(|f| self.memory_of(f))) {
                Some((floor, f)) => (floor, times(Some(median as f64 / f.max(1) as f64))),
                None => ("—", "1.00×".to_owned()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {vs} | {ratio} | {} | {} |",
                r.id,
                r.what,
                runs.len(),
                kib(median),
                kib(max),
                r.goal,
                met(r.met),
            );
        }
        let _ = writeln!(
            md,
            "\nPeak RSS is the kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`), \
             read every millisecond while the process runs, or once after a run when the \
             row says the mark was reset before it.\n"
        );
    }

    /// The heading and the intro, one table of every row — timings in ms (median and
    /// p99), memory rows in MiB (median and max) — and the notes as paragraphs.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut md = format!("# {}\n\n", self.title);
        for p in &self.intro {
            let _ = writeln!(md, "{p}\n");
        }
        let _ = writeln!(
            md,
            "| benchmark | median | p99 (max for RSS/walk) | goal | met |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|");
        for Row {
            what,
            measure,
            goal,
            met: m,
            ..
        } in &self.rows
        {
            let (p50, p99) = match measure {
                Measure::Time { stats, .. } => (ms(stats.p50), ms(stats.p99)),
                Measure::Memory { runs } => (
                    kib(median(runs)),
                    kib(runs.iter().copied().max().unwrap_or(0)),
                ),
            };
            let goal = if goal.is_empty() { "—" } else { goal };
            let m = if m.is_some() { met(*m) } else { "—" };
            let _ = writeln!(md, "| {what} | {p50} | {p99} | {goal} | {m} |");
        }
        for n in &self.notes {
            let _ = writeln!(md, "\n{n}");
        }
        md
    }
}
