//! The wire between `sheafd` and its clients: every request and response body, the query
//! strings, the error envelope, the table of routes, and the OpenAPI 3.1 document generated
//! from them. Requests convert into `sheaf-core` requests here, so the daemon and the
//! client agree on one definition of each.
//!
//! serde and OpenAPI derives only: no HTTP server or client, no database.

pub mod bounded;
pub mod dialects;
mod openapi;
pub mod places;
pub mod requests;
pub mod resources;
pub mod responses;
pub mod routes;

pub use openapi::document;

/// The API version. A client refuses to talk to a daemon with another one.
pub const API_VERSION: &str = "1";

/// The header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
