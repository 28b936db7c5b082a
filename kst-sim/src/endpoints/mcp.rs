//! Simulated MCP tool servers: streamable HTTP at `/mcp` as the 2025-06-18 / 2025-11-25 spec
//! describes it. POST carries one JSON-RPC message; `initialize` negotiates the version (and, on
//! servers that keep sessions, issues `Mcp-Session-Id`, required afterwards: 400 without, 404 for
//! an unknown one); notifications get 202; `tools/list` pages with an opaque `nextCursor`; a
//! server answers either with `application/json` or with one SSE event; GET (no server stream)
//! gets 405; DELETE ends a session.

use std::collections::BTreeSet;

use base64::Engine;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http::{Reply, Request};

pub const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// How one simulated server behaves.
pub struct Catalogue {
    pub tools: Vec<Value>,
    pub page_size: usize,
    pub sessions: bool,
    pub sse: bool,
    /// Speaks the legacy HTTP+SSE transport (GET /sse, POST /messages/) instead.
    pub legacy: bool,
}

fn tool(name: &str, description: &str, props: &[(&str, &str, bool)], annotations: Option<Value>) -> Value {
    let properties: serde_json::Map<String, Value> =
        props.iter().map(|(n, t, _)| (n.to_string(), json!({"type": t, "title": n}))).collect();
    let required: Vec<&str> = props.iter().filter(|p| p.2).map(|p| p.0).collect();
    let mut t = json!({"name": name, "description": description,
                       "inputSchema": {"type": "object", "properties": properties, "required": required}});
    if let Some(a) = annotations {
        t["annotations"] = a;
    }
    t
}

/// The tools each simulated server offers, by workload name. `search` is on two servers: a name
/// conflict an agent given both would trip over.
pub fn catalogue(app: &str) -> Option<Catalogue> {
    let ro = Some(json!({"readOnlyHint": true}));
    match app {
        "weather-tool" => Some(Catalogue {
            tools: vec![
                tool("get_weather", "Current weather for a city", &[("city", "string", true)], ro.clone()),
                tool(
                    "get_forecast",
                    "Forecast for the next days",
                    &[("city", "string", true), ("days", "integer", false)],
                    ro.clone(),
                ),
                tool("geocode", "Coordinates of a place name", &[("query", "string", true)], ro.clone()),
                tool("search", "Search weather stations", &[("query", "string", true)], ro.clone()),
            ],
            page_size: 2,
            sessions: false,
            sse: false,
            legacy: false,
        }),
        "github-tool" => Some(Catalogue {
            tools: vec![
                tool(
                    "search",
                    "Search code and issues",
                    &[("query", "string", true), ("repo", "string", false)],
                    ro.clone(),
                ),
                tool(
                    "create_issue",
                    "Open an issue",
                    &[("repo", "string", true), ("title", "string", true), ("body", "string", false)],
                    Some(json!({"readOnlyHint": false, "destructiveHint": false, "title": "Create issue"})),
                ),
                tool(
                    "list_pull_requests",
                    "Pull requests of a repository",
                    &[("repo", "string", true), ("state", "string", false)],
                    ro.clone(),
                ),
                tool(
                    "get_file",
                    "A file's content at a ref",
                    &[("repo", "string", true), ("path", "string", true), ("ref", "string", false)],
                    ro.clone(),
                ),
                tool(
                    "merge_pull_request",
                    "Merge a pull request",
                    &[("repo", "string", true), ("number", "integer", true)],
                    Some(json!({"destructiveHint": true})),
                ),
            ],
            page_size: 3,
            sessions: true,
            sse: true,
            legacy: false,
        }),
        "slack-tool" => Some(Catalogue {
            tools: vec![
                tool(
                    "post_message",
                    "Post to a channel",
                    &[("channel", "string", true), ("text", "string", true)],
                    None,
                ),
                tool("list_channels", "Channels the bot is in", &[], ro),
            ],
            page_size: 10,
            sessions: true,
            sse: false,
            legacy: false,
        }),
        // the server that is down in the scenario (its container listens on the wrong port)
        "jira-tool" => Some(Catalogue {
            tools: vec![
                tool(
                    "create_ticket",
                    "Open a ticket",
                    &[("project", "string", true), ("summary", "string", true)],
                    None,
                ),
                tool("search_tickets", "JQL search", &[("jql", "string", true)], Some(json!({"readOnlyHint": true}))),
            ],
            page_size: 10,
            sessions: false,
            sse: false,
            legacy: false,
        }),
        // an older server on the 2024-11-05 HTTP+SSE transport
        "notes-tool" => Some(Catalogue {
            tools: vec![
                tool("add_note", "Save a note", &[("title", "string", true), ("body", "string", true)], None),
                tool(
                    "find_notes",
                    "Search saved notes",
                    &[("query", "string", true)],
                    Some(json!({"readOnlyHint": true})),
                ),
            ],
            page_size: 10,
            sessions: true,
            sse: true,
            legacy: true,
        }),
        _ => None,
    }
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn cursor_of(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("offset:{offset}"))
}

