use super::*;
use crate::store::problems::{Bad, Cmp, Condition, Domain, Kind, Unit};

const fn kind(id: &'static str, severity: Severity, for_s: f64, sight: Sight, nature: Nature) -> Kind {
    Kind {
        id,
        alert: id,
        severity,
        for_s,
        domain: Domain::Serving,
        sight,
        nature,
        cmp: None,
        under: None,
        when: "",
        origin: "",
        promql: None,
    }
}

static KV_CRIT: Kind = Kind {
    cmp: Some(Cmp { what: "KV", bad: Bad::Above, value: 0.95, unit: Unit::Ratio }),
    ..kind("kv-decode", Severity::Critical, 300.0, Sight::Metrics, Nature::Incident)
};
static KV_WARN: Kind =
    Kind { under: Some("kv-decode"), ..kind("kv", Severity::Warning, 300.0, Sight::Metrics, Nature::Incident) };
static CRASH: Kind = kind("pod-crashloop", Severity::Critical, 0.0, Sight::Workloads, Nature::Incident);
static NOT_READY: Kind = kind("pod-not-ready", Severity::Warning, 0.0, Sight::Workloads, Nature::Incident);
static POSTURE: Kind = kind("security-critical", Severity::Critical, 0.0, Sight::Agents, Nature::Finding);
static DOWN: Kind = Kind {
    domain: Domain::Cluster,
    ..kind("cluster-unreachable", Severity::Critical, 0.0, Sight::Conn, Nature::Incident)
};

fn cond(k: &'static Kind, name: &str) -> Condition {
    Condition::new(
        k,
        Some(0),
        Object::new("Pod", "llm-d", name),
        format!("{} on {name}", k.id),
        Jump::Pod { namespace: "llm-d".into(), name: name.into() },
    )
}

fn eval(conditions: Vec<Condition>) -> Evaluation {
    Evaluation { conditions, blind: vec![], contexts: vec!["c".into()] }
}

fn blind(conditions: Vec<Condition>, sight: Sight, why: &str) -> Evaluation {
    let mut e = eval(conditions);
    e.blind(Some(0), sight, None, why);
    e
}

/// A tracker that has watched cluster `c` since `t0` without seeing anything.
fn watching(t0: f64) -> Tracker {
    let mut t = Tracker::new();
    t.update(t0, eval(vec![]));
    t
}

#[test]
fn a_condition_fires_only_after_holding_for_its_for() {
    let mut t = watching(900.0);
    let c = cond(&KV_CRIT, "d0");
    assert!(t.update(1000.0, eval(vec![c.clone()])), "pending is a change");
    assert!(t.all()[0].pending());
    assert!(!t.all()[0].since_lower_bound, "kst watched 100 s without it: it started now");
    t.update(1299.0, eval(vec![c.clone()]));
    assert!(t.all()[0].pending(), "299 s of a 300 s for: is still pending");
    t.update(1300.0, eval(vec![c.clone()]));
    let p = t.all()[0].clone();
    assert!(p.firing());
    assert_eq!(p.since, 1000.0, "since is when it started, kept across refreshes");
    assert_eq!(p.fired_at, Some(1300.0));
}

#[test]
fn a_pending_condition_that_clears_never_was_a_problem() {
    let mut t = watching(0.0);
    let c = cond(&KV_CRIT, "d0");
    t.update(100.0, eval(vec![c.clone()]));
    t.update(200.0, eval(vec![]));
    assert!(t.all().is_empty());
    // and when it comes back, its clock starts again
    t.update(250.0, eval(vec![c.clone()]));
    t.update(500.0, eval(vec![c]));
    assert!(t.all()[0].pending(), "250 s since it came back");
}

