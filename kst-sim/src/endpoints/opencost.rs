//! OpenCost's allocation API (`GET /allocation/compute` on `:9003`), in its response shape:
//! `{"code": 200, "data": [{"<key>": Allocation, ...}]}` with one map per step (kst asks for
//! one step: `accumulate=true`). Allocations are the cluster's running pods that hold GPUs,
//! priced as this cluster's OpenCost would with custom pricing: a GPU-hour, a core-hour and a
//! GiB-hour each at a fixed price; `properties.cluster` is the `CLUSTER_ID` (the context name).
//!
//! Aggregations: `cluster`, `namespace`, `pod`, `label:<name>` (key `<name>=<value>`, pods
//! without the label under `__unallocated__`), comma-separated for several (keys joined with `/`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::super::resources as r;
use super::super::SimCluster;

/// The sim's custom pricing (what an OpenCost `default.json` would hold).
pub const GPU_HOUR: f64 = 2.95;
pub const CPU_CORE_HOUR: f64 = 0.031611;
pub const RAM_GIB_HOUR: f64 = 0.004237;

fn window_hours(window: &str) -> Option<f64> {
    let (n, unit) = window.split_at(window.find(|c: char| !c.is_ascii_digit())?);
    let n: f64 = n.parse().ok()?;
    match unit {
        "m" => Some(n / 60.0),
        "h" => Some(n),
        "d" => Some(n * 24.0),
        _ => None,
    }
}

fn quantity(v: &Value) -> f64 {
    let s = v.as_str().unwrap_or("0");
    if let Some(m) = s.strip_suffix('m') {
        return m.parse::<f64>().unwrap_or(0.0) / 1000.0;
    }
    if let Some(g) = s.strip_suffix("Gi") {
        return g.parse::<f64>().unwrap_or(0.0);
    }
    if let Some(m) = s.strip_suffix("Mi") {
        return m.parse::<f64>().unwrap_or(0.0) / 1024.0;
    }
    s.parse().unwrap_or(0.0)
}

/// The answer to `/allocation/compute?<query>`; an unknown window or aggregation is a 400 with
/// OpenCost's message shape.
pub fn render(cluster: &SimCluster, params: &std::collections::HashMap<String, String>) -> (u16, Value) {
    let window = params.get("window").map(String::as_str).unwrap_or("1d");
    let Some(hours) = window_hours(window) else {
        return (400, json!({"code": 400, "message": format!("Error parsing window ({window})")}));
    };
    let aggregate: Vec<String> = params
        .get("aggregate")
        .map(|a| a.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| vec!["pod".into()]);
    for a in &aggregate {
        let ok = matches!(a.as_str(), "cluster" | "namespace" | "pod" | "node") || a.starts_with("label:");
        if !ok {
            return (
                400,
                json!({"code": 400, "message": format!("Error parsing aggregation: unrecognized property {a}")}),
            );
        }
    }
    let end = jiff::Timestamp::now();
    let end_s = end.as_second() - end.as_second() % 60;
    let start_s = end_s - (hours * 3600.0) as i64;
    let ts = |s: i64| jiff::Timestamp::from_second(s).map(|t| t.to_string()).unwrap_or_default();
    let pods: Vec<Value> = {
        let store = cluster.store.read().expect("store lock");
        let idx = cluster.registry.index_of(&r::PODS).expect("pods");
        store.list(idx, None).into_iter().filter(|p| p.phase == "Running").map(|p| p.value()).collect()
    };
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for pod in pods {
        let gpus = super::super::scenario::pod_gpus(&pod["spec"]) as f64;
        if gpus == 0.0 {
            continue;
        }
        let cpu: f64 = pod["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().map(|c| quantity(&c["resources"]["requests"]["cpu"])).sum())
            .unwrap_or(0.0);
        let ram_gib: f64 = pod["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().map(|c| quantity(&c["resources"]["requests"]["memory"])).sum())
            .unwrap_or(0.0);
        let labels = &pod["metadata"]["labels"];
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
        let name = pod["metadata"]["name"].as_str().unwrap_or("");
        let key: Vec<String> = aggregate
            .iter()
            .map(|a| match a.as_str() {
                "cluster" => cluster.name.clone(),
                "namespace" => ns.to_string(),
                "node" => pod["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                "pod" => name.to_string(),
                label => {
                    let l = label.trim_start_matches("label:");
                    match labels[l].as_str() {
                        Some(v) => format!("{l}={v}"),
                        None => "__unallocated__".to_string(),
                    }
                }
            })
            .collect();
        let key = key.join("/");
        let gpu_hours = gpus * hours;
        let gpu_cost = gpu_hours * GPU_HOUR;
        let cpu_cost = cpu * hours * CPU_CORE_HOUR;
        let ram_cost = ram_gib * hours * RAM_GIB_HOUR;
        let entry = out.entry(key.clone()).or_insert_with(|| {
            json!({"name": key, "properties": {"cluster": cluster.name, "namespace": ns},
                   "window": {"start": ts(start_s), "end": ts(end_s)}, "start": ts(start_s), "end": ts(end_s),
                   "minutes": hours * 60.0, "gpuCount": 0.0, "gpuHours": 0.0, "gpuCost": 0.0, "gpuCostAdjustment": 0.0,
                   "cpuCores": 0.0, "cpuCoreHours": 0.0, "cpuCost": 0.0, "ramBytes": 0.0, "ramCost": 0.0,
                   "pvCost": 0.0, "networkCost": 0.0, "loadBalancerCost": 0.0, "sharedCost": 0.0, "externalCost": 0.0,
                   "totalCost": 0.0, "totalEfficiency": 0.0})
        });
        let add = |e: &mut Value, k: &str, v: f64| e[k] = json!(e[k].as_f64().unwrap_or(0.0) + v);
        add(entry, "gpuCount", gpus);
        add(entry, "gpuHours", gpu_hours);
        add(entry, "gpuCost", gpu_cost);
        add(entry, "cpuCores", cpu);
        add(entry, "cpuCoreHours", cpu * hours);
        add(entry, "cpuCost", cpu_cost);
        add(entry, "ramBytes", ram_gib * 1024.0 * 1024.0 * 1024.0);
        add(entry, "ramCost", ram_cost);
        add(entry, "totalCost", gpu_cost + cpu_cost + ram_cost);
        if entry["properties"]["namespace"] != ns {
            // several namespaces under one key: OpenCost drops the property it cannot keep
            entry["properties"].as_object_mut().map(|p| p.remove("namespace"));
        }
    }
    (200, json!({"code": 200, "data": [out]}))
}
