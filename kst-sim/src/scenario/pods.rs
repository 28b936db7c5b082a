//! The pod controller: pods kept in line with their Deployments and StatefulSets, their
//! scheduling (GPUs per node), readiness, events, and the engines behind them.

use super::*;

pub(crate) fn crash_first_pod(cluster: &SimCluster, store: &mut ObjectStore, ns: &str, workload: &str) {
    let pods = idx(cluster, &r::PODS);
    let first = store
        .list(pods, Some(ns))
        .into_iter()
        .find(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(workload));
    if let Some(p) = first {
        let _ = store.modify(pods, ns, &p.name, |o| {
            let main = o["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
            if let Some(statuses) = o["status"]["containerStatuses"].as_array_mut() {
                for s in statuses.iter_mut().filter(|s| s["name"] == main.as_str()) {
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["restartCount"] = json!(7);
                    s["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off 5m0s restarting failed container={main} pod={}", p.name)}});
                    s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ago(400), "finishedAt": ago(380)}});
                }
            }
            // not Ready since its first back-off, an hour ago (its BackOff event's firstTimestamp)
            set_pod_ready_since(o, false, 3600);
        });
        // a pod in a crash loop already has its BackOff event
        let container = p.value()["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
        backoff_event(cluster, store, ns, &p.name, &p.node_name, &container, 7);
    }
}

/// The kubelet's BackOff event for a crash-looping container (count = restarts).
pub(crate) fn backoff_event(
    cluster: &SimCluster,
    store: &mut ObjectStore,
    ns: &str,
    pod: &str,
    node: &str,
    container: &str,
    count: i64,
) {
    let events = idx(cluster, &r::EVENTS);
    let name = format!("{pod}.{:x}", fnv(pod) & 0xffff_ffff);
    store.put(
        events,
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(3600)},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1", "fieldPath": format!("spec.containers{{{container}}}")},
            "reason": "BackOff", "type": "Warning", "count": count,
            "message": format!("Back-off restarting failed container {container} in pod {pod}"),
            "source": {"component": "kubelet", "host": node},
            "firstTimestamp": ago(3600), "lastTimestamp": ago(0)
        }),
    );
}

pub(crate) fn failed_scheduling_event(
    cluster: &SimCluster,
    store: &mut ObjectStore,
    ns: &str,
    pod: &str,
    message: &str,
) {
    store.put(
        idx(cluster, &r::EVENTS),
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{pod}.{:x}", fnv(pod) & 0xffff_fff0), "namespace": ns, "creationTimestamp": ago(600)},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1"},
            "reason": "FailedScheduling", "type": "Warning", "count": 1, "message": message,
            "source": {"component": "default-scheduler"}, "reportingComponent": "default-scheduler",
            "firstTimestamp": ago(600), "lastTimestamp": ago(60)
        }),
    );
}

/// Ready and ContainersReady as the kubelet sets them: `lastTransitionTime` moves only when
/// the status flips (docs/upstream/kubernetes-condition-times.md).
pub(crate) fn set_pod_ready(o: &mut Value, ready: bool) {
    set_pod_ready_since(o, ready, 0);
}

/// The same, as if the flip happened `ago_s` seconds ago (the seeded scenario's history).
pub(crate) fn set_pod_ready_since(o: &mut Value, ready: bool, ago_s: i64) {
    let status = if ready { "True" } else { "False" };
    if let Some(conds) = o["status"]["conditions"].as_array_mut() {
        for c in conds.iter_mut().filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady") {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(ago(ago_s));
            }
            c["status"] = json!(status);
        }
    }
}

/// The controller: after a workload's spec changes, pods follow (ReplicaSet and pods for a
/// Deployment, ordinal pods for a StatefulSet), and the workload's status is recomputed.
pub fn reconcile(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    if def.kind == "Deployment" || def.kind == "StatefulSet" {
        reconcile_inner(cluster, store, def, ns, name, false);
    }
}

