//! Drill-down against the simulator, driven with keys: a pool -> its pods -> a pod -> its
//! logs (the sim's lines, and follow adds more) -> YAML -> back; leaving closes the watches
//! (checked through the simulator's open-watch count). Plus snapshots of the four views
//! drawn from fixed data.

mod common;

use common::drive;

use common::render;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::sources::views::ViewSpec;
use kst::sources::Collectors;
use kst::store::pane::PaneId;
use kst::store::{Fleet, Update};
use kst::theme::Theme;
use kst::ui::component::View;
use kst::ui::views::FeedView;
use kst::ui::{App, Mode};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// The pod/log/YAML view an open view is, if it is one.
trait AsFeed {
    fn as_feed(&self) -> Option<&FeedView>;
    fn as_feed_mut(&mut self) -> Option<&mut FeedView>;
}

impl AsFeed for Box<dyn View> {
    fn as_feed(&self) -> Option<&FeedView> {
        FeedView::of(self.as_ref())
    }
    fn as_feed_mut(&mut self) -> Option<&mut FeedView> {
        FeedView::of_mut(self.as_mut())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_to_pods_to_pod_to_logs_to_yaml_and_back() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut col = Collectors::start(&targets, common::fast_worker());
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.feeds = kst::ui::feeds::Feeds::new(Some(kst::sources::views::start(targets.clone(), col.sender())));
    drive(&mut app, &mut col.updates, "the pools", |a| {
        a.fleet.clusters[0].llmd.pools.len() == 3 && a.fleet.clusters[0].llmd.servers.len() == 10
    })
    .await;
    let east = sim.cluster("gpu-us-east").unwrap().clone();
    // the collectors' own watches settle first (the same count over a second); then every
    // view must give back what it took
    let baseline = {
        let mut last = east.open_watches();
        let mut same = 0;
        while same < 5 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = east.open_watches();
            if now == last {
                same += 1;
            } else {
                same = 0;
                last = now;
            }
        }
        last
    };

