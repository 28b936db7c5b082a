//! The top two lines: the fleet summary, then the tabs.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::App;
use crate::ui::component::Group;
use crate::ui::tabs::digit;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let s = app.fleet.summary();
    let mut spans = vec![Span::styled(" kst ", t.header)];
    // the mode comes first so a narrow screen never hides it
    match app.mode {
        crate::ui::Mode::Kiosk => spans.push(Span::styled("[KIOSK] ", t.warn)),
        crate::ui::Mode::ReadOnly => spans.push(Span::styled("[READ-ONLY] ", t.warn)),
        crate::ui::Mode::Normal => {}
    }
    // the clusters known only through a hub are counted apart: kst dials none of them
    let hubs = app.fleet.hub_clusters();
    let via_hub = if hubs.is_empty() { String::new() } else { format!(" + {} via hub", hubs.len()) };
    spans.extend([
        Span::styled("│ ", t.muted),
        Span::styled(format!("{} cluster{}{via_hub}", s.clusters, if s.clusters == 1 { "" } else { "s" }), t.text),
        Span::raw(": "),
        Span::styled(format!("{} live", s.live), t.ok),
    ]);
    if s.degraded > 0 {
        spans.push(Span::styled(format!(" · {} degraded", s.degraded), t.warn));
    }
    if s.slow > 0 {
        spans.push(Span::styled(format!(" · {} slow", s.slow), t.warn));
    }
    if s.down > 0 {
        spans.push(Span::styled(format!(" · {} down", s.down), t.crit));
    }
    if s.connecting > 0 {
        spans.push(Span::styled(format!(" · {} connecting", s.connecting), t.muted));
    }
    let hub_down = hubs.iter().filter(|h| h.available == Some(false)).count();
    if hub_down > 0 {
        spans.push(Span::styled(format!(" · {hub_down} unavailable via hub"), t.crit));
    }
    // a focus changes every pane: it comes before the totals a narrow screen cuts
    if let Some(focus) = app.focus.and_then(|i| app.fleet.clusters.get(i)) {
        spans.push(Span::styled(" │ ", t.muted));
        spans.push(Span::styled(format!("focus: {}", app.display_name(&focus.context)), t.accent));
    }
    spans.push(Span::styled(" │ ", t.muted));
    // problems next: on a narrow screen they matter more than node counts. Incidents only:
    // standing findings and problems carried by another (a cluster down) are not counted
    // here; problems kst cannot see now are counted apart.
    let n = app.fleet.problems.totals();
    let unknown = app.fleet.problems.unknown().filter(|p| p.under.is_none()).count();
    if n.critical > 0 {
        spans.push(Span::styled(format!("{}✖ critical", n.critical), t.crit));
    }
    if n.warning > 0 {
        spans.push(Span::styled(format!("{}{}! warning", if n.critical > 0 { " " } else { "" }, n.warning), t.warn));
    }
    if unknown > 0 {
        let gap = if n.critical + n.warning > 0 { " " } else { "" };
        spans.push(Span::styled(format!("{gap}{unknown}? unknown"), t.muted));
    }
    if n.critical + n.warning + unknown == 0 {
        if s.connecting > 0 {
            // nothing can be said of a fleet kst has not heard from yet
            spans.push(Span::styled(format!("connecting {}/{}", s.clusters - s.connecting, s.clusters), t.muted));
        } else {
            spans.push(Span::styled("no problems", t.ok));
        }
    }
    spans.push(Span::styled(" │ ", t.muted));
    if s.counted == 0 {
        // nothing answers: no totals at all rather than zeros that look like an empty fleet
        // clusters that answer but have not listed their nodes yet are not silent
        let answering = s.live + s.degraded + s.slow;
        let why =
            if s.connecting > 0 || answering > 0 { "waiting for the first answers" } else { "no cluster answers" };
        spans.push(Span::styled(why, if why == "no cluster answers" { t.crit } else { t.muted }));
    } else {
        spans.push(Span::styled(format!("nodes {}/{}", s.nodes_ready, s.nodes), t.text));
        spans.push(Span::styled(" │ ", t.muted));
        spans.push(Span::styled(format!("GPUs {}/{} allocatable", s.gpus_allocatable, s.gpus_total), t.text));
        if s.counted < s.clusters {
            spans.push(Span::styled(format!(" {}", s.scope()), if s.stale > 0 { t.warn } else { t.muted }));
        }
    }
    if let Some(w) = app.fleet.problems.worst().filter(|w| w.severity != crate::store::problems::Severity::Info) {
        // the worst problem takes the rest of the line: the object whole, the reason cut at its
        // end; left out when even the object would not fit (the Problems tab has it)
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let at =
            w.cluster.and_then(|c| app.fleet.clusters.get(c)).map(|c| app.display_name(&c.context)).unwrap_or("fleet");
        let head = format!(" │ worst: {at} {}", w.object.path());
        let room = (area.width as usize).saturating_sub(used + head.chars().count() + 2);
        if room >= 12 {
            spans.push(Span::styled(" │ worst: ", t.muted));
            let reason: String = if w.reason.chars().count() > room {
                w.reason.chars().take(room - 1).chain(std::iter::once('…')).collect()
            } else {
                w.reason.clone()
            };
            spans.push(Span::styled(
                format!("{at} {}: {reason}", w.object.path()),
                if w.severity == crate::store::problems::Severity::Critical { t.crit } else { t.warn },
            ));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), Rect { height: 1, ..area });
    if area.height > 1 {
        f.render_widget(Paragraph::new(tab_line(app, area.width as usize)), Rect { y: area.y + 1, height: 1, ..area });
    }
}

