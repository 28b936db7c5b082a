//! kube-rs against the simulator (list, watcher through a 410, scale, access reviews), and
//! every fault switch of the simulator, each checked from the client side.

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::Client;
use serde_json::json;

async fn client(sim: &kst_sim::SimFleet, context: &str) -> Client {
    let targets = common::targets(sim);
    let t = targets.iter().find(|t| t.context == context).expect("context");
    kst::sources::connect::client_for(t).await.expect("client")
}

async fn viewer_client(sim: &kst_sim::SimFleet, context: &str) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(true)).unwrap();
    let targets = kst::sources::connect::select_targets(kc, &[format!("{context}-viewer")]).unwrap();
    kst::sources::connect::client_for(&targets[0]).await.unwrap()
}

fn api_status(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_select_paginate_and_get() {
    let sim = common::sim(3).await;
    let c = client(&sim, "gpu-us-east").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "llm-d");
    let decode = pods.list(&ListParams::default().labels("llm-d.ai/role=decode")).await.unwrap();
    assert_eq!(decode.items.len(), 4, "two 8B and two 70B decode pods");
    assert!(decode
        .items
        .iter()
        .all(|p| p.spec.as_ref().unwrap().init_containers.as_ref().unwrap()[0].name == "routing-proxy"));
    assert!(decode.metadata.resource_version.is_some());

    let all: Api<Pod> = Api::all(c.clone());
    let mut page = all.list(&ListParams::default().limit(7)).await.unwrap();
    let mut names: Vec<String> = page.items.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
    while let Some(tok) = page.metadata.continue_.clone().filter(|t| !t.is_empty()) {
        page = all.list(&ListParams::default().limit(7).continue_token(&tok)).await.unwrap();
        names.extend(page.items.iter().map(|p| p.metadata.name.clone().unwrap()));
    }
    let total = all.list(&ListParams::default()).await.unwrap().items.len();
    assert_eq!(names.len(), total);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total, "no pod twice across pages");

    let nodes: Api<Node> = Api::all(c.clone());
    let gpu = nodes.list(&ListParams::default().labels("nvidia.com/gpu.present=true")).await.unwrap();
    assert_eq!(gpu.items.len(), 4);
    let on_node = all
        .list(&ListParams::default().fields(&format!("spec.nodeName={}", gpu.items[0].metadata.name.clone().unwrap())))
        .await
        .unwrap();
    assert!(!on_node.items.is_empty());

    // EndpointSlices name the service's pods, as the endpoint controller writes them
    let slices: Api<k8s_openapi::api::discovery::v1::EndpointSlice> = Api::namespaced(c.clone(), "llm-d");
    let epp =
        slices.list(&ListParams::default().labels("kubernetes.io/service-name=pd-disaggregation-epp")).await.unwrap();
    assert_eq!(epp.items.len(), 1);
    let ep = &epp.items[0].endpoints.as_ref().unwrap()[0];
    assert_eq!(ep.conditions.as_ref().unwrap().ready, Some(true));
    assert!(ep.target_ref.as_ref().unwrap().name.as_ref().unwrap().starts_with("pd-disaggregation-epp-"));

    let err = pods.get("nope").await.unwrap_err();
    assert_eq!(api_status(&err), 404);
    let err = pods.list(&ListParams::default().labels("bad key=1")).await.unwrap_err();
    assert_eq!(api_status(&err), 400);
    let dup = pods.create(&PostParams::default(), &decode.items[0]).await.unwrap_err();
    assert_eq!(api_status(&dup), 409);
}

type PodEvents = futures::stream::BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>>;

/// The watch's next item, before the test's deadline.
async fn next_within(stream: &mut PodEvents, deadline: Instant) -> Result<Event<DynamicObject>, watcher::Error> {
    tokio::time::timeout(deadline - Instant::now(), stream.next())
        .await
        .expect("watch event in time")
        .expect("stream open")
}

/// kube-runtime's watcher and kst's own (`sources::listwatch`, the one kst's collectors use)
/// through the same 410 storm: the simulator answers as kube-runtime expects, and kst's watcher
/// follows the same rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_recovers_through_410_gone() {
    let pods = |c: Client| Api::<DynamicObject>::namespaced_with(c, "llm-d", &ApiResource::erase::<Pod>(&()));
    let sim = common::sim(3).await;
    let c = client(&sim, "gpu-us-east").await;
    let kube_s: PodEvents = watcher::watcher(pods(c.clone()), watcher::Config::default()).boxed();
    recovers_through_410(&sim, kube_s, "kube-runtime").await;
    let kst_s = kst::sources::listwatch::watcher(pods(c), watcher::Config::default());
    recovers_through_410(&sim, kst_s, "kst").await;
}

