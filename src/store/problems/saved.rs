//! The Tracker's state kept in the state dir, so a restart keeps each problem's age, its
//! standing, the resolved history and when kst first watched each cluster. Written whole (a
//! temporary file renamed into place) and bounded; a file that cannot be read is ignored with
//! a log line. Keyed by context name, not index: the next run may list contexts in another
//! order.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::tracker::Problem;
use super::{Jump, Kind, Object, Tracker, Unknown};

/// At most this many problems are kept (open first, then the newest resolved).
const KEPT: usize = 5_000;
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    pub saved_at: f64,
    /// By context (`""`: the fleet): the first time kst watched it.
    pub first_watched: BTreeMap<String, f64>,
    pub problems: Vec<SavedProblem>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedProblem {
    pub kind: String,
    pub context: Option<String>,
    pub object_kind: String,
    pub namespace: String,
    pub name: String,
    pub reason: String,
    pub since: f64,
    pub since_lower_bound: bool,
    pub fired_at: Option<f64>,
    pub resolved_at: Option<f64>,
    pub standing: bool,
    pub pane: Option<String>,
    /// The row (a pane's jump), or the pod's `namespace/name` (a pod's).
    pub find: super::Find,
}

/// Names read back from a file as the `&'static str` the types hold: each distinct name is
/// kept once, so memory is bounded by the number of distinct names, not of loads.
fn intern(s: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut g = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = g.get_or_insert_with(HashSet::new);
    if let Some(n) = set.get(s) {
        return n;
    }
    let n: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(n);
    n
}

/// The tracker's state as a file holds it.
pub fn save_state(t: &Tracker, now: f64) -> Saved {
    let context = |c: Option<usize>| c.and_then(|i| t.contexts.get(i)).cloned();
    let mut problems: Vec<&Problem> = t.open.values().collect();
    let mut resolved: Vec<&Problem> = t.resolved.iter().collect();
    resolved.sort_by(|a, b| b.resolved_at.unwrap_or(0.0).total_cmp(&a.resolved_at.unwrap_or(0.0)));
    problems.extend(resolved);
    problems.truncate(KEPT);
    Saved {
        version: VERSION,
        saved_at: now,
        first_watched: t.first_watched.clone(),
        problems: problems
            .into_iter()
            .filter(|p| p.cluster.is_none() || context(p.cluster).is_some())
            .map(|p| {
                let (pane, find) = match &p.jump {
                    Jump::Pane { pane, find } => (Some(pane.name().to_string()), find.clone()),
                    Jump::Pod { namespace, name } => (None, format!("{namespace}/{name}").into()),
                };
                SavedProblem {
                    kind: p.kind.to_string(),
                    context: context(p.cluster),
                    object_kind: p.object.kind.to_string(),
                    namespace: p.object.namespace.clone(),
                    name: p.object.name.clone(),
                    reason: p.reason.clone(),
                    since: p.since,
                    since_lower_bound: p.since_lower_bound,
                    fired_at: p.fired_at,
                    resolved_at: p.resolved_at,
                    standing: p.standing,
                    pane,
                    find,
                }
            })
            .collect(),
    }
}

/// Writes the tracker's state to `path` whole (temporary file, then rename).
pub fn save(t: &Tracker, path: &Path, now: f64) -> std::io::Result<()> {
    let body = serde_json::to_vec(&save_state(t, now)).map_err(std::io::Error::other)?;
    crate::files::write_atomic(path, &body)
}

/// Reads a kept state into a fresh tracker for `contexts`: open problems come back *unknown*
/// (`kst was not running`) until kst looks again; resolved ones older than ten minutes and
/// kinds the rule table no longer has are dropped. `Err`: why the file was ignored.
pub fn load(
    t: &mut Tracker,
    path: &Path,
    contexts: &[String],
    kind: impl Fn(&str) -> Option<&'static Kind>,
    now: f64,
) -> Result<usize, String> {
    let body = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let saved: Saved = serde_json::from_slice(&body).map_err(|e| format!("{}: {e}", path.display()))?;
    if saved.version != VERSION {
        return Err(format!("{}: version {} (this kst reads {VERSION})", path.display(), saved.version));
    }
    t.first_watched = saved.first_watched;
    t.contexts = contexts.to_vec();
    let mut n = 0;
    for s in saved.problems {
        let Some(rule) = kind(&s.kind) else { continue };
        let cluster = match &s.context {
            Some(c) => match contexts.iter().position(|x| x == c) {
                Some(i) => Some(i),
                None => continue,
            },
            None => None,
        };
        if !(s.since.is_finite() && s.fired_at.is_none_or(f64::is_finite)) {
            continue;
        }
        let jump = match s.pane {
            // a pane this kst does not have (a file from another version): the problem is not
            // restored, as one of a context no longer in the kubeconfig
            Some(p) => match p.parse() {
                Ok(pane) => Jump::Pane { pane, find: s.find },
                Err(_) => continue,
            },
            None => {
                let Some(find) = s.find.name() else { continue };
                let (ns, name) = find.split_once('/').unwrap_or(("", find));
                Jump::Pod { namespace: ns.to_string(), name: name.to_string() }
            }
        };
        let mut p = Problem {
            kind: rule.id,
            rule,
            severity: rule.severity,
            cluster,
            object: Object { kind: intern(&s.object_kind), namespace: s.namespace, name: s.name },
            reason: s.reason,
            since: s.since,
            since_lower_bound: s.since_lower_bound,
            fired_at: s.fired_at,
            resolved_at: s.resolved_at,
            hold_s: rule.for_s,
            jump,
            unknown: None,
            standing: s.standing,
            under: None,
            silenced: None,
        };
        match p.resolved_at {
            Some(at) if now - at < super::RESOLVED_KEPT_S => t.resolved.push(p),
            Some(_) => continue,
            None => {
                p.unknown = Some(Unknown { since: saved.saved_at, why: "kst was not running".into() });
                t.open.insert(p.key(), p);
            }
        }
        n += 1;
    }
    t.generation += 1;
    Ok(n)
}
