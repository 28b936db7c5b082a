//! A silence for a problem, created in an Alertmanager: `a` on a problem opens this dialog,
//! which asks how long and why, then names the Alertmanager, the matchers, the duration and the
//! comment and waits for `y`. The request goes to that Alertmanager's task (the UI never awaits
//! the network), which audits it; the answer comes back as `Update::SilenceDone`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::alerts::Matcher;
use crate::theme::Theme;

/// What a component asks to silence.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceAsk {
    /// The Alertmanager (its place in the config) and its URL.
    pub am: usize,
    pub url: String,
    /// The problem, as a line: `kv-decode on gpu-us-east Pod llm-d/decode-0`.
    pub what: String,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Duration,
    Comment,
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Edit { error: Option<String> },
    Confirm { ends_at: f64 },
    Applying,
}

/// What a key in the dialog leads to.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Still open (redraw).
    Stay,
    /// Closed without a silence.
    Cancelled,
    /// Confirmed: send this silence from now until `ends_at`.
    Send { ends_at: f64, comment: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SilenceDialog {
    pub id: u64,
    pub ask: SilenceAsk,
    duration: String,
    comment: String,
    field: Field,
    stage: Stage,
}

/// The longest silence kst makes: Alertmanager takes any, an on-call should not.
const MAX_S: f64 = 7.0 * 86400.0;

impl SilenceDialog {
    pub fn new(id: u64, ask: SilenceAsk) -> SilenceDialog {
        SilenceDialog {
            id,
            ask,
            duration: "2h".into(),
            comment: String::new(),
            field: Field::Comment,
            stage: Stage::Edit { error: None },
        }
    }

    pub fn applying(&self) -> bool {
        self.stage == Stage::Applying
    }

    /// A key; `now` is the clock the end time is counted from.
    pub fn on_key(&mut self, k: KeyEvent, now: f64) -> Step {
        match (&self.stage, k.code) {
            (Stage::Applying, _) => Step::Stay,
            (_, KeyCode::Esc) => Step::Cancelled,
            (Stage::Confirm { ends_at }, KeyCode::Char('y')) => {
                let ends_at = *ends_at;
                self.stage = Stage::Applying;
                Step::Send { ends_at, comment: self.comment.trim().to_string() }
            }
            (Stage::Confirm { .. }, KeyCode::Char('n') | KeyCode::Char('q')) => Step::Cancelled,
            (Stage::Confirm { .. }, _) => Step::Stay,
            (Stage::Edit { .. }, KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down) => {
                self.field = if self.field == Field::Duration { Field::Comment } else { Field::Duration };
                Step::Stay
            }
            (Stage::Edit { .. }, KeyCode::Enter) => {
                self.stage = match self.check(now) {
                    Ok(ends_at) => Stage::Confirm { ends_at },
                    Err(e) => Stage::Edit { error: Some(e) },
                };
                Step::Stay
            }
            (Stage::Edit { .. }, KeyCode::Backspace) => {
                self.text().pop();
                Step::Stay
            }
            (Stage::Edit { .. }, KeyCode::Char(c)) if !c.is_control() => {
                if self.text().chars().count() < 200 {
                    self.text().push(c);
                }
                Step::Stay
            }
            _ => Step::Stay,
        }
    }

    fn text(&mut self) -> &mut String {
        match self.field {
            Field::Duration => &mut self.duration,
            Field::Comment => &mut self.comment,
        }
    }

    /// The end time, or what is wrong with what was typed.
    fn check(&self, now: f64) -> Result<f64, String> {
        let d = crate::durations::parse_duration(self.duration.trim()).map_err(|e| format!("for: {e}"))?.as_secs_f64();
        if d <= 0.0 {
            return Err("for: a silence lasts longer than 0s".into());
        }
        if d > MAX_S {
            return Err("for: at most 7d (a longer silence hides the next incident)".into());
        }
        if self.comment.trim().is_empty() {
            return Err("why: Alertmanager wants a comment, and the next on-call will too".into());
        }
        Ok(now + d)
    }
}

fn when(t: f64) -> String {
    jiff::Timestamp::from_millisecond((t * 1000.0) as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub fn draw(f: &mut Frame, area: Rect, t: &Theme, d: &SilenceDialog) {
    let width = 76.min(area.width.saturating_sub(4));
    let matchers = d.ask.matchers.iter().map(Matcher::text).collect::<Vec<_>>().join(", ");
    let mut lines = vec![
        Line::from(Span::styled("Silence this problem in Alertmanager?", t.header)),
        Line::from(Span::styled(d.ask.what.clone(), t.text)),
        Line::from(vec![Span::styled("matchers: ", t.muted), Span::styled(matchers, t.text)]),
        Line::from(vec![Span::styled("in: ", t.muted), Span::styled(d.ask.url.clone(), t.text)]),
    ];
    let field = |label: &str, value: &str, on: bool| {
        Line::from(vec![
            Span::styled(format!("{label}: "), t.muted),
            Span::styled(format!("{value}{}", if on { "▏" } else { "" }), if on { t.accent } else { t.text }),
        ])
    };
    match &d.stage {
        Stage::Edit { error } => {
            lines.push(field("for", &d.duration, d.field == Field::Duration));
            lines.push(field("why", &d.comment, d.field == Field::Comment));
            if let Some(e) = error {
                lines.push(Line::from(Span::styled(e.clone(), t.crit)));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(vec![
                Span::styled("Tab", t.accent),
                Span::raw(" next field   "),
                Span::styled("Enter", t.accent),
                Span::raw(" review   "),
                Span::styled("Esc", t.accent),
                Span::raw(" cancel"),
            ]));
        }
        Stage::Confirm { ends_at } => {
            lines.push(Line::from(Span::styled(
                format!("for {} (until {}): {}", d.duration.trim(), when(*ends_at), d.comment.trim()),
                t.text,
            )));
            lines.push(Line::from(""));
            lines.push(Line::from(vec![
                Span::styled("y", t.accent),
                Span::raw(" create the silence   "),
                Span::styled("n/Esc", t.accent),
                Span::raw(" cancel"),
            ]));
        }
        Stage::Applying => lines.push(Line::from(Span::styled("asking Alertmanager…", t.muted))),
    }
    let text = Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL).title(" silence a problem ").border_style(t.warn));
    let height = (text.line_count(width.saturating_sub(2)) as u16).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(text, r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn asks_how_long_and_why_then_confirms() {
        let ask = SilenceAsk {
            am: 0,
            url: "http://am:9093".into(),
            what: "kv on c".into(),
            matchers: vec![Matcher { name: "alertname".into(), value: "X".into(), is_regex: false, is_equal: true }],
        };
        let mut d = SilenceDialog::new(1, ask);
        // no comment: not yet
        assert_eq!(d.on_key(key(KeyCode::Enter), 0.0), Step::Stay);
        assert!(matches!(&d.stage, Stage::Edit { error: Some(e) } if e.starts_with("why")));
        for c in "known, fix rolling".chars() {
            d.on_key(key(KeyCode::Char(c)), 0.0);
        }
        // the duration: 30m instead of 2h
        d.on_key(key(KeyCode::Tab), 0.0);
        d.on_key(key(KeyCode::Backspace), 0.0);
        d.on_key(key(KeyCode::Backspace), 0.0);
        for c in "30m".chars() {
            d.on_key(key(KeyCode::Char(c)), 0.0);
        }
        assert_eq!(d.on_key(key(KeyCode::Char('y')), 100.0), Step::Stay, "typed, not confirmed");
        d.on_key(key(KeyCode::Backspace), 100.0);
        d.on_key(key(KeyCode::Enter), 100.0);
        assert_eq!(d.stage, Stage::Confirm { ends_at: 100.0 + 30.0 * 60.0 });
        assert_eq!(
            d.on_key(key(KeyCode::Char('y')), 100.0),
            Step::Send { ends_at: 1900.0, comment: "known, fix rolling".into() }
        );
        assert!(d.applying());
        // a silence of a year is refused
        let mut d = SilenceDialog::new(2, d.ask.clone());
        d.duration = "365d".into();
        d.comment = "x".into();
        d.on_key(key(KeyCode::Enter), 0.0);
        assert!(matches!(&d.stage, Stage::Edit { error: Some(e) } if e.contains("at most 7d")));
        assert_eq!(d.on_key(key(KeyCode::Esc), 0.0), Step::Cancelled);
    }
}
