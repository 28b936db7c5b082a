//! Overview: one row per cluster (state, latency, version, nodes, GPUs), and details of the
//! focused cluster.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, Wrap};
use ratatui::Frame;

use crate::store::{ClusterState, Conn};
use crate::ui::app::App;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::{self, DASH};

fn dash() -> String {
    DASH.to_string()
}

pub fn visible_rows(app: &App) -> Vec<usize> {
    app.fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(i, c)| app.focus.is_none_or(|f| f == *i) && app.matches_filter(&c.context))
        .map(|(i, _)| i)
        .collect()
}

fn gpus(c: &ClusterState) -> String {
    c.nodes.as_ref().map(|n| format!("{}/{}", n.gpus_allocatable, n.gpus_total)).unwrap_or_else(dash)
}

/// How old a cluster's numbers are, when it no longer answers: `numbers from 3m ago`.
fn stale_note(c: &ClusterState, now: f64) -> Option<String> {
    let at = c.stale_since()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    Some(format!("numbers from {}", crate::store::llmd::age_text(now - at)))
}

fn detail(c: &ClusterState, now: f64) -> String {
    match &c.conn {
        Conn::Unreachable { error, since } => {
            let t =
                jiff::Timestamp::try_from(*since).map(|t| t.strftime("%H:%M:%S UTC").to_string()).unwrap_or_default();
            let mut s = format!("{error} · since {t}");
            if let Some(n) = stale_note(c, now) {
                s.push_str(&format!(" · {n}"));
            }
            s
        }
        other => {
            let mut parts: Vec<String> = other.detail().map(str::to_string).into_iter().collect();
            if let Some(n) = &c.nodes {
                if !n.gpu_products.is_empty() {
                    parts.push(n.gpu_products.iter().cloned().collect::<Vec<_>>().join(", "));
                }
            }
            let bad: usize = c.malformed.values().sum();
            if bad > 0 {
                parts.push(format!("{bad} malformed object(s) skipped"));
            }
            parts.join(" · ")
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rows_idx = visible_rows(app);
    let focused = app.focus.and_then(|i| app.fleet.clusters.get(i));
    let (table_area, detail_area) = if focused.is_some() {
        let [a, b] = Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let wide = area.width >= 120;
    let now = app.now();
    let mut header = vec!["CONTEXT", "STATE", "LATENCY", "NODES", "GPUS", "POOLS", "SERVERS", "KV"];
    if wide {
        header.insert(3, "VERSION");
        header.extend(["TOK/S P/D", "DETAIL"]);
    }
    let header = Row::new(header).style(t.header);
    let rows: Vec<Row> = rows_idx
        .iter()
        .map(|i| {
            let c = &app.fleet.clusters[*i];
            let st = state::style(&c.conn, t);
            // a cluster that stopped answering keeps its last numbers, dimmed (DETAIL says how old)
            let num = if c.stale_since().is_some() { t.muted } else { t.text };
            let l = c.llmd.totals(&app.reading());
            let llmd_known = c.llmd.installed == Some(true);
            let or_dash = |s: String| if llmd_known { s } else { dash() };
            let servers = if wide {
                format!("P {}/{} D {}/{}", l.prefill_ready, l.prefill_total, l.decode_ready, l.decode_total)
            } else {
                format!("{}/{}", l.prefill_ready + l.decode_ready, l.prefill_total + l.decode_total)
            };
            let mut cells = vec![
                Cell::from(app.display_name(&c.context).to_string()),
                Cell::from(Span::styled(format!("{} {}", state::symbol(&c.conn), c.conn.label()), st)),
                Cell::from(c.latency_text().filter(|_| c.conn.reachable()).unwrap_or_else(dash)),
                Cell::from(Span::styled(
                    c.nodes.as_ref().map(|n| format!("{}/{}", n.ready, n.total)).unwrap_or_else(dash),
                    num,
                )),
                Cell::from(Span::styled(gpus(c), num)),
                Cell::from(Span::styled(or_dash(l.pools.to_string()), num)),
                Cell::from(Span::styled(or_dash(servers), num)),
                Cell::from(Span::styled(
                    l.kv_avg.map(fmt::pct).unwrap_or_else(dash),
                    if c.stale_since().is_some() {
                        num
                    } else {
                        super::kv::kv_style(app, &crate::store::llmd::Role::Decode, l.kv_avg)
                    },
                )),
            ];
            if wide {
                cells.insert(3, Cell::from(c.version.clone().unwrap_or_else(dash)));
                cells.push(Cell::from(Span::styled(
                    match (l.prefill_tps, l.decode_tps) {
                        (None, None) => dash(),
                        (a, b) => format!("{}/{}", fmt::opt(a, fmt::num), fmt::opt(b, fmt::num)),
                    },
                    num,
                )));
                cells.push(Cell::from(Span::styled(detail(c, now), if c.conn.reachable() { t.muted } else { st })));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(14),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(if wide { 13 } else { 7 }),
        Constraint::Length(4),
    ];
    if wide {
        widths.insert(3, Constraint::Length(9));
        widths.extend([Constraint::Length(11), Constraint::Min(10)]);
    }
    let title = if app.filter.is_empty() {
        format!(" Clusters ({}) ", rows_idx.len())
    } else {
        format!(" Clusters ({} of {}, filter: {}) ", rows_idx.len(), app.fleet.clusters.len(), app.filter)
    };
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(t.selection)
        .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted));
    let mut ts = crate::ui::widgets::selection(app.selected, rows_idx.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    if rows_idx.is_empty() {
        let inner =
            Rect { x: table_area.x + 2, y: table_area.y + 2, width: table_area.width.saturating_sub(4), height: 1 };
        f.render_widget(Paragraph::new(Span::styled("no cluster matches the filter", t.muted)), inner);
    }
    // the causes of trouble in full, whatever the width of the DETAIL column
    {
        let problems: Vec<String> = rows_idx
            .iter()
            .map(|i| &app.fleet.clusters[*i])
            .filter(|c| !c.conn.reachable() && c.conn.detail().is_some())
            .map(|c| format!("{}: {}", app.display_name(&c.context), detail(c, now)))
            .collect();
        if !problems.is_empty() && table_area.height > 4 {
            let r = Rect {
                x: table_area.x + 1,
                y: table_area.y + table_area.height - 2,
                width: table_area.width.saturating_sub(2),
                height: 1,
            };
            f.render_widget(Paragraph::new(Span::styled(problems.join(" · "), t.crit)), r);
        }
    }
    if let (Some(c), Some(area)) = (focused, detail_area) {
        draw_detail(f, area, app, c);
    }
}

fn draw_detail(f: &mut Frame, area: Rect, app: &App, c: &ClusterState) {
    let t = &app.theme;
    let [text_area, spark_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(3)]).areas(area);
    let field =
        |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<14}"), t.muted), Span::styled(v, t.text)]);
    let mut lines = vec![
        field("server", c.server.clone()),
        field("state", format!("{} {}", c.conn.label(), c.conn.detail().unwrap_or(""))),
        field(
            "gpu models",
            c.nodes
                .as_ref()
                .map(|n| n.gpu_products.iter().cloned().collect::<Vec<_>>().join(", "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(dash),
        ),
    ];
    if !c.forbidden.is_empty() {
        lines.push(field("forbidden", c.forbidden.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
    for (res, n) in c.malformed.iter().filter(|(_, n)| **n > 0) {
        lines.push(field("malformed", format!("{n} {res} could not be decoded and are left out")));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", app.display_name(&c.context)))
                .border_style(t.muted),
        ),
        text_area,
    );
    let data: Vec<u64> = c.latency.iter().copied().collect();
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .style(t.accent)
            .block(Block::default().borders(Borders::ALL).title(" API latency, last probes ").border_style(t.muted)),
        spark_area,
    );
}
