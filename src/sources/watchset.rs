//! A set of watches over DynamicObjects, each tagged, folded into one map per tag. Typed
//! lists would fail whole on one odd object; JSON decoded leniently does not.
//!
//! Objects are held as their compact JSON and decoded when a collector builds its view (after
//! a change, coalesced), then dropped again: decoded, a serde_json object costs 4-6 times its
//! JSON (a B-tree node of ~600 bytes for every JSON object, however small). heaptrack at 20
//! clusters x 2,000 pods: the Kagenti collector's decoded objects were 4.6 MB of 26 MB live.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};

use super::fold::{Folded, Packed};
use super::paced::WatchCtx;

/// What one tag's watch has found: None until listed; `absent` when the API is not served.
#[derive(Debug, Default)]
pub struct Watched {
    folded: Folded<Packed>,
    /// The objects decoded for the build under way; dropped when the next event is awaited.
    decoded: OnceLock<Vec<DynamicObject>>,
    pub listed: bool,
    pub absent: bool,
    /// The user may not list it (403): known, and empty.
    pub forbidden: bool,
}

/// A watch event and the tag of the watch it came from.
type Tagged<T> = (T, Result<Event<DynamicObject>, watcher::Error>);

pub struct WatchSet<T: Ord + Clone + Send + 'static> {
    streams: SelectAll<BoxStream<'static, Tagged<T>>>,
    pub by_tag: BTreeMap<T, Watched>,
    /// Per tag, what to strip from an object before it is kept (fields nothing reads).
    slim: BTreeMap<T, fn(&mut DynamicObject)>,
}

impl<T: Ord + Clone + Send + std::fmt::Debug + 'static> WatchSet<T> {
    pub fn new() -> Self {
        WatchSet { streams: SelectAll::new(), by_tag: BTreeMap::new(), slim: BTreeMap::new() }
    }

    /// Watches `ar` (paced: see sources/paced.rs) under `tag`; a forbidden list is reported as
    /// the resource's plural.
    pub fn add(&mut self, ctx: &WatchCtx, client: &kube::Client, tag: T, ar: &ApiResource, selector: Option<&str>) {
        self.add_as(ctx, client, tag, ar, selector, &ar.plural.clone());
    }

    /// As `add`, reported under another name when forbidden (several resources as one).
    pub fn add_as(
        &mut self,
        ctx: &WatchCtx,
        client: &kube::Client,
        tag: T,
        ar: &ApiResource,
        selector: Option<&str>,
        report: &str,
    ) {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), ar);
        let mut cfg = watcher::Config::default();
        if let Some(s) = selector {
            cfg = cfg.labels(s);
        }
        let t = tag.clone();
        let stream = super::paced::watch(api, cfg, &ar.group, &ar.plural, report, ctx);
        self.streams.push(stream.map(move |e| (t.clone(), e)).boxed());
        self.by_tag.insert(tag, Watched::default());
    }

    /// Objects of `tag` are passed through `f` before they are kept: memory follows what is read.
    pub fn slim(&mut self, tag: T, f: fn(&mut DynamicObject)) {
        self.slim.insert(tag, f);
    }

    /// The next event, folded in; true when the visible set changed. The objects decoded for
    /// the last build are dropped first: every build happens between two of these calls.
    pub async fn next(&mut self) -> Option<(T, bool)> {
        for w in self.by_tag.values_mut() {
            w.decoded.take();
        }
        let (tag, ev) = self.streams.next().await?;
        let slim = self.slim.get(&tag).copied();
        let w = self.by_tag.entry(tag.clone()).or_default();
        let changed = match ev {
            Ok(ev) => {
                let done = matches!(ev, Event::InitDone);
                let changed = w.folded.fold(ev, |mut o| {
                    if let Some(f) = slim {
                        f(&mut o);
                    }
                    Packed::of(&o)
                });
                if done {
                    w.listed = true;
                    w.absent = false;
                    w.forbidden = false;
                }
                changed
            }
            Err(watcher::Error::InitialListFailed(kube::Error::Api(s))) if s.code == 404 => {
                let was = w.absent;
                w.absent = true;
                w.listed = true;
                !was
            }
            // not allowed to list: the rest must not wait for it (it retries with backoff)
            Err(watcher::Error::InitialListFailed(kube::Error::Api(s))) if s.code == 403 => {
                let was = w.forbidden && w.listed;
                w.forbidden = true;
                w.listed = true;
                !was
            }
            Err(e) => {
                tracing::debug!(tag = ?tag, error = %e, "watch error");
                false
            }
        };
        Some((tag, changed))
    }

    /// The objects of `tag`, each decoded as it is read and not kept: for a build that maps
    /// every object to what it keeps of it (thousands of ManifestWorks), never the whole set
    /// decoded at once.
    pub fn decode_each(&self, tag: &T) -> impl Iterator<Item = DynamicObject> + '_ {
        self.by_tag.get(tag).into_iter().flat_map(|w| w.folded.values().filter_map(Packed::object))
    }

    /// The objects of `tag`, decoded on the first call since the last event.
    pub fn objects(&self, tag: &T) -> impl Iterator<Item = &DynamicObject> {
        self.by_tag
            .get(tag)
            .into_iter()
            .flat_map(|w| w.decoded.get_or_init(|| w.folded.values().filter_map(Packed::object).collect()).iter())
    }

    pub fn served(&self, tag: &T) -> Option<bool> {
        self.by_tag.get(tag).filter(|w| w.listed).map(|w| !w.absent && !w.forbidden)
    }

    pub fn forbidden(&self, tag: &T) -> bool {
        self.by_tag.get(tag).is_some_and(|w| w.forbidden)
    }

    pub fn all_listed(&self) -> bool {
        self.by_tag.values().all(|w| w.listed)
    }
}

