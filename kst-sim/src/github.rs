//! A loopback fake of the GitHub REST API for the nightly E2E matrix: the repository's workflows
//! (paged 30 at a time, as GitHub pages by default, with `Link` headers), each workflow's runs,
//! each run's jobs and steps, and the published badge JSON. It answers with GitHub's shapes,
//! weak ETags (a matching `If-None-Match` gets 304 and costs no quota), the `x-ratelimit-*`
//! headers, and, when asked, the 403 of an exhausted rate limit. The demo and the tests point kst
//! here; nothing reaches the internet.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::rng::Rng;

pub const REPO: &str = "llm-d/llm-d";

/// (guide, provider, accelerator, engine, connector) of each nightly the fake repository has.
const NIGHTLIES: &[(&str, &str, &str, &str, &str)] = &[
    ("optimized-baseline", "ibm", "gpu", "vllm", "x"),
    ("optimized-baseline", "gke", "gpu", "vllm", "x"),
    ("optimized-baseline", "cks", "gpu", "vllm", "x"),
    ("optimized-baseline", "amd", "rocm", "vllm", "x"),
    ("pd-disaggregation", "ibm", "gpu", "vllm", "nixl"),
    ("pd-disaggregation", "gke", "tpu", "vllm", "x"),
    ("pd-disaggregation", "cks", "gpu", "vllm", "nixl"),
    ("precise-prefix-cache-routing", "ibm", "gpu", "vllm", "x"),
    ("precise-prefix-cache-routing", "intel", "xpu", "vllm", "x"),
    ("tiered-prefix-cache", "ibm", "gpu", "vllm", "lmcache"),
    ("wide-ep-lws", "ibm", "gpu", "vllm", "nixl"),
    ("wide-ep-lws", "gke", "gpu", "vllm", "nixl"),
    ("wide-ep-lws", "cks", "gpu", "vllm", "nixl"),
    ("workload-autoscaling", "ibm", "gpu", "vllm", "x"),
    ("workload-autoscaling", "cks", "gpu", "vllm", "x"),
];

/// Other workflows of the repository, which the matrix must leave out.
const OTHERS: &[&str] = &[
    "ci-build-images.yaml",
    "ci-lint.yaml",
    "ci-pr-checks.yaml",
    "ci-release.yaml",
    "ci-helm-test.yaml",
    "ci-docs.yaml",
    "dependabot-auto-merge.yaml",
    "stale.yaml",
    "test-nightly-command.yaml",
    "update-badges.yaml",
    "release-notes.yaml",
    "codeql.yaml",
    "check-links.yaml",
    "welcome.yaml",
    // an old-style name (guide and provider only), and one kst cannot read
    "nightly-e2e-simulated-accelerators-kind.yaml",
    "nightly-e2e-experimental.yaml",
];

#[derive(Debug, Clone)]
struct Run {
    id: u64,
    number: u64,
    /// success | failure | timed_out | cancelled | None (in progress)
    conclusion: Option<&'static str>,
    /// For failures: which step failed.
    failed_step: Option<&'static str>,
    created: i64,
    minutes: i64,
}

#[derive(Debug, Clone)]
struct Workflow {
    id: u64,
    file: String,
    runs: Vec<Run>,
}

pub struct FakeGithub {
    pub addr: SocketAddr,
    workflows: Vec<Workflow>,
    /// Requests answered, and how many of them were 304s.
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
    /// Calls left before the rate limit is exhausted (304s cost none).
    pub remaining: AtomicU64,
    pub limit: u64,
    /// Pretend the quota is gone (403 with `x-ratelimit-remaining: 0`).
    pub exhausted: AtomicBool,
    /// Refuse everything (a 503, as when the API is down).
    pub down: AtomicBool,
    /// The Authorization headers seen (to check a token is sent, and only to this host).
    pub tokens: Mutex<Vec<String>>,
    now: i64,
}

const STEPS: &[&str] = &[
    "Set up job",
    "Checkout",
    "Provision cluster",
    "Check GPU availability",
    "Deploy guide (helm)",
    "Run benchmark",
    "Collect results",
];

fn outcome(rng: &mut Rng, pass: f64) -> (Option<&'static str>, Option<&'static str>) {
    let x = rng.unit();
    if x < pass {
        return (Some("success"), None);
    }
    match rng.below(6) {
        0 => (Some("failure"), Some("Check GPU availability")),
        1 | 2 => (Some("failure"), Some(if rng.below(2) == 0 { "Provision cluster" } else { "Deploy guide (helm)" })),
        3 => (Some("timed_out"), Some("Run benchmark")),
        4 => (Some("cancelled"), None),
        _ => (Some("failure"), Some("Run benchmark")),
    }
}

