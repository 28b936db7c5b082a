//! What drill-down views show: pod rows, one pod's detail and events, a bounded log buffer.

use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, PartialEq)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: i64,
    pub created: Option<String>,
    pub node: String,
    pub gpus: u32,
    pub role: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// What metrics.k8s.io (metrics-server) measured in its last window; None where it is not
    /// served, the pod has no sample (not Running) or the sample is stale.
    pub usage: Option<PodUsage>,
    /// The sum of the containers' memory limits, when every container has one.
    pub memory_limit: Option<f64>,
    /// The containers a shell can be opened in, kubectl's default first (the one the
    /// `kubectl.kubernetes.io/default-container` annotation names, else the first).
    pub containers: Vec<String>,
    /// The ports its containers (and sidecars) declare, for a port-forward.
    pub ports: Vec<u16>,
}

/// A pod's usage as metrics-server reports it: CPU in cores, memory (working set) in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodUsage {
    pub cpu: f64,
    pub memory: f64,
}

/// What a port-forward is doing (the actions task runs it; `:pf` lists it).
#[derive(Debug, Clone, PartialEq)]
pub enum ForwardState {
    /// Listening; connections accepted so far, and the last stream's error if any.
    Listening {
        local: std::net::SocketAddr,
        connections: u64,
        error: Option<String>,
    },
    Failed(String),
}

/// Kinds `:deploy` and `:ns` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Deployments,
    Namespaces,
}

impl ObjectKind {
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Deployments => "deployments",
            ObjectKind::Namespaces => "namespaces",
        }
    }
}

/// A Deployment or Namespace as `:deploy` / `:ns` list it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectRow {
    pub namespace: String,
    pub name: String,
    /// Deployments: ready/desired; namespaces: empty.
    pub ready: String,
    pub up_to_date: Option<i64>,
    pub available: Option<i64>,
    /// Namespaces: Active, Terminating.
    pub status: String,
    pub created: Option<String>,
    /// Deployments: the pod selector as a label-selector string.
    pub selector: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    pub init: bool,
    pub state: String,
    pub ready: bool,
    pub restarts: i64,
    pub last_termination: Option<String>,
    pub requests: String,
    pub limits: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: i64,
    pub last: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodDetail {
    pub name: String,
    pub namespace: String,
    pub phase: String,
    pub node: String,
    pub ip: String,
    pub owner: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub conditions: Vec<(String, bool)>,
    pub containers: Vec<ContainerRow>,
    pub events: Vec<EventRow>,
}

/// Lines kept per log view: memory stays flat however long the stream runs.
pub const LOG_LINES_KEPT: usize = 10_000;

#[derive(Debug, Clone)]
pub struct LogBuffer {
    cap: usize,
    lines: VecDeque<String>,
    /// Lines that fell off the front.
    pub dropped: u64,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        LogBuffer { cap, lines: VecDeque::new(), dropped: 0 }
    }
    pub fn push(&mut self, line: String) {
        if self.lines.len() == self.cap {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }
    pub fn len(&self) -> usize {
        self.lines.len()
    }
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, String> {
        self.lines.iter()
    }
    pub fn capacity_bytes(&self) -> usize {
        self.lines.iter().map(|l| l.capacity()).sum::<usize>() + self.lines.capacity() * std::mem::size_of::<String>()
    }
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::new(LOG_LINES_KEPT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_lines_keep_the_buffer_at_its_cap() {
        let mut b = LogBuffer::default();
        for i in 0..1_000_000u32 {
            b.push(format!("2026-11-25T00:00:00Z line {i} of a long-running stream"));
        }
        assert_eq!(b.len(), LOG_LINES_KEPT);
        assert_eq!(b.dropped, 1_000_000 - LOG_LINES_KEPT as u64);
        assert!(b.iter().last().unwrap().contains("line 999999"));
        assert!(b.capacity_bytes() < 2 << 20, "about a megabyte, not a million lines: {}", b.capacity_bytes());
    }
}
