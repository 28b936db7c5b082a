//! The Overview pane drawn from a fleet the collectors filled from the simulator (fixed
//! seed), at a wall-screen size and at 80x24, compared with insta snapshots; plus the keys.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::store::{Conn, Fleet, Update};
use kst::theme::Theme;
use kst::ui::{App, Mode};

async fn converged_fleet() -> (kst_sim::SimFleet, Fleet) {
    let (sim, fleet, _) = common::deterministic_fleet().await;
    (sim, fleet)
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_snapshots_and_keys() {
    let (_sim, fleet) = converged_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(1_790_000_061.0);
    insta::assert_snapshot!("overview_120x40", common::pane_shot(&render(&mut app, 120, 40)));
    insta::assert_snapshot!("overview_80x24", common::pane_shot(&render(&mut app, 80, 24)));
    insta::assert_snapshot!("too_small_60x20", common::pane_shot(&render(&mut app, 60, 20)));

    // filter narrows the rows
    for k in [
        key(KeyCode::Char('/')),
        key(KeyCode::Char('g')),
        key(KeyCode::Char('p')),
        key(KeyCode::Char('u')),
        key(KeyCode::Enter),
    ] {
        app.on_key(k);
    }
    let screen = render(&mut app, 100, 24);
    assert!(screen.contains("gpu-us-east") && screen.contains("gpu-eu-west"));
    assert!(!screen.contains("agents-us-central     "), "filtered out of the table");
    assert!(screen.contains("2 of 3"));
    app.on_key(key(KeyCode::Esc));

    // worst first: the cluster with two critical incidents (an XID and a crash loop) leads; the
    // agents cluster's four standing cluster-admin findings do not count, its failing agent does;
    // Enter focuses the selected cluster
    let screen = render(&mut app, 120, 40);
    let order: Vec<usize> = ["gpu-eu-west", "agents-us-central", "gpu-us-east"]
        .iter()
        .map(|c| screen.lines().position(|l| l.starts_with(&format!("│{c}"))).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "worst first: {screen}");
    assert!(screen.contains("2✖ 2!") && screen.contains("1✖ 2!") && !screen.contains("1i"), "{screen}");
    app.on_key(key(KeyCode::Char('g')));
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Some(1));
    let screen = render(&mut app, 100, 30);
    assert!(screen.contains("focus: gpu-eu-west") && screen.contains("NVIDIA-A100-SXM4-80GB"));
    insta::assert_snapshot!("overview_focused_100x30", common::pane_shot(&screen));

    // tabs: digits and Tab; a pane without its source says why instead of inventing data
    app.on_key(key(KeyCode::Char('8')));
    assert!(render(&mut app, 100, 30).contains("the nightly matrix is not being read"));
    app.on_key(key(KeyCode::BackTab));
    assert_eq!(app.pane_id(), PaneId::Epp);

    // an unreachable cluster is drawn as such, with its cause
    app.on_key(key(KeyCode::Esc));
    app.on_key(key(KeyCode::Char('1')));
    app.on_update(Update::Conn {
        cluster: 2,
        conn: Conn::Unreachable { error: "connection refused".into(), since: std::time::SystemTime::UNIX_EPOCH },
    });
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("✖ unreachable") && screen.contains("connection refused"), "{screen}");
    assert!(screen.contains("1 down"));

    app.on_key(key(KeyCode::Char('?')));
    assert!(render(&mut app, 100, 30).contains("focus one cluster / all"));
    app.on_key(key(KeyCode::Char('q')));
    assert!(!app.quit, "the first key closes help");
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
}

#[test]
fn kiosk_rotates_over_panes_with_content_and_takes_no_typing() {
    let mut fleet = Fleet::new(&[("a".into(), "s".into())]);
    // LLM-d only: no Kagenti, no nightly matrix, no jobs
    fleet.clusters[0].llmd.installed = Some(true);
    fleet.clusters[0].kagenti.brands = Some(vec![]);
    let mut app = App::new(fleet, Theme::builtin("dark").unwrap(), Mode::Kiosk);
    let mut seen = Vec::new();
    for _ in 0..6 {
        app.rotate();
        seen.push(app.pane_id());
    }
    assert_eq!(
        seen.iter().map(|p| p.name()).collect::<Vec<_>>(),
        vec!["models", "serving", "kv", "throughput", "epp", "overview"],
        "a wall screen shows the panes that have something, and skips the rest"
    );
    app.on_key(key(KeyCode::Char('/')));
    assert!(!app.filter_editing);
    assert!(render(&mut app, 80, 24).contains("[KIOSK]"));
}

