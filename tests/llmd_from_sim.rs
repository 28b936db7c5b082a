//! LLM-d discovery and metrics against the simulator: pods per role, a KV average, rising
//! token rates, the EPP that needs auth flagged, the wedged pod marked stale while the
//! others keep updating, garbage metrics as errors, and a cluster without LLM-d.

mod common;

use std::time::Duration;

use kst::sources::Collectors;
use kst::store::llmd::{Role, ScrapeError};
use kst::store::Fleet;
use kst_sim::SimOptions;

fn cluster<'a>(f: &'a Fleet, name: &str) -> &'a kst::store::ClusterState {
    f.clusters.iter().find(|c| c.context == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llmd_pools_servers_and_metrics_from_the_sim() {
    let sim = common::sim_with(SimOptions { tick: Duration::from_millis(200), ..SimOptions::default() }).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut opts = common::fast_worker();
    opts.refresh = Duration::from_millis(500);
    opts.scrape_timeout = Duration::from_secs(2);
    let mut col = Collectors::start(&targets, opts);

    // servers labelled with a role can be seen before the pool watchers have claimed them: wait
    // until every one has its pool, then check what the collector made of them
    common::pump_until(&mut fleet, &mut col.updates, "pools and servers on both GPU clusters", |f| {
        cluster(f, "gpu-us-east").llmd.servers.len() == 10
            && cluster(f, "gpu-eu-west").llmd.servers.len() == 4
            && cluster(f, "gpu-us-east").llmd.servers.iter().all(|s| s.pool.is_some())
    })
    .await;
    let east = cluster(&fleet, "gpu-us-east").llmd.clone();
    assert_eq!(east.installed, Some(true));
    assert_eq!(east.pools.len(), 3, "two 8B pools and the exported 70B pool");
    let count = |role: Role| east.servers.iter().filter(|s| s.role == role).count();
    assert_eq!((count(Role::Prefill), count(Role::Decode), count(Role::Unlabelled)), (3, 4, 3));
    assert!(
        east.servers.iter().filter(|s| s.role == Role::Decode).all(|s| s.metrics_port == 8200),
        "vLLM behind the sidecar"
    );
    assert!(east.servers.iter().filter(|s| s.role == Role::Prefill).all(|s| s.metrics_port == 8000));
    assert!(east.servers.iter().all(|s| s.pool.is_some()));
    common::pump_until(&mut fleet, &mut col.updates, "objectives of both API generations", |f| {
        !cluster(f, "gpu-us-east").llmd.objectives.is_empty()
            && !cluster(f, "gpu-eu-west").llmd.objectives.is_empty()
            // the legacy pool's watch may answer after the objectives'
            && !cluster(f, "gpu-eu-west").llmd.pools.is_empty()
    })
    .await;
    let east_objectives: Vec<String> = {
        let l = &cluster(&fleet, "gpu-us-east").llmd;
        let pd = l.pools.iter().find(|p| p.name == "pd-disaggregation").unwrap();
        l.objectives_of(pd).map(|o| o.label()).collect()
    };
    assert_eq!(east_objectives, vec!["chat-interactive (priority 10)".to_string()]);
    let west = &cluster(&fleet, "gpu-eu-west").llmd;
    assert_eq!(west.objectives[0].criticality.as_deref(), Some("Critical"), "legacy InferenceModel");
    assert!(west.pools[0].legacy(), "the legacy v1alpha2 pool is read too");
    assert_eq!(west.pools[0].epp_service.as_deref(), Some("llama-70b-epp"));

    // metrics: a KV average, then token rates that rise
    common::pump_until(&mut fleet, &mut col.updates, "a KV average and decode tokens/s", |f| {
        let t = cluster(f, "gpu-us-east").llmd.totals(&f.reading(common::now_s()));
        t.kv_avg.is_some() && t.decode_tps.is_some_and(|v| v > 0.0) && t.prefill_tps.is_some_and(|v| v > 0.0)
    })
    .await;
    let kv = cluster(&fleet, "gpu-us-east").llmd.totals(&fleet.reading(common::now_s())).kv_avg.unwrap();
    assert!((0.0..=1.0).contains(&kv));
    let decode = east.servers.iter().find(|s| s.role == Role::Decode && s.unschedulable.is_none()).unwrap().key();
    let gen =
        |f: &Fleet| cluster(f, "gpu-us-east").llmd.metrics[&decode].latest().unwrap().v.generation_tokens.unwrap();
    let before = gen(&fleet);
    common::pump_until(&mut fleet, &mut col.updates, "the generation counter to rise", |f| gen(f) > before).await;

    // the optimized-baseline EPP protects /metrics: flagged as auth, not as an error storm
    common::pump_until(&mut fleet, &mut col.updates, "the 401 EPP flagged", |f| {
        let l = &cluster(f, "gpu-us-east").llmd;
        l.epp
            .get(&("llm-d".to_string(), "optimized-baseline".to_string()))
            .and_then(|e| e.error.as_ref())
            .is_some_and(|e| e.v == ScrapeError::AuthRequired(401))
            && l.epp.get(&("llm-d".to_string(), "pd-disaggregation".to_string())).is_some_and(|e| e.latest().is_some())
    })
    .await;
    let l = &cluster(&fleet, "gpu-us-east").llmd;
    let pool = l.pools.iter().find(|p| p.name == "optimized-baseline").unwrap();
    let v = l.pool_view(pool, &fleet.reading(common::now_s()));
    assert!(v.epp_stale.unwrap().contains("needs auth"));
    let pd = l.pools.iter().find(|p| p.name == "pd-disaggregation").unwrap().clone();
    common::pump_until(&mut fleet, &mut col.updates, "the P/D decision share from the EPP", |f| {
        let l = &cluster(f, "gpu-us-east").llmd;
        l.pool_view(&pd, &f.reading(common::now_s())).pd_share.is_some()
    })
    .await;

    // the wedged decode pod on gpu-eu-west is stale (timeout) while its siblings update
    common::pump_until(&mut fleet, &mut col.updates, "one stale pod on gpu-eu-west", |f| {
        let l = &cluster(f, "gpu-eu-west").llmd;
        l.metrics.values().any(|m| matches!(m.error.as_ref().map(|e| &e.v), Some(ScrapeError::Timeout(_))))
    })
    .await;
    let stale_key = {
        let l = &cluster(&fleet, "gpu-eu-west").llmd;
        l.metrics
            .iter()
            .find(|(_, m)| matches!(m.error.as_ref().map(|e| &e.v), Some(ScrapeError::Timeout(_))))
            .unwrap()
            .0
            .clone()
    };
    let fresh_key = {
        let l = &cluster(&fleet, "gpu-eu-west").llmd;
        l.servers
            .iter()
            .find(|s| {
                s.key() != stale_key
                    && s.phase == "Running"
                    && l.metrics.get(&s.key()).is_some_and(|m| m.latest().is_some())
            })
            .unwrap()
            .key()
    };
    let seen = cluster(&fleet, "gpu-eu-west").llmd.metrics[&fresh_key].latest().unwrap().at;
    common::pump_until(&mut fleet, &mut col.updates, "a sibling to update meanwhile", |f| {
        cluster(f, "gpu-eu-west").llmd.metrics[&fresh_key].latest().unwrap().at > seen
    })
    .await;
    let l = &cluster(&fleet, "gpu-eu-west").llmd;
    let s = l.servers.iter().find(|s| s.key() == stale_key).unwrap();
    assert!(l.view(s, &fleet.reading(common::now_s())).stale.unwrap().contains("timed out"));

    // garbage metrics: errors, not panics, not numbers
    sim.cluster("gpu-us-east").unwrap().faults.set_garbage_metrics(true);
    common::pump_until(&mut fleet, &mut col.updates, "parse errors on gpu-us-east", |f| {
        cluster(f, "gpu-us-east")
            .llmd
            .metrics
            .values()
            .filter(|m| matches!(m.error.as_ref().map(|e| &e.v), Some(ScrapeError::Parse(_))))
            .count()
            >= 4
    })
    .await;

    // the agent cluster has no pool API: not installed, not an error
    let agents = &cluster(&fleet, "agents-us-central").llmd;
    assert!(agents.servers.is_empty() && agents.pools.is_empty());
    col.stop();
}

/// The EPP of gpu-eu-west keeps routing to the crash-looping decode pod and counts it among
/// its ready endpoints: both contradictions with the pods are flagged, in the store and in
/// the snapshot JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epp_routing_to_an_unready_pod_is_flagged() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(0.3, Some(2.0), None);
    let mut col = Collectors::start(&targets, common::fast_worker());
    let flagged = |f: &Fleet| {
        let l = &cluster(f, "gpu-eu-west").llmd;
        let pool = l.pools.iter().find(|p| p.name == "llama-70b")?;
        let v = l.pool_view(pool, &f.reading(common::now_s()));
        (!v.routed_to_unready.is_empty() && v.epp_ready_mismatch.is_some()).then_some(v)
    };
    common::pump_until(&mut fleet, &mut col.updates, "the EPP's routing to the unready pod flagged", |f| {
        flagged(f).is_some()
    })
    .await;
    let v = flagged(&fleet).unwrap();
    let l = &cluster(&fleet, "gpu-eu-west").llmd;
    let (pod, share) = &v.routed_to_unready[0];
    let server = l.servers.iter().find(|s| &s.name == pod).unwrap();
    assert!(!server.ready && pod.starts_with("llama-70b-decode"), "{pod}");
    assert!(*share > 0.1 && *share < 0.5, "a real share of the pool's routing: {share}");
    let ready = l.servers.iter().filter(|s| s.pool.as_deref() == Some("llama-70b") && s.ready).count();
    assert_eq!(v.epp_ready_mismatch, Some((4.0, ready)));
    let json = serde_json::to_value(kst::snapshot::Snapshot::of(&fleet)).unwrap();
    let pool =
        json["clusters"][1]["llmd"]["pools"].as_array().unwrap().iter().find(|p| p["name"] == "llama-70b").unwrap();
    assert_eq!(pool["routed_to_unready"][0]["pod"], pod.as_str());
    assert_eq!(pool["epp_ready_endpoints_mismatch"]["pods_ready"], ready);
    col.stop();
}

