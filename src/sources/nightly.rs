//! The nightly E2E matrix from the GitHub REST API: the repository's workflows (paged), the
//! nightly ones picked by parsing their file names, the last runs of each, and for failed runs
//! the jobs and steps that say why. Polite to the API: every answer is cached on disk with its
//! ETag and asked again with `If-None-Match` (a 304 costs no quota), the rate-limit headers are
//! read, and kst stops asking before the quota is gone. Offline or rate limited, the last matrix
//! is shown from the cache with its age. The published badge JSON is a second source for users
//! without API access.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::store::nightly::{FailureClass, Matrix, NightlyCell, NightlyName, NightlyRun, NightlyState};
use crate::store::{FleetUpdate, Update};

#[derive(Debug, Clone)]
pub struct NightlyConfig {
    pub repo: String,
    /// `https://api.github.com`, a GitHub Enterprise API URL, or the simulator's fake.
    pub api: String,
    pub token: Option<String>,
    /// Runs read per workflow.
    pub runs: usize,
    pub every: Duration,
    pub cache_dir: PathBuf,
    /// Badge JSON base URL and names, for users without API access.
    pub badge_base: Option<String>,
    pub badges: Vec<String>,
}

/// Below this many calls left, kst stops asking until the quota resets.
pub const QUOTA_RESERVE: u64 = 10;
const MAX_PAGES: usize = 20;
const MAX_BODY: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    #[error("GitHub rate limit reached ({remaining} left); resets at {reset}")]
    RateLimited { remaining: u64, reset: String },
    #[error("GitHub API {status}: {message}")]
    Status { status: u16, message: String },
    #[error("cannot reach {0}")]
    Unreachable(String),
    #[error("bad answer: {0}")]
    Bad(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cached {
    etag: Option<String>,
    body: Value,
    next: Option<String>,
}

pub struct Github {
    http: reqwest::Client,
    cfg: NightlyConfig,
    pub quota: Option<(u64, u64)>,
    reset: Option<i64>,
}

fn cache_file(dir: &std::path::Path, url: &str) -> PathBuf {
    let h = url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| (h ^ c as u64).wrapping_mul(0x0100_0000_01b3));
    dir.join(format!("{h:016x}.json"))
}

fn next_link(h: &reqwest::header::HeaderMap) -> Option<String> {
    let link = h.get("link")?.to_str().ok()?;
    link.split(',').find(|p| p.contains("rel=\"next\"")).and_then(|p| {
        let s = p.trim();
        Some(s[s.find('<')? + 1..s.find('>')?].to_string())
    })
}

