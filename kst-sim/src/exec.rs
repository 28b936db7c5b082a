//! `pods/exec` over a WebSocket, as an API server serves `kubectl exec` (v5.channel.k8s.io):
//! the upgrade, the channel framing, the exit status on channel 3 and a normal close. What
//! runs inside is a toy shell that knows a few commands (`hostname`, `echo`, `env`, `ls`,
//! `exit N`, …): the simulator's containers have no processes. Rules and sources:
//! `docs/upstream/kubernetes-exec-portforward.md`.

use futures::{SinkExt, StreamExt};
use http::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::http::{error, Reply, Request};
use super::resources::ResPath;
use super::websocket;
use super::SimCluster;

/// The only subprotocol kubectl 1.32 offers, and the only one the API server's stream
/// translator accepts.
const PROTOCOL: &str = "v5.channel.k8s.io";
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
/// v5: `[255, channel]`, this side closed the channel.
const CLOSE: u8 = 255;

/// What the request asked for (`PodExecOptions` in the query).
struct Options {
    command: Vec<String>,
    container: String,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

fn options(req: &Request, pod: &Value) -> Result<Options, Reply> {
    // `command` repeats once per argv element; the query map keeps one value per key
    let command: Vec<String> = req.query_all("command");
    if command.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "you must specify at least 1 command"));
    }
    let names: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|k| pod["spec"][*k].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match req.param("container") {
        Some(c) if !c.is_empty() => c.to_string(),
        _ if names.len() == 1 => names[0].to_string(),
        _ => {
            let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("a container name must be specified for pod {pod_name}, choose one of: [{}]", names.join(" ")),
            ));
        }
    };
    if !names.contains(&container.as_str()) {
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
        return Err(error(StatusCode::BAD_REQUEST, format!("container {container} is not valid for pod {pod_name}")));
    }
    Ok(Options {
        command,
        container,
        stdin: req.flag("stdin"),
        stdout: req.flag("stdout"),
        stderr: req.flag("stderr"),
        tty: req.flag("tty"),
    })
}

/// `…/pods/NAME/exec`: with a WebSocket upgrade offering v5, 101 and then the session.
pub fn serve(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let name = p.name.as_deref().unwrap_or("");
    let pod = match websocket::pod_of(cluster, p) {
        Ok(pod) => pod,
        Err(r) => return r,
    };
    // the request is judged as an API server judges it before any protocol is spoken, so
    // kubectl's SPDY retry after a refused WebSocket meets the same answer
    let opts = match options(req, &pod) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return error(StatusCode::BAD_REQUEST, format!("pod {name} does not have a host assigned"));
    }
    if pod["status"]["phase"] != "Running" {
        return error(StatusCode::BAD_REQUEST, format!("container not found (\"{}\")", opts.container));
    }
    if !websocket::offers(req, PROTOCOL) {
        return error(StatusCode::BAD_REQUEST, format!("the simulator serves exec over WebSocket ({PROTOCOL}) only"));
    }
    let shell = ToyShell::new(&pod, &opts.container);
    websocket::switch(req, PROTOCOL, move |ws| session(ws, opts, shell))
}

/// How the command runs: a shell reading its input, or one command line.
fn program(argv: &[String]) -> Option<String> {
    let shell = |s: &str| matches!(s.rsplit('/').next(), Some("sh" | "bash" | "ash" | "zsh"));
    match argv {
        [sh, c, script, ..] if shell(sh) && c == "-c" => {
            // `command -v bash && exec bash || exec sh` (k9s, kst): an interactive shell
            if script.contains("exec bash") || script.contains("exec sh") {
                None
            } else {
                Some(script.clone())
            }
        }
        [sh] if shell(sh) => None,
        argv => Some(argv.join(" ")),
    }
}

