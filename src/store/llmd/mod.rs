//! LLM-d in the store: pools and model servers (from the watchers), raw metric samples (from
//! the scrapers) in fixed-size rings, and the maths that turns them into what the panes draw:
//! counter rates (resets handled), histogram percentiles over a window, pool aggregates.

use std::collections::BTreeMap;

use super::rates::{self, Reading};
use super::ring::Ring;

/// Samples kept per series unless the window needs more: 5 minutes at the default 5 s refresh.
mod cluster;
pub use cluster::{LlmdCluster, Objects};

pub const SAMPLES_KEPT: usize = 60;

pub type Key = (String, String); // (namespace, name)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    #[default]
    Vllm,
    Sglang,
    TrtLlm,
}

impl EngineKind {
    /// From `llm-d.ai/engine-type`; vLLM when absent, as the router assumes.
    pub fn from_label(v: Option<&str>) -> EngineKind {
        match v {
            Some("sglang") => EngineKind::Sglang,
            Some("trtllm-serve" | "triton-tensorrt-llm" | "trtllm") => EngineKind::TrtLlm,
            _ => EngineKind::Vllm,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            EngineKind::Vllm => "vllm",
            EngineKind::Sglang => "sglang",
            EngineKind::TrtLlm => "trtllm",
        }
    }
}

/// `llm-d.ai/role`. An unlabelled pool member serves as decode, as the router's filter does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Prefill,
    Decode,
    /// prefill-decode, both (deprecated), encode-prefill-decode: serves either.
    Both(String),
    /// encode, encode-prefill, encode-decode.
    Encode(String),
    Unlabelled,
}