#[test]
fn a_resolved_problem_stays_ten_minutes_with_its_duration() {
    let mut t = watching(0.0);
    let c = cond(&CRASH, "d0");
    t.update(100.0, eval(vec![c.clone()]));
    assert!(t.all()[0].firing(), "no for: fires at once");
    t.update(160.0, eval(vec![]));
    let p = t.all()[0].clone();
    assert!(p.resolved());
    assert_eq!(p.lasted(1000.0), 60.0, "its duration, not the time since");
    // it flaps back: a new problem beside the resolved one
    t.update(170.0, eval(vec![c.clone()]));
    assert_eq!(t.all().len(), 2);
    assert!(t.all()[0].firing() && t.all()[1].resolved());
    t.update(160.0 + RESOLVED_KEPT_S + 1.0, eval(vec![c]));
    assert_eq!(t.all().len(), 1, "gone from the list after ten minutes");
}

#[test]
fn a_problem_kst_cannot_see_is_unknown_never_resolved() {
    let mut t = watching(0.0);
    let c = cond(&CRASH, "d0");
    t.update(100.0, eval(vec![c.clone()]));
    // the cluster's pods cannot be listed: the crash loop is neither current nor resolved
    assert!(t.update(110.0, blind(vec![], Sight::Workloads, "cluster unreachable")));
    let p = t.all()[0].clone();
    assert!(p.is_unknown() && !p.resolved() && !p.firing(), "{p:?}");
    assert_eq!(p.unknown.as_ref().map(|u| (u.since, u.why.as_str())), Some((110.0, "cluster unreachable")));
    assert_eq!(t.totals().critical, 0, "not counted as a firing incident");
    assert_eq!(t.unknown().count(), 1, "counted apart");
    // still blind a minute later: still unknown, since when unchanged
    assert!(!t.update(170.0, blind(vec![], Sight::Workloads, "cluster unreachable")), "nothing changed");
    // back, still crash-looping: the same problem, its start unchanged
    t.update(200.0, eval(vec![c.clone()]));
    let p = t.all()[0].clone();
    assert!(p.firing() && p.unknown.is_none());
    assert_eq!(p.since, 100.0);
    // a sight that is not the rule's takes nothing away
    t.update(210.0, blind(vec![c.clone()], Sight::Metrics, "metrics old"));
    assert!(t.all()[0].firing());
    // seen gone: resolved, with its whole duration
    t.update(300.0, eval(vec![]));
    assert!(t.all()[0].resolved());
    assert_eq!(t.all()[0].lasted(1e9), 200.0);
}

#[test]
fn an_object_blind_spot_keeps_only_that_object_unknown() {
    let mut t = watching(0.0);
    t.update(100.0, eval(vec![cond(&KV_CRIT, "a"), cond(&KV_CRIT, "b")]));
    let mut e = eval(vec![]);
    e.blind(Some(0), Sight::Metrics, Some(Object::new("Pod", "llm-d", "a")), "metrics 40s old");
    t.update(110.0, e);
    let states: Vec<(String, &str)> = t.all().iter().map(|p| (p.object.name.clone(), p.state())).collect();
    assert!(states.contains(&("a".into(), "unknown")), "{states:?}");
    assert!(!states.iter().any(|(n, _)| n == "b"), "b was pending and is seen gone: dropped");
}

#[test]
fn the_cluster_s_own_record_gives_the_age_and_fires_at_once() {
    let mut t = Tracker::new();
    // kst starts during a crash loop that began an hour ago (the pod's Ready transition)
    t.update(10_000.0, eval(vec![cond(&KV_CRIT, "d0").since(Some(6_400.0))]));
    let p = t.all()[0].clone();
    assert_eq!(p.since, 6_400.0, "the record's start, not kst's");
    assert!(!p.since_lower_bound);
    assert!(p.firing(), "held past its 5 m for: by the record: fires in the first evaluation");
    assert_eq!(p.fired_at, Some(6_700.0), "when a rule engine watching all along would have fired it");
    // no record: what kst saw first, and it says that is a lower bound
    t.update(10_001.0, eval(vec![cond(&KV_CRIT, "d0").since(Some(6_400.0)), cond(&CRASH, "d1")]));
    let d1 = t.all().into_iter().find(|p| p.object.name == "d1").unwrap().clone();
    assert!(d1.since_lower_bound && d1.since == 10_001.0, "{d1:?}");
    // a record arriving later (a pod's condition read on the next list) corrects a lower bound
    t.update(10_002.0, eval(vec![cond(&CRASH, "d1").since(Some(9_000.0))]));
    let d1 = t.all().into_iter().find(|p| p.object.name == "d1").unwrap().clone();
    assert!(!d1.since_lower_bound && d1.since == 9_000.0, "{d1:?}");
    // a record in the future (a skewed clock) is now
    t.update(10_003.0, eval(vec![cond(&NOT_READY, "d2").since(Some(20_000.0))]));
    assert_eq!(t.all().into_iter().find(|p| p.object.name == "d2").unwrap().since, 10_003.0);
}

