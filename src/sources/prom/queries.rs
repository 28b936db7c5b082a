//! The PromQL kst sends: the families it reads of engines and endpoint pickers, the roll-ups
//! of clusters seen through a hub, the scrape times and `up`, each scoped by the cluster label.

use super::*;

/// The endpoint picker's families kst decodes (llm-d's and the Gateway API extension's names).
pub const EPP_FAMILIES: &[&str] = &[
    "llm_d_epp_scheduler_attempts_total",
    "inference_extension_scheduler_attempts_total",
    "llm_d_epp_disagg_decision_total",
    "llm_d_epp_pd_decision_total",
    "llm_d_inference_scheduler_pd_decision_total",
    "llm_d_epp_request_total",
    "inference_objective_request_total",
    "inference_model_request_total",
    "llm_d_epp_request_error_total",
    "inference_objective_request_error_total",
    "inference_model_request_error_total",
    "llm_d_epp_average_kv_cache_utilization",
    "inference_pool_average_kv_cache_utilization",
    "llm_d_epp_average_queue_size",
    "inference_pool_average_queue_size",
    "llm_d_epp_ready_endpoints",
    "inference_pool_ready_pods",
    "llm_d_epp_scheduler_e2e_duration_seconds_(bucket|sum|count)",
    "inference_extension_scheduler_e2e_duration_seconds_(bucket|sum|count)",
    "llm_d_epp_flow_control_pool_saturation",
    "inference_extension_flow_control_pool_saturation",
    "llm_d_epp_flow_control_requests_total",
    "inference_extension_flow_control_requests_total",
];

/// The endpoint pickers' series for kst's contexts; each picker is found by the `service` label
/// a ServiceMonitor gives its series (the pool's EPP Service).
pub fn epp_query_for(label: &str, values: &[String]) -> String {
    format!("{{__name__=~\"{}\",{}}}", EPP_FAMILIES.join("|"), context_matcher(label, values))
}

/// When each picker was last scraped.
pub fn epp_times_query(label: &str, values: &[String]) -> String {
    let m = context_matcher(label, values);
    let one = |n: &str| format!("timestamp({n}{{{m}}})");
    format!(
        "max by ({label}, namespace, service) ({} or {} or {} or {})",
        one("inference_pool_ready_pods"),
        one("llm_d_epp_ready_endpoints"),
        one("inference_pool_average_kv_cache_utilization"),
        one("llm_d_epp_average_kv_cache_utilization")
    )
}

/// The vLLM families kst reads (the decoder's names, old and new), with their histogram parts.
pub const VLLM_FAMILIES: &[&str] = &[
    "kv_cache_usage_perc",
    "gpu_cache_usage_perc",
    "num_requests_running",
    "num_requests_waiting",
    "prompt_tokens_total",
    "generation_tokens_total",
    "request_success_total",
    "num_preemptions_total",
    "prefix_cache_queries_total",
    "prefix_cache_hits_total",
    "gpu_prefix_cache_queries_total",
    "gpu_prefix_cache_hits_total",
    "time_to_first_token_seconds_bucket",
    "time_to_first_token_seconds_sum",
    "time_to_first_token_seconds_count",
    "inter_token_latency_seconds_bucket",
    "inter_token_latency_seconds_sum",
    "inter_token_latency_seconds_count",
    "time_per_output_token_seconds_bucket",
    "time_per_output_token_seconds_sum",
    "time_per_output_token_seconds_count",
];

/// SGLang's families kst reads (`sglang:` prefix), with their histogram parts.
pub const SGLANG_FAMILIES: &[&str] = &[
    "token_usage",
    "num_running_reqs",
    "num_queue_reqs",
    "prompt_tokens_total",
    "generation_tokens_total",
    "num_requests_total",
    "time_to_first_token_seconds_(bucket|sum|count)",
    "inter_token_latency_seconds_(bucket|sum|count)",
    "time_per_output_token_seconds_(bucket|sum|count)",
];

/// TensorRT-LLM's families kst reads (`trtllm_` prefix).
pub const TRTLLM_FAMILIES: &[&str] = &[
    "kv_cache_utilization",
    "num_requests_running",
    "num_requests_waiting",
    "prompt_tokens_total",
    "generation_tokens_total",
    "request_success_total",
    "time_to_first_token_seconds_(bucket|sum|count)",
    "time_per_output_token_seconds_(bucket|sum|count)",
];

