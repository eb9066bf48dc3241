//! `update` on marks and operations: the picker, the confirm step, prompts, and what the
//! answers of operations do to the model.

use std::collections::BTreeMap;

use sheaf_core::{MetaValue, OpId};
use sheaf_proto::requests::{BatchAddBody, BatchMode, ItemRef, Select};
use sheaf_proto::resources::BatchSummary;
use sheaf_proto::responses::BatchResponse;

use super::update;
use crate::action::{Action, Command, Done, Effect, Failure, Input, Verb};
use crate::app::{App, Message, Overlay, Pane, PromptFor};
use crate::marks::Marks;
use crate::testdata::{self, cid, item};

fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c))
}

fn input(app: &mut App, i: Input) -> Vec<Effect> {
    update(app, Action::Input(i))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        input(app, Input::Char(c));
    }
}

fn op_id() -> OpId {
    "op_01JF0000000000000000000001".parse().unwrap()
}

fn batch_done(verb: Verb, added: u64, already: u64) -> Action {
    Action::Op {
        what: "move",
        result: Ok(Done::Batch(
            verb,
            BatchResponse {
                op_id: op_id(),
                collection_id: cid("papers"),
                summary: BatchSummary {
                    total: added + already,
                    succeeded: added + already,
                    failed: 0,
                    added,
                    moved: added + already,
                    already_in_collection: already,
                },
                items_by_type: BTreeMap::new(),
                request_id: "req_01JF0000000000000000000001".parse().unwrap(),
            },
        )),
    }
}

fn ids(range: std::ops::Range<usize>) -> Vec<ItemRef> {
    let mut v: Vec<_> = range.map(item).collect();
    v.sort_unstable();
    v.into_iter()
        .map(|i| ItemRef::Plain(i.to_string()))
        .collect()
}

#[test]
fn space_marks_the_row_and_moves_down() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Mark);
    assert_eq!(app.cursor, 1);
    cmd(&mut app, Command::Mark);
    assert_eq!(app.marks.count(), Some(2));
    cmd(&mut app, Command::Up);
    cmd(&mut app, Command::Mark);
    assert_eq!(app.marks.count(), Some(1), "space again unmarks");
}

#[test]
fn v_marks_the_loaded_rows_of_a_range() {
    let mut app = testdata::app_with_entries(10, 10);
    app.cursor = 2;
    cmd(&mut app, Command::RangeMark);
    app.cursor = 6;
    cmd(&mut app, Command::RangeMark);
    let marked = app.marks.ids().unwrap();
    assert_eq!(marked.len(), 5);
    assert!((2..=6).all(|i| marked.contains(&item(i))));
    assert_eq!(app.range_from, None);
}

#[test]
fn v_over_rows_not_loaded_marks_what_is_here_and_says_what_is_not() {
    let mut app = testdata::app_with_entries(5000, 1000);
    cmd(&mut app, Command::RangeMark);
    app.cursor = 1999;
    cmd(&mut app, Command::RangeMark);
    assert_eq!(app.marks.count(), Some(1000));
    assert!(
        matches!(&app.message, Some(Message::Info(m)) if m.contains("1,000 rows of the range are not loaded"))
    );
}

#[test]
fn star_marks_everything_matching_and_again_clears() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    cmd(&mut app, Command::MarkAll);
    assert_eq!(app.marks, Marks::All { q: None });
    assert!(matches!(&app.message, Some(Message::Info(m)) if m == "marked all 1,000,000 entries"));
    cmd(&mut app, Command::Mark);
    assert_eq!(
        app.marks,
        Marks::All { q: None },
        "one row cannot leave a filter mark"
    );
    cmd(&mut app, Command::MarkAll);
    assert!(app.marks.is_empty());
}

#[test]
fn m_opens_a_picker_of_other_live_collections_and_typing_narrows_it() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Move);
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    let names: Vec<&str> = p
        .matches
        .iter()
        .map(|i| app.collections[*i].id.as_str())
        .collect();
    assert_eq!(
        names,
        ["default", "papers", "old"],
        "not inbox, not the trashed tmp"
    );
    typed(&mut app, "pap");
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.matches.len(), 1);
}

#[test]
fn a_small_marked_move_is_one_call_without_asking() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    let effects = input(&mut app, Input::Enter);
    assert_eq!(
        effects,
        [Effect::Batch {
            target: cid("papers"),
            body: BatchAddBody {
                items: Some(ids(0..2)),
                select: None,
                mode: BatchMode::Move,
                from: Some("inbox".into()),
                create: false,
                relocate: false,
            },
            verb: Verb::Move,
        }]
    );
    assert!(app.overlay.is_none());
    assert!(app.busy.is_some());
}