async fn recovers_through_410(sim: &kst_sim::SimFleet, mut stream: PodEvents, who: &str) {
    let cluster = sim.cluster("gpu-us-east").unwrap().clone();
    let born = format!("born-during-the-gap-{who}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut inits = 0;
    loop {
        if let Ok(Event::InitDone) = next_within(&mut stream, deadline).await {
            inits += 1;
            break;
        }
    }
    // Every resume now answers 410; the open watch is dropped, so the watcher must resume.
    cluster.faults.set_gone_storm(true);
    cluster.faults.drop_watches();
    // A pod added meanwhile must show up after the relist.
    let pods = cluster.registry.index_of(&kst_sim::resources::PODS).unwrap();
    cluster.store.write().unwrap().put(
        pods,
        json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": born, "namespace": "llm-d"}, "spec": {"containers": []}, "status": {"phase": "Pending"}}),
    );
    let mut saw_error = false;
    let mut saw_new = false;
    // the relist stops the storm from mattering: a fresh list+watch needs no old version
    loop {
        match next_within(&mut stream, deadline).await {
            Err(e) => {
                saw_error = true;
                assert!(format!("{e:?}").contains("410") || format!("{e:?}").contains("Expired"), "{who}: {e:?}");
                cluster.faults.set_gone_storm(false);
            }
            Ok(Event::Init) => inits += 1,
            Ok(Event::InitApply(p)) | Ok(Event::Apply(p)) if p.metadata.name.as_deref() == Some(born.as_str()) => {
                saw_new = true
            }
            Ok(Event::InitDone) if saw_new => break,
            Ok(_) => {}
        }
    }
    assert!(saw_error, "{who}: the 410 reached the client");
    assert!(inits >= 2, "{who}: the watcher relisted after 410");
    // and the watch after the relist carries what changes: the pod deleted is a Delete
    cluster.store.write().unwrap().delete(pods, "llm-d", &born).expect("the pod is there");
    loop {
        if let Ok(Event::Delete(p)) = next_within(&mut stream, deadline).await {
            assert_eq!(p.metadata.name.as_deref(), Some(born.as_str()), "{who}");
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_subresource_and_access_reviews() {
    let sim = common::sim(3).await;
    let c = client(&sim, "agents-us-central").await;
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "team1");
    let scale = deploys.get_scale("weather-service").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    deploys
        .patch_scale("weather-service", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 0}})))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "team1");
    let left = pods.list(&ListParams::default().labels("app.kubernetes.io/name=weather-service")).await.unwrap();
    assert!(left.items.is_empty(), "scaled to zero: no pods");
    let d = deploys.get("weather-service").await.unwrap();
    assert_eq!(d.spec.replicas, Some(0));
    assert_eq!(d.status.unwrap().ready_replicas.unwrap_or(0), 0);
    deploys
        .patch_scale("weather-service", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 2}})))
        .await
        .unwrap();
    common::eventually("two pods again", || {
        let cl = sim.cluster("agents-us-central").unwrap();
        let p = cl.registry.index_of(&kst_sim::resources::PODS).unwrap();
        cl.store
            .read()
            .unwrap()
            .list(p, Some("team1"))
            .iter()
            .filter(|p| p.name.starts_with("weather-service-") && p.phase == "Running")
            .count()
            == 2
    })
    .await;
    let bad = deploys
        .patch_scale("weather-service", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": -1}})))
        .await;
    assert_eq!(api_status(&bad.unwrap_err()), 422);

    let review = |verb: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some("apps".into()),
                resource: Some("deployments".into()),
                subresource: Some("scale".into()),
                namespace: Some("team1".into()),
                name: Some("weather-service".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let admin: Api<SelfSubjectAccessReview> = Api::all(c.clone());
    let r = admin.create(&PostParams::default(), &review("patch")).await.unwrap();
    assert!(r.status.unwrap().allowed);
    let viewer: Api<SelfSubjectAccessReview> = Api::all(viewer_client(&sim, "agents-us-central").await);
    assert!(!viewer.create(&PostParams::default(), &review("patch")).await.unwrap().status.unwrap().allowed);
    assert!(viewer.create(&PostParams::default(), &review("get")).await.unwrap().status.unwrap().allowed);
    let viewer_deploys: Api<Deployment> = Api::namespaced(viewer_client(&sim, "agents-us-central").await, "team1");
    let denied = viewer_deploys
        .patch_scale("weather-service", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 0}})))
        .await
        .unwrap_err();
    assert_eq!(api_status(&denied), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_switch_is_felt_by_a_client() {
    let sim = common::sim(3).await;
    let east = sim.cluster("gpu-us-east").unwrap().clone();
    let c = client(&sim, "gpu-us-east").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "llm-d");
    assert!(pods.list(&ListParams::default()).await.is_ok());

    // slow: added latency on every request
    east.faults.set_latency_ms(400);
    let t = Instant::now();
    c.apiserver_version().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(400));
    east.faults.set_latency_ms(0);

    // forbidden: one resource answers 403, the rest still work
    east.faults.set_forbidden("pods", true);
    assert_eq!(api_status(&pods.list(&ListParams::default()).await.unwrap_err()), 403);
    let nodes: Api<Node> = Api::all(c.clone());
    assert!(nodes.list(&ListParams::default()).await.is_ok());
    east.faults.set_forbidden("pods", false);

    // expired token: 401 from now on
    east.faults.set_token_expired(true);
    assert_eq!(api_status(&nodes.list(&ListParams::default()).await.unwrap_err()), 401);
    east.faults.set_token_expired(false);

    // garbage metrics: the proxy serves text that is not the Prometheus format
    let decode = pods.list(&ListParams::default().labels("llm-d.ai/role=decode")).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let path = format!("/api/v1/namespaces/llm-d/pods/{decode}:8200/proxy/metrics");
    let good = c.request_text(http::Request::get(&path).body(vec![]).unwrap()).await.unwrap();
    assert!(good.contains("# TYPE vllm:num_requests_running gauge"));
    east.faults.set_garbage_metrics(true);
    let bad = c.request_text(http::Request::get(&path).body(vec![]).unwrap()).await.unwrap();
    assert!(!bad.contains("# TYPE") && bad.contains("{{{"), "{bad}");
    east.faults.set_garbage_metrics(false);

    // malformed objects: a pool whose selector is not a map is served as is
    east.inject_malformed();
    let raw = c
        .request_text(
            http::Request::get("/apis/inference.networking.k8s.io/v1/namespaces/llm-d/inferencepools/broken-pool")
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["spec"]["selector"], "not-a-map");
    let odd_node = nodes.get("gpu-us-east-odd-node").await;
    assert!(odd_node.is_err(), "the typed client rejects the odd node: kst must decode leniently");

    // unreachable: connection refused, then back
    east.faults.set_unreachable(true);
    let t = Instant::now();
    let err = c.apiserver_version().await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "a transport error, not an API answer: {err:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "refused at once, not a timeout");
    east.faults.set_unreachable(false);
    common::eventually("the API server answers again", || {
        std::net::TcpStream::connect(east.addr.get().unwrap()).is_ok()
    })
    .await;
    let c2 = client(&sim, "gpu-us-east").await;
    assert!(c2.apiserver_version().await.is_ok());

    // a fault on one cluster leaves the others alone
    east.faults.set_unreachable(true);
    let west = client(&sim, "gpu-eu-west").await;
    assert!(west.apiserver_version().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoint_switches_faults_from_outside() {
    let mut sim = common::sim(3).await;
    let admin = sim.start_admin(0).await.unwrap();
    let body = r#"{"token_expired": true, "forbidden": ["nodes"]}"#;
    let resp = http_post(admin, "/clusters/gpu-eu-west/faults", body).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"token_expired\":true"));
    let west = sim.cluster("gpu-eu-west").unwrap();
    assert!(west.faults.token_expired() && west.faults.is_forbidden("nodes"));
    let resp = http_post(admin, "/clusters/nope/faults", "{}").await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    let resp = http_post(admin, "/clusters/gpu-eu-west/faults", "{not json").await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
}

