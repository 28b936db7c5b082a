//! From kubeconfig files to the clusters kst watches: which contexts, and a kube-rs client
//! per context with whatever auth kube-rs supports (tokens, client certs, exec plugins, OIDC).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// One cluster to watch.
#[derive(Debug, Clone)]
pub struct Target {
    pub context: String,
    pub server: String,
    pub kubeconfig: Arc<Kubeconfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no kubeconfig found (looked at {0}); run `kst demo` to try kst on a simulated fleet")]
    NoKubeconfig(String),
    #[error("cannot read kubeconfig {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("kubeconfig {0} has no contexts; add one (kubectl config set-context) or run `kst demo`")]
    NoContexts(String),
    #[error("no context matches {0:?}; known contexts: {1}")]
    NoMatch(String, String),
}

/// The kubeconfig paths in force: `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`.
pub fn kubeconfig_paths(explicit: Option<&str>) -> Vec<PathBuf> {
    let joined = explicit.map(str::to_string).or_else(|| std::env::var("KUBECONFIG").ok().filter(|s| !s.is_empty()));
    match joined {
        Some(s) => std::env::split_paths(&s).filter(|p| !p.as_os_str().is_empty()).collect(),
        None => {
            directories::BaseDirs::new().map(|b| vec![b.home_dir().join(".kube").join("config")]).unwrap_or_default()
        }
    }
}

/// Reads and merges the kubeconfig files (the first file's entries win, as kubectl does).
pub fn load_kubeconfig(explicit: Option<&str>) -> Result<Kubeconfig, ConnectError> {
    let paths = kubeconfig_paths(explicit);
    let mut merged: Option<Kubeconfig> = None;
    let mut empty = Vec::new();
    for p in &paths {
        if !p.exists() {
            continue;
        }
        // an empty file is a kubeconfig without contexts, not a parse error
        if std::fs::read_to_string(p).is_ok_and(|t| t.trim().is_empty()) {
            empty.push(p.display().to_string());
            continue;
        }
        let kc = Kubeconfig::read_from(p)
            .map_err(|e| ConnectError::Unreadable { path: p.display().to_string(), reason: e.to_string() })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m
                .merge(kc)
                .map_err(|e| ConnectError::Unreadable { path: p.display().to_string(), reason: e.to_string() })?,
        });
    }
    let shown = || paths.iter().filter(|p| p.exists()).map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    match merged {
        None if !empty.is_empty() => Err(ConnectError::NoContexts(empty.join(", "))),
        None => Err(ConnectError::NoKubeconfig(
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        )),
        Some(kc) if kc.contexts.is_empty() => Err(ConnectError::NoContexts(shown())),
        Some(kc) => Ok(kc),
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post),
    }
}

/// The contexts to watch, in kubeconfig order: all of them, or those the names/patterns pick.
pub fn select_targets(kc: Kubeconfig, wanted: &[String]) -> Result<Vec<Target>, ConnectError> {
    if kc.contexts.is_empty() {
        return Err(ConnectError::NoContexts("given".into()));
    }
    let names: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
    for w in wanted {
        if !names.iter().any(|n| matches(w, n)) {
            return Err(ConnectError::NoMatch(w.clone(), names.join(", ")));
        }
    }
    let kc = Arc::new(kc);
    let server_of = |ctx: &str| -> String {
        let cluster = kc
            .contexts
            .iter()
            .find(|c| c.name == ctx)
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.clone())
            .unwrap_or_default();
        kc.clusters
            .iter()
            .find(|c| c.name == cluster)
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.server.clone())
            .unwrap_or_default()
    };
    Ok(names
        .iter()
        .filter(|n| wanted.is_empty() || wanted.iter().any(|w| matches(w, n)))
        .map(|n| Target { context: n.clone(), server: server_of(n), kubeconfig: kc.clone() })
        .collect())
}

/// The cluster entry a context points at.
fn cluster_of<'a>(kc: &'a Kubeconfig, context: &str) -> Option<&'a kube::config::NamedCluster> {
    let name = kc.contexts.iter().find(|c| c.name == context)?.context.as_ref()?.cluster.clone();
    kc.clusters.iter().find(|c| c.name == name)
}

/// `certificate-authority-data` must be base64 of PEM certificates: checked here, because a
/// bad one otherwise surfaces later as a TLS "unknown issuer", which sends people hunting for
/// a proxy or a wrong server instead of at the kubeconfig line.
fn check_ca_data(t: &Target) -> Result<(), String> {
    use base64::Engine;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let Some(named) = cluster_of(&t.kubeconfig, &t.context) else { return Ok(()) };
    let Some(data) = named.cluster.as_ref().and_then(|c| c.certificate_authority_data.as_deref()) else {
        return Ok(());
    };
    let field = format!("cluster {:?}: certificate-authority-data", named.name);
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("{field} is not base64 ({e})"))?;
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{field} is not a PEM certificate ({e})"))?;
    if certs.is_empty() {
        return Err(format!("{field} holds no PEM certificate"));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| format!("{field}: not a usable certificate ({e})"))?;
    }
    Ok(())
}

