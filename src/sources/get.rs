//! One GET through the API server (proxy paths, discovery) with a timeout and a size cap,
//! for every collector that reads an in-cluster endpoint: a wedged or huge endpoint costs its
//! caller the timeout or the cap, never unbounded time or memory.

use std::time::Duration;

use http_body_util::BodyExt;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum GetError {
    /// No complete answer within this many seconds.
    Timeout(u64),
    /// A non-2xx status, with the API server's (or the endpoint's) message.
    Status(u16, String),
    /// The body passed the cap (bytes).
    TooLarge(usize),
    Transport(String),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Timeout(s) => write!(f, "no answer within {s}s"),
            GetError::Status(c, m) => write!(f, "HTTP {c}: {m}"),
            GetError::TooLarge(cap) => write!(f, "larger than {} KiB", cap / 1024),
            GetError::Transport(m) => f.write_str(m),
        }
    }
}

pub async fn get_capped(client: &kube::Client, path: &str, cap: usize, timeout: Duration) -> Result<Vec<u8>, GetError> {
    let req =
        http::Request::get(path).body(kube::client::Body::empty()).map_err(|e| GetError::Transport(e.to_string()))?;
    let fut = async {
        let resp =
            client.send(req).await.map_err(|e| GetError::Transport(e.to_string().chars().take(200).collect()))?;
        let status = resp.status();
        let mut body = resp.into_body();
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| GetError::Transport(e.to_string()))?;
            if let Some(d) = frame.data_ref() {
                out.extend_from_slice(d);
                if out.len() > cap {
                    return Err(GetError::TooLarge(cap));
                }
            }
        }
        if !status.is_success() {
            let msg = serde_json::from_slice::<Value>(&out)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&out).chars().take(200).collect());
            return Err(GetError::Status(status.as_u16(), msg.chars().take(200).collect()));
        }
        Ok(out)
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| GetError::Timeout(timeout.as_secs().max(1)))?
}
