//! The simulated fleet: cluster shapes (a GPU prefill cluster, a decode cluster, an agent
//! cluster), the objects each holds, a small controller that keeps pods in line with their
//! workloads, and the seeded dynamics (load waves, restarts, a crash loop, churn).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::endpoints::epp::EppState;
use super::endpoints::vllm::{EngineState, Generation, Role};
use super::faults::Incident;
use super::resources::{self as r, ResDef};
use super::rng::Rng;
use super::store::ObjectStore;
use super::SimCluster;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// LLM-d prefill-heavy serving; a few agents in the Rossoctl naming.
    GpuPrefill,
    /// LLM-d decode serving on the legacy pool API; batch jobs; no Kagenti.
    GpuDecode,
    /// Kagenti agents, tools and builds; no GPUs.
    Agents,
    /// KubeStellar's KubeFlex hosting cluster (ControlPlanes); `kst sim --kubestellar`.
    Hosting,
    /// A KubeStellar ITS (the OCM hub: ManagedClusters, ManifestWorks, WorkStatuses).
    Its,
    /// A KubeStellar WDS (BindingPolicies, Bindings and the workload objects they place).
    Wds,
}

const REGIONS: &[&str] = &[
    "us-east",
    "eu-west",
    "us-central",
    "us-west",
    "ap-south",
    "eu-north",
    "sa-east",
    "ap-northeast",
    "me-central",
    "ca-central",
    "af-south",
    "eu-south",
    "ap-southeast",
    "us-south",
];

impl Shape {
    pub fn for_index(i: usize) -> Shape {
        match i % 3 {
            0 => Shape::GpuPrefill,
            1 => Shape::GpuDecode,
            _ => Shape::Agents,
        }
    }

    /// Context names: `gpu-us-east`, `gpu-eu-west`, `agents-us-central`, then other regions.
    pub fn context_name(i: usize) -> String {
        let shape = Shape::for_index(i);
        let prefix = if shape == Shape::Agents { "agents" } else { "gpu" };
        let region = REGIONS[i % REGIONS.len()];
        let round = i / REGIONS.len();
        if round == 0 {
            format!("{prefix}-{region}")
        } else {
            format!("{prefix}-{region}-{}", round + 1)
        }
    }

    pub fn extra_resources(self) -> Vec<ResDef> {
        match self {
            Shape::GpuPrefill => {
                vec![r::INFERENCE_POOLS, r::INFERENCE_OBJECTIVES, r::AGENT_RUNTIMES_ROSSOCTL, r::AGENT_CARDS_ROSSOCTL]
            }
            Shape::GpuDecode => vec![
                r::INFERENCE_POOLS_LEGACY,
                r::INFERENCE_POOL_IMPORTS,
                r::INFERENCE_MODELS_LEGACY,
                r::PYTORCH_JOBS,
                r::TRAIN_JOBS,
                r::RAY_JOBS,
                r::NOTEBOOKS,
            ],
            Shape::Agents => {
                vec![r::AGENT_RUNTIMES, r::AGENT_CARDS, r::MCP_SERVER_REGISTRATIONS, r::BUILDS, r::BUILD_RUNS]
            }
            Shape::Hosting => vec![r::CONTROL_PLANES],
            Shape::Its => vec![r::MANAGED_CLUSTERS, r::MANAGED_CLUSTER_SETS, r::MANIFEST_WORKS, r::WORK_STATUSES],
            Shape::Wds => vec![r::BINDING_POLICIES, r::BINDINGS, r::STATUS_COLLECTORS, r::COMBINED_STATUSES],
        }
    }

    /// A KubeStellar control plane rather than a workload execution cluster.
    pub fn control_plane(self) -> bool {
        matches!(self, Shape::Hosting | Shape::Its | Shape::Wds)
    }

    fn generation(self) -> Generation {
        match self {
            Shape::GpuDecode => Generation::Legacy,
            _ => Generation::Current,
        }
    }
}

/// What the dynamics need to know about a model-server pod.
#[derive(Debug, Clone)]
pub struct EngineEntry {
    pub state: EngineState,
    pub metrics_port: u16,
    pub pool: String,
}

/// (pool name, the labels its selector matches, the model it serves)
pub type PoolSelector = (String, Vec<(String, String)>, String);

/// Everything that changes with time but is not a Kubernetes object.
#[derive(Debug)]
pub struct Dynamics {
    pub rng: Rng,
    pub t: f64,
    pub phase: f64,
    pub period: f64,
    pub engines: BTreeMap<String, EngineEntry>,
    pub epps: BTreeMap<String, EppState>,
    /// A2A cards served by agent pods, by workload name.
    pub cards: BTreeMap<String, Value>,
    /// Pool name -> selector, to tell which pool a new pod serves.
    pub pools: Vec<PoolSelector>,
    pub generation: Generation,
    /// The decode pod whose metrics endpoint hangs: the first decode pod of this name prefix.
    pub hang_prefix: Option<String>,
    /// Workloads whose first pod crash-loops, by (namespace, workload).
    pub crashing: Vec<(String, String)>,
    pub churn_debt: f64,
    /// MCP session ids the cluster's tool servers issued.
    pub mcp_sessions: std::collections::BTreeSet<String>,
    /// Open legacy HTTP+SSE streams, by session id.
    pub mcp_streams: BTreeMap<String, futures::channel::mpsc::UnboundedSender<bytes::Bytes>>,
    /// Calls AuthBridge sidecars see, and each pod's counters.
    pub bridge_calls: Vec<super::endpoints::authbridge::Call>,
    pub bridge: BTreeMap<String, super::endpoints::authbridge::Counters>,
    /// When the last tick ran: counters are integrated over real time, and a scrape between
    /// ticks sees them that far along.
    pub last_tick: Option<std::time::Instant>,
}

impl Dynamics {
    /// Seconds since the last tick (0 before the first).
    pub fn since_tick(&self) -> f64 {
        self.last_tick.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0)
    }

    pub fn new(seed: u64, shape: Shape) -> Self {
        let mut rng = Rng::new(seed);
        let phase = rng.unit() * std::f64::consts::TAU;
        Dynamics {
            rng,
            t: 0.0,
            phase,
            period: 300.0,
            engines: BTreeMap::new(),
            epps: BTreeMap::new(),
            cards: BTreeMap::new(),
            pools: Vec::new(),
            generation: shape.generation(),
            hang_prefix: None,
            crashing: Vec::new(),
            churn_debt: 0.0,
            mcp_sessions: Default::default(),
            mcp_streams: BTreeMap::new(),
            bridge_calls: Vec::new(),
            bridge: BTreeMap::new(),
            last_tick: None,
        }
    }

    /// Load between 0.05 and 1: a slow wave with a little noise.
    pub fn load(&mut self) -> f64 {
        let wave = (std::f64::consts::TAU * self.t / self.period + self.phase).sin();
        (0.55 + 0.38 * wave + 0.05 * (self.rng.unit() - 0.5)).clamp(0.05, 1.0)
    }
}

pub fn rfc3339(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn ago(secs: i64) -> String {
    // Formatting a timestamp costs more than building the rest of a pod; a fleet of 200k
    // pods shares a handful of distinct times, so they are formatted once.
    thread_local! {
        static CACHE: std::cell::RefCell<(i64, BTreeMap<i64, String>)> = Default::default();
    }
    let now = jiff::Timestamp::now().as_second();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now {
            *c = (now, BTreeMap::new());
        }
        c.1.entry(secs)
            .or_insert_with(|| rfc3339(jiff::Timestamp::from_second(now - secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)))
            .clone()
    })
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// A stable template hash, as Deployments name their ReplicaSets.
fn template_hash(name: &str) -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = fnv(name);
    (0..10)
        .map(|_| {
            let c = CHARS[(h % CHARS.len() as u64) as usize] as char;
            h /= CHARS.len() as u64;
            c
        })
        .collect()
}

