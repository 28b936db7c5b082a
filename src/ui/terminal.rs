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
    /// Never dropped by ratatui: its drop prints to stderr when the cursor cannot be shown,
    /// and printing to the stderr of a closed terminal panics (then aborts, leaving kst's
    /// temporary files behind). `restore` shows the cursor instead.
    pub terminal: std::mem::ManuallyDrop<Term>,
    /// The last frame written: a redraw that would produce the same cells writes nothing.
    last: Option<ratatui::buffer::Buffer>,
    /// Mouse capture asked for (`--mouse`), turned on again after a suspend.
    mouse: bool,
}

pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), crossterm::event::DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
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
        if mouse {
            execute!(out, crossterm::event::EnableMouseCapture)?;
        }
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(TerminalGuard { terminal: std::mem::ManuallyDrop::new(terminal), last: None, mouse })
    }

    /// Ctrl-Z: the shell's screen back, the process stopped as any job would be (SIGTSTP),
    /// and on `fg` the TUI again, redrawn whole (the shell wrote over what the terminal showed).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        // SAFETY: raise only sends a signal to this process; SIGTSTP's default action stops
        // every thread until SIGCONT, then raise returns.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        self.resume()
    }

    /// The terminal lent to another program (a shell's kubectl): the shell's screen, cooked
    /// mode, the cursor shown. `resume` takes it back.
    pub fn lend(&mut self) {
        restore();
    }

    /// The TUI again after a suspend or a lent terminal, redrawn whole (whatever ran wrote over
    /// what the terminal showed).
    pub fn resume(&mut self) -> io::Result<()> {
        terminal::enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        if self.mouse {
            execute!(io::stdout(), crossterm::event::EnableMouseCapture)?;
        }
        // cleared by hand: ratatui's `clear` asks the terminal where its cursor is, and that
        // answer can be lost to a keyboard reader just stopped (the shell's kubectl case)
        execute!(io::stdout(), crossterm::terminal::Clear(crossterm::terminal::ClearType::All))?;
        self.terminal.current_buffer_mut().reset();
        self.terminal.swap_buffers();
        self.last = None;
        Ok(())
    }

    /// One frame, between synchronized-update markers, and only if some cell differs from
    /// what the terminal already shows (a store change on another tab writes no bytes).
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame)) -> io::Result<bool> {
        self.terminal.autoresize()?;
        let mut frame = self.terminal.get_frame();
        f(&mut frame);
        if self.last.as_ref() == Some(&*self.terminal.current_buffer_mut()) {
            self.terminal.current_buffer_mut().reset();
            return Ok(false);
        }
        self.last = Some(self.terminal.current_buffer_mut().clone());
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let r = self.terminal.apply_buffer().map(|_| ());
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.terminal.backend_mut().flush()?;
        r.map(|_| true)
    }
}

/// The OSC 52 sequence that asks the terminal (even across SSH and tmux with
/// set-clipboard on) to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text))
}

pub fn copy_osc52(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_encodes_for_the_clipboard() {
        assert_eq!(super::osc52("pd-disaggregation"), "\x1b]52;c;cGQtZGlzYWdncmVnYXRpb24=\x07");
    }
}
