//! A guarded move (#27, "agent migration" in KubeStellar's plans for AI infrastructure): a
//! BindingPolicy's workloads moved from one cluster to another through its cluster selectors,
//! make-before-break. Preflight (pure, from what kst has read): the target Available, a label
//! that names each of the two clusters alone, the binding controller caught up, the GPUs fit,
//! every singleton status still counted over one WEC afterwards, and nothing else selected or
//! released. Then three writes of `spec.clusterSelectors`, each a JSON patch that first tests the
//! selectors are what kst last saw or wrote (someone else's edit stops the move):
//!
//! 1. widen: the selectors as they are, OR `<label>=<target>`: both clusters selected;
//! 2. once every bound object is Applied on the target and its WorkStatus says healthy, narrow:
//!    each original selector ANDed with `<label> notin (<source>)`, OR the target's selector;
//! 3. on abort, a timeout or a failed narrow: the original selectors written back.
//!
//! The state machine is pure: `observe` reads the fleet, `patched` takes a write's answer, and
//! each returns the next write to send (actions/placement.rs sends it, checked and audited).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::placement::{Cell, ManagedCluster, PolicyView, Selector};
use super::whatif;
use super::Fleet;

/// How long the target may take to be Applied and healthy before the move is undone.
pub const TARGET_TIMEOUT_S: f64 = 300.0;
/// How long the source's ManifestWorks may take to go once the selectors are narrowed.
pub const RELEASE_TIMEOUT_S: f64 = 120.0;

/// One preflight check: passed, failed (the move is refused) or unknown (said, not refused).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: &'static str,
    pub ok: Option<bool>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MovePlan {
    /// The WDS context.
    pub wds: String,
    pub policy: String,
    pub from: String,
    pub to: String,
    /// `spec.clusterSelectors` now, while both are selected, and after the move.
    pub original: Value,
    pub overlap: Value,
    pub moved: Value,
    /// The selectors as kubectl's syntax writes them, for the confirmation.
    pub original_text: String,
    pub overlap_text: String,
    pub moved_text: String,
    /// The objects the policy binds (they move).
    pub objects: usize,
    pub checks: Vec<Check>,
    /// Said in the confirmation: what the overlap costs.
    pub notes: Vec<String>,
}

impl MovePlan {
    /// The first failed check: the move is refused.
    pub fn refused(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.ok == Some(false))
    }
}

/// A label that `cluster` alone carries among the hub's ManagedClusters: `name` first
/// (KubeStellar's documentation labels every WEC `name=<cluster>`), else the first key whose
/// value no other cluster has.
fn naming_label(managed: &[ManagedCluster], cluster: &str) -> Option<(String, String)> {
    let me = managed.iter().find(|m| m.name == cluster)?;
    let alone =
        |k: &str, v: &str| managed.iter().filter(|m| m.labels.get(k).map(String::as_str) == Some(v)).count() == 1;
    let named = me.labels.get("name").filter(|v| alone("name", v)).map(|v| ("name".to_string(), v.clone()));
    named.or_else(|| me.labels.iter().find(|(k, v)| alone(k, v)).map(|(k, v)| (k.clone(), v.clone())))
}

/// The checks that need no plan: the cluster Available, and a label naming it alone.
pub fn quick_check(managed: &[ManagedCluster], cluster: &str) -> Result<(), String> {
    let m = managed.iter().find(|m| m.name == cluster).ok_or("not a ManagedCluster")?;
    if m.available != Some(true) {
        return Err(format!("not Available{}", m.why.as_ref().map(|w| format!(": {w}")).unwrap_or_default()));
    }
    naming_label(managed, cluster).map(|_| ()).ok_or_else(|| "no label names it alone".to_string())
}

fn selectors_text(json: &Value) -> String {
    let s: Vec<String> = json
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let s = Selector::from_json(v);
            if s.0.is_empty() {
                "{}".into()
            } else {
                s.text()
            }
        })
        .collect();
    if s.is_empty() {
        "(none)".into()
    } else {
        s.join(" | ")
    }
}

