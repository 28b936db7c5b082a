//! One collector per cluster: a health probe (version, latency) and the object watchers,
//! each reporting through the bounded update channel. A slow or dead cluster only ever
//! delays its own task; it reconnects by itself with capped, jittered backoff.

use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;
use tokio::sync::{mpsc, watch};

use super::backoff::Backoff;
use super::connect::{client_for, Target};
use super::fold::Folded;
use super::nodes::{self, NodeInfo};
use super::options::WorkerOptions;
use super::paced::WatchCtx;
use crate::store::{Conn, Update};

/// What went wrong, in the words the UI shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Auth(String),
    Forbidden(String),
    Unreachable(String),
}

/// The innermost cause, which is what a person needs ("connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    plain(&cur.to_string())
}

/// An error as a person reads it: no `(os error 111)`, no links to library docs, no
/// capitalised fragments of Rust type names.
pub fn plain(text: &str) -> String {
    let mut s = text.trim().to_string();
    if let Some(i) = s.find(" (os error ") {
        if let Some(end) = s[i..].find(')') {
            s.replace_range(i..i + end + 1, "");
        }
    }
    // drop links and what introduces them ("see https://docs.rs/...")
    let words: Vec<&str> = s.split_whitespace().filter(|w| !w.contains("://")).collect();
    let mut s = words.join(" ");
    for tail in [" see", " for more information", ","] {
        if let Some(t) = s.strip_suffix(tail) {
            s = t.to_string();
        }
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() && chars.clone().next().is_some_and(|n| n.is_lowercase()) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s,
    }
}

pub fn classify(e: &kube::Error) -> Problem {
    match e {
        // the API server's message is usually just "Unauthorized": said once, not twice
        kube::Error::Api(s) if s.code == 401 => Problem::Auth({
            let extra = s.message.trim();
            let extra = if extra.is_empty() || extra.eq_ignore_ascii_case("unauthorized") { "" } else { extra };
            format!("401 Unauthorized: the credentials were rejected (expired token?) {extra}").trim().to_string()
        }),
        kube::Error::Api(s) if s.code == 403 => Problem::Forbidden(s.message.clone()),
        kube::Error::Api(s) => Problem::Unreachable(format!("{} {}", s.code, s.message)),
        kube::Error::Auth(a) => Problem::Auth(root_cause(a)),
        other => Problem::Unreachable(root_cause(other)),
    }
}

fn classify_watch(e: &watcher::Error) -> Problem {
    match e {
        watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) | watcher::Error::WatchFailed(k) => {
            classify(k)
        }
        watcher::Error::WatchError(s) if s.code == 403 => Problem::Forbidden(s.message.clone()),
        watcher::Error::WatchError(s) if s.code == 401 => Problem::Auth(s.message.clone()),
        other => Problem::Unreachable(other.to_string()),
    }
}

/// Sends unless kst is shutting down; a full channel makes this collector wait, not others.
async fn send(tx: &mpsc::Sender<Update>, u: Update) -> bool {
    tx.send(u).await.is_ok()
}

pub async fn run(
    index: usize,
    target: Target,
    tx: mpsc::Sender<Update>,
    opts: WorkerOptions,
    mut stop: watch::Receiver<bool>,
) {
    let client = match client_for(&target).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(context = %target.context, error = %e, "cannot build a client");
            send(&tx, Update::Conn { cluster: index, conn: Conn::ConfigError(e) }).await;
            return;
        }
    };
    let ctx = WatchCtx::new(index, tx.clone(), opts.refresh, opts.backoff_max);
    let health = health_loop(index, client.clone(), tx.clone(), opts.clone(), ctx.clone());
    let nodes = nodes_loop(index, client.clone(), tx.clone(), opts.clone(), ctx.clone());
    let llmd = super::llmd::run(ctx.clone(), client.clone(), tx.clone(), opts.clone());
    let history = super::kagenti::history_path(&opts.state_dir, &target.context);
    let posture = super::kagenti::baseline_path(&opts.state_dir, opts.baseline_file.as_deref(), &target.context);
    let kagenti = super::kagenti::run(ctx.clone(), history, posture, client.clone(), tx.clone(), opts.clone());
    let jobs = super::jobs::run(ctx.clone(), client.clone(), tx.clone(), opts.clone());
    let placement = super::placement::run(ctx.clone(), client.clone(), tx.clone(), opts.clone());
    let gpus = super::gpus::run(ctx.clone(), client.clone(), tx.clone(), opts.clone(), target.context.clone());
    // the watches start after one request: over HTTP/2 they then share the connection it
    // opened (started together, each would open its own and all but one be thrown away: 4,000
    // TLS handshakes and 60 MB of buffers at 100 clusters, the memory not given back). The
    // health probe does not wait for it: a dead cluster is named as soon as before.
    let warm = client.clone();
    let watched = async move {
        let _ = tokio::time::timeout(opts.probe_timeout, warm.apiserver_version()).await;
        tokio::select! {
            _ = nodes => {}
            _ = llmd => {}
            _ = kagenti => {}
            _ = jobs => {}
            _ = placement => {}
            _ = gpus => {}
        }
    };
    tokio::select! {
        _ = stop.changed() => {}
        _ = health => {}
        _ = watched => {}
    }
}

