//! Overview: one row per cluster (state, latency, version, nodes, GPUs, LLM-d totals), and
//! details of the focused cluster. Enter focuses the selected cluster.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

use crate::store::{ClusterState, Conn};
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::{self, DASH};
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

mod order;

use crate::store::pane::PaneId;
pub use order::COLLAPSE_AT;
use order::{GroupBy, GroupLine, HubJudged, Listing, Row, Sort};

#[derive(Default)]
pub struct Overview {
    list: ListState,
    sort: Sort,
    /// At `COLLAPSE_AT` clusters or more, the healthy ones are one line unless expanded.
    expanded: bool,
    group: GroupBy,
    /// The groups opened with Enter, by name.
    opened: std::collections::BTreeSet<String>,
}

impl Overview {
    fn listing<'a>(&self, cx: &Ctx<'a>) -> Listing<'a> {
        order::listing(cx, self.sort, self.expanded, &self.group, &self.opened)
    }
}

/// `2✖ 3!` (firing critical, warning, info); `none` when nothing fires.
fn problems_text(counts: (usize, usize, usize)) -> String {
    use crate::store::problems::Severity as S;
    let parts: Vec<String> = [(counts.0, S::Critical), (counts.1, S::Warning), (counts.2, S::Info)]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| format!("{n}{}", s.mark()))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    }
}

/// The PROBLEMS cell's style: critical when any critical fires, warning when any warning does.
fn problems_style(t: &crate::theme::Theme, counts: (usize, usize, usize)) -> ratatui::style::Style {
    if counts.0 > 0 {
        t.crit
    } else if counts.1 > 0 {
        t.warn
    } else {
        t.muted
    }
}

/// Mean utilisation of the GPUs its dcgm-exporters report, and how many are busy: `62% 37/61`.
fn gpu_util(c: &ClusterState, now: f64) -> String {
    let s = crate::store::gpus::summary(&c.gpus, now);
    match s.util_avg {
        Some(u) => format!("{:.0}% {}/{}", u * 100.0, s.busy, s.gpus),
        None => DASH.into(),
    }
}

fn gpus(c: &ClusterState) -> String {
    c.nodes.as_ref().map(|n| format!("{}/{}", n.gpus_allocatable, n.gpus_total)).unwrap_or_else(|| DASH.into())
}

/// How old a cluster's numbers are, when it no longer answers: `numbers from 3m ago`.
fn stale_note(c: &ClusterState, now: f64) -> Option<String> {
    let at = c.stale_since()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    Some(format!("numbers from {}", crate::store::llmd::age_text(now - at)))
}

/// The cause first (it must be read whole), then since when and how old the numbers are.
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
        _ if c.undialed.is_some() => c.undialed.clone().unwrap_or_default(),
        other => {
            let mut parts: Vec<String> = other.detail().map(str::to_string).into_iter().collect();
            // dialed through a hub's proxy, not a kubeconfig context
            if let Some(via) = &c.via {
                parts.push(format!("via {via}"));
            }
            // a KubeStellar control plane says what it is, and how its charges are
            let p = &c.placement;
            if let Some(pol) = &p.policies {
                parts.push(format!("KubeStellar WDS: {} BindingPolicies", pol.len()));
            }
            if let Some(m) = &p.managed {
                let down = m.iter().filter(|m| m.available != Some(true)).count();
                let mut s = format!("KubeStellar ITS: {} ManagedClusters", m.len());
                if down > 0 {
                    s.push_str(&format!(", {down} not Available"));
                }
                parts.push(s);
            }
            if let Some(cps) = &p.control_planes {
                let list: Vec<String> = cps
                    .iter()
                    .map(|cp| format!("{} {}", cp.name, if cp.ready == Some(true) { "ready" } else { "NOT READY" }))
                    .collect();
                parts.push(format!("KubeFlex: {}", list.join(", ")));
            }
            if let Some(xs) = &p.controllers {
                let down: Vec<String> = xs
                    .iter()
                    .filter(|x| !x.healthy())
                    .map(|x| format!("{} of {} {}", x.name, x.wds().unwrap_or("?"), x.state()))
                    .collect();
                if down.is_empty() {
                    parts.push(format!("KubeStellar controllers: {} ready", xs.len()));
                } else {
                    parts.push(format!("NOT READY: {}", down.join(", ")));
                }
            }
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

impl Pane for Overview {
    fn id(&self) -> PaneId {
        PaneId::Overview
    }
    fn title(&self) -> &'static str {
        "Overview"
    }
    fn short_title(&self) -> &'static str {
        "Over"
    }
    fn group(&self) -> Group {
        Group::Fleet
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["clusters", "ctx"]
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        use crate::store::problems::Find;
        match find {
            // a hub cluster's row is keyed by its own name, not its hub's
            Find::HubCluster { hub_cluster } => self.list.reveal("", &order::hub_row_key(hub_cluster)),
            Find::Name(name) => self.list.reveal(context, name),
            Find::Cell { .. } => return false,
        }
        true
    }
}

