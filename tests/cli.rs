//! The kst binary end to end: `kst snapshot` against the simulator (JSON schema, exit
//! codes), bad input (broken kubeconfig, unknown context, bad config), and the TUI in a
//! real terminal (tmux): start, read the screen, press keys, quit, terminal restored.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn kst() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kst"));
    // no user config, no ~/.kube/config: each test says what it uses
    c.env_remove("KUBECONFIG")
        .env("HOME", std::env::temp_dir())
        .env("XDG_CONFIG_HOME", std::env::temp_dir().join("kst-test-no-config"))
        // kst's kept problems and logs: a place of each call's own, never shared between runs
        .env("KST_STATE_DIR", fresh_state_dir());
    c
}

fn fresh_state_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("kst-cli-state-{}-{n}", std::process::id()))
}

async fn run(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output()).await.unwrap().expect("kst runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_json_against_the_sim_and_its_exit_codes() {
    let sim = common::sim(3).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, sim.kubeconfig(false)).unwrap();
    let log = dir.path().join("kst.log");

    let mut c = kst();
    c.args(["snapshot", "-o", "json", "--timeout", "30s", "--kubeconfig"]).arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("snapshot is JSON");
    assert_eq!(v["schema"], "kst.snapshot/v1");
    let clusters = v["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 3);
    let east = clusters.iter().find(|c| c["context"] == "gpu-us-east").unwrap();
    for key in
        ["context", "reachable", "error", "server_version", "latency_ms", "nodes", "gpus_allocatable", "gpus_total"]
    {
        assert!(east.get(key).is_some(), "documented field {key} missing: {east}");
    }
    assert_eq!(east["reachable"], true);
    assert_eq!(east["nodes"], 6);
    assert_eq!(east["gpus_total"], 32);
    assert_eq!(east["gpus_allocatable"], 31);
    assert!(east["error"].is_null());
    assert!(east["server_version"].as_str().unwrap().starts_with("v1."));

    // problems[]: the crash-looping decode pod of gpu-eu-west fires at once (no for:), with
    // where the TUI would lead; a rule with a for: can only be pending in one look
    let problems = v["problems"].as_array().unwrap();
    let crash = problems.iter().find(|p| p["kind"] == "pod-crashloop").expect("the crash loop is a problem");
    assert_eq!(
        (&crash["severity"], &crash["state"], &crash["cluster"]),
        (&"critical".into(), &"firing".into(), &"gpu-eu-west".into())
    );
    assert_eq!(crash["object"]["kind"], "Pod");
    assert_eq!(crash["jump"]["to"], "pod");
    assert!(crash["reason"].as_str().unwrap().contains("CrashLoopBackOff"), "{crash}");
    for p in problems {
        for key in [
            "severity",
            "kind",
            "alertname",
            "cluster",
            "object",
            "reason",
            "state",
            "since",
            "since_lower_bound",
            "fired_at",
            "standing",
            "under",
            "for_s",
            "jump",
        ] {
            assert!(p.get(key).is_some(), "documented field {key} missing: {p}");
        }
        // a rule with a for: fires in one look only when the cluster's record covers its for:
        if p["for_s"].as_f64().unwrap() > 0.0 && p["state"] == "firing" {
            assert_eq!(p["since_lower_bound"], false, "{p}");
        }
    }
    // the crash loop's age is the pod's own record (its Ready transition), not the snapshot's
    assert_eq!(crash["since_lower_bound"], false, "{crash}");
    assert_ne!(crash["since"], v["taken_at"], "{crash}");

    // --fail-on: 9 when a problem that severe fires; gpu-us-east alone has only an info one
    let fail_on = |ctx: &str, level: &str| {
        let mut c = kst();
        c.args(["snapshot", "-o", "table", "--timeout", "30s", "--context", ctx, "--fail-on", level, "--kubeconfig"])
            .arg(&kc)
            .arg("--log-file")
            .arg(&log);
        c
    };
    let out = run(fail_on("*", "critical")).await;
    assert_eq!(out.status.code(), Some(9), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("PROBLEMS: "), "the problems come first: {table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("✖ critical firing") && l.contains("gpu-eu-west") && l.contains("CrashLoopBackOff")),
        "{table}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("at critical or worse"));
    let out = run(fail_on("gpu-us-east", "warning")).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // the 401 EPP is an info finding that was there before kst first watched: standing, listed,
    // not counted
    let out = run(fail_on("gpu-us-east", "info")).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("i info     standing") && l.contains("EPP /metrics answers 401")),
        "{table}"
    );

    // one cluster down: exit 3, the others still reported, the down one named on stderr
    sim.cluster("gpu-eu-west").unwrap().faults.set_unreachable(true);
    let mut c = kst();
    c.args(["snapshot", "-o", "json", "--timeout", "30s", "--kubeconfig"]).arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let west = v["clusters"].as_array().unwrap().iter().find(|c| c["context"] == "gpu-eu-west").unwrap().clone();
    assert_eq!(west["reachable"], false);
    assert!(west["nodes"].is_null(), "unknown is null, not 0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpu-eu-west"));

    // every cluster down: exit 5; the table form says why
    for c in &sim.clusters {
        c.faults.set_unreachable(true);
    }
    let mut c = kst();
    c.args(["snapshot", "-o", "table", "--timeout", "20s", "--kubeconfig"]).arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(5));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("CONTEXT") && table.contains("unreachable"), "{table}");

    // the log got lines, and never a token
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    for c in &sim.clusters {
        assert!(!logged.contains(c.admin_token()), "a token reached the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_message_and_a_distinct_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kst.log");
    let broken = dir.path().join("broken");
    std::fs::write(&broken, "apiVersion: v1\nclusters: [ {name: x, cluster: {server: 5}} ]\ncontexts: {not: a list}\n")
        .unwrap();
    let mut c = kst();
    c.args(["snapshot", "--kubeconfig"]).arg(&broken).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read kubeconfig") && err.contains(broken.to_str().unwrap()), "{err}");

    let mut c = kst();
    c.args(["snapshot", "--kubeconfig"]).arg(dir.path().join("missing")).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kst demo"));

    let sim = common::sim(3).await;
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, sim.kubeconfig(false)).unwrap();
    let mut c = kst();
    c.args(["snapshot", "--context", "nope", "--kubeconfig"]).arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known contexts: gpu-us-east"));

    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "refresh = 'often'\n").unwrap();
    let mut c = kst();
    c.args(["snapshot", "--config"]).arg(&cfg).arg("--kubeconfig").arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refresh"));

    // --context picks a subset, with a prefix pattern
    let mut c = kst();
    c.args(["snapshot", "--context", "gpu-*", "--kubeconfig"]).arg(&kc).arg("--log-file").arg(&log);
    let out = run(c).await;
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clusters"].as_array().unwrap().len(), 2);
}

