//! Command dispatch and process-level concerns: each command (the TUI, demo, sim, snapshot,
//! config), settings, logging, exit codes.

use std::process::ExitCode;
use std::sync::Mutex;

use crate::cli::{Cli, Command, CommonArgs, ConfigCommand, DemoArgs, OutputFormat, SimArgs, SnapshotArgs};
use crate::config::{self, Settings};
use crate::signals::{signal_exit, wait_for_signal, Signals};
use crate::sources::prom::Pace;
use crate::sources::{connect, Collectors, Target, WorkerOptions};
use crate::store::Fleet;
use crate::theme::Theme;
use crate::ui::{self, App, Mode};
use kst_sim::{SimFleet, SimOptions};

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const SOME_UNREACHABLE: u8 = 3;
    pub const BAD_KUBECONFIG: u8 = 4;
    pub const NONE_REACHABLE: u8 = 5;
    pub const BAD_CONFIG: u8 = 6;
    pub const NO_TERMINAL: u8 = 7;
    pub const SOME_SLOW: u8 = 8;
    /// `kst snapshot --fail-on LEVEL`: a problem of that severity or worse is firing. Comes
    /// before 3, 5 and 8 (an unreachable or slow cluster is itself such a problem).
    pub const PROBLEMS: u8 = 9;
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    say(format_args!("kst: {msg}"));
    ExitCode::from(code)
}

/// A line on stderr that never panics: the terminal may be gone (eprintln! would panic).
fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Logs go to a file, never to the screen; if the file cannot be opened kst runs without.
fn init_logging(settings: &Settings) {
    let path = &settings.log_file;
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Opened here first so that an unwritable path is a message, not file-rotate's panic.
    match std::fs::OpenOptions::new().create(true).append(true).open(path) {
        Ok(_) => {}
        Err(e) => {
            say(format_args!("kst: logging disabled, cannot open {}: {e}", path.display()));
            return;
        }
    }
    let file = crate::logging::writer(path);
    let filter = tracing_subscriber::EnvFilter::try_from_env("KST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn,hyper=warn,rustls=warn,rmcp=warn"));
    let _ = tracing_subscriber::fmt().with_writer(Mutex::new(file)).with_ansi(false).with_env_filter(filter).try_init();
}

pub fn run(cli: Cli) -> ExitCode {
    let _ = color_eyre::install();
    if let Some(Command::Config { what: ConfigCommand::Path }) = &cli.command {
        println!("{}", crate::files::default_config_path().display());
        return ExitCode::from(exit::OK);
    }
    match &cli.command {
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(*shell, &mut Cli::command(), "kst", &mut std::io::stdout());
            return ExitCode::from(exit::OK);
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            return match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::from(exit::OK),
                Err(e) => fail(exit::ERROR, e),
            };
        }
        _ => {}
    }
    let common = cli.common();
    let settings = match Settings::resolve(&common) {
        Ok(s) => s,
        Err(e) => return fail(exit::BAD_CONFIG, format!("bad config: {e}")),
    };
    if let Some(Command::Rules) = &cli.command {
        let window = crate::store::rates::MetricsPolicy::new(
            settings.refresh.as_secs_f64(),
            settings.rate_window.map(|d| d.as_secs_f64()),
            None,
        )
        .window;
        print!("{}", crate::store::rules::prometheus_rule_file(window, 1.0));
        // the roll-ups of the first query layer's cluster label, over the layers' rate window
        let label = settings.prometheus.first().map_or("cluster", |p| p.cluster_label.as_str());
        let rate_window = settings.rate_window.unwrap_or(std::time::Duration::from_secs(60));
        print!("{}", crate::sources::prom::recording_rules(label, rate_window));
        return ExitCode::from(exit::OK);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(exit::ERROR, format!("cannot start the async runtime: {e}")),
    };
    // a hangup or termination during start-up must not kill kst before it can clean up: the
    // handlers replace the default action for the whole process, and the streams kept here
    // hold a signal that comes before anything waits for it (a snapshot stopped while it starts)
    let mut signals = rt.block_on(async { Signals::register() });
    init_logging(&settings);
    // which resources are GPUs holds for the whole run: every decoder reads the one list
    crate::sources::gpu_resources::set(settings.gpu_resources.clone());
    let demo = matches!(cli.command, Some(Command::Demo(_)));
    let code = match cli.command {
        Some(Command::Sim(args)) => rt.block_on(run_sim(args)),
        Some(Command::Demo(args)) => rt.block_on(run_demo(args, &common, &settings)),
        // a cron or systemd stop ends a snapshot at once: its exit code says so, and nothing
        // half-collected is printed
        Some(Command::Snapshot(args)) => rt.block_on(async {
            tokio::select! {
                code = run_snapshot(args, &common, &settings) => code,
                signo = signals.next() => {
                    say(format_args!("kst: snapshot stopped by a signal; nothing printed"));
                    signal_exit(signo)
                }
            }
        }),
        Some(Command::Config { .. })
        | Some(Command::Completions { .. })
        | Some(Command::Man)
        | Some(Command::Rules) => ExitCode::from(exit::OK),
        None => rt.block_on(run_tui_on_kubeconfig(&common, &settings)),
    };
    // Watch streams may still be parked; do not wait for them on the way out.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    // a task still running when the demo ended (the nightly cache's writer creates its folders)
    // can bring the demo's folder back after its guard removed it: with the runtime down, once more
    if demo {
        drop(DemoDir(demo_dir_path()));
    }
    code
}

