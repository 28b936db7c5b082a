//! One pane per file; each draws from `&App` (fleet + view state) and nothing else.

pub mod overview;
pub mod pending;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::app::App;
use super::tabs::Tab;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    match app.tab {
        Tab::Overview => overview::draw(f, area, app),
        other => pending::draw(f, area, app, other),
    }
}