impl FakeGithub {
    pub fn build(seed: u64, now: i64) -> FakeGithub {
        let mut rng = Rng::new(seed ^ 0x6174_6875_6221);
        let mut workflows = Vec::new();
        let mut id = 60_000_000u64;
        let mut run_id = 9_000_000_000u64;
        let mut files: Vec<(String, f64)> = NIGHTLIES
            .iter()
            .map(|(g, p, a, e, c)| {
                // providers differ in how often their nightlies pass
                let pass = match *p {
                    "ibm" => 0.9,
                    "gke" => 0.75,
                    "cks" => 0.8,
                    "amd" => 0.4,
                    _ => 0.6,
                };
                (format!("nightly-e2e-{g}-{p}-acc-{a}-{e}-{c}.yaml"), pass)
            })
            .collect();
        files.extend(OTHERS.iter().map(|f| (f.to_string(), 0.9)));
        for (i, (file, pass)) in files.into_iter().enumerate() {
            id += 17;
            let mut runs = Vec::new();
            for k in 0..10u64 {
                run_id += 101;
                let (mut conclusion, mut failed_step) = outcome(&mut rng, pass);
                // one nightly is running right now; one has failed on every recent night
                if i == 1 && k == 0 {
                    (conclusion, failed_step) = (None, None);
                }
                if file.contains("optimized-baseline-amd") && k < 4 {
                    (conclusion, failed_step) = (Some("failure"), Some("Check GPU availability"));
                }
                runs.push(Run {
                    id: run_id,
                    number: 200 - k,
                    conclusion,
                    failed_step,
                    created: now - 86_400 * k as i64 - 3600 * (i as i64 % 5),
                    minutes: 20 + rng.below(40) as i64,
                });
            }
            workflows.push(Workflow { id, file, runs });
        }
        FakeGithub {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            workflows,
            requests: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            remaining: AtomicU64::new(5000),
            limit: 5000,
            exhausted: AtomicBool::new(false),
            down: AtomicBool::new(false),
            tokens: Mutex::new(Vec::new()),
            now,
        }
    }

    /// Starts serving on an ephemeral loopback port.
    pub async fn start(seed: u64) -> std::io::Result<Arc<FakeGithub>> {
        FakeGithub::start_at(seed, jiff::Timestamp::now().as_second()).await
    }

    /// The same, with runs dated relative to `now` (unix seconds), for reproducible drawings.
    pub async fn start_at(seed: u64, now: i64) -> std::io::Result<Arc<FakeGithub>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut fake = FakeGithub::build(seed, now);
        fake.addr = listener.local_addr()?;
        let fake = Arc::new(fake);
        let me = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let me = me.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let me = me.clone();
                        async move { Ok::<_, Infallible>(me.answer(req)) }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(fake)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn ts(&self, t: i64) -> String {
        jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default()
    }

    fn run_json(&self, w: &Workflow, r: &Run) -> Value {
        let name = w.file.trim_end_matches(".yaml");
        json!({
            "id": r.id, "name": name, "head_branch": "main", "run_number": r.number, "event": "schedule",
            "status": if r.conclusion.is_some() { "completed" } else { "in_progress" },
            "conclusion": r.conclusion, "workflow_id": w.id,
            "html_url": format!("https://github.com/{REPO}/actions/runs/{}", r.id),
            "created_at": self.ts(r.created), "run_started_at": self.ts(r.created + 30),
            "updated_at": self.ts(r.created + 60 * r.minutes),
        })
    }

