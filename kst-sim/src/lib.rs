//! The fleet simulator: N Kubernetes API servers on loopback, each with its own objects,
//! faults and living data. `kst sim` runs it standalone; `kst demo`, the tests and the
//! benchmarks start it in-process.

pub mod admin;
pub mod api;
pub mod auth;
pub mod endpoints;
pub mod exec;
/// Example llm-d-benchmark reports (v0.2 YAML, v0.2.1 JSON) for the demo.
pub const EXAMPLE_REPORTS: &[(&str, &str)] = &[
    ("pd-disaggregation-h100-v0_2.yaml", include_str!("data/reports/pd-disaggregation-h100-v0_2.yaml")),
    ("optimized-baseline-h100-v0_2_1.json", include_str!("data/reports/optimized-baseline-h100-v0_2_1.json")),
];

pub mod faults;
pub mod github;
pub mod http;
pub mod kubestellar;
pub mod logs;
pub mod metrics_server;
pub mod patch;
pub mod portforward;
pub mod protobuf;
pub mod resources;
pub mod rng;
pub mod scenario;
pub mod select;
pub mod server;
pub mod spdy;
pub mod store;
pub mod table;
pub mod tls;
pub mod util;
pub mod websocket;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use auth::User;
use faults::Faults;
use resources::Registry;
use rng::Rng;
use scenario::{Dynamics, Shape};
use store::ObjectStore;

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub clusters: usize,
    pub seed: u64,
    pub pods_per_cluster: usize,
    pub agents_per_cluster: usize,
    pub plain_http: bool,
    /// First port; cluster i listens on `port_base + i`. None: ephemeral ports.
    pub port_base: Option<u16>,
    /// How often the world moves.
    pub tick: Duration,
    /// Filler pod restarts per second per cluster, so watches see steady churn.
    pub churn_per_sec: f64,
    /// Watch history kept per cluster before older resource versions answer 410.
    pub history: usize,
    pub bookmark_interval: Duration,
    pub log_interval: Duration,
    /// Run the incidents of [`faults::TIMELINE`] (the demo does; tests switch them).
    pub incident_timeline: bool,
    /// Add KubeStellar's control planes: a KubeFlex hosting cluster, an ITS and a WDS whose
    /// policies place the other clusters' workloads (see `sim/kubestellar/`).
    pub kubestellar: bool,
    /// Extra BindingPolicies and WDS objects, for scale (policy i binds the objects labelled
    /// `bulk-group=i` to every edge cluster).
    pub bulk_policies: usize,
    pub bulk_objects: usize,
    /// ManagedClusters on the ITS without an API server behind them (a large fleet's hub).
    pub managed_clusters: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            clusters: 3,
            seed: 42,
            pods_per_cluster: 60,
            agents_per_cluster: 8,
            plain_http: false,
            port_base: None,
            tick: Duration::from_secs(1),
            churn_per_sec: 0.5,
            history: 5000,
            bookmark_interval: Duration::from_secs(30),
            log_interval: Duration::from_millis(500),
            incident_timeline: false,
            kubestellar: false,
            bulk_policies: 0,
            managed_clusters: 0,
            bulk_objects: 0,
        }
    }
}

/// One simulated cluster. Shared by its server, its ticker and the admin endpoint; its
/// objects sit behind one lock, as etcd serialises writes.
pub struct SimCluster {
    pub name: String,
    pub index: usize,
    pub shape: Shape,
    pub kube_version: String,
    pub registry: Registry,
    pub store: RwLock<ObjectStore>,
    pub faults: Faults,
    pub users: Vec<User>,
    pub dynamics: Mutex<Dynamics>,
    pub rng: Mutex<Rng>,
    /// (node name, free GPUs, host IP), for placing new pods.
    pub nodes: Mutex<Vec<(String, i64, String)>>,
    pub open_watches: AtomicUsize,
    /// Requests served, by "verb resource" ("list pods", "watch trainjobs", "get pods").
    pub requests: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    pub addr: OnceLock<SocketAddr>,
    pub scheme: &'static str,
    pub bookmark_interval: Duration,
    pub log_interval: Duration,
    started: Instant,
    counter: AtomicU64,
}

impl SimCluster {
    fn new(index: usize, opts: &SimOptions) -> SimCluster {
        SimCluster::with_shape(index, Shape::context_name(index), Shape::for_index(index), opts)
    }

