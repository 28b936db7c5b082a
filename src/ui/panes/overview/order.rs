//! The order of the cluster list. Contexts and the clusters known only through a hub are one
//! list: sorted by a column (`s` cycles the key, `S` reverses it), worst first across both;
//! from `COLLAPSE_AT` rows the healthy ones fold into one line; or grouped (`b`) by
//! ManagedClusterSet or by a label, each group one line with its counts and worst values until
//! Enter opens it. A value kst does not have sorts last whichever the direction.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::hub::HubCluster;
use crate::store::{ClusterState, Conn};
use crate::ui::component::Ctx;

/// From this many clusters, healthy ones collapse into one line.
pub const COLLAPSE_AT: usize = 100;

/// A line of the cluster list.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Row {
    Cluster(usize),
    /// A cluster seen only through a hub (index into `Listing::hubs`).
    Hub(usize),
    /// The collapsed healthy clusters, how many.
    Healthy(usize),
    /// A group's line (index into `Listing::groups`).
    Group(usize),
}

/// What the list is sorted by.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) enum SortKey {
    #[default]
    Worst,
    Name,
    GpuUtil,
    Kv,
    Tokens,
    Servers,
}

/// `s` steps through these.
pub(super) const SORT_KEYS: [SortKey; 6] =
    [SortKey::Worst, SortKey::Name, SortKey::GpuUtil, SortKey::Kv, SortKey::Tokens, SortKey::Servers];

/// The sort in force: a key and whether `S` reversed it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct Sort {
    pub key: SortKey,
    pub reversed: bool,
}

impl Sort {
    pub fn next_key(&mut self) {
        let i = SORT_KEYS.iter().position(|k| *k == self.key).unwrap_or(0);
        self.key = SORT_KEYS[(i + 1) % SORT_KEYS.len()];
        self.reversed = false;
    }

    /// For the title: what the rows are ordered by, in words.
    pub fn label(&self) -> String {
        let column = match self.key {
            SortKey::Worst => return if self.reversed { "best first" } else { "worst first" }.into(),
            SortKey::Name => return if self.reversed { "name, Z first" } else { "name" }.into(),
            SortKey::GpuUtil => "GPU UTIL",
            SortKey::Kv => "KV",
            SortKey::Tokens => "decode TOK/S",
            SortKey::Servers => "SERVERS",
        };
        format!("by {column}, {} first", if self.reversed { "lowest" } else { "highest" })
    }
}

/// How the list is grouped (`b` steps through them: none, sets, then the commonest labels).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(super) enum GroupBy {
    #[default]
    None,
    Set,
    Label(String),
}

impl GroupBy {
    pub fn label(&self) -> Option<String> {
        match self {
            GroupBy::None => None,
            GroupBy::Set => Some("grouped by ManagedClusterSet".into()),
            GroupBy::Label(k) => Some(format!("grouped by label {k}")),
        }
    }
}

/// A group's line: its members counted by state, their problems summed, their worst values.
#[derive(Debug, Default, Clone)]
pub(super) struct GroupLine {
    pub name: String,
    pub members: usize,
    pub down: usize,
    pub unknown: usize,
    pub counts: (usize, usize, usize),
    /// The worst firing problem of a member: `member: reason`.
    pub worst: Option<String>,
    pub kv_max: Option<f64>,
    pub gpu_util_max: Option<f64>,
    pub tokens: Option<f64>,
    pub servers: Option<f64>,
    /// Members whose numbers are not known now: the sums and maxima are of the others.
    pub blind: usize,
    pub open: bool,
}

/// A hub cluster's open problems (from its roll-ups and the hub): counts of the firing ones
/// and the worst one's reason.
#[derive(Default)]
pub(super) struct HubJudged {
    pub counts: (usize, usize, usize),
    pub pending: bool,
    pub worst: Option<String>,
}

/// Clusters seen only through a hub, when no single context is focused, that pass the filter:
/// positions in the fleet's one built list (`Fleet::hub_clusters`), so a frame clones none.
pub(super) struct HubRows {
    all: std::sync::Arc<Vec<HubCluster>>,
    shown: Vec<usize>,
}

