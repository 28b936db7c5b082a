//! The rules' history from a query layer: at start (and after the layer comes back), kst asks
//! it how long each metric rule's condition has held, with the rule's own PromQL over a range
//! (`query_range`), so a surge that began before kst started fires in the first frame with its
//! real start instead of a fresh `for:`.
//!
//! A series' start is the first point of its last unbroken run of points up to now; a run that
//! reaches back to the start of the range says only that it began then or earlier (a lower
//! bound).
//!
//! The model servers' own series are asked back too ([`engine_rounds`]): an instant query of a
//! range selector (`{...}[60s]`) answers every raw sample of the window with its scrape time,
//! the very samples `rate()` reads, so rates and percentiles exist in the first round (and a
//! `kst snapshot` answers without sampling for a window first).

use std::collections::BTreeMap;

use super::{query_range, Answer, Asker, PromConfig, QueryError, Sample};
use crate::store::problems::{Domain, Sight};
use crate::store::rules::HistoryRow;

/// The longest history asked for (a rule's `for:` plus this margin, at most 3 hours).
const MARGIN_S: f64 = 300.0;
const MAX_LOOKBACK_S: f64 = 3.0 * 3600.0;
/// At most this many points per series.
const MAX_POINTS: f64 = 1000.0;

/// The start of the last unbroken run of `times` (sorted) that reaches `end`: (start,
/// lower bound). None when the last point is older than `end - 2 * step` (it does not hold now).
pub fn run_start(times: &[f64], range_start: f64, end: f64, step: f64) -> Option<(f64, bool)> {
    let last = *times.last()?;
    if last < end - 2.0 * step {
        return None;
    }
    let mut start = last;
    for t in times.iter().rev().skip(1) {
        if start - t > 1.5 * step {
            break;
        }
        start = *t;
    }
    Some((start, start <= range_start + step * 0.5))
}

/// The rules' history, asked beside the refresh loop, not in it: over a large layer it can take
/// longer than a query's timeout (every rule's PromQL over a range of the whole fleet), and the
/// loop that waited for it, asking again each refresh, brought the roll-ups of 10,000 clusters
/// every 20-30 s instead of every 5. Asked once the layer answers; after a failure again 1 minute
/// later, the wait doubling up to 30; and at once after the layer itself failed and came back.
#[derive(Default)]
pub(super) struct HistoryAsk {
    asking: Option<tokio::task::JoinHandle<Option<bool>>>,
    sent: bool,
    retry_at: Option<std::time::Instant>,
    backoff: std::time::Duration,
}

impl HistoryAsk {
    const FIRST_RETRY: std::time::Duration = std::time::Duration::from_secs(60);
    const LONGEST_RETRY: std::time::Duration = std::time::Duration::from_secs(30 * 60);

    /// A refresh: `layer_failed` this time, `per_pod` (some cluster is read per pod), `ask`
    /// sends the history (Some(true)), fails (Some(false)) or finds the store gone (None).
    /// False when the store has gone.
    pub(super) fn tick<F>(&mut self, layer_failed: bool, per_pod: bool, ask: impl FnOnce() -> F) -> bool
    where
        F: std::future::Future<Output = Option<bool>> + Send + 'static,
    {
        if self.asking.as_ref().is_some_and(|t| t.is_finished()) {
            match self.asking.take().and_then(futures::FutureExt::now_or_never) {
                Some(Ok(None)) => return false,
                Some(Ok(Some(true))) => self.sent = true,
                // not read (or its task ended otherwise): asked again later
                _ => {
                    self.backoff = (self.backoff * 2).clamp(Self::FIRST_RETRY, Self::LONGEST_RETRY);
                    self.retry_at = Some(std::time::Instant::now() + self.backoff);
                }
            }
        }
        if layer_failed {
            // asked again, at once, when it is back
            self.sent = false;
            self.retry_at = None;
            self.backoff = std::time::Duration::ZERO;
            return true;
        }
        let due = self.retry_at.is_none_or(|t| std::time::Instant::now() >= t);
        if !self.sent && per_pod && self.asking.is_none() && due {
            self.asking = Some(tokio::spawn(ask()));
        }
        true
    }
}

impl Drop for HistoryAsk {
    fn drop(&mut self) {
        if let Some(t) = &self.asking {
            t.abort();
        }
    }
}