fn labels_of(pairs: &[(&str, &str)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

pub(super) fn idx(cluster: &SimCluster, def: &ResDef) -> usize {
    cluster.registry.index_of(def).expect("resource registered for this cluster shape")
}

pub struct Populate<'a> {
    pub cluster: &'a SimCluster,
    pub store: &'a mut ObjectStore,
    pub pods_per_cluster: usize,
    pub agents_per_cluster: usize,
}

struct NodeSlot {
    name: String,
    gpus_free: i64,
    ip: String,
}

/// Fills one cluster with the objects of its shape.
pub fn populate(p: Populate<'_>) {
    let Populate { cluster, store, pods_per_cluster, agents_per_cluster } = p;
    let shape = cluster.shape;
    if shape.control_plane() {
        for crd in cluster.registry.crd_objects() {
            store.put(idx(cluster, &r::CRDS), crd);
        }
        return super::kubestellar::populate(cluster, store);
    }
    let ci = cluster.index;
    for crd in cluster.registry.crd_objects() {
        store.put(idx(cluster, &r::CRDS), crd);
    }
    let mut namespaces = vec!["default", "kube-system", "kube-public"];
    match shape {
        Shape::GpuPrefill => {
            namespaces.extend(["llm-d", "rossoctl-system", "team-a", "gpu-operator", "opencost", "workloads"])
        }
        Shape::GpuDecode => namespaces.extend(["llm-d", "ml-jobs", "gpu-operator", "workloads"]),
        Shape::Hosting | Shape::Its | Shape::Wds => {}
        Shape::Agents => namespaces.extend([
            "kagenti-system",
            "team1",
            "team2",
            "istio-system",
            "keycloak",
            "gateway-system",
            "mcp-system",
            "workloads",
        ]),
    }
    for ns in namespaces {
        let mut labels = json!({"kubernetes.io/metadata.name": ns});
        match (shape, ns) {
            (Shape::Agents, "team1" | "team2") => {
                labels["kagenti-enabled"] = json!("true");
                labels["istio.io/dataplane-mode"] = json!("ambient");
            }
            (Shape::GpuPrefill, "team-a") => labels["rossoctl-enabled"] = json!("true"),
            _ => {}
        }
        store.put(
            idx(cluster, &r::NAMESPACES),
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "labels": labels, "creationTimestamp": ago(40 * 86400)},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        );
    }

    // Nodes: GPU nodes on the serving clusters, more nodes as the pod count grows.
    let (gpu_nodes, gpus_per_node, product, cpu_nodes) = match shape {
        Shape::GpuPrefill => (4, 8, "NVIDIA-H100-80GB-HBM3", 2),
        Shape::GpuDecode => (3, 8, "NVIDIA-A100-SXM4-80GB", 1),
        Shape::Agents | Shape::Hosting | Shape::Its | Shape::Wds => (0, 0, "", 3),
    };
    let cpu_nodes = cpu_nodes.max(pods_per_cluster / 100);
    let mut slots = Vec::new();
    for i in 0..gpu_nodes + cpu_nodes {
        let gpu = i < gpu_nodes;
        let name =
            if gpu { format!("{}-gpu-{i}", cluster.name) } else { format!("{}-cpu-{}", cluster.name, i - gpu_nodes) };
        let ip = format!("10.{}.{}.{}", 100 + ci % 100, i / 250, 10 + i % 250);
        let mut labels = json!({
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/region": cluster.name.split_once('-').map(|x| x.1).unwrap_or(""),
            "node-role.kubernetes.io/worker": "",
        });
        let mut capacity =
            json!({"cpu": "96", "memory": "1056911520Ki", "pods": "110", "ephemeral-storage": "3750000000Ki"});
        let mut allocatable = capacity.clone();
        allocatable["cpu"] = json!("95500m");
        // one GPU on the last node is unhealthy: the device plugin withholds it
        let gpus_allocatable = if !gpu {
            0
        } else if i == gpu_nodes - 1 {
            gpus_per_node - 1
        } else {
            gpus_per_node
        };
        if gpu {
            // the A100 cluster's last GPU node splits its free GPUs into MIG instances
            if shape == Shape::GpuDecode && i == gpu_nodes - 1 {
                labels["nvidia.com/mig.config"] = json!("all-3g.40gb");
                labels["nvidia.com/mig.strategy"] = json!("mixed");
            }
            labels["nvidia.com/gpu.product"] = json!(product);
            labels["nvidia.com/gpu.count"] = json!(gpus_per_node.to_string());
            labels["nvidia.com/gpu.present"] = json!("true");
            capacity["nvidia.com/gpu"] = json!(gpus_per_node.to_string());
            allocatable["nvidia.com/gpu"] = json!(gpus_allocatable.to_string());
        }
        store.put(
            idx(cluster, &r::NODES),
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels, "creationTimestamp": ago(30 * 86400 + i as i64 * 60)},
                "spec": {"podCIDR": format!("10.{}.{}.0/24", 200 + ci % 50, i % 250)},
                "status": {
                    "capacity": capacity, "allocatable": allocatable,
                    "conditions": [
                        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                        {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
                        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}
                    ],
                    "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                    "nodeInfo": {"kubeletVersion": cluster.kube_version, "containerRuntimeVersion": "containerd://2.0.4",
                                 "osImage": "Ubuntu 24.04.2 LTS", "architecture": "amd64", "operatingSystem": "linux"}
                }
            }),
        );
        slots.push(NodeSlot { name, gpus_free: gpus_allocatable, ip });
    }
    cluster.nodes.lock().expect("nodes").extend(slots.iter().map(|s| (s.name.clone(), s.gpus_free, s.ip.clone())));

    let mut w = Workloads { cluster, store };
    w.deployment(
        "kube-system",
        "coredns",
        2,
        &[("k8s-app", "kube-dns")],
        &[],
        container("coredns", "registry.k8s.io/coredns/coredns:v1.12.0", 53, 0, &[]),
        40 * 86400,
    );

    if gpu_nodes > 0 {
        dcgm_exporter(&mut w, &slots[..gpu_nodes]);
    }
    match shape {
        Shape::GpuPrefill => {
            gpu_prefill(&mut w);
            opencost(&mut w);
        }
        Shape::GpuDecode => gpu_decode(&mut w),
        Shape::Agents => agents(&mut w, agents_per_cluster),
        Shape::Hosting | Shape::Its | Shape::Wds => {}
    }

    // Filler workloads up to the requested pod count.
    let pods = idx(cluster, &r::PODS);
    let mut n = 0;
    while w.store.count(pods) < pods_per_cluster {
        let missing = pods_per_cluster - w.store.count(pods);
        let replicas = missing.min(10) as i64;
        let name = format!("svc-{n:04}");
        let labels = [("app", name.as_str())];
        w.deployment(
            "workloads",
            &name,
            replicas,
            &labels,
            &[],
            container("app", "ghcr.io/example/service:1.4.2", 8080, 0, &[]),
            7 * 86400 + n as i64,
        );
        n += 1;
    }
}

/// The GPU Operator's dcgm-exporter: a DaemonSet with a pod on every GPU node, `:9400/metrics`.
fn dcgm_exporter(w: &mut Workloads<'_>, gpu_nodes: &[NodeSlot]) {
    let ns = "gpu-operator";
    let labels = json!({"app": "nvidia-dcgm-exporter", "app.kubernetes.io/name": "nvidia-dcgm-exporter", "app.kubernetes.io/part-of": "gpu-operator"});
    let c = json!({"name": "nvidia-dcgm-exporter", "image": "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
                   "ports": [{"containerPort": 9400, "name": "metrics", "protocol": "TCP"}],
                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}});
    let n = gpu_nodes.len();
    w.put(
        &r::DAEMONSETS,
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "nvidia-dcgm-exporter", "namespace": ns, "labels": labels, "generation": 1, "creationTimestamp": ago(30 * 86400)},
               "spec": {"selector": {"matchLabels": {"app": "nvidia-dcgm-exporter"}},
                        "template": {"metadata": {"labels": labels}, "spec": {"nodeSelector": {"nvidia.com/gpu.present": "true"}, "containers": [c]}}},
               "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberReady": n, "numberAvailable": n,
                          "updatedNumberScheduled": n, "numberMisscheduled": 0, "observedGeneration": 1}}),
    );
    for slot in gpu_nodes {
        let name = format!("nvidia-dcgm-exporter-{}", &template_hash(&slot.name)[..5]);
        let ip = w.cluster.next_pod_ip();
        w.put(
            &r::PODS,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": ago(30 * 86400),
                                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "nvidia-dcgm-exporter",
                                                     "uid": "ds-nvidia-dcgm-exporter", "controller": true}]},
                   "spec": {"nodeName": slot.name, "containers": [c]},
                   "status": {"phase": "Running", "hostIP": slot.ip, "podIP": ip, "podIPs": [{"ip": ip}], "startTime": ago(30 * 86400),
                              "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [{"name": "nvidia-dcgm-exporter", "ready": true, "restartCount": 0, "started": true,
                                                     "image": c["image"], "state": {"running": {"startedAt": ago(30 * 86400)}}}]}}),
        );
    }
    w.service(
        ns,
        "nvidia-dcgm-exporter",
        "nvidia-dcgm-exporter",
        &[("gpu-metrics", 9400, 9400)],
        &[("app", "nvidia-dcgm-exporter")],
    );
}

/// OpenCost on the H100 cluster only (the A100 cluster has none: kst estimates its cost from
/// configured prices), with `CLUSTER_ID` set to the cluster's name as the ManagedCluster is.
fn opencost(w: &mut Workloads<'_>) {
    let mut c = container(
        "opencost",
        "ghcr.io/opencost/opencost:1.117.3",
        9003,
        0,
        &[env("CLUSTER_ID", &w.cluster.name.clone())],
    );
    c["ports"] = json!([{"containerPort": 9003, "name": "http", "protocol": "TCP"}]);
    w.deployment("opencost", "opencost", 1, &[("app", "opencost")], &[], c, 20 * 86400);
    w.service(
        "opencost",
        "opencost",
        "opencost",
        &[("http", 9003, 9003), ("opencost-ui", 9090, 9090)],
        &[("app", "opencost")],
    );
}

fn container(name: &str, image: &str, port: u16, gpus: i64, env: &[Value]) -> Value {
    let mut resources = json!({"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}});
    if gpus > 0 {
        resources = json!({"requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": gpus.to_string()},
                           "limits": {"memory": "96Gi", "nvidia.com/gpu": gpus.to_string()}});
    }
    json!({"name": name, "image": image, "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
           "resources": resources, "env": env, "imagePullPolicy": "IfNotPresent"})
}

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn env_secret(name: &str, secret: &str, key: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

struct Workloads<'a> {
    cluster: &'a SimCluster,
    store: &'a mut ObjectStore,
}

impl Workloads<'_> {
    #[allow(clippy::too_many_arguments)]
    fn deployment(
        &mut self,
        ns: &str,
        name: &str,
        replicas: i64,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        main: Value,
        age: i64,
    ) {
        self.workload(&r::DEPLOYMENTS, ns, name, replicas, labels, annotations, vec![main], vec![], age);
    }

    #[allow(clippy::too_many_arguments)]
    fn workload(
        &mut self,
        def: &ResDef,
        ns: &str,
        name: &str,
        replicas: i64,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        containers: Vec<Value>,
        init: Vec<Value>,
        age: i64,
    ) {
        let mut all: Vec<(&str, &str)> = labels.to_vec();
        all.push(("app.kubernetes.io/name", name));
        let tlabels = labels_of(&all);
        let mut spec = json!({"containers": containers, "serviceAccountName": "default", "restartPolicy": "Always"});
        if !init.is_empty() {
            spec["initContainers"] = json!(init);
        }
        let o = json!({
            "apiVersion": def.api_version(), "kind": def.kind,
            "metadata": {"name": name, "namespace": ns, "labels": tlabels, "annotations": labels_of(annotations),
                         "generation": 1, "creationTimestamp": ago(age)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": tlabels}, "spec": spec}},
            "status": {"observedGeneration": 1, "replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "updatedReplicas": 0}
        });
        self.store.put(idx(self.cluster, def), o);
        reconcile_inner(self.cluster, self.store, def, ns, name, true);
    }

    fn add_env(&mut self, def: &ResDef, ns: &str, name: &str, e: Value) {
        let _ = self.store.modify(idx(self.cluster, def), ns, name, |o| {
            if let Some(env) = o["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut() {
                env.push(e);
            }
        });
    }

    fn with_sa(&mut self, def: &ResDef, ns: &str, name: &str, sa: &str) {
        let _ = self.store.modify(idx(self.cluster, def), ns, name, |o| {
            o["spec"]["template"]["spec"]["serviceAccountName"] = json!(sa);
        });
        let pods = idx(self.cluster, &r::PODS);
        let names: Vec<String> = self
            .store
            .list(pods, Some(ns))
            .into_iter()
            .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
            .map(|p| p.name.clone())
            .collect();
        for pod in names {
            let _ = self.store.modify(pods, ns, &pod, |o| o["spec"]["serviceAccountName"] = json!(sa));
        }
    }

    fn service(
        &mut self,
        ns: &str,
        name: &str,
        selector_app: &str,
        ports: &[(&str, u16, u16)],
        labels: &[(&str, &str)],
    ) {
        let ports: Vec<Value> = ports
            .iter()
            .map(|(n, port, target)| json!({"name": n, "port": port, "targetPort": target, "protocol": "TCP"}))
            .collect();
        let ip = format!("172.30.{}.{}", fnv(name) % 250, fnv(ns) % 250);
        self.store.put(
            idx(self.cluster, &r::SERVICES),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns, "labels": labels_of(labels), "creationTimestamp": ago(20 * 86400)},
                   "spec": {"type": "ClusterIP", "clusterIP": ip, "ports": ports,
                            "selector": {"app.kubernetes.io/name": selector_app}}}),
        );
        // the EndpointSlice the endpoint controller would write: the service's ready pods
        let pods = idx(self.cluster, &r::PODS);
        let endpoints: Vec<Value> = self
            .store
            .list_prefix(pods, ns, &format!("{selector_app}-"))
            .into_iter()
            .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(selector_app))
            .map(|p| {
                let v = p.value();
                json!({"addresses": [v["status"]["podIP"].clone()], "conditions": {"ready": p.ready, "serving": p.ready, "terminating": false},
                       "nodeName": p.node_name, "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name, "uid": v["metadata"]["uid"].clone()}})
            })
            .collect();
        let slice_ports: Vec<Value> =
            ports.iter().map(|p| json!({"name": p["name"], "port": p["targetPort"], "protocol": "TCP"})).collect();
        self.store.put(
            idx(self.cluster, &r::ENDPOINT_SLICES),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"name": format!("{name}-{}", &template_hash(name)[..5]), "namespace": ns,
                                "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                                "creationTimestamp": ago(20 * 86400)},
                   "addressType": "IPv4", "endpoints": endpoints, "ports": slice_ports}),
        );
    }

    fn put(&mut self, def: &ResDef, o: Value) {
        self.store.put(idx(self.cluster, def), o);
    }

    fn service_account(&mut self, ns: &str, name: &str) {
        self.put(
            &r::SERVICE_ACCOUNTS,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}),
        );
    }
}

