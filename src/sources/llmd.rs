//! LLM-d on one cluster: InferencePools (current and legacy API) -> one pod watcher per pool
//! (its own selector, its own namespace) plus one for `llm-d.ai/role` pods outside pools ->
//! model servers; and a scraper that reads each server's and each EPP's `/metrics` through
//! the API server's proxy, concurrently, bounded, with a timeout, so one wedged pod only
//! marks itself stale.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::stream::BoxStream;
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use super::fold::{Folded, Packed};
use super::options::WorkerOptions;
use super::paced::{self, WatchCtx};
use crate::store::llmd::{
    Autoscaler, EngineKind, Key, ObjectiveInfo, PoolImport, PoolInfo, Role, ScrapeError, ServerInfo,
};
use crate::store::Update;

/// What the LLM-d collector reads: a forbidden one leaves the LLM-d panes' rows incomplete.
pub const READS: &[&str] =
    &["inferencepools", "inferenceobjectives", "inferencemodels", "inferencepoolimports", "pods"];

/// Scrapes in flight per cluster.
pub const SCRAPE_CONCURRENCY: usize = 8;

fn pool_api(group: &str, version: &str) -> ApiResource {
    super::api(group, version, "InferencePool", "inferencepools")
}

/// InferenceObjective (`llm-d.ai/v1alpha2`) or the legacy InferenceModel.
pub fn decode_objective(o: &DynamicObject, api_version: &str) -> ObjectiveInfo {
    let spec = &o.data["spec"];
    ObjectiveInfo {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        api_version: api_version.to_string(),
        pool: spec["poolRef"]["name"].as_str().map(str::to_string),
        priority: spec["priority"].as_i64(),
        criticality: spec["criticality"].as_str().map(str::to_string),
        model: spec["modelName"].as_str().map(str::to_string),
    }
}

