//! The OpenAPI 3.1 document, generated from the route table and the wire types.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, Required, ResponseBuilder,
    ResponsesBuilder,
};

use crate::dialects::{Platform, datalab, fastapi, llama, oracle, wickson};
use crate::requests::{
    BatchAddBody, BatchMode, CollectionCreateBody, CollectionPatchBody, EntryCreateBody,
    EntryPatchBody, EntrySort, ItemPatchBody, ItemRef, ItemRefFields, ListOrder, RegisterBody,
    RemoveBody, ReorderBody, RuleBody, RulePatchBody, Select, WatchCreateBody, WebhookBody,
};
use crate::resources::{
    ApplyProgress, BatchSummary, Collection, Entry, Event, Folder, Item, ItemBrief, KindSchema,
    MetaPatchValueSchema, MetaValueSchema, Op, RemoveSummary, Rule, RuleMatch, RuleRun, Watch,
};
use crate::responses::{
    BatchResponse, CollectionList, DuplicateGroup, DuplicateList, EntryPage, ErrorBody,
    ErrorEnvelope, Health, HealthLimits, ItemPage, OpPage, RemoveResponse, ReorderResponse,
    RuleList, RuleRunList, RuleTest, StoreHealth, UndoResponse, WatchList, WatchRemoved,
};
use crate::routes::{COMMON_ERRORS, Method, ROUTES, Route, WRITE_ERRORS};

/// A ULID as the id parsers take it: 26 Crockford base-32 digits, any case, the first at
/// most 7 (128 bits).
const ULID: &str = "[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}";

/// A collection id.
const SLUG: &str = "^[a-z0-9][a-z0-9_.-]{0,127}$";

/// The pattern a path parameter must match, so a schema-valid id is a well-formed one.
fn path_pattern(name: &str) -> Option<String> {
    match name {
        "cid" | "collectionId" | "collection_id" | "directory_id" => Some(SLUG.to_owned()),
        "item_id" | "fileId" => Some(format!("^(doc|img|vid|aud|txt|arc|bin)_{ULID}$")),
        "id" => Some(format!("^(ent|doc|img|vid|aud|txt|arc|bin)_{ULID}$")),
        "op_id" => Some(format!("^op_{ULID}$")),
        "wid" => Some(format!("^w_{ULID}$")),
        "rid" => Some(format!("^r_{ULID}$")),
        _ => None,
    }
}

fn path_params(route: &Route) -> Vec<utoipa::openapi::path::Parameter> {
    route
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            // Datalab's collections go by their integer numbers (SPEC §8.1).
            let schema = if route.platform == Platform::Datalab {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
            } else {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(path_pattern(name))
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema))
                .build()
        })
        .collect()
}

/// A JSON body of schema `name`; Oracle answers XML as well (SPEC §8.2).
fn content(response: ResponseBuilder, name: &str, platform: Platform) -> ResponseBuilder {
    let json = response.content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(name)))
            .build(),
    );
    if platform == Platform::Oracle {
        json.content(
            "application/xml",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(name)))
                .build(),
        )
    } else {
        json
    }
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Patch => HttpMethod::Patch,
        Method::Delete => HttpMethod::Delete,
    }
}

