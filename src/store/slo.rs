//! Service-level objectives per pool or model, from the config's `[[slo]]` entries (the
//! InferenceObjective CRD carries a priority and a pool, no targets), and their attainment over
//! the rate window: the share of requests whose TTFT or ITL was within the target, read off the
//! pool's latency histograms, and the share of requests that did not fail.

use super::llmd::{model_label, PoolInfo, PoolView};

/// One `[[slo]]`: which pools (by `pool` name or `namespace/name`, or by served `model`) and
/// the targets. `ttft_p99_s = 2` means 99% of requests see their first token within 2 s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slo {
    pub pool: Option<String>,
    pub model: Option<String>,
    pub ttft_p99_s: Option<f64>,
    pub itl_p99_s: Option<f64>,
    /// The error rate allowed (0.01: 99% of requests succeed).
    pub error_rate: Option<f64>,
}

/// One objective of an SLO, as attained over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Attainment {
    /// `TTFT ≤ 2s`, `ITL ≤ 100ms`, `no error`.
    pub objective: String,
    /// The share of requests that met it; None when the window has no requests to judge.
    pub achieved: Option<f64>,
    /// The share that must (0.99).
    pub goal: f64,
}

impl Attainment {
    pub fn met(&self) -> Option<bool> {
        self.achieved.map(|a| a >= self.goal)
    }
}

fn secs(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0}ms", v * 1000.0)
    } else {
        format!("{v}s")
    }
}

impl Slo {
    /// Whether this entry is about `pool` (serving `model`).
    pub fn selects(&self, pool: &PoolInfo, model: Option<&str>) -> bool {
        let by_pool = self.pool.as_deref().map(|p| p == pool.name || p == format!("{}/{}", pool.namespace, pool.name));
        let by_model = self.model.as_deref().map(|m| model.is_some_and(|have| model_label(have) == model_label(m)));
        match (by_pool, by_model) {
            (None, None) => false,
            (p, m) => p.unwrap_or(true) && m.unwrap_or(true),
        }
    }

    /// Each objective's attainment over the pool's window.
    pub fn attainment(&self, v: &PoolView) -> Vec<Attainment> {
        let mut out = Vec::new();
        if let Some(t) = self.ttft_p99_s {
            out.push(Attainment {
                objective: format!("TTFT ≤ {}", secs(t)),
                achieved: v.ttft.as_ref().and_then(|h| h.fraction_le(t)),
                goal: 0.99,
            });
        }
        if let Some(t) = self.itl_p99_s {
            out.push(Attainment {
                objective: format!("ITL ≤ {}", secs(t)),
                achieved: v.itl.as_ref().and_then(|h| h.fraction_le(t)),
                goal: 0.99,
            });
        }
        if let Some(e) = self.error_rate {
            out.push(Attainment {
                objective: "no error".into(),
                achieved: v.error_rate.map(|r| 1.0 - r),
                goal: 1.0 - e,
            });
        }
        out
    }
}

/// Every objective of every SLO that selects this pool.
pub fn for_pool(slos: &[Slo], pool: &PoolInfo, v: &PoolView) -> Vec<Attainment> {
    slos.iter().filter(|s| s.selects(pool, v.model.as_deref())).flat_map(|s| s.attainment(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::llmd::Histogram;

    fn pool(name: &str) -> PoolInfo {
        PoolInfo {
            namespace: "llm-d".into(),
            name: name.into(),
            api_version: "inference.networking.k8s.io/v1".into(),
            selector: Default::default(),
            target_port: None,
            epp_service: None,
            problem: None,
            exported: false,
        }
    }

    #[test]
    fn selects_by_pool_or_model_and_judges_each_objective() {
        let slo = Slo {
            model: Some("Llama-3.1-8B-Instruct".into()),
            ttft_p99_s: Some(0.5),
            error_rate: Some(0.01),
            ..Default::default()
        };
        assert!(slo.selects(&pool("a"), Some("meta-llama/Llama-3.1-8B-Instruct")), "the model's short name");
        assert!(!slo.selects(&pool("a"), Some("meta-llama/Llama-3.3-70B-Instruct")));
        assert!(!slo.selects(&pool("a"), None), "a pool whose model is unknown is not judged by a model SLO");
        let by_pool = Slo { pool: Some("llm-d/a".into()), ..Default::default() };
        assert!(by_pool.selects(&pool("a"), None) && !by_pool.selects(&pool("b"), None));
        assert!(!Slo::default().selects(&pool("a"), None), "an entry naming nothing selects nothing");

        let v = PoolView {
            // 95 of 100 requests within 0.5 s
            ttft: Some(Histogram {
                bounds: vec![0.25, 0.5, 1.0, f64::INFINITY],
                cumulative: vec![60.0, 95.0, 100.0, 100.0],
                sum: 0.0,
                count: 100.0,
            }),
            error_rate: Some(0.004),
            ..Default::default()
        };
        let a = slo.attainment(&v);
        assert_eq!(a[0].objective, "TTFT ≤ 500ms");
        assert_eq!((a[0].achieved, a[0].met()), (Some(0.95), Some(false)), "95% < 99%");
        assert_eq!(a[1].met(), Some(true), "99.6% succeed, 99% must");
        let unknown = slo.attainment(&PoolView::default());
        assert!(unknown.iter().all(|a| a.met().is_none()), "no requests in the window: not judged");
    }
}
