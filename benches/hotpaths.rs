//! Hot paths, timed with a plain harness (no extra dependency): decoding a model server's
//! metrics, applying updates to the store, and the simulator listing 2000 pods. Prints
//! medians over repeated runs; `benches/fleet.sh` records the process-level figures.

use std::time::{Duration, Instant};

use kst::sources::metrics::decode_engine;
use kst::store::llmd::EngineKind;
use kst::store::{Fleet, NodeSummary, Update};
use kst_sim::endpoints::vllm::{EngineState, Generation, Role};
use kst_sim::rng::Rng;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(name: &str, runs: usize, per_run: usize, mut f: F) {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        for _ in 0..per_run {
            f();
        }
        samples.push(t.elapsed() / per_run as u32);
    }
    let m = median(samples.clone());
    let lo = *samples.iter().min().unwrap();
    let hi = *samples.iter().max().unwrap();
    println!("{name:<44} median {m:>10.2?}   min {lo:>10.2?}   max {hi:>10.2?}   ({runs} runs x {per_run})");
}

fn main() {
    let mut rng = Rng::new(1);
    let mut e = EngineState::new("meta-llama/Llama-3.1-8B-Instruct", Role::Decode, Generation::Current, 5.0, 1.0);
    for _ in 0..10 {
        e.advance(5.0, 0.7, &mut rng);
    }
    let text = e.render();
    println!("vLLM /metrics text: {} bytes, {} lines", text.len(), text.lines().count());
    time("decode_engine (one vLLM scrape)", 21, 200, || {
        std::hint::black_box(decode_engine(std::hint::black_box(&text), EngineKind::Vllm).unwrap());
    });

    let targets: Vec<(String, String)> = (0..100).map(|i| (format!("c{i}"), "s".into())).collect();
    let mut fleet = Fleet::new(&targets);
    let mut n = 0u64;
    time("Fleet::apply (health + nodes, 100 clusters)", 21, 10_000, || {
        n += 1;
        let c = (n % 100) as usize;
        fleet.apply(Update::Health { cluster: c, version: "v1.31.2".into(), latency_ms: n % 7 });
        fleet.apply(Update::Nodes {
            cluster: c,
            nodes: NodeSummary { total: 10, ready: 10, gpus_allocatable: n % 3, gpus_total: 8, ..Default::default() },
        });
    });

    // the problems tick (every second in the TUI) at a hub of 1,000 ManagedClusters, each with a
    // query-layer roll-up (1 in 50 over a KV threshold, 1 in 100 unavailable), plus 100 contexts
    let hub_fleet = hub_fleet(1000);
    let now = 1_790_000_000.0;
    let mut f = hub_fleet.clone();
    f.evaluate_problems(now - 1.0);
    let mut k = 0.0;
    time("evaluate_problems (1,000 hub clusters)", 21, 20, || {
        k += 1.0;
        f.evaluate_problems(now + k);
    });
    let firing = f.problems.firing().count();
    println!("  ({firing} problems firing at the end)");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let t = Instant::now();
        let sim =
            kst_sim::SimFleet::start(kst_sim::SimOptions { clusters: 3, pods_per_cluster: 2000, ..Default::default() })
                .await
                .unwrap();
        println!("sim start, 3 clusters x 2000 pods: {:?}", t.elapsed());
        let c = sim.clusters[0].clone();
        let pods = c.registry.index_of(&kst_sim::resources::PODS).unwrap();
        time("sim store: list 2000 pods (Arc clones)", 21, 50, || {
            std::hint::black_box(c.store.read().unwrap().list(pods, None).len());
        });
        let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(false)).unwrap();
        let t = kst::sources::connect::select_targets(kc, &[]).unwrap();
        let client = kst::sources::connect::client_for(&t[0]).await.unwrap();
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::all_with(client, &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&()));
        let mut samples = Vec::new();
        for _ in 0..11 {
            let t = Instant::now();
            let l = api.list(&Default::default()).await.unwrap();
            assert_eq!(l.items.len(), 2000);
            samples.push(t.elapsed());
        }
        println!("{:<44} median {:>10.2?}", "kube-rs list 2000 pods over TLS (end to end)", median(samples));

        // one model server's scrape through the API server's pod proxy, as the collector does it
        let c0 = &sim.clusters[0];
        let decode = c0
            .store
            .read()
            .unwrap()
            .list(pods, Some("llm-d"))
            .into_iter()
            .find(|p| p.labels.get("llm-d.ai/role").map(String::as_str) == Some("decode"))
            .unwrap();
        let client = kst::sources::connect::client_for(&t[0]).await.unwrap();
        let path = format!("/api/v1/namespaces/llm-d/pods/{}:8200/proxy/metrics", decode.name);
        let mut samples = Vec::new();
        let mut bytes = 0;
        for _ in 0..31 {
            let t = Instant::now();
            let text = client.request_text(http::Request::get(&path).body(vec![]).unwrap()).await.unwrap();
            let s = decode_engine(&text, EngineKind::Vllm).unwrap();
            std::hint::black_box(s);
            samples.push(t.elapsed());
            bytes = text.len();
        }
        println!(
            "{:<44} median {:>10.2?}   ({bytes} bytes per scrape)",
            "scrape one pod via the proxy + decode",
            median(samples)
        );

        // one MCP tool server listed through the service proxy (rmcp: initialize,
        // initialized, two tools/list pages, session delete), as the fabric poller does it
        let agents = t.iter().find(|t| t.context == "agents-us-central").unwrap();
        let client = kst::sources::connect::client_for(agents).await.unwrap();
        for (svc, what) in [("weather-tool-mcp", "stateless, JSON"), ("github-tool-mcp", "session, SSE")] {
            let path = kst::sources::mcp::proxy_path("team1", svc, 8000, "/mcp");
            let mut samples = Vec::new();
            for _ in 0..31 {
                let t = Instant::now();
                let l = kst::sources::mcp::list_tools(client.clone(), &path, std::time::Duration::from_secs(5))
                    .await
                    .unwrap();
                std::hint::black_box(l);
                samples.push(t.elapsed());
            }
            println!("{:<44} median {:>10.2?}", format!("MCP list tools via proxy ({what})"), median(samples));
        }
    });
}

