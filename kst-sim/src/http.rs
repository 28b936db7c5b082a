//! Request and reply types shared by the simulator's handlers, and Kubernetes `Status` bodies.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;
use http::{HeaderMap, Method, StatusCode};
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
