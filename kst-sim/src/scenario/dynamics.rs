//! The seeded dynamics: load waves, engines counting tokens, pods starting, a crash loop,
//! churn at the configured rate.

use std::collections::BTreeSet;

use super::*;
use crate::endpoints::epp::PREFILL_DECODE_SHARE;

/// One step of the world: load moves, engines count tokens, pods start, a pod crash-loops,
/// random pods restart at the churn rate.
pub fn tick(cluster: &Arc<SimCluster>, dt: f64, churn_per_sec: f64) {
    let (crashing, churn) = {
        let mut d = cluster.dynamics.lock().expect("dynamics");
        // counters grow with wall time: what the pace produced since the last tick (a late
        // tick counts its real interval, so a scrape between ticks never sees a step back);
        // held steady, the pace goes on and nothing else moves
        let now = std::time::Instant::now();
        let counted = d.last_tick.map(|t| now.duration_since(t).as_secs_f64()).unwrap_or(dt);
        let steady = cluster.faults.steady();
        if !steady {
            d.last_tick = Some(now);
            d.t += dt;
        }
        if !steady {
            advance_serving(&mut d, cluster, counted);
        }
        d.churn_debt += churn_per_sec * dt;
        let churn = d.churn_debt.floor() as usize;
        d.churn_debt -= churn as f64;
        let restart_now = (d.t / dt) as u64 % 15 == 0;
        (if restart_now { d.crashing.clone() } else { Vec::new() }, churn)
    };
    let mut store = cluster.store.write().expect("store lock");
    let pods = idx(cluster, &r::PODS);
    // Pending pods start.
    let (pending, unscheduled): (Vec<_>, Vec<_>) =
        store.list(pods, None).into_iter().filter(|p| p.phase == "Pending").partition(|p| !p.node_name.is_empty());
    let mut touched: Vec<(String, String)> = Vec::new();
    for p in pending {
        let _ = store.modify(pods, &p.namespace, &p.name, |o| {
            o["status"]["phase"] = json!("Running");
            if let Some(statuses) = o["status"]["containerStatuses"].as_array_mut() {
                for s in statuses.iter_mut() {
                    s["ready"] = json!(true);
                    s["started"] = json!(true);
                    s["state"] = json!({"running": {"startedAt": ago(0)}});
                }
            }
            set_pod_ready(o, true);
        });
        if let Some(w) = p.labels.get("app.kubernetes.io/name") {
            touched.push((p.namespace.clone(), w.clone()));
        }
    }
    // GPUs freed since: the scheduler places what waited (it starts on the next tick).
    schedule_waiting(cluster, &mut store, unscheduled);
    // The crash loop goes round: another restart, another BackOff event.
    for (ns, workload) in crashing {
        let first =
            store.list(pods, Some(&ns)).into_iter().find(|p| p.labels.get("app.kubernetes.io/name") == Some(&workload));
        if let Some(p) = first {
            let mut restarts = 0;
            let _ = store.modify(pods, &ns, &p.name, |o| {
                if let Some(s) = o["status"]["containerStatuses"].as_array_mut().and_then(|s| s.first_mut()) {
                    restarts = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(restarts);
                    s["ready"] = json!(false);
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}});
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(0)}});
                }
                set_pod_ready(o, false);
            });
            let container = p.value()["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
            backoff_event(cluster, &mut store, &ns, &p.name, &p.node_name, &container, restarts);
        }
    }
    // The WVA at its max while the load wants more (an incident), or within range again.
    let wants_more = cluster.faults.incident(Incident::WvaAtMax);
    let hpas = idx(cluster, &r::HPAS);
    for h in store.list(hpas, None) {
        let v = h.value();
        if v["metadata"]["annotations"]["llm-d.ai/managed"] != "true" {
            continue;
        }
        let limited = v["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "ScalingLimited"))
            .is_some_and(|c| c["status"] == "True");
        if limited != wants_more {
            let _ = store.modify(hpas, &h.namespace, &h.name, |o| o["status"] = hpa_status(wants_more));
        }
    }
    // Churn: restarts of random filler pods, so watchers see a steady stream of changes.
    if churn > 0 {
        let fillers = store.list(pods, Some("workloads"));
        let mut rng = cluster.rng.lock().expect("rng");
        for _ in 0..churn.min(fillers.len()) {
            let p = &fillers[rng.below(fillers.len())];
            let _ = store.modify(pods, &p.namespace, &p.name, |o| {
                if let Some(s) = o["status"]["containerStatuses"].as_array_mut().and_then(|s| s.first_mut()) {
                    let n = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(n);
                    s["state"] = json!({"running": {"startedAt": ago(0)}});
                }
            });
        }
    }
    // AuthBridge sidecars count the calls their agents make and receive.
    {
        let mut d = cluster.dynamics.lock().expect("dynamics");
        let calls = d.bridge_calls.clone();
        for c in &calls {
            let running: Vec<String> = store
                .list(pods, Some(&c.namespace))
                .into_iter()
                .filter(|p| p.phase == "Running" && p.labels.get("app.kubernetes.io/name") == Some(&c.agent))
                .map(|p| p.name.clone())
                .collect();
            let n = running.len().max(1) as f64;
            for pod in running {
                d.bridge.entry(pod).or_default().add(c, c.rate * dt / n);
            }
        }
    }
    touched.sort();
    touched.dedup();
    for (ns, name) in touched {
        for def in [r::DEPLOYMENTS, r::STATEFULSETS] {
            if store.get(idx(cluster, &def), &ns, &name).is_some() {
                refresh_status(cluster, &mut store, &def, &ns, &name);
            }
        }
    }
}

