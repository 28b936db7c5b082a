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
    /// Held by a pod, its utilisation known and under the busy threshold.
    pub fn idle_held(&self) -> bool {
        self.pod.is_some() && self.util.is_some() && !self.busy()
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
    /// By `namespace/pod`: what a pool costs is its servers' rows added up.
    pub by_pod: Vec<CostRow>,
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
    /// Pods waiting for the scheduler that ask for GPUs; None until the watch listed them.
    pub pending: Option<Vec<PendingGpuPod>>,
    /// GPU-hours kst has seen held GPUs idle, by holder, since `watching_since`.
    pub idle_hours: BTreeMap<Holder, f64>,
    /// The first exporter page kst read on this cluster: idle hours count from here.
    pub watching_since: Option<f64>,
    /// Where the GPU readings come from when a query layer is configured (`GPUs via URL`), or
    /// why it gave none.
    pub via: Option<String>,
}

/// Who holds GPUs, as allocation is grouped: (namespace, model label, team label).
pub type Holder = (String, Option<String>, Option<String>);

/// A pod the scheduler has not placed yet that asks for GPUs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PendingGpuPod {
    pub pod: Key,
    pub gpus: u32,
    pub model: Option<String>,
    pub team: Option<String>,
    /// The scheduler's message (`PodScheduled=False`), if it gave one.
    pub reason: Option<String>,
}

