//! kst's numbers are the numbers a Grafana user would see: a real Prometheus scrapes the same
//! simulated model servers and endpoint pickers (through the API server's pod and service
//! proxy, with the simulator's CA and token, as kst does), and its `rate()`,
//! `histogram_quantile()` and gauges are compared with what kst's store says.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use kst::sources::{Collectors, WorkerOptions};
use kst::store::llmd::{Freshness, PoolInfo, ServerInfo};
use kst::store::{Conn, Fleet};

use common::prom::{start_prometheus_with, Prom};

/// The rate window of both sides: 15 scrape intervals of 1 s.
const WINDOW: f64 = 15.0;

fn bucket_index(bounds: &[f64], v: f64) -> usize {
    bounds.iter().position(|b| v <= *b).unwrap_or(bounds.len())
}

/// Max relative difference per metric, for the figures in the closing note.
#[derive(Default)]
struct Agreement(BTreeMap<&'static str, (f64, usize)>);

impl Agreement {
    fn rate(&mut self, what: &'static str, series: &str, kst: Option<f64>, prom: Option<f64>) {
        let (k, p) = (kst.unwrap_or_else(|| panic!("kst has no {what} for {series}")), prom.unwrap());
        let rel = if p == 0.0 && k == 0.0 { 0.0 } else { (k - p).abs() / p.abs().max(1e-9) };
        assert!(rel <= 0.10, "{what} of {series}: kst {k} vs Prometheus {p} ({:.1}% apart)", rel * 100.0);
        let e = self.0.entry(what).or_default();
        e.0 = e.0.max(rel);
        e.1 += 1;
    }
    fn quantile(&mut self, what: &'static str, series: &str, bounds: &[f64], kst: Option<f64>, prom: Option<f64>) {
        let (k, p) = (kst.unwrap_or_else(|| panic!("kst has no {what} for {series}")), prom.unwrap());
        let (bk, bp) = (bucket_index(bounds, k), bucket_index(bounds, p));
        assert!(bk.abs_diff(bp) <= 1, "{what} of {series}: kst {k} (bucket {bk}) vs Prometheus {p} (bucket {bp})");
        let e = self.0.entry(what).or_default();
        e.0 = e.0.max((k - p).abs() / p.abs().max(1e-9));
        e.1 += 1;
    }
}

fn ttft_bounds() -> Vec<f64> {
    kst_sim::endpoints::vllm::TTFT_BUCKETS.to_vec()
}
fn itl_bounds() -> Vec<f64> {
    kst_sim::endpoints::vllm::ITL_BUCKETS.to_vec()
}

fn prometheus_config(sim: &kst_sim::SimFleet, fleet: &Fleet, dir: &std::path::Path) -> String {
    let all: Vec<usize> = (0..fleet.clusters.len()).collect();
    prometheus_config_for(sim, fleet, dir, &all)
}

/// The scrape config of a Prometheus that holds only these clusters' series.
fn prometheus_config_for(sim: &kst_sim::SimFleet, fleet: &Fleet, dir: &std::path::Path, only: &[usize]) -> String {
    std::fs::write(dir.join("ca.pem"), sim.ca_pem.as_ref().expect("the sim serves TLS")).unwrap();
    let mut jobs = Vec::new();
    for (i, c) in fleet.clusters.iter().enumerate().filter(|(i, _)| only.contains(i)) {
        let sc = sim.cluster(&c.context).unwrap();
        let token = dir.join(format!("token-{i}"));
        std::fs::write(&token, sc.admin_token()).unwrap();
        let host = sc.server_url().trim_start_matches("https://").to_string();
        let mut targets = Vec::new();
        for s in &c.llmd.servers {
            targets.push(serde_json::json!({"targets": [host], "labels": {
                "__metrics_path__": format!("/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics", s.namespace, s.name, s.metrics_port),
                "pod": s.name, "namespace": s.namespace, "cluster": c.context}}));
        }
        for p in &c.llmd.pools {
            let Some(svc) = &p.epp_service else { continue };
            targets.push(serde_json::json!({"targets": [host], "labels": {
                "__metrics_path__": format!("/api/v1/namespaces/{}/services/{svc}:9090/proxy/metrics", p.namespace),
                // what a ServiceMonitor adds: the picker is found by its Service
                "pool": p.name, "cluster": c.context, "namespace": p.namespace, "service": svc}}));
        }
        if targets.is_empty() {
            continue;
        }
        jobs.push(serde_json::json!({
            "job_name": c.context, "scheme": "https",
            "tls_config": {"ca_file": dir.join("ca.pem")},
            "authorization": {"credentials_file": token},
            "static_configs": targets}));
    }
    let cfg = serde_json::json!({
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
        "scrape_configs": jobs});
    // JSON is YAML
    cfg.to_string()
}

/// kst in prometheus mode on `targets` (its scrapers leave model servers to the query layer),
/// with the clusters `llmd` have discovered their pools and servers.
async fn query_mode(targets: &[kst::sources::Target], llmd: &[usize]) -> (Fleet, Collectors) {
    use kst::sources::EngineSource;
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(1.0, Some(WINDOW), None);
    let opts = WorkerOptions { refresh: Duration::from_secs(1), engines: EngineSource::Query, ..common::fast_worker() };
    let mut col = Collectors::start(targets, opts);
    common::pump_until(&mut fleet, &mut col.updates, "LLM-d discovered", |f| {
        llmd.iter().all(|i| {
            let l = &f.clusters[*i].llmd;
            !l.pools.is_empty() && !l.servers.is_empty() && l.servers.iter().all(|s| s.pool.is_some())
        })
    })
    .await;
    (fleet, col)
}

/// Every fresh server of cluster `ci`: its KV is the sample `layer` holds at the sample's time.
/// How many were compared.
async fn kv_as_held(layer: &Prom, fleet: &Fleet, ci: usize) -> usize {
    let c = &fleet.clusters[ci];
    let mut compared = 0;
    for s in fresh_servers(fleet, ci) {
        let latest = c.llmd.metrics[&s.key()].latest().unwrap();
        let sel = format!("{{cluster=\"{}\",pod=\"{}\"}}", c.context, s.name);
        let held =
            layer.scalar(&format!("vllm:kv_cache_usage_perc{sel} or vllm:gpu_cache_usage_perc{sel}"), latest.at).await;
        assert_eq!(latest.v.kv_usage, held, "{}: KV as {} holds it", s.name, layer.base);
        compared += 1;
    }
    compared
}

fn fresh_servers(fleet: &Fleet, ci: usize) -> Vec<&ServerInfo> {
    let c = &fleet.clusters[ci];
    let r = fleet.reading(common::now_s());
    c.llmd.servers.iter().filter(|s| c.llmd.view(s, &r).freshness == Freshness::Fresh).collect()
}

/// Applies updates for as long as `done` is false (generous deadline).
async fn pump_while(
    fleet: &mut Fleet,
    updates: &mut tokio::sync::mpsc::Receiver<kst::store::Update>,
    what: &str,
    mut not_done: impl FnMut(&Fleet) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while not_done(fleet) {
        match tokio::time::timeout(Duration::from_millis(200), updates.recv()).await {
            Ok(Some(u)) => {
                fleet.apply(u);
            }
            Ok(None) => panic!("collectors ended"),
            Err(_) if tokio::time::Instant::now() > deadline => panic!("timed out waiting for {what}"),
            Err(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_reads_the_numbers_a_real_prometheus_reads() {
    let test = "kst_reads_the_numbers_a_real_prometheus_reads";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(1.0, Some(WINDOW), None);
    let mut col =
        Collectors::start(&targets, WorkerOptions { refresh: Duration::from_secs(1), ..common::fast_worker() });
    let llmd_clusters = [0usize, 1];
    common::pump_until(&mut fleet, &mut col.updates, "LLM-d discovered with running pods", |f| {
        f.clusters.iter().all(|c| c.conn == Conn::Live)
            && llmd_clusters.iter().all(|i| {
                let l = &f.clusters[*i].llmd;
                !l.pools.is_empty()
                    && l.servers.iter().all(|s| (s.phase == "Running" || s.unschedulable.is_some()) && s.pool.is_some())
                    && l.pools.iter().all(|p| p.epp_service.is_some())
            })
    })
    .await;

    let (_prom, _dir, prom) = start_prometheus(&prometheus, &sim, &fleet).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // both sides fill a whole window: Prometheus has every target's samples over more than
    // the window, then kst has samples past that moment
    let full = format!("min(count_over_time(up[{}s]))", WINDOW + 2.0);
    loop {
        tokio::select! {
            u = col.updates.recv() => { fleet.apply(u.expect("collectors run")); }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                if prom.scalar(&full, common::now_s()).await.is_some_and(|n| n >= WINDOW + 1.0) { break; }
                assert!(std::time::Instant::now() < deadline + Duration::from_secs(60), "Prometheus never filled a window");
            }
        }
    }
    let started = common::now_s();
    pump_while(&mut fleet, &mut col.updates, "kst samples past Prometheus' full window", |f| {
        let r = f.reading(common::now_s());
        let enough = llmd_clusters.iter().all(|i| {
            let l = &f.clusters[*i].llmd;
            l.servers.iter().filter(|s| l.view(s, &r).freshness == Freshness::Fresh).all(|s| {
                let m = &l.metrics[&s.key()];
                m.latest().is_some_and(|x| x.at > started)
            })
        });
        !enough
    })
    .await;

    let mut agree = Agreement::default();
    for ci in llmd_clusters {
        let c = &fleet.clusters[ci];
        let r = fleet.reading(common::now_s());
        let (ttft_name, itl_name) = if ci == 1 {
            ("vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds")
        } else {
            ("vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds")
        };
        let servers = fresh_servers(&fleet, ci);
        assert!(servers.len() >= 2, "{}: fresh servers {}", c.context, servers.len());
        for s in &servers {
            let m = &c.llmd.metrics[&s.key()];
            let at = m.latest().unwrap().at;
            let sel = format!("{{pod=\"{}\"}}", s.name);
            prom.scraped_past(&format!("up{sel}"), at).await;
            let v = c.llmd.view(s, &r);
            let w = format!("[{WINDOW}s]");
            let p = |q: String| {
                let prom = &prom;
                async move { prom.scalar(&q, at).await }
            };
            agree.rate(
                "prompt tokens/s",
                &s.name,
                v.prompt_tps,
                p(format!("rate(vllm:prompt_tokens_total{sel}{w})")).await,
            );
            agree.rate(
                "generation tokens/s",
                &s.name,
                v.generation_tps,
                p(format!("rate(vllm:generation_tokens_total{sel}{w})")).await,
            );
            agree.rate(
                "requests/s",
                &s.name,
                v.request_rate,
                p(format!("sum(rate(vllm:request_success_total{sel}{w}))")).await,
            );
            for (q, name) in [(0.5, "TTFT p50"), (0.99, "TTFT p99")] {
                agree.quantile(
                    name,
                    &s.name,
                    &ttft_bounds(),
                    v.ttft.as_ref().and_then(|h| h.quantile(q)),
                    p(format!("histogram_quantile({q}, rate({ttft_name}_bucket{sel}{w}))")).await,
                );
            }
            for (q, name) in [(0.5, "ITL p50"), (0.99, "ITL p99")] {
                agree.quantile(
                    name,
                    &s.name,
                    &itl_bounds(),
                    v.itl.as_ref().and_then(|h| h.quantile(q)),
                    p(format!("histogram_quantile({q}, rate({itl_name}_bucket{sel}{w}))")).await,
                );
            }
        }
        // pools: sums over their fresh pods, and the endpoint picker's request rate
        for pool in &c.llmd.pools {
            let members: Vec<&ServerInfo> =
                servers.iter().copied().filter(|s| s.pool.as_deref() == Some(pool.name.as_str())).collect();
            if members.is_empty() || c.llmd.members(pool).count() != members.len() {
                continue; // a pool with a stale pod: kst leaves it out of the sums, as it should
            }
            let at = members.iter().map(|s| c.llmd.metrics[&s.key()].latest().unwrap().at).fold(0.0, f64::max);
            let names: Vec<&str> = members.iter().map(|s| s.name.as_str()).collect();
            let sel = format!("{{pod=~\"{}\"}}", names.join("|"));
            let pv = c.llmd.pool_view(pool, &r);
            agree.quantile(
                "pool TTFT p99",
                &pool.name,
                &ttft_bounds(),
                pv.ttft.as_ref().and_then(|h| h.quantile(0.99)),
                prom.scalar(
                    &format!("histogram_quantile(0.99, sum by (le) (rate({ttft_name}_bucket{sel}[{WINDOW}s])))"),
                    at,
                )
                .await,
            );
            epp_agreement(&prom, &mut agree, &fleet, ci, pool, &r).await;
        }
    }

    // gauges: with the load held still, both read the same page values
    for c in &sim.clusters {
        c.faults.set_steady(true);
    }
    let held = common::now_s() + 1.5;
    pump_while(&mut fleet, &mut col.updates, "samples after the load held still", |f| {
        llmd_clusters.iter().any(|ci| {
            fresh_servers(f, *ci).iter().any(|s| f.clusters[*ci].llmd.metrics[&s.key()].latest().unwrap().at < held)
        })
    })
    .await;
    let mut gauges = 0;
    for ci in llmd_clusters {
        let c = &fleet.clusters[ci];
        let kv_name = if ci == 1 { "vllm:gpu_cache_usage_perc" } else { "vllm:kv_cache_usage_perc" };
        for s in fresh_servers(&fleet, ci) {
            let last = c.llmd.metrics[&s.key()].latest().unwrap();
            let sel = format!("{{pod=\"{}\"}}", s.name);
            prom.scraped_past(&format!("up{sel}"), held).await;
            let at = common::now_s();
            let kv = prom.scalar(&format!("{kv_name}{sel}"), at).await;
            assert_eq!(last.v.kv_usage, kv, "KV usage of {}", s.name);
            let waiting = prom.scalar(&format!("vllm:num_requests_waiting{sel}"), at).await;
            assert_eq!(last.v.waiting, waiting, "waiting requests of {}", s.name);
            let running = prom.scalar(&format!("vllm:num_requests_running{sel}"), at).await;
            assert_eq!(last.v.running, running, "running requests of {}", s.name);
            gauges += 1;
        }
    }
    col.stop();
    eprintln!("agreement with Prometheus 2.x over a {WINDOW}s window (max relative difference, series compared):");
    for (what, (rel, n)) in &agree.0 {
        eprintln!("  {what:<22} {:>6.2}%  ({n})", rel * 100.0);
    }
    eprintln!("  KV, waiting, running  equal      ({gauges} pods)");
    assert!(agree.0.len() >= 8 && gauges >= 6, "compared too little: {} kinds, {gauges} gauges", agree.0.len());
}

async fn epp_agreement(
    prom: &Prom,
    agree: &mut Agreement,
    fleet: &Fleet,
    ci: usize,
    pool: &PoolInfo,
    r: &kst::store::rates::Reading,
) {
    let c = &fleet.clusters[ci];
    let Some(epp) = c.llmd.epp.get(&pool.key()) else { return };
    if epp.freshness(r).0 != Freshness::Fresh {
        return; // the 401 EPP: kst says why, Prometheus cannot scrape it either
    }
    let at = epp.latest().unwrap().at;
    let sel = format!("{{pool=\"{}\",cluster=\"{}\"}}", pool.name, c.context);
    let req = epp.rate(|e| e.requests, r);
    agree.rate(
        "EPP requests/s",
        &pool.name,
        req,
        prom.scalar(&format!("sum(rate(llm_d_epp_request_total{sel}[{WINDOW}s]))"), at).await,
    );
    let shares = epp.rate_map(|e| &e.attempts, r);
    for (ep, rate) in shares {
        let q = format!(
            "sum(rate(llm_d_epp_scheduler_attempts_total{{pool=\"{}\",cluster=\"{}\",endpoint_name=\"{ep}\"}}[{WINDOW}s]))",
            pool.name, c.context
        );
        agree.rate("EPP routing/s per pod", &ep, Some(rate), prom.scalar(&q, at).await);
    }
}

/// Prometheus mode: kst asks the query layer instead of the pods. The same real Prometheus
/// scrapes the simulator with a `cluster` label per target; kst, its direct scrapers told to
/// leave the model servers alone, reads every server's samples from one fleet query per refresh,
/// and its KV equals Prometheus' instant value, its rates and p99s agree with Prometheus' own
/// `rate()` and `histogram_quantile()` (the tolerances of the direct-mode test above). A wrong
/// cluster label, a wrong URL and a Prometheus that is gone are each said plainly, and the last
/// numbers then age instead of looking fresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_in_prometheus_mode_reads_what_prometheus_holds() {
    use kst::sources::prom::PromConfig;
    let test = "kst_in_prometheus_mode_reads_what_prometheus_holds";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let llmd_clusters = [0usize, 1];
    let (mut fleet, mut col) = query_mode(&targets, &llmd_clusters).await;
    assert!(
        fleet.clusters.iter().all(|c| c.llmd.metrics.is_empty()),
        "in prometheus mode the direct scrapers leave the model servers alone"
    );

    let (mut peer, _dir, prom) = start_prometheus(&prometheus, &sim, &fleet).await;
    let cfg = |label: &str| PromConfig {
        url: prom.base.clone(),
        cluster_label: label.into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let contexts: Vec<String> = targets.iter().map(|t| t.context.clone()).collect();
    col.start_prom(
        vec![cfg("cluster")],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    );

    // a window of samples on both sides: every running server fresh with rates, from Prometheus
    let full = format!("min(count_over_time(up[{}s]))", WINDOW + 2.0);
    let started = common::now_s();
    pump_while(&mut fleet, &mut col.updates, "kst's rates from Prometheus' samples", |f| {
        let r = f.reading(common::now_s());
        // (the wedged pod of gpu-eu-west never answers Prometheus either)
        let ready = llmd_clusters.iter().all(|i| {
            let l = &f.clusters[*i].llmd;
            // (a pod whose target is down has only the layer's word on it, no samples)
            let scraped: Vec<&ServerInfo> =
                l.servers.iter().filter(|s| l.metrics.get(&s.key()).is_some_and(|m| m.latest().is_some())).collect();
            scraped.len() >= 2
                && scraped.iter().all(|s| {
                    let v = l.view(s, &r);
                    v.freshness == Freshness::Fresh && v.request_rate.is_some()
                })
        });
        !(ready && common::now_s() - started > WINDOW + 3.0)
    })
    .await;
    // and Prometheus holds a whole window of every target (its first scrapes are spread out)
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !prom.scalar(&full, common::now_s()).await.is_some_and(|n| n >= WINDOW + 1.0) {
        assert!(std::time::Instant::now() < deadline, "Prometheus never filled a window");
        let until = common::now_s() + 0.5;
        pump_while(&mut fleet, &mut col.updates, "half a second", |_| common::now_s() < until).await;
    }
    let until = common::now_s() + 2.0;
    pump_while(&mut fleet, &mut col.updates, "kst past that moment", |_| common::now_s() < until).await;
    let state = fleet.prom.get(&0).cloned().expect("the source reported");
    assert_eq!(state.error, None);
    assert_eq!(state.covered, vec![0, 1], "both GPU clusters come from the query layer");
    // the wedged pod of gpu-eu-west: Prometheus' scrapes of it time out (`up` 0), and kst says
    // so, as direct mode says its own scrapes time out, instead of waiting for it
    let r = fleet.reading(common::now_s());
    let wedged: Vec<String> = llmd_clusters
        .iter()
        .flat_map(|i| {
            let l = &fleet.clusters[*i].llmd;
            l.servers
                .iter()
                .filter_map(|s| l.view(s, &r).stale)
                .filter(|w| w.contains("target down"))
                .collect::<Vec<_>>()
        })
        .collect();
    // (the crash-looping pod's refused scrapes count too, each with how long it took)
    assert!(!wedged.is_empty(), "the wedged pod is named");
    assert!(
        wedged.iter().all(|w| w.contains("the query layer cannot scrape it (up 0; its last scrape took")),
        "{wedged:?}"
    );
    assert!(wedged.iter().any(|w| !w.contains("took 0.0s")), "the wedged one ran into the scrape timeout: {wedged:?}");
    // and no pod Prometheus scrapes without samples is left waiting without a word
    for i in &llmd_clusters {
        let l = &fleet.clusters[*i].llmd;
        for s in l
            .servers
            .iter()
            .filter(|s| s.phase == "Running" && l.metrics.get(&s.key()).is_none_or(|m| m.latest().is_none()))
        {
            let v = l.view(s, &r);
            assert!(v.stale.as_deref().is_some_and(|w| w.contains("target down")), "{}: {:?}", s.name, v.stale);
        }
    }

    let mut agree = Agreement::default();
    for ci in llmd_clusters {
        let c = &fleet.clusters[ci];
        let r = fleet.reading(common::now_s());
        for s in c.llmd.servers.iter().filter(|s| c.llmd.view(s, &r).freshness == Freshness::Fresh) {
            let latest = c.llmd.metrics[&s.key()].latest().unwrap();
            let at = latest.at;
            let sel = format!("{{cluster=\"{}\",pod=\"{}\"}}", c.context, s.name);
            let v = c.llmd.view(s, &r);
            // the gauge is the very sample Prometheus holds at that time
            let kv = prom.scalar(&format!("vllm:kv_cache_usage_perc{sel} or vllm:gpu_cache_usage_perc{sel}"), at).await;
            assert_eq!(latest.v.kv_usage, kv, "KV of {}", s.name);
            let w = format!("[{}s]", WINDOW as u64);
            agree.rate(
                "generation tokens/s",
                &s.name,
                v.generation_tps,
                prom.scalar(&format!("sum(rate(vllm:generation_tokens_total{sel}{w}))"), at).await,
            );
            agree.rate(
                "requests/s",
                &s.name,
                v.request_rate,
                prom.scalar(&format!("sum(rate(vllm:request_success_total{sel}{w}))"), at).await,
            );
            agree.quantile(
                "TTFT p99",
                &s.name,
                &ttft_bounds(),
                v.ttft.as_ref().and_then(|h| h.quantile(0.99)),
                prom.scalar(
                    &format!(
                        "histogram_quantile(0.99, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{sel}{w})))"
                    ),
                    at,
                )
                .await,
            );
        }
    }
    // the endpoint pickers too: from the query layer only (the direct scrapers leave them alone)
    for ci in llmd_clusters {
        let r = fleet.reading(common::now_s());
        for pool in fleet.clusters[ci].llmd.pools.iter().filter(|p| p.epp_service.is_some()) {
            epp_agreement(&prom, &mut agree, &fleet, ci, pool, &r).await;
        }
    }
    for (what, (worst, n)) in &agree.0 {
        eprintln!("prometheus mode: {what}: {n} servers, max difference {:.2}%", worst * 100.0);
    }
    assert!(agree.0.get("requests/s").is_some_and(|(_, n)| *n >= 6), "most servers compared");
    assert!(agree.0.get("EPP requests/s").is_some_and(|(_, n)| *n >= 2), "the pickers through the query layer");

    // `kst snapshot` in prometheus mode asks the layer back for the window: its rates exist
    // before it could have sampled one itself, and they are the rates Prometheus computes
    let opts = WorkerOptions {
        refresh: Duration::from_secs(1),
        engines: kst::sources::EngineSource::Query,
        query: vec![cfg("cluster")],
        ..common::fast_worker()
    };
    let asked = std::time::Instant::now();
    let asked_at = common::now_s();
    let prom_source = Some((vec![cfg("cluster")], Default::default()));
    let window = Duration::from_secs_f64(WINDOW);
    let snap = kst::snapshot::collect_with(&targets, opts, vec![], Duration::from_secs(60), window, prom_source).await;
    let took = asked.elapsed();
    let r = snap.reading(common::now_s());
    let mut from_history = Agreement::default();
    let mut full_history = 0;
    for ci in llmd_clusters {
        let c = &snap.clusters[ci];
        for s in c.llmd.servers.iter().filter(|s| c.llmd.view(s, &r).freshness == Freshness::Fresh) {
            let held = &c.llmd.metrics[&s.key()];
            let at = held.latest().unwrap().at;
            // samples from before the snapshot began: the layer's history, not kst's sampling
            // (a whole window of it where Prometheus held one when the snapshot began; a pod
            // the simulator started since has less, on a loaded machine too)
            let oldest = held.samples.iter().next().unwrap().at;
            let sel = format!("{{cluster=\"{}\",pod=\"{}\"}}", c.context, s.name);
            let held_before = prom
                .scalar(&format!("count_over_time(vllm:generation_tokens_total{sel}[{}s])", WINDOW as u64), asked_at)
                .await
                .unwrap_or(0.0);
            assert!(held_before == 0.0 || oldest < asked_at, "{}: {oldest}..{at}, asked at {asked_at}", s.name);
            if held_before >= WINDOW - 1.0 {
                assert!(
                    at - oldest >= WINDOW - 1.0 && oldest < asked_at - WINDOW + 2.0,
                    "{}: {oldest}..{at}, asked at {asked_at}, {held_before} samples held then, {} kept",
                    s.name,
                    held.samples.len()
                );
                full_history += 1;
            }
            let w = format!("[{}s]", WINDOW as u64);
            let promql = format!("sum(rate(vllm:generation_tokens_total{sel}{w}))");
            let v = c.llmd.view(s, &r);
            from_history.rate("generation tokens/s", &s.name, v.generation_tps, prom.scalar(&promql, at).await);
        }
    }
    let compared = from_history.0.get("generation tokens/s").map_or(0, |(_, n)| *n);
    eprintln!("snapshot from the layer's window: {compared} servers in {} ms", took.as_millis());
    assert!(compared >= 6, "the snapshot's servers have rates");
    assert!(full_history >= compared / 2, "{full_history} of {compared} servers with a whole window held before");

    // a cluster label that is not there: a configuration error with the fix in it
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let wrong = tokio::spawn(kst::sources::prom::run(
        0,
        cfg("region"),
        std::sync::Arc::new(kst::sources::prom::Scope::of(&contexts)),
        Default::default(),
        tx,
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    ));
    let said = loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("an answer").unwrap() {
            kst::store::Update::Fleet(kst::store::FleetUpdate::Prom { state, .. }) => break state,
            _ => continue,
        }
    };
    wrong.abort();
    let e = said.error.expect("an error");
    assert!(e.contains("carry no `region` label") && e.contains("cluster_label"), "{e}");
    // a wrong URL: the server's own answer
    let mut bad = cfg("cluster");
    bad.url = format!("{}/nope", prom.base);
    let http = kst::sources::prom::Asker::Http(reqwest::Client::new());
    let e = kst::sources::prom::query(&http, &bad, "up").await.unwrap_err();
    assert!(e.0.starts_with("HTTP 404"), "{}", e.0);

    // Prometheus goes away: the source says so, and the numbers age rather than look fresh
    let _ = peer.0.kill();
    let _ = peer.0.wait();
    pump_while(&mut fleet, &mut col.updates, "the source down", |f| {
        !f.prom.get(&0).and_then(|p| p.error.as_deref()).is_some_and(|e| e.contains("cannot connect"))
    })
    .await;
    pump_while(&mut fleet, &mut col.updates, "the last numbers aging", |f| {
        let r = f.reading(common::now_s());
        let l = &f.clusters[0].llmd;
        !l.servers
            .iter()
            .filter(|s| l.metrics.contains_key(&s.key()))
            .all(|s| l.view(s, &r).freshness != Freshness::Fresh)
    })
    .await;
    col.stop();
}

/// Two query layers, as a fleet split across regions has: Prometheus A holds gpu-eu-west only,
/// B holds gpu-us-east and gpu-eu-west, and the config lists A first. Each cluster is read from
/// the first layer holding it (A for gpu-eu-west, B for gpu-us-east), every KV the one its layer
/// holds at the sample's time; when A goes away, A is named as failing and B takes gpu-eu-west
/// over, so its servers stay fresh instead of ageing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_query_layers_split_the_fleet_and_the_second_takes_over_when_the_first_goes() {
    use kst::sources::prom::PromConfig;
    let test = "two_query_layers_split_the_fleet_and_the_second_takes_over_when_the_first_goes";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let (east, west) = (0usize, 1usize);
    let (mut fleet, mut col) = query_mode(&targets, &[east, west]).await;
    let (mut peer_a, _dir_a, a) =
        start_prometheus_with(&prometheus, |dir| prometheus_config_for(&sim, &fleet, dir, &[west])).await;
    let (_peer_b, _dir_b, b) =
        start_prometheus_with(&prometheus, |dir| prometheus_config_for(&sim, &fleet, dir, &[east, west])).await;
    let cfg = |p: &Prom| PromConfig {
        url: p.base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    col.start_prom(
        vec![cfg(&a), cfg(&b)],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    );
    let served = |f: &Fleet, source: usize| f.prom.get(&source).map(|p| p.covered.clone()).unwrap_or_default();
    pump_while(&mut fleet, &mut col.updates, "each layer serving its clusters, every server fresh", |f| {
        !(served(f, 0) == vec![west]
            && served(f, 1) == vec![east]
            && [east, west].iter().all(|ci| fresh_servers(f, *ci).len() >= 2))
    })
    .await;
    // each fresh server's KV is the sample its own layer holds at that time
    let compared = kv_as_held(&b, &fleet, east).await + kv_as_held(&a, &fleet, west).await;
    assert!(compared >= 4, "{compared} servers compared");
    assert!(
        fleet.prom_clusters.get("gpu-eu-west").is_some_and(|r| r.servers.is_some())
            && fleet.prom_clusters.get("gpu-us-east").is_some_and(|r| r.servers.is_some()),
        "roll-ups from both layers"
    );
    let line = kst::store::sources_line(&fleet.prom).unwrap();
    assert_eq!(line, "metrics via 2 query layers", "both answering: nothing to name");
    // the snapshot says which layer serves which cluster
    let snap = serde_json::to_value(kst::snapshot::Snapshot::of(&fleet)).unwrap();
    let layers: Vec<(String, serde_json::Value)> = snap["metrics_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["url"].as_str().unwrap().to_string(), l["clusters"].clone()))
        .collect();
    assert_eq!(
        layers,
        vec![
            (a.base.clone(), serde_json::json!(["gpu-eu-west"])),
            (b.base.clone(), serde_json::json!(["gpu-us-east"]))
        ]
    );

    // `:promql` in the TUI: a typo is refused before anything is sent; an expression is asked
    // of both layers in the config's order, each answer the one that layer gives
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let (vtx, mut vrx) = tokio::sync::mpsc::channel(64);
    let mut app = kst::ui::App::new(fleet.clone(), kst::theme::Theme::builtin("mono").unwrap(), kst::ui::Mode::Normal);
    let feeds =
        kst::sources::views::start_with_layers(targets.clone(), vec![cfg(&a), cfg(&b)], Duration::from_secs(1), vtx);
    app.feeds = kst::ui::feeds::Feeds::new(Some(feeds));
    let command = |app: &mut kst::ui::App, line: &str| {
        app.on_key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE));
        for c in line.chars() {
            app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    };
    command(&mut app, "promql sum(rate(vllm:generation_tokens_total[1m])");
    assert!(app.flash.as_deref().is_some_and(|f| f.starts_with("PromQL: ")), "{:?}", app.flash);
    assert!(app.views.is_empty(), "nothing opened, nothing sent");
    command(&mut app, "promql count by (cluster) (vllm:num_requests_running)");
    assert_eq!(app.views.len(), 1, "{:?}", app.flash);
    let via = |p: &Prom| format!("via {} · evaluated", p.base);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let screen = loop {
        let s = common::render(&mut app, 200, 60);
        if s.contains(&via(&a)) && s.contains(&via(&b)) {
            break s;
        }
        match tokio::time::timeout_at(deadline, vrx.recv()).await {
            Ok(Some(u)) => {
                app.on_update(u);
            }
            _ => panic!("no answer from both layers in the view:\n{s}"),
        }
    };
    let count_q = |c: &str| format!("count(vllm:num_requests_running{{cluster=\"{c}\"}})");
    let row = |n: f64, c: &str| format!("{n:<5}  {{cluster=\"{c}\"}}");
    let a_west = a.scalar(&count_q("gpu-eu-west"), common::now_s()).await.expect("a count");
    let b_east = b.scalar(&count_q("gpu-us-east"), common::now_s()).await.expect("a count");
    let a_block = screen.split(&via(&a)).nth(1).unwrap().split(&via(&b)).next().unwrap();
    assert!(a_block.contains(&row(a_west, "gpu-eu-west")) && !a_block.contains("gpu-us-east"), "{screen}");
    let b_block = screen.split(&via(&b)).nth(1).unwrap();
    assert!(b_block.contains(&row(b_east, "gpu-us-east")) && b_block.contains("gpu-eu-west"), "{screen}");

    // A goes away: it is named, and B takes gpu-eu-west over without a stale gap
    let _ = peer_a.0.kill();
    let _ = peer_a.0.wait();
    let gone = common::now_s();
    pump_while(&mut fleet, &mut col.updates, "B serving both clusters and west fresh from B", |f| {
        let west_fresh_since = fresh_servers(f, west)
            .iter()
            .all(|s| f.clusters[west].llmd.metrics[&s.key()].latest().is_some_and(|l| l.at > gone));
        !(served(f, 1) == vec![east, west] && fresh_servers(f, west).len() >= 2 && west_fresh_since)
    })
    .await;
    let line = kst::store::sources_line(&fleet.prom).unwrap();
    assert!(line.starts_with(&format!("metrics via 2 query layers · {} · cannot connect", a.base)), "{line}");
    assert!(kv_as_held(&b, &fleet, west).await >= 2, "gpu-eu-west as B holds it, after A went away");
    col.stop();
}

/// A query layer inside a cluster, reached through that context's API server service proxy
/// with the context's credentials (no URL, no token of its own): a real Prometheus stands behind
/// the Service `monitoring/prometheus-k8s` of agents-us-central, and kst reads the GPU clusters'
/// model servers through it with the KV Prometheus holds; every query is a proxy request on that
/// API server; a Service that is not there is the API server's own 404, said as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_layer_reached_through_a_context_s_service_proxy() {
    use kst::sources::prom::{PromConfig, Through};
    let test = "a_query_layer_reached_through_a_context_s_service_proxy";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let (mut fleet, mut col) = query_mode(&targets, &[0, 1]).await;
    let (_peer, _dir, prom) = start_prometheus(&prometheus, &sim, &fleet).await;
    let home = sim.cluster("agents-us-central").unwrap();
    {
        use kst_sim::resources as r;
        let mut store = home.store.write().unwrap();
        store.put(
            r_index(home, &r::NAMESPACES),
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "monitoring"}}),
        );
        store.put(
            r_index(home, &r::SERVICES),
            serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "prometheus-k8s", "namespace": "monitoring",
                         "annotations": {kst_sim::endpoints::FORWARD_TO: prom.base.clone()}},
            "spec": {"ports": [{"name": "web", "port": 9090, "targetPort": 9090}], "selector": {"app": "prometheus"}}}),
        );
    }
    let through = |service: &str| {
        let mut t = Through::parse("agents-us-central", service).unwrap();
        t.kubeconfig = Some(targets[0].kubeconfig.clone());
        PromConfig {
            url: t.display(),
            through: Some(t),
            cluster_label: "cluster".into(),
            timeout: Duration::from_secs(5),
            ..Default::default()
        }
    };
    let proxied_before = home.requests("proxy", "services");
    col.start_prom(
        vec![through("monitoring/prometheus-k8s:9090")],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    );
    pump_while(&mut fleet, &mut col.updates, "the GPU clusters' servers fresh through the proxy", |f| {
        !(f.prom.get(&0).is_some_and(|p| p.covered == vec![0, 1] && p.error.is_none())
            && [0, 1].iter().all(|ci| fresh_servers(f, *ci).len() >= 2))
    })
    .await;
    let state = &fleet.prom[&0];
    assert_eq!(state.url, "agents-us-central: service monitoring/prometheus-k8s:9090");
    let compared = kv_as_held(&prom, &fleet, 0).await + kv_as_held(&prom, &fleet, 1).await;
    assert!(compared >= 4, "{compared} servers compared");
    assert!(home.requests("proxy", "services") > proxied_before + 2, "the queries went through the API server");

    // a Service that is not there: the API server's 404, not a broken answer of the layer
    let asker = kst::sources::prom::Asker::for_config(&through("monitoring/nope:9090")).await.unwrap();
    let e = kst::sources::prom::query(&asker, &through("monitoring/nope:9090"), "up").await.unwrap_err();
    assert!(e.0.starts_with("HTTP 404 from the API server: ") && e.0.contains("nope"), "{}", e.0);
    col.stop();
}

