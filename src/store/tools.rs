//! The MCP tool registry: tool servers (workloads labelled as tools, their `<name>-mcp`
//! Services, MCPServerRegistrations, extra endpoints from the config) and the tools each one
//! listed when kst asked it over MCP.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::kagenti::Cond;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    pub input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

impl ToolInfo {
    /// Parameter names, required ones marked with `*`.
    pub fn params(&self) -> Vec<String> {
        let required: Vec<&str> =
            self.input_schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        self.input_schema["properties"]
            .as_object()
            .map(|m| {
                m.keys().map(|k| if required.contains(&k.as_str()) { format!("{k}*") } else { k.clone() }).collect()
            })
            .unwrap_or_default()
    }
}

/// What one `tools/list` walk returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerListing {
    pub protocol: Option<String>,
    pub server: Option<String>,
    pub pages: u32,
    pub tools: Vec<ToolInfo>,
}

/// An MCPServerRegistration (`mcp.kuadrant.io`): `prefix` in v1, `toolPrefix` in v1alpha1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registration {
    pub name: String,
    pub prefix: Option<String>,
    /// `Enabled` or `Disabled` (absent means enabled).
    pub state: String,
    #[serde(skip)]
    pub ready: Option<Cond>,
    pub message: Option<String>,
    /// Whether a credential Secret is referenced (its name only; the value is never read).
    pub credential: Option<String>,
}

/// Where a tool server is: in a cluster (through the service proxy) or at a URL from the config.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Location {
    Service { namespace: String, service: String, port: u16, path: String },
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolServer {
    /// Workload name, registration name, or the config entry's name.
    pub name: String,
    pub namespace: String,
    pub location: Option<Location>,
    /// `streamable_http` or `sse` (`kagenti.io/transport`).
    pub transport: Option<String>,
    pub registration: Option<Registration>,
    /// Ready / desired pods of the tool's workload (None: no workload, e.g. external).
    pub pods: Option<(i64, i64)>,
    /// Its running pods (UIDs): a replaced pod means a new server process, asked again at once.
    #[serde(skip)]
    pub pod_names: Vec<String>,
    pub listing: Option<ServerListing>,
    /// The last failure to list, when the last attempt failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStatus {
    /// Not asked yet.
    Pending,
    Reachable,
    Disabled,
    NotReady(String),
    Error(String),
}

impl ServerStatus {
    pub fn text(&self) -> String {
        match self {
            ServerStatus::Pending => "checking".into(),
            ServerStatus::Reachable => "reachable".into(),
            ServerStatus::Disabled => "disabled".into(),
            ServerStatus::NotReady(r) => format!("not ready: {r}"),
            ServerStatus::Error(e) => format!("error: {e}"),
        }
    }
}

impl ToolServer {
    pub fn status(&self) -> ServerStatus {
        if let Some(r) = &self.registration {
            if r.state.eq_ignore_ascii_case("disabled") {
                return ServerStatus::Disabled;
            }
        }
        if let Some((ready, want)) = self.pods {
            if ready == 0 {
                return ServerStatus::NotReady(format!("{ready}/{want} pods ready"));
            }
        }
        if self.location.is_none() {
            return ServerStatus::NotReady("no tool service found".into());
        }
        if let Some(e) = &self.error {
            return ServerStatus::Error(e.clone());
        }
        if let Some(Cond { ok: false, reason }) = self.registration.as_ref().and_then(|r| r.ready.as_ref()) {
            return ServerStatus::NotReady(format!("registration {reason}"));
        }
        if self.listing.is_some() {
            ServerStatus::Reachable
        } else {
            ServerStatus::Pending
        }
    }

    pub fn prefix(&self) -> &str {
        self.registration.as_ref().and_then(|r| r.prefix.as_deref()).unwrap_or("")
    }

    pub fn tools(&self) -> &[ToolInfo] {
        self.listing.as_ref().map(|l| l.tools.as_slice()).unwrap_or(&[])
    }
}

/// One tool as the registry pane lists it.
#[derive(Debug, Clone)]
pub struct ToolRow<'a> {
    pub cluster: Option<usize>,
    pub server: &'a ToolServer,
    pub tool: &'a ToolInfo,
    /// The name clients see through the gateway (registration prefix + name).
    pub exposed: String,
    /// Other servers offering a tool of the same name.
    pub conflicts: Vec<String>,
}

/// Every tool of every server, with name conflicts between servers of the same cluster (or
/// between external servers) marked. Two servers with the same tool name are a conflict even
/// behind different prefixes: an agent given both directly cannot tell them apart. The same
/// server deployed on two clusters is not a conflict.
pub fn rows<'a>(servers: &[(Option<usize>, &'a ToolServer)]) -> Vec<ToolRow<'a>> {
    // (cluster, tool name) -> where else it is served: (cluster, server)
    type Servings<'s> = BTreeMap<(Option<usize>, &'s str), Vec<(Option<usize>, String)>>;
    let mut by_name: Servings = BTreeMap::new();
    for (cluster, s) in servers {
        for t in s.tools() {
            by_name
                .entry((*cluster, t.name.as_str()))
                .or_default()
                .push((*cluster, format!("{}/{}", s.namespace, s.name)));
        }
    }
    let mut out = Vec::new();
    for (cluster, s) in servers {
        let me = format!("{}/{}", s.namespace, s.name);
        for t in s.tools() {
            let conflicts = by_name
                .get(&(*cluster, t.name.as_str()))
                .map(|v| v.iter().filter(|(c, o)| (*c, o) != (*cluster, &me)).map(|(_, o)| o.clone()).collect())
                .unwrap_or_default();
            out.push(ToolRow {
                cluster: *cluster,
                server: s,
                tool: t,
                exposed: format!("{}{}", s.prefix(), t.name),
                conflicts,
            });
        }
    }
    out
}
