//! The rules: one table (`table.rs`) holds every kind of problem with its threshold and
//! `for:`; a small function per domain turns the fleet's state into the conditions that hold
//! now and says what it could not look at; `evaluate` runs them all. Pure functions of the
//! Fleet: the Tracker (`store/problems`) holds their output over time.

mod agents;
mod cluster;
mod fleetwide;
mod gpus;
mod hub;
pub mod levels;
mod placement;
mod serving;
pub mod table;

pub use crate::store::problems::Level;
pub use table::{by_id, ALL, GPU_BUSY, PLACEMENT_STATUS_STALE_S};

use crate::store::problems::{Condition, Evaluation, Kind};
use crate::store::Fleet;

/// How long a metric rule's condition has held by a query layer's history: kst asks at start
/// (and after the layer comes back) so an incident older than kst fires with its real start.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub kind: &'static str,
    pub cluster: usize,
    pub namespace: String,
    pub name: String,
    /// Unix seconds its current run began.
    pub start: f64,
    /// The run reaches back to the start of what was asked: it began then or earlier.
    pub lower_bound: bool,
    /// When the history was read.
    pub at: f64,
}

/// The history rows by (kind, cluster, namespace, name).
pub type History = std::collections::HashMap<(&'static str, usize, String, String), HistoryRow>;

/// A rule over a value: the condition's kind and reason when the value crosses it. Unknown
/// values (`—`) never hold: a rule does not fire on a number kst does not have.
fn over(kind: &'static Kind, value: Option<f64>, suffix: &str) -> Option<String> {
    let v = value.filter(|v| v.is_finite())?;
    let cmp = kind.cmp.as_ref()?;
    cmp.holds(v).then(|| cmp.reason(v, suffix))
}

/// Every condition that holds in the fleet at `now`, and what kst could not look at.
pub fn evaluate(fleet: &Fleet, now: f64) -> Evaluation {
    let reading = fleet.reading(now);
    let mut ev =
        Evaluation { contexts: fleet.clusters.iter().map(|c| c.context.clone()).collect(), ..Default::default() };
    for (i, c) in fleet.clusters.iter().enumerate() {
        if !cluster::judge(&mut ev, i, c) {
            continue;
        }
        // a WDS holds workload objects as placement templates: nothing runs them there
        if c.placement.is_wds() {
            continue;
        }
        serving::judge(&mut ev, fleet, i, c, &reading, now);
        agents::judge(&mut ev, i, c);
        fleetwide::jobs(&mut ev, i, c);
        gpus::judge(&mut ev, i, c);
    }
    serving::models(&mut ev, fleet, &reading);
    placement::judge(&mut ev, fleet, now);
    hub::judge(&mut ev, fleet, now);
    fleetwide::nightly(&mut ev, fleet);
    fleetwide::alertmanager(&mut ev, fleet);
    ev
}

/// The conditions alone (tests, and the rule-file generator's checks).
pub fn conditions(fleet: &Fleet, now: f64) -> Vec<Condition> {
    evaluate(fleet, now).conditions
}

/// A Prometheus rule file with every rule of the table that has PromQL, `for:` scaled by
/// `hold_scale`, `$w` as `window`: what `kst rules` prints, and what the agreement test gives a
/// real Prometheus.
pub fn prometheus_rule_file(window_s: f64, hold_scale: f64) -> String {
    let mut out = String::from("groups:\n- name: kst\n  rules:\n");
    let secs = |s: f64| format!("{}s", (s.max(0.0)).round() as u64);
    for k in ALL.iter().filter(|k| k.promql.is_some() && k.domain != crate::store::problems::Domain::Hub) {
        let expr = k.promql.unwrap_or_default().replace("$w", &secs(window_s.max(1.0)));
        out.push_str(&format!(
            "  - alert: {}\n    expr: '{}'\n    for: {}\n    labels:\n      severity: {}\n      kst_kind: {}\n    annotations:\n      summary: '{}'\n",
            k.alert,
            expr.replace('\'', "''"),
            secs(k.for_s * hold_scale),
            k.severity.name(),
            k.id,
            k.when.replace('\'', "''"),
        ));
    }
    out
}

#[cfg(test)]
mod every_kind;
#[cfg(test)]
mod tests;
