//! KubeStellar on one context: a WatchSet over the placement API (BindingPolicies, Bindings: a
//! WDS), the OCM hub objects and the status add-on's WorkStatuses (an ITS), and KubeFlex
//! ControlPlanes (the hosting cluster). What the context does not serve is absent, and says
//! nothing; what is served is decoded leniently into `store::placement` values.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::DynamicObject;
use serde_json::Value;
use tokio::sync::mpsc;

use super::options::WorkerOptions;
use super::paced::WatchCtx;
use super::watchset::WatchSet;
use crate::store::placement::{
    Binding, Clause, ClusterSet, Collector, Combination, Combined, ControlPlane, Controller, Generations,
    ManagedCluster, ObjRef, PlacementCluster, Policy, Report, Selector, WdsObject, Work,
};
use crate::store::Update;

/// (tag, group, version, kind, plural)
const KINDS: &[(&str, &str, &str, &str, &str)] = &[
    ("policies", "control.kubestellar.io", "v1alpha1", "BindingPolicy", "bindingpolicies"),
    ("bindings", "control.kubestellar.io", "v1alpha1", "Binding", "bindings"),
    ("managed", "cluster.open-cluster-management.io", "v1", "ManagedCluster", "managedclusters"),
    ("works", "work.open-cluster-management.io", "v1", "ManifestWork", "manifestworks"),
    ("reports", "control.kubestellar.io", "v1alpha1", "WorkStatus", "workstatuses"),
    ("cps", "tenancy.kflex.kubestellar.org", "v1alpha1", "ControlPlane", "controlplanes"),
    ("sets", "cluster.open-cluster-management.io", "v1beta2", "ManagedClusterSet", "managedclustersets"),
];

const BINDING_KEY: &str = "transport.kubestellar.io/originOwnerReferenceBindingKey";
const WDS_KEY: &str = "transport.kubestellar.io/originWdsName";

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

/// A metav1.LabelSelector (the store reads it: a write is planned from the same JSON).
pub fn selector(v: &Value) -> Selector {
    Selector::from_json(v)
}

fn condition<'a>(o: &'a Value, kind: &str) -> Option<&'a Value> {
    o["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)
}

fn truth(c: Option<&Value>) -> Option<bool> {
    match c?["status"].as_str()? {
        "True" => Some(true),
        "False" => Some(false),
        _ => None,
    }
}

fn why(c: Option<&Value>) -> Option<String> {
    let c = c?;
    let reason = c["reason"].as_str().unwrap_or_default();
    Some(match c["message"].as_str().filter(|m| !m.is_empty()) {
        Some(m) => format!("{reason}: {m}"),
        None => reason.to_string(),
    })
}

pub fn decode_policy(o: &DynamicObject) -> Policy {
    let spec = &o.data["spec"];
    let status = &o.data["status"];
    let collectors = condition(&o.data, "StatusCollectorsAvailable");
    Policy {
        name: o.metadata.name.clone().unwrap_or_default(),
        cluster_selectors: spec["clusterSelectors"].as_array().into_iter().flatten().map(selector).collect(),
        clauses: spec["downsync"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Clause {
                api_group: c["apiGroup"].as_str().map(str::to_string),
                resources: strings(&c["resources"]),
                namespaces: strings(&c["namespaces"]),
                object_names: strings(&c["objectNames"]),
                object_selectors: c["objectSelectors"].as_array().into_iter().flatten().map(selector).collect(),
                namespace_selectors: c["namespaceSelectors"].as_array().into_iter().flatten().map(selector).collect(),
                singleton: c["wantSingletonReportedState"] == true,
                status_collectors: strings(&c["statusCollectors"]),
            })
            .collect(),
        errors: strings(&status["errors"]),
        collectors_missing: (truth(collectors) == Some(false)).then(|| why(collectors).unwrap_or_default()),
        generations: generations(o),
        cluster_selectors_json: spec["clusterSelectors"].clone(),
    }
}