fn parsed(json: &Value) -> Vec<Selector> {
    json.as_array().into_iter().flatten().map(Selector::from_json).collect()
}

fn view(fleet: &Fleet, wds: &str, policy: &str) -> Option<PolicyView> {
    fleet.placement_views().iter().find(|v| v.wds == wds && v.policy.name == policy && !v.gone).cloned()
}

/// The move of `policy` (on the WDS context `wds`) from cluster `from` to cluster `to`, with
/// its preflight. Err: it cannot even be planned (no such policy, `from` not placed, `to`
/// unknown or already placed).
pub fn plan(fleet: &Fleet, wds: &str, policy: &str, from: &str, to: &str) -> Result<MovePlan, String> {
    let v = view(fleet, wds, policy).ok_or_else(|| format!("no BindingPolicy {policy} on {wds}"))?;
    if !v.clusters.iter().any(|c| c == from) {
        return Err(format!("{policy} places nothing on {from}"));
    }
    if v.clusters.iter().any(|c| c == to) {
        return Err(format!("{policy} already places its objects on {to}"));
    }
    let (_, _, its) = whatif::wds_and_its(fleet, wds).ok_or_else(|| format!("no ITS known for {wds}"))?;
    let managed = its.managed.as_deref().unwrap_or_default();
    let target = managed.iter().find(|m| m.name == to).ok_or_else(|| format!("{to} is not a ManagedCluster"))?;
    let original = v.policy.cluster_selectors_json.clone();
    let Some(terms) = original.as_array() else {
        return Err(format!("{policy} has no clusterSelectors list to edit"));
    };
    let mut checks = Vec::new();
    checks.push(Check {
        what: "target Available",
        ok: target.available,
        detail: match target.available {
            Some(true) => format!("{to}: ManagedClusterConditionAvailable True"),
            Some(false) => format!("{to} is not Available: {}", target.why.clone().unwrap_or_default()),
            None => format!("{to}: the hub says nothing of its availability"),
        },
    });
    let label_of = |c: &str, role: &'static str| {
        match naming_label(managed, c) {
        Some((k, val)) => (Check { what: role, ok: Some(true), detail: format!("{c}: {k}={val}") }, Some((k, val))),
        None => (
            Check {
                what: role,
                ok: Some(false),
                detail: format!(
                    "no label names {c} alone, so no selector can pick it: kubectl label managedcluster {c} name={c} on the ITS"
                ),
            },
            None,
        ),
    }
    };
    let (c, to_label) = label_of(to, "target selectable");
    checks.push(c);
    let (c, from_label) = label_of(from, "source excludable");
    checks.push(c);
    checks.push(match v.policy.generations.behind() {
        None => Check {
            what: "binding controller caught up",
            ok: Some(true),
            detail: "its Binding reflects its spec".into(),
        },
        Some((g, seen)) => Check {
            what: "binding controller caught up",
            ok: Some(false),
            detail: format!(
                "generation {g} not handled yet (last {}): the Binding may not be what the spec says",
                seen.map(|s| s.to_string()).unwrap_or_else(|| "none".into())
            ),
        },
    });
    if !v.policy.errors.is_empty() {
        checks.push(Check { what: "no errors", ok: Some(false), detail: v.policy.errors.join("; ") });
    }
    let (Some((tk, tv)), Some((fk, fv))) = (to_label, from_label) else {
        return Ok(MovePlan {
            wds: wds.into(),
            policy: policy.into(),
            from: from.into(),
            to: to.into(),
            original_text: selectors_text(&original),
            overlap_text: String::new(),
            moved_text: String::new(),
            original: original.clone(),
            overlap: Value::Null,
            moved: Value::Null,
            objects: v.objects.len(),
            checks,
            notes: Vec::new(),
        });
    };
    let target_term = json!({"matchLabels": {tk: tv}});
    let mut overlap = terms.clone();
    overlap.push(target_term.clone());
    let mut moved: Vec<Value> = terms
        .iter()
        .map(|t| {
            let mut t = t.clone();
            let mut exprs = t["matchExpressions"].as_array().cloned().unwrap_or_default();
            exprs.push(json!({"key": fk, "operator": "NotIn", "values": [fv]}));
            t["matchExpressions"] = Value::Array(exprs);
            t
        })
        .collect();
    moved.push(target_term);
    let (overlap, moved) = (Value::Array(overlap), Value::Array(moved));
    // what the binding controller would select: exactly the source swapped for the target
    let after = whatif::cluster_selectors(fleet, wds, policy, &parsed(&moved));
    let want: BTreeSet<&str> = v.clusters.iter().map(String::as_str).filter(|c| *c != from).chain([to]).collect();
    if let Some(w) = &after {
        checks.extend(after_move(w, &want, to));
    }
    let mut notes = Vec::new();
    if let Some(w) = whatif::cluster_selectors(fleet, wds, policy, &parsed(&overlap)) {
        if !w.singleton.is_empty() {
            notes.push(format!(
                "while both clusters are selected, {} singleton status{} not returned (2 WECs)",
                w.singleton.len(),
                if w.singleton.len() == 1 { " is" } else { "es are" }
            ));
        }
    }
    Ok(MovePlan {
        wds: wds.into(),
        policy: policy.into(),
        from: from.into(),
        to: to.into(),
        original_text: selectors_text(&original),
        overlap_text: selectors_text(&overlap),
        moved_text: selectors_text(&moved),
        original,
        overlap,
        moved,
        objects: v.objects.len(),
        checks,
        notes,
    })
}