/// The API server's version, every refresh: latency, reachability. While the cluster is down
/// it is asked again with a backoff capped at the refresh interval, and at once when a watch
/// works again, so the state follows recovery within a refresh; each round it also asks
/// whether forbidden resources have become readable (an access review each).
async fn health_loop(index: usize, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions, ctx: WatchCtx) {
    let mut backoff =
        Backoff::new(Duration::from_millis(500), opts.refresh.max(Duration::from_millis(500)), index as u64 * 7919 + 1);
    loop {
        let started = Instant::now();
        let wait = match tokio::time::timeout(opts.probe_timeout, client.apiserver_version()).await {
            Ok(Ok(info)) => {
                backoff.reset();
                // rounded up: an answer in 0.3 ms is "1 ms at most", never a 0 that reads as none
                let latency_ms = (started.elapsed().as_micros() as u64).div_ceil(1000).max(1);
                if !send(&tx, Update::Health { cluster: index, version: info.git_version, latency_ms }).await {
                    return;
                }
                super::paced::recheck_forbidden(&client, &ctx.forbidden, &ctx.proxy).await;
                super::paced::recheck_watched(&client, &ctx).await;
                opts.refresh
            }
            Ok(Err(e)) => {
                let conn = match classify(&e) {
                    Problem::Auth(m) => Conn::AuthFailed(m),
                    Problem::Forbidden(m) => Conn::Degraded(m),
                    Problem::Unreachable(m) => Conn::Unreachable { error: m, since: SystemTime::now() },
                };
                tracing::info!(cluster = index, state = conn.label(), "health probe failed");
                if !send(&tx, Update::Conn { cluster: index, conn }).await {
                    return;
                }
                backoff.step()
            }
            Err(_) => {
                let error = format!("no answer within {}s", opts.probe_timeout.as_secs());
                if !send(
                    &tx,
                    Update::Conn { cluster: index, conn: Conn::Unreachable { error, since: SystemTime::now() } },
                )
                .await
                {
                    return;
                }
                backoff.step()
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.wake.notified() => {}
        }
    }
}

fn node_resource() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::core::v1::Node>(&())
}

async fn nodes_loop(index: usize, client: kube::Client, tx: mpsc::Sender<Update>, opts: WorkerOptions, ctx: WatchCtx) {
    let api: Api<DynamicObject> = Api::all_with(client, &node_resource());
    let mut stream = super::paced::watch(api, watcher::Config::default(), "", "nodes", "nodes", &ctx);
    let mut nodes: Folded<NodeInfo> = Folded::default();
    let mut dirty = false;
    let flush = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(flush);
    loop {
        tokio::select! {
            ev = stream.next() => {
                let Some(ev) = ev else { return };
                match ev {
                    Ok(ev) => {
                        dirty |= nodes.fold(ev, |o| Some(nodes::decode(&o.data, &o.metadata.labels.clone().unwrap_or_default())));
                        if dirty && nodes.listed() {
                            // gather the rest of a burst into one update
                            let soon = tokio::time::Instant::now() + opts.coalesce;
                            if flush.deadline() > soon { flush.as_mut().reset(soon); }
                        }
                    }
                    // forbidden is reported by the watch; the health probe says what else it is
                    Err(e) => {
                        if !matches!(classify_watch(&e), Problem::Forbidden(_)) {
                            ctx.wake.notify_one();
                        }
                        tracing::debug!(cluster = index, error = %e, "node watch error");
                    }
                }
            }
            _ = &mut flush => {
                flush.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(3600));
                if dirty {
                    dirty = false;
                    let malformed = nodes.values().filter(|n| n.malformed).count();
                    let mut summary = nodes::summarize(nodes.values());
                    // per node, for what a GPU pod could still get there
                    summary.gpus_allocatable_by_node =
                        nodes.items().iter().filter(|(_, n)| n.gpus_total > 0).map(|((_, name), n)| (name.clone(), n.gpus_allocatable)).collect();
                    if !send(&tx, Update::Nodes { cluster: index, nodes: summary }).await { return }
                    send(&tx, Update::Malformed { cluster: index, resource: "nodes".into(), count: malformed }).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_are_classified() {
        let status = |code: u16| {
            kube::Error::Api(Box::new(kube::core::Status { code, message: "m".into(), ..Default::default() }))
        };
        assert!(matches!(classify(&status(401)), Problem::Auth(_)));
        assert!(matches!(classify(&status(403)), Problem::Forbidden(_)));
        assert!(matches!(classify(&status(500)), Problem::Unreachable(_)));
    }

    #[test]
    fn errors_read_as_plain_words() {
        assert_eq!(plain("Connection refused (os error 111)"), "connection refused");
        assert_eq!(plain("invalid peer certificate: UnknownIssuer"), "invalid peer certificate: UnknownIssuer");
        assert_eq!(
            plain("failed to read the token file, see https://docs.rs/kube/latest/kube/config"),
            "failed to read the token file"
        );
        assert_eq!(plain("TLS handshake failed"), "TLS handshake failed", "acronyms keep their case");
    }
}
