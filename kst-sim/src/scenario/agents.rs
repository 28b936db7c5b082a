//! Kagenti on the agent cluster: agents (brands, providers, cards), MCP tools, builds.

use super::*;

#[derive(Clone, Copy)]
pub(crate) struct Brand {
    pub(crate) label: &'static str,
    pub(crate) protocol: &'static str,
    pub(crate) runtimes: ResDef,
    pub(crate) cards: ResDef,
    pub(crate) system_ns: &'static str,
}

impl Brand {
    pub(crate) const KAGENTI: Brand = Brand {
        label: "kagenti.io",
        protocol: "protocol.kagenti.io",
        runtimes: r::AGENT_RUNTIMES,
        cards: r::AGENT_CARDS,
        system_ns: "kagenti-system",
    };
    pub(crate) const ROSSOCTL: Brand = Brand {
        label: "rossoctl.io",
        protocol: "protocol.rossoctl.io",
        runtimes: r::AGENT_RUNTIMES_ROSSOCTL,
        cards: r::AGENT_CARDS_ROSSOCTL,
        system_ns: "rossoctl-system",
    };
}

#[derive(Clone, Copy)]
pub(crate) enum Provider {
    OpenAi,
    Ollama,
    Anthropic,
    Gemini,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum CardShape {
    /// A2A 1.0: `supportedInterfaces`.
    V1,
    /// Older cards: a top-level `url`.
    Legacy,
}

/// How an agent misbehaves, if at all.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Condition {
    Healthy,
    Paused,
    Failing,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn agent(
    w: &mut Workloads<'_>,
    brand: Brand,
    ns: &str,
    name: &str,
    framework: &str,
    protocols: &[&str],
    replicas: i64,
    provider: Provider,
    shape: CardShape,
    age_days: i64,
) {
    agent_full(
        w,
        brand,
        ns,
        name,
        framework,
        protocols,
        replicas,
        provider,
        shape,
        age_days,
        Condition::Healthy,
        true,
        true,
    );
}
/// The model provider's settings in the agent's environment, and its key as a Secret the agent
/// reads (what a YAML view must never show).
fn provider_credentials(w: &mut Workloads<'_>, provider: Provider, ns: &str, envs: &mut Vec<Value>) {
    // the provider's key, as a Secret the agent reads: what a YAML view must never show
    let secret = match provider {
        Provider::OpenAi => Some(("openai-secret", "apikey")),
        Provider::Anthropic => Some(("litellm-secret", "auth-token")),
        Provider::Gemini => Some(("gemini-secret", "apikey")),
        Provider::Ollama => None,
    };
    if let Some((secret, key)) = secret {
        use base64::Engine;
        let value = format!("sk-sim-{:016x}", fnv(&format!("{ns}/{secret}")));
        w.put(
            &r::SECRETS,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": secret, "namespace": ns},
               "data": {key: base64::engine::general_purpose::STANDARD.encode(value)}}),
        );
    }
    match provider {
        Provider::OpenAi => {
            envs.push(env("LLM_API_BASE", "https://api.openai.com/v1"));
            envs.push(env("LLM_MODEL", "gpt-4o-mini-2024-07-18"));
            envs.push(env_secret("OPENAI_API_KEY", "openai-secret", "apikey"));
        }
        Provider::Ollama => {
            envs.push(env("LLM_API_BASE", "http://host.docker.internal:11434/v1"));
            envs.push(env("LLM_MODEL", "llama3.2:3b-instruct-fp16"));
            envs.push(env("LLM_API_KEY", "dummy"));
        }
        Provider::Anthropic => {
            envs.push(env("ANTHROPIC_BASE_URL", "http://litellm-model-proxy.team1:4000"));
            envs.push(env("ANTHROPIC_MODEL", "claude-sonnet-4"));
            envs.push(env_secret("ANTHROPIC_AUTH_TOKEN", "litellm-secret", "auth-token"));
        }
        Provider::Gemini => {
            envs.push(env_secret("GOOGLE_API_KEY", "gemini-secret", "apikey"));
        }
    }
}

