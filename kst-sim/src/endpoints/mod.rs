//! In-cluster HTTP endpoints reached through `pods/proxy` and `services/proxy`, as a real API
//! server forwards to a pod: model-server and EPP metrics, A2A agent cards.

pub mod authbridge;
pub mod dcgm;
pub mod epp;
pub mod mcp;
pub mod opencost;
pub mod vllm;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};

use super::http::{error, Reply, Request};
use super::resources;
use super::resources::ResPath;
use super::SimCluster;

const GARBAGE: &str =
    "<html><body>502 upstream hiccup</body></html>\nvllm:num_requests_running{{{ 12\n\u{0}\u{1}binary";

pub async fn proxy(cluster: &Arc<SimCluster>, req: &Request, p: &ResPath) -> Reply {
    let raw = p.name.clone().unwrap_or_default();
    // `name`, `name:port` or `scheme:name:port`
    let parts: Vec<&str> = raw.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [n] => (n.to_string(), None),
        [n, port] => (n.to_string(), Some(port.to_string())),
        [_, n, port] => (n.to_string(), Some(port.to_string())),
        _ => return error(StatusCode::BAD_REQUEST, "invalid proxy target"),
    };
    let ns = p.ns.clone().unwrap_or_default();
    let path = if p.rest.is_empty() { "/".to_string() } else { p.rest.clone() };
    let target = {
        let store = cluster.store.read().expect("store lock");
        if p.def.plural == "services" {
            let pods_idx = cluster.registry.index_of(&resources::PODS).expect("pods");
            let svc_idx = cluster.registry.index_of(&resources::SERVICES).expect("services");
            let Some(svc) = store.get(svc_idx, &ns, &name) else {
                return super::http::not_found("services", "", &name);
            };
            let svc = svc.value();
            // a Service the tests point at a real server on loopback (an A2A or MCP peer)
            if let Some(base) = svc["metadata"]["annotations"][FORWARD_TO].as_str() {
                Target::Forward(base.to_string())
            } else {
                let Some(port_no) = service_target_port(&svc, port.as_deref()) else {
                    return error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("no endpoints available for service \"{name}\""),
                    );
                };
                let selector: Vec<(String, String)> = svc["spec"]["selector"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
                    .unwrap_or_default();
                let pod = store.list(pods_idx, Some(&ns)).into_iter().find(|pod| {
                    !selector.is_empty()
                        && pod.phase == "Running"
                        && selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
                });
                match pod {
                    Some(pod) => Target::Pod(pod.value(), port_no),
                    None => {
                        return error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("no endpoints available for service \"{name}\""),
                        )
                    }
                }
            }
        } else {
            let pods_idx = cluster.registry.index_of(&resources::PODS).expect("pods");
            let Some(pod) = store.get(pods_idx, &ns, &name) else {
                return super::http::not_found("pods", "", &name);
            };
            let pod = pod.value();
            let port_no = match port.as_deref().map(str::parse::<u16>) {
                Some(Ok(n)) => n,
                None => first_port(&pod).unwrap_or(80),
                Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "invalid port"),
            };
            Target::Pod(pod, port_no)
        }
    };
    match target {
        Target::Forward(base) => forward(&base, &path, req).await,
        Target::Pod(pod, port) => serve_pod(cluster, req, &pod, port, &path).await,
    }
}

enum Target {
    Pod(Value, u16),
    Forward(String),
}

/// Annotation on a simulated Service: forward its proxy path to this base URL (`http://127.0.0.1:PORT`).
pub const FORWARD_TO: &str = "sim.kst.dev/forward-to";

/// Plain HTTP/1.1 to a loopback peer, as the API server would reach a pod.
async fn forward(base: &str, path: &str, req: &Request) -> Reply {
    use http_body_util::BodyExt;
    let Some(authority) = base.strip_prefix("http://").map(|a| a.trim_end_matches('/').to_string()) else {
        return error(StatusCode::BAD_GATEWAY, format!("cannot forward to {base}"));
    };
    let fail = |e: String| error(StatusCode::SERVICE_UNAVAILABLE, format!("error trying to reach service: {e}"));
    let stream = match tokio::net::TcpStream::connect(&authority).await {
        Ok(s) => s,
        Err(e) => return fail(format!("dial tcp {authority}: {e}")),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await {
        Ok(x) => x,
        Err(e) => return fail(e.to_string()),
    };
    tokio::spawn(conn);
    let mut b = http::Request::builder().method(req.method.clone()).uri(path).header("host", authority.as_str());
    for h in ["content-type", "accept", "mcp-session-id", "mcp-protocol-version", "if-none-match"] {
        if let Some(v) = req.headers.get(h) {
            b = b.header(h, v);
        }
    }
    let outgoing = match b.body(http_body_util::Full::new(req.body.clone())) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let resp = match sender.send_request(outgoing).await {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let status = resp.status();
    let ct = match resp.headers().get("content-type").and_then(|v| v.to_str().ok()) {
        Some(c) if c.starts_with("application/json") => "application/json",
        Some(c) if c.starts_with("text/event-stream") => "text/event-stream",
        _ => "text/plain",
    };
    let session = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    match resp.into_body().collect().await {
        Ok(body) => {
            let reply = Reply::text(status, ct, body.to_bytes());
            match session {
                Some(sid) => Reply::Headed(Box::new(reply), vec![("mcp-session-id", sid)]),
                None => reply,
            }
        }
        Err(e) => fail(e.to_string()),
    }
}

fn service_target_port(svc: &Value, port: Option<&str>) -> Option<u16> {
    let ports = svc["spec"]["ports"].as_array()?;
    let chosen = match port {
        None => ports.first()?,
        Some(p) => ports
            .iter()
            .find(|x| x["name"].as_str() == Some(p) || x["port"].as_u64().is_some_and(|n| n.to_string() == p))?,
    };
    chosen["targetPort"].as_u64().or_else(|| chosen["port"].as_u64()).map(|p| p as u16)
}

fn first_port(pod: &Value) -> Option<u16> {
    pod["spec"]["containers"][0]["ports"][0]["containerPort"].as_u64().map(|p| p as u16)
}

fn refused(pod: &Value, port: u16) -> Reply {
    let ip = pod["status"]["podIP"].as_str().unwrap_or("10.0.0.1");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"),
    )
}

/// Whether anything listens on the pod's `port`: a declared container port of a running pod
/// whose containers all run (a crash-looping or creating container listens on nothing).
pub(crate) fn listens(pod: &Value, port: u16) -> bool {
    let declared = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pod["spec"]["initContainers"].as_array().into_iter().flatten())
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .any(|p| p["containerPort"].as_u64() == Some(port as u64));
    let running = pod["status"]["containerStatuses"]
        .as_array()
        .is_some_and(|cs| cs.iter().all(|c| c["state"].get("running").is_some()));
    declared && pod["status"]["phase"] == "Running" && running
}

