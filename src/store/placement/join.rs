//! The joins: per BindingPolicy of every WDS, its Binding, the ITS's ManifestWorks and
//! WorkStatuses, each object's state on each cluster, and the drift found on the way.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::*;

/// A policy joined with its Binding and the ITS's works and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyView {
    /// The WDS context.
    pub wds: String,
    pub policy: Policy,
    /// The Binding's destinations (what the controller selected).
    pub clusters: Vec<String>,
    pub objects: Vec<ObjRef>,
    /// Those of `objects` bound `createOnly`.
    pub create_only: BTreeSet<ObjRef>,
    /// `cells[o][c]`: object `o` on cluster `c`.
    pub cells: Vec<Vec<Cell>>,
    pub drift: Vec<Drift>,
    /// Whether an ITS was found for this WDS (otherwise cells say only "bound").
    pub its_known: bool,
    /// No such policy: the row of a deleted one whose ManifestWorks remain (orphans).
    pub gone: bool,
}

/// The WDS name each WDS context goes by in the ITS: ManifestWorks carry the WDS ControlPlane's
/// name (`originWdsName`, the transport's `--wds-name`), which is the context's name as kflex
/// writes it, but not after `kubectl config rename-context`. A context whose name no work and
/// no WDS ControlPlane carries takes the one WDS name that no context has, when there is
/// exactly one of each (semantics §2).
pub fn wds_names<'a>(contexts: &[(&'a str, &PlacementCluster)]) -> BTreeMap<&'a str, String> {
    let known: std::collections::BTreeSet<&str> = contexts
        .iter()
        .flat_map(|(_, p)| {
            let works = p.works.iter().flatten().map(|w| w.wds.as_str());
            let planes = p.control_planes.iter().flatten().filter(|c| c.cptype == "wds").map(|c| c.name.as_str());
            works.chain(planes)
        })
        .collect();
    let wds: Vec<&str> = contexts.iter().filter(|(_, p)| p.is_wds()).map(|(c, _)| *c).collect();
    let unmatched_ctx: Vec<&str> = wds.iter().copied().filter(|c| !known.contains(c)).collect();
    let unmatched_name: Vec<&str> = known.iter().copied().filter(|n| !wds.contains(n)).collect();
    wds.iter()
        .map(|c| {
            let name = match (&unmatched_ctx[..], &unmatched_name[..]) {
                ([only], [name]) if only == c => name.to_string(),
                _ => c.to_string(),
            };
            (*c, name)
        })
        .collect()
}

/// Every policy of every WDS in the fleet, joined with the ITS that carries its works (the one
/// whose ManifestWorks name this WDS, else the only ITS).
pub fn views(contexts: &[(&str, &PlacementCluster)]) -> Vec<PolicyView> {
    // an ITS's clusters, works and reports indexed once: with thousands of ManagedClusters and
    // works, a search per policy and cell cost a quarter of a core (#28)
    let itses: Vec<ItsIndex> = contexts.iter().filter(|(_, p)| p.is_its()).map(|(_, p)| ItsIndex::of(p)).collect();
    let names = wds_names(contexts);
    let mut out = Vec::new();
    for (wds, p) in contexts.iter().filter(|(_, p)| p.is_wds()) {
        let name = names.get(wds).map(String::as_str).unwrap_or(wds);
        let its = itses.iter().find(|i| i.wdses.contains(name)).or(if itses.len() == 1 { itses.first() } else { None });
        let bindings: HashMap<&str, &Binding> = p.bindings.iter().flatten().map(|b| (b.name.as_str(), b)).collect();
        let singletons = singleton_wecs(p);
        // its controllers on the hosting cluster, those not ready said first on every policy
        let down: Vec<Drift> = contexts
            .iter()
            .flat_map(|(ctx, c)| c.controllers.iter().flatten().map(move |x| (*ctx, x)))
            .filter(|(_, x)| x.wds() == Some(name) && !x.healthy())
            .map(|(ctx, x)| Drift::ControllerDown { context: ctx.to_string(), controller: x.clone() })
            .collect();
        // each object's returned status is checked once, under the first policy asking it
        let mut returns_checked: HashSet<&ObjRef> = HashSet::new();
        for policy in p.policies.iter().flatten() {
            let b = bindings.get(policy.name.as_str()).copied();
            let mut v = view(wds, name, policy, b, its);
            v.drift.splice(0..0, down.iter().cloned());
            // said once: upstream's own error for it, when the controller wrote one
            let said = policy.errors.iter().any(|e| e.starts_with("Singleton reported status"));
            if let (Some(b), false) = (b, said) {
                // every Binding listing the object says it, whether or not its own policy asks
                // (`binding.go` L90-108 reads the object's collective request)
                let wrong: Vec<(&ObjRef, usize)> = b
                    .objects
                    .iter()
                    .filter_map(|o| Some((o, singletons.get(o)?.len())))
                    .filter(|(_, n)| *n != 1)
                    .collect();
                if let Some((o, n)) = wrong.first() {
                    v.drift.push(Drift::SingletonCount { object: o.text(), clusters: *n, more: wrong.len() - 1 });
                }
            }
            if let (Some(b), Some(its)) = (b, its) {
                v.drift.extend(singleton_not_returned(name, policy, b, p, &singletons, its, &mut returns_checked));
            }
            out.push(v);
        }
        if let (Some(policies), Some(its)) = (p.policies.as_ref(), its) {
            out.extend(orphans(wds, name, policies, its.cluster));
        }
    }
    out
}

