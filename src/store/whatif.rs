//! What-if on a placement (#27): a BindingPolicy's cluster selectors edited and evaluated as
//! KubeStellar's binding controller would evaluate them, against the ITS's ManagedClusters,
//! without writing anything. It says which clusters would be added and removed (and whether
//! those added are Available), which objects asking singleton status would gain or lose their
//! one WEC (the count is across every policy of the WDS, semantics §4), and, for objects that
//! request GPUs, whether an added cluster has that many free (the Models pane's free-GPU count).

use std::collections::{BTreeMap, BTreeSet};

use super::placement::{singleton_wecs, wds_names, ObjRef, PlacementCluster};
use super::selector::Selector;
use super::Fleet;

/// A cluster the edit would add.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub cluster: String,
    /// The hub's `ManagedClusterConditionAvailable` (KubeStellar selects it either way).
    pub available: Option<bool>,
    /// GPUs the policy's objects would request there, and how many are free (None: kst does
    /// not read that cluster's GPUs).
    pub gpus: Option<(i64, Option<usize>)>,
}

/// An object asking singleton status whose WEC count the edit moves to or from one.
#[derive(Debug, Clone, PartialEq)]
pub struct SingletonChange {
    pub object: ObjRef,
    pub before: usize,
    pub after: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub added: Vec<Added>,
    pub removed: Vec<String>,
    /// The objects the Binding holds (the edit is of cluster selectors: these stay).
    pub objects: usize,
    pub singleton: Vec<SingletonChange>,
    /// A selector the binding controller cannot convert: it would give up and keep the
    /// destinations as they are (semantics §3).
    pub refused: Option<String>,
}

/// The edit of `policy`'s cluster selectors on the WDS context `wds`, evaluated. None when the
/// policy, its Binding or an ITS for the WDS is not known.
/// The WDS context `wds` (its placement, and the name its works carry) and the ITS that carries
/// its works (the one whose ManifestWorks name it, else the only ITS), as `views` joins them.
pub fn wds_and_its<'a>(fleet: &'a Fleet, wds: &str) -> Option<(&'a PlacementCluster, String, &'a PlacementCluster)> {
    let contexts: Vec<(&str, &PlacementCluster)> =
        fleet.clusters.iter().map(|c| (c.context.as_str(), &c.placement)).collect();
    let p = contexts.iter().find(|(c, _)| *c == wds).map(|(_, p)| *p)?;
    let name = wds_names(&contexts).get(wds).cloned().unwrap_or_else(|| wds.to_string());
    let itses: Vec<&PlacementCluster> = contexts.iter().filter(|(_, p)| p.is_its()).map(|(_, p)| *p).collect();
    let its = itses.iter().find(|i| i.works.iter().flatten().any(|w| w.wds == name)).or(if itses.len() == 1 {
        itses.first()
    } else {
        None
    })?;
    Some((p, name, its))
}

pub fn cluster_selectors(fleet: &Fleet, wds: &str, policy: &str, selectors: &[Selector]) -> Option<WhatIf> {
    let (p, _, its) = wds_and_its(fleet, wds)?;
    let binding = p.bindings.iter().flatten().find(|b| b.name == policy)?;
    let managed = its.managed.as_deref().unwrap_or_default();
    let before: Vec<String> = binding.destinations.clone();
    let refused = selectors.iter().find_map(Selector::problem);
    let after: Vec<String> = if refused.is_some() {
        before.clone()
    } else {
        let mut a: Vec<String> =
            managed.iter().filter(|m| selectors.iter().any(|s| s.matches(&m.labels))).map(|m| m.name.clone()).collect();
        a.sort();
        a
    };
    let was: BTreeSet<&String> = before.iter().collect();
    let will: BTreeSet<&String> = after.iter().collect();
    let need: i64 = binding
        .objects
        .iter()
        .filter_map(|o| {
            p.objects.iter().flatten().find(|w| {
                w.group == o.group && w.resource == o.resource && w.namespace == o.namespace && w.name == o.name
            })
        })
        .filter_map(|w| w.gpus)
        .sum();
    let added = will
        .difference(&was)
        .map(|c| Added {
            cluster: c.to_string(),
            available: managed.iter().find(|m| &&m.name == c).and_then(|m| m.available),
            gpus: (need > 0).then(|| {
                let free = fleet
                    .clusters
                    .iter()
                    .find(|x| &&x.context == c && !x.gpus.nodes.is_empty())
                    .map(|x| super::models::free_gpus(x).iter().map(|(_, free, _)| free).sum());
                (need, free)
            }),
        })
        .collect();
    let removed = was.difference(&will).map(|c| c.to_string()).collect();
    // the singleton counts with this Binding's destinations as they would be
    let mut edited = p.clone();
    for b in edited.bindings.iter_mut().flatten().filter(|b| b.name == policy) {
        b.destinations = after.clone();
    }
    let singleton = singleton_changes(p, &edited).into_iter().filter(|s| binding.objects.contains(&s.object)).collect();
    Some(WhatIf { before, after, added, removed, objects: binding.objects.len(), singleton, refused })
}

