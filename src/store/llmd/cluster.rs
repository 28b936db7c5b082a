//! One cluster's llm-d state: the watchers' lists, the scrapes kept per pod and pool, the
//! throughput series; how updates change it and the views read from it.

use std::collections::BTreeMap;

use super::*;

/// Everything kst knows about LLM-d on one cluster.
#[derive(Debug, Clone, Default)]
pub struct LlmdCluster {
    /// None until discovery answered; false: no InferencePool API on this cluster.
    pub installed: Option<bool>,
    pub pools: Vec<PoolInfo>,
    /// The llm-d-managed autoscalers (WVA).
    pub autoscalers: Vec<Autoscaler>,
    /// Pools other clusters export that this one imports.
    pub imports: Vec<PoolImport>,
    pub objectives: Vec<ObjectiveInfo>,
    pub servers: Vec<ServerInfo>,
    pub metrics: BTreeMap<Key, Scraped<EngineSample>>,
    pub epp: BTreeMap<Key, Scraped<EppSample>>,
    /// Per pool: (prefill tokens/s, decode tokens/s) after each scrape round.
    pub throughput: BTreeMap<Key, Ring<Timed<(f64, f64)>>>,
    pub last_round: Option<f64>,
    /// When the first scrape round ended: how much history there is.
    pub first_round: Option<f64>,
    /// Scrape rounds completed: rates need two.
    pub rounds: u64,
    /// A query layer's samples of a pod kst's watch has not listed yet (the layer may answer
    /// first at start, its history too: every sample of the window asked back, in time order,
    /// at most `SAMPLES_KEPT`): kept until the pod is listed (then recorded) or the list says
    /// it is no model server (then dropped), so the first frame need not wait a scrape
    /// interval and its rates read the layer's whole window.
    pub early: BTreeMap<Key, Vec<EarlySample>>,
    /// Rates and histograms of each server as last computed, with the sample and window they
    /// were computed for: they change only when a scrape lands, not each frame.
    view_cache: std::cell::RefCell<BTreeMap<Key, (ViewStamp, ServerView)>>,
}

/// What a cached server view was computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ViewStamp {
    latest: f64,
    window: f64,
    detail: Detail,
}

/// What the llm-d watchers list of a cluster, all at once.
pub struct Objects {
    /// None: the API server has not answered for the pool APIs yet.
    pub installed: Option<bool>,
    pub pools: Vec<PoolInfo>,
    pub objectives: Vec<ObjectiveInfo>,
    pub servers: Vec<ServerInfo>,
}

impl LlmdCluster {
    /// The watchers' lists; true when they changed. Metrics of pods and pools that are gone
    /// are forgotten (memory follows the fleet); what a query layer said of pods before they
    /// were listed is kept for them.
    pub fn set_objects(&mut self, o: Objects, keep: usize) -> bool {
        let Objects { installed, pools, objectives, servers } = o;
        if self.installed == installed
            && self.pools == pools
            && self.servers == servers
            && self.objectives == objectives
        {
            return false;
        }
        self.objectives = objectives;
        // what a query layer said of these pods before they were listed (the rest waits while
        // the lists are not complete, and goes once they are)
        for (key, samples) in std::mem::take(&mut self.early) {
            if servers.iter().any(|s| s.key() == key) {
                let held = self.metrics.entry(key).or_insert_with(|| Scraped::keeping(keep));
                for (at, result) in samples {
                    held.record(at, result);
                }
            } else if installed.is_none() {
                self.early.insert(key, samples);
            }
        }
        self.metrics.retain(|k, _| servers.iter().any(|s| s.key() == *k));
        self.prune_cache();
        self.epp.retain(|k, _| pools.iter().any(|p| p.key() == *k));
        self.throughput.retain(|k, _| pools.iter().any(|p| p.key() == *k));
        self.installed = installed;
        self.pools = pools;
        self.servers = servers;
        true
    }

