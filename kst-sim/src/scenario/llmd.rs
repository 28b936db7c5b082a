//! llm-d on the GPU clusters: InferencePools, endpoint pickers, prefill/decode model servers,
//! the 70B import across clusters, autoscalers, ML jobs.

use super::*;

pub(crate) fn pool_v1(name: &str, guide: &str) -> Value {
    json!({
        "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
        "metadata": {"name": name, "namespace": "llm-d", "creationTimestamp": ago(12 * 86400)},
        "spec": {"targetPorts": [{"number": 8000}], "selector": {"matchLabels": {"llm-d.ai/guide": guide}},
                 "endpointPickerRef": {"name": format!("{name}-epp"), "port": {"number": 9002}, "failureMode": "FailOpen"}},
        "status": {"parents": [{"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "infra-inference-gateway", "namespace": "llm-d"},
                   "controllerName": "istio.io/gateway-controller",
                   "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                                  {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"}]}]}
    })
}

pub(crate) fn epp(w: &mut Workloads<'_>, pool: &str, model: &str, auth_required: bool) {
    let name = format!("{pool}-epp");
    let mut args = vec![json!("--pool-name"), json!(pool), json!("--config-file"), json!("/config/epp.yaml")];
    if !auth_required {
        args.push(json!("--metrics-endpoint-auth=false"));
    }
    let mut c = json!({"name": "epp", "image": "ghcr.io/llm-d/llm-d-router:v0.10.0", "args": args,
        "ports": [{"containerPort": 9002, "name": "grpc", "protocol": "TCP"}, {"containerPort": 9090, "name": "http-metrics", "protocol": "TCP"},
                  {"containerPort": 9003, "name": "grpc-health", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}});
    c["env"] = json!([]);
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        &name,
        1,
        &[("app.kubernetes.io/component", "epp"), ("inferencepool", pool)],
        &[],
        vec![c],
        vec![],
        12 * 86400,
    );
    w.service(
        "llm-d",
        &name,
        &name,
        &[("grpc-ext-proc", 9002, 9002), ("http-metrics", 9090, 9090)],
        &[("app.kubernetes.io/component", "epp")],
    );
    let mut dynamics = w.cluster.dynamics.lock().expect("dynamics");
    dynamics.epps.insert(
        pool.to_string(),
        EppState {
            pool: pool.to_string(),
            model: model.to_string(),
            auth_required,
            created: 1_763_000_000.0,
            ..Default::default()
        },
    );
}

pub(crate) fn vllm(model: &str, port: u16, gpus: i64) -> Value {
    let mut c =
        container("vllm", "ghcr.io/llm-d/llm-d-cuda:v0.4.0", port, gpus, &[env("VLLM_NIXL_SIDE_CHANNEL_PORT", "5600")]);
    c["args"] = json!([
        model,
        "--port",
        port.to_string(),
        "--kv-transfer-config",
        "{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}"
    ]);
    c
}

