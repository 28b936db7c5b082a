//! The config file (TOML, in the platform config dir) and the settings kst runs with:
//! defaults < config file < command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::CommonArgs;
use crate::durations::parse_duration;
use crate::files::{cache_dir, default_config_path, state_dir};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Context names or `prefix*` patterns; empty: every context.
    #[serde(default)]
    pub contexts: Vec<String>,
    pub refresh: Option<String>,
    /// A cluster whose API server takes longer than this to answer is `slow` (default 2s).
    pub slow_after: Option<String>,
    pub theme: Option<String>,
    pub readonly: Option<bool>,
    pub log_file: Option<PathBuf>,
    pub audit_file: Option<PathBuf>,
    /// Take mouse events (wheel, clicks on tabs and rows). Off: the terminal's text selection works.
    pub mouse: Option<bool>,
    /// Key bindings by action name; a string or a list of strings each.
    #[serde(default)]
    pub keys: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub kiosk: KioskFile,
    /// Per-context overrides, keyed by context name.
    #[serde(default)]
    pub context: BTreeMap<String, ContextOverride>,
    /// The posture baseline file; `{context}` is replaced by the context name.
    pub baseline_file: Option<String>,
    /// MCP servers outside the clusters, listed next to the in-cluster ones.
    #[serde(default)]
    pub mcp_endpoint: Vec<McpEndpoint>,
    #[serde(default)]
    pub nightly: NightlyFile,
    /// Where llm-d-benchmark reports (v0.2 / v0.2.1, YAML or JSON) are read from.
    pub reports_dir: Option<PathBuf>,
    #[serde(default)]
    pub metrics: MetricsFile,
    /// Service-level objectives per pool or model.
    #[serde(default)]
    pub slo: Vec<SloFile>,
    #[serde(default)]
    pub cost: CostFile,
    #[serde(default)]
    pub gpus: GpusFile,
    #[serde(default)]
    pub fleet: FleetFile,
    /// `[[alertmanager]]`: Alertmanagers whose alerts and silences kst shows with its problems.
    #[serde(default)]
    pub alertmanager: Vec<AlertmanagerFile>,
}

/// `[fleet]`: which contexts are dialed when, the hubs, and how clusters known only through a
/// hub are reached.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// `{ kind = "ocm", url = "https://cluster-proxy-addon-user...:9092", hub = "<context>",
    /// ca_file = "..." }` or `{ kind = "karmada", hub = "<karmada-apiserver context>" }`.
    pub cluster_proxy: Option<ClusterProxyFile>,
    /// When kubeconfig contexts are dialed: `always` (at start, the default), `focus` (when
    /// focused or drilled into), `never` (only what a hub and a query layer say of them).
    pub dial: Option<String>,
    /// The hub context(s) (an OCM hub, a KubeStellar ITS): dialed at start whatever `dial`
    /// says, since their ManagedClusters are the fleet's inventory. `"its1"` or a list.
    pub hub: Option<OneOrMany>,
}

/// `[fleet] dial`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dial {
    #[default]
    Always,
    Focus,
    Never,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterProxyFile {
    pub kind: String,
    pub hub: String,
    pub url: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// `[gpus]`: which extended resources are GPUs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpusFile {
    /// Resource names counted as GPUs on nodes and in pods' requests (default: NVIDIA whole and
    /// time-sliced, AMD, Intel, Gaudi).
    pub resources: Option<Vec<String>>,
}

/// `[cost]`: prices for clusters without OpenCost.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostFile {
    /// Dollars per GPU-hour by GPU product (`nvidia.com/gpu.product`), e.g.
    /// `gpu_hour = { "NVIDIA-H100-80GB-HBM3" = 4.5 }`: costs from these are estimates.
    #[serde(default)]
    pub gpu_hour: BTreeMap<String, f64>,
    /// The pod label naming a GPU pod's team (default `team`).
    pub team_label: Option<String>,
    /// OpenCost per context when it is not the Service named `opencost`:
    /// `opencost = { "gpu-eu-west" = "kubecost/opencost:9003" }`.
    #[serde(default)]
    pub opencost: BTreeMap<String, String>,
}

/// `[metrics]`: how metric samples are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    /// Rates and percentiles are taken over this window (default: 1m, at least 4 refreshes).
    pub rate_window: Option<String>,
    /// Values older than this many refresh intervals are not shown (default 5); younger
    /// ones that stopped updating are drawn dimmed with their age.
    pub hide_after: Option<f64>,
    /// A Prometheus-compatible query layer holding the model servers' series.
    #[serde(default)]
    pub prometheus: Vec<PromFile>,
}