impl HubRows {
    pub fn len(&self) -> usize {
        self.shown.len()
    }
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }
}

impl std::ops::Index<usize> for HubRows {
    type Output = HubCluster;
    fn index(&self, i: usize) -> &Self::Output {
        &self.all[self.shown[i]]
    }
}

/// Everything one frame or key needs of the list, built once.
pub(super) struct Listing<'a> {
    pub rows: Vec<Row>,
    /// Firing problems per context: critical, warning, info.
    pub counts: Vec<(usize, usize, usize)>,
    pub hubs: HubRows,
    pub judged: HashMap<&'a str, HubJudged>,
    pub groups: Vec<GroupLine>,
    /// Clusters listed (folded and grouped ones included, each once).
    pub clusters: usize,
}

impl Listing<'_> {
    /// The selection's key of each row (a context's name; a hub cluster's and a group's marked
    /// so none can collide with a context).
    pub fn keys(&self, cx: &Ctx) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| match r {
                Row::Cluster(i) => cx.cluster(*i).context.clone(),
                Row::Hub(i) => hub_row_key(&self.hubs[*i].name),
                Row::Healthy(_) => "\u{1}healthy".to_string(),
                Row::Group(g) => format!("\u{3}{}", self.groups[*g].name),
            })
            .collect()
    }
}

/// How bad a context is, for sorting worst first: firing problems by severity, then its state.
fn badness(c: &ClusterState, counts: (usize, usize, usize)) -> (usize, usize, usize, u8) {
    let state = match c.conn {
        Conn::Unreachable { .. } | Conn::AuthFailed(_) | Conn::ConfigError(_) => 3,
        Conn::Degraded(_) | Conn::Slow(_) => 2,
        Conn::Connecting => 1,
        Conn::Live => 0,
    };
    (counts.0, counts.1, counts.2, state)
}

/// The open problems of clusters seen only through a hub, by name, and which contexts have a
/// pending problem: one pass over the open problems (the Overview is drawn on every change).
fn open_problems<'a>(cx: &Ctx<'a>) -> (HashMap<&'a str, HubJudged>, Vec<bool>) {
    use crate::store::problems::Severity as S;
    let mut hubs: HashMap<&str, HubJudged> = Default::default();
    let mut pending = vec![false; cx.fleet.clusters.len()];
    // the worst firing one's reason per hub cluster: the worst severity, then the newest
    let mut worst: HashMap<&str, (S, f64)> = Default::default();
    for p in cx.fleet.problems.open_unordered() {
        if p.pending() {
            if let Some(c) = p.cluster.and_then(|c| pending.get_mut(c)) {
                *c = true;
            }
        }
        if p.object.kind != "ManagedCluster" || p.resolved() || p.is_unknown() {
            continue;
        }
        let name = p.object.name.as_str();
        let j = hubs.entry(name).or_default();
        if p.firing() {
            match p.severity {
                S::Critical => j.counts.0 += 1,
                S::Warning => j.counts.1 += 1,
                S::Info => j.counts.2 += 1,
            }
            let rank = (p.severity, -p.since);
            if worst.get(name).is_none_or(|w| rank.0 < w.0 || (rank.0 == w.0 && rank.1 < w.1)) {
                worst.insert(name, rank);
                j.worst = Some(p.reason.clone());
            }
        } else {
            j.pending = true;
        }
    }
    (hubs, pending)
}

fn hub_rows(cx: &Ctx) -> HubRows {
    let all = cx.fleet.hub_clusters();
    let shown = if cx.focus.is_some() {
        Vec::new()
    } else if cx.filter.is_empty() {
        (0..all.len()).collect()
    } else {
        // the name alone (so `^edge-0001$` finds it), or with its sets (a set's name finds its members)
        (0..all.len())
            .filter(|i| {
                let h = &all[*i];
                cx.matches_filter(&h.name) || cx.matches_filter(&format!("{} {}", h.name, h.sets.join(" ")))
            })
            .collect()
    };
    HubRows { all, shown }
}