pub(crate) fn reconcile_inner(
    cluster: &SimCluster,
    store: &mut ObjectStore,
    def: &ResDef,
    ns: &str,
    name: &str,
    instant: bool,
) {
    let res = idx(cluster, def);
    let Some(w) = store.get(res, ns, name) else {
        return;
    };
    let w = w.value();
    let want = w["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
    let pods_idx = idx(cluster, &r::PODS);
    let is_sts = def.kind == "StatefulSet";
    let hash = template_hash(&format!("{ns}/{name}"));
    let owner_name = if is_sts { name.to_string() } else { format!("{name}-{hash}") };
    if !is_sts && store.get(idx(cluster, &r::REPLICASETS), ns, &owner_name).is_none() {
        let mut rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": owner_name, "namespace": ns, "labels": w["spec"]["template"]["metadata"]["labels"].clone(),
                         "creationTimestamp": w["metadata"]["creationTimestamp"].clone(),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                              "uid": w["metadata"]["uid"].clone(), "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"replicas": want, "selector": w["spec"]["selector"].clone(), "template": w["spec"]["template"].clone()},
            "status": {"replicas": 0}
        });
        rs["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        store.put(idx(cluster, &r::REPLICASETS), rs);
    }
    let mut mine: Vec<_> = store
        .list_prefix(pods_idx, ns, &format!("{owner_name}-"))
        .into_iter()
        .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
        .collect();
    mine.sort_by(|a, b| a.name.cmp(&b.name));
    let owner_uid = if is_sts {
        w["metadata"]["uid"].clone()
    } else {
        store
            .get(idx(cluster, &r::REPLICASETS), ns, &owner_name)
            .map(|o| o.value()["metadata"]["uid"].clone())
            .unwrap_or(Value::Null)
    };
    // scale down: the newest go first (StatefulSets: the highest ordinal)
    while mine.len() > want {
        let victim = mine.pop().expect("non-empty");
        cluster.release(&victim.node_name, pod_gpus(&victim.value()["spec"]));
        let _ = store.delete(pods_idx, ns, &victim.name);
        cluster.dynamics.lock().expect("dynamics").engines.remove(&victim.name);
    }
    let mut ordinal = 0;
    while mine.len() < want {
        let pod_name = if is_sts {
            while mine.iter().any(|p| p.name == format!("{name}-{ordinal}")) {
                ordinal += 1;
            }
            format!("{name}-{ordinal}")
        } else {
            let suffix = cluster.rng.lock().expect("rng").suffix(5);
            format!("{owner_name}-{suffix}")
        };
        let pod = new_pod(cluster, &w, &pod_name, ns, is_sts, &owner_name, &owner_uid, &hash, instant);
        // from the value in hand: parsing the stored bytes back costs a tenth of startup
        register_engine(cluster, &pod);
        if let Some(msg) =
            pod["status"]["conditions"][0]["message"].as_str().filter(|_| pod["spec"]["nodeName"].is_null())
        {
            failed_scheduling_event(cluster, store, ns, &pod_name, msg);
        }
        let stored = store.create(pods_idx, pod).expect("fresh pod name");
        mine.push(stored);
    }
    if !is_sts {
        let _ = store.modify(idx(cluster, &r::REPLICASETS), ns, &owner_name, |rs| {
            rs["spec"]["replicas"] = json!(want);
        });
    }
    refresh_status(cluster, store, def, ns, name);
}

/// A Deployment or StatefulSet deleted with what it owns (its pods go first, their GPUs back
/// to the nodes; then its ReplicaSet), as the garbage collector does.
pub fn remove_workload(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    let res = idx(cluster, def);
    if store.modify(res, ns, name, |o| o["spec"]["replicas"] = json!(0)).is_err() {
        return;
    }
    reconcile_inner(cluster, store, def, ns, name, true);
    if def.kind == "Deployment" {
        let rs = format!("{name}-{}", template_hash(&format!("{ns}/{name}")));
        let _ = store.delete(idx(cluster, &r::REPLICASETS), ns, &rs);
    }
    let _ = store.delete(res, ns, name);
}