/// The agents the Agents pane lists now, in its order (cluster, name).
fn agents(app: &mut App) -> Vec<(String, String)> {
    app.with_ctx(|cx| {
        kst::ui::panes::agents::agents(cx, Default::default())
            .iter()
            .map(|(i, a)| (cx.fleet.clusters[*i].context.clone(), a.name.clone()))
            .collect()
    })
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(key(KeyCode::Char(c)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_mode_regex_filters_and_copy() {
    let (_sim, fleet) = converged_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(1_790_000_061.0);

    // :agents jumps; Tab completes; history comes back with Up
    typed(&mut app, ":ag");
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.prompt.as_ref().unwrap().line, "agents");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.pane_id(), PaneId::Agents);
    typed(&mut app, ":ctx gpu-eu");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Some(1));
    typed(&mut app, ":");
    app.on_key(key(KeyCode::Up));
    assert_eq!(app.prompt.as_ref().unwrap().line, "ctx gpu-eu");
    app.on_key(key(KeyCode::Esc));
    typed(&mut app, ":nonsense");
    app.on_key(key(KeyCode::Enter));
    assert!(render(&mut app, 100, 24).contains("unknown command"), "the error is shown, the prompt stays");
    app.on_key(key(KeyCode::Esc));
    typed(&mut app, ":ctx");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.focus, None);

    // filters: regex, case-insensitive; ! inverts
    typed(&mut app, ":agents");
    app.on_key(key(KeyCode::Enter));
    typed(&mut app, "/^(weather|claude)");
    app.on_key(key(KeyCode::Enter));
    let names: Vec<String> = agents(&mut app).into_iter().map(|(_, a)| a).collect();
    assert!(names.is_empty(), "anchored to the row text, which starts with the cluster: {names:?}");
    app.on_key(key(KeyCode::Esc));
    typed(&mut app, "/team1 (weather|claude)");
    app.on_key(key(KeyCode::Enter));
    let mut names: Vec<String> = agents(&mut app).into_iter().map(|(_, a)| a).collect();
    names.sort();
    assert_eq!(names, vec!["claude-agent".to_string(), "weather-service".to_string()]);
    app.on_key(key(KeyCode::Esc));
    typed(&mut app, "/!AGENTS-US");
    app.on_key(key(KeyCode::Enter));
    assert!(agents(&mut app).iter().all(|(c, _)| c == "gpu-us-east"), "inverse and case-insensitive");

    // sort by health puts the failing agent first
    app.on_key(key(KeyCode::Esc));
    let before = app.selected_text();
    app.on_key(key(KeyCode::Char('s')));
    assert_eq!(app.selected_text(), before, "the selection stays on the same agent when the order changes");
    app.on_key(key(KeyCode::Char('g')));
    assert_eq!(app.selected_text().as_deref(), Some("flaky-summarizer"));

    // copy the selected name
    app.on_key(key(KeyCode::Char('C')));
    assert_eq!(app.pending_copy.as_deref(), Some("flaky-summarizer"));
}