/// `[[metrics.prometheus]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromFile {
    /// Up to `/api/v1`: `http://thanos-query:9090`, `https://mimir.example/prometheus`.
    /// Or, instead, `context` and `service`.
    #[serde(default)]
    pub url: String,
    /// Reach the query layer through this kubeconfig context's API server (its service proxy,
    /// with the context's credentials), at `service`.
    pub context: Option<String>,
    /// `namespace/[scheme:]name:port`: `monitoring/prometheus-k8s:9090`,
    /// `openshift-monitoring/https:thanos-querier:9091`.
    pub service: Option<String>,
    /// A file holding a bearer token (read at start; never logged).
    pub bearer_token_file: Option<PathBuf>,
    /// An environment variable holding a bearer token.
    pub bearer_token_env: Option<String>,
    pub basic_auth_user: Option<String>,
    /// An environment variable holding the basic-auth password.
    pub basic_auth_password_env: Option<String>,
    /// Extra headers, e.g. `{ "X-Scope-OrgID" = "tenant-1" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Extra query parameters, e.g. `{ dedup = "true", partial_response = "true" }`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The label naming each series' cluster (default `cluster`).
    pub cluster_label: Option<String>,
    /// Label values that differ from the context names: `{ "prod-east" = "kind-east" }`.
    #[serde(default)]
    pub clusters: BTreeMap<String, String>,
    /// How long one query may take (default 10s).
    pub timeout: Option<String>,
    /// A PEM file of CA certificates its certificate is checked against (beside the system's).
    pub ca_file: Option<PathBuf>,
    /// Take any certificate (a lab; never the default).
    pub insecure_skip_verify: Option<bool>,
    /// `raw` (default): the roll-ups of hub clusters computed from the engines' series each
    /// round; `recorded`: read from the series `kst rules`' `kst-rollups` group records.
    pub rollups: Option<String>,
}

/// `[[alertmanager]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerFile {
    /// Up to `/api/v2`: `http://alertmanager.monitoring:9093`.
    pub url: String,
    pub bearer_token_file: Option<PathBuf>,
    pub bearer_token_env: Option<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_env: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How long one request may take (default 10s).
    pub timeout: Option<String>,
    /// A PEM file of CA certificates its certificate is checked against (beside the system's).
    pub ca_file: Option<PathBuf>,
    /// Take any certificate (a lab; never the default).
    pub insecure_skip_verify: Option<bool>,
}

