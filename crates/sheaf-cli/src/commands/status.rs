//! `sheaf status`: what the daemon said when sheaf connected.

use sheaf_client::Client;

use super::Out;
use crate::render::{self, Align, Style};

pub(super) fn status(client: &Client, style: Style, out: &mut Out) -> anyhow::Result<()> {
    let h = client.connected_health();
    if style.json {
        return out.json(h);
    }
    let started = if client.autostarted() {
        " (started just now by sheaf)"
    } else {
        ""
    };
    out.line(&format!(
        "sheafd {} · API {} · up {}{started}",
        h.version,
        h.api_version,
        render::duration(h.uptime_s)
    ))?;
    let fields = [
        ("socket", client.socket().display().to_string()),
        (
            "database",
            format!("{} (schema {})", h.store.path, h.store.schema_version),
        ),
        ("items", h.store.items.to_string()),
        ("last seq", h.store.last_seq.to_string()),
        (
            "limits",
            format!(
                "max_batch {} · max_select {} · max body {}",
                h.limits.max_batch,
                h.limits.max_select,
                render::size(h.limits.max_body_bytes)
            ),
        ),
    ];
    for (k, v) in fields {
        out.line(&format!("{}  {v}", style.bold(&format!("{k:<9}"))))?;
    }
    if h.watches.is_empty() {
        out.line(&format!(
            "{}  {}",
            style.bold("watches  "),
            style.dim("none")
        ))?;
        return Ok(());
    }
    out.line(&style.bold("watches"))?;
    let rows: Vec<Vec<String>> = h
        .watches
        .iter()
        .map(|w| {
            vec![
                w.id.to_string(),
                w.collection.to_string(),
                w.state.clone(),
                w.files.to_string(),
                w.path.clone(),
            ]
        })
        .collect();
    for line in render::table(
        style,
        &["ID", "COLLECTION", "STATE", "FILES", "PATH"],
        &[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
        ],
        &rows,
    ) {
        out.line(&format!("  {line}"))?;
    }
    Ok(())
}
