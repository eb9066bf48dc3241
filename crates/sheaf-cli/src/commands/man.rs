//! `sheaf man [--dir DIR]`: the manual pages, from the same clap definitions as `--help`.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use super::Out;
use crate::args::Cli;

/// Writes `sheaf.1` and a page per command (`sheaf-watch-add.1`, …) into `dir`, or prints
/// `sheaf.1` on stdout.
pub(crate) fn run(dir: Option<&Path>, out: &mut Out) -> anyhow::Result<()> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        out.line(String::from_utf8_lossy(&page).trim_end())?;
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
    out.line(&format!("wrote the man pages into {}", dir.display()))?;
    Ok(())
}
