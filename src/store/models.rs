//! Models across the fleet: every served model once (names compared in llm-d's label spelling,
//! so `meta-llama/Llama-3.1-8B-Instruct` on one cluster and `llama-3-1-8b-instruct` on another
//! are one model), with a line per cluster serving it that adds up its pools there, the fleet's
//! totals, its weakest cluster, and the headroom of each line: how much more load its current
//! replicas take before an llm-d rule fires, with the reasoning.
//!
//! Sums of rates are sums of Prometheus rates; a p99 over several pools is read off their
//! merged histograms, as `histogram_quantile(sum by (le) (rate(...)))` is; an error rate is the
//! errors over the requests of the pools that report both.

use super::llmd::{model_label, Histogram, PoolView};
use super::rates::Reading;
use super::rules;
use super::Fleet;

/// A model on one cluster (or, as a model's totals, on every cluster).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ModelLine {
    /// Index into the fleet; None for the totals.
    #[serde(skip)]
    pub cluster: Option<usize>,
    pub context: String,
    /// `namespace/name` of each pool serving it there.
    pub pools: Vec<String>,
    pub prefill_ready: usize,
    pub prefill_total: usize,
    pub decode_ready: usize,
    pub decode_total: usize,
    pub request_rate: Option<f64>,
    pub prefill_tokens_per_s: Option<f64>,
    pub decode_tokens_per_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub itl_p99_s: Option<f64>,
    pub kv_avg: Option<f64>,
    pub kv_max: Option<f64>,
    /// Requests waiting, summed over the servers.
    pub queue: Option<f64>,
    /// The most requests waiting on one server.
    pub waiting_max: Option<f64>,
    pub error_rate: Option<f64>,
    /// GPUs its scheduled model servers request (what they hold).
    pub gpus: u32,
    pub gpu_products: Vec<String>,
    pub headroom: Option<Headroom>,
    /// Its pools here that are exported to the ClusterSet (`namespace/name`).
    pub exported: Vec<String>,
    /// Pools of the model this cluster imports from others.
    pub imports: Vec<ImportView>,
    /// Where more could run (filled by `kst snapshot`; the pane asks `room` for its selection).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub room: Vec<Room>,
    /// Model servers the scheduler could not place, and its message for the first.
    pub unschedulable: usize,
    pub unschedulable_reason: Option<String>,
    #[serde(skip)]
    ttft: Option<Histogram>,
    #[serde(skip)]
    itl: Option<Histogram>,
    #[serde(skip)]
    kv_n: usize,
    #[serde(skip)]
    errors: Option<(f64, f64)>,
}

/// Where more of a model could run: a cluster's free GPUs and whether the model's policy
/// selects that cluster (read-only advice, the reasoning in `why`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Room {
    pub context: String,
    /// GPUs no pod holds (whole GPUs without an XID; MIG instances are not counted).
    pub free: usize,
    /// The most free on one node: a server asking for more cannot be placed there.
    pub free_on_one_node: usize,
    pub product: String,
    /// The product the model's servers run on here.
    pub same_product: bool,
    /// `llmd-70b-h100-policy (wds1)`: the policy that placed the line's pools, if any.
    pub policy: Option<String>,
    /// Whether that policy's cluster selectors select the cluster (None: no policy, or the
    /// cluster is no ManagedCluster).
    pub selected: Option<bool>,
    pub why: String,
}