async fn http_post(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req =
        format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// kube-rs' port-forward (the plain WebSocket protocol the kubelet serves) reaches what the
/// pod serves on that port: a vLLM pod's metrics over a forwarded HTTP/1.1 request; a port the
/// pod does not declare is refused, as the pod proxy refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_reaches_what_the_pod_serves() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = common::sim(3).await;
    let targets = common::targets(&sim);
    let t = targets.iter().find(|t| t.context == "gpu-us-east").unwrap();
    // an upgrade needs HTTP/1.1: kube's own client, as kst's port-forward uses
    let opts = kube::config::KubeConfigOptions { context: Some(t.context.clone()), ..Default::default() };
    let cfg = kube::Config::from_custom_kubeconfig((*t.kubeconfig).clone(), &opts).await.unwrap();
    let client = Client::try_from(cfg).unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "llm-d");
    let list = pods.list(&ListParams::default().labels("llm-d.ai/role=decode")).await.unwrap();
    let name = list.items[0].metadata.name.clone().unwrap();

    let mut pf = pods.portforward(&name, &[8200]).await.expect("the upgrade");
    let mut stream = pf.take_stream(8200).expect("a stream for the port");
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut body)).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("HTTP/1.1 200") && text.contains("vllm:num_requests_running"), "{text}");
    drop(stream);
    let _ = pf.join().await;
}

