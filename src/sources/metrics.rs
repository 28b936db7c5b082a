//! Metric texts -> samples. Parsing is `exposition`'s (zero-copy; a bad line does not lose
//! the rest); this file maps names: current names first, then the older twins, and the SGLang
//! / TRT-LLM equivalents.

use std::collections::BTreeMap;

use super::exposition::{self, Family, Kind, Part, Sample};
use crate::store::llmd::{EngineKind, EngineSample, EppSample, Histogram};

/// A parsed scrape, indexed by family name.
pub struct Families<'a> {
    by_name: BTreeMap<&'a str, Family<'a>>,
}

impl<'a> Families<'a> {
    /// Errors only when nothing usable came back: one odd line does not lose the rest.
    pub fn parse(text: &'a str) -> Result<Families<'a>, String> {
        let page = exposition::parse_some(text)?;
        Ok(Families { by_name: page.families })
    }

    /// The first of `names` present, as written or with `_total` added or removed.
    fn family(&self, names: &[&str]) -> Option<&Family<'a>> {
        names.iter().find_map(|n| {
            self.by_name
                .get(*n)
                .or_else(|| self.by_name.get(format!("{n}_total").as_str()))
                .or_else(|| n.strip_suffix("_total").and_then(|b| self.by_name.get(b)))
        })
    }

    fn series(&self, names: &[&str]) -> impl Iterator<Item = &Sample<'a>> {
        self.family(names).into_iter().flat_map(|m| m.samples.iter().filter(|s| s.part == Part::Sample))
    }

    /// The known values of every series of the family; None when there is no such family
    /// or no usable value in it.
    fn values(&self, names: &[&str]) -> Option<(f64, usize)> {
        let (sum, n) = self.series(names).filter_map(Sample::finite).fold((0.0, 0), |(s, n), v| (s + v, n + 1));
        (n > 0).then_some((sum, n))
    }

    /// Sum of every series of the family (all engines, all label sets).
    pub fn sum(&self, names: &[&str]) -> Option<f64> {
        self.values(names).map(|(s, _)| s)
    }

    /// Mean over series (a gauge per data-parallel engine: KV usage is averaged).
    pub fn mean(&self, names: &[&str]) -> Option<f64> {
        self.values(names).map(|(s, n)| s / n as f64)
    }

    /// Sums grouped by one label's value.
    pub fn by_label(&self, names: &[&str], key: &str) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for s in self.series(names) {
            if let (Some(k), Some(v)) = (s.label(key), s.finite()) {
                match out.get_mut(k.as_ref()) {
                    Some(e) => *e += v,
                    None => {
                        out.insert(k.into_owned(), v);
                    }
                }
            }
        }
        out
    }

    pub fn first_label(&self, names: &[&str], key: &str) -> Option<String> {
        self.family(names)?.samples.iter().find_map(|s| s.label(key).map(|v| v.into_owned()))
    }

    /// A histogram summed over its label sets. Typed families carry `_bucket/_sum/_count`
    /// together; an untyped exposition has three families of their own.
    pub fn histogram(&self, names: &[&str]) -> Option<Histogram> {
        for n in names {
            let part_sum = |m: &Family, part: Part| -> f64 {
                m.samples.iter().filter(|s| s.part == part).filter_map(Sample::finite).sum()
            };
            let (buckets, sum, count): (Vec<&Sample>, f64, f64) =
                match self.by_name.get(*n).filter(|m| m.kind == Kind::Histogram) {
                    Some(m) => (
                        m.samples.iter().filter(|s| s.part == Part::Sample).collect(),
                        part_sum(m, Part::Sum),
                        part_sum(m, Part::Count),
                    ),
                    None => match self.by_name.get(format!("{n}_bucket").as_str()) {
                        Some(m) => (
                            m.samples.iter().collect(),
                            self.sum(&[&format!("{n}_sum")]).unwrap_or(0.0),
                            self.sum(&[&format!("{n}_count")]).unwrap_or(0.0),
                        ),
                        None => continue,
                    },
                };
            let mut by_le: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
            for s in buckets {
                let Some(le) = s.label("le") else { continue };
                let bound = if le == "+Inf" { f64::INFINITY } else { le.parse::<f64>().unwrap_or(f64::NAN) };
                if bound.is_nan() {
                    continue;
                }
                let e = by_le.entry(bound.to_bits()).or_insert((bound, 0.0));
                e.1 += s.finite().unwrap_or(0.0);
            }
            let mut pairs: Vec<(f64, f64)> = by_le.into_values().collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            if pairs.is_empty() {
                continue;
            }
            let count = if count > 0.0 { count } else { pairs.last().map(|p| p.1).unwrap_or(0.0) };
            return Some(Histogram {
                bounds: pairs.iter().map(|p| p.0).collect(),
                cumulative: pairs.iter().map(|p| p.1).collect(),
                sum,
                count,
            });
        }
        None
    }
}

