//! Drawing the drill-down views: pods, pod detail with events, logs, YAML.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::sources::views::ViewSpec;
use crate::ui::app::App;
use crate::ui::views::View;
use crate::ui::widgets::state::DASH;

fn block<'a>(app: &App, title: String) -> Block<'a> {
    Block::default().borders(Borders::ALL).title(title).border_style(app.theme.muted)
}

pub fn breadcrumb(app: &App) -> String {
    let mut parts = vec![app.tab.title().to_string()];
    parts.extend(app.views.iter().map(|v| v.crumb.clone()));
    parts.join(" › ")
}

/// A line with the search text highlighted.
fn highlighted(line: &str, search: &str, base: Style, hit: Style) -> Line<'static> {
    if search.is_empty() {
        return Line::from(Span::styled(line.to_string(), base));
    }
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(search) {
        spans.push(Span::styled(rest[..i].to_string(), base));
        spans.push(Span::styled(search.to_string(), hit));
        rest = &rest[i + search.len()..];
    }
    spans.push(Span::styled(rest.to_string(), base));
    Line::from(spans)
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, v: &View) {
    let t = &app.theme;
    let title = format!(" {} ", breadcrumb(app));
    let [main, foot] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let hint = match v.spec {
        ViewSpec::Pods { .. } => "Enter/d pod · l logs · y yaml · / filter (regex, !, -l k=v) · s sort · Esc back",
        ViewSpec::Pod { .. } => "l logs · y yaml · j/k scroll · Esc back",
        ViewSpec::Logs { .. } => {
            "c container · p previous · T timestamps · space pause · w wrap · / search · g/G top/follow · Esc back"
        }
        ViewSpec::Yaml { .. } => "j/k scroll · / search · w wrap · Esc back",
    };
    let mut foot_spans = vec![Span::styled(hint, t.muted)];
    if let Some(e) = &v.error {
        foot_spans.insert(0, Span::styled(format!("{e}  "), t.warn));
    }
    if v.searching {
        foot_spans = vec![Span::styled(format!("/{}▏ Enter keep · Esc clear", v.search), t.accent)];
    }
    f.render_widget(Paragraph::new(Line::from(foot_spans)), foot);
    match &v.spec {
        ViewSpec::Pods { .. } => {
            if v.pods.is_none() {
                f.render_widget(Paragraph::new(Span::styled("listing pods…", t.muted)).block(block(app, title)), main);
                return;
            }
            let pods = v.visible_pods();
            let total = v.pods.as_ref().map_or(0, Vec::len);
            let now = app.now() as i64;
            let rows: Vec<Row> = pods
                .iter()
                .map(|p| {
                    let status_style = match p.status.as_str() {
                        "Running" | "Succeeded" => t.ok,
                        "Pending" | "ContainerCreating" => t.warn,
                        _ => t.crit,
                    };
                    let age = p
                        .created
                        .as_deref()
                        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
                        .map(|c| crate::sim::table::human_duration((now - c.as_second()).max(0)))
                        .unwrap_or_else(|| DASH.into());
                    Row::new(vec![
                        Cell::from(p.name.clone()),
                        Cell::from(p.ready.clone()),
                        Cell::from(Span::styled(p.status.clone(), status_style)),
                        Cell::from(p.restarts.to_string()),
                        Cell::from(age),
                        Cell::from(p.node.clone()),
                        Cell::from(if p.gpus > 0 { p.gpus.to_string() } else { DASH.into() }),
                        Cell::from(p.role.clone().unwrap_or_else(|| DASH.into())),
                    ])
                })
                .collect();
            let table = Table::new(
                rows,
                [
                    Constraint::Min(20),
                    Constraint::Length(5),
                    Constraint::Length(17),
                    Constraint::Length(8),
                    Constraint::Length(6),
                    Constraint::Length(18),
                    Constraint::Length(4),
                    Constraint::Length(8),
                ],
            )
            .header(Row::new(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE", "GPU", "ROLE"]).style(t.header))
            .row_highlight_style(t.selection)
            .block(block(
                app,
                if v.search.is_empty() {
                    format!("{}({}) ", title, pods.len())
                } else {
                    format!("{}({} of {total}, filter: {}) ", title, pods.len(), v.search)
                },
            ));
            let mut ts = crate::ui::widgets::selection(v.selected, pods.len());
            crate::ui::widgets::render_table(f, table, main, &mut ts, app);
        }
        ViewSpec::Pod { .. } => {
            let Some(d) = &v.detail else {
                f.render_widget(Paragraph::new(Span::styled("loading…", t.muted)).block(block(app, title)), main);
                return;
            };
            let field = |k: &str, val: String| {
                Line::from(vec![Span::styled(format!("{k:<12}"), t.muted), Span::styled(val, t.text)])
            };
            let mut lines = vec![
                field("pod", format!("{}/{}", d.namespace, d.name)),
                field("phase", d.phase.clone()),
                field("node", format!("{} · IP {}", d.node, d.ip)),
                field("owner", d.owner.clone().unwrap_or_else(|| DASH.into())),
                field(
                    "conditions",
                    d.conditions
                        .iter()
                        .map(|(c, ok)| format!("{c}={}", if *ok { "True" } else { "False" }))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                field("labels", d.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")),
                Line::from(""),
                Line::from(Span::styled("CONTAINERS", t.header)),
            ];
            for c in &d.containers {
                let st = if c.state == "running" { t.ok } else { t.crit };
                lines.push(Line::from(vec![
                    Span::styled(format!("{}{} ", c.name, if c.init { " (init)" } else { "" }), t.accent),
                    Span::styled(c.state.clone(), st),
                    Span::styled(format!("  ready {}  restarts {}", c.ready, c.restarts), t.text),
                    Span::styled(
                        c.last_termination.as_ref().map(|l| format!("  last: {l}")).unwrap_or_default(),
                        t.warn,
                    ),
                ]));
                lines.push(Line::from(Span::styled(format!("  {}", c.image), t.muted)));
                lines
                    .push(Line::from(Span::styled(format!("  requests {}  limits {}", c.requests, c.limits), t.muted)));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(format!("EVENTS ({})", d.events.len()), t.header)));
            for e in &d.events {
                let st = if e.kind == "Warning" { t.warn } else { t.text };
                lines.push(Line::from(vec![
                    Span::styled(format!("{} {} ×{} ", e.kind, e.reason, e.count), st),
                    Span::styled(format!("{}  {}", e.message, e.last), t.muted),
                ]));
            }
            let scroll = (v.scroll as u16).min(lines.len() as u16);
            f.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(block(app, title)),
                main,
            );
        }
        ViewSpec::Logs { container, previous, .. } => {
            let height = main.height.saturating_sub(2) as usize;
            let shown = v.paused_at.unwrap_or(v.log.len()).min(v.log.len());
            let end = shown.saturating_sub(v.scroll);
            let start = end.saturating_sub(height);
            let lines: Vec<Line> = v
                .log
                .iter()
                .skip(start)
                .take(end - start)
                .map(|l| highlighted(l, &v.search, t.text, t.selection))
                .collect();
            let state = if v.paused_at.is_some() {
                "paused"
            } else if v.scroll > 0 {
                "scrolled"
            } else {
                "following"
            };
            let dropped =
                if v.log.dropped > 0 { format!(" · {} older lines dropped", v.log.dropped) } else { String::new() };
            let title = format!(
                "{}[{}{}] {} lines · {state}{dropped} ",
                title,
                container.as_deref().unwrap_or("default container"),
                if *previous { ", previous" } else { "" },
                v.log.len()
            );
            let mut p = Paragraph::new(lines).block(block(app, title));
            if v.wrap {
                p = p.wrap(Wrap { trim: false });
            }
            f.render_widget(p, main);
        }
        ViewSpec::Yaml { .. } => {
            let Some(text) = &v.text else {
                f.render_widget(Paragraph::new(Span::styled("loading…", t.muted)).block(block(app, title)), main);
                return;
            };
            let lines: Vec<Line> = text
                .lines()
                .map(|l| {
                    // keys in the accent colour, values plain: enough colour to read structure
                    match l.find(": ").or_else(|| l.strip_suffix(':').map(|s| s.len())) {
                        Some(i) if !l.trim_start().starts_with('-') || l.contains(": ") => {
                            let (k, rest) = l.split_at(i);
                            if v.search.is_empty() {
                                Line::from(vec![
                                    Span::styled(k.to_string(), t.accent),
                                    Span::styled(rest.to_string(), t.text),
                                ])
                            } else {
                                highlighted(l, &v.search, t.text, t.selection)
                            }
                        }
                        _ => highlighted(l, &v.search, t.text, t.selection),
                    }
                })
                .collect();
            let scroll = (v.scroll as u16).min(lines.len() as u16);
            let mut p = Paragraph::new(lines).scroll((scroll, 0)).block(block(app, title));
            if v.wrap {
                p = p.wrap(Wrap { trim: false });
            }
            f.render_widget(p, main);
        }
    }
}