#[test]
fn mouse_only_when_enabled_and_rebound_keys() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let fleet = Fleet::new(&[("a".into(), "s".into()), ("b".into(), "s".into()), ("c".into(), "s".into())]);
    let mut app = App::new(fleet, Theme::builtin("dark").unwrap(), Mode::Normal);
    let click = |col, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: col,
        row,
        modifiers: KeyModifiers::NONE,
    };
    render(&mut app, 100, 24);
    assert!(!app.on_mouse(click(3, 5), 100), "off by default: text selection keeps working");
    app.mouse = true;
    assert!(app.on_mouse(click(3, 5), 100));
    assert_eq!(app.selected_text().as_deref(), Some("b"), "the second row");

    // a scrolled table: the click lands on the row drawn there, not on row (y - top)
    let many: Vec<(String, String)> = (0..40).map(|i| (format!("ctx-{i:02}"), "s".to_string())).collect();
    let mut long = App::new(Fleet::new(&many), Theme::builtin("dark").unwrap(), Mode::Normal);
    long.mouse = true;
    long.on_key(key(KeyCode::Char('G')));
    let screen = render(&mut long, 100, 24);
    let first_row_y = screen.lines().position(|l| l.contains("ctx-")).unwrap() as u16;
    let first_name = screen
        .lines()
        .nth(first_row_y as usize)
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("ctx-"))
        .unwrap()
        .trim_matches('│')
        .to_string();
    assert!(long.on_mouse(click(3, first_row_y), 100));
    assert_eq!(long.selected_text(), Some(first_name.clone()), "the row under the pointer is selected");
    assert_ne!(first_name, "ctx-00");
    // at 120 columns the tab line uses short titles, and every tab is on it; at 100 it is a
    // window that follows the current tab, with … where it is cut
    let tabs = render(&mut app, 120, 24).lines().nth(1).unwrap().to_string();
    assert!(tabs.contains("Stat") && tabs.contains("Place"), "every tab on the line: {tabs}");
    let tabs = render(&mut app, 100, 24).lines().nth(1).unwrap().to_string();
    assert!(tabs.trim_end().ends_with('…'), "the cut end is marked: {tabs}");
    let serving_x = tabs.find("4:Serve").unwrap();
    assert!(app.on_mouse(click(serving_x as u16 + 2, 1), 100));
    assert_eq!(app.pane_id(), PaneId::Serving);
    app.on_mouse(
        MouseEvent { kind: MouseEventKind::ScrollDown, column: 0, row: 10, modifiers: KeyModifiers::NONE },
        100,
    );

    let mut keys = std::collections::BTreeMap::new();
    keys.insert("help".to_string(), vec!["h".to_string()]);
    app.keymap = kst::ui::keymap::Keymap::with_overrides(&keys).unwrap();
    app.on_key(key(KeyCode::Char('?')));
    assert!(!app.show_help, "? is no longer help");
    app.on_key(key(KeyCode::Char('h')));
    assert!(app.show_help);
    let help = render(&mut app, 100, 30);
    assert!(help.contains("h / q Ctrl-c          this help / quit"), "help shows the keys in force: {help}");
    app.on_key(key(KeyCode::Esc));
    app.show(PaneId::Benchmarks);
    app.on_key(key(KeyCode::Char('h')));
    let help = render(&mut app, 100, 30);
    assert!(
        help.contains("←                     previous platform"),
        "h went to help: the left key is the arrow alone: {help}"
    );
    // at 80x24 the help does not fit: it says where it is, scrolls, and reaches its last line
    let small = render(&mut app, 80, 24);
    assert!(small.contains("keys 1-18 of") && small.contains("scroll · / finds · any other key closes"), "{small}");
    assert!(!small.contains("the newest 3 runs against the rest"), "the legend's last line is below: {small}");
    app.on_key(key(KeyCode::Char('G')));
    let end = render(&mut app, 80, 24);
    assert!(app.show_help && end.contains("the newest 3 runs against the rest"), "G: the last line: {end}");
    app.on_key(key(KeyCode::Char('g')));
    assert!(render(&mut app, 80, 24).contains("keys 1-18 of"), "g: back to the top");
    // wide enough, it all shows at once in two columns
    let wide = render(&mut app, 200, 60);
    assert!(wide.contains("keys — / finds · any key closes") && wide.contains("this help / quit"), "{wide}");
    app.on_key(key(KeyCode::Char('x')));
    assert!(!app.show_help, "any other key closes it");
}

