//! What the collectors tell the store (`Update`), and a query layer's state as they report it.

use super::*;

/// What a collector tells the store. Owned data only: no Kubernetes objects travel here.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Conn {
        cluster: usize,
        conn: Conn,
    },
    Health {
        cluster: usize,
        version: String,
        latency_ms: u64,
    },
    Nodes {
        cluster: usize,
        nodes: NodeSummary,
    },
    /// A resource kst reads is (or no longer is) forbidden to this user.
    Forbidden {
        cluster: usize,
        resource: String,
        forbidden: bool,
    },
    /// Objects kst could not decode (kept out of the panes, counted here).
    Malformed {
        cluster: usize,
        resource: String,
        count: usize,
    },
    /// LLM-d objects as the watchers see them now (pools and model servers).
    LlmdObjects {
        cluster: usize,
        /// None: the API server has not answered for the pool APIs yet.
        installed: Option<bool>,
        pools: Vec<llmd::PoolInfo>,
        objectives: Vec<llmd::ObjectiveInfo>,
        servers: Vec<llmd::ServerInfo>,
    },
    /// The llm-d-managed autoscalers as the watchers see them now.
    Autoscalers {
        cluster: usize,
        list: Vec<llmd::Autoscaler>,
    },
    /// How many dcgm-exporter pods run on the cluster (0: none).
    GpuExporters {
        cluster: usize,
        count: usize,
    },
    /// One node's dcgm-exporter page, decoded.
    GpuScrape {
        cluster: usize,
        node: String,
        at: f64,
        result: Result<Vec<gpus::GpuSample>, String>,
    },
    /// Where the cluster's GPU readings come from, when not only its exporters.
    GpuVia {
        cluster: usize,
        via: String,
    },
    /// The pods waiting for the scheduler that ask for GPUs, as the watch sees them now.
    GpuPending {
        cluster: usize,
        pods: Vec<gpus::PendingGpuPod>,
    },
    /// The cluster's OpenCost allocations, or why there are none.
    Cost {
        cluster: usize,
        at: f64,
        result: Result<gpus::CostReport, String>,
    },
    /// The InferencePoolImports as the watcher sees them now.
    PoolImports {
        cluster: usize,
        list: Vec<llmd::PoolImport>,
    },
    /// One model server's scrape.
    EngineScrape {
        cluster: usize,
        server: llmd::Key,
        at: f64,
        result: Result<llmd::EngineSample, llmd::ScrapeError>,
    },
    /// One endpoint picker's scrape.
    EppScrape {
        cluster: usize,
        pool: llmd::Key,
        at: f64,
        result: Result<llmd::EppSample, llmd::ScrapeError>,
    },
    /// One endpoint picker's series from the query layer, known by its Service (the store finds
    /// the pool whose EPP that Service is).
    EppQueried {
        cluster: usize,
        namespace: String,
        service: String,
        at: f64,
        result: Result<llmd::EppSample, llmd::ScrapeError>,
    },
    /// Kagenti/Rossoctl agents, tools and builds as the watchers see them now.
    Kagenti {
        cluster: usize,
        brands: Vec<kagenti::Brand>,
        agents: Vec<kagenti::AgentInfo>,
        builds: Vec<kagenti::BuildInfo>,
    },
    /// One agent's A2A card (indexed by the operator, fetched by kst, or why not).
    KagentiCard {
        cluster: usize,
        agent: (String, String),
        state: kagenti::CardState,
    },
    /// The Kagenti platform's components on one cluster.
    Platform {
        cluster: usize,
        status: kagenti::PlatformStatus,
    },
    /// The API server's answer: may this user toggle the agent (actions -> UI).
    ToggleChecked {
        cluster: usize,
        id: u64,
        allowed: bool,
        reason: String,
    },
    /// May this user open a shell in the pod (actions -> UI); when allowed, the kubeconfig
    /// kubectl is to use (removed when the session ends).
    ShellChecked {
        cluster: usize,
        id: u64,
        allowed: bool,
        reason: String,
        kubeconfig: Option<std::path::PathBuf>,
    },
    /// May this user forward to the pod (actions -> UI).
    ForwardChecked {
        cluster: usize,
        id: u64,
        allowed: bool,
        reason: String,
    },
    /// A port-forward's state: listening (with its connections) or failed (actions -> UI).
    Forwarding {
        cluster: usize,
        id: u64,
        state: views::ForwardState,
    },
    /// A toggle was applied, or failed (actions -> UI).
    ToggleDone {
        cluster: usize,
        id: u64,
        result: Result<String, String>,
    },
    /// May this user patch the BindingPolicy a move edits (actions -> UI); `cluster` is the WDS.
    MoveChecked {
        cluster: usize,
        id: u64,
        allowed: bool,
        reason: String,
    },
    /// A move's write of the policy's selectors was applied, or refused (actions -> UI).
    MovePatched {
        cluster: usize,
        id: u64,
        result: Result<(), String>,
    },
    /// Drill-down feeds (sources/views.rs -> the open view).
    ViewPods {
        cluster: usize,
        view: u64,
        pods: Vec<views::PodRow>,
        /// Why no pod has CPU and memory figures (metrics.k8s.io not served, forbidden, failing);
        /// None when it answered (a pod without a figure then has no recent sample).
        no_usage: Option<String>,
    },
    ViewPod {
        cluster: usize,
        view: u64,
        detail: Box<views::PodDetail>,
    },
    ViewObjects {
        cluster: usize,
        view: u64,
        rows: Vec<views::ObjectRow>,
    },
    ViewLog {
        cluster: usize,
        view: u64,
        lines: Vec<String>,
    },
    ViewText {
        cluster: usize,
        view: u64,
        text: String,
    },
    ViewError {
        cluster: usize,
        view: u64,
        error: String,
    },
    /// A round of MCP `tools/list` over one cluster's tool servers.
    Tools {
        cluster: usize,
        servers: Vec<tools::ToolServer>,
    },
    /// AuthBridge `/stats` of each agent with the sidecar.
    AuthBridge {
        cluster: usize,
        stats: std::collections::BTreeMap<(String, String), Result<topology::AuthStats, String>>,
    },
    /// Roles, ClusterRoles and their bindings as the watchers see them now.
    Rbac {
        cluster: usize,
        rbac: posture::Rbac,
    },
    /// The posture baseline kst keeps for the cluster (loaded, first taken, or accepted).
    Baseline {
        cluster: usize,
        baseline: Option<posture::Baseline>,
        path: std::path::PathBuf,
    },
    /// ML jobs and notebooks as the watchers see them now.
    Jobs {
        cluster: usize,
        jobs: jobs::JobsCluster,
    },
    /// What the context holds of KubeStellar, as its watches see it now.
    Placement {
        cluster: usize,
        placement: placement::PlacementCluster,
    },
    /// Every scrape of a round is in: time to draw, and to extend the throughput history.
    ScrapeRound {
        cluster: usize,
        at: f64,
    },
    /// Not about one cluster: the query layers, Alertmanagers, the nightly matrix, reports,
    /// MCP servers outside the clusters.
    Fleet(FleetUpdate),
}

