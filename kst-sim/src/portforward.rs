//! `pods/portforward` over the plain WebSocket protocol the kubelet serves
//! (`v4.channel.k8s.io`: ports in the query, data channel `2i` and error channel `2i+1` per
//! port, each channel's first message the port as u16 little-endian), which kube-rs speaks.
//! Behind each port is what the pod serves there, as the pod proxy serves it: an HTTP/1.1
//! server on an in-memory pipe. kubectl 1.32 tunnels SPDY/3.1 instead, which the simulator
//! does not speak: it gets a `Status` saying so. Sources:
//! `docs/upstream/kubernetes-exec-portforward.md` §5.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use http::StatusCode;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::http::{error, Reply, Request};
use super::resources::ResPath;
use super::websocket;
use super::SimCluster;

const PROTOCOL: &str = "v4.channel.k8s.io";

/// The ports asked for: `ports=80,8000` or the key repeated.
fn ports(req: &Request) -> Result<Vec<u16>, Reply> {
    let mut out = Vec::new();
    for v in req.query_all("ports") {
        for p in v.split(',').filter(|p| !p.is_empty()) {
            match p.trim().parse::<u16>() {
                Ok(n) if n > 0 => out.push(n),
                _ => return Err(error(StatusCode::BAD_REQUEST, format!("unable to parse \"{p}\" as a port"))),
            }
        }
    }
    if out.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "query parameter \"port\" is required"));
    }
    Ok(out)
}

pub fn serve(cluster: &Arc<SimCluster>, req: &Request, p: &ResPath) -> Reply {
    let name = p.name.as_deref().unwrap_or("");
    let pod = match websocket::pod_of(cluster, p) {
        Ok(pod) => pod,
        Err(r) => return r,
    };
    if pod["status"]["phase"] != "Running" {
        return error(StatusCode::BAD_REQUEST, format!("pod {name} is not running"));
    }
    if !websocket::offers(req, PROTOCOL) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "the simulator serves port-forward over the WebSocket protocol {PROTOCOL} only (kubectl 1.32 tunnels SPDY/3.1, which it does not speak)"
            ),
        );
    }
    let ports = match ports(req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let cluster = cluster.clone();
    websocket::switch(req, PROTOCOL, move |ws| session(ws, cluster, pod, ports))
}

/// What the pod serves on `port`, on one end of a pipe: HTTP/1.1, as its proxy path serves it.
fn pod_server(cluster: Arc<SimCluster>, pod: Value, port: u16) -> tokio::io::DuplexStream {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let svc = hyper::service::service_fn(move |req| {
            let (cluster, pod) = (cluster.clone(), pod.clone());
            async move {
                let req = super::http::read_request(req).await;
                let path = match req.raw_query.is_empty() {
                    true => req.path.clone(),
                    false => format!("{}?{}", req.path, req.raw_query),
                };
                let reply = super::endpoints::serve_pod(&cluster, &req, &pod, port, &path).await;
                Ok::<_, std::convert::Infallible>(super::http::to_response(reply))
            }
        });
        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), svc).await;
    });
    client
}

async fn session<S>(ws: WebSocketStream<S>, cluster: Arc<SimCluster>, pod: Value, ports: Vec<u16>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    // every channel first says which port it carries
    for (i, port) in ports.iter().enumerate() {
        for ch in [2 * i as u8, 2 * i as u8 + 1] {
            let [lo, hi] = port.to_le_bytes();
            if tx.send(Message::Binary(vec![ch, lo, hi].into())).await.is_err() {
                return;
            }
        }
    }
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<(u8, Vec<u8>)>(16);
    let mut writers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let (mut read, write) = tokio::io::split(pod_server(cluster.clone(), pod.clone(), *port));
        writers.push(write);
        let out_tx = out_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = read.read(&mut buf).await {
                if n == 0 || out_tx.send((2 * i as u8, buf[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(out_tx);
    loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(data))) => {
                    let (Some(&ch), rest) = (data.first(), &data[1..]) else { continue };
                    // data channels only: the client writes nothing on the error channels
                    if ch % 2 == 0 {
                        if let Some(w) = writers.get_mut(ch as usize / 2) {
                            if w.write_all(rest).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            out = out_rx.recv() => match out {
                Some((ch, bytes)) => {
                    let mut m = Vec::with_capacity(bytes.len() + 1);
                    m.push(ch);
                    m.extend_from_slice(&bytes);
                    if tx.send(Message::Binary(m.into())).await.is_err() {
                        break;
                    }
                }
                // every port's server is done
                None => break,
            },
        }
    }
    // a normal close, then the client's answer to it: dropping the connection at once would
    // read as an error on the client's side
    let _ = tx.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }))).await;
    let drain = async { while let Some(Ok(_)) = rx.next().await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
}
