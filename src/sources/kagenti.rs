//! Kagenti / Rossoctl on one cluster: agents and tools (workloads labelled `<brand>/type`),
//! their AgentRuntimes and AgentCards, pods (restarts), Services (card port), HPAs, Shipwright
//! builds; A2A cards fetched through the service proxy where the operator has not indexed one;
//! the platform's components polled. Both namings are watched: a cluster may use either or both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use kube::api::DynamicObject;
use serde_json::Value;
use tokio::sync::mpsc;

use super::get::{get_capped, GetError};
use super::options::WorkerOptions;
use super::watchset::WatchSet;
use crate::store::kagenti::{
    parse_card, provider_from_env, AgentInfo, Brand, BuildInfo, BuildRunInfo, CardState, ComponentState, Cond,
    PlatformStatus, WorkloadKind, PREVIOUS_REPLICAS,
};
use crate::store::posture::{facts, Baseline, Binding, Rbac, Rule, Subject};
use crate::store::tools::{Location, Registration, ToolServer};
use crate::store::Update;

/// How a cluster whose RBAC objects this user may not read is marked (`forbidden`).
/// What the Kagenti collector reads: a forbidden one leaves the agent panes' rows incomplete.
pub const READS: &[&str] = &[
    "deployments",
    "statefulsets",
    "pods",
    "services",
    "agentruntimes",
    "agentcards",
    "horizontalpodautoscalers",
    "builds",
    "buildruns",
    "mcpserverregistrations",
    RBAC_RESOURCE,
];

pub const RBAC_RESOURCE: &str = "roles/rolebindings";

/// Cards larger than this are refused (the operator's own cap).
pub const CARD_MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tag {
    Workloads(Brand, WorkloadKind),
    Pods(Brand),
    Services(Brand),
    Runtimes(Brand),
    Cards(Brand),
    Hpas,
    Builds,
    BuildRuns,
    /// MCPServerRegistrations: `mcp.kuadrant.io` v1, then the deprecated v1alpha1.
    Registrations(&'static str),
    Roles,
    ClusterRoles,
    RoleBindings,
    ClusterRoleBindings,
}

use super::api as ar;

const BRANDS: [Brand; 2] = [Brand::Kagenti, Brand::Rossoctl];

fn cond(status: &Value, t: &str) -> Option<Cond> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == t)
        .map(|c| Cond { ok: c["status"] == "True", reason: c["reason"].as_str().unwrap_or("").to_string() })
}

fn labels(o: &DynamicObject) -> BTreeMap<String, String> {
    o.metadata.labels.clone().unwrap_or_default()
}

fn ns_name(o: &DynamicObject) -> (String, String) {
    (o.metadata.namespace.clone().unwrap_or_default(), o.metadata.name.clone().unwrap_or_default())
}

fn targets(o: &DynamicObject, ns: &str, name: &str) -> bool {
    o.metadata.namespace.as_deref() == Some(ns) && o.data["spec"]["targetRef"]["name"].as_str() == Some(name)
}

/// Env names with literal values; anything from a Secret is known by name only.
fn env_of(spec: &Value) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for c in spec["containers"].as_array().into_iter().flatten() {
        for e in c["env"].as_array().into_iter().flatten() {
            if let Some(n) = e["name"].as_str() {
                out.insert(n.to_string(), e["value"].as_str().map(str::to_string));
            }
        }
    }
    out
}

fn card_port(svc: &DynamicObject, brand: Brand) -> Option<u16> {
    let ann = svc.metadata.annotations.clone().unwrap_or_default();
    if let Some(p) = ann.get(&format!("{}/port", brand.label_prefix())).and_then(|p| p.parse().ok()) {
        return Some(p);
    }
    let ports = svc.data["spec"]["ports"].as_array()?;
    ["a2a", "http"]
        .iter()
        .find_map(|n| ports.iter().find(|p| p["name"] == *n))
        .or_else(|| ports.first())
        .and_then(|p| p["port"].as_u64())
        .map(|p| p as u16)
}

