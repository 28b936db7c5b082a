//! The llm-d nightly E2E matrix: guides x platforms, each cell the last runs of one nightly
//! workflow, as GitHub reports them. Pass rates, trends and streaks are computed here from the
//! runs, never invented; a cell without runs says so.

use serde::{Deserialize, Serialize};

/// What a workflow's file name says (`nightly-e2e-<guide>-<provider>-<offload>-<accel>-<engine>-<connector>.yaml`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NightlyName {
    pub guide: String,
    pub provider: String,
    pub accelerator: Option<String>,
    pub engine: Option<String>,
    pub connector: Option<String>,
}

/// Providers as the workflow names spell them; anything else is not a provider.
pub const PROVIDERS: &[&str] = &["ibm", "ocp", "cks", "gke", "amd", "intel", "kind", "aks", "eks", "nvidia"];

impl NightlyName {
    pub fn parse(file: &str) -> Option<NightlyName> {
        let base = file.rsplit('/').next()?;
        let stem = base.strip_suffix(".yaml").or_else(|| base.strip_suffix(".yml"))?;
        let rest = stem.strip_prefix("nightly-e2e-")?;
        let tokens: Vec<&str> = rest.split('-').collect();
        // the guide is everything before the first provider token (guides have hyphens too)
        let p = (1..tokens.len()).find(|i| PROVIDERS.contains(&tokens[*i]))?;
        let guide = tokens[..p].join("-");
        let tail = &tokens[p + 1..];
        // <offload>-<accel>-<engine>-<connector>, the offload part being e.g. `acc`
        let (accelerator, engine, connector) = match tail {
            [_, a, e, c, ..] => (Some(a.to_string()), Some(e.to_string()), Some(c.to_string())),
            [_, a, e] => (Some(a.to_string()), Some(e.to_string()), None),
            _ => (None, None, None),
        };
        Some(NightlyName { guide, provider: tokens[p].to_string(), accelerator, engine, connector })
    }

    /// The matrix column: the platform, as people call it.
    pub fn platform(&self) -> String {
        match self.provider.as_str() {
            "ibm" | "ocp" => "OpenShift".into(),
            "cks" => "CoreWeave".into(),
            "gke" => "GKE".into(),
            "amd" => "AMD".into(),
            "intel" => "Intel".into(),
            "kind" => "kind".into(),
            other => other.to_ascii_uppercase(),
        }
    }

    /// What tells two nightlies of one guide on one platform apart: accelerator, engine, connector.
    pub fn variant(&self) -> String {
        [&self.accelerator, &self.engine, &self.connector]
            .iter()
            .filter_map(|x| x.as_deref())
            .filter(|x| *x != "x")
            .collect::<Vec<_>>()
            .join("·")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    GpuUnavailable,
    Infra,
    Test,
    Timeout,
}

impl FailureClass {
    pub fn text(self) -> &'static str {
        match self {
            FailureClass::GpuUnavailable => "GPU unavailable",
            FailureClass::Infra => "infra/setup",
            FailureClass::Test => "test failure",
            FailureClass::Timeout => "timeout",
        }
    }

