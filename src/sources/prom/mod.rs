//! Model-server metrics from a Prometheus-compatible query layer (Prometheus, Thanos Querier,
//! Mimir/Cortex, VictoriaMetrics) instead of a scrape of every pod: one instant query per
//! refresh for the whole fleet returns the latest sample of every series kst reads, with its
//! timestamp; the series are grouped by (cluster label, namespace, pod), written back as the
//! pod's exposition text and decoded by the same decoder a direct scrape uses, so the store, the
//! rates and the panes do not know which source fed them.
//!
//! The HTTP envelope is decoded here (about as much serde as a crate would take) because the
//! one maintained client crate drops `warnings`: a Thanos partial answer must read as partial.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use crate::store::hub::ClusterAgg;
use crate::store::llmd::{EngineKind, Key};
use crate::store::{FleetUpdate, PromState, Update};

mod answer;
mod ask;
pub mod history;
mod queries;
mod rollups;

pub use answer::*;
pub use ask::*;
pub use queries::*;
use rollups::*;

/// Where and how to ask; `[[metrics.prometheus]]` in the config.
#[derive(Clone, Default)]
pub struct PromConfig {
    /// Base URL up to `/api/v1` (`http://thanos:9090`, `https://mimir/prometheus`).
    pub url: String,
    /// How its certificate is checked (`ca_file`, `insecure_skip_verify`).
    pub tls: super::get::Tls,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    /// Extra headers (`X-Scope-OrgID`).
    pub headers: BTreeMap<String, String>,
    /// Extra query parameters (`dedup`, `partial_response`).
    pub params: BTreeMap<String, String>,
    /// The label naming the cluster a series came from.
    pub cluster_label: String,
    /// Label values that differ from kst's context names.
    pub clusters: BTreeMap<String, String>,
    pub timeout: Duration,
    /// The window of the roll-ups' `rate()` (kst's own rate window).
    pub rate_window: Duration,
    /// The roll-ups computed each round, or read from `kst rules`' recorded series.
    pub rollups: RollupSource,
    /// Reached through a kubeconfig context's API server (its service proxy, with that
    /// context's credentials) instead of at `url`.
    pub through: Option<Through>,
}

/// A query layer inside a cluster, reached through its API server's service proxy:
/// `/api/v1/namespaces/<namespace>/services/<service>/proxy/api/v1/query`.
#[derive(Clone)]
pub struct Through {
    pub context: String,
    pub namespace: String,
    /// `[scheme:]name:port`, as the proxy path writes it (`https:thanos-querier:9091`).
    pub service: String,
    /// The kubeconfig holding `context` (set once it is loaded).
    pub kubeconfig: Option<Arc<kube::config::Kubeconfig>>,
}

impl Through {
    /// `namespace/[scheme:]name:port` from the config.
    pub fn parse(context: &str, service: &str) -> Result<Through, String> {
        let bad = || {
            format!(
                "{service:?}: expected namespace/name:port or namespace/scheme:name:port \
                 (e.g. openshift-monitoring/https:thanos-querier:9091)"
            )
        };
        let (ns, svc) = service.split_once('/').ok_or_else(bad)?;
        let parts: Vec<&str> = svc.split(':').collect();
        let ok_port = |p: &str| {
            p.parse::<u16>().is_ok() || (!p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        };
        let valid = match parts.as_slice() {
            [name, port] => !name.is_empty() && ok_port(port),
            [scheme, name, port] => matches!(*scheme, "http" | "https") && !name.is_empty() && ok_port(port),
            _ => false,
        };
        if ns.is_empty() || !valid {
            return Err(bad());
        }
        Ok(Through { context: context.into(), namespace: ns.into(), service: svc.into(), kubeconfig: None })
    }
    /// The proxy path up to where the query layer's own paths begin.
    pub fn base_path(&self) -> String {
        format!("/api/v1/namespaces/{}/services/{}/proxy", self.namespace, self.service)
    }
    /// How it is named on screen: `its1: service monitoring/prometheus:9090`.
    pub fn display(&self) -> String {
        format!("{}: service {}/{}", self.context, self.namespace, self.service)
    }
}

/// How queries travel: over HTTP to the URL, or through a context's API server.
#[derive(Clone)]
pub enum Asker {
    Http(reqwest::Client),
    Kube { client: kube::Client, base: String },
}

impl Asker {
    /// The asker `cfg` needs: an HTTP client with gzip, or a client of the context it goes through.
    pub async fn for_config(cfg: &PromConfig) -> Result<Asker, String> {
        match &cfg.through {
            None => cfg.tls.client().map(Asker::Http),
            Some(t) => {
                let kc = t.kubeconfig.clone().ok_or_else(|| "no kubeconfig loaded".to_string())?;
                let target = super::connect::select_targets((*kc).clone(), std::slice::from_ref(&t.context))
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .find(|x| x.context == t.context)
                    .ok_or_else(|| format!("no context {:?} in the kubeconfig", t.context))?;
                let client = super::connect::client_for(&target).await?;
                Ok(Asker::Kube { client, base: t.base_path() })
            }
        }
    }
}

/// Without the credentials: settings may be logged.
impl std::fmt::Debug for PromConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromConfig")
            .field("url", &self.url)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("basic_auth", &self.basic_auth.as_ref().map(|(u, _)| (u, "<redacted>")))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("params", &self.params)
            .field("cluster_label", &self.cluster_label)
            .field("clusters", &self.clusters)
            .field("timeout", &self.timeout)
            .field("through", &self.through.as_ref().map(Through::display))
            .field("tls", &self.tls)
            .finish()
    }
}

