//! A query layer's answers: the HTTP envelope decoded (warnings kept: a partial answer reads as
//! partial), written as text for `:promql`, grouped by cluster and pod, and written back as
//! exposition text for the direct scrape's decoder.

use super::*;

#[derive(Debug, Deserialize)]
pub(in crate::sources) struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(in crate::sources) struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub(in crate::sources) struct VectorItem {
    metric: BTreeMap<String, String>,
    /// Absent for a native-histogram sample (`histogram` instead): skipped.
    value: Option<(f64, String)>,
}

#[derive(Debug, Deserialize)]
pub(in crate::sources) struct MatrixItem {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// One series' latest sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub at: f64,
    pub value: f64,
}

impl Sample {
    /// A sample with these labels (tests and hand-made answers).
    pub fn with(labels: &[(&str, &str)], at: f64, value: f64) -> Sample {
        Sample { labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), at, value }
    }
}

/// An instant vector and what the server said beside it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub samples: Vec<Sample>,
    /// Non-fatal problems: a Thanos store that did not answer, a Mimir limit.
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    /// The response body's size (after gzip decoding).
    pub bytes: usize,
}

/// A query that did not answer: `errorType: error` or how the transport failed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError(pub String);

/// The HTTP answer (status, body) -> samples, or the server's own error.
pub fn decode_answer(status: u16, body: &[u8]) -> Result<Answer, QueryError> {
    decode(status, body, false)
}

/// A range query's answer: a matrix, every point of every series as a sample.
pub fn decode_range_answer(status: u16, body: &[u8]) -> Result<Answer, QueryError> {
    decode(status, body, true)
}

pub(in crate::sources) fn decode(status: u16, body: &[u8], range: bool) -> Result<Answer, QueryError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        let text: String = String::from_utf8_lossy(body).chars().take(120).collect();
        QueryError(if (200..300).contains(&status) {
            format!("not a Prometheus API answer ({e}): {text}")
        } else {
            format!("HTTP {status}: {}", text.trim())
        })
    })?;
    if env.status != "success" {
        return Err(QueryError(format!(
            "{}: {}",
            env.error_type.as_deref().unwrap_or("error"),
            env.error.as_deref().unwrap_or("no message")
        )));
    }
    let data = env.data.ok_or_else(|| QueryError("success without data".into()))?;
    if data.result_type == "scalar" {
        // `[time, "value"]`: one sample without labels (`:promql 1 + 1`, `scalar(...)`)
        let (at, v): (f64, String) =
            serde_json::from_value(data.result).map_err(|e| QueryError(format!("odd scalar: {e}")))?;
        let samples = v.parse::<f64>().ok().map(|value| Sample { labels: BTreeMap::new(), at, value });
        let samples = samples.into_iter().collect();
        return Ok(Answer { samples, warnings: env.warnings, infos: env.infos, bytes: body.len() });
    }
    if data.result_type == "matrix" && range {
        // a range query's answer: every point of every series, as samples
        let items: Vec<MatrixItem> =
            serde_json::from_value(data.result).map_err(|e| QueryError(format!("odd matrix: {e}")))?;
        let samples = items
            .into_iter()
            .flat_map(|i| {
                let labels = i.metric;
                i.values.into_iter().filter_map(move |(at, v)| {
                    let value = v.parse::<f64>().ok().filter(|v| v.is_finite())?;
                    Some(Sample { labels: labels.clone(), at, value })
                })
            })
            .collect();
        return Ok(Answer { samples, warnings: env.warnings, infos: env.infos, bytes: body.len() });
    }
    if data.result_type != "vector" {
        return Err(QueryError(format!("expected a vector, got a {}", data.result_type)));
    }
    let items: Vec<VectorItem> =
        serde_json::from_value(data.result).map_err(|e| QueryError(format!("odd vector: {e}")))?;
    let samples = items
        .into_iter()
        .filter_map(|i| {
            let (at, v) = i.value?;
            // "NaN", "+Inf": unknown, not a number to add
            let value = v.parse::<f64>().ok().filter(|v| v.is_finite())?;
            Some(Sample { labels: i.metric, at, value })
        })
        .collect();
    Ok(Answer { samples, warnings: env.warnings, infos: env.infos, bytes: body.len() })
}

/// A typed expression, checked before anything is sent: a syntax error says where it is; a
/// range vector (`x[5m]`) or a string is no instant query's table.
pub fn check_promql(expr: &str) -> Result<(), String> {
    use promql_parser::parser::value::ValueType;
    match promql_parser::parser::parse(expr)?.value_type() {
        ValueType::Vector | ValueType::Scalar => Ok(()),
        ValueType::Matrix => {
            Err("a range vector has no single value now: wrap it in rate(), avg_over_time() or the like".into())
        }
        ValueType::String => Err("a string is not a series".into()),
    }
}

/// At most this many series of one layer are written out (a table of thousands helps nobody).
pub const SHOWN_SERIES: usize = 500;

