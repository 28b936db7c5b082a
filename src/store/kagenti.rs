//! Kagenti (Rossoctl since July 2026) in the store: agents and tools as workloads, their
//! AgentRuntime and AgentCard status, cards, builds and the platform's components; and the
//! health rule the panes and the snapshot share.

use std::collections::BTreeMap;

use serde_json::Value;

/// Which naming a cluster's objects use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Brand {
    Kagenti,
    Rossoctl,
}

impl Brand {
    pub fn label_prefix(self) -> &'static str {
        match self {
            Brand::Kagenti => "kagenti.io",
            Brand::Rossoctl => "rossoctl.io",
        }
    }
    pub fn protocol_prefix(self) -> &'static str {
        match self {
            Brand::Kagenti => "protocol.kagenti.io",
            Brand::Rossoctl => "protocol.rossoctl.io",
        }
    }
    pub fn group(self) -> &'static str {
        match self {
            Brand::Kagenti => "agent.kagenti.dev",
            Brand::Rossoctl => "agent.rossoctl.dev",
        }
    }
    pub fn system_namespace(self) -> &'static str {
        match self {
            Brand::Kagenti => "kagenti-system",
            Brand::Rossoctl => "rossoctl-system",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Brand::Kagenti => "kagenti",
            Brand::Rossoctl => "rossoctl",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }
}

/// Our own annotation: the replica count an agent had before kst turned it off.
pub const PREVIOUS_REPLICAS: &str = "kst.dev/previous-replicas";

/// A condition as read from a status: type, status, reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub ok: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentInfo {
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub brand: Brand,
    /// `agent` or `tool`.
    pub wtype: String,
    pub framework: Option<String>,
    pub protocols: Vec<String>,
    pub desired: i64,
    pub ready: i64,
    pub previous_replicas: Option<i64>,
    pub service_account: String,
    /// Inferred from container env names and the LLM_API_BASE host; values of secrets are never read.
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Declared tool endpoint (MCP_URL), for the topology.
    pub mcp_url: Option<String>,
    pub created: Option<String>,
    pub restarts: Option<i64>,
    pub runtime_ready: Option<Cond>,
    pub card_synced: Option<Cond>,
    pub hpa: Option<String>,
    /// The card as the operator indexed it (AgentCard / AgentRuntime status).
    pub indexed_card: Option<Value>,
    pub valid_signature: Option<bool>,
    pub identity_bound: Option<bool>,
    /// A2A port from the Service (kagenti.io/port, then a2a/http/first port).
    pub card_port: Option<u16>,
    /// The workload's pod selector, for drilling down to its pods.
    pub selector: String,
    /// Env variables with literal URL values (declared peers, for the topology).
    pub env_urls: Vec<(String, String)>,
    /// `kagenti.io/inject=disabled` on the workload or its pod template: no AuthBridge.
    pub inject_disabled: bool,
    /// Tools: `streamable_http` or `sse` (`kagenti.io/transport`).
    pub transport: Option<String>,
    /// AgentRuntime `spec.mtlsMode`.
    pub mtls_mode: Option<String>,
    /// Running pods that carry the AuthBridge sidecar (its `/stats` on 9093).
    pub authbridge_pods: Vec<String>,
}

impl AgentInfo {
    pub fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Healthy,
    Paused,
    ScaledToZero,
    Progressing(String),
    Degraded(String),
    Failing(String),
}

impl Health {
    pub fn label(&self) -> String {
        match self {
            Health::Healthy => "healthy".into(),
            Health::Paused => "paused".into(),
            Health::ScaledToZero => "scaled to 0".into(),
            Health::Progressing(r) => format!("starting: {r}"),
            Health::Degraded(r) => format!("degraded: {r}"),
            Health::Failing(r) => format!("failing: {r}"),
        }
    }
    pub fn word(&self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Paused => "paused",
            Health::ScaledToZero => "scaled to 0",
            Health::Progressing(_) => "starting",
            Health::Degraded(_) => "degraded",
            Health::Failing(_) => "failing",
        }
    }
}

