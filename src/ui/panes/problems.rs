//! Problems: incidents first (firing, worst then newest), then pending ones waiting out their
//! rule's `for:`, then those kst cannot see now (unknown, with why and since when), then
//! standing findings, then those resolved in the last ten minutes with how long they lasted. A
//! problem carried by another (its cluster down, its critical twin) sits right under it.
//! Enter goes to the source: the pod, or the pane and row.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::problems::{Jump, Problem, Severity};
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::fmt;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Problems {
    list: ListState,
}

/// The problems shown: of the visible clusters (fleet-wide ones always), through the filter.
pub fn rows<'a>(cx: &Ctx<'a>) -> Vec<&'a Problem> {
    cx.fleet
        .problems
        .all()
        .into_iter()
        .filter(|p| p.cluster.is_none_or(|c| cx.focus.is_none_or(|f| f == c)))
        .filter(|p| {
            cx.keep(|| {
                format!(
                    "{} {} {} {} {} {} {}",
                    context(cx, p),
                    p.severity.name(),
                    p.kind,
                    p.rule.alert,
                    p.object.path(),
                    p.reason,
                    p.state()
                )
            })
        })
        .collect()
}

fn context<'a>(cx: &Ctx<'a>, p: &Problem) -> &'a str {
    p.cluster.map(|c| cx.cluster(c).context.as_str()).unwrap_or("")
}

fn keys(cx: &Ctx, rows: &[&Problem]) -> Vec<String> {
    rows.iter()
        .map(|p| {
            let state = if p.resolved() { format!("resolved@{}", p.resolved_at.unwrap_or(0.0)) } else { "open".into() };
            format!("{}/{}/{}/{}/{state}", context(cx, p), p.kind, p.object.kind, p.object.path())
        })
        .collect()
}

fn severity_style(cx: &Ctx, s: Severity) -> ratatui::style::Style {
    match s {
        Severity::Critical => cx.theme.crit,
        Severity::Warning => cx.theme.warn,
        Severity::Info => cx.theme.muted,
    }
}

/// Where Enter on a problem leads.
fn jump(cx: &Ctx, p: &Problem) -> Outcome {
    match (&p.jump, p.cluster) {
        (Jump::Pod { namespace, name }, Some(cluster)) => Outcome::Open(
            crate::sources::views::ViewSpec::Pod { cluster, namespace: namespace.clone(), name: name.clone() },
            format!("{} pod", cx.qualified(cluster, name)),
        ),
        (Jump::Pane { pane, find }, _) => {
            Outcome::Goto { pane: *pane, context: context(cx, p).to_string(), find: find.clone(), filter: None }
        }
        (Jump::Pod { .. }, None) => Outcome::Handled,
    }
}

/// A silence for this problem: an Alertmanager alert by its own labels (in the Alertmanager it
/// came from), a kst problem by the labels `kst rules` gives it (in the first configured).
fn silence(cx: &Ctx, p: &Problem) -> Outcome {
    use crate::store::alerts::Matcher;
    let ams = &cx.fleet.alertmanagers;
    let Some(first) = ams.first() else {
        return Outcome::Flash("no [[alertmanager]] in the config: nowhere to create a silence".into());
    };
    if p.resolved() {
        return Outcome::Flash("it is resolved: nothing to silence".into());
    }
    let from_am = match &p.jump {
        Jump::Pane { pane: PaneId::Problems, find } if p.kind == "alertmanager" => {
            ams.iter().enumerate().find_map(|(i, a)| {
                a.alerts.iter().flatten().find(|x| find.name() == Some(&x.fingerprint)).map(|x| (i, x.labels.clone()))
            })
        }
        _ => None,
    };
    let (am, labels) = match from_am {
        Some(found) => found,
        None => (
            0,
            crate::store::alerts::labels_of(
                p.rule,
                p.severity,
                Some(context(cx, p)).filter(|c| !c.is_empty()),
                &p.object,
            ),
        ),
    };
    // the identifying labels: not the severity or kst's own kind, which are not the alert's identity
    let matchers = labels
        .into_iter()
        .filter(|(k, _)| k != "severity" && k != "kst_kind")
        .map(|(name, value)| Matcher { name, value, is_regex: false, is_equal: true })
        .collect();
    let at = p.cluster.map(|c| cx.display_name(&cx.cluster(c).context)).unwrap_or("fleet");
    Outcome::Write(crate::ui::component::Write::Silence(crate::ui::silence::SilenceAsk {
        am,
        url: ams.get(am).map(|a| a.url.clone()).unwrap_or_else(|| first.url.clone()),
        what: format!("{} ({}) on {at} {} {}: {}", p.kind, p.rule.alert, p.object.kind, p.object.path(), p.reason),
        matchers,
    }))
}

