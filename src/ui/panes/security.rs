//! Security posture: per cluster, findings by severity (each with its rule: no opaque score), the
//! drift since the baseline kst keeps, and for the selected finding's workload the facts behind
//! it (ServiceAccount, grants, identity, AuthBridge, mTLS). `B` accepts the current state as the
//! new baseline (a local file; allowed read-only, not in kiosk mode).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::posture::{Drift, Finding, Severity};
use crate::ui::app::App;
use crate::ui::widgets::state::DASH;

pub fn findings(app: &App) -> Vec<(usize, Finding)> {
    let mut v: Vec<(usize, Finding)> = app
        .cluster_indices()
        .into_iter()
        .flat_map(|i| app.fleet.clusters[i].kagenti.findings().iter().cloned().map(move |f| (i, f)))
        .filter(|(i, f)| {
            app.matches_filter(&format!(
                "{} {} {} {} {}",
                app.fleet.clusters[*i].context,
                f.severity.name(),
                f.rule,
                f.subject,
                f.detail
            ))
        })
        .collect();
    v.sort_by(|a, b| (a.1.severity, a.0, &a.1.subject).cmp(&(b.1.severity, b.0, &b.1.subject)));
    v
}

pub fn severity_style(app: &App, s: Severity) -> Style {
    match s {
        Severity::Critical | Severity::High => app.theme.crit,
        Severity::Medium => app.theme.warn,
        Severity::Low | Severity::Info => app.theme.muted,
    }
}

fn drift_of(app: &App) -> Vec<(usize, Drift)> {
    app.cluster_indices()
        .into_iter()
        .flat_map(|i| app.fleet.clusters[i].kagenti.drift().unwrap_or_default().iter().cloned().map(move |d| (i, d)))
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rows = findings(app);
    let drift = drift_of(app);
    let clusters: Vec<usize> = app
        .cluster_indices()
        .into_iter()
        .filter(|i| app.fleet.clusters[*i].kagenti.installed() == Some(true))
        .collect();
    let drift_h = (drift.len().min(5) as u16).max(1) + 2;
    let [summary_area, table_area, drift_area, detail_area, absent_area] = Layout::vertical([
        Constraint::Length(clusters.len().max(1) as u16),
        Constraint::Min(4),
        Constraint::Length(drift_h),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);

    // one line per cluster: counts by severity, the baseline's age, the drift count
    let mut summary = Vec::new();
    for i in &clusters {
        let k = &app.fleet.clusters[*i].kagenti;
        let all = k.findings();
        let mut spans =
            vec![Span::styled(format!("{}: ", app.display_name(&app.fleet.clusters[*i].context)), t.accent)];
        let narrow = area.width < 110;
        for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info] {
            let n = all.iter().filter(|f| f.severity == s).count();
            let name = match s {
                Severity::Critical if narrow => "crit",
                Severity::Medium if narrow => "med",
                _ => s.name(),
            };
            spans.push(Span::styled(format!("{n} {name} "), if n > 0 { severity_style(app, s) } else { t.muted }));
        }
        let rbac = if k.rbac.is_some() {
            ""
        } else if app.fleet.clusters[*i].forbidden.contains(crate::sources::kagenti::RBAC_RESOURCE) {
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
    if clusters.is_empty() {
        summary.push(Line::from(Span::styled("no cluster with Kagenti in view", t.muted)));
    }
    f.render_widget(Paragraph::new(summary), summary_area);

    let wide = area.width >= 120;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|(i, fd)| {
            let mut cells = vec![
                Cell::from(Span::styled(fd.severity.name(), severity_style(app, fd.severity))),
                Cell::from(fd.rule),
                Cell::from(fd.subject.clone()),
            ];
            if wide {
                cells.push(Cell::from(app.display_name(&app.fleet.clusters[*i].context)));
            }
            cells.push(Cell::from(fd.detail.clone()));
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["SEVERITY", "RULE", "WORKLOAD"];
    let mut widths = vec![Constraint::Length(8), Constraint::Length(20), Constraint::Length(26)];
    if wide {
        header.push("CLUSTER");
        widths.push(Constraint::Length(14));
    }
    header.push("DETAIL");
    widths.push(Constraint::Min(20));
    let accept = if app.mode == crate::ui::Mode::Kiosk { "" } else { " · B: accept as baseline" };
    let table =
        Table::new(table_rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Security findings ({}){accept} ", rows.len()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, rows.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);

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
                    Span::styled(format!("{}: {} ", app.display_name(&app.fleet.clusters[*i].context), d.key), t.text),
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

    if let Some((i, fd)) = ts.selected().and_then(|k| rows.get(k)) {
        let k = &app.fleet.clusters[*i].kagenti;
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
    f.render_widget(Paragraph::new(super::agents::absent_line(app)), absent_area);
}
