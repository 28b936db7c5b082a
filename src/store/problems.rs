//! Triage: every problem of the fleet, derived from what kst already knows, as pure functions
//! (`conditions`), then held over time by a [`Tracker`] the way Prometheus holds alerts: a
//! condition must hold for its rule's `for:` before it fires, `since` is when it started and
//! survives refreshes, and a problem that clears stays listed (resolved) for ten minutes with
//! its duration, so a flap is visible.
//!
//! The thresholds are the rule table's (`store/rules.rs`), the same the panes colour with.

use std::collections::BTreeMap;

use serde::Serialize;

use super::kagenti::Health;
use super::llmd::{Freshness, ScrapeError};
use super::model::Conn;
use super::rules::{self, Level, Rule};
use super::Fleet;

/// How long a resolved problem stays listed.
pub const RESOLVED_KEPT_S: f64 = 600.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    fn of(l: Level) -> Option<Severity> {
        match l {
            Level::Ok => None,
            Level::Warn => Some(Severity::Warning),
            Level::Crit => Some(Severity::Critical),
        }
    }
}

/// What a problem is about: `Pod llm-d/ms-pd-decode-0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Object {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

impl Object {
    fn new(kind: &'static str, namespace: &str, name: &str) -> Object {
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

/// Where Enter on a problem leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "lowercase")]
pub enum Jump {
    /// A pane, with the row of this object selected (`find` is its `namespace/name`).
    Pane { pane: &'static str, find: String },
    /// The pod itself (containers, events).
    Pod { namespace: String, name: String },
}

/// A condition that holds now, before the tracker has held it for its `for:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The rule or check: `kv-decode`, `cluster-unreachable`, `agent-failing`.
    pub kind: &'static str,
    pub severity: Severity,
    /// None: about the fleet, not one cluster (the nightly matrix).
    pub cluster: Option<usize>,
    pub object: Object,
    /// The measured value against the threshold: `KV 96% > 95% on decode`.
    pub reason: String,
    /// Seconds it must hold before it is a problem (the rule's `for:`).
    pub hold_s: f64,
    pub jump: Jump,
}

impl Condition {
    fn key(&self) -> Key {
        (self.kind, self.cluster, self.object.clone())
    }
}

type Key = (&'static str, Option<usize>, Object);

/// A problem as shown and reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub kind: &'static str,
    pub severity: Severity,
    #[serde(skip)]
    pub cluster: Option<usize>,
    pub object: Object,
    pub reason: String,
    /// Unix seconds the condition started (kept across refreshes).
    pub since: f64,
    /// Unix seconds it fired (held for its `for:`); None: pending.
    pub fired_at: Option<f64>,
    /// Unix seconds it cleared; None: still there.
    pub resolved_at: Option<f64>,
    pub hold_s: f64,
    pub jump: Jump,
}

impl Problem {
    pub fn firing(&self) -> bool {
        self.fired_at.is_some() && self.resolved_at.is_none()
    }
    pub fn pending(&self) -> bool {
        self.fired_at.is_none() && self.resolved_at.is_none()
    }
    pub fn resolved(&self) -> bool {
        self.resolved_at.is_some()
    }
    /// How long it has lasted (to now, or to when it cleared).
    pub fn lasted(&self, now: f64) -> f64 {
        (self.resolved_at.unwrap_or(now) - self.since).max(0.0)
    }
}

/// Problems over time: pending ones waiting out their `for:`, firing ones, and those resolved
/// in the last ten minutes.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    open: BTreeMap<Key, Problem>,
    resolved: Vec<Problem>,
    /// Multiplies every `for:` (1 = upstream's rules). The demo shortens them so its scenario
    /// shows problems within a minute; tests do too.
    pub hold_scale: f64,
    /// Bumped whenever the list changes (so a pane redraws only then).
    pub generation: u64,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker { hold_scale: 1.0, ..Default::default() }
    }

