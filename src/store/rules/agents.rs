//! Agents (Kagenti): agents and tools, MCP tool servers, Shipwright builds, security posture.

use super::table as t;
use crate::store::kagenti::{health, Health};
use crate::store::pane::PaneId;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Object, Sight};
use crate::store::ClusterState;

/// An RFC 3339 time kept as text in the store, as Unix seconds.
pub(super) fn at(s: Option<&str>) -> Option<f64> {
    let t: jiff::Timestamp = s?.parse().ok()?;
    Some(t.as_millisecond() as f64 / 1000.0)
}

pub fn judge(ev: &mut Evaluation, i: usize, c: &ClusterState) {
    let cluster = Some(i);
    let k = &c.kagenti;
    if k.installed().is_none() {
        ev.blind(cluster, Sight::Agents, None, "agents not listed yet");
        return;
    }
    for a in &k.agents {
        let obj = Object::new(if a.wtype == "tool" { "Tool" } else { "Agent" }, &a.namespace, &a.name);
        let to = Jump::Pane { pane: PaneId::Agents, find: Find::from(format!("{}/{}", a.namespace, a.name)) };
        match health(a) {
            Health::Failing(why) => {
                ev.push(Condition::new(&t::AGENT_FAILING, cluster, obj, format!("failing: {why}"), to))
            }
            Health::Degraded(why) => {
                ev.push(Condition::new(&t::AGENT_DEGRADED, cluster, obj, format!("degraded: {why}"), to))
            }
            Health::ScaledToZero => ev.push(Condition::new(
                &t::AGENT_SCALED_TO_ZERO,
                cluster,
                obj,
                "scaled to 0 replicas, not by kst (no previous-replicas note)".into(),
                to,
            )),
            _ => {}
        }
    }
    for s in k.tools.iter().flatten() {
        let why = match s.status() {
            crate::store::tools::ServerStatus::Error(e) => format!("unreachable: {e}"),
            crate::store::tools::ServerStatus::NotReady(r) => format!("not ready: {r}"),
            _ => continue,
        };
        ev.push(Condition::new(
            &t::TOOL_SERVER_UNREACHABLE,
            cluster,
            Object::new("MCPServer", &s.namespace, &s.name),
            why,
            Jump::Pane { pane: PaneId::Tools, find: Find::from(format!("{}/{}", s.namespace, s.name)) },
        ));
    }
    for b in &k.builds {
        let Some(run) = b.runs.iter().find(|r| r.outcome.is_some()).filter(|r| r.outcome == Some(false)) else {
            continue;
        };
        let why = run.message.as_deref().or(run.reason.as_deref()).unwrap_or("failed");
        let finished = at(run.started.as_deref()).map(|s| s + run.duration_s.unwrap_or(0) as f64);
        ev.push(
            Condition::new(
                &t::BUILD_FAILED,
                cluster,
                Object::new("Build", &b.namespace, &b.name),
                format!("last run {} failed: {why}", run.name),
                Jump::Pane { pane: PaneId::Builds, find: Find::from(format!("{}/{}", b.namespace, b.name)) },
            )
            .since(finished),
        );
    }
    for f in k.findings().iter().filter(|f| f.severity == crate::store::posture::FindingSeverity::Critical) {
        let (ns, name) = f.subject.split_once('/').unwrap_or(("", &f.subject));
        ev.push(Condition::new(
            &t::SECURITY_CRITICAL,
            cluster,
            Object::new("Agent", ns, name),
            format!("{}: {}", f.rule, f.detail),
            Jump::Pane { pane: PaneId::Security, find: Find::from(f.subject.clone()) },
        ));
    }
    for d in k.drift().unwrap_or_default().iter().filter(|d| d.change != "binding removed") {
        ev.push(Condition::new(
            &t::SECURITY_DRIFT,
            cluster,
            Object::new("Posture", "", &d.key),
            format!("{} since the baseline", d.change),
            Jump::Pane { pane: PaneId::Security, find: Find::from(d.key.clone()) },
        ));
    }
}
