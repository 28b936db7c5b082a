//! Security posture: per cluster, findings by severity (each with its rule: no opaque score), the
//! drift since the baseline kst keeps, and for the selected finding's workload the facts behind
//! it (ServiceAccount, grants, identity, AuthBridge, mTLS). `B` accepts the current state as the
//! new baseline (a local file; allowed read-only, not in kiosk mode).

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::posture::{Drift, Finding, FindingSeverity};
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell_ref, Col, DataTable, ListState};

#[derive(Default)]
pub struct Security {
    list: ListState,
    /// `B` pressed once: the clusters a second `B` accepts the posture of (any other key
    /// cancels). A baseline hides findings from then on, so it is confirmed as a write is.
    baseline_armed: Option<Vec<usize>>,
}

pub fn findings<'a>(cx: &Ctx<'a>) -> Vec<(usize, &'a Finding)> {
    let fleet = cx.fleet;
    let mut v: Vec<(usize, &Finding)> = cx
        .cluster_indices()
        .into_iter()
        .flat_map(|i| fleet.clusters[i].kagenti.findings().iter().map(move |f| (i, f)))
        .filter(|(i, f)| {
            cx.keep(|| {
                format!("{} {} {} {} {}", fleet.clusters[*i].context, f.severity.name(), f.rule, f.subject, f.detail)
            })
        })
        .collect();
    v.sort_by(|a, b| (a.1.severity, a.0, &a.1.subject).cmp(&(b.1.severity, b.0, &b.1.subject)));
    v
}

pub fn severity_style(t: &Theme, s: FindingSeverity) -> Style {
    match s {
        FindingSeverity::Critical | FindingSeverity::High => t.crit,
        FindingSeverity::Medium => t.warn,
        FindingSeverity::Low | FindingSeverity::Info => t.muted,
    }
}

fn drift_of(cx: &Ctx) -> Vec<(usize, Drift)> {
    let fleet = cx.fleet;
    cx.cluster_indices()
        .into_iter()
        .flat_map(|i| fleet.clusters[i].kagenti.drift().unwrap_or_default().iter().cloned().map(move |d| (i, d)))
        .collect()
}

fn keys(cx: &Ctx, rows: &[(usize, &Finding)]) -> Vec<String> {
    rows.iter().map(|(i, f)| format!("{}/{}/{}", cx.cluster(*i).context, f.rule, f.subject)).collect()
}

/// The first `B`: names what a second one writes (the clusters, how many findings it marks as
/// accepted, the files) and waits for it.
fn arm_baseline(cx: &Ctx, armed: &mut Option<Vec<usize>>) -> Outcome {
    let clusters: Vec<usize> = cx
        .cluster_indices()
        .into_iter()
        .filter(|i| {
            let k = &cx.cluster(*i).kagenti;
            k.baseline_path.is_some() && k.rbac.is_some()
        })
        .collect();
    if clusters.is_empty() {
        return Outcome::Flash("no cluster with a readable posture to take a baseline of".into());
    }
    let findings: usize = clusters.iter().map(|i| cx.cluster(*i).kagenti.findings().len()).sum();
    let names: Vec<&str> = clusters.iter().map(|i| cx.display_name(&cx.cluster(*i).context)).collect();
    let files: Vec<String> = clusters
        .iter()
        .filter_map(|i| cx.cluster(*i).kagenti.baseline_path.as_ref().map(|p| p.display().to_string()))
        .collect();
    *armed = Some(clusters);
    Outcome::Flash(format!(
        "B again accepts the posture of {} ({findings} findings now) as the baseline, writing {}; any other key cancels",
        names.join(", "),
        files.join(", ")
    ))
}

/// `B`: writes the current posture of the visible clusters as their baseline (a local file).
fn accept_baseline(clusters: Vec<usize>) -> Outcome {
    Outcome::Apply(Box::new(move |fleet: &mut crate::store::Fleet| {
        let mut saved = Vec::new();
        let mut failed = Vec::new();
        for i in clusters {
            let c = &mut fleet.clusters[i];
            let (Some(path), true) = (c.kagenti.baseline_path.clone(), c.kagenti.rbac.is_some()) else { continue };
            let b =
                crate::store::posture::Baseline { saved: jiff::Timestamp::now().to_string(), facts: c.kagenti.facts() };
            match b.save(&path) {
                Ok(()) => {
                    tracing::info!(context = %c.context, path = %path.display(), "posture baseline accepted");
                    c.kagenti.baseline = Some(b);
                    c.kagenti.rederive(i);
                    saved.push(c.context.clone());
                }
                Err(e) => failed.push(format!("{}: {e}", c.context)),
            }
        }
        match (saved.is_empty(), failed.is_empty()) {
            (_, false) => format!("baseline not saved: {}", failed.join("; ")),
            (true, true) => "no cluster with a readable posture to take a baseline of".into(),
            (false, true) => format!("baseline accepted for {}", saved.join(", ")),
        }
    }))
}

