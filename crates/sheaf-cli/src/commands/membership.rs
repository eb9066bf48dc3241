//! `sheaf add` and `sheaf rm`: item arguments (and stdin) resolved to ids, sent in batches
//! of the daemon's `max_batch`, and reported as one combined summary.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use sheaf_client::Client;
use sheaf_proto::requests::{BatchAddBody, BatchMode, ItemRef, RegisterBody, RemoveBody};
use sheaf_proto::resources::{BatchSummary, RemoveSummary};

use super::Out;
use crate::args::{AddArgs, RmArgs};
use crate::exit::CliError;
use crate::inputs::{self, Input};
use crate::render::Style;

/// The combined answer of a (possibly multi-batch) add: the API's batch answer summed.
#[derive(Debug, Default, Serialize)]
pub(crate) struct AddReport {
    collection_id: String,
    summary: BatchSummary,
    items_by_type: BTreeMap<String, u64>,
    #[serde(flatten)]
    sent: Sent,
    /// Distinct paths registered (`POST /v1/items`) before adding.
    paths_registered: usize,
}

impl AddReport {
    fn absorb(&mut self, r: sheaf_proto::responses::BatchResponse) {
        let s = &mut self.summary;
        s.total += r.summary.total;
        s.succeeded += r.summary.succeeded;
        s.failed += r.summary.failed;
        s.added += r.summary.added;
        s.moved += r.summary.moved;
        s.already_in_collection += r.summary.already_in_collection;
        for (kind, n) in r.items_by_type {
            *self.items_by_type.entry(kind).or_default() += n;
        }
        self.sent
            .absorb(r.op_id.to_string(), r.request_id.to_string());
    }

    /// One line: `papers: total 3 · added 2 · moved 0 · already there 1 · 2 document, 1 image · op op_…`.
    fn line(&self) -> String {
        let s = &self.summary;
        let kinds: Vec<String> = self
            .items_by_type
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let mut text = format!(
            "{}: total {} · added {} · moved {} · already there {}",
            self.collection_id, s.total, s.added, s.moved, s.already_in_collection
        );
        if !kinds.is_empty() {
            let _ = write!(text, " · {}", kinds.join(", "));
        }
        text.push_str(&self.sent.ops_text());
        text
    }
}

/// The combined answer of a (possibly multi-batch) remove.
#[derive(Debug, Default, Serialize)]
pub(crate) struct RemoveReport {
    collection_id: String,
    summary: RemoveSummary,
    #[serde(flatten)]
    sent: Sent,
}

impl RemoveReport {
    fn absorb(&mut self, r: &sheaf_proto::responses::RemoveResponse) {
        self.summary.total += r.summary.total;
        self.summary.removed += r.summary.removed;
        self.summary.already_removed += r.summary.already_removed;
        self.sent
            .absorb(r.op_id.to_string(), r.request_id.to_string());
    }
}

/// What every multi-batch write keeps of the requests it sent.
#[derive(Debug, Default, Serialize)]
struct Sent {
    /// Requests applied (each atomic on its own).
    batches: usize,
    /// One op per batch, for undo.
    op_ids: Vec<String>,
    request_ids: Vec<String>,
}

impl Sent {
    fn absorb(&mut self, op_id: String, request_id: String) {
        self.batches += 1;
        self.op_ids.push(op_id);
        self.request_ids.push(request_id);
    }

    /// A batch failed: after the first applied one, the write is partial (and says which ops
    /// to undo); before it, the failure is the whole answer.
    fn failed(&self, of: usize, items: u64, source: sheaf_client::Error) -> anyhow::Error {
        if self.batches == 0 {
            return source.into();
        }
        CliError::Partial {
            done: self.batches,
            of,
            items,
            ops: self.op_ids.clone(),
            source,
        }
        .into()
    }

    fn ops_text(&self) -> String {
        match self.op_ids.as_slice() {
            [] => String::new(),
            [one] => format!(" · op {one}"),
            many => format!(" · {} batches: {}", many.len(), many.join(" ")),
        }
    }
}

fn resolve_inputs(items: &[String]) -> anyhow::Result<Vec<Input>> {
    let given = inputs::gather(items, std::io::stdin().lock())?;
    if given.is_empty() {
        return Err(CliError::NoInput.into());
    }
    let cwd = std::env::current_dir()?;
    Ok(given.iter().map(|t| inputs::classify(t, &cwd)).collect())
}

