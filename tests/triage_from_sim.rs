//! Triage end to end: the real collectors read the simulator while its incidents are switched
//! on (KV surge, TTFT spike, error burst, WVA at max) and a cluster goes down; every problem
//! kind of the seeded scenario appears with its severity and cluster, Enter on each leads to
//! its source, and a cleared fault's problem resolves and stays listed, dimmed, with how long
//! it lasted. Rules' `for:` are scaled by 0.01 (5 minutes -> 3 s), as `kst demo` scales them
//! by 0.1, so the test waits seconds instead of minutes.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::store::problems::{Jump, Severity};
use kst::store::Fleet;
use kst::theme::Theme;
use kst::ui::{App, Mode};
use kst_sim::faults::Incident;

/// Applies updates and evaluates the problems once a 100 ms until `done` holds.
async fn triage_until(
    fleet: &mut Fleet,
    updates: &mut tokio::sync::mpsc::Receiver<kst::store::Update>,
    what: &str,
    done: impl Fn(&Fleet) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        fleet.evaluate_problems(common::now_s());
        if done(fleet) {
            return;
        }
        let summary = || {
            fleet
                .problems
                .all()
                .iter()
                .map(|p| {
                    format!("{} {:?} {} {}: {}", p.kind, p.severity, p.cluster.unwrap_or(99), p.object.path(), p.reason)
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}; problems:\n{}", summary());
        let tick = tokio::time::sleep(Duration::from_millis(100));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                u = updates.recv() => match u {
                    Some(u) => { fleet.apply(u); }
                    None => panic!("collectors stopped"),
                },
                _ = &mut tick => break,
            }
        }
    }
}

