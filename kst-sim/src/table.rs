//! Server-side printing: the `Table` form kubectl asks for (`Accept: ...;as=Table`), with the
//! columns the real API server prints for the common kinds.

use serde_json::{json, Value};

use super::resources::ResDef;

fn col(name: &str, ty: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
}

pub fn columns(def: &ResDef) -> Vec<Value> {
    match def.kind {
        "Pod" => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            col("Age", "string", 0),
            col("IP", "string", 1),
            col("Node", "string", 1),
        ],
        "Deployment" | "StatefulSet" => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            col("Age", "string", 0),
        ],
        "Node" => vec![
            col("Name", "string", 0),
            col("Status", "string", 0),
            col("Roles", "string", 0),
            col("Age", "string", 0),
            col("Version", "string", 0),
        ],
        "Service" => vec![
            col("Name", "string", 0),
            col("Type", "string", 0),
            col("Cluster-IP", "string", 0),
            col("Port(s)", "string", 0),
            col("Age", "string", 0),
        ],
        "Event" => vec![
            col("Last Seen", "string", 0),
            col("Type", "string", 0),
            col("Reason", "string", 0),
            col("Object", "string", 0),
            col("Message", "string", 0),
        ],
        _ => vec![col("Name", "string", 0), col("Age", "string", 0)],
    }
}

pub fn age(created: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = created.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let secs = (now.as_second() - t.as_second()).max(0);
    human_duration(secs)
}

/// The API server's short duration form: 45s, 5m12s, 3h, 2d5h, 40d.
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s if s < 8 * 86400 => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
        s => format!("{}d", s / 86400),
    }
}

pub fn cells(def: &ResDef, o: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = o["metadata"]["name"].clone();
    let age = age(o["metadata"]["creationTimestamp"].as_str().unwrap_or(""), now);
    match def.kind {
        "Pod" => {
            let statuses = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let restarts: i64 = statuses.iter().map(|s| s["restartCount"].as_i64().unwrap_or(0)).sum();
            let waiting = statuses.iter().find_map(|s| s["state"]["waiting"]["reason"].as_str());
            let status = waiting
                .map(str::to_string)
                .unwrap_or_else(|| o["status"]["phase"].as_str().unwrap_or("Pending").to_string());
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(status),
                json!(restarts.to_string()),
                json!(age),
                o["status"]["podIP"].clone(),
                o["spec"]["nodeName"].clone(),
            ]
        }
        "Deployment" | "StatefulSet" => {
            let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
            let ready = o["status"]["readyReplicas"].as_i64().unwrap_or(0);
            vec![
                name,
                json!(format!("{ready}/{want}")),
                json!(o["status"]["updatedReplicas"].as_i64().unwrap_or(0)),
                json!(o["status"]["availableReplicas"].as_i64().unwrap_or(0)),
                json!(age),
            ]
        }
        "Node" => {
            let ready = o["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .is_some_and(|c| c["status"] == "True");
            let roles: Vec<String> = o["metadata"]["labels"]
                .as_object()
                .map(|m| {
                    m.keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(str::to_string)).collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(if ready { "Ready" } else { "NotReady" }),
                json!(if roles.is_empty() { "<none>".to_string() } else { roles.join(",") }),
                json!(age),
                o["status"]["nodeInfo"]["kubeletVersion"].clone(),
            ]
        }
        "Service" => {
            let ports: Vec<String> = o["spec"]["ports"]
                .as_array()
                .map(|p| {
                    p.iter().map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP"))).collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(o["spec"]["type"].as_str().unwrap_or("ClusterIP")),
                json!(o["spec"]["clusterIP"].as_str().unwrap_or("None")),
                json!(ports.join(",")),
                json!(age),
            ]
        }
        "Event" => vec![
            json!(age),
            o["type"].clone(),
            o["reason"].clone(),
            json!(format!(
                "{}/{}",
                o["involvedObject"]["kind"].as_str().unwrap_or("").to_lowercase(),
                o["involvedObject"]["name"].as_str().unwrap_or("")
            )),
            o["message"].clone(),
        ],
        _ => vec![name, json!(age)],
    }
}

pub fn row(def: &ResDef, o: &Value, now: jiff::Timestamp) -> Value {
    json!({
        "cells": cells(def, o, now),
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()}
    })
}

pub fn table(def: &ResDef, objs: &[Value], rv: u64, cont: Option<String>) -> Value {
    let now = jiff::Timestamp::now();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
        "columnDefinitions": columns(def),
        "rows": objs.iter().map(|o| row(def, o, now)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_print_like_kubectl() {
        use super::human_duration as h;
        assert_eq!(h(45), "45s");
        assert_eq!(h(312), "5m12s");
        assert_eq!(h(3600), "60m");
        assert_eq!(h(5 * 3600 + 120), "5h2m");
        assert_eq!(h(3 * 86400 + 7200), "3d2h");
        assert_eq!(h(40 * 86400), "40d");
    }
}
