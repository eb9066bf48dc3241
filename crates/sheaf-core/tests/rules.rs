//! The rules of every membership operation, planned against an in-memory state and applied
//! as the store applies them: refusals with their codes and details, the accounting of
//! SPEC §2.1, soft deletes, ordering, undo and registration.

mod support;

use std::collections::BTreeMap;

use sheaf_core::rules::{
    self, BatchAdd, BatchItems, CollectionUpdate, EntryUpdate, ItemRef, ItemUpdate, Mode,
    NewCollection, NewEntry, Placement, Remove, Reorder, Selection,
};
use sheaf_core::{
    AcceptRule, Change, Details, EntryFilter, EntrySource, ErrorCode, EventKind, FieldError,
    ItemId, ItemTarget, Kind, Loc, MetaValue, Metadata, MetadataPatch, OpId, OpKind, Outcome, Plan,
    Refusal, RemoveSummary, StateView,
};
use support::{World, batch_outcome, cid, counts, facts, link, move_to, op_of};

const PAPER: &str = "/home/u/papers/a.pdf";
const PHOTO: &str = "/home/u/pics/b.png";
const THESIS: &str = "/home/u/papers/c.pdf";
const NOTES: &str = "/home/u/notes/d.md";

/// No members.
const NONE: [ItemId; 0] = [];

/// Four registered files: two documents, an image, a text.
struct Files {
    paper: ItemId,
    photo: ItemId,
    thesis: ItemId,
    notes: ItemId,
}

fn setup(collections: &[&str]) -> (World, Files) {
    let mut w = World::new();
    for c in collections {
        w.create(c);
    }
    let ids = w.register(&[PAPER, PHOTO, THESIS, NOTES]);
    let files = Files {
        paper: ids[0],
        photo: ids[1],
        thesis: ids[2],
        notes: ids[3],
    };
    (w, files)
}

/// A location such as `body.items.1.metadata`: numbers are indexes, the rest keys.
fn at(parts: &[&str]) -> Vec<Loc> {
    parts
        .iter()
        .map(|p| p.parse::<usize>().map_or_else(|_| Loc::from(*p), Loc::from))
        .collect()
}

#[track_caller]
fn fields(r: &Refusal) -> &[FieldError] {
    match &r.details {
        Details::Fields(f) => f,
        other => panic!("expected field details, got {other:?}"),
    }
}

#[track_caller]
fn ids_under(r: &Refusal, key: &str) -> Vec<String> {
    match &r.details {
        Details::Ids { key: k, ids } if *k == key => ids.clone(),
        other => panic!("expected ids under {key:?}, got {other:?}"),
    }
}

fn strings(ids: &[ItemId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

fn targets(items: &[ItemId]) -> Vec<ItemTarget> {
    items.iter().map(|i| ItemTarget::Id(*i)).collect()
}

fn remove(collection: &str, items: &[ItemId]) -> Remove {
    Remove {
        collection: cid(collection),
        items: targets(items),
    }
}

fn select(collection: &str, q: Option<&str>, kind: Option<Kind>) -> BatchItems {
    BatchItems::Select(Selection {
        collection: Some(cid(collection)),
        filter: EntryFilter {
            q: q.map(str::to_owned),
            kind,
        },
        query: None,
    })
}

fn relative(collection: &str, item: ItemId, anchor: ItemId, after: bool) -> Reorder {
    Reorder {
        collection: cid(collection),
        placement: Placement::Relative {
            item: ItemTarget::Id(item),
            anchor: ItemTarget::Id(anchor),
            after,
        },
    }
}

fn rename(name: &str) -> EntryUpdate {
    EntryUpdate {
        display_name: Some(name.to_owned()),
        ..EntryUpdate::default()
    }
}

fn undone(plan: &Plan) -> (OpId, OpId, u64) {
    match plan.outcome {
        Outcome::Undone {
            op_id,
            undone,
            restored,
        } => (op_id, undone, restored),
        ref other => panic!("not an undo outcome: {other:?}"),
    }
}

fn event_kinds(plan: &Plan) -> Vec<EventKind> {
    plan.events().into_iter().map(|e| e.kind).collect()
}

fn removed(plan: &Plan) -> RemoveSummary {
    match &plan.outcome {
        Outcome::Removed { summary, .. } => summary.clone(),
        other => panic!("not a remove outcome: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// VALIDATION_ERROR

#[test]
fn batch_add_with_no_items_is_a_validation_error_on_body_items() {
    let (mut w, _) = setup(&["inbox"]);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("inbox", &[])));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(r.message, "at least one item is required");
    assert_eq!(
        fields(&r),
        [FieldError::new(
            at(&["body", "items"]),
            "at least one item is required",
            "too_short"
        )]
    );
}

#[test]
fn bad_entry_fields_are_refused_with_the_location_of_each() {
    let (mut w, f) = setup(&["inbox"]);
    let bad_meta: Metadata = [
        ("ok".to_owned(), MetaValue::Int(1)),
        ("ratio".to_owned(), MetaValue::Float(f64::NAN)),
    ]
    .into();
    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef {
                display_name: Some(String::new()),
                ..ItemRef::to(ItemTarget::Id(f.paper))
            },
            ItemRef {
                metadata: Some(bad_meta),
                ..ItemRef::to(ItemTarget::Id(f.photo))
            },
        ]),
        ..link("inbox", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(r.message, "2 fields are invalid");
    let got: Vec<(Vec<Loc>, &str)> = fields(&r)
        .iter()
        .map(|e| (e.loc.clone(), e.kind.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (at(&["body", "items", "0", "display_name"]), "string_length"),
            (
                at(&["body", "items", "1", "metadata", "ratio"]),
                "metadata.number"
            ),
        ]
    );
}

#[test]
fn single_add_reports_bad_metadata_at_the_flat_body_location() {
    let (mut w, f) = setup(&["inbox"]);
    let req = NewEntry {
        collection: cid("inbox"),
        item: ItemTarget::Id(f.paper),
        display_name: None,
        unique_id: None,
        metadata: Some([(String::new(), MetaValue::Bool(true))].into()),
    };
    let r = w.refuse(|v, c| rules::plan_add_one(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r).len(), 1);
    assert_eq!(fields(&r)[0].loc, at(&["body", "metadata", ""]));
    assert_eq!(fields(&r)[0].kind, "metadata.key_length");
}

#[test]
fn link_with_from_is_a_validation_error() {
    let (mut w, f) = setup(&["inbox", "papers"]);
    let req = BatchAdd {
        from: Some(cid("inbox")),
        ..link("papers", &[f.paper])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, at(&["body", "from"]));
    assert_eq!(fields(&r)[0].kind, "from_without_move");
}

#[test]
fn link_with_relocate_is_a_validation_error() {
    let (mut w, f) = setup(&["papers"]);
    let req = BatchAdd {
        relocate: true,
        ..link("papers", &[f.paper])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, at(&["body", "relocate"]));
    assert_eq!(fields(&r)[0].kind, "relocate_without_move");
}

#[test]
fn link_into_default_is_a_validation_error() {
    let (mut w, f) = setup(&[]);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("default", &[f.paper])));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, at(&["path", "collection_id"]));
    assert_eq!(fields(&r)[0].kind, "link_into_default");
}

#[test]
fn moving_from_the_target_itself_is_a_validation_error() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    let req = move_to("inbox", &[f.paper], Some("inbox"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(r.message, "from and the target are the same collection");
    assert_eq!(fields(&r)[0].loc, at(&["body", "from"]));
    assert_eq!(fields(&r)[0].kind, "from_is_target");
}

#[test]
fn purging_a_collection_that_is_not_in_the_trash_is_a_validation_error() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    let r = w.refuse(|v, c| rules::plan_purge_collection(v, c, &cid("inbox")));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, at(&["query", "purge"]));
    assert_eq!(fields(&r)[0].kind, "not_trashed");

    w.trash("inbox");
    let plan = w.commit(|v, c| rules::plan_purge_collection(v, c, &cid("inbox")));
    assert_eq!(plan.outcome, Outcome::Purged(cid("inbox")));
    assert_eq!(event_kinds(&plan), [EventKind::CollectionPurged]);
    assert!(!w.state.collections.contains_key(&cid("inbox")));
    assert_eq!(w.entry("inbox", f.paper), None);
    assert_eq!(w.unfiled().len(), 4);
}

