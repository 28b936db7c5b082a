//! The confirmation of a write: refused in read-only and kiosk mode (and audited), otherwise
//! the API server is asked whether this user may (SelfSubjectAccessReview), then a dialog
//! names the exact change and waits for `y`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tokio::sync::mpsc::UnboundedSender;

pub mod session;

use super::component::Write;
use super::moving::MoveDialog;
use super::silence::{SilenceAsk, SilenceDialog, Step};
use super::Mode;
use crate::actions::forward::Forward;
use crate::actions::{ActionRequest, ForwardRequest, ShellRequest, ToggleTarget};
use crate::sources::alertmanager::SilenceRequest;
use crate::store::moving::MovePlan;
use crate::store::views::ForwardState;
use crate::store::{Fleet, FleetUpdate, Update};
use crate::theme::Theme;
use session::{Ask, SessionDialog, ShellRun};

#[derive(Debug, Clone, PartialEq)]
pub enum DialogState {
    Checking,
    Allowed,
    Denied(String),
    Applying,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub id: u64,
    pub target: ToggleTarget,
    pub context: String,
    /// How the cluster is reached when not directly (`cluster-proxy of its1`): the write goes
    /// that way, as the identity the proxy gives the hub's user there.
    pub via: Option<String>,
    pub hpa: Option<String>,
    pub state: DialogState,
}

/// Where writes go, and the dialog of the one being confirmed.
#[derive(Debug, Default)]
pub struct Writes {
    /// None: this App cannot write (tests of drawing, snapshot).
    pub actions: Option<UnboundedSender<ActionRequest>>,
    pub dialog: Option<Dialog>,
    /// Each configured Alertmanager's task, which creates (and audits) silences.
    pub silencers: Vec<UnboundedSender<SilenceRequest>>,
    pub silence: Option<SilenceDialog>,
    /// A guarded move: its confirmation, then the move as it goes.
    pub moving: Option<MoveDialog>,
    /// A shell or a port-forward asked for: its container or port, the permission check, the `y`.
    pub session: Option<SessionDialog>,
    /// A shell confirmed: the UI's loop runs it (the terminal is kubectl's until it ends).
    pub shell_run: Option<ShellRun>,
    /// The port-forwards started, in the order they were (`:pf` lists them).
    pub forwards: Vec<Forward>,
    /// What to tell the user once a key closed a dialog (the App flashes it).
    pub said: Option<String>,
    next: u64,
}

/// Who a silence is created by: the local user, as Alertmanager's `createdBy` shows it.
fn created_by() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "someone".into());
    format!("{user} (kst)")
}

impl Writes {
    /// A dialog is open: it takes every key but Ctrl-C.
    pub fn open(&self) -> bool {
        self.dialog.is_some() || self.silence.is_some() || self.moving.is_some() || self.session.is_some()
    }

    /// A shell or a forward asked for: refused (and audited) in read-only and kiosk mode, else
    /// checked.
    fn request_session(&mut self, ask: Ask, mode: Mode, context: String, via: Option<String>) -> Option<String> {
        let Some(tx) = &self.actions else { return Some("sessions on pods are not available here".into()) };
        let (ns, pod) = ask.pod();
        if mode != Mode::Normal {
            let why = if mode == Mode::Kiosk { "kiosk mode" } else { "read-only mode" };
            let msg = match &ask {
                Ask::Shell(_) => format!("{why}: kst opens no shell; no shell in {ns}/{pod}"),
                Ask::Forward(_) => format!("{why}: kst forwards no port; nothing forwarded to {ns}/{pod}"),
            };
            let refused = format!("refused: {why}");
            let r = match ask {
                Ask::Shell(target) => ActionRequest::Shell(ShellRequest::Done { id: 0, target, result: refused }),
                Ask::Forward(target) => ActionRequest::Forward(ForwardRequest::Refused { target, why: why.into() }),
            };
            let _ = tx.send(r);
            return Some(msg);
        }
        self.next += 1;
        let id = self.next;
        let r = match &ask {
            Ask::Shell(target) => ActionRequest::Shell(ShellRequest::Check { id, target: target.clone() }),
            Ask::Forward(target) => ActionRequest::Forward(ForwardRequest::Check { id, target: target.clone() }),
        };
        let _ = tx.send(r);
        self.session = Some(SessionDialog { id, ask, context, via, state: DialogState::Checking, kubeconfig: None });
        None
    }

