//! Collectors: one supervised task per cluster, feeding the fleet store by message.

pub mod alertmanager;
pub mod backoff;
pub mod cluster;
pub mod connect;
pub mod exposition;
pub mod fabric;
pub mod fold;
pub mod get;
pub mod gpu_resources;
pub mod gpus;
pub mod jobs;
pub mod kagenti;
pub mod listwatch;
pub mod llmd;
pub mod mcp;
pub mod metrics;
pub mod nightly;
pub mod nodes;
pub mod options;
pub mod paced;
pub mod placement;
pub mod prom;
pub mod quantity;
pub mod records;
pub mod reports;
pub mod slim;
pub mod views;
pub mod watchset;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use connect::Target;
pub use options::{EngineSource, WorkerOptions};

use crate::store::Update;

/// Bounded: a flood of updates slows the collectors that send it, never grows memory.
pub const UPDATE_CHANNEL: usize = 1024;

pub struct Collectors {
    pub updates: mpsc::Receiver<Update>,
    /// Every cluster with a running collector: the query layers read their pods.
    scope: std::sync::Arc<prom::Scope>,
    tx: mpsc::Sender<Update>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Collectors {
    pub fn start(targets: &[Target], opts: WorkerOptions) -> Collectors {
        Collectors::start_with(targets, |_| opts.clone())
    }

    /// Options per target (a per-context refresh, say).
    pub fn start_with(targets: &[Target], opts: impl Fn(&Target) -> WorkerOptions) -> Collectors {
        let (tx, updates) = mpsc::channel(UPDATE_CHANNEL);
        let (stop, _) = watch::channel(false);
        let scope =
            std::sync::Arc::new(prom::Scope::of(&targets.iter().map(|t| t.context.clone()).collect::<Vec<_>>()));
        let tasks = targets
            .iter()
            .enumerate()
            .map(|(i, t)| tokio::spawn(cluster::run(i, t.clone(), tx.clone(), opts(t), stop.subscribe())))
            .collect();
        Collectors { updates, scope, tx, stop, tasks }
    }

    /// A channel for clusters dialed after start: each (index, target) gets its own collector,
    /// stopped with the others.
    pub fn dialer(&mut self, opts: WorkerOptions) -> mpsc::UnboundedSender<(usize, Target)> {
        let (dial, mut rx) = mpsc::unbounded_channel::<(usize, Target)>();
        let (tx, stop, scope) = (self.tx.clone(), self.stop.subscribe(), self.scope.clone());
        self.tasks.push(tokio::spawn(async move {
            let mut running = Vec::new();
            while let Some((i, t)) = rx.recv().await {
                scope.add(i, &t.context);
                running.push(AbortOnDrop(tokio::spawn(cluster::run(i, t, tx.clone(), opts.clone(), stop.clone()))));
            }
        }));
        dial
    }

    /// Lists the MCP servers of the config (outside the clusters) on an interval.
    pub fn start_external(&mut self, endpoints: Vec<fabric::ExternalEndpoint>, every: std::time::Duration) {
        if !endpoints.is_empty() {
            self.tasks.push(tokio::spawn(fabric::run_external(endpoints, self.tx.clone(), every)));
        }
    }

    /// Reads model-server metrics from the Prometheus-compatible query layers every `refresh`
    /// (one task each; `covered` says which clusters each serves, the first listed winning):
    /// per pod for the clusters with a running collector, now or dialed later; per cluster for
    /// every cluster the layer holds.
    /// `pace.window` of the engines' samples is asked back at the first read, so rates exist at once.
    pub fn start_prom(&mut self, cfgs: Vec<prom::PromConfig>, covered: prom::Covered, pace: prom::Pace) {
        for (source, cfg) in cfgs.into_iter().enumerate() {
            let run = prom::run(source, cfg, self.scope.clone(), covered.clone(), self.tx.clone(), pace);
            self.tasks.push(tokio::spawn(run));
        }
    }

    /// Reads each configured Alertmanager every `refresh`; the senders take the silences the
    /// user confirms (one per Alertmanager, in the config's order), each audited to `audit`.
    pub fn start_alertmanagers(
        &mut self,
        cfgs: Vec<alertmanager::AlertmanagerConfig>,
        refresh: std::time::Duration,
        audit: std::path::PathBuf,
    ) -> Vec<mpsc::UnboundedSender<alertmanager::SilenceRequest>> {
        let mut senders = Vec::new();
        for (index, cfg) in cfgs.into_iter().enumerate() {
            let (tx, rx) = mpsc::unbounded_channel();
            let run = alertmanager::run(index, cfg, refresh, self.tx.clone(), rx, audit.clone());
            self.tasks.push(tokio::spawn(run));
            senders.push(tx);
        }
        senders
    }

    /// Reads the benchmark reports directory now and again every minute (files come and go;
    /// only new or changed ones are parsed).
    pub fn start_reports(&mut self, dir: Option<std::path::PathBuf>) {
        let Some(dir) = dir else { return };
        let tx = self.tx.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            // files that did not change are not read or parsed again
            let cache = std::sync::Arc::new(std::sync::Mutex::new(reports::ParseCache::new()));
            loop {
                tick.tick().await;
                let (d, c) = (dir.clone(), cache.clone());
                let reports = tokio::task::spawn_blocking(move || {
                    let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
                    reports::load_dir_cached(&d, &mut c)
                })
                .await
                .unwrap_or_default();
                if tx.send(crate::store::Update::Fleet(crate::store::FleetUpdate::Reports { reports })).await.is_err() {
                    return;
                }
            }
        }));
    }

    /// Reads the nightly matrix on its interval (or says why it is off).
    pub fn start_nightly(&mut self, cfg: Result<nightly::NightlyConfig, String>) {
        match cfg {
            Ok(cfg) => self.tasks.push(tokio::spawn(nightly::run(cfg, self.tx.clone()))),
            Err(why) => {
                let state = crate::store::nightly::NightlyState { disabled: Some(why), ..Default::default() };
                let _ = self.tx.try_send(crate::store::Update::Fleet(crate::store::FleetUpdate::Nightly { state }));
            }
        }
    }

    /// Another sender into the same update stream (the actions task answers this way).
    pub fn sender(&self) -> mpsc::Sender<Update> {
        self.tx.clone()
    }

    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for Collectors {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A spawned task that stops when its owner is dropped (a collector that ends, a listing that
/// times out), so no task outlives what it worked for.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The API resource of a kind: `group/version` (or `version` for the core group), kind and plural.
pub fn api(group: &str, version: &str, kind: &str, plural: &str) -> kube::api::ApiResource {
    kube::api::ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() { version.into() } else { format!("{group}/{version}") },
        kind: kind.into(),
        plural: plural.into(),
    }
}
