//! `sheaf collections [ls|create|show|edit|archive|unarchive|trash|restore|purge]`.

use sheaf_client::Client;
use sheaf_proto::requests::{CollectionCreateBody, CollectionListParams, CollectionPatchBody};
use sheaf_proto::resources::Collection;

use super::Out;
use crate::args::CollectionsCommand;
use crate::query::QueryFlags;
use crate::render::{self, Align, Style};

pub(super) async fn run(
    client: &Client,
    style: Style,
    out: &mut Out,
    action: Option<CollectionsCommand>,
) -> anyhow::Result<()> {
    use CollectionsCommand as C;
    let action = action.unwrap_or(C::Ls {
        archived: false,
        trashed: false,
    });
    let (collection, verb) = match action {
        C::Ls { archived, trashed } => {
            let list = client
                .list_collections(&CollectionListParams {
                    archived: archived.then_some(true),
                    trashed: trashed.then_some(true),
                })
                .await?;
            if style.json {
                return out.json(&list);
            }
            return ls(style, out, &list.collections);
        }
        C::Create { id, fields, query } => (
            client
                .create_collection(&CollectionCreateBody {
                    id,
                    name: fields.name,
                    description: fields.description,
                    accept: fields.accept,
                    query: query.given().then(|| query.build(None)),
                })
                .await?,
            "created",
        ),
        C::Show { id } => (client.get_collection(&id).await?, ""),
        C::Edit {
            id,
            fields,
            accept_all,
            query,
        } => {
            let query = if query.given() {
                Some(edited_query(client, &id, &query).await?)
            } else {
                None
            };
            let patch = CollectionPatchBody {
                name: fields.name,
                description: fields.description,
                archived: None,
                accept: if accept_all {
                    Some(None)
                } else {
                    fields.accept.map(Some)
                },
                query,
            };
            (client.update_collection(&id, &patch).await?, "updated")
        }
        C::Archive { id } => (archive(client, &id, true).await?, "archived"),
        C::Unarchive { id } => (archive(client, &id, false).await?, "unarchived"),
        C::Trash { id } => (client.trash_collection(&id).await?, "trashed"),
        C::Restore { id } => (client.restore_collection(&id).await?, "restored"),
        C::Purge { id } => (client.purge_collection(&id).await?, "purged"),
    };
    if style.json {
        return out.json(&collection);
    }
    match verb {
        "" => show(style, out, &collection)?,
        "purged" => out.line(&format!(
            "purged {}: the collection and its entries are deleted for good",
            collection.id
        ))?,
        "trashed" => out.line(&format!(
            "trashed {} (sheaf collections restore {} brings it back)",
            collection.id, collection.id
        ))?,
        _ if collection.filling == Some(true) => out.line(&format!(
            "{verb} {} (smart: filling in the background; `sheaf collections show {}` says \
             when it is done)",
            collection.id, collection.id
        ))?,
        _ => out.line(&format!("{verb} {}", collection.id))?,
    }
    Ok(())
}

/// The query `edit` sends: `--query` as given, else the collection's current query, with
/// the flags set on it (so `--max-size 1M` changes that bound and keeps the rest). A
/// collection kept by hand has no query; the daemon then says it cannot become smart.
async fn edited_query(
    client: &Client,
    id: &str,
    flags: &QueryFlags,
) -> anyhow::Result<serde_json::Value> {
    let current = if flags.query.is_some() {
        None
    } else {
        client.get_collection(id).await?.query
    };
    Ok(flags.build(current.as_ref()))
}

async fn archive(client: &Client, id: &str, archived: bool) -> anyhow::Result<Collection> {
    let patch = CollectionPatchBody {
        archived: Some(archived),
        ..CollectionPatchBody::default()
    };
    Ok(client.update_collection(id, &patch).await?)
}

fn state(style: Style, c: &Collection) -> String {
    let base = match (&c.trashed_at, c.archived) {
        (Some(_), _) => style.red("trashed"),
        (None, true) => style.yellow("archived"),
        (None, false) => String::new(),
    };
    match (base.is_empty(), c.filling == Some(true)) {
        (_, false) => base,
        (true, true) => style.yellow("filling"),
        (false, true) => format!("{base}, {}", style.yellow("filling")),
    }
}

/// A smart collection's query as one line of compact JSON.
fn query_text(c: &Collection) -> Option<String> {
    c.query.as_ref().map(ToString::to_string)
}

fn ls(style: Style, out: &mut Out, collections: &[Collection]) -> anyhow::Result<()> {
    if collections.is_empty() {
        out.line("no collections")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = collections
        .iter()
        .map(|c| {
            let roots: Vec<&str> = c.folders.iter().map(|f| f.path.as_str()).collect();
            // Where the members come from: the folders, or a smart collection's query.
            let source =
                query_text(c).map_or_else(|| render::list(&roots, 3), |q| render::cut(&q, 60));
            vec![
                c.id.to_string(),
                c.number.to_string(),
                if c.is_smart() { "S" } else { "" }.to_owned(),
                c.item_count.to_string(),
                state(style, c),
                render::short_time(c.updated_at),
                c.name.clone(),
                source,
            ]
        })
        .collect();
    for line in render::table(
        style,
        &[
            "ID", "#", "S", "ITEMS", "STATE", "UPDATED", "NAME", "SOURCE",
        ],
        &[
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
        ],
        &rows,
    ) {
        out.line(&line)?;
    }
    Ok(())
}

/// One collection as `sheaf collections show` prints it: a field per line.
pub(super) fn show(style: Style, out: &mut Out, c: &Collection) -> anyhow::Result<()> {
    let none = || style.dim("none");
    let mut state = match (&c.trashed_at, c.archived) {
        (Some(t), _) => style.red(&format!("in the trash since {}", render::short_time(*t))),
        (None, true) => style.yellow("archived (read-only)"),
        (None, false) => "live".to_owned(),
    };
    if c.is_smart() {
        state.push_str(", smart");
    }
    if c.filling == Some(true) {
        state = format!("{state}, {}", style.yellow("filling in the background"));
    }
    let accept = c.accept.as_ref().map_or_else(
        || style.dim("everything"),
        |rules| {
            rules
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    // A line per folder, under one another: its root, then the watch id `sheaf watch`
    // takes.
    let folders = if c.folders.is_empty() {
        none()
    } else {
        c.folders
            .iter()
            .map(|f| format!("{} {}", f.path, style.dim(&format!("({})", f.watch_id))))
            .collect::<Vec<_>>()
            .join(&format!("\n{:9}", ""))
    };
    let about = if c.description.is_empty() {
        none()
    } else {
        c.description.clone()
    };
    let fields = [
        ("id", Some(c.id.to_string())),
        ("number", Some(c.number.to_string())),
        ("name", Some(c.name.clone())),
        ("about", Some(about)),
        ("state", Some(state)),
        // Right under the state, which says "smart"; only a smart collection has one.
        ("query", query_text(c)),
        ("items", Some(c.item_count.to_string())),
        ("accepts", Some(accept)),
        ("folders", Some(folders)),
        ("created", Some(render::short_time(c.created_at))),
        ("updated", Some(render::short_time(c.updated_at))),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            out.line(&format!("{}  {v}", style.bold(&format!("{k:<7}"))))?;
        }
    }
    Ok(())
}