impl Component for Overview {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("● ▲ ✖ ○", "live · degraded or slow (DETAIL says which) · down · connecting or not dialed ([fleet] dial)"),
            ("PROBLEMS 2✖ 3! 1i", "firing problems: critical, warning, info (the Problems tab lists them)"),
            ("P 2/2 D 5/5", "prefill / decode model servers Ready of all"),
            ("GPUS 31/32", "GPUs allocatable / on the nodes"),
            ("GPU UTIL 62% 37/61", "mean utilisation of the devices the dcgm-exporters report; busy (≥10%) / all, a MIG slice counted as one device (GPUS counts whole GPUs)"),
            ("KV", "the fullest KV cache of the servers that decode (P: of the prefill servers, when both run)"),
            ("TOK/S P/D", "prefill / decode tokens per second over the rate window"),
            ("dimmed numbers", "a cluster that stopped answering, or whose model-server numbers stopped: the last ones (DETAIL says how old)"),
            ("≥ (a group)", "some members have no numbers now (down, or no current series): the sums and maxima are of the others"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "focus the selected cluster (c cycles, Esc shows all)"),
            Hint::action(Action::Sort, "sort: worst first, name, GPU UTIL, KV, decode TOK/S, SERVERS"),
            Hint::action(Action::Layout, "healthy clusters: one line / every row (100+ clusters)"),
            // in the help, not the footer: they would push the keys that work everywhere off it
            // at 120 columns
            Hint::action(Action::SortReverse, "reverse the sort").help_only(),
            Hint::action(Action::GroupBy, "group by ManagedClusterSet, by a label, or not (Enter opens a group)")
                .help_only(),
            Hint::action(Action::WhatIf, "what if the selected ManagedCluster had other labels (nothing is written)")
                .help_only(),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let listing = self.listing(cx);
        let (rows, keys) = (&listing.rows, listing.keys(cx));
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| rows.get(i)) {
                    Some(Row::Cluster(i)) => Outcome::Focus(*i),
                    Some(Row::Hub(i)) => {
                        let h = &listing.hubs[*i];
                        Outcome::Dial { name: h.name.clone(), hub: h.hub.clone() }
                    }
                    Some(Row::Healthy(_)) => {
                        self.expanded = true;
                        Outcome::Redraw
                    }
                    Some(Row::Group(g)) => {
                        let name = &listing.groups[*g].name;
                        if !self.opened.remove(name) {
                            self.opened.insert(name.clone());
                        }
                        Outcome::Redraw
                    }
                    None => Outcome::Handled,
                }
            }
            Some(Action::WhatIf) if cx.mode == crate::ui::Mode::Kiosk => Outcome::Handled,
            Some(Action::WhatIf) => {
                let Some(name) = self.copy_text(cx) else { return Outcome::Handled };
                // the ITS context that knows it as a ManagedCluster, and its labels there
                let its = cx.fleet.clusters.iter().find_map(|c| {
                    let m = c.placement.managed.as_ref()?.iter().find(|m| m.name == name)?;
                    Some((c.context.clone(), m.labels.clone()))
                });
                match its {
                    Some((its, labels)) => {
                        Outcome::Push(Box::new(crate::ui::views::LabelsWhatIfView::new(&its, &name, &labels)))
                    }
                    None => Outcome::Flash(format!(
                        "{name} is not a ManagedCluster of any hub kst reads: no labels to edit"
                    )),
                }
            }
            Some(Action::Sort) => {
                self.sort.next_key();
                Outcome::Redraw
            }
            Some(Action::SortReverse) => {
                self.sort.reversed = !self.sort.reversed;
                Outcome::Redraw
            }
            Some(Action::GroupBy) => {
                let ways = order::groupings(cx);
                if ways.len() == 1 {
                    return Outcome::Flash("nothing to group by: no hub's ManagedClusterSets or labels".into());
                }
                let i = ways.iter().position(|g| *g == self.group).map_or(0, |i| (i + 1) % ways.len());
                self.group = ways[i].clone();
                self.opened.clear();
                Outcome::Redraw
            }
            Some(Action::Layout) => {
                self.expanded = !self.expanded;
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let listing = self.listing(cx);
        self.list.sync(&listing.keys(cx));
        match listing.rows.get(self.list.selected()?) {
            Some(Row::Cluster(i)) => Some(cx.cluster(*i).context.clone()),
            Some(Row::Hub(i)) => Some(listing.hubs[*i].name.clone()),
            Some(Row::Group(g)) => Some(listing.groups[*g].name.clone()),
            _ => None,
        }
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let listing = self.listing(cx);
        let Listing { rows, counts, hubs, judged, groups, clusters: shown } = &listing;
        let rows_idx: Vec<usize> =
            rows.iter().filter_map(|r| if let Row::Cluster(i) = r { Some(*i) } else { None }).collect();
        let focused = cx.focus.and_then(|i| cx.fleet.clusters.get(i));
        self.list.sync(&listing.keys(cx));
        // the rows a short list leaves (a big screen, a handful of clusters) show the selected
        // context's detail, as focusing it would, with the list still above
        let selected = match self.list.selected().and_then(|i| rows.get(i)) {
            Some(Row::Cluster(i)) => cx.fleet.clusters.get(*i),
            _ => None,
        };
        // the table's borders and header, and (a context down) two rows for the causes under it
        let troubled =
            rows_idx.iter().any(|i| !cx.cluster(*i).conn.reachable() && cx.cluster(*i).conn.detail().is_some());
        let need = (rows.len() as u16 + 3 + if troubled { 2 } else { 0 }).max(6);
        let (table_area, detail_area) = if focused.is_some() {
            let [a, b] = Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(area);
            (a, Some(b))
        } else if selected.is_some() {
            split_below(area, need, DETAIL_MIN)
        } else {
            (area, None)
        };
        let now = cx.now();
        let reading = cx.reading();
        let cols = vec![
            Col::name("CONTEXT").min(14),
            Col::whole("STATE"),
            Col::whole("PROBLEMS"),
            Col::whole("LATENCY").optional(3),
            Col::whole("VERSION").optional(4),
            Col::whole("NODES"),
            Col::whole("GPUS"),
            Col::whole("GPU UTIL").optional(4),
            Col::whole("POOLS").optional(2),
            Col::whole("SERVERS"),
            Col::whole("KV"),
            Col::whole("TOK/S P/D").optional(5),
            Col::text("DETAIL").min(18).optional(1),
        ];
        let order = match self.group.label() {
            Some(g) => format!("{} · {g}", self.sort.label()),
            None => self.sort.label(),
        };
        let via_hub = if hubs.is_empty() { String::new() } else { format!("· {} via hub ", hubs.len()) };
        // where the model servers' numbers come from, when not from the pods themselves
        let source = crate::store::sources_line(&cx.fleet.prom).map(|l| format!("· {l} ")).unwrap_or_default();
        let title = if cx.filter.is_empty() {
            format!(" Clusters ({shown}) · {order} {via_hub}{source}")
        } else {
            // of every row there is: the contexts and the clusters known through a hub
            let all = cx.fleet.clusters.len() + if cx.focus.is_none() { cx.fleet.hub_clusters().len() } else { 0 };
            format!(" Clusters ({shown} of {all}, filter: {}) · {order} ", cx.filter.text)
        };
        // each cluster's worst firing problem leads its DETAIL
        let worst = order::worst_by_cluster(cx);
        let mut table = DataTable::new(title, cols);
        table.empty = "no cluster matches the filter".into();
        for row in rows.iter() {
            let i = match row {
                Row::Cluster(i) => i,
                Row::Healthy(n) => {
                    let mut line = vec![cell(String::new(), t.text); 13];
                    line[0] = cell(format!("{n} clusters healthy"), t.ok);
                    line[1] = cell("● live".to_string(), t.ok);
                    line[2] = cell("none".to_string(), t.muted);
                    line[12] = cell("Enter or v: show each".to_string(), t.muted);
                    table.rows.push(line);
                    continue;
                }
                Row::Hub(h) => {
                    table.rows.push(hub_line(cx, &hubs[*h], judged.get(hubs[*h].name.as_str()), now));
                    continue;
                }
                Row::Group(g) => {
                    table.rows.push(group_line(cx, &groups[*g]));
                    continue;
                }
            };
            table.rows.push(cluster_line(cx, cx.cluster(*i), counts[*i], worst[*i], now, &reading));
        }
        table.draw(f, table_area, &mut self.list, t);
        // the causes of trouble in full, whatever the width of the DETAIL column
        let problems: Vec<String> = rows_idx
            .iter()
            .map(|i| cx.cluster(*i))
            .filter(|c| !c.conn.reachable() && c.conn.detail().is_some())
            .map(|c| format!("{}: {}", cx.display_name(&c.context), detail(c, now)))
            .collect();
        if !problems.is_empty() && table_area.height as usize > rows_idx.len() + 4 {
            let r = Rect {
                x: table_area.x + 1,
                y: table_area.y + table_area.height - 2,
                width: table_area.width.saturating_sub(2),
                height: 1,
            };
            f.render_widget(Paragraph::new(Span::styled(problems.join(" · "), t.crit)), r);
        }
        if let (Some(c), Some(area)) = (focused.or(selected), detail_area) {
            draw_detail(f, area, cx, c);
        }
    }
}