fn pool_v1(name: &str, guide: &str) -> Value {
    json!({
        "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
        "metadata": {"name": name, "namespace": "llm-d", "creationTimestamp": ago(12 * 86400)},
        "spec": {"targetPorts": [{"number": 8000}], "selector": {"matchLabels": {"llm-d.ai/guide": guide}},
                 "endpointPickerRef": {"name": format!("{name}-epp"), "port": {"number": 9002}, "failureMode": "FailOpen"}},
        "status": {"parents": [{"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "infra-inference-gateway", "namespace": "llm-d"},
                   "controllerName": "istio.io/gateway-controller",
                   "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                                  {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"}]}]}
    })
}

fn epp(w: &mut Workloads<'_>, pool: &str, model: &str, auth_required: bool) {
    let name = format!("{pool}-epp");
    let mut args = vec![json!("--pool-name"), json!(pool), json!("--config-file"), json!("/config/epp.yaml")];
    if !auth_required {
        args.push(json!("--metrics-endpoint-auth=false"));
    }
    let mut c = json!({"name": "epp", "image": "ghcr.io/llm-d/llm-d-router:v0.10.0", "args": args,
        "ports": [{"containerPort": 9002, "name": "grpc", "protocol": "TCP"}, {"containerPort": 9090, "name": "http-metrics", "protocol": "TCP"},
                  {"containerPort": 9003, "name": "grpc-health", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}});
    c["env"] = json!([]);
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        &name,
        1,
        &[("app.kubernetes.io/component", "epp"), ("inferencepool", pool)],
        &[],
        vec![c],
        vec![],
        12 * 86400,
    );
    w.service(
        "llm-d",
        &name,
        &name,
        &[("grpc-ext-proc", 9002, 9002), ("http-metrics", 9090, 9090)],
        &[("app.kubernetes.io/component", "epp")],
    );
    let mut dynamics = w.cluster.dynamics.lock().expect("dynamics");
    dynamics.epps.insert(
        pool.to_string(),
        EppState {
            pool: pool.to_string(),
            model: model.to_string(),
            auth_required,
            created: 1_763_000_000.0,
            ..Default::default()
        },
    );
}

fn vllm(model: &str, port: u16, gpus: i64) -> Value {
    let mut c =
        container("vllm", "ghcr.io/llm-d/llm-d-cuda:v0.4.0", port, gpus, &[env("VLLM_NIXL_SIDE_CHANNEL_PORT", "5600")]);
    c["args"] = json!([
        model,
        "--port",
        port.to_string(),
        "--kv-transfer-config",
        "{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}"
    ]);
    c
}

fn routing_sidecar() -> Value {
    json!({"name": "routing-proxy", "image": "ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.10.0", "restartPolicy": "Always",
           "args": ["--port=8000", "--vllm-port=8200", "--kv-connector=nixlv2", "--secure-serving=false"],
           "ports": [{"containerPort": 8000, "name": "sidecar", "protocol": "TCP"}],
           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}})
}

fn gpu_prefill(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.1-8B-Instruct";
    let mlabel = "llama-3-1-8b-instruct";
    w.put(&r::INFERENCE_POOLS, pool_v1("pd-disaggregation", "pd-disaggregation"));
    w.put(&r::INFERENCE_POOLS, pool_v1("optimized-baseline", "optimized-baseline"));
    {
        let mut d = w.cluster.dynamics.lock().expect("dynamics");
        d.pools.push((
            "pd-disaggregation".into(),
            vec![("llm-d.ai/guide".into(), "pd-disaggregation".into())],
            model.into(),
        ));
        d.pools.push((
            "optimized-baseline".into(),
            vec![("llm-d.ai/guide".into(), "optimized-baseline".into())],
            model.into(),
        ));
    }
    epp(w, "pd-disaggregation", model, false);
    epp(w, "optimized-baseline", model, true);
    let pd =
        [("llm-d.ai/guide", "pd-disaggregation"), ("llm-d.ai/model", mlabel), ("llm-d.ai/inference-serving", "true")];
    let mut prefill = pd.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-pd-llm-d-modelservice-prefill",
        2,
        &prefill,
        &[],
        vec![vllm(model, 8000, 1)],
        vec![],
        9 * 86400,
    );
    let mut decode = pd.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-pd-llm-d-modelservice-decode",
        2,
        &decode,
        &[],
        vec![vllm(model, 8200, 2)],
        vec![routing_sidecar()],
        9 * 86400,
    );
    let base = [("llm-d.ai/guide", "optimized-baseline"), ("llm-d.ai/model", mlabel)];
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-baseline-llm-d-modelservice",
        3,
        &base,
        &[],
        vec![vllm(model, 8000, 1)],
        vec![],
        20 * 86400,
    );
    llama_70b_h100(w);
    for (name, prio, pool) in
        [("chat-interactive", 10, "pd-disaggregation"), ("batch-sheddable", -1, "optimized-baseline")]
    {
        w.put(
            &r::INFERENCE_OBJECTIVES,
            json!({"apiVersion": "llm-d.ai/v1alpha2", "kind": "InferenceObjective",
                   "metadata": {"name": name, "namespace": "llm-d", "creationTimestamp": ago(9 * 86400)},
                   "spec": {"priority": prio, "poolRef": {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": pool}},
                   "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
        );
    }
    // A pair of agents under the Rossoctl naming (renamed from Kagenti in July 2026).
    let brand = Brand::ROSSOCTL;
    w.deployment(
        "rossoctl-system",
        "rossoctl-controller-manager",
        1,
        &[("control-plane", "controller-manager")],
        &[],
        container("manager", "ghcr.io/rossoctl/operator:v0.9.1", 8443, 0, &[]),
        30 * 86400,
    );
    agent(w, brand, "team-a", "triage-agent", "langgraph", &["a2a"], 1, Provider::OpenAi, CardShape::V1, 0);
    agent(w, brand, "team-a", "capacity-planner", "crewai", &["a2a", "mcp"], 1, Provider::Ollama, CardShape::Legacy, 0);
}

/// The 70B model the A100 cluster serves, here too on H100s, in a pool exported to the
/// ClusterSet (the A100 cluster imports it); its decode servers want 8 GPUs each and the
/// second finds no node with 8 free: a decode shortage the scheduler reports.
fn llama_70b_h100(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.3-70B-Instruct";
    let mlabel = "llama-3-3-70b-instruct";
    let pool = "pd-llama-70b";
    let mut p = pool_v1(pool, pool);
    p["metadata"]["annotations"] = json!({EXPORT_ANNOTATION: "ClusterSet"});
    p["status"]["parents"][0]["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({"type": "Exported", "status": "True", "reason": "Exported"}));
    w.put(&r::INFERENCE_POOLS, p);
    w.cluster.dynamics.lock().expect("dynamics").pools.push((
        pool.into(),
        vec![("llm-d.ai/guide".into(), pool.into())],
        model.into(),
    ));
    epp(w, pool, model, false);
    let base = [("llm-d.ai/guide", pool), ("llm-d.ai/model", mlabel), ("llm-d.ai/inference-serving", "true")];
    let mut prefill = base.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "pd-llama-70b-prefill",
        1,
        &prefill,
        &[],
        vec![vllm(model, 8000, 4)],
        vec![],
        5 * 86400,
    );
    let mut decode = base.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "pd-llama-70b-decode",
        2,
        &decode,
        &[],
        vec![vllm(model, 8200, 8)],
        vec![routing_sidecar()],
        5 * 86400,
    );
}

/// The annotation that exports a pool to the ClusterSet (GAIE multi-cluster).
pub const EXPORT_ANNOTATION: &str = "inference.networking.x-k8s.io/export";

/// The A100 cluster imports the H100 cluster's exported 70B pool: the controller's import,
/// status only, naming the exporting cluster.
fn import_70b(w: &mut Workloads<'_>, exporter: &str) {
    w.put(
        &r::INFERENCE_POOL_IMPORTS,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha1", "kind": "InferencePoolImport",
               "metadata": {"name": "pd-llama-70b", "namespace": "llm-d", "creationTimestamp": ago(5 * 86400)},
               "status": {"controllers": [{
                   "name": "istio.io/gateway-controller",
                   "exportingClusters": [{"name": exporter}],
                   "parents": [{"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "inference-gateway", "namespace": "llm-d"},
                                "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "lastTransitionTime": ago(5 * 86400)}]}],
                   "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "lastTransitionTime": ago(5 * 86400)}]}]}}),
    );
}

fn gpu_decode(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.3-70B-Instruct";
    let mlabel = "llama-3-3-70b-instruct";
    w.put(
        &r::INFERENCE_POOLS_LEGACY,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferencePool",
               "metadata": {"name": "llama-70b", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400)},
               "spec": {"selector": {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": mlabel}, "targetPortNumber": 8000,
                        "extensionRef": {"name": "llama-70b-epp", "portNumber": 9002, "failureMode": "FailClose"}},
               "status": {"parent": [{"parentRef": {"kind": "Gateway", "name": "inference-gateway"},
                          "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}]}}),
    );
    w.put(
        &r::INFERENCE_MODELS_LEGACY,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferenceModel",
               "metadata": {"name": "llama-70b-chat", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400)},
               "spec": {"modelName": model, "criticality": "Critical", "poolRef": {"name": "llama-70b"}},
               "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
    );
    {
        let mut d = w.cluster.dynamics.lock().expect("dynamics");
        d.pools.push((
            "llama-70b".into(),
            vec![("llm-d.ai/inferenceServing".into(), "true".into()), ("llm-d.ai/model".into(), mlabel.into())],
            model.into(),
        ));
        d.hang_prefix = Some("llama-70b-decode".into());
        d.crashing.push(("llm-d".into(), "llama-70b-decode".into()));
    }
    epp(w, "llama-70b", model, false);
    let base = [("llm-d.ai/inferenceServing", "true"), ("llm-d.ai/model", mlabel)];
    let mut decode = base.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "llama-70b-decode",
        3,
        &decode,
        &[],
        vec![vllm(model, 8200, 4)],
        vec![routing_sidecar()],
        60 * 86400,
    );
    // the WVA scales the decode servers: an HPA it manages (the VariantAutoscaling CRD is gone)
    w.put(
        &r::HPAS,
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "llama-70b-decode", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400),
                            "annotations": {"llm-d.ai/managed": "true", "llm-d.ai/model-id": model, "llm-d.ai/variant-cost": "40.0"}},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-70b-decode"},
                        "minReplicas": 2, "maxReplicas": 3,
                        "metrics": [{"type": "External", "external": {
                            "metric": {"name": "wva_desired_replicas", "selector": {"matchLabels": {"variant_name": "llama-70b-decode"}}},
                            "target": {"type": "AverageValue", "averageValue": "1"}}}]},
               "status": hpa_status(false)}),
    );
    crash_first_pod(w.cluster, w.store, "llm-d", "llama-70b-decode");
    refresh_status(w.cluster, w.store, &r::DEPLOYMENTS, "llm-d", "llama-70b-decode");
    let mut prefill = base.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "llama-70b-prefill",
        1,
        &prefill,
        &[],
        vec![vllm(model, 8000, 4)],
        vec![],
        60 * 86400,
    );
    for (name, done) in [("finetune-llama-lora", true), ("eval-harness-nightly", false)] {
        let status = if done {
            json!({"succeeded": 1, "startTime": ago(7200), "completionTime": ago(1800),
                   "conditions": [{"type": "Complete", "status": "True"}]})
        } else {
            json!({"active": 1, "startTime": ago(900)})
        };
        w.put(
            &r::JOBS,
            json!({"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": name, "namespace": "ml-jobs", "creationTimestamp": ago(if done { 7300 } else { 950 })},
                   "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 2,
                            "template": {"spec": {"restartPolicy": "Never", "containers": [container("trainer", "ghcr.io/example/trainer:2.3", 8080, 2, &[])]}}},
                   "status": status}),
        );
    }
    // the running Job's pod, as the Job controller makes it: GPUs that are really held (and
    // idle: the harness waits on a dataset download)
    let (eval_node, _) = w.cluster.place(2).unwrap_or_else(|| (format!("{}-gpu-0", w.cluster.name), String::new()));
    w.put(
        &r::PODS,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "eval-harness-nightly-7xk2p", "namespace": "ml-jobs", "creationTimestamp": ago(900),
                            "labels": {"batch.kubernetes.io/job-name": "eval-harness-nightly", "job-name": "eval-harness-nightly", "team": "research"},
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "eval-harness-nightly",
                                                 "uid": "job-eval-harness-nightly", "controller": true}]},
               "spec": {"restartPolicy": "Never", "nodeName": eval_node,
                        "containers": [container("trainer", "ghcr.io/example/trainer:2.3", 8080, 2, &[])]},
               "status": {"phase": "Running", "startTime": ago(880),
                          "conditions": [{"type": "Ready", "status": "True"}],
                          "containerStatuses": [{"name": "trainer", "ready": true, "restartCount": 0, "started": true,
                                                 "image": "ghcr.io/example/trainer:2.3",
                                                 "state": {"running": {"startedAt": ago(870)}}}]}}),
    );
    ml_jobs(w);
    if let Some(exporter) = w.cluster.index.checked_sub(1) {
        import_70b(w, &Shape::context_name(exporter));
    }
}

