//! Folder sync (SPEC §3) helpers shared by the folder suites: watched folders, listings,
//! and the exact-mirror comparison — the live entries' paths are exactly the regular files a
//! fresh walk of the folder finds that the watch admits, no item is listed twice, no two
//! items share a path.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Daemon, wait_until};

/// How long a small change may take to show (a guard: the machine is slow and loaded).
pub const WAIT: Duration = Duration::from_secs(30);

/// A new folder `name` under the daemon's directory; answers its canonical path.
pub fn folder(d: &Daemon, name: &str) -> PathBuf {
    let root = d.dir.path().join(name);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::canonicalize(root).unwrap()
}

/// Writes a file, creating its parents.
pub fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Writes a shell script `body` to `path` and makes it executable; answers the path.
pub fn executable(path: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    write(path, body.as_bytes());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_owned()
}

/// A path as text (the temporary folders' paths are UTF-8).
pub fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `dirs` × `subdirs` folders `dNN/sNN` with `files` files `fNNNN.txt` each under `base`;
/// answers their paths.
pub fn make_tree(base: &Path, dirs: usize, subdirs: usize, files: usize) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(dirs * subdirs * files);
    for i in 0..dirs {
        for j in 0..subdirs {
            let dir = base.join(format!("d{i:02}/s{j:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            for k in 0..files {
                let p = dir.join(format!("f{k:04}.txt"));
                std::fs::write(&p, format!("{i} {j} {k}\n")).unwrap();
                out.push(p);
            }
        }
    }
    out
}

/// `POST /v1/watches` for `root` into `collection`; asserts 201 and answers the watch id.
pub fn add_watch(d: &Daemon, root: &Path, collection: &str) -> String {
    let (s, w) = d.send(
        "POST",
        "/v1/watches",
        &json!({ "path": root, "collection": collection }),
    );
    assert_eq!(s, 201, "{w}");
    assert_eq!(w["path"], text(root), "{w}");
    assert_eq!(w["collection"], collection, "{w}");
    w["id"].as_str().unwrap().to_owned()
}

/// Every watch `GET /v1/watches` lists.
pub fn watches(d: &Daemon) -> Vec<Value> {
    let (s, list) = d.get("/v1/watches");
    assert_eq!(s, 200, "{list}");
    list["watches"].as_array().unwrap().clone()
}

/// The watch as `GET /v1/watches` lists it.
pub fn watch(d: &Daemon, wid: &str) -> Value {
    let list = watches(d);
    list.iter()
        .find(|w| w["id"] == wid)
        .unwrap_or_else(|| panic!("{wid} is not listed: {list:?}"))
        .clone()
}

/// Waits until the watch is `live` (its first reconcile finished); answers it.
pub fn wait_live(d: &Daemon, wid: &str) -> Value {
    let mut last = Value::Null;
    let live = wait_until(WAIT, || {
        last = watch(d, wid);
        last["state"] == "live"
    });
    assert!(live, "the watch never became live: {last}");
    last
}

/// Adds a watch and waits until it is live; answers its id.
pub fn watched(d: &Daemon, root: &Path, collection: &str) -> String {
    let wid = add_watch(d, root, collection);
    wait_live(d, &wid);
    wid
}

/// Every entry of a collection, soft-deleted ones included.
pub fn all_entries_with_deleted(d: &Daemon, collection: &str) -> Vec<Value> {
    d.pages(&format!(
        "/v1/collections/{collection}/items?limit=1000&deleted=true"
    ))
    .iter()
    .flat_map(|page| page["entries"].as_array().unwrap().clone())
    .collect()
}

/// The collection's entry (live or soft-deleted) of `item`, if any.
pub fn entry_of(d: &Daemon, collection: &str, item: &str) -> Option<Value> {
    all_entries_with_deleted(d, collection)
        .into_iter()
        .find(|e| e["item_id"] == item)
}

