//! The NVIDIA dcgm-exporter's `/metrics` page of one GPU node (`:9400`), in the exporter's
//! names and labels (`gpu`, `UUID`, `pci_bus_id`, `device`, `modelName`, `Hostname`, and the
//! Kubernetes mapping `pod`, `namespace`, `container` for a GPU a pod holds).
//!
//! What the page says follows the world: a GPU held by a model server is as busy as its engine
//! (KV use and routed requests), a GPU held by anything else idles, a free GPU idles with an
//! empty framebuffer, the GPU the A100 cluster's device plugin withholds reports XID 79,
//! and a node labelled `nvidia.com/mig.config=all-3g.40gb` reports MIG instances, whose
//! utilisation is `DCGM_FI_PROF_GR_ENGINE_ACTIVE` (a ratio) because `DCGM_FI_DEV_GPU_UTIL` does
//! not work under MIG.

use std::fmt::Write;

use serde_json::Value;

use super::super::resources as r;
use super::super::SimCluster;

/// What one physical GPU (or MIG instance) reports.
struct Gpu {
    index: usize,
    /// (profile, instance id) under MIG.
    mig: Option<(&'static str, usize)>,
    util: f64,
    fb_used_mib: f64,
    fb_total_mib: f64,
    power_w: f64,
    temp_c: f64,
    xid: f64,
    holder: Option<(String, String, String)>,
}

fn framebuffer_mib(product: &str) -> f64 {
    if product.contains("80GB") {
        81_559.0
    } else if product.contains("40GB") {
        40_960.0
    } else {
        24_576.0
    }
}

/// The exporter's page for `node`.
pub fn render(cluster: &SimCluster, node: &str) -> String {
    let (node_obj, holders) = {
        let store = cluster.store.read().expect("store lock");
        let nodes = cluster.registry.index_of(&r::NODES).expect("nodes");
        let pods = cluster.registry.index_of(&r::PODS).expect("pods");
        let node_obj = store.get(nodes, "", node).map(|n| n.value()).unwrap_or(Value::Null);
        // the device plugin hands out GPUs in order: pods by name, as many GPUs as each asks
        let mut holders: Vec<(String, String, String, i64)> = store
            .list(pods, None)
            .into_iter()
            .filter(|p| p.node_name == node && p.phase == "Running")
            .filter_map(|p| {
                let v = p.value();
                let gpus = super::super::scenario::pod_gpus(&v["spec"]);
                let container = v["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
                (gpus > 0).then(|| (p.namespace.clone(), p.name.clone(), container, gpus))
            })
            .collect();
        holders.sort_by(|a, b| a.1.cmp(&b.1));
        (node_obj, holders)
    };
    let labels = &node_obj["metadata"]["labels"];
    let product = labels["nvidia.com/gpu.product"].as_str().unwrap_or("NVIDIA-H100-80GB-HBM3").to_string();
    let capacity: usize =
        node_obj["status"]["capacity"]["nvidia.com/gpu"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    let allocatable: usize =
        node_obj["status"]["allocatable"]["nvidia.com/gpu"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mig = labels["nvidia.com/mig.config"].as_str() == Some("all-3g.40gb");
    let total = framebuffer_mib(&product);
    let engines = cluster.dynamics.lock().expect("dynamics").engines.clone();

    let mut gpus = Vec::new();
    let mut next = 0usize;
    let mut assigned: Vec<Option<(String, String, String)>> = vec![None; capacity];
    for (ns, pod, container, n) in &holders {
        for _ in 0..*n {
            if next < allocatable.min(capacity) {
                assigned[next] = Some((ns.clone(), pod.clone(), container.clone()));
                next += 1;
            }
        }
    }
    for (i, holder) in assigned.into_iter().enumerate() {
        let busy = holder.as_ref().and_then(|(_, pod, _)| engines.get(pod)).map(|e| {
            let load = (e.state.rps / e.state.capacity_rps.max(0.1)).clamp(0.0, 1.0);
            (0.10 + 0.55 * e.state.kv + 0.35 * load).clamp(0.0, 1.0)
        });
        // a pod that holds a GPU without an engine (a job between steps) keeps it idle
        let util = busy.unwrap_or(0.0);
        // vLLM takes 90% of the framebuffer up front; anything else a little
        let fb_used = match (&holder, busy) {
            (Some(_), Some(_)) => total * 0.9,
            (Some(_), None) => 2_048.0,
            (None, _) => 0.0,
        };
        // the A100 cluster's withheld GPU has fallen off the bus (the H100 one is only withheld)
        let withheld = i >= allocatable && i < capacity;
        let xid = withheld && cluster.shape == super::super::scenario::Shape::GpuDecode;
        let instances: Vec<Option<(&'static str, usize)>> = if mig && holder.is_none() && !withheld {
            vec![Some(("3g.40gb", 1)), Some(("3g.40gb", 2))]
        } else {
            vec![None]
        };
        for inst in instances {
            let share = if inst.is_some() { 0.5 } else { 1.0 };
            gpus.push(Gpu {
                index: i,
                mig: inst,
                util: util * 100.0,
                fb_used_mib: fb_used * share,
                fb_total_mib: total * share,
                power_w: 70.0 + 330.0 * util,
                temp_c: 34.0 + 44.0 * util,
                xid: if xid { 79.0 } else { 0.0 },
                holder: holder.clone(),
            });
        }
    }

    let mut out = String::new();
    let hostname = node;
    let series = |g: &Gpu| {
        let mut l = format!(
            "gpu=\"{i}\",UUID=\"GPU-{h:08x}-{i:04x}-4{i:03x}-8000-{h:012x}\",pci_bus_id=\"00000000:{bus:02X}:00.0\",device=\"nvidia{i}\",modelName=\"{model}\",Hostname=\"{hostname}\"",
            i = g.index,
            h = fnv(node) & 0xffff_ffff,
            bus = 0x18 + g.index * 0x10,
            model = product.replace('-', " "),
        );
        if let Some((profile, id)) = g.mig {
            let _ = write!(l, ",GPU_I_PROFILE=\"{profile}\",GPU_I_ID=\"{id}\"");
        }
        if let Some((ns, pod, container)) = &g.holder {
            let _ = write!(l, ",container=\"{container}\",namespace=\"{ns}\",pod=\"{pod}\"");
        }
        l
    };
    let mut family = |name: &str, help: &str, value: &dyn Fn(&Gpu) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for g in &gpus {
            if let Some(v) = value(g) {
                let _ = writeln!(out, "{name}{{{}}} {v}", series(g));
            }
        }
    };
    family("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", &|g| {
        Some(if g.util > 0.0 { 1980.0 } else { 345.0 })
    });
    family("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", &|g| Some(g.temp_c.round()));
    family("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", &|g| Some((g.power_w * 1000.0).round() / 1000.0));
    family("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", &|g| g.mig.is_none().then(|| g.util.round()));
    family("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", &|g| {
        Some((g.fb_total_mib - g.fb_used_mib).round())
    });
    family("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", &|g| Some(g.fb_used_mib.round()));
    family("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", &|g| Some(g.xid));
    family("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.", &|g| {
        Some((g.util / 100.0 * 10_000.0).round() / 10_000.0)
    });
    out
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}