    /// A key while the session dialog is open.
    fn session_key(&mut self, k: KeyEvent) -> bool {
        let Some(d) = self.session.as_mut() else { return false };
        match d.on_key(k) {
            session::Step::Stay => {}
            session::Step::Cancelled => {
                if let (Some(d), Some(tx)) = (self.session.take(), &self.actions) {
                    // allowed and not taken: audited as cancelled (a shell's kubeconfig removed)
                    if d.state == DialogState::Allowed {
                        let why = "cancelled by the user".to_string();
                        let r = match d.ask {
                            Ask::Shell(target) => ShellRequest::Done { id: d.id, target, result: why }.into(),
                            Ask::Forward(target) => ForwardRequest::Refused { target, why }.into(),
                        };
                        let _ = tx.send(r);
                    }
                }
            }
            session::Step::Run(run) => {
                self.session = None;
                self.shell_run = Some(run);
            }
            session::Step::Forward(target) => {
                let Some(d) = self.session.take() else { return true };
                if let Some(tx) = &self.actions {
                    let _ = tx.send(ActionRequest::Forward(ForwardRequest::Start { id: d.id, target: target.clone() }));
                }
                self.forwards.push(Forward { id: d.id, target, context: d.context, state: None });
                self.said = Some("starting the port-forward; :pf lists it".into());
            }
        }
        true
    }

    /// The user closed a forward (`:pf`): it stops, and is audited.
    pub fn stop_forward(&mut self, id: u64) -> Option<String> {
        let at = self.forwards.iter().position(|f| f.id == id)?;
        let f = self.forwards.remove(at);
        if let Some(tx) = &self.actions {
            let _ = tx.send(ActionRequest::Forward(ForwardRequest::Stop { id }));
        }
        Some(format!("port-forward to {}/{}:{} closed", f.target.namespace, f.target.pod, f.target.port))
    }

    /// A shell session ended: audited, its kubeconfig removed.
    pub fn shell_ended(&self, run: &ShellRun, result: String) {
        if let Some(tx) = &self.actions {
            let r = ShellRequest::Done { id: run.id, target: run.target.clone(), result };
            let _ = tx.send(ActionRequest::Shell(r));
        }
    }

    /// A silence asked for: refused (and audited) in read-only and kiosk mode, else its dialog.
    fn request_silence(&mut self, ask: SilenceAsk, mode: Mode) -> Option<String> {
        let Some(tx) = self.silencers.get(ask.am) else {
            return Some("no [[alertmanager]] in the config: nowhere to create a silence".into());
        };
        if mode != Mode::Normal {
            let why = if mode == Mode::Kiosk { "kiosk mode" } else { "read-only mode" };
            let _ = tx.send(SilenceRequest {
                id: 0,
                matchers: ask.matchers.clone(),
                starts_at: 0.0,
                ends_at: 0.0,
                created_by: created_by(),
                comment: String::new(),
                refused: Some(why.into()),
            });
            return Some(format!("{why}: kst refuses writes; no silence created"));
        }
        self.next += 1;
        self.silence = Some(SilenceDialog::new(self.next, ask));
        None
    }

    /// A key while the silence dialog is open.
    fn silence_key(&mut self, k: KeyEvent, now: f64) -> bool {
        let Some(d) = self.silence.as_mut() else { return false };
        match d.on_key(k, now) {
            Step::Stay => {}
            Step::Cancelled => self.silence = None,
            Step::Send { ends_at, comment } => {
                let r = SilenceRequest {
                    id: d.id,
                    matchers: d.ask.matchers.clone(),
                    starts_at: now,
                    ends_at,
                    created_by: created_by(),
                    comment,
                    refused: None,
                };
                if self.silencers.get(d.ask.am).is_none_or(|tx| tx.send(r).is_err()) {
                    self.silence = None;
                }
            }
        }
        true
    }

    /// Draws the open dialog, if any.
    pub fn draw(&self, f: &mut Frame, area: Rect, t: &Theme, fleet: &Fleet, now: f64) {
        if let Some(d) = &self.moving {
            super::moving::draw(f, area, t, d, fleet, now);
        }
        if let Some(d) = &self.dialog {
            draw(f, area, t, d);
        }
        if let Some(d) = &self.silence {
            super::silence::draw(f, area, t, d);
        }
        if let Some(d) = &self.session {
            session::draw(f, area, t, d);
        }
    }

