//! Items, a page at a time: of one collection in its order, under a path prefix in path
//! order, or all of them in id order.

use sheaf_core::{EntryFilter, Item, Kind};

use super::cursor::{Cursor, Pager};
use super::{EntryQuery, ItemQuery, Page};
use crate::Store;
use crate::error::{ReadError, StoreError};
use crate::order::Order;
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
        let mut page = Pager::new(limit);
        if let Some(prefix) = &query.path_prefix {
            let after = Cursor::read(query.cursor.as_deref(), |c| match c {
                Cursor::Path(path) => Some(path),
                _ => None,
            })?;
            let start = after.as_deref().unwrap_or(prefix);
            for r in t.paths()?.range(start..).map_err(StoreError::storage)? {
                let (k, v) = r.map_err(StoreError::storage)?;
                let path = k.value();
                if !path.starts_with(prefix.as_str()) {
                    break;
                }
                if after.as_deref() == Some(path) {
                    continue;
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
        let after = Cursor::read(query.cursor.as_deref(), |c| match c {
            Cursor::Item(ulid) => Some(ulid),
            _ => None,
        })?;
        let start = after.map_or(0, |a| a.saturating_add(1));
        for r in t.items()?.range(start..).map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let it: Item = decode_item(v.value())?;
            if pass(&it) && !page.offer(it) {
                break;
            }
        }
        Ok(Some(page.finish(|i| Some(Cursor::Item(i.id.ulid().0)))))
    }
}
