//! Shared helpers: start the simulator in-process and point kst's collectors at it.
#![allow(dead_code)]

use std::time::Duration;

use kst::sim::{SimFleet, SimOptions};
use kst::sources::{connect, Target, WorkerOptions};

pub async fn sim(clusters: usize) -> SimFleet {
    SimFleet::start(SimOptions { clusters, ..SimOptions::default() }).await.expect("sim starts")
}

pub fn targets(fleet: &SimFleet) -> Vec<Target> {
    let kc = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig(false)).expect("sim kubeconfig parses");
    connect::select_targets(kc, &[]).expect("contexts")
}

pub fn fast_worker() -> WorkerOptions {
    WorkerOptions {
        refresh: Duration::from_millis(300),
        backoff_max: Duration::from_secs(1),
        coalesce: Duration::from_millis(50),
        probe_timeout: Duration::from_secs(5),
        scrape_timeout: Duration::from_secs(2),
    }
}

/// Polls `f` until it is true or the (generous) deadline passes.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut f: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !f() {
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
