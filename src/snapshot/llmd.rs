//! The snapshot's llm-d part: pools, their objectives and routing, model servers with their
//! numbers and how fresh each is.

use super::*;

/// LLM-d on one cluster. Rates are per second over the last scrape interval; latencies are
/// seconds over the last minute; `null` where kst has no metric for it.
#[derive(Debug, Serialize)]
pub struct LlmdSnapshot {
    /// null: not known yet; false: the cluster serves no InferencePool API.
    pub installed: Option<bool>,
    /// 0..1, the mean over the model servers.
    pub kv_avg: Option<f64>,
    /// 0..1, the fullest KV cache of the servers that decode, and of the prefill servers.
    pub kv_decode_max: Option<f64>,
    pub kv_prefill_max: Option<f64>,
    pub prefill_tokens_per_s: Option<f64>,
    pub decode_tokens_per_s: Option<f64>,
    /// fresh | stale (last known values of servers that stopped answering) | expired (none)
    pub freshness: &'static str,
    /// The oldest observation the numbers come from, when they are not fresh.
    pub observed_at: Option<String>,
    pub pools: Vec<PoolSnapshot>,
    pub servers: Vec<ServerSnapshot>,
}

#[derive(Debug, Serialize)]
pub struct PoolSnapshot {
    pub namespace: String,
    pub name: String,
    /// The endpoint picker's Service (its `/metrics` on port 9090, through the service proxy).
    pub epp_service: Option<String>,
    pub api_version: String,
    pub model: Option<String>,
    pub problem: Option<String>,
    pub prefill_ready: usize,
    pub prefill_total: usize,
    pub decode_ready: usize,
    pub decode_total: usize,
    /// Requests per second (the endpoint picker's count, else the model servers').
    pub request_rate: Option<f64>,
    /// Errors over requests, 0..1.
    pub error_rate: Option<f64>,
    pub ttft_p50_s: Option<f64>,
    pub ttft_p99_s: Option<f64>,
    pub itl_p50_s: Option<f64>,
    pub itl_p99_s: Option<f64>,
    /// Waiting requests, summed over the pool's servers.
    pub queue: Option<f64>,
    /// 0..1
    pub kv_avg: Option<f64>,
    pub prefill_tokens_per_s: Option<f64>,
    pub decode_tokens_per_s: Option<f64>,
    /// Share of requests routed through a prefill server, 0..1.
    pub pd_share: Option<f64>,
    /// Why the endpoint picker's numbers are missing (e.g. its /metrics needs auth).
    pub epp_error: Option<String>,
    /// fresh | stale | expired, and when the numbers were observed if not fresh.
    pub freshness: &'static str,
    pub observed_at: Option<String>,
    /// Endpoints the EPP still routes to although their pod is not Ready, with their share
    /// of the pool's routed requests (0..1).
    pub routed_to_unready: Vec<RoutedToUnready>,
    /// The EPP's ready-endpoint count when it disagrees with the pods kst sees Ready.
    pub epp_ready_endpoints_mismatch: Option<EppMismatch>,
    /// InferenceObjectives (or legacy InferenceModels) referring to this pool.
    pub objectives: Vec<ObjectiveSnapshot>,
}

#[derive(Debug, Serialize)]
pub struct RoutedToUnready {
    pub pod: String,
    pub share: f64,
}

#[derive(Debug, Serialize)]
pub struct EppMismatch {
    pub epp_ready_endpoints: f64,
    pub pods_ready: usize,
}

#[derive(Debug, Serialize)]
pub struct ObjectiveSnapshot {
    pub name: String,
    pub api_version: String,
    pub priority: Option<i64>,
    pub criticality: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ServerSnapshot {
    pub namespace: String,
    pub name: String,
    /// Where its engine serves `/metrics` (through the pod proxy): 8200 behind the P/D sidecar.
    pub metrics_port: u16,
    pub pool: Option<String>,
    /// prefill, decode, prefill-decode, encode..., or decode* (unlabelled, serves as decode)
    pub role: String,
    pub engine: &'static str,
    pub ready: bool,
    pub restarts: i64,
    /// 0..1
    pub kv_usage: Option<f64>,
    /// Requests running and waiting (gauges).
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub prompt_tokens_per_s: Option<f64>,
    pub generation_tokens_per_s: Option<f64>,
    pub requests_per_s: Option<f64>,
    /// Why the numbers above are missing or old.
    pub stale: Option<String>,
    /// fresh | stale | expired; when not fresh, when the numbers were scraped (RFC 3339).
    pub freshness: &'static str,
    pub observed_at: Option<String>,
}

pub(super) fn round3(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite()).map(|x| (x * 1000.0).round() / 1000.0)
}

