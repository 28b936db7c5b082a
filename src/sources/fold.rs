//! One watch's objects, folded from kube-runtime's watcher events as its reflector store folds
//! them: a list (`Init`, `InitApply`..., `InitDone`; again after a 410 or a reconnect) replaces
//! the set whole when it ends, so objects deleted while kst was not watching go; `Apply` and
//! `Delete` change it in place. Every collector keeps what it needs of an object (a decoded row,
//! the object itself, nothing) through the one `fold`.

use std::collections::BTreeMap;

use kube::runtime::watcher::Event;
use kube::ResourceExt;

/// (namespace, name) as the store keys objects; the namespace is empty for cluster-scoped ones.
pub use crate::store::llmd::Key;

pub fn key_of<O: kube::Resource>(o: &O) -> Key {
    (o.namespace().unwrap_or_default(), o.name_any())
}

#[derive(Debug, Clone)]
pub struct Folded<V> {
    items: BTreeMap<Key, V>,
    /// The list under way: it replaces `items` when it ends.
    pending: Option<BTreeMap<Key, V>>,
    listed: bool,
}

impl<V> Default for Folded<V> {
    fn default() -> Self {
        Folded { items: BTreeMap::new(), pending: None, listed: false }
    }
}

impl<V: PartialEq> Folded<V> {
    /// Folds one event in. `keep` makes what is kept of an object (None: nothing, and an object
    /// kept before goes). True when the items changed; the end of a list always counts.
    pub fn fold<O: kube::Resource>(&mut self, ev: Event<O>, keep: impl Fn(O) -> Option<V>) -> bool {
        match ev {
            Event::Init => {
                self.pending = Some(BTreeMap::new());
                false
            }
            Event::InitApply(o) => {
                let k = key_of(&o);
                let pending = self.pending.get_or_insert_with(BTreeMap::new);
                match keep(o) {
                    Some(v) => pending.insert(k, v),
                    None => pending.remove(&k),
                };
                false
            }
            Event::InitDone => {
                self.items = self.pending.take().unwrap_or_default();
                self.listed = true;
                true
            }
            Event::Apply(o) => {
                let k = key_of(&o);
                match keep(o) {
                    Some(v) if self.items.get(&k) == Some(&v) => false,
                    Some(v) => {
                        self.items.insert(k, v);
                        true
                    }
                    None => self.items.remove(&k).is_some(),
                }
            }
            Event::Delete(o) => self.items.remove(&key_of(&o)).is_some(),
        }
    }
}

impl<V> Folded<V> {
    /// Whether a first list has ended (before that the items say nothing).
    pub fn listed(&self) -> bool {
        self.listed
    }
    pub fn items(&self) -> &BTreeMap<Key, V> {
        &self.items
    }
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.items.values()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn pod(ns: &str, name: &str, phase: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = Some(ns.into());
        p.metadata.name = Some(name.into());
        p.status = Some(k8s_openapi::api::core::v1::PodStatus { phase: Some(phase.into()), ..Default::default() });
        p
    }
    fn phase(p: Pod) -> Option<String> {
        p.status.and_then(|s| s.phase).filter(|p| p != "Succeeded")
    }

    #[test]
    fn a_relist_replaces_the_set_when_it_ends_and_changes_are_told() {
        let mut f: Folded<String> = Folded::default();
        assert!(!f.fold(Event::Init, phase));
        assert!(!f.fold(Event::InitApply(pod("a", "one", "Running")), phase));
        assert!(!f.fold(Event::InitApply(pod("a", "two", "Pending")), phase));
        assert!(!f.listed() && f.is_empty(), "nothing until the list ends");
        assert!(f.fold(Event::InitDone, phase));
        assert_eq!(f.len(), 2);
        assert!(!f.fold(Event::Apply(pod("a", "one", "Running")), phase), "the same again is no change");
        assert!(f.fold(Event::Apply(pod("a", "two", "Running")), phase));
        assert!(f.fold(Event::Apply(pod("a", "two", "Succeeded")), phase), "not kept any more: gone");
        assert!(!f.fold(Event::Delete(pod("a", "two", "Succeeded")), phase), "already gone");
        // a relist after a reconnect: `one` was deleted meanwhile, `three` came
        f.fold(Event::Init, phase);
        f.fold(Event::InitApply(pod("b", "three", "Running")), phase);
        assert_eq!(f.len(), 1, "the old set stays until the list ends");
        assert!(f.fold(Event::InitDone, phase));
        assert_eq!(f.items().keys().cloned().collect::<Vec<_>>(), vec![("b".to_string(), "three".to_string())]);
    }
}

/// An object as a watch holds it between builds: its JSON, compact. Decoded, a serde_json
/// object costs 4-6 times its JSON (a B-tree node of ~600 bytes for every JSON object, however
/// small); collectors decode what they hold when they build their view, after a change.
#[derive(Debug, PartialEq)]
pub struct Packed(Box<[u8]>);

impl Packed {
    pub fn of(o: &kube::api::DynamicObject) -> Option<Packed> {
        serde_json::to_vec(o).ok().map(|v| Packed(v.into_boxed_slice()))
    }
    pub fn object(&self) -> Option<kube::api::DynamicObject> {
        serde_json::from_slice(&self.0).ok()
    }
}