/// An InferencePoolImport: its exporting clusters and the first condition that is not True.
pub fn decode_import(o: &DynamicObject) -> PoolImport {
    let controllers = o.data["status"]["controllers"].as_array().cloned().unwrap_or_default();
    let mut exporters: Vec<String> = controllers
        .iter()
        .flat_map(|c| c["exportingClusters"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect();
    exporters.sort();
    exporters.dedup();
    let conditions = controllers.iter().flat_map(|c| {
        let own = c["conditions"].as_array().cloned().unwrap_or_default();
        let parents = c["parents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .flat_map(|p| p["conditions"].as_array().cloned().unwrap_or_default());
        own.into_iter().chain(parents).collect::<Vec<_>>()
    });
    let failing = conditions.into_iter().find(|c| c["status"] != "True").map(|c| {
        let msg = c["message"].as_str().or(c["reason"].as_str()).unwrap_or("");
        format!("{}={}: {msg}", c["type"].as_str().unwrap_or("?"), c["status"].as_str().unwrap_or("?"))
    });
    PoolImport {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        exporters,
        failing,
    }
}

fn str_map(v: &Value) -> Option<BTreeMap<String, String>> {
    v.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
}

/// A pool from either API shape; what does not decode is named in `problem`.
pub fn decode_pool(o: &DynamicObject, api_version: &str) -> PoolInfo {
    let spec = &o.data["spec"];
    let legacy = api_version.contains("x-k8s.io");
    let (selector, port, epp) = if legacy {
        (str_map(&spec["selector"]), spec["targetPortNumber"].as_u64(), spec["extensionRef"]["name"].as_str())
    } else {
        (
            str_map(&spec["selector"]["matchLabels"]),
            spec["targetPorts"].get(0).and_then(|p| p["number"].as_u64()),
            spec["endpointPickerRef"]["name"].as_str(),
        )
    };
    let problem = match (&selector, spec.is_object()) {
        (_, false) => Some("spec is not an object".to_string()),
        (None, _) => Some("selector is not a label map".to_string()),
        (Some(m), _) if m.is_empty() => Some("empty selector".to_string()),
        _ => None,
    };
    PoolInfo {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        api_version: api_version.to_string(),
        selector: selector.unwrap_or_default(),
        target_port: port.and_then(|p| u16::try_from(p).ok()),
        epp_service: epp.map(str::to_string),
        problem,
        exported: o
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("inference.networking.x-k8s.io/export"))
            .is_some_and(|v| v == "ClusterSet"),
    }
}

fn flag_value(args: &Value, flag: &str) -> Option<u16> {
    let args: Vec<&str> = args.as_array()?.iter().filter_map(Value::as_str).collect();
    for (i, a) in args.iter().enumerate() {
        if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            return v.parse().ok();
        }
        if *a == flag {
            return args.get(i + 1)?.parse().ok();
        }
    }
    None
}

/// A model-server pod, leniently. `pool_port` is the pool's target port, if any.
pub fn decode_server(o: &DynamicObject, pool: Option<&PoolInfo>) -> ServerInfo {
    let labels = o.metadata.labels.clone().unwrap_or_default();
    let d = &o.data;
    let containers: Vec<&Value> = d["spec"]["containers"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
    let inits: Vec<&Value> = d["spec"]["initContainers"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
    let is_sidecar = |c: &&&Value| {
        let name = c["name"].as_str().unwrap_or("");
        let image = c["image"].as_str().unwrap_or("");
        name.contains("routing-proxy")
            || name.contains("routing-sidecar")
            || image.contains("routing-sidecar")
            || image.contains("disagg-sidecar")
    };
    // Behind the P/D routing sidecar the engine listens on --vllm-port (8200 by default).
    let metrics_port = match inits.iter().chain(containers.iter()).find(is_sidecar) {
        Some(sc) => flag_value(&sc["args"], "--vllm-port").unwrap_or(8200),
        None => pool
            .and_then(|p| p.target_port)
            .or_else(|| containers.first().and_then(|c| c["ports"][0]["containerPort"].as_u64()).map(|p| p as u16))
            .unwrap_or(8000),
    };
    let statuses = d["status"]["containerStatuses"].as_array();
    let gpus = super::gpu_resources::of_pod(&d["spec"]);
    ServerInfo {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        pool: pool.map(|p| p.name.clone()),
        role: Role::from_label(labels.get("llm-d.ai/role").map(String::as_str)),
        model: labels.get("llm-d.ai/model").cloned(),
        engine: EngineKind::from_label(labels.get("llm-d.ai/engine-type").map(String::as_str)),
        ready: d["status"]["conditions"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")),
        phase: d["status"]["phase"].as_str().unwrap_or("Unknown").to_string(),
        restarts: statuses.map(|s| s.iter().filter_map(|s| s["restartCount"].as_i64()).sum()).unwrap_or(0),
        node: d["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
        metrics_port,
        gpus,
        waiting: statuses
            .into_iter()
            .flatten()
            .find_map(|s| s["state"]["waiting"]["reason"].as_str())
            .filter(|r| *r != "ContainerCreating" && *r != "PodInitializing")
            .map(str::to_string),
        unschedulable: d["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled" && c["status"] == "False"))
            .map(|c| c["message"].as_str().or(c["reason"].as_str()).unwrap_or("not scheduled").to_string()),
        ready_since: super::records::condition(&d["status"], "Ready").and_then(|(_, t)| t),
    }
}

/// Which watcher a pod event came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Pool(Key),
    Role,
}

fn pod_resource() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&())
}

fn spawn_pod_watcher(
    ctx: &WatchCtx,
    client: kube::Client,
    ns: Option<String>,
    selector: String,
    source: Source,
    tx: mpsc::Sender<(Source, Result<Event<DynamicObject>, String>)>,
) -> JoinHandle<()> {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let api: Api<DynamicObject> = match &ns {
            Some(ns) => Api::namespaced_with(client, ns, &pod_resource()),
            None => Api::all_with(client, &pod_resource()),
        };
        let mut s = paced::watch(api, watcher::Config::default().labels(&selector), "", "pods", "pods", &ctx);
        while let Some(ev) = s.next().await {
            if tx.send((source.clone(), ev.map_err(|e| e.to_string()))).await.is_err() {
                return;
            }
        }
    })
}

