//! kst as an MCP client: `initialize`, `notifications/initialized`, then `tools/list` following
//! `nextCursor`, with the official Rust SDK (`rmcp`). rmcp runs the protocol and the
//! streamable-HTTP transport; kst supplies only the HTTP leg, through kube's client, so a tool
//! server inside a cluster is reached through the API server's service proxy with the user's own
//! credentials (no port-forward), and a server outside is reached by the same code with a client
//! made for its URL.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use rmcp::model::{ClientJsonRpcMessage, PaginatedRequestParams, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpClientTransport, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use rmcp::ServiceExt;
use sse_stream::{Sse, SseStream};

use crate::store::tools::{ServerListing, ToolInfo};

/// A JSON response, or an SSE answer stream, larger than this is refused.
pub const MCP_MAX_BYTES: usize = 4 << 20;
/// A server that pages forever is cut off here.
const MAX_PAGES: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum HttpLegError {
    #[error("{0}")]
    Kube(String),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
}

/// The HTTP leg rmcp's transport runs on: kube's client (its base URL, TLS and auth).
#[derive(Clone)]
pub struct KubeHttp {
    client: kube::Client,
}

impl KubeHttp {
    pub fn new(client: kube::Client) -> Self {
        KubeHttp { client }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: Vec<(HeaderName, String)>,
        body: Vec<u8>,
    ) -> Result<http::Response<kube::client::Body>, StreamableHttpError<HttpLegError>> {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(k, v);
        }
        let req = b
            .body(kube::client::Body::from(body))
            .map_err(|e| StreamableHttpError::Client(HttpLegError::Kube(e.to_string())))?;
        self.client.send(req).await.map_err(|e| StreamableHttpError::Client(HttpLegError::Kube(e.to_string())))
    }
}

fn byte_stream(body: kube::client::Body) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    // a running total guards the memory: one oversized event or response ends the stream
    let mut seen = 0usize;
    body.into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(move |chunk: Bytes| {
            seen += chunk.len();
            let over = seen > MCP_MAX_BYTES;
            async move {
                if over {
                    Err(std::io::Error::other(HttpLegError::TooLarge(MCP_MAX_BYTES)))
                } else {
                    Ok(chunk)
                }
            }
        })
        .boxed()
}

async fn read_capped(body: kube::client::Body, cap: usize) -> Result<Vec<u8>, StreamableHttpError<HttpLegError>> {
    let mut out = Vec::new();
    let mut s = body.into_data_stream();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|e| StreamableHttpError::Client(HttpLegError::Kube(e.to_string())))?;
        if out.len() + chunk.len() > cap {
            return Err(StreamableHttpError::Client(HttpLegError::TooLarge(cap)));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn content_type(resp: &http::Response<kube::client::Body>) -> String {
    resp.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase()
}

/// The message a failed response carries: a Kubernetes Status's `message`, or the body's start.
fn failure_text(status: StatusCode, body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let msg = v["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string());
    if msg.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {msg}", status.as_u16())
    }
}

fn common_headers(
    session_id: Option<&str>,
    auth: Option<String>,
    custom: HashMap<HeaderName, HeaderValue>,
) -> Vec<(HeaderName, String)> {
    let mut h = Vec::new();
    if let Some(sid) = session_id {
        h.push((HeaderName::from_static("mcp-session-id"), sid.to_string()));
    }
    if let Some(a) = auth {
        h.push((http::header::AUTHORIZATION, format!("Bearer {a}")));
    }
    for (k, v) in custom {
        if let Ok(v) = v.to_str() {
            h.push((k, v.to_string()));
        }
    }
    h
}

impl StreamableHttpClient for KubeHttp {
    type Error = HttpLegError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let body = serde_json::to_vec(&message)?;
        let mut headers = common_headers(session_id.as_deref(), auth_header, custom_headers);
        headers.push((http::header::CONTENT_TYPE, "application/json".into()));
        headers.push((http::header::ACCEPT, "application/json, text/event-stream".into()));
        let resp = self.send(Method::POST, &uri, headers, body).await?;
        let status = resp.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        let sid = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        let ct = content_type(&resp);
        if !status.is_success() {
            let body = read_capped(resp.into_body(), 64 << 10).await.unwrap_or_default();
            if ct.starts_with("application/json") {
                // a JSON-RPC error is an answer, not a transport failure
                if let Ok(m @ rmcp::model::JsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                {
                    return Ok(StreamableHttpPostResponse::Json(m, sid));
                }
            }
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(failure_text(status, &body))));
        }
        let awaits_nothing = !matches!(message, ClientJsonRpcMessage::Request(_));
        if ct.starts_with("text/event-stream") {
            let stream = SseStream::from_bytes_stream(byte_stream(resp.into_body())).boxed();
            return Ok(StreamableHttpPostResponse::Sse(stream, sid));
        }
        if ct.starts_with("application/json") {
            let body = read_capped(resp.into_body(), MCP_MAX_BYTES).await?;
            return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                Ok(m) => Ok(StreamableHttpPostResponse::Json(m, sid)),
                Err(_) if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
                Err(e) => Err(StreamableHttpError::Deserialize(e)),
            };
        }
        if awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        Err(StreamableHttpError::UnexpectedContentType(Some(ct)))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        let headers = common_headers(Some(&session_id), auth_header, custom_headers);
        let resp = self.send(Method::DELETE, &uri, headers, Vec::new()).await?;
        // 405: the server keeps sessions to itself; either way the session is over for kst
        if resp.status().is_success() || resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            Ok(())
        } else {
            Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!(
                "delete session: HTTP {}",
                resp.status().as_u16()
            ))))
        }
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, sse_stream::Error>>, StreamableHttpError<Self::Error>> {
        let mut headers = common_headers(session_id.as_deref(), auth_header, custom_headers);
        headers.push((http::header::ACCEPT, "text/event-stream".into()));
        if let Some(id) = last_event_id {
            headers.push((HeaderName::from_static("last-event-id"), id));
        }
        let resp = self.send(Method::GET, &uri, headers, Vec::new()).await?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if !resp.status().is_success() {
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!(
                "open stream: HTTP {}",
                resp.status().as_u16()
            ))));
        }
        let ct = content_type(&resp);
        if !ct.starts_with("text/event-stream") {
            return Err(StreamableHttpError::UnexpectedContentType(Some(ct)));
        }
        Ok(SseStream::from_bytes_stream(byte_stream(resp.into_body())).boxed())
    }
}