/// One model on two clusters: the 70B model is served by the A100 cluster's legacy pool and by
/// the H100 cluster's exported pool, which the A100 cluster imports. The model is one row with a
/// line per cluster equal to the sums of its pools there; the H100 decode server the scheduler
/// cannot place is a problem of the model; the import names its exporter and turns broken when
/// the exporter's cluster stops answering, and serving again when it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_model_on_two_clusters_with_an_import() {
    use kst::store::models::{self, ImportState};
    let sim = common::sim_with(SimOptions { tick: Duration::from_millis(200), ..SimOptions::default() }).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut opts = common::fast_worker();
    opts.refresh = Duration::from_millis(500);
    opts.scrape_timeout = Duration::from_secs(2);
    let mut col = Collectors::start(&targets, opts);
    let seventy = |f: &Fleet| {
        models::views(f, &f.reading(common::now_s()))
            .into_iter()
            .find(|m| kst::store::llmd::model_label(&m.model) == "llama-3-3-70b-instruct")
    };
    common::pump_until(&mut fleet, &mut col.updates, "the 70B model on both clusters with rates", |f| {
        seventy(f).is_some_and(|m| {
            m.lines.len() == 2
                && m.lines
                    .iter()
                    .all(|l| l.request_rate.is_some() && l.kv_avg.is_some() && l.decode_tokens_per_s.is_some())
                && m.lines.iter().any(|l| !l.imports.is_empty())
        })
    })
    .await;
    let reading = fleet.reading(common::now_s());
    let m = seventy(&fleet).unwrap();
    for line in &m.lines {
        let c = cluster(&fleet, &line.context);
        let pools: Vec<_> = c
            .llmd
            .pools
            .iter()
            .filter(|p| c.llmd.pool_model_label(p).as_deref() == Some("llama-3-3-70b-instruct"))
            .collect();
        assert_eq!(line.pools.len(), pools.len(), "{}", line.context);
        let views: Vec<_> = pools.iter().map(|p| c.llmd.pool_view(p, &reading)).collect();
        let sum = |f: &dyn Fn(&kst::store::llmd::PoolView) -> Option<f64>| -> f64 { views.iter().filter_map(f).sum() };
        assert!((line.request_rate.unwrap() - sum(&|v| v.request_rate)).abs() < 1e-9, "{}", line.context);
        assert!((line.decode_tokens_per_s.unwrap() - sum(&|v| v.decode_tps)).abs() < 1e-9);
        assert_eq!(line.decode_total, views.iter().map(|v| v.decode_total).sum::<usize>());
        assert_eq!(line.decode_ready, views.iter().map(|v| v.decode_ready).sum::<usize>());
    }
    let totals = &m.totals;
    assert_eq!(totals.decode_total, m.lines.iter().map(|l| l.decode_total).sum::<usize>());
    assert!((totals.request_rate.unwrap() - m.lines.iter().filter_map(|l| l.request_rate).sum::<f64>()).abs() < 1e-9);

    // the decode shortage: one of two H100 decode servers cannot be placed (8 GPUs, no node has them)
    let east = m.lines.iter().find(|l| l.context == "gpu-us-east").unwrap();
    assert_eq!((east.decode_ready, east.decode_total, east.unschedulable), (1, 2, 1));
    assert!(east.unschedulable_reason.as_deref().unwrap().contains("Insufficient nvidia.com/gpu"));
    assert_eq!(east.gpus, 4 + 8, "the unplaced pod holds no GPUs");
    assert_eq!(east.exported, vec!["llm-d/pd-llama-70b".to_string()]);
    assert_eq!(m.weakest.as_deref(), Some("gpu-us-east"));
    fleet.problems.hold_scale = 1e-9;
    fleet.evaluate_problems(common::now_s() - 1.0);
    fleet.evaluate_problems(common::now_s());
    let short = fleet
        .problems
        .firing()
        .find(|p| p.kind == "model-servers-unschedulable")
        .map(|p| (p.cluster, p.reason.clone()));
    let (at, why) = short.expect("the decode shortage is a problem of the model");
    assert_eq!(at, Some(0));
    assert!(why.contains("decode 1/2 ready") && why.contains("Insufficient nvidia.com/gpu"), "{why}");

    // room: gpu-us-east's free H100s are spread so that no node has the 8 a decode server asks
    common::pump_until(&mut fleet, &mut col.updates, "the H100 cluster's GPU pages", |f| {
        cluster(f, "gpu-us-east").gpus.nodes.len() == 4 && cluster(f, "gpu-us-east").nodes.is_some()
    })
    .await;
    let room = models::room(&fleet, east);
    let here = room.iter().find(|r| r.context == "gpu-us-east").expect("free H100s on gpu-us-east");
    assert!(here.same_product && here.free_on_one_node < 8 && here.free >= 8, "{here:?}");
    assert!(here.why.contains("asks for 8 on one node: it does not fit"), "{}", here.why);
    assert!(here.why.contains("no BindingPolicy placed this model here"), "no KubeStellar here: {}", here.why);

    // the import on gpu-eu-west: from gpu-us-east, serving
    let west = m.lines.iter().find(|l| l.context == "gpu-eu-west").unwrap();
    assert_eq!(west.imports.len(), 1);
    assert_eq!(west.imports[0].exporters, vec!["gpu-us-east".to_string()]);
    assert_eq!(west.imports[0].state, ImportState::Serving);

    // the exporter stops answering: the import cannot serve, and says why
    sim.cluster("gpu-us-east").unwrap().faults.set_unreachable(true);
    common::pump_until(&mut fleet, &mut col.updates, "the import broken with its exporter down", |f| {
        models::imports(f, &f.reading(common::now_s()))
            .iter()
            .any(|i| matches!(&i.state, ImportState::Broken(why) if why.contains("gpu-us-east is unreachable")))
    })
    .await;
    fleet.evaluate_problems(common::now_s());
    fleet.evaluate_problems(common::now_s() + 1.0);
    assert!(
        fleet.problems.firing().any(|p| p.kind == "pool-import-broken" && p.cluster == Some(1)),
        "a problem of the importing cluster"
    );
    sim.cluster("gpu-us-east").unwrap().faults.set_unreachable(false);
    common::pump_until(&mut fleet, &mut col.updates, "the import serving again", |f| {
        models::imports(f, &f.reading(common::now_s())).iter().all(|i| i.state == ImportState::Serving)
    })
    .await;
    col.stop();
}