    /// From the failed step's name: GPU availability, then set-up words, else the test itself.
    pub fn of_step(step: &str) -> FailureClass {
        let s = step.to_ascii_lowercase();
        if s.contains("gpu") && s.contains("availab") {
            FailureClass::GpuUnavailable
        } else if [
            "set up",
            "setup",
            "provision",
            "deploy",
            "helm",
            "kubectl",
            "install",
            "prereq",
            "infra",
            "cluster",
            "checkout",
        ]
        .iter()
        .any(|w| s.contains(w))
        {
            FailureClass::Infra
        } else {
            FailureClass::Test
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightlyRun {
    pub id: u64,
    pub number: u64,
    /// queued | in_progress | completed
    pub status: String,
    /// success | failure | timed_out | cancelled | skipped | null while running
    pub conclusion: Option<String>,
    pub created_at: String,
    /// Seconds from start to the last update, for finished runs.
    pub duration_s: Option<i64>,
    pub url: String,
    pub failure: Option<FailureClass>,
    /// The failed step, as GitHub names it.
    pub failed_step: Option<String>,
}

impl NightlyRun {
    pub fn passed(&self) -> Option<bool> {
        match self.conclusion.as_deref() {
            Some("success") => Some(true),
            Some("failure") | Some("timed_out") => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightlyCell {
    pub name: NightlyName,
    pub workflow_file: String,
    /// Newest first.
    pub runs: Vec<NightlyRun>,
    /// From a badge when there are no runs (no API access): passing, failing, infra-error, ...
    pub badge: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Up,
    Down,
    Steady,
}

impl NightlyCell {
    fn finished(&self) -> impl Iterator<Item = bool> + '_ {
        self.runs.iter().filter_map(NightlyRun::passed)
    }

    /// Passed / finished (success, failure, timeout); cancelled and running runs do not count.
    pub fn pass_rate(&self) -> Option<f64> {
        let v: Vec<bool> = self.finished().collect();
        (!v.is_empty()).then(|| v.iter().filter(|p| **p).count() as f64 / v.len() as f64)
    }

    /// The newest 3 finished runs against the older ones; a difference under 0.1 is steady.
    pub fn trend(&self) -> Option<Trend> {
        let v: Vec<bool> = self.finished().collect();
        if v.len() < 4 {
            return None;
        }
        let rate = |s: &[bool]| s.iter().filter(|p| **p).count() as f64 / s.len() as f64;
        let d = rate(&v[..3]) - rate(&v[3..]);
        Some(if d > 0.1 {
            Trend::Up
        } else if d < -0.1 {
            Trend::Down
        } else {
            Trend::Steady
        })
    }

    /// Consecutive failures from the newest finished run back.
    pub fn failing_streak(&self) -> usize {
        self.finished().take_while(|p| !p).count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub repo: String,
    pub cells: Vec<NightlyCell>,
    /// Workflow files that start like a nightly but whose names kst could not read.
    pub unparsed: Vec<String>,
    /// When this matrix was read from GitHub (RFC 3339).
    pub fetched_at: String,
}

impl Matrix {
    /// Row keys (guide, variant) and column names, in display order.
    pub fn axes(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut rows: Vec<(String, String)> =
            self.cells.iter().map(|c| (c.name.guide.clone(), c.name.variant())).collect();
        rows.sort();
        rows.dedup();
        let order = ["OpenShift", "GKE", "CoreWeave", "AMD", "Intel"];
        let mut cols: Vec<String> = self.cells.iter().map(|c| c.name.platform()).collect();
        cols.sort_by_key(|c| (order.iter().position(|o| o == c).unwrap_or(order.len()), c.clone()));
        cols.dedup();
        (rows, cols)
    }

    pub fn cell(&self, row: &(String, String), col: &str) -> Option<&NightlyCell> {
        self.cells.iter().find(|c| c.name.guide == row.0 && c.name.variant() == row.1 && c.name.platform() == col)
    }

    /// Pass rate per platform over every finished run of its cells.
    pub fn platform_rates(&self) -> Vec<(String, Option<f64>)> {
        let (_, cols) = self.axes();
        cols.into_iter()
            .map(|col| {
                let v: Vec<bool> =
                    self.cells.iter().filter(|c| c.name.platform() == col).flat_map(|c| c.finished()).collect();
                let rate = (!v.is_empty()).then(|| v.iter().filter(|p| **p).count() as f64 / v.len() as f64);
                (col, rate)
            })
            .collect()
    }

    /// The cell failing the longest, and for how many nights.
    pub fn longest_streak(&self) -> Option<(&NightlyCell, usize)> {
        self.cells.iter().map(|c| (c, c.failing_streak())).filter(|(_, n)| *n > 0).max_by_key(|(_, n)| *n)
    }
}

/// The matrix as kst has it: fresh, or the last one kept on disk and why it is not fresh.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NightlyState {
    pub matrix: Option<Matrix>,
    /// Why the matrix shown is not fresh (offline, rate limited, ...), if it is not.
    pub stale: Option<String>,
    /// `remaining/limit` of the GitHub API quota at the last answer.
    pub quota: Option<(u64, u64)>,
    /// Where the data comes from (`GitHub API llm-d/llm-d`, `badges`).
    pub source: String,
    /// Not configured / not started: the reason (shown instead of a matrix).
    pub disabled: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_not_listed() {
        let n = NightlyName::parse("nightly-e2e-pd-disaggregation-cks-acc-gpu-vllm-nixl.yaml").unwrap();
        assert_eq!((n.guide.as_str(), n.provider.as_str()), ("pd-disaggregation", "cks"));
        assert_eq!(n.variant(), "gpu·vllm·nixl");
        assert_eq!(n.platform(), "CoreWeave");
        let old = NightlyName::parse(".github/workflows/nightly-e2e-wide-ep-lws-gke.yaml").unwrap();
        assert_eq!((old.guide.as_str(), old.provider.as_str(), old.variant().as_str()), ("wide-ep-lws", "gke", ""));
        let renamed = NightlyName::parse("nightly-e2e-precise-prefix-cache-routing-ibm-acc-gpu-vllm-x.yaml").unwrap();
        assert_eq!(renamed.guide, "precise-prefix-cache-routing");
        assert_eq!(renamed.platform(), "OpenShift");
        assert!(NightlyName::parse("nightly-e2e-experimental.yaml").is_none());
        assert_eq!(NightlyName::parse(".github/workflows/nightly-e2e-wide-ep-lws-cks.yml").unwrap().provider, "cks");
        assert!(NightlyName::parse("consolidate-status-pd.yaml").is_none());
    }

    #[test]
    fn failure_classes_from_step_names() {
        assert_eq!(FailureClass::of_step("Check GPU availability"), FailureClass::GpuUnavailable);
        assert_eq!(FailureClass::of_step("Deploy guide (helm)"), FailureClass::Infra);
        assert_eq!(FailureClass::of_step("Run benchmark"), FailureClass::Test);
    }

    #[test]
    fn rates_trends_streaks() {
        let run = |c: &str| NightlyRun {
            id: 1,
            number: 1,
            status: "completed".into(),
            conclusion: Some(c.into()),
            created_at: String::new(),
            duration_s: None,
            url: String::new(),
            failure: None,
            failed_step: None,
        };
        let cell = |cs: &[&str]| NightlyCell {
            name: NightlyName::parse("nightly-e2e-g-gke.yaml").unwrap(),
            workflow_file: String::new(),
            runs: cs.iter().map(|c| run(c)).collect(),
            badge: None,
        };
        let c = cell(&["failure", "cancelled", "failure", "success", "success", "success", "success"]);
        assert_eq!(c.pass_rate(), Some(4.0 / 6.0), "cancelled runs do not count");
        assert_eq!(c.trend(), Some(Trend::Down));
        assert_eq!(c.failing_streak(), 2);
        assert_eq!(cell(&["success"; 7]).trend(), Some(Trend::Steady));
        assert_eq!(cell(&[]).pass_rate(), None);
    }
}