#[test]
fn without_marks_the_row_under_the_cursor_is_moved() {
    let mut app = testdata::app_with_entries(3, 3);
    app.cursor = 1;
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    let effects = input(&mut app, Input::Enter);
    let [Effect::Batch { body, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(body.items, Some(ids(1..2)));
}

#[test]
fn a_move_over_the_confirm_bound_asks_first_and_no_changes_nothing() {
    let mut app = testdata::app_with_entries(300, 300);
    app.config.confirm_over = 100;
    app.marks.extend((0..150).map(item));
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    assert!(input(&mut app, Input::Enter).is_empty());
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(c.question, "Move 150 marked entries to papers?");
    assert!(input(&mut app, Input::Char('n')).is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(app.marks.count(), Some(150));
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    input(&mut app, Input::Enter);
    let effects = input(&mut app, Input::Char('y'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Batch {
            verb: Verb::Move,
            ..
        }]
    ));
}

#[test]
fn moving_everything_matching_is_one_select_call_and_is_confirmed() {
    let mut app = testdata::app_with_entries(1_000_000, 1000);
    cmd(&mut app, Command::MarkAll);
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    input(&mut app, Input::Enter);
    let Some(Overlay::Confirm(c)) = app.overlay.clone() else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(c.question, "Move all 1,000,000 entries of inbox to papers?");
    let effects = input(&mut app, Input::Enter);
    let [Effect::Batch { body, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(body.items, None);
    assert_eq!(
        body.select,
        Some(Select {
            collection: Some("inbox".into()),
            ..Select::default()
        })
    );
}

#[test]
fn more_marks_than_one_batch_holds_are_refused_before_any_call() {
    let mut app = testdata::app_with_entries(3000, 3000);
    app.marks.extend((0..1001).map(item));
    assert!(cmd(&mut app, Command::Move).is_empty());
    assert!(app.overlay.is_none());
    assert!(matches!(&app.message, Some(Message::Error(m)) if m.contains("at most 1,000")));
}

#[test]
fn link_offers_no_default_and_sends_a_link() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Link);
    let Some(Overlay::Picker(p)) = &app.overlay else {
        panic!()
    };
    assert!(
        p.matches
            .iter()
            .all(|i| !app.collections[*i].id.is_default())
    );
    typed(&mut app, "papers");
    let effects = input(&mut app, Input::Enter);
    let [Effect::Batch { body, verb, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (body.mode, body.from.as_deref(), *verb),
        (BatchMode::Link, None, Verb::Link)
    );
}

#[test]
fn remove_always_asks_and_sends_one_remove() {
    let mut app = testdata::app_with_entries(3, 3);
    app.marks.toggle(item(2));
    assert!(cmd(&mut app, Command::Remove).is_empty());
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!()
    };
    assert_eq!(c.question, "Remove 1 entry from inbox? (u undoes it)");
    assert_eq!(
        input(&mut app, Input::Char('y')),
        [Effect::Remove {
            collection: cid("inbox"),
            items: vec![item(2)],
        }]
    );
}

#[test]
fn removing_everything_matching_is_a_select_move_into_default() {
    let mut app = testdata::app_with_entries(50, 50);
    app.pages.reset(
        Some(cid("inbox")),
        sheaf_proto::requests::EntrySort::Position,
        Some("report".into()),
        None,
    );
    cmd(&mut app, Command::MarkAll);
    cmd(&mut app, Command::Remove);
    let effects = input(&mut app, Input::Enter);
    let [Effect::Batch { target, body, verb }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!((target.as_str(), *verb), ("default", Verb::RemoveAll));
    assert_eq!(body.mode, BatchMode::Move);
    assert_eq!(body.from.as_deref(), Some("inbox"));
    assert_eq!(
        body.select.as_ref().and_then(|s| s.q.as_deref()),
        Some("report")
    );
}

#[test]
fn a_done_batch_shows_its_summary_clears_marks_and_is_what_u_undoes() {
    let mut app = testdata::app_with_entries(3, 3);
    app.marks.toggle(item(0));
    app.busy = Some("moving…".into());
    let effects = update(&mut app, batch_done(Verb::Move, 312, 4));
    assert_eq!(
        app.message,
        Some(Message::Info(
            "moved 312 to papers · 4 already there".into()
        ))
    );
    assert!(app.marks.is_empty() && app.busy.is_none());
    assert!(effects.contains(&Effect::LoadCollections));
    assert_eq!(cmd(&mut app, Command::Undo), [Effect::Undo(Some(op_id()))]);
    assert_eq!(
        cmd(&mut app, Command::Undo),
        [Effect::Undo(None)],
        "then the log's newest"
    );
}

#[test]
fn a_refused_batch_says_what_the_code_means_and_keeps_the_marks() {
    let mut app = testdata::app_with_entries(3, 3);
    app.marks.toggle(item(0));
    let effects = update(
        &mut app,
        Action::Op {
            what: "move",
            result: Err(Failure {
                code: Some("COLLECTION_ARCHIVED".into()),
                message: "collection old is archived".into(),
                unreachable: false,
            }),
        },
    );
    assert!(effects.is_empty());
    assert_eq!(
        app.message,
        Some(Message::Error(
            "move refused: the collection is archived, so its membership is read-only — nothing changed"
                .into()
        ))
    );
    assert_eq!(app.marks.count(), Some(1));
}

#[test]
fn n_prompts_for_an_id_and_creates_the_collection() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::NewCollection);
    typed(&mut app, "photos");
    assert_eq!(
        input(&mut app, Input::Enter),
        [Effect::CreateCollection("photos".into())]
    );
    assert!(app.overlay.is_none());
}

#[test]
fn r_renames_the_collection_or_the_entry_under_the_cursor() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Rename);
    let Some(Overlay::Prompt(p)) = &app.overlay else {
        panic!()
    };
    assert_eq!(p.purpose, PromptFor::RenameEntry(cid("inbox"), item(0)));
    assert_eq!(p.input, "file-00000.pdf", "starts from the current name");
    input(&mut app, Input::Clear);
    typed(&mut app, "Cover");
    assert_eq!(
        input(&mut app, Input::Enter),
        [Effect::RenameEntry {
            collection: cid("inbox"),
            item: item(0),
            name: "Cover".into()
        }]
    );
    app.focus = Pane::Collections;
    cmd(&mut app, Command::Rename);
    input(&mut app, Input::Clear);
    typed(&mut app, "Inbox");
    assert_eq!(
        input(&mut app, Input::Enter),
        [Effect::RenameCollection {
            id: cid("inbox"),
            name: "Inbox".into()
        }]
    );
}

