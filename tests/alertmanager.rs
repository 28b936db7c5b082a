//! kst with a real Alertmanager (Debian's `prometheus-alertmanager`): the organisation's active
//! alerts appear in Problems with their labels, severity and `startsAt`; `a` on a kst problem
//! creates a silence through the v2 API (asked how long and why, the matchers named, then `y`),
//! audited, after which kst shows that problem silenced and stops counting it; read-only mode
//! refuses (and audits); an Alertmanager that goes away is said in the Problems title and its
//! alerts become unknown, not resolved.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::sources::alertmanager::{AlertmanagerConfig, SilenceRequest};
use kst::store::llmd::{EngineKind, Role, ServerInfo};
use kst::store::pane::PaneId;
use kst::store::{Conn, Fleet, Update};
use kst::theme::Theme;
use kst::ui::{App, Mode};

struct Am {
    _peer: common::Peer,
    _dir: tempfile::TempDir,
    base: String,
}

async fn start_alertmanager(bin: &std::path::Path) -> Am {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("am.yml");
    // one receiver with no integrations: nothing leaves the machine
    std::fs::write(&cfg, "route:\n  receiver: 'null'\nreceivers:\n- name: 'null'\n").unwrap();
    let port = common::free_port();
    let peer = common::Peer(
        std::process::Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("am.log")).unwrap())
            .spawn()
            .expect("alertmanager starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !http.get(format!("{base}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "Alertmanager did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Am { _peer: peer, _dir: dir, base }
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// A fleet of one live cluster with one crash-looping model server (a kst problem).
fn fleet() -> Fleet {
    let mut f = Fleet::new(&[("gpu-eu-west".into(), "https://127.0.0.1:1".into())]);
    let c = &mut f.clusters[0];
    c.conn = Conn::Live;
    c.llmd.installed = Some(true);
    c.llmd.servers = vec![ServerInfo {
        namespace: "llm-d".into(),
        name: "decode-0".into(),
        pool: None,
        role: Role::Decode,
        model: None,
        engine: EngineKind::Vllm,
        ready: false,
        phase: "Running".into(),
        restarts: 7,
        node: "n0".into(),
        metrics_port: 8000,
        gpus: 1,
        waiting: Some("CrashLoopBackOff".into()),
        unschedulable: None,
        ready_since: Some(common::now_s() - 3600.0),
    }];
    f
}

/// Applies updates (and evaluates the problems) until `done` holds.
async fn until(app: &mut App, rx: &mut tokio::sync::mpsc::Receiver<Update>, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        app.fleet.evaluate_problems(common::now_s());
        if done(app) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {:?}", app.fleet.problems.all());
        if let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            app.on_update(u);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_read_and_a_silence_made_from_a_problem() {
    let test = "alerts_read_and_a_silence_made_from_a_problem";
    let Some(bin) = common::peers::debian_binary("prometheus-alertmanager", "prometheus-alertmanager") else {
        common::peers::missing(test, "prometheus-alertmanager", "apt-get install prometheus-alertmanager");
        return;
    };
    // Debian's build reads its default template from /usr/share (a path patched in): an
    // Alertmanager unpacked under target/ without root cannot start, so it counts as missing
    if !std::path::Path::new("/usr/share/prometheus/alertmanager/default.tmpl").is_file() {
        common::peers::missing(test, "prometheus-alertmanager", "apt-get install prometheus-alertmanager");
        return;
    }
    let am = start_alertmanager(&bin).await;
    let http = reqwest::Client::new();
    // the organisation's own alert, an hour old
    let starts = jiff::Timestamp::from_second(common::now_s() as i64 - 3600).unwrap().to_string();
    let alert = serde_json::json!([{
        "labels": {"alertname": "KubeNodeNotReady", "severity": "critical", "cluster": "gpu-eu-west", "node": "n7"},
        "annotations": {"summary": "n7 has been unready for more than 15 minutes."},
        "startsAt": starts}]);
    let r = http.post(format!("{}/api/v2/alerts", am.base)).json(&alert).send().await.unwrap();
    assert!(r.status().is_success(), "{r:?}");

    let state = tempfile::tempdir().unwrap();
    let audit = state.path().join("audit.jsonl");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (silencer, requests) = tokio::sync::mpsc::unbounded_channel::<SilenceRequest>();
    let cfg = AlertmanagerConfig { url: am.base.clone(), timeout: Duration::from_secs(5), ..Default::default() };
    let task =
        tokio::spawn(kst::sources::alertmanager::run(0, cfg, Duration::from_millis(500), tx, requests, audit.clone()));
    let mut app = App::new(fleet(), Theme::builtin("mono").unwrap(), Mode::Normal);
    app.writes.silencers = vec![silencer.clone()];

    // the organisation's alert is a problem: its severity, its start, its cluster
    until(&mut app, &mut rx, "the Alertmanager alert", |a| a.fleet.problems.firing().any(|p| p.kind == "alertmanager"))
        .await;
    let p = app.fleet.problems.firing().find(|p| p.kind == "alertmanager").unwrap().clone();
    assert_eq!((p.severity, p.cluster), (kst::store::problems::Severity::Critical, Some(0)));
    assert!((p.since - (common::now_s() - 3600.0)).abs() < 5.0 && !p.since_lower_bound, "its startsAt: {p:?}");
    assert!(p.reason.starts_with("n7 has been unready") && p.object.name == "KubeNodeNotReady node=n7", "{p:?}");

    // `a` on kst's own crash loop: how long, why, the matchers named, `y`
    app.show(PaneId::Problems);
    let rows = app.with_ctx(|cx| kst::ui::panes::problems::rows(cx).iter().map(|p| p.kind).collect::<Vec<_>>());
    let at = rows.iter().position(|k| *k == "pod-crashloop").expect("the crash loop is listed");
    app.on_key(key(KeyCode::Char('g')));
    for _ in 0..at {
        app.on_key(key(KeyCode::Char('j')));
    }
    app.on_key(key(KeyCode::Char('a')));
    assert!(app.writes.silence.is_some(), "the silence dialog opens: {:?}", app.flash);
    for c in "known, rollback in progress".chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    app.on_key(key(KeyCode::Enter));
    let screen = common::render(&mut app, 120, 40);
    assert!(
        screen.contains("alertname=\"KstModelServerCrashLooping\"")
            && screen.contains("cluster=\"gpu-eu-west\"")
            && screen.contains("pod=\"decode-0\"")
            && screen.contains("y create the silence"),
        "the confirmation names the matchers: {screen}"
    );
    app.on_key(key(KeyCode::Char('y')));
    until(&mut app, &mut rx, "the crash loop silenced", |a| {
        a.fleet.problems.firing().any(|p| p.kind == "pod-crashloop" && p.silenced.is_some())
    })
    .await;
    assert!(app.flash.as_deref().is_some_and(|f| f.starts_with("silenced in")), "{:?}", app.flash);
    let p = app.fleet.problems.firing().find(|p| p.kind == "pod-crashloop").unwrap().clone();
    assert!(
        p.silenced.as_deref().is_some_and(|s| s.contains("(kst)") && s.ends_with(": known, rollback in progress")),
        "{p:?}"
    );
    assert!(!p.incident(), "a silenced problem is listed, not counted");
    assert_eq!(app.fleet.problems.totals().critical, 1, "only the node alert counts now");
    // Alertmanager holds it as the API says
    let silences: serde_json::Value =
        http.get(format!("{}/api/v2/silences", am.base)).send().await.unwrap().json().await.unwrap();
    let s = &silences[0];
    assert_eq!(s["status"]["state"], "active");
    assert_eq!(s["comment"], "known, rollback in progress");
    let names: Vec<&str> = s["matchers"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, vec!["alertname", "cluster", "namespace", "pod"]);
    let audited = std::fs::read_to_string(&audit).unwrap();
    assert!(audited.contains("\"action\":\"silence\"") && audited.contains("\"result\":\"created "), "{audited}");

    // read-only: refused, audited, nothing sent
    let mut ro = App::new(fleet(), Theme::builtin("mono").unwrap(), Mode::ReadOnly);
    ro.fleet.alertmanagers = app.fleet.alertmanagers.clone();
    ro.writes.silencers = vec![silencer];
    ro.fleet.evaluate_problems(common::now_s());
    ro.show(PaneId::Problems);
    ro.on_key(key(KeyCode::Char('a')));
    assert!(ro.writes.silence.is_none());
    assert!(ro.flash.as_deref().is_some_and(|f| f.starts_with("read-only mode")), "{:?}", ro.flash);
    common::eventually("the refusal audited", || {
        std::fs::read_to_string(&audit).is_ok_and(|a| a.contains("refused: read-only mode"))
    })
    .await;

    // Alertmanager goes away: said in the title; its alert unknown, not resolved
    drop(am);
    until(&mut app, &mut rx, "the alert unknown", |a| {
        a.fleet.problems.all().iter().any(|p| p.kind == "alertmanager" && p.is_unknown())
    })
    .await;
    assert!(!app.fleet.problems.all().iter().any(|p| p.kind == "alertmanager" && p.resolved()));
    let screen = common::render(&mut app, 200, 40);
    assert!(screen.contains("Alertmanager http://127.0.0.1") && screen.contains("cannot connect"), "{screen}");
    task.abort();
}
