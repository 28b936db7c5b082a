//! Label and field selectors, parsed the way the API server parses them.

use std::collections::BTreeMap;

use http::StatusCode;

use super::http::{error, Reply, Request};

#[derive(Debug, Clone, PartialEq)]
pub enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(pub Vec<Req>);

/// Splits on commas that are not inside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().map(str::trim).filter(|t| !t.is_empty()).collect()
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 316
        && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn set_values(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised set, found {rest:?}"))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for term in split_terms(s) {
            let req = if let Some(k) = term.strip_prefix('!') {
                Req::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = term.split_once("!=") {
                Req::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = term.split_once("==") {
                Req::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = term.split_once('=') {
                Req::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = term.split_once(" notin ") {
                Req::NotIn(k.trim().to_string(), set_values(rest)?)
            } else if let Some((k, rest)) = term.split_once(" in ") {
                Req::In(k.trim().to_string(), set_values(rest)?)
            } else {
                Req::Exists(term.to_string())
            };
            let key = match &req {
                Req::Eq(k, _) | Req::NotEq(k, _) | Req::In(k, _) | Req::NotIn(k, _) => k,
                Req::Exists(k) | Req::NotExists(k) => k,
            };
            if !valid_key(key) {
                return Err(format!("unable to parse requirement: invalid label key {key:?}"));
            }
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => labels.get(k) == Some(v),
            Req::NotEq(k, v) => labels.get(k) != Some(v),
            Req::In(k, vs) => labels.get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => labels.get(k).is_none_or(|x| !vs.contains(x)),
            Req::Exists(k) => labels.contains_key(k),
            Req::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Field selector: `=`, `==` and `!=` on a handful of well-known fields.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

pub const SUPPORTED_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "status.phase",
    "spec.nodeName",
    "involvedObject.name",
    "involvedObject.kind",
];

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for term in split_terms(s) {
            let (k, eq, v) = if let Some((k, v)) = term.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = term.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = term.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid field selector term {term:?}"));
            };
            let k = k.trim();
            if !SUPPORTED_FIELDS.contains(&k) {
                return Err(format!("field label not supported: {k}"));
            }
            out.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, field: impl Fn(&str) -> Option<String>) -> bool {
        self.0.iter().all(|(k, eq, v)| {
            let actual = field(k).unwrap_or_default();
            (actual == *v) == *eq
        })
    }
}

/// A request's `labelSelector` and `fieldSelector`, or the 400 the API server answers.
pub fn selectors(req: &Request) -> Result<(LabelSelector, FieldSelector), Reply> {
    let l = LabelSelector::parse(req.param("labelSelector").unwrap_or(""))
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let f = FieldSelector::parse(req.param("fieldSelector").unwrap_or(""))
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    Ok((l, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator_matches_as_the_api_server_does() {
        let l = labels(&[("llm-d.ai/role", "decode"), ("app", "vllm")]);
        let t = |s: &str| LabelSelector::parse(s).unwrap().matches(&l);
        assert!(t("llm-d.ai/role=decode"));
        assert!(t("llm-d.ai/role==decode,app=vllm"));
        assert!(!t("llm-d.ai/role!=decode"));
        assert!(t("llm-d.ai/role in (prefill, decode)"));
        assert!(!t("llm-d.ai/role notin (prefill,decode)"));
        assert!(t("missing notin (x)"));
        assert!(t("app"));
        assert!(!t("!app"));
        assert!(t("!kagenti.io/type"));
        assert!(!t("app=vllm,other"));
    }

    #[test]
    fn bad_selectors_are_errors() {
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("bad key=1").is_err());
        assert!(FieldSelector::parse("spec.unknown=1").is_err());
        assert!(FieldSelector::parse("status.phase").is_err());
    }

    #[test]
    fn field_selector_equality_and_inequality() {
        let f = FieldSelector::parse("status.phase=Running,spec.nodeName!=n1").unwrap();
        let get = |node: &'static str| {
            move |k: &str| match k {
                "status.phase" => Some("Running".to_string()),
                "spec.nodeName" => Some(node.to_string()),
                _ => None,
            }
        };
        assert!(f.matches(get("n2")));
        assert!(!f.matches(get("n1")));
    }
}