    /// One model server's scrape (direct, or its series from a query layer).
    /// `window`: what the rates are read over; older samples are thinned (`Thin`).
    pub fn record_engine(
        &mut self,
        server: Key,
        at: f64,
        result: Result<EngineSample, ScrapeError>,
        keep: usize,
        window: f64,
    ) {
        // a pod the query layer knows before kst's watch does: kept until it is listed
        if !self.servers.iter().any(|s| s.namespace == server.0 && s.name == server.1) {
            if self.installed.is_none() {
                let held = self.early.entry(server).or_default();
                // in time order: a current sample may come before the history asked back
                let i = held.partition_point(|(t, _)| *t <= at);
                held.insert(i, (at, result));
                if held.len() > SAMPLES_KEPT {
                    held.drain(..1);
                }
            }
            return;
        }
        let series = self.metrics.entry(server).or_insert_with(|| Scraped::keeping(keep));
        series.record(at, result);
        series.thin_before(at - window);
    }

    /// An endpoint picker's series from a query layer, by its Service: kept under its pool.
    pub fn record_epp_queried(
        &mut self,
        namespace: &str,
        service: &str,
        at: f64,
        result: Result<EppSample, ScrapeError>,
        keep: usize,
        window: f64,
    ) {
        let pool = self.pools.iter().find(|p| p.namespace == namespace && p.epp_service.as_deref() == Some(service));
        if let Some(pool) = pool.map(|p| p.key()) {
            let series = self.epp.entry(pool).or_insert_with(|| Scraped::keeping(keep));
            series.record(at, result);
            series.thin_before(at - window);
        }
    }

    /// A scrape round closed at `at`: each pool's throughput gets its point.
    pub fn close_round(&mut self, at: f64, reading: &Reading) {
        // rounds asked back from a query layer's history may arrive after a current one
        self.last_round = Some(self.last_round.map_or(at, |t| t.max(at)));
        self.first_round = Some(self.first_round.map_or(at, |t| t.min(at)));
        self.rounds += 1;
        let points: Vec<(Key, (f64, f64))> = self
            .pools
            .iter()
            .filter_map(|p| {
                let v = self.pool_view(p, reading);
                // no point where nothing is known: a gap, not a zero
                (v.prefill_tps.is_some() || v.decode_tps.is_some())
                    .then(|| (p.key(), (v.prefill_tps.unwrap_or(0.0), v.decode_tps.unwrap_or(0.0))))
            })
            .collect();
        for (k, v) in points {
            let series = self.throughput.entry(k).or_insert_with(|| Ring::new(SAMPLES_KEPT));
            // a series in time order: a point older than the newest is not inserted
            if series.last().is_none_or(|p| p.at < at) {
                series.push(Timed { at, v });
            }
        }
    }

