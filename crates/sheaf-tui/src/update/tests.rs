//! `update` on navigation, filters, live events and answers.

use sheaf_proto::requests::EntrySort;
use sheaf_proto::resources::Event;
use sheaf_proto::responses::EntryPage;

use super::update;
use crate::action::{Action, Command, Effect, Failure, Input, Mouse};
use crate::app::{App, Connection, Message, Overlay, Pane};
use crate::config::Config;
use crate::pages::PageAt::{self, Back, Front};
use crate::testdata::{self, cid, collection, entry, item};

fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Input(Input::Char(c)));
    }
}

fn fetched_pages(effects: &[Effect]) -> Vec<(String, PageAt, Option<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchPage {
                collection,
                page,
                params,
                ..
            } => Some((collection.to_string(), *page, params.q.clone())),
            _ => None,
        })
        .collect()
}

fn event(kind: &str, collection: Option<&str>, i: Option<usize>, seq: u64) -> Event {
    Event {
        seq,
        at: Some(testdata::at()),
        kind: kind.to_owned(),
        collection_id: collection.map(cid),
        item_id: i.map(item),
        watch_id: None,
        op_id: None,
        source: None,
        rule_id: None,
        cause: None,
    }
}

#[test]
fn start_lists_the_collections() {
    let mut app = App::new(Config::default(), 1000, None);
    assert_eq!(update(&mut app, Action::Start), [Effect::LoadCollections]);
}

#[test]
fn the_first_list_opens_the_collection_asked_for_and_fetches_its_first_page() {
    let mut app = App::new(Config::default(), 1000, Some(cid("inbox")));
    let effects = update(
        &mut app,
        Action::Collections(Ok(vec![collection("default", 0), collection("inbox", 5)])),
    );
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Front(0), None)]
    );
    assert_eq!(app.collection_cursor, 1);
    assert_eq!(app.focus, Pane::Entries);
    assert_eq!(app.pages.len(), 5);
}

#[test]
fn asking_for_a_missing_collection_says_so_and_opens_default() {
    let mut app = App::new(Config::default(), 1000, Some(cid("nope")));
    let effects = update(
        &mut app,
        Action::Collections(Ok(vec![collection("default", 0)])),
    );
    assert_eq!(
        fetched_pages(&effects),
        [("default".to_owned(), Front(0), None)]
    );
    assert!(matches!(&app.message, Some(Message::Error(m)) if m.contains("nope")));
}

#[test]
fn a_page_arriving_shows_rows_and_loads_the_item_under_the_cursor() {
    let mut app = App::new(Config::default(), 1000, Some(cid("inbox")));
    let effects = update(
        &mut app,
        Action::Collections(Ok(vec![collection("inbox", 2)])),
    );
    let generation = app.pages.generation();
    assert_eq!(effects.len(), 1);
    let effects = update(
        &mut app,
        Action::Page {
            generation,
            page: Front(0),
            result: Ok(EntryPage {
                entries: vec![entry(0), entry(1)],
                next_cursor: None,
            }),
        },
    );
    assert_eq!(
        effects,
        [Effect::LoadItem(item(0)), testdata::preview_effect(0)]
    );
    assert_eq!(app.cursor_item, Some(item(0)));
}

#[test]
fn j_and_k_move_the_cursor_within_the_listing_and_load_each_item() {
    let mut app = testdata::app_with_entries(3, 3);
    assert_eq!(
        cmd(&mut app, Command::Down),
        [Effect::LoadItem(item(1)), testdata::preview_effect(1)]
    );
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    assert_eq!(app.cursor, 2, "stops at the last row");
    cmd(&mut app, Command::Up);
    assert_eq!(app.cursor, 1);
    cmd(&mut app, Command::Top);
    assert_eq!(app.cursor, 0);
}

#[test]
fn g_to_the_end_of_a_million_entries_is_one_backward_fetch_of_the_last_page() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    let effects = cmd(&mut app, Command::Bottom);
    assert_eq!(app.cursor, 999_999);
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Back(0), None)]
    );
    let Some(Effect::FetchPage { params, .. }) = effects.first() else {
        panic!("{effects:?}");
    };
    assert_eq!(params.order, Some(sheaf_proto::requests::ListOrder::Desc));
    assert!(app.offset > 999_000 && app.offset <= 999_999);
    assert!(app.entry_under_cursor().is_none(), "not loaded yet");
    let generation = app.pages.generation();
    let effects = update(
        &mut app,
        Action::Page {
            generation,
            page: Back(0),
            result: Ok(EntryPage {
                entries: (999_000..1_000_000).rev().map(entry).collect(),
                next_cursor: Some("~c999000".into()),
            }),
        },
    );
    assert_eq!(
        effects,
        [
            Effect::LoadItem(item(999_999)),
            testdata::preview_effect(999_999)
        ]
    );
    assert_eq!(
        app.entry_under_cursor().map(|e| e.item_id),
        Some(item(999_999))
    );
}