/// A condition of an HPA or ScaledObject: (status, "Reason: message").
fn condition(o: &DynamicObject, kind: &str) -> Option<(String, String)> {
    let c = o.data["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == kind)?;
    let reason = c["reason"].as_str().unwrap_or("");
    let why = match c["message"].as_str().filter(|m| !m.is_empty()) {
        Some(m) => format!("{reason}: {m}"),
        None => reason.to_string(),
    };
    Some((c["status"].as_str().unwrap_or("").to_string(), why))
}

/// When a condition of `o` last changed.
fn since(o: &DynamicObject, kind: &str) -> Option<f64> {
    super::records::condition(&o.data["status"], kind).and_then(|(_, t)| t)
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// The autoscalers llm-d manages (annotated `llm-d.ai/managed: "true"`); a ScaledObject's
/// replica counts come from the HPA KEDA made for it (`status.hpaName`, else `keda-hpa-NAME`).
pub fn decode_autoscalers(
    hpas: &BTreeMap<Key, DynamicObject>,
    scaled: &BTreeMap<Key, DynamicObject>,
) -> Vec<Autoscaler> {
    let managed = |o: &DynamicObject| {
        o.metadata.annotations.as_ref().and_then(|a| a.get("llm-d.ai/managed")).is_some_and(|v| v == "true")
    };
    let annotation = |o: &DynamicObject, k: &str| o.metadata.annotations.as_ref().and_then(|a| a.get(k)).cloned();
    let target = |o: &DynamicObject| {
        let r = &o.data["spec"]["scaleTargetRef"];
        format!("{}/{}", r["kind"].as_str().unwrap_or("Deployment"), r["name"].as_str().unwrap_or("?"))
    };
    let from_hpa = |h: &DynamicObject| {
        let blocked = ["AbleToScale", "ScalingActive"]
            .iter()
            .filter_map(|k| condition(h, k).map(|c| (c, since(h, k))))
            .find(|((st, _), _)| st == "False")
            .map(|((_, why), at)| (why, at));
        let limited = condition(h, "ScalingLimited")
            .filter(|(st, _)| st == "True")
            .map(|(_, why)| (why, since(h, "ScalingLimited")));
        (int(&h.data["status"]["currentReplicas"]), int(&h.data["status"]["desiredReplicas"]), limited, blocked)
    };
    let split = |x: Option<(String, Option<f64>)>| match x {
        Some((why, at)) => (Some(why), at),
        None => (None, None),
    };
    let mut out = Vec::new();
    for ((ns, name), h) in hpas.iter().filter(|(_, h)| managed(h)) {
        let (current, desired, limited, blocked) = from_hpa(h);
        let ((limited, limited_since), (blocked, blocked_since)) = (split(limited), split(blocked));
        out.push(Autoscaler {
            kind: "HorizontalPodAutoscaler",
            namespace: ns.clone(),
            name: name.clone(),
            target: target(h),
            model_id: annotation(h, "llm-d.ai/model-id"),
            pool: annotation(h, "llm-d.ai/epp-inference-pool"),
            min: int(&h.data["spec"]["minReplicas"]).or(Some(1)),
            max: int(&h.data["spec"]["maxReplicas"]),
            current,
            desired,
            limited,
            blocked,
            limited_since,
            blocked_since,
        });
    }
    for ((ns, name), so) in scaled.iter().filter(|(_, o)| managed(o)) {
        let hpa_name = so.data["status"]["hpaName"].as_str().map(str::to_string).unwrap_or(format!("keda-hpa-{name}"));
        let (current, desired, limited, hpa_blocked) =
            hpas.get(&(ns.clone(), hpa_name)).map(from_hpa).unwrap_or((None, None, None, None));
        let not_ready =
            condition(so, "Ready").filter(|(st, _)| st == "False").map(|(_, why)| (why, since(so, "Ready")));
        let ((limited, limited_since), (blocked, blocked_since)) = (split(limited), split(not_ready.or(hpa_blocked)));
        out.push(Autoscaler {
            kind: "ScaledObject",
            namespace: ns.clone(),
            name: name.clone(),
            target: target(so),
            model_id: annotation(so, "llm-d.ai/model-id"),
            pool: annotation(so, "llm-d.ai/epp-inference-pool"),
            min: int(&so.data["spec"]["minReplicaCount"]).or(Some(0)),
            max: int(&so.data["spec"]["maxReplicaCount"]).or(Some(100)),
            current,
            desired,
            limited,
            blocked,
            limited_since,
            blocked_since,
        });
    }
    out
}

fn now_s() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn is_not_found(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::InitialListFailed(kube::Error::Api(s)) if s.code == 404)
}

type WatchEvent = Result<Event<DynamicObject>, watcher::Error>;

/// One watch per API, every one tagged so the loop knows whose event it reads.
fn watch_every<T: Clone + Send + 'static>(
    ctx: &WatchCtx,
    client: &kube::Client,
    apis: impl IntoIterator<Item = (T, ApiResource)>,
) -> futures::stream::SelectAll<BoxStream<'static, (T, WatchEvent)>> {
    futures::stream::select_all(apis.into_iter().map(|(tag, ar)| {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        paced::watch(api, watcher::Config::default(), &ar.group, &ar.plural, &ar.plural, ctx)
            .map(move |e| (tag.clone(), e))
            .boxed()
    }))
}

