//! The snapshot's Kagenti part: agents, cards, builds, tool servers and their tools, edges.

use super::*;

/// Kagenti / Rossoctl on one cluster.
#[derive(Debug, Serialize)]
pub struct KagentiSnapshot {
    /// null: not known yet; false: neither naming's agents nor CRDs are there.
    pub installed: Option<bool>,
    /// "kagenti", "rossoctl" or both.
    pub brands: Vec<&'static str>,
    pub agents: Vec<AgentSnapshot>,
    pub cards: Vec<CardSnapshot>,
    pub builds: Vec<BuildSnapshot>,
    /// Component name -> "ready" | "degraded: why" | "missing"; null until checked.
    pub platform: Option<BTreeMap<String, String>>,
    pub enabled_namespaces: Vec<String>,
    /// MCP tool servers and the tools each listed over MCP; null until they were asked.
    pub tools: Option<Vec<ToolServerSnapshot>>,
    /// Agent -> tool / agent edges with their evidence (declared in env, observed by AuthBridge).
    pub edges: Vec<EdgeSnapshot>,
    /// Posture findings, each with its rule and severity.
    pub findings: Vec<crate::store::posture::Finding>,
    /// Changes since the posture baseline; null without a baseline.
    pub drift: Option<Vec<crate::store::posture::Drift>>,
}

#[derive(Debug, Serialize)]
pub struct ToolServerSnapshot {
    pub namespace: String,
    pub name: String,
    /// reachable | disabled | checking | not ready: why | error: why
    pub status: String,
    pub prefix: Option<String>,
    /// The credential Secret's name, when the registration references one (never its value).
    pub credential: Option<String>,
    pub protocol: Option<String>,
    pub tools: Vec<ToolSnapshot>,
}

