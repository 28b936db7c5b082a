//! One frame of each pane at 200x60 with a 100-cluster fleet in the store: the cost of
//! drawing as the fleet grows (derived views, the table widget, the layout). A fleet of
//! three simulated clusters is read by the real collectors, then copied to 100 clusters.
//! Prints the median and p99 per frame for every pane.

use std::time::{Duration, Instant};

use kst::sources::{connect, Collectors, WorkerOptions};
use kst::store::{Conn, Fleet};
use kst::theme::Theme;
use kst::ui::{App, Mode};

fn percentile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let three = rt.block_on(async {
        let sim = kst_sim::SimFleet::start(kst_sim::SimOptions { clusters: 3, ..Default::default() }).await.unwrap();
        let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(false)).unwrap();
        let targets = connect::select_targets(kc, &[]).unwrap();
        let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
        let opts = WorkerOptions {
            refresh: Duration::from_millis(300),
            state_dir: std::env::temp_dir().join(format!("kst-bench-{}", std::process::id())),
            ..WorkerOptions::default()
        };
        let mut col = Collectors::start(&targets, opts);
        let deadline = Instant::now() + Duration::from_secs(60);
        // converged: every cluster live, LLM-d scraped for a while, Kagenti's fabric read
        while Instant::now() < deadline {
            if let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(100), col.updates.recv()).await {
                fleet.apply(u);
            }
            let done = fleet.clusters.iter().all(|c| c.conn == Conn::Live && c.nodes.is_some())
                && fleet.clusters[0].llmd.rounds >= 10
                && fleet.clusters.iter().all(|c| c.kagenti.installed() == Some(false) || c.kagenti.tools.is_some());
            if done {
                break;
            }
        }
        col.stop();
        fleet
    });
    // 100 clusters: copies of the three, each its own context
    let mut targets = Vec::new();
    let mut states = Vec::new();
    for i in 0..100 {
        let mut c = three.clusters[i % 3].clone();
        c.context = format!("{}-{i:03}", c.context);
        targets.push((c.context.clone(), c.server.clone()));
        states.push(c);
    }
    let mut fleet = Fleet::new(&targets);
    fleet.clusters = states;
    for (i, c) in fleet.clusters.iter_mut().enumerate() {
        c.kagenti.rederive(i);
    }
    let now = three.clusters.iter().filter_map(|c| c.llmd.last_round).fold(0.0, f64::max);
    let mut app = App::new(fleet, Theme::builtin("dark").unwrap(), Mode::Normal);
    app.clock = Some(now + 1.0);
    let backend = ratatui::backend::TestBackend::new(200, 60);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    // KST_BENCH_PANE=security (for a profiler): that pane only, 5000 frames
    let only = std::env::var("KST_BENCH_PANE").ok();
    let frames = if only.is_some() { 5000 } else { 200 };
    let ids: Vec<&'static str> =
        app.panes.iter().map(|p| p.id().name()).filter(|id| only.as_deref().is_none_or(|o| o == *id)).collect();
    println!("one frame at 200x60, 100 clusters (copies of 3 simulated ones), 200 frames per pane:");
    let mut worst = Duration::ZERO;
    for id in ids {
        app.show(id.parse().expect("a pane"));
        // the first frame warms the caches a real session would have warm too
        term.draw(|f| app.draw(f)).unwrap();
        let mut samples: Vec<Duration> = (0..frames)
            .map(|_| {
                let t = Instant::now();
                term.draw(|f| app.draw(f)).unwrap();
                t.elapsed()
            })
            .collect();
        let med = percentile(&mut samples, 0.5);
        let p99 = percentile(&mut samples, 0.99);
        worst = worst.max(p99);
        println!("  {id:<12} median {med:>9.2?}   p99 {p99:>9.2?}");
    }
    println!("  worst p99 {worst:.2?} (target: under 2 ms)");
}
