//! Snapshots of every screen and overlay, drawn into ratatui's `TestBackend` from fixed
//! models (constant ids and times).

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::action::{Command, Effect, Input};
use crate::app::{App, Connection, Message, Pane};
use crate::config::Config;
use crate::testdata::{self, cid, collection, item};
use crate::update::update;

fn screen(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| super::draw(f, app)).unwrap();
    terminal.backend().clone()
}

fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, crate::action::Action::Command(c))
}

#[test]
fn an_empty_store() {
    let mut app = App::new(Config::default(), 1000, None);
    app.width = 100;
    app.height = 16;
    app.connection = Connection::Connected;
    update(
        &mut app,
        crate::action::Action::Collections(Ok(vec![collection("default", 0)])),
    );
    let generation = app.pages.generation();
    update(
        &mut app,
        crate::action::Action::Page {
            generation,
            page: crate::pages::PageAt::Front(0),
            result: Ok(sheaf_proto::responses::EntryPage {
                entries: Vec::new(),
                next_cursor: None,
            }),
        },
    );
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_populated_store() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    app.cursor = 1;
    app.cursor_item = Some(item(1));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn marks() {
    let mut app = testdata::app_with_entries(40, 40);
    for _ in 0..3 {
        cmd(&mut app, Command::Mark);
    }
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Mark);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_collection_picker() {
    let mut app = testdata::app_with_entries(40, 40);
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Move);
    update(&mut app, crate::action::Action::Input(Input::Char('p')));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_help() {
    let mut app = testdata::app_with_entries(40, 40);
    app.height = 36;
    cmd(&mut app, Command::Help);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_confirm_step() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    cmd(&mut app, Command::MarkAll);
    cmd(&mut app, Command::Move);
    for c in "papers".chars() {
        update(&mut app, crate::action::Action::Input(Input::Char(c)));
    }
    update(&mut app, crate::action::Action::Input(Input::Enter));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_metadata_prompt() {
    let mut app = testdata::app_with_entries(40, 40);
    cmd(&mut app, Command::EditMetadata);
    for c in "status=done".chars() {
        update(&mut app, crate::action::Action::Input(Input::Char(c)));
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn an_error() {
    let mut app = testdata::app_with_entries(40, 40);
    app.message = Some(Message::Error(
        "move refused: the collection is archived, so its membership is read-only — nothing changed"
            .into(),
    ));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn reconnecting() {
    let mut app = testdata::app_with_entries(40, 40);
    app.connection = Connection::Reconnecting {
        attempt: 3,
        reason: "sheafd is not running on /run/sheaf/sheafd.sock".into(),
    };
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn rows_not_loaded_yet_and_a_narrow_terminal() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    app.width = 80;
    app.height = 12;
    app.focus = Pane::Collections;
    app.pages.reset(
        Some(cid("inbox")),
        sheaf_proto::requests::EntrySort::Name,
        None,
        Some(1_000_000),
    );
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_folder_entry_names_its_folder_by_path() {
    let mut app = testdata::app_with_entries(3, 3);
    app.height = 18;
    let watch_id: sheaf_core::WatchId = "w_01JD3Q2X9K8M7N6P5R4S3T2V1W".parse().unwrap();
    app.collections[1].folders = vec![sheaf_proto::resources::Folder {
        watch_id,
        path: "/srv/inbox".to_owned(),
    }];
    let rows = (0..3)
        .map(|i| sheaf_proto::resources::Entry {
            source: Some(sheaf_core::EntrySource::Folder(watch_id)),
            ..testdata::entry(i)
        })
        .collect();
    app.pages.fill(&cid("inbox"), 3, 0, rows);
    let drawn = screen(&app);
    assert!(
        drawn.to_string().contains("│source   folder /srv/inbox"),
        "{drawn}"
    );
    insta::assert_snapshot!(drawn);
}

#[test]
fn smart_collections_carry_an_s_badge_and_an_ellipsis_while_they_fill() {
    let mut app = testdata::app_with_entries(3, 3);
    app.collections[2].query = Some(serde_json::json!({"kind": ["document"]}));
    app.collections[2].filling = Some(true);
    let drawn = screen(&app).to_string();
    let row = drawn
        .lines()
        .find(|l| l.contains("papers"))
        .expect("the papers row");
    assert!(row.contains("0 S…"), "{row}");
    app.collections[2].filling = Some(false);
    let drawn = screen(&app).to_string();
    let row = drawn.lines().find(|l| l.contains("papers")).unwrap();
    assert!(row.contains("0 S") && !row.contains('…'), "{row}");
}
