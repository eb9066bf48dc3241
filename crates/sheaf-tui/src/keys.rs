//! Keys: the default vim-like keymap, overrides from the config's `[tui.keys]` table, and
//! the translation of terminal events into [`Action`]s (bound keys become commands; while
//! text is typed or a question is asked, keys become [`Input`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::action::{Action, Command, Input, Mouse};

/// A key with its modifiers (shift is part of the character: `G`, `?`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    /// A plain character.
    #[must_use]
    pub const fn char(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    /// A key as the terminal reports it.
    #[must_use]
    pub fn of(event: &KeyEvent) -> Self {
        Self {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parses `j`, `G`, `space`, `enter`, `esc`, `tab`, `backtab`, `backspace`, `up`,
    /// `down`, `left`, `right`, `pgup`, `pgdn`, `home`, `end`, `delete`, `f1`…`f12`, and
    /// `ctrl-<key>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (ctrl, rest) = match text.strip_prefix("ctrl-").or(text.strip_prefix("ctrl+")) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "space" => KeyCode::Char(' '),
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "{text:?} is not a key (try \"x\", \"ctrl-x\", \"space\", \"enter\", \"pgdn\", \"f1\")"
                    ));
                }
            },
        };
        Ok(Self { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("backtab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Every command, in the order the help lists them, with its config name and what it does.
pub const COMMANDS: [(Command, &str, &str); 30] = [
    (Command::Down, "down", "cursor down"),
    (Command::Up, "up", "cursor up"),
    (Command::Top, "top", "first row"),
    (Command::Bottom, "bottom", "last row"),
    (Command::PageDown, "page_down", "one screen down"),
    (Command::PageUp, "page_up", "one screen up"),
    (Command::Left, "left", "pane to the left"),
    (Command::Right, "right", "pane to the right"),
    (Command::NextPane, "next_pane", "next pane"),
    (
        Command::Open,
        "open",
        "open the collection; on an entry, open its file",
    ),
    (
        Command::OpenFile,
        "open_file",
        "open the file with the opener (detached)",
    ),
    (Command::Edit, "edit", "edit the file in $VISUAL / $EDITOR"),
    (
        Command::ToggleNames,
        "names",
        "names: path in the folder / display name",
    ),
    (
        Command::Filter,
        "filter",
        "filter (collections: fuzzy; entries: name/path contains)",
    ),
    (Command::Mark, "mark", "mark / unmark the row"),
    (
        Command::RangeMark,
        "range_mark",
        "range mark: start here, then mark up to here",
    ),
    (
        Command::MarkAll,
        "mark_all",
        "mark everything matching (again: clear)",
    ),
    (Command::Move, "move", "move marked to… (collection picker)"),
    (
        Command::Link,
        "link",
        "link (copy) marked to… (collection picker)",
    ),
    (
        Command::Remove,
        "remove",
        "remove marked from this collection",
    ),
    (
        Command::Undo,
        "undo",
        "undo the last operation (history: the selected one)",
    ),
    (
        Command::History,
        "history",
        "history: the operation log, newest first",
    ),
    (Command::NewCollection, "new_collection", "new collection"),
    (Command::Rename, "rename", "rename the collection / entry"),
    (
        Command::EditMetadata,
        "edit_metadata",
        "edit metadata: key=value (key= deletes)",
    ),
    (
        Command::Sort,
        "sort",
        "next sort: position, name, added, size",
    ),
    (Command::Refresh, "refresh", "re-read from the daemon"),
    (
        Command::Escape,
        "escape",
        "close / clear filter / clear marks",
    ),
    (Command::Help, "help", "this help"),
    (Command::Quit, "quit", "quit (ctrl-c always quits)"),
];

const DEFAULTS: [(Command, &[&str]); 30] = [
    (Command::Down, &["j", "down"]),
    (Command::Up, &["k", "up"]),
    (Command::Top, &["g", "home"]),
    (Command::Bottom, &["G", "end"]),
    (Command::PageDown, &["ctrl-d", "pgdn"]),
    (Command::PageUp, &["ctrl-u", "pgup"]),
    (Command::Left, &["h", "left"]),
    (Command::Right, &["l", "right"]),
    (Command::NextPane, &["tab"]),
    (Command::Open, &["enter"]),
    (Command::OpenFile, &["o"]),
    (Command::Edit, &["E"]),
    (Command::ToggleNames, &["t"]),
    (Command::Filter, &["/"]),
    (Command::Mark, &["space"]),
    (Command::RangeMark, &["v"]),
    (Command::MarkAll, &["*"]),
    (Command::Move, &["m"]),
    (Command::Link, &["c"]),
    (Command::Remove, &["d"]),
    (Command::Undo, &["u"]),
    (Command::History, &["H"]),
    (Command::NewCollection, &["n"]),
    (Command::Rename, &["r"]),
    (Command::EditMetadata, &["e"]),
    (Command::Sort, &["s"]),
    (Command::Refresh, &["R"]),
    (Command::Escape, &["esc"]),
    (Command::Help, &["?"]),
    (Command::Quit, &["q"]),
];

/// Keys bound to commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Command, Vec<Key>>,
    lookup: HashMap<Key, Command>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .map(|(c, keys)| {
                let keys = keys.iter().filter_map(|k| Key::parse(k).ok()).collect();
                (*c, keys)
            })
            .collect();
        Self::from_bindings(bindings)
    }
}

impl Keymap {
    fn from_bindings(bindings: BTreeMap<Command, Vec<Key>>) -> Self {
        let lookup = bindings
            .iter()
            .flat_map(|(c, keys)| keys.iter().map(move |k| (*k, *c)))
            .collect();
        Self { bindings, lookup }
    }

    /// The defaults with `overrides` (config name → keys) applied: an override replaces
    /// that command's keys, and a key it takes is taken from any other command.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        let mut bindings = Self::default().bindings;
        for (name, keys) in overrides {
            let command = COMMANDS
                .iter()
                .find(|(_, n, _)| n == name)
                .map(|(c, _, _)| *c)
                .ok_or_else(|| {
                    let names: Vec<&str> = COMMANDS.iter().map(|(_, n, _)| *n).collect();
                    format!(
                        "[tui.keys]: no command {name:?}; the commands are {}",
                        names.join(", ")
                    )
                })?;
            let keys = keys
                .iter()
                .map(|k| Key::parse(k).map_err(|e| format!("[tui.keys] {name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            for (other, bound) in &mut bindings {
                if *other != command {
                    bound.retain(|k| !keys.contains(k));
                }
            }
            bindings.insert(command, keys);
        }
        Ok(Self::from_bindings(bindings))
    }

    /// The command bound to `key`.
    #[must_use]
    pub fn command(&self, key: Key) -> Option<Command> {
        self.lookup.get(&key).copied()
    }

    /// The keys of `command`, as the help shows them (`j / down`).
    #[must_use]
    pub fn keys_of(&self, command: Command) -> String {
        self.bindings
            .get(&command)
            .map_or_else(String::new, |keys| {
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
    }

    /// The first key of `command`, for hints (`? help`).
    #[must_use]
    pub fn first_key(&self, command: Command) -> String {
        self.bindings
            .get(&command)
            .and_then(|k| k.first())
            .map_or_else(|| "(unbound)".to_owned(), ToString::to_string)
    }
}

/// What keys mean right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    /// Bound keys are commands.
    Commands,
    /// Keys are typed into a line, or answer a question.
    Typing,
}

/// The action a terminal event stands for, if any.
#[must_use]
pub fn translate(event: &Event, keymap: &Keymap, mode: KeyMode) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => translate_key(key, keymap, mode),
        Event::Mouse(m) => {
            let (column, row) = (m.column, m.row);
            match m.kind {
                MouseEventKind::Down(MouseButton::Left) => {
                    Some(Action::Mouse(Mouse::Click { column, row }))
                }
                MouseEventKind::ScrollDown => Some(Action::Mouse(Mouse::Scroll {
                    column,
                    row,
                    down: true,
                })),
                MouseEventKind::ScrollUp => Some(Action::Mouse(Mouse::Scroll {
                    column,
                    row,
                    down: false,
                })),
                _ => None,
            }
        }
        Event::Resize(width, height) => Some(Action::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

fn translate_key(key: &KeyEvent, keymap: &Keymap, mode: KeyMode) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Command(Command::Quit));
    }
    match mode {
        KeyMode::Commands => keymap.command(Key::of(key)).map(Action::Command),
        KeyMode::Typing => {
            let input = match key.code {
                KeyCode::Char('u') if ctrl => Input::Clear,
                KeyCode::Char(c) if !ctrl => Input::Char(c),
                KeyCode::Backspace => Input::Backspace,
                KeyCode::Enter => Input::Enter,
                KeyCode::Esc => Input::Esc,
                KeyCode::Up | KeyCode::BackTab => Input::Up,
                KeyCode::Down | KeyCode::Tab => Input::Down,
                _ => return None,
            };
            Some(Action::Input(input))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn default_keys_are_the_specs_vim_like_keys() {
        let k = Keymap::default();
        for (text, command) in [
            ("j", Command::Down),
            ("G", Command::Bottom),
            ("/", Command::Filter),
            ("space", Command::Mark),
            ("*", Command::MarkAll),
            ("m", Command::Move),
            ("c", Command::Link),
            ("?", Command::Help),
            ("ctrl-d", Command::PageDown),
            ("o", Command::OpenFile),
            ("enter", Command::Open),
            ("E", Command::Edit),
            ("t", Command::ToggleNames),
            ("H", Command::History),
        ] {
            assert_eq!(
                k.command(Key::parse(text).unwrap()),
                Some(command),
                "{text}"
            );
        }
    }

    #[test]
    fn shifted_characters_arrive_with_shift_and_still_match() {
        let k = Keymap::default();
        let g = press(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            translate(&g, &k, KeyMode::Commands),
            Some(Action::Command(Command::Bottom))
        );
    }

    #[test]
    fn an_override_replaces_the_commands_keys_and_takes_the_key_from_others() {
        let overrides = BTreeMap::from([("move".to_owned(), vec!["M".to_owned(), "x".to_owned()])]);
        let k = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(k.command(Key::char('M')), Some(Command::Move));
        assert_eq!(k.command(Key::char('m')), None);
        assert_eq!(k.keys_of(Command::Move), "M / x");
        let steal = BTreeMap::from([("quit".to_owned(), vec!["j".to_owned()])]);
        let k = Keymap::with_overrides(&steal).unwrap();
        assert_eq!(k.command(Key::char('j')), Some(Command::Quit));
        assert_eq!(k.keys_of(Command::Down), "down");
    }

    #[test]
    fn unknown_commands_and_keys_are_refused_with_the_choices() {
        let bad = BTreeMap::from([("mvoe".to_owned(), vec!["x".to_owned()])]);
        let e = Keymap::with_overrides(&bad).unwrap_err();
        assert!(e.contains("\"mvoe\"") && e.contains("move"), "{e}");
        let bad = BTreeMap::from([("move".to_owned(), vec!["hyper-x".to_owned()])]);
        assert!(
            Keymap::with_overrides(&bad)
                .unwrap_err()
                .contains("not a key")
        );
    }

    #[test]
    fn while_typing_keys_are_input_and_ctrl_c_still_quits() {
        let k = Keymap::default();
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(
            translate(&q, &k, KeyMode::Typing),
            Some(Action::Input(Input::Char('q')))
        );
        let c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            translate(&c, &k, KeyMode::Typing),
            Some(Action::Command(Command::Quit))
        );
    }
}
