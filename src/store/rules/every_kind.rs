//! Every kind of the rule table fires: a fleet made of one state per rule (a cluster down, a
//! crash loop, KV at 97%, an EPP at 25% errors, a broken placement, a hub cluster's hot
//! roll-up, …), evaluated, must raise every kind the table has. A new rule without a way to
//! fire it here fails this test.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::store::alerts::{Alert, AlertmanagerState};
use crate::store::gpus::{GpuSample, NodeScrape};
use crate::store::hub::ClusterAgg;
use crate::store::kagenti::{BuildInfo, BuildRunInfo, Cond};
use crate::store::llmd::{
    Autoscaler, EngineKind, EngineSample, EppSample, Histogram, PoolImport, PoolInfo, Role, ScrapeError, ServerInfo,
};
use crate::store::placement::{
    Binding, Clause, Controller, Generations, ManagedCluster, ObjRef, PlacementCluster, Policy, Report, WdsObject, Work,
};
use crate::store::{Conn, Fleet, PromState, Update};

const NOW: f64 = 10_000.0;

fn server(name: &str, pool: &str, role: Role, model: &str, ready: bool) -> ServerInfo {
    ServerInfo {
        namespace: "llm-d".into(),
        name: name.into(),
        pool: Some(pool.into()),
        role,
        model: Some(model.into()),
        engine: EngineKind::Vllm,
        ready,
        phase: "Running".into(),
        restarts: 0,
        node: "n0".into(),
        metrics_port: 8000,
        gpus: 1,
        waiting: None,
        unschedulable: None,
        ready_since: None,
    }
}

fn pool(name: &str, epp: Option<&str>) -> PoolInfo {
    PoolInfo {
        namespace: "llm-d".into(),
        name: name.into(),
        api_version: "inference.networking.k8s.io/v1".into(),
        selector: Default::default(),
        target_port: None,
        epp_service: epp.map(str::to_string),
        problem: None,
        exported: false,
    }
}

/// Two scrapes of a server, 4 s apart: counters grow by `d`, gauges as given.
fn engine(f: &mut Fleet, c: usize, name: &str, last: EngineSample, first: EngineSample) {
    let key = ("llm-d".to_string(), name.to_string());
    for (at, s) in [(NOW - 4.5, first), (NOW - 0.5, last)] {
        f.apply(Update::EngineScrape { cluster: c, server: key.clone(), at, result: Ok(s) });
    }
}

fn epp(f: &mut Fleet, c: usize, pool: &str, samples: [EppSample; 2]) {
    let key = ("llm-d".to_string(), pool.to_string());
    for (at, s) in [NOW - 4.5, NOW - 0.5].into_iter().zip(samples) {
        f.apply(Update::EppScrape { cluster: c, pool: key.clone(), at, result: Ok(s) });
    }
}

