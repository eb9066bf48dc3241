//! Runs [`Effect`]s: each is one task on the tokio runtime making its API call(s) through
//! `sheaf-client`, and sending the answer back as one [`Action`] on the channel that the
//! main loop reads. Nothing here touches the model.

use sheaf_client::{Client, Error};
use sheaf_proto::requests::{
    CollectionCreateBody, CollectionListParams, CollectionPatchBody, EntryPatchBody, ItemPatchBody,
    OpListParams, RemoveBody,
};
use tokio::sync::mpsc::UnboundedSender;

use std::path::Path;
use std::process::Stdio;

use sheaf_proto::requests::ListOrder;

use crate::action::{Action, Done, Effect, Failure, HistoryPage};
use crate::plain;
use crate::preview::{self, Preview};

/// A failed call as the UI shows it.
#[must_use]
pub fn failure(e: &Error) -> Failure {
    match e {
        Error::Api { code, message, .. } => Failure {
            code: Some(code.clone()),
            message: message.clone(),
            unreachable: false,
        },
        other => Failure {
            code: None,
            message: other.to_string(),
            unreachable: other.is_unreachable() || matches!(other, Error::Transport { .. }),
        },
    }
}

/// Spawns effects; cheap to clone.
#[derive(Clone, Debug)]
pub struct Runner {
    client: Client,
    tx: UnboundedSender<Action>,
}

impl Runner {
    /// Effects call through `client` and answer on `tx`.
    #[must_use]
    pub fn new(client: Client, tx: UnboundedSender<Action>) -> Self {
        Self { client, tx }
    }

    /// Starts `effect`; its answer arrives later on the channel.
    pub fn run(&self, effect: Effect) {
        let client = self.client.clone();
        let tx = self.tx.clone();
        if let Effect::OpenFile { program, path } = effect {
            tokio::spawn(open_file(program, path, tx));
            return;
        }
        tokio::spawn(async move {
            let action = call(&client, effect).await;
            // The loop is gone when the UI quit: the answer has nobody to go to.
            let _ = tx.send(action);
        });
    }
}

/// Makes the call(s) of one effect and answers with its action.
pub async fn call(client: &Client, effect: Effect) -> Action {
    match effect {
        Effect::LoadCollections => Action::Collections(collections(client).await),
        Effect::FetchPage {
            collection,
            generation,
            page,
            params,
        } => Action::Page {
            generation,
            page,
            result: client
                .list_entries(collection.as_str(), &params)
                .await
                .map_err(|e| failure(&e)),
        },
        Effect::Preview { key, path } => {
            let read = tokio::task::spawn_blocking(move || preview::read(Path::new(&path)));
            let preview = read.await.unwrap_or_else(|e| Preview::Unreadable {
                reason: format!("the read failed: {e}"),
            });
            Action::Preview(key, preview)
        }
        Effect::OpenFile { path, .. } => Action::Opened {
            path,
            result: Err("the opener is started by Runner::run".to_owned()),
        },
        Effect::Edit { path } => Action::Edited {
            path,
            result: Err("editing needs the terminal, which only `sheaf tui` has".to_owned()),
        },
        Effect::LoadHistory { cursor } => Action::History(history(client, cursor).await),
        Effect::LoadProgress => Action::Progress(progress(client).await),
        Effect::LoadItem(id) => Action::Item(
            id,
            client
                .get_item(&id.to_string())
                .await
                .map_err(|e| failure(&e)),
        ),
        Effect::Batch { target, body, verb } => Action::Op {
            what: plain::verb(verb),
            result: client
                .batch_add(target.as_str(), &body)
                .await
                .map(|r| Done::Batch(verb, r))
                .map_err(|e| failure(&e)),
        },
        Effect::Remove { collection, items } => Action::Op {
            what: "remove",
            result: client
                .remove(
                    collection.as_str(),
                    &RemoveBody {
                        items: items.iter().map(ToString::to_string).collect(),
                    },
                )
                .await
                .map(Done::Removed)
                .map_err(|e| failure(&e)),
        },
        Effect::Undo(op) => Action::Op {
            what: "undo",
            result: undo(client, op).await.map_err(|e| failure(&e)),
        },
        Effect::CreateCollection(id) => Action::Op {
            what: "create",
            result: client
                .create_collection(&CollectionCreateBody {
                    id,
                    ..CollectionCreateBody::default()
                })
                .await
                .map(Done::Created)
                .map_err(|e| failure(&e)),
        },
        Effect::RenameCollection { id, name } => Action::Op {
            what: "rename",
            result: client
                .update_collection(
                    id.as_str(),
                    &CollectionPatchBody {
                        name: Some(name),
                        ..CollectionPatchBody::default()
                    },
                )
                .await
                .map(Done::Renamed)
                .map_err(|e| failure(&e)),
        },
        Effect::RenameEntry {
            collection,
            item,
            name,
        } => Action::Op {
            what: "rename",
            result: client
                .update_entry(
                    collection.as_str(),
                    &item.to_string(),
                    &EntryPatchBody {
                        display_name: Some(name),
                        ..EntryPatchBody::default()
                    },
                )
                .await
                .map(Done::EntryChanged)
                .map_err(|e| failure(&e)),
        },
        Effect::PatchMetadata {
            collection,
            item,
            patch,
        } => Action::Op {
            what: "metadata edit",
            result: if collection.is_default() {
                client
                    .update_item(
                        &item.to_string(),
                        &ItemPatchBody {
                            metadata: Some(patch),
                        },
                    )
                    .await
                    .map(Done::ItemChanged)
            } else {
                client
                    .update_entry(
                        collection.as_str(),
                        &item.to_string(),
                        &EntryPatchBody {
                            metadata: Some(patch),
                            ..EntryPatchBody::default()
                        },
                    )
                    .await
                    .map(Done::EntryChanged)
            }
            .map_err(|e| failure(&e)),
        },
    }
}