/// The free whole GPUs of a cluster by product: (product, free, most free on one node).
pub fn free_gpus(c: &super::ClusterState) -> Vec<(String, usize, usize)> {
    let mut by: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>> = Default::default();
    for g in c.gpus.gpus().filter(|g| g.pod.is_none() && g.mig.is_none() && !g.has_xid()) {
        let product = g.model_name.replace(' ', "-");
        *by.entry(product).or_default().entry(g.node.clone()).or_default() += 1;
    }
    // a GPU the device plugin withholds is reported but cannot be had: cap each node at its
    // allocatable count less the GPUs pods hold there
    let cap = |node: &str, free: usize| -> usize {
        let Some(alloc) = c.nodes.as_ref().and_then(|n| n.gpus_allocatable_by_node.get(node)) else { return free };
        let held = c.gpus.gpus().filter(|g| g.node == node && g.pod.is_some()).count();
        free.min((*alloc as usize).saturating_sub(held))
    };
    by.into_iter()
        .map(|(p, nodes)| {
            let nodes: Vec<usize> = nodes.iter().map(|(n, f)| cap(n, *f)).collect();
            (p, nodes.iter().sum(), nodes.iter().copied().max().unwrap_or(0))
        })
        .filter(|(_, free, _)| *free > 0)
        .collect()
}

/// Whether two GPU product spellings (`NVIDIA-H100-80GB-HBM3`, `NVIDIA H100 80GB HBM3`) agree.
fn same_product(a: &str, b: &str) -> bool {
    let n = |s: &str| s.to_ascii_lowercase().replace([' ', '_'], "-");
    n(a) == n(b)
}

/// Room for a model line short of capacity (servers the scheduler cannot place, no ready decode,
/// or headroom under x1.2): this cluster's and every other GPU cluster's free GPUs, each with
/// what the line's BindingPolicy says of it. Empty for a line with room enough.
pub fn room(fleet: &Fleet, line: &ModelLine) -> Vec<Room> {
    let Some(ci) = line.cluster else { return Vec::new() };
    let short = line.unschedulable > 0
        || (line.decode_total > 0 && line.decode_ready == 0)
        || line.headroom.as_ref().is_some_and(|h| h.factor < 1.2);
    if !short {
        return Vec::new();
    }
    let here = &fleet.clusters[ci];
    let servers: Vec<&str> = here
        .llmd
        .servers
        .iter()
        .filter(|s| s.pool.as_ref().is_some_and(|p| line.pools.contains(&format!("{}/{p}", s.namespace))))
        .map(|s| s.name.as_str())
        .collect();
    let views = fleet.placement_views();
    let policy = views.iter().find(|v| {
        v.clusters.iter().any(|c| c == &here.context)
            && v.objects.iter().any(|o| servers.iter().any(|s| s.starts_with(&format!("{}-", o.name))))
    });
    // what a server the scheduler could not place asks for on one node
    let asks = here
        .llmd
        .servers
        .iter()
        .filter(|s| s.unschedulable.is_some() && servers.contains(&s.name.as_str()))
        .map(|s| s.gpus as usize)
        .max();
    let managed: Vec<&super::placement::ManagedCluster> =
        fleet.clusters.iter().filter_map(|c| c.placement.managed.as_ref()).flatten().collect();
    let mut out = Vec::new();
    for (xi, x) in fleet.clusters.iter().enumerate() {
        if !x.conn.reachable() {
            continue;
        }
        for (product, free, on_one) in free_gpus(x) {
            let same = line.gpu_products.iter().any(|p| same_product(p, &product));
            let (selected, mut why) = match (policy, managed.iter().find(|m| m.name == x.context)) {
                (Some(v), Some(m)) => {
                    let (ok, terms) = super::placement::explain_cluster(&v.policy, &m.labels);
                    let failing: Vec<String> =
                        terms.iter().flatten().filter(|(_, ok)| !ok).map(|(t, _)| t.clone()).collect();
                    if ok {
                        (Some(true), format!("{} selects it", v.policy.name))
                    } else {
                        (Some(false), format!("{} does not select it (fails {})", v.policy.name, failing.join(", ")))
                    }
                }
                (Some(v), None) => (None, format!("not a ManagedCluster of {}'s ITS", v.wds)),
                (None, _) => (None, "no BindingPolicy placed this model here".to_string()),
            };
            if !same {
                why = format!("{why}; {product} is not the {} it runs on", line.gpu_products.join("/"));
            }
            if let Some(n) = asks.filter(|n| *n > 0) {
                let fits = if on_one >= n { "fits" } else { "does not fit" };
                why = format!("{why}; a waiting server asks for {n} on one node: it {fits}");
            }
            if xi == ci {
                why = format!("here; {why}");
            }
            out.push(Room {
                context: x.context.clone(),
                free,
                free_on_one_node: on_one,
                product,
                same_product: same,
                policy: policy.map(|v| format!("{} ({})", v.policy.name, v.wds)),
                selected,
                why,
            });
        }
    }
    // the same product, selected, roomiest first
    out.sort_by(|a, b| {
        (b.same_product, b.selected == Some(true), b.free).cmp(&(a.same_product, a.selected == Some(true), a.free))
    });
    out
}