/// A cluster that stops answering keeps its last numbers, marked with their age, and leaves
/// the fleet totals (the header says so); past the limit they are not shown at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_clusters_numbers_turn_stale_with_their_age() {
    use kst::store::llmd::{Freshness, ScrapeError, Scraped};
    let (_sim, mut fleet) = converged_fleet().await;
    let t0 = 1_790_000_000.0;
    // gpu-eu-west answered last at t0+25, then its API server and pods went quiet at t0+30
    fleet.set_metrics(5.0, None, Some(12.0));
    let c = &mut fleet.clusters[1];
    c.last_ok = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(t0 + 25.0));
    c.conn = Conn::Unreachable {
        error: "connection refused".into(),
        since: std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(t0 + 30.0),
    };
    for m in c.llmd.metrics.values_mut() {
        let mut kept: Scraped<_> = Scraped::keeping(60);
        for s in m.samples.iter().filter(|s| s.at <= t0 + 25.0) {
            kept.record(s.at, Ok(s.v.clone()));
        }
        kept.record(t0 + 30.0, Err(ScrapeError::Transport("connection refused".into())));
        *m = kept;
    }
    let now = t0 + 61.0;
    fleet.evaluate_problems(now);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let screen = render(&mut app, 120, 40);
    insta::assert_snapshot!("overview_one_stale_120x40", common::pane_shot(&screen));
    assert!(screen.contains("GPUs 31/32 allocatable of 2 clusters; 1 stale"), "{screen}");
    assert!(screen.contains("connection refused · since") && screen.contains("numbers from 36s ago"), "{screen}");

    // the store: last known values with when they were observed
    let r = app.fleet.reading(now);
    let l = &app.fleet.clusters[1].llmd;
    let t = l.totals(&r);
    assert_eq!(t.freshness, Freshness::Stale);
    assert!(t.kv_avg.is_some() && t.observed_at.is_some_and(|at| at <= t0 + 25.0));
    // the pool row carries its age; the KV pane its per-pod age
    app.show(PaneId::Serving);
    let serving = render(&mut app, 120, 40);
    assert!(serving.contains("gpu-eu-west/llama-70b (36s ago)"), "{serving}");
    app.show(PaneId::Kv);
    assert!(render(&mut app, 120, 40).contains("36s ago"));
    // the snapshot JSON: each stale value has its observed_at
    let v = serde_json::to_value(kst::snapshot::Snapshot::at(&app.fleet, now)).unwrap();
    let west = &v["clusters"][1];
    assert_eq!(west["observed_at"], "2026-09-21T14:13:45Z", "t0 + 25 s, when it last answered");
    assert_eq!(west["llmd"]["freshness"], "stale");
    let server = west["llmd"]["servers"].as_array().unwrap().iter().find(|s| !s["kv_usage"].is_null()).unwrap();
    assert_eq!((server["freshness"].as_str(), server["observed_at"].is_string()), (Some("stale"), true));
    assert_eq!(v["clusters"][0]["llmd"]["freshness"], "fresh");
    assert!(v["clusters"][0]["observed_at"].is_null());

    // past the limit (12 refreshes here): not shown at all
    app.clock = Some(t0 + 90.0);
    let r = app.fleet.reading(t0 + 90.0);
    let t = app.fleet.clusters[1].llmd.totals(&r);
    assert_eq!((t.freshness, t.kv_avg), (Freshness::Expired, None));
}

/// A cluster that still answers but whose model-server numbers stopped (its query layer down,
/// its scrapes failing): KV and TOK/S are its last numbers, and DETAIL says how old they are,
/// instead of a fresh-looking figure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_cluster_whose_metrics_stopped_says_how_old_they_are() {
    use kst::store::llmd::{Freshness, Scraped};
    let (_sim, mut fleet) = converged_fleet().await;
    let t0 = 1_790_000_000.0;
    fleet.set_metrics(5.0, None, Some(12.0));
    let c = &mut fleet.clusters[0];
    assert_eq!(c.conn, Conn::Live);
    for m in c.llmd.metrics.values_mut() {
        let mut kept: Scraped<_> = Scraped::keeping(60);
        for s in m.samples.iter().filter(|s| s.at <= t0 + 25.0) {
            kept.record(s.at, Ok(s.v.clone()));
        }
        *m = kept;
    }
    let now = t0 + 45.0;
    let r = fleet.reading(now);
    assert_eq!(fleet.clusters[0].llmd.totals(&r).freshness, Freshness::Stale);
    fleet.evaluate_problems(now);
    let name = fleet.clusters[0].context.clone();
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let screen = render(&mut app, 200, 60);
    let row = screen.lines().find(|l| l.contains(&format!("│{name}"))).unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("● live") && row.contains("numbers 20s old · "), "{row}");
    // the other GPU cluster's numbers are current: no such note
    assert_eq!(screen.matches(" old · ").count(), 1, "{screen}");
}

