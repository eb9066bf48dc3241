//! Folder sync (SPEC §3) as the rules plan it: watches bound and unbound, and the changes a
//! walk or the live watcher reports turned into items and `folder:<wid>` entries.

// A fixture that cannot hold is a failed test: panicking on it is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use sheaf_core::rules::{self, FolderChange, NewWatch, Owner, Was};
use sheaf_core::{
    AcceptRule, EntrySource, ErrorCode, EventKind, FileFacts, ItemId, Kind, MetaValue, Metadata,
    Outcome, Plan, SyncSummary, WatchId,
};
use support::{World, cid, facts};

fn watch_req(collection: &str, path: &str) -> NewWatch {
    NewWatch::new(path, cid(collection))
}

fn add_watch(w: &mut World, collection: &str, path: &str) -> Owner {
    let req = watch_req(collection, path);
    let plan = w.commit(|v, c| rules::plan_create_watch(v, c, &req));
    let Outcome::Watch { watch, .. } = plan.outcome else {
        panic!("create_watch answered {:?}", plan.outcome)
    };
    Owner {
        watch,
        collection: cid(collection),
        root: path.to_owned(),
    }
}

fn sync(w: &mut World, changes: &[FolderChange]) -> (Plan, SyncSummary) {
    let plan = w.commit(|v, c| rules::plan_folder_sync(v, c, changes));
    let Outcome::Synced(summary) = plan.outcome.clone() else {
        panic!("sync answered {:?}", plan.outcome)
    };
    (plan, summary)
}

fn present(path: &str, owners: &[&Owner]) -> FolderChange {
    FolderChange::Present {
        facts: facts(path),
        was: None,
        owners: owners.iter().map(|o| (*o).clone()).collect(),
    }
}

fn moved(from: &str, to: &str, owners: &[&Owner]) -> FolderChange {
    FolderChange::Present {
        facts: facts(to),
        was: Some(Was::Path(from.to_owned())),
        owners: owners.iter().map(|o| (*o).clone()).collect(),
    }
}

fn gone(path: &str) -> FolderChange {
    FolderChange::Gone {
        path: path.to_owned(),
    }
}

fn item_at(w: &World, path: &str) -> ItemId {
    w.state
        .items
        .values()
        .find(|i| i.path.as_deref() == Some(path))
        .map_or_else(|| panic!("no item at {path}"), |i| i.id)
}

fn kinds(plan: &Plan) -> Vec<EventKind> {
    plan.events().iter().map(|e| e.kind).collect()
}

#[test]
fn adding_a_watch_binds_the_folder_and_creates_the_collection_when_asked() {
    let mut w = World::new();
    let owner = add_watch(&mut w, "papers", "/home/u/papers");
    let c = w.state.collections[&cid("papers")].clone();
    assert_eq!(c.folders, vec![owner.watch]);
    assert_eq!(w.state.watches[&owner.watch].path, "/home/u/papers");

    // The same root and collection again: the same watch, nothing written.
    let req = watch_req("papers", "/home/u/papers");
    let plan = w.commit(|v, c| rules::plan_create_watch(v, c, &req));
    assert_eq!(
        plan.outcome,
        Outcome::Watch {
            watch: owner.watch,
            created: false
        }
    );
    assert!(plan.changes.is_empty());
    assert_eq!(w.state.watches.len(), 1);
}

#[test]
fn a_watch_is_refused_for_default_an_unknown_collection_and_the_filesystem_root() {
    let mut w = World::new();
    let mut req = watch_req("default", "/home/u");
    assert_eq!(
        w.refuse(|v, c| rules::plan_create_watch(v, c, &req)).code,
        ErrorCode::ValidationError
    );
    req = watch_req("nowhere", "/home/u");
    req.create = false;
    assert_eq!(
        w.refuse(|v, c| rules::plan_create_watch(v, c, &req)).code,
        ErrorCode::CollectionNotFound
    );
    for bad in ["/", "relative/dir", "/a/../b"] {
        let req = watch_req("papers", bad);
        assert_eq!(
            w.refuse(|v, c| rules::plan_create_watch(v, c, &req)).code,
            ErrorCode::ValidationError,
            "{bad}"
        );
    }
}

