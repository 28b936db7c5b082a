//! One simulated cluster's objects: an etcd stand-in with resource versions, a bounded
//! event history for watches, and a broadcast of changes.
//!
//! Objects are kept serialized (bytes) with the few fields selectors need pulled out, so
//! 100 clusters x 2000 pods stay within a few hundred MB and a list is a copy of bytes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::select::{FieldSelector, LabelSelector};

pub type Key = (String, String); // (namespace or "", name)

#[derive(Debug)]
pub struct Stored {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub phase: String,
    pub node_name: String,
    /// The `Ready` condition is True (pods), kept so controllers need not parse.
    pub ready: bool,
    pub rv: u64,
    pub bytes: Bytes,
}

impl Stored {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
    pub fn field(&self, name: &str) -> Option<String> {
        match name {
            "metadata.name" => Some(self.name.clone()),
            "metadata.namespace" => Some(self.namespace.clone()),
            "status.phase" => Some(self.phase.clone()),
            "spec.nodeName" => Some(self.node_name.clone()),
            "involvedObject.name" | "involvedObject.kind" => {
                let v = self.value();
                let key = name.trim_start_matches("involvedObject.");
                v["involvedObject"][key].as_str().map(str::to_string)
            }
            _ => None,
        }
    }
    pub fn selected(&self, labels: &LabelSelector, fields: &FieldSelector) -> bool {
        labels.matches(&self.labels) && fields.matches(|f| self.field(f))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    pub res: usize,
    pub kind: EventType,
    pub obj: Arc<Stored>,
}

#[derive(Debug)]
pub enum StoreError {
    NotFound,
    AlreadyExists,
    Conflict,
    Invalid(String),
}

/// Whether a write changes anything but `metadata` and `status`: what bumps
/// `metadata.generation` (apiextensions' `customResourceStrategy.PrepareForUpdate`; status goes
/// through its own subresource).
fn spec_changed(before: &Value, after: &Value) -> bool {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else { return before != after };
    let counted = |k: &String| k != "metadata" && k != "status";
    b.keys().chain(a.keys()).filter(|k| counted(k)).any(|k| b.get(k) != a.get(k))
}

/// Objects of one cluster. Owned by a lock in `SimCluster`; every write goes through here
/// so resource versions and the watch history stay consistent.
pub struct ObjectStore {
    objects: Vec<BTreeMap<Key, Arc<Stored>>>,
    rv: u64,
    history: VecDeque<(u64, Change)>,
    history_cap: usize,
    /// Resource version below which history has been dropped: watches from before it get 410.
    compacted_below: u64,
    tx: broadcast::Sender<(u64, Change)>,
    uid_counter: u64,
    cluster_salt: u64,
}

pub const START_TIME: &str = "2026-11-20T08:00:00Z";

impl ObjectStore {
    pub fn new(resource_count: usize, history_cap: usize, cluster_salt: u64) -> Self {
        let (tx, _) = broadcast::channel(4096);
        ObjectStore {
            objects: (0..resource_count).map(|_| BTreeMap::new()).collect(),
            rv: 1000,
            history: VecDeque::new(),
            history_cap,
            compacted_below: 0,
            tx,
            uid_counter: 0,
            cluster_salt,
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn subscribe(&self) -> broadcast::Receiver<(u64, Change)> {
        self.tx.subscribe()
    }

    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Events after `rv`, or `None` when that history has been compacted away (410 Gone).
    pub fn history_since(&self, rv: u64) -> Option<Vec<(u64, Change)>> {
        if rv < self.compacted_below {
            return None;
        }
        Some(self.history.iter().filter(|(v, _)| *v > rv).cloned().collect())
    }

    /// Forgets all history: every watch that resumes from an older version gets 410.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_below = self.rv;
    }

    pub fn get(&self, res: usize, ns: &str, name: &str) -> Option<Arc<Stored>> {
        self.objects[res].get(&(ns.to_string(), name.to_string())).cloned()
    }

    pub fn list(&self, res: usize, ns: Option<&str>) -> Vec<Arc<Stored>> {
        match ns {
            None => self.objects[res].values().cloned().collect(),
            Some(ns) => self.objects[res]
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// Objects of one namespace whose names start with `prefix`: a range scan, so a
    /// controller finding its pods costs the pods it owns, not the namespace.
    pub fn list_prefix(&self, res: usize, ns: &str, prefix: &str) -> Vec<Arc<Stored>> {
        self.objects[res]
            .range((ns.to_string(), prefix.to_string())..)
            .take_while(|((n, name), _)| n == ns && name.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn count(&self, res: usize) -> usize {
        self.objects[res].len()
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        let a = self.cluster_salt;
        let b = self.uid_counter;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (a >> 32) as u32,
            (a & 0xffff) as u16,
            (b >> 48) & 0xfff,
            (b >> 36) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    fn record(&mut self, res: usize, kind: EventType, obj: Arc<Stored>) {
        let change = Change { res, kind, obj };
        self.history.push_back((self.rv, change.clone()));
        while self.history.len() > self.history_cap {
            if let Some((v, _)) = self.history.pop_front() {
                self.compacted_below = v;
            }
        }
        let _ = self.tx.send((self.rv, change));
    }

    fn seal(&mut self, mut obj: Value, existing: Option<&Stored>) -> Result<Stored, StoreError> {
        self.rv += 1;
        let meta = obj
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| StoreError::Invalid("metadata is required".into()))?;
        let name = meta.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(StoreError::Invalid("metadata.name: Required value: name or generateName is required".into()));
        }
        let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or_default().to_string();
        meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        // an update that leaves out uid or creationTimestamp keeps the object's (both are
        // immutable in Kubernetes; a replace without them is not a new object)
        let before: Option<Value> = existing.and_then(|e| serde_json::from_slice::<Value>(&e.bytes).ok());
        let kept = |field: &str| before.as_ref().and_then(|b| b["metadata"].get(field).cloned());
        if !meta.contains_key("uid") {
            let uid = kept("uid").unwrap_or_else(|| json!(self.next_uid()));
            meta.insert("uid".into(), uid);
        }
        if !meta.contains_key("creationTimestamp") {
            meta.insert("creationTimestamp".into(), kept("creationTimestamp").unwrap_or(json!(START_TIME)));
        }
        // metadata.generation as the API server keeps it (docs/upstream/kubernetes-generation.md):
        // 1 at create, one more for each write that changes anything but metadata and status
        let generation = match &before {
            None => meta.get("generation").and_then(Value::as_i64).unwrap_or(1),
            Some(b) => {
                let had = b["metadata"]["generation"].as_i64().unwrap_or(1);
                had + i64::from(spec_changed(b, &obj))
            }
        };
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut).expect("checked above");
        meta.insert("generation".into(), json!(generation));
        let labels: BTreeMap<String, String> = meta
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        let phase = obj["status"]["phase"].as_str().unwrap_or_default().to_string();
        let node_name = obj["spec"]["nodeName"].as_str().unwrap_or_default().to_string();
        let ready = obj["status"]["conditions"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
        let bytes = Bytes::from(serde_json::to_vec(&obj).map_err(|e| StoreError::Invalid(e.to_string()))?);
        Ok(Stored { namespace, name, labels, phase, node_name, ready, rv: self.rv, bytes })
    }

    pub fn create(&mut self, res: usize, obj: Value) -> Result<Arc<Stored>, StoreError> {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if self.objects[res].contains_key(&(ns.clone(), name.clone())) {
            return Err(StoreError::AlreadyExists);
        }
        let stored = Arc::new(self.seal(obj, None)?);
        self.objects[res].insert((ns, name), stored.clone());
        self.record(res, EventType::Added, stored.clone());
        Ok(stored)
    }

    /// Replaces an object; `expect_rv` gives optimistic concurrency as PUT does.
    pub fn update(&mut self, res: usize, obj: Value, expect_rv: Option<u64>) -> Result<Arc<Stored>, StoreError> {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let key = (ns, name);
        let old = self.objects[res].get(&key).cloned().ok_or(StoreError::NotFound)?;
        if let Some(want) = expect_rv {
            if want != old.rv {
                return Err(StoreError::Conflict);
            }
        }
        let mut obj = obj;
        // identity fields are the server's
        let old_val = old.value();
        for k in ["uid", "creationTimestamp"] {
            if let Some(v) = old_val["metadata"].get(k) {
                obj["metadata"][k] = v.clone();
            }
        }
        let stored = Arc::new(self.seal(obj, Some(&old))?);
        self.objects[res].insert(key, stored.clone());
        self.record(res, EventType::Modified, stored.clone());
        Ok(stored)
    }

    /// Read-modify-write of one object.
    pub fn modify(
        &mut self,
        res: usize,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Arc<Stored>, StoreError> {
        let old = self.get(res, ns, name).ok_or(StoreError::NotFound)?;
        let mut v = old.value();
        f(&mut v);
        self.update(res, v, None)
    }

    /// Creates or replaces.
    pub fn put(&mut self, res: usize, obj: Value) -> Arc<Stored> {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let exists = self.get(res, ns, name).is_some();
        let r = if exists { self.update(res, obj, None) } else { self.create(res, obj) };
        r.expect("simulator objects are well formed")
    }

    pub fn delete(&mut self, res: usize, ns: &str, name: &str) -> Result<Arc<Stored>, StoreError> {
        let old = self.objects[res].remove(&(ns.to_string(), name.to_string())).ok_or(StoreError::NotFound)?;
        // a delete carries a fresh resource version, as etcd does
        self.rv += 1;
        let mut v = old.value();
        v["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let stored = Arc::new(Stored {
            namespace: old.namespace.clone(),
            name: old.name.clone(),
            labels: old.labels.clone(),
            phase: old.phase.clone(),
            node_name: old.node_name.clone(),
            ready: old.ready,
            rv: self.rv,
            bytes: Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
        });
        self.record(res, EventType::Deleted, stored.clone());
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns", "labels": {"a": "b"}},
               "status": {"phase": "Running"}})
    }

    #[test]
    fn versions_rise_and_history_compacts() {
        let mut s = ObjectStore::new(1, 3, 7);
        let a = s.create(0, pod("a")).unwrap();
        let b = s.create(0, pod("b")).unwrap();
        assert!(b.rv > a.rv);
        assert!(matches!(s.create(0, pod("a")), Err(StoreError::AlreadyExists)));
        assert_eq!(s.history_since(a.rv).unwrap().len(), 1);
        for i in 0..5 {
            s.create(0, pod(&format!("p{i}"))).unwrap();
        }
        assert!(s.history_since(a.rv).is_none(), "old versions are gone after compaction");
        assert_eq!(s.list(0, Some("ns")).len(), 7);
        assert_eq!(s.list(0, Some("other")).len(), 0);
        let d = s.delete(0, "ns", "a").unwrap();
        assert!(d.rv > b.rv);
        assert!(matches!(s.update(0, pod("a"), None), Err(StoreError::NotFound)));
        assert!(matches!(s.update(0, pod("b"), Some(1)), Err(StoreError::Conflict)));
    }
}
