//! Reads llm-d-benchmark reports (v0.2 and v0.2.1, YAML or JSON) from a directory. Each file is
//! parsed on its own: a malformed one is named with its reason and the rest still load.

use std::path::Path;

use serde_json::Value;

use crate::store::reports::{Percentiles, Report, ReportError, Reports};

const SUPPORTED: &[&str] = &["0.2", "0.2.1"];
/// Larger files are not reports (the aggregate fits in a few KB; time series make them bigger).
const MAX_FILE: u64 = 64 << 20;

/// A statistics object's value in seconds, whatever its `units` (s, ms, us).
fn seconds(stat: &Value, key: &str) -> Option<f64> {
    let v = stat[key].as_f64()?;
    let scale = match stat["units"].as_str().unwrap_or("s") {
        "ms" | "msec" | "milliseconds" => 1e-3,
        "us" | "usec" | "microseconds" => 1e-6,
        _ => 1.0,
    };
    Some(v * scale)
}

fn percentiles(stat: &Value) -> Percentiles {
    Percentiles { p50: seconds(stat, "p50"), p99: seconds(stat, "p99") }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One parsed document (already YAML- or JSON-decoded) as a report.
pub fn from_value(file: &str, v: &Value) -> Result<Report, String> {
    let version = text(&v["version"]).ok_or("no `version`")?;
    if !SUPPORTED.contains(&version.as_str()) {
        return Err(format!("version {version} is not supported (0.2, 0.2.1)"));
    }
    let agg = &v["results"]["request_performance"]["aggregate"];
    if !agg.is_object() {
        return Err("no results.request_performance.aggregate".into());
    }
    let stack: Vec<&Value> = v["scenario"]["stack"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let engines: Vec<&Value> = stack
        .iter()
        .map(|s| &s["standardized"])
        .filter(|s| s["kind"].as_str().is_none_or(|k| k == "inference_engine"))
        .collect();
    let model = engines.iter().find_map(|s| s["model"]["name"].as_str()).map(str::to_string);
    let accelerator = engines.iter().find_map(|s| {
        let acc = &s["accelerator"];
        let name = acc["model"].as_str()?;
        let per = acc["count"].as_u64().unwrap_or(1);
        let total: u64 = engines
            .iter()
            .filter(|e| e["accelerator"]["model"].as_str() == Some(name))
            .map(|e| e["accelerator"]["count"].as_u64().unwrap_or(per) * e["replicas"].as_u64().unwrap_or(1))
            .sum();
        Some(format!("{total}x {name}"))
    });
    let layout = engines
        .iter()
        .map(|s| {
            let role = match s["role"].as_str().unwrap_or("aggregate") {
                "prefill" => "P",
                "decode" => "D",
                _ => "A",
            };
            let tp = s["accelerator"]["parallelism"]["tp"].as_u64().map(|t| format!(" tp{t}")).unwrap_or_default();
            format!("{}{role}{tp}", s["replicas"].as_u64().unwrap_or(1))
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let load = &v["scenario"]["load"]["standardized"];
    let mut load_parts = Vec::new();
    if let Some(t) = load["tool"].as_str() {
        load_parts.push(t.to_string());
    }
    if let Some(q) = load["rate_qps"].as_f64() {
        load_parts.push(format!("{q} qps"));
    }
    if let Some(c) = load["concurrency"].as_u64() {
        load_parts.push(format!("{c} concurrent"));
    }
    if let Some(i) = load["input_seq_len"]["value"].as_u64() {
        load_parts.push(format!("in {i}"));
    }
    if let Some(o) = load["output_seq_len"]["value"].as_u64() {
        load_parts.push(format!("out {o}"));
    }
    let run = &v["run"];
    Ok(Report {
        file: file.to_string(),
        version,
        uid: text(&run["uid"]).unwrap_or_else(|| file.to_string()),
        start: text(&run["time"]["start"]),
        description: run["description"].as_str().map(str::to_string),
        model,
        accelerator,
        layout: if layout.is_empty() { "—".into() } else { layout },
        load: load_parts.join(" "),
        output_tokens_per_s: agg["throughput"]["output_token_rate"]["mean"].as_f64(),
        requests_per_s: agg["throughput"]["request_rate"]["mean"].as_f64(),
        ttft_s: percentiles(&agg["latency"]["time_to_first_token"]),
        itl_s: percentiles(&agg["latency"]["inter_token_latency"]),
        request_latency_s: percentiles(&agg["latency"]["request_latency"]),
        requests: agg["requests"]["total"].as_u64(),
        failures: agg["requests"]["failures"].as_u64(),
    })
}

/// One file: JSON by its extension (or first byte), else YAML.
pub fn parse_file(name: &str, bytes: &[u8]) -> Result<Report, String> {
    let json = name.ends_with(".json") || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let v: Value = if json {
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?
    } else {
        yaml_serde::from_slice(bytes).map_err(|e| format!("not YAML: {e}"))?
    };
    from_value(name, &v)
}

/// What was parsed from each file, by path, with the modification time and size it had: a
/// file that has not changed is not read again.
pub type ParseCache =
    std::collections::BTreeMap<std::path::PathBuf, (Option<std::time::SystemTime>, u64, Result<Report, String>)>;

/// Every `*.yaml`, `*.yml` and `*.json` in `dir` (not recursive).
pub fn load_dir(dir: &Path) -> Reports {
    load_dir_cached(dir, &mut ParseCache::new())
}

/// The same, reading only the files that are new or changed since the last call with `cache`.
pub fn load_dir_cached(dir: &Path, cache: &mut ParseCache) -> Reports {
    let mut out = Reports { dir: Some(dir.display().to_string()), ..Default::default() };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.problem = Some(format!("cannot read {}: {e}", dir.display()));
            return out;
        }
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x, "yaml" | "yml" | "json")))
        .collect();
    files.sort();
    cache.retain(|p, _| files.contains(p));
    for p in files {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let meta = std::fs::metadata(&p);
        let stamp = meta.as_ref().ok().map(|m| (m.modified().ok(), m.len()));
        let fresh = match (cache.get(&p), stamp) {
            (Some((t, len, _)), Some((t2, len2))) => *t == t2 && t.is_some() && *len == len2,
            _ => false,
        };
        if !fresh {
            let read = meta.map_err(|e| e.to_string()).and_then(|m| {
                if m.len() > MAX_FILE {
                    Err(format!("larger than {} MiB", MAX_FILE >> 20))
                } else {
                    std::fs::read(&p).map_err(|e| e.to_string())
                }
            });
            let parsed = read.and_then(|b| parse_file(&name, &b));
            let (t, len) = stamp.unwrap_or((None, 0));
            cache.insert(p.clone(), (t, len, parsed));
        }
        match &cache[&p].2 {
            Ok(r) => out.reports.push(r.clone()),
            Err(error) => out.errors.push(ReportError { file: name, error: error.clone() }),
        }
    }
    out
}