fn decode_agents(w: &WatchSet<Tag>) -> Vec<AgentInfo> {
    let mut out = Vec::new();
    for brand in BRANDS {
        for kind in [WorkloadKind::Deployment, WorkloadKind::StatefulSet] {
            for o in w.objects(&Tag::Workloads(brand, kind)) {
                let (ns, name) = ns_name(o);
                let l = labels(o);
                let prefix = brand.label_prefix();
                let mut protocols: BTreeSet<String> = l
                    .keys()
                    .filter_map(|k| k.strip_prefix(&format!("{}/", brand.protocol_prefix())).map(str::to_string))
                    .collect();
                // the older single-value forms
                for k in [format!("{prefix}/protocol"), format!("{prefix}/agent-protocol")] {
                    if let Some(p) = l.get(&k) {
                        protocols.insert(p.clone());
                    }
                }
                let spec = &o.data["spec"];
                let pod_spec = &spec["template"]["spec"];
                let env = env_of(pod_spec);
                let literal = |k: &str| env.get(k).cloned().flatten();
                let runtime = w.objects(&Tag::Runtimes(brand)).find(|r| targets(r, &ns, &name));
                let card = w.objects(&Tag::Cards(brand)).find(|c| targets(c, &ns, &name));
                // pods not listed, or not listable: restarts unknown (None), not zero
                let restarts: Option<i64> = w.served(&Tag::Pods(brand)).filter(|s| *s).map(|_| {
                    w.objects(&Tag::Pods(brand))
                        .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
                        .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with(&format!("{name}-"))))
                        .flat_map(|p| p.data["status"]["containerStatuses"].as_array().cloned().unwrap_or_default())
                        .filter_map(|s| s["restartCount"].as_i64())
                        .sum()
                });
                let hpa = w
                    .objects(&Tag::Hpas)
                    .find(|h| {
                        h.metadata.namespace.as_deref() == Some(ns.as_str())
                            && h.data["spec"]["scaleTargetRef"]["name"].as_str() == Some(name.as_str())
                            && h.data["spec"]["scaleTargetRef"]["kind"].as_str() == Some(kind.name())
                    })
                    .and_then(|h| h.metadata.name.clone());
                let svc = w.objects(&Tag::Services(brand)).find(|s| ns_name(s) == (ns.clone(), name.clone()));
                let template_labels: BTreeMap<String, String> =
                    serde_json::from_value(spec["template"]["metadata"]["labels"].clone()).unwrap_or_default();
                let inject_disabled = [&l, &template_labels]
                    .iter()
                    .any(|m| m.get(&format!("{prefix}/inject")).is_some_and(|v| v == "disabled"));
                let authbridge_pods: Vec<String> = w
                    .objects(&Tag::Pods(brand))
                    .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
                    .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with(&format!("{name}-"))))
                    .filter(|p| p.data["status"]["phase"] == "Running" && has_authbridge(&p.data["spec"]))
                    .filter_map(|p| p.metadata.name.clone())
                    .collect();
                let card_status = card.map(|c| &c.data["status"]);
                let indexed_card = card_status
                    .and_then(|s| s.get("card").filter(|c| c.is_object()).cloned())
                    .or_else(|| runtime.and_then(|r| r.data["status"].get("card").filter(|c| c.is_object()).cloned()));
                out.push(AgentInfo {
                    namespace: ns.clone(),
                    name: name.clone(),
                    kind,
                    brand,
                    wtype: l.get(&format!("{prefix}/type")).cloned().unwrap_or_default(),
                    framework: l.get(&format!("{prefix}/framework")).cloned(),
                    protocols: protocols.into_iter().collect(),
                    desired: spec["replicas"].as_i64().unwrap_or(1),
                    ready: o.data["status"]["readyReplicas"].as_i64().unwrap_or(0),
                    previous_replicas: o
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(PREVIOUS_REPLICAS))
                        .and_then(|v| v.parse().ok()),
                    service_account: pod_spec["serviceAccountName"].as_str().unwrap_or("default").to_string(),
                    provider: provider_from_env(&env),
                    model: literal("LLM_MODEL").or_else(|| literal("ANTHROPIC_MODEL")),
                    mcp_url: literal("MCP_URL"),
                    created: o.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
                    restarts,
                    runtime_ready: runtime.and_then(|r| cond(&r.data["status"], "Ready")),
                    card_synced: card_status.and_then(|s| cond(s, "Synced")),
                    hpa,
                    indexed_card,
                    valid_signature: card_status.and_then(|s| s["validSignature"].as_bool()),
                    identity_bound: card_status.and_then(|s| s["bindingStatus"]["bound"].as_bool()),
                    card_port: svc.and_then(|s| card_port(s, brand)),
                    selector: spec["selector"]["matchLabels"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default(),
                    env_urls: env
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                        .filter(|(_, v)| v.starts_with("http://") || v.starts_with("https://"))
                        .collect(),
                    inject_disabled,
                    transport: l.get(&format!("{prefix}/transport")).cloned(),
                    mtls_mode: runtime.and_then(|r| r.data["spec"]["mtlsMode"].as_str().map(str::to_string)),
                    authbridge_pods,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// The AuthBridge sidecar: a container (or native sidecar) named `authbridge`, or one serving 9093.
fn has_authbridge(pod_spec: &Value) -> bool {
    pod_spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pod_spec["initContainers"].as_array().into_iter().flatten())
        .any(|c| {
            c["name"].as_str().is_some_and(|n| n.contains("authbridge"))
                || c["ports"].as_array().into_iter().flatten().any(|p| p["containerPort"] == 9093)
        })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

fn rules_of(o: &DynamicObject) -> Vec<Rule> {
    o.data["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| Rule {
            api_groups: strings(&r["apiGroups"]),
            resources: strings(&r["resources"]),
            verbs: strings(&r["verbs"]),
        })
        .collect()
}

fn decode_rbac(w: &WatchSet<Tag>) -> Rbac {
    let mut rbac = Rbac::default();
    for o in w.objects(&Tag::Roles) {
        rbac.roles.insert(ns_name(o), rules_of(o));
    }
    for o in w.objects(&Tag::ClusterRoles) {
        rbac.cluster_roles.insert(o.metadata.name.clone().unwrap_or_default(), rules_of(o));
    }
    for (tag, kind) in [(Tag::RoleBindings, "RoleBinding"), (Tag::ClusterRoleBindings, "ClusterRoleBinding")] {
        for o in w.objects(&tag) {
            let name = o.metadata.name.clone().unwrap_or_default();
            let l = labels(o);
            rbac.bindings.push(Binding {
                kind: kind.into(),
                namespace: o.metadata.namespace.clone(),
                legacy: name.starts_with("kagenti-component-")
                    || l.get("app.kubernetes.io/part-of").is_some_and(|v| v == "kagenti-operator"),
                name,
                role_kind: o.data["roleRef"]["kind"].as_str().unwrap_or("").to_string(),
                role_name: o.data["roleRef"]["name"].as_str().unwrap_or("").to_string(),
                subjects: o.data["subjects"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| Subject {
                        kind: s["kind"].as_str().unwrap_or("").to_string(),
                        name: s["name"].as_str().unwrap_or("").to_string(),
                        namespace: s["namespace"].as_str().map(str::to_string),
                    })
                    .collect(),
            });
        }
    }
    rbac
}

/// Tool servers as the objects describe them: tool workloads with their `<name>-mcp` Service
/// (or a Service selecting them), and MCPServerRegistrations (v1 preferred over v1alpha1).
fn decode_tools(w: &WatchSet<Tag>, agents: &[AgentInfo]) -> Vec<ToolServer> {
    let mut regs: BTreeMap<(String, String), Registration> = BTreeMap::new();
    for version in ["v1alpha1", "v1"] {
        for o in w.objects(&Tag::Registrations(version)) {
            let spec = &o.data["spec"];
            let (ns, name) = ns_name(o);
            let ready = cond(&o.data["status"], "Ready");
            let message = o.data["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                .and_then(|c| c["message"].as_str().map(str::to_string));
            regs.insert(
                (ns, name.clone()),
                Registration {
                    name,
                    prefix: spec["prefix"].as_str().or(spec["toolPrefix"].as_str()).map(str::to_string),
                    state: spec["state"].as_str().unwrap_or("Enabled").to_string(),
                    ready,
                    message,
                    credential: spec["credentialRef"]["name"].as_str().map(str::to_string),
                },
            );
        }
    }
    let route_target = |o: &Registration, ns: &str| -> Option<String> {
        w.objects(&Tag::Registrations("v1"))
            .chain(w.objects(&Tag::Registrations("v1alpha1")))
            .find(|r| ns_name(r) == (ns.to_string(), o.name.clone()))
            .and_then(|r| r.data["spec"]["targetRef"]["name"].as_str().map(str::to_string))
    };
    let mut out = Vec::new();
    for a in agents.iter().filter(|a| a.wtype == "tool") {
        let services: Vec<&DynamicObject> = BRANDS
            .iter()
            .flat_map(|b| w.objects(&Tag::Services(*b)))
            .filter(|s| s.metadata.namespace.as_deref() == Some(a.namespace.as_str()))
            .collect();
        let svc = services
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(format!("{}-mcp", a.name).as_str()))
            .or_else(|| services.iter().find(|s| s.metadata.name.as_deref() == Some(a.name.as_str())));
        let location = svc.map(|s| Location::Service {
            namespace: a.namespace.clone(),
            service: s.metadata.name.clone().unwrap_or_default(),
            port: s.data["spec"]["ports"][0]["port"].as_u64().unwrap_or(8000) as u16,
            // the legacy HTTP+SSE transport opens its stream at /sse
            path: if a.transport.as_deref() == Some("sse") { "/sse" } else { "/mcp" }.into(),
        });
        // a registration names the tool (or its route `<tool>-route`)
        let reg_key = regs
            .keys()
            .find(|(ns, n)| {
                *ns == a.namespace && {
                    let r = &regs[&(ns.clone(), n.clone())];
                    let target = route_target(r, ns).unwrap_or_default();
                    *n == a.name || target.trim_end_matches("-route") == a.name
                }
            })
            .cloned();
        let registration = reg_key.and_then(|k| regs.remove(&k));
        out.push(ToolServer {
            name: a.name.clone(),
            namespace: a.namespace.clone(),
            location,
            transport: a.transport.clone(),
            registration,
            pods: Some((a.ready, a.desired)),
            pod_names: BRANDS
                .iter()
                .flat_map(|b| w.objects(&Tag::Pods(*b)))
                .filter(|p| p.metadata.namespace.as_deref() == Some(a.namespace.as_str()))
                .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.starts_with(&format!("{}-", a.name))))
                .filter(|p| p.data["status"]["phase"] == "Running")
                .filter_map(|p| p.metadata.uid.clone().or_else(|| p.metadata.name.clone()))
                .collect(),
            listing: None,
            error: None,
        });
    }
    // registrations without a workload kst can see
    for ((ns, name), r) in regs {
        out.push(ToolServer {
            name,
            namespace: ns,
            location: None,
            transport: None,
            registration: Some(r),
            pods: None,
            pod_names: vec![],
            listing: None,
            error: None,
        });
    }
    out
}