/// What a fleet-wide source tells the store (none of it is about one cluster).
#[derive(Debug, Clone, PartialEq)]
pub enum FleetUpdate {
    /// A Prometheus-compatible query layer's state after a query (`source`: its place among
    /// the config's `[[metrics.prometheus]]`).
    Prom { source: usize, state: PromState },
    /// A configured Alertmanager's alerts and silences as last read.
    Alertmanager { index: usize, state: alerts::AlertmanagerState },
    /// The answer to a silence kst asked for: its id, or why not (the UI's own request).
    SilenceDone { id: u64, result: Result<String, String> },
    /// How long each metric rule's condition has held, by a query layer's history.
    RuleHistory { source: usize, rows: Vec<rules::HistoryRow> },
    /// A query layer's roll-ups by cluster label value.
    PromClusters { source: usize, rows: std::collections::BTreeMap<String, hub::ClusterAgg> },
    /// MCP servers outside the clusters (config), not tied to a cluster.
    ExternalTools { servers: Vec<tools::ToolServer> },
    /// The nightly E2E matrix (not tied to a cluster).
    Nightly { state: nightly::NightlyState },
    /// The benchmark reports read from the configured directory.
    Reports { reports: reports::Reports },
}

impl From<FleetUpdate> for Update {
    fn from(u: FleetUpdate) -> Update {
        Update::Fleet(u)
    }
}

