//! Generated queries and items over small alphabets (so that matches happen): the canonical
//! form parses back to the same query, and the matcher agrees with a plain reference
//! predicate ([`super::reference`]).

use proptest::collection::{btree_map, vec};
use proptest::option::{of as any_of, weighted};
use proptest::prelude::*;
use proptest::sample::select;
use sheaf_core::{Kind, Query, Timestamp};

use super::reference::{
    BOUNDS, Cond, DIRS, FILES, GLOBS, NAMES, PATTERNS, PLAINS, Plain, SLUGS, Spec, TYPES, num,
};
use super::{Case, cid, query, wid};

/// Present with probability `p`: mostly absent in whole queries, so that a query sets a few
/// fields and matches happen.
fn of<S: Strategy>(p: f64, s: S) -> impl Strategy<Value = Option<S::Value>> {
    weighted(p, s)
}

fn list<T: Clone + std::fmt::Debug + 'static>(
    p: f64,
    values: &'static [T],
) -> impl Strategy<Value = Option<Vec<T>>> {
    of(p, vec(select(values), 1..=3))
}

/// Two bounds, the lower one never above the upper one.
fn ordered<T: PartialOrd + Copy + std::fmt::Debug>(
    lo: Option<T>,
    hi: Option<T>,
) -> (Option<T>, Option<T>) {
    match (lo, hi) {
        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
        other => other,
    }
}

fn cond() -> impl Strategy<Value = Cond> {
    let range = (any_of(select(&BOUNDS[..])), any_of(select(&BOUNDS[..])))
        .prop_filter("a range needs a bound", |(a, b)| a.is_some() || b.is_some())
        .prop_map(|(a, b)| {
            let n = |p: Plain| num(&p.meta());
            match (a, b) {
                (Some(x), Some(y)) if n(x) > n(y) => Cond::Range(b, a),
                _ => Cond::Range(a, b),
            }
        });
    prop_oneof![
        vec(select(&PLAINS[..]), 1..=3).prop_map(Cond::AnyOf),
        range,
        any::<bool>().prop_map(Cond::Exists),
    ]
}

/// A query whose fields are each set with probability `p`.
fn spec(p: f64) -> impl Strategy<Value = Spec> {
    let first = (
        list(p, &Kind::ALL[..]),
        list(p, &PATTERNS[..]),
        of(p, vec(0..GLOBS.len(), 1..=3)),
        of(p, select(&NAMES[..])),
        (of(p, 0..10u64), of(p, 0..10u64)),
        (of(p, 0..6i64), of(p, 0..6i64)),
    );
    let second = (
        of(p, btree_map(select(&["a", "b"][..]), cond(), 1..=2))
            .prop_map(Option::unwrap_or_default),
        list(p, &SLUGS[..]),
        list(p, &SLUGS[..]),
        of(p, any::<bool>()),
        of(p, vec(1..=3u128, 1..=2)),
        of(p, any::<bool>()),
        any::<bool>(),
    );
    (first, second).prop_map(|((kind, content_type, path, name, size, mtime), rest)| {
        let (metadata, in_, not_in, duplicate, watch, deleted, lone) = rest;
        let size = ordered(size.0, size.1);
        // `after` must be strictly earlier than `before`.
        let mtime = match mtime {
            (Some(a), Some(b)) if a >= b => (Some(a), None),
            other => other,
        };
        Spec {
            kind,
            content_type,
            path,
            name,
            size,
            mtime,
            metadata,
            in_,
            not_in,
            duplicate,
            watch,
            deleted,
            lone,
        }
    })
}

fn case() -> impl Strategy<Value = Case> {
    let meta = btree_map(select(&["a", "b"][..]), select(&PLAINS[..]), 0..=2);
    let around = (
        vec(select(&["c1", "c2"][..]), 0..=2),
        vec(1..=3u128, 0..=2),
        any::<bool>(),
    );
    (
        (
            select(&TYPES[..]),
            select(&DIRS[..]),
            select(&FILES[..]),
            any::<bool>(),
        ),
        (0..10u64, 0..6i64, meta),
        around,
    )
        .prop_map(
            |((ct, dir, file, gone), (size, mtime, meta), (cs, ws, duplicate))| {
                let mut c = Case::new(&format!("{dir}/{file}")).typed(ct);
                if gone {
                    c = c.gone();
                }
                c.item.size = size;
                c.item.mtime = Timestamp::from_micros(mtime);
                c.item.metadata = meta
                    .into_iter()
                    .map(|(k, p)| (k.to_owned(), p.meta()))
                    .collect();
                c.collections = cs.into_iter().map(cid).collect();
                c.watches = ws.into_iter().map(wid).collect();
                c.duplicate = duplicate;
                c
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_canonical_form_of_any_query_parses_back_to_it(spec in spec(0.2)) {
        let q = query(&spec.json());
        prop_assert_eq!(&Query::parse(&q.to_json(), &[]).unwrap(), &q);
        let bytes = postcard::to_allocvec(&q).unwrap();
        prop_assert_eq!(&postcard::from_bytes::<Query>(&bytes).unwrap(), &q);
    }

    #[test]
    fn the_matcher_agrees_with_the_reference_predicate(spec in spec(0.2), cases in vec(case(), 16)) {
        let matcher = query(&spec.json()).matcher(Some("/home/u"));
        for c in &cases {
            prop_assert_eq!(matcher.matches(&c.subject()), spec.admits(c), "{:?}", c);
        }
    }

    #[test]
    fn each_field_alone_agrees_with_the_reference_predicate(
        spec in (spec(0.7), 0..12usize).prop_map(|(s, i)| s.only(i)),
        cases in vec(case(), 16),
    ) {
        let matcher = query(&spec.json()).matcher(Some("/home/u"));
        for c in &cases {
            prop_assert_eq!(matcher.matches(&c.subject()), spec.admits(c), "{:?}", c);
        }
    }
}
