//! The fleet state: one owner (the UI loop, or `kst snapshot`), fed by the collectors'
//! `Update` messages. Panes and the snapshot JSON read the same `Fleet`.

pub mod alerts;
pub mod cluster_state;
pub mod gpus;
pub mod hub;
pub mod jobs;
pub mod kagenti;
pub mod kagenti_cluster;
pub mod llmd;
pub mod models;
pub mod moving;
pub mod nightly;
pub mod pane;
pub mod placed;
pub mod placement;
pub mod posture;
pub mod problems;
pub mod rates;
pub mod reports;
pub mod ring;
pub mod rules;
pub mod selector;
pub mod slo;
pub mod tools;
pub mod topology;
pub mod views;
pub mod whatif;

use std::time::SystemTime;

pub use cluster_state::*;
pub use ring::Ring;
pub use summary::*;
pub use update::*;

mod summary;
mod update;

/// The clusters seen only through a hub, shared between the frame and the rules.
pub type HubClusters = std::sync::Arc<Vec<hub::HubCluster>>;

#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub clusters: Vec<ClusterState>,
    /// The Prometheus-compatible query layers that have reported, by their place in the config.
    pub prom: std::collections::BTreeMap<usize, PromState>,
    /// The roll-up per cluster (by context or hub name), from the first query layer holding it.
    pub prom_clusters: std::collections::BTreeMap<String, hub::ClusterAgg>,
    /// Each query layer's own roll-ups, which `prom_clusters` merges.
    prom_clusters_by: std::collections::BTreeMap<usize, std::collections::BTreeMap<String, hub::ClusterAgg>>,
    /// MCP servers from the config, outside any cluster.
    pub external_tools: Vec<tools::ToolServer>,
    pub nightly: nightly::NightlyState,
    pub reports: reports::Reports,
    /// How metric samples are read (rate window, staleness limits).
    pub metrics: rates::MetricsPolicy,
    /// Samples kept per series: enough to cover the window.
    pub samples_kept: usize,
    /// A cluster whose API server takes longer than this (smoothed) is `slow`.
    pub slow_after_ms: u64,
    /// Every problem of the fleet, held over time (`evaluate_problems`).
    pub problems: problems::Tracker,
    /// The config's `[[slo]]` entries.
    pub slos: Vec<slo::Slo>,
    /// `[cost] gpu_hour`: dollars per GPU-hour by GPU product.
    pub gpu_prices: std::collections::BTreeMap<String, f64>,
    /// The configured Alertmanagers as last read (`[[alertmanager]]`).
    pub alertmanagers: Vec<alerts::AlertmanagerState>,
    /// How long metric rules' conditions had held when a query layer was asked; an entry goes
    /// once its condition is seen gone (it dates only the run it describes).
    pub rule_history: rules::History,
    /// Bumped when what the hub clusters are made of changes through `apply`: a hub's
    /// ManagedClusters or sets, the query layers' roll-ups, the contexts.
    hub_version: u64,
    /// `hub::clusters` as last built, with the stamp of what it was built from.
    hub_cache: std::cell::RefCell<Option<(Vec<usize>, HubClusters)>>,
    /// `placement::views` as last built, with the stamp of what it was built from.
    placement_cache: std::cell::RefCell<Option<(Vec<usize>, PlacementViews)>>,
}

/// Every policy of every WDS joined with its ITS (`placement::views`), shared by the panes, the
/// rules and the snapshot.
pub type PlacementViews = std::sync::Arc<Vec<placement::PolicyView>>;

impl Fleet {
    /// The fleet read at `now` (unix seconds) with its metrics policy.
    pub fn reading(&self, now: f64) -> rates::Reading {
        self.metrics.at(now)
    }

    /// Sets the refresh interval and the configured window the metrics are read with.
    pub fn set_metrics(&mut self, refresh: f64, window: Option<f64>, hide_intervals: Option<f64>) {
        self.metrics = rates::MetricsPolicy::new(refresh, window, hide_intervals);
        self.samples_kept = self.metrics.samples_needed(refresh);
    }

