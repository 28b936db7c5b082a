//! Throughput: prefill (prompt) and decode (generation) tokens per second, fleet-wide as a
//! time chart and per pool; TTFT and ITL percentiles; queue; the prefill:decode ratio.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Row, Table};
use ratatui::Frame;

use crate::ui::app::App;
use crate::ui::widgets::fmt::{self, opt, pair};

/// Fleet series: per round time, summed over the visible pools.
fn series(app: &App) -> (Vec<(f64, f64)>, Vec<(f64, f64)>) {
    let mut by_t: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
    for (i, p) in app.pools() {
        if let Some(ring) = app.fleet.clusters[i].llmd.throughput.get(&p.key()) {
            for pt in ring.iter() {
                // rounds of different clusters land in the same few seconds
                let e = by_t.entry((pt.at / 5.0).round() as i64).or_default();
                e.0 += pt.v.0;
                e.1 += pt.v.1;
            }
        }
    }
    let now = app.now();
    let pre = by_t.iter().map(|(k, v)| (*k as f64 * 5.0 - now, v.0)).collect();
    let dec = by_t.iter().map(|(k, v)| (*k as f64 * 5.0 - now, v.1)).collect();
    (pre, dec)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [chart_area, table_area] = Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(area);
    let (pre, dec) = series(app);
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

    let pools = app.pools();
    let rows: Vec<Row> = pools
        .iter()
        .map(|(i, p)| {
            let c = &app.fleet.clusters[*i];
            let v = c.llmd.pool_view(p, &app.reading());
            let q = |h: &Option<crate::store::llmd::Histogram>, x: f64| h.as_ref().and_then(|h| h.quantile(x));
            let ratio_style = if v.pd_running_ratio.is_some_and(|r| r > 3.0) { t.warn } else { t.text };
            Row::new(vec![
                Cell::from(format!("{}/{}", app.display_name(&c.context), p.name)),
                Cell::from(opt(v.prefill_tps, fmt::num)),
                Cell::from(opt(v.decode_tps, fmt::num)),
                Cell::from(pair(q(&v.ttft, 0.5), q(&v.ttft, 0.99))),
                Cell::from(pair(q(&v.itl, 0.5), q(&v.itl, 0.99))),
                Cell::from(opt(v.queue, fmt::num)),
                Cell::from(Span::styled(opt(v.pd_running_ratio, |r| format!("{r:.1}")), ratio_style)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(22),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(6),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(["POOL", "PREFILL/S", "DECODE/S", "TTFT p50/99", "ITL p50/99", "QUEUE", "P:D"]).style(t.header))
    .row_highlight_style(t.selection)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(
                " Per pool (tokens/s over {}; P:D = running prefill/decode, warn > 3) ",
                app.fleet.metrics.window_text()
            ))
            .border_style(t.muted),
    );
    let mut ts = crate::ui::widgets::selection(app.selected, pools.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
}
