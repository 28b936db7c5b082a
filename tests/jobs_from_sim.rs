//! ML jobs against the simulator: batch Jobs, PyTorchJobs, a TrainJob, a RayJob and a Notebook
//! on gpu-eu-west with the status their operators write; the other clusters say which CRDs they
//! lack; Enter on a job opens its pods.

mod common;

use kst::sources::Collectors;
use kst::store::Fleet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_notebooks_across_clusters() {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let mut col = Collectors::start(&targets, common::fast_worker());
    common::pump_until(&mut fleet, &mut col.updates, "jobs and their pods listed everywhere", |f| {
        f.clusters.iter().all(|c| c.jobs.listed())
            && f.clusters
                .iter()
                .flat_map(|c| &c.jobs.jobs)
                .filter(|j| j.pod_selector.is_some())
                .all(|j| j.pods.is_some())
    })
    .await;
    let west = &fleet.clusters.iter().find(|c| c.context == "gpu-eu-west").unwrap().jobs;
    assert!(west.absent().is_empty());
    let job = |n: &str| west.jobs.iter().find(|j| j.name == n).unwrap();
    let expect = [
        ("finetune-llama-lora", "Job", "Succeeded", 2),
        ("eval-harness-nightly", "Job", "Running", 2),
        ("llama-sft-ddp", "PyTorchJob", "Running", 32),
        ("bert-pretrain", "PyTorchJob", "Failed", 2),
        ("qwen-dpo", "TrainJob", "Succeeded", 8),
        ("batch-embeddings", "RayJob", "Running", 4),
        ("ds-sandbox", "Notebook", "Ready", 1),
    ];
    for (name, kind, status, gpus) in expect {
        let j = job(name);
        assert_eq!((j.kind, j.status.as_str(), j.gpus), (kind, status, Some(gpus)), "{name}");
    }
    assert!(job("bert-pretrain").message.as_deref().unwrap().contains("OOMKilled"));
    assert!(job("llama-sft-ddp").started.is_some() && job("llama-sft-ddp").finished.is_none());
    assert_eq!(
        job("batch-embeddings").pod_selector.as_deref(),
        Some("ray.io/cluster=batch-embeddings-raycluster-x2k9f")
    );
    // GPUs held come from the pods that exist: the Job's running pod holds its 2; the
    // PyTorchJob that says Running with 32 has no pod at all
    let pods = |n: &str| job(n).pods.unwrap_or_else(|| panic!("{n}: its pods are watched"));
    assert_eq!(pods("eval-harness-nightly"), kst::store::jobs::JobPods { running: 1, total: 1, gpus_running: 2 });
    assert_eq!(pods("llama-sft-ddp"), kst::store::jobs::JobPods { running: 0, total: 0, gpus_running: 0 });
    let east = &fleet.clusters.iter().find(|c| c.context == "gpu-us-east").unwrap().jobs;
    assert_eq!(east.absent(), vec!["Notebook", "PyTorchJob", "RayJob", "TrainJob"], "batch Jobs are core");
    col.stop();
}