fn firing(f: &Fleet, kind: &str, cluster: usize, severity: Severity) -> bool {
    f.problems.firing().any(|p| p.kind == kind && p.cluster == Some(cluster) && p.severity == severity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_kind_fires_leads_to_its_source_and_resolves() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    // rates over 3 s, so an incident shows in the numbers within seconds
    fleet.set_metrics(0.3, Some(3.0), None);
    fleet.problems.hold_scale = 0.01;
    let mut col = kst::sources::Collectors::start(&targets, common::fast_worker());
    let (east, west, agents) = (0, 1, 2);
    assert_eq!(targets[west].context, "gpu-eu-west");

    // the seeded scenario's own trouble
    let expected: &[(&str, usize, Severity)] = &[
        ("pod-crashloop", west, Severity::Critical),
        ("epp-routes-to-unready", west, Severity::Warning),
        ("job-failed", west, Severity::Warning),
        ("epp-metrics-auth", east, Severity::Info),
        ("agent-failing", agents, Severity::Critical),
        ("security-critical", agents, Severity::Critical),
        ("build-failed", agents, Severity::Warning),
        ("tool-server-unreachable", agents, Severity::Warning),
    ];
    triage_until(&mut fleet, &mut col.updates, "the scenario's problems", |f| {
        expected.iter().all(|(k, c, s)| firing(f, k, *c, *s))
    })
    .await;

    // the incidents: each crosses its rule's critical threshold (the WVA's is a warning)
    let cluster = |name: &str| sim.cluster(name).unwrap().clone();
    cluster("gpu-us-east").faults.set_incident(Incident::KvSurge, true);
    cluster("gpu-us-east").faults.set_incident(Incident::TtftSpike, true);
    cluster("gpu-us-east").faults.set_incident(Incident::ErrorBurst, true);
    cluster("gpu-eu-west").faults.set_incident(Incident::WvaAtMax, true);
    let incidents: &[(&str, usize, Severity)] = &[
        ("kv-decode", east, Severity::Critical),
        ("ttft-p99", east, Severity::Critical),
        ("error-ratio", east, Severity::Critical),
        ("autoscaler-at-max", west, Severity::Warning),
    ];
    triage_until(&mut fleet, &mut col.updates, "the incidents' problems", |f| {
        incidents.iter().all(|(k, c, s)| firing(f, k, *c, *s))
    })
    .await;
    let kv = fleet.problems.firing().find(|p| p.kind == "kv-decode").unwrap().clone();
    assert_eq!(kv.reason, "KV 96% > 95% on decode", "the value and the threshold");
    assert!(kv.fired_at.unwrap() - kv.since >= 3.0 - 0.01, "held for its for: (300 s x 0.01) before firing");
    let wva = fleet.problems.firing().find(|p| p.kind == "autoscaler-at-max").unwrap().clone();
    assert!(wva.reason.contains("Deployment/llama-70b-decode at its max of 3"), "{}", wva.reason);

    // the crash loop's age is the pod's own record (not Ready for an hour), not the test's
    let crash = fleet.problems.firing().find(|p| p.kind == "pod-crashloop").unwrap().clone();
    assert!(!crash.since_lower_bound && common::now_s() - crash.since > 3000.0, "{crash:?}");

    // a cluster goes down: critical at once; its own problems are not resolved but unknown,
    // carried by the outage (counted once), with their age kept
    let failing_since = fleet.problems.firing().find(|p| p.kind == "agent-failing").unwrap().since;
    cluster("agents-us-central").faults.set_unreachable(true);
    triage_until(&mut fleet, &mut col.updates, "agents-us-central unreachable", |f| {
        firing(f, "cluster-unreachable", agents, Severity::Critical)
            && f.problems.all().iter().any(|p| p.kind == "agent-failing" && p.is_unknown())
    })
    .await;
    let all = fleet.problems.all();
    let failing = all.iter().find(|p| p.kind == "agent-failing").unwrap();
    assert!(!failing.resolved() && !failing.firing(), "blind is not resolved: {failing:?}");
    assert_eq!(failing.under.as_ref().map(|u| u.0), Some("cluster-unreachable"));
    assert!(failing.unknown.as_ref().unwrap().why.contains("unreachable"), "{failing:?}");
    assert!(!all.iter().any(|p| p.cluster == Some(agents) && p.resolved()), "nothing of it resolved while blind");
    let (crit, _, _) = fleet.problems.counts(agents);
    assert_eq!(crit, 1, "the outage counted once, not with the criticals beneath it");

    // Enter on every firing problem leads to its source
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    let n = app.with_ctx(|cx| kst::ui::panes::problems::rows(cx).iter().filter(|p| p.firing()).count());
    for i in 0..n {
        app.show(PaneId::Problems);
        app.on_key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE));
        for _ in 0..i {
            app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        }
        let (jump, object) = app.with_ctx(|cx| {
            let p = kst::ui::panes::problems::rows(cx)[i];
            (p.jump.clone(), p.object.name.clone())
        });
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        let screen = common::render(&mut app, 200, 60);
        match jump {
            Jump::Pod { name, .. } => assert!(screen.contains(&name), "the pod {name}: {screen}"),
            Jump::Pane { pane, find } => {
                assert_eq!(app.pane_id(), pane, "{object}");
                let find = find.to_string();
                if pane != PaneId::Tools && !find.is_empty() {
                    let sel = app.selected_text().unwrap_or_default();
                    assert!(
                        !sel.is_empty() && (object.contains(&sel) || sel.contains(&object) || find.contains(&sel)),
                        "{pane}: {object} selected, not {sel:?}"
                    );
                }
            }
        }
    }
    let mut fleet = std::mem::replace(&mut app.fleet, Fleet::new(&[]));

    // cleared: the problems resolve and stay listed with their duration
    cluster("agents-us-central").faults.set_unreachable(false);
    cluster("gpu-us-east").faults.set_incident(Incident::KvSurge, false);
    triage_until(&mut fleet, &mut col.updates, "the outage and the KV surge resolved", |f| {
        let all = f.problems.all();
        let resolved = |k: &str| all.iter().any(|p| p.kind == k && p.resolved());
        resolved("cluster-unreachable")
            && resolved("kv-decode")
            && firing(f, "agent-failing", agents, Severity::Critical)
            && !firing(f, "cluster-unreachable", agents, Severity::Critical)
            && !firing(f, "kv-decode", east, Severity::Critical)
    })
    .await;
    // back: the agent still fails, and its problem is the one it was, with the age it had
    let failing = fleet.problems.all().into_iter().find(|p| p.kind == "agent-failing").unwrap().clone();
    assert!(failing.firing() && failing.since == failing_since, "{failing:?}");
    col.stop();
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.show(PaneId::Problems);
    // the resolved ones sit at the end of a long list: `/resolved` brings them up
    for c in "/resolved".chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let screen = common::render(&mut app, 200, 60);
    let line = screen
        .lines()
        .find(|l| l.contains("unreachable:") && l.contains("resolved") && l.contains("lasted"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(line.contains("agents-us-central"), "{line}");
}
