//! The real `kubectl` against the simulator: if kubectl cannot tell it from a cluster,
//! neither can kst. `.ci/run` installs kubectl (Debian's kubernetes-client) where missing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kst_sim::SimFleet;

struct Kube {
    _dir: tempfile::TempDir,
    config: PathBuf,
    bin: PathBuf,
}

/// The real kubectl: on the PATH, or Debian's kubernetes-client unpacked under target/peers.
fn kubectl_bin(test: &str) -> Option<PathBuf> {
    let bin = common::peers::debian_binary("kubernetes-client", "kubectl");
    if bin.is_none() {
        common::peers::missing(test, "kubectl", "apt-get install kubernetes-client");
    }
    bin
}

impl Kube {
    /// None (the test says it skips) when kubectl cannot be had here.
    fn new(test: &str, sim: &SimFleet, viewers: bool) -> Option<Kube> {
        let bin = kubectl_bin(test)?;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, sim.kubeconfig(viewers)).unwrap();
        Some(Kube { _dir: dir, config, bin })
    }

    fn cmd(&self, context: &str, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--kubeconfig").arg(&self.config).arg("--context").arg(context).arg("--request-timeout=30s").args(args);
        c.env_remove("KUBECONFIG").env("HOME", self.config.parent().unwrap_or(Path::new("/tmp")));
        c
    }

    /// Runs kubectl off the async runtime, so the in-process sim keeps serving.
    async fn run(&self, context: &str, args: &[&str]) -> (bool, String, String) {
        let mut cmd = self.cmd(context, args);
        let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("kubectl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn ok(&self, context: &str, args: &[&str]) -> String {
        let (ok, out, err) = self.run(context, args).await;
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_lists_and_discovers() {
    let sim = common::sim(3).await;
    let k = match Kube::new(module_path!(), &sim, false) {
        Some(k) => k,
        None => return,
    };

    let pods = k.ok("gpu-us-east", &["get", "pods", "-A"]).await;
    assert!(
        pods.lines().next().unwrap().contains("NAMESPACE") && pods.contains("READY") && pods.contains("RESTARTS"),
        "{pods}"
    );
    assert!(pods.contains("ms-pd-llm-d-modelservice-decode-") && pods.contains("Running"), "{pods}");

    let pools = k.ok("gpu-us-east", &["get", "inferencepools", "-A"]).await;
    assert!(pools.contains("pd-disaggregation") && pools.contains("optimized-baseline"), "{pools}");
    let legacy = k
        .ok("gpu-eu-west", &["get", "inferencepools.inference.networking.x-k8s.io", "-n", "llm-d", "-o", "name"])
        .await;
    assert_eq!(legacy.trim(), "inferencepool.inference.networking.x-k8s.io/llama-70b");

    let resources = k.ok("agents-us-central", &["api-resources"]).await;
    for kind in [
        "agentruntimes",
        "agentcards",
        "mcpserverregistrations",
        "buildruns",
        "deployments",
        "selfsubjectaccessreviews",
    ] {
        assert!(resources.contains(kind), "api-resources lacks {kind}: {resources}");
    }

    // selectors, as kubectl sends them
    let decode = k.ok("gpu-us-east", &["get", "pods", "-n", "llm-d", "-l", "llm-d.ai/role=decode", "-o", "name"]).await;
    assert_eq!(decode.lines().count(), 4, "two 8B and two 70B decode pods: {decode}");
    let not_decode = k
        .ok(
            "gpu-us-east",
            &["get", "pods", "-n", "llm-d", "-l", "llm-d.ai/role notin (decode),llm-d.ai/role", "-o", "name"],
        )
        .await;
    assert_eq!(not_decode.lines().count(), 3, "the three prefill pods: {not_decode}");
    let crash = k
        .ok("gpu-eu-west", &["get", "pods", "-n", "llm-d", "--field-selector", "status.phase=Running", "-o", "wide"])
        .await;
    assert!(crash.contains("CrashLoopBackOff"), "one decode pod crash-loops: {crash}");
    let page = k.ok("gpu-us-east", &["get", "pods", "-A", "--chunk-size=7", "-o", "name"]).await;
    assert_eq!(page.lines().count(), 60, "pagination returns every pod once");

    // get one object as JSON, and a NotFound as kubectl prints it
    let json = k.ok("agents-us-central", &["get", "deploy", "-n", "team1", "weather-service", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["metadata"]["labels"]["kagenti.io/type"], "agent");
    let (ok, _, err) = k.run("agents-us-central", &["get", "deploy", "-n", "team1", "nope"]).await;
    assert!(!ok && err.contains("NotFound") && err.contains("\"nope\" not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_proxy_scale_logs_and_auth() {
    let sim = common::sim(3).await;
    let k = match Kube::new(module_path!(), &sim, true) {
        Some(k) => k,
        None => return,
    };
    let decode = k
        .ok(
            "gpu-us-east",
            &["get", "pods", "-n", "llm-d", "-l", "llm-d.ai/role=decode", "-o", "jsonpath={.items[0].metadata.name}"],
        )
        .await;
    // decode pods: vLLM listens on 8200 behind the routing sidecar
    let metrics = k
        .ok("gpu-us-east", &["get", "--raw", &format!("/api/v1/namespaces/llm-d/pods/{decode}:8200/proxy/metrics")])
        .await;
    assert!(
        metrics.contains("vllm:kv_cache_usage_perc{") && metrics.contains("vllm:generation_tokens_total{"),
        "{metrics}"
    );
    let epp = k
        .ok(
            "gpu-us-east",
            &["get", "--raw", "/api/v1/namespaces/llm-d/services/pd-disaggregation-epp:9090/proxy/metrics"],
        )
        .await;
    assert!(epp.contains("llm_d_epp_scheduler_attempts_total{"), "{epp}");
    let (ok, _, err) = k
        .run(
            "gpu-us-east",
            &["get", "--raw", "/api/v1/namespaces/llm-d/services/optimized-baseline-epp:9090/proxy/metrics"],
        )
        .await;
    assert!(!ok && err.contains("Unauthorized"), "the router's /metrics needs auth: {err}");

    // scale through the scale subresource; the pods follow
    k.ok("gpu-us-east", &["scale", "deployment", "-n", "llm-d", "ms-baseline-llm-d-modelservice", "--replicas=1"])
        .await;
    let replicas = k
        .ok(
            "gpu-us-east",
            &["get", "deploy", "-n", "llm-d", "ms-baseline-llm-d-modelservice", "-o", "jsonpath={.spec.replicas}"],
        )
        .await;
    assert_eq!(replicas, "1");
    let pods = k
        .ok("gpu-us-east", &["get", "pods", "-n", "llm-d", "-l", "llm-d.ai/guide=optimized-baseline", "-o", "name"])
        .await;
    assert_eq!(pods.lines().count(), 1, "{pods}");

    // logs: container choice, tail, previous
    let logs = k.ok("gpu-us-east", &["logs", "-n", "llm-d", &decode, "-c", "vllm", "--tail=3"]).await;
    assert_eq!(logs.lines().count(), 3);
    assert!(logs.contains(&format!("[{decode}/vllm current")), "{logs}");
    let (ok, _, err) = k.run("gpu-us-east", &["logs", "-n", "llm-d", &decode, "-c", "nope"]).await;
    assert!(!ok && err.contains("not valid for pod"), "{err}");

    // RBAC: the viewer context reads but may not scale; the admin may
    let can = k
        .ok("agents-us-central", &["auth", "can-i", "patch", "deployments", "--subresource=scale", "-n", "team1"])
        .await;
    assert_eq!(can.trim(), "yes");
    let (_, out, _) = k
        .run(
            "agents-us-central-viewer",
            &["auth", "can-i", "patch", "deployments", "--subresource=scale", "-n", "team1"],
        )
        .await;
    assert_eq!(out.trim(), "no");
    let (ok, _, err) = k
        .run("agents-us-central-viewer", &["scale", "deployment", "-n", "team1", "weather-service", "--replicas=0"])
        .await;
    assert!(!ok && err.contains("forbidden"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_receives_an_event() {
    let sim = common::sim(3).await;
    let k = match Kube::new(module_path!(), &sim, false) {
        Some(k) => k,
        None => return,
    };
    let mut child = k
        .cmd("gpu-us-east", &["get", "pods", "-n", "llm-d", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kubectl starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // wait for the initial listing, then change the fleet
    let c = sim.cluster("gpu-us-east").unwrap();
    let pods = c.registry.index_of(&kst_sim::resources::PODS).unwrap();
    let initial: Vec<String> =
        c.store.read().unwrap().list(pods, Some("llm-d")).iter().map(|p| format!("pod/{}", p.name)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<String> = Vec::new();
    while !initial.iter().all(|p| seen.contains(p)) {
        let line = tokio::time::timeout(deadline - Instant::now(), rx.recv())
            .await
            .expect("initial events")
            .expect("kubectl is still watching");
        seen.push(line);
    }
    let deploys = c.registry.index_of(&kst_sim::resources::DEPLOYMENTS).unwrap();
    {
        let mut store = c.store.write().unwrap();
        store
            .modify(deploys, "llm-d", "ms-pd-llm-d-modelservice-prefill", |o| {
                o["spec"]["replicas"] = serde_json::json!(3)
            })
            .unwrap();
        kst_sim::scenario::reconcile(
            c,
            &mut store,
            &kst_sim::resources::DEPLOYMENTS,
            "llm-d",
            "ms-pd-llm-d-modelservice-prefill",
        );
    }
    let got = loop {
        let line = tokio::time::timeout(deadline - Instant::now(), rx.recv())
            .await
            .expect("a watch event after the scale")
            .expect("kubectl is still watching");
        if line.contains("ms-pd-llm-d-modelservice-prefill") && !initial.contains(&line) {
            break line;
        }
    };
    assert!(got.starts_with("pod/ms-pd-llm-d-modelservice-prefill-"), "the new pod arrives by watch: {got}");
    let _ = child.kill();
    let _ = child.wait();
}

/// The pod list's CPU and MEM, read from metrics.k8s.io as metrics-server serves it, agree
/// figure for figure with the real `kubectl top pod`; a cluster without metrics-server is
/// "Metrics API not available" to kubectl and `—` (None) to kst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_top_and_the_pod_list_agree_on_cpu_and_memory() {
    use kst::sources::views::{FeedRequest, ViewSpec};
    use kst::store::Update;
    use kst::ui::widgets::fmt::{mebibytes, millicores};
    use std::collections::BTreeMap;

    let sim = common::sim(3).await;
    let Some(k) = Kube::new(module_path!(), &sim, true) else {
        return;
    };
    let (ok, _, err) = k.run("gpu-eu-west", &["top", "pod", "-n", "llm-d"]).await;
    assert!(!ok && err.contains("Metrics API not available"), "a cluster without metrics-server: {err}");

    let targets = common::targets(&sim);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let feeds = kst::sources::views::start(targets, tx);
    let window = || jiff::Timestamp::now().as_second().div_euclid(15);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut id = 0;
    loop {
        assert!(Instant::now() < deadline, "no attempt fell within one metrics window");
        // a fresh list asks metrics.k8s.io as it opens
        id += 1;
        let spec = |cluster| ViewSpec::Pods { cluster, namespace: "llm-d".into(), selector: String::new() };
        feeds.send(FeedRequest::Open { id, spec: spec(0) }).unwrap();
        feeds.send(FeedRequest::Open { id: id + 1000, spec: spec(1) }).unwrap();
        let (mut east, mut west) = (None, None);
        while east.is_none() || west.is_none() {
            let u = tokio::time::timeout_at(deadline.into(), rx.recv()).await.expect("pod lists arrive").unwrap();
            if let Update::ViewPods { view, pods, no_usage, .. } = u {
                if view == id && pods.iter().any(|p| p.usage.is_some()) {
                    assert_eq!(no_usage, None, "metrics-server answers on gpu-us-east");
                    east = Some((window(), pods));
                } else if view == id + 1000 && !pods.is_empty() && no_usage.is_some() {
                    // the list says why its CPU and MEM are `—`
                    let why = no_usage.unwrap();
                    assert!(why.contains("no metrics-server") && why.contains("not served"), "{why}");
                    west = Some(pods);
                }
            }
        }
        feeds.send(FeedRequest::Close { id }).unwrap();
        feeds.send(FeedRequest::Close { id: id + 1000 }).unwrap();
        let west = west.unwrap();
        assert!(west.iter().all(|p| p.usage.is_none()), "no metrics-server: no figures");
        let (read_at, east) = east.unwrap();
        let top = k.ok("gpu-us-east", &["top", "pod", "-n", "llm-d", "--no-headers"]).await;
        if window() != read_at {
            continue; // a new sample between the two reads: again
        }
        let kubectl: BTreeMap<&str, (&str, &str)> = top
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?, (w.next()?, w.next()?)))
            })
            .collect();
        let running: Vec<_> = east.iter().filter(|p| p.status == "Running").collect();
        assert!(running.len() >= 4, "the llm-d pods of gpu-us-east: {}", running.len());
        assert_eq!(kubectl.len(), running.len(), "kubectl top lists the running pods: {top}");
        for p in running {
            let u = p.usage.unwrap_or_else(|| panic!("{} has no usage", p.name));
            let want = kubectl.get(p.name.as_str()).unwrap_or_else(|| panic!("{} not in kubectl top: {top}", p.name));
            assert_eq!((millicores(u.cpu).as_str(), mebibytes(u.memory).as_str()), *want, "{}", p.name);
        }
        break;
    }
}

/// `kubectl exec` against the simulator over the WebSocket protocol kubectl 1.32 speaks: a
/// command's output and exit code, a script's non-zero exit as kubectl reports it, and piped
/// input read until it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_runs_commands_and_reports_exit_codes() {
    let sim = common::sim(3).await;
    let Some(k) = Kube::new(module_path!(), &sim, false) else {
        return;
    };
    let pods = k.ok("gpu-us-east", &["get", "pods", "-n", "llm-d", "-o", "name"]).await;
    let pod = pods
        .lines()
        .filter_map(|l| l.strip_prefix("pod/"))
        .find(|p| p.contains("decode"))
        .expect("a decode pod")
        .to_string();
    let ctx = "gpu-us-east";

    let out = k.ok(ctx, &["exec", "-n", "llm-d", &pod, "-c", "vllm", "--", "hostname"]).await;
    assert_eq!(out.trim(), pod, "hostname is the pod's name");

    let (ok, out, err) =
        k.run(ctx, &["exec", "-n", "llm-d", &pod, "-c", "vllm", "--", "sh", "-c", "echo hi; exit 3"]).await;
    assert!(!ok && out.trim() == "hi", "{out} {err}");
    assert!(err.contains("command terminated with exit code 3"), "kubectl reads the exit status: {err}");
    let mut cmd = k.cmd(ctx, &["exec", "-n", "llm-d", &pod, "-c", "vllm", "--", "sh", "-c", "exit 3"]);
    let status = tokio::task::spawn_blocking(move || cmd.status()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(3), "kubectl exits with the command's code");

    // piped input: no terminal, the shell reads lines until stdin ends
    let mut cmd = k.cmd(ctx, &["exec", "-i", "-n", "llm-d", &pod, "-c", "vllm", "--", "sh"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"echo piped\nkst-sim-container\n").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text, "piped\nvllm\n");

    // a container the pod does not have: the API server's refusal, as kubectl prints it
    let (ok, _, err) = k.run(ctx, &["exec", "-n", "llm-d", &pod, "-c", "nope", "--", "true"]).await;
    assert!(!ok && err.contains("container nope is not valid"), "{err}");
}

/// One HTTP/1.1 request through a forwarded local port, the whole answer read.
async fn get_through(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("the forwarded port accepts");
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if let Err(e) = s.write_all(req.as_bytes()).await {
        return format!("(writing: {e})");
    }
    let mut body = Vec::new();
    match tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut body)).await {
        Ok(Ok(_)) => String::from_utf8_lossy(&body).into_owned(),
        Ok(Err(e)) => format!("(reading: {e})"),
        Err(_) => "(no answer in 30 s)".into(),
    }
}

/// `kubectl port-forward` against the simulator as kubectl 1.32 speaks it (SPDY/3.1 tunnelled
/// in a WebSocket): it reports the local port, and each local connection, one after another
/// and two at once, reaches what the pod serves there (a vLLM pod's metrics), kubectl saying
/// it handles each and never that it lost the pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_port_forward_reaches_what_the_pod_serves() {
    let sim = common::sim(3).await;
    let Some(k) = Kube::new(module_path!(), &sim, false) else {
        return;
    };
    let ctx = "gpu-us-east";
    let pods = k.ok(ctx, &["get", "pods", "-n", "llm-d", "-l", "llm-d.ai/role=decode", "-o", "name"]).await;
    let pod = pods.lines().next().expect("a decode pod").to_string();
    let (mut child, lines, mut said, local) = forward(&k, ctx, &pod, 8200).await;
    for _ in 0..2 {
        let text = get_through(local, "/metrics").await;
        said.extend(lines.try_iter());
        assert!(text.starts_with("HTTP/1.1 200") && text.contains("vllm:num_requests_running"), "{text} {said:?}");
    }
    let (a, b) = tokio::join!(get_through(local, "/metrics"), get_through(local, "/health"));
    assert!(a.contains("vllm:kv_cache_usage_perc") || a.contains("vllm:gpu_cache_usage_perc"), "{a}");
    assert!(b.starts_with("HTTP/1.1 "), "{b}");
    // a fourth, after the pair: the connection survived them
    assert!(get_through(local, "/metrics").await.starts_with("HTTP/1.1 200"));

    let _ = child.kill();
    let _ = child.wait();
    said.extend(lines.try_iter());
    let handled = said.iter().filter(|l| l.starts_with(&format!("Handling connection for {local}"))).count();
    assert_eq!(handled, 5, "kubectl handled each connection: {said:?}");
    assert!(!said.iter().any(|l| l.contains("lost connection") || l.contains("error")), "{said:?}");

    // a port nothing listens on: the kubelet's refusal on the error stream, as kubectl prints
    // it, and the forward ends (kubectl 1.32 drops the connection on an error)
    let (mut child, lines, mut said, local) = forward(&k, ctx, &pod, 9999).await;
    let answer = get_through(local, "/").await;
    assert!(!answer.starts_with("HTTP/"), "nothing answers on 9999: {answer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !said.iter().any(|l| l.contains("connect: connection refused")) && Instant::now() < deadline {
        if let Ok(l) = lines.recv_timeout(Duration::from_millis(200)) {
            said.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let err = said.iter().find(|l| l.contains("connection refused")).unwrap_or_else(|| panic!("{said:?}"));
    assert!(
        err.contains(&format!("an error occurred forwarding {local} -> 9999"))
            && err.contains("error forwarding port 9999"),
        "{err}"
    );
}

/// `kubectl port-forward POD :port` running: the child, its output lines (stdout and stderr
/// as they come), what it said before listening, and the local port it chose.
async fn forward(
    k: &Kube,
    ctx: &str,
    pod: &str,
    port: u16,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>, Vec<String>, u16) {
    let mut cmd = k.cmd(ctx, &["port-forward", "-n", "llm-d", pod, &format!(":{port}")]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kubectl starts");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let outs: [Box<dyn std::io::Read + Send>; 2] =
        [Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    for out in outs {
        let tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let local = tokio::task::block_in_place(|| loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("kubectl never said where it listens: {said:?}"));
        said.push(line.clone());
        if let Some(rest) = line.strip_prefix("Forwarding from 127.0.0.1:") {
            assert!(rest.ends_with(&format!("-> {port}")), "{line}");
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    });
    (child, lines, said, local)
}
