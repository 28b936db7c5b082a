//! The Tracker: problems over time. Each evaluation brings the conditions that hold and what
//! kst could not look at; the Tracker keeps each problem's start, fires it after its `for:`,
//! marks one it can no longer see *unknown* (never resolved), resolves one only when it sees the
//! condition gone, tells standing findings from incidents, and lists a problem under the one
//! that explains it (its cluster down, its critical twin), so it is counted once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Blind, Evaluation, Jump, Kind, Nature, Object, Severity, Sight};

/// How long a resolved problem stays listed.
pub const RESOLVED_KEPT_S: f64 = 600.0;
/// A finding open this long, unchanged, is standing (no longer an incident).
pub const STANDING_AFTER_S: f64 = 86_400.0;

pub(super) type TrackKey = (&'static str, Option<usize>, Object);

/// Why and since when kst cannot see a problem that was open.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    pub since: f64,
    pub why: String,
}

/// A problem as shown and reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The rule's id (`kv-decode-critical`).
    pub kind: &'static str,
    pub rule: &'static Kind,
    pub severity: Severity,
    pub cluster: Option<usize>,
    pub object: Object,
    pub reason: String,
    /// Unix seconds the condition started: the cluster's own record where it has one, else
    /// when kst first saw it.
    pub since: f64,
    /// `since` is only when kst first saw it (no record, and kst was not watching before):
    /// it started then or earlier, drawn `≥ 9s`.
    pub since_lower_bound: bool,
    /// Unix seconds it fired (held for its `for:`); None: pending.
    pub fired_at: Option<f64>,
    /// Unix seconds kst saw it cleared; None: still there (or unknown).
    pub resolved_at: Option<f64>,
    /// The rule's `for:` (unscaled).
    pub hold_s: f64,
    pub jump: Jump,
    /// kst cannot see it now: it is neither current nor resolved.
    pub unknown: Option<Unknown>,
    /// A finding that predates kst's first watch of its cluster or has held a day unchanged.
    pub standing: bool,
    /// Listed under this problem (its cluster down, its hub cluster unavailable, its critical
    /// twin on the same object), and counted there.
    pub under: Option<(&'static str, Option<usize>, Object)>,
    /// An Alertmanager silence covers it: who silenced it, until when, why. Listed, not counted.
    pub silenced: Option<String>,
}

impl Problem {
    pub fn firing(&self) -> bool {
        self.fired_at.is_some() && self.resolved_at.is_none() && self.unknown.is_none()
    }
    pub fn pending(&self) -> bool {
        self.fired_at.is_none() && self.resolved_at.is_none() && self.unknown.is_none()
    }
    pub fn resolved(&self) -> bool {
        self.resolved_at.is_some()
    }
    pub fn is_unknown(&self) -> bool {
        self.unknown.is_some() && self.resolved_at.is_none()
    }
    /// Firing, not standing, not silenced, not carried by another: what the header and
    /// `--fail-on` count.
    pub fn incident(&self) -> bool {
        self.firing() && !self.standing && self.under.is_none() && self.silenced.is_none()
    }
    /// How long it has lasted (to now, or to when it cleared).
    pub fn lasted(&self, now: f64) -> f64 {
        (self.resolved_at.unwrap_or(now) - self.since).max(0.0)
    }
    pub(super) fn key(&self) -> TrackKey {
        (self.kind, self.cluster, self.object.clone())
    }
    /// The state as one word: firing, pending, unknown, resolved.
    pub fn state(&self) -> &'static str {
        if self.resolved() {
            "resolved"
        } else if self.unknown.is_some() {
            "unknown"
        } else if self.fired_at.is_some() {
            "firing"
        } else {
            "pending"
        }
    }
}

/// Counts by severity of the problems that count (incidents): (critical, warning, info).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }
}

