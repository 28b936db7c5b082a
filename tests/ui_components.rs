//! The UI's shared behaviour, in every pane and view: `?` lists the keys in force, paging,
//! a selection that stays on its row when rows reorder and when coming back from a view,
//! a bad filter said as such, `:pods` across every cluster.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::store::Fleet;
use kst::theme::Theme;
use kst::ui::{App, Mode};

fn key(app: &mut App, c: KeyCode) {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}
fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}
/// Every page of the open help at `w`x`h`, paged with PgDn (which never closes it).
fn help_pages(app: &mut App, w: u16, h: u16) -> String {
    let mut all = render(app, w, h);
    for _ in 0..12 {
        key(app, KeyCode::PageDown);
        all.push_str(&render(app, w, h));
    }
    assert!(app.show_help, "paging keeps the help open");
    all
}

/// A running pod's list row, as the feed would send it.
fn pod_row(name: &str, containers: &[&str], ports: &[u16]) -> kst::store::views::PodRow {
    kst::store::views::PodRow {
        namespace: "llm-d".into(),
        name: name.into(),
        ready: "1/1".into(),
        status: "Running".into(),
        restarts: 0,
        created: None,
        node: "n".into(),
        gpus: 1,
        role: None,
        labels: Default::default(),
        usage: None,
        memory_limit: None,
        containers: containers.iter().map(|c| c.to_string()).collect(),
        ports: ports.to_vec(),
    }
}

/// The Serving tab's first pool opened as a pod list holding `pod`, in `mode`, with the actions
/// task replaced by a channel the test reads (the simulator is kept alive by the caller).
async fn pod_list_with_actions(
    mode: Mode,
    pod: &kst::store::views::PodRow,
) -> (kst_sim::SimFleet, App, tokio::sync::mpsc::UnboundedReceiver<kst::actions::ActionRequest>) {
    let (sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), mode);
    app.clock = Some(now);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    app.feeds = kst::ui::feeds::Feeds::new(Some(tx));
    let (atx, arx) = tokio::sync::mpsc::unbounded_channel();
    app.writes.actions = Some(atx);
    app.show(PaneId::Serving);
    key(&mut app, KeyCode::Enter);
    let list = app.views[0].feeds()[0];
    app.on_update(kst::store::Update::ViewPods { cluster: 0, view: list, pods: vec![pod.clone()], no_usage: None });
    (sim, app, arx)
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The tab bar at the three sizes every pane is reviewed at, with the serving pane in front: the
/// one snapshot that adding or renaming a pane rewrites (pane snapshots leave the bar out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_bar() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    app.show(PaneId::Serving);
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        let screen = common::render(&mut app, w, h);
        let bar = screen.lines().nth(1).expect("a second row").to_string();
        assert!(bar.trim_start().starts_with("1:"), "the tab bar is the second row: {screen}");
        insta::assert_snapshot!(format!("tab_bar_{w}x{h}"), bar);
    }
}

