//! The LLM-d panes drawn from a deterministic fleet (simulator seed 42, engine model with a
//! fixed seed), compared with insta snapshots at 120x40 and 80x24.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::theme::Theme;
use kst::ui::tabs::Tab;
use kst::ui::{App, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llmd_panes() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    for (tab, name) in
        [(Tab::Serving, "serving"), (Tab::KvCache, "kv"), (Tab::Throughput, "throughput"), (Tab::EppRouting, "epp")]
    {
        app.tab = tab;
        app.selected = 0;
        insta::assert_snapshot!(format!("{name}_120x40"), render(&app, 120, 40));
        insta::assert_snapshot!(format!("{name}_80x24"), render(&app, 80, 24));
    }

    // what a user must be able to read off these panes
    app.tab = Tab::Serving;
    let s = render(&app, 120, 40);
    assert!(s.contains("gpu-us-east/pd-disaggregation") && s.contains("gpu-eu-west/llama-70b"), "{s}");
    assert!(s.contains("needs auth"), "the 401 EPP is named: {s}");
    assert!(s.contains("agents-us-central: no InferencePool API"));
    app.tab = Tab::KvCache;
    let s = render(&app, 120, 40);
    assert!(s.contains("— timeout"), "the wedged pod says why it has no gauge: {s}");
    assert!(s.contains("— unreachable"), "the crash-looping pod too: {s}");
    // the selected row's full reason is under the table
    let crash = app.servers().iter().position(|(_, s)| !s.ready).unwrap();
    app.selected = crash;
    let s = render(&app, 120, 40);
    assert!(s.contains("connection refused"), "{s}");
    app.tab = Tab::EppRouting;
    let s = render(&app, 120, 40);
    assert!(s.contains("prefill-decode 30%") && s.contains("decode-only 70%"), "{s}");

    // filter and focus narrow every LLM-d pane
    app.tab = Tab::Serving;
    for c in ['/', 'w', 'e', 's', 't'] {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let s = render(&app, 120, 40);
    assert!(s.contains("Inference pools (1)") && !s.contains("pd-disaggregation  "), "{s}");
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));

    // the Kagenti panes
    for (tab, name) in
        [(Tab::Agents, "agents"), (Tab::Discovery, "discovery"), (Tab::Builds, "builds"), (Tab::Status, "status")]
    {
        app.tab = tab;
        app.selected = 0;
        insta::assert_snapshot!(format!("{name}_120x40"), render(&app, 120, 40));
        insta::assert_snapshot!(format!("{name}_80x24"), render(&app, 80, 24));
    }
    app.tab = Tab::Agents;
    let s = render(&app, 120, 40);
    assert!(s.contains("paused") && s.contains("failing") && s.contains("Kagenti not installed"), "{s}");

    // the overview gains the LLM-d columns
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    app.tab = Tab::Overview;
    insta::assert_snapshot!("overview_with_llmd_120x40", render(&app, 120, 40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_json_carries_llmd() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let snap = kst::snapshot::Snapshot::at(&fleet, now);
    let v = serde_json::to_value(&snap).unwrap();
    let east = &v["clusters"][0]["llmd"];
    assert_eq!(east["installed"], true);
    assert_eq!(east["pools"].as_array().unwrap().len(), 2);
    let pd = east["pools"].as_array().unwrap().iter().find(|p| p["name"] == "pd-disaggregation").unwrap();
    assert_eq!((pd["prefill_total"].as_u64(), pd["decode_total"].as_u64()), (Some(2), Some(2)));
    assert!(pd["decode_tokens_per_s"].as_f64().unwrap() > 0.0);
    assert!(pd["ttft_p99_s"].as_f64().unwrap() > 0.0);
    let base = east["pools"].as_array().unwrap().iter().find(|p| p["name"] == "optimized-baseline").unwrap();
    assert!(base["epp_error"].as_str().unwrap().contains("needs auth"));
    assert!(base["error_rate"].is_null(), "no EPP numbers: null, not 0");
    assert_eq!(v["clusters"][2]["llmd"]["installed"], false);
    assert!(east["kv_avg"].as_f64().is_some());
    // Kagenti fields
    let k = &v["clusters"][2]["kagenti"];
    assert_eq!(k["installed"], true);
    assert_eq!(k["brands"], serde_json::json!(["kagenti"]));
    let research = k["agents"].as_array().unwrap().iter().find(|a| a["name"] == "research-agent").unwrap();
    assert_eq!(research["health"], "paused");
    assert_eq!(research["type"], "agent");
    assert!(k["cards"].as_array().unwrap().iter().any(|c| c["source"] == "fetched" && c["shape"] == "1.0"));
    let flaky = k["builds"].as_array().unwrap().iter().find(|b| b["name"] == "flaky-summarizer").unwrap();
    assert_eq!((flaky["history_succeeded"].as_u64(), flaky["history_failed"].as_u64()), (Some(1), Some(3)));
    assert_eq!(k["platform"]["spire"], "missing");
    assert_eq!(v["clusters"][1]["kagenti"]["installed"], false);
    assert_eq!(v["clusters"][0]["kagenti"]["brands"], serde_json::json!(["rossoctl"]));
}
