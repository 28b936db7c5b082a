//! GPUs and cost of one cluster: every dcgm-exporter pod (found by a watch of its labels) is
//! scraped through the API server's pod proxy each refresh, and its page decoded per GPU; the
//! holders' pods are read once for their model and team labels; an OpenCost Service (found by
//! a watch of Services named `opencost`) is asked for its allocations every minute.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::exposition::{self, Part, Sample};
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::mpsc;

use super::fold::{key_of, Folded};
use super::options::{ServiceRef, WorkerOptions, OPENCOST_PORT};
use super::paced::{self, WatchCtx};
use super::prom::string_literal;
use crate::store::gpus::{CostReport, CostRow, GpuSample, PendingGpuPod};
use crate::store::llmd::Key;
use crate::store::Update;

/// The labels that find dcgm-exporter pods: the GPU Operator's, then the standalone chart's.
pub const EXPORTER_SELECTORS: &[&str] = &["app=nvidia-dcgm-exporter", "app.kubernetes.io/name=dcgm-exporter"];
/// The dcgm-exporter's port.
pub const EXPORTER_PORT: u16 = 9400;
/// OpenCost's window kst asks for, and how often.
pub const COST_WINDOW: &str = "1h";
const COST_EVERY: Duration = Duration::from_secs(60);
const PAGE_MAX_BYTES: usize = 4 << 20;

