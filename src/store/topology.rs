//! Who calls whom: edges between agents and tools, each marked by where kst learned it.
//! Declared edges come from the workload's env (MCP_URL, peer-agent URLs); observed ones from the
//! AuthBridge sidecar's `/stats` (approvals as live edges with counts, denials as denied edges).
//! Nothing is assumed: two nodes without evidence between them have no edge.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kagenti::AgentInfo;
use super::tools::{Location, ToolServer};

/// AuthBridge's `GET :9093/stats`: each a map of host (outbound) or caller (inbound) to a count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthStats {
    pub inbound_approvals: BTreeMap<String, u64>,
    pub inbound_denials: BTreeMap<String, u64>,
    pub outbound_approvals: BTreeMap<String, u64>,
    pub outbound_denials: BTreeMap<String, u64>,
    pub outbound_replace_tokens: BTreeMap<String, u64>,
}

impl AuthStats {
    pub fn add(&mut self, o: &AuthStats) {
        for (mine, theirs) in [
            (&mut self.inbound_approvals, &o.inbound_approvals),
            (&mut self.inbound_denials, &o.inbound_denials),
            (&mut self.outbound_approvals, &o.outbound_approvals),
            (&mut self.outbound_denials, &o.outbound_denials),
            (&mut self.outbound_replace_tokens, &o.outbound_replace_tokens),
        ] {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Agent,
    Tool,
    /// A host no workload kst knows answers to.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Node {
    pub cluster: usize,
    pub kind: NodeKind,
    pub namespace: String,
    pub name: String,
}

impl Node {
    pub fn label(&self) -> String {
        if self.kind == NodeKind::External {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: Node,
    pub to: Node,
    /// The env variable that declares it, if declared.
    pub declared: Option<String>,
    /// Calls AuthBridge approved, if observed.
    pub approvals: Option<u64>,
    /// Calls AuthBridge denied, if any.
    pub denials: Option<u64>,
}

impl Edge {
    pub fn evidence(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &self.declared {
            parts.push(format!("declared ({d})"));
        }
        if let Some(n) = self.approvals {
            parts.push(format!("observed {n} calls"));
        }
        if let Some(n) = self.denials {
            parts.push(format!("denied {n}"));
        }
        parts.join(", ")
    }
    pub fn observed(&self) -> bool {
        self.approvals.is_some() || self.denials.is_some()
    }
}

/// `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, with or without a port.
fn service_of(host: &str, default_ns: &str) -> Option<(String, String)> {
    let host = host.split(':').next()?;
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [svc] => Some((default_ns.to_string(), svc.to_string())),
        [svc, ns] => Some((ns.to_string(), svc.to_string())),
        [svc, ns, "svc", ..] => Some((ns.to_string(), svc.to_string())),
        _ => None,
    }
}

/// The host (and port) of a URL, without any `user:password@` in front of it: a credential in
/// an env URL must never become a node's name.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |x| x.1)).filter(|h| !h.is_empty())
}

/// The graph of one cluster.
pub struct Resolver<'a> {
    cluster: usize,
    agents: &'a [AgentInfo],
    tools: &'a [ToolServer],
}

impl<'a> Resolver<'a> {
    pub fn new(cluster: usize, agents: &'a [AgentInfo], tools: &'a [ToolServer]) -> Self {
        Resolver { cluster, agents, tools }
    }

    pub fn agent_node(&self, a: &AgentInfo) -> Node {
        let kind = if a.wtype == "tool" { NodeKind::Tool } else { NodeKind::Agent };
        Node { cluster: self.cluster, kind, namespace: a.namespace.clone(), name: a.name.clone() }
    }

    /// The node a host (from a URL or AuthBridge's stats) stands for.
    pub fn host(&self, host: &str, from_ns: &str) -> Node {
        if let Some((ns, svc)) = service_of(host, from_ns) {
            for t in self.tools {
                if let Some(Location::Service { namespace, service, .. }) = &t.location {
                    if *namespace == ns && *service == svc {
                        return Node {
                            cluster: self.cluster,
                            kind: NodeKind::Tool,
                            namespace: ns,
                            name: t.name.clone(),
                        };
                    }
                }
            }
            // an agent's Service carries the agent's name (`<name>`, or `<name>-mcp` for tools)
            if let Some(a) =
                self.agents.iter().find(|a| a.namespace == ns && (a.name == svc || format!("{}-mcp", a.name) == svc))
            {
                return self.agent_node(a);
            }
        }
        let host = host.split(':').next().unwrap_or(host);
        Node { cluster: self.cluster, kind: NodeKind::External, namespace: String::new(), name: host.to_string() }
    }