#[test]
fn first_seen_is_a_lower_bound_until_kst_has_watched_a_while() {
    let mut t = Tracker::new();
    t.settle_s = 10.0;
    t.update(100.0, eval(vec![cond(&CRASH, "a")]));
    t.update(105.0, eval(vec![cond(&CRASH, "a"), cond(&CRASH, "b")]));
    t.update(120.0, eval(vec![cond(&CRASH, "a"), cond(&CRASH, "b"), cond(&CRASH, "c")]));
    let lb = |n: &str| t.all().into_iter().find(|p| p.object.name == n).unwrap().since_lower_bound;
    assert!(lb("a"), "there when kst first looked");
    assert!(lb("b"), "5 s after kst started: the data may still have been arriving");
    assert!(!lb("c"), "20 s of watching without it: it started now");
    // a cluster that comes back after being blind starts settling again
    let mut t = watching(0.0);
    t.update(100.0, blind(vec![], Sight::Workloads, "cluster unreachable"));
    t.update(101.0, eval(vec![cond(&CRASH, "d")]));
    assert!(t.all()[0].since_lower_bound, "kst was blind before: it may have started then");
}

#[test]
fn standing_findings_sit_below_a_fresh_incident_and_do_not_count() {
    let mut t = Tracker::new();
    // at kst's first look: a posture finding (there before kst) and nothing else
    t.update(0.0, eval(vec![cond(&POSTURE, "agent-a")]));
    let p = t.all()[0].clone();
    assert!(p.firing() && p.standing, "there before kst first watched: standing");
    assert_eq!(t.totals().critical, 0, "a standing finding is not in the header's count");
    // later, an outage, then a new finding while kst watches
    t.update(100.0, eval(vec![cond(&POSTURE, "agent-a"), cond(&CRASH, "d0")]));
    t.update(101.0, eval(vec![cond(&POSTURE, "agent-a"), cond(&CRASH, "d0"), cond(&POSTURE, "agent-b")]));
    let all = t.all();
    assert_eq!(all[0].object.name, "agent-b", "newest first among firing criticals: {all:?}");
    assert_eq!(all[1].object.name, "d0");
    assert_eq!(all[2].object.name, "agent-a", "standing last");
    assert!(!all[0].standing, "a finding that appears while kst watches is an incident");
    assert_eq!(t.totals().critical, 2);
    // a day later the new finding, unchanged, is standing too
    t.update(
        101.0 + STANDING_AFTER_S,
        eval(vec![cond(&POSTURE, "agent-a"), cond(&CRASH, "d0"), cond(&POSTURE, "agent-b")]),
    );
    assert_eq!(t.totals().critical, 1, "only the crash loop counts; an incident never turns standing");
    // a record older than kst's first watch is standing too
    let mut t = watching(1000.0);
    t.update(2000.0, eval(vec![cond(&POSTURE, "old").since(Some(500.0)), cond(&POSTURE, "new").since(Some(1500.0))]));
    let standing: Vec<&str> = t.all().iter().filter(|p| p.standing).map(|p| p.object.name.as_str()).collect();
    assert_eq!(standing, vec!["old"]);
}

