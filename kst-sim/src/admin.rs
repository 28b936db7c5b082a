//! The simulator's admin endpoint (plain HTTP on loopback, no auth: it is a test harness):
//!
//! - `GET  /clusters`                 every cluster: name, server URL, open watches, faults
//! - `GET  /clusters/<name>`          one cluster
//! - `POST /clusters/<name>/faults`   JSON body, any of: `unreachable`, `latency_ms`,
//!   `token_expired`, `forbidden` (list of resource plurals), `gone_storm`, `garbage_metrics`,
//!   `malformed_objects` (one-shot)
//! - `POST /clusters/<name>/compact`  drop watch history: resuming watches get 410 Gone

use std::convert::Infallible;
use std::sync::Arc;

use http::StatusCode;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::faults::FaultPatch;
use super::http::{error, Reply, Request};
use super::http::{read_request, to_response};
use super::SimCluster;

fn describe(c: &SimCluster) -> Value {
    json!({"name": c.name, "server": c.server_url(), "open_watches": c.open_watches(),
           "resource_version": c.store.read().expect("store lock").resource_version(),
           "faults": c.faults.state(),
           "requests": *c.requests.lock().expect("requests lock")})
}

pub fn handle(clusters: &[Arc<SimCluster>], req: &Request) -> Reply {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let find = |n: &str| clusters.iter().find(|c| c.name == n);
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["clusters"]) => Reply::ok(&json!(clusters.iter().map(|c| describe(c)).collect::<Vec<_>>())),
        ("GET", ["clusters", n]) => match find(n) {
            Some(c) => Reply::ok(&describe(c)),
            None => error(StatusCode::NOT_FOUND, format!("no cluster {n}")),
        },
        ("POST", ["clusters", n, "faults"]) => {
            let Some(c) = find(n) else {
                return error(StatusCode::NOT_FOUND, format!("no cluster {n}"));
            };
            let patch: FaultPatch = match serde_json::from_slice(&req.body) {
                Ok(p) => p,
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad fault patch: {e}")),
            };
            c.faults.apply(&patch);
            if patch.malformed_objects == Some(true) {
                c.inject_malformed();
            }
            Reply::ok(&describe(c))
        }
        ("POST", ["clusters", n, "compact"]) => match find(n) {
            Some(c) => {
                c.store.write().expect("store lock").compact();
                Reply::ok(&describe(c))
            }
            None => error(StatusCode::NOT_FOUND, format!("no cluster {n}")),
        },
        _ => error(StatusCode::NOT_FOUND, "unknown admin path"),
    }
}

pub async fn serve(clusters: Vec<Arc<SimCluster>>, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    let clusters = Arc::new(clusters);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let clusters = clusters.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let clusters = clusters.clone();
                        async move {
                            let req = read_request(req).await;
                            Ok::<_, Infallible>(to_response(handle(&clusters, &req)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        }
    }
}
