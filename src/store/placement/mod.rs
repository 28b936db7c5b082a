//! KubeStellar placement: what each context holds of it (a WDS's BindingPolicies and Bindings,
//! an ITS's ManagedClusters, ManifestWorks and WorkStatuses, a hosting cluster's
//! ControlPlanes), and the pure functions that join them: per policy, the clusters it selects,
//! the objects it binds, each object's state on each cluster, and the drift upstream does not
//! report (a bound object with no ManifestWork, a ManifestWork no Binding wants, a failed apply,
//! an Unavailable destination, a policy matching nothing, errors, a singleton over several
//! clusters, a missing StatusCollector). `explain_cluster` says why a cluster is selected or not,
//! term by term.
//!
//! Joins (see the KubeStellar reference): Binding = BindingPolicy by name; a destination's
//! `clusterId` = ManagedCluster name = the ITS mailbox namespace; ManifestWorks and WorkStatuses
//! carry `transport.kubestellar.io/originOwnerReferenceBindingKey` (the Binding) and
//! `…/originWdsName` (the WDS, named as its context).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

mod drift;
mod join;

pub use drift::*;
pub use join::*;

pub use super::selector::{Requirement, Selector};

/// A downsync clause's object test and modulation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Clause {
    /// None: any group; `""` is the core group.
    pub api_group: Option<String>,
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
    pub object_names: Vec<String>,
    pub object_selectors: Vec<Selector>,
    /// Tested against the labels of the object's Namespace in the WDS; any `{}` among them
    /// matches every object (cluster-scoped ones too).
    pub namespace_selectors: Vec<Selector>,
    pub singleton: bool,
    pub status_collectors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Policy {
    pub name: String,
    pub cluster_selectors: Vec<Selector>,
    pub clauses: Vec<Clause>,
    /// `status.errors` (the policy's own and its Binding's).
    pub errors: Vec<String>,
    /// `StatusCollectorsAvailable=False`: its message.
    pub collectors_missing: Option<String>,
    /// Its generation and the one the binding controller last handled.
    pub generations: Generations,
    /// `spec.clusterSelectors` as the API server holds it: a write that changes them first
    /// tests that they are still these (store/moving.rs).
    #[serde(skip)]
    pub cluster_selectors_json: serde_json::Value,
}

/// `metadata.generation` and `status.observedGeneration`: a controller that has not handled
/// the latest spec leaves the second behind (docs/upstream/kubernetes-generation.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Generations {
    pub generation: Option<i64>,
    pub observed: Option<i64>,
}

impl Generations {
    /// The generation not yet handled, with the one that was (None: none ever).
    pub fn behind(&self) -> Option<(i64, Option<i64>)> {
        let generation = self.generation?;
        (self.observed.is_none_or(|o| o < generation)).then_some((generation, self.observed))
    }
}

/// An object a Binding names: `apps/deployments llm-d/name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjRef {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    pub fn text(&self) -> String {
        let kind =
            if self.group.is_empty() { self.resource.clone() } else { format!("{}.{}", self.resource, self.group) };
        if self.namespace.is_empty() {
            format!("{kind} {}", self.name)
        } else {
            format!("{kind} {}/{}", self.namespace, self.name)
        }
    }
    /// `llm-d/name` (the key other panes use for the same object).
    pub fn path(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Binding {
    pub name: String,
    /// Its uid: the transport names each ManifestWork `<Binding uid>-<WDS>-<object uid>`, so a
    /// work named after another uid is left from an earlier Binding (semantics §6).
    pub uid: String,
    pub destinations: Vec<String>,
    pub objects: Vec<ObjRef>,
    /// Objects bound `createOnly` (the matching clauses' bits ORed): created on a WEC where
    /// absent, never updated there, so a change in the WDS does not reach an existing copy.
    pub create_only: BTreeSet<ObjRef>,
    pub errors: Vec<String>,
    /// Its generation and the one the transport controller last handled.
    pub generations: Generations,
}

/// A ManagedCluster's labels, shared: the hub list derived from ten thousand of them on every
/// change of the query layer's roll-ups points at them instead of copying each (#28).
pub type Labels = std::sync::Arc<BTreeMap<String, String>>;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ManagedCluster {
    pub name: String,
    pub labels: Labels,
    /// `ManagedClusterConditionAvailable`: None when absent or Unknown (OCM then taints it unreachable).
    pub available: Option<bool>,
    /// The condition's reason and message when not available.
    pub why: Option<String>,
    /// When the Available condition last changed (Unix seconds).
    pub since: Option<f64>,
}

/// A ManifestWork in an ITS mailbox namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Work {
    /// The mailbox namespace: the WEC.
    pub wec: String,
    pub name: String,
    /// Its uid: the WorkStatuses it owns name it in their controller reference.
    pub uid: String,
    pub binding: String,
    pub wds: String,
    pub objects: Vec<ObjRef>,
    /// `Applied`: None until the work agent reports; false with its message.
    pub applied: Option<bool>,
    pub message: Option<String>,
    pub available: Option<bool>,
    pub created: Option<String>,
}

