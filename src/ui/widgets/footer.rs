//! The bottom two lines: one health chip per cluster, then the key hints (or the filter
//! being typed).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::state;
use crate::store::Conn;
use crate::ui::app::App;
use crate::ui::keymap::Action;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let t = &app.theme.clone();
    let width = area.width as usize;
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    let chips: Vec<(String, ratatui::style::Style)> = app
        .fleet
        .clusters
        .iter()
        .map(|c| {
            let extra = match &c.conn {
                Conn::Live | Conn::Degraded(_) | Conn::Slow(_) => c.latency_text().unwrap_or_default(),
                other => other.label().to_string(),
            };
            (format!("{} {} {extra}", state::symbol(&c.conn), app.display_name(&c.context)), state::style(&c.conn, t))
        })
        .collect();
    let total: usize = chips.iter().map(|(s, _)| s.chars().count() + 2).sum();
    if total <= width {
        for (s, st) in chips {
            spans.push(Span::styled(s, st));
            spans.push(Span::raw("  "));
        }
    } else {
        // Too many to list: counts, then the clusters that need attention.
        let s = app.fleet.summary();
        let slow = if s.slow > 0 { format!(" · {} slow", s.slow) } else { String::new() };
        // the clusters a hub says are not available are down too, though kst dials none of them
        let hub_down = app.fleet.hub_clusters().iter().filter(|h| h.available == Some(false)).count();
        let hub = if hub_down > 0 { format!(" · {hub_down} unavailable via hub") } else { String::new() };
        let head = format!("{} live · {} degraded{slow} · {} down{hub}  ", s.live, s.degraded, s.down + s.connecting);
        used += head.chars().count();
        spans.push(Span::styled(head, t.text));
        for (c, (chip, st)) in app.fleet.clusters.iter().zip(chips) {
            if matches!(c.conn, Conn::Live) {
                continue;
            }
            if used + chip.chars().count() + 2 > width {
                spans.push(Span::styled("…", t.muted));
                break;
            }
            used += chip.chars().count() + 2;
            spans.push(Span::styled(chip, st));
            spans.push(Span::raw("  "));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), Rect { height: 1, ..area });
    if area.height < 2 {
        return;
    }
    let hints = if let Some(p) = &app.prompt {
        let contexts: Vec<String> = app.fleet.clusters.iter().map(|c| c.context.clone()).collect();
        let words: Vec<(&str, &[&str])> = app.panes.iter().map(|p| (p.id().name(), p.aliases())).collect();
        let hint = match &p.error {
            Some(e) => Span::styled(format!("  {e}"), t.crit),
            None => Span::styled(
                format!(
                    "  {}",
                    crate::ui::command::complete(&p.line, &contexts, &words)
                        .into_iter()
                        .take(6)
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                t.muted,
            ),
        };
        Line::from(vec![
            Span::styled(":", t.accent),
            Span::styled(p.line.clone(), t.text),
            Span::styled("▏", t.accent),
            Span::styled("  Enter run · Tab complete · ↑↓ history · Ctrl-u clear · Esc cancel", t.muted),
            hint,
        ])
    } else if let Some(msg) = &app.flash {
        Line::from(Span::styled(msg.clone(), t.accent))
    } else if app.filter_editing {
        let mut v = vec![
            Span::styled("/", t.accent),
            Span::styled(app.filter.text.clone(), t.text),
            Span::styled("▏ regex, ! inverts · Enter keep · Esc clear", t.muted),
        ];
        if let Some(e) = &app.filter.error {
            v.push(Span::styled(format!("  {e}"), t.crit));
        }
        Line::from(v)
    } else if app.mode == crate::ui::Mode::Kiosk {
        // a wall screen takes no input: no key hints
        Line::from(Span::styled("", t.muted))
    } else {
        let mut v = Vec::new();
        if let Some(e) = &app.filter.error {
            v.push(Span::styled(format!("{e} (filter: {})  ", app.filter.text), t.crit));
        } else if !app.filter.is_empty() {
            v.push(Span::styled(format!("filter: {}  ", app.filter.text), t.accent));
        }
        // the active component's own keys first, then the ones that work everywhere
        let hints = active_hints(app);
        let mut used: usize = v.iter().map(|s| s.content.chars().count()).sum();
        // `? help` always has its place: a long hint is left out (the help lists it), not the
        // way to every key
        let piece = |keys: &str, what: &str| format!("{keys} {what}  ").chars().count();
        let mut reserved: usize = hints.iter().filter(|(_, w)| w == "help").map(|(k, w)| piece(k, w)).sum();
        for (keys, what) in hints {
            let n = piece(&keys, &what);
            let help = what == "help";
            if help {
                reserved -= n;
            } else if used + n + reserved > width {
                continue;
            }
            if used + n > width {
                break;
            }
            used += n;
            v.push(Span::styled(keys, t.accent));
            v.push(Span::styled(format!(" {what}  "), t.muted));
        }
        Line::from(v)
    };
    f.render_widget(Paragraph::new(hints), Rect { y: area.y + 1, height: 1, ..area });
}

/// The footer's hints: the active component's keys (their first words), then the keys
/// that work everywhere.
pub fn active_hints(app: &mut App) -> Vec<(String, String)> {
    let hints = app.parts().1.hints();
    // read-only and kiosk refuse writes, so their keys are not offered
    let writes_refused = app.mode != crate::ui::Mode::Normal;
    let mut out: Vec<(String, String)> = hints
        .iter()
        .filter(|h| !(h.help_only || writes_refused && h.write))
        .map(|h| {
            let what = h.what.split([':', '(', ';']).next().unwrap_or(h.what).trim().to_string();
            (h.label(&app.keymap), what)
        })
        .collect();
    for (a, what) in [
        (Action::Help, "help"),
        (Action::Back, "back"),
        (Action::Filter, "filter"),
        (Action::Command, "command"),
        (Action::FocusCluster, "focus cluster"),
        (Action::Quit, "quit"),
    ] {
        if let Some(k) = app.keymap.keys_of(a).split(' ').next().filter(|k| !k.is_empty()) {
            // a view that answers the key itself has said what it does
            if !out.iter().any(|(keys, _)| keys.split(' ').any(|x| x == k)) {
                out.push((k.to_string(), what.to_string()));
            }
        }
    }
    out
}
