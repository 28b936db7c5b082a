//! A query layer behind TLS with a private CA (an in-cluster `thanos-querier`, say): kst trusts
//! it with `ca_file`, refuses it without (saying why), and takes any certificate only when
//! `insecure_skip_verify` is asked for. Against a real Prometheus serving HTTPS.

mod common;

use std::time::Duration;

use kst::sources::get::Tls;
use kst::sources::prom::{query, Asker, PromConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_layer_with_a_private_ca() {
    let test = "a_query_layer_with_a_private_ca";
    let Some(prometheus) = common::peers::debian_binary("prometheus", "prometheus") else {
        common::peers::missing(test, "prometheus", "apt-get install prometheus");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key_pem).unwrap();
    std::fs::write(
        dir.path().join("web.yml"),
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("prometheus.yml"), "global:\n  scrape_interval: 15s\n").unwrap();
    let port = common::free_port();
    let _peer = common::Peer(
        std::process::Command::new(&prometheus)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--web.config.file={}", dir.path().join("web.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus starts"),
    );
    let url = format!("https://127.0.0.1:{port}");
    let cfg = |tls: Tls| PromConfig { url: url.clone(), timeout: Duration::from_secs(5), tls, ..Default::default() };
    // trusted through its CA: answers (once it is up)
    let trusted =
        Asker::for_config(&cfg(Tls { ca_pem: Some(cert_pem.clone().into_bytes()), insecure: false })).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let answer = loop {
        match query(&trusted, &cfg(Tls::default()), "vector(42)").await {
            Ok(a) => break a,
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "Prometheus over TLS never answered: {}", e.0);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(answer.samples.first().map(|s| s.value), Some(42.0));
    // without the CA: refused, and the reason names the certificate
    let plain = Asker::for_config(&cfg(Tls::default())).await.unwrap();
    let e = query(&plain, &cfg(Tls::default()), "vector(1)").await.unwrap_err();
    assert!(e.0.contains("certificate") && e.0.contains("UnknownIssuer"), "{}", e.0);
    // insecure_skip_verify, asked for: taken
    let any = Asker::for_config(&cfg(Tls { ca_pem: None, insecure: true })).await.unwrap();
    assert!(query(&any, &cfg(Tls::default()), "vector(1)").await.is_ok());
}
