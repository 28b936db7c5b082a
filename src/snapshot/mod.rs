//! `kst snapshot`: the fleet state once, as JSON for scripts or as a table for people.
//! The serde structs here are the documented schema (README, "Snapshot JSON"): fields are
//! only ever added, and a value kst could not get is `null`, never a made-up 0.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::sources::{Collectors, Target, WorkerOptions};
use crate::store::{ClusterState, Conn, Fleet};

mod kagenti;
mod llmd;

pub use kagenti::*;
pub use llmd::*;

pub const SCHEMA: &str = "kst.snapshot/v1";

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub schema: &'static str,
    pub taken_at: String,
    /// `taken_at` as Unix seconds, for the table's ages.
    #[serde(skip)]
    pub taken_at_s: f64,
    /// Every rate (`*_per_s`, `request_rate`, `error_rate`) and percentile (`*_p50_s`,
    /// `*_p99_s`) is taken over this many seconds, or over the history there is when it is
    /// shorter, as Prometheus' `rate()` and `histogram_quantile()` would.
    pub rate_window_s: f64,
    pub clusters: Vec<ClusterSnapshot>,
    /// MCP servers from the config, outside the clusters.
    pub external_tools: Vec<ToolServerSnapshot>,
    /// The llm-d nightly E2E matrix; null when it is not read (see `nightly_problem`).
    pub nightly: Option<NightlySnapshot>,
    pub nightly_problem: Option<String>,
    /// Every open problem in the TUI's order: incidents (firing, worst then newest), pending,
    /// unknown, standing. `since` is the cluster's own record of when it started where there is
    /// one (a condition's transition, a container's termination, the query layer's history), so
    /// a rule whose `for:` that record covers is `firing` at once; `since_lower_bound` says when
    /// it is only kst's first sight. `kst snapshot --fail-on` counts firing incidents only:
    /// not `standing` findings, not problems `under` another (a cluster down), not `unknown`.
    pub problems: Vec<ProblemSnapshot>,
    /// KubeStellar placement, when some context is a WDS, an ITS or a KubeFlex hosting
    /// cluster; null otherwise.
    pub placement: Option<PlacementSnapshot>,
    /// Every served model once (names compared in llm-d's label spelling): `model`, a line per
    /// cluster (`context`, `pools`, servers ready/total, `request_rate`, tokens/s, `ttft_p99_s`,
    /// `itl_p99_s`, `kv_avg`, `kv_max`, `queue`, `waiting_max`, `error_rate`, `gpus`,
    /// `gpu_products`, `headroom` {`factor`, `reason`}), `totals` and `weakest`.
    pub models: Vec<crate::store::models::ModelView>,
    /// The Prometheus-compatible query layer, when model-server metrics come from one: its URL,
    /// when it last answered, `warnings` (a partial answer) and `error`. With several
    /// `[[metrics.prometheus]]`, the first listed; `metrics_sources` has each.
    pub metrics_source: Option<crate::store::PromState>,
    /// Every query layer that answered or failed, in the config's order, with the clusters
    /// whose model servers it serves (`clusters`: the first layer holding a cluster serves it).
    pub metrics_sources: Vec<MetricsSource>,
    /// ManagedClusters of the fleet's hubs that are not contexts: the hub's word on each and the
    /// query layer's roll-up (`metrics`: servers, KV, tokens/s, the newest sample's time).
    pub hub_clusters: Vec<crate::store::hub::HubCluster>,
    /// Every hub's ManagedClusterSets with their members counted.
    pub cluster_sets: Vec<crate::store::hub::SetView>,
    /// Per cluster with a dcgm-exporter: every GPU as last scraped, a summary, failing nodes.
    pub gpus: Vec<GpuSnapshot>,
    /// Cost per model and cluster: OpenCost (its window) or an estimate from `[cost]` prices.
    pub cost: Vec<crate::store::gpus::ModelCost>,
    /// GPUs held and busy per cluster and namespace, model, team.
    pub gpu_allocation: Vec<crate::store::gpus::Allocation>,
}

