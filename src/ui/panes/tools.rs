//! MCP tools: one searchable list of every tool of every MCP server across clusters (and the
//! extra endpoints of the config), as the servers themselves listed them over MCP: exposed name
//! (with the gateway prefix), server, cluster, status, whether a credential is referenced,
//! parameters; name conflicts between servers flagged. Enter shows the full input schema.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::tools::{rows as tool_rows, ServerStatus, ToolRow, ToolServer};
use crate::ui::app::App;
use crate::ui::widgets::state::DASH;

/// Every server of the visible clusters, then the config's external ones.
pub fn servers(app: &App) -> Vec<(Option<usize>, &ToolServer)> {
    let mut v: Vec<(Option<usize>, &ToolServer)> = app
        .cluster_indices()
        .into_iter()
        .flat_map(|i| app.fleet.clusters[i].kagenti.tool_servers().iter().map(move |s| (Some(i), s)))
        .collect();
    if app.focus.is_none() {
        v.extend(app.fleet.external_tools.iter().map(|s| (None, s)));
    }
    v
}

fn cluster_name(app: &App, c: Option<usize>) -> String {
    match c {
        Some(i) => app.display_name(&app.fleet.clusters[i].context).to_string(),
        None => "external".into(),
    }
}

/// The orders `s` cycles through.
pub const SORTS: &[&str] = &["server", "name", "status"];

/// Tool rows that pass the filter, in the chosen order.
pub fn rows(app: &App) -> Vec<ToolRow<'_>> {
    let all = servers(app);
    let mut v: Vec<ToolRow<'_>> = tool_rows(&all)
        .into_iter()
        .filter(|r| {
            app.matches_filter(&format!(
                "{} {} {}/{} {} {}",
                cluster_name(app, r.cluster),
                r.exposed,
                r.server.namespace,
                r.server.name,
                r.tool.description,
                r.server.status().text()
            ))
        })
        .collect();
    match app.sort_col % SORTS.len() {
        1 => v.sort_by(|a, b| a.exposed.cmp(&b.exposed)),
        2 => v.sort_by_key(|r| (r.server.status() != crate::store::tools::ServerStatus::Reachable, r.exposed.clone())),
        _ => {}
    }
    v
}

pub fn status_style(app: &App, s: &ServerStatus) -> Style {
    match s {
        ServerStatus::Reachable => app.theme.ok,
        ServerStatus::Disabled | ServerStatus::Pending => app.theme.muted,
        ServerStatus::NotReady(_) => app.theme.warn,
        ServerStatus::Error(_) => app.theme.crit,
    }
}