/// Two scrapes further apart than this say nothing about the time between them: idle hours
/// are counted only between scrapes this close (kst was not watching in a longer gap).
pub const IDLE_GAP_MAX_S: f64 = 180.0;

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

    /// Records a node's scrape, when each held GPU went idle, and the idle GPU-hours between
    /// this scrape and the last (a GPU idle at both ends, held by the same pod).
    pub fn record(&mut self, node: String, at: f64, result: Result<Vec<GpuSample>, String>) {
        let n = self.nodes.entry(node).or_default();
        match result {
            Ok(gpus) => {
                self.watching_since.get_or_insert(at);
                let gap = n.at.map(|t| at - t).filter(|g| *g > 0.0 && *g <= IDLE_GAP_MAX_S);
                for g in &gpus {
                    let id = g.id();
                    if g.idle_held() {
                        self.idle_since.entry(id.clone()).or_insert(at);
                        let was_idle = n.gpus.iter().any(|o| o.id() == id && o.pod == g.pod && o.idle_held());
                        if let (Some(gap), true, Some(pod)) = (gap, was_idle, &g.pod) {
                            *self.idle_hours.entry((pod.0.clone(), g.model.clone(), g.team.clone())).or_default() +=
                                gap / 3600.0;
                        }
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
    /// GPU-hours of the idle held GPUs' current idle spells (as long as kst has seen each).
    pub idle_held_hours: f64,
    /// GPU-hours kst has seen held GPUs idle since it began watching (every spell).
    pub idle_gpu_hours: f64,
    /// GPUs asked for by pods the scheduler has not placed.
    pub pending: u32,
}

pub fn summary(c: &GpuCluster, now: f64) -> GpuSummary {
    let mut s = GpuSummary::default();
    let mut util = Vec::new();
    for g in c.gpus() {
        s.gpus += 1;
        s.held += g.pod.is_some() as usize;
        s.busy += g.busy() as usize;
        s.xid += g.has_xid() as usize;
        if g.idle_held() {
            s.idle_held += 1;
            if let Some(since) = c.idle_since.get(&g.id()) {
                s.idle_held_hours += (now - since).max(0.0) / 3600.0;
            }
        }
        util.extend(g.util);
    }
    s.util_avg = (!util.is_empty()).then(|| util.iter().sum::<f64>() / util.len() as f64);
    s.idle_gpu_hours = c.idle_hours.values().fold(0.0, |a, h| a + h);
    s.pending = c.pending.iter().flatten().map(|p| p.gpus).sum();
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

/// The cost of one model on one cluster (or of one of its pools there), and what it buys.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelCost {
    pub model: String,
    pub context: String,
    #[serde(skip)]
    pub cluster: usize,
    /// `namespace/name` for a pool's row; None for the model's line on the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
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

type Priced = (Option<f64>, Option<CostSource>, Option<String>);

/// Dollars an hour from OpenCost's rows for one thing (a model, a pool's pods, a team): their
/// total over the window they cover.
fn measured_cost(r: &CostReport, rows: &[&CostRow]) -> Priced {
    let minutes = rows.iter().map(|x| x.minutes).fold(0.0, f64::max);
    let total: f64 = rows.iter().map(|x| x.total_cost).sum();
    ((minutes > 0.0).then(|| total / (minutes / 60.0)), Some(CostSource::Opencost { window: r.window.clone() }), None)
}

/// A cost from OpenCost's rows where there are any, else the configured price of `product`
/// times `gpus`, else why there is none.
fn priced(
    c: &super::ClusterState,
    measured: Option<(&CostReport, Vec<&CostRow>)>,
    what: &str,
    gpus: u32,
    product: &str,
    prices: &BTreeMap<String, f64>,
) -> Priced {
    if let Some((r, rows)) = measured.filter(|(_, rows)| !rows.is_empty()) {
        return measured_cost(r, &rows);
    }
    match price_of(prices, product) {
        Some((name, p)) if gpus > 0 => {
            (Some(p * gpus as f64), Some(CostSource::Estimate { gpu_hour: p, product: name.to_string() }), None)
        }
        _ if gpus == 0 => (None, None, Some("no GPUs held".to_string())),
        _ => (
            None,
            None,
            Some(match (&c.gpus.cost, product.is_empty()) {
                (_, true) => "GPU product unknown".to_string(),
                (Some(NodeCost { result: Ok(_), .. }), _) => {
                    format!("OpenCost has no {what} row; no price for {product}")
                }
                _ => format!("no OpenCost, no [cost] gpu_hour for {product}"),
            }),
        ),
    }
}

fn tokens(prefill: Option<f64>, decode: Option<f64>) -> Option<f64> {
    match (prefill, decode) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

/// Cost per model and cluster, and per pool where a model has several there: OpenCost where
/// the cluster has it, configured prices otherwise.
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
            let product = l.gpu_products.first().cloned().unwrap_or_default();
            let measured = opencost.map(|r| {
                (r, r.by_model.iter().filter(|row| model_label(row.value()) == label).take(1).collect::<Vec<_>>())
            });
            let (per_hour, source, missing) = priced(c, measured, &label, l.gpus, &product, prices);
            let tokens_per_s = tokens(l.prefill_tokens_per_s, l.decode_tokens_per_s);
            out.push(ModelCost {
                model: m.model.clone(),
                context: l.context.clone(),
                cluster: ci,
                pool: None,
                gpus: l.gpus,
                per_hour,
                source,
                missing,
                tokens_per_s,
                per_million_tokens: per_hour.zip(tokens_per_s).and_then(|(h, t)| per_million_tokens(h, t)),
                gpu_hours_per_1k_requests: l.request_rate.and_then(|r| gpu_hours_per_1k(l.gpus, r)),
            });
            if l.pools.len() < 2 {
                continue;
            }
            // each pool: its servers' OpenCost pod rows, or the price of its GPUs
            for key in &l.pools {
                let Some(p) = c.llmd.pools.iter().find(|p| format!("{}/{}", p.namespace, p.name) == *key) else {
                    continue;
                };
                let v = c.llmd.pool_view(p, reading);
                let members: Vec<&super::llmd::ServerInfo> = c.llmd.members(p).collect();
                let gpus: u32 = members.iter().filter(|s| !s.node.is_empty()).map(|s| s.gpus).sum();
                let measured = opencost.map(|r| {
                    let rows = r
                        .by_pod
                        .iter()
                        .filter(|row| members.iter().any(|s| row.key == format!("{}/{}", s.namespace, s.name)))
                        .collect::<Vec<_>>();
                    (r, rows)
                });
                let (per_hour, source, missing) = priced(c, measured, "pod", gpus, &product, prices);
                let tokens_per_s = tokens(v.prefill_tps, v.decode_tps);
                out.push(ModelCost {
                    model: m.model.clone(),
                    context: l.context.clone(),
                    cluster: ci,
                    pool: Some(key.clone()),
                    gpus,
                    per_hour,
                    source,
                    missing,
                    tokens_per_s,
                    per_million_tokens: per_hour.zip(tokens_per_s).and_then(|(h, t)| per_million_tokens(h, t)),
                    gpu_hours_per_1k_requests: v.request_rate.and_then(|r| gpu_hours_per_1k(gpus, r)),
                });
            }
        }
    }
    out
}

/// GPUs asked for, held and busy per (cluster, cluster | namespace | model | team): allocation
/// against use, with the idle GPU-hours kst has seen and what the group costs an hour.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Allocation {
    pub context: String,
    #[serde(skip)]
    pub cluster: usize,
    /// `cluster`, `namespace`, `model` or `team`.
    pub by: &'static str,
    /// `(none)` for GPUs whose holder has no such label.
    pub key: String,
    /// Held plus asked for by pods waiting for the scheduler.
    pub requested: u32,
    pub held: usize,
    pub pending: u32,
    pub busy: usize,
    pub util_avg: Option<f64>,
    /// Held-but-idle GPU-hours kst has seen since `watching_since` (Unix seconds).
    pub idle_gpu_hours: f64,
    pub watching_since: Option<f64>,
    /// Dollars an hour; None with `missing` saying why.
    pub per_hour: Option<f64>,
    pub source: Option<CostSource>,
    pub missing: Option<String>,
}

/// The ways allocation is grouped, in the order the GPU pane cycles through them.
pub const GROUPINGS: &[&str] = &["team", "namespace", "model", "cluster"];

const NONE: &str = "(none)";

fn key_for(by: &str, ns: &str, model: &Option<String>, team: &Option<String>, context: &str) -> String {
    match by {
        "cluster" => context.to_string(),
        "namespace" => ns.to_string(),
        "model" => model.clone().unwrap_or_else(|| NONE.into()),
        _ => team.clone().unwrap_or_else(|| NONE.into()),
    }
}

/// The OpenCost rows that answer for one group: its own row (label rows compared by value;
/// the cluster is every row, idle included: what the cluster costs).
fn opencost_rows<'a>(r: &'a CostReport, by: &str, key: &str) -> Vec<&'a CostRow> {
    match by {
        "cluster" => r.by_cluster.iter().collect(),
        "namespace" => r.by_namespace.iter().filter(|x| x.key == key).collect(),
        "model" | "team" if key == NONE => {
            let rows = if by == "model" { &r.by_model } else { &r.by_team };
            rows.iter().filter(|x| x.key == "__unallocated__").collect()
        }
        "model" => r.by_model.iter().filter(|x| model_label(x.value()) == model_label(key)).collect(),
        _ => r.by_team.iter().filter(|x| x.key.contains('=') && x.value() == key).collect(),
    }
}

