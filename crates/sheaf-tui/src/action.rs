//! The vocabulary between the outside world and [`crate::update`]: [`Action`]s come in (keys
//! already translated, mouse, resizes, and the answers of effects and of the event feed),
//! [`Effect`]s go out (API calls, run by [`crate::effects`], whose answers come back as
//! actions). Both are plain data, so `update` stays pure and testable.

use sheaf_core::{CollectionId, ItemId, MetadataPatch, OpId};
use sheaf_proto::requests::{BatchAddBody, EntryListParams};
use sheaf_proto::resources::{Collection, Entry, Event, Item, Op, RuleRun};
use sheaf_proto::responses::{BatchResponse, EntryPage, RemoveResponse, UndoResponse};

use crate::pages::PageAt;
use crate::preview::{Preview, PreviewKey};

/// What a key can be bound to (the `[tui.keys]` names are these in `snake_case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    /// Cursor one row down.
    Down,
    /// Cursor one row up.
    Up,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// One screen down.
    PageDown,
    /// One screen up.
    PageUp,
    /// Focus the pane to the left.
    Left,
    /// Focus the pane to the right.
    Right,
    /// Focus the next pane.
    NextPane,
    /// Open the collection under the cursor (focus its entries); on an entry, open its file.
    Open,
    /// Open the file under the cursor with the opener, detached.
    OpenFile,
    /// Edit the file under the cursor in `$VISUAL`/`$EDITOR`, the TUI suspended meanwhile.
    Edit,
    /// Name entries by their path in the folder, or by their display name.
    ToggleNames,
    /// Show or hide the operation log.
    History,
    /// Start typing a filter.
    Filter,
    /// Mark or unmark the row under the cursor.
    Mark,
    /// Start a range mark here, or mark from its start to here.
    RangeMark,
    /// Mark everything matching the filter (the whole collection without one).
    MarkAll,
    /// Move the marked items to a collection chosen in the picker.
    Move,
    /// Link (copy) the marked items to a collection chosen in the picker.
    Link,
    /// Remove the marked items from this collection (soft, undoable).
    Remove,
    /// Undo the last operation.
    Undo,
    /// Create a collection.
    NewCollection,
    /// Rename the collection or entry under the cursor.
    Rename,
    /// Set or delete a metadata key of the entry under the cursor.
    EditMetadata,
    /// Next sort order of the entries.
    Sort,
    /// Re-read everything from the daemon.
    Refresh,
    /// Close an overlay, clear the filter, or clear the marks (in that order).
    Escape,
    /// Show or hide the help.
    Help,
    /// Leave.
    Quit,
}

/// Keys while text is being typed (filter, prompts, the picker) or a question is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A character typed.
    Char(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Clear the whole line.
    Clear,
    /// Accept.
    Enter,
    /// Cancel.
    Esc,
    /// Previous choice (picker).
    Up,
    /// Next choice (picker).
    Down,
}

/// Where the pointer acted, in terminal cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mouse {
    /// A left click.
    Click {
        /// Terminal column, 0 at the left edge.
        column: u16,
        /// Terminal row, 0 at the top.
        row: u16,
    },
    /// The wheel turned.
    Scroll {
        /// Terminal column, 0 at the left edge.
        column: u16,
        /// Terminal row, 0 at the top.
        row: u16,
        /// Towards the end.
        down: bool,
    },
}

/// A failed call, as the UI needs it: the API code if there is one, and the daemon's (or
/// the transport's) sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `COLLECTION_ARCHIVED`, …; `None` when the daemon did not answer with the envelope.
    pub code: Option<String>,
    /// The sentence.
    pub message: String,
    /// The daemon could not be reached at all.
    pub unreachable: bool,
}

/// What a batch call did: the verb tells the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `mode: move`.
    Move,
    /// `mode: link`.
    Link,
    /// A `select` move into `default`: "remove everything matching".
    RemoveAll,
}

/// The answer of an operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Done {
    /// A batch add or move.
    Batch(Verb, BatchResponse),
    /// A batch remove.
    Removed(RemoveResponse),
    /// An undo.
    Undone(UndoResponse),
    /// Nothing in the op log to undo.
    NothingToUndo,
    /// A collection was created.
    Created(Collection),
    /// A collection was renamed.
    Renamed(Collection),
    /// An entry was renamed or its metadata changed.
    EntryChanged(Entry),
    /// An unfiled item's metadata changed.
    ItemChanged(Item),
}

