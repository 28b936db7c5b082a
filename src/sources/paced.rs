//! The one way kst watches a resource. kube-runtime's `default_backoff()` resets its backoff
//! on every `Event::Init`, so a watch of an API the cluster does not serve (404) or forbids
//! (403) re-lists about once a second forever. Here:
//! - a 404 is "not installed": the consumer hears it once, and the API is asked again on a slow
//!   timer (minutes), never in a tight loop;
//! - a 403 is "forbidden": reported into the cluster's state (`Update::Forbidden`, the cluster
//!   is then degraded with the list), asked again with a backoff up to a minute, and at once when
//!   the health probe's access review says the user may list it again; cleared by the first
//!   successful list;
//! - other errors back off exponentially, and the backoff is reset only after the watch has
//!   delivered events for a while;
//! - a watch that works again after failing wakes the health probe, so the cluster's state
//!   follows the first successful request;
//! - Kubernetes authorizes a watch once, when it starts: a permission taken away later goes
//!   unseen until the watch ends (minutes). So each refresh the health probe asks what the user
//!   may still list (one SelfSubjectRulesReview), confirms a loss with an access review, and
//!   restarts those watches, which then meet the 403 (docs/upstream/kubernetes-access-reviews.md).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use tokio::sync::{mpsc, Notify};

use super::backoff::Backoff;

use crate::store::Update;

/// What the watches of one cluster share: where to report, how fast to retry, whom to wake.
#[derive(Clone)]
pub struct WatchCtx {
    pub cluster: usize,
    pub tx: mpsc::Sender<Update>,
    /// The refresh interval: the first retry of a forbidden read waits this long.
    pub refresh: Duration,
    /// Longest wait between retries of a failing watch.
    pub backoff_max: Duration,
    /// How long an absent API waits before it is asked again.
    pub absent_recheck: Duration,
    /// Woken when a watch works again (the health probe).
    pub wake: Arc<Notify>,
    /// Forbidden resources the health probe checks with an access review each round.
    pub forbidden: Arc<Forbidden>,
    /// Resources watched now: the health probe restarts those the user may no longer list.
    pub watched: Arc<Watched>,
    /// The API server's proxies every reader of this cluster shares, gated when refused.
    pub proxy: Arc<super::get::ProxyGate>,
}

impl WatchCtx {
    pub fn new(cluster: usize, tx: mpsc::Sender<Update>, refresh: Duration, backoff_max: Duration) -> WatchCtx {
        WatchCtx {
            cluster,
            tx,
            refresh,
            backoff_max,
            absent_recheck: (refresh * 60).clamp(Duration::from_secs(20), Duration::from_secs(300)),
            wake: Arc::new(Notify::new()),
            forbidden: Arc::new(Forbidden::default()),
            watched: Arc::new(Watched::default()),
            proxy: Arc::new(super::get::ProxyGate::new(refresh)),
        }
    }
}

/// Resources this user may not list, by (group, plural): each with the Notify its watches wait
/// on, so an access review that says "allowed" can end their wait at once.
#[derive(Default)]
pub struct Forbidden(Mutex<BTreeMap<(String, String), Arc<Notify>>>);

impl Forbidden {
    fn register(&self, group: &str, plural: &str) -> Arc<Notify> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((group.to_string(), plural.to_string())).or_insert_with(|| Arc::new(Notify::new())).clone()
    }
    fn clear(&self, group: &str, plural: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&(group.to_string(), plural.to_string()));
    }
    /// (group, plural, notify) of every resource forbidden now.
    pub fn list(&self) -> Vec<(String, String, Arc<Notify>)> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((g, p), n)| (g.clone(), p.clone(), n.clone()))
            .collect()
    }
}

/// A watched resource: (group, plural, namespace; None for every namespace).
type WatchedKey = (String, String, Option<String>);

/// The resources watched now, each with the Notify that restarts its watches and how many
/// watches share it.
#[derive(Default)]
pub struct Watched(Mutex<BTreeMap<WatchedKey, (Arc<Notify>, usize)>>);

impl Watched {
    fn register(self: &Arc<Self>, key: WatchedKey) -> Registration {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.entry(key.clone()).or_insert_with(|| (Arc::new(Notify::new()), 0));
        e.1 += 1;
        Registration { restart: e.0.clone(), watched: self.clone(), key }
    }
    fn release(&self, key: &WatchedKey) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = m.get_mut(key) {
            e.1 = e.1.saturating_sub(1);
            if e.1 == 0 {
                m.remove(key);
            }
        }
    }
    /// Every resource watched now, with its restart.
    pub fn list(&self) -> Vec<(WatchedKey, Arc<Notify>)> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.iter().map(|(k, (n, _))| (k.clone(), n.clone())).collect()
    }
}

