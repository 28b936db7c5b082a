//! Port-forwards (k9s' `Shift-f`), guarded as writes: the API server is asked first whether
//! this user may forward to the pod, they are refused in read-only and kiosk mode, and each
//! start and stop is audited. A forward listens on 127.0.0.1 (the pod's port number when it is
//! free, else one the system picks) and opens one `pods/portforward` stream per connection, as
//! kubectl does; it lives until it is stopped or kst exits.
//!
//! The stream is kube's WebSocket port-forward, which needs HTTP/1.1 (an upgrade): each forward
//! has its own kube client, not the collectors' HTTP/2 one.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{toggle, Writer};
use crate::audit;
use crate::sources::connect::Target;
pub use crate::store::views::ForwardState;
use crate::store::Update;

/// The pod and port a forward was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardTarget {
    pub cluster: usize,
    pub namespace: String,
    pub pod: String,
    /// The ports the pod's containers declare, in their order.
    pub ports: Vec<u16>,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub enum ForwardRequest {
    /// May this user forward to the pod? Answered with `Update::ForwardChecked`.
    Check { id: u64, target: ForwardTarget },
    /// Confirmed: listen and forward. Answered with `Update::Forwarding`.
    Start { id: u64, target: ForwardTarget },
    /// Stop a forward (the user closed it).
    Stop { id: u64 },
    /// Not started (read-only, kiosk, cancelled): only the audit line.
    Refused { target: ForwardTarget, why: String },
}

impl ForwardRequest {
    /// The cluster it is about; a stop names only its forward.
    pub(super) fn cluster(&self) -> Option<usize> {
        match self {
            ForwardRequest::Check { target, .. }
            | ForwardRequest::Start { target, .. }
            | ForwardRequest::Refused { target, .. } => Some(target.cluster),
            ForwardRequest::Stop { .. } => None,
        }
    }

    pub(super) fn failed(&self, msg: String) -> Option<Update> {
        match self {
            ForwardRequest::Check { id, target } => {
                Some(Update::ForwardChecked { cluster: target.cluster, id: *id, allowed: false, reason: msg })
            }
            ForwardRequest::Start { id, target } => {
                Some(Update::Forwarding { cluster: target.cluster, id: *id, state: ForwardState::Failed(msg) })
            }
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct ForwardAudit<'a> {
    #[serde(flatten)]
    who: audit::Who<'a>,
    namespace: &'a str,
    pod: &'a str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<String>,
    result: &'a str,
}

fn audit_line(w: &Writer, t: &ForwardTarget, local: Option<SocketAddr>, result: &str) {
    w.append(&ForwardAudit {
        who: w.who("port-forward"),
        namespace: &t.namespace,
        pod: &t.pod,
        port: t.port,
        local: local.map(|l| l.to_string()),
        result,
    });
}

/// kube's own HTTP/1.1 client for `target` (an upgrade cannot ride an HTTP/2 stream).
async fn http1_client(target: &Target) -> Result<kube::Client, String> {
    let opts = kube::config::KubeConfigOptions { context: Some(target.context.clone()), ..Default::default() };
    let cfg =
        kube::Config::from_custom_kubeconfig((*target.kubeconfig).clone(), &opts).await.map_err(|e| e.to_string())?;
    kube::Client::try_from(cfg).map_err(|e| e.to_string())
}

/// The pod's port number on loopback when free, else one the system picks.
async fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        Err(_) => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await,
    }
}

