//! ML jobs: batch Jobs, Kubeflow PyTorchJobs and TrainJobs, RayJobs and Kubeflow Notebooks
//! across clusters, with the status their objects report, GPUs requested, age and duration.
//! A cluster without one of the CRDs says so. Enter opens the job's pods.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::store::jobs::JobInfo;
use crate::store::pane::PaneId;
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::fmt::age;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

/// The orders `s` cycles through.
pub const SORTS: &[&str] = &["cluster", "status", "GPUs", "age"];

#[derive(Default)]
pub struct Jobs {
    list: ListState,
    /// Index into SORTS.
    pub sort: usize,
}

pub fn rows<'a>(cx: &Ctx<'a>, sort: usize) -> Vec<(usize, &'a JobInfo)> {
    let fleet = cx.fleet;
    let mut v: Vec<(usize, &JobInfo)> = cx
        .cluster_indices()
        .into_iter()
        .flat_map(|i| fleet.clusters[i].jobs.jobs.iter().map(move |j| (i, j)))
        .filter(|(i, j)| {
            cx.keep(|| format!("{} {} {} {} {}", fleet.clusters[*i].context, j.namespace, j.name, j.kind, j.status))
        })
        .collect();
    match sort % SORTS.len() {
        1 => v.sort_by(|a, b| (&a.1.status, &a.1.name).cmp(&(&b.1.status, &b.1.name))),
        2 => v.sort_by_key(|(_, j)| std::cmp::Reverse(j.gpus.unwrap_or(-1))),
        // newest first
        3 => v.sort_by(|a, b| b.1.created.cmp(&a.1.created)),
        _ => {}
    }
    v
}

fn status_style(t: &Theme, s: &str) -> Style {
    match s {
        "Succeeded" | "Complete" | "Ready" => t.ok,
        "Running" | "Created" | "Restarting" | "Initializing" => t.accent,
        "Failed" => t.crit,
        "Pending" | "Suspended" => t.warn,
        _ => t.muted,
    }
}

fn keys(cx: &Ctx, rows: &[(usize, &JobInfo)]) -> Vec<String> {
    rows.iter().map(|(i, j)| format!("{}/{}/{}/{}", cx.cluster(*i).context, j.kind, j.namespace, j.name)).collect()
}

impl Pane for Jobs {
    fn id(&self) -> PaneId {
        PaneId::Jobs
    }
    fn title(&self) -> &'static str {
        "ML jobs"
    }
    fn short_title(&self) -> &'static str {
        "Jobs"
    }
    fn group(&self) -> Group {
        Group::LlmD
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["mljobs", "notebooks"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        fleet.clusters.iter().any(|c| !c.jobs.jobs.is_empty())
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        true
    }
}

