//! Topology: agents and tools as a layered graph (callers, called agents, tools and outside
//! hosts), grouped by cluster, with only the edges kst has evidence for: declared in env,
//! observed by AuthBridge (calls approved), denied. The selected node's edges stand out and are
//! spelled out below; `v` (and any narrow terminal) shows the same edges as a list.

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::topology::{Edge, Node, NodeKind};
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::table::{cell, Col, DataTable, ListState};

mod route;

pub struct Topology {
    list: ListState,
    /// The edges as a list instead of the graph.
    pub as_list: bool,
    /// The width at the last draw: narrow terminals get the list.
    width: u16,
}

impl Default for Topology {
    fn default() -> Self {
        Topology { list: ListState::default(), as_list: false, width: 120 }
    }
}

/// Below this width the graph is not readable: the list is shown instead.
pub const GRAPH_MIN_WIDTH: u16 = 100;

pub struct Graph {
    /// Nodes in display order (cluster, layer, name): the selection indexes this.
    pub nodes: Vec<(u8, Node)>,
    pub edges: Vec<Edge>,
}

/// The graph of the visible clusters; every agent and tool is a node, edged or not.
pub fn graph(cx: &Ctx) -> Graph {
    let mut edges = Vec::new();
    let mut nodes: BTreeSet<Node> = BTreeSet::new();
    for i in cx.cluster_indices() {
        let k = &cx.cluster(i).kagenti;
        let r = crate::store::topology::Resolver::new(i, &k.agents, k.tool_servers());
        nodes.extend(k.agents.iter().map(|a| r.agent_node(a)));
        edges.extend(k.edges().iter().cloned());
    }
    let edges: Vec<Edge> = edges
        .into_iter()
        .filter(|e| cx.keep(|| format!("{} {} {}", e.from.label(), e.to.label(), e.evidence())))
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
    // sets, not a scan of every edge per node: a fleet of hundreds of clusters has thousands
    let callers: BTreeSet<&Node> = edges.iter().map(|e| &e.from).collect();
    let callees: BTreeSet<&Node> = edges.iter().map(|e| &e.to).collect();
    let mut nodes: Vec<(u8, Node)> = nodes
        .iter()
        .map(|n| {
            let calls = callers.contains(n);
            let is_called = callees.contains(n);
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
    nodes.sort_by_cached_key(|(layer, n)| (n.cluster, *layer, n.label()));
    Graph { nodes, edges }
}

/// The pods of an agent or tool workload, as a drill-down.
pub fn workload_pods(cx: &Ctx, cluster: usize, ns: &str, name: &str) -> Outcome {
    let Some(a) = cx
        .fleet
        .clusters
        .get(cluster)
        .and_then(|c| c.kagenti.agents.iter().find(|a| a.namespace == ns && a.name == name))
    else {
        return Outcome::Handled;
    };
    if a.selector.is_empty() {
        return Outcome::Flash(format!("{ns}/{name} has no pod selector"));
    }
    super::pods_of(cx, cluster, &a.namespace, &a.name, a.selector.clone())
}

impl Topology {
    fn list_mode(&self) -> bool {
        self.as_list || self.width < GRAPH_MIN_WIDTH
    }
    /// The rows the selection moves over: nodes in the graph, edges in the list.
    fn keys(&self, g: &Graph) -> Vec<String> {
        if self.list_mode() {
            g.edges.iter().map(|e| format!("{}>{}", e.from.label(), e.to.label())).collect()
        } else {
            g.nodes.iter().map(|(_, n)| format!("{}/{}", n.cluster, n.label())).collect()
        }
    }
    /// The selected node (graph) or edge's caller (list).
    fn selected_node(&self, g: &Graph) -> Option<Node> {
        let i = self.list.selected()?;
        if self.list_mode() {
            g.edges.get(i).map(|e| e.from.clone())
        } else {
            g.nodes.get(i).map(|(_, n)| n.clone())
        }
    }
}

impl Pane for Topology {
    fn id(&self) -> PaneId {
        PaneId::Topology
    }
    fn title(&self) -> &'static str {
        "Topology"
    }
    fn short_title(&self) -> &'static str {
        "Topo"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["graph", "edges"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_kagenti(fleet)
    }
}

impl Component for Topology {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("◆ ▣ ○", "agent · tool · outside host"),
            ("━━", "observed: AuthBridge counted approved calls"),
            ("┄┄", "declared: the caller's env names the callee"),
            ("╳╳", "denied: AuthBridge refused the calls"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the selected workload's pods"),
            Hint::action(Action::Layout, "graph / list of the edges (narrow terminals get the list)"),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let g = graph(cx);
        let keys = self.keys(&g);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Layout) => {
                self.as_list = !self.as_list;
                self.list.reset();
                Outcome::Redraw
            }
            Some(Action::Select) => match self.selected_node(&g) {
                Some(n) => workload_pods(cx, n.cluster, &n.namespace, &n.name),
                None => Outcome::Handled,
            },
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let g = graph(cx);
        self.list.sync(&self.keys(&g));
        let n = self.selected_node(&g)?;
        Some(if n.namespace.is_empty() { n.name } else { format!("{}/{}", n.namespace, n.name) })
    }

    fn click(&mut self, row: u16) -> bool {
        self.list_mode() && self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        self.width = area.width;
        let g = graph(cx);
        self.list.sync(&self.keys(&g));
        let list = self.list_mode();
        let [main, detail, legend] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(if list { 2 } else { 5 }), Constraint::Length(1)])
                .areas(area);
        let t = cx.theme;
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("edges: ", t.muted),
                Span::styled("━━ observed (AuthBridge)", t.ok),
                Span::styled("  ┄┄ declared (env)", t.muted),
                Span::styled("  ╳╳ denied", t.crit),
                Span::styled("  ─ several kinds  ▶ into the callee  ◆ agent ▣ tool ○ outside", t.muted),
            ])),
            legend,
        );
        if list {
            draw_list(f, main, detail, cx, &g, &mut self.list);
        } else {
            let sel = self.list.selected().unwrap_or(0);
            draw_graph(f, main, detail, cx, &g, sel);
        }
    }
}