/// A watch's place in `Watched`, given back when the watch is dropped.
struct Registration {
    restart: Arc<Notify>,
    watched: Arc<Watched>,
    key: WatchedKey,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.watched.release(&self.key);
    }
}

fn status_code(e: &watcher::Error) -> Option<u16> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}

struct State {
    inner: BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>>,
    api: Api<DynamicObject>,
    cfg: watcher::Config,
    /// After a 403 the next attempt is a fresh list: a resumed watch that is allowed again
    /// may send nothing for minutes, a list proves the access and ends in `InitDone`.
    relist: bool,
    ctx: WatchCtx,
    group: String,
    plural: String,
    /// The name the cluster's state lists when it is forbidden.
    report: String,
    backoff: Backoff,
    forbidden_backoff: Backoff,
    /// What to wait for before asking again.
    wait: Option<(Duration, Option<Arc<Notify>>)>,
    failing: bool,
    /// Since when it has delivered events without failing.
    ok_since: Option<Instant>,
    forbidden: bool,
    /// Notified when an access review says this watch may no longer be made.
    registration: Registration,
}

/// Tells the cluster's state that `resource` is (no longer) forbidden.
async fn report_forbidden(tx: mpsc::Sender<Update>, cluster: usize, resource: String, forbidden: bool) {
    let _ = tx.send(Update::Forbidden { cluster, resource, forbidden }).await;
}

/// A paced watch of `api` (group and plural name the resource; `report` is what the cluster's
/// state lists when it is forbidden): the same items as `watcher::watcher`, errors included, so
/// the consumer can tell absent from forbidden.
pub fn watch(
    api: Api<DynamicObject>,
    cfg: watcher::Config,
    group: &str,
    plural: &str,
    report: &str,
    ctx: &WatchCtx,
) -> BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>> {
    let seed = plural.bytes().fold(ctx.cluster as u64 * 7919 + 1, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    let registration =
        ctx.watched.register((group.to_string(), plural.to_string(), api.namespace().map(str::to_string)));
    // boxed, with the rare reports below: an idle watch's future holds a pointer, not the state
    let st = Box::new(State {
        registration,
        inner: super::listwatch::watcher(api.clone(), cfg.clone()),
        api,
        cfg,
        relist: false,
        ctx: ctx.clone(),
        group: group.to_string(),
        plural: plural.to_string(),
        report: report.to_string(),
        backoff: Backoff::new(Duration::from_millis(500), ctx.backoff_max, seed),
        forbidden_backoff: Backoff::new(ctx.refresh.max(Duration::from_millis(500)), Duration::from_secs(60), seed),
        wait: None,
        failing: false,
        ok_since: None,
        forbidden: false,
    });
    futures::stream::unfold(st, |mut st| async move {
        if let Some((d, notify)) = st.wait.take() {
            match notify {
                Some(n) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = n.notified() => {}
                    }
                }
                None => tokio::time::sleep(d).await,
            }
        }
        if std::mem::take(&mut st.relist) {
            st.inner = super::listwatch::watcher(st.api.clone(), st.cfg.clone());
        }
        let item = loop {
            let restart = st.registration.restart.clone();
            let next = tokio::select! {
                item = st.inner.next() => Some(item),
                _ = restart.notified() => None,
            };
            match next {
                Some(item) => break item?,
                // access taken away while the watch was open: a fresh list meets the 403
                None => {
                    tracing::info!(cluster = st.ctx.cluster, resource = %st.plural, "no longer allowed to watch: listing again");
                    st.inner = super::listwatch::watcher(st.api.clone(), st.cfg.clone());
                }
            }
        };
        match &item {
            Ok(ev) => {
                // kube-runtime's Init comes before the list is even asked for: no answer, so
                // nothing to wake the health probe for (an expired token made it probe in bursts)
                if st.failing && !matches!(ev, Event::Init) {
                    st.failing = false;
                    st.ok_since = Some(Instant::now());
                    st.ctx.wake.notify_one();
                }
                // only a watch that has worked for a while earns a fresh backoff
                if st.ok_since.is_some_and(|t| t.elapsed() > Duration::from_secs(30)) {
                    st.backoff.reset();
                    st.forbidden_backoff.reset();
                    st.ok_since = None;
                }
                if st.forbidden && matches!(ev, Event::InitDone) {
                    st.forbidden = false;
                    st.ctx.forbidden.clear(&st.group, &st.plural);
                    Box::pin(report_forbidden(st.ctx.tx.clone(), st.ctx.cluster, st.report.clone(), false)).await;
                }
            }
            Err(e) => {
                st.failing = true;
                st.ok_since = None;
                match status_code(e) {
                    Some(404) => {
                        tracing::debug!(cluster = st.ctx.cluster, resource = %st.plural, "not served; asking again later");
                        st.wait = Some((st.ctx.absent_recheck, None));
                    }
                    Some(403) => {
                        if !st.forbidden {
                            st.forbidden = true;
                            tracing::info!(cluster = st.ctx.cluster, resource = %st.plural, "forbidden");
                            Box::pin(report_forbidden(st.ctx.tx.clone(), st.ctx.cluster, st.report.clone(), true)).await;
                        }
                        st.relist = true;
                        let notify = st.ctx.forbidden.register(&st.group, &st.plural);
                        st.wait = Some((st.forbidden_backoff.step(), Some(notify)));
                    }
                    // 401 and the rest: the health probe says what the cluster is; this watch waits
                    _ => {
                        tracing::debug!(cluster = st.ctx.cluster, resource = %st.plural, error = %e, "watch error");
                        st.wait = Some((st.backoff.step(), None));
                    }
                }
            }
        }
        Some((item, st))
    })
    .boxed()
}