/// The labels of a DCGM sample kst reads, found in one pass over them (a page has thousands
/// of samples, each with a dozen labels).
#[derive(Default)]
struct DcgmLabels<'a> {
    gpu: Option<Cow<'a, str>>,
    profile: Option<Cow<'a, str>>,
    instance: Option<Cow<'a, str>>,
    hostname: Option<Cow<'a, str>>,
    uuid: Option<Cow<'a, str>>,
    model: Option<Cow<'a, str>>,
    /// `pod`, `pod_name`, `exported_pod`: the first spelling present wins.
    pod: [Option<Cow<'a, str>>; 3],
    namespace: [Option<Cow<'a, str>>; 3],
}

impl<'a> DcgmLabels<'a> {
    fn of(s: &Sample<'a>) -> DcgmLabels<'a> {
        let mut l = DcgmLabels::default();
        for (k, v) in s.labels().filter(|(_, v)| !v.is_empty()) {
            let slot = match k {
                "gpu" => &mut l.gpu,
                "GPU_I_PROFILE" => &mut l.profile,
                "GPU_I_ID" => &mut l.instance,
                "Hostname" => &mut l.hostname,
                "UUID" => &mut l.uuid,
                "modelName" => &mut l.model,
                "pod" => &mut l.pod[0],
                "pod_name" => &mut l.pod[1],
                "exported_pod" => &mut l.pod[2],
                "namespace" => &mut l.namespace[0],
                "pod_namespace" => &mut l.namespace[1],
                "exported_namespace" => &mut l.namespace[2],
                _ => continue,
            };
            slot.get_or_insert(v);
        }
        l
    }

    /// The pod and namespace under the same spelling's rank: (namespace, pod).
    fn pod(&self) -> Option<(String, String)> {
        let first = |a: &[Option<Cow<'a, str>>; 3]| a.iter().flatten().next().map(|v| v.to_string());
        Some((first(&self.namespace)?, first(&self.pod)?))
    }
}

/// A dcgm-exporter page -> one sample per GPU (or MIG instance). `node` names the GPUs when the
/// page has no `Hostname`. The Kubernetes mapping is read under its three spellings: `pod` and
/// `namespace`, the older `pod_name` / `pod_namespace`, and `exported_*` behind Prometheus.
pub fn decode_dcgm(text: &str, node: &str) -> Result<Vec<GpuSample>, String> {
    let page = exposition::parse_some(text)?;
    let mut gpus: BTreeMap<(String, Option<String>), GpuSample> = BTreeMap::new();
    let mut seen_dcgm = false;
    for (name, m) in page.families.iter().filter(|(n, _)| n.starts_with("DCGM_")) {
        seen_dcgm = true;
        for s in m.samples.iter().filter(|s| s.part == Part::Sample) {
            let l = DcgmLabels::of(s);
            let Some(gpu) = &l.gpu else { continue };
            let mig = l.profile.as_ref().map(|p| format!("{p} #{}", l.instance.as_deref().unwrap_or("?")));
            let key = (gpu.to_string(), mig);
            let g = gpus.entry(key).or_insert_with_key(|(gpu, mig)| GpuSample {
                node: l.hostname.as_deref().unwrap_or(node).to_string(),
                gpu: gpu.clone(),
                uuid: l.uuid.as_deref().unwrap_or("").to_string(),
                model_name: l.model.as_deref().unwrap_or("").to_string(),
                mig: mig.clone(),
                ..Default::default()
            });
            if g.pod.is_none() {
                g.pod = l.pod();
            }
            let Some(v) = s.finite() else { continue };
            match *name {
                "DCGM_FI_DEV_GPU_UTIL" => g.util = Some(v / 100.0),
                // the MIG-safe engine activity, a ratio: used where GPU_UTIL is absent
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE" if g.mig.is_some() || g.util.is_none() => g.util = Some(v),
                "DCGM_FI_DEV_FB_USED" => g.fb_used_mib = Some(v),
                "DCGM_FI_DEV_FB_FREE" => g.fb_free_mib = Some(v),
                "DCGM_FI_DEV_POWER_USAGE" => g.power_w = Some(v),
                "DCGM_FI_DEV_GPU_TEMP" => g.temp_c = Some(v),
                "DCGM_FI_DEV_XID_ERRORS" => g.xid = Some(v),
                _ => {}
            }
        }
    }
    // GPU_UTIL wins over the engine activity for a whole GPU, whichever came first
    for s in page.families.get("DCGM_FI_DEV_GPU_UTIL").into_iter().flat_map(|m| m.samples.iter()) {
        let l = DcgmLabels::of(s);
        let (Some(gpu), None) = (&l.gpu, &l.profile) else { continue };
        if let (Some(g), Some(v)) = (gpus.get_mut(&(gpu.to_string(), None)), s.finite()) {
            g.util = Some(v / 100.0);
        }
    }
    if !seen_dcgm {
        return Err("no DCGM_ series on the page: is this a dcgm-exporter?".into());
    }
    Ok(gpus.into_values().collect())
}

/// One OpenCost `/allocation/compute` answer -> its rows (one step, accumulated). An answer
/// whose `code` is not 200 is an error with OpenCost's message.
pub fn decode_allocation(body: &[u8]) -> Result<Vec<CostRow>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not OpenCost JSON: {e}"))?;
    let code = v["code"].as_i64().unwrap_or(0);
    if code != 200 {
        let msg = v["message"].as_str().unwrap_or("no message");
        return Err(format!("OpenCost answered {code}: {msg}"));
    }
    let steps = v["data"].as_array().ok_or("OpenCost JSON without data[]")?;
    let mut rows: BTreeMap<String, CostRow> = BTreeMap::new();
    for step in steps {
        let Some(map) = step.as_object() else { continue };
        for (key, a) in map {
            let f = |k: &str| a[k].as_f64().unwrap_or(0.0);
            let r = rows.entry(key.clone()).or_insert_with(|| CostRow { key: key.clone(), ..Default::default() });
            r.minutes += f("minutes");
            r.gpu_hours += f("gpuHours");
            r.gpu_cost += f("gpuCost") + f("gpuCostAdjustment");
            r.total_cost += f("totalCost");
        }
    }
    Ok(rows.into_values().collect())
}

/// A Pending pod that asks for GPUs, slim; None for one that asks for none.
pub fn pending_gpu_pod(o: &DynamicObject, team_label: &str) -> Option<PendingGpuPod> {
    let d = &o.data;
    if d["status"]["phase"] != "Pending" {
        return None;
    }
    let gpus = super::gpu_resources::of_pod(&d["spec"]);
    if gpus == 0 {
        return None;
    }
    let labels = o.metadata.labels.as_ref();
    let reason = d["status"]["conditions"].as_array().and_then(|cs| {
        cs.iter()
            .find(|c| c["type"] == "PodScheduled" && c["status"] == "False")
            .and_then(|c| c["message"].as_str().or(c["reason"].as_str()))
            .map(str::to_string)
    });
    Some(PendingGpuPod {
        pod: (o.metadata.namespace.clone()?, o.metadata.name.clone()?),
        gpus,
        model: labels.and_then(|l| l.get("llm-d.ai/model").cloned()),
        team: labels.and_then(|l| l.get(team_label).cloned()),
        reason,
    })
}

/// The DCGM families kst reads, after `DCGM_FI_`.
pub const DCGM_FAMILIES: &[&str] = &[
    "DEV_GPU_UTIL",
    "PROF_GR_ENGINE_ACTIVE",
    "DEV_FB_USED",
    "DEV_FB_FREE",
    "DEV_POWER_USAGE",
    "DEV_GPU_TEMP",
    "DEV_XID_ERRORS",
];

/// The labels that can name an exporter's node behind a query layer, in the order trusted: the
/// exporter's own `Hostname`, then what service discovery relabelling usually adds.
const NODE_LABELS: &[&str] = &["Hostname", "node", "kubernetes_node", "instance"];

/// One cluster's DCGM series from the query layer.
pub fn dcgm_query(label: &str, value: &str) -> String {
    format!("{{__name__=~\"DCGM_FI_({})\",{label}={}}}", DCGM_FAMILIES.join("|"), string_literal(value))
}

/// When each node's exporter was last scraped (an instant query's points carry the evaluation
/// time, so a dead exporter would look fresh for the lookback without this).
pub fn dcgm_times_query(label: &str, value: &str) -> String {
    // one family per `timestamp()`: it drops the metric name, and two families' series would
    // then share a label set
    let m = format!("{label}={}", string_literal(value));
    format!(
        "max by ({}) (timestamp(DCGM_FI_DEV_FB_USED{{{m}}}) or timestamp(DCGM_FI_DEV_GPU_UTIL{{{m}}}) or timestamp(DCGM_FI_PROF_GR_ENGINE_ACTIVE{{{m}}}))",
        NODE_LABELS.join(", "),
    )
}

fn node_of(labels: &BTreeMap<String, String>) -> Option<String> {
    NODE_LABELS.iter().find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
}

/// The query layer's DCGM answer -> per node: the scrape time and the node's GPUs, decoded by
/// the same decoder as an exporter's page (the series written back as exposition text). A node
/// without a scrape time is left out: its age would be a guess.
pub fn dcgm_from_answer(
    series: &super::prom::Answer,
    times: &super::prom::Answer,
) -> Vec<(String, f64, Result<Vec<GpuSample>, String>)> {
    let mut by_node: BTreeMap<String, Vec<&super::prom::Sample>> = BTreeMap::new();
    for s in &series.samples {
        if let Some(n) = node_of(&s.labels) {
            by_node.entry(n).or_default().push(s);
        }
    }
    let at: BTreeMap<String, f64> = times.samples.iter().filter_map(|s| Some((node_of(&s.labels)?, s.value))).collect();
    by_node
        .into_iter()
        .filter_map(|(node, samples)| {
            let t = *at.get(&node)?;
            Some((node.clone(), t, decode_dcgm(&super::prom::exposition(&samples), &node)))
        })
        .collect()
}

/// The label value the query layer knows this context by (`[[metrics.prometheus]] clusters`
/// maps values to contexts; read backwards).
fn label_value(cfg: &super::prom::PromConfig, context: &str) -> String {
    cfg.clusters.iter().find(|(_, c)| *c == context).map(|(v, _)| v.clone()).unwrap_or_else(|| context.to_string())
}

/// Asks the query layer for one cluster's GPUs: per node (scrape time, GPUs).
async fn query_gpus(
    asker: &super::prom::Asker,
    cfg: &super::prom::PromConfig,
    value: &str,
) -> Result<Vec<(String, f64, Result<Vec<GpuSample>, String>)>, String> {
    let (series, times) = super::prom::query_with_times(
        asker,
        cfg,
        &dcgm_query(&cfg.cluster_label, value),
        &dcgm_times_query(&cfg.cluster_label, value),
        None,
    )
    .await
    .map_err(|e| e.0)?;
    Ok(dcgm_from_answer(&series, &times))
}

/// One round of the query layers' answer for a cluster's GPUs.
struct LayerGpus {
    nodes: Vec<(String, f64, Result<Vec<GpuSample>, String>)>,
    via: String,
}

/// Asks the query layers for one cluster's GPUs every `refresh` (each client made when first
/// needed, and again after it could not be made: a context's credentials failing now, as the
/// engines' task does) and sends each round's answer.
async fn ask_layers(
    wanted: Vec<super::prom::PromConfig>,
    context: String,
    refresh: Duration,
    tx: mpsc::Sender<LayerGpus>,
) {
    let mut askers: Vec<Option<super::prom::Asker>> = vec![None; wanted.len()];
    let mut every = tokio::time::interval(refresh);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let mut layers: Vec<(super::prom::PromConfig, super::prom::Asker)> = Vec::new();
        let mut unmade = Vec::new();
        for (cfg, asker) in wanted.iter().zip(askers.iter_mut()) {
            if asker.is_none() {
                match super::prom::Asker::for_config(cfg).await {
                    Ok(a) => *asker = Some(a),
                    Err(e) => unmade.push(format!("GPUs from {}: {e}", cfg.url)),
                }
            }
            if let Some(a) = asker {
                layers.push((cfg.clone(), a.clone()));
            }
        }
        // the first query layer (in the config's order) holding this cluster's series
        let (nodes, via) = first_holding(&layers, &context).await;
        // a layer whose client could not be made is named too
        let via = unmade.into_iter().chain((!via.is_empty()).then_some(via)).collect::<Vec<_>>().join("; ");
        if tx.send(LayerGpus { nodes, via }).await.is_err() {
            return;
        }
    }
}

/// Asks each query layer in turn for one cluster's GPUs: the first that holds any, and where
/// they came from (or why none gave any, each layer named when there are several).
async fn first_holding(
    layers: &[(super::prom::PromConfig, super::prom::Asker)],
    context: &str,
) -> (Vec<(String, f64, Result<Vec<GpuSample>, String>)>, String) {
    let mut why = Vec::new();
    for (cfg, asker) in layers {
        let value = label_value(cfg, context);
        let name = if layers.len() == 1 { "the query layer".to_string() } else { cfg.url.clone() };
        match query_gpus(asker, cfg, &value).await {
            Ok(n) if !n.is_empty() => return (n, format!("GPUs via {}", cfg.url)),
            Ok(_) => why.push(format!("{name} holds no DCGM series with {}=\"{value}\"", cfg.cluster_label)),
            Err(e) => why.push(format!("GPUs from {}: {e}", cfg.url)),
        }
    }
    (Vec::new(), why.join("; "))
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A running exporter pod: where to scrape and which node it speaks for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Exporter {
    namespace: String,
    name: String,
    node: String,
    port: u16,
}

fn exporter(o: &DynamicObject) -> Option<Exporter> {
    let d = &o.data;
    if d["status"]["phase"] != "Running" {
        return None;
    }
    let port = d["spec"]["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["containerPort"].as_u64())
        .find(|p| *p == EXPORTER_PORT as u64)
        .unwrap_or(EXPORTER_PORT as u64) as u16;
    Some(Exporter {
        namespace: o.metadata.namespace.clone()?,
        name: o.metadata.name.clone()?,
        node: d["spec"]["nodeName"].as_str()?.to_string(),
        port,
    })
}
/// Every exporter's page read through its pod's proxy, eight at a time: by node, its GPUs or why
/// not. A pod proxy the API server refuses waits out its backoff and is left out.
async fn scrape_exporters(
    client: &kube::Client,
    ctx: &WatchCtx,
    exporters: &BTreeMap<String, Folded<Exporter>>,
    timeout: std::time::Duration,
) -> Vec<(String, Result<Vec<GpuSample>, String>)> {
    let all: BTreeSet<Exporter> = exporters.values().flat_map(|m| m.values().cloned()).collect();
    futures::stream::iter(all.into_iter().map(|e| async move {
        let path = format!("/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics", e.namespace, e.name, e.port);
        let r = super::paced::get_gated(ctx, client, &path, PAGE_MAX_BYTES, timeout).await?;
        let r = r.map_err(|e| e.to_string()).and_then(|b| decode_dcgm(&String::from_utf8_lossy(&b), &e.node));
        Some((e.node, r))
    }))
    .buffer_unordered(8)
    .filter_map(futures::future::ready)
    .collect()
    .await
}

pub async fn run(ctx: WatchCtx, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions, context: String) {
    let index = ctx.cluster;
    let configured = opts.opencost.get(&context).cloned();
    // GPUs from the query layer where one is configured and not turned off (`--metrics direct`)
    let direct = matches!(opts.engines, super::options::EngineSource::Direct);
    let strict = matches!(opts.engines, super::options::EngineSource::Query);
    // the query layers, each client made at the first scrape that needs it (and again after it
    // could not be made: a context's credentials failing now), as the engines' task does
    let wanted: Vec<super::prom::PromConfig> = if direct { Vec::new() } else { opts.query.clone() };
    // the query layers are asked by a task of their own: one that hangs never holds up the
    // watches or a direct reading; its answers come back here
    let (layer_tx, mut layer_rx) = mpsc::channel::<LayerGpus>(1);
    let _asking = (!wanted.is_empty())
        .then(|| super::AbortOnDrop(tokio::spawn(ask_layers(wanted.clone(), context.clone(), opts.refresh, layer_tx))));
    // until when the layer's last answer stands for this cluster's GPUs (direct reading pauses)
    let mut layer_fresh_until: Option<tokio::time::Instant> = None;
    let mut sent_at: BTreeMap<String, f64> = BTreeMap::new();
    let pods = super::api("", "v1", "Pod", "pods");
    let mut exporter_streams = futures::stream::select_all(EXPORTER_SELECTORS.iter().map(|sel| {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &pods);
        let sel = sel.to_string();
        paced::watch(api, watcher::Config::default().labels(&sel), "", "pods", "pods", &ctx)
            .map(move |e| (sel.clone(), e))
            .boxed()
    }));
    let services = super::api("", "v1", "Service", "services");
    let mut opencost_stream = paced::watch(
        Api::<DynamicObject>::all_with(client.clone(), &services),
        watcher::Config::default().fields("metadata.name=opencost"),
        "",
        "services",
        "services",
        &ctx,
    )
    .boxed();
    // pods waiting for the scheduler: few, and the only pods whose GPU asks no exporter reports
    let mut pending_stream = paced::watch(
        Api::<DynamicObject>::all_with(client.clone(), &pods),
        watcher::Config::default().fields("status.phase=Pending"),
        "",
        "pods",
        "pods",
        &ctx,
    )
    .boxed();
    let mut pending_pods: Folded<PendingGpuPod> = Folded::default();
    let team_label = opts.team_label.clone();
    let mut exporters: BTreeMap<String, Folded<Exporter>> = BTreeMap::new();
    // a Service named in the config wins over the one the watch finds
    let mut opencost_found: Folded<ServiceRef> = Folded::default();
    let mut labels: HolderLabels = BTreeMap::new();
    let mut scrape = tokio::time::interval(opts.refresh);
    scrape.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cost = tokio::time::interval(COST_EVERY);
    cost.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some((sel, ev)) = exporter_streams.next() => {
                let changed = match ev {
                    Ok(ev) => exporters.entry(sel).or_default().fold(ev, |o| exporter(&o)),
                    Err(e) => { tracing::debug!(cluster = index, error = %e, "dcgm exporter watch error"); false }
                };
                if changed && exporters.values().filter(|f| f.listed()).count() == EXPORTER_SELECTORS.len() {
                    let n = exporters.values().map(|m| m.len()).sum();
                    if tx.send(Update::GpuExporters { cluster: index, count: n }).await.is_err() { return; }
                    scrape.reset_immediately();
                }
            }
            Some(ev) = pending_stream.next() => {
                let changed = match ev {
                    Ok(ev) => pending_pods.fold(ev, |o| pending_gpu_pod(&o, &team_label)),
                    Err(e) => { tracing::debug!(cluster = index, error = %e, "pending pods watch error"); false }
                };
                if changed && pending_pods.listed() {
                    let pods = pending_pods.values().cloned().collect();
                    if tx.send(Update::GpuPending { cluster: index, pods }).await.is_err() { return; }
                }
            }
            Some(ev) = opencost_stream.next() => {
                if configured.is_some() { continue; }
                match ev {
                    Ok(ev) => {
                        let done = matches!(ev, Event::InitDone);
                        opencost_found.fold(ev, |o| {
                            let (namespace, name) = key_of(&o);
                            Some(ServiceRef { namespace, name, port: OPENCOST_PORT })
                        });
                        if done { cost.reset_immediately(); }
                    }
                    Err(e) => tracing::debug!(cluster = index, error = %e, "opencost watch error"),
                }
            }
            Some(answer) = layer_rx.recv() => {
                let LayerGpus { nodes, via } = answer;
                let answered = !nodes.is_empty();
                // where the GPUs come from is said first, so a reader never sees the query
                // layer's GPUs under the previous refresh's "holds no series"
                let via = if answered || strict { via } else { format!("{via}; read from the exporters") };
                if tx.send(Update::GpuVia { cluster: index, via }).await.is_err() { return; }
                layer_fresh_until = answered.then(|| tokio::time::Instant::now() + opts.refresh * 2);
                for (node, at, mut result) in nodes {
                    if sent_at.get(&node).is_some_and(|t| *t >= at) {
                        continue; // no newer sample since the last refresh
                    }
                    sent_at.insert(node.clone(), at);
                    if let Ok(gpus) = &mut result {
                        label_holders(&client, &mut labels, gpus, &team_label, opts.scrape_timeout).await;
                    }
                    if tx.send(Update::GpuScrape { cluster: index, node, at, result }).await.is_err() { return; }
                }
            }
            _ = scrape.tick() => {
                // the exporters are read directly unless the query layer answered for them lately
                // (in prometheus mode, never)
                if strict || layer_fresh_until.is_some_and(|t| tokio::time::Instant::now() < t) {
                    continue;
                }
                let results = scrape_exporters(&client, &ctx, &exporters, opts.scrape_timeout).await;
                for (node, mut result) in results {
                    // the holders' model and team: read once per pod
                    if let Ok(gpus) = &mut result {
                        label_holders(&client, &mut labels, gpus, &team_label, opts.scrape_timeout).await;
                    }
                    if tx.send(Update::GpuScrape { cluster: index, node, at: now_s(), result }).await.is_err() { return; }
                }
                // forget pods no exporter names any more
                if labels.len() > 4096 { labels.clear(); }
            }
            _ = cost.tick() => {
                if configured.is_none() && !opencost_found.listed() { continue; }
                let opencost = configured.clone().or_else(|| opencost_found.values().next().cloned());
                let result = match &opencost {
                    None => Err("no OpenCost Service on this cluster".to_string()),
                    Some(svc) => allocations(&client, svc, &team_label, opts.scrape_timeout * 3).await,
                };
                if tx.send(Update::Cost { cluster: index, at: now_s(), result }).await.is_err() { return; }
            }
        }
    }
}