/// The service-proxy path to an in-cluster MCP endpoint.
pub fn proxy_path(ns: &str, service: &str, port: u16, path: &str) -> String {
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    format!("/api/v1/namespaces/{ns}/services/http:{service}:{port}/proxy{path}")
}

/// A client and path for an MCP server outside the clusters, by URL.
pub fn direct(url: &str) -> Result<(kube::Client, String), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let base: http::Uri = format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map(|a| a.as_str()).ok_or_else(|| format!("bad URL {url}: no host"))?
    )
    .parse()
    .map_err(|e| format!("bad URL {url}: {e}"))?;
    let mut config = kube::Config::new(base);
    config.default_retry = false;
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    Ok((client, path))
}

/// Lists every tool of one MCP server at `path` (relative to the client's base URL).
pub async fn list_tools(client: kube::Client, path: &str, timeout: Duration) -> Result<ServerListing, String> {
    match tokio::time::timeout(timeout, list_inner(client, path)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer in {} s", timeout.as_secs())),
    }
}

async fn list_inner(client: kube::Client, path: &str) -> Result<ServerListing, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(path.to_string());
    config.allow_stateless = true;
    let transport = StreamableHttpClientTransport::with_client(KubeHttp::new(client), config);
    let service = ().serve(transport).await.map_err(|e| tidy(&e.to_string()))?;
    walk(service).await
}

/// `tools/list` page by page on a started session, then the session closed.
async fn walk(service: rmcp::service::RunningService<rmcp::RoleClient, ()>) -> Result<ServerListing, String> {
    let info = service.peer_info();
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0usize;
    let result = loop {
        let params = cursor.clone().map(|c| {
            let mut p = PaginatedRequestParams::default();
            p.cursor = Some(c);
            p
        });
        match service.list_tools(params).await {
            Ok(page) => {
                pages += 1;
                tools.extend(page.tools.into_iter().map(|t| ToolInfo {
                    name: t.name.to_string(),
                    title: t.title.clone().or_else(|| t.annotations.as_ref().and_then(|a| a.title.clone())),
                    description: t.description.map(|d| d.to_string()).unwrap_or_default(),
                    input_schema: serde_json::Value::Object((*t.input_schema).clone()),
                    annotations: t.annotations.as_ref().and_then(|a| serde_json::to_value(a).ok()),
                }));
                match page.next_cursor {
                    Some(next) if pages < MAX_PAGES && Some(&next) != cursor.as_ref() => cursor = Some(next),
                    _ => break Ok(()),
                }
            }
            Err(e) => break Err(tidy(&e.to_string())),
        }
    };
    let _ = service.cancel().await;
    result?;
    let (protocol, server) = match info.as_deref() {
        Some(i) => {
            (Some(i.protocol_version.to_string()), i.server_info.as_ref().map(|s| format!("{} {}", s.name, s.version)))
        }
        None => (None, None),
    };
    Ok(ServerListing { protocol, server, pages: pages as u32, tools })
}

/// rmcp nests its errors ("… error: … error: HTTP 503: …"); the innermost says what happened.
fn tidy(e: &str) -> String {
    let e = match e.find("HTTP ") {
        Some(i) => &e[i..],
        None => e,
    };
    e.replace("error trying to reach service: ", "").replace(", when send initialize request", " (initialize)")
}

