//! A configured Alertmanager, through its v2 API (docs: ../shared/reference/alerting.md): its
//! alerts (active, silenced and inhibited: the organisation's own rules) and its silences every
//! refresh, and the silences kst creates (`POST /api/v2/silences`), each audited. Down or
//! answering garbage is said in the state; nothing else waits for it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;

use crate::store::alerts::{Alert, AlertmanagerState, Matcher, Silence};
use crate::store::{FleetUpdate, Update};

/// One `[[alertmanager]]`, resolved (tokens read).
#[derive(Clone, Default)]
pub struct AlertmanagerConfig {
    /// Up to `/api/v2`: `http://alertmanager:9093`.
    pub url: String,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
    pub tls: super::get::Tls,
}

impl std::fmt::Debug for AlertmanagerConfig {
    // never a token in a log line
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerConfig").field("url", &self.url).field("timeout", &self.timeout).finish()
    }
}

/// A silence kst asks for, confirmed by the user.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceRequest {
    pub id: u64,
    pub matchers: Vec<Matcher>,
    /// Unix seconds.
    pub starts_at: f64,
    pub ends_at: f64,
    pub created_by: String,
    pub comment: String,
    /// Not sent (read-only or kiosk mode): only audited, with why.
    pub refused: Option<String>,
}

#[derive(Deserialize)]
struct AlertJson {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(default)]
    fingerprint: String,
    #[serde(default)]
    status: StatusJson,
}

#[derive(Deserialize, Default)]
struct StatusJson {
    #[serde(default)]
    state: String,
    #[serde(default, rename = "silencedBy")]
    silenced_by: Vec<String>,
    #[serde(default, rename = "inhibitedBy")]
    inhibited_by: Vec<String>,
}

#[derive(Deserialize)]
struct MatcherJson {
    name: String,
    value: String,
    #[serde(default, rename = "isRegex")]
    is_regex: bool,
    /// Absent before Alertmanager 0.22: equal.
    #[serde(default = "yes", rename = "isEqual")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct SilenceJson {
    id: String,
    #[serde(default)]
    matchers: Vec<MatcherJson>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(default, rename = "createdBy")]
    created_by: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    status: StatusJson,
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn time(s: &str) -> Option<f64> {
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(t.as_millisecond() as f64 / 1000.0)
}

fn rfc3339(t: f64) -> String {
    jiff::Timestamp::from_millisecond((t * 1000.0) as i64).map(|t| t.to_string()).unwrap_or_default()
}

/// `GET /api/v2/alerts` as kst's alerts; an answer that is not the API's is an error.
pub fn decode_alerts(body: &[u8]) -> Result<Vec<Alert>, String> {
    let raw: Vec<AlertJson> = serde_json::from_slice(body).map_err(|e| garbage(body, e))?;
    Ok(raw
        .into_iter()
        .map(|a| Alert {
            fingerprint: a.fingerprint,
            labels: a.labels,
            annotations: a.annotations,
            starts_at: time(&a.starts_at).unwrap_or(0.0),
            state: a.status.state,
            silenced_by: a.status.silenced_by,
            inhibited_by: a.status.inhibited_by,
        })
        .collect())
}

/// `GET /api/v2/silences` as kst's silences.
pub fn decode_silences(body: &[u8]) -> Result<Vec<Silence>, String> {
    let raw: Vec<SilenceJson> = serde_json::from_slice(body).map_err(|e| garbage(body, e))?;
    Ok(raw
        .into_iter()
        .map(|s| Silence {
            id: s.id,
            matchers: s
                .matchers
                .into_iter()
                .map(|m| Matcher { name: m.name, value: m.value, is_regex: m.is_regex, is_equal: m.is_equal })
                .collect(),
            created_by: s.created_by,
            comment: s.comment,
            starts_at: time(&s.starts_at).unwrap_or(0.0),
            ends_at: time(&s.ends_at).unwrap_or(0.0),
            state: s.status.state,
        })
        .collect())
}

