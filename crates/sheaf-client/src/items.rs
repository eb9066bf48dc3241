//! Items (SPEC §2.2): the listing, registration by path, one item.

use sheaf_proto::requests::{ItemListParams, ItemPatchBody, RegisterBody};
use sheaf_proto::resources::Item;
use sheaf_proto::responses::ItemPage;
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/items`: one page.
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
}
