//! Security posture of agents and tools: who each one runs as, what that ServiceAccount may do
//! (Roles and ClusterRoles bound to it), its workload identity, AuthBridge and mTLS; findings with
//! a rule and a severity (no opaque score); and drift against a saved baseline.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::kagenti::AgentInfo;
use super::tools::ToolServer;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

impl Rule {
    fn any(v: &[String]) -> bool {
        v.iter().any(|x| x == "*")
    }
    pub fn is_all(&self) -> bool {
        Rule::any(&self.api_groups) && Rule::any(&self.resources) && Rule::any(&self.verbs)
    }
    pub fn has_wildcard(&self) -> bool {
        Rule::any(&self.resources) || Rule::any(&self.verbs)
    }
    pub fn reads_secrets(&self) -> bool {
        let core = self.api_groups.iter().any(|g| g.is_empty() || g == "*");
        let secrets = self.resources.iter().any(|r| r == "secrets" || r == "*");
        let reads = self.verbs.iter().any(|v| matches!(v.as_str(), "get" | "list" | "watch" | "*"));
        core && secrets && reads
    }
    pub fn text(&self) -> String {
        let groups: Vec<String> =
            self.api_groups.iter().map(|g| if g.is_empty() { "core".to_string() } else { g.clone() }).collect();
        format!("{} on {} ({})", self.verbs.join(","), self.resources.join(","), groups.join(","))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    /// Made by the legacy Component operator (a ClusterRole and binding per component).
    pub legacy: bool,
}

impl Binding {
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
    /// Whether this binding grants to `system:serviceaccount:<ns>:<sa>`.
    pub fn binds(&self, ns: &str, sa: &str) -> bool {
        self.subjects.iter().any(|s| match s.kind.as_str() {
            "ServiceAccount" => {
                s.name == sa && s.namespace.as_deref().or(self.namespace.as_deref()).unwrap_or("") == ns
            }
            // compared piecewise: this runs for every agent x every binding, without allocating
            "Group" => {
                s.name == "system:serviceaccounts"
                    || s.name.strip_prefix("system:serviceaccounts:") == Some(ns)
                    || s.name == "system:authenticated"
            }
            "User" => s.name.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) == Some((ns, sa)),
            _ => false,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rbac {
    /// (namespace, name) -> rules
    pub roles: BTreeMap<(String, String), Vec<Rule>>,
    pub cluster_roles: BTreeMap<String, Vec<Rule>>,
    pub bindings: Vec<Binding>,
}

/// One grant to a ServiceAccount: through which binding, which role, what rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant<'a> {
    pub binding: &'a Binding,
    pub rules: Vec<Rule>,
}

impl Rbac {
    pub fn grants(&self, ns: &str, sa: &str) -> Vec<Grant<'_>> {
        self.bindings
            .iter()
            .filter(|b| b.binds(ns, sa))
            .map(|b| {
                let rules = match b.role_kind.as_str() {
                    "ClusterRole" => self.cluster_roles.get(&b.role_name).cloned(),
                    _ => self.roles.get(&(b.namespace.clone().unwrap_or_default(), b.role_name.clone())).cloned(),
                };
                Grant { binding: b, rules: rules.unwrap_or_default() }
            })
            .collect()
    }
}

/// How bad a posture finding is, on the scanners' scale (critical to info): apart from a
/// problem's `problems::Severity`, which says who must act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl FindingSeverity {
    /// Worst first.
    pub const ALL: [FindingSeverity; 5] = [
        FindingSeverity::Critical,
        FindingSeverity::High,
        FindingSeverity::Medium,
        FindingSeverity::Low,
        FindingSeverity::Info,
    ];
    pub fn name(self) -> &'static str {
        match self {
            FindingSeverity::Critical => "critical",
            FindingSeverity::High => "high",
            FindingSeverity::Medium => "medium",
            FindingSeverity::Low => "low",
            FindingSeverity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: FindingSeverity,
    /// The rule's id, e.g. `rbac.secrets`.
    pub rule: &'static str,
    /// `namespace/workload` the finding is about.
    pub subject: String,
    pub detail: String,
}

/// The rules kst checks, for the help line and the docs.
pub const RULES: &[(&str, FindingSeverity, &str)] = &[
    (
        "rbac.cluster-admin",
        FindingSeverity::Critical,
        "bound to cluster-admin or to */*/* (every verb on every resource)",
    ),
    ("rbac.secrets", FindingSeverity::High, "may read Secrets (get/list/watch)"),
    ("rbac.wildcard", FindingSeverity::High, "a rule with * in its verbs or resources"),
    ("rbac.legacy-binding", FindingSeverity::Medium, "a binding left by the legacy Component operator"),
    (
        "rbac.cluster-binding",
        FindingSeverity::Medium,
        "a ClusterRoleBinding grants cluster-wide to the workload's account",
    ),
    ("sa.default", FindingSeverity::Medium, "runs as the namespace's default ServiceAccount"),
    ("sa.shared", FindingSeverity::Low, "shares its ServiceAccount with other workloads"),
    ("identity.unbound", FindingSeverity::Medium, "no SPIFFE identity bound to the AgentCard"),
    ("identity.signature", FindingSeverity::Low, "the AgentCard's signature is not verified"),
    ("authbridge.opted-out", FindingSeverity::Medium, "AuthBridge injection disabled (kagenti.io/inject=disabled)"),
    ("mtls.disabled", FindingSeverity::High, "mTLS disabled"),
    ("mtls.permissive", FindingSeverity::Medium, "mTLS permissive (plain text accepted)"),
    ("tool.credential", FindingSeverity::Info, "the tool's registration references a credential Secret"),
];

fn finding(rule: &'static str, subject: &str, detail: String) -> Finding {
    let severity = RULES.iter().find(|r| r.0 == rule).map(|r| r.1).unwrap_or(FindingSeverity::Info);
    Finding { severity, rule, subject: subject.to_string(), detail }
}

/// Every finding for one cluster's agents and tools.
pub fn findings(agents: &[AgentInfo], rbac: Option<&Rbac>, tools: &[ToolServer]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut sa_users: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in agents {
        sa_users.entry((a.namespace.clone(), a.service_account.clone())).or_default().push(a.name.clone());
    }
    for a in agents {
        let subject = format!("{}/{}", a.namespace, a.name);
        if a.service_account == "default" {
            out.push(finding(
                "sa.default",
                &subject,
                "ServiceAccount default: permissions and identity shared with every workload in the namespace".into(),
            ));
        } else if let Some(others) = sa_users.get(&(a.namespace.clone(), a.service_account.clone())) {
            if others.len() > 1 {
                let others: Vec<&String> = others.iter().filter(|o| **o != a.name).collect();
                out.push(finding(
                    "sa.shared",
                    &subject,
                    format!("ServiceAccount {} also used by {}", a.service_account, join(&others)),
                ));
            }
        }
        if let Some(rbac) = rbac {
            for g in rbac.grants(&a.namespace, &a.service_account) {
                let via = format!("{} -> {} {}", g.binding.id(), g.binding.role_kind, g.binding.role_name);
                if g.binding.role_name == "cluster-admin" || g.rules.iter().any(Rule::is_all) {
                    out.push(finding(
                        "rbac.cluster-admin",
                        &subject,
                        format!("every verb on every resource via {via}"),
                    ));
                } else {
                    // (cluster-admin implies wildcards and Secrets: one finding, not three)
                    if let Some(r) = g.rules.iter().find(|r| r.has_wildcard()) {
                        out.push(finding("rbac.wildcard", &subject, format!("{} via {via}", r.text())));
                    }
                    if let Some(r) = g.rules.iter().find(|r| r.reads_secrets()) {
                        out.push(finding("rbac.secrets", &subject, format!("{} via {via}", r.text())));
                    }
                }
                if g.binding.legacy {
                    out.push(finding("rbac.legacy-binding", &subject, format!("{via} (legacy Component operator)")));
                }
                if g.binding.kind == "ClusterRoleBinding" {
                    out.push(finding("rbac.cluster-binding", &subject, format!("cluster-wide via {via}")));
                }
            }
        }
        if a.wtype == "agent" {
            match a.identity_bound {
                Some(false) => {
                    out.push(finding("identity.unbound", &subject, "AgentCard bindingStatus.bound is false".into()))
                }
                None => out.push(finding("identity.unbound", &subject, "no AgentCard binding status".into())),
                Some(true) => {}
            }
            if a.valid_signature == Some(false) {
                out.push(finding("identity.signature", &subject, "AgentCard validSignature is false".into()));
            }
            if a.inject_disabled {
                out.push(finding("authbridge.opted-out", &subject, "label kagenti.io/inject=disabled".into()));
            }
            match a.mtls_mode.as_deref() {
                Some("disabled") | Some("DISABLE") => {
                    out.push(finding("mtls.disabled", &subject, "AgentRuntime mtlsMode: disabled".into()))
                }
                Some("permissive") | Some("PERMISSIVE") => {
                    out.push(finding("mtls.permissive", &subject, "AgentRuntime mtlsMode: permissive".into()))
                }
                _ => {}
            }
        }
    }
    for t in tools {
        if let Some(cred) = t.registration.as_ref().and_then(|r| r.credential.as_ref()) {
            out.push(finding(
                "tool.credential",
                &format!("{}/{}", t.namespace, t.name),
                format!("credentialRef Secret {cred} (value not read)"),
            ));
        }
    }
    out.sort_by(|a, b| (a.severity, &a.subject, a.rule).cmp(&(b.severity, &b.subject, b.rule)));
    out
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// What a baseline remembers, by key: the rules each binding grants to each workload, each
/// agent's identity binding, each agent's mTLS mode.
pub type Facts = BTreeMap<String, String>;

pub fn facts(agents: &[AgentInfo], rbac: Option<&Rbac>) -> Facts {
    let mut f = Facts::new();
    for a in agents {
        let w = format!("{}/{}", a.namespace, a.name);
        if let Some(rbac) = rbac {
            for g in rbac.grants(&a.namespace, &a.service_account) {
                let rules: BTreeSet<String> = g.rules.iter().map(Rule::text).collect();
                f.insert(format!("binding {} {w}", g.binding.id()), rules.into_iter().collect::<Vec<_>>().join("; "));
            }
        }
        if a.wtype == "agent" {
            f.insert(format!("identity {w}"), if a.identity_bound == Some(true) { "bound" } else { "unbound" }.into());
            if let Some(m) = &a.mtls_mode {
                f.insert(format!("mtls {w}"), m.to_ascii_lowercase());
            }
        }
    }
    f
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// When it was taken (RFC 3339).
    pub saved: String,
    pub facts: Facts,
}

impl Baseline {
    pub fn load(path: &std::path::Path) -> Option<Baseline> {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        crate::files::write_atomic(path, &serde_json::to_vec_pretty(self).unwrap_or_default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// `new binding`, `widened binding`, `binding removed`, `new agent without identity`,
    /// `identity lost`, `mTLS relaxed`.
    pub change: &'static str,
    pub key: String,
    pub was: Option<String>,
    pub now: Option<String>,
}

fn mtls_rank(m: &str) -> u8 {
    match m {
        "strict" => 2,
        "permissive" => 1,
        _ => 0,
    }
}

/// What changed since the baseline that matters for security (tightening is not reported).
pub fn drift(baseline: &Baseline, now: &Facts) -> Vec<Drift> {
    let mut out = Vec::new();
    let d = |change, key: &str, was: Option<&String>, now: Option<&String>| Drift {
        change,
        key: key.to_string(),
        was: was.cloned(),
        now: now.cloned(),
    };
    for (k, v) in now {
        let old = baseline.facts.get(k);
        if k.starts_with("binding ") {
            match old {
                None => out.push(d("new binding", k, None, Some(v))),
                Some(o) => {
                    let before: BTreeSet<&str> = o.split("; ").collect();
                    if v.split("; ").any(|r| !before.contains(r)) {
                        out.push(d("widened binding", k, Some(o), Some(v)));
                    }
                }
            }
        } else if k.starts_with("identity ") && v == "unbound" {
            match old {
                None => out.push(d("new agent without identity", k, None, Some(v))),
                Some(o) if o == "bound" => out.push(d("identity lost", k, Some(o), Some(v))),
                _ => {}
            }
        } else if k.starts_with("mtls ") {
            if let Some(o) = old {
                if mtls_rank(v) < mtls_rank(o) {
                    out.push(d("mTLS relaxed", k, Some(o), Some(v)));
                }
            }
        }
    }
    for (k, v) in &baseline.facts {
        if k.starts_with("binding ") && !now.contains_key(k) {
            out.push(d("binding removed", k, Some(v), None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(g: &str, r: &str, v: &[&str]) -> Rule {
        Rule { api_groups: vec![g.into()], resources: vec![r.into()], verbs: v.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn rule_classes() {
        assert!(rule("*", "*", &["*"]).is_all());
        assert!(rule("", "secrets", &["get"]).reads_secrets());
        assert!(!rule("", "secrets", &["create"]).reads_secrets());
        assert!(!rule("apps", "secrets", &["get"]).reads_secrets(), "secrets live in the core group");
        assert!(rule("", "pods", &["*"]).has_wildcard());
        assert!(!rule("", "configmaps", &["get", "list"]).has_wildcard());
    }

    #[test]
    fn subjects_match_by_namespace_and_groups() {
        let b = |subjects: Vec<Subject>, ns: Option<&str>| Binding {
            kind: if ns.is_some() { "RoleBinding" } else { "ClusterRoleBinding" }.into(),
            namespace: ns.map(str::to_string),
            name: "b".into(),
            role_kind: "Role".into(),
            role_name: "r".into(),
            subjects,
            legacy: false,
        };
        let sa = |n: &str, ns: Option<&str>| Subject {
            kind: "ServiceAccount".into(),
            name: n.into(),
            namespace: ns.map(str::to_string),
        };
        assert!(
            b(vec![sa("x", None)], Some("team1")).binds("team1", "x"),
            "a RoleBinding's subject defaults to its namespace"
        );
        assert!(!b(vec![sa("x", None)], Some("team1")).binds("team2", "x"));
        assert!(b(vec![sa("default", Some("team1"))], None).binds("team1", "default"));
        let group = Subject { kind: "Group".into(), name: "system:serviceaccounts:team2".into(), namespace: None };
        assert!(b(vec![group.clone()], None).binds("team2", "anyone"));
        assert!(!b(vec![group], None).binds("team22", "anyone"));
        let user = Subject { kind: "User".into(), name: "system:serviceaccount:team1:x".into(), namespace: None };
        assert!(b(vec![user.clone()], None).binds("team1", "x"));
        assert!(!b(vec![user], None).binds("team1", "xy"));
    }

    #[test]
    fn drift_reports_widening_not_tightening() {
        let base = Baseline {
            saved: "t".into(),
            facts: Facts::from([
                ("binding RoleBinding team1/a team1/a".to_string(), "get on configmaps (core)".to_string()),
                ("mtls team1/a".to_string(), "permissive".to_string()),
                ("identity team1/a".to_string(), "bound".to_string()),
            ]),
        };
        let mut now = base.facts.clone();
        assert!(drift(&base, &now).is_empty());
        now.insert("mtls team1/a".into(), "strict".into());
        assert!(drift(&base, &now).is_empty(), "tightening is not drift");
        now.insert(
            "binding RoleBinding team1/a team1/a".into(),
            "get on configmaps (core); get on secrets (core)".into(),
        );
        now.insert("mtls team1/a".into(), "disabled".into());
        now.insert("identity team1/b".into(), "unbound".into());
        let changes: Vec<&str> = drift(&base, &now).iter().map(|d| d.change).collect();
        assert_eq!(changes, vec!["widened binding", "new agent without identity", "mTLS relaxed"]);
    }
}
