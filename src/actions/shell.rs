//! A shell in a container (k9s' `s`), guarded as a write: the API server is asked first
//! whether this user may exec into the pod, the session is refused in read-only and kiosk
//! mode, and every attempt is audited. The session itself is `kubectl exec -it`, run by the UI
//! with the terminal handed over; kubectl gets a kubeconfig holding only this context, written
//! to a private temporary folder that is removed when the session ends.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::{toggle, Writer};
use crate::audit;
use crate::sources::connect::Target;
use crate::store::Update;

/// The pod (and its containers) a shell was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellTarget {
    pub cluster: usize,
    pub namespace: String,
    pub pod: String,
    /// The containers one can exec into, in the pod's order.
    pub containers: Vec<String>,
    /// The one chosen (at first kubectl's default: the annotated default container, else the
    /// first).
    pub container: String,
}

#[derive(Debug, Clone)]
pub enum ShellRequest {
    /// May this user exec into the pod? Answered with `Update::ShellChecked`, which carries the
    /// kubeconfig for kubectl when allowed.
    Check { id: u64, target: ShellTarget },
    /// A session ended (or was never started: cancelled, refused): audited, its kubeconfig
    /// removed.
    Done { id: u64, target: ShellTarget, result: String },
}

impl ShellRequest {
    pub(super) fn cluster(&self) -> usize {
        match self {
            ShellRequest::Check { target, .. } | ShellRequest::Done { target, .. } => target.cluster,
        }
    }

    pub(super) fn failed(&self, msg: String) -> Option<Update> {
        match self {
            ShellRequest::Check { id, target } => Some(Update::ShellChecked {
                cluster: target.cluster,
                id: *id,
                allowed: false,
                reason: msg,
                kubeconfig: None,
            }),
            ShellRequest::Done { .. } => None,
        }
    }
}

#[derive(Serialize)]
struct ShellAudit<'a> {
    #[serde(flatten)]
    who: audit::Who<'a>,
    namespace: &'a str,
    pod: &'a str,
    container: &'a str,
    result: &'a str,
}

fn audit_line(w: &Writer, t: &ShellTarget, result: &str) {
    w.append(&ShellAudit {
        who: w.who("shell"),
        namespace: &t.namespace,
        pod: &t.pod,
        container: &t.container,
        result,
    });
}

/// A kubeconfig with only `target`'s context, its cluster (at the server kst reaches) and its
/// user, in a folder only this user can read.
fn kubeconfig_for(target: &Target) -> Result<(tempfile::TempDir, PathBuf), String> {
    let kc = &target.kubeconfig;
    let ctx = kc.contexts.iter().find(|c| c.name == target.context).ok_or("the context is gone from the kubeconfig")?;
    let inner = ctx.context.as_ref().ok_or("the context names no cluster")?;
    let mut one = kube::config::Kubeconfig {
        contexts: vec![ctx.clone()],
        clusters: kc.clusters.iter().filter(|c| c.name == inner.cluster).cloned().collect(),
        auth_infos: kc.auth_infos.iter().filter(|a| Some(&a.name) == inner.user.as_ref()).cloned().collect(),
        current_context: Some(target.context.clone()),
        ..Default::default()
    };
    // kst may reach the cluster at another address than the file says (a test's override)
    for c in &mut one.clusters {
        if let Some(cluster) = c.cluster.as_mut() {
            cluster.server = Some(target.server.clone());
        }
    }
    let text = yaml_serde::to_string(&one).map_err(|e| e.to_string())?;
    let dir = tempfile::Builder::new().prefix("kst-shell-").tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("kubeconfig");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(&mut opts.open(&path).map_err(|e| e.to_string())?, text.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok((dir, path))
}

/// The shell requests' own state in the actions task: each allowed session's kubeconfig, kept
/// until it ends.
#[derive(Default)]
pub(super) struct Sessions {
    files: BTreeMap<u64, tempfile::TempDir>,
}

impl Sessions {
    pub(super) async fn handle(&mut self, client: &kube::Client, w: &Writer<'_>, req: ShellRequest) -> Option<Update> {
        match req {
            ShellRequest::Check { id, target } => {
                let (allowed, reason) = match toggle::may_stream(client, &target.namespace, &target.pod, "exec").await {
                    Ok(x) => x,
                    Err(e) => (false, format!("could not ask the API server: {e}")),
                };
                if !allowed {
                    audit_line(w, &target, &format!("denied: {reason}"));
                    let u = Update::ShellChecked { cluster: target.cluster, id, allowed, reason, kubeconfig: None };
                    return Some(u);
                }
                match kubeconfig_for(w.target) {
                    Ok((dir, path)) => {
                        self.files.insert(id, dir);
                        let u = Update::ShellChecked {
                            cluster: target.cluster,
                            id,
                            allowed,
                            reason,
                            kubeconfig: Some(path),
                        };
                        Some(u)
                    }
                    Err(e) => {
                        let reason = format!("cannot write a kubeconfig for kubectl: {e}");
                        audit_line(w, &target, &format!("failed: {reason}"));
                        Some(Update::ShellChecked {
                            cluster: target.cluster,
                            id,
                            allowed: false,
                            reason,
                            kubeconfig: None,
                        })
                    }
                }
            }
            ShellRequest::Done { id, target, result } => {
                self.files.remove(&id);
                audit_line(w, &target, &result);
                None
            }
        }
    }
}

/// Audited when no client could be had for the cluster.
pub(super) fn audit_unsent(w: &Writer, req: &ShellRequest, msg: &str) {
    match req {
        ShellRequest::Check { target, .. } => audit_line(w, target, &format!("failed: {msg}")),
        ShellRequest::Done { target, result, .. } => audit_line(w, target, result),
    }
}