/// A WorkStatus: the WEC object's status, as the status add-on copied it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub wec: String,
    pub binding: String,
    pub wds: String,
    pub object: ObjRef,
    /// `2/2 ready`, or the status's conditions in a word.
    pub summary: String,
    /// Whether the reported status says the object is healthy (Deployment: ready = desired).
    pub healthy: Option<bool>,
    /// When the status was last written (its `managedFields` time for the status), Unix seconds.
    pub updated_at: Option<f64>,
    /// The uid of the ManifestWork that owns it (its controller reference), when it names one.
    pub owner: Option<String>,
}

impl Report {
    /// Whether this report belongs to `work`: its controller reference names the work's uid (a
    /// WorkStatus left from a deleted, re-created ManifestWork names the old one and is not the
    /// live report; semantics §5). Without either uid, the labels' join is all there is.
    pub fn owned_by(&self, work: &Work) -> bool {
        match (&self.owner, work.uid.is_empty()) {
            (Some(owner), false) => *owner == work.uid,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ControlPlane {
    pub name: String,
    /// `its`, `wds` (the `kflex.kubestellar.io/cptype` label), or empty.
    pub cptype: String,
    /// `k8s`, `vcluster`, `host`, …
    pub kind: String,
    pub ready: Option<bool>,
    pub why: Option<String>,
}

/// A workload object of a WDS, as the downsync tests see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WdsObject {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The labels of its Namespace in the WDS; None when that Namespace is not there (or not read).
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// GPUs its pods request in all (replicas x per pod), when it requests any.
    pub gpus: Option<i64>,
    /// The singleton status KubeStellar returned into it, summarised as a WEC's report is
    /// (`2/2 ready`); None when none was returned (semantics §4).
    pub returned: Option<String>,
}

/// Why an object is or is not bound by a policy: per clause, each test and whether it holds.
/// Bound when every test of any one clause holds (KubeStellar's DownsyncPolicyClause).
pub fn explain_object(policy: &Policy, o: &WdsObject) -> (bool, Vec<Vec<(String, bool)>>) {
    let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == "*" || x == v);
    let clauses: Vec<Vec<(String, bool)>> = policy
        .clauses
        .iter()
        .map(|c| {
            let mut tests = Vec::new();
            tests.push(match &c.api_group {
                None => ("any group".to_string(), true),
                Some(g) => (format!("group {}", if g.is_empty() { "core" } else { g }), *g == o.group),
            });
            tests.push((
                if c.resources.is_empty() {
                    "any resource".into()
                } else {
                    format!("resources {}", c.resources.join(","))
                },
                any(&c.resources, &o.resource),
            ));
            tests.push((
                if c.namespaces.is_empty() {
                    "any namespace".into()
                } else {
                    format!("namespaces {}", c.namespaces.join(","))
                },
                any(&c.namespaces, &o.namespace),
            ));
            if !c.object_names.is_empty() {
                tests.push((format!("names {}", c.object_names.join(",")), any(&c.object_names, &o.name)));
            }
            if !c.object_selectors.is_empty() {
                let text = c.object_selectors.iter().map(Selector::text).collect::<Vec<_>>().join(" | ");
                tests.push((format!("labels {text}"), c.object_selectors.iter().any(|s| s.matches(&o.labels))));
            }
            if !c.namespace_selectors.is_empty() && !c.namespace_selectors.iter().any(|s| s.0.is_empty()) {
                let text = c.namespace_selectors.iter().map(Selector::text).collect::<Vec<_>>().join(" | ");
                tests.push(match &o.namespace_labels {
                    Some(l) => (format!("namespace labels {text}"), c.namespace_selectors.iter().any(|s| s.matches(l))),
                    None => (format!("namespace labels {text} (no Namespace {:?} in the WDS)", o.namespace), false),
                });
            }
            tests
        })
        .collect();
    let bound = clauses.iter().any(|t| t.iter().all(|(_, ok)| *ok));
    (bound, clauses)
}

/// A CombinedStatus (in the WDS): one object's status across the WECs of one policy, per
/// StatusCollector the policy names (docs/upstream/kubestellar-combinedstatus-notes.md §2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Combined {
    /// The BindingPolicy (label `status.kubestellar.io/binding-policy`).
    pub policy: String,
    pub object: ObjRef,
    pub results: Vec<Combination>,
}

