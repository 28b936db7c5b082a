//! What `pods/exec` and `pods/portforward` share: the pod the request names, whether it asks
//! to switch to a WebSocket with a given subprotocol, and the `101` that starts the session on
//! the upgraded connection.

use std::future::Future;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::http::{error, not_found, Reply, Request};
use super::resources::ResPath;
use super::resources::PODS;
use super::SimCluster;

pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// The pod a subresource request names, or the NotFound an API server answers.
pub fn pod_of(cluster: &SimCluster, p: &ResPath) -> Result<Value, Reply> {
    let name = p.name.as_deref().unwrap_or("");
    let store = cluster.store.read().expect("store lock");
    let at = cluster.registry.index_of(&PODS).ok_or_else(|| not_found("pods", "", name))?;
    store.get(at, p.ns.as_deref().unwrap_or(""), name).map(|o| o.value()).ok_or_else(|| not_found("pods", "", name))
}

/// The request asks to switch to a WebSocket and offers `protocol` (one header may list
/// several, comma-separated, as kube-rs sends them).
pub fn offers(req: &Request, protocol: &str) -> bool {
    req.header("upgrade").eq_ignore_ascii_case("websocket")
        && req.header("sec-websocket-protocol").split(',').any(|p| p.trim() == protocol)
}

/// `101 Switching Protocols` choosing `protocol`; `session` runs on the upgraded connection.
pub fn switch<F, Fut>(req: &Request, protocol: &'static str, session: F) -> Reply
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(upgrade) = req.take_upgrade() else {
        return error(http::StatusCode::BAD_REQUEST, "Upgrade request required");
    };
    let key = req.header("sec-websocket-key").to_string();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        session(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await).await;
    });
    Reply::Switching(vec![
        ("upgrade", "websocket".into()),
        ("connection", "Upgrade".into()),
        ("sec-websocket-accept", tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes())),
        ("sec-websocket-protocol", protocol.into()),
    ])
}