/// How kst reaches a cluster it knows only through a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterProxy {
    /// OCM cluster-proxy's user server: `<url>/<cluster>/<kubernetes path>`, the hub's token.
    Ocm { url: String, hub: String, ca_pem: Option<String> },
    /// Karmada's aggregated API: `<hub server>/apis/cluster.karmada.io/v1alpha1/clusters/<cluster>/proxy`.
    Karmada { hub: String },
}

impl ClusterProxy {
    pub fn hub(&self) -> &str {
        match self {
            ClusterProxy::Ocm { hub, .. } | ClusterProxy::Karmada { hub } => hub,
        }
    }
}

/// A target for `cluster` through `proxy`: a kubeconfig context of that name whose server is the
/// proxy's URL for it, with the hub context's user (its token, certificate or exec plugin) and
/// the proxy's CA (OCM) or the hub's (Karmada). None when the hub is not a context.
pub fn proxied_target(hub_kc: &Kubeconfig, proxy: &ClusterProxy, cluster: &str) -> Option<Target> {
    use base64::Engine;
    let hub_ctx = hub_kc.contexts.iter().find(|c| c.name == proxy.hub())?.context.clone()?;
    let hub_cluster = hub_kc.clusters.iter().find(|c| c.name == hub_ctx.cluster)?.cluster.clone()?;
    let user = hub_kc.auth_infos.iter().find(|a| Some(&a.name) == hub_ctx.user.as_ref())?.clone();
    let mut cl = hub_cluster.clone();
    match proxy {
        ClusterProxy::Ocm { url, ca_pem, .. } => {
            cl.server = Some(format!("{}/{cluster}", url.trim_end_matches('/')));
            if let Some(pem) = ca_pem {
                cl.certificate_authority = None;
                cl.certificate_authority_data = Some(base64::engine::general_purpose::STANDARD.encode(pem));
            }
            // the hub's server name is not the proxy's
            cl.tls_server_name = None;
        }
        ClusterProxy::Karmada { .. } => {
            let base = hub_cluster.server.clone().unwrap_or_default();
            cl.server = Some(format!(
                "{}/apis/cluster.karmada.io/v1alpha1/clusters/{cluster}/proxy",
                base.trim_end_matches('/')
            ));
        }
    }
    let server = cl.server.clone().unwrap_or_default();
    let entry = format!("kst-proxy-{cluster}");
    let kc = Kubeconfig {
        clusters: vec![kube::config::NamedCluster {
            name: entry.clone(),
            cluster: Some(cl),
            other: Default::default(),
        }],
        auth_infos: vec![user.clone()],
        contexts: vec![kube::config::NamedContext {
            name: cluster.to_string(),
            context: Some(kube::config::Context {
                cluster: entry,
                user: Some(user.name.clone()),
                ..Default::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(cluster.to_string()),
        ..Default::default()
    };
    Some(Target { context: cluster.to_string(), server, kubeconfig: Arc::new(kc) })
}

/// Dials clusters known only through a hub, on demand (Enter on their row): each becomes a
/// cluster of the fleet with its own collector, reached through the hub's proxy.
pub struct Dialer {
    pub proxy: ClusterProxy,
    /// The kubeconfig holding the hub's context (its user is the proxy's credential).
    pub hub_kubeconfig: Arc<Kubeconfig>,
    pub tx: tokio::sync::mpsc::UnboundedSender<(usize, Target)>,
}

impl Dialer {
    /// How the dialed cluster is reached, in words.
    pub fn via(&self) -> String {
        match &self.proxy {
            ClusterProxy::Ocm { hub, .. } => format!("cluster-proxy of {hub}"),
            ClusterProxy::Karmada { hub } => format!("Karmada's proxy on {hub}"),
        }
    }

    /// Adds `name` to the fleet and starts its collector: its index and target.
    pub fn dial(&self, fleet: &mut crate::store::Fleet, name: &str) -> Result<(usize, Target), String> {
        if let Some(i) = fleet.clusters.iter().position(|c| c.context == name) {
            return Ok((i, fleet_target(self, name)?));
        }
        let target = fleet_target(self, name)?;
        let index = fleet.add_cluster(name, &target.server, self.via());
        self.tx.send((index, target.clone())).map_err(|_| "the collectors have stopped".to_string())?;
        Ok((index, target))
    }
}

fn fleet_target(d: &Dialer, name: &str) -> Result<Target, String> {
    proxied_target(&d.hub_kubeconfig, &d.proxy, name).ok_or_else(|| {
        format!("the hub context {} is not in the kubeconfig (or has no cluster or user)", d.proxy.hub())
    })
}

/// A client for one context. Errors here are the kubeconfig's (missing user, bad CA...).
pub async fn client_for(t: &Target) -> Result<kube::Client, String> {
    check_ca_data(t)?;
    let opts = KubeConfigOptions { context: Some(t.context.clone()), ..Default::default() };
    let mut cfg =
        kube::Config::from_custom_kubeconfig((*t.kubeconfig).clone(), &opts).await.map_err(|e| e.to_string())?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    // kube retries 429/503/504 up to 15 times with backoff inside one call. kst has its own
    // backoff per collector, and a proxied endpoint answering 503 ("connection refused") must
    // show as that, at once, not as a timeout after a burst of retries against the API server.
    cfg.default_retry = false;
    client_over_h2(cfg).map_err(|e| e.to_string())
}

/// kube's own client is HTTP/1.1 only: every watch holds its own TCP and TLS connection (some
/// 50 per cluster, 5,200 and 350 MB of buffers at 100 clusters). This one is kube's layers (base
/// URI, auth with token refresh, extra headers) over hyper with HTTP/2 offered by ALPN, so all
/// of a cluster's watches and scrapes share one multiplexed connection, as client-go's do; an
/// API server that only speaks HTTP/1.1 still gets it. HTTP/2 pings find a dead connection
/// (client-go's 30 s health check) where an idle watch would otherwise wait forever.
fn client_over_h2(cfg: kube::Config) -> Result<kube::Client, kube::Error> {
    use hyper_util::rt::TokioExecutor;
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(cfg.connect_timeout);
    http.set_nodelay(true);
    let mut tls =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(cfg.rustls_client_config()?).https_or_http();
    if let Some(name) = &cfg.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| kube::Error::Service(format!("tls-server-name {name}: {e}").into()))?;
        tls = tls.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = tls.enable_http1().enable_http2().wrap_connector(http);
    let hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_keep_alive_interval(Some(Duration::from_secs(30)))
        .http2_keep_alive_timeout(Duration::from_secs(15))
        .http2_keep_alive_while_idle(true)
        // flow-control windows sized to the link (BDP probes) instead of 2 MB per stream: the
        // first lists of 50 watches at once do not sit in buffers kst has not read yet
        .http2_adaptive_window(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(cfg.base_uri_layer())
        .option_layer(cfg.auth_layer()?)
        .layer(cfg.extra_headers_layer()?)
        .map_err(|e: hyper_util::client::legacy::Error| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        .service(hyper);
    Ok(kube::Client::new(service, cfg.default_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://1.2.3.4'}\n- name: b\n  cluster: {server: 'https://5.6.7.8'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: gpu-east\n  context: {cluster: a, user: u}\n- name: gpu-west\n  context: {cluster: b, user: u}\n- name: agents\n  context: {cluster: b, user: u}\n";

    #[test]
    fn patterns_pick_contexts_in_order() {
        let kc = Kubeconfig::from_yaml(KC).unwrap();
        let all = select_targets(kc.clone(), &[]).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].server, "https://1.2.3.4");
        let gpu = select_targets(kc.clone(), &["gpu-*".into()]).unwrap();
        assert_eq!(gpu.iter().map(|t| t.context.as_str()).collect::<Vec<_>>(), vec!["gpu-east", "gpu-west"]);
        let err = select_targets(kc, &["nope".into()]).unwrap_err();
        assert!(err.to_string().contains("known contexts: gpu-east, gpu-west, agents"));
    }

    #[tokio::test]
    async fn a_ca_that_is_not_a_certificate_names_the_field() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let with_ca = |ca: &str| {
            let kc = Kubeconfig::from_yaml(&format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {{server: 'https://1.2.3.4', certificate-authority-data: '{ca}'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: c\n  context: {{cluster: a, user: u}}\n"
            ))
            .unwrap();
            select_targets(kc, &[]).unwrap().remove(0)
        };
        for (ca, says) in [
            ("%%%not base64", "is not base64"),
            (b64("hello, not a certificate").as_str(), "holds no PEM certificate"),
            (
                b64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").as_str(),
                "not a usable certificate",
            ),
        ] {
            let err = client_for(&with_ca(ca)).await.err().expect("refused");
            assert!(err.starts_with("cluster \"a\": certificate-authority-data") && err.contains(says), "{err}");
        }
        let ca = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap().cert.pem();
        assert!(client_for(&with_ca(&b64(&ca))).await.is_ok(), "a real CA is accepted");
    }

    #[test]
    fn broken_kubeconfig_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, "clusters: [this is: not {valid").unwrap();
        let err = load_kubeconfig(Some(p.to_str().unwrap())).unwrap_err();
        assert!(matches!(err, ConnectError::Unreadable { .. }), "{err}");
        let missing = dir.path().join("missing");
        let err = load_kubeconfig(Some(missing.to_str().unwrap())).unwrap_err();
        assert!(err.to_string().contains("kst demo"));
        // an empty file, and one with no contexts: the message names the file
        std::fs::write(&p, "\n").unwrap();
        let err = load_kubeconfig(Some(p.to_str().unwrap())).unwrap_err().to_string();
        assert!(err.contains(p.to_str().unwrap()) && err.contains("no contexts"), "{err}");
        std::fs::write(&p, "apiVersion: v1\nkind: Config\nclusters: []\n").unwrap();
        let err = load_kubeconfig(Some(p.to_str().unwrap())).unwrap_err().to_string();
        assert!(err.contains(p.to_str().unwrap()) && err.contains("no contexts"), "{err}");
    }
}