/// A cluster kst dials (or is told not to): its state, problems, versions, capacity and serving
/// numbers (dimmed when old), and DETAIL led by its worst firing problem.
fn cluster_line<'a>(
    cx: &Ctx<'a>,
    c: &'a ClusterState,
    pc: (usize, usize, usize),
    worst: Option<&crate::store::problems::Problem>,
    now: f64,
    reading: &crate::store::rates::Reading,
) -> Vec<Line<'a>> {
    let t = cx.theme;
    // not dialed ([fleet] dial): what the query layer's roll-ups say of it, if anything
    if let Some(why) = &c.undialed {
        let h = crate::store::hub::HubCluster {
            name: cx.display_name(&c.context).to_string(),
            hub: String::new(),
            hub_index: 0,
            labels: Default::default(),
            available: Some(true),
            why: None,
            since: None,
            metrics: cx.fleet.prom_clusters.get(&c.context).cloned(),
            sets: Vec::new(),
        };
        let mut line = hub_line(cx, &h, None, now);
        line[1] = cell("○ not dialed".to_string(), t.muted);
        let numbers = if h.metrics.is_some() { " · numbers from the query layer" } else { "" };
        line[12] = cell(format!("{why}{numbers}"), t.muted);
        return line;
    }
    let pstyle = problems_style(t, pc);
    let st = state::style(&c.conn, t);
    let l = c.llmd.totals(reading);
    let llmd_known = c.llmd.installed == Some(true);
    let or_dash = |s: String| if llmd_known { s } else { DASH.to_string() };
    // a cluster that stopped answering keeps its last numbers, dimmed (DETAIL says how old)
    let stale = c.stale_since().is_some();
    let num = if stale { t.muted } else { t.text };
    // a cluster that answers whose model-server numbers stopped (a query layer down, the
    // scrapes failing): those numbers dimmed, their age in DETAIL
    let metrics_old = (!stale && l.freshness == crate::store::llmd::Freshness::Stale)
        .then(|| l.observed_at.map(|a| format!("numbers {} old", fmt::duration((now - a) as i64))))
        .flatten();
    let metrics_style = if metrics_old.is_some() { t.muted } else { num };
    // the fullest decode cache (where requests back up first); prefill's apart when both run
    let kv_style = if stale || metrics_old.is_some() {
        t.muted
    } else {
        crate::ui::rules::kv_style(t, &crate::store::llmd::Role::Decode, l.kv_decode_max)
    };
    let kv_text = match (l.kv_decode_max, l.kv_prefill_max) {
        (Some(d), Some(p)) => format!("{} P{}", fmt::pct(d), fmt::pct(p)),
        (Some(d), None) => fmt::pct(d),
        (None, Some(p)) => format!("P{}", fmt::pct(p)),
        (None, None) => DASH.into(),
    };
    vec![
        cell_ref(cx.display_name(&c.context), t.text),
        match &c.undialed {
            Some(_) => cell("○ not dialed".to_string(), t.muted),
            None => cell(format!("{} {}", state::symbol(&c.conn), c.conn.label()), st),
        },
        cell(if matches!(c.conn, Conn::Connecting) { DASH.into() } else { problems_text(pc) }, pstyle),
        cell(c.latency_text().filter(|_| c.conn.reachable()).unwrap_or_else(|| DASH.into()), t.text),
        cell_ref(c.version.as_deref().unwrap_or(DASH), t.text),
        cell(c.nodes.as_ref().map(|n| format!("{}/{}", n.ready, n.total)).unwrap_or_else(|| DASH.into()), num),
        cell(gpus(c), num),
        cell(gpu_util(c, cx.now()), num),
        cell(or_dash(l.pools.to_string()), num),
        cell(
            or_dash(format!("P {}/{} D {}/{}", l.prefill_ready, l.prefill_total, l.decode_ready, l.decode_total)),
            num,
        ),
        cell(kv_text, kv_style),
        cell(
            match (l.prefill_tps, l.decode_tps) {
                (None, None) => DASH.to_string(),
                (a, b) => format!("{}/{}", fmt::opt(a, fmt::num), fmt::opt(b, fmt::num)),
            },
            metrics_style,
        ),
        {
            // old numbers are said first: the verdict beside them may rest on them
            let old = metrics_old.map(|o| format!("{o} · ")).unwrap_or_default();
            let rest = detail(c, now);
            match worst.filter(|w| c.conn.reachable() && w.object.kind != "Cluster") {
                Some(w) => {
                    let sep = if rest.is_empty() { "" } else { " · " };
                    let text = format!("{old}{} {}: {}{sep}{rest}", w.severity.mark(), w.object.path(), w.reason);
                    cell(text, pstyle)
                }
                None => {
                    let text = format!("{old}{rest}");
                    cell(text.trim_end_matches(" · ").to_string(), if c.conn.reachable() { t.muted } else { st })
                }
            }
        },
    ]
}

