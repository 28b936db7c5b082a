//! llm-d serving: model-server pods, their metrics, pools and their endpoint pickers, the
//! WVA's autoscalers, models across clusters and imported pools.

use super::{over, table as t};
use crate::store::llmd::{Freshness, Role, ScrapeError};
use crate::store::pane::PaneId;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Level, Object, Sight};
use crate::store::rates::Reading;
use crate::store::{ClusterState, Fleet};

pub fn judge(ev: &mut Evaluation, fleet: &Fleet, i: usize, c: &ClusterState, reading: &Reading, now: f64) {
    let cluster = Some(i);
    let l = &c.llmd;
    if l.installed.is_none() {
        ev.blind(cluster, Sight::Workloads, None, "llm-d objects not listed yet");
        ev.blind(cluster, Sight::Metrics, None, "llm-d objects not listed yet");
        return;
    }
    for s in &l.servers {
        let pod = Object::new("Pod", &s.namespace, &s.name);
        let to_pod = Jump::Pod { namespace: s.namespace.clone(), name: s.name.clone() };
        match &s.waiting {
            Some(w) if w.ends_with("BackOff") || w.starts_with("Err") => ev.push(
                Condition::new(
                    &t::POD_CRASHLOOP,
                    cluster,
                    pod.clone(),
                    format!("{w}, {} restarts", s.restarts),
                    to_pod.clone(),
                )
                .since(s.ready_since.filter(|_| !s.ready)),
            ),
            _ => {}
        }
        if !s.ready && s.phase != "Succeeded" {
            ev.push(
                Condition::new(
                    &t::POD_NOT_READY,
                    cluster,
                    pod.clone(),
                    format!("not ready ({}), {} restarts", s.phase, s.restarts),
                    to_pod.clone(),
                )
                .since(s.ready_since),
            );
        }
        let v = l.view(s, reading);
        if !v.fresh() {
            // a pod the scheduler has not placed has no metrics to lose
            if s.unschedulable.is_none() {
                let why = match v.observed_at {
                    Some(at) => format!("metrics {} old", crate::store::llmd::age_text(now - at)),
                    None => "metrics not read yet".to_string(),
                };
                ev.blind(cluster, Sight::Metrics, Some(pod.clone()), why);
            }
            continue;
        }
        let role = if s.role.serves_decode() { " on decode" } else { " on prefill" };
        let to_kv = Jump::Pane { pane: PaneId::Kv, find: Find::from(format!("{}/{}", s.namespace, s.name)) };
        let prefill = s.role == Role::Prefill;
        let prefix_hit = v.prefix_hit_rate.filter(|_| v.request_rate.is_some_and(|r| r > 0.1));
        let checks = [
            (&t::KV, v.kv, role),
            (&t::KV_DECODE, v.kv.filter(|_| s.role.serves_decode()), role),
            (&t::WAITING, v.waiting, role),
            (&t::WAITING_PREFILL, v.waiting.filter(|_| prefill), role),
            (&t::PREEMPTIONS, v.preemption_rate, ""),
            (&t::PREFIX_HIT, prefix_hit, ""),
        ];
        for (kind, value, suffix) in checks {
            if let Some(reason) = over(kind, value, suffix) {
                let c = Condition::new(kind, cluster, pod.clone(), reason, to_kv.clone());
                ev.push(c.since_at_least(history(fleet, kind.id, i, &s.namespace, &s.name)));
            }
        }
    }
    for p in &l.pools {
        let pool = Object::new("InferencePool", &p.namespace, &p.name);
        let find = format!("{}/{}", p.namespace, p.name);
        let to_serving = Jump::Pane { pane: PaneId::Serving, find: Find::from(find.clone()) };
        let to_epp = Jump::Pane { pane: PaneId::Epp, find: Find::from(find.clone()) };
        let v = l.pool_view(p, reading);
        let epp = l.epp.get(&p.key());
        // the picker's own count when its metrics are fresh; the pods' readiness otherwise
        let epp_ready = epp
            .filter(|e| e.freshness(reading).0 == Freshness::Fresh)
            .and_then(|e| e.latest())
            .and_then(|s| s.v.ready_endpoints);
        let none_ready = match epp_ready {
            Some(n) => n < 0.5,
            None => v.decode_total > 0 && v.decode_ready == 0,
        };
        if none_ready {
            let reason = match epp_ready {
                Some(_) => format!("the endpoint picker has 0 ready endpoints ({} decode pods)", v.decode_total),
                None => format!("0 of {} decode pods ready", v.decode_total),
            };
            ev.push(Condition::new(&t::POOL_NO_READY_ENDPOINTS, cluster, pool.clone(), reason, to_serving.clone()));
        }
        for (pod, share) in &v.routed_to_unready {
            ev.push(Condition::new(
                &t::EPP_ROUTES_TO_UNREADY,
                cluster,
                pool.clone(),
                format!("EPP routes {:.0}% of requests to {pod}, which is not Ready", share * 100.0),
                to_epp.clone(),
            ));
        }
        if let Some(e) = epp.and_then(|m| m.error.as_ref()) {
            let (kind, reason) = match &e.v {
                ScrapeError::AuthRequired(code) => {
                    (&t::EPP_METRICS_AUTH, format!("EPP /metrics answers {code}: needs auth, routing numbers unknown"))
                }
                other => (&t::EPP_METRICS_ABSENT, format!("EPP /metrics cannot be read: {}", other.text())),
            };
            ev.push(Condition::new(kind, cluster, pool.clone(), reason, to_epp.clone()));
        }
        if v.freshness != Freshness::Fresh {
            ev.blind(cluster, Sight::Metrics, Some(pool.clone()), "the pool's metrics are not fresh");
            continue;
        }
        for a in crate::store::slo::for_pool(&fleet.slos, p, &v).into_iter().filter(|a| a.met() == Some(false)) {
            ev.push(Condition::new(
                &t::SLO_BREACH,
                cluster,
                pool.clone(),
                format!(
                    "SLO {}: {:.1}% of requests < {:.1}% (over {})",
                    a.objective,
                    a.achieved.unwrap_or(0.0) * 100.0,
                    a.goal * 100.0,
                    fleet.metrics.window_text()
                ),
                to_serving.clone(),
            ));
        }
        let ttft_p99 = v.ttft.as_ref().and_then(|h| h.quantile(0.99));
        for (kind, value) in [
            (&t::ERROR_RATIO_HIGH, v.error_rate),
            (&t::ERROR_RATIO, v.error_rate),
            (&t::TTFT_P99_HIGH, ttft_p99),
            (&t::TTFT_P99, ttft_p99),
            (&t::PD_RATIO, v.pd_running_ratio),
        ] {
            if let Some(reason) = over(kind, value, "") {
                let c = Condition::new(kind, cluster, pool.clone(), reason, to_serving.clone());
                ev.push(c.since_at_least(history(fleet, kind.id, i, &p.namespace, &p.name)));
            }
        }
    }
    autoscalers(ev, i, c, reading);
}