impl Role {
    pub fn from_label(v: Option<&str>) -> Role {
        match v {
            Some("prefill") => Role::Prefill,
            Some("decode") => Role::Decode,
            Some(v @ ("prefill-decode" | "both" | "encode-prefill-decode")) => Role::Both(v.to_string()),
            Some(v) if v.starts_with("encode") => Role::Encode(v.to_string()),
            _ => Role::Unlabelled,
        }
    }
    pub fn serves_decode(&self) -> bool {
        matches!(self, Role::Decode | Role::Both(_) | Role::Unlabelled)
            || matches!(self, Role::Encode(v) if v == "encode-decode")
    }
    pub fn serves_prefill(&self) -> bool {
        matches!(self, Role::Prefill | Role::Both(_)) || matches!(self, Role::Encode(v) if v == "encode-prefill")
    }
    pub fn label(&self) -> &str {
        match self {
            Role::Prefill => "prefill",
            Role::Decode => "decode",
            Role::Both(v) | Role::Encode(v) => v,
            Role::Unlabelled => "decode*",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Upper bounds, ascending, the last usually +Inf.
    pub bounds: Vec<f64>,
    /// Cumulative counts per bound (or, for a windowed histogram, per-second rates).
    pub cumulative: Vec<f64>,
    pub sum: f64,
    pub count: f64,
}

impl Histogram {
    pub fn add(&mut self, other: &Histogram) {
        if self.bounds == other.bounds {
            for (a, b) in self.cumulative.iter_mut().zip(&other.cumulative) {
                *a += b;
            }
            self.sum += other.sum;
            self.count += other.count;
        }
    }

    /// The share of observations at or under `x` (see store/rates.rs).
    pub fn fraction_le(&self, x: f64) -> Option<f64> {
        let buckets: Vec<(f64, f64)> = self.bounds.iter().copied().zip(self.cumulative.iter().copied()).collect();
        rates::histogram_fraction_le(x, &buckets)
    }

    /// Prometheus' `histogram_quantile` (see store/rates.rs).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let buckets: Vec<(f64, f64)> = self.bounds.iter().copied().zip(self.cumulative.iter().copied()).collect();
        rates::histogram_quantile(q, &buckets)
    }
}

/// One scrape of a model server: raw counters and gauges, `None` where the server has no such metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineSample {
    pub kv_usage: Option<f64>,
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub prompt_tokens: Option<f64>,
    pub generation_tokens: Option<f64>,
    pub requests: Option<f64>,
    pub preemptions: Option<f64>,
    pub prefix_queries: Option<f64>,
    pub prefix_hits: Option<f64>,
    pub ttft: Option<Histogram>,
    pub itl: Option<Histogram>,
    pub model_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EppSample {
    pub requests: Option<f64>,
    pub errors: Option<f64>,
    /// Scheduling attempts per endpoint (pod) name.
    pub attempts: BTreeMap<String, f64>,
    /// P/D decisions per decision type.
    pub decisions: BTreeMap<String, f64>,
    pub avg_kv: Option<f64>,
    pub avg_queue: Option<f64>,
    pub ready_endpoints: Option<f64>,
    pub scheduler: Option<Histogram>,
    pub flow_saturation: Option<f64>,
    pub flow_rejected: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScrapeError {
    Timeout(u64),
    /// 401/403: the router protects /metrics by default.
    AuthRequired(u16),
    Http(u16, String),
    Parse(String),
    Transport(String),
    /// The API server refused this user the proxy (RBAC): not the endpoint's doing.
    Forbidden(String),
    /// A query layer's `up` is 0 for it: the layer's own scrapes fail (what it says).
    TargetDown(String),
}

impl ScrapeError {
    pub fn text(&self) -> String {
        match self {
            ScrapeError::Timeout(s) => format!("metrics timed out after {s}s"),
            ScrapeError::AuthRequired(c) => format!(
                "{c}: /metrics needs auth (the router's default); set router.monitoring.prometheus.auth.enabled=false or grant a metrics reader"
            ),
            ScrapeError::Http(c, m) => format!("HTTP {c}: {m}"),
            ScrapeError::Parse(m) => m.clone(),
            ScrapeError::Transport(m) => m.clone(),
            ScrapeError::Forbidden(m) => format!("forbidden: {m}"),
            ScrapeError::TargetDown(m) => format!("target down: {m}"),
        }
    }
    pub fn short(&self) -> &'static str {
        match self {
            ScrapeError::Timeout(_) => "timeout",
            ScrapeError::AuthRequired(_) => "auth required",
            ScrapeError::Http(..) => "http error",
            ScrapeError::Parse(_) => "bad metrics",
            ScrapeError::Transport(_) => "unreachable",
            ScrapeError::Forbidden(_) => "forbidden",
            ScrapeError::TargetDown(_) => "target down",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolInfo {
    pub namespace: String,
    pub name: String,
    /// `inference.networking.k8s.io/v1` or the legacy `inference.networking.x-k8s.io/v1alpha2`.
    pub api_version: String,
    pub selector: BTreeMap<String, String>,
    pub target_port: Option<u16>,
    /// The endpoint picker's Service (endpointPickerRef / extensionRef).
    pub epp_service: Option<String>,
    /// What did not decode, for a malformed pool.
    pub problem: Option<String>,
    /// Annotated `inference.networking.x-k8s.io/export: ClusterSet`: other clusters may import it.
    pub exported: bool,
}

/// An InferencePoolImport: a pool another cluster exports, as this cluster's multi-cluster
/// controller imported it (status only; GAIE `apix/v1alpha1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolImport {
    pub namespace: String,
    pub name: String,
    /// The exporting clusters' names (ClusterSet names: kst matches them to contexts by name).
    pub exporters: Vec<String>,
    /// A condition of a controller or parent that is not True: `Accepted=False: message`.
    pub failing: Option<String>,
}

impl PoolInfo {
    pub fn key(&self) -> Key {
        (self.namespace.clone(), self.name.clone())
    }
    pub fn legacy(&self) -> bool {
        self.api_version.contains("x-k8s.io")
    }
}

/// An InferenceObjective (`llm-d.ai/v1alpha2`) or a legacy InferenceModel: what a pool serves
/// and at which priority.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveInfo {
    pub namespace: String,
    pub name: String,
    pub api_version: String,
    pub pool: Option<String>,
    /// InferenceObjective: higher is served first; may be negative.
    pub priority: Option<i64>,
    /// InferenceModel (legacy): Critical, Standard or Sheddable.
    pub criticality: Option<String>,
    /// InferenceModel (legacy): the model name clients ask for.
    pub model: Option<String>,
}

impl ObjectiveInfo {
    pub fn label(&self) -> String {
        match (&self.priority, &self.criticality) {
            (Some(p), _) => format!("{} (priority {p})", self.name),
            (None, Some(c)) => format!("{} ({c})", self.name),
            _ => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub namespace: String,
    pub name: String,
    pub pool: Option<String>,
    pub role: Role,
    pub model: Option<String>,
    pub engine: EngineKind,
    pub ready: bool,
    pub phase: String,
    pub restarts: i64,
    pub node: String,
    /// Where the engine's /metrics is: 8200 behind the decode routing sidecar, else the API port.
    pub metrics_port: u16,
    pub gpus: u32,
    /// Why a container waits (`CrashLoopBackOff`, `ImagePullBackOff`), when one does.
    pub waiting: Option<String>,
    /// The scheduler's message for a pod it could not place (`0/6 nodes are available: …`).
    pub unschedulable: Option<String>,
    /// When its Ready condition last changed (Unix seconds): since when it is (not) ready.
    pub ready_since: Option<f64>,
}

impl ServerInfo {
    /// A one-GPU vLLM decode server `llm-d/name` in `phase`, on node `n`, port 8000 (tests).
    #[cfg(test)]
    pub fn decode_for_test(name: &str, phase: &str) -> ServerInfo {
        ServerInfo {
            namespace: "llm-d".into(),
            name: name.into(),
            pool: None,
            role: Role::Decode,
            model: None,
            engine: EngineKind::Vllm,
            ready: phase == "Running",
            phase: phase.into(),
            restarts: 0,
            node: "n".into(),
            metrics_port: 8000,
            gpus: 1,
            waiting: None,
            unschedulable: None,
            ready_since: None,
        }
    }

    pub fn key(&self) -> Key {
        (self.namespace.clone(), self.name.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timed<T> {
    /// Unix seconds.
    pub at: f64,
    pub v: T,
}

#[derive(Debug, Clone)]
pub struct Scraped<T> {
    pub samples: Ring<Timed<T>>,
    pub error: Option<Timed<ScrapeError>>,
}

impl<T: Clone> Default for Scraped<T> {
    fn default() -> Self {
        Scraped::keeping(SAMPLES_KEPT)
    }
}

/// A query layer's sample of a pod not listed yet: when, and what it said.
pub type EarlySample = (f64, Result<EngineSample, ScrapeError>);

/// How current a reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Freshness {
    /// Observed within the last scrapes.
    #[default]
    Fresh,
    /// Older, or the last scrape failed: shown dimmed with its age.
    Stale,
    /// Too old to show, or never observed: `—`.
    Expired,
}

/// What a sample gives up once it is older than the window every rate and percentile is read
/// over: its histograms and per-label counters, most of its bytes (a vLLM sample's two
/// histograms are ~700 bytes of its ~1 KB). The gauges the KV history draws stay.
pub trait Thin {
    fn thin(&mut self);
}

impl Thin for EngineSample {
    fn thin(&mut self) {
        self.ttft = None;
        self.itl = None;
    }
}

impl Thin for EppSample {
    fn thin(&mut self) {
        self.scheduler = None;
        self.attempts = BTreeMap::new();
        self.decisions = BTreeMap::new();
    }
}

impl<T: Clone + Thin> Scraped<T> {
    /// Thins the samples taken before `t`: no window ending at the latest sample reaches them.
    pub fn thin_before(&mut self, t: f64) {
        for s in self.samples.iter_mut().take_while(|s| s.at < t) {
            s.v.thin();
        }
    }
}

impl<T: Clone> Scraped<T> {
    pub fn keeping(samples: usize) -> Self {
        Scraped { samples: Ring::new(samples), error: None }
    }
    pub fn record(&mut self, at: f64, r: Result<T, ScrapeError>) {
        match r {
            Ok(v) => {
                self.samples.push(Timed { at, v });
                self.error = None;
            }
            Err(e) => self.error = Some(Timed { at, v: e }),
        }
    }
    pub fn latest(&self) -> Option<&Timed<T>> {
        self.samples.last()
    }
    /// When the latest values were observed, and whether they are still current.
    pub fn freshness(&self, r: &Reading) -> (Freshness, Option<f64>) {
        let Some(last) = self.latest() else { return (Freshness::Expired, None) };
        let age = r.now - last.at;
        let failed_since = self.error.as_ref().is_some_and(|e| e.at >= last.at);
        let f = if age > r.hide_after {
            Freshness::Expired
        } else if failed_since || age > r.stale_after {
            Freshness::Stale
        } else {
            Freshness::Fresh
        };
        (f, Some(last.at))
    }
    /// Why the numbers are not current, if they are not.
    pub fn stale_reason(&self, r: &Reading) -> Option<String> {
        match (&self.error, self.latest()) {
            (Some(e), last) if last.is_none_or(|l| e.at >= l.at) => Some(e.v.text()),
            (_, None) => Some("not scraped yet".into()),
            (_, Some(l)) if r.now - l.at > r.stale_after => Some(format!("last scrape {}", age_text(r.now - l.at))),
            _ => None,
        }
    }
    /// The window a rate is read over: the configured one, or the history there is when it
    /// is shorter; ending at the latest sample (so a reading does not drift between scrapes).
    fn span(&self, r: &Reading) -> Option<(f64, f64)> {
        let end = self.latest()?.at;
        let oldest = self.samples.iter().next()?.at;
        let range = r.window.min(end - oldest);
        (range > 0.0).then_some((end, range))
    }
    /// A counter's per-second rate over the window, as Prometheus' `rate()`.
    pub fn rate(&self, f: impl Fn(&T) -> Option<f64>, r: &Reading) -> Option<f64> {
        let (end, range) = self.span(r)?;
        let mut w = rates::Window::new(end, range);
        for s in self.samples.iter() {
            if let Some(v) = f(&s.v) {
                w.push(s.at, v);
            }
        }
        w.rate()
    }

    /// Rates of a family of counters keyed by a label, each as its own series.
    pub fn rate_map(&self, f: impl Fn(&T) -> &BTreeMap<String, f64>, r: &Reading) -> Vec<(String, f64)> {
        let Some(last) = self.latest() else { return Vec::new() };
        f(&last.v).keys().filter_map(|k| Some((k.clone(), self.rate(|s| f(s).get(k).copied(), r)?))).collect()
    }

    /// A histogram's per-second bucket rates over the window: `rate(x_bucket[w])`, ready for
    /// `histogram_quantile`. Samples with another bucket layout than the latest are left out.
    /// One pass over the samples for every bucket at once.
    pub fn histogram(&self, f: impl Fn(&T) -> Option<&Histogram>, r: &Reading) -> Option<Histogram> {
        let (end, range) = self.span(r)?;
        let last = f(&self.latest()?.v)?;
        let mut buckets = vec![rates::Window::new(end, range); last.bounds.len()];
        let mut sum = rates::Window::new(end, range);
        let mut count = rates::Window::new(end, range);
        for s in self.samples.iter() {
            let Some(h) = f(&s.v).filter(|h| h.bounds == last.bounds) else { continue };
            for (w, c) in buckets.iter_mut().zip(&h.cumulative) {
                w.push(s.at, *c);
            }
            sum.push(s.at, h.sum);
            count.push(s.at, h.count);
        }
        Some(Histogram {
            bounds: last.bounds.clone(),
            cumulative: buckets.iter().map(|w| w.rate()).collect::<Option<Vec<f64>>>()?,
            sum: sum.rate()?,
            count: count.rate()?,
        })
    }
}

/// `12s ago`, `3m ago`, `2h ago`.
pub fn age_text(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=89 => format!("{s}s ago"),
        90..=5399 => format!("{}m ago", (s + 30) / 60),
        _ => format!("{}h ago", (s + 1800) / 3600),
    }
}

/// What the panes draw for one model server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerView {
    pub kv: Option<f64>,
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub prompt_tps: Option<f64>,
    pub generation_tps: Option<f64>,
    pub request_rate: Option<f64>,
    pub preemption_rate: Option<f64>,
    pub prefix_hit_rate: Option<f64>,
    /// Per-second bucket rates over the window.
    pub ttft: Option<Histogram>,
    pub itl: Option<Histogram>,
    pub freshness: Freshness,
    /// When the values above were scraped (unix seconds).
    pub observed_at: Option<f64>,
    /// Why they are not current, if they are not.
    pub stale: Option<String>,
}

impl ServerView {
    pub fn fresh(&self) -> bool {
        self.freshness == Freshness::Fresh
    }
}

/// What the panes need of a server: `latency` also takes the TTFT and ITL histograms over the
/// window (the costly part; the KV pane and the cluster totals do without).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Counters,
    WithLatency,
}

pub fn server_view(m: &Scraped<EngineSample>, r: &Reading) -> ServerView {
    server_view_with(m, r, Detail::WithLatency)
}

pub fn server_view_with(m: &Scraped<EngineSample>, r: &Reading, detail: Detail) -> ServerView {
    let (freshness, observed_at) = m.freshness(r);
    let stale = m.stale_reason(r).or_else(|| (freshness != Freshness::Fresh).then(|| "stale".to_string()));
    if freshness == Freshness::Expired {
        return ServerView { freshness, observed_at, stale, ..Default::default() };
    }
    let last = m.latest().map(|l| &l.v);
    let prefix_hit_rate = m
        .rate(|s| s.prefix_hits, r)
        .zip(m.rate(|s| s.prefix_queries, r))
        .and_then(|(h, q)| (q > 0.0).then(|| (h / q).clamp(0.0, 1.0)));
    ServerView {
        kv: last.and_then(|l| l.kv_usage),
        running: last.and_then(|l| l.running),
        waiting: last.and_then(|l| l.waiting),
        prompt_tps: m.rate(|s| s.prompt_tokens, r),
        generation_tps: m.rate(|s| s.generation_tokens, r),
        request_rate: m.rate(|s| s.requests, r),
        preemption_rate: m.rate(|s| s.preemptions, r),
        prefix_hit_rate,
        ttft: (detail == Detail::WithLatency).then(|| m.histogram(|s| s.ttft.as_ref(), r)).flatten(),
        itl: (detail == Detail::WithLatency).then(|| m.histogram(|s| s.itl.as_ref(), r)).flatten(),
        freshness,
        observed_at,
        stale,
    }
}

/// A model name as llm-d's `llm-d.ai/model` label spells it: `meta-llama/Llama-3.3-70B-Instruct`
/// is `llama-3-3-70b-instruct`, so names from labels, objectives and metrics compare equal.
pub fn model_label(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_lowercase().replace(['.', '_'], "-")
}

/// An autoscaler llm-d manages (the workload variant autoscaler, WVA): an HPA or a KEDA
/// ScaledObject annotated `llm-d.ai/managed: "true"` (the VariantAutoscaling CRD is gone
/// upstream). Its replica counts and conditions are what the autoscaling controller wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    /// `HorizontalPodAutoscaler` or `ScaledObject`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// What it scales: `Deployment/llama-70b-decode`.
    pub target: String,
    /// `llm-d.ai/model-id`.
    pub model_id: Option<String>,
    /// `llm-d.ai/epp-inference-pool`, when set.
    pub pool: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// None while the controller has not reported (or, for KEDA, its HPA is not visible).
    pub current: Option<i64>,
    pub desired: Option<i64>,
    /// `ScalingLimited` true: its reason (`TooManyReplicas`: it wants more than its max).
    pub limited: Option<String>,
    /// Why it cannot scale: `AbleToScale` or `ScalingActive` false (KEDA: `Ready` false).
    pub blocked: Option<String>,
    /// When those conditions last changed (Unix seconds).
    pub limited_since: Option<f64>,
    pub blocked_since: Option<f64>,
}

impl Autoscaler {
    pub fn at_max(&self) -> bool {
        matches!((self.current, self.max), (Some(c), Some(m)) if c >= m)
    }
    /// The controller computed more replicas than the max allows.
    pub fn wants_more(&self) -> bool {
        self.limited.as_deref().is_some_and(|r| r.starts_with("TooManyReplicas"))
    }
    /// Whether it scales servers of this pool: by its pool annotation, else by its model id
    /// against the pool's `llm-d.ai/model` selector (`meta-llama/Llama-3.3-70B-Instruct` is
    /// `llama-3-3-70b-instruct` there).
    pub fn serves(&self, p: &PoolInfo) -> bool {
        if let Some(pool) = &self.pool {
            return *pool == p.name && self.namespace == p.namespace;
        }
        let Some(id) = &self.model_id else { return false };
        self.namespace == p.namespace && p.selector.get("llm-d.ai/model").is_some_and(|m| *m == model_label(id))
    }
}

/// Pool aggregates, computed from the pods' views and the EPP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolView {
    pub prefill_ready: usize,
    pub prefill_total: usize,
    pub decode_ready: usize,
    pub decode_total: usize,
    pub model: Option<String>,
    pub request_rate: Option<f64>,
    pub error_rate: Option<f64>,
    /// Per-second bucket rates over the window, summed over the pool's pods.
    pub ttft: Option<Histogram>,
    pub itl: Option<Histogram>,
    pub queue: Option<f64>,
    pub kv_avg: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub decode_tps: Option<f64>,
    /// Share of requests that went through a prefill pod (EPP P/D decisions).
    pub pd_share: Option<f64>,
    /// Running requests on prefill over decode (llm-d warns above 3).
    pub pd_running_ratio: Option<f64>,
    pub epp_stale: Option<String>,
    /// Pods whose metrics are not current (their numbers are left out while others are fresh).
    pub stale_pods: usize,
    /// Fresh when any pod's numbers are current; Stale when the numbers are the last known
    /// ones of pods that stopped answering; Expired when there is nothing to show.
    pub freshness: Freshness,
    /// The oldest observation the numbers come from (unix seconds).
    pub observed_at: Option<f64>,
    /// Endpoints the EPP routed requests to in its latest interval while their pod is not
    /// Ready: (pod, share of the pool's routed requests over the window).
    pub routed_to_unready: Vec<(String, f64)>,
    /// The EPP's `ready_endpoints` when it disagrees with the pods kst sees Ready.
    pub epp_ready_mismatch: Option<(f64, usize)>,
}

fn sum_opt(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    it.fold(None, |acc, v| match (acc, v) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    })
}

