//! The one rule table: every kind of problem kst raises, with its alertname, severity,
//! threshold, `for:`, what it must see to judge it, and where it comes from. The panes' colours
//! (`Threshold`), the problems (the per-domain functions beside this file), the README's table
//! and `kst rules` (a Prometheus rule file) all read these rows.
//!
//! Upstream's rules are in docs/upstream/llm-d-alert-rules.md with their sources: the EPP rules
//! (`EPPHighErrorRatio`, `EPPCriticalErrorRatio`, `EPPNoReadyEndpoints`, `EPPMetricsAbsent`) ship
//! in llm-d's `guides/recipes/observability/alerts/`; the per-server vLLM rules (`LLMD*`) are
//! from llm-d PR #553, which never merged: no llm-d rule file alerts on `vllm:*` series today, so
//! those names and thresholds are the nearest upstream has written, not what it ships.
//!
//! In `promql`, `$w` is kst's rate window (`[metrics] rate_window`), and `cluster`,
//! `namespace`, `pod`, `pool` and `role` are the labels the scrape recipe in the README adds.

use crate::store::problems::{Bad, Cmp, Domain, Kind, Nature, Severity, Sight, Unit};

const LLMD_PR553: &str = "llm-d PR #553 (unmerged) thresholds";
const LLMD_EPP: &str = "llm-d alerts/epp-alerting-rules.yaml";
const KST: &str = "kst";

const fn kind(
    id: &'static str,
    alert: &'static str,
    severity: Severity,
    for_s: f64,
    domain: Domain,
    sight: Sight,
) -> Kind {
    Kind {
        id,
        alert,
        severity,
        for_s,
        domain,
        sight,
        nature: Nature::Incident,
        cmp: None,
        under: None,
        when: "",
        origin: KST,
        promql: None,
    }
}

const fn cmp(what: &'static str, bad: Bad, value: f64, unit: Unit) -> Option<Cmp> {
    Some(Cmp { what, bad, value, unit })
}

use Domain as D;
use Severity::{Critical as CRIT, Info as INFO, Warning as WARN};
use Sight as S;

// clusters: kst's own connection to each API server
pub const CLUSTER_UNREACHABLE: Kind = Kind {
    when: "the API server does not answer",
    ..kind("cluster-unreachable", "KstClusterUnreachable", CRIT, 0.0, D::Cluster, S::Conn)
};
pub const CLUSTER_AUTH: Kind = Kind {
    when: "the API server refuses the credentials (401, an expired token, a failing exec plugin)",
    ..kind("cluster-auth", "KstClusterAuthFailed", CRIT, 0.0, D::Cluster, S::Conn)
};
pub const CLUSTER_CONFIG: Kind = Kind {
    when: "the kubeconfig entry cannot be used",
    nature: Nature::Finding,
    ..kind("cluster-config", "KstClusterConfigError", CRIT, 0.0, D::Cluster, S::Conn)
};
pub const CLUSTER_DEGRADED: Kind = Kind {
    when: "a resource kst reads is forbidden (its rows are incomplete)",
    nature: Nature::Finding,
    ..kind("cluster-degraded", "KstClusterForbidden", WARN, 0.0, D::Cluster, S::Conn)
};
pub const CLUSTER_SLOW: Kind = Kind {
    when: "the API server answers slower than `slow_after`",
    ..kind("cluster-slow", "KstClusterSlow", WARN, 0.0, D::Cluster, S::Conn)
};