/// The WVA-managed HPA's status: at its max of 3 either way; when the load wants more, the
/// controller says so (`ScalingLimited` / `TooManyReplicas`), as the HPA controller does.
fn hpa_status(wants_more: bool) -> Value {
    let limited = if wants_more {
        json!({"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas",
               "message": "the desired replica count is more than the maximum replica count", "lastTransitionTime": ago(0)})
    } else {
        json!({"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange",
               "message": "the desired count is within the acceptable range", "lastTransitionTime": ago(3600)})
    };
    json!({"currentReplicas": 3, "desiredReplicas": 3,
           "conditions": [
               {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                "message": "recommended size matches current size", "lastTransitionTime": ago(3600)},
               {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count from external metric wva_desired_replicas", "lastTransitionTime": ago(3600)},
               limited]})
}

fn gpu_template(name: &str, image: &str, gpus: i64) -> Value {
    json!({"spec": {"containers": [container(name, image, 8080, gpus, &[])]}})
}

/// Kubeflow and Ray jobs and a notebook, each with the status fields its operator writes.
fn ml_jobs(w: &mut Workloads<'_>) {
    let meta = |name: &str, age: i64| json!({"name": name, "namespace": "ml-jobs", "creationTimestamp": ago(age)});
    let cond = |t: &str, ok: bool, reason: &str, msg: &str| json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason, "message": msg, "lastTransitionTime": ago(600)});
    w.put(
        &r::PYTORCH_JOBS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta("llama-sft-ddp", 5400),
               "spec": {"pytorchReplicaSpecs": {
                   "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": gpu_template("pytorch", "ghcr.io/example/sft:1.4", 8)},
                   "Worker": {"replicas": 3, "restartPolicy": "OnFailure", "template": gpu_template("pytorch", "ghcr.io/example/sft:1.4", 8)}}},
               "status": {"startTime": ago(5300),
                          "conditions": [cond("Created", true, "PyTorchJobCreated", "PyTorchJob llama-sft-ddp is created."),
                                         cond("Running", true, "PyTorchJobRunning", "PyTorchJob llama-sft-ddp is running.")],
                          "replicaStatuses": {"Master": {"active": 1}, "Worker": {"active": 3}}}}),
    );
    w.put(
        &r::PYTORCH_JOBS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta("bert-pretrain", 90000),
               "spec": {"pytorchReplicaSpecs": {
                   "Master": {"replicas": 1, "template": gpu_template("pytorch", "ghcr.io/example/bert:0.9", 1)},
                   "Worker": {"replicas": 1, "template": gpu_template("pytorch", "ghcr.io/example/bert:0.9", 1)}}},
               "status": {"startTime": ago(89000), "completionTime": ago(86000),
                          "conditions": [cond("Created", true, "PyTorchJobCreated", ""),
                                         cond("Failed", true, "PyTorchJobFailed", "PyTorchJob bert-pretrain is failed because 1 Worker replica(s) failed: OOMKilled.")],
                          "replicaStatuses": {"Master": {"failed": 1}, "Worker": {"failed": 1}}}}),
    );
    w.put(
        &r::TRAIN_JOBS,
        json!({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": meta("qwen-dpo", 20000),
               "spec": {"runtimeRef": {"name": "torch-distributed"},
                        "trainer": {"image": "ghcr.io/example/dpo:0.2", "numNodes": 2,
                                    "resourcesPerNode": {"limits": {"nvidia.com/gpu": 4}}}},
               "status": {"conditions": [cond("Complete", true, "JobsCompleted", "TrainJob is completed")],
                          "jobsStatus": [{"name": "node", "succeeded": 2}]}}),
    );
    w.put(
        &r::RAY_JOBS,
        json!({"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": meta("batch-embeddings", 2400),
               "spec": {"entrypoint": "python embed.py", "shutdownAfterJobFinishes": true,
                        "rayClusterSpec": {"headGroupSpec": {"template": gpu_template("ray-head", "rayproject/ray:2.40.0", 0)},
                                           "workerGroupSpecs": [{"groupName": "gpu", "replicas": 4, "minReplicas": 4, "maxReplicas": 4,
                                                                 "template": gpu_template("ray-worker", "rayproject/ray:2.40.0-gpu", 1)}]}},
               "status": {"jobStatus": "RUNNING", "jobDeploymentStatus": "Running", "startTime": ago(2300),
                          "message": "Job is currently running", "rayClusterName": "batch-embeddings-raycluster-x2k9f"}}),
    );
    w.put(
        &r::NOTEBOOKS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": meta("ds-sandbox", 300000),
               "spec": {"template": gpu_template("ds-sandbox", "kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0", 1)},
               "status": {"readyReplicas": 1, "containerState": {"running": {"startedAt": ago(290000)}},
                          "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": ago(60)}]}}),
    );
}

#[derive(Clone, Copy)]
struct Brand {
    label: &'static str,
    protocol: &'static str,
    runtimes: ResDef,
    cards: ResDef,
    system_ns: &'static str,
}

impl Brand {
    const KAGENTI: Brand = Brand {
        label: "kagenti.io",
        protocol: "protocol.kagenti.io",
        runtimes: r::AGENT_RUNTIMES,
        cards: r::AGENT_CARDS,
        system_ns: "kagenti-system",
    };
    const ROSSOCTL: Brand = Brand {
        label: "rossoctl.io",
        protocol: "protocol.rossoctl.io",
        runtimes: r::AGENT_RUNTIMES_ROSSOCTL,
        cards: r::AGENT_CARDS_ROSSOCTL,
        system_ns: "rossoctl-system",
    };
}

#[derive(Clone, Copy)]
enum Provider {
    OpenAi,
    Ollama,
    Anthropic,
    Gemini,
}

#[derive(Clone, Copy, PartialEq)]
enum CardShape {
    /// A2A 1.0: `supportedInterfaces`.
    V1,
    /// Older cards: a top-level `url`.
    Legacy,
}