/// `[nightly]`: the llm-d nightly E2E matrix from GitHub.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NightlyFile {
    /// Default: on when a token is known (GITHUB_TOKEN or `token`), off otherwise.
    pub enabled: Option<bool>,
    pub repo: Option<String>,
    /// API base URL (GitHub Enterprise: https://HOST/api/v3).
    pub api: Option<String>,
    /// Prefer GITHUB_TOKEN in the environment to a token in a file.
    pub token: Option<String>,
    pub every: Option<String>,
    pub runs: Option<usize>,
    /// Published badge JSON instead of the API: base URL and badge names.
    pub badge_base: Option<String>,
    #[serde(default)]
    pub badges: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpEndpoint {
    pub name: String,
    /// Streamable HTTP endpoint, e.g. `https://mcp.example.com/mcp` (with `transport = "sse"`,
    /// the legacy HTTP+SSE stream's URL, e.g. `https://old.example.com/sse`).
    pub url: String,
    pub transport: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// `[[slo]]`: `pool = "llm-d/pd-disaggregation"` or `model = "Llama-3.1-8B-Instruct"` (or
/// both), and any of `ttft_p99 = "2s"`, `itl_p99 = "100ms"`, `error_rate = 0.01`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloFile {
    pub pool: Option<String>,
    pub model: Option<String>,
    pub ttft_p99: Option<String>,
    pub itl_p99: Option<String>,
    pub error_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskFile {
    pub rotate: Option<String>,
    pub lock: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextOverride {
    /// Shown instead of the context name.
    pub alias: Option<String>,
    pub refresh: Option<String>,
}

pub fn load_file(path: &Path, explicit: bool) -> Result<ConfigFile, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(ConfigFile::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub contexts: Vec<String>,
    pub refresh: Duration,
    pub theme: String,
    pub readonly: bool,
    pub kiosk: bool,
    /// Kiosk: `q` never quits (`--kiosk-lock`, or `[kiosk] lock = true`).
    pub kiosk_lock: bool,
    pub rotate: Duration,
    pub log_file: PathBuf,
    pub aliases: BTreeMap<String, String>,
    /// Per-context refresh intervals that differ from `refresh`.
    pub refresh_overrides: BTreeMap<String, Duration>,
    /// Every write attempt is appended here (JSON lines).
    pub audit_file: PathBuf,
    pub mouse: bool,
    /// `[keys]` from the config: action name -> keys.
    pub keys: BTreeMap<String, Vec<String>>,
    pub baseline_file: Option<String>,
    /// MCP servers outside the clusters.
    pub mcp_endpoints: Vec<crate::sources::fabric::ExternalEndpoint>,
    /// The config's service-level objectives.
    pub slos: Vec<crate::store::slo::Slo>,
    /// `[cost] gpu_hour`: dollars per GPU-hour by product.
    pub gpu_prices: BTreeMap<String, f64>,
    /// `[cost] team_label`.
    pub team_label: String,
    /// `[gpus] resources`.
    pub gpu_resources: Vec<String>,
    /// `[fleet] dial`.
    pub dial: Dial,
    /// `[fleet] hub`: contexts dialed at start whatever `dial` says.
    pub hubs: Vec<String>,
    /// `[fleet] cluster_proxy`, read (the CA file too).
    pub cluster_proxy: Option<crate::sources::connect::ClusterProxy>,
    /// `[cost] opencost`, parsed.
    pub opencost: BTreeMap<String, crate::sources::options::ServiceRef>,
    /// `--metrics`.
    pub metrics_mode: crate::cli::MetricsMode,
    /// `[[metrics.prometheus]]`, resolved (tokens read), in the file's order: a cluster two of
    /// them hold is read from the first.
    pub prometheus: Vec<crate::sources::prom::PromConfig>,
    /// The nightly matrix source, or why it is off.
    pub nightly: Result<crate::sources::nightly::NightlyConfig, String>,
    pub reports_dir: Option<PathBuf>,
    /// `[metrics] rate_window`, if set.
    pub rate_window: Option<Duration>,
    /// `[metrics] hide_after`, in refresh intervals.
    pub hide_after: Option<f64>,
    pub slow_after: Duration,
    /// Multiplies every triage rule's `for:` (1: upstream's; the demo shortens them).
    pub hold_scale: f64,
    /// Where the problems' ages, standing and resolved history are kept across restarts.
    pub problems_file: PathBuf,
    /// `[[alertmanager]]`, resolved.
    pub alertmanagers: Vec<crate::sources::alertmanager::AlertmanagerConfig>,
}

impl Settings {
    pub fn resolve(args: &CommonArgs) -> Result<Settings, String> {
        let (path, explicit) = match &args.config {
            Some(p) => (p.clone(), true),
            None => (default_config_path(), false),
        };
        let file = load_file(&path, explicit)?;
        // a duration in the file is checked as the flag's would be: zero is an error naming the
        // key, never a silent clamp
        let dur = |s: &Option<String>, default: Duration, key: &str| -> Result<Duration, String> {
            match s {
                Some(s) => positive(s).map_err(|e| format!("{}: {key}: {e}", path.display())),
                None => Ok(default),
            }
        };
        let refresh = match args.refresh {
            Some(r) => r,
            None => match &file.refresh {
                Some(r) => crate::cli::parse_refresh(r).map_err(|e| format!("{}: refresh: {e}", path.display()))?,
                None => Duration::from_secs(5),
            },
        };
        let rotate = match args.rotate {
            Some(r) => r,
            None => dur(&file.kiosk.rotate, Duration::from_secs(20), "kiosk.rotate")?,
        };
        let contexts = if args.context.is_empty() { file.contexts.clone() } else { args.context.clone() };
        let aliases = file.context.iter().filter_map(|(k, v)| Some((k.clone(), v.alias.clone()?))).collect();
        let mut refresh_overrides = BTreeMap::new();
        for (ctx, o) in &file.context {
            if let Some(r) = &o.refresh {
                let d = crate::cli::parse_refresh(r)
                    .map_err(|e| format!("{}: context.{ctx}.refresh: {e}", path.display()))?;
                refresh_overrides.insert(ctx.clone(), d);
            }
        }
        Ok(Settings {
            contexts,
            refresh: refresh.max(Duration::from_millis(200)),
            theme: args.theme.clone().or(file.theme).unwrap_or_else(|| "dark".into()),
            readonly: args.readonly || args.kiosk || file.readonly.unwrap_or(false),
            kiosk: args.kiosk,
            kiosk_lock: args.kiosk_lock || (args.kiosk && file.kiosk.lock.unwrap_or(false)),
            rotate: rotate.max(Duration::from_secs(2)),
            log_file: args.log_file.clone().or(file.log_file).unwrap_or_else(|| state_dir().join("kst.log")),
            aliases,
            refresh_overrides,
            audit_file: file.audit_file.clone().unwrap_or_else(crate::audit::default_path),
            mouse: file.mouse.unwrap_or(false),
            keys: file.keys.iter().map(|(k, v)| (k.clone(), v.list())).collect(),
            baseline_file: file.baseline_file.clone(),
            mcp_endpoints: file
                .mcp_endpoint
                .iter()
                .map(|e| crate::sources::fabric::ExternalEndpoint {
                    name: e.name.clone(),
                    url: e.url.clone(),
                    transport: e.transport.clone(),
                })
                .collect(),
            nightly: nightly_config(&file.nightly, std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()))
                .map_err(|e| e.to_string()),
            reports_dir: file.reports_dir.clone(),
            metrics_mode: args.metrics.unwrap_or_default(),
            prometheus: prom_config(&file.metrics.prometheus, &path, args.metrics.unwrap_or_default())?,
            gpu_prices: {
                if let Some((k, v)) = file.cost.gpu_hour.iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                    return Err(format!("{}: cost.gpu_hour.{k} = {v}: a price must be 0 or more", path.display()));
                }
                file.cost.gpu_hour.clone()
            },
            cluster_proxy: cluster_proxy(file.fleet.cluster_proxy.as_ref(), &path)?,
            hubs: file.fleet.hub.as_ref().map(OneOrMany::list).unwrap_or_default(),
            dial: match file.fleet.dial.as_deref() {
                None | Some("always") => Dial::Always,
                Some("focus") => Dial::Focus,
                Some("never") => Dial::Never,
                Some(other) => {
                    return Err(format!(
                        "{}: fleet.dial = {other:?}: \"always\", \"focus\" or \"never\"",
                        path.display()
                    ))
                }
            },
            gpu_resources: match &file.gpus.resources {
                None => crate::sources::gpu_resources::DEFAULT.iter().map(|s| s.to_string()).collect(),
                Some(list) if list.is_empty() || list.iter().any(|r| !r.contains('/')) => {
                    return Err(format!(
                        "{}: gpus.resources = {list:?}: name extended resources such as nvidia.com/gpu",
                        path.display()
                    ))
                }
                Some(list) => list.clone(),
            },
            team_label: match file.cost.team_label.as_deref().map(str::trim) {
                None => crate::sources::options::TEAM_LABEL.to_string(),
                Some("") => return Err(format!("{}: cost.team_label is empty: name a pod label", path.display())),
                Some(l) => l.to_string(),
            },
            opencost: file
                .cost
                .opencost
                .iter()
                .map(|(k, v)| {
                    v.parse().map(|r| (k.clone(), r)).map_err(|e| format!("{}: cost.opencost.{k}: {e}", path.display()))
                })
                .collect::<Result<_, _>>()?,
            slos: file
                .slo
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let at = |what: &str, v: &Option<String>| {
                        v.as_deref()
                            .map(|d| parse_duration(d).map(|d| d.as_secs_f64()))
                            .transpose()
                            .map_err(|err| format!("{}: slo[{i}].{what}: {err}", path.display()))
                    };
                    if e.pool.is_none() && e.model.is_none() {
                        return Err(format!("{}: slo[{i}] names no pool and no model", path.display()));
                    }
                    if e.error_rate.is_some_and(|r| !(0.0..1.0).contains(&r)) {
                        return Err(format!("{}: slo[{i}].error_rate must be between 0 and 1", path.display()));
                    }
                    Ok(crate::store::slo::Slo {
                        pool: e.pool.clone(),
                        model: e.model.clone(),
                        ttft_p99_s: at("ttft_p99", &e.ttft_p99)?,
                        itl_p99_s: at("itl_p99", &e.itl_p99)?,
                        error_rate: e.error_rate,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?,
            rate_window: match &file.metrics.rate_window {
                Some(w) => Some(positive(w).map_err(|e| format!("{}: metrics.rate_window: {e}", path.display()))?),
                None => None,
            },
            slow_after: dur(&file.slow_after, Duration::from_secs(2), "slow_after")?,
            hold_scale: 1.0,
            problems_file: state_dir().join("problems.json"),
            alertmanagers: alertmanager_config(&file.alertmanager, &path)?,
            hide_after: match file.metrics.hide_after {
                Some(h) if !(h.is_finite() && h >= 1.0) => {
                    return Err(format!("{}: metrics.hide_after: at least 1 (refresh intervals)", path.display()))
                }
                other => other,
            },
        })
    }
}

/// The matrix source from `[nightly]` and the environment's token; Err says why it is off.
pub fn nightly_config(
    n: &NightlyFile,
    env_token: Option<String>,
) -> Result<crate::sources::nightly::NightlyConfig, String> {
    // the config's own token first; GITHUB_TOKEN is github.com's, so only for github.com
    let api = n.api.clone().unwrap_or_else(|| "https://api.github.com".into());
    let token = n.token.clone().or(env_token.filter(|_| api.trim_end_matches('/') == "https://api.github.com"));
    let badges = n.badge_base.is_some() && !n.badges.is_empty();
    let enabled = n.enabled.unwrap_or(token.is_some() || badges);
    if !enabled {
        return Err("nightly matrix off: set GITHUB_TOKEN (or [nightly] enabled = true; unauthenticated \
                    GitHub allows 60 requests an hour)"
            .into());
    }
    let every = match &n.every {
        Some(s) => parse_duration(s).map_err(|e| format!("nightly.every: {e}"))?,
        None => Duration::from_secs(600),
    };
    Ok(crate::sources::nightly::NightlyConfig {
        repo: n.repo.clone().unwrap_or_else(|| "llm-d/llm-d".into()),
        api,
        token,
        runs: n.runs.unwrap_or(7).clamp(1, 30),
        every: every.max(Duration::from_secs(60)),
        cache_dir: cache_dir(),
        badge_base: n.badge_base.clone(),
        badges: n.badges.clone(),
    })
}

fn cluster_proxy(
    f: Option<&ClusterProxyFile>,
    path: &std::path::Path,
) -> Result<Option<crate::sources::connect::ClusterProxy>, String> {
    use crate::sources::connect::ClusterProxy;
    let Some(f) = f else { return Ok(None) };
    let at = |what: &str| format!("{}: fleet.cluster_proxy: {what}", path.display());
    if f.hub.trim().is_empty() {
        return Err(at("hub names the hub's context"));
    }
    match f.kind.as_str() {
        "ocm" => {
            let url = f.url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://")).ok_or_else(|| {
                at("kind = \"ocm\" needs url, the cluster-proxy user server (https://cluster-proxy-addon-user.<ns>.svc:9092)")
            })?;
            let ca_pem = match &f.ca_file {
                Some(p) => Some(std::fs::read_to_string(p).map_err(|e| at(&format!("ca_file {}: {e}", p.display())))?),
                None => None,
            };
            Ok(Some(ClusterProxy::Ocm { url, hub: f.hub.clone(), ca_pem }))
        }
        "karmada" => Ok(Some(ClusterProxy::Karmada { hub: f.hub.clone() })),
        other => Err(at(&format!("kind = {other:?}: \"ocm\" (cluster-proxy) or \"karmada\""))),
    }
}