    fn with_shape(index: usize, name: String, shape: Shape, opts: &SimOptions) -> SimCluster {
        let registry = Registry::new(&shape.extra_resources());
        let seed = opts.seed.wrapping_mul(1_000_003).wrapping_add(index as u64);
        let secret = Rng::new(seed ^ 0x5eed).next_u64();
        let store = ObjectStore::new(registry.defs.len(), opts.history, seed);
        SimCluster {
            kube_version: format!("v1.{}.{}", 31 + index % 3, 2 + index % 5),
            users: vec![User::admin(&name, secret), User::viewer(&name, secret)],
            registry,
            store: RwLock::new(store),
            faults: Faults::default(),
            dynamics: Mutex::new(Dynamics::new(seed, shape)),
            rng: Mutex::new(Rng::new(seed ^ 0xabcdef)),
            nodes: Mutex::new(Vec::new()),
            open_watches: AtomicUsize::new(0),
            requests: Default::default(),
            addr: OnceLock::new(),
            scheme: if opts.plain_http { "http" } else { "https" },
            bookmark_interval: opts.bookmark_interval,
            log_interval: opts.log_interval,
            started: Instant::now(),
            counter: AtomicU64::new(0),
            name,
            index,
            shape,
        }
    }

    pub fn address(&self) -> String {
        self.addr.get().map(|a| a.to_string()).unwrap_or_default()
    }

    pub fn server_url(&self) -> String {
        format!("{}://{}", self.scheme, self.address())
    }

    /// How many Nodes the cluster holds now.
    pub fn node_count(&self) -> usize {
        let store = self.store.read().expect("store lock");
        self.registry.index_of(&resources::NODES).map_or(0, |i| store.list(i, None).len())
    }

    pub fn admin_token(&self) -> &str {
        &self.users[0].token
    }

    pub fn viewer_token(&self) -> &str {
        &self.users[1].token
    }

    pub fn version_info(&self) -> Value {
        let v = self.kube_version.trim_start_matches('v');
        let mut parts = v.split('.');
        json!({
            "major": parts.next().unwrap_or("1"), "minor": parts.next().unwrap_or("31"),
            "gitVersion": self.kube_version, "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2026-10-01T00:00:00Z", "goVersion": "go1.25.3",
            "compiler": "gc", "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "31"
        })
    }

    pub fn next_suffix(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut rng = Rng::new(n ^ (self.index as u64) << 32);
        rng.suffix(5)
    }

    /// Puts a pod on a node with room for its GPUs (any node when it needs none); None when
    /// no node has the GPUs free, as the scheduler leaves such a pod Pending.
    pub fn place(&self, gpus: i64) -> Option<(String, String)> {
        let mut nodes = self.nodes.lock().expect("nodes");
        let n = self.counter.fetch_add(1, Ordering::Relaxed) as usize;
        if nodes.is_empty() {
            return Some(("unscheduled".into(), "0.0.0.0".into()));
        }
        if gpus > 0 {
            let slot = nodes.iter_mut().find(|s| s.1 >= gpus)?;
            slot.1 -= gpus;
            return Some((slot.0.clone(), slot.2.clone()));
        }
        let cpu: Vec<usize> = (0..nodes.len()).filter(|i| nodes[*i].1 == 0).collect();
        let pick = if cpu.is_empty() { n % nodes.len() } else { cpu[n % cpu.len()] };
        Some((nodes[pick].0.clone(), nodes[pick].2.clone()))
    }

    /// A deleted pod's GPUs are free again on its node.
    pub fn release(&self, node: &str, gpus: i64) {
        if gpus > 0 {
            if let Some(slot) = self.nodes.lock().expect("nodes").iter_mut().find(|s| s.0 == node) {
                slot.1 += gpus;
            }
        }
    }

    /// The scheduler's message for a pod that asks for more GPUs than any node has free.
    pub fn unschedulable_message(&self, gpus: i64) -> String {
        let nodes = self.nodes.lock().expect("nodes");
        let short = nodes.iter().filter(|s| s.1 < gpus).count();
        format!(
            "0/{} nodes are available: {short} Insufficient nvidia.com/gpu. preemption: 0/{} nodes are available: {} No preemption victims found for incoming pod.",
            nodes.len(),
            nodes.len(),
            nodes.len()
        )
    }

    pub fn next_pod_ip(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("10.{}.{}.{}", 128 + self.index % 100, (n / 250) % 250, 2 + n % 250)
    }

    /// Log lines each container has written so far: grows with time, so follow sees news.
    pub fn log_lines_written(&self) -> u64 {
        200 + (self.started.elapsed().as_millis() / self.log_interval.as_millis().max(1)) as u64
    }

