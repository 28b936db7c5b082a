//! Benchmarks: the llm-d nightly E2E matrix (guides x platforms, each cell the last runs of its
//! nightly newest first, the pass rate and the trend; Enter lists a cell's runs with their
//! failure class and URL), and with `v` the llm-d-benchmark reports (sortable; `m` marks one,
//! Enter on another compares the two).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::nightly::{Matrix, NightlyCell, NightlyRun, Trend};
use crate::store::reports::{compare, Report};
use crate::ui::app::App;
use crate::ui::widgets::state::DASH;

/// Width of one platform column: seven marks, the pass rate, the trend.
const CELL_W: u16 = 13;

pub fn rows(app: &App) -> Vec<(String, String)> {
    let Some(m) = &app.fleet.nightly.matrix else { return vec![] };
    m.axes().0.into_iter().filter(|(g, v)| app.matches_filter(&format!("{g} {v}"))).collect()
}

pub fn columns(app: &App) -> Vec<String> {
    app.fleet.nightly.matrix.as_ref().map(|m| m.axes().1).unwrap_or_default()
}

/// The selected cell, if the selection is on one.
pub fn selected_cell(app: &App) -> Option<&NightlyCell> {
    let m = app.fleet.nightly.matrix.as_ref()?;
    let rows = rows(app);
    let cols = columns(app);
    let row = rows.get(app.selected.min(rows.len().checked_sub(1)?))?;
    let col = cols.get(app.bench_col.min(cols.len().checked_sub(1)?))?;
    m.cell(row, col)
}

fn mark(app: &App, r: &NightlyRun) -> Span<'static> {
    let t = &app.theme;
    match (r.status.as_str(), r.conclusion.as_deref()) {
        (_, Some("success")) => Span::styled("✓", t.ok),
        (_, Some("failure")) => Span::styled("✗", t.crit),
        (_, Some("timed_out")) => Span::styled("t", t.crit),
        (_, Some("cancelled")) | (_, Some("skipped")) => Span::styled("–", t.muted),
        (_, None) => Span::styled("●", t.accent),
        _ => Span::styled("?", t.warn),
    }
}

fn rate_style(app: &App, r: f64) -> Style {
    if r >= 0.999 {
        app.theme.ok
    } else if r >= 0.7 {
        app.theme.warn
    } else {
        app.theme.crit
    }
}