    app.show(PaneId::Serving);
    // the pools are listed per cluster in their order: move to pd-disaggregation by name
    while app.selected_text().as_deref() != Some("pd-disaggregation") {
        app.on_key(key(KeyCode::Char('j')));
    }
    app.on_key(key(KeyCode::Enter));
    drive(&mut app, &mut col.updates, "the pool's pods", |a| {
        a.views.last().and_then(|v| FeedView::of(v.as_ref())?.pods.as_ref()).is_some_and(|p| p.len() == 4)
    })
    .await;
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("Serving › gpu-us-east/pd-disaggregation pods"), "breadcrumbs: {screen}");
    assert!(screen.contains("ms-pd-llm-d-modelservice-decode-") && screen.contains("Running"), "{screen}");
    common::eventually("a pod watch opened", || east.open_watches() > baseline).await;
    // the list's own filter: labels, regex, inverse; and sorting
    let typed = |app: &mut App, s: &str| {
        for c in s.chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
        app.on_key(key(KeyCode::Enter));
    };
    typed(&mut app, "/-l llm-d.ai/role=decode");
    assert_eq!(FeedView::of_mut(app.views[0].as_mut()).unwrap().visible_pods().len(), 2);
    assert!(FeedView::of_mut(app.views[0].as_mut())
        .unwrap()
        .visible_pods()
        .iter()
        .all(|p| p.role.as_deref() == Some("decode")));
    FeedView::of_mut(app.views[0].as_mut()).unwrap().search.clear();
    typed(&mut app, "/!DECODE");
    assert!(
        FeedView::of_mut(app.views[0].as_mut())
            .unwrap()
            .visible_pods()
            .iter()
            .all(|p| p.role.as_deref() == Some("prefill")),
        "inverse, case-insensitive"
    );
    // Esc clears the filter first (k9s does), and only then closes the list
    app.on_key(key(KeyCode::Esc));
    assert_eq!(app.views.len(), 1, "Esc on a filtered list keeps the list");
    assert!(FeedView::of(app.views[0].as_ref()).unwrap().search.is_empty());
    assert_eq!(FeedView::of_mut(app.views[0].as_mut()).unwrap().visible_pods().len(), 4);
    app.on_key(key(KeyCode::Char('S')));
    app.on_key(key(KeyCode::Char('S')));
    assert_eq!(FeedView::of_mut(app.views[0].as_mut()).unwrap().sort, kst::ui::views::PodSort::Restarts);
    FeedView::of_mut(app.views[0].as_mut()).unwrap().sort = kst::ui::views::PodSort::Name;

    // the decode pod: detail
    let decode = app.views[0]
        .as_feed_mut()
        .unwrap()
        .visible_pods()
        .iter()
        .position(|p| p.role.as_deref() == Some("decode"))
        .unwrap();
    FeedView::of_mut(app.views[0].as_mut()).unwrap().selected = decode;
    app.on_key(key(KeyCode::Enter));
    drive(&mut app, &mut col.updates, "the pod's detail", |a| {
        a.views.last().and_then(|v| v.as_feed()?.detail.as_ref()).is_some()
    })
    .await;
    let d = app.views.last().unwrap().as_feed().unwrap().detail.clone().unwrap();
    assert!(d.containers.iter().any(|c| c.name == "vllm" && c.state == "running"));
    assert!(d.containers.iter().any(|c| c.name == "routing-proxy" && c.init));
    assert!(render(&mut app, 120, 40).contains("CONTAINERS"));

    // logs: the sim's lines, then more as they are written
    app.on_key(key(KeyCode::Char('l')));
    drive(&mut app, &mut col.updates, "log lines", |a| {
        a.views.last().and_then(|v| v.as_feed()).is_some_and(|v| v.log.len() > 10)
    })
    .await;
    let pod = d.name.clone();
    let first = app.views.last().unwrap().as_feed().unwrap().log.len();
    assert!(app
        .views
        .last()
        .unwrap()
        .as_feed()
        .unwrap()
        .log
        .iter()
        .any(|l| l.contains(&format!("[{pod}/vllm current #"))));
    drive(&mut app, &mut col.updates, "follow to add lines", |a| {
        a.views.last().and_then(|v| v.as_feed()).is_some_and(|v| v.log.len() > first)
    })
    .await;
    // T asks the API server for timestamps: the stream is reopened with them
    app.on_key(key(KeyCode::Char('T')));
    drive(&mut app, &mut col.updates, "timestamped lines", |a| {
        // the API server's stamp, then the container's own line (which starts with its own time)
        a.views.last().and_then(|v| v.as_feed()).is_some_and(|v| {
            v.log.iter().any(|l| {
                let mut w = l.split(' ');
                w.next().is_some_and(|t| t.contains('.') && t.parse::<jiff::Timestamp>().is_ok())
                    && w.next().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok())
            })
        })
    })
    .await;
    // pause holds the view
    app.on_key(key(KeyCode::Char(' ')));
    assert!(render(&mut app, 120, 30).contains("paused"));
    assert!(matches!(app.views.last().unwrap().as_feed().unwrap().spec, ViewSpec::Logs { .. }));
    // `/` keeps only the lines holding the text (k9s's log filter): one line's own counter
    let line = app.views.last().unwrap().as_feed().unwrap().log.iter().nth(1).cloned().unwrap();
    let counter = &line[line.find("current #").unwrap()..];
    let counter = counter.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    app.on_key(key(KeyCode::Char('/')));
    for c in counter.chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
    app.on_key(key(KeyCode::Enter));
    let s = render(&mut app, 120, 30);
    let shown = s.lines().filter(|l| l.contains("current #")).count();
    assert!(s.contains(&format!("match /{counter}")) && shown >= 1, "{s}");
    assert!(s.lines().filter(|l| l.contains("current #")).all(|l| l.contains(&counter)), "{counter}: {s}");
    // n goes to the match among every line (less's n), marked without colour; n again says it
    // is the newest; Esc returns to the matching lines only
    app.on_key(key(KeyCode::Char('n')));
    let s = render(&mut app, 120, 30);
    assert!(s.contains(&format!("match 1 of 1 /{counter}")), "{s}");
    assert_eq!(s.lines().filter(|l| l.contains("│▶ ")).count(), 1, "the match marked: {s}");
    assert!(s.lines().filter(|l| l.contains("current #")).count() > 1, "every line around it: {s}");
    app.on_key(key(KeyCode::Char('n')));
    assert_eq!(app.flash.as_deref(), Some("the newest match: N goes to older ones"));
    app.on_key(key(KeyCode::Esc));
    let s = render(&mut app, 120, 30);
    assert!(s.contains(&format!("1 match /{counter}")) && !s.contains("▶ "), "{s}");
    app.on_key(key(KeyCode::Esc)); // the filter first,
    assert!(!render(&mut app, 120, 30).contains("match /"));
    app.on_key(key(KeyCode::Esc)); // then the view

    // YAML of the pod
    app.on_key(key(KeyCode::Char('y')));
    drive(&mut app, &mut col.updates, "the YAML", |a| {
        a.views.last().and_then(|v| v.as_feed()?.text.as_ref()).is_some()
    })
    .await;
    let yaml = app.views.last().unwrap().as_feed().unwrap().text.clone().unwrap();
    assert!(yaml.contains("kind: Pod") && yaml.contains(&pod));

    // back out to the pane; every watch the views opened is closed
    app.on_key(key(KeyCode::Esc));
    app.on_key(key(KeyCode::Esc));
    app.on_key(key(KeyCode::Esc));
    assert!(app.views.is_empty());
    assert_eq!(app.pane_id(), PaneId::Serving);
    common::eventually("the views' watches to close", || east.open_watches() == baseline).await;

    // a build's pods: Shipwright's label, in the build's namespace
    app.show(PaneId::Builds);
    drive(&mut app, &mut col.updates, "the builds", |a| a.fleet.clusters.iter().any(|c| !c.kagenti.builds.is_empty()))
        .await;
    app.on_key(key(KeyCode::Char('g')));
    app.on_key(key(KeyCode::Enter));
    match &app.views.last().unwrap().as_feed().unwrap().spec {
        ViewSpec::Pods { selector, .. } => assert!(selector.starts_with("build.shipwright.io/name="), "{selector}"),
        other => panic!("{other:?}"),
    }
    app.close_view();

    // the crash-looping pod shows why, with its BackOff event
    app.show(PaneId::Kv);
    let west_crash = {
        let c = sim.cluster("gpu-eu-west").unwrap();
        let pods = c.registry.index_of(&kst_sim::resources::PODS).unwrap();
        c.store
            .read()
            .unwrap()
            .list(pods, Some("llm-d"))
            .into_iter()
            .find(|p| !p.ready && p.name.starts_with("llama-70b-decode"))
            .unwrap()
            .name
            .clone()
    };
    app.open_view(
        ViewSpec::Pod { cluster: 1, namespace: "llm-d".into(), name: west_crash.clone() },
        west_crash.clone(),
    );
    drive(&mut app, &mut col.updates, "the BackOff event", |a| {
        a.views
            .last()
            .and_then(|v| v.as_feed()?.detail.as_ref())
            .is_some_and(|d| d.events.iter().any(|e| e.reason == "BackOff"))
    })
    .await;
    let d = app.views.last().unwrap().as_feed().unwrap().detail.clone().unwrap();
    assert!(d
        .containers
        .iter()
        .any(|c| c.state.contains("CrashLoopBackOff") && c.last_termination.as_deref() == Some("Error (exit 1)")));
    // previous logs of a container that restarted
    app.on_key(key(KeyCode::Char('l')));
    app.on_key(key(KeyCode::Char('p')));
    drive(&mut app, &mut col.updates, "previous logs", |a| {
        a.views.last().and_then(|v| v.as_feed()).is_some_and(|v| v.log.iter().any(|l| l.contains("previous #")))
    })
    .await;
    app.close_view();
    app.close_view();
    col.stop();
}

