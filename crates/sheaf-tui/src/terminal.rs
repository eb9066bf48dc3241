//! The terminal: raw mode, the alternate screen and mouse capture on the way in; all of it
//! undone on the way out — on a normal exit, on an error (the guard's drop), and on a
//! panic (a hook that restores before the panic message is printed).

use std::io::{Stdout, stdout};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal in TUI mode; restored when dropped.
#[derive(Debug)]
pub struct Guard {
    /// The terminal to draw on.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Installs the panic hook (once) and enters TUI mode.
pub fn enter() -> std::io::Result<Guard> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
    enable_raw_mode()?;
    let entered = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)
        .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
    match entered {
        Ok(terminal) => Ok(Guard { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Hands the terminal back for a program that needs it (the editor): TUI mode left as on
/// exit; [`resume`] enters it again.
pub fn suspend() {
    restore();
}

/// Enters TUI mode again after [`suspend`] on a cleared screen, and has the next draw
/// repaint every cell. (`Terminal::clear` would ask the terminal where its cursor is, an
/// answer that may never come back to a key reader just replaced.)
pub fn resume(guard: &mut Guard) -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        Clear(ClearType::All)
    )?;
    // Both buffers empty, like the cleared screen: the next draw writes every cell it fills.
    guard.terminal.swap_buffers();
    Ok(())
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