/// Per-pod series only for dialed clusters: a cluster known only through the hub is a roll-up
/// row (the per-pod query does not name it, though the query layer holds its pods); dialed
/// through the hub's cluster-proxy it joins the per-pod query at the next refresh, and its
/// model servers are then read from the query layer (prometheus mode: never scraped through
/// the proxy), each KV the one Prometheus holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_cluster_dialed_later_gets_its_pods_from_the_query_layer() {
    use kst::sources::connect::{ClusterProxy, Dialer};
    use kst::sources::prom::PromConfig;
    use kst::sources::EngineSource;
    let test = "a_hub_cluster_dialed_later_gets_its_pods_from_the_query_layer";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim_with(kst_sim::SimOptions { kubestellar: true, ..Default::default() }).await;
    // what Prometheus scrapes: gpu-eu-west's servers (found by a look with every context)
    let all = common::targets(&sim);
    let mut look = Fleet::new(&all.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let west_all = all.iter().position(|t| t.context == "gpu-eu-west").unwrap();
    let mut col = Collectors::start(&all, common::fast_worker());
    common::pump_until(&mut look, &mut col.updates, "gpu-eu-west's servers", |f| {
        f.clusters[west_all].llmd.servers.len() >= 2
    })
    .await;
    col.stop();
    let (_peer, _dir, prom) =
        start_prometheus_with(&prometheus, |dir| prometheus_config_for(&sim, &look, dir, &[west_all])).await;

    // kst without a context for gpu-eu-west: the hub knows it
    let targets: Vec<_> = all.iter().filter(|t| t.context != "gpu-eu-west").cloned().collect();
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(1.0, Some(WINDOW), None);
    let opts = WorkerOptions { refresh: Duration::from_secs(1), engines: EngineSource::Query, ..common::fast_worker() };
    let mut col = Collectors::start(&targets, opts.clone());
    let cfg = PromConfig {
        url: prom.base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    col.start_prom(
        vec![cfg],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_secs(1), window: Duration::ZERO },
    );
    pump_while(&mut fleet, &mut col.updates, "gpu-eu-west as a hub row with the layer's roll-up", |f| {
        let row = kst::store::hub::clusters(f).into_iter().find(|h| h.name == "gpu-eu-west");
        !row.is_some_and(|h| h.metrics.is_some_and(|m| m.servers.is_some_and(|n| n >= 2.0)))
    })
    .await;
    let state = &fleet.prom[&0];
    assert_eq!((state.series, state.covered.len()), (0, 0), "no per-pod series asked for a cluster not dialed");

    let dialer = Dialer {
        proxy: ClusterProxy::Ocm {
            url: sim.cluster_proxy_url().unwrap(),
            hub: "its1".into(),
            ca_pem: sim.ca_pem.clone(),
        },
        hub_kubeconfig: targets[0].kubeconfig.clone(),
        tx: col.dialer(opts),
    };
    let (i, _) = dialer.dial(&mut fleet, "gpu-eu-west").unwrap();
    pump_while(&mut fleet, &mut col.updates, "gpu-eu-west's servers fresh from the query layer", |f| {
        !(f.prom.get(&0).is_some_and(|p| p.covered == vec![i]) && fresh_servers(f, i).len() >= 2)
    })
    .await;
    let compared = kv_as_held(&prom, &fleet, i).await;
    assert!(compared >= 2, "{compared} servers compared");
    col.stop();
}