fn edge_style(t: &Theme, e: &Edge) -> Style {
    if e.denials.is_some() && e.approvals.is_none() {
        t.crit
    } else if e.observed() {
        t.ok
    } else {
        t.muted
    }
}

/// The line an edge is drawn with, so its kind reads without colour.
fn edge_glyph(e: &Edge) -> &'static str {
    if e.denials.is_some() && e.approvals.is_none() {
        "╳"
    } else if e.observed() {
        "━"
    } else {
        "┄"
    }
}

/// A node as drawn: in-cluster hosts without the `.svc.cluster.local` every one of them has.
fn shown(n: &Node) -> String {
    n.label().trim_end_matches(".svc.cluster.local").to_string()
}

fn kind_mark(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Agent => "◆",
        NodeKind::Tool => "▣",
        NodeKind::External => "○",
    }
}

fn draw_list(f: &mut Frame, area: Rect, detail: Rect, cx: &Ctx, g: &Graph, list: &mut ListState) {
    let t = cx.theme;
    let cluster = |n: &Node| cx.display_name(&cx.cluster(n.cluster).context);
    let cols = vec![
        Col::name("FROM").min(14),
        Col::name("TO").min(14),
        Col::text("EVIDENCE").min(16),
        Col::name("CLUSTER").min(10).optional(1),
    ];
    let mut table = DataTable::new(format!(" Topology · {} edges (list) ", g.edges.len()), cols);
    table.empty = no_edges_reason(cx);
    for e in &g.edges {
        table.rows.push(vec![
            cell(format!("{} {}", kind_mark(e.from.kind), shown(&e.from)), t.text),
            cell(format!("{} {}", kind_mark(e.to.kind), shown(&e.to)), t.text),
            cell(format!("{} {}", edge_glyph(e).repeat(2), e.evidence()), edge_style(t, e)),
            cell(cluster(&e.from), t.text),
        ]);
    }
    table.draw(f, area, list, t);
    let text = match list.selected().and_then(|i| g.edges.get(i)) {
        Some(e) => format!("{}: {} -> {}: {}", cluster(&e.from), e.from.label(), e.to.label(), e.evidence()),
        None => no_edges_reason(cx),
    };
    f.render_widget(Paragraph::new(Span::styled(text, t.muted)).wrap(Wrap { trim: true }), detail);
}

fn no_edges_reason(cx: &Ctx) -> String {
    if cx.cluster_indices().iter().all(|i| cx.cluster(*i).kagenti.agents.is_empty()) {
        "no agents on the visible clusters".into()
    } else {
        "no edges: no agent declares a peer in its env and no AuthBridge has seen a call".into()
    }
}