/// At 100 clusters the healthy ones are one line under the troubled ones; `v` (or Enter on
/// that line) shows every row, `s` sorts by name.
#[test]
fn a_hundred_clusters_collapse_to_the_troubled_ones() {
    let names: Vec<(String, String)> =
        (0..100).map(|i| (format!("edge-{i:03}"), format!("https://10.0.{}.{}:6443", i / 250, i % 250))).collect();
    let mut fleet = Fleet::new(&names);
    for c in fleet.clusters.iter_mut() {
        c.conn = Conn::Live;
        c.version = Some("v1.33.1".into());
    }
    let since = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
    fleet.clusters[42].conn = Conn::Unreachable { error: "connection refused".into(), since };
    fleet.clusters[7].conn = Conn::Slow("API answers in 4.1s (slow_after 2s)".into());
    fleet.evaluate_problems(1_790_000_030.0);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(1_790_000_031.0);
    let screen = render(&mut app, 120, 40);
    insta::assert_snapshot!("overview_100_collapsed_120x40", common::pane_shot(&screen));
    let row = |s: &str, name: &str| s.lines().position(|l| l.contains(name));
    assert!(row(&screen, "edge-042") < row(&screen, "edge-007"), "critical before warning: {screen}");
    assert!(screen.contains("98 clusters healthy"), "{screen}");
    assert!(!screen.contains("edge-000"), "healthy ones are collapsed: {screen}");
    assert!(screen.contains("Clusters (100)"), "{screen}");
    // Enter on the healthy line shows them all
    app.on_key(key(KeyCode::Char('G')));
    app.on_key(key(KeyCode::Enter));
    let screen = render(&mut app, 120, 40);
    assert!(screen.contains("edge-000") && !screen.contains("clusters healthy"), "{screen}");
    // v folds them again; s sorts by name, troubled ones in their place
    app.on_key(key(KeyCode::Char('v')));
    assert!(render(&mut app, 120, 40).contains("98 clusters healthy"));
    app.on_key(key(KeyCode::Char('v')));
    app.on_key(key(KeyCode::Char('s')));
    let screen = render(&mut app, 120, 40);
    assert!(screen.contains("· name") && row(&screen, "edge-000") < row(&screen, "edge-007"), "{screen}");
}

/// `[fleet] dial = "focus"`: no context is dialed at start (each row says so, and the simulated
/// API servers see no request); focusing one starts its collector, and only that cluster is
/// asked anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_focus_dials_a_context_only_when_it_is_focused() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = kst::sources::Collectors::start(&[], common::fast_worker());
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    for (i, t) in targets.iter().enumerate() {
        app.fleet.clusters[i].undialed = Some("dial = \"focus\": focus it (Enter) to dial it".into());
        app.undialed.insert(i, t.clone());
    }
    app.context_dialer = Some(col.dialer(common::fast_worker()));
    let s = render(&mut app, 200, 60);
    assert_eq!(s.matches("○ not dialed").count(), 3, "{s}");
    assert!(s.contains("focus it (Enter) to dial it"), "{s}");
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    app.on_key(key(KeyCode::Char('/')));
    for ch in "gpu-eu-west".chars() {
        app.on_key(key(KeyCode::Char(ch)));
    }
    app.on_key(key(KeyCode::Enter));
    app.on_key(key(KeyCode::Enter));
    let i = targets.iter().position(|t| t.context == "gpu-eu-west").unwrap();
    assert_eq!(app.focus, Some(i));
    assert_eq!(app.fleet.clusters[i].undialed, None);
    common::pump_until(&mut app.fleet, &mut col.updates, "gpu-eu-west dialed and live", |f| {
        f.clusters[i].conn == Conn::Live && f.clusters[i].nodes.is_some()
    })
    .await;
    let asked = |name: &str| {
        let c = sim.cluster(name).unwrap();
        c.requests("list", "nodes") + c.requests("watch", "nodes") + c.requests("list", "pods")
    };
    assert!(asked("gpu-eu-west") > 0);
    for other in targets.iter().filter(|t| t.context != "gpu-eu-west") {
        assert_eq!(asked(&other.context), 0, "{} was never focused, so never asked", other.context);
        assert!(app.fleet.clusters.iter().any(|c| c.context == other.context && c.undialed.is_some()));
    }
    col.stop();
}

/// `[fleet] dial = "never"`: a context that is never dialed still shows what the query layer's
/// roll-ups say of it, and says it was not dialed; without a roll-up its numbers are `—`, not 0.
#[test]
fn a_context_not_dialed_shows_the_query_layer_s_roll_up() {
    let mut fleet = Fleet::new(&[("edge-a".into(), "https://a".into()), ("edge-b".into(), "https://b".into())]);
    for c in fleet.clusters.iter_mut() {
        c.undialed = Some("dial = \"never\": only what a hub and the query layer say of it".into());
    }
    let now = 1_000_000.0;
    fleet.prom_clusters.insert(
        "edge-a".into(),
        kst::store::hub::ClusterAgg {
            servers: Some(3.0),
            kv_avg: Some(0.30),
            kv_max: Some(0.42),
            generation_tokens_per_s: Some(1200.0),
            scraped_at: Some(now - 2.0),
            ..Default::default()
        },
    );
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    let s = render(&mut app, 200, 40);
    let a = s.lines().find(|l| l.contains("│edge-a")).unwrap_or_else(|| panic!("{s}"));
    assert!(a.contains("○ not dialed") && a.contains("3 engines") && a.contains("42%"), "{a}");
    assert!(a.contains("numbers from the query layer"), "{a}");
    let b = s.lines().find(|l| l.contains("│edge-b")).unwrap_or_else(|| panic!("{s}"));
    assert!(b.contains("○ not dialed") && !b.contains("engines") && b.contains('—'), "{b}");
}

