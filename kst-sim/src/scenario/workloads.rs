//! The fleet's workloads as objects: the builder (`Workloads`) and the shared parts (containers,
//! env, the GPU Operator's dcgm-exporter, OpenCost).

use super::*;

/// The GPU Operator's dcgm-exporter: a DaemonSet with a pod on every GPU node, `:9400/metrics`.
pub(crate) fn dcgm_exporter(w: &mut Workloads<'_>, gpu_nodes: &[NodeSlot]) {
    let ns = "gpu-operator";
    let labels = json!({"app": "nvidia-dcgm-exporter", "app.kubernetes.io/name": "nvidia-dcgm-exporter", "app.kubernetes.io/part-of": "gpu-operator"});
    let c = json!({"name": "nvidia-dcgm-exporter", "image": "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
                   "ports": [{"containerPort": 9400, "name": "metrics", "protocol": "TCP"}],
                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}});
    let n = gpu_nodes.len();
    w.put(
        &r::DAEMONSETS,
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "nvidia-dcgm-exporter", "namespace": ns, "labels": labels, "generation": 1, "creationTimestamp": ago(30 * 86400)},
               "spec": {"selector": {"matchLabels": {"app": "nvidia-dcgm-exporter"}},
                        "template": {"metadata": {"labels": labels}, "spec": {"nodeSelector": {"nvidia.com/gpu.present": "true"}, "containers": [c]}}},
               "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberReady": n, "numberAvailable": n,
                          "updatedNumberScheduled": n, "numberMisscheduled": 0, "observedGeneration": 1}}),
    );
    for slot in gpu_nodes {
        let name = format!("nvidia-dcgm-exporter-{}", &template_hash(&slot.name)[..5]);
        let ip = w.cluster.next_pod_ip();
        w.put(
            &r::PODS,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": ago(30 * 86400),
                                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "nvidia-dcgm-exporter",
                                                     "uid": "ds-nvidia-dcgm-exporter", "controller": true}]},
                   "spec": {"nodeName": slot.name, "containers": [c]},
                   "status": {"phase": "Running", "hostIP": slot.ip, "podIP": ip, "podIPs": [{"ip": ip}], "startTime": ago(30 * 86400),
                              "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [{"name": "nvidia-dcgm-exporter", "ready": true, "restartCount": 0, "started": true,
                                                     "image": c["image"], "state": {"running": {"startedAt": ago(30 * 86400)}}}]}}),
        );
    }
    w.service(
        ns,
        "nvidia-dcgm-exporter",
        "nvidia-dcgm-exporter",
        &[("gpu-metrics", 9400, 9400)],
        &[("app", "nvidia-dcgm-exporter")],
    );
}

/// OpenCost on the H100 cluster only (the A100 cluster has none: kst estimates its cost from
/// configured prices), with `CLUSTER_ID` set to the cluster's name as the ManagedCluster is.
pub(crate) fn opencost(w: &mut Workloads<'_>) {
    let mut c = container(
        "opencost",
        "ghcr.io/opencost/opencost:1.117.3",
        9003,
        0,
        &[env("CLUSTER_ID", &w.cluster.name.clone())],
    );
    c["ports"] = json!([{"containerPort": 9003, "name": "http", "protocol": "TCP"}]);
    w.deployment("opencost", "opencost", 1, &[("app", "opencost")], &[], c, 20 * 86400);
    w.service(
        "opencost",
        "opencost",
        "opencost",
        &[("http", 9003, 9003), ("opencost-ui", 9090, 9090)],
        &[("app", "opencost")],
    );
}

