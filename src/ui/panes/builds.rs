//! Builds: Shipwright Builds and their BuildRuns per cluster: the last runs as marks, the
//! latest outcome and failure reason, duration, and a pass rate over kst's own history
//! (clusters keep only 3 good and 3 failed runs per build).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::store::kagenti::BuildInfo;
use crate::ui::app::App;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::DASH;

pub fn rows(app: &App) -> Vec<(usize, &BuildInfo)> {
    app.cluster_indices()
        .into_iter()
        .flat_map(|i| app.fleet.clusters[i].kagenti.builds.iter().map(move |b| (i, b)))
        .filter(|(i, b)| app.matches_filter(&format!("{} {} {}", app.fleet.clusters[*i].context, b.namespace, b.name)))
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let list = rows(app);
    let [table_area, absent_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(1)]).areas(area);
    let rows: Vec<Row> = list
        .iter()
        .map(|(i, b)| {
            let marks: Vec<Span> = b
                .runs
                .iter()
                .take(7)
                .map(|r| match r.outcome {
                    Some(true) => Span::styled("✔", t.ok),
                    Some(false) => Span::styled("✖", t.crit),
                    None => Span::styled("…", t.muted),
                })
                .collect();
            let last = b.runs.first();
            let outcome = match last.map(|r| (r.outcome, r.reason.clone())) {
                Some((Some(true), _)) => Span::styled("succeeded", t.ok),
                Some((Some(false), reason)) => Span::styled(format!("failed: {}", reason.unwrap_or_default()), t.crit),
                Some((None, _)) => Span::styled("running", t.warn),
                None => Span::styled("no runs", t.muted),
            };
            let (ok, bad) = b.history;
            let rate = if ok + bad > 0 {
                format!("{} of {}", fmt::pct(ok as f64 / (ok + bad) as f64), ok + bad)
            } else {
                DASH.to_string()
            };
            Row::new(vec![
                Cell::from(format!("{}/{}/{}", app.display_name(&app.fleet.clusters[*i].context), b.namespace, b.name)),
                Cell::from(ratatui::text::Line::from(marks)),
                Cell::from(outcome),
                Cell::from(last.and_then(|r| r.duration_s).map(|d| format!("{d}s")).unwrap_or_else(|| DASH.into())),
                Cell::from(rate),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(26),
            Constraint::Length(8),
            Constraint::Min(22),
            Constraint::Length(6),
            Constraint::Length(10),
        ],
    )
    .header(Row::new(["BUILD", "RUNS", "LAST", "TOOK", "PASS RATE"]).style(t.header))
    .row_highlight_style(t.selection)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Shipwright builds ({}) · newest run first ", list.len()))
            .border_style(t.muted),
    );
    let mut ts = crate::ui::widgets::selection(app.selected, list.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    f.render_widget(Paragraph::new(super::agents::absent_line(app)), absent_area);
}
