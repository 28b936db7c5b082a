//! Serving: per cluster and pool, prefill and decode pods, request and error rates, TTFT
//! and ITL percentiles, queue, the P/D split; the selected pool's request path, and (where the
//! pools leave rows) its model servers one by one.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::llmd::{Freshness, Histogram, PoolInfo, PoolView, ServerInfo};
use crate::store::pane::PaneId;
use crate::store::rules;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::rules::judged;
use crate::ui::widgets::fmt::{self, opt};
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Serving {
    list: ListState,
}

/// The pool rows of the visible clusters, and their keys (cluster/namespace/name).
pub fn pool_keys(cx: &Ctx, pools: &[(usize, &PoolInfo)]) -> Vec<String> {
    pools.iter().map(|(i, p)| format!("{}/{}/{}", cx.cluster(*i).context, p.namespace, p.name)).collect()
}

/// The worst objective of the pool's SLOs: `97.2% ✖` (share of requests that met it), empty
/// when no `[[slo]]` selects the pool.
fn slo_cell(cx: &Ctx, p: &PoolInfo, v: &PoolView) -> ratatui::text::Line<'static> {
    let t = cx.theme;
    let all = crate::store::slo::for_pool(&cx.fleet.slos, p, v);
    let worst = all
        .iter()
        .filter(|a| a.achieved.is_some())
        .min_by(|a, b| (a.achieved.unwrap_or(1.0) - a.goal).total_cmp(&(b.achieved.unwrap_or(1.0) - b.goal)));
    match (worst, all.is_empty()) {
        (_, true) => cell(String::new(), t.text),
        (None, false) => cell(DASH.to_string(), t.muted),
        (Some(a), false) => {
            let ok = a.met() == Some(true);
            cell(
                format!("{:.1}% {}", a.achieved.unwrap_or(0.0) * 100.0, if ok { "✓" } else { "✖" }),
                if ok { t.ok } else { t.crit },
            )
        }
    }
}

/// The pool's llm-d-managed autoscalers: `3/3 ▲` (now / max; at max wanting more).
fn scale_cell(cx: &Ctx, cluster: usize, p: &PoolInfo) -> ratatui::text::Line<'static> {
    let t = cx.theme;
    let mut text = Vec::new();
    let mut style = t.text;
    for a in cx.cluster(cluster).llmd.autoscalers.iter().filter(|a| a.serves(p)) {
        let mut s = format!(
            "{}/{}",
            a.current.map(|c| c.to_string()).unwrap_or_else(|| DASH.into()),
            a.max.map(|c| c.to_string()).unwrap_or_else(|| DASH.into())
        );
        if a.blocked.is_some() {
            s.push_str(" ✖");
            style = t.crit;
        } else if a.at_max() && a.wants_more() {
            s.push_str(" ▲");
            style = t.warn;
        }
        text.push(s);
    }
    cell(text.join(" "), style)
}

/// Enter on a pool: its pods (the pool's own selector).
pub fn pool_pods(cx: &Ctx, cluster: usize, p: &PoolInfo) -> Outcome {
    let sel = p.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    super::pods_of(cx, cluster, &p.namespace, &p.name, sel)
}

fn q(h: &Option<Histogram>, x: f64) -> Option<f64> {
    h.as_ref().and_then(|h| h.quantile(x)).filter(|v| v.is_finite())
}

impl Pane for Serving {
    fn id(&self) -> PaneId {
        PaneId::Serving
    }
    fn title(&self) -> &'static str {
        "Serving"
    }
    fn short_title(&self) -> &'static str {
        "Serve"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["pools", "inferencepools"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_llmd(fleet)
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        true
    }
}

