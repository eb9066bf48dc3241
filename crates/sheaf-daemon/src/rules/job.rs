//! A rule's outside actions for one event, in order: `relocate` (the file moved with the
//! machinery of a batch move's `relocate`, never over an existing file), `run` (the
//! program, fed the event), `webhook` (the event posted). The first that fails ends the
//! run; the run is recorded, and the job removed, in one write.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sheaf_core::rule::{Fill, Rule, RuleJob, RuleRun};
use sheaf_core::{Item, Timestamp};
use sheaf_proto::resources::Event;

use super::run::{self, Exit};
use super::webhook::{self, Delivery};
use crate::relocate::{self, Move};
use crate::writer::Writer;

/// Niceness added to a rule's programs: the daemon's own work comes first.
const NICE: i32 = 10;
/// Attempts of one webhook post, the first delay between them, and each one's timeout.
const HOOK_ATTEMPTS: u32 = 5;
const HOOK_BACKOFF: Duration = Duration::from_secs(1);
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// What every job shares.
pub(crate) struct JobContext {
    writer: Arc<Writer>,
    home: Option<String>,
    http: Option<reqwest::Client>,
}

impl JobContext {
    pub(crate) fn new(writer: Arc<Writer>, home: Option<String>) -> Self {
        let http = webhook::client_builder().build().ok();
        Self { writer, home, http }
    }
}

/// What the actions did so far.
#[derive(Default)]
struct Report {
    done: Vec<String>,
    exit_code: Option<i32>,
    stderr_tail: String,
}

/// Carries out the job and records its run.
pub(crate) async fn carry_out(cx: &JobContext, rule: &Rule, job: &RuleJob) {
    let began = Instant::now();
    let mut report = Report::default();
    let outcome = actions(cx, rule, job, &mut report).await;
    let (ok, detail) = match outcome {
        Ok(()) => (true, report.done.join("; ")),
        Err(why) if report.done.is_empty() => (false, why),
        Err(why) => (false, format!("{}; then {why}", report.done.join("; "))),
    };
    let run = RuleRun {
        rule: rule.id,
        item: Some(job.item),
        event_seq: job.seq,
        at: Timestamp::EPOCH,
        ok,
        detail,
        exit_code: report.exit_code,
        duration_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        stderr_tail: report.stderr_tail,
    };
    let writer = Arc::clone(&cx.writer);
    let job = job.clone();
    let finished = tokio::task::spawn_blocking(move || {
        writer.write_with_seqs(|s| s.finish_rule_job(&job, &run).map(|seqs| ((), seqs)))
    })
    .await;
    match finished {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(rule = %rule.id, error = %e, "recording a rule run failed"),
        Err(_) => tracing::error!(rule = %rule.id, "recording a rule run panicked"),
    }
}