/// What the moved selectors would select, checked: exactly the source swapped for the target,
/// the target's free GPUs for what the objects ask, and no singleton status left without its one WEC.
fn after_move(w: &whatif::WhatIf, want: &BTreeSet<&str>, to: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let got: BTreeSet<&str> = w.after.iter().map(String::as_str).collect();
    let extra: Vec<&str> = got.difference(want).copied().collect();
    let lost: Vec<&str> = want.difference(&got).copied().collect();
    checks.push(Check {
        what: "nothing else moves",
        ok: Some(extra.is_empty() && lost.is_empty()),
        detail: if extra.is_empty() && lost.is_empty() {
            format!("after: {}", w.after.join(", "))
        } else {
            format!("the edit would also add [{}] and drop [{}]", extra.join(", "), lost.join(", "))
        },
    });
    let gpus = w.added.iter().find(|a| a.cluster == to).and_then(|a| a.gpus);
    checks.push(match gpus {
        None => Check { what: "GPUs fit", ok: Some(true), detail: "its objects request no GPUs".into() },
        Some((need, Some(free))) => Check {
            what: "GPUs fit",
            ok: Some(free as i64 >= need),
            detail: format!("{need} requested, {free} free on {to}"),
        },
        Some((need, None)) => Check {
            what: "GPUs fit",
            ok: None,
            detail: format!("{need} requested; kst does not read {to}'s GPUs (no context for it)"),
        },
    });
    checks.push(Check {
        what: "singleton status stays on one WEC",
        ok: Some(w.singleton.is_empty()),
        detail: if w.singleton.is_empty() {
            "no singleton count changes".into()
        } else {
            w.singleton
                .iter()
                .map(|s| format!("{}: {} -> {} WECs", s.object.text(), s.before, s.after))
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    checks
}

/// A write of the policy's selectors: applied only while they still are `expect`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectorWrite {
    pub expect: Value,
    pub set: Value,
    /// `widen`, `narrow` or `restore`, for the audit line.
    pub step: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// The widening write is out.
    Widening,
    /// Both selected: waiting for every object Applied and healthy on the target.
    AwaitTarget,
    /// The narrowing write is out.
    Narrowing,
    /// Waiting for the source's ManifestWorks to go.
    AwaitRelease,
    /// The original selectors are being written back, and why.
    Restoring(String),
    /// Moved; a warning when the source's works outlived the wait.
    Done(Option<String>),
    /// Undone: the original selectors are back.
    Aborted(String),
    /// A write failed; says what the policy selects now.
    Failed(String),
}

impl Phase {
    pub fn finished(&self) -> bool {
        matches!(self, Phase::Done(_) | Phase::Aborted(_) | Phase::Failed(_))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveRun {
    pub plan: MovePlan,
    pub phase: Phase,
    pub started: f64,
    /// When the phase began (timeouts count from it).
    pub since: f64,
    pub target_timeout: f64,
    /// Asked to stop while the widening write was out: undone once it answers.
    abort_asked: Option<String>,
}

/// An object's cell on a cluster of the policy's matrix (None: not a destination yet).
pub fn cells_on(fleet: &Fleet, plan: &MovePlan, cluster: &str) -> Vec<(String, Option<Cell>)> {
    let Some(v) = view(fleet, &plan.wds, &plan.policy) else { return Vec::new() };
    let col = v.clusters.iter().position(|c| c == cluster);
    v.objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.text(), col.and_then(|c| v.cells.get(i).and_then(|r| r.get(c)).cloned())))
        .collect()
}

fn healthy(c: &Option<Cell>) -> bool {
    matches!(c, Some(Cell::Reported { healthy: Some(true), .. }))
}

/// The source released: no longer a destination, and no ManifestWork of this policy left there.
fn released(fleet: &Fleet, plan: &MovePlan) -> bool {
    let Some(v) = view(fleet, &plan.wds, &plan.policy) else { return false };
    let Some((_, name, its)) = whatif::wds_and_its(fleet, &plan.wds) else { return false };
    !v.clusters.contains(&plan.from)
        && !its.works.iter().flatten().any(|w| w.wds == name && w.binding == plan.policy && w.wec == plan.from)
}

impl MoveRun {
    /// Confirmed: the first write (both clusters selected).
    pub fn start(plan: MovePlan, now: f64, target_timeout: f64) -> (MoveRun, SelectorWrite) {
        let w = SelectorWrite { expect: plan.original.clone(), set: plan.overlap.clone(), step: "widen" };
        (MoveRun { plan, phase: Phase::Widening, started: now, since: now, target_timeout, abort_asked: None }, w)
    }

    fn enter(&mut self, phase: Phase, now: f64) {
        self.phase = phase;
        self.since = now;
    }

    fn restore(&mut self, why: String, now: f64) -> SelectorWrite {
        self.enter(Phase::Restoring(why), now);
        SelectorWrite { expect: self.plan.overlap.clone(), set: self.plan.original.clone(), step: "restore" }
    }

    /// The answer to the last write.
    pub fn patched(&mut self, result: Result<(), String>, now: f64) -> Option<SelectorWrite> {
        match (&self.phase, result) {
            (Phase::Widening, Err(e)) => {
                self.enter(Phase::Failed(format!("nothing changed: the widening write failed: {e}")), now);
                None
            }
            (Phase::Widening, Ok(())) => match self.abort_asked.take() {
                Some(why) => Some(self.restore(why, now)),
                None => {
                    self.enter(Phase::AwaitTarget, now);
                    None
                }
            },
            (Phase::Narrowing, Ok(())) => {
                self.enter(Phase::AwaitRelease, now);
                None
            }
            (Phase::Narrowing, Err(e)) => Some(self.restore(format!("the narrowing write failed: {e}"), now)),
            (Phase::Restoring(why), Ok(())) => {
                let why = why.clone();
                self.enter(Phase::Aborted(why), now);
                None
            }
            (Phase::Restoring(why), Err(e)) => {
                let msg = format!(
                    "{why}; then writing the original selectors back failed ({e}): {} selects both {} and {}",
                    self.plan.policy, self.plan.from, self.plan.to
                );
                self.enter(Phase::Failed(msg), now);
                None
            }
            _ => None,
        }
    }

    /// The fleet as it is now: the next write, when a wait is over.
    pub fn observe(&mut self, fleet: &Fleet, now: f64) -> Option<SelectorWrite> {
        match self.phase {
            Phase::AwaitTarget => {
                let cells = cells_on(fleet, &self.plan, &self.plan.to);
                if !cells.is_empty() && cells.iter().all(|(_, c)| healthy(c)) {
                    self.enter(Phase::Narrowing, now);
                    return Some(SelectorWrite {
                        expect: self.plan.overlap.clone(),
                        set: self.plan.moved.clone(),
                        step: "narrow",
                    });
                }
                if now - self.since >= self.target_timeout {
                    let waiting: Vec<String> = cells
                        .iter()
                        .filter(|(_, c)| !healthy(c))
                        .map(|(o, c)| {
                            format!("{o} {}", c.as_ref().map(Cell::short).unwrap_or_else(|| "not bound yet".into()))
                        })
                        .collect();
                    let why = format!(
                        "{} not healthy on {} after {:.0} s: {}",
                        if waiting.len() == 1 { "an object was" } else { "objects were" },
                        self.plan.to,
                        self.target_timeout,
                        waiting.join(", ")
                    );
                    return Some(self.restore(why, now));
                }
                None
            }
            Phase::AwaitRelease => {
                if released(fleet, &self.plan) {
                    self.enter(Phase::Done(None), now);
                } else if now - self.since >= RELEASE_TIMEOUT_S {
                    let warn = format!(
                        "the policy no longer selects {}, but its ManifestWorks there are still present after {RELEASE_TIMEOUT_S:.0} s: the transport controller has not pruned them (the drift shows it)",
                        self.plan.from
                    );
                    self.enter(Phase::Done(Some(warn)), now);
                }
                None
            }
            _ => None,
        }
    }

    /// The user stops the move: undone where it can be (before the narrowing write).
    pub fn abort(&mut self, now: f64) -> Option<SelectorWrite> {
        let why = "stopped by the user".to_string();
        match self.phase {
            Phase::Widening => {
                self.abort_asked = Some(why);
                None
            }
            Phase::AwaitTarget => Some(self.restore(why, now)),
            _ => None,
        }
    }

    /// What the move is doing, in one line.
    pub fn status(&self, now: f64) -> String {
        let (p, from, to) = (&self.plan.policy, &self.plan.from, &self.plan.to);
        let waited = now - self.since;
        match &self.phase {
            Phase::Widening => format!("{p}: selecting {to} beside {from}…"),
            Phase::AwaitTarget => format!(
                "{p}: waiting for every object Applied and healthy on {to} ({waited:.0} of {:.0} s)",
                self.target_timeout
            ),
            Phase::Narrowing => format!("{p}: {to} is healthy; releasing {from}…"),
            Phase::AwaitRelease => format!("{p}: waiting for {from}'s ManifestWorks to go ({waited:.0} s)"),
            Phase::Restoring(why) => format!("{p}: undoing ({why})…"),
            Phase::Done(None) => format!("{p} moved from {from} to {to}"),
            Phase::Done(Some(w)) => format!("{p} moved to {to}; {w}"),
            Phase::Aborted(why) => format!("{p} left on {from}: {why}; the original selectors are back"),
            Phase::Failed(why) => format!("{p}: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::placement::{Binding, ManagedCluster, ObjRef, PlacementCluster, Policy, Report, Work};

    fn obj(n: &str) -> ObjRef {
        ObjRef { group: "apps".into(), resource: "deployments".into(), namespace: "llm-d".into(), name: n.into() }
    }

    fn mc(name: &str, ok: bool) -> ManagedCluster {
        ManagedCluster {
            name: name.into(),
            labels: std::collections::BTreeMap::from([
                ("name".to_string(), name.to_string()),
                ("tier".to_string(), "gpu".to_string()),
            ])
            .into(),
            available: Some(ok),
            ..Default::default()
        }
    }

    /// A WDS with policy `p` selecting `a` by `name=a`, and an ITS knowing a, b (Available) and
    /// c (not); `dests` are the Binding's destinations, `works` the clusters holding p's work,
    /// healthy where listed in `healthy`.
    fn fleet(dests: &[&str], works: &[&str], healthy: &[&str]) -> Fleet {
        let mut f = Fleet::new(&[("wds1".into(), "https://w".into()), ("its1".into(), "https://i".into())]);
        f.clusters[0].placement = PlacementCluster {
            listed: true,
            policies: Some(vec![Policy {
                name: "p".into(),
                cluster_selectors: vec![Selector::from_json(&json!({"matchLabels": {"name": "a"}}))],
                cluster_selectors_json: json!([{"matchLabels": {"name": "a"}}]),
                ..Default::default()
            }]),
            bindings: Some(vec![Binding {
                name: "p".into(),
                destinations: dests.iter().map(|s| s.to_string()).collect(),
                objects: vec![obj("m")],
                ..Default::default()
            }]),
            objects: Some(Vec::new()),
            ..Default::default()
        };
        f.clusters[1].placement = PlacementCluster {
            listed: true,
            managed: Some(vec![mc("a", true), mc("b", true), mc("c", false)]),
            works: Some(
                works
                    .iter()
                    .map(|w| Work {
                        wec: w.to_string(),
                        name: format!("work-{w}"),
                        uid: format!("uid-{w}"),
                        binding: "p".into(),
                        wds: "wds1".into(),
                        objects: vec![obj("m")],
                        applied: Some(true),
                        ..Default::default()
                    })
                    .collect(),
            ),
            reports: Some(
                healthy
                    .iter()
                    .map(|w| Report {
                        wec: w.to_string(),
                        binding: "p".into(),
                        wds: "wds1".into(),
                        object: obj("m"),
                        summary: "1/1 ready".into(),
                        healthy: Some(true),
                        owner: Some(format!("uid-{w}")),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        f
    }

    #[test]
    fn a_plan_widens_then_narrows_by_the_clusters_own_labels() {
        let f = fleet(&["a"], &["a"], &["a"]);
        let p = plan(&f, "wds1", "p", "a", "b").unwrap();
        assert_eq!(p.refused(), None, "{:#?}", p.checks);
        assert_eq!(p.overlap, json!([{"matchLabels": {"name": "a"}}, {"matchLabels": {"name": "b"}}]));
        assert_eq!(
            p.moved,
            json!([{"matchLabels": {"name": "a"}, "matchExpressions": [{"key": "name", "operator": "NotIn", "values": ["a"]}]},
                   {"matchLabels": {"name": "b"}}])
        );
        assert_eq!(p.moved_text, "name=a,name notin (a) | name=b");
        // the edit selects exactly b (what the binding controller would do)
        let w = whatif::cluster_selectors(&f, "wds1", "p", &parsed(&p.moved)).unwrap();
        assert_eq!(w.after, ["b"]);
    }

    #[test]
    fn preflight_refuses_an_unavailable_or_unnameable_target_and_a_lagging_controller() {
        let f = fleet(&["a"], &["a"], &["a"]);
        let p = plan(&f, "wds1", "p", "a", "c").unwrap();
        assert_eq!(p.refused().map(|c| c.what), Some("target Available"));
        let mut f = fleet(&["a"], &["a"], &["a"]);
        let managed = f.clusters[1].placement.managed.as_mut().unwrap();
        std::sync::Arc::make_mut(&mut managed[1].labels).remove("name");
        std::sync::Arc::make_mut(&mut managed[1].labels).insert("tier".into(), "gpu".into());
        f.placement_changed();
        let p = plan(&f, "wds1", "p", "a", "b").unwrap();
        let c = p.refused().expect("b has no label of its own");
        assert_eq!(c.what, "target selectable");
        assert!(c.detail.contains("label managedcluster b name=b"), "{}", c.detail);
        let mut f = fleet(&["a"], &["a"], &["a"]);
        f.clusters[0].placement.policies.as_mut().unwrap()[0].generations =
            crate::store::placement::Generations { generation: Some(3), observed: Some(2) };
        f.placement_changed();
        assert_eq!(
            plan(&f, "wds1", "p", "a", "b").unwrap().refused().map(|c| c.what),
            Some("binding controller caught up")
        );
        assert!(plan(&f, "wds1", "p", "b", "a").is_err(), "nothing of p on b");
        assert!(plan(&f, "wds1", "p", "a", "a").is_err(), "already there");
    }

    /// The waits: narrowed only once the target is healthy; undone on a timeout or when the user
    /// stops it; a failed restore says the policy selects both.
    #[test]
    fn the_run_waits_for_health_and_undoes_on_timeout_or_abort() {
        let f = fleet(&["a"], &["a"], &["a"]);
        let p = plan(&f, "wds1", "p", "a", "b").unwrap();
        let (mut run, w) = MoveRun::start(p.clone(), 0.0, 60.0);
        assert_eq!((w.step, &w.expect, &w.set), ("widen", &p.original, &p.overlap));
        assert_eq!(run.patched(Ok(()), 1.0), None);
        assert_eq!(run.phase, Phase::AwaitTarget);
        // b bound and its work applied, no healthy report yet: wait
        let both = fleet(&["a", "b"], &["a", "b"], &["a"]);
        assert_eq!(run.observe(&both, 10.0), None);
        let healthy = fleet(&["a", "b"], &["a", "b"], &["a", "b"]);
        let w = run.observe(&healthy, 11.0).expect("narrow");
        assert_eq!((w.step, &w.expect, &w.set), ("narrow", &p.overlap, &p.moved));
        assert_eq!(run.patched(Ok(()), 12.0), None);
        // the Binding says b only, a's work still there: not yet released
        assert_eq!(run.observe(&fleet(&["b"], &["a", "b"], &["b"]), 13.0), None);
        assert_eq!(run.phase, Phase::AwaitRelease);
        run.observe(&fleet(&["b"], &["b"], &["b"]), 14.0);
        assert_eq!(run.phase, Phase::Done(None));

        // the target never healthy: undone after the timeout, naming what waited
        let (mut run, _) = MoveRun::start(p.clone(), 0.0, 60.0);
        run.patched(Ok(()), 1.0);
        assert_eq!(run.observe(&both, 30.0), None);
        let w = run.observe(&both, 61.0).expect("restore");
        assert_eq!((w.step, &w.expect, &w.set), ("restore", &p.overlap, &p.original));
        let Phase::Restoring(why) = &run.phase else { panic!("{:?}", run.phase) };
        assert!(why.contains("not healthy on b after 60 s") && why.contains("llm-d/m ○ applied"), "{why}");
        run.patched(Ok(()), 62.0);
        assert!(matches!(&run.phase, Phase::Aborted(w) if w.contains("after 60 s")));

        // stopped while the first write is out: undone once it lands
        let (mut run, _) = MoveRun::start(p.clone(), 0.0, 60.0);
        assert_eq!(run.abort(0.5), None);
        let w = run.patched(Ok(()), 1.0).expect("restore");
        assert_eq!(w.step, "restore");
        assert_eq!(run.patched(Err("409 conflict".into()), 2.0), None);
        assert!(matches!(&run.phase, Phase::Failed(m) if m.contains("selects both a and b")), "{:?}", run.phase);

        // the first write refused: nothing changed
        let (mut run, _) = MoveRun::start(p, 0.0, 60.0);
        run.patched(Err("422 test failed".into()), 1.0);
        assert!(matches!(&run.phase, Phase::Failed(m) if m.starts_with("nothing changed")));
    }
}
