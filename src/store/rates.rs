//! The one place that turns raw samples into rates and percentiles, with Prometheus'
//! semantics so a number kst shows is the number a Grafana panel over the same series shows:
//! `rate(x[w])` (counter resets, extrapolation to the window's edges) and
//! `histogram_quantile(q, rate(x_bucket[w]))`. The panes and `kst snapshot` both read through here.
//!
//! Source of the algorithms: prometheus/promql/functions.go (`extrapolatedRate`) and
//! promql/quantile.go (`bucketQuantile`), Prometheus 2.x, whose range selectors include both
//! ends of the window.

/// How samples are read: over which window rates are taken, when a value turns stale, and when
/// it is too old to show at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Unix seconds: when the reading is made.
    pub now: f64,
    /// Rates and percentiles are taken over this many seconds (when that much history exists).
    pub window: f64,
    /// A value observed longer ago than this is stale: drawn dimmed with its age.
    pub stale_after: f64,
    /// A value observed longer ago than this is not shown (`—`).
    pub hide_after: f64,
}

/// The metrics policy the store is read with, from the refresh interval and the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsPolicy {
    pub window: f64,
    pub stale_after: f64,
    pub hide_after: f64,
}

impl MetricsPolicy {
    /// The window is at least 4 scrape intervals and at least a minute (Prometheus' advice
    /// for `rate()`); a configured window is honoured but never under 4 intervals, where a rate
    /// would alias. A value is stale once two scrapes were missed, hidden after `hide_after`
    /// intervals (default 5).
    pub fn new(refresh: f64, configured_window: Option<f64>, hide_intervals: Option<f64>) -> MetricsPolicy {
        let refresh = refresh.max(0.05);
        let window = configured_window.unwrap_or(60.0).max(4.0 * refresh);
        let stale_after = 2.0 * refresh + 3.0;
        let hide_after = (hide_intervals.unwrap_or(5.0) * refresh).max(stale_after);
        MetricsPolicy { window, stale_after, hide_after }
    }
    pub fn at(&self, now: f64) -> Reading {
        Reading { now, window: self.window, stale_after: self.stale_after, hide_after: self.hide_after }
    }
    /// `1m`, `90s`: how panes name the window.
    pub fn window_text(&self) -> String {
        window_text(self.window)
    }
    /// How many samples a series must keep to cover the window (and some history).
    pub fn samples_needed(&self, refresh: f64) -> usize {
        ((self.window / refresh.max(0.05)).ceil() as usize + 2).clamp(60, 4096)
    }
}

impl Default for MetricsPolicy {
    fn default() -> Self {
        MetricsPolicy::new(5.0, None, None)
    }
}

pub fn window_text(w: f64) -> String {
    let s = w.round() as u64;
    if s >= 60 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Prometheus `rate(x[range])` evaluated at `end` over the samples `(t, v)` (ascending time)
/// inside `[end - range, end]`. None with fewer than two samples there: unknown, not zero.
pub fn rate(points: &[(f64, f64)], end: f64, range: f64) -> Option<f64> {
    let mut acc = Window::new(end, range);
    for p in points {
        acc.push(p.0, p.1);
    }
    acc.rate()
}

/// Prometheus `increase(x[range])`.
pub fn increase(points: &[(f64, f64)], end: f64, range: f64) -> Option<f64> {
    let mut acc = Window::new(end, range);
    for p in points {
        acc.push(p.0, p.1);
    }
    acc.increase()
}

/// A counter's samples in one window, taken one at a time (ascending time) without keeping
/// them: what `rate()` and `increase()` need is the first and last sample, how many there
/// were, and what was lost to resets.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    start: f64,
    end: f64,
    range: f64,
    n: usize,
    first: (f64, f64),
    last: (f64, f64),
    /// What the counter had counted before each reset (a drop is a restart from zero).
    reset_add: f64,
}

impl Window {
    pub fn new(end: f64, range: f64) -> Window {
        Window { start: end - range, end, range, n: 0, first: (0.0, 0.0), last: (0.0, 0.0), reset_add: 0.0 }
    }

    /// A sample; those outside the window (or not numbers) are ignored.
    pub fn push(&mut self, t: f64, v: f64) {
        if t < self.start || t > self.end || !v.is_finite() {
            return;
        }
        if self.n == 0 {
            self.first = (t, v);
        } else if v < self.last.1 {
            self.reset_add += self.last.1;
        }
        self.last = (t, v);
        self.n += 1;
    }

