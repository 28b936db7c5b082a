//! Writes: the agent on/off toggle and a guarded move's selector writes. The UI asks, this task
//! checks with the API server (SelfSubjectAccessReview) before offering the change, applies it
//! only after the user confirmed, and writes every attempt to the audit file. Results come back
//! as `Update`s; what changed arrives through the watches, not by guessing.

pub mod forward;
pub mod placement;
pub mod shell;
pub mod toggle;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::audit::{self, AuditLine};
use crate::sources::connect::{client_for, Target};
use crate::store::Update;
pub use forward::{ForwardRequest, ForwardState, ForwardTarget};
pub use placement::MoveRequest;
pub use shell::{ShellRequest, ShellTarget};
pub use toggle::ToggleTarget;

#[derive(Debug, Clone)]
pub enum ActionRequest {
    /// May this user do it? Answered with `Update::ToggleChecked`.
    Check { id: u64, target: ToggleTarget },
    /// Confirmed by the user: do it. Answered with `Update::ToggleDone`.
    Apply { id: u64, target: ToggleTarget },
    /// Not done (read-only, kiosk, cancelled): only the audit line.
    Refused { target: ToggleTarget, why: String },
    /// A guarded move's check, write or refusal (on the WDS).
    Move(MoveRequest),
    /// A shell in a container: its check, and its end (audited).
    Shell(ShellRequest),
    /// A port-forward: its check, start, stop or refusal.
    Forward(ForwardRequest),
    /// A cluster dialed after start (through a hub's proxy): where its writes go, and how it is
    /// reached, for the audit line.
    Reach { cluster: usize, target: Target, via: String },
}

impl From<ShellRequest> for ActionRequest {
    fn from(r: ShellRequest) -> Self {
        ActionRequest::Shell(r)
    }
}

impl From<ForwardRequest> for ActionRequest {
    fn from(r: ForwardRequest) -> Self {
        ActionRequest::Forward(r)
    }
}

impl ActionRequest {
    fn cluster(&self) -> usize {
        match self {
            ActionRequest::Check { target, .. }
            | ActionRequest::Apply { target, .. }
            | ActionRequest::Refused { target, .. } => target.cluster,
            ActionRequest::Move(m) => m.cluster(),
            ActionRequest::Shell(s) => s.cluster(),
            // a stop is handled before any cluster is looked up
            ActionRequest::Forward(f) => f.cluster().unwrap_or_default(),
            ActionRequest::Reach { cluster, .. } => *cluster,
        }
    }

    /// The answer when the request cannot even be sent (no connection, no client); None when
    /// nobody waits for one.
    fn failed(&self, msg: String) -> Option<Update> {
        let cluster = self.cluster();
        match self {
            ActionRequest::Check { id, .. } => {
                Some(Update::ToggleChecked { cluster, id: *id, allowed: false, reason: msg })
            }
            ActionRequest::Apply { id, .. } => Some(Update::ToggleDone { cluster, id: *id, result: Err(msg) }),
            ActionRequest::Move(m) => m.failed(msg),
            ActionRequest::Shell(s) => s.failed(msg),
            ActionRequest::Forward(f) => f.failed(msg),
            _ => None,
        }
    }
}

/// Who did what where, for the audit lines.
pub(crate) struct Writer<'a> {
    pub target: &'a Target,
    pub user: Option<String>,
    pub via: Option<&'a str>,
    pub audit: &'a std::path::Path,
}

impl Writer<'_> {
    pub fn append(&self, line: &impl serde::Serialize) {
        if let Err(e) = audit::append(self.audit, line) {
            tracing::error!(error = %e, path = %self.audit.display(), "cannot write the audit file");
        }
    }

    /// The head of an audit line for `action` by this writer, now.
    pub fn who(&self, action: &'static str) -> audit::Who<'_> {
        audit::Who {
            time: audit::now(),
            context: &self.target.context,
            user: self.user.as_deref(),
            via: self.via,
            action,
        }
    }

    fn toggle(&self, t: &ToggleTarget, result: &str) {
        self.append(&AuditLine {
            who: self.who(if t.to == 0 { "agent-off" } else { "agent-on" }),
            kind: t.kind.name(),
            namespace: &t.namespace,
            name: &t.name,
            from: t.from,
            to: t.to,
            result,
        });
    }
}