/// When a query layer's history says this rule's condition began on this object.
fn history(fleet: &Fleet, kind: &'static str, cluster: usize, ns: &str, name: &str) -> Option<(f64, bool)> {
    if fleet.rule_history.is_empty() {
        return None;
    }
    fleet.rule_history.get(&(kind, cluster, ns.to_string(), name.to_string())).map(|h| (h.start, h.lower_bound))
}

/// The WVA: autoscalers that cannot scale, or sit at their max while the load wants more.
fn autoscalers(ev: &mut Evaluation, i: usize, c: &ClusterState, reading: &Reading) {
    let l = &c.llmd;
    for a in &l.autoscalers {
        let obj = Object::new(a.kind, &a.namespace, &a.name);
        let pool = l.pools.iter().find(|p| a.serves(p));
        let to = Jump::Pane {
            pane: PaneId::Serving,
            find: Find::from(pool.map(|p| format!("{}/{}", p.namespace, p.name)).unwrap_or_default()),
        };
        if let Some(why) = &a.blocked {
            ev.push(
                Condition::new(&t::AUTOSCALER_BLOCKED, Some(i), obj, format!("cannot scale {}: {why}", a.target), to)
                    .since(a.blocked_since),
            );
            continue;
        }
        if !a.at_max() {
            continue;
        }
        // saturated: the controller wants more than its max, or the pool's KV is in the warn band
        let kv =
            pool.map(|p| l.pool_view(p, reading)).filter(|v| v.freshness == Freshness::Fresh).and_then(|v| v.kv_avg);
        let hot = kv.filter(|k| super::levels::KV.level(*k) != Level::Ok);
        if a.wants_more() || hot.is_some() {
            let why = match hot {
                Some(k) => format!("KV {:.0}% on its pool", k * 100.0),
                None => "it computes more replicas than its max (TooManyReplicas)".into(),
            };
            ev.push(
                Condition::new(
                    &t::AUTOSCALER_AT_MAX,
                    Some(i),
                    obj,
                    format!("{} at its max of {} replicas while saturated: {why}", a.target, a.max.unwrap_or(0)),
                    to,
                )
                .since(a.limited_since.filter(|_| hot.is_none())),
            );
        }
    }
}

