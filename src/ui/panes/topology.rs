//! Topology: agents and tools as a layered graph (callers, called agents, tools and outside
//! hosts), grouped by cluster, with only the edges kst has evidence for: declared in env,
//! observed by AuthBridge (calls approved), denied. The selected node's edges stand out and are
//! spelled out below; `v` (and any narrow terminal) shows the same edges as a list.

use std::collections::{BTreeMap, BTreeSet};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::topology::{Edge, Node, NodeKind};
use crate::ui::app::App;

/// Below this width the graph is not readable: the list is shown instead.
pub const GRAPH_MIN_WIDTH: u16 = 100;

pub struct Graph {
    /// Nodes in display order (cluster, layer, name): the selection indexes this.
    pub nodes: Vec<(u8, Node)>,
    pub edges: Vec<Edge>,
}

/// The graph of the visible clusters; every agent and tool is a node, edged or not.
pub fn graph(app: &App) -> Graph {
    let mut edges = Vec::new();
    let mut nodes: BTreeSet<Node> = BTreeSet::new();
    for i in app.cluster_indices() {
        let k = &app.fleet.clusters[i].kagenti;
        let r = crate::store::topology::Resolver::new(i, &k.agents, k.tool_servers());
        nodes.extend(k.agents.iter().map(|a| r.agent_node(a)));
        edges.extend(k.edges().iter().cloned());
    }
    let edges: Vec<Edge> = edges
        .into_iter()
        .filter(|e| app.matches_filter(&format!("{} {} {}", e.from.label(), e.to.label(), e.evidence())))
        .collect();
    for e in &edges {
        nodes.insert(e.from.clone());
        nodes.insert(e.to.clone());
    }
    let called: BTreeSet<&Node> = edges
        .iter()
        .filter(|e| e.from.kind == NodeKind::Agent && e.to.kind == NodeKind::Agent)
        .map(|e| &e.to)
        .collect();
    let mut nodes: Vec<(u8, Node)> = nodes
        .iter()
        .map(|n| {
            let calls = edges.iter().any(|e| e.from == *n);
            let is_called = edges.iter().any(|e| e.to == *n);
            let layer = match n.kind {
                NodeKind::Agent if called.contains(n) => 1,
                NodeKind::Agent => 0,
                // an outside caller (seen by a callee's AuthBridge) stands left of what it calls
                _ if calls && !is_called => 0,
                _ => 2,
            };
            (layer, n.clone())
        })
        .collect();
    nodes.sort_by(|a, b| (a.1.cluster, a.0, a.1.label()).cmp(&(b.1.cluster, b.0, b.1.label())));
    Graph { nodes, edges }
}

/// Rows the selection moves over: nodes in the graph, edges in the list.
pub fn row_count(app: &App, width: u16) -> usize {
    let g = graph(app);
    if list_mode(app, width) {
        g.edges.len()
    } else {
        g.nodes.len()
    }
}

pub fn list_mode(app: &App, width: u16) -> bool {
    app.topology_list || width < GRAPH_MIN_WIDTH
}

fn edge_style(app: &App, e: &Edge) -> Style {
    if e.denials.is_some() && e.approvals.is_none() {
        app.theme.crit
    } else if e.observed() {
        app.theme.ok
    } else {
        app.theme.muted
    }
}

fn kind_mark(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Agent => "◆",
        NodeKind::Tool => "▣",
        NodeKind::External => "○",
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let g = graph(app);
    let list = list_mode(app, area.width);
    let [main, detail, legend] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(if list { 2 } else { 5 }), Constraint::Length(1)])
            .areas(area);
    let t = &app.theme;
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("edges: ", t.muted),
            Span::styled("── observed (AuthBridge)", t.ok),
            Span::styled("  ── declared (env)", t.muted),
            Span::styled("  ── denied", t.crit),
            Span::styled("  ◆ agent ▣ tool ○ outside · v: graph/list · Enter: pods", t.muted),
        ])),
        legend,
    );
    if list {
        draw_list(f, main, detail, app, &g);
    } else {
        draw_graph(f, main, detail, app, &g);
    }
}

fn draw_list(f: &mut Frame, area: Rect, detail: Rect, app: &App, g: &Graph) {
    let t = &app.theme;
    let cluster = |n: &Node| app.display_name(&app.fleet.clusters[n.cluster].context);
    let wide = area.width >= 110;
    let rows: Vec<Row> = g
        .edges
        .iter()
        .map(|e| {
            let mut cells = vec![
                Cell::from(format!("{} {}", kind_mark(e.from.kind), e.from.label())),
                Cell::from(format!("{} {}", kind_mark(e.to.kind), e.to.label())),
                Cell::from(Span::styled(e.evidence(), edge_style(app, e))),
            ];
            if wide {
                cells.push(Cell::from(cluster(&e.from)));
            }
            Row::new(cells)
        })
        .collect();
    let (header, widths) = if wide {
        (
            vec!["FROM", "TO", "EVIDENCE", "CLUSTER"],
            vec![Constraint::Max(28), Constraint::Max(30), Constraint::Min(24), Constraint::Length(14)],
        )
    } else {
        (vec!["FROM", "TO", "EVIDENCE"], vec![Constraint::Max(26), Constraint::Max(26), Constraint::Min(20)])
    };
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Topology · {} edges (list) ", g.edges.len()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, g.edges.len());
    crate::ui::widgets::render_table(f, table, area, &mut ts, app);
    let text = match ts.selected().and_then(|i| g.edges.get(i)) {
        Some(e) => format!("{}: {} -> {}: {}", cluster(&e.from), e.from.label(), e.to.label(), e.evidence()),
        None => no_edges_reason(app),
    };
    f.render_widget(Paragraph::new(Span::styled(text, t.muted)).wrap(Wrap { trim: true }), detail);
}

