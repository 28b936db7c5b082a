//! What a BindingPolicy's clauses and selectors select, as KubeStellar's binding controller
//! tests them (docs/upstream/kubestellar-semantics.md §3): read by the controller pass
//! (`reconcile.rs`) and by the status collectors (`combined.rs`) alike.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

/// A LabelSelector object (`matchLabels`, `matchExpressions`) as the simulator's selector.
/// As `metav1.LabelSelectorAsSelector` converts it, with `labels.NewRequirement`'s refusals:
/// an unknown operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values
/// (docs/upstream/kubestellar-semantics.md §3).
pub(super) fn selector(v: &Value) -> Result<LabelSelector, String> {
    let mut reqs = Vec::new();
    if let Some(m) = v["matchLabels"].as_object() {
        for (k, val) in m {
            reqs.push(Req::Eq(k.clone(), val.as_str().unwrap_or("").to_string()));
        }
    }
    for e in v["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or("").to_string();
        let values: Vec<String> =
            e["values"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect();
        let op = e["operator"].as_str().unwrap_or("");
        reqs.push(match (op, values.is_empty()) {
            ("In" | "NotIn", true) => return Err(format!("{key}: values set can't be empty for {op}")),
            ("Exists" | "DoesNotExist", false) => return Err(format!("{key}: values set must be empty for {op}")),
            ("In", _) => Req::In(key, values),
            ("NotIn", _) => Req::NotIn(key, values),
            ("Exists", _) => Req::Exists(key),
            ("DoesNotExist", _) => Req::NotExists(key),
            _ => return Err(format!("{op:?} is not a valid label selector operator")),
        });
    }
    Ok(LabelSelector(reqs))
}

/// `labelsMatchAny`: a selector that cannot be converted is skipped.
pub(super) fn matches_any(selectors: &[Value], labels: &BTreeMap<String, String>) -> bool {
    selectors.iter().any(|s| selector(s).is_ok_and(|s| s.matches(labels)))
}

/// The CRD's admission check of a BindingPolicy: clusterSelectors' operators are
/// pattern-checked by the API server (`^(In|NotIn|Exists|DoesNotExist)$`), unlike the downsync
/// clauses' selectors. The error is the API server's field path and message.
pub fn admit_binding_policy(obj: &Value) -> Result<(), String> {
    for (i, s) in obj["spec"]["clusterSelectors"].as_array().into_iter().flatten().enumerate() {
        for (j, e) in s["matchExpressions"].as_array().into_iter().flatten().enumerate() {
            let op = e["operator"].as_str().unwrap_or("");
            if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                let path = format!("spec.clusterSelectors[{i}].matchExpressions[{j}].operator");
                return Err(format!(
                    "{path}: Invalid value: \"{op}\": {path} in body should match '^(In|NotIn|Exists|DoesNotExist)$'"
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn labels(v: &Value) -> BTreeMap<String, String> {
    v["metadata"]["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

/// The plural of a WDS object's kind (the kinds the simulator's WDS holds).
pub(super) fn resource_of(obj: &Value) -> &'static str {
    if obj["kind"] == "StatefulSet" {
        "statefulsets"
    } else {
        "deployments"
    }
}

/// A downsync clause's object test against a Deployment or StatefulSet of the WDS.
/// `testObject` of KubeStellar's binding controller (semantics §3): every non-empty criterion
/// holds; `namespaceSelectors` against the labels of the object's Namespace in the WDS (none:
/// no match), skipped when any of them is `{}`.
pub(super) fn clause_selects(c: &Value, obj: &Value, namespaces: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let any_or = |list: Vec<String>, have: &str| list.is_empty() || list.iter().any(|x| x == "*" || x == have);
    let group_ok = c["apiGroup"].as_str().is_none_or(|g| g == "apps");
    let meta = &obj["metadata"];
    let ns = meta["namespace"].as_str().unwrap_or("");
    let objsel = c["objectSelectors"].as_array().filter(|s| !s.is_empty());
    let nssel = c["namespaceSelectors"]
        .as_array()
        .filter(|s| !s.is_empty() && !s.iter().any(|x| selector(x).is_ok_and(|x| x.0.is_empty())));
    group_ok
        && any_or(strings(&c["resources"]), resource_of(obj))
        && any_or(strings(&c["namespaces"]), ns)
        && any_or(strings(&c["objectNames"]), meta["name"].as_str().unwrap_or(""))
        && objsel.is_none_or(|s| matches_any(s, &labels(obj)))
        && nssel.is_none_or(|s| namespaces.get(ns).is_some_and(|l| matches_any(s, l)))
}
