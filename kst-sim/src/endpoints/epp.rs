//! The endpoint picker's `/metrics` (port 9090): `llm_d_epp_*` names with their legacy twins,
//! fed by the traffic of the pool's model servers so routing shares match pod load.

use std::collections::BTreeMap;
use std::fmt::Write;

/// The share of a disaggregated pool's requests the router sends through a prefill pod first
/// (the rest are decided decode-only).
pub const PREFILL_DECODE_SHARE: f64 = 0.3;

#[derive(Debug, Clone, Default)]
pub struct EppState {
    pub pool: String,
    pub model: String,
    /// The router's default: `/metrics` needs a bearer token the proxy does not carry.
    pub auth_required: bool,
    pub requests: f64,
    pub errors: f64,
    /// Scheduling attempts per endpoint (pod name).
    pub attempts: BTreeMap<String, f64>,
    pub decode_only: f64,
    pub prefill_decode: f64,
    pub avg_kv: f64,
    pub avg_queue: f64,
    pub ready_endpoints: usize,
    pub scheduler_sum: f64,
    pub scheduler_count: f64,
    pub created: f64,
    /// Per-second growth of the counters until the next tick.
    pub pace: EppPace,
}

/// What the endpoint picker counts per second until the next tick (see the engines' `Pace`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EppPace {
    pub requests: f64,
    pub errors: f64,
    pub attempts: BTreeMap<String, f64>,
    pub decode_only: f64,
    pub prefill_decode: f64,
    pub scheduler_count: f64,
    pub scheduler_sum: f64,
}

impl EppState {
    /// Counts what the current pace produced over the last `dt` seconds.
    pub fn integrate(&mut self, dt: f64) {
        let p = &self.pace;
        self.requests += p.requests * dt;
        self.errors += p.errors * dt;
        for (ep, r) in &p.attempts {
            *self.attempts.entry(ep.clone()).or_default() += r * dt;
        }
        self.decode_only += p.decode_only * dt;
        self.prefill_decode += p.prefill_decode * dt;
        self.scheduler_count += p.scheduler_count * dt;
        self.scheduler_sum += p.scheduler_sum * dt;
    }

    /// Sets the pace from the requests per second each member pod receives now.
    pub fn set_pace(&mut self, members: &[(String, f64, bool)]) {
        // requests enter through the decode (or aggregated) pods; (pod, rps, is_prefill)
        let reqs: f64 = members.iter().filter(|m| !m.2).map(|m| m.1).sum();
        let has_prefill = members.iter().any(|m| m.2);
        self.pace = EppPace {
            requests: reqs,
            errors: reqs * 0.004,
            attempts: members.iter().map(|(n, r, _)| (n.clone(), *r)).collect(),
            decode_only: if has_prefill { reqs * (1.0 - PREFILL_DECODE_SHARE) } else { reqs },
            prefill_decode: if has_prefill { reqs * PREFILL_DECODE_SHARE } else { 0.0 },
            scheduler_count: reqs,
            scheduler_sum: reqs * 0.0008,
        };
    }

    /// The metrics page `elapsed` seconds after the last tick.
    pub fn render_at(&self, elapsed: f64) -> String {
        let mut now = self.clone();
        now.integrate(elapsed.max(0.0));
        now.render()
    }

    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        let m = &self.model;
        let p = &self.pool;
        let req_labels = format!("fairness_id=\"default\",model_name=\"{m}\",priority=\"0\",target_model_name=\"{m}\"");
        for (name, v) in
            [("llm_d_epp_request_total", self.requests), ("inference_objective_request_total", self.requests)]
        {
            let _ = writeln!(o, "# HELP {name} Counter of inference objective requests.\n# TYPE {name} counter\n{name}{{{req_labels}}} {v}");
        }
        for name in ["llm_d_epp_request_error_total", "inference_objective_request_error_total"] {
            let _ =
                writeln!(o, "# TYPE {name} counter\n{name}{{error_code=\"Internal\",{req_labels}}} {}", self.errors);
        }
        for (name, legacy) in [
            ("llm_d_epp_average_kv_cache_utilization", "inference_pool_average_kv_cache_utilization"),
            ("llm_d_epp_average_queue_size", "inference_pool_average_queue_size"),
        ] {
            let v = if name.contains("kv") { self.avg_kv } else { self.avg_queue };
            for n in [name, legacy] {
                let _ = writeln!(o, "# TYPE {n} gauge\n{n}{{name=\"{p}\"}} {v:.4}");
            }
        }
        let _ = writeln!(
            o,
            "# TYPE llm_d_epp_ready_endpoints gauge\nllm_d_epp_ready_endpoints{{name=\"{p}\"}} {}",
            self.ready_endpoints
        );
        let _ = writeln!(
            o,
            "# TYPE inference_pool_ready_pods gauge\ninference_pool_ready_pods{{name=\"{p}\"}} {}",
            self.ready_endpoints
        );
        let _ = writeln!(o, "# HELP llm_d_epp_scheduler_attempts_total Number of scheduling attempts.\n# TYPE llm_d_epp_scheduler_attempts_total counter");
        for (ep, v) in &self.attempts {
            let _ = writeln!(
                o,
                "llm_d_epp_scheduler_attempts_total{{endpoint_name=\"{ep}\",namespace=\"llm-d\",port=\"8000\",status=\"success\",target_model_name=\"{m}\"}} {}",
                v
            );
        }
        let _ = writeln!(o, "# TYPE llm_d_epp_disagg_decision_total counter");
        for (d, v) in [("decode-only", self.decode_only), ("prefill-decode", self.prefill_decode)] {
            let _ = writeln!(
                o,
                "llm_d_epp_disagg_decision_total{{decision_type=\"{d}\",model_name=\"{m}\",plugin_name=\"prefix-based-pd-decider\",plugin_type=\"pd-decider\"}} {}",
                v
            );
        }
        let _ = writeln!(o, "# TYPE llm_d_epp_scheduler_e2e_duration_seconds histogram");
        for b in [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01] {
            let frac = if b >= 0.002 {
                1.0
            } else if b >= 0.001 {
                0.8
            } else {
                0.2
            };
            let _ = writeln!(
                o,
                "llm_d_epp_scheduler_e2e_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.scheduler_count * frac
            );
        }
        let _ = writeln!(o, "llm_d_epp_scheduler_e2e_duration_seconds_bucket{{le=\"+Inf\"}} {}", self.scheduler_count);
        let _ = writeln!(o, "llm_d_epp_scheduler_e2e_duration_seconds_sum {}", self.scheduler_sum);
        let _ = writeln!(o, "llm_d_epp_scheduler_e2e_duration_seconds_count {}", self.scheduler_count);
        o
    }
}
