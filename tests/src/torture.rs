//! Repetition for the torture suites: each scenario runs `SHEAF_TORTURE_RUNS` times in a
//! row (default 1), prints each convergence's time, and ends with one summary line
//! (`SUMMARY <scenario>: runs, losses, worst convergence`). A run that panics, or that
//! recorded a problem with [`Run::defer`], is a loss; the remaining runs still go, and the
//! scenario fails at the end with the first loss's message.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// A whole number from the environment, if set and valid.
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// How many times each scenario runs: `SHEAF_TORTURE_RUNS`, default 1 (what CI runs).
pub fn runs() -> usize {
    env_u64("SHEAF_TORTURE_RUNS").map_or(1, |n| n.max(1) as usize)
}

/// The seed in `var`, or one from the clock; printed by the caller so a run can be replayed.
pub fn seed(var: &str) -> u64 {
    env_u64(var).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    })
}

/// One run of a scenario: its number and the convergences it waited for.
#[derive(Debug)]
pub struct Run {
    scenario: String,
    /// This run, from 0.
    pub index: usize,
    /// How many runs the scenario makes.
    pub runs: usize,
    converges: Vec<Duration>,
    deferred: Vec<String>,
}

impl Run {
    /// Records (and prints) how long a convergence took.
    pub fn converged(&mut self, what: &str, took: Duration) {
        println!(
            "[{} {}/{}] {what}: converged in {took:.2?}",
            self.scenario,
            self.index + 1,
            self.runs
        );
        self.converges.push(took);
    }

    /// A loss to report when the run ends (when it does not end with a panic first).
    pub fn defer(&mut self, problem: String) {
        println!(
            "[{} {}/{}] LOSS: {problem}",
            self.scenario,
            self.index + 1,
            self.runs
        );
        self.deferred.push(problem);
    }

    /// Prints a line about this run.
    pub fn note(&self, what: &str) {
        println!(
            "[{} {}/{}] {what}",
            self.scenario,
            self.index + 1,
            self.runs
        );
    }
}

/// Runs `body` [`runs()`] times, each a fresh [`Run`]; prints the summary line and panics
/// when any run did (a loss), naming the first.
pub fn torture(scenario: &str, mut body: impl FnMut(&mut Run)) {
    let runs = runs();
    let mut losses: Vec<(usize, String)> = Vec::new();
    let mut worst = Duration::ZERO;
    for index in 0..runs {
        let mut run = Run {
            scenario: scenario.to_owned(),
            index,
            runs,
            converges: Vec::new(),
            deferred: Vec::new(),
        };
        let result = catch_unwind(AssertUnwindSafe(|| body(&mut run)));
        worst = run.converges.iter().copied().fold(worst, Duration::max);
        match result {
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                losses.push((index + 1, message));
            }
            Ok(()) if !run.deferred.is_empty() => {
                losses.push((index + 1, run.deferred.join("\n")));
            }
            Ok(()) => {}
        }
    }
    println!(
        "SUMMARY {scenario}: runs {runs}, losses {}, worst convergence {worst:.2?}",
        losses.len()
    );
    if let Some((first, message)) = losses.first() {
        panic!(
            "{scenario}: {} of {runs} runs lost a change (runs {:?}); run {first}: {message}",
            losses.len(),
            losses.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
    }
}
