//! Words for people: error codes in plain language, summaries of operations, counts and
//! sizes as they read best in a narrow column.

use crate::action::{Done, Failure, Verb};

/// `1234567` → `1,234,567`.
#[must_use]
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in at most 7 characters: `912 B`, `1.2 KiB`, `34 MiB`.
#[must_use]
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// What an error code means for the person who pressed the key. Every refusal leaves the
/// store as it was, which the caller adds.
#[must_use]
pub fn meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "COLLECTION_ARCHIVED" => "the collection is archived, so its membership is read-only",
        "COLLECTION_IS_SMART" => "the collection is smart: its query decides what is in it",
        "COLLECTION_TRASHED" => "the collection is in the trash",
        "COLLECTION_NOT_FOUND" => "the collection does not exist (any more)",
        "COLLECTION_EXISTS" => "a collection with that id exists already",
        "NOT_IN_SOURCE" => "some of these items are no longer in this collection",
        "ENTRY_MANAGED_BY_FOLDER" => {
            "some of these entries belong to a watched folder, which decides them"
        }
        "NO_TARGET_FOLDER" => "the target needs exactly one watched folder to move files into",
        "ITEM_NOT_ALLOWED" => "the target collection does not accept some of these kinds",
        "ITEM_DELETED" => "some of these files are gone from disk",
        "ITEMS_NOT_FOUND" => "some of these items no longer exist",
        "ENTRY_NOT_FOUND" => "some of these entries no longer exist",
        "ALREADY_IN_COLLECTION" => "it is in that collection already",
        "UNIQUE_ID_CONFLICT" => "another entry of the collection has that unique id",
        "BATCH_SIZE_EXCEEDED" => "that is more items than one batch may hold",
        "UNDO_CONFLICT" => "later changes touched the same entries, so it cannot be undone",
        "OP_NOT_FOUND" => "that operation is no longer in the log",
        "INSUFFICIENT_PERMISSIONS" => "this user may only read",
        "RATE_LIMITED" => "the daemon asks to slow down; try again in a moment",
        "SHUTTING_DOWN" => "the daemon is shutting down",
        "STORAGE_ERROR" | "INTERNAL" => "the daemon's storage failed (see its log)",
        _ => return None,
    })
}

/// A failure as one line: `move refused: <meaning> — nothing changed`.
#[must_use]
pub fn failure(what: &str, f: &Failure) -> String {
    if f.unreachable {
        return format!("{what} failed: the daemon is not reachable ({})", f.message);
    }
    match f.code.as_deref() {
        Some("VALIDATION_ERROR" | "INVALID_ID") => {
            format!("{what} refused: {} — nothing changed", f.message)
        }
        Some(code) => match meaning(code) {
            Some(words) => format!("{what} refused: {words} — nothing changed"),
            None => format!("{what} refused: {} ({code}) — nothing changed", f.message),
        },
        None => format!("{what} failed: {}", f.message),
    }
}

fn already(n: u64, words: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" · {} {words}", count(n))
    }
}

/// The line shown after an operation: `moved 312 to papers · 4 already there`.
#[must_use]
pub fn summary(done: &Done) -> String {
    match done {
        Done::Batch(verb, r) => {
            let s = &r.summary;
            match verb {
                Verb::Move => format!(
                    "moved {} to {}{}",
                    count(s.added),
                    r.collection_id,
                    already(s.already_in_collection, "already there")
                ),
                Verb::Link => format!(
                    "linked {} to {}{}",
                    count(s.added),
                    r.collection_id,
                    already(s.already_in_collection, "already there")
                ),
                Verb::RemoveAll => format!("removed {}", count(s.moved)),
            }
        }
        Done::Removed(r) => format!(
            "removed {} from {}{}",
            count(r.summary.removed),
            r.collection_id,
            already(r.summary.already_removed, "already removed")
        ),
        Done::Undone(u) => format!("undid {} · {} restored", u.undone, count(u.restored)),
        Done::NothingToUndo => "nothing to undo".to_owned(),
        Done::Created(c) => format!("created {}", c.id),
        Done::Renamed(c) => format!("renamed {} to {:?}", c.id, c.name),
        Done::EntryChanged(e) => format!("updated {}", e.display_name),
        Done::ItemChanged(i) => format!("updated {}", i.original_filename),
    }
}

/// What a verb is called in messages.
#[must_use]
pub fn verb(v: Verb) -> &'static str {
    match v {
        Verb::Move => "move",
        Verb::Link => "link",
        Verb::RemoveAll => "remove",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes_fit_a_narrow_column() {
        assert_eq!(size(912), "912 B");
        assert_eq!(size(1250), "1.2 KiB");
        assert_eq!(size(35 << 20), "35 MiB");
    }

    #[test]
    fn a_refusal_reads_as_its_meaning_and_says_nothing_changed() {
        let f = Failure {
            code: Some("COLLECTION_ARCHIVED".into()),
            message: "collection papers is archived".into(),
            unreachable: false,
        };
        assert_eq!(
            failure("move", &f),
            "move refused: the collection is archived, so its membership is read-only — nothing changed"
        );
    }
}