/// The clusters whose model servers, and whose endpoint pickers, each query layer serves (one
/// set per `[[metrics.prometheus]]`, in the config's order): a cluster two of them hold is read
/// from the first that answers for it, and the direct scrapers leave every served one alone.
#[derive(Debug, Default)]
pub struct Coverage {
    engines: RwLock<Vec<BTreeSet<usize>>>,
    epp: RwLock<Vec<BTreeSet<usize>>>,
    /// Sources that have answered or failed once: a later source waits for the earlier ones'
    /// first round, so it does not take a cluster for one refresh that an earlier one holds.
    settled: RwLock<BTreeSet<usize>>,
    changed: tokio::sync::Notify,
}

/// The clusters whose own series (per pod, per picker) the query layers are asked for, by fleet
/// index: every cluster with a running collector (a context dialed at start or when focused, a
/// hub cluster dialed through its proxy). The rest are read as per-cluster roll-ups only, so a
/// thousand contexts not dialed cost one roll-up query per signal, not a thousand clusters' pods.
#[derive(Debug, Default)]
pub struct Scope {
    /// (generation, index -> context name); the generation moves on every change.
    clusters: RwLock<(u64, BTreeMap<usize, String>)>,
}

impl Scope {
    /// These contexts, at fleet indices 0..n.
    pub fn of(contexts: &[String]) -> Scope {
        let s = Scope::default();
        for (i, c) in contexts.iter().enumerate() {
            s.add(i, c);
        }
        s
    }
    pub fn add(&self, index: usize, context: &str) {
        if let Ok(mut g) = self.clusters.write() {
            if g.1.insert(index, context.to_string()).as_deref() != Some(context) {
                g.0 += 1;
            }
        }
    }
    /// The clusters, when they changed since generation `seen`.
    fn changed_since(&self, seen: Option<u64>) -> Option<(u64, BTreeMap<usize, String>)> {
        let g = self.clusters.read().ok()?;
        (Some(g.0) != seen).then(|| (g.0, g.1.clone()))
    }
}

/// The queries for the clusters in scope, and their label values back to fleet indices.
struct Scoped {
    by_value: BTreeMap<String, usize>,
    engines: String,
    engine_times: String,
    /// The pods whose targets the layer cannot scrape (`up` 0).
    down: String,
    epp: String,
    epp_times: String,
}

impl Scoped {
    fn new(cfg: &PromConfig, clusters: &BTreeMap<usize, String>) -> Scoped {
        // each context's label value: the config's map read backwards, else its name
        let by_value: BTreeMap<String, usize> = clusters
            .iter()
            .map(|(i, c)| {
                let v = cfg.clusters.iter().find(|(_, n)| *n == c).map(|(k, _)| k.clone()).unwrap_or_else(|| c.clone());
                (v, *i)
            })
            .collect();
        let values: Vec<String> = by_value.keys().cloned().collect();
        let label = &cfg.cluster_label;
        Scoped {
            engines: engines_query_for(label, &values),
            engine_times: times_query(label, &values),
            down: targets_down_query(label, &values),
            epp: epp_query_for(label, &values),
            epp_times: epp_times_query(label, &values),
            by_value,
        }
    }
}

/// Which of a source's sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Engines,
    Epp,
}

impl Coverage {
    fn sets(&self, what: Served) -> &RwLock<Vec<BTreeSet<usize>>> {
        match what {
            Served::Engines => &self.engines,
            Served::Epp => &self.epp,
        }
    }
    /// Whether any query layer serves this cluster's model servers (or pickers).
    pub fn serves(&self, what: Served, cluster: usize) -> bool {
        self.sets(what).read().map(|v| v.iter().any(|s| s.contains(&cluster))).unwrap_or(false)
    }
    /// Whether a query layer listed before `source` serves this cluster.
    pub fn served_before(&self, what: Served, source: usize, cluster: usize) -> bool {
        self.sets(what).read().map(|v| v.iter().take(source).any(|s| s.contains(&cluster))).unwrap_or(false)
    }
    /// What `source` serves now.
    pub fn set(&self, what: Served, source: usize, clusters: BTreeSet<usize>) {
        if let Ok(mut v) = self.sets(what).write() {
            if v.len() <= source {
                v.resize(source + 1, BTreeSet::new());
            }
            v[source] = clusters;
        }
    }
    /// `source` serves nothing (it cannot be asked): the sources after it take its clusters.
    fn serves_nothing(&self, source: usize) {
        self.set(Served::Engines, source, BTreeSet::new());
        self.set(Served::Epp, source, BTreeSet::new());
        self.settle(source);
    }
    fn settle(&self, source: usize) {
        if self.settled.write().map(|mut s| s.insert(source)).unwrap_or(false) {
            self.changed.notify_waiters();
        }
    }
    /// Until every source before `source` has had its first round (or `max` has passed).
    async fn wait_for_earlier(&self, source: usize, max: Duration) {
        let all = async {
            loop {
                let changed = self.changed.notified();
                if self.settled.read().map(|s| (0..source).all(|j| s.contains(&j))).unwrap_or(true) {
                    return;
                }
                changed.await;
            }
        };
        let _ = tokio::time::timeout(max, all).await;
    }
}

