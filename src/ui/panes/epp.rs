//! EPP routing: per pool, the share of routed requests per endpoint, the P/D decision mix,
//! pool averages as the endpoint picker sees them, flow control and scheduler latency.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::llmd::{age_text, Freshness, PoolInfo};
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::fmt::{self, opt};
use crate::ui::widgets::table::{split_below, ListState};

/// The selection picks the pool shown first (so it is on screen at 80x24).
#[derive(Default)]
pub struct Epp {
    list: ListState,
}

fn pool_lines(cx: &Ctx, cluster: usize, p: &PoolInfo, width: usize) -> Vec<Line<'static>> {
    let t = cx.theme;
    let c = cx.cluster(cluster);
    let mut out = vec![Line::from(vec![
        Span::styled(cx.qualified(cluster, &p.name), t.accent),
        Span::styled(format!("  EPP {}", p.epp_service.as_deref().unwrap_or("— none referenced")), t.muted),
    ])];
    let Some(m) = c.llmd.epp.get(&p.key()) else {
        out.push(Line::from(Span::styled("  — not scraped yet", t.muted)));
        return out;
    };
    let r = cx.reading();
    let (freshness, observed) = m.freshness(&r);
    let why = m.stale_reason(&r);
    let Some(last) = m.latest().map(|l| &l.v).filter(|_| freshness != Freshness::Expired) else {
        out.push(Line::from(Span::styled(format!("  — {}", why.unwrap_or_default()), t.warn)));
        return out;
    };
    if freshness == Freshness::Stale {
        let age = observed.map(|at| age_text(r.now - at)).unwrap_or_default();
        out.push(Line::from(Span::styled(format!("  last known values, {age}: {}", why.unwrap_or_default()), t.warn)));
    }
    let sched = m.histogram(|s| s.scheduler.as_ref(), &r);
    let ready_pods = c.llmd.members(p).filter(|s| s.ready).count();
    let mismatch = last.ready_endpoints.filter(|n| (*n - ready_pods as f64).abs() >= 0.5);
    out.push(Line::from(vec![
        Span::styled("  ready endpoints ", t.muted),
        Span::styled(
            opt(last.ready_endpoints, |n| format!("{n:.0}{}", if mismatch.is_some() { " ▲" } else { "" })),
            if mismatch.is_some() { t.warn } else { t.text },
        ),
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
    if let Some(n) = mismatch {
        out.push(Line::from(Span::styled(
            format!("  ▲ the EPP counts {n:.0} ready endpoints; {ready_pods} of the pool's pods are Ready"),
            t.warn,
        )));
    }
    let decisions = m.rate_map(|s| &s.decisions, &r);
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
    let attempts = m.rate_map(|s| &s.attempts, &r);
    let sum: f64 = attempts.iter().map(|a| a.1).sum();
    // names whole where the width allows (a bar of 12 kept): the pod's suffix tells them apart
    let longest = attempts.iter().map(|(ep, _)| ep.chars().count()).max().unwrap_or(0);
    let name_w = longest.min(width.saturating_sub(18 + 12)).max(8);
    let bar_w = width.saturating_sub(name_w + 18).clamp(4, 40);
    if sum > 0.0 {
        let unready = |ep: &str| c.llmd.servers.iter().any(|s| s.name == ep && !s.ready);
        for (ep, r) in &attempts {
            let share = r / sum;
            let bad = unready(ep);
            let mut line = vec![
                Span::raw(format!("  {:<name_w$} ", fmt::mid(ep, name_w))),
                Span::styled(fmt::bar(share, bar_w), if bad { t.crit } else { t.ok }),
                Span::raw(format!(" {:>4} {}/s", fmt::pct(share), fmt::num(*r))),
            ];
            if bad {
                line.push(Span::styled(" ✖", t.crit));
            }
            out.push(Line::from(line));
        }
        if attempts.iter().any(|(ep, _)| unready(ep)) {
            out.push(Line::from(Span::styled("  ✖ still routed to, but its pod is not Ready", t.crit)));
        }
    } else {
        out.push(Line::from(Span::styled("  routing shares: waiting for a second scrape", t.muted)));
    }
    out
}

impl Pane for Epp {
    fn id(&self) -> PaneId {
        PaneId::Epp
    }
    fn title(&self) -> &'static str {
        "EPP"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["routing"]
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

impl Component for Epp {
    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "the pool's pods (j/k: which pool is shown first)")]
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

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let pools = cx.pools();
        self.list.sync(&super::serving::pool_keys(cx, &pools));
        let mut lines = Vec::new();
        // the selected pool first, so it is on screen at 80x24
        let sel = self.list.selected().unwrap_or(0);
        let order = (sel..pools.len()).chain(0..sel);
        for k in order {
            let (i, p) = pools[k];
            lines.extend(pool_lines(cx, i, p, area.width as usize - 2));
            lines.push(Line::from(""));
        }
        if pools.is_empty() {
            lines.push(Line::from(Span::styled("no inference pools on the visible clusters", t.muted)));
        }
        lines.push(super::llmd_absent_line(cx));
        // the rows the pools leave (a big screen) list the selected pool's servers, where the
        // picker sends requests (the lines count as wrapped at this width)
        let inner = area.width.saturating_sub(2).max(1) as usize;
        let used: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
        let (area, members_area) = split_below(area, used as u16 + 2, super::serving::MEMBERS_MIN);
        if let (Some(at), Some((i, p))) = (members_area, pools.get(sel)) {
            super::serving::draw_members(f, at, cx, *i, p);
        }
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(
                        " EPP routing · rates over {} (j/k picks the pool shown first) ",
                        cx.fleet.metrics.window_text()
                    ))
                    .border_style(t.muted),
            ),
            area,
        );
    }
}
