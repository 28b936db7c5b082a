//! KubeStellar's status controller: StatusCollectors checked, and one CombinedStatus per
//! (workload object, BindingPolicy) whose matching clauses name a collector, in the WDS
//! (docs/upstream/kubestellar-combinedstatus-notes.md §1-4, read at kubestellar `1c28a8a`).
//! Its expressions are CEL upstream; the simulator evaluates the subset its scenario and tests
//! use: a field path from `obj`, `returned`, `inventory` (anything else is an evaluation error
//! in the cell, as a failing CEL expression would be). No 5 s delay: each pass writes what
//! changed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::*;

const VARIABLES: [&str; 4] = ["obj", "returned", "inventory", "propagation"];

/// Why the status controller refuses a collector's spec (`statuscollector.go` L78-139), or None.
pub fn invalid(sc: &Value) -> Option<String> {
    let spec = &sc["spec"];
    let list = |k: &str| spec[k].as_array().cloned().unwrap_or_default();
    let (select, group, combined) = (list("select"), list("groupBy"), list("combinedFields"));
    if !select.is_empty() && (!group.is_empty() || !combined.is_empty()) {
        return Some("groupBy and combinedFields must be empty if select is not".into());
    }
    if combined.is_empty() && !group.is_empty() {
        return Some("groupBy must be empty if combinedFields is".into());
    }
    for c in &combined {
        let (t, subject) = (c["type"].as_str().unwrap_or(""), c["subject"].as_str());
        match (t, subject) {
            ("COUNT", Some(_)) => return Some(format!("combinedField {}: COUNT takes no subject", c["name"])),
            ("SUM" | "AVG" | "MIN" | "MAX", None) => {
                return Some(format!("combinedField {}: {t} needs a subject", c["name"]))
            }
            ("COUNT" | "SUM" | "AVG" | "MIN" | "MAX", _) => {}
            _ => return Some(format!("combinedField {}: unknown type {t:?}", c["name"])),
        }
    }
    let exprs = select.iter().chain(&group).map(|e| e["def"].as_str().unwrap_or(""));
    let exprs = exprs.chain(combined.iter().filter_map(|c| c["subject"].as_str())).chain(spec["filter"].as_str());
    for e in exprs {
        let root = e.trim().split('.').next().unwrap_or("");
        if !VARIABLES.contains(&root) && !root.starts_with("has(") {
            return Some(format!("expression {e:?} invalid: undeclared reference to '{root}'"));
        }
    }
    None
}

