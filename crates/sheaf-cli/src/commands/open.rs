//! `sheaf open [DIR] [--collection C]`: the one-command start (SPEC §5). Four steps, one
//! function each: resolve the folder, make sure it is watched (reusing a watch of it),
//! wait until its scan is done, then [`present`] the collection. Presenting is the step the
//! terminal UI takes over; until then it prints what `collections show` and `ls` print.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use sheaf_client::{AddedWatch, Client};
use sheaf_proto::requests::{EntryListParams, WatchCreateBody};
use sheaf_proto::resources::{Collection, Watch};
use sheaf_proto::responses::EntryPage;

use super::{Out, collections, listing, watch};
use crate::args::OpenArgs;
use crate::exit::CliError;
use crate::inputs;
use crate::render::{self, Style};

/// How often the watch's state is read while its scan runs.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// The longest collection id.
const MAX_SLUG: usize = 128;

/// What a folder's name becomes when nothing of it is left as a slug.
const FALLBACK_SLUG: &str = "folder";

/// The progress line is kept to this many characters, so that it never wraps on an
/// 80-column terminal (a wrapped line cannot be rewritten in place).
const PROGRESS_WIDTH: usize = 79;

pub(super) async fn open(
    client: &Client,
    style: Style,
    out: &mut Out,
    args: OpenArgs,
) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let path = inputs::folder(&dir)?;
    let mut opened = ensure_watch(client, &path, args.collection).await?;
    opened.watch = wait_for_scan(client, &opened.watch, args.timeout.duration).await?;
    if opened.watch.state.starts_with("degraded") {
        eprintln!(
            "sheaf: note: the watch {} is {}",
            opened.watch.id, opened.watch.state
        );
    }
    // On a terminal the TUI presents the collection; scripts and `--json` get the text.
    if !style.json && std::io::stdout().is_terminal() {
        out.flush()?;
        let collection = opened.watch.collection.to_string();
        return super::tui::run(client, Some(collection), args.config_file.as_deref()).await;
    }
    present(client, style, out, &opened).await
}

/// The watch of `path` if there is one (into `collection`, when given), else a new one into
/// `collection` or, by default, into the slug of the folder's name (created if need be).
async fn ensure_watch(
    client: &Client,
    path: &str,
    collection: Option<String>,
) -> anyhow::Result<AddedWatch> {
    let existing = client.watches().await?.watches.into_iter().find(|w| {
        w.path == path
            && collection
                .as_deref()
                .is_none_or(|c| w.collection.as_str() == c)
    });
    if let Some(watch) = existing {
        return Ok(AddedWatch {
            watch,
            created: false,
        });
    }
    let collection = collection.unwrap_or_else(|| {
        slug(
            Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
        )
    });
    let body = WatchCreateBody {
        path: path.to_owned(),
        collection,
        ..WatchCreateBody::default()
    };
    Ok(client.add_watch(&body).await?)
}

/// Whether the watch's first full walk is over: it is no longer `scanning`, and it has
/// reconciled once (a new watch may report its steady state before its walk begins) or
/// is degraded (which may never reconcile).
fn scanned(w: &Watch) -> bool {
    w.state != "scanning" && (w.last_reconcile_at.is_some() || w.state.starts_with("degraded"))
}

/// Reads the watch every [`POLL_EVERY`] until [`scanned`]; gives up after `timeout`.
async fn wait_for_scan(client: &Client, watch: &Watch, timeout: Duration) -> anyhow::Result<Watch> {
    let started = Instant::now();
    let mut progress = Progress::on_terminal();
    loop {
        let now = client
            .watches()
            .await?
            .watches
            .into_iter()
            .find(|w| w.id == watch.id)
            .ok_or_else(|| CliError::WatchGone(watch.id.to_string()))?;
        if scanned(&now) {
            return Ok(now);
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(CliError::StillScanning {
                wid: now.id.to_string(),
                path: now.path,
                waited,
            }
            .into());
        }
        progress.show(progress_line(&now.path, now.files, waited));
        tokio::time::sleep(POLL_EVERY.min(timeout.saturating_sub(waited))).await;
    }
}

