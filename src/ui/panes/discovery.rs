//! Discovery: A2A agent cards (indexed by the operator in AgentCard/AgentRuntime status, or
//! fetched by kst through the service proxy), one entry per card name with its locations.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::store::kagenti::{AgentInfo, Card, CardState};
use crate::store::pane::PaneId;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Discovery {
    list: ListState,
}

pub struct Entry<'a> {
    pub name: String,
    pub card: Option<&'a Card>,
    pub source: &'static str,
    pub error: Option<&'a str>,
    /// (cluster, agent) for every place this card is served.
    pub locations: Vec<(usize, &'a AgentInfo)>,
}

/// Cards grouped by name: the same agent on several clusters is one entry.
pub fn entries<'a>(cx: &Ctx<'a>) -> Vec<Entry<'a>> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, a) in super::agents::agents(cx, Default::default()) {
        let Some(state) = cx.fleet.clusters[i].kagenti.cards.get(&a.key()) else { continue };
        let (card, source, error) = match state {
            CardState::Indexed(c) => (Some(c), "indexed", None),
            CardState::Fetched(c) => (Some(c), "fetched", None),
            CardState::Error(e) => (None, "error", Some(e.as_str())),
        };
        let name = card.map(|c| c.name.clone()).unwrap_or_else(|| a.name.clone());
        match out.iter_mut().find(|e| e.card.is_some() && card.is_some() && e.name == name) {
            Some(e) => e.locations.push((i, a)),
            None => out.push(Entry { name, card, source, error, locations: vec![(i, a)] }),
        }
    }
    out
}

fn keys(list: &[Entry]) -> Vec<String> {
    list.iter().map(|e| e.name.clone()).collect()
}

impl Pane for Discovery {
    fn id(&self) -> PaneId {
        PaneId::Discovery
    }
    fn title(&self) -> &'static str {
        "Discovery"
    }
    fn short_title(&self) -> &'static str {
        "Disc"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["cards", "a2a"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        super::any_kagenti(fleet)
    }
}

impl Component for Discovery {
    fn hints(&self) -> Vec<Hint> {
        vec![Hint::action(Action::Copy, "copy the card's URL")]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        let list = entries(cx);
        super::motion(&mut self.list, action, &keys(&list)).unwrap_or(Outcome::Ignored)
    }

    fn copy_text(&mut self, cx: &Ctx) -> Option<String> {
        let list = entries(cx);
        self.list.sync(&keys(&list));
        list.get(self.list.selected()?).map(|e| e.card.and_then(|c| c.url.clone()).unwrap_or_else(|| e.name.clone()))
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw(self, f, area, cx)
    }
}

fn draw(pane: &mut Discovery, f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let list = entries(cx);
    let [list_area, absent_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(1)]).areas(area);
    // a big screen: the rows the list leaves hold the selected card in full; else six lines
    let (table_area, full_area) = split_below(list_area, (list.len() as u16 + 3).max(6), FULL_MIN);
    let (table_area, detail_area) = match full_area {
        Some(_) => (table_area, None),
        None => {
            let [a, b] = Layout::vertical([Constraint::Min(4), Constraint::Length(6)]).areas(table_area);
            (a, Some(b))
        }
    };
    let cols = vec![
        Col::name("CARD").min(14),
        Col::whole("VERSION"),
        Col::whole("SHAPE"),
        Col::text("SKILLS").min(14),
        Col::name("WHERE").min(12),
        Col::text("CAPS").min(6).optional(2),
        Col::whole("SOURCE").optional(1),
    ];
    let mut table = DataTable::new(format!(" A2A agent cards ({}) ", list.len()), cols);
    table.empty = "no agent cards on the visible clusters".into();
    for e in &list {
        let where_ = if e.locations.len() == 1 {
            let (i, a) = e.locations[0];
            cx.qualified(i, &a.namespace)
        } else {
            format!("{} places", e.locations.len())
        };
        match e.card {
            Some(c) => {
                let skills = c.skills.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ");
                table.rows.push(vec![
                    cell_ref(&c.name, t.text),
                    cell_ref(c.version.as_deref().unwrap_or(DASH), t.text),
                    cell(if c.shape == "1.0" { "A2A 1.0" } else { "A2A 0.x" }, t.text),
                    cell(skills, t.text),
                    cell(where_, t.text),
                    cell(
                        format!(
                            "{}{}",
                            if c.streaming == Some(true) { "stream " } else { "" },
                            if c.push == Some(true) { "push" } else { "" }
                        ),
                        t.text,
                    ),
                    cell(e.source, t.text),
                ]);
            }
            None => table.rows.push(vec![
                cell_ref(&e.name, t.text),
                cell(DASH, t.text),
                cell(DASH, t.text),
                cell(format!("— {}", e.error.unwrap_or("")), t.warn),
                cell(where_, t.text),
                cell("", t.text),
                cell(e.source, t.text),
            ]),
        }
    }
    pane.list.sync(&keys(&list));
    table.draw(f, table_area, &mut pane.list, t);
    let selected = pane.list.selected().and_then(|k| list.get(k));
    if let (Some(at), Some(e)) = (full_area, selected) {
        detail::draw(f, at, &e.name, in_full(cx, e), t);
    }
    if let (Some(detail_area), Some(e)) = (detail_area, selected) {
        let mut lines = Vec::new();
        if let Some(c) = e.card {
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", c.name), t.accent),
                Span::styled(c.description.clone().unwrap_or_default(), t.text),
            ]));
            lines.push(Line::from(Span::styled(
                format!(
                    "{} {} {}",
                    c.url.as_deref().unwrap_or(DASH),
                    c.binding.as_deref().unwrap_or(""),
                    c.protocol_version.as_deref().map(|v| format!("protocol {v}")).unwrap_or_default()
                ),
                t.muted,
            )));
            let skills: Vec<String> = c
                .skills
                .iter()
                .map(|s| if s.tags.is_empty() { s.name.clone() } else { format!("{} [{}]", s.name, s.tags.join(", ")) })
                .collect();
            lines.push(Line::from(vec![Span::styled("skills: ", t.muted), Span::raw(skills.join(" · "))]));
        }
        let locs: Vec<String> = e.locations.iter().map(|(i, a)| location(cx, *i, a)).collect();
        lines.push(Line::from(vec![Span::styled("served by: ", t.muted), Span::raw(locs.join("; "))]));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_area);
    }
    f.render_widget(Paragraph::new(super::kagenti_absent_line(cx)), absent_area);
}