#[test]
fn scrolling_up_from_the_end_pages_backwards_with_the_desc_cursor() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    cmd(&mut app, Command::Bottom);
    let generation = app.pages.generation();
    update(
        &mut app,
        Action::Page {
            generation,
            page: Back(0),
            result: Ok(EntryPage {
                entries: (999_000..1_000_000).rev().map(entry).collect(),
                next_cursor: Some("~c999000".into()),
            }),
        },
    );
    let mut asked = Vec::new();
    for _ in 0..800 {
        for e in cmd(&mut app, Command::Up) {
            if let Effect::FetchPage { page, params, .. } = e {
                asked.push((page, params.cursor, params.order));
            }
        }
    }
    assert_eq!(
        asked,
        [(
            Back(1),
            Some("~c999000".to_owned()),
            Some(sheaf_proto::requests::ListOrder::Desc)
        )]
    );
    assert_eq!(app.cursor, 999_199);
    assert_eq!(
        app.entry_under_cursor().map(|e| e.item_id),
        Some(item(999_199))
    );
}

#[test]
fn page_down_moves_a_screen_and_keeps_the_cursor_in_view() {
    let mut app = testdata::app_with_entries(500, 500);
    let rows = super::page_rows(&app);
    cmd(&mut app, Command::PageDown);
    assert_eq!(app.cursor, rows);
    assert!(app.offset <= app.cursor && app.cursor < app.offset + rows);
    cmd(&mut app, Command::PageUp);
    assert_eq!(app.cursor, 0);
}

#[test]
fn moving_in_the_collections_pane_opens_the_collection_and_clears_marks() {
    let mut app = testdata::app_with_entries(3, 3);
    app.marks.toggle(item(1));
    cmd(&mut app, Command::Left);
    assert_eq!(app.focus, Pane::Collections);
    let effects = cmd(&mut app, Command::Down);
    assert_eq!(
        fetched_pages(&effects),
        [("papers".to_owned(), Front(0), None)]
    );
    assert!(app.marks.is_empty());
    assert_eq!(app.cursor, 0);
}

#[test]
fn panes_are_focused_with_h_l_tab_and_enter() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Right);
    assert_eq!(app.focus, Pane::Details);
    cmd(&mut app, Command::NextPane);
    assert_eq!(app.focus, Pane::Collections);
    cmd(&mut app, Command::Open);
    assert_eq!(app.focus, Pane::Entries);
}

#[test]
fn the_entries_filter_is_sent_to_the_daemon_on_enter_and_escape_clears_it() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Filter);
    typed(&mut app, "rep");
    assert_eq!(app.pages.query(), None, "nothing is fetched while typing");
    let effects = update(&mut app, Action::Input(Input::Enter));
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Front(0), Some("rep".to_owned()))]
    );
    assert_eq!(app.pages.query(), Some("rep"));
    assert!(
        !app.pages.is_exact(),
        "a filtered count is known only at its end"
    );
    let effects = cmd(&mut app, Command::Escape);
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Front(0), None)]
    );
}

#[test]
fn the_collections_filter_is_fuzzy_and_applies_as_it_is_typed() {
    let mut app = testdata::app_with_entries(3, 3);
    app.focus = Pane::Collections;
    cmd(&mut app, Command::Filter);
    typed(&mut app, "ppr");
    let ids: Vec<&str> = app
        .collection_rows
        .iter()
        .map(|i| app.collections[*i].id.as_str())
        .collect();
    assert_eq!(ids, ["papers"]);
    update(&mut app, Action::Input(Input::Esc));
    assert_eq!(app.collection_rows.len(), 5, "esc while typing restores");
}

