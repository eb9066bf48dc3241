//! What each field matches and what it does not, alone and combined.

use serde_json::json;
use sheaf_core::{MetaValue, Query};

use super::{Case, HOME, cid, query, wid};

const PAPER: &str = "/home/u/Papers/2026/Annual Report.pdf";

#[test]
fn an_empty_query_matches_every_live_item_and_no_deleted_one() {
    assert!(Case::new(PAPER).hit(&json!({})));
    assert!(!Case::new(PAPER).gone().hit(&json!({})));
    assert_eq!(query(&json!({})), Query::default());
}

#[test]
fn deleted_true_matches_only_deleted_items_and_null_is_the_default() {
    assert!(Case::new(PAPER).gone().hit(&json!({"deleted": true})));
    assert!(!Case::new(PAPER).hit(&json!({"deleted": true})));
    assert!(Case::new(PAPER).hit(&json!({"deleted": false})));
    assert!(Case::new(PAPER).hit(&json!({"deleted": null})));
    assert!(!Case::new(PAPER).gone().hit(&json!({"deleted": null})));
}

#[test]
fn kind_matches_any_listed_kind_and_takes_a_single_string() {
    let paper = Case::new(PAPER);
    assert!(paper.hit(&json!({"kind": ["image", "document"]})));
    assert!(paper.hit(&json!({"kind": "document"})));
    assert!(!paper.hit(&json!({"kind": ["image", "video"]})));
}

#[test]
fn content_type_matches_exact_types_and_wildcards_ignoring_case_and_parameters() {
    let png = Case::new("/p/a.png").typed("image/png");
    assert!(png.hit(&json!({"content_type": ["application/pdf", "image/*"]})));
    assert!(png.hit(&json!({"content_type": "IMAGE/PNG"})));
    assert!(!png.hit(&json!({"content_type": ["image/jpeg", "video/*"]})));
    let md = Case::new("/p/a.md").typed("text/markdown; charset=utf-8");
    assert!(md.hit(&json!({"content_type": "text/markdown"})));
}

#[test]
fn a_single_star_stays_within_one_component_and_a_double_star_crosses() {
    let paper = Case::new("/data/papers/2026/a.pdf");
    assert!(paper.hit(&json!({"path": "/data/papers/*/a.pdf"})));
    assert!(!paper.hit(&json!({"path": "/data/*/a.pdf"})));
    assert!(paper.hit(&json!({"path": "/data/**/a.pdf"})));
    assert!(paper.hit(&json!({"path": "**/*.pdf"})));
    assert!(!paper.hit(&json!({"path": ["**/*.png", "/other/**"]})));
    assert!(paper.hit(&json!({"path": ["**/*.png", "/data/**"]})));
}

#[test]
fn a_deleted_item_matches_globs_on_its_last_path() {
    let gone = Case::new("/data/a.pdf").gone();
    assert!(gone.hit(&json!({"path": "/data/*.pdf", "deleted": true})));
    assert!(!gone.hit(&json!({"path": "/else/*.pdf", "deleted": true})));
    let mut nowhere = gone;
    nowhere.item.last_path = None;
    assert!(!nowhere.hit(&json!({"path": "**", "deleted": true})));
}

#[test]
fn a_leading_tilde_is_the_home_given_to_the_matcher() {
    let paper = Case::new(PAPER);
    assert!(paper.hit(&json!({"path": "~/Papers/**"})));
    assert!(!paper.hit(&json!({"path": "~/Downloads/**"})));
    let q = query(&json!({"path": "~/Papers/**"}));
    assert!(q.matcher(Some("/home/u/")).matches(&paper.subject()));
    assert!(!q.matcher(Some("/home/v")).matches(&paper.subject()));
    // Without a home the tilde is literal, and no absolute path starts with it.
    assert!(!q.matcher(None).matches(&paper.subject()));
    let home = Case::new(HOME);
    assert!(home.hit(&json!({"path": "~"})));
    assert!(!paper.hit(&json!({"path": "~"})));
}

