//! `pods/log`: deterministic log lines per container, `tailLines`, `previous`, and `follow`
//! streaming new lines until the client goes away.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use tokio::sync::mpsc;

use super::http::{error, not_found, Reply, Request};
use super::resources::ResPath;
use super::SimCluster;

const MESSAGES: &[&str] = &[
    "INFO:     127.0.0.1:43210 - \"POST /v1/completions HTTP/1.1\" 200 OK",
    "INFO:     Avg prompt throughput: 812.4 tokens/s, Avg generation throughput: 241.7 tokens/s",
    "DEBUG    scheduler: running=12 waiting=0 kv_cache_usage=0.61",
    "INFO:     127.0.0.1:43212 - \"GET /metrics HTTP/1.1\" 200 OK",
    "WARNING  prefix cache miss for request, recomputing 512 tokens",
    "INFO     agent: handled task in 1.82s (tool calls: 2)",
];

/// The `n`th line a container prints: the same for every reader, so tests can look for it.
pub fn log_line(pod: &str, container: &str, previous: bool, n: u64) -> String {
    let ts = jiff::Timestamp::from_second(1_763_625_600 + n as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let msg = MESSAGES[(n as usize + pod.len()) % MESSAGES.len()];
    let gen = if previous { "previous" } else { "current" };
    format!("{ts} [{pod}/{container} {gen} #{n}] {msg}")
}

pub async fn serve(cluster: &Arc<SimCluster>, req: &Request, p: &ResPath) -> Reply {
    let ns = p.ns.clone().unwrap_or_default();
    let name = p.name.clone().unwrap_or_default();
    let pod = {
        let store = cluster.store.read().expect("store lock");
        store.get(p.res, &ns, &name)
    };
    let Some(pod) = pod else {
        return not_found("pods", "", &name);
    };
    let v = pod.value();
    let containers: Vec<String> = v["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let container = match req.param("container") {
        Some(c) if containers.iter().any(|x| x == c) => c.to_string(),
        Some(c) => {
            return error(StatusCode::BAD_REQUEST, format!("container {c} is not valid for pod {name}"));
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("a container name must be specified for pod {name}, choose one of: [{}]", containers.join(" ")),
            )
        }
    };
    let previous = req.flag("previous");
    // `timestamps=true`: the API server puts the kubelet's RFC3339Nano time before each line
    let stamp = req.flag("timestamps");
    let stamped = move |line: String| -> String {
        if stamp {
            format!("{} {line}", jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        } else {
            line
        }
    };
    if previous {
        let restarts = v["status"]["containerStatuses"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == container.as_str()))
            .and_then(|s| s["restartCount"].as_i64())
            .unwrap_or(0);
        if restarts == 0 {
            return error(
                StatusCode::BAD_REQUEST,
                format!("previous terminated container \"{container}\" in pod \"{name}\" not found"),
            );
        }
    }
    // Lines so far grow with time, so a later read sees more.
    let written = cluster.log_lines_written();
    let tail = req.param("tailLines").and_then(|t| t.parse::<u64>().ok());
    let first = tail.map_or(0, |t| written.saturating_sub(t));
    let mut text = String::new();
    for n in first..written {
        text.push_str(&stamped(log_line(&name, &container, previous, n)));
        text.push('\n');
    }
    if !req.flag("follow") || previous {
        return Reply::text(StatusCode::OK, "text/plain", text);
    }
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let cluster = cluster.clone();
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let mut next = written;
        let mut tick = tokio::time::interval(cluster.log_interval);
        let mut down = cluster.faults.watch_unreachable();
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                _ = down.changed() => if *down.borrow() { return },
                _ = tick.tick() => {
                    let upto = cluster.log_lines_written().max(next + 1);
                    let mut chunk = String::new();
                    for n in next..upto {
                        chunk.push_str(&stamped(log_line(&name, &container, false, n)));
                        chunk.push('\n');
                    }
                    next = upto;
                    if tx.send(Bytes::from(chunk)).await.is_err() { return }
                }
            }
        }
    });
    Reply::Stream {
        status: StatusCode::OK,
        content_type: "text/plain",
        body: Box::pin(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) })),
    }
}
