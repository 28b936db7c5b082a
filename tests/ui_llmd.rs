//! The LLM-d panes drawn from a deterministic fleet (simulator seed 42, engine model with a
//! fixed seed), compared with insta snapshots at 120x40 and 80x24.

mod common;

use common::render;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kst::store::pane::PaneId;
use kst::theme::Theme;
use kst::ui::{App, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llmd_panes() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    for name in ["serving", "kv", "throughput", "epp"] {
        app.show(name.parse().expect("a pane"));
        common::snapshots!(&mut app, name);
    }

    // what a user must be able to read off these panes
    app.show(PaneId::Serving);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("gpu-us-east/pd-disaggregation") && s.contains("gpu-eu-west/llama-70b"), "{s}");
    assert!(s.contains("needs auth"), "the 401 EPP is named: {s}");
    assert!(s.contains("agents-us-central: no InferencePool API"));
    app.show(PaneId::Kv);
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
    // the rows under the table chart the selected server, this one: never a neighbour's curve
    let charted = s.lines().find(|l| l.contains("┌ KV cache")).unwrap_or_default().to_string();
    assert!(charted.contains("0 samples") && s.contains("no samples yet"), "the pod never answered: {s}");
    // the Serving pane lists the selected pool's servers in the rows its pools leave
    app.show(PaneId::Serving);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Model servers of gpu-us-east/optimized-baseline (3)"), "{s}");
    app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Model servers of gpu-us-east/pd-disaggregation (4)"), "the list follows the selection: {s}");
    assert!(s.contains("ms-pd-llm-d-modelservice-prefill") && s.contains("prefill"), "{s}");
    app.on_key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE));
    app.show(PaneId::Epp);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("prefill-decode 30%") && s.contains("decode-only 70%"), "{s}");

    // filter and focus narrow every LLM-d pane
    app.show(PaneId::Serving);
    for c in ['/', 'w', 'e', 's', 't'] {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Inference pools (1)") && !s.contains("pd-disaggregation  "), "{s}");
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));

    // the Kagenti panes
    for name in ["agents", "discovery", "builds", "status"] {
        app.show(name.parse().expect("a pane"));
        common::snapshots!(&mut app, name);
    }
    app.show(PaneId::Agents);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("paused") && s.contains("failing") && s.contains("Kagenti not installed"), "{s}");
    // the rows under the list hold the selected agent in full: what it may do, whom it calls
    while app.selected_text().as_deref() != Some("weather-service") {
        app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    }
    let s = render(&mut app, 120, 40);
    assert!(s.contains("┌ agents-us-central/team1/weather-service"), "{s}");
    assert!(s.contains("RoleBinding weather-service -> Role weather-service: get,list on configmaps"), "{s}");
    assert!(s.contains("currency-converter") && s.contains("called by"), "{s}");

    // the overview gains the LLM-d columns
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    app.show(PaneId::Overview);
    let s = render(&mut app, 120, 40);
    insta::assert_snapshot!("overview_with_llmd_120x40", common::pane_shot(&s));
    // under the selected context, the fleet's open problems ranked: the worst one of another
    // cluster is on the first screen too
    let fleet = s.split("the fleet's open problems").nth(1).unwrap_or_else(|| panic!("{s}"));
    let selected = app.selected_text().unwrap();
    let worst_elsewhere = app.with_ctx(|cx| {
        kst::ui::panes::problems::rows(cx)
            .into_iter()
            .find(|p| p.incident() && p.cluster.is_some_and(|c| cx.cluster(c).context != selected))
            .map(|p| p.object.path())
            .unwrap()
    });
    assert!(fleet.contains(&worst_elsewhere), "{worst_elsewhere}: {fleet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_json_carries_llmd() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let snap = kst::snapshot::Snapshot::at(&fleet, now);
    let v = serde_json::to_value(&snap).unwrap();
    let east = &v["clusters"][0]["llmd"];
    assert_eq!(east["installed"], true);
    assert_eq!(east["pools"].as_array().unwrap().len(), 3);
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

/// The Problems tab over the deterministic fleet: worst first, every problem's cluster named,
/// and Enter on each leads to its source (the pod, or the pane with its row selected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_pane() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    app.on_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE));
    assert_eq!(app.pane_id(), PaneId::Problems);
    common::snapshots!(&mut app, "problems");
    let s = render(&mut app, 200, 60);
    assert!(s.contains("✖ crit") && s.contains("! warn") && s.contains("i info"), "{s}");
    assert!(s.contains("needs auth"), "the 401 EPP is an info problem: {s}");
    // the rows the list leaves hold the selected problem in full, following the selection: its
    // rule with its for:, and what else is open on its cluster
    for step in 0..2 {
        let (title, rule, others) = app.with_ctx(|cx| {
            let rows = kst::ui::panes::problems::rows(cx);
            let p = rows[step];
            let at = cx.display_name(&cx.cluster(p.cluster.unwrap()).context).to_string();
            let others: Vec<String> = rows
                .iter()
                .filter(|q| q.cluster == p.cluster && q.under.is_none() && !std::ptr::eq(**q, p) && !q.resolved())
                .map(|q| q.kind.to_string())
                .collect();
            (format!("{} {} on {at}", p.severity.mark(), p.kind), format!("({}, ", p.rule.alert), others)
        });
        let s = render(&mut app, 200, 60);
        let full = s.split(&title).nth(1).unwrap_or_else(|| panic!("{title} in full: {s}"));
        assert!(full.contains("rule      ") && full.contains(&rule) && full.contains("for: "), "{full}");
        for k in &others {
            assert!(full.contains(k.as_str()), "{k} is open nearby: {full}");
        }
        app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    }

    // every row leads somewhere: Enter, see where, come back
    let n = app.with_ctx(|cx| kst::ui::panes::problems::rows(cx).len());
    assert!(n >= 5, "{n} problems");
    let mut places = std::collections::BTreeSet::new();
    for i in 0..n {
        app.show(PaneId::Problems);
        app.on_key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE));
        for _ in 0..i {
            app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        }
        let (object, jump) = app.with_ctx(|cx| {
            let p = kst::ui::panes::problems::rows(cx)[i];
            (p.object.name.clone(), p.jump.clone())
        });
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        let screen = render(&mut app, 200, 60);
        match jump {
            kst::store::problems::Jump::Pod { name, .. } => {
                assert!(screen.contains(&name), "the pod view of {name}: {screen}");
                places.insert("pod".to_string());
            }
            kst::store::problems::Jump::Pane { pane: PaneId::Tools, find } => {
                // a server with no tools to list is marked first in the servers box
                assert_eq!(app.pane_id(), PaneId::Tools);
                assert!(
                    screen.lines().any(|l| l.contains("▶ ") && l.contains(&find.to_string())),
                    "{find} marked: {screen}"
                );
                places.insert("tools".to_string());
            }
            kst::store::problems::Jump::Pane { pane, .. } => {
                assert_eq!(app.pane_id(), pane, "problem {i} on {object}");
                let sel = app.selected_text().unwrap_or_default();
                assert!(
                    sel.contains(&object) || object.contains(&sel) && !sel.is_empty(),
                    "{pane}: the row of {object} is selected, not {sel:?}"
                );
                places.insert(pane.to_string());
            }
        }
    }
    assert!(places.len() >= 3, "problems lead to several places: {places:?}");
}

