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
    /// How long this cluster normally goes without a newer sample in the layer (seconds): the
    /// step of `scraped_at` between two answers, or before one was seen twice, twice the median
    /// age of every cluster's newest sample (a scrape interval's worth). None: not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// Seconds between two answers of the layer: kst's refresh, or its round of roll-ups when
    /// the layer takes longer than that to answer them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<f64>,
}

impl ClusterAgg {
    /// How old its newest sample may be and still be current. A query layer scrapes at its own
    /// interval, not kst's refresh: a cluster scraped every 30 s (or a layer that takes 20 s to
    /// answer ten thousand clusters) is not stale for doing what it was told. Current while
    /// within kst's own limit (`hide_after`, at least 30 s) or within two of the layer's
    /// intervals there plus two rounds of asking (one for the answer's age when it lands, one
    /// until the next lands), the way a dialed pod is stale once two scrapes were missed.
    pub fn age_limit(&self, hide_after: f64) -> f64 {
        let layer = 2.0 * self.interval.unwrap_or(0.0) + 2.0 * self.round.unwrap_or(0.0);
        hide_after.max(30.0).max(layer)
    }

    /// Its newest sample is current (see `age_limit`).
    pub fn current(&self, now: f64, hide_after: f64) -> bool {
        self.scraped_at.is_some_and(|t| now - t <= self.age_limit(hide_after))
    }
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
    pub labels: crate::store::placement::Labels,
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
    /// Available, and its numbers (if any) are current.
    pub fn healthy(&self, now: f64, hide_after: f64) -> bool {
        self.available == Some(true) && self.metrics.as_ref().is_none_or(|m| m.current(now, hide_after))
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
    fn a_roll_up_is_current_for_as_long_as_the_layer_s_own_pace_allows() {
        // kst's limit: hide_after, never under 30 s
        let m = ClusterAgg { scraped_at: Some(60.0), ..Default::default() };
        assert!(m.current(85.0, 25.0) && m.current(90.0, 25.0) && !m.current(91.0, 25.0));
        assert!(m.current(100.0, 40.0) && !m.current(101.0, 40.0));
        // scraped every 30 s, answered every 5 s: 70 s before it reads stale, not 30
        let slow = ClusterAgg { scraped_at: Some(60.0), interval: Some(30.0), round: Some(5.0), ..Default::default() };
        assert_eq!(slow.age_limit(25.0), 70.0);
        assert!(slow.current(129.0, 25.0) && !slow.current(131.0, 25.0));
        // a layer that takes 20 s a round: its answers are that much older by the next
        let busy = ClusterAgg { interval: Some(5.0), round: Some(20.0), ..Default::default() };
        assert_eq!(busy.age_limit(25.0), 50.0);
        // nothing scraped: never current
        assert!(!ClusterAgg::default().current(0.0, 25.0));
    }

    #[test]
    fn cluster_set_membership_by_exclusive_label_or_selector() {
        use crate::store::placement::{ClusterSet, ManagedCluster, Requirement, Selector, CLUSTERSET_LABEL};
        let m = |name: &str, set: &str, region: &str| ManagedCluster {
            name: name.into(),
            labels: BTreeMap::from([
                (CLUSTERSET_LABEL.to_string(), set.to_string()),
                ("region".to_string(), region.to_string()),
            ])
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