#[test]
fn the_default_collection_cannot_be_updated_trashed_or_purged() {
    let (mut w, _) = setup(&[]);
    let update = CollectionUpdate {
        name: Some("Everything".into()),
        ..CollectionUpdate::default()
    };
    let default = cid("default");
    let r = w.refuse(|v, c| rules::plan_update_collection(v, c, &default, &update));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(
        r.message,
        "the default collection cannot be renamed, archived or changed"
    );
    assert_eq!(fields(&r)[0].loc, at(&["path", "collection_id"]));
    assert_eq!(fields(&r)[0].kind, "default_collection");

    let r = w.refuse(|v, c| rules::plan_trash_collection(v, c, &default));
    assert_eq!(r.message, "the default collection cannot be deleted");
    let r = w.refuse(|v, c| rules::plan_purge_collection(v, c, &default));
    assert_eq!(r.message, "the default collection cannot be deleted");
}

#[test]
fn placing_an_item_next_to_itself_is_a_validation_error() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    let req = relative("inbox", f.paper, f.paper, true);
    let r = w.refuse(|v, c| rules::plan_reorder(v, c, &req));
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].kind, "same_item");
}

// ---------------------------------------------------------------------------------------
// BATCH_SIZE_EXCEEDED, INVALID_ID

#[test]
fn a_batch_over_max_batch_is_refused_before_anything_is_looked_up() {
    let (mut w, f) = setup(&["inbox"]);
    w.limits.max_batch = 2;
    // The third reference names nothing: the size is checked first.
    let ghost = ItemId::new(Kind::Document, ulid::Ulid::from_parts(1, 1));
    let req = link("inbox", &[f.paper, f.photo, ghost]);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::BatchSizeExceeded);
    assert_eq!(r.message, "3 items in one batch; the limit is 2");
    assert!(r.details.is_none());

    let r = w.refuse(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper, f.photo, ghost])));
    assert_eq!(r.code, ErrorCode::BatchSizeExceeded);

    // Exactly the limit passes.
    let plan = w.link("inbox", &[f.paper, f.photo]);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
}

#[test]
fn a_select_matching_more_than_max_select_is_refused() {
    let (mut w, f) = setup(&["inbox", "reading"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis]);
    w.limits.max_select = 2;
    let req = BatchAdd {
        items: select("inbox", None, None),
        ..link("reading", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::BatchSizeExceeded);
    assert_eq!(
        r.message,
        "the selection matches more than 2 items; narrow it down"
    );

    // Narrowed to the two documents, it passes.
    let req = BatchAdd {
        items: select("inbox", None, Some(Kind::Document)),
        ..link("reading", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    assert_eq!(w.members("reading"), [f.paper, f.thesis]);
}

#[test]
fn a_malformed_item_reference_is_invalid_id() {
    let loc = at(&["body", "items", "0"]);
    let r = ItemTarget::parse("nope", loc.clone()).expect_err("not an id");
    assert_eq!(r.code, ErrorCode::InvalidId);
    assert_eq!(ids_under(&r, "invalid"), ["nope"]);
    assert!(
        r.message.starts_with("\"nope\" is not a valid item id"),
        "{}",
        r.message
    );

    // An id of another family is not an item id either.
    let r = ItemTarget::parse("ent_01J00000000000000000000000", loc.clone()).expect_err("entry id");
    assert_eq!(r.code, ErrorCode::InvalidId);

    // A path that is not normalised is a validation error at that location.
    let r = ItemTarget::parse("/home/u/../etc/passwd", loc.clone()).expect_err("not normal");
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, loc);

    let id = "img_01J00000000000000000000000";
    assert_eq!(
        ItemTarget::parse(id, loc.clone()).expect("an id"),
        ItemTarget::Id(id.parse().expect("an id"))
    );
    assert_eq!(
        ItemTarget::parse(PHOTO, loc).expect("a path"),
        ItemTarget::Path(PHOTO.to_owned())
    );
}

// ---------------------------------------------------------------------------------------
// COLLECTION_NOT_FOUND, COLLECTION_TRASHED, COLLECTION_EXISTS, COLLECTION_ARCHIVED

#[test]
fn adding_to_or_moving_from_a_missing_collection_is_collection_not_found() {
    let (mut w, f) = setup(&["inbox"]);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("nowhere", &[f.paper])));
    assert_eq!(r.code, ErrorCode::CollectionNotFound);
    assert_eq!(r.message, "collection nowhere does not exist");

    let req = move_to("inbox", &[f.paper], Some("nowhere"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionNotFound);
    assert_eq!(r.message, "collection nowhere does not exist");

    let req = BatchAdd {
        items: select("nowhere", None, None),
        ..link("inbox", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionNotFound);
}

#[test]
fn membership_changes_of_a_trashed_collection_are_collection_trashed() {
    let (mut w, f) = setup(&["inbox", "other"]);
    w.link("inbox", &[f.paper]);
    w.trash("inbox");
    let trashed = "collection inbox is in the trash; restore it first";

    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("inbox", &[f.photo])));
    assert_eq!(
        (r.code, r.message.as_str()),
        (ErrorCode::CollectionTrashed, trashed)
    );
    // `create` does not resurrect it either.
    let req = BatchAdd {
        create: true,
        ..link("inbox", &[f.photo])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionTrashed);
    let r = w.refuse(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper])));
    assert_eq!(r.code, ErrorCode::CollectionTrashed);
    let req = move_to("other", &[f.paper], Some("inbox"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionTrashed);

    // Restored, it takes changes again, and its entries are live as before.
    w.commit(|v, c| rules::plan_restore_collection(v, c, &cid("inbox")));
    let plan = w.link("inbox", &[f.photo]);
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 0, 0));
    assert_eq!(w.members("inbox"), [f.paper, f.photo]);
}

#[test]
fn creating_an_existing_collection_or_default_is_collection_exists() {
    let (mut w, _) = setup(&["inbox"]);
    let new = |id: &str| NewCollection {
        id: Some(cid(id)),
        ..NewCollection::default()
    };
    let r = w.refuse(|v, c| rules::plan_create_collection(v, c, &new("inbox")));
    assert_eq!(r.code, ErrorCode::CollectionExists);
    assert_eq!(r.message, "collection inbox exists already");

    w.trash("inbox");
    let r = w.refuse(|v, c| rules::plan_create_collection(v, c, &new("inbox")));
    assert_eq!(r.code, ErrorCode::CollectionExists);
    assert_eq!(r.message, "collection inbox exists already (in the trash)");

    let r = w.refuse(|v, c| rules::plan_create_collection(v, c, &new("default")));
    assert_eq!(r.code, ErrorCode::CollectionExists);
}

#[test]
fn adding_to_an_archived_collection_is_collection_archived() {
    let (mut w, f) = setup(&["old"]);
    w.archive("old");
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("old", &[f.paper])));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
    assert_eq!(ids_under(&r, "archived"), ["old"]);
    let r = w.refuse(|v, c| rules::plan_reorder(v, c, &relative("old", f.paper, f.photo, true)));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
}

#[test]
fn moving_out_of_an_archived_from_is_collection_archived() {
    let (mut w, f) = setup(&["old", "new"]);
    w.link("old", &[f.paper]);
    w.archive("old");
    let req = move_to("new", &[f.paper], Some("old"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
    assert_eq!(ids_under(&r, "archived"), ["old"]);
}

#[test]
fn moving_without_from_an_item_also_in_an_archived_collection_is_refused() {
    let (mut w, f) = setup(&["inbox", "old", "new"]);
    w.link("inbox", &[f.paper, f.photo]);
    w.link("old", &[f.paper]);
    w.archive("old");

    let req = move_to("new", &[f.paper, f.photo], None);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
    assert_eq!(ids_under(&r, "archived"), ["old"]);

    // Naming the source leaves the archived membership alone.
    let req = move_to("new", &[f.paper, f.photo], Some("inbox"));
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 2, 0));
    assert_eq!(w.members("old"), [f.paper]);
    assert_eq!(w.members("inbox"), NONE);
}