fn serving(f: &mut Fleet, c: usize) {
    let l = &mut f.clusters[c].llmd;
    l.installed = Some(true);
    l.pools = vec![
        pool("pool-a", Some("epp-a")),
        pool("pool-b", None),
        pool("pool-c", Some("epp-c")),
        pool("pool-d", Some("epp-d")),
    ];
    let mut crash = server("c0", "pool-b", Role::Decode, "m-broken", false);
    crash.waiting = Some("CrashLoopBackOff".into());
    let mut unplaced = server("s0", "pool-c", Role::Decode, "m2", false);
    unplaced.unschedulable = Some("0/6 nodes are available: 6 Insufficient nvidia.com/gpu".into());
    l.servers = vec![
        server("d0", "pool-a", Role::Decode, "m1", true),
        server("d1", "pool-a", Role::Decode, "m1", true),
        server("p0", "pool-a", Role::Prefill, "m1", true),
        server("u0", "pool-a", Role::Decode, "m1", false),
        crash,
        server("r0", "pool-c", Role::Decode, "m2", true),
        unplaced,
    ];
    l.autoscalers = vec![
        Autoscaler {
            kind: "HorizontalPodAutoscaler",
            namespace: "llm-d".into(),
            name: "full".into(),
            target: "Deployment/d".into(),
            model_id: None,
            pool: Some("pool-a".into()),
            min: Some(1),
            max: Some(3),
            current: Some(3),
            desired: Some(3),
            limited: Some("TooManyReplicas: wants 5".into()),
            blocked: None,
            limited_since: None,
            blocked_since: None,
        },
        Autoscaler {
            kind: "HorizontalPodAutoscaler",
            namespace: "llm-d".into(),
            name: "stuck".into(),
            target: "Deployment/p".into(),
            model_id: None,
            pool: Some("pool-a".into()),
            min: Some(1),
            max: Some(3),
            current: Some(1),
            desired: Some(1),
            limited: None,
            blocked: Some("ScalingActive: FailedGetExternalMetric".into()),
            limited_since: None,
            blocked_since: None,
        },
    ];
    l.imports = vec![PoolImport {
        namespace: "llm-d".into(),
        name: "imported".into(),
        exporters: vec!["elsewhere".into()],
        failing: Some("Accepted=False: no exporter".into()),
    }];
    // TTFT: every request in (30 s, 60 s]
    let ttft = |n: f64| Histogram {
        bounds: vec![1.0, 10.0, 30.0, 60.0, f64::INFINITY],
        cumulative: vec![0.0, 0.0, 0.0, n, n],
        sum: 45.0 * n,
        count: n,
    };
    let sample = |kv: f64, running: f64, waiting: f64, n: f64| EngineSample {
        kv_usage: Some(kv),
        running: Some(running),
        waiting: Some(waiting),
        requests: Some(10.0 * n),
        preemptions: Some(20.0 * n),
        prefix_queries: Some(100.0 * n),
        prefix_hits: Some(10.0 * n),
        ttft: Some(ttft(100.0 * n)),
        ..Default::default()
    };
    engine(f, c, "d0", sample(0.97, 5.0, 1.0, 1.0), sample(0.97, 5.0, 1.0, 0.0));
    engine(f, c, "d1", sample(0.5, 5.0, 1.0, 1.0), sample(0.5, 5.0, 1.0, 0.0));
    engine(f, c, "p0", sample(0.5, 40.0, 150.0, 1.0), sample(0.5, 40.0, 150.0, 0.0));
    engine(f, c, "r0", sample(0.5, 1.0, 0.0, 1.0), sample(0.5, 1.0, 0.0, 0.0));
    // the picker: 25% errors, no ready endpoint, still routing to the unready u0
    let picker = |n: f64| EppSample {
        requests: Some(100.0 * n),
        errors: Some(25.0 * n),
        attempts: [("u0".to_string(), 10.0 * n), ("d0".to_string(), 90.0 * n)].into(),
        ready_endpoints: Some(0.0),
        ..Default::default()
    };
    epp(f, c, "pool-a", [picker(0.0), picker(1.0)]);
    let key = |p: &str| ("llm-d".to_string(), p.to_string());
    f.apply(Update::EppScrape {
        cluster: c,
        pool: key("pool-c"),
        at: NOW - 1.0,
        result: Err(ScrapeError::Transport("connection refused".into())),
    });
    f.apply(Update::EppScrape {
        cluster: c,
        pool: key("pool-d"),
        at: NOW - 1.0,
        result: Err(ScrapeError::AuthRequired(401)),
    });
    f.slos = vec![crate::store::slo::Slo { pool: Some("pool-a".into()), ttft_p99_s: Some(2.0), ..Default::default() }];
}

