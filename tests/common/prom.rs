//! A real Prometheus for the tests: started on a free loopback port with a config the test
#![allow(dead_code)]
//! writes, and queried through its HTTP API.

use std::time::Duration;

use super::Peer;

pub struct Prom {
    pub base: String,
    pub http: reqwest::Client,
}

impl Prom {
    /// Waits until Prometheus has scraped `series` at or after `at`.
    pub async fn scraped_past(&self, series: &str, at: f64) {
        let q = format!("timestamp({series})");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let last = self.scalar(&q, at + 3.0).await;
            if last.is_some_and(|t| t >= at) {
                return;
            }
            if std::time::Instant::now() > deadline {
                let targets: serde_json::Value =
                    self.http.get(format!("{}/api/v1/targets", self.base)).send().await.unwrap().json().await.unwrap();
                let mine: Vec<&serde_json::Value> = targets["data"]["activeTargets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|t| series.contains(t["labels"]["pod"].as_str().unwrap_or("-")))
                    .collect();
                panic!("Prometheus never scraped {series} past {at} (its last: {last:?}); target: {mine:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An instant query at `at`; the value of the one series it answers, if any.
    pub async fn scalar(&self, query: &str, at: f64) -> Option<f64> {
        let mut tries = 0;
        let v: serde_json::Value = loop {
            let v: serde_json::Value = self
                .http
                .get(format!("{}/api/v1/query", self.base))
                .query(&[("query", query), ("time", &format!("{at:.3}"))])
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            // a loaded 2-core machine can make Prometheus time out or refuse for a moment;
            // a query it cannot parse (bad_data) is this test's own fault and fails at once
            tries += 1;
            if v["status"] == "success" || v["errorType"] == "bad_data" || tries >= 10 {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert_eq!(v["status"], "success", "{query}: {v}");
        let r = v["data"]["result"].as_array()?;
        assert!(r.len() <= 1, "{query} answers one series: {v}");
        r.first()?["value"][1].as_str()?.parse().ok()
    }
}

impl Prom {
    /// An instant query's whole answer (`data.result`), retried while a loaded machine makes
    /// Prometheus time out.
    pub async fn vector(&self, query: &str) -> Vec<serde_json::Value> {
        for _ in 0..10 {
            let v: Option<serde_json::Value> =
                match self.http.get(format!("{}/api/v1/query", self.base)).query(&[("query", query)]).send().await {
                    Ok(r) => r.json().await.ok(),
                    Err(_) => None,
                };
            if let Some(v) = v.filter(|v| v["status"] == "success") {
                return v["data"]["result"].as_array().cloned().unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("Prometheus did not answer {query}");
    }
}

/// A private Prometheus whose config `config` writes (given its directory for CA and tokens).
pub async fn start_prometheus_with(
    bin: &std::path::Path,
    config: impl FnOnce(&std::path::Path) -> String,
) -> (Peer, tempfile::TempDir, Prom) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config(dir.path())).unwrap();
    let port = super::free_port();
    let peer = Peer(
        std::process::Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus starts"),
    );
    let prom = Prom { base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !prom.http.get(format!("{}/-/ready", prom.base)).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "Prometheus did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (peer, dir, prom)
}
