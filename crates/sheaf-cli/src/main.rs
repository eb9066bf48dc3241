//! `sheaf`: the command line of sheaf. Each command is one or a few calls through
//! `sheaf-client` (which finds, checks and if need be starts `sheafd`); output is a human
//! table or, with `--json`, the API's JSON; failures end in one line on stderr and an exit
//! code scripts can branch on (`sheaf --help` lists them).
//!
//! Terminal and argument handling only: no HTTP server, no database, and no API logic that
//! the daemon does not already own. The one place besides sheafd's `main` where `anyhow`
//! is used.

mod args;
mod commands;
mod exit;
mod inputs;
mod query;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sheaf_client::{Client, ConnectOptions};

use crate::args::{Cli, Command};
use crate::commands::Out;
use crate::render::Style;

/// `sheaf` alone on a terminal is `sheaf tui`; elsewhere a missing command is a usage error.
fn parse() -> Cli {
    use std::io::IsTerminal;
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::MissingSubcommand
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) && std::io::stdin().is_terminal()
                && std::io::stdout().is_terminal() =>
        {
            Cli::parse_from(std::env::args_os().chain(["tui".into()]))
        }
        Err(e) => e.exit(),
    }
}

fn main() -> ExitCode {
    let mut cli = parse();
    match &mut cli.command {
        Command::Tui(a) => a.config_file.clone_from(&cli.config),
        Command::Open(a) => a.config_file.clone_from(&cli.config),
        _ => {}
    }
    let mut out = Out::new();
    let result = run(cli, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        // `sheaf ls big | head`: the reader has what it wanted.
        Err(e) if exit::is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            // Whatever was printed before the failure goes out first.
            let _ = out.flush();
            for line in exit::lines(&e) {
                eprintln!("{line}");
            }
            ExitCode::from(exit::code(&e))
        }
    }
}

fn run(cli: Cli, out: &mut Out) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "sheaf", &mut buf);
        out.line(String::from_utf8_lossy(&buf).trim_end())?;
        return Ok(());
    }
    let style = Style::detect(cli.json);
    // sheafd takes absolute paths only; relative ones are meant from here.
    let absolute = |p: Option<PathBuf>| p.map(std::path::absolute).transpose();
    let options = ConnectOptions {
        socket: absolute(cli.socket)?,
        database: absolute(cli.database)?,
        config: absolute(cli.config)?,
        ..ConnectOptions::default()
    };
    if let Some(done) = commands::local(&cli.command, &options, style, out) {
        return done;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::connect(options).await?;
        commands::run(&client, style, out, cli.command).await
    })
}