struct Tmux {
    session: String,
}

impl Tmux {
    /// None (the test says it skips, or fails under KST_REQUIRE_PEERS=1) without tmux.
    fn start(cmd: &str, w: u16, h: u16) -> Option<Tmux> {
        let ok = Command::new("tmux").arg("-V").output().map(|o| o.status.success()).unwrap_or(false);
        if !ok {
            common::peers::missing("the terminal tests", "tmux", "apt-get install tmux");
            return None;
        }
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("kst-test-{}-{n}", std::process::id());
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", &w.to_string(), "-y", &h.to_string(), cmd])
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(status.success());
        Some(Tmux { session })
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        Command::new("tmux").args(["send-keys", "-t", &self.session]).args(keys).status().unwrap();
    }
    async fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        // a deadline, not a sleep: under CI's load (two of these tests at once, each a debug
        // build of the demo's seven clusters, on two cores) listing every cluster's pods once
        // took longer than 90 s
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_in_a_real_terminal_draws_answers_keys_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("exit-code");
    let log = dir.path().join("kst.log");
    let cmd = format!(
        "printf 'BEFORE-KST\\n'; env -u KUBECONFIG HOME={home} XDG_CONFIG_HOME={home}/cfg {bin} demo --log-file {log}; echo $? > {marker}; printf 'AFTER-KST\\n'; sleep 600",
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_kst"),
        log = log.display(),
        marker = marker.display()
    );
    let Some(t) = Tmux::start(&cmd, 100, 30) else { return };
    let screen = t
        .wait_for("six live clusters", |s| {
            s.contains("6 clusters") && s.contains("6 live") && s.contains("agents-us-central")
        })
        .await;
    assert!(screen.contains("gpu-us-east") && screen.contains("GPUS"), "{screen}");
    assert!(!screen.contains("BEFORE-KST"), "the TUI uses the alternate screen");