/// A rule's PromQL (the rule table writes its cluster label `cluster`) for one layer: its
/// `cluster_label` in the rule's `by`/`on` lists, and every selector narrowed to the clusters kst
/// reads per pod (`label=~"a|b"`), so a layer of ten thousand clusters is asked the history of the
/// few kst has dialed, not of the whole fleet (which took it past a query's timeout).
pub fn scoped_rule(expr: &str, label: &str, values: &[String]) -> Result<String, String> {
    use promql_parser::label::{MatchOp, Matcher};
    use promql_parser::parser::{Expr, LabelModifier};
    fn rename(modifier: Option<&mut LabelModifier>, label: &str) {
        if let Some(LabelModifier::Include(l) | LabelModifier::Exclude(l)) = modifier {
            l.labels.iter_mut().filter(|x| x.as_str() == "cluster").for_each(|x| *x = label.to_string());
        }
    }
    fn narrow(m: &mut promql_parser::label::Matchers, only: &Matcher) {
        m.matchers.push(only.clone());
        m.or_matchers.iter_mut().for_each(|group| group.push(only.clone()));
    }
    fn walk(e: &mut Expr, label: &str, only: &Matcher) {
        match e {
            Expr::Aggregate(a) => {
                rename(a.modifier.as_mut(), label);
                walk(&mut a.expr, label, only);
            }
            Expr::Binary(b) => {
                rename(b.modifier.as_mut().and_then(|m| m.matching.as_mut()), label);
                walk(&mut b.lhs, label, only);
                walk(&mut b.rhs, label, only);
            }
            Expr::Unary(u) => walk(&mut u.expr, label, only),
            Expr::Paren(p) => walk(&mut p.expr, label, only),
            Expr::Subquery(q) => walk(&mut q.expr, label, only),
            Expr::Call(c) => c.args.args.iter_mut().for_each(|a| walk(a, label, only)),
            Expr::VectorSelector(v) => narrow(&mut v.matchers, only),
            Expr::MatrixSelector(m) => narrow(&mut m.vs.matchers, only),
            _ => {}
        }
    }
    let alternatives = values.iter().map(|v| regex::escape(v)).collect::<Vec<_>>().join("|");
    let re = regex::Regex::new(&format!("^(?:{alternatives})$")).map_err(|e| e.to_string())?;
    let only = Matcher::new(MatchOp::Re(re), label, &alternatives);
    let mut parsed = promql_parser::parser::parse(expr)?;
    walk(&mut parsed, label, &only);
    Ok(parsed.to_string())
}

/// Every metric rule's current runs on the clusters `context_of` names (their label `values`), as
/// history rows.
pub async fn rule_history(
    asker: &Asker,
    cfg: &PromConfig,
    context_of: &(dyn Fn(&str) -> Option<usize> + Sync),
    values: &[String],
    now: f64,
    step: f64,
) -> Result<Vec<HistoryRow>, QueryError> {
    // the roll-ups' window (a zero one is the default minute, as there)
    let window = format!("{}s", if cfg.rate_window.is_zero() { 60 } else { cfg.rate_window.as_secs().max(1) });
    let mut out = Vec::new();
    for kind in crate::store::rules::ALL.iter().filter(|k| k.sight == Sight::Metrics && k.domain != Domain::Hub) {
        let Some(expr) = kind.promql else { continue };
        let lookback = (kind.for_s + MARGIN_S).min(MAX_LOOKBACK_S);
        let step = step.max(lookback / MAX_POINTS);
        let start = now - lookback;
        let expr = scoped_rule(&expr.replace("$w", &window), &cfg.cluster_label, values).map_err(QueryError)?;
        let answer = query_range(asker, cfg, &expr, start, now, step).await?;
        let mut series: BTreeMap<(usize, String, String), Vec<f64>> = BTreeMap::new();
        for s in &answer.samples {
            let Some(ci) = s.labels.get(&cfg.cluster_label).and_then(|v| context_of(v)) else { continue };
            let Some(name) = s.labels.get("pod").or_else(|| s.labels.get("pool")) else { continue };
            let ns = s.labels.get("namespace").cloned().unwrap_or_default();
            series.entry((ci, ns, name.clone())).or_default().push(s.at);
        }
        for ((cluster, namespace, name), mut times) in series {
            times.sort_by(f64::total_cmp);
            if let Some((start, lower_bound)) = run_start(&times, start, now, step) {
                out.push(HistoryRow { kind: kind.id, cluster, namespace, name, start, lower_bound, at: now });
            }
        }
    }
    Ok(out)
}

/// A pod of a context: (context index, (namespace, pod)).
pub type PodKey = (usize, crate::store::llmd::Key);

/// A pod's scrape as the query layer holds it: the pod, scrape time, the scrape's series.
pub type HeldScrape<'a> = (PodKey, f64, Vec<&'a Sample>);

