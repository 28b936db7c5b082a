//! A trend: one series of gauge samples drawn as a chart several rows high, newest at the right
//! edge, in a box whose title says what it is, over how long, and its now / min / max (a
//! sample without the value is a column of `·`, said in the title). Panes
//! use it in the rows a big screen leaves under their table (the selected row's history), so
//! 200x60 shows more than 80x24 instead of blank rows.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Paragraph, RenderDirection, Sparkline, Wrap};
use ratatui::Frame;

use super::fmt;

/// One series: `(unix seconds, value)` oldest first; None where a sample lacks the value.
pub struct Trend<'a> {
    pub what: &'a str,
    pub points: Vec<(f64, Option<f64>)>,
    /// The top of the chart: a fixed scale (100% for a cache) or, when None, the largest value.
    pub max: Option<f64>,
    pub text: fn(f64) -> String,
    pub style: Style,
    pub muted: Style,
    /// Said after the figures when the newest sample is old (`numbers 40s old`).
    pub note: Option<String>,
}

impl Trend<'_> {
    /// The box's title, as much as fits `width`, in this order: what it is, how old its numbers
    /// are (when old), now, min and max, over how long, the scale, the number of samples:
    /// `KV cache · now 83% · min 41% · max 86% · last 1m10s · 0-100% · 15 samples`.
    pub fn title(&self, width: usize) -> String {
        let vals: Vec<f64> = self.points.iter().filter_map(|(_, v)| *v).collect();
        let mut parts = vec![self.what.to_string()];
        parts.extend(self.note.clone());
        if let Some(now) = self.points.last().and_then(|(_, v)| *v) {
            parts.push(format!("now {}", (self.text)(now)));
        }
        if let (Some(lo), Some(hi)) = (vals.iter().copied().reduce(f64::min), vals.iter().copied().reduce(f64::max)) {
            parts.push(format!("min {} · max {}", (self.text)(lo), (self.text)(hi)));
        }
        if let (Some(a), Some(b)) = (self.points.first(), self.points.last()) {
            if self.points.len() > 1 {
                parts.push(format!("last {}", fmt::duration((b.0 - a.0).round() as i64)));
            }
        }
        parts.push(match self.max {
            Some(m) => format!("0-{}", (self.text)(m)),
            None => "0-max".into(),
        });
        parts.push(format!("{} samples", self.points.len()));
        if self.points.iter().any(|(_, v)| v.is_none()) {
            parts.push("· a sample without it".into());
        }
        let mut t = String::new();
        for p in parts {
            let next = if t.is_empty() { p } else { format!("{t} · {p}") };
            if !t.is_empty() && next.chars().count() + 2 > width {
                break;
            }
            t = next;
        }
        format!(" {t} ")
    }

    pub fn draw(&self, f: &mut Frame, area: Rect) {
        let block =
            Block::default().borders(Borders::ALL).border_style(self.muted).title(self.title(area.width as usize - 2));
        let inner = block.inner(area);
        if self.points.iter().all(|(_, v)| v.is_none()) {
            f.render_widget(
                Paragraph::new("no samples yet").style(self.muted).wrap(Wrap { trim: true }).block(block),
                area,
            );
            return;
        }
        let top = self.max.unwrap_or_else(|| self.points.iter().filter_map(|(_, v)| *v).fold(0.0, f64::max));
        // a thousand steps: the bars' eighths are not rounded away on a chart of any height
        let scale = |v: f64| if top > 0.0 { (v.clamp(0.0, top) / top * 1000.0).round() as u64 } else { 0 };
        // newest first, drawn from the right edge: the last sample always shows, older ones as
        // far left as there is room
        // a few samples on a wide chart: each as wide as the width allows (the samples are a
        // refresh apart, so the time axis stays even)
        let each = (inner.width as usize / self.points.len().max(1)).clamp(1, 8);
        let data: Vec<Option<u64>> = self
            .points
            .iter()
            .rev()
            .flat_map(|(_, v)| std::iter::repeat_n(v.map(scale), each))
            .take(inner.width as usize)
            .collect();
        let chart = Sparkline::default()
            .block(block)
            .data(&data)
            .max(1000)
            .direction(RenderDirection::RightToLeft)
            .style(self.style)
            .absent_value_symbol("·")
            .absent_value_style(self.muted);
        f.render_widget(chart, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn pct(v: f64) -> String {
        format!("{:.0}%", v * 100.0)
    }

    fn shot(t: &Trend, w: u16, h: u16) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| t.draw(f, f.area())).unwrap();
        let buf = term.backend().buffer().clone();
        (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect()
    }

    #[test]
    fn the_newest_sample_is_at_the_right_edge_and_the_figures_are_the_series() {
        let t = Trend {
            what: "KV cache",
            points: vec![(0.0, Some(0.2)), (5.0, None), (10.0, Some(1.0)), (15.0, Some(0.5))],
            max: Some(1.0),
            text: pct,
            style: Style::default(),
            muted: Style::default(),
            note: None,
        };
        assert_eq!(
            t.title(120),
            " KV cache · now 50% · min 20% · max 100% · last 15s · 0-100% · 4 samples · · a sample without it "
        );
        assert_eq!(t.title(42), " KV cache · now 50% · min 20% · max 100% ", "what does not fit is left out whole");
        let rows = shot(&t, 6, 6);
        // 4 rows inside the box: 1.0 fills the column second from the right, 0.5 half of the last
        let col = |x: usize| rows[1..5].iter().map(|r| r.chars().nth(x).unwrap()).collect::<String>();
        assert_eq!(col(4), "  ██", "the newest (50%) at the right edge: {rows:?}");
        assert_eq!(col(3), "████", "100% fills the column: {rows:?}");
        assert_eq!(col(2), "····", "a sample without the value is marked, not drawn as zero: {rows:?}");
        assert_eq!(col(1), "   ▆", "20% of four rows is six eighths of the bottom one: {rows:?}");
        // twice the room: each sample two columns wide
        let rows = shot(&t, 10, 6);
        let col = |x: usize| rows[1..5].iter().map(|r| r.chars().nth(x).unwrap()).collect::<String>();
        assert_eq!((col(8), col(7), col(6), col(2)), ("  ██".into(), "  ██".into(), "████".into(), "   ▆".into()));
    }

    #[test]
    fn nothing_to_draw_says_so() {
        let t = Trend {
            what: "waiting",
            points: vec![(0.0, None)],
            max: None,
            text: fmt::count,
            style: Style::default(),
            muted: Style::default(),
            note: Some("numbers 40s old".into()),
        };
        assert_eq!(t.title(100), " waiting · numbers 40s old · 0-max · 1 samples · · a sample without it ");
        assert!(shot(&t, 30, 4).concat().contains("no samples yet"));
    }
}