/// Models across clusters (a model without ready servers on a cluster, servers the scheduler
/// cannot place) and imported pools whose exporters cannot serve them.
pub fn models(ev: &mut Evaluation, fleet: &Fleet, reading: &Reading) {
    for m in crate::store::models::views(fleet, reading) {
        for l in &m.lines {
            if l.cluster.is_some_and(|c| fleet.clusters.get(c).is_some_and(|c| c.placement.is_wds())) {
                continue;
            }
            let to = Jump::Pane {
                pane: PaneId::Models,
                find: Find::Cell { row: m.model.clone(), column: l.context.clone() },
            };
            let short = [("decode", l.decode_ready, l.decode_total), ("prefill", l.prefill_ready, l.prefill_total)]
                .into_iter()
                .find(|(_, ready, total)| *total > 0 && *ready == 0);
            if let Some((role, _, total)) = short {
                ev.push(Condition::new(
                    &t::MODEL_NO_READY_SERVERS,
                    l.cluster,
                    Object::new("Model", "", &m.model),
                    format!("0 of {total} {role} servers ready: {} not served here", m.model),
                    to,
                ));
            } else if l.unschedulable > 0 {
                // servers the scheduler cannot place: capacity the model was meant to have
                ev.push(Condition::new(
                    &t::MODEL_SERVERS_UNSCHEDULABLE,
                    l.cluster,
                    Object::new("Model", "", &m.model),
                    format!(
                        "{} of its servers cannot be scheduled (decode {}/{} ready, prefill {}/{}): {}",
                        l.unschedulable,
                        l.decode_ready,
                        l.decode_total,
                        l.prefill_ready,
                        l.prefill_total,
                        l.unschedulable_reason.as_deref().unwrap_or("no node fits")
                    ),
                    to,
                ));
            }
        }
    }
    // an imported pool whose exporters cannot serve it: requests routed there fail
    for imp in crate::store::models::imports(fleet, reading) {
        if let crate::store::models::ImportState::Broken(why) = &imp.state {
            let (ns, name) = imp.pool.split_once('/').unwrap_or(("", &imp.pool));
            ev.push(Condition::new(
                &t::POOL_IMPORT_BROKEN,
                Some(imp.cluster),
                Object::new("InferencePoolImport", ns, name),
                format!("imported from {}: {why}", imp.exporters.join(", ")),
                match &imp.model {
                    Some(m) => Jump::Pane {
                        pane: PaneId::Models,
                        find: Find::Cell { row: m.clone(), column: imp.context.clone() },
                    },
                    None => Jump::Pane { pane: PaneId::Serving, find: Find::from(imp.pool.clone()) },
                },
            ));
        }
    }
}
