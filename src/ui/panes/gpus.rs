//! GPUs and cost: every GPU the clusters' dcgm-exporters report, by cluster and node, with its
//! utilisation, memory, power, temperature, last XID and the pod holding it (idle held GPUs
//! with how long kst has seen them idle); under it the cost per model and cluster, from
//! OpenCost (its window named) or from configured prices (marked as an estimate), with dollars
//! per million tokens and GPU-hours per thousand requests. Enter on a GPU opens its pod.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::sources::views::ViewSpec;
use crate::store::gpus::{self, Allocation, CostSource, GpuSample, ModelCost};
use crate::store::pane::PaneId;
use crate::store::rules;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, Col, DataTable, ListState};

/// The order of the GPU list.
#[derive(Default, Clone, Copy, PartialEq)]
enum Sort {
    #[default]
    Node,
    /// Least busy first: idle held GPUs on top.
    Util,
}

/// What the lower table shows: cost per model (and pool), or allocation against use and cost
/// per team, namespace or cluster.
const LOWER: &[&str] = &["model", "team", "namespace", "cluster"];

#[derive(Default)]
pub struct Gpus {
    list: ListState,
    costs: ListState,
    sort: Sort,
    /// Index in `LOWER`.
    lower: usize,
}

fn rows<'a>(cx: &Ctx<'a>, sort: Sort) -> Vec<(usize, &'a GpuSample)> {
    let mut out: Vec<(usize, &GpuSample)> = cx
        .cluster_indices()
        .into_iter()
        .flat_map(|i| cx.fleet.clusters[i].gpus.gpus().map(move |g| (i, g)))
        .filter(|(i, g)| {
            cx.keep(|| {
                let pod = g.pod.as_ref().map(|p| format!("{}/{}", p.0, p.1)).unwrap_or_default();
                format!(
                    "{} {} {} {pod} {}",
                    cx.fleet.clusters[*i].context,
                    g.node,
                    g.model_name,
                    g.model.clone().unwrap_or_default()
                )
            })
        })
        .collect();
    if sort == Sort::Util {
        out.sort_by(|a, b| {
            let u = |g: &GpuSample| g.util.unwrap_or(f64::INFINITY);
            b.1.pod.is_some().cmp(&a.1.pod.is_some()).then(u(a.1).total_cmp(&u(b.1)))
        });
    }
    out
}

fn key(cx: &Ctx, (i, g): &(usize, &GpuSample)) -> String {
    format!("{}/{}", cx.fleet.clusters[*i].context, g.id())
}

fn allocation(cx: &Ctx, by: &'static str) -> Vec<Allocation> {
    let focus = cx.cluster_indices();
    gpus::allocation_by(cx.fleet, by, &cx.fleet.gpu_prices)
        .into_iter()
        .filter(|a| focus.contains(&a.cluster))
        .filter(|a| cx.keep(|| format!("{} {}", a.key, a.context)))
        .collect()
}

/// Where a cost came from, in words, styled by how much to trust it.
fn source_cell(
    t: &crate::theme::Theme,
    source: &Option<CostSource>,
    missing: &Option<String>,
) -> (String, ratatui::style::Style) {
    match (source, missing) {
        (Some(CostSource::Opencost { window }), _) => (format!("opencost {window}"), t.ok),
        (Some(CostSource::Estimate { gpu_hour, product }), _) => {
            (format!("estimate: ${gpu_hour}/GPU-h {product}"), t.warn)
        }
        (None, Some(why)) => (format!("{DASH} {why}"), t.muted),
        (None, None) => (DASH.into(), t.muted),
    }
}

