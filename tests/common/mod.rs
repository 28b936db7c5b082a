//! Shared helpers: start the simulator in-process and point kst's collectors at it.
#![allow(dead_code)]

pub mod peers;
pub mod prom;

use std::time::Duration;

use kst::sources::{connect, Target, WorkerOptions};
use kst_sim::{SimFleet, SimOptions};

pub async fn sim(clusters: usize) -> SimFleet {
    SimFleet::start(SimOptions { clusters, ..SimOptions::default() }).await.expect("sim starts")
}

pub fn targets(fleet: &SimFleet) -> Vec<Target> {
    let kc = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig(false)).expect("sim kubeconfig parses");
    connect::select_targets(kc, &[]).expect("contexts")
}

pub fn fast_worker() -> WorkerOptions {
    WorkerOptions {
        refresh: Duration::from_millis(300),
        backoff_max: Duration::from_secs(1),
        coalesce: Duration::from_millis(50),
        probe_timeout: Duration::from_secs(5),
        scrape_timeout: Duration::from_secs(2),
        // kst's own history and baselines go to a per-call place, never the user's state dir
        state_dir: {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::env::temp_dir().join(format!("kst-test-state-{}-{n}", std::process::id()))
        },
        baseline_file: None,
        ..Default::default()
    }
}

/// Polls `f` until it is true or the (generous) deadline passes.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut f: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !f() {
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn sim_with(opts: SimOptions) -> SimFleet {
    SimFleet::start(opts).await.expect("sim starts")
}

/// Applies collector updates to `fleet` until `done` holds (generous deadline).
pub async fn pump_until(
    fleet: &mut kst::store::Fleet,
    updates: &mut tokio::sync::mpsc::Receiver<kst::store::Update>,
    what: &str,
    done: impl Fn(&kst::store::Fleet) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !done(fleet) {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Some(u)) => {
                fleet.apply(u);
            }
            _ => panic!("timed out waiting for {what}"),
        }
    }
}

