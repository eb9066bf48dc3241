//! The command line, as clap derives it. Doc comments here are `--help` text, written
//! for the terminal rather than for rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sheaf_core::Kind;

use crate::query::QueryFlags;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  unexpected failure (a bug, or an answer sheaf does not understand)
  2  usage error
  3  sheafd unreachable: not running (and SHEAF_NO_AUTOSTART=1), could not be started,
     hung (no answer within the timeout), or speaks another API version
  4  not found: COLLECTION_NOT_FOUND, COLLECTION_TRASHED, ITEMS_NOT_FOUND, ENTRY_NOT_FOUND,
     WATCH_NOT_FOUND, OP_NOT_FOUND, nothing to undo, a folder that does not exist
  5  conflict: ALREADY_IN_COLLECTION, UNIQUE_ID_CONFLICT, COLLECTION_EXISTS,
     COLLECTION_ARCHIVED, COLLECTION_IS_SMART, NOT_IN_SOURCE, ENTRY_MANAGED_BY_FOLDER,
     NO_TARGET_FOLDER, UNDO_CONFLICT
  6  invalid request: VALIDATION_ERROR, INVALID_ID, BATCH_SIZE_EXCEEDED, ITEM_NOT_ALLOWED,
     ITEM_DELETED, body too large, not JSON
  7  permission: INVALID_API_KEY, INSUFFICIENT_PERMISSIONS
  8  busy: RATE_LIMITED or SHUTTING_DOWN (also: `events` ended by a daemon shutdown, `open`
     still scanning at its --timeout); retry later
  9  the daemon's storage failed: STORAGE_ERROR, INTERNAL (see its log)
Errors are one line on stderr, `sheaf: CODE: message`, with details below when useful.

Environment:
  SHEAF_SOCKET          the socket (like --socket)
  SHEAF_NO_AUTOSTART=1  never start sheafd; exit 3 when it is not running
  NO_COLOR              no colour, even on a terminal";

const ADD_HELP: &str = "\
Each ITEM is an item id (doc_01J…) or the path of a file; relative paths are taken from \
the current directory. Files are registered first (idempotent), then added by id. `-` reads \
ids and paths from stdin, one per line. Duplicates count once.

Input larger than the daemon's max_batch (see `sheaf status`) is sent in several batches \
and one combined summary is printed. Each batch is atomic — all of its items are applied or \
none — but a multi-batch add is not atomic as a whole: if batch 3 is refused, batches 1 and \
2 stay applied, and the error says which ops to undo.";

const WATCH_ADD_HELP: &str = "\
PATH is made absolute and canonical (symlinks resolved) before it is sent. The folder's \
matching files become entries of the collection (source folder:<wid>) and stay in step \
with the disk: a file that appears is added, one that goes is removed (soft), a rename \
keeps the item. Version-control folders and temporary files are ignored, and so is \
whatever .gitignore-style ignore files say. Adding a folder already watched into the same \
collection is not an error: the existing watch is answered, with these settings.";

const OPEN_HELP: &str = "\
The one-command start: makes sure sheafd runs, watches DIR (unless it is watched already: \
then that watch and its collection are used; with --collection, only a watch into that \
collection counts), waits until the first scan is done, and shows the collection and its \
first entries.

The default collection id is the folder's name made a slug: lower case, each run of \
characters outside a-z 0-9 _ . - becomes one `_`, leading and trailing separators are \
dropped, at most 128 characters; a name with nothing left becomes `folder`, and `default` \
(reserved) becomes `default_folder`.

With --json: one object {watch, created, collection, entries, next_cursor}.";

const SMART_HELP: &str = "\
A smart collection's members are exactly the live items its query matches (SPEC §7.1), \
kept by sheafd as files come, go and change; it fills in the background (`filling` until \
then) and refuses hand changes. A collection is smart from its creation on: `edit` changes \
a smart collection's query, it does not make a hand-kept one smart.

