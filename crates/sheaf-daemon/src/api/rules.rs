//! `/v1/rules…` (SPEC §7.3): define, list, change and delete rules, read their runs, try
//! them on the existing items (`test`) and run them over those (`apply`, carried out by
//! the rule engine in the background). A rule that runs programs or posts to the network
//! may be defined only by the config file or the daemon's own user.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use sheaf_core::rule::{Fill, RuleSpec};
use sheaf_core::{ErrorCode, Outcome, Refusal, RuleId};
use sheaf_proto::requests::{
    RuleBody, RuleRunParams, RuleTestParams, id_in_path, patched_rule_spec, rule_spec,
};
use sheaf_proto::resources::{ApplyProgress, Rule, RuleMatch, RuleRun};
use sheaf_proto::responses::{RuleList, RuleRunList, RuleTest};
use sheaf_store::RuleState;

use super::error::{JsonBody, QueryParams};
use super::{ApiError, AppState, page_limit};
use crate::access::{Caller, Grant};
use crate::rules::job::relocate_target;

/// A rule as the API shows it (the webhook's header values hidden).
pub(crate) fn resource(state: RuleState) -> Rule {
    let RuleState {
        rule,
        cursor,
        pending_jobs,
        applying,
    } = state;
    Rule {
        id: rule.id,
        definition: RuleBody::of(&rule.spec),
        origin: if rule.from_config { "config" } else { "api" }.to_owned(),
        cursor,
        pending_jobs,
        apply: applying.map(|a| ApplyProgress {
            state: if a.finished_at.is_some() {
                "done"
            } else {
                "running"
            }
            .to_owned(),
            scanned: a.scanned,
            total: a.total,
            applied: a.applied,
            started_at: a.started_at,
            finished_at: a.finished_at,
        }),
        created_at: rule.created_at,
        updated_at: rule.updated_at,
    }
    .with_secrets_hidden()
}

fn not_found(id: RuleId) -> ApiError {
    ApiError::new(ErrorCode::RuleNotFound, format!("rule {id} does not exist"))
}

/// Refuses a definition that runs programs or posts to the network unless the caller is
/// the daemon's own user over the socket (SPEC §7.3): an API key or another uid could
/// otherwise run code as that user.
fn may_define(state: &AppState, grant: &Grant, spec: &RuleSpec) -> Result<(), ApiError> {
    if !spec.reaches_outside() || grant.caller == Caller::Uid(state.own_uid) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InsufficientPermissions,
        format!(
            "a rule with run or webhook runs as the daemon's user: only that user (uid {}) over \
             the socket, or the config file, may define one",
            state.own_uid
        ),
    ))
}

fn read(state: &AppState, id: RuleId) -> Result<RuleState, ApiError> {
    state
        .point_read(move |s| Ok(s.rule(id)?))?
        .ok_or_else(|| not_found(id))
}

fn config_rule(id: RuleId) -> ApiError {
    Refusal::field(
        vec!["path".into(), "rid".into()],
        format!("rule {id} is defined in the config file: change or remove it there"),
        "rule.from_config",
    )
    .into()
}

pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<RuleList>, ApiError> {
    let rules = state.blocking(|s| Ok(s.rules()?)).await?;
    Ok(Json(RuleList {
        rules: rules.into_iter().map(resource).collect(),
    }))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Rule>), ApiError> {
    let spec = rule_spec(&body)?;
    may_define(&state, &grant, &spec)?;
    let written = state.write(move |s| s.define_rule(&spec, false)).await?;
    let Outcome::Rule { rule, .. } = written.outcome else {
        return Err(ApiError::internal("defining a rule answered no rule"));
    };
    state.nudge_rules();
    Ok((StatusCode::CREATED, Json(resource(read(&state, rule)?))))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Path(rid): Path<String>,
) -> Result<Json<Rule>, ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    Ok(Json(resource(read(&state, id)?)))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path(rid): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Rule>, ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    let current = read(&state, id)?;
    if current.rule.from_config {
        return Err(config_rule(id));
    }
    let spec = patched_rule_spec(&current.rule.spec, &body)?;
    may_define(&state, &grant, &spec)?;
    state.write(move |s| s.update_rule(id, &spec)).await?;
    state.nudge_rules();
    Ok(Json(resource(read(&state, id)?)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(rid): Path<String>,
) -> Result<Json<Rule>, ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    let current = read(&state, id)?;
    if current.rule.from_config {
        return Err(config_rule(id));
    }
    state.write(move |s| s.delete_rule(id)).await?;
    Ok(Json(resource(current)))
}

pub(crate) async fn runs(
    State(state): State<AppState>,
    Path(rid): Path<String>,
    QueryParams(params): QueryParams<RuleRunParams>,
) -> Result<Json<RuleRunList>, ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    let limit = page_limit(params.limit)?;
    read(&state, id)?;
    let runs = state.blocking(move |s| Ok(s.rule_runs(id, limit)?)).await?;
    Ok(Json(RuleRunList {
        runs: runs.into_iter().map(RuleRun::from).collect(),
    }))
}

pub(crate) async fn test(
    State(state): State<AppState>,
    Path(rid): Path<String>,
    QueryParams(params): QueryParams<RuleTestParams>,
) -> Result<Json<RuleTest>, ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    let limit = page_limit(params.limit)?;
    let rule = read(&state, id)?.rule;
    let found = state.blocking(move |s| Ok(s.test_rule(id, limit)?)).await?;
    let home = state.store.options().home.clone();
    let spec = &rule.spec;
    let items = found
        .items
        .into_iter()
        .map(|m| {
            let fill = Fill {
                item: &m.item,
                collection: spec.link.first(),
            };
            RuleMatch {
                item_id: m.item.id,
                path: m.item.path.clone().unwrap_or_default(),
                link: m.link.iter().map(ToString::to_string).collect(),
                metadata: serde_json::to_value(&m.metadata).unwrap_or(Value::Null),
                relocate: spec.relocate.as_ref().map(|t| {
                    relocate_target(&t.render(fill), &m.item, home.as_deref()).map_or_else(
                        |why| format!("(not moved: {why})"),
                        |to| to.display().to_string(),
                    )
                }),
                run: spec
                    .run
                    .as_ref()
                    .map(|argv| argv.iter().map(|a| a.render(fill)).collect()),
                webhook: spec.webhook.as_ref().map(|h| h.url.clone()),
            }
        })
        .collect();
    Ok(Json(RuleTest {
        scanned: found.scanned,
        matched: found.matched,
        items,
    }))
}

pub(crate) async fn apply(
    State(state): State<AppState>,
    Path(rid): Path<String>,
) -> Result<(StatusCode, Json<Rule>), ApiError> {
    let id = id_in_path::<RuleId>(&rid)?;
    state.write(move |s| s.start_apply(id)).await?;
    state.nudge_rules();
    Ok((StatusCode::ACCEPTED, Json(resource(read(&state, id)?))))
}