/// The wall screen: big figures, the problems, the rotating pane, a countdown; no hints, no
/// highlighted row; `q` asks first, and `--kiosk-lock` refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_wall() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Kiosk);
    app.clock = Some(now);
    app.wall = Some(kst::ui::app::kiosk::Wall::new(std::time::Duration::from_secs(20), false, now - 6.0));
    app.rotate();
    assert_eq!(app.pane_id(), PaneId::Models);
    app.rotate();
    app.wall.as_mut().unwrap().next_at = now + 14.0;
    assert_eq!(app.pane_id(), PaneId::Serving);
    for (w, h) in [(200u16, 60u16), (120, 40)] {
        let s = render(&mut app, w, h);
        insta::assert_snapshot!(format!("kiosk_wall_{w}x{h}"), common::pane_shot(&s));
        assert!(s.contains("CRITICAL") && s.contains("TOKENS/S") && s.contains("AGENTS HEALTHY"), "{s}");
        assert!(s.contains("· next in 14s") && s.contains("Serving "), "the rotation indicator: {s}");
        assert!(s.contains("CrashLoopBackOff"), "the problems are listed: {s}");
        assert!(!s.contains("? help") && !s.contains("q quit") && !s.contains("/ filter"), "no key hints: {s}");
    }
    // the big digits: 8 cells a character at 200 columns (the critical count's glyph rows)
    let s = render(&mut app, 200, 60);
    assert!(s.lines().skip(2).take(6).any(|l| l.contains('█')), "big digits: {s}");
    // the worst incident in glyphs four rows high leads the problems, across the room
    let under = s.lines().skip_while(|l| !l.contains("┌ Problems")).nth(1).unwrap_or_default();
    assert!(under.chars().filter(|c| "▖▗▘▙▚▛▜▝▞▟▀▄▌▐█".contains(*c)).count() > 40, "the headline: {s}");
    // a line too long for the box is cut with an ellipsis, never silently
    let s = render(&mut app, 120, 40);
    assert!(s.lines().any(|l| l.ends_with("…│")), "cut with …: {s}");
    assert!(
        !s.lines().skip_while(|l| !l.contains("┌ Problems")).nth(1).unwrap_or_default().contains('▟'),
        "no headline at 120 columns: {s}"
    );

    // q asks; another key stays; q twice quits
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    assert!(!app.quit && render(&mut app, 120, 40).contains("Quit the wall screen?"));
    app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    assert!(!app.quit && !render(&mut app, 120, 40).contains("Quit the wall screen?"));
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    assert!(app.quit);
    // as the question says, y quits too (it used to stay)
    app.quit = false;
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(app.quit, "y answers the quit question");
    // locked: q never quits
    app.quit = false;
    app.wall.as_mut().unwrap().lock = true;
    for _ in 0..3 {
        app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    }
    assert!(!app.quit && render(&mut app, 120, 40).contains("kiosk locked"));
}

