//! GPUs and their cost: what each GPU's dcgm-exporter says (utilisation, framebuffer, power,
//! temperature, the last XID, the pod holding it), what OpenCost says a model, team or cluster
//! cost over its window, and what kst derives from both: GPUs held against GPUs busy, idle
//! allocated GPUs and for how long kst has seen them idle, and cost per million tokens where the
//! token rates are known.
//!
//! Measured and estimated are never mixed up: a cost from OpenCost names its window; a cost from
//! configured prices per GPU-hour is an estimate of the GPUs alone and says so; a cluster
//! without either has no cost (`—` and the reason), never 0.

use std::collections::BTreeMap;

use super::llmd::{model_label, Key};
use super::rules;
use super::Fleet;

/// One GPU (or one MIG instance) as its exporter reported it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct GpuSample {
    pub node: String,
    /// The device index (`gpu` label).
    pub gpu: String,
    #[serde(rename = "uuid")]
    pub uuid: String,
    /// `modelName`: `NVIDIA H100 80GB HBM3`.
    pub model_name: String,
    /// `3g.40gb #1` for a MIG instance.
    pub mig: Option<String>,
    /// 0..1: `DCGM_FI_DEV_GPU_UTIL / 100`, or `DCGM_FI_PROF_GR_ENGINE_ACTIVE` under MIG.
    pub util: Option<f64>,
    pub fb_used_mib: Option<f64>,
    pub fb_free_mib: Option<f64>,
    pub power_w: Option<f64>,
    pub temp_c: Option<f64>,
    /// The last XID error; 0 or absent: none.
    pub xid: Option<f64>,
    /// The pod holding it (`namespace`, `pod`), from the exporter's Kubernetes mapping.
    pub pod: Option<Key>,
    /// The holder's `llm-d.ai/model` and team labels, read from the pod.
    pub model: Option<String>,
    pub team: Option<String>,
}

impl GpuSample {
    /// The key that identifies it across scrapes.
    pub fn id(&self) -> String {
        match &self.mig {
            Some(m) => format!("{}/{} {m}", self.node, self.gpu),
            None => format!("{}/{}", self.node, self.gpu),
        }
    }
    pub fn fb_total_mib(&self) -> Option<f64> {
        Some(self.fb_used_mib? + self.fb_free_mib?)
    }
    /// Framebuffer used, 0..1.
    pub fn fb_used(&self) -> Option<f64> {
        let total = self.fb_total_mib()?;
        (total > 0.0).then(|| self.fb_used_mib.unwrap_or(0.0) / total)
    }
    pub fn busy(&self) -> bool {
        self.util.is_some_and(|u| u >= rules::GPU_BUSY)
    }
    pub fn has_xid(&self) -> bool {
        self.xid.is_some_and(|x| x > 0.0)
    }
}

/// One node's exporter page: the GPUs of the last good scrape and when, and the last error
/// if the latest scrape failed (the GPUs stay, shown with their age).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeScrape {
    pub at: Option<f64>,
    pub gpus: Vec<GpuSample>,
    pub error: Option<(f64, String)>,
}

/// One OpenCost aggregation: its rows by key over the window.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CostRow {
    /// The aggregation's key: a cluster, a namespace, `llm-d.ai/model=…`, `team=…`,
    /// `__unallocated__`, `__idle__`.
    pub key: String,
    pub minutes: f64,
    pub gpu_hours: f64,
    pub gpu_cost: f64,
    pub total_cost: f64,
}

impl CostRow {
    /// The value after `=` for a label aggregation.
    pub fn value(&self) -> &str {
        self.key.rsplit_once('=').map(|x| x.1).unwrap_or(&self.key)
    }
    /// Dollars an hour over the window.
    pub fn per_hour(&self) -> Option<f64> {
        (self.minutes > 0.0).then(|| self.total_cost / (self.minutes / 60.0))
    }
}