fn generations(o: &DynamicObject) -> Generations {
    Generations { generation: o.metadata.generation, observed: o.data["status"]["observedGeneration"].as_i64() }
}

fn obj_ref(v: &Value) -> ObjRef {
    ObjRef {
        group: v["group"].as_str().unwrap_or_default().to_string(),
        resource: v["resource"].as_str().unwrap_or_default().to_string(),
        namespace: v["namespace"].as_str().unwrap_or_default().to_string(),
        name: v["name"].as_str().unwrap_or_default().to_string(),
    }
}

pub fn decode_binding(o: &DynamicObject) -> Binding {
    let spec = &o.data["spec"];
    let w = &spec["workload"];
    Binding {
        name: o.metadata.name.clone().unwrap_or_default(),
        uid: o.metadata.uid.clone().unwrap_or_default(),
        destinations: spec["destinations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["clusterId"].as_str().map(str::to_string))
            .collect(),
        objects: w["clusterScope"]
            .as_array()
            .into_iter()
            .chain(w["namespaceScope"].as_array())
            .flatten()
            .map(obj_ref)
            .collect(),
        create_only: w["clusterScope"]
            .as_array()
            .into_iter()
            .chain(w["namespaceScope"].as_array())
            .flatten()
            .filter(|o| o["createOnly"] == true)
            .map(obj_ref)
            .collect(),
        errors: strings(&o.data["status"]["errors"]),
        generations: generations(o),
    }
}

fn labels(o: &DynamicObject) -> BTreeMap<String, String> {
    o.metadata.labels.clone().unwrap_or_default()
}

pub fn decode_managed(o: &DynamicObject) -> ManagedCluster {
    let c = condition(&o.data, "ManagedClusterConditionAvailable");
    let available = truth(c);
    ManagedCluster {
        name: o.metadata.name.clone().unwrap_or_default(),
        labels: labels(o).into(),
        available,
        why: if available == Some(true) { None } else { why(c).or_else(|| Some("no Available condition".into())) },
        since: c.and_then(|c| super::records::time(&c["lastTransitionTime"])),
    }
}

/// A manifest's resource when the work agent has not yet said it (its `resourceMeta`):
/// apimachinery's guess (`meta.UnsafeGuessKindToResource`: lower case; `endpoints` stays; `-s`
/// takes `es`; `-y` takes `ies`), except that a vowel before the `y` takes `s` as English does
/// (`Gateway` is `gateways`, which the upstream guess gets wrong).
fn guessed_resource(kind: &str) -> String {
    let k = kind.to_lowercase();
    if k.ends_with("endpoints") {
        k
    } else if k.ends_with('s') {
        format!("{k}es")
    } else if k.ends_with('y') && !["ay", "ey", "oy", "uy"].iter().any(|e| k.ends_with(e)) {
        format!("{}ies", &k[..k.len() - 1])
    } else {
        format!("{k}s")
    }
}

pub fn decode_work(o: &DynamicObject) -> Work {
    let l = labels(o);
    let applied = condition(&o.data, "Applied");
    // the work agent's status names each manifest's resource (by ordinal) and why it failed;
    // the work's own Applied message is only "Failed to apply manifest work" (OCM
    // `pkg/work/spoke/controllers/manifestcontroller`; docs/upstream/kubestellar-semantics.md §7)
    let said: Vec<&Value> = o.data["status"]["resourceStatus"]["manifests"].as_array().into_iter().flatten().collect();
    let said_of = |i: usize| said.iter().find(|m| m["resourceMeta"]["ordinal"].as_u64() == Some(i as u64));
    let manifests: Vec<&Value> = o.data["spec"]["workload"]["manifests"].as_array().into_iter().flatten().collect();
    let objects = manifests
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let api = m["apiVersion"].as_str().unwrap_or_default();
            let group = api.split_once('/').map(|(g, _)| g).unwrap_or_default();
            let resource = said_of(i)
                .and_then(|s| s["resourceMeta"]["resource"].as_str())
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| guessed_resource(m["kind"].as_str().unwrap_or_default()));
            ObjRef {
                group: group.to_string(),
                resource,
                namespace: m["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
                name: m["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect();
    let failed_manifests: Vec<&str> = said
        .iter()
        .filter_map(|m| m["conditions"].as_array()?.iter().find(|c| c["type"] == "Applied" && c["status"] == "False"))
        .filter_map(|c| c["message"].as_str())
        .collect();
    let message = if failed_manifests.is_empty() {
        applied.and_then(|c| c["message"].as_str()).map(str::to_string)
    } else {
        Some(failed_manifests.join("; "))
    };
    Work {
        wec: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        uid: o.metadata.uid.clone().unwrap_or_default(),
        binding: l.get(BINDING_KEY).cloned().unwrap_or_default(),
        wds: l.get(WDS_KEY).cloned().unwrap_or_default(),
        objects,
        applied: truth(applied),
        message,
        available: truth(condition(&o.data, "Available")),
        created: o.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
    }
}

/// A WEC object's status in a word: Deployments and their kin by replicas, else their
/// `Ready`/`Available` condition.
fn summary(status: &Value) -> (String, Option<bool>) {
    if let Some(want) = status["replicas"].as_i64() {
        let ready = status["readyReplicas"].as_i64().unwrap_or(0);
        return (format!("{ready}/{want} ready"), Some(ready >= want));
    }
    for kind in ["Available", "Ready"] {
        if let Some(ok) = truth(condition(&serde_json::json!({"status": status}), kind)) {
            return (format!("{kind}={}", if ok { "True" } else { "False" }), Some(ok));
        }
    }
    if status.as_object().is_some_and(|m| !m.is_empty()) {
        ("status reported".into(), None)
    } else {
        ("no status".into(), None)
    }
}

pub fn decode_report(o: &DynamicObject) -> Report {
    let l = labels(o);
    let src = &o.data["spec"]["sourceRef"];
    let (summary, healthy) = summary(&o.data["status"]);
    Report {
        wec: o.metadata.namespace.clone().unwrap_or_default(),
        binding: l.get(BINDING_KEY).cloned().unwrap_or_default(),
        wds: l.get(WDS_KEY).cloned().unwrap_or_default(),
        object: obj_ref(src),
        summary,
        healthy,
        updated_at: o.data[STATUS_TIME].as_f64(),
        owner: o
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true) && r.kind == "ManifestWork")
            .map(|r| r.uid.clone()),
    }
}

/// Where `slim_report` keeps the status's write time once `managedFields` are dropped.
const STATUS_TIME: &str = "kstStatusWrittenAt";

/// The newest `managedFields` time of an entry that wrote the status (the status subresource, or
/// fields under `f:status`).
fn status_written_at(o: &DynamicObject) -> Option<f64> {
    o.metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|m| {
            m.subresource.as_deref() == Some("status")
                || m.fields_v1.as_ref().is_some_and(|f| f.0.get("f:status").is_some())
        })
        .filter_map(|m| m.time.as_ref())
        .map(|t| t.0.as_second() as f64)
        .reduce(f64::max)
}

