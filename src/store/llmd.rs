//! LLM-d in the store: pools and model servers (from the watchers), raw metric samples (from
//! the scrapers) in fixed-size rings, and the maths that turns them into what the panes draw:
//! counter rates (resets handled), histogram percentiles over a window, pool aggregates.

use std::collections::BTreeMap;

use super::model::Ring;

/// Samples kept per pod: 5 minutes at the default 5 s refresh.
pub const SAMPLES_KEPT: usize = 60;
/// Latency percentiles are taken over this window.
pub const PERCENTILE_WINDOW_S: f64 = 60.0;

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
    /// Cumulative counts per bound.
    pub cumulative: Vec<f64>,
    pub sum: f64,
    pub count: f64,
}

impl Histogram {
    /// What was observed between `older` and `self`; `self` whole when the process restarted.
    pub fn since(&self, older: &Histogram) -> Histogram {
        if self.bounds != older.bounds || self.count < older.count {
            return self.clone();
        }
        Histogram {
            bounds: self.bounds.clone(),
            cumulative: self.cumulative.iter().zip(&older.cumulative).map(|(a, b)| (a - b).max(0.0)).collect(),
            sum: self.sum - older.sum,
            count: self.count - older.count,
        }
    }

    pub fn add(&mut self, other: &Histogram) {
        if self.bounds == other.bounds {
            for (a, b) in self.cumulative.iter_mut().zip(&other.cumulative) {
                *a += b;
            }
            self.sum += other.sum;
            self.count += other.count;
        }
    }

    /// Prometheus' `histogram_quantile`: linear interpolation inside the bucket; a rank in
    /// the +Inf bucket answers the highest finite bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = *self.cumulative.last()?;
        if total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let i = self.cumulative.iter().position(|c| *c >= rank)?;
        let upper = self.bounds[i];
        if upper.is_infinite() {
            return self.bounds.iter().rev().find(|b| b.is_finite()).copied();
        }
        let (lower, below) = if i == 0 { (0.0, 0.0) } else { (self.bounds[i - 1], self.cumulative[i - 1]) };
        let in_bucket = self.cumulative[i] - below;
        if in_bucket <= 0.0 {
            return Some(upper);
        }
        Some(lower + (upper - lower) * (rank - below) / in_bucket)
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
        }
    }
    pub fn short(&self) -> &'static str {
        match self {
            ScrapeError::Timeout(_) => "timeout",
            ScrapeError::AuthRequired(_) => "auth required",
            ScrapeError::Http(..) => "http error",
            ScrapeError::Parse(_) => "bad metrics",
            ScrapeError::Transport(_) => "unreachable",
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
}

impl ServerInfo {
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
        Scraped { samples: Ring::new(SAMPLES_KEPT), error: None }
    }
}

impl<T: Clone> Scraped<T> {
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
    /// Why the numbers are not current, if they are not.
    pub fn stale(&self, now: f64, max_age: f64) -> Option<String> {
        match (&self.error, self.latest()) {
            (Some(e), last) if last.is_none_or(|l| e.at >= l.at) => Some(e.v.text()),
            (_, None) => Some("not scraped yet".into()),
            (_, Some(l)) if now - l.at > max_age => Some(format!("last scrape {:.0}s ago", now - l.at)),
            _ => None,
        }
    }
    fn last_two(&self) -> Option<(&Timed<T>, &Timed<T>)> {
        let n = self.samples.len();
        let mut it = self.samples.iter().skip(n.checked_sub(2)?);
        Some((it.next()?, it.next()?))
    }

    /// Per-second rate of a counter between the last two samples; a drop is a restart.
    pub fn rate(&self, f: impl Fn(&T) -> Option<f64>) -> Option<f64> {
        let (a, b) = self.last_two()?;
        counter_rate(f(&a.v)?, a.at, f(&b.v)?, b.at)
    }

    /// Rates of a family of counters keyed by a label (a key new in the latest sample
    /// counts from zero).
    pub fn rate_map(&self, f: impl Fn(&T) -> &BTreeMap<String, f64>) -> Vec<(String, f64)> {
        let Some((a, b)) = self.last_two() else { return Vec::new() };
        f(&b.v)
            .iter()
            .filter_map(|(k, v1)| {
                Some((k.clone(), counter_rate(f(&a.v).get(k).copied().unwrap_or(0.0), a.at, *v1, b.at)?))
            })
            .collect()
    }
    /// The newest sample at least `window` seconds older than the latest, else the oldest kept.
    pub fn window_start(&self, window: f64) -> Option<&Timed<T>> {
        let last = self.latest()?;
        let cutoff = last.at - window;
        let mut best = None;
        for s in self.samples.iter() {
            if s.at >= last.at {
                break;
            }
            if best.is_none() || s.at <= cutoff {
                best = Some(s);
            }
        }
        best
    }
}