/// `[[metrics.prometheus]]` -> the sources' settings; a missing token file or variable, a URL
/// that is no URL, the same URL twice, or `--metrics prometheus` without an entry is a
/// configuration error.
fn prom_config(
    entries: &[PromFile],
    path: &Path,
    mode: crate::cli::MetricsMode,
) -> Result<Vec<crate::sources::prom::PromConfig>, String> {
    if entries.is_empty() && mode == crate::cli::MetricsMode::Prometheus {
        return Err(format!(
            "--metrics prometheus needs a query layer: add [[metrics.prometheus]] url = \"http://…\" to {}",
            path.display()
        ));
    }
    if mode == crate::cli::MetricsMode::Direct {
        return Ok(Vec::new());
    }
    let mut out: Vec<crate::sources::prom::PromConfig> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        // `metrics.prometheus.url` for one entry; `metrics.prometheus[1].url` among several
        let at = |what: &str| {
            let n = if entries.len() > 1 { format!("[{i}]") } else { String::new() };
            format!("{}: metrics.prometheus{n}.{what}", path.display())
        };
        let c = prom_entry(e, &at)?;
        if let Some(j) = out.iter().position(|o| o.url == c.url && o.headers == c.headers) {
            return Err(format!(
                "{}: the same query layer as metrics.prometheus[{j}] (same url and headers)",
                at("url")
            ));
        }
        out.push(c);
    }
    Ok(out)
}