    /// Takes the conditions that hold at `now`; true when the list changed.
    pub fn update(&mut self, now: f64, conditions: Vec<Condition>) -> bool {
        let scale = if self.hold_scale > 0.0 { self.hold_scale } else { 1.0 };
        let mut changed = false;
        let mut seen: Vec<Key> = Vec::with_capacity(conditions.len());
        let mut taken: std::collections::BTreeSet<Key> = std::collections::BTreeSet::new();
        for c in conditions {
            let key = c.key();
            // one problem per key: a second condition of the same rule on the same object
            // (two of a policy's objects, say) adds nothing the first does not say
            if !taken.insert(key.clone()) {
                continue;
            }
            seen.push(key.clone());
            let p = self.open.entry(key).or_insert_with(|| {
                changed = true;
                Problem {
                    kind: c.kind,
                    severity: c.severity,
                    cluster: c.cluster,
                    object: c.object.clone(),
                    reason: c.reason.clone(),
                    since: now,
                    fired_at: None,
                    resolved_at: None,
                    hold_s: c.hold_s,
                    jump: c.jump.clone(),
                }
            });
            if p.severity != c.severity || p.reason != c.reason {
                changed = true;
                p.severity = c.severity;
                p.reason = c.reason;
            }
            if p.fired_at.is_none() && now - p.since >= c.hold_s * scale {
                p.fired_at = Some(now);
                changed = true;
            }
        }
        seen.sort();
        let gone: Vec<Key> = self.open.keys().filter(|k| seen.binary_search(k).is_err()).cloned().collect();
        for k in gone {
            if let Some(mut p) = self.open.remove(&k) {
                changed = true;
                // a pending condition that cleared before its `for:` never was a problem
                if p.fired_at.is_some() {
                    p.resolved_at = Some(now);
                    self.resolved.push(p);
                }
            }
        }
        let before = self.resolved.len();
        self.resolved.retain(|p| now - p.resolved_at.unwrap_or(now) < RESOLVED_KEPT_S);
        changed |= self.resolved.len() != before;
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// Firing, then pending, then resolved; each worst first, then oldest first.
    pub fn all(&self) -> Vec<&Problem> {
        let mut v: Vec<&Problem> = self.open.values().chain(self.resolved.iter()).collect();
        let rank = |p: &Problem| {
            if p.firing() {
                0
            } else if p.pending() {
                1
            } else {
                2
            }
        };
        v.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then(a.severity.cmp(&b.severity))
                .then(a.since.total_cmp(&b.since))
                .then(a.cluster.cmp(&b.cluster))
                .then(a.object.cmp(&b.object))
        });
        v
    }

    /// Firing problems only.
    pub fn firing(&self) -> impl Iterator<Item = &Problem> {
        self.open.values().filter(|p| p.firing())
    }

    /// Firing problems of one cluster by severity: (critical, warning, info).
    pub fn counts(&self, cluster: usize) -> (usize, usize, usize) {
        let mut n = (0, 0, 0);
        for p in self.firing().filter(|p| p.cluster == Some(cluster)) {
            match p.severity {
                Severity::Critical => n.0 += 1,
                Severity::Warning => n.1 += 1,
                Severity::Info => n.2 += 1,
            }
        }
        n
    }

    /// Firing problems per cluster (critical, warning, info), for `n` clusters in one pass.
    pub fn counts_by_cluster(&self, n: usize) -> Vec<(usize, usize, usize)> {
        let mut out = vec![(0, 0, 0); n];
        for p in self.firing() {
            if let Some(c) = p.cluster.and_then(|c| out.get_mut(c)) {
                match p.severity {
                    Severity::Critical => c.0 += 1,
                    Severity::Warning => c.1 += 1,
                    Severity::Info => c.2 += 1,
                }
            }
        }
        out
    }

    /// The worst firing problem of the fleet (the header names it).
    pub fn worst(&self) -> Option<&Problem> {
        self.firing().min_by(|a, b| a.severity.cmp(&b.severity).then(a.since.total_cmp(&b.since)))
    }
}

/// A rule over a value: (rule id, severity, reason, its for:) when it is over the threshold.
fn rule_condition(rule: &Rule, value: Option<f64>, suffix: &str) -> Option<(&'static str, Severity, String, f64)> {
    let v = value.filter(|v| v.is_finite())?;
    let sev = Severity::of(rule.level(v))?;
    Some((rule.id, sev, rule.reason(v, suffix), rule.for_s))
}