/// A CombinedStatus cell as text: a number's value is the string under `float`.
fn cell_text(v: &Value) -> String {
    match v["type"].as_str().unwrap_or("") {
        "Number" => v["float"].as_str().map(str::to_string).unwrap_or_else(|| v["float"].to_string()),
        "String" => v["string"].as_str().unwrap_or_default().to_string(),
        "Bool" => v["bool"].to_string(),
        "Null" => "null".into(),
        _ => v["object"].to_string(),
    }
}

pub fn decode_combined(o: &DynamicObject) -> Combined {
    let l = o.metadata.labels.clone().unwrap_or_default();
    let label = |k: &str| l.get(&format!("status.kubestellar.io/{k}")).cloned().unwrap_or_default();
    Combined {
        policy: label("binding-policy"),
        object: ObjRef {
            group: label("api-group"),
            resource: label("resource"),
            namespace: label("namespace"),
            name: label("name"),
        },
        results: o.data["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| Combination {
                collector: r["name"].as_str().unwrap_or_default().to_string(),
                columns: strings(&r["columnNames"]),
                rows: r["rows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|row| row["columns"].as_array().into_iter().flatten().map(cell_text).collect())
                    .collect(),
                errors: r["rowErrors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        let column = e["columnName"].as_str().filter(|c| !c.is_empty()).unwrap_or("filter");
                        format!(
                            "{} {column}: {}",
                            e["wec"]["clusterId"].as_str().unwrap_or("?"),
                            e["error"].as_str().unwrap_or("")
                        )
                    })
                    .chain(r["aggregationErrors"].as_array().into_iter().flatten().map(|e| {
                        format!("{}: {}", e["columnName"].as_str().unwrap_or(""), e["error"].as_str().unwrap_or(""))
                    }))
                    .collect(),
            })
            .collect(),
    }
}

