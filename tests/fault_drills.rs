//! Fault drills on the simulator, one per fault kind. Each asserts what a user would see and
//! rely on: the faulty cluster's state and reason, in the store and in the snapshot JSON; the
//! other clusters keep updating during the fault; the state follows recovery within two
//! refresh intervals of the fault clearing; and an API that is forbidden costs a handful of
//! LISTs, not a re-list every second (counted by the simulator).

mod common;

use std::time::{Duration, Instant};

use kst::sources::Collectors;
use kst::store::{ClusterState, Conn, Fleet};
use kst_sim::SimFleet;
use serde_json::Value;

/// Slow enough that a storm stands out, quick enough for a drill.
const REFRESH: Duration = Duration::from_secs(2);

struct Drill {
    sim: SimFleet,
    fleet: Fleet,
    collectors: Collectors,
    refresh: Duration,
    nodes_added: usize,
}

impl Drill {
    async fn start(refresh: Duration) -> Drill {
        let sim = common::sim(3).await;
        let targets = common::targets(&sim);
        let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
        let opts = kst::sources::WorkerOptions {
            refresh,
            backoff_max: refresh,
            probe_timeout: Duration::from_secs(10),
            ..common::fast_worker()
        };
        let collectors = Collectors::start(&targets, opts);
        let mut d = Drill { sim, fleet, collectors, refresh, nodes_added: 0 };
        d.until("every cluster live with its nodes, pools and agents", |f| {
            f.clusters.iter().all(|c| {
                c.conn == Conn::Live
                    && c.nodes.is_some()
                    && c.llmd.installed.is_some()
                    && c.kagenti.installed().is_some()
            }) && f.clusters.iter().filter(|c| c.llmd.installed == Some(true)).count() == 2
                && f.clusters.iter().any(|c| c.kagenti.installed() == Some(true))
        })
        .await;
        d
    }