/// `?` works in every pane and every drill-down view, lists that view's own keys with a
/// heading naming it, then the keys that work everywhere, and fits 80x24.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_in_every_pane_and_view() {
    let (_sim, mut fleet, now) = common::deterministic_fleet().await;
    fleet.apply(kst::store::Update::Fleet(kst::store::FleetUpdate::Nightly {
        state: common::deterministic_nightly(now).await,
    }));
    fleet.apply(kst::store::Update::Fleet(kst::store::FleetUpdate::Reports { reports: common::example_reports() }));
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    app.feeds = kst::ui::feeds::Feeds::new(Some(tx));
    let ids: Vec<PaneId> = app.panes.iter().map(|p| p.id()).collect();
    for id in ids {
        app.show(id);
        let title = app.panes[app.tab].title();
        key(&mut app, KeyCode::Char('?'));
        assert!(app.show_help, "{id}");
        let s = help_pages(&mut app, 80, 24);
        assert!(s.contains("everywhere:") && s.contains("this help / quit"), "{id}: {s}");
        // every key of the view is reachable, its words whole (wrapped under the text column)
        for h in app.panes[app.tab].hints() {
            let first = h.what.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            assert!(s.contains(&first), "{id}: {first:?} reachable: {s}");
        }
        if !app.panes[app.tab].hints().is_empty() {
            assert!(s.contains(&format!("{title}:")), "{id}: the pane's own keys under its name: {s}");
        }
        key(&mut app, KeyCode::Esc);
        assert!(!app.show_help);
    }
    // the views: a pod list, a pod, its logs, its YAML; a schema
    app.show(PaneId::Serving);
    key(&mut app, KeyCode::Enter);
    let id = app.views[0].feeds()[0];
    let pod = pod_row("ms-baseline-0", &["vllm"], &[8000]);
    app.on_update(kst::store::Update::ViewPods { cluster: 0, view: id, pods: vec![pod], no_usage: None });
    for (expect, next) in [("Enter d", 'd'), ("YAML", 'l'), ("only the lines holding a text", 'y')] {
        key(&mut app, KeyCode::Char('?'));
        let s = render(&mut app, 80, 24);
        assert!(s.contains(expect) && s.contains("everywhere:"), "{expect}: {s}");
        key(&mut app, KeyCode::Esc);
        if next == 'y' {
            // the logs' own c, / and g G: the global rows say the view's meaning wins here
            key(&mut app, KeyCode::Char('?'));
            let all = help_pages(&mut app, 80, 24);
            for k in ["c", "/", "g G"] {
                assert!(all.contains(&format!("(here {k}: see above)")), "{k}: {all}");
            }
            key(&mut app, KeyCode::Esc);
            // `/` in the help narrows it to the rows holding a word
            key(&mut app, KeyCode::Char('?'));
            key(&mut app, KeyCode::Char('/'));
            for c in "shell".chars() {
                key(&mut app, KeyCode::Char(c));
            }
            let s = render(&mut app, 80, 24);
            assert!(s.contains("keys holding /shell") && s.contains("kubectl exec"), "{s}");
            assert!(
                !s.contains("timestamps on / off") && !s.contains("this help / quit"),
                "only the rows with the word: {s}"
            );
            key(&mut app, KeyCode::Enter);
            key(&mut app, KeyCode::Esc);
            assert!(app.show_help && !render(&mut app, 80, 24).contains("keys holding"), "Esc clears the find first");
            key(&mut app, KeyCode::Esc);
            assert!(!app.show_help);
            // the YAML is the pod's: back from its logs first
            key(&mut app, KeyCode::Esc);
        }
        key(&mut app, KeyCode::Char(next));
    }
    assert_eq!(app.views.last().map(|v| v.crumb()).as_deref().map(|c| c.ends_with("yaml")), Some(true));
    key(&mut app, KeyCode::Char('?'));
    assert!(render(&mut app, 80, 24).contains("highlight a text"), "YAML's keys");
    key(&mut app, KeyCode::Esc);
    while !app.views.is_empty() {
        key(&mut app, KeyCode::Esc);
    }
    app.show(PaneId::Tools);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 1);
    key(&mut app, KeyCode::Char('?'));
    assert!(render(&mut app, 80, 24).contains("schema:"), "the schema view names itself");
}

/// Ctrl-d / Ctrl-u move half a page, PgDn / PgUp a page, g / G the ends, in a list longer
/// than the screen; the frame says which rows are shown.
#[test]
fn paging_in_a_long_list() {
    let many: Vec<(String, String)> = (0..60).map(|i| (format!("ctx-{i:02}"), "s".to_string())).collect();
    let mut app = App::new(Fleet::new(&many), Theme::builtin("mono").unwrap(), Mode::Normal);
    let s = render(&mut app, 100, 24);
    // 24 rows: 2 header, 2 footer, 2 borders, a column title: 17 rows of clusters
    assert!(s.contains(" 1-17 of 60 "), "{s}");
    ctrl(&mut app, 'd');
    assert_eq!(app.selected_text().as_deref(), Some("ctx-08"), "half a page down");
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.selected_text().as_deref(), Some("ctx-25"), "a page down");
    let s = render(&mut app, 100, 24);
    assert!(s.contains(" 10-26 of 60 "), "scrolled to keep the selection in view: {s}");
    ctrl(&mut app, 'u');
    assert_eq!(app.selected_text().as_deref(), Some("ctx-17"));
    key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.selected_text().as_deref(), Some("ctx-59"));
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.selected_text().as_deref(), Some("ctx-42"));
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.selected_text().as_deref(), Some("ctx-00"));
}

