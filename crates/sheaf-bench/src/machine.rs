//! What `/proc` says: the machine line of a report (cores, memory, CPU, date, the file
//! system of the databases) and a process's memory.

use std::path::Path;
use std::time::SystemTime;

/// Cores, memory, CPU, date, and where the databases are.
pub(crate) fn machine(databases: &Path) -> String {
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

/// A `kB` line (`VmHWM:`, `VmRSS:`) of a process's status file (`/proc/<pid>/status`,
/// `/proc/self/status`), in KiB; `None` once the process is gone.
#[must_use]
pub fn status_kib(status: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A `kB` line of process `pid`'s status file, in KiB; `None` once it is gone.
#[must_use]
pub fn process_kib(pid: u32, key: &str) -> Option<u64> {
    status_kib(Path::new(&format!("/proc/{pid}/status")), key)
}

/// Resets process `pid`'s resident-set high-water mark (`VmHWM`) to its current resident
/// set (`5` to `/proc/<pid>/clear_refs`, Linux 4.0 on; a process of the same user), so
/// that the next reading is the peak of what ran since.
pub fn reset_peak(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}