/// How long ago `t` was, `≥` when kst only knows a lower bound.
fn age(now: f64, t: f64, lower_bound: bool) -> String {
    format!("{}{}", if lower_bound { "≥" } else { "" }, fmt::duration((now - t).max(0.0) as i64))
}

/// A problem's state in words (wide screens) or as a symbol with its time (narrow ones).
/// What is wrong, then (for an unknown one) why kst cannot see it, or who silenced it.
fn problem_text(p: &Problem) -> String {
    match (&p.unknown, &p.silenced) {
        (Some(u), _) if !p.resolved() => format!("{} · unseen: {}", p.reason, u.why),
        (_, Some(s)) => format!("{} · {s}", p.reason),
        _ => p.reason.clone(),
    }
}

/// Compact, never cut (the AGE column says when it ended; the PROBLEM text why it is unknown
/// or who silenced it).
fn state_text(cx: &Ctx, p: &Problem, now: f64, short: bool) -> String {
    let hold = fmt::duration(cx.fleet.problems.hold_of(p) as i64);
    if p.resolved_at.is_some() {
        let lasted = fmt::duration(p.lasted(now) as i64);
        return if short { format!("✓ {lasted}") } else { format!("resolved, lasted {lasted}") };
    }
    if let Some(u) = &p.unknown {
        let since = fmt::duration((now - u.since).max(0.0) as i64);
        return if short { format!("? {since}") } else { format!("unknown {since}") };
    }
    if p.silenced.is_some() {
        return if short { "⊘".into() } else { "silenced".into() };
    }
    if p.fired_at.is_none() {
        let held = fmt::duration((now - p.since).max(0.0) as i64);
        return if short { format!("◌ {held}/{hold}") } else { format!("pending {held}/{hold}") };
    }
    match (p.standing, short) {
        (true, true) => "≡".into(),
        (true, false) => "standing".into(),
        (false, true) => "●".into(),
        (false, false) => "firing".into(),
    }
}

impl Pane for Problems {
    fn id(&self) -> PaneId {
        PaneId::Problems
    }
    fn title(&self) -> &'static str {
        "Problems"
    }
    fn short_title(&self) -> &'static str {
        "Prob"
    }
    fn group(&self) -> Group {
        Group::Fleet
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["triage", "alerts"]
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(context, find);
        true
    }
    /// Never rotated to: the wall screen lists the problems above the rotating pane.
    fn has_data(&self, _fleet: &crate::store::Fleet) -> bool {
        false
    }
}