/// The live entry whose item is at `path`, if any.
pub fn live_entry_at(d: &Daemon, collection: &str, path: &Path) -> Option<Value> {
    d.all_entries(collection, 1000)
        .into_iter()
        .find(|e| e["item"]["path"] == text(path))
}

/// Waits until a live entry of `collection` is at `path`; answers it.
pub fn wait_entry_at(d: &Daemon, collection: &str, path: &Path) -> Value {
    let mut found = None;
    let ok = wait_until(WAIT, || {
        found = live_entry_at(d, collection, path);
        found.is_some()
    });
    assert!(
        ok,
        "no live entry at {} in {collection}: {:#?}",
        path.display(),
        d.all_entries(collection, 1000)
    );
    found.unwrap()
}

/// `GET /v1/items/{id}`.
pub fn item(d: &Daemon, id: &str) -> Value {
    let (s, body) = d.get(&format!("/v1/items/{id}"));
    assert_eq!(s, 200, "{body}");
    body
}

/// The live entries of a collection as item path → item id (a path listed twice keeps the
/// last; [`mirror_diff`] is what checks that none is).
pub fn live_ids(d: &Daemon, collection: &str) -> BTreeMap<String, String> {
    d.all_entries(collection, 1000)
        .iter()
        .filter_map(|e| {
            let path = e["item"]["path"].as_str()?;
            Some((path.to_owned(), e["item_id"].as_str()?.to_owned()))
        })
        .collect()
}

/// Percent-encodes a query value (paths of temporary folders are plain, but be safe).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every live item whose path is under `root`.
pub fn live_items_under(d: &Daemon, root: &Path) -> Vec<Value> {
    let prefix = encode(&format!("{}/", text(root)));
    d.pages(&format!("/v1/items?limit=1000&path_prefix={prefix}"))
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap().clone())
        .collect()
}

/// The fixed rules of SPEC §3: version-control folders (`.git/`, `.hg/`, `.svn/`) and
/// temporary files (`*.part`, `*.crdownload`, `*.swp`, `*~`, `.#*`, `.DS_Store`) are left out.
pub fn default_admits(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let name = parts.pop().unwrap();
    let temp = [".part", ".crdownload", ".swp"]
        .iter()
        .any(|ext| name.to_ascii_lowercase().ends_with(ext))
        || name.ends_with('~')
        || name.starts_with(".#")
        || name == ".DS_Store";
    !temp && !parts.iter().any(|p| [".git", ".hg", ".svn"].contains(p))
}

/// The regular files under `root` (symbolic links not followed, unreadable folders skipped)
/// that the default rules and `admits` (given the path relative to `root`) accept, as
/// absolute paths.
pub fn disk_files(root: &Path, admits: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                if default_admits(rel) && admits(rel) {
                    out.insert(text(&path).to_owned());
                }
            }
        }
    }
    out
}

/// A watch without include, exclude or ignore files admits every file the default rules do.
pub fn every_file(_: &str) -> bool {
    true
}

/// How many of the paths in a difference a message names.
const EXAMPLES: usize = 10;

