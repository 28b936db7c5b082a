//! One cluster's Kagenti state as the collectors fill it, with what is derived from it (posture
//! findings, drift from the baseline, topology edges) kept beside it and recomputed when it
//! changes. Above `kagenti` (the agents as read), `tools`, `posture` and `topology`, which read
//! those types and never this one.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct KagentiCluster {
    /// None until discovery answered; Some(empty): not installed.
    pub brands: Option<Vec<super::kagenti::Brand>>,
    pub agents: Vec<super::kagenti::AgentInfo>,
    pub cards: BTreeMap<(String, String), super::kagenti::CardState>,
    pub builds: Vec<super::kagenti::BuildInfo>,
    pub platform: Option<super::kagenti::PlatformStatus>,
    /// MCP tool servers and what they listed (None until the first round).
    pub tools: Option<Vec<super::tools::ToolServer>>,
    /// AuthBridge `/stats` per agent (summed over its pods), or why not.
    pub authbridge: BTreeMap<(String, String), Result<super::topology::AuthStats, String>>,
    pub rbac: Option<super::posture::Rbac>,
    /// The posture baseline and where it is kept.
    pub baseline: Option<super::posture::Baseline>,
    pub baseline_path: Option<std::path::PathBuf>,
    /// Findings, drift and edges, derived from the above when it changes (`rederive`), not
    /// once per frame: on a cluster with thousands of bindings that is real work.
    derived: Derived,
}

#[derive(Debug, Clone, Default)]
struct Derived {
    findings: Vec<super::posture::Finding>,
    drift: Option<Vec<super::posture::Drift>>,
    edges: Vec<super::topology::Edge>,
}

impl KagentiCluster {
    /// The watchers' agents, builds and namings; true when they changed (findings, drift and
    /// edges derived again, cards of agents that are gone dropped).
    pub fn set_objects(
        &mut self,
        brands: Vec<super::kagenti::Brand>,
        agents: Vec<super::kagenti::AgentInfo>,
        builds: Vec<super::kagenti::BuildInfo>,
        cluster: usize,
    ) -> bool {
        if self.brands.as_ref() == Some(&brands) && self.agents == agents && self.builds == builds {
            return false;
        }
        self.cards.retain(|key, _| agents.iter().any(|a| a.key() == *key));
        self.brands = Some(brands);
        self.agents = agents;
        self.builds = builds;
        self.rederive(cluster);
        true
    }

    /// Sets one input of the derived findings, drift and edges; derives again when it changed.
    pub fn set_then_rederive<T: PartialEq>(
        &mut self,
        cluster: usize,
        field: impl FnOnce(&mut Self) -> &mut T,
        v: T,
    ) -> bool {
        let changed = super::set_if_changed(field(self), v);
        if changed {
            self.rederive(cluster);
        }
        changed
    }

    pub fn tool_servers(&self) -> &[super::tools::ToolServer] {
        self.tools.as_deref().unwrap_or(&[])
    }
    pub fn findings(&self) -> &[super::posture::Finding] {
        &self.derived.findings
    }
    pub fn facts(&self) -> super::posture::Facts {
        super::posture::facts(&self.agents, self.rbac.as_ref())
    }
    /// Changes since the baseline; None without one.
    pub fn drift(&self) -> Option<&[super::posture::Drift]> {
        self.derived.drift.as_deref()
    }
    pub fn edges(&self) -> &[super::topology::Edge] {
        &self.derived.edges
    }
    /// Recomputes findings, drift and edges after agents, RBAC, tools, AuthBridge stats or the
    /// baseline changed. `cluster` is this cluster's index (edges name their nodes by it).
    pub fn rederive(&mut self, cluster: usize) {
        let facts = self.facts();
        self.derived = Derived {
            findings: super::posture::findings(&self.agents, self.rbac.as_ref(), self.tool_servers()),
            drift: self.baseline.as_ref().map(|b| super::posture::drift(b, &facts)),
            edges: super::topology::edges(cluster, &self.agents, self.tool_servers(), &self.authbridge),
        };
    }
    pub fn installed(&self) -> Option<bool> {
        self.brands.as_ref().map(|b| !b.is_empty())
    }
}
