//! The daemon's health, its OpenAPI document, the operation log and undo.

use sheaf_proto::requests::OpListParams;
use sheaf_proto::responses::{Health, OpPage, UndoResponse};
use sheaf_proto::routes;

use crate::{Client, Error};

impl Client {
    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<Health, Error> {
        self.get(&routes::HEALTH, &[]).await
    }

    /// `GET /v1/openapi.json`: the API's OpenAPI 3.1 document.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get(&routes::OPENAPI, &[]).await
    }

    /// `GET /v1/ops`: one page, newest first unless `order=asc`.
    pub async fn list_ops(&self, params: &OpListParams) -> Result<OpPage, Error> {
        self.get_query(&routes::LIST_OPS, &[], params).await
    }

    /// `POST /v1/ops/{op_id}/undo`.
    pub async fn undo(&self, op: &str) -> Result<UndoResponse, Error> {
        self.get(&routes::UNDO, &[op]).await
    }
}
