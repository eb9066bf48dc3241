//! Nearest-rank percentiles of a set of samples.

use std::time::Duration;

use crate::dur;

/// The median and p99 of a set of samples.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub n: usize,
    pub p50: Duration,
    pub p99: Duration,
}

/// The nearest-rank `q` percentile (`0.5`: the median, `1.0`: the largest) of `sorted`;
/// `T::default()` when there are none.
#[must_use]
pub fn percentile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// The median and p99 of `samples`.
#[must_use]
pub fn stats(samples: &[Duration]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_unstable();
    Stats {
        n: s.len(),
        p50: percentile(&s, 0.5),
        p99: percentile(&s, 0.99),
    }
}

/// `{median of the first k samples} → {median of the last k}`: whether a measurement
/// drifted over the run (as a collection grew, say).
#[must_use]
pub fn trend(samples: &[Duration], k: usize) -> String {
    let k = k.min(samples.len());
    let (early, late) = (stats(&samples[..k]), stats(&samples[samples.len() - k..]));
    format!("{} → {}", dur(early.p50), dur(late.p50))
}
