//! What every collector of a cluster is told (intervals, where model-server metrics come from,
//! the cost settings): the small types config builds and the collectors read, kept apart from
//! both so neither imports the other's module.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Health probe and metric polling interval.
    pub refresh: Duration,
    /// Longest wait between reconnect attempts.
    pub backoff_max: Duration,
    /// How long a burst of watch events is gathered before one update goes out.
    pub coalesce: Duration,
    pub probe_timeout: Duration,
    /// How long one metrics scrape may take before its pod is marked stale.
    pub scrape_timeout: Duration,
    /// Where kst keeps its own history (builds) between runs.
    pub state_dir: std::path::PathBuf,
    /// The posture baseline's file (`{context}` is replaced), instead of one in `state_dir`.
    pub baseline_file: Option<String>,
    /// Where model-server metrics come from.
    pub engines: EngineSource,
    /// The pod label naming a GPU pod's team (`[cost] team_label`).
    pub team_label: String,
    /// The query layers, when configured: the GPUs' DCGM series are asked of them first, in
    /// order (all of them with `engines: Query`; with `Auto` the exporters are read where none
    /// has any).
    pub query: Vec<super::prom::PromConfig>,
    /// OpenCost Services named per context (`[cost] opencost`), instead of looking for one.
    pub opencost: std::collections::BTreeMap<String, ServiceRef>,
}

/// Where model-server metrics come from: each pod's `/metrics` (direct), the query layer for
/// every cluster, or the query layer for the clusters its answers cover and direct for the rest.
#[derive(Debug, Clone, Default)]
pub enum EngineSource {
    #[default]
    Direct,
    Query,
    Auto(super::prom::Covered),
}

impl EngineSource {
    /// Whether this cluster's scraper reads its model servers itself.
    pub fn direct(&self, cluster: usize) -> bool {
        match self {
            EngineSource::Direct => true,
            EngineSource::Query => false,
            EngineSource::Auto(c) => !c.serves(super::prom::Served::Engines, cluster),
        }
    }
    /// Whether this cluster's scraper reads its endpoint pickers itself.
    pub fn epp_direct(&self, cluster: usize) -> bool {
        match self {
            EngineSource::Direct => true,
            EngineSource::Query => false,
            EngineSource::Auto(c) => !c.serves(super::prom::Served::Epp, cluster),
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            refresh: Duration::from_secs(5),
            backoff_max: Duration::from_secs(30),
            coalesce: Duration::from_millis(150),
            probe_timeout: Duration::from_secs(10),
            scrape_timeout: Duration::from_secs(3),
            state_dir: crate::files::state_dir(),
            baseline_file: None,
            engines: EngineSource::Direct,
            team_label: TEAM_LABEL.to_string(),
            opencost: Default::default(),
            query: Vec::new(),
        }
    }
}

/// The label naming a GPU pod's team unless `[cost] team_label` says otherwise.
pub const TEAM_LABEL: &str = "team";

/// An OpenCost Service: `namespace/name[:port]` (port 9003 unless given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
    pub port: u16,
}

impl std::str::FromStr for ServiceRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?}: expected namespace/service or namespace/service:port (e.g. opencost/opencost:9003)");
        let (ns, rest) = s.split_once('/').ok_or_else(bad)?;
        let (name, port) = match rest.split_once(':') {
            Some((n, p)) => (n, p.parse::<u16>().map_err(|_| bad())?),
            None => (rest, OPENCOST_PORT),
        };
        let dns = |x: &str| {
            !x.is_empty()
                && x.len() <= 63
                && x.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if !dns(ns) || !dns(name) {
            return Err(bad());
        }
        Ok(ServiceRef { namespace: ns.into(), name: name.into(), port })
    }
}

/// OpenCost's API port.
pub const OPENCOST_PORT: u16 = 9003;