/// A model server's `/metrics` -> one sample of its counters and gauges.
pub fn decode_engine(text: &str, kind: EngineKind) -> Result<EngineSample, String> {
    let f = Families::parse(text)?;
    let s = match kind {
        EngineKind::Vllm => EngineSample {
            kv_usage: f.mean(&["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]),
            running: f.sum(&["vllm:num_requests_running"]),
            waiting: f.sum(&["vllm:num_requests_waiting"]),
            prompt_tokens: f.sum(&["vllm:prompt_tokens_total"]),
            generation_tokens: f.sum(&["vllm:generation_tokens_total"]),
            requests: f.sum(&["vllm:request_success_total"]),
            preemptions: f.sum(&["vllm:num_preemptions_total"]),
            prefix_queries: f.sum(&["vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"]),
            prefix_hits: f.sum(&["vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"]),
            ttft: f.histogram(&["vllm:time_to_first_token_seconds"]),
            itl: f.histogram(&["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"]),
            model_name: f.first_label(&["vllm:num_requests_running", "vllm:generation_tokens_total"], "model_name"),
        },
        EngineKind::Sglang => EngineSample {
            kv_usage: f.mean(&["sglang:token_usage"]),
            running: f.sum(&["sglang:num_running_reqs"]),
            waiting: f.sum(&["sglang:num_queue_reqs"]),
            prompt_tokens: f.sum(&["sglang:prompt_tokens_total"]),
            generation_tokens: f.sum(&["sglang:generation_tokens_total"]),
            requests: f.sum(&["sglang:num_requests_total"]),
            preemptions: None,
            prefix_queries: None,
            prefix_hits: None,
            ttft: f.histogram(&["sglang:time_to_first_token_seconds"]),
            itl: f.histogram(&["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"]),
            model_name: f.first_label(&["sglang:num_running_reqs"], "model_name"),
        },
        EngineKind::TrtLlm => EngineSample {
            kv_usage: f.mean(&["trtllm_kv_cache_utilization"]),
            running: f.sum(&["trtllm_num_requests_running"]),
            waiting: f.sum(&["trtllm_num_requests_waiting"]),
            prompt_tokens: f.sum(&["trtllm_prompt_tokens_total"]),
            generation_tokens: f.sum(&["trtllm_generation_tokens_total"]),
            requests: f.sum(&["trtllm_request_success_total"]),
            preemptions: None,
            prefix_queries: None,
            prefix_hits: None,
            ttft: f.histogram(&["trtllm_time_to_first_token_seconds"]),
            itl: f.histogram(&["trtllm_time_per_output_token_seconds"]),
            model_name: None,
        },
    };
    if s.kv_usage.is_none() && s.running.is_none() && s.generation_tokens.is_none() {
        return Err(format!("no {} serving metrics in the response", kind.label()));
    }
    Ok(s)
}

/// The endpoint picker's `/metrics`: `llm_d_epp_*`, else the legacy twins.
pub fn decode_epp(text: &str) -> Result<EppSample, String> {
    let f = Families::parse(text)?;
    let mut attempts = f.by_label(&["llm_d_epp_scheduler_attempts_total"], "endpoint_name");
    if attempts.is_empty() {
        attempts = f.by_label(&["inference_extension_scheduler_attempts_total"], "pod_name");
    }
    let mut decisions = f.by_label(&["llm_d_epp_disagg_decision_total"], "decision_type");
    if decisions.is_empty() {
        decisions = f
            .by_label(&["llm_d_epp_pd_decision_total", "llm_d_inference_scheduler_pd_decision_total"], "decision_type");
    }
    let s = EppSample {
        requests: f.sum(&[
            "llm_d_epp_request_total",
            "inference_objective_request_total",
            "inference_model_request_total",
        ]),
        errors: f.sum(&[
            "llm_d_epp_request_error_total",
            "inference_objective_request_error_total",
            "inference_model_request_error_total",
        ]),
        attempts,
        decisions,
        avg_kv: f.mean(&["llm_d_epp_average_kv_cache_utilization", "inference_pool_average_kv_cache_utilization"]),
        avg_queue: f.mean(&["llm_d_epp_average_queue_size", "inference_pool_average_queue_size"]),
        ready_endpoints: f.sum(&["llm_d_epp_ready_endpoints", "inference_pool_ready_pods"]),
        scheduler: f.histogram(&[
            "llm_d_epp_scheduler_e2e_duration_seconds",
            "inference_extension_scheduler_e2e_duration_seconds",
        ]),
        flow_saturation: f
            .mean(&["llm_d_epp_flow_control_pool_saturation", "inference_extension_flow_control_pool_saturation"]),
        flow_rejected: {
            let by = f.by_label(
                &["llm_d_epp_flow_control_requests_total", "inference_extension_flow_control_requests_total"],
                "outcome",
            );
            let rejected: f64 = by.iter().filter(|(k, _)| k.starts_with("Rejected")).map(|(_, v)| v).sum();
            (!by.is_empty()).then_some(rejected)
        },
    };
    if s.requests.is_none() && s.attempts.is_empty() && s.avg_kv.is_none() {
        return Err("no endpoint-picker metrics in the response".into());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture in the V1-engine shape: prometheus_client text, `_total` families, `_created`
    /// gauges, two data-parallel engines.
    const VLLM_V1: &str = r#"# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 2.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.7
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1000.0
vllm:prompt_tokens_total{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 500.0
# HELP vllm:prompt_tokens_created Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_created gauge
vllm:prompt_tokens_created{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.7630000e+09
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4000.0
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="meta-llama/Llama-3.1-8B-Instruct"} 90.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="meta-llama/Llama-3.1-8B-Instruct"} 10.0
# HELP vllm:num_preemptions_total Cumulative number of preemption from the engine.
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="meta-llama/Llama-3.1-8B-Instruct"} 90.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 100.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 100.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 25.0
# HELP vllm:inter_token_latency_seconds Histogram of inter-token latency in seconds.
# TYPE vllm:inter_token_latency_seconds histogram
vllm:inter_token_latency_seconds_bucket{engine="0",le="0.025",model_name="meta-llama/Llama-3.1-8B-Instruct"} 50.0
vllm:inter_token_latency_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 100.0
vllm:inter_token_latency_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 100.0
vllm:inter_token_latency_seconds_sum{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 2.0
"#;

    /// The older generation: `gpu_cache_usage_perc`, `time_per_output_token_seconds`,
    /// `num_preemptions` without `_total`, no `engine` label (llm-d-inference-sim).
    const VLLM_OLD: &str = r#"# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m"} 0.25
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 7
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{model_name="m"} 10
# TYPE vllm:num_preemptions counter
vllm:num_preemptions{model_name="m"} 2
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_bucket{le="0.05",model_name="m"} 1
vllm:time_per_output_token_seconds_bucket{le="+Inf",model_name="m"} 2
vllm:time_per_output_token_seconds_sum{model_name="m"} 0.2
vllm:time_per_output_token_seconds_count{model_name="m"} 2
"#;

    const SGLANG: &str = r#"# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="qwen"} 0.42
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="qwen"} 5
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="qwen"} 2
# TYPE sglang:generation_tokens_total counter
sglang:generation_tokens_total{model_name="qwen"} 77
"#;

    #[test]
    fn current_vllm_names_with_data_parallel_engines() {
        let s = decode_engine(VLLM_V1, EngineKind::Vllm).unwrap();
        assert_eq!(s.kv_usage, Some(0.6), "KV is the mean over engines");
        assert_eq!(s.running, Some(5.0));
        assert_eq!(s.prompt_tokens, Some(1500.0), "counters sum over engines");
        assert_eq!(s.requests, Some(100.0), "every finished_reason counts");
        assert_eq!(s.preemptions, Some(4.0));
        assert_eq!(s.model_name.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
        let ttft = s.ttft.unwrap();
        assert_eq!(ttft.bounds, vec![0.1, 0.5, f64::INFINITY]);
        assert_eq!(ttft.cumulative, vec![10.0, 90.0, 100.0]);
        assert_eq!((ttft.count, ttft.sum), (100.0, 25.0));
        assert!(s.itl.is_some());
    }

    #[test]
    fn older_vllm_names_are_accepted() {
        let s = decode_engine(VLLM_OLD, EngineKind::Vllm).unwrap();
        assert_eq!(s.kv_usage, Some(0.25));
        assert_eq!(s.preemptions, Some(2.0), "num_preemptions without _total");
        assert_eq!(s.itl.unwrap().count, 2.0, "time_per_output_token_seconds is the older ITL");
        assert!(s.prompt_tokens.is_none(), "absent stays unknown, not 0");
    }

    #[test]
    fn sglang_names_map_to_the_same_fields() {
        let s = decode_engine(SGLANG, EngineKind::Sglang).unwrap();
        assert_eq!(
            (s.kv_usage, s.running, s.waiting, s.generation_tokens),
            (Some(0.42), Some(5.0), Some(2.0), Some(77.0))
        );
        assert!(decode_engine(SGLANG, EngineKind::Vllm).is_err(), "vLLM names are not there");
    }

    #[test]
    fn garbage_is_an_error_value_not_a_panic() {
        for bad in
            ["", "<html><body>502</body></html>", "vllm:num_requests_running{{{ 12\n\u{0}\u{1}", "# only a comment\n"]
        {
            assert!(decode_engine(bad, EngineKind::Vllm).is_err(), "{bad:?}");
            assert!(decode_epp(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nan_and_infinite_values_are_unknown() {
        let text = "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine=\"0\"} NaN\nvllm:kv_cache_usage_perc{engine=\"1\"} 0.5\n\
# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\"} +Inf\n";
        let s = decode_engine(text, EngineKind::Vllm).unwrap();
        assert_eq!(s.kv_usage, Some(0.5), "the NaN engine is left out of the mean");
        assert_eq!(s.running, None);
    }

    #[test]
    fn epp_current_and_legacy_names() {
        let current = "# TYPE llm_d_epp_request_total counter\nllm_d_epp_request_total{model_name=\"m\"} 100\n\
# TYPE llm_d_epp_request_error_total counter\nllm_d_epp_request_error_total{error_code=\"Internal\",model_name=\"m\"} 2\n\
# TYPE llm_d_epp_scheduler_attempts_total counter\n\
llm_d_epp_scheduler_attempts_total{endpoint_name=\"pod-a\",status=\"success\"} 60\n\
llm_d_epp_scheduler_attempts_total{endpoint_name=\"pod-b\",status=\"success\"} 40\n\
# TYPE llm_d_epp_disagg_decision_total counter\n\
llm_d_epp_disagg_decision_total{decision_type=\"decode-only\"} 70\nllm_d_epp_disagg_decision_total{decision_type=\"prefill-decode\"} 30\n\
# TYPE llm_d_epp_average_kv_cache_utilization gauge\nllm_d_epp_average_kv_cache_utilization{name=\"p\"} 0.5\n";
        let s = decode_epp(current).unwrap();
        assert_eq!((s.requests, s.errors), (Some(100.0), Some(2.0)));
        assert_eq!(s.attempts.get("pod-a"), Some(&60.0));
        assert_eq!(s.decisions.get("prefill-decode"), Some(&30.0));
        assert_eq!(s.avg_kv, Some(0.5));
        let legacy = "# TYPE inference_objective_request_total counter\ninference_objective_request_total{model_name=\"m\"} 9\n\
# TYPE inference_pool_average_kv_cache_utilization gauge\ninference_pool_average_kv_cache_utilization{name=\"p\"} 0.3\n\
# TYPE inference_extension_scheduler_attempts_total counter\ninference_extension_scheduler_attempts_total{pod_name=\"x\",status=\"success\"} 9\n\
# TYPE llm_d_inference_scheduler_pd_decision_total counter\nllm_d_inference_scheduler_pd_decision_total{decision_type=\"decode-only\"} 9\n";
        let s = decode_epp(legacy).unwrap();
        assert_eq!((s.requests, s.avg_kv), (Some(9.0), Some(0.3)));
        assert_eq!(s.attempts.get("x"), Some(&9.0));
        assert_eq!(s.decisions.get("decode-only"), Some(&9.0));
    }

    #[test]
    fn the_simulators_texts_decode() {
        let mut rng = kst_sim::rng::Rng::new(3);
        use kst_sim::endpoints::vllm::{EngineState, Generation, Role};
        let mut e = EngineState::new("m", Role::Decode, Generation::Legacy, 5.0, 1.0);
        e.advance(5.0, 0.8, &mut rng);
        e.advance(5.0, 0.8, &mut rng);
        let s = decode_engine(&e.render(), EngineKind::Vllm).unwrap();
        assert!(s.kv_usage.unwrap() > 0.0 && s.generation_tokens.unwrap() > 0.0 && s.itl.is_some());
    }
}
