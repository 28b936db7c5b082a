//! Clusters kst sees only through a hub and the query layers: a ManagedCluster the hub calls
//! unavailable; a hub cluster's roll-ups over the same thresholds as a dialed cluster's; a
//! query layer that fails, or holds nothing for a dialed context's label.

use super::{over, table as t};
use crate::store::hub::ClusterAgg;
use crate::store::pane::PaneId;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Object, Sight};
use crate::store::Fleet;

pub fn judge(ev: &mut Evaluation, fleet: &Fleet, now: f64) {
    // a hub that has not listed its ManagedClusters yet: their problems are not seen
    for (i, c) in fleet.clusters.iter().enumerate() {
        if c.conn.reachable() && !c.placement.listed {
            ev.blind(Some(i), Sight::Hub, None, "ManagedClusters not listed yet");
        }
    }
    let hide_after = fleet.metrics.hide_after;
    for h in fleet.hub_clusters().iter() {
        let cluster = Some(h.hub_index);
        let object = Object::new("ManagedCluster", "", &h.name);
        let to = Jump::Pane { pane: PaneId::Overview, find: Find::HubCluster { hub_cluster: h.name.clone() } };
        if h.available == Some(false) {
            ev.push(
                Condition::new(
                    &t::MANAGED_CLUSTER_UNAVAILABLE,
                    cluster,
                    object.clone(),
                    format!("not Available on the hub: {}", h.why.as_deref().unwrap_or("no reason given")),
                    to.clone(),
                )
                .since(h.since),
            );
        }
        // its load, from the query layer's roll-up, judged as a dialed cluster's would be
        rollup(ev, cluster, object, h.metrics.as_ref(), to, now, hide_after);
    }
    // contexts not dialed ([fleet] dial): judged on their roll-ups the same way
    for (i, c) in fleet.clusters.iter().enumerate().filter(|(_, c)| c.undialed.is_some()) {
        let object = Object::new("Cluster", "", &c.context);
        let to = Jump::Pane { pane: PaneId::Overview, find: Find::from(c.context.clone()) };
        rollup(ev, Some(i), object, fleet.prom_clusters.get(&c.context), to, now, hide_after);
    }
    // the query layers themselves
    let hub_names: std::collections::HashSet<&str> =
        fleet.clusters.iter().flat_map(|c| c.placement.managed.iter().flatten()).map(|m| m.name.as_str()).collect();
    for p in fleet.prom.values() {
        for v in p.unknown_clusters.iter().filter(|v| !hub_names.contains(v.as_str())) {
            ev.push(Condition::new(
                &t::QUERY_LAYER_UNKNOWN_CLUSTER,
                None,
                Object::new("QueryLayer", "", &format!("{} cluster={v}", p.url)),
                format!(
                    "{} holds series with cluster=\"{v}\", which is no context and no hub's ManagedCluster: a typo, or a name to map with clusters = {{ \"{v}\" = \"<context>\" }}",
                    p.url
                ),
                Jump::Pane { pane: PaneId::Overview, find: Find::from(String::new()) },
            ));
        }
    }
    for p in fleet.prom.values() {
        let problem =
            p.error.clone().or_else(|| (!p.warnings.is_empty()).then(|| format!("partial: {}", p.warnings.join("; "))));
        if let Some(why) = problem {
            ev.push(Condition::new(
                &t::QUERY_LAYER_FAILING,
                None,
                Object::new("QueryLayer", "", &p.url),
                why,
                Jump::Pane { pane: PaneId::Overview, find: Find::from(String::new()) },
            ));
        }
    }
    // a dialed context no query layer holds series for (checked once every layer answered)
    let answered = !fleet.prom.is_empty() && fleet.prom.values().all(|p| p.error.is_none() && p.took_ms.is_some());
    if answered {
        for (i, c) in fleet.clusters.iter().enumerate() {
            if !c.conn.reachable() || c.llmd.servers.is_empty() || fleet.prom_clusters.contains_key(&c.context) {
                continue;
            }
            ev.push(Condition::new(
                &t::QUERY_LAYER_NO_SERIES,
                Some(i),
                Object::new("Cluster", "", &c.context),
                format!(
                    "{} model servers run here, but no query layer holds series with cluster=\"{}\" (is the label missing or spelt differently?)",
                    c.llmd.servers.len(),
                    c.context
                ),
                Jump::Pane { pane: PaneId::Overview, find: Find::from(c.context.clone()) },
            ));
        }
    } else if !fleet.prom.is_empty() {
        for i in 0..fleet.clusters.len() {
            ev.blind(Some(i), Sight::QueryLayer, None, "the query layers have not all answered");
        }
    }
}

/// A cluster's roll-up from the query layer over the rule table's thresholds; blind when the
/// roll-up is missing or old.
fn rollup(
    ev: &mut Evaluation,
    cluster: Option<usize>,
    object: Object,
    m: Option<&ClusterAgg>,
    to: Jump,
    now: f64,
    hide_after: f64,
) {
    let Some(m) = m.filter(|m| m.current(now, hide_after)) else {
        let why = match m.and_then(|m| m.scraped_at) {
            Some(at) => format!("its roll-up is {} old", crate::store::llmd::age_text(now - at)),
            None => "no query layer holds its series".to_string(),
        };
        ev.blind(cluster, Sight::QueryLayer, Some(object), why);
        return;
    };
    for (kind, value) in [
        (&t::HUB_KV, m.kv_max),
        (&t::HUB_WAITING, m.waiting_max),
        (&t::HUB_TTFT_P99_HIGH, m.ttft_p99_s),
        (&t::HUB_TTFT_P99, m.ttft_p99_s),
        (&t::HUB_ERROR_RATIO_HIGH, m.error_ratio),
        (&t::HUB_ERROR_RATIO, m.error_ratio),
    ] {
        if let Some(reason) = over(kind, value, "") {
            ev.push(Condition::new(kind, cluster, object.clone(), reason, to.clone()));
        }
    }
    if let Some(n) = m.gpus_xid.filter(|n| *n >= 1.0) {
        ev.push(Condition::new(
            &t::HUB_GPU_XID,
            cluster,
            object,
            format!("{n:.0} GPU{} report an XID error", if n < 1.5 { "" } else { "s" }),
            to,
        ));
    }
}