#[test]
fn a_new_file_becomes_an_item_and_a_folder_entry_keyed_by_its_relative_path() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    let (plan, summary) = sync(&mut w, &[present("/home/u/papers/2024/a.pdf", &[&papers])]);
    assert_eq!(summary.items_created, 1);
    assert_eq!(summary.entries_added, 1);
    assert_eq!(
        kinds(&plan),
        [EventKind::ItemCreated, EventKind::EntryAdded]
    );
    let id = item_at(&w, "/home/u/papers/2024/a.pdf");
    assert_eq!(id.prefix_kind(), Kind::Document);
    let entry = w.live_entry("papers", id);
    assert_eq!(entry.source, EntrySource::Folder(papers.watch));
    assert_eq!(entry.unique_id, "2024/a.pdf");
    assert_eq!(entry.display_name, "a.pdf");

    // Seen again unchanged (a rescan): nothing to write.
    let (plan, summary) = sync(&mut w, &[present("/home/u/papers/2024/a.pdf", &[&papers])]);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(summary, SyncSummary::default());
}

#[test]
fn a_changed_file_updates_its_item_and_drops_the_stale_hash() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    w.state.items.get_mut(&id.ulid()).unwrap().content_hash = Some("ab".repeat(32));

    let mut grown = facts("/home/u/papers/a.pdf");
    grown.size += 10;
    let change = FolderChange::Present {
        facts: grown,
        was: None,
        owners: vec![papers.clone()].into(),
    };
    let (plan, summary) = sync(&mut w, &[change]);
    assert_eq!(summary.items_updated, 1);
    assert_eq!(kinds(&plan), [EventKind::ItemUpdated]);
    let item = w.item(id);
    assert_eq!(item.content_hash, None);
    assert_eq!(item.size, facts("/home/u/papers/a.pdf").size + 10);
}

#[test]
fn a_rename_inside_the_watch_keeps_the_item_the_entry_and_its_metadata() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    let before = w.live_entry("papers", id);
    let mut noted = before.clone();
    noted.metadata = Metadata::from([("stars".to_owned(), MetaValue::Int(5))]);
    w.state.entries.insert((cid("papers"), id.ulid()), noted);

    let (plan, summary) = sync(
        &mut w,
        &[moved(
            "/home/u/papers/a.pdf",
            "/home/u/papers/old/b.pdf",
            &[&papers],
        )],
    );
    assert_eq!(summary.items_created, 0);
    assert_eq!(
        kinds(&plan),
        [EventKind::ItemUpdated, EventKind::EntryUpdated]
    );
    assert_eq!(item_at(&w, "/home/u/papers/old/b.pdf"), id);
    let after = w.live_entry("papers", id);
    assert_eq!(after.id, before.id);
    assert_eq!(after.unique_id, "old/b.pdf");
    assert_eq!(after.display_name, "b.pdf");
    assert_eq!(after.metadata.len(), 1);
}

#[test]
fn a_move_between_two_watches_moves_the_entry_between_their_collections() {
    let mut w = World::new();
    let inbox = add_watch(&mut w, "inbox", "/home/u/inbox");
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/inbox/a.pdf", &[&inbox])]);
    let id = item_at(&w, "/home/u/inbox/a.pdf");

    let (_, summary) = sync(
        &mut w,
        &[moved(
            "/home/u/inbox/a.pdf",
            "/home/u/papers/a.pdf",
            &[&papers],
        )],
    );
    assert_eq!((summary.entries_added, summary.entries_removed), (1, 1));
    assert_eq!(item_at(&w, "/home/u/papers/a.pdf"), id);
    assert!(!w.entry("inbox", id).unwrap().is_live());
    assert_eq!(
        w.live_entry("papers", id).source,
        EntrySource::Folder(papers.watch)
    );
}

#[test]
fn a_gone_file_soft_deletes_the_item_and_its_folder_entries_but_not_manual_ones() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    w.create("reading");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    w.link("reading", &[id]);

    let (plan, summary) = sync(&mut w, &[gone("/home/u/papers/a.pdf")]);
    assert_eq!((summary.items_deleted, summary.entries_removed), (1, 1));
    assert_eq!(
        kinds(&plan),
        [EventKind::ItemDeleted, EventKind::EntryRemoved]
    );
    let item = w.item(id);
    assert_eq!(item.path, None);
    assert_eq!(item.last_path.as_deref(), Some("/home/u/papers/a.pdf"));
    assert!(item.deleted_at.is_some());
    assert!(!w.entry("papers", id).unwrap().is_live());
    assert!(
        w.entry("reading", id).unwrap().is_live(),
        "manual entries are never touched"
    );

    // A gone path that nothing holds is not an error.
    let (plan, _) = sync(&mut w, &[gone("/home/u/papers/never.pdf")]);
    assert!(plan.changes.is_empty());
}

