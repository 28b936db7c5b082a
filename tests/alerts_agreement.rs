//! kst's verdicts agree with a real rule engine: a real Prometheus scrapes the simulator's model
//! servers and endpoint pickers (as kst does, through the API server's proxy) and evaluates the
//! rule file kst writes from its own rule table (`kst rules`); with the simulator's incidents
//! switched on, the problems kst fires for those rules are the alerts Prometheus fires
//! (`ALERTS`: alertname and object), each started within two scrape intervals of Prometheus'
//! `ALERTS_FOR_STATE`; switched off, both resolve.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::prom::{start_prometheus_with, Prom};
use kst::sources::{Collectors, WorkerOptions};
use kst::store::Fleet;
use kst_sim::faults::Incident;

/// Both sides' rate window: 15 scrape intervals of 1 s.
const WINDOW: f64 = 15.0;
/// Every `for:` times this on both sides (5 m -> 6 s, 10 m -> 12 s).
const SCALE: f64 = 0.02;

/// (alertname, cluster, namespace, object name).
type AlertKey = (String, String, String, String);

/// The rules both sides evaluate here (their PromQL needs only what the scrape config adds).
fn judged_alerts() -> BTreeSet<&'static str> {
    kst::store::rules::ALL
        .iter()
        .filter(|k| k.promql.is_some() && k.domain != kst::store::problems::Domain::Hub && k.id != "gpu-memory")
        .map(|k| k.alert)
        .collect()
}

/// The scrape config (every model server with its pod, namespace, cluster, pool and role labels,
/// as the README's recipe relabels them; every endpoint picker with its pool) and kst's rules.
fn config(sim: &kst_sim::SimFleet, fleet: &Fleet, dir: &std::path::Path) -> String {
    std::fs::write(dir.join("ca.pem"), sim.ca_pem.as_ref().expect("the sim serves TLS")).unwrap();
    // the whole of what `kst rules` prints: the alerts and the recorded roll-ups (a group
    // Prometheus refuses would keep it from starting)
    let rules = kst::store::rules::prometheus_rule_file(WINDOW, SCALE)
        + &kst::sources::prom::recording_rules("cluster", std::time::Duration::from_secs_f64(WINDOW));
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let mut jobs = Vec::new();
    for (i, c) in fleet.clusters.iter().enumerate() {
        let sc = sim.cluster(&c.context).unwrap();
        let token = dir.join(format!("token-{i}"));
        std::fs::write(&token, sc.admin_token()).unwrap();
        let host = sc.server_url().trim_start_matches("https://").to_string();
        let mut targets = Vec::new();
        for s in &c.llmd.servers {
            let mut labels = serde_json::json!({
                "__metrics_path__": format!("/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics", s.namespace, s.name, s.metrics_port),
                "pod": s.name, "namespace": s.namespace, "cluster": c.context});
            if let Some(p) = &s.pool {
                labels["pool"] = p.clone().into();
            }
            if s.role != kst::store::llmd::Role::Unlabelled {
                labels["role"] = s.role.label().to_string().into();
            }
            targets.push(serde_json::json!({"targets": [host], "labels": labels}));
        }
        for p in &c.llmd.pools {
            let Some(svc) = &p.epp_service else { continue };
            targets.push(serde_json::json!({"targets": [host], "labels": {
                "__metrics_path__": format!("/api/v1/namespaces/{}/services/{svc}:9090/proxy/metrics", p.namespace),
                "pool": p.name, "cluster": c.context, "namespace": p.namespace, "service": svc}}));
        }
        if !targets.is_empty() {
            jobs.push(serde_json::json!({
                "job_name": c.context, "scheme": "https",
                "tls_config": {"ca_file": dir.join("ca.pem")},
                "authorization": {"credentials_file": token},
                "static_configs": targets}));
        }
    }
    serde_json::json!({
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
        "rule_files": [dir.join("rules.yml")],
        "scrape_configs": jobs})
    .to_string()
}

/// kst's firing problems of the judged rules, with their start.
fn kst_firing(fleet: &Fleet) -> BTreeMap<AlertKey, f64> {
    let judged = judged_alerts();
    fleet
        .problems
        .firing()
        .filter(|p| judged.contains(p.rule.alert))
        .map(|p| {
            let ctx = p.cluster.map(|c| fleet.clusters[c].context.clone()).unwrap_or_default();
            ((p.rule.alert.to_string(), ctx, p.object.namespace.clone(), p.object.name.clone()), p.since)
        })
        .collect()
}

fn key_of(labels: &serde_json::Value) -> AlertKey {
    let l = |k: &str| labels[k].as_str().unwrap_or("").to_string();
    let object = if labels.get("pod").is_some() { l("pod") } else { l("pool") };
    (l("alertname"), l("cluster"), l("namespace"), object)
}