/// Whether a hub cluster's roll-up is current (`ClusterAgg::current`: kst's limit, or the
/// layer's own pace when slower).
pub(super) fn current(cx: &Ctx, m: &crate::store::hub::ClusterAgg) -> bool {
    m.current(cx.now(), cx.fleet.metrics.hide_after)
}

/// The contexts shown: the focused one, or every one that passes the filter.
pub fn visible_rows(cx: &Ctx) -> Vec<usize> {
    cx.fleet
        .clusters
        .iter()
        .enumerate()
        .filter(|(i, c)| cx.focus.is_none_or(|f| f == *i) && cx.matches_filter(&c.context))
        .map(|(i, _)| i)
        .collect()
}

/// What a row is sorted and grouped by.
struct Facts<'a> {
    name: &'a str,
    bad: (usize, usize, usize, u8),
    healthy: bool,
    gpu_util: Option<f64>,
    kv: Option<f64>,
    tokens: Option<f64>,
    servers: Option<f64>,
    /// Its numbers are not known now though it has some to know (down, or no current series
    /// in the query layer): a group's sums leave it out and say so.
    blind: bool,
    sets: Vec<&'a str>,
    labels: Option<&'a BTreeMap<String, String>>,
    worst: Option<String>,
}

impl Facts<'_> {
    fn value(&self, key: SortKey) -> Option<f64> {
        match key {
            SortKey::GpuUtil => self.gpu_util,
            SortKey::Kv => self.kv,
            SortKey::Tokens => self.tokens,
            SortKey::Servers => self.servers,
            SortKey::Worst | SortKey::Name => None,
        }
    }
}

/// `a` before `b`? Worst and numbers descend, names ascend; `S` reverses; unknown numbers last.
fn compare(sort: Sort, a: &Facts, b: &Facts) -> Ordering {
    let flip = |o: Ordering| if sort.reversed { o.reverse() } else { o };
    match sort.key {
        SortKey::Worst => flip(b.bad.cmp(&a.bad)),
        SortKey::Name => flip(a.name.cmp(b.name)),
        key => match (a.value(key), b.value(key)) {
            (Some(x), Some(y)) => flip(y.total_cmp(&x)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    }
}

/// A context's facts; `worst` its worst incident, `grouping` whether its sets and labels are
/// needed, `numbers` whether its numbers are (a numeric sort, or groups' worst values): the
/// Overview is drawn on every change, and worst first needs none of them.
fn context_facts<'a>(
    cx: &Ctx<'a>,
    i: usize,
    counts: (usize, usize, usize),
    pending: bool,
    worst: Option<&crate::store::problems::Problem>,
    grouping: bool,
    numbers: bool,
) -> Facts<'a> {
    let c = cx.cluster(i);
    let now = cx.now();
    let bad = badness(c, counts);
    // a context that is also a hub's ManagedCluster: its sets and labels from the hub
    let managed = cx.fleet.clusters.iter().filter(|_| grouping).find_map(|h| {
        let m = h.placement.managed.as_ref()?.iter().find(|m| m.name == c.context)?;
        let sets: Vec<&str> =
            h.placement.sets.iter().flatten().filter(|s| s.contains(m)).map(|s| s.name.as_str()).collect();
        Some((sets, &m.labels))
    });
    let (sets, labels) = managed.map(|(s, l)| (s, Some(l))).unwrap_or_default();
    let name = cx.display_name(&c.context);
    // the object named as the row's DETAIL names it (a hub's problem is about its ManagedCluster)
    let worst = worst.map(|p| match p.object.kind {
        "Cluster" => format!("{name}: {}", p.reason),
        _ => format!("{name} {}: {}", p.object.path(), p.reason),
    });
    let mut f = Facts {
        name,
        bad,
        healthy: matches!(c.conn, Conn::Live) && counts == (0, 0, 0) && !pending,
        gpu_util: None,
        kv: None,
        tokens: None,
        servers: None,
        blind: false,
        sets,
        labels: labels.map(|l| &**l),
        worst,
    };
    if !numbers {
        return f;
    }
    if c.undialed.is_some() {
        match cx.fleet.prom_clusters.get(&c.context) {
            Some(m) => {
                (f.gpu_util, f.kv, f.tokens, f.servers) = (m.gpu_util, m.kv_max, m.generation_tokens_per_s, m.servers)
            }
            None => f.blind = !cx.fleet.prom.is_empty(),
        }
        return f;
    }
    f.blind = !c.conn.reachable();
    let l = c.llmd.totals(&cx.reading());
    f.gpu_util = crate::store::gpus::summary(&c.gpus, now).util_avg;
    f.kv = l.kv_decode_max.or(l.kv_prefill_max);
    f.tokens = l.decode_tps;
    if c.llmd.installed == Some(true) {
        f.servers = Some((l.prefill_total + l.decode_total) as f64);
    }
    f
}