fn no_edges_reason(app: &App) -> String {
    if app.cluster_indices().iter().all(|i| app.fleet.clusters[*i].kagenti.agents.is_empty()) {
        "no agents on the visible clusters".into()
    } else {
        "no edges: no agent declares a peer in its env and no AuthBridge has seen a call".into()
    }
}

fn draw_graph(f: &mut Frame, area: Rect, detail: Rect, app: &App, g: &Graph) {
    let t = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Topology · {} nodes, {} edges ", g.nodes.len(), g.edges.len()))
        .border_style(t.muted);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width < 10 || inner.height < 3 {
        return;
    }
    // rows: each cluster is a band with a heading; within it, each layer is a column
    let mut pos: BTreeMap<&Node, (u16, u16)> = BTreeMap::new();
    let col_w = inner.width / 3;
    let mut y = 0u16;
    let mut headings: Vec<(u16, String)> = Vec::new();
    let mut clusters: Vec<usize> = g.nodes.iter().map(|(_, n)| n.cluster).collect();
    clusters.dedup();
    let tallest = |c: usize| {
        (0..3u8)
            .map(|l| g.nodes.iter().filter(|(layer, n)| n.cluster == c && *layer == l).count() as u16)
            .max()
            .unwrap_or(0)
    };
    // a blank row between nodes when there is room: the edges slope less and read better
    let needed: u16 = clusters.iter().map(|c| tallest(*c) + 2).sum();
    let gap = if needed * 2 <= inner.height { 2 } else { 1 };
    for c in clusters {
        headings.push((y, app.display_name(&app.fleet.clusters[c].context).to_string()));
        y += 1;
        let mut depth = [0u16; 3];
        for (layer, n) in g.nodes.iter().filter(|(_, n)| n.cluster == c) {
            let l = *layer as usize;
            pos.insert(n, (col_w * l as u16, y + depth[l] * gap));
            depth[l] += 1;
        }
        y += tallest(c) * gap + 1;
    }
    // scroll so the selected node is in view
    let selected = g.nodes.get(app.selected.min(g.nodes.len().saturating_sub(1))).map(|(_, n)| n);
    let sel_y = selected.and_then(|n| pos.get(n)).map(|p| p.1).unwrap_or(0);
    let offset = sel_y.saturating_sub(inner.height.saturating_sub(2));
    let visible = |yy: u16| yy >= offset && yy < offset + inner.height;
    let label_w = col_w.saturating_sub(4) as usize;
    let label = |n: &Node| {
        let s = format!("{} {}", kind_mark(n.kind), n.label());
        if s.chars().count() > label_w {
            format!("{}…", s.chars().take(label_w.saturating_sub(1)).collect::<String>())
        } else {
            s
        }
    };
    let w = inner.width as f64;
    let h = inner.height as f64;
    let is_sel = |e: &Edge| selected.is_some_and(|s| e.from == *s || e.to == *s);
    let canvas = Canvas::default().x_bounds([0.0, w]).y_bounds([0.0, h]).paint(|ctx| {
        // y grows downwards on screen, upwards on the canvas
        let cy = |row: u16| h - (row - offset) as f64 - 0.5;
        for pass in [false, true] {
            for e in g.edges.iter().filter(|e| is_sel(e) == pass) {
                let (Some(a), Some(b)) = (pos.get(&e.from), pos.get(&e.to)) else { continue };
                if !visible(a.1) || !visible(b.1) {
                    continue;
                }
                let x1 = (a.0 as f64) + label(&e.from).chars().count() as f64 + 0.5;
                let x2 = b.0 as f64 - 0.5;
                let color = if pass {
                    edge_style(app, e).fg.unwrap_or(Color::Reset)
                } else {
                    app.theme.muted.fg.unwrap_or(Color::Reset)
                };
                ctx.draw(&CLine { x1, y1: cy(a.1), x2: x2.max(x1 + 1.0), y2: cy(b.1), color });
            }
        }
        ctx.layer();
        for (yy, name) in &headings {
            if visible(*yy) {
                ctx.print(0.0, cy(*yy), Span::styled(format!("── {name} "), t.header));
            }
        }
        for (_, n) in &g.nodes {
            let Some(p) = pos.get(n) else { continue };
            if !visible(p.1) {
                continue;
            }
            let style = if Some(n) == selected { t.selection } else { t.text };
            ctx.print(p.0 as f64, cy(p.1), Span::styled(label(n), style));
        }
    });
    f.render_widget(canvas, inner);

    // the selected node's edges, in words (colour is not needed to read them)
    let mut lines = Vec::new();
    if let Some(s) = selected {
        lines.push(Line::from(Span::styled(format!("{} {}", kind_mark(s.kind), s.label()), t.accent)));
        let mine: Vec<&Edge> = g.edges.iter().filter(|e| e.from == *s || e.to == *s).collect();
        if mine.is_empty() {
            lines.push(Line::from(Span::styled("no edges: nothing declared, nothing observed", t.muted)));
        }
        for e in mine.iter().take(3) {
            let (arrow, other) = if e.from == *s { ("->", &e.to) } else { ("<-", &e.from) };
            lines.push(Line::from(vec![
                Span::styled(format!("{arrow} {} ", other.label()), t.text),
                Span::styled(e.evidence(), edge_style(app, e)),
            ]));
        }
        if mine.len() > 3 {
            lines.push(Line::from(Span::styled(format!("… {} more (v: list)", mine.len() - 3), t.muted)));
        }
    } else {
        lines.push(Line::from(Span::styled(no_edges_reason(app), t.muted)));
    }
    f.render_widget(Paragraph::new(lines), detail);
}