/// One forward: accept, and give each connection its own port-forward stream to the pod.
async fn run(
    client: kube::Client,
    listener: tokio::net::TcpListener,
    t: ForwardTarget,
    id: u64,
    updates: mpsc::Sender<Update>,
) {
    let local = listener.local_addr().ok();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, &t.namespace);
    let (done_tx, mut done_rx) = mpsc::channel::<Option<String>>(16);
    let mut connections = 0;
    let mut error = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut conn, _)) = accepted else {
                    // out of descriptors, say: try again a little later rather than spin
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                };
                connections += 1;
                let (pods, pod, port, done) = (pods.clone(), t.pod.clone(), t.port, done_tx.clone());
                tokio::spawn(async move {
                    let r = async {
                        let mut pf = pods.portforward(&pod, &[port]).await.map_err(|e| e.to_string())?;
                        let mut stream = pf.take_stream(port).ok_or("no stream for the port")?;
                        tokio::io::copy_bidirectional(&mut conn, &mut stream).await.map_err(|e| e.to_string())?;
                        drop(stream);
                        // the bytes went both ways: how the WebSocket then closed (the pod's end
                        // closing first reads as "sending after closing" to kube) is no failure
                        if let Err(e) = pf.join().await {
                            tracing::debug!(error = %e, "port-forward stream closed");
                        }
                        Ok::<(), String>(())
                    }
                    .await;
                    let _ = done.send(r.err()).await;
                });
            }
            Some(e) = done_rx.recv() => {
                if e.is_none() {
                    continue;
                }
                error = e;
            }
        }
        if let Some(local) = local {
            let state = ForwardState::Listening { local, connections, error: error.clone() };
            if updates.send(Update::Forwarding { cluster: t.cluster, id, state }).await.is_err() {
                return;
            }
        }
    }
}

/// The forwards running, by id: stopped when asked, and all of them when kst exits (the
/// runtime drops their tasks, which closes the listeners).
#[derive(Default)]
pub(super) struct Forwards {
    running: BTreeMap<u64, (tokio::task::JoinHandle<()>, ForwardTarget, Option<SocketAddr>)>,
}

impl Forwards {
    /// A stop needs no client: the forward's own task holds it.
    pub(super) fn stop(&mut self, w: Option<&Writer<'_>>, id: u64) {
        if let Some((task, target, local)) = self.running.remove(&id) {
            task.abort();
            if let Some(w) = w {
                audit_line(w, &target, local, "stopped");
            }
        }
    }

    pub(super) fn cluster_of(&self, id: u64) -> Option<usize> {
        self.running.get(&id).map(|(_, t, _)| t.cluster)
    }

    pub(super) async fn handle(
        &mut self,
        client: &kube::Client,
        w: &Writer<'_>,
        req: ForwardRequest,
        updates: &mpsc::Sender<Update>,
    ) -> Option<Update> {
        match req {
            ForwardRequest::Check { id, target } => {
                let (allowed, reason) =
                    match toggle::may_stream(client, &target.namespace, &target.pod, "portforward").await {
                        Ok(x) => x,
                        Err(e) => (false, format!("could not ask the API server: {e}")),
                    };
                if !allowed {
                    audit_line(w, &target, None, &format!("denied: {reason}"));
                }
                Some(Update::ForwardChecked { cluster: target.cluster, id, allowed, reason })
            }
            ForwardRequest::Start { id, target } => {
                let started = async {
                    let client = http1_client(w.target).await?;
                    let listener = listen(target.port).await.map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
                    let local = listener.local_addr().map_err(|e| e.to_string())?;
                    Ok::<_, String>((client, listener, local))
                }
                .await;
                let state = match started {
                    Ok((client, listener, local)) => {
                        audit_line(w, &target, Some(local), "started");
                        let task = tokio::spawn(run(client, listener, target.clone(), id, updates.clone()));
                        self.running.insert(id, (task, target.clone(), Some(local)));
                        ForwardState::Listening { local, connections: 0, error: None }
                    }
                    Err(e) => {
                        audit_line(w, &target, None, &format!("failed: {e}"));
                        ForwardState::Failed(e)
                    }
                };
                Some(Update::Forwarding { cluster: target.cluster, id, state })
            }
            ForwardRequest::Stop { id } => {
                self.stop(Some(w), id);
                None
            }
            ForwardRequest::Refused { target, why } => {
                audit_line(w, &target, None, &format!("refused: {why}"));
                None
            }
        }
    }
}

/// Audited when no client could be had for the cluster.
pub(super) fn audit_unsent(w: &Writer, req: &ForwardRequest, msg: &str) {
    match req {
        ForwardRequest::Check { target, .. } | ForwardRequest::Start { target, .. } => {
            audit_line(w, target, None, &format!("failed: {msg}"))
        }
        ForwardRequest::Refused { target, why } => audit_line(w, target, None, &format!("refused: {why}")),
        ForwardRequest::Stop { .. } => {}
    }
}
/// A port-forward the user started: what it forwards, and what the actions task last said of it
/// (None: starting).
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub id: u64,
    pub target: ForwardTarget,
    pub context: String,
    pub state: Option<crate::store::views::ForwardState>,
}