    t.keys(&["?"]);
    t.wait_for("the help overlay", |s| s.contains("focus one cluster / all")).await;
    t.keys(&["Escape"]);
    // an Esc followed at once by a key reads as Alt+key in any terminal: wait for it to land
    t.wait_for("the help closed", |s| !s.contains("focus one cluster / all")).await;
    t.keys(&["4"]);
    t.wait_for("the Serving tab", |s| s.contains("Inference pools (4)") && s.contains("gpu-us-east/pd-disaggregation"))
        .await;
    t.keys(&["1"]);
    t.wait_for("the Overview", |s| s.contains("Clusters (7)")).await;
    t.keys(&["/", "e", "u", "Enter"]);
    t.wait_for("the filter", |s| s.contains("1 of 7")).await; // of every row: 6 contexts and the hub's cluster

    t.keys(&["q"]);
    let after = t.wait_for("kst to exit", |_| marker.exists()).await;
    let _ = after;
    let restored = t.wait_for("the shell's screen back", |s| s.contains("AFTER-KST")).await;
    assert!(restored.contains("BEFORE-KST"), "the normal screen is back as it was: {restored}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "0");
    assert!(!Path::new(&dir.path().join(".kube")).exists(), "the demo writes no kubeconfig");
}

/// Ctrl-Z in an interactive shell: the shell's screen back with the job stopped, and `fg`
/// brings the TUI back, drawn whole and answering keys (Ctrl-Z used to be swallowed, so the
/// `fg` typed next went into the TUI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_z_suspends_and_fg_restores_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) =
        Tmux::start(&format!("env -u KUBECONFIG HOME={} PS1='SHELL$ ' bash --norc -i", dir.path().display()), 100, 30)
    else {
        return;
    };
    t.wait_for("the shell", |s| s.contains("SHELL$")).await;
    t.keys(&[&format!("{} demo --log-file {}/log", env!("CARGO_BIN_EXE_kst"), dir.path().display()), "Enter"]);
    t.wait_for("the TUI", |s| s.contains("6 clusters") && s.contains("6 live")).await;
    t.keys(&["C-z"]);
    let stopped = t.wait_for("the job stopped", |s| s.contains("Stopped")).await;
    assert!(!stopped.contains("6 clusters"), "the shell's screen, not the TUI: {stopped}");
    t.keys(&["fg", "Enter"]);
    // `6 clusters: …` or, once the hub is read, `6 clusters + 1 via hub: …`
    t.wait_for("the TUI again", |s| s.contains("6 clusters") && s.contains("agents-us-central")).await;
    t.keys(&["4"]);
    t.wait_for("keys answered after fg", |s| s.contains("Inference pools (4)")).await;
    t.keys(&["q"]);
    t.wait_for("the shell after quitting", |s| {
        s.lines().last().is_some_and(|_| s.contains("SHELL$") && !s.contains("Inference pools"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_restores_the_terminal_too() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("exit-code");
    let pidfile = dir.path().join("pid");
    let cmd = format!(
        "printf 'BEFORE-KST\\n'; env -u KUBECONFIG HOME={home} TMPDIR={home} {bin} demo --log-file {home}/log & echo $! > {pid}; wait $!; echo $? > {marker}; printf 'AFTER-KST\\n'; sleep 600",
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_kst"),
        pid = pidfile.display(),
        marker = marker.display()
    );
    let Some(t) = Tmux::start(&cmd, 90, 26) else { return };
    t.wait_for("the TUI", |s| s.contains("6 clusters")).await;
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap();
    let restored = t.wait_for("the shell's screen back", |s| s.contains("AFTER-KST")).await;
    assert!(restored.contains("BEFORE-KST"), "{restored}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "143", "128 + SIGTERM, as shells expect");
    assert!(!dir.path().join(format!("kst-demo-{}", pid.trim())).exists(), "the demo's folder is gone");
}

/// Closing the terminal (tmux kill-session: SIGHUP) still removes the demo's folder; a
/// folder left by a demo that was killed outright goes at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_folder_goes_when_the_terminal_closes() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    // a dead demo's leftovers (pid 1 is never a kst demo here: init; use a pid that cannot exist)
    let stale = dir.path().join("kst-demo-4194303");
    std::fs::create_dir_all(stale.join("reports")).unwrap();
    let cmd = format!(
        "echo $$ > {pid}; exec env -u KUBECONFIG HOME={home} TMPDIR={home} {bin} demo --log-file {home}/log",
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_kst"),
        pid = pidfile.display(),
    );
    let Some(t) = Tmux::start(&cmd, 90, 26) else { return };
    t.wait_for("the TUI", |s| s.contains("6 clusters")).await;
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let mine = dir.path().join(format!("kst-demo-{}", pid.trim()));
    assert!(mine.exists(), "the demo keeps its files in {}", mine.display());
    assert!(!stale.exists(), "a dead demo's folder is removed at start");
    drop(t); // kill-session: the terminal goes away
    let deadline = Instant::now() + Duration::from_secs(30);
    while mine.exists() {
        assert!(Instant::now() < deadline, "the demo's folder is still there after the terminal closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Completions and the man page come from the same definitions as the parser, and each
/// command's help lists only the flags that apply to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_man_page_and_per_command_help() {
    let out = run({
        let mut c = kst();
        c.args(["completions", "bash"]);
        c
    })
    .await;
    let bash = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && bash.contains("_kst()") && bash.contains("snapshot"), "{bash}");
    for shell in ["zsh", "fish"] {
        let mut c = kst();
        c.args(["completions", shell]);
        let out = run(c).await;
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
    let mut c = kst();
    c.arg("man");
    let man = run(c).await;
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success() && page.contains(".TH kst") && page.contains("snapshot"), "{page}");
    let help = |args: &'static [&'static str]| {
        let mut c = kst();
        c.args(args);
        async move { String::from_utf8_lossy(&run(c).await.stdout).into_owned() }
    };
    let snap = help(&["snapshot", "--help"]).await;
    assert!(snap.contains("--kubeconfig") && snap.contains("--sample"), "{snap}");
    assert!(!snap.contains("--kiosk") && !snap.contains("--rotate") && !snap.contains("--theme"), "{snap}");
    let sim = help(&["sim", "--help"]).await;
    assert!(sim.contains("--kubeconfig-out") && !sim.contains("--readonly"), "{sim}");
    let demo = help(&["demo", "--help"]).await;
    assert!(demo.contains("--kiosk") && demo.contains("--theme") && !demo.contains("--kubeconfig "), "{demo}");
    // a refresh of 0 is a usage error, not a silent 200 ms
    let mut c = kst();
    c.args(["snapshot", "--refresh", "0"]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 200ms"));
    // a sample window longer than the timeout could never be taken: said before anything starts
    let mut c = kst();
    c.args(["snapshot", "--sample", "30s", "--timeout", "10s"]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than --timeout"));
    // the rule file: every rule over metrics, in Prometheus' own format
    let mut c = kst();
    c.arg("rules");
    let out = run(c).await;
    let rules = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && rules.starts_with("groups:") && rules.contains("alert: EPPCriticalErrorRatio"),
        "{rules}"
    );
    // and the roll-ups `rollups = "recorded"` reads, recorded under the cluster label's name
    assert!(rules.contains("- name: kst-rollups") && rules.contains("record: cluster:kst_ttft_p99"), "{rules}");
}

/// `kst snapshot` obeys the signals a cron or systemd stop sends: SIGTERM, SIGINT and SIGHUP end
/// it at once (128 + the signal's number), with nothing on stdout, while it still waits for a
/// cluster that never answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_stops_at_a_signal_with_nothing_printed() {
    // an API server that accepts and never answers
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().flatten() {
            conns.push(c);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hang\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: hang\n  context:\n    cluster: hang\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n\
             current-context: hang\n"
        ),
    )
    .unwrap();
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130), (libc::SIGHUP, 129)] {
        let mut c = kst();
        c.args(["snapshot", "-o", "json", "--timeout", "60s", "--kubeconfig"])
            .arg(&kc)
            .arg("--log-file")
            .arg(dir.path().join("log"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = c.spawn().unwrap();
        // it catches the signal once its handler is installed (the kernel's SigCgt mask says so)
        let caught = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| s.lines().find(|l| l.starts_with("SigCgt:")).map(|l| l[7..].trim().to_string()))
                .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
                .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
        };
        let started = Instant::now();
        while !caught(child.id()) {
            assert!(started.elapsed() < Duration::from_secs(30), "kst never installed its handlers");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = Instant::now();
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        let took = sent.elapsed();
        assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "no half snapshot: {}", String::from_utf8_lossy(&out.stdout));
        assert!(took < Duration::from_secs(5), "stopped in {took:?}");
    }
}

/// `s` on a pod: the API server is asked first, a dialog names the pod and container, `y` hands
/// the terminal to the real `kubectl exec -it` (the simulator's pods/exec over WebSocket), what
/// is typed goes to the container's shell, and when it ends kst is back, drawn whole, answering
/// keys, with the session in the audit file and its kubeconfig gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_from_a_pod_list_is_kubectl_exec_and_kst_comes_back() {
    let Some(kubectl) = common::peers::debian_binary("kubernetes-client", "kubectl") else {
        common::peers::missing("the shell test", "kubectl", "apt-get install kubernetes-client");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let cmd = format!(
        "env -u KUBECONFIG HOME={home} XDG_CONFIG_HOME={home}/cfg XDG_DATA_HOME={home}/data TMPDIR={tmp} KST_KUBECTL={kubectl} {bin} demo --log-file {home}/log; sleep 600",
        home = dir.path().display(),
        tmp = tmp.display(),
        kubectl = kubectl.display(),
        bin = env!("CARGO_BIN_EXE_kst"),
    );
    let Some(t) = Tmux::start(&cmd, 150, 40) else { return };
    t.wait_for("the fleet", |s| s.contains("6 live") && s.contains("agents-us-central")).await;
    t.keys(&[":pods", "Enter"]);
    t.wait_for("every pod", |s| s.contains("pods in all namespaces")).await;
    t.keys(&["/", "decode-z5pbtvpl7b-5f7jd", "Enter"]);
    t.wait_for("the one pod", |s| s.contains("(1) · filter")).await;
    t.keys(&["s"]);
    let dialog = t.wait_for("the permission checked", |s| s.contains("y/Enter open")).await;
    assert!(dialog.contains("container ▸vllm") && dialog.contains("on gpu-us-east"), "{dialog}");
    t.keys(&["y"]);
    let pod = "ms-pd-llm-d-modelservice-decode-z5pbtvpl7b-5f7jd";
    t.wait_for("the container's shell", |s| s.contains(&format!("root@{pod}:/#"))).await;
    t.keys(&["hostname", "Enter"]);
    t.wait_for("the command's output", |s| s.lines().any(|l| l.trim() == pod)).await;
    let kubeconfigs = || {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("kst-shell-"))
            .count()
    };
    assert_eq!(kubeconfigs(), 1, "kubectl's kubeconfig, in a folder of its own while the shell runs");
    t.keys(&["exit 3", "Enter"]);
    t.wait_for("kst says how kubectl ended", |s| s.contains("press Enter to return to kst")).await;
    t.keys(&["Enter"]);
    // kst's own prompt above also says "ended with exit code 3": the TUI is back only once the
    // prompt is gone and the pod list is drawn again
    let back = t
        .wait_for("the TUI again", |s| {
            s.contains("ended with exit code 3") && !s.contains("press Enter to return") && s.contains("CPU")
        })
        .await;
    assert!(back.contains(pod), "drawn whole: {back}");
    t.keys(&["Escape"]);
    t.wait_for("keys answered after the shell", |s| s.contains("pods in all namespaces") && !s.contains("filter:"))
        .await;
    // the actions task writes the audit line and removes the kubeconfig after the session ends:
    // waited for, with a deadline
    let audited = || {
        walk(&dir.path().join("data"))
            .into_iter()
            .find(|p| p.ends_with("audit.jsonl"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .filter(|l| l.contains("ended with exit code 3"))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while (audited().is_none() || kubeconfigs() > 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = audited().expect("the session's audit line");
    assert!(line.contains("\"action\":\"shell\"") && line.contains(pod), "{line}");
    assert_eq!(kubeconfigs(), 0, "the kubeconfig is removed when the session ends");
    assert!(!line.contains("sim-gpu-us-east-admin"), "no token in the audit file");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