async fn session<S>(mut ws: WebSocketStream<S>, opts: Options, mut shell: ToyShell)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let out = |text: &str, err: bool| -> Option<Message> {
        // under a tty everything is the terminal's output; kubectl 1.32 drops (and logs) a
        // message on a channel it did not open
        let ch = if err && !opts.tty && opts.stderr { STDERR } else { STDOUT };
        (opts.stdout || ch == STDERR).then(|| frame(ch, text.as_bytes()))
    };
    let code = match program(&opts.command) {
        Some(line) => {
            let (text, exit) = shell.run_script(&line);
            for m in [out(&text, false), out(&std::mem::take(&mut shell.err), true)].into_iter().flatten() {
                let _ = ws.send(m).await;
            }
            exit
        }
        None if !opts.stdin => 0,
        None => {
            if opts.tty {
                let _ = ws.send(frame(STDOUT, shell.prompt().as_bytes())).await;
            }
            let mut code = None;
            while code.is_none() {
                let Some(Ok(msg)) = ws.next().await else { return };
                let Message::Binary(data) = msg else { continue };
                match data.first() {
                    Some(&STDIN) => {
                        let (text, exit) = if opts.tty { shell.keys(&data[1..]) } else { shell.lines(&data[1..]) };
                        let err = std::mem::take(&mut shell.err);
                        for (text, is_err) in [(text, false), (err, true)] {
                            if let Some(m) = out(&text, is_err).filter(|_| !text.is_empty()) {
                                let _ = ws.send(m).await;
                            }
                        }
                        code = exit;
                    }
                    // stdin closed (piped input ended): the shell reads EOF and exits
                    Some(&CLOSE) if data.get(1) == Some(&STDIN) => code = Some(shell.last),
                    _ => {} // resize: the toy shell does not care about its size
                }
            }
            code.unwrap_or(0)
        }
    };
    let status = if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({"metadata": {}, "status": "Failure",
               "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", opts.command.join(" ")),
               "reason": "NonZeroExitCode",
               "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
    };
    let _ = ws.send(frame(STATUS, status.to_string().as_bytes())).await;
    // a normal close (1000) is what ends kubectl's streams cleanly
    let _ = ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() })).await;
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(v.into())
}

/// A shell that knows a handful of commands, enough to see that a session reached the pod.
struct ToyShell {
    pod: String,
    container: String,
    /// The container's command, as `ps` lists it.
    command: String,
    env: Vec<(String, String)>,
    line: String,
    last: i32,
    /// Error output not yet sent.
    err: String,
}