/// The agent's A2A card in the shape its SDK generation serves.
fn agent_card(shape: CardShape, ns: &str, name: &str, framework: &str) -> Value {
    let url = format!("http://{name}.{ns}.svc.cluster.local:8080/");
    let skills = json!([{"id": format!("{name}-main"), "name": name.replace('-', " "), "description": format!("Main skill of {name}"),
                     "tags": [framework, "demo"], "examples": ["What can you do?"]}]);
    match shape {
        CardShape::V1 => {
            json!({"name": name, "description": format!("{name} ({framework})"), "version": "1.0.0",
        "supportedInterfaces": [{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "capabilities": {"streaming": true, "pushNotifications": false}, "defaultInputModes": ["text"], "defaultOutputModes": ["text"],
        "skills": skills})
        }
        CardShape::Legacy => {
            json!({"name": name, "description": format!("{name} ({framework})"), "version": "0.2.1", "url": url,
        "protocolVersion": "0.3.0", "capabilities": {"streaming": false}, "defaultInputModes": ["text"], "defaultOutputModes": ["text"],
        "skills": skills})
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn agent_full(
    w: &mut Workloads<'_>,
    brand: Brand,
    ns: &str,
    name: &str,
    framework: &str,
    protocols: &[&str],
    replicas: i64,
    provider: Provider,
    shape: CardShape,
    age_days: i64,
    condition: Condition,
    own_sa: bool,
    authbridge: bool,
) {
    let type_key = format!("{}/type", brand.label);
    let fw_key = format!("{}/framework", brand.label);
    let proto_keys: Vec<String> = protocols.iter().map(|p| format!("{}/{p}", brand.protocol)).collect();
    let inject_key = format!("{}/inject", brand.label);
    let mut labels: Vec<(&str, &str)> = vec![
        (type_key.as_str(), "agent"),
        (fw_key.as_str(), framework),
        ("app.kubernetes.io/managed-by", "kagenti-operator"),
    ];
    if !authbridge {
        labels.push((inject_key.as_str(), "disabled"));
    }
    for k in &proto_keys {
        labels.push((k.as_str(), ""));
    }
    let mut envs = vec![
        env("PORT", "8000"),
        env("AGENT_ENDPOINT", &format!("http://{name}.{ns}.svc.cluster.local:8080")),
        env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &format!("http://otel-collector.{}.svc.cluster.local:8335", brand.system_ns),
        ),
        env("MCP_URL", "http://weather-tool-mcp.team1.svc.cluster.local:8000/mcp"),
    ];
    provider_credentials(w, provider, ns, &mut envs);
    let annotations: Vec<(&str, &str)> = match condition {
        Condition::Paused => {
            vec![("kst.dev/previous-replicas", "2"), ("kagenti.io/description", "paused by the on-call")]
        }
        _ => vec![("kagenti.io/description", "An agent of the simulated fleet")],
    };
    let c = container("agent", &format!("ghcr.io/kagenti/agent-examples/{name}:0.3.{}", age_days % 7), 8000, 0, &envs);
    let replicas = if condition == Condition::Paused { 0 } else { replicas };
    // AuthBridge, as the webhook injects it: a native sidecar with its stats on 9093
    let sidecars = if authbridge {
        let mut bridge = container("authbridge", "ghcr.io/kagenti/authbridge:0.4.1", 9093, 0, &[]);
        bridge["restartPolicy"] = json!("Always");
        vec![bridge]
    } else {
        vec![]
    };
    w.workload(&r::DEPLOYMENTS, ns, name, replicas, &labels, &annotations, vec![c], sidecars, age_days * 86400 + 3600);
    if own_sa {
        w.service_account(ns, name);
        w.with_sa(&r::DEPLOYMENTS, ns, name, name);
    }
    let mut svc_labels = vec![(type_key.as_str(), "agent")];
    for k in &proto_keys {
        svc_labels.push((k.as_str(), ""));
    }
    w.service(ns, name, name, &[("http", 8080, 8000)], &svc_labels);
    if condition == Condition::Failing {
        w.cluster.dynamics.lock().expect("dynamics").crashing.push((ns.to_string(), name.to_string()));
        crash_first_pod(w.cluster, w.store, ns, name);
        refresh_status(w.cluster, w.store, &r::DEPLOYMENTS, ns, name);
    }

    let card = agent_card(shape, ns, name, framework);
    w.cluster.dynamics.lock().expect("dynamics").cards.insert(name.to_string(), card.clone());
    let ready = condition == Condition::Healthy;
    let ready_cond = |t: &str, ok: bool, reason: &str| json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason});
    w.put(
        &brand.runtimes,
        json!({"apiVersion": brand.runtimes.api_version(), "kind": "AgentRuntime",
               "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(age_days * 86400 + 3000)},
               "spec": {"type": "agent", "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                        "authBridgeMode": "proxy-sidecar", "mtlsMode": mtls_mode(name)},
               "status": {"observedGeneration": 1, "configuredPods": if ready { replicas } else { 0 },
                          "conditions": [ready_cond("TargetResolved", true, "TargetFound"),
                                         ready_cond("Ready", condition != Condition::Failing, if condition == Condition::Failing { "ConfigApplyError" } else { "Configured" })]}}),
    );
    // Half the cards are indexed in the AgentCard status; the rest must be fetched.
    let indexed = fnv(name) % 2 == 0;
    let mut status = json!({"protocol": "a2a", "lastSyncTime": ago(60),
        "conditions": [ready_cond("Synced", ready, if ready { "SyncSucceeded" } else { "WorkloadNotReady" })],
        "validSignature": name.len() % 3 != 0, "bindingStatus": {"bound": own_sa, "reason": if own_sa { "Bound" } else { "NoDedicatedServiceAccount" }},
        "expectedSpiffeID": format!("spiffe://cluster.local/ns/{ns}/sa/{name}")});
    if indexed {
        status["card"] = card;
    }
    w.put(
        &brand.cards,
        json!({"apiVersion": brand.cards.api_version(), "kind": "AgentCard",
               "metadata": {"name": format!("{name}-deployment-card"), "namespace": ns, "creationTimestamp": ago(age_days * 86400 + 2900)},
               "spec": {"syncPeriod": "30s", "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}},
               "status": status}),
    );
}

pub(crate) fn mtls_mode(agent: &str) -> &'static str {
    match agent {
        a if a.contains("capacity") => "disabled",
        "weather-service" | "currency-converter" | "triage-agent" => "strict",
        _ => "permissive",
    }
}

pub(crate) fn tool(w: &mut Workloads<'_>, ns: &str, name: &str, state: &str, credential: bool) {
    tool_on_port(w, ns, name, state, credential, 8000, "streamable_http")
}

/// A tool whose container listens on `port` (its Service always targets 8000: a tool on another
/// port is the "server down" case, connection refused through the proxy).
pub(crate) fn tool_on_port(
    w: &mut Workloads<'_>,
    ns: &str,
    name: &str,
    state: &str,
    credential: bool,
    port: u16,
    transport: &str,
) {
    let labels = [
        ("kagenti.io/type", "tool"),
        ("protocol.kagenti.io/mcp", ""),
        ("kagenti.io/transport", transport),
        ("kagenti.io/framework", "fastmcp"),
    ];
    w.workload(
        &r::STATEFULSETS,
        ns,
        name,
        1,
        &labels,
        &[],
        vec![container(
            "mcp",
            &format!("ghcr.io/kagenti/agent-examples/{name}:0.3.0"),
            port,
            0,
            &[env("MCP_TRANSPORT", "streamable-http")],
        )],
        vec![],
        15 * 86400,
    );
    w.service(
        ns,
        &format!("{name}-mcp"),
        name,
        &[("http", 8000, 8000)],
        &[("kagenti.io/type", "tool"), ("protocol.kagenti.io/mcp", "")],
    );
    let mut spec = json!({"targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": format!("{name}-route")},
                          "prefix": format!("{}_", name.trim_end_matches("-tool")), "path": "/mcp", "state": state});
    if credential {
        spec["credentialRef"] = json!({"name": format!("{name}-credentials"), "key": "token"});
    }
    let (ok, reason) = match state {
        "Disabled" => (false, "Disabled"),
        _ => (true, "Ready"),
    };
    w.put(
        &r::MCP_SERVER_REGISTRATIONS,
        json!({"apiVersion": "mcp.kuadrant.io/v1", "kind": "MCPServerRegistration",
               "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(15 * 86400)},
               "spec": spec,
               "status": {"conditions": [{"type": "Ready", "status": if ok { "True" } else { "False" }, "reason": reason,
                                          "message": if ok { "server validated" } else { "registration disabled" }}]}}),
    );
}

pub(crate) fn build(w: &mut Workloads<'_>, ns: &str, name: &str, outcomes: &[Option<&str>]) {
    w.put(
        &r::BUILDS,
        json!({"apiVersion": "shipwright.io/v1beta1", "kind": "Build",
               "metadata": {"name": name, "namespace": ns, "labels": {"kagenti.io/type": "agent"}, "creationTimestamp": ago(20 * 86400)},
               "spec": {"source": {"type": "Git", "git": {"url": format!("https://github.com/kagenti/agent-examples"), "revision": "main"}, "contextDir": format!("a2a/{name}")},
                        "strategy": {"kind": "ClusterBuildStrategy", "name": "buildah"},
                        "output": {"image": format!("registry.cr-system.svc.cluster.local:5000/{name}:latest")},
                        "timeout": "15m", "retention": {"succeededLimit": 3, "failedLimit": 3}},
               "status": {"registered": "True", "reason": "Succeeded"}}),
    );
    for (i, outcome) in outcomes.iter().enumerate() {
        let age = (outcomes.len() - i) as i64 * 6 * 3600;
        let cond = match outcome {
            None => json!({"type": "Succeeded", "status": "Unknown", "reason": "Running"}),
            Some("ok") => json!({"type": "Succeeded", "status": "True", "reason": "Succeeded"}),
            Some(reason) => {
                json!({"type": "Succeeded", "status": "False", "reason": reason, "message": format!("build failed: {reason}")})
            }
        };
        let mut status = json!({"startTime": ago(age), "conditions": [cond]});
        if outcome.is_some() {
            status["completionTime"] = json!(ago(age - 180 - i as i64 * 20));
        }
        if let Some(reason) = outcome.filter(|o| *o != "ok") {
            status["failureDetails"] = json!({"reason": reason, "message": "remote repository unreachable or private"});
        }
        w.put(
            &r::BUILD_RUNS,
            json!({"apiVersion": "shipwright.io/v1beta1", "kind": "BuildRun",
                   "metadata": {"name": format!("{name}-run-{}", template_hash(&format!("{name}{i}"))[..5].to_string()), "namespace": ns,
                                "labels": {"kagenti.io/build-name": name, "kagenti.io/type": "agent"}, "creationTimestamp": ago(age)},
                   "spec": {"build": {"name": name}},
                   "status": status}),
        );
    }
}

/// Platform components, as Kagenti's platform-status check looks for them.
fn platform(w: &mut Workloads<'_>) {
    w.deployment(
        "kagenti-system",
        "kagenti-controller-manager",
        1,
        &[("control-plane", "controller-manager")],
        &[],
        container("manager", "ghcr.io/kagenti/kagenti-operator:v0.8.3", 8443, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "kagenti-system",
        "otel-collector",
        1,
        &[],
        &[],
        container("otel-collector", "otel/opentelemetry-collector-contrib:0.120.0", 8335, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "kagenti-system",
        "phoenix",
        1,
        &[],
        &[],
        container("phoenix", "arizephoenix/phoenix:8.0", 6006, 0, &[]),
        40 * 86400,
    );
    w.service("kagenti-system", "phoenix", "phoenix", &[("http", 6006, 6006)], &[]);
    w.deployment(
        "istio-system",
        "istiod",
        1,
        &[("app", "istiod")],
        &[],
        container("discovery", "docker.io/istio/pilot:1.27.1", 15010, 0, &[]),
        40 * 86400,
    );
    w.workload(
        &r::STATEFULSETS,
        "keycloak",
        "keycloak",
        1,
        &[("app", "keycloak")],
        &[],
        vec![container("keycloak", "quay.io/keycloak/keycloak:26.1", 8080, 0, &[])],
        vec![],
        40 * 86400,
    );
    w.deployment(
        "gateway-system",
        "mcp-gateway-istio",
        1,
        &[],
        &[],
        container("istio-proxy", "docker.io/istio/proxyv2:1.27.1", 8080, 0, &[]),
        40 * 86400,
    );
    w.deployment(
        "mcp-system",
        "mcp-broker-router",
        1,
        &[],
        &[],
        container("broker", "ghcr.io/kuadrant/mcp-gateway:v0.4.0", 8080, 0, &[]),
        40 * 86400,
    );
}

/// What AuthBridge sees: calls approved and denied, in and out.
fn bridge_calls(w: &mut Workloads<'_>) {
    use crate::endpoints::authbridge::Call;
    let call = |agent: &str, outbound: bool, peer: &str, approved: bool, rate: f64| Call {
        namespace: "team1".into(),
        agent: agent.into(),
        outbound,
        peer: peer.into(),
        approved,
        rate,
    };
    let mut d = w.cluster.dynamics.lock().expect("dynamics");
    d.bridge_calls = vec![
        call("weather-service", true, "weather-tool-mcp.team1.svc.cluster.local:8000", true, 2.0),
        call("weather-service", true, "currency-converter.team1.svc.cluster.local:8080", true, 0.5),
        call("currency-converter", false, "spiffe://cluster.local/ns/team1/sa/weather-service", true, 0.5),
        call("currency-converter", true, "api.exchangerate.host", true, 0.4),
        call("currency-converter", true, "github-tool-mcp.team1.svc.cluster.local:8000", false, 0.2),
        // claude-agent has no AuthBridge of its own: only the callee sees it (default account)
        call("weather-service", false, "spiffe://cluster.local/ns/team1/sa/default", true, 0.3),
    ];
}

/// RBAC: a broad Role (every verb on pods and services), narrow roles, one with secrets
/// access, and a legacy ClusterRoleBinding left behind; and an HPA on an agent (written between
/// them, as the fleet always was: the objects' resource versions stay what they were).
fn rbac(w: &mut Workloads<'_>) {
    // a broad Role: every verb on pods and services
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "currency-converter", "namespace": "team1"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["*"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "currency-converter", "namespace": "team1"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "currency-converter"},
        "subjects": [{"kind": "ServiceAccount", "name": "currency-converter", "namespace": "team1"}]}),
    );
    // An HPA on an agent: a toggle must warn that the autoscaler will fight it.
    w.put(
        &r::HPAS,
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "weather-service", "namespace": "team1"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "weather-service"},
                        "minReplicas": 1, "maxReplicas": 4,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
               "status": {"currentReplicas": 2, "desiredReplicas": 2}}),
    );
    // narrow roles, one with secrets access, and a legacy ClusterRoleBinding left behind
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "weather-service", "namespace": "team1"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "weather-service", "namespace": "team1"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "weather-service"},
        "subjects": [{"kind": "ServiceAccount", "name": "weather-service", "namespace": "team1"}]}),
    );
    w.put(
        &r::ROLES,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "research-agent", "namespace": "team2"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]}),
    );
    w.put(
        &r::ROLE_BINDINGS,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "research-agent", "namespace": "team2"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "research-agent"},
        "subjects": [{"kind": "ServiceAccount", "name": "research-agent", "namespace": "team2"}]}),
    );
    w.put(&r::CLUSTER_ROLES, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kagenti-component-github-tool", "labels": {"app.kubernetes.io/part-of": "kagenti-operator"}},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}));
    w.put(&r::CLUSTER_ROLE_BINDINGS, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "kagenti-component-github-tool", "labels": {"app.kubernetes.io/part-of": "kagenti-operator"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kagenti-component-github-tool"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team1"}]}));
}

