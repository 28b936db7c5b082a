//! MCP tools: one searchable list of every tool of every MCP server across clusters (and the
//! extra endpoints of the config), as the servers themselves listed them over MCP: exposed name
//! (with the gateway prefix), server, cluster, status, whether a credential is referenced,
//! parameters; name conflicts between servers flagged. Enter shows the full input schema.

use crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::store::pane::PaneId;
use crate::store::tools::{rows as tool_rows, ServerStatus, ToolRow, ToolServer};
use crate::theme::Theme;
use crate::ui::component::{Component, Ctx, Group, Hint, Outcome, Pane};
use crate::ui::keymap::Action;
use crate::ui::widgets::detail;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, split_below, Col, DataTable, ListState};

#[derive(Default)]
pub struct Tools {
    list: ListState,
    /// Index into SORTS.
    pub sort: usize,
    /// A server a problem jumped to (`context/namespace/name`): first in the servers box,
    /// marked, until the next key.
    marked: Option<String>,
}

/// Every server of the visible clusters, then the config's external ones.
pub fn servers<'a>(cx: &Ctx<'a>) -> Vec<(Option<usize>, &'a ToolServer)> {
    let fleet = cx.fleet;
    let mut v: Vec<(Option<usize>, &ToolServer)> = cx
        .cluster_indices()
        .into_iter()
        .flat_map(|i| fleet.clusters[i].kagenti.tool_servers().iter().map(move |s| (Some(i), s)))
        .collect();
    if cx.focus.is_none() {
        v.extend(fleet.external_tools.iter().map(|s| (None, s)));
    }
    v
}

fn cluster_name(cx: &Ctx, c: Option<usize>) -> String {
    match c {
        Some(i) => cx.display_name(&cx.cluster(i).context).to_string(),
        None => "external".into(),
    }
}

/// The orders `s` cycles through.
pub const SORTS: &[&str] = &["server", "name", "status"];

/// Tool rows that pass the filter, in the chosen order.
pub fn rows<'a>(cx: &Ctx<'a>, sort: usize) -> Vec<ToolRow<'a>> {
    let all = servers(cx);
    let mut v: Vec<ToolRow<'a>> = tool_rows(&all)
        .into_iter()
        .filter(|r| {
            cx.keep(|| {
                format!(
                    "{} {} {}/{} {} {}",
                    cluster_name(cx, r.cluster),
                    r.exposed,
                    r.server.namespace,
                    r.server.name,
                    r.tool.description,
                    r.server.status().text()
                )
            })
        })
        .collect();
    match sort % SORTS.len() {
        1 => v.sort_by(|a, b| a.exposed.cmp(&b.exposed)),
        2 => v.sort_by_key(|r| (r.server.status() != crate::store::tools::ServerStatus::Reachable, r.exposed.clone())),
        _ => {}
    }
    v
}

pub fn status_style(t: &Theme, s: &ServerStatus) -> Style {
    match s {
        ServerStatus::Reachable => t.ok,
        ServerStatus::Disabled | ServerStatus::Pending => t.muted,
        ServerStatus::NotReady(_) => t.warn,
        ServerStatus::Error(_) => t.crit,
    }
}

fn keys(cx: &Ctx, rows: &[ToolRow]) -> Vec<String> {
    rows.iter()
        .map(|r| format!("{}/{}/{}/{}", cluster_name(cx, r.cluster), r.server.namespace, r.server.name, r.exposed))
        .collect()
}

impl Pane for Tools {
    fn id(&self) -> PaneId {
        PaneId::Tools
    }
    fn title(&self) -> &'static str {
        "MCP tools"
    }
    fn short_title(&self) -> &'static str {
        "MCP"
    }
    fn group(&self) -> Group {
        Group::Kagenti
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["mcp"]
    }
    fn has_data(&self, fleet: &crate::store::Fleet) -> bool {
        !fleet.external_tools.is_empty() || fleet.clusters.iter().any(|c| !c.kagenti.tool_servers().is_empty())
    }
    fn reveal(&mut self, context: &str, find: &crate::store::problems::Find) -> bool {
        let Some(find) = find.name() else { return false };
        self.list.reveal(&format!("{context}/"), find);
        self.marked = Some(format!("{context}/{find}"));
        true
    }
}

