//! Clusters: kst's own connection to each API server, and what that leaves kst unable to see.

use super::table as t;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Object, Sight};
use crate::store::{ClusterState, Conn};

/// Every sight that depends on the cluster's API server answering.
const THROUGH_THE_API: [Sight; 8] = [
    Sight::Workloads,
    Sight::Metrics,
    Sight::Agents,
    Sight::Jobs,
    Sight::Placement,
    Sight::Gpus,
    Sight::Hub,
    Sight::QueryLayer,
];

/// The connection's problems, and blind spots where kst cannot look; false when nothing more
/// can be judged on this cluster.
pub fn judge(ev: &mut Evaluation, i: usize, c: &ClusterState) -> bool {
    let cluster = Some(i);
    let this = || Object::new("Cluster", "", &c.context);
    let to_overview = || Jump::Pane { pane: crate::store::pane::PaneId::Overview, find: Find::from(c.context.clone()) };
    let blind_all = |ev: &mut Evaluation, why: &str, conn_too: bool| {
        if conn_too {
            ev.blind(cluster, Sight::Conn, None, why);
        }
        for s in THROUGH_THE_API {
            ev.blind(cluster, s, None, why);
        }
    };
    if let Some(why) = &c.undialed {
        blind_all(ev, &format!("not dialed: {why}"), true);
        return false;
    }
    let failed = match &c.conn {
        Conn::Connecting => {
            blind_all(ev, "connecting", true);
            return false;
        }
        // kst's first failed attempt is not when the cluster went away (it may have been gone
        // before kst started): the Tracker dates it, as a lower bound unless kst saw it answer
        Conn::Unreachable { error, .. } => Some((&t::CLUSTER_UNREACHABLE, format!("unreachable: {error}"))),
        Conn::AuthFailed(e) => Some((&t::CLUSTER_AUTH, format!("auth failed: {e}"))),
        Conn::ConfigError(e) => Some((&t::CLUSTER_CONFIG, format!("config error: {e}"))),
        Conn::Degraded(why) => {
            ev.push(Condition::new(&t::CLUSTER_DEGRADED, cluster, this(), why.clone(), to_overview()));
            None
        }
        Conn::Slow(why) => {
            ev.push(Condition::new(&t::CLUSTER_SLOW, cluster, this(), why.clone(), to_overview()));
            None
        }
        Conn::Live => None,
    };
    if let Some((kind, reason)) = failed {
        let why = format!("cluster {}", c.conn.label());
        ev.push(Condition::new(kind, cluster, this(), reason, to_overview()));
        // the Conn sight is lost too: a problem of another kind (auth, say) cannot be
        // told gone while the cluster does not answer
        blind_all(ev, &why, false);
        if kind.id != t::CLUSTER_UNREACHABLE.id {
            ev.blind(cluster, Sight::Conn, None, why);
        }
        return false;
    }
    // a resource kst may not read: what depends on it cannot be judged
    for r in &c.forbidden {
        for s in sights_of(r) {
            ev.blind(cluster, s, None, format!("{r} forbidden"));
        }
    }
    true
}

/// The sights a resource kst reads feeds.
fn sights_of(resource: &str) -> Vec<Sight> {
    let r = resource.to_ascii_lowercase();
    let r = r.split('.').next().unwrap_or(&r).to_string();
    // (`pods/proxy` keeps its subresource: it says which reads are lost)
    match r.as_str() {
        "pods" => vec![Sight::Workloads, Sight::Agents, Sight::Gpus],
        // the metrics kst reads through the API server's proxy
        "pods/proxy" | "services/proxy" => vec![Sight::Metrics],
        "inferencepools"
        | "inferencepoolimports"
        | "inferenceobjectives"
        | "horizontalpodautoscalers"
        | "scaledobjects" => vec![Sight::Workloads],
        "jobs" | "pytorchjobs" | "trainjobs" | "rayjobs" | "notebooks" => vec![Sight::Jobs],
        "bindingpolicies" | "bindings" | "manifestworks" | "workstatuses" | "controlplanes" => vec![Sight::Placement],
        "managedclusters" | "managedclustersets" => vec![Sight::Hub, Sight::Placement],
        "nodes" => vec![],
        _ => vec![Sight::Agents],
    }
}