/// One `[[metrics.prometheus]]` entry; `at` names a field of it in messages.
fn prom_entry(e: &PromFile, at: &dyn Fn(&str) -> String) -> Result<crate::sources::prom::PromConfig, String> {
    let through = match (&e.context, &e.service) {
        (Some(_), _) | (_, Some(_)) if !e.url.is_empty() => {
            return Err(format!("{}: either url, or context and service (not both)", at("url")))
        }
        (Some(c), Some(s)) => {
            Some(crate::sources::prom::Through::parse(c, s).map_err(|e| format!("{}: {e}", at("service")))?)
        }
        (Some(_), None) => return Err(format!("{} needs service = \"namespace/name:port\"", at("context"))),
        (None, Some(_)) => return Err(format!("{} needs context = \"<kubeconfig context>\"", at("service"))),
        (None, None) => None,
    };
    if through.is_none() && !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
        return Err(format!("{}: {:?} is not an http(s) URL", at("url"), e.url));
    }
    if through.is_some()
        && (e.bearer_token_file.is_some() || e.bearer_token_env.is_some() || e.basic_auth_user.is_some())
    {
        return Err(format!(
            "{}: through a context the context's credentials are used; drop the token and basic auth",
            at("context")
        ));
    }
    let (bearer_token, basic_auth) =
        http_auth(&e.bearer_token_file, &e.bearer_token_env, &e.basic_auth_user, &e.basic_auth_password_env, at)?;
    let timeout = match &e.timeout {
        Some(t) => positive(t).map_err(|err| format!("{}: {err}", at("timeout")))?,
        None => Duration::from_secs(10),
    };
    Ok(crate::sources::prom::PromConfig {
        tls: tls(&e.ca_file, e.insecure_skip_verify, at)?,
        url: through.as_ref().map(crate::sources::prom::Through::display).unwrap_or_else(|| e.url.clone()),
        through,
        bearer_token,
        basic_auth,
        headers: e.headers.clone(),
        params: e.params.clone(),
        cluster_label: e.cluster_label.clone().unwrap_or_else(|| "cluster".into()),
        clusters: e.clusters.clone(),
        timeout,
        rate_window: Duration::from_secs(60),
        rollups: match &e.rollups {
            Some(v) => {
                crate::sources::prom::RollupSource::parse(v).map_err(|err| format!("{}: {err}", at("rollups")))?
            }
            None => Default::default(),
        },
    })
}

/// A bearer token (from a file or an environment variable) or basic auth (a user and a password
/// from the environment), read at start; never logged.
type Auth = (Option<String>, Option<(String, String)>);