/// The API's OpenAPI 3.1 document.
#[must_use]
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut items: std::collections::BTreeMap<&str, PathItem> = std::collections::BTreeMap::new();
    for route in ROUTES {
        let mut op = OperationBuilder::new()
            .operation_id(Some(route.operation_id))
            .summary(Some(route.summary));
        if let Some(tag) = route.platform.tag() {
            op = op.tag(tag);
        }
        let mut params = path_params(route);
        if let Some(q) = route.query {
            params.extend((q.params)());
        }
        op = op.parameters(Some(params));
        if let Some(body) = route.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(body)))
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        let success = match route.response {
            Some(name) => content(
                ResponseBuilder::new().description(route.summary),
                name,
                route.platform,
            ),
            None => ResponseBuilder::new()
                .description("One JSON event per line, streamed as changes commit")
                .content(
                    "application/x-ndjson",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Event")))
                        .build(),
                ),
        };
        let mut responses = ResponsesBuilder::new().response(route.status.to_string(), success);
        // Group the route's error codes by status.
        let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> =
            std::collections::BTreeMap::new();
        let extra: &[sheaf_core::ErrorCode] = if route.writes { WRITE_ERRORS } else { &[] };
        for code in COMMON_ERRORS.iter().chain(extra).chain(route.errors) {
            let status = route.platform.error_status(*code);
            if status == route.status {
                continue;
            }
            let codes = by_status.entry(status).or_default();
            if !codes.contains(&code.as_str()) {
                codes.push(code.as_str());
            }
        }
        for (status, codes) in by_status {
            responses = responses.response(
                status.to_string(),
                content(
                    ResponseBuilder::new().description(codes.join(", ")),
                    route.platform.error_schema(status),
                    route.platform,
                ),
            );
        }
        let op = op.responses(responses.build()).build();
        let item = items.remove(route.path).unwrap_or_default();
        let mut merged = item;
        merged.merge_operations(PathItem::new(http_method(route.method), op));
        items.insert(route.path, merged);
    }
    for (path, item) in items {
        paths = paths.path(path, item);
    }
    let components = ComponentsBuilder::new()
        .schema(
            "OpenApiDocument",
            ObjectBuilder::new().schema_type(Type::Object),
        )
        .schema_from::<Item>()
        .schema_from::<Collection>()
        .schema_from::<Folder>()
        .schema_from::<Entry>()
        .schema_from::<ItemBrief>()
        .schema_from::<KindSchema>()
        .schema_from::<MetaValueSchema>()
        .schema_from::<MetaPatchValueSchema>()
        .schema_from::<BatchSummary>()
        .schema_from::<RemoveSummary>()
        .schema_from::<Op>()
        .schema_from::<Event>()
        .schema_from::<BatchAddBody>()
        .schema_from::<BatchMode>()
        .schema_from::<ItemRef>()
        .schema_from::<ItemRefFields>()
        .schema_from::<Select>()
        .schema_from::<EntryCreateBody>()
        .schema_from::<EntryPatchBody>()
        .schema_from::<ItemPatchBody>()
        .schema_from::<RemoveBody>()
        .schema_from::<ReorderBody>()
        .schema_from::<CollectionCreateBody>()
        .schema_from::<CollectionPatchBody>()
        .schema_from::<RegisterBody>()
        .schema_from::<EntrySort>()
        .schema_from::<ListOrder>()
        .schema_from::<CollectionList>()
        .schema_from::<EntryPage>()
        .schema_from::<ItemPage>()
        .schema_from::<OpPage>()
        .schema_from::<DuplicateList>()
        .schema_from::<DuplicateGroup>()
        .schema_from::<BatchResponse>()
        .schema_from::<RemoveResponse>()
        .schema_from::<ReorderResponse>()
        .schema_from::<UndoResponse>()
        .schema_from::<Health>()
        .schema_from::<StoreHealth>()
        .schema_from::<HealthLimits>()
        .schema_from::<Watch>()
        .schema_from::<WatchList>()
        .schema_from::<WatchRemoved>()
        .schema_from::<WatchCreateBody>()
        .schema_from::<Rule>()
        .schema_from::<RuleBody>()
        .schema_from::<RulePatchBody>()
        .schema_from::<WebhookBody>()
        .schema_from::<ApplyProgress>()
        .schema_from::<RuleRun>()
        .schema_from::<RuleMatch>()
        .schema_from::<RuleList>()
        .schema_from::<RuleRunList>()
        .schema_from::<RuleTest>()
        .schema_from::<ErrorBody>()
        .schema_from::<ErrorEnvelope>()
        .schema_from::<datalab::AddFilesBody>()
        .schema_from::<datalab::CollectionFile>()
        .schema_from::<datalab::CollectionResponse>()
        .schema_from::<datalab::CollectionList>()
        .schema_from::<fastapi::LocStep>()
        .schema_from::<fastapi::ValidationError>()
        .schema_from::<fastapi::HttpValidationError>()
        .schema_from::<fastapi::HttpError>()
        .schema_from::<oracle::Added>()
        .schema_from::<oracle::Error>()
        .schema_from::<wickson::MoveBody>()
        .schema_from::<wickson::Summary>()
        .schema_from::<wickson::MoveData>()
        .schema_from::<wickson::Metadata>()
        .schema_from::<wickson::MoveResponse>()
        .schema_from::<wickson::Collection>()
        .schema_from::<wickson::CollectionList>()
        .schema_from::<wickson::CollectionResponse>()
        .schema_from::<wickson::CollectionListResponse>()
        .schema_from::<wickson::Media>()
        .schema_from::<wickson::MediaPage>()
        .schema_from::<wickson::MediaResponse>()
        .schema_from::<wickson::Error>()
        .schema_from::<wickson::ErrorBody>()
        .schema_from::<llama::FileCreateBody>()
        .schema_from::<llama::DirectoryFile>()
        .schema_from::<llama::DirectoryFileList>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("sheaf")
                .version(crate::API_VERSION)
                .description(Some(
                    "Collections of files, served by sheafd over a Unix socket \
                     (curl --unix-socket SOCK http://sheaf/v1/health).",
                ))
                .build(),
        )
        .paths(paths.build())
        .tags(Some(Platform::DIALECTS.iter().filter_map(|p| {
            let name = p.tag()?;
            Some(
                TagBuilder::new()
                    .name(name)
                    .description(Some(p.description()))
                    .build(),
            )
        })))
        .components(Some(components))
        .build()
}