pub(crate) fn routing_sidecar() -> Value {
    json!({"name": "routing-proxy", "image": "ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.10.0", "restartPolicy": "Always",
           "args": ["--port=8000", "--vllm-port=8200", "--kv-connector=nixlv2", "--secure-serving=false"],
           "ports": [{"containerPort": 8000, "name": "sidecar", "protocol": "TCP"}],
           "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}})
}

pub(crate) fn gpu_prefill(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.1-8B-Instruct";
    let mlabel = "llama-3-1-8b-instruct";
    w.put(&r::INFERENCE_POOLS, pool_v1("pd-disaggregation", "pd-disaggregation"));
    w.put(&r::INFERENCE_POOLS, pool_v1("optimized-baseline", "optimized-baseline"));
    {
        let mut d = w.cluster.dynamics.lock().expect("dynamics");
        d.pools.push((
            "pd-disaggregation".into(),
            vec![("llm-d.ai/guide".into(), "pd-disaggregation".into())],
            model.into(),
        ));
        d.pools.push((
            "optimized-baseline".into(),
            vec![("llm-d.ai/guide".into(), "optimized-baseline".into())],
            model.into(),
        ));
    }
    epp(w, "pd-disaggregation", model, false);
    epp(w, "optimized-baseline", model, true);
    let pd =
        [("llm-d.ai/guide", "pd-disaggregation"), ("llm-d.ai/model", mlabel), ("llm-d.ai/inference-serving", "true")];
    let mut prefill = pd.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-pd-llm-d-modelservice-prefill",
        2,
        &prefill,
        &[],
        vec![vllm(model, 8000, 1)],
        vec![],
        9 * 86400,
    );
    let mut decode = pd.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-pd-llm-d-modelservice-decode",
        2,
        &decode,
        &[],
        vec![vllm(model, 8200, 2)],
        vec![routing_sidecar()],
        9 * 86400,
    );
    let base = [("llm-d.ai/guide", "optimized-baseline"), ("llm-d.ai/model", mlabel)];
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "ms-baseline-llm-d-modelservice",
        3,
        &base,
        &[],
        vec![vllm(model, 8000, 1)],
        vec![],
        20 * 86400,
    );
    llama_70b_h100(w);
    for (name, prio, pool) in
        [("chat-interactive", 10, "pd-disaggregation"), ("batch-sheddable", -1, "optimized-baseline")]
    {
        w.put(
            &r::INFERENCE_OBJECTIVES,
            json!({"apiVersion": "llm-d.ai/v1alpha2", "kind": "InferenceObjective",
                   "metadata": {"name": name, "namespace": "llm-d", "creationTimestamp": ago(9 * 86400)},
                   "spec": {"priority": prio, "poolRef": {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": pool}},
                   "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
        );
    }
    // A pair of agents under the Rossoctl naming (renamed from Kagenti in July 2026).
    let brand = Brand::ROSSOCTL;
    w.deployment(
        "rossoctl-system",
        "rossoctl-controller-manager",
        1,
        &[("control-plane", "controller-manager")],
        &[],
        container("manager", "ghcr.io/rossoctl/operator:v0.9.1", 8443, 0, &[]),
        30 * 86400,
    );
    agent(w, brand, "team-a", "triage-agent", "langgraph", &["a2a"], 1, Provider::OpenAi, CardShape::V1, 0);
    agent(w, brand, "team-a", "capacity-planner", "crewai", &["a2a", "mcp"], 1, Provider::Ollama, CardShape::Legacy, 0);
}

/// The 70B model the A100 cluster serves, here too on H100s, in a pool exported to the
/// ClusterSet (the A100 cluster imports it); its decode servers want 8 GPUs each and the
/// second finds no node with 8 free: a decode shortage the scheduler reports.
pub(crate) fn llama_70b_h100(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.3-70B-Instruct";
    let mlabel = "llama-3-3-70b-instruct";
    let pool = "pd-llama-70b";
    let mut p = pool_v1(pool, pool);
    p["metadata"]["annotations"] = json!({EXPORT_ANNOTATION: "ClusterSet"});
    p["status"]["parents"][0]["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({"type": "Exported", "status": "True", "reason": "Exported"}));
    w.put(&r::INFERENCE_POOLS, p);
    w.cluster.dynamics.lock().expect("dynamics").pools.push((
        pool.into(),
        vec![("llm-d.ai/guide".into(), pool.into())],
        model.into(),
    ));
    epp(w, pool, model, false);
    let base = [("llm-d.ai/guide", pool), ("llm-d.ai/model", mlabel), ("llm-d.ai/inference-serving", "true")];
    let mut prefill = base.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "pd-llama-70b-prefill",
        1,
        &prefill,
        &[],
        vec![vllm(model, 8000, 4)],
        vec![],
        5 * 86400,
    );
    let mut decode = base.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "pd-llama-70b-decode",
        2,
        &decode,
        &[],
        vec![vllm(model, 8200, 8)],
        vec![routing_sidecar()],
        5 * 86400,
    );
}

/// The annotation that exports a pool to the ClusterSet (GAIE multi-cluster).
pub const EXPORT_ANNOTATION: &str = "inference.networking.x-k8s.io/export";

/// The A100 cluster imports the H100 cluster's exported 70B pool: the controller's import,
/// status only, naming the exporting cluster.
pub(crate) fn import_70b(w: &mut Workloads<'_>, exporter: &str) {
    w.put(
        &r::INFERENCE_POOL_IMPORTS,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha1", "kind": "InferencePoolImport",
               "metadata": {"name": "pd-llama-70b", "namespace": "llm-d", "creationTimestamp": ago(5 * 86400)},
               "status": {"controllers": [{
                   "name": "istio.io/gateway-controller",
                   "exportingClusters": [{"name": exporter}],
                   "parents": [{"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "inference-gateway", "namespace": "llm-d"},
                                "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "lastTransitionTime": ago(5 * 86400)}]}],
                   "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "lastTransitionTime": ago(5 * 86400)}]}]}}),
    );
}

pub(crate) fn gpu_decode(w: &mut Workloads<'_>) {
    let model = "meta-llama/Llama-3.3-70B-Instruct";
    let mlabel = "llama-3-3-70b-instruct";
    w.put(
        &r::INFERENCE_POOLS_LEGACY,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferencePool",
               "metadata": {"name": "llama-70b", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400)},
               "spec": {"selector": {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": mlabel}, "targetPortNumber": 8000,
                        "extensionRef": {"name": "llama-70b-epp", "portNumber": 9002, "failureMode": "FailClose"}},
               "status": {"parent": [{"parentRef": {"kind": "Gateway", "name": "inference-gateway"},
                          "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}]}}),
    );
    w.put(
        &r::INFERENCE_MODELS_LEGACY,
        json!({"apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferenceModel",
               "metadata": {"name": "llama-70b-chat", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400)},
               "spec": {"modelName": model, "criticality": "Critical", "poolRef": {"name": "llama-70b"}},
               "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
    );
    {
        let mut d = w.cluster.dynamics.lock().expect("dynamics");
        d.pools.push((
            "llama-70b".into(),
            vec![("llm-d.ai/inferenceServing".into(), "true".into()), ("llm-d.ai/model".into(), mlabel.into())],
            model.into(),
        ));
        d.hang_prefix = Some("llama-70b-decode".into());
        d.crashing.push(("llm-d".into(), "llama-70b-decode".into()));
    }
    epp(w, "llama-70b", model, false);
    let base = [("llm-d.ai/inferenceServing", "true"), ("llm-d.ai/model", mlabel)];
    let mut decode = base.to_vec();
    decode.push(("llm-d.ai/role", "decode"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "llama-70b-decode",
        3,
        &decode,
        &[],
        vec![vllm(model, 8200, 4)],
        vec![routing_sidecar()],
        60 * 86400,
    );
    // the WVA scales the decode servers: an HPA it manages (the VariantAutoscaling CRD is gone)
    w.put(
        &r::HPAS,
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "llama-70b-decode", "namespace": "llm-d", "creationTimestamp": ago(60 * 86400),
                            "annotations": {"llm-d.ai/managed": "true", "llm-d.ai/model-id": model, "llm-d.ai/variant-cost": "40.0"}},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-70b-decode"},
                        "minReplicas": 2, "maxReplicas": 3,
                        "metrics": [{"type": "External", "external": {
                            "metric": {"name": "wva_desired_replicas", "selector": {"matchLabels": {"variant_name": "llama-70b-decode"}}},
                            "target": {"type": "AverageValue", "averageValue": "1"}}}]},
               "status": hpa_status(false)}),
    );
    crash_first_pod(w.cluster, w.store, "llm-d", "llama-70b-decode");
    refresh_status(w.cluster, w.store, &r::DEPLOYMENTS, "llm-d", "llama-70b-decode");
    let mut prefill = base.to_vec();
    prefill.push(("llm-d.ai/role", "prefill"));
    w.workload(
        &r::DEPLOYMENTS,
        "llm-d",
        "llama-70b-prefill",
        1,
        &prefill,
        &[],
        vec![vllm(model, 8000, 4)],
        vec![],
        60 * 86400,
    );
    for (name, done) in [("finetune-llama-lora", true), ("eval-harness-nightly", false)] {
        let status = if done {
            json!({"succeeded": 1, "startTime": ago(7200), "completionTime": ago(1800),
                   "conditions": [{"type": "Complete", "status": "True"}]})
        } else {
            json!({"active": 1, "startTime": ago(900)})
        };
        w.put(
            &r::JOBS,
            json!({"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": name, "namespace": "ml-jobs", "creationTimestamp": ago(if done { 7300 } else { 950 })},
                   "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 2,
                            "template": {"spec": {"restartPolicy": "Never", "containers": [container("trainer", "ghcr.io/example/trainer:2.3", 8080, 2, &[])]}}},
                   "status": status}),
        );
    }
    // the running Job's pod, as the Job controller makes it: GPUs that are really held (and
    // idle: the harness waits on a dataset download)
    let (eval_node, _) = w.cluster.place(2).unwrap_or_else(|| (format!("{}-gpu-0", w.cluster.name), String::new()));
    w.put(
        &r::PODS,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "eval-harness-nightly-7xk2p", "namespace": "ml-jobs", "creationTimestamp": ago(900),
                            "labels": {"batch.kubernetes.io/job-name": "eval-harness-nightly", "job-name": "eval-harness-nightly", "team": "research"},
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "eval-harness-nightly",
                                                 "uid": "job-eval-harness-nightly", "controller": true}]},
               "spec": {"restartPolicy": "Never", "nodeName": eval_node,
                        "containers": [container("trainer", "ghcr.io/example/trainer:2.3", 8080, 2, &[])]},
               "status": {"phase": "Running", "startTime": ago(880),
                          "conditions": [{"type": "Ready", "status": "True"}],
                          "containerStatuses": [{"name": "trainer", "ready": true, "restartCount": 0, "started": true,
                                                 "image": "ghcr.io/example/trainer:2.3",
                                                 "state": {"running": {"startedAt": ago(870)}}}]}}),
    );
    ml_jobs(w);
    if let Some(exporter) = w.cluster.index.checked_sub(1) {
        import_70b(w, &Shape::context_name(exporter));
    }
}

/// The WVA-managed HPA's status: at its max of 3 either way; when the load wants more, the
/// controller says so (`ScalingLimited` / `TooManyReplicas`), as the HPA controller does.
pub(crate) fn hpa_status(wants_more: bool) -> Value {
    let limited = if wants_more {
        json!({"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas",
               "message": "the desired replica count is more than the maximum replica count", "lastTransitionTime": ago(0)})
    } else {
        json!({"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange",
               "message": "the desired count is within the acceptable range", "lastTransitionTime": ago(3600)})
    };
    json!({"currentReplicas": 3, "desiredReplicas": 3,
           "conditions": [
               {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                "message": "recommended size matches current size", "lastTransitionTime": ago(3600)},
               {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count from external metric wva_desired_replicas", "lastTransitionTime": ago(3600)},
               limited]})
}

pub(crate) fn gpu_template(name: &str, image: &str, gpus: i64) -> Value {
    json!({"spec": {"containers": [container(name, image, 8080, gpus, &[])]}})
}

/// Kubeflow and Ray jobs and a notebook, each with the status fields its operator writes.
pub(crate) fn ml_jobs(w: &mut Workloads<'_>) {
    let meta = |name: &str, age: i64| json!({"name": name, "namespace": "ml-jobs", "creationTimestamp": ago(age)});
    let cond = |t: &str, ok: bool, reason: &str, msg: &str| json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason, "message": msg, "lastTransitionTime": ago(600)});
    w.put(
        &r::PYTORCH_JOBS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta("llama-sft-ddp", 5400),
               "spec": {"pytorchReplicaSpecs": {
                   "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": gpu_template("pytorch", "ghcr.io/example/sft:1.4", 8)},
                   "Worker": {"replicas": 3, "restartPolicy": "OnFailure", "template": gpu_template("pytorch", "ghcr.io/example/sft:1.4", 8)}}},
               "status": {"startTime": ago(5300),
                          "conditions": [cond("Created", true, "PyTorchJobCreated", "PyTorchJob llama-sft-ddp is created."),
                                         cond("Running", true, "PyTorchJobRunning", "PyTorchJob llama-sft-ddp is running.")],
                          "replicaStatuses": {"Master": {"active": 1}, "Worker": {"active": 3}}}}),
    );
    w.put(
        &r::PYTORCH_JOBS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta("bert-pretrain", 90000),
               "spec": {"pytorchReplicaSpecs": {
                   "Master": {"replicas": 1, "template": gpu_template("pytorch", "ghcr.io/example/bert:0.9", 1)},
                   "Worker": {"replicas": 1, "template": gpu_template("pytorch", "ghcr.io/example/bert:0.9", 1)}}},
               "status": {"startTime": ago(89000), "completionTime": ago(86000),
                          "conditions": [cond("Created", true, "PyTorchJobCreated", ""),
                                         cond("Failed", true, "PyTorchJobFailed", "PyTorchJob bert-pretrain is failed because 1 Worker replica(s) failed: OOMKilled.")],
                          "replicaStatuses": {"Master": {"failed": 1}, "Worker": {"failed": 1}}}}),
    );
    w.put(
        &r::TRAIN_JOBS,
        json!({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": meta("qwen-dpo", 20000),
               "spec": {"runtimeRef": {"name": "torch-distributed"},
                        "trainer": {"image": "ghcr.io/example/dpo:0.2", "numNodes": 2,
                                    "resourcesPerNode": {"limits": {"nvidia.com/gpu": 4}}}},
               "status": {"conditions": [cond("Complete", true, "JobsCompleted", "TrainJob is completed")],
                          "jobsStatus": [{"name": "node", "succeeded": 2}]}}),
    );
    w.put(
        &r::RAY_JOBS,
        json!({"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": meta("batch-embeddings", 2400),
               "spec": {"entrypoint": "python embed.py", "shutdownAfterJobFinishes": true,
                        "rayClusterSpec": {"headGroupSpec": {"template": gpu_template("ray-head", "rayproject/ray:2.40.0", 0)},
                                           "workerGroupSpecs": [{"groupName": "gpu", "replicas": 4, "minReplicas": 4, "maxReplicas": 4,
                                                                 "template": gpu_template("ray-worker", "rayproject/ray:2.40.0-gpu", 1)}]}},
               "status": {"jobStatus": "RUNNING", "jobDeploymentStatus": "Running", "startTime": ago(2300),
                          "message": "Job is currently running", "rayClusterName": "batch-embeddings-raycluster-x2k9f"}}),
    );
    w.put(
        &r::NOTEBOOKS,
        json!({"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": meta("ds-sandbox", 300000),
               "spec": {"template": gpu_template("ds-sandbox", "kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0", 1)},
               "status": {"readyReplicas": 1, "containerState": {"running": {"startedAt": ago(290000)}},
                          "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": ago(60)}]}}),
    );
}