// ---------------------------------------------------------------------------------------
// ITEMS_NOT_FOUND, ENTRY_NOT_FOUND, OP_NOT_FOUND

#[test]
fn batch_add_is_refused_whole_when_one_item_is_missing() {
    let (mut w, f) = setup(&["inbox"]);
    let ghost = ItemId::new(Kind::Document, ulid::Ulid::from_parts(1, 1));
    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef::to(ItemTarget::Id(f.paper)),
            ItemRef::to(ItemTarget::Id(ghost)),
            ItemRef::to(ItemTarget::Path("/home/u/never/seen.pdf".into())),
        ]),
        ..link("inbox", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ItemsNotFound);
    assert_eq!(r.message, "2 of 3 items do not exist");
    assert_eq!(
        ids_under(&r, "missing"),
        [ghost.to_string(), "/home/u/never/seen.pdf".to_owned()]
    );
    assert_eq!(w.members("inbox"), NONE);
}

#[test]
fn an_id_whose_prefix_is_not_the_items_kind_names_nothing() {
    let (mut w, f) = setup(&["inbox"]);
    let wrong = ItemId::new(Kind::Image, f.paper.ulid());
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("inbox", &[wrong])));
    assert_eq!(r.code, ErrorCode::ItemsNotFound);
    assert_eq!(r.message, "1 of 1 items do not exist");
    assert_eq!(ids_under(&r, "missing"), [wrong.to_string()]);
}

#[test]
fn a_missing_reference_repeated_in_one_request_counts_once() {
    let (mut w, f) = setup(&["inbox"]);
    let ghost = ItemId::new(Kind::Document, ulid::Ulid::from_parts(1, 1));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("inbox", &[f.paper, ghost, ghost])));
    assert_eq!(r.code, ErrorCode::ItemsNotFound);
    assert_eq!(r.message, "1 of 2 items do not exist");
    assert_eq!(ids_under(&r, "missing"), [ghost.to_string()]);
}

#[test]
fn remove_reorder_and_update_of_an_item_not_in_the_collection_are_entry_not_found() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.thesis]);
    // A removed entry is not there for reorder and update either.
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.thesis])));

    let r = w.refuse(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper, f.photo])));
    assert_eq!(r.code, ErrorCode::EntryNotFound);
    assert_eq!(r.message, "1 item(s) are not in inbox");
    assert_eq!(ids_under(&r, "missing"), strings(&[f.photo]));

    let req = Reorder {
        collection: cid("inbox"),
        placement: Placement::Front(targets(&[f.photo, f.paper, f.thesis])),
    };
    let r = w.refuse(|v, c| rules::plan_reorder(v, c, &req));
    assert_eq!(r.code, ErrorCode::EntryNotFound);
    assert_eq!(r.message, "2 item(s) are not in inbox");
    assert_eq!(ids_under(&r, "missing"), strings(&[f.photo, f.thesis]));

    let r = w.refuse(|v, c| {
        rules::plan_update_entry(v, c, &cid("inbox"), &ItemTarget::Id(f.photo), &rename("x"))
    });
    assert_eq!(r.code, ErrorCode::EntryNotFound);
    assert_eq!(r.message, format!("{} is not in inbox", f.photo));
    assert_eq!(ids_under(&r, "missing"), strings(&[f.photo]));
}

#[test]
fn undoing_an_unknown_op_is_op_not_found() {
    let (mut w, _) = setup(&[]);
    let op = OpId::from_ulid(ulid::Ulid::from_parts(1, 99));
    let r = w.refuse(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(r.code, ErrorCode::OpNotFound);
    assert_eq!(r.message, format!("operation {op} does not exist"));
}

// ---------------------------------------------------------------------------------------
// ALREADY_IN_COLLECTION, UNIQUE_ID_CONFLICT

#[test]
fn single_add_of_a_live_member_is_already_in_collection() {
    let (mut w, f) = setup(&["inbox"]);
    let req = NewEntry {
        collection: cid("inbox"),
        item: ItemTarget::Path(PAPER.into()),
        display_name: Some("The paper".into()),
        unique_id: Some("paper-1".into()),
        metadata: None,
    };
    let plan = w.commit(|v, c| rules::plan_add_one(v, c, &req));
    let Outcome::Entry { op_id, entry } = &plan.outcome else {
        panic!("not an entry: {:?}", plan.outcome);
    };
    assert_eq!(*op_id, Some(op_of(&plan)));
    assert_eq!(entry, &w.live_entry("inbox", f.paper));
    assert_eq!(entry.display_name, "The paper");
    assert_eq!(entry.unique_id, "paper-1");
    assert_eq!(entry.source, EntrySource::Manual);
    assert_eq!(plan.op.as_ref().map(|o| o.kind), Some(OpKind::AddOne));

    let r = w.refuse(|v, c| rules::plan_add_one(v, c, &req));
    assert_eq!(r.code, ErrorCode::AlreadyInCollection);
    assert_eq!(r.message, format!("{} is already in inbox", f.paper));
    assert_eq!(ids_under(&r, "already_in_collection"), strings(&[f.paper]));
}

#[test]
fn single_add_of_a_member_of_a_trashed_or_archived_collection_is_refused_by_its_state() {
    let (mut w, f) = setup(&["inbox", "old"]);
    w.link("inbox", &[f.paper]);
    w.link("old", &[f.paper]);
    w.trash("inbox");
    w.archive("old");
    let again = |collection: &str| NewEntry {
        collection: cid(collection),
        item: ItemTarget::Id(f.paper),
        display_name: None,
        unique_id: None,
        metadata: None,
    };
    let r = w.refuse(|v, c| rules::plan_add_one(v, c, &again("inbox")));
    assert_eq!(r.code, ErrorCode::CollectionTrashed);
    let r = w.refuse(|v, c| rules::plan_add_one(v, c, &again("old")));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
}

#[test]
fn an_explicit_unique_id_taken_by_another_entry_is_refused() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    assert_eq!(w.live_entry("inbox", f.paper).unique_id, "a.pdf");

    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef::to(ItemTarget::Id(f.thesis)),
            ItemRef {
                unique_id: Some("a.pdf".into()),
                ..ItemRef::to(ItemTarget::Id(f.photo))
            },
        ]),
        ..link("inbox", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::UniqueIdConflict);
    assert_eq!(ids_under(&r, "conflicts"), ["a.pdf"]);
    assert_eq!(
        r.message,
        "1 unique_id(s) are already taken by other live entries of inbox"
    );

    // Renaming an entry onto a taken unique id is refused the same way.
    w.link("inbox", &[f.photo]);
    let update = EntryUpdate {
        unique_id: Some("a.pdf".into()),
        ..EntryUpdate::default()
    };
    let r = w.refuse(|v, c| {
        rules::plan_update_entry(v, c, &cid("inbox"), &ItemTarget::Id(f.photo), &update)
    });
    assert_eq!(r.code, ErrorCode::UniqueIdConflict);
    assert_eq!(ids_under(&r, "conflicts"), ["a.pdf"]);
}

