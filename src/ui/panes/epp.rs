//! EPP routing: per pool, the share of routed requests per endpoint, the P/D decision mix,
//! pool averages as the endpoint picker sees them, flow control and scheduler latency.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::llmd::PoolInfo;
use crate::ui::app::App;
use crate::ui::widgets::fmt::{self, opt};

fn pool_lines(app: &App, cluster: usize, p: &PoolInfo, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let c = &app.fleet.clusters[cluster];
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{}/{}", app.display_name(&c.context), p.name), t.accent),
        Span::styled(format!("  EPP {}", p.epp_service.as_deref().unwrap_or("— none referenced")), t.muted),
    ])];
    let Some(m) = c.llmd.epp.get(&p.key()) else {
        out.push(Line::from(Span::styled("  — not scraped yet", t.muted)));
        return out;
    };
    if let Some(why) = m.stale(app.now(), app.max_age()) {
        out.push(Line::from(Span::styled(format!("  — {why}"), t.warn)));
        return out;
    }
    let last = &m.latest().expect("fresh").v;
    let sched = m
        .window_start(60.0)
        .zip(m.latest())
        .and_then(|(a, b)| Some(b.v.scheduler.as_ref()?.since(a.v.scheduler.as_ref()?)));
    out.push(Line::from(vec![
        Span::styled("  ready endpoints ", t.muted),
        Span::raw(opt(last.ready_endpoints, |n| format!("{n:.0}"))),
        Span::styled("  avg KV ", t.muted),
        Span::raw(opt(last.avg_kv, fmt::pct)),
        Span::styled("  avg queue ", t.muted),
        Span::raw(opt(last.avg_queue, |q| format!("{q:.1}"))),
        Span::styled("  scheduling p50/p99 ", t.muted),
        Span::raw(fmt::pair(
            sched.as_ref().and_then(|h| h.quantile(0.5)),
            sched.as_ref().and_then(|h| h.quantile(0.99)),
        )),
    ]));
    let decisions = m.rate_map(|s| &s.decisions);
    let total: f64 = decisions.iter().map(|d| d.1).sum();
    if total > 0.0 {
        let mix: Vec<String> = decisions.iter().map(|(k, v)| format!("{k} {}", fmt::pct(v / total))).collect();
        out.push(Line::from(vec![Span::styled("  P/D decisions ", t.muted), Span::raw(mix.join(" · "))]));
    }
    if last.flow_saturation.is_some() || last.flow_rejected.is_some() {
        out.push(Line::from(vec![
            Span::styled("  flow control: saturation ", t.muted),
            Span::raw(opt(last.flow_saturation, fmt::pct)),
            Span::styled("  rejected ", t.muted),
            Span::raw(opt(last.flow_rejected, fmt::num)),
        ]));
    }
    let attempts = m.rate_map(|s| &s.attempts);
    let sum: f64 = attempts.iter().map(|a| a.1).sum();
    let name_w = 30.min(width.saturating_sub(24));
    let bar_w = width.saturating_sub(name_w + 16).clamp(4, 40);
    if sum > 0.0 {
        for (ep, r) in &attempts {
            let share = r / sum;
            out.push(Line::from(vec![
                Span::raw(format!("  {:<name_w$} ", fmt::mid(ep, name_w))),
                Span::styled(fmt::bar(share, bar_w), t.ok),
                Span::raw(format!(" {:>4} {}/s", fmt::pct(share), fmt::num(*r))),
            ]));
        }
    } else {
        out.push(Line::from(Span::styled("  routing shares: waiting for a second scrape", t.muted)));
    }
    out
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let pools = app.pools();
    let mut lines = Vec::new();
    // the selected pool first, so it is on screen at 80x24
    let sel = app.selected.min(pools.len().saturating_sub(1));
    let order = (sel..pools.len()).chain(0..sel);
    for k in order {
        let (i, p) = pools[k];
        lines.extend(pool_lines(app, i, p, area.width as usize - 2));
        lines.push(Line::from(""));
    }
    if pools.is_empty() {
        lines.push(Line::from(Span::styled("no inference pools on the visible clusters", t.muted)));
    }
    lines.push(super::serving::absent_line(app));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" EPP routing (j/k picks the pool shown first) ")
                .border_style(t.muted),
        ),
        area,
    );
}