#[test]
fn a_cluster_down_carries_its_problems_and_a_critical_its_warning() {
    let mut t = watching(0.0);
    let down = Condition::new(
        &DOWN,
        Some(0),
        Object::new("Cluster", "", "c"),
        "unreachable".into(),
        Jump::Pane { pane: crate::store::pane::PaneId::Overview, find: "c".into() },
    );
    t.update(10.0, eval(vec![cond(&CRASH, "d0"), cond(&NOT_READY, "d1")]));
    let mut e = eval(vec![down.clone()]);
    for s in [Sight::Workloads, Sight::Metrics] {
        e.blind(Some(0), s, None, "cluster unreachable");
    }
    t.update(20.0, e);
    let all = t.all();
    assert_eq!(all[0].kind, "cluster-unreachable");
    assert!(all[1..].iter().all(|p| p.under.as_ref().is_some_and(|u| u.0 == "cluster-unreachable") && p.is_unknown()));
    assert_eq!(t.totals(), Counts { critical: 1, warning: 0, info: 0 }, "the outage counted once");
    // a warning under its firing critical twin on the same object
    let mut t = watching(0.0);
    t.hold_scale = 1e-9;
    let three = || eval(vec![cond(&KV_WARN, "d0"), cond(&KV_CRIT, "d0"), cond(&KV_WARN, "d1")]);
    t.update(100.0, three());
    t.update(101.0, three());
    let all = t.all();
    let w0 = all.iter().find(|p| p.kind == "kv" && p.object.name == "d0").unwrap();
    assert_eq!(w0.under.as_ref().map(|u| u.0), Some("kv-decode"));
    assert_eq!(t.totals(), Counts { critical: 1, warning: 1, info: 0 }, "d0 once, d1's warning alone");
    let at = |n: &str, k: &str| all.iter().position(|p| p.kind == k && p.object.name == n).unwrap();
    assert_eq!(at("d0", "kv"), at("d0", "kv-decode") + 1, "listed right under it");
}

#[test]
fn kept_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("problems.json");
    let mut t = watching(0.0);
    t.update(100.0, eval(vec![cond(&CRASH, "d0"), cond(&NOT_READY, "d1")]));
    t.update(200.0, eval(vec![cond(&CRASH, "d0")]));
    super::super::save(&t, &path, 200.0).unwrap();
    let lookup = |id: &str| [&CRASH, &NOT_READY].into_iter().find(|k| k.id == id);
    let mut back = Tracker::new();
    let n = super::super::load(&mut back, &path, &["c".to_string()], lookup, 260.0).unwrap();
    assert_eq!(n, 2, "the open crash loop and the resolved not-ready");
    let all = back.all();
    let d0 = all.iter().find(|p| p.object.name == "d0").unwrap();
    assert_eq!((d0.since, d0.state()), (100.0, "unknown"), "its age kept; unknown until kst looks again");
    assert_eq!(d0.unknown.as_ref().unwrap().why, "kst was not running");
    assert!(all.iter().any(|p| p.object.name == "d1" && p.resolved()), "the resolved history kept");
    assert_eq!(back.first_watched("c"), Some(0.0));
    // kst looks again and the pod still crash-loops: firing, with the age it had
    back.update(270.0, eval(vec![cond(&CRASH, "d0")]));
    let d0 = back.all().into_iter().find(|p| p.object.name == "d0").unwrap().clone();
    assert!(d0.firing() && d0.since == 100.0);
    // a context that is gone, a kind kst no longer has, a corrupt file: ignored
    let mut other = Tracker::new();
    assert_eq!(super::super::load(&mut other, &path, &["x".to_string()], lookup, 260.0), Ok(0));
    std::fs::write(&path, b"{not json").unwrap();
    assert!(super::super::load(&mut Tracker::new(), &path, &["c".to_string()], lookup, 260.0).is_err());
    assert_eq!(super::super::load(&mut Tracker::new(), &dir.path().join("none"), &[], lookup, 0.0), Ok(0));
}

#[test]
fn hold_scale_shortens_every_for() {
    let mut t = watching(0.0);
    t.hold_scale = 0.01;
    let c = cond(&KV_CRIT, "d0");
    t.update(100.0, eval(vec![c.clone()]));
    t.update(103.0, eval(vec![c]));
    assert!(t.all()[0].firing());
}
