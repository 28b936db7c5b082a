//! A guarded move, first step (`M` on a BindingPolicy, from the marked cluster): every
//! ManagedCluster the policy does not place on yet, each with its preflight (store/moving.rs);
//! below, the selected target's checks and the selectors as they are and as they would be.
//! Enter asks for the move: the API server is asked whether you may patch the policy, then a
//! confirmation names the change (ui/moving.rs).

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::moving;
use crate::store::whatif;
use crate::ui::component::{Component, Ctx, Hint, Outcome, View, Write};
use crate::ui::keymap::Action;
use crate::ui::widgets::table::{cell, Col, DataTable, ListState};

pub struct MoveView {
    wds: String,
    policy: String,
    from: String,
    list: ListState,
}

impl MoveView {
    pub fn new(wds: &str, policy: &str, from: &str) -> MoveView {
        MoveView { wds: wds.into(), policy: policy.into(), from: from.into(), list: ListState::default() }
    }

    /// Every ManagedCluster of the WDS's ITS the policy does not place on, with the cheap
    /// checks (Available, a label naming it); the full plan is made for the selected one only
    /// (a hub may know 10,000 clusters).
    fn candidates(&self, cx: &Ctx) -> Vec<(String, Result<(), String>)> {
        let Some((_, _, its)) = whatif::wds_and_its(cx.fleet, &self.wds) else { return Vec::new() };
        let views = cx.fleet.placement_views();
        let placed: Vec<&String> = views
            .iter()
            .find(|v| v.wds == self.wds && v.policy.name == self.policy)
            .map(|v| v.clusters.iter().collect())
            .unwrap_or_default();
        if !placed.contains(&&self.from) {
            return Vec::new();
        }
        let managed = its.managed.as_deref().unwrap_or_default();
        let mut out: Vec<(String, Result<(), String>)> = managed
            .iter()
            .filter(|m| !placed.contains(&&m.name))
            .map(|m| (m.name.clone(), moving::quick_check(managed, &m.name)))
            .collect();
        // the clusters it can move to first
        out.sort_by_key(|(name, p)| (p.is_err(), name.clone()));
        out
    }
}

impl View for MoveView {
    fn crumb(&self) -> String {
        format!("move {} from {}", self.policy, self.from)
    }
}

impl Component for MoveView {
    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "move to the selected cluster (asks the API server, then confirms)"),
            Hint::action(Action::Back, "back to the policies; nothing is written"),
        ]
    }
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("✓ check", "passed"),
            ("? check", "kst cannot know it (the move is not refused for it)"),
            ("✖ check", "refuses the move"),
            (
                "make before break",
                "the target is added, and the source released only once the target is Applied and healthy",
            ),
        ]
    }
    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let list = self.candidates(cx);
        let keys: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
        if let Some(o) = crate::ui::panes::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Back) => Outcome::Close,
            Some(Action::Select) => match self.list.selected().and_then(|i| list.get(i)) {
                None => Outcome::Handled,
                Some((to, Err(e))) => Outcome::Flash(format!("cannot move to {to}: {e}")),
                Some((to, Ok(()))) => match moving::plan(cx.fleet, &self.wds, &self.policy, &self.from, to) {
                    Err(e) => Outcome::Flash(format!("cannot move to {to}: {e}")),
                    Ok(p) => match p.refused() {
                        Some(c) => Outcome::Flash(format!("refused, {}: {}", c.what, c.detail)),
                        None => match cx.fleet.clusters.iter().position(|c| c.context == self.wds) {
                            Some(cluster) => Outcome::Write(Write::Move { cluster, plan: Box::new(p) }),
                            None => Outcome::Flash(format!("{to}: {} is not among the contexts", self.wds)),
                        },
                    },
                },
            },
            _ => Outcome::Ignored,
        }
    }
    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = self.candidates(cx);
        self.list.sync(&list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        list.get(self.list.selected()?).map(|(n, _)| n.clone())
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        let t = cx.theme;
        let list = self.candidates(cx);
        let keys: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
        self.list.sync(&keys);
        let wanted = (list.len() as u16 + 3).min(area.height / 2).max(5);
        let [table_area, detail_area] = Layout::vertical([Constraint::Length(wanted), Constraint::Min(6)]).areas(area);
        let cols = vec![Col::name("TARGET").min(12), Col::text("PREFLIGHT").min(16)];
        let title = format!(" move {} ({}) from {} to… · make before break ", self.policy, self.wds, self.from);
        let mut table = DataTable::new(title, cols);
        let placed_here = cx
            .fleet
            .placement_views()
            .iter()
            .any(|v| v.wds == self.wds && v.policy.name == self.policy && v.clusters.contains(&self.from));
        table.empty = if placed_here {
            format!("the hub knows no other cluster for {}", self.policy)
        } else {
            format!("{} places nothing on {} now (moved?): Esc", self.policy, self.from)
        };
        for (name, quick) in &list {
            let (text, style) = match quick {
                Err(e) => (format!("✖ {e}"), t.warn),
                Ok(()) => ("Available, selectable: Enter checks the rest".to_string(), t.text),
            };
            table.rows.push(vec![cell(name.clone(), t.text), cell(text, style)]);
        }
        table.draw(f, table_area, &mut self.list, t);
        let Some((to, _)) = self.list.selected().and_then(|i| list.get(i)) else { return };
        let p = match moving::plan(cx.fleet, &self.wds, &self.policy, &self.from, to) {
            Ok(p) => p,
            Err(e) => {
                f.render_widget(Paragraph::new(Span::styled(format!("cannot move to {to}: {e}"), t.warn)), detail_area);
                return;
            }
        };
        let mut lines = Vec::new();
        for c in &p.checks {
            let (mark, style) = match c.ok {
                Some(true) => ("✓", t.ok),
                Some(false) => ("✖", t.crit),
                None => ("?", t.warn),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{mark} {:<34}", c.what), style),
                Span::styled(c.detail.clone(), t.text),
            ]));
        }
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("selectors now    ", t.muted),
            Span::styled(p.original_text.clone(), t.text),
        ]));
        if !p.moved_text.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("after the move   ", t.muted),
                Span::styled(p.moved_text.clone(), t.text),
            ]));
        }
        for n in &p.notes {
            lines.push(Line::from(Span::styled(format!("note: {n}"), t.warn)));
        }
        let title = format!(
            " preflight: {} object{} from {} to {to} ",
            p.objects,
            if p.objects == 1 { "" } else { "s" },
            p.from
        );
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(title).border_style(t.muted)),
            detail_area,
        );
    }
}