fn garbage(body: &[u8], e: serde_json::Error) -> String {
    let text: String = String::from_utf8_lossy(body).chars().take(80).collect();
    format!("not an Alertmanager v2 answer ({e}): {}", text.trim())
}

/// The body of `POST /api/v2/silences`.
pub fn silence_body(r: &SilenceRequest) -> serde_json::Value {
    serde_json::json!({
        "matchers": r.matchers.iter().map(|m| serde_json::json!({
            "name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal})).collect::<Vec<_>>(),
        "startsAt": rfc3339(r.starts_at),
        "endsAt": rfc3339(r.ends_at),
        "createdBy": r.created_by,
        "comment": r.comment,
    })
}

struct Client {
    http: reqwest::Client,
    cfg: AlertmanagerConfig,
}

impl Client {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v2/{path}", self.cfg.url.trim_end_matches('/'));
        let mut req = self.http.request(method, url).timeout(self.cfg.timeout);
        for (k, v) in &self.cfg.headers {
            req = req.header(k, v);
        }
        if let Some(t) = &self.cfg.bearer_token {
            req = req.bearer_auth(t);
        } else if let Some((u, p)) = &self.cfg.basic_auth {
            req = req.basic_auth(u, Some(p));
        }
        req
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let resp = self.request(reqwest::Method::GET, path).send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&body).chars().take(120).collect();
            return Err(format!("HTTP {}: {}", status.as_u16(), text.trim()));
        }
        Ok(body.to_vec())
    }

    fn transport(&self, e: reqwest::Error) -> String {
        if e.is_timeout() {
            format!("no answer within {}", crate::durations::format_duration(self.cfg.timeout))
        } else if e.is_connect() {
            format!("cannot connect to {}", self.cfg.url)
        } else {
            e.to_string()
        }
    }

    async fn read(&self) -> AlertmanagerState {
        let mut state = AlertmanagerState { url: self.cfg.url.clone(), ..Default::default() };
        let alerts = self.get("alerts?active=true&silenced=true&inhibited=true&unprocessed=true").await;
        let silences = self.get("silences").await;
        match (alerts.and_then(|b| decode_alerts(&b)), silences.and_then(|b| decode_silences(&b))) {
            (Ok(a), Ok(s)) => {
                state.alerts = Some(a);
                state.silences = Some(s);
                state.at = Some(now_s());
            }
            (Err(e), _) | (_, Err(e)) => state.error = Some(e),
        }
        state
    }

    async fn create(&self, r: &SilenceRequest) -> Result<String, String> {
        let resp = self
            .request(reqwest::Method::POST, "silences")
            .json(&silence_body(r))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&body).chars().take(160).collect();
            return Err(format!("HTTP {}: {}", status.as_u16(), text.trim()));
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| garbage(&body, e))?;
        v["silenceID"].as_str().map(str::to_string).ok_or_else(|| "no silenceID in the answer".to_string())
    }
}

/// One read of an Alertmanager (`kst snapshot`): its alerts and silences, or why not.
pub async fn read_once(cfg: AlertmanagerConfig) -> AlertmanagerState {
    match cfg.tls.client() {
        Ok(http) => Client { http, cfg }.read().await,
        Err(e) => AlertmanagerState { url: cfg.url.clone(), error: Some(e.to_string()), ..Default::default() },
    }
}