/// `[fleet] hub` with `dial = "focus"`: the hub context is dialed at start (its ManagedClusters
/// are the fleet's inventory, so hub rows appear at once) while every other context waits to be
/// focused; a hub that is not a context is a configuration error naming the contexts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_is_dialed_at_start_when_the_other_contexts_wait_for_focus() {
    let sim = common::sim_with(kst_sim::SimOptions { kubestellar: true, ..Default::default() }).await;
    let targets = common::targets(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let settings = |text: &str| {
        std::fs::write(&path, text).unwrap();
        kst::config::Settings::resolve(&kst::cli::CommonArgs { config: Some(path.clone()), ..Default::default() })
            .unwrap()
    };
    let fleet = || Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut app = App::new(fleet(), Theme::builtin("mono").unwrap(), Mode::Normal);
    let s = settings("[fleet]\ndial = 'focus'\nhub = 'its1'\n");
    let mut col = kst::commands::start_collectors(&targets, &s, &mut app, &common::fast_worker()).unwrap();
    common::pump_until(&mut app.fleet, &mut col.updates, "the hub's ManagedClusters", |f| {
        kst::store::hub::clusters(f).iter().any(|h| h.name == kst_sim::kubestellar::LOST_WEC)
    })
    .await;
    let its = targets.iter().position(|t| t.context == "its1").unwrap();
    assert_eq!(app.fleet.clusters[its].undialed, None, "the hub is dialed");
    let waiting: Vec<&str> =
        app.fleet.clusters.iter().filter(|c| c.undialed.is_some()).map(|c| c.context.as_str()).collect();
    assert_eq!(waiting.len(), targets.len() - 1, "every other context waits: {waiting:?}");
    assert!(app.undialed.contains_key(&targets.iter().position(|t| t.context == "gpu-eu-west").unwrap()));
    let c = sim.cluster("gpu-eu-west").unwrap();
    assert_eq!(c.requests("list", "nodes") + c.requests("watch", "nodes"), 0, "not focused, not asked");
    col.stop();

    let mut app = App::new(fleet(), Theme::builtin("mono").unwrap(), Mode::Normal);
    let e = kst::commands::start_collectors(
        &targets,
        &settings("[fleet]\nhub = ['its9']\n"),
        &mut app,
        &common::fast_worker(),
    )
    .err()
    .expect("an unknown hub is an error");
    assert!(
        e.starts_with("[fleet] hub = \"its9\" is not a context kst watches (contexts: ") && e.contains("its1"),
        "{e}"
    );
}