type PodWatchers = BTreeMap<Source, (String, JoinHandle<()>)>;

/// One pod watcher per decodable pool, on its selector; those whose pool went away or changed
/// its selector stop (the role watcher stays).
fn follow_pools(
    ctx: &WatchCtx,
    client: &kube::Client,
    pools: &BTreeMap<String, Folded<PoolInfo>>,
    watchers: &mut PodWatchers,
    pods: &mut BTreeMap<Source, Folded<Packed>>,
    pod_tx: &mpsc::Sender<(Source, Result<Event<DynamicObject>, String>)>,
) {
    let wanted: BTreeMap<Source, (String, String)> = pools
        .values()
        .flat_map(|m| m.values())
        .filter(|p| p.problem.is_none())
        .map(|p| {
            let sel = p.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            (Source::Pool(p.key()), (p.namespace.clone(), sel))
        })
        .collect();
    watchers.retain(|src, (sel, h)| {
        let keep = *src == Source::Role || wanted.get(src).is_some_and(|(_, s)| s == sel);
        if !keep {
            h.abort();
            pods.remove(src);
        }
        keep
    });
    for (src, (ns, sel)) in wanted {
        if let std::collections::btree_map::Entry::Vacant(e) = watchers.entry(src) {
            let h = spawn_pod_watcher(ctx, client.clone(), Some(ns), sel.clone(), e.key().clone(), pod_tx.clone());
            e.insert((sel, h));
        }
    }
}

/// Whether the cluster serves InferencePools: by some version, by none (every one answered
/// 404), or not known yet.
fn installed(served: &BTreeMap<String, Option<bool>>) -> Option<bool> {
    if served.values().any(|v| *v == Some(true)) {
        Some(true)
    } else if served.values().all(|v| *v == Some(false)) {
        Some(false)
    } else {
        None
    }
}

/// Tells the scraper its targets when what is scraped, and where, changed: a restart count or a
/// readiness is no reason to start a round.
fn rescrape_if_moved(servers_tx: &ScrapeTargets, next: (Vec<ServerInfo>, Vec<PoolInfo>)) {
    servers_tx.send_if_modified(|cur| {
        let changed = scrape_set(cur) != scrape_set(&next);
        *cur = next;
        changed
    });
}

type ScrapeTargets = tokio::sync::watch::Sender<(Vec<ServerInfo>, Vec<PoolInfo>)>;

/// One event of an InferencePool watch (`av`: its API version) folded in; true when the pools,
/// or whether that version is served, changed.
fn fold_pools(
    index: usize,
    pools: &mut BTreeMap<String, Folded<PoolInfo>>,
    served: &mut BTreeMap<String, Option<bool>>,
    av: String,
    ev: Result<Event<DynamicObject>, watcher::Error>,
) -> bool {
    match ev {
        Ok(ev) => {
            // an answer of the API server: served (a change of state only when it was not).
            // kube-runtime's Init comes before any request is made: no answer.
            let answered = !matches!(ev, Event::Init) && served.insert(av.clone(), Some(true)) != Some(Some(true));
            pools.entry(av.clone()).or_default().fold(ev, |o| Some(decode_pool(&o, &av))) | answered
        }
        Err(e) if is_not_found(&e) => {
            let changed = served.get(&av) != Some(&Some(false));
            if changed {
                served.insert(av.clone(), Some(false));
                pools.remove(&av);
            }
            changed
        }
        Err(e) => {
            tracing::debug!(cluster = index, api = %av, error = %e, "pool watch error");
            false
        }
    }
}