pub(super) async fn serve_pod(cluster: &Arc<SimCluster>, req: &Request, pod: &Value, port: u16, path: &str) -> Reply {
    if !listens(pod, port) {
        return refused(pod, port);
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let labels = &pod["metadata"]["labels"];
    let garbage = cluster.faults.garbage_metrics();
    match path {
        "/metrics" if labels["app"] == "nvidia-dcgm-exporter" && port == 9400 => {
            let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
            Reply::text(StatusCode::OK, "text/plain; version=0.0.4", dcgm::render(cluster, node))
        }
        "/allocation/compute" | "/allocation" if labels["app"] == "opencost" && port == 9003 => {
            let (status, body) = opencost::render(cluster, &req.query);
            Reply::json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), &body)
        }
        "/metrics" => {
            if labels["app.kubernetes.io/component"] == "epp" && port == 9090 {
                let pool = labels["inferencepool"].as_str().unwrap_or("").to_string();
                let (epp, elapsed) = {
                    let d = cluster.dynamics.lock().expect("dynamics");
                    (d.epps.get(&pool).cloned(), d.since_tick())
                };
                return match epp {
                    Some(e) if e.auth_required => error(StatusCode::UNAUTHORIZED, "Unauthorized"),
                    Some(_) if garbage => Reply::text(StatusCode::OK, "text/plain; version=0.0.4", GARBAGE),
                    Some(e) => Reply::text(StatusCode::OK, "text/plain; version=0.0.4", e.render_at(elapsed)),
                    None => refused(pod, port),
                };
            }
            let (engine, elapsed) = {
                let d = cluster.dynamics.lock().expect("dynamics");
                (d.engines.get(&name).cloned(), d.since_tick())
            };
            match engine {
                Some(e) if e.metrics_port == port => {
                    if e.state.hangs {
                        // Answers nothing for a long time, as a wedged exporter does.
                        tokio::time::sleep(Duration::from_secs(120)).await;
                    }
                    if garbage {
                        return Reply::text(StatusCode::OK, "text/plain; version=0.0.4", GARBAGE);
                    }
                    Reply::text(StatusCode::OK, "text/plain; version=0.0.4", e.state.render_at(elapsed))
                }
                _ => Reply::text(StatusCode::NOT_FOUND, "text/plain", "404 page not found\n"),
            }
        }
        "/.well-known/agent-card.json" | "/.well-known/agent.json" => {
            let app = labels["app.kubernetes.io/name"].as_str().unwrap_or("");
            let card = cluster.dynamics.lock().expect("dynamics").cards.get(app).cloned();
            match card {
                Some(c) => Reply::ok(&c),
                None => Reply::json(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"})),
            }
        }
        "/mcp" | "/sse" | "/messages" | "/messages/" => {
            let app = labels["app.kubernetes.io/name"].as_str().unwrap_or("");
            let cat = match mcp::catalogue(app) {
                Some(c) if c.legacy == (path != "/mcp") => c,
                _ => return Reply::text(StatusCode::NOT_FOUND, "text/plain", "404 page not found\n"),
            };
            let mut d = cluster.dynamics.lock().expect("dynamics");
            let id = d.rng.suffix(32);
            match (path, &req.method) {
                ("/mcp", _) => mcp::serve(&cat, req, &mut d.mcp_sessions, || id),
                ("/sse", &http::Method::GET) => mcp::legacy_open(&mut d.mcp_streams, id),
                (_, &http::Method::POST) if path != "/sse" => mcp::legacy_post(&cat, req, &d.mcp_streams),
                _ => Reply::text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "Method Not Allowed"),
            }
        }
        "/stats" if port == 9093 => {
            let d = cluster.dynamics.lock().expect("dynamics");
            Reply::ok(&d.bridge.get(&name).cloned().unwrap_or_default().render())
        }
        "/healthz" | "/health" => Reply::text(StatusCode::OK, "text/plain", "ok"),
        _ => Reply::text(StatusCode::NOT_FOUND, "text/plain", "404 page not found\n"),
    }
}