impl Component for Serving {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("PREFILL DECODE 2/3", "model servers Ready of all, per role"),
            ("✖ (DECODE)", "the EPP still routes requests to a pod that is not Ready"),
            ("REQ/S ERR", "requests per second and the error share, over the rate window"),
            ("TTFT ITL p50 p99", "time to first token, inter-token latency percentiles over the window"),
            ("QUEUE", "requests waiting on the pool's servers"),
            ("P/D", "share of requests the EPP sent through a prefill server"),
            (
                "SCALE 3/3 ▲ ✖",
                "WVA-managed autoscaler: replicas now / max; ▲ at max and wants more; ✖ cannot scale (empty: none)",
            ),
            ("! !!", "over the llm-d warning / critical threshold"),
            ("decode*", "a server with no llm-d.ai/role label: it serves decode, as the router assumes"),
            ("(36s ago)", "the last numbers of servers that stopped answering"),
            ("EPP … ▲", "the endpoint picker's metrics are missing (why below)"),
            ("—", "unknown; the reason is beside it"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "the pool's pods")]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let pools = cx.pools();
        let keys = pool_keys(cx, &pools);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| pools.get(i)) {
                    Some((i, p)) => pool_pods(cx, *i, p),
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let pools = cx.pools();
        self.list.sync(&super::serving::pool_keys(cx, &pools));
        pools.get(self.list.selected()?).map(|(_, p)| p.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let pools = cx.pools();
        let reading = cx.reading();
        let [table_area, path_area, absent_area] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(6), Constraint::Length(1)]).areas(area);
        // rows the pools do not need (a big screen, few pools) list the selected pool's servers
        let need = (pools.len() as u16 + 3).max(6);
        let (table_area, members_area) = split_below(table_area, need, MEMBERS_MIN);
        let views: Vec<PoolView> = pools.iter().map(|(i, p)| cx.cluster(*i).llmd.pool_view(p, &reading)).collect();
        let cols = vec![
            Col::name("POOL").min(16),
            Col::text("MODEL").min(12).optional(2),
            Col::whole("PREFILL"),
            Col::whole("DECODE"),
            Col::whole("REQ/S"),
            Col::whole("ERR"),
            Col::whole("TTFT p50").optional(3),
            Col::whole("TTFT p99"),
            Col::whole("ITL p50").optional(4),
            Col::whole("ITL p99"),
            Col::whole("QUEUE"),
            Col::whole("P/D").optional(5),
            // only where there is something to say: an llm-d-managed autoscaler, an [[slo]]
            Col::whole("SCALE")
                .optional(6)
                .hidden_if(pools.iter().all(|(i, _)| cx.cluster(*i).llmd.autoscalers.is_empty())),
            Col::whole("SLO").optional(7).hidden_if(cx.fleet.slos.is_empty()),
        ];
        let title = format!(" Inference pools ({}) · rates over {} ", pools.len(), cx.fleet.metrics.window_text());
        let mut table = DataTable::new(title, cols);
        table.empty = "no inference pools on the visible clusters".into();
        for ((i, p), v) in pools.iter().zip(&views) {
            // the last known numbers of pods that stopped answering: dimmed, the age on the name
            let old = v.freshness == Freshness::Stale;
            let age = v
                .observed_at
                .filter(|_| old)
                .map(|at| format!(" ({})", crate::store::llmd::age_text(reading.now - at)))
                .unwrap_or_default();
            let num = if old { t.muted } else { t.text };
            let pods = |r: usize, n: usize| if n == 0 { DASH.to_string() } else { format!("{r}/{n}") };
            let pods_style = |r: usize, n: usize| if r < n { t.warn } else { num };
            let (err, err_style) = judged(t, &rules::levels::ERROR_RATIO, v.error_rate, opt(v.error_rate, fmt::pct));
            let ttft99 = q(&v.ttft, 0.99);
            let (ttft, ttft_style) = judged(t, &rules::levels::TTFT_P99, ttft99, opt(ttft99, fmt::secs));
            let decode = format!(
                "{}{}",
                pods(v.decode_ready, v.decode_total),
                if v.routed_to_unready.is_empty() { "" } else { " ✖" }
            );
            table.rows.push(vec![
                cell(format!("{}{age}", cx.qualified(*i, &p.name)), if p.problem.is_some() { t.crit } else { t.text }),
                cell(v.model.as_deref().map(fmt::short_model).unwrap_or(DASH), num),
                cell(pods(v.prefill_ready, v.prefill_total), pods_style(v.prefill_ready, v.prefill_total)),
                cell(
                    decode,
                    if v.routed_to_unready.is_empty() { pods_style(v.decode_ready, v.decode_total) } else { t.crit },
                ),
                cell(opt(v.request_rate, fmt::num), num),
                cell(err, if old { num } else { err_style }),
                cell(opt(q(&v.ttft, 0.5), fmt::secs), num),
                cell(ttft, if old { num } else { ttft_style }),
                cell(opt(q(&v.itl, 0.5), fmt::secs), num),
                cell(opt(q(&v.itl, 0.99), fmt::secs), num),
                cell(opt(v.queue, fmt::count), num),
                cell(opt(v.pd_share, fmt::pct), num),
                scale_cell(cx, *i, p),
                slo_cell(cx, p, v),
            ]);
        }
        self.list.sync(&pool_keys(cx, &pools));
        table.draw(f, table_area, &mut self.list, t);
        match self.list.selected().and_then(|k| pools.get(k).zip(views.get(k))) {
            Some(((i, p), v)) => {
                draw_path(f, path_area, cx, *i, p, v);
                if let Some(area) = members_area {
                    draw_members(f, area, cx, *i, p);
                }
            }
            None => f.render_widget(
                Block::default().borders(Borders::ALL).title(" request path ").border_style(t.muted),
                path_area,
            ),
        }
        let mut foot = super::llmd_absent_line(cx);
        if views.iter().any(|v| !v.routed_to_unready.is_empty()) {
            foot.spans.insert(0, Span::styled("✖ the EPP still routes to a pod that is not Ready   ", t.crit));
        }
        f.render_widget(Paragraph::new(foot), absent_area);
    }
}