/// Starts the actions task for these clusters (same order as the fleet; clusters dialed later
/// are added with `ActionRequest::Reach`).
pub fn start(
    targets: Vec<Target>,
    updates: mpsc::Sender<Update>,
    audit_path: PathBuf,
) -> mpsc::UnboundedSender<ActionRequest> {
    let (tx, mut rx) = mpsc::unbounded_channel::<ActionRequest>();
    tokio::spawn(async move {
        let mut clients: BTreeMap<usize, kube::Client> = BTreeMap::new();
        let mut shells = shell::Sessions::default();
        let mut forwards = forward::Forwards::default();
        let mut targets: BTreeMap<usize, (Target, Option<String>)> =
            targets.into_iter().enumerate().map(|(i, t)| (i, (t, None))).collect();
        while let Some(req) = rx.recv().await {
            if let ActionRequest::Reach { cluster, target, via } = &req {
                targets.insert(*cluster, (target.clone(), Some(via.clone())));
                clients.remove(cluster);
                continue;
            }
            if let ActionRequest::Forward(ForwardRequest::Stop { id }) = &req {
                let on = forwards.cluster_of(*id).and_then(|c| targets.get(&c));
                let w = on.map(|(target, via)| Writer {
                    target,
                    user: toggle::user_of(target),
                    via: via.as_deref(),
                    audit: &audit_path,
                });
                forwards.stop(w.as_ref(), *id);
                continue;
            }
            let cluster = req.cluster();
            let Some((target, via)) = targets.get(&cluster) else {
                // the App sends only clusters it knows; say so rather than leave a dialog waiting
                if let Some(u) = req.failed("kst holds no connection to this cluster".into()) {
                    let _ = updates.send(u).await;
                }
                continue;
            };
            let w = Writer { target, user: toggle::user_of(target), via: via.as_deref(), audit: &audit_path };
            let client = match clients.get(&cluster) {
                Some(c) => c.clone(),
                None => match client_for(target).await {
                    Ok(c) => {
                        clients.insert(cluster, c.clone());
                        c
                    }
                    Err(e) => {
                        let msg = format!("no client: {e}");
                        match &req {
                            ActionRequest::Apply { target: t, .. } => w.toggle(t, &format!("failed: {msg}")),
                            ActionRequest::Refused { target: t, why } => w.toggle(t, &format!("refused: {why}")),
                            ActionRequest::Move(m) => m.audit_unsent(&w, &msg),
                            ActionRequest::Shell(s) => shell::audit_unsent(&w, s, &msg),
                            ActionRequest::Forward(f) => forward::audit_unsent(&w, f, &msg),
                            _ => {}
                        }
                        if let Some(u) = req.failed(msg) {
                            let _ = updates.send(u).await;
                        }
                        continue;
                    }
                },
            };
            let answer = match req {
                ActionRequest::Check { id, target: t } => {
                    let (allowed, reason) = match toggle::may_scale(&client, &t).await {
                        Ok(x) => x,
                        Err(e) => (false, format!("could not ask the API server: {e}")),
                    };
                    if !allowed {
                        w.toggle(&t, &format!("denied: {reason}"));
                    }
                    Some(Update::ToggleChecked { cluster, id, allowed, reason })
                }
                ActionRequest::Apply { id, target: t } => {
                    let result = toggle::apply(&client, &t).await;
                    match &result {
                        Ok(()) => w.toggle(&t, "ok"),
                        Err(e) => w.toggle(&t, &format!("failed: {e}")),
                    }
                    tracing::info!(context = %target.context, ns = %t.namespace, name = %t.name, from = t.from, to = t.to, ok = result.is_ok(), "agent toggle");
                    Some(Update::ToggleDone { cluster, id, result: result.map(|_| format!("{} -> {}", t.from, t.to)) })
                }
                ActionRequest::Refused { target: t, why } => {
                    w.toggle(&t, &format!("refused: {why}"));
                    None
                }
                ActionRequest::Move(m) => placement::handle(&client, &w, m).await,
                ActionRequest::Shell(s) => shells.handle(&client, &w, s).await,
                ActionRequest::Forward(f) => forwards.handle(&client, &w, f, &updates).await,
                ActionRequest::Reach { .. } => None,
            };
            if let Some(u) = answer {
                let _ = updates.send(u).await;
            }
        }
    });
    tx
}