pub(crate) fn refresh_status(cluster: &SimCluster, store: &mut ObjectStore, def: &ResDef, ns: &str, name: &str) {
    let res = idx(cluster, def);
    let pods_idx = idx(cluster, &r::PODS);
    // pods are named after their workload (`<deploy>-<hash>-xxxxx`, `<sts>-N`)
    let mine: Vec<_> = store
        .list_prefix(pods_idx, ns, &format!("{name}-"))
        .into_iter()
        .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
        .collect();
    let total = mine.len() as i64;
    let ready = mine.iter().filter(|p| p.ready).count() as i64;
    let Some(cur) = store.get(res, ns, name) else {
        return;
    };
    let cur = cur.value();
    let want = cur["spec"]["replicas"].as_i64().unwrap_or(1);
    let available = if want == 0 { true } else { ready >= 1 };
    let status = json!({
        "observedGeneration": cur["metadata"]["generation"].clone(),
        "replicas": total, "readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": total,
        "conditions": [{"type": "Available", "status": if available { "True" } else { "False" },
                        "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]
    });
    // Only a real change is written, so an idle fleet makes no watch events.
    let same = ["replicas", "readyReplicas", "availableReplicas", "updatedReplicas"]
        .iter()
        .all(|k| cur["status"][k] == status[k])
        && cur["status"]["conditions"][0]["status"] == status["conditions"][0]["status"];
    if !same {
        let _ = store.modify(res, ns, name, |o| o["status"] = status);
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn new_pod(
    cluster: &SimCluster,
    w: &Value,
    pod_name: &str,
    ns: &str,
    is_sts: bool,
    owner: &str,
    owner_uid: &Value,
    hash: &str,
    instant: bool,
) -> Value {
    let template = &w["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    if is_sts {
        labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
        labels["controller-revision-hash"] = json!(format!("{owner}-{}", &hash[..8]));
    } else {
        labels["pod-template-hash"] = json!(hash);
    }
    let mut spec = template["spec"].clone();
    spec["schedulerName"] = json!("default-scheduler");
    let gpus = pod_gpus(&spec);
    // GPU pods carry the team that pays for them (OpenCost's `team` label)
    if gpus > 0 && labels.get("team").is_none() {
        labels["team"] = json!(team_of(ns));
    }
    let created =
        w["metadata"]["creationTimestamp"].as_str().map(str::to_string).filter(|_| instant).unwrap_or_else(|| ago(0));
    let meta = json!({"name": pod_name, "namespace": ns, "labels": labels, "creationTimestamp": created,
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": if is_sts { "StatefulSet" } else { "ReplicaSet" },
                                           "name": owner, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]});
    let Some((node, host_ip)) = cluster.place(gpus) else {
        // no node has the GPUs: Pending, unscheduled, as the scheduler leaves it
        return json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending", "qosClass": "Burstable",
                       "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                       "message": cluster.unschedulable_message(gpus), "lastTransitionTime": created}]}
        });
    };
    spec["nodeName"] = json!(node);
    let pod_ip = cluster.next_pod_ip();
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let mut s = json!({"name": c["name"], "image": c["image"], "imageID": format!("{}@sha256:{:064x}", c["image"].as_str().unwrap_or(""), fnv(c["image"].as_str().unwrap_or("")) as u128),
                "restartCount": 0, "ready": instant, "started": instant});
            s["state"] = if instant {
                json!({"running": {"startedAt": ago(3600)}})
            } else {
                json!({"waiting": {"reason": "ContainerCreating"}})
            };
            if instant {
                s["containerID"] = json!(format!("containerd://{:016x}", fnv(pod_name)));
            }
            s
        })
        .collect();
    let init_statuses: Vec<Value> = spec["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "restartCount": 0, "ready": instant, "started": instant,
                        "state": {"running": {"startedAt": ago(3600)}}})
        })
        .collect();
    let flag = if instant { "True" } else { "False" };
    let mut status = json!({
        "phase": if instant { "Running" } else { "Pending" },
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": created},
                       {"type": "Initialized", "status": "True", "lastTransitionTime": created},
                       {"type": "ContainersReady", "status": flag, "lastTransitionTime": created},
                       {"type": "Ready", "status": flag, "lastTransitionTime": created}],
        "hostIP": host_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": created,
        "containerStatuses": containers, "qosClass": "Burstable"
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status})
}

