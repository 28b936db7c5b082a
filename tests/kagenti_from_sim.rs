//! Kagenti against the simulator: discovery under both namings, 'not installed', the health
//! rules, cards indexed and fetched, build pass rates over kst's history, platform status;
//! the on/off toggle end to end (SSAR, confirm, scale, annotation, audit, watch), refused in
//! read-only, kiosk and without RBAC; and the card of a real A2A server built with a2a-sdk.

mod common;

use common::drive;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::sources::Collectors;
use kst::store::kagenti::{health, CardState, ComponentState, Health};
use kst::store::pane::PaneId;
use kst::store::Fleet;
use kst::theme::Theme;
use kst::ui::dialog::DialogState;
use kst::ui::{App, Mode};

fn by<'a>(f: &'a Fleet, name: &str) -> &'a kst::store::ClusterState {
    f.clusters.iter().find(|c| c.context == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_health_cards_builds_and_platform() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    common::pump_until(&mut fleet, &mut col.updates, "agents on both Kagenti clusters and their cards", |f| {
        let a = &by(f, "agents-us-central").kagenti;
        let e = &by(f, "gpu-us-east").kagenti;
        a.agents.len() >= 11
            && e.agents.len() == 2
            && by(f, "gpu-eu-west").kagenti.installed() == Some(false)
            && a.cards.len() >= 8
            && e.cards.len() == 2
            && a.platform.is_some()
    })
    .await;
    use kst::store::kagenti::Brand;
    let east = &by(&fleet, "gpu-us-east").kagenti;
    assert_eq!(east.brands.as_deref(), Some(&[Brand::Rossoctl][..]), "the renamed group and labels");
    assert!(east.agents.iter().all(|a| a.brand == Brand::Rossoctl));
    let central = &by(&fleet, "agents-us-central").kagenti;
    assert_eq!(central.brands.as_deref(), Some(&[Brand::Kagenti][..]));
    let agent = |n: &str| central.agents.iter().find(|a| a.name == n).unwrap();
    assert_eq!(health(agent("weather-service")), Health::Healthy);
    assert_eq!(health(agent("research-agent")), Health::Paused, "scaled to 0 on purpose");
    assert!(matches!(health(agent("flaky-summarizer")), Health::Failing(_)), "{:?}", health(agent("flaky-summarizer")));
    assert_eq!(agent("weather-service").hpa.as_deref(), Some("weather-service"));
    assert_eq!(agent("claude-agent").provider.as_deref(), Some("anthropic"));
    assert_eq!(agent("claude-agent").service_account, "default", "no own ServiceAccount");
    assert_eq!(agent("currency-converter").provider.as_deref(), Some("google"));
    assert_eq!(central.agents.iter().filter(|a| a.wtype == "tool").count(), 5);
    // cards: some indexed by the operator, the rest fetched through the service proxy, both shapes
    let cards: Vec<&CardState> = central.cards.values().collect();
    assert!(cards.iter().any(|c| matches!(c, CardState::Indexed(_))));
    assert!(cards.iter().any(|c| matches!(c, CardState::Fetched(card) if card.shape == "1.0")));
    assert!(cards.iter().any(|c| matches!(c, CardState::Fetched(card) if card.shape == "0.x")
        || matches!(c, CardState::Indexed(card) if card.shape == "0.x")));
    // builds: kst's own history gives the pass rate
    let flaky = central.builds.iter().find(|b| b.name == "flaky-summarizer").unwrap();
    assert_eq!(flaky.history, (1, 3));
    assert_eq!(flaky.runs[0].reason.as_deref(), Some("GitRemotePrivate"));
    assert!(flaky.runs[0].duration_s.unwrap() > 0);
    let p = central.platform.as_ref().unwrap();
    let comp = |n: &str| p.components.iter().find(|c| c.0 == n).unwrap().1.clone();
    assert_eq!(comp("istiod"), ComponentState::Ready);
    assert_eq!(comp("shipwright"), ComponentState::Ready);
    assert_eq!(comp("spire"), ComponentState::Missing);
    assert_eq!(p.enabled_namespaces, vec!["team1".to_string(), "team2".to_string()]);
    col.stop();
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn select_agent(app: &mut App, name: &str) {
    app.show(PaneId::Agents);
    app.on_key(key(KeyCode::Char('g')));
    let mut seen = 0;
    while app.selected_text().as_deref() != Some(name) {
        app.on_key(key(KeyCode::Char('j')));
        seen += 1;
        assert!(seen < 100, "agent {name} listed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toggle_off_and_on_with_checks_confirmation_and_audit() {
    let sim = common::sim(3).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(true)).unwrap();
    let targets =
        kst::sources::connect::select_targets(kc, &["agents-us-central".into(), "agents-us-central-viewer".into()])
            .unwrap();
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.writes.actions = Some(kst::actions::start(targets.clone(), col.sender(), audit.clone()));
    let weather =
        |app: &App| app.fleet.clusters[0].kagenti.agents.iter().find(|a| a.name == "weather-service").cloned();
    drive(&mut app, &mut col.updates, "weather-service listed", |a| weather(a).is_some_and(|w| w.ready == 2)).await;

    // off: the dialog names the change and warns about the HPA; y applies it
    app.focus = Some(0);
    select_agent(&mut app, "weather-service");
    app.on_key(key(KeyCode::Char('t')));
    let d = app.writes.dialog.clone().expect("a confirmation dialog");
    assert_eq!((d.target.from, d.target.to), (2, 0));
    assert_eq!(d.hpa.as_deref(), Some("weather-service"));
    drive(&mut app, &mut col.updates, "the permission check", |a| {
        a.writes.dialog.as_ref().is_some_and(|d| d.state != DialogState::Checking)
    })
    .await;
    assert_eq!(app.writes.dialog.as_ref().unwrap().state, DialogState::Allowed);
    app.on_key(key(KeyCode::Char('y')));
    drive(&mut app, &mut col.updates, "the agent to be off, seen through the watch", |a| {
        weather(a).is_some_and(|w| w.desired == 0 && w.previous_replicas == Some(2))
    })
    .await;
    assert_eq!(health(&weather(&app).unwrap()), Health::Paused);
    assert!(app.flash.as_deref().unwrap_or("").contains("scaled 2 -> 0"), "{:?}", app.flash);

    // on: back to the remembered count, annotation removed
    app.flash = None;
    select_agent(&mut app, "weather-service");
    app.on_key(key(KeyCode::Char('t')));
    assert_eq!(app.writes.dialog.as_ref().map(|d| (d.target.from, d.target.to)), Some((0, 2)));
    drive(&mut app, &mut col.updates, "the check", |a| {
        a.writes.dialog.as_ref().is_some_and(|d| d.state == DialogState::Allowed)
    })
    .await;
    app.on_key(key(KeyCode::Char('y')));
    drive(&mut app, &mut col.updates, "the agent back on", |a| {
        weather(a).is_some_and(|w| w.desired == 2 && w.previous_replicas.is_none())
    })
    .await;

    // the viewer context may not scale: the check says so and nothing is offered
    app.focus = Some(1);
    drive(&mut app, &mut col.updates, "the viewer's view", |a| {
        a.fleet.clusters[1].kagenti.agents.iter().any(|x| x.name == "weather-service")
    })
    .await;
    select_agent(&mut app, "weather-service");
    app.on_key(key(KeyCode::Char('t')));
    drive(&mut app, &mut col.updates, "a denial", |a| {
        matches!(a.writes.dialog.as_ref().map(|d| &d.state), Some(DialogState::Denied(_)))
    })
    .await;
    app.on_key(key(KeyCode::Char('y')));
    assert!(
        matches!(app.writes.dialog.as_ref().map(|d| &d.state), Some(DialogState::Denied(_))),
        "y does nothing when denied"
    );
    app.on_key(key(KeyCode::Esc));
    assert!(app.writes.dialog.is_none());

    // read-only and kiosk refuse before asking anybody, and say so
    app.focus = Some(0);
    select_agent(&mut app, "weather-service");
    let screen = common::render(&mut app, 120, 40);
    assert!(screen.contains("turn the agent off"), "offered when writes are allowed: {screen}");
    for mode in [Mode::ReadOnly, Mode::Kiosk] {
        app.mode = mode;
        app.focus = Some(0);
        select_agent(&mut app, "weather-service");
        // the footer does not offer what would be refused
        app.flash = None;
        let screen = common::render(&mut app, 120, 40);
        assert!(!screen.contains("turn the agent off"), "{screen}");
        app.on_key(key(KeyCode::Char('t')));
        assert!(app.writes.dialog.is_none());
        let flash = app.flash.clone().unwrap();
        assert!(flash.contains("refuses writes"), "{flash}");
        // a count, in words that agree with it ("left at 1 replicas" before)
        assert!(!flash.contains(" 1 replicas"), "{flash}");
    }

    // every attempt is in the audit file, without any token
    common::eventually("the audit lines", || {
        std::fs::read_to_string(&audit).map(|t| t.lines().count() >= 5).unwrap_or(false)
    })
    .await;
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let results: Vec<&str> = lines.iter().map(|l| l["result"].as_str().unwrap()).collect();
    assert_eq!(results[0], "ok");
    assert_eq!((lines[0]["from"].as_i64(), lines[0]["to"].as_i64()), (Some(2), Some(0)));
    assert_eq!(lines[0]["context"], "agents-us-central");
    assert_eq!(lines[0]["user"], "agents-us-central-admin");
    assert_eq!(results[1], "ok");
    assert!(results[2].starts_with("denied"), "{results:?}");
    assert!(results.contains(&"refused: read-only mode"));
    assert!(results.contains(&"refused: kiosk mode"));
    let c = sim.cluster("agents-us-central").unwrap();
    assert!(!text.contains(c.admin_token()) && !text.contains(c.viewer_token()));
    col.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_of_a_real_a2a_server_through_the_service_proxy() {
    let Some((_peer, port)) = common::python_peer(
        "the_card_of_a_real_a2a_server_through_the_service_proxy",
        "a2a_server.py",
        "a2a, uvicorn, starlette",
        common::peers::A2A_PACKAGES,
        &[],
    )
    .await
    else {
        return;
    };

    // an agent in the simulator whose Service routes to the real server
    let sim = common::sim(3).await;
    let c = sim.cluster("agents-us-central").unwrap();
    {
        use kst_sim::resources as r;
        let mut store = c.store.write().unwrap();
        store.put(c.registry.index_of(&r::SERVICES).unwrap(), serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "currency-agent", "namespace": "team1", "labels": {"kagenti.io/type": "agent"},
                         "annotations": {kst_sim::endpoints::FORWARD_TO: format!("http://127.0.0.1:{port}")}},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8000}], "selector": {"app.kubernetes.io/name": "currency-agent"}}}));
        store.put(c.registry.index_of(&r::DEPLOYMENTS).unwrap(), serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "currency-agent", "namespace": "team1",
                         "labels": {"kagenti.io/type": "agent", "protocol.kagenti.io/a2a": "", "kagenti.io/framework": "a2a-sdk"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "currency-agent"}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": "currency-agent"}}, "spec": {"containers": [{"name": "agent", "image": "x"}]}}},
            "status": {"replicas": 1, "readyReplicas": 1}}));
    }
    // the same fetch the collector does
    let targets = common::targets(&sim);
    let t = targets.iter().find(|t| t.context == "agents-us-central").unwrap();
    let client = kst::sources::connect::client_for(t).await.unwrap();
    let state =
        kst::sources::kagenti::fetch_card(&client, "team1", "currency-agent", 8080, Duration::from_secs(10)).await;
    let CardState::Fetched(card) = state else { panic!("not fetched: {state:?}") };
    assert_eq!(card.name, "currency-agent");
    assert_eq!(card.shape, "1.0", "a2a-sdk 1.x serves supportedInterfaces");
    assert_eq!(card.binding.as_deref(), Some("JSONRPC"));
    assert_eq!(card.version.as_deref(), Some("1.2.0"));
    assert_eq!(card.streaming, Some(true));
    assert_eq!(
        card.skills,
        vec![kst::store::kagenti::Skill {
            id: Some("convert".into()),
            name: "Convert currency".into(),
            tags: vec!["finance".into(), "fx".into()]
        }]
    );

    // and through the whole collector: the Discovery pane lists it
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    common::pump_until(&mut fleet, &mut col.updates, "the real agent's card", |f| {
        matches!(
            by(f, "agents-us-central").kagenti.cards.get(&("team1".into(), "currency-agent".into())),
            Some(CardState::Fetched(_))
        )
    })
    .await;
    col.stop();
    // a missing card is an error value with the reason, not a panic
    let none = kst::sources::kagenti::fetch_card(&client, "team1", "nope", 8080, Duration::from_secs(5)).await;
    assert!(matches!(none, CardState::Error(ref e) if e.contains("404")), "{none:?}");
}

