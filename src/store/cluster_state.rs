//! One cluster as the store holds it: its connection state (`Conn`), what it answered (version,
//! latency, nodes, refusals) and each domain's state. Decoded once in `sources`; an unknown value
//! is `None`, never 0.

use std::collections::{BTreeMap, BTreeSet};

use super::ring::Ring;
use std::time::SystemTime;

/// The connection state of one cluster, as the footer chips and Overview show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Conn {
    Connecting,
    Live,
    /// Reachable, but something kst reads is missing (forbidden resources...).
    Degraded(String),
    /// Answers, but slower than the threshold (`slow_after`): the latency and what else is wrong.
    Slow(String),
    Unreachable {
        error: String,
        since: SystemTime,
    },
    /// 401, expired or refused credentials, a failing exec plugin.
    AuthFailed(String),
    /// The kubeconfig entry itself cannot be used.
    ConfigError(String),
}

impl Conn {
    pub fn label(&self) -> &'static str {
        match self {
            Conn::Connecting => "connecting",
            Conn::Live => "live",
            Conn::Degraded(_) => "degraded",
            Conn::Slow(_) => "slow",
            Conn::Unreachable { .. } => "unreachable",
            Conn::AuthFailed(_) => "auth failed",
            Conn::ConfigError(_) => "config error",
        }
    }
    pub fn detail(&self) -> Option<&str> {
        match self {
            Conn::Degraded(s) | Conn::Slow(s) | Conn::AuthFailed(s) | Conn::ConfigError(s) => Some(s),
            Conn::Unreachable { error, .. } => Some(error),
            _ => None,
        }
    }
    pub fn same_kind(&self, other: &Conn) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
    pub fn reachable(&self) -> bool {
        matches!(self, Conn::Live | Conn::Degraded(_) | Conn::Slow(_))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSummary {
    pub total: usize,
    pub ready: usize,
    pub gpus_allocatable: u64,
    pub gpus_total: u64,
    /// GPU product names (`nvidia.com/gpu.product`), for the Overview.
    pub gpu_products: BTreeSet<String>,
    /// Allocatable GPUs of each GPU node.
    pub gpus_allocatable_by_node: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct ClusterState {
    pub context: String,
    pub server: String,
    /// Dialed after start through a hub's proxy (`cluster-proxy of its1`): not a kubeconfig context.
    pub via: Option<String>,
    /// Not dialed (yet), and why: `dial = "focus"` or `"never"` in `[fleet]`.
    pub undialed: Option<String>,
    pub conn: Conn,
    pub version: Option<String>,
    pub latency_ms: Option<u64>,
    pub latency: Ring<u64>,
    pub last_ok: Option<SystemTime>,
    pub nodes: Option<NodeSummary>,
    pub forbidden: BTreeSet<String>,
    pub malformed: BTreeMap<String, usize>,
    pub llmd: super::llmd::LlmdCluster,
    pub kagenti: super::kagenti_cluster::KagentiCluster,
    pub jobs: super::jobs::JobsCluster,
    /// What this context holds of KubeStellar (a WDS, an ITS, a KubeFlex hosting cluster).
    pub placement: super::placement::PlacementCluster,
    /// GPUs as their dcgm-exporters report them, and OpenCost's allocations.
    pub gpus: super::gpus::GpuCluster,
}

impl ClusterState {
    /// A new connection state; true when it reads differently. An unreachable cluster keeps
    /// the first moment it went down, not the latest retry.
    pub fn set_conn(&mut self, conn: Conn) -> bool {
        if self.conn.same_kind(&conn) && self.conn.detail() == conn.detail() {
            return false;
        }
        self.conn = match (&self.conn, conn) {
            (Conn::Unreachable { since, .. }, Conn::Unreachable { error, .. }) => {
                Conn::Unreachable { error, since: *since }
            }
            (_, other) => other,
        };
        true
    }

    /// A health probe answered; true when what is drawn of it changed.
    pub fn record_health(&mut self, now: SystemTime, version: String, latency_ms: u64, slow_after_ms: u64) -> bool {
        self.last_ok = Some(now);
        // Only what is drawn counts as a change: a latency that wobbles by a millisecond must
        // not redraw an idle screen.
        let was = (self.version.clone(), self.latency_text(), self.conn.clone());
        self.latency.push(latency_ms);
        self.version = Some(version);
        let conn = self.answering_state(slow_after_ms);
        // between slow and not slow the median of older probes would contradict the state
        // (`slow … <10ms`, then `live … 4000ms`): it restarts from this probe
        if matches!(conn, Conn::Slow(_)) != matches!(self.conn, Conn::Slow(_)) {
            self.latency = Ring::new(60);
            self.latency.push(latency_ms);
        }
        self.latency_ms = Some(self.smoothed_latency().unwrap_or(latency_ms));
        self.conn = conn;
        was != (self.version.clone(), self.latency_text(), self.conn.clone())
    }

    /// A resource became forbidden (or allowed again); true when the set changed.
    pub fn set_forbidden(&mut self, resource: String, forbidden: bool, slow_after_ms: u64) -> bool {
        // a count from a read that is forbidden now is not known any more (rows are kept and
        // marked; a total would look current)
        if forbidden && resource == "nodes" {
            self.nodes = None;
        }
        let changed = if forbidden { self.forbidden.insert(resource) } else { self.forbidden.remove(&resource) };
        if self.conn.reachable() {
            self.conn = self.answering_state(slow_after_ms);
        }
        changed
    }

    pub fn new(context: &str, server: &str) -> Self {
        ClusterState {
            context: context.to_string(),
            server: server.to_string(),
            via: None,
            undialed: None,
            conn: Conn::Connecting,
            version: None,
            latency_ms: None,
            latency: Ring::new(60),
            last_ok: None,
            nodes: None,
            forbidden: BTreeSet::new(),
            malformed: BTreeMap::new(),
            llmd: Default::default(),
            kagenti: Default::default(),
            jobs: Default::default(),
            placement: Default::default(),
            gpus: Default::default(),
        }
    }

    /// Median of the last five probes: steady on a steady link.
    pub fn smoothed_latency(&self) -> Option<u64> {
        let mut last: Vec<u64> = self.latency.iter().rev().take(5).copied().collect();
        if last.is_empty() {
            return None;
        }
        last.sort_unstable();
        Some(last[last.len() / 2])
    }

    /// Latency as drawn: under 10 ms it is all "fast" (loopback and LAN jitter would redraw
    /// an idle wall screen for nothing); above, two significant digits.
    pub fn latency_text(&self) -> Option<String> {
        self.latency_ms.map(|ms| match ms {
            0..=9 => "<10ms".to_string(),
            10..=99 => format!("{ms}ms"),
            100..=9_999 => format!(
                "{}ms",
                (ms as f64 / 10f64.powi((ms as f64).log10() as i32 - 1)).round() as u64
                    * 10u64.pow((ms as f64).log10() as u32 - 1)
            ),
            _ => format!("{:.0}s", ms as f64 / 1000.0),
        })
    }

    /// Since when the cluster's numbers are old: it stopped answering after `last_ok`.
    /// None while it answers (its numbers are current) or before it ever answered.
    pub fn stale_since(&self) -> Option<SystemTime> {
        (!self.conn.reachable() && !matches!(self.conn, Conn::Connecting)).then_some(self.last_ok).flatten()
    }

    /// The state of a cluster that answers: slow (over the threshold, with the latency),
    /// degraded (something is forbidden: the list), or live.
    /// Slow needs the last two probes over the threshold (one slow answer is a blip), or the
    /// only one there is; one fast answer is enough to be live again, so the state follows
    /// recovery within a refresh.
    pub fn answering_state(&self, slow_after_ms: u64) -> Conn {
        let last: Vec<u64> = self.latency.iter().rev().take(2).copied().collect();
        let slow = !last.is_empty() && last.iter().all(|&ms| ms >= slow_after_ms);
        match last.iter().min() {
            Some(&ms) if slow => {
                let mut why =
                    format!("answers in {:.1}s (over {:.1}s)", ms as f64 / 1000.0, slow_after_ms as f64 / 1000.0);
                if !self.forbidden.is_empty() {
                    why.push_str(&format!(" · {}", self.forbidden_text()));
                }
                Conn::Slow(why)
            }
            _ if !self.forbidden.is_empty() => Conn::Degraded(self.forbidden_text()),
            _ => Conn::Live,
        }
    }

    pub fn forbidden_text(&self) -> String {
        format!("forbidden: {}", self.forbidden.iter().cloned().collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_only_the_newest() {
        let mut r = Ring::new(3);
        for i in 0..10 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![7, 8, 9]);
        assert_eq!(r.len(), 3);
        assert_eq!(r.last(), Some(&9));
    }

    #[test]
    fn latency_is_drawn_with_two_significant_digits() {
        let mut c = ClusterState::new("a", "s");
        for (ms, text) in [(7, "<10ms"), (12, "12ms"), (99, "99ms"), (123, "120ms"), (1789, "1800ms"), (12_400, "12s")]
        {
            c.latency_ms = Some(ms);
            assert_eq!(c.latency_text().unwrap(), text);
        }
    }

    #[test]
    fn slow_takes_two_slow_answers_and_one_fast_one_ends_it() {
        let mut c = ClusterState::new("a", "s");
        c.latency.push(4100);
        assert!(matches!(c.answering_state(2000), Conn::Slow(ref m) if m.contains("4.1s")), "the only probe there is");
        for ms in [20, 20, 20, 4100] {
            c.latency.push(ms);
        }
        assert_eq!(c.answering_state(2000), Conn::Live, "one slow answer after fast ones is a blip");
        c.latency.push(4300);
        assert!(matches!(c.answering_state(2000), Conn::Slow(ref m) if m.contains("answers in 4.1s (over 2.0s)")));
        c.forbidden.insert("pods".into());
        assert!(matches!(c.answering_state(2000), Conn::Slow(ref m) if m.ends_with("forbidden: pods")));
        c.latency.push(30);
        assert_eq!(c.answering_state(2000), Conn::Degraded("forbidden: pods".into()));
    }
}
