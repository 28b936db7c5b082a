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

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::resources::{self as r, ResDef};
use super::scenario::{ago, idx, Shape};
use super::select::{LabelSelector, Req};
use super::store::ObjectStore;
use super::SimCluster;

mod clauses;
mod combined;
mod hosting;
mod reconcile;

pub use clauses::admit_binding_policy;
use clauses::resource_of;
use hosting::{controller, reflect_transport, CONTROLLERS};
pub use reconcile::reconcile;

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
    // what OCM's registration agent writes besides (docs/upstream/kubestellar-semantics.md
    // §11): the spoke API server's URL and CA bundle, and the four claims it reports
    spec["managedClusterClientConfigs"] =
        json!([{"url": format!("https://api.{name}.example:6443"), "caBundle": ca_bundle(name)}]);
    let claims = json!([
        {"name": "id.k8s.io", "value": format!("{name}-{:08x}", name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)))},
        {"name": "kubeversion.open-cluster-management.io", "value": "v1.31.2"},
        {"name": "platform.open-cluster-management.io", "value": "Other"},
        {"name": "product.open-cluster-management.io", "value": "Kubernetes"}]);
    json!({"apiVersion": "cluster.open-cluster-management.io/v1", "kind": "ManagedCluster",
           "metadata": {"name": name, "labels": labels, "creationTimestamp": ago(20 * 86400),
                        "finalizers": ["cluster.open-cluster-management.io/api-resource-cleanup"]},
           "spec": spec,
           "status": {"conditions": conditions, "version": {"kubernetes": "v1.31.2"}, "clusterClaims": claims,
                      "capacity": {"cpu": "96", "memory": "1056911520Ki"}, "allocatable": {"cpu": "95500m", "memory": "1056911520Ki"}}})
}

/// A PEM CA certificate's size in base64, as `caBundle` carries one (about 1.1 KB of PEM, 1.5 KB
/// encoded); not a real certificate: nothing dials the URL.
fn ca_bundle(name: &str) -> String {
    use base64::Engine;
    let body: String = name.chars().cycle().take(1024).collect();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    base64::engine::general_purpose::STANDARD.encode(pem)
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
                                         "matchExpressions": [{"key": "llm-d.ai/guide", "operator": "DoesNotExist"}]}],
                    "statusCollectors": ["ready-per-wec", "ready-replicas"]}]),
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
    // two StatusCollectors (upstream's own examples): the decode servers' ready replicas counted
    // and summed over their WECs, and listed per WEC (combined.rs)
    for sc in [
        json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "StatusCollector",
               "metadata": {"name": "ready-replicas", "creationTimestamp": ago(10 * 86400), "generation": 1},
               "spec": {"combinedFields": [{"name": "wecs", "type": "COUNT"},
                                           {"name": "readySum", "type": "SUM", "subject": "returned.status.readyReplicas"}],
                        "limit": 10}}),
        json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "StatusCollector",
               "metadata": {"name": "ready-per-wec", "creationTimestamp": ago(10 * 86400), "generation": 1},
               "spec": {"select": [{"name": "wec", "def": "inventory.name"}, {"name": "ready", "def": "returned.status.readyReplicas"}],
                        "limit": 20}}),
    ] {
        put(wds, &mut store, &r::STATUS_COLLECTORS, sc);
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
    // the namespace on every WEC too, as an operator creates it (else every work fails to apply:
    // semantics §9)
    for wec in clusters.iter().filter(|c| !c.shape.control_plane()) {
        let mut store = wec.store.write().expect("store lock");
        namespace(wec, &mut store, "bulk");
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
                   // scaled to zero: the WECs hold 2,000 objects each, not 2,000 pods
                   "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
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