    pub fn count_request(&self, verb: &str, resource: &str) {
        *self.requests.lock().expect("requests lock").entry(format!("{verb} {resource}")).or_default() += 1;
    }

    /// How many requests of this verb and resource the cluster has served.
    pub fn requests(&self, verb: &str, resource: &str) -> u64 {
        self.requests.lock().expect("requests lock").get(&format!("{verb} {resource}")).copied().unwrap_or(0)
    }

    pub fn open_watches(&self) -> usize {
        self.open_watches.load(Ordering::Relaxed)
    }

    /// Adds custom resources with missing and odd fields, as a half-upgraded CRD leaves behind.
    pub fn inject_malformed(&self) {
        let mut store = self.store.write().expect("store lock");
        let odd: &[(&resources::ResDef, Value)] = &[
            (
                &resources::INFERENCE_POOLS,
                json!({"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
                       "metadata": {"name": "broken-pool", "namespace": "llm-d"},
                       "spec": {"selector": "not-a-map", "targetPorts": "eighty", "endpointPickerRef": null}}),
            ),
            (
                &resources::INFERENCE_POOLS_LEGACY,
                json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferencePool",
                       "metadata": {"name": "broken-pool", "namespace": "llm-d"}, "spec": 17}),
            ),
            (
                &resources::AGENT_RUNTIMES,
                json!({"apiVersion": "agent.kagenti.dev/v1alpha1", "kind": "AgentRuntime",
                       "metadata": {"name": "broken-runtime", "namespace": "team1"},
                       "spec": {"targetRef": {"kind": 42}}, "status": {"conditions": "Ready"}}),
            ),
            (
                &resources::NODES,
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("{}-odd-node", self.name)},
                       "status": {"capacity": {"nvidia.com/gpu": "lots"}, "allocatable": {"nvidia.com/gpu": -3}, "conditions": "yes"}}),
            ),
        ];
        for (def, obj) in odd {
            if let Some(i) = self.registry.index_of(def) {
                store.put(i, obj.clone());
            }
        }
    }
}