pub(crate) fn container(name: &str, image: &str, port: u16, gpus: i64, env: &[Value]) -> Value {
    let mut resources = json!({"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}});
    if gpus > 0 {
        resources = json!({"requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": gpus.to_string()},
                           "limits": {"memory": "96Gi", "nvidia.com/gpu": gpus.to_string()}});
    }
    json!({"name": name, "image": image, "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
           "resources": resources, "env": env, "imagePullPolicy": "IfNotPresent"})
}

pub(crate) fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

pub(crate) fn env_secret(name: &str, secret: &str, key: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

pub(crate) struct Workloads<'a> {
    pub(crate) cluster: &'a SimCluster,
    pub(crate) store: &'a mut ObjectStore,
}

impl Workloads<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn deployment(
        &mut self,
        ns: &str,
        name: &str,
        replicas: i64,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        main: Value,
        age: i64,
    ) {
        self.workload(&r::DEPLOYMENTS, ns, name, replicas, labels, annotations, vec![main], vec![], age);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn workload(
        &mut self,
        def: &ResDef,
        ns: &str,
        name: &str,
        replicas: i64,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        containers: Vec<Value>,
        init: Vec<Value>,
        age: i64,
    ) {
        let mut all: Vec<(&str, &str)> = labels.to_vec();
        all.push(("app.kubernetes.io/name", name));
        let tlabels = labels_of(&all);
        let mut spec = json!({"containers": containers, "serviceAccountName": "default", "restartPolicy": "Always"});
        if !init.is_empty() {
            spec["initContainers"] = json!(init);
        }
        let o = json!({
            "apiVersion": def.api_version(), "kind": def.kind,
            "metadata": {"name": name, "namespace": ns, "labels": tlabels, "annotations": labels_of(annotations),
                         "generation": 1, "creationTimestamp": ago(age)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": tlabels}, "spec": spec}},
            "status": {"observedGeneration": 1, "replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "updatedReplicas": 0}
        });
        self.store.put(idx(self.cluster, def), o);
        reconcile_inner(self.cluster, self.store, def, ns, name, true);
    }

    pub(crate) fn add_env(&mut self, def: &ResDef, ns: &str, name: &str, e: Value) {
        let _ = self.store.modify(idx(self.cluster, def), ns, name, |o| {
            if let Some(env) = o["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut() {
                env.push(e);
            }
        });
    }

    pub(crate) fn with_sa(&mut self, def: &ResDef, ns: &str, name: &str, sa: &str) {
        let _ = self.store.modify(idx(self.cluster, def), ns, name, |o| {
            o["spec"]["template"]["spec"]["serviceAccountName"] = json!(sa);
        });
        let pods = idx(self.cluster, &r::PODS);
        let names: Vec<String> = self
            .store
            .list(pods, Some(ns))
            .into_iter()
            .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(name))
            .map(|p| p.name.clone())
            .collect();
        for pod in names {
            let _ = self.store.modify(pods, ns, &pod, |o| o["spec"]["serviceAccountName"] = json!(sa));
        }
    }

    pub(crate) fn service(
        &mut self,
        ns: &str,
        name: &str,
        selector_app: &str,
        ports: &[(&str, u16, u16)],
        labels: &[(&str, &str)],
    ) {
        let ports: Vec<Value> = ports
            .iter()
            .map(|(n, port, target)| json!({"name": n, "port": port, "targetPort": target, "protocol": "TCP"}))
            .collect();
        let ip = format!("172.30.{}.{}", fnv(name) % 250, fnv(ns) % 250);
        self.store.put(
            idx(self.cluster, &r::SERVICES),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns, "labels": labels_of(labels), "creationTimestamp": ago(20 * 86400)},
                   "spec": {"type": "ClusterIP", "clusterIP": ip, "ports": ports,
                            "selector": {"app.kubernetes.io/name": selector_app}}}),
        );
        // the EndpointSlice the endpoint controller would write: the service's ready pods
        let pods = idx(self.cluster, &r::PODS);
        let endpoints: Vec<Value> = self
            .store
            .list_prefix(pods, ns, &format!("{selector_app}-"))
            .into_iter()
            .filter(|p| p.labels.get("app.kubernetes.io/name").map(String::as_str) == Some(selector_app))
            .map(|p| {
                let v = p.value();
                json!({"addresses": [v["status"]["podIP"].clone()], "conditions": {"ready": p.ready, "serving": p.ready, "terminating": false},
                       "nodeName": p.node_name, "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name, "uid": v["metadata"]["uid"].clone()}})
            })
            .collect();
        let slice_ports: Vec<Value> =
            ports.iter().map(|p| json!({"name": p["name"], "port": p["targetPort"], "protocol": "TCP"})).collect();
        self.store.put(
            idx(self.cluster, &r::ENDPOINT_SLICES),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"name": format!("{name}-{}", &template_hash(name)[..5]), "namespace": ns,
                                "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                                "creationTimestamp": ago(20 * 86400)},
                   "addressType": "IPv4", "endpoints": endpoints, "ports": slice_ports}),
        );
    }

    pub(crate) fn put(&mut self, def: &ResDef, o: Value) {
        self.store.put(idx(self.cluster, def), o);
    }

    pub(crate) fn service_account(&mut self, ns: &str, name: &str) {
        self.put(
            &r::SERVICE_ACCOUNTS,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}),
        );
    }
}
