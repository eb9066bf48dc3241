//! Reads: listings with cursors, single records, the change feed and the op log. Each call
//! is one read transaction, so it sees one committed state and never waits for a writer.

use redb::{ReadableTable, ReadableTableMetadata};
use sheaf_core::{
    Collection, CollectionId, Entry, EntryFilter, Event, Item, ItemId, Kind, OpId, OpRecord,
    Timestamp,
};

use crate::Store;
use crate::error::StoreError;
use crate::order::Order;
use crate::schema::{
    FeedBlock, META_FIRST_SEQ, META_NEXT_SEQ, ReadTabs, Tabs, decode, decode_item,
};
use crate::view::{
    collection, collection_id_of, collection_record, count, entry, handle_of, item, meta,
};

type Result<T> = std::result::Result<T, StoreError>;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A row of a collection listing: the entry (absent in the `default` view, which lists
/// unfiled items) and its item.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    /// The entry.
    pub entry: Option<Entry>,
    /// The item.
    pub item: Item,
}

/// `GET /v1/collections` filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionQuery {
    /// Only archived (`Some(true)`) or only active (`Some(false)`) collections.
    pub archived: Option<bool>,
    /// The trash instead of the live collections.
    pub trashed: bool,
}

/// `GET /v1/collections/{cid}/items` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryQuery {
    /// Resume after this cursor.
    pub cursor: Option<String>,
    /// Rows per page (1 to 1000).
    pub limit: usize,
    /// Include soft-deleted entries.
    pub deleted: bool,
    /// Text and kind filter.
    pub filter: EntryFilter,
    /// The order. Orders other than `Position` list live entries only (`deleted` is
    /// ignored) and do not apply to the `default` view, which lists items by id.
    pub order: Order,
}

impl Default for EntryQuery {
    fn default() -> Self {
        Self {
            cursor: None,
            limit: 100,
            deleted: false,
            filter: EntryFilter::default(),
            order: Order::Position,
        }
    }
}

/// `GET /v1/items` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemQuery {
    /// Only items live in this collection (in its order).
    pub collection: Option<CollectionId>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Case-insensitive substring of the path or file name.
    pub q: Option<String>,
    /// Only paths under this prefix.
    pub path_prefix: Option<String>,
    /// Include items whose file is gone.
    pub deleted: bool,
    /// Resume after this cursor.
    pub cursor: Option<String>,
    /// Rows per page.
    pub limit: usize,
}

impl Default for ItemQuery {
    fn default() -> Self {
        Self {
            collection: None,
            kind: None,
            q: None,
            path_prefix: None,
            deleted: false,
            cursor: None,
            limit: 100,
        }
    }
}

/// One event of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the feed; strictly increasing, never reused.
    pub seq: u64,
    /// Commit time.
    pub at: Timestamp,
    /// The op that made the change, if it was logged.
    pub op_id: Option<OpId>,
    /// What happened.
    pub event: Event,
}

/// A read of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedPage {
    /// Events after `since` were dropped from the feed: re-read the state, then follow on
    /// from `last_seq`.
    pub reset: bool,
    /// The events, in order.
    pub events: Vec<StoredEvent>,
    /// The last seq committed so far.
    pub last_seq: u64,
}

fn next_pos(range: &mut redb::Range<'_, (u64, i64), u128>) -> Result<Option<(i64, u128)>> {
    range
        .next()
        .transpose()
        .map_err(StoreError::storage)
        .map(|kv| kv.map(|(k, v)| (k.value().1, v.value())))
}