// llm-d serving: pods, pools, their metrics
pub const POD_CRASHLOOP: Kind = Kind {
    when: "a model server's container waits in `*BackOff` or `Err*`",
    origin: "kubelet state; since: the pod's Ready transition",
    ..kind("pod-crashloop", "KstModelServerCrashLooping", CRIT, 0.0, D::Serving, S::Workloads)
};
pub const POD_NOT_READY: Kind = Kind {
    when: "a model server pod is not Ready",
    under: Some("pod-crashloop"),
    origin: "pod conditions; since: the Ready transition",
    ..kind("pod-not-ready", "KstModelServerNotReady", WARN, 60.0, D::Serving, S::Workloads)
};
pub const KV: Kind = Kind {
    when: "KV cache usage of a model server",
    cmp: cmp("KV", Bad::Above, 0.90, Unit::Ratio),
    under: Some("kv-decode"),
    origin: LLMD_PR553,
    promql: Some("max by (cluster, namespace, pod) (vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc) > 0.9"),
    ..kind("kv", "LLMDKVCacheSaturation", WARN, 600.0, D::Serving, S::Metrics)
};
pub const KV_DECODE: Kind = Kind {
    when: "KV cache usage of a server that decodes",
    cmp: cmp("KV", Bad::Above, 0.95, Unit::Ratio),
    origin: LLMD_PR553,
    promql: Some(
        "max by (cluster, namespace, pod) (vllm:kv_cache_usage_perc{role!=\"prefill\"} or vllm:gpu_cache_usage_perc{role!=\"prefill\"}) > 0.95",
    ),
    ..kind("kv-decode", "LLMDDecodeKVCacheCritical", CRIT, 300.0, D::Serving, S::Metrics)
};
pub const WAITING: Kind = Kind {
    when: "requests waiting on one model server",
    cmp: cmp("waiting", Bad::Above, 50.0, Unit::Count),
    under: Some("waiting-prefill"),
    origin: LLMD_PR553,
    promql: Some("max by (cluster, namespace, pod) (vllm:num_requests_waiting) > 50"),
    ..kind("waiting", "LLMDRequestQueueBuildup", WARN, 300.0, D::Serving, S::Metrics)
};
pub const WAITING_PREFILL: Kind = Kind {
    when: "requests waiting on one prefill server",
    cmp: cmp("waiting", Bad::Above, 100.0, Unit::Count),
    origin: LLMD_PR553,
    promql: Some("max by (cluster, namespace, pod) (vllm:num_requests_waiting{role=\"prefill\"}) > 100"),
    ..kind("waiting-prefill", "LLMDPrefillQueueSaturation", WARN, 300.0, D::Serving, S::Metrics)
};
pub const PREEMPTIONS: Kind = Kind {
    when: "preemptions per second on one model server",
    cmp: cmp("preemptions", Bad::Above, 1.0, Unit::PerSecond),
    origin: LLMD_PR553,
    promql: Some("sum by (cluster, namespace, pod) (rate(vllm:num_preemptions_total[$w])) > 1"),
    ..kind("preemptions", "LLMDHighPreemptions", WARN, 300.0, D::Serving, S::Metrics)
};
pub const PREFIX_HIT: Kind = Kind {
    when: "prefix cache hit rate of a model server with traffic (> 0.1 req/s)",
    cmp: cmp("prefix hit rate", Bad::Below, 0.30, Unit::Ratio),
    origin: LLMD_PR553,
    promql: Some(
        "(sum by (cluster, namespace, pod) (rate(vllm:prefix_cache_hits_total[$w])) / sum by (cluster, namespace, pod) (rate(vllm:prefix_cache_queries_total[$w])) < 0.3) and sum by (cluster, namespace, pod) (rate(vllm:request_success_total[$w])) > 0.1",
    ),
    ..kind("prefix-hit", "LLMDLowPrefixCacheHitRate", WARN, 900.0, D::Serving, S::Metrics)
};
pub const ERROR_RATIO_HIGH: Kind = Kind {
    when: "a pool's EPP error ratio",
    cmp: cmp("error ratio", Bad::Above, 0.05, Unit::Ratio),
    under: Some("error-ratio"),
    origin: LLMD_EPP,
    promql: Some(
        "sum by (cluster, namespace, pool) (rate(llm_d_epp_request_error_total[$w])) / sum by (cluster, namespace, pool) (rate(llm_d_epp_request_total[$w])) > 0.05",
    ),
    ..kind("error-ratio-high", "EPPHighErrorRatio", WARN, 600.0, D::Serving, S::Metrics)
};
pub const ERROR_RATIO: Kind = Kind {
    when: "a pool's EPP error ratio",
    cmp: cmp("error ratio", Bad::Above, 0.20, Unit::Ratio),
    origin: LLMD_EPP,
    promql: Some(
        "sum by (cluster, namespace, pool) (rate(llm_d_epp_request_error_total[$w])) / sum by (cluster, namespace, pool) (rate(llm_d_epp_request_total[$w])) > 0.2",
    ),
    ..kind("error-ratio", "EPPCriticalErrorRatio", CRIT, 300.0, D::Serving, S::Metrics)
};
pub const TTFT_P99_HIGH: Kind = Kind {
    when: "a pool's TTFT p99",
    cmp: cmp("TTFT p99", Bad::Above, 10.0, Unit::Seconds),
    under: Some("ttft-p99"),
    origin: LLMD_PR553,
    promql: Some(
        "histogram_quantile(0.99, sum by (cluster, namespace, pool, le) (rate(vllm:time_to_first_token_seconds_bucket[$w]))) > 10",
    ),
    ..kind("ttft-p99-high", "LLMDHighTTFT", WARN, 600.0, D::Serving, S::Metrics)
};
pub const TTFT_P99: Kind = Kind {
    when: "a pool's TTFT p99",
    cmp: cmp("TTFT p99", Bad::Above, 30.0, Unit::Seconds),
    origin: LLMD_PR553,
    promql: Some(
        "histogram_quantile(0.99, sum by (cluster, namespace, pool, le) (rate(vllm:time_to_first_token_seconds_bucket[$w]))) > 30",
    ),
    ..kind("ttft-p99", "LLMDExtremeTTFT", CRIT, 300.0, D::Serving, S::Metrics)
};
pub const PD_RATIO: Kind = Kind {
    when: "a pool's prefill:decode running requests",
    cmp: cmp("prefill:decode running", Bad::Above, 3.0, Unit::Count),
    origin: LLMD_PR553,
    promql: Some(
        "sum by (cluster, namespace, pool) (vllm:num_requests_running{role=\"prefill\"}) / sum by (cluster, namespace, pool) (vllm:num_requests_running{role=\"decode\"}) > 3",
    ),
    ..kind("pd-ratio", "LLMDPrefillDecodeImbalance", WARN, 600.0, D::Serving, S::Metrics)
};
pub const POOL_NO_READY_ENDPOINTS: Kind = Kind {
    when: "a pool's endpoint picker has no ready endpoint (its `llm_d_epp_ready_endpoints`, or, without its metrics, no Ready decode pod)",
    origin: LLMD_EPP,
    promql: Some("max by (cluster, namespace, pool) (llm_d_epp_ready_endpoints) == 0"),
    ..kind("pool-no-ready-endpoints", "EPPNoReadyEndpoints", CRIT, 120.0, D::Serving, S::Workloads)
};
pub const EPP_METRICS_ABSENT: Kind = Kind {
    when: "a pool's endpoint picker's `/metrics` cannot be read (not for auth: see `epp-metrics-auth`)",
    origin: LLMD_EPP,
    ..kind("epp-metrics-absent", "EPPMetricsAbsent", CRIT, 300.0, D::Serving, S::Workloads)
};
pub const EPP_ROUTES_TO_UNREADY: Kind = Kind {
    when: "the EPP sends requests to a pod that is not Ready",
    origin: "kst (EPP attempts vs pod state)",
    ..kind("epp-routes-to-unready", "KstEPPRoutesToUnready", WARN, 0.0, D::Serving, S::Metrics)
};
pub const EPP_METRICS_AUTH: Kind = Kind {
    when: "the EPP's `/metrics` answers 401/403 (routing numbers unknown)",
    nature: Nature::Finding,
    ..kind("epp-metrics-auth", "KstEPPMetricsAuth", INFO, 0.0, D::Serving, S::Workloads)
};
pub const SLO_BREACH: Kind = Kind {
    when: "a `[[slo]]` objective met by fewer requests than its goal over the window",
    origin: "your config",
    ..kind("slo-breach", "KstSLOBreach", WARN, 300.0, D::Serving, S::Metrics)
};
pub const AUTOSCALER_AT_MAX: Kind = Kind {
    when: "a WVA-managed HPA/ScaledObject at its max while saturated (`ScalingLimited`/`TooManyReplicas`, or its pool's KV > 90%)",
    origin: "WVA alert rules, HPA conditions",
    ..kind("autoscaler-at-max", "KstAutoscalerAtMax", WARN, 300.0, D::Serving, S::Workloads)
};
pub const AUTOSCALER_BLOCKED: Kind = Kind {
    when: "`AbleToScale` or `ScalingActive` false (KEDA: `Ready` false)",
    origin: "HPA/KEDA conditions; since: the condition's transition",
    ..kind("autoscaler-blocked", "KstAutoscalerBlocked", WARN, 300.0, D::Serving, S::Workloads)
};
pub const MODEL_NO_READY_SERVERS: Kind = Kind {
    when: "a model on a cluster with decode (or prefill) servers and none Ready",
    ..kind("model-no-ready-servers", "KstModelNotServed", CRIT, 120.0, D::Serving, S::Workloads)
};
pub const MODEL_SERVERS_UNSCHEDULABLE: Kind = Kind {
    when: "a model's servers the scheduler cannot place (its message, e.g. `Insufficient nvidia.com/gpu`)",
    origin: "pod `PodScheduled` condition",
    ..kind("model-servers-unschedulable", "KstModelServersUnschedulable", WARN, 120.0, D::Serving, S::Workloads)
};
pub const POOL_IMPORT_BROKEN: Kind = Kind {
    when: "an `InferencePoolImport` whose exporting clusters cannot serve (down, pool gone or no longer exported, no ready decode)",
    origin: "kst (import vs its exporters)",
    ..kind("pool-import-broken", "KstPoolImportBroken", WARN, 30.0, D::Serving, S::Workloads)
};

