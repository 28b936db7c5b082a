//! The AuthBridge sidecar's `GET :9093/stats`: approvals and denials of calls in and out of an
//! agent's pod, by host (outbound) or caller (inbound), growing as the simulated agents call
//! each other and their tools.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// A steady stream of calls the scenario makes an agent perform.
#[derive(Debug, Clone)]
pub struct Call {
    pub namespace: String,
    /// The agent (workload) whose AuthBridge sees the call.
    pub agent: String,
    pub outbound: bool,
    /// Host (outbound) or caller SPIFFE ID (inbound).
    pub peer: String,
    pub approved: bool,
    /// Calls per second, spread over the agent's running pods.
    pub rate: f64,
}

/// One pod's counters (fractions kept so slow rates still grow).
#[derive(Debug, Clone, Default)]
pub struct Counters {
    maps: [BTreeMap<String, f64>; 4],
}

const KEYS: [&str; 4] = ["inbound_approvals", "inbound_denials", "outbound_approvals", "outbound_denials"];

impl Counters {
    pub fn add(&mut self, c: &Call, n: f64) {
        let i = match (c.outbound, c.approved) {
            (false, true) => 0,
            (false, false) => 1,
            (true, true) => 2,
            (true, false) => 3,
        };
        *self.maps[i].entry(c.peer.clone()).or_default() += n;
    }

    pub fn render(&self) -> Value {
        let mut v = json!({"outbound_replace_tokens": {}});
        for (i, k) in KEYS.iter().enumerate() {
            let m: serde_json::Map<String, Value> =
                self.maps[i].iter().map(|(h, n)| (h.clone(), json!(n.floor() as u64))).collect();
            v[*k] = Value::Object(m);
        }
        v
    }
}
