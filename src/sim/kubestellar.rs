//! KubeStellar in the simulator (`kst sim --kubestellar`): the standard topology of one KubeFlex
//! hosting cluster (`kind-kubeflex`, ControlPlanes `its1` and `wds1`), an ITS holding a
//! ManagedCluster per WEC (the simulated serving and agent clusters, plus `cluster4`, joined and
//! then lost), and a WDS whose BindingPolicies place the LLM-d and Kagenti workloads.
//!
//! A small controller does what KubeStellar's binding and transport controllers and the status
//! add-on do, from the objects themselves: each policy's Binding (destinations by the policy's
//! clusterSelectors against the ManagedClusters' labels, objects by its downsync clauses), a
//! ManifestWork per object and destination in the WEC's mailbox namespace, and a WorkStatus
//! carrying the WEC object's real status. As upstream's transport controller does
//! (docs/upstream/kubestellar-semantics.md §1), each pass deletes every ManifestWork labelled
//! with one of its Bindings that the Binding no longer wants (a de-selected WEC, an object gone,
//! a Binding with errors: all of them), with the WorkStatuses they own, and writes again one
//! that was deleted. The `prune_bug` fault on the WDS stops the deleting (kubestellar#3569).
//!
//! Drift on purpose, each once: a bound object whose ManifestWork is missing, an orphaned
//! ManifestWork (its Binding deleted while the work sat on a cluster the Binding no longer
//! listed, which upstream never cleans up), `Applied=False` (the work agent forbidden), a destination that is Unavailable,
//! a policy that matches no cluster, a singleton policy with three WECs, a Binding with errors
//! (its ManifestWorks withheld everywhere), and a missing StatusCollector.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::resources::{self as r, ResDef};
use super::scenario::{ago, idx, Shape};
use super::select::{LabelSelector, Req};
use super::store::ObjectStore;
use super::SimCluster;

pub const HOSTING: &str = "kind-kubeflex";
pub const ITS: &str = "its1";
pub const WDS: &str = "wds1";
/// A WEC that joined the hub and then went away: no context, `ManagedClusterConditionAvailable` False.
pub const LOST_WEC: &str = "cluster4";

/// (policy, WEC, object name) whose ManifestWork the transport "lost".
const MISSING: (&str, &str, &str) = ("llmd-prefill-policy", "gpu-us-east", "ms-baseline-llm-d-modelservice");
/// (policy, object name) whose ManifestWork the work agent may not apply.
const APPLY_FAILS: (&str, &str) = ("kagenti-agents-policy", "weather-service");
/// The policy whose Binding carries a transport error.
const BINDING_ERROR: &str = "observability-policy";
/// The deleted policy whose ManifestWork was left behind.
pub const ORPHAN_BINDING: &str = "llama-70b-east-policy";

fn put(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, v: Value) {
    store.put(idx(cluster, def), v);
}

fn namespace(cluster: &SimCluster, store: &mut ObjectStore, name: &str) {
    put(
        cluster,
        store,
        &r::NAMESPACES,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}, "creationTimestamp": ago(30 * 86400)},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    );
}