/// `ca_file` read at start (a missing or unreadable file is an error naming the key).
fn tls(
    ca_file: &Option<PathBuf>,
    insecure: Option<bool>,
    at: &dyn Fn(&str) -> String,
) -> Result<crate::sources::get::Tls, String> {
    let ca_pem = match ca_file {
        Some(f) => {
            let pem = std::fs::read(f).map_err(|e| format!("{}: {}: {e}", at("ca_file"), f.display()))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!("{}: {}: no PEM certificate in it", at("ca_file"), f.display()));
            }
            Some(pem)
        }
        None => None,
    };
    Ok(crate::sources::get::Tls { ca_pem, insecure: insecure.unwrap_or(false) })
}

fn http_auth(
    token_file: &Option<PathBuf>,
    token_env: &Option<String>,
    user: &Option<String>,
    password_env: &Option<String>,
    at: &dyn Fn(&str) -> String,
) -> Result<Auth, String> {
    let env = |name: &str, what: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("{}: ${name} is not set", at(what)))
    };
    let bearer_token = match (token_file, token_env) {
        (Some(f), _) => Some(
            std::fs::read_to_string(f)
                .map_err(|err| format!("{}: {}: {err}", at("bearer_token_file"), f.display()))?
                .trim()
                .to_string(),
        ),
        (None, Some(v)) => Some(env(v, "bearer_token_env")?),
        (None, None) => None,
    };
    let basic_auth = match (user, password_env) {
        (Some(u), Some(p)) => Some((u.clone(), env(p, "basic_auth_password_env")?)),
        (Some(_), None) => return Err(format!("{} needs basic_auth_password_env", at("basic_auth_user"))),
        _ => None,
    };
    Ok((bearer_token, basic_auth))
}

/// `[[alertmanager]]` -> the sources' settings.
fn alertmanager_config(
    entries: &[AlertmanagerFile],
    path: &Path,
) -> Result<Vec<crate::sources::alertmanager::AlertmanagerConfig>, String> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let at = |what: &str| {
            let n = if entries.len() > 1 { format!("[{i}]") } else { String::new() };
            format!("{}: alertmanager{n}.{what}", path.display())
        };
        if !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
            return Err(format!("{}: {:?} is not an http(s) URL", at("url"), e.url));
        }
        let (bearer_token, basic_auth) =
            http_auth(&e.bearer_token_file, &e.bearer_token_env, &e.basic_auth_user, &e.basic_auth_password_env, &at)?;
        let timeout = match &e.timeout {
            Some(t) => positive(t).map_err(|err| format!("{}: {err}", at("timeout")))?,
            None => Duration::from_secs(10),
        };
        out.push(crate::sources::alertmanager::AlertmanagerConfig {
            tls: tls(&e.ca_file, e.insecure_skip_verify, &at)?,
            url: e.url.trim_end_matches('/').to_string(),
            bearer_token,
            basic_auth,
            headers: e.headers.clone(),
            timeout,
        });
    }
    Ok(out)
}

