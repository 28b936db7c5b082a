//! `metrics.k8s.io/v1beta1` as metrics-server serves it, on the clusters that run one:
//! PodMetrics and NodeMetrics computed from the objects at each request, `get` and `list`
//! only (no watch), memory as a working set. The rules and their sources are in
//! `docs/simulator-metrics-server.md`; the usage figures themselves are made up, held for a
//! metrics-server resolution (15 s) so two readers in the same window agree.

use http::StatusCode;
use serde_json::{json, Value};

use super::http::{error, not_found, Reply, Request};
use super::resources::ResPath;
use super::resources::{r, ResDef, NODES, PODS};
use super::select::selectors;
use super::util::{fnv, rfc3339};
use super::SimCluster;

pub const POD_METRICS: ResDef =
    ResDef { computed: true, ..r("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", "pod", true, &[], &[]) };
pub const NODE_METRICS: ResDef =
    ResDef { computed: true, ..r("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", "node", false, &[], &[]) };

/// metrics-server's default `--metric-resolution`: one sample per window.
const RESOLUTION_S: i64 = 15;
/// What the kubelet's system containers and the OS take on a node besides the pods.
const NODE_OVERHEAD: (f64, f64) = (0.35, 2.0 * GIB);
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A request's CPU (cores) or memory (bytes) as the simulator writes them: `"1"`, `"500m"`,
/// `"128Mi"`, `"64Gi"`; None for anything else.
fn quantity(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    let units = [("m", 1e-3), ("Ki", 1024.0), ("Mi", 1024.0 * 1024.0), ("Gi", GIB)];
    for (suffix, scale) in units {
        if let Some(n) = s.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * scale);
        }
    }
    s.parse().ok()
}

/// One container's usage in the current window: (cores, bytes). A fixed share of its request
/// per pod and container, moving a little from one window to the next.
fn container_usage(cluster: &SimCluster, pod: &str, c: &Value, window: i64) -> (f64, f64) {
    let name = c["name"].as_str().unwrap_or("");
    let seed = fnv(&format!("{}/{pod}/{name}", cluster.name));
    let share = |salt: u64, lo: f64, span: f64| {
        let base = ((seed ^ salt) % 1000) as f64 / 1000.0;
        let wobble = (fnv(&format!("{seed}/{window}/{salt}")) % 1000) as f64 / 1000.0 - 0.5;
        (lo + span * base + 0.1 * wobble).clamp(0.02, 0.98)
    };
    let req = &c["resources"]["requests"];
    let cpu = quantity(&req["cpu"]).unwrap_or(0.1) * share(1, 0.15, 0.75);
    let mem_base = quantity(&req["memory"]).or_else(|| quantity(&c["resources"]["limits"]["memory"]));
    let mem = mem_base.unwrap_or(128.0 * 1024.0 * 1024.0) * share(2, 0.35, 0.55);
    (cpu, mem)
}

/// The containers the kubelet reports for a running pod: its containers and its sidecars
/// (init containers that keep running, `restartPolicy: Always`).
fn running_containers(pod: &Value) -> Vec<&Value> {
    let sidecars =
        pod["spec"]["initContainers"].as_array().into_iter().flatten().filter(|c| c["restartPolicy"] == "Always");
    sidecars.chain(pod["spec"]["containers"].as_array().into_iter().flatten()).collect()
}

fn cpu_text(cores: f64) -> String {
    format!("{}n", (cores * 1e9).round() as u64)
}

fn memory_text(bytes: f64) -> String {
    format!("{}Ki", (bytes / 1024.0).round() as u64)
}

struct Window {
    index: i64,
    timestamp: String,
    now: String,
}

fn window() -> Window {
    let now = jiff::Timestamp::now();
    let index = now.as_second().div_euclid(RESOLUTION_S);
    let at = jiff::Timestamp::from_second(index * RESOLUTION_S).unwrap_or(now);
    Window { index, timestamp: rfc3339(at), now: rfc3339(now) }
}