#[test]
fn a_home_with_glob_characters_matches_itself_only() {
    let q = query(&json!({"path": "~/*.pdf"}));
    let odd = Case::new("/home/[u]/a.pdf");
    assert!(q.matcher(Some("/home/[u]")).matches(&odd.subject()));
    let plain = Case::new("/home/u/a.pdf");
    assert!(!q.matcher(Some("/home/[u]")).matches(&plain.subject()));
}

#[test]
fn name_is_a_case_insensitive_substring_of_the_file_name_only() {
    let paper = Case::new(PAPER);
    assert!(paper.hit(&json!({"name": "report"})));
    assert!(paper.hit(&json!({"name": "L REPORT.P"})));
    assert!(!paper.hit(&json!({"name": "papers"})));
    let gone = Case::new(PAPER).gone();
    assert!(gone.hit(&json!({"name": "annual", "deleted": true})));
}

#[test]
fn size_bounds_are_inclusive() {
    let paper = Case::new(PAPER);
    assert!(paper.hit(&json!({"size": {"min": 1000, "max": 1000}})));
    assert!(paper.hit(&json!({"size": {"min": null, "max": 5000}})));
    assert!(!paper.hit(&json!({"size": {"min": 1001}})));
    assert!(!paper.hit(&json!({"size": {"max": 999}})));
}

#[test]
fn mtime_after_is_inclusive_and_before_exclusive() {
    let paper = Case::new(PAPER);
    let at = "2026-01-15T00:00:00Z";
    assert!(paper.hit(&json!({"mtime": {"after": at}})));
    assert!(!paper.hit(&json!({"mtime": {"before": at}})));
    assert!(paper.hit(&json!({"mtime": {"before": "2026-01-15T00:00:00.000001Z"}})));
    assert!(paper.hit(&json!({"mtime": {"after": "2026-01-15T01:00:00+02:00"}})));
    assert!(!paper.hit(&json!({"mtime": {"after": "2026-01-16T00:00:00Z", "before": null}})));
}

fn tagged(pairs: &[(&str, MetaValue)]) -> Case {
    let mut case = Case::new(PAPER);
    for (k, v) in pairs {
        case.item.metadata.insert((*k).to_owned(), v.clone());
    }
    case
}

#[test]
fn metadata_plain_values_match_equal_values_of_the_same_type() {
    let case = tagged(&[
        ("project", MetaValue::String("apollo".into())),
        ("reviewed", MetaValue::Bool(true)),
        ("score", MetaValue::Int(3)),
    ]);
    assert!(case.hit(&json!({"metadata": {"project": "apollo", "reviewed": true}})));
    assert!(case.hit(&json!({"metadata": {"score": 3.0}})));
    assert!(!case.hit(&json!({"metadata": {"project": "gemini"}})));
    assert!(!case.hit(&json!({"metadata": {"score": "3"}})));
    assert!(!case.hit(&json!({"metadata": {"reviewed": 1}})));
    assert!(!case.hit(&json!({"metadata": {"missing": "x"}})));
}

#[test]
fn a_list_of_metadata_values_matches_any_of_them() {
    let case = tagged(&[("project", MetaValue::String("apollo".into()))]);
    assert!(case.hit(&json!({"metadata": {"project": ["gemini", "apollo"]}})));
    assert!(!case.hit(&json!({"metadata": {"project": ["gemini", "mercury"]}})));
}

#[test]
fn metadata_ranges_are_inclusive_and_skip_non_numbers() {
    let case = tagged(&[
        ("score", MetaValue::Float(3.5)),
        ("big", MetaValue::Int(i64::MAX)),
        ("label", MetaValue::String("5".into())),
    ]);
    assert!(case.hit(&json!({"metadata": {"score": {"min": 3, "max": 3.5}}})));
    assert!(!case.hit(&json!({"metadata": {"score": {"min": 4}}})));
    assert!(!case.hit(&json!({"metadata": {"score": {"max": 3}}})));
    assert!(!case.hit(&json!({"metadata": {"label": {"min": 0}}})));
    assert!(!case.hit(&json!({"metadata": {"missing": {"min": 0}}})));
    // i64::MAX is below 2^63 as a float, even though it rounds to it.
    assert!(!case.hit(&json!({"metadata": {"big": {"min": 9_223_372_036_854_775_808.0}}})));
    assert!(case.hit(&json!({"metadata": {"big": {"min": i64::MAX}}})));
}

