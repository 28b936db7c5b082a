//! ML jobs and notebooks on one cluster: batch Jobs, Kubeflow PyTorchJobs and TrainJobs, Ray
//! RayJobs, Kubeflow Notebooks. Status is what the objects say (no invented progress or ETA).

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobInfo {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// Running, Succeeded, Failed, Pending, Suspended, Created, Ready, Stopped, ...
    pub status: String,
    /// The condition's or operator's message, when there is one.
    pub message: Option<String>,
    /// GPUs requested by every pod the object asks for (None: the object does not say).
    pub gpus: Option<i64>,
    pub created: Option<String>,
    pub started: Option<String>,
    pub finished: Option<String>,
    /// The label selector of its pods (for drilling down), if the kind has a known one.
    pub pod_selector: Option<String>,
    /// Its pods as they exist now (None: kst cannot see them, e.g. pods are forbidden).
    pub pods: Option<JobPods>,
}

/// A job's pods that exist: how many run, and the GPUs those running ones request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobPods {
    pub running: usize,
    pub total: usize,
    /// GPUs requested by its running pods: in use, not only asked for.
    pub gpus_running: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobsCluster {
    /// Kind -> served by this cluster (None until the first list).
    pub kinds: BTreeMap<&'static str, Option<bool>>,
    /// Kinds this user may not list (403): there, but not readable.
    pub forbidden: Vec<&'static str>,
    pub jobs: Vec<JobInfo>,
}

impl JobsCluster {
    /// Kinds whose API the cluster does not serve (their CRD is not installed).
    pub fn absent(&self) -> Vec<&'static str> {
        self.kinds.iter().filter(|(k, s)| **s == Some(false) && !self.forbidden.contains(k)).map(|(k, _)| *k).collect()
    }
    pub fn listed(&self) -> bool {
        !self.kinds.is_empty() && self.kinds.values().all(|s| s.is_some())
    }
}