/// What the query layer last said: when, how long it took, which clusters its answer covered,
/// its warnings (a partial answer) or why it did not answer.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PromState {
    pub url: String,
    /// Unix seconds of the last answer; None: never answered.
    pub at: Option<f64>,
    pub took_ms: Option<u64>,
    /// Bytes received in the last refresh's answers (after gzip decoding).
    pub bytes: usize,
    pub series: usize,
    /// Contexts (by index) whose model servers it reported.
    #[serde(skip)]
    pub covered: Vec<usize>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// Cluster label values that name no kst context.
    pub unknown_clusters: Vec<String>,
}

/// Where model-server numbers come from, for a title: one query layer's line, or for several
/// how many and the ones not answering fully (None: no query layer).
pub fn sources_line(states: &std::collections::BTreeMap<usize, PromState>) -> Option<String> {
    match states.len() {
        0 => None,
        1 => states.values().next().map(PromState::line),
        n => {
            let troubled: Vec<String> = states
                .values()
                .filter(|p| p.error.is_some() || !p.warnings.is_empty())
                .map(|p| p.line().replacen("metrics via ", "", 1))
                .collect();
            let mut s = format!("metrics via {n} query layers");
            if !troubled.is_empty() {
                s.push_str(&format!(" · {}", troubled.join(" · ")));
            }
            Some(s)
        }
    }
}

impl PromState {
    pub fn failed(url: &str, error: String) -> PromState {
        PromState { url: url.to_string(), error: Some(error), ..Default::default() }
    }
    /// One line for the screen: `prometheus http://… · 12 ms · partial: 1 warning`.
    pub fn line(&self) -> String {
        let mut s = format!("metrics via {}", self.url);
        if let Some(ms) = self.took_ms {
            s.push_str(&format!(" · {ms} ms"));
        }
        if !self.warnings.is_empty() {
            s.push_str(&format!(
                " · partial: {} warning{} ({})",
                self.warnings.len(),
                if self.warnings.len() == 1 { "" } else { "s" },
                self.warnings[0]
            ));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" · {e}"));
        }
        s
    }
}

impl Update {
    /// The cluster it is about; None for a fleet-wide update.
    pub fn cluster(&self) -> Option<usize> {
        Some(match self {
            Update::Conn { cluster, .. }
            | Update::Health { cluster, .. }
            | Update::Nodes { cluster, .. }
            | Update::Forbidden { cluster, .. }
            | Update::Malformed { cluster, .. }
            | Update::LlmdObjects { cluster, .. }
            | Update::Autoscalers { cluster, .. }
            | Update::PoolImports { cluster, .. }
            | Update::GpuExporters { cluster, .. }
            | Update::GpuScrape { cluster, .. }
            | Update::GpuPending { cluster, .. }
            | Update::GpuVia { cluster, .. }
            | Update::EppQueried { cluster, .. }
            | Update::Cost { cluster, .. }
            | Update::Placement { cluster, .. }
            | Update::EngineScrape { cluster, .. }
            | Update::EppScrape { cluster, .. }
            | Update::ScrapeRound { cluster, .. }
            | Update::Kagenti { cluster, .. }
            | Update::KagentiCard { cluster, .. }
            | Update::Platform { cluster, .. }
            | Update::ToggleChecked { cluster, .. }
            | Update::ShellChecked { cluster, .. }
            | Update::ForwardChecked { cluster, .. }
            | Update::Forwarding { cluster, .. }
            | Update::ToggleDone { cluster, .. }
            | Update::MoveChecked { cluster, .. }
            | Update::MovePatched { cluster, .. }
            | Update::ViewPods { cluster, .. }
            | Update::ViewObjects { cluster, .. }
            | Update::ViewPod { cluster, .. }
            | Update::ViewLog { cluster, .. }
            | Update::ViewText { cluster, .. }
            | Update::ViewError { cluster, .. }
            | Update::Tools { cluster, .. }
            | Update::AuthBridge { cluster, .. }
            | Update::Rbac { cluster, .. }
            | Update::Baseline { cluster, .. }
            | Update::Jobs { cluster, .. } => *cluster,
            Update::Fleet(_) => return None,
        })
    }
}
