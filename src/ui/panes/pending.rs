//! Panes whose collectors are not built yet say so plainly instead of showing invented data.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::ui::app::App;
use crate::ui::tabs::Tab;

fn what(tab: Tab) -> &'static str {
    match tab {
        Tab::Serving => "inference pools and models per cluster: prefill/decode pods, request and error rates, TTFT and ITL percentiles, queue depth",
        Tab::KvCache => "a KV-cache gauge per model-server pod, grouped by cluster, pool and role, with prefix-cache hit rates and preemptions",
        Tab::Throughput => "prefill and decode tokens per second per pool and fleet-wide, latency percentiles, the prefill:decode ratio",
        Tab::EppRouting => "per pool: routing share per endpoint, the P/D decision mix, flow-control saturation, scheduler latency",
        Tab::Benchmarks => "the nightly E2E matrix (guides x platforms) and llm-d-benchmark reports",
        Tab::MlJobs => "batch Jobs, training jobs, Ray jobs and notebooks across clusters",
        Tab::Agents => "every Kagenti agent across clusters, with health and a safe on/off toggle",
        Tab::Builds => "Shipwright builds and their runs, with pass rates over time",
        Tab::McpTools => "the MCP tools of every tool server, listed over MCP itself",
        Tab::Discovery => "A2A agent cards: skills, capabilities, signature status",
        Tab::Topology => "agent -> tool and agent -> agent edges, declared and observed",
        Tab::Security => "service accounts, effective RBAC, identity and drift per agent and tool",
        Tab::Status => "Kagenti platform components per cluster",
        Tab::Overview => "",
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, tab: Tab) {
    let t = &app.theme;
    let lines = vec![
        Line::from(Span::styled(format!("{} — not collected yet", tab.title()), t.warn)),
        Line::from(""),
        Line::from(Span::styled(format!("This pane will show {}.", what(tab)), t.text)),
        Line::from(""),
        Line::from(Span::styled(
            "kst does not collect these objects or metrics yet, so it shows nothing rather than numbers it cannot back.",
            t.muted,
        )),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(format!(" {} ", tab.title())).border_style(t.muted)),
        area,
    );
}