fn cell_line(app: &App, c: Option<&NightlyCell>) -> Line<'static> {
    let t = &app.theme;
    let Some(c) = c else { return Line::from(Span::styled("", t.muted)) };
    if c.runs.is_empty() {
        return match &c.badge {
            Some(b) => Line::from(Span::styled(
                b.clone(),
                if b == "passing" {
                    t.ok
                } else if b == "failing" {
                    t.crit
                } else {
                    t.warn
                },
            )),
            None => Line::from(Span::styled("no runs", t.muted)),
        };
    }
    let mut spans: Vec<Span> = c.runs.iter().take(7).map(|r| mark(app, r)).collect();
    for _ in c.runs.len()..7 {
        spans.push(Span::styled("·", t.muted));
    }
    match c.pass_rate() {
        Some(r) => spans.push(Span::styled(format!(" {:>3.0}%", r * 100.0), rate_style(app, r))),
        None => spans.push(Span::styled(format!(" {DASH:>4}"), t.muted)),
    }
    spans.push(Span::styled(
        match c.trend() {
            Some(Trend::Up) => "↑",
            Some(Trend::Down) => "↓",
            Some(Trend::Steady) => "→",
            None => " ",
        },
        t.muted,
    ));
    Line::from(spans)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    if app.bench_reports {
        return draw_reports(f, area, app);
    }
    let t = &app.theme;
    let n = &app.fleet.nightly;
    let [source_area, table_area, summary_area, detail_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(2), Constraint::Length(2)])
            .areas(area);
    let now = app.now();
    // where the numbers come from, how old, what is left of the quota
    let mut src =
        vec![Span::styled(format!("{} ", if n.source.is_empty() { "nightly E2E" } else { &n.source }), t.accent)];
    if let Some(m) = &n.matrix {
        src.push(Span::styled(
            format!("· read {} ago ", crate::ui::widgets::fmt::age(Some(&m.fetched_at), now)),
            t.muted,
        ));
    }
    if let Some((left, limit)) = n.quota {
        src.push(Span::styled(format!("· quota {left}/{limit} "), t.muted));
    }
    if let Some(why) = &n.stale {
        src.push(Span::styled(format!("· ⚠ {why}"), t.warn));
    }
    f.render_widget(Paragraph::new(Line::from(src)), source_area);

    let Some(m) = &n.matrix else {
        let why = n
            .disabled
            .clone()
            .or_else(|| n.stale.clone())
            .unwrap_or_else(|| "reading the nightly matrix from GitHub…".into());
        f.render_widget(
            Paragraph::new(Span::styled(why, t.muted))
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" Nightly E2E ").border_style(t.muted)),
            table_area,
        );
        return;
    };
    let rows = rows(app);
    let cols = columns(app);
    // as many platform columns as fit, the selected one always among them
    let min_label = 22u16.min(area.width / 3);
    let fit = ((area.width.saturating_sub(min_label + 2)) / (CELL_W + 1)).max(1) as usize;
    let fit = fit.min(cols.len().max(1));
    let label_w = area.width.saturating_sub(2 + fit as u16 * (CELL_W + 1)).min(36);
    let sel_col = app.bench_col.min(cols.len().saturating_sub(1));
    let first = sel_col.saturating_sub(fit - 1).min(cols.len().saturating_sub(fit));
    let shown: Vec<&String> = cols.iter().skip(first).take(fit).collect();
    let mut header = vec![Cell::from("GUIDE")];
    for (i, c) in shown.iter().enumerate() {
        let style = if first + i == sel_col { t.accent } else { t.header };
        header.push(Cell::from(Span::styled(c.to_string(), style)));
    }
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|row| {
            let label = if row.1.is_empty() { row.0.clone() } else { format!("{} {}", row.0, row.1) };
            let mut cells = vec![Cell::from(label)];
            cells.extend(shown.iter().map(|col| Cell::from(cell_line(app, m.cell(row, col)))));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![Constraint::Length(label_w)];
    widths.extend(shown.iter().map(|_| Constraint::Length(CELL_W)));
    let more = if shown.len() < cols.len() { " · h/l: more platforms" } else { " · h/l: platform" };
    let table = Table::new(table_rows, widths).header(Row::new(header)).row_highlight_style(t.selection).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(
                " Nightly E2E {} · {} nightlies · newest first{more} · Enter: runs · v: reports ",
                m.repo,
                m.cells.len()
            ))
            .border_style(t.muted),
    );
    let mut ts = crate::ui::widgets::selection(app.selected, rows.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);

    f.render_widget(Paragraph::new(summary(app, m)), summary_area);
    let detail = match selected_cell(app) {
        Some(c) => {
            let last = c.runs.iter().find(|r| r.conclusion.is_some());
            format!(
                "{} on {} ({}) · {} · last finished: {}{}",
                c.name.guide,
                c.name.platform(),
                c.name.provider,
                c.workflow_file,
                last.and_then(|r| r.conclusion.clone()).unwrap_or_else(|| DASH.into()),
                last.and_then(|r| r.failure).map(|f| format!(" ({})", f.text())).unwrap_or_default()
            )
        }
        None => "no nightly for this guide on this platform".into(),
    };
    let mut lines = vec![Line::from(Span::styled(detail, t.muted))];
    if !m.unparsed.is_empty() {
        lines.push(Line::from(Span::styled(format!("names not understood: {}", m.unparsed.join(", ")), t.warn)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_area);
}

fn summary(app: &App, m: &Matrix) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut spans = vec![Span::styled("pass rate ", t.muted)];
    for (col, r) in m.platform_rates() {
        spans.push(Span::styled(format!("{col} "), t.text));
        match r {
            Some(r) => spans.push(Span::styled(format!("{:.0}%  ", r * 100.0), rate_style(app, r))),
            None => spans.push(Span::styled(format!("{DASH}  "), t.muted)),
        }
    }
    let streak = match m.longest_streak() {
        Some((c, n)) => Span::styled(
            format!("longest failing streak: {} {} {} ({n} nights)", c.name.guide, c.name.variant(), c.name.platform()),
            t.crit,
        ),
        None => Span::styled("no failing streak", t.ok),
    };
    vec![Line::from(spans), Line::from(streak)]
}

