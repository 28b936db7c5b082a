//! The kinds the simulator serves, and the discovery documents built from them.
//!
//! One table drives discovery (`/api`, `/apis`, `/apis/<g>/<v>`), routing and the
//! CustomResourceDefinition objects, so `kubectl api-resources` and the REST paths can
//! never disagree.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
    /// Subresources served under `<plural>/<sub>`.
    pub subresources: &'static [&'static str],
    /// A custom resource: listed as a CustomResourceDefinition object too.
    pub crd: bool,
    /// Only `create` is served (review kinds such as SelfSubjectAccessReview).
    pub create_only: bool,
    /// Computed from other objects at each request, never stored: `get` and `list` only
    /// (metrics-server's PodMetrics and NodeMetrics).
    pub computed: bool,
}

impl ResDef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    pub fn group_version(&self) -> (&'static str, &'static str) {
        (self.group, self.version)
    }
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

#[allow(clippy::too_many_arguments)] // one row of the resource table, read as the table reads
pub(super) const fn r(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    subresources: &'static [&'static str],
) -> ResDef {
    ResDef {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short,
        subresources,
        crd: false,
        create_only: false,
        computed: false,
    }
}

const fn crd(mut d: ResDef) -> ResDef {
    d.crd = true;
    d
}

pub const NAMESPACES: ResDef = r("", "v1", "Namespace", "namespaces", "namespace", false, &["ns"], &[]);
pub const NODES: ResDef = r("", "v1", "Node", "nodes", "node", false, &["no"], &["status"]);
pub const PODS: ResDef =
    r("", "v1", "Pod", "pods", "pod", true, &["po"], &["exec", "log", "portforward", "proxy", "status"]);
