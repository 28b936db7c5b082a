//! A model server's `/metrics`: vLLM's real metric names, labels and histogram buckets, driven
//! by the simulated load so counters grow with traffic and KV usage rises under load.

use std::fmt::Write;

use crate::sim::rng::Rng;

pub const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    160.0, 640.0, 2560.0,
];
pub const ITL_BUCKETS: &[f64] =
    &[0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

/// Which vLLM generation's metric names a server exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// V1 engine: `kv_cache_usage_perc`, `inter_token_latency_seconds`.
    Current,
    /// Older engines: `gpu_cache_usage_perc`, `time_per_output_token_seconds`.
    Legacy,
}

#[derive(Debug, Clone)]
pub struct Histogram {
    pub bounds: &'static [f64],
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 }
    }
    pub fn observe(&mut self, v: f64, n: u64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += n;
            }
        }
        self.sum += v * n as f64;
        self.count += n;
    }
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let _ = writeln!(out, "# HELP {name} Histogram of {name}.\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b:?}\"}} {c}.0");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}.0", self.count);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}.0", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Prefill,
    Decode,
    Aggregated,
}

#[derive(Debug, Clone)]
pub struct EngineState {
    pub model: String,
    pub role: Role,
    pub generation: Generation,
    /// Requests per second this pod serves at full load.
    pub capacity_rps: f64,
    pub prompt_tokens: f64,
    pub generation_tokens: f64,
    pub success: [f64; 3],
    pub preemptions: f64,
    pub prefix_queries: f64,
    pub prefix_hits: f64,
    pub running: f64,
    pub waiting: f64,
    pub kv: f64,
    pub ttft: Histogram,
    pub itl: Histogram,
    pub e2e: Histogram,
    pub created: f64,
    /// Its metrics endpoint hangs (the "slow pod" of the scenario).
    pub hangs: bool,
    /// Requests routed to it in the last tick (the EPP counts these).
    pub last_requests: f64,
}

impl EngineState {
    pub fn new(model: &str, role: Role, generation: Generation, capacity_rps: f64, created: f64) -> Self {
        EngineState {
            model: model.to_string(),
            role,
            generation,
            capacity_rps,
            prompt_tokens: 0.0,
            generation_tokens: 0.0,
            success: [0.0; 3],
            preemptions: 0.0,
            prefix_queries: 0.0,
            prefix_hits: 0.0,
            running: 0.0,
            waiting: 0.0,
            kv: 0.05,
            ttft: Histogram::new(TTFT_BUCKETS),
            itl: Histogram::new(ITL_BUCKETS),
            e2e: Histogram::new(TTFT_BUCKETS),
            created,
            hangs: false,
            last_requests: 0.0,
        }
    }

    /// Moves the engine `dt` seconds forward at `load` (0..1 of its capacity).
    pub fn advance(&mut self, dt: f64, load: f64, rng: &mut Rng) {
        let jitter = 0.9 + 0.2 * rng.unit();
        let rps = (self.capacity_rps * load * jitter).max(0.0);
        let reqs = rps * dt;
        self.last_requests = reqs;
        let (prompt_per_req, gen_per_req) = match self.role {
            Role::Prefill => (1800.0, 1.0),
            Role::Decode => (40.0, 220.0),
            Role::Aggregated => (900.0, 180.0),
        };
        self.prompt_tokens += reqs * prompt_per_req;
        self.generation_tokens += reqs * gen_per_req;
        self.success[0] += reqs * 0.93;
        self.success[1] += reqs * 0.06;
        self.success[2] += reqs * 0.01;
        // KV rises under load; past 0.97 the engine preempts and usage falls back.
        let target = (0.15 + 0.85 * load * jitter).min(0.99);
        self.kv += (target - self.kv) * 0.3;
        if self.kv > 0.97 {
            self.preemptions += 1.0 + (rng.unit() * 3.0).floor();
            self.kv -= 0.12;
        }
        self.running = (rps * 0.8).round();
        self.waiting = if load > 0.85 { ((load - 0.85) * 200.0 * jitter).round() } else { 0.0 };
        let q = reqs * 0.9;
        self.prefix_queries += q * 512.0;
        self.prefix_hits += q * 512.0 * (0.35 + 0.4 * (1.0 - load));
        let n = reqs.round() as u64;
        if n > 0 {
            let ttft = 0.04 + 0.6 * load * load * jitter + self.waiting * 0.01;
            self.ttft.observe(ttft, n);
            let itl = 0.012 + 0.05 * load * jitter;
            self.itl.observe(itl, n * 20);
            self.e2e.observe(ttft + itl * gen_per_req, n);
        }
    }