/// Workload readiness, then the operator's view (AgentRuntime Ready), then the card sync
/// (AgentCard Synced): the first failing reason wins. Zero replicas on purpose (our
/// annotation) is paused, not failing.
pub fn health(a: &AgentInfo) -> Health {
    if a.desired == 0 {
        return if a.previous_replicas.is_some() { Health::Paused } else { Health::ScaledToZero };
    }
    if a.ready < a.desired {
        let why = a
            .runtime_ready
            .as_ref()
            .filter(|c| !c.ok)
            .map(|c| c.reason.clone())
            .or_else(|| a.card_synced.as_ref().filter(|c| !c.ok).map(|c| c.reason.clone()));
        let restarts = a.restarts.unwrap_or(0);
        if a.ready == 0 && (restarts > 3 || why.is_some()) {
            return Health::Failing(why.unwrap_or_else(|| format!("{restarts} restarts")));
        }
        return Health::Progressing(format!("{}/{} ready", a.ready, a.desired));
    }
    if let Some(c) = a.runtime_ready.as_ref().filter(|c| !c.ok) {
        return Health::Degraded(format!("runtime {}", c.reason));
    }
    if let Some(c) = a.card_synced.as_ref().filter(|c| !c.ok) {
        return Health::Degraded(format!("card {}", c.reason));
    }
    Health::Healthy
}

/// Provider from env names and the LLM_API_BASE host only.
pub fn provider_from_env(env: &BTreeMap<String, Option<String>>) -> Option<String> {
    if let Some(Some(base)) = env.get("LLM_API_BASE") {
        let host = base.split("://").nth(1).unwrap_or(base).split(['/', ':']).next().unwrap_or("");
        let p = match host {
            h if h.ends_with("openai.com") => "openai",
            h if h.ends_with("openrouter.ai") => "openrouter",
            h if h.contains("anthropic") => "anthropic",
            h if h.contains("googleapis") => "google",
            h if h.contains("ollama") || base.contains(":11434") => "ollama",
            h if h.contains("litellm") => "litellm",
            "" => return None,
            h => return Some(format!("openai-compatible ({h})")),
        };
        return Some(p.to_string());
    }
    if env.keys().any(|k| k.starts_with("ANTHROPIC_")) {
        return Some("anthropic".into());
    }
    if env.contains_key("GOOGLE_API_KEY") {
        return Some("google".into());
    }
    if env.contains_key("OPENAI_API_KEY") {
        return Some("openai".into());
    }
    None
}

/// One A2A card, parsed from either shape (A2A 1.0 `supportedInterfaces`, older `url`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Card {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub url: Option<String>,
    pub binding: Option<String>,
    pub protocol_version: Option<String>,
    pub skills: Vec<Skill>,
    pub streaming: Option<bool>,
    pub push: Option<bool>,
    pub signed: bool,
    /// "1.0" for supportedInterfaces cards, "0.x" for url cards.
    pub shape: &'static str,
}

/// One skill of an A2A card: its id (what a client asks for), its name, its tags.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skill {
    pub id: Option<String>,
    pub name: String,
    pub tags: Vec<String>,
}

