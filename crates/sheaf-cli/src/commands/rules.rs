//! `sheaf rules [ls|add|rm|test|apply|runs]`: rules (SPEC §7.3).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use sheaf_client::Client;
use sheaf_proto::requests::{RuleBody, WebhookBody};
use sheaf_proto::resources::{ApplyProgress, Rule};

use super::Out;
use crate::args::{RuleAddArgs, RulesCommand};
use crate::render::{self, Align, Style};

/// How often `apply` asks how far it is.
const POLL: Duration = Duration::from_millis(250);

pub(super) async fn run(
    client: &Client,
    style: Style,
    out: &mut Out,
    action: Option<RulesCommand>,
) -> anyhow::Result<()> {
    match action.unwrap_or(RulesCommand::Ls) {
        RulesCommand::Ls => {
            let list = client.rules().await?;
            if style.json {
                return out.json(&list);
            }
            ls(style, out, &list.rules)
        }
        RulesCommand::Add(args) => {
            let rule = client.create_rule(&body(*args)?).await?;
            if style.json {
                return out.json(&rule);
            }
            out.line(&format!(
                "rule {} defined as {}: it acts on what happens from now on; \
                 `sheaf rules test {0}` shows what it would do to the files already there",
                rule.definition.name, rule.id
            ))?;
            Ok(())
        }
        RulesCommand::Rm { rule } => {
            let id = resolve(client, &rule).await?;
            let gone = client.delete_rule(&id).await?;
            if style.json {
                return out.json(&gone);
            }
            out.line(&format!(
                "rule {} ({}) deleted",
                gone.definition.name, gone.id
            ))?;
            Ok(())
        }
        RulesCommand::Test { rule, limit } => {
            let id = resolve(client, &rule).await?;
            let test = client.test_rule(&id, Some(limit.clamp(1, 1000))).await?;
            if style.json {
                return out.json(&test);
            }
            out.line(&format!(
                "{} of {} items match; nothing was changed",
                test.matched, test.scanned
            ))?;
            let rows: Vec<Vec<String>> = test
                .items
                .iter()
                .map(|m| {
                    let mut would = Vec::new();
                    if !m.link.is_empty() {
                        would.push(format!("link {}", m.link.join(", ")));
                    }
                    if m.metadata.as_object().is_some_and(|o| !o.is_empty()) {
                        would.push(format!("metadata {}", m.metadata));
                    }
                    if let Some(to) = &m.relocate {
                        would.push(format!("move to {to}"));
                    }
                    if let Some(argv) = &m.run {
                        would.push(format!("run {}", argv.join(" ")));
                    }
                    if let Some(url) = &m.webhook {
                        would.push(format!("post to {url}"));
                    }
                    if would.is_empty() {
                        would.push(style.dim("nothing: already done"));
                    }
                    vec![m.path.clone(), would.join("; ")]
                })
                .collect();
            if !rows.is_empty() {
                for line in render::table(
                    style,
                    &["PATH", "WOULD"],
                    &[Align::Left, Align::Left],
                    &rows,
                ) {
                    out.line(&line)?;
                }
            }
            if test.matched > test.items.len() as u64 {
                out.line(&style.dim(&format!(
                    "… and {} more (--limit)",
                    test.matched - test.items.len() as u64
                )))?;
            }
            Ok(())
        }
        RulesCommand::Apply { rule, no_wait } => apply(client, style, out, &rule, no_wait).await,
        RulesCommand::Runs { rule, limit } => {
            let id = resolve(client, &rule).await?;
            let runs = client.rule_runs(&id, Some(limit.clamp(1, 1000))).await?;
            if style.json {
                return out.json(&runs);
            }
            if runs.runs.is_empty() {
                out.line("no runs yet")?;
                return Ok(());
            }
            let rows: Vec<Vec<String>> = runs
                .runs
                .iter()
                .map(|r| {
                    vec![
                        render::short_time(r.at),
                        r.item_id.map(|i| i.to_string()).unwrap_or_default(),
                        if r.ok {
                            "ran".to_owned()
                        } else {
                            style.red("failed")
                        },
                        r.exit_code.map(|c| c.to_string()).unwrap_or_default(),
                        format!("{} ms", r.duration_ms),
                        r.detail.clone(),
                    ]
                })
                .collect();
            for line in render::table(
                style,
                &["AT", "ITEM", "RESULT", "EXIT", "TOOK", "DETAIL"],
                &[
                    Align::Left,
                    Align::Left,
                    Align::Left,
                    Align::Right,
                    Align::Right,
                    Align::Left,
                ],
                &rows,
            ) {
                out.line(&line)?;
            }
            Ok(())
        }
    }
}

