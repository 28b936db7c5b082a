//! The audit file: one JSON line per write attempt (time, context, user, via, object, from ->
//! to, result). Never a token: the user is the kubeconfig's user entry name.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// An agent's toggle: who, then the workload and its replicas before and after.
#[derive(Debug, Serialize)]
pub struct AuditLine<'a> {
    #[serde(flatten)]
    pub who: Who<'a>,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub from: i64,
    pub to: i64,
    pub result: &'a str,
}

/// The fields every audit line of a session or move starts with: when, where, as whom, how
/// reached, and what was done (flattened into each line's own struct).
#[derive(Debug, Serialize)]
pub struct Who<'a> {
    pub time: String,
    pub context: &'a str,
    /// The kubeconfig user entry whose credential was used (the hub's, through a hub's proxy).
    pub user: Option<&'a str>,
    /// How the cluster was reached when not directly: `cluster-proxy of its1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'a str>,
    pub action: &'static str,
}

pub fn default_path() -> PathBuf {
    crate::files::project_dirs()
        .map(|d| d.data_dir().join("audit.jsonl"))
        .unwrap_or_else(|| crate::files::state_dir().join("audit.jsonl"))
}

pub fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Appends one line: a toggle's `AuditLine`, or another write's own JSON (a silence).
pub fn append(path: &Path, line: &impl Serialize) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
    text.push('\n');
    f.write_all(text.as_bytes())
}
