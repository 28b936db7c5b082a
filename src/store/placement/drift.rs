//! What is wrong with a placement that upstream does not (or only faintly) report, in words an
//! on-call reads (docs/upstream/kubestellar-semantics.md).

use super::*;

/// Something wrong with a placement that upstream does not (or only faintly) report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Drift {
    /// Bound to the cluster, but no ManifestWork carries it there.
    NotDelivered {
        cluster: String,
        object: String,
    },
    /// A ManifestWork the Binding no longer wants, still there: upstream's transport deletes
    /// such works on every sync, so one that stays means the transport is failing or hit
    /// kubestellar#3569 (docs/upstream/kubestellar-semantics.md §1).
    Stale {
        cluster: String,
        object: String,
        work: String,
        /// Named after an earlier Binding's uid (the policy was deleted and created again):
        /// the transport prunes it on the next sync, as it prunes any work it does not want.
        earlier: bool,
    },
    /// A ManifestWork whose Binding is gone: upstream deleted the Binding's works only on its
    /// last destinations, so nothing will ever delete this one (semantics §1, gap 2).
    Orphaned {
        cluster: String,
        object: String,
        work: String,
        binding: String,
    },
    ApplyFailed {
        cluster: String,
        object: String,
        message: String,
    },
    /// A destination whose ManagedCluster is not Available: upstream selects it anyway.
    DestinationUnavailable {
        cluster: String,
        why: String,
    },
    /// A destination that is no ManagedCluster at all.
    UnknownDestination {
        cluster: String,
    },
    MatchesNoCluster,
    MatchesNoObject,
    /// `status.errors`; with Binding errors the transport withholds the workload everywhere.
    Errors {
        message: String,
        withheld: bool,
    },
    /// Singleton status asked for an object that the policies asking it send to a number of
    /// clusters other than one (the count is across every policy of the WDS, semantics §4):
    /// no status comes back, and a status that came back is wiped to `{}`.
    SingletonCount {
        object: String,
        clusters: usize,
        /// Other objects of the policy in the same state.
        more: usize,
    },
    /// Singleton status asked of an object that goes to exactly one WEC, whose status the WEC
    /// reports, but the WDS object does not carry it: the status controller is not returning
    /// it (`returned` None), has fallen behind (another summary), or finds more than one
    /// WorkStatus for the object in that WEC (`reports` > 1: two policies deliver it there)
    /// and so returns none (semantics §4).
    SingletonNotReturned {
        object: String,
        cluster: String,
        reported: String,
        returned: Option<String>,
        reports: usize,
        /// When the WEC's status was last written (its WorkStatus): the WDS has lagged since.
        since: Option<f64>,
    },
    CollectorMissing {
        message: String,
    },
    /// A controller that has not handled the latest spec: the binding controller for a
    /// BindingPolicy, the transport controller for a Binding (their `observedGeneration`).
    GenerationLag {
        object: &'static str,
        controller: &'static str,
        generation: i64,
        observed: Option<i64>,
    },
    /// A KubeStellar controller of this WDS that is not ready (`context`: the hosting cluster).
    ControllerDown {
        context: String,
        controller: Controller,
    },
    /// A selector Kubernetes cannot convert (`In` without values, an unknown operator):
    /// among clusterSelectors the binding controller stops and the destinations stay as they
    /// were; among object or namespace selectors that selector is skipped. Upstream says
    /// nothing either way (semantics §3).
    InvalidSelector {
        field: String,
        why: String,
    },
}

