//! `sheafd [--config FILE] [--socket PATH] [--database PATH]`: the daemon in the
//! foreground. SIGTERM or Ctrl-C drains in-flight requests and exits 0.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use sheaf_daemon::Config;
use tokio::signal::unix::{Signal, SignalKind, signal};

const AFTER_HELP: &str = "\
Signals: SIGTERM (or Ctrl-C) drains in-flight requests, commits and exits 0; SIGHUP re-reads \
the config file (watches added or removed, read-only uids, rate limit, API keys) and keeps \
the running config if the file is invalid.

systemd: with NOTIFY_SOCKET set, sheafd says READY=1 once the store is open and the socket \
answers, reports the start-up scan in STATUS= lines, pings WATCHDOG=1 at half of \
WATCHDOG_USEC and says STOPPING=1 on shutdown. A listening socket passed by socket \
activation (LISTEN_FDS, LISTEN_PID) is served instead of binding one. `sheaf service \
install` writes the user units.

Logs go to stderr (journald keeps them under systemd); RUST_LOG filters them, e.g. \
RUST_LOG=info,sheaf_daemon=debug.

Files: $XDG_CONFIG_HOME/sheaf/config.toml (annotated example: config/sheaf.example.toml), \
$XDG_DATA_HOME/sheaf/sheaf.redb, $XDG_RUNTIME_DIR/sheaf/sheafd.sock.";

/// sheaf's daemon: keeps collections of files and serves them over a Unix socket.
#[derive(Debug, Parser)]
#[command(name = "sheafd", version, after_long_help = AFTER_HELP)]
struct Args {
    /// The config file (default: $`XDG_CONFIG_HOME/sheaf/config.toml`).
    #[arg(long, env = "SHEAF_CONFIG")]
    config: Option<PathBuf>,
    /// The Unix socket (default: $`XDG_RUNTIME_DIR/sheaf/sheafd.sock`).
    #[arg(long, env = "SHEAF_SOCKET")]
    socket: Option<PathBuf>,
    /// The database (default: $`XDG_DATA_HOME/sheaf/sheaf.redb`).
    #[arg(long, env = "SHEAF_DATABASE")]
    database: Option<PathBuf>,
    /// Print the config line for an API key of the TCP listener and exit.
    #[arg(long, value_name = "KEY")]
    hash_key: Option<String>,
    /// Check the config file and exit: 0 and where it was read from, or 1 and the error.
    #[arg(long)]
    check_config: bool,
    /// Print this manual page (roff) and exit.
    #[arg(long, hide = true)]
    man: bool,
}

/// Listens for `kind` from now on; a signal that cannot be listened for is logged and
/// never arrives.
fn listen(kind: SignalKind, name: &str) -> Option<Signal> {
    match signal(kind) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for {name}");
            None
        }
    }
}

/// The next delivery of a signal [`listen`] installed, or never.
async fn received(signal: Option<Signal>) {
    match signal {
        Some(mut s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// The signals sheafd handles, listened for from the moment this is built: a signal that
/// comes before the daemon polls for it (say right after `READY=1`) waits in its listener
/// instead of taking the default action, which would kill the process. Build it before
/// the store opens.
struct Signals {
    term: Option<Signal>,
    int: Option<Signal>,
    hup: Option<Signal>,
}

impl Signals {
    /// Installs the listeners; needs the runtime.
    fn install() -> Self {
        Self {
            term: listen(SignalKind::terminate(), "SIGTERM"),
            int: listen(SignalKind::interrupt(), "SIGINT (Ctrl-C)"),
            hup: listen(SignalKind::hangup(), "SIGHUP; reloads need a restart"),
        }
    }

    /// What the daemon is given: the shutdown (the first SIGTERM or SIGINT) and the
    /// reloads (a message per SIGHUP; one already queued covers those that come meanwhile).
    fn into_parts(
        self,
    ) -> (
        impl Future<Output = ()> + Send + 'static,
        tokio::sync::mpsc::Receiver<()>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        if let Some(mut hup) = self.hup {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let _ = tx.try_send(());
                }
            });
        }
        let (term, int) = (self.term, self.int);
        let shutdown = async move {
            tokio::select! {
                () = received(term) => {},
                () = received(int) => {},
            }
        };
        (shutdown, rx)
    }
}

/// glibc's malloc, tuned for a long-running service, set before the process starts (glibc
/// reads these once): at most two arenas instead of up to eight per core — each thread
/// that allocates would otherwise keep its own, and memory freed in one arena is not
/// reused by another — and free memory at the top of a heap returned to the system above
/// 1 MiB. Together they cut sheafd's resident set after a 100 000-file reconcile from
/// about 143 MiB to 78 MiB (docs/decisions.md). Values the caller set are kept.
const MALLOC_TUNING: [(&str, &str); 2] = [
    ("MALLOC_ARENA_MAX", "2"),
    ("MALLOC_TRIM_THRESHOLD_", "1048576"),
];

/// Starts this same program again with [`MALLOC_TUNING`] in its environment, unless it is
/// there already: `exec` keeps the pid, the arguments and the open descriptors (a socket
/// systemd passed, `NOTIFY_SOCKET`), so nobody outside can tell. If it cannot, sheafd goes
/// on with glibc's defaults.
fn with_malloc_tuning() {
    use std::os::unix::process::CommandExt;
    if MALLOC_TUNING
        .iter()
        .any(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    // The binary's own path, so that the process keeps its name (`ps`, `systemctl status`).
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        again.arg0(arg0);
    }
    again.args(args).envs(MALLOC_TUNING);
    let error = again.exec();
    eprintln!("sheafd: running with glibc's default malloc settings ({error})");
}

fn main() -> ExitCode {
    with_malloc_tuning();
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,sheaf_daemon=info,sheafd=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(key) = &args.hash_key {
        println!(
            "hash = \"blake3:{}\"",
            blake3::hash(key.as_bytes()).to_hex()
        );
        return ExitCode::SUCCESS;
    }
    if args.man {
        let mut page = Vec::new();
        return match clap_mangen::Man::new(<Args as clap::CommandFactory>::command())
            .render(&mut page)
            .and_then(|()| std::io::Write::write_all(&mut std::io::stdout(), &page))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sheafd: cannot write the man page: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.check_config {
        return match Config::load(args.config.as_deref(), args.socket, args.database) {
            Ok(c) => {
                match &c.source {
                    Some(p) => println!(
                        "config {} is valid ({} {})",
                        p.display(),
                        c.watches.len(),
                        if c.watches.len() == 1 {
                            "watch"
                        } else {
                            "watches"
                        }
                    ),
                    None => println!("no config file; the defaults apply"),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sheafd: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match start(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sheafd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref(), args.socket, args.database)?;
    // Before the runtime's threads exist: this clears LISTEN_FDS/LISTEN_PID.
    let passed = sheaf_daemon::passed_listener()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (shutdown, reload) = Signals::install().into_parts();
        sheaf_daemon::serve(config, shutdown, reload, passed).await
    })?;
    Ok(())
}