/// One hub context with `n` ManagedClusters and their roll-ups, and 100 live contexts.
fn hub_fleet(n: usize) -> Fleet {
    use kst::store::hub::ClusterAgg;
    use kst::store::placement::ManagedCluster;
    let mut targets: Vec<(String, String)> = vec![("its1".into(), "s".into())];
    targets.extend((0..100).map(|i| (format!("c{i}"), "s".into())));
    let mut fleet = Fleet::new(&targets);
    fleet.problems.hold_scale = 1e-9;
    for c in fleet.clusters.iter_mut() {
        c.conn = kst::store::Conn::Live;
        c.llmd.installed = Some(false);
    }
    let hub = &mut fleet.clusters[0];
    hub.placement.listed = true;
    hub.placement.sets = Some(Vec::new());
    hub.placement.managed = Some(
        (0..n)
            .map(|i| ManagedCluster {
                name: format!("edge-{i:04}"),
                available: Some(i % 100 != 7),
                why: (i % 100 == 7).then(|| "ManagedClusterLeaseUpdateStopped".into()),
                since: Some(1_789_990_000.0),
                ..Default::default()
            })
            .collect(),
    );
    for i in 0..n {
        let kv = if i % 50 == 3 { 0.985 } else { 0.5 };
        fleet.prom_clusters.insert(
            format!("edge-{i:04}"),
            ClusterAgg {
                servers: Some(2.0),
                kv_avg: Some(kv - 0.1),
                kv_max: Some(kv),
                waiting_max: Some(3.0),
                ttft_p99_s: Some(0.9),
                error_ratio: Some(0.001),
                scraped_at: Some(1_790_001_000.0),
                ..Default::default()
            },
        );
    }
    fleet
}
