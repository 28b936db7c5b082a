//! Nodes -> `NodeSummary`, decoded leniently: an odd Node (bad quantities, conditions that
//! are not a list) counts as a node without GPUs instead of breaking the whole watch.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::store::NodeSummary;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInfo {
    pub ready: bool,
    pub gpus_allocatable: u64,
    pub gpus_total: u64,
    pub gpu_product: Option<String>,
    /// Fields that did not decode, for the malformed count.
    pub malformed: bool,
}

pub fn decode(data: &Value, labels: &BTreeMap<String, String>) -> NodeInfo {
    let status = &data["status"];
    let (ready, bad_conditions) = match status["conditions"].as_array() {
        Some(cs) => (cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"), false),
        None => (false, !status["conditions"].is_null()),
    };
    let (gpus_total, bad_cap) = super::gpu_resources::in_map(&status["capacity"]);
    let (gpus_allocatable, bad_alloc) = super::gpu_resources::in_map(&status["allocatable"]);
    NodeInfo {
        ready,
        gpus_allocatable,
        gpus_total,
        gpu_product: labels.get("nvidia.com/gpu.product").cloned(),
        malformed: bad_conditions || bad_cap || bad_alloc,
    }
}

pub fn summarize<'a>(nodes: impl Iterator<Item = &'a NodeInfo>) -> NodeSummary {
    let mut s = NodeSummary::default();
    for n in nodes {
        s.total += 1;
        s.ready += n.ready as usize;
        s.gpus_allocatable += n.gpus_allocatable;
        s.gpus_total += n.gpus_total;
        if let Some(p) = &n.gpu_product {
            s.gpu_products.insert(p.clone());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gpu_node_and_odd_node() {
        let mut labels = BTreeMap::new();
        labels.insert("nvidia.com/gpu.product".to_string(), "H100".to_string());
        let good = decode(
            &json!({"status": {"capacity": {"nvidia.com/gpu": "8"}, "allocatable": {"nvidia.com/gpu": "7"},
                               "conditions": [{"type": "Ready", "status": "True"}]}}),
            &labels,
        );
        assert_eq!((good.ready, good.gpus_allocatable, good.gpus_total, good.malformed), (true, 7, 8, false));
        let odd = decode(
            &json!({"status": {"capacity": {"nvidia.com/gpu": "lots"}, "allocatable": {"nvidia.com/gpu": -3}, "conditions": "yes"}}),
            &BTreeMap::new(),
        );
        assert_eq!((odd.ready, odd.gpus_total, odd.malformed), (false, 0, true));
        let s = summarize([good, odd].iter());
        assert_eq!((s.total, s.ready, s.gpus_allocatable, s.gpus_total), (2, 1, 7, 8));
        assert!(s.gpu_products.contains("H100"));
    }
}