/// GPU utilisation follows the load: the decode servers' GPUs read busy, free GPUs idle, and a
/// KV surge on the 8B decode servers shows on their GPUs within a few scrapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_utilisation_follows_the_load() {
    use kst_sim::faults::Incident;
    let sim = common::sim_with(SimOptions { tick: Duration::from_millis(200), ..SimOptions::default() }).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut opts = common::fast_worker();
    opts.refresh = Duration::from_millis(300);
    let mut col = Collectors::start(&targets[..1], opts);
    let decode_util = |f: &Fleet| -> Option<f64> {
        let g: Vec<f64> = cluster(f, "gpu-us-east")
            .gpus
            .gpus()
            .filter(|g| g.pod.as_ref().is_some_and(|p| p.1.starts_with("ms-pd-llm-d-modelservice-decode")))
            .filter_map(|g| g.util)
            .collect();
        (g.len() == 4).then(|| g.iter().sum::<f64>() / 4.0)
    };
    common::pump_until(&mut fleet, &mut col.updates, "the 8B decode servers' four GPUs", |f| decode_util(f).is_some())
        .await;
    let before = decode_util(&fleet).unwrap();
    let east = cluster(&fleet, "gpu-us-east");
    assert!(before >= 0.3, "busy decode servers read busy: {before}");
    assert!(east.gpus.gpus().filter(|g| g.pod.is_none()).all(|g| g.util == Some(0.0)), "free GPUs idle");
    sim.cluster("gpu-us-east").unwrap().faults.set_incident(Incident::KvSurge, true);
    common::pump_until(&mut fleet, &mut col.updates, "the KV surge on the decode GPUs", |f| {
        decode_util(f).is_some_and(|u| u >= before + 0.05)
    })
    .await;
    col.stop();
}

