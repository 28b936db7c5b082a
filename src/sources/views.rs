//! What an open drill-down view needs, fetched while it is open and stopped when it closes:
//! a pod list (watch with the row's selector), one pod with its events (watches), a log
//! stream (follow, reconnecting), an object as YAML. The UI opens and closes feeds by message.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject, LogParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::{client_for, Target};
use super::fold::Folded;
use crate::store::views::{ContainerRow, EventRow, ObjectKind, ObjectRow, PodDetail, PodRow, PodUsage};
use crate::store::Update;

#[derive(Debug, Clone, PartialEq)]
pub enum ViewSpec {
    Pods {
        cluster: usize,
        namespace: String,
        selector: String,
    },
    Pod {
        cluster: usize,
        namespace: String,
        name: String,
    },
    Logs {
        cluster: usize,
        namespace: String,
        pod: String,
        container: Option<String>,
        previous: bool,
        timestamps: bool,
    },
    Yaml {
        cluster: usize,
        path: String,
    },
    /// `:deploy` / `:ns`: deployments (in a namespace, or all) or namespaces.
    Objects {
        cluster: usize,
        kind: ObjectKind,
        namespace: String,
    },
    /// `:promql EXPR`: an instant query to every configured query layer, again each refresh.
    Query {
        expr: String,
    },
}

impl ViewSpec {
    pub fn cluster(&self) -> usize {
        match self {
            ViewSpec::Pods { cluster, .. }
            | ViewSpec::Pod { cluster, .. }
            | ViewSpec::Logs { cluster, .. }
            | ViewSpec::Yaml { cluster, .. }
            | ViewSpec::Objects { cluster, .. } => *cluster,
            // about no one cluster: the query layers' answer for the fleet
            ViewSpec::Query { .. } => usize::MAX,
        }
    }
}

#[derive(Debug)]
pub enum FeedRequest {
    Open {
        id: u64,
        spec: ViewSpec,
    },
    Close {
        id: u64,
    },
    /// A cluster dialed after start (through a hub's proxy), at its index in the fleet.
    AddTarget {
        index: usize,
        target: Target,
    },
}

/// Log lines are sent in batches at most this often.
const LOG_BATCH: Duration = Duration::from_millis(100);

fn pod_ar() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&())
}

