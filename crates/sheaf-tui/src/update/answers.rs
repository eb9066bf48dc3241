//! What comes back: the answers of effects and the event feed. Live changes re-read only
//! what they touch (the collection list for counts, the pages in view of the open
//! collection), and keep the cursor on its item and the marks on theirs.

use sheaf_core::ItemId;
use sheaf_proto::resources::{Collection, Event, Item};
use sheaf_proto::responses::EntryPage;

use super::{filter_collections, follow_cursor, open_collection, refresh};
use crate::action::{Done, Effect, Failure};
use crate::app::{App, Connection, Message};
use crate::plain;

pub(super) fn collections(app: &mut App, r: Result<Vec<Collection>, Failure>) -> Vec<Effect> {
    let list = match r {
        Ok(list) => list,
        Err(f) => {
            app.message = Some(Message::Error(plain::failure("listing collections", &f)));
            return Vec::new();
        }
    };
    app.collections = list;
    app.collections_loaded = true;
    let filter = app.collection_filter.clone();
    filter_collections(app, &filter);
    let mut effects = Vec::new();
    if let Some(open) = app.pages.collection().cloned() {
        if let Some(c) = app.collections.iter().find(|c| c.id == open) {
            app.pages.set_total(c.item_count);
        } else {
            app.message = Some(Message::Error(format!(
                "{open} is gone (purged); showing default"
            )));
            effects.extend(open_collection(
                app,
                sheaf_core::CollectionId::default_collection(),
            ));
        }
        effects.extend(follow_cursor(app));
        return effects;
    }
    // The first list: open the collection asked for, else the one under the cursor.
    let wanted = app.wanted.take();
    let target = match wanted {
        Some(id) if app.collections.iter().any(|c| c.id == id) => Some(id),
        Some(id) => {
            app.message = Some(Message::Error(format!("there is no collection {id}")));
            None
        }
        None => None,
    };
    if let Some(id) = &target
        && let Some(row) = app
            .collection_rows
            .iter()
            .position(|i| &app.collections[*i].id == id)
    {
        app.collection_cursor = row;
    }
    match target.or_else(|| app.collection_under_cursor().map(|c| c.id.clone())) {
        Some(id) => open_collection(app, id),
        None => Vec::new(),
    }
}

pub(super) fn page(
    app: &mut App,
    generation: u64,
    page: crate::pages::PageAt,
    r: Result<EntryPage, Failure>,
) -> Vec<Effect> {
    let answer = match r {
        Ok(answer) => answer,
        Err(f) => {
            app.pages.failed(generation, page);
            if generation == app.pages.generation() {
                app.message = Some(Message::Error(plain::failure("loading entries", &f)));
            }
            return Vec::new();
        }
    };
    if !app.pages.loaded(generation, page, answer, app.cursor) {
        return Vec::new();
    }
    // A refreshed page may have shifted rows: keep the cursor on its item.
    if let Some(item) = app.cursor_item
        && app.entry_under_cursor().is_some_and(|e| e.item_id != item)
        && let Some(row) = app.pages.find(item)
    {
        app.cursor = row;
    }
    follow_cursor(app)
}

pub(super) fn item(app: &mut App, id: ItemId, r: Result<Item, Failure>) -> Vec<Effect> {
    if app.cursor_item != Some(id) {
        return Vec::new();
    }
    match r {
        Ok(item) => app.item = Some(item),
        // An item that went away between the listing and this read: the refresh follows.
        Err(_) => app.item = None,
    }
    Vec::new()
}

pub(super) fn op(app: &mut App, what: &str, r: Result<Done, Failure>) -> Vec<Effect> {
    app.busy = None;
    app.busy_ticks = 0;
    match r {
        Ok(done) => {
            app.message = Some(Message::Info(plain::summary(&done)));
            match &done {
                Done::Batch(_, b) => {
                    app.last_op = Some(b.op_id);
                    app.marks = crate::marks::Marks::default();
                }
                Done::Removed(r) => {
                    app.last_op = Some(r.op_id);
                    app.marks = crate::marks::Marks::default();
                }
                Done::Undone(_) | Done::NothingToUndo => app.last_op = None,
                Done::Created(_)
                | Done::Renamed(_)
                | Done::EntryChanged(_)
                | Done::ItemChanged(_) => {}
            }
            // The feed reports the change too; reading now shows it without waiting.
            let mut effects = refresh(app);
            effects.extend(super::history::reload(app));
            effects
        }
        Err(f) => {
            app.message = Some(Message::Error(plain::failure(what, &f)));
            Vec::new()
        }
    }
}

pub(super) fn events(app: &mut App, events: &[Event]) -> Vec<Effect> {
    app.progress.activity = true;
    let open = app.pages.collection().cloned();
    let mut collections = false;
    let mut entries = false;
    let mut item = false;
    for e in events {
        let kind = e.kind.as_str();
        if kind == "reset" {
            return refresh(app);
        }
        if kind.starts_with("collection.") {
            collections = true;
        }
        if kind.starts_with("entry.") {
            collections = true;
            let here = open.is_some() && e.collection_id == open;
            // `default` lists items in no collection: any membership change may touch it.
            entries |= here
                || open
                    .as_ref()
                    .is_some_and(sheaf_core::CollectionId::is_default);
            if here
                && kind == "entry.removed"
                && let Some(id) = e.item_id
            {
                app.marks.forget(id);
            }
        }
        if kind.starts_with("item.")
            && let Some(id) = e.item_id
        {
            item |= app.cursor_item == Some(id);
            entries |= app.pages.find(id).is_some()
                || open
                    .as_ref()
                    .is_some_and(sheaf_core::CollectionId::is_default);
        }
        if e.item_id.is_some() && e.item_id == app.cursor_item {
            item = true;
        }
    }
    let mut effects = Vec::new();
    if collections {
        effects.push(Effect::LoadCollections);
    }
    if entries {
        app.pages.invalidate();
        effects.extend(follow_cursor(app));
    }
    if item && let Some(id) = app.cursor_item {
        effects.push(Effect::LoadItem(id));
    }
    // Any change is an op or a rule's run: the log shown follows.
    effects.extend(super::history::reload(app));
    effects
}

pub(super) fn connected(app: &mut App) -> Vec<Effect> {
    let was = std::mem::replace(&mut app.connection, Connection::Connected);
    if matches!(was, Connection::Reconnecting { .. }) {
        app.message = Some(Message::Info("reconnected".into()));
        return refresh(app);
    }
    Vec::new()
}

pub(super) fn disconnected(app: &mut App, attempt: u32, reason: String) -> Vec<Effect> {
    app.connection = Connection::Reconnecting { attempt, reason };
    Vec::new()
}

pub(super) fn tick(app: &mut App) -> Vec<Effect> {
    if app.busy.is_some() {
        app.busy_ticks = app.busy_ticks.saturating_add(1);
    }
    // The daemon is asked while it shows signs of work, and until that work is done.
    let p = &mut app.progress;
    let wanted = p.activity || !p.lines.is_empty();
    if !wanted || p.asked || app.connection != Connection::Connected {
        return Vec::new();
    }
    p.activity = false;
    p.asked = true;
    vec![Effect::LoadProgress]
}

pub(super) fn progress(app: &mut App, r: Result<Vec<String>, Failure>) -> Vec<Effect> {
    app.progress.asked = false;
    // A failed read shows nothing rather than stale work; the next tick asks again.
    app.progress.lines = r.unwrap_or_default();
    Vec::new()
}