pub fn decode_collector(o: &DynamicObject) -> Collector {
    Collector { name: o.metadata.name.clone().unwrap_or_default(), errors: strings(&o.data["status"]["errors"]) }
}

pub fn decode_set(o: &DynamicObject) -> ClusterSet {
    let sel = &o.data["spec"]["clusterSelector"];
    ClusterSet {
        name: o.metadata.name.clone().unwrap_or_default(),
        // the default selector type is the exclusive label
        selector: (sel["selectorType"] == "LabelSelector").then(|| selector(&sel["labelSelector"])),
    }
}

pub fn decode_control_plane(o: &DynamicObject) -> ControlPlane {
    let ready = condition(&o.data, "Ready");
    ControlPlane {
        name: o.metadata.name.clone().unwrap_or_default(),
        cptype: labels(o).get("kflex.kubestellar.io/cptype").cloned().unwrap_or_default(),
        kind: o.data["spec"]["type"].as_str().unwrap_or_default().to_string(),
        ready: truth(ready),
        why: if truth(ready) == Some(true) { None } else { why(ready) },
    }
}

/// A ManifestWork keeps, of each manifest, what identifies it; of its status, the conditions
/// and, per manifest the agent reported, its resource and a failed apply's condition.
fn slim_work(o: &mut DynamicObject) {
    if let Some(ms) = o.data["spec"]["workload"]["manifests"].as_array_mut() {
        for m in ms.iter_mut() {
            let keep = serde_json::json!({
                "apiVersion": m["apiVersion"], "kind": m["kind"],
                "metadata": {"name": m["metadata"]["name"], "namespace": m["metadata"]["namespace"]}
            });
            *m = keep;
        }
    }
    if let Some(ms) = o.data["status"]["resourceStatus"]["manifests"].as_array_mut() {
        for m in ms.iter_mut() {
            let failed: Vec<Value> = m["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["type"] == "Applied" && c["status"] == "False")
                .cloned()
                .collect();
            *m = serde_json::json!({
                "resourceMeta": {"ordinal": m["resourceMeta"]["ordinal"], "resource": m["resourceMeta"]["resource"]},
                "conditions": failed
            });
        }
    }
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
}

/// A ManagedCluster keeps what `decode_managed` reads: its name, its labels and its Available
/// condition. A hub's clusters are the one list that grows with the fleet (10,000 at a
/// large site), and a real one carries claims, capacity, versions and its client configs' CA
/// bundles besides: kept whole, they were most of kst's heap at 10,000 (heaptrack, #28).
fn slim_managed(o: &mut DynamicObject) {
    let available = condition(&o.data, "ManagedClusterConditionAvailable").cloned();
    o.data = match available {
        Some(c) => serde_json::json!({ "status": { "conditions": [c] } }),
        None => Value::Null,
    };
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
    o.metadata.owner_references = None;
    o.metadata.finalizers = None;
}

/// A WorkStatus keeps the summary's inputs: replica counts and conditions, and when its status
/// was written.
fn slim_report(o: &mut DynamicObject) {
    let written = status_written_at(o);
    o.data["status"] = slim_status(&o.data["status"]);
    if let Some(t) = written {
        o.data[STATUS_TIME] = serde_json::json!(t);
    }
    o.metadata.managed_fields = None;
    // the controlling ManifestWork only: it says which work's status this is
    if let Some(refs) = o.metadata.owner_references.as_mut() {
        refs.retain(|r| r.controller == Some(true) && r.kind == "ManifestWork");
    }
}

/// What `summary` reads of a status: replica counts and conditions (a status without those
/// still says something was reported).
fn slim_status(status: &Value) -> Value {
    let mut keep = serde_json::Map::new();
    if let Some(st) = status.as_object() {
        for k in ["replicas", "readyReplicas", "conditions"] {
            if let Some(v) = st.get(k) {
                keep.insert(k.to_string(), v.clone());
            }
        }
        if keep.is_empty() && !st.is_empty() {
            keep.insert("reported".into(), Value::Bool(true));
        }
    }
    Value::Object(keep)
}

fn part<T>(w: &WatchSet<&'static str>, tag: &'static str, f: impl Fn(&DynamicObject) -> T) -> Option<Vec<T>> {
    (w.served(&tag) == Some(true)).then(|| w.decode_each(&tag).map(|o| f(&o)).collect())
}

/// The workload kinds whose WDS objects the downsync explain reads: (tag, group, version, kind, plural).
const WDS_KINDS: &[(&str, &str, &str, &str, &str)] = &[
    ("wds-deployments", "apps", "v1", "Deployment", "deployments"),
    ("wds-statefulsets", "apps", "v1", "StatefulSet", "statefulsets"),
    ("wds-services", "", "v1", "Service", "services"),
];

/// The label KubeStellar's status controller puts on a WDS object whose `.status` it wrote
/// from its one WEC (`pkg/util/labels.go` L31-32; semantics §4).
const SINGLETON_STATUS: &str = "managed-by.kubestellar.io/singletonstatus";

/// A WDS object keeps what the downsync tests read: its name, namespace and labels; and, when
/// KubeStellar returned its singleton status, that status's summary inputs.
fn slim_object(o: &mut DynamicObject) {
    let returned = o.metadata.labels.as_ref().is_some_and(|l| l.contains_key(SINGLETON_STATUS));
    let status = returned.then(|| slim_status(&o.data["status"]));
    let gpus = requested_gpus(&o.data["spec"]);
    o.data = Value::Null;
    if let Some(st) = status {
        o.data = serde_json::json!({ "status": st });
    }
    if let Some(n) = gpus {
        o.data[GPUS_KEPT] = serde_json::json!(n);
    }
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
    o.metadata.owner_references = None;
}

/// Where `slim_object` keeps a workload's requested GPUs once its spec is dropped.
const GPUS_KEPT: &str = "kstGpus";

/// GPUs a Deployment's or StatefulSet's pods request in all (replicas x the containers'
/// `nvidia.com/gpu` or `amd.com/gpu` limits, else requests); None when it requests none.
fn requested_gpus(spec: &Value) -> Option<i64> {
    let quantity = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse::<i64>().ok()));
    let per_pod: i64 = spec["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            ["nvidia.com/gpu", "amd.com/gpu"]
                .iter()
                .filter_map(|k| {
                    quantity(&c["resources"]["limits"][k]).or_else(|| quantity(&c["resources"]["requests"][k]))
                })
                .sum::<i64>()
        })
        .sum();
    let replicas = spec["replicas"].as_i64().unwrap_or(1);
    (per_pod > 0).then_some(per_pod * replicas)
}