pub fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// A fleet filled from the simulator (seed 42) by the real collectors, then given
/// deterministic metrics: each model server's numbers come from the simulator's own engine
/// model advanced with a fixed seed, so drawings can be compared byte for byte.
pub async fn deterministic_fleet() -> (SimFleet, kst::store::Fleet, f64) {
    use kst::store::llmd::{Role, ScrapeError};
    use kst::store::{Conn, Fleet, Update};
    use kst_sim::endpoints::epp::EppState;
    use kst_sim::endpoints::vllm::{EngineState, Generation, Role as SimRole};

    let sim = sim(3).await;
    let targets = targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = kst::sources::Collectors::start(&targets, fast_worker());
    pump_until(&mut fleet, &mut col.updates, "a converged fleet", |f| {
        f.clusters.iter().all(|c| c.conn == Conn::Live && c.nodes.is_some() && c.llmd.installed.is_some())
            && f.clusters[0].llmd.servers.len() == 10
            && f.clusters[1].llmd.servers.len() == 4
            && !f.clusters[0].llmd.objectives.is_empty()
            && !f.clusters[1].llmd.objectives.is_empty()
            && f.clusters.iter().all(|c| c.kagenti.installed().is_some())
            && f.clusters.iter().all(|c| c.kagenti.installed() == Some(false) || c.kagenti.platform.is_some())
            && f.clusters.iter().all(|c| {
                c.kagenti
                    .agents
                    .iter()
                    .filter(|a| a.wtype == "agent" && a.protocols.iter().any(|p| p == "a2a"))
                    .all(|a| c.kagenti.cards.contains_key(&a.key()))
            })
            && f.clusters.iter().flat_map(|c| &c.llmd.servers).all(|s| (s.phase != "Pending" || s.unschedulable.is_some()) && s.pool.is_some())
            && !f.clusters[1].llmd.imports.is_empty()
            && f.clusters.iter().all(|c| c.jobs.listed())
            // GPUs: every GPU node's exporter page, and OpenCost (or its absence) asked
            && f.clusters[0].gpus.nodes.len() == 4
            && f.clusters[1].gpus.nodes.len() == 3
            && f.clusters[..2].iter().all(|c| c.gpus.cost.is_some() && c.gpus.gpus().all(|g| g.pod.is_none() || g.team.is_some()))
            && f.clusters.iter().all(|c| c.gpus.pending.is_some())
            // the fabric: every tool server asked, RBAC read, a baseline taken
            && f.clusters.iter().filter(|c| c.kagenti.installed() == Some(true)).all(|c| {
                c.kagenti.rbac.is_some()
                    && c.kagenti.baseline.is_some()
                    && c.kagenti.tools.as_ref().is_some_and(|t| {
                        t.len() == c.kagenti.agents.iter().filter(|a| a.wtype == "tool").count()
                            && t.iter().all(|s| s.status() != kst::store::tools::ServerStatus::Pending)
                    })
            })
    })
    .await;
    col.stop();
    drop(col);
    for (i, c) in fleet.clusters.iter_mut().enumerate() {
        c.latency_ms = Some(3 + i as u64);
        // the probes' history too: how many probes ran while the fleet converged, and how long
        // each took, depend on the machine's load (a loaded run drew another sparkline)
        c.latency = kst::store::Ring::new(60);
        c.latency.push(3 + i as u64);
        c.server = format!("https://127.0.0.1:{}", 6443 + i);
        c.llmd.metrics.clear();
        c.llmd.epp.clear();
        c.llmd.throughput.clear();
        c.llmd.rounds = 0;
        c.llmd.last_round = None;
        // creation times are relative to the wall clock at sim start: pin them
        for a in c.kagenti.agents.iter_mut() {
            a.created = Some("2026-09-01T00:00:00Z".into());
        }
        if let Some(b) = c.kagenti.baseline.as_mut() {
            b.saved = "2026-09-01T00:00:00Z".into();
        }
        // job times too, relative to the drawing's clock
        let t0 = 1_790_000_000 + 5 * 12 + 1;
        for (k, j) in c.jobs.jobs.iter_mut().enumerate() {
            let ts = |s: i64| jiff::Timestamp::from_second(s).unwrap().to_string();
            let created = t0 - 3600 * (k as i64 + 1);
            j.created = Some(ts(created));
            j.started = j.started.as_ref().map(|_| ts(created + 60));
            j.finished = j.finished.as_ref().map(|_| ts(created + 1860));
        }
        // AuthBridge counts grow with wall time: fixed ones, shaped as the sidecars report them
        let stats: std::collections::BTreeMap<(String, String), Result<kst::store::topology::AuthStats, String>> = c
            .kagenti
            .agents
            .iter()
            .filter(|a| !a.authbridge_pods.is_empty())
            .map(|a| a.key())
            .map(|k| {
                let mut s = kst::store::topology::AuthStats::default();
                match k.1.as_str() {
                    "weather-service" => {
                        s.outbound_approvals.insert("weather-tool-mcp.team1.svc.cluster.local:8000".into(), 240);
                        s.outbound_approvals.insert("currency-converter.team1.svc.cluster.local:8080".into(), 60);
                        s.inbound_approvals.insert("spiffe://cluster.local/ns/team1/sa/default".into(), 36);
                    }
                    "currency-converter" => {
                        s.inbound_approvals.insert("spiffe://cluster.local/ns/team1/sa/weather-service".into(), 60);
                        s.outbound_approvals.insert("api.exchangerate.host".into(), 48);
                        s.outbound_denials.insert("github-tool-mcp.team1.svc.cluster.local:8000".into(), 24);
                    }
                    _ => {}
                }
                (k, Ok(s))
            })
            .collect();
        c.kagenti.authbridge = stats;
        c.kagenti.rederive(i);
    }
    let t0 = 1_790_000_000.0;
    let steps = 13;
    for ci in 0..fleet.clusters.len() {
        let servers = fleet.clusters[ci].llmd.servers.clone();
        let pools = fleet.clusters[ci].llmd.pools.clone();
        let generation = if ci == 1 { Generation::Legacy } else { Generation::Current };
        let mut engines: Vec<EngineState> = servers
            .iter()
            .map(|s| {
                let role = match s.role {
                    Role::Prefill => SimRole::Prefill,
                    Role::Decode => SimRole::Decode,
                    _ => SimRole::Aggregated,
                };
                EngineState::new("meta-llama/Llama-3.1-8B-Instruct", role, generation, 5.0, t0)
            })
            .collect();
        let mut epps: Vec<EppState> = pools
            .iter()
            .map(|p| EppState { pool: p.name.clone(), model: "m".into(), created: t0, ..Default::default() })
            .collect();
        let mut rng = kst_sim::rng::Rng::new(7 + ci as u64);
        for k in 0..steps {
            let at = t0 + 5.0 * k as f64;
            let load = 0.5 + 0.4 * ((k as f64) / steps as f64);
            for (s, e) in servers.iter().zip(engines.iter_mut()) {
                e.advance(5.0, load, &mut rng);
                // the wedged decode pod of gpu-eu-west answers once, then never again
                let wedged = ci == 1
                    && s.role == Role::Decode
                    && s.name == servers.iter().filter(|x| x.role == Role::Decode).nth(1).unwrap().name;
                let result = if wedged && k > 0 {
                    Err(ScrapeError::Timeout(3))
                } else if s.phase != "Running" || !s.ready {
                    Err(ScrapeError::Transport(
                        "error trying to reach service: dial tcp: connect: connection refused".into(),
                    ))
                } else {
                    kst::sources::metrics::decode_engine(&e.render(), s.engine).map_err(ScrapeError::Parse)
                };
                fleet.apply(Update::EngineScrape { cluster: ci, server: s.key(), at, result });
            }
            for (p, epp) in pools.iter().zip(epps.iter_mut()) {
                let members: Vec<(&kst::store::llmd::ServerInfo, &EngineState)> = servers
                    .iter()
                    .zip(engines.iter())
                    .filter(|(s, _)| s.pool.as_deref() == Some(p.name.as_str()))
                    .collect();
                epp.integrate(5.0);
                epp.set_pace(
                    &members.iter().map(|(s, e)| (s.name.clone(), e.rps, s.role == Role::Prefill)).collect::<Vec<_>>(),
                );
                epp.ready_endpoints = members.len();
                epp.avg_kv = members.iter().map(|(_, e)| e.kv).sum::<f64>() / members.len().max(1) as f64;
                let result = if p.name == "optimized-baseline" {
                    Err(ScrapeError::AuthRequired(401))
                } else {
                    kst::sources::metrics::decode_epp(&epp.render()).map_err(ScrapeError::Parse)
                };
                fleet.apply(Update::EppScrape { cluster: ci, pool: p.key(), at, result });
            }
            fleet.apply(Update::ScrapeRound { cluster: ci, at: at + 0.5 });
        }
    }
    let now = t0 + 5.0 * (steps - 1) as f64 + 1.0;
    // the clusters' own records (conditions' transitions) are relative to the wall clock at
    // sim start: moved to the drawing's clock, so ages read as the scenario made them
    let shift = now - now_s();
    for c in fleet.clusters.iter_mut() {
        for s in c.llmd.servers.iter_mut() {
            s.ready_since = s.ready_since.map(|t| (t + shift).round());
        }
        for a in c.llmd.autoscalers.iter_mut() {
            a.limited_since = a.limited_since.map(|t| (t + shift).round());
            a.blocked_since = a.blocked_since.map(|t| (t + shift).round());
        }
        for m in c.placement.managed.iter_mut().flatten() {
            m.since = m.since.map(|t| (t + shift).round());
        }
    }
    // GPU pages follow the live engines: pin them (busy by device index, idle held GPUs idle
    // for 2.5 hours before the drawing's clock)
    for c in fleet.clusters.iter_mut() {
        let mut idle = std::collections::BTreeMap::new();
        for n in c.gpus.nodes.values_mut() {
            n.at = Some(now - 2.0);
            for g in n.gpus.iter_mut() {
                let k: f64 = g.gpu.parse().unwrap_or(0.0);
                let busy = g.pod.is_some() && g.util.is_some_and(|u| u > 0.0);
                g.util = Some(if busy { 0.55 + 0.05 * k } else { 0.0 });
                g.power_w = Some(70.0 + 330.0 * g.util.unwrap());
                g.temp_c = Some((34.0 + 44.0 * g.util.unwrap()).round());
                if g.pod.is_some() && !busy {
                    idle.insert(g.id(), now - 9000.0);
                }
            }
        }
        // and that is what kst has counted: 2.5 GPU-hours per idle held GPU since it began watching
        c.gpus.idle_hours.clear();
        let holders: Vec<_> = c
            .gpus
            .gpus()
            .filter(|g| idle.contains_key(&g.id()))
            .map(|g| (g.pod.clone().unwrap().0, g.model.clone(), g.team.clone()))
            .collect();
        for h in holders {
            *c.gpus.idle_hours.entry(h).or_default() += 2.5;
        }
        c.gpus.watching_since = c.gpus.watching_since.map(|_| now - 9000.0);
        c.gpus.idle_since = idle;
        if let Some(k) = c.gpus.cost.as_mut() {
            k.at = now - 30.0;
        }
    }
    // the problems as the TUI's triage ticker finds them, each rule's for: already served
    fleet.problems.hold_scale = 1e-9;
    fleet.evaluate_problems(now - 1.0);
    fleet.evaluate_problems(now);
    (sim, fleet, now)
}