fn targets_from_kubeconfig(common: &CommonArgs, settings: &Settings) -> Result<Vec<Target>, ExitCode> {
    let kc = connect::load_kubeconfig(common.kubeconfig.as_deref()).map_err(|e| fail(exit::BAD_KUBECONFIG, e))?;
    connect::select_targets(kc, &settings.contexts).map_err(|e| fail(exit::BAD_KUBECONFIG, e))
}

fn worker_options(settings: &Settings) -> WorkerOptions {
    WorkerOptions {
        refresh: settings.refresh,
        baseline_file: settings.baseline_file.clone(),
        team_label: settings.team_label.clone(),
        opencost: settings.opencost.clone(),
        ..WorkerOptions::default()
    }
}

/// The query layers' settings with the clusters each serves (shared with the direct scrapers,
/// which leave those clusters' model servers to them).
type PromSource = Option<(Vec<crate::sources::prom::PromConfig>, crate::sources::prom::Covered)>;

/// `--metrics` and `[[metrics.prometheus]]`: who reads the model servers.
/// `targets`' kubeconfig serves the layers reached through a context.
fn engine_source(settings: &Settings, targets: &[Target]) -> (crate::sources::EngineSource, PromSource) {
    use crate::cli::MetricsMode;
    use crate::sources::EngineSource;
    let covered = crate::sources::prom::Covered::default();
    let prometheus: Vec<_> = settings
        .prometheus
        .iter()
        .cloned()
        .map(|mut p| {
            p.rate_window = settings.rate_window.unwrap_or(std::time::Duration::from_secs(60));
            if let Some(t) = p.through.as_mut() {
                t.kubeconfig = targets.first().map(|x| x.kubeconfig.clone());
            }
            p
        })
        .collect();
    match settings.metrics_mode {
        _ if prometheus.is_empty() => (EngineSource::Direct, None),
        MetricsMode::Prometheus => (EngineSource::Query, Some((prometheus, covered))),
        MetricsMode::Auto => (EngineSource::Auto(covered.clone()), Some((prometheus, covered))),
        MetricsMode::Direct => (EngineSource::Direct, None),
    }
}

/// Starts the collectors `[fleet] dial` asks for at start: every context (`always`), or only
/// the `[fleet] hub` contexts (`focus`, `never`: the others are marked not dialed, and with
/// `focus` the App is given the way to dial each when it is focused). A hub that is not a
/// context is a configuration error.
pub fn start_collectors(
    targets: &[Target],
    settings: &Settings,
    app: &mut App,
    base: &WorkerOptions,
) -> Result<Collectors, String> {
    if let Some(h) = settings.hubs.iter().find(|h| !targets.iter().any(|t| &t.context == *h)) {
        let names: Vec<&str> = targets.iter().map(|t| t.context.as_str()).collect();
        return Err(format!("[fleet] hub = {h:?} is not a context kst watches (contexts: {})", names.join(", ")));
    }
    let per_context = |t: &Target| WorkerOptions {
        refresh: settings.refresh_overrides.get(&t.context).copied().unwrap_or(base.refresh),
        ..base.clone()
    };
    if settings.dial == config::Dial::Always {
        return Ok(Collectors::start_with(targets, per_context));
    }
    let mut collectors = Collectors::start_with(&[], per_context);
    let why = match settings.dial {
        config::Dial::Focus => "dial = \"focus\": focus it (Enter) to dial it",
        _ => "dial = \"never\": only what a hub and the query layer say of it",
    };
    let dialer = collectors.dialer(base.clone());
    for (i, t) in targets.iter().enumerate() {
        if settings.hubs.contains(&t.context) {
            // the fleet's inventory: dialed now, whatever `dial` says
            let _ = dialer.send((i, t.clone()));
            continue;
        }
        app.fleet.clusters[i].undialed = Some(why.to_string());
        if settings.dial == config::Dial::Focus {
            app.undialed.insert(i, t.clone());
        }
    }
    app.context_dialer = Some(dialer);
    Ok(collectors)
}