/// A running simulated fleet. Dropping it (or `shutdown`) stops every server and ticker.
pub struct SimFleet {
    pub clusters: Vec<Arc<SimCluster>>,
    pub ca_pem: Option<String>,
    pub admin_addr: Option<SocketAddr>,
    /// The ITS's OCM cluster-proxy user server (with KubeStellar): `https://addr/<cluster>/...`.
    pub cluster_proxy: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimFleet {
    pub async fn start(opts: SimOptions) -> std::io::Result<SimFleet> {
        let ca = if opts.plain_http { None } else { Some(tls::make_ca().map_err(std::io::Error::other)?) };
        let mut clusters: Vec<Arc<SimCluster>> =
            (0..opts.clusters).map(|i| Arc::new(SimCluster::new(i, &opts))).collect();
        if opts.kubestellar {
            let n = opts.clusters;
            for (i, (name, shape)) in
                [(kubestellar::HOSTING, Shape::Hosting), (kubestellar::ITS, Shape::Its), (kubestellar::WDS, Shape::Wds)]
                    .into_iter()
                    .enumerate()
            {
                clusters.push(Arc::new(SimCluster::with_shape(n + i, name.to_string(), shape, &opts)));
            }
        }
        // Building the objects is CPU work; spread it over the cores.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(clusters.len().max(1));
        std::thread::scope(|s| {
            for chunk in clusters.chunks(clusters.len().div_ceil(threads).max(1)) {
                let opts = &opts;
                s.spawn(move || {
                    for c in chunk {
                        let mut store = c.store.write().expect("store lock");
                        if c.shape.control_plane() {
                            scenario::put_crds(c, &mut store);
                            kubestellar::populate(c, &mut store);
                        } else {
                            scenario::populate(scenario::Populate {
                                cluster: c,
                                store: &mut store,
                                pods_per_cluster: opts.pods_per_cluster,
                                agents_per_cluster: opts.agents_per_cluster,
                            });
                        }
                    }
                });
            }
        });
        let (shutdown, _) = watch::channel(false);
        let mut tasks = Vec::new();
        if opts.kubestellar {
            kubestellar::seed(&clusters);
            kubestellar::bulk(&clusters, opts.bulk_policies, opts.bulk_objects);
            kubestellar::hub_only(&clusters, opts.managed_clusters);
            kubestellar::reconcile(&clusters);
            // KubeStellar's controllers, once a tick: Bindings, ManifestWorks, WorkStatuses
            let all = clusters.clone();
            let mut stop = shutdown.subscribe();
            let tick = opts.tick;
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(tick);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = every.tick() => kubestellar::reconcile(&all),
                    }
                }
            }));
        }
        let acceptor = ca.as_ref().map(|c| tokio_rustls::TlsAcceptor::from(c.server_config.clone()));
        for c in &clusters {
            let port = opts.port_base.map_or(0, |b| b + c.index as u16);
            let listener = TcpListener::bind(("127.0.0.1", port)).await?;
            let _ = c.addr.set(listener.local_addr()?);
            tasks.push(tokio::spawn(server::serve_cluster(
                c.clone(),
                listener,
                acceptor.clone(),
                shutdown.subscribe(),
            )));
            let ticker = c.clone();
            let mut stop = shutdown.subscribe();
            let (tick, churn, timeline) = (opts.tick, opts.churn_per_sec, opts.incident_timeline);
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(tick);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                let started = std::time::Instant::now();
                let mut on = std::collections::BTreeSet::new();
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = every.tick() => {
                            if timeline {
                                // switched only when the timeline changes, so the admin endpoint's switches hold between
                                let now = faults::timeline_at(ticker.index, started.elapsed().as_secs_f64());
                                for i in faults::Incident::ALL {
                                    if now.contains(&i) != on.contains(&i) {
                                        ticker.faults.set_incident(i, now.contains(&i));
                                    }
                                }
                                on = now;
                            }
                            scenario::tick(&ticker, tick.as_secs_f64(), churn)
                        }
                    }
                }
            }));
        }
        // the ITS's cluster-proxy: the managed clusters' API servers by name, with a hub token
        let mut cluster_proxy = None;
        if let Some(its) = clusters.iter().find(|c| c.shape == Shape::Its) {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            cluster_proxy = Some(listener.local_addr()?);
            tasks.push(tokio::spawn(server::serve_cluster_proxy(
                its.clone(),
                clusters.clone(),
                listener,
                acceptor.clone(),
                shutdown.subscribe(),
            )));
        }
        Ok(SimFleet { clusters, ca_pem: ca.map(|c| c.ca_pem), admin_addr: None, cluster_proxy, shutdown, tasks })
    }

    /// Starts the admin endpoint (faults, stats) on a loopback port.
    pub async fn start_admin(&mut self, port: u16) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        self.admin_addr = Some(addr);
        self.tasks.push(tokio::spawn(admin::serve(self.clusters.clone(), listener, self.shutdown.subscribe())));
        Ok(addr)
    }

    /// The cluster-proxy's base URL, when the fleet has an ITS.
    pub fn cluster_proxy_url(&self) -> Option<String> {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        self.cluster_proxy.map(|a| format!("{scheme}://{a}"))
    }

    pub fn cluster(&self, name: &str) -> Option<&Arc<SimCluster>> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// A kubeconfig with one context per cluster (admin credentials); with `viewers`, also a
    /// `<name>-viewer` context per cluster whose user may read but not write.
    pub fn kubeconfig(&self, viewers: bool) -> String {
        let ca = self.ca_pem.as_ref().map(|p| base64::engine::general_purpose::STANDARD.encode(p));
        let mut clusters = Vec::new();
        let mut users = Vec::new();
        let mut contexts = Vec::new();
        for c in &self.clusters {
            let mut cl = json!({"server": c.server_url()});
            if let Some(ca) = &ca {
                cl["certificate-authority-data"] = json!(ca);
            }
            clusters.push(json!({"name": c.name, "cluster": cl}));
            users.push(json!({"name": format!("{}-admin", c.name), "user": {"token": c.admin_token()}}));
            contexts.push(json!({"name": c.name, "context": {"cluster": c.name, "user": format!("{}-admin", c.name), "namespace": "default"}}));
            if viewers {
                users.push(json!({"name": format!("{}-viewer", c.name), "user": {"token": c.viewer_token()}}));
                contexts.push(json!({"name": format!("{}-viewer", c.name),
                                     "context": {"cluster": c.name, "user": format!("{}-viewer", c.name)}}));
            }
        }
        let first = self.clusters.first().map(|c| c.name.clone()).unwrap_or_default();
        let doc = json!({"apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": first,
                         "clusters": clusters, "users": users, "contexts": contexts});
        yaml_serde::to_string(&doc).unwrap_or_default()
    }

    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

impl Drop for SimFleet {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}
