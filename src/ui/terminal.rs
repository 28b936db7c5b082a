//! Entering and leaving the terminal: raw mode and the alternate screen, restored on every
//! exit path (quit, error, panic, SIGTERM, SIGHUP), and frames wrapped in synchronized
//! updates so a slow link never shows half a frame.

use std::io::{self, Stdout, Write};

use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped, whatever the way out.
pub struct TerminalGuard {
    pub terminal: Term,
}

pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        // A panic prints after the screen is back, or the message would be lost.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(TerminalGuard { terminal })
    }

    /// One frame, between synchronized-update markers.
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let r = self.terminal.draw(f).map(|_| ());
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.terminal.backend_mut().flush()?;
        r
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