impl Component for Tools {
    fn legend(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("⚠", "another server exposes a tool of the same name"),
            ("query*", "a required parameter"),
            ("● ◌ … ▲ ✖", "reachable · disabled · checking · not ready · error"),
        ]
    }

    fn hints(&self) -> Vec<Hint> {
        vec![
            Hint::action(Action::Select, "the tool's input schema and annotations"),
            Hint::action(Action::Sort, "sort: server, name, status"),
        ]
    }

    fn on_key(&mut self, _key: KeyEvent, action: Option<Action>, cx: &Ctx) -> Outcome {
        self.marked = None;
        let list = rows(cx, self.sort);
        let keys = keys(cx, &list);
        if let Some(o) = super::motion(&mut self.list, action, &keys) {
            return o;
        }
        self.list.sync(&keys);
        match action {
            Some(Action::Select) => match self.list.selected().and_then(|i| list.get(i)) {
                Some(r) => Outcome::Push(Box::new(crate::ui::views::TextView::new(
                    format!("{} schema", r.exposed),
                    schema_text(r),
                ))),
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
        list.get(self.list.selected()?).map(|r| r.exposed.clone())
    }

    fn click(&mut self, row: u16) -> bool {
        self.list.click(row)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &Ctx) {
        draw(self, f, area, cx)
    }
}

fn short_status(s: &ServerStatus) -> &'static str {
    match s {
        ServerStatus::Reachable => "● reachable",
        ServerStatus::Disabled => "◌ disabled",
        ServerStatus::Pending => "… checking",
        ServerStatus::NotReady(_) => "▲ not ready",
        ServerStatus::Error(_) => "✖ error",
    }
}

/// Tools and servers counted, per cluster, and the names two servers share.
fn summary(cx: &Ctx, servers: &[(Option<usize>, &ToolServer)], rows: &[ToolRow]) -> Line<'static> {
    let t = cx.theme;
    let mut spans = vec![Span::styled(
        format!(
            "{} tools on {} servers · ",
            servers.iter().map(|(_, s)| s.tools().len()).sum::<usize>(),
            servers.len()
        ),
        t.text,
    )];
    let mut clusters: Vec<Option<usize>> = servers.iter().map(|(c, _)| *c).collect();
    clusters.dedup();
    for c in clusters {
        let mine: Vec<&&ToolServer> = servers.iter().filter(|(x, _)| *x == c).map(|(_, s)| s).collect();
        spans.push(Span::styled(
            format!(
                "{}: {} tools / {} servers  ",
                cluster_name(cx, c),
                mine.iter().map(|s| s.tools().len()).sum::<usize>(),
                mine.len()
            ),
            t.muted,
        ));
    }
    let conflicts = rows.iter().filter(|r| !r.conflicts.is_empty()).count();
    if conflicts > 0 {
        spans.push(Span::styled(format!("⚠ {conflicts} tools share a name with another server"), t.warn));
    }
    Line::from(spans)
}

