//! Agent on/off: off scales the workload to 0 through the scale subresource and records the
//! previous count in our annotation; on restores it (1 if unknown).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::audit::{self, AuditLine};
use crate::sources::connect::{client_for, Target};
use crate::store::kagenti::{WorkloadKind, PREVIOUS_REPLICAS};
use crate::store::Update;

#[derive(Debug, Clone, PartialEq)]
pub struct ToggleTarget {
    pub cluster: usize,
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone)]
pub enum ActionRequest {
    /// May this user do it? Answered with `Update::ToggleChecked`.
    Check { id: u64, target: ToggleTarget },
    /// Confirmed by the user: do it. Answered with `Update::ToggleDone`.
    Apply { id: u64, target: ToggleTarget },
    /// Not done (read-only, kiosk, cancelled): only the audit line.
    Refused { target: ToggleTarget, why: String },
    /// A cluster dialed after start (through a hub's proxy): where its writes go, and how it is
    /// reached, for the audit line.
    Reach { cluster: usize, target: Target, via: String },
}

fn user_of(t: &Target) -> Option<String> {
    t.kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == t.context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
}

async fn request(
    client: &kube::Client,
    method: http::Method,
    path: &str,
    content_type: &str,
    body: Value,
) -> Result<String, String> {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    client.request_text(req).await.map_err(|e| match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.message),
        other => other.to_string(),
    })
}

async fn may_scale(client: &kube::Client, t: &ToggleTarget) -> Result<(bool, String), String> {
    let mut reasons = Vec::new();
    let mut allowed = true;
    // the scale itself, and the annotation that remembers the previous count
    for (verb, sub) in [("patch", Some("scale")), ("patch", None)] {
        let body = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": t.namespace, "verb": verb, "group": "apps",
                     "resource": t.kind.plural(), "subresource": sub.unwrap_or(""), "name": t.name}}});
        let text = request(
            client,
            http::Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/json",
            body,
        )
        .await?;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if v["status"]["allowed"] != true {
            allowed = false;
            let what = match sub {
                Some(s) => format!("{verb} {}/{s}", t.kind.plural()),
                None => format!("{verb} {}", t.kind.plural()),
            };
            let reason = v["status"]["reason"].as_str().filter(|r| !r.is_empty()).unwrap_or("RBAC does not allow it");
            reasons.push(format!("{what}: {reason}"));
        }
    }
    Ok((allowed, reasons.join("; ")))
}

async fn apply(client: &kube::Client, t: &ToggleTarget) -> Result<(), String> {
    let base = format!("/apis/apps/v1/namespaces/{}/{}/{}", t.namespace, t.kind.plural(), t.name);
    let merge = "application/merge-patch+json";
    if t.to == 0 {
        request(
            client,
            http::Method::PATCH,
            &base,
            merge,
            json!({"metadata": {"annotations": {PREVIOUS_REPLICAS: t.from.to_string()}}}),
        )
        .await?;
    }
    request(client, http::Method::PATCH, &format!("{base}/scale"), merge, json!({"spec": {"replicas": t.to}})).await?;
    if t.to > 0 {
        request(
            client,
            http::Method::PATCH,
            &base,
            merge,
            json!({"metadata": {"annotations": {PREVIOUS_REPLICAS: null}}}),
        )
        .await?;
    }
    Ok(())
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
        let mut targets: BTreeMap<usize, (Target, Option<String>)> =
            targets.into_iter().enumerate().map(|(i, t)| (i, (t, None))).collect();
        while let Some(req) = rx.recv().await {
            let t = match &req {
                ActionRequest::Check { target, .. }
                | ActionRequest::Apply { target, .. }
                | ActionRequest::Refused { target, .. } => target.clone(),
                ActionRequest::Reach { cluster, target, via } => {
                    targets.insert(*cluster, (target.clone(), Some(via.clone())));
                    clients.remove(cluster);
                    continue;
                }
            };
            let Some((target, via)) = targets.get(&t.cluster) else {
                // the App sends only clusters it knows; say so rather than leave a dialog waiting
                let msg = "kst holds no connection to this cluster".to_string();
                let u = match req {
                    ActionRequest::Check { id, .. } => {
                        Update::ToggleChecked { cluster: t.cluster, id, allowed: false, reason: msg }
                    }
                    ActionRequest::Apply { id, .. } => Update::ToggleDone { cluster: t.cluster, id, result: Err(msg) },
                    _ => continue,
                };
                let _ = updates.send(u).await;
                continue;
            };
            let user = user_of(target);
            let log = |result: &str| {
                let line = AuditLine {
                    time: audit::now(),
                    context: &target.context,
                    user: user.as_deref(),
                    via: via.as_deref(),
                    action: if t.to == 0 { "agent-off" } else { "agent-on" },
                    kind: t.kind.name(),
                    namespace: &t.namespace,
                    name: &t.name,
                    from: t.from,
                    to: t.to,
                    result,
                };
                if let Err(e) = audit::append(&audit_path, &line) {
                    tracing::error!(error = %e, path = %audit_path.display(), "cannot write the audit file");
                }
            };
            let client = match clients.get(&t.cluster) {
                Some(c) => c.clone(),
                None => match client_for(target).await {
                    Ok(c) => {
                        clients.insert(t.cluster, c.clone());
                        c
                    }
                    Err(e) => {
                        let msg = format!("no client: {e}");
                        match req {
                            ActionRequest::Check { id, .. } => {
                                let _ = updates
                                    .send(Update::ToggleChecked { cluster: t.cluster, id, allowed: false, reason: msg })
                                    .await;
                            }
                            ActionRequest::Apply { id, .. } => {
                                log(&format!("failed: {msg}"));
                                let _ =
                                    updates.send(Update::ToggleDone { cluster: t.cluster, id, result: Err(msg) }).await;
                            }
                            ActionRequest::Refused { why, .. } => log(&format!("refused: {why}")),
                            ActionRequest::Reach { .. } => {}
                        }
                        continue;
                    }
                },
            };
            match req {
                ActionRequest::Check { id, .. } => {
                    let (allowed, reason) = match may_scale(&client, &t).await {
                        Ok(x) => x,
                        Err(e) => (false, format!("could not ask the API server: {e}")),
                    };
                    if !allowed {
                        log(&format!("denied: {reason}"));
                    }
                    let _ = updates.send(Update::ToggleChecked { cluster: t.cluster, id, allowed, reason }).await;
                }
                ActionRequest::Apply { id, .. } => {
                    let result = apply(&client, &t).await;
                    match &result {
                        Ok(()) => log("ok"),
                        Err(e) => log(&format!("failed: {e}")),
                    }
                    tracing::info!(context = %target.context, ns = %t.namespace, name = %t.name, from = t.from, to = t.to, ok = result.is_ok(), "agent toggle");
                    let _ = updates
                        .send(Update::ToggleDone {
                            cluster: t.cluster,
                            id,
                            result: result.map(|_| format!("{} -> {}", t.from, t.to)),
                        })
                        .await;
                }
                ActionRequest::Refused { why, .. } => log(&format!("refused: {why}")),
                ActionRequest::Reach { .. } => {}
            }
        }
    });
    tx
}