/// A hub with 10,000 ManagedClusters (two exclusive sets, four regions, three not Available,
/// KV roll-ups from the query layer): worst first puts the unavailable ones above the healthy
/// hub context; `s` sorts by a column and `S` reverses it, clusters without the number last
/// either way; `b` groups by ManagedClusterSet then by label, one line per group with its
/// counts, Enter opens one; the filter's anchors work on names and its count is of rows.
#[test]
fn ten_thousand_hub_clusters_sort_group_and_filter() {
    use kst::store::placement::{ClusterSet, ManagedCluster, Selector, CLUSTERSET_LABEL};
    let now = 1_790_000_000.0;
    let mut fleet = Fleet::new(&[("its1".into(), "https://its1:6443".into())]);
    fleet.clusters[0].conn = Conn::Live;
    fleet.clusters[0].version = Some("v1.33.1".into());
    let regions = ["us-east", "us-west", "eu-west", "ap-south"];
    let down = [17, 4242, 9001];
    let managed: Vec<ManagedCluster> = (0..10_000)
        .map(|i| ManagedCluster {
            name: format!("edge-{i:05}"),
            labels: std::collections::BTreeMap::from([
                (CLUSTERSET_LABEL.to_string(), if i % 10 == 0 { "core" } else { "edge" }.to_string()),
                ("region".to_string(), regions[i % 4].to_string()),
            ])
            .into(),
            available: Some(!down.contains(&i)),
            why: down.contains(&i).then(|| "ManagedClusterLeaseUpdateStopped: lease not updated".to_string()),
            since: Some(now - 600.0),
        })
        .collect();
    for m in &managed {
        let i: usize = m.name[5..].parse().unwrap();
        let kv = if i == 3333 { 0.99 } else { (i % 80) as f64 / 100.0 };
        fleet.prom_clusters.insert(
            m.name.clone(),
            kst::store::hub::ClusterAgg {
                servers: Some(8.0),
                kv_max: Some(kv),
                scraped_at: Some(now - 2.0),
                ..Default::default()
            },
        );
    }
    fleet.clusters[0].placement.managed = Some(managed);
    fleet.clusters[0].placement.sets = Some(vec![
        ClusterSet { name: "edge".into(), selector: None },
        ClusterSet { name: "core".into(), selector: None },
        ClusterSet { name: "global".into(), selector: Some(Selector::default()) },
    ]);
    fleet.placement_changed();
    fleet.evaluate_problems(now);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now + 1.0);
    // a table row that starts with the name
    let row = |s: &str, name: &str| {
        s.lines()
            .position(|l| l.contains(&format!("│{name}")) || l.contains(&format!("│{name} ")))
            .unwrap_or(usize::MAX)
    };
    // the first row under the column headers
    let first_row = |s: &str| s.lines().nth(4).unwrap_or_default().to_string();

    let s = render(&mut app, 200, 60);
    insta::assert_snapshot!("overview_10000_hub_200x60", common::pane_shot(&s));
    assert!(s.contains("Clusters (10001) · worst first"), "{s}");
    for d in ["edge-00017", "edge-04242", "edge-09001"] {
        let healthy = s.lines().position(|l| l.contains("clusters healthy")).unwrap_or(0);
        assert!(row(&s, d) < healthy, "an unavailable hub cluster above the healthy ones: {s}");
    }
    // the hub context counts its three unavailable clusters' warnings, so it leads
    assert!(row(&s, "its1") < row(&s, "edge-00017"), "worst first across contexts and hub clusters: {s}");
    insta::assert_snapshot!("overview_10000_hub_80x24", common::pane_shot(&render(&mut app, 80, 24)));

    // every row, sorted by KV: the fullest first, then reversed; clusters without one last
    app.on_key(key(KeyCode::Char('v')));
    for _ in 0..3 {
        app.on_key(key(KeyCode::Char('s')));
    }
    app.on_key(key(KeyCode::Char('g')));
    let s = render(&mut app, 200, 60);
    assert!(s.contains("by KV, highest first"), "{s}");
    assert!(first_row(&s).contains("edge-03333"), "KV 99% first: {s}");
    app.on_key(key(KeyCode::Char('S')));
    app.on_key(key(KeyCode::Char('g')));
    let s = render(&mut app, 200, 60);
    assert!(s.contains("by KV, lowest first") && first_row(&s).contains("edge-00000"), "{s}");
    app.on_key(key(KeyCode::Char('G')));
    let s = render(&mut app, 200, 60);
    let last = s.lines().rev().find(|l| l.starts_with('│') && l.contains("edge-") || l.contains("│its1")).unwrap();
    assert!(last.contains("its1"), "no KV sorts last even reversed: {s}");

    // grouped by ManagedClusterSet: one line a set, counted; Enter opens one
    app.on_key(key(KeyCode::Char('g')));
    // KV, decode TOK/S, SERVERS, back to worst first
    for _ in 0..3 {
        app.on_key(key(KeyCode::Char('s')));
    }
    app.on_key(key(KeyCode::Char('b')));
    let s = render(&mut app, 200, 60);
    insta::assert_snapshot!("overview_10000_grouped_200x60", common::pane_shot(&s));
    assert!(s.contains("worst first · grouped by ManagedClusterSet"), "{s}");
    let edge = s.lines().find(|l| l.contains("▸ edge (9000)")).unwrap_or_else(|| panic!("{s}"));
    assert!(edge.contains("✖ 3 down") && edge.contains("99%"), "the group's counts and worst KV: {edge}");
    assert!(s.contains("▸ core (1000)") && s.contains("▸ (no set) (1)"), "{s}");
    assert!(row(&s, "▸ edge") < row(&s, "▸ core"), "the group with clusters down first: {s}");
    insta::assert_snapshot!("overview_10000_grouped_80x24", common::pane_shot(&render(&mut app, 80, 24)));
    app.on_key(key(KeyCode::Char('g')));
    app.on_key(key(KeyCode::Enter));
    let s = render(&mut app, 200, 60);
    assert!(s.contains("▾ edge (9000)") && row(&s, "edge-00017") < row(&s, "▸ core"), "opened under its line: {s}");

    // by label: the regions
    app.on_key(key(KeyCode::Char('b')));
    let s = render(&mut app, 200, 60);
    assert!(s.contains("grouped by label region") && s.contains("▸ us-east (2500)"), "{s}");

    // a filter anchored on a name finds the one cluster, and the title counts rows of all
    app.on_key(key(KeyCode::Char('b')));
    assert!(!render(&mut app, 200, 60).contains("grouped"), "b comes back to no grouping");
    app.on_key(key(KeyCode::Char('/')));
    for ch in "^edge-04242$".chars() {
        app.on_key(key(KeyCode::Char(ch)));
    }
    app.on_key(key(KeyCode::Enter));
    let s = render(&mut app, 200, 60);
    assert!(s.contains("Clusters (1 of 10001, filter: ^edge-04242$)"), "{s}");
    assert!(first_row(&s).contains("edge-04242") && first_row(&s).contains("unavailable"), "{s}");
    app.on_key(key(KeyCode::Esc));
    assert!(render(&mut app, 200, 60).contains("Clusters (10001)"), "Esc clears the filter first");
}