fn draw(pane: &mut Tools, f: &mut Frame, area: Rect, cx: &Ctx) {
    let t = cx.theme;
    let servers = servers(cx);
    let rows = rows(cx, pane.sort);
    // every server when the screen has the rows (the tools listed whole first), else six
    let spare = area.height.saturating_sub(1 + 2 + 2 + 1 + rows.len() as u16 + 3) as usize;
    let server_lines = if spare >= servers.len() { servers.len() } else { servers.len().min(6) } as u16;
    let [summary_area, table_area, servers_area, detail_area, absent_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(server_lines + 2),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);

    f.render_widget(Paragraph::new(summary(cx, &servers, &rows)), summary_area);

    let cols = vec![
        Col::name("TOOL").min(16),
        Col::name("SERVER").min(14),
        Col::name("CLUSTER").min(10).optional(2),
        Col::whole("STATUS"),
        Col::whole("CRED"),
        Col::text("PARAMS").min(10),
        Col::text("DESCRIPTION").min(12).optional(1),
    ];
    let mut table = DataTable::new(
        format!(
            " MCP tools ({}) · sorted by {} · ⚠ name shared with another server ",
            rows.len(),
            SORTS[pane.sort % SORTS.len()]
        ),
        cols,
    );
    table.sort = match pane.sort % SORTS.len() {
        1 => Some((0, false)),
        2 => Some((3, false)),
        _ => None,
    };
    table.empty = "no tools listed on the visible clusters".into();
    for r in &rows {
        let st = r.server.status();
        let name = if r.conflicts.is_empty() { r.exposed.clone() } else { format!("{} ⚠", r.exposed) };
        let cred = if r.server.registration.as_ref().is_some_and(|x| x.credential.is_some()) { "yes" } else { "no" };
        table.rows.push(vec![
            cell(name, if r.conflicts.is_empty() { t.text } else { t.warn }),
            cell(format!("{}/{}", r.server.namespace, r.server.name), t.text),
            cell(cluster_name(cx, r.cluster), t.text),
            cell(short_status(&st), status_style(t, &st)),
            cell(cred, t.text),
            cell(r.tool.params().join(" "), t.text),
            cell_ref(&r.tool.description, t.text),
        ]);
    }
    pane.list.sync(&keys(cx, &rows));
    // the rows a short list leaves (a big screen) hold the selected tool's parameters in full
    let (table_area, full_area) = split_below(table_area, (rows.len() as u16 + 3).max(6), FULL_MIN);
    table.draw(f, table_area, &mut pane.list, t);
    if let (Some(at), Some(r)) = (full_area, pane.list.selected().and_then(|i| rows.get(i))) {
        let title =
            format!("{} on {}/{}/{}", r.exposed, cluster_name(cx, r.cluster), r.server.namespace, r.server.name);
        detail::draw(f, at, &title, in_full(cx, r), t);
    }

    // every server, including those with nothing to list, and why; a server jumped to first
    let id = |c: Option<usize>, s: &ToolServer| format!("{}/{}/{}", cluster_name(cx, c), s.namespace, s.name);
    let mut boxed = servers.clone();
    if let Some(m) = &pane.marked {
        boxed.sort_by_key(|(c, s)| id(*c, s) != *m);
    }
    let lines: Vec<Line> = boxed
        .iter()
        .take(server_lines as usize)
        .map(|(c, s)| {
            let st = s.status();
            let listing = s
                .listing
                .as_ref()
                .map(|l| {
                    format!(
                        "{} tools in {} page{} · {}",
                        l.tools.len(),
                        l.pages,
                        if l.pages == 1 { "" } else { "s" },
                        l.protocol.as_deref().unwrap_or(DASH)
                    )
                })
                .unwrap_or_else(|| DASH.to_string());
            let reg = s
                .registration
                .as_ref()
                .map(|r| format!(" · registration {} {}", r.state, r.prefix.as_deref().unwrap_or("")))
                .unwrap_or_default();
            let marked = pane.marked.as_deref() == Some(id(*c, s).as_str());
            Line::from(vec![
                Span::styled(
                    format!("{}{} ", if marked { "▶ " } else { "" }, id(*c, s)),
                    if marked { t.selection } else { t.text },
                ),
                Span::styled(st.text(), status_style(t, &st)),
                Span::styled(format!(" · {listing}{reg}"), t.muted),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" servers ({}) ", servers.len()))
                .border_style(t.muted),
        ),
        servers_area,
    );

    if let Some(r) = pane.list.selected().and_then(|i| rows.get(i)) {
        let mut l = vec![
            Span::styled(format!("{} ", r.tool.name), t.accent),
            Span::styled(r.tool.description.clone(), t.text),
            Span::styled(format!(" · on {}", cluster_name(cx, r.cluster)), t.muted),
        ];
        if !r.conflicts.is_empty() {
            l.push(Span::styled(format!(" · same name on {}", r.conflicts.join(", ")), t.warn));
        }
        if let Some(cred) = r.server.registration.as_ref().and_then(|x| x.credential.as_ref()) {
            l.push(Span::styled(format!(" · credential Secret {cred} (value never read)"), t.muted));
        }
        // the BindingPolicy that placed the tool server's workload there, when a WDS is known
        if let Some(ci) = r.cluster {
            let by = crate::store::placement::placed_by(&cx.fleet.placement_views(), &cx.cluster(ci).context, |o| {
                o.namespace == r.server.namespace && o.name == r.server.name
            });
            if !by.is_empty() {
                l.push(Span::styled(format!(" · placed via {}", by.join(", ")), t.muted));
            }
        }
        f.render_widget(Paragraph::new(Line::from(l)).wrap(Wrap { trim: true }), detail_area);
    } else if servers.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no MCP tool servers: none labelled kagenti.io/type=tool (or rossoctl.io/type=tool), no MCPServerRegistrations, no [[mcp_endpoint]] in the config",
                t.muted,
            ))
            .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
    f.render_widget(Paragraph::new(super::kagenti_absent_line(cx)), absent_area);
}