/// The name matcher for every engine family kst decodes: vLLM, SGLang and TensorRT-LLM.
pub(in crate::sources) fn engine_names() -> String {
    format!(
        "__name__=~\"vllm:({})|sglang:({})|trtllm_({})\"",
        VLLM_FAMILIES.join("|"),
        SGLANG_FAMILIES.join("|"),
        TRTLLM_FAMILIES.join("|")
    )
}

/// The per-pod query: every series of those families, fleet-wide.
pub fn engines_query() -> String {
    format!("{{{}}}", engine_names())
}

/// The per-pod query for the clusters kst has dialed (their label values): the pods of
/// a thousand clusters seen only through a hub are read as roll-ups instead.
pub fn engines_query_for(label: &str, values: &[String]) -> String {
    format!("{{{},{}}}", engine_names(), context_matcher(label, values))
}

/// Which engine a pod's series come from, by their names (vLLM unless another's are there).
pub fn engine_kind(series: &[&Sample]) -> EngineKind {
    let name = |s: &&Sample| s.labels.get("__name__").cloned().unwrap_or_default();
    if series.iter().any(|s| name(s).starts_with("sglang:")) {
        EngineKind::Sglang
    } else if series.iter().any(|s| name(s).starts_with("trtllm_")) {
        EngineKind::TrtLlm
    } else {
        EngineKind::Vllm
    }
}

/// The roll-ups per cluster label value, one query per signal: (signal, PromQL).
pub fn rollup_queries(label: &str, window: Duration) -> Vec<(&'static str, String)> {
    let w = format!("{}s", if window.is_zero() { 60 } else { window.as_secs().max(1) });
    // each engine's name for the signal, joined with `or` (a pod exports one engine's names)
    let kv =
        "(vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc or sglang:token_usage or trtllm_kv_cache_utilization)";
    let running = "(vllm:num_requests_running or sglang:num_running_reqs or trtllm_num_requests_running)";
    let waiting = "(vllm:num_requests_waiting or sglang:num_queue_reqs or trtllm_num_requests_waiting)";
    let rate =
        |n: &str| format!("sum by ({label}) (rate(vllm:{n}[{w}]) or rate(sglang:{n}[{w}]) or rate(trtllm_{n}[{w}]))");
    // the order they are asked in: the scrape times first (a row is current or not by them),
    // then what the Overview draws, the costliest (every TTFT bucket of the fleet) last
    vec![
        (
            "scraped_at",
            format!(
                "max by ({label}) (timestamp(vllm:num_requests_running) or timestamp(sglang:num_running_reqs) or timestamp(trtllm_num_requests_running))"
            ),
        ),
        ("servers", format!("count by ({label}) {running}")),
        ("kv_max", format!("max by ({label}) ({kv})")),
        ("kv_avg", format!("avg by ({label}) ({kv})")),
        ("generation", rate("generation_tokens_total")),
        ("prompt", rate("prompt_tokens_total")),
        ("gpus", format!("count by ({label}) (DCGM_FI_DEV_GPU_UTIL)")),
        ("gpu_util", format!("avg by ({label}) (DCGM_FI_DEV_GPU_UTIL) / 100")),
        (
            "gpus_busy",
            format!("count by ({label}) (DCGM_FI_DEV_GPU_UTIL >= {:.3})", crate::store::rules::GPU_BUSY * 100.0),
        ),
        ("waiting", format!("sum by ({label}) {waiting}")),
        ("waiting_max", format!("max by ({label}) {waiting}")),
        ("gpus_xid", format!("count by ({label}) (DCGM_FI_DEV_XID_ERRORS > 0)")),
        (
            "error_ratio",
            format!(
                "sum by ({label}) (rate(llm_d_epp_request_error_total[{w}])) / sum by ({label}) (rate(llm_d_epp_request_total[{w}]))"
            ),
        ),
        (
            "ttft_p99",
            format!(
                "histogram_quantile(0.99, sum by ({label}, le) (rate(vllm:time_to_first_token_seconds_bucket[{w}])))"
            ),
        ),
    ]
}