/// An imported pool and whether what it points at can serve: the exporting clusters as kst
/// sees them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportView {
    #[serde(skip)]
    pub cluster: usize,
    /// The importing cluster.
    pub context: String,
    /// `namespace/name`: the same on the exporting clusters.
    pub pool: String,
    pub exporters: Vec<String>,
    /// The model the exporters' pool serves, when kst sees one of them.
    pub model: Option<String>,
    pub state: ImportState,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum ImportState {
    /// An exporter kst sees has the pool, exported, with ready decode servers.
    Serving,
    /// No exporter can serve: why, per exporter.
    Broken(String),
    /// No exporter is one of kst's contexts: nothing to check it against.
    Unknown(String),
}

/// Every InferencePoolImport of the fleet, checked against the exporting clusters kst sees.
pub fn imports(fleet: &Fleet, reading: &Reading) -> Vec<ImportView> {
    let mut out = Vec::new();
    for (ci, c) in fleet.clusters.iter().enumerate() {
        for imp in &c.llmd.imports {
            let mut model = None;
            let mut why: Vec<String> = Vec::new();
            let mut seen = 0;
            let mut serving = false;
            for e in &imp.exporters {
                let Some(x) = fleet.clusters.iter().find(|x| &x.context == e) else { continue };
                seen += 1;
                let pool = x.llmd.pools.iter().find(|p| p.namespace == imp.namespace && p.name == imp.name);
                if let Some(p) = pool {
                    let v = x.llmd.pool_view(p, reading);
                    model = model.or(v.model.clone());
                    if !x.conn.reachable() {
                        why.push(format!("exporter {e} is {}", x.conn.label()));
                    } else if !p.exported {
                        why.push(format!("{e} no longer exports {}/{}", p.namespace, p.name));
                    } else if v.decode_ready == 0 {
                        why.push(format!("no ready decode server on {e} ({}/{})", v.decode_ready, v.decode_total));
                    } else {
                        serving = true;
                    }
                } else if !x.conn.reachable() {
                    why.push(format!("exporter {e} is {}", x.conn.label()));
                } else {
                    why.push(format!("{e} has no pool {}/{}", imp.namespace, imp.name));
                }
            }
            let state = if let Some(f) = &imp.failing {
                ImportState::Broken(format!("import {f}"))
            } else if serving {
                ImportState::Serving
            } else if seen == 0 {
                ImportState::Unknown(format!(
                    "exporter {} is not one of kst's contexts",
                    if imp.exporters.is_empty() { "(none named)".to_string() } else { imp.exporters.join(", ") }
                ))
            } else {
                ImportState::Broken(why.join("; "))
            };
            out.push(ImportView {
                cluster: ci,
                context: c.context.clone(),
                pool: format!("{}/{}", imp.namespace, imp.name),
                exporters: imp.exporters.clone(),
                model,
                state,
            });
        }
    }
    out
}

/// How much more load (a factor of today's) before the first rule fires, and which rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Headroom {
    pub factor: f64,
    /// `KV max 76% of the 90% warn band`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelView {
    /// The name as served (the longest spelling seen, usually `org/Model-Name`).
    pub model: String,
    pub lines: Vec<ModelLine>,
    pub totals: ModelLine,
    /// The context of the line with the fewest ready decode servers (then the fullest KV).
    pub weakest: Option<String>,
}