/// How an agent misbehaves, if at all.
#[derive(Clone, Copy, PartialEq)]
enum Condition {
    Healthy,
    Paused,
    Failing,
}

#[allow(clippy::too_many_arguments)]
fn agent(
    w: &mut Workloads<'_>,
    brand: Brand,
    ns: &str,
    name: &str,
    framework: &str,
    protocols: &[&str],
    replicas: i64,
    provider: Provider,
    shape: CardShape,
    age_days: i64,
) {
    agent_full(
        w,
        brand,
        ns,
        name,
        framework,
        protocols,
        replicas,
        provider,
        shape,
        age_days,
        Condition::Healthy,
        true,
        true,
    );
}

#[allow(clippy::too_many_arguments)]
fn agent_full(
    w: &mut Workloads<'_>,
    brand: Brand,
    ns: &str,
    name: &str,
    framework: &str,
    protocols: &[&str],
    replicas: i64,
    provider: Provider,
    shape: CardShape,
    age_days: i64,
    condition: Condition,
    own_sa: bool,
    authbridge: bool,
) {
    let type_key = format!("{}/type", brand.label);
    let fw_key = format!("{}/framework", brand.label);
    let proto_keys: Vec<String> = protocols.iter().map(|p| format!("{}/{p}", brand.protocol)).collect();
    let inject_key = format!("{}/inject", brand.label);
    let mut labels: Vec<(&str, &str)> = vec![
        (type_key.as_str(), "agent"),
        (fw_key.as_str(), framework),
        ("app.kubernetes.io/managed-by", "kagenti-operator"),
    ];
    if !authbridge {
        labels.push((inject_key.as_str(), "disabled"));
    }
    for k in &proto_keys {
        labels.push((k.as_str(), ""));
    }
    let mut envs = vec![
        env("PORT", "8000"),
        env("AGENT_ENDPOINT", &format!("http://{name}.{ns}.svc.cluster.local:8080")),
        env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &format!("http://otel-collector.{}.svc.cluster.local:8335", brand.system_ns),
        ),
        env("MCP_URL", "http://weather-tool-mcp.team1.svc.cluster.local:8000/mcp"),
    ];
    // the provider's key, as a Secret the agent reads: what a YAML view must never show
    let secret = match provider {
        Provider::OpenAi => Some(("openai-secret", "apikey")),
        Provider::Anthropic => Some(("litellm-secret", "auth-token")),
        Provider::Gemini => Some(("gemini-secret", "apikey")),
        Provider::Ollama => None,
    };
    if let Some((secret, key)) = secret {
        use base64::Engine;
        let value = format!("sk-sim-{:016x}", fnv(&format!("{ns}/{secret}")));
        w.put(
            &r::SECRETS,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": secret, "namespace": ns},
                   "data": {key: base64::engine::general_purpose::STANDARD.encode(value)}}),
        );
    }
    match provider {
        Provider::OpenAi => {
            envs.push(env("LLM_API_BASE", "https://api.openai.com/v1"));
            envs.push(env("LLM_MODEL", "gpt-4o-mini-2024-07-18"));
            envs.push(env_secret("OPENAI_API_KEY", "openai-secret", "apikey"));
        }
        Provider::Ollama => {
            envs.push(env("LLM_API_BASE", "http://host.docker.internal:11434/v1"));
            envs.push(env("LLM_MODEL", "llama3.2:3b-instruct-fp16"));
            envs.push(env("LLM_API_KEY", "dummy"));
        }
        Provider::Anthropic => {
            envs.push(env("ANTHROPIC_BASE_URL", "http://litellm-model-proxy.team1:4000"));
            envs.push(env("ANTHROPIC_MODEL", "claude-sonnet-4"));
            envs.push(env_secret("ANTHROPIC_AUTH_TOKEN", "litellm-secret", "auth-token"));
        }
        Provider::Gemini => {
            envs.push(env_secret("GOOGLE_API_KEY", "gemini-secret", "apikey"));
        }
    }
    let annotations: Vec<(&str, &str)> = match condition {
        Condition::Paused => {
            vec![("kst.dev/previous-replicas", "2"), ("kagenti.io/description", "paused by the on-call")]
        }
        _ => vec![("kagenti.io/description", "An agent of the simulated fleet")],
    };
    let c = container("agent", &format!("ghcr.io/kagenti/agent-examples/{name}:0.3.{}", age_days % 7), 8000, 0, &envs);
    let replicas = if condition == Condition::Paused { 0 } else { replicas };
    // AuthBridge, as the webhook injects it: a native sidecar with its stats on 9093
    let sidecars = if authbridge {
        let mut bridge = container("authbridge", "ghcr.io/kagenti/authbridge:0.4.1", 9093, 0, &[]);
        bridge["restartPolicy"] = json!("Always");
        vec![bridge]
    } else {
        vec![]
    };
    w.workload(&r::DEPLOYMENTS, ns, name, replicas, &labels, &annotations, vec![c], sidecars, age_days * 86400 + 3600);
    if own_sa {
        w.service_account(ns, name);
        w.with_sa(&r::DEPLOYMENTS, ns, name, name);
    }
    let mut svc_labels = vec![(type_key.as_str(), "agent")];
    for k in &proto_keys {
        svc_labels.push((k.as_str(), ""));
    }
    w.service(ns, name, name, &[("http", 8080, 8000)], &svc_labels);
    if condition == Condition::Failing {
        w.cluster.dynamics.lock().expect("dynamics").crashing.push((ns.to_string(), name.to_string()));
        crash_first_pod(w.cluster, w.store, ns, name);
        refresh_status(w.cluster, w.store, &r::DEPLOYMENTS, ns, name);
    }

    let url = format!("http://{name}.{ns}.svc.cluster.local:8080/");
    let skills = json!([{"id": format!("{name}-main"), "name": name.replace('-', " "), "description": format!("Main skill of {name}"),
                         "tags": [framework, "demo"], "examples": ["What can you do?"]}]);
    let card = match shape {
        CardShape::V1 => {
            json!({"name": name, "description": format!("{name} ({framework})"), "version": "1.0.0",
            "supportedInterfaces": [{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
            "capabilities": {"streaming": true, "pushNotifications": false}, "defaultInputModes": ["text"], "defaultOutputModes": ["text"],
            "skills": skills})
        }
        CardShape::Legacy => {
            json!({"name": name, "description": format!("{name} ({framework})"), "version": "0.2.1", "url": url,
            "protocolVersion": "0.3.0", "capabilities": {"streaming": false}, "defaultInputModes": ["text"], "defaultOutputModes": ["text"],
            "skills": skills})
        }
    };
    w.cluster.dynamics.lock().expect("dynamics").cards.insert(name.to_string(), card.clone());
    let ready = condition == Condition::Healthy;
    let ready_cond = |t: &str, ok: bool, reason: &str| json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason});
    w.put(
        &brand.runtimes,
        json!({"apiVersion": brand.runtimes.api_version(), "kind": "AgentRuntime",
               "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(age_days * 86400 + 3000)},
               "spec": {"type": "agent", "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                        "authBridgeMode": "proxy-sidecar", "mtlsMode": mtls_mode(name)},
               "status": {"observedGeneration": 1, "configuredPods": if ready { replicas } else { 0 },
                          "conditions": [ready_cond("TargetResolved", true, "TargetFound"),
                                         ready_cond("Ready", condition != Condition::Failing, if condition == Condition::Failing { "ConfigApplyError" } else { "Configured" })]}}),
    );
    // Half the cards are indexed in the AgentCard status; the rest must be fetched.
    let indexed = fnv(name) % 2 == 0;
    let mut status = json!({"protocol": "a2a", "lastSyncTime": ago(60),
        "conditions": [ready_cond("Synced", ready, if ready { "SyncSucceeded" } else { "WorkloadNotReady" })],
        "validSignature": name.len() % 3 != 0, "bindingStatus": {"bound": own_sa, "reason": if own_sa { "Bound" } else { "NoDedicatedServiceAccount" }},
        "expectedSpiffeID": format!("spiffe://cluster.local/ns/{ns}/sa/{name}")});
    if indexed {
        status["card"] = card;
    }
    w.put(
        &brand.cards,
        json!({"apiVersion": brand.cards.api_version(), "kind": "AgentCard",
               "metadata": {"name": format!("{name}-deployment-card"), "namespace": ns, "creationTimestamp": ago(age_days * 86400 + 2900)},
               "spec": {"syncPeriod": "30s", "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}},
               "status": status}),
    );
}

fn mtls_mode(agent: &str) -> &'static str {
    match agent {
        a if a.contains("capacity") => "disabled",
        "weather-service" | "currency-converter" | "triage-agent" => "strict",
        _ => "permissive",
    }
}

fn tool(w: &mut Workloads<'_>, ns: &str, name: &str, state: &str, credential: bool) {
    tool_on_port(w, ns, name, state, credential, 8000, "streamable_http")
}

/// A tool whose container listens on `port` (its Service always targets 8000: a tool on another
/// port is the "server down" case, connection refused through the proxy).
fn tool_on_port(
    w: &mut Workloads<'_>,
    ns: &str,
    name: &str,
    state: &str,
    credential: bool,
    port: u16,
    transport: &str,
) {
    let labels = [
        ("kagenti.io/type", "tool"),
        ("protocol.kagenti.io/mcp", ""),
        ("kagenti.io/transport", transport),
        ("kagenti.io/framework", "fastmcp"),
    ];
    w.workload(
        &r::STATEFULSETS,
        ns,
        name,
        1,
        &labels,
        &[],
        vec![container(
            "mcp",
            &format!("ghcr.io/kagenti/agent-examples/{name}:0.3.0"),
            port,
            0,
            &[env("MCP_TRANSPORT", "streamable-http")],
        )],
        vec![],
        15 * 86400,
    );
    w.service(
        ns,
        &format!("{name}-mcp"),
        name,
        &[("http", 8000, 8000)],
        &[("kagenti.io/type", "tool"), ("protocol.kagenti.io/mcp", "")],
    );
    let mut spec = json!({"targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": format!("{name}-route")},
                          "prefix": format!("{}_", name.trim_end_matches("-tool")), "path": "/mcp", "state": state});
    if credential {
        spec["credentialRef"] = json!({"name": format!("{name}-credentials"), "key": "token"});
    }
    let (ok, reason) = match state {
        "Disabled" => (false, "Disabled"),
        _ => (true, "Ready"),
    };
    w.put(
        &r::MCP_SERVER_REGISTRATIONS,
        json!({"apiVersion": "mcp.kuadrant.io/v1", "kind": "MCPServerRegistration",
               "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(15 * 86400)},
               "spec": spec,
               "status": {"conditions": [{"type": "Ready", "status": if ok { "True" } else { "False" }, "reason": reason,
                                          "message": if ok { "server validated" } else { "registration disabled" }}]}}),
    );
}

