//! `update` on the files behind the entries (open, edit, preview, names), the picker's
//! create row, the history overlay, and progress.

use sheaf_core::OpId;
use sheaf_proto::requests::{BatchMode, ItemRef};
use sheaf_proto::resources::{BatchSummary, Op, RuleRun};

use super::update;
use crate::action::{Action, Command, Effect, Failure, HistoryPage, Input};
use crate::app::{App, Message, Overlay};
use crate::preview::{Preview, PreviewKey};
use crate::testdata::{self, at, cid, item};

fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Input(Input::Char(c)));
    }
}

fn key(i: usize) -> PreviewKey {
    let Effect::Preview { key, .. } = testdata::preview_effect(i) else {
        unreachable!()
    };
    key
}

fn op(n: u32, kind: &str) -> Op {
    Op {
        id: format!("op_01JF{n:022}").parse().unwrap(),
        kind: kind.to_owned(),
        collection_id: Some(cid("inbox")),
        at: at(),
        changed: 2,
        summary: Some(BatchSummary {
            total: 2,
            succeeded: 2,
            failed: 0,
            added: 2,
            moved: 2,
            already_in_collection: 0,
        }),
        items_by_type: None,
        removed: None,
        undo_of: None,
        undone_by: None,
    }
}

fn ops_page(from: u32, n: u32, more: bool) -> Action {
    Action::History(Ok(HistoryPage {
        more_of: from > 0,
        ops: (from..from + n).map(|i| op(i, "move")).collect(),
        next_cursor: more.then(|| format!("~o{}", from + n)),
        runs: Vec::new(),
    }))
}

fn history(app: &App) -> &crate::app::History {
    match &app.overlay {
        Some(Overlay::History(h)) => h,
        other => panic!("no history: {other:?}"),
    }
}

#[test]
fn o_and_enter_on_an_entry_open_its_file_with_the_configured_opener() {
    let mut app = testdata::app_with_entries(3, 3);
    app.config.opener = vec!["/bin/rec".into(), "--new".into()];
    let want = Effect::OpenFile {
        program: vec!["/bin/rec".into(), "--new".into()],
        path: "/home/me/inbox/file-00000.pdf".into(),
    };
    assert_eq!(
        cmd(&mut app, Command::OpenFile),
        std::slice::from_ref(&want)
    );
    assert_eq!(cmd(&mut app, Command::Open), [want]);
    // On the collections pane, enter still opens the collection.
    app.focus = crate::app::Pane::Collections;
    assert!(cmd(&mut app, Command::Open).is_empty());
    assert_eq!(app.focus, crate::app::Pane::Entries);
}

#[test]
fn opening_a_file_that_is_gone_says_so_and_the_openers_failure_shows() {
    let mut app = testdata::app_with_entries(3, 3);
    let rows = vec![sheaf_proto::resources::Entry {
        item: sheaf_proto::resources::ItemBrief {
            path: None,
            ..testdata::entry(0).item
        },
        ..testdata::entry(0)
    }];
    app.pages.fill(&cid("inbox"), 3, 0, rows);
    assert!(cmd(&mut app, Command::OpenFile).is_empty());
    assert!(matches!(&app.message, Some(Message::Error(m)) if m.contains("gone from disk")));
    assert!(cmd(&mut app, Command::Edit).is_empty());
    update(
        &mut app,
        Action::Opened {
            path: "/x/a.pdf".into(),
            result: Err("xdg-open ended with exit status: 4".into()),
        },
    );
    assert!(
        matches!(&app.message, Some(Message::Error(m)) if m == "opening a.pdf failed: xdg-open ended with exit status: 4")
    );
}

#[test]
fn e_asks_the_loop_to_edit_and_the_edited_file_is_previewed_again() {
    let mut app = testdata::app_with_entries(3, 3);
    assert_eq!(
        cmd(&mut app, Command::Edit),
        [Effect::Edit {
            path: "/home/me/inbox/file-00000.pdf".into()
        }]
    );
    update(&mut app, Action::Preview(key(0), Preview::Empty));
    let effects = update(
        &mut app,
        Action::Edited {
            path: "/home/me/inbox/file-00000.pdf".into(),
            result: Ok(()),
        },
    );
    assert_eq!(effects, [testdata::preview_effect(0)]);
    assert!(matches!(&app.message, Some(Message::Info(m)) if m == "edited file-00000.pdf"));
}

#[test]
fn the_preview_is_asked_for_once_per_file_state_and_kept() {
    let mut app = testdata::app_with_entries(3, 3);
    let effects = cmd(&mut app, Command::Down);
    assert!(effects.contains(&testdata::preview_effect(1)));
    update(
        &mut app,
        Action::Preview(
            key(1),
            Preview::Text {
                lines: vec!["hello".into()],
                more: false,
            },
        ),
    );
    cmd(&mut app, Command::Up);
    let back = cmd(&mut app, Command::Down);
    assert!(
        !back.iter().any(|e| matches!(e, Effect::Preview { .. })),
        "{back:?}"
    );
    assert!(matches!(
        app.previews.get(&key(1)),
        Some(Preview::Text { .. })
    ));
}

#[test]
fn t_toggles_between_folder_paths_and_display_names() {
    let mut app = testdata::app_with_entries(3, 3);
    assert!(app.folder_paths);
    cmd(&mut app, Command::ToggleNames);
    assert!(!app.folder_paths);
    assert!(matches!(&app.message, Some(Message::Info(m)) if m == "names: display names"));
    cmd(&mut app, Command::ToggleNames);
    assert!(app.folder_paths);
}

