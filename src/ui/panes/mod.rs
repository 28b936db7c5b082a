//! One pane per file; each draws from `&App` (fleet + view state) and nothing else.

pub mod agents;
pub mod benchmarks;
pub mod builds;
pub mod discovery;
pub mod drill;
pub mod epp;
pub mod jobs;
pub mod kv;
pub mod overview;
pub mod security;
pub mod serving;
pub mod status;
pub mod throughput;
pub mod tools;
pub mod topology;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::app::App;
use super::tabs::Tab;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    if let Some(v) = app.views.last() {
        return drill::draw(f, area, app, v);
    }
    match app.tab {
        Tab::Overview => overview::draw(f, area, app),
        Tab::Serving => serving::draw(f, area, app),
        Tab::KvCache => kv::draw(f, area, app),
        Tab::Throughput => throughput::draw(f, area, app),
        Tab::EppRouting => epp::draw(f, area, app),
        Tab::Agents => agents::draw(f, area, app),
        Tab::Discovery => discovery::draw(f, area, app),
        Tab::Builds => builds::draw(f, area, app),
        Tab::Status => status::draw(f, area, app),
        Tab::McpTools => tools::draw(f, area, app),
        Tab::Topology => topology::draw(f, area, app),
        Tab::Security => security::draw(f, area, app),
        Tab::Benchmarks => benchmarks::draw(f, area, app),
        Tab::MlJobs => jobs::draw(f, area, app),
    }
}
