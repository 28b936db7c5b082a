//! Drawing the drill-down views: pods, pod detail with events, logs, YAML, plain text.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::FeedView;
use crate::sources::views::ViewSpec;
use crate::ui::component::Ctx;
use crate::ui::widgets::state::DASH;
use crate::ui::widgets::table::{cell, cell_ref, Col, DataTable, ListState};

fn block<'a>(cx: &Ctx, title: String) -> Block<'a> {
    Block::default().borders(Borders::ALL).title(title).border_style(cx.theme.muted)
}

/// A scrollable text with the breadcrumb as its title.
pub fn text_view(f: &mut Frame, area: Rect, cx: &Ctx, text: &str, scroll: usize) {
    let title = format!(" {} ", cx.crumbs);
    f.render_widget(
        Paragraph::new(text.to_string())
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(u16::MAX as usize) as u16, 0))
            .block(block(cx, title).border_style(cx.theme.accent)),
        area,
    );
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

/// The columns every pod list shares after its identifying ones, as k9s orders them.
pub fn pod_state_cols() -> Vec<Col> {
    vec![
        Col::whole("READY"),
        Col::text("STATUS").min(10),
        Col::whole("RESTARTS"),
        // usage gives way before a name is cut (a name tells the rows apart)
        Col::whole("CPU").optional(1),
        Col::whole("MEM").optional(1),
        Col::whole("%MEM/L").optional(2),
        Col::whole("AGE"),
    ]
}

/// A pod's cells under `pod_state_cols`: usage as `kubectl top` prints it, `—` where
/// metrics.k8s.io gave none; the share of the memory limit turns warning from 80 %, critical
/// from 95 % (the OOM killer's mark is the limit).
pub fn pod_state_cells(p: &crate::store::views::PodRow, now: i64, t: &crate::theme::Theme) -> Vec<Line<'static>> {
    use crate::ui::widgets::fmt;
    let status_style = match p.status.as_str() {
        "Running" | "Succeeded" => t.ok,
        "Pending" | "ContainerCreating" => t.warn,
        _ => t.crit,
    };
    let age = p
        .created
        .as_deref()
        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
        .map(|c| fmt::duration((now - c.as_second()).max(0)))
        .unwrap_or_else(|| DASH.into());
    let of_limit = p.usage.zip(p.memory_limit).filter(|(_, l)| *l > 0.0).map(|(u, l)| u.memory / l);
    let limit_style = match of_limit {
        Some(r) if r >= 0.95 => t.crit,
        Some(r) if r >= 0.8 => t.warn,
        _ => t.text,
    };
    vec![
        cell(p.ready.clone(), t.text),
        cell(p.status.clone(), status_style),
        cell(p.restarts.to_string(), t.text),
        cell(fmt::opt(p.usage, |u| fmt::millicores(u.cpu)), t.text),
        cell(fmt::opt(p.usage, |u| fmt::mebibytes(u.memory)), t.text),
        cell(fmt::opt(of_limit, fmt::pct), limit_style),
        cell(age, t.text),
    ]
}

/// `pods (12)`, `pods (3 of 12, filter: x)`, and why CPU and MEM are `—` where they are.
fn pods_title(title: &str, shown: usize, total: usize, v: &FeedView) -> String {
    let why = v.no_usage.as_ref().map(|w| format!("· CPU/MEM —: {w} ")).unwrap_or_default();
    if v.search.is_empty() {
        format!("{title}({shown}) {why}")
    } else {
        format!("{title}({shown} of {total}, filter: {}) {why}", v.search)
    }
}