fn build(w: &mut Workloads<'_>, ns: &str, name: &str, outcomes: &[Option<&str>]) {
    w.put(
        &r::BUILDS,
        json!({"apiVersion": "shipwright.io/v1beta1", "kind": "Build",
               "metadata": {"name": name, "namespace": ns, "labels": {"kagenti.io/type": "agent"}, "creationTimestamp": ago(20 * 86400)},
               "spec": {"source": {"type": "Git", "git": {"url": format!("https://github.com/kagenti/agent-examples"), "revision": "main"}, "contextDir": format!("a2a/{name}")},
                        "strategy": {"kind": "ClusterBuildStrategy", "name": "buildah"},
                        "output": {"image": format!("registry.cr-system.svc.cluster.local:5000/{name}:latest")},
                        "timeout": "15m", "retention": {"succeededLimit": 3, "failedLimit": 3}},
               "status": {"registered": "True", "reason": "Succeeded"}}),
    );
    for (i, outcome) in outcomes.iter().enumerate() {
        let age = (outcomes.len() - i) as i64 * 6 * 3600;
        let cond = match outcome {
            None => json!({"type": "Succeeded", "status": "Unknown", "reason": "Running"}),
            Some("ok") => json!({"type": "Succeeded", "status": "True", "reason": "Succeeded"}),
            Some(reason) => {
                json!({"type": "Succeeded", "status": "False", "reason": reason, "message": format!("build failed: {reason}")})
            }
        };
        let mut status = json!({"startTime": ago(age), "conditions": [cond]});
        if outcome.is_some() {
            status["completionTime"] = json!(ago(age - 180 - i as i64 * 20));
        }
        if let Some(reason) = outcome.filter(|o| *o != "ok") {
            status["failureDetails"] = json!({"reason": reason, "message": "remote repository unreachable or private"});
        }
        w.put(
            &r::BUILD_RUNS,
            json!({"apiVersion": "shipwright.io/v1beta1", "kind": "BuildRun",
                   "metadata": {"name": format!("{name}-run-{}", template_hash(&format!("{name}{i}"))[..5].to_string()), "namespace": ns,
                                "labels": {"kagenti.io/build-name": name, "kagenti.io/type": "agent"}, "creationTimestamp": ago(age)},
                   "spec": {"build": {"name": name}},
                   "status": status}),
        );
    }
}

fn agents(w: &mut Workloads<'_>, agents_per_cluster: usize) {
    let b = Brand::KAGENTI;
    // Platform components, as Kagenti's platform-status check looks for them.
    w.deployment(
        "kagenti-system",
        "kagenti-controller-manager",
        1,
        &[("control-plane", "controller-manager")],
        &[],
        container("manager", "ghcr.io/kagenti/kagenti-operator:v0.8.3", 8443, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "kagenti-system",
        "otel-collector",
        1,
        &[],
        &[],
        container("otel-collector", "otel/opentelemetry-collector-contrib:0.120.0", 8335, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "kagenti-system",
        "phoenix",
        1,
        &[],
        &[],
        container("phoenix", "arizephoenix/phoenix:8.0", 6006, 0, &[]),
        40 * 86400,
    );
    w.service("kagenti-system", "phoenix", "phoenix", &[("http", 6006, 6006)], &[]);
    w.deployment(
        "istio-system",
        "istiod",
        1,
        &[("app", "istiod")],
        &[],
        container("discovery", "docker.io/istio/pilot:1.27.1", 15010, 0, &[]),
        40 * 86400,
    );
    w.workload(
        &r::STATEFULSETS,
        "keycloak",
        "keycloak",
        1,
        &[("app", "keycloak")],
        &[],
        vec![container("keycloak", "quay.io/keycloak/keycloak:26.1", 8080, 0, &[])],
        vec![],
        40 * 86400,
    );
    w.deployment(
        "gateway-system",
        "mcp-gateway-istio",
        1,
        &[],
        &[],
        container("istio-proxy", "docker.io/istio/proxyv2:1.27.1", 8080, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "mcp-system",
        "mcp-broker-router",
        1,
        &[],
        &[],
        container("broker", "ghcr.io/kuadrant/mcp-gateway:v0.4.0", 8080, 0, &[]),
        40 * 86400,
    );

    agent(w, b, "team1", "weather-service", "langgraph", &["a2a"], 2, Provider::OpenAi, CardShape::V1, 14);
    agent(w, b, "team1", "currency-converter", "langgraph", &["a2a"], 1, Provider::Gemini, CardShape::Legacy, 21);
    agent_full(
        w,
        b,
        "team1",
        "claude-agent",
        "claude-agent-sdk",
        &["a2a", "mcp"],
        1,
        Provider::Anthropic,
        CardShape::V1,
        5,
        Condition::Healthy,
        false,
        false,
    );
    agent_full(
        w,
        b,
        "team2",
        "research-agent",
        "crewai",
        &["a2a"],
        2,
        Provider::OpenAi,
        CardShape::V1,
        30,
        Condition::Paused,
        true,
        true,
    );
    agent_full(
        w,
        b,
        "team2",
        "flaky-summarizer",
        "autogen",
        &["a2a"],
        1,
        Provider::Ollama,
        CardShape::Legacy,
        3,
        Condition::Failing,
        true,
        true,
    );
    for i in 5..agents_per_cluster {
        let provider = [Provider::OpenAi, Provider::Ollama, Provider::Anthropic, Provider::Gemini][i % 4];
        let shape = if i % 2 == 0 { CardShape::V1 } else { CardShape::Legacy };
        agent(
            w,
            b,
            "team2",
            &format!("agent-{i:03}"),
            ["langgraph", "crewai", "autogen"][i % 3],
            &["a2a"],
            1,
            provider,
            shape,
            (i % 40) as i64,
        );
    }
    tool(w, "team1", "weather-tool", "Enabled", false);
    tool(w, "team1", "github-tool", "Enabled", true);
    tool(w, "team2", "slack-tool", "Disabled", true);
    tool_on_port(w, "team2", "jira-tool", "Enabled", true, 8080, "streamable_http");
    tool_on_port(w, "team1", "notes-tool", "Enabled", false, 8000, "sse");
    // a tool that borrows an agent's ServiceAccount (and with it, that agent's Secrets access)
    w.with_sa(&r::STATEFULSETS, "team2", "slack-tool", "research-agent");
    // a declared agent-to-agent call: weather-service asks currency-converter over A2A
    w.add_env(
        &r::DEPLOYMENTS,
        "team1",
        "weather-service",
        env("CURRENCY_AGENT_URL", "http://currency-converter.team1.svc.cluster.local:8080"),
    );
    // what AuthBridge sees: calls approved and denied, in and out
    {
        use super::endpoints::authbridge::Call;
        let call = |agent: &str, outbound: bool, peer: &str, approved: bool, rate: f64| Call {
            namespace: "team1".into(),
            agent: agent.into(),
            outbound,
            peer: peer.into(),
            approved,
            rate,
        };
        let mut d = w.cluster.dynamics.lock().expect("dynamics");
        d.bridge_calls = vec![
            call("weather-service", true, "weather-tool-mcp.team1.svc.cluster.local:8000", true, 2.0),
            call("weather-service", true, "currency-converter.team1.svc.cluster.local:8080", true, 0.5),
            call("currency-converter", false, "spiffe://cluster.local/ns/team1/sa/weather-service", true, 0.5),
            call("currency-converter", true, "api.exchangerate.host", true, 0.4),
            call("currency-converter", true, "github-tool-mcp.team1.svc.cluster.local:8000", false, 0.2),
            // claude-agent has no AuthBridge of its own: only the callee sees it (default account)
            call("weather-service", false, "spiffe://cluster.local/ns/team1/sa/default", true, 0.3),
        ];
    }
    // a broad Role: every verb on pods and services
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "currency-converter", "namespace": "team1"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["*"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "currency-converter", "namespace": "team1"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "currency-converter"},
        "subjects": [{"kind": "ServiceAccount", "name": "currency-converter", "namespace": "team1"}]}),
    );

    // An HPA on an agent: a toggle must warn that the autoscaler will fight it.
    w.put(
        &r::HPAS,
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "weather-service", "namespace": "team1"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "weather-service"},
                        "minReplicas": 1, "maxReplicas": 4,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
               "status": {"currentReplicas": 2, "desiredReplicas": 2}}),
    );
    // RBAC: narrow roles, one with secrets access, and a legacy ClusterRoleBinding left behind.
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "weather-service", "namespace": "team1"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "weather-service", "namespace": "team1"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "weather-service"},
        "subjects": [{"kind": "ServiceAccount", "name": "weather-service", "namespace": "team1"}]}),
    );
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "research-agent", "namespace": "team2"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "research-agent", "namespace": "team2"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "research-agent"},
        "subjects": [{"kind": "ServiceAccount", "name": "research-agent", "namespace": "team2"}]}),
    );
    w.put(&r::CLUSTER_ROLES, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kagenti-component-github-tool", "labels": {"app.kubernetes.io/part-of": "kagenti-operator"}},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}));
    w.put(&r::CLUSTER_ROLE_BINDINGS, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "kagenti-component-github-tool", "labels": {"app.kubernetes.io/part-of": "kagenti-operator"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kagenti-component-github-tool"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team1"}]}));

    build(w, "team1", "weather-service", &[Some("ok"), Some("ok"), Some("ok")]);
    build(
        w,
        "team2",
        "flaky-summarizer",
        &[Some("ok"), Some("GitRemotePrivate"), Some("BuildRunTimeout"), Some("GitRemotePrivate")],
    );
    build(w, "team1", "claude-agent", &[Some("ok"), None]);
}

fn crash_first_pod(cluster: &SimCluster, store: &mut ObjectStore, ns: &str, workload: &str) {
    let pods = idx(cluster, &r::PODS);
    let first = store
        .list(pods, Some(ns))
        .into_iter()
        .find(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(workload));
    if let Some(p) = first {
        let _ = store.modify(pods, ns, &p.name, |o| {
            let main = o["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
            if let Some(statuses) = o["status"]["containerStatuses"].as_array_mut() {
                for s in statuses.iter_mut().filter(|s| s["name"] == main.as_str()) {
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["restartCount"] = json!(7);
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off 5m0s restarting failed container={main} pod={}", p.name)}});
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ago(400), "finishedAt": ago(380)}});
                }
            }
            // not Ready since its first back-off, an hour ago (its BackOff event's firstTimestamp)
            set_pod_ready_since(o, false, 3600);
        });
        // a pod in a crash loop already has its BackOff event
        let container = p.value()["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
        backoff_event(cluster, store, ns, &p.name, &p.node_name, &container, 7);
    }
}