impl Pane for Security {
    fn id(&self) -> PaneId {
        PaneId::Security
    }
    fn title(&self) -> &'static str {
        "Security"
    }
    fn short_title(&self) -> &'static str {
        "Sec"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["posture", "findings"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_kagenti(fleet)
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        true
    }
}

impl Component for Security {
    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the workload's pods"),
            Hint::action(
                Action::AcceptBaseline,
                "accept the current posture as the baseline (asks first; a local file; not in read-only or kiosk)",
            )
            .writes(),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        // an armed baseline waits for B; any other key cancels it and does its own work
        let armed = self.baseline_armed.take().filter(|_| action == Some(Action::AcceptBaseline));
        let rows = findings(cx);
        let keys = keys(cx, &rows);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Select) => {
                let Some((i, f)) = self.list.selected().and_then(|k| rows.get(k)) else { return Outcome::Handled };
                let Some((ns, name)) = f.subject.split_once('/') else { return Outcome::Handled };
                super::topology::workload_pods(cx, *i, ns, name)
            }
            Some(Action::AcceptBaseline) if cx.mode == crate::ui::Mode::Kiosk => {
                Outcome::Flash("refused: kiosk mode".into())
            }
            Some(Action::AcceptBaseline) if cx.mode == crate::ui::Mode::ReadOnly => {
                Outcome::Flash("refused: read-only mode (--readonly): the baseline file is left as it is".into())
            }
            Some(Action::AcceptBaseline) => match armed {
                Some(clusters) => accept_baseline(clusters),
                None => arm_baseline(cx, &mut self.baseline_armed),
            },
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let rows = findings(cx);
        self.list.sync(&keys(cx, &rows));
        rows.get(self.list.selected()?).map(|(_, f)| f.subject.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw(self, f, area, cx)
    }
}

/// One line per cluster: counts by severity, the baseline's age, the drift count; the `rest`
/// (clusters beyond the first few) as one line of totals.
fn summary_lines(cx: &Ctx, clusters: &[usize], rest: &[usize], narrow: bool) -> Vec<Line<'static>> {
    let t = cx.theme;
    let count = |i: usize, s| cx.cluster(i).kagenti.findings().iter().filter(|f| f.severity == s).count();
    let mut summary = Vec::new();
    for i in clusters {
        let k = &cx.cluster(*i).kagenti;
        let mut spans = vec![Span::styled(format!("{}: ", cx.display_name(&cx.cluster(*i).context)), t.accent)];
        for s in FindingSeverity::ALL {
            let n = count(*i, s);
            let name = match s {
                FindingSeverity::Critical if narrow => "crit",
                FindingSeverity::Medium if narrow => "med",
                _ => s.name(),
            };
            spans.push(Span::styled(format!("{n} {name} "), if n > 0 { severity_style(t, s) } else { t.muted }));
        }
        let rbac = if k.rbac.is_some() {
            ""
        } else if cx.cluster(*i).forbidden.contains(crate::sources::kagenti::RBAC_RESOURCE) {
            " · RBAC forbidden for you: grants not audited"
        } else {
            " · RBAC not read yet"
        };
        let base = match (&k.baseline, k.drift()) {
            (Some(_), Some(d)) if narrow => format!("· drift {}", d.len()),
            (Some(b), Some(d)) => format!(
                " · baseline {} · {} change{} since",
                b.saved.get(..16).unwrap_or(&b.saved).replace('T', " "),
                d.len(),
                if d.len() == 1 { "" } else { "s" }
            ),
            _ => " · no baseline yet".into(),
        };
        spans.push(Span::styled(format!("{base}{rbac}"), t.muted));
        summary.push(Line::from(spans));
    }
    if !rest.is_empty() {
        let mut spans = vec![Span::styled(format!("{} more clusters: ", rest.len()), t.accent)];
        for s in FindingSeverity::ALL {
            let n: usize = rest.iter().map(|i| count(*i, s)).sum();
            spans.push(Span::styled(format!("{n} {} ", s.name()), if n > 0 { severity_style(t, s) } else { t.muted }));
        }
        summary.push(Line::from(spans));
    }
    if clusters.is_empty() {
        summary.push(Line::from(Span::styled("no cluster with Kagenti in view", t.muted)));
    }
    summary
}