    pub fn render(&self) -> String {
        let mut o = String::with_capacity(8192);
        let l = format!("engine=\"0\",model_name=\"{}\"", self.model);
        let gauge = |o: &mut String, name: &str, v: f64| {
            let _ = writeln!(o, "# HELP {name} {name}\n# TYPE {name} gauge\n{name}{{{l}}} {v}");
        };
        // prometheus_client's text format: the counter's family is named with `_total`, and
        // `_created` is a gauge family of its own.
        let counter = |o: &mut String, name: &str, v: f64| {
            let _ = writeln!(o, "# HELP {name}_total {name}\n# TYPE {name}_total counter\n{name}_total{{{l}}} {v}");
            let _ = writeln!(
                o,
                "# HELP {name}_created {name}\n# TYPE {name}_created gauge\n{name}_created{{{l}}} {}",
                self.created
            );
        };
        gauge(&mut o, "vllm:num_requests_running", self.running);
        gauge(&mut o, "vllm:num_requests_waiting", self.waiting);
        let kv_name = match self.generation {
            Generation::Current => "vllm:kv_cache_usage_perc",
            Generation::Legacy => "vllm:gpu_cache_usage_perc",
        };
        gauge(&mut o, kv_name, (self.kv * 10000.0).round() / 10000.0);
        let _ = writeln!(
            o,
            "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\nvllm:cache_config_info{{block_size=\"16\",cache_dtype=\"auto\",engine=\"0\",num_gpu_blocks=\"27000\"}} 1.0"
        );
        counter(&mut o, "vllm:prompt_tokens", self.prompt_tokens.floor());
        counter(&mut o, "vllm:generation_tokens", self.generation_tokens.floor());
        let _ = writeln!(
            o,
            "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter"
        );
        for (reason, v) in ["stop", "length", "abort"].iter().zip(self.success) {
            let _ = writeln!(o, "vllm:request_success_total{{{l},finished_reason=\"{reason}\"}} {}", v.floor());
        }
        counter(&mut o, "vllm:num_preemptions", self.preemptions);
        counter(&mut o, "vllm:prefix_cache_queries", self.prefix_queries.floor());
        counter(&mut o, "vllm:prefix_cache_hits", self.prefix_hits.floor());
        self.ttft.render(&mut o, "vllm:time_to_first_token_seconds", &l);
        let itl_name = match self.generation {
            Generation::Current => "vllm:inter_token_latency_seconds",
            Generation::Legacy => "vllm:time_per_output_token_seconds",
        };
        self.itl.render(&mut o, itl_name, &l);
        self.e2e.render(&mut o, "vllm:e2e_request_latency_seconds", &l);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_grow_with_load_and_names_follow_the_generation() {
        let mut rng = Rng::new(1);
        let mut e = EngineState::new("m", Role::Decode, Generation::Current, 10.0, 1.0);
        e.advance(1.0, 0.9, &mut rng);
        let first = e.generation_tokens;
        e.advance(1.0, 0.9, &mut rng);
        assert!(e.generation_tokens > first && first > 0.0);
        let text = e.render();
        assert!(text.contains("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"}"));
        assert!(text.contains("vllm:inter_token_latency_seconds_bucket"));
        assert!(text.contains("vllm:generation_tokens_created"));
        let mut old = e.clone();
        old.generation = Generation::Legacy;
        let text = old.render();
        assert!(
            text.contains("vllm:gpu_cache_usage_perc") && text.contains("vllm:time_per_output_token_seconds_bucket")
        );
    }
}
