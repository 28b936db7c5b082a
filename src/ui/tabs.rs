//! The tabs, grouped as Overview; LLM-d; Kagenti.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Fleet,
    LlmD,
    Kagenti,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Serving,
    KvCache,
    Throughput,
    EppRouting,
    Benchmarks,
    MlJobs,
    Agents,
    Builds,
    McpTools,
    Discovery,
    Topology,
    Security,
    Status,
}

pub const ALL: &[Tab] = &[
    Tab::Overview,
    Tab::Serving,
    Tab::KvCache,
    Tab::Throughput,
    Tab::EppRouting,
    Tab::Benchmarks,
    Tab::MlJobs,
    Tab::Agents,
    Tab::Builds,
    Tab::McpTools,
    Tab::Discovery,
    Tab::Topology,
    Tab::Security,
    Tab::Status,
];

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Serving => "Serving",
            Tab::KvCache => "KV cache",
            Tab::Throughput => "Throughput",
            Tab::EppRouting => "EPP",
            Tab::Benchmarks => "Benchmarks",
            Tab::MlJobs => "ML jobs",
            Tab::Agents => "Agents",
            Tab::Builds => "Builds",
            Tab::McpTools => "MCP tools",
            Tab::Discovery => "Discovery",
            Tab::Topology => "Topology",
            Tab::Security => "Security",
            Tab::Status => "Status",
        }
    }

    pub fn group(self) -> Group {
        match self {
            Tab::Overview => Group::Fleet,
            Tab::Serving | Tab::KvCache | Tab::Throughput | Tab::EppRouting | Tab::Benchmarks | Tab::MlJobs => {
                Group::LlmD
            }
            _ => Group::Kagenti,
        }
    }

    /// The digit that jumps here (1-9, then 0), if any.
    pub fn digit(self) -> Option<char> {
        let i = ALL.iter().position(|t| *t == self)?;
        match i {
            0..=8 => Some((b'1' + i as u8) as char),
            9 => Some('0'),
            _ => None,
        }
    }

    pub fn from_digit(c: char) -> Option<Tab> {
        let i = match c {
            '1'..='9' => c as usize - '1' as usize,
            '0' => 9,
            _ => return None,
        };
        ALL.get(i).copied()
    }

    /// Panes with real content; kiosk rotation skips the rest.
    pub fn has_content(self) -> bool {
        matches!(
            self,
            Tab::Overview
                | Tab::Serving
                | Tab::KvCache
                | Tab::Throughput
                | Tab::EppRouting
                | Tab::Agents
                | Tab::Builds
                | Tab::Discovery
                | Tab::Status
                | Tab::McpTools
                | Tab::Topology
                | Tab::Security
                | Tab::Benchmarks
                | Tab::MlJobs
        )
    }

    pub fn index(self) -> usize {
        ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}