pub type Covered = Arc<Coverage>;

/// The engines' scrapes of the last `window` the layer holds, sent as the rounds kst would
/// have read (each pod's scrapes before its time in `before`); the newest time sent per pod.
async fn send_window(
    http: &Asker,
    cfg: &PromConfig,
    scoped: &Scoped,
    Pace { refresh, window }: Pace,
    series: usize,
    before: &BTreeMap<(usize, Key), f64>,
    tx: &mpsc::Sender<Update>,
) -> BTreeMap<(usize, Key), f64> {
    use history::{engine_rounds, engine_window};
    let mut sent = BTreeMap::new();
    let held = match engine_window(http, cfg, &scoped.engines, window.as_secs_f64(), now_s(), series).await {
        None => {
            tracing::info!(series, "too many series to ask their window back: rates wait for a window of reads");
            return sent;
        }
        Some(Err(QueryError(e))) => {
            tracing::warn!("the engines' window could not be read: {e}");
            return sent;
        }
        Some(Ok(held)) => held,
    };
    let context_of = |v: &str| scoped.by_value.get(v).copied();
    let rounds = engine_rounds(&held, &cfg.cluster_label, context_of, refresh.as_secs_f64(), before);
    tracing::info!(rounds = rounds.len(), samples = held.samples.len(), "the engines' window from the query layer");
    for (round_at, scrapes) in rounds {
        let mut clusters = BTreeSet::new();
        for ((ci, pod), at, series) in scrapes {
            let result = crate::sources::metrics::decode_engine(&exposition(&series), engine_kind(&series))
                .map_err(crate::store::llmd::ScrapeError::Parse);
            clusters.insert(ci);
            sent.insert((ci, pod.clone()), at);
            if tx.send(Update::EngineScrape { cluster: ci, server: pod, at, result }).await.is_err() {
                return sent;
            }
        }
        for ci in clusters {
            if tx.send(Update::ScrapeRound { cluster: ci, at: round_at }).await.is_err() {
                return sent;
            }
        }
    }
    sent
}

/// Every refresh: the fleet's engine series in one query, sent as the same scrape updates a
/// direct scrape sends (each pod once per new sample time), plus the state of the source.
/// `source` is the entry's place in the config: clusters an earlier entry serves are left to it.
/// Scrape times older than this are forgotten: a pod gone ten minutes is not coming back under
/// its name, and a kiosk running for weeks must not grow with pod churn.
const FORGET_AFTER_S: f64 = 600.0;

/// Drops the last scrape times (per pod, per endpoint picker) older than `FORGET_AFTER_S`.
fn forget_gone<A: Ord, B: Ord>(now: f64, pods: &mut BTreeMap<A, f64>, pickers: &mut BTreeMap<B, f64>) {
    pods.retain(|_, t| *t > now - FORGET_AFTER_S);
    pickers.retain(|_, t| *t > now - FORGET_AFTER_S);
}

/// Pods with no current series whose target the layer cannot scrape (`up == 0`), each told as
/// a scrape that failed for that reason; pods with a sample, or a cluster an earlier layer
/// serves, are left alone. False when the store has gone.
#[allow(clippy::too_many_arguments)]
async fn send_targets_down(
    http: &Asker,
    cfg: &PromConfig,
    scoped: &Scoped,
    covered: &Covered,
    source: usize,
    scraped_at: &BTreeMap<(usize, Key), f64>,
    at: Option<f64>,
    tx: &mpsc::Sender<Update>,
) -> bool {
    let started = std::time::Instant::now();
    let Ok(down) = read("targets_down", started, query_at(http, cfg, &scoped.down, at).await) else { return true };
    for s in &down.samples {
        let (Some(ci), Some(ns), Some(pod)) = (
            s.labels.get(&cfg.cluster_label).and_then(|v| scoped.by_value.get(v).copied()),
            s.labels.get("namespace"),
            s.labels.get("pod"),
        ) else {
            continue;
        };
        let key = (ns.clone(), pod.clone());
        if scraped_at.contains_key(&(ci, key.clone())) || covered.served_before(Served::Engines, source, ci) {
            continue;
        }
        let why = format!("the query layer cannot scrape it (up 0; its last scrape took {:.1}s)", s.value);
        let result = Err(crate::store::llmd::ScrapeError::TargetDown(why));
        if tx.send(Update::EngineScrape { cluster: ci, server: key, at: s.at, result }).await.is_err() {
            return false;
        }
    }
    true
}

/// What one refresh read of the endpoint pickers.
#[derive(Default)]
struct Pickers {
    bytes: usize,
    warnings: Vec<String>,
    /// the clusters whose pickers this layer answers for
    clusters: BTreeSet<usize>,
}