/// A group's line: its members counted by state, their problems summed, its worst values.
fn group_line(cx: &Ctx, g: &GroupLine) -> Vec<Line<'static>> {
    let t = cx.theme;
    let (state, style) = if g.down > 0 {
        (format!("✖ {} down", g.down), t.crit)
    } else if g.unknown > 0 {
        (format!("? {} unknown", g.unknown), t.warn)
    } else {
        ("● all up".to_string(), t.ok)
    };
    let problems_style = problems_style(t, g.counts);
    // the worst problem leads (the name column counts the members, STATE says how many are down)
    // the sums of a group some members say nothing to are lower bounds, and said to be: after
    // its worst problem, before anything else
    let blind = (g.blind > 0).then(|| format!("{} of {} without numbers now: ≥ sums the rest", g.blind, g.members));
    let mut detail = match (&g.worst, blind) {
        (Some(w), Some(b)) => format!("worst: {w} · {b}"),
        (Some(w), None) => format!("worst: {w}"),
        (None, Some(b)) => format!("{b} · no firing problem"),
        (None, None) => "no firing problem".to_string(),
    };
    detail.push_str(if g.open { " · Enter folds it" } else { " · Enter opens it" });
    let at_least = if g.blind > 0 { "≥" } else { "" };
    let mut line = vec![cell(DASH, t.muted); 13];
    line[0] = cell(format!("{} {} ({})", if g.open { "▾" } else { "▸" }, g.name, g.members), t.accent);
    line[1] = cell(state, style);
    line[2] = cell(problems_text(g.counts), problems_style);
    line[7] = cell(g.gpu_util_max.map(|u| format!("max {:.0}%", u * 100.0)).unwrap_or_else(|| DASH.into()), t.text);
    line[9] = cell(g.servers.map(|n| format!("{at_least}{n:.0} engines")).unwrap_or_else(|| DASH.into()), t.text);
    line[10] = cell(g.kv_max.map(|k| format!("{at_least}{}", fmt::pct(k))).unwrap_or_else(|| DASH.into()), t.text);
    line[11] = cell(g.tokens.map(|n| format!("—/{at_least}{}", fmt::num(n))).unwrap_or_else(|| DASH.into()), t.text);
    line[12] = cell(detail, if g.worst.is_some() { problems_style } else { t.muted });
    line
}