/// Allocation against use, live: the Pending 70B decode server's 8 GPUs are asked for on
/// gpu-us-east, the research team's idle eval GPUs on gpu-eu-west add idle GPU-hours scrape by
/// scrape, and an OpenCost Service named in the config is asked instead of looked for (on a
/// cluster without it, the error names the configured Service, not "no OpenCost").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocation_against_use_from_the_live_collectors() {
    let sim = common::sim(2).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut opts = common::fast_worker();
    opts.opencost = [("gpu-eu-west".to_string(), "opencost/opencost:9003".parse().unwrap())].into();
    let mut col = Collectors::start(&targets, opts);
    let research = |f: &Fleet| {
        cluster(f, "gpu-eu-west")
            .gpus
            .idle_hours
            .iter()
            .filter(|(h, _)| h.2.as_deref() == Some("research"))
            .map(|(_, v)| *v)
            .sum::<f64>()
    };
    common::pump_until(&mut fleet, &mut col.updates, "pending asks, idle hours and both clusters' cost", |f| {
        cluster(f, "gpu-us-east").gpus.pending.is_some()
            && research(f) > 0.0
            && f.clusters.iter().all(|c| c.gpus.cost.is_some())
    })
    .await;
    let east = cluster(&fleet, "gpu-us-east");
    let pending = east.gpus.pending.clone().unwrap();
    assert_eq!(pending.iter().map(|p| p.gpus).sum::<u32>(), 8, "{pending:?}");
    assert!(pending[0].pod.1.starts_with("pd-llama-70b-decode"), "{pending:?}");
    assert!(pending[0].reason.as_deref().unwrap_or("").contains("nvidia.com/gpu"), "{pending:?}");
    assert!(east.gpus.cost.as_ref().unwrap().result.is_ok(), "found by its Service name");
    let west = cluster(&fleet, "gpu-eu-west");
    let err = west.gpus.cost.as_ref().unwrap().result.clone().unwrap_err();
    assert!(!err.contains("no OpenCost Service"), "the configured Service was asked: {err}");
    // idle hours grow with every scrape, never faster than the clock
    let (h0, t0) = (research(&fleet), std::time::Instant::now());
    common::pump_until(&mut fleet, &mut col.updates, "more idle hours", |f| research(f) > h0).await;
    let grown_s = (research(&fleet) - h0) * 3600.0;
    assert!(grown_s <= 2.0 * (t0.elapsed().as_secs_f64() + 1.0), "2 GPUs: {grown_s}s in {:?}", t0.elapsed());
    let a = kst::store::gpus::allocation_by(&fleet, "team", &fleet.gpu_prices);
    let r = a.iter().find(|a| a.key == "research").unwrap();
    assert_eq!((r.held, r.busy), (2, 0));
    assert!(r.idle_gpu_hours > 0.0);
    col.stop();
}