    pub fn rate(&self) -> Option<f64> {
        (self.range > 0.0).then_some(())?;
        self.increase().map(|d| d / self.range)
    }

    pub fn increase(&self) -> Option<f64> {
        if self.n < 2 || self.range <= 0.0 {
            return None;
        }
        let (first, last) = (self.first, self.last);
        let delta = last.1 - first.1 + self.reset_add;
        let sampled = last.0 - first.0;
        if sampled <= 0.0 {
            return None;
        }
        let average_gap = sampled / (self.n - 1) as f64;
        let threshold = average_gap * 1.1;
        let mut to_start = first.0 - self.start;
        let mut to_end = self.end - last.0;
        if to_start >= threshold {
            to_start = average_gap / 2.0;
        }
        if delta > 0.0 && first.1 >= 0.0 {
            // a counter does not extrapolate below zero
            let to_zero = sampled * (first.1 / delta);
            if to_zero < to_start {
                to_start = to_zero;
            }
        }
        if to_end >= threshold {
            to_end = average_gap / 2.0;
        }
        Some(delta * (sampled + to_start + to_end) / sampled)
    }
}

/// Prometheus `histogram_quantile(q, ...)` over buckets `(upper bound, cumulative count or
/// rate)`, in any order: linear interpolation inside the bucket, the lowest bucket starting at
/// 0, a rank in the +Inf bucket answering the highest finite bound. None where Prometheus
/// answers NaN (no observations, fewer than two buckets, no +Inf bucket).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if q.is_nan() {
        return None;
    }
    if q < 0.0 {
        return Some(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return Some(f64::INFINITY);
    }
    let mut b: Vec<(f64, f64)> = buckets.iter().copied().filter(|(le, c)| !le.is_nan() && c.is_finite()).collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.len() < 2 || !b.last()?.0.is_infinite() {
        return None;
    }
    // counts must not fall as the bound rises (rates of separately reset buckets can)
    for i in 1..b.len() {
        if b[i].1 < b[i - 1].1 {
            b[i].1 = b[i - 1].1;
        }
    }
    let observations = b.last()?.1;
    if observations <= 0.0 {
        return None;
    }
    let rank = q * observations;
    let i = b[..b.len() - 1].iter().position(|(_, c)| *c >= rank).unwrap_or(b.len() - 1);
    if i == b.len() - 1 {
        return Some(b[b.len() - 2].0);
    }
    if i == 0 && b[0].0 <= 0.0 {
        return Some(b[0].0);
    }
    let (lower, below) = if i == 0 { (0.0, 0.0) } else { b[i - 1] };
    let (upper, count) = b[i];
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * ((rank - below) / in_bucket))
}