fn offset_of(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD.decode(cursor).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("offset:")?.parse().ok()
}

fn answer(cat: &Catalogue, status: StatusCode, body: &Value) -> Reply {
    if cat.sse && status == StatusCode::OK {
        let text = format!("event: message\ndata: {}\n\n", serde_json::to_string(body).unwrap_or_default());
        Reply::text(status, "text/event-stream", text)
    } else {
        Reply::json(status, body)
    }
}

/// One request to `/mcp` on a simulated tool server. `sessions` holds the ids this cluster issued.
pub fn serve(
    cat: &Catalogue,
    req: &Request,
    sessions: &mut BTreeSet<String>,
    new_id: impl FnOnce() -> String,
) -> Reply {
    let session = req.header("mcp-session-id").to_string();
    match req.method {
        Method::GET => return Reply::text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "Method Not Allowed"),
        Method::DELETE => {
            if !cat.sessions {
                return Reply::text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "Method Not Allowed");
            }
            return if sessions.remove(&session) {
                Reply::text(StatusCode::OK, "text/plain", "")
            } else {
                Reply::json(StatusCode::NOT_FOUND, &rpc_error(&Value::Null, -32001, "Session not found"))
            };
        }
        Method::POST => {}
        _ => return Reply::text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "Method Not Allowed"),
    }
    let accept = req.header("accept");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return Reply::json(
            StatusCode::NOT_ACCEPTABLE,
            &rpc_error(
                &Value::Null,
                -32600,
                "Not Acceptable: Client must accept both application/json and text/event-stream",
            ),
        );
    }
    if !req.header("content-type").starts_with("application/json") {
        return Reply::json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &rpc_error(&Value::Null, -32600, "Unsupported Media Type: Content-Type must be application/json"),
        );
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&req.body) else {
        return Reply::json(StatusCode::BAD_REQUEST, &rpc_error(&Value::Null, -32700, "Parse error"));
    };
    if !msg.is_object() || msg["jsonrpc"] != "2.0" {
        return Reply::json(StatusCode::BAD_REQUEST, &rpc_error(&Value::Null, -32600, "Invalid Request"));
    }
    let method = msg["method"].as_str().unwrap_or("");
    if method == "initialize" {
        let reply = answer(cat, StatusCode::OK, &initialize_result(&msg));
        if cat.sessions {
            let sid = new_id();
            sessions.insert(sid.clone());
            return Reply::Headed(Box::new(reply), vec![("mcp-session-id", sid)]);
        }
        return reply;
    }
    if cat.sessions {
        if session.is_empty() {
            return Reply::json(
                StatusCode::BAD_REQUEST,
                &rpc_error(&Value::Null, -32000, "Bad Request: Mcp-Session-Id header is required"),
            );
        }
        if !sessions.contains(&session) {
            return Reply::json(StatusCode::NOT_FOUND, &rpc_error(&Value::Null, -32001, "Session not found"));
        }
    }
    match answer_to(cat, &msg) {
        Some(body) => answer(cat, StatusCode::OK, &body),
        // notifications and responses from the client: accepted, nothing to say
        None => Reply::text(StatusCode::ACCEPTED, "text/plain", ""),
    }
}

/// The JSON-RPC answer to one request after `initialize` (None for notifications and responses).
fn answer_to(cat: &Catalogue, msg: &Value) -> Option<Value> {
    let method = msg["method"].as_str().unwrap_or("");
    let id = msg.get("id").cloned()?;
    if method.is_empty() {
        return None;
    }
    Some(match method {
        "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        "tools/list" => {
            let start = match msg["params"]["cursor"].as_str() {
                None => Some(0),
                Some(c) => offset_of(c).filter(|o| *o < cat.tools.len()),
            };
            match start {
                None => rpc_error(&id, -32602, "Invalid params: unknown cursor"),
                Some(start) => {
                    let end = (start + cat.page_size).min(cat.tools.len());
                    let mut result = json!({"tools": cat.tools[start..end]});
                    if end < cat.tools.len() {
                        result["nextCursor"] = json!(cursor_of(end));
                    }
                    json!({"jsonrpc": "2.0", "id": id, "result": result})
                }
            }
        }
        _ => rpc_error(&id, -32601, &format!("Method not found: {method}")),
    })
}

fn initialize_result(msg: &Value) -> Value {
    let asked = msg["params"]["protocolVersion"].as_str().unwrap_or("");
    let version = if VERSIONS.contains(&asked) { asked } else { VERSIONS[VERSIONS.len() - 1] };
    json!({"jsonrpc": "2.0", "id": msg["id"], "result": {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "kst-sim-mcp", "version": "1.0.0"}}})
}

