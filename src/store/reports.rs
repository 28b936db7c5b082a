//! llm-d-benchmark reports (format v0.2 / v0.2.1): one run each, reduced to what the reports
//! view compares: the scenario (model, accelerator, role layout, load) and the aggregate
//! throughput and latency percentiles. Latencies are kept in seconds whatever unit the file used.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    /// The file it came from (name only).
    pub file: String,
    pub version: String,
    pub uid: String,
    pub start: Option<String>,
    pub description: Option<String>,
    pub model: Option<String>,
    /// e.g. `8x H100`
    pub accelerator: Option<String>,
    /// e.g. `2P tp2 + 4D tp4`, or `3A tp8` for aggregated serving
    pub layout: String,
    /// e.g. `inference-perf 8 qps in 1000 out 200`
    pub load: String,
    pub output_tokens_per_s: Option<f64>,
    pub requests_per_s: Option<f64>,
    pub ttft_s: Percentiles,
    pub itl_s: Percentiles,
    pub request_latency_s: Percentiles,
    pub requests: Option<u64>,
    pub failures: Option<u64>,
}

/// A file that could not be read as a report, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportError {
    pub file: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reports {
    pub dir: Option<String>,
    pub reports: Vec<Report>,
    pub errors: Vec<ReportError>,
    /// Not configured, or the directory cannot be read.
    pub problem: Option<String>,
}

/// The columns the reports table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportSort {
    #[default]
    Start,
    OutputRate,
    RequestRate,
    Ttft,
    Itl,
    RequestP99,
}

impl ReportSort {
    pub fn next(self) -> ReportSort {
        match self {
            ReportSort::Start => ReportSort::OutputRate,
            ReportSort::OutputRate => ReportSort::RequestRate,
            ReportSort::RequestRate => ReportSort::Ttft,
            ReportSort::Ttft => ReportSort::Itl,
            ReportSort::Itl => ReportSort::RequestP99,
            ReportSort::RequestP99 => ReportSort::Start,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ReportSort::Start => "start",
            ReportSort::OutputRate => "output tok/s",
            ReportSort::RequestRate => "req/s",
            ReportSort::Ttft => "TTFT p50",
            ReportSort::Itl => "ITL p50",
            ReportSort::RequestP99 => "latency p99",
        }
    }
    /// Best first: throughput high to low, latency low to high, newest first.
    pub fn sort(self, v: &mut [&Report]) {
        let key = |r: &Report| -> f64 {
            match self {
                ReportSort::Start => 0.0,
                ReportSort::OutputRate => -r.output_tokens_per_s.unwrap_or(f64::NEG_INFINITY),
                ReportSort::RequestRate => -r.requests_per_s.unwrap_or(f64::NEG_INFINITY),
                ReportSort::Ttft => r.ttft_s.p50.unwrap_or(f64::INFINITY),
                ReportSort::Itl => r.itl_s.p50.unwrap_or(f64::INFINITY),
                ReportSort::RequestP99 => r.request_latency_s.p99.unwrap_or(f64::INFINITY),
            }
        };
        if self == ReportSort::Start {
            v.sort_by(|a, b| b.start.cmp(&a.start).then(a.file.cmp(&b.file)));
        } else {
            v.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.file.cmp(&b.file)));
        }
    }
}

/// One line of the compare view: metric, A, B, B relative to A.
pub type CompareRow = (&'static str, Option<f64>, Option<f64>, Option<f64>);

/// The compare view's lines.
pub fn compare(a: &Report, b: &Report) -> Vec<CompareRow> {
    let rows = [
        ("output tokens/s", a.output_tokens_per_s, b.output_tokens_per_s),
        ("requests/s", a.requests_per_s, b.requests_per_s),
        ("TTFT p50 (s)", a.ttft_s.p50, b.ttft_s.p50),
        ("TTFT p99 (s)", a.ttft_s.p99, b.ttft_s.p99),
        ("ITL p50 (s)", a.itl_s.p50, b.itl_s.p50),
        ("ITL p99 (s)", a.itl_s.p99, b.itl_s.p99),
        ("request latency p50 (s)", a.request_latency_s.p50, b.request_latency_s.p50),
        ("request latency p99 (s)", a.request_latency_s.p99, b.request_latency_s.p99),
    ];
    rows.into_iter()
        .map(|(n, x, y)| {
            let delta = match (x, y) {
                (Some(x), Some(y)) if x != 0.0 => Some((y - x) / x),
                _ => None,
            };
            (n, x, y, delta)
        })
        .collect()
}