/// The simulated serving stack agrees with itself over a minute of every incident (and none):
/// a pool's requests are its decisions (decode-only + prefill-decode), its decode pods'
/// attempts add up to its requests, its prefill pods' to the prefill-decode decisions, each
/// pod serves what the endpoint picker counts for it, and a full KV cache comes with the queue
/// it implies. A demo that contradicts itself teaches users to distrust the real numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_serving_stack_agrees_with_itself() {
    use kst_sim::endpoints::vllm::Role;
    use kst_sim::faults::Incident;
    let sim = common::sim(3).await;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    let mut disaggregated = 0;
    let incidents: Vec<Option<Incident>> = std::iter::once(None).chain(Incident::ALL.into_iter().map(Some)).collect();
    for incident in incidents {
        for name in ["gpu-us-east", "gpu-eu-west"] {
            let cluster = sim.cluster(name).unwrap().clone();
            if let Some(i) = incident {
                cluster.faults.set_incident(i, true);
            }
            for second in 0..60 {
                kst_sim::scenario::tick(&cluster, 1.0, 0.0);
                let d = cluster.dynamics.lock().unwrap();
                for (pool, epp) in &d.epps {
                    let p = &epp.pace;
                    let at = format!("{name} {pool} at {second} s under {incident:?}");
                    assert!(close(p.decode_only + p.prefill_decode, p.requests), "decisions = requests: {at}");
                    let members: Vec<_> = d.engines.iter().filter(|(_, e)| &e.pool == pool).collect();
                    let (mut entering, mut prefilled) = (0.0, 0.0);
                    for (pod, e) in &members {
                        let sent = p.attempts.get(*pod).copied().unwrap_or(0.0);
                        assert!(close(sent, e.state.rps), "{pod} serves what the EPP sends it: {at}");
                        let served: f64 = e.state.pace.success.iter().sum();
                        assert!(close(served, e.state.rps), "{pod} finishes what it gets: {at}");
                        match e.state.role {
                            Role::Prefill => prefilled += sent,
                            _ => entering += sent,
                        }
                    }
                    assert!(close(entering, p.requests), "every request enters through a decode pod: {at}");
                    assert!(close(prefilled, p.prefill_decode), "prefill pods get the P/D decisions: {at}");
                    if prefilled > 0.0 {
                        disaggregated += 1;
                    }
                }
                if incident == Some(Incident::KvSurge) {
                    for (pod, e) in d.engines.iter().filter(|(_, e)| e.state.role != Role::Prefill) {
                        let s = &e.state;
                        assert!(
                            s.kv >= 0.95 && s.waiting >= 3.0 && s.running >= 1.0,
                            "{pod}: a full cache queues: {s:?}"
                        );
                    }
                }
            }
            if let Some(i) = incident {
                cluster.faults.set_incident(i, false);
            }
        }
    }
    assert!(disaggregated > 0, "a disaggregated pool was among them");
}