    /// A component asks for a write. Returns what to tell the user when it does not go ahead.
    pub fn request(&mut self, w: Write, mode: Mode, context: String, via: Option<String>) -> Option<String> {
        let (target, hpa) = match w {
            Write::Toggle { target, hpa } => (target, hpa),
            Write::Silence(ask) => return self.request_silence(ask, mode),
            Write::Move { cluster, plan } => return self.request_move(cluster, *plan, mode),
            Write::Shell(target) => return self.request_session(Ask::Shell(target), mode, context, via),
            Write::Forward(target) => return self.request_session(Ask::Forward(target), mode, context, via),
        };
        if mode != Mode::Normal {
            let why = if mode == Mode::Kiosk { "kiosk mode" } else { "read-only mode" };
            let msg = format!(
                "{why}: kst refuses writes; {}/{} left at {} replica{}",
                target.namespace,
                target.name,
                target.from,
                if target.from == 1 { "" } else { "s" }
            );
            if let Some(tx) = &self.actions {
                let _ = tx.send(ActionRequest::Refused { target, why: why.into() });
            }
            return Some(msg);
        }
        let Some(tx) = &self.actions else { return Some("writes are not available here".into()) };
        self.next += 1;
        let id = self.next;
        let _ = tx.send(ActionRequest::Check { id, target: target.clone() });
        self.dialog = Some(Dialog { id, target, context, via, hpa, state: DialogState::Checking });
        None
    }

    /// A cluster dialed after start: its writes go to `target`, reached `via` the hub's proxy.
    pub fn reach(&self, cluster: usize, target: crate::sources::connect::Target, via: String) {
        if let Some(tx) = &self.actions {
            let _ = tx.send(ActionRequest::Reach { cluster, target, via });
        }
    }

    /// A move asked for: refused (and audited) in read-only and kiosk mode, else checked.
    fn request_move(&mut self, cluster: usize, plan: MovePlan, mode: Mode) -> Option<String> {
        let Some(tx) = &self.actions else { return Some("writes are not available here".into()) };
        if mode != Mode::Normal {
            let why = if mode == Mode::Kiosk { "kiosk mode" } else { "read-only mode" };
            let _ = tx.send(MoveDialog::refused(cluster, &plan, why));
            return Some(format!("{why}: kst refuses writes; {} stays on {}", plan.policy, plan.from));
        }
        self.next += 1;
        let d = MoveDialog::new(self.next, cluster, plan);
        let _ = tx.send(d.check());
        self.moving = Some(d);
        None
    }

    /// Every second: a running move reads the fleet. True when its dialog must be redrawn.
    pub fn tick(&mut self, fleet: &Fleet, now: f64) -> bool {
        let tx = self.actions.as_ref();
        self.moving.as_mut().is_some_and(|d| d.tick(fleet, now, tx))
    }

    /// A key while a dialog is open: `y` applies (once allowed), `n`/Esc/`q` cancel.
    pub fn on_key(&mut self, k: KeyEvent, now: f64) -> bool {
        if self.silence.is_some() {
            return self.silence_key(k, now);
        }
        if self.session.is_some() {
            return self.session_key(k);
        }
        if let Some(d) = self.moving.as_mut() {
            let (mine, close) = d.on_key(k, now, self.actions.as_ref());
            if let Some(said) = close {
                self.moving = None;
                self.said = said;
            }
            return mine;
        }
        let Some(d) = self.dialog.as_mut() else { return false };
        match (k.code, &d.state) {
            (KeyCode::Char('y'), DialogState::Allowed) => {
                d.state = DialogState::Applying;
                if let Some(tx) = &self.actions {
                    let _ = tx.send(ActionRequest::Apply { id: d.id, target: d.target.clone() });
                }
            }
            (KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q'), _) => {
                if d.state == DialogState::Allowed {
                    if let Some(tx) = &self.actions {
                        let _ = tx.send(ActionRequest::Refused {
                            target: d.target.clone(),
                            why: "cancelled by the user".into(),
                        });
                    }
                }
                self.dialog = None;
            }
            _ => return false,
        }
        true
    }

