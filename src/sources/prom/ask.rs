//! Asking: an instant, windowed or range query, directly or through a hub's proxy, with the
//! scrape times alongside.

use super::*;

/// The label that marks the scrape-time series in a combined answer.
pub(in crate::sources) const TIMES_LABEL: &str = "kst_scraped_at";

/// Asks for series and their scrape times in ONE query (`series or label_replace(times, …)`):
/// two queries, even at one evaluation time, can straddle a scrape that commits in between with
/// a timestamp before that time, and values would be stamped with the next scrape's time. One
/// query reads one consistent view. Returns (series, times).
pub async fn query_with_times(
    asker: &Asker,
    cfg: &PromConfig,
    series: &str,
    times: &str,
    at: Option<f64>,
) -> Result<(Answer, Answer), QueryError> {
    let q = format!("{series} or label_replace({times}, \"{TIMES_LABEL}\", \"1\", \"\", \"\")");
    let all = query_at(asker, cfg, &q, at).await?;
    Ok(split_times(all))
}

/// A combined answer split into the series and the scrape times (the marker label removed).
pub fn split_times(all: Answer) -> (Answer, Answer) {
    let (mut times, series): (Vec<Sample>, Vec<Sample>) =
        all.samples.into_iter().partition(|s| s.labels.contains_key(TIMES_LABEL));
    for t in &mut times {
        t.labels.remove(TIMES_LABEL);
    }
    (
        Answer { samples: series, warnings: all.warnings, infos: all.infos, bytes: all.bytes },
        Answer { samples: times, ..Default::default() },
    )
}

/// Asks the query layer once, now.
pub async fn query(asker: &Asker, cfg: &PromConfig, promql: &str) -> Result<Answer, QueryError> {
    query_at(asker, cfg, promql, None).await
}

/// Asks the query layer once, evaluated at `at` (Unix seconds) when given: two queries whose
/// answers must describe the same moment.
pub async fn query_at(asker: &Asker, cfg: &PromConfig, promql: &str, at: Option<f64>) -> Result<Answer, QueryError> {
    let mut form: Vec<(String, String)> = vec![("query".into(), promql.into())];
    if let Some(t) = at {
        form.push(("time".into(), format!("{t:.3}")));
    }
    form.extend(cfg.params.iter().map(|(k, v)| (k.clone(), v.clone())));
    ask(asker, cfg, Endpoint::Query, &form).await
}

/// An instant query of a range selector (`x[60s]`) evaluated at `at`: the answer is a matrix,
/// every raw sample of the window with its own timestamp.
pub async fn query_window(asker: &Asker, cfg: &PromConfig, promql: &str, at: f64) -> Result<Answer, QueryError> {
    let mut form: Vec<(String, String)> = vec![("query".into(), promql.into()), ("time".into(), format!("{at:.3}"))];
    form.extend(cfg.params.iter().map(|(k, v)| (k.clone(), v.clone())));
    ask(asker, cfg, Endpoint::QueryWindow, &form).await
}

