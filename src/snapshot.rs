//! `kst snapshot`: the fleet state once, as JSON for scripts or as a table for people.
//! The serde structs here are the documented schema (README, "Snapshot JSON"): fields are
//! only ever added, and a value kst could not get is `null`, never a made-up 0.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::sources::{Collectors, Target, WorkerOptions};
use crate::store::{ClusterState, Conn, Fleet};

pub const SCHEMA: &str = "kst.snapshot/v1";

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub schema: &'static str,
    pub taken_at: String,
    pub clusters: Vec<ClusterSnapshot>,
}

#[derive(Debug, Serialize)]
pub struct ClusterSnapshot {
    pub context: String,
    pub server: String,
    pub reachable: bool,
    /// connecting | live | degraded | unreachable | auth failed | config error
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
}

fn timestamp(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

impl ClusterSnapshot {
    pub fn from_state(c: &ClusterState) -> Self {
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
        }
    }
}

impl Snapshot {
    pub fn of(fleet: &Fleet) -> Self {
        Snapshot {
            schema: SCHEMA,
            taken_at: timestamp(SystemTime::now()),
            clusters: fleet.clusters.iter().map(ClusterSnapshot::from_state).collect(),
        }
    }
}

/// A cluster has settled when kst knows what it can: synced, or failed.
fn settled(c: &ClusterState) -> bool {
    match &c.conn {
        Conn::Connecting => false,
        Conn::Live | Conn::Degraded(_) => c.nodes.is_some() || c.forbidden.contains("nodes"),
        _ => true,
    }
}

/// Runs the collectors until every cluster has settled or the timeout passes.
pub async fn collect(targets: &[Target], opts: WorkerOptions, timeout: Duration) -> Fleet {
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut collectors = Collectors::start(targets, opts);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while !fleet.clusters.iter().all(settled) {
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

pub fn table(s: &Snapshot) -> String {
    let mut out = format!(
        "{:<24} {:<12} {:>8} {:<10} {:>7} {:>9}  {}\n",
        "CONTEXT", "STATE", "LATENCY", "VERSION", "NODES", "GPUS", "ERROR"
    );
    let dash = || "—".to_string();
    for c in &s.clusters {
        out.push_str(&format!(
            "{:<24} {:<12} {:>8} {:<10} {:>7} {:>9}  {}\n",
            c.context,
            c.state,
            c.latency_ms.map(|l| format!("{l}ms")).unwrap_or_else(dash),
            c.server_version.clone().unwrap_or_else(dash),
            c.nodes.map(|n| format!("{}/{n}", c.nodes_ready.unwrap_or(0))).unwrap_or_else(dash),
            match (c.gpus_allocatable, c.gpus_total) {
                (Some(a), Some(t)) => format!("{a}/{t}"),
                _ => dash(),
            },
            c.error.clone().unwrap_or_default()
        ));
    }
    out
}