/// The problems kept by the last run (their ages, standing, resolved history); a file that
/// cannot be read is left out with a log line.
pub fn load_problems(fleet: &mut Fleet, path: &std::path::Path) {
    let contexts: Vec<String> = fleet.clusters.iter().map(|c| c.context.clone()).collect();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    // the first sight of a cluster settles within the metrics window (lists, scrapes, rates)
    fleet.problems.settle_s = (fleet.metrics.window * 0.5).max(10.0);
    match crate::store::problems::load(&mut fleet.problems, path, &contexts, crate::store::rules::by_id, now) {
        Ok(n) => tracing::info!(path = %path.display(), problems = n, "problems kept by the last run"),
        Err(e) => tracing::warn!("the kept problems are ignored: {e}"),
    }
}

async fn run_tui_on_kubeconfig(common: &CommonArgs, settings: &Settings) -> ExitCode {
    let targets = match targets_from_kubeconfig(common, settings) {
        Ok(t) => t,
        Err(code) => return code,
    };
    run_tui(targets, settings).await
}

async fn run_tui(targets: Vec<Target>, settings: &Settings) -> ExitCode {
    crate::memory::trim_every(std::time::Duration::from_secs(30));
    let theme = match Theme::load(
        &settings.theme,
        crate::files::config_dir().as_deref(),
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    ) {
        Ok(t) => t,
        Err(e) => return fail(exit::BAD_CONFIG, e),
    };
    let mode = if settings.kiosk {
        Mode::Kiosk
    } else if settings.readonly {
        Mode::ReadOnly
    } else {
        Mode::Normal
    };
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    fleet.set_metrics(
        settings.refresh.as_secs_f64(),
        settings.rate_window.map(|d| d.as_secs_f64()),
        settings.hide_after,
    );
    fleet.slow_after_ms = settings.slow_after.as_millis() as u64;
    fleet.problems.hold_scale = settings.hold_scale;
    fleet.slos = settings.slos.clone();
    fleet.gpu_prices = settings.gpu_prices.clone();
    load_problems(&mut fleet, &settings.problems_file);
    let mut app = App::new(fleet, theme, mode);
    app.problems_file = Some(settings.problems_file.clone());
    app.aliases = settings.aliases.clone();
    app.refresh = settings.refresh;
    app.mouse = settings.mouse;
    if let Some(w) = app.wall.as_mut() {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        *w = crate::ui::app::kiosk::Wall::new(settings.rotate, settings.kiosk_lock, now);
    }
    app.keymap = match crate::ui::keymap::Keymap::with_overrides(&settings.keys) {
        Ok(k) => k,
        Err(e) => return fail(exit::BAD_CONFIG, format!("bad config: {e}")),
    };
    tracing::info!(clusters = targets.len(), "starting the TUI");
    let (engines, prom) = engine_source(settings, &targets);
    let query = prom.as_ref().map(|(cfgs, _)| cfgs.clone()).unwrap_or_default();
    let base = WorkerOptions { engines, query, ..worker_options(settings) };
    let mut collectors = match start_collectors(&targets, settings, &mut app, &base) {
        Ok(c) => c,
        Err(e) => return fail(exit::BAD_CONFIG, e),
    };
    if let Some((cfgs, covered)) = prom {
        let urls: Vec<&str> = cfgs.iter().map(|c| c.url.as_str()).collect();
        tracing::info!(urls = ?urls, "model-server metrics from the query layers");
        // the rate window asked back at once: rates on the first frames, not a window later
        let window = std::time::Duration::from_secs_f64(app.fleet.metrics.window);
        collectors.start_prom(cfgs, covered, Pace { refresh: settings.refresh, window });
    }
    if let (Some(proxy), Some(t)) = (settings.cluster_proxy.clone(), targets.first()) {
        app.dialer =
            Some(connect::Dialer { proxy, hub_kubeconfig: t.kubeconfig.clone(), tx: collectors.dialer(base.clone()) });
    }
    collectors.start_external(settings.mcp_endpoints.clone(), settings.refresh * 12);
    collectors.start_nightly(settings.nightly.clone());
    collectors.start_reports(settings.reports_dir.clone());
    app.writes.actions = Some(crate::actions::start(targets.clone(), collectors.sender(), settings.audit_file.clone()));
    app.writes.silencers =
        collectors.start_alertmanagers(settings.alertmanagers.clone(), settings.refresh, settings.audit_file.clone());
    let layers = base.query.clone();
    let feeds =
        crate::sources::views::start_with_layers(targets.clone(), layers, settings.refresh, collectors.sender());
    app.feeds = crate::ui::feeds::Feeds::new(Some(feeds));
    let updates = std::mem::replace(&mut collectors.updates, tokio::sync::mpsc::channel(1).1);
    let guard = match ui::terminal::TerminalGuard::enter(settings.mouse) {
        Ok(g) => g,
        Err(e) => return fail(exit::NO_TERMINAL, format!("cannot use the terminal: {e}")),
    };
    let rotate = settings.kiosk.then_some(settings.rotate);
    let result = ui::run::run(app, guard, updates, rotate).await;
    collectors.stop();
    match result {
        Ok(None) => ExitCode::from(exit::OK),
        Ok(Some(signo)) => signal_exit(signo),
        Err(e) => fail(exit::ERROR, format!("terminal error: {e}")),
    }
}

