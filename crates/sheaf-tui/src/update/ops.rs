//! Marks and operations: what is acted on (the marks, else the row under the cursor), the
//! collection picker, prompts, and the confirm step in front of large or destructive
//! batches. Each operation ends in one effect: one API call.

use sheaf_core::{CollectionId, ItemId, MetaValue, MetadataPatch};
use sheaf_proto::requests::{BatchAddBody, BatchMode, ItemRef, Select};

use crate::action::{Effect, Input, Verb};
use crate::app::{App, Confirm, Message, Overlay, Pane, PickFor, Picker, Prompt, PromptFor};
use crate::marks::Marks;
use crate::plain::count;
use crate::{fuzzy, update};

/// What an operation acts on.
enum Targets {
    /// These items.
    Ids(Vec<ItemId>),
    /// Everything matching (a `select`).
    All(Option<String>),
}

fn info(app: &mut App, text: impl Into<String>) -> Vec<Effect> {
    app.message = Some(Message::Info(text.into()));
    Vec::new()
}

fn error(app: &mut App, text: impl Into<String>) -> Vec<Effect> {
    app.message = Some(Message::Error(text.into()));
    Vec::new()
}

pub(super) fn mark(app: &mut App) -> Vec<Effect> {
    if app.focus == Pane::Collections {
        return info(app, "marks are for entries: press tab to go to them");
    }
    let Some(id) = app.entry_under_cursor().map(|e| e.item_id) else {
        return Vec::new();
    };
    if !app.marks.toggle(id) {
        return info(
            app,
            "everything matching is marked: press * to clear that first",
        );
    }
    update::follow_cursor(app);
    let last = app.pages.len().saturating_sub(1);
    app.cursor = (app.cursor + 1).min(last);
    update::follow_cursor(app)
}

pub(super) fn range_mark(app: &mut App) -> Vec<Effect> {
    if app.focus == Pane::Collections {
        return info(app, "marks are for entries: press tab to go to them");
    }
    let Some(from) = app.range_from.take() else {
        app.range_from = Some(app.cursor);
        return info(
            app,
            format!(
                "range mark from row {}: move, then press v again",
                count(app.cursor as u64 + 1)
            ),
        );
    };
    let (a, b) = (from.min(app.cursor), from.max(app.cursor));
    let ids: Vec<ItemId> = app
        .pages
        .loaded_rows(a, b)
        .map(|(_, e)| e.item_id)
        .collect();
    let missing = b - a + 1 - ids.len();
    let n = ids.len();
    if !app.marks.extend(ids) {
        return info(
            app,
            "everything matching is marked: press * to clear that first",
        );
    }
    if missing > 0 {
        info(
            app,
            format!(
                "marked {}; {} rows of the range are not loaded (use * to mark everything matching)",
                count(n as u64),
                count(missing as u64)
            ),
        )
    } else {
        info(app, format!("marked {} rows", count(n as u64)))
    }
}

pub(super) fn mark_all(app: &mut App) -> Vec<Effect> {
    if matches!(app.marks, Marks::All { .. }) {
        app.marks = Marks::default();
        return info(app, "marks cleared");
    }
    if app.pages.collection().is_none() {
        return Vec::new();
    }
    let q = app.pages.query().map(str::to_owned);
    let text = match (&q, all_count(app, q.as_deref())) {
        (None, Some(n)) => format!("marked all {} entries", count(n)),
        (Some(q), Some(n)) => format!("marked all {} entries matching {q:?}", count(n)),
        (Some(q), None) => format!("marked every entry matching {q:?}"),
        (None, None) => "marked every entry".to_owned(),
    };
    app.marks = Marks::All { q };
    info(app, text)
}

/// How many entries "everything matching `q`" is, when known.
fn all_count(app: &App, q: Option<&str>) -> Option<u64> {
    match q {
        None => app.open().map(|c| c.item_count),
        Some(q) if app.pages.query() == Some(q) && app.pages.is_exact() => {
            Some(app.pages.len() as u64)
        }
        Some(_) => None,
    }
}