/// A range query (`/api/v1/query_range`) from `start` to `end` every `step` seconds; the
/// answer's samples are every point of every series.
pub async fn query_range(
    asker: &Asker,
    cfg: &PromConfig,
    promql: &str,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Answer, QueryError> {
    let mut form: Vec<(String, String)> = vec![
        ("query".into(), promql.into()),
        ("start".into(), format!("{start:.3}")),
        ("end".into(), format!("{end:.3}")),
        ("step".into(), format!("{:.3}", step.max(0.001))),
    ];
    form.extend(cfg.params.iter().map(|(k, v)| (k.clone(), v.clone())));
    ask(asker, cfg, Endpoint::QueryRange, &form).await
}

pub(in crate::sources) async fn ask(
    asker: &Asker,
    cfg: &PromConfig,
    endpoint: Endpoint,
    form: &[(String, String)],
) -> Result<Answer, QueryError> {
    match asker {
        Asker::Http(http) => query_http(http, cfg, endpoint, form).await,
        Asker::Kube { client, base } => query_through(client, base, cfg, endpoint, form).await,
    }
}

pub(in crate::sources) async fn query_http(
    http: &reqwest::Client,
    cfg: &PromConfig,
    endpoint: Endpoint,
    form: &[(String, String)],
) -> Result<Answer, QueryError> {
    let (path, matrix) = endpoint.path_and_matrix();
    let url = format!("{}/api/v1/{path}", cfg.url.trim_end_matches('/'));
    let mut req = http.post(&url).form(form).timeout(cfg.timeout);
    for (k, v) in &cfg.headers {
        req = req.header(k, v);
    }
    if let Some(t) = &cfg.bearer_token {
        req = req.bearer_auth(t);
    } else if let Some((u, p)) = &cfg.basic_auth {
        req = req.basic_auth(u, Some(p));
    }
    let resp = req.send().await.map_err(|e| {
        QueryError(if e.is_timeout() {
            format!("no answer within {}", crate::durations::format_duration(cfg.timeout))
        } else if e.is_connect() {
            // the innermost cause says why: refused, or a certificate not trusted (ca_file)
            format!("cannot connect to {url}: {}", innermost(&e))
        } else {
            format!("{e}")
        })
    })?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| QueryError(e.to_string()))?;
    decode(status, &body, matrix)
}

/// Which of the query API's calls, and so which answer is expected.
#[derive(Debug, Clone, Copy)]
pub(in crate::sources) enum Endpoint {
    /// An instant query: a vector or a scalar.
    Query,
    /// An instant query of a range selector (`x[60s]`): a matrix of raw samples.
    QueryWindow,
    /// `query_range`: a matrix of evaluated points.
    QueryRange,
}

impl Endpoint {
    /// The API path, and whether a matrix is the expected answer.
    pub(in crate::sources) fn path_and_matrix(self) -> (&'static str, bool) {
        match self {
            Endpoint::Query => ("query", false),
            Endpoint::QueryWindow => ("query", true),
            Endpoint::QueryRange => ("query_range", true),
        }
    }
}

/// The same query through an API server's service proxy, with the context's credentials (the
/// extra headers are passed on; the config's own token or basic auth would replace the
/// context's, so they are not sent this way).
pub(in crate::sources) async fn query_through(
    client: &kube::Client,
    base: &str,
    cfg: &PromConfig,
    endpoint: Endpoint,
    form: &[(String, String)],
) -> Result<Answer, QueryError> {
    use http_body_util::BodyExt;
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let (path, matrix) = endpoint.path_and_matrix();
    let mut req = http::Request::post(format!("{base}/api/v1/{path}"))
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in &cfg.headers {
        req = req.header(k, v);
    }
    let req = req.body(kube::client::Body::from(body.into_bytes())).map_err(|e| QueryError(e.to_string()))?;
    let ask = async {
        let resp = client.send(req).await.map_err(|e| QueryError(crate::sources::cluster::plain(&e.to_string())))?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.map_err(|e| QueryError(e.to_string()))?.to_bytes();
        // the API server's own refusal (forbidden, no endpoints) is a Status, not the layer's answer
        let refusal = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .filter(|v| v["kind"] == "Status" && v["apiVersion"] == "v1")
            .and_then(|v| v["message"].as_str().map(str::to_string));
        match refusal {
            Some(m) => Err(QueryError(format!("HTTP {status} from the API server: {m}"))),
            None => decode(status, &bytes, matrix),
        }
    };
    tokio::time::timeout(cfg.timeout, ask)
        .await
        .map_err(|_| QueryError(format!("no answer within {}", crate::durations::format_duration(cfg.timeout))))?
}

/// The innermost cause of an error chain (`invalid peer certificate: UnknownIssuer`).
pub fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub(in crate::sources) fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// How often a query layer is read, and the window of samples asked back at the first read
/// (zero: none).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub refresh: Duration,
    pub window: Duration,
}