impl Gpus {
    fn draw_model_costs(&mut self, f: &mut Frame, area: Rect, cx: &Ctx, c: &[ModelCost]) {
        let t = cx.theme;
        let mut cost_table = DataTable::new(
            " Cost per model and cluster (v: by team, namespace, cluster) ".to_string(),
            vec![
                Col::name("MODEL @ CLUSTER").min(16),
                Col::whole("GPUS"),
                Col::whole("$/H"),
                Col::whole("$/MTOK"),
                Col::whole("GPU-H/1K REQ").optional(2),
                Col::text("SOURCE").min(11),
            ],
        );
        cost_table.empty = "no model is served on the visible clusters".into();
        for m in c {
            let (source, style) = source_cell(t, &m.source, &m.missing);
            let name = match &m.pool {
                Some(p) => format!("  └ {}", p.rsplit('/').next().unwrap_or(p)),
                None => format!("{} @ {}", fmt::short_model(&m.model), cx.display_name(&m.context)),
            };
            cost_table.rows.push(vec![
                cell(name, t.text),
                cell(m.gpus.to_string(), t.text),
                cell(fmt::opt(m.per_hour, |h| format!("${h:.2}")), t.text),
                cell(fmt::opt(m.per_million_tokens, |p| format!("${p:.2}")), t.text),
                cell(fmt::opt(m.gpu_hours_per_1k_requests, |h| format!("{h:.2}")), t.text),
                cell(source, style),
            ]);
        }
        self.costs.sync(
            &c.iter()
                .map(|m| format!("{} {} {}", m.model, m.context, m.pool.clone().unwrap_or_default()))
                .collect::<Vec<_>>(),
        );
        cost_table.draw(f, area, &mut self.costs, t);
    }

    fn draw_allocation(&mut self, f: &mut Frame, area: Rect, cx: &Ctx, by: &'static str, rows: &[Allocation]) {
        let t = cx.theme;
        let since = rows.iter().filter_map(|a| a.watching_since).fold(f64::INFINITY, f64::min);
        let since = if since.is_finite() {
            format!(" · idle since kst began watching, {} ago", fmt::duration((cx.now() - since) as i64))
        } else {
            String::new()
        };
        let mut table = DataTable::new(
            format!(" GPUs and cost per {by}{since} (v: next) "),
            vec![
                Col::name(if by == "cluster" { "CLUSTER" } else { "KEY @ CLUSTER" }).min(14),
                Col::whole("REQ"),
                Col::whole("HELD"),
                Col::whole("BUSY"),
                Col::whole("UTIL").optional(3),
                Col::whole("IDLE GPU-H").optional(2),
                Col::whole("$/H"),
                Col::text("SOURCE").min(11),
            ],
        );
        table.empty = format!("no GPU held or asked for on the visible clusters (by {by})");
        for a in rows {
            let (source, style) = source_cell(t, &a.source, &a.missing);
            let name = if by == "cluster" {
                cx.display_name(&a.context).to_string()
            } else {
                format!("{} @ {}", a.key, cx.display_name(&a.context))
            };
            table.rows.push(vec![
                cell(name, t.text),
                cell(
                    if a.pending > 0 { format!("{} (+{})", a.requested, a.pending) } else { a.requested.to_string() },
                    if a.pending > 0 { t.warn } else { t.text },
                ),
                cell(a.held.to_string(), t.text),
                cell(a.busy.to_string(), t.text),
                cell(fmt::opt(a.util_avg, |u| format!("{:.0}%", u * 100.0)), t.text),
                cell(format!("{:.2}", a.idle_gpu_hours), if a.idle_gpu_hours > 0.0 { t.warn } else { t.text }),
                cell(fmt::opt(a.per_hour, |h| format!("${h:.2}")), t.text),
                cell(source, style),
            ]);
        }
        self.costs.sync(&rows.iter().map(|a| format!("{} {}", a.key, a.context)).collect::<Vec<_>>());
        table.draw(f, area, &mut self.costs, t);
    }
}

fn costs(cx: &Ctx) -> Vec<ModelCost> {
    let focus = cx.cluster_indices();
    gpus::model_costs(cx.fleet, &cx.reading(), &cx.fleet.gpu_prices)
        .into_iter()
        .filter(|c| focus.contains(&c.cluster))
        .filter(|c| cx.keep(|| format!("{} {} {}", c.model, c.context, c.pool.clone().unwrap_or_default())))
        .collect()
}

impl Pane for Gpus {
    fn id(&self) -> PaneId {
        PaneId::Gpus
    }
    fn title(&self) -> &'static str {
        "GPUs and cost"
    }
    fn short_title(&self) -> &'static str {
        "GPUs"
    }
    fn group(&self) -> Group {
        Group::Capacity
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["gpu", "cost"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        fleet.clusters.iter().any(|c| c.gpus.exporters.is_some_and(|n| n > 0))
    }
    /// `find` is `context/node/gpu`.
    fn reveal(&mut self, _context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal("", find);
        true
    }
}