impl Github {
    pub fn new(cfg: NightlyConfig) -> Result<Github, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kst/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Github { http, cfg, quota: None, reset: None })
    }

    fn dir(&self) -> PathBuf {
        self.cfg.cache_dir.join("github")
    }

    /// One GET with the cache: If-None-Match from the last answer, a 304 served from disk.
    async fn get(&mut self, url: &str) -> Result<(Value, Option<String>), GhError> {
        let path = cache_file(&self.dir(), url);
        let cached: Option<Cached> = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if let (Some((remaining, _)), Some(reset)) = (self.quota, self.reset) {
            if remaining < QUOTA_RESERVE && jiff::Timestamp::now().as_second() < reset {
                return Err(GhError::RateLimited { remaining, reset: reset_text(reset) });
            }
        }
        let mut req = self
            .http
            .get(url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        // the token goes to the configured API's origin (scheme, host, port) only
        if let Some(t) = &self.cfg.token {
            let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
            if origin(url).is_some() && origin(url) == origin(&self.cfg.api) {
                req = req.bearer_auth(t);
            }
        }
        if let Some(etag) = cached.as_ref().and_then(|c| c.etag.as_deref()) {
            req = req.header("if-none-match", etag);
        }
        let resp =
            req.send().await.map_err(|e| GhError::Unreachable(format!("{}: {}", self.cfg.api, root_cause(&e))))?;
        let h = resp.headers().clone();
        let num = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
        if let (Some(rem), Some(limit)) = (num("x-ratelimit-remaining"), num("x-ratelimit-limit")) {
            self.quota = Some((rem.max(0) as u64, limit.max(0) as u64));
        }
        if let Some(r) = num("x-ratelimit-reset") {
            self.reset = Some(r);
        }
        let status = resp.status().as_u16();
        if status == 304 {
            if let Some(c) = cached {
                return Ok((c.body, c.next));
            }
        }
        let body = resp.bytes().await.map_err(|e| GhError::Unreachable(root_cause(&e)))?;
        if body.len() > MAX_BODY {
            return Err(GhError::Bad(format!("answer larger than {MAX_BODY} bytes")));
        }
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status == 429 || (status == 403 && num("x-ratelimit-remaining") == Some(0)) {
            return Err(GhError::RateLimited { remaining: 0, reset: self.reset.map(reset_text).unwrap_or_default() });
        }
        if !(200..300).contains(&status) {
            let message = v["message"].as_str().unwrap_or("").to_string();
            return Err(GhError::Status { status, message });
        }
        let next = next_link(&h);
        let entry = Cached {
            etag: h.get("etag").and_then(|v| v.to_str().ok()).map(str::to_string),
            body: v.clone(),
            next: next.clone(),
        };
        write_atomic(&path, &serde_json::to_vec(&entry).unwrap_or_default());
        Ok((v, next))
    }

    /// An answer that never changes (a finished run's jobs): from the disk cache when it is
    /// there, without asking again.
    async fn get_once(&mut self, url: &str) -> Result<Value, GhError> {
        let cached: Option<Cached> =
            std::fs::read(cache_file(&self.dir(), url)).ok().and_then(|b| serde_json::from_slice(&b).ok());
        match cached {
            Some(c) => Ok(c.body),
            None => Ok(self.get(url).await?.0),
        }
    }

    /// Every page of a list, following `Link: rel="next"`.
    async fn get_all(&mut self, url: &str, key: &str) -> Result<Vec<Value>, GhError> {
        let mut out = Vec::new();
        let mut next = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = next.take() {
            let (v, n) = self.get(&u).await?;
            out.extend(v[key].as_array().cloned().unwrap_or_default());
            pages += 1;
            if pages < MAX_PAGES {
                next = n;
            }
        }
        Ok(out)
    }

    /// The matrix, read from the API now.
    pub async fn matrix(&mut self) -> Result<Matrix, GhError> {
        let api = self.cfg.api.trim_end_matches('/').to_string();
        let repo = self.cfg.repo.clone();
        let workflows = self.get_all(&format!("{api}/repos/{repo}/actions/workflows?per_page=30"), "workflows").await?;
        let mut cells = Vec::new();
        let mut unparsed = Vec::new();
        for w in workflows {
            let path = w["path"].as_str().unwrap_or("");
            let file = path.rsplit('/').next().unwrap_or(path).to_string();
            if !file.starts_with("nightly-e2e-") || w["state"].as_str().is_some_and(|s| s.starts_with("disabled")) {
                continue;
            }
            let Some(name) = NightlyName::parse(&file) else {
                unparsed.push(file);
                continue;
            };
            let id = w["id"].as_u64().map(|i| i.to_string()).unwrap_or_else(|| file.clone());
            let (v, _) =
                self.get(&format!("{api}/repos/{repo}/actions/workflows/{id}/runs?per_page={}", self.cfg.runs)).await?;
            let mut runs = Vec::new();
            for r in v["workflow_runs"].as_array().into_iter().flatten().take(self.cfg.runs) {
                let status = r["status"].as_str().unwrap_or("").to_string();
                if status == "queued" || status == "waiting" || status == "pending" {
                    continue;
                }
                let conclusion = r["conclusion"].as_str().map(str::to_string);
                let started = r["run_started_at"].as_str().or(r["created_at"].as_str()).unwrap_or("");
                let duration_s =
                    (status == "completed").then(|| seconds(started, r["updated_at"].as_str().unwrap_or(""))).flatten();
                let mut run = NightlyRun {
                    id: r["id"].as_u64().unwrap_or(0),
                    number: r["run_number"].as_u64().unwrap_or(0),
                    status,
                    conclusion,
                    created_at: r["created_at"].as_str().unwrap_or("").to_string(),
                    duration_s,
                    url: r["html_url"].as_str().unwrap_or("").to_string(),
                    failure: None,
                    failed_step: None,
                };
                match run.conclusion.as_deref() {
                    Some("timed_out") => run.failure = Some(FailureClass::Timeout),
                    Some("failure") => {
                        // finished runs never change: their jobs come from the cache after the first time
                        let jobs = self.get_once(&format!("{api}/repos/{repo}/actions/runs/{}/jobs", run.id)).await?;
                        let step = jobs["jobs"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|j| j["steps"].as_array().cloned().unwrap_or_default())
                            .find(|s| s["conclusion"] == "failure")
                            .and_then(|s| s["name"].as_str().map(str::to_string));
                        run.failure = Some(step.as_deref().map(FailureClass::of_step).unwrap_or(FailureClass::Test));
                        run.failed_step = step;
                    }
                    _ => {}
                }
                runs.push(run);
            }
            cells.push(NightlyCell { name, workflow_file: file, runs, badge: None });
        }
        Ok(Matrix { repo, cells, unparsed, fetched_at: jiff::Timestamp::now().to_string() })
    }

    /// The matrix from the published badges: the latest outcome per cell, no history.
    pub async fn badges(&mut self) -> Result<Matrix, GhError> {
        let base = self.cfg.badge_base.clone().unwrap_or_default();
        let mut cells = Vec::new();
        let mut unparsed = Vec::new();
        for b in self.cfg.badges.clone() {
            let url = format!("{}/{b}.json", base.trim_end_matches('/'));
            let (v, _) = self.get(&url).await?;
            let message = v["message"].as_str().unwrap_or("").to_string();
            // badge names are <guide>-<provider>[-<accelerator>], OpenShift as -ocp
            match NightlyName::parse(&format!("nightly-e2e-{b}.yaml")) {
                Some(mut name) => {
                    let tail: Vec<&str> = b.rsplit('-').take(1).collect();
                    if name.provider != tail[0] {
                        name.accelerator = Some(tail[0].to_string());
                    }
                    cells.push(NightlyCell { name, workflow_file: url, runs: vec![], badge: Some(message) })
                }
                None => unparsed.push(b),
            }
        }
        Ok(Matrix { repo: self.cfg.repo.clone(), cells, unparsed, fetched_at: jiff::Timestamp::now().to_string() })
    }
}

