//! The HTTP API: the router of every route in `sheaf_proto::routes::ROUTES`, the shared
//! state, and the middleware every request passes (request id, access, rate limit, error
//! rendering). Handlers live in their own modules and return values; none touches the
//! socket.

mod collections;
mod entries;
mod error;
mod events;
mod items;
mod misc;
mod watches;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use sheaf_core::{ErrorCode, RequestId};
use sheaf_store::{Store, WriteError, Written};
use tokio::sync::watch;

pub(crate) use error::ApiError;

use crate::access::{Limiter, Peer, authorize};
use crate::config::Config;
use crate::writer::Writer;

/// The settings a SIGHUP can change while the daemon runs.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    /// The config read-only uids and API keys are taken from.
    pub(crate) config: Arc<Config>,
    /// The rate limiter for that config.
    pub(crate) limiter: Arc<Limiter>,
}

/// What every handler can reach: one `Arc`, cloned once per request.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The daemon's shared state.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) config: Arc<Config>,
    pub(crate) started: Instant,
    pub(crate) own_uid: u32,
    /// Who may do what: replaced as a whole when SIGHUP reloads the config.
    pub(crate) access: Arc<std::sync::RwLock<Access>>,
    /// Every write goes through it; event streams wait on the seqs it publishes.
    pub(crate) writer: Arc<Writer>,
    /// Flips to `true` when the daemon begins to shut down; event streams end on it.
    pub(crate) stopping: watch::Receiver<bool>,
    pub(crate) openapi: Arc<serde_json::Value>,
    /// The running folder watches.
    pub(crate) folders: Arc<crate::folders::Folders>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("own_uid", &self.own_uid)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Runs a store call on the blocking pool (redb is synchronous and commits fsync).
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| ApiError::internal("a store task panicked"))?
    }

    /// Runs a point read (a few gets) right here on the async worker: redb reads never
    /// wait for a writer and a cached get takes microseconds, far less than handing the
    /// call to the blocking pool and back. Listings and writes go through [`Self::blocking`].
    pub(crate) fn point_read<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        f(&self.store)
    }

    /// Runs one store operation on the blocking pool through the daemon's one write path
    /// ([`Writer::write`]), which publishes its seqs to the event streams.
    pub(crate) async fn write<F>(&self, op: F) -> Result<Written, ApiError>
    where
        F: FnOnce(&Store) -> Result<Written, WriteError> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        self.blocking(move |_| Ok(writer.write(op)?)).await
    }
}

/// Assigns the request id, checks access and the rate limit, and renders errors.
async fn gate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = RequestId::from_ulid(ulid::Ulid::generate());
    req.extensions_mut().insert(request_id);
    let writes = req.method() != Method::GET && req.method() != Method::HEAD;
    let outcome = if *state.stopping.borrow() {
        // A request on a kept-alive connection while draining: in-flight ones finish,
        // new ones are turned away.
        Err(ApiError::new(
            ErrorCode::ShuttingDown,
            "sheafd is shutting down; retry when it is back",
        ))
    } else {
        let access = state
            .access
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match authorize(&peer, req.headers(), &access.config, state.own_uid) {
            Err(refusal) => Err(ApiError::from(refusal)),
            Ok(grant) if writes && !grant.write => Err(ApiError::new(
                ErrorCode::InsufficientPermissions,
                "this caller may read but not write",
            )),
            Ok(grant) => match access.limiter.take(&grant.caller) {
                Ok(()) => Ok(()),
                Err(wait) => Err(ApiError {
                    refusal: sheaf_core::Refusal::new(
                        ErrorCode::RateLimited,
                        "too many requests; retry after the time in Retry-After",
                    ),
                    retry_after: Some(wait.as_secs().max(1)),
                }),
            },
        }
    };
    let response = match outcome {
        Ok(()) => next.run(req).await,
        Err(e) => axum::response::IntoResponse::into_response(e),
    };
    let response = error::envelop_bare_errors(response).await;
    let mut response = error::render_errors(response, request_id);
    if let Ok(v) = HeaderValue::from_str(&request_id.to_string()) {
        response
            .headers_mut()
            .insert(sheaf_proto::REQUEST_ID_HEADER, v);
    }
    response
}

/// The `limit` of a paged listing: 1 to 1000, 100 when absent.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(100);
    if (1..=1000).contains(&limit) {
        Ok(limit)
    } else {
        Err(sheaf_core::Refusal::field(
            vec!["query".into(), "limit".into()],
            "limit must be 1 to 1000",
            "limit",
        )
        .into())
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such route; GET /v1/openapi.json lists them",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method; GET /v1/openapi.json lists them",
    )
}

/// The router, with every route of the API.
pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .route("/v1/health", get(misc::health))
        .route("/v1/openapi.json", get(misc::openapi))
        .route(
            "/v1/collections",
            get(collections::list).post(collections::create),
        )
        .route(
            "/v1/collections/{cid}",
            get(collections::get)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route("/v1/collections/{cid}/restore", post(collections::restore))
        .route(
            "/v1/collections/{cid}/items",
            get(entries::list).post(entries::batch_add),
        )
        .route("/v1/collections/{cid}/items/remove", post(entries::remove))
        .route(
            "/v1/collections/{cid}/items/reorder",
            post(entries::reorder),
        )
        .route(
            "/v1/collections/{cid}/items/{item_id}",
            get(entries::get)
                .post(entries::add_one)
                .patch(entries::update)
                .delete(entries::delete),
        )
        .route("/v1/items", get(items::list).post(items::register))
        .route("/v1/items/{item_id}", get(items::get).patch(items::update))
        .route("/v1/watches", get(watches::list).post(watches::create))
        .route("/v1/watches/{wid}", axum::routing::delete(watches::delete))
        .route("/v1/watches/{wid}/rescan", post(watches::rescan))
        .route("/v1/events", get(events::stream))
        .route("/v1/ops", get(misc::ops))
        .route("/v1/ops/{op_id}/undo", post(misc::undo))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}
