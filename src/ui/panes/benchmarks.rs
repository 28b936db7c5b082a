//! Benchmarks: the llm-d nightly E2E matrix (guides x platforms, each cell the last runs of its
//! nightly newest first, the pass rate and the trend; Enter lists a cell's runs with their
//! failure class and URL), and with `v` the llm-d-benchmark reports (sortable; `m` marks one,
//! Enter on another compares the two).

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::nightly::{Matrix, NightlyCell, NightlyRun, Trend};
use crate::store::pane::PaneId;
use crate::store::reports::{compare, Report, ReportSort};
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane, View};
use crate::ui::keymap::Action;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Benchmarks {
    /// Matrix rows (guide, variant).
    list: ListState,
    /// The selected platform column.
    pub col: usize,
    /// The reports instead of the matrix.
    pub reports: bool,
    report_list: ListState,
    pub report_sort: ReportSort,
    /// A report marked to compare (its uid).
    pub mark: Option<String>,
    /// The platform column to select at the next drawing (a jump from a problem).
    reveal_col: Option<String>,
}

/// Width of one platform column: seven marks, the pass rate, the trend.
const CELL_W: u16 = 13;

pub fn rows(cx: &Ctx) -> Vec<(String, String)> {
    let Some(m) = &cx.fleet.nightly.matrix else { return vec![] };
    m.axes().0.into_iter().filter(|(g, v)| cx.keep(|| format!("{g} {v}"))).collect()
}

pub fn columns(cx: &Ctx) -> Vec<String> {
    cx.fleet.nightly.matrix.as_ref().map(|m| m.axes().1).unwrap_or_default()
}

fn row_keys(rows: &[(String, String)]) -> Vec<String> {
    rows.iter().map(|(g, v)| format!("{g} {v}")).collect()
}

impl Benchmarks {
    /// The selected cell, if the selection is on one.
    pub fn selected_cell<'a>(&self, cx: &Ctx<'a>) -> Option<&'a NightlyCell> {
        let m = cx.fleet.nightly.matrix.as_ref()?;
        let rows = rows(cx);
        let cols = columns(cx);
        let row = rows.get(self.list.selected()?.min(rows.len().checked_sub(1)?))?;
        let col = cols.get(self.col.min(cols.len().checked_sub(1)?))?;
        m.cell(row, col)
    }
}

fn mark(t: &Theme, r: &NightlyRun) -> Span<'static> {
    match (r.status.as_str(), r.conclusion.as_deref()) {
        (_, Some("success")) => Span::styled("✓", t.ok),
        (_, Some("failure")) => Span::styled("✗", t.crit),
        (_, Some("timed_out")) => Span::styled("t", t.crit),
        (_, Some("cancelled")) | (_, Some("skipped")) => Span::styled("–", t.muted),
        (_, None) => Span::styled("●", t.accent),
        _ => Span::styled("?", t.warn),
    }
}

fn rate_style(t: &Theme, r: f64) -> Style {
    if r >= 0.999 {
        t.ok
    } else if r >= 0.7 {
        t.warn
    } else {
        t.crit
    }
}

fn cell_line(t: &Theme, c: Option<&NightlyCell>) -> Line<'static> {
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
    let mut spans: Vec<Span> = c.runs.iter().take(7).map(|r| mark(t, r)).collect();
    for _ in c.runs.len()..7 {
        spans.push(Span::styled("·", t.muted));
    }
    match c.pass_rate() {
        Some(r) => spans.push(Span::styled(format!(" {:>3.0}%", r * 100.0), rate_style(t, r))),
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

impl Pane for Benchmarks {
    fn id(&self) -> PaneId {
        PaneId::Benchmarks
    }
    fn title(&self) -> &'static str {
        "Benchmarks"
    }
    fn short_title(&self) -> &'static str {
        "Bench"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["nightly", "reports"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        fleet.nightly.matrix.is_some() || !fleet.reports.reports.is_empty()
    }
    /// A matrix cell (`guide variant` on a platform), or a row by its name.
    fn reveal(&mut self, _context: &str, find: &crate::store::problems::Find) -> bool {
        use crate::store::problems::Find;
        let (row, col) = match find {
            Find::Cell { row, column } => (row.as_str(), column.as_str()),
            Find::Name(row) => (row.as_str(), ""),
            Find::HubCluster { .. } => return false,
        };
        self.reports = false;
        self.list.reveal("", row);
        self.reveal_col = (!col.is_empty()).then(|| col.to_string());
        true
    }
}