/// The tab line as pieces: which tab each piece is (None for separators), and its text.
/// Drawing and mouse clicks both use it, so a click lands on what is drawn. Every tab is on
/// the line: full titles when they fit, else short ones (the current tab keeps its title if
/// that still fits),
/// else a window around the current tab with `…` at the cut ends.
pub fn tab_pieces(app: &App, width: usize) -> Vec<(Option<usize>, String)> {
    let build = |short: bool, keep_current: bool| -> Vec<(usize, String, Group)> {
        app.panes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let key = digit(i).map(|d| format!("{d}:")).unwrap_or_default();
                let title = if short && (i != app.tab || !keep_current) { p.short_title() } else { p.title() };
                let text = if short { format!("{key}{title} ") } else { format!(" {key}{title}  ") };
                (i, text, p.group())
            })
            .collect()
    };
    // the titles, and a `│ ` between groups
    let len = |items: &[(usize, String, Group)]| -> usize {
        let separators = items.windows(2).filter(|w| w[0].2 != w[1].2).count();
        items.iter().map(|(_, s, _)| s.chars().count()).sum::<usize>() + 2 * separators
    };
    let full = build(false, true);
    let items = if len(&full) <= width {
        full
    } else {
        // every tab on the line matters more than the current one's full title
        let short = build(true, true);
        if len(&short) <= width {
            short
        } else {
            build(true, false)
        }
    };
    let cur = app.tab;
    let (mut lo, mut hi) = (0, items.len());
    // the `…` marks (2 columns) only count once something is cut
    while len(&items[lo..hi]) + if lo > 0 || hi < items.len() { 2 } else { 0 } > width && hi - lo > 1 {
        if cur - lo > hi - 1 - cur {
            lo += 1;
        } else {
            hi -= 1;
        }
    }
    let mut out = Vec::new();
    if lo > 0 {
        out.push((None, "…".to_string()));
    }
    let mut last_group = None;
    for (tab, s, g) in &items[lo..hi] {
        if last_group.is_some() && last_group != Some(*g) {
            out.push((None, "│ ".to_string()));
        }
        last_group = Some(*g);
        out.push((Some(*tab), s.clone()));
    }
    if hi < items.len() {
        out.push((None, "…".to_string()));
    }
    out
}

/// The tab under column `x` of the tab line.
pub fn tab_at(app: &App, width: usize, x: usize) -> Option<usize> {
    let mut col = 0;
    for (tab, s) in tab_pieces(app, width) {
        let w = s.chars().count();
        if x >= col && x < col + w {
            return tab;
        }
        col += w;
    }
    None
}

fn tab_line(app: &App, width: usize) -> Line<'static> {
    let t = &app.theme;
    Line::from(
        tab_pieces(app, width)
            .into_iter()
            .map(|(tab, s)| match tab {
                Some(tab) => Span::styled(s, if tab == app.tab { t.selection } else { t.text }),
                None => Span::styled(s, t.muted),
            })
            .collect::<Vec<_>>(),
    )
}
