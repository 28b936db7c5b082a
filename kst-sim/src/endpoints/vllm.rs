//! A model server's `/metrics`: vLLM's real metric names, labels and histogram buckets, driven
//! by the simulated load so counters grow with traffic and KV usage rises under load.

use std::fmt::Write;

use crate::rng::Rng;

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

/// A cumulative histogram. Counts are floats: between ticks they grow continuously (see
/// `EngineState::render_at`), as a real server's do between scrapes.
#[derive(Debug, Clone)]
pub struct Histogram {
    pub bounds: &'static [f64],
    pub counts: Vec<f64>,
    pub sum: f64,
    pub count: f64,
}

/// Observations arriving at a steady pace: `per_sec` of them, all of `value`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flow {
    pub value: f64,
    pub per_sec: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram { bounds, counts: vec![0.0; bounds.len()], sum: 0.0, count: 0.0 }
    }
    pub fn observe(&mut self, v: f64, n: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += n;
            }
        }
        self.sum += v * n;
        self.count += n;
    }
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let _ = writeln!(out, "# HELP {name} Histogram of {name}.\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b:?}\"}} {c:?}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {:?}", self.count);
        let _ = writeln!(out, "{name}_count{{{labels}}} {:?}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
    }
}

/// What an engine counts per second until the next tick: counters are integrated from it,
/// so a scrape between ticks sees smooth growth (no one-second steps that alias into zeros).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pace {
    pub prompt_tokens: f64,
    pub generation_tokens: f64,
    pub success: [f64; 3],
    pub preemptions: f64,
    pub prefix_queries: f64,
    pub prefix_hits: f64,
    pub ttft: Flow,
    pub itl: Flow,
    pub e2e: Flow,
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
    /// Requests per second routed to it until the next tick (the EPP counts these).
    pub rps: f64,
    pub pace: Pace,
    /// The load and jitter of the last step, so the router can re-shape the pace when it sends
    /// a prefill pod the share of requests it decided on (`route`).
    shaped: (f64, f64),
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
            rps: 0.0,
            pace: Pace::default(),
            shaped: (0.0, 1.0),
        }
    }

    /// Counts what the current pace produced over the last `dt` seconds.
    fn integrate(&mut self, dt: f64) {
        let p = self.pace.clone();
        self.prompt_tokens += p.prompt_tokens * dt;
        self.generation_tokens += p.generation_tokens * dt;
        for (s, r) in self.success.iter_mut().zip(p.success) {
            *s += r * dt;
        }
        self.preemptions += p.preemptions * dt;
        self.prefix_queries += p.prefix_queries * dt;
        self.prefix_hits += p.prefix_hits * dt;
        self.ttft.observe(p.ttft.value, p.ttft.per_sec * dt);
        self.itl.observe(p.itl.value, p.itl.per_sec * dt);
        self.e2e.observe(p.e2e.value, p.e2e.per_sec * dt);
    }

    /// Moves the engine `dt` seconds forward, then sets the pace for the next interval at
    /// `load` (0..1 of its capacity).
    pub fn advance(&mut self, dt: f64, load: f64, rng: &mut Rng) {
        self.integrate(dt);
        let jitter = 0.9 + 0.2 * rng.unit();
        // KV rises under load; past 0.97 the engine preempts and usage falls back.
        let target = (0.15 + 0.85 * load * jitter).min(0.99);
        self.kv += (target - self.kv) * 0.3;
        let mut preemptions = 0.0;
        if self.kv > 0.97 {
            preemptions = (1.0 + (rng.unit() * 3.0).floor()) / dt.max(1e-3);
            self.kv -= 0.12;
        }
        self.shaped = (load, jitter);
        self.shape((self.capacity_rps * load * jitter).max(0.0), preemptions);
    }

    /// The router sends this pod `rps` until the next tick (a prefill pod gets the share of
    /// requests decided prefill-decode): its counts follow what it is sent.
    pub fn route(&mut self, rps: f64) {
        let preemptions = self.pace.preemptions;
        self.shape(rps.max(0.0), preemptions);
    }

    /// A KV cache full (the surge incident): the scheduler admits no more, so the queue builds
    /// and the time to first token grows with it, as a real engine's would.
    pub fn surge(&mut self) {
        self.kv = 0.96;
        let queued = (self.capacity_rps * 1.5).round().max(3.0);
        if queued > self.waiting {
            let more = queued - self.waiting;
            self.waiting = queued;
            self.pace.ttft.value += more * 0.01;
            self.pace.e2e.value += more * 0.01;
        }
        self.running = self.running.max((self.capacity_rps * 0.8).round().max(1.0));
    }

    /// The pace, running and waiting at `rps` under the step's load.
    fn shape(&mut self, rps: f64, preemptions: f64) {
        let (load, jitter) = self.shaped;
        self.rps = rps;
        let (prompt_per_req, gen_per_req) = match self.role {
            Role::Prefill => (1800.0, 1.0),
            Role::Decode => (40.0, 220.0),
            Role::Aggregated => (900.0, 180.0),
        };
        self.running = (rps * 0.8).round();
        self.waiting = if load > 0.85 { ((load - 0.85) * 200.0 * jitter).round() } else { 0.0 };
        let q = rps * 0.9 * 512.0;
        let ttft = 0.04 + 0.6 * load * load * jitter + self.waiting * 0.01;
        let itl = 0.012 + 0.05 * load * jitter;
        self.pace = Pace {
            prompt_tokens: rps * prompt_per_req,
            generation_tokens: rps * gen_per_req,
            success: [rps * 0.93, rps * 0.06, rps * 0.01],
            preemptions,
            prefix_queries: q,
            prefix_hits: q * (0.35 + 0.4 * (1.0 - load)),
            ttft: Flow { value: ttft, per_sec: rps },
            itl: Flow { value: itl, per_sec: rps * 20.0 },
            e2e: Flow { value: ttft + itl * gen_per_req, per_sec: rps },
        };
    }

    /// The metrics page as of the last tick.
    pub fn render(&self) -> String {
        self.render_at(0.0)
    }

    /// The metrics page `elapsed` seconds after the last tick: counters grown at the pace.
    pub fn render_at(&self, elapsed: f64) -> String {
        let mut now = self.clone();
        now.integrate(elapsed.max(0.0));
        now.render_counted()
    }

    fn render_counted(&self) -> String {
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
        counter(&mut o, "vllm:prompt_tokens", self.prompt_tokens);
        counter(&mut o, "vllm:generation_tokens", self.generation_tokens);
        let _ = writeln!(
            o,
            "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter"
        );
        for (reason, v) in ["stop", "length", "abort"].iter().zip(self.success) {
            let _ = writeln!(o, "vllm:request_success_total{{{l},finished_reason=\"{reason}\"}} {v}");
        }
        counter(&mut o, "vllm:num_preemptions", self.preemptions);
        counter(&mut o, "vllm:prefix_cache_queries", self.prefix_queries);
        counter(&mut o, "vllm:prefix_cache_hits", self.prefix_hits);
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

    fn value(text: &str, series: &str) -> f64 {
        text.lines().find_map(|l| l.strip_prefix(series)?.trim().parse().ok()).unwrap()
    }

    #[test]
    fn counters_grow_smoothly_between_ticks() {
        let mut rng = Rng::new(3);
        let mut e = EngineState::new("m", Role::Decode, Generation::Current, 10.0, 1.0);
        e.advance(1.0, 0.8, &mut rng);
        let series = "vllm:generation_tokens_total{engine=\"0\",model_name=\"m\"}";
        let at = |t: f64| value(&e.render_at(t), series);
        // a scrape a quarter, a half and three quarters into the tick sees a quarter, a half...
        let pace = e.pace.generation_tokens;
        assert!(pace > 0.0);
        for f in [0.25, 0.5, 0.75] {
            assert!((at(f) - at(0.0) - pace * f).abs() < 1e-6 * pace, "{f}: {} vs {}", at(f) - at(0.0), pace * f);
        }
        // and the next tick continues exactly where the scrape left off: never a step back
        let before = at(1.0);
        e.advance(1.0, 0.2, &mut rng);
        assert!((value(&e.render(), series) - before).abs() < 1e-6 * before);
    }

    #[test]
    fn counters_grow_with_load_and_names_follow_the_generation() {
        let mut rng = Rng::new(1);
        let mut e = EngineState::new("m", Role::Decode, Generation::Current, 10.0, 1.0);
        e.advance(1.0, 0.9, &mut rng);
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