/// Enter on a cell: its runs, newest first, with time, duration, conclusion, failure class, URL.
pub fn draw_runs(f: &mut Frame, area: Rect, app: &App, selected: usize) {
    let t = &app.theme;
    let Some(c) = selected_cell(app) else { return };
    let width = 118.min(area.width.saturating_sub(2));
    let height = (c.runs.len() as u16 + 4).min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let rows: Vec<Row> = c
        .runs
        .iter()
        .map(|run| {
            let when = run.created_at.get(..16).unwrap_or(&run.created_at).replace('T', " ");
            let dur = run.duration_s.map(|d| format!("{}m", d / 60)).unwrap_or_else(|| DASH.into());
            let why = match (run.failure, &run.failed_step) {
                (Some(f), Some(step)) => format!("{} ({step})", f.text()),
                (Some(f), None) => f.text().to_string(),
                _ => String::new(),
            };
            Row::new(vec![
                Cell::from(format!("#{}", run.number)),
                Cell::from(when),
                Cell::from(dur),
                Cell::from(Line::from(vec![
                    mark(app, run),
                    Span::raw(format!(" {}", run.conclusion.as_deref().unwrap_or(&run.status))),
                ])),
                Cell::from(why),
                // the full URL is what C copies; the host is the same on every row
                Cell::from(run.url.strip_prefix("https://github.com/").unwrap_or(&run.url).to_string()),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(16),
            Constraint::Length(5),
            Constraint::Length(11),
            Constraint::Length(42),
            Constraint::Min(20),
        ],
    )
    .header(Row::new(vec!["RUN", "STARTED", "TOOK", "RESULT", "FAILURE", "URL"]).style(t.header))
    .row_highlight_style(t.selection)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} on {} · C: copy URL · Esc ", c.name.guide, c.name.platform()))
            .border_style(t.accent),
    );
    let mut ts = crate::ui::widgets::selection(selected, c.runs.len());
    f.render_widget(Clear, r);
    f.render_stateful_widget(table, r, &mut ts);
}

pub fn reports(app: &App) -> Vec<&Report> {
    let mut v: Vec<&Report> = app
        .fleet
        .reports
        .reports
        .iter()
        .filter(|r| {
            app.matches_filter(&format!(
                "{} {} {} {} {}",
                r.uid,
                r.model.as_deref().unwrap_or(""),
                r.accelerator.as_deref().unwrap_or(""),
                r.layout,
                r.description.as_deref().unwrap_or("")
            ))
        })
        .collect();
    app.report_sort.sort(&mut v);
    v
}

fn secs(v: Option<f64>) -> String {
    match v {
        Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        Some(s) => format!("{s:.2}s"),
        None => DASH.into(),
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.2}") }).unwrap_or_else(|| DASH.into())
}

