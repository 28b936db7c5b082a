//! The nightly E2E matrix against a loopback fake of the GitHub API (workflows paged, runs,
//! jobs; ETags and 304s; the rate-limit headers and an exhausted quota; the API down) and the
//! badge JSON: the parsed guide x platform grid, pass rates, trends, failure classes, the cache.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kst::sources::nightly::{refresh, Github, NightlyConfig};
use kst::store::nightly::{FailureClass, Trend};
use kst_sim::github::FakeGithub;

fn config(api: &str, dir: &std::path::Path) -> NightlyConfig {
    NightlyConfig {
        repo: "llm-d/llm-d".into(),
        api: api.into(),
        token: Some("ghp_test_token".into()),
        runs: 7,
        every: Duration::from_secs(600),
        cache_dir: dir.to_path_buf(),
        badge_base: None,
        badges: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_from_the_api_with_etags_rate_limits_and_the_cache() {
    let fake = FakeGithub::start(42).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&fake.base_url(), dir.path());
    let mut gh = Github::new(cfg.clone()).unwrap();

    let s = refresh(&mut gh, &cfg).await;
    assert_eq!(s.stale, None, "{:?}", s.stale);
    let m = s.matrix.clone().unwrap();
    // 31 workflows on two pages: the last one (page 2) is the name kst cannot read
    assert_eq!(m.unparsed, vec!["nightly-e2e-experimental.yaml".to_string()]);
    assert_eq!(m.cells.len(), 16, "15 nightlies of the new naming and one of the old");
    let (rows, cols) = m.axes();
    assert_eq!(cols, vec!["OpenShift", "GKE", "CoreWeave", "AMD", "Intel", "kind"]);
    assert!(rows.contains(&("pd-disaggregation".to_string(), "gpu·vllm·nixl".to_string())));
    assert!(rows.contains(&("pd-disaggregation".to_string(), "tpu·vllm".to_string())), "TPU is its own row");
    assert!(rows.contains(&("simulated-accelerators".to_string(), String::new())));
    assert!(m.cells.iter().all(|c| c.runs.len() <= 7 && !c.runs.is_empty()));

    // a nightly running now; its pass rate counts only finished runs
    let running = m.cells.iter().find(|c| c.runs[0].conclusion.is_none()).expect("one nightly is running");
    assert_eq!(running.runs[0].status, "in_progress");
    let finished: Vec<bool> = running.runs.iter().filter_map(|r| r.passed()).collect();
    assert_eq!(running.pass_rate(), Some(finished.iter().filter(|p| **p).count() as f64 / finished.len() as f64));

    // AMD has failed four nights running for want of GPUs: the longest streak, classified
    let amd = m.cell(&("optimized-baseline".into(), "rocm·vllm".into()), "AMD").unwrap();
    assert!(amd.runs[..4].iter().all(|r| r.failure == Some(FailureClass::GpuUnavailable)));
    assert_eq!(amd.runs[0].failed_step.as_deref(), Some("Check GPU availability"));
    let (worst, n) = m.longest_streak().unwrap();
    assert!(n >= 4 && worst.failing_streak() == n);
    assert!(amd.trend().is_some_and(|t| t != Trend::Up));
    // every failed run has a class; timeouts are timeouts
    for r in m.cells.iter().flat_map(|c| &c.runs) {
        match r.conclusion.as_deref() {
            Some("failure") => assert!(r.failure.is_some() && r.failed_step.is_some(), "{r:?}"),
            Some("timed_out") => assert_eq!(r.failure, Some(FailureClass::Timeout)),
            _ => assert!(r.failure.is_none()),
        }
        assert!(r.url.starts_with("https://github.com/llm-d/llm-d/actions/runs/"));
    }
    assert!(m.cells.iter().flat_map(|c| &c.runs).any(|r| r.failure == Some(FailureClass::Infra)));
    let rates = m.platform_rates();
    assert!(rates.iter().all(|(_, r)| r.is_some_and(|r| (0.0..=1.0).contains(&r))));

    // the token went to the API, as a bearer token
    assert!(fake.tokens.lock().unwrap().iter().all(|t| t == "Bearer ghp_test_token"));
    let quota = s.quota.unwrap();
    assert_eq!(quota.1, 5000);

    // asked again: every answer is a 304 that costs no quota
    let before = fake.requests.load(Ordering::Relaxed);
    let s2 = refresh(&mut gh, &cfg).await;
    let asked = fake.requests.load(Ordering::Relaxed) - before;
    assert_eq!(fake.not_modified.load(Ordering::Relaxed), asked, "all conditional, all 304");
    assert_eq!(s2.quota.unwrap().0, quota.0, "no quota spent");
    assert_eq!(s2.matrix.as_ref().unwrap().cells, m.cells);

    // the quota runs out: the last matrix stays, with the reason
    fake.exhausted.store(true, Ordering::Relaxed);
    let s3 = refresh(&mut gh, &cfg).await;
    assert!(s3.stale.as_deref().unwrap().contains("rate limit"), "{:?}", s3.stale);
    assert_eq!(s3.matrix.as_ref().unwrap().cells, m.cells);
    fake.exhausted.store(false, Ordering::Relaxed);

    // nearly out of quota: kst stops asking before it is gone
    let mut polite = Github::new(cfg.clone()).unwrap();
    fake.remaining.store(12, Ordering::Relaxed);
    std::fs::remove_dir_all(dir.path().join("github")).unwrap();
    let s4 = refresh(&mut polite, &cfg).await;
    assert!(s4.stale.as_deref().unwrap().contains("rate limit"), "{:?}", s4.stale);
    assert!(fake.remaining.load(Ordering::Relaxed) >= kst::sources::nightly::QUOTA_RESERVE - 1, "the reserve is kept");

    // offline (nothing listening): the matrix on disk, with why it is old
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offline = config(&format!("http://127.0.0.1:{port}"), dir.path());
    let mut gh = Github::new(offline.clone()).unwrap();
    let s5 = refresh(&mut gh, &offline).await;
    assert!(s5.stale.as_deref().unwrap().contains("cannot reach"), "{:?}", s5.stale);
    let cached = s5.matrix.unwrap();
    assert_eq!(cached.fetched_at, s2.matrix.as_ref().unwrap().fetched_at, "the last good matrix, with its age");
    assert_eq!(cached.cells, m.cells);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_for_users_without_api_access() {
    let fake = FakeGithub::start(42).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&fake.base_url(), dir.path());
    cfg.token = None;
    cfg.badge_base = Some(format!("{}/badges", fake.base_url()));
    cfg.badges =
        vec!["pd-disaggregation-gke-tpu".into(), "optimized-baseline-ocp".into(), "optimized-baseline-amd".into()];
    let mut gh = Github::new(cfg.clone()).unwrap();
    let s = refresh(&mut gh, &cfg).await;
    let m = s.matrix.unwrap();
    assert_eq!(m.cells.len(), 3);
    let amd = m.cells.iter().find(|c| c.name.platform() == "AMD").unwrap();
    assert_eq!(amd.badge.as_deref(), Some("failing"));
    let tpu = m.cells.iter().find(|c| c.name.provider == "gke").unwrap();
    assert_eq!(tpu.name.accelerator.as_deref(), Some("tpu"));
    assert!(["passing", "failing", "infra-error", "timeout", "cancelled"].contains(&tpu.badge.as_deref().unwrap()));
    assert!(m.cells.iter().all(|c| c.runs.is_empty() && c.pass_rate().is_none()), "no history is invented");
    assert!(fake.tokens.lock().unwrap().is_empty());
}