#[test]
fn metadata_exists_checks_presence() {
    let case = tagged(&[("todo", MetaValue::Bool(false))]);
    assert!(case.hit(&json!({"metadata": {"todo": {"exists": true}}})));
    assert!(!case.hit(&json!({"metadata": {"todo": {"exists": false}}})));
    assert!(case.hit(&json!({"metadata": {"other": {"exists": false}}})));
}

#[test]
fn in_and_not_in_read_live_memberships_and_default_means_unfiled() {
    let mut filed = Case::new(PAPER);
    filed.collections = vec![cid("inbox"), cid("papers")];
    assert!(filed.hit(&json!({"in": ["archive", "papers"]})));
    assert!(!filed.hit(&json!({"in": "archive"})));
    assert!(!filed.hit(&json!({"not_in": ["archive", "inbox"]})));
    assert!(filed.hit(&json!({"not_in": "archive"})));
    assert!(!filed.hit(&json!({"in": "default"})));
    assert!(filed.hit(&json!({"not_in": "default"})));
    let unfiled = Case::new(PAPER);
    assert!(unfiled.hit(&json!({"in": "default"})));
    assert!(!unfiled.hit(&json!({"not_in": "default"})));
    assert!(!unfiled.hit(&json!({"in": "inbox"})));
}

#[test]
fn duplicate_compares_with_the_subject() {
    let mut case = Case::new(PAPER);
    assert!(case.hit(&json!({"duplicate": false})));
    assert!(!case.hit(&json!({"duplicate": true})));
    case.duplicate = true;
    assert!(case.hit(&json!({"duplicate": true})));
    assert!(!case.hit(&json!({"duplicate": false})));
}

#[test]
fn watch_matches_when_one_listed_watch_owns_the_item() {
    let mut case = Case::new(PAPER);
    let (w1, w2, w3) = (wid(1), wid(2), wid(3));
    case.watches = vec![w2];
    assert!(case.hit(&json!({"watch": [w1.to_string(), w2.to_string()]})));
    assert!(!case.hit(&json!({"watch": [w1.to_string(), w3.to_string()]})));
    case.watches.clear();
    assert!(!case.hit(&json!({"watch": w2.to_string()})));
}

#[test]
fn fields_are_anded_and_list_values_ored() {
    let paper = Case::new(PAPER);
    let both = json!({"kind": ["image", "document"], "path": ["/x/**", "~/**"]});
    assert!(paper.hit(&both));
    let one_fails = json!({"kind": ["image", "document"], "path": "~/**", "size": {"min": 2000}});
    assert!(!paper.hit(&one_fails));
    let spec = json!({
        "kind": ["document", "image"], "content_type": ["application/pdf", "image/*"],
        "path": ["~/Papers/**", "**/*.pdf"], "name": "report",
        "size": {"min": 1000, "max": null},
        "mtime": {"after": "2026-01-01T00:00:00Z", "before": null},
        "not_in": ["archive"], "duplicate": false, "deleted": false
    });
    assert!(paper.hit(&spec));
}

#[test]
fn a_query_says_what_it_reads() {
    let q = query(&json!({"in": ["a", "default"], "not_in": "b"}));
    let named: Vec<_> = q.collections().cloned().collect();
    assert_eq!(named, [cid("a"), cid("default"), cid("b")]);
    assert!(q.uses_memberships() && !q.uses_duplicates() && !q.uses_watches());
    let q = query(&json!({"duplicate": false, "watch": wid(9).to_string()}));
    assert_eq!(q.collections().count(), 0);
    assert!(!q.uses_memberships() && q.uses_duplicates() && q.uses_watches());
    let m = q.matcher(None);
    assert_eq!(m.query(), &q);
}
