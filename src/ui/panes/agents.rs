//! Agents: every Kagenti/Rossoctl agent across clusters with health, replicas, restarts, the
//! LLM provider its env points at; `t` turns one off or on after a permission check and a
//! confirmation that names the exact change.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::kagenti::{health, Health};
use crate::ui::app::{AgentSort, App, Dialog, DialogState};
use crate::ui::widgets::state::DASH;

pub fn health_style(app: &App, h: &Health) -> Style {
    match h {
        Health::Healthy => app.theme.ok,
        Health::Paused | Health::ScaledToZero => app.theme.muted,
        Health::Progressing(_) | Health::Degraded(_) => app.theme.warn,
        Health::Failing(_) => app.theme.crit,
    }
}

pub fn health_symbol(h: &Health) -> &'static str {
    match h {
        Health::Healthy => "●",
        Health::Paused | Health::ScaledToZero => "◌",
        Health::Progressing(_) | Health::Degraded(_) => "▲",
        Health::Failing(_) => "✖",
    }
}

/// Clusters without Kagenti say so (not an error).
pub fn absent_line(app: &App) -> Line<'static> {
    let mut spans = Vec::new();
    for i in app.cluster_indices() {
        let c = &app.fleet.clusters[i];
        let why = match (c.conn.reachable(), c.kagenti.installed()) {
            (true, Some(false)) => Some("Kagenti not installed"),
            (true, None) => Some("discovering"),
            (false, _) if c.kagenti.agents.is_empty() => Some(c.conn.label()),
            _ => None,
        };
        if let Some(why) = why {
            spans.push(Span::styled(format!("{}: {why}   ", app.display_name(&c.context)), app.theme.muted));
        }
    }
    Line::from(spans)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let agents = app.agents();
    let [table_area, detail_area, absent_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(3), Constraint::Length(1)]).areas(area);
    let wide = area.width >= 120;
    let now = app.now();
    let rows: Vec<Row> = agents
        .iter()
        .map(|(i, a)| {
            let c = &app.fleet.clusters[*i];
            let h = health(a);
            let mut cells = vec![
                Cell::from(format!("{}/{}/{}", app.display_name(&c.context), a.namespace, a.name)),
                Cell::from(format!("{}/{}", a.ready, a.desired)),
                Cell::from(Span::styled(format!("{} {}", health_symbol(&h), h.word()), health_style(app, &h))),
                Cell::from(a.restarts.map(|r| r.to_string()).unwrap_or_else(|| DASH.into())),
                Cell::from(a.provider.clone().unwrap_or_else(|| DASH.into())),
            ];
            if wide {
                cells.insert(1, Cell::from(a.framework.clone().unwrap_or_else(|| DASH.into())));
                cells.insert(
                    2,
                    Cell::from(if a.protocols.is_empty() { DASH.to_string() } else { a.protocols.join(",") }),
                );
                cells.push(Cell::from(crate::ui::widgets::fmt::age(a.created.as_deref(), now)));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["AGENT", "READY", "HEALTH", "RESTARTS", "LLM"];
    let mut widths = vec![
        Constraint::Min(24),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(14),
    ];
    if wide {
        header.insert(1, "FRAMEWORK");
        header.insert(2, "PROTO");
        header.push("AGE");
        widths.insert(1, Constraint::Length(12));
        widths.insert(2, Constraint::Length(8));
        widths.push(Constraint::Length(6));
    }
    let sort = match app.agent_sort {
        AgentSort::Cluster => "cluster",
        AgentSort::Health => "health",
        AgentSort::Restarts => "restarts",
        AgentSort::Name => "name",
    };
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Agents ({}) · sorted by {sort} (s) · t: on/off ", agents.len()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, agents.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    if let Some((i, a)) = ts.selected().and_then(|k| agents.get(k)) {
        let h = health(a);
        let cond = |c: &Option<crate::store::kagenti::Cond>| {
            c.as_ref()
                .map(|c| format!("{} ({})", if c.ok { "ok" } else { "not ok" }, c.reason))
                .unwrap_or_else(|| DASH.into())
        };
        let lines = vec![
            Line::from(vec![
                Span::styled(format!("{} ", a.name), t.accent),
                Span::styled(h.label(), health_style(app, &h)),
                Span::styled(
                    format!(
                        " · {} {} on {} · {} naming · sa {}",
                        a.kind.name(),
                        a.namespace,
                        app.display_name(&app.fleet.clusters[*i].context),
                        a.brand.name(),
                        a.service_account
                    ),
                    t.muted,
                ),
            ]),
            Line::from(Span::styled(
                format!(
                    "runtime Ready {} · card Synced {} · model {}{}",
                    cond(&a.runtime_ready),
                    cond(&a.card_synced),
                    a.model.as_deref().unwrap_or(DASH),
                    a.hpa.as_ref().map(|h| format!(" · HPA {h} targets it")).unwrap_or_default()
                ),
                t.muted,
            )),
        ];
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_area);
    }
    f.render_widget(Paragraph::new(absent_line(app)), absent_area);
}

/// The confirmation: cluster, namespace, workload and the exact change, with the HPA warning.
pub fn draw_dialog(f: &mut Frame, area: Rect, app: &App, d: &Dialog) {
    let t = &app.theme;
    let width = 72.min(area.width.saturating_sub(4));
    let height = 12.min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let what = format!(
        "{} {}/{} on {}: replicas {} -> {}",
        d.target.kind.name(),
        d.target.namespace,
        d.target.name,
        d.context,
        d.target.from,
        d.target.to
    );
    let mut lines = vec![
        Line::from(Span::styled(
            if d.target.to == 0 { "Turn this agent off?" } else { "Turn this agent on?" },
            t.header,
        )),
        Line::from(Span::styled(what, t.text)),
    ];
    if d.target.to == 0 {
        lines.push(Line::from(Span::styled(
            format!("The current count ({}) is kept in the annotation kst.dev/previous-replicas.", d.target.from),
            t.muted,
        )));
    }
    if let Some(h) = &d.hpa {
        lines.push(Line::from(Span::styled(
            format!("⚠ HorizontalPodAutoscaler {h} targets it and may scale it back."),
            t.warn,
        )));
    }
    lines.push(Line::from(""));
    lines.push(match &d.state {
        DialogState::Checking => Line::from(Span::styled("checking your permissions with the API server…", t.muted)),
        DialogState::Allowed => Line::from(vec![
            Span::styled("y", t.accent),
            Span::raw(" confirm   "),
            Span::styled("n/Esc", t.accent),
            Span::raw(" cancel"),
        ]),
        DialogState::Denied(why) => Line::from(Span::styled(format!("not allowed: {why}  (Esc)"), t.crit)),
        DialogState::Applying => Line::from(Span::styled("applying…", t.muted)),
    });
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" confirm a write ").border_style(t.warn)),
        r,
    );
}