/// Everything `update` reacts to.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The first action: load what the screen shows.
    Start,
    /// A bound key.
    Command(Command),
    /// A key while typing or answering.
    Input(Input),
    /// The pointer.
    Mouse(Mouse),
    /// The terminal's new size.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// The collections (live and trashed), as listed.
    Collections(Result<Vec<Collection>, Failure>),
    /// A page of entries.
    Page {
        /// The listing it belongs to (see [`crate::pages::Pages::generation`]).
        generation: u64,
        /// Which page.
        page: PageAt,
        /// The page, or why not.
        result: Result<EntryPage, Failure>,
    },
    /// The item under the cursor, with its collections.
    Item(ItemId, Result<Item, Failure>),
    /// An operation finished.
    Op {
        /// What it was (`move`, `remove`, …), for the message.
        what: &'static str,
        /// Its answer.
        result: Result<Done, Failure>,
    },
    /// Events from the feed, in `seq` order (coalesced: one action per burst).
    Events(Vec<Event>),
    /// The event feed is connected (again).
    Connected,
    /// A preview was read.
    Preview(PreviewKey, Preview),
    /// The opener was started, or it failed (to start, or with a non-zero exit).
    Opened {
        /// The file.
        path: String,
        /// Why not, in plain words.
        result: Result<(), String>,
    },
    /// The editor ended and the terminal is back.
    Edited {
        /// The file.
        path: String,
        /// Why not, in plain words.
        result: Result<(), String>,
    },
    /// A page of the operation log.
    History(Result<HistoryPage, Failure>),
    /// A second passed (the main loop's clock): running operations show their time, and
    /// the daemon's long work is asked about while there is any.
    Tick,
    /// The daemon's long work now: one line per scanning watch or applying rule.
    Progress(Result<Vec<String>, Failure>),
    /// The event feed is gone; it is retried after a backoff.
    Disconnected {
        /// Retries so far (1 on the first failure).
        attempt: u32,
        /// Why, in plain words.
        reason: String,
    },
}

/// A page of the operation log, newest first, and (with the first page) the rules' latest
/// runs.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryPage {
    /// Whether this continues the pages shown (`false`: the first page).
    pub more_of: bool,
    /// The ops.
    pub ops: Vec<Op>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
    /// The rules' latest runs with the rule's id, newest first (first page only).
    pub runs: Vec<RuleRun>,
}

/// Calls to make, outside `update`; each answers with one action.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// List the collections → [`Action::Collections`].
    LoadCollections,
    /// Fetch one page of entries → [`Action::Page`].
    FetchPage {
        /// The collection to list (`default`: the unfiled items).
        collection: CollectionId,
        /// The listing's generation, echoed back.
        generation: u64,
        /// Which page, echoed back.
        page: PageAt,
        /// Query, cursor included.
        params: EntryListParams,
    },
    /// Read an item → [`Action::Item`].
    LoadItem(ItemId),
    /// A batch add or move → [`Action::Op`].
    Batch {
        /// The collection the items go to; `default` for a remove-all, a move out of the open one.
        target: CollectionId,
        /// The body: items or select, mode, from.
        body: BatchAddBody,
        /// For the summary.
        verb: Verb,
    },
    /// A batch remove → [`Action::Op`].
    Remove {
        /// The open collection, which the items leave (never `default`).
        collection: CollectionId,
        /// Item ids.
        items: Vec<ItemId>,
    },
    /// Read a file's preview, off the UI thread → [`Action::Preview`].
    Preview {
        /// What it is read for.
        key: PreviewKey,
        /// The file.
        path: String,
    },
    /// Start `program` with the path appended, detached → [`Action::Opened`].
    OpenFile {
        /// The opener and its arguments.
        program: Vec<String>,
        /// The file.
        path: String,
    },
    /// Suspend the TUI and run the editor on the file; done by the main loop, which owns
    /// the terminal → [`Action::Edited`].
    Edit {
        /// The file.
        path: String,
    },
    /// Read a page of the op log, newest first (`cursor: None`: the first page, with the
    /// rules' runs) → [`Action::History`].
    LoadHistory {
        /// From the previous page.
        cursor: Option<String>,
    },
    /// Ask what long work the daemon is doing (watches scanning, rules applying to the
    /// existing items) → [`Action::Progress`].
    LoadProgress,
    /// Undo this op, or the newest one not undone yet → [`Action::Op`].
    Undo(Option<OpId>),
    /// Create a collection → [`Action::Op`].
    CreateCollection(String),
    /// Rename a collection → [`Action::Op`].
    RenameCollection {
        /// The collection to rename (never `default`, which cannot be renamed).
        id: CollectionId,
        /// Its new display name.
        name: String,
    },
    /// Rename an entry → [`Action::Op`].
    RenameEntry {
        /// The open collection, whose entry is renamed (never `default`).
        collection: CollectionId,
        /// The item under the cursor: the entry's item.
        item: ItemId,
        /// The new display name.
        name: String,
    },
    /// Patch an entry's metadata (an unfiled item's, in `default`) → [`Action::Op`].
    PatchMetadata {
        /// The open collection; in `default` the item's own metadata is patched.
        collection: CollectionId,
        /// The item under the cursor.
        item: ItemId,
        /// Keys to set; `None` deletes.
        patch: MetadataPatch,
    },
}