/// Whether `policy` asks singleton status for the object: a clause with the flag selects it
/// (judged on the WDS object when kst holds it; otherwise any such clause counts).
fn asks_singleton(policy: &Policy, o: &ObjRef, objects: Option<&[WdsObject]>) -> bool {
    if !policy.clauses.iter().any(|c| c.singleton) {
        return false;
    }
    let held = objects
        .into_iter()
        .flatten()
        .find(|w| w.group == o.group && w.resource == o.resource && w.namespace == o.namespace && w.name == o.name);
    match held {
        None => true,
        Some(w) => {
            let (_, clauses) = explain_object(policy, w);
            policy.clauses.iter().zip(&clauses).any(|(c, tests)| c.singleton && tests.iter().all(|(_, ok)| *ok))
        }
    }
}

/// The objects of `b` whose singleton status should be in the WDS object and is not: the one
/// WEC reports a status, and the WDS object does not carry it (semantics §4: the status
/// controller copies the one WorkStatus's `.status` verbatim, and returns none when the WEC
/// holds more than one WorkStatus for the object). Unknown (nothing said) while the WDS's
/// objects are not read or the WEC has not reported.
fn singleton_not_returned<'a>(
    wds_name: &str,
    policy: &Policy,
    b: &'a Binding,
    p: &PlacementCluster,
    singletons: &BTreeMap<ObjRef, BTreeSet<String>>,
    its: &ItsIndex,
    checked: &mut HashSet<&'a ObjRef>,
) -> Vec<Drift> {
    let Some(objects) = p.objects.as_deref() else { return Vec::new() };
    let mut out = Vec::new();
    for o in &b.objects {
        let Some(wecs) = singletons.get(o).filter(|w| w.len() == 1) else { continue };
        if checked.contains(o) || !asks_singleton(policy, o, Some(objects)) {
            continue;
        }
        checked.insert(o);
        let Some(wec) = wecs.iter().next() else { continue };
        let Some(held) = objects
            .iter()
            .find(|w| w.group == o.group && w.resource == o.resource && w.namespace == o.namespace && w.name == o.name)
        else {
            continue;
        };
        // every WorkStatus of this WDS in the WEC naming the object, whichever Binding's
        let reports: Vec<&Report> = its
            .cluster
            .reports
            .iter()
            .flatten()
            .filter(|r| r.wds == wds_name && r.wec == *wec && r.object == *o)
            .collect();
        let drift = |reported: &str, since: Option<f64>| Drift::SingletonNotReturned {
            object: o.text(),
            cluster: wec.clone(),
            reported: reported.to_string(),
            returned: held.returned.clone(),
            reports: reports.len(),
            since,
        };
        match reports.as_slice() {
            [] => {}
            [one] if one.summary == "no status" => {}
            [one] if held.returned.as_deref() == Some(one.summary.as_str()) => {}
            [one] => out.push(drift(&one.summary, one.updated_at)),
            many => {
                let latest = many.iter().filter_map(|r| r.updated_at).reduce(f64::max);
                out.push(drift("", latest));
            }
        }
    }
    out
}

/// Per object of a WDS, the clusters its singleton status is counted over: the union of the
/// destinations of every policy asking singleton status for it (upstream's `NumWECs`,
/// `bindingpolicy-resolver.go` L362-387; semantics §4).
pub(crate) fn singleton_wecs(p: &PlacementCluster) -> BTreeMap<ObjRef, BTreeSet<String>> {
    let mut out: BTreeMap<ObjRef, BTreeSet<String>> = BTreeMap::new();
    let bindings: HashMap<&str, &Binding> = p.bindings.iter().flatten().map(|b| (b.name.as_str(), b)).collect();
    for policy in p.policies.iter().flatten().filter(|p| p.clauses.iter().any(|c| c.singleton)) {
        let Some(b) = bindings.get(policy.name.as_str()) else { continue };
        for o in b.objects.iter().filter(|o| asks_singleton(policy, o, p.objects.as_deref())) {
            out.entry(o.clone()).or_default().extend(b.destinations.iter().cloned());
        }
    }
    out
}