fn fixed_app() -> App {
    use kst::store::views::PodRow;
    let fleet = Fleet::new(&[("gpu-us-east".into(), "https://127.0.0.1:6443".into())]);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(1_790_000_000.0);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    app.feeds = kst::ui::feeds::Feeds::new(Some(tx));
    app.show(PaneId::Serving);
    let pods = vec![
        PodRow {
            namespace: "llm-d".into(),
            name: "ms-pd-decode-z5pbt-5f7jd".into(),
            ready: "1/1".into(),
            status: "Running".into(),
            restarts: 0,
            created: Some("2026-09-01T00:00:00Z".into()),
            node: "gpu-us-east-gpu-0".into(),
            gpus: 2,
            role: Some("decode".into()),
            labels: Default::default(),
            // near its memory limit: %MEM/L turns warning
            usage: Some(kst::store::views::PodUsage { cpu: 3.2104, memory: 58.0 * 1024.0 * 1024.0 * 1024.0 }),
            memory_limit: Some(64.0 * 1024.0 * 1024.0 * 1024.0),
            containers: vec!["vllm".into()],
            ports: vec![8000],
        },
        PodRow {
            namespace: "llm-d".into(),
            name: "ms-pd-prefill-cqjs6-bsnlp".into(),
            ready: "0/1".into(),
            status: "CrashLoopBackOff".into(),
            restarts: 7,
            created: Some("2026-09-01T00:00:00Z".into()),
            node: "gpu-us-east-gpu-1".into(),
            gpus: 1,
            role: Some("prefill".into()),
            labels: Default::default(),
            // crash-looping: metrics-server has no sample of it
            usage: None,
            memory_limit: Some(64.0 * 1024.0 * 1024.0 * 1024.0),
            containers: vec!["vllm".into()],
            ports: vec![8000],
        },
    ];
    app.open_view(
        ViewSpec::Pods { cluster: 0, namespace: "llm-d".into(), selector: "llm-d.ai/guide=pd".into() },
        "gpu-us-east/pd pods".into(),
    );
    let id = FeedView::of_mut(app.views[0].as_mut()).unwrap().id;
    app.on_update(Update::ViewPods { cluster: 0, view: id, pods, no_usage: None });
    app
}