/// A cache file written whole or not at all; a cache that cannot be written is only slower.
fn write_atomic(path: &std::path::Path, bytes: &[u8]) {
    if let Err(e) = crate::files::write_atomic(path, bytes) {
        tracing::debug!(path = %path.display(), "cannot write the GitHub cache: {e}");
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(s) = cur.source() {
        cur = s;
    }
    cur.to_string()
}

fn reset_text(reset: i64) -> String {
    jiff::Timestamp::from_second(reset).map(|t| t.to_string()).unwrap_or_default()
}

fn seconds(a: &str, b: &str) -> Option<i64> {
    let a: jiff::Timestamp = a.parse().ok()?;
    let b: jiff::Timestamp = b.parse().ok()?;
    Some((b.as_second() - a.as_second()).max(0))
}

fn matrix_file(dir: &std::path::Path, repo: &str) -> PathBuf {
    dir.join(format!("nightly-{}.json", repo.replace('/', "_")))
}

/// The last matrix kept on disk, to show while offline.
pub fn load_cached(cfg: &NightlyConfig) -> Option<Matrix> {
    std::fs::read(matrix_file(&cfg.cache_dir, &cfg.repo)).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// One refresh: the API (or the badges), falling back to the disk copy with the reason.
pub async fn refresh(gh: &mut Github, cfg: &NightlyConfig) -> NightlyState {
    let use_badges = cfg.badge_base.is_some() && !cfg.badges.is_empty();
    let source = if use_badges {
        format!("badges {}", cfg.badge_base.as_deref().unwrap_or(""))
    } else {
        format!("GitHub API {}", cfg.repo)
    };
    let got = if use_badges { gh.badges().await } else { gh.matrix().await };
    match got {
        Ok(m) => {
            write_atomic(&matrix_file(&cfg.cache_dir, &cfg.repo), &serde_json::to_vec(&m).unwrap_or_default());
            NightlyState { matrix: Some(m), stale: None, quota: gh.quota, source, disabled: None }
        }
        Err(e) => {
            tracing::warn!(repo = %cfg.repo, "nightly matrix: {e}");
            NightlyState {
                matrix: load_cached(cfg),
                stale: Some(e.to_string()),
                quota: gh.quota,
                source,
                disabled: None,
            }
        }
    }
}

/// Polls the matrix every `cfg.every` and sends it to the store.
pub async fn run(cfg: NightlyConfig, tx: mpsc::Sender<Update>) {
    let mut gh = match Github::new(cfg.clone()) {
        Ok(g) => g,
        Err(e) => {
            let state = NightlyState { disabled: Some(format!("no HTTP client: {e}")), ..Default::default() };
            let _ = tx.send(FleetUpdate::Nightly { state }.into()).await;
            return;
        }
    };
    // the disk copy first, so a start while offline shows something at once
    if let Some(m) = load_cached(&cfg) {
        let state = NightlyState {
            matrix: Some(m),
            stale: Some("from the cache; asking GitHub…".into()),
            source: format!("GitHub API {}", cfg.repo),
            ..Default::default()
        };
        if tx.send(FleetUpdate::Nightly { state }.into()).await.is_err() {
            return;
        }
    }
    let mut tick = tokio::time::interval(cfg.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let state = refresh(&mut gh, &cfg).await;
        if tx.send(FleetUpdate::Nightly { state }.into()).await.is_err() {
            return;
        }
    }
}

/// Groups of cells by (guide, variant) and platform, for tests and the snapshot.
pub fn grid(m: &Matrix) -> BTreeMap<(String, String), Vec<String>> {
    let mut g: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for c in &m.cells {
        g.entry((c.name.guide.clone(), c.name.variant())).or_default().push(c.name.platform());
    }
    g
}
