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
    #[error("kubeconfig has no contexts")]
    NoContexts,
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
    for p in &paths {
        if !p.exists() {
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
    merged.ok_or_else(|| {
        ConnectError::NoKubeconfig(paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
    })
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
        return Err(ConnectError::NoContexts);
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

/// A client for one context. Errors here are the kubeconfig's (missing user, bad CA...).
pub async fn client_for(t: &Target) -> Result<kube::Client, String> {
    let opts = KubeConfigOptions { context: Some(t.context.clone()), ..Default::default() };
    let mut cfg =
        kube::Config::from_custom_kubeconfig((*t.kubeconfig).clone(), &opts).await.map_err(|e| e.to_string())?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    // kube retries 429/503/504 up to 15 times with backoff inside one call. kst has its own
    // backoff per collector, and a proxied endpoint answering 503 ("connection refused") must
    // show as that, at once, not as a timeout after a burst of retries against the API server.
    cfg.default_retry = false;
    kube::Client::try_from(cfg).map_err(|e| e.to_string())
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
    }
}
