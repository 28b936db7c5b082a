//! Placement by object (#27): one WDS object, every BindingPolicy that binds it, and per
//! cluster which of them send it there and what arrived. Two policies sending one object to
//! one cluster make two ManifestWorks there (the transport wraps per Binding), applied in turn
//! by the work agent, and two WorkStatuses, so a singleton status is not returned (semantics
//! §4): an overlap, flagged. Derived from the policies' views, a pure function.

use std::collections::BTreeMap;

use super::placement::{Cell, ObjRef, PolicyView};

/// One cluster an object is sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOn {
    pub cluster: String,
    /// Each policy sending it there, with what arrived by that policy's work.
    pub by: Vec<(String, Cell)>,
}

impl PlacedOn {
    /// More than one policy sends it here: as many ManifestWorks and WorkStatuses.
    pub fn overlap(&self) -> bool {
        self.by.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedObject {
    /// The WDS context.
    pub wds: String,
    pub object: ObjRef,
    /// Every policy that binds it, whichever clusters.
    pub policies: Vec<String>,
    pub clusters: Vec<PlacedOn>,
}

impl PlacedObject {
    pub fn overlaps(&self) -> usize {
        self.clusters.iter().filter(|c| c.overlap()).count()
    }
    /// Clusters where some policy's work is missing or failed.
    pub fn bad(&self) -> usize {
        self.clusters.iter().filter(|c| c.by.iter().any(|(_, cell)| cell.bad())).count()
    }
}

/// Every object the policies bind, by WDS and object, its clusters in name order.
pub fn by_object(views: &[PolicyView]) -> Vec<PlacedObject> {
    // (WDS, object) -> (its policies, cluster -> each policy's cell there)
    type Clusters<'a> = BTreeMap<&'a str, Vec<(String, Cell)>>;
    let mut out: BTreeMap<(&str, &ObjRef), (Vec<String>, Clusters)> = BTreeMap::new();
    for v in views.iter().filter(|v| !v.gone) {
        for (oi, o) in v.objects.iter().enumerate() {
            let (policies, clusters) = out.entry((v.wds.as_str(), o)).or_default();
            policies.push(v.policy.name.clone());
            for (ci, c) in v.clusters.iter().enumerate() {
                let cell = v.cells.get(oi).and_then(|row| row.get(ci)).cloned().unwrap_or(Cell::NotDelivered);
                clusters.entry(c.as_str()).or_default().push((v.policy.name.clone(), cell));
            }
        }
    }
    out.into_iter()
        .map(|((wds, object), (policies, clusters))| PlacedObject {
            wds: wds.to_string(),
            object: object.clone(),
            policies,
            clusters: clusters.into_iter().map(|(c, by)| PlacedOn { cluster: c.to_string(), by }).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::placement::Policy;

    fn view(policy: &str, clusters: &[&str], objects: &[&str]) -> PolicyView {
        let o = |n: &str| ObjRef {
            group: "apps".into(),
            resource: "deployments".into(),
            namespace: "ns".into(),
            name: n.into(),
        };
        PolicyView {
            wds: "wds1".into(),
            policy: Policy { name: policy.into(), ..Default::default() },
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            objects: objects.iter().map(|n| o(n)).collect(),
            create_only: Default::default(),
            cells: objects.iter().map(|_| clusters.iter().map(|_| Cell::Applied).collect()).collect(),
            drift: vec![],
            its_known: true,
            gone: false,
        }
    }

    /// `a` is sent to `east` by two policies (an overlap) and to `west` by one; `b` by one.
    #[test]
    fn each_object_with_its_policies_and_the_overlaps() {
        let objects = by_object(&[view("p1", &["east", "west"], &["a", "b"]), view("p2", &["east"], &["a"])]);
        assert_eq!(objects.len(), 2);
        let a = &objects[0];
        assert_eq!((a.object.name.as_str(), a.policies.as_slice()), ("a", &["p1".to_string(), "p2".to_string()][..]));
        let on: Vec<(&str, usize)> = a.clusters.iter().map(|c| (c.cluster.as_str(), c.by.len())).collect();
        assert_eq!(on, [("east", 2), ("west", 1)]);
        assert_eq!(a.overlaps(), 1);
        assert_eq!(objects[1].overlaps(), 0);
    }
}
