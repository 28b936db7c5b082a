//! The agent fabric against the simulator: the MCP tool registry (paged, with and without
//! sessions, JSON and SSE answers, a server down, a disabled registration, a name conflict),
//! topology edges declared in env and observed by AuthBridge, the posture findings rule by
//! rule, and drift after the cluster widens a binding.

mod common;

use kst::sources::Collectors;
use kst::store::posture::FindingSeverity;
use kst::store::tools::{rows, ServerStatus};
use kst::store::topology::NodeKind;
use kst::store::Fleet;

fn central(f: &Fleet) -> (usize, &kst::store::ClusterState) {
    f.clusters.iter().enumerate().find(|(_, c)| c.context == "agents-us-central").unwrap()
}

async fn start() -> (kst_sim::SimFleet, Fleet, Collectors) {
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    let col = Collectors::start(&targets, common::fast_worker());
    (sim, fleet, col)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_registry_lists_every_server_over_mcp_through_the_proxy() {
    let (_sim, mut fleet, mut col) = start().await;
    common::pump_until(&mut fleet, &mut col.updates, "every tool server asked", |f| {
        let servers = central(f).1.kagenti.tool_servers();
        servers.len() == 5 && servers.iter().all(|s| !matches!(s.status(), ServerStatus::Pending))
    })
    .await;
    let k = &central(&fleet).1.kagenti;
    let server = |n: &str| k.tool_servers().iter().find(|s| s.name == n).unwrap();
    let names = |n: &str| server(n).tools().iter().map(|t| t.name.clone()).collect::<Vec<_>>();

    // stateless, JSON answers, two per page
    assert_eq!(server("weather-tool").status(), ServerStatus::Reachable);
    assert_eq!(names("weather-tool"), vec!["get_weather", "get_forecast", "geocode", "search"]);
    assert_eq!(server("weather-tool").listing.as_ref().unwrap().pages, 2);
    // sessions, SSE answers, three per page; a credential is referenced by name only
    assert_eq!(server("github-tool").status(), ServerStatus::Reachable);
    assert_eq!(names("github-tool").len(), 5);
    assert_eq!(server("github-tool").listing.as_ref().unwrap().pages, 2);
    assert_eq!(server("github-tool").prefix(), "github_");
    assert_eq!(
        server("github-tool").registration.as_ref().unwrap().credential.as_deref(),
        Some("github-tool-credentials")
    );
    // an older server on the legacy HTTP+SSE transport, through the proxy all the same
    assert_eq!(server("notes-tool").status(), ServerStatus::Reachable);
    assert_eq!(names("notes-tool"), vec!["add_note", "find_notes"]);
    // disabled at the gateway, still answering
    assert_eq!(server("slack-tool").status(), ServerStatus::Disabled);
    // down: the proxy cannot reach it, and says why
    let ServerStatus::Error(e) = server("jira-tool").status() else { panic!("{:?}", server("jira-tool").status()) };
    assert!(e.contains("connection refused"), "{e}");

    let all: Vec<(Option<usize>, &kst::store::tools::ToolServer)> =
        k.tool_servers().iter().map(|s| (Some(1), s)).collect();
    let rows = rows(&all);
    let search: Vec<_> = rows.iter().filter(|r| r.tool.name == "search").collect();
    assert_eq!(search.len(), 2, "search is on two servers");
    assert!(search.iter().all(|r| r.conflicts.len() == 1), "and each is flagged as conflicting");
    assert!(rows.iter().any(|r| r.exposed == "github_create_issue"), "names carry the gateway prefix");
    assert!(rows.iter().filter(|r| r.tool.name != "search").all(|r| r.conflicts.is_empty()));

    // a cluster without tools has an empty registry, not a pending one
    common::pump_until(&mut fleet, &mut col.updates, "the rossoctl cluster's registry", |f| {
        f.clusters.iter().find(|c| c.context == "gpu-us-east").unwrap().kagenti.tools.is_some()
    })
    .await;
    col.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topology_edges_are_declared_or_observed_never_assumed() {
    let (_sim, mut fleet, mut col) = start().await;
    let observed = |f: &Fleet, from: &str, to: &str| -> Option<u64> {
        let (_, c) = central(f);
        c.kagenti.edges().iter().find(|e| e.from.name == from && e.to.name == to).and_then(|e| e.approvals)
    };
    let denied = |f: &Fleet| {
        let (_, c) = central(f);
        c.kagenti
            .edges()
            .iter()
            .any(|e| e.from.name == "currency-converter" && e.to.name == "github-tool" && e.denials.is_some())
    };
    common::pump_until(&mut fleet, &mut col.updates, "observed calls, approved and denied", |f| {
        observed(f, "weather-service", "weather-tool").unwrap_or(0) > 0
            && observed(f, "claude-agent", "weather-service").is_some()
            && denied(f)
            && central(f).1.kagenti.tools.as_ref().is_some_and(|t| !t.is_empty())
    })
    .await;
    let first = observed(&fleet, "weather-service", "weather-tool").unwrap();
    let (_, c) = central(&fleet);
    let edges = c.kagenti.edges();
    let edge = |from: &str, to: &str| edges.iter().find(|e| e.from.name == from && e.to.name == to);

    let wt = edge("weather-service", "weather-tool").unwrap();
    assert_eq!(wt.declared.as_deref(), Some("MCP_URL"), "declared in env and observed");
    assert_eq!(wt.to.kind, NodeKind::Tool);
    let a2a = edge("weather-service", "currency-converter").unwrap();
    assert_eq!(a2a.declared.as_deref(), Some("CURRENCY_AGENT_URL"));
    assert_eq!(a2a.to.kind, NodeKind::Agent);
    let denied = edge("currency-converter", "github-tool").unwrap();
    assert!(denied.denials.unwrap_or(0) > 0 && denied.declared.is_none() && denied.approvals.is_none(), "{denied:?}");
    assert!(edge("currency-converter", "api.exchangerate.host").is_some_and(|e| e.to.kind == NodeKind::External));
    // claude-agent has no AuthBridge: its calls are seen by the callee, under its (default) account
    assert!(edge("claude-agent", "weather-service").is_some_and(|e| e.declared.is_none() && e.observed()));
    // no evidence, no edge: the flaky summarizer declares only the weather tool
    assert!(edges.iter().filter(|e| e.from.name == "flaky-summarizer").all(|e| e.to.name == "weather-tool"));
    assert!(edge("research-agent", "weather-tool").is_some_and(|e| !e.observed()), "paused: declared only");

    // the counts grow with the simulated traffic
    common::pump_until(&mut fleet, &mut col.updates, "more calls", |f| {
        observed(f, "weather-service", "weather-tool").unwrap_or(0) > first
    })
    .await;
    col.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posture_findings_rule_by_rule_and_drift_after_a_binding_widens() {
    let (sim, mut fleet, mut col) = start().await;
    common::pump_until(&mut fleet, &mut col.updates, "rbac, agents, tools and a baseline", |f| {
        let k = &central(f).1.kagenti;
        k.rbac.is_some()
            && k.baseline.is_some()
            && k.tools.as_ref().is_some_and(|t| t.len() == 5)
            && k.agents.len() >= 11
    })
    .await;
    let k = &central(&fleet).1.kagenti;
    let findings = k.findings();
    let has = |rule: &str, subject: &str| findings.iter().any(|f| f.rule == rule && f.subject == subject);
    assert!(has("sa.default", "team1/claude-agent"));
    assert!(has("rbac.cluster-admin", "team1/claude-agent"), "the legacy binding gives team1/default */*/*");
    assert!(has("rbac.legacy-binding", "team1/claude-agent"));
    assert!(has("rbac.cluster-binding", "team1/claude-agent"));
    assert!(has("rbac.secrets", "team2/research-agent"));
    assert!(has("sa.shared", "team2/slack-tool"), "the tool borrows research-agent's account");
    assert!(has("rbac.secrets", "team2/slack-tool"), "and with it the Secrets access");
    assert!(has("rbac.wildcard", "team1/currency-converter"));
    assert!(
        !has("rbac.wildcard", "team1/weather-service") && !has("rbac.secrets", "team1/weather-service"),
        "narrow role"
    );
    assert!(has("identity.unbound", "team1/claude-agent"));
    assert!(findings.iter().any(|f| f.rule == "identity.signature"));
    assert!(has("authbridge.opted-out", "team1/claude-agent"));
    assert!(has("mtls.permissive", "team2/research-agent"));
    assert!(!findings.iter().any(|f| f.rule.starts_with("mtls") && f.subject == "team1/weather-service"), "strict");
    assert!(has("tool.credential", "team1/github-tool"));
    assert_eq!(findings.iter().find(|f| f.rule == "rbac.cluster-admin").unwrap().severity, FindingSeverity::Critical);
    let east = &fleet.clusters.iter().find(|c| c.context == "gpu-us-east").unwrap().kagenti;
    assert!(east.findings().iter().any(|f| f.rule == "mtls.disabled" && f.subject == "team-a/capacity-planner"));
    assert_eq!(k.drift().unwrap(), vec![], "nothing changed since the baseline was taken");
    let path = k.baseline_path.clone().unwrap();
    assert!(path.exists(), "the baseline is kept on disk");

    // the cluster widens weather-service's role and binds a new ClusterRole to it
    let c = sim.cluster("agents-us-central").unwrap();
    {
        use kst_sim::resources as r;
        let mut store = c.store.write().unwrap();
        let roles = c.registry.index_of(&r::ROLES).unwrap();
        store
            .modify(roles, "team1", "weather-service", |o| {
                o["rules"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}))
            })
            .unwrap();
        store.put(
            c.registry.index_of(&r::CLUSTER_ROLE_BINDINGS).unwrap(),
            serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "weather-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "weather-service", "namespace": "team1"}]}),
        );
    }
    common::pump_until(&mut fleet, &mut col.updates, "drift", |f| {
        central(f).1.kagenti.drift().is_some_and(|d| d.len() >= 2)
    })
    .await;
    let drift = central(&fleet).1.kagenti.drift().unwrap();
    assert!(
        drift.iter().any(|d| d.change == "widened binding" && d.key.contains("team1/weather-service")),
        "{drift:?}"
    );
    assert!(drift.iter().any(|d| d.change == "new binding" && d.key.contains("weather-view")), "{drift:?}");
    col.stop();

    // the next start reads the same baseline back: the drift is still there
    let saved = kst::store::posture::Baseline::load(&path).unwrap();
    assert!(!saved.facts.keys().any(|k| k.contains("weather-view")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_server_whose_pod_is_replaced_is_asked_again_at_once() {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let mut fleet = Fleet::new(&targets.iter().map(|t| (t.context.clone(), t.server.clone())).collect::<Vec<_>>());
    // tools are re-listed every 12 refreshes: 120 s here, longer than the wait below
    let mut opts = common::fast_worker();
    opts.refresh = std::time::Duration::from_secs(10);
    let mut col = Collectors::start(&targets, opts);
    let jira =
        |f: &Fleet| central(f).1.kagenti.tool_servers().iter().find(|s| s.name == "jira-tool").map(|s| s.status());
    common::pump_until(&mut fleet, &mut col.updates, "jira-tool down", |f| {
        matches!(jira(f), Some(ServerStatus::Error(_)))
    })
    .await;

    // the fix: the container listens on the Service's port, and the pod is replaced
    let t = targets.iter().find(|t| t.context == "agents-us-central").unwrap();
    let client = kst::sources::connect::client_for(t).await.unwrap();
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), "team2");
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "mcp", "ports": [{"containerPort": 8000, "name": "http", "protocol": "TCP"}]}]}}}});
    sts.patch("jira-tool", &PatchParams::default(), &Patch::Strategic(&patch)).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "team2");
    let old = pods.list(&ListParams::default().labels("app.kubernetes.io/name=jira-tool")).await.unwrap();
    for p in old {
        pods.delete(&p.metadata.name.unwrap(), &DeleteParams::default()).await.unwrap();
    }
    common::pump_until(&mut fleet, &mut col.updates, "jira-tool listed after its pod was replaced", |f| {
        jira(f) == Some(ServerStatus::Reachable)
    })
    .await;
    col.stop();
}