pub fn feed_view(f: &mut Frame, area: Rect, cx: &Ctx, v: &FeedView) {
    let t = cx.theme;
    let title = format!(" {} ", cx.crumbs);
    let [main, foot] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    v.page.set(main.height.saturating_sub(2) as usize);
    let mut foot_spans = Vec::new();
    if let Some(e) = &v.error {
        foot_spans.push(Span::styled(format!("{e}  "), t.warn));
    }
    if v.searching {
        foot_spans = vec![Span::styled(format!("/{}▏ Enter keep · Esc clear", v.search), t.accent)];
    } else if !v.search.is_empty() {
        foot_spans.push(Span::styled(format!("/{} ", v.search), t.accent));
    }
    f.render_widget(Paragraph::new(Line::from(foot_spans)), foot);
    match &v.spec {
        ViewSpec::Pods { .. } => pods_body(f, main, cx, v, title),
        ViewSpec::Pod { .. } => pod_body(f, main, cx, v, title),
        ViewSpec::Logs { container, previous, .. } => logs_body(f, main, cx, v, title, container, *previous),
        ViewSpec::Yaml { .. } | ViewSpec::Query { .. } => text_body(f, main, cx, v, title),
        // drawn by their own view (ObjectsView)
        ViewSpec::Objects { .. } => {}
    }
}

/// A pod list: one line per pod, sorted as chosen.
fn pods_body(f: &mut Frame, main: Rect, cx: &Ctx, v: &FeedView, title: String) {
    let t = cx.theme;
    if v.pods.is_none() {
        f.render_widget(Paragraph::new(Span::styled("listing pods…", t.muted)).block(block(cx, title)), main);
        return;
    }
    let pods = v.visible_pods();
    let total = v.pods.as_ref().map_or(0, Vec::len);
    let now = cx.now() as i64;
    let mut cols = vec![Col::name("NAME").min(20)];
    cols.extend(pod_state_cols());
    cols.extend([Col::name("NODE").min(10).optional(2), Col::whole("GPU").optional(3), Col::whole("ROLE").optional(1)]);
    let mut table = DataTable::new(pods_title(&title, pods.len(), total, v), cols);
    table.sort = Some(v.sort.column(1));
    table.empty = "no pods match".into();
    for p in &pods {
        let mut row = vec![cell_ref(&p.name, t.text)];
        row.extend(pod_state_cells(p, now, t));
        row.extend([
            cell_ref(&p.node, t.text),
            cell(if p.gpus > 0 { p.gpus.to_string() } else { DASH.into() }, t.text),
            cell_ref(p.role.as_deref().unwrap_or(DASH), t.text),
        ]);
        table.rows.push(row);
    }
    let mut list = ListState::at(v.selected, v.offset.get());
    table.draw(f, main, &mut list, t);
    v.offset.set(list.offset);
    v.first_row.set(list.first_row);
}

/// One pod: its fields, containers and events, scrolled.
fn pod_body(f: &mut Frame, main: Rect, cx: &Ctx, v: &FeedView, title: String) {
    let t = cx.theme;
    let Some(d) = &v.detail else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.muted)).block(block(cx, title)), main);
        return;
    };
    let field =
        |k: &str, val: String| Line::from(vec![Span::styled(format!("{k:<12}"), t.muted), Span::styled(val, t.text)]);
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
            Span::styled(c.last_termination.as_ref().map(|l| format!("  last: {l}")).unwrap_or_default(), t.warn),
        ]));
        lines.push(Line::from(Span::styled(format!("  {}", c.image), t.muted)));
        lines.push(Line::from(Span::styled(format!("  requests {}  limits {}", c.requests, c.limits), t.muted)));
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
    v.lines.set(lines.len());
    let scroll = v.scroll.min(v.max_scroll()) as u16;
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(block(cx, title)), main);
}