/// Asks the API server whether this user may list each forbidden resource now (a
/// SelfSubjectAccessReview each: far cheaper than a list); those allowed are re-listed at once.
pub async fn recheck_forbidden(client: &kube::Client, forbidden: &Forbidden, proxy: &super::get::ProxyGate) {
    for (group, plural, notify) in forbidden.list() {
        if may(client, "list", &group, &plural, None).await {
            notify.notify_waiters();
        }
    }
    // a refused proxy too (get on the `proxy` subresource): allowed again, it opens at once
    // instead of at the end of its backoff
    for kind in proxy.refused() {
        let (plural, sub) = kind.split_once('/').unwrap_or((kind, ""));
        if may(client, "get", "", plural, Some(sub)).await {
            proxy.reopen(kind);
        }
    }
}

/// Asks what the user may still list and watch (one SelfSubjectRulesReview per namespace
/// watched, `default` for cluster-wide watches) and restarts the watches of each resource the
/// rules no longer allow and an access review confirms (the rules review is meant for display;
/// the access review is the authority). An incomplete rules review (a webhook authorizer) says
/// nothing either way.
pub async fn recheck_watched(client: &kube::Client, ctx: &WatchCtx) {
    let forbidden: std::collections::BTreeSet<(String, String)> =
        ctx.forbidden.list().into_iter().map(|(g, p, _)| (g, p)).collect();
    let watched: Vec<(WatchedKey, Arc<Notify>)> =
        ctx.watched.list().into_iter().filter(|((g, p, _), _)| !forbidden.contains(&(g.clone(), p.clone()))).collect();
    let reviewed_in = |ns: &Option<String>| ns.clone().unwrap_or_else(|| "default".into());
    let namespaces: std::collections::BTreeSet<String> =
        watched.iter().map(|((_, _, ns), _)| reviewed_in(ns)).collect();
    for ns in namespaces {
        let Some(rules) = rules_review(client, &ns).await else { continue };
        for ((group, plural, wns), restart) in watched.iter().filter(|((_, _, n), _)| reviewed_in(n) == ns) {
            if rules.allow("list", group, plural) && rules.allow("watch", group, plural) {
                continue;
            }
            if !may_in(client, "watch", group, plural, None, wns.as_deref()).await {
                restart.notify_waiters();
            }
        }
    }
}

/// The resource rules of a complete SelfSubjectRulesReview.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ResourceRules(Vec<ResourceRule>);

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceRule {
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    resource_names: Vec<String>,
}

impl ResourceRules {
    /// Whether a rule allows `verb` on every object of the resource (RBAC's rules are additive;
    /// a rule limited to some names allows no list).
    pub fn allow(&self, verb: &str, group: &str, plural: &str) -> bool {
        let has = |list: &[String], x: &str| list.iter().any(|v| v == "*" || v == x);
        self.0.iter().any(|r| {
            r.resource_names.is_empty() && has(&r.verbs, verb) && has(&r.api_groups, group) && has(&r.resources, plural)
        })
    }