fn r_index(c: &kst_sim::SimCluster, r: &kst_sim::resources::ResDef) -> usize {
    c.registry.index_of(r).unwrap()
}

/// A private Prometheus on a free loopback port scraping the simulator's model servers and
/// endpoint pickers that `fleet` knows, ready; its process, its directory and a client.
async fn start_prometheus(
    bin: &std::path::Path,
    sim: &kst_sim::SimFleet,
    fleet: &Fleet,
) -> (common::Peer, tempfile::TempDir, Prom) {
    start_prometheus_with(bin, |dir| prometheus_config(sim, fleet, dir)).await
}

/// GPUs through the query layer: a real Prometheus scrapes the simulator's dcgm-exporters (with
/// a `cluster` label), and kst in prometheus mode, its exporter scrapes left alone, shows each
/// GPU's utilisation, memory and XID as Prometheus holds them at the sample's time, with the
/// holders' model and team read from their pods; a cluster the query layer has no DCGM series
/// for says so instead of showing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpus_from_the_query_layer_are_the_ones_prometheus_holds() {
    use k8s_openapi::api::core::v1::Pod;
    use kst::sources::prom::PromConfig;
    use kst::sources::EngineSource;
    let test = "gpus_from_the_query_layer_are_the_ones_prometheus_holds";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    // every exporter pod of the two GPU clusters, as a scrape target through the pod proxy
    let mut exporters: Vec<(usize, String, String)> = Vec::new();
    for (i, t) in targets.iter().enumerate().take(2) {
        let client = kst::sources::connect::client_for(t).await.unwrap();
        let pods: kube::Api<Pod> = kube::Api::all(client);
        let list = pods.list(&kube::api::ListParams::default().labels("app=nvidia-dcgm-exporter")).await.unwrap();
        for p in list.items {
            exporters.push((i, p.metadata.namespace.unwrap(), p.metadata.name.unwrap()));
        }
    }
    assert_eq!(exporters.len(), 4 + 3, "one exporter per GPU node");
    let contexts: Vec<String> = targets.iter().map(|t| t.context.clone()).collect();
    let (_peer, _dir, prom) = start_prometheus_with(&prometheus, |dir| {
        std::fs::write(dir.join("ca.pem"), sim.ca_pem.as_ref().unwrap()).unwrap();
        let mut jobs = Vec::new();
        for (i, ctx) in contexts.iter().enumerate().take(2) {
            let sc = sim.cluster(ctx).unwrap();
            let token = dir.join(format!("token-{i}"));
            std::fs::write(&token, sc.admin_token()).unwrap();
            let host = sc.server_url().trim_start_matches("https://").to_string();
            let targets: Vec<serde_json::Value> = exporters
                .iter()
                .filter(|e| e.0 == i)
                .map(|(_, ns, pod)| {
                    serde_json::json!({"targets": [host], "labels": {
                    "__metrics_path__": format!("/api/v1/namespaces/{ns}/pods/{pod}:9400/proxy/metrics"),
                    "cluster": ctx}})
                })
                .collect();
            jobs.push(serde_json::json!({"job_name": format!("dcgm-{ctx}"), "scheme": "https",
                "tls_config": {"ca_file": dir.join("ca.pem")},
                "authorization": {"credentials_file": token}, "static_configs": targets}));
        }
        serde_json::json!({"global": {"scrape_interval": "1s", "scrape_timeout": "900ms"}, "scrape_configs": jobs})
            .to_string()
    })
    .await;
    let cfg = PromConfig {
        url: prom.base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let opts = WorkerOptions {
        refresh: Duration::from_secs(1),
        engines: EngineSource::Query,
        query: vec![cfg.clone()],
        ..common::fast_worker()
    };
    let mut col = Collectors::start(&targets, opts);
    common::pump_until(&mut fleet, &mut col.updates, "every GPU node through Prometheus", |f| {
        f.clusters[0].gpus.nodes.len() == 4
            && f.clusters[1].gpus.nodes.len() == 3
            && f.clusters[..2].iter().all(|c| c.gpus.via.as_deref().is_some_and(|v| v.starts_with("GPUs via")))
            && f.clusters[..2].iter().all(|c| c.gpus.gpus().all(|g| g.pod.is_none() || g.team.is_some()))
            && f.clusters[2].gpus.via.is_some()
    })
    .await;
    col.stop();
    let mut compared = 0;
    for c in &fleet.clusters[..2] {
        assert_eq!(c.gpus.via.as_deref(), Some(format!("GPUs via {}", prom.base).as_str()));
        for (node, n) in &c.gpus.nodes {
            let at = n.at.unwrap();
            for g in n.gpus.iter().filter(|g| g.mig.is_none()) {
                let sel = format!("{{cluster=\"{}\",Hostname=\"{node}\",gpu=\"{}\"}}", c.context, g.gpu);
                let util = prom.scalar(&format!("DCGM_FI_DEV_GPU_UTIL{sel} / 100"), at).await;
                assert_eq!(g.util, util, "{} {}: utilisation", c.context, g.id());
                let fb = prom.scalar(&format!("DCGM_FI_DEV_FB_USED{sel}"), at).await;
                assert_eq!(g.fb_used_mib, fb, "{} {}: memory", c.context, g.id());
                compared += 1;
            }
        }
    }
    assert!(compared >= 50, "{compared} GPUs compared");
    let west = &fleet.clusters[1].gpus;
    assert!(west.gpus().any(|g| g.has_xid()), "the withheld A100's XID 79 through Prometheus");
    assert!(west.gpus().any(|g| g.mig.is_some()), "MIG instances through Prometheus");
    assert!(west.gpus().any(|g| g.team.as_deref() == Some("research")), "holders' labels from their pods");
    let none = fleet.clusters[2].gpus.via.clone().unwrap();
    assert!(none.contains("holds no DCGM series with cluster=\"agents-us-central\""), "{none}");
}