/// Whether a hub cluster is up, fresh and without an open problem: the rows the fold hides.
fn hub_healthy(cx: &Ctx, h: &HubCluster, j: Option<&HubJudged>) -> bool {
    h.healthy(cx.now(), cx.fleet.metrics.hide_after) && j.is_none()
}

/// A hub cluster's facts; its sets only when `grouping` (ten thousand small vectors a frame
/// otherwise).
fn hub_facts<'a>(cx: &Ctx, h: &'a HubCluster, j: Option<&HubJudged>, grouping: bool) -> Facts<'a> {
    let now = cx.now();
    let counts = j.map(|j| j.counts).unwrap_or_default();
    let fresh = h.healthy(now, cx.fleet.metrics.hide_after);
    let state = match h.available {
        Some(false) => 3,
        None => 2,
        Some(true) if !fresh => 1,
        Some(true) => 0,
    };
    let m = h.metrics.as_ref();
    Facts {
        name: &h.name,
        bad: (counts.0, counts.1, counts.2, state),
        healthy: fresh && j.is_none(),
        gpu_util: m.and_then(|m| m.gpu_util),
        kv: m.and_then(|m| m.kv_max),
        tokens: m.and_then(|m| m.generation_tokens_per_s),
        servers: m.and_then(|m| m.servers),
        // a query layer configured, and no current series of it there
        blind: !cx.fleet.prom.is_empty() && !m.is_some_and(|m| current(cx, m)),
        sets: if grouping { h.sets.iter().map(String::as_str).collect() } else { Vec::new() },
        labels: Some(&*h.labels),
        worst: match (j.and_then(|j| j.worst.as_ref()), h.available) {
            (Some(w), _) => Some(format!("{}: {w}", h.name)),
            (None, Some(false)) => Some(format!("{}: {}", h.name, h.why.as_deref().unwrap_or("not Available"))),
            _ => None,
        },
    }
}

/// The groups a row belongs to under `by`.
fn groups_of(f: &Facts, by: &GroupBy) -> Vec<String> {
    match by {
        GroupBy::None => Vec::new(),
        GroupBy::Set => {
            // `global` holds every cluster: a cluster is listed under it only when in no other
            let named: Vec<String> = f.sets.iter().filter(|s| **s != "global").map(|s| s.to_string()).collect();
            if !named.is_empty() {
                named
            } else if f.sets.is_empty() {
                vec!["(no set)".into()]
            } else {
                vec!["global".into()]
            }
        }
        GroupBy::Label(k) => {
            vec![f.labels.and_then(|l| l.get(k)).cloned().unwrap_or_else(|| format!("(no {k})"))]
        }
    }
}

/// The ways the list can be grouped now: none, by set when a hub has sets, and by each label
/// that groups (held by more than one cluster with fewer values than clusters), commonest
/// first, four at most.
pub(super) fn groupings(cx: &Ctx) -> Vec<GroupBy> {
    let hubs = cx.fleet.hub_clusters();
    let mut out = vec![GroupBy::None];
    let managed = cx.fleet.clusters.iter().flat_map(|h| h.placement.managed.iter().flatten());
    if cx.fleet.clusters.iter().any(|h| h.placement.sets.as_ref().is_some_and(|s| !s.is_empty())) {
        out.push(GroupBy::Set);
    }
    let mut values: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let labels = hubs.iter().map(|h| &h.labels).chain(managed.map(|m| &m.labels));
    for l in labels {
        // the exclusive set label is what grouping by set shows already
        for (k, v) in l.iter().filter(|(k, _)| *k != crate::store::placement::CLUSTERSET_LABEL) {
            let e = values.entry(k.as_str()).or_default();
            e.0 += 1;
            e.1.insert(v.as_str());
        }
    }
    let mut keys: Vec<(&str, usize)> = values
        .into_iter()
        .filter(|(_, (n, vals))| *n > 1 && vals.len() < *n && vals.len() > 1)
        .map(|(k, (n, _))| (k, n))
        .collect();
    keys.sort_by_key(|(k, n)| (std::cmp::Reverse(*n), *k));
    out.extend(keys.into_iter().take(4).map(|(k, _)| GroupBy::Label(k.to_string())));
    out
}