    pub fn new(targets: &[(String, String)]) -> Self {
        Fleet {
            clusters: targets.iter().map(|(ctx, server)| ClusterState::new(ctx, server)).collect(),
            prom: Default::default(),
            prom_clusters: Default::default(),
            prom_clusters_by: Default::default(),
            external_tools: Vec::new(),
            nightly: nightly::NightlyState {
                disabled: Some("the nightly matrix is not being read (see [nightly] in the config)".into()),
                ..Default::default()
            },
            reports: reports::Reports {
                problem: Some("no reports_dir in the config: point it at llm-d-benchmark reports".into()),
                ..Default::default()
            },
            metrics: rates::MetricsPolicy::default(),
            samples_kept: llmd::SAMPLES_KEPT,
            slow_after_ms: 2000,
            problems: problems::Tracker::new(),
            slos: Vec::new(),
            gpu_prices: Default::default(),
            alertmanagers: Vec::new(),
            rule_history: Default::default(),
            hub_version: 0,
            hub_cache: Default::default(),
            placement_cache: Default::default(),
        }
    }

    /// `placement::views` built once per change of the placement objects: at 200 policies and
    /// 12,000 ManifestWorks one build takes about 100 ms, and a frame, a key and the rules'
    /// tick each asked for it (#27). The stamp is the version `apply` keeps (a Placement update
    /// that changes anything bumps it), with the sizes of each context's parts (a test that
    /// sets fields directly).
    pub fn placement_views(&self) -> PlacementViews {
        let mut stamp = vec![self.hub_version as usize, self.clusters.len()];
        for c in &self.clusters {
            let p = &c.placement;
            let n = |v: Option<usize>| v.unwrap_or(usize::MAX);
            stamp.extend([
                n(p.policies.as_ref().map(Vec::len)),
                n(p.bindings.as_ref().map(Vec::len)),
                n(p.managed.as_ref().map(Vec::len)),
                n(p.works.as_ref().map(Vec::len)),
                n(p.reports.as_ref().map(Vec::len)),
                n(p.objects.as_ref().map(Vec::len)),
                n(p.controllers.as_ref().map(Vec::len)),
            ]);
        }
        if let Some((have, built)) = self.placement_cache.borrow().as_ref() {
            if *have == stamp {
                return built.clone();
            }
        }
        let contexts: Vec<(&str, &placement::PlacementCluster)> =
            self.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect();
        let built = std::sync::Arc::new(placement::views(&contexts));
        *self.placement_cache.borrow_mut() = Some((stamp, built.clone()));
        built
    }

    /// The clusters seen only through a hub (`hub::clusters`), built once per change of what
    /// they are made of: a frame and a rule evaluation each read them several times, and at
    /// 10,000 ManagedClusters each build cost 40 % of kst's CPU (#28). The stamp is the
    /// version `apply` keeps, with the sizes of its inputs (a test that sets fields directly).
    pub fn hub_clusters(&self) -> HubClusters {
        let mut stamp = vec![self.hub_version as usize, self.clusters.len(), self.prom_clusters.len()];
        stamp.extend(self.clusters.iter().map(|c| c.placement.managed.as_ref().map_or(usize::MAX, Vec::len)));
        if let Some((have, built)) = self.hub_cache.borrow().as_ref() {
            if *have == stamp {
                return built.clone();
            }
        }
        let built = std::sync::Arc::new(hub::clusters(self));
        *self.hub_cache.borrow_mut() = Some((stamp, built.clone()));
        built
    }

    /// The placement objects were changed in place (not through `apply`, which says so
    /// itself): what was derived from them is built again when next asked.
    pub fn placement_changed(&mut self) {
        self.hub_version += 1;
    }