/// A cluster seen only through a hub: its hub's word on it, and the query layer's roll-up.
fn hub_line(cx: &Ctx, h: &crate::store::hub::HubCluster, j: Option<&HubJudged>, now: f64) -> Vec<Line<'static>> {
    let t = cx.theme;
    let (state, style) = match h.available {
        Some(true) => ("◌ via hub".to_string(), t.ok),
        Some(false) => ("✖ unavailable".to_string(), t.crit),
        None => ("? unknown".to_string(), t.warn),
    };
    let m = h.metrics.as_ref();
    let age = m.and_then(|m| m.scraped_at).map(|at| now - at);
    let stale = age.is_some() && !m.is_some_and(|m| order::current(cx, m));
    let num = if stale { t.muted } else { t.text };
    let detail = match (h.available, m, age) {
        (Some(false), _, _) => format!("{}: {}", h.hub, h.why.clone().unwrap_or_else(|| "not Available".into())),
        (_, None, _) if cx.fleet.prom.is_empty() => {
            format!("via hub {} · no query layer configured for its numbers", h.hub)
        }
        (_, None, _) => format!("via hub {} · no series in the query layer", h.hub),
        (_, Some(_), Some(a)) if stale => format!("via hub {} · numbers {} old", h.hub, fmt::duration(a as i64)),
        _ => format!("via hub {} · numbers from the query layer", h.hub),
    };
    let detail = match m.and_then(|m| m.ttft_p99_s) {
        Some(t) if !stale && h.available != Some(false) => format!("{detail} · TTFT p99 {}", fmt::secs(t)),
        _ => detail,
    };
    let detail = match h.sets.iter().find(|s| *s != "global") {
        Some(set) => format!("{detail} · set {set}"),
        None => detail,
    };
    // its worst firing problem leads, as a dialed cluster's does
    let (detail, detail_style) = match j.and_then(|j| j.worst.clone()) {
        Some(w) => (format!("{w} · {detail}"), if j.is_some_and(|j| j.counts.0 > 0) { t.crit } else { t.warn }),
        None => (detail, if h.available == Some(false) { t.crit } else { t.muted }),
    };
    let counts = j.map(|j| j.counts).unwrap_or_default();
    let problems_style = problems_style(t, counts);
    vec![
        cell(h.name.clone(), t.text),
        cell(state, style),
        cell(problems_text(counts), problems_style),
        cell(DASH, t.muted),
        cell(DASH, t.muted),
        cell(DASH, t.muted),
        cell(DASH, t.muted),
        cell(
            match m.map(|m| (m.gpu_util, m.gpus_busy, m.gpus)) {
                Some((Some(u), busy, Some(n))) => format!("{:.0}% {:.0}/{n:.0}", u * 100.0, busy.unwrap_or(0.0)),
                _ => DASH.to_string(),
            },
            num,
        ),
        cell(DASH, t.muted),
        cell(m.and_then(|m| m.servers).map(|n| format!("{n:.0} engines")).unwrap_or_else(|| DASH.into()), num),
        cell(m.and_then(|m| m.kv_max).map(fmt::pct).unwrap_or_else(|| DASH.into()), num),
        cell(
            match m.map(|m| (m.prompt_tokens_per_s, m.generation_tokens_per_s)) {
                Some((a, b)) if a.is_some() || b.is_some() => {
                    format!("{}/{}", fmt::opt(a, fmt::num), fmt::opt(b, fmt::num))
                }
                _ => DASH.to_string(),
            },
            num,
        ),
        cell(detail, detail_style),
    ]
}

