//! Discovery: A2A agent cards (indexed by the operator in AgentCard/AgentRuntime status, or
//! fetched by kst through the service proxy), one entry per card name with its locations.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::store::kagenti::{AgentInfo, Card, CardState};
use crate::ui::app::App;
use crate::ui::widgets::state::DASH;

pub struct Entry<'a> {
    pub name: String,
    pub card: Option<&'a Card>,
    pub source: &'static str,
    pub error: Option<&'a str>,
    /// (cluster, agent) for every place this card is served.
    pub locations: Vec<(usize, &'a AgentInfo)>,
}

/// Cards grouped by name: the same agent on several clusters is one entry.
pub fn entries(app: &App) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, a) in app.agents() {
        let Some(state) = app.fleet.clusters[i].kagenti.cards.get(&a.key()) else { continue };
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

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let list = entries(app);
    let [table_area, detail_area, absent_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(6), Constraint::Length(1)]).areas(area);
    let wide = area.width >= 120;
    let rows: Vec<Row> = list
        .iter()
        .map(|e| {
            let where_ = if e.locations.len() == 1 {
                let (i, a) = e.locations[0];
                format!("{}/{}", app.display_name(&app.fleet.clusters[i].context), a.namespace)
            } else {
                format!("{} places", e.locations.len())
            };
            match e.card {
                Some(c) => {
                    let skills = c.skills.iter().map(|s| s.0.clone()).collect::<Vec<_>>().join(", ");
                    let mut cells = vec![
                        Cell::from(c.name.clone()),
                        Cell::from(c.version.clone().unwrap_or_else(|| DASH.into())),
                        Cell::from(if c.shape == "1.0" { "A2A 1.0" } else { "A2A 0.x" }),
                        Cell::from(skills),
                        Cell::from(where_),
                    ];
                    if wide {
                        cells.push(Cell::from(format!(
                            "{}{}",
                            if c.streaming == Some(true) { "stream " } else { "" },
                            if c.push == Some(true) { "push" } else { "" }
                        )));
                        cells.push(Cell::from(e.source));
                    }
                    Row::new(cells)
                }
                None => {
                    let mut cells = vec![
                        Cell::from(e.name.clone()),
                        Cell::from(DASH),
                        Cell::from(DASH),
                        Cell::from(Span::styled(format!("— {}", e.error.unwrap_or("")), t.warn)),
                        Cell::from(where_),
                    ];
                    if wide {
                        cells.push(Cell::from(""));
                        cells.push(Cell::from(e.source));
                    }
                    Row::new(cells)
                }
            }
        })
        .collect();
    let mut header = vec!["CARD", "VERSION", "SHAPE", "SKILLS", "WHERE"];
    let mut widths = vec![
        Constraint::Length(20),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Min(20),
        Constraint::Length(24),
    ];
    if wide {
        header.extend(["CAPS", "SOURCE"]);
        widths.extend([Constraint::Length(12), Constraint::Length(8)]);
    }
    let table =
        Table::new(rows, widths).header(Row::new(header).style(t.header)).row_highlight_style(t.selection).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" A2A agent cards ({}) ", list.len()))
                .border_style(t.muted),
        );
    let mut ts = crate::ui::widgets::selection(app.selected, list.len());
    crate::ui::widgets::render_table(f, table, table_area, &mut ts, app);
    if let Some(e) = ts.selected().and_then(|k| list.get(k)) {
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
                .map(|(n, tags)| if tags.is_empty() { n.clone() } else { format!("{n} [{}]", tags.join(", ")) })
                .collect();
            lines.push(Line::from(vec![Span::styled("skills: ", t.muted), Span::raw(skills.join(" · "))]));
        }
        let locs: Vec<String> = e
            .locations
            .iter()
            .map(|(i, a)| {
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
                format!(
                    "{}/{}/{} ({sig}, {id})",
                    app.display_name(&app.fleet.clusters[*i].context),
                    a.namespace,
                    a.name
                )
            })
            .collect();
        lines.push(Line::from(vec![Span::styled("served by: ", t.muted), Span::raw(locs.join("; "))]));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_area);
    }
    f.render_widget(Paragraph::new(super::agents::absent_line(app)), absent_area);
}