#[test]
fn two_items_of_one_batch_with_the_same_explicit_unique_id_are_refused() {
    let (mut w, f) = setup(&["inbox"]);
    let with_uid = |id| ItemRef {
        unique_id: Some("cover".into()),
        ..ItemRef::to(ItemTarget::Id(id))
    };
    let req = BatchAdd {
        items: BatchItems::Refs(vec![with_uid(f.paper), with_uid(f.photo)]),
        ..link("inbox", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::UniqueIdConflict);
    assert_eq!(ids_under(&r, "conflicts"), ["cover"]);
    assert_eq!(w.members("inbox"), NONE);
}

#[test]
fn a_taken_default_unique_id_falls_back_to_the_item_id_but_an_explicit_one_is_refused() {
    let mut w = World::new();
    w.create("reports");
    let ids = w.register(&[
        "/home/u/2023/report.pdf",
        "/home/u/2024/report.pdf",
        "/home/u/2025/report.pdf",
    ]);
    // Two items with one file name in one batch: the second falls back.
    let plan = w.link("reports", &ids[..2]);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    assert_eq!(w.live_entry("reports", ids[0]).unique_id, "report.pdf");
    assert_eq!(
        w.live_entry("reports", ids[1]).unique_id,
        ids[1].to_string()
    );
    assert_eq!(w.live_entry("reports", ids[1]).display_name, "report.pdf");

    // Naming the taken one explicitly is a conflict.
    let req = BatchAdd {
        items: BatchItems::Refs(vec![ItemRef {
            unique_id: Some("report.pdf".into()),
            ..ItemRef::to(ItemTarget::Id(ids[2]))
        }]),
        ..link("reports", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::UniqueIdConflict);
    assert_eq!(ids_under(&r, "conflicts"), ["report.pdf"]);

    // Defaulted across batches, it falls back too.
    w.link("reports", &ids[2..]);
    assert_eq!(
        w.live_entry("reports", ids[2]).unique_id,
        ids[2].to_string()
    );
}

// ---------------------------------------------------------------------------------------
// NOT_IN_SOURCE, ENTRY_MANAGED_BY_FOLDER, NO_TARGET_FOLDER

#[test]
fn moving_from_a_collection_the_items_are_not_in_is_not_in_source() {
    let (mut w, f) = setup(&["inbox", "papers"]);
    w.link("inbox", &[f.paper, f.thesis]);
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.thesis])));
    let req = move_to("papers", &[f.paper, f.photo, f.thesis], Some("inbox"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::NotInSource);
    assert_eq!(r.message, "2 item(s) are not live members of inbox");
    assert_eq!(
        ids_under(&r, "not_in_source"),
        strings(&[f.photo, f.thesis])
    );
}

#[test]
fn moving_filed_items_out_of_default_is_not_in_source() {
    let (mut w, f) = setup(&["inbox", "papers"]);
    w.link("inbox", &[f.paper]);
    let req = move_to("papers", &[f.paper, f.photo], Some("default"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::NotInSource);
    assert_eq!(ids_under(&r, "not_in_source"), strings(&[f.paper]));
}

#[test]
fn a_folder_owned_entry_is_not_moved_or_removed_without_relocate() {
    let (mut w, f) = setup(&["photos", "best"]);
    let watch = w.watch_id();
    w.bind_folder("photos", watch);
    w.put_folder_entry("photos", f.photo, watch);
    w.link("photos", &[f.paper]);

    let req = move_to("best", &[f.paper, f.photo], None);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::EntryManagedByFolder);
    assert_eq!(ids_under(&r, "managed"), strings(&[f.photo]));
    let req = move_to("best", &[f.photo], Some("photos"));
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::EntryManagedByFolder);

    let r = w.refuse(|v, c| rules::plan_remove(v, c, &remove("photos", &[f.paper, f.photo])));
    assert_eq!(r.code, ErrorCode::EntryManagedByFolder);
    assert_eq!(ids_under(&r, "managed"), strings(&[f.photo]));

    // Linking elsewhere is no change to the folder's entry.
    let plan = w.link("best", &[f.photo]);
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 0, 0));
    assert_eq!(w.live_entry("best", f.photo).source, EntrySource::Manual);
}

#[test]
fn relocating_needs_a_target_with_exactly_one_folder() {
    let (mut w, f) = setup(&["photos", "best"]);
    let watch = w.watch_id();
    w.bind_folder("photos", watch);
    w.put_folder_entry("photos", f.photo, watch);
    let req = BatchAdd {
        relocate: true,
        ..move_to("best", &[f.photo], Some("photos"))
    };

    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::NoTargetFolder);
    assert_eq!(
        r.message,
        "relocate needs a target collection with exactly one folder; best has 0"
    );

    let (first, second) = (w.watch_id(), w.watch_id());
    w.bind_folder("best", first);
    w.bind_folder("best", second);
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::NoTargetFolder);
    assert!(r.message.ends_with("best has 2"), "{}", r.message);

    // Into `default` there is no folder at all.
    let into_default = BatchAdd {
        relocate: true,
        ..move_to("default", &[f.photo], None)
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &into_default));
    assert_eq!(r.code, ErrorCode::NoTargetFolder);
}

#[test]
fn a_relocated_entry_belongs_to_the_target_folder_and_keeps_its_fields() {
    let (mut w, f) = setup(&["photos", "best"]);
    let source = w.watch_folder("photos", "/home/u/pics");
    let target = w.watch_folder("best", "/home/u/best");
    w.put_folder_entry("photos", f.photo, source);
    let req = BatchAdd {
        relocate: true,
        ..move_to("best", &[f.photo], None)
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 1, 0));
    let moved = w.live_entry("best", f.photo);
    assert_eq!(moved.source, EntrySource::Folder(target));
    assert_eq!(moved.unique_id, "b.png");
    assert_eq!(moved.display_name, "b.png");
    let left = w.entry("photos", f.photo).expect("kept, soft-deleted");
    assert_eq!(left.deleted_at, Some(plan.op.as_ref().expect("op").at));
    assert_eq!(left.source, EntrySource::Folder(source));
}

#[test]
fn a_relocated_item_gets_its_path_in_the_target_folder_relative_to_the_root_it_leaves() {
    let (mut w, _) = setup(&["photos", "best"]);
    let ids = w.register(&["/home/u/pics/2024/trip/c.jpg", "/home/u/pics/d.jpg"]);
    let source = w.watch_folder("photos", "/home/u/pics/");
    w.watch_folder("best", "/srv/best");
    for id in &ids {
        w.put_folder_entry("photos", *id, source);
    }
    let before = w.item(ids[0]);
    let plan = w.batch(&BatchAdd {
        relocate: true,
        ..move_to("best", &ids, Some("photos"))
    });
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 2, 0));
    let moved = w.item(ids[0]);
    assert_eq!(moved.path.as_deref(), Some("/srv/best/2024/trip/c.jpg"));
    assert_eq!(moved.id, before.id);
    assert_eq!(moved.original_filename, "c.jpg");
    assert_eq!(w.item(ids[1]).path.as_deref(), Some("/srv/best/d.jpg"));

    // Undone, the paths go back too (the daemon moves the files back with them).
    let op = op_of(&plan);
    w.commit(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(w.item(ids[0]).path, before.path);
}

#[test]
fn relocating_onto_a_path_another_live_item_holds_is_refused_and_changes_nothing() {
    let (mut w, _) = setup(&["photos", "best"]);
    let ids = w.register(&["/home/u/pics/c.jpg", "/srv/best/c.jpg"]);
    let source = w.watch_folder("photos", "/home/u/pics");
    w.watch_folder("best", "/srv/best");
    w.put_folder_entry("photos", ids[0], source);
    let before = w.state.clone();
    let r = w.refuse(|v, c| {
        rules::plan_batch_add(
            v,
            c,
            &BatchAdd {
                relocate: true,
                ..move_to("best", &ids[..1], None)
            },
        )
    });
    assert_eq!(r.code, ErrorCode::ValidationError);
    assert_eq!(fields(&r)[0].loc, at(&["body", "relocate"]));
    assert_eq!(fields(&r)[0].kind, "path_taken");
    assert!(fields(&r)[0].msg.contains("/srv/best/c.jpg"), "{r:?}");
    assert_eq!(w.state, before);
}

#[test]
fn two_items_relocated_onto_one_path_are_refused() {
    let (mut w, _) = setup(&["photos", "scans", "best"]);
    let ids = w.register(&["/home/u/pics/c.jpg", "/home/u/scans/c.jpg"]);
    let pics = w.watch_folder("photos", "/home/u/pics");
    let scans = w.watch_folder("scans", "/home/u/scans");
    w.watch_folder("best", "/srv/best");
    w.put_folder_entry("photos", ids[0], pics);
    w.put_folder_entry("scans", ids[1], scans);
    let r = w.refuse(|v, c| {
        rules::plan_batch_add(
            v,
            c,
            &BatchAdd {
                relocate: true,
                ..move_to("best", &ids, None)
            },
        )
    });
    assert_eq!(fields(&r)[0].kind, "path_taken");
}

