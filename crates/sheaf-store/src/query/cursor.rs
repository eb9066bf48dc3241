//! The paging cursors: one type for the six listings' formats, so that every listing hands
//! out and reads back its cursors the same way, and a cursor of one listing is refused by
//! every other.

use std::fmt;
use std::ops::Bound;

use crate::error::ReadError;
use crate::order::{Direction, Order};
use crate::query::Page;

/// Marks the text of a cursor handed out by a listing read against its default direction
/// (`order=desc` of a collection or of the items, `order=asc` of the op log), so that it
/// continues that listing and no other; cursors of the default direction carry no mark and
/// read as they always did.
const AGAINST: char = '~';

/// Where a page starts: just after the last row of the page before. The text form is a
/// one-letter tag and the row's key; clients treat it as opaque.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// `p<sort_order>`: a collection in its own order.
    Position(i64),
    /// `s<order tag>.<key in hex>.<item ulid>`: a collection in one of the indexed orders.
    Sorted {
        /// The order the page was listed in.
        order: Order,
        /// The last row's sort key.
        key: Vec<u8>,
        /// The last row's item.
        item: u128,
    },
    /// `u<item ulid>`: the `default` view, by item id.
    Unfiled(u128),
    /// `i<item ulid>`: all items, by id.
    Item(u128),
    /// `P<path>`: items under a path prefix, by path.
    Path(String),
    /// `o<op ulid>`: the op log, newest first.
    Op(u128),
}

impl Cursor {
    /// Parses a cursor's text form; `None` for text no listing hands out.
    fn parse(text: &str) -> Option<Cursor> {
        let mut chars = text.chars();
        let tag = chars.next()?;
        let rest = chars.as_str();
        match tag {
            'p' => rest.parse().ok().map(Cursor::Position),
            's' => parse_sorted(rest),
            'u' => rest.parse().ok().map(Cursor::Unfiled),
            'i' => rest.parse().ok().map(Cursor::Item),
            'P' => Some(Cursor::Path(rest.to_owned())),
            'o' => rest.parse().ok().map(Cursor::Op),
            _ => None,
        }
    }

    /// Reads a listing's cursor: `None` for the first page, else what `pick` takes from it;
    /// a cursor that does not parse, that was handed out in the other direction (`against`
    /// says whether this read is against the listing's default one), or that `pick` refuses
    /// (another listing's) is [`ReadError::BadCursor`].
    pub(crate) fn read<T>(
        text: Option<&str>,
        against: bool,
        pick: impl FnOnce(Cursor) -> Option<T>,
    ) -> Result<Option<T>, ReadError> {
        let Some(text) = text else { return Ok(None) };
        let body = match text.strip_prefix(AGAINST) {
            Some(body) => against.then_some(body),
            None => (!against).then_some(text),
        };
        body.and_then(Cursor::parse)
            .and_then(pick)
            .map(Some)
            .ok_or_else(|| ReadError::BadCursor(text.chars().take(100).collect()))
    }
}

/// `<order tag>.<key in hex>.<item ulid>`.
fn parse_sorted(text: &str) -> Option<Cursor> {
    let mut parts = text.split('.');
    let (Some(tag), Some(hex), Some(item), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let order = tag.parse::<u8>().ok().and_then(Order::from_tag)?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let key = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| char::from(b).to_digit(16);
            u8::try_from((digit(pair[0])? << 4) | digit(pair[1])?).ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(Cursor::Sorted {
        order,
        key,
        item: item.parse().ok()?,
    })
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cursor::Position(sort) => write!(f, "p{sort}"),
            Cursor::Sorted { order, key, item } => {
                write!(f, "s{}.", order.tag())?;
                for b in key {
                    write!(f, "{b:02x}")?;
                }
                write!(f, ".{item}")
            }
            Cursor::Unfiled(item) => write!(f, "u{item}"),
            Cursor::Item(item) => write!(f, "i{item}"),
            Cursor::Path(path) => write!(f, "P{path}"),
            Cursor::Op(op) => write!(f, "o{op}"),
        }
    }
}

/// The part of a listing's key range (`lo`, `hi`) still to read after the row of the cursor
/// (`after`) in `direction`: above it ascending, below it descending.
pub(crate) fn rest<K>(
    lo: Bound<K>,
    hi: Bound<K>,
    after: Option<K>,
    direction: Direction,
) -> (Bound<K>, Bound<K>) {
    match (after, direction) {
        (None, _) => (lo, hi),
        (Some(a), Direction::Asc) => (Bound::Excluded(a), hi),
        (Some(a), Direction::Desc) => (lo, Bound::Excluded(a)),
    }
}