impl Benchmarks {
    fn apply_reveal(&mut self, cx: &Ctx) {
        if let Some(col) = self.reveal_col.take() {
            if let Some(i) = columns(cx).iter().position(|c| *c == col) {
                self.col = i;
            }
        }
    }
}

impl Component for Benchmarks {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        if self.reports {
            vec![
                ("4A tp4", "4 aggregated servers, tensor parallel 4"),
                ("2P tp2 + 2D tp4", "2 prefill servers at TP 2 and 2 decode servers at TP 4"),
                ("▶", "the report marked to compare"),
            ]
        } else {
            vec![
                ("✓ ✗ t – ●", "run passed · failed · timed out · cancelled · running (newest first)"),
                ("86%", "pass rate over the cell's finished runs"),
                ("↑ ↓ →", "the newest 3 runs against the rest: better · worse · the same (±10%)"),
            ]
        }
    }
    fn hints(&self) -> Vec<Hint> {
        if self.reports {
            vec![
                Hint::action(Action::Mark, "mark a report; Enter on another compares the two"),
                Hint::action(Action::Select, "compare with the marked report"),
                Hint::action(Action::Sort, "sort the reports by a metric"),
                Hint::action(Action::Layout, "back to the nightly matrix"),
            ]
        } else {
            vec![
                Hint::action(Action::Select, "the cell's runs: start, duration, failure class, URL"),
                Hint::action(Action::Left, "previous platform column"),
                Hint::action(Action::Right, "next platform column"),
                Hint::action(Action::Layout, "the benchmark reports"),
                Hint::action(Action::Copy, "copy the workflow (or a run's URL)"),
            ]
        }
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        if action == Some(Action::Layout) {
            self.reports = !self.reports;
            return Outcome::Redraw;
        }
        if self.reports {
            let list = reports(cx, self.report_sort);
            let keys: Vec<String> = list.iter().map(|r| r.uid.clone()).collect();
            if let Some(o) = super::motion(&mut self.report_list, action, &keys) {
                return o;
            }
            self.report_list.sync(&keys);
            let selected = self.report_list.selected().and_then(|i| list.get(i));
            return match action {
                Some(Action::Mark) => {
                    self.mark = selected.map(|r| r.uid.clone());
                    Outcome::Redraw
                }
                Some(Action::Sort) => {
                    self.report_sort = self.report_sort.next();
                    Outcome::Redraw
                }
                Some(Action::Select) => match (self.mark.clone(), selected) {
                    (Some(a), Some(b)) if a != b.uid => Outcome::Push(Box::new(CompareView { a, b: b.uid.clone() })),
                    _ => Outcome::Flash("mark a report with m, then Enter on another to compare".into()),
                },
                _ => Outcome::Ignored,
            };
        }
        let rows = rows(cx);
        if let Some(o) = super::motion(&mut self.list, action, &row_keys(&rows)) {
            return o;
        }
        self.list.sync(&row_keys(&rows));
        match action {
            Some(Action::Left) => {
                self.col = self.col.saturating_sub(1);
                Outcome::Redraw
            }
            Some(Action::Right) => {
                self.col = (self.col + 1).min(columns(cx).len().saturating_sub(1));
                Outcome::Redraw
            }
            Some(Action::Select) => match self.selected_cell(cx) {
                Some(c) if !c.runs.is_empty() => Outcome::Push(Box::new(RunsView {
                    cell: c.name.clone(),
                    workflow: c.workflow_file.clone(),
                    list: ListState::default(),
                })),
                _ => Outcome::Handled,
            },
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        if self.reports {
            let list = reports(cx, self.report_sort);
            self.report_list.sync(&list.iter().map(|r| r.uid.clone()).collect::<Vec<_>>());
            return list.get(self.report_list.selected()?).map(|r| r.uid.clone());
        }
        self.apply_reveal(cx);
        self.list.sync(&row_keys(&rows(cx)));
        self.selected_cell(cx).map(|c| c.workflow_file.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        if self.reports {
            self.report_list.click(row)
        } else {
            self.list.click(row)
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        if self.reports {
            return draw_reports(self, f, area, cx);
        }
        draw_matrix(self, f, area, cx)
    }
}

fn draw_matrix(pane: &mut Benchmarks, f: &mut Frame, area: Rect, cx: &Ctx) {
    pane.apply_reveal(cx);
    let t = cx.theme;
    let n = &cx.fleet.nightly;
    let [source_area, table_area, summary_area, detail_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(4), Constraint::Length(2), Constraint::Length(2)])
            .areas(area);
    let now = cx.now();
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
        src.push(Span::styled(format!("· ⚠ {why} "), t.warn));
    }
    let legend = Line::from(Span::styled(
        "each cell: the last 7 runs, newest first (✓ pass ✗ fail t timeout – cancelled ● running), pass rate, trend",
        t.muted,
    ));
    f.render_widget(Paragraph::new(vec![Line::from(src), legend]), source_area);

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
    let rows = rows(cx);
    let cols = columns(cx);
    // as many platform columns as fit, the selected one always among them
    let min_label = 22u16.min(area.width / 3);
    let fit = ((area.width.saturating_sub(min_label + 2)) / (CELL_W + 1)).max(1) as usize;
    let fit = fit.min(cols.len().max(1));
    let label_w = area.width.saturating_sub(2 + fit as u16 * (CELL_W + 1)).min(36);
    let sel_col = pane.col.min(cols.len().saturating_sub(1));
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
            // a guide's variants differ at the end: keep the end
            let label = crate::ui::widgets::table::middle(&label, label_w as usize);
            let mut cells = vec![Cell::from(label)];
            cells.extend(shown.iter().map(|col| Cell::from(cell_line(t, m.cell(row, col)))));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![Constraint::Length(label_w)];
    widths.extend(shown.iter().map(|_| Constraint::Length(CELL_W)));
    let more = if shown.len() < cols.len() {
        format!(" · platforms {}-{} of {}", first + 1, first + shown.len(), cols.len())
    } else {
        String::new()
    };
    let table = Table::new(table_rows, widths).header(Row::new(header)).row_highlight_style(t.selection).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Nightly E2E {} · {} nightlies{more} ", m.repo, m.cells.len()))
            .border_style(t.muted),
    );
    pane.list.sync(&row_keys(&rows));
    let mut ts = ratatui::widgets::TableState::default();
    if let Some(i) = pane.list.selected() {
        ts.select(Some(i));
    }
    // the rows the matrix leaves (a big screen) list the selected cell's runs, as Enter does
    let (table_area, runs_area) = split_below(table_area, rows.len() as u16 + 3, RUNS_MIN);
    f.render_stateful_widget(table, table_area, &mut ts);
    if let (Some(at), Some(c)) = (runs_area, pane.selected_cell(cx)) {
        let mut runs = runs_table(t, c);
        runs.title = format!(
            " Runs of {} on {} · newest first · Enter lists them to copy a URL ",
            c.name.guide,
            c.name.platform()
        );
        runs.draw_unselected(f, at, t);
    }
    pane.list.offset = ts.offset();
    pane.list.first_row = table_area.y + 2;
    pane.list.page = table_area.height.saturating_sub(3) as usize;

    f.render_widget(Paragraph::new(summary(t, m)), summary_area);
    let detail = match pane.selected_cell(cx) {
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

/// The rows the selected cell's runs want before they are listed under the matrix.
const RUNS_MIN: u16 = 6;

fn summary(t: &Theme, m: &Matrix) -> Vec<Line<'static>> {
    let mut spans = vec![Span::styled("pass rate ", t.muted)];
    for (col, r) in m.platform_rates() {
        spans.push(Span::styled(format!("{col} "), t.text));
        match r {
            Some(r) => spans.push(Span::styled(format!("{:.0}%  ", r * 100.0), rate_style(t, r))),
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
pub struct RunsView {
    cell: crate::store::nightly::NightlyName,
    workflow: String,
    list: ListState,
}

impl RunsView {
    fn cell<'a>(&self, cx: &Ctx<'a>) -> Option<&'a NightlyCell> {
        cx.fleet.nightly.matrix.as_ref()?.cells.iter().find(|c| c.workflow_file == self.workflow)
    }
}

impl View for RunsView {
    fn crumb(&self) -> String {
        format!("{} on {} runs", self.cell.guide, self.cell.platform())
    }
}

impl Component for RunsView {
    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Copy, "copy the run's URL"), Hint::action(Action::Back, "back to the matrix")]
    }
    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let keys: Vec<String> =
            self.cell(cx).map(|c| c.runs.iter().map(|r| r.number.to_string()).collect()).unwrap_or_default();
        super::motion(&mut self.list, action, &keys).unwrap_or(Outcome::Ignored)
    }
    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let runs = &self.cell(cx)?.runs;
        self.list.sync(&runs.iter().map(|r| r.number.to_string()).collect::<Vec<_>>());
        runs.get(self.list.selected()?).map(|r| r.url.clone())
    }
    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let Some(c) = self.cell(cx) else {
            f.render_widget(Paragraph::new(Span::styled("this nightly is no longer in the matrix", t.muted)), area);
            return;
        };
        let table = runs_table(t, c);
        self.list.sync(&c.runs.iter().map(|r| r.number.to_string()).collect::<Vec<_>>());
        table.draw(f, area, &mut self.list, t);
    }
}