/// The rows the selected cluster's detail wants before it is drawn under an unfocused list.
const DETAIL_MIN: u16 = 7;

fn draw_detail(f: &mut Frame, area: Rect, cx: &Ctx, c: &ClusterState) {
    let t = cx.theme;
    // a short area keeps its rows for what is wrong: the latency chart goes first; it is drawn
    // for a focused cluster only (under the list it would redraw the first screen every probe)
    let spark_h = if area.height >= 16 && cx.focus.is_some() { 3 } else { 0 };
    let [text_area, spark_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(spark_h)]).areas(area);
    let field =
        |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<14}"), t.muted), Span::styled(v, t.text)]);
    // what is wrong first (the state, how old the numbers are, the problems), then the facts
    let mut lines = vec![field("state", format!("{} {}", c.conn.label(), c.conn.detail().unwrap_or("")))];
    if let Some(n) = stale_note(c, cx.now()) {
        lines.push(field("numbers", n));
    }
    let inner_w = text_area.width.saturating_sub(2);
    let rows_of = |l: &Line<'static>| Paragraph::new(l.clone()).wrap(Wrap { trim: true }).line_count(inner_w);
    let room = (text_area.height as usize).saturating_sub(2 + lines.iter().map(rows_of).sum::<usize>());
    lines.extend(problem_lines(cx, c, room, &rows_of));
    lines.push(Line::default());
    lines.push(field("server", c.server.clone()));
    lines.push(field(
        "gpu models",
        c.nodes
            .as_ref()
            .map(|n| n.gpu_products.iter().cloned().collect::<Vec<_>>().join(", "))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DASH.into()),
    ));
    if !c.forbidden.is_empty() {
        lines.push(field("forbidden", c.forbidden.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
    for (res, n) in c.malformed.iter().filter(|(_, n)| **n > 0) {
        lines.push(field("malformed", format!("{n} {res} could not be decoded and are left out")));
    }
    // a hub: its ManagedClusterSets, each with its members counted
    let sets: Vec<String> = crate::store::hub::sets(cx.fleet)
        .into_iter()
        .filter(|s| s.hub == c.context)
        .map(|s| {
            let down = if s.unavailable > 0 { format!(", {} unavailable", s.unavailable) } else { String::new() };
            format!("{} {} ({}{down})", s.name, s.clusters, s.rule)
        })
        .collect();
    if !sets.is_empty() {
        lines.push(field("cluster sets", sets.join(" · ")));
    }
    // rows the detail leaves (a big screen): the fleet's open problems, worst first, so the
    // first screen ranks every cluster's trouble, not only the selected one's
    let used = lines.iter().map(rows_of).sum::<usize>() as u16 + 2;
    let (text_area, fleet_area) = if cx.focus.is_none() {
        crate::ui::widgets::table::split_below(text_area, used, FLEET_MIN)
    } else {
        (text_area, None)
    };
    if let Some(at) = fleet_area {
        draw_fleet_problems(f, at, cx);
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", cx.display_name(&c.context)))
                .border_style(t.muted),
        ),
        text_area,
    );
    if spark_h == 0 {
        return;
    }
    let data: Vec<u64> = c.latency.iter().copied().collect();
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .style(t.accent)
            .block(Block::default().borders(Borders::ALL).title(" API latency, last probes ").border_style(t.muted)),
        spark_area,
    );
}

