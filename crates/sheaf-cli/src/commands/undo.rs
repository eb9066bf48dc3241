//! `sheaf undo [OP]`: without OP, the newest op that is neither undone nor itself an undo,
//! so that repeating `sheaf undo` walks back through history.

use std::fmt::Write as _;

use sheaf_client::Client;
use sheaf_proto::requests::OpListParams;
use sheaf_proto::resources::Op;

use super::Out;
use crate::exit::CliError;
use crate::render::Style;

pub(super) async fn undo(
    client: &Client,
    style: Style,
    out: &mut Out,
    op: Option<String>,
) -> anyhow::Result<()> {
    let (op_id, found) = if let Some(op) = op {
        (op, None)
    } else {
        let op = newest_undoable(client).await?;
        (op.id.to_string(), Some(op))
    };
    let answer = client.undo(&op_id).await?;
    if style.json {
        return out.json(&answer);
    }
    let what = found
        .map(|op| format!(" ({})", describe(&op)))
        .unwrap_or_default();
    out.line(&format!(
        "undid {}{what}: restored {} records · redo with: sheaf undo {}",
        answer.undone, answer.restored, answer.op_id
    ))?;
    Ok(())
}

async fn newest_undoable(client: &Client) -> anyhow::Result<Op> {
    let mut cursor = None;
    loop {
        let page = client
            .list_ops(&OpListParams {
                cursor,
                limit: Some(1000),
                ..OpListParams::default()
            })
            .await?;
        if let Some(op) = page
            .ops
            .into_iter()
            .find(|o| o.undone_by.is_none() && o.kind != "undo")
        {
            return Ok(op);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Err(CliError::NothingToUndo.into()),
        }
    }
}

/// `move into research, 3 items`.
fn describe(op: &Op) -> String {
    let mut text = op.kind.clone();
    if let Some(c) = &op.collection_id {
        let _ = write!(text, " in {c}");
    }
    let items = op
        .summary
        .as_ref()
        .map(|s| s.total)
        .or(op.removed.as_ref().map(|r| r.total));
    if let Some(n) = items {
        let _ = write!(text, ", {n} item{}", if n == 1 { "" } else { "s" });
    }
    text
}