impl<T: Ord + Clone + Send + std::fmt::Debug + 'static> WatchSet<T> {
    /// Runs until the watches or the receiver end: folds events in and, `coalesce` after a
    /// change (a burst is one update), builds the value from what is watched and sends it as
    /// an update when it differs from the last one sent.
    pub async fn run_coalesced<V: PartialEq + Clone>(
        &mut self,
        coalesce: std::time::Duration,
        tx: &tokio::sync::mpsc::Sender<crate::store::Update>,
        build: impl Fn(&WatchSet<T>) -> V,
        wrap: impl Fn(V) -> crate::store::Update,
    ) {
        self.run_coalesced_growing(coalesce, tx, |_| false, build, wrap).await
    }

    /// As `run_coalesced`, and before each build `grow` may add the watches what is seen now
    /// calls for (the pods of the jobs found); when it added any, nothing is sent until they
    /// have listed too (their first list is a change).
    pub async fn run_coalesced_growing<V: PartialEq + Clone>(
        &mut self,
        coalesce: std::time::Duration,
        tx: &tokio::sync::mpsc::Sender<crate::store::Update>,
        mut grow: impl FnMut(&mut WatchSet<T>) -> bool,
        build: impl Fn(&WatchSet<T>) -> V,
        wrap: impl Fn(V) -> crate::store::Update,
    ) {
        let mut last: Option<V> = None;
        let mut dirty = false;
        let far = std::time::Duration::from_secs(3600);
        let flush = tokio::time::sleep(far);
        tokio::pin!(flush);
        loop {
            tokio::select! {
                ev = self.next() => {
                    let Some((_, changed)) = ev else { return };
                    if changed {
                        dirty = true;
                        let soon = tokio::time::Instant::now() + coalesce;
                        if flush.deadline() > soon { flush.as_mut().reset(soon); }
                    }
                }
                _ = &mut flush => {
                    flush.as_mut().reset(tokio::time::Instant::now() + far);
                    if !dirty { continue }
                    dirty = false;
                    if grow(self) { continue }
                    let next = build(self);
                    if last.as_ref() != Some(&next) {
                        last = Some(next.clone());
                        if tx.send(wrap(next)).await.is_err() { return }
                    }
                }
            }
        }
    }
}

impl<T: Ord + Clone + Send + std::fmt::Debug + 'static> Default for WatchSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, v: serde_json::Value) -> DynamicObject {
        let mut o: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "team-a", "labels": {"kagenti.io/type": "agent"},
                         "annotations": {"a": "b"}, "resourceVersion": "7"},
        }))
        .unwrap();
        o.data = v;
        o
    }

    #[tokio::test]
    async fn objects_come_back_whole_and_their_decoded_form_goes_after_each_build() {
        let a = object(
            "a",
            serde_json::json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "agent", "env": [{"name": "LLM_MODEL", "value": "llama"}]}]}}}, "status": {"readyReplicas": 1}}),
        );
        let b = object("b", serde_json::json!({"spec": {"replicas": 0}}));
        let events: Vec<Tagged<&'static str>> = vec![
            ("d", Ok(Event::Init)),
            ("d", Ok(Event::InitApply(a.clone()))),
            ("d", Ok(Event::InitApply(b.clone()))),
            ("d", Ok(Event::InitDone)),
            ("d", Ok(Event::Delete(b.clone()))),
        ];
        let mut w: WatchSet<&'static str> = WatchSet::new();
        w.by_tag.insert("d", Watched::default());
        w.streams.push(futures::stream::iter(events).chain(futures::stream::pending()).boxed());
        for _ in 0..4 {
            w.next().await;
        }
        assert_eq!(w.objects(&"d").cloned().collect::<Vec<_>>(), vec![a.clone(), b], "as the API server sent them");
        assert!(w.by_tag["d"].decoded.get().is_some());
        assert_eq!(w.next().await, Some(("d", true)));
        assert!(w.by_tag["d"].decoded.get().is_none(), "what a build decoded is dropped before the next event");
        assert_eq!(w.objects(&"d").cloned().collect::<Vec<_>>(), vec![a], "and the next build reads the change");
    }
}