// agents (Kagenti)
pub const AGENT_FAILING: Kind = Kind {
    when: "an agent's pods crash or its runtime reports failure",
    origin: "Kagenti",
    ..kind("agent-failing", "KstAgentFailing", CRIT, 0.0, D::Agents, S::Agents)
};
pub const AGENT_DEGRADED: Kind = Kind {
    when: "an agent with fewer ready replicas than wanted",
    origin: "Kagenti",
    ..kind("agent-degraded", "KstAgentDegraded", WARN, 120.0, D::Agents, S::Agents)
};
pub const AGENT_SCALED_TO_ZERO: Kind = Kind {
    when: "an agent at 0 replicas that kst did not turn off",
    nature: Nature::Finding,
    ..kind("agent-scaled-to-zero", "KstAgentScaledToZero", WARN, 0.0, D::Agents, S::Agents)
};
pub const TOOL_SERVER_UNREACHABLE: Kind = Kind {
    when: "an MCP server does not answer `initialize`/`tools/list`, or is not ready",
    ..kind("tool-server-unreachable", "KstToolServerUnreachable", WARN, 60.0, D::Agents, S::Agents)
};
pub const BUILD_FAILED: Kind = Kind {
    when: "a Shipwright build's newest finished run failed",
    origin: "Shipwright; since: the run's completion",
    ..kind("build-failed", "KstBuildFailed", WARN, 0.0, D::Agents, S::Agents)
};
pub const SECURITY_CRITICAL: Kind = Kind {
    when: "a critical posture finding (an agent bound to cluster-admin, …)",
    nature: Nature::Finding,
    origin: "kst posture rules",
    ..kind("security-critical", "KstSecurityCritical", CRIT, 0.0, D::Agents, S::Agents)
};
pub const SECURITY_DRIFT: Kind = Kind {
    when: "a change since the accepted posture baseline",
    nature: Nature::Finding,
    origin: "kst posture rules",
    ..kind("security-drift", "KstSecurityDrift", WARN, 0.0, D::Agents, S::Agents)
};