/// Rate of a counter from (v0 at t0) to (v1 at t1); a decrease means the counter reset.
pub fn counter_rate(v0: f64, t0: f64, v1: f64, t1: f64) -> Option<f64> {
    let dt = t1 - t0;
    if dt <= 0.0 {
        return None;
    }
    let dv = if v1 >= v0 { v1 - v0 } else { v1 };
    Some(dv / dt)
}

/// A histogram's observations over the percentile window.
pub fn windowed(s: &Scraped<EngineSample>, f: impl Fn(&EngineSample) -> Option<&Histogram>) -> Option<Histogram> {
    let last = s.latest()?;
    let start = s.window_start(PERCENTILE_WINDOW_S)?;
    Some(f(&last.v)?.since(f(&start.v)?))
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
    pub ttft: Option<Histogram>,
    pub itl: Option<Histogram>,
    pub stale: Option<String>,
}

pub fn server_view(m: &Scraped<EngineSample>, now: f64, max_age: f64) -> ServerView {
    let last = m.latest().map(|l| &l.v);
    let prefix_hit_rate = m.window_start(PERCENTILE_WINDOW_S).zip(m.latest()).and_then(|(a, b)| {
        let q = b.v.prefix_queries? - a.v.prefix_queries?;
        let h = b.v.prefix_hits? - a.v.prefix_hits?;
        (q > 0.0 && h >= 0.0).then(|| h / q)
    });
    ServerView {
        kv: last.and_then(|l| l.kv_usage),
        running: last.and_then(|l| l.running),
        waiting: last.and_then(|l| l.waiting),
        prompt_tps: m.rate(|s| s.prompt_tokens),
        generation_tps: m.rate(|s| s.generation_tokens),
        request_rate: m.rate(|s| s.requests),
        preemption_rate: m.rate(|s| s.preemptions),
        prefix_hit_rate,
        ttft: windowed(m, |s| s.ttft.as_ref()),
        itl: windowed(m, |s| s.itl.as_ref()),
        stale: m.stale(now, max_age),
    }
}

/// Everything kst knows about LLM-d on one cluster.
#[derive(Debug, Clone, Default)]
pub struct LlmdCluster {
    /// None until discovery answered; false: no InferencePool API on this cluster.
    pub installed: Option<bool>,
    pub pools: Vec<PoolInfo>,
    pub objectives: Vec<ObjectiveInfo>,
    pub servers: Vec<ServerInfo>,
    pub metrics: BTreeMap<Key, Scraped<EngineSample>>,
    pub epp: BTreeMap<Key, Scraped<EppSample>>,
    /// Per pool: (prefill tokens/s, decode tokens/s) after each scrape round.
    pub throughput: BTreeMap<Key, Ring<Timed<(f64, f64)>>>,
    pub last_round: Option<f64>,
    /// Scrape rounds completed: rates need two.
    pub rounds: u64,
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
    pub stale_pods: usize,
}

fn sum_opt(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    it.fold(None, |acc, v| match (acc, v) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    })
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