impl Component for Problems {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("✖ ! i", "critical · warning · info"),
            ("● firing", "held for its rule's for: · an incident, counted in the header"),
            ("◌ pending 40s/5m", "the condition holds; it fires after its rule's for: (as Prometheus does)"),
            (
                "? unknown 3m",
                "kst cannot see it now (cluster down, forbidden, metrics old): not resolved; why and since when",
            ),
            ("≡ standing", "a finding there before kst first watched its cluster, or unchanged a day: not counted"),
            ("✓ resolved 5s", "seen cleared; listed 10 minutes with how long it lasted (dimmed)"),
            ("⊘ silenced", "an Alertmanager silence (or inhibition) covers it: who, until when, why; not counted"),
            ("└", "carried by the problem above (its cluster down, its critical twin): counted there"),
            ("AGE", "since it started by the cluster's own record; ≥ when kst only saw it first"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "go to its source: the pod, or its pane and row"),
            Hint::action(Action::Silence, "silence").writes(),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let list = rows(cx);
        let keys = keys(cx, &list);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        match action {
            Some(Action::Select) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| list.get(i)) {
                    Some(p) => jump(cx, p),
                    None => Outcome::Handled,
                }
            }
            Some(Action::Silence) => {
                self.list.sync(&keys);
                match self.list.selected().and_then(|i| list.get(i)) {
                    Some(p) => silence(cx, p),
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = rows(cx);
        self.list.sync(&keys(cx, &list));
        list.get(self.list.selected()?).map(|p| format!("{} {}: {}", p.object.kind, p.object.path(), p.reason))
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let now = cx.now();
        let list = rows(cx);
        let [summary_area, table_area, detail_area] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(4), Constraint::Length(2)]).areas(area);

        // counts: incidents by severity, then what is not counted there
        let incidents: Vec<&&Problem> = list.iter().filter(|p| p.incident()).collect();
        let count = |s: Severity| incidents.iter().filter(|p| p.severity == s).count();
        let pending = list.iter().filter(|p| p.pending() && !p.standing).count();
        let unknown = list.iter().filter(|p| p.is_unknown()).count();
        let standing = list.iter().filter(|p| p.firing() && p.standing).count();
        let resolved = list.iter().filter(|p| p.resolved()).count();
        let silenced = list.iter().filter(|p| p.firing() && p.silenced.is_some()).count();
        let mut head = Vec::new();
        for s in [Severity::Critical, Severity::Warning, Severity::Info] {
            let n = count(s);
            head.push(Span::styled(
                format!("{} {n} {}  ", s.mark(), s.name()),
                if n > 0 { severity_style(cx, s) } else { t.muted },
            ));
        }
        head.push(Span::styled(
            format!(
                "· {unknown} unknown · {pending} pending · {standing} standing{} · {resolved} resolved in 10m",
                if silenced > 0 { format!(" · {silenced} silenced") } else { String::new() }
            ),
            t.muted,
        ));
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for p in &incidents {
            match kinds.iter_mut().find(|(k, _)| *k == p.kind) {
                Some(k) => k.1 += 1,
                None => kinds.push((p.kind, 1)),
            }
        }
        let by_kind = if kinds.is_empty() {
            "no incident firing".to_string()
        } else {
            kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(" · ")
        };
        f.render_widget(
            Paragraph::new(vec![Line::from(head), Line::from(Span::styled(by_kind, t.muted))]),
            summary_area,
        );

        // narrow screens: the PROBLEM text gets the width, the state is a symbol
        let short = table_area.width < 150;
        let cols = vec![
            Col::whole("SEV"),
            Col::name("CLUSTER").min(8).hidden_if(cx.focus.is_some()),
            Col::text("KIND").min(4).optional(3),
            Col::name("OBJECT").min(12),
            // what is wrong gets the width before the names are whole (they are cut in the middle)
            Col::text("PROBLEM").min((table_area.width as f32 * if short { 0.45 } else { 0.35 }) as u16),
            Col::whole("STATE"),
            Col::whole("AGE"),
        ];
        let mut table = DataTable::new(
            format!(
                " Problems ({} firing) · incidents first: worst, then newest · Enter: its source ",
                incidents.len()
            ),
            cols,
        );
        table.empty = "no problems on the visible clusters".into();
        for p in &list {
            let dim = p.resolved() || p.is_unknown() || p.standing || p.silenced.is_some();
            let sev = if dim { t.muted } else { severity_style(cx, p.severity) };
            let since = match (p.resolved_at, &p.unknown) {
                (Some(end), _) => format!("{} ago", fmt::duration((now - end).max(0.0) as i64)),
                _ => age(now, p.since, p.since_lower_bound),
            };
            let object = if p.under.is_some() { format!("└ {}", p.object.path()) } else { p.object.path() };
            table.rows.push(vec![
                cell(
                    if short {
                        p.severity.mark().to_string()
                    } else {
                        format!("{} {}", p.severity.mark(), &p.severity.name()[..4])
                    },
                    sev,
                ),
                cell_ref(
                    p.cluster.map(|c| cx.display_name(&cx.cluster(c).context)).unwrap_or("fleet"),
                    if dim { t.muted } else { t.text },
                ),
                cell_ref(p.object.kind, t.muted),
                cell(object, if dim { t.muted } else { t.text }),
                cell(problem_text(p), if p.incident() { sev } else { t.muted }),
                cell(state_text(cx, p, now, short), if p.firing() && !p.standing { sev } else { t.muted }),
                cell(since, if dim { t.muted } else { t.text }),
            ]);
        }
        self.list.sync(&keys(cx, &list));
        // the rows a short list leaves (a big screen) hold the selected problem in full
        let (table_area, full_area) = split_below(table_area, (list.len() as u16 + 3).max(6), FULL_MIN);
        table.draw(f, table_area, &mut self.list, t);
        if let (Some(area), Some(p)) = (full_area, self.list.selected().and_then(|i| list.get(i))) {
            let at = p.cluster.map(|c| cx.display_name(&cx.cluster(c).context)).unwrap_or("fleet");
            let title = format!("{} {} on {at}", p.severity.mark(), p.kind);
            detail::draw(f, area, &title, in_full(cx, p, &list, now), t);
        }
        // the selected problem whole, whatever the columns' widths
        if let Some(p) = self.list.selected().and_then(|i| list.get(i)) {
            let at = p.cluster.map(|c| cx.display_name(&cx.cluster(c).context)).unwrap_or("fleet");
            let line = Line::from(vec![
                Span::styled(
                    format!("{} {} ({}) ", p.severity.mark(), p.kind, p.rule.alert),
                    severity_style(cx, p.severity),
                ),
                Span::styled(format!("{at} {} {}: ", p.object.kind, p.object.path()), t.text),
                Span::styled(problem_text(p), t.muted),
                Span::styled(
                    format!(" · {} · since {}", state_text(cx, p, now, false), age(now, p.since, p.since_lower_bound)),
                    t.muted,
                ),
            ]);
            f.render_widget(Paragraph::new(line).wrap(ratatui::widgets::Wrap { trim: true }), detail_area);
        }
    }
}

