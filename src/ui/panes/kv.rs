//! KV cache: a gauge per model-server pod, grouped by cluster and pool, with fleet, pool and
//! role averages; bands from the llm-d alert rules (warn >= 0.90, crit >= 0.95 on decode);
//! prefix-cache hit rate, preemptions, running/waiting and a sparkline of recent KV use.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::store::llmd::{mean_opt, Freshness, Role, ServerInfo};
use crate::ui::app::App;
use crate::ui::widgets::fmt::{self, opt};

pub fn kv_style(app: &App, role: &Role, kv: Option<f64>) -> Style {
    match kv {
        Some(v) if v >= 0.95 && role.serves_decode() => app.theme.crit,
        Some(v) if v >= 0.90 => app.theme.warn,
        Some(_) => app.theme.ok,
        None => app.theme.muted,
    }
}

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn sparkline(app: &App, cluster: usize, s: &ServerInfo, width: usize) -> String {
    let Some(m) = app.fleet.clusters[cluster].llmd.metrics.get(&s.key()) else { return String::new() };
    let vals: Vec<f64> = m.samples.iter().filter_map(|x| x.v.kv_usage).collect();
    vals.iter().rev().take(width).rev().map(|v| SPARK[((v.clamp(0.0, 1.0) * 7.0).round() as usize).min(7)]).collect()
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let reading = app.reading();
    let servers = app.servers();
    let views: Vec<_> = servers.iter().map(|(i, s)| app.fleet.clusters[*i].llmd.view(s, &reading)).collect();
    let [summary_area, table_area, detail_area] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(3), Constraint::Length(2)]).areas(area);

    let fresh = |pred: &dyn Fn(&ServerInfo) -> bool| {
        mean_opt(servers.iter().zip(&views).filter(|((_, s), v)| v.fresh() && pred(s)).map(|(_, v)| v.kv))
    };
    let fleet = fresh(&|_| true);
    let prefill = fresh(&|s| s.role == Role::Prefill);
    let decode = fresh(&|s| s.role.serves_decode());
    let mut pools: Vec<Span> = vec![Span::styled("pools: ", t.muted)];
    for (i, p) in app.pools() {
        let avg = mean_opt(
            servers
                .iter()
                .zip(&views)
                .filter(|((ci, s), v)| *ci == i && s.pool.as_deref() == Some(p.name.as_str()) && v.fresh())
                .map(|(_, v)| v.kv),
        );
        pools.push(Span::styled(format!("{} ", p.name), t.text));
        pools.push(Span::styled(format!("{}  ", opt(avg, fmt::pct)), kv_style(app, &Role::Decode, avg)));
    }
    let summary = vec![
        Line::from(vec![
            Span::styled("fleet KV ", t.muted),
            Span::styled(opt(fleet, fmt::pct), kv_style(app, &Role::Decode, fleet)),
            Span::styled("   prefill ", t.muted),
            Span::styled(opt(prefill, fmt::pct), kv_style(app, &Role::Prefill, prefill)),
            Span::styled("   decode ", t.muted),
            Span::styled(opt(decode, fmt::pct), kv_style(app, &Role::Decode, decode)),
            Span::styled("   (warn ≥90%, decode crit ≥95%)", t.muted),
        ]),
        Line::from(pools),
    ];
    f.render_widget(
        Paragraph::new(summary).block(Block::default().borders(Borders::BOTTOM).border_style(t.muted)),
        summary_area,
    );

    let wide = area.width >= 110;
    let gauge_w = if wide { 14 } else { 8 };
    let spark_w = if wide { 12 } else { 0 };
    let rows: Vec<Row> = servers
        .iter()
        .zip(&views)
        .map(|((i, s), v)| {
            let c = &app.fleet.clusters[*i];
            // a pod that stopped answering shows its last numbers dimmed, with their age; past
            // the limit only why
            let old = v.freshness == Freshness::Stale;
            let style = if old { t.muted } else { kv_style(app, &s.role, v.kv.filter(|_| v.fresh())) };
            let num = if old { t.muted } else { t.text };
            let age = v.observed_at.map(|at| crate::store::llmd::age_text(reading.now - at)).unwrap_or_default();
            let gauge = match (v.kv, v.freshness, &v.stale) {
                (Some(kv), Freshness::Fresh, _) => format!("{} {:>4}", fmt::bar(kv, gauge_w), fmt::pct(kv)),
                (Some(kv), Freshness::Stale, _) => format!("{} {age}", fmt::pct(kv)),
                (_, _, Some(why)) => format!("— {}", fmt::short_reason(why)),
                (_, _, None) => "— no KV metric".to_string(),
            };
            let mut cells = vec![
                Cell::from(format!("{}/{}", app.display_name(&c.context), s.pool.as_deref().unwrap_or("(no pool)"))),
                Cell::from(fmt::mid(&s.name, if wide { 30 } else { 20 })),
                Cell::from(s.role.label().to_string()),
                Cell::from(Span::styled(gauge, style)),
                Cell::from(Span::styled(opt(v.prefix_hit_rate, fmt::pct), num)),
                Cell::from(Span::styled(opt(v.preemption_rate, |r| format!("{r:.1}")), num)),
                Cell::from(Span::styled(
                    if v.freshness == Freshness::Expired {
                        "—".to_string()
                    } else {
                        format!("{}/{}", opt(v.running, fmt::num), opt(v.waiting, fmt::num))
                    },
                    num,
                )),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(sparkline(app, *i, s, spark_w), t.accent)));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["POOL", "POD", "ROLE", "KV CACHE", "PREFIX", "PREEMPT/S", "RUN/WAIT"];
    let mut widths = vec![
        Constraint::Min(14),
        Constraint::Length(if wide { 30 } else { 20 }),
        Constraint::Length(8),
        Constraint::Length(gauge_w as u16 + 6),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(8),
    ];
    if wide {
        header.push("KV HISTORY");
        widths.push(Constraint::Length(spark_w as u16));
    }
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Model servers ({}) · rates over {} ", servers.len(), app.fleet.metrics.window_text()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, servers.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    // the selected pod in full: where it runs and, if its numbers are missing, why
    if let Some(((i, s), v)) = ts.selected().and_then(|k| servers.get(k).zip(views.get(k))) {
        let c = &app.fleet.clusters[*i];
        let mut spans = vec![
            Span::styled(format!("{} ", s.name), t.accent),
            Span::styled(
                format!(
                    "{} · {} · node {} · {} GPU · {} restarts · {} · metrics :{}",
                    app.display_name(&c.context),
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