    /// A cluster dialed after start (a hub cluster reached through its proxy): its index.
    pub fn add_cluster(&mut self, context: &str, server: &str, via: String) -> usize {
        let mut c = ClusterState::new(context, server);
        c.via = Some(via);
        self.clusters.push(c);
        self.hub_version += 1;
        self.clusters.len() - 1
    }

    /// Derives the conditions that hold at `now` and folds them into the problem list; true
    /// when the list changed. Called on a timer (each second in the TUI), not per update.
    pub fn evaluate_problems(&mut self, now: f64) -> bool {
        let mut evaluation = rules::evaluate(self, now);
        // kst's own problems an Alertmanager silence covers (matched on the labels `kst rules`
        // gives them)
        if self.alertmanagers.iter().any(|a| a.silences.as_ref().is_some_and(|s| !s.is_empty())) {
            for c in evaluation.conditions.iter_mut().filter(|c| c.silenced.is_none()) {
                let context = c.cluster.and_then(|i| self.clusters.get(i)).map(|x| x.context.as_str());
                let labels = alerts::labels_of(c.kind, c.severity, context, &c.object);
                c.silenced = alerts::silence_for(&self.alertmanagers, &labels).map(alerts::silence_text);
            }
        }
        if !self.rule_history.is_empty() {
            // a history dates only the run it saw: once its condition is seen gone, it is dropped
            let held: std::collections::HashSet<(&str, usize, &str, &str)> = evaluation
                .conditions
                .iter()
                .filter_map(|c| Some((c.kind.id, c.cluster?, c.object.namespace.as_str(), c.object.name.as_str())))
                .collect();
            let blind: std::collections::HashSet<(usize, &str, &str)> = evaluation
                .blind
                .iter()
                .filter_map(|b| {
                    Some((b.cluster?, b.object.as_ref()?.namespace.as_str(), b.object.as_ref()?.name.as_str()))
                })
                .collect();
            let whole_blind: std::collections::HashSet<usize> = evaluation
                .blind
                .iter()
                .filter(|b| b.object.is_none() && b.sight == problems::Sight::Metrics)
                .filter_map(|b| b.cluster)
                .collect();
            self.rule_history.retain(|k, _| {
                held.contains(&(k.0, k.1, k.2.as_str(), k.3.as_str()))
                    || whole_blind.contains(&k.1)
                    || blind.contains(&(k.1, k.2.as_str(), k.3.as_str()))
            });
        }
        self.problems.update(now, evaluation)
    }

    /// Applies one update; true when anything visible changed.
    pub fn apply(&mut self, u: Update) -> bool {
        match u {
            Update::Fleet(f) => self.apply_fleet(f),
            u => self.apply_cluster(u),
        }
    }

    fn apply_fleet(&mut self, u: FleetUpdate) -> bool {
        match u {
            FleetUpdate::ExternalTools { servers } => set_if_changed(&mut self.external_tools, servers),
            FleetUpdate::Nightly { state } => set_if_changed(&mut self.nightly, state),
            FleetUpdate::Reports { reports } => set_if_changed(&mut self.reports, reports),
            FleetUpdate::Prom { source, state } => {
                let changed = self.prom.get(&source).map(|p| (&p.error, &p.warnings, &p.covered))
                    != Some((&state.error, &state.warnings, &state.covered));
                self.prom.insert(source, state);
                changed
            }
            FleetUpdate::PromClusters { source, rows } => {
                self.prom_clusters_by.insert(source, rows);
                // a cluster two query layers hold: the first listed's numbers
                let mut merged = std::collections::BTreeMap::new();
                for rows in self.prom_clusters_by.values() {
                    for (name, row) in rows {
                        merged.entry(name.clone()).or_insert_with(|| row.clone());
                    }
                }
                let changed = set_if_changed(&mut self.prom_clusters, merged);
                self.hub_version += changed as u64;
                changed
            }
            FleetUpdate::Alertmanager { index, state } => {
                if self.alertmanagers.len() <= index {
                    self.alertmanagers.resize(index + 1, Default::default());
                }
                set_if_changed(&mut self.alertmanagers[index], state)
            }
            // the UI's own request: the dialog takes the answer
            FleetUpdate::SilenceDone { .. } => false,
            FleetUpdate::RuleHistory { rows, .. } => {
                for r in rows {
                    self.rule_history.insert((r.kind, r.cluster, r.namespace.clone(), r.name.clone()), r);
                }
                // no redraw of its own: the next evaluation dates the problems
                false
            }
        }
    }