/// Each context's worst firing problem: the worst severity, the newest of it (a fresh outage
/// before a standing one).
pub(super) fn worst_by_cluster<'a>(cx: &Ctx<'a>) -> Vec<Option<&'a crate::store::problems::Problem>> {
    let mut worst: Vec<Option<&crate::store::problems::Problem>> = vec![None; cx.fleet.clusters.len()];
    for p in cx.fleet.problems.incidents() {
        if let Some(w) = p.cluster.and_then(|c| worst.get_mut(c)) {
            if w.is_none_or(|w| (p.severity, -p.since) < (w.severity, -w.since)) {
                *w = Some(p);
            }
        }
    }
    worst
}

/// The list in the order and grouping asked: contexts and hub clusters together.
pub(super) fn listing<'a>(
    cx: &Ctx<'a>,
    sort: Sort,
    expanded: bool,
    by: &GroupBy,
    open: &BTreeSet<String>,
) -> Listing<'a> {
    let n = cx.fleet.clusters.len();
    let counts = cx.fleet.problems.counts_by_cluster(n);
    let hubs = hub_rows(cx);
    let (judged, pending) = open_problems(cx);
    let worst = worst_by_cluster(cx);
    let grouping = *by != GroupBy::None;
    let numbers = grouping || !matches!(sort.key, SortKey::Worst | SortKey::Name);
    let mut facts: Vec<(Row, Facts)> = visible_rows(cx)
        .into_iter()
        .map(|i| (Row::Cluster(i), context_facts(cx, i, counts[i], pending[i], worst[i], grouping, numbers)))
        .collect();
    let total = n + if cx.focus.is_none() { cx.fleet.hub_clusters().len() } else { 0 };
    let collapse = !grouping && !expanded && total >= COLLAPSE_AT && cx.focus.is_none() && cx.filter.is_empty();
    // the facts borrow from this handle, so `hubs` itself can go into the listing
    let all = hubs.all.clone();
    // a healthy hub cluster the fold hides is counted, not built into facts and sorted: at
    // 10,000 ManagedClusters that was most of a frame
    let mut folded_hubs = 0;
    for (i, at) in hubs.shown.iter().enumerate() {
        let h = &all[*at];
        let j = judged.get(h.name.as_str());
        if collapse && hub_healthy(cx, h, j) {
            folded_hubs += 1;
            continue;
        }
        facts.push((Row::Hub(i), hub_facts(cx, h, j, grouping)));
    }
    // stable: equal rows keep the config's order, then the hub's (by name)
    facts.sort_by(|a, b| compare(sort, &a.1, &b.1));
    if grouping {
        let (rows, groups) = grouped(&facts, sort, by, open);
        return Listing { rows, counts, hubs, judged, groups, clusters: facts.len() };
    }
    let mut rows: Vec<Row> = facts.iter().filter(|(_, f)| !(collapse && f.healthy)).map(|(r, _)| *r).collect();
    let folded = facts.len() - rows.len() + folded_hubs;
    if folded > 0 {
        rows.push(Row::Healthy(folded));
    }
    Listing { rows, counts, hubs, judged, groups: Vec::new(), clusters: facts.len() + folded_hubs }
}

