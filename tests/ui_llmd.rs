//! The LLM-d panes drawn from a deterministic fleet (simulator seed 42, engine model with a
//! fixed seed), compared with insta snapshots at 120x40 and 80x24.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::theme::Theme;
use kst::ui::{App, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llmd_panes() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    for name in ["serving", "kv", "throughput", "epp"] {
        app.show(name);
        common::snapshots!(&mut app, name);
    }

    // what a user must be able to read off these panes
    app.show("serving");
    let s = render(&mut app, 120, 40);
    assert!(s.contains("gpu-us-east/pd-disaggregation") && s.contains("gpu-eu-west/llama-70b"), "{s}");
    assert!(s.contains("needs auth"), "the 401 EPP is named: {s}");
    assert!(s.contains("agents-us-central: no InferencePool API"));
    app.show("kv");
    let s = render(&mut app, 120, 40);
    assert!(s.contains("— timeout"), "the wedged pod says why it has no gauge: {s}");
    assert!(s.contains("— unreachable"), "the crash-looping pod too: {s}");
    // the selected row's full reason is under the table
    let crash = app.with_ctx(|cx| cx.servers().iter().find(|(_, s)| !s.ready).unwrap().1.name.clone());
    while app.selected_text().as_deref() != Some(crash.as_str()) {
        app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    }
    let s = render(&mut app, 120, 40);
    assert!(s.contains("connection refused"), "{s}");
    app.show("epp");
    let s = render(&mut app, 120, 40);
    assert!(s.contains("prefill-decode 30%") && s.contains("decode-only 70%"), "{s}");

    // filter and focus narrow every LLM-d pane
    app.show("serving");
    for c in ['/', 'w', 'e', 's', 't'] {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Inference pools (1)") && !s.contains("pd-disaggregation  "), "{s}");
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));

    // the Kagenti panes
    for name in ["agents", "discovery", "builds", "status"] {
        app.show(name);
        common::snapshots!(&mut app, name);
    }
    app.show("agents");
    let s = render(&mut app, 120, 40);
    assert!(s.contains("paused") && s.contains("failing") && s.contains("Kagenti not installed"), "{s}");

    // the overview gains the LLM-d columns
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    app.show("overview");
    insta::assert_snapshot!("overview_with_llmd_120x40", render(&mut app, 120, 40));
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
