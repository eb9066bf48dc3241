//! Items, a page at a time: of one collection in its order, under a path prefix in path
//! order, or all of them in id order; each ascending or descending.

use sheaf_core::{EntryFilter, Item, Kind};

use std::ops::Bound;

use super::cursor::{Cursor, Directed, Pager, rest};
use super::{EntryQuery, ItemQuery, Page};
use crate::Store;
use crate::error::{ReadError, StoreError};
use crate::order::{Direction, Order};
use crate::schema::{Tabs, decode_item};
use crate::view::item;

type Result<T> = std::result::Result<T, ReadError>;

/// Whether an item passes an item listing's filters.
fn item_passes(
    item: &Item,
    kind: Option<Kind>,
    q: Option<&str>,
    prefix: Option<&str>,
    deleted: bool,
) -> bool {
    (deleted || item.deleted_at.is_none())
        && kind.is_none_or(|k| k == item.kind)
        && prefix.is_none_or(|p| {
            item.path
                .as_deref()
                .or(item.last_path.as_deref())
                .is_some_and(|x| x.starts_with(p))
        })
        && q.filter(|q| !q.is_empty()).is_none_or(|q| {
            let q = q.to_lowercase();
            item.original_filename.to_lowercase().contains(&q)
                || item
                    .path
                    .as_deref()
                    .is_some_and(|p| p.to_lowercase().contains(&q))
        })
}

impl Store {
    /// A page of items: of one collection in its order, under a path prefix in path
    /// order, or all in id order.
    pub fn items(&self, query: &ItemQuery) -> Result<Option<Page<Item>>> {
        let limit = query.limit.clamp(1, 1000);
        let pass = |i: &Item| {
            item_passes(
                i,
                query.kind,
                query.q.as_deref(),
                query.path_prefix.as_deref(),
                query.deleted,
            )
        };
        if let Some(cid) = &query.collection {
            let entries = EntryQuery {
                cursor: query.cursor.clone(),
                limit,
                deleted: false,
                filter: EntryFilter {
                    q: None,
                    kind: query.kind,
                },
                order: Order::Position,
                direction: query.direction,
            };
            let Some(page) = self.entries(cid, &entries)? else {
                return Ok(None);
            };
            // Text and path filters apply to items; keep entry order and cursor.
            return Ok(Some(Page {
                items: page
                    .items
                    .into_iter()
                    .map(|l| l.item)
                    .filter(pass)
                    .collect(),
                next_cursor: page.next_cursor,
            }));
        }
        let t = self.read()?;
        let against = query.direction == Direction::Desc;
        let mut page = Pager::new(limit, against);
        if let Some(prefix) = &query.path_prefix {
            let after = Cursor::read(query.cursor.as_deref(), against, |c| match c {
                Cursor::Path(path) => Some(path),
                _ => None,
            })?;
            let above = past_prefix(prefix);
            let range = rest(
                Bound::Included(prefix.as_str()),
                above.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
                after.as_deref(),
                query.direction,
            );
            let paths = t.paths()?;
            let rows = paths.range::<&str>(range).map_err(StoreError::storage)?;
            for r in Directed::new(rows, query.direction) {
                let (k, v) = r.map_err(StoreError::storage)?;
                if !k.value().starts_with(prefix.as_str()) {
                    break;
                }
                let Some(it) = item(&t, v.value())? else {
                    continue;
                };
                if pass(&it) && !page.offer(it) {
                    break;
                }
            }
            return Ok(Some(page.finish(|i| {
                i.path
                    .clone()
                    .or_else(|| i.last_path.clone())
                    .map(Cursor::Path)
            })));
        }
        let after = Cursor::read(query.cursor.as_deref(), against, |c| match c {
            Cursor::Item(ulid) => Some(ulid),
            _ => None,
        })?;
        let range = rest(Bound::Unbounded, Bound::Unbounded, after, query.direction);
        let items = t.items()?;
        let rows = items.range(range).map_err(StoreError::storage)?;
        for r in Directed::new(rows, query.direction) {
            let (_, v) = r.map_err(StoreError::storage)?;
            let it: Item = decode_item(v.value())?;
            if pass(&it) && !page.offer(it) {
                break;
            }
        }
        Ok(Some(page.finish(|i| Some(Cursor::Item(i.id.ulid().0)))))
    }
}

/// The least string above every string that starts with `prefix` (the prefix with its last
/// raisable character raised, what follows dropped); `None` when no string is above them all.
fn past_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let raised = match last {
            '\u{d7ff}' => Some('\u{e000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(c) = raised {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::past_prefix;

    #[test]
    fn past_prefix_is_above_every_string_with_the_prefix_and_no_other() {
        assert_eq!(past_prefix("/a/").as_deref(), Some("/a0"));
        assert_eq!(past_prefix("/a\u{d7ff}").as_deref(), Some("/a\u{e000}"));
        assert_eq!(past_prefix("/a\u{10ffff}").as_deref(), Some("/b"));
        assert_eq!(past_prefix("\u{10ffff}"), None);
        assert_eq!(past_prefix(""), None);
        let above = past_prefix("/a/").unwrap_or_default();
        for s in ["/a/", "/a/\u{10ffff}\u{10ffff}", "/a/zzz"] {
            assert!(s < above.as_str(), "{s}");
        }
    }
}