    pub fn objectives_of<'a>(&'a self, pool: &'a PoolInfo) -> impl Iterator<Item = &'a ObjectiveInfo> + 'a {
        self.objectives
            .iter()
            .filter(move |o| o.namespace == pool.namespace && o.pool.as_deref() == Some(pool.name.as_str()))
    }

    /// The model a pool serves, in llm-d's label spelling: its servers' `llm-d.ai/model`, else
    /// an objective's or legacy InferenceModel's model name.
    pub fn pool_model_label(&self, pool: &PoolInfo) -> Option<String> {
        self.members(pool).find_map(|s| s.model.as_deref().map(model_label)).or_else(|| {
            self.objectives
                .iter()
                .find(|o| o.namespace == pool.namespace && o.pool.as_deref() == Some(pool.name.as_str()))
                .and_then(|o| o.model.as_deref().map(model_label))
        })
    }

    pub fn members<'a>(&'a self, pool: &'a PoolInfo) -> impl Iterator<Item = &'a ServerInfo> + 'a {
        self.servers
            .iter()
            .filter(move |s| s.namespace == pool.namespace && s.pool.as_deref() == Some(pool.name.as_str()))
    }

    pub fn view(&self, s: &ServerInfo, r: &Reading) -> ServerView {
        self.view_with(s, r, Detail::WithLatency)
    }

    pub fn view_with(&self, s: &ServerInfo, r: &Reading, detail: Detail) -> ServerView {
        let key = s.key();
        let Some(m) = self.metrics.get(&key) else {
            // only a running pod is scraped: one that is not says so, not "yet" forever
            let why = if s.phase.is_empty() || s.phase == "Running" {
                "not scraped yet".to_string()
            } else {
                format!("not scraped: the pod is {}", s.phase)
            };
            return ServerView { freshness: Freshness::Expired, stale: Some(why), ..Default::default() };
        };
        let (freshness, _) = m.freshness(r);
        let stamp = m.latest().map(|l| ViewStamp { latest: l.at, window: r.window, detail });
        if freshness != Freshness::Expired {
            if let (Some(stamp), Some((st, v))) = (stamp, self.view_cache.borrow().get(&key)) {
                if *st == stamp
                    || (st.detail == Detail::WithLatency && st.latest == stamp.latest && st.window == stamp.window)
                {
                    // the numbers are the same; how current they are is read now
                    let (freshness, observed_at) = m.freshness(r);
                    let stale =
                        m.stale_reason(r).or_else(|| (freshness != Freshness::Fresh).then(|| "stale".to_string()));
                    return ServerView { freshness, observed_at, stale, ..v.clone() };
                }
            }
        }
        let v = server_view_with(m, r, detail);
        if let (Some(stamp), true) = (stamp, v.freshness != Freshness::Expired) {
            self.view_cache.borrow_mut().insert(key, (stamp, v.clone()));
        }
        v
    }

    /// Forgets cached views of servers that are gone.
    pub fn prune_cache(&self) {
        self.view_cache.borrow_mut().retain(|k, _| self.metrics.contains_key(k));
    }

    pub fn pool_view(&self, pool: &PoolInfo, r: &Reading) -> PoolView {
        let members: Vec<(&ServerInfo, ServerView)> = self.members(pool).map(|s| (s, self.view(s, r))).collect();
        let mut p = PoolView::default();
        for (s, _) in &members {
            if s.role.serves_prefill() && !matches!(s.role, Role::Both(_)) {
                p.prefill_total += 1;
                p.prefill_ready += s.ready as usize;
            } else {
                p.decode_total += 1;
                p.decode_ready += s.ready as usize;
            }
        }
        p.model = members
            .iter()
            .find_map(|(s, _)| s.model.clone())
            .or_else(|| members.iter().find_map(|(s, _)| self.metrics.get(&s.key())?.latest()?.v.model_name.clone()));
        // a pod the scheduler has not placed never had metrics: it is short, not stale
        p.stale_pods = members.iter().filter(|(s, v)| !v.fresh() && s.unschedulable.is_none()).count();
        let (live, freshness) = usable(&members);
        p.freshness = freshness;
        p.observed_at = live.iter().filter_map(|(_, v)| v.observed_at).reduce(f64::min);
        p.kv_avg = mean_opt(live.iter().map(|(_, v)| v.kv));
        p.queue = sum_opt(live.iter().map(|(_, v)| v.waiting));
        p.ttft = merge(live.iter().map(|(_, v)| v.ttft.clone()));
        p.itl = merge(live.iter().map(|(_, v)| v.itl.clone()));
        p.prefill_tps = sum_opt(
            live.iter()
                .filter(|(s, _)| s.role.serves_prefill() || s.role == Role::Unlabelled)
                .map(|(_, v)| v.prompt_tps),
        );
        p.decode_tps = sum_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.generation_tps));
        let run =
            |pred: &dyn Fn(&Role) -> bool| sum_opt(live.iter().filter(|(s, _)| pred(&s.role)).map(|(_, v)| v.running));
        if let (Some(pr), Some(dr)) = (run(&|r| *r == Role::Prefill), run(&|r| *r == Role::Decode)) {
            if dr > 0.0 {
                p.pd_running_ratio = Some(pr / dr);
            }
        }
        // requests enter through decode (or aggregated) pods
        p.request_rate = sum_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.request_rate));
        if let Some(epp) = self.epp.get(&pool.key()) {
            p.epp_stale = epp.stale_reason(r);
            if epp.freshness(r).0 == Freshness::Fresh {
                if let (Some(req), Some(err)) = (epp.rate(|e| e.requests, r), epp.rate(|e| e.errors, r)) {
                    p.error_rate = (req > 0.0).then(|| err / req);
                    p.request_rate = Some(req);
                }
                let pd = epp.rate(|e| e.decisions.get("prefill-decode").copied(), r);
                let total = epp.rate(|e| (!e.decisions.is_empty()).then(|| e.decisions.values().sum()), r);
                if let (Some(pd), Some(total)) = (pd, total) {
                    p.pd_share = (total > 0.0).then(|| pd / total);
                }
                p.routed_to_unready = self.routed_to_unready(pool, epp);
                let ready = members.iter().filter(|(s, _)| s.ready).count();
                p.epp_ready_mismatch = epp
                    .latest()
                    .and_then(|l| l.v.ready_endpoints)
                    .filter(|n| (*n - ready as f64).abs() >= 0.5)
                    .map(|n| (n, ready));
            }
        } else if pool.epp_service.is_none() {
            p.epp_stale = Some("no endpoint picker referenced".into());
        }
        p
    }

    /// Endpoints the EPP still sends requests to although their pod is not Ready: the
    /// attempts counter grew between its last two scrapes. With each, its share of what the
    /// EPP routed in that interval.
    fn routed_to_unready(&self, pool: &PoolInfo, epp: &Scraped<EppSample>) -> Vec<(String, f64)> {
        let n = epp.samples.len();
        let mut last_two = epp.samples.iter().skip(n.saturating_sub(2));
        let (Some(a), Some(b)) = (last_two.next(), last_two.next()) else { return Vec::new() };
        // what each endpoint got in the interval (a restarted counter counts from zero)
        let grew = |k: &str, now: f64| {
            let before = a.v.attempts.get(k).copied().unwrap_or(0.0);
            if now >= before {
                now - before
            } else {
                now
            }
        };
        let total: f64 = b.v.attempts.iter().map(|(k, v)| grew(k, *v)).sum();
        self.members(pool)
            .filter(|s| !s.ready)
            .filter_map(|s| {
                let got = grew(&s.name, *b.v.attempts.get(&s.name)?);
                (got > 0.0).then(|| (s.name.clone(), if total > 0.0 { got / total } else { 0.0 }))
            })
            .collect()
    }

    /// Fleet numbers for the Overview and the snapshot.
    pub fn totals(&self, r: &Reading) -> LlmdTotals {
        let views: Vec<(&ServerInfo, ServerView)> =
            self.servers.iter().map(|s| (s, self.view_with(s, r, Detail::Counters))).collect();
        let (live, freshness) = usable(&views);
        LlmdTotals {
            pools: self.pools.len(),
            prefill_ready: views.iter().filter(|(s, _)| s.role == Role::Prefill && s.ready).count(),
            prefill_total: views.iter().filter(|(s, _)| s.role == Role::Prefill).count(),
            decode_ready: views.iter().filter(|(s, _)| s.role != Role::Prefill && s.ready).count(),
            decode_total: views.iter().filter(|(s, _)| s.role != Role::Prefill).count(),
            kv_avg: mean_opt(live.iter().map(|(_, v)| v.kv)),
            kv_decode_max: max_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.kv)),
            kv_prefill_max: max_opt(live.iter().filter(|(s, _)| s.role == Role::Prefill).map(|(_, v)| v.kv)),
            prefill_tps: sum_opt(
                live.iter()
                    .filter(|(s, _)| s.role.serves_prefill() || s.role == Role::Unlabelled)
                    .map(|(_, v)| v.prompt_tps),
            ),
            decode_tps: sum_opt(live.iter().filter(|(s, _)| s.role.serves_decode()).map(|(_, v)| v.generation_tps)),
            freshness,
            observed_at: live.iter().filter_map(|(_, v)| v.observed_at).reduce(f64::min),
        }
    }
}