/// Problems over time: pending ones waiting out their `for:`, firing ones, unknown ones, and
/// those resolved in the last ten minutes.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    pub(super) open: BTreeMap<TrackKey, Problem>,
    pub(super) resolved: Vec<Problem>,
    /// Multiplies every `for:` (1 = upstream's rules). The demo shortens them so its scenario
    /// shows problems within a minute; tests do too.
    pub hold_scale: f64,
    /// How long kst must have seen a part of a cluster before a condition it finds there is
    /// taken to have started when first seen (before that, its start is a lower bound): data
    /// arrives in steps after a cluster answers (lists, then scrapes, then rates).
    pub settle_s: f64,
    /// Bumped whenever the list changes (so a pane redraws only then).
    pub generation: u64,
    /// Since when kst has seen each (cluster, sight) without a break.
    seen: HashMap<(Option<usize>, Sight), f64>,
    /// Objects kst could not see at the previous evaluation.
    blind_before: BTreeSet<(Option<usize>, Sight, Object)>,
    /// By context (`""` for the fleet): the first time kst watched it, kept across restarts.
    pub(super) first_watched: BTreeMap<String, f64>,
    /// The contexts by index, as of the last evaluation.
    pub(super) contexts: Vec<String>,
    last: Option<f64>,
}

/// The blind spots of one evaluation, indexed.
struct Blindness<'a> {
    whole: HashMap<(Option<usize>, Sight), &'a Blind>,
    objects: HashMap<(Option<usize>, Sight, &'a Object), &'a Blind>,
}

impl<'a> Blindness<'a> {
    fn new(blind: &'a [Blind]) -> Self {
        let mut b = Blindness { whole: HashMap::new(), objects: HashMap::new() };
        for x in blind {
            match &x.object {
                None => {
                    b.whole.entry((x.cluster, x.sight)).or_insert(x);
                }
                Some(o) => {
                    b.objects.entry((x.cluster, x.sight, o)).or_insert(x);
                }
            }
        }
        b
    }
    fn of(&self, cluster: Option<usize>, sight: Sight, object: &Object) -> Option<&'a Blind> {
        self.whole.get(&(cluster, sight)).or_else(|| self.objects.get(&(cluster, sight, object))).copied()
    }
}

/// Every sight a cluster has (the fleet's own are under `None`).
const CLUSTER_SIGHTS: [Sight; 9] = [
    Sight::Conn,
    Sight::Workloads,
    Sight::Metrics,
    Sight::Agents,
    Sight::Jobs,
    Sight::Placement,
    Sight::Gpus,
    Sight::Hub,
    Sight::QueryLayer,
];
const FLEET_SIGHTS: [Sight; 4] = [Sight::Conn, Sight::QueryLayer, Sight::Github, Sight::Alertmanager];

impl Tracker {
    pub fn new() -> Tracker {
        Tracker { hold_scale: 1.0, settle_s: 10.0, ..Default::default() }
    }

    fn scale(&self) -> f64 {
        if self.hold_scale > 0.0 {
            self.hold_scale
        } else {
            1.0
        }
    }

    /// The `for:` of a rule as this tracker holds it (scaled in the demo).
    pub fn hold_of(&self, p: &Problem) -> f64 {
        p.hold_s * self.scale()
    }

    /// The first time kst watched this context (None: never).
    pub fn first_watched(&self, context: &str) -> Option<f64> {
        self.first_watched.get(context).copied()
    }

