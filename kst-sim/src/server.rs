//! Accepting connections for one simulated API server (TLS or plain HTTP/1.1), and the
//! "unreachable" fault: the listener closes and open connections drop, so clients see
//! connection refused until the fault is lifted.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::http::{read_request, to_response, Reply, Request};
use super::{api, SimCluster};

async fn serve_conn<S>(cluster: Arc<SimCluster>, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut down = cluster.faults.watch_unreachable();
    let svc = hyper::service::service_fn(move |req| {
        let cluster = cluster.clone();
        async move {
            // a request that arrives on a kept-alive connection after the fault is switched on,
            // before this connection's task has seen it: the connection drops, no answer
            if cluster.faults.unreachable() {
                return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "unreachable"));
            }
            let req = read_request(req).await;
            Ok::<_, std::io::Error>(to_response(api::handle(cluster, req).await))
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    // with upgrades: `kubectl exec` switches the connection to a WebSocket
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = async { while down.changed().await.is_ok() { if *down.borrow() { return } } } => {}
    }
}

/// A second descriptor of an accepted connection's socket (the connection itself is moved into
/// TLS and hyper).
fn socket_of(stream: &tokio::net::TcpStream) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::AsFd;
    stream.as_fd().try_clone_to_owned()
}

pub async fn serve_cluster(
    cluster: Arc<SimCluster>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let addr = listener.local_addr().expect("bound");
    let mut listener = Some(listener);
    let mut down = cluster.faults.watch_unreachable();
    loop {
        if *down.borrow() {
            // Closed port: connection refused, as for a dead API server.
            listener = None;
            tokio::select! {
                _ = shutdown.changed() => return,
                r = down.changed() => if r.is_err() { return },
            }
            continue;
        }
        let l = match &listener {
            Some(l) => l,
            None => match TcpListener::bind(addr).await {
                Ok(l) => listener.insert(l),
                Err(e) => {
                    tracing::warn!(cluster = %cluster.name, error = %e, "sim: rebind failed, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = down.changed() => continue,
            accepted = l.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let cluster = cluster.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    // the socket kept apart, for the `reset_connections` fault
                    let Ok(socket) = socket_of(&stream) else { return };
                    let mut reset = cluster.faults.reset_epoch();
                    let served = async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(s) = acceptor.accept(stream).await {
                                    serve_conn(cluster, s).await;
                                }
                            }
                            None => serve_conn(cluster, stream).await,
                        }
                    };
                    tokio::select! {
                        _ = served => {}
                        _ = reset.changed() => {
                            // closed with a zero linger: a TCP RST instead of a FIN (the last
                            // descriptor, this one, closes once the connection's is dropped)
                            let _ = socket2::SockRef::from(&socket).set_linger(Some(std::time::Duration::ZERO));
                        }
                    }
                });
            }
        }
    }
}

/// OCM cluster-proxy's user server (the "service proxy" of cluster-proxy v0.9): a request for
/// `/<cluster>/<kubernetes path>` with a hub token is sent to that managed cluster's API server
/// as the hub user's counterpart there (admin for the hub's admin, viewer for its viewer), as
/// the proxy impersonates a service account on the managed cluster. Unknown clusters are 404,
/// other tokens 401, an unreachable cluster 502.
pub async fn serve_cluster_proxy(
    hub: Arc<SimCluster>,
    clusters: Vec<Arc<SimCluster>>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let clusters = Arc::new(clusters);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (hub, clusters, tls) = (hub.clone(), clusters.clone(), tls.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (hub, clusters) = (hub.clone(), clusters.clone());
                        async move { Ok::<_, std::io::Error>(to_response(proxy(hub, &clusters, read_request(req).await).await)) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        }
    }
}

async fn proxy(hub: Arc<SimCluster>, clusters: &[Arc<SimCluster>], mut req: Request) -> Reply {
    let text = |status: hyper::StatusCode, msg: String| Reply::text(status, "text/plain; charset=utf-8", msg);
    let path = req.path.trim_start_matches('/').to_string();
    let (name, rest) = path.split_once('/').unwrap_or((path.as_str(), ""));
    let token = req
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let as_token = if token == hub.admin_token() {
        |c: &SimCluster| c.admin_token().to_string()
    } else if token == hub.viewer_token() {
        |c: &SimCluster| c.viewer_token().to_string()
    } else {
        return text(hyper::StatusCode::UNAUTHORIZED, "Unauthorized".into());
    };
    let Some(target) = clusters.iter().find(|c| c.name == name && !c.shape.control_plane()) else {
        // a ManagedCluster with no API server behind it here: its proxy agent never connected
        let managed = {
            let store = hub.store.read().expect("store lock");
            hub.registry
                .index_of(&super::resources::MANAGED_CLUSTERS)
                .is_some_and(|i| store.list(i, None).iter().any(|m| m.name == name))
        };
        return if managed {
            text(hyper::StatusCode::BAD_GATEWAY, format!("failed to dial cluster {name}: no proxy agent connected"))
        } else {
            text(hyper::StatusCode::NOT_FOUND, format!("cluster {name:?} is not a managed cluster of this hub"))
        };
    };
    if target.faults.unreachable() {
        return text(hyper::StatusCode::BAD_GATEWAY, format!("failed to dial cluster {name}: connection refused"));
    }
    req.path = format!("/{rest}");
    let bearer = format!("Bearer {}", as_token(target));
    if let Ok(v) = hyper::header::HeaderValue::from_str(&bearer) {
        req.headers.insert(hyper::header::AUTHORIZATION, v);
    }
    super::api::handle(target.clone(), req).await
}