fn seconds_between(a: &str, b: &str) -> Option<i64> {
    let a: jiff::Timestamp = a.parse().ok()?;
    let b: jiff::Timestamp = b.parse().ok()?;
    Some(b.as_second() - a.as_second())
}

/// kst's own build history: clusters keep only a few runs per build (Shipwright's 3+3).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BuildHistory {
    /// "ns/build" -> run name -> succeeded
    pub runs: BTreeMap<String, BTreeMap<String, bool>>,
}

/// Runs kept per build in the history file.
pub const HISTORY_PER_BUILD: usize = 100;

impl BuildHistory {
    pub fn load(path: &PathBuf) -> BuildHistory {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }
    pub fn save(&self, path: &std::path::Path) {
        if let Err(e) = crate::files::write_atomic(path, &serde_json::to_vec(self).unwrap_or_default()) {
            tracing::warn!(path = %path.display(), "cannot save the build history: {e}");
        }
    }
    /// Records finished runs; true when anything new was learned.
    pub fn record(&mut self, build: &str, runs: &[BuildRunInfo]) -> bool {
        let entry = self.runs.entry(build.to_string()).or_default();
        let mut changed = false;
        for r in runs {
            if let Some(ok) = r.outcome {
                changed |= entry.insert(r.name.clone(), ok).is_none();
            }
        }
        while entry.len() > HISTORY_PER_BUILD {
            let first = entry.keys().next().cloned().expect("non-empty");
            entry.remove(&first);
        }
        changed
    }
    pub fn counts(&self, build: &str) -> (u32, u32) {
        self.runs
            .get(build)
            .map(|m| (m.values().filter(|v| **v).count() as u32, m.values().filter(|v| !**v).count() as u32))
            .unwrap_or((0, 0))
    }
}