/// `[[slo]]` targets: Serving shows each pool's worst objective and the request path box every
/// objective with its share over the window; a breached one is a problem of its pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slo_attainment_in_serving_and_as_problems() {
    use kst::store::slo::Slo;
    let (_sim, mut fleet, now) = common::deterministic_fleet().await;
    fleet.slos = vec![
        // the 8B pools answer in ~340 ms at p50: a 250 ms TTFT target is breached
        Slo {
            model: Some("Llama-3.1-8B-Instruct".into()),
            ttft_p99_s: Some(0.25),
            error_rate: Some(0.01),
            ..Default::default()
        },
        // the 70B pool is within 2 s
        Slo { pool: Some("llm-d/llama-70b".into()), ttft_p99_s: Some(2.0), itl_p99_s: Some(0.1), ..Default::default() },
    ];
    fleet.evaluate_problems(now + 1.0);
    let breaches: Vec<String> = fleet
        .problems
        .all()
        .iter()
        .filter(|p| p.kind == "slo-breach")
        .map(|p| format!("{} {}", p.object.name, p.reason))
        .collect();
    assert!(!breaches.is_empty() && breaches.iter().all(|b| !b.starts_with("llama-70b")), "{breaches:?}");
    assert!(breaches.iter().any(|b| b.contains("SLO TTFT ≤ 250ms") && b.contains("< 99.0% (over 1m)")), "{breaches:?}");
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    app.show(PaneId::Serving);
    let s = render(&mut app, 200, 60);
    insta::assert_snapshot!("serving_slo_200x60", common::pane_shot(&s));
    let row = |name: &str| s.lines().find(|l| l.contains(name)).unwrap().to_string();
    assert!(row("gpu-us-east/pd-disaggregation").contains("✖"), "{s}");
    assert!(row("gpu-eu-west/llama-70b").contains("✓"), "{s}");
    assert!(s.contains("SLO over 1m: TTFT ≤ 250ms"), "the path box names each objective and the window: {s}");
}