/// Discovery and scraping for one cluster; runs until the cluster's collector stops.
pub async fn run(ctx: WatchCtx, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions) {
    let index = ctx.cluster;
    let apis = [("inference.networking.k8s.io", "v1"), ("inference.networking.x-k8s.io", "v1alpha2")];
    let mut pool_streams = watch_every(&ctx, &client, apis.iter().map(|(g, v)| (format!("{g}/{v}"), pool_api(g, v))));
    let objective_apis = [
        super::api("llm-d.ai", "v1alpha2", "InferenceObjective", "inferenceobjectives"),
        super::api("inference.networking.x-k8s.io", "v1alpha2", "InferenceModel", "inferencemodels"),
    ];
    let mut objective_streams = watch_every(
        &ctx,
        &client,
        objective_apis.into_iter().map(|ar| (format!("{}/{}", ar.api_version, ar.plural), ar)),
    );
    // the autoscalers llm-d manages: every HPA (a KEDA ScaledObject's replicas are on the HPA
    // KEDA made, which carries no annotation) and every ScaledObject
    let mut scaler_streams = watch_every(
        &ctx,
        &client,
        [
            ("hpa", super::api("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")),
            ("keda", super::api("keda.sh", "v1alpha1", "ScaledObject", "scaledobjects")),
        ],
    );
    let import_api =
        super::api("inference.networking.x-k8s.io", "v1alpha1", "InferencePoolImport", "inferencepoolimports");
    let mut import_stream = paced::watch(
        Api::<DynamicObject>::all_with(client.clone(), &import_api),
        watcher::Config::default(),
        &import_api.group,
        &import_api.plural,
        &import_api.plural,
        &ctx,
    )
    .boxed();
    let mut imports: Folded<PoolImport> = Folded::default();
    let mut scalers: BTreeMap<&'static str, Folded<DynamicObject>> = BTreeMap::new();
    let mut sent_scalers: Option<Vec<Autoscaler>> = None;
    let mut objectives: BTreeMap<String, Folded<ObjectiveInfo>> = BTreeMap::new();
    // per API version: None unknown yet, Some(false) not served
    let mut served: BTreeMap<String, Option<bool>> = apis.iter().map(|(g, v)| (format!("{g}/{v}"), None)).collect();
    let mut pools: BTreeMap<String, Folded<PoolInfo>> = BTreeMap::new();

    let (pod_tx, mut pod_rx) = mpsc::channel(256);
    let mut watchers: PodWatchers = BTreeMap::new();
    watchers.insert(
        Source::Role,
        (
            "llm-d.ai/role".into(),
            spawn_pod_watcher(&ctx, client.clone(), None, "llm-d.ai/role".into(), Source::Role, pod_tx.clone()),
        ),
    );
    let mut pods: BTreeMap<Source, Folded<Packed>> = BTreeMap::new();

    let (servers_tx, servers_rx) = tokio::sync::watch::channel::<(Vec<ServerInfo>, Vec<PoolInfo>)>((vec![], vec![]));
    let scraper = tokio::spawn(scrape_loop(ctx.clone(), client.clone(), tx.clone(), opts.clone(), servers_rx));
    let _scraper = super::AbortOnDrop(scraper);

    let mut dirty = false;
    let flush = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(flush);
    loop {
        let mut pools_changed = false;
        tokio::select! {
            Some((av, ev)) = pool_streams.next() => {
                pools_changed = fold_pools(index, &mut pools, &mut served, av, ev);
            }
            Some((tag, ev)) = objective_streams.next() => {
                let av = tag.rsplit_once('/').map(|(a, _)| a.to_string()).unwrap_or_default();
                match ev {
                    Ok(ev) => dirty |= objectives.entry(tag.clone()).or_default().fold(ev, |o| Some(decode_objective(&o, &av))),
                    // an API this cluster does not serve: nothing to show, nothing to say
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => tracing::debug!(cluster = index, api = %tag, error = %e, "objective watch error"),
                }
            }
            Some(ev) = import_stream.next() => {
                let changed = match ev {
                    Ok(ev) => imports.fold(ev, |o| Some(decode_import(&o))),
                    // no multi-cluster inference here: nothing to read
                    Err(e) if is_not_found(&e) => false,
                    Err(e) => { tracing::debug!(cluster = index, error = %e, "pool import watch error"); false }
                };
                if changed && tx.send(Update::PoolImports { cluster: index, list: imports.values().cloned().collect() }).await.is_err() {
                    return;
                }
            }
            Some((tag, ev)) = scaler_streams.next() => {
                let changed = match ev {
                    Ok(ev) => scalers.entry(tag).or_default().fold(ev, Some),
                    // KEDA not installed: nothing to read
                    Err(e) if is_not_found(&e) => false,
                    Err(e) => { tracing::debug!(cluster = index, api = tag, error = %e, "autoscaler watch error"); false }
                };
                if changed {
                    let empty = BTreeMap::new();
                    let of = |tag| scalers.get(tag).map_or(&empty, Folded::items);
                    let list = decode_autoscalers(of("hpa"), of("keda"));
                    if sent_scalers.as_ref() != Some(&list) {
                        sent_scalers = Some(list.clone());
                        if tx.send(Update::Autoscalers { cluster: index, list }).await.is_err() {
                            return;
                        }
                    }
                }
            }
            Some((src, ev)) = pod_rx.recv() => {
                if !watchers.contains_key(&src) { continue }
                match ev {
                    Ok(ev) => dirty |= pods.entry(src).or_default().fold(ev, |mut o| {
                        super::slim::pod(&mut o);
                        Packed::of(&o)
                    }),
                    Err(e) => tracing::debug!(cluster = index, error = %e, "pod watch error"),
                }
            }
            _ = &mut flush => {
                flush.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(3600));
                if dirty {
                    dirty = false;
                    let all_pools: Vec<PoolInfo> = pools.values().flat_map(|m| m.values().cloned()).collect();
                    let servers = merge_servers(&pods, &all_pools);
                    let installed = installed(&served);
                    rescrape_if_moved(&servers_tx, (servers.clone(), all_pools.clone()));
                    let all_objectives: Vec<ObjectiveInfo> = objectives.values().flat_map(|m| m.values().cloned()).collect();
                    if tx.send(Update::LlmdObjects { cluster: index, installed, pools: all_pools, objectives: all_objectives, servers }).await.is_err() {
                        return;
                    }
                }
            }
        }
        if pools_changed {
            dirty = true;
            follow_pools(&ctx, &client, &pools, &mut watchers, &mut pods, &pod_tx);
        }
        if dirty {
            let soon = tokio::time::Instant::now() + opts.coalesce;
            if flush.deadline() > soon {
                flush.as_mut().reset(soon);
            }
        }
        // a cluster without any pool API: say so once both answered
        if served.values().all(|v| *v == Some(false)) && !dirty {
            served.values_mut().for_each(|v| *v = Some(false));
        }
    }
}

