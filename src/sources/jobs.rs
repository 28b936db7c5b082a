//! ML jobs on one cluster: a WatchSet over batch Jobs, PyTorchJobs, TrainJobs, RayJobs and
//! Notebooks; a kind whose CRD is absent is reported as absent, not as an error.

use std::collections::BTreeMap;

use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;
use tokio::sync::mpsc;

use super::options::WorkerOptions;
use super::paced::WatchCtx;
use super::watchset::WatchSet;
use crate::store::jobs::{JobInfo, JobPods, JobsCluster};
use crate::store::Update;

/// Labels the jobs' controllers put on their pods (batch, Kubeflow training, JobSet/TrainJob,
/// Ray, Notebooks); each selects the pods of one family.
pub const POD_LABELS: &[&str] = &[
    "batch.kubernetes.io/job-name",
    "training.kubeflow.org/job-name",
    "jobset.sigs.k8s.io/jobset-name",
    "ray.io/cluster",
    "notebook-name",
];

/// The pods a job's selector (`label=value`) matches among the watched ones.
fn job_pods(j: &JobInfo, w: &WatchSet<&'static str>) -> Option<JobPods> {
    let (label, value) = j.pod_selector.as_deref()?.split_once('=')?;
    let tag = POD_LABELS.iter().find(|l| **l == label)?;
    if w.forbidden(tag) || w.served(tag) != Some(true) {
        return None;
    }
    let mut p = JobPods::default();
    for o in w.objects(tag) {
        let labels = o.metadata.labels.as_ref();
        if labels.and_then(|l| l.get(label)).map(String::as_str) != Some(value)
            || o.metadata.namespace.as_deref() != Some(j.namespace.as_str())
        {
            continue;
        }
        p.total += 1;
        if o.data["status"]["phase"] == "Running" {
            p.running += 1;
            p.gpus_running += pod_gpus(&o.data);
        }
    }
    Some(p)
}

/// (kind, group, version, plural)
pub const KINDS: &[(&str, &str, &str, &str)] = &[
    ("Job", "batch", "v1", "jobs"),
    ("PyTorchJob", "kubeflow.org", "v1", "pytorchjobs"),
    ("TrainJob", "trainer.kubeflow.org", "v1alpha1", "trainjobs"),
    ("RayJob", "ray.io", "v1", "rayjobs"),
    ("Notebook", "kubeflow.org", "v1", "notebooks"),
];

/// GPUs a `resources` block asks for.
fn gpus_of(resources: &Value) -> i64 {
    super::gpu_resources::of_resources(resources) as i64
}

/// GPUs one pod template asks for, over its containers.
fn pod_gpus(template: &Value) -> i64 {
    super::gpu_resources::of_pod(template) as i64
}

fn cond<'a>(st: &'a Value, t: &str) -> Option<&'a Value> {
    st["conditions"].as_array()?.iter().find(|c| c["type"] == t && c["status"] == "True")
}

