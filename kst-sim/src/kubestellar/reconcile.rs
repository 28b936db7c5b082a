//! The controller: what KubeStellar's binding, transport and status controllers and the status
//! add-on do, one pass over the WDS, the ITS and the WECs (docs/upstream/kubestellar-semantics.md).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::*;

use super::clauses::{clause_selects, labels, resource_of, selector, strings};

/// Where a policy sends its objects: the ManagedClusters its clusterSelectors match; a selector
/// that cannot be converted stops the evaluation, so the destinations stay what the Binding had
/// (nothing for a new one), and nothing says why.
fn destinations(p: &Value, managed: &[Value], wds: &SimCluster) -> Vec<String> {
    let cluster_selectors: Result<Vec<LabelSelector>, String> =
        p["spec"]["clusterSelectors"].as_array().into_iter().flatten().map(selector).collect();
    match cluster_selectors {
        Ok(sels) => managed
            .iter()
            .filter(|m| sels.iter().any(|s| s.matches(&labels(m))))
            .filter_map(|m| m["metadata"]["name"].as_str().map(str::to_string))
            .collect(),
        Err(_) => wds
            .store
            .read()
            .expect("store lock")
            .get(idx(wds, &r::BINDINGS), "", p["metadata"]["name"].as_str().unwrap_or(""))
            .map(|b| {
                b.value()["spec"]["destinations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["clusterId"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The hub hash in the names of the work agent's AppliedManifestWorks (`<hub hash>-<work>`).
const HUB_HASH: &str = "3c6f1b1d5ed1c3e9";

/// The namespace of a namespaced manifest that the WEC `wec` does not have (None: it has it, or
/// the WEC is not simulated or does not answer, so nothing is known).
fn missing_namespace(clusters: &[Arc<SimCluster>], wec: &str, ns: &str) -> Option<String> {
    let c = clusters.iter().find(|c| c.name == wec && !c.shape.control_plane())?;
    if ns.is_empty() || c.faults.unreachable() {
        return None;
    }
    let s = c.store.read().expect("store lock");
    s.get(idx(c, &r::NAMESPACES), "", ns).is_none().then(|| ns.to_string())
}

/// OCM's work agent on each WEC (semantics §9): an applied ManifestWork's workload is created
/// on the WEC where absent, owned by the work's AppliedManifestWork; when the ManifestWork is
/// deleted, what it owns there is deleted with it (the AppliedManifestWork's finalizer). An
/// object the WEC already had is left as it is (upstream adopts it; not modelled).
fn work_agent(clusters: &[Arc<SimCluster>], written: &[(String, Value)], released: &[Value]) {
    let on = |w: &Value| -> Option<(Arc<SimCluster>, Value, String)> {
        let wec = w["metadata"]["namespace"].as_str()?;
        let c = clusters.iter().find(|c| c.name == wec && !c.shape.control_plane() && !c.faults.unreachable())?;
        let applied = format!("{HUB_HASH}-{}", w["metadata"]["name"].as_str()?);
        Some((c.clone(), w["spec"]["workload"]["manifests"][0].clone(), applied))
    };
    for (_, w) in written {
        let applied = w["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Applied" && c["status"] == "True");
        let Some((wec, m, owner)) = on(w).filter(|_| applied) else { continue };
        let def = if m["kind"] == "StatefulSet" { r::STATEFULSETS } else { r::DEPLOYMENTS };
        let (ns, name) =
            (m["metadata"]["namespace"].as_str().unwrap_or(""), m["metadata"]["name"].as_str().unwrap_or(""));
        let mut s = wec.store.write().expect("store lock");
        if s.get(idx(&wec, &def), ns, name).is_some() {
            continue;
        }
        let mut obj = json!({"apiVersion": m["apiVersion"], "kind": m["kind"],
            "metadata": {"name": name, "namespace": ns, "labels": m["metadata"]["labels"], "generation": 1,
                         "creationTimestamp": ago(0),
                         "ownerReferences": [{"apiVersion": "work.open-cluster-management.io/v1", "kind": "AppliedManifestWork",
                                              "name": owner, "uid": w["metadata"]["uid"]}]},
            "spec": m["spec"]});
        if obj["metadata"]["labels"].is_null() {
            obj["metadata"]["labels"] = json!({});
        }
        s.put(idx(&wec, &def), obj);
        crate::scenario::reconcile(&wec, &mut s, &def, ns, name);
    }
    for w in released {
        let Some((wec, m, owner)) = on(w) else { continue };
        let def = if m["kind"] == "StatefulSet" { r::STATEFULSETS } else { r::DEPLOYMENTS };
        let (ns, name) =
            (m["metadata"]["namespace"].as_str().unwrap_or(""), m["metadata"]["name"].as_str().unwrap_or(""));
        let mut s = wec.store.write().expect("store lock");
        let owned = s.get(idx(&wec, &def), ns, name).is_some_and(|o| {
            o.value()["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["name"] == owner.as_str())
        });
        if owned {
            crate::scenario::remove_workload(&wec, &mut s, &def, ns, name);
        }
    }
}

/// Deletes a ManifestWork and the WorkStatuses it owns (they go by garbage collection).
fn delete_work(s: &mut crate::store::ObjectStore, mi: usize, wi: usize, ns: &str, name: &str, uid: &str) {
    let _ = s.delete(mi, ns, name);
    let owned: Vec<String> = s
        .list(wi, Some(ns))
        .iter()
        .filter(|ws| ws.value()["metadata"]["ownerReferences"][0]["uid"] == uid)
        .map(|ws| ws.name.clone())
        .collect();
    for n in owned {
        let _ = s.delete(wi, ns, &n);
    }
}

/// Kubernetes' garbage collector deletes a Binding whose BindingPolicy is gone (its controller
/// ownerReference names the policy's uid, so a policy deleted and created again under the same
/// name counts as gone: `binding.go` L141-146); the transport's finalizer first deletes the
/// works in the Binding's destinations, and only there (semantics §1, gap 2: a work left in a
/// namespace the Binding no longer lists stays, an orphan).
fn collect_bindings_of_gone_policies(wds: &SimCluster, its: &SimCluster, policies: &[Value]) {
    let gone: Vec<(String, Vec<String>)> = {
        let s = wds.store.read().expect("store lock");
        s.list(idx(wds, &r::BINDINGS), None)
            .iter()
            .map(|b| b.value())
            .filter(|b| {
                let owner = &b["metadata"]["ownerReferences"][0]["uid"];
                !policies
                    .iter()
                    .any(|p| p["metadata"]["name"] == b["metadata"]["name"] && p["metadata"]["uid"] == *owner)
            })
            .map(|b| {
                let dests = b["spec"]["destinations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["clusterId"].as_str().map(str::to_string))
                    .collect();
                (b["metadata"]["name"].as_str().unwrap_or("").to_string(), dests)
            })
            .collect()
    };
    if gone.is_empty() {
        return;
    }
    {
        let mut s = its.store.write().expect("store lock");
        let (mi, wi) = (idx(its, &r::MANIFEST_WORKS), idx(its, &r::WORK_STATUSES));
        for (binding, dests) in &gone {
            for d in dests {
                let doomed: Vec<(String, String)> = s
                    .list(mi, Some(d))
                    .iter()
                    .map(|w| (w.name.clone(), w.value()))
                    .filter(|(_, v)| {
                        let l = &v["metadata"]["labels"];
                        l["transport.kubestellar.io/originWdsName"] == WDS
                            && l["transport.kubestellar.io/originOwnerReferenceBindingKey"] == binding.as_str()
                    })
                    .map(|(n, v)| (n, v["metadata"]["uid"].as_str().unwrap_or("").to_string()))
                    .collect();
                for (name, uid) in doomed {
                    delete_work(&mut s, mi, wi, d, &name, &uid);
                }
            }
        }
    }
    let mut s = wds.store.write().expect("store lock");
    for (binding, _) in gone {
        let _ = s.delete(idx(wds, &r::BINDINGS), "", &binding);
    }
}

/// The binding controller's Binding for a policy (its spec: destinations and objects) and the
/// status the transport and the status controller write on it, and the policy's own status; the
/// Binding's uid (what its ManifestWorks are labelled with).
#[allow(clippy::too_many_arguments)]
fn write_binding(
    wds: &SimCluster,
    p: &Value,
    name: &str,
    dests: &[String],
    workload: Vec<Value>,
    conditions: &Value,
    binding_errors: &[String],
    policy_status: &Value,
) -> String {
    let mut s = wds.store.write().expect("store lock");
    let bi = idx(wds, &r::BINDINGS);
    let spec = json!({"destinations": dests.iter().map(|d| json!({"clusterId": d})).collect::<Vec<_>>(),
                      "workload": {"namespaceScope": workload}});
    // the binding controller writes the spec (a change bumps the Binding's generation);
    // the transport, when it runs, the status's observedGeneration and errors
    // (`generic_transport_controller.go` L697-700); the status controller the conditions
    match s.get(bi, "", name) {
        Some(b) if b.value()["spec"] != spec => {
            let _ = s.modify(bi, "", name, |o| o["spec"] = spec.clone());
        }
        Some(_) => {}
        None => {
            s.put(
                bi,
                json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "Binding",
                       "metadata": {"name": name, "creationTimestamp": p["metadata"]["creationTimestamp"],
                                    "finalizers": ["transport.kubestellar.io/object-cleanup"],
                                    "ownerReferences": [{"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "BindingPolicy",
                                                         "name": name, "uid": p["metadata"]["uid"], "controller": true, "blockOwnerDeletion": false}]},
                       "spec": spec}),
            );
        }
    }
    if let Some(b) = s.get(bi, "", name) {
        let v = b.value();
        let mut status = json!({"observedGeneration": v["metadata"]["generation"], "errors": binding_errors,
                                "conditions": conditions});
        if wds.faults.transport_down() {
            status["observedGeneration"] = v["status"]["observedGeneration"].clone();
            status["errors"] = v["status"]["errors"].clone();
        }
        if v["status"] != status {
            let _ = s.modify(bi, "", name, |o| o["status"] = status);
        }
    }
    let binding_uid = s
        .get(bi, "", name)
        .map(|b| b.value()["metadata"]["uid"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    if p["status"] != *policy_status {
        let pi = idx(wds, &r::BINDING_POLICIES);
        let _ = s.modify(pi, "", name, |o| o["status"] = policy_status.clone());
    }
    binding_uid
}

/// the transport writes what is missing or changed (a deleted one is written again), then
/// deletes every work labelled with a Binding of this WDS that the Binding does not want
/// (all of them when the Binding has errors); works of a Binding that is gone are nobody's
/// to delete (upstream cleans up only a deleted Binding's last destinations)
/// Returns the works written, with their uids, and the works deleted.
fn transport(
    wds: &SimCluster,
    its: &SimCluster,
    works: Vec<Value>,
    desired: &BTreeMap<String, BTreeSet<(String, String)>>,
) -> (Vec<(String, Value)>, Vec<Value>) {
    let mut statuses: Vec<(String, Value)> = Vec::new();
    // works deleted in this pass: the work agent deletes what it applied for them
    let mut released: Vec<Value> = Vec::new();
    if wds.faults.transport_down() {
        // no transport: nothing is written, updated or deleted in the ITS
        return (statuses, released);
    } else {
        let mut s = its.store.write().expect("store lock");
        let mi = idx(its, &r::MANIFEST_WORKS);
        if !wds.faults.prune_bug() {
            let wi = idx(its, &r::WORK_STATUSES);
            let unwanted: Vec<(String, String, String)> = s
                .list(mi, None)
                .iter()
                .filter_map(|w| {
                    let v = w.value();
                    let l = &v["metadata"]["labels"];
                    if l["transport.kubestellar.io/originWdsName"] != WDS {
                        return None;
                    }
                    let want = desired.get(l["transport.kubestellar.io/originOwnerReferenceBindingKey"].as_str()?)?;
                    let key = (w.namespace.clone(), w.name.clone());
                    (!want.contains(&key))
                        .then(|| (key.0, key.1, v["metadata"]["uid"].as_str().unwrap_or("").to_string()))
                })
                .collect();
            for (ns, name, uid) in unwanted {
                if let Some(w) = s.get(mi, &ns, &name) {
                    released.push(w.value());
                }
                delete_work(&mut s, mi, wi, &ns, &name, &uid);
            }
        }
        for w in works {
            let (ns, name) = (
                w["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
                w["metadata"]["name"].as_str().unwrap_or("").to_string(),
            );
            match s.get(mi, &ns, &name) {
                Some(have)
                    if have.value()["spec"] == w["spec"]
                        && have.value()["status"]["conditions"].as_array().map(|c| c.len())
                            == w["status"]["conditions"].as_array().map(|c| c.len()) => {}
                Some(_) => {
                    let _ = s.modify(mi, &ns, &name, |o| {
                        o["spec"] = w["spec"].clone();
                        o["status"] = w["status"].clone();
                    });
                }
                None => {
                    s.put(mi, w.clone());
                }
            }
            let uid = s
                .get(mi, &ns, &name)
                .map(|m| m.value()["metadata"]["uid"].as_str().unwrap_or("").to_string())
                .unwrap_or_default();
            statuses.push((uid, w));
        }
    }
    (statuses, released)
}

/// The status add-on: each WEC object's status, copied verbatim into a WorkStatus in the ITS,
/// where the WEC answers.
fn status_addon(clusters: &[Arc<SimCluster>], its: &SimCluster, statuses: Vec<(String, Value)>) {
    let mut reports: Vec<Value> = Vec::new();
    for (mw_uid, w) in statuses {
        let wec_name = w["metadata"]["namespace"].as_str().unwrap_or("");
        let Some(wec) = clusters.iter().find(|c| c.name == wec_name && !c.shape.control_plane()) else { continue };
        if wec.faults.unreachable() {
            continue;
        }
        let manifest = &w["spec"]["workload"]["manifests"][0];
        let m = &manifest["metadata"];
        let (ns, name) = (m["namespace"].as_str().unwrap_or(""), m["name"].as_str().unwrap_or(""));
        let (def, kind, resource) = if manifest["kind"] == "StatefulSet" {
            (r::STATEFULSETS, "StatefulSet", "statefulsets")
        } else {
            (r::DEPLOYMENTS, "Deployment", "deployments")
        };
        let Some(obj) = wec.store.read().expect("store lock").get(idx(wec, &def), ns, name).map(|d| d.value()) else {
            continue;
        };
        reports.push(json!({"apiVersion": "control.kubestellar.io/v1alpha1", "kind": "WorkStatus",
               "metadata": {"name": format!("{mw_uid}-appsv1-{}-{ns}-{name}", kind.to_lowercase()), "namespace": wec_name,
                            "labels": w["metadata"]["labels"],
                            "ownerReferences": [{"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
                                                 "name": w["metadata"]["name"], "uid": mw_uid, "controller": true}]},
               "spec": {"sourceRef": {"group": "apps", "version": "v1", "resource": resource, "kind": kind, "namespace": ns, "name": name}},
               "status": obj["status"]}));
        // the status add-on's write, as the API server records it
        if let Some(last) = reports.last_mut() {
            last["metadata"]["managedFields"] = status_write();
        }
    }
    {
        let mut s = its.store.write().expect("store lock");
        let wi = idx(its, &r::WORK_STATUSES);
        for ws in reports {
            let (ns, name) = (
                ws["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
                ws["metadata"]["name"].as_str().unwrap_or("").to_string(),
            );
            match s.get(wi, &ns, &name) {
                Some(have) if have.value()["status"] == ws["status"] => {}
                Some(_) => {
                    let _ = s.modify(wi, &ns, &name, |o| {
                        o["status"] = ws["status"].clone();
                        o["metadata"]["managedFields"] = status_write();
                    });
                }
                None => {
                    s.put(wi, ws);
                }
            }
        }
    }
}

/// An object's `namespace/name`.
fn object_key(o: &Value) -> String {
    format!("{}/{}", o["metadata"]["namespace"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or(""))
}

/// Per object (`namespace/name`), the WECs of every policy that asks its singleton status: the
/// count is collective across policies (semantics §4).
fn singleton_wecs<'a>(
    policies: &[Value],
    resolved: &'a [(Vec<String>, Vec<&Value>)],
    objects: &[Value],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
) -> BTreeMap<String, BTreeSet<&'a str>> {
    let mut singleton_wecs: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (p, (dests, _)) in policies.iter().zip(resolved) {
        let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
        for o in objects {
            if clauses.iter().any(|c| c["wantSingletonReportedState"] == true && clause_selects(c, o, namespaces)) {
                singleton_wecs.entry(object_key(o)).or_default().extend(dests.iter().map(String::as_str));
            }
        }
    }
    singleton_wecs
}

/// upstream lists at most four of the Binding's objects whose collective count is not
/// 1, whether or not this policy asks, as the JSON of its `objectWithNumWECs`
/// (`binding.go` L90-108)
/// (written by hand: Go keeps the structs' field order, serde_json's map sorts keys)
fn singleton_errors(selected: &[&Value], singleton_wecs: &BTreeMap<String, BTreeSet<&str>>) -> Vec<String> {
    let wrong: Vec<String> = selected
        .iter()
        .filter_map(|o| {
            let n = singleton_wecs.get(&object_key(o))?.len();
            (n != 1).then(|| {
                format!(
                    r#"{{"ObjectID":{{"GVK":{{"Group":"apps","Version":"v1","Kind":{}}},"Resource":"{}","ObjectName":{{"Namespace":{},"Name":{}}}}},"NumWECs":{n}}}"#,
                    o["kind"],
                    resource_of(o),
                    o["metadata"]["namespace"],
                    o["metadata"]["name"]
                )
            })
        })
        .take(4)
        .collect();
    let mut errors: Vec<String> = Vec::new();
    if !wrong.is_empty() {
        errors.push(format!(
            "Singleton reported status return is requested but some objects have the wrong number of associated WECs, for example: [{}]",
            wrong.join(",")
        ));
    }
    errors
}

/// the collectors named by clauses that match an object, missing or invalid ones
/// (`pkg/status/binding.go` L49-99): every Binding gets the condition
fn collectors_condition(
    p: &Value,
    clauses: &[Value],
    selected: &[&Value],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    valid: &BTreeMap<String, Value>,
) -> Value {
    let named: BTreeSet<String> = clauses
        .iter()
        .filter(|c| selected.iter().any(|o| clause_selects(c, o, namespaces)))
        .flat_map(|c| strings(&c["statusCollectors"]))
        .collect();
    let missing: Vec<&String> = named.iter().filter(|n| !valid.contains_key(*n)).collect();
    // a fixed time, so a pass that changes nothing writes nothing
    if missing.is_empty() {
        json!([{"type": "StatusCollectorsAvailable", "status": "True", "reason": "ReconcileSuccess",
                "message": "All StatusCollector(s) are available",
                "lastTransitionTime": p["metadata"]["creationTimestamp"]}])
    } else {
        json!([{"type": "StatusCollectorsAvailable", "status": "False", "reason": "ReconcileError",
                "message": format!("Missing StatusCollector(s) [{}]", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
                "lastTransitionTime": p["metadata"]["creationTimestamp"]}])
    }
}

/// One pass of the binding and transport controllers and the status add-on.
pub fn reconcile(clusters: &[Arc<SimCluster>]) {
    let (Some(its), Some(wds)) =
        (clusters.iter().find(|c| c.shape == Shape::Its), clusters.iter().find(|c| c.shape == Shape::Wds))
    else {
        return;
    };
    let (policies, objects, namespaces) = {
        let s = wds.store.read().expect("store lock");
        let namespaces: BTreeMap<String, BTreeMap<String, String>> =
            s.list(idx(wds, &r::NAMESPACES), None).iter().map(|n| (n.name.clone(), n.labels.clone())).collect();
        (
            s.list(idx(wds, &r::BINDING_POLICIES), None).iter().map(|p| p.value()).collect::<Vec<_>>(),
            [r::DEPLOYMENTS, r::STATEFULSETS]
                .iter()
                .flat_map(|def| s.list(idx(wds, def), None).iter().map(|d| d.value()).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            namespaces,
        )
    };
    collect_bindings_of_gone_policies(wds, its, &policies);
    // the status controller's StatusCollectors: an invalid one counts as missing
    let valid: BTreeMap<String, Value> = super::combined::collectors(wds)
        .into_iter()
        .filter(|(_, (_, why))| why.is_none())
        .map(|(n, (v, _))| (n, v))
        .collect();
    if let Some(hosting) = clusters.iter().find(|c| c.shape == Shape::Hosting) {
        reflect_transport(hosting, wds.faults.transport_down());
    }
    let managed: Vec<Value> = its
        .store
        .read()
        .expect("store lock")
        .list(idx(its, &r::MANAGED_CLUSTERS), None)
        .iter()
        .map(|m| m.value())
        .collect();
    let mut works: Vec<Value> = Vec::new();
    // per Binding, the ManifestWorks it wants (docs/upstream/kubestellar-semantics.md §1)
    let mut desired: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    // each policy's destinations and objects, first: singleton status is counted per object
    // across every policy that asks it (semantics §4)
    let resolved: Vec<(Vec<String>, Vec<&Value>)> = policies
        .iter()
        .map(|p| {
            let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
            let selected =
                objects.iter().filter(|o| clauses.iter().any(|c| clause_selects(c, o, &namespaces))).collect();
            (destinations(p, &managed, wds), selected)
        })
        .collect();
    let singleton_wecs = singleton_wecs(&policies, &resolved, &objects, &namespaces);
    for (p, (dests, selected)) in policies.iter().zip(&resolved) {
        let name = p["metadata"]["name"].as_str().unwrap_or("").to_string();
        desired.entry(name.clone()).or_default();
        let clauses: Vec<Value> = p["spec"]["downsync"].as_array().cloned().unwrap_or_default();
        let errors = singleton_errors(selected, &singleton_wecs);
        let binding_errors: Vec<String> = if name == BINDING_ERROR {
            vec![format!(
                "failed to expand templates of apps/v1 Deployment monitoring/dcgm-exporter for cluster {}: map has no entry for key \"gpuVendor\"",
                dests.first().map(String::as_str).unwrap_or(LOST_WEC)
            )]
        } else {
            Vec::new()
        };
        let conditions = collectors_condition(p, &clauses, selected, &namespaces, &valid);
        let mut all_errors = errors.clone();
        all_errors.extend(binding_errors.iter().cloned());
        // the binding controller has seen the policy as it is now (`binding.go` L111)
        let policy_status = json!({"observedGeneration": p["metadata"]["generation"].as_i64().unwrap_or(1),
                                   "errors": all_errors, "conditions": conditions});
        // the matching clauses' createOnly bits ORed (`types.go` DownsyncPolicySpec)
        let create_only =
            |o: &Value| clauses.iter().any(|c| c["createOnly"] == true && clause_selects(c, o, &namespaces));
        let workload: Vec<Value> = selected
            .iter()
            .map(|o| {
                let mut entry = json!({"group": "apps", "version": "v1", "resource": resource_of(o),
                            "namespace": o["metadata"]["namespace"], "name": o["metadata"]["name"],
                            "resourceVersion": o["metadata"]["resourceVersion"]});
                if create_only(o) {
                    entry["createOnly"] = json!(true);
                }
                entry
            })
            .collect();
        let binding_uid = write_binding(wds, p, &name, dests, workload, &conditions, &binding_errors, &policy_status);
        // a Binding with errors has its wrapped objects withheld everywhere
        if !binding_errors.is_empty() {
            continue;
        }
        for d in dests {
            for o in selected {
                let oname = o["metadata"]["name"].as_str().unwrap_or("");
                if (name.as_str(), d.as_str(), oname) == MISSING {
                    continue;
                }
                let ons = o["metadata"]["namespace"].as_str().unwrap_or("");
                let applied = if d == LOST_WEC {
                    None
                } else if let Some(missing) = missing_namespace(clusters, d, ons) {
                    // the work agent's apply of a namespaced object into a namespace the WEC lacks
                    Some((false, Some(format!("Failed to apply manifest: namespaces \"{missing}\" not found"))))
                } else if (name.as_str(), oname) == APPLY_FAILS {
                    Some((false, Some(format!(
                        "Failed to apply manifest: deployments.apps \"{oname}\" is forbidden: User \"system:serviceaccount:open-cluster-management-agent:klusterlet-work-sa\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"team1\""
                    ))))
                } else {
                    Some((true, None))
                };
                let mut w = manifest_work(d, &name, &binding_uid, o, applied, 3600);
                // the work agent then creates the object where absent and never updates it
                // (KS `ocm-transport-controller/pkg/ocm.go` WrapObjects)
                if create_only(o) {
                    w["spec"]["manifestConfigs"] = json!([{
                        "resourceIdentifier": {"group": "apps", "resource": resource_of(o),
                                               "namespace": o["metadata"]["namespace"], "name": o["metadata"]["name"]},
                        "updateStrategy": {"type": "CreateOnly"}}]);
                }
                let key = (d.clone(), w["metadata"]["name"].as_str().unwrap_or("").to_string());
                desired.entry(name.clone()).or_default().insert(key);
                works.push(w);
            }
        }
    }
    let (statuses, released) = transport(wds, its, works, &desired);
    work_agent(clusters, &statuses, &released);
    status_addon(clusters, its, statuses);
    if !wds.faults.status_return_down() {
        super::combined::write(wds, its, &policies, &resolved, &namespaces, &valid);
        let single: BTreeMap<String, String> = singleton_wecs
            .iter()
            .filter(|(_, w)| w.len() == 1)
            .filter_map(|(o, w)| Some((o.clone(), w.iter().next()?.to_string())))
            .collect();
        return_singleton_status(wds, its, &objects, &single);
    }
}

/// The status controller's singleton status return (KS `pkg/status/singletonstatus.go`
/// L64-152, `workstatus.go` L91-189; semantics §4): an object asking it with exactly one WEC
/// gets the `.status` of the one WorkStatus of this WDS in that WEC naming it (by
/// `spec.sourceRef`), and the `singletonstatus` label; with none or several WorkStatuses there,
/// or when it no longer asks, a labelled object has its status wiped to `{}` and the label
/// removed. A WorkStatus without a status leaves the object as it is.
fn return_singleton_status(wds: &SimCluster, its: &SimCluster, objects: &[Value], single: &BTreeMap<String, String>) {
    const LABEL: &str = "managed-by.kubestellar.io/singletonstatus";
    let reports: Vec<Value> = its
        .store
        .read()
        .expect("store lock")
        .list(idx(its, &r::WORK_STATUSES), None)
        .iter()
        .map(|w| w.value())
        .filter(|w| w["metadata"]["labels"]["transport.kubestellar.io/originWdsName"] == WDS)
        .collect();
    let mut s = wds.store.write().expect("store lock");
    for o in objects {
        let (ns, name) =
            (o["metadata"]["namespace"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or(""));
        let def = if o["kind"] == "StatefulSet" { r::STATEFULSETS } else { r::DEPLOYMENTS };
        let status: Option<Value> = match single.get(&format!("{ns}/{name}")) {
            Some(wec) => {
                let here: Vec<&Value> = reports
                    .iter()
                    .filter(|w| {
                        let src = &w["spec"]["sourceRef"];
                        w["metadata"]["namespace"] == wec.as_str()
                            && src["namespace"] == ns
                            && src["name"] == name
                            && src["resource"] == resource_of(o)
                    })
                    .collect();
                match here.as_slice() {
                    [one] if one["status"].is_null() => continue,
                    [one] => Some(one["status"].clone()),
                    _ => None,
                }
            }
            None => None,
        };
        let labelled = !o["metadata"]["labels"][LABEL].is_null();
        if status.is_none() && !labelled {
            continue;
        }
        let want_status = status.clone().unwrap_or_else(|| json!({}));
        if o["status"] == want_status && labelled == status.is_some() {
            continue;
        }
        let _ = s.modify(idx(wds, &def), ns, name, |v| {
            v["status"] = want_status.clone();
            match status.is_some() {
                true => v["metadata"]["labels"][LABEL] = json!("true"),
                false => {
                    if let Some(l) = v["metadata"]["labels"].as_object_mut() {
                        l.remove(LABEL);
                    }
                }
            }
        });
    }
}
