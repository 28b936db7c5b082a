//! Label selectors, one module for all: a metav1.LabelSelector read from JSON (a BindingPolicy's,
//! a Deployment's), matched against labels, checked as Kubernetes' `labels.NewRequirement`
//! checks it (KubeStellar cannot use a selector it refuses: docs/upstream/kubestellar-semantics.md
//! §3), written and read in kubectl's syntax (`capability=gpu-h100,zone in (a,b),!gone`).

use std::collections::BTreeMap;

use serde::Serialize;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist` (matchLabels entries are `In` with one value).
    pub operator: String,
    pub values: Vec<String>,
}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let have = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => have.is_some_and(|v| self.values.contains(v)),
            "NotIn" => have.is_none_or(|v| !self.values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            // an operator the API server would have refused: matches nothing
            _ => false,
        }
    }
    /// Why Kubernetes' `labels.NewRequirement` refuses it (so KubeStellar cannot use the
    /// selector), or None (docs/upstream/kubestellar-semantics.md §3).
    pub fn problem(&self) -> Option<String> {
        match (self.operator.as_str(), self.values.is_empty()) {
            ("In" | "NotIn", true) => Some(format!("{}: values set can't be empty for {}", self.key, self.operator)),
            ("Exists" | "DoesNotExist", false) => {
                Some(format!("{}: values set must be empty for {}", self.key, self.operator))
            }
            ("In" | "NotIn" | "Exists" | "DoesNotExist", _) => None,
            (op, _) => Some(format!("{}: {op:?} is not a valid label selector operator", self.key)),
        }
    }
    /// `capability=gpu-h100`, `capability in (a,b)`, `!gone`.
    pub fn text(&self) -> String {
        match (self.operator.as_str(), self.values.as_slice()) {
            ("In", [one]) => format!("{}={one}", self.key),
            ("In", vs) => format!("{} in ({})", self.key, vs.join(",")),
            ("NotIn", vs) => format!("{} notin ({})", self.key, vs.join(",")),
            ("Exists", _) => self.key.clone(),
            ("DoesNotExist", _) => format!("!{}", self.key),
            (op, vs) => format!("{} {op} ({})", self.key, vs.join(",")),
        }
    }
}

/// A metav1.LabelSelector: every requirement must hold; an empty one matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selector(pub Vec<Requirement>);

impl Selector {
    /// A metav1.LabelSelector's JSON: matchLabels become `In` with one value.
    pub fn from_json(v: &serde_json::Value) -> Selector {
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
        };
        let mut reqs: Vec<Requirement> = v["matchLabels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, val)| Requirement {
                key: k.clone(),
                operator: "In".into(),
                values: vec![val.as_str().unwrap_or_default().to_string()],
            })
            .collect();
        for e in v["matchExpressions"].as_array().into_iter().flatten() {
            reqs.push(Requirement {
                key: e["key"].as_str().unwrap_or_default().to_string(),
                operator: e["operator"].as_str().unwrap_or_default().to_string(),
                values: strings(&e["values"]),
            });
        }
        Selector(reqs)
    }
    /// A selector KubeStellar cannot convert matches nothing (it is skipped, or, among
    /// clusterSelectors, stops the evaluation).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.problem().is_none() && self.0.iter().all(|r| r.matches(labels))
    }
    pub fn problem(&self) -> Option<String> {
        self.0.iter().find_map(Requirement::problem)
    }
    pub fn text(&self) -> String {
        if self.0.is_empty() {
            "{} (everything)".into()
        } else {
            self.0.iter().map(Requirement::text).collect::<Vec<_>>().join(",")
        }
    }
}

/// kubectl's label selector syntax, one selector; `|` between selectors ORs them as
/// `clusterSelectors` does. `{}` (or `*`) is the empty selector: every cluster. Empty text: no
/// selectors, which selects no cluster.
pub fn parse_selectors(text: &str) -> Result<Vec<Selector>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('|').map(parse_selector).collect()
}

fn parse_selector(text: &str) -> Result<Selector, String> {
    let text = text.trim();
    if text == "{}" || text == "*" {
        return Ok(Selector::default());
    }
    // split on commas outside parentheses
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(parse_requirement).collect::<Result<Vec<_>, _>>().map(Selector)
}

fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let t = text.trim();
    let req = |key: &str, operator: &str, values: Vec<String>| {
        let key = key.trim();
        let bad = key.is_empty() || key.contains(|c: char| c.is_whitespace() || "=!(),".contains(c));
        if bad {
            return Err(format!("{t:?}: {key:?} is not a label key"));
        }
        Ok(Requirement { key: key.to_string(), operator: operator.to_string(), values })
    };
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest.trim().strip_prefix('(').and_then(|r| r.strip_suffix(')'));
        let inner = inner.ok_or_else(|| format!("{t:?}: a set is written (a,b)"))?;
        Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
    };
    if t.is_empty() {
        return Err("an empty requirement (two commas in a row?)".into());
    }
    if let Some(key) = t.strip_prefix('!') {
        return req(key, "DoesNotExist", Vec::new());
    }
    if let Some((key, value)) = t.split_once("!=") {
        return req(key, "NotIn", vec![value.trim().to_string()]);
    }
    if let Some((key, value)) = t.split_once("==").or_else(|| t.split_once('=')) {
        return req(key, "In", vec![value.trim().to_string()]);
    }
    let words: Vec<&str> = t.splitn(2, char::is_whitespace).collect();
    match words.as_slice() {
        [key] => req(key, "Exists", Vec::new()),
        [key, rest] => {
            let rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("notin") {
                req(key, "NotIn", set(r)?)
            } else if let Some(r) = rest.strip_prefix("in") {
                req(key, "In", set(r)?)
            } else {
                Err(format!("{t:?}: expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key"))
            }
        }
        _ => Err(format!("{t:?}: cannot read")),
    }
}