#[test]
fn e_sets_a_typed_metadata_value_and_bad_input_is_explained() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::EditMetadata);
    typed(&mut app, "pages=12");
    assert_eq!(
        input(&mut app, Input::Enter),
        [Effect::PatchMetadata {
            collection: cid("inbox"),
            item: item(0),
            patch: BTreeMap::from([("pages".to_owned(), Some(MetaValue::Int(12)))]),
        }]
    );
    cmd(&mut app, Command::EditMetadata);
    typed(&mut app, "no equals sign");
    assert!(input(&mut app, Input::Enter).is_empty());
    assert!(matches!(&app.message, Some(Message::Error(m)) if m.contains("key=value")));
}

#[test]
fn metadata_values_are_typed_and_an_empty_value_deletes() {
    let parse = super::ops::parse_metadata;
    assert_eq!(parse("a=true").unwrap()["a"], Some(MetaValue::Bool(true)));
    assert_eq!(parse("a=1.5").unwrap()["a"], Some(MetaValue::Float(1.5)));
    assert_eq!(
        parse("a=\"12\"").unwrap()["a"],
        Some(MetaValue::String("12".into()))
    );
    assert_eq!(
        parse("a=hello world").unwrap()["a"],
        Some(MetaValue::String("hello world".into()))
    );
    assert_eq!(parse(" a = ").unwrap()["a"], None);
    assert!(parse("=x").is_err());
}

#[test]
fn escape_in_a_picker_or_prompt_closes_it_without_effects() {
    let mut app = testdata::app_with_entries(3, 3);
    cmd(&mut app, Command::Move);
    assert!(input(&mut app, Input::Esc).is_empty());
    assert!(app.overlay.is_none());
    cmd(&mut app, Command::NewCollection);
    assert!(input(&mut app, Input::Esc).is_empty());
    assert!(app.overlay.is_none());
}

#[test]
fn unfiled_items_cannot_be_removed_and_moving_them_is_a_link() {
    let mut app = testdata::app_with_entries(3, 3);
    app.pages.reset(
        Some(cid("default")),
        sheaf_proto::requests::EntrySort::Position,
        None,
        Some(3),
    );
    app.pages.fill(
        &cid("default"),
        3,
        0,
        (0..3).map(|i| testdata::entry_in("default", i)).collect(),
    );
    assert!(cmd(&mut app, Command::Remove).is_empty());
    assert!(app.overlay.is_none());
    cmd(&mut app, Command::Move);
    typed(&mut app, "papers");
    let effects = input(&mut app, Input::Enter);
    let [Effect::Batch { body, verb, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!((body.mode, *verb), (BatchMode::Link, Verb::Move));
}
