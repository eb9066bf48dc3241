//! Lists and maps of request bodies, bounded while they are deserialised: past its bound
//! a list or map is refused at once, so what follows is never materialised and a body
//! within `max_body_bytes` costs memory in proportion to what is allowed, not to what was
//! sent (a million one-byte keys would otherwise cost ~170 MB). The fields opt in with
//! `#[serde(deserialize_with = "…")]`; docs/decisions.md ("Bounded request bodies") says
//! why they are written by hand.
//!
//! - batch lists (`items`, `paths`): `max_batch` references, set for the thread by
//!   [`with_max_batch`]; one more is refused as that element (`["body", "items", 1000]`),
//!   which [`batch_size_exceeded`] turns into `BATCH_SIZE_EXCEEDED`;
//! - metadata maps: [`MAX_KEYS`] keys; metadata patches twice that (each key deleted or set);
//! - `accept` lists: [`MAX_ACCEPT_RULES`]; watch globs: [`MAX_GLOBS`].

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use sheaf_core::{ErrorCode, Loc, MAX_KEYS, Metadata, MetadataPatch, Refusal};

use crate::requests::MAX_ACCEPT_RULES;

/// The most `include` or `exclude` globs a watch may have.
pub const MAX_GLOBS: usize = 1024;

/// The most keys a metadata patch may name: as many deletions as a map can hold keys,
/// and as many keys set.
pub const MAX_PATCH_KEYS: usize = 2 * MAX_KEYS;

thread_local! {
    static MAX_BATCH: Cell<usize> = Cell::new(sheaf_core::Limits::default().max_batch);
}

/// Runs `f`, the deserialisation of a request body on this thread, with batch lists
/// bounded at `max_batch` references (the daemon's setting; elsewhere the default
/// `max_batch` applies). The previous bound is restored afterwards, also on a panic.
pub fn with_max_batch<R>(max_batch: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            MAX_BATCH.set(self.0);
        }
    }
    let _restore = Restore(MAX_BATCH.replace(max_batch));
    f()
}

/// The refusal for a body that failed to deserialise at `loc` because a batch list
/// (`["body", "items" | "paths", i]`) went past `max_batch`: an element at an index of
/// `max_batch` or more can only be the one [`with_max_batch`] refused.
#[must_use]
pub fn batch_size_exceeded(loc: &[Loc], max_batch: usize) -> Option<Refusal> {
    match loc {
        [Loc::Key(body), Loc::Key(field), Loc::Index(i)]
            if body == "body" && (field == "items" || field == "paths") && *i >= max_batch =>
        {
            Some(Refusal::new(
                ErrorCode::BatchSizeExceeded,
                format!("more than {max_batch} {field} in one batch; the limit is {max_batch}"),
            ))
        }
        _ => None,
    }
}

/// A bound: how many elements or keys, and what to say of one more.
trait Limit {
    fn max() -> usize;
    fn too_many(max: usize) -> String;
}

/// Declares a [`Limit`]: its name, its bound and its message (`{max}`: the bound).
macro_rules! limit {
    ($(#[$doc:meta] $name:ident = $max:expr, $message:literal;)*) => {$(
        #[$doc]
        enum $name {}
        impl Limit for $name {
            fn max() -> usize {
                $max
            }
            fn too_many(max: usize) -> String {
                format!($message, max = max)
            }
        }
    )*};
}

limit! {
    /// Batch lists: `max_batch` references ([`with_max_batch`]).
    Batch = MAX_BATCH.get(), "more than {max} references in one batch; the limit is {max}";
    /// `accept` lists.
    AcceptRules = MAX_ACCEPT_RULES, "at most {max} accept rules are allowed";
    /// A watch's `include` or `exclude` globs.
    Globs = MAX_GLOBS, "at most {max} globs are allowed";
    /// Metadata maps.
    Keys = MAX_KEYS, "at most {max} metadata keys are allowed";
    /// Metadata patches.
    PatchKeys = MAX_PATCH_KEYS, "a metadata patch may name at most {max} keys";
}