#[test]
fn view_snapshots() {
    use kst::store::views::{ContainerRow, EventRow, PodDetail};
    let mut app = fixed_app();
    insta::assert_snapshot!("pods_view_100x24", common::pane_shot(&render(&mut app, 100, 24)));
    app.open_view(
        ViewSpec::Pod { cluster: 0, namespace: "llm-d".into(), name: "ms-pd-prefill-cqjs6-bsnlp".into() },
        "pod".into(),
    );
    let id = app.views.last().unwrap().as_feed().unwrap().id;
    let detail = PodDetail {
        name: "ms-pd-prefill-cqjs6-bsnlp".into(),
        namespace: "llm-d".into(),
        phase: "Running".into(),
        node: "gpu-us-east-gpu-1".into(),
        ip: "10.128.0.7".into(),
        owner: Some("ReplicaSet/ms-pd-prefill-cqjs6".into()),
        labels: [("llm-d.ai/role".to_string(), "prefill".to_string())].into_iter().collect(),
        conditions: vec![("Ready".into(), false), ("PodScheduled".into(), true)],
        containers: vec![ContainerRow {
            name: "vllm".into(),
            image: "ghcr.io/llm-d/llm-d-cuda:v0.4.0".into(),
            init: false,
            state: "waiting: CrashLoopBackOff".into(),
            ready: false,
            restarts: 7,
            last_termination: Some("Error (exit 1)".into()),
            requests: "nvidia.com/gpu=1".into(),
            limits: "nvidia.com/gpu=1".into(),
        }],
        events: vec![EventRow {
            kind: "Warning".into(),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container vllm".into(),
            count: 7,
            last: "2026-11-25T04:00:00Z".into(),
        }],
    };
    app.on_update(Update::ViewPod { cluster: 0, view: id, detail: Box::new(detail) });
    insta::assert_snapshot!("pod_view_100x24", common::pane_shot(&render(&mut app, 100, 24)));
    app.on_key(key(KeyCode::Char('l')));
    let id = app.views.last().unwrap().as_feed().unwrap().id;
    let lines: Vec<String> =
        (0..40).map(|i| format!("2026-11-25T04:00:{:02}Z INFO request {i} served", i % 60)).collect();
    app.on_update(Update::ViewLog { cluster: 0, view: id, lines });
    for c in ['/', 'r', 'e', 'q', 'u', 'e', 's', 't', ' ', '3'] {
        app.on_key(key(KeyCode::Char(c)));
    }
    app.on_key(key(KeyCode::Enter));
    insta::assert_snapshot!("logs_view_100x24", common::pane_shot(&render(&mut app, 100, 24)));
    app.on_key(key(KeyCode::Esc)); // the search
    app.on_key(key(KeyCode::Esc)); // the logs
    app.on_key(key(KeyCode::Char('y')));
    let id = app.views.last().unwrap().as_feed().unwrap().id;
    app.on_update(Update::ViewText { cluster: 0, view: id, text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ms-pd-prefill-cqjs6-bsnlp\n  namespace: llm-d\nspec:\n  nodeName: gpu-us-east-gpu-1\n".into() });
    insta::assert_snapshot!("yaml_view_100x24", common::pane_shot(&render(&mut app, 100, 24)));
    assert_eq!(app.views.len(), 3);
    app.on_key(key(KeyCode::Esc));
    app.on_key(key(KeyCode::Esc));
    app.on_key(key(KeyCode::Esc));
    assert!(app.views.is_empty());
}

/// A Secret's YAML, fetched from the simulator as from any cluster, never shows its values:
/// not in base64 and not decoded; kubectl sees the same Secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_yaml_never_shows_its_value() {
    use base64::Engine;
    use kst::sources::views::FeedRequest;
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let agents = targets.iter().position(|t| t.context == "agents-us-central").unwrap();
    // the value as the simulator stored it
    let stored = {
        let c = sim.cluster("agents-us-central").unwrap();
        let i = c.registry.index_of(&kst_sim::resources::SECRETS).unwrap();
        let store = c.store.read().unwrap();
        let secret = store.list(i, None).into_iter().find(|o| o.name == "openai-secret").expect("a secret").value();
        (
            secret["metadata"]["namespace"].as_str().unwrap().to_string(),
            secret["data"]["apikey"].as_str().unwrap().to_string(),
        )
    };
    let (ns, b64) = stored;
    let plain = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&b64).unwrap()).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let feeds = kst::sources::views::start(targets, tx);
    let path = format!("/api/v1/namespaces/{ns}/secrets/openai-secret");
    feeds.send(FeedRequest::Open { id: 1, spec: ViewSpec::Yaml { cluster: agents, path } }).unwrap();
    let text = loop {
        match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            Ok(Some(Update::ViewText { text, .. })) => break text,
            Ok(Some(Update::ViewError { error, .. })) => panic!("{error}"),
            Ok(Some(_)) => continue,
            _ => panic!("no YAML within 60 s"),
        }
    };
    assert!(text.contains("kind: Secret") && text.contains("apikey: <redacted>"), "{text}");
    assert!(!text.contains(&b64) && !text.contains(&plain), "a secret value reached the screen: {text}");
}