    /// Takes one evaluation at `now`; true when the list changed.
    pub fn update(&mut self, now: f64, eval: Evaluation) -> bool {
        let scale = self.scale();
        let Evaluation { conditions, blind, contexts } = eval;
        let blindness = Blindness::new(&blind);
        let mut changed = false;

        let seen_before = self.look(now, contexts, &blindness);

        let mut taken: BTreeSet<TrackKey> = BTreeSet::new();
        for c in conditions {
            let key: TrackKey = (c.kind.id, c.cluster, c.object.clone());
            // one problem per key: a second condition of the same rule on the same object
            // (two of a policy's objects, say) adds nothing the first does not say
            if !taken.insert(key.clone()) {
                continue;
            }
            let record = c.started.map(|t| t.min(now));
            match self.open.get_mut(&key) {
                Some(p) => {
                    if p.reason != c.reason
                        || p.unknown.is_some()
                        || p.jump != c.jump
                        || p.severity != c.severity
                        || p.silenced != c.silenced
                    {
                        changed = true;
                        p.silenced = c.silenced;
                        p.severity = c.severity;
                        p.reason = c.reason;
                        p.unknown = None;
                        p.jump = c.jump;
                    }
                    // a record older than what kst saw is the true start
                    if let Some(t) = record.filter(|t| *t < p.since || p.since_lower_bound && *t <= p.since) {
                        let lower = c.started_lower_bound;
                        if t != p.since || p.since_lower_bound != lower {
                            changed = true;
                        }
                        p.since = t;
                        p.since_lower_bound = lower;
                    }
                }
                None => {
                    changed = true;
                    let sight = (c.cluster, c.kind.sight);
                    let watched_before = seen_before.get(&sight).is_some_and(|s| now - s >= self.settle_s)
                        && self.last.is_some()
                        && !self.blind_before.contains(&(c.cluster, c.kind.sight, c.object.clone()));
                    let (since, lower) = match record {
                        Some(t) => (t, c.started_lower_bound),
                        None => (now, !watched_before),
                    };
                    let context = c.cluster.and_then(|i| self.contexts.get(i)).map(String::as_str).unwrap_or("");
                    let first = self.first_watched.get(context).copied().unwrap_or(now);
                    // there before kst first watched its cluster (by record, or first seen in
                    // the first sight kst ever had of it)
                    let predates = match record {
                        Some(t) => t < first,
                        None => lower && seen_before.get(&sight).is_none_or(|s| *s - first <= self.settle_s),
                    };
                    self.open.insert(
                        key.clone(),
                        Problem {
                            kind: c.kind.id,
                            rule: c.kind,
                            severity: c.severity,
                            cluster: c.cluster,
                            object: c.object,
                            reason: c.reason,
                            since,
                            since_lower_bound: lower,
                            fired_at: None,
                            resolved_at: None,
                            hold_s: c.kind.for_s,
                            jump: c.jump,
                            unknown: None,
                            standing: c.kind.nature == Nature::Finding && predates,
                            under: None,
                            silenced: c.silenced,
                        },
                    );
                }
            }
            if let Some(p) = self.open.get_mut(&key) {
                let hold = p.hold_s * scale;
                if p.fired_at.is_none() && now - p.since >= hold {
                    // when a rule engine watching all along would have fired it
                    p.fired_at = Some((p.since + hold).min(now));
                    changed = true;
                }
                if !p.standing && p.rule.nature == Nature::Finding && now - p.since >= STANDING_AFTER_S {
                    p.standing = true;
                    changed = true;
                }
            }
        }

        changed |= self.close_missing(now, &taken, &blindness);
        let before = self.resolved.len();
        self.resolved.retain(|p| now - p.resolved_at.unwrap_or(now) < RESOLVED_KEPT_S);
        changed |= self.resolved.len() != before;

        changed |= self.group();
        self.blind_before = blind.into_iter().filter_map(|b| b.object.map(|o| (b.cluster, b.sight, o))).collect();
        self.last = Some(now);
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// Notes what kst sees now and since when without a break; what it saw before this look.
    fn look(
        &mut self,
        now: f64,
        contexts: Vec<String>,
        blindness: &Blindness<'_>,
    ) -> HashMap<(Option<usize>, Sight), f64> {
        let mut sights: Vec<(Option<usize>, Sight)> = FLEET_SIGHTS.iter().map(|s| (None, *s)).collect();
        for i in 0..contexts.len() {
            sights.extend(CLUSTER_SIGHTS.iter().map(|s| (Some(i), *s)));
        }
        // indices are positions in the fleet: a context list that changed shape starts over
        if self.contexts.len() > contexts.len() || self.contexts.iter().zip(&contexts).any(|(a, b)| a != b) {
            self.seen.clear();
        }
        let seen_before = self.seen.clone();
        for (c, s) in &sights {
            if blindness.whole.contains_key(&(*c, *s)) {
                self.seen.remove(&(*c, *s));
            } else {
                self.seen.entry((*c, *s)).or_insert(now);
                if *s != Sight::Conn {
                    let name = c.and_then(|i| contexts.get(i)).map(String::as_str).unwrap_or("");
                    self.first_watched.entry(name.to_string()).or_insert(now);
                }
            }
        }
        self.contexts = contexts;
        seen_before
    }

    /// Open problems without a condition now: unknown if kst cannot look, else cleared (and kept
    /// among the resolved if they had fired). True when any changed.
    fn close_missing(&mut self, now: f64, taken: &BTreeSet<TrackKey>, blindness: &Blindness<'_>) -> bool {
        let mut changed = false;
        let missing: Vec<TrackKey> = self.open.keys().filter(|k| !taken.contains(*k)).cloned().collect();
        for k in missing {
            let blind = self.open.get(&k).and_then(|p| blindness.of(p.cluster, p.rule.sight, &p.object));
            match blind {
                Some(b) => {
                    if let Some(p) = self.open.get_mut(&k) {
                        let why_changed = p.unknown.as_ref().is_none_or(|u| u.why != b.why);
                        if why_changed {
                            changed = true;
                            let since = p.unknown.as_ref().map(|u| u.since).unwrap_or(now);
                            p.unknown = Some(Unknown { since, why: b.why.clone() });
                        }
                    }
                }
                None => {
                    if let Some(mut p) = self.open.remove(&k) {
                        changed = true;
                        // a pending condition that cleared before its `for:` never was a problem
                        if p.fired_at.is_some() {
                            p.resolved_at = Some(now);
                            p.unknown = None;
                            p.under = None;
                            self.resolved.push(p);
                        }
                    }
                }
            }
        }
        changed
    }

    /// Puts each problem under the one that explains it; true when anything moved.
    fn group(&mut self) -> bool {
        // a cluster kst cannot reach: the critical problem saying so
        let mut down: HashMap<usize, TrackKey> = HashMap::new();
        // a hub cluster the hub calls unavailable, by name
        let mut unavailable: HashMap<&str, TrackKey> = HashMap::new();
        for (k, p) in &self.open {
            if p.rule.sight == Sight::Conn && p.severity == Severity::Critical && p.unknown.is_none() {
                if let Some(c) = p.cluster {
                    down.insert(c, k.clone());
                }
            }
            if p.kind == "managed-cluster-unavailable" {
                unavailable.insert(p.object.name.as_str(), k.clone());
            }
        }
        let mut parents: Vec<(TrackKey, Option<TrackKey>)> = Vec::with_capacity(self.open.len());
        for (k, p) in &self.open {
            let twin = p
                .rule
                .under
                .map(|id| (id, p.cluster, p.object.clone()))
                .filter(|t| self.open.get(t).is_some_and(|q| q.fired_at.is_some() && q.unknown.is_none()));
            let parent = if p.unknown.is_some() && p.rule.sight != Sight::Conn {
                p.cluster.and_then(|c| down.get(&c).cloned())
            } else {
                None
            }
            .or_else(|| {
                (p.object.kind == "ManagedCluster" && p.kind != "managed-cluster-unavailable")
                    .then(|| unavailable.get(p.object.name.as_str()).cloned())
                    .flatten()
            })
            .or(twin);
            parents.push((k.clone(), parent));
        }
        let mut moved = false;
        for (k, parent) in parents {
            if let Some(p) = self.open.get_mut(&k) {
                if p.under != parent {
                    p.under = parent;
                    moved = true;
                }
            }
        }
        moved
    }

    /// Every problem in the order an on-call reads them: firing incidents (worst first, then
    /// newest), pending, unknown, standing findings, then resolved (newest first); each
    /// problem carried by another right under it.
    pub fn all(&self) -> Vec<&Problem> {
        let rank = |p: &Problem| {
            if p.resolved() {
                4
            } else if p.standing || p.silenced.is_some() {
                3
            } else if p.unknown.is_some() {
                2
            } else if p.fired_at.is_none() {
                1
            } else {
                0
            }
        };
        let order = |a: &&Problem, b: &&Problem| {
            rank(a)
                .cmp(&rank(b))
                .then(a.severity.cmp(&b.severity))
                .then(b.resolved_at.unwrap_or(0.0).total_cmp(&a.resolved_at.unwrap_or(0.0)))
                .then(b.since.total_cmp(&a.since))
                .then(a.cluster.cmp(&b.cluster))
                .then(a.kind.cmp(b.kind))
                .then(a.object.cmp(&b.object))
        };
        let mut top: Vec<&Problem> = Vec::new();
        let mut children: BTreeMap<&TrackKey, Vec<&Problem>> = BTreeMap::new();
        for p in self.open.values() {
            match p.under.as_ref().filter(|k| self.open.contains_key(*k)) {
                Some(k) => children.entry(k).or_default().push(p),
                None => top.push(p),
            }
        }
        top.extend(self.resolved.iter());
        top.sort_by(order);
        let mut out = Vec::with_capacity(self.open.len() + self.resolved.len());
        for p in top {
            out.push(p);
            if p.resolved() {
                continue;
            }
            if let Some(mut kids) = children.remove(&p.key()) {
                kids.sort_by(order);
                out.extend(kids);
            }
        }
        out
    }

    /// Every open problem, in no order (for counting: `all` sorts).
    pub fn open_unordered(&self) -> impl Iterator<Item = &Problem> {
        self.open.values()
    }

    /// Firing problems (incidents, standing and carried ones alike).
    pub fn firing(&self) -> impl Iterator<Item = &Problem> {
        self.open.values().filter(|p| p.firing())
    }

    /// The problems that count: firing, not standing, not carried by another.
    pub fn incidents(&self) -> impl Iterator<Item = &Problem> {
        self.open.values().filter(|p| p.incident())
    }

    /// Open problems kst cannot see now.
    pub fn unknown(&self) -> impl Iterator<Item = &Problem> {
        self.open.values().filter(|p| p.is_unknown())
    }

    /// Standing findings that are firing.
    pub fn standing(&self) -> impl Iterator<Item = &Problem> {
        self.open.values().filter(|p| p.firing() && p.standing)
    }

    /// The fleet's incidents by severity.
    pub fn totals(&self) -> Counts {
        let mut n = Counts::default();
        for p in self.incidents() {
            n.add(p.severity);
        }
        n
    }

    /// Incidents of one cluster by severity: (critical, warning, info).
    pub fn counts(&self, cluster: usize) -> (usize, usize, usize) {
        let mut n = Counts::default();
        for p in self.incidents().filter(|p| p.cluster == Some(cluster)) {
            n.add(p.severity);
        }
        (n.critical, n.warning, n.info)
    }

    /// Incidents per cluster (critical, warning, info), for `n` clusters in one pass.
    pub fn counts_by_cluster(&self, n: usize) -> Vec<(usize, usize, usize)> {
        let mut out = vec![Counts::default(); n];
        for p in self.incidents() {
            if let Some(c) = p.cluster.and_then(|c| out.get_mut(c)) {
                c.add(p.severity);
            }
        }
        out.into_iter().map(|c| (c.critical, c.warning, c.info)).collect()
    }

    /// The worst incident, the newest of its severity (the header names it).
    pub fn worst(&self) -> Option<&Problem> {
        self.incidents().min_by(|a, b| a.severity.cmp(&b.severity).then(b.since.total_cmp(&a.since)))
    }

    /// Has every context been seen once (its connection answered or failed)? Until then the
    /// header says `connecting`, not `no problems`.
    pub fn has_looked(&self) -> bool {
        self.last.is_some()
    }
}

#[cfg(test)]
mod tests;