/// Registers every distinct path (idempotent) and answers the inputs as ids, deduplicated.
async fn to_ids(client: &Client, given: Vec<Input>) -> anyhow::Result<(Vec<String>, usize)> {
    let paths = inputs::dedupe(given.iter().filter_map(|i| match i {
        Input::Path(p) => Some(p.clone()),
        Input::Id(_) => None,
    }));
    let mut ids_of: HashMap<String, String> = HashMap::with_capacity(paths.len());
    for chunk in inputs::batches(&paths, client.limits().max_batch) {
        let page = client
            .register_items(&RegisterBody {
                paths: chunk.to_vec(),
            })
            .await?;
        if page.items.len() != chunk.len() {
            return Err(CliError::Unexpected(format!(
                "sheafd registered {} items for {} paths",
                page.items.len(),
                chunk.len()
            ))
            .into());
        }
        for (path, item) in chunk.iter().zip(page.items) {
            ids_of.insert(path.clone(), item.id.to_string());
        }
    }
    let ids = given.into_iter().map(|i| match i {
        Input::Id(id) => id,
        // Every path was registered above.
        Input::Path(p) => ids_of.get(&p).cloned().unwrap_or(p),
    });
    Ok((inputs::dedupe(ids), paths.len()))
}

pub(super) async fn add(
    client: &Client,
    style: Style,
    out: &mut Out,
    args: AddArgs,
) -> anyhow::Result<()> {
    let (ids, registered) = to_ids(client, resolve_inputs(&args.items)?).await?;
    let mut report = AddReport {
        collection_id: args.collection.clone(),
        paths_registered: registered,
        ..AddReport::default()
    };
    let chunks: Vec<&[String]> = inputs::batches(&ids, client.limits().max_batch).collect();
    for chunk in &chunks {
        let body = BatchAddBody {
            items: Some(chunk.iter().cloned().map(ItemRef::Plain).collect()),
            mode: if args.move_items {
                BatchMode::Move
            } else {
                BatchMode::Link
            },
            from: args.from.clone(),
            create: args.create,
            relocate: args.relocate,
            ..BatchAddBody::default()
        };
        let answer = client
            .batch_add(&args.collection, &body)
            .await
            .map_err(|e| report.sent.failed(chunks.len(), report.summary.total, e))?;
        report.absorb(answer);
    }
    if style.json {
        out.json(&report)
    } else {
        Ok(out.line(&report.line())?)
    }
}

pub(super) async fn rm(
    client: &Client,
    style: Style,
    out: &mut Out,
    args: RmArgs,
) -> anyhow::Result<()> {
    // The daemon takes paths of known files directly; no registration for a removal.
    let refs = inputs::dedupe(resolve_inputs(&args.items)?.into_iter().map(|i| match i {
        Input::Id(s) | Input::Path(s) => s,
    }));
    let mut report = RemoveReport {
        collection_id: args.collection.clone(),
        ..RemoveReport::default()
    };
    let chunks: Vec<&[String]> = inputs::batches(&refs, client.limits().max_batch).collect();
    for chunk in &chunks {
        let body = RemoveBody {
            items: chunk.to_vec(),
        };
        let answer = client
            .remove(&args.collection, &body)
            .await
            .map_err(|e| report.sent.failed(chunks.len(), report.summary.total, e))?;
        report.absorb(&answer);
    }
    if style.json {
        return out.json(&report);
    }
    let s = &report.summary;
    out.line(&format!(
        "{}: total {} · removed {} · already removed {}{}",
        report.collection_id,
        s.total,
        s.removed,
        s.already_removed,
        report.sent.ops_text()
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(total: u64, added: u64, op: &str) -> sheaf_proto::responses::BatchResponse {
        serde_json::from_value(serde_json::json!({
            "op_id": op,
            "collection_id": "papers",
            "summary": {"total": total, "succeeded": total, "failed": 0, "added": added,
                        "moved": 0, "already_in_collection": total - added},
            "items_by_type": {"text": total},
            "request_id": "req_01JD3Q2X9K8M7N6P5R4S3T2V1W",
        }))
        .unwrap()
    }

    #[test]
    fn batches_sum_into_one_summary() {
        let mut r = AddReport {
            collection_id: "papers".into(),
            ..AddReport::default()
        };
        r.absorb(answer(1000, 1000, "op_01JD3Q2X9K8M7N6P5R4S3T2V1W"));
        r.absorb(answer(500, 499, "op_01JD3Q2X9K8M7N6P5R4S3T2V1X"));
        assert_eq!(r.summary.total, 1500);
        assert_eq!(r.summary.added, 1499);
        assert_eq!(r.summary.already_in_collection, 1);
        assert_eq!(r.items_by_type["text"], 1500);
        assert_eq!(r.sent.batches, 2);
        assert_eq!(
            r.line(),
            "papers: total 1500 · added 1499 · moved 0 · already there 1 · 1500 text · 2 batches: \
             op_01JD3Q2X9K8M7N6P5R4S3T2V1W op_01JD3Q2X9K8M7N6P5R4S3T2V1X"
        );
    }
}