/// A container's log, following its end unless paused or scrolled; `/` keeps the lines that match.
fn logs_body(
    f: &mut Frame,
    main: Rect,
    cx: &Ctx,
    v: &FeedView,
    title: String,
    container: &Option<String>,
    previous: bool,
) {
    let t = cx.theme;
    let height = main.height.saturating_sub(2) as usize;
    let shown = v.paused_at.unwrap_or(v.log.len()).min(v.log.len());
    // `/` keeps the lines that hold the text, as k9s's log filter does; after `n`/`N` every
    // line is kept, the one gone to marked
    let first = v.log.dropped as usize;
    let around = v.log_match.filter(|m| *m >= first && *m < first + shown);
    let kept: Vec<(usize, &String)> = v
        .log
        .iter()
        .take(shown)
        .enumerate()
        .filter(|(_, l)| around.is_some() || v.search.is_empty() || l.contains(v.search.as_str()))
        .collect();
    // scrolled to the oldest lines (or a match among them), the view still shows a page
    let end = kept.len().saturating_sub(v.scroll).max(height.min(kept.len()));
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = kept[start..end]
        .iter()
        .map(|(i, l)| {
            let at = around == Some(first + i);
            let mut line = highlighted(l, &v.search, if at { t.accent } else { t.text }, t.selection);
            // the mark reads without colour too
            line.spans.insert(
                0,
                ratatui::text::Span::styled(
                    if at {
                        "▶ "
                    } else if around.is_some() {
                        "  "
                    } else {
                        ""
                    },
                    t.accent,
                ),
            );
            line
        })
        .collect();
    let matching = match (around, v.search.is_empty()) {
        (_, true) => String::new(),
        (Some(m), false) => {
            let all = v.log.iter().take(shown).filter(|l| l.contains(v.search.as_str())).count();
            let nth = v.log.iter().take(m - first + 1).filter(|l| l.contains(v.search.as_str())).count();
            format!(" · match {nth} of {all} /{}", v.search)
        }
        (None, false) => format!(" · {} match /{}", kept.len(), v.search),
    };
    // what the match keys do, last: the title is cut from its end on a narrow screen
    let keys = match (around, v.search.is_empty()) {
        (_, true) => "",
        (Some(_), false) => " · n newer, N older, Esc: only the matches",
        (None, false) => " · n N: each among every line",
    };
    let state = if v.paused_at.is_some() {
        "paused"
    } else if v.scroll > 0 {
        "scrolled"
    } else {
        "following"
    };
    let dropped = if v.log.dropped > 0 { format!(" · {} older lines dropped", v.log.dropped) } else { String::new() };
    let title = format!(
        "{}[{}{}] {} lines{matching} · {state}{dropped}{keys} ",
        title,
        container.as_deref().unwrap_or("default container"),
        if previous { ", previous" } else { "" },
        v.log.len()
    );
    let mut p = Paragraph::new(lines).block(block(cx, title));
    if v.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, main);
}

/// An object's YAML (keys in the accent colour) or a query's answer, scrolled.
fn text_body(f: &mut Frame, main: Rect, cx: &Ctx, v: &FeedView, title: String) {
    let t = cx.theme;
    let yaml = matches!(v.spec, ViewSpec::Yaml { .. });
    let Some(text) = &v.text else {
        // nothing came: why, when the feed said (no query layer, forbidden), not a spinner
        let (say, style) = match &v.error {
            Some(e) => (e.as_str(), t.warn),
            None => ("loading…", t.muted),
        };
        f.render_widget(
            Paragraph::new(Span::styled(say, style)).wrap(Wrap { trim: true }).block(block(cx, title)),
            main,
        );
        return;
    };
    let lines: Vec<Line> = text
        .lines()
        .map(|l| {
            if !yaml {
                return highlighted(l, &v.search, t.text, t.selection);
            }
            // keys in the accent colour, values plain: enough colour to read structure
            match l.find(": ").or_else(|| l.strip_suffix(':').map(|s| s.len())) {
                Some(i) if !l.trim_start().starts_with('-') || l.contains(": ") => {
                    let (k, rest) = l.split_at(i);
                    if v.search.is_empty() {
                        Line::from(vec![Span::styled(k.to_string(), t.accent), Span::styled(rest.to_string(), t.text)])
                    } else {
                        highlighted(l, &v.search, t.text, t.selection)
                    }
                }
                _ => highlighted(l, &v.search, t.text, t.selection),
            }
        })
        .collect();
    v.lines.set(lines.len());
    let scroll = v.scroll.min(v.max_scroll()) as u16;
    let mut p = Paragraph::new(lines).scroll((scroll, 0)).block(block(cx, title));
    if v.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(p, main);
}