/// One StatusCollector's table: its columns, its rows (each cell as text), and the errors the
/// status controller recorded (`rowErrors`, `aggregationErrors`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Combination {
    pub collector: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub errors: Vec<String>,
}

impl Combination {
    /// `wecs 1 · readySum 2`, one row; `[wec a, ready 2] [wec b, ready 1]`, several.
    pub fn text(&self) -> String {
        let row = |r: &Vec<String>| -> String {
            self.columns.iter().zip(r).map(|(c, v)| format!("{c} {v}")).collect::<Vec<_>>().join(", ")
        };
        match self.rows.as_slice() {
            [] => "no rows".into(),
            [one] => row(one).replace(", ", " · "),
            rows => rows.iter().map(|r| format!("[{}]", row(r))).collect::<Vec<_>>().join(" "),
        }
    }
}

/// A StatusCollector (in the WDS) and the errors the status controller found in its spec: an
/// invalid one is treated as missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Collector {
    pub name: String,
    pub errors: Vec<String>,
}

/// What one context holds of KubeStellar. None per part: that API is not served there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlacementCluster {
    /// Every watch has answered once (served or not): what is None is not served.
    pub listed: bool,
    pub policies: Option<Vec<Policy>>,
    pub bindings: Option<Vec<Binding>>,
    pub managed: Option<Vec<ManagedCluster>>,
    pub works: Option<Vec<Work>>,
    pub reports: Option<Vec<Report>>,
    pub control_planes: Option<Vec<ControlPlane>>,
    /// A WDS's workload objects of the kinds kst knows (deployments, statefulsets, services).
    pub objects: Option<Vec<WdsObject>>,
    /// An OCM hub's ManagedClusterSets.
    pub sets: Option<Vec<ClusterSet>>,
    /// On a KubeFlex hosting cluster: the KubeStellar controllers of its WDSes.
    pub controllers: Option<Vec<Controller>>,
    /// A WDS's StatusCollectors and CombinedStatuses.
    pub collectors: Option<Vec<Collector>>,
    pub combined: Option<Vec<Combined>>,
}

/// A KubeStellar controller of a WDS, as its Deployment and pods on the KubeFlex hosting
/// cluster say: `kubestellar-controller-manager` (binding and status controllers) and
/// `transport-controller`, in the control plane's namespace `<wds>-system` (core-chart's
/// PostCreateHooks; KubeFlex `GenerateNamespaceFromControlPlaneName`; semantics §8).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Controller {
    pub namespace: String,
    pub name: String,
    pub desired: i64,
    pub ready: i64,
    /// Container restarts summed over its pods.
    pub restarts: i64,
    /// Why a container of its pods waits (`CrashLoopBackOff`, `ImagePullBackOff`).
    pub waiting: Option<String>,
    /// When its `Available` condition last changed (Unix seconds): since when it is down.
    pub since: Option<f64>,
}

impl Controller {
    /// The WDS it serves: its namespace without `-system`.
    pub fn wds(&self) -> Option<&str> {
        self.namespace.strip_suffix("-system")
    }
    pub fn healthy(&self) -> bool {
        self.desired > 0 && self.ready >= self.desired
    }
    /// `0/1 ready, CrashLoopBackOff, 4 restarts`.
    pub fn state(&self) -> String {
        let mut s = if self.desired == 0 {
            "scaled to 0".to_string()
        } else {
            format!("{}/{} ready", self.ready, self.desired)
        };
        if let Some(w) = &self.waiting {
            s.push_str(&format!(", {w}"));
        }
        if self.restarts > 0 {
            s.push_str(&format!(", {} restart{}", self.restarts, if self.restarts == 1 { "" } else { "s" }));
        }
        s
    }
    /// What stops while it is down.
    pub fn stops(&self) -> &'static str {
        if self.name == "transport-controller" {
            "no ManifestWork is written, updated or pruned"
        } else {
            "Bindings, policy errors and returned status are not updated"
        }
    }
}

/// The label that puts a ManagedCluster in an `ExclusiveClusterSetLabel` set.
pub const CLUSTERSET_LABEL: &str = "cluster.open-cluster-management.io/clusterset";