    fn apply_cluster(&mut self, u: Update) -> bool {
        let now = SystemTime::now();
        let (keep, policy, slow_after) = (self.samples_kept, self.metrics, self.slow_after_ms);
        let Some(index) = u.cluster() else { return false };
        let Some(c) = self.clusters.get_mut(index) else {
            return false;
        };
        match u {
            Update::Conn { conn, .. } => c.set_conn(conn),
            Update::Health { version, latency_ms, .. } => c.record_health(now, version, latency_ms, slow_after),
            Update::Nodes { nodes, .. } => {
                c.last_ok = Some(now);
                set_if_changed(&mut c.nodes, Some(nodes))
            }
            Update::Forbidden { resource, forbidden, .. } => c.set_forbidden(resource, forbidden, slow_after),
            Update::Malformed { resource, count, .. } => c.malformed.insert(resource, count) != Some(count),
            Update::Autoscalers { list, .. } => set_if_changed(&mut c.llmd.autoscalers, list),
            Update::PoolImports { list, .. } => set_if_changed(&mut c.llmd.imports, list),
            Update::LlmdObjects { installed, pools, objectives, servers, .. } => {
                c.llmd.set_objects(llmd::Objects { installed, pools, objectives, servers }, keep)
            }
            Update::EngineScrape { server, at, result, .. } => {
                c.llmd.record_engine(server, at, result, keep, policy.window);
                // drawn when the round closes
                false
            }
            Update::EppScrape { pool, at, result, .. } => {
                let series = c.llmd.epp.entry(pool).or_insert_with(|| llmd::Scraped::keeping(keep));
                series.record(at, result);
                series.thin_before(at - policy.window);
                false
            }
            Update::EppQueried { namespace, service, at, result, .. } => {
                c.llmd.record_epp_queried(&namespace, &service, at, result, keep, policy.window);
                false
            }
            Update::ScrapeRound { at, .. } => {
                c.llmd.close_round(at, &policy.at(at));
                true
            }
            Update::GpuExporters { count, .. } => set_if_changed(&mut c.gpus.exporters, Some(count)),
            Update::GpuScrape { node, at, result, .. } => {
                c.gpus.record(node, at, result);
                true
            }
            Update::GpuVia { via, .. } => set_if_changed(&mut c.gpus.via, Some(via)),
            Update::GpuPending { pods, .. } => set_if_changed(&mut c.gpus.pending, Some(pods)),
            Update::Cost { at, result, .. } => {
                let changed = c.gpus.cost.as_ref().map(|k| &k.result) != Some(&result);
                c.gpus.cost = Some(gpus::NodeCost { at, result });
                changed
            }
            Update::Kagenti { brands, agents, builds, .. } => c.kagenti.set_objects(brands, agents, builds, index),
            Update::KagentiCard { agent, state, .. } => {
                let old = c.kagenti.cards.insert(agent, state.clone());
                old != Some(state)
            }
            Update::Platform { status, .. } => set_if_changed(&mut c.kagenti.platform, Some(status)),
            Update::Tools { servers, .. } => c.kagenti.set_then_rederive(index, |k| &mut k.tools, Some(servers)),
            Update::AuthBridge { stats, .. } => c.kagenti.set_then_rederive(index, |k| &mut k.authbridge, stats),
            Update::Rbac { rbac, .. } => c.kagenti.set_then_rederive(index, |k| &mut k.rbac, Some(rbac)),
            Update::Baseline { baseline, path, .. } => {
                c.kagenti.baseline_path = Some(path);
                c.kagenti.set_then_rederive(index, |k| &mut k.baseline, baseline)
            }
            Update::Jobs { jobs, .. } => set_if_changed(&mut c.jobs, jobs),
            Update::Placement { placement, .. } => {
                let changed = set_if_changed(&mut c.placement, placement);
                self.hub_version += changed as u64;
                changed
            }
            // answers to the UI's own requests: the App handles them, the fleet has no part
            Update::ToggleChecked { .. }
            | Update::ShellChecked { .. }
            | Update::ForwardChecked { .. }
            | Update::Forwarding { .. }
            | Update::ToggleDone { .. }
            | Update::MoveChecked { .. }
            | Update::MovePatched { .. }
            | Update::ViewPods { .. }
            | Update::ViewObjects { .. }
            | Update::ViewPod { .. }
            | Update::ViewLog { .. }
            | Update::ViewText { .. }
            | Update::ViewError { .. }
            | Update::Fleet(_) => false,
        }
    }

