//! Drawing pieces shared by the panes.

pub mod fmt;
pub mod footer;
pub mod header;
pub mod state;

/// Table state with the selection clamped to the rows there are (none when there are none).
pub fn selection(selected: usize, rows: usize) -> ratatui::widgets::TableState {
    let mut ts = ratatui::widgets::TableState::default();
    if rows > 0 {
        ts.select(Some(selected.min(rows - 1)));
    }
    ts
}