/// The marks, else the row under the cursor; `Err` with the reason when there is nothing
/// to act on or too much for one call.
fn targets(app: &App) -> Result<(Targets, Option<u64>), String> {
    match &app.marks {
        Marks::All { q } => Ok((Targets::All(q.clone()), all_count(app, q.as_deref()))),
        Marks::Ids(ids) if ids.is_empty() => match app.entry_under_cursor() {
            Some(e) => Ok((Targets::Ids(vec![e.item_id]), Some(1))),
            None => Err("nothing marked and no entry under the cursor".to_owned()),
        },
        Marks::Ids(ids) if ids.len() > app.max_batch => Err(format!(
            "{} marked, but one batch holds at most {} (the daemon's max_batch): mark fewer, \
             or use * to act on everything matching in one call",
            count(ids.len() as u64),
            count(app.max_batch as u64)
        )),
        Marks::Ids(ids) => {
            let mut v: Vec<ItemId> = ids.iter().copied().collect();
            v.sort_unstable();
            let n = v.len() as u64;
            Ok((Targets::Ids(v), Some(n)))
        }
    }
}

/// Collections a batch may go to: not the open one, not trashed, and not `default` for a
/// link (nothing links into the unfiled view).
fn candidates(app: &App, purpose: PickFor) -> Vec<(usize, &str)> {
    let open = app.pages.collection();
    app.collections
        .iter()
        .enumerate()
        .filter(|(_, c)| Some(&c.id) != open && c.trashed_at.is_none())
        .filter(|(_, c)| purpose == PickFor::Move || !c.id.is_default())
        .map(|(i, c)| (i, c.id.as_str()))
        .collect()
}

pub(super) fn pick(app: &mut App, purpose: PickFor) -> Vec<Effect> {
    if app.pages.collection().is_none() {
        return info(app, "open a collection first");
    }
    if let Err(why) = targets(app) {
        return error(app, why);
    }
    let matches = fuzzy::rank("", candidates(app, purpose));
    app.overlay = Some(Overlay::Picker(Picker {
        purpose,
        query: String::new(),
        matches,
        cursor: 0,
        create: None,
    }));
    Vec::new()
}

/// Why `text` is not a collection id, in words that say what to type instead.
pub(crate) fn slug_problem(text: &str) -> Option<String> {
    if CollectionId::parse(text).is_ok() {
        return None;
    }
    let why = if text.len() > 128 {
        "at most 128 characters".to_owned()
    } else if text.chars().any(|c| c.is_ascii_uppercase()) {
        "lowercase only".to_owned()
    } else if text.starts_with(['_', '.', '-']) {
        "start with a letter or digit".to_owned()
    } else if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(*c)))
    {
        format!("{c:?} is not allowed")
    } else {
        "not a collection id".to_owned()
    };
    Some(format!("{why}: use a-z 0-9 _ . - (like research_papers)"))
}

/// The picker's create row for `query`: none when it is empty or names a collection.
fn create_row(app: &App, query: &str) -> Option<Result<CollectionId, String>> {
    let name = query.trim();
    if name.is_empty() || app.collections.iter().any(|c| c.id.as_str() == name) {
        return None;
    }
    Some(match slug_problem(name) {
        None => CollectionId::parse(name).map_err(|e| e.to_string()),
        Some(why) => Err(why),
    })
}

pub(super) fn picker_input(app: &mut App, i: Input) -> Vec<Effect> {
    let Some(Overlay::Picker(mut p)) = app.overlay.take() else {
        return Vec::new();
    };
    match i {
        Input::Esc => return Vec::new(),
        Input::Enter => {
            if p.cursor == p.matches.len()
                && let Some(Ok(new)) = &p.create
            {
                let new = new.clone();
                return batch(app, p.purpose, &new, true);
            }
            let Some(target) = p
                .matches
                .get(p.cursor)
                .and_then(|i| app.collections.get(*i))
                .map(|c| c.id.clone())
            else {
                // An invalid name stays, its problem shown on the create row.
                app.overlay = Some(Overlay::Picker(p));
                return Vec::new();
            };
            return batch(app, p.purpose, &target, false);
        }
        Input::Up => p.cursor = p.cursor.saturating_sub(1),
        Input::Down => p.cursor = (p.cursor + 1).min(p.rows().saturating_sub(1)),
        Input::Char(c) => p.query.push(c),
        Input::Backspace => {
            p.query.pop();
        }
        Input::Clear => p.query.clear(),
    }
    if matches!(i, Input::Char(_) | Input::Backspace | Input::Clear) {
        p.matches = fuzzy::rank(&p.query, candidates(app, p.purpose));
        p.create = create_row(app, &p.query);
        p.cursor = 0;
    }
    app.overlay = Some(Overlay::Picker(p));
    Vec::new()
}