/// Writes on a cluster known only through the hub and dialed through its OCM cluster-proxy:
/// the RBAC check asks the managed cluster (as the identity the proxy gives the hub's user
/// there), the confirmation says which way the write goes, the agent is scaled on the managed
/// cluster itself, and the audit line names the hub's user and the proxy. The hub's viewer,
/// through the same proxy, is denied by the managed cluster's RBAC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_a_cluster_dialed_through_the_hub_s_proxy_is_toggled_with_the_check_done_there() {
    use kst::sources::connect::{ClusterProxy, Dialer};
    let sim = common::sim_with(kst_sim::SimOptions { kubestellar: true, ..Default::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let hub_kc =
        std::sync::Arc::new(kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(true)).expect("kubeconfig parses"));
    // the kubeconfig without the agents cluster: only the hub knows it
    let targets: Vec<_> = common::targets(&sim).into_iter().filter(|t| t.context != "agents-us-central").collect();
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    common::pump_until(&mut fleet, &mut col.updates, "agents-us-central as a hub row", |f| {
        kst::store::hub::clusters(f).iter().any(|h| h.name == "agents-us-central" && h.available == Some(true))
    })
    .await;
    let proxy = |hub: &str| ClusterProxy::Ocm {
        url: sim.cluster_proxy_url().expect("the ITS serves a cluster-proxy"),
        hub: hub.into(),
        ca_pem: sim.ca_pem.clone(),
    };
    let dial = |app: &mut App| {
        app.show(PaneId::Overview);
        app.on_key(key(KeyCode::Esc));
        app.on_key(key(KeyCode::Char('/')));
        for ch in "agents-us-central".chars() {
            app.on_key(key(KeyCode::Char(ch)));
        }
        app.on_key(key(KeyCode::Enter));
        app.on_key(key(KeyCode::Enter));
        app.fleet.clusters.iter().position(|c| c.context == "agents-us-central").expect("dialed into the fleet")
    };
    let weather = |app: &App, i: usize| {
        app.fleet.clusters[i].kagenti.agents.iter().find(|a| a.name == "weather-service").cloned()
    };
    let viewer_fleet = fleet.clone();

    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.dialer =
        Some(Dialer { proxy: proxy("its1"), hub_kubeconfig: hub_kc.clone(), tx: col.dialer(common::fast_worker()) });
    app.writes.actions = Some(kst::actions::start(targets.clone(), col.sender(), audit.clone()));
    let i = dial(&mut app);
    drive(&mut app, &mut col.updates, "weather-service listed through the proxy", |a| {
        weather(a, i).is_some_and(|w| w.ready == 2)
    })
    .await;
    select_agent(&mut app, "weather-service");
    app.on_key(key(KeyCode::Char('t')));
    let d = app.writes.dialog.clone().expect("a confirmation dialog");
    assert_eq!((d.target.from, d.target.to, d.via.as_deref()), (2, 0, Some("cluster-proxy of its1")));
    drive(&mut app, &mut col.updates, "the permission check through the proxy", |a| {
        a.writes.dialog.as_ref().is_some_and(|d| d.state != DialogState::Checking)
    })
    .await;
    assert_eq!(app.writes.dialog.as_ref().unwrap().state, DialogState::Allowed);
    let screen = common::render(&mut app, 120, 40);
    assert!(screen.contains("Through the cluster-proxy of its1"), "{screen}");
    app.on_key(key(KeyCode::Char('y')));
    drive(&mut app, &mut col.updates, "the agent off, seen through the proxy's watch", |a| {
        weather(a, i).is_some_and(|w| w.desired == 0 && w.previous_replicas == Some(2))
    })
    .await;
    // on the managed cluster itself, asked directly
    let direct = common::targets(&sim).into_iter().find(|t| t.context == "agents-us-central").unwrap();
    let client = kst::sources::connect::client_for(&direct).await.unwrap();
    let deploys: kube::Api<k8s_openapi::api::apps::v1::Deployment> = kube::Api::all(client);
    let list = deploys.list(&Default::default()).await.unwrap();
    let d = list.items.iter().find(|d| d.metadata.name.as_deref() == Some("weather-service")).unwrap();
    assert_eq!(serde_json::to_value(d).unwrap()["spec"]["replicas"], 0, "scaled on the managed cluster");

    // the hub's viewer through the same proxy: the managed cluster's RBAC says no
    let mut col2 = Collectors::start(&[], common::fast_worker());
    let viewer_tx = col2.dialer(common::fast_worker());
    let mut viewer = App::new(viewer_fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    viewer.dialer = Some(Dialer { proxy: proxy("its1-viewer"), hub_kubeconfig: hub_kc.clone(), tx: viewer_tx });
    viewer.writes.actions = Some(kst::actions::start(targets.clone(), col2.sender(), audit.clone()));
    let j = dial(&mut viewer);
    drive(&mut viewer, &mut col2.updates, "weather-service seen by the viewer", |a| weather(a, j).is_some()).await;
    select_agent(&mut viewer, "weather-service");
    viewer.on_key(key(KeyCode::Char('t')));
    drive(&mut viewer, &mut col2.updates, "a denial from the managed cluster", |a| {
        matches!(a.writes.dialog.as_ref().map(|d| &d.state), Some(DialogState::Denied(_)))
    })
    .await;

    common::eventually("the audit lines", || {
        std::fs::read_to_string(&audit).map(|t| t.lines().count() >= 2).unwrap_or(false)
    })
    .await;
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["result"], "ok");
    assert_eq!(lines[0]["context"], "agents-us-central");
    assert_eq!(lines[0]["user"], "its1-admin", "the credential used: the hub's user");
    assert_eq!(lines[0]["via"], "cluster-proxy of its1");
    assert!(lines[1]["result"].as_str().unwrap().starts_with("denied"), "{lines:?}");
    assert_eq!(lines[1]["user"], "its1-viewer");
    let its = sim.cluster("its1").unwrap();
    let agents = sim.cluster("agents-us-central").unwrap();
    for secret in [its.admin_token(), its.viewer_token(), agents.admin_token(), agents.viewer_token()] {
        assert!(!text.contains(secret), "no token in the audit file");
    }
    col.stop();
    col2.stop();
}
