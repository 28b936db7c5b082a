//! The KubeFlex hosting cluster's part: the WDS's two KubeStellar controllers as Deployments
//! and pods, and the transport's crash loop while the `transport_down` fault holds.

use super::*;

/// KubeStellar's controllers of the WDS on the hosting cluster, in `wds1-system`, with the
/// labels core-chart's PostCreateHooks give them (`kubestellar-controller.yaml`,
/// `transport-controller.yaml`): (name, (label key, value), image).
pub(super) const CONTROLLERS: [(&str, (&str, &str), &str); 2] = [
    (
        "kubestellar-controller-manager",
        ("control-plane", "controller-manager"),
        "ghcr.io/kubestellar/kubestellar/controller-manager:0.29.0",
    ),
    (
        "transport-controller",
        ("name", "transport-controller"),
        "ghcr.io/kubestellar/kubestellar/ocm-transport-controller:0.29.0",
    ),
];

/// A controller's Deployment and its one pod, running for a month.
pub(super) fn controller(name: &str, (key, value): (&str, &str), image: &str) -> (Value, Value) {
    let ns = format!("{WDS}-system");
    let labels = json!({ key: value });
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "generation": 1, "creationTimestamp": ago(30 * 86400)},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": image}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                   "message": "Deployment has minimum availability.", "lastTransitionTime": ago(30 * 86400)},
                                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                                   "message": format!("ReplicaSet \"{name}-6b9f7d8c5\" has successfully progressed."), "lastTransitionTime": ago(30 * 86400)}]}});
    let mut pod_labels = labels.clone();
    pod_labels["pod-template-hash"] = json!("6b9f7d8c5");
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-6b9f7d8c5-k2x7q"), "namespace": ns, "labels": pod_labels, "creationTimestamp": ago(30 * 86400),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{name}-6b9f7d8c5"), "uid": format!("rs-{name}"), "controller": true}]},
        "spec": {"containers": [{"name": name, "image": image}], "nodeName": "kubeflex-control-plane", "restartPolicy": "Always"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ago(30 * 86400)}],
                   "containerStatuses": [{"name": name, "image": image, "ready": true, "started": true, "restartCount": 0,
                                          "state": {"running": {"startedAt": ago(30 * 86400)}}}]}});
    (deployment, pod)
}

/// The transport controller's Deployment and pod as the `transport_down` fault leaves them: a
/// crash loop (one restart more each time it goes down), not Available since then; running
/// and Available again when the fault clears.
pub(super) fn reflect_transport(hosting: &SimCluster, down: bool) {
    let ns = format!("{WDS}-system");
    let name = "transport-controller";
    let mut s = hosting.store.write().expect("store lock");
    let (di, pi) = (idx(hosting, &r::DEPLOYMENTS), idx(hosting, &r::PODS));
    let Some(d) = s.get(di, &ns, name).map(|d| d.value()) else { return };
    let available = d["status"]["conditions"][0]["status"] == "True";
    if available != down {
        return;
    }
    let ready = if down { 0 } else { 1 };
    let _ = s.modify(di, &ns, name, |o| {
        o["status"]["readyReplicas"] = json!(ready);
        o["status"]["availableReplicas"] = json!(ready);
        o["status"]["unavailableReplicas"] = json!(1 - ready);
        o["status"]["conditions"][0] = if down {
            json!({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                   "message": "Deployment does not have minimum availability.", "lastTransitionTime": ago(0)})
        } else {
            json!({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                   "message": "Deployment has minimum availability.", "lastTransitionTime": ago(0)})
        };
    });
    let pod = format!("{name}-6b9f7d8c5-k2x7q");
    let _ = s.modify(pi, &ns, &pod, |o| {
        let c = &mut o["status"]["containerStatuses"][0];
        if down {
            c["restartCount"] = json!(c["restartCount"].as_i64().unwrap_or(0) + 1);
            c["ready"] = json!(false);
            c["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 10s restarting failed container={name} pod={pod}")}});
            c["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(0)}});
        } else {
            c["ready"] = json!(true);
            c["state"] = json!({"running": {"startedAt": ago(0)}});
        }
        o["status"]["conditions"][0] =
            json!({"type": "Ready", "status": if down { "False" } else { "True" }, "lastTransitionTime": ago(0)});
    });
}
