//! A guarded move's writes on the WDS (store/moving.rs plans them): may this user patch the
//! BindingPolicy (SelfSubjectAccessReview), then each write of `spec.clusterSelectors` as a
//! JSON patch whose `test` operation makes the API server refuse it when the selectors are no
//! longer what kst expects (someone else edited them). Every attempt is audited.

use serde::Serialize;
use serde_json::{json, Value};

use super::toggle::{request, review};
use super::Writer;
use crate::audit;
use crate::store::moving::SelectorWrite;
use crate::store::Update;

/// The resource a move edits.
const GROUP: &str = "control.kubestellar.io";
const RESOURCE: &str = "bindingpolicies";

#[derive(Debug, Clone)]
pub enum MoveRequest {
    /// May this user patch the policy? Answered with `Update::MoveChecked`.
    Check { id: u64, cluster: usize, policy: String, from: String, to: String },
    /// One write, confirmed. Answered with `Update::MovePatched`.
    Write { id: u64, cluster: usize, policy: String, from: String, to: String, write: SelectorWrite },
    /// Not done (read-only, kiosk, cancelled, refused by the preflight): only the audit line.
    Refused { cluster: usize, policy: String, from: String, to: String, why: String },
}

#[derive(Serialize)]
struct MoveAudit<'a> {
    #[serde(flatten)]
    who: audit::Who<'a>,
    /// `check`, `widen`, `narrow`, `restore` or `refused`.
    step: &'a str,
    policy: &'a str,
    from: &'a str,
    to: &'a str,
    /// The clusterSelectors written.
    #[serde(skip_serializing_if = "Option::is_none")]
    selectors: Option<&'a Value>,
    result: &'a str,
}

impl MoveRequest {
    pub fn cluster(&self) -> usize {
        match self {
            MoveRequest::Check { cluster, .. }
            | MoveRequest::Write { cluster, .. }
            | MoveRequest::Refused { cluster, .. } => *cluster,
        }
    }

    pub(super) fn failed(&self, msg: String) -> Option<Update> {
        match self {
            MoveRequest::Check { id, cluster, .. } => {
                Some(Update::MoveChecked { cluster: *cluster, id: *id, allowed: false, reason: msg })
            }
            MoveRequest::Write { id, cluster, .. } => {
                Some(Update::MovePatched { cluster: *cluster, id: *id, result: Err(msg) })
            }
            MoveRequest::Refused { .. } => None,
        }
    }

    fn audit(&self, w: &Writer, result: &str) {
        let (step, policy, from, to, selectors) = match self {
            MoveRequest::Check { policy, from, to, .. } => ("check", policy, from, to, None),
            MoveRequest::Write { policy, from, to, write, .. } => (write.step, policy, from, to, Some(&write.set)),
            MoveRequest::Refused { policy, from, to, .. } => ("refused", policy, from, to, None),
        };
        w.append(&MoveAudit { who: w.who("placement-move"), step, policy, from, to, selectors, result });
    }

    /// Audited when no client could be had for the WDS.
    pub(super) fn audit_unsent(&self, w: &Writer, msg: &str) {
        match self {
            MoveRequest::Refused { why, .. } => self.audit(w, &format!("refused: {why}")),
            _ => self.audit(w, &format!("failed: {msg}")),
        }
    }
}

/// The JSON patch of one write: the selectors tested, then set.
pub fn selector_patch(write: &SelectorWrite) -> Value {
    json!([
        {"op": "test", "path": "/spec/clusterSelectors", "value": write.expect},
        {"op": "add", "path": "/spec/clusterSelectors", "value": write.set},
    ])
}

pub(super) async fn handle(client: &kube::Client, w: &Writer<'_>, m: MoveRequest) -> Option<Update> {
    match &m {
        MoveRequest::Check { id, cluster, policy, .. } => {
            let attributes = json!({"verb": "patch", "group": GROUP, "resource": RESOURCE, "name": policy});
            let (allowed, reason) = match review(client, attributes).await {
                Ok((true, _)) => (true, String::new()),
                Ok((false, why)) => (false, format!("patch {RESOURCE}.{GROUP} {policy}: {why}")),
                Err(e) => (false, format!("could not ask the API server: {e}")),
            };
            if !allowed {
                m.audit(w, &format!("denied: {reason}"));
            }
            Some(Update::MoveChecked { cluster: *cluster, id: *id, allowed, reason })
        }
        MoveRequest::Write { id, cluster, policy, write, .. } => {
            let path = format!("/apis/{GROUP}/v1alpha1/{RESOURCE}/{policy}");
            let result =
                request(client, http::Method::PATCH, &path, "application/json-patch+json", selector_patch(write))
                    .await
                    .map(|_| ());
            m.audit(w, &result.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| format!("failed: {e}")));
            tracing::info!(context = %w.target.context, policy = %policy, step = write.step, ok = result.is_ok(), "placement move write");
            Some(Update::MovePatched { cluster: *cluster, id: *id, result })
        }
        MoveRequest::Refused { why, .. } => {
            m.audit(w, &format!("refused: {why}"));
            None
        }
    }
}