/// What each control plane holds before the controller runs.
pub fn populate(cluster: &SimCluster, store: &mut ObjectStore) {
    for ns in ["default", "kube-system", "kube-public"] {
        namespace(cluster, store, ns);
    }
    match cluster.shape {
        Shape::Hosting => {
            for ns in ["kubeflex-system", "its1-system", "wds1-system"] {
                namespace(cluster, store, ns);
            }
            for (name, cptype, kind, hooks) in [
                (ITS, "its", "vcluster", json!({"its-hub-init": true, "install-status-addon": true})),
                (WDS, "wds", "k8s", json!({"kubestellar-controller": true, "transport-controller": true})),
            ] {
                put(
                    cluster,
                    store,
                    &r::CONTROL_PLANES,
                    json!({"apiVersion": "tenancy.kflex.kubestellar.org/v1alpha1", "kind": "ControlPlane",
                           "metadata": {"name": name, "labels": {"kflex.kubestellar.io/cptype": cptype}, "creationTimestamp": ago(30 * 86400)},
                           "spec": {"type": kind, "backend": "shared", "tokenExpirationSeconds": 31536000},
                           "status": {"observedGeneration": 1, "postCreateHookCompleted": true, "postCreateHooks": hooks,
                                      "secretRef": {"namespace": format!("{name}-system"), "name": if kind == "vcluster" { "vc-vcluster" } else { "admin-kubeconfig" },
                                                    "key": if kind == "vcluster" { "config" } else { "kubeconfig" }},
                                      "conditions": [{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": ago(30 * 86400), "lastUpdateTime": ago(60)},
                                                     {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": ago(30 * 86400), "lastUpdateTime": ago(60)}]}}),
                );
            }
            // the WDS's controllers, as the PostCreateHooks install them in its namespace
            for (name, label, image) in CONTROLLERS {
                let (deployment, pod) = controller(name, label, image);
                put(cluster, store, &r::DEPLOYMENTS, deployment);
                put(cluster, store, &r::PODS, pod);
            }
        }
        Shape::Its => {
            for ns in ["customization-properties", "open-cluster-management", "open-cluster-management-hub"] {
                namespace(cluster, store, ns);
            }
        }
        _ => {}
    }
}

/// KubeStellar's controllers of the WDS on the hosting cluster, in `wds1-system`, with the
/// labels core-chart's PostCreateHooks give them (`kubestellar-controller.yaml`,
/// `transport-controller.yaml`): (name, (label key, value), image).
const CONTROLLERS: [(&str, (&str, &str), &str); 2] = [
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
fn controller(name: &str, (key, value): (&str, &str), image: &str) -> (Value, Value) {
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
fn reflect_transport(hosting: &SimCluster, down: bool) {
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

/// The ManagedCluster labels of a WEC: the demo's `location-group` and `name`, a region, and the
/// GPU capability the policies select on.
fn wec_labels(name: &str, shape: Option<Shape>) -> Value {
    let region = name.split_once('-').map(|x| x.1).unwrap_or("us-west");
    let mut l = json!({"cluster.open-cluster-management.io/clusterset": "default",
                       "feature.open-cluster-management.io/addon-addon-status": "available",
                       "name": name, "region": region});
    match shape {
        Some(Shape::GpuPrefill) => {
            l["location-group"] = json!("edge");
            l["capability"] = json!("gpu-h100");
        }
        Some(Shape::GpuDecode) | None => {
            l["location-group"] = json!("edge");
            l["capability"] = json!("gpu-a100");
        }
        _ => l["location-group"] = json!("agents"),
    }
    l
}

/// A ManagedClusterSet (`v1beta2`): the exclusive clusterset label, or a label selector.
fn cluster_set(name: &str, selector: Option<Value>) -> Value {
    let cluster_selector = match selector {
        None => json!({"selectorType": "ExclusiveClusterSetLabel"}),
        Some(s) => json!({"selectorType": "LabelSelector", "labelSelector": s}),
    };
    json!({"apiVersion": "cluster.open-cluster-management.io/v1beta2", "kind": "ManagedClusterSet",
           "metadata": {"name": name, "creationTimestamp": ago(30 * 86400)},
           "spec": {"clusterSelector": cluster_selector},
           "status": {"conditions": [{"type": "ClusterSetEmpty", "status": "False", "reason": "ClustersSelected",
                                      "message": "clusters are selected", "lastTransitionTime": ago(30 * 86400)}]}})
}

fn managed_cluster(name: &str, labels: Value, available: bool) -> Value {
    let cond = |t: &str, ok: bool, reason: &str, msg: &str| {
        json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason, "message": msg,
               "lastTransitionTime": ago(if ok { 20 * 86400 } else { 3 * 3600 })})
    };
    let mut conditions = vec![
        cond("HubAcceptedManagedCluster", true, "HubClusterAdminAccepted", "Accepted by hub cluster admin"),
        cond("ManagedClusterJoined", true, "ManagedClusterJoined", "Managed cluster joined"),
    ];
    let mut spec = json!({"hubAcceptsClient": true, "leaseDurationSeconds": 60});
    if available {
        conditions.push(cond(
            "ManagedClusterConditionAvailable",
            true,
            "ManagedClusterAvailable",
            "Managed cluster is available",
        ));
        conditions.push(cond(
            "ManagedClusterConditionClockSynced",
            true,
            "ManagedClusterClockSynced",
            "The clock of the managed cluster is synced with the hub.",
        ));
    } else {
        conditions.push(cond(
            "ManagedClusterConditionAvailable",
            false,
            "ManagedClusterLeaseUpdateStopped",
            "Registration agent stopped updating its lease.",
        ));
        spec["taints"] = json!([{"key": "cluster.open-cluster-management.io/unavailable", "effect": "NoSelect", "timeAdded": ago(3 * 3600)}]);
    }
    json!({"apiVersion": "cluster.open-cluster-management.io/v1", "kind": "ManagedCluster",
           "metadata": {"name": name, "labels": labels, "creationTimestamp": ago(20 * 86400)},
           "spec": spec,
           "status": {"conditions": conditions, "version": {"kubernetes": "v1.31.2"},
                      "capacity": {"cpu": "96", "memory": "1056911520Ki"}, "allocatable": {"cpu": "95500m", "memory": "1056911520Ki"}}})
}

fn policy(name: &str, clusters: Value, downsync: Value) -> Value {
    json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "BindingPolicy",
           "metadata": {"name": name, "creationTimestamp": ago(10 * 86400), "generation": 1,
                        "finalizers": ["bindingpolicy.kubestellar.io/kscontroller"]},
           "spec": {"clusterSelectors": clusters, "downsync": downsync}})
}

/// The ManagedClusters, the WDS's workload objects (copied from the WECs, as a user would have
/// applied them to the WDS) and the policies; one orphaned ManifestWork left from a policy
/// deleted since. Runs once, after every cluster is populated.
pub fn seed(clusters: &[Arc<SimCluster>]) {
    let (Some(its), Some(wds)) =
        (clusters.iter().find(|c| c.shape == Shape::Its), clusters.iter().find(|c| c.shape == Shape::Wds))
    else {
        return;
    };
    let wecs: Vec<&Arc<SimCluster>> = clusters.iter().filter(|c| !c.shape.control_plane()).collect();
    {
        let mut store = its.store.write().expect("store lock");
        for w in &wecs {
            namespace(its, &mut store, &w.name);
            put(
                its,
                &mut store,
                &r::MANAGED_CLUSTERS,
                managed_cluster(&w.name, wec_labels(&w.name, Some(w.shape)), true),
            );
        }
        namespace(its, &mut store, LOST_WEC);
        put(its, &mut store, &r::MANAGED_CLUSTERS, managed_cluster(LOST_WEC, wec_labels(LOST_WEC, None), false));
        // what OCM's registration controller creates: `default` (the exclusive label) and
        // `global` (an empty label selector: every cluster)
        put(its, &mut store, &r::MANAGED_CLUSTER_SETS, cluster_set("default", None));
        put(its, &mut store, &r::MANAGED_CLUSTER_SETS, cluster_set("global", Some(json!({}))));
    }
    // the workload objects, as applied to the WDS: specs and labels, no status
    let mut objects: BTreeMap<(&str, String, String), Value> = BTreeMap::new();
    for w in &wecs {
        let store = w.store.read().expect("store lock");
        for ns in ["llm-d", "team1", "kube-system"] {
            for (def, kind) in [(r::DEPLOYMENTS, "Deployment"), (r::STATEFULSETS, "StatefulSet")] {
                for d in store.list(idx(w, &def), Some(ns)) {
                    let v = d.value();
                    objects.entry((kind, d.namespace.clone(), d.name.clone())).or_insert_with(|| {
                        json!({"apiVersion": "apps/v1", "kind": kind,
                               "metadata": {"name": d.name, "namespace": d.namespace, "labels": v["metadata"]["labels"],
                                            "creationTimestamp": ago(10 * 86400), "generation": 1},
                               "spec": v["spec"]})
                    });
                }
            }
        }
    }
    let mut store = wds.store.write().expect("store lock");
    for ns in ["llm-d", "team1", "monitoring"] {
        namespace(wds, &mut store, ns);
    }
    for ((kind, _, _), v) in objects {
        put(wds, &mut store, if kind == "StatefulSet" { &r::STATEFULSETS } else { &r::DEPLOYMENTS }, v);
    }
    put(
        wds,
        &mut store,
        &r::DEPLOYMENTS,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "dcgm-exporter", "namespace": "monitoring", "labels": {"app.kubernetes.io/name": "dcgm-exporter"},
                            "creationTimestamp": ago(10 * 86400), "generation": 1},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter"}},
                        "template": {"metadata": {"labels": {"app.kubernetes.io/name": "dcgm-exporter"}},
                                     "spec": {"containers": [{"name": "exporter", "image": "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04"}]}}}}),
    );
    let policies = [
        // the seed's example: prefill where the H100s are, in us-east
        policy(
            "llmd-prefill-policy",
            json!([{"matchLabels": {"capability": "gpu-h100", "region": "us-east"}}]),
            json!([{"apiGroup": "apps", "resources": ["deployments"], "namespaces": ["llm-d"],
                    "objectSelectors": [{"matchLabels": {"llm-d.ai/model": "llama-3-1-8b-instruct"}}]}]),
        ),
        // decode on the A100 clusters: cluster4 is one of them, and it is gone
        policy(
            "llmd-decode-policy",
            json!([{"matchExpressions": [{"key": "capability", "operator": "In", "values": ["gpu-a100"]}]}]),
            json!([{"apiGroup": "apps", "resources": ["deployments"], "namespaces": ["llm-d"],
                    "objectSelectors": [{"matchLabels": {"llm-d.ai/model": "llama-3-3-70b-instruct"},
                                         "matchExpressions": [{"key": "llm-d.ai/guide", "operator": "DoesNotExist"}]}]}]),
        ),
        // the 70B P/D pool on the H100s (its decode servers are short of GPUs there)
        policy(
            "llmd-70b-h100-policy",
            json!([{"matchLabels": {"capability": "gpu-h100"}}]),
            json!([{"apiGroup": "apps", "resources": ["deployments"], "namespaces": ["llm-d"],
                    "objectSelectors": [{"matchLabels": {"llm-d.ai/guide": "pd-llama-70b"}}]}]),
        ),
        // the agents, with a status collector nobody created
        policy(
            "kagenti-agents-policy",
            json!([{"matchLabels": {"location-group": "agents"}}]),
            json!([{"namespaces": ["team1"], "objectNames": ["weather-service", "currency-converter", "weather-tool"],
                    "statusCollectors": ["agent-replicas"]}]),
        ),
        // B200s nobody has yet: matches no cluster, and upstream says nothing
        policy(
            "gpu-b200-policy",
            json!([{"matchLabels": {"capability": "gpu-b200"}}]),
            json!([{"namespaces": ["llm-d"], "objectSelectors": [{"matchLabels": {"llm-d.ai/role": "decode"}}]}]),
        ),
        // DNS on every edge cluster, asking for a singleton status return: three WECs, an error;
        // created once, then each cluster's own (createOnly)
        policy(
            "edge-singleton-policy",
            json!([{"matchLabels": {"location-group": "edge"}}]),
            json!([{"namespaces": ["kube-system"], "objectNames": ["coredns"], "wantSingletonReportedState": true,
                    "createOnly": true}]),
        ),
        // the DCGM exporter everywhere with GPUs: a customization error withholds it
        policy(
            BINDING_ERROR,
            json!([{"matchExpressions": [{"key": "capability", "operator": "Exists"}]}]),
            json!([{"namespaces": ["monitoring"], "objectNames": ["dcgm-exporter"]}]),
        ),
    ];
    for p in policies {
        put(wds, &mut store, &r::BINDING_POLICIES, p);
    }
    drop(store);
    // a ManifestWork of a policy deleted since (llama-70b on gpu-us-east): its Binding's
    // finalizer cleaned only its last destinations, so this one stays, nobody's to prune
    let mut store = its.store.write().expect("store lock");
    put(
        its,
        &mut store,
        &r::MANIFEST_WORKS,
        manifest_work(
            "gpu-us-east",
            ORPHAN_BINDING,
            "0b6e0c2a-5c1f-4e0e-9a3b-6d1e2f3a4b5c",
            &stale_object(),
            Some((true, None)),
            9 * 3600,
        ),
    );
}

/// The managedFields entry of a status write by the status add-on, now.
fn status_write() -> Value {
    json!([{"manager": "ocm-status-addon", "operation": "Update", "apiVersion": "control.kubestellar.io/v1alpha1",
            "time": ago(0), "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": {"f:status": {".": {}}}}])
}

/// The name of the i-th hub-only ManagedCluster.
pub fn hub_only_name(i: usize) -> String {
    format!("edge-{i:04}")
}

/// `n` ManagedClusters on the ITS that no context reaches (a large fleet's hub), Available except
/// every 97th (its lease expired).
pub fn hub_only(clusters: &[Arc<SimCluster>], n: usize) {
    let Some(its) = clusters.iter().find(|c| c.shape == Shape::Its) else { return };
    let mut store = its.store.write().expect("store lock");
    if n > 0 {
        put(its, &mut store, &r::MANAGED_CLUSTER_SETS, cluster_set("fleet", None));
    }
    for i in 0..n {
        let name = hub_only_name(i);
        // their own capability and group, so the demo's policies (and their drift) stay as they are
        let mut labels = wec_labels(&name, Some(Shape::GpuDecode));
        labels["region"] = json!(["us-east", "us-west", "eu-west", "ap-south"][i % 4]);
        labels["location-group"] = json!("fleet");
        labels["capability"] = json!("gpu-l40s");
        labels["cluster.open-cluster-management.io/clusterset"] = json!("fleet");
        put(its, &mut store, &r::MANAGED_CLUSTERS, managed_cluster(&name, labels, i % 97 != 96));
    }
}

/// `n` more policies and `m` more WDS objects, for scale: policy i binds the objects labelled
/// `bulk-group=i` (object j is in group j mod n) to every edge cluster, and one more,
/// `bulk-policy-all`, binds every one of them to every edge cluster (one policy of `m`
/// objects: the largest matrix).
pub fn bulk(clusters: &[Arc<SimCluster>], n: usize, m: usize) {
    let Some(wds) = clusters.iter().find(|c| c.shape == Shape::Wds) else { return };
    if n == 0 {
        return;
    }
    let mut store = wds.store.write().expect("store lock");
    namespace(wds, &mut store, "bulk");
    for i in 0..n {
        put(
            wds,
            &mut store,
            &r::BINDING_POLICIES,
            policy(
                &format!("bulk-policy-{i:03}"),
                json!([{"matchLabels": {"location-group": "edge"}}]),
                json!([{"namespaces": ["bulk"], "objectSelectors": [{"matchLabels": {"bulk-group": i.to_string()}}]}]),
            ),
        );
    }
    put(
        wds,
        &mut store,
        &r::BINDING_POLICIES,
        policy(
            "bulk-policy-all",
            json!([{"matchLabels": {"location-group": "edge"}}]),
            json!([{"namespaces": ["bulk"], "objectSelectors": [{"matchExpressions": [{"key": "bulk-group", "operator": "Exists"}]}]}]),
        ),
    );
    for j in 0..m {
        let name = format!("bulk-app-{j:04}");
        let group = (j % n).to_string();
        put(
            wds,
            &mut store,
            &r::DEPLOYMENTS,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": "bulk", "labels": {"app": name, "bulk-group": group},
                                "creationTimestamp": ago(86400), "generation": 1},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}},
                                         "spec": {"containers": [{"name": "app", "image": "ghcr.io/example/service:1.4.2"}]}}}}),
        );
    }
}

