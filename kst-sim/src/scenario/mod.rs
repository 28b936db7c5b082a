//! The simulated fleet: cluster shapes (a GPU prefill cluster, a decode cluster, an agent
//! cluster) and what each holds (here: shapes, nodes, `populate`), built by `workloads.rs`
//! (the builder and shared parts), `llmd.rs` (pools, servers, jobs) and `agents.rs` (Kagenti);
//! `pods.rs` keeps pods in line with their workloads, `dynamics.rs` moves the world (load
//! waves, restarts, a crash loop, churn).

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
use crate::util::{fnv, rfc3339};

mod agents;
mod dynamics;
mod llmd;
mod pods;
mod workloads;

use agents::*;
pub use dynamics::*;
pub use llmd::*;
pub use pods::*;
use workloads::*;

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

    /// Whether the cluster runs metrics-server (`metrics.k8s.io`): all but the decode clusters,
    /// so kst's pod lists meet both a cluster with CPU/MEM and one without.
    pub fn runs_metrics_server(self) -> bool {
        self != Shape::GpuDecode
    }

    pub fn extra_resources(self) -> Vec<ResDef> {
        let mut extra = self.kinds();
        if self.runs_metrics_server() {
            extra.extend([crate::metrics_server::POD_METRICS, crate::metrics_server::NODE_METRICS]);
        }
        extra
    }

    fn kinds(self) -> Vec<ResDef> {
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

/// The CustomResourceDefinitions a cluster serves, as objects (kubectl and kst discover them).
pub fn put_crds(cluster: &SimCluster, store: &mut ObjectStore) {
    for crd in cluster.registry.crd_objects() {
        store.put(idx(cluster, &r::CRDS), crd);
    }
}

/// Fills one workload cluster with the objects of its shape (a KubeStellar control plane is
/// filled by `kubestellar::populate`).
pub fn populate(p: Populate<'_>) {
    let Populate { cluster, store, pods_per_cluster, agents_per_cluster } = p;
    let shape = cluster.shape;
    let ci = cluster.index;
    put_crds(cluster, store);
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
