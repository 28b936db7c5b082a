//! Faults that can be switched on per simulated cluster while it runs, in-process through
//! [`Faults`] or from outside through the admin endpoint (`POST /clusters/<name>/faults`).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

#[derive(Debug, Default)]
pub struct Faults {
    unreachable: watch::Sender<bool>,
    latency_ms: AtomicU64,
    token_expired: AtomicBool,
    forbidden: Mutex<BTreeSet<String>>,
    gone_storm: AtomicBool,
    garbage_metrics: AtomicBool,
    steady: AtomicBool,
    prune_bug: AtomicBool,
    transport_down: AtomicBool,
    status_return_down: AtomicBool,
    watch_epoch: watch::Sender<u64>,
    reset_epoch: watch::Sender<u64>,
    incidents: Mutex<BTreeSet<Incident>>,
}

/// Trouble in the served load, as the triage rules see it in real fleets (each crosses the
/// critical threshold of its rule in `store/rules/table.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Incident {
    /// Every decode engine's KV cache at 96%.
    KvSurge,
    /// Every engine's time to first token at 35 s.
    TtftSpike,
    /// The endpoint pickers count 25% of requests as errors (over llm-d's EPPCriticalErrorRatio, 20%).
    ErrorBurst,
    /// The llm-d-managed autoscalers sit at their maximum, unable to add replicas.
    WvaAtMax,
}

impl Incident {
    pub const ALL: [Incident; 4] = [Incident::KvSurge, Incident::TtftSpike, Incident::ErrorBurst, Incident::WvaAtMax];
}

/// The demo's incidents, repeating every [`TIMELINE_PERIOD_S`]: (cluster index, from, to in
/// seconds since the simulator started, incident). Each lasts longer than its rule's `for:`
/// under the demo's `for:` scale (0.1: 5 minutes are 30 s), so each fires, then resolves.
pub const TIMELINE: &[(usize, f64, f64, Incident)] = &[
    (0, 60.0, 240.0, Incident::KvSurge),
    (0, 120.0, 210.0, Incident::TtftSpike),
    (1, 200.0, 500.0, Incident::WvaAtMax),
    (1, 300.0, 390.0, Incident::ErrorBurst),
];
pub const TIMELINE_PERIOD_S: f64 = 600.0;

/// The incidents the timeline has on cluster `index` at `elapsed` seconds.
pub fn timeline_at(index: usize, elapsed: f64) -> BTreeSet<Incident> {
    let t = elapsed % TIMELINE_PERIOD_S;
    TIMELINE.iter().filter(|(c, from, to, _)| *c == index && (*from..*to).contains(&t)).map(|x| x.3).collect()
}

/// The switchable state, as the admin endpoint reads and writes it. Absent fields are left as they are.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_expired: Option<bool>,
    /// Resources (plural names, e.g. `pods`) answered with 403 for every verb.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forbidden: Option<Vec<String>>,
    /// Every watch that resumes from a resource version gets 410 Gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gone_storm: Option<bool>,
    /// Metrics endpoints answer with text that is not the Prometheus format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub garbage_metrics: Option<bool>,
    /// The load holds still: gauges keep their values and counters grow at their current
    /// pace (for comparing readings of the same state, e.g. with a real Prometheus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steady: Option<bool>,
    /// On a WDS: its transport controller creates and updates ManifestWorks but deletes none
    /// it no longer wants, as in kubestellar#3569 (works left on de-selected WECs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_bug: Option<bool>,
    /// On a WDS: its transport controller is not running: no ManifestWork is written, updated
    /// or deleted, and no Binding's `status.observedGeneration` moves (the binding controller
    /// still updates the Bindings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_down: Option<bool>,
    /// On a WDS: its status controller returns no status: WorkStatuses still arrive in the
    /// ITS, but no WDS object gets its singleton status (as when the controller cannot
    /// update the objects' status, or is not running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_return_down: Option<bool>,
    /// One-shot: end every open watch, as an API server restart or a load balancer does;
    /// clients resume from their last resource version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_watches: Option<bool>,
    /// One-shot: reset every open connection (a TCP RST, as a load balancer or a firewall that
    /// forgets its connections sends): open watches fail mid-body, not end; the port stays open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_connections: Option<bool>,
    /// One-shot: add custom resources with missing and odd fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malformed_objects: Option<bool>,
    /// The incidents in progress (replaces the set): `kv_surge`, `ttft_spike`,
    /// `error_burst`, `wva_at_max`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<Incident>>,
}

impl Faults {
    pub fn apply(&self, p: &FaultPatch) {
        if let Some(v) = p.unreachable {
            self.set_unreachable(v);
        }
        if let Some(v) = p.latency_ms {
            self.latency_ms.store(v, Ordering::Relaxed);
        }
        if let Some(v) = p.token_expired {
            self.token_expired.store(v, Ordering::Relaxed);
        }
        if let Some(v) = &p.forbidden {
            *self.forbidden.lock().expect("faults lock") = v.iter().cloned().collect();
        }
        if let Some(v) = p.gone_storm {
            self.gone_storm.store(v, Ordering::Relaxed);
        }
        if let Some(v) = p.garbage_metrics {
            self.garbage_metrics.store(v, Ordering::Relaxed);
        }
        if let Some(v) = p.steady {
            self.set_steady(v);
        }
        if let Some(v) = p.prune_bug {
            self.set_prune_bug(v);
        }
        if let Some(v) = p.transport_down {
            self.transport_down.store(v, Ordering::Relaxed);
        }
        if let Some(v) = p.status_return_down {
            self.status_return_down.store(v, Ordering::Relaxed);
        }
        if p.drop_watches == Some(true) {
            self.drop_watches();
        }
        if p.reset_connections == Some(true) {
            self.reset_connections();
        }
        if let Some(v) = &p.incidents {
            *self.incidents.lock().expect("faults lock") = v.iter().copied().collect();
        }
    }