/// The ManifestWorks of this WDS whose Binding names no policy, one row per gone Binding.
fn orphans(wds: &str, name: &str, policies: &[Policy], its: &PlacementCluster) -> Vec<PolicyView> {
    let mut by_binding: BTreeMap<&str, Vec<Drift>> = BTreeMap::new();
    let named: HashSet<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    for w in its.works.iter().flatten().filter(|w| w.wds == name && !named.contains(w.binding.as_str())) {
        by_binding.entry(&w.binding).or_default().push(Drift::Orphaned {
            cluster: w.wec.clone(),
            object: w.objects.first().map(ObjRef::text).unwrap_or_else(|| w.name.clone()),
            work: w.name.clone(),
            binding: w.binding.clone(),
        });
    }
    by_binding
        .into_iter()
        .map(|(binding, drift)| PolicyView {
            wds: wds.to_string(),
            policy: Policy { name: binding.to_string(), ..Default::default() },
            clusters: Vec::new(),
            objects: Vec::new(),
            create_only: BTreeSet::new(),
            cells: Vec::new(),
            drift,
            its_known: true,
            gone: true,
        })
        .collect()
}

/// The policy's selectors Kubernetes would refuse to convert, by where they are.
pub(crate) fn invalid_selectors(policy: &Policy) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut check = |field: String, s: &Selector| {
        if let Some(why) = s.problem() {
            out.push(Drift::InvalidSelector { field, why });
        }
    };
    for (i, s) in policy.cluster_selectors.iter().enumerate() {
        check(format!("clusterSelectors[{i}]"), s);
    }
    for (i, c) in policy.clauses.iter().enumerate() {
        for (j, s) in c.object_selectors.iter().enumerate() {
            check(format!("downsync[{i}].objectSelectors[{j}]"), s);
        }
        for (j, s) in c.namespace_selectors.iter().enumerate() {
            check(format!("downsync[{i}].namespaceSelectors[{j}]"), s);
        }
    }
    out
}

/// `wds`: the context; `name`: the WDS name its works carry.
/// An ITS as the joins read it: its ManagedClusters by name, its works and WorkStatuses by
/// (WDS, Binding), and the WDS names its works carry.
struct ItsIndex<'a> {
    cluster: &'a PlacementCluster,
    managed: Option<HashMap<&'a str, &'a ManagedCluster>>,
    works: HashMap<(&'a str, &'a str), Vec<&'a Work>>,
    reports: HashMap<(&'a str, &'a str), Vec<&'a Report>>,
    wdses: BTreeSet<&'a str>,
}

impl<'a> ItsIndex<'a> {
    fn of(p: &'a PlacementCluster) -> Self {
        let mut works: HashMap<(&str, &str), Vec<&Work>> = HashMap::new();
        for w in p.works.iter().flatten() {
            works.entry((w.wds.as_str(), w.binding.as_str())).or_default().push(w);
        }
        let mut reports: HashMap<(&str, &str), Vec<&Report>> = HashMap::new();
        for r in p.reports.iter().flatten() {
            reports.entry((r.wds.as_str(), r.binding.as_str())).or_default().push(r);
        }
        ItsIndex {
            cluster: p,
            managed: p.managed.as_ref().map(|m| m.iter().map(|m| (m.name.as_str(), m)).collect()),
            wdses: works.keys().map(|(wds, _)| *wds).collect(),
            works,
            reports,
        }
    }
}

