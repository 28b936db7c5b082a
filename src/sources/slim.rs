//! What a watch keeps of an object it holds for a collector: the fields the collectors read,
//! nothing else. A pod as the API server sends it carries its managedFields, annotations,
//! environment, volumes and tolerations (5-15 KB of JSON, several times that decoded); kst
//! holds every model server, agent and job pod of every cluster, some twice (a pool's watch
//! and the role watch), so memory follows what is read. The drill-down's pod views watch on
//! their own and see pods whole.

use kube::api::DynamicObject;
use serde_json::{Map, Value};

/// Keeps of `v` (an object) only `keys`.
fn keep(v: &mut Value, keys: &[&str]) {
    if let Some(m) = v.as_object_mut() {
        m.retain(|k, _| keys.contains(&k.as_str()));
    }
}

/// A container as the collectors read it: its name and image (sidecars and authbridge are
/// told by them), args (`--vllm-port`), ports and resources (GPUs).
fn container(c: &mut Value) {
    keep(c, &["name", "image", "args", "ports", "resources"]);
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            keep(p, &["containerPort", "name", "protocol"]);
        }
    }
}

/// A pod kept by the llm-d, Kagenti and ML-jobs collectors: name, namespace, labels, uid,
/// owners and times; the containers as `container` keeps them and the node; the phase,
/// conditions (with their transition times: when a pod became ready) and the containers'
/// restart counts and states.
pub fn pod(o: &mut DynamicObject) {
    o.metadata.managed_fields = None;
    o.metadata.annotations = None;
    let data = std::mem::take(&mut o.data);
    let Value::Object(mut whole) = data else {
        o.data = data;
        return;
    };
    let mut kept = Map::new();
    if let Some(mut spec) = whole.remove("spec") {
        keep(&mut spec, &["containers", "initContainers", "nodeName"]);
        for list in ["containers", "initContainers"] {
            if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
                cs.iter_mut().for_each(container);
            }
        }
        kept.insert("spec".into(), spec);
    }
    if let Some(mut status) = whole.remove("status") {
        keep(&mut status, &["phase", "conditions", "containerStatuses", "initContainerStatuses", "startTime"]);
        for list in ["containerStatuses", "initContainerStatuses"] {
            if let Some(cs) = status.get_mut(list).and_then(Value::as_array_mut) {
                for c in cs {
                    keep(c, &["name", "ready", "started", "restartCount", "state"]);
                }
            }
        }
        kept.insert("status".into(), status);
    }
    o.data = Value::Object(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A vLLM decode pod behind the routing sidecar as a real API server returns it.
    fn whole() -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "ms-decode-7d9f-abcde", "namespace": "llm-d", "uid": "u-1",
                "labels": {"llm-d.ai/role": "decode", "llm-d.ai/model": "llama", "kagenti.io/type": "agent"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                                   "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}],
                "ownerReferences": [{"kind": "ReplicaSet", "name": "ms-decode-7d9f", "uid": "rs"}],
                "creationTimestamp": "2026-12-01T00:00:00Z"
            },
            "spec": {
                "nodeName": "gpu-2",
                "initContainers": [{"name": "routing-proxy", "image": "ghcr.io/llm-d/llm-d-routing-sidecar:v0.3",
                                    "args": ["--port=8000", "--vllm-port=8200"], "restartPolicy": "Always",
                                    "env": [{"name": "X", "value": "y"}]}],
                "containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.11", "args": ["--model", "llama"],
                                "ports": [{"containerPort": 8200, "protocol": "TCP"}, {"containerPort": 9093, "name": "authbridge"}],
                                "resources": {"limits": {"nvidia.com/gpu": "4"}},
                                "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "t"}}}],
                                "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}],
                "volumes": [{"name": "cache", "emptyDir": {}}],
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]
            },
            "status": {
                "phase": "Running", "podIP": "10.0.0.7", "qosClass": "Burstable",
                "startTime": "2026-12-01T00:00:05Z",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-01T00:02:00Z"},
                               {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{"name": "vllm", "ready": true, "restartCount": 3, "image": "vllm/vllm-openai:v0.11",
                                       "imageID": "sha256:abc", "containerID": "containerd://x",
                                       "state": {"running": {"startedAt": "2026-12-01T00:01:00Z"}},
                                       "lastState": {"terminated": {"exitCode": 137}}}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_slimmed_pod_reads_as_the_whole_one_in_a_fraction_of_the_bytes() {
        let w = whole();
        let mut s = whole();
        pod(&mut s);
        assert_eq!(super::super::llmd::decode_server(&s, None), super::super::llmd::decode_server(&w, None));
        assert_eq!(super::super::gpu_resources::of_pod(&s.data["spec"]), 4);
        assert_eq!(s.data["status"]["containerStatuses"][0]["restartCount"], 3);
        assert_eq!(
            s.data["spec"]["containers"][0]["ports"][1]["containerPort"], 9093,
            "authbridge is told by its port"
        );
        assert_eq!(s.metadata.labels, w.metadata.labels);
        let size = |o: &DynamicObject| serde_json::to_vec(o).unwrap().len();
        // this pod's managedFields are one short entry; a real pod's run to kilobytes
        assert!(size(&s) * 10 < size(&w) * 7, "{} of {} bytes", size(&s), size(&w));
        assert!(s.data["spec"].get("volumes").is_none() && s.data["spec"]["containers"][0].get("env").is_none());
    }

    #[test]
    fn an_object_that_is_not_a_map_is_left_alone() {
        let mut o = whole();
        o.data = json!("odd");
        pod(&mut o);
        assert_eq!(o.data, json!("odd"));
    }
}
