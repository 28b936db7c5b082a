//! The roll-ups by cluster, kept between rounds: asked in turn, each answer replacing its
//! column, the first round sent as answers land, rounds at most half the layer's time.

use super::*;

/// The roll-ups by cluster (every cluster the query layer holds, context or not), kept between
/// refreshes: each signal's answer replaces its column whole, so a cluster an answer no longer
/// names reads unknown there, and a roll-up that failed this round is unknown, not last round's.
#[derive(Default)]
pub(super) struct Rollups {
    rows: BTreeMap<String, ClusterAgg>,
    /// The signals asked at least once. In the first round the rows are sent as each answer
    /// lands: the first numbers of ten thousand clusters need not wait for the slowest roll-up
    /// (a TTFT p99 over every bucket), only for their own. Later rounds send once, at the end.
    asked: BTreeSet<&'static str>,
    /// The last round: when it began, how long it took, what it said.
    last: Option<Round>,
    /// Half the fleet's step (`pace`): the median age of the clusters' newest samples when
    /// asked, half a scrape interval whatever kst's own pace (recorded roll-ups: about one
    /// evaluation interval). Rounds are asked no more often than this, at most `LONGEST_STEP`
    /// apart: at a 30 s scrape, a round every 5 s read the same numbers six times (ten
    /// thousand clusters: 8.6 MB decoded a round, 7 % of a core). Longer would delay the
    /// verdict that a cluster's samples stopped (two rounds count in its age limit).
    step: Option<f64>,
}

/// The longest wait `Rollups::step` makes between rounds.
const LONGEST_STEP: f64 = 30.0;

/// Where the roll-ups are asked and their rows sent.
pub(super) struct Asked<'a> {
    pub http: &'a Asker,
    pub cfg: &'a PromConfig,
    pub source: usize,
    pub tx: &'a mpsc::Sender<Update>,
}

/// The last round of roll-ups: when it began, how long it took, and what it said (bytes,
/// warnings, error).
struct Round {
    began: std::time::Instant,
    took: Duration,
    outcome: PromState,
}

/// A roll-up's place in a cluster's row.
fn column<'a>(r: &'a mut ClusterAgg, signal: &str) -> Option<&'a mut Option<f64>> {
    Some(match signal {
        "servers" => &mut r.servers,
        "kv_avg" => &mut r.kv_avg,
        "kv_max" => &mut r.kv_max,
        "waiting" => &mut r.waiting,
        "waiting_max" => &mut r.waiting_max,
        "prompt" => &mut r.prompt_tokens_per_s,
        "generation" => &mut r.generation_tokens_per_s,
        "gpus" => &mut r.gpus,
        "gpus_busy" => &mut r.gpus_busy,
        "gpu_util" => &mut r.gpu_util,
        "ttft_p99" => &mut r.ttft_p99_s,
        "gpus_xid" => &mut r.gpus_xid,
        "error_ratio" => &mut r.error_ratio,
        "scraped_at" => &mut r.scraped_at,
        _ => return None,
    })
}

