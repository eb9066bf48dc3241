//! The background hasher: the BLAKE3 `content_hash` of every live item's file.
//!
//! It never delays membership (SPEC §1): it runs on its own thread at a lower CPU priority,
//! works only while every watch is quiet (no reconcile under way, nothing handed to the
//! committer for a moment), a page of items at a time, and its results go through the
//! committer like any folder change — recorded only if the file still has the size and
//! mtime it was hashed at. A pass walks the store's unhashed items once; the next pass
//! starts when a watch reports new or changed files (or after [`REST`]), so a file that
//! cannot be read is retried then, not in a loop.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sheaf_core::ItemId;
use sheaf_core::rules::FolderChange;
use sheaf_store::Unhashed;

use super::{Shared, Status};

/// Items read from the store at once.
const PAGE: usize = 64;
/// How long the watches must have been quiet before hashing goes on.
const QUIET: Duration = Duration::from_millis(250);
/// The longest pause between passes without news from the watches.
const REST: Duration = Duration::from_secs(60);
/// Niceness of the hasher thread (Linux applies it to the calling thread only).
const NICE: i32 = 10;

/// How busy the watches are.
#[derive(Debug)]
pub(crate) struct Activity {
    last: Mutex<Instant>,
    scanning: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            last: Mutex::new(Instant::now()),
            scanning: AtomicUsize::new(0),
        }
    }
}

/// A reconcile under way, until dropped.
#[derive(Debug)]
pub(crate) struct Busy<'a>(&'a Activity);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.scanning.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

impl Activity {
    /// Changes were just handed over.
    pub(crate) fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    pub(crate) fn busy(&self) -> Busy<'_> {
        self.scanning.fetch_add(1, Ordering::AcqRel);
        Busy(self)
    }

    fn quiet(&self) -> bool {
        self.scanning.load(Ordering::Acquire) == 0
            && self
                .last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .elapsed()
                >= QUIET
    }
}

/// Wakes and stops the hasher.
#[derive(Debug, Default)]
pub(crate) struct Control {
    news: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Control {
    /// There are new or changed files.
    pub(crate) fn poke(&self) {
        *self.news.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_one();
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.poke();
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Sleeps for `d` unless stopped, keeping any news for the next [`Control::rest`].
    fn pause(&self, d: Duration) {
        let news = self.news.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .wake
            .wait_timeout_while(news, d, |_| !self.stopping())
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Sleeps until poked (or already poked since the last rest), stopped, or `at_most`
    /// has passed.
    fn rest(&self, at_most: Duration) {
        let news = self.news.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut news, _) = self
            .wake
            .wait_timeout_while(news, at_most, |n| !*n && !self.stopping())
            .unwrap_or_else(PoisonError::into_inner);
        *news = false;
    }
}

/// The hasher thread's loop; returns once stopped.
pub(crate) fn run(shared: &Shared) {
    let _ = rustix::process::setpriority_process(None, NICE);
    let status = Arc::new(Status::new());
    let control = &shared.hasher;
    let mut cursor: Option<ItemId> = None;
    let mut hashed = 0_u64;
    while !control.stopping() {
        if !shared.activity.quiet() {
            control.pause(QUIET);
            continue;
        }
        let page = match shared.store.unhashed(cursor, PAGE) {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "hasher: reading the store failed");
                control.pause(REST);
                continue;
            }
        };
        if page.is_empty() {
            if hashed > 0 {
                tracing::debug!(files = hashed, "hasher: pass done");
            }
            hashed = 0;
            cursor = None;
            // News that came during the pass starts the next one at once.
            control.rest(REST);
            continue;
        }
        let mut changes = Vec::with_capacity(page.len());
        for u in page {
            if control.stopping() || !shared.activity.quiet() {
                break;
            }
            cursor = Some(u.item);
            match hash_file(&u) {
                Ok(Some(hash)) => changes.push(FolderChange::Hashed {
                    item: u.item,
                    size: u.size,
                    mtime: u.mtime,
                    hash,
                }),
                // Changed since the store saw it: the watch updates it, then it is hashed.
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(file = %u.path, error = %e, "hasher: cannot read the file");
                }
            }
        }
        hashed += changes.len() as u64;
        if let Err(e) = shared.send(&status, changes, false) {
            tracing::warn!(error = %e, "hasher: results dropped");
        }
    }
}

/// The file's BLAKE3 (hex), if it still has the size and mtime the store knows; `None`
/// when it changed before or while it was read.
fn hash_file(u: &Unhashed) -> std::io::Result<Option<String>> {
    let mut file = std::fs::File::open(Path::new(&u.path))?;
    let unchanged = |file: &std::fs::File| -> std::io::Result<bool> {
        let meta = file.metadata()?;
        Ok(meta.is_file() && meta.len() == u.size && sheaf_watch::mtime_of(&meta) == u.mtime)
    };
    if !unchanged(&file)? {
        return Ok(None);
    }
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    if !unchanged(&file)? {
        return Ok(None);
    }
    Ok(Some(hasher.finalize().to_hex().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_that_comes_during_a_pause_is_kept_for_the_next_rest() {
        let control = Control::default();
        control.poke();
        control.pause(Duration::from_millis(1));
        let started = Instant::now();
        // With the news kept, this returns at once instead of resting a minute.
        control.rest(REST);
        assert!(started.elapsed() < REST / 2);
        assert!(!*control.news.lock().unwrap(), "the rest took the news");
    }

    #[test]
    fn a_file_that_changed_since_the_store_saw_it_is_not_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, b"content").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let known = Unhashed {
            item: ItemId::new(sheaf_core::Kind::Text, ulid::Ulid::nil()),
            path: path.to_str().unwrap().to_owned(),
            size: meta.len(),
            mtime: sheaf_watch::mtime_of(&meta),
        };
        let hash = hash_file(&known).unwrap();
        assert_eq!(hash, Some(blake3::hash(b"content").to_hex().to_string()));
        let stale = Unhashed {
            size: known.size + 1,
            ..known
        };
        assert_eq!(hash_file(&stale).unwrap(), None);
    }
}