/// What one cluster's OpenCost answered.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CostReport {
    /// `namespace/name` of the OpenCost Service asked.
    pub service: String,
    pub window: String,
    pub by_namespace: Vec<CostRow>,
    pub by_model: Vec<CostRow>,
    pub by_team: Vec<CostRow>,
    pub by_cluster: Vec<CostRow>,
}

#[derive(Debug, Clone, Default)]
pub struct GpuCluster {
    /// None until the exporter watch answered; Some(0): no dcgm-exporter on this cluster.
    pub exporters: Option<usize>,
    pub nodes: BTreeMap<String, NodeScrape>,
    /// Since when kst has seen each allocated GPU idle (by `GpuSample::id`).
    pub idle_since: BTreeMap<String, f64>,
    /// OpenCost: None before it was looked for; the Service's absence is `Err`.
    pub cost: Option<NodeCost>,
}

/// OpenCost's answer with the time it came.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeCost {
    pub at: f64,
    pub result: Result<CostReport, String>,
}

impl GpuCluster {
    /// Every GPU of the last good scrape of each node.
    pub fn gpus(&self) -> impl Iterator<Item = &GpuSample> {
        self.nodes.values().flat_map(|n| n.gpus.iter())
    }

    /// Records a node's scrape, and when each held GPU went idle.
    pub fn record(&mut self, node: String, at: f64, result: Result<Vec<GpuSample>, String>) {
        let n = self.nodes.entry(node).or_default();
        match result {
            Ok(gpus) => {
                for g in &gpus {
                    let id = g.id();
                    if g.pod.is_some() && g.util.is_some() && !g.busy() {
                        self.idle_since.entry(id).or_insert(at);
                    } else {
                        self.idle_since.remove(&id);
                    }
                }
                *n = NodeScrape { at: Some(at), gpus, error: None };
            }
            Err(e) => n.error = Some((at, e)),
        }
    }

    /// The nodes whose last scrape failed, with why.
    pub fn failing(&self) -> Vec<(String, String)> {
        self.nodes.iter().filter_map(|(n, s)| Some((n.clone(), s.error.as_ref()?.1.clone()))).collect()
    }
}

/// A cluster's GPUs in one line: held, busy, idle-but-held, mean utilisation.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct GpuSummary {
    pub gpus: usize,
    pub held: usize,
    pub busy: usize,
    pub idle_held: usize,
    pub util_avg: Option<f64>,
    pub xid: usize,
    /// GPU-hours kst has seen held GPUs idle.
    pub idle_held_hours: f64,
}

pub fn summary(c: &GpuCluster, now: f64) -> GpuSummary {
    let mut s = GpuSummary::default();
    let mut util = Vec::new();
    for g in c.gpus() {
        s.gpus += 1;
        s.held += g.pod.is_some() as usize;
        s.busy += g.busy() as usize;
        s.xid += g.has_xid() as usize;
        if g.pod.is_some() && g.util.is_some() && !g.busy() {
            s.idle_held += 1;
            if let Some(since) = c.idle_since.get(&g.id()) {
                s.idle_held_hours += (now - since).max(0.0) / 3600.0;
            }
        }
        util.extend(g.util);
    }
    s.util_avg = (!util.is_empty()).then(|| util.iter().sum::<f64>() / util.len() as f64);
    s
}

/// Where a cost comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CostSource {
    /// OpenCost's allocation over this window (all resources of the pods).
    Opencost { window: String },
    /// Configured price per GPU-hour x GPUs held now: GPUs only.
    Estimate { gpu_hour: f64, product: String },
}

/// The cost of one model on one cluster, and what it buys.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelCost {
    pub model: String,
    pub context: String,
    #[serde(skip)]
    pub cluster: usize,
    pub gpus: u32,
    /// Dollars an hour; None with `missing` saying why.
    pub per_hour: Option<f64>,
    pub source: Option<CostSource>,
    pub missing: Option<String>,
    /// Prompt plus generated tokens a second, over the rate window.
    pub tokens_per_s: Option<f64>,
    pub per_million_tokens: Option<f64>,
    pub gpu_hours_per_1k_requests: Option<f64>,
}

