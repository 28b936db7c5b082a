//! The fleet in a few figures: the wall screen's headline and the summary the header and the
//! snapshot share.

use super::*;

/// The fleet's figures a wall screen shows in big digits. None: not known (no cluster that
/// answers has the number), drawn as `—`, never as 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headline {
    pub clusters: usize,
    pub live: usize,
    pub critical: usize,
    pub warning: usize,
    /// Prefill plus decode tokens per second, over the fresh clusters.
    pub tokens_per_s: Option<f64>,
    /// The fullest decode KV cache of the fresh clusters' model servers.
    pub kv_max: Option<f64>,
    /// Healthy agents of all agents, where Kagenti is installed.
    pub agents: Option<(usize, usize)>,
}

impl Fleet {
    pub fn headline(&self, now: f64) -> Headline {
        let r = self.reading(now);
        let s = self.summary();
        let mut h = Headline { clusters: s.clusters, live: s.live, ..Default::default() };
        let n = self.problems.totals();
        (h.critical, h.warning) = (n.critical, n.warning);
        for c in self.clusters.iter().filter(|c| c.conn.reachable()) {
            if c.kagenti.installed() == Some(true) && !c.placement.is_wds() {
                let a = h.agents.get_or_insert((0, 0));
                for agent in c.kagenti.agents.iter().filter(|a| a.wtype == "agent") {
                    a.1 += 1;
                    if kagenti::health(agent) == kagenti::Health::Healthy {
                        a.0 += 1;
                    }
                }
            }
            let t = c.llmd.totals(&r);
            if t.freshness != llmd::Freshness::Fresh {
                continue;
            }
            for v in [t.prefill_tps, t.decode_tps].into_iter().flatten() {
                *h.tokens_per_s.get_or_insert(0.0) += v;
            }
            if let Some(k) = t.kv_decode_max {
                h.kv_max = Some(h.kv_max.map_or(k, |m: f64| m.max(k)));
            }
        }
        h
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetSummary {
    pub clusters: usize,
    pub live: usize,
    pub degraded: usize,
    /// Answering, but slower than `slow_after`.
    pub slow: usize,
    pub connecting: usize,
    pub down: usize,
    pub nodes: usize,
    pub nodes_ready: usize,
    pub gpus_allocatable: u64,
    pub gpus_total: u64,
    /// Clusters whose numbers are in the totals (they answer now).
    pub counted: usize,
    /// Clusters left out of the totals: their numbers are old (unreachable since).
    pub stale: usize,
}

impl FleetSummary {
    /// `of 2 live clusters; 1 stale`: what the totals include.
    pub fn scope(&self) -> String {
        let mut s = format!("of {} cluster{}", self.counted, if self.counted == 1 { "" } else { "s" });
        if self.stale > 0 {
            s.push_str(&format!("; {} stale", self.stale));
        }
        s
    }
}