/// A ManagedClusterSet: which ManagedClusters belong to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSet {
    pub name: String,
    /// None: `ExclusiveClusterSetLabel` (members carry the clusterset label with the set's
    /// name); Some: `LabelSelector` (members match it; `global` selects everything).
    pub selector: Option<Selector>,
}

impl ClusterSet {
    pub fn contains(&self, m: &ManagedCluster) -> bool {
        match &self.selector {
            None => m.labels.get(CLUSTERSET_LABEL) == Some(&self.name),
            Some(s) => s.matches(&m.labels),
        }
    }
    /// How membership is decided, in the API's words.
    pub fn rule(&self) -> String {
        match &self.selector {
            None => format!("{CLUSTERSET_LABEL}={}", self.name),
            Some(s) => format!("labelSelector {}", s.text()),
        }
    }
}

impl PlacementCluster {
    pub fn is_wds(&self) -> bool {
        self.policies.is_some()
    }
    pub fn is_its(&self) -> bool {
        self.managed.is_some()
    }
    pub fn any(&self) -> bool {
        self.policies.is_some() || self.managed.is_some() || self.control_planes.is_some()
    }
}

/// An object on a cluster, as far as placement knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Cell {
    /// Bound, but no ManifestWork in the cluster's mailbox.
    NotDelivered,
    /// A ManifestWork exists; the work agent has not reported.
    Delivered,
    /// The work agent could not apply it.
    ApplyFailed { message: String },
    /// Applied; no status reported back (yet).
    Applied,
    /// Applied and reported: `2/2 ready`, with when the status add-on last wrote it.
    Reported { summary: String, healthy: Option<bool>, at: Option<f64> },
}

impl Cell {
    /// A short word for a narrow cell, readable without colour.
    pub fn short(&self) -> String {
        match self {
            Cell::NotDelivered => "✖ no work".into(),
            Cell::Delivered => "… delivered".into(),
            Cell::ApplyFailed { .. } => "✖ apply failed".into(),
            Cell::Applied => "○ applied".into(),
            Cell::Reported { summary, healthy: Some(false), .. } => format!("▲ {summary}"),
            Cell::Reported { summary, .. } => format!("● {summary}"),
        }
    }
    pub fn bad(&self) -> bool {
        matches!(self, Cell::NotDelivered | Cell::ApplyFailed { .. })
    }
}

/// Why a cluster is or is not selected: each selector (ORed) with each term (ANDed) and whether
/// it holds for the cluster's labels. True overall when any selector holds entirely.
pub fn explain_cluster(policy: &Policy, labels: &BTreeMap<String, String>) -> (bool, Vec<Vec<(String, bool)>>) {
    let terms: Vec<Vec<(String, bool)>> = policy
        .cluster_selectors
        .iter()
        .map(|s| {
            if s.0.is_empty() {
                vec![("{} (every cluster)".to_string(), true)]
            } else {
                s.0.iter().map(|r| (r.text(), r.matches(labels))).collect()
            }
        })
        .collect();
    let selected = terms.iter().any(|t| t.iter().all(|(_, ok)| *ok));
    (selected, terms)
}

