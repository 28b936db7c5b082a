//! Placement (KubeStellar): the drift of every BindingPolicy, a problem of its WDS; a status
//! the WEC can no longer refresh. A destination that is not available is one problem per
//! cluster naming the placements it affects, not one per policy.

use std::collections::BTreeMap;

use super::table as t;
use crate::store::pane::PaneId;
use crate::store::placement::{Cell, Drift};
use crate::store::problems::{Condition, Evaluation, Find, Jump, Kind, Object, Sight};
use crate::store::Fleet;

fn kind_of(d: &Drift) -> &'static Kind {
    match d {
        Drift::Errors { withheld: true, .. } => &t::PLACEMENT_WITHHELD,
        Drift::NotDelivered { .. } => &t::PLACEMENT_NOT_DELIVERED,
        Drift::ApplyFailed { .. } => &t::PLACEMENT_APPLY_FAILED,
        Drift::Stale { .. } => &t::PLACEMENT_STALE_WORK,
        Drift::Orphaned { .. } => &t::PLACEMENT_ORPHAN_WORK,
        Drift::DestinationUnavailable { .. } | Drift::UnknownDestination { .. } => {
            &t::PLACEMENT_DESTINATION_UNAVAILABLE
        }
        Drift::Errors { .. } | Drift::SingletonCount { .. } | Drift::InvalidSelector { .. } => &t::PLACEMENT_ERROR,
        Drift::MatchesNoCluster | Drift::MatchesNoObject => &t::PLACEMENT_MATCHES_NOTHING,
        Drift::CollectorMissing { .. } => &t::PLACEMENT_COLLECTOR_MISSING,
        Drift::SingletonNotReturned { .. } => &t::PLACEMENT_SINGLETON_NOT_RETURNED,
        Drift::ControllerDown { .. } => &t::PLACEMENT_CONTROLLER_DOWN,
        Drift::GenerationLag { .. } => &t::PLACEMENT_GENERATION_LAG,
    }
}

pub fn judge(ev: &mut Evaluation, fleet: &Fleet, now: f64) {
    for (i, c) in fleet.clusters.iter().enumerate() {
        if c.conn.reachable() && c.placement.is_wds() && !c.placement.listed {
            ev.blind(Some(i), Sight::Placement, None, "placement objects not listed yet");
        }
    }
    let not_available: std::collections::HashSet<&str> = fleet
        .clusters
        .iter()
        .filter_map(|x| x.placement.managed.as_ref())
        .flatten()
        .filter(|m| m.available != Some(true))
        .map(|m| m.name.as_str())
        .collect();
    let unavailable = |name: &str| not_available.contains(name);
    // (wds, destination) -> (why, the policies binding to it)
    let mut destinations: BTreeMap<(usize, String), (String, Vec<String>)> = BTreeMap::new();
    for v in fleet.placement_views().iter() {
        let Some(wds) = fleet.clusters.iter().position(|c| c.context == v.wds) else { continue };
        if !fleet.clusters[wds].conn.reachable() {
            continue;
        }
        let to = Jump::Pane { pane: PaneId::Placement, find: Find::from(v.policy.name.clone()) };
        for d in &v.drift {
            match d {
                Drift::DestinationUnavailable { cluster, why } => {
                    let e = destinations.entry((wds, cluster.clone())).or_insert_with(|| (why.clone(), Vec::new()));
                    e.1.push(v.policy.name.clone());
                    continue;
                }
                // one problem per controller, on its hosting cluster (below), not one per policy
                Drift::ControllerDown { .. } => continue,
                Drift::UnknownDestination { cluster } => {
                    let e = destinations
                        .entry((wds, cluster.clone()))
                        .or_insert_with(|| ("it is no ManagedCluster of the ITS".into(), Vec::new()));
                    e.1.push(v.policy.name.clone());
                    continue;
                }
                _ => {}
            }
            let name = match d {
                Drift::NotDelivered { cluster, .. }
                | Drift::Stale { cluster, .. }
                | Drift::Orphaned { cluster, .. }
                | Drift::ApplyFailed { cluster, .. } => {
                    format!("{} → {cluster}", v.policy.name)
                }
                _ => v.policy.name.clone(),
            };
            // the WEC's status has waited in its WorkStatus since it was written
            let since = match d {
                Drift::SingletonNotReturned { since, .. } => *since,
                _ => None,
            };
            ev.push(
                Condition::new(kind_of(d), Some(wds), Object::new("BindingPolicy", "", &name), d.text(), to.clone())
                    .since(since),
            );
        }
        // a status the WEC can no longer refresh: old, and its cluster not Available
        for (oi, row) in v.cells.iter().enumerate() {
            for (ci, cell) in row.iter().enumerate() {
                let Cell::Reported { at: Some(at), .. } = cell else { continue };
                let (Some(cluster), Some(object)) = (v.clusters.get(ci), v.objects.get(oi)) else { continue };
                let age = now - at;
                if age > t::PLACEMENT_STATUS_STALE_S && unavailable(cluster) {
                    ev.push(
                        Condition::new(
                            &t::PLACEMENT_STATUS_STALE,
                            Some(wds),
                            Object::new("BindingPolicy", "", &format!("{} → {cluster}", v.policy.name)),
                            format!(
                                "status of {} on {cluster} last written {} and {cluster} is not Available: it may no longer be true",
                                object.text(),
                                crate::store::llmd::age_text(age)
                            ),
                            to.clone(),
                        )
                        .since(Some(at + t::PLACEMENT_STATUS_STALE_S)),
                    );
                }
            }
        }
    }
    // a KubeStellar controller not ready, on the hosting cluster that runs it
    for (i, c) in fleet.clusters.iter().enumerate().filter(|(_, c)| c.conn.reachable()) {
        for x in c.placement.controllers.iter().flatten().filter(|x| !x.healthy()) {
            let wds = x.wds().unwrap_or("?");
            ev.push(
                Condition::new(
                    &t::PLACEMENT_CONTROLLER_DOWN,
                    Some(i),
                    Object::new("Deployment", &x.namespace, &x.name),
                    format!("{} of WDS {wds} is {}: {} for any placement of {wds}", x.name, x.state(), x.stops()),
                    Jump::Pane { pane: PaneId::Placement, find: Find::from(String::new()) },
                )
                .since(x.since),
            );
        }
    }
    for ((wds, cluster), (why, policies)) in destinations {
        let n = policies.len();
        let names =
            if n <= 3 { policies.join(", ") } else { format!("{}, … ({} more)", policies[..3].join(", "), n - 3) };
        ev.push(Condition::new(
            &t::PLACEMENT_DESTINATION_UNAVAILABLE,
            Some(wds),
            Object::new("ManagedCluster", "", &cluster),
            format!(
                "{n} placement{} bind to {cluster}, which is not available ({why}); KubeStellar selects it anyway: {names}",
                if n == 1 { "" } else { "s" }
            ),
            Jump::Pane { pane: PaneId::Placement, find: Find::from(policies[0].clone()) },
        ));
    }
}