/// `--json` of `open`.
#[derive(Debug, Serialize)]
struct Opened<'a> {
    watch: &'a Watch,
    /// Whether this run added the watch.
    created: bool,
    collection: &'a Collection,
    /// The first page of entries, as `GET /v1/collections/{cid}/items` answers it.
    #[serde(flatten)]
    page: &'a EntryPage,
}

/// Shows the opened collection: the watch, the collection, its first page of entries (the
/// API's default page). The terminal UI replaces this step; everything before it only
/// makes sure the folder is watched and scanned.
async fn present(
    client: &Client,
    style: Style,
    out: &mut Out,
    opened: &AddedWatch,
) -> anyhow::Result<()> {
    let w = &opened.watch;
    let cid = w.collection.as_str();
    let collection = client.get_collection(cid).await?;
    let page = client
        .list_entries(cid, &EntryListParams::default())
        .await?;
    if style.json {
        return out.json(&Opened {
            watch: w,
            created: opened.created,
            collection: &collection,
            page: &page,
        });
    }
    out.line(&format!(
        "{} {} into {} as {} ({} · {} file{})",
        if opened.created {
            "watching"
        } else {
            "already watching"
        },
        w.path,
        w.collection,
        w.id,
        watch::state(style, w),
        w.files,
        if w.files == 1 { "" } else { "s" }
    ))?;
    out.line("")?;
    collections::show(style, out, &collection)?;
    out.line("")?;
    if page.entries.is_empty() {
        out.line(&format!("{cid}: no entries"))?;
        return Ok(());
    }
    out.line(&listing::ls_header(style, false))?;
    for e in &page.entries {
        out.line(&listing::ls_entry(e, false))?;
    }
    if page.next_cursor.is_some() {
        let more = collection
            .item_count
            .saturating_sub(page.entries.len() as u64);
        out.line(&style.dim(&format!("… and {more} more: sheaf ls {cid}")))?;
    }
    Ok(())
}

/// A collection id made from a folder's name: lower case; each run of characters outside
/// `[a-z0-9_.-]` becomes one `_`; leading characters that cannot start an id (`_ . -` and
/// such runs) and a trailing run are dropped; at most 128 characters. A name with nothing
/// left becomes `folder`, and the reserved `default` becomes `default_folder`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_SLUG));
    let mut gap = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        let allowed = c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-');
        if !allowed {
            gap = true;
            continue;
        }
        if out.is_empty() {
            if !c.is_ascii_alphanumeric() {
                continue;
            }
        } else if gap && c != '_' && !out.ends_with('_') {
            out.push('_');
        }
        gap = false;
        out.push(c);
    }
    // Only ASCII was pushed: cutting at a byte count cuts between characters.
    out.truncate(MAX_SLUG);
    match out.as_str() {
        "" => FALLBACK_SLUG.to_owned(),
        sheaf_core::CollectionId::DEFAULT => format!("{out}_{FALLBACK_SLUG}"),
        _ => out,
    }
}

/// `scanning /home/me/papers: 1234 files · 3s`, the path cut on the left to fit
/// [`PROGRESS_WIDTH`].
fn progress_line(path: &str, files: u64, waited: Duration) -> String {
    let tail = format!(
        ": {files} file{} · {}",
        if files == 1 { "" } else { "s" },
        render::duration(waited.as_secs())
    );
    let head = "scanning ";
    let room = PROGRESS_WIDTH.saturating_sub(head.len() + tail.chars().count());
    let count = path.chars().count();
    let shown = if count <= room {
        path.to_owned()
    } else {
        let skip = count - room.saturating_sub(1);
        format!("…{}", path.chars().skip(skip).collect::<String>())
    };
    format!("{head}{shown}{tail}")
}

/// The one progress line on stderr while `open` waits, rewritten in place; only when stderr
/// is a terminal (never in a pipe or a log). Cleared when dropped, on success or failure.
#[derive(Debug)]
struct Progress {
    enabled: bool,
    last: String,
}