/// The rows the selected pool's servers want before they are listed at all.
pub(super) const MEMBERS_MIN: u16 = 6;

/// The selected pool's model servers (`draw_servers`).
pub(super) fn draw_members(f: &mut Frame, area: Rect, cx: &Ctx, cluster: usize, p: &PoolInfo) {
    let members: Vec<(usize, &ServerInfo)> = cx.cluster(cluster).llmd.members(p).map(|s| (cluster, s)).collect();
    // a wall screen takes no keys: none is offered there
    let enter = if cx.mode == crate::ui::Mode::Kiosk { "" } else { " · Enter: the pool's pods" };
    let title = format!(" Model servers of {} ({}){enter} ", cx.qualified(cluster, &p.name), members.len());
    draw_servers(f, area, cx, title, &members, false);
}

/// Model servers one line each (the cluster first when `with_cluster`): which of them is the hot
/// one, the slow one, the one not ready, and its recent KV cache; rows left over chart the
/// fullest one's KV cache and waiting requests.
pub(super) fn draw_servers(
    f: &mut Frame,
    area: Rect,
    cx: &Ctx,
    title: String,
    servers: &[(usize, &ServerInfo)],
    with_cluster: bool,
) {
    let t = cx.theme;
    let reading = cx.reading();
    let cols = vec![
        Col::name("CLUSTER").min(8).hidden_if(!with_cluster),
        Col::name("POD").min(16),
        Col::whole("ROLE"),
        Col::whole("READY"),
        Col::whole("REQ/S"),
        Col::whole("TTFT p99"),
        Col::whole("KV"),
        Col::whole("RUN/WAIT req"),
        Col::series("KV HISTORY").optional(1),
    ];
    // the rows the list does not need chart the fullest KV cache (where requests back up first)
    let need = (servers.len() as u16 + 3).max(MEMBERS_MIN);
    let (area, trend) = split_below(area, need, super::kv::TREND_MIN);
    let views: Vec<_> = servers.iter().map(|(i, s)| cx.cluster(*i).llmd.view(s, &reading)).collect();
    let fullest = servers
        .iter()
        .zip(&views)
        .filter(|(_, v)| v.fresh())
        .max_by(|a, b| a.1.kv.unwrap_or(0.0).total_cmp(&b.1.kv.unwrap_or(0.0)));
    if let (Some(area), Some(((i, s), v))) = (trend, fullest) {
        let age = v.observed_at.map(|at| reading.now - at);
        super::kv::draw_trends(f, area, cx, *i, s, v.freshness, age, true);
    }
    let mut table = DataTable::new(title, cols);
    table.empty = "no model server of this has been seen".into();
    // as many samples as the history column could hold: about a third of the width
    let history = (area.width as usize / 3).max(6);
    for ((i, s), v) in servers.iter().zip(views) {
        let num = if v.fresh() { t.text } else { t.muted };
        let kv = match (v.kv, &v.stale) {
            (Some(kv), _) if v.freshness != Freshness::Expired => fmt::pct(kv),
            (_, Some(why)) => format!("— {}", fmt::short_reason(why)),
            _ => DASH.to_string(),
        };
        let kv_style = if v.fresh() { crate::ui::rules::kv_style(t, &s.role, v.kv) } else { t.muted };
        table.rows.push(vec![
            cell(cx.display_name(&cx.cluster(*i).context).to_string(), t.text),
            cell(s.name.clone(), t.text),
            cell(s.role.label(), t.text),
            cell(if s.ready { "yes" } else { "no" }, if s.ready { t.text } else { t.warn }),
            cell(opt(v.request_rate, fmt::num), num),
            cell(opt(q(&v.ttft, 0.99), fmt::secs), num),
            cell(kv, kv_style),
            cell(format!("{}/{}", opt(v.running, fmt::count), opt(v.waiting, fmt::count)), num),
            cell(super::kv::sparkline(cx, *i, s, history), t.accent),
        ]);
    }
    table.draw_unselected(f, area, t);
}