/// The WDS's Namespaces, for the downsync clauses' `namespaceSelectors`: name -> labels.
type NamespaceLabels = BTreeMap<String, BTreeMap<String, String>>;

fn decode_wds_object(o: &DynamicObject, group: &str, resource: &str, namespaces: &NamespaceLabels) -> WdsObject {
    let namespace = o.metadata.namespace.clone().unwrap_or_default();
    WdsObject {
        group: group.to_string(),
        resource: resource.to_string(),
        namespace_labels: namespaces.get(&namespace).cloned(),
        namespace,
        name: o.metadata.name.clone().unwrap_or_default(),
        labels: o.metadata.labels.clone().unwrap_or_default(),
        gpus: o.data[GPUS_KEPT].as_i64(),
        // the label without a status is a status wiped to `{}` (semantics §4): none returned
        returned: o
            .metadata
            .labels
            .as_ref()
            .filter(|l| l.contains_key(SINGLETON_STATUS))
            .map(|_| summary(&o.data["status"]).0)
            .filter(|s| s != "no status"),
    }
}

/// Whether this context serves BindingPolicies (one discovery GET): only a WDS's workload
/// objects are watched, not every cluster's.
async fn serves_placement(client: &kube::Client) -> bool {
    super::get::get_capped(client, "/apis/control.kubestellar.io/v1alpha1", 1 << 20, Duration::from_secs(10))
        .await
        .is_ok_and(|b| String::from_utf8_lossy(&b).contains("\"bindingpolicies\""))
}