/// The raw samples of a window (an instant query of a range selector) as the rounds kst would
/// have read had it been running: per `refresh`-long slot, each pod's latest scrape in it,
/// oldest slot first, each with the slot's newest scrape time. Scrapes at or after a pod's
/// `before` (the scrape the current round reads) are left to that round.
pub fn engine_rounds<'a>(
    window: &'a Answer,
    label: &str,
    context_of: impl Fn(&str) -> Option<usize>,
    refresh: f64,
    before: &BTreeMap<(usize, crate::store::llmd::Key), f64>,
) -> Vec<(f64, Vec<HeldScrape<'a>>)> {
    let (pods, _, _) = super::group(window, label, context_of);
    let refresh = refresh.max(0.001);
    // slot -> pod -> (scrape time in ms, its samples)
    let mut slots: BTreeMap<i64, BTreeMap<PodKey, (i64, Vec<&Sample>)>> = BTreeMap::new();
    for (key, samples) in pods {
        let Some(until) = before.get(&key) else { continue };
        let mut by_time: BTreeMap<i64, Vec<&Sample>> = BTreeMap::new();
        for s in samples.into_iter().filter(|s| s.at < *until) {
            by_time.entry((s.at * 1000.0).round() as i64).or_default().push(s);
        }
        for (ms, series) in by_time {
            let slot = (ms as f64 / 1000.0 / refresh).floor() as i64;
            let held = slots.entry(slot).or_default().entry(key.clone()).or_insert((ms, Vec::new()));
            if ms >= held.0 {
                *held = (ms, series);
            }
        }
    }
    slots
        .into_values()
        .map(|pods| {
            let newest = pods.values().map(|(ms, _)| *ms).max().unwrap_or(0) as f64 / 1000.0;
            (newest, pods.into_iter().map(|(k, (ms, series))| (k, ms as f64 / 1000.0, series)).collect())
        })
        .collect()
}

/// The engines' samples of the last `window` seconds (and a little more) before `at`, or None when the fleet is
/// too large to ask back at once (`series` in the current answer, over `MAX_HISTORY_SERIES`).
pub async fn engine_window(
    asker: &Asker,
    cfg: &PromConfig,
    selector: &str,
    window: f64,
    at: f64,
    series: usize,
) -> Option<Result<Answer, QueryError>> {
    if series > MAX_HISTORY_SERIES || window < 1.0 {
        return None;
    }
    // 30 s more than the window: a scrape at or before its start, so the history spans it
    // whole at the usual 15-30 s scrape intervals (older samples fall outside every rate)
    let promql = format!("{selector}[{}s]", (window + 30.0).ceil() as u64);
    Some(super::query_window(asker, cfg, &promql, at).await)
}

/// Above this many series the window is not asked back (at a 15 s scrape interval and a 60 s
/// window, 30,000 series are ~150,000 samples, ~15 MB of JSON once); rates then wait for a
/// window of kst's own reads, as in direct mode.
pub const MAX_HISTORY_SERIES: usize = 30_000;

#[cfg(test)]
mod tests {
    use super::*;