/// The selection stays on the same agent when an update reorders the rows, and is where it
/// was after a drill-down and Esc.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selection_follows_its_row_through_updates_and_back_from_a_view() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    app.feeds = kst::ui::feeds::Feeds::new(Some(tx));
    app.show(PaneId::Agents);
    // sorted by restarts, on weather-service
    for _ in 0..2 {
        key(&mut app, KeyCode::Char('s'));
    }
    assert!(render(&mut app, 120, 40).contains("RESTARTS▼"), "the sorted column says so");
    while app.selected_text().as_deref() != Some("weather-service") {
        key(&mut app, KeyCode::Char('j'));
    }
    let before = render(&mut app, 120, 40);
    // another agent restarts a lot: it moves to the top, weather-service moves down a row
    let c = app.fleet.clusters.iter().position(|c| c.context == "agents-us-central").unwrap();
    let agent = app.fleet.clusters[c].kagenti.agents.iter_mut().find(|a| a.name == "agent-006").unwrap();
    agent.restarts = Some(99);
    let after = render(&mut app, 120, 40);
    assert_ne!(before, after);
    assert_eq!(app.selected_text().as_deref(), Some("weather-service"), "the selection followed its row");
    // into its pods and back
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 1);
    key(&mut app, KeyCode::Esc);
    assert!(app.views.is_empty());
    assert_eq!(app.selected_text().as_deref(), Some("weather-service"), "back where it was");
    // and across tabs
    app.show(PaneId::Serving);
    app.show(PaneId::Agents);
    assert_eq!(app.selected_text().as_deref(), Some("weather-service"));
}

/// A filter that is not a regular expression is said to be bad (and matched as plain text),
/// not silently matching nothing; Ctrl-u clears the line being typed.
#[test]
fn a_bad_filter_says_why() {
    let fleet = Fleet::new(&[("a[1".into(), "s".into()), ("b".into(), "s".into())]);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    typed(&mut app, "/a[");
    let s = render(&mut app, 100, 24);
    assert!(s.contains("bad filter:"), "{s}");
    assert!(s.contains("a[1"), "a bad pattern still matches as plain text: {s}");
    ctrl(&mut app, 'u');
    assert_eq!(app.filter.text, "");
    key(&mut app, KeyCode::Esc);
    // a failed command shows its error and the prompt closes
    typed(&mut app, ":frobnicate");
    key(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none());
    assert!(render(&mut app, 100, 24).contains("unknown command"));
}