// ML jobs
pub const JOB_FAILED: Kind = Kind {
    when: "an ML job (Job, PyTorchJob, TrainJob, RayJob, …) failed",
    origin: "the job's conditions; since: its finish time",
    ..kind("job-failed", "KstJobFailed", WARN, 0.0, D::Jobs, S::Jobs)
};

// GPUs (kst's own thresholds: DCGM reports the values, nothing upstream sets alert levels)
pub const GPU_XID: Kind = Kind {
    when: "a GPU's dcgm-exporter reports an XID error",
    origin: "DCGM",
    ..kind("gpu-xid", "KstGPUXid", CRIT, 0.0, D::Gpus, S::Gpus)
};
pub const GPU_MEMORY: Kind = Kind {
    when: "a GPU's framebuffer used (vLLM takes 90% up front, so 95% is beyond it)",
    cmp: cmp("GPU memory", Bad::Above, 0.95, Unit::Ratio),
    promql: Some(
        "max by (cluster, Hostname, gpu) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) > 0.95",
    ),
    ..kind("gpu-memory", "KstGPUMemoryFull", WARN, 300.0, D::Gpus, S::Gpus)
};
/// A GPU at or above this utilisation (0..1) is busy; below it, a held GPU is idle.
pub const GPU_BUSY: f64 = 0.10;
pub const GPU_IDLE_HELD: Kind = Kind {
    when: "a pod holds GPUs all under 10% busy",
    nature: Nature::Finding,
    cmp: cmp("GPU utilisation", Bad::Below, GPU_BUSY, Unit::Ratio),
    ..kind("gpu-idle-held", "KstGPUIdleHeld", WARN, 7200.0, D::Gpus, S::Gpus)
};

