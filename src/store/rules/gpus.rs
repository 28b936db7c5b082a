//! GPUs: an XID, a framebuffer near full, and pods holding GPUs they do not use.

use std::collections::BTreeMap;

use super::{over, table as t};
use crate::store::pane::PaneId;
use crate::store::problems::{Condition, Evaluation, Find, Jump, Object, Sight};
use crate::store::ClusterState;

pub fn judge(ev: &mut Evaluation, i: usize, c: &ClusterState) {
    let cluster = Some(i);
    if c.gpus.exporters.is_none() && c.gpus.nodes.is_empty() {
        ev.blind(cluster, Sight::Gpus, None, "GPU exporters not listed yet");
        return;
    }
    // a node whose page cannot be read: its GPUs are not seen
    for (node, n) in &c.gpus.nodes {
        if let Some((_, why)) = &n.error {
            for g in &n.gpus {
                ev.blind(cluster, Sight::Gpus, Some(Object::new("GPU", "", &g.id())), format!("{node}: {why}"));
            }
        }
    }
    let mut idle: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut held: BTreeMap<(String, String), usize> = BTreeMap::new();
    for g in c.gpus.gpus() {
        let find = format!("{}/{}", c.context, g.id());
        let object = Object::new("GPU", "", &g.id());
        if g.has_xid() {
            ev.push(Condition::new(
                &t::GPU_XID,
                cluster,
                object.clone(),
                format!("XID {:.0} on GPU {} of {} ({})", g.xid.unwrap_or(0.0), g.gpu, g.node, g.model_name),
                Jump::Pane { pane: PaneId::Gpus, find: Find::from(find.clone()) },
            ));
        }
        if let Some(reason) = over(&t::GPU_MEMORY, g.fb_used(), "") {
            ev.push(Condition::new(
                &t::GPU_MEMORY,
                cluster,
                object,
                reason,
                Jump::Pane { pane: PaneId::Gpus, find: Find::from(find) },
            ));
        }
        if let Some(pod) = &g.pod {
            *held.entry(pod.clone()).or_default() += 1;
            if g.util.is_some() && !g.busy() {
                *idle.entry(pod.clone()).or_default() += 1;
            }
        }
    }
    for (pod, n) in idle {
        if held.get(&pod) != Some(&n) {
            continue;
        }
        // when kst first saw them idle is kst's own sight, not a record: the Tracker's
        ev.push(Condition::new(
            &t::GPU_IDLE_HELD,
            cluster,
            Object::new("Pod", &pod.0, &pod.1),
            format!("holds {n} GPU{} under {:.0}% busy", if n == 1 { "" } else { "s" }, t::GPU_BUSY * 100.0),
            Jump::Pod { namespace: pod.0.clone(), name: pod.1.clone() },
        ));
    }
}