/// `:pods` with no cluster focused lists the pods of every cluster, with their cluster and
/// namespace; leaving it closes every watch it opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_across_every_cluster() {
    use kst::sources::Collectors;
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut col = Collectors::start(&targets, common::fast_worker());
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.feeds = kst::ui::feeds::Feeds::new(Some(kst::sources::views::start(targets.clone(), col.sender())));
    common::drive(&mut app, &mut col.updates, "every cluster live", |a| {
        a.fleet.clusters.iter().all(|c| c.conn == kst::store::Conn::Live)
    })
    .await;
    let opened = |sim: &kst_sim::SimFleet| sim.clusters.iter().map(|c| c.open_watches()).sum::<usize>();
    // the collectors' own watches settle first (the same count for a second)
    let baseline = {
        let mut last = opened(&sim);
        let mut same = 0;
        while same < 5 {
            // keep the collectors' channel flowing for 200 ms, then look
            let until = tokio::time::Instant::now() + std::time::Duration::from_millis(200);
            while let Ok(Some(u)) = tokio::time::timeout_at(until, col.updates.recv()).await {
                app.on_update(u);
            }
            let now = opened(&sim);
            if now == last {
                same += 1;
            } else {
                same = 0;
                last = now;
            }
        }
        last
    };
    typed(&mut app, ":pods");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 1);
    common::drive(&mut app, &mut col.updates, "pods of the three clusters", |a| {
        a.views.first().is_some_and(|v| v.feeds().len() == 3)
    })
    .await;
    // every pod of every cluster, as the simulators hold them
    let total: usize = sim
        .clusters
        .iter()
        .map(|c| {
            let pods = c.registry.index_of(&kst_sim::resources::PODS).unwrap();
            c.store.read().unwrap().list(pods, None).len()
        })
        .sum();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let s = render(&mut app, 160, 50);
        if s.contains(&format!("every cluster ({total})")) && !s.contains("listing") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s}");
        if let Ok(Some(u)) = tokio::time::timeout(std::time::Duration::from_millis(200), col.updates.recv()).await {
            app.on_update(u);
        }
    }
    assert!(opened(&sim) >= baseline + 3, "one pod watch per cluster");
    // a row's pod opens on its own cluster
    typed(&mut app, "/weather-service");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 2);
    match &kst::ui::views::FeedView::of(app.views[1].as_ref()).unwrap().spec {
        kst::sources::views::ViewSpec::Pod { cluster, namespace, .. } => {
            assert_eq!((*cluster, namespace.as_str()), (2, "team1"))
        }
        other => panic!("{other:?}"),
    }
    key(&mut app, KeyCode::Esc);
    // back on the filtered list: Esc clears its filter first, then closes it
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.views.len(), 1, "the filter went, the list stays");
    key(&mut app, KeyCode::Esc);
    assert!(app.views.is_empty());
    common::eventually("every watch the views opened to close", || opened(&sim) <= baseline).await;
    col.stop();
}