/// The objects whose singleton status an edit of a WDS's Bindings would break or bring back:
/// counted over one WEC before and not after, or the other way (0 when no policy asking it
/// places it anywhere).
fn singleton_changes(before: &PlacementCluster, after: &PlacementCluster) -> Vec<SingletonChange> {
    let counts = |p: &PlacementCluster| -> BTreeMap<ObjRef, usize> {
        singleton_wecs(p).into_iter().map(|(o, w)| (o, w.len())).collect()
    };
    let (was, will) = (counts(before), counts(after));
    let objects: BTreeSet<&ObjRef> = was.keys().chain(will.keys()).collect();
    objects
        .into_iter()
        .filter_map(|o| {
            let (b, a) = (was.get(o).copied().unwrap_or(0), will.get(o).copied().unwrap_or(0));
            ((b == 1) != (a == 1)).then(|| SingletonChange { object: o.clone(), before: b, after: a })
        })
        .collect()
}

/// A ManagedCluster's labels as `kubectl label` reads them: `k=v` pairs separated by commas.
pub fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("{part:?}: a label is written key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || k.contains(|c: char| c.is_whitespace() || "=!(),".contains(c)) {
            return Err(format!("{part:?}: {k:?} is not a label key"));
        }
        if v.contains(|c: char| c.is_whitespace() || "=!(),".contains(c)) {
            return Err(format!("{part:?}: {v:?} is not a label value"));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// A policy whose selection of the edited cluster would change.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyChange {
    pub wds: String,
    pub policy: String,
    /// The objects it binds: they would arrive on (or leave) the cluster.
    pub objects: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelsWhatIf {
    pub cluster: String,
    pub available: Option<bool>,
    /// Policies that would start selecting it, and stop.
    pub gained: Vec<PolicyChange>,
    pub lost: Vec<PolicyChange>,
    /// Objects whose singleton status count the edit moves to or from one WEC.
    pub singleton: Vec<SingletonChange>,
}

/// A ManagedCluster's labels edited and evaluated against every BindingPolicy of every WDS
/// whose ITS knows it, as the binding controller would (a policy whose selectors it cannot
/// convert keeps its destinations, semantics §3). None when no ITS kst reads knows `cluster`.
pub fn cluster_labels(fleet: &Fleet, cluster: &str, labels: &BTreeMap<String, String>) -> Option<LabelsWhatIf> {
    let views = fleet.placement_views();
    let mut known = None;
    let (mut gained, mut lost, mut singleton) = (Vec::new(), Vec::new(), Vec::new());
    let wdses: BTreeSet<&str> = views.iter().map(|v| v.wds.as_str()).collect();
    for wds in wdses {
        let Some((p, _, its)) = wds_and_its(fleet, wds) else { continue };
        let Some(m) = its.managed.iter().flatten().find(|m| m.name == cluster) else { continue };
        known = Some(m.available);
        let mut edited = p.clone();
        let mut changed = false;
        for v in views.iter().filter(|v| v.wds == wds && !v.gone) {
            let selectors = &v.policy.cluster_selectors;
            let now = v.clusters.iter().any(|c| c == cluster);
            let then = if selectors.iter().any(|s| s.problem().is_some()) {
                now
            } else {
                selectors.iter().any(|s| s.matches(labels))
            };
            if now == then {
                continue;
            }
            changed = true;
            let change = PolicyChange { wds: wds.to_string(), policy: v.policy.name.clone(), objects: v.objects.len() };
            for b in edited.bindings.iter_mut().flatten().filter(|b| b.name == v.policy.name) {
                if then {
                    b.destinations.push(cluster.to_string());
                } else {
                    b.destinations.retain(|c| c != cluster);
                }
            }
            if then {
                gained.push(change);
            } else {
                lost.push(change);
            }
        }
        if changed {
            singleton.extend(singleton_changes(p, &edited));
        }
    }
    Some(LabelsWhatIf { cluster: cluster.to_string(), available: known?, gained, lost, singleton })
}

/// The kubectl command that would set these labels (kst writes nothing here): removed keys
/// with `key-`, the others with `--overwrite`.
pub fn kubectl_label(
    its: &str,
    cluster: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> String {
    let mut args: Vec<String> =
        after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
    args.extend(before.keys().filter(|k| !after.contains_key(*k)).map(|k| format!("{k}-")));
    format!("kubectl --context {its} label managedcluster {cluster} {} --overwrite", args.join(" "))
}

/// The kubectl command that would make the edit (kst writes nothing here).
pub fn kubectl_patch(wds: &str, policy: &str, selectors: &[Selector]) -> String {
    let json: Vec<serde_json::Value> = selectors
        .iter()
        .map(|s| {
            let exprs: Vec<serde_json::Value> =
                s.0.iter()
                    .map(|r| {
                        let mut e = serde_json::json!({"key": r.key, "operator": r.operator});
                        if !r.values.is_empty() {
                            e["values"] = serde_json::json!(r.values);
                        }
                        e
                    })
                    .collect();
            if exprs.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::json!({ "matchExpressions": exprs })
            }
        })
        .collect();
    let patch = serde_json::json!({"spec": {"clusterSelectors": json}});
    format!("kubectl --context {wds} patch bindingpolicies.control.kubestellar.io {policy} --type=merge -p '{patch}'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::placement::{Binding, Clause, ManagedCluster, Policy, WdsObject};
    use crate::store::selector::{parse_selectors, Requirement};

    #[test]
    fn selectors_read_as_kubectl_writes_them() {
        let s = parse_selectors("capability in (gpu-h100, gpu-a100),region!=eu, !gone,tier | name=edge-1").unwrap();
        assert_eq!(s.len(), 2);
        let ops: Vec<(&str, &str, usize)> =
            s[0].0.iter().map(|r| (r.key.as_str(), r.operator.as_str(), r.values.len())).collect();
        assert_eq!(
            ops,
            [("capability", "In", 2), ("region", "NotIn", 1), ("gone", "DoesNotExist", 0), ("tier", "Exists", 0)]
        );
        assert_eq!(s[1].text(), "name=edge-1");
        // what text() writes reads back the same
        assert_eq!(parse_selectors(&s[0].text()).unwrap()[0], s[0]);
        assert_eq!(parse_selectors("{}").unwrap(), vec![Selector::default()]);
        assert!(parse_selectors("").unwrap().is_empty());
        for bad in ["a in b", "a b c", "=x", "a,,b"] {
            assert!(parse_selectors(bad).is_err(), "{bad}");
        }
    }

    fn fleet() -> Fleet {
        let mut f = Fleet::new(&[("wds1".into(), "https://w".into()), ("its1".into(), "https://i".into())]);
        let o = |n: &str| ObjRef {
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: "llm-d".into(),
            name: n.into(),
        };
        let mc = |name: &str, gpu: &str, ok: bool| ManagedCluster {
            name: name.into(),
            labels: BTreeMap::from([("name".to_string(), name.to_string()), ("gpu".to_string(), gpu.to_string())])
                .into(),
            available: Some(ok),
            ..Default::default()
        };
        f.clusters[0].placement = PlacementCluster {
            policies: Some(vec![
                Policy { name: "p".into(), ..Default::default() },
                Policy {
                    name: "status".into(),
                    clauses: vec![Clause { singleton: true, ..Default::default() }],
                    ..Default::default()
                },
            ]),
            bindings: Some(vec![
                Binding {
                    name: "p".into(),
                    destinations: vec!["a".into()],
                    objects: vec![o("m")],
                    ..Default::default()
                },
                Binding {
                    name: "status".into(),
                    destinations: vec!["a".into()],
                    objects: vec![o("m")],
                    ..Default::default()
                },
            ]),
            objects: Some(vec![WdsObject {
                group: "apps".into(),
                resource: "deployments".into(),
                namespace: "llm-d".into(),
                name: "m".into(),
                gpus: Some(4),
                ..Default::default()
            }]),
            ..Default::default()
        };
        f.clusters[1].placement = PlacementCluster {
            managed: Some(vec![mc("a", "h100", true), mc("b", "h100", false), mc("c", "a100", true)]),
            ..Default::default()
        };
        f
    }

    /// A cluster's labels edited: the policies that would start and stop selecting it, and the
    /// singleton status that the change would break.
    #[test]
    fn a_clusters_labels_edited_say_which_policies_it_gains_and_loses() {
        let mut f = fleet();
        for p in f.clusters[0].placement.policies.as_mut().unwrap() {
            p.cluster_selectors = parse_selectors(if p.name == "p" { "gpu=h100" } else { "name=a" }).unwrap();
        }
        f.placement_changed();
        // c (a100, not selected by either) relabelled h100: gains p
        let w = cluster_labels(&f, "c", &parse_labels("name=c, gpu=h100").unwrap()).unwrap();
        assert_eq!(w.gained.iter().map(|c| c.policy.as_str()).collect::<Vec<_>>(), ["p"]);
        assert!(w.lost.is_empty() && w.singleton.is_empty());
        // a relabelled: loses both, and the singleton object loses its one WEC
        let w = cluster_labels(&f, "a", &parse_labels("name=z,gpu=a100").unwrap()).unwrap();
        let mut lost: Vec<&str> = w.lost.iter().map(|c| c.policy.as_str()).collect();
        lost.sort();
        assert_eq!(lost, ["p", "status"]);
        assert_eq!((w.singleton.len(), w.singleton[0].before, w.singleton[0].after), (1, 1, 0));
        assert!(cluster_labels(&f, "nowhere", &BTreeMap::new()).is_none());
        assert!(parse_labels("a b=c").is_err() && parse_labels("novalue").is_err());
        let before = parse_labels("name=a,gpu=h100,old=x").unwrap();
        let after = parse_labels("name=a,gpu=a100,new=y").unwrap();
        assert_eq!(
            kubectl_label("its1", "a", &before, &after),
            "kubectl --context its1 label managedcluster a gpu=a100 new=y old- --overwrite"
        );
    }

    /// Moving the singleton-asking policy from `a` to every H100 cluster: `b` is added (not
    /// Available, GPUs unknown: kst does not read it), the object's singleton count goes from
    /// one to two; an unconvertible selector keeps the destinations.
    #[test]
    fn an_edit_says_what_it_adds_removes_and_breaks() {
        let f = fleet();
        let w = cluster_selectors(&f, "wds1", "status", &parse_selectors("gpu=h100").unwrap()).unwrap();
        assert_eq!(w.after, ["a", "b"]);
        assert!(w.removed.is_empty());
        assert_eq!(w.added, [Added { cluster: "b".into(), available: Some(false), gpus: Some((4, None)) }]);
        assert_eq!(w.singleton.len(), 1);
        assert_eq!((w.singleton[0].before, w.singleton[0].after), (1, 2));
        let w = cluster_selectors(&f, "wds1", "status", &parse_selectors("name=c").unwrap()).unwrap();
        assert_eq!((w.after.as_slice(), w.removed.as_slice()), (&["c".to_string()][..], &["a".to_string()][..]));
        assert!(w.singleton.is_empty(), "still one WEC: {:?}", w.singleton);
        let refused = vec![Selector(vec![Requirement { key: "gpu".into(), operator: "In".into(), values: vec![] }])];
        let w = cluster_selectors(&f, "wds1", "status", &refused).unwrap();
        assert!(w.refused.is_some() && w.after == w.before);
        assert!(kubectl_patch("wds1", "status", &parse_selectors("gpu in (h100,a100)").unwrap()).contains(
            r#"{"spec":{"clusterSelectors":[{"matchExpressions":[{"key":"gpu","operator":"In","values":["h100","a100"]}]}]}}"#
        ));
    }
}