// ---------------------------------------------------------------------------------------
// UNDO_CONFLICT

#[test]
fn undo_after_a_later_change_to_one_of_the_entries_is_refused_and_changes_nothing() {
    let (mut w, f) = setup(&["inbox"]);
    let op = op_of(&w.link("inbox", &[f.paper, f.photo]));
    w.commit(|v, c| {
        rules::plan_update_entry(
            v,
            c,
            &cid("inbox"),
            &ItemTarget::Id(f.paper),
            &rename("Paper"),
        )
    });

    let r = w.refuse(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(r.code, ErrorCode::UndoConflict);
    assert_eq!(ids_under(&r, "conflicts"), [format!("inbox/{}", f.paper)]);
    assert_eq!(
        r.message,
        format!(
            "1 record(s) changed by {op} were changed again since; undo would lose those changes"
        )
    );
    assert_eq!(w.members("inbox"), [f.paper, f.photo]);
    assert_eq!(w.state.ops[&op].undone_by, None);
}

#[test]
fn undoing_an_op_twice_is_undo_conflict() {
    let (mut w, f) = setup(&["inbox"]);
    let op = op_of(&w.link("inbox", &[f.paper]));
    let undo = op_of(&w.commit(|v, c| rules::plan_undo(v, c, op)));
    let r = w.refuse(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(r.code, ErrorCode::UndoConflict);
    assert_eq!(ids_under(&r, "undone_by"), [undo.to_string()]);
    assert_eq!(
        r.message,
        format!("operation {op} was already undone by {undo}")
    );
}

#[test]
fn undo_into_an_archived_collection_is_refused() {
    let (mut w, f) = setup(&["inbox"]);
    let op = op_of(&w.link("inbox", &[f.paper]));
    w.archive("inbox");
    let r = w.refuse(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(r.code, ErrorCode::CollectionArchived);
    assert_eq!(w.members("inbox"), [f.paper]);
}

// ---------------------------------------------------------------------------------------
// ITEM_NOT_ALLOWED, ITEM_DELETED

#[test]
fn items_the_accept_list_refuses_are_item_not_allowed() {
    let (mut w, f) = setup(&[]);
    w.create_with(&NewCollection {
        id: Some(cid("pics")),
        accept: Some(vec![AcceptRule::Kind(Kind::Image)]),
        ..NewCollection::default()
    });
    w.create_with(&NewCollection {
        id: Some(cid("pdfs")),
        accept: Some(vec!["application/pdf".parse().expect("a MIME pattern")]),
        ..NewCollection::default()
    });

    let r =
        w.refuse(|v, c| rules::plan_batch_add(v, c, &link("pics", &[f.paper, f.photo, f.notes])));
    assert_eq!(r.code, ErrorCode::ItemNotAllowed);
    assert_eq!(ids_under(&r, "not_allowed"), strings(&[f.paper, f.notes]));
    assert_eq!(
        r.message,
        "2 item(s) are not allowed in pics, which accepts image"
    );
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("pdfs", &[f.thesis, f.photo])));
    assert_eq!(r.code, ErrorCode::ItemNotAllowed);
    assert_eq!(ids_under(&r, "not_allowed"), strings(&[f.photo]));

    assert_eq!(
        batch_outcome(&w.link("pics", &[f.photo])).0,
        counts(1, 1, 0, 0)
    );
    assert_eq!(
        batch_outcome(&w.link("pdfs", &[f.paper, f.thesis])).0,
        counts(2, 2, 0, 0)
    );
}

#[test]
fn adding_an_item_whose_file_is_gone_is_item_deleted() {
    let (mut w, f) = setup(&["inbox", "papers"]);
    w.link("inbox", &[f.paper]);
    w.file_gone(f.paper);

    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &link("papers", &[f.paper, f.photo])));
    assert_eq!(r.code, ErrorCode::ItemDeleted);
    assert_eq!(ids_under(&r, "deleted"), strings(&[f.paper]));
    assert_eq!(r.message, "1 item(s) are gone from disk");

    // Found by its last path too.
    let req = BatchAdd {
        items: BatchItems::Refs(vec![ItemRef::to(ItemTarget::Path(PAPER.into()))]),
        ..link("papers", &[])
    };
    let r = w.refuse(|v, c| rules::plan_batch_add(v, c, &req));
    assert_eq!(r.code, ErrorCode::ItemDeleted);

    // Where it is live already it is counted, not refused.
    let plan = w.link("inbox", &[f.paper]);
    assert_eq!(batch_outcome(&plan).0, counts(1, 0, 0, 1));
    assert!(plan.changes.is_empty());
}

// ---------------------------------------------------------------------------------------
// Accounting (SPEC §2.1)

#[test]
fn a_move_out_of_inbox_answers_the_spec_example_summary() {
    let (mut w, f) = setup(&["inbox", "research_papers"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis]);
    w.link("research_papers", &[f.thesis]);

    let req = move_to(
        "research_papers",
        &[f.paper, f.photo, f.thesis],
        Some("inbox"),
    );
    let plan = w.batch(&req);
    let Outcome::Batch {
        op_id,
        collection_id,
        summary,
        items_by_type,
    } = &plan.outcome
    else {
        panic!("not a batch: {:?}", plan.outcome);
    };
    assert_eq!(*op_id, op_of(&plan));
    assert_eq!(collection_id, &cid("research_papers"));
    assert_eq!(summary, &counts(3, 2, 3, 1));
    assert_eq!(
        items_by_type,
        &BTreeMap::from([(Kind::Document, 2), (Kind::Image, 1)])
    );
    assert_eq!(plan.op.as_ref().map(|o| o.kind), Some(OpKind::Move));

    assert_eq!(w.members("research_papers"), [f.thesis, f.paper, f.photo]);
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.count("research_papers"), 3);
    assert_eq!(w.count("inbox"), 0);
    assert_eq!(
        event_kinds(&plan),
        [
            EventKind::EntryAdded,
            EventKind::EntryAdded,
            EventKind::EntryRemoved,
            EventKind::EntryRemoved,
            EventKind::EntryRemoved,
        ]
    );
}

#[test]
fn re_adding_live_members_counts_them_and_changes_nothing() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo]);
    let before = w.state.entries.clone();

    let plan = w.link("inbox", &[f.photo, f.paper]);
    assert_eq!(batch_outcome(&plan).0, counts(2, 0, 0, 2));
    assert_eq!(
        batch_outcome(&plan).1,
        BTreeMap::from([(Kind::Document, 1), (Kind::Image, 1)])
    );
    assert!(plan.changes.is_empty());
    assert_eq!(w.state.entries, before);
}

#[test]
fn duplicates_in_one_request_count_once() {
    let (mut w, f) = setup(&["inbox"]);
    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef::to(ItemTarget::Id(f.paper)),
            ItemRef::to(ItemTarget::Path(PAPER.into())),
            ItemRef::to(ItemTarget::Id(f.photo)),
            ItemRef::to(ItemTarget::Id(f.paper)),
        ]),
        ..link("inbox", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    assert_eq!(
        batch_outcome(&plan).1,
        BTreeMap::from([(Kind::Document, 1), (Kind::Image, 1)])
    );
    assert_eq!(w.members("inbox"), [f.paper, f.photo]);
    assert_eq!(plan.changes.len(), 2);
}

#[test]
fn re_adding_a_removed_entry_revives_it_with_its_id() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo]);
    let first = w.live_entry("inbox", f.paper);
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper])));
    assert_eq!(w.count("inbox"), 1);

    let plan = w.link("inbox", &[f.paper]);
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 0, 0));
    assert_eq!(event_kinds(&plan), [EventKind::EntryAdded]);
    let revived = w.live_entry("inbox", f.paper);
    assert_eq!(revived.id, first.id);
    assert_eq!(revived.created_at, first.created_at);
    assert_eq!(revived.unique_id, "a.pdf");
    // Revived entries go last, like new ones.
    assert_eq!(w.members("inbox"), [f.photo, f.paper]);
    assert_eq!(w.count("inbox"), 2);
}