impl Progress {
    fn on_terminal() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            last: String::new(),
        }
    }

    fn show(&mut self, text: String) {
        if !self.enabled || text == self.last {
            return;
        }
        let mut err = std::io::stderr().lock();
        // Progress is best-effort: a failed write to the terminal changes nothing.
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
        self.last = text;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if !self.last.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheaf_core::CollectionId;

    #[test]
    fn a_plain_name_is_lower_cased_and_spaces_become_underscores() {
        assert_eq!(slug("My Papers"), "my_papers");
        assert_eq!(slug("research_papers"), "research_papers");
        assert_eq!(slug("photos.2024-summer"), "photos.2024-summer");
        assert_eq!(slug("README"), "readme");
    }

    #[test]
    fn a_run_of_other_characters_becomes_one_underscore_and_a_trailing_run_goes() {
        assert_eq!(slug("Tax Returns (2024)"), "tax_returns_2024");
        assert_eq!(slug("a  &  b"), "a_b");
        assert_eq!(slug("Café Photos"), "caf_photos");
        assert_eq!(
            slug("a_ b"),
            "a_b",
            "no double underscore next to a kept one"
        );
        assert_eq!(slug("日本語 notes"), "notes");
    }

    #[test]
    fn an_id_starts_with_a_letter_or_digit() {
        assert_eq!(slug(".config"), "config");
        assert_eq!(slug("__init__"), "init__");
        assert_eq!(slug("-x"), "x");
        assert_eq!(slug("(draft) v2"), "draft_v2");
    }

    #[test]
    fn nothing_left_falls_back_and_default_is_not_taken() {
        assert_eq!(slug(""), "folder");
        assert_eq!(slug("..."), "folder");
        assert_eq!(slug("日本語"), "folder");
        assert_eq!(slug("Default"), "default_folder");
        assert_eq!(slug("default.d"), "default.d");
    }

    #[test]
    fn long_names_are_cut_to_128() {
        let s = slug(&"Ab ".repeat(100));
        assert_eq!(s.len(), 128);
        assert!(s.starts_with("ab_ab_"), "{s}");
    }

    #[test]
    fn every_slug_is_a_valid_collection_id() {
        let names = [
            "My Papers",
            "",
            "...",
            "-",
            "_",
            "default",
            "DEFAULT",
            "ÄÖÜ",
            "İstanbul",
            "a\u{0}b",
            "tab\there",
            "x".repeat(500).as_str(),
            &format!("é{}", "y".repeat(200)),
            "emoji 📁 folder",
            "Ünïcödé and ASCII",
        ]
        .map(str::to_owned);
        for name in names {
            let s = slug(&name);
            let id = CollectionId::parse(&s).unwrap_or_else(|e| panic!("{name:?} → {s:?}: {e}"));
            assert!(!id.is_default(), "{name:?}");
        }
    }

    #[test]
    fn the_progress_line_fits_and_keeps_the_end_of_the_path() {
        assert_eq!(
            progress_line("/home/me/papers", 1234, Duration::from_secs(3)),
            "scanning /home/me/papers: 1234 files · 3s"
        );
        assert_eq!(
            progress_line("/p", 1, Duration::from_millis(400)),
            "scanning /p: 1 file · 0s"
        );
        let long = format!("/home/me/{}papers", "deep/".repeat(30));
        let line = progress_line(&long, 7, Duration::from_secs(75));
        assert_eq!(line.chars().count(), PROGRESS_WIDTH, "{line}");
        assert!(line.starts_with("scanning …"), "{line}");
        assert!(line.ends_with("deep/papers: 7 files · 1m 15s"), "{line}");
    }

    fn watch(state: &str, reconciled: bool) -> Watch {
        serde_json::from_value(serde_json::json!({
            "id": "w_01JD3Q2X9K8M7N6P5R4S3T2V1W", "path": "/home/me/papers",
            "collection": "papers", "recursive": true, "include": [], "exclude": [],
            "poll": null, "from_config": false, "state": state, "files": 12,
            "last_reconcile_at": if reconciled { serde_json::json!("2026-01-02T03:04:05Z") } else { serde_json::Value::Null },
            "queue_depth": 0, "created_at": "2026-01-02T03:04:05Z"
        }))
        .unwrap()
    }

    #[test]
    fn the_wait_ends_when_the_first_walk_is_over() {
        assert!(!scanned(&watch("scanning", false)));
        assert!(!scanned(&watch("scanning", true)), "a rescan is a scan");
        assert!(
            !scanned(&watch("live", false)),
            "live before its first walk ended"
        );
        assert!(scanned(&watch("live", true)));
        assert!(scanned(&watch("polling", true)));
        assert!(scanned(&watch("degraded: watch limit reached", false)));
    }
}