/// A list or map deserialised under limit `L`.
struct Bounded<C, L>(C, PhantomData<L>);

/// Reads a list up to `L::max()` elements; the element after the last allowed one is
/// refused as that element ([`Refuse`]), so the error's path ends in its index.
struct ListVisitor<T, L>(PhantomData<(T, L)>);

impl<'de, T: Deserialize<'de>, L: Limit> Visitor<'de> for ListVisitor<T, L> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} elements", L::max())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let max = L::max();
        let mut out = Vec::new();
        while out.len() < max {
            match seq.next_element()? {
                Some(x) => out.push(x),
                None => return Ok(out),
            }
        }
        match seq.next_element_seed(Refuse(L::too_many(max)))? {
            None => Ok(out),
            Some(never) => match never {},
        }
    }
}

/// An element that is always refused, without being read.
struct Refuse(String);

impl<'de> DeserializeSeed<'de> for Refuse {
    type Value = std::convert::Infallible;

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<Self::Value, D::Error> {
        Err(de::Error::custom(self.0))
    }
}

/// Reads a map up to `L::max()` distinct keys; a new key after that is refused (the
/// error's path is the map's), a repeated one replaces its value as serde's maps do.
struct MapVisitor<V, L>(PhantomData<(V, L)>);

impl<'de, V: Deserialize<'de>, L: Limit> Visitor<'de> for MapVisitor<V, L> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of at most {} keys", L::max())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let max = L::max();
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() == max && !out.contains_key(&key) {
                return Err(de::Error::custom(L::too_many(max)));
            }
            let value = map.next_value()?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

impl<'de, T: Deserialize<'de>, L: Limit> Deserialize<'de> for Bounded<Vec<T>, L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ListVisitor::<T, L>(PhantomData))
            .map(|v| Self(v, PhantomData))
    }
}

impl<'de, V: Deserialize<'de>, L: Limit> Deserialize<'de> for Bounded<BTreeMap<String, V>, L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MapVisitor::<V, L>(PhantomData))
            .map(|m| Self(m, PhantomData))
    }
}

/// `C` under limit `L`, or `null`.
fn optional<'de, D, C, L>(d: D) -> Result<Option<C>, D::Error>
where
    D: Deserializer<'de>,
    Bounded<C, L>: Deserialize<'de>,
{
    Option::<Bounded<C, L>>::deserialize(d).map(|o| o.map(|b| b.0))
}

/// A batch list: at most `max_batch` references ([`with_max_batch`]).
pub(crate) fn batch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Bounded::<Vec<T>, Batch>::deserialize(d).map(|b| b.0)
}

/// An optional batch list.
pub(crate) fn batch_opt<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    optional::<D, Vec<T>, Batch>(d)
}

/// An optional `accept` list: at most [`MAX_ACCEPT_RULES`] rules.
pub(crate) fn accept<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    optional::<D, Vec<String>, AcceptRules>(d)
}

/// An `accept` list in a PATCH, where `null` (accept everything) differs from absent.
#[allow(clippy::option_option)] // that difference is what `Option<Option<_>>` says here
pub(crate) fn accept_patch<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Vec<String>>>, D::Error> {
    accept(d).map(Some)
}

/// A watch's globs: at most [`MAX_GLOBS`].
pub(crate) fn globs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Bounded::<Vec<String>, Globs>::deserialize(d).map(|b| b.0)
}

/// Optional metadata: at most [`MAX_KEYS`] keys.
pub(crate) fn metadata<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Metadata>, D::Error> {
    optional::<D, Metadata, Keys>(d)
}