/// A problem's state as the Problems tab words it (a standing finding is not "firing").
fn state_word(p: &crate::store::problems::Problem) -> &'static str {
    if p.unknown.is_some() {
        "unknown"
    } else if p.fired_at.is_none() {
        "pending"
    } else if p.standing {
        "standing"
    } else {
        "firing"
    }
}

/// The rows the fleet's problems want before they are listed under the selected context.
const FLEET_MIN: u16 = 6;

/// Every cluster's open problems in the Problems tab's order (incidents first, worst, newest),
/// one a line with its cluster, as many as fit; ages to the minute so a clock alone does not
/// redraw the first screen.
fn draw_fleet_problems(f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let now = cx.now();
    let open: Vec<&crate::store::problems::Problem> =
        cx.fleet.problems.all().into_iter().filter(|p| !p.resolved() && p.under.is_none()).collect();
    let room = area.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for p in open.iter().take(room) {
        let style = match (p.incident(), p.severity) {
            (false, _) => t.muted,
            (true, crate::store::problems::Severity::Critical) => t.crit,
            (true, crate::store::problems::Severity::Warning) => t.warn,
            (true, crate::store::problems::Severity::Info) => t.muted,
        };
        let at = p.cluster.map(|c| cx.display_name(&cx.cluster(c).context)).unwrap_or("fleet");
        let age = fmt::age_to_the_minute((now - p.since).max(0.0) as i64, p.since_lower_bound);
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", p.severity.mark()), style),
            Span::styled(format!("{:<8} {age:>6}  ", state_word(p)), t.muted),
            Span::styled(format!("{at} "), t.accent),
            Span::styled(format!("{} {}: ", p.object.kind, p.object.path()), t.text),
            Span::styled(p.reason.clone(), if p.incident() { t.text } else { t.muted }),
        ]));
    }
    let more = open.len().saturating_sub(lines.len());
    let title = match (open.len(), more) {
        (0, _) => " the fleet: nothing open ".to_string(),
        (n, 0) => format!(" the fleet's open problems ({n}) · worst first · tab 2: each with Enter to its source "),
        (n, m) => format!(" the fleet's open problems ({n}, {m} more in tab 2) · worst first "),
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted)),
        area,
    );
}

