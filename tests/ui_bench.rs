//! The Benchmarks pane (nightly matrix from the fake GitHub, the runs of a cell, the reports
//! and their compare view) and the ML jobs pane, drawn from the deterministic fleet and compared
//! with insta snapshots at 120x40 and 80x24; `kst snapshot` JSON carries the matrix and the jobs.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::store::{FleetUpdate, Update};
use kst::theme::Theme;
use kst::ui::{App, Mode};

fn key(app: &mut App, c: KeyCode) {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn benchmarks_and_jobs_panes() {
    let (_sim, mut fleet, now) = common::deterministic_fleet().await;
    fleet.apply(Update::Fleet(FleetUpdate::Nightly { state: common::deterministic_nightly(now).await }));
    fleet.apply(Update::Fleet(FleetUpdate::Reports { reports: common::example_reports() }));
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);

    app.show(PaneId::Benchmarks);
    insta::assert_snapshot!("benchmarks_120x40", common::pane_shot(&render(&mut app, 120, 40)));
    insta::assert_snapshot!("benchmarks_80x24", common::pane_shot(&render(&mut app, 80, 24)));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("pd-disaggregation gpu·vllm·nixl") && s.contains("OpenShift") && s.contains("CoreWeave"), "{s}");
    assert!(s.contains("longest failing streak: optimized-baseline rocm·vllm AMD"), "{s}");
    assert!(s.contains("names not understood: nightly-e2e-experimental.yaml"), "{s}");

    // to the AMD column of optimized-baseline (ROCm), Enter: its runs, why they failed, where to look
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('l'));
    }
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.last().map(|v| v.crumb()).as_deref(), Some("optimized-baseline on AMD runs"));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("optimized-baseline on AMD") && s.contains("GPU unavailable (Check GPU availability)"), "{s}");
    insta::assert_snapshot!("benchmark_runs_120x40", common::pane_shot(&s));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('C'));
    assert!(app.pending_copy.as_deref().unwrap().starts_with("https://github.com/llm-d/llm-d/actions/runs/"));
    key(&mut app, KeyCode::Esc);
    assert!(app.views.is_empty(), "Esc closes the runs");

    // the reports: sortable, a bad file named, two compared
    key(&mut app, KeyCode::Char('v'));
    let s = render(&mut app, 120, 40);
    insta::assert_snapshot!("reports_120x40", common::pane_shot(&s.clone()));
    assert!(s.contains("✖ broken.yaml: not YAML"), "{s}");
    key(&mut app, KeyCode::Char('s'));
    assert!(render(&mut app, 120, 40).contains("sorted by output tok/s"));
    // the selection stays on the same report when the order changes; g: to the top
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('m'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert!(app.views.last().is_some_and(|v| v.crumb().starts_with("compare")), "{:?}", app.flash);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("B vs A") && s.contains("TTFT p50 (s)"), "{s}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('v'));

    app.show(PaneId::Jobs);
    insta::assert_snapshot!("jobs_120x40", common::pane_shot(&render(&mut app, 120, 40)));
    insta::assert_snapshot!("jobs_80x24", common::pane_shot(&render(&mut app, 80, 24)));
    insta::assert_snapshot!("jobs_200x60", common::pane_shot(&render(&mut app, 200, 60)));
    let s = render(&mut app, 80, 24);
    assert!(
        s.contains(" gpu-eu-west ") && s.contains(" Succeeded "),
        "the cluster and status whole at 80 columns: {s}"
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("not installed: Notebook, PyTorchJob, RayJob, TrainJob"), "{s}");
    // s: by status, then by GPUs (most first)
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.selected_text().as_deref(), Some("llama-sft-ddp"), "the most GPUs first");
    assert!(render(&mut app, 120, 40).contains("sorted by GPUs"));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    assert!(render(&mut app, 120, 40).contains("sorted by cluster"));

    // snapshot JSON: the matrix and the jobs
    let v = serde_json::to_value(kst::snapshot::Snapshot::at(&app.fleet, app.now())).unwrap();
    let cells = v["nightly"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 16);
    let amd = cells.iter().find(|c| c["platform"] == "AMD").unwrap();
    assert!(amd["failing_streak"].as_u64().unwrap() >= 4);
    assert_eq!(amd["runs"][0]["failure"], "gpu_unavailable");
    let west = v["clusters"].as_array().unwrap().iter().find(|c| c["context"] == "gpu-eu-west").unwrap();
    let jobs = west["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 7);
    let sft = jobs.iter().find(|j| j["name"] == "llama-sft-ddp").unwrap();
    assert_eq!(
        (sft["kind"].as_str(), sft["status"].as_str(), sft["gpus"].as_i64()),
        (Some("PyTorchJob"), Some("Running"), Some(32))
    );
    assert_eq!(west["job_kinds_absent"], serde_json::json!([]));
}