/// kst's port-forward (`F`), through its actions task: the API server is asked first (a
/// viewer may not forward: `create pods/portforward`), then 127.0.0.1 listens on the pod's
/// port number (or another when taken) and each connection reaches what the pod serves; a
/// stop closes the port; the audit file has the start and the stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_forwards_a_local_port_to_a_pod_after_asking() {
    use kst::actions::{ActionRequest, ForwardRequest, ForwardTarget};
    use kst::store::views::ForwardState;
    use kst::store::Update;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = common::sim(3).await;
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig(true)).unwrap();
    let targets =
        kst::sources::connect::select_targets(kc, &["gpu-us-east".into(), "gpu-us-east-viewer".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let actions = kst::actions::start(targets.clone(), tx, audit.clone());
    let pods: Api<Pod> = Api::namespaced(client(&sim, "gpu-us-east").await, "llm-d");
    let list = pods.list(&ListParams::default().labels("llm-d.ai/role=decode")).await.unwrap();
    let pod = list.items[0].metadata.name.clone().unwrap();
    let target = |cluster| ForwardTarget {
        cluster,
        namespace: "llm-d".into(),
        pod: pod.clone(),
        ports: vec![8200, 8000],
        port: 8200,
    };
    async fn next(rx: &mut tokio::sync::mpsc::Receiver<Update>) -> Update {
        tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("an answer").expect("the task runs")
    }
    let viewer = targets.iter().position(|t| t.context.ends_with("-viewer")).unwrap();
    let admin = 1 - viewer;
    actions.send(ActionRequest::Forward(ForwardRequest::Check { id: 1, target: target(viewer) })).unwrap();
    let Update::ForwardChecked { allowed, reason, .. } = next(&mut rx).await else { panic!("the check's answer") };
    assert!(!allowed && reason.contains("create pods/portforward"), "a viewer: {reason}");
    actions.send(ActionRequest::Forward(ForwardRequest::Check { id: 2, target: target(admin) })).unwrap();
    let Update::ForwardChecked { allowed: true, .. } = next(&mut rx).await else { panic!("the admin may") };

    // the pod's port number is taken here: another is picked
    let taken = std::net::TcpListener::bind(("127.0.0.1", 8200)).ok();
    actions.send(ActionRequest::Forward(ForwardRequest::Start { id: 2, target: target(admin) })).unwrap();
    let Update::Forwarding { state: ForwardState::Listening { local, .. }, .. } = next(&mut rx).await else {
        panic!("listening")
    };
    assert!(local.ip().is_loopback());
    if taken.is_some() {
        assert_ne!(local.port(), 8200, "a taken port is not reused");
    }
    for _ in 0..2 {
        let mut conn = tokio::net::TcpStream::connect(local).await.unwrap();
        conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut body = String::new();
        tokio::time::timeout(Duration::from_secs(30), conn.read_to_string(&mut body)).await.unwrap().unwrap();
        assert!(body.contains("vllm:num_requests_running"), "{body}");
    }
    let counted = loop {
        match next(&mut rx).await {
            Update::Forwarding { state: ForwardState::Listening { connections: 2, error, .. }, .. } => break error,
            _ => continue,
        }
    };
    assert_eq!(counted, None, "a stream that ended cleanly is no error");
    actions.send(ActionRequest::Forward(ForwardRequest::Stop { id: 2 })).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(local).await.is_ok() {
        assert!(Instant::now() < deadline, "the port closes when the forward stops");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lines = std::fs::read_to_string(&audit).unwrap();
    for want in ["denied: create pods/portforward", "\"result\":\"started\"", "\"result\":\"stopped\""] {
        assert!(lines.contains(want), "{want}: {lines}");
    }
}

/// A connection dropped under an open watch (the API server unreachable for a while): kst's
/// watcher reports it and watches again once the server answers, and a pod created after that
/// arrives. (A dropped TLS connection ends the watch's body quietly, an unexpected EOF: rule 9
/// of docs/upstream/kubernetes-list-watch.md. A reset one fails it: the next test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_s_watcher_watches_again_after_the_connection_drops() {
    let sim = common::sim(3).await;
    let cluster = sim.cluster("gpu-us-east").unwrap().clone();
    let c = client(&sim, "gpu-us-east").await;
    let api = Api::<DynamicObject>::namespaced_with(c, "llm-d", &ApiResource::erase::<Pod>(&()));
    let mut stream = kst::sources::listwatch::watcher(api, watcher::Config::default());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(next_within(&mut stream, deadline).await, Ok(Event::InitDone)) {}
    cluster.faults.set_unreachable(true);
    // the dropped connection reaches the watcher as an error
    loop {
        if next_within(&mut stream, deadline).await.is_err() {
            break;
        }
    }
    cluster.faults.set_unreachable(false);
    let pods = cluster.registry.index_of(&kst_sim::resources::PODS).unwrap();
    cluster.store.write().unwrap().put(pods, json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "after-the-drop", "namespace": "llm-d"}, "spec": {"containers": []}, "status": {"phase": "Pending"}}));
    loop {
        match next_within(&mut stream, deadline).await {
            Ok(Event::Apply(p)) | Ok(Event::InitApply(p)) if p.metadata.name.as_deref() == Some("after-the-drop") => {
                break
            }
            // connection refused while the port reopens: paced.rs backs off here; so does the test
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(_) => {}
        }
    }
}