/// What is wrong on a cluster, in the order the Problems tab gives (incidents first, worst,
/// newest): a heading, then as many problems as fit `room` rows once wrapped (`rows_of`), a row
/// kept for the count of the rest. Nothing when nothing is open.
fn problem_lines(
    cx: &Ctx,
    c: &ClusterState,
    room: usize,
    rows_of: &dyn Fn(&Line<'static>) -> usize,
) -> Vec<Line<'static>> {
    let t = cx.theme;
    let index = cx.fleet.clusters.iter().position(|x| x.context == c.context);
    let open: Vec<&crate::store::problems::Problem> = cx
        .fleet
        .problems
        .all()
        .into_iter()
        .filter(|p| p.cluster.is_some() && p.cluster == index && !p.resolved())
        .collect();
    if open.is_empty() {
        return Vec::new();
    }
    let now = cx.now();
    let mut lines = vec![Line::from(Span::styled(
        format!("problems ({}) · tab 2 lists them, Enter there goes to each", open.len()),
        t.muted,
    ))];
    let mut left = room.saturating_sub(1);
    let mut shown = 0;
    for p in open.iter() {
        let style = match p.severity {
            crate::store::problems::Severity::Critical => t.crit,
            crate::store::problems::Severity::Warning => t.warn,
            crate::store::problems::Severity::Info => t.muted,
        };
        let state = state_word(p);
        // to the minute: the first screen is not redrawn every second for the ages alone
        let age = fmt::age_to_the_minute((now - p.since).max(0.0) as i64, p.since_lower_bound);
        let line = Line::from(vec![
            Span::styled(format!("{} ", p.severity.mark()), style),
            Span::styled(format!("{state:<8} {age:>6}  "), t.muted),
            Span::styled(format!("{} {} ", p.object.kind, p.object.path()), t.text),
            Span::styled(p.reason.clone(), t.text),
        ]);
        let need = rows_of(&line) + usize::from(shown + 1 < open.len());
        if need > left && shown > 0 {
            break;
        }
        left = left.saturating_sub(rows_of(&line));
        lines.push(line);
        shown += 1;
    }
    if open.len() > shown {
        lines.push(Line::from(Span::styled(format!("… and {} more", open.len() - shown), t.muted)));
    }
    lines
}