/// Every condition that holds in the fleet at `now`. Unknown values (`—`) never hold: a rule
/// does not fire on a number kst does not have.
pub fn conditions(fleet: &Fleet, now: f64) -> Vec<Condition> {
    let reading = fleet.reading(now);
    let mut out = Vec::new();
    for (i, c) in fleet.clusters.iter().enumerate() {
        let cluster = Some(i);
        let this = Object::new("Cluster", "", &c.context);
        let to_overview = Jump::Pane { pane: "overview", find: c.context.clone() };
        let mut push = |kind, severity, object: Object, reason: String, hold_s: f64, jump: Jump| {
            out.push(Condition { kind, severity, cluster, object, reason, hold_s, jump })
        };
        match &c.conn {
            Conn::Unreachable { error, .. } => {
                push(
                    "cluster-unreachable",
                    Severity::Critical,
                    this,
                    format!("unreachable: {error}"),
                    0.0,
                    to_overview,
                );
                continue;
            }
            Conn::AuthFailed(e) => {
                push("cluster-auth", Severity::Critical, this, format!("auth failed: {e}"), 0.0, to_overview);
                continue;
            }
            Conn::ConfigError(e) => {
                push("cluster-config", Severity::Critical, this, format!("config error: {e}"), 0.0, to_overview);
                continue;
            }
            Conn::Connecting => continue,
            Conn::Degraded(why) => {
                push("cluster-degraded", Severity::Warning, this, why.clone(), 0.0, to_overview);
            }
            Conn::Slow(why) => {
                push("cluster-slow", Severity::Warning, this, why.clone(), 0.0, to_overview);
            }
            Conn::Live => {}
        }

        // LLM-d: model-server pods, then their metrics, then each pool's
        let l = &c.llmd;
        for s in &l.servers {
            let pod = Object::new("Pod", &s.namespace, &s.name);
            let to_pod = Jump::Pod { namespace: s.namespace.clone(), name: s.name.clone() };
            match &s.waiting {
                Some(w) if w.ends_with("BackOff") || w.starts_with("Err") => push(
                    "pod-crashloop",
                    Severity::Critical,
                    pod.clone(),
                    format!("{w}, {} restarts", s.restarts),
                    0.0,
                    to_pod.clone(),
                ),
                _ if !s.ready && s.phase != "Succeeded" => push(
                    "pod-not-ready",
                    Severity::Warning,
                    pod.clone(),
                    format!("not ready ({}), {} restarts", s.phase, s.restarts),
                    60.0,
                    to_pod.clone(),
                ),
                _ => {}
            }
            let v = l.view(s, &reading);
            if !v.fresh() {
                continue;
            }
            let role = if s.role.serves_decode() { " on decode" } else { " on prefill" };
            let to_kv = Jump::Pane { pane: "kv", find: format!("{}/{}", s.namespace, s.name) };
            for (rule, value, suffix) in [
                (rules::kv_rule(s.role.serves_decode()), v.kv, role),
                (rules::waiting_rule(s.role == super::llmd::Role::Prefill), v.waiting, role),
                (&rules::PREEMPTIONS, v.preemption_rate, ""),
                (&rules::PREFIX_HIT, v.prefix_hit_rate.filter(|_| v.request_rate.is_some_and(|r| r > 0.1)), ""),
            ] {
                if let Some((kind, sev, reason, hold)) = rule_condition(rule, value, suffix) {
                    push(kind, sev, pod.clone(), reason, hold, to_kv.clone());
                }
            }
        }
        for p in &l.pools {
            let pool = Object::new("InferencePool", &p.namespace, &p.name);
            let to_serving = Jump::Pane { pane: "serving", find: format!("{}/{}", p.namespace, p.name) };
            let v = l.pool_view(p, &reading);
            if v.decode_total > 0 && v.decode_ready == 0 {
                push(
                    "pool-no-ready-endpoints",
                    Severity::Critical,
                    pool.clone(),
                    format!("0 of {} decode pods ready", v.decode_total),
                    120.0,
                    to_serving.clone(),
                );
            }
            for (pod, share) in &v.routed_to_unready {
                push(
                    "epp-routes-to-unready",
                    Severity::Warning,
                    pool.clone(),
                    format!("EPP routes {:.0}% of requests to {pod}, which is not Ready", share * 100.0),
                    0.0,
                    Jump::Pane { pane: "epp", find: format!("{}/{}", p.namespace, p.name) },
                );
            }
            if let Some(e) = l.epp.get(&p.key()).and_then(|m| m.error.as_ref()) {
                if let ScrapeError::AuthRequired(code) = e.v {
                    push(
                        "epp-metrics-auth",
                        Severity::Info,
                        pool.clone(),
                        format!("EPP /metrics answers {code}: needs auth, routing numbers unknown"),
                        0.0,
                        Jump::Pane { pane: "epp", find: format!("{}/{}", p.namespace, p.name) },
                    );
                }
            }
            if v.freshness != Freshness::Fresh {
                continue;
            }
            for a in super::slo::for_pool(&fleet.slos, p, &v).into_iter().filter(|a| a.met() == Some(false)) {
                push(
                    "slo-breach",
                    Severity::Warning,
                    pool.clone(),
                    format!(
                        "SLO {}: {:.1}% of requests < {:.1}% (over {})",
                        a.objective,
                        a.achieved.unwrap_or(0.0) * 100.0,
                        a.goal * 100.0,
                        fleet.metrics.window_text()
                    ),
                    300.0,
                    to_serving.clone(),
                );
            }
            let ttft_p99 = v.ttft.as_ref().and_then(|h| h.quantile(0.99));
            for (rule, value) in [
                (&rules::ERROR_RATE, v.error_rate),
                (&rules::TTFT_P99, ttft_p99),
                (&rules::PD_RATIO, v.pd_running_ratio),
            ] {
                if let Some((kind, sev, reason, hold)) = rule_condition(rule, value, "") {
                    push(kind, sev, pool.clone(), reason, hold, to_serving.clone());
                }
            }
        }

        // the WVA: autoscalers that cannot scale, or sit at their max while the load wants more
        for a in &l.autoscalers {
            let obj = Object::new(a.kind, &a.namespace, &a.name);
            let pool = l.pools.iter().find(|p| a.serves(p));
            let to = Jump::Pane {
                pane: "serving",
                find: pool.map(|p| format!("{}/{}", p.namespace, p.name)).unwrap_or_default(),
            };
            if let Some(why) = &a.blocked {
                push(
                    "autoscaler-blocked",
                    Severity::Warning,
                    obj.clone(),
                    format!("cannot scale {}: {why}", a.target),
                    300.0,
                    to.clone(),
                );
                continue;
            }
            if !a.at_max() {
                continue;
            }
            // saturated: the controller wants more than its max, or the pool's KV is in the warn band
            let kv = pool
                .map(|p| l.pool_view(p, &reading))
                .filter(|v| v.freshness == Freshness::Fresh)
                .and_then(|v| v.kv_avg);
            let hot = kv.filter(|k| rules::KV.level(*k) != Level::Ok);
            if a.wants_more() || hot.is_some() {
                let why = match hot {
                    Some(k) => format!("KV {:.0}% on its pool", k * 100.0),
                    None => "it computes more replicas than its max (TooManyReplicas)".into(),
                };
                push(
                    "autoscaler-at-max",
                    Severity::Warning,
                    obj,
                    format!("{} at its max of {} replicas while saturated: {why}", a.target, a.max.unwrap_or(0)),
                    300.0,
                    to,
                );
            }
        }

        // Kagenti: agents, tool servers, builds, posture. A WDS holds workload objects as
        // placement sources: nothing runs them there, so their replicas say nothing.
        let k = &c.kagenti;
        for a in k.agents.iter().filter(|_| !c.placement.is_wds()) {
            let obj = Object::new(if a.wtype == "tool" { "Tool" } else { "Agent" }, &a.namespace, &a.name);
            let to_agents = Jump::Pane { pane: "agents", find: format!("{}/{}", a.namespace, a.name) };
            match super::kagenti::health(a) {
                Health::Failing(why) => {
                    push("agent-failing", Severity::Critical, obj, format!("failing: {why}"), 0.0, to_agents)
                }
                Health::Degraded(why) => {
                    push("agent-degraded", Severity::Warning, obj, format!("degraded: {why}"), 120.0, to_agents)
                }
                Health::ScaledToZero => push(
                    "agent-scaled-to-zero",
                    Severity::Warning,
                    obj,
                    "scaled to 0 replicas, not by kst (no previous-replicas note)".into(),
                    0.0,
                    to_agents,
                ),
                _ => {}
            }
        }
        for t in k.tools.iter().flatten() {
            let status = t.status();
            let why = match &status {
                super::tools::ServerStatus::Error(e) => format!("unreachable: {e}"),
                super::tools::ServerStatus::NotReady(r) => format!("not ready: {r}"),
                _ => continue,
            };
            push(
                "tool-server-unreachable",
                Severity::Warning,
                Object::new("MCPServer", &t.namespace, &t.name),
                why,
                60.0,
                Jump::Pane { pane: "tools", find: format!("{}/{}", t.namespace, t.name) },
            );
        }
        for b in &k.builds {
            if let Some(run) = b.runs.iter().find(|r| r.outcome.is_some()).filter(|r| r.outcome == Some(false)) {
                let why = run.message.as_deref().or(run.reason.as_deref()).unwrap_or("failed");
                push(
                    "build-failed",
                    Severity::Warning,
                    Object::new("Build", &b.namespace, &b.name),
                    format!("last run {} failed: {why}", run.name),
                    0.0,
                    Jump::Pane { pane: "builds", find: format!("{}/{}", b.namespace, b.name) },
                );
            }
        }
        for f in k.findings().iter().filter(|f| f.severity == super::posture::Severity::Critical) {
            let (ns, name) = f.subject.split_once('/').unwrap_or(("", &f.subject));
            push(
                "security-critical",
                Severity::Critical,
                Object::new("Agent", ns, name),
                format!("{}: {}", f.rule, f.detail),
                0.0,
                Jump::Pane { pane: "security", find: f.subject.clone() },
            );
        }
        for d in k.drift().unwrap_or_default().iter().filter(|d| d.change != "binding removed") {
            push(
                "security-drift",
                Severity::Warning,
                Object::new("Posture", "", &d.key),
                format!("{} since the baseline", d.change),
                0.0,
                Jump::Pane { pane: "security", find: d.key.clone() },
            );
        }

        // ML jobs
        for j in &c.jobs.jobs {
            if j.status == "Failed" {
                push(
                    "job-failed",
                    Severity::Warning,
                    Object::new(j.kind, &j.namespace, &j.name),
                    format!("failed{}", j.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()),
                    0.0,
                    Jump::Pane { pane: "jobs", find: format!("{}/{}", j.namespace, j.name) },
                );
            }
        }
    }

    // a model without ready decode on a cluster is a problem of the model (the pool's own
    // problem says which pool); prefill too for its P/D pools
    for m in super::models::views(fleet, &reading) {
        for l in &m.lines {
            let short = [("decode", l.decode_ready, l.decode_total), ("prefill", l.prefill_ready, l.prefill_total)]
                .into_iter()
                .find(|(_, ready, total)| *total > 0 && *ready == 0);
            if let Some((role, _, total)) = short {
                out.push(Condition {
                    kind: "model-no-ready-servers",
                    severity: Severity::Critical,
                    cluster: l.cluster,
                    object: Object::new("Model", "", &m.model),
                    reason: format!("0 of {total} {role} servers ready: {} not served here", m.model),
                    hold_s: 120.0,
                    jump: Jump::Pane { pane: "models", find: format!("{}\t{}", m.model, l.context) },
                });
            } else if l.unschedulable > 0 {
                // servers the scheduler cannot place: capacity the model was meant to have
                out.push(Condition {
                    kind: "model-servers-unschedulable",
                    severity: Severity::Warning,
                    cluster: l.cluster,
                    object: Object::new("Model", "", &m.model),
                    reason: format!(
                        "{} of its servers cannot be scheduled (decode {}/{} ready, prefill {}/{}): {}",
                        l.unschedulable,
                        l.decode_ready,
                        l.decode_total,
                        l.prefill_ready,
                        l.prefill_total,
                        l.unschedulable_reason.as_deref().unwrap_or("no node fits")
                    ),
                    hold_s: 120.0,
                    jump: Jump::Pane { pane: "models", find: format!("{}\t{}", m.model, l.context) },
                });
            }
        }
    }
    // GPUs: an XID, a framebuffer near full, and pods holding GPUs they do not use
    for (ci, c) in fleet.clusters.iter().enumerate().filter(|(_, c)| c.conn.reachable()) {
        let mut idle: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut held: BTreeMap<(String, String), usize> = BTreeMap::new();
        for g in c.gpus.gpus() {
            let find = format!("{}/{}", c.context, g.id());
            let object = Object::new("GPU", "", &g.id());
            if g.has_xid() {
                out.push(Condition {
                    kind: "gpu-xid",
                    severity: Severity::Critical,
                    cluster: Some(ci),
                    object: object.clone(),
                    reason: format!(
                        "XID {:.0} on GPU {} of {} ({})",
                        g.xid.unwrap_or(0.0),
                        g.gpu,
                        g.node,
                        g.model_name
                    ),
                    hold_s: 0.0,
                    jump: Jump::Pane { pane: "gpus", find: find.clone() },
                });
            }
            if let Some(m) = g.fb_used().filter(|m| rules::GPU_MEMORY.level(*m) != rules::Level::Ok) {
                out.push(Condition {
                    kind: "gpu-memory",
                    severity: Severity::Warning,
                    cluster: Some(ci),
                    object,
                    reason: format!("GPU memory {:.0}% used (over {:.0}%)", m * 100.0, rules::GPU_MEMORY.warn * 100.0),
                    hold_s: rules::GPU_MEMORY.for_s,
                    jump: Jump::Pane { pane: "gpus", find },
                });
            }
            if let Some(pod) = &g.pod {
                *held.entry(pod.clone()).or_default() += 1;
                if g.util.is_some() && !g.busy() {
                    *idle.entry(pod.clone()).or_default() += 1;
                }
            }
        }
        for (pod, n) in idle {
            if held.get(&pod) != Some(&n) {
                continue;
            }
            out.push(Condition {
                kind: "gpu-idle-held",
                severity: Severity::Warning,
                cluster: Some(ci),
                object: Object::new("Pod", &pod.0, &pod.1),
                reason: format!(
                    "holds {n} GPU{} under {:.0}% busy",
                    if n == 1 { "" } else { "s" },
                    rules::GPU_BUSY * 100.0
                ),
                hold_s: rules::GPU_IDLE_HELD.for_s,
                jump: Jump::Pod { namespace: pod.0.clone(), name: pod.1.clone() },
            });
        }
    }

    // a cluster known only through a hub, which says it is not available
    for h in super::hub::clusters(fleet).into_iter().filter(|h| h.available == Some(false)) {
        out.push(Condition {
            kind: "managed-cluster-unavailable",
            severity: Severity::Warning,
            cluster: Some(h.hub_index),
            object: Object::new("ManagedCluster", "", &h.name),
            reason: format!("not Available on the hub: {}", h.why.as_deref().unwrap_or("no reason given")),
            hold_s: 60.0,
            jump: Jump::Pane { pane: "overview", find: format!("\u{2}{}", h.name) },
        });
    }

    // an imported pool whose exporters cannot serve it: requests routed there fail
    for imp in super::models::imports(fleet, &reading) {
        if let super::models::ImportState::Broken(why) = &imp.state {
            let (ns, name) = imp.pool.split_once('/').unwrap_or(("", &imp.pool));
            out.push(Condition {
                kind: "pool-import-broken",
                severity: Severity::Warning,
                cluster: Some(imp.cluster),
                object: Object::new("InferencePoolImport", ns, name),
                reason: format!("imported from {}: {why}", imp.exporters.join(", ")),
                hold_s: 30.0,
                jump: match &imp.model {
                    Some(m) => Jump::Pane { pane: "models", find: format!("{m}\t{}", imp.context) },
                    None => Jump::Pane { pane: "serving", find: imp.pool.clone() },
                },
            });
        }
    }

    // placement: drift of every BindingPolicy, a problem of its WDS
    let contexts: Vec<(&str, &super::placement::PlacementCluster)> =
        fleet.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect();
    for v in super::placement::views(&contexts) {
        let Some(wds) = fleet.clusters.iter().position(|c| c.context == v.wds) else { continue };
        if !fleet.clusters[wds].conn.reachable() {
            continue;
        }
        for d in &v.drift {
            use super::placement::Drift as D;
            let (kind, severity, hold_s) = match d {
                D::Errors { withheld: true, .. } => ("placement-withheld", Severity::Critical, 0.0),
                // the transport may be a moment behind the Binding
                D::NotDelivered { .. } => ("placement-not-delivered", Severity::Warning, 60.0),
                D::ApplyFailed { .. } => ("placement-apply-failed", Severity::Warning, 0.0),
                D::Stale { .. } => ("placement-stale-work", Severity::Warning, 60.0),
                D::DestinationUnavailable { .. } | D::UnknownDestination { .. } => {
                    ("placement-destination-unavailable", Severity::Warning, 0.0)
                }
                D::Errors { .. } | D::SingletonOverMany { .. } => ("placement-error", Severity::Warning, 0.0),
                D::MatchesNoCluster | D::MatchesNoObject => ("placement-matches-nothing", Severity::Info, 0.0),
                D::CollectorMissing { .. } => ("placement-collector-missing", Severity::Info, 0.0),
            };
            out.push(Condition {
                kind,
                severity,
                cluster: Some(wds),
                object: Object::new(
                    "BindingPolicy",
                    "",
                    &match d {
                        D::NotDelivered { cluster, .. }
                        | D::Stale { cluster, .. }
                        | D::ApplyFailed { cluster, .. }
                        | D::DestinationUnavailable { cluster, .. }
                        | D::UnknownDestination { cluster } => format!("{} → {cluster}", v.policy.name),
                        _ => v.policy.name.clone(),
                    },
                ),
                reason: d.text(),
                hold_s,
                jump: Jump::Pane { pane: "placement", find: v.policy.name.clone() },
            });
        }
        // a status the WEC can no longer refresh: old, and its cluster not Available
        let unavailable = |c: &str| {
            fleet
                .clusters
                .iter()
                .filter_map(|x| x.placement.managed.as_ref())
                .flatten()
                .any(|m| m.name == c && m.available != Some(true))
        };
        for (oi, row) in v.cells.iter().enumerate() {
            for (ci, cell) in row.iter().enumerate() {
                let super::placement::Cell::Reported { at: Some(at), .. } = cell else { continue };
                let (Some(cluster), Some(object)) = (v.clusters.get(ci), v.objects.get(oi)) else { continue };
                let age = now - at;
                if age > rules::PLACEMENT_STATUS_STALE_S && unavailable(cluster) {
                    out.push(Condition {
                        kind: "placement-status-stale",
                        severity: Severity::Warning,
                        cluster: Some(wds),
                        object: Object::new("BindingPolicy", "", &format!("{} → {cluster}", v.policy.name)),
                        reason: format!(
                            "status of {} on {cluster} last written {} and {cluster} is not Available: it may no longer be true",
                            object.text(),
                            super::llmd::age_text(age)
                        ),
                        hold_s: 0.0,
                        jump: Jump::Pane { pane: "placement", find: v.policy.name.clone() },
                    });
                }
            }
        }
    }

    // the nightly matrix: a cell that passed and now fails
    if let Some(m) = &fleet.nightly.matrix {
        for cell in &m.cells {
            let finished: Vec<bool> = cell.runs.iter().filter_map(|r| r.passed()).collect();
            if finished.first() == Some(&false) && finished.get(1) == Some(&true) {
                let name = cell.workflow_file.trim_end_matches(".yaml").to_string();
                let at = format!("{} {}\t{}", cell.name.guide, cell.name.variant(), cell.name.platform());
                out.push(Condition {
                    kind: "nightly-newly-red",
                    severity: Severity::Warning,
                    cluster: None,
                    object: Object::new("Nightly", "", &name),
                    reason: format!(
                        "newest run failed{}, the one before passed",
                        cell.runs
                            .iter()
                            .find(|r| r.passed() == Some(false))
                            .and_then(|r| r.failed_step.as_deref())
                            .map(|s| format!(" at {s}"))
                            .unwrap_or_default()
                    ),
                    hold_s: 0.0,
                    jump: Jump::Pane { pane: "benchmarks", find: at },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(kind: &'static str, sev: Severity, name: &str, hold: f64) -> Condition {
        Condition {
            kind,
            severity: sev,
            cluster: Some(0),
            object: Object::new("Pod", "llm-d", name),
            reason: format!("{kind} on {name}"),
            hold_s: hold,
            jump: Jump::Pod { namespace: "llm-d".into(), name: name.into() },
        }
    }

    #[test]
    fn an_old_status_from_a_cluster_the_hub_calls_unavailable_may_no_longer_be_true() {
        use super::super::placement::*;
        let obj = ObjRef {
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: "llm-d".into(),
            name: "x".into(),
        };
        let mut fleet = super::super::Fleet::new(&[("wds1".into(), "s".into()), ("its1".into(), "s".into())]);
        for c in fleet.clusters.iter_mut() {
            c.conn = Conn::Live;
        }
        fleet.clusters[0].placement = PlacementCluster {
            policies: Some(vec![Policy { name: "p".into(), ..Default::default() }]),
            bindings: Some(vec![Binding {
                name: "p".into(),
                destinations: vec!["a".into(), "b".into()],
                objects: vec![obj.clone()],
                errors: vec![],
            }]),
            ..Default::default()
        };
        let work = |wec: &str| Work {
            wec: wec.into(),
            name: format!("w-{wec}"),
            binding: "p".into(),
            wds: "wds1".into(),
            objects: vec![obj.clone()],
            applied: Some(true),
            ..Default::default()
        };
        let report = |wec: &str, at: f64| Report {
            wec: wec.into(),
            binding: "p".into(),
            wds: "wds1".into(),
            object: obj.clone(),
            summary: "2/2 ready".into(),
            healthy: Some(true),
            updated_at: Some(at),
        };
        let mc = |name: &str, ok: bool| ManagedCluster { name: name.into(), available: Some(ok), ..Default::default() };
        fleet.clusters[1].placement = PlacementCluster {
            managed: Some(vec![mc("a", true), mc("b", false)]),
            works: Some(vec![work("a"), work("b")]),
            // both written an hour ago: only the unavailable cluster's is in doubt
            reports: Some(vec![report("a", 10_000.0 - 3600.0), report("b", 10_000.0 - 3600.0)]),
            ..Default::default()
        };
        let stale: Vec<Condition> =
            conditions(&fleet, 10_000.0).into_iter().filter(|c| c.kind == "placement-status-stale").collect();
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert_eq!(stale[0].object.name, "p → b");
        assert!(stale[0].reason.contains("last written 60m ago and b is not Available"), "{}", stale[0].reason);
        // written a minute ago: not in doubt yet
        if let Some(r) = fleet.clusters[1].placement.reports.as_mut() {
            r[1].updated_at = Some(10_000.0 - 60.0);
        }
        assert!(!conditions(&fleet, 10_000.0).iter().any(|c| c.kind == "placement-status-stale"));
    }

    #[test]
    fn a_condition_fires_only_after_holding_for_its_for() {
        let mut t = Tracker::new();
        let c = cond("kv-decode", Severity::Critical, "d0", 300.0);
        assert!(t.update(1000.0, vec![c.clone()]), "pending is a change");
        assert!(t.all()[0].pending());
        t.update(1299.0, vec![c.clone()]);
        assert!(t.all()[0].pending(), "299 s of a 300 s for: is still pending");
        t.update(1300.0, vec![c.clone()]);
        let p = t.all()[0].clone();
        assert!(p.firing());
        assert_eq!(p.since, 1000.0, "since is when it started, kept across refreshes");
        assert_eq!(p.fired_at, Some(1300.0));
        t.update(1400.0, vec![c.clone()]);
        assert_eq!(t.all()[0].since, 1000.0);
    }

    #[test]
    fn a_pending_condition_that_clears_never_was_a_problem() {
        let mut t = Tracker::new();
        let c = cond("kv-decode", Severity::Critical, "d0", 300.0);
        t.update(0.0, vec![c.clone()]);
        t.update(200.0, vec![]);
        assert!(t.all().is_empty());
        // and when it comes back, its clock starts again
        t.update(250.0, vec![c.clone()]);
        t.update(500.0, vec![c.clone()]);
        assert!(t.all()[0].pending(), "250 s since it came back");
    }

    #[test]
    fn a_resolved_problem_stays_ten_minutes_with_its_duration() {
        let mut t = Tracker::new();
        let c = cond("pod-crashloop", Severity::Critical, "d0", 0.0);
        t.update(100.0, vec![c.clone()]);
        assert!(t.all()[0].firing(), "no for: fires at once");
        t.update(160.0, vec![]);
        let p = t.all()[0].clone();
        assert!(p.resolved());
        assert_eq!(p.lasted(1000.0), 60.0, "its duration, not the time since");
        // it flaps back: a new problem beside the resolved one
        t.update(170.0, vec![c.clone()]);
        assert_eq!(t.all().len(), 2);
        assert!(t.all()[0].firing() && t.all()[1].resolved());
        t.update(160.0 + RESOLVED_KEPT_S + 1.0, vec![c]);
        assert_eq!(t.all().len(), 1, "gone from the list after ten minutes");
    }

    #[test]
    fn severity_changes_in_place_and_order_is_worst_then_oldest() {
        let mut t = Tracker::new();
        let warn = cond("kv-decode", Severity::Warning, "d0", 0.0);
        let other = cond("pod-not-ready", Severity::Warning, "d1", 0.0);
        t.update(0.0, vec![warn.clone()]);
        t.update(10.0, vec![warn.clone(), other.clone()]);
        let crit = Condition { severity: Severity::Critical, reason: "KV 96% > 95% on decode".into(), ..warn };
        t.update(20.0, vec![crit, other]);
        let all = t.all();
        assert_eq!((all[0].severity, all[0].since), (Severity::Critical, 0.0), "escalated, same since");
        assert_eq!(all[0].reason, "KV 96% > 95% on decode");
        assert_eq!(all[1].object.name, "d1");
        assert_eq!(t.counts(0), (1, 1, 0));
        assert_eq!(t.worst().unwrap().object.name, "d0");
    }

    #[test]
    fn an_autoscaler_at_max_is_a_problem_only_while_saturated() {
        use crate::store::llmd::{Autoscaler, PoolInfo};
        let mut fleet = Fleet::new(&[("c".into(), "s".into())]);
        fleet.clusters[0].conn = Conn::Live;
        let pool = PoolInfo {
            namespace: "llm-d".into(),
            name: "p".into(),
            api_version: "inference.networking.k8s.io/v1".into(),
            selector: Default::default(),
            target_port: None,
            epp_service: None,
            problem: None,
            exported: false,
        };
        let a = Autoscaler {
            kind: "HorizontalPodAutoscaler",
            namespace: "llm-d".into(),
            name: "decode".into(),
            target: "Deployment/decode".into(),
            model_id: None,
            pool: Some("p".into()),
            min: Some(1),
            max: Some(3),
            current: Some(3),
            desired: Some(3),
            limited: None,
            blocked: None,
        };
        fleet.clusters[0].llmd.pools = vec![pool];
        fleet.clusters[0].llmd.autoscalers = vec![a.clone()];
        let kinds = |f: &Fleet| conditions(f, 0.0).iter().map(|c| c.kind).collect::<Vec<_>>();
        assert!(kinds(&fleet).is_empty(), "at max within range is no problem");
        fleet.clusters[0].llmd.autoscalers[0].limited = Some("TooManyReplicas: wants 5".into());
        let c = conditions(&fleet, 0.0);
        assert_eq!((c[0].kind, c[0].severity, c[0].hold_s), ("autoscaler-at-max", Severity::Warning, 300.0));
        assert!(c[0].reason.contains("max of 3"), "{}", c[0].reason);
        assert_eq!(c[0].jump, Jump::Pane { pane: "serving", find: "llm-d/p".into() });
        fleet.clusters[0].llmd.autoscalers[0].current = Some(2);
        assert!(kinds(&fleet).is_empty(), "below its max it can still scale");
        fleet.clusters[0].llmd.autoscalers[0].blocked = Some("ScalingActive: FailedGetExternalMetric".into());
        assert_eq!(kinds(&fleet), vec!["autoscaler-blocked"]);
    }

    #[test]
    fn hold_scale_shortens_every_for() {
        let mut t = Tracker::new();
        t.hold_scale = 0.01;
        let c = cond("kv-decode", Severity::Critical, "d0", 300.0);
        t.update(0.0, vec![c.clone()]);
        t.update(3.0, vec![c]);
        assert!(t.all()[0].firing());
    }
}