/// Models: each model once, a line per cluster adding up its pools there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_pane() {
    let (_sim, fleet, now) = common::deterministic_fleet().await;
    let reading = fleet.reading(now);
    let models = kst::store::models::views(&fleet, &reading);
    let names: Vec<&str> = models.iter().map(|m| m.model.as_str()).collect();
    let small = models
        .iter()
        .find(|m| kst::store::llmd::model_label(&m.model) == "llama-3-1-8b-instruct")
        .unwrap_or_else(|| panic!("the 8B model in {names:?}"));
    let east = &small.lines[0];
    assert_eq!(east.context, "gpu-us-east");
    assert_eq!(east.pools.len(), 2, "both 8B pools of gpu-us-east");
    // the line's numbers are the sums of its pools'
    let l = &fleet.clusters[0].llmd;
    let small_pools: Vec<_> =
        l.pools.iter().filter(|p| l.pool_model_label(p).as_deref() == Some("llama-3-1-8b-instruct")).collect();
    assert_eq!(small_pools.len(), 2);
    let sum = |f: &dyn Fn(&kst::store::llmd::PoolView) -> Option<f64>| -> f64 {
        small_pools.iter().filter_map(|p| f(&l.pool_view(p, &reading))).sum()
    };
    assert!((east.request_rate.unwrap() - sum(&|v| v.request_rate)).abs() < 1e-9);
    assert!((east.decode_tokens_per_s.unwrap() - sum(&|v| v.decode_tps)).abs() < 1e-9);
    let decode: usize = small_pools.iter().map(|p| l.pool_view(p, &reading).decode_total).sum();
    assert_eq!(east.decode_total, decode);
    assert_eq!(
        east.gpus,
        l.servers
            .iter()
            .filter(|s| small_pools.iter().any(|p| s.pool.as_deref() == Some(p.name.as_str())))
            .map(|s| s.gpus)
            .sum::<u32>()
    );
    assert!(east.headroom.is_some(), "KV is known: a headroom");
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    app.on_key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE));
    assert_eq!(app.pane_id(), PaneId::Models);
    common::snapshots!(&mut app, "models");
    let s = render(&mut app, 200, 60);
    assert!(s.contains("llama-3-3-70b-instruct") && s.contains("└ gpu-eu-west"), "{s}");
    assert!(s.contains("⇡ exported") && s.contains("⇣ gpu-us-east ✔"), "the export and the import: {s}");
    // the rows under the models list the selected line's servers: the model's on every cluster,
    // then only the cluster's on a cluster's line
    assert!(s.contains("Model servers of llama-3-1-8b-instruct on 1 cluster(s) (7)"), "{s}");
    let mut moved = 0;
    while !render(&mut app, 200, 60).contains("Model servers of llama-3-3-70b-instruct on gpu-eu-west") {
        app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        moved += 1;
        assert!(moved < 10, "the list ended before the 70B line of gpu-eu-west");
    }
    let s = render(&mut app, 200, 60);
    assert!(s.contains("llama-70b-prefill-") && !s.contains("pd-llama-70b-prefill-"), "gpu-eu-west's only: {s}");
    for _ in 0..moved {
        app.on_key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE));
    }
    let s = render(&mut app, 200, 60);
    assert!(s.contains("1/2 ⧖"), "the H100 decode server the scheduler cannot place: {s}");
    // Enter on a cluster line: its pools in Serving, filtered to the model
    app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(app.pane_id(), PaneId::Serving);
    let s = render(&mut app, 200, 60);
    assert!(s.contains("Inference pools (2)") && s.contains("pd-disaggregation") && !s.contains("llama-70b"), "{s}");
}

