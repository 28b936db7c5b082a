//! Serving: per cluster and pool, prefill and decode pods, request and error rates, TTFT
//! and ITL percentiles, queue, the P/D split; and the selected pool's request path.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::llmd::PoolView;
use crate::ui::app::App;
use crate::ui::widgets::fmt::{self, opt, pair};
use crate::ui::widgets::state::DASH;

/// Clusters that have no LLM-d (or have not answered), said plainly under the table.
pub fn absent_line(app: &App) -> Line<'static> {
    let t = &app.theme;
    let mut spans = Vec::new();
    for i in app.cluster_indices() {
        let c = &app.fleet.clusters[i];
        let why = match (c.conn.reachable(), c.llmd.installed) {
            (false, _) if c.llmd.pools.is_empty() => Some(c.conn.label().to_string()),
            (true, Some(false)) => Some("no InferencePool API".to_string()),
            (true, None) => Some("discovering".to_string()),
            _ => None,
        };
        if let Some(why) = why {
            spans.push(Span::styled(format!("{}: {why}   ", app.display_name(&c.context)), t.muted));
        }
    }
    Line::from(spans)
}

pub fn err_style(app: &App, err: Option<f64>) -> Style {
    match err {
        Some(e) if e > 0.05 => app.theme.crit,
        Some(e) if e > 0.01 => app.theme.warn,
        _ => app.theme.text,
    }
}

pub fn ttft_style(app: &App, p99: Option<f64>) -> Style {
    match p99 {
        Some(v) if v > 30.0 => app.theme.crit,
        Some(v) if v > 10.0 => app.theme.warn,
        _ => app.theme.text,
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let pools = app.pools();
    let reading = app.reading();
    let [table_area, path_area, absent_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(6), Constraint::Length(1)]).areas(area);
    let wide = area.width >= 110;
    let mut header = if wide {
        vec!["POOL", "PREFILL", "DECODE", "REQ/S", "ERR", "TTFT p50/99", "ITL p50/99", "QUEUE"]
    } else {
        vec!["POOL", "PREFILL", "DECODE", "REQ/S", "ERR", "TTFT99", "ITL99", "QUEUE"]
    };
    if wide {
        header.insert(1, "MODEL");
        header.push("P/D");
    }
    let views: Vec<PoolView> = pools.iter().map(|(i, p)| app.fleet.clusters[*i].llmd.pool_view(p, &reading)).collect();
    let rows: Vec<Row> = pools
        .iter()
        .zip(&views)
        .map(|((i, p), v)| {
            let c = &app.fleet.clusters[*i];
            // the last known numbers of pods that stopped answering: dimmed, the age on the name
            let old = v.freshness == crate::store::llmd::Freshness::Stale;
            let age = v
                .observed_at
                .filter(|_| old)
                .map(|at| format!(" ({})", crate::store::llmd::age_text(reading.now - at)));
            let name = format!("{}/{}{}", app.display_name(&c.context), p.name, age.unwrap_or_default());
            let num = if old { t.muted } else { t.text };
            let q = |x: Option<f64>| x.and_then(|h| h.is_finite().then_some(h));
            let p50 = |h: &Option<crate::store::llmd::Histogram>| h.as_ref().and_then(|h| q(h.quantile(0.5)));
            let p99 = |h: &Option<crate::store::llmd::Histogram>| h.as_ref().and_then(|h| q(h.quantile(0.99)));
            let (ttft, itl) = if wide {
                (pair(p50(&v.ttft), p99(&v.ttft)), pair(p50(&v.itl), p99(&v.itl)))
            } else {
                (opt(p99(&v.ttft), fmt::secs), opt(p99(&v.itl), fmt::secs))
            };
            let pods = |r: usize, n: usize| if n == 0 { DASH.to_string() } else { format!("{r}/{n}") };
            let pods_style = |r: usize, n: usize| if r < n { t.warn } else { t.text };
            let mut cells = vec![
                Cell::from(Span::styled(name, if p.problem.is_some() { t.crit } else { t.text })),
                Cell::from(Span::styled(
                    pods(v.prefill_ready, v.prefill_total),
                    pods_style(v.prefill_ready, v.prefill_total),
                )),
                Cell::from(Span::styled(
                    pods(v.decode_ready, v.decode_total),
                    pods_style(v.decode_ready, v.decode_total),
                )),
                Cell::from(Span::styled(opt(v.request_rate, fmt::num), num)),
                Cell::from(Span::styled(
                    opt(v.error_rate, fmt::pct),
                    if old { num } else { err_style(app, v.error_rate) },
                )),
                Cell::from(Span::styled(
                    ttft,
                    if old { num } else { ttft_style(app, v.ttft.as_ref().and_then(|h| h.quantile(0.99))) },
                )),
                Cell::from(Span::styled(itl, num)),
                Cell::from(Span::styled(opt(v.queue, fmt::num), num)),
            ];
            if wide {
                cells.insert(1, Cell::from(v.model.as_deref().map(fmt::short_model).unwrap_or(DASH).to_string()));
                cells.push(Cell::from(opt(v.pd_share, |s| format!("{} P/D", fmt::pct(s)))));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(22),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(if wide { 11 } else { 6 }),
        Constraint::Length(if wide { 11 } else { 6 }),
        Constraint::Length(5),
    ];
    if wide {
        widths.insert(1, Constraint::Length(20));
        widths.push(Constraint::Length(8));
    }
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Inference pools ({}) · rates over {} ", pools.len(), app.fleet.metrics.window_text()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, pools.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    if pools.is_empty() {
        let r = Rect { x: table_area.x + 2, y: table_area.y + 2, width: table_area.width.saturating_sub(4), height: 1 };
        f.render_widget(Paragraph::new(Span::styled("no inference pools on the visible clusters", t.muted)), r);
    }
    if let Some(((i, p), v)) = pools
        .get(app.selected.min(pools.len().saturating_sub(1)))
        .zip(views.get(app.selected.min(views.len().saturating_sub(1))))
    {
        draw_path(f, path_area, app, *i, p, v);
    } else {
        f.render_widget(
            Block::default().borders(Borders::ALL).title(" request path ").border_style(t.muted),
            path_area,
        );
    }
    f.render_widget(Paragraph::new(absent_line(app)), absent_area);
}

/// gateway -> EPP -> prefill -> decode, with the live rates on the arrows.
fn draw_path(f: &mut Frame, area: Rect, app: &App, cluster: usize, p: &crate::store::llmd::PoolInfo, v: &PoolView) {
    let t = &app.theme;
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
    if let Some(why) = &v.epp_stale {
        notes.push(Span::styled(format!("EPP: {why}. "), t.warn));
    }
    if v.stale_pods > 0 {
        notes.push(Span::styled(
            format!("{} pod(s) with stale metrics (KV Cache tab says why). ", v.stale_pods),
            t.warn,
        ));
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
    if let Some(r) = v.pd_running_ratio.filter(|r| *r > 3.0) {
        notes.push(Span::styled(format!("prefill:decode running ratio {r:.1} > 3 (llm-d warning). "), t.warn));
    }
    lines.push(Line::from(notes));
    let objectives: Vec<String> = app.fleet.clusters[cluster].llmd.objectives_of(p).map(|o| o.label()).collect();
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