/// gateway -> EPP -> prefill -> decode, with the live rates on the arrows.
fn draw_path(f: &mut Frame, area: Rect, cx: &Ctx, cluster: usize, p: &PoolInfo, v: &PoolView) {
    let t = cx.theme;
    let arrow = |s: String| Span::styled(format!(" ─{s}─▶ "), t.muted);
    let rate = opt(v.request_rate, |r| format!("{}/s", fmt::num(r)));
    let epp = match (&p.epp_service, &v.epp_stale) {
        (None, _) => Span::styled("no EPP", t.warn),
        (Some(s), None) => Span::styled(format!("EPP {s}"), t.ok),
        (Some(s), Some(_)) => Span::styled(format!("EPP {s} ▲"), t.warn),
    };
    let mut line = vec![Span::styled("gateway", t.text), arrow(rate), epp];
    if v.prefill_total > 0 {
        let share = opt(v.pd_share, fmt::pct);
        line.push(arrow(format!("{share} of reqs")));
        line.push(Span::styled(
            format!("prefill ×{} {} tok/s", v.prefill_total, opt(v.prefill_tps, fmt::num)),
            t.accent,
        ));
        line.push(arrow("KV".into()));
    } else {
        line.push(arrow(String::new()));
    }
    line.push(Span::styled(format!("decode ×{} {} tok/s", v.decode_total, opt(v.decode_tps, fmt::num)), t.accent));
    let mut lines = vec![Line::from(line)];
    let mut notes = Vec::new();
    if let Some(why) = &p.problem {
        notes.push(Span::styled(format!("pool object is malformed: {why}. "), t.crit));
    }
    for (pod, share) in &v.routed_to_unready {
        notes.push(Span::styled(
            format!("✖ EPP still routes {} of requests to {pod}, which is not Ready. ", fmt::pct(*share)),
            t.crit,
        ));
    }
    if let Some((epp, pods)) = v.epp_ready_mismatch {
        notes.push(Span::styled(format!("▲ EPP counts {epp:.0} ready endpoints, {pods} pods are Ready. "), t.warn));
    }
    if let Some(why) = &v.epp_stale {
        notes.push(Span::styled(format!("EPP: {why}. "), t.warn));
    }
    if v.stale_pods > 0 {
        notes.push(Span::styled(format!("{} pod(s) with stale metrics (KV cache says why). ", v.stale_pods), t.warn));
    }
    if let Some(r) = v.pd_running_ratio.filter(|r| rules::levels::PD_RATIO.level(*r) != rules::Level::Ok) {
        notes.push(Span::styled(format!("! {} (llm-d warning). ", rules::levels::PD_RATIO.reason(r, "")), t.warn));
    }
    lines.push(Line::from(notes));
    // SLOs of this pool, each objective with its share over the window
    let slo = crate::store::slo::for_pool(&cx.fleet.slos, p, v);
    if !slo.is_empty() {
        let mut spans = vec![Span::styled(format!("SLO over {}: ", cx.fleet.metrics.window_text()), t.muted)];
        for a in &slo {
            let (mark, style) = match a.met() {
                Some(true) => ("✓", t.ok),
                Some(false) => ("✖", t.crit),
                None => ("—", t.muted),
            };
            let got = a.achieved.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| DASH.into());
            spans.push(Span::styled(format!("{} {got} of {:.1}% {mark}   ", a.objective, a.goal * 100.0), style));
        }
        lines.push(Line::from(spans));
    }
    // which BindingPolicy put this pool's servers here: a bound Deployment whose pods they are
    let here = &cx.cluster(cluster).context;
    let servers: Vec<&str> = cx
        .cluster(cluster)
        .llmd
        .servers
        .iter()
        .filter(|s| s.pool.as_deref() == Some(p.name.as_str()) && s.namespace == p.namespace)
        .map(|s| s.name.as_str())
        .collect();
    let placed_by = crate::store::placement::placed_by(&cx.fleet.placement_views(), here, |o| {
        o.namespace == p.namespace && servers.iter().any(|s| s.starts_with(&format!("{}-", o.name)))
    });
    if !placed_by.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("placed by: ", t.muted),
            Span::styled(format!("via {}", placed_by.join(", ")), t.accent),
        ]));
    }
    let objectives: Vec<String> = cx.cluster(cluster).llmd.objectives_of(p).map(|o| o.label()).collect();
    if !objectives.is_empty() {
        lines
            .push(Line::from(vec![Span::styled("objectives: ", t.muted), Span::styled(objectives.join(", "), t.text)]));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "{} · {} · selector {}",
            p.api_version,
            p.namespace,
            p.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
        ),
        t.muted,
    )));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default().borders(Borders::ALL).title(format!(" request path: {} ", p.name)).border_style(t.muted),
        ),
        area,
    );
}
