//! The keys a table of the file takes, as serde knows them: the list the derive hands to
//! `deserialize_struct`. A message naming the known keys reads it from the types, so the
//! list is written once, as the fields of the structs.

use std::cell::Cell;

use serde::de::value::{Error, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::de::{IntoDeserializer as _, Visitor};

use super::diagnostics::Seg;

type Fields = &'static [&'static str];

/// The keys of the table at `path` in a document read as `T` (`[]`: the top level), or
/// `None` when no table of `T` is there (a value, an unknown key, an ignored table).
pub(super) fn known_keys<T: DeserializeOwned>(path: &[Seg<'_>]) -> Option<Fields> {
    let found = Cell::new(None);
    // The walk always ends in an error, once the table is found or the path leads nowhere;
    // the answer is what it left in `found`.
    let _ = T::deserialize(Probe {
        path,
        found: &found,
    });
    found.get()
}

/// A document that holds nothing but the way down `path`: a table holds the path's next
/// key, an array one element, and the table where the path ends tells its fields.
#[derive(Clone, Copy)]
struct Probe<'p, 'k> {
    path: &'p [Seg<'k>],
    found: &'p Cell<Option<Fields>>,
}

impl<'de> Deserializer<'de> for Probe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("no table here"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.path {
            [Seg::Index(_), rest @ ..] => {
                visitor.visit_seq(Element(Some(Probe { path: rest, ..self })))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: Fields,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.path {
            [] => {
                self.found.set(Some(fields));
                Err(de::Error::custom("found"))
            }
            [Seg::Key(key), rest @ ..] => visitor.visit_map(Entry {
                key: Some(key),
                value: Probe { path: rest, ..self },
            }),
            [Seg::Index(_), ..] => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct map enum identifier ignored_any
    }
}

/// A table of one key.
struct Entry<'p, 'k> {
    key: Option<&'k str>,
    value: Probe<'p, 'k>,
}

impl<'de> MapAccess<'de> for Entry<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        self.key
            .take()
            .map(|key| {
                let key: StrDeserializer<'_, Error> = key.into_deserializer();
                seed.deserialize(key)
            })
            .transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(self.value)
    }
}

/// An array of one element.
struct Element<'p, 'k>(Option<Probe<'p, 'k>>);

impl<'de> SeqAccess<'de> for Element<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .take()
            .map(|probe| seed.deserialize(probe))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::FileConfig;

    #[test]
    fn each_table_tells_its_keys_and_a_value_none() {
        let top = known_keys::<FileConfig>(&[]).unwrap();
        assert_eq!(top.first(), Some(&"socket"));
        assert!(top.contains(&"tui"), "{top:?}");
        let watch = [Seg::Key("watch"), Seg::Index(0)];
        assert_eq!(
            known_keys::<FileConfig>(&watch),
            Some(
                &[
                    "path",
                    "collection",
                    "recursive",
                    "include",
                    "exclude",
                    "poll"
                ][..]
            )
        );
        let rate = [Seg::Key("rate_limit")];
        assert_eq!(
            known_keys::<FileConfig>(&rate),
            Some(&["per_second", "burst"][..])
        );
        let key = [Seg::Key("tcp"), Seg::Key("keys"), Seg::Index(3)];
        assert_eq!(
            known_keys::<FileConfig>(&key),
            Some(&["name", "scope", "hash"][..])
        );
        for nothing in [
            &[Seg::Key("max_batch")][..],
            &[Seg::Key("tui")],
            &[Seg::Key("nope")],
            &[Seg::Key("watch")],
            &[Seg::Index(0)],
        ] {
            assert_eq!(known_keys::<FileConfig>(nothing), None, "{nothing:?}");
        }
    }
}