fn draw_reports(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rs = &app.fleet.reports;
    let list = reports(app);
    let err_h = (rs.errors.len().min(4) as u16).max(1);
    let [table_area, err_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(err_h), Constraint::Length(2)]).areas(area);
    let wide = area.width >= 120;
    let rows: Vec<Row> = list
        .iter()
        .map(|r| {
            let marked = app.report_mark.as_deref() == Some(r.uid.as_str());
            let mut cells = vec![
                Cell::from(format!(
                    "{}{}",
                    if marked { "▶ " } else { "" },
                    r.start.as_deref().and_then(|s| s.get(..10)).unwrap_or(DASH)
                )),
                Cell::from(
                    r.model
                        .as_deref()
                        .map(|m| m.rsplit('/').next().unwrap_or(m).to_string())
                        .unwrap_or_else(|| DASH.into()),
                ),
                Cell::from(r.layout.clone()),
                Cell::from(num(r.output_tokens_per_s)),
                Cell::from(num(r.requests_per_s)),
                Cell::from(format!("{}/{}", secs(r.ttft_s.p50), secs(r.ttft_s.p99))),
                Cell::from(format!("{}/{}", secs(r.itl_s.p50), secs(r.itl_s.p99))),
            ];
            if wide {
                cells.insert(2, Cell::from(r.accelerator.clone().unwrap_or_else(|| DASH.into())));
                cells.push(Cell::from(secs(r.request_latency_s.p99)));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["START", "MODEL", "LAYOUT", "OUT tok/s", "REQ/s", "TTFT p50/p99", "ITL p50/p99"];
    let mut widths = vec![
        Constraint::Length(12),
        Constraint::Min(16),
        Constraint::Length(15),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Length(11),
    ];
    if wide {
        header.insert(2, "ACCEL");
        widths.insert(2, Constraint::Length(9));
        header.push("LAT p99");
        widths.push(Constraint::Length(7));
    }
    let dir = rs.dir.as_deref().unwrap_or("(no reports_dir in the config)");
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(
                    " Benchmark reports ({}) in {dir} · sorted by {} (s) · m: mark, Enter: compare · v: matrix ",
                    list.len(),
                    app.report_sort.name()
                ))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, list.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    let errs: Vec<Line> = if let Some(p) = &rs.problem {
        vec![Line::from(Span::styled(p.clone(), t.warn))]
    } else if rs.errors.is_empty() {
        vec![Line::from(Span::styled("every report file read", t.muted))]
    } else {
        rs.errors
            .iter()
            .take(4)
            .map(|e| Line::from(Span::styled(format!("✖ {}: {}", e.file, e.error), t.crit)))
            .collect()
    };
    f.render_widget(Paragraph::new(errs), err_area);
    if let Some(r) = ts.selected().and_then(|i| list.get(i)) {
        let text = format!(
            "{} · {} · {} · {} requests, {} failed · {} (v{})",
            r.uid,
            r.description.as_deref().unwrap_or(""),
            r.load,
            r.requests.map(|x| x.to_string()).unwrap_or_else(|| DASH.into()),
            r.failures.map(|x| x.to_string()).unwrap_or_else(|| DASH.into()),
            r.file,
            r.version
        );
        f.render_widget(Paragraph::new(Span::styled(text, t.muted)).wrap(Wrap { trim: true }), detail_area);
    }
}

/// Two reports side by side: each metric, A, B, and B relative to A.
pub fn draw_compare(f: &mut Frame, area: Rect, app: &App, a: &str, b: &str) {
    let t = &app.theme;
    let find = |uid: &str| app.fleet.reports.reports.iter().find(|r| r.uid == uid);
    let (Some(ra), Some(rb)) = (find(a), find(b)) else { return };
    let rows: Vec<Row> = compare(ra, rb)
        .into_iter()
        .map(|(name, x, y, d)| {
            // lower is better for latencies, higher for rates
            let better_up = !name.contains("(s)");
            let style = match d {
                Some(d) if d.abs() < 0.02 => t.muted,
                Some(d) if (d > 0.0) == better_up => t.ok,
                Some(_) => t.crit,
                None => t.muted,
            };
            Row::new(vec![
                Cell::from(name),
                Cell::from(num(x)),
                Cell::from(num(y)),
                Cell::from(Span::styled(
                    d.map(|d| format!("{:+.1}%", d * 100.0)).unwrap_or_else(|| DASH.into()),
                    style,
                )),
            ])
        })
        .collect();
    let width = 90.min(area.width.saturating_sub(2));
    let height = 14.min(area.height);
    let r = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let table =
        Table::new(rows, [Constraint::Min(24), Constraint::Length(12), Constraint::Length(12), Constraint::Length(9)])
            .header(
                Row::new(vec![
                    "".to_string(),
                    format!("A {}", ra.layout),
                    format!("B {}", rb.layout),
                    "B vs A".to_string(),
                ])
                .style(t.header),
            )
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" compare A {} / B {} · Esc ", ra.uid, rb.uid))
                    .border_style(t.accent),
            );
    f.render_widget(Clear, r);
    f.render_widget(table, r);
}
