//! `?`: the keymap, drawn from the same table the keys are read from.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, theme: &Theme, keymap: &super::keymap::Keymap) {
    let rows = keymap.help_rows();
    let width = 90.min(area.width.saturating_sub(4));
    let height = (rows.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(keys, what)| {
            Line::from(vec![Span::styled(format!("{keys:<18}"), theme.accent), Span::styled(what, theme.text)])
        })
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default().borders(Borders::ALL).title(" keys — Esc or ? to close ").border_style(theme.muted),
        ),
        r,
    );
}