/// Compares the collection with `disk`: the live entries' item paths are exactly `disk`, no
/// item has two live entries, no two items share a path, and the live items under `root` are
/// exactly `disk` too (no stale path left on an item whose file is gone).
pub fn mirror_diff(
    d: &Daemon,
    collection: &str,
    root: &Path,
    disk: &BTreeSet<String>,
) -> Result<(), String> {
    let mut problems = Vec::new();
    let entries = d.all_entries(collection, 1000);
    let mut items: HashMap<String, usize> = HashMap::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for e in &entries {
        let id = e["item_id"].as_str().unwrap().to_owned();
        *items.entry(id.clone()).or_default() += 1;
        match e["item"]["path"].as_str() {
            None => problems.push(format!("live entry without a path: {e}")),
            Some(p) => {
                if let Some(other) = paths.insert(p.to_owned(), id.clone())
                    && other != id
                {
                    problems.push(format!("{p} is the path of {other} and {id}"));
                }
            }
        }
    }
    let twice: Vec<_> = items.iter().filter(|(_, n)| **n > 1).collect();
    if !twice.is_empty() {
        problems.push(format!("items with several live entries: {twice:?}"));
    }
    let missing: Vec<&String> = disk.iter().filter(|p| !paths.contains_key(*p)).collect();
    let extra: Vec<String> = paths
        .iter()
        .filter(|(p, _)| !disk.contains(*p))
        .map(|(p, id)| format!("{p} ({id})"))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        problems.push(format!(
            "{} entries for {} files: {} missing (e.g. {:?}), {} extra (e.g. {:?})",
            entries.len(),
            disk.len(),
            missing.len(),
            &missing[..missing.len().min(EXAMPLES)],
            extra.len(),
            &extra[..extra.len().min(EXAMPLES)],
        ));
    }
    let mut item_paths: BTreeMap<String, String> = BTreeMap::new();
    for i in live_items_under(d, root) {
        let id = i["id"].as_str().unwrap().to_owned();
        let Some(p) = i["path"].as_str() else {
            problems.push(format!("a live item without a path: {i}"));
            continue;
        };
        if let Some(other) = item_paths.insert(p.to_owned(), id.clone()) {
            problems.push(format!("items {other} and {id} share the path {p}"));
        }
    }
    let stale: Vec<_> = item_paths
        .iter()
        .filter(|(p, _)| !disk.contains(*p))
        .map(|(p, id)| format!("{p} ({id})"))
        .collect();
    if !stale.is_empty() {
        problems.push(format!(
            "{} live items whose path is not a watched file (e.g. {:?})",
            stale.len(),
            &stale[..stale.len().min(EXAMPLES)]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Waits until `collection` equals the folder: the live entries are exactly the files a
/// fresh walk of `root` admits (see [`mirror_diff`]). Answers those files and how long it
/// took, or, after `timeout`, the differences.
pub fn try_converge(
    d: &Daemon,
    collection: &str,
    root: &Path,
    admits: &dyn Fn(&str) -> bool,
    timeout: Duration,
) -> Result<(BTreeSet<String>, Duration), String> {
    let start = Instant::now();
    // The test has finished changing the folder: walk it once.
    let disk = disk_files(root, admits);
    let mut last = String::new();
    let ok = wait_until(timeout, || {
        // The O(1) count first, the full comparison once it agrees.
        let (s, c) = d.get(&format!("/v1/collections/{collection}"));
        if s != 200 || c["item_count"].as_u64() != Some(disk.len() as u64) {
            last = format!("item_count {} for {} files", c["item_count"], disk.len());
            return false;
        }
        match mirror_diff(d, collection, root, &disk) {
            Ok(()) => true,
            Err(e) => {
                last = e;
                false
            }
        }
    });
    if ok {
        return Ok((disk, start.elapsed()));
    }
    let full = mirror_diff(d, collection, root, &disk)
        .err()
        .unwrap_or_default();
    Err(format!(
        "{collection} never came to mirror {} within {timeout:?}: {last}\nnow: {full}",
        root.display()
    ))
}

/// [`try_converge`] that panics with the differences; answers the files.
pub fn converge(
    d: &Daemon,
    collection: &str,
    root: &Path,
    admits: &dyn Fn(&str) -> bool,
    timeout: Duration,
) -> BTreeSet<String> {
    try_converge(d, collection, root, admits, timeout)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

/// What the identity rules of SPEC §3 promise after known changes: which item each path
/// holds now (the id it had before a rename, a move, an atomic save or a return), and which
/// items are gone (their files deleted or moved out: soft-deleted, no path).
#[derive(Debug, Default)]
pub struct Identity {
    /// Path now → the item id it must have.
    pub at: BTreeMap<String, String>,
    /// Item ids that must be soft-deleted.
    pub gone: BTreeSet<String>,
}

/// Compares the collection of the watch of `root` with what `expect` promises: each path
/// in `expect.at` is the path of a live entry of that item; each item of `expect.gone` has
/// no live entry there, its entry is soft-deleted, and the item has no path and a
/// `deleted_at`.
pub fn identity_diff(
    d: &Daemon,
    collection: &str,
    root: &Path,
    expect: &Identity,
) -> Result<(), String> {
    let live = live_ids(d, collection);
    let changed: Vec<(&String, &String)> = expect
        .at
        .iter()
        .filter(|(path, id)| live.get(*path) != Some(*id))
        .collect();
    let live_items: HashMap<&String, &String> = live.iter().map(|(p, id)| (id, p)).collect();
    let dead_entries: BTreeSet<String> = all_entries_with_deleted(d, collection)
        .into_iter()
        .filter(|e| !e["deleted_at"].is_null())
        .map(|e| e["item_id"].as_str().unwrap().to_owned())
        .collect();
    // The items under the root, gone ones too (listed at their last path), in one listing;
    // one whose last path another item holds now is asked for by id.
    let prefix = encode(&format!("{}/", text(root)));
    let mut items: HashMap<String, Value> = d
        .pages(&format!(
            "/v1/items?limit=1000&deleted=true&path_prefix={prefix}"
        ))
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap().clone())
        .map(|i| (i["id"].as_str().unwrap().to_owned(), i))
        .collect();
    let mut not_gone = Vec::new();
    for id in &expect.gone {
        if let Some(path) = live_items.get(id) {
            not_gone.push(format!("{id} is live at {path}"));
            continue;
        }
        if !dead_entries.contains(id) {
            not_gone.push(format!("{id} has no entry, live or soft-deleted"));
            continue;
        }
        let i = items.remove(id).unwrap_or_else(|| item(d, id));
        if !i["path"].is_null() || i["deleted_at"].is_null() {
            not_gone.push(format!(
                "{id}: its entry is soft-deleted, the item is not: {i}"
            ));
        }
    }
    let mut problems = Vec::new();
    if !changed.is_empty() {
        // Where the items that should be there went.
        let examples: Vec<String> = changed
            .iter()
            .take(EXAMPLES)
            .map(|(path, id)| {
                let i = item(d, id);
                format!(
                    "{path}: was {id} (now path {}, last_path {}, deleted_at {}), is {}",
                    i["path"],
                    i["last_path"],
                    i["deleted_at"],
                    live.get(*path).map_or("nothing", String::as_str)
                )
            })
            .collect();
        problems.push(format!(
            "{} of {} paths do not hold the item they should (e.g. {examples:#?})",
            changed.len(),
            expect.at.len(),
        ));
    }
    if !not_gone.is_empty() {
        problems.push(format!(
            "{} of {} items whose file is gone are not soft-deleted (e.g. {:?})",
            not_gone.len(),
            expect.gone.len(),
            &not_gone[..not_gone.len().min(EXAMPLES)]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Compares each live entry's item size with its file's size on disk.
pub fn size_diff(d: &Daemon, collection: &str) -> Result<(), String> {
    let mut wrong = Vec::new();
    let entries = d.all_entries(collection, 1000);
    for e in &entries {
        let Some(path) = e["item"]["path"].as_str() else {
            continue;
        };
        let disk = std::fs::metadata(path).map(|m| m.len()).ok();
        if e["item"]["size"].as_u64() != disk {
            wrong.push(format!(
                "{path}: {} on disk, {} listed",
                disk.map_or_else(|| "none".into(), |n| n.to_string()),
                e["item"]["size"]
            ));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} entries do not have their file's size (e.g. {:?})",
            wrong.len(),
            entries.len(),
            &wrong[..wrong.len().min(EXAMPLES)]
        ))
    }
}