fn sim_options(clusters: usize, seed: u64, pods: usize) -> SimOptions {
    SimOptions { clusters, seed, pods_per_cluster: pods, ..SimOptions::default() }
}

async fn run_demo(args: DemoArgs, _common: &CommonArgs, settings: &Settings) -> ExitCode {
    // the demo plays the incident timeline, so its Problems tab has something to show
    let opts = SimOptions {
        incident_timeline: true,
        kubestellar: !args.no_kubestellar,
        ..sim_options(args.clusters, args.seed, args.pods_per_cluster)
    };
    let fleet = match SimFleet::start(opts).await {
        Ok(f) => f,
        Err(e) => return fail(exit::ERROR, format!("cannot start the simulated fleet: {e}")),
    };
    // The kubeconfig stays in memory: the demo leaves no file behind.
    let kc = match kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig(false)) {
        Ok(k) => k,
        Err(e) => return fail(exit::ERROR, format!("simulator kubeconfig: {e}")),
    };
    let targets = match connect::select_targets(kc, &settings.contexts) {
        Ok(t) => t,
        Err(e) => return fail(exit::USAGE, e),
    };
    // the nightly matrix from the simulator's fake GitHub, cached in a place removed afterwards
    let github = match kst_sim::github::FakeGithub::start(args.seed).await {
        Ok(g) => g,
        Err(e) => return fail(exit::ERROR, format!("cannot start the simulated GitHub API: {e}")),
    };
    // the demo's own folder goes when the demo does, on every exit path (the guard's drop);
    // folders of demos that were killed outright go at the next start
    remove_stale_demo_dirs(&std::env::temp_dir());
    let demo_dir = DemoDir(demo_dir_path());
    let demo_cache = demo_dir.0.clone();
    let mut settings = settings.clone();
    // the scenario's surges last minutes: rules hold for a tenth of their for: to show them
    settings.hold_scale = 0.1;
    // the demo's problems start afresh each time: its fleet is new each time
    settings.problems_file = demo_cache.join("problems.json");
    // the A100 cluster has no OpenCost: a configured price shows the estimate path (the user's
    // own [cost] prices win)
    settings.gpu_prices.entry("NVIDIA-A100-SXM4-80GB".into()).or_insert(1.8);
    // the ITS's cluster-proxy dials a cluster the hub knows and the kubeconfig does not
    if let (None, Some(url)) = (&settings.cluster_proxy, fleet.cluster_proxy_url()) {
        settings.cluster_proxy = Some(connect::ClusterProxy::Ocm {
            url,
            hub: kst_sim::kubestellar::ITS.to_string(),
            ca_pem: fleet.ca_pem.clone(),
        });
    }
    settings.nightly = Ok(crate::sources::nightly::NightlyConfig {
        repo: kst_sim::github::REPO.into(),
        api: github.base_url(),
        token: None,
        runs: 7,
        every: std::time::Duration::from_secs(600),
        cache_dir: demo_cache.clone(),
        badge_base: None,
        badges: vec![],
    });
    // example llm-d-benchmark reports, written where the demo cleans up
    let reports = demo_cache.join("reports");
    if std::fs::create_dir_all(&reports).is_ok() {
        for (name, text) in kst_sim::EXAMPLE_REPORTS {
            let _ = std::fs::write(reports.join(name), text);
        }
        settings.reports_dir = Some(reports);
    }
    let code = run_tui(targets, &settings).await;
    fleet.shutdown();
    // the caches' writers may still be running: none may bring the folder back once it is gone
    crate::files::stop_writing();
    drop(demo_dir);
    code
}