/// A group's sums are of the members with numbers: where some have no current series in the
/// query layer, the group's line says how many and marks its sums and maxima `≥` (without
/// colour), so a set whose busiest clusters went quiet does not read as a quiet set.
#[test]
fn a_group_with_members_the_query_layer_says_nothing_of_marks_its_sums_as_lower_bounds() {
    use kst::store::placement::{ClusterSet, ManagedCluster, CLUSTERSET_LABEL};
    let now = 1_790_000_000.0;
    let mut fleet = Fleet::new(&[("its1".into(), "https://its1:6443".into())]);
    fleet.clusters[0].conn = Conn::Live;
    fleet.prom.insert(0, kst::store::PromState { url: "http://thanos".into(), at: Some(now), ..Default::default() });
    let managed: Vec<ManagedCluster> = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(i, n)| ManagedCluster {
            name: format!("edge-{n}"),
            labels: std::collections::BTreeMap::from([(
                CLUSTERSET_LABEL.to_string(),
                if i < 4 { "edge" } else { "core" }.to_string(),
            )])
            .into(),
            available: Some(true),
            why: None,
            since: Some(now - 600.0),
        })
        .collect();
    // edge-b has no series; edge-c's are ten minutes old; the others are current
    for (name, age) in [("edge-a", 2.0), ("edge-c", 600.0), ("edge-d", 2.0), ("edge-e", 2.0)] {
        fleet.prom_clusters.insert(
            name.into(),
            kst::store::hub::ClusterAgg {
                servers: Some(8.0),
                kv_max: Some(0.5),
                generation_tokens_per_s: Some(1000.0),
                scraped_at: Some(now - age),
                ..Default::default()
            },
        );
    }
    fleet.clusters[0].placement.managed = Some(managed);
    fleet.clusters[0].placement.sets = Some(vec![
        ClusterSet { name: "edge".into(), selector: None },
        ClusterSet { name: "core".into(), selector: None },
    ]);
    fleet.placement_changed();
    fleet.evaluate_problems(now);
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now + 1.0);
    app.on_key(key(KeyCode::Char('b')));
    let s = render(&mut app, 200, 40);
    let edge = s.lines().find(|l| l.contains("▸ edge (4)")).unwrap_or_else(|| panic!("{s}"));
    assert!(edge.contains("2 of 4 without numbers now"), "no series and stale series both count: {edge}");
    assert!(edge.contains("≥") && edge.contains("engines"), "{edge}");
    let core = s.lines().find(|l| l.contains("▸ core (1)")).unwrap_or_else(|| panic!("{s}"));
    assert!(!core.contains('≥') && !core.contains("without numbers"), "a group fully seen is not marked: {core}");
    assert!(help_mentions(&mut app, "≥ (a group)"), "the help explains the mark");
}

/// Whether the help (`?`) explains `what`.
fn help_mentions(app: &mut App, what: &str) -> bool {
    app.on_key(key(KeyCode::Char('?')));
    let s = render(app, 200, 60);
    app.on_key(key(KeyCode::Esc));
    s.contains(what)
}
