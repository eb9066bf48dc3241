//! `sheaf dups`: groups of duplicate files (SPEC §7.2), the most wasted space first.

use sheaf_client::Client;
use sheaf_proto::requests::DuplicateParams;
use sheaf_proto::responses::DuplicateGroup;

use super::Out;
use crate::render::{self, Align, Style};

pub(super) async fn dups(
    client: &Client,
    style: Style,
    out: &mut Out,
    limit: u16,
) -> anyhow::Result<()> {
    let list = client
        .list_duplicates(&DuplicateParams {
            limit: Some(usize::from(limit)),
        })
        .await?;
    if style.json {
        return out.json(&list);
    }
    if list.groups.is_empty() {
        out.line("no duplicates (among files whose content hash is computed)")?;
        return Ok(());
    }
    for line in table(style, &list.groups) {
        out.line(&line)?;
    }
    let wasted = (list.groups.iter()).fold(0_u64, |sum, g| sum.saturating_add(g.wasted));
    out.line(&format!(
        "{} group(s), {} wasted{}",
        list.groups.len(),
        render::size(wasted),
        if list.groups.len() == usize::from(limit) {
            " (the most wasteful ones; there may be more: raise --limit)"
        } else {
            ""
        }
    ))?;
    Ok(())
}

/// Hex digits of the content hash shown: enough to tell groups apart by eye, and to find
/// one in `--json` output.
const HASH_PREFIX: usize = 12;

/// A row per group, its other paths one per line under PATHS.
fn table(style: Style, groups: &[DuplicateGroup]) -> Vec<String> {
    let mut rows = Vec::new();
    for g in groups {
        for (i, item) in g.items.iter().enumerate() {
            // The items are live, so they have a path; the others are fallbacks.
            let path = item
                .path
                .clone()
                .or_else(|| item.last_path.clone())
                .unwrap_or_else(|| item.original_filename.clone());
            let mut row = if i == 0 {
                vec![
                    g.content_hash.chars().take(HASH_PREFIX).collect(),
                    g.items.len().to_string(),
                    render::size(g.size),
                    render::size(g.wasted),
                ]
            } else {
                vec![String::new(); 4]
            };
            row.push(path);
            rows.push(row);
        }
    }
    render::table(
        style,
        &["HASH", "COPIES", "SIZE", "WASTED", "PATHS"],
        &[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use sheaf_proto::resources::Item;

    use super::*;

    fn item(path: &str) -> Item {
        serde_json::from_value(serde_json::json!({
            "id": "txt_01JD3Q2X9K8M7N6P5R4S3T2V1W", "number": 1, "kind": "text", "content_type": "text/plain",
            "path": path, "last_path": path, "original_filename": "x", "size": 2048,
            "mtime": "2026-01-01T00:00:00Z", "content_hash": "ab", "metadata": {},
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "deleted_at": null
        }))
        .unwrap()
    }

    #[test]
    fn a_group_is_one_row_then_its_other_paths_under_paths() {
        let plain = Style {
            json: false,
            color: false,
        };
        let groups = [
            DuplicateGroup {
                content_hash: "3f2a9c01b7e4d5c6a8b9".into(),
                size: 2048,
                wasted: 4096,
                items: vec![item("/a/x.txt"), item("/b/x.txt"), item("/c/論文.txt")],
            },
            DuplicateGroup {
                content_hash: "0a".into(),
                size: 10,
                wasted: 10,
                items: vec![item("/a/y"), item("/b/y")],
            },
        ];
        assert_eq!(
            table(plain, &groups),
            [
                "HASH          COPIES     SIZE   WASTED  PATHS",
                "3f2a9c01b7e4       3  2.0 KiB  4.0 KiB  /a/x.txt",
                "                                        /b/x.txt",
                "                                        /c/論文.txt",
                "0a                 2     10 B     10 B  /a/y",
                "                                        /b/y",
            ]
        );
    }
}