/// The screen as text, one line per row.
pub fn render(app: &mut kst::ui::App, w: u16, h: u16) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    term.draw(|f| app.draw(f)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// A screen as a pane's snapshot holds it: the tab bar (the second row) is left out, so adding
/// or renaming a pane rewrites the tab bar's own snapshots (`ui_components`'s `tab_bar_*`), not
/// every pane's. A screen without a tab bar (the wall, a too-small terminal) is kept whole.
pub fn pane_shot(screen: &str) -> String {
    screen
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 1 && is_tab_bar(l) { "(tab bar)" } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `1:Over 2:Prob …` or, scrolled, `…3:Models 4:Serve …`: a digit and a colon first.
pub fn is_tab_bar(line: &str) -> bool {
    let mut c = line.trim_start().trim_start_matches('…').chars();
    c.next().is_some_and(|d| d.is_ascii_digit()) && c.next() == Some(':')
}

/// The pane in front, as insta snapshots at the three sizes every pane is reviewed at:
/// 80x24 (the smallest kst runs in), 120x40 and 200x60 (a wall screen). A macro so the
/// snapshots are named after the test file that takes them.
#[allow(unused_macros)]
macro_rules! snapshots {
    ($app:expr, $name:expr) => {
        for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
            insta::assert_snapshot!(format!("{}_{w}x{h}", $name), common::pane_shot(&common::render($app, w, h)));
        }
    };
}
#[allow(unused_imports)]
pub(crate) use snapshots;

/// Feeds the app the updates it would get in its loop, until `done` (generous deadline).
pub async fn drive(
    app: &mut kst::ui::App,
    updates: &mut tokio::sync::mpsc::Receiver<kst::store::Update>,
    what: &str,
    done: impl Fn(&kst::ui::App) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done(app) {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Some(u)) => {
                app.on_update(u);
            }
            _ => panic!("timed out waiting for {what}"),
        }
    }
}