pub const SERVICES: ResDef = r("", "v1", "Service", "services", "service", true, &["svc"], &["proxy"]);
pub const EVENTS: ResDef = r("", "v1", "Event", "events", "event", true, &["ev"], &[]);
pub const SERVICE_ACCOUNTS: ResDef =
    r("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, &["sa"], &[]);
pub const CONFIG_MAPS: ResDef = r("", "v1", "ConfigMap", "configmaps", "configmap", true, &["cm"], &[]);
pub const SECRETS: ResDef = r("", "v1", "Secret", "secrets", "secret", true, &[], &[]);
pub const DEPLOYMENTS: ResDef =
    r("apps", "v1", "Deployment", "deployments", "deployment", true, &["deploy"], &["scale", "status"]);
pub const STATEFULSETS: ResDef =
    r("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, &["sts"], &["scale", "status"]);
pub const REPLICASETS: ResDef =
    r("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, &["rs"], &["scale", "status"]);
pub const JOBS: ResDef = r("batch", "v1", "Job", "jobs", "job", true, &[], &["status"]);
pub const DAEMONSETS: ResDef = r("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, &["ds"], &["status"]);
pub const HPAS: ResDef = r(
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    true,
    &["hpa"],
    &["status"],
);
pub const ENDPOINT_SLICES: ResDef =
    r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, &[], &[]);
pub const ROLES: ResDef = r("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, &[], &[]);
pub const ROLE_BINDINGS: ResDef =
    r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, &[], &[]);
pub const CLUSTER_ROLES: ResDef =
    r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, &[], &[]);
pub const CLUSTER_ROLE_BINDINGS: ResDef = r(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRoleBinding",
    "clusterrolebindings",
    "clusterrolebinding",
    false,
    &[],
    &[],
);
pub const SSAR: ResDef = ResDef {
    create_only: true,
    ..r(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        false,
        &[],
        &[],
    )
};
/// `kubectl auth can-i --list` and kst's per-refresh look at what it may still watch.
pub const SSRR: ResDef = ResDef {
    create_only: true,
    ..r(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        false,
        &[],
        &[],
    )
};
pub const CRDS: ResDef = r(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    "customresourcedefinition",
    false,
    &["crd", "crds"],
    &["status"],
);

pub const INFERENCE_POOLS: ResDef = crd(r(
    "inference.networking.k8s.io",
    "v1",
    "InferencePool",
    "inferencepools",
    "inferencepool",
    true,
    &["infpool"],
    &["status"],
));
/// Status-only, written by the multi-cluster controller for a pool another cluster exports.
pub const INFERENCE_POOL_IMPORTS: ResDef = crd(r(
    "inference.networking.x-k8s.io",
    "v1alpha1",
    "InferencePoolImport",
    "inferencepoolimports",
    "inferencepoolimport",
    true,
    &["infpimp"],
    &["status"],
));
pub const INFERENCE_POOLS_LEGACY: ResDef = crd(r(
    "inference.networking.x-k8s.io",
    "v1alpha2",
    "InferencePool",
    "inferencepools",
    "inferencepool",
    true,
    &[],
    &["status"],
));
pub const INFERENCE_MODELS_LEGACY: ResDef = crd(r(
    "inference.networking.x-k8s.io",
    "v1alpha2",
    "InferenceModel",
    "inferencemodels",
    "inferencemodel",
    true,
    &[],
    &["status"],
));
pub const INFERENCE_OBJECTIVES: ResDef = crd(r(
    "llm-d.ai",
    "v1alpha2",
    "InferenceObjective",
    "inferenceobjectives",
    "inferenceobjective",
    true,
    &[],
    &["status"],
));
pub const AGENT_RUNTIMES: ResDef = crd(r(
    "agent.kagenti.dev",
    "v1alpha1",
    "AgentRuntime",
    "agentruntimes",
    "agentruntime",
    true,
    &["art", "agentrt"],
    &["status"],
));
pub const AGENT_CARDS: ResDef =
    crd(r("agent.kagenti.dev", "v1alpha1", "AgentCard", "agentcards", "agentcard", true, &["cards"], &["status"]));
pub const AGENT_RUNTIMES_ROSSOCTL: ResDef = ResDef { group: "agent.rossoctl.dev", ..AGENT_RUNTIMES };
pub const AGENT_CARDS_ROSSOCTL: ResDef = ResDef { group: "agent.rossoctl.dev", ..AGENT_CARDS };
pub const MCP_SERVER_REGISTRATIONS: ResDef = crd(r(
    "mcp.kuadrant.io",
    "v1",
    "MCPServerRegistration",
    "mcpserverregistrations",
    "mcpserverregistration",
    true,
    &["mcpsr"],
    &["status"],
));
pub const BUILDS: ResDef = crd(r("shipwright.io", "v1beta1", "Build", "builds", "build", true, &[], &["status"]));
pub const BUILD_RUNS: ResDef =
    crd(r("shipwright.io", "v1beta1", "BuildRun", "buildruns", "buildrun", true, &[], &["status"]));

pub const PYTORCH_JOBS: ResDef =
    crd(r("kubeflow.org", "v1", "PyTorchJob", "pytorchjobs", "pytorchjob", true, &[], &["status"]));
pub const TRAIN_JOBS: ResDef =
    crd(r("trainer.kubeflow.org", "v1alpha1", "TrainJob", "trainjobs", "trainjob", true, &[], &["status"]));
pub const RAY_JOBS: ResDef = crd(r("ray.io", "v1", "RayJob", "rayjobs", "rayjob", true, &[], &["status"]));
pub const NOTEBOOKS: ResDef = crd(r("kubeflow.org", "v1", "Notebook", "notebooks", "notebook", true, &[], &["status"]));

// KubeStellar's control planes: KubeFlex on the hosting cluster, the OCM hub objects and the
// status add-on's WorkStatus in an ITS, the placement API in a WDS.
pub const CONTROL_PLANES: ResDef = crd(r(
    "tenancy.kflex.kubestellar.org",
    "v1alpha1",
    "ControlPlane",
    "controlplanes",
    "controlplane",
    false,
    &["cp", "cps"],
    &["status"],
));
pub const MANAGED_CLUSTERS: ResDef = crd(r(
    "cluster.open-cluster-management.io",
    "v1",
    "ManagedCluster",
    "managedclusters",
    "managedcluster",
    false,
    &["mcl", "mcls"],
    &["status"],
));
pub const MANAGED_CLUSTER_SETS: ResDef = crd(r(
    "cluster.open-cluster-management.io",
    "v1beta2",
    "ManagedClusterSet",
    "managedclustersets",
    "managedclusterset",
    false,
    &["mclset", "mclsets"],
    &["status"],
));
pub const MANIFEST_WORKS: ResDef = crd(r(
    "work.open-cluster-management.io",
    "v1",
    "ManifestWork",
    "manifestworks",
    "manifestwork",
    true,
    &["mw"],
    &["status"],
));
pub const WORK_STATUSES: ResDef = crd(r(
    "control.kubestellar.io",
    "v1alpha1",
    "WorkStatus",
    "workstatuses",
    "workstatus",
    true,
    &["ws", "wss"],
    &["status"],
));
pub const BINDING_POLICIES: ResDef = crd(r(
    "control.kubestellar.io",
    "v1alpha1",
    "BindingPolicy",
    "bindingpolicies",
    "bindingpolicy",
    false,
    &["bp"],
    &["status"],
));
pub const STATUS_COLLECTORS: ResDef = crd(r(
    "control.kubestellar.io",
    "v1alpha1",
    "StatusCollector",
    "statuscollectors",
    "statuscollector",
    false,
    &["sc"],
    &["status"],
));
pub const COMBINED_STATUSES: ResDef = crd(r(
    "control.kubestellar.io",
    "v1alpha1",
    "CombinedStatus",
    "combinedstatuses",
    "combinedstatus",
    true,
    &["cs"],
    &[],
));
pub const BINDINGS: ResDef =
    crd(r("control.kubestellar.io", "v1alpha1", "Binding", "bindings", "binding", false, &["bdg"], &["status"]));

/// Kinds every simulated cluster serves.
pub const CORE: &[ResDef] = &[
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    EVENTS,
    SERVICE_ACCOUNTS,
    CONFIG_MAPS,
    SECRETS,
    DEPLOYMENTS,
    STATEFULSETS,
    REPLICASETS,
    DAEMONSETS,
    JOBS,
    HPAS,
    ENDPOINT_SLICES,
    ROLES,
    ROLE_BINDINGS,
    CLUSTER_ROLES,
    CLUSTER_ROLE_BINDINGS,
    SSAR,
    SSRR,
    CRDS,
];

/// The served resources of one cluster.
#[derive(Debug, Clone)]
pub struct Registry {
    pub defs: Vec<ResDef>,
}

impl Registry {
    pub fn new(extra: &[ResDef]) -> Self {
        let mut defs = CORE.to_vec();
        defs.extend_from_slice(extra);
        Registry { defs }
    }

    pub fn index(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.group == group && d.version == version && d.plural == plural)
    }

    pub fn index_of(&self, def: &ResDef) -> Option<usize> {
        self.index(def.group, def.version, def.plural)
    }

    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.defs.iter().any(|d| d.group == group && d.version == version)
    }

    /// `/api`: the legacy core group.
    pub fn core_versions(&self, server: &str) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]
        })
    }

    /// `/apis`: every named group with its versions.
    pub fn group_list(&self) -> Value {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for d in self.defs.iter().filter(|d| !d.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == d.group) {
                Some((_, vs)) => {
                    if !vs.contains(&d.version) {
                        vs.push(d.version)
                    }
                }
                None => groups.push((d.group, vec![d.version])),
            }
        }
        let groups: Vec<Value> = groups
            .into_iter()
            .map(|(g, vs)| {
                let versions: Vec<Value> =
                    vs.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect();
                json!({"name": g, "versions": versions, "preferredVersion": versions[0].clone()})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/<group>` for one group.
    pub fn group(&self, group: &str) -> Option<Value> {
        let list = self.group_list();
        list["groups"].as_array()?.iter().find(|g| g["name"] == group).map(|g| {
            let mut g = g.clone();
            g["kind"] = json!("APIGroup");
            g["apiVersion"] = json!("v1");
            g
        })
    }

    /// `/api/v1` or `/apis/<group>/<version>`.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        if !self.has_group_version(group, version) {
            return None;
        }
        let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        let mut resources = Vec::new();
        for d in self.defs.iter().filter(|d| d.group == group && d.version == version) {
            let verbs: Vec<&str> = if d.create_only {
                vec!["create"]
            } else if d.computed {
                vec!["get", "list"]
            } else {
                vec!["create", "delete", "get", "list", "patch", "update", "watch"]
            };
            let mut res = json!({
                "name": d.plural, "singularName": d.singular, "namespaced": d.namespaced,
                "kind": d.kind, "verbs": verbs,
            });
            if !d.short.is_empty() {
                res["shortNames"] = json!(d.short);
            }
            if d.crd || matches!(d.plural, "pods" | "deployments" | "services" | "statefulsets" | "jobs") {
                res["categories"] = json!(["all"]);
            }
            resources.push(res);
            for sub in d.subresources {
                let (kind, verbs, extra): (&str, Vec<&str>, Value) = match *sub {
                    "scale" => {
                        ("Scale", vec!["get", "patch", "update"], json!({"group": "autoscaling", "version": "v1"}))
                    }
                    "log" => ("Pod", vec!["get"], json!({})),
                    "exec" => ("PodExecOptions", vec!["create", "get"], json!({})),
                    "portforward" => ("PodPortForwardOptions", vec!["create", "get"], json!({})),
                    "proxy" => ("PodProxyOptions", vec!["create", "delete", "get", "patch", "update"], json!({})),
                    _ => (d.kind, vec!["get", "patch", "update"], json!({})),
                };
                let kind = if *sub == "proxy" && d.plural == "services" { "ServiceProxyOptions" } else { kind };
                let mut s = json!({
                    "name": format!("{}/{}", d.plural, sub), "singularName": "", "namespaced": d.namespaced,
                    "kind": kind, "verbs": verbs,
                });
                if let Value::Object(m) = extra {
                    for (k, v) in m {
                        s[k] = v;
                    }
                }
                resources.push(s);
            }
        }
        Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
    }

    /// CustomResourceDefinition objects for the custom kinds, as the API server lists them.
    pub fn crd_objects(&self) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for d in self.defs.iter().filter(|d| d.crd) {
            let name = format!("{}.{}", d.plural, d.group);
            if let Some(existing) = out.iter_mut().find(|o| o["metadata"]["name"] == name.as_str()) {
                existing["spec"]["versions"]
                    .as_array_mut()
                    .expect("versions")
                    .push(json!({"name": d.version, "served": true, "storage": false}));
                continue;
            }
            out.push(json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": name},
                "spec": {
                    "group": d.group,
                    "names": {"kind": d.kind, "listKind": d.list_kind(), "plural": d.plural,
                              "singular": d.singular, "shortNames": d.short},
                    "scope": if d.namespaced { "Namespaced" } else { "Cluster" },
                    "versions": [{"name": d.version, "served": true, "storage": true,
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": true}},
                                  "subresources": {"status": {}}}]
                },
                "status": {"conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}],
                           "acceptedNames": {"kind": d.kind, "plural": d.plural}}
            }));
        }
        out
    }
}

/// Where a resource path points.
#[derive(Debug, Clone)]
pub struct ResPath {
    pub res: usize,
    pub def: ResDef,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// What follows `proxy/` in a proxy path, with its leading slash.
    pub rest: String,
}
