//! ML jobs: batch Jobs, Kubeflow PyTorchJobs and TrainJobs, RayJobs and Kubeflow Notebooks
//! across clusters, with the status their objects report, GPUs requested, age and duration.
//! A cluster without one of the CRDs says so. Enter opens the job's pods.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::jobs::JobInfo;
use crate::ui::app::App;
use crate::ui::widgets::fmt::age;
use crate::ui::widgets::state::DASH;

/// The orders `s` cycles through.
pub const SORTS: &[&str] = &["cluster", "status", "GPUs", "age"];

pub fn rows(app: &App) -> Vec<(usize, &JobInfo)> {
    let mut v: Vec<(usize, &JobInfo)> = app
        .cluster_indices()
        .into_iter()
        .flat_map(|i| app.fleet.clusters[i].jobs.jobs.iter().map(move |j| (i, j)))
        .filter(|(i, j)| {
            app.matches_filter(&format!(
                "{} {} {} {} {}",
                app.fleet.clusters[*i].context, j.namespace, j.name, j.kind, j.status
            ))
        })
        .collect();
    match app.sort_col % SORTS.len() {
        1 => v.sort_by(|a, b| (&a.1.status, &a.1.name).cmp(&(&b.1.status, &b.1.name))),
        2 => v.sort_by_key(|(_, j)| std::cmp::Reverse(j.gpus.unwrap_or(-1))),
        // newest first
        3 => v.sort_by(|a, b| b.1.created.cmp(&a.1.created)),
        _ => {}
    }
    v
}

fn status_style(app: &App, s: &str) -> Style {
    match s {
        "Succeeded" | "Complete" | "Ready" => app.theme.ok,
        "Running" | "Created" | "Restarting" | "Initializing" => app.theme.accent,
        "Failed" => app.theme.crit,
        "Pending" | "Suspended" => app.theme.warn,
        _ => app.theme.muted,
    }
}

/// From start to completion, or to now while it runs.
fn duration(j: &JobInfo, now: f64) -> String {
    let end = j
        .finished
        .as_deref()
        .and_then(|f| f.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second() as f64)
        .unwrap_or(now);
    age(j.started.as_deref(), end)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rows = rows(app);
    let clusters = app.cluster_indices();
    let [table_area, kinds_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(clusters.len().max(1) as u16), Constraint::Length(2)])
            .areas(area);
    let now = app.now();
    let wide = area.width >= 110;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|(i, j)| {
            let mut cells = vec![
                Cell::from(j.name.clone()),
                Cell::from(app.display_name(&app.fleet.clusters[*i].context).to_string()),
                Cell::from(j.kind),
                Cell::from(Span::styled(j.status.clone(), status_style(app, &j.status))),
                Cell::from(j.gpus.map(|g| g.to_string()).unwrap_or_else(|| DASH.into())),
                Cell::from(age(j.created.as_deref(), now)),
                Cell::from(duration(j, now)),
            ];
            if wide {
                cells.insert(2, Cell::from(j.namespace.clone()));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["NAME", "CLUSTER", "KIND", "STATUS", "GPUS", "AGE", "DURATION"];
    let mut widths = vec![
        Constraint::Min(18),
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
    if wide {
        header.insert(2, "NAMESPACE");
        widths.insert(2, Constraint::Length(12));
    }
    let gpus: i64 =
        rows.iter().filter(|(_, j)| matches!(j.status.as_str(), "Running" | "Ready")).filter_map(|(_, j)| j.gpus).sum();
    let table =
        Table::new(table_rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(
                    " ML jobs & notebooks ({}) · {gpus} GPUs requested by running ones · sorted by {} (s) · Enter: pods ",
                    rows.len(),
                    SORTS[app.sort_col % SORTS.len()]
                ))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, rows.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);

    // per cluster: which kinds it serves
    let lines: Vec<Line> = clusters
        .iter()
        .map(|i| {
            let c = &app.fleet.clusters[*i];
            let name = app.display_name(&c.context).to_string();
            if !c.conn.reachable() {
                return Line::from(Span::styled(format!("{name}: {}", c.conn.label()), t.muted));
            }
            if !c.jobs.listed() {
                return Line::from(Span::styled(format!("{name}: reading…"), t.muted));
            }
            let absent = c.jobs.absent();
            let served: Vec<&str> =
                c.jobs.kinds.keys().filter(|k| !absent.contains(k) && !c.jobs.forbidden.contains(k)).copied().collect();
            let mut spans = vec![Span::styled(format!("{name}: "), t.text), Span::styled(served.join(" "), t.ok)];
            if !absent.is_empty() {
                spans.push(Span::styled(format!(" · not installed: {}", absent.join(", ")), t.muted));
            }
            if !c.jobs.forbidden.is_empty() {
                spans.push(Span::styled(format!(" · forbidden for you: {}", c.jobs.forbidden.join(", ")), t.warn));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), kinds_area);
    if let Some((i, j)) = ts.selected().and_then(|k| rows.get(k)) {
        let text = format!(
            "{} {}/{} on {}: {}{}",
            j.kind,
            j.namespace,
            j.name,
            app.display_name(&app.fleet.clusters[*i].context),
            j.status,
            j.message.as_ref().map(|m| format!(" · {m}")).unwrap_or_default()
        );
        f.render_widget(Paragraph::new(Span::styled(text, t.muted)).wrap(Wrap { trim: true }), detail_area);
    }
}