    /// The rules of a review's answer; None when it is incomplete or not one.
    pub fn of_answer(v: &serde_json::Value) -> Option<ResourceRules> {
        let st = &v["status"];
        if st["incomplete"] != false {
            return None;
        }
        serde_json::from_value(st["resourceRules"].clone()).ok().map(ResourceRules)
    }
}

async fn rules_review(client: &kube::Client, namespace: &str) -> Option<ResourceRules> {
    let body = serde_json::json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace}});
    let req = http::Request::post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .ok()?;
    let text = tokio::time::timeout(Duration::from_secs(5), client.request_text(req)).await.ok()?.ok()?;
    ResourceRules::of_answer(&serde_json::from_str(&text).ok()?)
}

/// A SelfSubjectAccessReview: may this user do `verb` on the resource (and subresource)?
async fn may(client: &kube::Client, verb: &str, group: &str, plural: &str, sub: Option<&str>) -> bool {
    may_in(client, verb, group, plural, sub, None).await
}

/// `may`, in one namespace (None: every namespace).
async fn may_in(
    client: &kube::Client,
    verb: &str,
    group: &str,
    plural: &str,
    sub: Option<&str>,
    namespace: Option<&str>,
) -> bool {
    let mut attrs = serde_json::json!({"verb": verb, "group": group, "resource": plural});
    if let Some(s) = sub {
        attrs["subresource"] = s.into();
    }
    if let Some(ns) = namespace {
        attrs["namespace"] = ns.into();
    }
    let body = serde_json::json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs}});
    let req = http::Request::post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default());
    let Ok(req) = req else { return false };
    match tokio::time::timeout(Duration::from_secs(5), client.request_text(req)).await {
        Ok(Ok(text)) => {
            serde_json::from_str::<serde_json::Value>(&text).map(|v| v["status"]["allowed"] == true).unwrap_or(false)
        }
        _ => false,
    }
}

/// A GET through the cluster's proxies, gated: None when the proxy is forbidden and its
/// backoff has not passed (nothing is sent); a refusal or an answer is recorded on the gate
/// and its change reported as `Update::Forbidden`.
pub async fn get_gated(
    ctx: &WatchCtx,
    client: &kube::Client,
    path: &str,
    cap: usize,
    timeout: Duration,
) -> Option<Result<Vec<u8>, super::get::GetError>> {
    let kind = super::get::ProxyGate::kind_of(path);
    if kind.is_some_and(|k| !ctx.proxy.open(k)) {
        return None;
    }
    let r = super::get::get_capped(client, path, cap, timeout).await;
    if let Some(k) = kind {
        // a timeout or a dead endpoint says nothing of the permission
        let decided = match &r {
            Err(super::get::GetError::Forbidden(_)) => Some(true),
            Ok(_) | Err(super::get::GetError::Status(..)) | Err(super::get::GetError::TooLarge(_)) => Some(false),
            Err(_) => None,
        };
        if let Some(forbidden) = decided.and_then(|refused| ctx.proxy.answered(k, refused)) {
            let u = Update::Forbidden { cluster: ctx.cluster, resource: k.to_string(), forbidden };
            let _ = ctx.tx.send(u).await;
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_review_allows_what_a_rule_names_and_nothing_when_incomplete() {
        let answer = |incomplete: bool| {
            serde_json::json!({"status": {"incomplete": incomplete, "resourceRules": [
                {"verbs": ["get", "list", "watch"], "apiGroups": ["", "apps"], "resources": ["pods", "deployments"]},
                {"verbs": ["*"], "apiGroups": ["inference.networking.k8s.io"], "resources": ["*"]},
                {"verbs": ["list", "watch"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["one"]},
            ]}})
        };
        let rules = ResourceRules::of_answer(&answer(false)).expect("complete");
        assert!(rules.allow("watch", "", "pods") && rules.allow("list", "apps", "deployments"));
        assert!(rules.allow("watch", "inference.networking.k8s.io", "inferencepools"), "wildcards");
        assert!(!rules.allow("watch", "", "nodes"), "not named: not allowed");
        assert!(!rules.allow("list", "", "secrets"), "a rule for some names lists nothing");
        assert!(!rules.allow("delete", "", "pods"));
        assert!(ResourceRules::of_answer(&answer(true)).is_none(), "incomplete: says nothing");
    }
}