#[test]
fn a_file_that_comes_back_revives_its_item_and_entry_with_the_same_ids() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    let entry = w.live_entry("papers", id);
    sync(&mut w, &[gone("/home/u/papers/a.pdf")]);

    let (plan, summary) = sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    assert_eq!((summary.items_restored, summary.entries_added), (1, 1));
    assert_eq!(
        kinds(&plan),
        [EventKind::ItemRestored, EventKind::EntryAdded]
    );
    assert_eq!(item_at(&w, "/home/u/papers/a.pdf"), id);
    assert_eq!(w.live_entry("papers", id).id, entry.id);
    assert_eq!(w.item(id).deleted_at, None);
}

#[test]
fn an_atomic_save_over_a_known_file_keeps_the_target_item_and_its_memberships() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/home/u/notes");
    w.create("reading");
    sync(&mut w, &[present("/home/u/notes/d.md", &[&notes])]);
    let id = item_at(&w, "/home/u/notes/d.md");
    w.link("reading", &[id]);
    // The editor's temporary file was seen (it settled before the rename).
    sync(&mut w, &[present("/home/u/notes/d.md.tmp1234", &[&notes])]);
    let temp = item_at(&w, "/home/u/notes/d.md.tmp1234");

    sync(
        &mut w,
        &[moved(
            "/home/u/notes/d.md.tmp1234",
            "/home/u/notes/d.md",
            &[&notes],
        )],
    );
    assert_eq!(item_at(&w, "/home/u/notes/d.md"), id);
    assert!(w.live_entry("reading", id).is_live());
    assert!(w.live_entry("notes", id).is_live());
    assert!(w.item(temp).deleted_at.is_some());
    assert!(!w.entry("notes", temp).unwrap().is_live());
}

#[test]
fn renames_that_swap_two_files_in_one_group_keep_both_identities() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(
        &mut w,
        &[present("/n/a.md", &[&notes]), present("/n/b.md", &[&notes])],
    );
    let (a, b) = (item_at(&w, "/n/a.md"), item_at(&w, "/n/b.md"));
    // mv a t; mv b a; mv t b — settled as one group of two moves.
    sync(
        &mut w,
        &[
            moved("/n/a.md", "/n/b.md", &[&notes]),
            moved("/n/b.md", "/n/a.md", &[&notes]),
        ],
    );
    assert_eq!(item_at(&w, "/n/a.md"), b);
    assert_eq!(item_at(&w, "/n/b.md"), a);
    assert_eq!(w.live_entry("notes", a).unique_id, "b.md");
    assert_eq!(w.live_entry("notes", b).unique_id, "a.md");
    assert!(w.state.items.values().all(|i| i.deleted_at.is_none()));
}

#[test]
fn a_new_file_on_a_path_whose_file_moves_away_in_the_same_group_is_a_new_item() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[present("/n/a.md", &[&notes])]);
    let a = item_at(&w, "/n/a.md");
    // mv a.md b.md; touch a.md
    sync(
        &mut w,
        &[
            present("/n/a.md", &[&notes]),
            moved("/n/a.md", "/n/b.md", &[&notes]),
        ],
    );
    assert_eq!(item_at(&w, "/n/b.md"), a);
    let fresh = item_at(&w, "/n/a.md");
    assert_ne!(fresh, a);
    assert_eq!(w.members("notes").len(), 2);
}

#[test]
fn files_a_collection_does_not_accept_stay_items_without_an_entry() {
    let mut w = World::new();
    let pics = add_watch(&mut w, "pics", "/p");
    let mut c = w.state.collections[&cid("pics")].clone();
    c.accept = Some(vec![AcceptRule::Kind(Kind::Image)]);
    w.state.collections.insert(cid("pics"), c);

    let (_, summary) = sync(
        &mut w,
        &[
            present("/p/a.png", &[&pics]),
            present("/p/notes.md", &[&pics]),
        ],
    );
    assert_eq!(summary.items_created, 2);
    assert_eq!(summary.entries_added, 1);
    assert_eq!(summary.entries_refused, 1);
    let md = item_at(&w, "/p/notes.md");
    assert_eq!(w.entry("pics", md), None);
    assert!(w.unfiled().contains(&md));
}

#[test]
fn a_file_no_watch_owns_is_not_registered() {
    let mut w = World::new();
    let (plan, _) = sync(&mut w, &[present("/elsewhere/a.pdf", &[])]);
    assert!(plan.changes.is_empty());
}

