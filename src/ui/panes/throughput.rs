//! Throughput: prefill (prompt) and decode (generation) tokens per second, fleet-wide as a
//! time chart and per pool; TTFT and ITL percentiles; queue; the prefill:decode ratio.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::rules;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::rules::judged;
use crate::ui::widgets::fmt::{self, opt, pair};
use crate::ui::widgets::table::{cell, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Throughput {
    list: ListState,
}

/// Fleet series over the visible pools: each pool's latest round at each grid time, summed
/// (store/rates.rs `sum_as_of`), so the total never flaps between clusters' rounds.
/// (time, tokens/s) points of one chart line.
type Line = Vec<(f64, f64)>;

fn series(cx: &Ctx) -> (Line, Line) {
    // per pool: (time, (prefill, decode tokens/s))
    type Ring = Vec<(f64, (f64, f64))>;
    let rings: Vec<Ring> = cx
        .pools()
        .into_iter()
        .filter_map(|(i, p)| cx.cluster(i).llmd.throughput.get(&p.key()))
        .map(|ring| ring.iter().map(|pt| (pt.at, pt.v)).collect())
        .collect();
    let now = cx.now();
    let policy = cx.fleet.metrics;
    // a grid a few points per stale interval; the span the rings cover, at most 10 minutes
    let step = (policy.stale_after / 3.0).max(1.0);
    let oldest = rings.iter().filter_map(|r| r.first().map(|p| p.0)).reduce(f64::min).unwrap_or(now);
    let span = (now - oldest).clamp(0.0, 600.0);
    let total = crate::store::rates::sum_as_of(rings.iter().map(Vec::as_slice), now, step, span, policy.stale_after);
    let pre = total.iter().map(|(t, v)| (t - now, v.0)).collect();
    let dec = total.iter().map(|(t, v)| (t - now, v.1)).collect();
    (pre, dec)
}

fn draw_chart(f: &mut Frame, chart_area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let (pre, dec) = series(cx);
    let ymax = pre.iter().chain(dec.iter()).map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let xmin = pre.first().map(|p| p.0).unwrap_or(-300.0).min(-60.0);
    let datasets = vec![
        Dataset::default()
            .name("prefill tok/s")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.accent)
            .data(&pre),
        Dataset::default()
            .name("decode tok/s")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.ok)
            .data(&dec),
    ];
    let last = |s: &Vec<(f64, f64)>| s.last().map(|p| fmt::num(p.1)).unwrap_or_else(|| "—".into());
    let title = format!(" Fleet tokens/s: prefill {} · decode {} ", last(&pre), last(&dec));
    let chart = Chart::new(datasets)
        .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted))
        .x_axis(
            Axis::default()
                .bounds([xmin, 0.0])
                .labels([Span::raw(format!("{:.0}s", xmin)), Span::raw("now")])
                .style(t.muted),
        )
        .y_axis(Axis::default().bounds([0.0, ymax]).labels([Span::raw("0"), Span::raw(fmt::num(ymax))]).style(t.muted));
    if pre.is_empty() && dec.is_empty() {
        f.render_widget(
            Block::default()
                .borders(Borders::ALL)
                .title(" Fleet tokens/s: — (no scrape round yet) ")
                .border_style(t.muted),
            chart_area,
        );
    } else {
        f.render_widget(chart, chart_area);
    }
}

impl Pane for Throughput {
    fn id(&self) -> PaneId {
        PaneId::Throughput
    }
    fn title(&self) -> &'static str {
        "Throughput"
    }
    fn short_title(&self) -> &'static str {
        "Tput"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["tokens"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_llmd(fleet)
    }
}

impl Component for Throughput {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("P:D", "running requests on prefill over decode servers (! above 3)"),
            ("p50/99", "percentiles over the rate window"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "the pool's pods")]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let pools = cx.pools();
        let keys = super::serving::pool_keys(cx, &pools);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| pools.get(i)) {
                    Some((i, p)) => super::serving::pool_pods(cx, *i, p),
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
        let [chart_area, table_area] = Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(area);
        draw_chart(f, chart_area, cx);
        let pools = cx.pools();
        let reading = cx.reading();
        let cols = vec![
            Col::name("POOL").min(16),
            Col::whole("PREFILL tok/s"),
            Col::whole("DECODE tok/s"),
            Col::whole("TTFT p50/99"),
            Col::whole("ITL p50/99"),
            Col::whole("QUEUE"),
            Col::whole("P:D"),
        ];
        let title = format!(
            " Per pool (tokens/s over {}; P:D = running prefill/decode, ! above 3) ",
            cx.fleet.metrics.window_text()
        );
        let mut table = DataTable::new(title, cols);
        table.empty = "no inference pools on the visible clusters".into();
        for (i, p) in &pools {
            let v = cx.cluster(*i).llmd.pool_view(p, &reading);
            let q = |h: &Option<crate::store::llmd::Histogram>, x: f64| h.as_ref().and_then(|h| h.quantile(x));
            let (ratio, ratio_style) =
                judged(t, &rules::levels::PD_RATIO, v.pd_running_ratio, opt(v.pd_running_ratio, |r| format!("{r:.1}")));
            table.rows.push(vec![
                cell(cx.qualified(*i, &p.name), t.text),
                cell(opt(v.prefill_tps, fmt::num), t.text),
                cell(opt(v.decode_tps, fmt::num), t.text),
                cell(pair(q(&v.ttft, 0.5), q(&v.ttft, 0.99)), t.text),
                cell(pair(q(&v.itl, 0.5), q(&v.itl, 0.99)), t.text),
                cell(opt(v.queue, fmt::count), t.text),
                cell(ratio, ratio_style),
            ]);
        }
        self.list.sync(&super::serving::pool_keys(cx, &pools));
        // the rows a short list leaves (a big screen) list the selected pool's servers: which
        // of them makes the tokens, which is slow
        let need = (pools.len() as u16 + 3).max(5);
        let (table_area, members_area) = split_below(table_area, need, super::serving::MEMBERS_MIN);
        table.draw(f, table_area, &mut self.list, t);
        if let (Some(area), Some((i, p))) = (members_area, self.list.selected().and_then(|k| pools.get(k))) {
            super::serving::draw_members(f, area, cx, *i, p);
        }
    }
}
