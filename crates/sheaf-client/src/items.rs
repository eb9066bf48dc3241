//! Items (SPEC §2.2): the listing, registration by path, one item; groups of duplicates
//! (SPEC §7.2).

use sheaf_proto::requests::{DuplicateParams, ItemListParams, ItemPatchBody, RegisterBody};
use sheaf_proto::resources::Item;
use sheaf_proto::responses::{DuplicateList, ItemPage};
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/items`: one page, ascending unless `order=desc`.
    pub async fn list_items(&self, params: &ItemListParams) -> Result<ItemPage, Error> {
        self.get_query(&routes::LIST_ITEMS, &[], params).await
    }

    /// `POST /v1/items`: registers files by absolute path, idempotent; items in request
    /// order.
    pub async fn register_items(&self, body: &RegisterBody) -> Result<ItemPage, Error> {
        self.send(&routes::REGISTER_ITEMS, &[], body).await
    }

    /// `GET /v1/items/{item_id}`, with the collections it is live in.
    pub async fn get_item(&self, item: &str) -> Result<Item, Error> {
        self.get(&routes::GET_ITEM, &[item]).await
    }

    /// `PATCH /v1/items/{item_id}`.
    pub async fn update_item(&self, item: &str, body: &ItemPatchBody) -> Result<Item, Error> {
        self.send(&routes::UPDATE_ITEM, &[item], body).await
    }

    /// `GET /v1/duplicates`: groups of live items with the same content hash, the most
    /// wasted space first.
    pub async fn list_duplicates(&self, params: &DuplicateParams) -> Result<DuplicateList, Error> {
        self.get_query(&routes::LIST_DUPLICATES, &[], params).await
    }
}