#[test]
fn a_taken_relative_path_falls_back_to_the_item_id_as_unique_id() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    let other = w.register(&["/home/u/elsewhere/a.pdf"])[0];
    w.link("papers", &[other]);
    assert_eq!(w.live_entry("papers", other).unique_id, "a.pdf");

    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    assert_eq!(w.live_entry("papers", id).unique_id, id.to_string());
}

#[test]
fn a_file_matched_by_identity_after_a_move_nobody_saw_keeps_its_item() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");
    sync(&mut w, &[gone("/home/u/papers/a.pdf")]);

    let change = FolderChange::Present {
        facts: facts("/home/u/papers/sub/renamed.pdf"),
        was: Some(Was::Item(id)),
        owners: vec![papers.clone()].into(),
    };
    let (_, summary) = sync(&mut w, &[change]);
    assert_eq!(summary.items_restored, 1);
    assert_eq!(item_at(&w, "/home/u/papers/sub/renamed.pdf"), id);
    let entry = w.live_entry("papers", id);
    assert_eq!(entry.unique_id, "sub/renamed.pdf");
}

#[test]
fn removing_a_watch_soft_deletes_its_entries_or_hands_them_over_as_manual() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    let id = item_at(&w, "/home/u/papers/a.pdf");

    let plan = w.commit(|v, c| rules::plan_remove_watch(v, c, papers.watch, false));
    assert_eq!(
        plan.outcome,
        Outcome::WatchRemoved {
            watch: papers.watch,
            entries: 1
        }
    );
    assert!(kinds(&plan).contains(&EventKind::WatchRemoved));
    assert!(!w.entry("papers", id).unwrap().is_live());
    assert!(w.state.collections[&cid("papers")].folders.is_empty());
    assert!(w.state.watches.is_empty());

    // Watched again: the entry comes back with its id.
    let again = add_watch(&mut w, "papers", "/home/u/papers");
    let dead = w.entry("papers", id).unwrap();
    sync(&mut w, &[present("/home/u/papers/a.pdf", &[&again])]);
    let revived = w.live_entry("papers", id);
    assert_eq!(revived.id, dead.id);
    assert_eq!(revived.source, EntrySource::Folder(again.watch));

    w.commit(|v, c| rules::plan_remove_watch(v, c, again.watch, true));
    let kept = w.live_entry("papers", id);
    assert_eq!(kept.source, EntrySource::Manual);

    let missing: WatchId = "w_01J00000000000000000000000".parse().unwrap();
    let refusal = w.refuse(|v, c| rules::plan_remove_watch(v, c, missing, false));
    assert_eq!(refusal.code, ErrorCode::WatchNotFound);
}

#[test]
fn purging_a_collection_removes_its_watches() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    w.trash("papers");
    let plan = w.commit(|v, c| rules::plan_purge_collection(v, c, &cid("papers")));
    assert!(kinds(&plan).contains(&EventKind::WatchRemoved));
    assert!(!w.state.watches.contains_key(&papers.watch));
}

#[test]
fn files_under_an_archived_collection_are_registered_but_membership_waits() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/home/u/papers");
    w.archive("papers");
    let (_, summary) = sync(&mut w, &[present("/home/u/papers/a.pdf", &[&papers])]);
    assert_eq!((summary.items_created, summary.entries_refused), (1, 1));
    assert_eq!(w.members("papers"), Vec::<ItemId>::new());
}

#[test]
fn facts_carry_the_file_identity_into_the_item() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/d");
    let mut f: FileFacts = facts("/d/a.pdf");
    f.file_id = Some(sheaf_core::FileId { dev: 1, ino: 42 });
    sync(
        &mut w,
        &[FolderChange::Present {
            facts: f,
            was: None,
            owners: vec![papers].into(),
        }],
    );
    let id = item_at(&w, "/d/a.pdf");
    assert_eq!(w.item(id).file_id.map(|f| f.ino), Some(42));
}

fn hashed(w: &World, id: ItemId, hash: &str) -> FolderChange {
    let item = w.item(id);
    FolderChange::Hashed {
        item: id,
        size: item.size,
        mtime: item.mtime,
        hash: hash.to_owned(),
    }
}