pub fn parse_card(v: &Value) -> Result<Card, String> {
    let name = v["name"].as_str().filter(|n| !n.is_empty()).ok_or("card has no name")?;
    let (url, binding, pv, shape) = match v["supportedInterfaces"].as_array().and_then(|a| a.first()) {
        Some(i) => (
            i["url"].as_str().map(str::to_string),
            i["protocolBinding"].as_str().map(str::to_string),
            i["protocolVersion"].as_str().map(str::to_string),
            "1.0",
        ),
        None => (
            v["url"].as_str().map(str::to_string),
            v["preferredTransport"].as_str().map(str::to_string),
            v["protocolVersion"].as_str().map(str::to_string),
            "0.x",
        ),
    };
    if url.is_none() {
        return Err("card has neither supportedInterfaces nor url".into());
    }
    let skills = match &v["skills"] {
        Value::Array(a) => a
            .iter()
            .map(|s| {
                let name = s["name"].as_str().or(s["id"].as_str()).unwrap_or("?").to_string();
                let tags = s["tags"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                Skill { id: s["id"].as_str().map(str::to_string), name, tags }
            })
            .collect(),
        Value::Null => Vec::new(),
        _ => return Err("skills is not a list".into()),
    };
    Ok(Card {
        name: name.to_string(),
        description: v["description"].as_str().map(str::to_string),
        version: v["version"].as_str().map(str::to_string),
        url,
        binding,
        protocol_version: pv,
        skills,
        streaming: v["capabilities"]["streaming"].as_bool(),
        push: v["capabilities"]["pushNotifications"].as_bool(),
        signed: v["signatures"].as_array().is_some_and(|s| !s.is_empty()),
        shape,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum CardState {
    Indexed(Card),
    Fetched(Card),
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuildRunInfo {
    pub name: String,
    /// Some(true) succeeded, Some(false) failed, None running/pending.
    pub outcome: Option<bool>,
    pub reason: Option<String>,
    /// What the failed step said (`failureDetails.message`, or the condition's message).
    pub message: Option<String>,
    pub started: Option<String>,
    pub duration_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuildInfo {
    pub namespace: String,
    pub name: String,
    pub strategy: Option<String>,
    /// Runs the cluster still has, newest first.
    pub runs: Vec<BuildRunInfo>,
    /// Finished runs kst has seen over time (its own history): (succeeded, failed).
    pub history: (u32, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ComponentState {
    Ready,
    Degraded(String),
    Missing,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlatformStatus {
    pub components: Vec<(String, ComponentState)>,
    pub enabled_namespaces: Vec<String>,
}

/// A healthy agent for tests: `n/a`, 2 of 2 ready, its own ServiceAccount.
#[cfg(test)]
pub fn test_agent() -> AgentInfo {
    AgentInfo {
        namespace: "n".into(),
        name: "a".into(),
        kind: WorkloadKind::Deployment,
        brand: Brand::Kagenti,
        wtype: "agent".into(),
        framework: None,
        protocols: vec![],
        desired: 2,
        ready: 2,
        previous_replicas: None,
        service_account: "a".into(),
        provider: None,
        model: None,
        mcp_url: None,
        created: None,
        restarts: Some(0),
        runtime_ready: Some(Cond { ok: true, reason: "Configured".into() }),
        card_synced: Some(Cond { ok: true, reason: "SyncSucceeded".into() }),
        hpa: None,
        indexed_card: None,
        valid_signature: None,
        identity_bound: None,
        card_port: None,
        selector: String::new(),
        env_urls: vec![],
        inject_disabled: false,
        transport: None,
        mtls_mode: None,
        authbridge_pods: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent() -> AgentInfo {
        test_agent()
    }

    #[test]
    fn health_rules() {
        let mut a = agent();
        assert_eq!(health(&a), Health::Healthy);
        a.card_synced = Some(Cond { ok: false, reason: "FetchFailed".into() });
        assert_eq!(health(&a), Health::Degraded("card FetchFailed".into()));
        a.desired = 0;
        assert_eq!(health(&a), Health::ScaledToZero);
        a.previous_replicas = Some(2);
        assert_eq!(health(&a), Health::Paused, "zero on purpose is paused");
        let mut b = agent();
        b.ready = 0;
        b.restarts = Some(9);
        b.runtime_ready = Some(Cond { ok: false, reason: "ConfigApplyError".into() });
        assert_eq!(health(&b), Health::Failing("ConfigApplyError".into()));
        b.runtime_ready = None;
        b.card_synced = None;
        b.restarts = Some(0);
        assert!(matches!(health(&b), Health::Progressing(_)));
    }

    #[test]
    fn providers_from_env_names_and_hosts() {
        let env = |pairs: &[(&str, Option<&str>)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
        };
        assert_eq!(
            provider_from_env(&env(&[("LLM_API_BASE", Some("https://api.openai.com/v1"))])).as_deref(),
            Some("openai")
        );
        assert_eq!(
            provider_from_env(&env(&[("LLM_API_BASE", Some("http://host.docker.internal:11434/v1"))])).as_deref(),
            Some("ollama")
        );
        assert_eq!(provider_from_env(&env(&[("ANTHROPIC_AUTH_TOKEN", None)])).as_deref(), Some("anthropic"));
        assert_eq!(provider_from_env(&env(&[("GOOGLE_API_KEY", None)])).as_deref(), Some("google"));
        assert_eq!(
            provider_from_env(&env(&[("LLM_API_BASE", Some("http://vllm.llm-d:8000/v1"))])).as_deref(),
            Some("openai-compatible (vllm.llm-d)")
        );
        assert_eq!(provider_from_env(&env(&[])), None);
    }

    #[test]
    fn cards_of_both_shapes_and_broken_ones() {
        let v1 = json!({"name": "w", "version": "1.0.0", "supportedInterfaces": [{"url": "http://w:8080/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
                        "capabilities": {"streaming": true}, "skills": [{"id": "s", "name": "Weather", "tags": ["weather"]}]});
        let c = parse_card(&v1).unwrap();
        assert_eq!((c.shape, c.binding.as_deref(), c.streaming), ("1.0", Some("JSONRPC"), Some(true)));
        assert_eq!(
            c.skills,
            vec![Skill { id: Some("s".into()), name: "Weather".into(), tags: vec!["weather".into()] }]
        );
        let old = json!({"name": "c", "url": "http://c:8080/", "protocolVersion": "0.3.0", "skills": []});
        assert_eq!(parse_card(&old).unwrap().shape, "0.x");
        assert!(parse_card(&json!({"url": "x"})).is_err());
        assert!(parse_card(&json!({"name": "n"})).is_err());
        assert!(parse_card(&json!({"name": "n", "url": "u", "skills": "many"})).is_err());
        assert!(parse_card(&json!("not an object")).is_err());
    }
}