/// Dollars per million tokens at `per_hour` and `tokens_per_s`.
pub fn per_million_tokens(per_hour: f64, tokens_per_s: f64) -> Option<f64> {
    (tokens_per_s > 0.0).then(|| per_hour / (tokens_per_s * 3600.0) * 1e6)
}

/// GPU-hours per thousand requests with `gpus` held at `requests_per_s`.
pub fn gpu_hours_per_1k(gpus: u32, requests_per_s: f64) -> Option<f64> {
    (requests_per_s > 0.0 && gpus > 0).then(|| gpus as f64 / (requests_per_s * 3600.0) * 1000.0)
}

/// The configured price of a GPU product an hour: exact name, then with spaces for dashes.
pub fn price_of<'a>(prices: &'a BTreeMap<String, f64>, product: &str) -> Option<(&'a str, f64)> {
    let norm = |s: &str| s.to_ascii_lowercase().replace([' ', '_'], "-");
    prices.iter().find(|(k, _)| norm(k) == norm(product)).map(|(k, v)| (k.as_str(), *v))
}

/// Cost per model and cluster: OpenCost where the cluster has it, configured prices otherwise.
pub fn model_costs(fleet: &Fleet, reading: &super::rates::Reading, prices: &BTreeMap<String, f64>) -> Vec<ModelCost> {
    let mut out = Vec::new();
    for m in super::models::views(fleet, reading) {
        let label = model_label(&m.model);
        for l in &m.lines {
            let Some(ci) = l.cluster else { continue };
            if l.pools.is_empty() {
                continue;
            }
            let c = &fleet.clusters[ci];
            let opencost = c.gpus.cost.as_ref().and_then(|k| k.result.as_ref().ok());
            let measured = opencost
                .and_then(|r| r.by_model.iter().find(|row| model_label(row.value()) == label).map(|row| (r, row)));
            let (per_hour, source, missing) = if let Some((r, row)) = measured {
                (row.per_hour(), Some(CostSource::Opencost { window: r.window.clone() }), None)
            } else {
                let product = l.gpu_products.first().cloned().unwrap_or_default();
                match price_of(prices, &product) {
                    Some((name, p)) if l.gpus > 0 => (
                        Some(p * l.gpus as f64),
                        Some(CostSource::Estimate { gpu_hour: p, product: name.to_string() }),
                        None,
                    ),
                    _ if l.gpus == 0 => (None, None, Some("no GPUs held".to_string())),
                    _ => (
                        None,
                        None,
                        Some(match (&c.gpus.cost, product.is_empty()) {
                            (_, true) => "GPU product unknown".to_string(),
                            (Some(NodeCost { result: Ok(_), .. }), _) => {
                                format!("OpenCost has no {label} row; no price for {product}")
                            }
                            _ => format!("no OpenCost, no [cost] gpu_hour for {product}"),
                        }),
                    ),
                }
            };
            let tokens = match (l.prefill_tokens_per_s, l.decode_tokens_per_s) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            };
            out.push(ModelCost {
                model: m.model.clone(),
                context: l.context.clone(),
                cluster: ci,
                gpus: l.gpus,
                per_hour,
                source,
                missing,
                tokens_per_s: tokens,
                per_million_tokens: per_hour.zip(tokens).and_then(|(h, t)| per_million_tokens(h, t)),
                gpu_hours_per_1k_requests: l.request_rate.and_then(|r| gpu_hours_per_1k(l.gpus, r)),
            });
        }
    }
    out
}

/// GPUs held and busy per (cluster, namespace | model | team): allocation against use.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Allocation {
    pub context: String,
    /// `namespace`, `model` or `team`.
    pub by: &'static str,
    pub key: String,
    pub held: usize,
    pub busy: usize,
    pub util_avg: Option<f64>,
}