--query gives the whole query as JSON; each flag sets one field, every field must hold, \
and the values of a repeated flag are alternatives. A flag replaces its own field of the \
query it is set on (--min-size only size.min, --meta k=v only that key): of --query when \
given, else on `edit` of the collection's current query, so `edit ID --max-size 1G` keeps \
the rest. To drop a field, give the whole query with --query.

  sheaf collections create big_pdfs --kind document --type application/pdf --min-size 10M
  sheaf collections create todo --in inbox --not-in done
  sheaf collections create papers --path '~/Papers/**' --meta reviewed=false
  sheaf collections edit big_pdfs --min-size 50M
  sheaf collections edit big_pdfs --query '{\"kind\": \"document\"}'";

const DUPS_HELP: &str = "\
Each group is the live items whose content hash (BLAKE3) is the same: copies of the same \
bytes. WASTED is what all but one copy take. Hashes are computed by sheafd in the \
background once the watches are quiet (content_hashes in its config), so files added a \
moment ago may not be grouped yet.";

/// sheaf keeps collections of files; this talks to its daemon, sheafd (started for you
/// when it is not running).
#[derive(Debug, Parser)]
#[command(name = "sheaf", version, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    /// The daemon's socket [default: $XDG_RUNTIME_DIR/sheaf/sheafd.sock]
    #[arg(long, global = true, env = "SHEAF_SOCKET", value_name = "PATH")]
    pub(crate) socket: Option<PathBuf>,
    /// Machine output: the API's JSON; streams (ls, events) print one object per line
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The database a sheafd started by sheaf opens (passed as its --database)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) database: Option<PathBuf>,
    /// The config file a sheafd started by sheaf reads (passed as its --config)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The daemon: version, store, limits, watches
    Status,
    /// List and manage collections (default: ls)
    Collections {
        #[command(subcommand)]
        action: Option<CollectionsCommand>,
    },
    /// Add items (ids or file paths) to a collection, or move them there
    #[command(after_help = ADD_HELP)]
    Add(AddArgs),
    /// List a collection's entries, page by page
    Ls(LsArgs),
    /// Remove items from a collection (soft; undoable)
    Rm(RmArgs),
    /// Print the change feed as it happens
    Events {
        /// Start after this seq (default: only new events)
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
    },
    /// Folder watches: list, add, remove, rescan (default: ls)
    Watch {
        #[command(subcommand)]
        action: Option<WatchCommand>,
    },
    /// Watch a folder into a collection named after it, wait for the scan, show the collection
    #[command(after_help = OPEN_HELP)]
    Open(OpenArgs),
    /// The terminal UI (also what `sheaf` alone starts on a terminal); `?` lists its keys
    Tui(TuiArgs),
    /// Groups of duplicate files (same content hash), the most wasted space first
    #[command(after_help = DUPS_HELP)]
    Dups {
        /// Show at most this many groups (1 to 1000)
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
    },
    /// Undo an operation (default: the newest one not yet undone)
    Undo {
        /// The op id (op_…), as `add`, `rm` and `undo` print it
        op: Option<String>,
    },
    /// Rules: what happens to matching items, from now on or to those that exist (default: ls)
    Rules {
        #[command(subcommand)]
        action: Option<RulesCommand>,
    },
    /// Print a shell completion script
    Completions {
        /// The shell the script is for; save it where that shell loads completions
        shell: clap_complete::Shell,
    },
    /// Run sheafd as a systemd user service: install, uninstall, status
    Service {
        #[command(subcommand)]
        action: ServiceCommand,
    },
    /// Check the socket, the daemon, the database, inotify limits and versions; say what to fix
    Doctor,
    /// Write the man pages into DIR (sheaf.1 and one per command), or print sheaf.1
    Man {
        /// The folder to write them into, e.g. ~/.local/share/man/man1
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Write sheafd.service and sheafd.socket into ~/.config/systemd/user (ExecStart names
    /// the sheafd found beside sheaf or on PATH) and print the systemctl commands to run
    Install {
        /// The sheafd binary the service runs
        #[arg(long, value_name = "PATH")]
        sheafd: Option<PathBuf>,
    },
    /// Remove the units (and their enable links); print the systemctl commands to run
    Uninstall,
    /// Whether the units are installed, enabled and active, and the binary they start
    Status,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WatchCommand {
    /// List the watches: folder, collection, state, files, last full scan
    Ls,
    /// Watch a folder: its files become (and stay) members of a collection
    #[command(after_help = WATCH_ADD_HELP)]
    Add(WatchAddArgs),
    /// Stop watching a folder; its entries are removed (soft) unless --keep-entries
    Rm {
        /// The watch id (w_…), as `sheaf watch` lists it
        wid: String,
        /// Keep the folder's entries in the collection, as manual entries
        #[arg(long)]
        keep_entries: bool,
    },
    /// Reconcile a watched folder now by a full walk (in the background)
    Rescan {
        /// The watch id (w_…), as `sheaf watch` lists it
        wid: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// List the rules: name, events, actions, origin, where each stands
    Ls,
    /// Define a rule; it acts on what happens from now on (`apply` for what exists)
    #[command(after_help = RULES_ADD_HELP)]
    Add(Box<RuleAddArgs>),
    /// Delete a rule (one of the config file is removed there)
    Rm {
        /// The rule's name or id (r_…)
        rule: String,
    },
    /// Which existing items the rule matches and what it would do to them; changes nothing
    Test {
        /// The rule's name or id (r_…)
        rule: String,
        /// List at most this many items (all are counted)
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Run the rule over the existing items that match, showing progress
    Apply {
        /// The rule's name or id (r_…)
        rule: String,
        /// Start it and return; `sheaf rules` shows its progress
        #[arg(long)]
        no_wait: bool,
    },
    /// A rule's recent runs, newest first
    Runs {
        /// The rule's name or id (r_…)
        rule: String,
        /// At most this many
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RuleAddArgs {
    /// Its unique name
    pub(crate) name: String,
    /// The items it acts on: a query as JSON (SPEC §7.1), e.g. `{"kind": ["document"]}`
    #[arg(long, value_name = "JSON")]
    pub(crate) query: String,
    /// An event it acts on (repeatable) [default: item.created]
    #[arg(long, value_name = "EVENT")]
    pub(crate) on: Vec<String>,
    /// Link the item into this collection (repeatable)
    #[arg(long, value_name = "COLLECTION")]
    pub(crate) link: Vec<String>,
    /// Merge this into the item's metadata, as JSON: '{"inbox": true}'
    #[arg(long, value_name = "JSON")]
    pub(crate) metadata: Option<String>,
    /// Move the file here, a template: '~/Papers/{yyyy}/'
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) relocate: Option<String>,
    /// POST the event to this http:// URL
    #[arg(long, value_name = "URL")]
    pub(crate) webhook: Option<String>,
    /// A header for the webhook, 'Name: value' (repeatable)
    #[arg(long, value_name = "HEADER", requires = "webhook")]
    pub(crate) header: Vec<String>,
    /// How long its program or webhook may take (30s, 10m) [default: 10m]
    #[arg(long, value_name = "INTERVAL")]
    pub(crate) timeout: Option<String>,
    /// The program to run and its arguments, after `--`; no shell ({path} {id} {name} …)
    #[arg(last = true, value_name = "PROGRAM")]
    pub(crate) run: Vec<String>,
}

const RULES_ADD_HELP: &str = "Examples:
  sheaf rules add papers --query '{\"kind\": [\"document\"], \"path\": [\"~/Downloads/**\"]}' \\
      --link papers --metadata '{\"inbox\": true}' -- ocrmypdf --skip-text {path} {path}
  sheaf rules test papers       # what it would do to the files already there
  sheaf rules apply papers      # do it

Templates: {path} {dir} {name} {stem} {ext} {id} {collection} {yyyy} {mm} {dd}.
Events: item.created item.updated item.deleted item.restored entry.added entry.updated
entry.removed.";

#[derive(Debug, Args)]
pub(crate) struct WatchAddArgs {
    /// The folder; relative paths are taken from the current directory
    pub(crate) path: PathBuf,
    /// The collection its files go to
    #[arg(long, short)]
    pub(crate) collection: String,
    /// Refuse (COLLECTION_NOT_FOUND) instead of creating a collection that does not exist
    #[arg(long)]
    pub(crate) no_create: bool,
    /// Only files matching this glob (repeatable: any of them); `*.pdf` matches at any depth
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,
    /// Leave out files and folders matching this glob (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Rescan at this interval (30s, 5m, 1h, 500ms) instead of following live events
    #[arg(long, value_name = "INTERVAL", value_parser = interval)]
    pub(crate) poll: Option<Interval>,
    /// Only the folder's own files, not its sub-folders
    #[arg(long)]
    pub(crate) no_recursive: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TuiArgs {
    /// The collection to open [default: the first one, default]
    pub(crate) collection: Option<String>,
    /// The config file whose [tui] table is read (the global --config)
    #[arg(skip)]
    pub(crate) config_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The folder [default: the current directory]
    pub(crate) dir: Option<PathBuf>,
    /// The collection [default: a slug of the folder's name, e.g. "Tax Returns" → tax_returns]
    #[arg(long, short)]
    pub(crate) collection: Option<String>,
    /// How long to wait for the folder's first scan before giving up (exit 8)
    #[arg(long, value_name = "INTERVAL", value_parser = interval, default_value = "2m")]
    pub(crate) timeout: Interval,
    /// The config file whose [tui] table the TUI reads (the global --config)
    #[arg(skip)]
    pub(crate) config_file: Option<PathBuf>,
}

/// An interval as `--poll` and `--timeout` take it: the text, checked with the daemon's
/// own parser, and its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Interval {
    /// As given, trimmed (`"30s"`): what is sent to the daemon.
    pub(crate) text: String,
    /// Its length.
    pub(crate) duration: std::time::Duration,
}

/// Parses `30s`, `500ms`, `5m`, `1h` as the API does, so a bad interval is a usage error
/// before anything is sent.
pub(crate) fn interval(text: &str) -> Result<Interval, String> {
    let ms = sheaf_core::parse_interval(text).map_err(|e| e.to_string())?;
    Ok(Interval {
        text: text.trim().to_owned(),
        duration: std::time::Duration::from_millis(ms),
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum CollectionsCommand {
    /// List collections, `default` (unfiled items) first
    Ls {
        /// Only archived collections
        #[arg(long)]
        archived: bool,
        /// List the trash instead
        #[arg(long)]
        trashed: bool,
    },
    /// Create a collection; with --query or a query flag, a smart one
    #[command(after_help = SMART_HELP)]
    Create {
        /// Its id: a slug like research_papers
        id: String,
        #[command(flatten)]
        fields: CollectionFields,
        // Boxed: most commands carry no query, and the flags are large.
        #[command(flatten)]
        query: Box<QueryFlags>,
    },
    /// Show one collection
    Show {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
    /// Change a collection's name, description or accept list, or a smart one's query
    #[command(after_help = SMART_HELP)]
    Edit {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
        #[command(flatten)]
        fields: CollectionFields,
        /// Accept every kind again
        #[arg(long, conflicts_with = "accept")]
        accept_all: bool,
        // Boxed: most commands carry no query, and the flags are large.
        #[command(flatten)]
        query: Box<QueryFlags>,
    },
    /// Make a collection read-only
    Archive {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
    /// Make an archived collection writable again
    Unarchive {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
    /// Move a collection to the trash
    Trash {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
    /// Take a collection out of the trash
    Restore {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
    /// Delete a trashed collection and its entries for good
    Purge {
        /// The collection's id, as `sheaf collections` lists it
        id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CollectionFields {
    /// Display name, 1 to 256 characters (a new collection's defaults to its id)
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Free text that `collections show` prints, at most 4096 bytes
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Only accept these kinds or MIME patterns (image, application/pdf, image/*);
    /// repeat or separate with commas
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub(crate) accept: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The target collection
    pub(crate) collection: String,
    /// Item ids or file paths; `-` reads them from stdin, one per line
    #[arg(required = true, value_name = "ITEM|PATH")]
    pub(crate) items: Vec<String>,
    /// Move: add here and take out of the source (--from, else every other collection)
    #[arg(long = "move")]
    pub(crate) move_items: bool,
    /// With --move: the source collection
    #[arg(long, requires = "move_items", value_name = "COLLECTION")]
    pub(crate) from: Option<String>,
    /// With --move: move folder-owned items' files on disk into the target's folder
    #[arg(long, requires = "move_items")]
    pub(crate) relocate: bool,
    /// Create the collection if it does not exist
    #[arg(long)]
    pub(crate) create: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// The collection (`default`: items in no collection)
    pub(crate) collection: String,
    /// Include removed entries
    #[arg(long)]
    pub(crate) deleted: bool,
    /// Only this kind
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    /// Only entries whose name, unique id or path contains TEXT (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Option<String>,
    /// Print item ids only, one per line (for `sheaf add OTHER -`)
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// The collection to remove them from (`default` has no entries to remove)
    pub(crate) collection: String,
    /// Item ids or file paths; `-` reads them from stdin, one per line
    #[arg(required = true, value_name = "ITEM|PATH")]
    pub(crate) items: Vec<String>,
}

/// Item kinds, as flags take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    Document,
    Image,
    Video,
    Audio,
    Text,
    Archive,
    Other,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Document => Kind::Document,
            KindArg::Image => Kind::Image,
            KindArg::Video => Kind::Video,
            KindArg::Audio => Kind::Audio,
            KindArg::Text => Kind::Text,
            KindArg::Archive => Kind::Archive,
            KindArg::Other => Kind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_kind_flag_names_a_core_kind() {
        for k in KindArg::value_variants() {
            let name = k.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(Kind::from(*k).as_str(), name);
        }
    }

    #[test]
    fn from_needs_move() {
        let err = Cli::try_parse_from(["sheaf", "add", "c", "x", "--from", "inbox"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        Cli::try_parse_from(["sheaf", "add", "c", "x", "--move", "--from", "inbox"]).unwrap();
    }

    #[test]
    fn intervals_are_checked_like_the_daemon_does_and_keep_their_text() {
        let i = interval(" 30s ").unwrap();
        assert_eq!(i.text, "30s");
        assert_eq!(i.duration, std::time::Duration::from_secs(30));
        assert_eq!(
            interval("500ms").unwrap().duration,
            std::time::Duration::from_millis(500)
        );
        assert_eq!(
            interval("2m").unwrap().duration,
            std::time::Duration::from_secs(120)
        );
        assert_eq!(
            interval("1h").unwrap().duration,
            std::time::Duration::from_secs(3600)
        );
        for bad in ["", "30", "s", "30 s", "1.5s", "-1s", "30sec", "0s"] {
            assert!(interval(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_poll_interval_is_a_usage_error() {
        let err = Cli::try_parse_from(["sheaf", "watch", "add", "/d", "-c", "c", "--poll", "soon"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("30s"), "{err}");
    }

    #[test]
    fn watch_add_takes_repeated_globs_and_its_flags() {
        let cli = Cli::try_parse_from([
            "sheaf",
            "watch",
            "add",
            "docs",
            "--collection",
            "papers",
            "--include",
            "*.pdf",
            "--include",
            "*.md",
            "--exclude",
            "drafts/**",
            "--no-create",
            "--no-recursive",
            "--poll",
            "30s",
        ])
        .unwrap();
        let Command::Watch {
            action: Some(WatchCommand::Add(a)),
        } = cli.command
        else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(a.include, ["*.pdf", "*.md"]);
        assert_eq!(a.exclude, ["drafts/**"]);
        assert!(a.no_create && a.no_recursive);
        assert_eq!(a.poll.unwrap().text, "30s");
    }

    #[test]
    fn watch_without_a_subcommand_lists_and_open_defaults_its_timeout() {
        let cli = Cli::try_parse_from(["sheaf", "watch"]).unwrap();
        assert!(matches!(cli.command, Command::Watch { action: None }));
        let cli = Cli::try_parse_from(["sheaf", "open"]).unwrap();
        let Command::Open(o) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(o.dir, None);
        assert_eq!(o.timeout.duration, std::time::Duration::from_secs(120));
    }

    #[test]
    fn the_help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        for code in [
            "3  sheafd unreachable",
            "4  not found",
            "5  conflict",
            "9  the daemon",
        ] {
            assert!(help.contains(code), "{code} missing from --help");
        }
    }
}