    pub fn drop_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }
    pub fn watch_epoch(&self) -> watch::Receiver<u64> {
        self.watch_epoch.subscribe()
    }
    pub fn reset_connections(&self) {
        self.reset_epoch.send_modify(|e| *e += 1);
    }
    pub fn reset_epoch(&self) -> watch::Receiver<u64> {
        self.reset_epoch.subscribe()
    }

    pub fn state(&self) -> FaultPatch {
        FaultPatch {
            unreachable: Some(self.unreachable()),
            latency_ms: Some(self.latency_ms()),
            token_expired: Some(self.token_expired()),
            forbidden: Some(self.forbidden.lock().expect("faults lock").iter().cloned().collect()),
            gone_storm: Some(self.gone_storm()),
            garbage_metrics: Some(self.garbage_metrics()),
            steady: Some(self.steady()),
            prune_bug: Some(self.prune_bug()),
            transport_down: Some(self.transport_down()),
            status_return_down: Some(self.status_return_down()),
            drop_watches: None,
            reset_connections: None,
            malformed_objects: None,
            incidents: Some(self.incidents.lock().expect("faults lock").iter().copied().collect()),
        }
    }

    pub fn set_incident(&self, i: Incident, on: bool) {
        let mut s = self.incidents.lock().expect("faults lock");
        if on {
            s.insert(i);
        } else {
            s.remove(&i);
        }
    }
    pub fn incident(&self, i: Incident) -> bool {
        self.incidents.lock().expect("faults lock").contains(&i)
    }

    pub fn set_unreachable(&self, v: bool) {
        self.unreachable.send_replace(v);
    }
    pub fn unreachable(&self) -> bool {
        *self.unreachable.borrow()
    }
    pub fn watch_unreachable(&self) -> watch::Receiver<bool> {
        self.unreachable.subscribe()
    }
    pub fn set_latency_ms(&self, v: u64) {
        self.latency_ms.store(v, Ordering::Relaxed)
    }
    pub fn latency_ms(&self) -> u64 {
        self.latency_ms.load(Ordering::Relaxed)
    }
    pub fn set_token_expired(&self, v: bool) {
        self.token_expired.store(v, Ordering::Relaxed)
    }
    pub fn token_expired(&self) -> bool {
        self.token_expired.load(Ordering::Relaxed)
    }
    pub fn set_forbidden(&self, plural: &str, on: bool) {
        let mut f = self.forbidden.lock().expect("faults lock");
        if on {
            f.insert(plural.to_string());
        } else {
            f.remove(plural);
        }
    }
    /// The resources a forbidden fault takes away now.
    pub fn forbidden_now(&self) -> BTreeSet<String> {
        self.forbidden.lock().expect("faults lock").clone()
    }
    pub fn is_forbidden(&self, plural: &str) -> bool {
        self.forbidden.lock().expect("faults lock").contains(plural)
    }
    pub fn set_prune_bug(&self, v: bool) {
        self.prune_bug.store(v, Ordering::Relaxed)
    }
    pub fn prune_bug(&self) -> bool {
        self.prune_bug.load(Ordering::Relaxed)
    }
    pub fn transport_down(&self) -> bool {
        self.transport_down.load(Ordering::Relaxed)
    }
    pub fn status_return_down(&self) -> bool {
        self.status_return_down.load(Ordering::Relaxed)
    }
    pub fn set_status_return_down(&self, v: bool) {
        self.status_return_down.store(v, Ordering::Relaxed)
    }
    pub fn set_gone_storm(&self, v: bool) {
        self.gone_storm.store(v, Ordering::Relaxed)
    }
    pub fn gone_storm(&self) -> bool {
        self.gone_storm.load(Ordering::Relaxed)
    }
    pub fn set_garbage_metrics(&self, v: bool) {
        self.garbage_metrics.store(v, Ordering::Relaxed)
    }
    pub fn garbage_metrics(&self) -> bool {
        self.garbage_metrics.load(Ordering::Relaxed)
    }
    pub fn set_steady(&self, v: bool) {
        self.steady.store(v, Ordering::Relaxed)
    }
    pub fn steady(&self) -> bool {
        self.steady.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod timeline_tests {
    use super::*;

    #[test]
    fn the_timeline_repeats_and_each_incident_is_on_its_cluster() {
        let at = |c, t| timeline_at(c, t).into_iter().collect::<Vec<_>>();
        assert_eq!(at(0, 30.0), vec![]);
        assert_eq!(at(0, 100.0), vec![Incident::KvSurge]);
        assert_eq!(at(0, 150.0), vec![Incident::KvSurge, Incident::TtftSpike]);
        assert_eq!(at(0, 700.0), at(0, 100.0), "every ten minutes again");
        assert_eq!(at(1, 350.0), vec![Incident::ErrorBurst, Incident::WvaAtMax]);
        assert_eq!(at(2, 350.0), vec![], "the agents cluster serves no models");
    }
}
