//! kst's MCP client (rmcp over kube's HTTP leg) against a real MCP server that nobody here
//! wrote (the official Python SDK's FastMCP), directly and through the simulator's service
//! proxy, and against the simulator's own tool servers.

mod common;

use std::time::Duration;

use kst::sources::mcp;

const PEER_MODULES: &str = "mcp.server.fastmcp, uvicorn";
const TEST: &str = "mcp_tools";

fn names(l: &kst::store::tools::ServerListing) -> Vec<String> {
    let mut n: Vec<String> = l.tools.iter().map(|t| t.name.clone()).collect();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_the_tools_of_the_official_python_sdk_server_with_and_without_sessions() {
    for mode in [&[][..], &["stateless"][..]] {
        let Some((_peer, port)) =
            common::python_peer(TEST, "mcp_server.py", PEER_MODULES, common::peers::MCP_PACKAGES, mode).await
        else {
            return;
        };
        let (client, path) = mcp::direct(&format!("http://127.0.0.1:{port}/mcp")).unwrap();
        let l =
            mcp::list_tools(client, &path, Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(names(&l), vec!["add", "echo", "get_weather"], "{mode:?}");
        assert!(l.server.as_deref().unwrap_or("").starts_with("kst-peer"), "{:?}", l.server);
        assert!(l.protocol.is_some());
        let echo = l.tools.iter().find(|t| t.name == "echo").unwrap();
        assert_eq!(echo.description, "Echoes a message back");
        assert_eq!(echo.params(), vec!["message*", "shout"], "required parameters are marked");
        assert_eq!(echo.annotations.as_ref().unwrap()["readOnlyHint"], true);
        assert_eq!(echo.title.as_deref(), Some("Echo"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_lists_a_real_server_through_the_api_servers_service_proxy() {
    let Some((_peer, port)) =
        common::python_peer(TEST, "mcp_server.py", PEER_MODULES, common::peers::MCP_PACKAGES, &[]).await
    else {
        return;
    };
    let sim = common::sim(3).await;
    let c = sim.cluster("agents-us-central").unwrap();
    {
        use kst_sim::resources as r;
        let mut store = c.store.write().unwrap();
        store.put(c.registry.index_of(&r::SERVICES).unwrap(), serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "peer-tool-mcp", "namespace": "team1", "labels": {"kagenti.io/type": "tool"},
                         "annotations": {kst_sim::endpoints::FORWARD_TO: format!("http://127.0.0.1:{port}")}},
            "spec": {"ports": [{"name": "http", "port": 8000, "targetPort": 8000}], "selector": {"app.kubernetes.io/name": "peer-tool"}}}));
    }
    let t = common::targets(&sim).into_iter().find(|t| t.context == "agents-us-central").unwrap();
    let client = kst::sources::connect::client_for(&t).await.unwrap();
    let path = mcp::proxy_path("team1", "peer-tool-mcp", 8000, "/mcp");
    let l = mcp::list_tools(client, &path, Duration::from_secs(20)).await.unwrap();
    assert_eq!(names(&l), vec!["add", "echo", "get_weather"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_an_error_with_the_reason_not_a_hang() {
    let port = common::free_port();
    let (client, path) = mcp::direct(&format!("http://127.0.0.1:{port}/mcp")).unwrap();
    let e = mcp::list_tools(client, &path, Duration::from_secs(20)).await.unwrap_err();
    assert!(!e.is_empty());
    assert!(mcp::direct("not a url").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_from_the_config_is_listed_beside_the_clusters_and_in_the_snapshot() {
    let Some((_peer, port)) =
        common::python_peer(TEST, "mcp_server.py", PEER_MODULES, common::peers::MCP_PACKAGES, &["stateless"]).await
    else {
        return;
    };
    let sim = common::sim(1).await;
    let targets = common::targets(&sim);
    let Some((_old, sse_port)) =
        common::python_peer(TEST, "mcp_server.py", PEER_MODULES, common::peers::MCP_PACKAGES, &["sse"]).await
    else {
        return;
    };
    let ep = |name: &str, url: String, transport: Option<&str>| kst::sources::fabric::ExternalEndpoint {
        name: name.into(),
        url,
        transport: transport.map(str::to_string),
    };
    let external = vec![
        ep("docs", format!("http://127.0.0.1:{port}/mcp"), None),
        ep("gone", format!("http://127.0.0.1:{}/mcp", common::free_port()), None),
        ep("legacy", format!("http://127.0.0.1:{sse_port}/sse"), Some("sse")),
    ];
    let fleet = kst::snapshot::collect(
        &targets,
        common::fast_worker(),
        external,
        Duration::from_secs(60),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(fleet.external_tools.len(), 3);
    let v = serde_json::to_value(kst::snapshot::Snapshot::of(&fleet)).unwrap();
    let ext = v["external_tools"].as_array().unwrap();
    assert_eq!(ext[0]["name"], "docs");
    assert_eq!(ext[0]["status"], "reachable");
    let names: Vec<&str> = ext[0]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["add", "echo", "get_weather"]);
    assert!(ext[1]["status"].as_str().unwrap().starts_with("error"), "{}", ext[1]);
    assert_eq!(ext[2]["status"], "reachable", "the legacy HTTP+SSE endpoint: {}", ext[2]);
    assert_eq!(ext[2]["tools"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_a_legacy_http_sse_server_of_the_official_sdk() {
    let Some((_peer, port)) =
        common::python_peer(TEST, "mcp_server.py", PEER_MODULES, common::peers::MCP_PACKAGES, &["sse"]).await
    else {
        return;
    };
    let (client, _) = mcp::direct(&format!("http://127.0.0.1:{port}/sse")).unwrap();
    let l = mcp::list_tools_sse(client, "/sse", Duration::from_secs(20)).await.unwrap();
    assert_eq!(names(&l), vec!["add", "echo", "get_weather"]);
    assert!(l.server.as_deref().unwrap_or("").starts_with("kst-peer"));
}