fn msg(c: Option<&Value>) -> Option<String> {
    c.and_then(|c| c["message"].as_str()).filter(|m| !m.is_empty()).map(str::to_string)
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// One object as a row; the status is what its operator wrote.
pub fn decode(kind: &'static str, o: &DynamicObject) -> JobInfo {
    let name = o.metadata.name.clone().unwrap_or_default();
    let spec = &o.data["spec"];
    let st = &o.data["status"];
    let mut j = JobInfo {
        kind,
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: name.clone(),
        status: "Pending".into(),
        message: None,
        gpus: None,
        created: o.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        started: s(&st["startTime"]),
        finished: s(&st["completionTime"]),
        pod_selector: None,
        pods: None,
    };
    match kind {
        "Job" => {
            let (status, c) = if let Some(c) = cond(st, "Complete") {
                ("Succeeded", Some(c))
            } else if let Some(c) = cond(st, "Failed") {
                ("Failed", Some(c))
            } else if let Some(c) = cond(st, "Suspended") {
                ("Suspended", Some(c))
            } else if st["active"].as_i64().unwrap_or(0) > 0 {
                ("Running", None)
            } else {
                ("Pending", None)
            };
            j.status = status.into();
            j.message = msg(c);
            let pods = spec["parallelism"].as_i64().unwrap_or(1);
            j.gpus = Some(pod_gpus(&spec["template"]) * pods);
            j.pod_selector = Some(format!("batch.kubernetes.io/job-name={name}"));
        }
        "PyTorchJob" => {
            // the newest true condition among the lifecycle ones
            let order = ["Succeeded", "Failed", "Restarting", "Running", "Suspended", "Created"];
            if let Some((t, c)) = order.iter().find_map(|t| cond(st, t).map(|c| (*t, c))) {
                j.status = t.into();
                j.message = msg(Some(c));
            }
            let gpus = spec["pytorchReplicaSpecs"]
                .as_object()
                .map(|m| m.values().map(|r| r["replicas"].as_i64().unwrap_or(1) * pod_gpus(&r["template"])).sum());
            j.gpus = gpus;
            j.pod_selector = Some(format!("training.kubeflow.org/job-name={name}"));
        }
        "TrainJob" => {
            let order =
                [("Complete", "Succeeded"), ("Failed", "Failed"), ("Suspended", "Suspended"), ("Created", "Created")];
            match order.iter().find_map(|(t, w)| cond(st, t).map(|c| (*w, c))) {
                Some((w, c)) => {
                    j.status = w.into();
                    j.message = msg(Some(c));
                }
                None if st["jobsStatus"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["active"].as_i64().unwrap_or(0) > 0)) =>
                {
                    j.status = "Running".into()
                }
                None => {}
            }
            let t = &spec["trainer"];
            j.gpus = Some(t["numNodes"].as_i64().unwrap_or(1) * gpus_of(&t["resourcesPerNode"]));
            j.pod_selector = Some(format!("jobset.sigs.k8s.io/jobset-name={name}"));
        }
        "RayJob" => {
            if let Some(js) = st["jobStatus"].as_str().filter(|x| !x.is_empty()) {
                let mut w = js.to_ascii_lowercase();
                if let Some(f) = w.get_mut(0..1) {
                    f.make_ascii_uppercase();
                }
                j.status = w;
            } else if let Some(d) = st["jobDeploymentStatus"].as_str() {
                j.status = d.to_string();
            }
            j.message = s(&st["message"]).filter(|m| !m.is_empty());
            j.finished = s(&st["endTime"]).or(j.finished);
            let rc = &spec["rayClusterSpec"];
            let head = pod_gpus(&rc["headGroupSpec"]["template"]);
            let workers: i64 = rc["workerGroupSpecs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["replicas"].as_i64().unwrap_or(1) * pod_gpus(&g["template"]))
                .sum();
            j.gpus = Some(head + workers);
            j.pod_selector = st["rayClusterName"].as_str().map(|c| format!("ray.io/cluster={c}"));
        }
        "Notebook" => {
            let stopped = o.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("kubeflow-resource-stopped"));
            j.status = if stopped {
                "Stopped".into()
            } else if st["readyReplicas"].as_i64().unwrap_or(0) > 0 {
                "Ready".into()
            } else {
                "Pending".into()
            };
            j.started = s(&st["containerState"]["running"]["startedAt"]);
            j.gpus = Some(pod_gpus(&spec["template"]));
            j.pod_selector = Some(format!("notebook-name={name}"));
        }
        _ => {}
    }
    j
}

pub async fn run(ctx: WatchCtx, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions) {
    let index = ctx.cluster;
    let mut w: WatchSet<&'static str> = WatchSet::new();
    for (kind, group, version, plural) in KINDS {
        w.add(&ctx, &client, kind, &super::api(group, version, kind, plural), None);
    }
    // the jobs' pods, by the labels their controllers put on them: what really runs (and
    // holds GPUs), beside what the specs ask for. A label is watched from the first job that
    // names its pods by it: a watch costs kst ~16 KB held and the API server a list, and most
    // clusters run few of the five kinds
    let pods = ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
    let grow = |w: &mut WatchSet<&'static str>| {
        let missing: Vec<&'static str> = POD_LABELS.iter().copied().filter(|l| !w.by_tag.contains_key(l)).collect();
        if missing.is_empty() {
            return false;
        }
        // one pass over the jobs: the labels their pods carry that no watch reads yet
        let wanted: std::collections::BTreeSet<&'static str> = KINDS
            .iter()
            .flat_map(|(k, ..)| w.objects(k).filter_map(move |o| decode(k, o).pod_selector))
            .filter_map(|s| missing.iter().copied().find(|l| s.split_once('=').is_some_and(|(x, _)| x == *l)))
            .collect();
        for label in &wanted {
            w.add(&ctx, &client, label, &pods, Some(label));
            w.slim(label, super::slim::pod);
        }
        !wanted.is_empty()
    };
    w.run_coalesced_growing(
        opts.coalesce,
        &tx,
        grow,
        |w| {
            let kinds: BTreeMap<&'static str, Option<bool>> = KINDS.iter().map(|(k, ..)| (*k, w.served(k))).collect();
            let mut jobs: Vec<JobInfo> =
                KINDS.iter().flat_map(|(k, ..)| w.objects(k).map(move |o| decode(k, o))).collect();
            for j in jobs.iter_mut() {
                j.pods = job_pods(j, w);
            }
            jobs.sort_by(|a, b| (&a.namespace, &a.name, a.kind).cmp(&(&b.namespace, &b.name, b.kind)));
            let forbidden: Vec<&'static str> = KINDS.iter().map(|(k, ..)| *k).filter(|k| w.forbidden(k)).collect();
            JobsCluster { kinds, forbidden, jobs }
        },
        |jobs| Update::Jobs { cluster: index, jobs },
    )
    .await;
}