    /// A caller as AuthBridge names it: a SPIFFE ID (`spiffe://td/ns/<ns>/sa/<sa>`) or a host.
    pub fn caller(&self, caller: &str, my_ns: &str) -> Node {
        if let Some(rest) = caller.strip_prefix("spiffe://") {
            let parts: Vec<&str> = rest.split('/').collect();
            if let [_, "ns", ns, "sa", sa] = parts.as_slice() {
                if let Some(a) = self.agents.iter().find(|a| a.namespace == *ns && a.service_account == *sa) {
                    return self.agent_node(a);
                }
            }
            return Node {
                cluster: self.cluster,
                kind: NodeKind::External,
                namespace: String::new(),
                name: caller.to_string(),
            };
        }
        self.host(caller, my_ns)
    }
}

/// Env variables that name a peer: MCP_URL and anything ending in _URL/_ENDPOINT that points
/// at a Service, except the agent's own endpoint and telemetry.
fn peer_env(name: &str) -> bool {
    let skip = ["AGENT_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "KEYCLOAK_URL", "LLM_API_BASE", "ANTHROPIC_BASE_URL"];
    !skip.contains(&name) && (name.ends_with("_URL") || name.ends_with("_ENDPOINT"))
}

/// The edges of one cluster from declared env and AuthBridge stats.
pub fn edges(
    cluster: usize,
    agents: &[AgentInfo],
    tools: &[ToolServer],
    stats: &BTreeMap<(String, String), Result<AuthStats, String>>,
) -> Vec<Edge> {
    let r = Resolver::new(cluster, agents, tools);
    let mut by_pair: BTreeMap<(Node, Node), Edge> = BTreeMap::new();
    fn entry(map: &mut BTreeMap<(Node, Node), Edge>, from: Node, to: Node) -> &mut Edge {
        map.entry((from.clone(), to.clone())).or_insert(Edge {
            from,
            to,
            declared: None,
            approvals: None,
            denials: None,
        })
    }
    for a in agents {
        let me = r.agent_node(a);
        for (name, url) in &a.env_urls {
            if !peer_env(name) {
                continue;
            }
            let Some(host) = host_of(url) else { continue };
            let to = r.host(host, &a.namespace);
            if to == me {
                continue;
            }
            entry(&mut by_pair, me.clone(), to).declared.get_or_insert_with(|| name.clone());
        }
    }
    for a in agents {
        let Some(Ok(s)) = stats.get(&a.key()) else { continue };
        let me = r.agent_node(a);
        // a zero count is a call not yet made: no evidence, no edge
        for (host, n) in s.outbound_approvals.iter().filter(|(_, n)| **n > 0) {
            let e = entry(&mut by_pair, me.clone(), r.host(host, &a.namespace));
            *e.approvals.get_or_insert(0) += n;
        }
        for (host, n) in s.outbound_denials.iter().filter(|(_, n)| **n > 0) {
            let e = entry(&mut by_pair, me.clone(), r.host(host, &a.namespace));
            *e.denials.get_or_insert(0) += n;
        }
        // inbound counts fill in callers that have no AuthBridge of their own
        for (caller, n) in s.inbound_approvals.iter().filter(|(_, n)| **n > 0) {
            let from = r.caller(caller, &a.namespace);
            if agents.iter().any(|c| r.agent_node(c) == from && matches!(stats.get(&c.key()), Some(Ok(_)))) {
                continue;
            }
            let e = entry(&mut by_pair, from, me.clone());
            *e.approvals.get_or_insert(0) += n;
        }
        for (caller, n) in s.inbound_denials.iter().filter(|(_, n)| **n > 0) {
            let from = r.caller(caller, &a.namespace);
            if agents.iter().any(|c| r.agent_node(c) == from && matches!(stats.get(&c.key()), Some(Ok(_)))) {
                continue;
            }
            let e = entry(&mut by_pair, from, me.clone());
            *e.denials.get_or_insert(0) += n;
        }
    }
    by_pair.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_resolve_to_services() {
        assert_eq!(
            service_of("weather-tool-mcp.team1.svc.cluster.local:8000", "x"),
            Some(("team1".into(), "weather-tool-mcp".into()))
        );
        assert_eq!(service_of("peer", "team2"), Some(("team2".into(), "peer".into())));
        assert_eq!(service_of("peer.team3", "team2"), Some(("team3".into(), "peer".into())));
        assert_eq!(service_of("10.0.0.7:8080", "x"), None);
        assert_eq!(service_of("api.openai.com", "x"), None);
        assert_eq!(host_of("http://a.b.svc:8000/mcp"), Some("a.b.svc:8000"));
        assert_eq!(host_of("https://ghp_secret@github.com/org/repo"), Some("github.com"), "no credential in a name");
        assert_eq!(host_of("https://user:pw@peer.team1:8080/"), Some("peer.team1:8080"));
    }
}