impl ToyShell {
    fn new(pod: &Value, container: &str) -> ToyShell {
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let spec = ["containers", "initContainers"]
            .iter()
            .flat_map(|k| pod["spec"][*k].as_array().into_iter().flatten())
            .find(|c| c["name"] == container)
            .cloned()
            .unwrap_or(Value::Null);
        let words = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
        };
        let mut command = words(&spec["command"]);
        command.extend(words(&spec["args"]));
        let mut env = vec![
            ("HOSTNAME".to_string(), name.clone()),
            ("PATH".to_string(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
        ];
        // literal values only: a value from a Secret or a ConfigMap is not the simulator's to show
        env.extend(
            spec["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e["name"].as_str()?.to_string(), e["value"].as_str()?.to_string()))),
        );
        ToyShell {
            pod: name,
            container: container.to_string(),
            command: if command.is_empty() { "sleep infinity".into() } else { command.join(" ") },
            env,
            line: String::new(),
            last: 0,
            err: String::new(),
        }
    }

    fn prompt(&self) -> String {
        format!("root@{}:/# ", self.pod)
    }

    /// One command: its output (lines ending in `\n`) and, for `exit`, the code to end with.
    /// What the shell itself complains of is kept in `err` (stderr without a terminal).
    fn run(&mut self, cmd: &str) -> (String, Option<i32>) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some((&head, args)) = words.split_first() else { return (String::new(), None) };
        let unquote = |s: &str| s.trim_matches(|c| c == '"' || c == '\'').to_string();
        let (text, code) = match head {
            "exit" => return (String::new(), Some(args.first().and_then(|a| a.parse().ok()).unwrap_or(self.last))),
            "hostname" => (format!("{}\n", self.pod), 0),
            "echo" => (format!("{}\n", args.iter().map(|a| unquote(a)).collect::<Vec<_>>().join(" ")), 0),
            "pwd" => ("/\n".into(), 0),
            "whoami" => ("root\n".into(), 0),
            "true" | ":" => (String::new(), 0),
            "false" => (String::new(), 1),
            "env" | "printenv" => (self.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect(), 0),
            "ls" => ("bin  dev  etc  home  proc  root  sys  tmp  usr  var  workspace\n".into(), 0),
            "cat" if args == ["/etc/hostname"] => (format!("{}\n", self.pod), 0),
            "ps" => (format!("    PID COMMAND\n      1 {}\n", self.command), 0),
            "kst-sim-container" => (format!("{}\n", self.container), 0),
            other => {
                self.err.push_str(&format!("sh: 1: {other}: not found\n"));
                (String::new(), 127)
            }
        };
        self.last = code;
        (text, None)
    }

    /// `a; b; exit 3` given with `sh -c`, or one command line: output and exit code.
    fn run_script(&mut self, script: &str) -> (String, i32) {
        let mut out = String::new();
        for cmd in script.split([';', '\n']) {
            let (text, exit) = self.run(cmd.trim());
            out.push_str(&text);
            if let Some(code) = exit {
                return (out, code);
            }
        }
        (out, self.last)
    }

    /// Piped input without a terminal: whole lines run, no echo, no prompt.
    fn lines(&mut self, data: &[u8]) -> (String, Option<i32>) {
        self.line.push_str(&String::from_utf8_lossy(data));
        let mut out = String::new();
        while let Some(at) = self.line.find('\n') {
            let cmd: String = self.line.drain(..=at).collect();
            let (text, exit) = self.run(cmd.trim());
            out.push_str(&text);
            if exit.is_some() {
                return (out, exit);
            }
        }
        (out, None)
    }

    /// Keys from a terminal in raw mode: echoed as a tty line discipline would, Enter runs the
    /// line, Backspace erases, Ctrl-C drops the line, Ctrl-D on an empty line exits.
    fn keys(&mut self, data: &[u8]) -> (String, Option<i32>) {
        let mut out = String::new();
        for ch in String::from_utf8_lossy(data).chars() {
            match ch {
                '\r' | '\n' => {
                    out.push_str("\r\n");
                    let line = std::mem::take(&mut self.line);
                    let (text, exit) = self.run(line.trim());
                    let text = text + &std::mem::take(&mut self.err);
                    out.push_str(&text.replace('\n', "\r\n"));
                    if exit.is_some() {
                        return (out, exit);
                    }
                    out.push_str(&self.prompt());
                }
                '\u{7f}' | '\u{8}' if self.line.pop().is_some() => out.push_str("\u{8} \u{8}"),
                '\u{3}' => {
                    self.line.clear();
                    out.push_str("^C\r\n");
                    out.push_str(&self.prompt());
                }
                '\u{4}' if self.line.is_empty() => return (out, Some(self.last)),
                c if !c.is_control() => {
                    self.line.push(c);
                    out.push(c);
                }
                _ => {}
            }
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> ToyShell {
        let pod = json!({"metadata": {"name": "p-1"}, "spec": {"containers": [
            {"name": "vllm", "command": ["vllm", "serve"], "env": [
                {"name": "MODEL", "value": "llama"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}});
        ToyShell::new(&pod, "vllm")
    }

    #[test]
    fn a_terminal_session_echoes_runs_and_exits() {
        let mut s = shell();
        let (out, exit) = s.keys(b"hostnamx\x7fe\r");
        assert_eq!(exit, None);
        assert!(out.starts_with("hostnamx\u{8} \u{8}e\r\np-1\r\nroot@p-1:/# "), "{out:?}");
        let (out, exit) = s.keys(b"nope\rexit 4\r");
        assert!(out.contains("sh: 1: nope: not found"), "a terminal shows errors too: {out:?}");
        assert_eq!(exit, Some(4));
    }

    #[test]
    fn env_shows_literal_values_only_and_scripts_keep_the_last_status() {
        let mut s = shell();
        let (out, code) = s.run_script("env");
        assert!(out.contains("MODEL=llama") && !out.contains("TOKEN"), "{out}");
        assert_eq!(code, 0);
        assert_eq!(s.run_script("false").1, 1);
        assert_eq!(s.run_script("echo a; exit 3; echo b"), ("a\n".to_string(), 3));
        assert_eq!(program(&["sh".into(), "-c".into(), "command -v bash && exec bash || exec sh".into()]), None);
        assert_eq!(program(&["hostname".into()]).as_deref(), Some("hostname"));
    }
}