fn jobs_and_gpus(f: &mut Fleet, c: usize) {
    let cl = &mut f.clusters[c];
    cl.jobs.kinds.insert("Job", Some(true));
    cl.jobs.jobs = vec![crate::store::jobs::JobInfo {
        kind: "Job",
        namespace: "ml".into(),
        name: "train".into(),
        status: "Failed".into(),
        message: Some("BackoffLimitExceeded".into()),
        gpus: None,
        created: None,
        started: None,
        finished: Some("1970-01-01T02:00:00Z".into()),
        pod_selector: None,
        pods: None,
    }];
    let gpu = |i: &str| GpuSample {
        node: "n0".into(),
        gpu: i.into(),
        uuid: format!("GPU-{i}"),
        model_name: "A100".into(),
        util: Some(0.5),
        fb_used_mib: Some(10.0),
        fb_free_mib: Some(70_000.0),
        ..Default::default()
    };
    let xid = GpuSample { xid: Some(79.0), ..gpu("0") };
    let full = GpuSample { fb_used_mib: Some(79_000.0), fb_free_mib: Some(1_000.0), ..gpu("1") };
    let idle = GpuSample { util: Some(0.01), pod: Some(("ml".into(), "notebook".into())), ..gpu("2") };
    cl.gpus.exporters = Some(1);
    cl.gpus.nodes.insert("n0".into(), NodeScrape { at: Some(NOW - 1.0), gpus: vec![xid, full, idle], error: None });
}

fn agents(f: &mut Fleet, c: usize) {
    use crate::store::kagenti::{test_agent, Brand};
    use crate::store::posture::{Binding as RoleBinding, Rbac, Subject};
    let k = &mut f.clusters[c].kagenti;
    k.brands = Some(vec![Brand::Kagenti]);
    let failing =
        crate::store::kagenti::AgentInfo { name: "failing".into(), ready: 0, restarts: Some(9), ..test_agent() };
    let degraded = crate::store::kagenti::AgentInfo {
        name: "degraded".into(),
        runtime_ready: Some(Cond { ok: false, reason: "ConfigInvalid".into() }),
        ..test_agent()
    };
    let zero = crate::store::kagenti::AgentInfo { name: "zero".into(), desired: 0, ready: 0, ..test_agent() };
    let root = crate::store::kagenti::AgentInfo {
        name: "root".into(),
        service_account: "root".into(),
        identity_bound: Some(true),
        ..test_agent()
    };
    let lost = crate::store::kagenti::AgentInfo { name: "lost".into(), identity_bound: Some(false), ..test_agent() };
    k.agents = vec![failing, degraded, zero, root, lost];
    k.rbac = Some(Rbac {
        bindings: vec![RoleBinding {
            kind: "ClusterRoleBinding".into(),
            namespace: None,
            name: "root-admin".into(),
            role_kind: "ClusterRole".into(),
            role_name: "cluster-admin".into(),
            subjects: vec![Subject { kind: "ServiceAccount".into(), name: "root".into(), namespace: Some("n".into()) }],
            legacy: false,
        }],
        ..Default::default()
    });
    // the baseline saw the lost agent's identity bound
    let mut facts = k.facts();
    facts.insert("identity n/lost".into(), "bound".into());
    k.baseline = Some(crate::store::posture::Baseline { saved: "2026-01-01T00:00:00Z".into(), facts });
    k.tools = Some(vec![crate::store::tools::ToolServer {
        name: "jira".into(),
        namespace: "n".into(),
        location: None,
        transport: None,
        registration: None,
        pods: Some((0, 1)),
        pod_names: vec![],
        listing: None,
        error: None,
    }]);
    k.builds = vec![BuildInfo {
        namespace: "n".into(),
        name: "b".into(),
        strategy: None,
        runs: vec![BuildRunInfo {
            name: "b-run-1".into(),
            outcome: Some(false),
            reason: Some("Failed".into()),
            message: None,
            started: None,
            duration_s: None,
        }],
        history: (0, 1),
    }];
    k.rederive(c);
}