/// A field path evaluated (the subset of CEL the simulator reads).
fn eval(expr: &str, vars: &Value) -> Result<Value, String> {
    let fail = |m: String| Err(format!("failed to evaluate expression: {m}"));
    let mut parts = expr.trim().split('.');
    let root = parts.next().unwrap_or("");
    if !VARIABLES.contains(&root) {
        return fail(format!("the simulator evaluates field paths only, not {expr:?}"));
    }
    let mut cur = &vars[root];
    for key in parts {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return fail(format!("no such key: {key}")),
        }
    }
    Ok(cur.clone())
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)` for the values a status carries.
fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A CombinedStatus cell (`types.go` Value: a number's key is `float`, its value a string).
fn cell(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!({"type": "Number", "float": float_text(n.as_f64().unwrap_or(0.0))}),
        Value::String(s) => json!({"type": "String", "string": s}),
        Value::Bool(b) => json!({"type": "Bool", "bool": b}),
        Value::Null => json!({"type": "Null"}),
        other => json!({"type": "Object", "object": other}),
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// One collector over the WECs' variables (`res.go` L477-1075).
fn collect(sc: &Value, wecs: &[(String, Value)]) -> Value {
    let spec = &sc["spec"];
    let list = |k: &str| spec[k].as_array().cloned().unwrap_or_default();
    let (select, group, combined) = (list("select"), list("groupBy"), list("combinedFields"));
    let mut row_errors: Vec<Value> = Vec::new();
    let mut first_error = BTreeSet::new();
    let mut error = |wec: &str, column: &str, e: String, errors: &mut Vec<Value>| {
        if first_error.insert(column.to_string()) {
            errors.push(json!({"wec": {"clusterId": wec}, "columnName": column, "error": e}));
        }
    };
    // the filter: false drops the WEC, null keeps it, an error is recorded and it stays
    let kept: Vec<&(String, Value)> = wecs
        .iter()
        .filter(|(wec, vars)| match spec["filter"].as_str().map(|f| eval(f, vars)) {
            None | Some(Ok(Value::Null)) | Some(Ok(Value::Bool(true))) => true,
            Some(Ok(Value::Bool(false))) => false,
            Some(Ok(other)) => {
                let t = if other.is_number() { "double" } else { "string" };
                error(wec, "", format!("filter expression has type {t} but expected bool or null"), &mut row_errors);
                true
            }
            Some(Err(e)) => {
                error(wec, "", e, &mut row_errors);
                true
            }
        })
        .collect();
    let name = |e: &Value| e["name"].as_str().unwrap_or("").to_string();
    let mut out = json!({"name": sc["metadata"]["name"]});
    if !select.is_empty() {
        out["columnNames"] = json!(select.iter().map(name).collect::<Vec<_>>());
        let rows: Vec<Value> = kept
            .iter()
            .map(|(_, vars)| {
                let columns: Vec<Value> = select
                    .iter()
                    .map(|e| match eval(e["def"].as_str().unwrap_or(""), vars) {
                        Ok(v) => cell(&v),
                        Err(m) => json!({"type": "String", "string": m}),
                    })
                    .collect();
                json!({"columns": columns})
            })
            .collect();
        out["rows"] = json!(rows);
        return out;
    }
    let mut columns: Vec<String> = group.iter().map(name).collect();
    columns.extend(combined.iter().map(name));
    out["columnNames"] = json!(columns);
    // each WEC's group values and subjects; a WEC with any error is left out of every aggregate
    let mut groups: BTreeMap<String, (Vec<Value>, Vec<Vec<f64>>)> = BTreeMap::new();
    let mut aggregation_errors: Vec<Value> = Vec::new();
    if group.is_empty() {
        // no groupBy: one row even over no WEC
        groups.insert("[]".into(), (Vec::new(), vec![Vec::new(); combined.len()]));
    }
    for (wec, vars) in kept {
        let mut key_values = Vec::new();
        let mut ok = true;
        for g in &group {
            match eval(g["def"].as_str().unwrap_or(""), vars) {
                Ok(v) => key_values.push(v),
                Err(e) => {
                    error(wec, &name(g), e, &mut row_errors);
                    ok = false;
                }
            }
        }
        let mut subjects = Vec::new();
        for c in &combined {
            match c["subject"].as_str().map(|s| eval(s, vars)) {
                None => subjects.push(Some(1.0)),
                Some(Ok(v)) => subjects.push(number(&v)),
                Some(Err(e)) => {
                    error(wec, &name(c), e, &mut row_errors);
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let key = serde_json::to_string(&key_values).unwrap_or_default();
        let entry = groups.entry(key).or_insert_with(|| (key_values, vec![Vec::new(); combined.len()]));
        for (i, s) in subjects.into_iter().enumerate() {
            match s {
                Some(v) => entry.1[i].push(v),
                // COUNT counts it; a subject that is not a number is skipped by the others
                None if combined[i]["type"] == "COUNT" => entry.1[i].push(1.0),
                None => {
                    if !aggregation_errors.iter().any(|e| e["columnName"] == name(&combined[i]).as_str()) {
                        aggregation_errors.push(json!({"columnName": name(&combined[i]),
                            "error": format!("for WEC {wec}, the subject is not a number")}));
                    }
                }
            }
        }
    }
    let rows: Vec<Value> = groups
        .into_values()
        .map(|(keys, values)| {
            let mut cols: Vec<Value> = keys.iter().map(cell).collect();
            for (c, vs) in combined.iter().zip(values) {
                let v = match c["type"].as_str().unwrap_or("") {
                    "COUNT" => vs.len() as f64,
                    "SUM" => vs.iter().sum(),
                    "MIN" => vs.iter().copied().fold(f64::INFINITY, f64::min),
                    "MAX" => vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    _ => {
                        if vs.is_empty() {
                            aggregation_errors.push(json!({"columnName": name(c), "error": "no values to average"}));
                        }
                        vs.iter().sum::<f64>() / vs.len() as f64
                    }
                };
                cols.push(json!({"type": "Number", "float": float_text(v)}));
            }
            json!({"columns": cols})
        })
        .collect();
    out["rows"] = json!(rows);
    if !row_errors.is_empty() {
        out["rowErrors"] = json!(row_errors);
    }
    if !aggregation_errors.is_empty() {
        out["aggregationErrors"] = json!(aggregation_errors);
    }
    out
}

/// The WDS's StatusCollectors by name, each with why it is invalid (None: valid); their
/// `status.errors` written as the status controller writes them.
pub fn collectors(wds: &SimCluster) -> BTreeMap<String, (Value, Option<String>)> {
    let mut s = wds.store.write().expect("store lock");
    let si = idx(wds, &r::STATUS_COLLECTORS);
    let all: Vec<Value> = s.list(si, None).iter().map(|c| c.value()).collect();
    let mut out = BTreeMap::new();
    for sc in all {
        let name = sc["metadata"]["name"].as_str().unwrap_or("").to_string();
        let why = invalid(&sc);
        let errors = json!(why.iter().collect::<Vec<_>>());
        if sc["status"]["errors"] != errors && !(sc["status"]["errors"].is_null() && why.is_none()) {
            let _ = s.modify(si, "", &name, |o| o["status"] = json!({"errors": errors}));
        }
        out.insert(name, (sc, why));
    }
    out
}

/// Every CombinedStatus the policies call for, written where it changed; the others deleted.
pub fn write(
    wds: &SimCluster,
    its: &SimCluster,
    policies: &[Value],
    resolved: &[(Vec<String>, Vec<&Value>)],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    valid: &BTreeMap<String, Value>,
) {
    // the ITS's WorkStatuses of this WDS: (wec, binding, ns, name) -> status
    let returned: BTreeMap<(String, String, String, String), Value> = {
        let s = its.store.read().expect("store lock");
        s.list(idx(its, &r::WORK_STATUSES), None)
            .iter()
            .map(|w| w.value())
            .filter(|w| w["metadata"]["labels"]["transport.kubestellar.io/originWdsName"] == WDS)
            .map(|w| {
                let src = &w["spec"]["sourceRef"];
                let key = |v: &Value| v.as_str().unwrap_or("").to_string();
                (
                    (
                        key(&w["metadata"]["namespace"]),
                        key(&w["metadata"]["labels"]["transport.kubestellar.io/originOwnerReferenceBindingKey"]),
                        key(&src["namespace"]),
                        key(&src["name"]),
                    ),
                    w["status"].clone(),
                )
            })
            .collect()
    };
    let mut wanted: BTreeMap<(String, String), Value> = BTreeMap::new();
    for (p, (dests, selected)) in policies.iter().zip(resolved) {
        let policy = p["metadata"]["name"].as_str().unwrap_or("");
        let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
        for o in selected {
            let named: BTreeSet<String> = clauses
                .iter()
                .filter(|c| super::clauses::clause_selects(c, o, namespaces))
                .flat_map(|c| c["statusCollectors"].as_array().cloned().unwrap_or_default())
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            if named.is_empty() {
                continue;
            }
            let m = &o["metadata"];
            let (ns, name) = (m["namespace"].as_str().unwrap_or(""), m["name"].as_str().unwrap_or(""));
            let wecs: Vec<(String, Value)> = dests
                .iter()
                .map(|wec| {
                    let status = returned
                        .get(&(wec.clone(), policy.to_string(), ns.to_string(), name.to_string()))
                        .cloned()
                        .filter(|s| !s.is_null())
                        .unwrap_or_else(|| json!({}));
                    (wec.clone(), json!({"obj": o, "returned": {"status": status}, "inventory": {"name": wec}}))
                })
                .collect();
            // named collectors that exist and are valid, by name (a BTreeSet is sorted)
            let results: Vec<Value> = named.iter().filter_map(|n| valid.get(n)).map(|sc| collect(sc, &wecs)).collect();
            let cs_name =
                format!("{}.{}", m["uid"].as_str().unwrap_or(""), p["metadata"]["uid"].as_str().unwrap_or(""));
            let mut cs = json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "CombinedStatus",
                "metadata": {"name": cs_name, "namespace": ns,
                             "labels": {"status.kubestellar.io/api-group": "apps", "status.kubestellar.io/resource": resource_of(o),
                                        "status.kubestellar.io/namespace": ns, "status.kubestellar.io/name": name,
                                        "status.kubestellar.io/binding-policy": policy},
                             "ownerReferences": [{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": name, "uid": m["uid"]}]}});
            if !results.is_empty() {
                cs["results"] = json!(results);
            }
            wanted.insert((ns.to_string(), cs_name), cs);
        }
    }
    let mut s = wds.store.write().expect("store lock");
    let ci = idx(wds, &r::COMBINED_STATUSES);
    let have: Vec<(String, String)> = s.list(ci, None).iter().map(|c| (c.namespace.clone(), c.name.clone())).collect();
    for key in have.iter().filter(|k| !wanted.contains_key(k)) {
        let _ = s.delete(ci, &key.0, &key.1);
    }
    for ((ns, name), cs) in wanted {
        match s.get(ci, &ns, &name).map(|c| c.value()) {
            Some(old) if old["results"] == cs["results"] && old["metadata"]["labels"] == cs["metadata"]["labels"] => {}
            Some(_) => {
                let _ = s.modify(ci, &ns, &name, |o| {
                    o["results"] = cs["results"].clone();
                    o["metadata"]["labels"] = cs["metadata"]["labels"].clone();
                });
            }
            None => {
                s.put(ci, cs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The notes' worked example (§6): COUNT and SUM of readyReplicas over WECs with 2 and 1
    /// ready, and the per-WEC select; then cluster2 not reporting yet.
    #[test]
    fn the_worked_example_from_upstreams_code() {
        let counts = json!({"metadata": {"name": "ready-replicas"}, "spec": {"combinedFields": [
            {"name": "wecs", "type": "COUNT"}, {"name": "readySum", "type": "SUM", "subject": "returned.status.readyReplicas"}]}});
        let per = json!({"metadata": {"name": "ready-per-wec"}, "spec": {"select": [
            {"name": "wec", "def": "inventory.name"}, {"name": "ready", "def": "returned.status.readyReplicas"}]}});
        let vars = |wec: &str, ready: Option<i64>| {
            let status = ready.map(|r| json!({"readyReplicas": r})).unwrap_or(json!({}));
            (wec.to_string(), json!({"returned": {"status": status}, "inventory": {"name": wec}}))
        };
        let both = [vars("cluster1", Some(2)), vars("cluster2", Some(1))];
        assert_eq!(
            collect(&counts, &both),
            json!({"name": "ready-replicas", "columnNames": ["wecs", "readySum"],
                   "rows": [{"columns": [{"type": "Number", "float": "2"}, {"type": "Number", "float": "3"}]}]})
        );
        assert_eq!(
            collect(&per, &both)["rows"][1],
            json!({"columns": [{"type": "String", "string": "cluster2"}, {"type": "Number", "float": "1"}]})
        );
        let one = [vars("cluster1", Some(2)), vars("cluster2", None)];
        let c = collect(&counts, &one);
        assert_eq!(
            c["rows"][0]["columns"],
            json!([{"type": "Number", "float": "1"}, {"type": "Number", "float": "2"}])
        );
        assert_eq!(
            c["rowErrors"],
            json!([{"wec": {"clusterId": "cluster2"}, "columnName": "readySum",
                    "error": "failed to evaluate expression: no such key: readyReplicas"}])
        );
        // no WEC: one row all the same, AVG NaN with its error
        let avg = json!({"metadata": {"name": "a"}, "spec": {"combinedFields": [
            {"name": "n", "type": "COUNT"}, {"name": "m", "type": "MIN", "subject": "returned.status.x"},
            {"name": "avg", "type": "AVG", "subject": "returned.status.x"}]}});
        let c = collect(&avg, &[]);
        assert_eq!(
            c["rows"][0]["columns"],
            json!([{"type": "Number", "float": "0"}, {"type": "Number", "float": "+Inf"}, {"type": "Number", "float": "NaN"}])
        );
        assert_eq!(c["aggregationErrors"][0]["error"], "no values to average");
        assert!(invalid(&json!({"spec": {"select": [{"name": "a", "def": "obj.x"}], "combinedFields": [{"name": "n", "type": "COUNT"}]}})).is_some());
        assert!(invalid(&json!({"spec": {"combinedFields": [{"name": "n", "type": "SUM"}]}})).is_some());
        assert!(invalid(&counts).is_none() && invalid(&per).is_none());
    }
}