#[test]
fn a_move_without_from_takes_the_item_out_of_every_other_collection() {
    let (mut w, f) = setup(&["inbox", "later", "bin", "done"]);
    w.link("inbox", &[f.paper]);
    w.link("later", &[f.paper]);
    w.link("bin", &[f.paper]);
    w.trash("bin");

    let plan = w.batch(&move_to("done", &[f.paper], None));
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 1, 0));
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.members("later"), NONE);
    assert_eq!(w.members("done"), [f.paper]);
    // The trash is not touched.
    assert_eq!(w.members("bin"), [f.paper]);
    let live = w
        .state
        .live_collections(f.paper)
        .unwrap_or_else(|e| match e {});
    assert_eq!(live, [cid("bin"), cid("done")]);
}

#[test]
fn a_move_into_default_makes_items_unfiled() {
    let (mut w, f) = setup(&["inbox", "later"]);
    w.link("inbox", &[f.paper, f.photo]);
    w.link("later", &[f.photo]);
    assert_eq!(w.unfiled(), [f.thesis, f.notes]);
    assert_eq!(w.count("default"), 2);

    let plan = w.batch(&move_to("default", &[f.paper, f.photo, f.thesis], None));
    let (summary, by_type) = batch_outcome(&plan);
    assert_eq!(summary, counts(3, 2, 2, 1));
    assert_eq!(
        by_type,
        BTreeMap::from([(Kind::Document, 2), (Kind::Image, 1)])
    );
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.members("later"), NONE);
    assert_eq!(w.unfiled(), [f.paper, f.photo, f.thesis, f.notes]);
    assert_eq!(w.count("default"), 4);
}

#[test]
fn a_move_into_default_from_one_collection_leaves_other_memberships() {
    let (mut w, f) = setup(&["inbox", "later"]);
    w.link("inbox", &[f.paper, f.photo]);
    w.link("later", &[f.photo]);

    let plan = w.batch(&move_to("default", &[f.paper, f.photo], Some("inbox")));
    // docs/decisions.md: `already_in_collection` = items that were already unfiled, `added`
    // = the rest, so the photo counts as added although it is still filed in `later`.
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 2, 0));
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.members("later"), [f.photo]);
    assert_eq!(w.unfiled(), [f.paper, f.thesis, f.notes]);
}

#[test]
fn create_true_creates_a_missing_target() {
    let (mut w, f) = setup(&[]);
    let req = BatchAdd {
        create: true,
        ..link("fresh", &[f.paper, f.photo])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 0, 0));
    assert_eq!(
        event_kinds(&plan),
        [
            EventKind::CollectionCreated,
            EventKind::EntryAdded,
            EventKind::EntryAdded
        ]
    );
    let fresh = w
        .state
        .collection(&cid("fresh"))
        .unwrap_or_else(|e| match e {})
        .expect("created");
    assert_eq!(fresh.name, "fresh");
    assert!(!fresh.archived);
    assert_eq!(fresh.item_count, 2);
    assert_eq!(w.members("fresh"), [f.paper, f.photo]);

    // A second time it simply exists.
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 0, 0, 2));
    assert!(plan.changes.is_empty());
}

#[test]
fn select_adds_every_matching_live_entry() {
    let (mut w, f) = setup(&["inbox", "reading"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis, f.notes]);
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.thesis])));

    // `q` matches the path, case-insensitively; the removed thesis is not selected.
    let req = BatchAdd {
        items: select("inbox", Some("PAPERS"), None),
        ..link("reading", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(1, 1, 0, 0));
    assert_eq!(w.members("reading"), [f.paper]);

    let req = BatchAdd {
        items: select("inbox", None, Some(Kind::Image)),
        ..link("reading", &[])
    };
    assert_eq!(batch_outcome(&w.batch(&req)).0, counts(1, 1, 0, 0));

    // Display names match too.
    w.commit(|v, c| {
        rules::plan_update_entry(
            v,
            c,
            &cid("inbox"),
            &ItemTarget::Id(f.notes),
            &rename("Journal"),
        )
    });
    let req = BatchAdd {
        items: select("inbox", Some("journ"), None),
        ..link("reading", &[])
    };
    assert_eq!(batch_outcome(&w.batch(&req)).0, counts(1, 1, 0, 0));

    let req = BatchAdd {
        items: select("inbox", None, None),
        ..link("reading", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(3, 0, 0, 3));
    assert_eq!(w.members("reading"), [f.paper, f.photo, f.notes]);
    assert_eq!(w.members("inbox"), [f.paper, f.photo, f.notes]);
}

#[test]
fn select_with_move_and_no_from_moves_out_of_the_selected_collection_only() {
    let (mut w, f) = setup(&["inbox", "keep", "done"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis]);
    w.link("keep", &[f.paper]);

    let req = BatchAdd {
        items: select("inbox", None, Some(Kind::Document)),
        mode: Mode::Move,
        ..link("done", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(2, 2, 2, 0));
    assert_eq!(w.members("done"), [f.paper, f.thesis]);
    assert_eq!(w.members("inbox"), [f.photo]);
    assert_eq!(w.members("keep"), [f.paper]);
}

#[test]
fn select_from_default_files_the_unfiled_items() {
    let (mut w, f) = setup(&["inbox", "sorted"]);
    w.link("inbox", &[f.paper]);
    let req = BatchAdd {
        items: select("default", None, None),
        mode: Mode::Move,
        ..link("sorted", &[])
    };
    let plan = w.batch(&req);
    assert_eq!(batch_outcome(&plan).0, counts(3, 3, 0, 0));
    assert_eq!(w.members("sorted"), [f.photo, f.thesis, f.notes]);
    assert_eq!(w.unfiled(), NONE);
    assert_eq!(w.members("inbox"), [f.paper]);
}

#[test]
fn moved_entries_carry_their_names_and_metadata_unless_the_request_sets_them() {
    let (mut w, f) = setup(&["inbox", "papers"]);
    let meta: Metadata = [("stars".to_owned(), MetaValue::Int(4))].into();
    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef {
                display_name: Some("Paper A".into()),
                unique_id: Some("A".into()),
                metadata: Some(meta.clone()),
                ..ItemRef::to(ItemTarget::Id(f.paper))
            },
            ItemRef::to(ItemTarget::Id(f.thesis)),
        ]),
        ..link("inbox", &[])
    };
    w.batch(&req);
    let req = BatchAdd {
        items: BatchItems::Refs(vec![
            ItemRef::to(ItemTarget::Id(f.paper)),
            ItemRef {
                display_name: Some("Thesis".into()),
                ..ItemRef::to(ItemTarget::Id(f.thesis))
            },
        ]),
        ..move_to("papers", &[], Some("inbox"))
    };
    w.batch(&req);
    let paper = w.live_entry("papers", f.paper);
    assert_eq!(
        (paper.display_name.as_str(), paper.unique_id.as_str()),
        ("Paper A", "A")
    );
    assert_eq!(paper.metadata, meta);
    let thesis = w.live_entry("papers", f.thesis);
    assert_eq!(
        (thesis.display_name.as_str(), thesis.unique_id.as_str()),
        ("Thesis", "c.pdf")
    );
}

// ---------------------------------------------------------------------------------------
// Remove and reorder

#[test]
fn remove_is_soft_and_counts_already_removed() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo]);
    let plan = w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper])));
    let at = plan.op.as_ref().expect("op").at;
    assert_eq!(
        removed(&plan),
        RemoveSummary {
            total: 1,
            removed: 1,
            already_removed: 0
        }
    );
    assert_eq!(event_kinds(&plan), [EventKind::EntryRemoved]);
    let gone = w.entry("inbox", f.paper).expect("kept");
    assert_eq!(gone.deleted_at, Some(at));
    assert_eq!(w.count("inbox"), 1);
    // Soft-deleted is not a membership: the paper is unfiled again.
    assert!(w.unfiled().contains(&f.paper));

    let plan = w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper, f.photo])));
    assert_eq!(
        removed(&plan),
        RemoveSummary {
            total: 2,
            removed: 1,
            already_removed: 1
        }
    );
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        w.entry("inbox", f.paper).expect("kept").deleted_at,
        Some(at)
    );
    assert_eq!(w.count("inbox"), 0);
}