pub fn max_opt(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    it.flatten().filter(|v| v.is_finite()).reduce(f64::max)
}

pub fn mean_opt(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = it.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn merge(hs: impl Iterator<Item = Option<Histogram>>) -> Option<Histogram> {
    hs.flatten().reduce(|mut a, b| {
        a.add(&b);
        a
    })
}

/// The views a set of numbers is taken from: the fresh ones when there are any, else the
/// last known (stale) ones, so a cluster that stopped answering shows its last numbers with
/// their age rather than nothing or zeros.
fn usable<'a>(views: &'a [(&'a ServerInfo, ServerView)]) -> (Vec<&'a (&'a ServerInfo, ServerView)>, Freshness) {
    let fresh: Vec<_> = views.iter().filter(|(_, v)| v.freshness == Freshness::Fresh).collect();
    if !fresh.is_empty() {
        return (fresh, Freshness::Fresh);
    }
    let stale: Vec<_> = views.iter().filter(|(_, v)| v.freshness == Freshness::Stale).collect();
    let f = if stale.is_empty() { Freshness::Expired } else { Freshness::Stale };
    (stale, f)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmdTotals {
    pub pools: usize,
    pub prefill_ready: usize,
    pub prefill_total: usize,
    pub decode_ready: usize,
    pub decode_total: usize,
    pub kv_avg: Option<f64>,
    /// The fullest KV cache of the servers that decode: where requests back up first (an
    /// average with prefill servers hides a decode pool at 96%).
    pub kv_decode_max: Option<f64>,
    /// The fullest KV cache of the prefill servers (they drop theirs after handing off).
    pub kv_prefill_max: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub decode_tps: Option<f64>,
    pub freshness: Freshness,
    pub observed_at: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(bounds: &[f64], cum: &[f64]) -> Histogram {
        Histogram { bounds: bounds.to_vec(), cumulative: cum.to_vec(), sum: 0.0, count: *cum.last().unwrap() }
    }

    fn reading(now: f64) -> Reading {
        Reading { now, window: 60.0, stale_after: 13.0, hide_after: 25.0 }
    }

    #[test]
    fn quantiles_match_histogram_quantile_by_hand() {
        // 100 observations: 10 <= 0.1, 80 in (0.1, 0.5], 10 in (0.5, +Inf)
        let x = h(&[0.1, 0.5, f64::INFINITY], &[10.0, 90.0, 100.0]);
        // p50: rank 50 -> bucket (0.1, 0.5], 40 of 80 in -> 0.1 + 0.4 * 40/80 = 0.3
        assert!((x.quantile(0.5).unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(x.quantile(0.99), Some(0.5));
        assert_eq!(h(&[1.0, f64::INFINITY], &[0.0, 0.0]).quantile(0.5), None, "no observations: unknown");
    }

    #[test]
    fn windowed_histograms_are_bucket_rates_and_survive_restarts() {
        let mut s: Scraped<EngineSample> = Scraped::default();
        let with = |cum: &[f64]| EngineSample { ttft: Some(h(&[0.1, 1.0, f64::INFINITY], cum)), ..Default::default() };
        s.record(0.0, Ok(with(&[5.0, 10.0, 10.0])));
        s.record(10.0, Ok(with(&[5.0, 30.0, 30.0])));
        // 20 new observations in (0.1, 1.0] over 10 s: 2/s there, 0/s below 0.1
        let w = s.histogram(|x| x.ttft.as_ref(), &reading(10.0)).unwrap();
        assert_eq!(w.cumulative, vec![0.0, 2.0, 2.0]);
        // p50 = 0.1 + 0.9 * 1/2 = 0.55
        assert!((w.quantile(0.5).unwrap() - 0.55).abs() < 1e-9);
        // the server restarts: counts start again from zero and the window adds them up
        s.record(20.0, Ok(with(&[1.0, 2.0, 2.0])));
        let w = s.histogram(|x| x.ttft.as_ref(), &reading(20.0)).unwrap();
        assert!((w.cumulative[2] - 22.0 / 20.0).abs() < 1e-9, "{w:?}");
    }

    /// Only running pods are scraped: a Pending one said "not scraped yet" for as long as it
    /// stayed Pending (seen on the simulator's pd-llama-70b decode pod).
    #[test]
    fn a_pod_that_is_not_running_says_why_it_has_no_numbers() {
        let server = |phase: &str| ServerInfo::decode_for_test("d0", phase);
        let l = LlmdCluster::default();
        assert_eq!(
            l.view(&server("Pending"), &reading(10.0)).stale.as_deref(),
            Some("not scraped: the pod is Pending")
        );
        assert_eq!(l.view(&server("Running"), &reading(10.0)).stale.as_deref(), Some("not scraped yet"));
    }

    #[test]
    fn scraped_rates_and_staleness() {
        let mut s: Scraped<EngineSample> = Scraped::default();
        assert_eq!(s.stale_reason(&reading(0.0)).as_deref(), Some("not scraped yet"));
        assert_eq!(s.freshness(&reading(0.0)).0, Freshness::Expired);
        let sample =
            |gen: f64| EngineSample { generation_tokens: Some(gen), kv_usage: Some(0.5), ..Default::default() };
        s.record(100.0, Ok(sample(1000.0)));
        assert_eq!(s.rate(|x| x.generation_tokens, &reading(100.0)), None, "one sample is no rate");
        s.record(105.0, Ok(sample(1500.0)));
        assert_eq!(s.rate(|x| x.generation_tokens, &reading(105.0)), Some(100.0));
        assert_eq!(s.stale_reason(&reading(106.0)), None);
        assert_eq!(s.freshness(&reading(106.0)), (Freshness::Fresh, Some(105.0)));
        assert!(s.stale_reason(&reading(125.0)).unwrap().contains("20s ago"));
        assert_eq!(s.freshness(&reading(125.0)).0, Freshness::Stale, "old but still shown with its age");
        assert_eq!(s.freshness(&reading(131.0)).0, Freshness::Expired, "too old to show");
        s.record(110.0, Err(ScrapeError::Timeout(3)));
        assert_eq!(s.stale_reason(&reading(110.0)).as_deref(), Some("metrics timed out after 3s"));
        assert_eq!(s.freshness(&reading(110.0)).0, Freshness::Stale, "a failed scrape makes the last values stale");
        s.record(115.0, Ok(sample(100.0)));
        assert_eq!(s.stale_reason(&reading(115.0)), None);
        // 1000 -> 1500 -> restart -> 100: increase 500 + 100 over 15 s
        assert_eq!(s.rate(|x| x.generation_tokens, &reading(115.0)), Some(40.0), "a reset counts from zero");
        let v = server_view(&s, &reading(140.1));
        assert_eq!((v.freshness, v.kv, v.generation_tps), (Freshness::Expired, None, None), "expired shows nothing");
        let v = server_view(&s, &reading(130.0));
        assert_eq!((v.freshness, v.kv, v.observed_at), (Freshness::Stale, Some(0.5), Some(115.0)));
    }

    #[test]
    fn rates_are_taken_over_the_window_not_the_last_two_samples() {
        let mut s: Scraped<EngineSample> = Scraped::default();
        // a counter updated once every 10 s, scraped every 1 s: the last two samples often
        // show no change (an aliasing zero); over the window the rate is steady
        for t in 0..=60 {
            let v = (t / 10) as f64 * 100.0;
            s.record(t as f64, Ok(EngineSample { requests: Some(v), ..Default::default() }));
        }
        let r = Reading { now: 60.0, window: 40.0, stale_after: 5.0, hide_after: 10.0 };
        let rate = s.rate(|x| x.requests, &r).unwrap();
        assert!((rate - 10.0).abs() < 1e-9, "400 over 40 s: {rate}");
        assert_eq!(rates::rate(&[(59.0, 600.0), (60.0, 600.0)], 60.0, 1.0), Some(0.0), "two samples would alias");
    }

    #[test]
    fn samples_older_than_the_window_are_thinned_and_the_window_reads_the_same() {
        // five minutes of scrapes every 5 s, a histogram growing unevenly, a KV gauge
        let (mut whole, mut thinned): (Scraped<EngineSample>, Scraped<EngineSample>) = Default::default();
        for i in 0..=60 {
            let t = i as f64 * 5.0;
            let n = (i * i) as f64;
            let sample = EngineSample {
                kv_usage: Some(i as f64 / 100.0),
                ttft: Some(h(&[0.1, 0.5, f64::INFINITY], &[n, 3.0 * n, 3.0 * n + i as f64])),
                ..Default::default()
            };
            whole.record(t, Ok(sample.clone()));
            thinned.record(t, Ok(sample));
            thinned.thin_before(t - 60.0);
        }
        let r = reading(300.0);
        let p99 = |s: &Scraped<EngineSample>| s.histogram(|x| x.ttft.as_ref(), &r).and_then(|h| h.quantile(0.99));
        assert!(p99(&whole).is_some());
        assert_eq!(p99(&thinned), p99(&whole), "the window's samples keep their histograms");
        let kept = thinned.samples.iter().filter(|s| s.v.ttft.is_some()).count();
        assert_eq!(kept, 13, "a minute of samples at 5 s, both ends in: the rest thinned");
        let kv: Vec<Option<f64>> = thinned.samples.iter().map(|s| s.v.kv_usage).collect();
        assert_eq!(kv, whole.samples.iter().map(|s| s.v.kv_usage).collect::<Vec<_>>(), "the KV history stays");
    }

    #[test]
    fn rate_maps_follow_each_series() {
        let mut s: Scraped<EppSample> = Scraped::default();
        let sample = |pairs: &[(&str, f64)]| EppSample {
            attempts: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..Default::default()
        };
        s.record(0.0, Ok(sample(&[("a", 100.0), ("b", 50.0)])));
        assert!(s.rate_map(|e| &e.attempts, &reading(0.0)).is_empty(), "one sample is no rate");
        s.record(10.0, Ok(sample(&[("a", 150.0), ("b", 20.0), ("c", 30.0)])));
        let r: BTreeMap<String, f64> = s.rate_map(|e| &e.attempts, &reading(10.0)).into_iter().collect();
        assert_eq!(r.get("a"), Some(&5.0));
        assert_eq!(r.get("b"), Some(&2.0), "a drop is a restart: the new value is the increase");
        assert_eq!(r.get("c"), None, "a series seen once has no rate yet (as in Prometheus)");
    }

    #[test]
    fn roles_follow_the_router_filters() {
        assert!(Role::from_label(None).serves_decode());
        assert!(!Role::from_label(None).serves_prefill());
        assert!(Role::from_label(Some("both")).serves_prefill() && Role::from_label(Some("both")).serves_decode());
        assert!(Role::from_label(Some("encode-prefill")).serves_prefill());
        assert!(!Role::from_label(Some("prefill")).serves_decode());
        assert_eq!(EngineKind::from_label(Some("sglang")), EngineKind::Sglang);
        assert_eq!(EngineKind::from_label(None), EngineKind::Vllm);
    }
}
