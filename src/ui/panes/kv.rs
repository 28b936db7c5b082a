//! KV cache: a gauge per model-server pod, grouped by cluster and pool, with fleet, pool and
//! role averages; bands from the llm-d alert rules (warn above 90%, crit above 95% on
//! decode, `!`/`!!` beside the value so they read without colour); prefix-cache hit rate,
//! preemptions, running/waiting requests and a sparkline of recent KV use; rows the table does
//! not need (a big screen) chart the selected server's KV cache and waiting requests.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::sources::views::ViewSpec;
use crate::store::llmd::{mean_opt, Detail, Freshness, Role, ServerInfo};
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::rules::{kv_style, level, mark};
use crate::ui::widgets::fmt::{self, opt};
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};
use crate::ui::widgets::trend::Trend;

#[derive(Default)]
pub struct KvCache {
    list: ListState,
}

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` KV samples of a server, one cell each.
pub(super) fn sparkline(cx: &Ctx, cluster: usize, s: &ServerInfo, width: usize) -> String {
    let Some(m) = cx.cluster(cluster).llmd.metrics.get(&s.key()) else { return String::new() };
    let vals: Vec<f64> = m.samples.iter().filter_map(|x| x.v.kv_usage).collect();
    vals.iter().rev().take(width).rev().map(|v| SPARK[((v.clamp(0.0, 1.0) * 7.0).round() as usize).min(7)]).collect()
}

/// The rows the charts of the selected server want before they are drawn at all.
pub(super) const TREND_MIN: u16 = 8;

/// A server's KV cache and waiting requests over the samples kept, side by side, as tall as
/// the rows left: what a sparkline of twelve cells only hints at. `named`: the titles say whose
/// (where the server is not the selected row).
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_trends(
    f: &mut Frame,
    area: Rect,
    cx: &Ctx,
    cluster: usize,
    s: &ServerInfo,
    fresh: Freshness,
    age: Option<f64>,
    named: bool,
) {
    let t = cx.theme;
    let of = if named { format!(" of {}", s.name) } else { String::new() };
    let (kv_what, waiting_what) = (format!("KV cache{of}"), format!("waiting requests{of}"));
    let samples: Vec<_> = cx
        .cluster(cluster)
        .llmd
        .metrics
        .get(&s.key())
        .map(|m| m.samples.iter().map(|x| (x.at, x.v.kv_usage, x.v.waiting)).collect())
        .unwrap_or_default();
    // an old newest sample is said, so a flat line is not read as a steady cache
    let note =
        (fresh != Freshness::Fresh).then(|| age.map(|a| format!("numbers {} old", fmt::duration(a as i64)))).flatten();
    let now_kv = samples.last().and_then(|x| x.1);
    let kv = Trend {
        what: &kv_what,
        points: samples.iter().map(|x| (x.0, x.1)).collect(),
        max: Some(1.0),
        text: fmt::pct,
        style: if note.is_some() { t.muted } else { kv_style(t, &s.role, now_kv) },
        muted: t.muted,
        note: note.clone(),
    };
    let waiting = Trend {
        what: &waiting_what,
        points: samples.iter().map(|x| (x.0, x.2)).collect(),
        max: None,
        text: fmt::count,
        style: if note.is_some() { t.muted } else { t.accent },
        muted: t.muted,
        note,
    };
    let [left, right] = Layout::horizontal([Constraint::Ratio(3, 5), Constraint::Ratio(2, 5)]).areas(area);
    kv.draw(f, left);
    waiting.draw(f, right);
}

fn keys(cx: &Ctx, servers: &[(usize, &ServerInfo)]) -> Vec<String> {
    servers.iter().map(|(i, s)| format!("{}/{}/{}", cx.cluster(*i).context, s.namespace, s.name)).collect()
}

impl Pane for KvCache {
    fn id(&self) -> PaneId {
        PaneId::Kv
    }
    fn title(&self) -> &'static str {
        "KV cache"
    }
    fn short_title(&self) -> &'static str {
        "KV"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["kvcache", "servers"]
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

impl Component for KvCache {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("decode*", "no llm-d.ai/role label: serves decode, as the router assumes"),
            ("! !!", "KV use over 90% · over 95% on a decode server"),
            ("74% 3m ago", "the last value of a server that stopped answering"),
            ("PREFIX", "prefix-cache hit rate over the window"),
            ("RUN/WAIT req", "requests running / waiting"),
            ("KV HISTORY", "KV use at the last scrapes, oldest left"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "the model server's pod")]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let servers = cx.servers();
        let keys = keys(cx, &servers);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| servers.get(i)) {
                    Some((i, s)) => Outcome::Open(
                        ViewSpec::Pod { cluster: *i, namespace: s.namespace.clone(), name: s.name.clone() },
                        cx.qualified(*i, &s.name),
                    ),
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let servers = cx.servers();
        self.list.sync(&keys(cx, &servers));
        servers.get(self.list.selected()?).map(|(_, s)| s.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let reading = cx.reading();
        let servers = cx.servers();
        let views: Vec<_> =
            servers.iter().map(|(i, s)| cx.cluster(*i).llmd.view_with(s, &reading, Detail::Counters)).collect();
        let [summary_area, list_area, detail_area] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(3), Constraint::Length(2)]).areas(area);
        // rows the table does not need (a big screen, a short list) show the selected server's
        // history: its borders and header take 3, the charts want TREND_MIN
        let need = servers.len() as u16 + 3;
        let (table_area, trend_area) = split_below(list_area, need.max(8), TREND_MIN);

        let fresh = |pred: &dyn Fn(&ServerInfo) -> bool| {
            mean_opt(servers.iter().zip(&views).filter(|((_, s), v)| v.fresh() && pred(s)).map(|(_, v)| v.kv))
        };
        let fleet = fresh(&|_| true);
        let prefill = fresh(&|s| s.role == Role::Prefill);
        let decode = fresh(&|s| s.role.serves_decode());
        let mut pools: Vec<Span> = vec![Span::styled("pools: ", t.muted)];
        // one pass over the servers, not one per pool: hundreds of clusters have thousands
        let mut by_pool: std::collections::HashMap<(usize, &str), Vec<Option<f64>>> = Default::default();
        for ((ci, s), v) in servers.iter().zip(&views).filter(|(_, v)| v.fresh()) {
            if let Some(pool) = s.pool.as_deref() {
                by_pool.entry((*ci, pool)).or_default().push(v.kv);
            }
        }
        for (i, p) in cx.pools() {
            let avg = by_pool.get(&(i, p.name.as_str())).and_then(|kvs| mean_opt(kvs.iter().copied()));
            pools.push(Span::styled(format!("{} ", p.name), t.text));
            pools.push(Span::styled(format!("{}  ", opt(avg, fmt::pct)), kv_style(t, &Role::Decode, avg)));
        }
        let summary = vec![
            Line::from(vec![
                Span::styled("fleet KV ", t.muted),
                Span::styled(opt(fleet, fmt::pct), kv_style(t, &Role::Decode, fleet)),
                Span::styled("   prefill ", t.muted),
                Span::styled(opt(prefill, fmt::pct), kv_style(t, &Role::Prefill, prefill)),
                Span::styled("   decode ", t.muted),
                Span::styled(opt(decode, fmt::pct), kv_style(t, &Role::Decode, decode)),
                Span::styled("   ! over 90%, !! over 95% on decode · decode*: unlabelled, serves decode", t.muted),
            ]),
            Line::from(pools),
        ];
        f.render_widget(
            Paragraph::new(summary).block(Block::default().borders(Borders::BOTTOM).border_style(t.muted)),
            summary_area,
        );

        let gauge_w = if area.width >= 110 { 14 } else { 8 };
        let cols = vec![
            Col::name("CLUSTER").min(8).hidden_if(cx.focus.is_some()),
            Col::name("POOL").min(12).optional(1),
            Col::name("POD").min(16),
            Col::whole("ROLE"),
            Col::whole("KV CACHE"),
            Col::whole("PREFIX").optional(3),
            Col::whole("PREEMPT/S").optional(4),
            Col::whole("RUN/WAIT req"),
            Col::series("KV HISTORY").optional(5),
        ];
        let title = format!(" Model servers ({}) · rates over {} ", servers.len(), cx.fleet.metrics.window_text());
        let mut table = DataTable::new(title, cols);
        table.empty = "no model servers on the visible clusters".into();
        for ((i, s), v) in servers.iter().zip(&views) {
            // a pod that stopped answering shows its last numbers dimmed, with their age; past
            // the limit only why
            let old = v.freshness == Freshness::Stale;
            let style = if old { t.muted } else { kv_style(t, &s.role, v.kv.filter(|_| v.fresh())) };
            let num = if old { t.muted } else { t.text };
            let age = v.observed_at.map(|at| crate::store::llmd::age_text(reading.now - at)).unwrap_or_default();
            let lv = mark(level(crate::store::rules::levels::kv(s.role.serves_decode()), v.kv.filter(|_| v.fresh())));
            let gauge = match (v.kv, v.freshness, &v.stale) {
                (Some(kv), Freshness::Fresh, _) => format!("{} {:>4}{lv:<2}", fmt::bar(kv, gauge_w), fmt::pct(kv)),
                (Some(kv), Freshness::Stale, _) => format!("{} {age}", fmt::pct(kv)),
                (_, _, Some(why)) => format!("— {}", fmt::short_reason(why)),
                (_, _, None) => "— no KV metric".to_string(),
            };
            table.rows.push(vec![
                cell_ref(cx.display_name(&cx.cluster(*i).context), t.text),
                cell_ref(s.pool.as_deref().unwrap_or("(no pool)"), t.text),
                cell_ref(&s.name, t.text),
                cell(s.role.label(), t.text),
                cell(gauge, style),
                cell(opt(v.prefix_hit_rate, fmt::pct), num),
                cell(opt(v.preemption_rate, |r| format!("{r:.1}")), num),
                cell(
                    if v.freshness == Freshness::Expired {
                        "—".to_string()
                    } else {
                        format!("{}/{}", opt(v.running, fmt::count), opt(v.waiting, fmt::count))
                    },
                    num,
                ),
                cell(sparkline(cx, *i, s, 12), t.accent),
            ]);
        }
        self.list.sync(&keys(cx, &servers));
        table.draw(f, table_area, &mut self.list, t);
        // the selected pod in full: where it runs and, if its numbers are missing, why
        if let Some(((i, s), v)) = self.list.selected().and_then(|k| servers.get(k).zip(views.get(k))) {
            if let Some(area) = trend_area {
                draw_trends(f, area, cx, *i, s, v.freshness, v.observed_at.map(|at| reading.now - at), false);
            }
            let c = cx.cluster(*i);
            let mut spans = vec![
                Span::styled(format!("{} ", s.name), t.accent),
                Span::styled(
                    format!(
                        "{} · {} · node {} · {} GPU · {} restarts · {} · metrics :{}",
                        cx.display_name(&c.context),
                        s.namespace,
                        if s.node.is_empty() { "—" } else { &s.node },
                        s.gpus,
                        s.restarts,
                        s.engine.label(),
                        s.metrics_port
                    ),
                    t.muted,
                ),
            ];
            if let Some(why) = &v.stale {
                spans.push(Span::styled(format!(" · {why}"), t.warn));
            }
            f.render_widget(Paragraph::new(Line::from(spans)).wrap(ratatui::widgets::Wrap { trim: true }), detail_area);
        }
    }
}