/// An optional metadata patch: at most [`MAX_PATCH_KEYS`] keys.
pub(crate) fn metadata_patch<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<MetadataPatch>, D::Error> {
    optional::<D, MetadataPatch, PatchKeys>(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "batch_opt")]
        items: Option<Vec<String>>,
        #[serde(default, deserialize_with = "metadata")]
        metadata: Option<Metadata>,
        #[serde(default, deserialize_with = "metadata_patch")]
        patch: Option<MetadataPatch>,
        #[serde(default, deserialize_with = "accept")]
        accept: Option<Vec<String>>,
    }

    /// The body, or the error's message without `serde_json`'s position.
    fn parse(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e: serde_json::Error| {
            let text = e.to_string();
            let at = format!(" at line {} column {}", e.line(), e.column());
            text.strip_suffix(&at).unwrap_or(&text).to_owned()
        })
    }

    /// `{"field": ["/f0", …]}` with `n` elements.
    fn list(field: &str, n: usize) -> String {
        let items: Vec<String> = (0..n).map(|i| format!("\"/f{i}\"")).collect();
        format!("{{\"{field}\":[{}]}}", items.join(","))
    }

    /// `{"field": {"k0": value, …}}` with `n` keys, and `more` after them.
    fn map(field: &str, n: usize, value: &str, more: &str) -> String {
        let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{value}")).collect();
        format!("{{\"{field}\":{{{}{more}}}}}", keys.join(","))
    }

    #[test]
    fn a_batch_list_holds_max_batch_references_and_refuses_one_more() {
        with_max_batch(3, || {
            assert_eq!(parse(&list("items", 3)).unwrap().items.unwrap().len(), 3);
            assert_eq!(
                parse(&list("items", 4)).unwrap_err(),
                "more than 3 references in one batch; the limit is 3"
            );
            assert!(parse("{\"items\":null}").unwrap().items.is_none());
        });
        // The default applies again outside.
        assert_eq!(parse(&list("items", 4)).unwrap().items.unwrap().len(), 4);
    }

    #[test]
    fn a_metadata_map_holds_64_keys_and_refuses_a_65th_but_not_a_repeated_one() {
        let full = parse(&map("metadata", 64, "1", "")).unwrap();
        assert_eq!(full.metadata.unwrap().len(), 64);
        assert_eq!(
            parse(&map("metadata", 65, "1", "")).unwrap_err(),
            "at most 64 metadata keys are allowed"
        );
        let repeated = parse(&map("metadata", 64, "1", ",\"k0\":2")).unwrap();
        assert_eq!(
            repeated.metadata.unwrap()["k0"],
            sheaf_core::MetaValue::Int(2)
        );
    }

    #[test]
    fn a_metadata_patch_may_delete_64_keys_and_set_64() {
        let sets: Vec<String> = (0..64).map(|i| format!(",\"n{i}\":1")).collect();
        let patch = parse(&map("patch", 64, "null", &sets.concat())).unwrap();
        assert_eq!(patch.patch.unwrap().len(), 128);
        assert_eq!(
            parse(&map("patch", 129, "null", "")).unwrap_err(),
            "a metadata patch may name at most 128 keys"
        );
    }

    #[test]
    fn an_accept_list_holds_64_rules() {
        assert_eq!(
            parse(&list("accept", 64)).unwrap().accept.unwrap().len(),
            64
        );
        assert_eq!(
            parse(&list("accept", 65)).unwrap_err(),
            "at most 64 accept rules are allowed"
        );
    }

    #[test]
    fn only_an_element_past_max_batch_in_items_or_paths_is_batch_size_exceeded() {
        let loc = |field: &str, i: usize| vec![Loc::from("body"), Loc::from(field), Loc::Index(i)];
        let r = batch_size_exceeded(&loc("paths", 5), 5).unwrap();
        assert_eq!(r.code, ErrorCode::BatchSizeExceeded);
        assert_eq!(r.message, "more than 5 paths in one batch; the limit is 5");
        assert!(batch_size_exceeded(&loc("items", 4), 5).is_none());
        assert!(batch_size_exceeded(&loc("accept", 70), 5).is_none());
        assert!(batch_size_exceeded(&[Loc::from("body"), Loc::from("items")], 5).is_none());
    }
}
