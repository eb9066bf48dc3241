//! The model: everything the screen shows and everything `update` needs to decide, and
//! nothing else (no client, no terminal). The view reads it; only `update` writes it.

use sheaf_core::{CollectionId, ItemId, OpId};
use sheaf_proto::requests::EntrySort;
use sheaf_proto::resources::{Collection, Entry, Item};

use crate::config::Config;
use crate::keys::KeyMode;
use crate::marks::Marks;
use crate::pages::Pages;

/// The three panes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// The left pane: the collections, `default` first.
    Collections,
    /// The open collection's entries.
    Entries,
    /// The entry under the cursor.
    Details,
}

/// The event feed's state, as the status line shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Not yet connected.
    Connecting,
    /// Following the feed.
    Connected,
    /// The daemon went away; retrying.
    Reconnecting {
        /// Retries so far.
        attempt: u32,
        /// Why it went away.
        reason: String,
    },
}

/// The last thing worth telling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// An operation's summary or a note.
    Info(String),
    /// A refusal or a failure, in plain words.
    Error(String),
}

/// Which batch the picker chooses a target for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickFor {
    /// `m`.
    Move,
    /// `c`.
    Link,
}

/// The fuzzy collection picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picker {
    /// Move or link.
    pub purpose: PickFor,
    /// What was typed.
    pub query: String,
    /// Matching collections (indices into [`App::collections`]), best first.
    pub matches: Vec<usize>,
    /// The highlighted row: a match, or `matches.len()` for the create row.
    pub cursor: usize,
    /// The create row, when the query names no collection: the id to create, or why the
    /// query is not one.
    pub create: Option<Result<CollectionId, String>>,
}

impl Picker {
    /// Rows shown: the matches and the create row.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.matches.len() + usize::from(self.create.is_some())
    }
}

/// The operation log as `H` shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The ops read so far, newest first.
    pub ops: Vec<sheaf_proto::resources::Op>,
    /// The next page's cursor; `None` once the oldest op is here.
    pub next_cursor: Option<String>,
    /// A page is on its way.
    pub loading: bool,
    /// The first page has arrived.
    pub loaded: bool,
    /// The selected op (an index into `ops`).
    pub cursor: usize,
    /// The rules' latest runs, newest first.
    pub runs: Vec<sheaf_proto::resources::RuleRun>,
}

/// What a prompt's line is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptFor {
    /// The id of a new collection.
    NewCollection,
    /// A collection's new name.
    RenameCollection(CollectionId),
    /// An entry's new display name.
    RenameEntry(CollectionId, ItemId),
    /// `key=value` for an entry's metadata.
    Metadata(CollectionId, ItemId),
}

/// A one-line text prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What the line is for.
    pub purpose: PromptFor,
    /// The text so far.
    pub input: String,
}

/// A question before a batch runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    /// What the box asks, naming the operation, its items and the collection; y or Enter runs
    /// `effect`, n or Esc drops it.
    pub question: String,
    /// What runs on yes.
    pub effect: crate::action::Effect,
}

/// What covers the panes.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// The keys.
    Help,
    /// Choose a target collection.
    Picker(Picker),
    /// Type a line.
    Prompt(Prompt),
    /// Yes or no.
    Confirm(Confirm),
    /// The operation log.
    History(History),
}

/// The daemon's long work (watches scanning, rules applying to the existing items), asked
/// about while there are signs of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// One line per piece of work.
    pub lines: Vec<String>,
    /// A read is on its way.
    pub asked: bool,
    /// Events arrived since the last tick: the daemon may be busy.
    pub activity: bool,
}

