//! Builds: Shipwright Builds and their BuildRuns per cluster: the last runs as marks, the
//! latest outcome and failure reason, duration, and a pass rate over kst's own history
//! (clusters keep only 3 good and 3 failed runs per build).

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::store::kagenti::BuildInfo;
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Builds {
    list: ListState,
}

pub fn rows<'a>(cx: &Ctx<'a>) -> Vec<(usize, &'a BuildInfo)> {
    let fleet = cx.fleet;
    cx.cluster_indices()
        .into_iter()
        .flat_map(|i| fleet.clusters[i].kagenti.builds.iter().map(move |b| (i, b)))
        .filter(|(i, b)| cx.keep(|| format!("{} {} {}", fleet.clusters[*i].context, b.namespace, b.name)))
        .collect()
}

fn keys(cx: &Ctx, rows: &[(usize, &BuildInfo)]) -> Vec<String> {
    rows.iter().map(|(i, b)| format!("{}/{}/{}", cx.cluster(*i).context, b.namespace, b.name)).collect()
}

impl Pane for Builds {
    fn id(&self) -> PaneId {
        PaneId::Builds
    }
    fn title(&self) -> &'static str {
        "Builds"
    }
    fn short_title(&self) -> &'static str {
        "Build"
    }
    fn group(&self) -> Group {
        Group::Kagenti
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

impl Component for Builds {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![("✔ ✖ …", "a run succeeded · failed · is running (newest first)")]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Select, "the build's pods")]
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
                    // Shipwright labels a build's pods with the build's name
                    Some((i, b)) => super::pods_of(
                        cx,
                        *i,
                        &b.namespace,
                        &format!("{} build", b.name),
                        format!("build.shipwright.io/name={}", b.name),
                    ),
                    None => Outcome::Handled,
                }
            }
            _ => Outcome::Ignored,
        }
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = rows(cx);
        self.list.sync(&keys(cx, &list));
        list.get(self.list.selected()?).map(|(_, b)| b.name.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let list = rows(cx);
        let [table_area, absent_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(1)]).areas(area);
        let cols = vec![
            Col::name("BUILD").min(20),
            Col::whole("RUNS"),
            Col::text("LAST").min(14),
            Col::whole("TOOK"),
            Col::whole("PASS RATE"),
        ];
        let mut table = DataTable::new(
            format!(" Shipwright builds ({}) · runs newest first: ✔ ok ✖ failed … running ", list.len()),
            cols,
        );
        table.empty = "no Shipwright builds on the visible clusters".into();
        for (i, b) in &list {
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
                Some((Some(true), _)) => cell("succeeded", t.ok),
                Some((Some(false), reason)) => cell(format!("failed: {}", reason.unwrap_or_default()), t.crit),
                Some((None, _)) => cell("running", t.warn),
                None => cell("no runs", t.muted),
            };
            let (ok, bad) = b.history;
            let rate = if ok + bad > 0 {
                format!("{} of {}", fmt::pct(ok as f64 / (ok + bad) as f64), ok + bad)
            } else {
                DASH.to_string()
            };
            table.rows.push(vec![
                cell(cx.qualified(*i, &format!("{}/{}", b.namespace, b.name)), t.text),
                Line::from(marks),
                outcome,
                cell(last.and_then(|r| r.duration_s).map(|d| format!("{d}s")).unwrap_or_else(|| DASH.into()), t.text),
                cell(rate, t.text),
            ]);
        }
        self.list.sync(&keys(cx, &list));
        // the rows a short list leaves (a big screen) hold the selected build's runs in full
        let (table_area, full_area) = split_below(table_area, (list.len() as u16 + 3).max(6), FULL_MIN);
        table.draw(f, table_area, &mut self.list, t);
        if let (Some(area), Some((i, b))) = (full_area, self.list.selected().and_then(|k| list.get(k))) {
            let title = cx.qualified(*i, &format!("{}/{}", b.namespace, b.name));
            detail::draw(f, area, &title, in_full(cx, *i, b), t);
        }
        f.render_widget(Paragraph::new(super::kagenti_absent_line(cx)), absent_area);
    }
}

/// The rows the selected build in full wants before it is drawn under the list.
const FULL_MIN: u16 = 7;

/// The selected build in full: its strategy and pass rate, then every run the cluster keeps,
/// newest first, with when it started, how long it took and what the failed step said; then
/// the problems kst raises about it.
fn in_full(cx: &Ctx, i: usize, b: &BuildInfo) -> Vec<Line<'static>> {
    let t = cx.theme;
    let now = cx.now();
    let (ok, bad) = b.history;
    let mut out = vec![detail::text(
        t,
        "build",
        format!(
            "strategy {} · {} runs kept by the cluster (Shipwright keeps 3 good, 3 failed) · kst has seen {ok} succeed, {bad} fail · Enter: its pods",
            b.strategy.as_deref().unwrap_or(DASH),
            b.runs.len()
        ),
    )];
    if b.runs.is_empty() {
        out.push(detail::field(t, "runs", "none: no BuildRun of this build", t.muted));
    }
    for r in &b.runs {
        let (mark, word, style) = match r.outcome {
            Some(true) => ("✔", "succeeded".to_string(), t.ok),
            Some(false) => ("✖", format!("failed: {}", r.reason.as_deref().unwrap_or(DASH)), t.crit),
            None => ("…", "running".to_string(), t.warn),
        };
        let started =
            r.started.as_deref().map(|s| format!("{} ago", fmt::age(Some(s), now))).unwrap_or_else(|| DASH.into());
        let took = r.duration_s.map(fmt::duration).unwrap_or_else(|| DASH.into());
        let said = r.message.as_ref().map(|m| format!(" · {m}")).unwrap_or_default();
        out.push(detail::field(t, mark, format!("{} {word} · started {started} · took {took}{said}", r.name), style));
    }
    let problems = super::problems_about(cx, i, "Build", &b.namespace, &b.name);
    out.push(detail::text(t, "problems", detail::list(problems, "none open")));
    out
}
