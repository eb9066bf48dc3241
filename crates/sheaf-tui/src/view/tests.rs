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
fn the_help_on_a_short_terminal_takes_two_columns() {
    let mut app = testdata::app_with_entries(40, 40);
    app.height = 24;
    app.width = 160;
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

/// The details pane of `app` with `preview` read for the entry under the cursor.
fn details_with(preview: crate::preview::Preview) -> String {
    let mut app = testdata::app_with_entries(3, 3);
    app.height = 34;
    let Some((key, _)) = app.preview_target() else {
        panic!("no entry under the cursor")
    };
    app.previews.put(key, preview);
    let area = ratatui::layout::Rect::new(0, 0, app.width, app.height);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    super::render(&app, area, &mut buf);
    let d = crate::layout::Areas::of(app.width, app.height).details;
    (d.y..d.bottom())
        .map(|y| {
            (d.x..d.right())
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_preview_of_a_text_file() {
    insta::assert_snapshot!(details_with(crate::preview::Preview::Text {
        lines: vec![
            "# Notes".into(),
            String::new(),
            "    indented by a tab, and a line long enough to be cut at the pane's edge".into(),
        ],
        more: true,
    }));
}

#[test]
fn the_preview_of_an_image() {
    insta::assert_snapshot!(details_with(crate::preview::Preview::Image {
        format: "PNG".into(),
        size: Some((1920, 1080)),
    }));
}

#[test]
fn the_preview_of_an_archive() {
    insta::assert_snapshot!(details_with(crate::preview::Preview::Archive {
        format: "zip",
        members: vec!["book/".into(), "book/ch1.md".into(), "book/ch2.md".into()],
        more: Some(false),
    }));
}

#[test]
fn the_preview_of_other_files() {
    let kinds = [
        crate::preview::Preview::Binary {
            kind: "application/pdf".into(),
        },
        crate::preview::Preview::Special {
            kind: "a named pipe (FIFO): not read",
        },
        crate::preview::Preview::Unreadable {
            reason: "permission denied".into(),
        },
    ];
    let text: Vec<String> = kinds
        .into_iter()
        .map(|p| {
            details_with(p)
                .lines()
                .skip_while(|l| !l.contains("Preview"))
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn a_folder_bound_collection_names_entries_by_their_path_in_the_folder() {
    let mut app = testdata::app_with_entries(3, 3);
    app.height = 12;
    let watch_id: sheaf_core::WatchId = "w_01JD3Q2X9K8M7N6P5R4S3T2V1W".parse().unwrap();
    app.collections[1].folders = vec![sheaf_proto::resources::Folder {
        watch_id,
        path: "/srv/doc".to_owned(),
    }];
    let paths = [
        "/srv/doc/alloc/vec/struct.Vec.html",
        "/srv/doc/std/index.html",
        "/srv/doc/core/very/deeply/nested/module/path/of/some/length/index.html",
    ];
    let rows = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut e = testdata::entry(i);
            e.display_name = p.rsplit('/').next().unwrap().to_owned();
            e.item.path = Some((*p).to_owned());
            e.source = Some(sheaf_core::EntrySource::Folder(watch_id));
            e
        })
        .collect();
    app.pages.fill(&cid("inbox"), 3, 0, rows);
    let paths_shown = screen(&app);
    cmd(&mut app, Command::ToggleNames);
    let names_shown = screen(&app);
    insta::assert_snapshot!(format!("{paths_shown}\n{names_shown}"));
}

#[test]
fn the_pickers_create_row() {
    let mut app = testdata::app_with_entries(40, 40);
    cmd(&mut app, Command::Move);
    for c in "pap".chars() {
        update(&mut app, crate::action::Action::Input(Input::Char(c)));
    }
    let offered = screen(&app);
    for c in " X".chars() {
        update(&mut app, crate::action::Action::Input(Input::Char(c)));
    }
    insta::assert_snapshot!(format!("{offered}\n{}", screen(&app)));
}

#[test]
fn the_history() {
    let mut app = testdata::app_with_entries(40, 40);
    cmd(&mut app, Command::History);
    let op = |n: u32, kind: &str, undone: bool| sheaf_proto::resources::Op {
        id: format!("op_01JF{n:022}").parse().unwrap(),
        kind: kind.to_owned(),
        collection_id: Some(cid(if n.is_multiple_of(2) {
            "papers"
        } else {
            "inbox"
        })),
        at: testdata::at(),
        changed: 3,
        summary: (kind != "remove").then_some(sheaf_proto::resources::BatchSummary {
            total: 3,
            succeeded: 3,
            failed: 0,
            added: 3,
            moved: if kind == "move" { 3 } else { 0 },
            already_in_collection: 1,
        }),
        items_by_type: None,
        removed: (kind == "remove").then_some(sheaf_proto::resources::RemoveSummary {
            total: 2,
            removed: 2,
            already_removed: 0,
        }),
        undo_of: None,
        undone_by: undone.then(|| "op_01JF0000000000000000000009".parse().unwrap()),
    };
    let run = sheaf_proto::resources::RuleRun {
        rule_id: "r_01JF0000000000000000000001".parse().unwrap(),
        item_id: Some(item(1)),
        event_seq: 7,
        at: testdata::at(),
        ok: false,
        detail: "exit 3: convert failed".into(),
        exit_code: Some(3),
        duration_ms: 40,
        stderr_tail: String::new(),
    };
    update(
        &mut app,
        crate::action::Action::History(Ok(crate::action::HistoryPage {
            more_of: false,
            ops: vec![
                op(1, "move", false),
                op(2, "remove", true),
                op(3, "link", false),
            ],
            next_cursor: Some("~more".into()),
            runs: vec![run],
        })),
    );
    cmd(&mut app, Command::Down);
    insta::assert_snapshot!(screen(&app));
}