/// One tick of the serving side, `counted` seconds of it: each engine's pace and state, the
/// prefill pods' share of what enters their pool, the incidents' marks (a KV surge, a TTFT
/// spike, an error burst), and each endpoint picker's view of its pool.
fn advance_serving(d: &mut Dynamics, cluster: &SimCluster, counted: f64) {
    let load = d.load();
    let Dynamics { engines, epps, rng, .. } = d;
    let kv_surge = cluster.faults.incident(Incident::KvSurge);
    let ttft_spike = cluster.faults.incident(Incident::TtftSpike);
    for e in engines.values_mut() {
        e.state.advance(counted, load, rng);
    }
    // Disaggregated pools: every request enters through a decode pod, and the router sends
    // the share it decides prefill-decode to the prefill pods (in proportion to what each
    // can take), so a prefill pod serves what the endpoint picker counts for it.
    let pools: BTreeSet<String> = engines.values().map(|e| e.pool.clone()).collect();
    for pool in &pools {
        let of_pool = |e: &&mut EngineEntry| &e.pool == pool;
        let entering: f64 =
            engines.values_mut().filter(of_pool).filter(|e| e.state.role != Role::Prefill).map(|e| e.state.rps).sum();
        let mut prefill: Vec<&mut EngineEntry> =
            engines.values_mut().filter(of_pool).filter(|e| e.state.role == Role::Prefill).collect();
        let weight: f64 = prefill.iter().map(|e| e.state.rps).sum();
        for e in prefill.iter_mut() {
            let share = if weight > 0.0 { e.state.rps / weight } else { 0.0 };
            e.state.route(entering * PREFILL_DECODE_SHARE * share);
        }
    }
    for e in engines.values_mut() {
        if kv_surge && e.state.role != Role::Prefill {
            e.state.surge();
        }
        if ttft_spike {
            e.state.pace.ttft.value = 35.0;
            e.state.pace.e2e.value += 35.0;
        }
    }
    let error_burst = cluster.faults.incident(Incident::ErrorBurst);
    for (pool, epp) in epps.iter_mut() {
        let members: Vec<(String, f64, bool)> = engines
            .iter()
            .filter(|(_, e)| &e.pool == pool)
            .map(|(name, e)| (name.clone(), e.state.rps, e.state.role == Role::Prefill))
            .collect();
        epp.integrate(counted);
        epp.set_pace(&members);
        if error_burst {
            epp.pace.errors = epp.pace.requests * 0.25;
        }
        let states: Vec<&EngineEntry> = engines.values().filter(|e| &e.pool == pool).collect();
        let n = states.len().max(1) as f64;
        epp.avg_kv = states.iter().map(|e| e.state.kv).sum::<f64>() / n;
        epp.avg_queue = states.iter().map(|e| e.state.waiting).sum::<f64>() / n;
        epp.ready_endpoints = states.len();
    }
}
