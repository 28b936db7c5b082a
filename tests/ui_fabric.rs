//! The MCP tools, Topology and Security panes drawn from the deterministic fleet, compared with
//! insta snapshots at 120x40 and 80x24; and what the keys do there (schema, list view, baseline).

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::theme::Theme;
use kst::ui::{App, Mode};

fn key(app: &mut App, c: KeyCode) {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabric_panes() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    for name in ["tools", "topology", "security"] {
        app.show(name.parse().expect("a pane"));
        common::snapshots!(&mut app, name);
    }

    // tools: conflicts flagged, the down server says why, Enter shows the schema
    app.show(PaneId::Tools);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("github_search ⚠") && s.contains("weather_search ⚠"), "{s}");
    assert!(s.contains("connection refused"), "the server that is down says why: {s}");
    assert!(s.contains("disabled"), "{s}");
    key(&mut app, KeyCode::Enter);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("inputSchema") && s.contains("\"query\""), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(app.views.is_empty(), "Esc closes the schema");
    // the filter searches names, servers and descriptions
    for c in "/forecast".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("MCP tools (1)") && s.contains("weather_get_forecast"), "{s}");
    key(&mut app, KeyCode::Esc);

    // topology: the graph at 120 columns, the list at 80 or after v
    app.show(PaneId::Topology);
    let wide = render(&mut app, 120, 40);
    assert!(wide.contains("nodes") && !wide.contains("(list)"), "{wide}");
    // edges are box-drawing lines ending in an arrow at the callee, their kind in their glyph:
    // the denied calls into github-tool read as such without colour; no braille blur
    assert!(wide.lines().any(|l| l.contains("╳▶▣ team1/github-tool")), "{wide}");
    assert!(
        wide.lines().any(|l| l.contains("┄▶▣ team1/weather-tool") || l.contains("─▶▣ team1/weather-tool")),
        "{wide}"
    );
    assert!(!wide.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)), "no braille: {wide}");
    assert!(render(&mut app, 80, 24).contains("(list)"));
    key(&mut app, KeyCode::Char('v'));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("(list)") && s.contains("denied 24") && s.contains("observed 240 calls"), "{s}");

    // security: B names what it writes and waits; a second B writes the baseline, another key
    // cancels; refused in read-only and kiosk mode
    app.show(PaneId::Security);
    let path = app.fleet.clusters[2].kagenti.baseline_path.clone().unwrap();
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before = modified(&path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    key(&mut app, KeyCode::Char('B'));
    let ask = app.flash.clone().unwrap_or_default();
    assert!(
        ask.starts_with("B again accepts the posture of ")
            && ask.contains("agents-us-central")
            && ask.contains(&path.display().to_string()),
        "{ask}"
    );
    assert_eq!(modified(&path), before, "nothing written on the first B");
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('B'));
    assert!(app.flash.as_deref().unwrap_or("").starts_with("B again"), "j cancelled: asked again {:?}", app.flash);
    assert_eq!(modified(&path), before, "a key between the two B cancels");
    key(&mut app, KeyCode::Char('B'));
    assert!(app.flash.as_deref().unwrap_or("").starts_with("baseline accepted"), "{:?}", app.flash);
    assert_ne!(modified(&path), before, "the file was written");
    app.mode = Mode::ReadOnly;
    key(&mut app, KeyCode::Char('B'));
    assert!(app.flash.as_deref().unwrap_or("").starts_with("refused: read-only"), "{:?}", app.flash);
    app.mode = Mode::Kiosk;
    key(&mut app, KeyCode::Char('B'));
    assert_eq!(app.flash.as_deref(), Some("refused: kiosk mode"));

    // `kst snapshot -o json` carries the same: tools, edges, findings, drift
    let v = serde_json::to_value(kst::snapshot::Snapshot::of(&app.fleet)).unwrap();
    let k = &v["clusters"][2]["kagenti"];
    let tools = k["tools"].as_array().unwrap();
    let weather = tools.iter().find(|t| t["name"] == "weather-tool").unwrap();
    assert_eq!(weather["status"], "reachable");
    assert_eq!(weather["tools"].as_array().unwrap().len(), 4);
    let search = weather["tools"].as_array().unwrap().iter().find(|t| t["name"] == "search").unwrap();
    assert_eq!(search["exposed"], "weather_search");
    assert_eq!(search["conflicts"], serde_json::json!(["team1/github-tool"]));
    assert_eq!(tools.iter().find(|t| t["name"] == "github-tool").unwrap()["credential"], "github-tool-credentials");
    assert!(tools.iter().find(|t| t["name"] == "jira-tool").unwrap()["status"].as_str().unwrap().starts_with("error"));
    let edges = k["edges"].as_array().unwrap();
    assert!(edges
        .iter()
        .any(|e| e["from"] == "team1/currency-converter" && e["to"] == "team1/github-tool" && e["denials"] == 24));
    assert!(edges.iter().any(|e| e["to_kind"] == "external" && e["to"] == "api.exchangerate.host"));
    let findings = k["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["rule"] == "rbac.cluster-admin" && f["severity"] == "critical"));
    assert_eq!(k["drift"], serde_json::json!([]));
    assert_eq!(v["clusters"][1]["kagenti"]["tools"], serde_json::json!([]), "no tool servers there");
    // what a script needs beyond a row: card skills with their ids; every build run kept,
    // newest first, failures with their reason and message
    let card = k["cards"].as_array().unwrap().iter().find(|c| c["agent"] == "weather-service").unwrap();
    assert_eq!(card["skill_list"][0]["id"], "weather-service-main");
    assert_eq!(card["skill_list"][0]["name"], "weather service");
    let failed = k["builds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["runs"].as_array().unwrap())
        .find(|r| r["outcome"] == "failed")
        .expect("a failed build run");
    assert!(
        failed["reason"].is_string() && failed["message"] == "remote repository unreachable or private",
        "{failed}"
    );
}