pub fn allocation(fleet: &Fleet) -> Vec<Allocation> {
    let mut out: BTreeMap<(String, &'static str, String), (usize, usize, Vec<f64>)> = BTreeMap::new();
    for c in &fleet.clusters {
        for g in c.gpus.gpus().filter(|g| g.pod.is_some()) {
            let ns = g.pod.as_ref().map(|p| p.0.clone()).unwrap_or_default();
            let keys = [("namespace", Some(ns)), ("model", g.model.clone()), ("team", g.team.clone())];
            for (by, key) in keys {
                let e = out.entry((c.context.clone(), by, key.unwrap_or_else(|| "(none)".into()))).or_default();
                e.0 += 1;
                e.1 += g.busy() as usize;
                e.2.extend(g.util);
            }
        }
    }
    out.into_iter()
        .map(|((context, by, key), (held, busy, u))| Allocation {
            context,
            by,
            key,
            held,
            busy,
            util_avg: (!u.is_empty()).then(|| u.iter().sum::<f64>() / u.len() as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_per_million_tokens_and_gpu_hours_per_thousand_requests() {
        // $8.85/h at 2,000 tokens/s: 7.2M tokens an hour, $1.229 per million
        assert!((per_million_tokens(8.85, 2000.0).unwrap() - 8.85 / 7.2).abs() < 1e-12);
        assert_eq!(per_million_tokens(8.85, 0.0), None, "no tokens: no price per token, not infinity");
        // 12 GPUs at 5 req/s: 18,000 requests an hour, 12 GPU-hours: 0.667 per 1k
        assert!((gpu_hours_per_1k(12, 5.0).unwrap() - 12.0 / 18.0).abs() < 1e-12);
        assert_eq!(gpu_hours_per_1k(0, 5.0), None);
    }

    #[test]
    fn prices_match_the_product_however_it_is_spelled() {
        let prices: BTreeMap<String, f64> = [("NVIDIA-A100-SXM4-80GB".to_string(), 1.8)].into();
        assert_eq!(price_of(&prices, "NVIDIA-A100-SXM4-80GB").map(|x| x.1), Some(1.8));
        assert_eq!(price_of(&prices, "NVIDIA A100 SXM4 80GB").map(|x| x.1), Some(1.8));
        assert_eq!(price_of(&prices, "NVIDIA-H100-80GB-HBM3"), None);
    }

    #[test]
    fn idle_held_gpus_are_timed_from_when_kst_first_saw_them_idle() {
        let g = |util: f64, pod: bool| GpuSample {
            node: "n".into(),
            gpu: "0".into(),
            util: Some(util),
            pod: pod.then(|| ("ml".to_string(), "job".to_string())),
            ..Default::default()
        };
        let mut c = GpuCluster::default();
        c.record("n".into(), 100.0, Ok(vec![g(0.0, true)]));
        c.record("n".into(), 3700.0, Ok(vec![g(0.01, true)]));
        let s = summary(&c, 3700.0);
        assert_eq!((s.held, s.busy, s.idle_held), (1, 0, 1));
        assert!((s.idle_held_hours - 1.0).abs() < 1e-9, "since the first idle scrape: {}", s.idle_held_hours);
        // busy again: the clock starts over
        c.record("n".into(), 3800.0, Ok(vec![g(0.8, true)]));
        assert!(c.idle_since.is_empty());
        // a free GPU is not "idle allocated"
        c.record("n".into(), 3900.0, Ok(vec![g(0.0, false)]));
        assert_eq!(summary(&c, 3900.0).idle_held, 0);
        // a failed scrape keeps the last GPUs and says why
        c.record("n".into(), 4000.0, Err("timeout".into()));
        assert_eq!(c.gpus().count(), 1);
        assert_eq!(c.failing(), vec![("n".to_string(), "timeout".to_string())]);
    }
}