fn view(wds: &str, name: &str, policy: &Policy, b: Option<&Binding>, its: Option<&ItsIndex>) -> PolicyView {
    let clusters = b.map(|b| b.destinations.clone()).unwrap_or_default();
    let objects = b.map(|b| b.objects.clone()).unwrap_or_default();
    let key = (name, policy.name.as_str());
    let works: &[&Work] = its.and_then(|i| i.works.get(&key)).map(Vec::as_slice).unwrap_or_default();
    let reports: &[&Report] = its.and_then(|i| i.reports.get(&key)).map(Vec::as_slice).unwrap_or_default();
    // a work named after another Binding uid is left from an earlier Binding: never a cell's
    // work (with more than one object per work the name is `<binding>-<wds>-<n>`: no uid)
    let uid_prefix = b.map(|b| format!("{}-{name}-", b.uid)).filter(|_| b.is_some_and(|b| !b.uid.is_empty()));
    let sharded_prefix = format!("{}-{name}-", policy.name);
    let current = |w: &Work| {
        uid_prefix.as_ref().is_none_or(|p| w.name.starts_with(p.as_str()) || w.name.starts_with(&sharded_prefix))
    };
    // by cluster, then by object: a cell is a lookup, not a search
    let mut works_on: HashMap<&str, Vec<&Work>> = HashMap::new();
    for w in works.iter().filter(|w| current(w)) {
        works_on.entry(w.wec.as_str()).or_default().push(w);
    }
    let mut reports_of: HashMap<(&str, &ObjRef), Vec<&Report>> = HashMap::new();
    for r in reports {
        reports_of.entry((r.wec.as_str(), &r.object)).or_default().push(r);
    }
    let mut drift = invalid_selectors(policy);
    let binding_errors = b.is_some_and(|b| !b.errors.is_empty());
    let cells: Vec<Vec<Cell>> = objects
        .iter()
        .map(|o| {
            clusters
                .iter()
                .map(|c| {
                    let work = works_on.get(c.as_str()).and_then(|ws| ws.iter().find(|w| w.objects.contains(o)));
                    // the report the live work owns; one left from a deleted work is not its status
                    let report = reports_of
                        .get(&(c.as_str(), o))
                        .and_then(|rs| rs.iter().find(|r| work.is_some_and(|w| r.owned_by(w))));
                    match (work, report) {
                        (None, _) => Cell::NotDelivered,
                        (Some(w), _) if w.applied == Some(false) => {
                            Cell::ApplyFailed { message: w.message.clone().unwrap_or_default() }
                        }
                        (Some(_), Some(r)) => {
                            Cell::Reported { summary: r.summary.clone(), healthy: r.healthy, at: r.updated_at }
                        }
                        (Some(w), None) if w.applied == Some(true) => Cell::Applied,
                        (Some(_), None) => Cell::Delivered,
                    }
                })
                .collect()
        })
        .collect();
    if its.is_some() && !binding_errors {
        for (o, row) in objects.iter().zip(&cells) {
            for (c, cell) in clusters.iter().zip(row) {
                match cell {
                    Cell::NotDelivered => drift.push(Drift::NotDelivered { cluster: c.clone(), object: o.text() }),
                    Cell::ApplyFailed { message } => drift.push(Drift::ApplyFailed {
                        cluster: c.clone(),
                        object: o.text(),
                        message: message.clone(),
                    }),
                    _ => {}
                }
            }
        }
    }
    let destinations: HashSet<&str> = clusters.iter().map(String::as_str).collect();
    let bound: HashSet<&ObjRef> = objects.iter().collect();
    for w in works {
        let earlier = !current(w);
        let wanted = destinations.contains(w.wec.as_str()) && w.objects.iter().all(|o| bound.contains(o));
        if earlier || !wanted {
            let object = w.objects.first().map(ObjRef::text).unwrap_or_else(|| w.name.clone());
            drift.push(Drift::Stale { cluster: w.wec.clone(), object, work: w.name.clone(), earlier });
        }
    }
    if let Some(managed) = its.and_then(|i| i.managed.as_ref()) {
        for c in &clusters {
            match managed.get(c.as_str()) {
                None => drift.push(Drift::UnknownDestination { cluster: c.clone() }),
                Some(m) if m.available != Some(true) => drift.push(Drift::DestinationUnavailable {
                    cluster: c.clone(),
                    why: m.why.clone().unwrap_or_else(|| "Available condition unknown".into()),
                }),
                _ => {}
            }
        }
    }
    if b.is_some() && clusters.is_empty() {
        drift.push(Drift::MatchesNoCluster);
    }
    if b.is_some() && objects.is_empty() {
        drift.push(Drift::MatchesNoObject);
    }
    for e in &policy.errors {
        drift.push(Drift::Errors { message: e.clone(), withheld: b.is_some_and(|b| b.errors.contains(e)) });
    }
    if let Some(m) = &policy.collectors_missing {
        drift.push(Drift::CollectorMissing { message: m.clone() });
    }
    let lag = [
        ("BindingPolicy", "binding controller", Some(policy.generations)),
        ("Binding", "transport controller", b.map(|b| b.generations)),
    ];
    for (object, controller, g) in lag {
        if let Some((generation, observed)) = g.and_then(|g| g.behind()) {
            drift.push(Drift::GenerationLag { object, controller, generation, observed });
        }
    }
    PolicyView {
        wds: wds.to_string(),
        policy: policy.clone(),
        clusters,
        objects,
        create_only: b.map(|b| b.create_only.clone()).unwrap_or_default(),
        cells,
        drift,
        its_known: its.is_some(),
        gone: false,
    }
}

/// The policies (`name (wds)`) that placed on `context` an object `bound` accepts.
pub fn placed_by(views: &[PolicyView], context: &str, bound: impl Fn(&ObjRef) -> bool) -> Vec<String> {
    views
        .iter()
        .filter(|v| v.clusters.iter().any(|c| c == context) && v.objects.iter().any(&bound))
        .map(|v| format!("{} ({})", v.policy.name, v.wds))
        .collect()
}