/// A text view (YAML, pod detail) stops at its end: `G` shows the last line, `j` past it does
/// not scroll into emptiness, `g` goes back to the top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_view_scrolls_to_its_end_and_no_further() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    app.feeds = kst::ui::feeds::Feeds::new(Some(tx));
    app.show(PaneId::Serving);
    key(&mut app, KeyCode::Enter);
    let list = app.views[0].feeds()[0];
    let pod = pod_row("ms-baseline-0", &["vllm"], &[8000]);
    app.on_update(kst::store::Update::ViewPods { cluster: 0, view: list, pods: vec![pod], no_usage: None });
    key(&mut app, KeyCode::Char('y'));
    let yaml = *app.views.last().unwrap().feeds().last().unwrap();
    let text: String = (0..100).map(|i| format!("line-{i:03}: value\n")).collect();
    app.on_update(kst::store::Update::ViewText { cluster: 0, view: yaml, text });
    let top = render(&mut app, 80, 24);
    assert!(top.contains("line-000") && !top.contains("line-099"), "{top}");
    key(&mut app, KeyCode::Char('G'));
    let end = render(&mut app, 80, 24);
    assert!(end.contains("line-099") && !end.contains("line-000"), "G shows the last line: {end}");
    for _ in 0..30 {
        key(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(render(&mut app, 80, 24), end, "j past the end does not scroll further");
    key(&mut app, KeyCode::Char('k'));
    assert!(!render(&mut app, 80, 24).contains("line-099"), "one k scrolls back at once");
    key(&mut app, KeyCode::Char('g'));
    assert!(render(&mut app, 80, 24).contains("line-000"));
}

/// `:deploy NS` on the focused cluster and `:ns` on every cluster, as a k9s user types them:
/// the simulator's objects listed, Enter on a deployment opens its pods by its selector, Enter
/// on a namespace opens the pods in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_and_namespaces() {
    use kst::sources::views::ViewSpec;
    use kst::sources::Collectors;
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut col = Collectors::start(&targets, common::fast_worker());
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.feeds = kst::ui::feeds::Feeds::new(Some(kst::sources::views::start(targets.clone(), col.sender())));
    let count = |def: &kst_sim::resources::ResDef, cluster: &str, ns: Option<&str>| {
        let c = sim.cluster(cluster).unwrap();
        let i = c.registry.index_of(def).unwrap();
        c.store.read().unwrap().list(i, ns).len()
    };
    // the feeds answer on the collectors' channel: keep it flowing in the background of the waits
    let pump = |app: &mut App, col: &mut Collectors| {
        while let Ok(u) = col.updates.try_recv() {
            app.on_update(u);
        }
    };

    typed(&mut app, ":ctx gpu-us-east");
    key(&mut app, KeyCode::Enter);
    typed(&mut app, ":deploy llm-d");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 1);
    let want = count(&kst_sim::resources::DEPLOYMENTS, "gpu-us-east", Some("llm-d"));
    assert!(want > 0);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let screen = loop {
        pump(&mut app, &mut col);
        let s = render(&mut app, 160, 50);
        if s.contains(&format!("deployments in llm-d on gpu-us-east ({want})")) {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(screen.contains("UP-TO-DATE") && !screen.contains("CLUSTER"), "one cluster: no CLUSTER column: {screen}");
    // the command's view hangs from no tab: its breadcrumbs do not start at the tab typed on
    assert!(screen.contains("┌ deployments in llm-d on gpu-us-east ("), "breadcrumbs of a command: {screen}");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.views.len(), 2);
    match &kst::ui::views::FeedView::of(app.views[1].as_ref()).unwrap().spec {
        ViewSpec::Pods { cluster, namespace, selector } => {
            assert_eq!((*cluster, namespace.as_str()), (0, "llm-d"));
            assert!(selector.contains('='), "the deployment's selector: {selector}");
        }
        other => panic!("{other:?}"),
    }
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert!(app.views.is_empty());

    typed(&mut app, ":ctx");
    key(&mut app, KeyCode::Enter);
    typed(&mut app, ":ns");
    key(&mut app, KeyCode::Enter);
    let want: usize = ["gpu-us-east", "gpu-eu-west", "agents-us-central"]
        .iter()
        .map(|c| count(&kst_sim::resources::NAMESPACES, c, None))
        .sum();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let screen = loop {
        pump(&mut app, &mut col);
        let s = render(&mut app, 160, 50);
        if s.contains(&format!("namespaces on every cluster ({want})")) && !s.contains("listing") {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(screen.contains("CLUSTER") && screen.contains("Active"), "{screen}");
    typed(&mut app, "/team1");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    match &kst::ui::views::FeedView::of(app.views[1].as_ref()).unwrap().spec {
        ViewSpec::Pods { namespace, selector, .. } => {
            assert_eq!((namespace.as_str(), selector.as_str()), ("team1", ""))
        }
        other => panic!("{other:?}"),
    }
    col.stop();
}

/// The write confirmation is as tall as its text: with a long cluster name, the hub-proxy line
/// and the HPA warning, the change and the keys are all on screen at every size.
#[test]
fn the_write_confirmation_keeps_its_keys_on_screen_with_every_line() {
    use kst::actions::toggle::ToggleTarget;
    use kst::store::kagenti::WorkloadKind;
    use kst::ui::dialog::{Dialog, DialogState};
    let context = "agents-us-central-production-blue";
    let mut app =
        App::new(Fleet::new(&[(context.into(), "https://a".into())]), Theme::builtin("mono").unwrap(), Mode::Normal);
    app.writes.dialog = Some(Dialog {
        id: 1,
        target: ToggleTarget {
            cluster: 0,
            namespace: "team1".into(),
            name: "weather-service-with-a-long-name".into(),
            kind: WorkloadKind::Deployment,
            from: 2,
            to: 0,
        },
        context: context.into(),
        via: Some("cluster-proxy of its1".into()),
        hpa: Some("weather-service-with-a-long-name".into()),
        state: DialogState::Allowed,
    });
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        let s = render(&mut app, w, h);
        for needle in [
            "Turn this agent off?",
            "replicas 2 -> 0",
            "Through the cluster-proxy of its1",
            "may scale it back",
            "y confirm",
        ] {
            assert!(s.contains(needle), "{w}x{h}: {needle:?} missing\n{s}");
        }
        insta::assert_snapshot!(format!("write_confirmation_via_proxy_{w}x{h}"), common::pane_shot(&s));
    }
}

/// `s` on a pod is guarded as a write: refused and audited in read-only mode (nothing asked of
/// the API server), else the dialog waits for the API server's answer, names the pod and the
/// container (←/→ picks another), says why when RBAC refuses, and `y` hands the session over
/// only once allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_is_checked_confirmed_and_refused_in_read_only_mode() {
    use kst::actions::{ActionRequest, ShellRequest};
    let pod = pod_row("ms-pd-decode-0", &["vllm", "sidecar"], &[8000]);
    for mode in [Mode::ReadOnly, Mode::Normal] {
        let (_sim, mut app, mut arx) = pod_list_with_actions(mode, &pod).await;
        // the footer offers the shell and the forward only where they can be had
        let footer = render(&mut app, 160, 30).lines().last().unwrap_or("").to_string();
        assert_eq!(
            footer.contains("s shell") && footer.contains("F forward"),
            mode == Mode::Normal,
            "{mode:?}: {footer}"
        );
        key(&mut app, KeyCode::Char('s'));
        let asked = arx.try_recv().expect("the actions task is told");
        if mode == Mode::ReadOnly {
            let s = render(&mut app, 100, 30);
            assert!(s.contains("read-only mode: kst opens no shell"), "{s}");
            let ActionRequest::Shell(ShellRequest::Done { result, .. }) = asked else { panic!("{asked:?}") };
            assert_eq!(result, "refused: read-only mode", "audited, and nothing asked of the API server");
            assert!(app.writes.session.is_none());
            continue;
        }
        let ActionRequest::Shell(ShellRequest::Check { id, target }) = asked else { panic!("{asked:?}") };
        assert_eq!((target.pod.as_str(), target.container.as_str()), ("ms-pd-decode-0", "vllm"));
        let s = render(&mut app, 100, 30);
        assert!(s.contains("checking your permissions") && s.contains("container ▸vllm"), "{s}");
        key(&mut app, KeyCode::Char('y'));
        assert!(app.writes.shell_run.is_none(), "no session before the API server answers");
        key(&mut app, KeyCode::Right);
        assert!(render(&mut app, 100, 30).contains("▸sidecar"), "another container, marked without colour");
        // refused by RBAC: said, and nothing runs
        let denied = kst::store::Update::ShellChecked {
            cluster: 0,
            id,
            allowed: false,
            reason: "create pods/exec: RBAC does not allow it".into(),
            kubeconfig: None,
        };
        app.on_update(denied);
        assert!(render(&mut app, 100, 30).contains("not allowed: create pods/exec"));
        key(&mut app, KeyCode::Char('y'));
        assert!(app.writes.shell_run.is_none());
        key(&mut app, KeyCode::Esc);
        // asked again and allowed: `y` hands over the chosen container
        key(&mut app, KeyCode::Char('s'));
        let Ok(ActionRequest::Shell(ShellRequest::Check { id, .. })) = arx.try_recv() else { panic!("asked again") };
        key(&mut app, KeyCode::Left);
        let allowed = kst::store::Update::ShellChecked {
            cluster: 0,
            id,
            allowed: true,
            reason: String::new(),
            kubeconfig: Some("/tmp/kubeconfig".into()),
        };
        app.on_update(allowed);
        assert!(render(&mut app, 100, 30).contains("y/Enter open"));
        key(&mut app, KeyCode::Char('y'));
        let run = app.writes.shell_run.clone().expect("a session to run");
        assert_eq!(run.target.container, "sidecar", "← from the first wraps to the last");
        let args = run.args().join(" ");
        assert!(
            args.contains("--kubeconfig /tmp/kubeconfig")
                && args.contains("exec -it -n llm-d ms-pd-decode-0 -c sidecar")
        );
    }
}

