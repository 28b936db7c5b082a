//! Triage: what a problem is (its kind from the rule table, the object it is about, since when),
//! and the [`Tracker`] that holds problems over time the way Prometheus holds alerts: a
//! condition fires once it has held for its rule's `for:`; a problem kst can no longer see is
//! *unknown*, never resolved; its age comes from the cluster's own record where there is one.
//!
//! The rule table and the functions that find conditions live in `store/rules/`; this module
//! holds the small types both sides share and the Tracker, and imports nothing from `rules`.

mod saved;
mod tracker;

use serde::Serialize;

pub use saved::{load, save, Saved};
pub use tracker::{Counts, Problem, Tracker, Unknown, RESOLVED_KEPT_S, STANDING_AFTER_S};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
    /// The mark drawn beside it (readable without colour).
    pub fn mark(self) -> &'static str {
        match self {
            Severity::Critical => "✖",
            Severity::Warning => "!",
            Severity::Info => "i",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "critical" | "crit" | "page" | "error" => Some(Severity::Critical),
            "warning" | "warn" => Some(Severity::Warning),
            "info" | "none" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// How bad a measured value is (the panes' colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Crit,
}

/// Which side of the threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    Above,
    Below,
}

/// How a value and its threshold are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Ratio,
    Seconds,
    Count,
    PerSecond,
}

impl Unit {
    pub fn fmt(self, v: f64) -> String {
        match self {
            Unit::Ratio => {
                let p = v * 100.0;
                if p != 0.0 && p.abs() < 1.0 {
                    format!("{p:.1}%")
                } else {
                    format!("{p:.0}%")
                }
            }
            Unit::Seconds => {
                if v < 1.0 {
                    format!("{:.0}ms", v * 1000.0)
                } else {
                    format!("{v:.1}s")
                }
            }
            Unit::Count => format!("{v:.0}"),
            Unit::PerSecond => format!("{v:.1}/s"),
        }
    }
}

/// A rule over a number: the value is bad on one side of `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cmp {
    /// What is measured, as the reason says it (`KV`, `error ratio`).
    pub what: &'static str,
    pub bad: Bad,
    pub value: f64,
    pub unit: Unit,
}

impl Cmp {
    pub fn holds(&self, v: f64) -> bool {
        match self.bad {
            Bad::Above => v > self.value,
            Bad::Below => v < self.value,
        }
    }
    /// `KV 96% > 95% on decode`: the measured value against the threshold.
    pub fn reason(&self, v: f64, suffix: &str) -> String {
        let op = if self.bad == Bad::Above { ">" } else { "<" };
        format!("{} {} {op} {}{suffix}", self.what, self.unit.fmt(v), self.unit.fmt(self.value))
    }
}

/// The part of the fleet a rule belongs to (the README's table is grouped by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Domain {
    Cluster,
    Serving,
    Agents,
    Placement,
    Gpus,
    Jobs,
    Hub,
    Fleet,
}

impl Domain {
    pub fn name(self) -> &'static str {
        match self {
            Domain::Cluster => "clusters",
            Domain::Serving => "llm-d serving",
            Domain::Agents => "agents",
            Domain::Placement => "placement",
            Domain::Gpus => "GPUs",
            Domain::Jobs => "ML jobs",
            Domain::Hub => "hub clusters and query layers",
            Domain::Fleet => "fleet",
        }
    }
}

/// What kst must see to judge a rule. When a sight is lost (its cluster unreachable, its
/// resource forbidden or not listed yet, a server's metrics stale, the query layer down) an open
/// problem that depends on it is *unknown*, never resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sight {
    /// kst's own connection to the API server: always seen (the problem is the failure itself).
    Conn,
    /// Pods, pools and autoscalers of llm-d, as the watches list them.
    Workloads,
    /// A model server's or endpoint picker's metrics (per object: each has its own freshness).
    Metrics,
    /// Agents, tool servers, builds and RBAC (Kagenti).
    Agents,
    Jobs,
    /// KubeStellar objects of a WDS and of the ITS it delivers through.
    Placement,
    /// dcgm-exporter pages (per GPU: each node has its own page).
    Gpus,
    /// The ManagedClusters of a hub.
    Hub,
    /// A query layer's roll-ups (per hub cluster).
    QueryLayer,
    /// GitHub Actions (the nightly matrix).
    Github,
    /// An Alertmanager's alerts.
    Alertmanager,
}