#[test]
fn reorder_to_the_front_puts_items_first_in_the_given_order() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis, f.notes]);
    let req = Reorder {
        collection: cid("inbox"),
        placement: Placement::Front(targets(&[f.notes, f.photo])),
    };
    let plan = w.commit(|v, c| rules::plan_reorder(v, c, &req));
    assert!(matches!(plan.outcome, Outcome::Reordered { moved: 2, .. }));
    assert_eq!(w.members("inbox"), [f.notes, f.photo, f.paper, f.thesis]);

    // Again, with an item already at the front.
    let req = Reorder {
        collection: cid("inbox"),
        placement: Placement::Front(targets(&[f.thesis, f.notes])),
    };
    w.commit(|v, c| rules::plan_reorder(v, c, &req));
    assert_eq!(w.members("inbox"), [f.thesis, f.notes, f.photo, f.paper]);
}

#[test]
fn an_item_is_placed_right_before_or_after_an_anchor() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis, f.notes]);
    let mut place = |item, anchor, after| {
        let plan =
            w.commit(|v, c| rules::plan_reorder(v, c, &relative("inbox", item, anchor, after)));
        let Outcome::Reordered { moved, .. } = plan.outcome else {
            panic!("not a reorder: {:?}", plan.outcome);
        };
        moved
    };
    assert_eq!(place(f.notes, f.paper, true), 1);
    assert_eq!(place(f.paper, f.thesis, false), 1);
    assert_eq!(place(f.notes, f.thesis, true), 1);
    // Already right before its anchor: nothing moves.
    assert_eq!(place(f.photo, f.paper, false), 0);
    // Before the first, after the last.
    assert_eq!(place(f.notes, f.photo, false), 1);
    assert_eq!(place(f.photo, f.thesis, true), 1);
    assert_eq!(w.members("inbox"), [f.notes, f.paper, f.thesis, f.photo]);
}

#[test]
fn repeated_placement_into_one_gap_renumbers_and_keeps_the_exact_order() {
    let (mut w, f) = setup(&["inbox"]);
    let extra = w.register(&["/home/u/x/e.txt", "/home/u/x/f.txt"]);
    let mut model = vec![f.paper, f.photo, f.thesis, f.notes, extra[0], extra[1]];
    w.link("inbox", &model);
    // A soft-deleted entry keeps its position: it must not upset the order.
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.photo])));
    model.retain(|i| *i != f.photo);

    let movers = [f.notes, extra[0], extra[1]];
    let mut renumbered = false;
    for step in 0..60 {
        let moving = movers[step % movers.len()];
        let plan =
            w.commit(|v, c| rules::plan_reorder(v, c, &relative("inbox", moving, f.paper, true)));
        renumbered |= plan.changes.len() > 1;
        model.retain(|i| *i != moving);
        model.insert(1, moving);
        assert_eq!(w.members("inbox"), model, "after step {step}");
    }
    assert!(renumbered, "sixty halvings of a 2^20 gap must renumber");
    let mut sorts: Vec<i64> = w.state.entries.values().map(|e| e.sort_order).collect();
    let n = sorts.len();
    sorts.dedup();
    assert_eq!(sorts.len(), n);
}

// ---------------------------------------------------------------------------------------
// Undo

#[test]
fn undo_of_a_batch_add_restores_exactly_the_previous_visible_state() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo]);
    w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.photo])));
    let before = w.visible();
    let unfiled = w.unfiled();

    let plan = w.link("inbox", &[f.paper, f.photo, f.thesis]);
    assert_eq!(batch_outcome(&plan).0, counts(3, 2, 0, 1));
    let op = op_of(&plan);
    assert_eq!(w.count("inbox"), 3);

    let undo = w.commit(|v, c| rules::plan_undo(v, c, op));
    let (undo_id, of, restored) = undone(&undo);
    assert_eq!((of, restored), (op, 2));
    assert_eq!(w.visible(), before);
    assert_eq!(w.count("inbox"), 1);
    assert_eq!(w.unfiled(), unfiled);
    // The new entry is erased, not soft-deleted; the revived one is soft-deleted again.
    assert_eq!(w.entry("inbox", f.thesis), None);
    assert!(w.entry("inbox", f.photo).is_some_and(|e| !e.is_live()));
    assert_eq!(
        event_kinds(&undo),
        [EventKind::EntryRemoved, EventKind::EntryRemoved]
    );
    assert_eq!(w.state.ops[&op].undone_by, Some(undo_id));
    assert_eq!(w.state.ops[&undo_id].undo_of, Some(op));
    assert_eq!(w.state.ops[&undo_id].kind, OpKind::Undo);
}

#[test]
fn undo_of_a_move_restores_the_source_memberships() {
    let (mut w, f) = setup(&["inbox", "later", "done"]);
    w.link("inbox", &[f.paper, f.photo]);
    w.link("later", &[f.paper]);
    w.link("done", &[f.photo]);
    let before = w.visible();

    let op = op_of(&w.batch(&move_to("done", &[f.paper, f.photo], None)));
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.members("later"), NONE);

    let undo = w.commit(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(undone(&undo).2, 4);
    assert_eq!(w.visible(), before);
    assert_eq!(w.members("inbox"), [f.paper, f.photo]);
    assert_eq!(w.members("later"), [f.paper]);
    assert_eq!(w.members("done"), [f.photo]);
}

#[test]
fn undo_of_an_undo_redoes_the_op() {
    let (mut w, f) = setup(&["inbox", "done"]);
    w.link("inbox", &[f.paper, f.photo]);
    let before = w.visible();
    let op = op_of(&w.batch(&move_to("done", &[f.paper, f.photo], Some("inbox"))));
    let after = w.visible();

    let undo = op_of(&w.commit(|v, c| rules::plan_undo(v, c, op)));
    assert_eq!(w.visible(), before);
    let redo = w.commit(|v, c| rules::plan_undo(v, c, undo));
    assert_eq!(undone(&redo).1, undo);
    assert_eq!(w.visible(), after);
    assert_eq!(w.members("done"), [f.paper, f.photo]);
    assert_eq!(w.members("inbox"), NONE);
    assert_eq!(w.state.ops[&undo].undone_by, Some(op_of(&redo)));

    // And the redo can be undone in turn.
    w.commit(|v, c| rules::plan_undo(v, c, op_of(&redo)));
    assert_eq!(w.visible(), before);
}

#[test]
fn undoing_the_last_two_ops_in_reverse_order_restores_the_state_before_both() {
    let (mut w, f) = setup(&["inbox"]);
    let before = w.visible();
    let first = op_of(&w.link("inbox", &[f.paper]));
    let second = op_of(&w.commit(|v, c| {
        rules::plan_update_entry(
            v,
            c,
            &cid("inbox"),
            &ItemTarget::Id(f.paper),
            &rename("Paper"),
        )
    }));
    w.commit(|v, c| rules::plan_undo(v, c, second));
    assert_eq!(w.live_entry("inbox", f.paper).display_name, "a.pdf");
    w.commit(|v, c| rules::plan_undo(v, c, first));
    assert_eq!(w.visible(), before);
}

#[test]
fn redo_is_refused_when_another_entry_took_the_restored_position() {
    let (mut w, f) = setup(&["inbox"]);
    let op = op_of(&w.link("inbox", &[f.paper]));
    let undo = op_of(&w.commit(|v, c| rules::plan_undo(v, c, op)));
    // The collection is empty again, so the next add takes the paper's old position.
    w.link("inbox", &[f.photo]);
    assert_eq!(w.live_entry("inbox", f.photo).sort_order, rules::SORT_GAP);

    let r = w.refuse(|v, c| rules::plan_undo(v, c, undo));
    assert_eq!(r.code, ErrorCode::UndoConflict);
    assert_eq!(ids_under(&r, "conflicts"), [format!("inbox/{}", f.paper)]);
}