/// The victoria-metrics binary, or None after saying loudly that `test` skipped without it.
fn victoria_metrics(test: &str) -> Option<std::path::PathBuf> {
    let vm = common::peers::debian_binary("victoria-metrics", "victoria-metrics");
    if vm.is_none() {
        common::peers::missing(test, "victoria-metrics", "apt-get install victoria-metrics");
    }
    vm
}

/// A private VictoriaMetrics on a free loopback port, ready; its process, its data directory and
/// its base URL.
async fn start_victoria_metrics(bin: &std::path::Path) -> (common::Peer, tempfile::TempDir, String) {
    start_victoria_metrics_with(bin, &[]).await
}

/// `start_victoria_metrics` with more flags.
async fn start_victoria_metrics_with(
    bin: &std::path::Path,
    flags: &[&str],
) -> (common::Peer, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let peer = common::Peer(
        std::process::Command::new(bin)
            .arg(format!("-storageDataPath={}", dir.path().join("data").display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg("-search.latencyOffset=0s")
            .arg("-search.disableCache")
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("vm.log")).unwrap())
            .spawn()
            .expect("victoria-metrics starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !http.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "victoria-metrics did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (peer, dir, base)
}

/// A second backend: VictoriaMetrics answers the same API with its own engine, so kst's client
/// is not tied to one server's quirks. Known samples are pushed (text format, a `cluster` label
/// added on import) and read back through kst's fleet query: the gauges, counters and histogram
/// buckets kst decodes are the ones pushed (MetricsQL's `rate` differs on purpose, so no rates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn victoria_metrics_answers_the_fleet_query_too() {
    use kst::sources::prom::{engines_query, exposition, group, query, PromConfig};
    let test = "victoria_metrics_answers_the_fleet_query_too";
    let Some(vm) = victoria_metrics(test) else { return };
    let (_vm, _dir, base) = start_victoria_metrics(&vm).await;
    let http = reqwest::Client::new();
    let asker = kst::sources::prom::Asker::Http(http.clone());
    let now_ms = (common::now_s() * 1000.0) as i64 - 2000;
    let page = |pod: &str, kv: f64, gen: f64| {
        format!(
            "vllm:kv_cache_usage_perc{{namespace=\"llm-d\",pod=\"{pod}\",model_name=\"m\"}} {kv} {now_ms}\n\
             vllm:num_requests_running{{namespace=\"llm-d\",pod=\"{pod}\",model_name=\"m\"}} 3 {now_ms}\n\
             vllm:generation_tokens_total{{namespace=\"llm-d\",pod=\"{pod}\",model_name=\"m\"}} {gen} {now_ms}\n\
             vllm:time_to_first_token_seconds_bucket{{namespace=\"llm-d\",pod=\"{pod}\",le=\"0.1\"}} 4 {now_ms}\n\
             vllm:time_to_first_token_seconds_bucket{{namespace=\"llm-d\",pod=\"{pod}\",le=\"+Inf\"}} 10 {now_ms}\n\
             vllm:time_to_first_token_seconds_count{{namespace=\"llm-d\",pod=\"{pod}\"}} 10 {now_ms}\n\
             vllm:time_to_first_token_seconds_sum{{namespace=\"llm-d\",pod=\"{pod}\"}} 2.5 {now_ms}\n\
             process_cpu_seconds_total{{namespace=\"llm-d\",pod=\"{pod}\"}} 9 {now_ms}\n"
        )
    };
    for (cluster, pod, kv, gen) in
        [("east", "p0", 0.42, 1000.0), ("east", "p1", 0.87, 2500.0), ("west", "q0", 0.5, 10.0)]
    {
        let r = http
            .post(format!("{base}/api/v1/import/prometheus?extra_label=cluster={cluster}"))
            .body(page(pod, kv, gen))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "import: {}", r.status());
    }
    // an SGLang server on east: its own names, read by the same query
    let sglang = format!(
        "sglang:token_usage{{namespace=\"llm-d\",pod=\"s0\",model_name=\"qwen\"}} 0.61 {now_ms}\n\
         sglang:num_running_reqs{{namespace=\"llm-d\",pod=\"s0\",model_name=\"qwen\"}} 5 {now_ms}\n\
         sglang:generation_tokens_total{{namespace=\"llm-d\",pod=\"s0\"}} 777 {now_ms}\n\
         sglang:time_to_first_token_seconds_bucket{{namespace=\"llm-d\",pod=\"s0\",le=\"0.5\"}} 6 {now_ms}\n\
         sglang:time_to_first_token_seconds_bucket{{namespace=\"llm-d\",pod=\"s0\",le=\"+Inf\"}} 8 {now_ms}\n\
         sglang:time_to_first_token_seconds_count{{namespace=\"llm-d\",pod=\"s0\"}} 8 {now_ms}\n"
    );
    let r = http
        .post(format!("{base}/api/v1/import/prometheus?extra_label=cluster=east"))
        .body(sglang)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let _ = http.get(format!("{base}/internal/force_flush")).send().await;
    let cfg = PromConfig {
        url: base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let contexts = ["kind-east".to_string(), "west".to_string()];
    let map: BTreeMap<String, String> = [("east".to_string(), "kind-east".to_string())].into();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let a = query(&asker, &cfg, &engines_query()).await.expect("VictoriaMetrics answers the fleet query");
        if a.samples.len() >= 27 {
            break a;
        }
        assert!(std::time::Instant::now() < deadline, "the pushed samples never showed: {}", a.samples.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer.samples.len(), 27, "3 vLLM pods x 7 series and 6 SGLang series, not the process series");
    let (pods, unlabelled, unknown) =
        group(&answer, "cluster", |v| contexts.iter().position(|c| c == map.get(v).map(String::as_str).unwrap_or(v)));
    assert_eq!((pods.len(), unlabelled, unknown.len()), (4, 0, 0));
    let decode = |ci: usize, pod: &str| {
        let series = &pods[&(ci, ("llm-d".to_string(), pod.to_string()))];
        kst::sources::metrics::decode_engine(&exposition(series), kst::sources::prom::engine_kind(series)).unwrap()
    };
    let s0 = decode(0, "s0");
    assert_eq!((s0.kv_usage, s0.running, s0.generation_tokens), (Some(0.61), Some(5.0), Some(777.0)), "SGLang's names");
    assert_eq!(s0.ttft.unwrap().cumulative, vec![6.0, 8.0]);
    let p1 = decode(0, "p1");
    assert_eq!((p1.kv_usage, p1.running, p1.generation_tokens), (Some(0.87), Some(3.0), Some(2500.0)));
    assert_eq!(p1.ttft.unwrap().cumulative, vec![4.0, 10.0]);
    assert_eq!(p1.model_name.as_deref(), Some("m"));
    assert_eq!(decode(1, "q0").kv_usage, Some(0.5), "a context named as its label value");
    // the points carry the evaluation time; the scrape time is asked for
    let times = query(&asker, &cfg, &kst::sources::prom::times_query("cluster", &["east".into(), "west".into()]))
        .await
        .unwrap();
    assert_eq!(times.samples.len(), 4, "the SGLang pod's scrape time too");
    assert!(times.samples.iter().all(|s| (s.value - now_ms as f64 / 1000.0).abs() < 0.01), "{times:?}");
}

/// Five hub clusters' series in the text format, as at `now` (seconds): edge-0000..0004, two
/// servers each, KV 0.25 and 0.75, generation counters 60 s apart, TTFT buckets, four GPUs.
fn hub_series(now: i64) -> String {
    let mut body = String::new();
    for c in 0..5 {
        // edge-0004 is the outlier: one server's KV cache at 98.5%
        let hot = if c == 4 { 0.985 } else { 0.75 };
        for (pod, kv) in [("v0", 0.25), ("v1", hot)] {
            let l = format!("cluster=\"edge-{c:04}\",namespace=\"llm-d\",pod=\"{pod}\"");
            for (i, t) in [now - 60, now - 30, now - 1].iter().enumerate() {
                body.push_str(&format!("vllm:kv_cache_usage_perc{{{l}}} {kv} {}\n", t * 1000));
                body.push_str(&format!("vllm:num_requests_running{{{l}}} 2 {}\n", t * 1000));
                body.push_str(&format!("vllm:generation_tokens_total{{{l}}} {} {}\n", [0, 3000, 5900][i], t * 1000));
                // TTFT buckets: 100 under 0.1 s, 80 more under 0.5 s, 18 under 1 s over the minute
                for (le, n) in [("0.1", 100), ("0.5", 180), ("1", 198), ("+Inf", 198)] {
                    body.push_str(&format!(
                        "vllm:time_to_first_token_seconds_bucket{{{l},le=\"{le}\"}} {} {}\n",
                        n * i / 2,
                        t * 1000
                    ));
                }
            }
        }
        // four GPUs a cluster: 80%, 40%, 5% and 0% busy
        for (gpu, util) in [80, 40, 5, 0].iter().enumerate() {
            let l = format!("cluster=\"edge-{c:04}\",Hostname=\"n0\",gpu=\"{gpu}\"");
            body.push_str(&format!("DCGM_FI_DEV_GPU_UTIL{{{l}}} {util} {}\n", (now - 1) * 1000));
        }
    }
    body
}

/// edge-0003's roll-ups as `hub_series` pushed them, however they were asked.
fn edge_0003_as_pushed(e: &kst::store::hub::ClusterAgg, now: i64) {
    assert_eq!((e.servers, e.kv_avg, e.kv_max), (Some(2.0), Some(0.5), Some(0.75)));
    // two servers, each 5,900 tokens over 59 s: ~200 tokens/s (MetricsQL's rate: no extrapolation)
    let g = e.generation_tokens_per_s.unwrap();
    assert!((g - 200.0).abs() < 10.0, "{g}");
    assert!((e.scraped_at.unwrap() - (now - 1) as f64).abs() < 0.01, "the samples' own time");
    // TTFT p99 from both servers' merged buckets: rank 196.02 of 198, in (0.5, 1]: 0.5 + 0.5 x 16.02/18
    let ttft = e.ttft_p99_s.unwrap();
    assert!((ttft - 0.945).abs() < 0.01, "{ttft}");
    // GPUs: 4 reported, 2 at or over the busy threshold, mean 31.25%
    assert_eq!((e.gpus, e.gpus_busy), (Some(4.0), Some(2.0)));
    assert!((e.gpu_util.unwrap() - 0.3125).abs() < 1e-9, "{:?}", e.gpu_util);
}

/// A hub's clusters: the simulated ITS holds 100 ManagedClusters no context reaches; the query
/// layer (VictoriaMetrics) holds model-server series for five of them. Every one is an Overview
/// row through the hub, the five carry their roll-ups (engines, KV, tokens/s) equal to what was
/// pushed, the one the hub says is unavailable is a problem of the hub, and the healthy rows
/// fold into one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_clusters_with_roll_ups_from_the_query_layer() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kst::sources::prom::PromConfig;
    let test = "hub_clusters_with_roll_ups_from_the_query_layer";
    let Some(vm) = victoria_metrics(test) else { return };
    let (_vm, _dir, base) = start_victoria_metrics(&vm).await;
    let http = reqwest::Client::new();
    // edge-0000..0004: two servers each, KV 0.25 and 0.75, generation counters 60 s apart
    let now = common::now_s().floor() as i64;
    let body = hub_series(now);
    let r = http.post(format!("{base}/api/v1/import/prometheus")).body(body).send().await.unwrap();
    assert!(r.status().is_success());
    let _ = http.get(format!("{base}/internal/force_flush")).send().await;

    let sim =
        common::sim_with(kst_sim::SimOptions { kubestellar: true, managed_clusters: 100, ..Default::default() }).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    let cfg = PromConfig {
        url: base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        rate_window: Duration::from_secs(120),
        ..Default::default()
    };
    col.start_prom(
        vec![cfg],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_millis(500), window: Duration::ZERO },
    );
    // a round of roll-ups complete: the layer's state comes after its last (the first round's
    // rows arrive as each roll-up answers)
    common::pump_until(&mut fleet, &mut col.updates, "the hub's clusters with their roll-ups", |f| {
        let hubs = kst::store::hub::clusters(f);
        hubs.len() == 101
            && hubs.iter().filter(|h| h.metrics.is_some()).count() == 5
            && kst::store::hub::sets(f).len() == 3
            && f.prom.values().any(|p| p.took_ms.is_some())
    })
    .await;
    let hubs = kst::store::hub::clusters(&fleet);
    assert!(hubs.iter().all(|h| h.hub == "its1"));
    let e = hubs.iter().find(|h| h.name == "edge-0003").unwrap().metrics.clone().unwrap();
    edge_0003_as_pushed(&e, now);
    // ManagedClusterSets: OCM's default and global, and the exclusive set of the edge clusters
    assert_eq!(
        hubs.iter().find(|h| h.name == "edge-0003").unwrap().sets,
        vec!["fleet".to_string(), "global".to_string()]
    );
    let sets = kst::store::hub::sets(&fleet);
    let set = |n: &str| sets.iter().find(|s| s.name == n).unwrap_or_else(|| panic!("{n}: {sets:?}")).clone();
    assert_eq!((set("fleet").clusters, set("fleet").unavailable, set("fleet").contexts), (100, 1, 0));
    assert_eq!((set("default").clusters, set("default").unavailable, set("default").contexts), (4, 1, 3));
    assert_eq!(set("global").clusters, 104, "an empty label selector: every cluster");
    assert_eq!(set("fleet").rule, "cluster.open-cluster-management.io/clusterset=fleet");
    let unavailable: Vec<&str> = hubs.iter().filter(|h| h.available == Some(false)).map(|h| h.name.as_str()).collect();
    assert_eq!(unavailable, vec!["cluster4", "edge-0096"]);
    // upstream's for: as it is: the hub's own record (Available=False for 3 hours) serves the
    // 60 s for: at once, so a snapshot taken now counts it
    fleet.evaluate_problems(common::now_s());
    let its = fleet.clusters.iter().position(|c| c.context == "its1").unwrap();
    let gone = fleet
        .problems
        .firing()
        .find(|p| p.kind == "managed-cluster-unavailable" && p.object.name == "edge-0096" && p.cluster == Some(its))
        .cloned()
        .expect("an unavailable hub cluster is a problem of its hub, firing at once by its record");
    assert!(!gone.since_lower_bound && common::now_s() - gone.since > 3.0 * 3600.0 - 60.0, "{gone:?}");
    assert!(gone.incident(), "counted, as --fail-on counts it");
    // the outlier's KV, judged by the same rule as a dialed cluster's (its for: served here)
    fleet.problems.hold_scale = 1e-9;
    fleet.evaluate_problems(common::now_s() - 1.0);
    fleet.evaluate_problems(common::now_s());
    let hot = fleet.problems.firing().find(|p| p.kind == "hub-kv").cloned().expect("the outlier's KV is a problem");
    assert_eq!(
        (hot.object.name.as_str(), hot.cluster, hot.reason.as_str()),
        ("edge-0004", Some(its), "KV max 98% > 90%")
    );
    assert!(!fleet.problems.firing().any(|p| p.kind == "hub-kv" && p.object.name != "edge-0004"), "only the outlier");
    col.stop();
    // `-o table` lists them too (it used to leave every hub cluster out)
    let table = kst::snapshot::table(&kst::snapshot::Snapshot::of(&fleet));
    let line = |name: &str| {
        table.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {table}"))
    };
    assert!(table.contains("CLUSTER (VIA HUB)"), "{table}");
    let healthy = line("edge-0003");
    assert!(healthy.contains("available") && healthy.contains("75%") && healthy.contains("2/4"), "{healthy}");
    assert!(healthy.contains("s ago"), "the sample's age: {healthy}");
    let gone = line("edge-0096");
    assert!(gone.contains("unavailable") && gone.contains("its1"), "{gone}");
    assert_eq!(table.lines().filter(|l| l.starts_with("edge-")).count(), 100, "every hub cluster: {table}");

    // the Overview: the unavailable rows shown, the healthy ones (contexts and hub) folded
    let mut app = kst::ui::App::new(fleet, kst::theme::Theme::builtin("mono").unwrap(), kst::ui::Mode::Normal);
    app.clock = Some(common::now_s());
    let s = common::render(&mut app, 200, 60);
    assert!(s.contains("101 via hub"), "{s}");
    assert!(s.contains("edge-0096") && s.contains("✖ unavailable"), "{s}");
    assert!(s.contains("clusters healthy"), "{s}");
    assert!(!s.contains("edge-0003 "), "a healthy hub cluster is folded: {s}");
    // the outlier is lifted out of the healthy fold, above it, its problem leading its row
    let lines: Vec<&str> = s.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {s}"));
    assert!(at("│edge-0004") < at("clusters healthy"), "{s}");
    let row = lines[at("│edge-0004")];
    assert!(row.contains("1!") && row.contains("KV max 98% > 90%"), "{row}");
    // expanded: a healthy hub cluster's row, its KV the fullest server's (0.75; the mean is 0.5)
    app.on_key(KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE));
    let s = common::render(&mut app, 200, 120);
    let row = s.lines().find(|l| l.contains("edge-0003")).unwrap_or_else(|| panic!("{s}"));
    assert!(
        row.contains("◌ via hub")
            && row.contains("2 engines")
            && row.contains("75%")
            && row.contains("31% 2/4")
            && row.contains("set fleet")
            && row.contains("TTFT p99 9"),
        "{row}"
    );
}