pub(super) fn freshness_label(f: crate::store::llmd::Freshness) -> &'static str {
    match f {
        crate::store::llmd::Freshness::Fresh => "fresh",
        crate::store::llmd::Freshness::Stale => "stale",
        crate::store::llmd::Freshness::Expired => "expired",
    }
}

/// The time of an observation that is not fresh, as RFC 3339; None when it is fresh.
pub(super) fn observed(f: crate::store::llmd::Freshness, at: Option<f64>) -> Option<String> {
    if f == crate::store::llmd::Freshness::Fresh {
        return None;
    }
    at.and_then(|t| jiff::Timestamp::from_millisecond((t * 1000.0) as i64).ok()).map(|t| t.to_string())
}

impl LlmdSnapshot {
    pub fn from_state(c: &ClusterState, r: &crate::store::rates::Reading) -> Self {
        let l = &c.llmd;
        let totals = l.totals(r);
        let q = |h: &Option<crate::store::llmd::Histogram>, x: f64| round3(h.as_ref().and_then(|h| h.quantile(x)));
        LlmdSnapshot {
            installed: l.installed,
            kv_avg: round3(totals.kv_avg),
            kv_decode_max: round3(totals.kv_decode_max),
            kv_prefill_max: round3(totals.kv_prefill_max),
            prefill_tokens_per_s: round3(totals.prefill_tps),
            decode_tokens_per_s: round3(totals.decode_tps),
            freshness: freshness_label(totals.freshness),
            observed_at: observed(totals.freshness, totals.observed_at),
            pools: l
                .pools
                .iter()
                .map(|p| {
                    let v = l.pool_view(p, r);
                    PoolSnapshot {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        epp_service: p.epp_service.clone(),
                        api_version: p.api_version.clone(),
                        model: v.model.clone(),
                        problem: p.problem.clone(),
                        prefill_ready: v.prefill_ready,
                        prefill_total: v.prefill_total,
                        decode_ready: v.decode_ready,
                        decode_total: v.decode_total,
                        request_rate: round3(v.request_rate),
                        error_rate: round3(v.error_rate),
                        ttft_p50_s: q(&v.ttft, 0.5),
                        ttft_p99_s: q(&v.ttft, 0.99),
                        itl_p50_s: q(&v.itl, 0.5),
                        itl_p99_s: q(&v.itl, 0.99),
                        queue: round3(v.queue),
                        kv_avg: round3(v.kv_avg),
                        prefill_tokens_per_s: round3(v.prefill_tps),
                        decode_tokens_per_s: round3(v.decode_tps),
                        pd_share: round3(v.pd_share),
                        epp_error: v.epp_stale.clone(),
                        freshness: freshness_label(v.freshness),
                        observed_at: observed(v.freshness, v.observed_at),
                        routed_to_unready: v
                            .routed_to_unready
                            .iter()
                            .map(|(pod, share)| RoutedToUnready {
                                pod: pod.clone(),
                                share: round3(Some(*share)).unwrap_or(0.0),
                            })
                            .collect(),
                        epp_ready_endpoints_mismatch: v
                            .epp_ready_mismatch
                            .map(|(epp, pods)| EppMismatch { epp_ready_endpoints: epp, pods_ready: pods }),
                        objectives: l
                            .objectives_of(p)
                            .map(|o| ObjectiveSnapshot {
                                name: o.name.clone(),
                                api_version: o.api_version.clone(),
                                priority: o.priority,
                                criticality: o.criticality.clone(),
                                model: o.model.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
            servers: l
                .servers
                .iter()
                .map(|s| {
                    let v = l.view(s, r);
                    ServerSnapshot {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                        metrics_port: s.metrics_port,
                        pool: s.pool.clone(),
                        role: s.role.label().to_string(),
                        engine: s.engine.label(),
                        ready: s.ready,
                        restarts: s.restarts,
                        kv_usage: round3(v.kv),
                        running: v.running,
                        waiting: v.waiting,
                        prompt_tokens_per_s: round3(v.prompt_tps),
                        generation_tokens_per_s: round3(v.generation_tps),
                        requests_per_s: round3(v.request_rate),
                        stale: v.stale.clone(),
                        freshness: freshness_label(v.freshness),
                        observed_at: observed(v.freshness, v.observed_at),
                    }
                })
                .collect(),
        }
    }
}