// placement (KubeStellar), problems of the WDS
pub const PLACEMENT_WITHHELD: Kind = Kind {
    when: "a Binding with errors: the transport withholds its workload from every cluster",
    origin: "KubeStellar Binding status",
    ..kind("placement-withheld", "KstPlacementWithheld", CRIT, 0.0, D::Placement, S::Placement)
};
pub const PLACEMENT_NOT_DELIVERED: Kind = Kind {
    when: "an object bound to a cluster that no ManifestWork carries",
    ..kind("placement-not-delivered", "KstPlacementNotDelivered", WARN, 60.0, D::Placement, S::Placement)
};
pub const PLACEMENT_APPLY_FAILED: Kind = Kind {
    when: "a ManifestWork not applied on its cluster (its `Applied` condition)",
    origin: "OCM ManifestWork conditions",
    ..kind("placement-apply-failed", "KstPlacementApplyFailed", WARN, 0.0, D::Placement, S::Placement)
};
pub const PLACEMENT_STALE_WORK: Kind = Kind {
    when:
        "a ManifestWork the Binding no longer wants, not pruned (the transport controller failing, or kubestellar#3569)",
    nature: Nature::Finding,
    ..kind("placement-stale-work", "KstPlacementStaleWork", WARN, 60.0, D::Placement, S::Placement)
};
pub const PLACEMENT_GENERATION_LAG: Kind = Kind {
    when: "a BindingPolicy or Binding whose controller (binding, transport) has not handled its latest generation: changes are not reaching the clusters",
    ..kind("placement-generation-lag", "KstPlacementGenerationLag", WARN, 120.0, D::Placement, S::Placement)
};
pub const PLACEMENT_ORPHAN_WORK: Kind = Kind {
    when: "a ManifestWork whose Binding is gone (deleted while the work sat outside its last destinations): nothing deletes it",
    nature: Nature::Finding,
    ..kind("placement-orphan-work", "KstPlacementOrphanWork", WARN, 60.0, D::Placement, S::Placement)
};
pub const PLACEMENT_DESTINATION_UNAVAILABLE: Kind = Kind {
    when: "placements bind to a cluster the hub says is not Available, or that is no ManagedCluster (one problem per cluster, naming the placements)",
    ..kind("placement-destination-unavailable", "KstPlacementDestinationUnavailable", WARN, 0.0, D::Placement, S::Placement)
};
pub const PLACEMENT_ERROR: Kind = Kind {
    when: "a BindingPolicy's own errors, a singleton status counted over other than one cluster, or a selector Kubernetes cannot convert (upstream reports nothing)",
    nature: Nature::Finding,
    ..kind("placement-error", "KstPlacementError", WARN, 0.0, D::Placement, S::Placement)
};
pub const PLACEMENT_MATCHES_NOTHING: Kind = Kind {
    when: "a BindingPolicy that matches no cluster or no object",
    nature: Nature::Finding,
    ..kind("placement-matches-nothing", "KstPlacementMatchesNothing", INFO, 0.0, D::Placement, S::Placement)
};
pub const PLACEMENT_CONTROLLER_DOWN: Kind = Kind {
    when: "a KubeStellar controller of a WDS (kubestellar-controller-manager, transport-controller) not ready on its KubeFlex hosting cluster: placement changes stop",
    origin: "the Deployment and its pods; since: its Available condition's transition",
    ..kind("placement-controller-down", "KstPlacementControllerDown", CRIT, 60.0, D::Placement, S::Placement)
};
pub const PLACEMENT_SINGLETON_NOT_RETURNED: Kind = Kind {
    when: "singleton status asked of an object with one WEC, whose WorkStatus has a status the WDS object does not carry (the status controller not returning it, or two WorkStatuses for it in that WEC)",
    origin: "KubeStellar WorkStatus and the WDS object; since: the WorkStatus's last write",
    ..kind("placement-singleton-not-returned", "KstPlacementSingletonNotReturned", WARN, 60.0, D::Placement, S::Placement)
};
pub const PLACEMENT_COLLECTOR_MISSING: Kind = Kind {
    when: "a status collector a policy names does not exist",
    nature: Nature::Finding,
    ..kind("placement-collector-missing", "KstPlacementCollectorMissing", INFO, 0.0, D::Placement, S::Placement)
};
/// A placement status (WorkStatus) older than this, from a cluster the hub says is not Available,
/// may no longer be true (a healthy object's status is rewritten only when it changes, so age
/// alone says nothing).
pub const PLACEMENT_STATUS_STALE_S: f64 = 600.0;
pub const PLACEMENT_STATUS_STALE: Kind = Kind {
    when: "a returned status older than 10 minutes from a cluster the hub says is not Available",
    ..kind("placement-status-stale", "KstPlacementStatusStale", WARN, 0.0, D::Placement, S::Placement)
};