impl Component for Jobs {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("GPUS a/b", "a: GPUs requested by the job's running pods; b: GPUs its spec asks for"),
            ("▲", "the job says it runs but none of its pods is running"),
            ("—", "kst cannot see the pods (not listed, or forbidden)"),
        ]
    }
    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the job's pods"),
            Hint::action(Action::Sort, "sort: cluster, status, GPUs, age"),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let list = rows(cx, self.sort);
        let keys = keys(cx, &list);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Select) => match self.list.selected().and_then(|i| list.get(i)) {
                Some((i, j)) => match &j.pod_selector {
                    Some(sel) => super::pods_of(cx, *i, &j.namespace, &j.name, sel.clone()),
                    None => Outcome::Flash(format!("kst does not know the pods of a {}", j.kind)),
                },
                None => Outcome::Handled,
            },
            Some(Action::Sort) => {
                self.sort = (self.sort + 1) % SORTS.len();
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = rows(cx, self.sort);
        self.list.sync(&keys(cx, &list));
        list.get(self.list.selected()?).map(|(_, j)| j.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw(self, f, area, cx)
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

fn draw(pane: &mut Jobs, f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let rows = rows(cx, pane.sort);
    let clusters = cx.cluster_indices();
    let [table_area, kinds_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(clusters.len().max(1) as u16), Constraint::Length(2)])
            .areas(area);
    let now = cx.now();
    let cols = vec![
        Col::name("NAME").min(14),
        Col::name("CLUSTER").min(10),
        Col::name("NAMESPACE").min(8).optional(1),
        Col::whole("KIND"),
        Col::text("STATUS").min(8),
        // short: a wide header would take the width the cluster and status names need
        Col::whole("GPUS"),
        Col::whole("AGE"),
        Col::whole("DURATION"),
    ];
    let running = |j: &JobInfo| matches!(j.status.as_str(), "Running" | "Ready");
    let spec: i64 = rows.iter().filter(|(_, j)| running(j)).filter_map(|(_, j)| j.gpus).sum();
    let used: i64 = rows.iter().filter_map(|(_, j)| j.pods.map(|p| p.gpus_running)).sum();
    let mut table = DataTable::new(
        format!(
            " ML jobs & notebooks ({}) · GPUs: {used} held by running pods, {spec} in running jobs' specs · sorted by {} ",
            rows.len(),
            SORTS[pane.sort % SORTS.len()]
        ),
        cols,
    );
    table.sort = match pane.sort % SORTS.len() {
        1 => Some((4, false)),
        2 => Some((5, true)),
        3 => Some((6, false)),
        _ => None,
    };
    table.empty = "no ML jobs or notebooks on the visible clusters".into();
    for (i, j) in &rows {
        table.rows.push(vec![
            cell_ref(&j.name, t.text),
            cell_ref(cx.display_name(&cx.cluster(*i).context), t.text),
            cell_ref(&j.namespace, t.text),
            cell(j.kind, t.text),
            cell_ref(&j.status, status_style(t, &j.status)),
            {
                // what runs against what the spec asks; a running job without running pods is marked
                let used = j.pods.map(|p| p.gpus_running.to_string()).unwrap_or_else(|| DASH.into());
                let spec = j.gpus.map(|g| g.to_string()).unwrap_or_else(|| DASH.into());
                let short = running(j) && j.gpus.unwrap_or(0) > 0 && j.pods.is_some_and(|p| p.running == 0);
                cell(format!("{used}/{spec}{}", if short { " ▲" } else { "" }), if short { t.warn } else { t.text })
            },
            cell(age(j.created.as_deref(), now), t.text),
            cell(duration(j, now), t.text),
        ]);
    }
    pane.list.sync(&keys(cx, &rows));
    // the rows a short list leaves (a big screen) hold the selected job in full
    let (table_area, full_area) = split_below(table_area, (rows.len() as u16 + 3).max(6), FULL_MIN);
    table.draw(f, table_area, &mut pane.list, t);
    if let (Some(area), Some((i, j))) = (full_area, pane.list.selected().and_then(|k| rows.get(k))) {
        let title = cx.qualified(*i, &format!("{} {}/{}", j.kind, j.namespace, j.name));
        detail::draw(f, area, &title, in_full(cx, *i, j, now), t);
    }

    // per cluster: which kinds it serves
    let lines: Vec<Line> = clusters
        .iter()
        .map(|i| {
            let c = cx.cluster(*i);
            let name = cx.display_name(&c.context).to_string();
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
            // specs that ask for more GPUs than the cluster has are said so, not summed silently
            let asked: i64 = c.jobs.jobs.iter().filter(|j| running(j)).filter_map(|j| j.gpus).sum();
            if let Some(n) = c.nodes.as_ref().filter(|n| asked as u64 > n.gpus_allocatable) {
                spans.push(Span::styled(
                    format!(" · ▲ running jobs' specs ask for {asked} GPUs; the cluster has {}", n.gpus_allocatable),
                    t.warn,
                ));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), kinds_area);
    if let Some((i, j)) = pane.list.selected().and_then(|k| rows.get(k)) {
        let text = format!(
            "{} {}/{} on {}: {}{}",
            j.kind,
            j.namespace,
            j.name,
            cx.display_name(&cx.cluster(*i).context),
            j.status,
            j.message.as_ref().map(|m| format!(" · {m}")).unwrap_or_default()
        );
        f.render_widget(Paragraph::new(Span::styled(text, t.muted)).wrap(Wrap { trim: true }), detail_area);
    }
}

/// The rows the selected job in full wants before it is drawn under the list.
const FULL_MIN: u16 = 7;

/// The selected job in full: its status and the message its object gives, when it was made,
/// started and ended, its GPUs asked and held, its pods, how to reach them, and the problems
/// kst raises about it.
fn in_full(cx: &Ctx, i: usize, j: &JobInfo, now: f64) -> Vec<Line<'static>> {
    let t = cx.theme;
    let when = |s: &Option<String>| match s {
        Some(at) => format!("{at} ({} ago)", age(Some(at), now)),
        None => DASH.to_string(),
    };
    let mut out = vec![detail::field(
        t,
        "status",
        format!("{}{}", j.status, j.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()),
        status_style(t, &j.status),
    )];
    out.push(detail::text(
        t,
        "times",
        format!(
            "created {} · started {} · finished {} · ran {}",
            when(&j.created),
            when(&j.started),
            when(&j.finished),
            duration(j, now)
        ),
    ));
    let pods = match j.pods {
        Some(p) => format!("{} of {} running, holding {} GPUs", p.running, p.total, p.gpus_running),
        None => format!("{DASH} (kst cannot list its pods)"),
    };
    let spec = j
        .gpus
        .map(|g| format!("{g} GPUs asked by its spec"))
        .unwrap_or_else(|| format!("GPUs asked {DASH} (the spec does not say)"));
    out.push(detail::text(t, "pods", format!("{pods} · {spec}")));
    let idle = matches!(j.status.as_str(), "Running" | "Ready") && j.gpus.unwrap_or(0) > 0;
    if idle && j.pods.is_some_and(|p| p.running == 0) {
        out.push(detail::field(t, "", "▲ its status says it runs, but none of its pods runs", t.warn));
    }
    out.push(detail::text(
        t,
        "selector",
        match &j.pod_selector {
            Some(s) => format!("{s} · Enter opens its pods"),
            None => format!("{DASH} (no known selector for a {})", j.kind),
        },
    ));
    let problems = super::problems_about(cx, i, j.kind, &j.namespace, &j.name);
    out.push(detail::text(t, "problems", detail::list(problems, "none open")));
    out
}