/// The request body of `rules add`.
fn body(args: RuleAddArgs) -> anyhow::Result<RuleBody> {
    let query = serde_json::from_str(&args.query).context("--query is not JSON")?;
    let metadata = args
        .metadata
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .context("--metadata is not JSON")?;
    let mut headers = BTreeMap::new();
    for h in &args.header {
        let Some((name, value)) = h.split_once(':') else {
            bail!("--header {h:?} is not 'Name: value'");
        };
        headers.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(RuleBody {
        name: args.name,
        on: if args.on.is_empty() {
            vec!["item.created".to_owned()]
        } else {
            args.on
        },
        query,
        link: args.link,
        metadata,
        relocate: args.relocate,
        run: (!args.run.is_empty()).then_some(args.run),
        webhook: args.webhook.map(|url| WebhookBody { url, headers }),
        timeout: args.timeout,
    })
}

/// A rule's id from its name or id.
async fn resolve(client: &Client, rule: &str) -> anyhow::Result<String> {
    if rule.starts_with("r_") {
        return Ok(rule.to_owned());
    }
    let list = client.rules().await?;
    list.rules
        .iter()
        .find(|r| r.definition.name == rule)
        .map(|r| r.id.to_string())
        .with_context(|| format!("no rule is named {rule:?} (`sheaf rules` lists them)"))
}

async fn apply(
    client: &Client,
    style: Style,
    out: &mut Out,
    rule: &str,
    no_wait: bool,
) -> anyhow::Result<()> {
    let id = resolve(client, rule).await?;
    let mut rule = client.apply_rule(&id).await?;
    if !no_wait {
        let progress = style.color;
        while rule.apply.as_ref().is_some_and(|a| a.finished_at.is_none()) {
            if progress && let Some(a) = &rule.apply {
                eprint!("\r\x1b[2K{}", progress_text(a));
            }
            tokio::time::sleep(POLL).await;
            rule = client.rule(&id).await?;
        }
        if progress {
            eprint!("\r\x1b[2K");
        }
    }
    if style.json {
        return out.json(&rule);
    }
    let Some(a) = &rule.apply else {
        bail!("the daemon did not start the apply");
    };
    out.line(&if a.finished_at.is_some() {
        format!(
            "applied {} to {} of {} items; its outside actions run in the background \
             (`sheaf rules runs {}`)",
            rule.definition.name, a.applied, a.scanned, rule.definition.name
        )
    } else {
        format!(
            "applying {} in the background: {}",
            rule.definition.name,
            progress_text(a)
        )
    })?;
    Ok(())
}

fn progress_text(a: &ApplyProgress) -> String {
    format!(
        "{} of {} items looked at, {} taken up",
        a.scanned, a.total, a.applied
    )
}

fn ls(style: Style, out: &mut Out, rules: &[Rule]) -> anyhow::Result<()> {
    if rules.is_empty() {
        out.line("no rules (sheaf rules add NAME --query JSON … defines one)")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = rules
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.definition.name.clone(),
                r.definition.on.join(" "),
                actions(&r.definition),
                r.origin.clone(),
                r.pending_jobs.to_string(),
                r.apply.as_ref().map_or_else(String::new, |a| {
                    if a.finished_at.is_some() {
                        format!("applied to {}", a.applied)
                    } else {
                        format!("{}/{}", a.scanned, a.total)
                    }
                }),
            ]
        })
        .collect();
    for line in render::table(
        style,
        &["ID", "NAME", "ON", "DOES", "FROM", "PENDING", "APPLY"],
        &[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
        ],
        &rows,
    ) {
        out.line(&line)?;
    }
    Ok(())
}

/// `link papers, metadata, run ocrmypdf`.
fn actions(d: &RuleBody) -> String {
    let mut does = Vec::new();
    if !d.link.is_empty() {
        does.push(format!("link {}", d.link.join(" ")));
    }
    if d.metadata.is_some() {
        does.push("metadata".to_owned());
    }
    if d.relocate.is_some() {
        does.push("relocate".to_owned());
    }
    if let Some(program) = d.run.as_ref().and_then(|r| r.first()) {
        does.push(format!("run {program}"));
    }
    if d.webhook.is_some() {
        does.push("webhook".to_owned());
    }
    does.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(run: &[&str]) -> RuleAddArgs {
        RuleAddArgs {
            name: "papers".into(),
            query: r#"{"kind": ["document"]}"#.into(),
            on: Vec::new(),
            link: vec!["papers".into()],
            metadata: Some(r#"{"inbox": true}"#.into()),
            relocate: None,
            webhook: None,
            header: Vec::new(),
            timeout: None,
            run: run.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn add_builds_the_definition_with_item_created_by_default_and_the_program_after_dashes() {
        let b = body(args(&["ocrmypdf", "{path}"])).unwrap();
        assert_eq!(b.on, ["item.created"]);
        assert_eq!(
            b.run.as_deref(),
            Some(&["ocrmypdf".to_owned(), "{path}".to_owned()][..])
        );
        assert_eq!(b.metadata, Some(serde_json::json!({"inbox": true})));
        assert_eq!(actions(&b), "link papers, metadata, run ocrmypdf");
        assert!(body(args(&[])).unwrap().run.is_none());
    }

    #[test]
    fn add_refuses_a_query_that_is_not_json_and_a_header_without_a_colon() {
        let mut a = args(&[]);
        a.query = "kind=document".into();
        assert!(body(a).unwrap_err().to_string().contains("--query"));
        let mut a = args(&[]);
        a.webhook = Some("http://127.0.0.1:1/hook".into());
        a.header = vec!["Authorization Bearer x".into()];
        assert!(body(a).unwrap_err().to_string().contains("Name: value"));
    }
}
