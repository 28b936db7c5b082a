use super::*;
use crate::store::problems::{Jump, Severity};
use crate::store::Conn;

#[test]
fn an_old_status_from_a_cluster_the_hub_calls_unavailable_may_no_longer_be_true() {
    use crate::store::placement::*;
    let obj =
        ObjRef { group: "apps".into(), resource: "deployments".into(), namespace: "llm-d".into(), name: "x".into() };
    let mut fleet = Fleet::new(&[("wds1".into(), "s".into()), ("its1".into(), "s".into())]);
    for c in fleet.clusters.iter_mut() {
        c.conn = Conn::Live;
    }
    fleet.clusters[0].placement = PlacementCluster {
        policies: Some(vec![Policy { name: "p".into(), ..Default::default() }]),
        bindings: Some(vec![Binding {
            name: "p".into(),
            destinations: vec!["a".into(), "b".into()],
            objects: vec![obj.clone()],
            uid: Default::default(),
            generations: Default::default(),
            create_only: Default::default(),
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
        owner: None,
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
        conditions(&fleet, 10_000.0).into_iter().filter(|c| c.kind.id == "placement-status-stale").collect();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].object.name, "p → b");
    assert!(stale[0].reason.contains("last written 60m ago and b is not Available"), "{}", stale[0].reason);
    // written a minute ago: not in doubt yet
    if let Some(r) = fleet.clusters[1].placement.reports.as_mut() {
        r[1].updated_at = Some(10_000.0 - 60.0);
    }
    fleet.placement_changed();
    assert!(!conditions(&fleet, 10_000.0).iter().any(|c| c.kind.id == "placement-status-stale"));
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
        limited_since: None,
        blocked_since: None,
    };
    fleet.clusters[0].llmd.installed = Some(true);
    fleet.clusters[0].llmd.pools = vec![pool];
    fleet.clusters[0].llmd.autoscalers = vec![a.clone()];
    let kinds = |f: &Fleet| conditions(f, 0.0).iter().map(|c| c.kind.id).collect::<Vec<_>>();
    assert!(kinds(&fleet).is_empty(), "at max within range is no problem");
    fleet.clusters[0].llmd.autoscalers[0].limited = Some("TooManyReplicas: wants 5".into());
    let c = conditions(&fleet, 0.0);
    assert_eq!((c[0].kind.id, c[0].severity, c[0].kind.for_s), ("autoscaler-at-max", Severity::Warning, 300.0));
    assert!(c[0].reason.contains("max of 3"), "{}", c[0].reason);
    assert_eq!(c[0].jump, Jump::Pane { pane: crate::store::pane::PaneId::Serving, find: "llm-d/p".into() });
    fleet.clusters[0].llmd.autoscalers[0].current = Some(2);
    assert!(kinds(&fleet).is_empty(), "below its max it can still scale");
    fleet.clusters[0].llmd.autoscalers[0].blocked = Some("ScalingActive: FailedGetExternalMetric".into());
    assert_eq!(kinds(&fleet), vec!["autoscaler-blocked"]);
}

#[test]
fn every_kind_is_in_the_table_once_with_what_the_readme_needs() {
    let mut ids: Vec<&str> = ALL.iter().map(|k| k.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ALL.len(), "kind ids are unique");
    for k in ALL {
        assert!(!k.when.is_empty() && !k.alert.is_empty(), "{} says when it fires and its alertname", k.id);
        if let Some(twin) = k.under {
            let t = by_id(twin).unwrap_or_else(|| panic!("{}: its twin {twin} is in the table", k.id));
            assert!(t.severity <= k.severity && t.id != k.id, "{}: carried by a twin as bad or worse", k.id);
        }
    }
}

#[test]
fn the_rule_file_is_prometheus_grammar() {
    let file = prometheus_rule_file(60.0, 1.0);
    let exprs: Vec<&&Kind> = ALL.iter().filter(|k| k.promql.is_some()).collect();
    assert!(exprs.len() >= 10, "{file}");
    for k in exprs {
        let e = k.promql.unwrap().replace("$w", "60s");
        promql_parser::parser::parse(&e).unwrap_or_else(|err| panic!("{}: {e}: {err}", k.id));
    }
    assert!(file.contains("- alert: EPPCriticalErrorRatio\n"), "{file}");
    assert!(file.contains("for: 300s"), "{file}");
    let scaled = prometheus_rule_file(30.0, 0.01);
    assert!(scaled.contains("for: 3s") && scaled.contains("[30s]"), "{scaled}");
}

/// The README's table of problem kinds, as the table writes it.
pub fn readme_table() -> String {
    let mut out =
        String::from("| kind | alertname | severity | fires when | for: | source |\n|---|---|---|---|---|---|\n");
    for k in ALL {
        let threshold = k
            .cmp
            .map(|c| {
                format!(
                    " {} {}",
                    if c.bad == crate::store::problems::Bad::Above { ">" } else { "<" },
                    c.unit.fmt(c.value)
                )
            })
            .unwrap_or_default();
        let standing = if k.nature == crate::store::problems::Nature::Finding { " (finding)" } else { "" };
        out.push_str(&format!(
            "| `{}` | `{}` | {}{standing} | {}{threshold} | {} | {} |\n",
            k.id,
            k.alert,
            k.severity.name(),
            k.when,
            crate::ui::widgets::fmt::duration(k.for_s as i64),
            k.origin,
        ));
    }
    out
}

#[test]
fn the_readme_lists_every_rule_as_the_table_has_it() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let want = readme_table();
    if !readme.contains(&want) {
        let path = std::env::temp_dir().join("kst-readme-rules.md");
        let _ = std::fs::write(&path, &want);
        panic!(
            "README.md's table of problem kinds differs from the rule table; the table as it should read is in {}",
            path.display()
        );
    }
}