/// Legacy HTTP+SSE, GET /sse: a stream whose first event names the session's POST endpoint;
/// every answer to a POST arrives later on this stream as a `message` event.
pub fn legacy_open(
    streams: &mut std::collections::BTreeMap<String, futures::channel::mpsc::UnboundedSender<bytes::Bytes>>,
    session: String,
) -> Reply {
    use futures::StreamExt;
    let (tx, rx) = futures::channel::mpsc::unbounded::<bytes::Bytes>();
    let first = bytes::Bytes::from(format!("event: endpoint\ndata: /messages/?session_id={session}\n\n"));
    streams.retain(|_, s| !s.is_closed());
    streams.insert(session, tx);
    let body = futures::stream::once(async move { first }).chain(rx).map(Ok::<_, std::convert::Infallible>);
    Reply::Stream { status: StatusCode::OK, content_type: "text/event-stream", body: Box::pin(body) }
}

/// Legacy HTTP+SSE, POST /messages/?session_id=…: 202 here, the answer on the session's stream.
pub fn legacy_post(
    cat: &Catalogue,
    req: &Request,
    streams: &std::collections::BTreeMap<String, futures::channel::mpsc::UnboundedSender<bytes::Bytes>>,
) -> Reply {
    let Some(stream) = req.param("session_id").and_then(|s| streams.get(s)) else {
        return Reply::text(StatusCode::NOT_FOUND, "text/plain", "Could not find session");
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&req.body) else {
        return Reply::text(StatusCode::BAD_REQUEST, "text/plain", "Could not parse message");
    };
    let out = if msg["method"] == "initialize" { Some(initialize_result(&msg)) } else { answer_to(cat, &msg) };
    if let Some(out) = out {
        let event = format!("event: message\ndata: {}\n\n", serde_json::to_string(&out).unwrap_or_default());
        let _ = stream.unbounded_send(bytes::Bytes::from(event));
    }
    Reply::text(StatusCode::ACCEPTED, "text/plain", "Accepted")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: Value, session: Option<&str>) -> Request {
        let mut headers = http::HeaderMap::new();
        headers.insert("accept", "application/json, text/event-stream".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        if let Some(s) = session {
            headers.insert("mcp-session-id", s.parse().unwrap());
        }
        Request {
            method: Method::POST,
            path: "/mcp".into(),
            query: Default::default(),
            raw_query: String::new(),
            headers,
            upgrade: Default::default(),
            body: serde_json::to_vec(&body).unwrap().into(),
        }
    }

    fn body_of(r: &Reply) -> Value {
        match r {
            Reply::Bytes { body, content_type, .. } => {
                let text = String::from_utf8_lossy(body).to_string();
                let json = if *content_type == "text/event-stream" {
                    text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("").to_string()
                } else {
                    text
                };
                serde_json::from_str(&json).unwrap_or(Value::Null)
            }
            Reply::Headed(r, _) => body_of(r),
            Reply::Stream { .. } | Reply::Switching(_) => Value::Null,
        }
    }

    #[test]
    fn sessions_are_required_once_issued_and_pages_follow_the_cursor() {
        let cat = catalogue("github-tool").unwrap();
        let mut sessions = BTreeSet::new();
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        let r = serve(&cat, &post(init, None), &mut sessions, || "s1".into());
        let Reply::Headed(_, h) = &r else { panic!("no session header") };
        assert_eq!(h[0], ("mcp-session-id", "s1".to_string()));
        assert_eq!(body_of(&r)["result"]["protocolVersion"], "2025-06-18");
        let list = |cursor: Option<&str>| {
            let mut m = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
            if let Some(c) = cursor {
                m["params"]["cursor"] = json!(c);
            }
            m
        };
        assert_eq!(
            serve(&cat, &post(list(None), None), &mut sessions, || "x".into()).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            serve(&cat, &post(list(None), Some("nope")), &mut sessions, || "x".into()).status(),
            StatusCode::NOT_FOUND
        );
        let p1 = body_of(&serve(&cat, &post(list(None), Some("s1")), &mut sessions, || "x".into()));
        assert_eq!(p1["result"]["tools"].as_array().unwrap().len(), 3);
        let next = p1["result"]["nextCursor"].as_str().unwrap().to_string();
        let p2 = body_of(&serve(&cat, &post(list(Some(&next)), Some("s1")), &mut sessions, || "x".into()));
        assert_eq!(p2["result"]["tools"].as_array().unwrap().len(), 2);
        assert!(p2["result"].get("nextCursor").is_none());
        let bad = body_of(&serve(&cat, &post(list(Some("garbage")), Some("s1")), &mut sessions, || "x".into()));
        assert_eq!(bad["error"]["code"], -32602);
    }
}