fn draw_graph(f: &mut Frame, area: Rect, detail: Rect, cx: &Ctx, g: &Graph, sel: usize) {
    let t = cx.theme;
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
    let mut per_layer: BTreeMap<usize, [u16; 3]> = BTreeMap::new();
    for (layer, n) in &g.nodes {
        per_layer.entry(n.cluster).or_default()[(*layer as usize).min(2)] += 1;
    }
    let tallest = |c: usize| per_layer.get(&c).map(|l| l.iter().copied().max().unwrap_or(0)).unwrap_or(0);
    // a blank row between nodes when there is room: the edges slope less and read better
    let needed: u16 = clusters.iter().map(|c| tallest(*c) + 2).sum();
    let gap = if needed * 2 <= inner.height { 2 } else { 1 };
    for c in clusters {
        headings.push((y, cx.display_name(&cx.cluster(c).context).to_string()));
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
    let selected = g.nodes.get(sel.min(g.nodes.len().saturating_sub(1))).map(|(_, n)| n);
    let sel_y = selected.and_then(|n| pos.get(n)).map(|p| p.1).unwrap_or(0);
    let offset = sel_y.saturating_sub(inner.height.saturating_sub(2));
    let visible = |yy: u16| yy >= offset && yy < offset + inner.height;
    let label_w = col_w.saturating_sub(4) as usize;
    let label = |n: &Node| {
        let s = format!("{} {}", kind_mark(n.kind), shown(n));
        if s.chars().count() > label_w {
            format!("{}…", s.chars().take(label_w.saturating_sub(1)).collect::<String>())
        } else {
            s
        }
    };
    let is_sel = |e: &Edge| selected.is_some_and(|s| e.from == *s || e.to == *s);
    // each target gets a lane of its own in the gap before its column, two cells apart (the
    // topmost the nearest): edges into one target share its lane and join there; edges into
    // different targets cross (`┼`) instead of running down one line together
    let mut by_column: BTreeMap<u16, Vec<(u16, &Node)>> = BTreeMap::new();
    for e in &g.edges {
        if let Some(p) = pos.get(&e.to) {
            let col = by_column.entry(p.0).or_default();
            if !col.iter().any(|(_, n)| *n == &e.to) {
                col.push((p.1, &e.to));
            }
        }
    }
    let mut lane_of: BTreeMap<&Node, i32> = BTreeMap::new();
    for (x, mut targets) in by_column {
        targets.sort();
        for (k, (_, n)) in targets.into_iter().enumerate() {
            lane_of.insert(n, x as i32 - 2 - 2 * k as i32);
        }
    }
    let mut grid = route::Grid::new(inner.width as usize, inner.height as usize);
    let row = |y: u16| y as i32 - offset as i32;
    for pass in [false, true] {
        for e in g.edges.iter().filter(|e| is_sel(e) == pass) {
            let (Some(a), Some(b)) = (pos.get(&e.from), pos.get(&e.to)) else { continue };
            let style = if pass { edge_style(t, e) } else { t.muted };
            let glyph = edge_glyph(e).chars().next().unwrap_or('─');
            let from = (a.0 as i32 + label(&e.from).chars().count() as i32 + 1, row(a.1));
            let lane = lane_of.get(&e.to).copied().unwrap_or(b.0 as i32 - 2);
            grid.route(&route::Route { from, to: (b.0 as i32, row(b.1)), lane, glyph, style });
        }
    }
    for (yy, name) in &headings {
        if visible(*yy) {
            grid.text(0, row(*yy), &format!("── {name} "), t.header);
        }
    }
    for (_, n) in &g.nodes {
        let Some(p) = pos.get(n) else { continue };
        if visible(p.1) {
            let style = if Some(n) == selected { t.selection } else { t.text };
            grid.text(p.0 as i32, row(p.1), &label(n), style);
        }
    }
    f.render_widget(Paragraph::new(grid.lines()), inner);

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
                Span::styled(format!("{} {}", edge_glyph(e).repeat(2), e.evidence()), edge_style(t, e)),
            ]));
        }
        if mine.len() > 3 {
            lines.push(Line::from(Span::styled(format!("… {} more (v: list)", mine.len() - 3), t.muted)));
        }
    } else {
        lines.push(Line::from(Span::styled(no_edges_reason(cx), t.muted)));
    }
    f.render_widget(Paragraph::new(lines), detail);
}