    async fn until(&mut self, what: &str, done: impl Fn(&Fleet) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while !done(&self.fleet) {
            match tokio::time::timeout_at(deadline, self.collectors.updates.recv()).await {
                Ok(Some(u)) => {
                    self.fleet.apply(u);
                }
                _ => panic!(
                    "timed out waiting for {what}; states: {:?}",
                    self.fleet.clusters.iter().map(|c| (&c.context, &c.conn, &c.forbidden)).collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Applies what the collectors send for a measured window (a window being measured, not
    /// a wait for a condition).
    async fn keep_applying_for(&mut self, window: Duration) {
        let until = tokio::time::Instant::now() + window;
        while let Ok(Some(u)) = tokio::time::timeout_at(until, self.collectors.updates.recv()).await {
            self.fleet.apply(u);
        }
    }

    fn cluster(&self, name: &str) -> &ClusterState {
        self.fleet.clusters.iter().find(|c| c.context == name).expect("cluster")
    }

    fn snapshot(&self, name: &str) -> Value {
        let snap = serde_json::to_value(kst::snapshot::Snapshot::of(&self.fleet)).unwrap();
        snap["clusters"].as_array().unwrap().iter().find(|c| c["context"] == name).cloned().expect("in the snapshot")
    }

    /// A node added to every other cluster reaches the store while `faulty` is faulty.
    async fn others_keep_updating(&mut self, faulty: &str) {
        self.nodes_added += 1;
        let name = format!("drill-node-{}", self.nodes_added);
        let others: Vec<String> = self.sim.clusters.iter().map(|c| c.name.clone()).filter(|n| n != faulty).collect();
        let mut want = Vec::new();
        for other in &others {
            let c = self.sim.cluster(other).unwrap();
            let nodes = c.registry.index_of(&kst_sim::resources::NODES).unwrap();
            c.store.write().unwrap().put(
                nodes,
                serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            );
            want.push((other.clone(), self.cluster(other).nodes.as_ref().map_or(0, |n| n.total) + 1));
        }
        self.until(&format!("{name} on {others:?} while {faulty} is faulty"), |f| {
            want.iter().all(|(n, total)| {
                f.clusters.iter().find(|c| &c.context == n).and_then(|c| c.nodes.as_ref()).map(|x| x.total)
                    == Some(*total)
            })
        })
        .await;
    }

    /// After the fault is cleared: `name` is live again, within two refresh intervals (plus
    /// `in_flight`, what a request sent just before the clearing still takes).
    async fn recovers(&mut self, name: &str, in_flight: Duration) {
        let cleared = Instant::now();
        let n = name.to_string();
        self.until(&format!("{name} live again"), |f| {
            f.clusters.iter().any(|c| c.context == n && c.conn == Conn::Live && c.forbidden.is_empty())
        })
        .await;
        let took = cleared.elapsed();
        let bound = self.refresh * 2 + in_flight;
        eprintln!(
            "{name}: live again {} ms after the fault cleared (bound {} ms)",
            took.as_millis(),
            bound.as_millis()
        );
        assert!(took <= bound, "{name} took {took:?} to be live again; bound {bound:?}");
        assert_eq!(self.snapshot(name)["state"], "live");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable() {
    let mut d = Drill::start(REFRESH).await;
    d.sim.cluster("gpu-eu-west").unwrap().faults.set_unreachable(true);
    d.until("gpu-eu-west unreachable", |f| {
        matches!(f.clusters.iter().find(|c| c.context == "gpu-eu-west").unwrap().conn, Conn::Unreachable { .. })
    })
    .await;
    let snap = d.snapshot("gpu-eu-west");
    assert_eq!((snap["state"].as_str(), snap["reachable"].as_bool()), (Some("unreachable"), Some(false)));
    assert!(snap["error"].as_str().unwrap().contains("refused"), "a person-readable cause: {snap}");
    assert!(snap["observed_at"].is_string(), "its numbers are last known ones, with their time");
    d.others_keep_updating("gpu-eu-west").await;
    d.sim.cluster("gpu-eu-west").unwrap().faults.set_unreachable(false);
    d.recovers("gpu-eu-west", Duration::ZERO).await;
    d.collectors.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow() {
    let latency = Duration::from_millis(2500);
    let mut d = Drill::start(Duration::from_secs(3)).await;
    d.sim.cluster("gpu-us-east").unwrap().faults.set_latency_ms(latency.as_millis() as u64);
    d.until("gpu-us-east slow", |f| {
        matches!(f.clusters.iter().find(|c| c.context == "gpu-us-east").unwrap().conn, Conn::Slow(_))
    })
    .await;
    let snap = d.snapshot("gpu-us-east");
    assert_eq!(snap["state"], "slow");
    assert_eq!(snap["reachable"], true, "slow still answers");
    let why = snap["error"].as_str().unwrap();
    assert!(why.starts_with("answers in 2.") && why.contains("over 2.0s"), "{why}");
    d.others_keep_updating("gpu-us-east").await;
    d.sim.cluster("gpu-us-east").unwrap().faults.set_latency_ms(0);
    d.recovers("gpu-us-east", latency).await;
    d.collectors.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token() {
    let mut d = Drill::start(REFRESH).await;
    d.sim.cluster("agents-us-central").unwrap().faults.set_token_expired(true);
    d.until("agents-us-central auth failed", |f| {
        matches!(f.clusters.iter().find(|c| c.context == "agents-us-central").unwrap().conn, Conn::AuthFailed(_))
    })
    .await;
    let snap = d.snapshot("agents-us-central");
    assert_eq!(snap["state"], "auth failed");
    assert!(snap["error"].as_str().unwrap().contains("401"), "{snap}");
    d.others_keep_updating("agents-us-central").await;
    d.sim.cluster("agents-us-central").unwrap().faults.set_token_expired(false);
    d.recovers("agents-us-central", Duration::ZERO).await;
    d.collectors.stop();
}

/// A forbidden resource: named in the cluster's state and the snapshot, the cluster degraded,
/// what depends on it not made up; a handful of LISTs while it stays forbidden; the flag
/// clears when access is restored.
async fn forbidden(cluster: &str, plural: &str, check: impl Fn(&ClusterState, &Value)) {
    let mut d = Drill::start(REFRESH).await;
    let sim = d.sim.cluster(cluster).unwrap().clone();
    // each watch of the resource listed it once when it started
    let watches = sim.requests("list", plural).max(1);
    sim.faults.set_forbidden(plural, true);
    // RBAC is checked when a watch starts: an open one runs on until it ends (the API
    // server's watch timeout, minutes). kst's rules review each refresh finds the loss and
    // restarts the watch; the open watches are left open here, as a real API server leaves them
    let taken = Instant::now();
    d.until(&format!("{plural} forbidden on {cluster}"), |f| {
        f.clusters.iter().any(|c| c.context == cluster && c.forbidden.contains(plural))
    })
    .await;
    eprintln!("{cluster}: {plural} taken away with its watches open, said forbidden in {:?}", taken.elapsed());
    let c = d.cluster(cluster).clone();
    // the resource, and its subresources when a reader meets their 403 first (pods/proxy)
    let of_it = |r: &str| r == plural || r.starts_with(&format!("{plural}/"));
    assert!(c.forbidden.iter().all(|r| of_it(r)), "{:?}", c.forbidden);
    assert_eq!(
        c.conn,
        Conn::Degraded(format!("forbidden: {}", c.forbidden.iter().cloned().collect::<Vec<_>>().join(", ")))
    );
    let snap = d.snapshot(cluster);
    assert_eq!(snap["state"], "degraded");
    let listed: Vec<&str> = snap["forbidden"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(listed.contains(&plural) && listed.iter().all(|r| of_it(r)), "{listed:?}");
    check(&c, &snap);

    // the budget: while it stays forbidden, a handful of LISTs, not one a second per watch
    let asked = |sim: &kst_sim::SimCluster| sim.requests("list", plural) + sim.requests("watch", plural);
    let before = asked(&sim);
    let window = Instant::now();
    d.others_keep_updating(cluster).await;
    d.keep_applying_for(Duration::from_secs(30).saturating_sub(window.elapsed())).await;
    let lists = asked(&sim) - before;
    eprintln!(
        "{cluster}: {lists} LISTs and WATCHes of forbidden {plural} in 30 s by {watches} watches (refresh {REFRESH:?})"
    );
    // the backoff from the refresh to a minute asks about 4 times in 30 s; a re-list storm
    // asked once a second per watch
    assert!(lists <= 5 * watches, "{lists} LISTs and WATCHes of a forbidden {plural} in 30 s by {watches} watches");
    assert!(d.cluster(cluster).forbidden.contains(plural), "still forbidden, still said");

    sim.faults.set_forbidden(plural, false);
    d.recovers(cluster, Duration::ZERO).await;
    d.collectors.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_pods() {
    forbidden("gpu-us-east", "pods", |c, _| {
        // model servers come from pods: the rows kept are marked as incomplete on the pane
        let mut fleet = Fleet::new(&[(c.context.clone(), c.server.clone())]);
        fleet.clusters[0] = c.clone();
        let mut app = kst::ui::App::new(fleet, kst::theme::Theme::builtin("mono").unwrap(), kst::ui::Mode::Normal);
        app.show(kst::store::pane::PaneId::Serving);
        let screen = common::render(&mut app, 200, 60);
        assert!(screen.contains("gpu-us-east: cannot read pods (forbidden), rows incomplete"), "{screen}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_deployments() {
    forbidden("agents-us-central", "deployments", |_, snap| {
        assert_eq!(snap["kagenti"]["installed"], true, "the rest of Kagenti is still read: {}", snap["kagenti"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_inferencepools() {
    forbidden("gpu-eu-west", "inferencepools", |c, _| {
        assert_ne!(c.llmd.installed, Some(false), "forbidden is not 'not installed'");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_nodes() {
    forbidden("gpu-us-east", "nodes", |c, snap| {
        assert!(c.nodes.is_none(), "no made-up node count");
        assert!(snap["nodes"].is_null() && snap["gpus_total"].is_null(), "unknown is null, not 0: {snap}");
    })
    .await;
}

/// Every resumed watch meets 410 Gone: each re-lists once (that is what 410 asks for), the
/// data stays right, the cluster stays live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_storm() {
    let mut d = Drill::start(REFRESH).await;
    let east = d.sim.cluster("gpu-us-east").unwrap().clone();
    east.faults.set_gone_storm(true);
    let before = east.requests("list", "nodes");
    for _ in 0..3 {
        east.faults.drop_watches();
        d.others_keep_updating("none").await;
    }
    assert_eq!(d.cluster("gpu-us-east").conn, Conn::Live);
    assert_eq!(d.snapshot("gpu-us-east")["state"], "live");
    let relists = east.requests("list", "nodes") - before;
    eprintln!("gpu-us-east: {relists} LISTs of nodes for 3 dropped watches under a 410 storm");
    assert!((1..=6).contains(&relists), "{relists} re-lists of nodes for 3 drops");
    east.faults.set_gone_storm(false);
    d.collectors.stop();
}

/// Every open watch ends (an API server restart): the watches resume from their resource
/// version without re-listing, and what changes meanwhile arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches() {
    let mut d = Drill::start(REFRESH).await;
    let west = d.sim.cluster("gpu-eu-west").unwrap().clone();
    let before = west.requests("list", "nodes");
    for _ in 0..3 {
        west.faults.drop_watches();
        d.others_keep_updating("none").await;
    }
    assert_eq!(d.cluster("gpu-eu-west").conn, Conn::Live);
    let relists = west.requests("list", "nodes") - before;
    assert!(relists <= 1, "{relists} re-lists of nodes after dropped watches: they should resume");
    d.collectors.stop();
}

/// Objects with missing and odd fields: no panic, the cluster stays live, the odd ones are
/// shown with what can be read, and the collectors keep going on that cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_objects() {
    let mut d = Drill::start(REFRESH).await;
    d.sim.cluster("gpu-us-east").unwrap().inject_malformed();
    d.until("the odd node read", |f| {
        f.clusters.iter().find(|c| c.context == "gpu-us-east").unwrap().nodes.as_ref().map(|n| n.total) == Some(7)
    })
    .await;
    let east = d.cluster("gpu-us-east");
    assert_eq!(east.conn, Conn::Live);
    assert_eq!(east.nodes.as_ref().unwrap().gpus_total, 32, "a GPU count of 'lots' is not counted");
    let snap = d.snapshot("gpu-us-east");
    assert_eq!(snap["state"], "live");
    d.others_keep_updating("none").await;
    d.collectors.stop();
}

/// Metrics endpoints answer with text that is not the Prometheus format: parse errors on the
/// servers, no numbers, the cluster itself live; fresh numbers again after it clears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_metrics() {
    use kst::store::llmd::ScrapeError;
    let mut d = Drill::start(REFRESH).await;
    let parse_errors = |f: &Fleet| {
        f.clusters
            .iter()
            .find(|c| c.context == "gpu-us-east")
            .unwrap()
            .llmd
            .metrics
            .values()
            .filter(|m| matches!(m.error.as_ref().map(|e| &e.v), Some(ScrapeError::Parse(_))))
            .count()
    };
    d.sim.cluster("gpu-us-east").unwrap().faults.set_garbage_metrics(true);
    d.until("parse errors on gpu-us-east", |f| parse_errors(f) >= 4).await;
    assert_eq!(d.cluster("gpu-us-east").conn, Conn::Live, "bad metrics do not make the cluster down");
    let snap = d.snapshot("gpu-us-east");
    let servers = snap["llmd"]["servers"].as_array().unwrap();
    assert!(
        servers.iter().any(|s| s["stale"].as_str().is_some_and(|e| e.contains("Prometheus") || e.contains("parse"))),
        "the snapshot names the parse error: {servers:?}"
    );
    d.others_keep_updating("gpu-us-east").await;
    d.sim.cluster("gpu-us-east").unwrap().faults.set_garbage_metrics(false);
    let cleared = Instant::now();
    d.until("no parse errors on gpu-us-east", |f| parse_errors(f) == 0).await;
    let took = cleared.elapsed();
    eprintln!("gpu-us-east: metrics parsed again {} ms after the fault cleared", took.as_millis());
    assert!(took <= REFRESH * 2, "{took:?}");
    d.collectors.stop();
}

/// A query layer that accepts and never answers does not hold up the GPU readings kst takes from
/// the exporters directly: they keep their own pace while each question to the layer waits out
/// its timeout (before, each direct reading waited for the layer's answer first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_query_layer_does_not_hold_up_the_gpus() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().flatten() {
            conns.push(c);
        }
    });
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let layer = kst::sources::prom::PromConfig {
        url: format!("http://127.0.0.1:{port}"),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let opts = kst::sources::WorkerOptions {
        refresh: Duration::from_millis(500),
        engines: kst::sources::EngineSource::Auto(Default::default()),
        query: vec![layer],
        ..common::fast_worker()
    };
    let mut col = Collectors::start(&targets, opts);
    let east = 0;
    assert_eq!(targets[east].context, "gpu-us-east");
    let (mut direct, mut asked) = (0usize, 0usize);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    // the exporters' readings go on at their pace while the layer keeps everyone waiting
    while direct < 8 {
        match tokio::time::timeout_at(deadline, col.updates.recv()).await {
            Ok(Some(u)) => {
                match &u {
                    kst::store::Update::GpuScrape { cluster, node, .. } if *cluster == east && node.ends_with("-0") => {
                        direct += 1
                    }
                    kst::store::Update::GpuVia { cluster, .. } if *cluster == east => asked += 1,
                    _ => {}
                }
                fleet.apply(u);
            }
            _ => panic!("timed out: {direct} direct readings of gpu-us-east, {asked} answers from the layer"),
        }
    }
    assert!(direct >= asked + 3, "the direct readings kept their own pace: {direct} readings, {asked} layer answers");
    let via = fleet.clusters[east].gpus.via.clone().unwrap_or_default();
    assert!(via.contains("no answer within 3s") && via.contains("read from the exporters"), "{via}");
    assert!(fleet.clusters[east].gpus.gpus().any(|g| g.util.is_some()), "GPU utilisation known");
    col.stop();
}

/// Nothing is believed before the API server said it: against an API server that refuses every
/// credential (an expired token), kst's watches retry for a while, and llm-d stays neither
/// installed nor absent (kube-runtime's watcher emits its Init before it asks anything; that
/// was taken as "served"), while the health probe is not woken by those retries (it probed in
/// bursts of 22 a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_refuses_every_credential_is_not_believed_to_serve_anything() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let probes = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (r, p) = (requests.clone(), probes.clone());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut c in listener.incoming().flatten() {
            let (r, p) = (r.clone(), p.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    r.fetch_add(1, Ordering::Relaxed);
                    if buf[..n].starts_with(b"GET /version") {
                        p.fetch_add(1, Ordering::Relaxed);
                    }
                    let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
                    let resp = format!(
                        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if c.write_all(resp.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let kc = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: expired\n  cluster:\n    server: http://127.0.0.1:{port}\n\
         contexts:\n- name: expired\n  context:\n    cluster: expired\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n\
         current-context: expired\n"
    );
    let targets =
        kst::sources::connect::select_targets(kube::config::Kubeconfig::from_yaml(&kc).unwrap(), &[]).unwrap();
    let mut fleet = Fleet::new(&[("expired".into(), format!("http://127.0.0.1:{port}"))]);
    let opts = kst::sources::WorkerOptions { refresh: REFRESH, backoff_max: REFRESH, ..common::fast_worker() };
    let mut col = Collectors::start(&targets, opts);
    // the watches retry many times (every request answered 401)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while requests.load(Ordering::Relaxed) < 60 {
        match tokio::time::timeout_at(deadline, col.updates.recv()).await {
            Ok(Some(u)) => {
                fleet.apply(u);
            }
            _ => panic!("only {} requests", requests.load(Ordering::Relaxed)),
        }
    }
    let started = Instant::now();
    let probes_before = probes.load(Ordering::Relaxed);
    // a few refresh intervals more of retries
    let until = tokio::time::Instant::now() + REFRESH * 3;
    while let Ok(Some(u)) = tokio::time::timeout_at(until, col.updates.recv()).await {
        fleet.apply(u);
    }
    let c = &fleet.clusters[0];
    assert!(matches!(c.conn, Conn::AuthFailed(_)), "{:?}", c.conn);
    assert_eq!(c.llmd.installed, None, "no answer said llm-d is served, or not");
    assert!(c.llmd.pools.is_empty());
    // the probe keeps its pace: about one a refresh, not a burst per watch retry
    let probed = probes.load(Ordering::Relaxed) - probes_before;
    let intervals = (started.elapsed().as_secs_f64() / REFRESH.as_secs_f64()).ceil() as usize;
    assert!(probed <= intervals + 2, "{probed} probes in {intervals} refresh intervals");
    col.stop();
}

/// A permission taken away while kst runs, with the watches left open (RBAC is checked when a
/// watch starts, so an open one runs on): the scrapes through the pod proxy are refused, and
/// that alone marks the access forbidden within two refresh intervals, with the real reason on
/// each server (forbidden, not "auth required"); the refused proxy is then asked once per
/// backoff step, not once per pod per refresh; given back, the cluster is live again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_taken_away_while_running_is_noticed_through_the_scrapes() {
    let mut d = Drill::start(REFRESH).await;
    let cluster = "gpu-us-east";
    let sim = d.sim.cluster(cluster).unwrap().clone();
    sim.faults.set_forbidden("pods", true);
    let taken = Instant::now();
    d.until("pods/proxy forbidden on gpu-us-east", |f| {
        f.clusters.iter().any(|c| c.context == cluster && c.forbidden.contains("pods/proxy"))
    })
    .await;
    let took = taken.elapsed();
    eprintln!("{cluster}: forbidden noticed {} ms after it was taken away", took.as_millis());
    assert!(took <= REFRESH * 2 + Duration::from_secs(1), "noticed after {took:?}");
    let c = d.cluster(cluster).clone();
    assert!(matches!(&c.conn, Conn::Degraded(why) if why.contains("pods/proxy")), "{:?}", c.conn);
    let r = d.fleet.reading(common::now_s());
    let reasons: Vec<String> = c.llmd.servers.iter().filter_map(|s| c.llmd.view(s, &r).stale).collect();
    assert!(!reasons.is_empty() && reasons.iter().all(|w| !w.contains("auth required")), "{reasons:?}");
    // the budget: the refused proxy is asked once per backoff step. The window opens one
    // refresh after the refusal was noticed: the scrapes of the round that met the first
    // refusal were already sent, and on a loaded machine the simulator counts them after the
    // first answer came back (CI counted all 9 of them in a window opened at once).
    d.keep_applying_for(REFRESH).await;
    let before = sim.requests("proxy", "pods");
    d.keep_applying_for(Duration::from_secs(20)).await;
    let asked = sim.requests("proxy", "pods") - before;
    let servers = c.llmd.servers.len();
    eprintln!("{cluster}: {asked} pod-proxy requests in 20 s while forbidden ({servers} servers, refresh {REFRESH:?})");
    assert!(asked <= 8, "{asked} proxy requests in 20 s; every pod each refresh would be {}", servers * 10);
    // given back: an access review says so at the next probe, and the next scrape proves it
    sim.faults.set_forbidden("pods", false);
    let given = Instant::now();
    d.until("pods/proxy allowed again", |f| {
        f.clusters.iter().any(|c| c.context == cluster && !c.forbidden.contains("pods/proxy"))
    })
    .await;
    let took = given.elapsed();
    eprintln!("{cluster}: allowed again {} ms after it was given back", took.as_millis());
    assert!(took <= REFRESH * 2 + Duration::from_secs(1), "allowed again after {took:?}");
    d.collectors.stop();
}
