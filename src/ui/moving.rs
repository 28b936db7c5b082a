//! The guarded move's dialog, after the preflight (ui/views/moving.rs): the API server is
//! asked whether this user may patch the BindingPolicy, the confirmation shows the selectors
//! now, while both clusters are selected and after, and once confirmed the dialog follows the
//! move (store/moving.rs) to its end: `a` stops it and writes the original selectors back
//! while that is still possible.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tokio::sync::mpsc::UnboundedSender;

use crate::actions::{ActionRequest, MoveRequest};
use crate::store::moving::{self, MovePlan, MoveRun, Phase, SelectorWrite};
use crate::store::Fleet;
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub enum MoveState {
    Checking,
    Allowed,
    Denied(String),
    Running(Box<MoveRun>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveDialog {
    pub id: u64,
    /// The WDS's index in the fleet: where the writes go.
    pub cluster: usize,
    pub plan: MovePlan,
    pub state: MoveState,
    /// How long the target may take (store::moving::TARGET_TIMEOUT_S unless a test says).
    pub target_timeout: f64,
}

impl MoveDialog {
    pub fn new(id: u64, cluster: usize, plan: MovePlan) -> MoveDialog {
        MoveDialog { id, cluster, plan, state: MoveState::Checking, target_timeout: moving::TARGET_TIMEOUT_S }
    }

    pub fn check(&self) -> ActionRequest {
        ActionRequest::Move(MoveRequest::Check {
            id: self.id,
            cluster: self.cluster,
            policy: self.plan.policy.clone(),
            from: self.plan.from.clone(),
            to: self.plan.to.clone(),
        })
    }

    fn write(&self, write: SelectorWrite) -> ActionRequest {
        ActionRequest::Move(MoveRequest::Write {
            id: self.id,
            cluster: self.cluster,
            policy: self.plan.policy.clone(),
            from: self.plan.from.clone(),
            to: self.plan.to.clone(),
            write,
        })
    }

    /// Refused before anything was written (read-only, kiosk, cancelled): the audit line.
    pub fn refused(cluster: usize, plan: &MovePlan, why: &str) -> ActionRequest {
        ActionRequest::Move(MoveRequest::Refused {
            cluster,
            policy: plan.policy.clone(),
            from: plan.from.clone(),
            to: plan.to.clone(),
            why: why.into(),
        })
    }

    fn run(&mut self) -> Option<&mut MoveRun> {
        match &mut self.state {
            MoveState::Running(r) => Some(r),
            _ => None,
        }
    }

    /// The move finished: the dialog may close and say how it ended.
    pub fn finished(&self) -> bool {
        matches!(&self.state, MoveState::Running(r) if r.phase.finished())
    }

    /// A key: true when it was the dialog's; Some(message) when the dialog closes.
    pub fn on_key(
        &mut self,
        k: KeyEvent,
        now: f64,
        tx: Option<&UnboundedSender<ActionRequest>>,
    ) -> (bool, Option<Option<String>>) {
        let send = |r: ActionRequest| {
            if let Some(tx) = tx {
                let _ = tx.send(r);
            }
        };
        match (&mut self.state, k.code) {
            (MoveState::Allowed, KeyCode::Char('y')) => {
                let (run, w) = MoveRun::start(self.plan.clone(), now, self.target_timeout);
                self.state = MoveState::Running(Box::new(run));
                send(self.write(w));
                (true, None)
            }
            (MoveState::Allowed, KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q')) => {
                send(Self::refused(self.cluster, &self.plan, "cancelled by the user"));
                (true, Some(Some(format!("{}: not moved (cancelled)", self.plan.policy))))
            }
            (MoveState::Checking | MoveState::Denied(_), KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q')) => {
                (true, Some(None))
            }
            (MoveState::Running(r), KeyCode::Char('a')) => {
                if let Some(w) = r.abort(now) {
                    send(self.write(w));
                }
                (true, None)
            }
            (MoveState::Running(r), KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) if r.phase.finished() => {
                (true, Some(Some(r.status(now))))
            }
            _ => (false, None),
        }
    }

    /// The API server's answer to the permission check.
    pub fn checked(&mut self, allowed: bool, reason: &str) {
        if self.state == MoveState::Checking {
            self.state = if allowed { MoveState::Allowed } else { MoveState::Denied(reason.to_string()) };
        }
    }

    /// A write's answer: the next write, if any, is sent.
    pub fn patched(&mut self, result: Result<(), String>, now: f64, tx: Option<&UnboundedSender<ActionRequest>>) {
        let next = self.run().and_then(|r| r.patched(result, now));
        if let (Some(w), Some(tx)) = (next, tx) {
            let _ = tx.send(self.write(w));
        }
    }

    /// Every second while running: the waits read the fleet. True when something shown changed.
    pub fn tick(&mut self, fleet: &Fleet, now: f64, tx: Option<&UnboundedSender<ActionRequest>>) -> bool {
        let Some(r) = self.run() else { return false };
        if r.phase.finished() {
            return false;
        }
        if let Some(w) = r.observe(fleet, now) {
            if let Some(tx) = tx {
                let _ = tx.send(self.write(w));
            }
        }
        true
    }
}

/// The dialog: the change and its checks, then the move as it goes.
pub fn draw(f: &mut Frame, area: Rect, t: &Theme, d: &MoveDialog, fleet: &Fleet, now: f64) {
    let p = &d.plan;
    let width = 96.min(area.width.saturating_sub(4));
    let row = |label: &str, text: String, style| {
        Line::from(vec![Span::styled(format!("{label:<17}"), t.muted), Span::styled(text, style)])
    };
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "Move {} ({} object{}) from {} to {}?",
            p.policy,
            p.objects,
            if p.objects == 1 { "" } else { "s" },
            p.from,
            p.to
        ),
        t.header,
    ))];
    lines.push(row("on the WDS", p.wds.clone(), t.text));
    lines.push(row("selectors now", p.original_text.clone(), t.text));
    lines.push(row("while both run", p.overlap_text.clone(), t.text));
    lines.push(row("after the move", p.moved_text.clone(), t.text));
    let passed = p.checks.iter().filter(|c| c.ok == Some(true)).count();
    lines.push(row("preflight", format!("{passed} of {} checks passed", p.checks.len()), t.ok));
    for c in p.checks.iter().filter(|c| c.ok != Some(true)) {
        lines.push(row("", format!("? {}: {}", c.what, c.detail), t.warn));
    }
    for n in &p.notes {
        lines.push(row("", n.clone(), t.warn));
    }
    match &d.state {
        MoveState::Checking => {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled("checking your permissions with the API server…", t.muted)));
        }
        MoveState::Denied(why) => {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(format!("not allowed: {why}  (Esc)"), t.crit)));
        }
        MoveState::Allowed => {
            lines.push(Line::from(Span::styled(
                format!(
                    "Make before break: {} is selected beside {}; {} is released only once every object is Applied and \
                     healthy on {} (up to {:.0} s, else the original selectors are written back).",
                    p.to, p.from, p.from, p.to, d.target_timeout
                ),
                t.muted,
            )));
            lines.push(Line::default());
            lines.push(Line::from(vec![
                Span::styled("y", t.accent),
                Span::raw(" move   "),
                Span::styled("n/Esc", t.accent),
                Span::raw(" cancel"),
            ]));
        }
        MoveState::Running(r) => {
            lines.push(Line::default());
            let style = match &r.phase {
                Phase::Done(None) => t.ok,
                Phase::Done(Some(_)) | Phase::Aborted(_) | Phase::Restoring(_) => t.warn,
                Phase::Failed(_) => t.crit,
                _ => t.text,
            };
            lines.push(Line::from(Span::styled(r.status(now), style)));
            if matches!(r.phase, Phase::AwaitTarget | Phase::Widening) {
                for (o, c) in moving::cells_on(fleet, p, &p.to).into_iter().take(8) {
                    let state = c.map(|c| c.short()).unwrap_or_else(|| "… not bound yet".into());
                    lines.push(row(&format!("  on {}", p.to), format!("{o}: {state}"), t.text));
                }
            }
            lines.push(Line::default());
            lines.push(if r.phase.finished() {
                Line::from(vec![Span::styled("Esc", t.accent), Span::raw(" close")])
            } else if matches!(r.phase, Phase::AwaitTarget | Phase::Widening) {
                Line::from(vec![
                    Span::styled("a", t.accent),
                    Span::raw(" stop and write the original selectors back   "),
                    Span::styled("(quitting kst leaves the policy as this step left it)", t.muted),
                ])
            } else {
                Line::from(Span::styled("(quitting kst leaves the policy as this step left it)", t.muted))
            });
        }
    }
    let text = Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL).title(" confirm a write: placement move ").border_style(t.warn));
    let height = (text.line_count(width.saturating_sub(2)) as u16).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(text, r);
}