/// An incident is something that happened; a finding is a standing state (posture, RBAC, a
/// configuration) that is *standing* when it predates kst's first watch or held a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nature {
    Incident,
    Finding,
}

/// One row of the rule table: every problem kst raises is of one kind.
#[derive(Debug, PartialEq)]
pub struct Kind {
    /// kst's id (`kv-decode-critical`): the problem's `kind` in the snapshot, a filter word.
    pub id: &'static str,
    /// The alertname an on-call searches for: upstream's where kst follows an upstream rule.
    pub alert: &'static str,
    pub severity: Severity,
    /// Seconds the condition must hold before it fires (Prometheus' `for:`).
    pub for_s: f64,
    pub domain: Domain,
    pub sight: Sight,
    pub nature: Nature,
    /// For rules over a number: the comparison.
    pub cmp: Option<Cmp>,
    /// The kind of the same family that, open on the same object, carries this one (a warning
    /// listed under its critical, counted once, as Alertmanager's inhibition does).
    pub under: Option<&'static str>,
    /// When it fires (the README's table).
    pub when: &'static str,
    /// Where the rule and its numbers come from.
    pub origin: &'static str,
    /// The rule as PromQL, by `cluster`, `namespace` and `pod` or `pool`: what a Prometheus rule
    /// file holds for it (`kst rules`), and what kst asks a query layer for the rule's history.
    pub promql: Option<&'static str>,
}

/// What a problem is about: `Pod llm-d/ms-pd-decode-0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Object {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

impl Object {
    pub fn new(kind: &'static str, namespace: &str, name: &str) -> Object {
        Object { kind, namespace: namespace.to_string(), name: name.to_string() }
    }
    /// `namespace/name`, or the name alone for cluster-scoped things.
    pub fn path(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// Which row of a pane a jump selects. In the snapshot a name is a plain string, the others
/// objects (`{"hub_cluster": …}`, `{"row": …, "column": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Find {
    /// The row of this object: `namespace/name`, a context, a policy, an alert's fingerprint
    /// (empty: no row in particular).
    Name(String),
    /// A cluster known only through a hub (the Overview's hub rows: a context may share its name).
    HubCluster { hub_cluster: String },
    /// A cell: its row and its column (Models: a model on a cluster; Benchmarks: a guide's
    /// variant on a platform).
    Cell { row: String, column: String },
}

impl Find {
    /// The object's name, when the jump is to a named row.
    pub fn name(&self) -> Option<&str> {
        match self {
            Find::Name(n) => Some(n),
            _ => None,
        }
    }
}

impl From<String> for Find {
    fn from(s: String) -> Find {
        Find::Name(s)
    }
}

impl From<&str> for Find {
    fn from(s: &str) -> Find {
        Find::Name(s.to_string())
    }
}

impl std::fmt::Display for Find {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Find::Name(n) => f.write_str(n),
            Find::HubCluster { hub_cluster } => write!(f, "{hub_cluster} (via its hub)"),
            Find::Cell { row, column } => write!(f, "{row} on {column}"),
        }
    }
}

/// Where Enter on a problem leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "lowercase")]
pub enum Jump {
    /// A pane, with the row of this object selected.
    Pane { pane: crate::store::pane::PaneId, find: Find },
    /// The pod itself (containers, events).
    Pod { namespace: String, name: String },
}