fn decode_builds(w: &WatchSet<Tag>, history: &mut BuildHistory, history_changed: &mut bool) -> Vec<BuildInfo> {
    let mut out = Vec::new();
    for b in w.objects(&Tag::Builds) {
        let (ns, name) = ns_name(b);
        let mut runs: Vec<(String, BuildRunInfo)> = w
            .objects(&Tag::BuildRuns)
            .filter(|r| r.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|r| {
                let l = labels(r);
                l.get("kagenti.io/build-name").or(l.get("rossoctl.io/build-name")).map(String::as_str)
                    == Some(name.as_str())
                    || r.data["spec"]["build"]["name"].as_str() == Some(name.as_str())
            })
            .map(|r| {
                let st = &r.data["status"];
                let c = cond(st, "Succeeded");
                let started = st["startTime"].as_str().map(str::to_string);
                let duration_s =
                    started.as_deref().zip(st["completionTime"].as_str()).and_then(|(a, b)| seconds_between(a, b));
                let outcome =
                    match st["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == "Succeeded")) {
                        Some(c) if c["status"] == "True" => Some(true),
                        Some(c) if c["status"] == "False" => Some(false),
                        _ => None,
                    };
                let failed = c.filter(|c| !c.ok);
                let reason = st["failureDetails"]["reason"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| failed.as_ref().map(|c| c.reason.clone()));
                let message = st["failureDetails"]["message"]
                    .as_str()
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .or_else(|| {
                        st["conditions"]
                            .as_array()?
                            .iter()
                            .find(|c| c["type"] == "Succeeded" && c["status"] == "False")?["message"]
                            .as_str()
                            .map(str::to_string)
                    })
                    .filter(|_| outcome == Some(false));
                let sort_key = started
                    .clone()
                    .or_else(|| r.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()))
                    .unwrap_or_default();
                (
                    sort_key,
                    BuildRunInfo {
                        name: r.metadata.name.clone().unwrap_or_default(),
                        outcome,
                        reason,
                        message,
                        started,
                        duration_s,
                    },
                )
            })
            .collect();
        runs.sort_by(|a, b| b.0.cmp(&a.0));
        let runs: Vec<BuildRunInfo> = runs.into_iter().map(|r| r.1).collect();
        let key = format!("{ns}/{name}");
        *history_changed |= history.record(&key, &runs);
        out.push(BuildInfo {
            namespace: ns,
            name,
            strategy: b.data["spec"]["strategy"]["name"].as_str().map(str::to_string),
            runs,
            history: history.counts(&key),
        });
    }
    out
}

