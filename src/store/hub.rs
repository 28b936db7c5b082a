//! Clusters known only through a hub: every ManagedCluster of an ITS / OCM hub that is not one of
//! kst's contexts is a row from the start, with its health from the hub's conditions and its
//! model servers' load from the query layer's per-cluster roll-ups, without a connection to its
//! API server. What cannot be known that way (pods, logs, YAML, agents) is said, not left empty.

use std::collections::BTreeMap;

use super::Fleet;

/// One cluster's roll-up from the query layer (aggregated by the cluster label).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ClusterAgg {
    /// Model servers reporting (series of `vllm:num_requests_running`).
    pub servers: Option<f64>,
    pub kv_avg: Option<f64>,
    pub kv_max: Option<f64>,
    pub waiting: Option<f64>,
    /// Requests waiting on the cluster's busiest server.
    pub waiting_max: Option<f64>,
    pub prompt_tokens_per_s: Option<f64>,
    pub generation_tokens_per_s: Option<f64>,
    /// The newest sample's scrape time (Unix seconds).
    pub scraped_at: Option<f64>,
    /// GPUs the dcgm-exporters report (series of `DCGM_FI_DEV_GPU_UTIL`), how many are busy
    /// (≥ 10%), and their mean utilisation 0..1.
    pub gpus: Option<f64>,
    pub gpus_busy: Option<f64>,
    pub gpu_util: Option<f64>,
    /// TTFT p99 over the rate window, from the merged buckets of every server (seconds).
    pub ttft_p99_s: Option<f64>,
    /// GPUs whose last XID is not 0.
    pub gpus_xid: Option<f64>,
    /// The endpoint pickers' error ratio over the rate window (errors / requests).
    pub error_ratio: Option<f64>,
}

/// A ManagedCluster seen only through a hub.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HubCluster {
    pub name: String,
    /// The hub context it was read from.
    pub hub: String,
    /// The hub's index in the fleet (its problems are the hub's).
    #[serde(skip)]
    pub hub_index: usize,
    pub labels: BTreeMap<String, String>,
    /// `ManagedClusterConditionAvailable`; None: unknown.
    pub available: Option<bool>,
    pub why: Option<String>,
    /// When that condition last changed (Unix seconds).
    pub since: Option<f64>,
    pub metrics: Option<ClusterAgg>,
    /// The hub's ManagedClusterSets it belongs to.
    pub sets: Vec<String>,
}

impl HubCluster {
    /// Available, and its numbers (if any) are fresh.
    pub fn healthy(&self, now: f64, stale_after: f64) -> bool {
        self.available == Some(true)
            && self.metrics.as_ref().is_none_or(|m| m.scraped_at.is_some_and(|t| now - t <= stale_after))
    }
}

/// Every ManagedCluster of the fleet's hubs that no context is named after, in name order.
pub fn clusters(fleet: &Fleet) -> Vec<HubCluster> {
    let mut out: BTreeMap<String, HubCluster> = BTreeMap::new();
    for (hi, h) in fleet.clusters.iter().enumerate() {
        for m in h.placement.managed.iter().flatten() {
            if fleet.clusters.iter().any(|c| c.context == m.name) {
                continue;
            }
            out.entry(m.name.clone()).or_insert_with(|| HubCluster {
                name: m.name.clone(),
                hub: h.context.clone(),
                hub_index: hi,
                labels: m.labels.clone(),
                available: m.available,
                why: m.why.clone(),
                since: m.since,
                metrics: fleet.prom_clusters.get(&m.name).cloned(),
                sets: h.placement.sets.iter().flatten().filter(|s| s.contains(m)).map(|s| s.name.clone()).collect(),
            });
        }
    }
    out.into_values().collect()
}

/// One ManagedClusterSet of a hub, with its members counted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SetView {
    pub name: String,
    pub hub: String,
    /// How membership is decided.
    pub rule: String,
    pub clusters: usize,
    /// Members the hub says are not Available.
    pub unavailable: usize,
    /// Members kst also has a context for.
    pub contexts: usize,
}

/// Every hub's ManagedClusterSets, by hub then name.
pub fn sets(fleet: &Fleet) -> Vec<SetView> {
    let mut out = Vec::new();
    for h in &fleet.clusters {
        let managed = h.placement.managed.as_deref().unwrap_or_default();
        for s in h.placement.sets.iter().flatten() {
            let members: Vec<&crate::store::placement::ManagedCluster> =
                managed.iter().filter(|m| s.contains(m)).collect();
            out.push(SetView {
                name: s.name.clone(),
                hub: h.context.clone(),
                rule: s.rule(),
                clusters: members.len(),
                unavailable: members.iter().filter(|m| m.available == Some(false)).count(),
                contexts: members.iter().filter(|m| fleet.clusters.iter().any(|c| c.context == m.name)).count(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_cluster_is_healthy_when_available_and_its_numbers_are_fresh() {
        let mut c = HubCluster {
            name: "edge-0001".into(),
            hub: "its1".into(),
            hub_index: 0,
            labels: Default::default(),
            available: Some(true),
            why: None,
            since: None,
            metrics: None,
            sets: vec![],
        };
        assert!(c.healthy(100.0, 30.0), "no metrics in the query layer is not unhealthy");
        c.metrics = Some(ClusterAgg { scraped_at: Some(60.0), ..Default::default() });
        assert!(!c.healthy(100.0, 30.0), "40 s old numbers");
        c.metrics = Some(ClusterAgg { scraped_at: Some(90.0), ..Default::default() });
        assert!(c.healthy(100.0, 30.0));
        c.available = Some(false);
        assert!(!c.healthy(100.0, 30.0));
    }

    #[test]
    fn cluster_set_membership_by_exclusive_label_or_selector() {
        use crate::store::placement::{ClusterSet, ManagedCluster, Requirement, Selector, CLUSTERSET_LABEL};
        let m = |name: &str, set: &str, region: &str| ManagedCluster {
            name: name.into(),
            labels: [(CLUSTERSET_LABEL.to_string(), set.to_string()), ("region".to_string(), region.to_string())]
                .into(),
            available: Some(true),
            why: None,
            since: None,
        };
        let edge = ClusterSet { name: "edge".into(), selector: None };
        let global = ClusterSet { name: "global".into(), selector: Some(Selector::default()) };
        let east = ClusterSet {
            name: "east".into(),
            selector: Some(Selector(vec![Requirement {
                key: "region".into(),
                operator: "In".into(),
                values: vec!["us-east".into()],
            }])),
        };
        let a = m("a", "edge", "us-east");
        let b = m("b", "default", "eu-west");
        assert!(edge.contains(&a) && !edge.contains(&b), "the exclusive label names the set");
        assert!(global.contains(&a) && global.contains(&b), "an empty selector: every cluster");
        assert!(east.contains(&a) && !east.contains(&b));
        assert_eq!(east.rule(), "labelSelector region=us-east");
    }
}
