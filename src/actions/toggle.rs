//! Agent on/off: off scales the workload to 0 through the scale subresource and records the
//! previous count in our annotation; on restores it (1 if unknown).

use serde_json::{json, Value};

use crate::sources::connect::Target;
use crate::store::kagenti::{WorkloadKind, PREVIOUS_REPLICAS};

#[derive(Debug, Clone, PartialEq)]
pub struct ToggleTarget {
    pub cluster: usize,
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub from: i64,
    pub to: i64,
}

pub(super) fn user_of(t: &Target) -> Option<String> {
    t.kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == t.context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
}

pub(super) async fn request(
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

/// One SelfSubjectAccessReview: (allowed, the API server's reason when not).
pub(super) async fn review(client: &kube::Client, attributes: Value) -> Result<(bool, String), String> {
    let body = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                      "spec": {"resourceAttributes": attributes}});
    let text = request(
        client,
        http::Method::POST,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "application/json",
        body,
    )
    .await?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let reason = v["status"]["reason"].as_str().filter(|r| !r.is_empty()).unwrap_or("RBAC does not allow it");
    Ok((v["status"]["allowed"] == true, reason.to_string()))
}

/// May this user open a stream on a pod (`exec`, `portforward`)? `create` on the subresource
/// (the SPDY path, and the WebSocket path from Kubernetes 1.35), `get` on it (the WebSocket path
/// up to 1.34) and `get` on the pod, which kubectl reads first. Sources:
/// docs/upstream/kubernetes-exec-portforward.md §4. (allowed, every refusal with its reason)
pub(super) async fn may_stream(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    subresource: &str,
) -> Result<(bool, String), String> {
    let mut refused = Vec::new();
    for (verb, sub) in [("create", subresource), ("get", subresource), ("get", "")] {
        let attributes = json!({"namespace": namespace, "verb": verb, "resource": "pods",
                                "subresource": sub, "name": pod});
        let (ok, reason) = review(client, attributes).await?;
        if !ok {
            let what = if sub.is_empty() { format!("{verb} pods") } else { format!("{verb} pods/{sub}") };
            refused.push(format!("{what}: {reason}"));
        }
    }
    Ok((refused.is_empty(), refused.join("; ")))
}

pub(super) async fn may_scale(client: &kube::Client, t: &ToggleTarget) -> Result<(bool, String), String> {
    let mut reasons = Vec::new();
    let mut allowed = true;
    // the scale itself, and the annotation that remembers the previous count
    for (verb, sub) in [("patch", Some("scale")), ("patch", None)] {
        let attributes = json!({"namespace": t.namespace, "verb": verb, "group": "apps",
                                "resource": t.kind.plural(), "subresource": sub.unwrap_or(""), "name": t.name});
        let (ok, reason) = review(client, attributes).await?;
        if !ok {
            allowed = false;
            let what = match sub {
                Some(s) => format!("{verb} {}/{s}", t.kind.plural()),
                None => format!("{verb} {}", t.kind.plural()),
            };
            reasons.push(format!("{what}: {reason}"));
        }
    }
    Ok((allowed, reasons.join("; ")))
}

pub(super) async fn apply(client: &kube::Client, t: &ToggleTarget) -> Result<(), String> {
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
