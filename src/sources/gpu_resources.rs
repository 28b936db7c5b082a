//! Which extended resources are GPUs, and how many a node offers or a pod asks for: one place,
//! so node counts, model servers, ML jobs, pod lists and the scheduler's pending asks agree.
//! The names are `[gpus] resources` from the config, set once at start.

use std::sync::OnceLock;

use serde_json::Value;

/// `nvidia.com/gpu.shared` is what time-slicing with `renameByDefault` advertises (k9s counts
/// it too).
pub const DEFAULT: &[&str] =
    &["nvidia.com/gpu", "nvidia.com/gpu.shared", "amd.com/gpu", "gpu.intel.com/i915", "habana.ai/gaudi"];

static NAMES: OnceLock<Vec<String>> = OnceLock::new();

/// The configured names; the first call wins (the config is read once).
pub fn set(names: Vec<String>) {
    let _ = NAMES.set(names);
}

/// The resource names counted as GPUs.
pub fn names() -> Vec<&'static str> {
    match NAMES.get() {
        Some(n) => n.iter().map(String::as_str).collect(),
        None => DEFAULT.to_vec(),
    }
}

/// A whole-number quantity: `"8"`, `8`, `"8000m"`; None for anything else.
pub fn quantity(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if let Some(milli) = s.strip_suffix('m') {
        return milli.parse::<u64>().ok().map(|m| m / 1000);
    }
    s.parse::<u64>().ok()
}

/// GPUs in a node's `capacity` or `allocatable` map, and whether a GPU entry did not parse.
pub fn in_map(map: &Value) -> (u64, bool) {
    let mut total = 0;
    let mut bad = false;
    if let Some(m) = map.as_object() {
        for r in names() {
            if let Some(v) = m.get(r) {
                match quantity(v) {
                    Some(n) => total += n,
                    None => bad = true,
                }
            }
        }
    } else if !map.is_null() {
        bad = true;
    }
    (total, bad)
}

/// GPUs a container's `resources` ask for: its limit of each GPU resource, else its request
/// (extended resources must have equal ones when both are set).
pub fn of_resources(resources: &Value) -> u32 {
    names()
        .into_iter()
        .filter_map(|r| {
            quantity(&resources["limits"][r]).filter(|n| *n > 0).or_else(|| quantity(&resources["requests"][r]))
        })
        .sum::<u64>()
        .min(u32::MAX as u64) as u32
}

/// GPUs a pod spec (or a pod template, whose `spec` is read) asks for: the app containers'
/// sum, or the largest init container's if that is more (init containers run one at a time).
pub fn of_pod(spec: &Value) -> u32 {
    let spec = if spec["spec"].is_object() { &spec["spec"] } else { spec };
    let list = |k: &str| -> Vec<u32> {
        spec[k].as_array().map(|a| a.iter().map(|c| of_resources(&c["resources"])).collect()).unwrap_or_default()
    };
    let app: u32 = list("containers").iter().sum();
    app.max(list("initContainers").into_iter().max().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_gpu_resource_counts_limits_first() {
        let spec = json!({"containers": [
            {"resources": {"limits": {"nvidia.com/gpu": "4"}, "requests": {"nvidia.com/gpu": "4"}}},
            {"resources": {"requests": {"amd.com/gpu": 2}}},
            {"resources": {"limits": {"cpu": "4"}}}]});
        assert_eq!(of_pod(&spec), 6);
        assert_eq!(of_pod(&json!({"spec": spec})), 6, "a template's spec");
        assert_eq!(of_pod(&json!({"containers": "odd"})), 0);
        assert_eq!(in_map(&json!({"nvidia.com/gpu": "8", "nvidia.com/gpu.shared": "16"})), (24, false));
        assert_eq!(in_map(&json!({"nvidia.com/gpu": "lots"})), (0, true));
        assert_eq!(quantity(&json!("8000m")), Some(8));
    }
}
