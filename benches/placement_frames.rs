//! The Placement tab at scale (#27): the simulator's WDS with 200 more BindingPolicies binding
//! 2,000 more objects to the edge clusters, plus one policy binding all 2,000 (the largest
//! matrix), read by the real collectors. Measures, at 200x60: one frame of the tab, a key
//! (`j`, the next policy) and the frame it leads to (key-to-frame, without the terminal's
//! write), and the same on the 2,000-object policy. Prints medians and p99s.
//! Usage: cargo bench --bench placement_frames

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::sources::{connect, Collectors, WorkerOptions};
use kst::store::{Conn, Fleet};
use kst::theme::Theme;
use kst::ui::{App, Mode};

const POLICIES: usize = 200;
const OBJECTS: usize = 2000;

fn percentile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn views(f: &Fleet) -> Vec<kst::store::placement::PolicyView> {
    let contexts: Vec<(&str, &kst::store::placement::PlacementCluster)> =
        f.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect();
    kst::store::placement::views(&contexts)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let fleet = rt.block_on(async {
        let sim = kst_sim::SimFleet::start(kst_sim::SimOptions {
            clusters: 3,
            kubestellar: true,
            bulk_policies: POLICIES,
            bulk_objects: OBJECTS,
            ..Default::default()
        })
        .await
        .unwrap();
        let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(false)).unwrap();
        let targets = connect::select_targets(kc, &[]).unwrap();
        let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
        let opts = WorkerOptions {
            refresh: Duration::from_secs(1),
            state_dir: std::env::temp_dir().join(format!("kst-bench-{}", std::process::id())),
            ..WorkerOptions::default()
        };
        let mut col = Collectors::start(&targets, opts);
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(200), col.updates.recv()).await {
                fleet.apply(u);
            }
            let live = fleet.clusters.iter().all(|c| c.conn == Conn::Live);
            let v = views(&fleet);
            let all = v.iter().find(|p| p.policy.name == "bulk-policy-all");
            let placed = all.is_some_and(|p| {
                p.objects.len() == OBJECTS
                    && !p.clusters.is_empty()
                    && p.cells
                        .iter()
                        .all(|row| row.iter().all(|c| !matches!(c, kst::store::placement::Cell::NotDelivered)))
            });
            if live && placed && v.len() > POLICIES {
                break;
            }
            assert!(Instant::now() < deadline, "not converged in 300 s");
        }
        col.stop();
        fleet
    });
    let v = views(&fleet);
    let works: usize = fleet.clusters.iter().filter_map(|c| c.placement.works.as_ref()).map(Vec::len).sum();
    println!(
        "Placement tab, 200x60: {} policies, {} WDS objects, {works} ManifestWorks (converged in {:.0} s)",
        v.len(),
        fleet.clusters.iter().filter_map(|c| c.placement.objects.as_ref()).map(Vec::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let mut app = App::new(fleet, Theme::builtin("dark").unwrap(), Mode::Normal);
    app.show(kst::store::pane::PaneId::Placement);
    let backend = ratatui::backend::TestBackend::new(200, 60);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    term.draw(|f| app.draw(f)).unwrap();
    let key = |app: &mut App, c: KeyCode| {
        app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
    };
    let measure = |what: &str, app: &mut App, term: &mut ratatui::Terminal<_>, step: &dyn Fn(&mut App)| {
        let mut samples: Vec<Duration> = (0..200)
            .map(|_| {
                let t = Instant::now();
                step(app);
                term.draw(|f| app.draw(f)).unwrap();
                t.elapsed()
            })
            .collect();
        let med = percentile(&mut samples, 0.5);
        let p99 = percentile(&mut samples, 0.99);
        println!("  {what:<48} median {med:>9.2?}   p99 {p99:>9.2?}");
    };
    measure("a frame (nothing changed)", &mut app, &mut term, &|_| {});
    measure("j (next policy) and its frame: key-to-frame", &mut app, &mut term, &|a| key(a, KeyCode::Char('j')));
    // the policy of 2,000 objects, selected through the filter
    key(&mut app, KeyCode::Char('/'));
    for c in "bulk-policy-all".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    term.draw(|f| app.draw(f)).unwrap();
    measure("a frame of the 2,000-object policy", &mut app, &mut term, &|_| {});
    measure("e (explain / matrix) on it, and its frame", &mut app, &mut term, &|a| key(a, KeyCode::Char('e')));
    println!("  (target: key-to-frame under 50 ms)");
}