impl ToolServerSnapshot {
    pub(super) fn of(s: &crate::store::tools::ToolServer, rows: &[crate::store::tools::ToolRow<'_>]) -> Self {
        ToolServerSnapshot {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            status: s.status().text(),
            prefix: s.registration.as_ref().and_then(|r| r.prefix.clone()),
            credential: s.registration.as_ref().and_then(|r| r.credential.clone()),
            protocol: s.listing.as_ref().and_then(|l| l.protocol.clone()),
            tools: rows
                .iter()
                .filter(|r| std::ptr::eq(r.server, s))
                .map(|r| ToolSnapshot {
                    name: r.tool.name.clone(),
                    exposed: r.exposed.clone(),
                    description: r.tool.description.clone(),
                    params: r.tool.params(),
                    conflicts: r.conflicts.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ToolSnapshot {
    pub name: String,
    /// As clients see it through the gateway (prefix + name).
    pub exposed: String,
    pub description: String,
    pub params: Vec<String>,
    /// Other servers with a tool of the same name.
    pub conflicts: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EdgeSnapshot {
    pub from: String,
    pub from_kind: crate::store::topology::NodeKind,
    pub to: String,
    pub to_kind: crate::store::topology::NodeKind,
    /// The env variable that declares it.
    pub declared: Option<String>,
    pub approvals: Option<u64>,
    pub denials: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct AgentSnapshot {
    pub namespace: String,
    pub name: String,
    pub kind: &'static str,
    /// agent | tool
    #[serde(rename = "type")]
    pub wtype: String,
    pub framework: Option<String>,
    pub protocols: Vec<String>,
    pub ready: i64,
    pub desired: i64,
    /// healthy | paused | scaled to 0 | starting | degraded | failing
    pub health: &'static str,
    pub health_reason: String,
    pub restarts: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub service_account: String,
    pub hpa: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CardSnapshot {
    pub namespace: String,
    pub agent: String,
    /// indexed (AgentCard/AgentRuntime status) | fetched (through the service proxy) | error
    pub source: &'static str,
    pub name: Option<String>,
    pub version: Option<String>,
    /// "1.0" (supportedInterfaces) or "0.x" (url)
    pub shape: Option<&'static str>,
    /// Skill names (kept for scripts written against earlier versions; see `skill_list`).
    pub skills: Vec<String>,
    /// Each skill with its `id` (what a client asks for), `name` and `tags`.
    pub skill_list: Vec<crate::store::kagenti::Skill>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BuildSnapshot {
    pub namespace: String,
    pub name: String,
    /// succeeded | failed | running | null (no runs)
    pub last_outcome: Option<&'static str>,
    pub last_reason: Option<String>,
    pub runs_in_cluster: usize,
    /// The runs the cluster keeps, newest first, each failure with its reason and message.
    pub runs: Vec<BuildRunSnapshot>,
    /// kst's own history of finished runs
    pub history_succeeded: u32,
    pub history_failed: u32,
}

#[derive(Debug, Serialize)]
pub struct BuildRunSnapshot {
    pub name: String,
    /// succeeded | failed | running
    pub outcome: &'static str,
    /// e.g. BuildStepFailed
    pub reason: Option<String>,
    pub message: Option<String>,
    pub started: Option<String>,
    pub duration_s: Option<i64>,
}

pub(super) fn outcome_word(o: Option<bool>) -> &'static str {
    match o {
        Some(true) => "succeeded",
        Some(false) => "failed",
        None => "running",
    }
}

impl KagentiSnapshot {
    pub fn from_state(c: &ClusterState) -> Self {
        use crate::store::kagenti::{health, CardState, ComponentState};
        let k = &c.kagenti;
        let servers: Vec<(Option<usize>, &crate::store::tools::ToolServer)> =
            k.tool_servers().iter().map(|s| (Some(0), s)).collect();
        let rows = crate::store::tools::rows(&servers);
        KagentiSnapshot {
            tools: k.tools.as_ref().map(|ts| ts.iter().map(|s| ToolServerSnapshot::of(s, &rows)).collect()),
            edges: k
                .edges()
                .iter()
                .cloned()
                .map(|e| EdgeSnapshot {
                    from: e.from.label(),
                    from_kind: e.from.kind,
                    to: e.to.label(),
                    to_kind: e.to.kind,
                    declared: e.declared,
                    approvals: e.approvals,
                    denials: e.denials,
                })
                .collect(),
            findings: k.findings().to_vec(),
            drift: k.drift().map(<[_]>::to_vec),
            installed: k.installed(),
            brands: k.brands.iter().flatten().map(|b| b.name()).collect(),
            agents: k
                .agents
                .iter()
                .map(|a| {
                    let h = health(a);
                    AgentSnapshot {
                        namespace: a.namespace.clone(),
                        name: a.name.clone(),
                        kind: a.kind.name(),
                        wtype: a.wtype.clone(),
                        framework: a.framework.clone(),
                        protocols: a.protocols.clone(),
                        ready: a.ready,
                        desired: a.desired,
                        health: h.word(),
                        health_reason: h.label(),
                        restarts: a.restarts,
                        provider: a.provider.clone(),
                        model: a.model.clone(),
                        service_account: a.service_account.clone(),
                        hpa: a.hpa.clone(),
                    }
                })
                .collect(),
            cards: k
                .cards
                .iter()
                .map(|((ns, agent), st)| {
                    let (source, card, error) = match st {
                        CardState::Indexed(c) => ("indexed", Some(c), None),
                        CardState::Fetched(c) => ("fetched", Some(c), None),
                        CardState::Error(e) => ("error", None, Some(e.clone())),
                    };
                    CardSnapshot {
                        namespace: ns.clone(),
                        agent: agent.clone(),
                        source,
                        name: card.map(|c| c.name.clone()),
                        version: card.and_then(|c| c.version.clone()),
                        shape: card.map(|c| c.shape),
                        skills: card.map(|c| c.skills.iter().map(|s| s.name.clone()).collect()).unwrap_or_default(),
                        skill_list: card.map(|c| c.skills.clone()).unwrap_or_default(),
                        error,
                    }
                })
                .collect(),
            builds: k
                .builds
                .iter()
                .map(|b| BuildSnapshot {
                    namespace: b.namespace.clone(),
                    name: b.name.clone(),
                    last_outcome: b.runs.first().map(|r| outcome_word(r.outcome)),
                    last_reason: b.runs.first().and_then(|r| r.reason.clone()),
                    runs_in_cluster: b.runs.len(),
                    runs: b
                        .runs
                        .iter()
                        .map(|r| BuildRunSnapshot {
                            name: r.name.clone(),
                            outcome: outcome_word(r.outcome),
                            reason: r.reason.clone(),
                            message: r.message.clone(),
                            started: r.started.clone(),
                            duration_s: r.duration_s,
                        })
                        .collect(),
                    history_succeeded: b.history.0,
                    history_failed: b.history.1,
                })
                .collect(),
            platform: k.platform.as_ref().map(|p| {
                p.components
                    .iter()
                    .map(|(n, s)| {
                        let v = match s {
                            ComponentState::Ready => "ready".to_string(),
                            ComponentState::Degraded(w) => format!("degraded: {w}"),
                            ComponentState::Missing => "missing".to_string(),
                        };
                        (n.clone(), v)
                    })
                    .collect()
            }),
            enabled_namespaces: k.platform.as_ref().map(|p| p.enabled_namespaces.clone()).unwrap_or_default(),
        }
    }
}