/// A double-ended range read in a direction: from its front ascending, from its back
/// descending.
pub(crate) struct Directed<I> {
    iter: I,
    direction: Direction,
}

impl<I> Directed<I> {
    pub(crate) fn new(iter: I, direction: Direction) -> Self {
        Self { iter, direction }
    }
}

impl<I: DoubleEndedIterator> Iterator for Directed<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        match self.direction {
            Direction::Asc => self.iter.next(),
            Direction::Desc => self.iter.next_back(),
        }
    }
}

/// Collects one page: rows that passed the listing's filters are offered in order; once
/// `limit` are kept, one more proves that a next page exists, and the next cursor is the
/// last kept row's.
#[derive(Debug)]
pub(crate) struct Pager<T> {
    rows: Vec<T>,
    limit: usize,
    more: bool,
    against: bool,
}

impl<T> Pager<T> {
    /// A page of `limit` rows; `against`: the listing reads against its default direction
    /// (its next cursor is marked so).
    pub(crate) fn new(limit: usize, against: bool) -> Self {
        Self {
            rows: Vec::with_capacity(limit),
            limit,
            more: false,
            against,
        }
    }

    /// Keeps `row` if the page has room; `false` once it is full (stop reading).
    pub(crate) fn offer(&mut self, row: T) -> bool {
        if self.rows.len() == self.limit {
            self.more = true;
            return false;
        }
        self.rows.push(row);
        true
    }

    /// The page, its next cursor made by `cursor` from the last kept row when more follow.
    pub(crate) fn finish(self, cursor: impl FnOnce(&T) -> Option<Cursor>) -> Page<T> {
        let next_cursor = if self.more {
            let against = self.against;
            self.rows.last().and_then(cursor).map(|c| {
                if against {
                    format!("{AGAINST}{c}")
                } else {
                    c.to_string()
                }
            })
        } else {
            None
        };
        Page {
            items: self.rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_reads_back_as_itself() {
        let all = [
            Cursor::Position(-7),
            Cursor::Sorted {
                order: Order::Name,
                key: b"caf\xc3\xa9".to_vec(),
                item: 42,
            },
            Cursor::Sorted {
                order: Order::Size,
                key: Vec::new(),
                item: u128::MAX,
            },
            Cursor::Unfiled(1),
            Cursor::Item(2),
            Cursor::Path("/a b/ç".into()),
            Cursor::Op(3),
        ];
        for cursor in all {
            let text = cursor.to_string();
            assert_eq!(Cursor::parse(&text), Some(cursor), "{text}");
        }
    }

    #[test]
    fn a_cursor_of_another_listing_is_refused_by_name() {
        let position = |c| match c {
            Cursor::Position(s) => Some(s),
            _ => None,
        };
        assert_eq!(Cursor::read(None, false, position).unwrap(), None);
        assert_eq!(Cursor::read(Some("p5"), false, position).unwrap(), Some(5));
        for text in ["u5", "x", "", "p", "pfive", "~p5"] {
            match Cursor::read(Some(text), false, position) {
                Err(ReadError::BadCursor(t)) => assert_eq!(t, text),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_cursor_continues_only_the_direction_that_handed_it_out() {
        let position = |c| match c {
            Cursor::Position(s) => Some(s),
            _ => None,
        };
        let mut against = Pager::new(1, true);
        against.offer(5);
        against.offer(6);
        let text = against.finish(|&s| Some(Cursor::Position(s))).next_cursor;
        assert_eq!(text.as_deref(), Some("~p5"));
        assert_eq!(
            Cursor::read(text.as_deref(), true, position).unwrap(),
            Some(5)
        );
        assert!(matches!(
            Cursor::read(text.as_deref(), false, position),
            Err(ReadError::BadCursor(_))
        ));
        assert!(matches!(
            Cursor::read(Some("p5"), true, position),
            Err(ReadError::BadCursor(_))
        ));
    }

    #[test]
    fn a_sorted_cursor_with_a_bad_key_or_order_does_not_parse() {
        for text in [
            "s1.zz.5",
            "s1.abc.5",
            "s1.a\u{e9}a.5",
            "s0.00.5",
            "s9.00.5",
            "s1.00",
            "s1.00.5.6",
            "s1.+f.5",
        ] {
            assert_eq!(Cursor::parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_long_bad_cursor_is_named_by_its_first_100_characters() {
        let text = "x".repeat(500);
        match Cursor::read(Some(&text), false, Some) {
            Err(ReadError::BadCursor(t)) => assert_eq!(t.len(), 100),
            other => panic!("{other:?}"),
        }
    }
}