    fn jobs_json(&self, r: &Run) -> Value {
        let mut failed = false;
        let steps: Vec<Value> = STEPS
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let conclusion = if failed {
                    "skipped"
                } else if Some(*s) == r.failed_step {
                    failed = true;
                    if r.conclusion == Some("timed_out") {
                        "cancelled"
                    } else {
                        "failure"
                    }
                } else {
                    "success"
                };
                json!({"name": s, "status": "completed", "conclusion": conclusion, "number": n + 1})
            })
            .collect();
        json!({"total_count": 1, "jobs": [{
            "id": r.id + 7, "run_id": r.id, "name": "e2e", "status": "completed", "conclusion": r.conclusion,
            "started_at": self.ts(r.created + 30), "completed_at": self.ts(r.created + 60 * r.minutes), "steps": steps}]})
    }

    fn badge_json(&self, name: &str) -> Option<Value> {
        let w = self.workflows.iter().find(|w| {
            let f = w.file.trim_start_matches("nightly-e2e-");
            // badges are named <guide>-<provider>[-<accelerator>], OpenShift as -ocp
            let parts: Vec<&str> = f.trim_end_matches(".yaml").split("-acc-").collect();
            let head = parts[0].replace("-ibm", "-ocp");
            let accel = parts.get(1).and_then(|r| r.split('-').next()).unwrap_or("");
            name == head || name == format!("{head}-{accel}")
        })?;
        let last = w.runs.iter().find(|r| r.conclusion.is_some())?;
        let (message, color) = match (last.conclusion, last.failed_step) {
            (Some("success"), _) => ("passing", "brightgreen"),
            (Some("timed_out"), _) => ("timeout", "orange"),
            (Some("cancelled"), _) => ("cancelled", "lightgrey"),
            (_, Some("Provision cluster" | "Deploy guide (helm)")) => ("infra-error", "orange"),
            _ => ("failing", "red"),
        };
        let label = if w.file.contains("-tpu-") { "TPU" } else { "GPU" };
        Some(json!({"schemaVersion": 1, "label": label, "message": message, "color": color}))
    }

    fn route(&self, path: &str, query: &BTreeMap<String, String>) -> Option<Value> {
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
        let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30).clamp(1, 100);
        let prefix = format!("/repos/{REPO}/actions/");
        if let Some(name) = path.strip_prefix("/badges/").and_then(|n| n.strip_suffix(".json")) {
            return self.badge_json(name);
        }
        let rest = path.strip_prefix(&prefix)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["workflows"] => {
                let all: Vec<Value> = self
                    .workflows
                    .iter()
                    .map(|w| {
                        json!({"id": w.id, "node_id": format!("W_{}", w.id), "name": w.file.trim_end_matches(".yaml"),
                               "path": format!(".github/workflows/{}", w.file), "state": "active",
                               "html_url": format!("https://github.com/{REPO}/blob/main/.github/workflows/{}", w.file)})
                    })
                    .collect();
                let page_items: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
                Some(json!({"total_count": all.len(), "workflows": page_items, "_pages": all.len().div_ceil(per_page)}))
            }
            ["workflows", id, "runs"] => {
                let w = self.workflows.iter().find(|w| w.id.to_string() == *id || w.file == *id)?;
                let runs: Vec<Value> =
                    w.runs.iter().skip((page - 1) * per_page).take(per_page).map(|r| self.run_json(w, r)).collect();
                Some(
                    json!({"total_count": w.runs.len(), "workflow_runs": runs, "_pages": w.runs.len().div_ceil(per_page)}),
                )
            }
            ["runs", id, "jobs"] => {
                let r = self.workflows.iter().flat_map(|w| &w.runs).find(|r| r.id.to_string() == *id)?;
                Some(self.jobs_json(r))
            }
            _ => None,
        }
    }

    fn answer(&self, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(a) = req.headers().get("authorization").and_then(|v| v.to_str().ok()) {
            self.tokens.lock().expect("tokens").push(a.to_string());
        }
        let reset = self.now + 3600;
        let reply = |status: u16, body: &Value, extra: Vec<(&str, String)>, remaining: u64| {
            let mut b = hyper::Response::builder()
                .status(status)
                .header("content-type", "application/json; charset=utf-8")
                .header("x-ratelimit-limit", self.limit.to_string())
                .header("x-ratelimit-remaining", remaining.to_string())
                .header("x-ratelimit-reset", reset.to_string())
                .header("x-ratelimit-resource", "core");
            for (k, v) in extra {
                b = b.header(k, v);
            }
            b.body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default()))).expect("response")
        };
        if self.down.load(Ordering::Relaxed) {
            return reply(
                503,
                &json!({"message": "Service Unavailable"}),
                vec![],
                self.remaining.load(Ordering::Relaxed),
            );
        }
        if self.exhausted.load(Ordering::Relaxed) || self.remaining.load(Ordering::Relaxed) == 0 {
            return reply(
                403,
                &json!({"message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)",
                        "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
                vec![],
                0,
            );
        }
        let path = req.uri().path().to_string();
        let query: BTreeMap<String, String> = req
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        let Some(mut body) = self.route(&path, &query) else {
            return reply(
                404,
                &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
                vec![],
                self.remaining.load(Ordering::Relaxed),
            );
        };
        let mut extra = Vec::new();
        if let Some(pages) = body.as_object_mut().and_then(|o| o.remove("_pages")).and_then(|p| p.as_u64()) {
            let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let link = |p: u64, rel: &str| {
                let mut q = query.clone();
                q.insert("page".into(), p.to_string());
                let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("<{}{path}?{}>; rel=\"{rel}\"", self.base_url(), qs.join("&"))
            };
            let mut links = Vec::new();
            if page < pages {
                links.push(link(page + 1, "next"));
                links.push(link(pages, "last"));
            }
            if page > 1 {
                links.push(link(1, "first"));
                links.push(link(page - 1, "prev"));
            }
            if !links.is_empty() {
                extra.push(("link", links.join(", ")));
            }
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let etag = format!("W/\"{:016x}\"", crate::util::fnv_bytes(&bytes));
        if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            let mut r = reply(304, &Value::Null, vec![("etag", etag)], self.remaining.load(Ordering::Relaxed));
            *r.body_mut() = Full::new(Bytes::new());
            return r;
        }
        let left = self.remaining.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        extra.push(("etag", etag));
        reply(200, &body, extra, left)
    }
}
