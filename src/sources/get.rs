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
    /// The API server itself refused this user (a 403 `Status` with reason `Forbidden`), as
    /// opposed to the endpoint behind a proxy answering 403 of its own.
    Forbidden(String),
    /// The body passed the cap (bytes).
    TooLarge(usize),
    Transport(String),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Timeout(s) => write!(f, "no answer within {s}s"),
            GetError::Status(c, m) => write!(f, "HTTP {c}: {m}"),
            GetError::Forbidden(m) => write!(f, "forbidden: {m}"),
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
            let v = serde_json::from_slice::<Value>(&out).ok();
            let msg = v
                .as_ref()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&out).chars().take(200).collect());
            let msg: String = msg.chars().take(200).collect();
            let refused = status.as_u16() == 403
                && v.as_ref().is_some_and(|v| v["kind"] == "Status" && v["reason"] == "Forbidden");
            return Err(if refused { GetError::Forbidden(msg) } else { GetError::Status(status.as_u16(), msg) });
        }
        Ok(out)
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| GetError::Timeout(timeout.as_secs().max(1)))?
}

/// The API server's proxies a cluster's readers share (`pods/proxy` for model servers,
/// exporters and AuthBridge stats; `services/proxy` for endpoint pickers): a refusal (403
/// `Forbidden` from the API server) by any reader marks it forbidden at once, and then nothing
/// is sent through it until a backoff step (from the refresh to a minute) has passed, as a
/// forbidden watch waits. An answer that is not a refusal opens it again.
pub struct ProxyGate {
    refresh: Duration,
    state: std::sync::Mutex<
        std::collections::BTreeMap<&'static str, (super::backoff::Backoff, Option<tokio::time::Instant>)>,
    >,
}

impl ProxyGate {
    pub fn new(refresh: Duration) -> ProxyGate {
        ProxyGate { refresh, state: Default::default() }
    }
    /// `pods/proxy` or `services/proxy` for a proxy path.
    pub fn kind_of(path: &str) -> Option<&'static str> {
        if !path.contains("/proxy") {
            None
        } else if path.contains("/pods/") {
            Some("pods/proxy")
        } else if path.contains("/services/") {
            Some("services/proxy")
        } else {
            None
        }
    }
    /// May a request go through this proxy now? A refused proxy whose backoff has passed lets
    /// one request through (the probe) and holds the others until its answer comes, or for a
    /// refresh if none does: a round of scrapes in flight at once would otherwise all be sent
    /// (9 in 20 s on a loaded machine, where one per backoff step is the budget).
    pub fn open(&self, kind: &'static str) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now();
        match st.get_mut(kind) {
            Some((_, Some(until))) if now < *until => false,
            Some((_, Some(until))) => {
                *until = now + self.refresh.max(Duration::from_secs(1));
                true
            }
            _ => true,
        }
    }
    /// The proxies refused now.
    pub fn refused(&self) -> Vec<&'static str> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.iter().filter(|(_, (_, until))| until.is_some()).map(|(k, _)| *k).collect()
    }
    /// An access review says it is allowed again: the next request goes through (and its
    /// answer says whether it really is).
    pub fn reopen(&self, kind: &'static str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, until)) = st.get_mut(kind) {
            if until.is_some() {
                *until = Some(tokio::time::Instant::now());
            }
        }
    }
    /// An answer through it: refused or not. Some(forbidden) when that changes what is known.
    pub fn answered(&self, kind: &'static str, refused: bool) -> Option<bool> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let seed = kind.len() as u64 * 7919;
        let refresh = self.refresh.max(Duration::from_millis(500));
        let (backoff, until) = st
            .entry(kind)
            .or_insert_with(|| (super::backoff::Backoff::new(refresh, Duration::from_secs(60), seed), None));
        let was = until.is_some();
        if refused {
            *until = Some(tokio::time::Instant::now() + backoff.step());
        } else if was {
            *until = None;
            backoff.reset();
        }
        (was != refused).then_some(refused)
    }
}

/// How kst checks the certificate of a server outside the clusters (a query layer, an
/// Alertmanager): the system's roots, plus a CA the config names, or (asked for explicitly)
/// not at all.
#[derive(Clone, Default, PartialEq)]
pub struct Tls {
    /// PEM of extra CA certificates (`ca_file`), read at start.
    pub ca_pem: Option<Vec<u8>>,
    /// `insecure_skip_verify = true`: any certificate is taken (a lab, never by default).
    pub insecure: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("ca", &self.ca_pem.is_some()).field("insecure", &self.insecure).finish()
    }
}

impl Tls {
    /// A reqwest client that checks certificates as these settings say (gzip on).
    pub fn client(&self) -> Result<reqwest::Client, String> {
        let mut b = reqwest::Client::builder().gzip(true);
        if let Some(pem) = &self.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("ca_file: {e}"))? {
                b = b.add_root_certificate(cert);
            }
        }
        if self.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        b.build().map_err(|e| e.to_string())
    }
}