/// The share of observations at or under `x`: the inverse of [`histogram_quantile`], with
/// the same linear interpolation inside a bucket (exact when `x` is a bucket bound, as the
/// vLLM dashboards' SLO tiles require; `histogram_fraction` in Prometheus 3 does the same).
/// None without observations.
pub fn histogram_fraction_le(x: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let mut b: Vec<(f64, f64)> = buckets.iter().copied().filter(|(le, c)| !le.is_nan() && c.is_finite()).collect();
    b.sort_by(|p, q| p.0.total_cmp(&q.0));
    if b.len() < 2 || !b.last()?.0.is_infinite() || x.is_nan() {
        return None;
    }
    for i in 1..b.len() {
        if b[i].1 < b[i - 1].1 {
            b[i].1 = b[i - 1].1;
        }
    }
    let total = b.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let mut below_bound = 0.0;
    let mut below = 0.0;
    for (le, c) in &b {
        if x >= *le {
            below_bound = *le;
            below = *c;
            continue;
        }
        if le.is_infinite() {
            // past the last finite bound: nothing is known beyond it
            return Some(below / total);
        }
        // the first bucket starts at 0, as histogram_quantile assumes
        let lower = below_bound;
        let share = if *le > lower { (x - lower).max(0.0) / (le - lower) } else { 0.0 };
        return Some((below + (c - below) * share) / total);
    }
    Some(below / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_under_a_target_inverts_the_quantile() {
        let b = [(0.1, 50.0), (0.5, 90.0), (1.0, 99.0), (f64::INFINITY, 100.0)];
        assert_eq!(histogram_fraction_le(0.5, &b), Some(0.9), "exact at a bucket bound");
        assert_eq!(histogram_fraction_le(0.05, &b), Some(0.25), "interpolated from 0 in the first bucket");
        let q = histogram_quantile(0.95, &b).unwrap();
        assert!((histogram_fraction_le(q, &b).unwrap() - 0.95).abs() < 1e-9, "the inverse of histogram_quantile");
        assert_eq!(histogram_fraction_le(5.0, &b), Some(0.99), "beyond the last finite bound nothing more is counted");
        assert_eq!(histogram_fraction_le(1.0, &[(1.0, 0.0), (f64::INFINITY, 0.0)]), None, "no observations");
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn rate_of_samples_that_fill_the_window_is_the_slope() {
        // 10/s, samples every 5 s from t=0 to t=60, read at t=60 over 60 s: no extrapolation
        let pts: Vec<(f64, f64)> = (0..=12).map(|i| (i as f64 * 5.0, 1000.0 + 50.0 * i as f64)).collect();
        assert!(close(rate(&pts, 60.0, 60.0).unwrap(), 10.0));
        assert!(close(increase(&pts, 60.0, 60.0).unwrap(), 600.0));
    }

    #[test]
    fn extrapolation_to_the_window_start_as_prometheus_does() {
        // samples at 10..=60 every 5 s (11 samples), 10/s, window [0, 60]: the first sample is
        // 10 s (>= 1.1 x 5) from the start, so Prometheus extrapolates only half an interval:
        // delta 500 over 50 s sampled, extended to 52.5 s -> 525 / 60 = 8.75/s
        let pts: Vec<(f64, f64)> = (2..=12).map(|i| (i as f64 * 5.0, 1000.0 + 50.0 * i as f64)).collect();
        assert!(close(rate(&pts, 60.0, 60.0).unwrap(), 8.75));
        // read 3 s after the last sample: the end extends by 3 s (< 1.1 x 5): 500 x 55.5/50 / 60
        assert!(close(rate(&pts, 63.0, 60.0).unwrap(), 500.0 * 55.5 / 50.0 / 60.0));
    }

    #[test]
    fn counters_do_not_extrapolate_below_zero() {
        // a fresh counter: 5 at t=30 and 55 at t=40 (5/s), window [0, 40]: to_start would be
        // 5 s (half of 10), but zero is reached 1 s before the first sample: 50 x 11/10 / 40
        let pts = [(30.0, 5.0), (40.0, 55.0)];
        assert!(close(rate(&pts, 40.0, 40.0).unwrap(), 50.0 * 11.0 / 10.0 / 40.0));
    }

    #[test]
    fn resets_add_back_what_was_counted() {
        // 100 -> 150, restart, 20 -> 70: increase 50 + 20 + 50 = 120 over 15 s, window full
        let pts = [(0.0, 100.0), (5.0, 150.0), (10.0, 20.0), (15.0, 70.0)];
        assert!(close(increase(&pts, 15.0, 15.0).unwrap(), 120.0));
    }

    #[test]
    fn fewer_than_two_samples_in_the_window_is_unknown_never_zero() {
        assert_eq!(rate(&[], 10.0, 60.0), None);
        assert_eq!(rate(&[(5.0, 1.0)], 10.0, 60.0), None);
        // one sample inside, one long before the window
        assert_eq!(rate(&[(-100.0, 0.0), (5.0, 9.0)], 10.0, 60.0), None);
        // a counter that did not move is a real zero
        assert_eq!(rate(&[(0.0, 7.0), (5.0, 7.0), (10.0, 7.0)], 10.0, 10.0), Some(0.0));
    }

    #[test]
    fn quantiles_match_histogram_quantile_by_hand() {
        // 100 observations: 10 <= 0.1, 80 in (0.1, 0.5], 10 in (0.5, +Inf)
        let b = [(0.1, 10.0), (0.5, 90.0), (f64::INFINITY, 100.0)];
        // p50: rank 50 in (0.1, 0.5]: 0.1 + 0.4 x 40/80 = 0.3
        assert!(close(histogram_quantile(0.5, &b).unwrap(), 0.3));
        // p05: rank 5 in the first bucket, from 0: 0.1 x 5/10
        assert!(close(histogram_quantile(0.05, &b).unwrap(), 0.05));
        // p99: rank 99 in +Inf: the highest finite bound
        assert_eq!(histogram_quantile(0.99, &b), Some(0.5));
        // the order of the buckets does not matter
        let shuffled = [b[2], b[0], b[1]];
        assert!(close(histogram_quantile(0.5, &shuffled).unwrap(), 0.3));
        assert_eq!(histogram_quantile(0.5, &[(0.1, 0.0), (f64::INFINITY, 0.0)]), None, "no observations");
        assert_eq!(histogram_quantile(0.5, &[(0.1, 3.0), (1.0, 5.0)]), None, "no +Inf bucket");
        assert_eq!(histogram_quantile(1.5, &b), Some(f64::INFINITY));
        // non-monotonic input is made monotonic first, as Prometheus does
        let bumpy = [(0.1, 10.0), (0.5, 9.0), (1.0, 20.0), (f64::INFINITY, 20.0)];
        // -> 10, 10, 20, 20: rank 10 is reached in the first bucket
        assert!(close(histogram_quantile(0.5, &bumpy).unwrap(), 0.1));
    }

    #[test]
    fn the_window_is_at_least_four_intervals_and_a_minute() {
        assert_eq!(MetricsPolicy::new(5.0, None, None).window, 60.0);
        assert_eq!(MetricsPolicy::new(30.0, None, None).window, 120.0);
        assert_eq!(MetricsPolicy::new(1.0, Some(12.0), None).window, 12.0);
        assert_eq!(MetricsPolicy::new(5.0, Some(5.0), None).window, 20.0, "never under 4 intervals");
        assert_eq!(MetricsPolicy::new(5.0, None, None).hide_after, 25.0);
        assert_eq!(window_text(60.0), "1m");
        assert_eq!(window_text(90.0), "90s");
    }
}

/// Several series sampled at their own times, summed on one grid (every `step` seconds up to
/// `now`): at each grid time a series counts with its latest point at or before it, if that
/// point is at most `max_age` old. A fleet total read this way does not flap as clusters'
/// rounds land at different moments (bucketing by time would sum only the clusters that
/// happened to answer in the newest bucket); a series with nothing recent leaves the total.
pub fn sum_as_of<'a>(
    series: impl Iterator<Item = &'a [(f64, (f64, f64))]>,
    now: f64,
    step: f64,
    span: f64,
    max_age: f64,
) -> Vec<(f64, (f64, f64))> {
    let step = step.max(0.05);
    let n = (span / step).floor().max(0.0) as usize;
    let grid: Vec<f64> = (0..=n).rev().map(|k| now - k as f64 * step).collect();
    let mut out: Vec<(f64, (f64, f64), bool)> = grid.iter().map(|t| (*t, (0.0, 0.0), false)).collect();
    for points in series {
        let mut j = 0;
        for slot in out.iter_mut() {
            while j + 1 < points.len() && points[j + 1].0 <= slot.0 {
                j += 1;
            }
            let Some(p) = points.get(j).filter(|p| p.0 <= slot.0 && slot.0 - p.0 <= max_age) else { continue };
            slot.1 .0 += p.1 .0;
            slot.1 .1 += p.1 .1;
            slot.2 = true;
        }
    }
    out.into_iter().filter(|s| s.2).map(|s| (s.0, s.1)).collect()
}

#[cfg(test)]
mod as_of_tests {
    use super::*;

    #[test]
    fn a_fleet_total_takes_each_series_latest_point_and_never_flaps() {
        // two clusters' rounds 2.5 s apart: every grid point is the sum of both
        let a: Vec<(f64, (f64, f64))> = (0..10).map(|k| (k as f64 * 5.0, (100.0, 10.0))).collect();
        let b: Vec<(f64, (f64, f64))> = (0..10).map(|k| (k as f64 * 5.0 + 2.5, (20.0, 2.0))).collect();
        let s = sum_as_of([a.as_slice(), b.as_slice()].into_iter(), 47.6, 5.0, 40.0, 13.0);
        assert!(s.iter().skip(1).all(|(_, v)| *v == (120.0, 12.0)), "{s:?}");
        assert_eq!(s.last().unwrap().0, 47.6, "the newest point is now");
        // a cluster that stopped answering leaves the total once its last point is too old
        let s = sum_as_of([a.as_slice(), b[..5].as_ref()].into_iter(), 47.6, 5.0, 40.0, 13.0);
        assert_eq!(s.last().unwrap().1, (100.0, 10.0));
        assert!(sum_as_of(std::iter::empty(), 10.0, 5.0, 40.0, 13.0).is_empty(), "nothing known: no points");
    }
}