fn stale_object() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "llama-70b-decode", "namespace": "llm-d", "uid": "stale"}})
}

/// A ManifestWork as KubeStellar's transport names and labels it; `applied`: None while the
/// work agent has not reported (an unreachable WEC), else whether it applied and why not.
fn manifest_work(
    wec: &str,
    binding: &str,
    binding_uid: &str,
    obj: &Value,
    applied: Option<(bool, Option<String>)>,
    age: i64,
) -> Value {
    let meta = &obj["metadata"];
    let (ns, name, uid) = (
        meta["namespace"].as_str().unwrap_or(""),
        meta["name"].as_str().unwrap_or(""),
        meta["uid"].as_str().unwrap_or(""),
    );
    let mut status = json!({});
    if let Some((ok, why)) = applied {
        let (reason, msg) = if ok {
            ("AppliedManifestWorkComplete".to_string(), "Apply manifest work complete".to_string())
        } else {
            // the work says only this; why is the manifest's condition (OCM's work agent)
            ("AppliedManifestWorkFailed".to_string(), "Failed to apply manifest work".to_string())
        };
        status = json!({"conditions": [
            {"type": "Applied", "status": if ok { "True" } else { "False" }, "reason": reason, "message": msg, "lastTransitionTime": ago(age)},
            {"type": "Available", "status": if ok { "True" } else { "Unknown" }, "reason": if ok { "ResourcesAvailable" } else { "ResourcesNotAvailable" },
             "message": if ok { "All resources are available" } else { "resource not applied" }, "lastTransitionTime": ago(age)}],
            "resourceStatus": {"manifests": [{"resourceMeta": {"ordinal": 0, "group": "apps", "version": "v1", "kind": obj["kind"],
                                                                "resource": resource_of(obj), "namespace": ns, "name": name},
                                              "conditions": [{"type": "Applied", "status": if ok { "True" } else { "False" },
                                                              "reason": if ok { "AppliedManifestComplete" } else { "AppliedManifestFailed" },
                                                              "message": if ok { "Apply manifest complete".to_string() } else { why.unwrap_or_default() }}]}]}});
    }
    // what the transport strips before wrapping (`TransformObject`, generic_transport_controller.go
    // L1280-1296): a status returned into the WDS object is never sent back down
    let mut manifest = obj.clone();
    if let Some(m) = manifest["metadata"].as_object_mut() {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "finalizers",
            "ownerReferences",
        ] {
            m.remove(field);
        }
    }
    if let Some(m) = manifest.as_object_mut() {
        m.remove("status");
    }
    json!({"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
           "metadata": {"name": format!("{binding_uid}-{WDS}-{uid}"), "namespace": wec, "creationTimestamp": ago(age),
                        "labels": {"transport.kubestellar.io/originOwnerReferenceBindingKey": binding, "transport.kubestellar.io/originWdsName": WDS},
                        "annotations": {"transport.kubestellar.io/originOwnerReferenceBindingGeneration": "1"}},
           "spec": {"workload": {"manifests": [manifest]}},
           "status": status})
}