/// A connection reset under an open watch (a TCP RST, as a load balancer or a firewall that
/// forgets its connections sends): the watch's body fails, and over HTTP/2 a failed stream
/// repeats its error on every read (h2's `ensure_recv_open`). kube-runtime's watcher yields the
/// error once and watches again (kube-client's line reader ends at its first error), and so does
/// kst's (rule 11 of docs/upstream/kubernetes-list-watch.md): a pod created after the reset
/// arrives. Reading the failed body again instead, as kst's first watcher did, yields the same
/// error for ever and never watches again (the soak's missing watches).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kst_s_watcher_watches_again_after_its_connection_is_reset() {
    let sim = common::sim(3).await;
    let cluster = sim.cluster("gpu-us-east").unwrap().clone();
    let c = client(&sim, "gpu-us-east").await;
    let api = || Api::<DynamicObject>::namespaced_with(c.clone(), "llm-d", &ApiResource::erase::<Pod>(&()));
    let kube_s: PodEvents = watcher::watcher(api(), watcher::Config::default()).boxed();
    let kst_s: PodEvents = kst::sources::listwatch::watcher(api(), watcher::Config::default());
    for (who, stream) in [("kube-runtime", kube_s), ("kst", kst_s)] {
        watches_again_after_a_reset(&cluster, who, stream).await;
    }
}

async fn watches_again_after_a_reset(cluster: &kst_sim::SimCluster, who: &str, mut stream: PodEvents) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(next_within(&mut stream, deadline).await, Ok(Event::InitDone)) {}
    // the watch is open once it brings a pod created after the list
    let pods = cluster.registry.index_of(&kst_sim::resources::PODS).unwrap();
    let pod = |name: String| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "llm-d"},
            "spec": {"containers": []}, "status": {"phase": "Pending"}})
    };
    let (before, after) = (format!("{who}-before-the-reset"), format!("{who}-after-the-reset"));
    cluster.store.write().unwrap().put(pods, pod(before.clone()));
    loop {
        if let Ok(Event::Apply(p)) = next_within(&mut stream, deadline).await {
            if p.metadata.name.as_deref() == Some(before.as_str()) {
                break;
            }
        }
    }
    cluster.faults.reset_connections();
    let failed = loop {
        if let Err(e) = next_within(&mut stream, deadline).await {
            break e;
        }
    };
    assert!(matches!(failed, watcher::Error::WatchFailed(_)), "{who}: the body failed: {failed:?}");
    cluster.store.write().unwrap().put(pods, pod(after.clone()));
    let mut errors = 0;
    loop {
        match next_within(&mut stream, deadline).await {
            Ok(Event::Apply(p)) | Ok(Event::InitApply(p)) if p.metadata.name.as_deref() == Some(after.as_str()) => {
                break
            }
            Ok(_) => {}
            Err(e) => {
                errors += 1;
                assert!(errors < 20, "{who}: the watch never came back; its errors repeat: {e}");
                // paced.rs backs off between errors; so does the test
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