/// The rows the selected problem in full wants before it is drawn under the list.
const FULL_MIN: u16 = 8;

/// The selected problem in full: what and where, its state with the times an on-call acts on,
/// the rule that raised it (when it fires, its `for:`, where it comes from, its PromQL), what it
/// carries or what carries it, and what else is open on the same cluster.
fn in_full(cx: &Ctx, p: &Problem, all: &[&Problem], now: f64) -> Vec<Line<'static>> {
    let t = cx.theme;
    let ago = |at: f64| fmt::duration((now - at).max(0.0) as i64);
    let at =
        |c: Option<usize>| c.map(|c| cx.display_name(&cx.cluster(c).context).to_string()).unwrap_or("fleet".into());
    let sev = if p.incident() { severity_style(cx, p.severity) } else { t.muted };
    let mut out = vec![detail::field(t, "what", p.reason.clone(), sev)];
    let goes = match &p.jump {
        Jump::Pod { .. } if p.cluster.is_some() => "Enter opens the pod".to_string(),
        Jump::Pane { pane, .. } => format!("Enter goes to its row in {}", pane.name()),
        Jump::Pod { .. } => String::new(),
    };
    out.push(detail::text(t, "object", format!("{} {} on {} · {goes}", p.object.kind, p.object.path(), at(p.cluster))));
    let started = if p.since_lower_bound {
        format!("started ≥{} ago (when kst first saw it: the cluster keeps no record of it)", ago(p.since))
    } else {
        format!("started {} ago (the cluster's own record)", ago(p.since))
    };
    let hold = cx.fleet.problems.hold_of(p);
    let state = if let Some(end) = p.resolved_at {
        format!("resolved {} ago, after {}", ago(end), fmt::duration(p.lasted(now) as i64))
    } else if let Some(u) = &p.unknown {
        format!("unknown for {}: {} · not resolved: kst cannot see it now · {started}", ago(u.since), u.why)
    } else if let Some(s) = &p.silenced {
        format!("silenced: {s} · not counted · {started}")
    } else if let Some(fired) = p.fired_at {
        let how = if p.standing {
            "standing (there before kst first watched its cluster, or unchanged a day): not counted"
        } else {
            "firing"
        };
        format!("{how} · fired {} ago · {started}", ago(fired))
    } else {
        let held = (now - p.since).max(0.0);
        format!(
            "pending {}/{}: fires if it holds {} more · {started}",
            fmt::duration(held as i64),
            fmt::duration(hold as i64),
            fmt::duration((hold - held).max(0.0) as i64)
        )
    };
    out.push(detail::field(t, "state", state, if p.firing() && !p.standing { sev } else { t.text }));
    out.push(detail::text(
        t,
        "rule",
        format!(
            "{} ({}, {}){} · for: {} · {}",
            p.rule.id,
            p.rule.alert,
            p.severity.name(),
            if p.rule.when.is_empty() { String::new() } else { format!(" · fires when {}", p.rule.when) },
            fmt::duration(hold as i64),
            p.rule.origin
        ),
    ));
    if let Some(q) = p.rule.promql {
        out.push(detail::field(t, "PromQL", q.to_string(), t.muted));
    }
    if let Some((kind, cluster, object)) = &p.under {
        out.push(detail::text(
            t,
            "carried",
            format!("by {kind} on {} {} {}: counted there", at(*cluster), object.kind, object.path()),
        ));
    }
    let carried: Vec<String> = all
        .iter()
        .filter(|q| q.under.as_ref().is_some_and(|(k, c, o)| *k == p.kind && *c == p.cluster && *o == p.object))
        .map(|q| format!("{} {}", q.kind, q.object.path()))
        .collect();
    if !carried.is_empty() {
        out.push(detail::text(t, "carries", format!("{}: {}", carried.len(), carried.join(" · "))));
    }
    // what else is open where it is, one a line: an outage shows as many problems at once
    let nearby: Vec<Line<'static>> = all
        .iter()
        .filter(|q| q.cluster == p.cluster && !q.resolved() && q.under.is_none() && !std::ptr::eq(**q, p))
        .enumerate()
        .map(|(k, q)| {
            let text = format!("{} {} {}: {} ({})", q.severity.mark(), q.kind, q.object.path(), q.reason, q.state());
            let style = if q.incident() { severity_style(cx, q.severity) } else { t.muted };
            detail::field(t, if k == 0 { "nearby" } else { "" }, text, style)
        })
        .collect();
    if nearby.is_empty() {
        out.push(detail::field(t, "nearby", format!("nothing else open on {}", at(p.cluster)), t.muted));
    }
    out.extend(nearby);
    out
}