/// The demo's own folder: its caches and problems file, named by its pid.
fn demo_dir_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kst-demo-{}", std::process::id()))
}

/// A folder removed when dropped.
struct DemoDir(std::path::PathBuf);

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes `kst-demo-<pid>` folders whose process is gone (a demo killed with SIGKILL, or
/// before it could clean up).
pub fn remove_stale_demo_dirs(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("kst-demo-").and_then(|p| p.parse::<u32>().ok()) else { continue };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive && pid != std::process::id() {
            tracing::info!(path = %e.path().display(), "removing a dead demo's folder");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

async fn run_snapshot(args: SnapshotArgs, common: &CommonArgs, settings: &Settings) -> ExitCode {
    // rates need the whole sample window: one longer than the timeout could never be taken
    if args.sample > args.timeout {
        return fail(
            exit::USAGE,
            format!(
                "--sample {} is longer than --timeout {}: the snapshot would end before its rates were sampled",
                crate::durations::format_duration(args.sample),
                crate::durations::format_duration(args.timeout)
            ),
        );
    }
    let targets = match targets_from_kubeconfig(common, settings) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // a snapshot wants two scrape rounds quickly, whatever the TUI's refresh
    let (engines, prom) = engine_source(settings, &targets);
    let opts = WorkerOptions {
        refresh: settings.refresh.min(std::time::Duration::from_secs(1)),
        engines,
        query: prom.as_ref().map(|(cfgs, _)| cfgs.clone()).unwrap_or_default(),
        ..worker_options(settings)
    };
    let started = std::time::Instant::now();
    let mut fleet = crate::snapshot::collect_with(
        &targets,
        opts.clone(),
        settings.mcp_endpoints.clone(),
        args.timeout,
        args.sample,
        prom,
    )
    .await;
    // slow is judged on the latencies collected, with the threshold in force
    fleet.slow_after_ms = settings.slow_after.as_millis() as u64;
    for c in fleet.clusters.iter_mut().filter(|c| c.conn.reachable()) {
        c.conn = c.answering_state(fleet.slow_after_ms);
    }
    // the nightly matrix once, if configured, within what is left of the timeout
    if let Ok(cfg) = &settings.nightly {
        if let Ok(mut gh) = crate::sources::nightly::Github::new(cfg.clone()) {
            let left = args.timeout.saturating_sub(started.elapsed()).max(std::time::Duration::from_secs(2));
            if let Ok(state) = tokio::time::timeout(left, crate::sources::nightly::refresh(&mut gh, cfg)).await {
                fleet.nightly = state;
            }
        }
    } else if let Err(why) = &settings.nightly {
        fleet.nightly.disabled = Some(why.clone());
    }
    fleet.slos = settings.slos.clone();
    fleet.gpu_prices = settings.gpu_prices.clone();
    // the Alertmanagers once each, within what is left of the timeout
    let left = args.timeout.saturating_sub(started.elapsed()).max(std::time::Duration::from_secs(2));
    let reads = settings.alertmanagers.iter().cloned().map(crate::sources::alertmanager::read_once);
    if let Ok(states) = tokio::time::timeout(left, futures::future::join_all(reads)).await {
        fleet.alertmanagers = states;
    }
    // the problems as the TUI would find them at this moment: ages from the clusters' records
    // and from the problems the last run kept (a snapshot taken by cron every minute sees a
    // new problem as new, and a finding it saw before as standing)
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    fleet.problems.hold_scale = settings.hold_scale;
    load_problems(&mut fleet, &settings.problems_file);
    fleet.evaluate_problems(now);
    if let Err(e) = crate::store::problems::save(&fleet.problems, &settings.problems_file, now) {
        tracing::warn!(path = %settings.problems_file.display(), "cannot keep the problems: {e}");
    }
    let snap = crate::snapshot::Snapshot::at(&fleet, now);
    match args.output {
        OutputFormat::Json => println!("{}", crate::snapshot::json(&snap)),
        OutputFormat::Table => print!("{}", crate::snapshot::table(&snap)),
    }
    if let Some(level) = args.fail_on {
        let over: Vec<&crate::snapshot::ProblemSnapshot> =
            snap.problems.iter().filter(|p| p.counts() && p.severity <= level.threshold()).collect();
        if !over.is_empty() {
            say(format_args!("kst: {} problem(s) at {} or worse", over.len(), level.threshold().name()));
            return ExitCode::from(exit::PROBLEMS);
        }
    }
    let down: Vec<&str> = snap.clusters.iter().filter(|c| !c.reachable).map(|c| c.context.as_str()).collect();
    let slow: Vec<&crate::snapshot::ClusterSnapshot> = snap.clusters.iter().filter(|c| c.state == "slow").collect();
    if down.is_empty() && !slow.is_empty() {
        for c in &slow {
            say(format_args!("kst: {} slow: {}", c.context, c.error.as_deref().unwrap_or("")));
        }
        ExitCode::from(exit::SOME_SLOW)
    } else if down.is_empty() {
        ExitCode::from(exit::OK)
    } else {
        for c in snap.clusters.iter().filter(|c| !c.reachable) {
            say(format_args!("kst: {} {}: {}", c.context, c.state, c.error.as_deref().unwrap_or("")));
        }
        ExitCode::from(if down.len() == snap.clusters.len() { exit::NONE_REACHABLE } else { exit::SOME_UNREACHABLE })
    }
}

async fn run_sim(args: SimArgs) -> ExitCode {
    let opts = SimOptions {
        agents_per_cluster: args.agents_per_cluster,
        plain_http: args.plain_http,
        port_base: args.port_base,
        churn_per_sec: args.churn,
        incident_timeline: args.incidents,
        kubestellar: args.kubestellar || args.managed_clusters > 0,
        managed_clusters: args.managed_clusters,
        bulk_policies: args.policies,
        bulk_objects: args.objects,
        ..sim_options(args.clusters, args.seed, args.pods_per_cluster)
    };
    let started = std::time::Instant::now();
    let mut fleet = match SimFleet::start(opts).await {
        Ok(f) => f,
        Err(e) => return fail(exit::ERROR, format!("sim: cannot start: {e}")),
    };
    let admin = match fleet.start_admin(args.admin_port).await {
        Ok(a) => a,
        Err(e) => return fail(exit::ERROR, format!("sim: cannot start the admin endpoint: {e}")),
    };
    if let Err(e) = std::fs::write(&args.kubeconfig_out, fleet.kubeconfig(args.viewer_contexts)) {
        return fail(exit::ERROR, format!("sim: cannot write {}: {e}", args.kubeconfig_out.display()));
    }
    for c in &fleet.clusters {
        println!("{}\t{}\t{:?}", c.name, c.server_url(), c.shape);
    }
    // the fake GitHub API of the nightly matrix: `[nightly] api = "<this>"`, `enabled = true`
    let github = match kst_sim::github::FakeGithub::start(args.seed).await {
        Ok(g) => g,
        Err(e) => return fail(exit::ERROR, format!("sim: cannot start the fake GitHub API: {e}")),
    };
    println!("admin\thttp://{admin}");
    println!("github\t{}", github.base_url());
    // with a hub: where OCM's cluster-proxy answers, for [fleet] cluster_proxy
    if let Some(url) = fleet.cluster_proxy_url() {
        println!("cluster-proxy\t{url}");
    }
    println!("kubeconfig\t{}", args.kubeconfig_out.display());
    println!("ready in {} ms", started.elapsed().as_millis());
    let signo = wait_for_signal().await;
    fleet.shutdown();
    // the simulator's normal end is a signal: Ctrl-C is success, others say which
    if signo == 2 {
        ExitCode::from(exit::OK)
    } else {
        signal_exit(signo)
    }
}