/// The agent's A2A card through the service proxy: `/.well-known/agent-card.json`, then the
/// older `/.well-known/agent.json`.
pub async fn fetch_card(client: &kube::Client, ns: &str, service: &str, port: u16, timeout: Duration) -> CardState {
    let mut last = String::new();
    for path in ["/.well-known/agent-card.json", "/.well-known/agent.json"] {
        let url = format!("/api/v1/namespaces/{ns}/services/{service}:{port}/proxy{path}");
        match get_capped(client, &url, CARD_MAX_BYTES, timeout).await {
            Ok(body) => {
                return match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => parse_card(&v)
                        .map(CardState::Fetched)
                        .unwrap_or_else(|e| CardState::Error(format!("bad card: {e}"))),
                    Err(e) => CardState::Error(format!("card is not JSON: {e}")),
                }
            }
            Err(e) => last = e.to_string(),
        }
    }
    CardState::Error(last)
}

async fn platform(client: &kube::Client, brands: &[Brand]) -> PlatformStatus {
    let brand = brands.first().copied().unwrap_or(Brand::Kagenti);
    let sys = brand.system_namespace();
    let workload = |kind: &'static str, ns: &str, name: &str| {
        let path = format!("/apis/apps/v1/namespaces/{ns}/{kind}/{name}");
        let client = client.clone();
        async move {
            match get_capped(&client, &path, 4 << 20, Duration::from_secs(5)).await {
                Ok(b) => {
                    let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                    let want = v["spec"]["replicas"].as_i64().unwrap_or(1);
                    let ready = v["status"]["readyReplicas"].as_i64().unwrap_or(0);
                    if want > 0 && ready >= want {
                        ComponentState::Ready
                    } else {
                        ComponentState::Degraded(format!("{ready}/{want} ready"))
                    }
                }
                Err(GetError::Status(404, _)) => ComponentState::Missing,
                Err(e) => ComponentState::Degraded(e.to_string()),
            }
        }
    };
    let group = |g: &'static str| {
        let client = client.clone();
        async move {
            match get_capped(&client, &format!("/apis/{g}"), 1 << 20, Duration::from_secs(5)).await {
                Ok(_) => ComponentState::Ready,
                Err(GetError::Status(404, _)) => ComponentState::Missing,
                Err(e) => ComponentState::Degraded(e.to_string()),
            }
        }
    };
    let components = vec![
        ("operator".to_string(), workload("deployments", sys, &format!("{}-controller-manager", brand.name())).await),
        ("istiod".to_string(), workload("deployments", "istio-system", "istiod").await),
        ("keycloak".to_string(), workload("statefulsets", "keycloak", "keycloak").await),
        ("spire".to_string(), group("spire.spiffe.io").await),
        ("shipwright".to_string(), group("shipwright.io").await),
        ("mcp gateway".to_string(), workload("deployments", "gateway-system", "mcp-gateway-istio").await),
        ("otel collector".to_string(), workload("deployments", sys, "otel-collector").await),
        ("phoenix".to_string(), workload("deployments", sys, "phoenix").await),
    ];
    let mut enabled = Vec::new();
    for b in brands {
        let path = format!("/api/v1/namespaces?labelSelector={}-enabled%3Dtrue", b.name());
        if let Ok(body) = get_capped(client, &path, 4 << 20, Duration::from_secs(5)).await {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            enabled.extend(
                v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string)),
            );
        }
    }
    PlatformStatus { components, enabled_namespaces: enabled }
}