/// Allocation against use for every cluster, grouped `by` (one of `GROUPINGS`).
pub fn allocation_by(fleet: &Fleet, by: &'static str, prices: &BTreeMap<String, f64>) -> Vec<Allocation> {
    let mut out = Vec::new();
    for (ci, c) in fleet.clusters.iter().enumerate() {
        if c.gpus.exporters.is_none_or(|n| n == 0) && c.gpus.pending.iter().flatten().next().is_none() {
            continue;
        }
        // key -> (held GPUs, pending GPUs)
        let mut groups: BTreeMap<String, (Vec<&GpuSample>, u32)> = BTreeMap::new();
        for g in c.gpus.gpus() {
            let Some(pod) = &g.pod else { continue };
            groups.entry(key_for(by, &pod.0, &g.model, &g.team, &c.context)).or_default().0.push(g);
        }
        for p in c.gpus.pending.iter().flatten() {
            groups.entry(key_for(by, &p.pod.0, &p.model, &p.team, &c.context)).or_default().1 += p.gpus;
        }
        if by == "cluster" {
            groups.entry(c.context.clone()).or_default();
        }
        let opencost = c.gpus.cost.as_ref().and_then(|k| k.result.as_ref().ok());
        for (key, (held, pending)) in groups {
            let util: Vec<f64> = held.iter().filter_map(|g| g.util).collect();
            let idle_gpu_hours = c
                .gpus
                .idle_hours
                .iter()
                .filter(|((ns, model, team), _)| key_for(by, ns, model, team, &c.context) == key)
                .fold(0.0, |a, (_, h)| a + h);
            let rows = opencost.map(|r| opencost_rows(r, by, &key)).unwrap_or_default();
            let (per_hour, source, missing) = if let (Some(r), false) = (opencost, rows.is_empty()) {
                measured_cost(r, &rows)
            } else if held.is_empty() {
                (None, None, Some("no GPUs held".to_string()))
            } else {
                let mut sum = 0.0;
                let mut unpriced: Vec<String> = Vec::new();
                let mut priced: Vec<(String, f64)> = Vec::new();
                for g in &held {
                    match price_of(prices, &g.model_name) {
                        Some((name, p)) => {
                            sum += p;
                            if !priced.iter().any(|x| x.0 == name) {
                                priced.push((name.to_string(), p));
                            }
                        }
                        None if !unpriced.contains(&g.model_name) => unpriced.push(g.model_name.clone()),
                        None => {}
                    }
                }
                match (unpriced.first(), priced.first()) {
                    (None, Some((product, p))) => {
                        (Some(sum), Some(CostSource::Estimate { gpu_hour: *p, product: product.clone() }), None)
                    }
                    (Some(product), _) => (
                        None,
                        None,
                        Some(if opencost.is_some() {
                            format!("OpenCost has no row for it; no price for {product}")
                        } else {
                            format!("no OpenCost, no [cost] gpu_hour for {product}")
                        }),
                    ),
                    (None, None) => (None, None, Some("GPU product unknown".to_string())),
                }
            };
            out.push(Allocation {
                context: c.context.clone(),
                cluster: ci,
                by,
                key,
                requested: held.len() as u32 + pending,
                held: held.len(),
                pending,
                busy: held.iter().filter(|g| g.busy()).count(),
                util_avg: (!util.is_empty()).then(|| util.iter().sum::<f64>() / util.len() as f64),
                idle_gpu_hours,
                watching_since: c.gpus.watching_since,
                per_hour,
                source,
                missing,
            });
        }
    }
    out
}