fn draw(pane: &mut Security, f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let rows = findings(cx);
    let drift = drift_of(cx);
    let mut clusters: Vec<usize> =
        cx.cluster_indices().into_iter().filter(|i| cx.cluster(*i).kagenti.installed() == Some(true)).collect();
    // many clusters: the worst few get a line each, the rest one line of totals, so the
    // findings keep the room
    const SUMMARY_LINES: usize = 5;
    let rest: Vec<usize> = if clusters.len() > SUMMARY_LINES {
        let serious = |i: &usize| {
            cx.cluster(*i).kagenti.findings().iter().filter(|f| f.severity <= FindingSeverity::High).count()
        };
        clusters.sort_by_key(|i| (std::cmp::Reverse(serious(i)), *i));
        clusters.split_off(SUMMARY_LINES - 1)
    } else {
        Vec::new()
    };
    let drift_h = (drift.len().min(5) as u16).max(1) + 2;
    let [summary_area, table_area, drift_area, detail_area, absent_area] = Layout::vertical([
        Constraint::Length((clusters.len() + usize::from(!rest.is_empty())).max(1) as u16),
        Constraint::Min(4),
        Constraint::Length(drift_h),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);

    let summary = summary_lines(cx, &clusters, &rest, area.width < 110);
    f.render_widget(Paragraph::new(summary), summary_area);

    let cols = vec![
        Col::whole("SEVERITY"),
        Col::text("RULE").min(12),
        Col::name("WORKLOAD").min(16),
        Col::name("CLUSTER").min(10).optional(1),
        Col::text("DETAIL").min(16),
    ];
    let accept = if cx.mode != crate::ui::Mode::Normal { "" } else { " · B: accept as baseline" };
    let mut table = DataTable::new(format!(" Security findings ({}){accept} ", rows.len()), cols);
    table.empty = "no findings on the visible clusters".into();
    for (i, fd) in &rows {
        table.rows.push(vec![
            cell_ref(fd.severity.name(), severity_style(t, fd.severity)),
            cell_ref(fd.rule, t.text),
            cell_ref(&fd.subject, t.text),
            cell_ref(cx.display_name(&cx.cluster(*i).context), t.text),
            cell_ref(&fd.detail, t.text),
        ]);
    }
    pane.list.sync(&keys(cx, &rows));
    table.draw(f, table_area, &mut pane.list, t);

    let drift_lines: Vec<Line> = if drift.is_empty() {
        vec![Line::from(Span::styled("no drift: nothing widened or relaxed since the baseline", t.muted))]
    } else {
        drift
            .iter()
            .take(5)
            .map(|(i, d)| {
                let delta = match (&d.was, &d.now) {
                    (Some(w), Some(n)) => format!("{w} -> {n}"),
                    (None, Some(n)) => n.clone(),
                    (Some(w), None) => format!("was {w}"),
                    (None, None) => String::new(),
                };
                Line::from(vec![
                    Span::styled(
                        format!("{} ", d.change),
                        if d.change == "binding removed" { t.muted } else { t.warn },
                    ),
                    Span::styled(format!("{}: {} ", cx.display_name(&cx.cluster(*i).context), d.key), t.text),
                    Span::styled(delta, t.muted),
                ])
            })
            .collect()
    };
    f.render_widget(
        Paragraph::new(drift_lines).block(
            Block::default().borders(Borders::ALL).title(format!(" drift ({}) ", drift.len())).border_style(t.muted),
        ),
        drift_area,
    );

    if let Some((i, fd)) = pane.list.selected().and_then(|k| rows.get(k)) {
        let k = &cx.cluster(*i).kagenti;
        let facts = k
            .agents
            .iter()
            .find(|a| format!("{}/{}", a.namespace, a.name) == fd.subject)
            .map(|a| {
                let grants = k
                    .rbac
                    .as_ref()
                    .map(|r| r.grants(&a.namespace, &a.service_account).len().to_string())
                    .unwrap_or_else(|| DASH.into());
                format!(
                    "sa {} · {grants} bindings · identity {} · signature {} · AuthBridge {} · mTLS {}",
                    a.service_account,
                    match a.identity_bound {
                        Some(true) => "bound",
                        Some(false) => "unbound",
                        None => DASH,
                    },
                    match a.valid_signature {
                        Some(true) => "verified",
                        Some(false) => "not verified",
                        None => DASH,
                    },
                    if a.inject_disabled {
                        "opted out"
                    } else if a.authbridge_pods.is_empty() {
                        DASH
                    } else {
                        "injected"
                    },
                    a.mtls_mode.as_deref().unwrap_or(DASH)
                )
            })
            .unwrap_or_default();
        let rule = crate::store::posture::RULES.iter().find(|r| r.0 == fd.rule).map(|r| r.2).unwrap_or("");
        f.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::styled(format!("{} {}: ", fd.subject, fd.rule), t.accent),
                    Span::styled(rule, t.muted),
                ]),
                Line::from(Span::styled(fd.detail.clone(), t.text)),
                Line::from(Span::styled(facts, t.muted)),
            ])
            .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
    f.render_widget(Paragraph::new(super::kagenti_absent_line(cx)), absent_area);
}
