//! The dialog of a session on a pod: a shell (k9s' `s`: which container) or a port-forward
//! (k9s' `Shift-f`: which port), on which pod and cluster, after the API server said this user
//! may; `y` hands the terminal to `kubectl exec -it`, or starts the forward.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::DialogState;
use crate::actions::{ForwardTarget, ShellTarget};
use crate::theme::Theme;

/// The command line run in a container: bash where there is one, else sh (as k9s does).
pub const SHELL: &str = "command -v bash >/dev/null && exec bash || exec sh";

/// What the dialog is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    Shell(ShellTarget),
    Forward(ForwardTarget),
}

impl Ask {
    /// What can be chosen (containers, ports) and the chosen one's place.
    fn choices(&self) -> (Vec<String>, usize) {
        match self {
            Ask::Shell(t) => (t.containers.clone(), t.containers.iter().position(|c| *c == t.container).unwrap_or(0)),
            Ask::Forward(t) => {
                (t.ports.iter().map(u16::to_string).collect(), t.ports.iter().position(|p| *p == t.port).unwrap_or(0))
            }
        }
    }

    fn choose(&mut self, i: usize) {
        match self {
            Ask::Shell(t) => {
                if let Some(c) = t.containers.get(i) {
                    t.container = c.clone();
                }
            }
            Ask::Forward(t) => {
                if let Some(p) = t.ports.get(i) {
                    t.port = *p;
                }
            }
        }
    }

    pub fn pod(&self) -> (&str, &str) {
        match self {
            Ask::Shell(t) => (&t.namespace, &t.pod),
            Ask::Forward(t) => (&t.namespace, &t.pod),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionDialog {
    pub id: u64,
    pub ask: Ask,
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
    Forward(ForwardTarget),
}

impl SessionDialog {
    /// A key: `←`/`→` or `Tab` choose the container or port, `y`/`Enter` goes (once allowed),
    /// `n`/`Esc`/`q` cancel.
    pub fn on_key(&mut self, k: KeyEvent) -> Step {
        let (choices, at) = self.ask.choices();
        let n = choices.len();
        match (k.code, &self.state) {
            (KeyCode::Right | KeyCode::Tab | KeyCode::Char('l' | 'j'), _) if n > 1 => self.ask.choose((at + 1) % n),
            (KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h' | 'k'), _) if n > 1 => {
                self.ask.choose((at + n - 1) % n)
            }
            (KeyCode::Char('y') | KeyCode::Enter, DialogState::Allowed) => match &self.ask {
                Ask::Shell(target) => {
                    if let Some(kubeconfig) = self.kubeconfig.clone() {
                        self.state = DialogState::Applying;
                        let (id, target, context) = (self.id, target.clone(), self.context.clone());
                        return Step::Run(ShellRun { id, target, context, kubeconfig });
                    }
                }
                Ask::Forward(target) => return Step::Forward(target.clone()),
            },
            (KeyCode::Char('n' | 'q') | KeyCode::Esc, _) => return Step::Cancelled,
            _ => {}
        }
        Step::Stay
    }
}

pub fn draw(f: &mut Frame, area: Rect, t: &Theme, d: &SessionDialog) {
    let width = 76.min(area.width.saturating_sub(4));
    let (ns, pod) = d.ask.pod();
    let (question, what, how) = match &d.ask {
        Ask::Shell(_) => (
            "Open a shell in this container?",
            "container",
            "kubectl exec -it, bash where there is one, else sh; kst comes back when it ends (audited)",
        ),
        Ask::Forward(_) => (
            "Forward a local port to this pod?",
            "port",
            "listens on 127.0.0.1 (the same number when free), until closed in :pf or kst exits (audited)",
        ),
    };
    let mut lines = vec![
        Line::from(Span::styled(question, t.header)),
        Line::from(Span::styled(format!("pod {ns}/{pod} on {}", d.context), t.text)),
    ];
    let (choices, at) = d.ask.choices();
    let mut choice = vec![Span::styled(format!("{what} "), t.muted)];
    for (i, c) in choices.iter().enumerate() {
        // the chosen one is marked by a glyph too, so it reads without colour
        if i == at {
            choice.push(Span::styled(format!("▸{c} "), t.accent));
        } else {
            choice.push(Span::styled(format!(" {c} "), t.text));
        }
    }
    lines.push(Line::from(choice));
    if choices.len() > 1 {
        lines.push(Line::from(Span::styled(format!("←/→ another {what}"), t.muted)));
    }
    lines.push(Line::from(Span::styled(how, t.muted)));
    if let Some(via) = &d.via {
        lines
            .push(Line::from(Span::styled(format!("Through the {via}, as the identity it gives you there."), t.muted)));
    }
    lines.push(Line::from(""));
    lines.push(match &d.state {
        DialogState::Checking => Line::from(Span::styled("checking your permissions with the API server…", t.muted)),
        DialogState::Allowed => Line::from(vec![
            Span::styled("y/Enter", t.accent),
            Span::raw(if matches!(d.ask, Ask::Shell(_)) { " open   " } else { " forward   " }),
            Span::styled("n/Esc", t.accent),
            Span::raw(" cancel"),
        ]),
        DialogState::Denied(why) => Line::from(Span::styled(format!("not allowed: {why}  (Esc)"), t.crit)),
        DialogState::Applying => Line::from(Span::styled("opening…", t.muted)),
    });
    let text = Paragraph::new(lines).wrap(Wrap { trim: true }).block(
        Block::default()
            .borders(Borders::ALL)
            .title(match d.ask {
                Ask::Shell(_) => " shell ",
                Ask::Forward(_) => " port-forward ",
            })
            .border_style(t.warn),
    );
    let height = (text.line_count(width.saturating_sub(2)) as u16).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(text, r);
}