/// Lists the tools of a server on the legacy HTTP+SSE transport (MCP 2024-11-05): GET the SSE
/// stream, whose first `endpoint` event names where to POST; answers come back as `message`
/// events on the stream. rmcp runs the protocol over a sink (the POSTs) and a stream (the events).
pub async fn list_tools_sse(client: kube::Client, sse_path: &str, timeout: Duration) -> Result<ServerListing, String> {
    let last_post_error = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let r = tokio::time::timeout(timeout, sse_inner(client, sse_path, last_post_error.clone())).await;
    match r {
        Ok(r) => r,
        Err(_) => Err(last_post_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_else(|| format!("no answer in {} s", timeout.as_secs()))),
    }
}

/// Where to POST, from the `endpoint` event. A path from the server's root (or an absolute
/// URL's path) goes under the same root as the SSE path, which through the service proxy is the
/// proxy prefix; a relative one sits beside the SSE path.
pub fn post_path(sse_path: &str, endpoint: &str) -> String {
    let endpoint = match endpoint.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => endpoint,
    };
    let (path, _) = sse_path.split_once('?').unwrap_or((sse_path, ""));
    if endpoint.starts_with('/') {
        let root = path.find("/proxy/").map(|i| &path[..i + "/proxy".len()]).unwrap_or("");
        format!("{root}{endpoint}")
    } else {
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{dir}/{endpoint}")
    }
}

async fn sse_inner(
    client: kube::Client,
    sse_path: &str,
    last_post_error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) -> Result<ServerListing, String> {
    let http = KubeHttp::new(client);
    let resp = http
        .send(Method::GET, sse_path, vec![(http::header::ACCEPT, "text/event-stream".into())], Vec::new())
        .await
        .map_err(|e| tidy(&e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        let body = read_capped(resp.into_body(), 64 << 10).await.unwrap_or_default();
        return Err(tidy(&failure_text(status, &body)));
    }
    let mut events = SseStream::from_bytes_stream(byte_stream(resp.into_body()));
    let endpoint = loop {
        match events.next().await {
            Some(Ok(ev)) if ev.event.as_deref() == Some("endpoint") => break ev.data.unwrap_or_default(),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("SSE stream: {e}")),
            None => return Err("the SSE stream ended before it named its endpoint".into()),
        }
    };
    let post_to = post_path(sse_path, endpoint.trim());
    let (in_tx, in_rx) = futures::channel::mpsc::unbounded::<ServerJsonRpcMessage>();
    // both tasks end with this listing, however it ends (a timeout drops this future)
    let _reader = super::AbortOnDrop(tokio::spawn(async move {
        while let Some(Ok(ev)) = events.next().await {
            if ev.event.as_deref().unwrap_or("message") != "message" {
                continue;
            }
            if let Some(m) = ev.data.as_deref().and_then(|d| serde_json::from_str::<ServerJsonRpcMessage>(d).ok()) {
                if in_tx.unbounded_send(m).is_err() {
                    break;
                }
            }
        }
    }));
    let (out_tx, mut out_rx) = futures::channel::mpsc::unbounded::<ClientJsonRpcMessage>();
    let _poster = super::AbortOnDrop(tokio::spawn(async move {
        while let Some(m) = out_rx.next().await {
            let body = serde_json::to_vec(&m).unwrap_or_default();
            let headers = vec![(http::header::CONTENT_TYPE, "application/json".to_string())];
            let failure = match http.send(Method::POST, &post_to, headers, body).await {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => {
                    let status = r.status();
                    let body = read_capped(r.into_body(), 64 << 10).await.unwrap_or_default();
                    Some(tidy(&failure_text(status, &body)))
                }
                Err(e) => Some(tidy(&e.to_string())),
            };
            if let (Some(f), Ok(mut slot)) = (failure, last_post_error.lock()) {
                *slot = Some(f);
            }
        }
    }));
    match ().serve((out_tx, in_rx)).await {
        Ok(service) => walk(service).await,
        Err(e) => Err(tidy(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::post_path;

    #[test]
    fn the_endpoint_event_is_resolved_against_the_sse_path() {
        let proxy = "/api/v1/namespaces/team1/services/http:notes-tool-mcp:8000/proxy/sse";
        assert_eq!(
            post_path(proxy, "/messages/?session_id=abc"),
            "/api/v1/namespaces/team1/services/http:notes-tool-mcp:8000/proxy/messages/?session_id=abc"
        );
        assert_eq!(post_path("/sse", "/messages/?session_id=abc"), "/messages/?session_id=abc");
        assert_eq!(post_path("/mcp/sse", "http://10.0.0.7:8000/mcp/messages?s=1"), "/mcp/messages?s=1");
        assert_eq!(post_path("/a/sse", "messages?s=1"), "/a/messages?s=1");
    }
}