/// GPUs and cost: every GPU of the exporters with its holder, the XID of the withheld GPU, the
/// idle GPUs an eval job holds, MIG instances; cost from OpenCost on the H100 cluster and from
/// configured prices (an estimate) on the A100 cluster, per million tokens as computed by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpus_and_cost() {
    use kst::store::gpus::{model_costs, CostSource};
    let (_sim, mut fleet, now) = common::deterministic_fleet().await;
    let east = &fleet.clusters[0].gpus;
    assert_eq!(east.gpus().count(), 32, "4 nodes x 8 H100s");
    assert!(!east.gpus().any(|g| g.has_xid()));
    let held_70b = east.gpus().filter(|g| g.model.as_deref() == Some("llama-3-3-70b-instruct")).count();
    assert_eq!(held_70b, 4 + 8, "the 70B prefill (4) and the one placed decode server (8)");
    let west = &fleet.clusters[1].gpus;
    assert!(
        west.gpus().any(|g| g.mig.as_deref() == Some("3g.40gb #1")),
        "MIG instances on the A100 cluster's last node"
    );
    let eval: Vec<_> =
        west.gpus().filter(|g| g.pod.as_ref().is_some_and(|p| p.1.starts_with("eval-harness"))).collect();
    assert_eq!(eval.len(), 2);
    assert!(eval.iter().all(|g| !g.busy() && g.team.as_deref() == Some("research")));
    assert!(
        fleet.problems.firing().any(|p| p.kind == "gpu-idle-held" && p.object.name.starts_with("eval-harness")),
        "the idle held GPUs are a problem"
    );
    let xid: Vec<String> = west.gpus().filter(|g| g.has_xid()).map(|g| g.id()).collect();
    assert_eq!(xid, vec!["gpu-eu-west-gpu-2/7".to_string()], "the GPU the device plugin withholds");
    assert!(fleet.problems.firing().any(|p| p.kind == "gpu-xid" && p.cluster == Some(1)));

    // cost: OpenCost on gpu-us-east, the configured A100 price on gpu-eu-west, nothing else
    fleet.gpu_prices = [("NVIDIA-A100-SXM4-80GB".to_string(), 1.8)].into();
    let r = fleet.reading(now);
    let costs = model_costs(&fleet, &r, &fleet.gpu_prices);
    let of = |model: &str, ctx: &str| {
        costs.iter().find(|c| kst::store::llmd::model_label(&c.model) == model && c.context == ctx).unwrap().clone()
    };
    let measured = of("llama-3-3-70b-instruct", "gpu-us-east");
    assert_eq!(measured.source, Some(CostSource::Opencost { window: "1h".into() }));
    let report = fleet.clusters[0].gpus.cost.as_ref().unwrap().result.clone().unwrap();
    let row = report.by_model.iter().find(|r| r.value() == "llama-3-3-70b-instruct").unwrap();
    assert!((row.gpu_cost - 12.0 * kst_sim::endpoints::opencost::GPU_HOUR).abs() < 1e-9, "12 GPUs for the hour");
    assert!((measured.per_hour.unwrap() - row.total_cost).abs() < 1e-9, "a 1h window: $/h is its total");
    let tokens = measured.tokens_per_s.unwrap();
    assert!((measured.per_million_tokens.unwrap() - row.total_cost / (tokens * 3600.0) * 1e6).abs() < 1e-9);
    let estimate = of("llama-3-3-70b-instruct", "gpu-eu-west");
    assert_eq!(estimate.gpus, 16, "3 decode x 4 and a prefill x 4, the crash-looping pod still holds its GPUs");
    assert!((estimate.per_hour.unwrap() - 16.0 * 1.8).abs() < 1e-9);
    assert!(matches!(estimate.source, Some(CostSource::Estimate { .. })));
    let per_1k = estimate.gpu_hours_per_1k_requests.unwrap();
    let line_rps = kst::store::models::views(&fleet, &r)
        .into_iter()
        .flat_map(|m| m.lines)
        .find(|l| l.context == "gpu-eu-west")
        .and_then(|l| l.request_rate)
        .unwrap();
    assert!((per_1k - 16.0 / (line_rps * 3600.0) * 1000.0).abs() < 1e-9);
    // per pool: a model with two pools on a cluster has a row for each, adding up to its line
    let lines_with_pools: Vec<_> = costs
        .iter()
        .filter(|c| c.pool.is_none())
        .filter(|l| costs.iter().any(|p| p.pool.is_some() && p.model == l.model && p.context == l.context))
        .collect();
    assert!(!lines_with_pools.is_empty(), "the sim serves a model from two pools on one cluster");
    for l in lines_with_pools {
        let pools: Vec<_> =
            costs.iter().filter(|p| p.pool.is_some() && p.model == l.model && p.context == l.context).collect();
        assert!(pools.len() >= 2);
        assert_eq!(pools.iter().map(|p| p.gpus).sum::<u32>(), l.gpus, "{}: the pools' GPUs are the line's", l.model);
        assert_eq!(pools.iter().map(|p| p.source.clone()).collect::<Vec<_>>(), vec![l.source.clone(); pools.len()]);
        let sum: f64 = pools.iter().map(|p| p.per_hour.unwrap()).sum();
        assert!((sum - l.per_hour.unwrap()).abs() < 1e-6, "{}: pools ${sum}/h, line ${:?}/h", l.model, l.per_hour);
        for p in pools {
            let t = p.tokens_per_s.unwrap();
            assert!((p.per_million_tokens.unwrap() - p.per_hour.unwrap() / (t * 3600.0) * 1e6).abs() < 1e-9);
        }
    }
    // allocation against use: the research team's two idle GPUs on gpu-eu-west, priced at $1.8
    let by_team = kst::store::gpus::allocation_by(&fleet, "team", &fleet.gpu_prices);
    let research = by_team.iter().find(|a| a.key == "research").unwrap();
    assert_eq!((research.context.as_str(), research.held, research.busy, research.pending), ("gpu-eu-west", 2, 0, 0));
    assert!((research.idle_gpu_hours - 5.0).abs() < 1e-9, "2 GPUs x 2.5 h: {}", research.idle_gpu_hours);
    assert_eq!(research.per_hour, Some(2.0 * 1.8));
    // the 70B decode server the scheduler cannot place asks for 8 GPUs: requested, not held
    let by_model = kst::store::gpus::allocation_by(&fleet, "model", &fleet.gpu_prices);
    let big = by_model.iter().find(|a| a.context == "gpu-us-east" && a.key == "llama-3-3-70b-instruct").unwrap();
    assert_eq!((big.held, big.pending, big.requested), (12, 8, 20));
    assert_eq!(big.source, Some(CostSource::Opencost { window: "1h".into() }));
    let by_cluster = kst::store::gpus::allocation_by(&fleet, "cluster", &fleet.gpu_prices);
    let east = by_cluster.iter().find(|a| a.context == "gpu-us-east").unwrap();
    let whole: f64 = report.by_cluster.iter().map(|r| r.total_cost).sum();
    assert!((east.per_hour.unwrap() - whole).abs() < 1e-9, "the cluster costs all its rows, idle included");
    let mut app = App::new(fleet, Theme::builtin("mono").unwrap(), Mode::Normal);
    app.clock = Some(now);
    app.show(PaneId::Gpus);
    assert_eq!(app.pane_id(), PaneId::Gpus);
    common::snapshots!(&mut app, "gpus");
    let s = render(&mut app, 200, 60);
    assert!(s.contains("opencost 1h") && s.contains("estimate: $1.8/GPU-h"), "both cost sources, labelled: {s}");
    // least busy first: the idle held GPUs on top, with how long kst has seen them idle
    app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
    let s = render(&mut app, 200, 60);
    let first = s.lines().nth(4).unwrap_or("");
    assert!(first.contains("eval-harness-nightly") && first.contains("idle 150m"), "{s}");
    // v: the lower table by team, then namespace, then cluster
    app.on_key(KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE));
    common::snapshots!(&mut app, "gpus_by_team");
    let s = render(&mut app, 200, 60);
    let row = s.lines().find(|l| l.contains("research @ gpu-eu-west")).unwrap_or_else(|| panic!("{s}"));
    assert!(row.contains("5.00") && row.contains("$3.60") && row.contains("estimate"), "{row}");
    assert!(s.lines().any(|l| l.contains("(+8)")), "the unplaced server's 8 GPUs are asked for: {s}");
    // no price for an H100 without OpenCost: unknown, with the reason, never 0
    app.fleet.clusters[0].gpus.cost = None;
    let costs = model_costs(&app.fleet, &r, &app.fleet.gpu_prices);
    let none = costs.iter().find(|c| c.context == "gpu-us-east").unwrap();
    assert_eq!((none.per_hour, none.per_million_tokens), (None, None));
    assert!(none.missing.as_deref().unwrap().contains("NVIDIA-H100-80GB-HBM3"), "{:?}", none.missing);
}
