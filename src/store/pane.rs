//! The panes, by name: what a problem's jump points at, what `:` commands and the snapshot call
//! them. A typed id, so a jump to a pane that does not exist is a compile error, not a silent
//! no-op.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaneId {
    Overview,
    Problems,
    Serving,
    Kv,
    Epp,
    Throughput,
    Models,
    Benchmarks,
    Jobs,
    Agents,
    Builds,
    Tools,
    Topology,
    Security,
    Discovery,
    Placement,
    Gpus,
    Status,
}

impl PaneId {
    pub const ALL: [PaneId; 18] = [
        PaneId::Overview,
        PaneId::Problems,
        PaneId::Serving,
        PaneId::Kv,
        PaneId::Epp,
        PaneId::Throughput,
        PaneId::Models,
        PaneId::Benchmarks,
        PaneId::Jobs,
        PaneId::Agents,
        PaneId::Builds,
        PaneId::Tools,
        PaneId::Topology,
        PaneId::Security,
        PaneId::Discovery,
        PaneId::Placement,
        PaneId::Gpus,
        PaneId::Status,
    ];

    /// The name commands use (`:serving`) and the snapshot writes.
    pub fn name(self) -> &'static str {
        match self {
            PaneId::Overview => "overview",
            PaneId::Problems => "problems",
            PaneId::Serving => "serving",
            PaneId::Kv => "kv",
            PaneId::Epp => "epp",
            PaneId::Throughput => "throughput",
            PaneId::Models => "models",
            PaneId::Benchmarks => "benchmarks",
            PaneId::Jobs => "jobs",
            PaneId::Agents => "agents",
            PaneId::Builds => "builds",
            PaneId::Tools => "tools",
            PaneId::Topology => "topology",
            PaneId::Security => "security",
            PaneId::Discovery => "discovery",
            PaneId::Placement => "placement",
            PaneId::Gpus => "gpus",
            PaneId::Status => "status",
        }
    }
}

impl std::fmt::Display for PaneId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PaneId {
    type Err = String;
    fn from_str(s: &str) -> Result<PaneId, String> {
        PaneId::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| format!("no pane named {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_serialize_as_written() {
        for p in PaneId::ALL {
            assert_eq!(p.name().parse::<PaneId>(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.name()));
        }
        assert!("servin".parse::<PaneId>().is_err());
    }
}