#[test]
fn a_background_hash_is_recorded_for_the_file_it_was_computed_from_without_touching_updated_at() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/p");
    sync(&mut w, &[present("/p/a.pdf", &[&papers])]);
    let id = item_at(&w, "/p/a.pdf");
    let before = w.item(id);

    let change = hashed(&w, id, "ab12");
    let (_, summary) = sync(&mut w, std::slice::from_ref(&change));
    assert_eq!(summary.items_hashed, 1);
    let after = w.item(id);
    assert_eq!(after.content_hash.as_deref(), Some("ab12"));
    assert_eq!(
        after.updated_at, before.updated_at,
        "derived data, not a change"
    );

    // The same hash again is no change at all.
    let (plan, summary) = sync(&mut w, &[change]);
    assert_eq!(summary.items_hashed, 0);
    assert!(plan.changes.is_empty());
}

#[test]
fn a_hash_of_a_file_that_changed_or_went_since_is_dropped() {
    let mut w = World::new();
    let papers = add_watch(&mut w, "papers", "/p");
    sync(&mut w, &[present("/p/a.pdf", &[&papers])]);
    let id = item_at(&w, "/p/a.pdf");
    let stale = FolderChange::Hashed {
        item: id,
        size: w.item(id).size + 1,
        mtime: w.item(id).mtime,
        hash: "old".into(),
    };
    let (_, summary) = sync(&mut w, &[stale]);
    assert_eq!(summary.items_hashed, 0);
    assert_eq!(w.item(id).content_hash, None);

    let late = hashed(&w, id, "late");
    sync(&mut w, &[gone("/p/a.pdf")]);
    let (_, summary) = sync(&mut w, &[late]);
    assert_eq!(summary.items_hashed, 0, "a deleted item gets no hash");
}

fn sync_groups(w: &mut World, groups: &[&[FolderChange]]) -> SyncSummary {
    let plan = w.commit(|v, c| rules::plan_folder_sync_groups(v, c, groups));
    let Outcome::Synced(summary) = plan.outcome else {
        panic!("sync answered {:?}", plan.outcome)
    };
    summary
}

#[test]
fn a_file_created_in_one_group_and_renamed_in_the_next_of_the_same_commit_leaves_no_ghost() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    // Two settled batches committed together: `a` appeared, then (a later drain) it was
    // renamed to `b`. The move names `a` as the earlier batch left it, not as the store had it.
    sync_groups(
        &mut w,
        &[
            &[present("/n/a.md", &[&notes])],
            &[moved("/n/a.md", "/n/b.md", &[&notes])],
        ],
    );
    let b = item_at(&w, "/n/b.md");
    assert!(
        w.state
            .items
            .values()
            .all(|i| i.path.as_deref() != Some("/n/a.md")),
        "a ghost is left at the name the file was renamed out of"
    );
    assert_eq!(w.members("notes"), vec![b]);
    assert_eq!(w.live_entry("notes", b).unique_id, "b.md");
}

#[test]
fn a_file_revived_in_one_group_and_renamed_in_the_next_of_the_same_commit_keeps_its_item() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[present("/n/a.md", &[&notes])]);
    let a = item_at(&w, "/n/a.md");
    sync(&mut w, &[gone("/n/a.md")]);
    sync_groups(
        &mut w,
        &[
            &[present("/n/a.md", &[&notes])],
            &[moved("/n/a.md", "/n/b.md", &[&notes])],
        ],
    );
    assert_eq!(item_at(&w, "/n/b.md"), a);
    assert_eq!(w.members("notes"), vec![a]);
}

#[test]
fn within_one_group_a_move_still_names_its_origin_as_it_was_before_the_group() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[present("/n/a.md", &[&notes])]);
    let a = item_at(&w, "/n/a.md");
    // One drain: the old `a` moved to `b` and a new file took its name.
    sync_groups(
        &mut w,
        &[&[
            present("/n/a.md", &[&notes]),
            moved("/n/a.md", "/n/b.md", &[&notes]),
        ]],
    );
    assert_eq!(item_at(&w, "/n/b.md"), a);
    assert_ne!(item_at(&w, "/n/a.md"), a);
}

fn renamed(from: &str, to: &str, owners: &[&Owner]) -> FolderChange {
    FolderChange::Renamed {
        from: from.to_owned(),
        to: to.to_owned(),
        owners: owners.iter().map(|o| (*o).clone()).collect(),
    }
}