/// How the roll-ups are asked: computed from the engines' own series each round (`raw`), or
/// read from series a ruler records with `kst rules`' `kst-rollups` group (`recorded`). At ten
/// thousand clusters the raw TTFT p99 reads every bucket of every server (1.84 M series) and
/// does not answer within a query's timeout on a small layer; its recorded form is one series a
/// cluster, evaluated by the organisation's ruler (Prometheus, Thanos Ruler, Mimir, vmalert) on
/// its own schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RollupSource {
    #[default]
    Raw,
    Recorded,
}

impl RollupSource {
    pub fn parse(v: &str) -> Result<RollupSource, String> {
        match v {
            "raw" => Ok(RollupSource::Raw),
            "recorded" => Ok(RollupSource::Recorded),
            other => Err(format!("{other:?}: expected \"raw\" or \"recorded\"")),
        }
    }
}

/// The series a recording rule of `kst rules` writes for a roll-up: `cluster:kst_servers`
/// (Prometheus' `level:metric` naming, the level being the cluster label).
pub fn recorded_name(label: &str, signal: &str) -> String {
    format!("{label}:kst_{signal}")
}

/// The roll-ups read from their recorded series: one series a cluster, `max` across the copies
/// two rulers of an HA pair write (the same value each).
pub fn recorded_rollup_queries(label: &str) -> Vec<(&'static str, String)> {
    rollup_queries(label, Duration::ZERO)
        .into_iter()
        .map(|(signal, _)| (signal, format!("max by ({label}) ({})", recorded_name(label, signal))))
        .collect()
}

impl PromConfig {
    /// The roll-ups this layer is asked, in its mode.
    pub fn rollups(&self) -> Vec<(&'static str, String)> {
        rollups_for(self.rollups, &self.cluster_label, self.rate_window)
    }
}

/// The roll-ups as asked in this mode.
pub fn rollups_for(source: RollupSource, label: &str, window: Duration) -> Vec<(&'static str, String)> {
    match source {
        RollupSource::Raw => rollup_queries(label, window),
        RollupSource::Recorded => recorded_rollup_queries(label),
    }
}

/// The Prometheus rule group recording every roll-up kst asks (the same PromQL as its raw
/// mode, rates over `window`), to append to a rule file's `groups:`. It names no interval: the
/// ruler's own (Prometheus' `evaluation_interval`) applies, as for the organisation's other
/// rules. kst reads a recorded scrape time too, so a row's age stays its samples' own.
pub fn recording_rules(label: &str, window: Duration) -> String {
    let mut out = String::from("- name: kst-rollups\n  rules:\n");
    for (signal, expr) in rollup_queries(label, window) {
        out.push_str(&format!(
            "  - record: {}\n    expr: '{}'\n",
            recorded_name(label, signal),
            expr.replace('\'', "''")
        ));
    }
    out
}

/// When each pod's series were last scraped. An instant query's points carry the evaluation
/// time, not the sample's (a target that stopped answering would look fresh for the lookback),
/// so the scrape time is asked for: `timestamp()` of a gauge every engine exports.
pub fn times_query(label: &str, values: &[String]) -> String {
    let m = context_matcher(label, values);
    format!(
        "max by ({label}, namespace, pod) (timestamp(vllm:num_requests_running{{{m}}}) or timestamp(vllm:kv_cache_usage_perc{{{m}}}) or timestamp(vllm:gpu_cache_usage_perc{{{m}}}) or timestamp(sglang:num_running_reqs{{{m}}}) or timestamp(trtllm_num_requests_running{{{m}}}))"
    )
}

/// The pods of kst's contexts with a target the layer cannot scrape now (`up` is 0), with how
/// long that scrape took (a scrape that ran into its timeout says so).
pub fn targets_down_query(label: &str, values: &[String]) -> String {
    let m = context_matcher(label, values);
    format!(
        "max by ({label}, namespace, pod) (scrape_duration_seconds{{{m}, pod!=\"\"}} and on ({label}, namespace, pod, instance, job) (up{{{m}, pod!=\"\"}} == 0))"
    )
}

/// `C=~"a|b"`: the clusters kst has dialed (label values, escaped for RE2, in a string).
pub(in crate::sources) fn context_matcher(label: &str, values: &[String]) -> String {
    let alternatives: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
    format!("{label}=~{}", string_literal(&alternatives.join("|")))
}

/// A PromQL double-quoted string holding `v` exactly (backslash, quote and newline escaped as
/// Prometheus' lexer reads them): every label value kst puts in a query or shows as a series
/// goes through here.
pub fn string_literal(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
}
