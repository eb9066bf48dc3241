//! Fixed models for tests: ids, names and times are constants, so views snapshot the same
//! on every run.

use sheaf_core::{CollectionId, EntrySource, ItemId, Kind, MetaValue, Metadata, Timestamp};
use sheaf_proto::resources::{Collection, Entry, ItemBrief};

use crate::app::{App, Connection};
use crate::config::Config;

pub(crate) fn cid(id: &str) -> CollectionId {
    CollectionId::parse(id).unwrap()
}

pub(crate) fn at() -> Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

/// `doc_01JD000…<i>`.
pub(crate) fn item(i: usize) -> ItemId {
    format!("doc_01JD{i:022}").parse().unwrap()
}

/// Entry `i` of `inbox`: `file-0000i.pdf`, 1234 bytes, one item metadata key.
pub(crate) fn entry(i: usize) -> Entry {
    entry_in("inbox", i)
}

pub(crate) fn entry_in(collection: &str, i: usize) -> Entry {
    let name = format!("file-{i:05}.pdf");
    let merged = Metadata::from([("page".to_owned(), MetaValue::Int(i as i64))]);
    Entry {
        id: Some(format!("ent_01JE{i:022}").parse().unwrap()),
        collection_id: cid(collection),
        item_id: item(i),
        display_name: name.clone(),
        unique_id: name.clone(),
        metadata: Metadata::new(),
        merged_metadata: merged,
        sort_order: Some(i as i64 * (1 << 20)),
        source: Some(EntrySource::Manual),
        created_at: at(),
        updated_at: at(),
        deleted_at: None,
        item: ItemBrief {
            kind: Kind::Document,
            path: Some(format!("/home/me/{collection}/{name}")),
            size: 1234,
            mtime: at(),
        },
    }
}

pub(crate) fn collection(id: &str, count: u64) -> Collection {
    Collection {
        id: cid(id),
        name: id.to_owned(),
        description: String::new(),
        archived: false,
        accept: None,
        trashed_at: None,
        item_count: count,
        folders: Vec::new(),
        created_at: at(),
        updated_at: at(),
        query: None,
        filling: None,
        number: 0,
    }
}

/// A model with `default` (2), `inbox` (`total` entries, the first `loaded` of them here,
/// open), `papers` (0), an archived `old` and a trashed `tmp`; 120 × 30, connected.
pub(crate) fn app_with_entries(total: usize, loaded: usize) -> App {
    let mut app = App::new(Config::default(), 1000, None);
    let mut old = collection("old", 7);
    old.archived = true;
    let mut tmp = collection("tmp", 1);
    tmp.trashed_at = Some(at());
    app.collections = vec![
        collection("default", 2),
        collection("inbox", total as u64),
        collection("papers", 0),
        old,
        tmp,
    ];
    app.collections_loaded = true;
    app.collection_rows = (0..app.collections.len()).collect();
    app.collection_cursor = 1;
    app.connection = Connection::Connected;
    app.width = 120;
    app.height = 30;
    app.focus = crate::app::Pane::Entries;
    let ps = app.pages.page_size();
    let inbox = cid("inbox");
    app.pages.reset(
        Some(inbox.clone()),
        sheaf_proto::requests::EntrySort::Position,
        None,
        Some(total as u64),
    );
    let mut k = 0;
    while k * ps < loaded.min(total) {
        let rows = (k * ps..((k + 1) * ps).min(loaded.min(total)))
            .map(entry)
            .collect();
        app.pages.fill(&inbox, total as u64, k, rows);
        k += 1;
    }
    app.cursor_item = app.pages.row(0).map(|e| e.item_id);
    app
}

/// The preview read `update` asks for when entry `i` of `inbox` comes under the cursor.
pub(crate) fn preview_effect(i: usize) -> crate::action::Effect {
    let e = entry(i);
    crate::action::Effect::Preview {
        key: crate::preview::PreviewKey {
            item: e.item_id,
            size: e.item.size,
            mtime: e.item.mtime,
        },
        path: e.item.path.unwrap_or_default(),
    }
}