/// The roll-ups as a ruler records them (`rollups = "recorded"`): kst reads the series the
/// `kst-rollups` group of `kst rules` records, evaluated by a real ruler (vmalert, writing into
/// the VictoriaMetrics it reads), and a hub cluster's row carries the numbers the raw roll-ups
/// give for the same samples. Until the rules run, the layer says what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_roll_ups_from_a_real_ruler_read_as_the_raw_ones() {
    use kst::sources::prom::{PromConfig, RollupSource};
    let test = "recorded_roll_ups_from_a_real_ruler_read_as_the_raw_ones";
    let (Some(vm), Some(vmalert)) = (
        common::peers::debian_binary("victoria-metrics", "victoria-metrics"),
        common::peers::debian_binary("victoria-metrics", "vmalert"),
    ) else {
        common::peers::missing(test, "victoria-metrics (vmalert)", "apt-get install victoria-metrics");
        return;
    };
    let (_vm, dir, base) = start_victoria_metrics(&vm).await;
    let http = reqwest::Client::new();
    let now = common::now_s().floor() as i64;
    let r = http.post(format!("{base}/api/v1/import/prometheus")).body(hub_series(now)).send().await.unwrap();
    assert!(r.status().is_success());
    let _ = http.get(format!("{base}/internal/force_flush")).send().await;

    let sim =
        common::sim_with(kst_sim::SimOptions { kubestellar: true, managed_clusters: 100, ..Default::default() }).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    let window = Duration::from_secs(120);
    let cfg = PromConfig {
        url: base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        rate_window: window,
        rollups: RollupSource::Recorded,
        ..Default::default()
    };
    col.start_prom(
        vec![cfg],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_millis(500), window: Duration::ZERO },
    );
    // no ruler yet: nothing recorded, and the layer says which series it looked for
    common::pump_until(&mut fleet, &mut col.updates, "the missing recorded series named", |f| {
        f.prom.values().any(|p| p.warnings.iter().any(|w| w.contains("no recorded roll-ups (cluster:kst_servers")))
    })
    .await;
    assert!(kst::store::hub::clusters(&fleet).iter().all(|h| h.metrics.is_none()), "no numbers without the rules");

    // the ruler: `kst rules`' recording group, every second, written back into the layer
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, format!("groups:\n{}", kst::sources::prom::recording_rules("cluster", window))).unwrap();
    let _ruler = common::Peer(
        std::process::Command::new(&vmalert)
            .arg(format!("-rule={}", rules.display()))
            .arg(format!("-datasource.url={base}"))
            .arg(format!("-remoteWrite.url={base}"))
            .arg("-remoteWrite.flushInterval=200ms")
            .arg("-evaluationInterval=1s")
            .arg(format!("-httpListenAddr=127.0.0.1:{}", common::free_port()))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("vmalert.log")).unwrap())
            .spawn()
            .expect("vmalert starts"),
    );
    common::pump_until(&mut fleet, &mut col.updates, "the recorded roll-ups of the five clusters", |f| {
        // every column a round: the ruler writes its rules one after another
        let whole = |m: &kst::store::hub::ClusterAgg| {
            [m.servers, m.kv_avg, m.kv_max, m.generation_tokens_per_s, m.scraped_at, m.ttft_p99_s]
                .iter()
                .chain([m.gpus, m.gpus_busy, m.gpu_util].iter())
                .all(Option::is_some)
        };
        kst::store::hub::clusters(f).iter().filter(|h| h.metrics.as_ref().is_some_and(whole)).count() == 5
    })
    .await;
    let hubs = kst::store::hub::clusters(&fleet);
    let e = hubs.iter().find(|h| h.name == "edge-0003").unwrap().metrics.clone().unwrap();
    edge_0003_as_pushed(&e, now);
    let hot = hubs.iter().find(|h| h.name == "edge-0004").unwrap().metrics.clone().unwrap();
    assert_eq!(hot.kv_max, Some(0.985), "each cluster its own");
    col.stop();
}