/// One Alertmanager: read every `refresh`, create the silences asked for (audited), and read
/// again right after one is made so it shows at once.
pub async fn run(
    index: usize,
    cfg: AlertmanagerConfig,
    refresh: Duration,
    tx: mpsc::Sender<Update>,
    mut requests: mpsc::UnboundedReceiver<SilenceRequest>,
    audit_path: PathBuf,
) {
    let http = match cfg.tls.client() {
        Ok(h) => h,
        Err(e) => {
            let state = AlertmanagerState { url: cfg.url.clone(), error: Some(e.to_string()), ..Default::default() };
            let _ = tx.send(FleetUpdate::Alertmanager { index, state }.into()).await;
            return;
        }
    };
    let client = Client { http, cfg };
    let mut every = tokio::time::interval(refresh.max(Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            r = requests.recv() => {
                let Some(r) = r else { return };
                if let Some(why) = &r.refused {
                    audit(&audit_path, &client.cfg.url, &r, &Err(format!("refused: {why}")));
                    continue;
                }
                let result = client.create(&r).await;
                audit(&audit_path, &client.cfg.url, &r, &result);
                if tx.send(FleetUpdate::SilenceDone { id: r.id, result }.into()).await.is_err() {
                    return;
                }
            }
        }
        let state = client.read().await;
        if tx.send(FleetUpdate::Alertmanager { index, state }.into()).await.is_err() {
            return;
        }
    }
}

/// The audit line of a silence: who, where, which matchers, until when, and what came of it.
fn audit(path: &std::path::Path, url: &str, r: &SilenceRequest, result: &Result<String, String>) {
    let line = serde_json::json!({
        "time": crate::audit::now(),
        "action": "silence",
        "alertmanager": url,
        "user": r.created_by,
        "matchers": r.matchers.iter().map(Matcher::text).collect::<Vec<_>>(),
        "starts_at": rfc3339(r.starts_at),
        "ends_at": rfc3339(r.ends_at),
        "comment": r.comment,
        "result": match result { Ok(id) => format!("created {id}"), Err(e) => format!("failed: {e}") },
    });
    if let Err(e) = crate::audit::append(path, &line) {
        tracing::error!(error = %e, path = %path.display(), "cannot write the audit file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_and_silences_as_the_v2_api_gives_them() {
        let alerts = br#"[{"labels":{"alertname":"KubePodCrashLooping","cluster":"gpu-eu-west","namespace":"llm-d","pod":"p0","severity":"warning"},
            "annotations":{"summary":"Pod is crash looping."},"startsAt":"2026-12-06T03:12:00.000Z","endsAt":"2026-12-06T04:12:00Z",
            "fingerprint":"abc","receivers":[{"name":"null"}],"status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}}]"#;
        let a = decode_alerts(alerts).unwrap();
        assert_eq!(a[0].name(), "KubePodCrashLooping");
        assert_eq!(a[0].starts_at, 1_796_526_720.0);
        assert_eq!((a[0].state.as_str(), a[0].silenced_by.as_slice()), ("suppressed", &["s1".to_string()][..]));
        assert_eq!(a[0].cluster_label(), Some("gpu-eu-west"));
        let silences = br#"[{"id":"s1","matchers":[{"name":"alertname","value":"KubePodCrashLooping","isRegex":false}],
            "startsAt":"2026-12-06T03:00:00Z","endsAt":"2026-12-06T05:00:00Z","createdBy":"alice","comment":"known","status":{"state":"active"}}]"#;
        let s = decode_silences(silences).unwrap();
        assert!(s[0].matchers[0].is_equal, "an absent isEqual is equal (Alertmanager before 0.22)");
        assert_eq!((s[0].created_by.as_str(), s[0].ends_at), ("alice", 1_796_533_200.0));
        assert!(decode_alerts(b"<html>502</html>").unwrap_err().starts_with("not an Alertmanager v2 answer"));
        let body = silence_body(&SilenceRequest {
            id: 1,
            matchers: s[0].matchers.clone(),
            starts_at: 1_796_526_720.0,
            ends_at: 1_796_533_920.0,
            created_by: "kst:alice".into(),
            comment: "investigating".into(),
            refused: None,
        });
        assert_eq!(body["endsAt"], "2026-12-06T05:12:00Z");
        assert_eq!(body["matchers"][0]["isEqual"], true);
    }
}