fn describe(targets: &Targets, n: Option<u64>, open: &CollectionId) -> String {
    match (targets, n) {
        (Targets::Ids(ids), _) if ids.len() == 1 => "1 entry".to_owned(),
        (Targets::Ids(ids), _) => format!("{} marked entries", count(ids.len() as u64)),
        (Targets::All(None), Some(n)) => format!("all {} entries of {open}", count(n)),
        (Targets::All(None), None) => format!("every entry of {open}"),
        (Targets::All(Some(q)), Some(n)) => {
            format!("all {} entries of {open} matching {q:?}", count(n))
        }
        (Targets::All(Some(q)), None) => format!("every entry of {open} matching {q:?}"),
    }
}

/// The move or link of the targets to `target` (created by the same call when `create`):
/// one call, asked about first when it touches more than `confirm_over` items (or an
/// unknown number).
fn batch(app: &mut App, purpose: PickFor, target: &CollectionId, create: bool) -> Vec<Effect> {
    let Some(open) = app.pages.collection().cloned() else {
        return Vec::new();
    };
    let (targets, n) = match targets(app) {
        Ok(t) => t,
        Err(why) => return error(app, why),
    };
    let verb = match purpose {
        PickFor::Move => Verb::Move,
        PickFor::Link => Verb::Link,
    };
    // Unfiled items have no source membership: "moving" them is adding them.
    let (mode, from) = match verb {
        Verb::Move if !open.is_default() => (BatchMode::Move, Some(open.to_string())),
        _ => (BatchMode::Link, None),
    };
    let what = describe(&targets, n, &open);
    let body = BatchAddBody {
        create,
        ..body(&targets, &open, mode, from)
    };
    let effect = Effect::Batch {
        target: target.clone(),
        body,
        verb,
    };
    let word = if verb == Verb::Move { "Move" } else { "Link" };
    let new = if create { "new collection " } else { "" };
    let question = format!("{word} {what} to {new}{target}?");
    let busy = format!(
        "{} {what} to {target}…",
        if verb == Verb::Move {
            "moving"
        } else {
            "linking"
        }
    );
    if n.is_none_or(|n| n > app.config.confirm_over as u64) {
        app.overlay = Some(Overlay::Confirm(Confirm { question, effect }));
        app.busy = None;
        return Vec::new();
    }
    app.busy = Some(busy);
    vec![effect]
}

fn body(
    targets: &Targets,
    open: &CollectionId,
    mode: BatchMode,
    from: Option<String>,
) -> BatchAddBody {
    let (items, select) = match targets {
        Targets::Ids(ids) => (
            Some(
                ids.iter()
                    .map(|id| ItemRef::Plain(id.to_string()))
                    .collect(),
            ),
            None,
        ),
        Targets::All(q) => (
            None,
            Some(Select {
                collection: Some(open.to_string()),
                q: q.clone(),
                ..Select::default()
            }),
        ),
    };
    BatchAddBody {
        items,
        select,
        mode,
        from,
        create: false,
        relocate: false,
    }
}

pub(super) fn remove(app: &mut App) -> Vec<Effect> {
    let Some(open) = app.pages.collection().cloned() else {
        return info(app, "open a collection first");
    };
    if open.is_default() {
        return info(
            app,
            "unfiled items are in no collection: there is nothing to remove them from",
        );
    }
    let (targets, n) = match targets(app) {
        Ok(t) => t,
        Err(why) => return error(app, why),
    };
    let what = describe(&targets, n, &open);
    let effect = match &targets {
        Targets::Ids(ids) => Effect::Remove {
            collection: open.clone(),
            items: ids.clone(),
        },
        // "Remove everything matching" is a select move into `default`, out of this one.
        Targets::All(_) => Effect::Batch {
            target: CollectionId::default_collection(),
            body: body(&targets, &open, BatchMode::Move, Some(open.to_string())),
            verb: Verb::RemoveAll,
        },
    };
    app.overlay = Some(Overlay::Confirm(Confirm {
        question: format!("Remove {what} from {open}? (u undoes it)"),
        effect,
    }));
    Vec::new()
}

