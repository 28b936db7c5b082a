//! The rules' history from a query layer: at start (and after the layer comes back), kst asks
//! it how long each metric rule's condition has held, with the rule's own PromQL over a range
//! (`query_range`), so a surge that began before kst started fires in the first frame with its
//! real start instead of a fresh `for:`.
//!
//! A series' start is the first point of its last unbroken run of points up to now; a run that
//! reaches back to the start of the range says only that it began then or earlier (a lower
//! bound).

use std::collections::BTreeMap;

use super::prom::{query_range, Asker, PromConfig, QueryError};
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

/// Every metric rule's current runs on the clusters `context_of` names, as history rows.
pub async fn rule_history(
    asker: &Asker,
    cfg: &PromConfig,
    context_of: &(dyn Fn(&str) -> Option<usize> + Sync),
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
        let answer = query_range(asker, cfg, &expr.replace("$w", &window), start, now, step).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