/// A running pod's PodMetrics; None for a pod not Running (metrics-server skips those).
fn pod_metrics(cluster: &SimCluster, pod: &Value, w: &Window) -> Option<(Value, f64, f64)> {
    if pod["status"]["phase"] != "Running" {
        return None;
    }
    let name = pod["metadata"]["name"].as_str()?;
    let (mut cpu, mut mem) = (0.0, 0.0);
    let containers: Vec<Value> = running_containers(pod)
        .into_iter()
        .map(|c| {
            let (c_cpu, c_mem) = container_usage(cluster, name, c, w.index);
            cpu += c_cpu;
            mem += c_mem;
            json!({"name": c["name"], "usage": {"cpu": cpu_text(c_cpu), "memory": memory_text(c_mem)}})
        })
        .collect();
    let v = json!({
        "kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {"name": name, "namespace": pod["metadata"]["namespace"], "creationTimestamp": w.now},
        "timestamp": w.timestamp, "window": format!("{RESOLUTION_S}s"), "containers": containers,
    });
    Some((v, cpu, mem))
}

/// `GET` on PodMetrics or NodeMetrics, one or a list; anything else is refused as
/// metrics-server refuses it.
pub fn serve(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    if req.method != http::Method::GET || req.flag("watch") {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "the server does not allow this method on the requested resource",
        );
    }
    let (ls, fs) = match selectors(req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let w = window();
    let (Some(pods_at), Some(nodes_at)) = (cluster.registry.index_of(&PODS), cluster.registry.index_of(&NODES)) else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the metrics server has no pod lister");
    };
    let store = cluster.store.read().expect("store lock");
    match (p.def.kind, &p.name) {
        ("PodMetrics", Some(name)) => {
            let ns = p.ns.as_deref().unwrap_or("");
            let Some(pod) = store.get(pods_at, ns, name) else {
                return not_found("pods", "", name);
            };
            match pod_metrics(cluster, &pod.value(), &w) {
                Some((v, _, _)) => Reply::ok(&v),
                None => not_found("pods", "metrics.k8s.io", &format!("{ns}/{name}")),
            }
        }
        ("PodMetrics", None) => {
            // the store lists in (namespace, name) order, the order metrics-server keeps
            let items: Vec<Value> = store
                .list(pods_at, p.ns.as_deref())
                .iter()
                .filter(|o| o.selected(&ls, &fs))
                .filter_map(|o| pod_metrics(cluster, &o.value(), &w).map(|(v, _, _)| v))
                .collect();
            Reply::ok(&json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
                              "metadata": {}, "items": items}))
        }
        (_, name) => {
            // a node's usage: its running pods' plus what the node itself takes
            let mut usage: std::collections::BTreeMap<String, (f64, f64)> = std::collections::BTreeMap::new();
            for o in store.list(pods_at, None).iter().filter(|o| !o.node_name.is_empty()) {
                if let Some((_, cpu, mem)) = pod_metrics(cluster, &o.value(), &w) {
                    let u = usage.entry(o.node_name.clone()).or_insert(NODE_OVERHEAD);
                    (u.0, u.1) = (u.0 + cpu, u.1 + mem);
                }
            }
            let node = |n: &super::store::Stored| {
                let (cpu, mem) = usage.get(&n.name).copied().unwrap_or(NODE_OVERHEAD);
                json!({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                       "metadata": {"name": n.name, "labels": n.labels, "creationTimestamp": w.now},
                       "timestamp": w.timestamp, "window": format!("{RESOLUTION_S}s"),
                       "usage": {"cpu": cpu_text(cpu), "memory": memory_text(mem)}})
            };
            match name {
                Some(name) => match store.get(nodes_at, "", name) {
                    Some(n) => Reply::ok(&node(&n)),
                    None => not_found("nodes", "metrics.k8s.io", name),
                },
                None => {
                    let items: Vec<Value> =
                        store.list(nodes_at, None).iter().filter(|o| o.selected(&ls, &fs)).map(|n| node(n)).collect();
                    Reply::ok(&json!({"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
                                      "metadata": {}, "items": items}))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_as_the_simulator_writes_them() {
        assert_eq!(quantity(&json!("500m")), Some(0.5));
        assert_eq!(quantity(&json!("2")), Some(2.0));
        assert_eq!(quantity(&json!("128Mi")), Some(128.0 * 1024.0 * 1024.0));
        assert_eq!(quantity(&json!("64Gi")), Some(64.0 * GIB));
        assert_eq!(quantity(&json!(3)), None, "a number, not a string: not a quantity this server wrote");
        assert_eq!(cpu_text(0.25), "250000000n");
        assert_eq!(memory_text(1024.0 * 1024.0), "1024Ki");
    }
}
