//! llm-d-benchmark reports, v0.2 (YAML) and v0.2.1 (JSON), written from the format's schema and
//! example, read from a directory next to malformed files: each bad file is named with its
//! reason and the good ones still load; units are normalised; the compare view's deltas.

use kst::sources::reports::load_dir;
use kst::store::reports::{compare, ReportSort};

#[test]
fn reads_both_versions_and_names_every_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    for src in [format!("{root}/kst-sim/src/data/reports"), format!("{root}/tests/data/reports")] {
        for e in std::fs::read_dir(src).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let r = load_dir(dir.path());
    assert_eq!(r.problem, None);
    assert_eq!(r.reports.len(), 2, "{:?}", r.errors);
    let mut errors: Vec<(String, String)> = r.errors.iter().map(|e| (e.file.clone(), e.error.clone())).collect();
    errors.sort();
    assert_eq!(errors.len(), 3, "notes.txt is not a report file and is skipped: {errors:?}");
    assert_eq!(errors[0].0, "broken.yaml");
    assert!(errors[0].1.starts_with("not YAML"), "{}", errors[0].1);
    assert_eq!(errors[1], ("future-version.json".into(), "version 0.3 is not supported (0.2, 0.2.1)".into()));
    assert_eq!(errors[2], ("no-results.yaml".into(), "no results.request_performance.aggregate".into()));

    let pd = r.reports.iter().find(|x| x.version == "0.2").unwrap();
    assert_eq!(pd.model.as_deref(), Some("meta-llama/Llama-3.1-70B-Instruct"));
    assert_eq!(pd.accelerator.as_deref(), Some("12x H100"), "2 prefill x 2 + 2 decode x 4");
    assert_eq!(pd.layout, "2P tp2 + 2D tp4", "the scheduler in the stack is not an engine");
    assert_eq!(pd.load, "inference-perf 8 qps in 1000 out 200");
    assert_eq!(pd.ttft_s.p50, Some(0.364), "milliseconds become seconds");
    assert!((pd.itl_s.p99.unwrap() - 0.0742).abs() < 1e-9);
    assert_eq!(pd.request_latency_s.p99, Some(16.8));
    assert_eq!(pd.output_tokens_per_s, Some(1595.2));
    assert_eq!((pd.requests, pd.failures), (Some(14400), Some(3)));

    let base = r.reports.iter().find(|x| x.version == "0.2.1").unwrap();
    assert_eq!(base.layout, "4A tp4");
    assert_eq!(base.accelerator.as_deref(), Some("16x H100"));
    assert_eq!(base.ttft_s.p50, Some(0.612));

    // sorting puts the best first: lowest TTFT, highest throughput
    let mut v: Vec<_> = r.reports.iter().collect();
    ReportSort::Ttft.sort(&mut v);
    assert_eq!(v[0].uid, pd.uid);
    ReportSort::OutputRate.sort(&mut v);
    assert_eq!(v[0].uid, pd.uid);
    ReportSort::Start.sort(&mut v);
    assert_eq!(v[0].uid, base.uid, "newest first");

    // compare: B relative to A
    let rows = compare(base, pd);
    let ttft = rows.iter().find(|r| r.0 == "TTFT p50 (s)").unwrap();
    assert!((ttft.3.unwrap() - (0.364 - 0.612) / 0.612).abs() < 1e-9);

    // read again: unchanged files come from the cache, a changed one is parsed again
    let mut cache = kst::sources::reports::ParseCache::new();
    assert_eq!(kst::sources::reports::load_dir_cached(dir.path(), &mut cache).reports.len(), 2);
    std::fs::write(
        dir.path().join("broken.yaml"),
        std::fs::read(dir.path().join("pd-disaggregation-h100-v0_2.yaml")).unwrap(),
    )
    .unwrap();
    let again = kst::sources::reports::load_dir_cached(dir.path(), &mut cache);
    assert_eq!((again.reports.len(), again.errors.len()), (3, 2), "the mended file is read again");
    std::fs::remove_file(dir.path().join("no-results.yaml")).unwrap();
    let gone = kst::sources::reports::load_dir_cached(dir.path(), &mut cache);
    assert_eq!(gone.errors.len(), 1, "a removed file leaves the list");
    assert_eq!(cache.len(), 4);

    // a directory that is not there is a problem, said once
    let missing = load_dir(&dir.path().join("nope"));
    assert!(missing.problem.unwrap().starts_with("cannot read"));
}