type HolderLabels = BTreeMap<Key, (Option<String>, Option<String>)>;

/// Each held GPU's model and team, from its pod's labels (read once per pod).
async fn label_holders(
    client: &kube::Client,
    labels: &mut HolderLabels,
    gpus: &mut [GpuSample],
    team_label: &str,
    timeout: Duration,
) {
    for g in gpus.iter_mut() {
        let Some(pod) = g.pod.clone() else { continue };
        if !labels.contains_key(&pod) {
            let l = holder_labels(client, &pod, team_label, timeout).await;
            labels.insert(pod.clone(), l);
        }
        let (model, team) = labels[&pod].clone();
        g.model = model;
        g.team = team;
    }
}

/// A GPU pod's `llm-d.ai/model` and team labels; unknown when the pod cannot be read.
async fn holder_labels(
    client: &kube::Client,
    pod: &Key,
    team_label: &str,
    timeout: Duration,
) -> (Option<String>, Option<String>) {
    let path = format!("/api/v1/namespaces/{}/pods/{}", pod.0, pod.1);
    match super::get::get_capped(client, &path, 1 << 20, timeout).await {
        Ok(b) => {
            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            let l = &v["metadata"]["labels"];
            (l["llm-d.ai/model"].as_str().map(str::to_string), l[team_label].as_str().map(str::to_string))
        }
        Err(_) => (None, None),
    }
}

