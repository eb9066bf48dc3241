//! Collections (SPEC §2.2): list, create, read, update, trash, purge, restore.

use sheaf_proto::requests::{
    CollectionCreateBody, CollectionListParams, CollectionPatchBody, DeleteParams,
};
use sheaf_proto::resources::Collection;
use sheaf_proto::responses::CollectionList;
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/collections`: `default` first, then by id.
    pub async fn list_collections(
        &self,
        params: &CollectionListParams,
    ) -> Result<CollectionList, Error> {
        self.get_query(&routes::LIST_COLLECTIONS, &[], params).await
    }

    /// `POST /v1/collections`.
    pub async fn create_collection(
        &self,
        body: &CollectionCreateBody,
    ) -> Result<Collection, Error> {
        self.send(&routes::CREATE_COLLECTION, &[], body).await
    }

    /// `GET /v1/collections/{cid}`.
    pub async fn get_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get(&routes::GET_COLLECTION, &[cid]).await
    }

    /// `PATCH /v1/collections/{cid}`. `accept: None` leaves the accept list alone and
    /// `Some(None)` clears it.
    pub async fn update_collection(
        &self,
        cid: &str,
        body: &CollectionPatchBody,
    ) -> Result<Collection, Error> {
        self.send_json(&routes::UPDATE_COLLECTION, &[cid], &patch_json(body))
            .await
    }

    /// `DELETE /v1/collections/{cid}`: to the trash.
    pub async fn trash_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get_query(
            &routes::DELETE_COLLECTION,
            &[cid],
            &DeleteParams { purge: None },
        )
        .await
    }

    /// `DELETE /v1/collections/{cid}?purge=true`: a trashed collection, for good. Answers
    /// the collection as it was.
    pub async fn purge_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get_query(
            &routes::DELETE_COLLECTION,
            &[cid],
            &DeleteParams { purge: Some(true) },
        )
        .await
    }

    /// `POST /v1/collections/{cid}/restore`: out of the trash.
    pub async fn restore_collection(&self, cid: &str) -> Result<Collection, Error> {
        self.get(&routes::RESTORE_COLLECTION, &[cid]).await
    }
}

/// The JSON of a collection patch with `accept` left out when it is `None`: the proto
/// type serializes an absent `accept` as `null`, which the daemon reads as "accept
/// everything".
fn patch_json(body: &CollectionPatchBody) -> serde_json::Value {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.retain(|k, v| !(v.is_null() && k != "accept"));
        if body.accept.is_none() {
            map.remove("accept");
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_without_accept_leaves_it_out_and_a_cleared_accept_is_null() {
        let keep = CollectionPatchBody {
            name: Some("N".into()),
            ..CollectionPatchBody::default()
        };
        assert_eq!(patch_json(&keep), serde_json::json!({"name": "N"}));
        let clear = CollectionPatchBody {
            accept: Some(None),
            ..CollectionPatchBody::default()
        };
        assert_eq!(patch_json(&clear), serde_json::json!({"accept": null}));
        let set = CollectionPatchBody {
            accept: Some(Some(vec!["image".into()])),
            archived: Some(true),
            ..CollectionPatchBody::default()
        };
        assert_eq!(
            patch_json(&set),
            serde_json::json!({"accept": ["image"], "archived": true})
        );
    }
}
