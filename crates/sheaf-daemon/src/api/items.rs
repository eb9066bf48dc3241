//! `/v1/items`: listing, registering files by path, single items; `/v1/duplicates`.

use axum::Json;
use axum::extract::{Path, State};
use sheaf_core::{ErrorCode, FileFacts, ItemTarget, Outcome, Refusal};
use sheaf_proto::requests::{
    DuplicateParams, ItemListParams, ItemPatchBody, RegisterBody, collection_in_path, item_in_path,
};
use sheaf_proto::resources::Item;
use sheaf_proto::responses::{DuplicateGroup, DuplicateList, ItemPage};
use sheaf_store::{Direction, ItemQuery};
use sheaf_watch::{Links, Look, look};

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState, page_direction, page_limit};

pub(crate) async fn list(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<ItemListParams>,
) -> Result<Json<ItemPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let collection = params
        .collection
        .as_deref()
        .map(collection_in_path)
        .transpose()?;
    let shown = collection.as_ref().map(ToString::to_string);
    let query = ItemQuery {
        collection,
        kind: params.kind,
        q: params.q,
        path_prefix: params.path_prefix,
        deleted: params.deleted.unwrap_or(false),
        cursor: params.cursor,
        limit,
        direction: page_direction(params.order, Direction::Asc),
    };
    let page = state.blocking(move |s| Ok(s.items(&query)?)).await?;
    let page = page.ok_or_else(|| {
        ApiError::new(
            ErrorCode::CollectionNotFound,
            format!("collection {} does not exist", shown.unwrap_or_default()),
        )
    })?;
    Ok(Json(ItemPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `GET /v1/duplicates`: the groups of live items sharing a content hash that waste the
/// most space.
pub(crate) async fn duplicates(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<DuplicateParams>,
) -> Result<Json<DuplicateList>, ApiError> {
    let limit = page_limit(params.limit)?;
    let groups = state.blocking(move |s| Ok(s.duplicates(limit)?)).await?;
    Ok(Json(DuplicateList {
        groups: groups
            .into_iter()
            .map(|g| DuplicateGroup {
                wasted: g.wasted(),
                content_hash: g.content_hash,
                size: g.size,
                items: g.items.into_iter().map(Item::from).collect(),
            })
            .collect(),
    }))
}

/// The facts of a file a client names. A symbolic link is followed: the path means the file
/// it leads to (a watch, by contrast, keeps links as they are).
fn facts_of(path: &str) -> Result<FileFacts, &'static str> {
    match look(std::path::Path::new(path), Links::Follow, true) {
        Look::File(file) => Ok(file.into_facts()),
        Look::Missing => Err("no such file"),
        Look::Folder => Err("a folder"),
        Look::Other => Err("not a regular file"),
    }
}

pub(crate) async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<Json<ItemPage>, ApiError> {
    let max = state.config.limits.max_batch;
    if body.paths.len() > max {
        return Err(ApiError::new(
            ErrorCode::BatchSizeExceeded,
            format!(
                "{} paths in one request; the limit is {max}",
                body.paths.len()
            ),
        ));
    }
    let paths = body.paths;
    let written = state
        .write(move |s| {
            let mut errors = Vec::new();
            for (i, p) in paths.iter().enumerate() {
                if let Err(e) = sheaf_core::validate_absolute_path(
                    p,
                    vec!["body".into(), "paths".into(), i.into()],
                ) {
                    errors.push(e);
                }
            }
            if !errors.is_empty() {
                return Err(Refusal::validation(errors).into());
            }
            let mut facts = Vec::with_capacity(paths.len());
            let mut missing = Vec::new();
            for p in &paths {
                match facts_of(p) {
                    Ok(f) => facts.push(f),
                    Err(why) => missing.push((p.clone(), why)),
                }
            }
            if !missing.is_empty() {
                return Err(Refusal::with_ids(
                    ErrorCode::ItemsNotFound,
                    format!(
                        "{} of {} paths are not readable files (first: {}: {})",
                        missing.len(),
                        paths.len(),
                        missing[0].0,
                        missing[0].1
                    ),
                    "missing",
                    missing.into_iter().map(|(p, _)| p).collect(),
                )
                .into());
            }
            s.register(&facts)
        })
        .await?;
    let Outcome::Items(ids) = written.outcome else {
        return Err(ApiError::internal("register answered no items"));
    };
    let items = state
        .blocking(move |s| {
            let mut items = Vec::with_capacity(ids.len());
            for id in ids {
                let (item, _) = s
                    .item(id)?
                    .ok_or_else(|| ApiError::internal("a registered item vanished"))?;
                items.push(Item::from(item));
            }
            Ok(items)
        })
        .await?;
    Ok(Json(ItemPage {
        items,
        next_cursor: None,
    }))
}

fn item_json(state: &AppState, target: ItemTarget) -> Result<Item, ApiError> {
    let shown = target.to_string();
    let found = state.point_read(move |s| {
        let ItemTarget::Id(id) = target else {
            return Ok(None);
        };
        Ok(s.item(id)?)
    })?;
    let (item, collections) = found.ok_or_else(|| {
        ApiError::from(Refusal::with_ids(
            ErrorCode::ItemsNotFound,
            format!("item {shown} does not exist"),
            "missing",
            vec![shown.clone()],
        ))
    })?;
    let mut json = Item::from(item);
    json.collections = Some(collections);
    Ok(json)
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Path(item): Path<String>,
) -> Result<Json<Item>, ApiError> {
    Ok(Json(item_json(&state, item_in_path(&item)?)?))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(item): Path<String>,
    JsonBody(body): JsonBody<ItemPatchBody>,
) -> Result<Json<Item>, ApiError> {
    let target = item_in_path(&item)?;
    let t = target.clone();
    let update = body.into();
    state.write(move |s| s.update_item(&t, &update)).await?;
    Ok(Json(item_json(&state, target)?))
}
