//! A collection's entries (SPEC §2.2): the listing, the batch add, move, remove and
//! reorder, and one entry at a time.

use sheaf_proto::requests::{
    BatchAddBody, EntryCreateBody, EntryListParams, EntryPatchBody, RemoveBody, ReorderBody,
};
use sheaf_proto::resources::Entry;
use sheaf_proto::responses::{BatchResponse, EntryPage, RemoveResponse, ReorderResponse};
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/collections/{cid}/items`: one page; follow `next_cursor` for the next, with
    /// the same `sort` and `order` (`order=desc` reads from the last entry).
    pub async fn list_entries(
        &self,
        cid: &str,
        params: &EntryListParams,
    ) -> Result<EntryPage, Error> {
        self.get_query(&routes::LIST_ENTRIES, &[cid], params).await
    }

    /// `POST /v1/collections/{cid}/items`: the batch add or move, atomic.
    pub async fn batch_add(&self, cid: &str, body: &BatchAddBody) -> Result<BatchResponse, Error> {
        self.send(&routes::BATCH_ADD, &[cid], body).await
    }

    /// `POST /v1/collections/{cid}/items/remove`: the batch remove (soft), atomic.
    pub async fn remove(&self, cid: &str, body: &RemoveBody) -> Result<RemoveResponse, Error> {
        self.send(&routes::BATCH_REMOVE, &[cid], body).await
    }

    /// `POST /v1/collections/{cid}/items/reorder`.
    pub async fn reorder(&self, cid: &str, body: &ReorderBody) -> Result<ReorderResponse, Error> {
        self.send(&routes::REORDER, &[cid], body).await
    }

    /// `GET /v1/collections/{cid}/items/{item_id}`.
    pub async fn get_entry(&self, cid: &str, item: &str) -> Result<Entry, Error> {
        self.get(&routes::GET_ENTRY, &[cid, item]).await
    }

    /// `POST /v1/collections/{cid}/items/{item_id}`: create semantics (409
    /// `ALREADY_IN_COLLECTION` if live).
    pub async fn add_entry(
        &self,
        cid: &str,
        item: &str,
        body: &EntryCreateBody,
    ) -> Result<Entry, Error> {
        self.send(&routes::ADD_ENTRY, &[cid, item], body).await
    }

    /// `PATCH /v1/collections/{cid}/items/{item_id}`.
    pub async fn update_entry(
        &self,
        cid: &str,
        item: &str,
        body: &EntryPatchBody,
    ) -> Result<Entry, Error> {
        self.send(&routes::UPDATE_ENTRY, &[cid, item], body).await
    }

    /// `DELETE /v1/collections/{cid}/items/{item_id}`: soft; answers the removed entry.
    pub async fn remove_entry(&self, cid: &str, item: &str) -> Result<Entry, Error> {
        self.get(&routes::REMOVE_ENTRY, &[cid, item]).await
    }
}