#[test]
fn a_rename_whose_target_had_moved_on_before_it_was_seen_keeps_the_item_along_the_chain() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[present("/n/a.md", &[&notes])]);
    let a = item_at(&w, "/n/a.md");
    let size = w.item(a).size;
    // a → b settled, but b had already moved on to c when the daemon looked: the item
    // takes the name b with the facts it had, and the move b → c that follows finds it.
    sync(&mut w, &[renamed("/n/a.md", "/n/b.md", &[&notes])]);
    assert_eq!(item_at(&w, "/n/b.md"), a);
    assert_eq!(w.item(a).size, size);
    assert_eq!(w.live_entry("notes", a).unique_id, "b.md");
    sync(&mut w, &[moved("/n/b.md", "/n/c.md", &[&notes])]);
    assert_eq!(item_at(&w, "/n/c.md"), a);
    assert_eq!(w.members("notes"), vec![a]);
    assert!(w.state.items.values().all(|i| i.deleted_at.is_none()));
}

#[test]
fn a_rename_chain_inside_one_commit_keeps_the_item() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[present("/n/a.md", &[&notes])]);
    let a = item_at(&w, "/n/a.md");
    sync_groups(
        &mut w,
        &[
            &[renamed("/n/a.md", "/n/b.md", &[&notes])],
            &[moved("/n/b.md", "/n/c.md", &[&notes])],
        ],
    );
    assert_eq!(item_at(&w, "/n/c.md"), a);
    assert_eq!(w.members("notes"), vec![a]);
}

#[test]
fn a_rename_of_a_file_nobody_knew_changes_nothing() {
    let mut w = World::new();
    let notes = add_watch(&mut w, "notes", "/n");
    let (plan, _) = sync(&mut w, &[renamed("/n/x.md", "/n/y.md", &[&notes])]);
    assert!(plan.changes.is_empty());
}

#[test]
fn a_sync_reports_the_net_change_of_each_watchs_live_folder_entries() {
    let mut w = World::new();
    let a = add_watch(&mut w, "a", "/a");
    let b = add_watch(&mut w, "b", "/b");
    let (_, summary) = sync(
        &mut w,
        &[
            present("/a/1", &[&a]),
            present("/a/2", &[&a]),
            present("/b/1", &[&b]),
        ],
    );
    assert_eq!(
        summary.folder_entries,
        std::collections::BTreeMap::from([(a.watch, 2), (b.watch, 1)])
    );
    // A move from one watch to the other, a rename inside one, a file gone: net changes only.
    let (_, summary) = sync(
        &mut w,
        &[
            moved("/a/1", "/b/moved", &[&b]),
            moved("/a/2", "/a/renamed", &[&a]),
            gone("/b/1"),
        ],
    );
    assert_eq!(summary.folder_entries.get(&a.watch), Some(&-1));
    assert_eq!(
        summary.folder_entries.get(&b.watch),
        None,
        "one in, one out"
    );
}

fn with_inode(mut change: FolderChange, ino: u64) -> FolderChange {
    if let FolderChange::Present { facts, .. } = &mut change {
        facts.file_id = Some(sheaf_core::FileId { dev: 1, ino });
    }
    change
}

#[test]
fn a_move_onto_the_same_file_registered_there_first_by_a_walk_keeps_the_moved_item() {
    let mut w = World::new();
    let n = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[with_inode(present("/n/a/x.md", &[&n]), 7)]);
    let x = item_at(&w, "/n/a/x.md");
    // A walk of the folder the file was moved into saw it before the rename's events came.
    sync(&mut w, &[with_inode(present("/n/b/x.md", &[&n]), 7)]);
    let duplicate = item_at(&w, "/n/b/x.md");
    assert_ne!(duplicate, x);
    sync(
        &mut w,
        &[with_inode(moved("/n/a/x.md", "/n/b/x.md", &[&n]), 7)],
    );
    assert_eq!(item_at(&w, "/n/b/x.md"), x);
    assert!(w.item(duplicate).deleted_at.is_some());
    assert_eq!(w.members("notes"), vec![x]);
}

#[test]
fn an_atomic_save_over_a_file_with_another_inode_still_keeps_the_target_item() {
    let mut w = World::new();
    let n = add_watch(&mut w, "notes", "/n");
    sync(&mut w, &[with_inode(present("/n/d.md", &[&n]), 1)]);
    let target = item_at(&w, "/n/d.md");
    sync(&mut w, &[with_inode(present("/n/d.md.tmp", &[&n]), 2)]);
    sync(
        &mut w,
        &[with_inode(moved("/n/d.md.tmp", "/n/d.md", &[&n]), 2)],
    );
    assert_eq!(item_at(&w, "/n/d.md"), target);
}
