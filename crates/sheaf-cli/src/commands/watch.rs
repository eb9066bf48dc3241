//! `sheaf watch [ls|add|rm|rescan]`: folder watches (SPEC §3).

use serde::Serialize;
use sheaf_client::Client;
use sheaf_proto::requests::WatchCreateBody;
use sheaf_proto::resources::Watch;

use super::Out;
use crate::args::{WatchAddArgs, WatchCommand};
use crate::inputs;
use crate::render::{self, Align, Style};

/// `watch add --json`: the watch as the API answers it, plus whether this call created it
/// (201) or found it already there (200).
#[derive(Debug, Serialize)]
struct AddedJson<'a> {
    #[serde(flatten)]
    watch: &'a Watch,
    created: bool,
}

pub(super) async fn run(
    client: &Client,
    style: Style,
    out: &mut Out,
    action: Option<WatchCommand>,
) -> anyhow::Result<()> {
    match action.unwrap_or(WatchCommand::Ls) {
        WatchCommand::Ls => {
            let list = client.watches().await?;
            if style.json {
                return out.json(&list);
            }
            ls(style, out, &list.watches)
        }
        WatchCommand::Add(args) => add(client, style, out, args).await,
        WatchCommand::Rm { wid, keep_entries } => {
            let removed = client.remove_watch(&wid, keep_entries).await?;
            if style.json {
                return out.json(&removed);
            }
            let n = removed.entries;
            let entries = format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
            out.line(&if keep_entries {
                format!(
                    "stopped watching {}: {entries} kept as manual entries",
                    removed.id
                )
            } else {
                format!(
                    "stopped watching {}: {entries} removed (soft; watching the folder into \
                     the same collection again brings them back)",
                    removed.id
                )
            })?;
            Ok(())
        }
        WatchCommand::Rescan { wid } => {
            let watch = client.rescan_watch(&wid).await?;
            if style.json {
                return out.json(&watch);
            }
            out.line(&format!(
                "rescanning {} ({} → {}) in the background; `sheaf watch` shows when it is done",
                watch.id, watch.path, watch.collection
            ))?;
            Ok(())
        }
    }
}

async fn add(
    client: &Client,
    style: Style,
    out: &mut Out,
    args: WatchAddArgs,
) -> anyhow::Result<()> {
    let body = WatchCreateBody {
        path: inputs::folder(&args.path)?,
        collection: args.collection,
        // Absent means the API's defaults (create, recursive).
        create: args.no_create.then_some(false),
        recursive: args.no_recursive.then_some(false),
        include: args.include,
        exclude: args.exclude,
        poll: args.poll.map(|p| p.text),
    };
    let added = client.add_watch(&body).await?;
    let w = &added.watch;
    if style.json {
        return out.json(&AddedJson {
            watch: w,
            created: added.created,
        });
    }
    out.line(&if added.created {
        format!(
            "watching {} into {} as {} ({}); `sheaf watch` shows its progress",
            w.path, w.collection, w.id, w.state
        )
    } else {
        format!(
            "{} is already watched into {} as {} ({}); its settings are now as given",
            w.path, w.collection, w.id, w.state
        )
    })?;
    Ok(())
}

/// `live`, `scanning`, `polling every 30s`, or a degraded state in yellow.
pub(super) fn state(style: Style, w: &Watch) -> String {
    if w.state.starts_with("degraded") {
        return style.yellow(&w.state);
    }
    match (&w.poll, w.state.as_str()) {
        (Some(every), "polling") => format!("polling every {every}"),
        _ => w.state.clone(),
    }
}

fn ls(style: Style, out: &mut Out, watches: &[Watch]) -> anyhow::Result<()> {
    if watches.is_empty() {
        out.line("no watches (sheaf watch add PATH --collection C adds one)")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = watches
        .iter()
        .map(|w| {
            vec![
                w.id.to_string(),
                w.path.clone(),
                w.collection.to_string(),
                state(style, w),
                w.files.to_string(),
                w.last_reconcile_at
                    .map_or_else(|| style.dim("never"), render::short_time),
            ]
        })
        .collect();
    for line in render::table(
        style,
        &[
            "ID",
            "PATH",
            "COLLECTION",
            "STATE",
            "FILES",
            "LAST RECONCILE",
        ],
        &[
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

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style = Style {
        json: false,
        color: false,
    };

    fn watch(state: &str, poll: Option<&str>) -> Watch {
        serde_json::from_value(serde_json::json!({
            "id": "w_01JD3Q2X9K8M7N6P5R4S3T2V1W", "path": "/home/me/papers",
            "collection": "papers", "recursive": true, "include": [], "exclude": [],
            "poll": poll, "from_config": false, "state": state, "files": 12,
            "last_reconcile_at": "2026-01-02T03:04:05Z", "queue_depth": 0,
            "created_at": "2026-01-02T03:04:05Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_polling_watch_says_how_often() {
        assert_eq!(
            state(PLAIN, &watch("polling", Some("30s"))),
            "polling every 30s"
        );
        assert_eq!(state(PLAIN, &watch("live", None)), "live");
        let color = Style {
            json: false,
            color: true,
        };
        assert_eq!(
            state(color, &watch("degraded: watch limit reached", None)),
            "\x1b[33mdegraded: watch limit reached\x1b[0m"
        );
    }

    #[test]
    fn the_json_of_an_added_watch_is_the_watch_plus_created() {
        let w = watch("scanning", None);
        let value = serde_json::to_value(AddedJson {
            watch: &w,
            created: true,
        })
        .unwrap();
        assert_eq!(value["id"], "w_01JD3Q2X9K8M7N6P5R4S3T2V1W");
        assert_eq!(value["state"], "scanning");
        assert_eq!(value["created"], true);
    }
}
