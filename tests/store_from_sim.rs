//! The collectors feed the store from the simulator: the fleet converges, and a cluster
//! made unreachable shows as such while the others keep updating, then recovers.

mod common;

use std::time::Duration;

use kst::sources::Collectors;
use kst::store::{Conn, Fleet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_converges_then_survives_an_unreachable_cluster() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut collectors = Collectors::start(&targets, common::fast_worker());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    macro_rules! until {
        ($what:expr, $cond:expr) => {
            loop {
                if $cond(&fleet) {
                    break;
                }
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match tokio::time::timeout(left, collectors.updates.recv()).await {
                    Ok(Some(u)) => {
                        fleet.apply(u);
                    }
                    _ => panic!(
                        "timed out waiting for {}; fleet: {:#?}",
                        $what,
                        fleet.clusters.iter().map(|c| (&c.context, &c.conn, &c.nodes)).collect::<Vec<_>>()
                    ),
                }
            }
        };
    }
    until!("three live clusters with nodes", |f: &Fleet| f
        .clusters
        .iter()
        .all(|c| c.conn == Conn::Live && c.nodes.is_some()));
    let by = |f: &Fleet, n: &str| f.clusters.iter().find(|c| c.context == n).cloned().unwrap();
    let east = by(&fleet, "gpu-us-east").nodes.unwrap();
    assert_eq!((east.total, east.gpus_total, east.gpus_allocatable), (6, 32, 31), "4 H100 nodes x8, one GPU withheld");
    let west = by(&fleet, "gpu-eu-west").nodes.unwrap();
    assert_eq!((west.total, west.gpus_total, west.gpus_allocatable), (4, 24, 23));
    assert_eq!(by(&fleet, "agents-us-central").nodes.unwrap().gpus_total, 0);
    assert!(by(&fleet, "gpu-us-east").version.unwrap().starts_with("v1."));

    // One cluster goes dark: it shows as unreachable...
    sim.cluster("gpu-eu-west").unwrap().faults.set_unreachable(true);
    until!("gpu-eu-west unreachable", |f: &Fleet| matches!(by(f, "gpu-eu-west").conn, Conn::Unreachable { .. }));
    let err = by(&fleet, "gpu-eu-west").conn.detail().unwrap().to_string();
    assert!(err.to_lowercase().contains("refused") || err.contains("connect"), "a person-readable cause: {err}");
    // ...while another keeps updating: a node added on gpu-us-east arrives.
    {
        let east = sim.cluster("gpu-us-east").unwrap();
        let nodes = east.registry.index_of(&kst_sim::resources::NODES).unwrap();
        east.store.write().unwrap().put(
            nodes,
            serde_json::json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "late-gpu-node"},
            "status": {"capacity": {"nvidia.com/gpu": "8"}, "allocatable": {"nvidia.com/gpu": "8"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}),
        );
    }
    until!("the new node on gpu-us-east", |f: &Fleet| by(f, "gpu-us-east").nodes.map(|n| n.gpus_total) == Some(40));
    assert!(matches!(by(&fleet, "gpu-eu-west").conn, Conn::Unreachable { .. }));

    // It comes back by itself.
    sim.cluster("gpu-eu-west").unwrap().faults.set_unreachable(false);
    until!("gpu-eu-west live again", |f: &Fleet| by(f, "gpu-eu-west").conn == Conn::Live);
    collectors.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_and_forbidden_nodes_are_named() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    sim.cluster("gpu-us-east").unwrap().faults.set_token_expired(true);
    sim.cluster("agents-us-central").unwrap().faults.set_forbidden("nodes", true);
    let fleet = kst::snapshot::collect(
        &targets,
        common::fast_worker(),
        vec![],
        Duration::from_secs(60),
        Duration::from_secs(2),
    )
    .await;
    let by = |n: &str| fleet.clusters.iter().find(|c| c.context == n).unwrap();
    assert!(matches!(by("gpu-us-east").conn, Conn::AuthFailed(_)), "{:?}", by("gpu-us-east").conn);
    assert!(
        matches!(by("agents-us-central").conn, Conn::Degraded(ref m) if m.contains("nodes")),
        "{:?}",
        by("agents-us-central").conn
    );
    assert!(by("agents-us-central").nodes.is_none(), "no made-up node count when forbidden");
    assert_eq!(by("gpu-eu-west").conn, Conn::Live);
}
