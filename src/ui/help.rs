//! `?`: the keymap, drawn from the same table the keys are read from.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::keymap::BINDINGS;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, theme: &Theme) {
    let width = 60.min(area.width.saturating_sub(4));
    let height = (BINDINGS.len() as u16 + 4).min(area.height.saturating_sub(2));
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let lines: Vec<Line> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![Span::styled(format!("{:<18}", b.keys), theme.accent), Span::styled(b.help, theme.text)])
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