/// OpenCost's allocations over `COST_WINDOW`, by namespace, model label, team, cluster and pod.
async fn allocations(
    client: &kube::Client,
    svc: &ServiceRef,
    team_label: &str,
    timeout: Duration,
) -> Result<CostReport, String> {
    let ServiceRef { namespace: ns, name, port } = svc;
    let mut report = CostReport { service: format!("{ns}/{name}"), window: COST_WINDOW.into(), ..Default::default() };
    let team = format!("label:{team_label}");
    for aggregate in ["namespace", "label:llm-d.ai/model", team.as_str(), "cluster", "namespace,pod"] {
        let path = format!(
            "/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/allocation/compute?window={COST_WINDOW}&aggregate={aggregate}&accumulate=true"
        );
        let body = super::get::get_capped(client, &path, PAGE_MAX_BYTES, timeout)
            .await
            .map_err(|e| format!("OpenCost {e}"))?;
        let rows = decode_allocation(&body)?;
        match aggregate {
            "namespace" => report.by_namespace = rows,
            "cluster" => report.by_cluster = rows,
            "namespace,pod" => report.by_pod = rows,
            "label:llm-d.ai/model" => report.by_model = rows,
            _ => report.by_team = rows,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="n1",container="vllm",namespace="llm-d",pod="decode-0"} 87
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",pci_bus_id="00000000:28:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 0
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-a",modelName="NVIDIA H100 80GB HBM3",Hostname="n1",container="vllm",namespace="llm-d",pod="decode-0"} 73403
DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-b",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 0
# TYPE DCGM_FI_DEV_FB_FREE gauge
DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-a",modelName="NVIDIA H100 80GB HBM3",Hostname="n1",container="vllm",namespace="llm-d",pod="decode-0"} 8156
DCGM_FI_DEV_FB_FREE{gpu="1",UUID="GPU-b",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 81559
# TYPE DCGM_FI_DEV_XID_ERRORS gauge
DCGM_FI_DEV_XID_ERRORS{gpu="1",UUID="GPU-b",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 79
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-a",modelName="NVIDIA H100 80GB HBM3",Hostname="n1",container="vllm",namespace="llm-d",pod="decode-0"} 0.5
"#;

    #[test]
    fn a_dcgm_page_with_kubernetes_labels() {
        let g = decode_dcgm(PAGE, "fallback").unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].node, "n1", "Hostname names the node");
        assert_eq!(g[0].util, Some(0.87), "GPU_UTIL in %, not the engine ratio, for a whole GPU");
        assert_eq!(g[0].pod, Some(("llm-d".to_string(), "decode-0".to_string())));
        assert!((g[0].fb_used().unwrap() - 73403.0 / 81559.0).abs() < 1e-12);
        assert_eq!((g[1].pod.clone(), g[1].xid), (None, Some(79.0)), "a free GPU with an XID");
        assert!(g[1].has_xid() && !g[0].has_xid());
    }

    #[test]
    fn older_and_prometheus_relabelled_pod_labels_and_no_hostname() {
        let old = "DCGM_FI_DEV_GPU_UTIL{gpu=\"3\",UUID=\"GPU-c\",pod_name=\"train-0\",pod_namespace=\"ml\"} 12\n";
        let g = decode_dcgm(old, "node-7").unwrap();
        assert_eq!((g[0].node.as_str(), g[0].pod.clone()), ("node-7", Some(("ml".into(), "train-0".into()))));
        let relabelled =
            "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",exported_pod=\"p\",exported_namespace=\"ns\",namespace=\"\",pod=\"\"} 5\n";
        let g = decode_dcgm(relabelled, "n").unwrap();
        assert_eq!(g[0].pod, Some(("ns".into(), "p".into())), "empty pod labels do not hide exported_*");
    }

    #[test]
    fn mig_instances_use_the_engine_activity_ratio() {
        let page = "DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"6\",UUID=\"GPU-d\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"1\",Hostname=\"m\"} 0.25\n\
                    DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"6\",UUID=\"GPU-d\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"2\",Hostname=\"m\"} 0\n\
                    DCGM_FI_DEV_FB_USED{gpu=\"6\",UUID=\"GPU-d\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"1\",Hostname=\"m\"} 100\n";
        let g = decode_dcgm(page, "m").unwrap();
        assert_eq!(g.len(), 2, "two instances of one GPU");
        assert_eq!(g[0].mig.as_deref(), Some("3g.40gb #1"));
        assert_eq!(g[0].util, Some(0.25));
        assert_eq!(g[0].id(), "m/6 3g.40gb #1");
        assert_eq!(g[1].fb_used(), None, "free memory unknown: no share, not 0");
    }

    #[test]
    fn not_a_dcgm_page() {
        assert!(decode_dcgm("vllm:num_requests_running 3\n", "n").unwrap_err().contains("no DCGM_"));
        assert!(decode_dcgm("<html>502</html>", "n").is_err());
    }

    #[test]
    fn opencost_allocations_multi_step_idle_and_errors() {
        let body = br#"{"code":200,"data":[
            {"llm-d.ai/model=llama":{"name":"llm-d.ai/model=llama","minutes":60,"gpuHours":12,"gpuCost":35.4,"gpuCostAdjustment":0.6,"totalCost":38.5},
             "__idle__":{"name":"__idle__","minutes":60,"gpuHours":3,"gpuCost":8.85,"totalCost":9.1}},
            {"llm-d.ai/model=llama":{"minutes":60,"gpuHours":12,"gpuCost":36,"totalCost":38.5}}]}"#;
        let rows = decode_allocation(body).unwrap();
        let llama = rows.iter().find(|r| r.key == "llm-d.ai/model=llama").unwrap();
        assert_eq!(llama.value(), "llama");
        assert_eq!((llama.minutes, llama.gpu_hours, llama.total_cost), (120.0, 24.0, 77.0), "steps add up");
        assert!((llama.gpu_cost - 72.0).abs() < 1e-9, "with the adjustment");
        assert!((llama.per_hour().unwrap() - 38.5).abs() < 1e-9);
        assert!(rows.iter().any(|r| r.key == "__idle__"));
        let err = decode_allocation(br#"{"code":400,"message":"Error parsing window (7x)"}"#).unwrap_err();
        assert_eq!(err, "OpenCost answered 400: Error parsing window (7x)");
        assert!(decode_allocation(b"<html>").unwrap_err().starts_with("not OpenCost JSON"));
    }

    #[test]
    fn pending_pods_ask_for_their_containers_gpus() {
        let pod = |spec: serde_json::Value, phase: &str| -> DynamicObject {
            serde_json::from_value(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "d", "namespace": "llm-d", "labels": {"llm-d.ai/model": "m", "org": "infra"}},
                "spec": spec,
                "status": {"phase": phase, "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."}]}}))
            .unwrap()
        };
        let spec = serde_json::json!({"containers": [
            {"name": "a", "resources": {"limits": {"nvidia.com/gpu": "4"}}},
            {"name": "b", "resources": {"requests": {"nvidia.com/gpu.shared": "2"}}}],
            "initContainers": [{"name": "i", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]});
        let p = pending_gpu_pod(&pod(spec.clone(), "Pending"), "org").unwrap();
        assert_eq!((p.gpus, p.model.as_deref(), p.team.as_deref()), (6, Some("m"), Some("infra")));
        assert!(p.reason.unwrap().contains("Insufficient nvidia.com/gpu"));
        assert_eq!(pending_gpu_pod(&pod(spec, "Running"), "org"), None, "a running pod's GPUs are the exporters'");
        let big_init = serde_json::json!({"containers": [{"name": "a", "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
            "initContainers": [{"name": "i", "resources": {"limits": {"nvidia.com/gpu": "8"}}}]});
        assert_eq!(
            super::super::gpu_resources::of_pod(&big_init),
            8,
            "an init container asking for more sets the pod's ask"
        );
        assert_eq!(pending_gpu_pod(&pod(serde_json::json!({"containers": [{"name": "c"}]}), "Pending"), "org"), None);
        assert_eq!(super::super::gpu_resources::of_pod(&serde_json::json!("junk")), 0);
    }

    #[test]
    fn an_opencost_service_named_in_the_config() {
        let r: ServiceRef = "kubecost/opencost-api:9090".parse().unwrap();
        assert_eq!((r.namespace.as_str(), r.name.as_str(), r.port), ("kubecost", "opencost-api", 9090));
        assert_eq!("opencost/opencost".parse::<ServiceRef>().unwrap().port, OPENCOST_PORT);
        for bad in ["opencost", "a/b:x", "A/b", "/b", "a/", "http://x:9003"] {
            assert!(bad.parse::<ServiceRef>().unwrap_err().contains("namespace/service"), "{bad}");
        }
    }

    #[test]
    fn dcgm_series_from_a_query_layer_group_by_node_and_keep_their_scrape_time() {
        use crate::sources::prom::{Answer, Sample};
        let sample = |labels: &[(&str, &str)], value: f64| Sample::with(labels, 1000.0, value);
        let series = Answer {
            samples: vec![
                sample(
                    &[
                        ("__name__", "DCGM_FI_DEV_GPU_UTIL"),
                        ("gpu", "0"),
                        ("Hostname", "n1"),
                        ("exported_pod", "p"),
                        ("exported_namespace", "ns"),
                    ],
                    40.0,
                ),
                sample(&[("__name__", "DCGM_FI_DEV_FB_USED"), ("gpu", "0"), ("Hostname", "n1")], 100.0),
                // no Hostname: the node service discovery added
                sample(&[("__name__", "DCGM_FI_DEV_GPU_UTIL"), ("gpu", "1"), ("node", "n2")], 0.0),
                // a node whose scrape time the query layer did not give: left out
                sample(&[("__name__", "DCGM_FI_DEV_GPU_UTIL"), ("gpu", "0"), ("Hostname", "n3")], 5.0),
            ],
            ..Default::default()
        };
        let times = Answer {
            samples: vec![sample(&[("Hostname", "n1")], 990.5), sample(&[("node", "n2")], 991.0)],
            ..Default::default()
        };
        let nodes = dcgm_from_answer(&series, &times);
        assert_eq!(nodes.iter().map(|n| (n.0.as_str(), n.1)).collect::<Vec<_>>(), vec![("n1", 990.5), ("n2", 991.0)]);
        let n1 = nodes[0].2.as_ref().unwrap();
        assert_eq!((n1[0].util, n1[0].fb_used_mib), (Some(0.4), Some(100.0)));
        assert_eq!(n1[0].pod, Some(("ns".into(), "p".into())), "Prometheus' exported_* labels");
        assert_eq!(dcgm_query("cluster", "a\"b"), "{__name__=~\"DCGM_FI_(DEV_GPU_UTIL|PROF_GR_ENGINE_ACTIVE|DEV_FB_USED|DEV_FB_FREE|DEV_POWER_USAGE|DEV_GPU_TEMP|DEV_XID_ERRORS)\",cluster=\"a\\\"b\"}");
    }
}