pub fn history_path(dir: &std::path::Path, context: &str) -> PathBuf {
    dir.join(format!("builds-{}.json", crate::files::safe_name(context)))
}

pub fn baseline_path(dir: &std::path::Path, template: Option<&str>, context: &str) -> PathBuf {
    let safe = crate::files::safe_name(context);
    match template {
        Some(t) => PathBuf::from(t.replace("{context}", &safe)),
        None => dir.join(format!("posture-{safe}.json")),
    }
}

/// A brand's pods and Services, read for its agents and tools' sake only (restarts, ready
/// pods, where a tool is served): watched from the first workload of the brand, not on every
/// cluster of the fleet (two watches a brand, ~16 KB each held, and a list each).
fn add_brand_pod_watches(w: &mut WatchSet<Tag>, ctx: &super::paced::WatchCtx, client: &kube::Client, brand: Brand) {
    let sel = format!("{}/type in (agent,tool)", brand.label_prefix());
    w.add(ctx, client, Tag::Pods(brand), &ar("", "v1", "Pod", "pods"), Some(&sel));
    w.slim(Tag::Pods(brand), super::slim::pod);
    w.add(ctx, client, Tag::Services(brand), &ar("", "v1", "Service", "services"), Some(&sel));
}

/// The brands with a workload whose pods and Services are not watched yet.
fn brands_needing_pods(w: &WatchSet<Tag>) -> Vec<Brand> {
    BRANDS
        .into_iter()
        .filter(|b| !w.by_tag.contains_key(&Tag::Pods(*b)))
        .filter(|b| {
            [WorkloadKind::Deployment, WorkloadKind::StatefulSet]
                .iter()
                .any(|k| w.objects(&Tag::Workloads(*b, *k)).next().is_some())
        })
        .collect()
}