/// The endpoint pickers' series and scrape times, each picker sent once per new sample time.
/// None when the store has gone.
#[allow(clippy::too_many_arguments)]
async fn read_pickers(
    http: &Asker,
    cfg: &PromConfig,
    scoped: &Scoped,
    covered: &Covered,
    source: usize,
    last_epp_at: &mut BTreeMap<(usize, String, String), f64>,
    at: Option<f64>,
    tx: &mpsc::Sender<Update>,
) -> Option<Pickers> {
    let mut out = Pickers::default();
    let started = std::time::Instant::now();
    let asked = query_with_times(http, cfg, &scoped.epp, &scoped.epp_times, at).await;
    let Ok((ea, et)) = read_pair("epp", started, asked) else {
        return Some(out);
    };
    out.bytes = ea.bytes + et.bytes;
    out.warnings.extend(ea.warnings.iter().chain(&et.warnings).cloned());
    let context_of = |v: &str| scoped.by_value.get(v).copied();
    for ((ci, ns, svc), (t, series)) in group_epp(&ea, &et, &cfg.cluster_label, context_of) {
        if covered.served_before(Served::Epp, source, ci) {
            continue;
        }
        out.clusters.insert(ci);
        let key = (ci, ns.clone(), svc.clone());
        if last_epp_at.get(&key).is_some_and(|x| *x >= t) {
            continue;
        }
        last_epp_at.insert(key, t);
        let result =
            crate::sources::metrics::decode_epp(&exposition(&series)).map_err(crate::store::llmd::ScrapeError::Parse);
        if tx.send(Update::EppQueried { cluster: ci, namespace: ns, service: svc, at: t, result }).await.is_err() {
            return None;
        }
    }
    Some(out)
}

/// The rules' history from the query layer (for the clusters no earlier layer serves), sent to
/// the store, as a task of its own (`history::HistoryAsk`): Some(true) when it was read and sent,
/// Some(false) when it could not be read (asked again later), None when the store has gone.
fn send_history(
    http: &Asker,
    cfg: &PromConfig,
    scoped: &Scoped,
    covered: &Covered,
    source: usize,
    refresh: Duration,
    tx: &mpsc::Sender<Update>,
) -> impl std::future::Future<Output = Option<bool>> + Send + 'static {
    let (http, cfg, by_value, covered, tx) =
        (http.clone(), cfg.clone(), scoped.by_value.clone(), covered.clone(), tx.clone());
    async move {
        let context_of =
            |v: &str| by_value.get(v).copied().filter(|ci| !covered.served_before(Served::Engines, source, *ci));
        let step = refresh.as_secs_f64().max(1.0);
        let values: Vec<String> = by_value.keys().cloned().collect();
        match history::rule_history(&http, &cfg, &context_of, &values, now_s(), step).await {
            Ok(rows) => {
                tracing::info!(source, rows = rows.len(), "the rules' history from the query layer");
                tx.send(FleetUpdate::RuleHistory { source, rows }.into()).await.ok().map(|_| true)
            }
            Err(QueryError(e)) => {
                tracing::warn!(source, "the rules' history could not be read: {e}");
                Some(false)
            }
        }
    }
}

/// Each pod's engine series, decoded as a direct scrape's page would be, sent once per new
/// scrape time. A pod without a scrape time is not sent: its age would be a guess. False when
/// the store has gone.
async fn send_engines(
    pods: BTreeMap<(usize, Key), Vec<&Sample>>,
    scraped_at: &BTreeMap<(usize, Key), f64>,
    last_at: &mut BTreeMap<(usize, Key), f64>,
    tx: &mpsc::Sender<Update>,
) -> bool {
    for ((ci, pod), series) in pods {
        let key = (ci, pod.clone());
        let Some(at) = scraped_at.get(&key).copied() else { continue };
        if last_at.get(&key).is_some_and(|t| *t >= at) {
            continue; // no newer sample since the last refresh
        }
        last_at.insert(key, at);
        let result = crate::sources::metrics::decode_engine(&exposition(&series), engine_kind(&series))
            .map_err(crate::store::llmd::ScrapeError::Parse);
        if tx.send(Update::EngineScrape { cluster: ci, server: pod, at, result }).await.is_err() {
            return false;
        }
    }
    true
}

