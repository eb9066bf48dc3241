//! `sheaf tui [COLLECTION]`: the terminal UI (`sheaf-tui`) on the connected daemon, with
//! the `[tui]` settings of the config file (`--config`, else `SHEAF_CONFIG`, else
//! `$XDG_CONFIG_HOME/sheaf/config.toml`).

use std::path::{Path, PathBuf};

use sheaf_client::Client;

pub(crate) async fn run(
    client: &Client,
    collection: Option<String>,
    config: Option<&Path>,
) -> anyhow::Result<()> {
    let path = config
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SHEAF_CONFIG").map(PathBuf::from));
    let config = sheaf_tui::Config::load(path.as_deref())?;
    sheaf_tui::run(client.clone(), sheaf_tui::Options { collection, config }).await?;
    Ok(())
}