/// The watches only a cluster with agents needs: autoscalers and the four RBAC kinds.
fn add_agent_watches(w: &mut WatchSet<Tag>, ctx: &super::paced::WatchCtx, client: &kube::Client) {
    w.add(
        ctx,
        client,
        Tag::Hpas,
        &ar("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        None,
    );
    let rbac_group = "rbac.authorization.k8s.io";
    // the four RBAC kinds are one thing to the user: "RBAC forbidden for you"
    for (tag, kind, plural) in [
        (Tag::Roles, "Role", "roles"),
        (Tag::ClusterRoles, "ClusterRole", "clusterroles"),
        (Tag::RoleBindings, "RoleBinding", "rolebindings"),
        (Tag::ClusterRoleBindings, "ClusterRoleBinding", "clusterrolebindings"),
    ] {
        w.add_as(ctx, client, tag, &ar(rbac_group, "v1", kind, plural), None, RBAC_RESOURCE);
    }
}

/// The watches every cluster gets: each brand's agent and tool workloads (their pods and
/// Services follow them), AgentRuntimes and AgentCards; Shipwright builds; MCP server
/// registrations (both versions).
fn base_watches(ctx: &super::paced::WatchCtx, client: &kube::Client) -> WatchSet<Tag> {
    let mut w: WatchSet<Tag> = WatchSet::new();
    for brand in BRANDS {
        let p = brand.label_prefix();
        let sel = format!("{p}/type in (agent,tool)");
        w.add(
            ctx,
            client,
            Tag::Workloads(brand, WorkloadKind::Deployment),
            &ar("apps", "v1", "Deployment", "deployments"),
            Some(&sel),
        );
        w.add(
            ctx,
            client,
            Tag::Workloads(brand, WorkloadKind::StatefulSet),
            &ar("apps", "v1", "StatefulSet", "statefulsets"),
            Some(&sel),
        );
        w.add(ctx, client, Tag::Runtimes(brand), &ar(brand.group(), "v1alpha1", "AgentRuntime", "agentruntimes"), None);
        w.add(ctx, client, Tag::Cards(brand), &ar(brand.group(), "v1alpha1", "AgentCard", "agentcards"), None);
    }
    w.add(ctx, client, Tag::Builds, &ar("shipwright.io", "v1beta1", "Build", "builds"), None);
    w.add(ctx, client, Tag::BuildRuns, &ar("shipwright.io", "v1beta1", "BuildRun", "buildruns"), None);
    for version in ["v1", "v1alpha1"] {
        w.add(
            ctx,
            client,
            Tag::Registrations(version),
            &ar("mcp.kuadrant.io", version, "MCPServerRegistration", "mcpserverregistrations"),
            None,
        );
    }
    w
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    ctx: super::paced::WatchCtx,
    hist_path: PathBuf,
    posture_path: PathBuf,
    client: kube::Client,
    tx: mpsc::Sender<Update>,
    opts: WorkerOptions,
) {
    let index = ctx.cluster;
    let mut w = base_watches(&ctx, &client);
    // RBAC and autoscalers are read for the agents' sake only (their posture, their toggle):
    // watched from the first sight of an installation, not on every cluster of the fleet (a
    // real cluster's ClusterRoles alone are hundreds of kilobytes decoded)
    let mut agent_watches = false;
    let (targets_tx, targets_rx) = tokio::sync::watch::channel(super::fabric::Targets::default());
    let fabric = tokio::spawn(super::fabric::run(ctx.clone(), client.clone(), targets_rx, tx.clone(), opts.clone()));
    // the fabric poller stops with the watcher (disconnect, shutdown)
    let _fabric = super::AbortOnDrop(fabric);
    let mut baseline = Baseline::load(&posture_path);
    if tx
        .send(Update::Baseline { cluster: index, baseline: baseline.clone(), path: posture_path.clone() })
        .await
        .is_err()
    {
        return;
    }
    let mut last_rbac: Option<Rbac> = None;

    let mut history = BuildHistory::load(&hist_path);
    let (card_tx, mut card_rx) = mpsc::channel::<((String, String), CardState)>(64);
    let mut fetched: BTreeMap<(String, String), tokio::time::Instant> = BTreeMap::new();
    let mut brands: Vec<Brand> = Vec::new();
    let mut dirty = false;
    let flush = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(flush);
    let mut platform_tick = tokio::time::interval(opts.refresh * 6);
    platform_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            ev = w.next() => {
                let Some((_, changed)) = ev else { return };
                if changed && w.all_listed() {
                    dirty = true;
                    let soon = tokio::time::Instant::now() + opts.coalesce;
                    if flush.deadline() > soon { flush.as_mut().reset(soon); }
                }
            }
            Some((key, state)) = card_rx.recv() => {
                if tx.send(Update::KagentiCard { cluster: index, agent: key, state }).await.is_err() { return }
            }
            _ = platform_tick.tick() => {
                if !brands.is_empty() {
                    let status = platform(&client, &brands).await;
                    if tx.send(Update::Platform { cluster: index, status }).await.is_err() { return }
                }
            }
            _ = &mut flush => {
                flush.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(3600));
                if !dirty { continue }
                dirty = false;
                // workloads first seen: their pods and Services are read before anything is said
                // of them (their listing flushes again)
                let needing = brands_needing_pods(&w);
                if !needing.is_empty() {
                    for b in needing {
                        add_brand_pod_watches(&mut w, &ctx, &client, b);
                    }
                    continue;
                }
                let agents = decode_agents(&w);
                let found: Vec<Brand> = BRANDS
                    .into_iter()
                    .filter(|b| {
                        agents.iter().any(|a| a.brand == *b) || w.served(&Tag::Runtimes(*b)) == Some(true)
                    })
                    .collect();
                // agents first seen: nothing is said of them before their autoscalers are read
                // (a toggle must know an HPA will scale the agent back); their listing flushes again
                if !found.is_empty() && !std::mem::replace(&mut agent_watches, true) {
                    add_agent_watches(&mut w, &ctx, &client);
                    continue;
                }
                let had_brands = !brands.is_empty();
                brands = found;
                let mut history_changed = false;
                let builds = decode_builds(&w, &mut history, &mut history_changed);
                if history_changed {
                    history.save(&hist_path);
                }
                // cards the operator has not indexed are fetched, at most once a minute each
                for a in agents.iter().filter(|a| a.wtype == "agent" && a.protocols.iter().any(|p| p == "a2a")) {
                    if let Some(c) = &a.indexed_card {
                        let state = parse_card(c).map(CardState::Indexed).unwrap_or_else(|e| CardState::Error(format!("bad indexed card: {e}")));
                        let _ = card_tx.try_send((a.key(), state));
                        continue;
                    }
                    if a.ready == 0 {
                        let _ = card_tx.try_send((a.key(), CardState::Error("no ready pod to ask".into())));
                        continue;
                    }
                    let due = fetched.get(&a.key()).is_none_or(|t| t.elapsed() > Duration::from_secs(60));
                    if due {
                        fetched.insert(a.key(), tokio::time::Instant::now());
                        let (client, tx, key, port) = (client.clone(), card_tx.clone(), a.key(), a.card_port.unwrap_or(8080));
                        let timeout = opts.scrape_timeout.max(Duration::from_secs(5));
                        tokio::spawn(async move {
                            let state = fetch_card(&client, &key.0, &key.1, port, timeout).await;
                            let _ = tx.send((key, state)).await;
                        });
                    }
                }
                let tools = decode_tools(&w, &agents);
                let authbridge = agents
                    .iter()
                    .filter(|a| !a.authbridge_pods.is_empty())
                    .map(|a| (a.key(), a.authbridge_pods.clone()))
                    .collect();
                // always a notification: the poller learns the cluster was read, even with nothing to poll
                targets_tx.send_replace(super::fabric::Targets { tools, authbridge });
                let rbac_tags = [Tag::Roles, Tag::ClusterRoles, Tag::RoleBindings, Tag::ClusterRoleBindings];
                let rbac_served = rbac_tags.iter().all(|t| w.served(t) == Some(true));
                let rbac = rbac_served.then(|| decode_rbac(&w));
                if rbac.is_some() && rbac != last_rbac {
                    last_rbac = rbac.clone();
                    if tx.send(Update::Rbac { cluster: index, rbac: rbac.clone().unwrap_or_default() }).await.is_err() { return }
                }
                // the first complete picture becomes the baseline drift is measured against
                if baseline.is_none() && !brands.is_empty() && rbac.is_some() {
                    let b = Baseline { saved: jiff::Timestamp::now().to_string(), facts: facts(&agents, rbac.as_ref()) };
                    if let Err(e) = b.save(&posture_path) {
                        tracing::warn!(path = %posture_path.display(), "cannot save the posture baseline: {e}");
                    }
                    baseline = Some(b);
                    if tx.send(Update::Baseline { cluster: index, baseline: baseline.clone(), path: posture_path.clone() }).await.is_err() { return }
                }
                if tx.send(Update::Kagenti { cluster: index, brands: brands.clone(), agents, builds }).await.is_err() { return }
                if !had_brands && !brands.is_empty() {
                    // first sight of an installation: status now, not in half a minute
                    platform_tick.reset_immediately();
                }

            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_history_is_bounded_and_counts_outcomes() {
        let mut h = BuildHistory::default();
        let run = |i: usize, ok: Option<bool>| BuildRunInfo {
            name: format!("r{i:04}"),
            outcome: ok,
            reason: None,
            message: None,
            started: None,
            duration_s: None,
        };
        assert!(h.record("ns/b", &[run(1, Some(true)), run(2, Some(false)), run(3, None)]));
        assert!(!h.record("ns/b", &[run(1, Some(true))]), "a run is counted once");
        assert_eq!(h.counts("ns/b"), (1, 1));
        let many: Vec<BuildRunInfo> = (10..300).map(|i| run(i, Some(i % 4 != 0))).collect();
        h.record("ns/b", &many);
        let (ok, bad) = h.counts("ns/b");
        assert_eq!((ok + bad) as usize, HISTORY_PER_BUILD);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.json");
        h.save(&p);
        assert_eq!(BuildHistory::load(&p).counts("ns/b"), (ok, bad));
    }
}
