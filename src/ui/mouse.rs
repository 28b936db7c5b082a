//! Mouse input (only when the config enables it): the wheel moves the selection, a click
//! picks a tab or a row; the rest is left to the terminal (text selection).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl super::App {
    /// Mouse (only when enabled): wheel moves the selection, a click picks a tab or a row.
    pub fn on_mouse(&mut self, m: crossterm::event::MouseEvent, width: u16) -> bool {
        use crossterm::event::{MouseButton, MouseEventKind};
        if !self.mouse || self.writes.dialog.is_some() || self.prompt.is_some() {
            return false;
        }
        let as_key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
        match m.kind {
            MouseEventKind::ScrollDown => self.on_key(as_key(KeyCode::Down)),
            MouseEventKind::ScrollUp => self.on_key(as_key(KeyCode::Up)),
            MouseEventKind::Down(MouseButton::Left) if m.row == 1 => {
                match super::app::header::tab_at(self, width as usize, m.column as usize) {
                    Some(t) => {
                        self.set_tab(t);
                        true
                    }
                    None => false,
                }
            }
            MouseEventKind::Down(MouseButton::Left) => self.parts().1.click(m.row),
            _ => false,
        }
    }
}