/// Whether this context is a KubeFlex hosting cluster (it serves ControlPlanes): only there are
/// KubeStellar's controllers watched.
async fn serves_control_planes(client: &kube::Client) -> bool {
    super::get::get_capped(client, "/apis/tenancy.kflex.kubestellar.org/v1alpha1", 1 << 20, Duration::from_secs(10))
        .await
        .is_ok_and(|b| String::from_utf8_lossy(&b).contains("\"controlplanes\""))
}

/// KubeStellar's controllers on a hosting cluster, by the labels its chart gives their
/// Deployments and pods (core-chart `postcreatehooks/kubestellar-controller.yaml`,
/// `transport-controller.yaml`): (deployment tag, pod tag, name, label selector).
const CONTROLLERS: &[(&str, &str, &str, &str)] = &[
    ("kcm", "kcm-pods", "kubestellar-controller-manager", "control-plane=controller-manager"),
    ("transport", "transport-pods", "transport-controller", "name=transport-controller"),
];

/// Each controller Deployment in a `<cp>-system` namespace, with its pods' restarts and waits.
fn decode_controllers(w: &WatchSet<&'static str>) -> Option<Vec<Controller>> {
    let mut out = Vec::new();
    for (tag, pods_tag, name, _) in CONTROLLERS {
        if w.served(tag) != Some(true) {
            return None;
        }
        for d in w.objects(tag).filter(|d| d.metadata.name.as_deref() == Some(name)) {
            let namespace = d.metadata.namespace.clone().unwrap_or_default();
            if !namespace.ends_with("-system") {
                continue;
            }
            let st = &d.data["status"];
            let available = condition(&d.data, "Available");
            let mut c = Controller {
                name: name.to_string(),
                desired: d.data["spec"]["replicas"].as_i64().unwrap_or(1),
                ready: st["readyReplicas"].as_i64().unwrap_or(0),
                since: available.and_then(|c| super::records::time(&c["lastTransitionTime"])),
                namespace,
                ..Default::default()
            };
            for p in w.objects(pods_tag).filter(|p| p.metadata.namespace.as_deref() == Some(c.namespace.as_str())) {
                for cs in p.data["status"]["containerStatuses"].as_array().into_iter().flatten() {
                    c.restarts += cs["restartCount"].as_i64().unwrap_or(0);
                    if let Some(why) = cs["state"]["waiting"]["reason"].as_str() {
                        c.waiting.get_or_insert_with(|| why.to_string());
                    }
                }
            }
            out.push(c);
        }
    }
    Some(out)
}