/// What the scraper reads and where: the running servers' metrics endpoints and the pools'
/// endpoint pickers.
/// (server, metrics port, running) and (pool, its EPP Service)
type ScrapeSet = (Vec<(Key, u16, bool)>, Vec<(Key, Option<String>)>);

fn scrape_set(t: &(Vec<ServerInfo>, Vec<PoolInfo>)) -> ScrapeSet {
    (
        t.0.iter().map(|s| (s.key(), s.metrics_port, s.phase == "Running")).collect(),
        t.1.iter().map(|p| (p.key(), p.epp_service.clone())).collect(),
    )
}

/// Pods from all watchers -> model servers; a pool member is attributed to its pool.
fn merge_servers(pods: &BTreeMap<Source, Folded<Packed>>, pools: &[PoolInfo]) -> Vec<ServerInfo> {
    let mut out: BTreeMap<Key, ServerInfo> = BTreeMap::new();
    for (src, objs) in pods {
        let pool = match src {
            Source::Pool(k) => pools.iter().find(|p| p.key() == *k),
            Source::Role => None,
        };
        for (k, o) in objs.items() {
            let Some(o) = o.object() else { continue };
            let s = decode_server(&o, pool);
            match out.get(k) {
                Some(existing) if existing.pool.is_some() => {}
                _ => {
                    out.insert(k.clone(), s);
                }
            }
        }
    }
    out.into_values().collect()
}

/// A model server's or EPP's /metrics is a few tens of KB; anything past this is not metrics.
pub const METRICS_MAX_BYTES: usize = 8 << 20;