/// Groups in the sort's order (by their worst member, their name, or their worst value), each
/// followed by its members when open.
fn grouped(facts: &[(Row, Facts)], sort: Sort, by: &GroupBy, open: &BTreeSet<String>) -> (Vec<Row>, Vec<GroupLine>) {
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, f)) in facts.iter().enumerate() {
        for g in groups_of(f, by) {
            members.entry(g).or_default().push(i);
        }
    }
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    let sum = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    };
    let mut lines: Vec<(GroupLine, Facts, Vec<usize>)> = members
        .into_iter()
        .map(|(name, idx)| {
            let mut g = GroupLine { open: open.contains(&name), members: idx.len(), ..Default::default() };
            let mut bad = (0, 0, 0, 0);
            for &i in &idx {
                let f = &facts[i].1;
                g.counts = (g.counts.0 + f.bad.0, g.counts.1 + f.bad.1, g.counts.2 + f.bad.2);
                bad.3 = bad.3.max(f.bad.3);
                match (facts[i].0, f.bad.3) {
                    (_, 3) => g.down += 1,
                    (Row::Hub(_), 2) => g.unknown += 1,
                    _ => {}
                }
                g.kv_max = max(g.kv_max, f.kv);
                g.gpu_util_max = max(g.gpu_util_max, f.gpu_util);
                g.tokens = sum(g.tokens, f.tokens);
                g.servers = sum(g.servers, f.servers);
                g.blind += f.blind as usize;
            }
            // members are in the sort's order already: the first with a problem is the worst
            g.worst = idx.iter().find_map(|i| facts[*i].1.worst.clone());
            (bad.0, bad.1, bad.2) = g.counts;
            g.name = name;
            let agg = Facts {
                name: "",
                bad,
                healthy: false,
                gpu_util: g.gpu_util_max,
                kv: g.kv_max,
                tokens: g.tokens,
                servers: g.servers,
                blind: g.blind > 0,
                sets: Vec::new(),
                labels: None,
                worst: None,
            };
            (g, agg, idx)
        })
        .collect();
    // by name: the group's name (the aggregate has none)
    if sort.key == SortKey::Name {
        lines.sort_by(|a, b| if sort.reversed { b.0.name.cmp(&a.0.name) } else { a.0.name.cmp(&b.0.name) });
    } else {
        lines.sort_by(|a, b| compare(sort, &a.1, &b.1));
    }
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    for (gi, (g, _, idx)) in lines.into_iter().enumerate() {
        rows.push(Row::Group(gi));
        if g.open {
            rows.extend(idx.iter().map(|i| facts[*i].0));
        }
        groups.push(g);
    }
    (rows, groups)
}

/// A hub cluster's row key: its name behind a mark no context name holds, so a hub cluster and
/// a context of the same name are two rows.
pub fn hub_row_key(name: &str) -> String {
    format!("\u{2}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str, bad: u8, kv: Option<f64>) -> Facts<'_> {
        Facts {
            name,
            bad: (0, 0, 0, bad),
            healthy: bad == 0,
            gpu_util: None,
            kv,
            tokens: None,
            servers: None,
            blind: false,
            sets: Vec::new(),
            labels: None,
            worst: None,
        }
    }

    #[test]
    fn unknown_values_sort_last_either_way_and_s_reverses_the_rest() {
        let rows = [facts("a", 0, Some(0.2)), facts("b", 3, None), facts("c", 0, Some(0.9))];
        let order = |sort: Sort| {
            let mut v: Vec<&Facts> = rows.iter().collect();
            v.sort_by(|a, b| compare(sort, a, b));
            v.iter().map(|f| f.name).collect::<String>()
        };
        assert_eq!(order(Sort { key: SortKey::Kv, reversed: false }), "cab");
        assert_eq!(order(Sort { key: SortKey::Kv, reversed: true }), "acb");
        assert_eq!(order(Sort { key: SortKey::Worst, reversed: false }), "bac");
        assert_eq!(order(Sort { key: SortKey::Name, reversed: true }), "cba");
        let mut s = Sort { key: SortKey::Servers, reversed: true };
        s.next_key();
        assert_eq!(s, Sort::default(), "cycling wraps to worst first, not reversed");
        assert_eq!(Sort { key: SortKey::Kv, reversed: true }.label(), "by KV, lowest first");
    }
}