fn add(a: &mut Option<f64>, b: Option<f64>) {
    if let Some(b) = b {
        *a = Some(a.unwrap_or(0.0) + b);
    }
}

fn max(a: &mut Option<f64>, b: Option<f64>) {
    if let Some(b) = b {
        *a = Some(a.map_or(b, |x| x.max(b)));
    }
}

fn merge(a: &mut Option<Histogram>, b: &Option<Histogram>) {
    if let Some(b) = b {
        match a {
            Some(h) => h.add(b),
            None => *a = Some(b.clone()),
        }
    }
}

/// The load factor the line can take before a rule fires: each gauge is assumed to grow in
/// proportion to the load (KV and waiting requests do, until the engine preempts).
pub fn headroom(kv_max: Option<f64>, waiting_max: Option<f64>) -> Option<Headroom> {
    let mut best: Option<Headroom> = None;
    let mut consider = |factor: f64, reason: String| {
        if factor.is_finite() && best.as_ref().is_none_or(|b| factor < b.factor) {
            best = Some(Headroom { factor, reason });
        }
    };
    if let Some(kv) = kv_max.filter(|k| *k > 0.0) {
        consider(
            rules::levels::KV.warn() / kv,
            format!("KV max {:.0}% of the {:.0}% warn band", kv * 100.0, rules::levels::KV.warn() * 100.0),
        );
    }
    if let Some(w) = waiting_max.filter(|w| *w > 0.0) {
        consider(
            rules::levels::WAITING.warn() / w,
            format!("{w:.0} waiting on one server of the {:.0} allowed", rules::levels::WAITING.warn()),
        );
    }
    best
}

impl ModelLine {
    fn absorb(&mut self, v: &PoolView) {
        self.prefill_ready += v.prefill_ready;
        self.prefill_total += v.prefill_total;
        self.decode_ready += v.decode_ready;
        self.decode_total += v.decode_total;
        add(&mut self.request_rate, v.request_rate);
        add(&mut self.prefill_tokens_per_s, v.prefill_tps);
        add(&mut self.decode_tokens_per_s, v.decode_tps);
        add(&mut self.queue, v.queue);
        merge(&mut self.ttft, &v.ttft);
        merge(&mut self.itl, &v.itl);
        if let (Some(e), Some(r)) = (v.error_rate, v.request_rate) {
            let (errs, reqs) = self.errors.unwrap_or((0.0, 0.0));
            self.errors = Some((errs + e * r, reqs + r));
        }
    }
    fn merge_line(&mut self, o: &ModelLine) {
        self.prefill_ready += o.prefill_ready;
        self.prefill_total += o.prefill_total;
        self.decode_ready += o.decode_ready;
        self.decode_total += o.decode_total;
        add(&mut self.request_rate, o.request_rate);
        add(&mut self.prefill_tokens_per_s, o.prefill_tokens_per_s);
        add(&mut self.decode_tokens_per_s, o.decode_tokens_per_s);
        add(&mut self.queue, o.queue);
        max(&mut self.waiting_max, o.waiting_max);
        max(&mut self.kv_max, o.kv_max);
        if let Some(kv) = o.kv_avg {
            let n = self.kv_n + o.kv_n;
            self.kv_avg = Some((self.kv_avg.unwrap_or(0.0) * self.kv_n as f64 + kv * o.kv_n as f64) / n.max(1) as f64);
            self.kv_n = n;
        }
        merge(&mut self.ttft, &o.ttft);
        merge(&mut self.itl, &o.itl);
        if let Some((e, r)) = o.errors {
            let (errs, reqs) = self.errors.unwrap_or((0.0, 0.0));
            self.errors = Some((errs + e, reqs + r));
        }
        self.gpus += o.gpus;
        self.unschedulable += o.unschedulable;
        if self.unschedulable_reason.is_none() {
            self.unschedulable_reason = o.unschedulable_reason.clone();
        }
        self.pools.extend(o.pools.iter().cloned());
        self.exported.extend(o.exported.iter().cloned());
        self.imports.extend(o.imports.iter().cloned());
        for g in &o.gpu_products {
            if !self.gpu_products.contains(g) {
                self.gpu_products.push(g.clone());
            }
        }
    }
    fn finish(&mut self) {
        self.ttft_p99_s = self.ttft.as_ref().and_then(|h| h.quantile(0.99));
        self.itl_p99_s = self.itl.as_ref().and_then(|h| h.quantile(0.99));
        self.error_rate = self.errors.and_then(|(e, r)| (r > 0.0).then(|| e / r));
        self.headroom = headroom(self.kv_max, self.waiting_max);
    }
}