// hub clusters and query layers
pub const MANAGED_CLUSTER_UNAVAILABLE: Kind = Kind {
    when: "a ManagedCluster the hub says is not Available",
    origin: "OCM ManagedCluster conditions; since: the transition",
    ..kind("managed-cluster-unavailable", "KstManagedClusterUnavailable", WARN, 60.0, D::Hub, S::Hub)
};
pub const HUB_KV: Kind = Kind {
    when: "a hub cluster's highest KV cache usage (the query layer's roll-up)",
    cmp: cmp("KV max", Bad::Above, 0.90, Unit::Ratio),
    origin: LLMD_PR553,
    ..kind("hub-kv", "LLMDKVCacheSaturation", WARN, 600.0, D::Hub, S::QueryLayer)
};
pub const HUB_WAITING: Kind = Kind {
    when: "requests waiting on a hub cluster's busiest server (the query layer's roll-up)",
    cmp: cmp("waiting max", Bad::Above, 50.0, Unit::Count),
    origin: LLMD_PR553,
    ..kind("hub-waiting", "LLMDRequestQueueBuildup", WARN, 300.0, D::Hub, S::QueryLayer)
};
pub const HUB_TTFT_P99_HIGH: Kind = Kind {
    when: "a hub cluster's TTFT p99 (the query layer's roll-up)",
    cmp: cmp("TTFT p99", Bad::Above, 10.0, Unit::Seconds),
    under: Some("hub-ttft-p99"),
    origin: LLMD_PR553,
    ..kind("hub-ttft-p99-high", "LLMDHighTTFT", WARN, 600.0, D::Hub, S::QueryLayer)
};
pub const HUB_TTFT_P99: Kind = Kind {
    when: "a hub cluster's TTFT p99 (the query layer's roll-up)",
    cmp: cmp("TTFT p99", Bad::Above, 30.0, Unit::Seconds),
    origin: LLMD_PR553,
    ..kind("hub-ttft-p99", "LLMDExtremeTTFT", CRIT, 300.0, D::Hub, S::QueryLayer)
};
pub const HUB_ERROR_RATIO_HIGH: Kind = Kind {
    when: "a hub cluster's EPP error ratio (the query layer's roll-up)",
    cmp: cmp("error ratio", Bad::Above, 0.05, Unit::Ratio),
    under: Some("hub-error-ratio"),
    origin: LLMD_EPP,
    ..kind("hub-error-ratio-high", "EPPHighErrorRatio", WARN, 600.0, D::Hub, S::QueryLayer)
};
pub const HUB_ERROR_RATIO: Kind = Kind {
    when: "a hub cluster's EPP error ratio (the query layer's roll-up)",
    cmp: cmp("error ratio", Bad::Above, 0.20, Unit::Ratio),
    origin: LLMD_EPP,
    ..kind("hub-error-ratio", "EPPCriticalErrorRatio", CRIT, 300.0, D::Hub, S::QueryLayer)
};
pub const HUB_GPU_XID: Kind = Kind {
    when: "GPUs of a hub cluster reporting an XID error (the query layer's roll-up)",
    origin: "DCGM",
    ..kind("hub-gpu-xid", "KstGPUXid", CRIT, 0.0, D::Hub, S::QueryLayer)
};
pub const QUERY_LAYER_FAILING: Kind = Kind {
    when: "a `[[metrics.prometheus]]` query layer does not answer, or answers an error or partial data",
    ..kind("query-layer-failing", "KstQueryLayerFailing", WARN, 0.0, D::Hub, S::Conn)
};
pub const QUERY_LAYER_NO_SERIES: Kind = Kind {
    when: "a dialed context whose `cluster` label value no query layer holds series for (a missing or misspelt label)",
    nature: Nature::Finding,
    ..kind("query-layer-no-series", "KstQueryLayerNoSeries", WARN, 120.0, D::Hub, S::QueryLayer)
};
pub const QUERY_LAYER_UNKNOWN_CLUSTER: Kind = Kind {
    when: "a query layer holds series whose `cluster` label value is neither a context nor a hub's ManagedCluster (a typo, or a name that needs `clusters = {…}`)",
    nature: Nature::Finding,
    ..kind("query-layer-unknown-cluster", "KstQueryLayerUnknownCluster", INFO, 120.0, D::Hub, S::Conn)
};

