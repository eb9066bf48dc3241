//! A collection's entries, a page at a time: in the collection's own order (live and, if
//! asked, soft-deleted entries merged by position), in one of the indexed orders, or — for
//! `default` — the unfiled items by id; each ascending or descending (the same range read
//! from its back).

use std::ops::Bound;

use sheaf_core::CollectionId;

use super::cursor::{Cursor, Directed, Pager, rest};
use super::{EntryQuery, Listed, Page};
use crate::Store;
use crate::error::{ReadError, StoreError};
use crate::order::{Direction, Order};
use crate::schema::{ReadTabs, Tabs};
use crate::view::{entry, handle_of, item};

type Result<T> = std::result::Result<T, ReadError>;

impl Store {
    /// A page of a collection's entries in `sort_order` (the `default` view: unfiled items
    /// in id order). `None` when the collection does not exist.
    pub fn entries(&self, id: &CollectionId, query: &EntryQuery) -> Result<Option<Page<Listed>>> {
        let t = self.read()?;
        let limit = query.limit.clamp(1, 1000);
        if id.is_default() {
            return default_page(&t, query, limit).map(Some);
        }
        let Some(handle) = handle_of(&t, id)? else {
            return Ok(None);
        };
        let listing = Listing {
            t: &t,
            handle,
            id,
            query,
            limit,
        };
        if query.order == Order::Position {
            return listing.position_page().map(Some);
        }
        if t.sorted_on()?
            .get(handle)
            .map_err(StoreError::storage)?
            .is_none()
        {
            // The first sorted listing of this collection: build its orders, then read.
            drop(t);
            self.keep_orders(handle)?;
            return self.entries(id, query);
        }
        listing.sorted_page().map(Some)
    }
}

/// One page's read of a collection's entries.
struct Listing<'a> {
    t: &'a ReadTabs,
    handle: u64,
    id: &'a CollectionId,
    query: &'a EntryQuery,
    limit: usize,
}

/// The next (position, item) of a position table's range, in the listing's direction.
fn next_pos(
    range: &mut Directed<redb::Range<'_, (u64, i64), u128>>,
) -> std::result::Result<Option<(i64, u128)>, StoreError> {
    range
        .next()
        .transpose()
        .map_err(StoreError::storage)
        .map(|kv| kv.map(|(k, v)| (k.value().1, v.value())))
}

impl Listing<'_> {
    /// The row of an item, if it still exists and passes the filter.
    fn row(&self, ulid: u128) -> Result<Option<Listed>> {
        let Some(it) = item(self.t, ulid)? else {
            return Ok(None);
        };
        let e = entry(self.t, self.handle, self.id, ulid)?;
        let filter = &self.query.filter;
        if !filter.is_empty() && !filter.matches(e.as_ref(), &it) {
            return Ok(None);
        }
        Ok(Some(Listed { entry: e, item: it }))
    }

    /// A page in the collection's own order: the live positions, merged with the soft-deleted
    /// ones when `deleted` is asked.
    fn position_page(&self) -> Result<Page<Listed>> {
        let (t, handle, query) = (self.t, self.handle, self.query);
        let direction = query.direction;
        let against = direction == Direction::Desc;
        let after = Cursor::read(query.cursor.as_deref(), against, |c| match c {
            Cursor::Position(sort) => Some((handle, sort)),
            _ => None,
        })?;
        let range = rest(
            Bound::Included((handle, i64::MIN)),
            Bound::Included((handle, i64::MAX)),
            after,
            direction,
        );
        let mut live = Directed::new(
            t.live_pos()?.range(range).map_err(StoreError::storage)?,
            direction,
        );
        let mut dead = if query.deleted {
            let rows = t.dead_pos()?.range(range).map_err(StoreError::storage)?;
            Some(Directed::new(rows, direction))
        } else {
            None
        };
        let mut live_head = next_pos(&mut live)?;
        let mut dead_head = match dead.as_mut() {
            Some(d) => next_pos(d)?,
            None => None,
        };
        let mut page = Pager::new(self.limit, against);
        // Merge the two position streams (only live ones unless `deleted`), in `direction`.
        loop {
            let take_live = match (live_head, dead_head) {
                (None, None) => break,
                (Some(a), Some(b)) => match direction {
                    Direction::Asc => a.0 <= b.0,
                    Direction::Desc => a.0 > b.0,
                },
                (a, _) => a.is_some(),
            };
            let (_, ulid) = if take_live {
                let head = live_head.take();
                live_head = next_pos(&mut live)?;
                head
            } else {
                let head = dead_head.take();
                dead_head = match dead.as_mut() {
                    Some(d) => next_pos(d)?,
                    None => None,
                };
                head
            }
            .unwrap_or_default();
            if let Some(row) = self.row(ulid)?
                && !page.offer(row)
            {
                break;
            }
        }
        Ok(page.finish(|l| l.entry.as_ref().map(|e| Cursor::Position(e.sort_order))))
    }

    /// A page of live entries in one of the indexed orders.
    fn sorted_page(&self) -> Result<Page<Listed>> {
        let (t, handle, query) = (self.t, self.handle, self.query);
        let tag = query.order.tag();
        let against = query.direction == Direction::Desc;
        let after = Cursor::read(query.cursor.as_deref(), against, |c| match c {
            Cursor::Sorted { order, key, item } if order == query.order => Some((key, item)),
            _ => None,
        })?;
        let range = rest(
            Bound::Included((handle, tag, &[][..], 0)),
            Bound::Excluded((handle, tag + 1, &[][..], 0)),
            after
                .as_ref()
                .map(|(key, ulid)| (handle, tag, key.as_slice(), *ulid)),
            query.direction,
        );
        let mut page = Pager::new(self.limit, against);
        let sorted = t.sorted()?;
        let rows = sorted
            .range::<(u64, u8, &[u8], u128)>(range)
            .map_err(StoreError::storage)?;
        for r in Directed::new(rows, query.direction) {
            let (k, _) = r.map_err(StoreError::storage)?;
            let (_, _, key, ulid) = k.value();
            // The row's sort key rides along for the next cursor.
            if let Some(row) = self.row(ulid)?
                && !page.offer((key.to_vec(), row))
            {
                break;
            }
        }
        let page = page.finish(|(key, l)| {
            Some(Cursor::Sorted {
                order: query.order,
                key: key.clone(),
                item: l.item.id.ulid().0,
            })
        });
        Ok(Page {
            items: page.items.into_iter().map(|(_, l)| l).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// A page of the `default` view: unfiled items, by id.
fn default_page(t: &ReadTabs, query: &EntryQuery, limit: usize) -> Result<Page<Listed>> {
    let against = query.direction == Direction::Desc;
    let after = Cursor::read(query.cursor.as_deref(), against, |c| match c {
        Cursor::Unfiled(ulid) => Some(ulid),
        _ => None,
    })?;
    let range = rest(Bound::Unbounded, Bound::Unbounded, after, query.direction);
    let mut page = Pager::new(limit, against);
    let unfiled = t.unfiled()?;
    let rows = unfiled.range(range).map_err(StoreError::storage)?;
    for r in Directed::new(rows, query.direction) {
        let (k, _) = r.map_err(StoreError::storage)?;
        let Some(it) = item(t, k.value())? else {
            continue;
        };
        if !query.filter.matches(None, &it) {
            continue;
        }
        let row = Listed {
            entry: None,
            item: it,
        };
        if !page.offer(row) {
            break;
        }
    }
    Ok(page.finish(|l| Some(Cursor::Unfiled(l.item.id.ulid().0))))
}