/// A duration that must be longer than zero (a timeout of 0s would fail every request).
pub fn positive(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be longer than 0s"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_unknown_keys_are_errors() {
        let example: ConfigFile =
            toml::from_str(include_str!("../config.example.toml")).expect("config.example.toml parses");
        assert_eq!(example.refresh.as_deref(), Some("5s"));
        assert!(toml::from_str::<ConfigFile>("refersh = '5s'").is_err(), "typos are reported, not ignored");
        let with_mcp: ConfigFile = toml::from_str(
            "baseline_file = '/tmp/p-{context}.json'\n[[mcp_endpoint]]\nname = 'docs'\nurl = 'http://127.0.0.1:9/mcp'\n",
        )
        .unwrap();
        assert_eq!(with_mcp.mcp_endpoint[0].name, "docs");
    }

    #[test]
    fn the_github_token_goes_where_it_belongs() {
        let env = Some("ghp_env".to_string());
        // github.com: GITHUB_TOKEN is used, and turns the matrix on
        let c = nightly_config(&NightlyFile::default(), env.clone()).unwrap();
        assert_eq!(c.token.as_deref(), Some("ghp_env"));
        // an Enterprise API never gets github.com's token; its own token wins
        let ghe =
            NightlyFile { api: Some("https://ghe.corp/api/v3".into()), enabled: Some(true), ..Default::default() };
        assert_eq!(nightly_config(&ghe, env.clone()).unwrap().token, None);
        let own = NightlyFile { token: Some("ghe_own".into()), ..ghe };
        assert_eq!(nightly_config(&own, env).unwrap().token.as_deref(), Some("ghe_own"));
        // no token, not asked: off, with the reason
        assert!(nightly_config(&NightlyFile::default(), None).unwrap_err().contains("GITHUB_TOKEN"));
    }

    #[test]
    fn durations_in_the_file_are_checked_as_the_flags_are() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        let with = |text: &str| {
            std::fs::write(&p, text).unwrap();
            Settings::resolve(&CommonArgs { config: Some(p.clone()), ..Default::default() })
        };
        let e = with("refresh = '0s'\n").unwrap_err();
        assert!(e.ends_with("refresh: \"0s\" is too short: the refresh must be at least 200ms"), "{e}");
        let e = with("[context.prod]\nrefresh = '100ms'\n").unwrap_err();
        assert!(e.contains("context.prod.refresh") && e.contains("at least 200ms"), "{e}");
        let e = with("slow_after = '0s'\n").unwrap_err();
        assert!(e.ends_with("slow_after: \"0s\": must be longer than 0s"), "{e}");
        let e = with("[[metrics.prometheus]]\nurl = 'http://a'\ntimeout = '0s'\n").unwrap_err();
        assert!(e.ends_with("metrics.prometheus.timeout: \"0s\": must be longer than 0s"), "{e}");
        let e = with("[[alertmanager]]\nurl = 'http://am'\ntimeout = '0ms'\n").unwrap_err();
        assert!(e.ends_with("alertmanager.timeout: \"0ms\": must be longer than 0s"), "{e}");
        let e = with("[[alertmanager]]\nurl = 'am:9093'\n").unwrap_err();
        assert!(e.ends_with("alertmanager.url: \"am:9093\" is not an http(s) URL"), "{e}");
        assert_eq!(with("refresh = '2s'\n").unwrap().refresh, Duration::from_secs(2));
        // a query layer's CA: read at start, its absence or emptiness said with the key
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
        let s =
            with(&format!("[[metrics.prometheus]]\nurl = 'https://thanos'\nca_file = '{}'\n", ca.display())).unwrap();
        assert!(s.prometheus[0].tls.ca_pem.is_some() && !s.prometheus[0].tls.insecure);
        let e = with("[[metrics.prometheus]]\nurl = 'https://thanos'\nca_file = '/nonexistent/ca.pem'\n").unwrap_err();
        assert!(e.contains("metrics.prometheus.ca_file: /nonexistent/ca.pem"), "{e}");
        std::fs::write(&ca, "not a certificate").unwrap();
        let e = with(&format!("[[alertmanager]]\nurl = 'https://am'\nca_file = '{}'\n", ca.display())).unwrap_err();
        assert!(e.ends_with("no PEM certificate in it"), "{e}");
    }

    #[test]
    fn several_query_layers_keep_their_order_and_each_error_names_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        let with = |text: &str, metrics: Option<crate::cli::MetricsMode>| {
            std::fs::write(&p, text).unwrap();
            Settings::resolve(&CommonArgs { config: Some(p.clone()), metrics, ..Default::default() })
        };
        let two = "[[metrics.prometheus]]\nurl = 'http://thanos-eu:9090'\ncluster_label = 'clusterID'\n\
                   [[metrics.prometheus]]\nurl = 'https://mimir.example/prometheus'\nheaders = { X-Scope-OrgID = 'us' }\n";
        let s = with(two, None).unwrap();
        let got: Vec<(&str, &str)> = s.prometheus.iter().map(|c| (c.url.as_str(), c.cluster_label.as_str())).collect();
        assert_eq!(got, vec![("http://thanos-eu:9090", "clusterID"), ("https://mimir.example/prometheus", "cluster")]);
        assert_eq!(s.prometheus[1].headers.get("X-Scope-OrgID").map(String::as_str), Some("us"));
        assert!(with(two, Some(crate::cli::MetricsMode::Direct)).unwrap().prometheus.is_empty(), "--metrics direct");
        let bad = "[[metrics.prometheus]]\nurl = 'http://a:9090'\n[[metrics.prometheus]]\nurl = 'a:9090'\n";
        let e = with(bad, None).unwrap_err();
        assert!(e.ends_with("metrics.prometheus[1].url: \"a:9090\" is not an http(s) URL"), "{e}");
        let twice = "[[metrics.prometheus]]\nurl = 'http://a:9090'\n[[metrics.prometheus]]\nurl = 'http://a:9090'\n";
        let e = with(twice, None).unwrap_err();
        assert!(
            e.ends_with(
                "metrics.prometheus[1].url: the same query layer as metrics.prometheus[0] (same url and headers)"
            ),
            "{e}"
        );
        let proxied =
            "[[metrics.prometheus]]\ncontext = 'ocp'\nservice = 'openshift-monitoring/https:thanos-querier:9091'\n";
        let s = with(proxied, None).unwrap();
        let t = s.prometheus[0].through.as_ref().expect("through the context");
        assert_eq!(t.base_path(), "/api/v1/namespaces/openshift-monitoring/services/https:thanos-querier:9091/proxy");
        assert_eq!(
            s.prometheus[0].url, "ocp: service openshift-monitoring/https:thanos-querier:9091",
            "how it is named"
        );
        let e = with("[[metrics.prometheus]]\ncontext = 'ocp'\n", None).unwrap_err();
        assert!(e.ends_with("metrics.prometheus.context needs service = \"namespace/name:port\""), "{e}");
        let e = with("[[metrics.prometheus]]\ncontext = 'ocp'\nservice = 'thanos:9091'\n", None).unwrap_err();
        assert!(e.contains("metrics.prometheus.service: \"thanos:9091\": expected namespace/name:port"), "{e}");
        let both = "[[metrics.prometheus]]\nurl = 'http://a'\ncontext = 'ocp'\nservice = 'm/p:9090'\n";
        assert!(with(both, None).unwrap_err().ends_with("either url, or context and service (not both)"));
        let one = "[[metrics.prometheus]]\nurl = 'a'\n";
        assert!(with(one, None).unwrap_err().ends_with("metrics.prometheus.url: \"a\" is not an http(s) URL"));
    }

    #[test]
    fn slos_and_the_kiosk_lock_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        let with = |text: &str| {
            std::fs::write(&p, text).unwrap();
            Settings::resolve(&CommonArgs { config: Some(p.clone()), kiosk: true, ..Default::default() })
        };
        let s = with("[kiosk]\nlock = true\n[[slo]]\nmodel = 'm'\nttft_p99 = '250ms'\nerror_rate = 0.01\n").unwrap();
        assert!(s.kiosk_lock);
        assert_eq!(s.slos[0].ttft_p99_s, Some(0.25));
        assert_eq!(s.slos[0].error_rate, Some(0.01));
        assert!(with("[[slo]]\nttft_p99 = '1s'\n").unwrap_err().contains("slo[0] names no pool and no model"));
        assert!(with("[[slo]]\npool = 'p'\nitl_p99 = 'fast'\n").unwrap_err().contains("slo[0].itl_p99"));
        assert!(with("[[slo]]\npool = 'p'\nerror_rate = 5.0\n").unwrap_err().contains("between 0 and 1"));
        // [cost]: the team label and OpenCost per context, checked when read
        let s = with("[cost]\nteam_label = 'org'\nopencost = { gpu-eu-west = 'kubecost/opencost:9090' }\n").unwrap();
        assert_eq!(s.team_label, "org");
        assert_eq!(s.opencost["gpu-eu-west"].port, 9090);
        assert_eq!(with("").unwrap().team_label, "team");
        let e = with("[cost]\nopencost = { gpu-eu-west = 'https://opencost.corp' }\n").unwrap_err();
        assert!(e.contains("cost.opencost.gpu-eu-west") && e.contains("namespace/service"), "{e}");
        assert!(with("[cost]\nteam_label = ' '\n").unwrap_err().contains("team_label is empty"));
        let s = with("[gpus]\nresources = ['nvidia.com/gpu', 'example.com/npu']\n").unwrap();
        assert_eq!(s.gpu_resources, vec!["nvidia.com/gpu".to_string(), "example.com/npu".to_string()]);
        assert!(with("[gpus]\nresources = ['gpu']\n").unwrap_err().contains("gpus.resources"));
        // [fleet] cluster_proxy: each kind with what it needs
        let s = with("[fleet]\ncluster_proxy = { kind = 'karmada', hub = 'karmada-apiserver' }\n").unwrap();
        assert_eq!(s.cluster_proxy.unwrap().hub(), "karmada-apiserver");
        let e = with("[fleet]\ncluster_proxy = { kind = 'ocm', hub = 'its1' }\n").unwrap_err();
        assert!(e.contains("needs url"), "{e}");
        let e = with(
            "[fleet]\ncluster_proxy = { kind = 'ocm', hub = 'its1', url = 'https://p:9092', ca_file = '/nope' }\n",
        )
        .unwrap_err();
        assert!(e.contains("ca_file /nope"), "{e}");
        assert!(with("[fleet]\ncluster_proxy = { kind = 'rancher', hub = 'x' }\n").unwrap_err().contains("\"ocm\""));
        assert_eq!(with("[fleet]\ndial = 'focus'\n").unwrap().dial, Dial::Focus);
        assert_eq!(with("").unwrap().dial, Dial::Always);
        assert!(with("[fleet]\ndial = 'later'\n").unwrap_err().contains("\"focus\""));
    }

    #[test]
    fn command_line_beats_file_and_kiosk_implies_readonly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "refresh = '9s'\ntheme = 'light'\ncontexts = ['gpu-*']\n[kiosk]\nrotate = '30s'\n[context.slow-one]\nrefresh = '30s'\nalias = 'slow'\n",
        )
        .unwrap();
        let args = CommonArgs { config: Some(p), kiosk: true, theme: Some("mono".into()), ..Default::default() };
        let s = Settings::resolve(&args).unwrap();
        assert_eq!(s.refresh, Duration::from_secs(9));
        assert_eq!(s.theme, "mono");
        assert_eq!(s.contexts, vec!["gpu-*".to_string()]);
        assert_eq!(s.rotate, Duration::from_secs(30));
        assert!(s.readonly && s.kiosk);
        assert_eq!(s.refresh_overrides.get("slow-one"), Some(&Duration::from_secs(30)));
        assert_eq!(s.aliases.get("slow-one").map(String::as_str), Some("slow"));
    }
}