/// Instant-query answers as text, one block per layer: where and when, then each series with
/// its value first (long label sets do not push it off screen), the largest first.
pub fn answer_text(expr: &str, results: &[(String, Result<Answer, QueryError>)], evaluated: &str) -> String {
    let mut out = format!("{expr}\n");
    for (url, r) in results {
        out.push('\n');
        match r {
            Err(QueryError(e)) => out.push_str(&format!("via {url} · {e}\n")),
            Ok(a) => {
                let n = a.samples.len();
                out.push_str(&format!("via {url} · evaluated {evaluated} · {n} series"));
                for w in &a.warnings {
                    out.push_str(&format!(" · partial: {w}"));
                }
                out.push('\n');
                let mut rows: Vec<&Sample> = a.samples.iter().collect();
                rows.sort_by(|x, y| y.value.total_cmp(&x.value).then_with(|| x.labels.cmp(&y.labels)));
                let values: Vec<String> = rows.iter().take(SHOWN_SERIES).map(|s| s.value.to_string()).collect();
                let w = values.iter().map(String::len).max().unwrap_or(0).max("VALUE".len());
                out.push_str(&format!("{:<w$}  SERIES\n", "VALUE"));
                for (s, v) in rows.iter().zip(&values) {
                    out.push_str(&format!("{v:<w$}  {}\n", series_name(&s.labels)));
                }
                if n > SHOWN_SERIES {
                    out.push_str(&format!("… {} more (narrow the query)\n", n - SHOWN_SERIES));
                }
            }
        }
    }
    out
}

/// `name{a="1", b="2"}` as Prometheus writes a series (`{}` for a scalar).
pub(in crate::sources) fn series_name(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={}", super::queries::string_literal(v)))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// A pod's series written back as exposition text, with TYPE lines so histograms group.
pub fn exposition(series: &[&Sample]) -> String {
    let mut by_family: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in series {
        let Some(name) = s.labels.get("__name__") else { continue };
        by_family.entry(name.as_str()).or_default().push(s);
    }
    let mut out = String::new();
    let mut typed: BTreeSet<String> = BTreeSet::new();
    // a `_sum` or `_count` is a histogram's when its `_bucket` series are there too
    let histograms: BTreeSet<String> =
        by_family.keys().filter_map(|n| n.strip_suffix("_bucket")).map(str::to_string).collect();
    for (name, samples) in by_family {
        let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
            (b.to_string(), "histogram")
        } else if let Some(b) = name.strip_suffix("_sum").or_else(|| name.strip_suffix("_count")) {
            if histograms.contains(b) {
                (b.to_string(), "histogram")
            } else {
                (name.to_string(), "counter")
            }
        } else if name.ends_with("_total") {
            (name.to_string(), "counter")
        } else {
            (name.to_string(), "gauge")
        };
        if typed.insert(base.clone()) {
            out.push_str(&format!("# TYPE {base} {kind}\n"));
        }
        for s in samples {
            let labels: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| format!("{k}={}", super::queries::string_literal(v)))
                .collect();
            out.push_str(&format!("{name}{{{}}} {}\n", labels.join(","), s.value));
        }
    }
    out
}

/// Samples by (context index, pod), how many could not be placed, and the cluster label
/// values that name no context.
pub type Grouped<'a> = (BTreeMap<(usize, Key), Vec<&'a Sample>>, usize, BTreeSet<String>);

/// Groups an answer by (context index, namespace, pod). Series whose cluster label is absent or
/// names no kst context are counted, not placed.
pub fn group<'a>(answer: &'a Answer, label: &str, context_of: impl Fn(&str) -> Option<usize>) -> Grouped<'a> {
    let mut out: BTreeMap<(usize, Key), Vec<&Sample>> = BTreeMap::new();
    let mut unlabelled = 0;
    let mut unknown = BTreeSet::new();
    for s in &answer.samples {
        let Some(c) = s.labels.get(label).filter(|c| !c.is_empty()) else {
            unlabelled += 1;
            continue;
        };
        let Some(i) = context_of(c) else {
            unknown.insert(c.clone());
            continue;
        };
        let ns = s.labels.get("namespace").or_else(|| s.labels.get("exported_namespace"));
        let pod = s.labels.get("pod").or_else(|| s.labels.get("kubernetes_pod_name"));
        if let (Some(ns), Some(pod)) = (ns, pod) {
            out.entry((i, (ns.clone(), pod.clone()))).or_default().push(s);
        }
    }
    (out, unlabelled, unknown)
}

type EppSeries<'a> = BTreeMap<(usize, String, String), (f64, Vec<&'a Sample>)>;

/// The pickers' series by (context, namespace, service), each with its scrape time; series
/// without a `service` label, or a picker without a scrape time, are left out.
pub fn group_epp<'a>(
    series: &'a Answer,
    times: &Answer,
    label: &str,
    context_of: impl Fn(&str) -> Option<usize>,
) -> EppSeries<'a> {
    let key = |l: &BTreeMap<String, String>| -> Option<(usize, String, String)> {
        let ci = context_of(l.get(label)?)?;
        Some((ci, l.get("namespace")?.clone(), l.get("service")?.clone()))
    };
    let at: BTreeMap<(usize, String, String), f64> =
        times.samples.iter().filter_map(|s| Some((key(&s.labels)?, s.value))).collect();
    let mut out: EppSeries = BTreeMap::new();
    for s in &series.samples {
        let Some(k) = key(&s.labels) else { continue };
        let Some(t) = at.get(&k) else { continue };
        out.entry(k).or_insert_with(|| (*t, Vec::new())).1.push(s);
    }
    out
}
