//! The agent fabric of one cluster, polled: every MCP tool server asked for its tools (on an
//! interval, and at once when the server's pods or registration change), and every AuthBridge
//! sidecar's `/stats` (observed calls between agents and tools). The Kagenti watcher hands over
//! what to poll; results go to the store as updates.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::mcp;
use super::options::WorkerOptions;
use crate::store::tools::{Location, ServerListing, ToolServer};
use crate::store::topology::AuthStats;
use crate::store::{FleetUpdate, Update};

/// What the watcher knows the fabric consists of right now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    pub tools: Vec<ToolServer>,
    /// (namespace, agent) -> running pods with the AuthBridge sidecar
    pub authbridge: BTreeMap<(String, String), Vec<String>>,
}

/// AuthBridge's stats answer is small; anything bigger is not it.
const STATS_MAX_BYTES: usize = 1 << 20;
/// Servers asked at once.
const PARALLEL: usize = 4;

/// What decides whether a server must be asked again now.
/// (tool server namespace and name, its URL, what it listed or why not)
type Listed = ((String, String), String, Result<ServerListing, String>);

fn signature(t: &ToolServer) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}",
        t.location,
        t.pods,
        t.pod_names,
        t.registration.as_ref().map(|r| (&r.state, &r.prefix))
    )
}

fn askable(t: &ToolServer) -> bool {
    t.location.is_some() && t.pods.is_none_or(|(ready, _)| ready > 0)
}

/// Lists the tools of one server where it is: through the service proxy, or at its URL; over
/// streamable HTTP, or the legacy HTTP+SSE transport when `kagenti.io/transport=sse`.
pub async fn list_server(
    client: &kube::Client,
    loc: &Location,
    transport: Option<&str>,
    timeout: Duration,
) -> Result<ServerListing, String> {
    match loc {
        Location::Service { namespace, service, port, path } => {
            let p = mcp::proxy_path(namespace, service, *port, path);
            if transport == Some("sse") {
                mcp::list_tools_sse(client.clone(), &p, timeout).await
            } else {
                mcp::list_tools(client.clone(), &p, timeout).await
            }
        }
        Location::Url(url) => {
            let (c, path) = mcp::direct(url)?;
            mcp::list_tools(c, &path, timeout).await
        }
    }
}

#[derive(Default)]
struct Known {
    signature: String,
    asked: Option<Instant>,
    listing: Option<ServerListing>,
    error: Option<String>,
}

pub async fn run(
    ctx: super::paced::WatchCtx,
    client: kube::Client,
    mut targets: watch::Receiver<Targets>,
    tx: mpsc::Sender<Update>,
    opts: WorkerOptions,
) {
    let index = ctx.cluster;
    let tools_every = opts.refresh * 12;
    let timeout = opts.scrape_timeout.max(Duration::from_secs(5));
    let mut known: BTreeMap<(String, String), Known> = BTreeMap::new();
    let mut stats_tick = tokio::time::interval(opts.refresh);
    stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tools_tick = tokio::time::interval(tools_every.min(Duration::from_secs(5)));
    tools_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sent: Option<Vec<ToolServer>> = None;
    // nothing is said about tools until the watcher has read the cluster once
    let mut seen = false;
    let mut stats_sent = false;
    loop {
        tokio::select! {
            changed = targets.changed() => {
                if changed.is_err() { return }
                seen = true;
            }
            _ = tools_tick.tick() => {
                if !seen { continue }
            }
            _ = stats_tick.tick() => {
                let ab = targets.borrow().authbridge.clone();
                // the last sidecar gone: say so once, so old counts are not drawn as live edges
                if ab.is_empty() {
                    if stats_sent {
                        stats_sent = false;
                        if tx.send(Update::AuthBridge { cluster: index, stats: BTreeMap::new() }).await.is_err() { return }
                    }
                    continue;
                }
                stats_sent = true;
                let stats = authbridge_round(&ctx, &client, &ab, timeout).await;
                if tx.send(Update::AuthBridge { cluster: index, stats }).await.is_err() { return }
                continue;
            }
        }
        // tools: ask the servers that are due (new, changed, or stale)
        let current = targets.borrow().tools.clone();
        // a server gone is forgotten: a kiosk running for weeks does not keep every one it saw
        known.retain(|(ns, name), _| current.iter().any(|t| t.namespace == *ns && t.name == *name));
        let due: Vec<ToolServer> = current
            .iter()
            .filter(|t| askable(t))
            .filter(|t| {
                let k = known.get(&(t.namespace.clone(), t.name.clone()));
                k.is_none_or(|k| k.signature != signature(t) || k.asked.is_none_or(|a| a.elapsed() >= tools_every))
            })
            .cloned()
            .collect();
        if !due.is_empty() {
            let results: Vec<Listed> = futures::stream::iter(due)
                .map(|t| {
                    let client = client.clone();
                    async move {
                        let loc = t.location.clone().expect("askable servers have a location");
                        let r = list_server(&client, &loc, t.transport.as_deref(), timeout).await;
                        ((t.namespace.clone(), t.name.clone()), signature(&t), r)
                    }
                })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
            for (key, sig, r) in results {
                let k = known.entry(key).or_default();
                k.signature = sig;
                k.asked = Some(Instant::now());
                match r {
                    Ok(l) => {
                        k.listing = Some(l);
                        k.error = None;
                    }
                    // the last good listing stays, marked with why it could not be refreshed
                    Err(e) => k.error = Some(e),
                }
            }
        }
        let merged: Vec<ToolServer> = current
            .into_iter()
            .map(|mut t| {
                if let Some(k) = known.get(&(t.namespace.clone(), t.name.clone())) {
                    if askable(&t) {
                        t.listing = k.listing.clone();
                        t.error = k.error.clone();
                    } else {
                        t.listing = k.listing.clone();
                    }
                }
                t
            })
            .collect();
        if last_sent.as_ref() != Some(&merged) {
            last_sent = Some(merged.clone());
            if tx.send(Update::Tools { cluster: index, servers: merged }).await.is_err() {
                return;
            }
        }
    }
}

