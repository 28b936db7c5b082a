//! Rates read often do not alias: scraped every 200 ms for 20 s, a busy pool's request and
//! token rates are never 0 or unknown once the window is full, and never jump between
//! neighbouring readings (the simulator's counters grow continuously, kst reads them over a
//! window, as Prometheus' `rate()` does).

mod common;

use std::time::Duration;

use kst::sources::{Collectors, WorkerOptions};
use kst::store::{Conn, Fleet, Update};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_pool_rates_never_read_zero_or_jump_when_scraped_every_200ms() {
    let sim = common::sim(2).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let window = 2.0;
    fleet.set_metrics(0.2, Some(window), None);
    let mut col = Collectors::start(
        &targets[..1],
        WorkerOptions { refresh: Duration::from_millis(200), ..common::fast_worker() },
    );
    common::pump_until(&mut fleet, &mut col.updates, "gpu-us-east's pools and their pods", |f| {
        let l = &f.clusters[0].llmd;
        f.clusters[0].conn == Conn::Live
            && l.pools.len() == 3
            && !l.servers.is_empty()
            && l.servers.iter().all(|s| s.phase == "Running" || s.unschedulable.is_some())
    })
    .await;
    // after a full window of samples, 20 s of readings, one per scrape round
    let mut first_round = None;
    // (time, per pool: name, kst's value, Prometheus')
    type Reading = (f64, Vec<(String, Option<f64>, Option<f64>)>);
    let mut readings: Vec<Reading> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let u = tokio::time::timeout_at(deadline, col.updates.recv()).await.expect("updates keep coming").unwrap();
        let round = matches!(u, Update::ScrapeRound { cluster: 0, .. });
        fleet.apply(u);
        if !round {
            continue;
        }
        let now = common::now_s();
        let start = *first_round.get_or_insert(now);
        if now - start < window + 0.5 {
            continue;
        }
        let r = fleet.reading(now);
        let l = &fleet.clusters[0].llmd;
        let row = l.pools.iter().map(|p| {
            let v = l.pool_view(p, &r);
            (p.name.clone(), v.request_rate, v.decode_tps)
        });
        readings.push((now, row.collect()));
        if now - start > window + 0.5 + 20.0 {
            break;
        }
    }
    col.stop();
    assert!(readings.len() >= 50, "about 5 readings a second: {}", readings.len());
    let mut worst = 0.0f64;
    for pair in readings.windows(2) {
        for (a, b) in pair[0].1.iter().zip(&pair[1].1) {
            for (what, x, y) in [("requests/s", a.1, b.1), ("decode tokens/s", a.2, b.2)] {
                let (x, y) = (
                    x.unwrap_or_else(|| panic!("{} {what} unknown at {}", a.0, pair[0].0)),
                    y.unwrap_or_else(|| panic!("{} {what} unknown at {}", b.0, pair[1].0)),
                );
                assert!(x > 0.0 && y > 0.0, "{} {what} read 0: {x} then {y}", a.0);
                let change = (x - y).abs() / x.max(y);
                worst = worst.max(change);
                assert!(change <= 0.30, "{} {what} jumped from {x} to {y} between neighbouring readings", a.0);
            }
        }
    }
    eprintln!("{} readings over 20 s; largest change between neighbours: {:.1}%", readings.len(), worst * 100.0);
}