/// Prometheus' firing alerts of the judged rules, with `ALERTS_FOR_STATE` (when each became
/// active).
async fn prom_firing(prom: &Prom) -> BTreeMap<AlertKey, f64> {
    let judged = judged_alerts();
    let active: BTreeMap<AlertKey, f64> = prom
        .vector("ALERTS_FOR_STATE")
        .await
        .iter()
        .filter_map(|s| Some((key_of(&s["metric"]), s["value"][1].as_str()?.parse().ok()?)))
        .collect();
    prom.vector("ALERTS{alertstate=\"firing\"}")
        .await
        .iter()
        .map(|s| key_of(&s["metric"]))
        .filter(|k| judged.contains(k.0.as_str()))
        .filter_map(|k| active.get(&k).map(|t| (k, *t)))
        .collect()
}

/// Applies updates and evaluates kst's problems every 250 ms, asking Prometheus every second,
/// until `done(kst, prometheus)` holds; the last look at both.
async fn both_until(
    fleet: &mut Fleet,
    col: &mut Collectors,
    prom: &Prom,
    what: &str,
    done: impl Fn(&BTreeMap<AlertKey, f64>, &BTreeMap<AlertKey, f64>) -> bool,
) -> (BTreeMap<AlertKey, f64>, BTreeMap<AlertKey, f64>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let mut next_ask = tokio::time::Instant::now();
    loop {
        let tick = tokio::time::sleep(Duration::from_millis(250));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                u = col.updates.recv() => { fleet.apply(u.expect("collectors run")); }
                _ = &mut tick => break,
            }
        }
        fleet.evaluate_problems(common::now_s());
        if tokio::time::Instant::now() >= next_ask {
            let p = prom_firing(prom).await;
            next_ask = tokio::time::Instant::now() + Duration::from_secs(1);
            let k = kst_firing(fleet);
            if done(&k, &p) {
                return (k, p);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}\nkst fires:\n{k:#?}\nPrometheus fires:\n{p:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_fires_what_prometheus_fires_from_the_same_rule_table() {
    let test = "kst_fires_what_prometheus_fires_from_the_same_rule_table";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(1.0, Some(WINDOW), None);
    fleet.problems.hold_scale = SCALE;
    let opts = WorkerOptions { refresh: Duration::from_secs(1), ..common::fast_worker() };
    let mut col = Collectors::start(&targets, opts);
    common::pump_until(&mut fleet, &mut col.updates, "LLM-d discovered", |f| {
        [0, 1].iter().all(|i| {
            let l = &f.clusters[*i].llmd;
            !l.pools.is_empty() && !l.servers.is_empty() && l.servers.iter().all(|s| s.pool.is_some())
        })
    })
    .await;
    let (_peer, _dir, prom) = start_prometheus_with(&prometheus, |dir| config(&sim, &fleet, dir)).await;

    // Prometheus holds a whole window of every server and picker before anything changes (rates
    // over a window it has only partly seen would not be the same numbers as kst's)
    let full = (WINDOW - 2.0).to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    for series in ["vllm:num_requests_running", "llm_d_epp_request_total"] {
        let q = format!("min(count_over_time({series}[{WINDOW}s])) >= {full}");
        while prom.vector(&q).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "Prometheus never held a window of {series}");
            // kst judges all along, as its triage tick does
            while let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(200), col.updates.recv()).await {
                fleet.apply(u);
            }
            fleet.evaluate_problems(common::now_s());
        }
    }
    // both watch the fleet at rest until they agree (the scenario's own trouble, if any)
    let (k, _) = both_until(&mut fleet, &mut col, &prom, "agreement at rest", |k, p| {
        k.keys().collect::<BTreeSet<_>>() == p.keys().collect::<BTreeSet<_>>()
    })
    .await;
    let at_rest = k.len();

    // the incidents: KV surge, TTFT spike and an error burst on gpu-us-east
    let east = sim.cluster("gpu-us-east").unwrap().clone();
    for i in [Incident::KvSurge, Incident::TtftSpike, Incident::ErrorBurst] {
        east.faults.set_incident(i, true);
    }
    let expected = [
        "LLMDDecodeKVCacheCritical",
        "LLMDKVCacheSaturation",
        "EPPCriticalErrorRatio",
        "EPPHighErrorRatio",
        "LLMDExtremeTTFT",
        "LLMDHighTTFT",
    ];
    let (k, p) = both_until(&mut fleet, &mut col, &prom, "the same alerts firing on both sides", |k, p| {
        let names: BTreeSet<&str> = p.keys().map(|k| k.0.as_str()).collect();
        expected.iter().all(|e| names.contains(e))
            && k.keys().collect::<BTreeSet<_>>() == p.keys().collect::<BTreeSet<_>>()
    })
    .await;
    // each started within two scrape intervals of when Prometheus made it active
    let mut by_rule: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for (key, since) in &k {
        let active = p[key];
        let diff = (since - active).abs();
        let detail =
            fleet.problems.all().into_iter().find(|x| x.rule.alert == key.0 && x.object.name == key.3).cloned();
        assert!(diff <= 2.0 + 1.0, "{key:?}: kst since {since:.3}, Prometheus active at {active:.3}: {detail:?}");
        let e = by_rule.entry(key.0.as_str()).or_default();
        e.0 += 1;
        e.1 = e.1.max(diff);
    }
    eprintln!("agreement with Prometheus' ALERTS ({at_rest} at rest): {by_rule:?}");

    // cleared: both resolve
    for i in [Incident::KvSurge, Incident::TtftSpike, Incident::ErrorBurst] {
        east.faults.set_incident(i, false);
    }
    both_until(&mut fleet, &mut col, &prom, "both resolved", |k, p| {
        let incident =
            |m: &BTreeMap<AlertKey, f64>| m.keys().any(|k| expected.contains(&k.0.as_str()) && k.1 == "gpu-us-east");
        !incident(k) && !incident(p)
    })
    .await;
    let resolved: BTreeSet<&str> = fleet.problems.all().iter().filter(|p| p.resolved()).map(|p| p.rule.alert).collect();
    for e in expected {
        assert!(resolved.contains(e), "kst lists {e} resolved: {resolved:?}");
    }
    col.stop();
}