#[test]
fn sort_cycles_through_the_apis_orders_and_lists_again_from_the_top() {
    let mut app = testdata::app_with_entries(3, 3);
    app.cursor = 2;
    app.marks.toggle(item(2));
    let effects = cmd(&mut app, Command::Sort);
    assert_eq!(app.sort(), EntrySort::Name);
    assert_eq!(fetched_pages(&effects).len(), 1);
    assert_eq!(app.cursor, 0);
    assert!(
        !app.marks.is_empty(),
        "marks are item ids: a new order keeps them"
    );
    for _ in 0..3 {
        cmd(&mut app, Command::Sort);
    }
    assert_eq!(app.sort(), EntrySort::Position);
}

#[test]
fn refresh_reads_the_collections_and_the_pages_in_view_again() {
    let mut app = testdata::app_with_entries(3, 3);
    let effects = cmd(&mut app, Command::Refresh);
    assert!(effects.contains(&Effect::LoadCollections));
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Front(0), None)]
    );
    assert!(
        app.pages.row(0).is_some(),
        "rows stay shown until the refetch"
    );
}

#[test]
fn escape_closes_then_clears_marks() {
    let mut app = testdata::app_with_entries(3, 3);
    app.marks.toggle(item(0));
    app.overlay = Some(Overlay::Help);
    cmd(&mut app, Command::Escape);
    assert!(app.overlay.is_none());
    assert!(!app.marks.is_empty());
    cmd(&mut app, Command::Escape);
    assert!(app.marks.is_empty());
}

#[test]
fn help_opens_and_any_key_closes_it_without_acting() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Help);
    assert_eq!(app.overlay, Some(Overlay::Help));
    assert!(cmd(&mut app, Command::Down).is_empty());
    assert_eq!(app.cursor, 0);
    assert!(app.overlay.is_none());
    cmd(&mut app, Command::Quit);
    assert!(app.quit);
}

#[test]
fn a_click_selects_the_row_or_collection_and_the_wheel_scrolls() {
    let mut app = testdata::app_with_entries(50, 50);
    let areas = crate::layout::Areas::of(app.width, app.height);
    let rows = areas.entry_rows();
    update(
        &mut app,
        Action::Mouse(Mouse::Click {
            column: rows.x + 3,
            row: rows.y + 4,
        }),
    );
    assert_eq!((app.cursor, app.focus), (4, Pane::Entries));
    update(
        &mut app,
        Action::Mouse(Mouse::Scroll {
            column: rows.x + 3,
            row: rows.y,
            down: true,
        }),
    );
    assert_eq!(app.cursor, 7);
    let list = areas.collection_rows();
    let effects = update(
        &mut app,
        Action::Mouse(Mouse::Click {
            column: list.x + 1,
            row: list.y + 2,
        }),
    );
    assert_eq!(
        fetched_pages(&effects),
        [("papers".to_owned(), Front(0), None)]
    );
    assert_eq!(app.focus, Pane::Collections);
}

#[test]
fn a_smaller_terminal_keeps_the_cursor_in_view() {
    let mut app = testdata::app_with_entries(100, 100);
    app.cursor = 40;
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 60,
        },
    );
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 10,
        },
    );
    let rows = super::page_rows(&app);
    assert!(app.offset <= 40 && 40 < app.offset + rows);
}

#[test]
fn marks_survive_live_updates_except_for_items_that_left_the_collection() {
    let mut app = testdata::app_with_entries(5, 5);
    for i in [1, 2, 3] {
        app.marks.toggle(item(i));
    }
    app.cursor = 2;
    app.cursor_item = Some(item(2));
    let effects = update(
        &mut app,
        Action::Events(vec![
            event("entry.added", Some("inbox"), Some(9), 10),
            event("entry.removed", Some("inbox"), Some(3), 11),
            event("entry.removed", Some("papers"), Some(1), 12),
        ]),
    );
    assert!(effects.contains(&Effect::LoadCollections));
    assert_eq!(
        fetched_pages(&effects),
        [("inbox".to_owned(), Front(0), None)]
    );
    let ids = app.marks.ids().unwrap();
    assert!(ids.contains(&item(1)) && ids.contains(&item(2)));
    assert!(!ids.contains(&item(3)), "item 3 left inbox");
    assert_eq!(app.cursor, 2);
}