/// One round of `/stats` over every AuthBridge sidecar, summed per agent.
async fn authbridge_round(
    ctx: &super::paced::WatchCtx,
    client: &kube::Client,
    targets: &BTreeMap<(String, String), Vec<String>>,
    timeout: Duration,
) -> BTreeMap<(String, String), Result<AuthStats, String>> {
    let jobs: Vec<((String, String), String)> =
        targets.iter().flat_map(|(k, pods)| pods.iter().map(move |p| (k.clone(), p.clone()))).collect();
    let answers: Vec<((String, String), Result<AuthStats, String>)> = futures::stream::iter(jobs)
        .map(|(key, pod)| {
            let client = client.clone();
            async move {
                let path = format!("/api/v1/namespaces/{}/pods/{pod}:9093/proxy/stats", key.0);
                // the pod proxy refused (and waiting out its backoff) is said, not asked
                let r = match super::paced::get_gated(ctx, &client, &path, STATS_MAX_BYTES, timeout).await {
                    None => Err("forbidden: pods/proxy (asked again later)".to_string()),
                    Some(Ok(body)) => serde_json::from_slice::<AuthStats>(&body).map_err(|e| format!("bad stats: {e}")),
                    Some(Err(e)) => Err(e.to_string()),
                };
                (key, r)
            }
        })
        .buffer_unordered(PARALLEL * 2)
        .collect()
        .await;
    let mut out: BTreeMap<(String, String), Result<AuthStats, String>> = BTreeMap::new();
    for (key, r) in answers {
        match (out.get_mut(&key), r) {
            (Some(Ok(sum)), Ok(s)) => sum.add(&s),
            (Some(Err(_)), Ok(s)) => {
                out.insert(key, Ok(s));
            }
            (Some(_), Err(_)) => {}
            (None, r) => {
                out.insert(key, r);
            }
        }
    }
    out
}

/// An MCP server outside the clusters, from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalEndpoint {
    pub name: String,
    pub url: String,
    /// `streamable_http` (default) or `sse` (the legacy HTTP+SSE transport; `url` is the SSE URL).
    pub transport: Option<String>,
}

/// MCP servers from the config, outside the clusters: listed on the same interval.
pub async fn run_external(endpoints: Vec<ExternalEndpoint>, tx: mpsc::Sender<Update>, every: Duration) {
    if endpoints.is_empty() {
        return;
    }
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let mut servers = Vec::new();
        for e in &endpoints {
            let loc = Location::Url(e.url.clone());
            let r = match mcp::direct(&e.url) {
                Ok((c, path)) if e.transport.as_deref() == Some("sse") => {
                    mcp::list_tools_sse(c, &path, Duration::from_secs(10)).await
                }
                Ok((c, path)) => mcp::list_tools(c, &path, Duration::from_secs(10)).await,
                Err(e) => Err(e),
            };
            let (listing, error) = match r {
                Ok(l) => (Some(l), None),
                Err(e) => (None, Some(e)),
            };
            servers.push(ToolServer {
                name: e.name.clone(),
                namespace: "external".into(),
                location: Some(loc),
                transport: Some(e.transport.clone().unwrap_or_else(|| "streamable_http".into())),
                registration: None,
                pods: None,
                pod_names: vec![],
                listing,
                error,
            });
        }
        if tx.send(FleetUpdate::ExternalTools { servers }.into()).await.is_err() {
            return;
        }
    }
}