/// Where a card is served, with what kst checked of it: `cluster/ns/name (signature ok, identity
/// bound)`.
fn location(cx: &Ctx, i: usize, a: &AgentInfo) -> String {
    let sig = match a.valid_signature {
        Some(true) => "signature ok",
        Some(false) => "signature not verified",
        None => "signature —",
    };
    let id = match a.identity_bound {
        Some(true) => "identity bound",
        Some(false) => "identity not bound",
        None => "identity —",
    };
    format!("{} ({sig}, {id})", cx.qualified(i, &format!("{}/{}", a.namespace, a.name)))
}

/// The rows the selected card in full wants before it is drawn under the list.
const FULL_MIN: u16 = 8;

/// The selected card in full: what it says of itself, where and how it is reached, each skill
/// with its id and tags, and every place it is served with what kst checked there.
fn in_full(cx: &Ctx, e: &Entry) -> Vec<Line<'static>> {
    let t = cx.theme;
    let mut out = Vec::new();
    match e.card {
        None => out.push(detail::field(t, "card", format!("not read: {}", e.error.unwrap_or(DASH)), t.warn)),
        Some(c) => {
            out.push(detail::text(
                t,
                "card",
                format!(
                    "{} {} · {}",
                    c.name,
                    c.version.as_deref().unwrap_or(DASH),
                    c.description.as_deref().unwrap_or("no description")
                ),
            ));
            let yes = |b: Option<bool>| b.map(|b| if b { "yes" } else { "no" }).unwrap_or(DASH);
            out.push(detail::text(
                t,
                "reached",
                format!(
                    "{} · {} · protocol {} (A2A {} card) · streaming {} · push {} · {}",
                    c.url.as_deref().unwrap_or(DASH),
                    c.binding.as_deref().unwrap_or("binding —"),
                    c.protocol_version.as_deref().unwrap_or(DASH),
                    c.shape,
                    yes(c.streaming),
                    yes(c.push),
                    if c.signed { "signed" } else { "not signed" }
                ),
            ));
            if c.skills.is_empty() {
                out.push(detail::field(t, "skills", "none listed", t.muted));
            }
            for (k, s) in c.skills.iter().enumerate() {
                let id = s.id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default();
                let tags = if s.tags.is_empty() { String::new() } else { format!(" [{}]", s.tags.join(", ")) };
                out.push(detail::text(t, if k == 0 { "skills" } else { "" }, format!("{}{id}{tags}", s.name)));
            }
        }
    }
    let source = match e.source {
        "indexed" => "indexed: read from the operator's AgentCard status",
        "fetched" => "fetched: kst read it from the agent through the service proxy",
        other => other,
    };
    out.push(detail::field(t, "source", source, t.muted));
    for (k, (i, a)) in e.locations.iter().enumerate() {
        out.push(detail::text(t, if k == 0 { "served by" } else { "" }, location(cx, *i, a)));
    }
    out
}