/// One /metrics page through the gated proxy; None when the proxy is refused and waiting.
async fn get_text(
    ctx: &WatchCtx,
    client: &kube::Client,
    path: &str,
    timeout: Duration,
    epp: bool,
) -> Option<Result<String, ScrapeError>> {
    use super::get::GetError;
    use super::paced::get_gated;
    Some(match get_gated(ctx, client, path, METRICS_MAX_BYTES, timeout).await? {
        Ok(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
        Err(GetError::Timeout(s)) => Err(ScrapeError::Timeout(s)),
        Err(GetError::Forbidden(m)) => Err(ScrapeError::Forbidden(m)),
        // the router protects /metrics by default: that is a state, not a failure
        Err(GetError::Status(c @ (401 | 403), _)) if epp => Err(ScrapeError::AuthRequired(c)),
        Err(GetError::Status(502 | 503, m)) => Err(ScrapeError::Transport(m)),
        Err(GetError::Status(c, m)) => Err(ScrapeError::Http(c, m)),
        Err(e @ GetError::TooLarge(_)) => Err(ScrapeError::Parse(format!("metrics {e}"))),
        Err(GetError::Transport(m)) => Err(ScrapeError::Transport(m)),
    })
}

async fn scrape_loop(
    ctx: WatchCtx,
    client: kube::Client,
    tx: mpsc::Sender<Update>,
    opts: WorkerOptions,
    mut targets: tokio::sync::watch::Receiver<(Vec<ServerInfo>, Vec<PoolInfo>)>,
) {
    let index = ctx.cluster;
    let gate = Arc::new(Semaphore::new(SCRAPE_CONCURRENCY));
    let mut every = tokio::time::interval(opts.refresh);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            // new servers are scraped at once rather than a refresh later
            r = targets.changed() => if r.is_err() { return },
        }
        let (servers, pools) = targets.borrow_and_update().clone();
        if servers.is_empty() && pools.is_empty() {
            continue;
        }
        let mut jobs = Vec::new();
        let direct = opts.engines.direct(index);
        for s in servers.into_iter().filter(|s| s.phase == "Running" && direct) {
            let (client, tx, gate, ctx) = (client.clone(), tx.clone(), gate.clone(), ctx.clone());
            let timeout = opts.scrape_timeout;
            jobs.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                let path =
                    format!("/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics", s.namespace, s.name, s.metrics_port);
                // a proxy the API server refuses is not asked again until its backoff passes
                let Some(result) = get_text(&ctx, &client, &path, timeout, false).await else { return };
                let result = result
                    .and_then(|t| crate::sources::metrics::decode_engine(&t, s.engine).map_err(ScrapeError::Parse));
                let _ = tx.send(Update::EngineScrape { cluster: index, server: s.key(), at: now_s(), result }).await;
            }));
        }
        let epp_direct = opts.engines.epp_direct(index);
        for p in pools.into_iter().filter(|p| p.epp_service.is_some() && epp_direct) {
            let (client, tx, gate, ctx) = (client.clone(), tx.clone(), gate.clone(), ctx.clone());
            let timeout = opts.scrape_timeout;
            jobs.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                let svc = p.epp_service.clone().unwrap_or_default();
                let path = format!("/api/v1/namespaces/{}/services/{svc}:9090/proxy/metrics", p.namespace);
                let Some(result) = get_text(&ctx, &client, &path, timeout, true).await else { return };
                let result = result.and_then(|t| crate::sources::metrics::decode_epp(&t).map_err(ScrapeError::Parse));
                let _ = tx.send(Update::EppScrape { cluster: index, pool: p.key(), at: now_s(), result }).await;
            }));
        }
        for j in jobs {
            let _ = j.await;
        }
        if tx.send(Update::ScrapeRound { cluster: index, at: now_s() }).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn wva_autoscalers_from_annotated_hpas_and_scaled_objects() {
        let hpa = |name: &str, managed: bool, status: Value| {
            let mut meta = json!({"name": name, "namespace": "llm-d"});
            if managed {
                meta["annotations"] =
                    json!({"llm-d.ai/managed": "true", "llm-d.ai/model-id": "meta-llama/Llama-3.3-70B-Instruct"});
            }
            obj(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta,
                       "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "maxReplicas": 4},
                       "status": status}))
        };
        let mut hpas = BTreeMap::new();
        let at_max = json!({"currentReplicas": 4, "desiredReplicas": 4, "conditions": [
            {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
            {"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas", "message": "the desired replica count is more than the maximum replica count"}]});
        hpas.insert(("llm-d".into(), "decode".into()), hpa("decode", true, at_max));
        hpas.insert(("llm-d".into(), "web".into()), hpa("web", false, json!({"currentReplicas": 2})));
        let failing = json!({"conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetExternalMetric", "message": "no metric wva_desired_replicas"}]});
        hpas.insert(("llm-d".into(), "keda-hpa-prefill".into()), hpa("keda-hpa-prefill", false, failing));
        let mut scaled = BTreeMap::new();
        scaled.insert(
            ("llm-d".into(), "prefill".into()),
            obj(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                       "metadata": {"name": "prefill", "namespace": "llm-d", "annotations": {"llm-d.ai/managed": "true", "llm-d.ai/epp-inference-pool": "p"}},
                       "spec": {"scaleTargetRef": {"name": "prefill"}, "minReplicaCount": 1, "maxReplicaCount": 8}})),
        );
        let list = decode_autoscalers(&hpas, &scaled);
        assert_eq!(list.len(), 2, "the unannotated HPAs are not the WVA's: {list:?}");
        let d = &list[0];
        assert_eq!(
            (d.kind, d.target.as_str(), d.current, d.max),
            ("HorizontalPodAutoscaler", "Deployment/decode", Some(4), Some(4))
        );
        assert!(d.at_max() && d.wants_more() && d.blocked.is_none());
        let pool = PoolInfo {
            namespace: "llm-d".into(),
            name: "llama-70b".into(),
            api_version: "inference.networking.k8s.io/v1".into(),
            selector: [("llm-d.ai/model".to_string(), "llama-3-3-70b-instruct".to_string())].into(),
            target_port: None,
            epp_service: None,
            problem: None,
            exported: false,
        };
        assert!(d.serves(&pool), "its model id matches the pool's model label");
        let k = &list[1];
        assert_eq!((k.kind, k.current, k.max), ("ScaledObject", None, Some(8)));
        assert_eq!(
            k.blocked.as_deref(),
            Some("FailedGetExternalMetric: no metric wva_desired_replicas"),
            "from KEDA's HPA"
        );
        assert!(!k.serves(&pool), "its pool annotation names another pool");
    }

    #[test]
    fn both_pool_shapes_and_a_broken_one() {
        let v1 = obj(json!({"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": {"name": "pd", "namespace": "llm-d"},
            "spec": {"selector": {"matchLabels": {"llm-d.ai/guide": "pd"}}, "targetPorts": [{"number": 8000}],
                     "endpointPickerRef": {"name": "pd-epp", "port": {"number": 9002}}}}));
        let p = decode_pool(&v1, "inference.networking.k8s.io/v1");
        assert_eq!((p.target_port, p.epp_service.as_deref(), p.problem.as_deref()), (Some(8000), Some("pd-epp"), None));
        assert_eq!(p.selector.get("llm-d.ai/guide").map(String::as_str), Some("pd"));
        let legacy = obj(json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferencePool",
            "metadata": {"name": "l", "namespace": "llm-d"},
            "spec": {"selector": {"app": "x"}, "targetPortNumber": 8000, "extensionRef": {"name": "l-epp"}}}));
        let p = decode_pool(&legacy, "inference.networking.x-k8s.io/v1alpha2");
        assert!(p.legacy() && p.problem.is_none() && p.epp_service.as_deref() == Some("l-epp"));
        let broken = obj(json!({"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": {"name": "b", "namespace": "llm-d"}, "spec": {"selector": "not-a-map", "targetPorts": "eighty"}}));
        let p = decode_pool(&broken, "inference.networking.k8s.io/v1");
        assert_eq!(p.problem.as_deref(), Some("selector is not a label map"));
        assert_eq!(p.target_port, None);
    }

    #[test]
    fn decode_pods_behind_the_sidecar_are_scraped_on_8200() {
        let pod = obj(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "namespace": "n",
                "labels": {"llm-d.ai/role": "decode", "llm-d.ai/model": "m"}},
            "spec": {"initContainers": [{"name": "routing-proxy", "restartPolicy": "Always", "args": ["--port=8000", "--vllm-port=8201"]}],
                     "containers": [{"name": "vllm", "ports": [{"containerPort": 8201}], "resources": {"requests": {"nvidia.com/gpu": "2"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"restartCount": 3}]}}));
        let s = decode_server(&pod, None);
        assert_eq!((s.metrics_port, s.gpus, s.restarts, s.ready), (8201, 2, 3, true));
        assert_eq!(s.role, Role::Decode);
        let plain = obj(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
            "spec": {"containers": [{"name": "vllm", "ports": [{"containerPort": 8000}]}]}, "status": {}}));
        let s = decode_server(&plain, None);
        assert_eq!((s.metrics_port, s.role.clone(), s.ready), (8000, Role::Unlabelled, false));
        let odd = obj(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "o", "namespace": "n"}, "spec": 5, "status": "x"}),
        );
        let s = decode_server(&odd, None);
        assert_eq!(s.phase, "Unknown", "odd pods decode without panicking");
    }
}