/// A nightly's runs, newest first, with time, duration, conclusion, failure class and step,
/// URL: what Enter on a cell lists, and the matrix shows under itself on a big screen.
fn runs_table(t: &Theme, c: &NightlyCell) -> DataTable<'static> {
    let cols = vec![
        Col::whole("RUN"),
        Col::whole("STARTED"),
        Col::whole("TOOK"),
        Col::text("RESULT").min(9),
        Col::text("FAILURE").min(16),
        Col::text("URL").min(20),
    ];
    let mut table = DataTable::new(format!(" {} on {} ", c.name.guide, c.name.platform()), cols);
    for run in &c.runs {
        let when = run.created_at.get(..16).unwrap_or(&run.created_at).replace('T', " ");
        let dur = run.duration_s.map(|d| format!("{}m", d / 60)).unwrap_or_else(|| DASH.into());
        let why = match (run.failure, &run.failed_step) {
            (Some(f), Some(step)) => format!("{} ({step})", f.text()),
            (Some(f), None) => f.text().to_string(),
            _ => String::new(),
        };
        table.rows.push(vec![
            cell(format!("#{}", run.number), t.text),
            cell(when, t.text),
            cell(dur, t.text),
            Line::from(vec![mark(t, run), Span::raw(format!(" {}", run.conclusion.as_deref().unwrap_or(&run.status)))]),
            cell(why, t.text),
            // the full URL is what C copies; the host is the same on every row
            cell(run.url.strip_prefix("https://github.com/").unwrap_or(&run.url).to_string(), t.text),
        ]);
    }
    table
}