impl Rollups {
    /// A refresh's roll-ups, asked at most half the time: a layer that takes longer than the
    /// refresh to answer them (ten thousand clusters on a small VictoriaMetrics) is left as long
    /// again for its other users before kst asks again, not kept busy by one wall screen. A
    /// refresh between rounds says what the last round said (its partial answer or error stands
    /// until the next round instead of coming and going). False when the store has gone.
    pub(super) async fn round(
        &mut self,
        asked: &Asked<'_>,
        rollups: &[(&'static str, String)],
        refresh: Duration,
        started: std::time::Instant,
        state: &mut PromState,
    ) -> bool {
        let step = Duration::from_secs_f64(self.step.unwrap_or(0.0).clamp(0.0, LONGEST_STEP));
        let due = self.last.as_ref().is_none_or(|l| l.began.elapsed() >= (l.took * 2).max(step));
        if due {
            // the time between two answers: the refresh, twice the last round or the layer's
            // step, whichever is longest
            let round = self.last.as_ref().map_or(0.0, |l| 2.0 * l.took.as_secs_f64());
            let round = round.max(refresh.as_secs_f64()).max(step.as_secs_f64());
            let began = std::time::Instant::now();
            let mut rolled = PromState::default();
            if !self.read(asked.http, asked.cfg, rollups, round, &mut rolled, asked.source, asked.tx).await {
                return false;
            }
            self.last = Some(Round { began, took: began.elapsed(), outcome: rolled });
        }
        if let Some(l) = &self.last {
            state.bytes += l.outcome.bytes;
            state.warnings.extend(l.outcome.warnings.iter().cloned());
            state.error = state.error.take().or_else(|| l.outcome.error.clone());
            state.took_ms = Some((started.elapsed() + if due { Duration::ZERO } else { l.took }).as_millis() as u64);
        }
        true
    }

    /// One round: every roll-up asked in turn. Bytes and warnings are added to `state`; a
    /// roll-up that fails after others answered is a warning (the layer is partial, that
    /// column unknown); one that fails before any answered is the round's error (the layer is
    /// not answering: the rows are dropped, as nothing current is known). `round` is the time
    /// between two answers. Sends the rows (as each lands until every signal has answered
    /// once, then once a round); false when the store has gone.
    #[allow(clippy::too_many_arguments)]
    async fn read(
        &mut self,
        http: &Asker,
        cfg: &PromConfig,
        rollups: &[(&'static str, String)],
        round: f64,
        state: &mut PromState,
        source: usize,
        tx: &mpsc::Sender<Update>,
    ) -> bool {
        let mut unlabelled_engines = 0usize;
        let mut any = false;
        for (signal, promql) in rollups {
            let started = std::time::Instant::now();
            let asked_at = now_s();
            let first = self.asked.insert(signal);
            if first {
                tracing::debug!(query = signal, promql = %promql, "roll-up");
            }
            let answer = read(signal, started, query_at(http, cfg, promql, None).await);
            // the scrape times of the last answer: how far each cluster's moved on since
            let before: BTreeMap<String, f64> = match *signal == "scraped_at" {
                true => self.rows.iter().filter_map(|(k, r)| Some((k.clone(), r.scraped_at?))).collect(),
                false => BTreeMap::new(),
            };
            for r in self.rows.values_mut() {
                if let Some(slot) = column(r, signal) {
                    *slot = None;
                }
            }
            let a = match answer {
                Ok(a) => a,
                Err(QueryError(e)) if !any => {
                    state.error = Some(format!("roll-up {signal}: {e}"));
                    self.rows.clear();
                    break;
                }
                Err(QueryError(e)) => {
                    state.warnings.push(format!("roll-up {signal}: {e}"));
                    continue;
                }
            };
            any = true;
            state.bytes += a.bytes;
            state.warnings.extend(a.warnings.iter().cloned());
            for s in &a.samples {
                // `count by (C)` over series without C: one row with no label
                let Some(v) = s.labels.get(&cfg.cluster_label).filter(|v| !v.is_empty()) else {
                    if *signal == "servers" {
                        unlabelled_engines += s.value as usize;
                    }
                    continue;
                };
                let name = cfg.clusters.get(v).cloned().unwrap_or_else(|| v.clone());
                let r = self.rows.entry(name).or_default();
                let Some(slot) = column(r, signal) else {
                    tracing::warn!(signal, "a roll-up with no place in ClusterAgg");
                    break;
                };
                *slot = Some(s.value);
            }
            if *signal == "scraped_at" {
                self.step = pace(&mut self.rows, &before, asked_at, round).map(|fleet| fleet / 2.0);
            }
            if first {
                self.rows
                    .retain(|_, r| *r != ClusterAgg { interval: r.interval, round: r.round, ..Default::default() });
                if tx.send(FleetUpdate::PromClusters { source, rows: self.rows.clone() }.into()).await.is_err() {
                    return false;
                }
            }
        }
        if unlabelled_engines > 0 && self.rows.is_empty() && state.error.is_none() {
            state.error = Some(format!(
                "{unlabelled_engines} model servers' series carry no `{}` label: set cluster_label in \
                 [[metrics.prometheus]] (clusterID, prometheus, ...) or add the label as an external label",
                cfg.cluster_label
            ));
        }
        if cfg.rollups == RollupSource::Recorded && self.rows.is_empty() && state.error.is_none() {
            // no recorded series at all: the rules are not loaded (or record under another label)
            state.warnings.push(format!(
                "no recorded roll-ups ({} and the rest): load `kst rules`' kst-rollups group into the layer's ruler",
                recorded_name(&cfg.cluster_label, "servers")
            ));
        }
        // a cluster no roll-up names any more is gone from the layer
        self.rows.retain(|_, r| *r != ClusterAgg { interval: r.interval, round: r.round, ..Default::default() });
        tx.send(FleetUpdate::PromClusters { source, rows: self.rows.clone() }.into()).await.is_ok()
    }
}

/// Each row's pace in the layer (`ClusterAgg::interval`, `round`), from this answer's scrape
/// times and the last (`before`): a cluster whose newest sample moved on since the last answer
/// by that step; one not seen move yet, twice the median age of every cluster's newest sample
/// when asked (a scrape interval's worth where scrape times spread over it), which it returns.
pub(super) fn pace(
    rows: &mut BTreeMap<String, ClusterAgg>,
    before: &BTreeMap<String, f64>,
    asked_at: f64,
    round: f64,
) -> Option<f64> {
    let mut ages: Vec<f64> = rows.values().filter_map(|r| Some((asked_at - r.scraped_at?).max(0.0))).collect();
    ages.sort_by(f64::total_cmp);
    let fleet = ages.get(ages.len() / 2).map(|m| 2.0 * m);
    for (name, r) in rows.iter_mut() {
        r.round = Some(round);
        let moved = match (before.get(name), r.scraped_at) {
            (Some(b), Some(t)) if t > *b => Some(t - b),
            _ => None,
        };
        r.interval = moved.or(r.interval).or(fleet);
    }
    fleet
}

/// An answer as read, logged at debug with what it cost (`KST_LOG=kst::sources::prom=debug`):
/// the benchmarks read every query's bytes and time from these lines.
pub(super) fn read(
    what: &str,
    started: std::time::Instant,
    answer: Result<Answer, QueryError>,
) -> Result<Answer, QueryError> {
    let ms = started.elapsed().as_millis() as u64;
    match &answer {
        Ok(a) => tracing::debug!(query = what, bytes = a.bytes, series = a.samples.len(), ms, "query answered"),
        Err(QueryError(e)) => tracing::debug!(query = what, ms, error = %e, "query failed"),
    }
    answer
}

/// `read` for a series-and-times answer.
pub(super) fn read_pair(
    what: &str,
    started: std::time::Instant,
    answer: Result<(Answer, Answer), QueryError>,
) -> Result<(Answer, Answer), QueryError> {
    let ms = started.elapsed().as_millis() as u64;
    match &answer {
        Ok((a, t)) => {
            let series = a.samples.len() + t.samples.len();
            tracing::debug!(query = what, bytes = a.bytes + t.bytes, series, ms, "query answered")
        }
        Err(QueryError(e)) => tracing::debug!(query = what, ms, error = %e, "query failed"),
    }
    answer
}