/// The team label of the GPU pods of a namespace.
pub(crate) fn team_of(ns: &str) -> &'static str {
    match ns {
        "ml-jobs" => "research",
        _ => "inference",
    }
}

/// The GPUs a pod spec asks for.
pub(crate) fn pod_gpus(spec: &Value) -> i64 {
    spec["containers"]
        .as_array()
        .map(|cs| {
            cs.iter().filter_map(|c| c["resources"]["requests"]["nvidia.com/gpu"].as_str()?.parse::<i64>().ok()).sum()
        })
        .unwrap_or(0)
}

/// Pending pods the scheduler could not place get a node when GPUs came free.
pub(crate) fn schedule_waiting(cluster: &SimCluster, store: &mut ObjectStore, waiting: Vec<Arc<crate::store::Stored>>) {
    let pods = idx(cluster, &r::PODS);
    for p in waiting {
        let v = p.value();
        let Some((node, host_ip)) = cluster.place(pod_gpus(&v["spec"])) else { continue };
        let pod_ip = cluster.next_pod_ip();
        let mut placed = None;
        let _ = store.modify(pods, &p.namespace, &p.name, |o| {
            o["spec"]["nodeName"] = json!(node);
            let containers: Vec<Value> = o["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    json!({"name": c["name"], "image": c["image"], "restartCount": 0, "ready": false, "started": false,
                                "state": {"waiting": {"reason": "ContainerCreating"}}})
                })
                .collect();
            o["status"] = json!({"phase": "Pending", "hostIP": host_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                "startTime": ago(0), "containerStatuses": containers, "qosClass": "Burstable",
                "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": ago(0)},
                               {"type": "Initialized", "status": "True", "lastTransitionTime": ago(0)},
                               {"type": "ContainersReady", "status": "False", "lastTransitionTime": ago(0)},
                               {"type": "Ready", "status": "False", "lastTransitionTime": ago(0)}]});
            placed = Some(o.clone());
        });
        if let Some(pod) = placed {
            register_engine(cluster, &pod);
        }
    }
}

/// A pod that serves a model gets an engine whose metrics the proxy serves.
pub(crate) fn register_engine(cluster: &SimCluster, pod: &Value) {
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        return;
    }
    let labels = &pod["metadata"]["labels"];
    let mut d = cluster.dynamics.lock().expect("dynamics");
    let pool =
        d.pools.iter().find(|(_, sel, _)| sel.iter().all(|(k, v)| labels[k].as_str() == Some(v.as_str()))).cloned();
    let Some((pool, _, model)) = pool else { return };
    let role = match labels["llm-d.ai/role"].as_str() {
        Some("prefill") => Role::Prefill,
        Some("decode") => Role::Decode,
        _ => Role::Aggregated,
    };
    let port = pod["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "vllm"))
        .and_then(|c| c["ports"][0]["containerPort"].as_u64())
        .unwrap_or(8000) as u16;
    let capacity = match role {
        Role::Prefill => 6.0,
        Role::Decode => 4.0,
        Role::Aggregated => 5.0,
    };
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let mut state = EngineState::new(&model, role, d.generation, capacity, 1_763_000_000.0);
    // the second decode pod of the named workload has a wedged metrics exporter
    if let Some(prefix) = &d.hang_prefix {
        let siblings = d.engines.keys().filter(|k| k.starts_with(prefix.as_str())).count();
        if name.starts_with(prefix.as_str()) && siblings == 1 {
            state.hangs = true;
        }
    }
    d.engines.insert(name, EngineEntry { state, metrics_port: port, pool });
}
