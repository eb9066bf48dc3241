//! How durations and sizes read in the reports.

use std::time::Duration;

/// A latency: µs below a millisecond, ms below ten seconds, else seconds.
#[must_use]
pub fn dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 10_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A setup step's time: whole ms below a second, else seconds.
#[must_use]
pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Always in milliseconds, two decimals.
#[must_use]
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A size in bytes, in MiB.
#[must_use]
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// A size in KiB (as `/proc` gives resident sets), in MiB.
#[must_use]
pub fn kib(k: u64) -> String {
    format!("{:.1} MiB", k as f64 / 1024.0)
}
