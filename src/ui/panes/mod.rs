//! The panes, one component per file, in tab order. Adding a pane: its file, and one line in
//! [`all`].

pub mod agents;
pub mod benchmarks;
pub mod builds;
pub mod discovery;
pub mod epp;
pub mod gpus;
pub mod jobs;
pub mod kv;
pub mod models;
pub mod overview;
pub mod placement;
pub mod problems;
pub mod security;
pub mod serving;
pub mod status;
pub mod throughput;
pub mod tools;
pub mod topology;

use ratatui::text::{Line, Span};

use super::component::{Ctx, Outcome, Pane};
use super::keymap::Action;
use super::widgets::table::ListState;

/// Every pane, in tab order (the digits 1-9, 0 jump to the first ten).
pub fn all() -> Vec<Box<dyn Pane>> {
    vec![
        Box::new(overview::Overview::default()),
        Box::new(problems::Problems::default()),
        Box::new(models::Models::default()),
        Box::new(serving::Serving::default()),
        Box::new(kv::KvCache::default()),
        Box::new(throughput::Throughput::default()),
        Box::new(epp::Epp::default()),
        Box::new(benchmarks::Benchmarks::default()),
        Box::new(jobs::Jobs::default()),
        Box::new(agents::Agents::default()),
        Box::new(builds::Builds::default()),
        Box::new(tools::Tools::default()),
        Box::new(discovery::Discovery::default()),
        Box::new(topology::Topology::default()),
        Box::new(security::Security::default()),
        Box::new(status::Status),
        Box::new(placement::Placement::default()),
        Box::new(gpus::Gpus::default()),
    ]
}

/// Up, down, top, bottom and paging on a list: the same in every pane.
pub fn motion(list: &mut ListState, action: Option<Action>, keys: &[String]) -> Option<Outcome> {
    let a = action.filter(|a| a.is_motion())?;
    list.on_action(a, keys);
    Some(Outcome::Redraw)
}

/// Clusters without LLM-d (or that have not answered), said plainly under a table.
pub fn llmd_absent_line(cx: &Ctx) -> Line<'static> {
    let t = cx.theme;
    let mut spans = Vec::new();
    for i in cx.cluster_indices() {
        let c = cx.cluster(i);
        let why = match (c.conn.reachable(), c.llmd.installed) {
            (false, _) if c.llmd.pools.is_empty() => Some(c.conn.label().to_string()),
            (true, Some(false)) => Some("no InferencePool API".to_string()),
            (true, None) => Some("discovering".to_string()),
            _ => None,
        };
        if let Some(why) = why {
            spans.push(Span::styled(format!("{}: {why}   ", cx.display_name(&c.context)), t.muted));
        }
        forbidden_span(cx, c, crate::sources::llmd::READS, &mut spans);
    }
    Line::from(spans)
}

/// A read the cluster forbids leaves the pane's rows of that cluster incomplete: said so, in
/// words (not only colour), beside the rows that are shown.
fn forbidden_span(cx: &Ctx, c: &crate::store::ClusterState, reads: &[&str], spans: &mut Vec<Span<'static>>) {
    let missing: Vec<&str> = reads.iter().copied().filter(|r| c.forbidden.contains(*r)).collect();
    if c.conn.reachable() && !missing.is_empty() {
        spans.push(Span::styled(
            format!(
                "▲ {}: cannot read {} (forbidden), rows incomplete   ",
                cx.display_name(&c.context),
                missing.join(", ")
            ),
            cx.theme.warn,
        ));
    }
}

/// Clusters without Kagenti say so (not an error).
pub fn kagenti_absent_line(cx: &Ctx) -> Line<'static> {
    let mut spans = Vec::new();
    for i in cx.cluster_indices() {
        let c = cx.cluster(i);
        let why = match (c.conn.reachable(), c.kagenti.installed()) {
            (true, Some(false)) => Some("Kagenti not installed"),
            (true, None) => Some("discovering"),
            (false, _) if c.kagenti.agents.is_empty() => Some(c.conn.label()),
            _ => None,
        };
        if let Some(why) = why {
            spans.push(Span::styled(format!("{}: {why}   ", cx.display_name(&c.context)), cx.theme.muted));
        }
        forbidden_span(cx, c, crate::sources::kagenti::READS, &mut spans);
    }
    Line::from(spans)
}

/// Whether any cluster has LLM-d / Kagenti (a wall screen skips the panes of neither).
pub fn any_llmd(fleet: &crate::store::Fleet) -> bool {
    fleet.clusters.iter().any(|c| c.llmd.installed == Some(true))
}
pub fn any_kagenti(fleet: &crate::store::Fleet) -> bool {
    fleet.clusters.iter().any(|c| c.kagenti.installed() == Some(true))
}

/// The pods of a workload with a label selector, as a drill-down to open.
pub fn pods_of(cx: &Ctx, cluster: usize, namespace: &str, name: &str, selector: String) -> Outcome {
    let crumb = format!("{} pods", cx.qualified(cluster, name));
    Outcome::Open(crate::sources::views::ViewSpec::Pods { cluster, namespace: namespace.to_string(), selector }, crumb)
}

/// The open problems about one object (of that kind, `namespace/name` on a cluster), for a row
/// in full: `✖ kind: reason (state)`.
pub fn problems_about(cx: &Ctx, cluster: usize, kind: &str, namespace: &str, name: &str) -> Vec<String> {
    cx.fleet
        .problems
        .all()
        .into_iter()
        .filter(|p| p.cluster == Some(cluster) && !p.resolved() && p.object.kind == kind)
        .filter(|p| p.object.name == name && (p.object.namespace == namespace || p.object.namespace.is_empty()))
        .map(|p| format!("{} {}: {} ({})", p.severity.mark(), p.kind, p.reason, p.state()))
        .collect()
}
