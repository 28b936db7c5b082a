//! `?`: the keys of the view in front (from its component's hints) and the keys that work
//! everywhere (from the keymap in force, so rebinding shows), in two columns when wide.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::component::Hint;
use super::keymap::Keymap;
use crate::theme::Theme;

/// The help's lines: a heading and rows for the view, then for everywhere.
pub fn lines(
    theme: &Theme,
    keymap: &Keymap,
    title: &str,
    hints: &[Hint],
    legend: &[(&'static str, &'static str)],
) -> Vec<Line<'static>> {
    let row = |keys: String, what: String| {
        Line::from(vec![Span::styled(format!("{keys:<22}"), theme.accent), Span::styled(what, theme.text)])
    };
    let mut out = Vec::new();
    if !hints.is_empty() {
        out.push(Line::from(Span::styled(format!("{title}:"), theme.header)));
        out.extend(hints.iter().map(|h| row(h.label(keymap), h.what.to_string())));
    }
    out.push(Line::from(Span::styled("everywhere:", theme.header)));
    out.extend(keymap.global_help_rows().into_iter().map(|(k, w)| row(k, w.to_string())));
    if !legend.is_empty() {
        out.push(Line::from(Span::styled("what the symbols mean:", theme.header)));
        out.extend(legend.iter().map(|(sym, what)| {
            Line::from(vec![Span::styled(format!("{sym:<22}"), theme.text), Span::styled(*what, theme.muted)])
        }));
    }
    out
}

pub fn draw(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &Keymap,
    title: &str,
    hints: &[Hint],
    legend: &[(&'static str, &'static str)],
) {
    let mut all = lines(theme, keymap, title, hints, legend);
    let room = area.height.saturating_sub(2) as usize;
    // two columns when one does not fit and the screen is wide enough; else the legend
    // shortens first (the keys matter more)
    if all.len() > room && area.width < 150 {
        all.truncate(room);
    }
    let two = all.len() > room && area.width >= 150;
    let width = if two { 150.min(area.width) } else { 96.min(area.width.saturating_sub(2)) };
    let rows = if two { all.len().div_ceil(2) } else { all.len() };
    let height = (rows as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    f.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(" keys — any key closes ").border_style(theme.muted);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let half = inner.width / 2;
        let (a, b) = all.split_at(rows);
        f.render_widget(Paragraph::new(a.to_vec()), Rect { width: half, ..inner });
        f.render_widget(Paragraph::new(b.to_vec()), Rect { x: inner.x + half, width: inner.width - half, ..inner });
    } else {
        f.render_widget(Paragraph::new(all), inner);
    }
}