/// An incident older than kst: a KV surge Prometheus has held for a while when kst starts in
/// prometheus mode. kst asks the query layer for the rule's history, so the critical fires in
/// its first evaluation with the surge's real start (within two scrape intervals of when
/// Prometheus first held it), not as a fresh `pending` dated by kst's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_older_than_kst_fires_at_once_with_its_start_from_the_query_layer() {
    use kst::sources::prom::PromConfig;
    use kst::sources::EngineSource;
    let test = "an_incident_older_than_kst_fires_at_once_with_its_start_from_the_query_layer";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let contexts: Vec<(String, String)> = targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect();
    // the servers, for Prometheus' scrape config
    let mut seen = Fleet::new(&contexts);
    let mut col = Collectors::start(&targets, common::fast_worker());
    common::pump_until(&mut seen, &mut col.updates, "LLM-d discovered", |f| {
        let l = &f.clusters[0].llmd;
        !l.servers.is_empty() && l.servers.iter().all(|s| s.pool.is_some())
    })
    .await;
    col.stop();
    let (_peer, _dir, prom) = start_prometheus_with(&prometheus, |dir| config(&sim, &seen, dir)).await;

    // the surge begins, and Prometheus holds it for 20 s before kst starts
    sim.cluster("gpu-us-east").unwrap().faults.set_incident(Incident::KvSurge, true);
    let held = "count_over_time((max by (cluster, namespace, pod) (vllm:kv_cache_usage_perc{cluster=\"gpu-us-east\",role!=\"prefill\"}) > 0.95)[30s:1s])";
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut surge_start = BTreeMap::new();
    loop {
        let series = prom.vector(held).await;
        if !series.is_empty()
            && series.iter().all(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) >= Some(20.0))
        {
            // when Prometheus first held it, per pod
            for s in prom.vector("min_over_time(timestamp(max by (cluster, namespace, pod) (vllm:kv_cache_usage_perc{cluster=\"gpu-us-east\",role!=\"prefill\"}) > 0.95)[60s:1s])").await {
                let pod = s["metric"]["pod"].as_str().unwrap_or("").to_string();
                surge_start.insert(pod, s["value"][1].as_str().unwrap().parse::<f64>().unwrap());
            }
            break;
        }
        assert!(std::time::Instant::now() < deadline, "Prometheus never held the surge: {series:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // kst starts now, in prometheus mode, its rule's for: 10 s (300 s x 1/30)
    let mut fleet = Fleet::new(&contexts);
    fleet.set_metrics(1.0, Some(WINDOW), None);
    fleet.problems.hold_scale = 1.0 / 30.0;
    let opts = WorkerOptions { refresh: Duration::from_secs(1), engines: EngineSource::Query, ..common::fast_worker() };
    let mut col = Collectors::start(&targets, opts);
    let cfg = PromConfig {
        url: prom.base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        rate_window: Duration::from_secs(WINDOW as u64),
        ..Default::default()
    };
    col.start_prom(
        vec![cfg],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    );
    let started = common::now_s();
    // the first evaluation that judges the decode servers' KV: every one already firing
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let first = loop {
        while let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(100), col.updates.recv()).await {
            fleet.apply(u);
        }
        fleet.evaluate_problems(common::now_s());
        let kv: Vec<kst::store::problems::Problem> =
            fleet.problems.all().into_iter().filter(|p| p.kind == "kv-decode").cloned().collect();
        if kv.len() >= surge_start.len() && !kv.is_empty() {
            break kv;
        }
        assert!(tokio::time::Instant::now() < deadline, "kst never judged the surge: {kv:?}");
    };
    for p in &first {
        assert!(p.firing(), "fires at once, its for: served by the history: {p:?}");
        assert!(!p.since_lower_bound, "{p:?}");
        let want = surge_start[&p.object.name];
        assert!(
            (p.since - want).abs() <= 3.0,
            "{}: since {:.1}, Prometheus held it from {want:.1}",
            p.object.name,
            p.since
        );
        assert!(started - p.since >= 15.0, "older than kst: {p:?}");
    }
    eprintln!(
        "kv-decode from the history: {} servers, since within {:.2} s of Prometheus' first holding",
        first.len(),
        first.iter().map(|p| (p.since - surge_start[&p.object.name]).abs()).fold(0.0, f64::max)
    );
    col.stop();
}