/// A query layer's own pace, and a roll-up it refuses. Four clusters scraped every 10 s stay
/// current between scrapes (kst learns each one's step from the layer's scrape times, and asks
/// its roll-ups no more often than the layer's samples move on), a fifth
/// whose samples stopped 100 s ago reads as not current; and when the layer refuses one roll-up
/// (here VictoriaMetrics' limit on the series one query may touch, which the TTFT buckets pass)
/// the others' numbers stay, that column is unknown and the layer is said to be partial, not
/// failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_ups_follow_the_layer_s_scrape_pace_and_a_refused_one_is_partial() {
    use kst::sources::prom::PromConfig;
    let test = "roll_ups_follow_the_layer_s_scrape_pace_and_a_refused_one_is_partial";
    let Some(vm) = victoria_metrics(test) else { return };
    // 5 clusters x 2 servers: 10 series of each gauge, 40 TTFT buckets
    let (_vm, _dir, base) = start_victoria_metrics_with(&vm, &["-search.maxUniqueTimeseries=25"]).await;
    let http = reqwest::Client::new();
    let now = common::now_s().floor() as i64;
    let mut body = String::new();
    for c in 0..5 {
        // edge-0004 stopped being scraped 100 s ago; the others are scraped every 10 s, on into
        // the next minute (the samples ahead of now are read as they come due)
        let times: Vec<i64> = match c {
            4 => (0..6).map(|i| now - 150 + 10 * i).collect(),
            _ => (0..20).map(|i| now - 60 + 10 * i).collect(),
        };
        for pod in ["v0", "v1"] {
            let l = format!("cluster=\"edge-{c:04}\",namespace=\"llm-d\",pod=\"{pod}\"");
            for (i, t) in times.iter().enumerate() {
                body.push_str(&format!("vllm:kv_cache_usage_perc{{{l}}} 0.5 {}\n", t * 1000));
                body.push_str(&format!("vllm:num_requests_running{{{l}}} 2 {}\n", t * 1000));
                for (le, n) in [("0.1", 10), ("0.5", 18), ("1", 20), ("+Inf", 20)] {
                    body.push_str(&format!(
                        "vllm:time_to_first_token_seconds_bucket{{{l},le=\"{le}\"}} {} {}\n",
                        n * i,
                        t * 1000
                    ));
                }
            }
        }
    }
    let r = http.post(format!("{base}/api/v1/import/prometheus")).body(body).send().await.unwrap();
    assert!(r.status().is_success());
    let _ = http.get(format!("{base}/internal/force_flush")).send().await;

    let mut fleet = Fleet::new(&[]);
    let mut col = Collectors::start(&[], common::fast_worker());
    let cfg = PromConfig {
        url: base.clone(),
        cluster_label: "cluster".into(),
        timeout: Duration::from_secs(5),
        rate_window: Duration::from_secs(60),
        ..Default::default()
    };
    col.start_prom(
        vec![cfg],
        Default::default(),
        kst::sources::prom::Pace { refresh: Duration::from_millis(500), window: Duration::ZERO },
    );
    // a live cluster's step is learned once its newest sample moves on (within one 10 s step)
    common::pump_until(&mut fleet, &mut col.updates, "the live clusters' scrape step", |f| {
        f.prom_clusters.get("edge-0000").and_then(|r| r.interval).is_some_and(|i| (i - 10.0).abs() < 0.5)
    })
    .await;
    let at = common::now_s();
    let hide_after = fleet.metrics.hide_after;
    for c in 0..4 {
        let r = &fleet.prom_clusters[&format!("edge-{c:04}")];
        assert_eq!((r.servers, r.kv_max), (Some(2.0), Some(0.5)), "edge-{c:04}: {r:?}");
        assert!(r.current(at, hide_after), "edge-{c:04} is scraped every 10 s: {r:?}");
        // asked once a step of the layer (its samples move every 10 s), not every 0.5 s refresh
        assert!(r.round.is_some_and(|x| x > 0.5 && x < 20.0), "asked at the layer's pace: {r:?}");
    }
    let stopped = &fleet.prom_clusters["edge-0004"];
    assert!(!stopped.current(at, hide_after), "its newest sample is 100 s old: {stopped:?}");
    // the stopped one's step is the fleet's estimate (twice the median age of the newest
    // samples, each under 10 s old when asked), not its own 100 s
    assert!(stopped.interval.is_some_and(|i| i < 25.0), "{stopped:?}");
    // the refused roll-up: unknown for every cluster, the layer partial (not failing)
    assert!(fleet.prom_clusters.values().all(|r| r.ttft_p99_s.is_none()));
    let state = fleet.prom.values().next().expect("the layer's state");
    assert_eq!(state.error, None, "{state:?}");
    assert!(
        state.warnings.iter().any(|w| w.starts_with("roll-up ttft_p99: ") && w.contains("25")),
        "the refusal, as the layer gave it: {:?}",
        state.warnings
    );
    fleet.evaluate_problems(at);
    let partial = fleet.problems.all().into_iter().find(|p| p.kind == "query-layer-failing").cloned();
    assert!(
        partial.as_ref().is_some_and(|p| p.reason.starts_with("partial: roll-up ttft_p99")),
        "the partial layer is a problem naming the roll-up: {partial:?}"
    );
    col.stop();
}