#[test]
fn undo_is_refused_when_another_entry_took_the_restored_unique_id() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    let removal = op_of(&w.commit(|v, c| rules::plan_remove(v, c, &remove("inbox", &[f.paper]))));
    let req = BatchAdd {
        items: BatchItems::Refs(vec![ItemRef {
            unique_id: Some("a.pdf".into()),
            ..ItemRef::to(ItemTarget::Id(f.photo))
        }]),
        ..link("inbox", &[])
    };
    w.batch(&req);

    let r = w.refuse(|v, c| rules::plan_undo(v, c, removal));
    assert_eq!(r.code, ErrorCode::UndoConflict);
    assert_eq!(ids_under(&r, "conflicts"), [format!("inbox/{}", f.paper)]);
    assert_eq!(w.members("inbox"), [f.photo]);
}

#[test]
fn undo_of_a_reorder_restores_the_order() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis, f.notes]);
    let req = Reorder {
        collection: cid("inbox"),
        placement: Placement::Front(targets(&[f.notes, f.thesis])),
    };
    let op = op_of(&w.commit(|v, c| rules::plan_reorder(v, c, &req)));
    w.commit(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(w.members("inbox"), [f.paper, f.photo, f.thesis, f.notes]);
}

#[test]
fn undo_of_a_renumbering_reorder_restores_the_order() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper, f.photo, f.thesis, f.notes]);
    // Halve the gap after the paper until a placement has to renumber the collection.
    let movers = [f.thesis, f.notes];
    let (op, order_before) = (0..100)
        .find_map(|step| {
            let order_before = w.members("inbox");
            let req = relative("inbox", movers[step % 2], f.paper, true);
            let plan = w.commit(|v, c| rules::plan_reorder(v, c, &req));
            (plan.changes.len() > 1).then(|| (op_of(&plan), order_before))
        })
        .expect("a placement renumbers within a hundred steps");
    w.commit(|v, c| rules::plan_undo(v, c, op));
    assert_eq!(w.members("inbox"), order_before);
}

#[test]
fn undo_of_an_item_metadata_update_restores_the_metadata() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    let patch: MetadataPatch = [
        ("stars".to_owned(), Some(MetaValue::Int(5))),
        ("draft".to_owned(), Some(MetaValue::Bool(true))),
    ]
    .into();
    let req = ItemUpdate {
        metadata: Some(patch),
    };
    let plan = w.commit(|v, c| rules::plan_update_item(v, c, &ItemTarget::Id(f.paper), &req));
    assert_eq!(event_kinds(&plan), [EventKind::ItemUpdated]);
    assert_eq!(w.item(f.paper).metadata.len(), 2);

    // The entry's own metadata wins over the item's in the merged view.
    let entry_patch: MetadataPatch = [("stars".to_owned(), Some(MetaValue::Int(3)))].into();
    w.commit(|v, c| {
        rules::plan_update_entry(
            v,
            c,
            &cid("inbox"),
            &ItemTarget::Id(f.paper),
            &EntryUpdate {
                metadata: Some(entry_patch),
                ..EntryUpdate::default()
            },
        )
    });
    let merged = w
        .live_entry("inbox", f.paper)
        .merged_metadata(&w.item(f.paper));
    assert_eq!(
        merged,
        Metadata::from([
            ("draft".to_owned(), MetaValue::Bool(true)),
            ("stars".to_owned(), MetaValue::Int(3)),
        ])
    );

    w.commit(|v, c| rules::plan_undo(v, c, op_of(&plan)));
    assert_eq!(w.item(f.paper).metadata, Metadata::new());
}

// ---------------------------------------------------------------------------------------
// Register

#[test]
fn registering_a_known_path_again_answers_the_same_item() {
    let mut w = World::new();
    let first = w.commit(|v, c| rules::plan_register(v, c, &[facts(PAPER), facts(PHOTO)]));
    let Outcome::Items(ids) = &first.outcome else {
        panic!("not items: {:?}", first.outcome);
    };
    assert_eq!(ids[0].prefix_kind(), Kind::Document);
    assert_eq!(ids[1].prefix_kind(), Kind::Image);
    assert!(ids[0].to_string().starts_with("doc_"));
    assert!(ids[1].to_string().starts_with("img_"));
    assert_eq!(
        event_kinds(&first),
        [EventKind::ItemCreated, EventKind::ItemCreated]
    );
    let paper = w.item(ids[0]);
    assert_eq!(paper.content_type, "application/pdf");
    assert_eq!(paper.original_filename, "a.pdf");
    assert_eq!(paper.path.as_deref(), Some(PAPER));

    // Same facts again, listed twice: same ids, nothing changes.
    let again =
        w.commit(|v, c| rules::plan_register(v, c, &[facts(PHOTO), facts(PAPER), facts(PHOTO)]));
    assert_eq!(again.outcome, Outcome::Items(vec![ids[1], ids[0], ids[1]]));
    assert!(again.changes.is_empty());

    // Changed on disk: same id, facts refreshed, a stale hash dropped.
    w.state
        .items
        .get_mut(&ids[0].ulid())
        .expect("known")
        .content_hash = Some("abc".into());
    let mut changed = facts(PAPER);
    changed.size += 10;
    let plan = w.commit(|v, c| rules::plan_register(v, c, &[changed]));
    assert_eq!(plan.outcome, Outcome::Items(vec![ids[0]]));
    assert_eq!(event_kinds(&plan), [EventKind::ItemUpdated]);
    assert_eq!(w.item(ids[0]).size, paper.size + 10);
    assert_eq!(w.item(ids[0]).content_hash, None);
}

#[test]
fn a_deleted_item_registered_again_at_its_last_path_is_revived_with_its_id() {
    let (mut w, f) = setup(&["inbox"]);
    w.link("inbox", &[f.paper]);
    w.file_gone(f.paper);
    assert_eq!(w.item(f.paper).path, None);

    let plan = w.commit(|v, c| rules::plan_register(v, c, &[facts(PAPER)]));
    assert_eq!(plan.outcome, Outcome::Items(vec![f.paper]));
    assert_eq!(event_kinds(&plan), [EventKind::ItemRestored]);
    let item = w.item(f.paper);
    assert_eq!(item.deleted_at, None);
    assert_eq!(item.path.as_deref(), Some(PAPER));
    assert_eq!(w.members("inbox"), [f.paper]);
}

#[test]
fn registering_relative_paths_is_a_validation_error_per_path() {
    let mut w = World::new();
    let r = w.refuse(|v, c| {
        rules::plan_register(v, c, &[facts(PAPER), facts("notes.md"), facts("/a/./b")])
    });
    assert_eq!(r.code, ErrorCode::ValidationError);
    let locs: Vec<Vec<Loc>> = fields(&r).iter().map(|e| e.loc.clone()).collect();
    assert_eq!(
        locs,
        [at(&["body", "paths", "1"]), at(&["body", "paths", "2"])]
    );
    let r = w.refuse(|v, c| rules::plan_register(v, c, &[]));
    assert_eq!(fields(&r)[0].kind, "too_short");
}

// ---------------------------------------------------------------------------------------
// Plans are what the store applies

#[test]
fn every_change_of_a_batch_carries_the_ops_time_and_the_op_records_it() {
    let (mut w, f) = setup(&["inbox", "done"]);
    w.link("inbox", &[f.paper, f.photo]);
    let now = w.next_now();
    let plan = w.batch(&move_to("done", &[f.paper, f.photo], None));
    let op = plan.op.as_ref().expect("op");
    assert_eq!(op.at, now);
    assert_eq!(op.touched.len(), plan.changes.len());
    for change in &plan.changes {
        let Change::Entry {
            after: Some(after), ..
        } = change
        else {
            panic!("unexpected change {change:?}");
        };
        assert_eq!(after.updated_at, now);
    }
}
