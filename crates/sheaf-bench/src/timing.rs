//! Taking the samples: one closure timed, and rounds of several interleaved.

use std::time::{Duration, Instant};

use crate::Result;

/// Runs the closures of one round in an order rotated by `round`, so that none of them
/// always runs first (right after the others' fsyncs or cache misses).
pub fn interleave<const N: usize>(
    round: usize,
    runs: &mut [&mut dyn FnMut() -> Result<Duration>; N],
    out: &mut [Vec<Duration>; N],
) -> Result<()> {
    for k in 0..N {
        let i = (round + k) % N;
        out[i].push(runs[i]()?);
    }
    Ok(())
}

/// `f`'s answer and how long it took.
pub fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(Duration, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed(), v))
}

/// As [`interleave`], but the samples of the first `warmup` rounds are dropped; answers
/// whether this round's were kept.
pub fn interleave_warm<const N: usize>(
    warmup: usize,
    round: usize,
    runs: &mut [&mut dyn FnMut() -> Result<Duration>; N],
    out: &mut [Vec<Duration>; N],
) -> Result<bool> {
    if round >= warmup {
        interleave(round, runs, out)?;
        return Ok(true);
    }
    interleave(round, runs, &mut std::array::from_fn(|_| Vec::new()))?;
    Ok(false)
}
