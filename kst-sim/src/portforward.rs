//! `pods/portforward` over the plain WebSocket protocol the kubelet serves
//! (`v4.channel.k8s.io`: ports in the query, data channel `2i` and error channel `2i+1` per
//! port, each channel's first message the port as u16 little-endian), which kube-rs speaks.
//! Behind each port is what the pod serves there, as the pod proxy serves it: an HTTP/1.1
//! server on an in-memory pipe. kubectl 1.31+ tunnels SPDY/3.1 in the WebSocket instead
//! (`SPDY/3.1+portforward.k8s.io`): one pair of streams (error, data) per local connection,
//! the port in their headers. Sources: `docs/upstream/kubernetes-exec-portforward.md` §5.

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
use super::spdy::{self, Frame};
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
    if websocket::offers(req, spdy::TUNNEL_PROTOCOL) {
        let cluster = cluster.clone();
        return websocket::switch(req, spdy::TUNNEL_PROTOCOL, move |ws| tunnel(ws, cluster, pod));
    }
    if !websocket::offers(req, PROTOCOL) {
        // kubectl's plain SPDY fallback (POST, Upgrade: SPDY/3.1) is not served
        return error(
            StatusCode::BAD_REQUEST,
            format!("the simulator serves port-forward over WebSocket only ({PROTOCOL} or {})", spdy::TUNNEL_PROTOCOL),
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

/// A data stream's two ends: what the client sends goes to the pod's server, what the
/// server answers is copied back by a task of its own.
struct DataStream {
    to_pod: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    copy_back: tokio::task::JoinHandle<()>,
}

/// kubectl's SPDY tunnel: per local connection an error stream then a data stream with the
/// same `requestid`, each answered with SYN_REPLY. When the pod's side ends, the data stream
/// ends (FIN) and then the error stream, empty: kubectl waits for both before it drops the
/// connection. PINGs are echoed.
async fn tunnel<S>(ws: WebSocketStream<S>, cluster: Arc<SimCluster>, pod: Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let (mut reader, mut writer) = (spdy::Reader::default(), spdy::Writer::default());
    let mut error_streams = std::collections::HashMap::<String, u32>::new();
    let mut data_streams = std::collections::HashMap::<u32, DataStream>::new();
    'session: loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    reader.push(&bytes);
                    loop {
                        let frame = match reader.next_frame() {
                            Ok(Some(f)) => f,
                            Ok(None) => break,
                            Err(e) => {
                                tracing::debug!("port-forward tunnel: {e}");
                                break 'session;
                            }
                        };
                        let reply = match frame {
                            Frame::SynStream { id, headers } => {
                                let request = spdy::header(&headers, "requestid").to_string();
                                if spdy::header(&headers, "streamtype") == "data" {
                                    let port = spdy::header(&headers, "port").parse().unwrap_or(0);
                                    let error_id = error_streams.remove(&request);
                                    let stream = open(&cluster, &pod, port, id, error_id, out_tx.clone());
                                    data_streams.insert(id, stream);
                                } else {
                                    error_streams.insert(request, id);
                                }
                                Some(writer.syn_reply(id))
                            }
                            Frame::Data { id, fin, data } => {
                                if let Some(s) = data_streams.get_mut(&id) {
                                    if s.to_pod.write_all(&data).await.is_err() || fin {
                                        let _ = s.to_pod.shutdown().await;
                                    }
                                }
                                None
                            }
                            Frame::RstStream { id } => {
                                if let Some(s) = data_streams.remove(&id) {
                                    s.copy_back.abort();
                                }
                                None
                            }
                            Frame::Ping(id) => Some(spdy::ping(id)),
                            Frame::GoAway => break 'session,
                            Frame::Ignored => None,
                        };
                        if let Some(frame) = reply {
                            if tx.send(Message::Binary(frame.into())).await.is_err() {
                                break 'session;
                            }
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(frame) = out_rx.recv() => {
                if tx.send(Message::Binary(frame.into())).await.is_err() {
                    break;
                }
            }
        }
    }
    for (_, s) in data_streams {
        s.copy_back.abort();
    }
    let _ = tx.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }))).await;
}

/// A data stream to what the pod serves on `port`; its answers go back as DATA frames, then
/// the data stream's FIN and the error stream's (empty: no error).
fn open(
    cluster: &Arc<SimCluster>,
    pod: &Value,
    port: u16,
    id: u32,
    error_id: Option<u32>,
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> DataStream {
    let (mut from_pod, to_pod) = tokio::io::split(pod_server(cluster.clone(), pod.clone(), port));
    if !super::endpoints::listens(pod, port) {
        // as the kubelet says it (kubelet/cri/streaming/portforward): on the error stream,
        // which kubectl prints; then both streams end
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let msg = format!(
            "error forwarding port {port} to pod {uid}, uid : failed to execute portforward in network namespace: dial tcp4 127.0.0.1:{port}: connect: connection refused"
        );
        let copy_back = tokio::spawn(async move {
            let _ = out.send(spdy::data(id, true, &[])).await;
            if let Some(e) = error_id {
                let _ = out.send(spdy::data(e, false, msg.as_bytes())).await;
                let _ = out.send(spdy::data(e, true, &[])).await;
            }
        });
        return DataStream { to_pod, copy_back };
    }
    let copy_back = tokio::spawn(async move {
        let mut buf = vec![0u8; spdy::MAX_DATA];
        while let Ok(n) = from_pod.read(&mut buf).await {
            if n == 0 || out.send(spdy::data(id, false, &buf[..n])).await.is_err() {
                break;
            }
        }
        let _ = out.send(spdy::data(id, true, &[])).await;
        if let Some(e) = error_id {
            let _ = out.send(spdy::data(e, true, &[])).await;
        }
    });
    DataStream { to_pod, copy_back }
}
