//! History: the change feed (read by seq, its retention answered with `reset`) and the op
//! log (newest first unless asked oldest first, paged by op id).

use sheaf_core::{OpId, OpRecord};

use std::ops::Bound;

use super::cursor::{Cursor, Directed, Pager, rest};
use super::{FeedPage, Page, StoredEvent};
use crate::Store;
use crate::error::{ReadError, StoreError};
use crate::order::Direction;
use crate::schema::{FeedBlock, META_FIRST_SEQ, META_NEXT_SEQ, Tabs, decode};
use crate::view::{meta, op};

impl Store {
    /// Up to `limit` events with `seq > since`. `reset` is set when some of them were
    /// already dropped from the feed.
    pub fn events(&self, since: u64, limit: usize) -> Result<FeedPage, StoreError> {
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
        'blocks: for r in feed.range(start..).map_err(StoreError::storage)? {
            let (k, v) = r.map_err(StoreError::storage)?;
            let block: FeedBlock = decode(v.value(), "feed block")?;
            for (i, event) in block.events.into_iter().enumerate() {
                let seq = k.value() + i as u64;
                if seq < from {
                    continue;
                }
                if events.len() >= limit {
                    break 'blocks;
                }
                events.push(StoredEvent {
                    seq,
                    at: block.at,
                    op_id: block.op_id,
                    event,
                    cause: block.cause,
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
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let t = self.read()?;
        Ok(meta(&t, META_NEXT_SEQ)?.max(1) - 1)
    }

    /// Logged ops, newest first (`Direction::Desc`, the log's default) or oldest first.
    pub fn ops(
        &self,
        cursor: Option<&str>,
        limit: usize,
        direction: Direction,
    ) -> Result<Page<OpRecord>, ReadError> {
        let t = self.read()?;
        let limit = limit.clamp(1, 1000);
        let against = direction == Direction::Asc;
        let after = Cursor::read(cursor, against, |c| match c {
            Cursor::Op(ulid) => Some(ulid),
            _ => None,
        })?;
        let range = rest(Bound::Unbounded, Bound::Unbounded, after, direction);
        let mut page = Pager::new(limit, against);
        let ops = t.ops()?;
        let rows = ops.range(range).map_err(StoreError::storage)?;
        for r in Directed::new(rows, direction) {
            let (_, v) = r.map_err(StoreError::storage)?;
            if !page.offer(decode::<OpRecord>(v.value(), "op")?) {
                break;
            }
        }
        Ok(page.finish(|o| Some(Cursor::Op(o.id.ulid().0))))
    }

    /// One logged op.
    pub fn op(&self, id: OpId) -> Result<Option<OpRecord>, StoreError> {
        op(&self.read()?, id)
    }
}
