use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use ulid::Ulid;

use crate::kind::Kind;

/// A malformed id, with the text that was given and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a valid {expected}")]
pub struct IdError {
    /// The text as given.
    pub given: String,
    /// What an id of this kind looks like.
    pub expected: &'static str,
}

impl IdError {
    fn new(given: &str, expected: &'static str) -> Self {
        // Keep error messages bounded whatever the caller sent.
        let given: String = given.chars().take(200).collect();
        Self { given, expected }
    }
}

fn parse_ulid(text: &str, expected: &'static str) -> Result<Ulid, IdError> {
    // Crockford base32 is case-insensitive on input; we always print upper case.
    if text.len() != 26 {
        return Err(IdError::new(text, expected));
    }
    Ulid::from_string(text).map_err(|_| IdError::new(text, expected))
}

/// Serialises an id as its text in human-readable formats, as a bare `u128` otherwise.
macro_rules! ulid_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.collect_str(self)
                } else {
                    s.serialize_u128(self.0.0)
                }
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    text.parse().map_err(de::Error::custom)
                } else {
                    u128::deserialize(d).map(|v| Self(Ulid(v)))
                }
            }
        }
    };
}

/// Ids of the form `<prefix>_<ULID>` whose prefix never varies.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $ty:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(Ulid);

        impl $ty {
            /// The text before the underscore.
            pub const PREFIX: &'static str = $prefix;

            /// The id made of this ULID.
            #[must_use]
            pub const fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            /// The ULID inside.
            #[must_use]
            pub const fn ulid(self) -> Ulid {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                const EXPECTED: &str = concat!("id (", $prefix, "_ followed by a 26-character ULID)");
                let rest = s
                    .strip_prefix(concat!($prefix, "_"))
                    .ok_or_else(|| IdError::new(s, EXPECTED))?;
                parse_ulid(rest, EXPECTED).map(Self).map_err(|_| IdError::new(s, EXPECTED))
            }
        }

        ulid_serde!($ty);
    };
}

prefixed_id!(
    /// An entry's id, `ent_<ULID>`.
    EntryId,
    "ent"
);
prefixed_id!(
    /// A logged operation's id, `op_<ULID>`.
    OpId,
    "op"
);
prefixed_id!(
    /// A request's id, `req_<ULID>`, echoed in `X-Request-Id` and in error envelopes.
    RequestId,
    "req"
);
prefixed_id!(
    /// A folder watch's id, `w_<ULID>`.
    WatchId,
    "w"
);
prefixed_id!(
    /// A rule's id, `r_<ULID>` (SPEC §7.3).
    RuleId,
    "r"
);

/// An item's id: `<prefix>_<ULID>`, the prefix naming the kind the item had when it was
/// first registered (`doc`, `img`, `vid`, `aud`, `txt`, `arc`, `bin`).
///
/// The id never changes, even if the file's content later changes kind; the ULID alone is
/// unique, the prefix is part of the name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId {
    ulid: Ulid,
    prefix: Kind,
}

impl ItemId {
    /// The id of an item first registered as `kind`.
    #[must_use]
    pub const fn new(kind: Kind, ulid: Ulid) -> Self {
        Self { ulid, prefix: kind }
    }

    /// The ULID: unique on its own, used as the storage key.
    #[must_use]
    pub const fn ulid(self) -> Ulid {
        self.ulid
    }

    /// The kind named by the prefix.
    #[must_use]
    pub const fn prefix_kind(self) -> Kind {
        self.prefix
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.prefix.id_prefix(), self.ulid)
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for ItemId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const EXPECTED: &str =
            "item id (doc_, img_, vid_, aud_, txt_, arc_ or bin_ followed by a 26-character ULID)";
        let (prefix, rest) = s.split_once('_').ok_or_else(|| IdError::new(s, EXPECTED))?;
        let kind = Kind::from_id_prefix(prefix).ok_or_else(|| IdError::new(s, EXPECTED))?;
        let ulid = parse_ulid(rest, EXPECTED).map_err(|_| IdError::new(s, EXPECTED))?;
        Ok(Self::new(kind, ulid))
    }
}

impl Serialize for ItemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            (self.prefix, self.ulid.0).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            text.parse().map_err(de::Error::custom)
        } else {
            let (prefix, ulid) = <(Kind, u128)>::deserialize(d)?;
            Ok(Self::new(prefix, Ulid(ulid)))
        }
    }
}

/// A collection's id: a slug `^[a-z0-9][a-z0-9_.-]{0,127}$` chosen by the user.
///
/// `default` is reserved for the view of unfiled items.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CollectionId(String);

impl CollectionId {
    /// The id of the reserved view of items that are in no collection.
    pub const DEFAULT: &'static str = "default";

    /// The reserved `default` collection.
    #[must_use]
    pub fn default_collection() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// Whether this is the reserved `default` collection.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the slug grammar.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        const EXPECTED: &str =
            "collection id (1-128 of a-z 0-9 _ . -, starting with a letter or digit)";
        let bytes = text.as_bytes();
        let first_ok = bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok = bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(b));
        if first_ok && rest_ok && bytes.len() <= 128 {
            Ok(Self(text.to_owned()))
        } else {
            Err(IdError::new(text, EXPECTED))
        }
    }
}

impl fmt::Display for CollectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CollectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl FromStr for CollectionId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for CollectionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_round_trip_through_text_and_keep_their_prefix() {
        let id = ItemId::new(Kind::Image, Ulid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
        let text = id.to_string();
        assert!(text.starts_with("img_"), "{text}");
        assert_eq!(text.parse::<ItemId>().unwrap(), id);
    }

    #[test]
    fn item_ids_with_unknown_prefix_or_bad_ulid_are_rejected() {
        assert!("xyz_01J0000000000000000000000".parse::<ItemId>().is_err());
        assert!("doc_not-a-ulid".parse::<ItemId>().is_err());
        assert!("doc01J00000000000000000000000".parse::<ItemId>().is_err());
        assert!("ent_01J0000000000000000000000A".parse::<ItemId>().is_err());
    }

    #[test]
    fn a_malformed_id_is_reported_whole() {
        let err = "doc_bad".parse::<ItemId>().unwrap_err();
        assert_eq!(err.given, "doc_bad");
        let err = "op_bad".parse::<OpId>().unwrap_err();
        assert_eq!(err.given, "op_bad");
    }

    #[test]
    fn entry_ids_require_their_own_prefix() {
        let id = EntryId::from_ulid(Ulid(42));
        assert_eq!(id.to_string().parse::<EntryId>().unwrap(), id);
        assert!(
            id.to_string()
                .replace("ent_", "op_")
                .parse::<EntryId>()
                .is_err()
        );
    }

    #[test]
    fn collection_slugs_follow_the_grammar() {
        for good in ["a", "research_papers", "2024.q1-notes", &"x".repeat(128)] {
            assert!(CollectionId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "_x", "-x", "Upper", "with space", "é", &"x".repeat(129)] {
            assert!(CollectionId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_text_in_json() {
        let id = OpId::from_ulid(Ulid(7));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<OpId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<OpId>("\"op_bad\"").is_err());
    }
}