pub async fn run(
    source: usize,
    cfg: PromConfig,
    scope: Arc<Scope>,
    covered: Covered,
    tx: mpsc::Sender<Update>,
    pace: Pace,
) {
    let Pace { refresh, window } = pace;
    let mut asker: Option<Asker> = None;
    let (rollups, mut rollup_rows) = (cfg.rollups(), Rollups::default());
    let mut last_at: BTreeMap<(usize, Key), f64> = BTreeMap::new();
    let mut last_epp_at: BTreeMap<(usize, String, String), f64> = BTreeMap::new();
    let mut scoped = Scoped::new(&cfg, &BTreeMap::new());
    let mut generation = None;
    let mut every = tokio::time::interval(refresh);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // the sources listed before this one answer first for the clusters they hold (the first
    // tick comes at once, however long this waits)
    covered.wait_for_earlier(source, cfg.timeout * 2).await;
    // the rules' history is asked once the layer answers, and again after it failed
    let mut history = history::HistoryAsk::default();
    // the engines' window is asked back once, in the first round that reads them
    let mut window_asked = window.is_zero();
    loop {
        every.tick().await;
        if asker.is_none() {
            match Asker::for_config(&cfg).await {
                Ok(a) => asker = Some(a),
                Err(e) => {
                    // a context whose credentials fail now (an exec plugin, say) is tried again
                    covered.serves_nothing(source);
                    let state = PromState::failed(&cfg.url, e);
                    if tx.send(FleetUpdate::Prom { source, state }.into()).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some(http) = asker.as_ref() else { continue };
        // clusters dialed since the last refresh join the per-pod queries
        if let Some((g, clusters)) = scope.changed_since(generation) {
            scoped = Scoped::new(&cfg, &clusters);
            generation = Some(g);
        }
        let context_of = |v: &str| scoped.by_value.get(v).copied();
        forget_gone(now_s(), &mut last_at, &mut last_epp_at);
        // with nothing dialed there is no per-pod question (`C=~""` would match unlabelled series)
        let per_pod = !scoped.by_value.is_empty();
        let started = std::time::Instant::now();
        // series and scrape times in one query: one consistent view of the ingested scrapes
        let at = Some(now_s());
        let answers = match per_pod {
            true => read_pair(
                "engines",
                started,
                query_with_times(http, &cfg, &scoped.engines, &scoped.engine_times, at).await,
            ),
            false => Ok(Default::default()),
        };
        let state = match answers {
            Err(QueryError(e)) => PromState::failed(&cfg.url, e),
            Ok((answer, times)) => {
                let (mut pods, _, unknown) = group(&answer, &cfg.cluster_label, context_of);
                // a cluster an earlier query layer serves is read from that one only
                pods.retain(|(ci, _), _| !covered.served_before(Served::Engines, source, *ci));
                let scraped_at: BTreeMap<(usize, Key), f64> = times
                    .samples
                    .iter()
                    .filter_map(|s| {
                        let ci = context_of(s.labels.get(&cfg.cluster_label)?)?;
                        Some(((ci, (s.labels.get("namespace")?.clone(), s.labels.get("pod")?.clone())), s.value))
                    })
                    .collect();
                let clusters: BTreeSet<usize> = pods.keys().map(|(c, _)| *c).collect();
                covered.set(Served::Engines, source, clusters.clone());
                if !pods.is_empty() && !std::mem::replace(&mut window_asked, true) {
                    let before = scraped_at.iter().filter(|(k, _)| pods.contains_key(*k)).map(|(k, t)| (k.clone(), *t));
                    let series = pods.values().map(Vec::len).sum();
                    let pace = Pace { refresh, window };
                    let sent = send_window(http, &cfg, &scoped, pace, series, &before.collect(), &tx).await;
                    for (key, t) in sent {
                        last_at.insert(key, t);
                    }
                    if tx.is_closed() {
                        return;
                    }
                }
                if !send_engines(pods, &scraped_at, &mut last_at, &tx).await {
                    return;
                }
                // a pod with no current series whose target the layer cannot scrape says so,
                // instead of waiting as if it had not been scraped yet
                if per_pod && !send_targets_down(http, &cfg, &scoped, &covered, source, &scraped_at, at, &tx).await {
                    return;
                }
                // the endpoint pickers, at the same evaluation time
                let mut pickers = Pickers::default();
                if per_pod {
                    let read = read_pickers(http, &cfg, &scoped, &covered, source, &mut last_epp_at, at, &tx);
                    match read.await {
                        Some(p) => pickers = p,
                        None => return,
                    }
                }
                let Pickers { bytes: epp_bytes, warnings: epp_warnings, clusters: epp_clusters } = pickers;
                covered.set(Served::Epp, source, epp_clusters.clone());
                for ci in clusters.union(&epp_clusters) {
                    if tx.send(Update::ScrapeRound { cluster: *ci, at: now_s() }).await.is_err() {
                        return;
                    }
                }
                PromState {
                    bytes: answer.bytes + times.bytes + epp_bytes,
                    url: cfg.url.clone(),
                    at: Some(now_s()),
                    took_ms: Some(started.elapsed().as_millis() as u64),
                    series: answer.samples.len(),
                    warnings: answer.warnings.into_iter().chain(times.warnings).chain(epp_warnings).collect(),
                    covered: clusters.into_iter().collect(),
                    error: None,
                    unknown_clusters: unknown.into_iter().collect(),
                }
            }
        };
        if state.error.is_some() && state.at.is_none() {
            covered.set(Served::Engines, source, BTreeSet::new());
            covered.set(Served::Epp, source, BTreeSet::new());
        }
        covered.settle(source);
        let mut state = state;
        // the roll-ups by cluster (every cluster the query layer holds, context or not)
        let asked = Asked { http, cfg: &cfg, source, tx: &tx };
        if state.at.is_some() && !rollup_rows.round(&asked, &rollups, refresh, started, &mut state).await {
            return;
        }
        if !history
            .tick(state.error.is_some(), per_pod, || send_history(http, &cfg, &scoped, &covered, source, refresh, &tx))
        {
            return;
        }
        if tx.send(FleetUpdate::Prom { source, state }.into()).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_s_pace_is_its_own_step_once_seen_and_the_fleet_s_before() {
        let row = |t: f64| ClusterAgg { scraped_at: Some(t), ..Default::default() };
        // asked at 1000: newest samples 4, 6, 8, 10 and 300 s old; the median age is 8 s
        let mut rows: BTreeMap<String, ClusterAgg> =
            [("a", 996.0), ("b", 994.0), ("c", 992.0), ("d", 990.0), ("gone", 700.0)]
                .into_iter()
                .map(|(n, t)| (n.to_string(), row(t)))
                .collect();
        // the fleet's step, which rounds of roll-ups wait for at the least
        assert_eq!(pace(&mut rows, &BTreeMap::new(), 1000.0, 5.0), Some(16.0));
        assert!(rows.values().all(|r| r.interval == Some(16.0) && r.round == Some(5.0)), "{rows:?}");
        // 15 s later: a moved on by 15 s, b by 30 s; the rest did not move and keep theirs
        let before: BTreeMap<String, f64> = rows.iter().map(|(k, r)| (k.clone(), r.scraped_at.unwrap())).collect();
        rows.get_mut("a").unwrap().scraped_at = Some(1011.0);
        rows.get_mut("b").unwrap().scraped_at = Some(1024.0);
        pace(&mut rows, &before, 1015.0, 5.0);
        let interval = |n: &str| rows[n].interval;
        assert_eq!(
            (interval("a"), interval("b"), interval("c"), interval("gone")),
            (Some(15.0), Some(30.0), Some(16.0), Some(16.0))
        );
        // the one that stopped is not current; a, scraped every 15 s and asked every 5 s, is
        // current for 2 x 15 + 2 x 5 = 40 s without a newer sample
        assert!(!rows["gone"].current(1015.0, 25.0));
        assert!(rows["a"].current(1051.0, 25.0) && !rows["a"].current(1052.0, 25.0));
    }

    #[test]
    fn scrape_times_of_pods_gone_ten_minutes_are_forgotten() {
        let mut pods: BTreeMap<(usize, Key), f64> = BTreeMap::new();
        let mut pickers: BTreeMap<(usize, String, String), f64> = BTreeMap::new();
        for i in 0..1000 {
            // pod churn: a new name every 15 s
            pods.insert((0, ("ns".into(), format!("pod-{i}"))), 1000.0 + 15.0 * i as f64);
            pickers.insert((0, "ns".into(), format!("epp-{i}")), 1000.0 + 15.0 * i as f64);
            forget_gone(1000.0 + 15.0 * i as f64, &mut pods, &mut pickers);
        }
        assert_eq!(pods.len(), 40, "ten minutes of names, not the thousand seen");
        assert_eq!(pickers.len(), 40);
        assert!(pods.contains_key(&(0, ("ns".into(), "pod-999".into()))), "the current one stays");
    }

    #[test]
    fn odd_label_values_make_queries_prometheus_reads_back_as_they_are() {
        use promql_parser::parser::{parse, Expr};
        for odd in [r#"a"b"#, r"back\slash", "new\nline", "edge-0001.(x)*"] {
            let q = format!("up{{cluster={}}}", string_literal(odd));
            let Ok(Expr::VectorSelector(v)) = parse(&q) else { panic!("{q}: not read back") };
            let m = v.matchers.matchers.iter().find(|m| m.name == "cluster").expect("the matcher");
            assert_eq!(m.value, odd, "{q}");
            // the regex alternative of dialed clusters matches that value and nothing longer
            let re = context_matcher("cluster", &[odd.to_string()]);
            let Ok(Expr::VectorSelector(v)) = parse(&format!("up{{{re}}}")) else { panic!("{re}: not read back") };
            let m = v.matchers.matchers.iter().find(|m| m.name == "cluster").expect("the matcher");
            let anchored = regex::Regex::new(&format!("^(?:{})$", m.value)).expect("RE2 syntax");
            assert!(anchored.is_match(odd) && !anchored.is_match(&format!("{odd}x")), "{re}");
        }
    }

    #[test]
    fn a_vector_with_warnings_nan_and_a_native_histogram() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"vllm:kv_cache_usage_perc","cluster":"c1","namespace":"llm-d","pod":"p0"},"value":[1790000000.5,"0.42"]},
            {"metric":{"__name__":"vllm:kv_cache_usage_perc","cluster":"c1","namespace":"llm-d","pod":"p1"},"value":[1790000000.5,"NaN"]},
            {"metric":{"__name__":"vllm:x","cluster":"c1"},"histogram":[1790000000.5,{"count":"2"}]}]},
            "warnings":["store 10.0.0.7:10901 unavailable: partial response"]}"#;
        let a = decode_answer(200, body).unwrap();
        assert_eq!(a.samples.len(), 1, "NaN and the native histogram are skipped, not zeros");
        assert_eq!((a.samples[0].at, a.samples[0].value), (1790000000.5, 0.42));
        assert_eq!(a.warnings, vec!["store 10.0.0.7:10901 unavailable: partial response".to_string()]);
    }

    #[test]
    fn server_errors_keep_their_type_and_message() {
        let e = decode_answer(
            422,
            br#"{"status":"error","errorType":"execution","error":"query processing would load too many samples"}"#,
        )
        .unwrap_err();
        assert_eq!(e.0, "execution: query processing would load too many samples");
        let e = decode_answer(502, b"<html>Bad Gateway</html>").unwrap_err();
        assert_eq!(e.0, "HTTP 502: <html>Bad Gateway</html>");
        let e = decode_answer(200, br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#).unwrap_err();
        assert!(e.0.contains("expected a vector"));
        let range = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"pod":"p0"},"values":[[10,"1"],[11,"NaN"],[12,"0.5"]]}]}}"#;
        let a = decode_range_answer(200, range).unwrap();
        let points: Vec<(f64, f64)> = a.samples.iter().map(|s| (s.at, s.value)).collect();
        assert_eq!(points, vec![(10.0, 1.0), (12.0, 0.5)], "a range answer: every point, NaN left out");
    }

    #[test]
    fn series_group_by_cluster_and_pod_and_decode_as_a_scrape() {
        let s = |name: &str, labels: &[(&str, &str)], v: f64| Sample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain([("__name__".to_string(), name.to_string())])
                .collect(),
            at: 100.0,
            value: v,
        };
        let pod = [("cluster", "east"), ("namespace", "llm-d"), ("pod", "p0"), ("model_name", "m")];
        let mut a = Answer::default();
        a.samples.push(s("vllm:kv_cache_usage_perc", &pod, 0.5));
        a.samples.push(s("vllm:generation_tokens_total", &pod, 1000.0));
        for (le, c) in [("0.1", 3.0), ("1.0", 9.0), ("+Inf", 10.0)] {
            let mut l = pod.to_vec();
            l.push(("le", le));
            a.samples.push(s("vllm:time_to_first_token_seconds_bucket", &l, c));
        }
        a.samples.push(s("vllm:time_to_first_token_seconds_count", &pod, 10.0));
        a.samples.push(s("vllm:time_to_first_token_seconds_sum", &pod, 4.0));
        a.samples.push(s("vllm:kv_cache_usage_perc", &[("namespace", "x"), ("pod", "y")], 0.9));
        a.samples.push(s("vllm:kv_cache_usage_perc", &[("cluster", "west"), ("namespace", "x"), ("pod", "y")], 0.9));
        let contexts = ["kind-east".to_string()];
        let map: BTreeMap<String, String> = [("east".to_string(), "kind-east".to_string())].into();
        let (pods, unlabelled, unknown) =
            group(&a, "cluster", |v| contexts.iter().position(|c| c == map.get(v).map(String::as_str).unwrap_or(v)));
        assert_eq!((unlabelled, unknown.into_iter().collect::<Vec<_>>()), (1, vec!["west".to_string()]));
        let series = &pods[&(0, ("llm-d".to_string(), "p0".to_string()))];
        let e = crate::sources::metrics::decode_engine(&exposition(series), EngineKind::Vllm).unwrap();
        assert_eq!((e.kv_usage, e.generation_tokens), (Some(0.5), Some(1000.0)));
        let h = e.ttft.unwrap();
        assert_eq!((h.count, h.cumulative.clone()), (10.0, vec![3.0, 9.0, 10.0]));
        assert_eq!(e.model_name.as_deref(), Some("m"), "the label survives the round trip");
    }

    #[test]
    fn series_and_their_scrape_times_come_back_from_one_query_and_split() {
        let sample = |labels: &[(&str, &str)], value: f64| Sample::with(labels, 1000.0, value);
        let all = Answer {
            samples: vec![
                sample(&[("__name__", "vllm:num_requests_running"), ("pod", "p")], 3.0),
                sample(&[("pod", "p"), (TIMES_LABEL, "1")], 990.5),
            ],
            warnings: vec!["w".into()],
            ..Default::default()
        };
        let (series, times) = split_times(all);
        assert_eq!(series.samples.len(), 1);
        assert_eq!(series.warnings, vec!["w".to_string()], "the warnings stay with the answer");
        assert_eq!(times.samples[0].labels.get("pod").map(String::as_str), Some("p"));
        assert!(!times.samples[0].labels.contains_key(TIMES_LABEL), "the marker is removed");
        assert_eq!(times.samples[0].value, 990.5);
    }

    #[test]
    fn the_per_pod_query_is_for_kst_s_contexts_only_and_rollups_are_per_cluster() {
        let q = engines_query_for("cluster", &["gpu-us-east".to_string(), "a.b".to_string()]);
        assert!(q.ends_with(r#",cluster=~"gpu\\-us\\-east|a\\.b"}"#), "{q}");
        let r = rollup_queries("clusterID", Duration::ZERO);
        assert!(r.iter().all(|(_, q)| q.contains("by (clusterID)") || q.contains("by (clusterID, le)")), "{r:?}");
        assert!(r.iter().any(|(s, q)| *s == "generation" && q.contains("[60s]")), "no window: a minute");
    }

    #[tokio::test]
    async fn a_slow_query_layer_is_named_as_slow_and_a_partial_answer_as_partial() {
        // accepts, never answers
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let _hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((c, _)) = l.accept().await {
                held.push(c);
            }
        });
        let cfg = PromConfig { url: url.clone(), timeout: Duration::from_millis(300), ..Default::default() };
        let e = query(&Asker::Http(reqwest::Client::new()), &cfg, "up").await.unwrap_err();
        assert_eq!(e.0, "no answer within 300ms");
        let state = crate::store::PromState {
            url,
            took_ms: Some(40),
            warnings: vec!["store 10.0.0.7:10901 unavailable".into()],
            ..Default::default()
        };
        assert!(
            state.line().ends_with("· 40 ms · partial: 1 warning (store 10.0.0.7:10901 unavailable)"),
            "{}",
            state.line()
        );
    }

    #[tokio::test]
    async fn a_cluster_two_query_layers_hold_is_served_by_the_first_and_a_later_one_waits_for_it() {
        let c = Coverage::default();
        c.set(Served::Engines, 1, [0, 2].into());
        assert!(c.serves(Served::Engines, 2) && !c.serves(Served::Epp, 2), "the sets are apart");
        assert!(!c.served_before(Served::Engines, 1, 2), "its own set is not an earlier one's");
        c.set(Served::Engines, 0, [2].into());
        assert!(c.served_before(Served::Engines, 1, 2) && !c.served_before(Served::Engines, 1, 0));
        assert!(!c.served_before(Served::Engines, 0, 2), "the first listed answers to no one");
        // the first source failing: its set empties and the cluster is the second's to take
        c.set(Served::Engines, 0, BTreeSet::new());
        assert!(!c.served_before(Served::Engines, 1, 2));
        // the second source's first round waits for the first's, and no longer
        let c = Arc::new(Coverage::default());
        let waiting = tokio::spawn({
            let c = c.clone();
            async move { c.wait_for_earlier(1, Duration::from_secs(60)).await }
        });
        c.wait_for_earlier(0, Duration::from_secs(60)).await; // the first waits for nobody
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the first has not had its round");
        c.settle(0);
        tokio::time::timeout(Duration::from_secs(30), waiting).await.expect("released").unwrap();
    }

    #[tokio::test]
    async fn a_layer_it_cannot_reach_yet_is_reported_and_tried_again_each_refresh() {
        // through a context whose client cannot be made (here: no kubeconfig): not given up
        let cfg = PromConfig {
            url: "ctx: service m/p:9090".into(),
            through: Some(Through::parse("ctx", "m/p:9090").unwrap()),
            ..Default::default()
        };
        let (tx, mut rx) = mpsc::channel(8);
        let covered = Covered::default();
        let task = tokio::spawn(run(
            0,
            cfg,
            Default::default(),
            covered.clone(),
            tx,
            Pace { refresh: Duration::from_millis(20), window: Duration::ZERO },
        ));
        for _ in 0..2 {
            let u = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("a report").unwrap();
            let Update::Fleet(FleetUpdate::Prom { state, .. }) = u else { panic!("{u:?}") };
            assert_eq!(state.error.as_deref(), Some("no kubeconfig loaded"));
        }
        assert!(!task.is_finished(), "still trying");
        task.abort();
    }

    #[test]
    fn every_query_kst_sends_is_promql_a_parser_accepts() {
        let values = ["gpu-us-east".to_string(), "a.b".to_string()];
        let mut all = vec![
            engines_query(),
            engines_query_for("cluster", &values),
            times_query("cluster", &values),
            epp_query_for("clusterID", &values),
            epp_times_query("clusterID", &values),
            targets_down_query("cluster", &values),
            crate::sources::gpus::dcgm_query("cluster", "gpu-us-east"),
            crate::sources::gpus::dcgm_times_query("cluster", "gpu-us-east"),
        ];
        all.extend(rollup_queries("cluster", Duration::from_secs(60)).into_iter().map(|(_, q)| q));
        all.extend(recorded_rollup_queries("clusterID").into_iter().map(|(_, q)| q));
        // the combined form query_with_times sends
        all.push(format!("{} or label_replace({}, \"{TIMES_LABEL}\", \"1\", \"\", \"\")", all[1], all[2]));
        for q in &all {
            assert_eq!(check_promql(q), Ok(()), "{q}");
        }
    }

    #[test]
    fn a_typed_expression_is_checked_before_it_is_sent() {
        assert_eq!(check_promql("sum by (cluster) (rate(vllm:generation_tokens_total[1m]))"), Ok(()));
        assert_eq!(check_promql("1 + 1"), Ok(()), "a scalar");
        assert!(check_promql("vllm:kv_cache_usage_perc[5m]").unwrap_err().contains("range vector"));
        assert!(check_promql("sum(rate(x[1m])").is_err(), "an unclosed parenthesis");
        assert!(check_promql("\"text\"").unwrap_err().contains("string"));
    }

    #[test]
    fn an_answer_as_text_puts_values_first_largest_first_and_says_what_failed() {
        let a = Answer {
            samples: vec![
                Sample::with(&[("__name__", "up"), ("job", "a")], 1.0, 0.0),
                Sample::with(&[("__name__", "up"), ("job", "b\"q")], 1.0, 1.0),
            ],
            warnings: vec!["store x down".into()],
            ..Default::default()
        };
        let scalar = decode_answer(200, br#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}}"#);
        let t = answer_text(
            "up",
            &[
                ("http://p".into(), Ok(a)),
                ("http://s".into(), scalar),
                ("http://down".into(), Err(QueryError("cannot connect to http://down".into()))),
            ],
            "12:00:00",
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[2], "via http://p · evaluated 12:00:00 · 2 series · partial: store x down");
        assert_eq!(lines[3], "VALUE  SERIES");
        assert_eq!(lines[4], r#"1      up{job="b\"q"}"#, "the largest first, quotes escaped");
        assert_eq!(lines[5], r#"0      up{job="a"}"#, "a 0 that was measured is a 0");
        assert_eq!(lines[9], "2      {}", "a scalar has no labels");
        assert_eq!(lines[11], "via http://down · cannot connect to http://down");
    }

    #[test]
    fn the_query_names_every_family_the_decoder_reads() {
        let q = engines_query();
        assert!(q.starts_with("{__name__=~\"vllm:(") && q.contains("|time_per_output_token_seconds_bucket|"));
    }
}