impl Drift {
    pub fn text(&self) -> String {
        match self {
            Drift::NotDelivered { cluster, object } => {
                format!("{object} bound to {cluster} but no ManifestWork carries it")
            }
            Drift::Stale { cluster, object, work, earlier: true } => format!(
                "ManifestWork {work} on {cluster} ({object}) is from an earlier Binding of this policy (its name carries another Binding uid), yet it was not pruned: the WDS's transport controller is failing"
            ),
            Drift::Stale { cluster, object, .. } => format!(
                "{object} no longer bound to {cluster}, yet its ManifestWork was not pruned: the WDS's transport controller is failing or hit kubestellar#3569"
            ),
            Drift::Orphaned { cluster, object, work, binding } => format!(
                "orphaned ManifestWork on {cluster} carries {object} for Binding {binding}, which is gone; nothing deletes it (kubectl delete manifestwork -n {cluster} {work})"
            ),
            Drift::ApplyFailed { cluster, object, message } => format!("{object} not applied on {cluster}: {message}"),
            Drift::DestinationUnavailable { cluster, why } => {
                format!("destination {cluster} is not Available ({why}); KubeStellar selects it anyway")
            }
            Drift::UnknownDestination { cluster } => format!("destination {cluster} is no ManagedCluster of the ITS"),
            Drift::MatchesNoCluster => "matches no cluster (upstream reports nothing)".into(),
            Drift::MatchesNoObject => "matches no object (upstream reports nothing)".into(),
            Drift::Errors { message, withheld: true } => {
                format!("{} — the Binding has errors, so its workload is withheld from every cluster", readable(message))
            }
            Drift::Errors { message, .. } => readable(message),
            Drift::SingletonCount { object, clusters, more } => {
                let others = match more {
                    0 => String::new(),
                    n => format!(" (and {n} more object{})", if *n == 1 { "" } else { "s" }),
                };
                let count = match clusters {
                    0 => "no cluster is selected".to_string(),
                    n => format!("{n} clusters are selected, counted across every policy asking it"),
                };
                format!("singleton status requested for {object}{others} but {count}: no status comes back")
            }
            Drift::SingletonNotReturned { object, cluster, reports, .. } if *reports > 1 => format!(
                "singleton status of {object} is not returned: {reports} WorkStatuses in {cluster} name it (more than one policy delivers it there), so KubeStellar returns none and wipes it to {{}}"
            ),
            Drift::SingletonNotReturned { object, cluster, reported, returned: None, .. } => format!(
                "singleton status of {object} is not returned: {cluster} reports {reported}, the WDS object has no status from it (is the WDS's status controller running?)"
            ),
            Drift::SingletonNotReturned { object, cluster, reported, returned: Some(said), .. } => format!(
                "singleton status of {object} is behind: the WDS object says {said}, {cluster} reports {reported} (is the WDS's status controller running?)"
            ),
            Drift::CollectorMissing { message } => message.clone(),
            Drift::GenerationLag { object, controller, generation, observed } => format!(
                "the {object} is at generation {generation} and the {controller} has handled {}: changes to this placement are not reaching the clusters (is the WDS's {controller} running?)",
                observed.map_or("none yet".to_string(), |o| o.to_string())
            ),
            Drift::ControllerDown { context, controller: c } => format!(
                "the WDS's {} ({} on {context}) is {}: {} for this placement",
                c.name,
                c.namespace,
                c.state(),
                c.stops()
            ),
            Drift::InvalidSelector { field, why } if field.starts_with("clusterSelectors") => format!(
                "{field} cannot be evaluated ({why}): the binding controller gives up on this policy and its destinations stay as they were; KubeStellar reports nothing"
            ),
            Drift::InvalidSelector { field, why } => {
                format!("{field} cannot be evaluated ({why}): KubeStellar skips it, so it matches no object")
            }
        }
    }
    /// Whether this takes the workload away from clusters (a critical problem) or only warns.
    pub fn severe(&self) -> bool {
        matches!(self, Drift::Errors { withheld: true, .. } | Drift::NotDelivered { .. } | Drift::ApplyFailed { .. })
    }
}

/// An upstream error as an on-call reads it: the singleton error's examples are the JSON of Go
/// structs (`[{"ObjectID":{…,"Resource":"deployments","ObjectName":{…}},"NumWECs":2}]`,
/// `binding.go` L90-108), said here as `deployments llm-d/x has 2 WECs`; anything else verbatim.
fn readable(message: &str) -> String {
    const EXAMPLES: &str = "for example: ";
    let Some(at) = message.find(EXAMPLES).filter(|_| message.starts_with("Singleton reported status")) else {
        return message.to_string();
    };
    let (head, json) = message.split_at(at + EXAMPLES.len());
    let Ok(examples) = serde_json::from_str::<Vec<serde_json::Value>>(json) else { return message.to_string() };
    let said: Vec<String> = examples
        .iter()
        .map(|e| {
            let (id, name) = (&e["ObjectID"], &e["ObjectID"]["ObjectName"]);
            let ns = name["Namespace"].as_str().filter(|n| !n.is_empty()).map(|n| format!("{n}/")).unwrap_or_default();
            format!(
                "{} {ns}{} has {} WECs",
                id["Resource"].as_str().unwrap_or("?"),
                name["Name"].as_str().unwrap_or("?"),
                e["NumWECs"].as_u64().map_or("?".into(), |n| n.to_string())
            )
        })
        .collect();
    format!("{head}{}", said.join(", "))
}
