//! The HTTP API: the router binding a handler to every route of `sheaf_proto::routes`,
//! the shared state, and the middleware every request passes (request id, access, rate
//! limit, error rendering). Handlers live in their own modules and return values; none
//! touches the socket.

mod collections;
mod dialect;
mod entries;
mod error;
mod events;
mod items;
mod misc;
mod rules;
mod watches;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};
use sheaf_core::{ErrorCode, RequestId};
use sheaf_proto::requests::ListOrder;
use sheaf_proto::routes::{self, Endpoint, Route};
use sheaf_store::{Direction, Store, WriteError, Written};
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
    /// Wakes the rule engine when a rule is defined or changed, or an apply asked for.
    pub(crate) rule_wake: Arc<tokio::sync::Notify>,
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

    /// Tells the rule engine to look at the rules again.
    pub(crate) fn nudge_rules(&self) {
        self.rule_wake.notify_one();
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
    let mut context =
        dialect::ErrorContext::new(req.uri().path(), req.headers(), &peer, request_id);
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
            Ok(grant) if writes && !grant.write => {
                context.caller(&grant.caller);
                Err(ApiError::new(
                    ErrorCode::InsufficientPermissions,
                    "this caller may read but not write",
                ))
            }
            Ok(grant) => match access.limiter.take(&grant.caller) {
                Ok(()) => {
                    context.caller(&grant.caller);
                    // Handlers that decide by who is asking (rules that run programs).
                    req.extensions_mut().insert(grant);
                    Ok(())
                }
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
    let mut response = error::render_errors(response, &context);
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

/// The direction of a paged listing: `order` when given, else the listing's `default`.
pub(crate) fn page_direction(order: Option<ListOrder>, default: Direction) -> Direction {
    match order {
        None => default,
        Some(ListOrder::Asc) => Direction::Asc,
        Some(ListOrder::Desc) => Direction::Desc,
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

/// Every route of `sheaf_proto::routes` with the handler that serves it.
fn endpoints() -> Vec<(Route, MethodRouter<AppState>)> {
    vec![
        serve(&routes::HEALTH, misc::health),
        serve(&routes::OPENAPI, misc::openapi),
        serve(&routes::LIST_COLLECTIONS, collections::list),
        serve(&routes::CREATE_COLLECTION, collections::create),
        serve(&routes::GET_COLLECTION, collections::get),
        serve(&routes::UPDATE_COLLECTION, collections::update),
        serve(&routes::DELETE_COLLECTION, collections::delete),
        serve(&routes::RESTORE_COLLECTION, collections::restore),
        serve(&routes::LIST_ENTRIES, entries::list),
        serve(&routes::BATCH_ADD, entries::batch_add),
        serve(&routes::BATCH_REMOVE, entries::remove),
        serve(&routes::REORDER, entries::reorder),
        serve(&routes::GET_ENTRY, entries::get),
        serve(&routes::ADD_ENTRY, entries::add_one),
        serve(&routes::UPDATE_ENTRY, entries::update),
        serve(&routes::REMOVE_ENTRY, entries::delete),
        serve(&routes::LIST_ITEMS, items::list),
        serve(&routes::REGISTER_ITEMS, items::register),
        serve(&routes::GET_ITEM, items::get),
        serve(&routes::UPDATE_ITEM, items::update),
        serve(&routes::LIST_DUPLICATES, items::duplicates),
        serve(&routes::LIST_WATCHES, watches::list),
        serve(&routes::CREATE_WATCH, watches::create),
        serve(&routes::DELETE_WATCH, watches::delete),
        serve(&routes::RESCAN_WATCH, watches::rescan),
        serve(&routes::LIST_RULES, rules::list),
        serve(&routes::CREATE_RULE, rules::create),
        serve(&routes::GET_RULE, rules::get),
        serve(&routes::UPDATE_RULE, rules::update),
        serve(&routes::DELETE_RULE, rules::delete),
        serve(&routes::LIST_RULE_RUNS, rules::runs),
        serve(&routes::TEST_RULE, rules::test),
        serve(&routes::APPLY_RULE, rules::apply),
        serve(&routes::EVENTS, events::stream),
        serve(&routes::LIST_OPS, misc::ops),
        serve(&routes::UNDO, misc::undo),
        serve(&routes::DATALAB_ADD_FILES, dialect::datalab::add_files),
        serve(&routes::DATALAB_GET_COLLECTION, dialect::datalab::get),
        serve(&routes::DATALAB_LIST_COLLECTIONS, dialect::datalab::list),
        serve(&routes::ORACLE_ADD_FILE, dialect::oracle::add_file),
        serve(&routes::WICKSON_MOVE, dialect::wickson::move_items),
        serve(
            &routes::WICKSON_LIST_COLLECTIONS,
            dialect::wickson::list_collections,
        ),
        serve(
            &routes::WICKSON_GET_COLLECTION,
            dialect::wickson::get_collection,
        ),
        serve(
            &routes::WICKSON_DELETE_COLLECTION,
            dialect::wickson::delete_collection,
        ),
        serve(&routes::WICKSON_LIST_MEDIA, dialect::wickson::list_media),
        serve(&routes::WICKSON_SEARCH, dialect::wickson::search),
        serve(&routes::LLAMA_ADD_FILE, dialect::llama::add_file),
        serve(&routes::LLAMA_LIST_FILES, dialect::llama::list_files),
        serve(&routes::LLAMA_GET_FILE, dialect::llama::get_file),
        serve(&routes::LLAMA_DELETE_FILE, dialect::llama::delete_file),
    ]
}

/// `handler`, answering the route's method on its path.
fn serve<B, Q, R, H, T>(endpoint: &Endpoint<B, Q, R>, handler: H) -> (Route, MethodRouter<AppState>)
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let route = endpoint.route;
    let filter = match route.method {
        routes::Method::Get => MethodFilter::GET,
        routes::Method::Post => MethodFilter::POST,
        routes::Method::Patch => MethodFilter::PATCH,
        routes::Method::Delete => MethodFilter::DELETE,
    };
    (route, on(filter, handler))
}

/// The router, with every route of the API.
pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    endpoints()
        .into_iter()
        .fold(Router::new(), |router, (route, handler)| {
            router.route(route.path, handler)
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_router_binds_every_route_of_the_table_once_and_nothing_else() {
        let bound: Vec<_> = endpoints()
            .into_iter()
            .map(|(route, _)| (route.method.as_str(), route.path))
            .collect();
        let unique: BTreeSet<_> = bound.iter().copied().collect();
        assert_eq!(unique.len(), bound.len(), "a route is bound twice");
        let table: BTreeSet<_> = routes::ROUTES
            .iter()
            .map(|route| (route.method.as_str(), route.path))
            .collect();
        assert_eq!(unique, table);
    }
}
