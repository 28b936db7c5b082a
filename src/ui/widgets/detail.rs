//! The selected row in full, in the rows a short list leaves on a big screen: a bordered block
//! titled with the row's name, one labelled field a line (the labels in one column), values
//! wrapped rather than cut. Used by every pane that lists things (agents, problems, jobs...).

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::theme::Theme;

/// The width of the label column: the longest label in use ("called by", "carried") and a gap.
const LABEL: usize = 10;

/// One field: its label muted, its value in `style`.
pub fn field(t: &Theme, name: &str, value: impl Into<String>, style: Style) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{name:<LABEL$}"), t.muted), Span::styled(value.into(), style)])
}

/// A field in the text colour.
pub fn text(t: &Theme, name: &str, value: impl Into<String>) -> Line<'static> {
    field(t, name, value, t.text)
}

/// The block with its title and fields; a long value wraps under its own column (the labels
/// stay a column of their own), and what does not fit is cut at the bottom (the fields come
/// most telling first).
pub fn draw(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, t: &Theme) {
    let block = Block::default().borders(Borders::ALL).border_style(t.muted).title(format!(" {title} "));
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line<'static>> = lines.into_iter().flat_map(|l| hang(l, width)).collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

/// A field's line wrapped to `width` with its value's continuation lines indented under the
/// value; any other line as it is.
fn hang(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let is_field = line.spans.len() == 2 && line.spans[0].content.chars().count() == LABEL;
    if !is_field || line.width() <= width || width <= LABEL + 8 {
        return vec![line];
    }
    let (label, value) = (&line.spans[0], &line.spans[1]);
    crate::ui::widgets::fmt::wrap(&value.content, width - LABEL)
        .into_iter()
        .enumerate()
        .map(|(k, piece)| {
            let head = if k == 0 { label.clone() } else { Span::styled(" ".repeat(LABEL), label.style) };
            Line::from(vec![head, Span::styled(piece, value.style)])
        })
        .collect()
}

/// `items` joined with ` · `, or `none` said in words when the list read is empty.
pub fn list(items: Vec<String>, none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_wraps_under_its_own_column() {
        let t = Theme::builtin("mono").expect("the mono theme");
        let lines = hang(text(&t, "nearby", "one two three four five six"), 24);
        let rows: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(rows, ["nearby    one two three", "          four five six"]);
        // a line that fits, or is not a field, is left alone
        assert_eq!(hang(text(&t, "what", "short"), 24).len(), 1);
        assert_eq!(hang(Line::from("a plain line longer than the width is"), 10).len(), 1);
    }
}