pub(crate) fn agents(w: &mut Workloads<'_>, agents_per_cluster: usize) {
    let b = Brand::KAGENTI;
    platform(w);
    agent(w, b, "team1", "weather-service", "langgraph", &["a2a"], 2, Provider::OpenAi, CardShape::V1, 14);
    agent(w, b, "team1", "currency-converter", "langgraph", &["a2a"], 1, Provider::Gemini, CardShape::Legacy, 21);
    agent_full(
        w,
        b,
        "team1",
        "claude-agent",
        "claude-agent-sdk",
        &["a2a", "mcp"],
        1,
        Provider::Anthropic,
        CardShape::V1,
        5,
        Condition::Healthy,
        false,
        false,
    );
    agent_full(
        w,
        b,
        "team2",
        "research-agent",
        "crewai",
        &["a2a"],
        2,
        Provider::OpenAi,
        CardShape::V1,
        30,
        Condition::Paused,
        true,
        true,
    );
    agent_full(
        w,
        b,
        "team2",
        "flaky-summarizer",
        "autogen",
        &["a2a"],
        1,
        Provider::Ollama,
        CardShape::Legacy,
        3,
        Condition::Failing,
        true,
        true,
    );
    for i in 5..agents_per_cluster {
        let provider = [Provider::OpenAi, Provider::Ollama, Provider::Anthropic, Provider::Gemini][i % 4];
        let shape = if i % 2 == 0 { CardShape::V1 } else { CardShape::Legacy };
        agent(
            w,
            b,
            "team2",
            &format!("agent-{i:03}"),
            ["langgraph", "crewai", "autogen"][i % 3],
            &["a2a"],
            1,
            provider,
            shape,
            (i % 40) as i64,
        );
    }
    tool(w, "team1", "weather-tool", "Enabled", false);
    tool(w, "team1", "github-tool", "Enabled", true);
    tool(w, "team2", "slack-tool", "Disabled", true);
    tool_on_port(w, "team2", "jira-tool", "Enabled", true, 8080, "streamable_http");
    tool_on_port(w, "team1", "notes-tool", "Enabled", false, 8000, "sse");
    // a tool that borrows an agent's ServiceAccount (and with it, that agent's Secrets access)
    w.with_sa(&r::STATEFULSETS, "team2", "slack-tool", "research-agent");
    // a declared agent-to-agent call: weather-service asks currency-converter over A2A
    w.add_env(
        &r::DEPLOYMENTS,
        "team1",
        "weather-service",
        env("CURRENCY_AGENT_URL", "http://currency-converter.team1.svc.cluster.local:8080"),
    );
    bridge_calls(w);
    rbac(w);
    build(w, "team1", "weather-service", &[Some("ok"), Some("ok"), Some("ok")]);
    build(
        w,
        "team2",
        "flaky-summarizer",
        &[Some("ok"), Some("GitRemotePrivate"), Some("BuildRunTimeout"), Some("GitRemotePrivate")],
    );
    build(w, "team1", "claude-agent", &[Some("ok"), None]);
}