/// The model's line for cluster `ci`, made when it has none yet.
fn line_of<'a>(lines: &'a mut Vec<ModelLine>, ci: usize, c: &super::ClusterState) -> &'a mut ModelLine {
    if let Some(i) = lines.iter().position(|x| x.cluster == Some(ci)) {
        return &mut lines[i];
    }
    lines.push(ModelLine {
        cluster: Some(ci),
        context: c.context.clone(),
        gpu_products: c.nodes.as_ref().map(|n| n.gpu_products.iter().cloned().collect()).unwrap_or_default(),
        ..Default::default()
    });
    lines.last_mut().expect("just pushed")
}

/// Every model of the fleet's reachable clusters, by name.
pub fn views(fleet: &Fleet, reading: &Reading) -> Vec<ModelView> {
    // (label) -> (served name, lines)
    let mut by: std::collections::BTreeMap<String, (String, Vec<ModelLine>)> = Default::default();
    for (ci, c) in fleet.clusters.iter().enumerate() {
        let l = &c.llmd;
        for p in &l.pools {
            let v = l.pool_view(p, reading);
            let servers: Vec<&super::llmd::ServerInfo> = l
                .servers
                .iter()
                .filter(|s| s.pool.as_deref() == Some(p.name.as_str()) && s.namespace == p.namespace)
                .collect();
            let Some(name) = v.model.clone().or_else(|| servers.iter().find_map(|s| s.model.clone())) else { continue };
            let entry = by.entry(model_label(&name)).or_insert_with(|| (name.clone(), Vec::new()));
            if name.len() > entry.0.len() {
                entry.0 = name.clone();
            }
            let line = line_of(&mut entry.1, ci, c);
            line.pools.push(format!("{}/{}", p.namespace, p.name));
            if p.exported {
                line.exported.push(format!("{}/{}", p.namespace, p.name));
            }
            line.absorb(&v);
            for s in servers {
                // a pod the scheduler has not placed holds no GPUs
                if !s.node.is_empty() {
                    line.gpus += s.gpus;
                }
                if let Some(why) = &s.unschedulable {
                    line.unschedulable += 1;
                    line.unschedulable_reason.get_or_insert_with(|| why.clone());
                }
                let sv = l.view(s, reading);
                if !sv.fresh() {
                    continue;
                }
                if let Some(kv) = sv.kv {
                    line.kv_avg = Some((line.kv_avg.unwrap_or(0.0) * line.kv_n as f64 + kv) / (line.kv_n + 1) as f64);
                    line.kv_n += 1;
                    max(&mut line.kv_max, Some(kv));
                }
                max(&mut line.waiting_max, sv.waiting);
            }
        }
    }
    // an import is a line of its model on the importing cluster, served or not there
    for imp in imports(fleet, reading) {
        let Some(name) = imp.model.clone() else { continue };
        let entry = by.entry(model_label(&name)).or_insert_with(|| (name.clone(), Vec::new()));
        let c = &fleet.clusters[imp.cluster];
        line_of(&mut entry.1, imp.cluster, c).imports.push(imp);
    }
    by.into_values()
        .map(|(model, mut lines)| {
            lines.sort_by_key(|l| l.cluster);
            let mut totals = ModelLine { context: "fleet".into(), ..Default::default() };
            for l in lines.iter_mut() {
                l.finish();
                totals.merge_line(l);
            }
            totals.finish();
            let weakest = lines
                .iter()
                .filter(|l| l.decode_total + l.prefill_total > 0)
                .min_by(|a, b| {
                    let ratio = |x: &ModelLine| x.decode_ready as f64 / x.decode_total.max(1) as f64;
                    ratio(a).total_cmp(&ratio(b)).then(b.kv_max.unwrap_or(0.0).total_cmp(&a.kv_max.unwrap_or(0.0)))
                })
                .filter(|_| lines.len() > 1)
                .map(|l| l.context.clone());
            ModelView { model, lines, totals, weakest }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_compare_in_the_label_spelling() {
        assert_eq!(model_label("meta-llama/Llama-3.1-8B-Instruct"), "llama-3-1-8b-instruct");
        assert_eq!(model_label("llama-3-1-8b-instruct"), "llama-3-1-8b-instruct");
        assert_eq!(model_label("Qwen/Qwen2.5_7B"), "qwen2-5-7b");
    }

    #[test]
    fn headroom_is_the_first_rule_to_fire_under_proportional_load() {
        // KV 60% of 90%: x1.5; 20 waiting of 50: x2.5; the KV band comes first
        let h = headroom(Some(0.60), Some(20.0)).unwrap();
        assert!((h.factor - 1.5).abs() < 1e-9);
        assert_eq!(h.reason, "KV max 60% of the 90% warn band");
        let h = headroom(Some(0.30), Some(40.0)).unwrap();
        assert!((h.factor - 1.25).abs() < 1e-9, "50/40 before 0.9/0.3");
        assert!(h.reason.starts_with("40 waiting"));
        // already over: a factor under 1 says by how much the load must fall
        assert!((headroom(Some(0.95), None).unwrap().factor - 0.9 / 0.95).abs() < 1e-9);
        assert_eq!(headroom(None, None), None, "nothing known, no advice");
        assert_eq!(headroom(Some(0.0), Some(0.0)), None, "idle servers: no ratio to project");
    }

    #[test]
    fn a_line_adds_its_pools_and_merges_their_histograms() {
        let h = |c: &[f64]| Histogram {
            bounds: vec![0.1, 1.0, f64::INFINITY],
            cumulative: c.to_vec(),
            sum: 0.0,
            count: c[2],
        };
        let a = PoolView {
            decode_ready: 2,
            decode_total: 3,
            request_rate: Some(10.0),
            error_rate: Some(0.01),
            ttft: Some(h(&[90.0, 100.0, 100.0])),
            ..Default::default()
        };
        let b = PoolView {
            decode_ready: 1,
            decode_total: 1,
            request_rate: Some(30.0),
            error_rate: Some(0.05),
            ttft: Some(h(&[0.0, 100.0, 100.0])),
            ..Default::default()
        };
        let mut l = ModelLine::default();
        l.absorb(&a);
        l.absorb(&b);
        l.finish();
        assert_eq!((l.decode_ready, l.decode_total), (3, 4));
        assert_eq!(l.request_rate, Some(40.0));
        assert!(
            (l.error_rate.unwrap() - (0.1 + 1.5) / 40.0).abs() < 1e-12,
            "errors over requests, not a mean of rates"
        );
        // merged: 90 of 200 under 0.1 s, 200 under 1 s: the p99 is in the (0.1, 1] bucket
        let p99 = l.ttft_p99_s.unwrap();
        assert!((p99 - (0.1 + 0.9 * (198.0 - 90.0) / 110.0)).abs() < 1e-9, "{p99}");
    }
}
