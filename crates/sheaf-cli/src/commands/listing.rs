//! Streams: `sheaf ls` prints a collection page by page (fixed column widths, so no page
//! has to wait for the next and memory stays flat), `sheaf events` prints the change feed
//! as it arrives.

use sheaf_client::Client;
use sheaf_proto::requests::EntryListParams;
use sheaf_proto::resources::{Entry, Event};

use super::Out;
use crate::args::LsArgs;
use crate::exit::CliError;
use crate::render::{self, Align, Style};

/// The largest page the API serves.
const PAGE: usize = 1000;

/// `ITEM  KIND  SIZE  MODIFIED  [REMOVED]  NAME`: ids are 30 characters, times 16.
const LS_WIDTHS: [usize; 6] = [30, 8, 9, 16, 16, 0];
const LS_ALIGNS: [Align; 6] = [
    Align::Left,
    Align::Left,
    Align::Right,
    Align::Left,
    Align::Left,
    Align::Left,
];

fn ls_row(cells: &[String], deleted: bool) -> String {
    if deleted {
        render::row(cells, &LS_WIDTHS, &LS_ALIGNS)
    } else {
        // Without the REMOVED column.
        let keep = [0, 1, 2, 3, 5];
        let cells: Vec<&String> = keep.iter().filter_map(|&i| cells.get(i)).collect();
        let widths: Vec<usize> = keep.iter().map(|&i| LS_WIDTHS[i]).collect();
        let aligns: Vec<Align> = keep.iter().map(|&i| LS_ALIGNS[i]).collect();
        render::row(&cells, &widths, &aligns)
    }
}

/// The header of `sheaf ls` (with the REMOVED column when listing removed entries).
pub(super) fn ls_header(style: Style, deleted: bool) -> String {
    let headers = ["ITEM", "KIND", "SIZE", "MODIFIED", "REMOVED", "NAME"].map(|h| style.bold(h));
    ls_row(&headers, deleted)
}

/// One entry as `sheaf ls` prints it, under [`ls_header`].
pub(super) fn ls_entry(e: &Entry, deleted: bool) -> String {
    ls_row(&entry_cells(e), deleted)
}

pub(crate) fn entry_cells(e: &Entry) -> Vec<String> {
    vec![
        e.item_id.to_string(),
        e.item.kind.to_string(),
        render::size(e.item.size),
        render::short_time(e.item.mtime),
        e.deleted_at.map(render::short_time).unwrap_or_default(),
        e.display_name.clone(),
    ]
}

pub(super) async fn ls(
    client: &Client,
    style: Style,
    out: &mut Out,
    args: LsArgs,
) -> anyhow::Result<()> {
    let mut params = EntryListParams {
        limit: Some(PAGE),
        kind: args.kind.map(Into::into),
        q: args.filter,
        deleted: args.deleted.then_some(true),
        ..EntryListParams::default()
    };
    let human = !style.json && !args.quiet;
    let mut first = true;
    loop {
        let page = client.list_entries(&args.collection, &params).await?;
        if first && human {
            if page.entries.is_empty() {
                out.line(&format!("{}: no entries", args.collection))?;
                return Ok(());
            }
            out.line(&ls_header(style, args.deleted))?;
        }
        first = false;
        for e in &page.entries {
            if style.json {
                out.json(e)?;
            } else if args.quiet {
                out.line(&e.item_id.to_string())?;
            } else {
                out.line(&ls_entry(e, args.deleted))?;
            }
        }
        out.flush()?;
        match page.next_cursor {
            Some(next) => params.cursor = Some(next),
            None => return Ok(()),
        }
    }
}

fn event_line(e: &Event) -> String {
    let at =
        e.at.as_ref()
            .map(|t| {
                t.to_string()
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " ")
            })
            .unwrap_or_default();
    let mut line = format!("{:>8}  {at:<19}  {:<20}", e.seq, e.kind);
    for part in [
        e.collection_id.as_ref().map(ToString::to_string),
        e.item_id.as_ref().map(ToString::to_string),
        e.watch_id.as_ref().map(ToString::to_string),
        e.op_id.as_ref().map(|o| format!("({o})")),
    ]
    .into_iter()
    .flatten()
    {
        line.push_str("  ");
        line.push_str(&part);
    }
    if e.kind == "reset" {
        line.push_str("  events were dropped from the feed; re-read the state");
    }
    line.trim_end().to_owned()
}

pub(super) async fn events(
    client: &Client,
    style: Style,
    out: &mut Out,
    since: Option<u64>,
) -> anyhow::Result<()> {
    let mut stream = client.events(since).await?;
    let mut last = since.unwrap_or(client.connected_health().store.last_seq);
    while let Some(event) = stream.next_event().await {
        let event = event?;
        last = event.seq;
        if style.json {
            out.json(&event)?;
        } else {
            out.line(&event_line(&event))?;
        }
        out.flush()?;
    }
    Err(CliError::StreamEnded(last).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(deleted: bool) -> Entry {
        serde_json::from_value(serde_json::json!({
            "id": "ent_01JD3Q2X9K8M7N6P5R4S3T2V1W",
            "collection_id": "papers",
            "item_id": "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W",
            "display_name": "paper.pdf",
            "unique_id": "paper.pdf",
            "metadata": {},
            "merged_metadata": {},
            "sort_order": 1,
            "source": "manual",
            "created_at": "2026-01-02T03:04:05Z",
            "updated_at": "2026-01-02T03:04:05Z",
            "deleted_at": if deleted { serde_json::json!("2026-02-03T04:05:06Z") } else { serde_json::Value::Null },
            "item": {"kind": "document", "path": "/p/paper.pdf", "size": 2048, "mtime": "2025-12-31T23:59:00Z"}
        }))
        .unwrap()
    }

    #[test]
    fn rows_line_up_under_the_fixed_header() {
        let header = ls_row(
            &["ITEM", "KIND", "SIZE", "MODIFIED", "REMOVED", "NAME"].map(String::from),
            false,
        );
        let row = ls_row(&entry_cells(&entry(false)), false);
        assert_eq!(
            header,
            "ITEM                            KIND           SIZE  MODIFIED          NAME"
        );
        assert_eq!(
            row,
            "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W  document    2.0 KiB  2025-12-31 23:59  paper.pdf"
        );
        assert_eq!(header.find("NAME"), row.find("paper.pdf"));
    }

    #[test]
    fn removed_entries_show_when_they_were_removed() {
        let row = ls_row(&entry_cells(&entry(true)), true);
        assert!(row.contains("2026-02-03 04:05  paper.pdf"), "{row}");
    }

    #[test]
    fn events_print_on_one_line() {
        let e: Event = serde_json::from_value(serde_json::json!({
            "seq": 812, "at": "2026-01-02T03:04:05.123Z", "kind": "entry.added",
            "collection_id": "papers", "item_id": "doc_01JD3Q2X9K8M7N6P5R4S3T2V1W",
            "op_id": "op_01JD3Q2X9K8M7N6P5R4S3T2V1W"
        }))
        .unwrap();
        assert_eq!(
            event_line(&e),
            "     812  2026-01-02 03:04:05  entry.added           papers  \
             doc_01JD3Q2X9K8M7N6P5R4S3T2V1W  (op_01JD3Q2X9K8M7N6P5R4S3T2V1W)"
        );
    }
}