/// A peer server process the test started; killed when the test ends, however it ends.
pub struct Peer(pub std::process::Child);
impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `tests/peers/<script>` with a Python that has `modules` (provisioned from
/// `packages` into a venv under target/ when the machine's python3 lacks them) on a free port
/// and waits until it listens. None: the peer cannot be had here (the test says so and returns).
pub async fn python_peer(
    test: &str,
    script: &str,
    modules: &str,
    packages: &[&str],
    extra: &[&str],
) -> Option<(Peer, u16)> {
    let Some(python) = peers::python_with(modules, packages) else {
        peers::missing(test, &format!("python3 with {modules}"), &format!("pip install {}", packages.join(" ")));
        return None;
    };
    let port = free_port();
    let path = format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR"));
    let child =
        std::process::Command::new(python).arg(path).arg(port.to_string()).args(extra).spawn().expect("python3 starts");
    let peer = Peer(child);
    eventually(&format!("{script} to listen"), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).await;
    Some((peer, port))
}

/// The nightly matrix from the simulator's fake GitHub, dated relative to `now`, read once.
pub async fn deterministic_nightly(now: f64) -> kst::store::nightly::NightlyState {
    let fake = kst_sim::github::FakeGithub::start_at(42, now as i64).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = kst::sources::nightly::NightlyConfig {
        repo: kst_sim::github::REPO.into(),
        api: fake.base_url(),
        token: None,
        runs: 7,
        every: Duration::from_secs(600),
        cache_dir: dir.path().to_path_buf(),
        badge_base: None,
        badges: vec![],
    };
    let mut gh = kst::sources::nightly::Github::new(cfg.clone()).unwrap();
    let mut state = kst::sources::nightly::refresh(&mut gh, &cfg).await;
    assert_eq!(state.stale, None);
    if let Some(m) = state.matrix.as_mut() {
        m.fetched_at = jiff::Timestamp::from_second(now as i64 - 120).unwrap().to_string();
    }
    state.source = "GitHub API llm-d/llm-d".into();
    state
}

/// The example reports of the demo, plus a broken file, read as the reports pane does.
pub fn example_reports() -> kst::store::reports::Reports {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in kst_sim::EXAMPLE_REPORTS {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(dir.path().join("broken.yaml"), "version: '0.2'\nrun: {uid: [unclosed\n").unwrap();
    let mut r = kst::sources::reports::load_dir(dir.path());
    r.dir = Some("reports/".into());
    r
}