/// A tool's full input schema and annotations, as the server sent them.
pub fn schema_text(r: &ToolRow) -> String {
    let mut out = format!(
        "{}  ({} on {}/{})\n\n{}\n\ninputSchema:\n{}",
        r.exposed,
        r.tool.name,
        r.server.namespace,
        r.server.name,
        r.tool.description,
        serde_json::to_string_pretty(&r.tool.input_schema).unwrap_or_default()
    );
    if let Some(a) = &r.tool.annotations {
        out.push_str(&format!("\n\nannotations:\n{}", serde_json::to_string_pretty(a).unwrap_or_default()));
    }
    out
}

/// The rows the selected tool in full wants before it is drawn under the list.
const FULL_MIN: u16 = 6;

/// The selected tool in full: what it does, each parameter with its type and description
/// (required ones marked `*`), the hints its annotations give (read-only, destructive...), and
/// the server behind it. Enter still shows the schema as the server sent it.
fn in_full(cx: &Ctx, r: &ToolRow) -> Vec<Line<'static>> {
    let t = cx.theme;
    let mut out = vec![detail::text(
        t,
        "tool",
        format!(
            "{}{} · {}",
            r.tool.name,
            r.tool.title.as_ref().map(|x| format!(" ({x})")).unwrap_or_default(),
            r.tool.description
        ),
    )];
    let schema = &r.tool.input_schema;
    let required: Vec<&str> =
        schema["required"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str).collect();
    let props = schema["properties"].as_object();
    match props.filter(|m| !m.is_empty()) {
        None => out.push(detail::field(t, "params", "none: it takes no input", t.muted)),
        Some(m) => {
            for (k, (name, p)) in m.iter().enumerate() {
                let ty = p["type"].as_str().map(str::to_string).unwrap_or_else(|| p["type"].to_string());
                let star = if required.contains(&name.as_str()) { "*" } else { "" };
                let desc = p["description"].as_str().map(|d| format!(": {d}")).unwrap_or_default();
                out.push(detail::text(t, if k == 0 { "params" } else { "" }, format!("{name}{star} ({ty}){desc}")));
            }
        }
    }
    if let Some(a) = r.tool.annotations.as_ref().and_then(|a| a.as_object()).filter(|a| !a.is_empty()) {
        let hints: Vec<String> = a.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.push(detail::text(t, "hints", hints.join(" · ")));
    }
    let st = r.server.status();
    out.push(detail::field(t, "server", st.text(), status_style(t, &st)));
    if !r.conflicts.is_empty() {
        out.push(detail::field(
            t,
            "same name",
            format!("on {}: a client may call the other", r.conflicts.join(", ")),
            t.warn,
        ));
    }
    out.push(detail::field(t, "", "Enter: the schema as the server sent it", t.muted));
    out
}