    /// The answers of the actions task. Some((redraw, message)) when the update was theirs.
    pub fn on_update(&mut self, u: &Update, now: f64) -> Option<(bool, Option<String>)> {
        match u {
            Update::MoveChecked { id, allowed, reason, .. } => {
                let Some(d) = self.moving.as_mut().filter(|d| d.id == *id) else { return Some((false, None)) };
                d.checked(*allowed, reason);
                Some((true, None))
            }
            Update::MovePatched { id, result, .. } => {
                let tx = self.actions.as_ref();
                let Some(d) = self.moving.as_mut().filter(|d| d.id == *id) else { return Some((false, None)) };
                d.patched(result.clone(), now, tx);
                Some((true, None))
            }
            Update::ShellChecked { id, allowed, reason, kubeconfig, .. } => {
                let Some(d) = self.session.as_mut().filter(|d| d.id == *id) else { return Some((false, None)) };
                d.state = if *allowed { DialogState::Allowed } else { DialogState::Denied(reason.clone()) };
                d.kubeconfig = kubeconfig.clone();
                Some((true, None))
            }
            Update::ForwardChecked { id, allowed, reason, .. } => {
                let Some(d) = self.session.as_mut().filter(|d| d.id == *id) else { return Some((false, None)) };
                d.state = if *allowed { DialogState::Allowed } else { DialogState::Denied(reason.clone()) };
                Some((true, None))
            }
            Update::Forwarding { id, state, .. } => {
                let Some(f) = self.forwards.iter_mut().find(|f| f.id == *id) else { return Some((false, None)) };
                // the first word of a forward: where it listens, or why it could not
                let said = match (&f.state, state) {
                    (None, ForwardState::Listening { local, .. }) => Some(format!(
                        "forwarding {local} -> {}/{}:{} on {} (:pf lists and closes)",
                        f.target.namespace, f.target.pod, f.target.port, f.context
                    )),
                    (_, ForwardState::Failed(e)) => Some(format!("port-forward to {}: {e}", f.target.pod)),
                    _ => None,
                };
                f.state = Some(state.clone());
                Some((true, said))
            }
            Update::ToggleChecked { id, allowed, reason, .. } => {
                let Some(d) = self.dialog.as_mut().filter(|d| d.id == *id) else { return Some((false, None)) };
                d.state = if *allowed { DialogState::Allowed } else { DialogState::Denied(reason.clone()) };
                Some((true, None))
            }
            Update::Fleet(FleetUpdate::SilenceDone { id, result }) => {
                let Some(d) = self.silence.take_if(|d| d.id == *id) else { return Some((false, None)) };
                let msg = match result {
                    Ok(sid) => format!("silenced in {} (silence {sid}); the Problems tab shows it", d.ask.url),
                    Err(e) => format!("no silence created in {}: {e}", d.ask.url),
                };
                Some((true, Some(msg)))
            }
            Update::ToggleDone { id, result, .. } => {
                let Some(d) = self.dialog.take_if(|d| d.id == *id) else { return Some((false, None)) };
                let msg = match result {
                    Ok(change) => format!(
                        "{}/{} on {}: scaled {change}; the watch will show it",
                        d.target.namespace, d.target.name, d.context
                    ),
                    Err(e) => format!("{}/{} on {}: failed: {e}", d.target.namespace, d.target.name, d.context),
                };
                Some((true, Some(msg)))
            }
            _ => None,
        }
    }
}

/// The confirmation: cluster, namespace, workload and the exact change, with the HPA warning.
pub fn draw(f: &mut Frame, area: Rect, t: &Theme, d: &Dialog) {
    let width = 72.min(area.width.saturating_sub(4));
    let what = format!(
        "{} {}/{} on {}: replicas {} -> {}",
        d.target.kind.name(),
        d.target.namespace,
        d.target.name,
        d.context,
        d.target.from,
        d.target.to
    );
    let mut lines = vec![
        Line::from(Span::styled(
            if d.target.to == 0 { "Turn this agent off?" } else { "Turn this agent on?" },
            t.header,
        )),
        Line::from(Span::styled(what, t.text)),
    ];
    if d.target.to == 0 {
        lines.push(Line::from(Span::styled(
            format!("The current count ({}) is kept in the annotation kst.dev/previous-replicas.", d.target.from),
            t.muted,
        )));
    }
    if let Some(via) = &d.via {
        lines.push(Line::from(Span::styled(
            format!("Through the {via}: checked and done as the identity it gives you there."),
            t.muted,
        )));
    }
    if let Some(h) = &d.hpa {
        lines.push(Line::from(Span::styled(
            format!("⚠ HorizontalPodAutoscaler {h} targets it and may scale it back."),
            t.warn,
        )));
    }
    lines.push(Line::from(""));
    lines.push(match &d.state {
        DialogState::Checking => Line::from(Span::styled("checking your permissions with the API server…", t.muted)),
        DialogState::Allowed => Line::from(vec![
            Span::styled("y", t.accent),
            Span::raw(" confirm   "),
            Span::styled("n/Esc", t.accent),
            Span::raw(" cancel"),
        ]),
        DialogState::Denied(why) => Line::from(Span::styled(format!("not allowed: {why}  (Esc)"), t.crit)),
        DialogState::Applying => Line::from(Span::styled("applying…", t.muted)),
    });
    let text = Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL).title(" confirm a write ").border_style(t.warn));
    // as tall as the wrapped text (a long name or the proxy line must not push the keys out)
    let height = (text.line_count(width.saturating_sub(2)) as u16).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    f.render_widget(Clear, r);
    f.render_widget(text, r);
}