#[test]
fn the_picker_offers_to_create_a_new_name_and_one_key_creates_and_moves() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Move);
    typed(&mut app, "reading");
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert!(p.matches.is_empty());
    assert_eq!(p.create, Some(Ok(cid("reading"))));
    let effects = update(&mut app, Action::Input(Input::Enter));
    let [Effect::Batch { target, body, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(target, &cid("reading"));
    assert!(body.create);
    assert_eq!(body.mode, BatchMode::Move);
    assert_eq!(body.items, Some(vec![ItemRef::Plain(item(0).to_string())]));
}

#[test]
fn the_create_row_comes_last_after_matches_and_not_for_an_existing_name() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Link);
    typed(&mut app, "pap");
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.rows(), p.matches.len() + 1);
    assert_eq!(p.cursor, 0, "the best match first");
    update(&mut app, Action::Input(Input::Down));
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.cursor, p.matches.len(), "then the create row");
    typed(&mut app, "ers");
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.create, None, "papers exists");
}

#[test]
fn an_invalid_name_is_explained_on_the_create_row_and_enter_keeps_the_picker() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Move);
    typed(&mut app, "My Papers");
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert!(matches!(&p.create, Some(Err(why)) if why.starts_with("lowercase only")));
    assert!(update(&mut app, Action::Input(Input::Enter)).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Picker(_))));
    assert_eq!(
        super::ops::slug_problem("a b").as_deref(),
        Some("' ' is not allowed: use a-z 0-9 _ . - (like research_papers)")
    );
}

#[test]
fn h_opens_the_log_newest_first_and_pages_on_as_the_cursor_nears_its_end() {
    let mut app = testdata::app_with_entries(3, 3);
    assert_eq!(
        cmd(&mut app, Command::History),
        [Effect::LoadHistory { cursor: None }]
    );
    update(&mut app, ops_page(0, 30, true));
    assert_eq!(history(&app).ops.len(), 30);
    assert!(cmd(&mut app, Command::Down).is_empty());
    let effects = cmd(&mut app, Command::PageDown);
    assert_eq!(
        effects,
        [Effect::LoadHistory {
            cursor: Some("~o30".into())
        }]
    );
    assert!(cmd(&mut app, Command::Down).is_empty(), "asked once");
    update(&mut app, ops_page(30, 5, false));
    assert_eq!(history(&app).ops.len(), 35);
    assert_eq!(history(&app).next_cursor, None);
    cmd(&mut app, Command::Bottom);
    assert_eq!(history(&app).cursor, 34);
    cmd(&mut app, Command::Escape);
    assert!(app.overlay.is_none());
}

#[test]
fn u_in_the_log_undoes_the_selected_op_and_the_log_is_read_again() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::History);
    update(&mut app, ops_page(0, 5, false));
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    let selected: OpId = history(&app).ops[2].id;
    assert_eq!(cmd(&mut app, Command::Undo), [Effect::Undo(Some(selected))]);
    let effects = update(
        &mut app,
        Action::Op {
            what: "undo",
            result: Err(Failure {
                code: Some("UNDO_CONFLICT".into()),
                message: "conflict".into(),
                unreachable: false,
            }),
        },
    );
    assert!(effects.is_empty());
    assert!(
        matches!(&app.message, Some(Message::Error(m)) if m.contains("later changes touched the same entries"))
    );
    let effects = update(
        &mut app,
        Action::Op {
            what: "undo",
            result: Ok(crate::action::Done::NothingToUndo),
        },
    );
    assert!(effects.contains(&Effect::LoadHistory { cursor: None }));
    // The reread keeps the cursor on its op.
    update(&mut app, ops_page(0, 5, false));
    assert_eq!(history(&app).ops[history(&app).cursor].id, selected);
}

#[test]
fn an_undone_op_is_not_undone_again_and_rule_runs_arrive_with_the_first_page() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::History);
    let mut done = op(1, "link");
    done.undone_by = Some(op(2, "undo").id);
    let run = RuleRun {
        rule_id: "r_01JF0000000000000000000001".parse().unwrap(),
        item_id: Some(item(1)),
        event_seq: 7,
        at: at(),
        ok: true,
        detail: "linked to papers".into(),
        exit_code: None,
        duration_ms: 3,
        stderr_tail: String::new(),
    };
    update(
        &mut app,
        Action::History(Ok(HistoryPage {
            more_of: false,
            ops: vec![done],
            next_cursor: None,
            runs: vec![run],
        })),
    );
    assert_eq!(history(&app).runs.len(), 1);
    assert!(cmd(&mut app, Command::Undo).is_empty());
    assert!(matches!(&app.message, Some(Message::Info(m)) if m.contains("undone already")));
}

#[test]
fn ticks_count_a_running_operations_seconds_and_ask_about_the_daemons_work_while_there_is_any() {
    let mut app = testdata::app_with_entries(3, 3);
    assert!(
        update(&mut app, Action::Tick).is_empty(),
        "nothing happening"
    );
    app.busy = Some("moving…".into());
    update(&mut app, Action::Tick);
    assert_eq!(app.busy_ticks, 1);
    update(&mut app, Action::Events(Vec::new()));
    assert_eq!(update(&mut app, Action::Tick), [Effect::LoadProgress]);
    assert!(update(&mut app, Action::Tick).is_empty(), "asked once");
    update(
        &mut app,
        Action::Progress(Ok(vec!["scanning /srv/doc · 10 files".into()])),
    );
    assert_eq!(
        update(&mut app, Action::Tick),
        [Effect::LoadProgress],
        "still working"
    );
    update(&mut app, Action::Progress(Ok(Vec::new())));
    assert!(update(&mut app, Action::Tick).is_empty(), "done");
    assert!(app.progress.lines.is_empty());
}