pub(super) fn confirm_input(app: &mut App, i: Input) -> Vec<Effect> {
    let Some(Overlay::Confirm(c)) = app.overlay.take() else {
        return Vec::new();
    };
    match i {
        Input::Char('y' | 'Y') | Input::Enter => {
            app.busy = Some("working…".to_owned());
            vec![c.effect]
        }
        Input::Char('n' | 'N') | Input::Esc => info(app, "cancelled: nothing changed"),
        _ => {
            app.overlay = Some(Overlay::Confirm(c));
            Vec::new()
        }
    }
}

pub(super) fn undo(app: &mut App) -> Vec<Effect> {
    app.busy = Some("undoing…".to_owned());
    vec![Effect::Undo(app.last_op.take())]
}

pub(super) fn new_collection(app: &mut App) -> Vec<Effect> {
    prompt(app, PromptFor::NewCollection, String::new())
}

fn prompt(app: &mut App, purpose: PromptFor, input: String) -> Vec<Effect> {
    app.overlay = Some(Overlay::Prompt(Prompt { purpose, input }));
    Vec::new()
}

pub(super) fn rename(app: &mut App) -> Vec<Effect> {
    if app.focus == Pane::Collections {
        let Some(c) = app.collection_under_cursor() else {
            return Vec::new();
        };
        if c.id.is_default() {
            return info(app, "default (the unfiled items) cannot be renamed");
        }
        let (id, name) = (c.id.clone(), c.name.clone());
        return prompt(app, PromptFor::RenameCollection(id), name);
    }
    let Some(open) = app.pages.collection().cloned() else {
        return Vec::new();
    };
    if open.is_default() {
        return info(app, "unfiled items have no entry to rename");
    }
    let Some(e) = app.entry_under_cursor() else {
        return Vec::new();
    };
    let (item, name) = (e.item_id, e.display_name.clone());
    prompt(app, PromptFor::RenameEntry(open, item), name)
}

pub(super) fn edit_metadata(app: &mut App) -> Vec<Effect> {
    let Some(open) = app.pages.collection().cloned() else {
        return Vec::new();
    };
    let Some(item) = app.entry_under_cursor().map(|e| e.item_id) else {
        return Vec::new();
    };
    prompt(app, PromptFor::Metadata(open, item), String::new())
}

/// `key=value` → a patch of one key: `true`/`false` are booleans, numbers are numbers,
/// `"…"` is text as written, anything else is text; `key=` deletes the key.
pub(crate) fn parse_metadata(text: &str) -> Result<MetadataPatch, String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("{text:?} is not key=value (key= deletes the key)"));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err("the key is empty: write key=value".to_owned());
    }
    let value = value.trim();
    let parsed = if value.is_empty() {
        None
    } else if let Some(quoted) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(MetaValue::String(quoted.to_owned()))
    } else if let Ok(b) = value.parse::<bool>() {
        Some(MetaValue::Bool(b))
    } else if let Ok(n) = value.parse::<i64>() {
        Some(MetaValue::Int(n))
    } else if let Some(x) = value.parse::<f64>().ok().filter(|x| x.is_finite()) {
        Some(MetaValue::Float(x))
    } else {
        Some(MetaValue::String(value.to_owned()))
    };
    Ok(MetadataPatch::from([(key.to_owned(), parsed)]))
}

pub(super) fn prompt_input(app: &mut App, i: Input) -> Vec<Effect> {
    let Some(Overlay::Prompt(mut p)) = app.overlay.take() else {
        return Vec::new();
    };
    match i {
        Input::Esc => return Vec::new(),
        Input::Char(c) => p.input.push(c),
        Input::Backspace => {
            p.input.pop();
        }
        Input::Clear => p.input.clear(),
        Input::Up | Input::Down => {}
        Input::Enter => {
            let text = p.input.trim().to_owned();
            if text.is_empty() && !matches!(p.purpose, PromptFor::Metadata(..)) {
                return Vec::new();
            }
            let effect = match p.purpose {
                PromptFor::NewCollection => Effect::CreateCollection(text),
                PromptFor::RenameCollection(id) => Effect::RenameCollection { id, name: text },
                PromptFor::RenameEntry(collection, item) => Effect::RenameEntry {
                    collection,
                    item,
                    name: text,
                },
                PromptFor::Metadata(collection, item) => match parse_metadata(&text) {
                    Ok(patch) => Effect::PatchMetadata {
                        collection,
                        item,
                        patch,
                    },
                    Err(why) => return error(app, why),
                },
            };
            app.busy = Some("working…".to_owned());
            return vec![effect];
        }
    }
    app.overlay = Some(Overlay::Prompt(p));
    Vec::new()
}