/// `F` on a pod: refused and audited in kiosk mode; else checked, the port chosen (←/→), `y`
/// starts it, the footer says where it listens, `:pf` lists it and `x` stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_forward_is_checked_listed_and_stopped() {
    use kst::actions::{ActionRequest, ForwardRequest};
    use kst::store::views::ForwardState;
    let pod = pod_row("ms-pd-decode-0", &["vllm"], &[8200, 8000]);
    for mode in [Mode::Kiosk, Mode::Normal] {
        let (_sim, mut app, mut arx) = pod_list_with_actions(mode, &pod).await;
        key(&mut app, KeyCode::Char('F'));
        let asked = arx.try_recv().expect("the actions task is told");
        if mode == Mode::Kiosk {
            let ActionRequest::Forward(ForwardRequest::Refused { why, .. }) = asked else { panic!("{asked:?}") };
            assert_eq!(why, "kiosk mode");
            assert!(render(&mut app, 120, 30).contains("kiosk mode: kst forwards no port"));
            continue;
        }
        let ActionRequest::Forward(ForwardRequest::Check { id, .. }) = asked else { panic!("{asked:?}") };
        app.on_update(kst::store::Update::ForwardChecked { cluster: 0, id, allowed: true, reason: String::new() });
        let s = render(&mut app, 120, 30);
        assert!(s.contains("port ▸8200") && s.contains("y/Enter forward"), "{s}");
        key(&mut app, KeyCode::Right);
        key(&mut app, KeyCode::Char('y'));
        let Ok(ActionRequest::Forward(ForwardRequest::Start { target, .. })) = arx.try_recv() else {
            panic!("started")
        };
        assert_eq!(target.port, 8000, "the port chosen");
        let local: std::net::SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let state = ForwardState::Listening { local, connections: 0, error: None };
        app.on_update(kst::store::Update::Forwarding { cluster: 0, id, state });
        assert!(render(&mut app, 120, 30).contains("forwarding 127.0.0.1:8000 -> llm-d/ms-pd-decode-0:8000"));
        typed(&mut app, ":pf");
        key(&mut app, KeyCode::Enter);
        let s = render(&mut app, 120, 30);
        assert!(s.contains("port-forwards (1)") && s.contains("listening") && s.contains("ms-pd-decode-0"), "{s}");
        key(&mut app, KeyCode::Char('x'));
        let Ok(ActionRequest::Forward(ForwardRequest::Stop { id: stopped })) = arx.try_recv() else {
            panic!("stopped")
        };
        assert_eq!(stopped, id);
        assert!(render(&mut app, 120, 30).contains("no port-forwards"));
    }
}

/// The README's key table names every key a pane offers (as bound by default), so a key added
/// to a pane without its line in the table fails here.
#[test]
fn the_readme_key_table_names_every_pane_key() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // the first column of the table's rows: its backticked keys
    let mut table = std::collections::BTreeSet::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let first = line.trim_start_matches('|').split(" | ").next().unwrap_or("");
        for k in first.split('`').skip(1).step_by(2) {
            table.insert(k.to_string());
        }
    }
    let app =
        App::new(Fleet::new(&[("a".to_string(), "s".to_string())]), Theme::builtin("mono").unwrap(), Mode::Normal);
    let (mut missing, mut checked) = (Vec::new(), 0);
    for p in &app.panes {
        for h in p.hints() {
            for k in h.label(&app.keymap).split_whitespace().filter(|k| *k != "/" || h.label(&app.keymap) == "/") {
                checked += 1;
                if !table.contains(k) {
                    missing.push(format!("{}: {k} ({})", p.title(), h.what));
                }
            }
        }
    }
    assert!(checked > 30 && table.len() > 20, "{checked} keys checked against {} in the table", table.len());
    assert!(missing.is_empty(), "keys the README's table does not name: {missing:#?}\ntable: {table:?}");
}