/// A LabelSelector object (`matchLabels`, `matchExpressions`) as the simulator's selector.
/// As `metav1.LabelSelectorAsSelector` converts it, with `labels.NewRequirement`'s refusals:
/// an unknown operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values
/// (docs/upstream/kubestellar-semantics.md §3).
fn selector(v: &Value) -> Result<LabelSelector, String> {
    let mut reqs = Vec::new();
    if let Some(m) = v["matchLabels"].as_object() {
        for (k, val) in m {
            reqs.push(Req::Eq(k.clone(), val.as_str().unwrap_or("").to_string()));
        }
    }
    for e in v["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or("").to_string();
        let values: Vec<String> =
            e["values"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect();
        let op = e["operator"].as_str().unwrap_or("");
        reqs.push(match (op, values.is_empty()) {
            ("In" | "NotIn", true) => return Err(format!("{key}: values set can't be empty for {op}")),
            ("Exists" | "DoesNotExist", false) => return Err(format!("{key}: values set must be empty for {op}")),
            ("In", _) => Req::In(key, values),
            ("NotIn", _) => Req::NotIn(key, values),
            ("Exists", _) => Req::Exists(key),
            ("DoesNotExist", _) => Req::NotExists(key),
            _ => return Err(format!("{op:?} is not a valid label selector operator")),
        });
    }
    Ok(LabelSelector(reqs))
}

/// `labelsMatchAny`: a selector that cannot be converted is skipped.
fn matches_any(selectors: &[Value], labels: &BTreeMap<String, String>) -> bool {
    selectors.iter().any(|s| selector(s).is_ok_and(|s| s.matches(labels)))
}

/// The CRD's admission check of a BindingPolicy: clusterSelectors' operators are
/// pattern-checked by the API server (`^(In|NotIn|Exists|DoesNotExist)$`), unlike the downsync
/// clauses' selectors. The error is the API server's field path and message.
pub fn admit_binding_policy(obj: &Value) -> Result<(), String> {
    for (i, s) in obj["spec"]["clusterSelectors"].as_array().into_iter().flatten().enumerate() {
        for (j, e) in s["matchExpressions"].as_array().into_iter().flatten().enumerate() {
            let op = e["operator"].as_str().unwrap_or("");
            if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                let path = format!("spec.clusterSelectors[{i}].matchExpressions[{j}].operator");
                return Err(format!(
                    "{path}: Invalid value: \"{op}\": {path} in body should match '^(In|NotIn|Exists|DoesNotExist)$'"
                ));
            }
        }
    }
    Ok(())
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v["metadata"]["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

/// The plural of a WDS object's kind (the kinds the simulator's WDS holds).
fn resource_of(obj: &Value) -> &'static str {
    if obj["kind"] == "StatefulSet" {
        "statefulsets"
    } else {
        "deployments"
    }
}

/// A downsync clause's object test against a Deployment or StatefulSet of the WDS.
/// `testObject` of KubeStellar's binding controller (semantics §3): every non-empty criterion
/// holds; `namespaceSelectors` against the labels of the object's Namespace in the WDS (none:
/// no match), skipped when any of them is `{}`.
fn clause_selects(c: &Value, obj: &Value, namespaces: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let any_or = |list: Vec<String>, have: &str| list.is_empty() || list.iter().any(|x| x == "*" || x == have);
    let group_ok = c["apiGroup"].as_str().is_none_or(|g| g == "apps");
    let meta = &obj["metadata"];
    let ns = meta["namespace"].as_str().unwrap_or("");
    let objsel = c["objectSelectors"].as_array().filter(|s| !s.is_empty());
    let nssel = c["namespaceSelectors"]
        .as_array()
        .filter(|s| !s.is_empty() && !s.iter().any(|x| selector(x).is_ok_and(|x| x.0.is_empty())));
    group_ok
        && any_or(strings(&c["resources"]), resource_of(obj))
        && any_or(strings(&c["namespaces"]), ns)
        && any_or(strings(&c["objectNames"]), meta["name"].as_str().unwrap_or(""))
        && objsel.is_none_or(|s| matches_any(s, &labels(obj)))
        && nssel.is_none_or(|s| namespaces.get(ns).is_some_and(|l| matches_any(s, l)))
}

/// Where a policy sends its objects: the ManagedClusters its clusterSelectors match; a selector
/// that cannot be converted stops the evaluation, so the destinations stay what the Binding had
/// (nothing for a new one), and nothing says why.
fn destinations(p: &Value, managed: &[Value], wds: &SimCluster) -> Vec<String> {
    let cluster_selectors: Result<Vec<LabelSelector>, String> =
        p["spec"]["clusterSelectors"].as_array().into_iter().flatten().map(selector).collect();
    match cluster_selectors {
        Ok(sels) => managed
            .iter()
            .filter(|m| sels.iter().any(|s| s.matches(&labels(m))))
            .filter_map(|m| m["metadata"]["name"].as_str().map(str::to_string))
            .collect(),
        Err(_) => wds
            .store
            .read()
            .expect("store lock")
            .get(idx(wds, &r::BINDINGS), "", p["metadata"]["name"].as_str().unwrap_or(""))
            .map(|b| {
                b.value()["spec"]["destinations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["clusterId"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Deletes a ManifestWork and the WorkStatuses it owns (they go by garbage collection).
fn delete_work(s: &mut crate::sim::store::ObjectStore, mi: usize, wi: usize, ns: &str, name: &str, uid: &str) {
    let _ = s.delete(mi, ns, name);
    let owned: Vec<String> = s
        .list(wi, Some(ns))
        .iter()
        .filter(|ws| ws.value()["metadata"]["ownerReferences"][0]["uid"] == uid)
        .map(|ws| ws.name.clone())
        .collect();
    for n in owned {
        let _ = s.delete(wi, ns, &n);
    }
}

/// Kubernetes' garbage collector deletes a Binding whose BindingPolicy is gone (its controller
/// ownerReference names the policy's uid, so a policy deleted and created again under the same
/// name counts as gone: `binding.go` L141-146); the transport's finalizer first deletes the
/// works in the Binding's destinations, and only there (semantics §1, gap 2: a work left in a
/// namespace the Binding no longer lists stays, an orphan).
fn collect_bindings_of_gone_policies(wds: &SimCluster, its: &SimCluster, policies: &[Value]) {
    let gone: Vec<(String, Vec<String>)> = {
        let s = wds.store.read().expect("store lock");
        s.list(idx(wds, &r::BINDINGS), None)
            .iter()
            .map(|b| b.value())
            .filter(|b| {
                let owner = &b["metadata"]["ownerReferences"][0]["uid"];
                !policies
                    .iter()
                    .any(|p| p["metadata"]["name"] == b["metadata"]["name"] && p["metadata"]["uid"] == *owner)
            })
            .map(|b| {
                let dests = b["spec"]["destinations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["clusterId"].as_str().map(str::to_string))
                    .collect();
                (b["metadata"]["name"].as_str().unwrap_or("").to_string(), dests)
            })
            .collect()
    };
    if gone.is_empty() {
        return;
    }
    {
        let mut s = its.store.write().expect("store lock");
        let (mi, wi) = (idx(its, &r::MANIFEST_WORKS), idx(its, &r::WORK_STATUSES));
        for (binding, dests) in &gone {
            for d in dests {
                let doomed: Vec<(String, String)> = s
                    .list(mi, Some(d))
                    .iter()
                    .map(|w| (w.name.clone(), w.value()))
                    .filter(|(_, v)| {
                        let l = &v["metadata"]["labels"];
                        l["transport.kubestellar.io/originWdsName"] == WDS
                            && l["transport.kubestellar.io/originOwnerReferenceBindingKey"] == binding.as_str()
                    })
                    .map(|(n, v)| (n, v["metadata"]["uid"].as_str().unwrap_or("").to_string()))
                    .collect();
                for (name, uid) in doomed {
                    delete_work(&mut s, mi, wi, d, &name, &uid);
                }
            }
        }
    }
    let mut s = wds.store.write().expect("store lock");
    for (binding, _) in gone {
        let _ = s.delete(idx(wds, &r::BINDINGS), "", &binding);
    }
}

/// One pass of the binding and transport controllers and the status add-on.
pub fn reconcile(clusters: &[Arc<SimCluster>]) {
    let (Some(its), Some(wds)) =
        (clusters.iter().find(|c| c.shape == Shape::Its), clusters.iter().find(|c| c.shape == Shape::Wds))
    else {
        return;
    };
    let (policies, objects, namespaces) = {
        let s = wds.store.read().expect("store lock");
        let namespaces: BTreeMap<String, BTreeMap<String, String>> =
            s.list(idx(wds, &r::NAMESPACES), None).iter().map(|n| (n.name.clone(), n.labels.clone())).collect();
        (
            s.list(idx(wds, &r::BINDING_POLICIES), None).iter().map(|p| p.value()).collect::<Vec<_>>(),
            [r::DEPLOYMENTS, r::STATEFULSETS]
                .iter()
                .flat_map(|def| s.list(idx(wds, def), None).iter().map(|d| d.value()).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            namespaces,
        )
    };
    collect_bindings_of_gone_policies(wds, its, &policies);
    if let Some(hosting) = clusters.iter().find(|c| c.shape == Shape::Hosting) {
        reflect_transport(hosting, wds.faults.transport_down());
    }
    let managed: Vec<Value> = its
        .store
        .read()
        .expect("store lock")
        .list(idx(its, &r::MANAGED_CLUSTERS), None)
        .iter()
        .map(|m| m.value())
        .collect();
    let mut works: Vec<Value> = Vec::new();
    // per Binding, the ManifestWorks it wants (docs/upstream/kubestellar-semantics.md §1)
    let mut desired: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    // each policy's destinations and objects, first: singleton status is counted per object
    // across every policy that asks it (semantics §4)
    let resolved: Vec<(Vec<String>, Vec<&Value>)> = policies
        .iter()
        .map(|p| {
            let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
            let selected =
                objects.iter().filter(|o| clauses.iter().any(|c| clause_selects(c, o, &namespaces))).collect();
            (destinations(p, &managed, wds), selected)
        })
        .collect();
    let object_key = |o: &Value| {
        format!(
            "{}/{}",
            o["metadata"]["namespace"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        )
    };
    let mut singleton_wecs: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (p, (dests, _)) in policies.iter().zip(&resolved) {
        let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
        for o in &objects {
            if clauses.iter().any(|c| c["wantSingletonReportedState"] == true && clause_selects(c, o, &namespaces)) {
                singleton_wecs.entry(object_key(o)).or_default().extend(dests.iter().map(String::as_str));
            }
        }
    }
    for (p, (dests, selected)) in policies.iter().zip(&resolved) {
        let name = p["metadata"]["name"].as_str().unwrap_or("").to_string();
        desired.entry(name.clone()).or_default();
        let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
        // upstream lists at most four of the Binding's objects whose collective count is not
        // 1, whether or not this policy asks, as the JSON of its `objectWithNumWECs`
        // (`binding.go` L90-108)
        // (written by hand: Go keeps the structs' field order, serde_json's map sorts keys)
        let wrong: Vec<String> = selected
            .iter()
            .filter_map(|o| {
                let n = singleton_wecs.get(&object_key(o))?.len();
                (n != 1).then(|| {
                    format!(
                        r#"{{"ObjectID":{{"GVK":{{"Group":"apps","Version":"v1","Kind":{}}},"Resource":"{}","ObjectName":{{"Namespace":{},"Name":{}}}}},"NumWECs":{n}}}"#,
                        o["kind"],
                        resource_of(o),
                        o["metadata"]["namespace"],
                        o["metadata"]["name"]
                    )
                })
            })
            .take(4)
            .collect();
        let mut errors: Vec<String> = Vec::new();
        if !wrong.is_empty() {
            errors.push(format!(
                "Singleton reported status return is requested but some objects have the wrong number of associated WECs, for example: [{}]",
                wrong.join(",")
            ));
        }
        let binding_errors: Vec<String> = if name == BINDING_ERROR {
            vec![format!(
                "failed to expand templates of apps/v1 Deployment monitoring/dcgm-exporter for cluster {}: map has no entry for key \"gpuVendor\"",
                dests.first().map(String::as_str).unwrap_or(LOST_WEC)
            )]
        } else {
            Vec::new()
        };
        let collectors: Vec<String> = clauses.iter().flat_map(|c| strings(&c["statusCollectors"])).collect();
        let conditions = if collectors.is_empty() {
            json!([])
        } else {
            json!([{"type": "StatusCollectorsAvailable", "status": "False", "reason": "ReconcileError",
                    "message": format!("Missing StatusCollector(s) [{}]", collectors.join(" ")),
                    // a fixed time, so a pass that changes nothing writes nothing
                    "lastTransitionTime": p["metadata"]["creationTimestamp"]}])
        };
        let mut all_errors = errors.clone();
        all_errors.extend(binding_errors.iter().cloned());
        // the binding controller has seen the policy as it is now (`binding.go` L111)
        let policy_status = json!({"observedGeneration": p["metadata"]["generation"].as_i64().unwrap_or(1),
                                   "errors": all_errors, "conditions": conditions});
        let transport_down = wds.faults.transport_down();
        // the matching clauses' createOnly bits ORed (`types.go` DownsyncPolicySpec)
        let create_only =
            |o: &Value| clauses.iter().any(|c| c["createOnly"] == true && clause_selects(c, o, &namespaces));
        let workload: Vec<Value> = selected
            .iter()
            .map(|o| {
                let mut entry = json!({"group": "apps", "version": "v1", "resource": resource_of(o),
                            "namespace": o["metadata"]["namespace"], "name": o["metadata"]["name"],
                            "resourceVersion": o["metadata"]["resourceVersion"]});
                if create_only(o) {
                    entry["createOnly"] = json!(true);
                }
                entry
            })
            .collect();
        let binding_uid;
        {
            let mut s = wds.store.write().expect("store lock");
            let bi = idx(wds, &r::BINDINGS);
            let spec = json!({"destinations": dests.iter().map(|d| json!({"clusterId": d})).collect::<Vec<_>>(),
                              "workload": {"namespaceScope": workload}});
            // the binding controller writes the spec (a change bumps the Binding's generation);
            // the transport, when it runs, the status's observedGeneration and errors
            // (`generic_transport_controller.go` L697-700); the status controller the conditions
            match s.get(bi, "", &name) {
                Some(b) if b.value()["spec"] != spec => {
                    let _ = s.modify(bi, "", &name, |o| o["spec"] = spec.clone());
                }
                Some(_) => {}
                None => {
                    s.put(
                        bi,
                        json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "Binding",
                               "metadata": {"name": name, "creationTimestamp": p["metadata"]["creationTimestamp"],
                                            "finalizers": ["transport.kubestellar.io/object-cleanup"],
                                            "ownerReferences": [{"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "BindingPolicy",
                                                                 "name": name, "uid": p["metadata"]["uid"], "controller": true, "blockOwnerDeletion": false}]},
                               "spec": spec}),
                    );
                }
            }
            if let Some(b) = s.get(bi, "", &name) {
                let v = b.value();
                let mut status = json!({"observedGeneration": v["metadata"]["generation"], "errors": binding_errors,
                                        "conditions": conditions});
                if transport_down {
                    status["observedGeneration"] = v["status"]["observedGeneration"].clone();
                    status["errors"] = v["status"]["errors"].clone();
                }
                if v["status"] != status {
                    let _ = s.modify(bi, "", &name, |o| o["status"] = status);
                }
            }
            binding_uid = s
                .get(bi, "", &name)
                .map(|b| b.value()["metadata"]["uid"].as_str().unwrap_or("").to_string())
                .unwrap_or_default();
            if p["status"] != policy_status {
                let pi = idx(wds, &r::BINDING_POLICIES);
                let _ = s.modify(pi, "", &name, |o| o["status"] = policy_status.clone());
            }
        }
        // a Binding with errors has its wrapped objects withheld everywhere
        if !binding_errors.is_empty() {
            continue;
        }
        for d in dests {
            for o in selected {
                let oname = o["metadata"]["name"].as_str().unwrap_or("");
                if (name.as_str(), d.as_str(), oname) == MISSING {
                    continue;
                }
                let applied = if d == LOST_WEC {
                    None
                } else if (name.as_str(), oname) == APPLY_FAILS {
                    Some((false, Some(format!(
                        "Failed to apply manifest: deployments.apps \"{oname}\" is forbidden: User \"system:serviceaccount:open-cluster-management-agent:klusterlet-work-sa\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"team1\""
                    ))))
                } else {
                    Some((true, None))
                };
                let mut w = manifest_work(d, &name, &binding_uid, o, applied, 3600);
                // the work agent then creates the object where absent and never updates it
                // (KS `ocm-transport-controller/pkg/ocm.go` WrapObjects)
                if create_only(o) {
                    w["spec"]["manifestConfigs"] = json!([{
                        "resourceIdentifier": {"group": "apps", "resource": resource_of(o),
                                               "namespace": o["metadata"]["namespace"], "name": o["metadata"]["name"]},
                        "updateStrategy": {"type": "CreateOnly"}}]);
                }
                let key = (d.clone(), w["metadata"]["name"].as_str().unwrap_or("").to_string());
                desired.entry(name.clone()).or_default().insert(key);
                works.push(w);
            }
        }
    }
    // the transport writes what is missing or changed (a deleted one is written again), then
    // deletes every work labelled with a Binding of this WDS that the Binding does not want
    // (all of them when the Binding has errors); works of a Binding that is gone are nobody's
    // to delete (upstream cleans up only a deleted Binding's last destinations)
    let mut statuses: Vec<(String, Value)> = Vec::new();
    if wds.faults.transport_down() {
        // no transport: nothing is written, updated or deleted in the ITS
        works.clear();
    } else {
        let mut s = its.store.write().expect("store lock");
        let mi = idx(its, &r::MANIFEST_WORKS);
        if !wds.faults.prune_bug() {
            let wi = idx(its, &r::WORK_STATUSES);
            let unwanted: Vec<(String, String, String)> = s
                .list(mi, None)
                .iter()
                .filter_map(|w| {
                    let v = w.value();
                    let l = &v["metadata"]["labels"];
                    if l["transport.kubestellar.io/originWdsName"] != WDS {
                        return None;
                    }
                    let want = desired.get(l["transport.kubestellar.io/originOwnerReferenceBindingKey"].as_str()?)?;
                    let key = (w.namespace.clone(), w.name.clone());
                    (!want.contains(&key))
                        .then(|| (key.0, key.1, v["metadata"]["uid"].as_str().unwrap_or("").to_string()))
                })
                .collect();
            for (ns, name, uid) in unwanted {
                delete_work(&mut s, mi, wi, &ns, &name, &uid);
            }
        }
        for w in works {
            let (ns, name) = (
                w["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
                w["metadata"]["name"].as_str().unwrap_or("").to_string(),
            );
            match s.get(mi, &ns, &name) {
                Some(have)
                    if have.value()["spec"] == w["spec"]
                        && have.value()["status"]["conditions"].as_array().map(|c| c.len())
                            == w["status"]["conditions"].as_array().map(|c| c.len()) => {}
                Some(_) => {
                    let _ = s.modify(mi, &ns, &name, |o| {
                        o["spec"] = w["spec"].clone();
                        o["status"] = w["status"].clone();
                    });
                }
                None => {
                    s.put(mi, w.clone());
                }
            }
            let uid = s
                .get(mi, &ns, &name)
                .map(|m| m.value()["metadata"]["uid"].as_str().unwrap_or("").to_string())
                .unwrap_or_default();
            statuses.push((uid, w));
        }
    }
    // the status add-on: each WEC object's status, copied verbatim, where the WEC answers
    let mut reports: Vec<Value> = Vec::new();
    for (mw_uid, w) in statuses {
        let wec_name = w["metadata"]["namespace"].as_str().unwrap_or("");
        let Some(wec) = clusters.iter().find(|c| c.name == wec_name && !c.shape.control_plane()) else { continue };
        if wec.faults.unreachable() {
            continue;
        }
        let manifest = &w["spec"]["workload"]["manifests"][0];
        let m = &manifest["metadata"];
        let (ns, name) = (m["namespace"].as_str().unwrap_or(""), m["name"].as_str().unwrap_or(""));
        let (def, kind, resource) = if manifest["kind"] == "StatefulSet" {
            (r::STATEFULSETS, "StatefulSet", "statefulsets")
        } else {
            (r::DEPLOYMENTS, "Deployment", "deployments")
        };
        let Some(obj) = wec.store.read().expect("store lock").get(idx(wec, &def), ns, name).map(|d| d.value()) else {
            continue;
        };
        reports.push(json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "WorkStatus",
               "metadata": {"name": format!("{mw_uid}-appsv1-{}-{ns}-{name}", kind.to_lowercase()), "namespace": wec_name,
                            "labels": w["metadata"]["labels"],
                            "ownerReferences": [{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
                                                 "name": w["metadata"]["name"], "uid": mw_uid, "controller": true}]},
               "spec": {"sourceRef": {"group": "apps", "version": "v1", "resource": resource, "kind": kind, "namespace": ns, "name": name}},
               "status": obj["status"]}));
        // the status add-on's write, as the API server records it
        if let Some(last) = reports.last_mut() {
            last["metadata"]["managedFields"] = status_write();
        }
    }
    {
        let mut s = its.store.write().expect("store lock");
        let wi = idx(its, &r::WORK_STATUSES);
        for ws in reports {
            let (ns, name) = (
                ws["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
                ws["metadata"]["name"].as_str().unwrap_or("").to_string(),
            );
            match s.get(wi, &ns, &name) {
                Some(have) if have.value()["status"] == ws["status"] => {}
                Some(_) => {
                    let _ = s.modify(wi, &ns, &name, |o| {
                        o["status"] = ws["status"].clone();
                        o["metadata"]["managedFields"] = status_write();
                    });
                }
                None => {
                    s.put(wi, ws);
                }
            }
        }
    }
    if !wds.faults.status_return_down() {
        let single: BTreeMap<String, String> = singleton_wecs
            .iter()
            .filter(|(_, w)| w.len() == 1)
            .filter_map(|(o, w)| Some((o.clone(), w.iter().next()?.to_string())))
            .collect();
        return_singleton_status(wds, its, &objects, &single);
    }
}

/// The status controller's singleton status return (KS `pkg/status/singletonstatus.go`
/// L64-152, `workstatus.go` L91-189; semantics §4): an object asking it with exactly one WEC
/// gets the `.status` of the one WorkStatus of this WDS in that WEC naming it (by
/// `spec.sourceRef`), and the `singletonstatus` label; with none or several WorkStatuses there,
/// or when it no longer asks, a labelled object has its status wiped to `{}` and the label
/// removed. A WorkStatus without a status leaves the object as it is.
fn return_singleton_status(wds: &SimCluster, its: &SimCluster, objects: &[Value], single: &BTreeMap<String, String>) {
    const LABEL: &str = "managed-by.kubestellar.io/singletonstatus";
    let reports: Vec<Value> = its
        .store
        .read()
        .expect("store lock")
        .list(idx(its, &r::WORK_STATUSES), None)
        .iter()
        .map(|w| w.value())
        .filter(|w| w["metadata"]["labels"]["transport.kubestellar.io/originWdsName"] == WDS)
        .collect();
    let mut s = wds.store.write().expect("store lock");
    for o in objects {
        let (ns, name) =
            (o["metadata"]["namespace"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or(""));
        let def = if o["kind"] == "StatefulSet" { r::STATEFULSETS } else { r::DEPLOYMENTS };
        let status: Option<Value> = match single.get(&format!("{ns}/{name}")) {
            Some(wec) => {
                let here: Vec<&Value> = reports
                    .iter()
                    .filter(|w| {
                        let src = &w["spec"]["sourceRef"];
                        w["metadata"]["namespace"] == wec.as_str()
                            && src["namespace"] == ns
                            && src["name"] == name
                            && src["resource"] == resource_of(o)
                    })
                    .collect();
                match here.as_slice() {
                    [one] if one["status"].is_null() => continue,
                    [one] => Some(one["status"].clone()),
                    _ => None,
                }
            }
            None => None,
        };
        let labelled = !o["metadata"]["labels"][LABEL].is_null();
        if status.is_none() && !labelled {
            continue;
        }
        let want_status = status.clone().unwrap_or_else(|| json!({}));
        if o["status"] == want_status && labelled == status.is_some() {
            continue;
        }
        let _ = s.modify(idx(wds, &def), ns, name, |v| {
            v["status"] = want_status.clone();
            match status.is_some() {
                true => v["metadata"]["labels"][LABEL] = json!("true"),
                false => {
                    if let Some(l) = v["metadata"]["labels"].as_object_mut() {
                        l.remove(LABEL);
                    }
                }
            }
        });
    }
}