impl LlmdCluster {
    pub fn objectives_of<'a>(&'a self, pool: &'a PoolInfo) -> impl Iterator<Item = &'a ObjectiveInfo> + 'a {
        self.objectives
            .iter()
            .filter(move |o| o.namespace == pool.namespace && o.pool.as_deref() == Some(pool.name.as_str()))
    }

    pub fn members<'a>(&'a self, pool: &'a PoolInfo) -> impl Iterator<Item = &'a ServerInfo> + 'a {
        self.servers
            .iter()
            .filter(move |s| s.namespace == pool.namespace && s.pool.as_deref() == Some(pool.name.as_str()))
    }

    pub fn view(&self, s: &ServerInfo, now: f64, max_age: f64) -> ServerView {
        self.metrics
            .get(&s.key())
            .map(|m| server_view(m, now, max_age))
            .unwrap_or_else(|| ServerView { stale: Some("not scraped yet".into()), ..Default::default() })
    }

    pub fn pool_view(&self, pool: &PoolInfo, now: f64, max_age: f64) -> PoolView {
        let members: Vec<(&ServerInfo, ServerView)> =
            self.members(pool).map(|s| (s, self.view(s, now, max_age))).collect();
        let fresh = |v: &ServerView| v.stale.is_none();
        let mut p = PoolView::default();
        for (s, _) in &members {
            if s.role.serves_prefill() && !matches!(s.role, Role::Both(_)) {
                p.prefill_total += 1;
                p.prefill_ready += s.ready as usize;
            } else {
                p.decode_total += 1;
                p.decode_ready += s.ready as usize;
            }
        }
        p.model = members
            .iter()
            .find_map(|(s, _)| s.model.clone())
            .or_else(|| members.iter().find_map(|(s, _)| self.metrics.get(&s.key())?.latest()?.v.model_name.clone()));
        p.stale_pods = members.iter().filter(|(_, v)| !fresh(v)).count();
        let live: Vec<&(&ServerInfo, ServerView)> = members.iter().filter(|(_, v)| fresh(v)).collect();
        p.kv_avg = mean_opt(live.iter().map(|(_, v)| v.kv));
        p.queue = sum_opt(live.iter().map(|(_, v)| v.waiting));
        p.ttft = merge(live.iter().map(|(_, v)| v.ttft.clone()));
        p.itl = merge(live.iter().map(|(_, v)| v.itl.clone()));
        p.prefill_tps = sum_opt(
            live.iter()
                .filter(|(s, _)| s.role.serves_prefill() || s.role == Role::Unlabelled)
                .map(|(_, v)| v.prompt_tps),
        );
        p.decode_tps = sum_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.generation_tps));
        let run =
            |pred: &dyn Fn(&Role) -> bool| sum_opt(live.iter().filter(|(s, _)| pred(&s.role)).map(|(_, v)| v.running));
        if let (Some(pr), Some(dr)) = (run(&|r| *r == Role::Prefill), run(&|r| *r == Role::Decode)) {
            if dr > 0.0 {
                p.pd_running_ratio = Some(pr / dr);
            }
        }
        // requests enter through decode (or aggregated) pods
        p.request_rate = sum_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.request_rate));
        if let Some(epp) = self.epp.get(&pool.key()) {
            p.epp_stale = epp.stale(now, max_age);
            if p.epp_stale.is_none() {
                if let (Some(req), Some(err)) = (epp.rate(|e| e.requests), epp.rate(|e| e.errors)) {
                    p.error_rate = (req > 0.0).then(|| err / req);
                    p.request_rate = Some(req);
                }
                let pd = epp.rate(|e| e.decisions.get("prefill-decode").copied());
                let total = epp.rate(|e| (!e.decisions.is_empty()).then(|| e.decisions.values().sum()));
                if let (Some(pd), Some(total)) = (pd, total) {
                    p.pd_share = (total > 0.0).then(|| pd / total);
                }
            }
        } else if pool.epp_service.is_none() {
            p.epp_stale = Some("no endpoint picker referenced".into());
        }
        p
    }

    /// Fleet numbers for the Overview and the snapshot.
    pub fn totals(&self, now: f64, max_age: f64) -> LlmdTotals {
        let views: Vec<(&ServerInfo, ServerView)> =
            self.servers.iter().map(|s| (s, self.view(s, now, max_age))).collect();
        let fresh = || views.iter().filter(|(_, v)| v.stale.is_none());
        LlmdTotals {
            pools: self.pools.len(),
            prefill_ready: views.iter().filter(|(s, _)| s.role == Role::Prefill && s.ready).count(),
            prefill_total: views.iter().filter(|(s, _)| s.role == Role::Prefill).count(),
            decode_ready: views.iter().filter(|(s, _)| s.role != Role::Prefill && s.ready).count(),
            decode_total: views.iter().filter(|(s, _)| s.role != Role::Prefill).count(),
            kv_avg: mean_opt(fresh().map(|(_, v)| v.kv)),
            prefill_tps: sum_opt(
                fresh()
                    .filter(|(s, _)| s.role.serves_prefill() || s.role == Role::Unlabelled)
                    .map(|(_, v)| v.prompt_tps),
            ),
            decode_tps: sum_opt(fresh().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.generation_tps)),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmdTotals {
    pub pools: usize,
    pub prefill_ready: usize,
    pub prefill_total: usize,
    pub decode_ready: usize,
    pub decode_total: usize,
    pub kv_avg: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub decode_tps: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(bounds: &[f64], cum: &[f64]) -> Histogram {
        Histogram { bounds: bounds.to_vec(), cumulative: cum.to_vec(), sum: 0.0, count: *cum.last().unwrap() }
    }

    #[test]
    fn counter_rates_and_resets() {
        assert_eq!(counter_rate(100.0, 10.0, 150.0, 15.0), Some(10.0));
        assert_eq!(counter_rate(100.0, 10.0, 20.0, 15.0), Some(4.0), "after a restart the new value is the increase");
        assert_eq!(counter_rate(1.0, 10.0, 2.0, 10.0), None);
    }

    #[test]
    fn quantiles_match_histogram_quantile_by_hand() {
        // 100 observations: 10 <= 0.1, 80 in (0.1, 0.5], 10 in (0.5, +Inf)
        let x = h(&[0.1, 0.5, f64::INFINITY], &[10.0, 90.0, 100.0]);
        // p50: rank 50 -> bucket (0.1, 0.5], 40 of 80 in -> 0.1 + 0.4 * 40/80 = 0.3
        assert!((x.quantile(0.5).unwrap() - 0.3).abs() < 1e-9);
        // p05: rank 5 in the first bucket from 0: 0.1 * 5/10 = 0.05
        assert!((x.quantile(0.05).unwrap() - 0.05).abs() < 1e-9);
        // p99: rank 99 in +Inf -> the highest finite bound
        assert_eq!(x.quantile(0.99), Some(0.5));
        assert_eq!(h(&[1.0], &[0.0]).quantile(0.5), None, "no observations: unknown");
    }

    #[test]
    fn window_deltas_and_restarts() {
        let a = h(&[0.1, 1.0, f64::INFINITY], &[5.0, 10.0, 10.0]);
        let b = h(&[0.1, 1.0, f64::INFINITY], &[5.0, 30.0, 30.0]);
        let d = b.since(&a);
        assert_eq!(d.cumulative, vec![0.0, 20.0, 20.0]);
        // all 20 new observations in (0.1, 1.0]: p50 = 0.1 + 0.9 * 10/20 = 0.55
        assert!((d.quantile(0.5).unwrap() - 0.55).abs() < 1e-9);
        let restarted = h(&[0.1, 1.0, f64::INFINITY], &[1.0, 2.0, 2.0]);
        assert_eq!(restarted.since(&b), restarted);
    }

    #[test]
    fn scraped_rates_and_staleness() {
        let mut s: Scraped<EngineSample> = Scraped::default();
        assert_eq!(s.stale(0.0, 15.0).as_deref(), Some("not scraped yet"));
        let sample =
            |gen: f64| EngineSample { generation_tokens: Some(gen), kv_usage: Some(0.5), ..Default::default() };
        s.record(100.0, Ok(sample(1000.0)));
        assert_eq!(s.rate(|x| x.generation_tokens), None, "one sample is no rate");
        s.record(105.0, Ok(sample(1500.0)));
        assert_eq!(s.rate(|x| x.generation_tokens), Some(100.0));
        assert_eq!(s.stale(106.0, 15.0), None);
        assert!(s.stale(130.0, 15.0).unwrap().contains("25s ago"));
        s.record(110.0, Err(ScrapeError::Timeout(3)));
        assert_eq!(s.stale(110.0, 15.0).as_deref(), Some("metrics timed out after 3s"));
        s.record(115.0, Ok(sample(100.0)));
        assert_eq!(s.stale(115.0, 15.0), None);
        assert_eq!(s.rate(|x| x.generation_tokens), Some(10.0), "a reset counts from zero");
    }

    #[test]
    fn rate_maps_handle_new_keys_and_resets() {
        let mut s: Scraped<EppSample> = Scraped::default();
        let sample = |pairs: &[(&str, f64)]| EppSample {
            attempts: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..Default::default()
        };
        s.record(0.0, Ok(sample(&[("a", 100.0), ("b", 50.0)])));
        assert!(s.rate_map(|e| &e.attempts).is_empty(), "one sample is no rate");
        s.record(10.0, Ok(sample(&[("a", 150.0), ("b", 20.0), ("c", 30.0)])));
        let r: BTreeMap<String, f64> = s.rate_map(|e| &e.attempts).into_iter().collect();
        assert_eq!(r.get("a"), Some(&5.0));
        assert_eq!(r.get("b"), Some(&2.0), "a drop is a restart: the new value is the increase");
        assert_eq!(r.get("c"), Some(&3.0), "a new endpoint counts from zero");
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
