//! The details pane's preview of the file under the cursor: what it is, from at most
//! [`BUDGET`] bytes of it. [`read`] does the IO (never on the UI thread: the effect runner
//! calls it on a blocking task, and the answer comes back as an action); [`Previews`] keeps
//! the answers for the rows around the cursor, keyed by the item and the size and mtime it
//! was read at, so a changed file is read again.

mod archive;
mod read;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use sheaf_core::{ItemId, Timestamp};

pub use self::read::read;

/// The most bytes one preview reads, in all.
pub const BUDGET: usize = 64 * 1024;
/// Text lines kept.
pub const TEXT_LINES: usize = 100;
/// Archive members named.
pub const MEMBERS: usize = 50;
/// Previews kept (the visible rows and a little more).
pub const KEPT: usize = 128;

/// What a file is, as far as the preview read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Preview {
    /// UTF-8 text: its first lines, tabs expanded, control characters shown as `�`.
    Text {
        /// The lines.
        lines: Vec<String>,
        /// More follows (lines or bytes past the budget).
        more: bool,
    },
    /// An image.
    Image {
        /// `PNG`, `JPEG`, …
        format: String,
        /// Width and height in pixels, when the bytes read hold them.
        size: Option<(usize, usize)>,
    },
    /// An archive's first member names.
    Archive {
        /// `zip` or `tar`.
        format: &'static str,
        /// The names, in archive order.
        members: Vec<String>,
        /// Members not named (past the budget or [`MEMBERS`]); `None` when unknown.
        more: Option<bool>,
    },
    /// Anything else: its type, as the first bytes tell.
    Binary {
        /// A MIME type, or `binary data` when unknown.
        kind: String,
    },
    /// Not a regular file (a FIFO, a socket, a device, a directory): never opened.
    Special {
        /// What it is.
        kind: &'static str,
    },
    /// The file is empty.
    Empty,
    /// It could not be read.
    Unreadable {
        /// Why, in plain words.
        reason: String,
    },
}

/// What a preview was read for: the item and its file's state at the time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PreviewKey {
    /// The item.
    pub item: ItemId,
    /// Its file's size then.
    pub size: u64,
    /// Its file's mtime then.
    pub mtime: Timestamp,
}

/// The previews of the rows around the cursor, the oldest dropped past [`KEPT`].
#[derive(Clone, Debug, Default)]
pub struct Previews {
    kept: VecDeque<(PreviewKey, Preview)>,
    /// The read on its way, asked for once.
    pending: Option<PreviewKey>,
}

impl Previews {
    /// The preview read for `key`, if here.
    #[must_use]
    pub fn get(&self, key: &PreviewKey) -> Option<&Preview> {
        self.kept.iter().find(|(k, _)| k == key).map(|(_, p)| p)
    }

    /// Whether `key` should be read now: not here and not already on its way. Marks it as
    /// on its way.
    pub fn ask(&mut self, key: &PreviewKey) -> bool {
        if self.get(key).is_some() || self.pending.as_ref() == Some(key) {
            return false;
        }
        self.pending = Some(key.clone());
        true
    }

    /// Keeps an answer.
    pub fn put(&mut self, key: PreviewKey, preview: Preview) {
        if self.pending.as_ref() == Some(&key) {
            self.pending = None;
        }
        self.kept.retain(|(k, _)| k != &key);
        self.kept.push_back((key, preview));
        while self.kept.len() > KEPT {
            self.kept.pop_front();
        }
    }

    /// Drops what is known of `item`'s file (it was just edited): it is read again.
    pub fn forget(&mut self, item: ItemId) {
        self.kept.retain(|(k, _)| k.item != item);
        if self.pending.as_ref().is_some_and(|k| k.item == item) {
            self.pending = None;
        }
    }

    /// Previews here.
    #[must_use]
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none is here.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

/// `bytes` as text lines when they are UTF-8 (a character cut by the budget's end is
/// allowed) without NUL bytes: at most [`TEXT_LINES`] lines, tabs expanded to stops of 4,
/// other control characters shown as `�`. `None` when they are not text.
#[must_use]
pub fn text_lines(bytes: &[u8], cut: bool) -> Option<(Vec<String>, bool)> {
    if bytes.contains(&0) {
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        // An incomplete character at the very end of a cut read is the cut, not binary.
        Err(e) if cut && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    // A final newline ends the last line; it does not start another.
    let body = if cut {
        text
    } else {
        text.strip_suffix('\n').unwrap_or(text)
    };
    let mut rest = body.split('\n');
    let lines = rest
        .by_ref()
        .take(TEXT_LINES)
        .map(|l| expand(l.strip_suffix('\r').unwrap_or(l)))
        .collect();
    let more = cut || rest.next().is_some();
    Some((lines, more))
}

/// Tabs to the next stop of 4, control characters to `�`.
fn expand(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0usize;
    for c in line.chars() {
        match c {
            '\t' => {
                let n = 4 - col % 4;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            c if c.is_control() => {
                out.push('\u{fffd}');
                col += 1;
            }
            c => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}
