//! Request and reply types shared by the simulator's handlers, and Kubernetes `Status` bodies.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{json, Value};

pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    /// The query as sent: a key may repeat (`command=sh&command=-c`).
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The connection after a `101 Switching Protocols`, for the handler that answers one
    /// (exec); taken once.
    pub upgrade: std::sync::Mutex<Option<hyper::upgrade::OnUpgrade>>,
}

impl Request {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.param(k), Some("1" | "true" | "True"))
    }
    pub fn header(&self, k: &str) -> &str {
        self.headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// Every value of a repeated query key, in order.
    pub fn query_all(&self, k: &str) -> Vec<String> {
        self.raw_query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .filter(|(key, _)| percent_decode(key) == k)
            .map(|(_, v)| percent_decode(v))
            .collect()
    }
    pub fn take_upgrade(&self) -> Option<hyper::upgrade::OnUpgrade> {
        self.upgrade.lock().ok()?.take()
    }
    pub fn wants_table(&self) -> bool {
        self.header("accept").contains("as=Table")
    }
}

pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

pub enum Reply {
    Bytes {
        status: StatusCode,
        content_type: &'static str,
        body: Bytes,
    },
    Stream {
        status: StatusCode,
        content_type: &'static str,
        body: BodyStream,
    },
    /// A reply with extra response headers (an MCP session id).
    Headed(Box<Reply>, Vec<(&'static str, String)>),
    /// `101 Switching Protocols` with these headers; the handler serves the upgraded connection.
    Switching(Vec<(&'static str, String)>),
}

impl Reply {
    pub fn json(status: StatusCode, v: &Value) -> Reply {
        Reply::Bytes {
            status,
            content_type: "application/json",
            body: Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        }
    }
    pub fn ok(v: &Value) -> Reply {
        Reply::json(StatusCode::OK, v)
    }
    pub fn raw_json(status: StatusCode, body: Bytes) -> Reply {
        Reply::Bytes { status, content_type: "application/json", body }
    }
    pub fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
        Reply::Bytes { status, content_type, body: body.into() }
    }
    pub fn status(&self) -> StatusCode {
        match self {
            Reply::Bytes { status, .. } | Reply::Stream { status, .. } => *status,
            Reply::Headed(r, _) => r.status(),
            Reply::Switching(_) => StatusCode::SWITCHING_PROTOCOLS,
        }
    }
}

pub fn reason_for(code: StatusCode) -> &'static str {
    match code.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "AlreadyExists",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}

/// A `Status` object as the API server returns for failures.
pub fn status_value(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

pub fn error(code: StatusCode, message: impl AsRef<str>) -> Reply {
    Reply::json(code, &status_value(code, reason_for(code), message.as_ref(), None))
}

pub fn not_found(kind_plural: &str, group: &str, name: &str) -> Reply {
    let what = if group.is_empty() { kind_plural.to_string() } else { format!("{kind_plural}.{group}") };
    Reply::json(
        StatusCode::NOT_FOUND,
        &status_value(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{what} \"{name}\" not found"),
            Some(json!({"name": name, "group": group, "kind": kind_plural})),
        ),
    )
}

/// A response body: whole bytes or a stream (watches, logs).
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A `Reply` as hyper sends it.
pub fn to_response(reply: Reply) -> hyper::Response<Body> {
    if let Reply::Headed(inner, headers) = reply {
        let mut resp = to_response(*inner);
        for (k, v) in headers {
            if let Ok(v) = http::HeaderValue::from_str(&v) {
                resp.headers_mut().insert(k, v);
            }
        }
        return resp;
    }
    if let Reply::Switching(headers) = reply {
        let mut resp = hyper::Response::builder().status(http::StatusCode::SWITCHING_PROTOCOLS);
        for (k, v) in headers {
            resp = resp.header(k, v);
        }
        return resp.body(Full::new(Bytes::new()).boxed_unsync()).expect("valid response");
    }
    let (status, ct, body) = match reply {
        Reply::Bytes { status, content_type, body } => (status, content_type, Full::new(body).boxed_unsync()),
        Reply::Stream { status, content_type, body } => {
            (status, content_type, StreamBody::new(body.map(|r| r.map(Frame::data))).boxed_unsync())
        }
        Reply::Headed(..) | Reply::Switching(_) => unreachable!("answered above"),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", ct)
        .header("cache-control", "no-cache, private")
        .body(body)
        .expect("valid response")
}

/// A hyper request read whole, with its upgrade kept when it asks to switch protocols.
pub async fn read_request(mut req: hyper::Request<Incoming>) -> Request {
    // only a request asking to switch protocols keeps its connection's upgrade
    let upgrade = req.headers().contains_key(http::header::UPGRADE).then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Request {
        method: parts.method,
        path: percent_decode(parts.uri.path()),
        query: parse_query(parts.uri.query().unwrap_or("")),
        raw_query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
        upgrade: std::sync::Mutex::new(upgrade),
    }
}