fn parse_cursor<T: std::str::FromStr>(cursor: Option<&str>, tag: char) -> Result<Option<T>> {
    let Some(text) = cursor else { return Ok(None) };
    text.strip_prefix(tag)
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| StoreError::BadCursor(text.chars().take(100).collect()))
}

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
    /// Collections, `default` first (unless listing the trash or only archived ones), then
    /// by id.
    pub fn collections(&self, query: &CollectionQuery) -> Result<Vec<Collection>> {
        let t = self.read()?;
        let mut out = Vec::new();
        if !query.trashed && query.archived != Some(true) {
            out.extend(collection(&t, &CollectionId::default_collection())?);
        }
        for r in t.collections()?.iter().map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let record: crate::schema::CollectionRecord = decode(v.value(), "collection")?;
            let mut c = record.collection;
            if c.trashed_at.is_some() != query.trashed
                || query.archived.is_some_and(|a| a != c.archived)
            {
                continue;
            }
            c.item_count = count(&t, record.handle)?;
            out.push(c);
        }
        Ok(out)
    }

    /// One collection with its live count, trashed or not.
    pub fn collection(&self, id: &CollectionId) -> Result<Option<Collection>> {
        let t = self.read()?;
        collection(&t, id)
    }

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
        if query.order != Order::Position {
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
            return sorted_page(&t, handle, id, query, limit).map(Some);
        }
        let after: Option<i64> = parse_cursor(query.cursor.as_deref(), 'p')?;
        let start = match after {
            Some(s) if s == i64::MAX => {
                return Ok(Some(Page {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
            Some(s) => s + 1,
            None => i64::MIN,
        };
        let range = (handle, start)..=(handle, i64::MAX);
        let mut live = t
            .live_pos()?
            .range(range.clone())
            .map_err(StoreError::storage)?;
        let mut dead = if query.deleted {
            Some(t.dead_pos()?.range(range).map_err(StoreError::storage)?)
        } else {
            None
        };
        let mut live_head = next_pos(&mut live)?;
        let mut dead_head = match dead.as_mut() {
            Some(d) => next_pos(d)?,
            None => None,
        };
        let mut rows: Vec<Listed> = Vec::with_capacity(limit);
        let mut next_cursor = None;
        // Merge the two position streams (only live ones unless `deleted`).
        loop {
            let take_live = match (live_head, dead_head) {
                (None, None) => break,
                (Some(a), Some(b)) => a.0 <= b.0,
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
            let Some(it) = item(&t, ulid)? else { continue };
            let e = entry(&t, handle, id, ulid)?;
            if !query.filter.is_empty() && !query.filter.matches(e.as_ref(), &it) {
                continue;
            }
            if rows.len() == limit {
                next_cursor = rows
                    .last()
                    .and_then(|r| r.entry.as_ref())
                    .map(|e| format!("p{}", e.sort_order));
                break;
            }
            rows.push(Listed { entry: e, item: it });
        }
        Ok(Some(Page {
            items: rows,
            next_cursor,
        }))
    }

    /// An item's entry in a collection, live or soft-deleted.
    pub fn entry(&self, collection: &CollectionId, item_id: ItemId) -> Result<Option<Entry>> {
        let t = self.read()?;
        let Some(handle) = handle_of(&t, collection)? else {
            return Ok(None);
        };
        Ok(entry(&t, handle, collection, item_id.ulid().0)?.filter(|e| e.item_id == item_id))
    }

    /// An item with the collections (outside the trash) it is live in.
    pub fn item(&self, id: ItemId) -> Result<Option<(Item, Vec<CollectionId>)>> {
        let t = self.read()?;
        let Some(it) = item(&t, id.ulid().0)?.filter(|i| i.id == id) else {
            return Ok(None);
        };
        let ulid = id.ulid().0;
        let mut ids = Vec::new();
        for r in t
            .members()?
            .range((ulid, 0)..=(ulid, u64::MAX))
            .map_err(StoreError::storage)?
        {
            let (k, _) = r.map_err(StoreError::storage)?;
            if let Some(cid) = collection_id_of(&t, k.value().1)?
                && collection_record(&t, cid.as_str())?
                    .is_some_and(|r| r.collection.trashed_at.is_none())
            {
                ids.push(cid);
            }
        }
        ids.sort();
        Ok(Some((it, ids)))
    }

    /// The item at a path (or, if its file is gone, last seen there).
    pub fn item_by_path(&self, path: &str) -> Result<Option<Item>> {
        let t = self.read()?;
        let Some(ulid) = t.paths()?.get(path).map_err(StoreError::storage)? else {
            return Ok(None);
        };
        item(&t, ulid.value())
    }

    /// A page of items: of one collection in its order, under a path prefix in path
    /// order, or all in id order.
    pub fn items(&self, query: &ItemQuery) -> Result<Option<Page<Item>>> {
        let limit = query.limit.clamp(1, 1000);
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
            let items = page
                .items
                .into_iter()
                .map(|l| l.item)
                .filter(|i| {
                    item_passes(
                        i,
                        query.kind,
                        query.q.as_deref(),
                        query.path_prefix.as_deref(),
                        query.deleted,
                    )
                })
                .collect();
            return Ok(Some(Page {
                items,
                next_cursor: page.next_cursor,
            }));
        }
        let t = self.read()?;
        let pass = |i: &Item| {
            item_passes(
                i,
                query.kind,
                query.q.as_deref(),
                query.path_prefix.as_deref(),
                query.deleted,
            )
        };
        let mut rows = Vec::with_capacity(limit);
        let mut next_cursor = None;
        if let Some(prefix) = &query.path_prefix {
            let after: Option<String> = parse_cursor(query.cursor.as_deref(), 'P')?;
            let start = after.clone().unwrap_or_else(|| prefix.clone());
            for r in t
                .paths()?
                .range(start.as_str()..)
                .map_err(StoreError::storage)?
            {
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
                if !pass(&it) {
                    continue;
                }
                if rows.len() == limit {
                    next_cursor = rows
                        .last()
                        .and_then(|i: &Item| i.path.clone().or_else(|| i.last_path.clone()))
                        .map(|p| format!("P{p}"));
                    break;
                }
                rows.push(it);
            }
            return Ok(Some(Page {
                items: rows,
                next_cursor,
            }));
        }
        let after: Option<u128> = parse_cursor(query.cursor.as_deref(), 'i')?;
        let start = after.map_or(0, |a| a.saturating_add(1));
        for r in t.items()?.range(start..).map_err(StoreError::storage)? {
            let (_, v) = r.map_err(StoreError::storage)?;
            let it: Item = decode_item(v.value())?;
            if !pass(&it) {
                continue;
            }
            if rows.len() == limit {
                next_cursor = rows.last().map(|i: &Item| format!("i{}", i.id.ulid().0));
                break;
            }
            rows.push(it);
        }
        Ok(Some(Page {
            items: rows,
            next_cursor,
        }))
    }

    /// Up to `limit` events with `seq > since`. `reset` is set when some of them were
    /// already dropped from the feed.
    pub fn events(&self, since: u64, limit: usize) -> Result<FeedPage> {
        let t = self.read()?;
        let feed = t.feed()?;
        let first = meta(&t, META_FIRST_SEQ)?.max(1);
        let last_seq = meta(&t, META_NEXT_SEQ)?.max(1) - 1;
        let reset = since.saturating_add(1) < first && since < last_seq;
        let from = since.saturating_add(1).max(first);
        let mut events = Vec::new();
        // The block holding `from` starts at or before it.
        let start = feed
            .range(..=from)
            .map_err(StoreError::storage)?
            .next_back()
            .transpose()
            .map_err(StoreError::storage)?
            .map_or(from, |(k, _)| k.value());
        for r in feed.range(start..).map_err(StoreError::storage)? {
            let (k, v) = r.map_err(StoreError::storage)?;
            let block: FeedBlock = decode(v.value(), "feed block")?;
            for (i, event) in block.events.into_iter().enumerate() {
                let seq = k.value() + i as u64;
                if seq < from {
                    continue;
                }
                if events.len() >= limit {
                    return Ok(FeedPage {
                        reset,
                        events,
                        last_seq,
                    });
                }
                events.push(StoredEvent {
                    seq,
                    at: block.at,
                    op_id: block.op_id,
                    event,
                });
            }
        }
        Ok(FeedPage {
            reset,
            events,
            last_seq,
        })
    }

    /// The last committed seq (0 before the first event).
    pub fn last_seq(&self) -> Result<u64> {
        let t = self.read()?;
        Ok(meta(&t, META_NEXT_SEQ)?.max(1) - 1)
    }

    /// Logged ops, newest first.
    pub fn ops(&self, cursor: Option<&str>, limit: usize) -> Result<Page<OpRecord>> {
        let t = self.read()?;
        let limit = limit.clamp(1, 1000);
        let before: Option<u128> = parse_cursor(cursor, 'o')?;
        // Newest first: everything strictly older than the cursor.
        let Some(end) = before.map_or(Some(u128::MAX), |b| b.checked_sub(1)) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let mut rows = Vec::with_capacity(limit);
        let mut next_cursor = None;
        for r in t.ops()?.range(..=end).map_err(StoreError::storage)?.rev() {
            let (_, v) = r.map_err(StoreError::storage)?;
            if rows.len() == limit {
                next_cursor = rows
                    .last()
                    .map(|o: &OpRecord| format!("o{}", o.id.ulid().0));
                break;
            }
            rows.push(decode(v.value(), "op")?);
        }
        Ok(Page {
            items: rows,
            next_cursor,
        })
    }

    /// One logged op.
    pub fn op(&self, id: OpId) -> Result<Option<OpRecord>> {
        let t = self.read()?;
        t.ops()?
            .get(id.ulid().0)
            .map_err(StoreError::storage)?
            .map(|v| decode(v.value(), "op"))
            .transpose()
    }

    /// How many items the store knows.
    pub fn item_total(&self) -> Result<u64> {
        let t = self.read()?;
        t.items()?.len().map_err(StoreError::storage)
    }
}

/// A sorted cursor: `s<order>.<key hex>.<item ulid>`.
fn sorted_cursor(order: Order, key: &[u8], ulid: u128) -> String {
    use std::fmt::Write;
    let mut hex = String::with_capacity(key.len() * 2);
    for b in key {
        let _ = write!(hex, "{b:02x}");
    }
    format!("s{}.{hex}.{ulid}", order.tag())
}

fn parse_sorted_cursor(text: &str, order: Order) -> Result<(Vec<u8>, u128)> {
    let bad = || StoreError::BadCursor(text.chars().take(100).collect());
    let rest = text.strip_prefix('s').ok_or_else(bad)?;
    let mut parts = rest.split('.');
    let (Some(tag), Some(hex), Some(ulid), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if tag.parse::<u8>().ok().and_then(Order::from_tag) != Some(order) || hex.len() % 2 != 0 {
        return Err(bad());
    }
    let key = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    Ok((key, ulid.parse().map_err(|_| bad())?))
}

/// A page of live entries in one of the indexed orders.
fn sorted_page(
    t: &ReadTabs,
    handle: u64,
    id: &CollectionId,
    query: &EntryQuery,
    limit: usize,
) -> Result<Page<Listed>> {
    use std::ops::Bound;
    let tag = query.order.tag();
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_sorted_cursor(c, query.order))
        .transpose()?;
    let start = match &after {
        Some((key, ulid)) => Bound::Excluded((handle, tag, key.as_slice(), *ulid)),
        None => Bound::Included((handle, tag, &[][..], 0)),
    };
    let end = Bound::Excluded((handle, tag + 1, &[][..], 0));
    let mut rows: Vec<Listed> = Vec::with_capacity(limit);
    let mut last: Option<(Vec<u8>, u128)> = None;
    let mut next_cursor = None;
    for r in t
        .sorted()?
        .range::<(u64, u8, &[u8], u128)>((start, end))
        .map_err(StoreError::storage)?
    {
        let (k, _) = r.map_err(StoreError::storage)?;
        let (_, _, key, ulid) = k.value();
        let Some(it) = item(t, ulid)? else { continue };
        let e = entry(t, handle, id, ulid)?;
        if !query.filter.is_empty() && !query.filter.matches(e.as_ref(), &it) {
            continue;
        }
        if rows.len() == limit {
            next_cursor = last
                .as_ref()
                .map(|(key, ulid)| sorted_cursor(query.order, key, *ulid));
            break;
        }
        last = Some((key.to_vec(), ulid));
        rows.push(Listed { entry: e, item: it });
    }
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

fn default_page(t: &ReadTabs, query: &EntryQuery, limit: usize) -> Result<Page<Listed>> {
    let after: Option<u128> = parse_cursor(query.cursor.as_deref(), 'u')?;
    let start = after.map_or(0, |a| a.saturating_add(1));
    let mut rows = Vec::with_capacity(limit);
    let mut next_cursor = None;
    for r in t.unfiled()?.range(start..).map_err(StoreError::storage)? {
        let (k, _) = r.map_err(StoreError::storage)?;
        let Some(it) = item(t, k.value())? else {
            continue;
        };
        if !query.filter.matches(None, &it) {
            continue;
        }
        if rows.len() == limit {
            next_cursor = rows
                .last()
                .map(|l: &Listed| format!("u{}", l.item.id.ulid().0));
            break;
        }
        rows.push(Listed {
            entry: None,
            item: it,
        });
    }
    Ok(Page {
        items: rows,
        next_cursor,
    })
}