/// The kubelet's BackOff event for a crash-looping container (count = restarts).
fn backoff_event(
    cluster: &SimCluster,
    store: &mut ObjectStore,
    ns: &str,
    pod: &str,
    node: &str,
    container: &str,
    count: i64,
) {
    let events = idx(cluster, &r::EVENTS);
    let name = format!("{pod}.{:x}", fnv(pod) & 0xffff_ffff);
    store.put(
        events,
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(3600)},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1", "fieldPath": format!("spec.containers{{{container}}}")},
            "reason": "BackOff", "type": "Warning", "count": count,
            "message": format!("Back-off restarting failed container {container} in pod {pod}"),
            "source": {"component": "kubelet", "host": node},
            "firstTimestamp": ago(3600), "lastTimestamp": ago(0)
        }),
    );
}

fn failed_scheduling_event(cluster: &SimCluster, store: &mut ObjectStore, ns: &str, pod: &str, message: &str) {
    store.put(
        idx(cluster, &r::EVENTS),
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{pod}.{:x}", fnv(pod) & 0xffff_fff0), "namespace": ns, "creationTimestamp": ago(600)},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1"},
            "reason": "FailedScheduling", "type": "Warning", "count": 1, "message": message,
            "source": {"component": "default-scheduler"}, "reportingComponent": "default-scheduler",
            "firstTimestamp": ago(600), "lastTimestamp": ago(60)
        }),
    );
}

/// Ready and ContainersReady as the kubelet sets them: `lastTransitionTime` moves only when
/// the status flips (docs/upstream/kubernetes-condition-times.md).
fn set_pod_ready(o: &mut Value, ready: bool) {
    set_pod_ready_since(o, ready, 0);
}

/// The same, as if the flip happened `ago_s` seconds ago (the seeded scenario's history).
fn set_pod_ready_since(o: &mut Value, ready: bool, ago_s: i64) {
    let status = if ready { "True" } else { "False" };
    if let Some(conds) = o["status"]["conditions"].as_array_mut() {
        for c in conds.iter_mut().filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady") {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(ago(ago_s));
            }
            c["status"] = json!(status);
        }
    }
}

/// The controller: after a workload's spec changes, pods follow (ReplicaSet and pods for a
/// Deployment, ordinal pods for a StatefulSet), and the workload's status is recomputed.
pub fn reconcile(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    if def.kind == "Deployment" || def.kind == "StatefulSet" {
        reconcile_inner(cluster, store, def, ns, name, false);
    }
}

fn reconcile_inner(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str, instant: bool) {
    let res = idx(cluster, def);
    let Some(w) = store.get(res, ns, name) else {
        return;
    };
    let w = w.value();
    let want = w["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
    let pods_idx = idx(cluster, &r::PODS);
    let is_sts = def.kind == "StatefulSet";
    let hash = template_hash(&format!("{ns}/{name}"));
    let owner_name = if is_sts { name.to_string() } else { format!("{name}-{hash}") };
    if !is_sts && store.get(idx(cluster, &r::REPLICASETS), ns, &owner_name).is_none() {
        let mut rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": owner_name, "namespace": ns, "labels": w["spec"]["template"]["metadata"]["labels"].clone(),
                         "creationTimestamp": w["metadata"]["creationTimestamp"].clone(),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                              "uid": w["metadata"]["uid"].clone(), "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"replicas": want, "selector": w["spec"]["selector"].clone(), "template": w["spec"]["template"].clone()},
            "status": {"replicas": 0}
        });
        rs["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        store.put(idx(cluster, &r::REPLICASETS), rs);
    }
    let mut mine: Vec<_> = store
        .list_prefix(pods_idx, ns, &format!("{owner_name}-"))
        .into_iter()
        .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
        .collect();
    mine.sort_by(|a, b| a.name.cmp(&b.name));
    let owner_uid = if is_sts {
        w["metadata"]["uid"].clone()
    } else {
        store
            .get(idx(cluster, &r::REPLICASETS), ns, &owner_name)
            .map(|o| o.value()["metadata"]["uid"].clone())
            .unwrap_or(Value::Null)
    };
    // scale down: the newest go first (StatefulSets: the highest ordinal)
    while mine.len() > want {
        let victim = mine.pop().expect("non-empty");
        cluster.release(&victim.node_name, pod_gpus(&victim.value()["spec"]));
        let _ = store.delete(pods_idx, ns, &victim.name);
        cluster.dynamics.lock().expect("dynamics").engines.remove(&victim.name);
    }
    let mut ordinal = 0;
    while mine.len() < want {
        let pod_name = if is_sts {
            while mine.iter().any(|p| p.name == format!("{name}-{ordinal}")) {
                ordinal += 1;
            }
            format!("{name}-{ordinal}")
        } else {
            let suffix = cluster.rng.lock().expect("rng").suffix(5);
            format!("{owner_name}-{suffix}")
        };
        let pod = new_pod(cluster, &w, &pod_name, ns, is_sts, &owner_name, &owner_uid, &hash, instant);
        // from the value in hand: parsing the stored bytes back costs a tenth of startup
        register_engine(cluster, &pod);
        if let Some(msg) =
            pod["status"]["conditions"][0]["message"].as_str().filter(|_| pod["spec"]["nodeName"].is_null())
        {
            failed_scheduling_event(cluster, store, ns, &pod_name, msg);
        }
        let stored = store.create(pods_idx, pod).expect("fresh pod name");
        mine.push(stored);
    }
    if !is_sts {
        let _ = store.modify(idx(cluster, &r::REPLICASETS), ns, &owner_name, |rs| {
            rs["spec"]["replicas"] = json!(want);
        });
    }
    refresh_status(cluster, store, def, ns, name);
}

/// A Deployment or StatefulSet deleted with what it owns (its pods go first, their GPUs back
/// to the nodes; then its ReplicaSet), as the garbage collector does.
pub fn remove_workload(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    let res = idx(cluster, def);
    if store.modify(res, ns, name, |o| o["spec"]["replicas"] = json!(0)).is_err() {
        return;
    }
    reconcile_inner(cluster, store, def, ns, name, true);
    if def.kind == "Deployment" {
        let rs = format!("{name}-{}", template_hash(&format!("{ns}/{name}")));
        let _ = store.delete(idx(cluster, &r::REPLICASETS), ns, &rs);
    }
    let _ = store.delete(res, ns, name);
}

fn refresh_status(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    let res = idx(cluster, def);
    let pods_idx = idx(cluster, &r::PODS);
    // pods are named after their workload (`<deploy>-<hash>-xxxxx`, `<sts>-N`)
    let mine: Vec<_> = store
        .list_prefix(pods_idx, ns, &format!("{name}-"))
        .into_iter()
        .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
        .collect();
    let total = mine.len() as i64;
    let ready = mine.iter().filter(|p| p.ready).count() as i64;
    let Some(cur) = store.get(res, ns, name) else {
        return;
    };
    let cur = cur.value();
    let want = cur["spec"]["replicas"].as_i64().unwrap_or(1);
    let available = if want == 0 { true } else { ready >= 1 };
    let status = json!({
        "observedGeneration": cur["metadata"]["generation"].clone(),
        "replicas": total, "readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": total,
        "conditions": [{"type": "Available", "status": if available { "True" } else { "False" },
                        "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]
    });
    // Only a real change is written, so an idle fleet makes no watch events.
    let same = ["replicas", "readyReplicas", "availableReplicas", "updatedReplicas"]
        .iter()
        .all(|k| cur["status"][k] == status[k])
        && cur["status"]["conditions"][0]["status"] == status["conditions"][0]["status"];
    if !same {
        let _ = store.modify(res, ns, name, |o| o["status"] = status);
    }
}

#[allow(clippy::too_many_arguments)]
fn new_pod(
    cluster: &SimCluster,
    w: &Value,
    pod_name: &str,
    ns: &str,
    is_sts: bool,
    owner: &str,
    owner_uid: &Value,
    hash: &str,
    instant: bool,
) -> Value {
    let template = &w["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    if is_sts {
        labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
        labels["controller-revision-hash"] = json!(format!("{owner}-{}", &hash[..8]));
    } else {
        labels["pod-template-hash"] = json!(hash);
    }
    let mut spec = template["spec"].clone();
    spec["schedulerName"] = json!("default-scheduler");
    let gpus = pod_gpus(&spec);
    // GPU pods carry the team that pays for them (OpenCost's `team` label)
    if gpus > 0 && labels.get("team").is_none() {
        labels["team"] = json!(team_of(ns));
    }
    let created =
        w["metadata"]["creationTimestamp"].as_str().map(str::to_string).filter(|_| instant).unwrap_or_else(|| ago(0));
    let meta = json!({"name": pod_name, "namespace": ns, "labels": labels, "creationTimestamp": created,
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": if is_sts { "StatefulSet" } else { "ReplicaSet" },
                                           "name": owner, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]});
    let Some((node, host_ip)) = cluster.place(gpus) else {
        // no node has the GPUs: Pending, unscheduled, as the scheduler leaves it
        return json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending", "qosClass": "Burstable",
                       "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                       "message": cluster.unschedulable_message(gpus), "lastTransitionTime": created}]}
        });
    };
    spec["nodeName"] = json!(node);
    let pod_ip = cluster.next_pod_ip();
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let mut s = json!({"name": c["name"], "image": c["image"], "imageID": format!("{}@sha256:{:064x}", c["image"].as_str().unwrap_or(""), fnv(c["image"].as_str().unwrap_or("")) as u128),
                "restartCount": 0, "ready": instant, "started": instant});
            s["state"] = if instant {
                json!({"running": {"startedAt": ago(3600)}})
            } else {
                json!({"waiting": {"reason": "ContainerCreating"}})
            };
            if instant {
                s["containerID"] = json!(format!("containerd://{:016x}", fnv(pod_name)));
            }
            s
        })
        .collect();
    let init_statuses: Vec<Value> = spec["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "restartCount": 0, "ready": instant, "started": instant,
                        "state": {"running": {"startedAt": ago(3600)}}})
        })
        .collect();
    let flag = if instant { "True" } else { "False" };
    let mut status = json!({
        "phase": if instant { "Running" } else { "Pending" },
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": created},
                       {"type": "Initialized", "status": "True", "lastTransitionTime": created},
                       {"type": "ContainersReady", "status": flag, "lastTransitionTime": created},
                       {"type": "Ready", "status": flag, "lastTransitionTime": created}],
        "hostIP": host_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": created,
        "containerStatuses": containers, "qosClass": "Burstable"
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status})
}