/// A condition that holds now, before the tracker has held it for its `for:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: &'static Kind,
    /// The kind's, except for alerts read from an Alertmanager (their `severity` label).
    pub severity: Severity,
    /// None: about the fleet, not one cluster (the nightly matrix, a query layer).
    pub cluster: Option<usize>,
    pub object: Object,
    /// The measured value against the threshold: `KV 96% > 95% on decode`.
    pub reason: String,
    /// Unix seconds it started by the cluster's own record (a condition's
    /// `lastTransitionTime`, a container's termination, the query layer's history); None when
    /// no record says, and kst's first sight is then a lower bound.
    pub started: Option<f64>,
    /// The record says only that it started at `started` or earlier (a query layer's history
    /// that reaches back to the start of what was asked).
    pub started_lower_bound: bool,
    /// An active Alertmanager silence (or inhibition) covers it: who, until when, why.
    pub silenced: Option<String>,
    pub jump: Jump,
}

impl Condition {
    pub fn new(kind: &'static Kind, cluster: Option<usize>, object: Object, reason: String, jump: Jump) -> Condition {
        Condition {
            kind,
            severity: kind.severity,
            cluster,
            object,
            reason,
            started: None,
            started_lower_bound: false,
            silenced: None,
            jump,
        }
    }
    /// The start by the cluster's own record, when it has one.
    pub fn since(mut self, started: Option<f64>) -> Condition {
        self.started = started.filter(|t| t.is_finite() && *t > 0.0);
        self
    }
    /// A start the record gives only as a bound: it began then or earlier.
    pub fn since_at_least(mut self, started: Option<(f64, bool)>) -> Condition {
        if let Some((t, lower)) = started.filter(|(t, _)| t.is_finite() && *t > 0.0) {
            self.started = Some(t);
            self.started_lower_bound = lower;
        }
        self
    }
}

/// Something kst cannot see now: a whole sight of a cluster, or one object of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Blind {
    pub cluster: Option<usize>,
    pub sight: Sight,
    /// None: everything of that sight on that cluster.
    pub object: Option<Object>,
    /// Why (`cluster unreachable`, `metrics 40s old`, `pods forbidden`).
    pub why: String,
}

/// One evaluation of the fleet: the conditions that hold and what kst could not look at.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub conditions: Vec<Condition>,
    pub blind: Vec<Blind>,
    /// Contexts by cluster index (the Tracker keys its kept state by name, not index).
    pub contexts: Vec<String>,
}

impl Evaluation {
    pub fn push(&mut self, c: Condition) {
        self.conditions.push(c);
    }
    pub fn blind(&mut self, cluster: Option<usize>, sight: Sight, object: Option<Object>, why: impl Into<String>) {
        self.blind.push(Blind { cluster, sight, object, why: why.into() });
    }
}

#[cfg(test)]
mod find_tests {
    use super::*;
    use crate::store::pane::PaneId;

    #[test]
    fn a_jump_says_its_row_plainly_in_the_snapshot_and_reads_back() {
        let json = |find: Find| serde_json::to_value(Jump::Pane { pane: PaneId::Models, find }).unwrap();
        assert_eq!(json("llm-d/p".into()), serde_json::json!({"to": "pane", "pane": "models", "find": "llm-d/p"}));
        let cell = Find::Cell { row: "llama".into(), column: "gpu-us-east".into() };
        assert_eq!(json(cell.clone())["find"], serde_json::json!({"row": "llama", "column": "gpu-us-east"}));
        let hub = Find::HubCluster { hub_cluster: "edge-0001".into() };
        assert_eq!(json(hub.clone())["find"], serde_json::json!({"hub_cluster": "edge-0001"}));
        // the saved problems read each shape back, a plain string (older files) as a name
        for f in [cell, hub, Find::Name("x".into())] {
            assert_eq!(serde_json::from_value::<Find>(serde_json::to_value(&f).unwrap()).unwrap(), f);
        }
        assert_eq!(serde_json::from_str::<Find>("\"a/b\"").unwrap(), Find::Name("a/b".into()));
    }
}