    /// The history is asked beside the loop: a refresh never waits for it; one that failed is
    /// not asked again each refresh (a minute later at the soonest); one sent is not asked
    /// again; after the layer itself failed it is asked again at once.
    #[tokio::test]
    async fn the_history_is_asked_apart_and_not_again_each_refresh_after_it_failed() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let asked = Arc::new(AtomicUsize::new(0));
        let ask = |answer: Option<bool>| {
            let asked = asked.clone();
            move || async move {
                asked.fetch_add(1, Ordering::SeqCst);
                answer
            }
        };
        let mut h = HistoryAsk::default();
        let settle = |h: &HistoryAsk| {
            let t = h.asking.as_ref().map(|t| t.is_finished());
            t.unwrap_or(true)
        };
        // a layer that never answers the history: the refresh goes on at once
        assert!(h.tick(false, true, std::future::pending::<Option<bool>>));
        assert!(h.asking.is_some());
        h = HistoryAsk::default();
        assert!(h.tick(false, true, ask(Some(false))));
        while !settle(&h) {
            tokio::task::yield_now().await;
        }
        for _ in 0..5 {
            assert!(h.tick(false, true, ask(Some(false))));
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1, "a failed history waits before it is asked again");
        assert!(h.retry_at.is_some_and(|t| t > std::time::Instant::now() + std::time::Duration::from_secs(50)));
        // the layer failed and came back: asked at once, then sent, then never again
        assert!(h.tick(true, true, ask(Some(true))));
        assert!(h.tick(false, true, ask(Some(true))));
        while !settle(&h) {
            tokio::task::yield_now().await;
        }
        for _ in 0..5 {
            assert!(h.tick(false, true, ask(Some(true))));
        }
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        assert!(h.sent);
        // nothing read per pod: nothing asked
        let mut idle = HistoryAsk::default();
        assert!(idle.tick(false, false, ask(Some(true))));
        assert!(idle.asking.is_none());
        // the store gone (the history could not be sent): the loop ends
        let mut gone = HistoryAsk::default();
        assert!(gone.tick(false, true, ask(None)));
        while !settle(&gone) {
            tokio::task::yield_now().await;
        }
        assert!(!gone.tick(false, true, ask(None)));
    }

    /// Every rule's history query, for a layer labelling clusters `clusterID`: asked of the
    /// dialed clusters only, grouped by the layer's label, and still PromQL a layer parses.
    #[test]
    fn the_rules_history_is_asked_of_the_dialed_clusters_by_the_layer_s_label() {
        let values = ["gpu-us-east".to_string(), "a.b".to_string()];
        let rules = crate::store::rules::ALL.iter().filter(|k| k.sight == Sight::Metrics && k.domain != Domain::Hub);
        let names = regex::Regex::new(r"(vllm:|llm_d_|inference_|DCGM_)[A-Za-z_]+").unwrap();
        let mut checked = 0;
        for kind in rules {
            let Some(expr) = kind.promql else { continue };
            let q = scoped_rule(&expr.replace("$w", "60s"), "clusterID", &values).unwrap();
            assert_eq!(super::super::check_promql(&q), Ok(()), "{q}");
            assert!(!q.contains("(cluster,") && !q.contains("(cluster)"), "{q}");
            assert!(q.contains("by (clusterID"), "{q}");
            // every selector narrowed: as many matchers as the rule has metric names
            let selectors = names.find_iter(expr).count();
            assert_eq!(q.matches(r#"clusterID=~"gpu\\-us\\-east|a\\.b""#).count(), selectors, "{q}");
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn the_last_unbroken_run_up_to_now() {
        let t = |v: &[f64]| v.to_vec();
        // held from 100 to now (130), a gap before
        assert_eq!(run_start(&t(&[10.0, 20.0, 100.0, 110.0, 120.0, 130.0]), 0.0, 130.0, 10.0), Some((100.0, false)));
        // held over the whole range: it began then or earlier
        assert_eq!(run_start(&t(&[0.0, 10.0, 20.0, 30.0]), 0.0, 30.0, 10.0), Some((0.0, true)));
        // it stopped holding a while ago: no current run
        assert_eq!(run_start(&t(&[0.0, 10.0, 20.0]), 0.0, 60.0, 10.0), None);
        // a point missing at the very end (the step before now) still counts as holding
        assert_eq!(run_start(&t(&[40.0, 50.0]), 0.0, 61.0, 10.0), Some((40.0, false)));
        assert_eq!(run_start(&[], 0.0, 60.0, 10.0), None);
    }

    #[test]
    fn a_window_of_raw_samples_becomes_the_rounds_kst_would_have_read() {
        let s = |pod: &str, name: &str, at: f64, v: f64| {
            Sample::with(&[("__name__", name), ("cluster", "c1"), ("namespace", "llm-d"), ("pod", pod)], at, v)
        };
        let window = Answer {
            samples: vec![
                // p0 scraped twice within one 5 s slot: the later scrape stands for the slot
                s("p0", "vllm:num_requests_running", 100.5, 1.0),
                s("p0", "vllm:num_requests_running", 103.0, 2.0),
                s("p0", "vllm:num_requests_running", 106.0, 3.0),
                s("p0", "vllm:generation_tokens_total", 106.0, 60.0),
                // the scrape the current round reads is left to it
                s("p0", "vllm:num_requests_running", 111.0, 4.0),
                s("p1", "vllm:num_requests_running", 101.0, 7.0),
                // a cluster kst does not hold, and a pod not in the current round
                Sample::with(&[("cluster", "other"), ("namespace", "x"), ("pod", "p9")], 101.0, 1.0),
                s("gone", "vllm:num_requests_running", 101.0, 1.0),
            ],
            ..Default::default()
        };
        let key = |pod: &str| (0usize, ("llm-d".to_string(), pod.to_string()));
        let before: BTreeMap<_, f64> = [(key("p0"), 111.0), (key("p1"), 111.0)].into_iter().collect();
        let context_of = |v: &str| (v == "c1").then_some(0);
        let rounds = engine_rounds(&window, "cluster", context_of, 5.0, &before);
        type Round = (f64, Vec<(String, f64, usize)>);
        let seen: Vec<Round> = rounds
            .iter()
            .map(|(at, pods)| {
                (*at, pods.iter().map(|((_, (_, p)), t, series)| (p.clone(), *t, series.len())).collect())
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (103.0, vec![("p0".into(), 103.0, 1), ("p1".into(), 101.0, 1)]),
                (106.0, vec![("p0".into(), 106.0, 2)]),
            ]
        );
    }
}
