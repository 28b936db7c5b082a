//! The shell dialog (k9s' `s`): which container, on which pod and cluster, after the API
//! server said this user may exec there; `y` hands the terminal to `kubectl exec -it`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::dialog::DialogState;
use crate::actions::ShellTarget;
use crate::theme::Theme;

/// The command line run in a container: bash where there is one, else sh (as k9s does).
pub const SHELL: &str = "command -v bash >/dev/null && exec bash || exec sh";

#[derive(Debug, Clone, PartialEq)]
pub struct ShellDialog {
    pub id: u64,
    pub target: ShellTarget,
    pub context: String,
    /// How the cluster is reached when not directly (`cluster-proxy of its1`).
    pub via: Option<String>,
    pub state: DialogState,
    /// The kubeconfig kubectl is to use, once allowed.
    pub kubeconfig: Option<std::path::PathBuf>,
}

/// A session to run now: the UI's loop hands the terminal over to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellRun {
    pub id: u64,
    pub target: ShellTarget,
    pub context: String,
    pub kubeconfig: std::path::PathBuf,
}

impl ShellRun {
    /// kubectl's arguments (the kubeconfig holds only this context).
    pub fn args(&self) -> Vec<String> {
        let t = &self.target;
        [
            "--kubeconfig",
            &self.kubeconfig.to_string_lossy(),
            "--context",
            &self.context,
            "exec",
            "-it",
            "-n",
            &t.namespace,
            &t.pod,
            "-c",
            &t.container,
            "--",
            "sh",
            "-c",
            SHELL,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// What the user is told when the session ends.
    pub fn ended(&self, result: &str) -> String {
        format!(
            "shell in {} of {}/{} on {}: {result}",
            self.target.container, self.target.namespace, self.target.pod, self.context
        )
    }
}

pub enum Step {
    Stay,
    Cancelled,
    Run(ShellRun),
}

impl ShellDialog {
    /// A key: `←`/`→` or `Tab` choose the container, `y`/`Enter` opens (once allowed),
    /// `n`/`Esc`/`q` cancel.
    pub fn on_key(&mut self, k: KeyEvent) -> Step {
        let n = self.target.containers.len();
        let at = self.target.containers.iter().position(|c| *c == self.target.container).unwrap_or(0);
        let pick = |i: usize| self.target.containers.get(i % n.max(1)).cloned();
        match (k.code, &self.state) {
            (KeyCode::Right | KeyCode::Tab | KeyCode::Char('l' | 'j'), _) if n > 1 => {
                self.target.container = pick(at + 1).unwrap_or_default();
            }
            (KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h' | 'k'), _) if n > 1 => {
                self.target.container = pick(at + n - 1).unwrap_or_default();
            }
            (KeyCode::Char('y') | KeyCode::Enter, DialogState::Allowed) => {
                if let Some(kubeconfig) = self.kubeconfig.clone() {
                    self.state = DialogState::Applying;
                    return Step::Run(ShellRun {
                        id: self.id,
                        target: self.target.clone(),
                        context: self.context.clone(),
                        kubeconfig,
                    });
                }
            }
            (KeyCode::Char('n' | 'q') | KeyCode::Esc, _) => return Step::Cancelled,
            _ => {}
        }
        Step::Stay
    }
}

pub fn draw(f: &mut Frame, area: Rect, t: &Theme, d: &ShellDialog) {
    let width = 76.min(area.width.saturating_sub(4));
    let mut lines = vec![
        Line::from(Span::styled("Open a shell in this container?", t.header)),
        Line::from(Span::styled(format!("pod {}/{} on {}", d.target.namespace, d.target.pod, d.context), t.text)),
    ];
    let mut choice = vec![Span::styled("container ", t.muted)];
    for c in &d.target.containers {
        // the chosen one is marked by a glyph too, so it reads without colour
        if *c == d.target.container {
            choice.push(Span::styled(format!("▸{c} "), t.accent));
        } else {
            choice.push(Span::styled(format!(" {c} "), t.text));
        }
    }
    lines.push(Line::from(choice));
    if d.target.containers.len() > 1 {
        lines.push(Line::from(Span::styled("←/→ another container", t.muted)));
    }
    lines.push(Line::from(Span::styled(
        "kubectl exec -it, bash where there is one, else sh; kst comes back when it ends (audited)",
        t.muted,
    )));
    if let Some(via) = &d.via {
        lines
            .push(Line::from(Span::styled(format!("Through the {via}, as the identity it gives you there."), t.muted)));
    }
    lines.push(Line::from(""));
    lines.push(match &d.state {
        DialogState::Checking => Line::from(Span::styled("checking your permissions with the API server…", t.muted)),
        DialogState::Allowed => Line::from(vec![
            Span::styled("y/Enter", t.accent),
            Span::raw(" open   "),
            Span::styled("n/Esc", t.accent),
            Span::raw(" cancel"),
        ]),
        DialogState::Denied(why) => Line::from(Span::styled(format!("not allowed: {why}  (Esc)"), t.crit)),
        DialogState::Applying => Line::from(Span::styled("opening…", t.muted)),
    });
    let text = Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL).title(" shell ").border_style(t.warn));
    let height = (text.line_count(width.saturating_sub(2)) as u16).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(text, r);
}