// outside the clusters
pub const NIGHTLY_NEWLY_RED: Kind = Kind {
    when: "a nightly E2E cell's newest run failed and the one before passed",
    origin: "GitHub Actions; since: the run's start",
    ..kind("nightly-newly-red", "KstNightlyNewlyRed", WARN, 0.0, D::Fleet, S::Github)
};
pub const ALERTMANAGER: Kind = Kind {
    when: "an active alert of a configured Alertmanager (your organisation's own rules; severity from its `severity` label)",
    origin: "Alertmanager; since: its startsAt",
    ..kind("alertmanager", "(the alert's own)", WARN, 0.0, D::Fleet, S::Alertmanager)
};

/// Every kind, in the README's order.
pub const ALL: &[&Kind] = &[
    &CLUSTER_UNREACHABLE,
    &CLUSTER_AUTH,
    &CLUSTER_CONFIG,
    &CLUSTER_DEGRADED,
    &CLUSTER_SLOW,
    &POD_CRASHLOOP,
    &POD_NOT_READY,
    &KV_DECODE,
    &KV,
    &WAITING_PREFILL,
    &WAITING,
    &PREEMPTIONS,
    &PREFIX_HIT,
    &ERROR_RATIO,
    &ERROR_RATIO_HIGH,
    &TTFT_P99,
    &TTFT_P99_HIGH,
    &PD_RATIO,
    &POOL_NO_READY_ENDPOINTS,
    &EPP_METRICS_ABSENT,
    &EPP_ROUTES_TO_UNREADY,
    &EPP_METRICS_AUTH,
    &SLO_BREACH,
    &AUTOSCALER_AT_MAX,
    &AUTOSCALER_BLOCKED,
    &MODEL_NO_READY_SERVERS,
    &MODEL_SERVERS_UNSCHEDULABLE,
    &POOL_IMPORT_BROKEN,
    &AGENT_FAILING,
    &AGENT_DEGRADED,
    &AGENT_SCALED_TO_ZERO,
    &TOOL_SERVER_UNREACHABLE,
    &BUILD_FAILED,
    &SECURITY_CRITICAL,
    &SECURITY_DRIFT,
    &JOB_FAILED,
    &GPU_XID,
    &GPU_MEMORY,
    &GPU_IDLE_HELD,
    &PLACEMENT_WITHHELD,
    &PLACEMENT_NOT_DELIVERED,
    &PLACEMENT_APPLY_FAILED,
    &PLACEMENT_STALE_WORK,
    &PLACEMENT_GENERATION_LAG,
    &PLACEMENT_ORPHAN_WORK,
    &PLACEMENT_DESTINATION_UNAVAILABLE,
    &PLACEMENT_ERROR,
    &PLACEMENT_MATCHES_NOTHING,
    &PLACEMENT_CONTROLLER_DOWN,
    &PLACEMENT_SINGLETON_NOT_RETURNED,
    &PLACEMENT_COLLECTOR_MISSING,
    &PLACEMENT_STATUS_STALE,
    &MANAGED_CLUSTER_UNAVAILABLE,
    &HUB_KV,
    &HUB_WAITING,
    &HUB_TTFT_P99,
    &HUB_TTFT_P99_HIGH,
    &HUB_ERROR_RATIO,
    &HUB_ERROR_RATIO_HIGH,
    &HUB_GPU_XID,
    &QUERY_LAYER_FAILING,
    &QUERY_LAYER_NO_SERIES,
    &QUERY_LAYER_UNKNOWN_CLUSTER,
    &NIGHTLY_NEWLY_RED,
    &ALERTMANAGER,
];

/// The kind with this id.
pub fn by_id(id: &str) -> Option<&'static Kind> {
    ALL.iter().copied().find(|k| k.id == id)
}