impl Component for Gpus {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("UTIL", "DCGM_FI_DEV_GPU_UTIL (DCGM_FI_PROF_GR_ENGINE_ACTIVE under MIG) at the last scrape"),
            ("idle 150m", "held by a pod but under 10% busy, for as long as kst has seen it so"),
            ("MEM 90%", "framebuffer used of the GPU's (vLLM takes 90% up front)"),
            ("XID 79", "the last XID error the driver reported for the GPU"),
            ("GPU 6.1", "MIG instance 1 of GPU 6 (its profile, e.g. 3g.40gb, under the tables)"),
            ("$/H opencost 1h", "OpenCost's allocation cost over the last hour (all the pods' resources)"),
            ("$/H estimate", "configured price per GPU-hour x GPUs held now: GPUs only"),
            ("$/MTOK", "dollars per million tokens, prompt and generated, at the current token rate"),
            ("└ pool", "a pool's share of its model on that cluster (its servers' OpenCost rows, or its GPUs' price)"),
            ("REQ 5 (+1)", "GPUs held plus GPUs asked for by pods the scheduler has not placed (+1)"),
            ("IDLE GPU-H", "GPU-hours held but under 10% busy, as kst has seen them since it started watching"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the pod holding the GPU"),
            Hint::action(Action::Sort, "sort: by node / least busy first"),
            Hint::action(Action::Layout, "cost by model / team / namespace / cluster"),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let r = rows(cx, self.sort);
        let k: Vec<String> = r.iter().map(|x| key(cx, x)).collect();
        if let Some(o) = super::motion(&mut self.list, action, &k) {
            return o;
        }
        match action {
            Some(Action::Sort) => {
                self.sort = if self.sort == Sort::Node { Sort::Util } else { Sort::Node };
                Outcome::Redraw
            }
            Some(Action::Layout) => {
                self.lower = (self.lower + 1) % LOWER.len();
                Outcome::Redraw
            }
            Some(Action::Select) => {
                self.list.sync(&k);
                match self.list.selected().and_then(|i| r.get(i)) {
                    Some((i, g)) => match &g.pod {
                        Some((ns, pod)) => Outcome::Open(
                            ViewSpec::Pod { cluster: *i, namespace: ns.clone(), name: pod.clone() },
                            cx.qualified(*i, pod),
                        ),
                        None => Outcome::Flash(format!("GPU {} on {} is held by no pod", g.gpu, g.node)),
                    },
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let r = rows(cx, self.sort);
        self.list.sync(&r.iter().map(|x| key(cx, x)).collect::<Vec<_>>());
        // the node and device, then the UUID `nvidia-smi -i` takes
        r.get(self.list.selected()?).map(|(_, g)| format!("{} {}", g.id(), g.uuid))
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let now = cx.now();
        let r = rows(cx, self.sort);
        let c = costs(cx);
        let by = LOWER[self.lower];
        let alloc = if by == "model" { Vec::new() } else { allocation(cx, by) };
        let lower_rows = if by == "model" { c.len() } else { alloc.len() };
        let cost_height = (lower_rows as u16 + 3).min(area.height / 3).max(4);
        let [gpu_area, cost_area, note_area] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(cost_height), Constraint::Length(2)]).areas(area);

        let held = r.iter().filter(|(_, g)| g.pod.is_some()).count();
        let busy = r.iter().filter(|(_, g)| g.busy()).count();
        // a MIG slice is a row but not a GPU: the count agrees with the header's GPUs
        let whole = r.iter().filter(|(_, g)| g.mig.is_none()).count();
        let split: std::collections::BTreeSet<(usize, &str, &str)> =
            r.iter().filter(|(_, g)| g.mig.is_some()).map(|(c, g)| (*c, g.node.as_str(), g.gpu.as_str())).collect();
        let slices = r.len() - whole;
        let count = match slices {
            0 => format!("{whole}"),
            _ => format!("{} · {slices} MIG slices of {}", whole + split.len(), split.len()),
        };
        let mut table = DataTable::new(
            format!(
                " GPUs ({count}) · {held} held, {busy} busy · {} ",
                if self.sort == Sort::Util { "least busy first" } else { "by node" }
            ),
            vec![
                Col::name("CLUSTER/NODE").min(14),
                Col::whole("GPU"),
                Col::text("UTIL").min(9),
                Col::whole("MEM").optional(2),
                Col::whole("POWER").optional(4),
                Col::whole("TEMP").optional(5),
                Col::whole("XID").optional(3),
                Col::name("HELD BY").min(10),
                Col::text("MODEL").optional(6),
                Col::whole("TEAM").optional(6),
                Col::whole("IDLE").optional(1),
            ],
        );
        table.empty = "no GPU reported: no dcgm-exporter on the visible clusters (or it has not answered yet)".into();
        for (i, g) in &r {
            let context = cx.display_name(&cx.fleet.clusters[*i].context);
            let util = match g.util {
                Some(u) => format!("{} {:>3.0}%", fmt::bar(u, 4), u * 100.0),
                None => DASH.into(),
            };
            let util_style = match (g.util, g.pod.is_some()) {
                (Some(u), true) if u < rules::GPU_BUSY => t.warn,
                (Some(_), _) => t.text,
                (None, _) => t.muted,
            };
            let mem = g.fb_used().map(|m| format!("{:.0}%", m * 100.0)).unwrap_or_else(|| DASH.into());
            let mem_style = if g.fb_used().is_some_and(|m| rules::levels::GPU_MEMORY.level(m) != rules::Level::Ok) {
                t.warn
            } else {
                t.text
            };
            let idle = cx.fleet.clusters[*i]
                .gpus
                .idle_since
                .get(&g.id())
                .map(|since| format!("idle {}", fmt::duration((now - since) as i64)))
                .unwrap_or_default();
            table.rows.push(vec![
                cell(format!("{context}/{}", g.node.strip_prefix(&format!("{context}-")).unwrap_or(&g.node)), t.text),
                cell(
                    match &g.mig {
                        // `6.1`: instance 1 of GPU 6 (its profile is in the line under the tables)
                        Some(m) => format!("{}.{}", g.gpu, m.rsplit('#').next().unwrap_or("?")),
                        None => g.gpu.clone(),
                    },
                    t.text,
                ),
                cell(util, util_style),
                cell(mem, mem_style),
                cell(fmt::opt(g.power_w, |w| format!("{w:.0}W")), t.text),
                cell(fmt::opt(g.temp_c, |c| format!("{c:.0}°C")), t.text),
                cell(if g.has_xid() { format!("{:.0}", g.xid.unwrap_or(0.0)) } else { String::new() }, t.crit),
                cell(
                    g.pod.as_ref().map(|p| format!("{}/{}", p.0, p.1)).unwrap_or_else(|| "free".into()),
                    if g.pod.is_some() { t.text } else { t.muted },
                ),
                cell(g.model.clone().unwrap_or_default(), t.text),
                cell(g.team.clone().unwrap_or_default(), t.text),
                cell(idle, t.warn),
            ]);
        }
        self.list.sync(&r.iter().map(|x| key(cx, x)).collect::<Vec<_>>());
        table.draw(f, gpu_area, &mut self.list, t);

        if LOWER[self.lower] == "model" {
            self.draw_model_costs(f, cost_area, cx, &c);
        } else {
            self.draw_allocation(f, cost_area, cx, by, &alloc);
        }

        // the selected GPU whole, then what cannot be read
        let mut spans = Vec::new();
        if let Some((i, g)) = self.list.selected().and_then(|s| r.get(s)) {
            spans.push(Span::styled(format!("{} on {}: ", g.model_name, cx.fleet.clusters[*i].context), t.accent));
            spans.push(Span::styled(format!("{} ", g.uuid), t.muted));
            if let Some(m) = &g.mig {
                spans.push(Span::styled(format!("· MIG {m} "), t.text));
            }
            if let (Some(u), Some(tot)) = (g.fb_used_mib, g.fb_total_mib()) {
                spans.push(Span::styled(format!("· memory {:.1} of {:.1} GiB ", u / 1024.0, tot / 1024.0), t.text));
            }
            if g.has_xid() {
                spans.push(Span::styled(format!("· XID {:.0} ", g.xid.unwrap_or(0.0)), t.crit));
            }
        }
        for i in cx.cluster_indices() {
            let c = &cx.fleet.clusters[i];
            if let Some(via) = &c.gpus.via {
                spans.push(Span::styled(format!("· {}: {via} ", c.context), t.muted));
            }
            for (node, why) in c.gpus.failing() {
                spans.push(Span::styled(format!("· {}/{node}: {why} ", c.context,), t.warn));
            }
            if let Some(Err(why)) = c.gpus.cost.as_ref().map(|k| &k.result) {
                if c.gpus.exporters.is_some_and(|n| n > 0) {
                    spans.push(Span::styled(format!("· {}: {why} ", c.context), t.muted));
                }
            }
        }
        f.render_widget(Paragraph::new(Line::from(spans)).wrap(Wrap { trim: true }), note_area);
    }
}