/// A controller's Deployment keeps its replicas and `Available` condition; a pod, its
/// containers' restarts and waits.
fn slim_controller(o: &mut DynamicObject) {
    let keep = serde_json::json!({
        "spec": {"replicas": o.data["spec"]["replicas"]},
        "status": {
            "readyReplicas": o.data["status"]["readyReplicas"],
            "conditions": o.data["status"]["conditions"],
            "containerStatuses": o.data["status"]["containerStatuses"].as_array().map(|cs| cs.iter().map(|c| serde_json::json!({
                "restartCount": c["restartCount"], "state": {"waiting": {"reason": c["state"]["waiting"]["reason"]}}
            })).collect::<Vec<_>>()),
        }
    });
    o.data = keep;
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
}

pub async fn run(ctx: WatchCtx, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions) {
    let index = ctx.cluster;
    let mut w: WatchSet<&'static str> = WatchSet::new();
    for (tag, group, version, kind, plural) in KINDS {
        w.add(&ctx, &client, tag, &super::api(group, version, kind, plural), None);
    }
    let wds = serves_placement(&client).await;
    if wds {
        for (tag, group, version, kind, plural) in WDS_KINDS {
            w.add(&ctx, &client, tag, &super::api(group, version, kind, plural), None);
            w.slim(tag, slim_object);
        }
        for (tag, kind, plural) in
            [("collectors", "StatusCollector", "statuscollectors"), ("combined", "CombinedStatus", "combinedstatuses")]
        {
            w.add(&ctx, &client, tag, &super::api("control.kubestellar.io", "v1alpha1", kind, plural), None);
        }
        w.add(&ctx, &client, "wds-namespaces", &super::api("", "v1", "Namespace", "namespaces"), None);
        w.slim("wds-namespaces", slim_object);
    }
    let hosting = serves_control_planes(&client).await;
    if hosting {
        for (tag, pods_tag, _, selector) in CONTROLLERS {
            w.add(&ctx, &client, tag, &super::api("apps", "v1", "Deployment", "deployments"), Some(selector));
            w.slim(tag, slim_controller);
            w.add(&ctx, &client, pods_tag, &super::api("", "v1", "Pod", "pods"), Some(selector));
            w.slim(pods_tag, slim_controller);
        }
    }
    w.slim("works", slim_work);
    w.slim("reports", slim_report);
    w.slim("managed", slim_managed);
    w.run_coalesced(
        opts.coalesce,
        &tx,
        |w| PlacementCluster {
            listed: w.all_listed(),
            policies: part(w, "policies", decode_policy),
            bindings: part(w, "bindings", decode_binding),
            managed: part(w, "managed", decode_managed),
            works: part(w, "works", decode_work),
            reports: part(w, "reports", decode_report),
            control_planes: part(w, "cps", decode_control_plane),
            sets: part(w, "sets", decode_set),
            controllers: if hosting { decode_controllers(w) } else { None },
            collectors: if wds { part(w, "collectors", decode_collector) } else { None },
            combined: if wds { part(w, "combined", decode_combined) } else { None },
            objects: wds.then(|| {
                let namespaces: NamespaceLabels = w
                    .objects(&"wds-namespaces")
                    .map(|n| {
                        (n.metadata.name.clone().unwrap_or_default(), n.metadata.labels.clone().unwrap_or_default())
                    })
                    .collect();
                WDS_KINDS
                    .iter()
                    .flat_map(|(tag, group, _, _, plural)| {
                        let namespaces = &namespaces;
                        w.decode_each(tag)
                            .map(move |o| decode_wds_object(&o, group, plural, namespaces))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }),
        },
        |placement| Update::Placement { cluster: index, placement },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ManagedCluster as OCM's registration writes one: claims, capacity, a client config's
    /// CA bundle; slimmed, it decodes as before and keeps a fraction of the bytes.
    #[test]
    fn a_slimmed_managed_cluster_decodes_the_same() {
        let cond = |t: &str, s: &str| {
            serde_json::json!({"type": t, "status": s, "reason": "R", "message": "m",
            "lastTransitionTime": "2026-11-01T00:00:00Z"})
        };
        for available in ["True", "False", "Unknown"] {
            let full: DynamicObject = serde_json::from_value(serde_json::json!({
                "apiVersion": "cluster.open-cluster-management.io/v1", "kind": "ManagedCluster",
                "metadata": {"name": "edge-1", "labels": {"region": "eu", "cluster.open-cluster-management.io/clusterset": "edge"},
                             "annotations": {"open-cluster-management.io/x": "y"}, "finalizers": ["cluster.open-cluster-management.io/api-resource-cleanup"]},
                "spec": {"hubAcceptsClient": true, "managedClusterClientConfigs": [{"url": "https://edge-1:6443", "caBundle": "QUJD".repeat(400)}]},
                "status": {"conditions": [cond("HubAcceptedManagedCluster", "True"), cond("ManagedClusterJoined", "True"),
                                          cond("ManagedClusterConditionAvailable", available)],
                           "clusterClaims": (0..20).map(|i| serde_json::json!({"name": format!("claim-{i}.open-cluster-management.io"), "value": "v"})).collect::<Vec<_>>(),
                           "capacity": {"cpu": "96", "memory": "1056911520Ki"}, "version": {"kubernetes": "v1.31.2"}}
            }))
            .unwrap();
            let mut slim = full.clone();
            slim_managed(&mut slim);
            assert_eq!(decode_managed(&slim), decode_managed(&full), "Available {available}");
            let size = |o: &DynamicObject| serde_json::to_string(o).unwrap().len();
            assert!(size(&slim) * 5 < size(&full), "{} of {} bytes kept", size(&slim), size(&full));
        }
    }

    fn work(status: Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
            "metadata": {"name": "w", "namespace": "edge-1", "labels": {BINDING_KEY: "p", WDS_KEY: "wds1"}},
            "spec": {"workload": {"manifests": [
                {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "a", "namespace": "n"}},
                {"apiVersion": "security.openshift.io/v1", "kind": "SecurityContextConstraints", "metadata": {"name": "b"}}]}},
            "status": status
        }))
        .unwrap()
    }

    /// The resource is the one the work agent names (`SecurityContextConstraints` is
    /// `securitycontextconstraints`, which no guess from the kind gives); before it has, the
    /// guess (`serviceentries`, where the old rule made `serviceentrys`). Why a work failed is its manifest's condition, not the
    /// work's generic "Failed to apply manifest work".
    #[test]
    fn resources_and_apply_failures_as_the_work_agent_reports_them() {
        let before = decode_work(&work(serde_json::json!({})));
        let res: Vec<&str> = before.objects.iter().map(|o| o.resource.as_str()).collect();
        assert_eq!(res, ["serviceentries", "securitycontextconstraintses"]);
        // as kst keeps it: slimmed on arrival
        let mut kept = work(serde_json::json!({
            "conditions": [{"type": "Applied", "status": "False", "reason": "AppliedManifestWorkFailed",
                            "message": "Failed to apply manifest work"}],
            "resourceStatus": {"manifests": [
                {"resourceMeta": {"ordinal": 0, "resource": "serviceentries"},
                 "conditions": [{"type": "Applied", "status": "True", "message": "Apply manifest complete"}]},
                {"resourceMeta": {"ordinal": 1, "resource": "securitycontextconstraints"},
                 "conditions": [{"type": "Applied", "status": "False", "reason": "AppliedManifestFailed",
                                 "message": "Failed to apply manifest: securitycontextconstraints \"b\" is forbidden"}]}]}
        }));
        slim_work(&mut kept);
        let after = decode_work(&kept);
        let res: Vec<&str> = after.objects.iter().map(|o| o.resource.as_str()).collect();
        assert_eq!(res, ["serviceentries", "securitycontextconstraints"]);
        assert_eq!(after.applied, Some(false));
        assert_eq!(
            after.message.as_deref(),
            Some("Failed to apply manifest: securitycontextconstraints \"b\" is forbidden")
        );
        for (kind, plural) in [
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Gateway", "gateways"),
            ("Deployment", "deployments"),
            ("InferencePool", "inferencepools"),
            ("Endpoints", "endpoints"),
        ] {
            assert_eq!(guessed_resource(kind), plural);
        }
    }
}
