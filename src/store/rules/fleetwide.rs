//! ML jobs, and what kst reads outside the clusters: the nightly matrix and Alertmanagers.

use super::agents::at;
use super::table as t;
use crate::store::pane::PaneId;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Object, Severity, Sight};
use crate::store::{ClusterState, Fleet};

pub fn jobs(ev: &mut Evaluation, i: usize, c: &ClusterState) {
    if c.jobs.kinds.is_empty() || c.jobs.kinds.values().all(Option::is_none) {
        ev.blind(Some(i), Sight::Jobs, None, "jobs not listed yet");
        return;
    }
    for j in c.jobs.jobs.iter().filter(|j| j.status == "Failed") {
        ev.push(
            Condition::new(
                &t::JOB_FAILED,
                Some(i),
                Object::new(j.kind, &j.namespace, &j.name),
                format!("failed{}", j.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()),
                Jump::Pane { pane: PaneId::Jobs, find: Find::from(format!("{}/{}", j.namespace, j.name)) },
            )
            .since(at(j.finished.as_deref())),
        );
    }
}

/// The nightly matrix: a cell that passed and now fails.
pub fn nightly(ev: &mut Evaluation, fleet: &Fleet) {
    let Some(m) = &fleet.nightly.matrix else {
        if fleet.nightly.disabled.is_none() {
            ev.blind(None, Sight::Github, None, "the nightly matrix is not read yet");
        }
        return;
    };
    if let Some(why) = &fleet.nightly.stale {
        ev.blind(None, Sight::Github, None, format!("the nightly matrix is stale: {why}"));
    }
    for cell in &m.cells {
        let finished: Vec<bool> = cell.runs.iter().filter_map(|r| r.passed()).collect();
        if finished.first() != Some(&false) || finished.get(1) != Some(&true) {
            continue;
        }
        let failed = cell.runs.iter().find(|r| r.passed() == Some(false));
        let name = cell.workflow_file.trim_end_matches(".yaml").to_string();
        let find = Find::Cell {
            row: format!("{} {}", cell.name.guide, cell.name.variant()),
            column: cell.name.platform().to_string(),
        };
        ev.push(
            Condition::new(
                &t::NIGHTLY_NEWLY_RED,
                None,
                Object::new("Nightly", "", &name),
                format!(
                    "newest run failed{}, the one before passed",
                    failed.and_then(|r| r.failed_step.as_deref()).map(|s| format!(" at {s}")).unwrap_or_default()
                ),
                Jump::Pane { pane: PaneId::Benchmarks, find },
            )
            .since(failed.and_then(|r| at(Some(r.created_at.as_str())))),
        );
    }
}

/// The active alerts of the configured Alertmanagers: the organisation's own rules.
pub fn alertmanager(ev: &mut Evaluation, fleet: &Fleet) {
    for am in &fleet.alertmanagers {
        let Some(alerts) = am.alerts.as_ref().filter(|_| am.error.is_none()) else {
            let why = am.error.clone().unwrap_or_else(|| "not read yet".into());
            // its alerts are about clusters (their cluster label) or the fleet: none is seen now
            let why = format!("Alertmanager {}: {why}", am.url);
            for cluster in std::iter::once(None).chain((0..fleet.clusters.len()).map(Some)) {
                ev.blind(cluster, Sight::Alertmanager, None, why.clone());
            }
            continue;
        };
        for a in alerts {
            let cluster = a.cluster_label().and_then(|l| fleet.clusters.iter().position(|c| c.context == l));
            let mut c = Condition::new(
                &t::ALERTMANAGER,
                cluster,
                Object::new("Alert", a.namespace(), &a.object_name()),
                a.summary(),
                Jump::Pane { pane: PaneId::Problems, find: Find::from(a.fingerprint.clone()) },
            )
            .since(Some(a.starts_at));
            c.severity = a.severity().unwrap_or(Severity::Warning);
            // Alertmanager's own suppression: the silence that covers it, or the inhibition
            c.silenced = match (a.silenced_by.first(), a.inhibited_by.is_empty()) {
                (Some(id), _) => Some(
                    am.silences
                        .iter()
                        .flatten()
                        .find(|s| &s.id == id)
                        .map(crate::store::alerts::silence_text)
                        .unwrap_or_else(|| format!("silenced ({id})")),
                ),
                (None, false) => Some("inhibited by another alert in Alertmanager".into()),
                (None, true) => None,
            };
            ev.push(c);
        }
    }
}