/// The team label of the GPU pods of a namespace.
fn team_of(ns: &str) -> &'static str {
    match ns {
        "ml-jobs" => "research",
        _ => "inference",
    }
}

/// The GPUs a pod spec asks for.
pub(super) fn pod_gpus(spec: &Value) -> i64 {
    spec["containers"]
        .as_array()
        .map(|cs| {
            cs.iter().filter_map(|c| c["resources"]["requests"]["nvidia.com/gpu"].as_str()?.parse::<i64>().ok()).sum()
        })
        .unwrap_or(0)
}

/// Pending pods the scheduler could not place get a node when GPUs came free.
fn schedule_waiting(cluster: &SimCluster, store: &mut ObjectStore, waiting: Vec<Arc<super::store::Stored>>) {
    let pods = idx(cluster, &r::PODS);
    for p in waiting {
        let v = p.value();
        let Some((node, host_ip)) = cluster.place(pod_gpus(&v["spec"])) else { continue };
        let pod_ip = cluster.next_pod_ip();
        let mut placed = None;
        let _ = store.modify(pods, &p.namespace, &p.name, |o| {
            o["spec"]["nodeName"] = json!(node);
            let containers: Vec<Value> = o["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    json!({"name": c["name"], "image": c["image"], "restartCount": 0, "ready": false, "started": false,
                                "state": {"waiting": {"reason": "ContainerCreating"}}})
                })
                .collect();
            o["status"] = json!({"phase": "Pending", "hostIP": host_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                "startTime": ago(0), "containerStatuses": containers, "qosClass": "Burstable",
                "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": ago(0)},
                               {"type": "Initialized", "status": "True", "lastTransitionTime": ago(0)},
                               {"type": "ContainersReady", "status": "False", "lastTransitionTime": ago(0)},
                               {"type": "Ready", "status": "False", "lastTransitionTime": ago(0)}]});
            placed = Some(o.clone());
        });
        if let Some(pod) = placed {
            register_engine(cluster, &pod);
        }
    }
}

/// A pod that serves a model gets an engine whose metrics the proxy serves.
fn register_engine(cluster: &SimCluster, pod: &Value) {
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        return;
    }
    let labels = &pod["metadata"]["labels"];
    let mut d = cluster.dynamics.lock().expect("dynamics");
    let pool =
        d.pools.iter().find(|(_, sel, _)| sel.iter().all(|(k, v)| labels[k].as_str() == Some(v.as_str()))).cloned();
    let Some((pool, _, model)) = pool else { return };
    let role = match labels["llm-d.ai/role"].as_str() {
        Some("prefill") => Role::Prefill,
        Some("decode") => Role::Decode,
        _ => Role::Aggregated,
    };
    let port = pod["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "vllm"))
        .and_then(|c| c["ports"][0]["containerPort"].as_u64())
        .unwrap_or(8000) as u16;
    let capacity = match role {
        Role::Prefill => 6.0,
        Role::Decode => 4.0,
        Role::Aggregated => 5.0,
    };
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let mut state = EngineState::new(&model, role, d.generation, capacity, 1_763_000_000.0);
    // the second decode pod of the named workload has a wedged metrics exporter
    if let Some(prefix) = &d.hang_prefix {
        let siblings = d.engines.keys().filter(|k| k.starts_with(prefix.as_str())).count();
        if name.starts_with(prefix.as_str()) && siblings == 1 {
            state.hangs = true;
        }
    }
    d.engines.insert(name, EngineEntry { state, metrics_port: port, pool });
}

/// One step of the world: load moves, engines count tokens, pods start, a pod crash-loops,
/// random pods restart at the churn rate.
pub fn tick(cluster: &Arc<SimCluster>, dt: f64, churn_per_sec: f64) {
    let (crashing, churn) = {
        let mut d = cluster.dynamics.lock().expect("dynamics");
        // counters grow with wall time: what the pace produced since the last tick (a late
        // tick counts its real interval, so a scrape between ticks never sees a step back);
        // held steady, the pace goes on and nothing else moves
        let now = std::time::Instant::now();
        let counted = d.last_tick.map(|t| now.duration_since(t).as_secs_f64()).unwrap_or(dt);
        let steady = cluster.faults.steady();
        if !steady {
            d.last_tick = Some(now);
            d.t += dt;
        }
        let load = d.load();
        let Dynamics { engines, epps, rng, .. } = &mut *d;
        let kv_surge = cluster.faults.incident(Incident::KvSurge);
        let ttft_spike = cluster.faults.incident(Incident::TtftSpike);
        for e in engines.values_mut().filter(|_| !steady) {
            e.state.advance(counted, load, rng);
            if kv_surge && e.state.role != Role::Prefill {
                e.state.kv = 0.96;
            }
            if ttft_spike {
                e.state.pace.ttft.value = 35.0;
                e.state.pace.e2e.value += 35.0;
            }
        }
        let error_burst = cluster.faults.incident(Incident::ErrorBurst);
        for (pool, epp) in epps.iter_mut().filter(|_| !steady) {
            let members: Vec<(String, f64, bool)> = engines
                .iter()
                .filter(|(_, e)| &e.pool == pool)
                .map(|(name, e)| (name.clone(), e.state.rps, e.state.role == Role::Prefill))
                .collect();
            epp.integrate(counted);
            epp.set_pace(&members);
            if error_burst {
                epp.pace.errors = epp.pace.requests * 0.25;
            }
            let states: Vec<&EngineEntry> = engines.values().filter(|e| &e.pool == pool).collect();
            let n = states.len().max(1) as f64;
            epp.avg_kv = states.iter().map(|e| e.state.kv).sum::<f64>() / n;
            epp.avg_queue = states.iter().map(|e| e.state.waiting).sum::<f64>() / n;
            epp.ready_endpoints = states.len();
        }
        d.churn_debt += churn_per_sec * dt;
        let churn = d.churn_debt.floor() as usize;
        d.churn_debt -= churn as f64;
        let restart_now = (d.t / dt) as u64 % 15 == 0;
        (if restart_now { d.crashing.clone() } else { Vec::new() }, churn)
    };
    let mut store = cluster.store.write().expect("store lock");
    let pods = idx(cluster, &r::PODS);
    // Pending pods start.
    let (pending, unscheduled): (Vec<_>, Vec<_>) =
        store.list(pods, None).into_iter().filter(|p| p.phase == "Pending").partition(|p| !p.node_name.is_empty());
    let mut touched: Vec<(String, String)> = Vec::new();
    for p in pending {
        let _ = store.modify(pods, &p.namespace, &p.name, |o| {
            o["status"]["phase"] = json!("Running");
            if let Some(statuses) = o["status"]["containerStatuses"].as_array_mut() {
                for s in statuses.iter_mut() {
                    s["ready"] = json!(true);
                    s["started"] = json!(true);
                    s["state"] = json!({"running": {"startedAt": ago(0)}});
                }
            }
            set_pod_ready(o, true);
        });
        if let Some(w) = p.labels.get("app.kubernetes.io/name") {
            touched.push((p.namespace.clone(), w.clone()));
        }
    }
    // GPUs freed since: the scheduler places what waited (it starts on the next tick).
    schedule_waiting(cluster, &mut store, unscheduled);
    // The crash loop goes round: another restart, another BackOff event.
    for (ns, workload) in crashing {
        let first =
            store.list(pods, Some(&ns)).into_iter().find(|p| p.labels.get("app.kubernetes.io/name") == Some(&workload));
        if let Some(p) = first {
            let mut restarts = 0;
            let _ = store.modify(pods, &ns, &p.name, |o| {
                if let Some(s) = o["status"]["containerStatuses"].as_array_mut().and_then(|s| s.first_mut()) {
                    restarts = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(restarts);
                    s["ready"] = json!(false);
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}});
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(0)}});
                }
                set_pod_ready(o, false);
            });
            let container = p.value()["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
            backoff_event(cluster, &mut store, &ns, &p.name, &p.node_name, &container, restarts);
        }
    }
    // The WVA at its max while the load wants more (an incident), or within range again.
    let wants_more = cluster.faults.incident(Incident::WvaAtMax);
    let hpas = idx(cluster, &r::HPAS);
    for h in store.list(hpas, None) {
        let v = h.value();
        if v["metadata"]["annotations"]["llm-d.ai/managed"] != "true" {
            continue;
        }
        let limited = v["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "ScalingLimited"))
            .is_some_and(|c| c["status"] == "True");
        if limited != wants_more {
            let _ = store.modify(hpas, &h.namespace, &h.name, |o| o["status"] = hpa_status(wants_more));
        }
    }
    // Churn: restarts of random filler pods, so watchers see a steady stream of changes.
    if churn > 0 {
        let fillers = store.list(pods, Some("workloads"));
        let mut rng = cluster.rng.lock().expect("rng");
        for _ in 0..churn.min(fillers.len()) {
            let p = &fillers[rng.below(fillers.len())];
            let _ = store.modify(pods, &p.namespace, &p.name, |o| {
                if let Some(s) = o["status"]["containerStatuses"].as_array_mut().and_then(|s| s.first_mut()) {
                    let n = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(n);
                    s["state"] = json!({"running": {"startedAt": ago(0)}});
                }
            });
        }
    }
    // AuthBridge sidecars count the calls their agents make and receive.
    {
        let mut d = cluster.dynamics.lock().expect("dynamics");
        let calls = d.bridge_calls.clone();
        for c in &calls {
            let running: Vec<String> = store
                .list(pods, Some(&c.namespace))
                .into_iter()
                .filter(|p| p.phase == "Running" && p.labels.get("app.kubernetes.io/name") == Some(&c.agent))
                .map(|p| p.name.clone())
                .collect();
            let n = running.len().max(1) as f64;
            for pod in running {
                d.bridge.entry(pod).or_default().add(c, c.rate * dt / n);
            }
        }
    }
    touched.sort();
    touched.dedup();
    for (ns, name) in touched {
        for def in [r::DEPLOYMENTS, r::STATEFULSETS] {
            if store.get(idx(cluster, &def), &ns, &name).is_some() {
                refresh_status(cluster, &mut store, &def, &ns, &name);
            }
        }
    }
}