pub fn reports<'a>(cx: &Ctx<'a>, sort: ReportSort) -> Vec<&'a Report> {
    let mut v: Vec<&Report> = cx
        .fleet
        .reports
        .reports
        .iter()
        .filter(|r| {
            cx.keep(|| {
                format!(
                    "{} {} {} {} {}",
                    r.uid,
                    r.model.as_deref().unwrap_or(""),
                    r.accelerator.as_deref().unwrap_or(""),
                    r.layout,
                    r.description.as_deref().unwrap_or("")
                )
            })
        })
        .collect();
    sort.sort(&mut v);
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

fn draw_reports(pane: &mut Benchmarks, f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let rs = &cx.fleet.reports;
    let list = reports(cx, pane.report_sort);
    let err_h = (rs.errors.len().min(4) as u16).max(1);
    let [table_area, err_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(err_h), Constraint::Length(2)]).areas(area);
    let cols = vec![
        Col::whole("START"),
        Col::text("MODEL").min(12),
        Col::text("ACCEL").min(6).optional(2),
        Col::text("LAYOUT").min(10),
        Col::whole("OUT tok/s"),
        Col::whole("REQ/s"),
        Col::whole("TTFT p50/p99"),
        Col::whole("ITL p50/p99"),
        Col::whole("LAT p99").optional(1),
    ];
    let dir = rs.dir.as_deref().unwrap_or("(no reports_dir in the config)");
    let mut table = DataTable::new(
        format!(" Benchmark reports ({}) in {dir} · sorted by {} · ▶ marked ", list.len(), pane.report_sort.name()),
        cols,
    );
    table.empty = "no reports".into();
    for r in &list {
        let marked = pane.mark.as_deref() == Some(r.uid.as_str());
        table.rows.push(vec![
            cell(
                format!(
                    "{}{}",
                    if marked { "▶ " } else { "" },
                    r.start.as_deref().and_then(|s| s.get(..10)).unwrap_or(DASH)
                ),
                t.text,
            ),
            cell(
                r.model
                    .as_deref()
                    .map(|m| m.rsplit('/').next().unwrap_or(m).to_string())
                    .unwrap_or_else(|| DASH.into()),
                t.text,
            ),
            cell_ref(r.accelerator.as_deref().unwrap_or(DASH), t.text),
            cell_ref(&r.layout, t.text),
            cell(num(r.output_tokens_per_s), t.text),
            cell(num(r.requests_per_s), t.text),
            cell(format!("{}/{}", secs(r.ttft_s.p50), secs(r.ttft_s.p99)), t.text),
            cell(format!("{}/{}", secs(r.itl_s.p50), secs(r.itl_s.p99)), t.text),
            cell(secs(r.request_latency_s.p99), t.text),
        ]);
    }
    pane.report_list.sync(&list.iter().map(|r| r.uid.clone()).collect::<Vec<_>>());
    table.draw(f, table_area, &mut pane.report_list, t);
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
    if let Some(r) = pane.report_list.selected().and_then(|i| list.get(i)) {
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
pub struct CompareView {
    a: String,
    b: String,
}

impl View for CompareView {
    fn crumb(&self) -> String {
        format!("compare {} / {}", self.a, self.b)
    }
}

impl Component for CompareView {
    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Back, "back to the reports")]
    }
    fn on_key(&mut self, _key: KeyEvent, _action: Option<Action>, _cx: &Ctx) -> Outcome {
        Outcome::Ignored
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw_compare(f, area, cx, &self.a, &self.b)
    }
}

fn draw_compare(f: &mut Frame, area: Rect, cx: &Ctx, a: &str, b: &str) {
    let t = cx.theme;
    let find = |uid: &str| cx.fleet.reports.reports.iter().find(|r| r.uid == uid);
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
    let table =
        Table::new(rows, [Constraint::Min(24), Constraint::Length(14), Constraint::Length(14), Constraint::Length(9)])
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
                    .title(format!(" compare A {} / B {} ", ra.uid, rb.uid))
                    .border_style(t.accent),
            );
    f.render_widget(table, area);
}