/// One line of a policy's selectors: `capability=gpu-h100,region=us-east | name in (a,b)`.
pub fn selectors_text(p: &Policy) -> String {
    if p.cluster_selectors.is_empty() {
        return "no cluster selectors (selects nothing)".into();
    }
    p.cluster_selectors.iter().map(Selector::text).collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_bound_when_every_test_of_one_clause_holds() {
        let policy = Policy {
            name: "p".into(),
            clauses: vec![
                Clause {
                    api_group: Some("apps".into()),
                    resources: vec!["deployments".into()],
                    namespaces: vec!["llm-d".into()],
                    object_selectors: vec![Selector(vec![
                        req("llm-d.ai/model", "In", &["m70"]),
                        req("llm-d.ai/guide", "DoesNotExist", &[]),
                    ])],
                    ..Default::default()
                },
                Clause { namespaces: vec!["team1".into()], object_names: vec!["agent".into()], ..Default::default() },
            ],
            ..Default::default()
        };
        let o = |ns: &str, name: &str, l: &[(&str, &str)]| WdsObject {
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: ns.into(),
            name: name.into(),
            labels: labels(l),
            namespace_labels: None,
            gpus: None,
            returned: None,
        };
        let (bound, why) = explain_object(&policy, &o("llm-d", "decode", &[("llm-d.ai/model", "m70")]));
        assert!(bound);
        assert!(why[0].iter().all(|(_, ok)| *ok));
        // the guide label makes the selector fail, and only that test
        let (bound, why) =
            explain_object(&policy, &o("llm-d", "pd-decode", &[("llm-d.ai/model", "m70"), ("llm-d.ai/guide", "pd")]));
        assert!(!bound);
        let failing: Vec<&str> = why[0].iter().filter(|(_, ok)| !ok).map(|(t, _)| t.as_str()).collect();
        assert_eq!(failing, vec!["labels llm-d.ai/model=m70,!llm-d.ai/guide"]);
        // the second clause: any group and resource, by name
        assert!(explain_object(&policy, &o("team1", "agent", &[])).0);
        assert!(!explain_object(&policy, &o("team1", "other", &[])).0);
        // namespaceSelectors: the Namespace's labels; a {} among them selects every namespace
        let by_ns = |sels: Vec<Selector>| Policy {
            clauses: vec![Clause { namespace_selectors: sels, ..Default::default() }],
            ..Default::default()
        };
        let team = Selector(vec![req("team", "In", &["obs"])]);
        let labelled = WdsObject { namespace_labels: Some(labels(&[("team", "obs")])), ..o("monitoring", "x", &[]) };
        let other = WdsObject { namespace_labels: Some(labels(&[])), ..o("llm-d", "y", &[]) };
        assert!(explain_object(&by_ns(vec![team.clone()]), &labelled).0);
        let (bound, why) = explain_object(&by_ns(vec![team.clone()]), &other);
        assert!(!bound && why[0].contains(&("namespace labels team=obs".to_string(), false)), "{why:?}");
        assert!(explain_object(&by_ns(vec![team.clone(), Selector::default()]), &other).0, "{{}} matches all");
        let (bound, why) = explain_object(&by_ns(vec![team]), &o("gone", "z", &[]));
        assert!(!bound && why[0].iter().any(|(t, _)| t.contains("no Namespace \"gone\"")), "{why:?}");
    }

    #[test]
    fn selectors_kubernetes_cannot_convert_match_nothing_and_are_drift() {
        assert_eq!(req("a", "In", &[]).problem().as_deref(), Some("a: values set can't be empty for In"));
        assert!(req("a", "Exists", &["x"]).problem().is_some());
        assert!(req("a", "Gt", &["4"]).problem().unwrap().contains("\"Gt\" is not a valid"));
        assert_eq!(req("a", "DoesNotExist", &[]).problem(), None);
        // NotIn without values would match everything if evaluated; upstream cannot convert it
        assert!(!Selector(vec![req("a", "NotIn", &[])]).matches(&labels(&[])));
        let p = Policy {
            name: "p".into(),
            cluster_selectors: vec![Selector(vec![req("capability", "In", &[])])],
            clauses: vec![Clause {
                object_selectors: vec![Selector(vec![req("x", "Equals", &["y"])])],
                ..Default::default()
            }],
            ..Default::default()
        };
        let kinds: Vec<(String, bool)> = invalid_selectors(&p)
            .iter()
            .map(|d| match d {
                Drift::InvalidSelector { field, .. } => {
                    (field.clone(), d.text().contains("destinations stay as they were"))
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![("clusterSelectors[0]".to_string(), true), ("downsync[0].objectSelectors[0]".to_string(), false)]
        );
    }

    fn req(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement { key: key.into(), operator: op.into(), values: values.iter().map(|v| v.to_string()).collect() }
    }
    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_follow_kubernetes_semantics() {
        let l = labels(&[("capability", "gpu-h100"), ("region", "us-east")]);
        assert!(req("capability", "In", &["gpu-h100", "gpu-a100"]).matches(&l));
        assert!(!req("capability", "In", &["gpu-a100"]).matches(&l));
        assert!(req("capability", "NotIn", &["gpu-a100"]).matches(&l));
        assert!(req("zone", "NotIn", &["a"]).matches(&l), "NotIn holds when the label is absent");
        assert!(req("region", "Exists", &[]).matches(&l) && !req("zone", "Exists", &[]).matches(&l));
        assert!(req("zone", "DoesNotExist", &[]).matches(&l) && !req("region", "DoesNotExist", &[]).matches(&l));
        assert!(!req("region", "Gt", &["1"]).matches(&l), "an unknown operator matches nothing");
        assert!(Selector::default().matches(&l), "an empty selector matches everything");
        let both = Selector(vec![req("capability", "In", &["gpu-h100"]), req("region", "In", &["eu-west"])]);
        assert!(!both.matches(&l), "terms are ANDed");
        assert_eq!(both.text(), "capability=gpu-h100,region=eu-west");
    }

    #[test]
    fn explain_names_the_failing_term_and_ors_the_selectors() {
        let p = Policy {
            name: "p".into(),
            cluster_selectors: vec![
                Selector(vec![req("capability", "In", &["gpu-h100"]), req("region", "In", &["us-east"])]),
                Selector(vec![req("name", "In", &["cluster3"])]),
            ],
            ..Default::default()
        };
        let (ok, terms) = explain_cluster(&p, &labels(&[("capability", "gpu-h100"), ("region", "eu-west")]));
        assert!(!ok);
        assert_eq!(terms[0], vec![("capability=gpu-h100".to_string(), true), ("region=us-east".to_string(), false)]);
        let (ok, _) = explain_cluster(&p, &labels(&[("name", "cluster3")]));
        assert!(ok, "the second selector alone selects it");
        let none = Policy::default();
        assert!(!explain_cluster(&none, &labels(&[])).0, "no selectors: no cluster");
    }

    fn obj(name: &str) -> ObjRef {
        ObjRef { group: "apps".into(), resource: "deployments".into(), namespace: "llm-d".into(), name: name.into() }
    }

    /// Upstream counts an object's singleton WECs across every policy asking it (semantics §4):
    /// two policies sending the same object to one cluster each make two; a policy selecting it
    /// without the flag adds nothing; none selected is zero. Each count other than one is drift.
    #[test]
    fn singleton_status_is_counted_per_object_across_policies() {
        let singleton = |name: &str| Policy {
            name: name.into(),
            clauses: vec![Clause { singleton: true, ..Default::default() }],
            ..Default::default()
        };
        let plain = Policy { name: "plain".into(), clauses: vec![Clause::default()], ..Default::default() };
        let binding = |name: &str, to: &[&str], objects: &[&str]| Binding {
            name: name.into(),
            destinations: to.iter().map(|s| s.to_string()).collect(),
            objects: objects.iter().map(|o| obj(o)).collect(),
            uid: Default::default(),
            generations: Default::default(),
            create_only: Default::default(),
            errors: vec![],
        };
        let wds = |policies: Vec<Policy>, bindings: Vec<Binding>| PlacementCluster {
            policies: Some(policies),
            bindings: Some(bindings),
            ..Default::default()
        };
        let counts = |p: &PlacementCluster| -> Vec<(String, Option<(String, usize)>)> {
            views(&[("wds1", p)])
                .into_iter()
                .map(|v| {
                    let d = v.drift.iter().find_map(|d| match d {
                        Drift::SingletonCount { object, clusters, .. } => Some((object.clone(), *clusters)),
                        _ => None,
                    });
                    (v.policy.name, d)
                })
                .collect()
        };
        // one policy, one cluster: status comes back; a plain policy elsewhere does not count
        let one = wds(
            vec![singleton("a"), plain.clone()],
            vec![binding("a", &["east"], &["x"]), binding("plain", &["west"], &["x"])],
        );
        assert_eq!(counts(&one), vec![("a".into(), None), ("plain".into(), None)]);
        // a plain policy binding an object that another sends to two clusters says it too
        let shared = wds(
            vec![singleton("a"), plain.clone()],
            vec![binding("a", &["east", "west"], &["x"]), binding("plain", &["west"], &["x"])],
        );
        let x2 = Some((obj("x").text(), 2));
        assert_eq!(counts(&shared), vec![("a".into(), x2.clone()), ("plain".into(), x2)]);
        // two singleton policies, one cluster each: two WECs for x, drift on both
        let two = wds(
            vec![singleton("a"), singleton("b")],
            vec![binding("a", &["east"], &["x"]), binding("b", &["west"], &["x", "y"])],
        );
        let x = Some((obj("x").text(), 2));
        assert_eq!(counts(&two), vec![("a".into(), x.clone()), ("b".into(), x)]);
        // selected nowhere: zero
        let none = wds(vec![singleton("a")], vec![binding("a", &[], &["x"])]);
        assert_eq!(counts(&none)[0].1, Some((obj("x").text(), 0)));
        let text = views(&[("wds1", &none)])[0].drift.iter().map(Drift::text).collect::<Vec<_>>().join("\n");
        assert!(text.contains("but no cluster is selected: no status comes back"), "{text}");
    }

    #[test]
    fn upstreams_singleton_error_is_said_in_words() {
        let m = r#"Singleton reported status return is requested but some objects have the wrong number of associated WECs, for example: [{"ObjectID":{"GVK":{"Group":"apps","Version":"v1","Kind":"Deployment"},"Resource":"deployments","ObjectName":{"Namespace":"llm-d","Name":"x"}},"NumWECs":2},{"ObjectID":{"GVK":{"Group":"","Version":"v1","Kind":"Namespace"},"Resource":"namespaces","ObjectName":{"Namespace":"","Name":"team1"}},"NumWECs":0}]"#;
        let d = Drift::Errors { message: m.into(), withheld: false };
        assert_eq!(
            d.text(),
            "Singleton reported status return is requested but some objects have the wrong number of associated WECs, for example: deployments llm-d/x has 2 WECs, namespaces team1 has 0 WECs"
        );
        // anything it cannot read stays as upstream wrote it
        let odd = Drift::Errors { message: "Singleton reported status for example: [nope".into(), withheld: false };
        assert_eq!(odd.text(), "Singleton reported status for example: [nope");
    }

    /// The transport names a work `<Binding uid>-<WDS>-<object uid>` (semantics §6): one named
    /// after another uid is left from an earlier Binding (the policy deleted and created
    /// again). It never stands in for the live Binding's work, and it is named as drift.
    #[test]
    fn a_work_from_an_earlier_binding_is_drift_and_no_cell() {
        let policy = Policy { name: "p".into(), clauses: vec![Clause::default()], ..Default::default() };
        let wds = PlacementCluster {
            policies: Some(vec![policy]),
            bindings: Some(vec![Binding {
                name: "p".into(),
                uid: "u2".into(),
                destinations: vec!["a".into()],
                objects: vec![obj("x")],
                ..Default::default()
            }]),
            ..Default::default()
        };
        let work = |name: &str| Work {
            wec: "a".into(),
            name: name.into(),
            binding: "p".into(),
            wds: "wds1".into(),
            objects: vec![obj("x")],
            applied: Some(true),
            ..Default::default()
        };
        let its = |works: Vec<Work>| PlacementCluster {
            managed: Some(vec![ManagedCluster { name: "a".into(), available: Some(true), ..Default::default() }]),
            works: Some(works),
            ..Default::default()
        };
        // only the earlier Binding's work: the object is not delivered, and the old work is drift
        let only_old = its(vec![work("u1-wds1-o")]);
        let v = &views(&[("wds1", &wds), ("its1", &only_old)])[0];
        assert_eq!(v.cells[0][0], Cell::NotDelivered);
        let earlier: Vec<&Drift> = v.drift.iter().filter(|d| matches!(d, Drift::Stale { earlier: true, .. })).collect();
        assert_eq!(earlier.len(), 1, "{:?}", v.drift);
        assert!(earlier[0].text().contains("from an earlier Binding"), "{}", earlier[0].text());
        // both: the live one is the cell's
        let both = its(vec![work("u1-wds1-o"), work("u2-wds1-o")]);
        let v = &views(&[("wds1", &wds), ("its1", &both)])[0];
        assert_eq!(v.cells[0][0], Cell::Applied);
        assert_eq!(v.drift.iter().filter(|d| matches!(d, Drift::Stale { .. })).count(), 1);
        // works named by shard (more than one object per work) carry no uid: nothing to judge
        let sharded = its(vec![work("p-wds1-0")]);
        let v = &views(&[("wds1", &wds), ("its1", &sharded)])[0];
        assert_eq!(v.cells[0][0], Cell::Applied);
        assert!(v.drift.is_empty(), "{:?}", v.drift);
    }

    #[test]
    fn cells_and_drift_from_the_binding_works_and_reports() {
        let policy = Policy {
            name: "p".into(),
            clauses: vec![Clause { singleton: true, ..Default::default() }],
            ..Default::default()
        };
        let wds = PlacementCluster {
            policies: Some(vec![policy.clone()]),
            bindings: Some(vec![Binding {
                name: "p".into(),
                destinations: vec!["a".into(), "b".into(), "gone".into()],
                objects: vec![obj("x"), obj("y")],
                uid: Default::default(),
                generations: Default::default(),
                create_only: Default::default(),
                errors: vec![],
            }]),
            ..Default::default()
        };
        let work = |wec: &str, o: &str, applied: Option<bool>| Work {
            wec: wec.into(),
            name: format!("w-{wec}-{o}"),
            binding: "p".into(),
            wds: "wds1".into(),
            objects: vec![obj(o)],
            applied,
            message: applied.filter(|a| !a).map(|_| "forbidden".into()),
            ..Default::default()
        };
        let mc =
            |name: &str, available: Option<bool>| ManagedCluster { name: name.into(), available, ..Default::default() };
        let its = PlacementCluster {
            managed: Some(vec![mc("a", Some(true)), mc("b", Some(false)), mc("c", Some(true))]),
            works: Some(vec![
                work("a", "x", Some(true)),
                work("a", "y", Some(false)),
                work("b", "x", None),
                work("c", "x", Some(true)),
            ]),
            reports: Some(vec![Report {
                wec: "a".into(),
                binding: "p".into(),
                wds: "wds1".into(),
                object: obj("x"),
                summary: "2/2 ready".into(),
                healthy: Some(true),
                updated_at: None,
                owner: None,
            }]),
            ..Default::default()
        };
        let v = &views(&[("wds1", &wds), ("its1", &its)])[0];
        assert_eq!(v.cells[0][0], Cell::Reported { summary: "2/2 ready".into(), healthy: Some(true), at: None });
        // a WorkStatus left from an earlier ManifestWork (its owner's uid is not the live work's)
        // is not that work's status, even listed first
        let mut owned = its.clone();
        owned.works.as_mut().unwrap()[0].uid = "uid-live".into();
        let live = owned.reports.as_ref().unwrap()[0].clone();
        let left =
            Report { summary: "0/2 ready".into(), healthy: Some(false), owner: Some("uid-old".into()), ..live.clone() };
        owned.reports = Some(vec![left.clone(), Report { owner: Some("uid-live".into()), ..live }]);
        let live_first = &views(&[("wds1", &wds), ("its1", &owned)])[0];
        assert_eq!(
            live_first.cells[0][0],
            Cell::Reported { summary: "2/2 ready".into(), healthy: Some(true), at: None }
        );
        owned.reports = Some(vec![left]);
        let left_only = &views(&[("wds1", &wds), ("its1", &owned)])[0];
        assert_eq!(left_only.cells[0][0], Cell::Applied, "only a left-over status: applied, nothing reported");
        assert_eq!(v.cells[1][0], Cell::ApplyFailed { message: "forbidden".into() });
        assert_eq!(v.cells[0][1], Cell::Delivered, "b never reported");
        assert_eq!(v.cells[1][1], Cell::NotDelivered);
        let kinds: Vec<String> =
            v.drift.iter().map(|d| serde_json::to_value(d).unwrap()["kind"].as_str().unwrap().to_string()).collect();
        for k in [
            "not-delivered",
            "apply-failed",
            "stale",
            "destination-unavailable",
            "unknown-destination",
            "singleton-count",
        ] {
            assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
        }
        assert!(
            v.drift.iter().any(|d| matches!(d, Drift::Stale { cluster, .. } if cluster == "c")),
            "c is no destination"
        );
        // a work whose Binding names no policy of the WDS: a row of its own, orphaned
        let mut its = its.clone();
        its.works.as_mut().unwrap().push(Work { binding: "deleted".into(), ..work("c", "z", Some(true)) });
        let all = views(&[("wds1", &wds), ("its1", &its)]);
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all[1].gone && all[1].policy.name == "deleted");
        assert!(
            matches!(&all[1].drift[..], [Drift::Orphaned { cluster, binding, .. }] if cluster == "c" && binding == "deleted")
        );
        assert!(
            all[1].drift[0].text().contains("kubectl delete manifestwork -n c w-c-z"),
            "{}",
            all[1].drift[0].text()
        );
        assert!(!all[0].drift.iter().any(|d| matches!(d, Drift::Orphaned { .. })), "not the live policy's");
        // `kubectl config rename-context wds1 wds1-admin@kubeflex`: the works still say wds1,
        // and the one WDS context no work names is taken to be it (every cell was "no work")
        let renamed = views(&[("wds1-admin@kubeflex", &wds), ("its1", &its)]);
        assert_eq!(renamed[0].wds, "wds1-admin@kubeflex");
        assert_eq!(renamed[0].cells, v.cells, "the same join as under its own name");
        assert_eq!(wds_names(&[("wds1-admin@kubeflex", &wds), ("its1", &its)])["wds1-admin@kubeflex"], "wds1");
        // two unmatched WDS contexts: no guess
        let names = wds_names(&[("a", &wds), ("b", &wds), ("its1", &its)]);
        assert_eq!((names["a"].as_str(), names["b"].as_str()), ("a", "b"));
        // a policy whose Binding has no destinations and no objects says so
        let empty = PlacementCluster {
            policies: Some(vec![Policy { name: "q".into(), ..Default::default() }]),
            bindings: Some(vec![Binding { name: "q".into(), ..Default::default() }]),
            ..Default::default()
        };
        let v = &views(&[("wds1", &empty), ("its1", &its)])[0];
        assert!(v.drift.contains(&Drift::MatchesNoCluster) && v.drift.contains(&Drift::MatchesNoObject));
    }
}