/// Every grouping of `GROUPINGS`, for the snapshot.
pub fn allocation(fleet: &Fleet) -> Vec<Allocation> {
    GROUPINGS.iter().flat_map(|by| allocation_by(fleet, by, &fleet.gpu_prices)).collect()
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

    #[test]
    fn idle_gpu_hours_add_up_between_close_scrapes_of_the_same_holder() {
        let g = |util: f64, pod: &str| GpuSample {
            node: "n".into(),
            gpu: "0".into(),
            util: Some(util),
            pod: Some(("ml".to_string(), pod.to_string())),
            team: Some("research".into()),
            ..Default::default()
        };
        let mut c = GpuCluster::default();
        let holder = ("ml".to_string(), None, Some("research".to_string()));
        c.record("n".into(), 0.0, Ok(vec![g(0.0, "a")]));
        assert_eq!(c.watching_since, Some(0.0));
        for i in 1..=60 {
            c.record("n".into(), i as f64 * 60.0, Ok(vec![g(0.0, "a")]));
        }
        assert!((c.idle_hours[&holder] - 1.0).abs() < 1e-9, "60 one-minute gaps idle: {:?}", c.idle_hours);
        // busy at one end: that gap is not idle
        c.record("n".into(), 3660.0, Ok(vec![g(0.9, "a")]));
        c.record("n".into(), 3720.0, Ok(vec![g(0.0, "a")]));
        assert!((c.idle_hours[&holder] - 1.0).abs() < 1e-9);
        // a gap longer than kst could vouch for counts nothing
        c.record("n".into(), 3720.0 + IDLE_GAP_MAX_S + 1.0, Ok(vec![g(0.0, "a")]));
        assert!((c.idle_hours[&holder] - 1.0).abs() < 1e-9);
        // another pod on the same GPU starts its own count
        c.record("n".into(), 4000.0, Ok(vec![g(0.0, "b")]));
        assert!((c.idle_hours[&holder] - 1.0).abs() < 1e-9);
        assert!((summary(&c, 4000.0).idle_gpu_hours - 1.0).abs() < 1e-9);
    }
}
