//! What a configured Alertmanager holds: its active alerts (the organisation's own rules, with
//! their labels, severity and `startsAt`) and its silences, as `sources/alertmanager.rs` reads
//! them through the v2 API. kst's own problems are matched against the silences.

use std::collections::BTreeMap;

use super::problems::{Kind, Object, Severity};

/// One `[[alertmanager]]` as last read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertmanagerState {
    pub url: String,
    /// None until the first answer.
    pub alerts: Option<Vec<Alert>>,
    pub silences: Option<Vec<Silence>>,
    /// Why the last read failed (down, garbage, refused).
    pub error: Option<String>,
    /// Unix seconds of the last good answer.
    pub at: Option<f64>,
}

/// An alert as Alertmanager's `GET /api/v2/alerts` gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alert {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Unix seconds.
    pub starts_at: f64,
    /// `active`, `suppressed`, `unprocessed`.
    pub state: String,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map(String::as_str).unwrap_or("alert")
    }
    pub fn severity(&self) -> Option<Severity> {
        self.labels.get("severity").and_then(|s| Severity::parse(s))
    }
    /// The cluster label, as kst's recipe and most multi-cluster setups name it.
    pub fn cluster_label(&self) -> Option<&str> {
        ["cluster", "cluster_name", "k8s_cluster"].iter().find_map(|k| self.labels.get(*k)).map(String::as_str)
    }
    pub fn namespace(&self) -> &str {
        self.labels.get("namespace").map(String::as_str).unwrap_or("")
    }
    /// What it is about: its alertname and the most specific object label it has.
    pub fn object_name(&self) -> String {
        let what = ["pod", "pool", "deployment", "node", "instance", "job", "service"]
            .iter()
            .find_map(|k| self.labels.get(*k).map(|v| format!(" {k}={v}")))
            .unwrap_or_default();
        format!("{}{what}", self.name())
    }
    /// Its summary (or description), with who silenced it when it is silenced.
    pub fn summary(&self) -> String {
        let text = ["summary", "description", "message"]
            .iter()
            .find_map(|k| self.annotations.get(*k))
            .cloned()
            .unwrap_or_else(|| self.name().to_string());
        format!("{text} (Alertmanager)")
    }
}

/// One matcher of a silence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    pub is_equal: bool,
}

impl Matcher {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        let hit = if self.is_regex {
            // Alertmanager anchors its regular expressions
            regex::Regex::new(&format!("^(?:{})$", self.value)).is_ok_and(|r| r.is_match(v))
        } else {
            v == self.value
        };
        hit == self.is_equal
    }
    /// `alertname="KVCacheHigh"`, as amtool writes it.
    pub fn text(&self) -> String {
        let op = match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        };
        format!("{}{op}\"{}\"", self.name, self.value)
    }
}

/// A silence as `GET /api/v2/silences` gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub created_by: String,
    pub comment: String,
    pub starts_at: f64,
    pub ends_at: f64,
    /// `active`, `pending`, `expired`.
    pub state: String,
}

impl Silence {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.state == "active" && !self.matchers.is_empty() && self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// The labels an alert for this problem would carry: kst's rule's alertname, its severity, the
/// cluster and the object, as `kst rules` labels them (what a silence for it matches).
pub fn labels_of(kind: &Kind, severity: Severity, context: Option<&str>, object: &Object) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("alertname".to_string(), kind.alert.to_string());
    l.insert("severity".to_string(), severity.name().to_string());
    l.insert("kst_kind".to_string(), kind.id.to_string());
    if let Some(c) = context {
        l.insert("cluster".to_string(), c.to_string());
    }
    if !object.namespace.is_empty() {
        l.insert("namespace".to_string(), object.namespace.clone());
    }
    let key = match object.kind {
        "Pod" => "pod",
        "InferencePool" => "pool",
        "ManagedCluster" => "managed_cluster",
        "GPU" => "gpu",
        _ => "object",
    };
    l.insert(key.to_string(), object.name.clone());
    l
}

/// How a silence reads beside what it silences: `silenced by alice until 05:00 UTC: known`.
pub fn silence_text(s: &Silence) -> String {
    let until = jiff::Timestamp::from_millisecond((s.ends_at * 1000.0) as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let comment = if s.comment.is_empty() { String::new() } else { format!(": {}", s.comment) };
    format!("silenced by {} until {until}{comment}", if s.created_by.is_empty() { "?" } else { &s.created_by })
}

/// The active silence of any Alertmanager that matches these labels.
pub fn silence_for<'a>(ams: &'a [AlertmanagerState], labels: &BTreeMap<String, String>) -> Option<&'a Silence> {
    ams.iter().flat_map(|a| a.silences.iter().flatten()).find(|s| s.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_as_alertmanager_reads_them() {
        let l: BTreeMap<String, String> =
            [("alertname", "LLMDKVCacheSaturation"), ("cluster", "gpu-us-east"), ("pod", "ms-decode-0")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let m = |name: &str, value: &str, is_regex, is_equal| Matcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        };
        assert!(m("cluster", "gpu-us-east", false, true).matches(&l));
        assert!(!m("cluster", "gpu", false, true).matches(&l));
        assert!(m("cluster", "gpu-.*", true, true).matches(&l));
        assert!(!m("cluster", "us", true, true).matches(&l), "anchored: a part does not match");
        assert!(m("cluster", "gpu-eu-west", false, false).matches(&l));
        assert!(m("team", "", false, true).matches(&l), "an absent label is the empty string");
        let s = Silence {
            matchers: vec![m("alertname", "LLMDKVCacheSaturation", false, true), m("cluster", "gpu-.*", true, true)],
            state: "active".into(),
            ..Default::default()
        };
        assert!(s.matches(&l));
        assert!(!Silence { state: "expired".into(), ..s.clone() }.matches(&l), "an expired silence silences nothing");
        assert_eq!(m("cluster", "gpu-.*", true, false).text(), "cluster!~\"gpu-.*\"");
    }
}