/// Live collections then the trash.
async fn collections(client: &Client) -> Result<Vec<sheaf_proto::resources::Collection>, Failure> {
    let mut list = client
        .list_collections(&CollectionListParams::default())
        .await
        .map_err(|e| failure(&e))?
        .collections;
    let trash = client
        .list_collections(&CollectionListParams {
            trashed: Some(true),
            ..CollectionListParams::default()
        })
        .await
        .map_err(|e| failure(&e))?;
    list.extend(trash.collections);
    Ok(list)
}

/// Undoes `op`, else the newest op that is neither undone nor itself an undo.
async fn undo(client: &Client, op: Option<sheaf_core::OpId>) -> Result<Done, Error> {
    let op = if let Some(op) = op {
        op
    } else {
        let page = client
            .list_ops(&OpListParams {
                limit: Some(100),
                ..OpListParams::default()
            })
            .await?;
        match page
            .ops
            .into_iter()
            .find(|o| o.undone_by.is_none() && o.undo_of.is_none())
        {
            Some(o) => o.id,
            None => return Ok(Done::NothingToUndo),
        }
    };
    client.undo(&op.to_string()).await.map(Done::Undone)
}

/// The daemon's long work: watches scanning their folder, rules applying to the existing
/// items.
async fn progress(client: &Client) -> Result<Vec<String>, Failure> {
    let watches = client.watches().await.map_err(|e| failure(&e))?;
    let mut lines: Vec<String> = watches
        .watches
        .iter()
        .filter(|w| w.state == "scanning")
        .map(|w| format!("scanning {} · {} files", w.path, plain::count(w.files)))
        .collect();
    let rules = client.rules().await.map_err(|e| failure(&e))?;
    lines.extend(rules.rules.iter().filter_map(|r| {
        let a = r.apply.as_ref().filter(|a| a.state == "running")?;
        Some(format!(
            "rule {} applying: {} of {} items looked at · {} taken up",
            r.id,
            plain::count(a.scanned),
            plain::count(a.total),
            plain::count(a.applied)
        ))
    }));
    Ok(lines)
}

/// Rule runs shown under the log, newest first.
const RUNS: usize = 8;

/// A page of the op log, newest first; with the first page, the rules' latest runs.
async fn history(client: &Client, cursor: Option<String>) -> Result<HistoryPage, Failure> {
    let more_of = cursor.is_some();
    let page = client
        .list_ops(&OpListParams {
            cursor,
            limit: Some(200),
            order: Some(ListOrder::Desc),
        })
        .await
        .map_err(|e| failure(&e))?;
    let mut runs = Vec::new();
    if !more_of {
        let rules = client.rules().await.map_err(|e| failure(&e))?;
        for rule in rules.rules {
            let list = client
                .rule_runs(&rule.id.to_string(), Some(RUNS))
                .await
                .map_err(|e| failure(&e))?;
            runs.extend(list.runs);
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.at));
        runs.truncate(RUNS);
    }
    Ok(HistoryPage {
        more_of,
        ops: page.ops,
        next_cursor: page.next_cursor,
        runs,
    })
}

/// Starts the opener on `path` in a process group of its own (no terminal signal reaches
/// it, and it outlives the TUI), its output discarded; answers at once, and again if it
/// later exits with a failure.
async fn open_file(program: Vec<String>, path: String, tx: UnboundedSender<Action>) {
    let Some((first, args)) = program.split_first() else {
        let _ = tx.send(Action::Opened {
            path,
            result: Err("no opener is configured".to_owned()),
        });
        return;
    };
    let spawned = tokio::process::Command::new(first)
        .args(args)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let _ = tx.send(Action::Opened {
                path,
                result: Err(format!("could not start {first}: {e}")),
            });
            return;
        }
    };
    let _ = tx.send(Action::Opened {
        path: path.clone(),
        result: Ok(()),
    });
    if let Ok(status) = child.wait().await
        && !status.success()
    {
        let _ = tx.send(Action::Opened {
            path,
            result: Err(format!("{first} ended with {status}")),
        });
    }
}