    /// Fleet totals. Only clusters that answer now count; the others' last numbers are
    /// theirs to show (with their age), and are counted as `stale`.
    pub fn summary(&self) -> FleetSummary {
        let mut s = FleetSummary { clusters: self.clusters.len(), ..Default::default() };
        for c in &self.clusters {
            match c.conn {
                Conn::Live => s.live += 1,
                Conn::Degraded(_) => s.degraded += 1,
                Conn::Slow(_) => s.slow += 1,
                Conn::Connecting => s.connecting += 1,
                _ => s.down += 1,
            }
            match (&c.nodes, c.conn.reachable()) {
                (Some(n), true) => {
                    s.counted += 1;
                    s.nodes += n.total;
                    s.nodes_ready += n.ready;
                    s.gpus_allocatable += n.gpus_allocatable;
                    s.gpus_total += n.gpus_total;
                }
                (Some(_), false) => s.stale += 1,
                (None, _) => {}
            }
        }
        s
    }
}

/// Puts `v` in `slot`; true when that changed it (what the store reports as a redraw).
pub fn set_if_changed<T: PartialEq>(slot: &mut T, v: T) -> bool {
    if *slot == v {
        return false;
    }
    *slot = v;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Fleet {
        Fleet::new(&[("a".into(), "https://a".into()), ("b".into(), "https://b".into())])
    }

    #[test]
    fn two_query_layers_each_report_and_a_cluster_both_hold_takes_the_first_s_roll_up() {
        let mut f = fleet();
        let row = |kv: f64| hub::ClusterAgg { kv_avg: Some(kv), ..Default::default() };
        let rows = |list: &[(&str, f64)]| list.iter().map(|(n, kv)| (n.to_string(), row(*kv))).collect();
        // the second listed answers first; then the first arrives and wins the cluster both hold
        assert!(
            f.apply(Update::Fleet(FleetUpdate::PromClusters { source: 1, rows: rows(&[("eu", 0.2), ("us", 0.9)]) }))
        );
        assert_eq!(f.prom_clusters["us"].kv_avg, Some(0.9));
        assert!(f.apply(Update::Fleet(FleetUpdate::PromClusters { source: 0, rows: rows(&[("us", 0.4)]) })));
        assert_eq!((f.prom_clusters["us"].kv_avg, f.prom_clusters["eu"].kv_avg), (Some(0.4), Some(0.2)));
        // the first stops holding it: the second's numbers again, nothing lost
        assert!(f.apply(Update::Fleet(FleetUpdate::PromClusters { source: 0, rows: rows(&[]) })));
        assert_eq!(f.prom_clusters["us"].kv_avg, Some(0.9));
        assert!(
            !f.apply(Update::Fleet(FleetUpdate::PromClusters { source: 0, rows: rows(&[]) })),
            "a repeat is no change"
        );

        let ok = PromState { url: "http://thanos".into(), took_ms: Some(12), ..Default::default() };
        f.apply(Update::Fleet(FleetUpdate::Prom { source: 0, state: ok.clone() }));
        assert_eq!(sources_line(&f.prom).as_deref(), Some("metrics via http://thanos · 12 ms"), "one: its own line");
        f.apply(Update::Fleet(FleetUpdate::Prom {
            source: 1,
            state: PromState::failed("http://mimir", "cannot connect to http://mimir".into()),
        }));
        assert_eq!(
            sources_line(&f.prom).as_deref(),
            Some("metrics via 2 query layers · http://mimir · cannot connect to http://mimir"),
            "several: how many, and the one failing named"
        );
        f.apply(Update::Fleet(FleetUpdate::Prom { source: 1, state: PromState { url: "http://mimir".into(), ..ok } }));
        assert_eq!(sources_line(&f.prom).as_deref(), Some("metrics via 2 query layers"));
    }

    #[test]
    fn health_makes_a_cluster_live_and_repeats_are_not_changes() {
        let mut f = fleet();
        assert_eq!(f.clusters[0].conn, Conn::Connecting);
        assert!(f.apply(Update::Health { cluster: 0, version: "v1.31.2".into(), latency_ms: 4 }));
        assert_eq!(f.clusters[0].conn, Conn::Live);
        assert!(!f.apply(Update::Health { cluster: 0, version: "v1.31.2".into(), latency_ms: 4 }));
        assert!(
            !f.apply(Update::Health { cluster: 0, version: "v1.31.2".into(), latency_ms: 5 }),
            "a wobble is not a change"
        );
        let nodes = NodeSummary { total: 3, ready: 3, gpus_allocatable: 15, gpus_total: 16, ..Default::default() };
        assert!(f.apply(Update::Nodes { cluster: 0, nodes: nodes.clone() }));
        assert!(!f.apply(Update::Nodes { cluster: 0, nodes }));
        assert!(!f.apply(Update::Nodes { cluster: 9, nodes: NodeSummary::default() }), "unknown cluster ignored");
        let s = f.summary();
        assert_eq!((s.live, s.connecting, s.gpus_allocatable, s.gpus_total), (1, 1, 15, 16));
        // a cluster that stops answering leaves the totals, and is said to be stale
        f.apply(Update::Nodes { cluster: 1, nodes: NodeSummary { total: 2, ready: 2, ..Default::default() } });
        f.apply(Update::Health { cluster: 1, version: "v1".into(), latency_ms: 4 });
        assert_eq!((f.summary().nodes, f.summary().scope()), (5, "of 2 clusters".to_string()));
        f.apply(Update::Conn {
            cluster: 1,
            conn: Conn::Unreachable { error: "refused".into(), since: SystemTime::now() },
        });
        let s = f.summary();
        assert_eq!((s.nodes, s.counted, s.stale, s.scope().as_str()), (3, 1, 1, "of 1 cluster; 1 stale"));
    }

    /// The placement views are built once per change: asked again with nothing changed, the
    /// same build comes back; a Placement update that changes something builds them anew.
    #[test]
    fn placement_views_are_built_once_per_change() {
        let mut f = fleet();
        let policies = |names: &[&str]| placement::PlacementCluster {
            policies: Some(
                names.iter().map(|n| placement::Policy { name: n.to_string(), ..Default::default() }).collect(),
            ),
            ..Default::default()
        };
        f.apply(Update::Placement { cluster: 0, placement: policies(&["a"]) });
        let first = f.placement_views();
        assert!(std::sync::Arc::ptr_eq(&first, &f.placement_views()), "nothing changed: the same build");
        f.apply(Update::Placement { cluster: 0, placement: policies(&["a"]) });
        assert!(std::sync::Arc::ptr_eq(&first, &f.placement_views()), "the same objects again: no change");
        f.apply(Update::Placement { cluster: 0, placement: policies(&["b"]) });
        let names: Vec<String> = f.placement_views().iter().map(|v| v.policy.name.clone()).collect();
        assert_eq!(names, ["b"], "a renamed policy is seen at once");
    }

    #[test]
    fn a_query_layer_s_sample_that_comes_before_the_pod_list_is_kept_for_it() {
        let mut f = fleet();
        let key = ("llm-d".to_string(), "d0".to_string());
        let sample = llmd::EngineSample { kv_usage: Some(0.97), ..Default::default() };
        // the layer's history of it (and a current sample that came first): all of it is kept
        for at in [100.0, 40.0, 70.0] {
            f.apply(Update::EngineScrape { cluster: 0, server: key.clone(), at, result: Ok(sample.clone()) });
        }
        f.apply(Update::EngineScrape {
            cluster: 0,
            server: ("llm-d".into(), "not-a-server".into()),
            at: 100.0,
            result: Ok(Default::default()),
        });
        assert!(f.clusters[0].llmd.metrics.is_empty(), "not listed yet");
        let server = llmd::ServerInfo::decode_for_test("d0", "Running");
        f.apply(Update::LlmdObjects {
            cluster: 0,
            installed: Some(true),
            pools: vec![],
            objectives: vec![],
            servers: vec![server],
        });
        let l = &f.clusters[0].llmd;
        assert_eq!(l.metrics[&key].latest().map(|s| (s.at, s.v.kv_usage)), Some((100.0, Some(0.97))));
        let times: Vec<f64> = l.metrics[&key].samples.iter().map(|s| s.at).collect();
        assert_eq!(times, [40.0, 70.0, 100.0], "the whole history, in time order");
        assert_eq!(l.metrics.len(), 1, "the sample of a pod that is no model server is dropped");
        assert!(l.early.is_empty());
    }

    #[test]
    fn the_latency_shown_agrees_with_slow_and_live() {
        let mut f = fleet();
        for _ in 0..4 {
            f.apply(Update::Health { cluster: 0, version: "v1".into(), latency_ms: 5 });
        }
        f.apply(Update::Health { cluster: 0, version: "v1".into(), latency_ms: 4100 });
        f.apply(Update::Health { cluster: 0, version: "v1".into(), latency_ms: 4100 });
        let c = &f.clusters[0];
        assert!(matches!(c.conn, Conn::Slow(_)));
        assert_eq!(
            c.latency_text().as_deref(),
            Some("4100ms"),
            "slow says a slow latency, not the fast median before it"
        );
        f.apply(Update::Health { cluster: 0, version: "v1".into(), latency_ms: 6 });
        let c = &f.clusters[0];
        assert_eq!((c.conn.clone(), c.latency_text().as_deref()), (Conn::Live, Some("<10ms")), "and live a fast one");
        assert_eq!((f.summary().slow, f.summary().degraded), (0, 0));
    }

    #[test]
    fn unreachable_keeps_its_first_time_and_forbidden_degrades() {
        let mut f = fleet();
        let t0 = SystemTime::UNIX_EPOCH;
        f.apply(Update::Conn { cluster: 1, conn: Conn::Unreachable { error: "refused".into(), since: t0 } });
        f.apply(Update::Conn {
            cluster: 1,
            conn: Conn::Unreachable { error: "timeout".into(), since: SystemTime::now() },
        });
        assert_eq!(f.clusters[1].conn, Conn::Unreachable { error: "timeout".into(), since: t0 });
        f.apply(Update::Health { cluster: 0, version: "v1".into(), latency_ms: 1 });
        assert!(f.apply(Update::Forbidden { cluster: 0, resource: "nodes".into(), forbidden: true }));
        assert!(matches!(f.clusters[0].conn, Conn::Degraded(ref s) if s.contains("nodes")));
        f.apply(Update::Forbidden { cluster: 0, resource: "nodes".into(), forbidden: false });
        assert_eq!(f.clusters[0].conn, Conn::Live);
    }
}