async fn actions(
    cx: &JobContext,
    rule: &Rule,
    job: &RuleJob,
    report: &mut Report,
) -> Result<(), String> {
    let store = cx.writer.store();
    let (mut item, _) = store
        .item(job.item)
        .map_err(|e| format!("reading the item failed: {e}"))?
        .ok_or_else(|| format!("item {} no longer exists", job.item))?;
    let collection = job.collection.as_ref();
    if let Some(target) = &rule.spec.relocate {
        let rendered = target.render(Fill {
            item: &item,
            collection,
        });
        let to = relocate_target(&rendered, &item, cx.home.as_deref())?;
        let from = item
            .path
            .clone()
            .ok_or_else(|| "the item's file is gone: nothing to relocate".to_owned())?;
        if Path::new(&from) != to {
            move_file(Path::new(&from), &to).await?;
            report.done.push(format!("moved to {}", to.display()));
            item.path = Some(to.to_string_lossy().into_owned());
        }
    }
    let event = serde_json::to_vec(&Event::new(
        job.seq,
        job.at,
        job.op_id,
        job.cause,
        job.event.clone(),
    ))
    .map_err(|e| format!("encoding the event failed: {e}"))?;
    if let Some(argv) = &rule.spec.run {
        let fill = Fill {
            item: &item,
            collection,
        };
        let ran = run::run(run::Job {
            argv: argv.iter().map(|a| a.render(fill)).collect(),
            env: vec![
                ("SHEAF_ITEM_ID".into(), item.id.to_string()),
                ("SHEAF_PATH".into(), item.path.clone().unwrap_or_default()),
                ("SHEAF_RULE".into(), rule.id.to_string()),
                ("SHEAF_RULE_NAME".into(), rule.spec.name.clone()),
                ("SHEAF_EVENT_SEQ".into(), job.seq.to_string()),
            ],
            stdin: event.clone(),
            timeout: Duration::from_millis(rule.spec.timeout_ms),
            nice: NICE,
            cwd: None,
        })
        .await;
        report.stderr_tail.clone_from(&ran.stderr_tail);
        let program = &argv[0];
        if ran.succeeded() {
            report.exit_code = Some(0);
            report.done.push(format!(
                "{program} exited 0 after {} ms",
                ran.duration.as_millis()
            ));
        } else {
            return Err(match ran.exit {
                Exit::Code(code) => {
                    report.exit_code = Some(code);
                    format!("{program} exited with {code}")
                }
                Exit::Signal(sig) => format!("{program} was killed by signal {sig}"),
                Exit::TimedOut => format!(
                    "{program} ran out of its {} and was killed",
                    sheaf_core::format_interval(rule.spec.timeout_ms)
                ),
                Exit::NotStarted(why) => format!("{program} could not start: {why}"),
            });
        }
    }
    if let Some(hook) = &rule.spec.webhook {
        let client = cx
            .http
            .as_ref()
            .ok_or_else(|| "no HTTP client could be built".to_owned())?;
        let posted = webhook::post(
            client,
            &webhook::Hook {
                url: hook.url.clone(),
                headers: hook.headers.clone().into_iter().collect(),
                body: event,
                idempotency_key: format!("{}-{}", rule.id, job.seq),
                timeout: HOOK_TIMEOUT,
                attempts: HOOK_ATTEMPTS,
                backoff: HOOK_BACKOFF,
            },
        )
        .await;
        let took = posted.duration.as_millis();
        if posted.delivered() {
            report
                .done
                .push(format!("posted to {} in {took} ms", hook.url));
        } else if let Delivery::Failed { status, error } = posted.delivery {
            let status = status.map_or_else(String::new, |s| format!(" (last status {s})"));
            return Err(format!(
                "posting to {} failed after {} attempt(s) in {took} ms{status}: {error}",
                hook.url, posted.attempts
            ));
        }
    }
    Ok(())
}

/// Where `relocate` puts the file: a folder (the template ends with `/`) keeps the name;
/// `~` is the daemon user's home. Relative targets are refused.
pub(crate) fn relocate_target(
    rendered: &str,
    item: &Item,
    home: Option<&str>,
) -> Result<PathBuf, String> {
    let expanded = match (rendered.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.trim_end_matches('/'))
        }
        (Some(_), None) => return Err("relocate names ~ but the daemon has no home".into()),
        _ => rendered.to_owned(),
    };
    if !expanded.starts_with('/') {
        return Err(format!("relocate target {expanded:?} is not absolute"));
    }
    let mut to = PathBuf::from(&expanded);
    if expanded.ends_with('/') {
        let name = item
            .path
            .as_deref()
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or(item.original_filename.as_str());
        to.push(name);
    }
    Ok(to)
}

/// Moves one file, making the target's folder; never replaces an existing file.
async fn move_file(from: &Path, to: &Path) -> Result<(), String> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    tokio::task::spawn_blocking(move || {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("making {} failed: {e}", parent.display()))?;
        }
        let applied = relocate::apply(&[Move {
            from: from.clone(),
            to: to.clone(),
        }])
        .map_err(|e| format!("moving {} to {} failed: {e}", from.display(), to.display()))?;
        applied.finish();
        Ok(())
    })
    .await
    .map_err(|_| "the file move panicked".to_owned())?
}
