//! Accepting connections for one simulated API server (TLS or plain HTTP/1.1), and the
//! "unreachable" fault: the listener closes and open connections drop, so clients see
//! connection refused until the fault is lifted.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::http::{parse_query, Reply, Request};
use super::{api, SimCluster};

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub fn to_response(reply: Reply) -> hyper::Response<Body> {
    if let Reply::Headed(inner, headers) = reply {
        let mut resp = to_response(*inner);
        for (k, v) in headers {
            if let Ok(v) = http::HeaderValue::from_str(&v) {
                resp.headers_mut().insert(k, v);
            }
        }
        return resp;
    }
    let (status, ct, body) = match reply {
        Reply::Bytes { status, content_type, body } => (status, content_type, Full::new(body).boxed_unsync()),
        Reply::Stream { status, content_type, body } => {
            (status, content_type, StreamBody::new(body.map(|r| r.map(Frame::data))).boxed_unsync())
        }
        Reply::Headed(..) => unreachable!("unwrapped above"),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", ct)
        .header("cache-control", "no-cache, private")
        .body(body)
        .expect("valid response")
}

pub async fn read_request(req: hyper::Request<Incoming>) -> Request {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Request {
        method: parts.method,
        path: super::http::percent_decode(parts.uri.path()),
        query: parse_query(parts.uri.query().unwrap_or("")),
        headers: parts.headers,
        body,
    }
}

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
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = async { while down.changed().await.is_ok() { if *down.borrow() { return } } } => {}
    }
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
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve_conn(cluster, s).await;
                            }
                        }
                        None => serve_conn(cluster, stream).await,
                    }
                });
            }
        }
    }
}