fn short_status(s: &ServerStatus) -> &'static str {
    match s {
        ServerStatus::Reachable => "● reachable",
        ServerStatus::Disabled => "◌ disabled",
        ServerStatus::Pending => "… checking",
        ServerStatus::NotReady(_) => "▲ not ready",
        ServerStatus::Error(_) => "✖ error",
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let servers = servers(app);
    let rows = rows(app);
    let server_lines = servers.len().min(6) as u16;
    let [summary_area, table_area, servers_area, detail_area, absent_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(server_lines + 2),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);

    // counts per cluster, and conflicts
    let mut spans = vec![Span::styled(
        format!(
            "{} tools on {} servers · ",
            servers.iter().map(|(_, s)| s.tools().len()).sum::<usize>(),
            servers.len()
        ),
        t.text,
    )];
    let mut clusters: Vec<Option<usize>> = servers.iter().map(|(c, _)| *c).collect();
    clusters.dedup();
    for c in clusters {
        let mine: Vec<&&ToolServer> = servers.iter().filter(|(x, _)| *x == c).map(|(_, s)| s).collect();
        spans.push(Span::styled(
            format!(
                "{}: {} tools / {} servers  ",
                cluster_name(app, c),
                mine.iter().map(|s| s.tools().len()).sum::<usize>(),
                mine.len()
            ),
            t.muted,
        ));
    }
    let conflicts = rows.iter().filter(|r| !r.conflicts.is_empty()).count();
    if conflicts > 0 {
        spans.push(Span::styled(format!("⚠ {conflicts} tools share a name with another server"), t.warn));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), summary_area);

    let wide = area.width >= 120;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let st = r.server.status();
            let name = if r.conflicts.is_empty() { r.exposed.clone() } else { format!("{} ⚠", r.exposed) };
            let cred =
                if r.server.registration.as_ref().is_some_and(|x| x.credential.is_some()) { "yes" } else { "no" };
            let mut cells = vec![
                Cell::from(Span::styled(name, if r.conflicts.is_empty() { t.text } else { t.warn })),
                Cell::from(format!("{}/{}", r.server.namespace, r.server.name)),
                Cell::from(Span::styled(short_status(&st), status_style(app, &st))),
                Cell::from(cred),
                Cell::from(r.tool.params().join(" ")),
            ];
            if wide {
                cells.insert(2, Cell::from(cluster_name(app, r.cluster)));
                cells.push(Cell::from(r.tool.description.clone()));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["TOOL", "SERVER", "STATUS", "CRED", "PARAMS"];
    let mut widths = vec![
        Constraint::Min(20),
        Constraint::Length(18),
        Constraint::Length(11),
        Constraint::Length(4),
        Constraint::Min(10),
    ];
    if wide {
        // the cluster is in the detail line when narrow
        header.insert(2, "CLUSTER");
        widths = vec![
            Constraint::Length(26),
            Constraint::Length(18),
            Constraint::Length(17),
            Constraint::Length(11),
            Constraint::Length(4),
            Constraint::Length(18),
            Constraint::Min(10),
        ];
        header.push("DESCRIPTION");
    }
    let title = format!(
        " MCP tools ({}) · sorted by {} (s) · Enter: input schema ",
        rows.len(),
        SORTS[app.sort_col % SORTS.len()]
    );
    let table = Table::new(table_rows, widths)
        .header(Row::new(header).style(t.header))
        .row_highlight_style(t.selection)
        .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted));
    let mut ts = crate::ui::widgets::selection(app.selected, rows.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);

    // every server, including those with nothing to list, and why
    let lines: Vec<Line> = servers
        .iter()
        .take(server_lines as usize)
        .map(|(c, s)| {
            let st = s.status();
            let listing = s
                .listing
                .as_ref()
                .map(|l| {
                    format!(
                        "{} tools in {} page{} · {}",
                        l.tools.len(),
                        l.pages,
                        if l.pages == 1 { "" } else { "s" },
                        l.protocol.as_deref().unwrap_or(DASH)
                    )
                })
                .unwrap_or_else(|| DASH.to_string());
            let reg = s
                .registration
                .as_ref()
                .map(|r| format!(" · registration {} {}", r.state, r.prefix.as_deref().unwrap_or("")))
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("{}/{}/{} ", cluster_name(app, *c), s.namespace, s.name), t.text),
                Span::styled(st.text(), status_style(app, &st)),
                Span::styled(format!(" · {listing}{reg}"), t.muted),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" servers ({}) ", servers.len()))
                .border_style(t.muted),
        ),
        servers_area,
    );

    if let Some(r) = ts.selected().and_then(|i| rows.get(i)) {
        let mut l = vec![
            Span::styled(format!("{} ", r.tool.name), t.accent),
            Span::styled(r.tool.description.clone(), t.text),
            Span::styled(format!(" · on {}", cluster_name(app, r.cluster)), t.muted),
        ];
        if !r.conflicts.is_empty() {
            l.push(Span::styled(format!(" · same name on {}", r.conflicts.join(", ")), t.warn));
        }
        if let Some(cred) = r.server.registration.as_ref().and_then(|x| x.credential.as_ref()) {
            l.push(Span::styled(format!(" · credential Secret {cred} (value never read)"), t.muted));
        }
        f.render_widget(Paragraph::new(Line::from(l)).wrap(Wrap { trim: true }), detail_area);
    } else if servers.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no MCP tool servers: none labelled kagenti.io/type=tool (or rossoctl.io/type=tool), no MCPServerRegistrations, no [[mcp_endpoint]] in the config",
                t.muted,
            ))
            .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
    f.render_widget(Paragraph::new(super::agents::absent_line(app)), absent_area);
}

/// The selected tool's full input schema and annotations, as the server sent them.
pub fn schema_text(app: &App) -> Option<String> {
    let rows = rows(app);
    let r = rows.get(app.selected.min(rows.len().checked_sub(1)?))?;
    let mut out = format!(
        "{}  ({} on {}/{})\n\n{}\n\ninputSchema:\n{}",
        r.exposed,
        r.tool.name,
        r.server.namespace,
        r.server.name,
        r.tool.description,
        serde_json::to_string_pretty(&r.tool.input_schema).unwrap_or_default()
    );
    if let Some(a) = &r.tool.annotations {
        out.push_str(&format!("\n\nannotations:\n{}", serde_json::to_string_pretty(a).unwrap_or_default()));
    }
    Some(out)
}

pub fn draw_schema(f: &mut Frame, area: Rect, app: &App, text: &str) {
    let width = 80.min(area.width.saturating_sub(2));
    let height = (text.lines().count() as u16 + 2).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text.to_string()).wrap(Wrap { trim: false }).block(
            Block::default().borders(Borders::ALL).title(" tool schema · Esc closes ").border_style(app.theme.accent),
        ),
        r,
    );
}