/// The whole model.
#[derive(Clone, Debug)]
pub struct App {
    /// Settings and keys.
    pub config: Config,
    /// The daemon's `max_batch`: the most items one call may name.
    pub max_batch: usize,
    /// Live and trashed collections, `default` first, as last listed.
    pub collections: Vec<Collection>,
    /// Whether the list has arrived once.
    pub collections_loaded: bool,
    /// The collections pane's fuzzy filter.
    pub collection_filter: String,
    /// The rows of the collections pane (indices into `collections`), filtered.
    pub collection_rows: Vec<usize>,
    /// The collections pane's cursor (an index into `collection_rows`).
    pub collection_cursor: usize,
    /// The collection asked for at start, opened once the list arrives.
    pub wanted: Option<CollectionId>,
    /// The open collection's listing.
    pub pages: Pages,
    /// The entries pane's cursor (a row of the listing).
    pub cursor: usize,
    /// The item under the cursor when it was last seen, so a refresh keeps it.
    pub cursor_item: Option<ItemId>,
    /// The first row shown.
    pub offset: usize,
    /// Marks of the open collection.
    pub marks: Marks,
    /// Where a range mark (`v`) started.
    pub range_from: Option<usize>,
    /// The entries filter being typed (`Some` while typing).
    pub filter_input: Option<String>,
    /// The details of the item under the cursor.
    pub item: Option<Item>,
    /// Previews of the files around the cursor.
    pub previews: crate::preview::Previews,
    /// Name entries of folder-bound collections by their path in the folder (`t` toggles to
    /// display names).
    pub folder_paths: bool,
    /// The focused pane.
    pub focus: Pane,
    /// What covers the panes.
    pub overlay: Option<Overlay>,
    /// The event feed.
    pub connection: Connection,
    /// The last summary or error.
    pub message: Option<Message>,
    /// An operation is running.
    pub busy: Option<String>,
    /// Seconds it has been running (ticks since it started).
    pub busy_ticks: u32,
    /// The daemon's long work.
    pub progress: Progress,
    /// The last op this session made, for `u`.
    pub last_op: Option<OpId>,
    /// Terminal size.
    pub width: u16,
    /// Terminal size.
    pub height: u16,
    /// Leave at the next turn.
    pub quit: bool,
}

impl App {
    /// A model before anything is loaded; `open` is the collection to show first.
    #[must_use]
    pub fn new(config: Config, max_batch: usize, open: Option<CollectionId>) -> Self {
        Self {
            config,
            max_batch,
            collections: Vec::new(),
            collections_loaded: false,
            collection_filter: String::new(),
            collection_rows: Vec::new(),
            collection_cursor: 0,
            focus: if open.is_some() {
                Pane::Entries
            } else {
                Pane::Collections
            },
            wanted: open,
            pages: Pages::default(),
            cursor: 0,
            cursor_item: None,
            offset: 0,
            marks: Marks::default(),
            range_from: None,
            filter_input: None,
            item: None,
            previews: crate::preview::Previews::default(),
            folder_paths: true,
            overlay: None,
            connection: Connection::Connecting,
            message: None,
            busy: None,
            busy_ticks: 0,
            progress: Progress::default(),
            last_op: None,
            width: 80,
            height: 24,
            quit: false,
        }
    }

    /// What keys mean now.
    #[must_use]
    pub fn key_mode(&self) -> KeyMode {
        match &self.overlay {
            Some(Overlay::Picker(_) | Overlay::Prompt(_) | Overlay::Confirm(_)) => KeyMode::Typing,
            _ if self.filter_input.is_some() => KeyMode::Typing,
            _ => KeyMode::Commands,
        }
    }

    /// The open collection.
    #[must_use]
    pub fn open(&self) -> Option<&Collection> {
        let id = self.pages.collection()?;
        self.collections.iter().find(|c| &c.id == id)
    }

    /// The collection under the collections pane's cursor.
    #[must_use]
    pub fn collection_under_cursor(&self) -> Option<&Collection> {
        self.collection_rows
            .get(self.collection_cursor)
            .and_then(|i| self.collections.get(*i))
    }

    /// The entry under the cursor, if its page is here.
    #[must_use]
    pub fn entry_under_cursor(&self) -> Option<&Entry> {
        self.pages.row(self.cursor)
    }

    /// The preview's key of the entry under the cursor, and its file's path.
    #[must_use]
    pub fn preview_target(&self) -> Option<(crate::preview::PreviewKey, &str)> {
        let e = self.entry_under_cursor()?;
        let path = e.item.path.as_deref()?;
        Some((
            crate::preview::PreviewKey {
                item: e.item_id,
                size: e.item.size,
                mtime: e.item.mtime,
            },
            path,
        ))
    }

    /// The sort order of the listing.
    #[must_use]
    pub fn sort(&self) -> EntrySort {
        self.pages.sort()
    }
}