#[test]
fn a_refreshed_page_with_shifted_rows_keeps_the_cursor_on_its_item() {
    let mut app = testdata::app_with_entries(5, 5);
    app.cursor = 3;
    app.cursor_item = Some(item(3));
    update(
        &mut app,
        Action::Events(vec![event("entry.removed", Some("inbox"), Some(0), 20)]),
    );
    let generation = app.pages.generation();
    update(
        &mut app,
        Action::Page {
            generation,
            page: Front(0),
            result: Ok(EntryPage {
                entries: (1..5).map(entry).collect(),
                next_cursor: None,
            }),
        },
    );
    assert_eq!(app.cursor, 2, "row 3 moved up to row 2");
    assert_eq!(app.entry_under_cursor().map(|e| e.item_id), Some(item(3)));
}

#[test]
fn events_elsewhere_only_refresh_the_counts() {
    let mut app = testdata::app_with_entries(5, 5);
    let effects = update(
        &mut app,
        Action::Events(vec![event("entry.added", Some("papers"), Some(7), 3)]),
    );
    assert_eq!(effects, [Effect::LoadCollections]);
}

#[test]
fn a_reset_event_reads_everything_again() {
    let mut app = testdata::app_with_entries(5, 5);
    let effects = update(
        &mut app,
        Action::Events(vec![event("reset", None, None, 99)]),
    );
    assert!(effects.contains(&Effect::LoadCollections));
    assert_eq!(fetched_pages(&effects).len(), 1);
}

#[test]
fn losing_the_daemon_shows_reconnecting_and_coming_back_reads_again_in_place() {
    let mut app = testdata::app_with_entries(5, 5);
    app.cursor = 4;
    app.marks.toggle(item(4));
    update(
        &mut app,
        Action::Disconnected {
            attempt: 1,
            reason: "gone".into(),
        },
    );
    assert!(matches!(
        app.connection,
        Connection::Reconnecting { attempt: 1, .. }
    ));
    let effects = update(&mut app, Action::Connected);
    assert_eq!(app.connection, Connection::Connected);
    assert!(effects.contains(&Effect::LoadCollections));
    assert_eq!((app.cursor, app.marks.count()), (4, Some(1)));
}

#[test]
fn collection_counts_update_the_listings_total() {
    let mut app = testdata::app_with_entries(5, 5);
    let mut inbox = collection("inbox", 7);
    inbox.archived = true;
    update(
        &mut app,
        Action::Collections(Ok(vec![collection("default", 0), inbox])),
    );
    assert_eq!(app.pages.len(), 7);
    assert!(app.open().is_some_and(|c| c.archived));
}

#[test]
fn an_answer_about_an_item_no_longer_under_the_cursor_is_ignored() {
    let mut app = testdata::app_with_entries(5, 5);
    let stale = Failure {
        code: None,
        message: String::new(),
        unreachable: false,
    };
    update(&mut app, Action::Item(item(3), Err(stale)));
    assert!(app.item.is_none());
    let mut it_item = sheaf_proto::resources::Item {
        id: item(0),
        kind: sheaf_core::Kind::Document,
        content_type: "application/pdf".into(),
        path: None,
        last_path: None,
        original_filename: "x".into(),
        size: 1,
        mtime: testdata::at(),
        content_hash: None,
        metadata: sheaf_core::Metadata::new(),
        created_at: testdata::at(),
        updated_at: testdata::at(),
        deleted_at: None,
        number: 0,
        collections: Some(vec![cid("inbox")]),
    };
    update(&mut app, Action::Item(item(0), Ok(it_item.clone())));
    assert_eq!(app.item.as_ref().map(|i| i.id), Some(item(0)));
    it_item.id = item(4);
    update(&mut app, Action::Item(item(4), Ok(it_item)));
    assert_eq!(app.item.as_ref().map(|i| i.id), Some(item(0)));
}

#[test]
fn a_failed_page_is_reported_and_asked_for_again() {
    let mut app = testdata::app_with_entries(2000, 1000);
    let effects = cmd(&mut app, Command::Bottom);
    let generation = app.pages.generation();
    assert_eq!(fetched_pages(&effects).len(), 1);
    update(
        &mut app,
        Action::Page {
            generation,
            page: Front(1),
            result: Err(Failure {
                code: None,
                message: "connection reset".into(),
                unreachable: true,
            }),
        },
    );
    assert!(matches!(&app.message, Some(Message::Error(m)) if m.contains("not reachable")));
    assert_eq!(fetched_pages(&cmd(&mut app, Command::Refresh)).len(), 1);
}
