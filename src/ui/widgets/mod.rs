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

/// Where the pane's main table was last drawn: the screen row of its first data row, the first
/// row shown (after scrolling) and how many fit, so a mouse click maps to the right row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TableGeometry {
    pub first_screen_row: u16,
    pub offset: usize,
    pub rows_visible: u16,
}

/// Draws a bordered table with a header row and records its geometry for mouse clicks.
pub fn render_table(
    f: &mut ratatui::Frame,
    table: ratatui::widgets::Table,
    area: ratatui::layout::Rect,
    ts: &mut ratatui::widgets::TableState,
    app: &crate::ui::App,
) {
    f.render_stateful_widget(table, area, ts);
    // border (1) + column titles (1) above the first row, border (1) below the last
    app.table_geo.set(TableGeometry {
        first_screen_row: area.y + 2,
        offset: ts.offset(),
        rows_visible: area.height.saturating_sub(3),
    });
}