pub fn pod_row(o: &DynamicObject) -> PodRow {
    let d = &o.data;
    let statuses: Vec<&Value> =
        d["status"]["containerStatuses"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
    let total = d["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses.iter().filter(|s| s["ready"] == true).count();
    let waiting = statuses.iter().find_map(|s| s["state"]["waiting"]["reason"].as_str());
    let gpus = super::gpu_resources::of_pod(&d["spec"]);
    let limits: Vec<Option<f64>> = d["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["resources"]["limits"]["memory"].as_str().and_then(super::quantity::parse))
        .collect();
    let memory_limit = if !limits.is_empty() && limits.iter().all(Option::is_some) {
        Some(limits.iter().flatten().sum())
    } else {
        None
    };
    let mut containers: Vec<String> = d["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .map(str::to_string)
        .collect();
    let default = o.metadata.annotations.as_ref().and_then(|a| a.get("kubectl.kubernetes.io/default-container"));
    if let Some(at) = default.and_then(|d| containers.iter().position(|c| c == d)) {
        let d = containers.remove(at);
        containers.insert(0, d);
    }
    let sidecars =
        d["spec"]["initContainers"].as_array().into_iter().flatten().filter(|c| c["restartPolicy"] == "Always");
    let mut ports: Vec<u16> = d["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(sidecars)
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .filter_map(|p| p["containerPort"].as_u64().and_then(|n| u16::try_from(n).ok()))
        .collect();
    ports.dedup();
    PodRow {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        ready: format!("{ready}/{total}"),
        status: waiting
            .map(str::to_string)
            .unwrap_or_else(|| d["status"]["phase"].as_str().unwrap_or("Unknown").to_string()),
        restarts: statuses.iter().filter_map(|s| s["restartCount"].as_i64()).sum(),
        created: o.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        node: d["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
        gpus,
        role: o.metadata.labels.as_ref().and_then(|l| l.get("llm-d.ai/role").cloned()),
        labels: o.metadata.labels.clone().unwrap_or_default(),
        usage: None,
        memory_limit,
        containers,
        ports,
    }
}

pub fn pod_detail(o: &DynamicObject) -> PodDetail {
    let d = &o.data;
    let statuses: BTreeMap<String, &Value> = d["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(d["status"]["initContainerStatuses"].as_array().into_iter().flatten())
        .filter_map(|s| Some((s["name"].as_str()?.to_string(), s)))
        .collect();
    let containers = d["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c, true))
        .chain(d["spec"]["containers"].as_array().into_iter().flatten().map(|c| (c, false)))
        .map(|(c, init)| {
            let name = c["name"].as_str().unwrap_or("?").to_string();
            let st = statuses.get(&name);
            let state = st
                .map(|s| {
                    let state = &s["state"];
                    if state.get("running").is_some() {
                        "running".to_string()
                    } else if let Some(w) = state.get("waiting") {
                        format!("waiting: {}", w["reason"].as_str().unwrap_or(""))
                    } else if let Some(t) = state.get("terminated") {
                        format!("terminated: {}", t["reason"].as_str().unwrap_or(""))
                    } else {
                        "unknown".to_string()
                    }
                })
                .unwrap_or_else(|| "no status".to_string());
            let last = st.and_then(|s| s["lastState"]["terminated"].as_object()).map(|t| {
                format!(
                    "{} (exit {})",
                    t.get("reason").and_then(Value::as_str).unwrap_or("?"),
                    t.get("exitCode").and_then(Value::as_i64).unwrap_or(-1)
                )
            });
            let res = |k: &str| -> String {
                c["resources"][k]
                    .as_object()
                    .map(|m| {
                        m.iter().map(|(r, v)| format!("{r}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(" ")
                    })
                    .unwrap_or_default()
            };
            ContainerRow {
                name,
                image: c["image"].as_str().unwrap_or("").to_string(),
                init,
                state,
                ready: st.is_some_and(|s| s["ready"] == true),
                restarts: st.and_then(|s| s["restartCount"].as_i64()).unwrap_or(0),
                last_termination: last,
                requests: res("requests"),
                limits: res("limits"),
            }
        })
        .collect();
    PodDetail {
        name: o.metadata.name.clone().unwrap_or_default(),
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        phase: d["status"]["phase"].as_str().unwrap_or("Unknown").to_string(),
        node: d["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
        ip: d["status"]["podIP"].as_str().unwrap_or("").to_string(),
        owner: o.metadata.owner_references.as_ref().and_then(|o| o.first()).map(|o| format!("{}/{}", o.kind, o.name)),
        labels: o.metadata.labels.clone().unwrap_or_default(),
        conditions: d["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["type"].as_str().unwrap_or("").to_string(), c["status"] == "True"))
            .collect(),
        containers,
        events: Vec::new(),
    }
}

fn event_row(o: &DynamicObject) -> EventRow {
    let d = &o.data;
    EventRow {
        kind: d["type"].as_str().unwrap_or("").to_string(),
        reason: d["reason"].as_str().unwrap_or("").to_string(),
        message: d["message"].as_str().unwrap_or("").to_string(),
        count: d["count"].as_i64().unwrap_or(1),
        last: d["lastTimestamp"].as_str().or(d["eventTime"].as_str()).unwrap_or("").to_string(),
    }
}

/// How often an open pod list asks metrics.k8s.io: metrics-server's default resolution.
const USAGE_EVERY: Duration = Duration::from_secs(15);
/// A sample older than this is not shown (metrics-server's own are at most a couple of
/// resolutions old).
const USAGE_STALE_S: i64 = 180;

fn pod_metrics_ar() -> ApiResource {
    ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "PodMetrics".into(),
        plural: "pods".into(),
    }
}

/// How long one metrics.k8s.io list may take.
const USAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// The usage of the pods metrics-server measured, by `namespace/name`; None when
/// metrics.k8s.io does not answer (not served, forbidden, down): the list then shows `—`,
/// never the last figures as if fresh.
async fn pod_usage(api: &Api<DynamicObject>, selector: &str) -> Result<BTreeMap<String, PodUsage>, String> {
    // bounded: the pod list's loop waits for this answer, and a metrics list that hangs must not
    // hold the watch's events (and the list itself) behind it
    let params = kube::api::ListParams::default().labels(selector);
    let asked = tokio::time::timeout(USAGE_TIMEOUT, api.list(&params));
    let list = asked.await.map_err(|_| format!("metrics.k8s.io: no answer within {}s", USAGE_TIMEOUT.as_secs()))?;
    let list = list.map_err(|e| match e {
        kube::Error::Api(s) if s.code == 404 => "no metrics-server here (metrics.k8s.io not served)".to_string(),
        kube::Error::Api(s) if s.code == 403 => "metrics.k8s.io is forbidden for you".to_string(),
        e => format!("metrics.k8s.io: {}", super::cluster::plain(&e.to_string())),
    })?;
    let now = jiff::Timestamp::now().as_second();
    let mut out = BTreeMap::new();
    for m in list.items {
        let at = m.data["timestamp"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if at.is_none_or(|t| now - t.as_second() > USAGE_STALE_S) {
            continue;
        }
        let mut usage = PodUsage { cpu: 0.0, memory: 0.0 };
        let mut whole = true;
        for c in m.data["containers"].as_array().into_iter().flatten() {
            let q = |k: &str| c["usage"][k].as_str().and_then(super::quantity::parse);
            match (q("cpu"), q("memory")) {
                (Some(cpu), Some(mem)) => (usage.cpu, usage.memory) = (usage.cpu + cpu, usage.memory + mem),
                _ => whole = false,
            }
        }
        if whole {
            let key = format!("{}/{}", m.metadata.namespace.unwrap_or_default(), m.metadata.name.unwrap_or_default());
            out.insert(key, usage);
        }
    }
    Ok(out)
}

async fn pods_feed(
    id: u64,
    cluster: usize,
    client: kube::Client,
    ns: String,
    selector: String,
    tx: mpsc::Sender<Update>,
) {
    // no namespace: every namespace (`:pods`)
    let (api, metrics): (Api<DynamicObject>, Api<DynamicObject>) = if ns.is_empty() {
        (Api::all_with(client.clone(), &pod_ar()), Api::all_with(client, &pod_metrics_ar()))
    } else {
        (Api::namespaced_with(client.clone(), &ns, &pod_ar()), Api::namespaced_with(client, &ns, &pod_metrics_ar()))
    };
    let mut s = watcher::watcher(api, watcher::Config::default().labels(&selector)).default_backoff().boxed();
    let mut pods: Folded<PodRow> = Folded::default();
    // None until metrics.k8s.io first answered
    let mut usage: Option<Result<BTreeMap<String, PodUsage>, String>> = None;
    let mut poll = tokio::time::interval(USAGE_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let changed = tokio::select! {
            ev = s.next() => match ev {
                None => return,
                Some(Ok(ev)) => pods.fold(ev, |o| Some(pod_row(&o))),
                Some(Err(e)) => {
                    let _ = tx.send(Update::ViewError { cluster, view: id, error: e.to_string() }).await;
                    false
                }
            },
            _ = poll.tick() => {
                let now = Some(pod_usage(&metrics, &selector).await);
                let changed = now != usage;
                usage = now;
                // the first answer can come before the pods are listed: nothing to draw yet
                changed && pods.listed()
            }
        };
        if !changed {
            continue;
        }
        let rows = pods
            .items()
            .iter()
            .map(|((ns, name), r)| {
                let usage = usage.as_ref().and_then(|u| u.as_ref().ok()?.get(&format!("{ns}/{name}")).copied());
                PodRow { usage, ..r.clone() }
            })
            .collect();
        let no_usage = usage.as_ref().and_then(|u| u.as_ref().err().cloned());
        if tx.send(Update::ViewPods { cluster, view: id, pods: rows, no_usage }).await.is_err() {
            return;
        }
    }
}

pub fn object_row(kind: ObjectKind, o: &DynamicObject) -> ObjectRow {
    let v = serde_json::to_value(o).unwrap_or(Value::Null);
    let int = |p: &str| v.pointer(p).and_then(Value::as_i64);
    let mut row = ObjectRow {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        created: o.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        ..Default::default()
    };
    match kind {
        ObjectKind::Deployments => {
            let desired = int("/spec/replicas").unwrap_or(1);
            row.ready = format!("{}/{desired}", int("/status/readyReplicas").unwrap_or(0));
            row.up_to_date = Some(int("/status/updatedReplicas").unwrap_or(0));
            row.available = Some(int("/status/availableReplicas").unwrap_or(0));
            // an empty selector (or none) shows nothing
            let selector = crate::store::selector::Selector::from_json(&v["spec"]["selector"]);
            row.selector = (!selector.0.is_empty()).then(|| selector.text());
        }
        ObjectKind::Namespaces => {
            row.status = v.pointer("/status/phase").and_then(Value::as_str).unwrap_or("").to_string();
        }
    }
    row
}

/// Deployments or namespaces, watched while the view is open.
async fn objects_feed(
    id: u64,
    cluster: usize,
    client: kube::Client,
    kind: ObjectKind,
    ns: String,
    tx: mpsc::Sender<Update>,
) {
    let ar = match kind {
        ObjectKind::Deployments => ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
        ObjectKind::Namespaces => ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()),
    };
    let api: Api<DynamicObject> = if ns.is_empty() || kind == ObjectKind::Namespaces {
        Api::all_with(client, &ar)
    } else {
        Api::namespaced_with(client, &ns, &ar)
    };
    let mut s = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut rows: Folded<ObjectRow> = Folded::default();
    while let Some(ev) = s.next().await {
        let changed = match ev {
            Ok(ev) => rows.fold(ev, |o| Some(object_row(kind, &o))),
            Err(e) => {
                let _ = tx.send(Update::ViewError { cluster, view: id, error: e.to_string() }).await;
                false
            }
        };
        if changed
            && tx.send(Update::ViewObjects { cluster, view: id, rows: rows.values().cloned().collect() }).await.is_err()
        {
            return;
        }
    }
}

async fn pod_feed(id: u64, cluster: usize, client: kube::Client, ns: String, name: String, tx: mpsc::Sender<Update>) {
    let pods: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &pod_ar());
    let events: Api<DynamicObject> =
        Api::namespaced_with(client, &ns, &ApiResource::erase::<k8s_openapi::api::core::v1::Event>(&()));
    let mut ps = watcher::watcher(pods, watcher::Config::default().fields(&format!("metadata.name={name}")))
        .default_backoff()
        .boxed();
    let mut es = watcher::watcher(events, watcher::Config::default().fields(&format!("involvedObject.name={name}")))
        .default_backoff()
        .boxed();
    let mut detail: Option<PodDetail> = None;
    let mut evs: Folded<EventRow> = Folded::default();
    loop {
        let changed = tokio::select! {
            ev = ps.next() => match ev {
                Some(Ok(Event::Apply(o) | Event::InitApply(o))) => { detail = Some(pod_detail(&o)); true }
                Some(Ok(Event::Delete(_))) => { let _ = tx.send(Update::ViewError { cluster, view: id, error: "the pod was deleted".into() }).await; false }
                Some(Ok(_)) => false,
                Some(Err(e)) => { let _ = tx.send(Update::ViewError { cluster, view: id, error: e.to_string() }).await; false }
                None => return,
            },
            ev = es.next() => match ev {
                Some(Ok(ev)) => evs.fold(ev, |o| Some(event_row(&o))),
                Some(Err(_)) => false,
                None => return,
            },
        };
        if let (true, Some(d)) = (changed, detail.as_ref()) {
            let mut d = d.clone();
            d.events = evs.values().cloned().collect();
            d.events.sort_by(|a, b| b.last.cmp(&a.last));
            if tx.send(Update::ViewPod { cluster, view: id, detail: Box::new(d) }).await.is_err() {
                return;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // the view's spec spelled out; each is one kubectl logs flag
async fn logs_feed(
    id: u64,
    cluster: usize,
    client: kube::Client,
    ns: String,
    pod: String,
    container: Option<String>,
    previous: bool,
    timestamps: bool,
    tx: mpsc::Sender<Update>,
) {
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client, &ns);
    let mut first = true;
    loop {
        let lp = LogParams {
            container: container.clone(),
            follow: !previous,
            previous,
            tail_lines: if first { Some(500) } else { None },
            // after a dropped stream: pick up from a few seconds back rather than replay everything
            since_seconds: if first { None } else { Some(5) },
            timestamps,
            ..Default::default()
        };
        first = false;
        match api.log_stream(&pod, &lp).await {
            Ok(stream) => {
                let mut lines = stream.lines();
                let mut batch: Vec<String> = Vec::new();
                let mut due = tokio::time::Instant::now() + LOG_BATCH;
                loop {
                    let next = tokio::time::timeout_at(due, lines.next()).await;
                    match next {
                        Ok(Some(Ok(l))) => {
                            batch.push(l);
                            if batch.len() < 500 {
                                continue;
                            }
                        }
                        Ok(Some(Err(e))) => {
                            let _ = tx
                                .send(Update::ViewError { cluster, view: id, error: format!("log stream: {e}") })
                                .await;
                            break;
                        }
                        Ok(None) => break,
                        Err(_) => {}
                    }
                    if !batch.is_empty()
                        && tx
                            .send(Update::ViewLog { cluster, view: id, lines: std::mem::take(&mut batch) })
                            .await
                            .is_err()
                    {
                        return;
                    }
                    due = tokio::time::Instant::now() + LOG_BATCH;
                }
                if !batch.is_empty() && tx.send(Update::ViewLog { cluster, view: id, lines: batch }).await.is_err() {
                    return;
                }
                if previous {
                    return;
                }
                let _ = tx
                    .send(Update::ViewError { cluster, view: id, error: "log stream ended; reconnecting".into() })
                    .await;
            }
            Err(e) => {
                let msg = match e {
                    kube::Error::Api(s) => s.message,
                    other => other.to_string(),
                };
                let _ = tx.send(Update::ViewError { cluster, view: id, error: msg }).await;
                if previous {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Secrets never show their values, wherever they sit: the object itself, the items of a List
/// (a `SecretList`'s items carry no kind), a ManifestWork's or any object's embedded manifests,
/// and the `last-applied-configuration` annotation a `kubectl apply` leaves on a Secret (its
/// values in plain JSON). `managedFields` are dropped everywhere (noise, and they can name keys).
pub fn redact(v: &mut Value) {
    redact_tree(v, false);
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn redact_tree(v: &mut Value, secret: bool) {
    match v {
        Value::Object(m) => {
            let secret = secret || m.get("kind").and_then(Value::as_str) == Some("Secret");
            let list_of_secrets = m.get("kind").and_then(Value::as_str) == Some("SecretList");
            if secret {
                for k in ["data", "stringData"] {
                    if let Some(d) = m.get_mut(k).and_then(Value::as_object_mut) {
                        for val in d.values_mut() {
                            *val = Value::String("<redacted>".into());
                        }
                    }
                }
                if let Some(a) =
                    m.get_mut("metadata").and_then(|x| x.get_mut("annotations")).and_then(Value::as_object_mut)
                {
                    if let Some(x) = a.get_mut(LAST_APPLIED) {
                        *x = Value::String("<redacted>".into());
                    }
                }
            }
            if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            for (k, child) in m.iter_mut() {
                // a Secret's own fields are done above; a SecretList's items are Secrets
                let items_are_secrets = list_of_secrets && k == "items";
                if let Value::Array(a) = child {
                    for x in a.iter_mut() {
                        redact_tree(x, items_are_secrets);
                    }
                } else {
                    redact_tree(child, false);
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                redact_tree(x, secret);
            }
        }
        _ => {}
    }
}

async fn yaml_feed(id: u64, cluster: usize, client: kube::Client, path: String, tx: mpsc::Sender<Update>) {
    let req = match http::Request::get(&path).body(Vec::new()) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Update::ViewError { cluster, view: id, error: e.to_string() }).await;
            return;
        }
    };
    let update = match client.request_text(req).await {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(mut v) => {
                redact(&mut v);
                Update::ViewText { cluster, view: id, text: yaml_serde::to_string(&v).unwrap_or_default() }
            }
            Err(e) => Update::ViewError { cluster, view: id, error: e.to_string() },
        },
        Err(e) => Update::ViewError { cluster, view: id, error: e.to_string() },
    };
    let _ = tx.send(update).await;
}

/// `:promql`: asks each query layer (in the config's order) every `every` while the view is open.
async fn query_feed(
    id: u64,
    layers: Vec<super::prom::PromConfig>,
    expr: String,
    every: Duration,
    tx: mpsc::Sender<Update>,
) {
    use super::prom::{Asker, QueryError};
    let cluster = usize::MAX;
    if layers.is_empty() {
        let error = "no query layer: add a [[metrics.prometheus]] entry to the config (see the README)".to_string();
        let _ = tx.send(Update::ViewError { cluster, view: id, error }).await;
        return;
    }
    let mut askers = Vec::new();
    for cfg in &layers {
        askers.push(Asker::for_config(cfg).await);
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut results = Vec::new();
        for (cfg, asker) in layers.iter().zip(&askers) {
            let r = match asker {
                Ok(a) => super::prom::query(a, cfg, &expr).await,
                Err(e) => Err(QueryError(e.clone())),
            };
            results.push((cfg.url.clone(), r));
        }
        let evaluated = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
        let text = super::prom::answer_text(&expr, &results, &evaluated);
        if tx.send(Update::ViewText { cluster, view: id, text }).await.is_err() {
            return;
        }
    }
}

/// The feed manager: one task per open view, aborted when the view closes.
pub fn start(targets: Vec<Target>, tx: mpsc::Sender<Update>) -> mpsc::UnboundedSender<FeedRequest> {
    start_with_layers(targets, Vec::new(), Duration::from_secs(5), tx)
}

/// `start`, with the query layers `:promql` asks (every `every` while its view is open).
pub fn start_with_layers(
    mut targets: Vec<Target>,
    layers: Vec<super::prom::PromConfig>,
    every: Duration,
    tx: mpsc::Sender<Update>,
) -> mpsc::UnboundedSender<FeedRequest> {
    let (req_tx, mut rx) = mpsc::unbounded_channel::<FeedRequest>();
    tokio::spawn(async move {
        let mut clients: BTreeMap<usize, kube::Client> = BTreeMap::new();
        let mut running: BTreeMap<u64, JoinHandle<()>> = BTreeMap::new();
        while let Some(req) = rx.recv().await {
            match req {
                FeedRequest::Close { id } => {
                    if let Some(h) = running.remove(&id) {
                        h.abort();
                    }
                }
                FeedRequest::AddTarget { index, target } => {
                    if index == targets.len() {
                        targets.push(target);
                    }
                }
                FeedRequest::Open { id, spec: ViewSpec::Query { expr } } => {
                    let h = tokio::spawn(query_feed(id, layers.clone(), expr, every, tx.clone()));
                    running.insert(id, h);
                }
                FeedRequest::Open { id, spec } => {
                    let cluster = spec.cluster();
                    let Some(t) = targets.get(cluster) else { continue };
                    let client = match clients.get(&cluster) {
                        Some(c) => c.clone(),
                        None => match client_for(t).await {
                            Ok(c) => {
                                clients.insert(cluster, c.clone());
                                c
                            }
                            Err(e) => {
                                let _ = tx.send(Update::ViewError { cluster, view: id, error: e }).await;
                                continue;
                            }
                        },
                    };
                    let tx = tx.clone();
                    let h = match spec {
                        ViewSpec::Pods { namespace, selector, .. } => {
                            tokio::spawn(pods_feed(id, cluster, client, namespace, selector, tx))
                        }
                        ViewSpec::Pod { namespace, name, .. } => {
                            tokio::spawn(pod_feed(id, cluster, client, namespace, name, tx))
                        }
                        ViewSpec::Logs { namespace, pod, container, previous, timestamps, .. } => tokio::spawn(
                            logs_feed(id, cluster, client, namespace, pod, container, previous, timestamps, tx),
                        ),
                        ViewSpec::Yaml { path, .. } => tokio::spawn(yaml_feed(id, cluster, client, path, tx)),
                        ViewSpec::Objects { kind, namespace, .. } => {
                            tokio::spawn(objects_feed(id, cluster, client, kind, namespace, tx))
                        }
                        ViewSpec::Query { .. } => continue,
                    };
                    running.insert(id, h);
                }
            }
        }
        for h in running.values() {
            h.abort();
        }
    });
    req_tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_and_managed_fields_dropped() {
        let mut v = json!({"kind": "Secret", "metadata": {"name": "s", "managedFields": [{}]}, "data": {"token": "c2VjcmV0"}, "stringData": {"k": "v"}});
        redact(&mut v);
        assert_eq!(v["data"]["token"], "<redacted>");
        assert_eq!(v["stringData"]["k"], "<redacted>");
        assert!(v["metadata"].get("managedFields").is_none());
        let mut pod = json!({"kind": "Pod", "metadata": {"name": "p"}, "data": {"x": "kept"}});
        redact(&mut pod);
        assert_eq!(pod["data"]["x"], "kept", "only Secrets are redacted");
    }

    #[test]
    fn secrets_are_redacted_wherever_they_sit() {
        // a SecretList: its items carry no kind
        let mut list = json!({"kind": "SecretList", "apiVersion": "v1",
            "items": [{"metadata": {"name": "a"}, "data": {"k": "c2VjcmV0"}}]});
        redact(&mut list);
        assert_eq!(list["items"][0]["data"]["k"], "<redacted>");
        // a v1 List of mixed objects
        let mut mixed = json!({"kind": "List", "items": [
            {"kind": "Secret", "data": {"k": "c2VjcmV0"}}, {"kind": "ConfigMap", "data": {"k": "plain"}}]});
        redact(&mut mixed);
        assert_eq!(
            (mixed["items"][0]["data"]["k"].as_str(), mixed["items"][1]["data"]["k"].as_str()),
            (Some("<redacted>"), Some("plain"))
        );
        // a ManifestWork carrying a Secret to a cluster
        let mut work = json!({"kind": "ManifestWork", "metadata": {"name": "w", "managedFields": [{}]},
            "spec": {"workload": {"manifests": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                "stringData": {"password": "hunter2"}}]}}});
        redact(&mut work);
        assert_eq!(work["spec"]["workload"]["manifests"][0]["stringData"]["password"], "<redacted>");
        assert!(work["metadata"].get("managedFields").is_none());
        // the annotation kubectl apply leaves on a Secret holds its values in plain JSON
        let mut applied = json!({"kind": "Secret", "metadata": {"name": "s", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"c2VjcmV0\"}}", "team": "a"}},
            "data": {"k": "c2VjcmV0"}});
        redact(&mut applied);
        let a = &applied["metadata"]["annotations"];
        assert_eq!(
            (a["kubectl.kubernetes.io/last-applied-configuration"].as_str(), a["team"].as_str()),
            (Some("<redacted>"), Some("a"))
        );
        assert!(!serde_json::to_string(&applied).unwrap().contains("c2VjcmV0"));
    }
}