#[derive(Debug, Serialize)]
pub struct PlacementSnapshot {
    /// KubeFlex ControlPlanes, by the hosting context.
    pub control_planes: Vec<ControlPlaneSnapshot>,
    /// KubeStellar's controllers of each WDS, on the hosting clusters.
    pub controllers: Vec<ControllerSnapshot>,
    /// The ITSes' ManagedClusters: labels and availability.
    pub managed_clusters: Vec<ManagedClusterSnapshot>,
    /// Per BindingPolicy: its WDS, selectors, the clusters and objects of its Binding, per
    /// object and cluster a cell (`state`: not-delivered, delivered, apply-failed, applied,
    /// reported with `summary`), and its drift (`kind` and fields).
    pub policies: Vec<crate::store::placement::PolicyView>,
}

#[derive(Debug, Serialize)]
pub struct ControlPlaneSnapshot {
    pub context: String,
    #[serde(flatten)]
    pub control_plane: crate::store::placement::ControlPlane,
}

#[derive(Debug, Serialize)]
pub struct ControllerSnapshot {
    /// The hosting cluster that runs it.
    pub context: String,
    pub healthy: bool,
    #[serde(flatten)]
    pub controller: crate::store::placement::Controller,
}

#[derive(Debug, Serialize)]
pub struct ManagedClusterSnapshot {
    pub its: String,
    #[serde(flatten)]
    pub cluster: crate::store::placement::ManagedCluster,
    /// The kst context of this WEC, when the kubeconfig has one of that name.
    pub context: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ProblemSnapshot {
    pub severity: crate::store::problems::Severity,
    /// The rule or check (`kv-decode`, `pod-crashloop`, `cluster-unreachable`).
    pub kind: &'static str,
    /// The context, or null for fleet-wide problems (the nightly matrix).
    pub cluster: Option<String>,
    pub object: crate::store::problems::Object,
    /// One line with the measured value and the threshold.
    pub reason: String,
    /// The alertname to search for (upstream's where kst follows an upstream rule).
    pub alertname: &'static str,
    /// `firing`, `pending` while its rule's `for:` is not yet served, or `unknown` when kst
    /// cannot see it now (then `unknown_why`).
    pub state: &'static str,
    /// When it started (RFC 3339).
    pub since: String,
    /// `since` is only when kst first saw it: it started then or earlier.
    pub since_lower_bound: bool,
    /// When it fired (RFC 3339), for a firing one.
    pub fired_at: Option<String>,
    pub unknown_why: Option<String>,
    /// A finding there before kst first watched its cluster, or unchanged for a day.
    pub standing: bool,
    /// The kind of the problem that carries this one (its cluster down, its critical twin).
    pub under: Option<&'static str>,
    /// An Alertmanager silence (or inhibition) covers it: who, until when, why.
    pub silenced: Option<String>,
    /// The rule's `for:` in seconds.
    pub for_s: f64,
    /// Where the TUI's Enter on it leads.
    pub jump: crate::store::problems::Jump,
}

impl ProblemSnapshot {
    /// A firing incident: what `--fail-on` counts (not standing, not carried by another).
    pub fn counts(&self) -> bool {
        self.state == "firing" && !self.standing && self.under.is_none() && self.silenced.is_none()
    }
}

#[derive(Debug, Serialize)]
pub struct NightlySnapshot {
    pub repo: String,
    pub source: String,
    pub fetched_at: String,
    /// Why the matrix is not fresh (offline, rate limited), if it is not.
    pub stale: Option<String>,
    pub cells: Vec<NightlyCellSnapshot>,
    /// Platform -> pass rate over its cells' finished runs.
    pub platform_pass_rates: BTreeMap<String, Option<f64>>,
    pub unparsed: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct NightlyCellSnapshot {
    pub guide: String,
    pub platform: String,
    pub variant: String,
    pub workflow: String,
    pub pass_rate: Option<f64>,
    pub trend: Option<crate::store::nightly::Trend>,
    pub failing_streak: usize,
    pub badge: Option<String>,
    /// Newest first.
    pub runs: Vec<crate::store::nightly::NightlyRun>,
}

#[derive(Debug, Serialize)]
pub struct ClusterSnapshot {
    pub context: String,
    pub server: String,
    pub reachable: bool,
    /// connecting | live | degraded | slow | unreachable | auth failed | config error
    pub state: &'static str,
    pub error: Option<String>,
    pub server_version: Option<String>,
    pub latency_ms: Option<u64>,
    pub nodes: Option<usize>,
    pub nodes_ready: Option<usize>,
    pub gpus_allocatable: Option<u64>,
    pub gpus_total: Option<u64>,
    pub gpu_products: Vec<String>,
    pub forbidden: Vec<String>,
    /// When the cluster stopped answering, its numbers above are its last known ones,
    /// observed at this time (RFC 3339); null while it answers.
    pub observed_at: Option<String>,
    pub llmd: LlmdSnapshot,
    pub kagenti: KagentiSnapshot,
    /// ML jobs and notebooks, and the kinds this cluster does not serve.
    pub jobs: Vec<crate::store::jobs::JobInfo>,
    pub job_kinds_absent: Vec<&'static str>,
    /// Kinds this user may not list.
    pub job_kinds_forbidden: Vec<&'static str>,
}

fn timestamp(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

impl ClusterSnapshot {
    pub fn from_state(c: &ClusterState, r: &crate::store::rates::Reading) -> Self {
        ClusterSnapshot {
            context: c.context.clone(),
            server: c.server.clone(),
            reachable: c.conn.reachable(),
            state: c.conn.label(),
            error: c.conn.detail().map(str::to_string),
            server_version: c.version.clone(),
            latency_ms: c.latency_ms,
            nodes: c.nodes.as_ref().map(|n| n.total),
            nodes_ready: c.nodes.as_ref().map(|n| n.ready),
            gpus_allocatable: c.nodes.as_ref().map(|n| n.gpus_allocatable),
            gpus_total: c.nodes.as_ref().map(|n| n.gpus_total),
            gpu_products: c.nodes.as_ref().map(|n| n.gpu_products.iter().cloned().collect()).unwrap_or_default(),
            forbidden: c.forbidden.iter().cloned().collect(),
            observed_at: c.stale_since().map(timestamp),
            llmd: LlmdSnapshot::from_state(c, r),
            kagenti: KagentiSnapshot::from_state(c),
            jobs: c.jobs.jobs.clone(),
            job_kinds_absent: c.jobs.absent(),
            job_kinds_forbidden: c.jobs.forbidden.clone(),
        }
    }
}

impl Snapshot {
    pub fn of(fleet: &Fleet) -> Self {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        Snapshot::at(fleet, now)
    }

    /// The fleet as read at `now` (unix seconds).
    pub fn at(fleet: &Fleet, now: f64) -> Self {
        let reading = fleet.reading(now);
        Snapshot {
            schema: SCHEMA,
            taken_at: timestamp(SystemTime::now()),
            taken_at_s: now,
            rate_window_s: fleet.metrics.window,
            clusters: fleet.clusters.iter().map(|c| ClusterSnapshot::from_state(c, &reading)).collect(),
            external_tools: {
                let servers: Vec<(Option<usize>, &crate::store::tools::ToolServer)> =
                    fleet.external_tools.iter().map(|s| (None, s)).collect();
                let rows = crate::store::tools::rows(&servers);
                fleet.external_tools.iter().map(|s| ToolServerSnapshot::of(s, &rows)).collect()
            },
            nightly: fleet.nightly.matrix.as_ref().map(|m| NightlySnapshot {
                repo: m.repo.clone(),
                source: fleet.nightly.source.clone(),
                fetched_at: m.fetched_at.clone(),
                stale: fleet.nightly.stale.clone(),
                cells: m
                    .cells
                    .iter()
                    .map(|c| NightlyCellSnapshot {
                        guide: c.name.guide.clone(),
                        platform: c.name.platform(),
                        variant: c.name.variant(),
                        workflow: c.workflow_file.clone(),
                        pass_rate: c.pass_rate(),
                        trend: c.trend(),
                        failing_streak: c.failing_streak(),
                        badge: c.badge.clone(),
                        runs: c.runs.clone(),
                    })
                    .collect(),
                platform_pass_rates: m.platform_rates().into_iter().collect(),
                unparsed: m.unparsed.clone(),
            }),
            nightly_problem: fleet.nightly.disabled.clone().or_else(|| fleet.nightly.stale.clone()),
            problems: fleet
                .problems
                .all()
                .into_iter()
                .filter(|p| !p.resolved())
                .map(|p| ProblemSnapshot {
                    severity: p.severity,
                    kind: p.kind,
                    cluster: p.cluster.and_then(|c| fleet.clusters.get(c)).map(|c| c.context.clone()),
                    object: p.object.clone(),
                    reason: p.reason.clone(),
                    alertname: p.rule.alert,
                    state: p.state(),
                    since: unix_text(p.since),
                    since_lower_bound: p.since_lower_bound,
                    fired_at: p.fired_at.map(unix_text),
                    unknown_why: p.unknown.as_ref().map(|u| u.why.clone()),
                    standing: p.standing,
                    under: p.under.as_ref().map(|u| u.0),
                    silenced: p.silenced.clone(),
                    for_s: p.hold_s,
                    jump: p.jump.clone(),
                })
                .collect(),
            placement: placement_snapshot(fleet),
            models: crate::store::models::views(fleet, &reading)
                .into_iter()
                .map(|mut m| {
                    for l in m.lines.iter_mut() {
                        l.room = crate::store::models::room(fleet, l);
                    }
                    m
                })
                .collect(),
            metrics_source: fleet.prom.values().next().cloned(),
            metrics_sources: fleet
                .prom
                .values()
                .map(|p| MetricsSource {
                    state: p.clone(),
                    clusters: p
                        .covered
                        .iter()
                        .filter_map(|i| fleet.clusters.get(*i))
                        .map(|c| c.context.clone())
                        .collect(),
                })
                .collect(),
            hub_clusters: crate::store::hub::clusters(fleet),
            cluster_sets: crate::store::hub::sets(fleet),
            gpus: fleet
                .clusters
                .iter()
                .filter(|c| c.gpus.exporters.is_some_and(|n| n > 0))
                .map(|c| GpuSnapshot {
                    cluster: c.context.clone(),
                    summary: crate::store::gpus::summary(&c.gpus, now),
                    gpus: c.gpus.gpus().cloned().collect(),
                    failing: c.gpus.failing().into_iter().map(|(node, error)| NodeError { node, error }).collect(),
                    via: c.gpus.via.clone(),
                    pending: c.gpus.pending.clone().unwrap_or_default(),
                })
                .collect(),
            cost: crate::store::gpus::model_costs(fleet, &reading, &fleet.gpu_prices),
            gpu_allocation: crate::store::gpus::allocation(fleet),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GpuSnapshot {
    pub cluster: String,
    pub summary: crate::store::gpus::GpuSummary,
    pub gpus: Vec<crate::store::gpus::GpuSample>,
    pub failing: Vec<NodeError>,
    /// `GPUs via URL` when the query layer answered for this cluster, or why it did not.
    pub via: Option<String>,
    /// Pods waiting for the scheduler that ask for GPUs.
    pub pending: Vec<crate::store::gpus::PendingGpuPod>,
}

#[derive(Debug, Serialize)]
pub struct NodeError {
    pub node: String,
    pub error: String,
}

fn placement_snapshot(fleet: &Fleet) -> Option<PlacementSnapshot> {
    if !fleet.clusters.iter().any(|c| c.placement.any()) {
        return None;
    }
    let contexts: Vec<(&str, &crate::store::placement::PlacementCluster)> =
        fleet.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect();
    Some(PlacementSnapshot {
        control_planes: fleet
            .clusters
            .iter()
            .flat_map(|c| {
                c.placement
                    .control_planes
                    .iter()
                    .flatten()
                    .map(|cp| ControlPlaneSnapshot { context: c.context.clone(), control_plane: cp.clone() })
            })
            .collect(),
        controllers: fleet
            .clusters
            .iter()
            .flat_map(|c| {
                c.placement.controllers.iter().flatten().map(|x| ControllerSnapshot {
                    context: c.context.clone(),
                    healthy: x.healthy(),
                    controller: x.clone(),
                })
            })
            .collect(),
        managed_clusters: fleet
            .clusters
            .iter()
            .flat_map(|c| {
                c.placement.managed.iter().flatten().map(|m| ManagedClusterSnapshot {
                    its: c.context.clone(),
                    cluster: m.clone(),
                    context: fleet.clusters.iter().find(|x| x.context == m.name).map(|x| x.context.clone()),
                })
            })
            .collect(),
        policies: crate::store::placement::views(&contexts),
    })
}

/// A cluster has settled when kst knows what it can: synced (nodes, and LLM-d with scrape
/// rounds spanning the sample window so rates exist), or failed.
fn settled(c: &ClusterState, sample: f64) -> bool {
    match &c.conn {
        Conn::Connecting => false,
        Conn::Live | Conn::Degraded(_) | Conn::Slow(_) => {
            (c.nodes.is_some() || c.forbidden.contains("nodes"))
                && c.jobs.listed()
                && c.placement.listed
                && match c.llmd.installed {
                    None => false,
                    Some(false) => true,
                    Some(true) => {
                        (c.llmd.rounds >= 2
                            && c.llmd.last_round.zip(c.llmd.first_round).is_some_and(|(l, f)| l - f >= sample))
                            || (c.llmd.servers.is_empty() && c.llmd.pools.iter().all(|p| p.epp_service.is_none()))
                    }
                }
                && match c.kagenti.installed() {
                    None => false,
                    Some(false) => true,
                    // tools asked, RBAC read (or forbidden), so tools and findings are in
                    Some(true) => {
                        c.kagenti.tools.is_some()
                            && (c.kagenti.rbac.is_some()
                                || c.forbidden.contains(crate::sources::kagenti::RBAC_RESOURCE))
                    }
                }
        }
        _ => true,
    }
}

/// Runs the collectors until every cluster has settled or the timeout passes.
pub async fn collect(
    targets: &[Target],
    opts: WorkerOptions,
    external: Vec<crate::sources::fabric::ExternalEndpoint>,
    timeout: Duration,
    sample: Duration,
) -> Fleet {
    collect_with(targets, opts, external, timeout, sample, None).await
}

/// `collect`, with model-server metrics from a query layer when one is given.
pub async fn collect_with(
    targets: &[Target],
    opts: WorkerOptions,
    external: Vec<crate::sources::fabric::ExternalEndpoint>,
    timeout: Duration,
    sample: Duration,
    prom: Option<(Vec<crate::sources::prom::PromConfig>, crate::sources::prom::Covered)>,
) -> Fleet {
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    // rates over the sampled window (never under 4 scrape intervals)
    fleet.set_metrics(opts.refresh.as_secs_f64(), Some(sample.as_secs_f64()), None);
    let sample = fleet.metrics.window - opts.refresh.as_secs_f64() * 0.5;
    let refresh = opts.refresh;
    let mut collectors = Collectors::start(targets, opts);
    let wait_prom = prom.as_ref().map_or(0, |(cfgs, _)| cfgs.len());
    if let Some((cfgs, covered)) = prom {
        // the window asked back from the layer: rates without sampling for it first
        let window = Duration::from_secs_f64(fleet.metrics.window);
        collectors.start_prom(cfgs, covered, crate::sources::prom::Pace { refresh, window });
    }
    let wait_external = !external.is_empty();
    collectors.start_external(external, Duration::from_secs(3600));
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let ready = |fleet: &Fleet| {
        fleet.clusters.iter().all(|c| settled(c, sample))
            && (!wait_external || !fleet.external_tools.is_empty())
            && fleet.prom.len() >= wait_prom
    };
    while !ready(&fleet) {
        tokio::select! {
            _ = &mut deadline => break,
            u = collectors.updates.recv() => match u {
                Some(u) => { fleet.apply(u); }
                None => break,
            }
        }
    }
    collectors.stop();
    for c in fleet.clusters.iter_mut().filter(|c| matches!(c.conn, Conn::Connecting)) {
        c.conn =
            Conn::Unreachable { error: format!("no answer within {}s", timeout.as_secs()), since: SystemTime::now() };
    }
    fleet
}

/// Characters that reorder text on a terminal (bidi controls, as in "Trojan Source") or drive
/// it (C0/C1 controls, DEL): an object's field may hold any of them.
fn hidden(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || c.is_control()
}

/// The snapshot as JSON with every hidden character escaped (`\u202e`): the same value for a
/// parser, nothing that reorders a terminal or an editor for a person reading it.
/// A query layer's state and the contexts it serves.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MetricsSource {
    #[serde(flatten)]
    pub state: crate::store::PromState,
    pub clusters: Vec<String>,
}

pub fn json(s: &Snapshot) -> String {
    let text = serde_json::to_string_pretty(s).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // serde_json escapes C0 already; outside strings there are only structural newlines
        if hidden(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Hidden characters shown as `<U+202E>` in text meant for a terminal.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) && c != '\n' {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

pub fn table(s: &Snapshot) -> String {
    visible(&table_text(s))
}

/// Unix seconds as RFC 3339.
fn unix_text(t: f64) -> String {
    timestamp(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(t.max(0.0)))
}

fn table_text(s: &Snapshot) -> String {
    // the problems first: what an on-call reads before anything else
    let incident = |p: &&ProblemSnapshot| p.counts();
    let firing = s.problems.iter().filter(incident).count();
    let count = |st: &str| s.problems.iter().filter(|p| p.state == st && !p.standing).count();
    let standing = s.problems.iter().filter(|p| p.standing).count();
    let mut out = format!(
        "PROBLEMS: {firing} firing, {} unknown, {} pending, {standing} standing\n",
        count("unknown"),
        count("pending")
    );
    for p in &s.problems {
        let state = if p.standing && p.state == "firing" { "standing" } else { p.state };
        out.push_str(&format!(
            "{} {:<8} {:<8} {:<24} {} {}: {}{}\n",
            p.severity.mark(),
            p.severity.name(),
            state,
            p.cluster.as_deref().unwrap_or("fleet"),
            p.object.kind,
            p.object.path(),
            p.reason,
            if p.state == "pending" { format!(" (fires after {}s)", p.for_s) } else { String::new() }
        ));
    }
    out.push('\n');
    out.push_str(&format!(
        "{:<24} {:<12} {:>8} {:<10} {:>7} {:>9} {:>5} {:>7} {:>5} {:>8}  {}\n",
        "CONTEXT", "STATE", "LATENCY", "VERSION", "NODES", "GPUS", "POOLS", "SERVERS", "KV", "AGENTS", "ERROR"
    ));
    let dash = || "—".to_string();
    for c in &s.clusters {
        let l = &c.llmd;
        let servers = if l.installed == Some(true) {
            let ready = l.servers.iter().filter(|s| s.ready).count();
            format!("{ready}/{}", l.servers.len())
        } else {
            dash()
        };
        let agents: Vec<&AgentSnapshot> = c.kagenti.agents.iter().filter(|a| a.wtype == "agent").collect();
        let agents = if c.kagenti.installed == Some(true) {
            format!("{}/{}", agents.iter().filter(|a| a.health == "healthy").count(), agents.len())
        } else {
            dash()
        };
        out.push_str(&format!(
            "{:<24} {:<12} {:>8} {:<10} {:>7} {:>9} {:>5} {:>7} {:>5} {:>8}  {}\n",
            c.context,
            c.state,
            c.latency_ms.map(|l| format!("{l}ms")).unwrap_or_else(dash),
            c.server_version.clone().unwrap_or_else(dash),
            c.nodes.map(|n| format!("{}/{n}", c.nodes_ready.unwrap_or(0))).unwrap_or_else(dash),
            match (c.gpus_allocatable, c.gpus_total) {
                (Some(a), Some(t)) => format!("{a}/{t}"),
                _ => dash(),
            },
            if l.installed == Some(true) { l.pools.len().to_string() } else { dash() },
            servers,
            l.kv_avg.map(|k| format!("{:.0}%", k * 100.0)).unwrap_or_else(dash),
            agents,
            c.error.clone().unwrap_or_default()
        ));
    }
    hub_table(s, &mut out);
    out
}

/// The ManagedClusters seen only through a hub: the hub's word on each, and the query layer's
/// roll-up with the age of its newest sample (a number with no sample says `—`).
fn hub_table(s: &Snapshot, out: &mut String) {
    if s.hub_clusters.is_empty() {
        return;
    }
    let dash = || "—".to_string();
    out.push('\n');
    out.push_str(&format!(
        "{:<24} {:<12} {:<16} {:>7} {:>6} {:>7} {:>9} {:>8} {:>8}  {}\n",
        "CLUSTER (VIA HUB)", "STATE", "HUB", "SERVERS", "KV MAX", "WAITING", "GPUS BUSY", "TTFT P99", "SAMPLED", "WHY"
    ));
    for h in &s.hub_clusters {
        let state = match h.available {
            Some(true) => "available",
            Some(false) => "unavailable",
            None => "unknown",
        };
        let m = h.metrics.as_ref();
        let num = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(dash);
        let gpus = match m.map(|m| (m.gpus_busy, m.gpus)) {
            Some((Some(b), Some(g))) => format!("{b:.0}/{g:.0}"),
            _ => dash(),
        };
        let sampled =
            m.and_then(|m| m.scraped_at).map(|t| crate::store::llmd::age_text(s.taken_at_s - t)).unwrap_or_else(dash);
        out.push_str(&format!(
            "{:<24} {:<12} {:<16} {:>7} {:>6} {:>7} {:>9} {:>8} {:>8}  {}\n",
            h.name,
            state,
            h.hub,
            num(m.and_then(|m| m.servers), &|v| format!("{v:.0}")),
            num(m.and_then(|m| m.kv_max), &|v| format!("{:.0}%", v * 100.0)),
            num(m.and_then(|m| m.waiting), &|v| format!("{v:.0}")),
            gpus,
            num(m.and_then(|m| m.ttft_p99_s), &|v| format!("{v:.2}s")),
            sampled,
            h.why.clone().unwrap_or_default()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_in_json_and_shown_in_the_table() {
        let mut fleet = Fleet::new(&[("ctx\u{202E}lacol".to_string(), "https://x".to_string())]);
        fleet.clusters[0].conn = Conn::Degraded("forbidden: \u{2066}pods\u{2069} \u{1b}[31mred \u{9b}".into());
        let snap = Snapshot::of(&fleet);
        let json = json(&snap);
        for c in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{1b}', '\u{9b}'] {
            assert!(!json.contains(c) && !table(&snap).contains(c), "{c:?} passed through");
        }
        assert!(json.contains("ctx\\u202elacol"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["clusters"][0]["context"], "ctx\u{202E}lacol", "the same value for a parser");
        let t = table(&snap);
        assert!(t.contains("ctx<U+202E>lacol") && t.contains("<U+001B>[31mred <U+009B>"), "{t}");
    }
}