fn placement(f: &mut Fleet, wds: usize, its: usize) {
    let o = |n: &str| ObjRef {
        group: "apps".into(),
        resource: "deployments".into(),
        namespace: "llm-d".into(),
        name: n.into(),
    };
    let bind = |name: &str, to: &[&str], objects: Vec<ObjRef>, errors: Vec<String>| Binding {
        name: name.into(),
        destinations: to.iter().map(|s| s.to_string()).collect(),
        objects,
        uid: Default::default(),
        generations: Default::default(),
        create_only: Default::default(),
        errors,
    };
    let policy = |name: &str| Policy { name: name.into(), ..Default::default() };
    f.clusters[wds].placement = PlacementCluster {
        listed: true,
        policies: Some(vec![
            Policy { errors: vec!["bad".into()], ..policy("withheld") },
            policy("ok"),
            policy("nothing"),
            Policy { errors: vec!["selector operator Gt is not supported".into()], ..policy("errs") },
            Policy { collectors_missing: Some("StatusCollector x not found".into()), ..policy("coll") },
            policy("lagging"),
            // singleton status asked, one WEC, reported there and not returned to the WDS object
            Policy { clauses: vec![Clause { singleton: true, ..Default::default() }], ..policy("single") },
        ]),
        bindings: Some(vec![
            bind("withheld", &["e1"], vec![o("w")], vec!["bad".into()]),
            bind("ok", &["e1", "gone", "unk", "e3"], vec![o("a")], vec![]),
            bind("nothing", &[], vec![o("n")], vec![]),
            bind("errs", &["e1"], vec![o("x")], vec![]),
            bind("coll", &["e1"], vec![o("y")], vec![]),
            // the transport has not handled the Binding's latest spec
            Binding {
                generations: Generations { generation: Some(4), observed: Some(3) },
                ..bind("lagging", &[], vec![o("z")], vec![])
            },
            bind("single", &["e1"], vec![o("s")], vec![]),
        ]),
        objects: Some(vec![WdsObject {
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: "llm-d".into(),
            name: "s".into(),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let work = |wec: &str, binding: &str, obj: ObjRef, applied: bool| Work {
        wec: wec.into(),
        name: format!("{binding}-{wec}"),
        binding: binding.into(),
        wds: f.clusters[wds].context.clone(),
        objects: vec![obj],
        applied: Some(applied),
        ..Default::default()
    };
    let mc = |name: &str, ok: bool| ManagedCluster {
        name: name.into(),
        available: Some(ok),
        why: (!ok).then(|| "ManagedClusterLeaseUpdateStopped".into()),
        since: Some(NOW - 3600.0),
        ..Default::default()
    };
    let wds_name = f.clusters[wds].context.clone();
    let works = vec![
        work("e1", "ok", o("a"), false),
        work("e2", "ok", o("a"), true),
        work("e3", "ok", o("a"), true),
        work("e1", "errs", o("x"), true),
        work("e1", "coll", o("y"), true),
        work("e1", "single", o("s"), true),
        // the work of a policy deleted since
        work("e3", "deleted", o("old"), true),
    ];
    f.clusters[its].placement = PlacementCluster {
        listed: true,
        managed: Some(vec![mc("e1", true), mc("gone", false), mc("e3", false), mc("edge-2", true)]),
        works: Some(works),
        reports: Some(vec![
            Report {
                wec: "e3".into(),
                binding: "ok".into(),
                wds: wds_name.clone(),
                object: o("a"),
                summary: "1/1 ready".into(),
                healthy: Some(true),
                updated_at: Some(NOW - 3600.0),
                owner: None,
            },
            Report {
                wec: "e1".into(),
                binding: "single".into(),
                wds: wds_name,
                object: o("s"),
                summary: "2/2 ready".into(),
                healthy: Some(true),
                updated_at: Some(NOW - 300.0),
                owner: None,
            },
        ]),
        sets: Some(vec![]),
        // the WDS's transport controller in a crash loop on the hosting cluster
        controllers: Some(vec![Controller {
            namespace: format!("{}-system", f.clusters[wds].context),
            name: "transport-controller".into(),
            desired: 1,
            ready: 0,
            restarts: 4,
            waiting: Some("CrashLoopBackOff".into()),
            since: Some(NOW - 600.0),
        }]),
        ..Default::default()
    };
    // a hub cluster's roll-up over every threshold
    f.prom_clusters.insert(
        "edge-2".into(),
        ClusterAgg {
            kv_max: Some(0.99),
            waiting_max: Some(80.0),
            ttft_p99_s: Some(40.0),
            error_ratio: Some(0.3),
            gpus_xid: Some(2.0),
            scraped_at: Some(NOW - 1.0),
            ..Default::default()
        },
    );
}

fn outside(f: &mut Fleet) {
    use crate::store::nightly::{Matrix, NightlyCell, NightlyName, NightlyRun};
    let file = "nightly-e2e-pd-disaggregation-cks-acc-gpu-vllm-nixl.yaml";
    let run = |id: u64, conclusion: &str| NightlyRun {
        id,
        number: id,
        status: "completed".into(),
        conclusion: Some(conclusion.into()),
        created_at: "1970-01-01T02:00:00Z".into(),
        duration_s: Some(600),
        url: String::new(),
        failure: None,
        failed_step: Some("deploy".into()),
    };
    f.nightly.disabled = None;
    f.nightly.matrix = Some(Matrix {
        repo: "llm-d/llm-d".into(),
        cells: vec![NightlyCell {
            name: NightlyName::parse(file).unwrap(),
            workflow_file: file.into(),
            runs: vec![run(2, "failure"), run(1, "success")],
            badge: None,
        }],
        unparsed: vec![],
        fetched_at: String::new(),
    });
    f.alertmanagers = vec![AlertmanagerState {
        url: "http://am:9093".into(),
        alerts: Some(vec![Alert {
            fingerprint: "f1".into(),
            labels: [("alertname", "KubeNodeNotReady"), ("severity", "critical")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            starts_at: NOW - 600.0,
            state: "active".into(),
            ..Default::default()
        }]),
        silences: Some(vec![]),
        ..Default::default()
    }];
}

#[test]
fn every_kind_of_the_table_fires() {
    let names = ["live", "down", "auth", "config", "degraded", "slow", "wds", "its", "agents"];
    let mut f = Fleet::new(&names.iter().map(|n| (n.to_string(), "s".to_string())).collect::<Vec<_>>());
    f.set_metrics(1.0, Some(10.0), None);
    let states = [
        Conn::Live,
        Conn::Unreachable { error: "connection refused".into(), since: std::time::SystemTime::UNIX_EPOCH },
        Conn::AuthFailed("Unauthorized".into()),
        Conn::ConfigError("no server".into()),
        Conn::Degraded("forbidden: nodes".into()),
        Conn::Slow("answers in 4.1s (over 2.0s)".into()),
        Conn::Live,
        Conn::Live,
        Conn::Live,
    ];
    for (c, s) in f.clusters.iter_mut().zip(states) {
        c.conn = s;
    }
    serving(&mut f, 0);
    jobs_and_gpus(&mut f, 0);
    placement(&mut f, 6, 7);
    agents(&mut f, 8);
    outside(&mut f);
    f.prom.insert(
        0,
        PromState { url: "http://thanos".into(), error: Some("cannot connect".into()), ..Default::default() },
    );
    let mut fired: BTreeSet<&str> = conditions(&f, NOW).iter().map(|c| c.kind.id).collect();
    // a layer that answers, and holds nothing for a context with model servers
    f.prom.insert(
        0,
        PromState {
            url: "http://thanos".into(),
            took_ms: Some(5),
            unknown_clusters: vec!["edge-2".into(), "prod-eats".into()],
            ..Default::default()
        },
    );
    fired.extend(conditions(&f, NOW).iter().map(|c| c.kind.id));
    let all: BTreeSet<&str> = ALL.iter().map(|k| k.id).collect();
    let missing: Vec<&&str> = all.difference(&fired).collect();
    assert!(missing.is_empty(), "kinds that never fired: {missing:?}");
    let by: BTreeMap<&str, usize> = conditions(&f, NOW).iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.kind.id).or_default() += 1;
        m
    });
    assert_eq!(by.get("placement-destination-unavailable"), Some(&3), "gone, unk and e3: one each, not per policy");
    assert_eq!(by.get("query-layer-unknown-cluster"), Some(&1), "a hub cluster's label is known; prod-eats is not");
}
