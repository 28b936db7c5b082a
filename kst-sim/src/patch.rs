//! JSON merge patch (RFC 7386), a strategic-merge approximation and JSON patch (RFC 6902).

use serde_json::{Map, Value};

pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Strategic merge patch as the API server applies it to the fields kst and kubectl touch:
/// like a merge patch, except that lists of objects keyed by `name` (containers, ports, env,
/// conditions by `type`) merge element by element instead of being replaced.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch) {
        (Some(t), Value::Object(p)) => {
            for (k, v) in p {
                if k.starts_with("$") {
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                let keyed = v.as_array().and_then(|a| merge_key(a)).filter(|_| slot.is_array());
                if slot.is_object() && v.is_object() {
                    strategic_merge_patch(slot, v);
                    continue;
                }
                match (slot.as_array_mut(), v.as_array()) {
                    (Some(existing), Some(incoming)) => {
                        if let Some(key) = keyed {
                            for item in incoming {
                                let id = &item[key];
                                match existing.iter_mut().find(|e| &e[key] == id) {
                                    Some(e) => strategic_merge_patch(e, item),
                                    None => existing.push(item.clone()),
                                }
                            }
                        } else {
                            *slot = v.clone();
                        }
                    }
                    _ => *slot = v.clone(),
                }
            }
        }
        (_, p) => *target = p.clone(),
    }
}

fn merge_key(items: &[Value]) -> Option<&'static str> {
    ["name", "type", "containerPort"]
        .into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(*k).is_some()))
}

/// JSON patch with the operations kubectl and kube-rs send: add, replace, remove, test.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch is an array of operations")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("operation without path")?;
        let kind = op["op"].as_str().ok_or("operation without op")?;
        let tokens: Vec<String> = path.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
        let (last, parents) = tokens.split_last().ok_or("empty path")?;
        let mut cur = &mut *target;
        for t in parents {
            cur = match cur {
                Value::Object(m) => m.get_mut(t).ok_or_else(|| format!("path {path} does not exist"))?,
                Value::Array(a) => {
                    let i: usize = t.parse().map_err(|_| format!("bad index in {path}"))?;
                    a.get_mut(i).ok_or_else(|| format!("path {path} does not exist"))?
                }
                _ => return Err(format!("path {path} does not exist")),
            };
        }
        match kind {
            "add" | "replace" => {
                let v = op["value"].clone();
                match cur {
                    Value::Object(m) => {
                        if kind == "replace" && !m.contains_key(last) {
                            return Err(format!("replace of missing {path}"));
                        }
                        m.insert(last.clone(), v);
                    }
                    Value::Array(a) => {
                        if last == "-" {
                            a.push(v)
                        } else {
                            let i: usize = last.parse().map_err(|_| format!("bad index in {path}"))?;
                            if kind == "add" && i <= a.len() {
                                a.insert(i, v)
                            } else if i < a.len() {
                                a[i] = v
                            } else {
                                return Err(format!("index out of range in {path}"));
                            }
                        }
                    }
                    _ => return Err(format!("path {path} does not exist")),
                }
            }
            "remove" => match cur {
                Value::Object(m) => {
                    m.remove(last).ok_or_else(|| format!("remove of missing {path}"))?;
                }
                Value::Array(a) => {
                    let i: usize = last.parse().map_err(|_| format!("bad index in {path}"))?;
                    if i >= a.len() {
                        return Err(format!("index out of range in {path}"));
                    }
                    a.remove(i);
                }
                _ => return Err(format!("path {path} does not exist")),
            },
            "test" => {
                let actual = match cur {
                    Value::Object(m) => m.get(last).cloned(),
                    _ => None,
                };
                if actual.as_ref() != Some(&op["value"]) {
                    return Err(format!("test failed at {path}"));
                }
            }
            other => return Err(format!("unsupported JSON patch operation {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 5}, "l": [9]}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}, "l": [9]}));
    }

    #[test]
    fn strategic_patch_merges_containers_by_name() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        strategic_merge_patch(&mut t, &json!({"spec": {"containers": [{"name": "b", "image": "z"}]}}));
        assert_eq!(t["spec"]["containers"][0]["image"], "x");
        assert_eq!(t["spec"]["containers"][1]["image"], "z");
    }

    #[test]
    fn json_patch_ops() {
        let mut t = json!({"spec": {"replicas": 1}, "metadata": {"annotations": {}}});
        json_patch(
            &mut t,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 0},
                     {"op": "add", "path": "/metadata/annotations/kst.dev~1x", "value": "1"}]),
        )
        .unwrap();
        assert_eq!(t["spec"]["replicas"], 0);
        assert_eq!(t["metadata"]["annotations"]["kst.dev/x"], "1");
        assert!(json_patch(&mut t, &json!([{"op": "replace", "path": "/nope/x", "value": 1}])).is_err());
    }
}
